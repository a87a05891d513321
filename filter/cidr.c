/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	cidr 3
 * SUMMARY
 *	IPv4 and IPv6 network lists for trusted_networks
 * SYNOPSIS
 *	#include "cidr.h"
 *
 *	int	cidr_parse_addr(text, family, addr)
 *
 *	int	cidr_list_parse(text, list, err, errlen)
 *	int	cidr_list_match(list, ip)
 *	void	cidr_list_free(list)
 * DESCRIPTION
 *	cidr_list_parse() reads a list of networks separated by commas
 *	and/or white space, in the form Postfix's mynetworks uses:
 *	192.0.2.0/24, 2001:db8::/32, [2001:db8::1]/128, or a bare address
 *	(a host). The prefix length may be 0 to 32 (IPv4) or 0 to 128
 *	(IPv6). An IPv4-mapped IPv6 network (::ffff:192.0.2.0/120, or
 *	::ffff:c000:200/120) is stored as the IPv4 network it names; its
 *	prefix counts IPv6 bits, so it must be 96 or more.
 *
 *	cidr_list_match() tells whether the address text ip lies in one
 *	of the networks. An IPv4-mapped IPv6 client (::ffff:192.0.2.1)
 *	matches as the IPv4 address it carries.
 *
 *	cidr_parse_addr() converts an address to its family and 16-byte
 *	form, turning IPv4-mapped IPv6 addresses into IPv4.
 * DIAGNOSTICS
 *	cidr_list_parse() returns -1 and a reason in err for a malformed
 *	network, a prefix out of range, or host bits set below the prefix
 *	(a likely typo, as Postfix also reports). cidr_parse_addr()
 *	returns -1 for text that is no address. cidr_list_match() returns
 *	1 for a match and 0 otherwise.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cidr.h"

#define CIDR_TEXT_MAX	80		/* longest network text accepted */

static const unsigned char v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

/* cidr_parse_addr - address text to family and bytes, unmapping IPv4 */

int     cidr_parse_addr(const char *text, int *family, unsigned char addr[16])
{
    struct in6_addr a6;
    struct in_addr a4;

    memset(addr, 0, 16);
    if (inet_pton(AF_INET, text, &a4) == 1) {
	memcpy(addr, &a4, 4);
	*family = AF_INET;
	return (0);
    }
    if (inet_pton(AF_INET6, text, &a6) != 1)
	return (-1);
    if (memcmp(a6.s6_addr, v4mapped, sizeof(v4mapped)) == 0) {
	memcpy(addr, a6.s6_addr + 12, 4);
	*family = AF_INET;
	return (0);
    }
    memcpy(addr, a6.s6_addr, 16);
    *family = AF_INET6;
    return (0);
}

/* cidr_host_bits - true if any bit past the prefix is set */

static int cidr_host_bits(const unsigned char *addr, int bits, int len)
{
    int     i;

    for (i = bits; i < len * 8; i++)
	if (addr[i / 8] & (0x80 >> (i % 8)))
	    return (1);
    return (0);
}

/* cidr_parse_prefix - "/N" suffix to a prefix length, or -1 */

static int cidr_parse_prefix(const char *text)
{
    char   *end;
    long    bits;

    if (!isdigit((unsigned char) *text) || strlen(text) > 3)
	return (-1);
    errno = 0;
    bits = strtol(text, &end, 10);
    if (errno || *end)
	return (-1);
    return ((int) bits);
}

/* cidr_parse_net - parse one network into net */

static int cidr_parse_net(const char *text, struct cidr_net *net,
			          char *err, size_t errlen)
{
    char    buf[CIDR_TEXT_MAX + 1];
    char   *slash;
    char   *host;
    size_t  len;
    int     mapped = 0;
    int     max;

    if (errlen > 0)
	err[0] = 0;				/* written on every path */

    if (strlen(text) > CIDR_TEXT_MAX) {
	snprintf(err, errlen, "network \"%.40s...\" is too long", text);
	return (-1);
    }
    strcpy(buf, text);
    host = buf;
    slash = strchr(buf, '/');
    if (slash)
	*slash++ = 0;
    len = strlen(host);
    if (len >= 2 && host[0] == '[' && host[len - 1] == ']') {
	host[len - 1] = 0;
	host++;
    }
    if (cidr_parse_addr(host, &net->family, net->addr) < 0) {
	snprintf(err, errlen, "\"%s\" is not an IPv4 or IPv6 network", text);
	return (-1);
    }
    /* IPv6 text that cidr_parse_addr() unmapped, however it was spelled */
    mapped = (net->family == AF_INET && strchr(host, ':') != 0);
    max = (net->family == AF_INET) ? 32 : 128;
    net->bits = max;
    if (slash) {
	net->bits = cidr_parse_prefix(slash);
	if (mapped && net->bits >= 96)
	    net->bits -= 96;
	else if (mapped) {
	    snprintf(err, errlen, "\"%s\": an IPv4-mapped network needs a "
		     "prefix of 96 or more", text);
	    return (-1);
	}
	if (net->bits < 0 || net->bits > max) {
	    snprintf(err, errlen, "\"%s\": prefix length must be 0 to %d",
		     text, mapped ? 128 : max);
	    return (-1);
	}
    }
    if (cidr_host_bits(net->addr, net->bits, max / 8)) {
	snprintf(err, errlen, "\"%s\" has host bits set after the /%d prefix",
		 text, mapped ? net->bits + 96 : net->bits);
	return (-1);
    }
    return (0);
}

/* cidr_list_parse - parse a comma/space separated list of networks */

int     cidr_list_parse(const char *text, struct cidr_list *list,
			        char *err, size_t errlen)
{
    char   *copy;
    char   *cp;
    char   *item;
    struct cidr_net *nets = 0;
    struct cidr_net *grown;
    size_t  count = 0;
    int     status = -1;

    if (errlen > 0)
	err[0] = 0;				/* written on every path */

    list->nets = 0;
    list->count = 0;
    if ((copy = strdup(text)) == 0) {
	snprintf(err, errlen, "out of memory");
	return (-1);
    }
    for (cp = copy; (item = strsep(&cp, ", \t\r\n")) != 0;) {
	if (*item == 0)
	    continue;
	if ((grown = realloc(nets, (count + 1) * sizeof(*nets))) == 0) {
	    snprintf(err, errlen, "out of memory");
	    goto out;
	}
	nets = grown;
	if (cidr_parse_net(item, nets + count, err, errlen) < 0)
	    goto out;
	count++;
    }
    list->nets = nets;
    list->count = count;
    nets = 0;
    status = 0;
out:
    free(nets);
    free(copy);
    return (status);
}

/* cidr_net_match - compare the first bits of two addresses */

static int cidr_net_match(const struct cidr_net *net, const unsigned char *addr)
{
    int     full = net->bits / 8;
    int     rest = net->bits % 8;
    unsigned char mask;

    if (memcmp(net->addr, addr, full) != 0)
	return (0);
    if (rest == 0)
	return (1);
    mask = (unsigned char) (0xff << (8 - rest));
    return ((net->addr[full] & mask) == (addr[full] & mask));
}

/* cidr_list_match - true if ip is in one of the networks */

int     cidr_list_match(const struct cidr_list *list, const char *ip)
{
    unsigned char addr[16];
    int     family;
    size_t  i;

    if (ip == 0 || cidr_parse_addr(ip, &family, addr) < 0)
	return (0);
    for (i = 0; i < list->count; i++)
	if (list->nets[i].family == family
	    && cidr_net_match(list->nets + i, addr))
	    return (1);
    return (0);
}

/* cidr_list_free - release a parsed list */

void    cidr_list_free(struct cidr_list *list)
{
    free(list->nets);
    list->nets = 0;
    list->count = 0;
}
