/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	cache_client 3
 * SUMMARY
 *	rrelay's side of rrelay-cache
 * SYNOPSIS
 *	#include "ipc/cache_client.h"
 *
 *	int	cache_key(buf, len, dest, level, helo, policy)
 *
 *	int	cache_get(conf, key, deadline_ms, conn)
 *
 *	int	cache_put(conf, key, conn)
 *
 *	int	cache_session_get(conf, key, deadline_ms, buf, size, len)
 *
 *	int	cache_session_put(conf, key, buf, len, lifetime)
 *
 *	int	cache_tls_start(conf, key, relay, addr, fd, tls, deadline_ms,
 *				plain, why, whylen)
 *
 *	int	cache_ext_join(ext, count, buf, len)
 *
 *	int	cache_ext_split(text, ext, max)
 *
 *	void	cache_client_reset()
 * DESCRIPTION
 *	rrelay asks rrelay-cache (on the socket cache_socket) for an idle
 *	connection before it connects to the host that round-robin
 *	picked, and gives it one after a delivery instead of QUIT. Every
 *	failure here only means "no cache": an absent socket, a refused
 *	connection, a cache that does not answer within CACHE_WAIT_MS,
 *	or an answer the protocol does not allow, and a cache it does not
 *	trust: one that runs as neither rrelay's effective uid nor root
 *	(SO_PEERCRED), or whose socket's directory is not owned by that
 *	uid or may be written to by others (then anyone could have put a
 *	socket there). That last case is logged once, as a warning; a
 *	fake cache could otherwise take the mail and claim verified TLS.
 *	Then rrelay connects
 *	or sends QUIT as it does without a cache. After a cache that was
 *	not there or did not answer, the process asks it nothing more, so
 *	a host without the cache pays one failed connect per delivery. Each question uses
 *	its own connection to the cache, so the cache can close the ones
 *	that stay idle.
 *
 *	cache_key() writes the key of a session: the destination as
 *	round-robin picked it, the TLS level, the HELO name and, for a
 *	session that may use TLS, the rest of its TLS policy (policy, from
 *	tls_resume_policy(): names, files, protocols), so that a
 *	connection is never reused under another policy. -1 when that
 *	does not fit a key: such a session is not cached.
 *
 *	cache_get() returns 1 with a connection (conn->fd, an open,
 *	non-blocking TCP socket that has carried conn->use deliveries,
 *	with what its EHLO offered) for exactly key, or 0. When the cache
 *	is its TLS end (conn->tls.flags has CACHE_TLS_ACTIVE), conn->fd is
 *	the plaintext unix socket, and conn->tls tells what its handshake
 *	gave. cache_put() carries the same back.
 *
 *	cache_put() hands conn->fd to the cache and closes it: 0. -1 if
 *	the cache could not take it; the caller still owns it then.
 *
 *	cache_session_get() returns 1 with a TLS session (the bytes of
 *	i2d_SSL_SESSION()) kept for exactly key, or 0. cache_session_put()
 *	gives one to the cache for lifetime seconds: 0, or -1.
 *
 *	cache_tls_start() asks the cache to be the TLS end of the TCP
 *	connection fd (after the server's 220 to STARTTLS) under the policy
 *	in tls (see cache_tls.c), and waits for the handshake's outcome
 *	up to tls->wait_ms, one second more, and the deadline:
 *	TLS_END_DONE, with the plaintext end in plain and the result in
 *	tls (the caller then closes fd); TLS_END_FAIL, the handshake
 *	failed (why; the connection is spent); TLS_END_NONE, the cache
 *	is not there or declined (why, maybe) and did not touch the
 *	connection, so the caller makes the handshake itself; TLS_END_LOST,
 *	the cache took the connection but gave no valid answer, so its
 *	state is unknown: the caller must drop it, and the process asks
 *	the cache nothing more.
 *
 *	cache_client_reset() starts a new delivery in the same process
 *	(a delivery worker, worker.c): a cache that was not there or did
 *	not answer is asked again.
 *
 *	cache_ext_join() and cache_ext_split() turn the EHLO keyword
 *	lines into the text that travels with a connection and back;
 *	join returns -1 when they don't fit, split the number of lines.
 *--*/

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "ipc/cache_client.h"
#include "ipc/cache_sock.h"
#include "net/netio.h"

/* A use count the configuration allows must fit in a record. */
_Static_assert(REUSE_COUNT_MAX <= CACHE_USE_MAX, "reuse limit above the record's");

#define CACHE_WAIT_MS	1000		/* for the cache's answer */
#define CACHE_WHY_MAX	400		/* why a cache is not trusted */

static int cache_sock = -1;		/* one per question */
static int cache_gone;			/* absent or silent: leave it */

/* cache_key - "dest tls=LEVEL helo=NAME[ POLICY]" */

int     cache_key(char *buf, size_t len, const char *dest, int level,
		          const char *helo, const char *policy)
{
    struct cache_msg probe;
    int     n = snprintf(buf, len, "%s tls=%d helo=%s%s%s", dest, level, helo,
			 policy[0] ? " " : "", policy);

    if (n < 0 || (size_t) n >= len
	|| cache_msg_text(probe.key, sizeof(probe.key), buf, 0) < 0) {
	buf[0] = 0;
	return (-1);
    }
    return (0);
}

/* cache_client_reset - a new delivery in the same process: ask the cache again */

void    cache_client_reset(void)
{
    cache_gone = 0;
}

/* cache_drop - forget the connection to the cache */

static void cache_drop(void)
{
    if (cache_sock >= 0)
	(void) close(cache_sock);
    cache_sock = -1;
}

/* cache_open - connect to the cache, unless connected or known gone */

static int cache_open(const struct rrconfig *conf)
{
    struct sockaddr_un sun;
    char    why[CACHE_WHY_MAX];

    if (cache_sock >= 0)
	return (0);
    if (cache_gone || strlen(conf->cache_socket) >= sizeof(sun.sun_path))
	return (-1);
    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    memcpy(sun.sun_path, conf->cache_socket, strlen(conf->cache_socket));
    if ((cache_sock = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC
			     | SOCK_NONBLOCK, 0)) < 0)
	return (-1);
    if (connect(cache_sock, (struct sockaddr *) &sun, sizeof(sun)) < 0) {
	cache_drop();
	cache_gone = 1;
	return (-1);
    }
    if (!ipc_trusted(cache_sock, conf->cache_socket, why, sizeof(why))) {
	log_warn("not using the cache at %s: %s", conf->cache_socket, why);
	cache_drop();
	cache_gone = 1;				/* once per process */
	return (-1);
    }
    return (0);
}

/* await - the cache's answer, within wait_ms and the deadline */

static int await(long long deadline_ms, long wait_ms, struct cache_msg *msg,
		         int *fd)
{
    struct pollfd pfd;
    long long until = netio_now_ms() + wait_ms;
    long long left;
    char    why[100];
    int     status;

    if (until > deadline_ms)
	until = deadline_ms;
    pfd.fd = cache_sock;
    pfd.events = POLLIN;
    for (;;) {
	if ((left = until - netio_now_ms()) <= 0) {
	    log_warn("rrelay-cache did not answer within %ldms; going on "
		     "without it", wait_ms);
	    cache_gone = 1;
	    return (-1);
	}
	if (poll(&pfd, 1, (int) left) < 0 && errno != EINTR)
	    return (-1);
	if ((status = cache_recv(cache_sock, msg, fd, why, sizeof(why))) > 0)
	    return (0);
	if (status == 0 || errno != EAGAIN) {
	    if (status < 0)
		log_warn("bad answer from rrelay-cache: %s", why);
	    return (-1);
	}
    }
}

/* ask - one question (TAKE or SESS_TAKE); 1 with the answer, or 0 */

static int ask(const struct rrconfig *conf, enum cache_type type,
	               const char *key, long long deadline_ms,
	               struct cache_msg *msg, int *fd)
{
    enum cache_type hit = type == CACHE_TAKE ? CACHE_HIT : CACHE_SESS_HIT;

    *fd = -1;
    cache_msg_init(msg, type);
    if (cache_open(conf) < 0
	|| cache_msg_text(msg->key, sizeof(msg->key), key, 0) < 0)
	return (0);
    if (cache_send(cache_sock, msg, -1) < 0
	|| await(deadline_ms, CACHE_WAIT_MS, msg, fd) < 0
	|| (msg->type != hit && msg->type != CACHE_MISS)
	|| strcmp(msg->key, key) != 0) {
	if (*fd >= 0)
	    (void) close(*fd);
	*fd = -1;
	cache_drop();
	return (0);
    }
    cache_drop();				/* one question per connection */
    return (msg->type == hit);
}

/* cache_get - an idle connection for exactly key, or 0 */

int     cache_get(const struct rrconfig *conf, const char *key,
		          long long deadline_ms, struct cache_conn *conn)
{
    struct cache_msg msg;
    int     fd;

    conn->fd = -1;
    if (ask(conf, CACHE_TAKE, key, deadline_ms, &msg, &fd) == 0)
	return (0);
    if (!cache_stream_socket(fd, (msg.tls.flags & CACHE_TLS_ACTIVE) != 0)) {
	log_warn("rrelay-cache handed over something that is not the "
		 "socket it said; closed it");
	(void) close(fd);
	return (0);
    }
    conn->fd = fd;
    conn->use = msg.use;
    memcpy(conn->relay, msg.relay, sizeof(conn->relay));
    memcpy(conn->addr, msg.addr, sizeof(conn->addr));
    memcpy(conn->ext, msg.ext, sizeof(conn->ext));
    conn->tls = msg.tls;
    return (1);
}

/* cache_session_get - a TLS session for exactly key: 1 and its length */

int     cache_session_get(const struct rrconfig *conf, const char *key,
			          long long deadline_ms, unsigned char *buf,
			          size_t size, size_t *len)
{
    static struct cache_msg msg;
    int     fd;

    if (ask(conf, CACHE_SESS_TAKE, key, deadline_ms, &msg, &fd) == 0
	|| msg.blob_len > size)
	return (0);
    memcpy(buf, msg.blob, msg.blob_len);
    *len = msg.blob_len;
    return (1);
}

/* cache_session_put - keep a TLS session for lifetime seconds */

int     cache_session_put(const struct rrconfig *conf, const char *key,
			          const unsigned char *buf, size_t len,
			          long lifetime)
{
    static struct cache_msg msg;
    int     status = -1;

    cache_msg_init(&msg, CACHE_SESS_PUT);
    if (len >= 1 && len <= sizeof(msg.blob) && lifetime >= 1
	&& cache_msg_text(msg.key, sizeof(msg.key), key, 0) == 0
	&& cache_open(conf) == 0) {
	msg.lifetime = (uint32_t) (lifetime > CACHE_LIFE_MAX ?
				   CACHE_LIFE_MAX : lifetime);
	msg.blob_len = (uint32_t) len;
	memcpy(msg.blob, buf, len);
	status = cache_send(cache_sock, &msg, -1);
	cache_drop();
    }
    return (status);
}

/* cache_put - hand an idle connection to the cache */

int     cache_put(const struct rrconfig *conf, const char *key,
		          const struct cache_conn *conn)
{
    struct cache_msg msg;
    int     status = -1;

    cache_msg_init(&msg, CACHE_PUT);
    msg.use = conn->use;
    if (conn->use >= 1 && conn->use <= CACHE_USE_MAX
	&& cache_msg_text(msg.key, sizeof(msg.key), key, 0) == 0
	&& cache_msg_text(msg.relay, sizeof(msg.relay), conn->relay, 0) == 0
	&& cache_msg_text(msg.addr, sizeof(msg.addr), conn->addr, 0) == 0
	&& cache_msg_text(msg.ext, sizeof(msg.ext), conn->ext, 1) == 0) {
	msg.tls.flags = conn->tls.flags;	/* the result, not TLS_DONE's text */
	memcpy(msg.tls.version, conn->tls.version, sizeof(msg.tls.version));
	memcpy(msg.tls.cipher, conn->tls.cipher, sizeof(msg.tls.cipher));
	if (cache_open(conf) < 0)
	    return (-1);
	if ((status = cache_send(cache_sock, &msg, conn->fd)) == 0)
	    (void) close(conn->fd);
	cache_drop();				/* nothing more to ask */
    }
    return (status);
}

/* cache_tls_start - ask the cache to be the TLS end of fd; see above */

int     cache_tls_start(const struct rrconfig *conf, const char *key,
			        const char *relay, const char *addr, int fd,
			        struct cache_tls *tls, long long deadline_ms,
			        int *plain, char *why, size_t whylen)
{
    static struct cache_msg msg;
    int     got = -1;

    if (whylen > 0)
	why[0] = 0;				/* written on every path */

    *plain = -1;
    cache_msg_init(&msg, CACHE_TLS_START);
    msg.tls = *tls;
    if (cache_msg_text(msg.key, sizeof(msg.key), key, 0) < 0
	|| cache_msg_text(msg.relay, sizeof(msg.relay), relay, 0) < 0
	|| cache_msg_text(msg.addr, sizeof(msg.addr), addr, 0) < 0
	|| cache_open(conf) < 0)
	return (TLS_END_NONE);
    if (cache_send(cache_sock, &msg, fd) < 0) {
	cache_drop();
	return (TLS_END_NONE);
    }
    if (await(deadline_ms, (long) tls->wait_ms + CACHE_WAIT_MS, &msg, &got) < 0
	|| strcmp(msg.key, key) != 0
	|| (msg.type == CACHE_TLS_DONE && !cache_stream_socket(got, 1))
	|| (msg.type != CACHE_TLS_DONE && msg.type != CACHE_TLS_FAIL
	    && msg.type != CACHE_TLS_DECLINE)) {
	if (got >= 0)
	    (void) close(got);
	cache_drop();
	cache_gone = 1;				/* do TLS here from now on */
	return (TLS_END_LOST);
    }
    cache_drop();
    snprintf(why, whylen, "%s", msg.tls.text);
    if (msg.type == CACHE_TLS_DECLINE)
	return (TLS_END_NONE);
    *tls = msg.tls;
    if (msg.type == CACHE_TLS_FAIL)
	return (TLS_END_FAIL);
    *plain = got;
    return (TLS_END_DONE);
}

/* cache_ext_join - keyword lines into one text, or -1 */

int     cache_ext_join(char (*ext)[REPLY_EXT_LEN], int count, char *buf,
		               size_t len)
{
    size_t  used = 0;
    size_t  n;
    int     i;

    buf[0] = 0;
    for (i = 0; i < count; i++) {
	n = strnlen(ext[i], REPLY_EXT_LEN);
	if (n == REPLY_EXT_LEN || used + n + 2 > len)
	    return (-1);
	if (i > 0)
	    buf[used++] = '\n';
	memcpy(buf + used, ext[i], n);
	used += n;
	buf[used] = 0;
    }
    return (0);
}

/* cache_ext_split - one text into keyword lines; how many */

int     cache_ext_split(const char *text, char (*ext)[REPLY_EXT_LEN], int max)
{
    const char *end;
    size_t  n;
    int     count = 0;

    while (*text && count < max) {
	end = strchr(text, '\n');
	n = end ? (size_t) (end - text) : strlen(text);
	if (n >= REPLY_EXT_LEN)
	    n = REPLY_EXT_LEN - 1;
	memcpy(ext[count], text, n);
	ext[count++][n] = 0;
	text = end ? end + 1 : text + strlen(text);
    }
    return (count);
}
