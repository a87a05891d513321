/* SPDX-License-Identifier: MIT */
/*
 * fuzz_resolve - fuzz harness for the MX answer parsing in transport/resolve.c
 *
 * Input: a byte that picks what the lookup gives (an answer, or
 * "no such domain", "no data", "try again"), then the DNS answer to an
 * MX query for the destination example.test:2525.
 *
 * res_query() and getaddrinfo() are replaced here, so nothing goes on
 * the network: res_query() behaves as glibc's does, copying what fits in
 * the caller's buffer and returning the length of the whole answer (a
 * TCP answer can be 64 KiB); getaddrinfo() gives each name one address,
 * 192.0.2.N with N from the name.
 *
 * Properties, with the answer parsed again here: the targets are the
 * exchangers with the lowest preferences (up to RESOLVE_MX_MAX), best
 * first; a null MX (one exchanger, named ".") refuses the destination;
 * no MX falls back to the domain's own address; a failed lookup gives
 * no target; every target has port 2525 and a name that fits.
 */

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <resolv.h>

#include "fuzz.h"
#include "conf/hostlist.h"
#include "smtp/resolve.h"

static const unsigned char *answer_data;
static int answer_len;
static int answer_herrno;

/* res_query - the fuzzed answer, cut as glibc cuts it */

int     res_query(const char *dname, int class, int type,
		          unsigned char *answer, int anslen)
{
    (void) dname;
    (void) class;
    (void) type;
    if (answer_herrno) {
	h_errno = answer_herrno;
	return (-1);
    }
    memcpy(answer, answer_data, answer_len < anslen ? answer_len : anslen);
    if (answer_len > anslen && anslen > 2)
	answer[2] |= 2;				/* TC: truncated */
    return (answer_len);
}

/* getaddrinfo - one IPv4 address per name, from the name's hash */

int     getaddrinfo(const char *node, const char *service,
		            const struct addrinfo *hints, struct addrinfo **res)
{
    struct {
	struct addrinfo ai;
	struct sockaddr_in sin;
    }      *one;
    unsigned hash = 5381;
    const char *cp;

    (void) service;
    (void) hints;
    if ((one = calloc(1, sizeof(*one))) == 0)
	return (EAI_MEMORY);
    for (cp = node; *cp; cp++)
	hash = hash * 33 + (unsigned char) *cp;
    one->sin.sin_family = AF_INET;
    one->sin.sin_addr.s_addr = htonl(0xc0000200 | (hash & 0xff));
    one->ai.ai_family = AF_INET;
    one->ai.ai_socktype = SOCK_STREAM;
    one->ai.ai_addr = (struct sockaddr *) &one->sin;
    one->ai.ai_addrlen = sizeof(one->sin);
    *res = &one->ai;
    return (0);
}

/* freeaddrinfo - free what getaddrinfo() above made */

void    freeaddrinfo(struct addrinfo *res)
{
    free(res);
}

struct mx {
    int     pref;
    char    name[NS_MAXDNAME];
};

/* want_mx - the valid MX records of the answer */

static int want_mx(const unsigned char *msg, int len, struct mx *mx, int max)
{
    ns_msg  handle;
    ns_rr   rr;
    int     count = 0;
    int     i;

    if (ns_initparse(msg, len, &handle) < 0)
	return (-1);
    for (i = 0; i < ns_msg_count(handle, ns_s_an) && count < max; i++) {
	if (ns_parserr(&handle, ns_s_an, i, &rr) < 0
	    || ns_rr_type(rr) != ns_t_mx || ns_rr_rdlen(rr) < 3)
	    continue;
	mx[count].pref = ns_rr_rdata(rr)[0] << 8 | ns_rr_rdata(rr)[1];
	if (dn_expand(ns_msg_base(handle), ns_msg_end(handle),
		      ns_rr_rdata(rr) + 2, mx[count].name, NS_MAXDNAME) < 0)
	    continue;
	count++;
    }
    return (count);
}

/* pref_of - the lowest preference of an exchanger named as a target, or -1 */

static int pref_of(const struct mx *mx, int count, const char *name)
{
    int     best = -1;
    int     i;

    /* A target keeps DEST_HOST_MAX bytes of the name, for the log. */
    for (i = 0; i < count; i++)
	if (strncmp(mx[i].name, name, DEST_HOST_MAX) == 0
	    && (best < 0 || mx[i].pref < best))
	    best = mx[i].pref;
    return (best);
}

/* by_int - qsort order */

static int by_int(const void *a, const void *b)
{
    return (*(const int *) a - *(const int *) b);
}

/* check_mx - targets against the exchangers of the answer */

static void check_mx(const struct target *t, int n, const struct mx *mx,
		             int count, const char *why)
{
    static int prefs[4096];
    int     pref;
    int     i;

    if (count == 1 && mx[0].name[0] == 0) {
	FUZZ_ASSERT(n < 0 && strstr(why, "null MX"), "null MX gave %d", n);
	return;
    }
    for (i = 0; i < count; i++)
	prefs[i] = mx[i].pref;
    qsort(prefs, (size_t) count, sizeof(prefs[0]), by_int);
    FUZZ_ASSERT(n == (count < RESOLVE_MX_MAX ? count : RESOLVE_MX_MAX),
		"%d targets for %d exchangers", n, count);
    for (i = 0; i < n; i++) {
	pref = pref_of(mx, count, t[i].name);
	FUZZ_ASSERT(pref >= 0, "target %d, %s, is no exchanger", i, t[i].name);
	FUZZ_ASSERT(pref <= prefs[i], "target %d is %s, preference %d; "
		    "the best %d go up to %d", i, t[i].name, pref, i + 1,
		    prefs[i]);
    }
}

/* LLVMFuzzerTestOneInput - one MX lookup */

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const int herrnos[] = {0, 0, HOST_NOT_FOUND, NO_DATA, TRY_AGAIN};
    static struct hostlist list;
    static struct mx mx[4096];
    struct target t[RESOLVE_MX_MAX];
    struct fuzz_in in = {data, size};
    char    why[300];
    int     count;
    int     n;
    int     i;

    if (list.count == 0 && hostlist_parse("example.test:2525", &list, 0, 0) < 0)
	abort();
    answer_herrno = herrnos[fuzz_take_byte(&in) % 5];
    answer_data = in.data;
    answer_len = (int) (in.size > NS_MAXMSG ? NS_MAXMSG : in.size);
    why[0] = 0;
    n = resolve_dest(&list.dests[0], t, RESOLVE_MX_MAX, why, sizeof(why));
    FUZZ_ASSERT(n == -1 || (n >= 1 && n <= RESOLVE_MX_MAX), "%d targets", n);
    FUZZ_ASSERT(n > 0 || *why, "no reason");
    for (i = 0; i < n; i++)
	FUZZ_ASSERT(t[i].port == 2525 && strlen(t[i].name) <= DEST_HOST_MAX,
		    "target %d", i);
    if (answer_herrno == TRY_AGAIN) {
	FUZZ_ASSERT(n < 0, "a failed lookup gave %d targets", n);
    } else if (answer_herrno != 0) {
	FUZZ_ASSERT(n == 1 && strcmp(t[0].name, "example.test") == 0,
		    "no MX: %d targets", n);
    } else if ((count = want_mx(answer_data, answer_len, mx, 4096)) < 0) {
	FUZZ_ASSERT(n < 0, "a malformed answer gave %d targets", n);
    } else if (count == 0) {
	FUZZ_ASSERT(n == 1 && strcmp(t[0].name, "example.test") == 0,
		    "no MX records: %d targets", n);
    } else {
	check_mx(t, n, mx, count, why);
    }
    return (0);
}
