/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	cache_tls 3
 * SUMMARY
 *	rrelay-cache as the TLS end of rrelay's connections
 * SYNOPSIS
 *	#include "cache/cache_tls.h"
 *
 *	int	cache_tls_serve(conf, client, req, tcp, running, forget, ctx)
 * DESCRIPTION
 *	A TLS connection's state lives in the process that made the
 *	handshake, so rrelay can't hand a TLS connection to the cache the
 *	way it hands a plaintext one. Instead, as Postfix's tlsproxy(8)
 *	does for smtp(8), the cache becomes the TLS end: rrelay connects,
 *	reads the greeting, says EHLO and STARTTLS, and passes the TCP
 *	socket with a TLS_START request that names its whole TLS policy.
 *	The cache makes the handshake and answers TLS_DONE with one end of
 *	a socketpair, on which rrelay goes on in plaintext (EHLO again,
 *	MAIL, ...), and with what the handshake gave: protocol, cipher,
 *	whether the server was verified. rrelay decides from its level
 *	what that means, as it does for its own handshakes. After the
 *	delivery rrelay hands the plaintext end to the cache like any
 *	idle connection, and the next delivery to that host and policy
 *	takes it: no connect, no greeting, no handshake.
 *
 *	cache_tls_serve() answers one TLS_START from client: with
 *	TLS_DECLINE when tcp is not a TCP stream socket, when running TLS
 *	ends are already tls_proxy_limit, or when the fork fails (rrelay
 *	then makes the handshake itself, on its own copy of the socket),
 *	else it forks a process that owns the
 *	connection from then on. A blocking tcp is made non-blocking
 *	first (cache_stream_socket()), so that the handshake's wait keeps
 *	its time limit and no TLS end holds a tls_proxy_limit slot until
 *	a silent peer speaks. It closes tcp; it returns 1 when the
 *	child answers client (the caller then forgets the client), 0 when
 *	it answered, -1 when even that failed.
 *
 *	The child first calls forget(ctx), which wipes what it inherited of
 *	the cache's tables (the TLS sessions kept for every other server,
 *	the keys of idle connections), so a TLS end holds its own
 *	connection and nothing of anyone else's; it asks the cache for its
 *	own server's session like any client. It closes every descriptor
 *	but its two and the log's. It
 *	builds its OpenSSL context from the request's files (same uid as
 *	rrelay, so it reads what rrelay would), offers a TLS session kept
 *	in the cache for that server and policy, and makes the handshake
 *	within the request's wait. A failure is TLS_FAIL with the reason;
 *	a context that can't be built is TLS_DECLINE, so that rrelay
 *	reports its own configuration problem. After TLS_DONE it carries
 *	bytes both ways (tls_proxy.c) until rrelay or the server closes,
 *	or the request's idle time passes, then exits. Its session is
 *	kept in the cache after the first reply, when the policy accepts
 *	it. It logs the handshake, and at debug level its end.
 *
 *	The child ignores SIGTERM: a delivery it carries goes on to its
 *	end; the cache's QUIT to an idle connection ends the others. So
 *	stopping or killing the cache loses no delivery that is under way.
 *--*/

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "ipc/cache_sock.h"
#include "cache/cache_tls.h"
#include "net/netio.h"
#include "net/ossl.h"
#include "tls/tls.h"
#include "cache/tls_proxy.h"
#include "tls/tls_resume.h"
#include "conf/tlspolicy.h"

#define LINGER_MS	30000		/* for rrelay to close, after a half close */

/* What a TLS end keeps, for its first read. */
struct tls_end {
    const struct rrconfig *conf;
    char    key[CACHE_KEY_MAX];		/* its session's */
    SSL    *ssl;
};

/* printable - what the protocol's text fields allow: printable ASCII */

static void printable(char *text)
{
    unsigned char *cp;

    for (cp = (unsigned char *) text; *cp; cp++)
	if (*cp < 0x20 || *cp > 0x7e)
	    *cp = '?';
}

/* answer - a TLS_FAIL or TLS_DECLINE (no descriptor) with why */

static int answer(int client, const struct cache_msg *req,
		          enum cache_type type, const char *why)
{
    struct cache_msg msg;

    cache_msg_init(&msg, type);
    memcpy(msg.key, req->key, sizeof(msg.key));
    snprintf(msg.tls.text, sizeof(msg.tls.text), "%s", why);
    printable(msg.tls.text);
    return (cache_send(client, &msg, -1));
}

/* keep_only - close every descriptor above stderr but the three given */

static void keep_only(int a, int b, int c)
{
    int     keep[3] = {a, b, c};
    unsigned from = 3;
    int     i;
    int     j;
    int     t;

    for (i = 0; i < 3; i++)			/* sort the three */
	for (j = i + 1; j < 3; j++)
	    if (keep[j] < keep[i]) {
		t = keep[i];
		keep[i] = keep[j];
		keep[j] = t;
	    }
    for (i = 0; i < 3; i++) {
	if (keep[i] < (int) from)
	    continue;
	if ((unsigned) keep[i] > from)
	    (void) close_range(from, (unsigned) keep[i] - 1, 0);
	from = (unsigned) keep[i] + 1;
    }
    (void) close_range(from, ~0U, 0);
}

/* child_signals - default dispositions, SIGTERM ignored, nothing blocked */

static void child_signals(void)
{
    sigset_t none;

    signal(SIGCHLD, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_IGN);
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, 0);
}

/* policy_conf - the cache's settings with the request's TLS files */

static void policy_conf(struct rrconfig *conf, const struct cache_tls *t)
{
    conf->tls_ca_file = (char *) t->ca_file;
    conf->tls_ca_path = (char *) t->ca_path;
    conf->tls_cert_file = (char *) t->cert_file;
    conf->tls_key_file = (char *) t->key_file;
    conf->tls_protocols = (char *) t->protocols;
}

/* keep_session - the first reply came: keep the session for next time */

static void keep_session(void *ctx)
{
    struct tls_end *end = ctx;

    tls_resume_keep(end->conf, end->key, end->ssl);
}

/* result - a TLS_DONE that says what the handshake gave */

static void result(const struct cache_msg *req, SSL *ssl,
		           struct cache_msg *msg, struct tls_info *info)
{
    cache_msg_init(msg, CACHE_TLS_DONE);
    memcpy(msg->key, req->key, sizeof(msg->key));
    tls_describe(ssl, info);
    msg->tls.flags = CACHE_TLS_ACTIVE
	| (info->peer_cert ? CACHE_TLS_PEER_CERT : 0)
	| (info->verified ? CACHE_TLS_VERIFIED : 0)
	| (tls_resumed(ssl) ? CACHE_TLS_RESUMED : 0);
    (void) cache_msg_text(msg->tls.version, sizeof(msg->tls.version),
			  info->version, 0);
    (void) cache_msg_text(msg->tls.cipher, sizeof(msg->tls.cipher),
			  info->cipher, 0);
    snprintf(msg->tls.text, sizeof(msg->tls.text), "%s", info->verify_error);
    printable(msg->tls.text);
}

/* handshake - the TLS handshake on tcp, under the request's policy; ssl or 0 */

static SSL *handshake(struct tls_end *end, const struct cache_msg *req,
		              int client, int tcp, struct netio *io)
{
    const struct cache_tls *t = &req->tls;
    const char *names = t->match[0] ? t->match : 0;
    struct tls_peer peer = {req->relay, (int) t->level, t->sni, names};
    long long deadline = netio_now_ms() + t->wait_ms;
    char    why[300];
    SSL    *ssl;

    if ((ssl = tls_prepare(end->conf, t->sni, names, why, sizeof(why))) == 0) {
	(void) answer(client, req, CACHE_TLS_DECLINE, why);
	return (0);
    }
    (void) tls_resume_offer(end->conf, &peer, ssl, deadline, end->key,
			    sizeof(end->key));
    memset(io, 0, sizeof(*io));
    io->fd = tcp;
    if (netio_tls_start(io, ssl, deadline, why, sizeof(why)) != NETIO_OK) {
	log_info("TLS end for %s: %s", req->relay, why);
	(void) answer(client, req, CACHE_TLS_FAIL, why);
	return (0);
    }
    return (ssl);
}

/* hand_over - TLS_DONE with the plaintext end; the other end, or -1 */

static int hand_over(const struct cache_msg *req, int client, SSL *ssl,
		             struct tls_info *info)
{
    struct cache_msg msg;
    int     pair[2];
    int     status;

    result(req, ssl, &msg, info);
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
		   pair) < 0) {
	(void) answer(client, req, CACHE_TLS_FAIL, "rrelay-cache: socketpair "
		      "failed");
	return (-1);
    }
    status = cache_send(client, &msg, pair[0]);
    (void) close(pair[0]);
    if (status < 0) {
	log_warn("TLS end for %s: could not answer rrelay: %s", req->relay,
		 strerror(errno));
	(void) close(pair[1]);
	return (-1);
    }
    return (pair[1]);
}

/*
 * linger - the server's end (or an error, or idle) reaches rrelay as a
 * half close: write side shut, the socket kept open until rrelay closes
 * it (what it writes meanwhile is dropped), at most LINGER_MS. A TLS end
 * that dies closes both sides at once, so rrelay can tell the two apart.
 */

static void linger(int plain)
{
    char    buf[4096];
    struct pollfd pfd;
    long long until = netio_now_ms() + LINGER_MS;
    long long left;
    ssize_t n;

    (void) shutdown(plain, SHUT_WR);
    pfd.fd = plain;
    pfd.events = POLLIN;
    while ((left = until - netio_now_ms()) > 0) {
	if (poll(&pfd, 1, (int) left) < 0 && errno != EINTR)
	    break;
	n = read(plain, buf, sizeof(buf));
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
	    break;				/* rrelay closed it */
    }
}

/* child - the TLS end of one connection, for its whole life */

static void __attribute__((noreturn)) child(const struct rrconfig *conf,
				               int client, const struct cache_msg *req, int tcp,
				               void (*forget) (void *), void *forget_ctx)
{
    struct rrconfig mine = *conf;
    struct tls_end end = {&mine, "", 0};
    struct tls_proxy_stats stats;
    struct tls_info info;
    struct netio io;
    int     plain;

    child_signals();
    forget(forget_ctx);
    keep_only(client, tcp, log_file_fd());
    log_reconnect();
    policy_conf(&mine, &req->tls);
    if ((end.ssl = handshake(&end, req, client, tcp, &io)) == 0
	|| (plain = hand_over(req, client, end.ssl, &info)) < 0)
	_exit(0);
    (void) close(client);
    log_info("%s TLS connection established to %s: %s with cipher %s%s",
	     info.verified ? "Verified" : info.peer_cert ? "Untrusted" :
	     "Anonymous", req->relay, info.version, info.cipher,
	     tls_resumed(end.ssl) ? " (session resumed)" : "");
    tls_proxy_run(plain, end.ssl, tcp, (long) req->tls.idle_ms,
		  req->tls.level < TLS_VERIFY || info.verified ? keep_session :
		  0, &end, &stats);
    log_debug("TLS end for %s closed (%s) after %llu bytes out, %llu in",
	      req->relay, stats.end, stats.up, stats.down);
    if (strcmp(stats.end, "client closed") != 0)
	linger(plain);
    (void) close(plain);
    _exit(0);
}

/* cache_tls_serve - a TLS end for one connection, or a refusal */

int     cache_tls_serve(const struct rrconfig *conf, int client,
			        const struct cache_msg *req, int tcp,
			        int running, void (*forget) (void *),
			        void *forget_ctx)
{
    pid_t   pid;
    int     status = 0;

    if (!cache_stream_socket(tcp, 0)) {
	log_warn("TLS end for %s declined: the descriptor is not a TCP "
		 "stream socket", req->relay);
	status = answer(client, req, CACHE_TLS_DECLINE, "the descriptor is "
			"not a TCP stream socket");
    } else if (running >= conf->tls_proxy_limit) {
	log_warn("TLS end for %s declined: %d TLS connections open, "
		 "tls_proxy_limit is %ld", req->relay, running,
		 conf->tls_proxy_limit);
	status = answer(client, req, CACHE_TLS_DECLINE, "tls_proxy_limit "
			"reached");
    } else if ((pid = fork()) < 0) {
	log_warn("TLS end for %s declined: fork: %s", req->relay,
		 strerror(errno));
	status = answer(client, req, CACHE_TLS_DECLINE, "fork failed");
    } else if (pid == 0) {
	child(conf, client, req, tcp, forget, forget_ctx);
    } else {
	status = 1;
    }
    (void) close(tcp);
    return (status);
}
