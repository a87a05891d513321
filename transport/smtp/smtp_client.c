/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	smtp_client 3
 * SUMMARY
 *	one SMTP session with one destination
 * SYNOPSIS
 *	#include "smtp/smtp_client.h"
 *
 *	void	smtp_deliver(dest, req, res)
 * DESCRIPTION
 *	smtp_deliver() connects to the destination (trying each of its
 *	addresses), and offers the message to the recipients of req that
 *	are still RCPT_PENDING. The protocol is an explicit state machine
 *	(CONNECT, GREETING, EHLO, HELO, MAIL, RCPT, DATA, BODY, DOT,
 *	QUIT), and every wait in a state ends at that state's timeout
 *	(connect_timeout; command_timeout; data_timeout for the body and
 *	the reply to the final dot) or the run's deadline, whichever
 *	comes first.
 *
 *	On the wire: EHLO, or HELO when EHLO gets a 5xx; STARTTLS and EHLO
 *	again, as the destination's TLS level asks (or TLS from the start,
 *	"wrapper", port 465 style); AUTH when auth_file has credentials
 *	for the destination; PIPELINING, SIZE=, BODY=8BITMIME and SMTPUTF8
 *	when offered and needed; the body through wire_convert(), its
 *	last block and the final dot in one write; QUIT, without waiting
 *	for the reply (as Postfix's smtp_skip_quit_response = yes).
 *
 *	TLS levels, as in Postfix: "none" never starts TLS. "may" uses
 *	STARTTLS when offered, does not verify, and when the handshake
 *	fails tries the host once more in plaintext. "encrypt" requires
 *	TLS; "verify" also a trusted certificate whose name matches the
 *	host as written; "secure" one that matches the policy's match=
 *	names. A server without STARTTLS, a failed handshake or a failed
 *	verification is host trouble at those levels: the message is never
 *	sent in plaintext. Bytes that follow the reply to STARTTLS before
 *	the handshake (the STARTTLS command-injection attack) are host
 *	trouble too, and the capabilities learned before TLS are dropped.
 *
 *	Credentials are sent only over TLS, unless the level is "none"; a
 *	failed AUTH is host trouble with DSN 4.7.8, never a bounce, and the
 *	credentials appear in no log line.
 *
 *	Each recipient's state is updated and logged per attempt, in
 *	Postfix's form:
 *
 *	    2xx at the final dot	RCPT_SENT
 *	    4xx to MAIL/RCPT/DATA/dot	stays RCPT_PENDING, with the reply
 *					as its reason: the next host may take it
 *	    5xx				RCPT_PERM
 *	    no reply to the final dot	RCPT_TEMP and final: the server may
 *					have the message, another host would
 *					duplicate it
 *
 *	With rrelay-cache (cache_client.c): before connecting, a session
 *	without AUTH or implicit TLS takes the cache's idle connection
 *	for exactly this destination, TLS level, HELO name and (for "may"
 *	and up, with tls_connection_reuse) TLS policy, if there is one,
 *	and starts with the EHLO keywords that came with it. Before MAIL
 *	FROM it makes sure the connection is sound, as smtp(8) does with a
 *	cached session: no input may be waiting (a stale line such as an
 *	unsolicited 550 after the last 250 to the final dot would be read
 *	as the reply to MAIL FROM; a close or an error shows here too),
 *	and RSET must get one 250 and nothing more.
 *	For STARTTLS such a session asks the cache to be its TLS end
 *	(smtp_starttls.c, cache_tls.c): then it goes on in plaintext on
 *	a socket to the cache, with what the cache's handshake gave. If
 *	a reused connection fails that check or fails before MAIL FROM is
 *	accepted (lost, 421, timeout), or the cache took a connection for its TLS end and
 *	gave no answer, it is closed and a fresh one made, logged at
 *	debug level only: the host is not blamed. After a 250
 *	to the final dot with nothing left to read or send, the
 *	connection goes to the cache instead of QUIT. Recipient lines
 *	then show conn_use=N when N > 1, as smtp(8)'s do. A TLS session
 *	the policy accepted is kept in the cache too (tls_resume.c), and
 *	the next handshake with the same server and policy resumes it.
 *
 *	res->host is SMTP_HOST_DOWN when the host itself is in trouble:
 *	no address, connect failure or timeout, a greeting or EHLO/HELO
 *	that is not 2xx, 421 at any stage, a lost connection, a timeout
 *	or a malformed reply. The caller marks it down and moves on.
 *	res->reached tells that the host completed EHLO/HELO.
 *
 *	This file drives the state machine and talks to rrelay-cache;
 *	smtp_hello.c has the states up to MAIL FROM (smtp_starttls.c
 *	STARTTLS and the handshakes), smtp_data.c the mail
 *	transaction, smtp_chat.c the replies and commands under them, and
 *	smtp_session.h the session they share.
 *--*/

#include <errno.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "msg/address.h"
#include "ipc/cache_client.h"
#include "net/netio.h"
#include "smtp/resolve.h"
#include "smtp/smtp_auth.h"
#include "smtp/smtp_client.h"
#include "smtp/smtp_session.h"
#include "net/smtp_reply.h"
#include "tls/tls.h"
#include "tls/tls_resume.h"
#include "conf/tlspolicy.h"
#include "smtp/wire.h"

/* session_key - the session's cache key; -1 when it is never cached */

static int session_key(struct session *s, const struct dest *dest)
{
    char    policy[CACHE_KEY_MAX];
    const char *names = s->level == TLS_SECURE && s->match ? s->match : 0;
    int     status;

    policy[0] = 0;
    if (s->wrapper || s->cred)
	status = -1;				/* their TLS or AUTH is ours */
    else if (s->req->no_keep)
	status = -1;				/* max_connections counts it */
    else if (s->level >= TLS_MAY && s->conf->tls_conn_reuse)
	status = tls_resume_policy(s->conf, s->level, names, policy,
				   sizeof(policy));
    else
	status = s->level > TLS_MAY ? -1 : 0;	/* "may" stays plaintext */
    if (status < 0 || cache_key(s->cache.key, sizeof(s->cache.key),
				dest->text, s->level, s->conf->helo_name,
				policy) < 0) {
	s->cache.key[0] = 0;
	return (-1);
    }
    return (0);
}

/* fits_level - a cached connection meets the level (the key says so; be sure) */

static int fits_level(const struct session *s, const struct cache_conn *conn)
{
    if (s->level >= TLS_ENCRYPT && !(conn->tls.flags & CACHE_TLS_ACTIVE))
	return (0);
    if (s->level >= TLS_VERIFY && !(conn->tls.flags & CACHE_TLS_VERIFIED))
	return (0);
    return (1);
}

/* reuse - rrelay-cache's idle connection to this destination, if any */

static int reuse(struct session *s, const struct dest *dest)
{
    struct cache_conn conn;
    struct smtp_reply reply;
    char   *bracket;

    s->cache.use = 1;
    if (session_key(s, dest) < 0
	|| cache_get(s->conf, s->cache.key, s->req->deadline_ms, &conn) == 0)
	return (0);
    if (!fits_level(s, &conn)) {
	log_warn("%s: rrelay-cache gave a connection to %s that does not "
		 "meet TLS level %d; closed it", s->req->queue_id, conn.relay,
		 s->level);
	(void) close(conn.fd);
	return (0);
    }
    s->io.fd = conn.fd;
    s->cache.reused = 1;
    s->cache.use = conn.use + 1;
    snprintf(s->res->relay, sizeof(s->res->relay), "%s", conn.relay);
    snprintf(s->res->addr, sizeof(s->res->addr), "%s", conn.addr);
    snprintf(s->name_buf, sizeof(s->name_buf), "%s", conn.relay);
    if ((bracket = strchr(s->name_buf, '[')) != 0)
	*bracket = 0;
    s->name = s->name_buf;
    if (conn.tls.flags & CACHE_TLS_ACTIVE)
	smtp_tls_end_learn(s, &conn.tls);
    reply_init(&reply);
    reply.ext = s->ext;
    reply.ext_count = cache_ext_split(conn.ext, s->ext, EXT_MAX);
    smtp_learn_features(s, &reply);
    s->res->reached = 1;
    smtp_after_hello(s);
    if (s->state == S_MAIL)
	s->state = S_RSET;			/* first, is it still sound? */
    return (1);
}

/* step_rset - a reused connection: nothing unread, and RSET answered 250 */

static void step_rset(struct session *s)
{
    struct smtp_reply reply;
    const char *why = 0;

    if (netio_input_waiting(&s->io))
	why = "input was waiting before RSET";
    else if (smtp_command(s, "RSET\r\n%s", "", &reply) < 0)
	why = 0;				/* smtp_io_fail() said why */
    else if (reply.code != 250)
	why = reply.text;
    else if (netio_input_waiting(&s->io))
	why = "more than one reply to RSET";
    else {
	s->state = S_MAIL;
	return;
    }
    if (why)
	snprintf(s->res->error, sizeof(s->res->error), "%s", why);
    s->cache.stale = 1;				/* a new connection, no blame */
    s->state = S_DONE;
}

/* stash - give a delivered, idle connection to rrelay-cache */

static int stash(struct session *s)
{
    struct cache_conn conn;
    int     tls_end = (s->tls_end.flags & CACHE_TLS_ACTIVE) != 0;

    memset(&conn, 0, sizeof(conn));
    if (!s->res->delivered || !s->cache.key[0] || s->io.ssl || s->cmdlen
	|| netio_input_waiting(&s->io)
	|| (!tls_end && s->level != TLS_NONE && s->feat.starttls)
	|| cache_ext_join(s->ext, s->ext_count, conn.ext,
			  sizeof(conn.ext)) < 0)
	return (0);
    netio_ack_now(&s->io);			/* see netio.c */
    conn.fd = s->io.fd;
    conn.use = s->cache.use;
    conn.tls = s->tls_end;
    snprintf(conn.relay, sizeof(conn.relay), "%s", s->res->relay);
    snprintf(conn.addr, sizeof(conn.addr), "%s", s->res->addr);
    if (cache_put(s->conf, s->cache.key, &conn) < 0)
	return (0);
    s->io.fd = -1;				/* the cache has it now */
    return (1);
}

/* quit_reply - wait for the reply to QUIT: the server has ended the session */

static void quit_reply(struct session *s, long long deadline)
{
    char    line[REPLY_LINE_MAX + 1];
    size_t  len;

    if (deadline > netio_now_ms() + QUIT_REPLY_MS)
	deadline = netio_now_ms() + QUIT_REPLY_MS;
    (void) netio_read_line(&s->io, line, sizeof(line), &len, deadline);
}

/*
 * step_quit - say goodbye; as Postfix's smtp(8), don't wait for the answer,
 * except to a host with max_connections: its session slot is given back
 * only once the server has seen the QUIT, so that it never counts more.
 */

static void step_quit(struct session *s)
{
    long long deadline = netio_now_ms() + QUIT_WAIT_MS;

    if (deadline > s->req->deadline_ms)
	deadline = s->req->deadline_ms;
    if (s->io.ssl && s->res->reached && s->res->host == SMTP_HOST_OK
	&& (s->level < TLS_VERIFY || s->res->tls_verified))
	tls_resume_keep(s->conf, s->cache.tls_key, s->io.ssl);
    if (!stash(s) && netio_write(&s->io, "QUIT\r\n", 6, deadline) == NETIO_OK
	&& s->req->no_keep)
	quit_reply(s, deadline);
    s->state = S_DONE;
}

/* run - drive the state machine until it is done */

static void run(struct session *s)
{
    while (s->state != S_DONE) {
	switch (s->state) {
	case S_GREETING:
	    smtp_step_greeting(s);
	    break;
	case S_EHLO:
	    smtp_step_ehlo(s);
	    break;
	case S_HELO:
	    smtp_step_helo(s);
	    break;
	case S_STARTTLS:
	    smtp_step_starttls(s);
	    break;
	case S_AUTH:
	    smtp_step_auth(s);
	    break;
	case S_RSET:
	    step_rset(s);
	    break;
	case S_MAIL:
	    smtp_step_mail(s);
	    break;
	case S_RCPT:
	    smtp_step_rcpt(s);
	    break;
	case S_DATA:
	    smtp_step_data(s);
	    break;
	case S_BODY:
	    smtp_step_body(s);
	    break;
	case S_DOT:
	    smtp_step_dot(s);
	    break;
	case S_QUIT:
	    step_quit(s);
	    break;
	default:
	    log_error("smtp_client: impossible state %d", (int) s->state);
	    abort();
	}
    }
}

/* afresh - a reused connection failed before MAIL, or rrelay-cache lost
 * a TLS handshake: a new connection, no blame */

static void afresh(struct session *s, const struct dest *dest)
{
    log_debug("%s: %s connection to %s failed before MAIL FROM was "
	      "accepted (%s); connecting afresh", s->req->queue_id,
	      s->cache.reused ? "reused" : "new", s->res->relay,
	      s->res->error[0] ? s->res->error : "421");
    netio_close(&s->io);
    memset(s->res, 0, sizeof(*s->res));
    memset(&s->tls_end, 0, sizeof(s->tls_end));
    s->helo[0] = 0;
    s->cache.reused = s->cache.stale = 0;
    s->cache.use = 1;
    s->state = S_CONNECT;
    smtp_do_connect(s, dest);
    run(s);
}

/* smtp_deliver - one session with one destination */

void    smtp_deliver(const struct dest *dest, struct smtp_request *req,
		             struct smtp_result *res)
{
    struct session s;
    const struct tls_policy_entry *policy;
    int     i;

    memset(res, 0, sizeof(*res));
    memset(&s, 0, sizeof(s));
    s.req = req;
    s.res = res;
    s.conf = req->conf;
    s.io.fd = -1;
    s.part = calloc((size_t) req->nrcpt + 1, sizeof(*s.part));
    s.accepted = calloc((size_t) req->nrcpt + 1, 1);
    if (s.part == 0 || s.accepted == 0) {
	snprintf(res->error, sizeof(res->error), "out of memory");
	goto out;
    }
    for (i = 0; i < req->nrcpt; i++)
	if (req->rcpts[i].state == RCPT_PENDING && !req->rcpts[i].final)
	    s.part[s.npart++] = i;
    if (s.npart == 0)
	goto out;
    policy = tlspolicy_find(req->conf->tls_policy, dest->text);
    s.level = policy ? policy->level : req->conf->tls_security_level;
    s.wrapper = policy && policy->wrapper;
    s.match = policy && policy->match[0] ? policy->match : 0;
    s.cred = authfile_find(req->conf->auth, dest->text);
    s.state = S_CONNECT;
    if (!reuse(&s, dest))
	smtp_do_connect(&s, dest);
    run(&s);
    if (s.cache.stale && !res->deadline)
	afresh(&s, dest);
    if (res->tls_retry && !res->deadline) {
	log_info("%s: %s; trying %s again without TLS, as security level "
		 "\"may\" allows", req->queue_id, res->error, res->relay);
	netio_close(&s.io);
	memset(res, 0, sizeof(*res));
	memset(&s.feat, 0, sizeof(s.feat));
	memset(&s.tls_end, 0, sizeof(s.tls_end));
	s.no_tls = 1;
	s.state = S_CONNECT;
	smtp_do_connect(&s, dest);
	run(&s);
    }

out:
    netio_close(&s.io);
    free(s.part);
    free(s.accepted);
}
