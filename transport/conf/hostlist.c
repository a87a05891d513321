/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	hostlist 3
 * SUMMARY
 *	parse a Postfix-style destination list
 * SYNOPSIS
 *	#include "conf/hostlist.h"
 *
 *	int	hostlist_parse(text, list, err, errlen)
 *
 *	unsigned long long hostlist_hash(list)
 * DESCRIPTION
 *	hostlist_parse() splits the ${nexthop} text that Postfix hands
 *	to the transport (the relayhost value, or a transport_maps
 *	nexthop) into destinations, as Postfix's smtp(8) reads them:
 *	separated by commas and/or white space, each one of
 *
 *	    [host]  [host]:port  [1.2.3.4]:port  [ipv6:2001:db8::1]:port
 *	    domain  domain:port
 *
 *	A bracketed destination is used as written (no MX lookup). A
 *	bare domain means an MX lookup, falling back to the address
 *	records. The port is a number or a services(5) name; it defaults
 *	to "smtp". Host names are folded to lower case, so that
 *	"[A.example]" and "[a.example]:smtp" are the same destination.
 *
 *	Each destination's text is normalized: "[host]:port" for a
 *	bracketed one (port omitted when it is "smtp" or 25), "host" or
 *	"host:port" for an MX destination.
 *
 *	hostlist_hash() returns a 64-bit FNV-1a hash of the normalized
 *	list; it names the list's shared state file.
 * DIAGNOSTICS
 *	hostlist_parse() returns -1 and a reason when the list is empty,
 *	too long, or holds a destination that is malformed.
 *--*/

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "conf/hostlist.h"

#define SEPARATORS	", \t\r\n"

/* valid_hostname - letters, digits, '-', '.', '_', no empty labels */

static int valid_hostname(const char *name)
{
    const char *cp;
    size_t  label = 0;

    if (*name == 0 || strlen(name) > 253)
	return (0);
    for (cp = name; *cp; cp++) {
	if (*cp == '.') {
	    if (label == 0)
		return (0);
	    label = 0;
	} else if (isalnum((unsigned char) *cp) || *cp == '-' || *cp == '_') {
	    if (++label > 63)
		return (0);
	} else {
	    return (0);
	}
    }
    return (1);
}

/* valid_ipv6 - hex digits, ':' and '.' (for a mapped IPv4 tail) */

static int valid_ipv6(const char *addr)
{
    const char *cp;

    if (*addr == 0 || strchr(addr, ':') == 0)
	return (0);
    for (cp = addr; *cp; cp++)
	if (!isxdigit((unsigned char) *cp) && *cp != ':' && *cp != '.')
	    return (0);
    return (1);
}

/* valid_port - a number 1..65535 or a services(5)-style name */

static int valid_port(const char *port)
{
    const char *cp;
    long    value = 0;

    if (*port == 0 || strlen(port) >= DEST_PORT_MAX)
	return (0);
    if (isdigit((unsigned char) *port)) {
	for (cp = port; *cp; cp++) {
	    if (!isdigit((unsigned char) *cp))
		return (0);
	    value = value * 10 + (*cp - '0');
	    if (value > 65535)
		return (0);
	}
	return (value > 0);
    }
    for (cp = port; *cp; cp++)
	if (!isalnum((unsigned char) *cp) && *cp != '-' && *cp != '_')
	    return (0);
    return (1);
}

/* lowercase - fold ASCII letters in place */

static void lowercase(char *text)
{
    for (; *text; text++)
	*text = tolower((unsigned char) *text);
}

/* parse_host - split one destination into host, port and mx flag */

static int parse_host(const char *word, struct dest *dest, char *err,
		              size_t errlen)
{
    const char *host = word;
    const char *end;
    const char *port = 0;
    size_t  hostlen;

    if (errlen > 0)
	err[0] = 0;				/* written on every path */

    if (*word == '[') {
	if ((end = strchr(word, ']')) == 0) {
	    snprintf(err, errlen, "missing ']' in \"%s\"", word);
	    return (-1);
	}
	host = word + 1;
	if (strncasecmp(host, "ipv6:", 5) == 0)
	    host += 5;			/* before the length: see normalize() */
	hostlen = (size_t) (end - host);
	if (end[1] == ':')
	    port = end + 2;
	else if (end[1] != 0) {
	    snprintf(err, errlen, "unexpected text after ']' in \"%s\"", word);
	    return (-1);
	}
	dest->mx = 0;
    } else {
	if ((end = strchr(word, ':')) != 0) {
	    hostlen = (size_t) (end - word);
	    port = end + 1;
	} else {
	    hostlen = strlen(word);
	}
	dest->mx = 1;
    }
    if (hostlen == 0 || hostlen > DEST_HOST_MAX) {
	snprintf(err, errlen, "bad host name length in \"%s\"", word);
	return (-1);
    }
    memcpy(dest->host, host, hostlen);
    dest->host[hostlen] = 0;
    lowercase(dest->host);
    if (!(dest->mx == 0 && valid_ipv6(dest->host))
	&& !valid_hostname(dest->host)) {
	snprintf(err, errlen, "bad host name or address in \"%s\"", word);
	return (-1);
    }
    if (port && !valid_port(port)) {
	snprintf(err, errlen, "bad port in \"%s\"", word);
	return (-1);
    }
    snprintf(dest->port, sizeof(dest->port), "%s", port ? port : "smtp");
    return (0);
}

/* normalize - write the destination's canonical text */

static void normalize(struct dest *dest)
{
    int     default_port = strcmp(dest->port, "smtp") == 0
    || strcmp(dest->port, "25") == 0;
    const char *v6 = strchr(dest->host, ':') ? "ipv6:" : "";
    char    text[DEST_TEXT_MAX];

    if (dest->mx)
	snprintf(text, sizeof(text), "%s%s%s", dest->host,
		 default_port ? "" : ":", default_port ? "" : dest->port);
    else
	snprintf(text, sizeof(text), "[%s%s]%s%s", v6, dest->host,
		 default_port ? "" : ":", default_port ? "" : dest->port);
    memcpy(dest->text, text, sizeof(text));
}

/* hostlist_parse - split and check a whole destination list */

int     hostlist_parse(const char *text, struct hostlist *list, char *err,
		               size_t errlen)
{
    char    word[DEST_TEXT_MAX + 1];
    const char *cp = text;
    size_t  len;
    char    why[200];

    if (errlen > 0)
	err[0] = 0;				/* written on every path */

    list->count = 0;
    for (;;) {
	cp += strspn(cp, SEPARATORS);
	if (*cp == 0)
	    break;
	len = strcspn(cp, SEPARATORS);
	if (len > DEST_TEXT_MAX - 16) {
	    snprintf(err, errlen, "destination is too long: \"%.40s...\"", cp);
	    return (-1);
	}
	if (list->count >= HOSTLIST_MAX) {
	    snprintf(err, errlen, "more than %d destinations", HOSTLIST_MAX);
	    return (-1);
	}
	memcpy(word, cp, len);
	word[len] = 0;
	if (parse_host(word, &list->dests[list->count], why, sizeof(why)) < 0) {
	    snprintf(err, errlen, "bad destination: %s", why);
	    return (-1);
	}
	normalize(&list->dests[list->count]);
	list->count++;
	cp += len;
    }
    if (list->count == 0) {
	snprintf(err, errlen, "empty destination list");
	return (-1);
    }
    return (0);
}

/* hostlist_hash - FNV-1a over the normalized destinations */

unsigned long long hostlist_hash(const struct hostlist *list)
{
    unsigned long long hash = 0xcbf29ce484222325ULL;
    const unsigned char *cp;
    int     i;

    for (i = 0; i < list->count; i++) {
	for (cp = (const unsigned char *) list->dests[i].text; *cp; cp++) {
	    hash ^= *cp;
	    hash *= 0x100000001b3ULL;
	}
	hash ^= ',';
	hash *= 0x100000001b3ULL;
    }
    return (hash);
}
