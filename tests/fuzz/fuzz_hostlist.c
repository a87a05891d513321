/* SPDX-License-Identifier: MIT */
/*
 * fuzz_hostlist - fuzz harness for transport/hostlist.c
 *
 * Input: a ${nexthop} destination list (up to the first NUL).
 *
 * Properties, for a list that hostlist_parse() accepts: 1 to
 * HOSTLIST_MAX destinations; each host is lower-case letters, digits,
 * '-', '_' and '.', or, bracketed only, an IPv6 address's hex digits,
 * ':' and '.'; each port is a number from 1 to 65535 or a service
 * name; each normalized text is short, printable and free of list
 * separators, and starts with '[' exactly when no MX lookup is made.
 * The normalized texts, joined, parse to the same list and the same
 * hash, so the state file of a list does not depend on how it was
 * written. A refused list gets a one-line reason.
 */

#include <ctype.h>

#include "fuzz.h"
#include "conf/hostlist.h"

/* check_port - a number 1..65535 or a service name */

static void check_port(const char *port)
{
    const char *cp;
    long    value = 0;

    FUZZ_ASSERT(*port && strlen(port) < DEST_PORT_MAX, "port \"%s\"", port);
    if (isdigit((unsigned char) *port)) {
	for (cp = port; *cp; cp++) {
	    FUZZ_ASSERT(isdigit((unsigned char) *cp), "port \"%s\"", port);
	    value = value * 10 + *cp - '0';
	    FUZZ_ASSERT(value <= 65535, "port \"%s\"", port);
	}
	FUZZ_ASSERT(value > 0, "port \"%s\"", port);
	return;
    }
    for (cp = port; *cp; cp++)
	FUZZ_ASSERT(isalnum((unsigned char) *cp) || *cp == '-' || *cp == '_',
		    "port \"%s\"", port);
}

/* check_dest - one accepted destination */

static void check_dest(const struct dest *d)
{
    const char *cp;
    int     colon = strchr(d->host, ':') != 0;

    FUZZ_ASSERT(*d->host && strlen(d->host) <= DEST_HOST_MAX, "host \"%s\"",
		d->host);
    for (cp = d->host; *cp; cp++)
	FUZZ_ASSERT(colon ? (isxdigit((unsigned char) *cp) || *cp == ':'
			     || *cp == '.')
		    : (islower((unsigned char) *cp) || isdigit((unsigned char) *cp)
		       || *cp == '-' || *cp == '_' || *cp == '.'),
		    "host \"%s\"", d->host);
    FUZZ_ASSERT(!colon || !d->mx, "MX lookup for address \"%s\"", d->host);
    check_port(d->port);
    FUZZ_ASSERT(strlen(d->text) < DEST_TEXT_MAX - 1, "text \"%s\"", d->text);
    FUZZ_ASSERT(fuzz_printable(d->text) && strpbrk(d->text, ", ") == 0,
		"text \"%s\"", d->text);
    FUZZ_ASSERT((d->text[0] == '[') == !d->mx, "text \"%s\" with mx %d",
		d->text, d->mx);
}

/* check_fixed - the normalized list parses to itself */

static void check_fixed(const struct hostlist *list)
{
    static struct hostlist again;
    char    joined[HOSTLIST_MAX * (DEST_TEXT_MAX + 2)];
    char    err[300];
    size_t  n = 0;
    int     i;

    for (i = 0; i < list->count; i++)
	n += (size_t) snprintf(joined + n, sizeof(joined) - n, "%s%s",
			       i ? ", " : "", list->dests[i].text);
    FUZZ_ASSERT(hostlist_parse(joined, &again, err, sizeof(err)) == 0,
		"normalized list \"%s\" refused: %s", joined, err);
    FUZZ_ASSERT(again.count == list->count, "count changed");
    for (i = 0; i < list->count; i++) {
	FUZZ_ASSERT(strcmp(again.dests[i].text, list->dests[i].text) == 0
		    && strcmp(again.dests[i].host, list->dests[i].host) == 0
		    && again.dests[i].mx == list->dests[i].mx,
		    "\"%s\" became \"%s\"", list->dests[i].text,
		    again.dests[i].text);
    }
    FUZZ_ASSERT(hostlist_hash(&again) == hostlist_hash(list), "hash changed");
}

/* LLVMFuzzerTestOneInput - one destination list */

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct hostlist list;
    struct fuzz_in in = {data, size};
    char   *text = fuzz_take_str(&in);
    char    err[300];
    int     i;

    err[0] = 0;
    if (hostlist_parse(text, &list, err, sizeof(err)) == 0) {
	FUZZ_ASSERT(list.count >= 1 && list.count <= HOSTLIST_MAX, "count %d",
		    list.count);
	for (i = 0; i < list.count; i++)
	    check_dest(&list.dests[i]);
	check_fixed(&list);
    } else {
	FUZZ_ASSERT(*err && strpbrk(err, "\r\n") == 0, "reason \"%s\"", err);
    }
    free(text);
    return (0);
}
