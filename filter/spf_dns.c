/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	spf_dns 3
 * SUMMARY
 *	libspf2 DNS layer with a deadline and bounded answers
 * SYNOPSIS
 *	#include "spf_dns.h"
 *
 *	SPF_dns_server_t *sdns_resolv_new()
 *
 *	SPF_dns_rr_t *sdns_parse(layer, domain, type, msg, len)
 *
 *	SPF_dns_rr_t *sdns_error_rr(layer, domain, type, herrno)
 * DESCRIPTION
 *	sdns_resolv_new() makes the bottom DNS layer of the filter. It
 *	replaces libspf2's resolv layer for two reasons: that layer has
 *	no time limit (its waits come from resolv.conf alone), and it
 *	grows its answer buffer without bound. This one asks with
 *	res_nquery(), with the timeout and retry count cut to the time
 *	left in the current check (spf_budget). An answer is read into a
 *	buffer of SDNS_ANSWER_MAX bytes, the most a DNS message can hold.
 *
 *	Each query takes a resolver state (with its answer buffer) from
 *	a pool of the layer, used by one thread at a time, and gives it
 *	back after: its UDP socket stays open from one query to the next
 *	(RES_STAYOPEN), so that a query costs a send and a receive, not
 *	also a res_ninit(), a socket, a connect and a close. A state is
 *	made again when resolv.conf changed since it was made (the test
 *	glibc itself makes), and at most SDNS_POOL_MAX idle states are
 *	kept.
 *
 *	Every failure other than "no such name" (NXDOMAIN) and "no data"
 *	reads as TRY_AGAIN, which libspf2 turns into temperror, as RFC
 *	7208 section 4.4 wants for SERVFAIL, REFUSED and timeouts.
 *
 *	sdns_parse() turns one DNS message into the libspf2 record set
 *	for type: A, AAAA, MX and PTR names, and TXT strings joined
 *	without separators (RFC 7208 section 3.3). Records of other types
 *	(CNAME) are skipped. A TXT string's NUL bytes become DEL (0x7f),
 *	so that a record can't hide text after one, and a record with one
 *	is refused as a whole (control characters are a syntax error,
 *	RFC 7208 section 4.6). A malformed record is skipped; a malformed
 *	message reads as TRY_AGAIN.
 *
 *	sdns_error_rr() makes an empty record set with the given herrno.
 * DIAGNOSTICS
 *	The functions return a null pointer only when memory runs out
 *	(libspf2 then aborts through SPF_error, which logs the reason).
 */

#include <sys/types.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <arpa/nameser.h>
#include <pthread.h>
#include <resolv.h>
#include <stdlib.h>
#include <string.h>

#include "spf_budget.h"
#include "spf_dns.h"

#define SDNS_POOL_MAX	32		/* idle resolver states kept */

/* One resolver state, used by one query at a time. */

struct sdns_res {
    struct __res_state res;
    int     retrans;			/* as res_ninit() set them */
    int     retry;
    struct stat conf;			/* resolv.conf when made */
    int     conf_ok;			/* ... and whether it was there */
    unsigned char answer[SDNS_ANSWER_MAX];
};

/* The idle states of one layer (its hook). */

struct sdns_pool {
    pthread_mutex_t lock;
    struct sdns_res *idle[SDNS_POOL_MAX];
    int     nidle;
};

/* sdns_fit_timeout - cut the resolver's timeout and attempts to the time left */

static void sdns_fit_timeout(struct __res_state *res, long ms_left)
{
    long    secs = (ms_left + 999) / 1000;
    int     servers = res->nscount > 0 ? res->nscount : 1;
    int     retry = res->retry > 0 ? res->retry : 2;
    long    per_try;

    if (ms_left < 0)
	return;				/* no budget: resolv.conf rules */
    per_try = secs / ((long) retry * servers);
    if (per_try < 1) {
	retry = 1;
	per_try = secs / servers;
    }
    if (per_try < 1)
	per_try = 1;
    if (per_try < res->retrans)
	res->retrans = (int) per_try;
    res->retry = retry;
}

/* sdns_error_rr - an empty answer carrying herrno */

SPF_dns_rr_t *sdns_error_rr(SPF_dns_server_t *layer, const char *domain,
			            ns_type type, int herrno)
{
    return (SPF_dns_rr_new_init(layer, domain, type, 0, herrno));
}

/* sdns_add_bytes - store len bytes (plus a NUL) as record n */

static int sdns_add_bytes(SPF_dns_rr_t *rr, int n, const void *data,
			          size_t len)
{
    if (SPF_dns_rr_buf_realloc(rr, n, len + 1) != SPF_E_SUCCESS)
	return (-1);
    memcpy(rr->rr[n], data, len);
    ((char *) rr->rr[n])[len] = 0;
    return (0);
}

/* sdns_add_txt - join the character-strings of one TXT record */

static int sdns_add_txt(SPF_dns_rr_t *rr, int n, const unsigned char *rd,
			        size_t rdlen)
{
    char   *text;
    size_t  in = 0;
    size_t  out = 0;
    size_t  len;
    int     status = -1;

    if ((text = malloc(rdlen + 1)) == 0)
	return (-1);
    while (in < rdlen) {
	len = rd[in++];
	if (len > rdlen - in)
	    goto out;			/* malformed: skip the record */
	memcpy(text + out, rd + in, len);
	in += len;
	out += len;
    }
    for (len = 0; len < out; len++)
	if (text[len] == 0)
	    text[len] = 0x7f;
    status = sdns_add_bytes(rr, n, text, out) < 0 ? -2 : 0;
out:
    free(text);
    return (status);
}

/* sdns_add_name - expand a domain name at rd into record n */

static int sdns_add_name(SPF_dns_rr_t *rr, int n, const unsigned char *msg,
			         int len, const unsigned char *rd)
{
    char    name[NS_MAXDNAME];

    if (ns_name_uncompress(msg, msg + len, rd, name, sizeof(name)) < 0)
	return (-1);
    return (sdns_add_bytes(rr, n, name, strlen(name)) < 0 ? -2 : 0);
}

/* sdns_add_one - convert one answer record; -1 skip, -2 out of memory */

static int sdns_add_one(SPF_dns_rr_t *rr, int n, ns_type type,
			        const unsigned char *msg, int len, ns_rr *r)
{
    const unsigned char *rd = ns_rr_rdata(*r);
    size_t  rdlen = ns_rr_rdlen(*r);

    switch (type) {
    case ns_t_a:
	if (rdlen != 4)
	    return (-1);
	return (sdns_add_bytes(rr, n, rd, 4) < 0 ? -2 : 0);
    case ns_t_aaaa:
	if (rdlen != 16)
	    return (-1);
	return (sdns_add_bytes(rr, n, rd, 16) < 0 ? -2 : 0);
    case ns_t_mx:
	if (rdlen < 3)
	    return (-1);
	return (sdns_add_name(rr, n, msg, len, rd + 2));
    case ns_t_ptr:
	return (sdns_add_name(rr, n, msg, len, rd));
    case ns_t_txt:
	return (sdns_add_txt(rr, n, rd, rdlen));
    default:
	return (-1);
    }
}

/* sdns_parse - DNS message to a libspf2 record set of one type */

SPF_dns_rr_t *sdns_parse(SPF_dns_server_t *layer, const char *domain,
			         ns_type type, const unsigned char *msg, int len)
{
    SPF_dns_rr_t *rr;
    ns_msg  handle;
    ns_rr   r;
    int     count;
    int     i;
    int     n = 0;
    int     status;

    if (ns_initparse(msg, len, &handle) < 0)
	return (sdns_error_rr(layer, domain, type, TRY_AGAIN));
    if ((rr = SPF_dns_rr_new_init(layer, domain, type, 0, NETDB_SUCCESS)) == 0)
	return (0);
    count = ns_msg_count(handle, ns_s_an);
    for (i = 0; i < count; i++) {
	if (ns_parserr(&handle, ns_s_an, i, &r) < 0)
	    break;
	if (ns_rr_type(r) != type || ns_rr_class(r) != ns_c_in)
	    continue;
	status = sdns_add_one(rr, n, type, msg, len, &r);
	if (status == -2) {
	    SPF_dns_rr_free(rr);
	    return (0);
	}
	if (status == 0)
	    rr->num_rr = ++n;
    }
    if (n == 0)
	rr->herrno = NO_DATA;
    return (rr);
}

/* sdns_herrno - map a resolver failure to what libspf2 understands */

static int sdns_herrno(int herrno)
{
    switch (herrno) {
    case HOST_NOT_FOUND:
    case NO_DATA:
	return (herrno);
    default:
	return (TRY_AGAIN);		/* SERVFAIL, REFUSED, timeout */
    }
}

/* sdns_conf_same - resolv.conf is as it was when r was made */

static int sdns_conf_same(const struct sdns_res *r)
{
    struct stat st;
    int     ok = (stat(_PATH_RESCONF, &st) == 0);

    if (ok != r->conf_ok)
	return (0);
    return (!ok || (st.st_dev == r->conf.st_dev && st.st_ino == r->conf.st_ino
		    && st.st_size == r->conf.st_size
		    && st.st_mtim.tv_sec == r->conf.st_mtim.tv_sec
		    && st.st_mtim.tv_nsec == r->conf.st_mtim.tv_nsec
		    && st.st_ctim.tv_sec == r->conf.st_ctim.tv_sec
		    && st.st_ctim.tv_nsec == r->conf.st_ctim.tv_nsec));
}

/* sdns_res_init - (re)make the resolver state of r; -1 on failure */

static int sdns_res_init(struct sdns_res *r)
{
    /* Stat first: a change made during res_ninit() is seen next time. */
    r->conf_ok = (stat(_PATH_RESCONF, &r->conf) == 0);
    memset(&r->res, 0, sizeof(r->res));
    if (res_ninit(&r->res) != 0)
	return (-1);
    r->res.options |= RES_STAYOPEN;
    r->retrans = r->res.retrans;
    r->retry = r->res.retry;
    return (0);
}

/* sdns_res_free - close and free a resolver state */

static void sdns_res_free(struct sdns_res *r)
{
    res_nclose(&r->res);
    free(r);
}

/* sdns_res_get - an idle resolver state, or a new one; null on failure */

static struct sdns_res *sdns_res_get(struct sdns_pool *pool)
{
    struct sdns_res *r = 0;

    pthread_mutex_lock(&pool->lock);
    if (pool->nidle > 0)
	r = pool->idle[--pool->nidle];
    pthread_mutex_unlock(&pool->lock);
    if (r && sdns_conf_same(r)) {
	r->res.retrans = r->retrans;	/* undo sdns_fit_timeout() */
	r->res.retry = r->retry;
	return (r);
    }
    if (r)
	res_nclose(&r->res);
    else if ((r = malloc(sizeof(*r))) == 0)
	return (0);
    if (sdns_res_init(r) < 0) {
	free(r);			/* no res_nclose(): nothing to close */
	return (0);
    }
    return (r);
}

/* sdns_res_put - give a resolver state back to the pool */

static void sdns_res_put(struct sdns_pool *pool, struct sdns_res *r)
{
    pthread_mutex_lock(&pool->lock);
    if (pool->nidle < SDNS_POOL_MAX) {
	pool->idle[pool->nidle++] = r;
	r = 0;
    }
    pthread_mutex_unlock(&pool->lock);
    if (r)
	sdns_res_free(r);
}

/* sdns_lookup - the layer's lookup method */

static SPF_dns_rr_t *sdns_lookup(SPF_dns_server_t *layer, const char *domain,
				         ns_type type, int should_cache)
{
    struct sdns_res *r = 0;
    SPF_dns_rr_t *rr;
    long    ms_left = budget_ms_left();
    int     len;

    (void) should_cache;
    if (ms_left == 0 || (r = sdns_res_get(layer->hook)) == 0) {
	rr = sdns_error_rr(layer, domain, type, TRY_AGAIN);
	goto out;
    }
    sdns_fit_timeout(&r->res, ms_left);
    len = res_nquery(&r->res, domain, ns_c_in, type, r->answer,
		     SDNS_ANSWER_MAX);
    if (len < 0)
	rr = sdns_error_rr(layer, domain, type,
			   sdns_herrno(r->res.res_h_errno));
    else
	rr = sdns_parse(layer, domain, type, r->answer,
			len > SDNS_ANSWER_MAX ? SDNS_ANSWER_MAX : len);
out:
    if (r)
	sdns_res_put(layer->hook, r);
    return (rr);
}

/* sdns_destroy - free the layer and its idle resolver states */

static void sdns_destroy(SPF_dns_server_t *layer)
{
    struct sdns_pool *pool = layer->hook;

    while (pool->nidle > 0)
	sdns_res_free(pool->idle[--pool->nidle]);
    pthread_mutex_destroy(&pool->lock);
    free(pool);
    free(layer);
}

/* sdns_resolv_new - make the bottom DNS layer */

SPF_dns_server_t *sdns_resolv_new(void)
{
    SPF_dns_server_t *layer;
    struct sdns_pool *pool;

    if ((layer = calloc(1, sizeof(*layer))) == 0)
	return (0);
    if ((pool = calloc(1, sizeof(*pool))) == 0
	|| pthread_mutex_init(&pool->lock, 0) != 0) {
	free(pool);
	free(layer);
	return (0);
    }
    layer->hook = pool;
    layer->destroy = sdns_destroy;
    layer->lookup = sdns_lookup;
    layer->name = "rrelay-resolv";
    return (layer);
}
