/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	tls_proxy 3
 * SUMMARY
 *	carry bytes between a plaintext socket and a TLS connection
 * SYNOPSIS
 *	#include "cache/tls_proxy.h"
 *
 *	void	tls_proxy_run(plain, ssl, tcp, idle_ms, first_read, ctx, stats)
 * DESCRIPTION
 *	rrelay-cache runs one of these for each connection whose TLS end
 *	it is (cache_tls.c), in a process of its own. What rrelay writes
 *	on the plaintext socket plain goes to the server encrypted through
 *	ssl (whose socket is tcp), and what the server sends comes back
 *	decrypted, until one of these ends it:
 *
 *	    rrelay closed plain		everything it wrote is sent, then
 *					close_notify ("client closed")
 *	    the server closed		what it sent is passed on first
 *					("server closed")
 *	    a TLS or socket error	("TLS error: REASON", "socket error")
 *	    idle_ms with no byte	("idle"), a safety net: rrelay
 *	    either way			and the cache have their own limits
 *
 *	Both sockets must be non-blocking. first_read(ctx), when given,
 *	is called once, after the first bytes came from the server: a TLS
 *	1.3 server sends its session tickets after the handshake, so a
 *	session is worth keeping only then. stats tells how many bytes
 *	went each way and how it ended. The caller frees ssl and closes
 *	the sockets.
 *--*/

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "net/netio.h"
#include "net/ossl.h"
#include "cache/tls_proxy.h"

#define PROXY_BUF	16384

struct pump {
    int     plain;
    int     tcp;
    SSL    *ssl;
    char    up[PROXY_BUF];		/* from rrelay, not yet sent */
    size_t  up_len;
    char    down[PROXY_BUF];		/* from the server, not yet passed */
    size_t  down_off;
    size_t  down_len;
    int     plain_eof;
    int     tls_eof;
    short   want_plain;			/* poll events, this turn */
    short   want_tcp;
    void    (*first_read) (void *);
    void   *ctx;
    struct tls_proxy_stats *stats;
    char    why[120];			/* stats->end, for a TLS error */
};

/* ssl_want - what a stalled TLS call waits for: POLLIN, POLLOUT, 0 (the server closed) or -1 (an error) */

static int ssl_want(struct pump *p, int ret)
{
    int     err = SSL_get_error(p->ssl, ret);
    unsigned long code = ERR_peek_error();
    const char *reason = code ? ERR_reason_error_string(code) : 0;

    ERR_clear_error();
    if (err == SSL_ERROR_WANT_READ)
	return (POLLIN);
    if (err == SSL_ERROR_WANT_WRITE)
	return (POLLOUT);
    if (err == SSL_ERROR_ZERO_RETURN
	|| (err == SSL_ERROR_SYSCALL && code == 0)) {
	p->stats->end = "server closed";
	return (0);
    }
    snprintf(p->why, sizeof(p->why), "TLS error: %s",
	     reason ? reason : "unknown");
    p->stats->end = p->why;
    return (-1);
}

/* from_plain - read what rrelay wrote; 1 on progress, -1 at an end */

static int from_plain(struct pump *p)
{
    ssize_t n;

    if (p->plain_eof || p->up_len == sizeof(p->up))
	return (0);
    n = read(p->plain, p->up + p->up_len, sizeof(p->up) - p->up_len);
    if (n > 0) {
	p->up_len += (size_t) n;
	return (1);
    }
    if (n == 0) {
	p->plain_eof = 1;
	return (1);
    }
    if (errno == EAGAIN || errno == EINTR) {
	p->want_plain |= POLLIN;
	return (0);
    }
    p->stats->end = "socket error";
    return (-1);
}

/* to_server - send what rrelay wrote; 1 on progress, -1 at an end */

static int to_server(struct pump *p)
{
    int     ret;
    int     want;

    if (p->up_len == 0)
	return (0);
    ret = SSL_write(p->ssl, p->up, (int) p->up_len);
    if (ret > 0) {
	memmove(p->up, p->up + ret, p->up_len - (size_t) ret);
	p->up_len -= (size_t) ret;
	p->stats->up += (unsigned long long) ret;
	return (1);
    }
    if ((want = ssl_want(p, ret)) <= 0)
	return (-1);				/* nothing more can be sent */
    p->want_tcp |= (short) want;
    return (0);
}

/* from_server - read what the server sent; 1 on progress, -1 at an end */

static int from_server(struct pump *p)
{
    int     ret;
    int     want;

    if (p->tls_eof || p->down_len > 0)
	return (0);
    ret = SSL_read(p->ssl, p->down, sizeof(p->down));
    if (ret > 0) {
	p->down_off = 0;
	p->down_len = (size_t) ret;
	if (p->first_read) {
	    p->first_read(p->ctx);
	    p->first_read = 0;
	}
	return (1);
    }
    if ((want = ssl_want(p, ret)) <= 0) {
	p->tls_eof = 1;
	return (want == 0 ? 1 : -1);		/* closed: pass on what came */
    }
    p->want_tcp |= (short) want;
    return (0);
}

/* to_plain - pass on what the server sent; 1 on progress, -1 at an end */

static int to_plain(struct pump *p)
{
    ssize_t n;

    if (p->down_len == 0)
	return (0);
    n = write(p->plain, p->down + p->down_off, p->down_len);
    if (n > 0) {
	p->down_off += (size_t) n;
	p->down_len -= (size_t) n;
	p->stats->down += (unsigned long long) n;
	return (1);
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
	p->want_plain |= POLLOUT;
	return (0);
    }
    p->stats->end = "client closed";
    return (-1);
}

/* turn - one pass each way; 1 on progress, 0 when stalled, -1 at an end */

static int turn(struct pump *p)
{
    int     steps[4];
    int     i;
    int     moved = 0;

    p->want_plain = p->want_tcp = 0;
    steps[0] = from_plain(p);
    steps[1] = steps[0] < 0 ? -1 : to_server(p);
    steps[2] = steps[1] < 0 ? -1 : from_server(p);
    steps[3] = steps[2] < 0 ? -1 : to_plain(p);
    for (i = 0; i < 4; i++) {
	if (steps[i] < 0)
	    return (-1);
	moved |= steps[i];
    }
    if (p->plain_eof && p->up_len == 0) {
	p->stats->end = "client closed";
	return (-1);
    }
    if (p->tls_eof && p->down_len == 0)
	return (-1);
    return (moved);
}

/* tls_proxy_run - carry bytes both ways until an end */

void    tls_proxy_run(int plain, SSL *ssl, int tcp, long idle_ms,
		              void (*first_read) (void *), void *ctx,
		              struct tls_proxy_stats *stats)
{
    static struct pump p;
    struct pollfd pfd[2];
    long long last = netio_now_ms();
    long long left;
    int     status;

    memset(&p, 0, sizeof(p));
    memset(stats, 0, sizeof(*stats));
    stats->end = "idle";
    p.plain = plain;
    p.tcp = tcp;
    p.ssl = ssl;
    p.first_read = first_read;
    p.ctx = ctx;
    p.stats = stats;
    while ((status = turn(&p)) >= 0) {
	if (status > 0) {
	    last = netio_now_ms();
	    continue;
	}
	if ((left = last + idle_ms - netio_now_ms()) <= 0) {
	    stats->end = "idle";
	    break;
	}
	pfd[0].fd = plain;
	pfd[0].events = p.want_plain;
	pfd[1].fd = tcp;
	pfd[1].events = p.want_tcp;
	if (poll(pfd, 2, left > 60000 ? 60000 : (int) left) < 0
	    && errno != EINTR) {
	    stats->end = "socket error";
	    break;
	}
    }
    if (strcmp(stats->end, "client closed") == 0)
	(void) SSL_shutdown(ssl);
}
