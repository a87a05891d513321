/* SPDX-License-Identifier: MIT */
/*
 * fuzz_filter_cidr - fuzz harness for filter/cidr.c
 *
 * Input: a trusted_networks list, then client addresses, each ending
 * with a NUL.
 *
 * Properties: cidr_list_parse() accepts a list exactly when a parser
 * written here from the manual page accepts each of its networks, and
 * stores the same networks: family AF_INET with a prefix of 0 to 32 or
 * AF_INET6 with 0 to 128, no host bits set, an IPv4-mapped IPv6 network
 * (in any spelling) as the IPv4 network it names. Each network's own
 * address matches the list; a refused list gets a reason. cidr_parse_addr() accepts what
 * inet_pton() accepts, with IPv4-mapped IPv6 turned into IPv4. Whether
 * a client address matches agrees with a bit-by-bit comparison written
 * here.
 */

#include <sys/socket.h>
#include <arpa/inet.h>

#include "fuzz.h"
#include "cidr.h"

static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
0xff, 0xff};

/* ref_addr - inet_pton(), unmapping IPv4 in IPv6; the family, or -1 */

static int ref_addr(const char *text, unsigned char addr[16])
{
    unsigned char a6[16];

    memset(addr, 0, 16);
    if (inet_pton(AF_INET, text, addr) == 1)
	return (AF_INET);
    if (inet_pton(AF_INET6, text, a6) != 1)
	return (-1);
    if (memcmp(a6, mapped, 12) == 0) {
	memcpy(addr, a6 + 12, 4);
	return (AF_INET);
    }
    memcpy(addr, a6, 16);
    return (AF_INET6);
}

/* bit - bit i of an address, from the top */

static int bit(const unsigned char *addr, int i)
{
    return ((addr[i / 8] >> (7 - i % 8)) & 1);
}

/* ref_net - one network as the manual page describes it; -1 if bad */

static int ref_net(const char *item, struct cidr_net *net)
{
    char    host[100];
    const char *slash = strchr(item, '/');
    size_t  len = slash ? (size_t) (slash - item) : strlen(item);
    int     offset = 0;
    int     max;
    int     i;

    if (strlen(item) > 80)
	return (-1);
    memcpy(host, item, len);
    host[len] = 0;
    if (len >= 2 && host[0] == '[' && host[len - 1] == ']') {
	memmove(host, host + 1, len - 2);
	host[len - 2] = 0;
    }
    memset(net, 0, sizeof(*net));
    if ((net->family = ref_addr(host, net->addr)) < 0)
	return (-1);
    max = net->family == AF_INET ? 32 : 128;
    if (net->family == AF_INET && strchr(host, ':'))
	offset = 96;				/* IPv4-mapped: an IPv6 prefix */
    net->bits = max;
    if (slash) {
	slash++;
	if (*slash < '0' || *slash > '9' || strlen(slash) > 3)
	    return (-1);
	for (net->bits = 0; *slash; slash++) {
	    if (*slash < '0' || *slash > '9')
		return (-1);
	    net->bits = net->bits * 10 + *slash - '0';
	}
	if (net->bits < offset || net->bits > offset + max)
	    return (-1);
	net->bits -= offset;
    }
    for (i = net->bits; i < max; i++)
	if (bit(net->addr, i))
	    return (-1);
    return (0);
}

/* ref_list - the networks of a list, as ref_net() reads them; or -1 */

static int ref_list(const char *text, struct cidr_net *nets, size_t max,
		            size_t *count)
{
    char   *copy = strdup(text);
    char   *cp = copy;
    char   *item;
    int     status = 0;

    if (copy == 0)
	abort();
    *count = 0;
    while (status == 0 && (item = strsep(&cp, ", \t\r\n")) != 0) {
	if (*item == 0)
	    continue;
	if (*count >= max || ref_net(item, nets + *count) < 0)
	    status = -1;
	else
	    ++*count;
    }
    free(copy);
    return (status);
}

/* same_list - the parser stored what the reference read */

static void same_list(const char *text, const struct cidr_list *list,
		              int status)
{
    static struct cidr_net nets[4096];
    size_t  count;
    size_t  n;
    int     want = ref_list(text, nets, sizeof(nets) / sizeof(nets[0]),
			    &count);

    FUZZ_ASSERT(status == want, "\"%s\" %s, the manual says %s", text,
		status < 0 ? "refused" : "accepted",
		want < 0 ? "refuse" : "accept");
    if (status < 0)
	return;
    FUZZ_ASSERT(list->count == count, "%zu networks, not %zu", list->count,
		count);
    for (n = 0; n < count; n++)
	FUZZ_ASSERT(list->nets[n].family == nets[n].family
		    && list->nets[n].bits == nets[n].bits
		    && memcmp(list->nets[n].addr, nets[n].addr, 16) == 0,
		    "network %zu of \"%s\" stored differently", n, text);
}

/* ref_match - the address is in one of the networks, bit by bit */

static int ref_match(const struct cidr_list *list, int family,
		             const unsigned char *addr)
{
    size_t  n;
    int     i;

    for (n = 0; n < list->count; n++) {
	if (list->nets[n].family != family)
	    continue;
	for (i = 0; i < list->nets[n].bits; i++)
	    if (bit(list->nets[n].addr, i) != bit(addr, i))
		break;
	if (i == list->nets[n].bits)
	    return (1);
    }
    return (0);
}

/* check_list - an accepted list */

static void check_list(const struct cidr_list *list)
{
    const struct cidr_net *net;
    char    text[INET6_ADDRSTRLEN];
    size_t  n;
    int     max;
    int     i;

    for (n = 0; n < list->count; n++) {
	net = &list->nets[n];
	FUZZ_ASSERT(net->family == AF_INET || net->family == AF_INET6,
		    "family %d", net->family);
	max = net->family == AF_INET ? 32 : 128;
	FUZZ_ASSERT(net->bits >= 0 && net->bits <= max, "prefix %d",
		    net->bits);
	for (i = net->bits; i < max; i++)
	    FUZZ_ASSERT(bit(net->addr, i) == 0, "host bit %d set", i);
	FUZZ_ASSERT(inet_ntop(net->family, net->addr, text, sizeof(text)) != 0,
		    "inet_ntop");
	FUZZ_ASSERT(cidr_list_match(list, text), "network %s/%d misses itself",
		    text, net->bits);
    }
}

/* check_client - one client address against the list */

static void check_client(const struct cidr_list *list, const char *ip)
{
    unsigned char want[16];
    unsigned char got[16];
    int     family = ref_addr(ip, want);
    int     got_family = -1;

    if (cidr_parse_addr(ip, &got_family, got) < 0) {
	FUZZ_ASSERT(family < 0, "\"%s\" refused", ip);
    } else {
	FUZZ_ASSERT(family == got_family && memcmp(want, got, 16) == 0,
		    "\"%s\" parsed wrong", ip);
    }
    FUZZ_ASSERT(cidr_list_match(list, ip)
		== (family < 0 ? 0 : ref_match(list, family, want)),
		"match of \"%s\"", ip);
}

/* LLVMFuzzerTestOneInput - one list, some clients */

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_in in = {data, size};
    struct cidr_list list;
    char   *text = fuzz_take_str(&in);
    char   *ip;
    char    err[300];
    int     status;
    int     i;

    err[0] = 0;
    status = cidr_list_parse(text, &list, err, sizeof(err));
    same_list(text, &list, status);
    if (status < 0) {
	FUZZ_ASSERT(*err && list.count == 0, "reason \"%s\"", err);
	cidr_list_free(&list);
	free(text);
	return (0);
    }
    check_list(&list);
    for (i = 0; i < 8 && in.size > 0; i++) {
	ip = fuzz_take_str(&in);
	check_client(&list, ip);
	free(ip);
    }
    cidr_list_free(&list);
    free(text);
    return (0);
}
