/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	context 3
 * SUMMARY
 *	connection and message contexts of the milter
 * SYNOPSIS
 *	#include "context.h"
 *
 *	struct conn_ctx *cc_new(conf)
 *	void	cc_free(cc)
 *	void	cc_set_client(cc, sa, hostname)
 *	void	cc_set_helo(cc, helo)
 *	int	cc_live()
 *
 *	void	mc_reset(mc)
 *	void	mc_set_from(mc, arg)
 *	int	mc_note_header(mc, name, value, authserv_id)
 * DESCRIPTION
 *	A connection context (cc_ members) lives from connect to close.
 *	It holds a reference to the configuration the connection started
 *	with, so a reload does not change it midway, and the message
 *	context (mc_ members), which mc_reset() empties at MAIL FROM, at
 *	abort and after the end of a message.
 *
 *	Everything taken from the client is copied into fixed-size
 *	fields: cc_set_helo() and mc_set_from() keep at most CC_HELO_MAX
 *	and SPF_ADDR_MAX + 1 bytes, which is enough for the checks to see
 *	that a longer value is no domain or address. cc_set_client()
 *	writes the address in text, turning an IPv4-mapped IPv6 address
 *	into IPv4.
 *
 *	mc_set_from() takes the MAIL FROM argument as the MTA passes it
 *	("<a@x.org>"), drops the angle brackets and a source route
 *	("@relay:a@x.org"); "<>" or a missing argument is the null sender.
 *
 *	mc_note_header() counts Authentication-Results fields and
 *	remembers the index (1-based, as smfi_chgheader() wants) of each
 *	whose authserv-id is ours; past MC_FORGED_MAX it only sets
 *	mc_too_many, so memory stays bounded.
 *
 *	cc_live() gives the number of connection contexts alive, so that
 *	shutdown can wait for them.
 * DIAGNOSTICS
 *	cc_new() returns null and mc_note_header() -1 when memory runs out.
 */

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "context.h"
#include "headers.h"

static int cc_count;

/* cc_new - a connection context holding a reference to conf */

struct conn_ctx *cc_new(struct mconf *conf)
{
    struct conn_ctx *cc;

    if ((cc = calloc(1, sizeof(*cc))) == 0)
	return (0);
    cc->cc_conf = conf;
    __atomic_add_fetch(&cc_count, 1, __ATOMIC_SEQ_CST);
    return (cc);
}

/* cc_free - free the context and give back its configuration */

void    cc_free(struct conn_ctx *cc)
{
    if (cc == 0)
	return;
    mc_reset(&cc->cc_msg);
    if (cc->cc_conf)
	mconf_release(cc->cc_conf);
    free(cc);
    __atomic_sub_fetch(&cc_count, 1, __ATOMIC_SEQ_CST);
}

/* cc_live - number of connection contexts alive */

int     cc_live(void)
{
    return (__atomic_load_n(&cc_count, __ATOMIC_SEQ_CST));
}

/* cc_copy - copy client text into a fixed field, cut to fit */

static void cc_copy(char *dst, size_t dstlen, const char *src)
{
    snprintf(dst, dstlen, "%s", src ? src : "");
}

/* cc_set_client - the client address as text, and its host name */

void    cc_set_client(struct conn_ctx *cc, const struct sockaddr *sa,
		              const char *hostname)
{
    const struct sockaddr_in6 *sin6;

    cc->cc_ip[0] = 0;
    /* Postfix names a client without a verified name "[address]". */
    if (hostname == 0 || *hostname == 0 || *hostname == '[')
	hostname = "unknown";
    cc_copy(cc->cc_host, sizeof(cc->cc_host), hostname);
    if (sa && sa->sa_family == AF_INET) {
	inet_ntop(AF_INET, &((const struct sockaddr_in *) sa)->sin_addr,
		  cc->cc_ip, sizeof(cc->cc_ip));
    } else if (sa && sa->sa_family == AF_INET6) {
	sin6 = (const struct sockaddr_in6 *) sa;
	if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr))
	    inet_ntop(AF_INET, sin6->sin6_addr.s6_addr + 12, cc->cc_ip,
		      sizeof(cc->cc_ip));
	else
	    inet_ntop(AF_INET6, &sin6->sin6_addr, cc->cc_ip, sizeof(cc->cc_ip));
    }
}

/* cc_set_helo - remember the latest HELO/EHLO name */

void    cc_set_helo(struct conn_ctx *cc, const char *helo)
{
    cc_copy(cc->cc_helo, sizeof(cc->cc_helo), helo);
}

/* mc_reset - forget the message */

void    mc_reset(struct msg_ctx *mc)
{
    free(mc->mc_forged);
    memset(mc, 0, sizeof(*mc));
}

/* mc_set_from - the envelope sender from the MAIL FROM argument */

void    mc_set_from(struct msg_ctx *mc, const char *arg)
{
    char    buf[SPF_ADDR_MAX + 2];
    char   *addr = buf;
    char   *end;
    char   *colon;

    cc_copy(buf, sizeof(buf), arg);
    while (isspace((unsigned char) *addr))
	addr++;
    if (*addr == '<') {
	addr++;
	if ((end = strrchr(addr, '>')) != 0)
	    *end = 0;
    }
    /* RFC 5321 4.1.2 source route: "@a,@b:user@domain" */
    if (*addr == '@' && (colon = strchr(addr, ':')) != 0)
	addr = colon + 1;
    cc_copy(mc->mc_from, sizeof(mc->mc_from), addr);
}

/* mc_note_header - count A-R fields, remember those claiming our id */

int     mc_note_header(struct msg_ctx *mc, const char *name, const char *value,
		               const char *authserv_id)
{
    unsigned *grown;
    size_t  cap;

    if (name == 0 || strcasecmp(name, HDR_AUTH_RESULTS) != 0)
	return (0);
    mc->mc_ar_count++;
    if (value == 0 || !hdr_ar_is_ours(value, authserv_id))
	return (0);
    if (mc->mc_nforged >= MC_FORGED_MAX) {
	mc->mc_too_many = 1;
	return (0);
    }
    if (mc->mc_nforged == mc->mc_forged_cap) {
	cap = mc->mc_forged_cap ? 2 * mc->mc_forged_cap : 8;
	if (cap > MC_FORGED_MAX)
	    cap = MC_FORGED_MAX;
	if ((grown = realloc(mc->mc_forged, cap * sizeof(*grown))) == 0)
	    return (-1);
	mc->mc_forged = grown;
	mc->mc_forged_cap = cap;
    }
    mc->mc_forged[mc->mc_nforged++] = mc->mc_ar_count;
    return (0);
}
