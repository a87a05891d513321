/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	resolve 3
 * SUMMARY
 *	turn one destination into addresses to connect to
 * SYNOPSIS
 *	#include "smtp/resolve.h"
 *
 *	int	resolve_dest(dest, targets, max, why, whylen)
 *
 *	int	resolve_port(port)
 *
 *	void	resolve_set_random(source)
 * DESCRIPTION
 *	resolve_dest() fills targets with up to max addresses for one
 *	destination, in the order they should be tried, and returns how
 *	many. A bracketed destination ("[host]:port") is looked up as a
 *	host, without MX. A bare domain gets an MX lookup, as in Postfix:
 *	the RESOLVE_MX_MAX most preferred exchangers, in preference order,
 *	in random order among equal preferences (RFC 5321 section 5.1:
 *	also where the cut at RESOLVE_MX_MAX falls), each with its addresses; a
 *	domain with no MX records falls back to its own addresses. An MX
 *	answer is read whole, up to the 64 KiB a DNS message can hold.
 *
 *	resolve_port() turns a port number or services(5) name into a
 *	number.
 *
 *	resolve_set_random() replaces the random source that orders equal
 *	preferences (arc4random()), for the tests; null restores it.
 * DIAGNOSTICS
 *	resolve_dest() returns -1 with a reason when no address was
 *	found; to the caller that is trouble with this host, never a
 *	reason to bounce.
 *--*/

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <ctype.h>
#include <dlfcn.h>
#include <netdb.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smtp/resolve.h"

struct mx {
    int     pref;
    unsigned key;			/* random: the order among equals */
    char    name[NS_MAXDNAME];
};

static unsigned (*mx_random) (void) = arc4random;

/* resolve_set_random - the source of the order among equal preferences */

void    resolve_set_random(unsigned (*source) (void))
{
    mx_random = source ? source : arc4random;
}

/* resolve_port - port number from a number or a service name */

int     resolve_port(const char *port)
{
    struct servent *se;

    if (isdigit((unsigned char) *port))
	return (atoi(port));
    if ((se = getservbyname(port, "tcp")) == 0)
	return (-1);
    return (ntohs((unsigned short) se->s_port));
}

/* add_host - append the addresses of one host name */

static int add_host(const char *name, int port, struct target *targets,
		            int count, int max, char *why, size_t whylen)
{
    struct addrinfo hints;
    struct addrinfo *res = 0;
    struct addrinfo *ai;
    struct target *t;
    int     err;

    if (whylen > 0)
	why[0] = 0;				/* written on every path */

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    if ((err = getaddrinfo(name, 0, &hints, &res)) != 0) {
	snprintf(why, whylen, "look up %s: %s", name, gai_strerror(err));
	return (count);
    }
    for (ai = res; ai && count < max; ai = ai->ai_next) {
	if (ai->ai_addrlen > sizeof(t->sa))
	    continue;
	t = &targets[count++];
	memcpy(&t->sa, ai->ai_addr, ai->ai_addrlen);
	t->len = ai->ai_addrlen;
	t->port = port;
	snprintf(t->name, sizeof(t->name), "%s", name);
	if (ai->ai_family == AF_INET6) {
	    ((struct sockaddr_in6 *) &t->sa)->sin6_port = htons(port);
	    inet_ntop(AF_INET6, &((struct sockaddr_in6 *) &t->sa)->sin6_addr,
		      t->addr, sizeof(t->addr));
	} else {
	    ((struct sockaddr_in *) &t->sa)->sin_port = htons(port);
	    inet_ntop(AF_INET, &((struct sockaddr_in *) &t->sa)->sin_addr,
		      t->addr, sizeof(t->addr));
	}
    }
    freeaddrinfo(res);
    return (count);
}

/*
 * libresolv's message parser, loaded on the first MX lookup: linking
 * libresolv cost every delivery 0.19 ms at start-up (bench/), and a
 * relayhost list of [bracketed] hosts never looks up an MX record.
 * res_query() and dn_expand() are in libc.
 */
#define RESOLVE_LIBRESOLV	"libresolv.so.2"

static int (*parse_init) (const unsigned char *, int, ns_msg *);
static int (*parse_rr) (ns_msg *, ns_sect, int, ns_rr *);

/* load_parser - dlopen libresolv for ns_initparse() and ns_parserr() */

static int load_parser(char *why, size_t whylen)
{
    void   *handle;
    const char *err;

    if (whylen > 0)
	why[0] = 0;				/* written on every path */

    if (parse_init && parse_rr)
	return (0);
    if ((handle = dlopen(RESOLVE_LIBRESOLV, RTLD_NOW | RTLD_LOCAL)) == 0
	|| (*(void **) &parse_init = dlsym(handle, "ns_initparse")) == 0
	|| (*(void **) &parse_rr = dlsym(handle, "ns_parserr")) == 0) {
	err = dlerror();
	snprintf(why, whylen, "cannot load %s: %s", RESOLVE_LIBRESOLV,
		 err ? err : "unknown error");
	parse_init = 0;
	return (-1);
    }
    return (0);
}

/* mx_before - does (pref, key) come before exchanger m? */

static int mx_before(int pref, unsigned key, const struct mx *m)
{
    return (pref < m->pref || (pref == m->pref && key < m->key));
}

/* keep_mx - add an exchanger to the max best so far, in preference order */

static int keep_mx(struct mx *mx, int count, int max, int pref,
		           const char *name)
{
    unsigned key = mx_random();
    int     i;

    if (count == max && !mx_before(pref, key, &mx[max - 1]))
	return (count);				/* no better than the last */
    if (count < max)
	count++;
    for (i = count - 1; i > 0 && mx_before(pref, key, &mx[i - 1]); i--)
	mx[i] = mx[i - 1];
    mx[i].pref = pref;
    mx[i].key = key;
    snprintf(mx[i].name, sizeof(mx[i].name), "%s", name);
    return (count);
}

/* best_mx - the max most preferred exchangers of a parsed answer */

static int best_mx(ns_msg *msg, struct mx *mx, int max)
{
    char    name[NS_MAXDNAME];
    ns_rr   rr;
    int     count = 0;
    int     i;

    for (i = 0; i < ns_msg_count(*msg, ns_s_an); i++) {
	if (parse_rr(msg, ns_s_an, i, &rr) < 0 || ns_rr_type(rr) != ns_t_mx
	    || ns_rr_rdlen(rr) < 3
	    || dn_expand(ns_msg_base(*msg), ns_msg_end(*msg),
			 ns_rr_rdata(rr) + 2, name, sizeof(name)) < 0)
	    continue;
	count = keep_mx(mx, count, max,
			(ns_rr_rdata(rr)[0] << 8) | ns_rr_rdata(rr)[1], name);
    }
    return (count);
}

/* lookup_mx - the best MX records in preference order; -1 temporary */

static int lookup_mx(const char *domain, struct mx *mx, int max, char *why,
		             size_t whylen)
{
    unsigned char answer[NS_MAXMSG];		/* a TCP answer's most */
    ns_msg  msg;
    int     len;

    if (whylen > 0)
	why[0] = 0;				/* written on every path */

    if (load_parser(why, whylen) < 0)
	return (-1);
    len = res_query(domain, ns_c_in, ns_t_mx, answer, sizeof(answer));
    if (len < 0) {
	if (h_errno == HOST_NOT_FOUND || h_errno == NO_DATA)
	    return (0);
	snprintf(why, whylen, "MX lookup for %s: %s", domain,
		 hstrerror(h_errno));
	return (-1);
    }
    /* res_query() gives the whole answer's length, even past anslen. */
    if (len > (int) sizeof(answer))
	len = sizeof(answer);
    if (parse_init(answer, len, &msg) < 0) {
	snprintf(why, whylen, "MX lookup for %s: malformed answer", domain);
	return (-1);
    }
    return (best_mx(&msg, mx, max));
}

/* resolve_dest - the addresses to try for one destination */

int     resolve_dest(const struct dest *dest, struct target *targets,
		             int max, char *why, size_t whylen)
{
    struct mx mx[RESOLVE_MX_MAX];
    int     port;
    int     nmx = 0;
    int     count = 0;
    int     i;

    if (whylen > 0)
	why[0] = 0;				/* written on every path */

    snprintf(why, whylen, "no address found for %s", dest->host);
    if ((port = resolve_port(dest->port)) <= 0 || port > 65535) {
	snprintf(why, whylen, "unknown port or service \"%s\"", dest->port);
	return (-1);
    }
    if (dest->mx && (nmx = lookup_mx(dest->host, mx, RESOLVE_MX_MAX, why,
				     whylen)) < 0)
	return (-1);
    if (nmx == 1 && mx[0].name[0] == 0) {
	snprintf(why, whylen, "%s has a null MX: it accepts no mail",
		 dest->host);
	return (-1);
    }
    if (nmx == 0)
	count = add_host(dest->host, port, targets, 0, max, why, whylen);
    for (i = 0; i < nmx && count < max; i++)
	count = add_host(mx[i].name, port, targets, count, max, why, whylen);
    return (count > 0 ? count : -1);
}
