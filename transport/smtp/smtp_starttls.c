/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	smtp_starttls 3
 * SUMMARY
 *	STARTTLS and the TLS handshake, made here or by rrelay-cache
 * SYNOPSIS
 *	#include "smtp/smtp_session.h"
 *
 *	void	smtp_after_hello(s)
 *	void	smtp_step_starttls(s)
 *	void	smtp_start_tls(s)
 *	void	smtp_tls_end_learn(s, tls)
 * DESCRIPTION
 *	smtp_after_hello() decides what follows a successful EHLO/HELO:
 *	STARTTLS when the level and the server allow it, a deferral when
 *	the level needs TLS and the server offers none, else AUTH or MAIL.
 *
 *	smtp_step_starttls() is the STARTTLS state: the command, a check
 *	that nothing follows the server's 220 (command injection), the
 *	handshake, then EHLO again.
 *
 *	smtp_start_tls() makes the handshake on the open connection (also
 *	for "wrapper", from the start). A session that rrelay-cache may
 *	keep (no AUTH, not wrapper) with tls_connection_reuse asks the
 *	cache to be its TLS end first (cache_tls.c): on TLS_DONE the
 *	session's socket becomes the cache's plaintext end; a failed
 *	handshake there is the same host trouble as one here; a cache that
 *	declines or is absent means rrelay makes the handshake itself; one
 *	that took the socket and gave no answer leaves the connection in an
 *	unknown state, so the session is marked stale and smtp_deliver()
 *	starts afresh, without the cache. Either way the result is judged
 *	by the level in one place: "verify" and "secure" need a verified
 *	server, else 4.7.5 host trouble.
 *
 *	smtp_tls_end_learn() takes the result of the cache's handshake, for
 *	a new TLS end or a reused connection whose TLS end the cache is.
 *--*/

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "ipc/cache_client.h"
#include "net/netio.h"
#include "smtp/smtp_session.h"
#include "tls/tls.h"
#include "tls/tls_resume.h"
#include "conf/tlspolicy.h"

/* tls_accept - what a finished handshake gave, against the level */

static void tls_accept(struct session *s, const struct tls_info *info,
		               int resumed, const char *names)
{
    char    why[300];

    tls_summary(info, s->res->tls, sizeof(s->res->tls));
    if (resumed)
	strncat(s->res->tls, " resumed", sizeof(s->res->tls)
		- strlen(s->res->tls) - 1);
    s->res->tls_active = 1;
    s->res->tls_verified = info->verified;
    memset(&s->feat, 0, sizeof(s->feat));
    if (s->level >= TLS_VERIFY && !info->verified) {
	snprintf(why, sizeof(why), "server certificate not trusted for %s: %s",
		 names ? names : s->name, info->verify_error);
	smtp_policy_down(s, "4.7.5", "%s: %s", why);
    }
}

/* smtp_tls_end_learn - the session's TLS end is rrelay-cache, with this result */

void    smtp_tls_end_learn(struct session *s, const struct cache_tls *t)
{
    struct tls_info info;

    s->tls_end = *t;
    memset(&info, 0, sizeof(info));
    info.active = 1;
    info.peer_cert = (t->flags & CACHE_TLS_PEER_CERT) != 0;
    info.verified = (t->flags & CACHE_TLS_VERIFIED) != 0;
    snprintf(info.version, sizeof(info.version), "%s", t->version);
    snprintf(info.cipher, sizeof(info.cipher), "%s", t->cipher);
    snprintf(info.verify_error, sizeof(info.verify_error), "%s",
	     t->text[0] ? t->text : "no server certificate");
    tls_accept(s, &info, (t->flags & CACHE_TLS_RESUMED) != 0,
	       s->level == TLS_SECURE && s->match ? s->match : 0);
}

/* tls_request - the TLS_START policy for this session; -1 if it does not fit or a file is relative */

static int tls_request(struct session *s, const char *names,
		               struct cache_tls *t)
{
    const struct rrconfig *c = s->conf;
    long long wait = smtp_state_deadline(s) - netio_now_ms();
    long    idle = (c->command_timeout > c->data_timeout ? c->command_timeout :
		    c->data_timeout) + c->cache_time_limit + 10;

    memset(t, 0, sizeof(*t));
    if ((c->tls_ca_file[0] && c->tls_ca_file[0] != '/')
	|| (c->tls_ca_path[0] && c->tls_ca_path[0] != '/')
	|| (c->tls_cert_file[0] && c->tls_cert_file[0] != '/')
	|| (c->tls_key_file[0] && c->tls_key_file[0] != '/'))
	return (-1);				/* the cache's cwd is not ours */
    t->level = (uint32_t) s->level;
    t->wait_ms = (uint32_t) (wait < 1 ? 1 : wait > CACHE_WAIT_MAX ?
			     CACHE_WAIT_MAX : wait);
    t->idle_ms = (uint32_t) (idle * 1000 > CACHE_WAIT_MAX ? CACHE_WAIT_MAX :
			     idle * 1000);
    return (cache_msg_text(t->sni, sizeof(t->sni), s->name, 0) < 0
	    || cache_msg_text(t->match, sizeof(t->match), names ? names : "",
			      0) < 0
	    || cache_msg_text(t->ca_file, sizeof(t->ca_file), c->tls_ca_file,
			      0) < 0
	    || cache_msg_text(t->ca_path, sizeof(t->ca_path), c->tls_ca_path,
			      0) < 0
	    || cache_msg_text(t->cert_file, sizeof(t->cert_file),
			      c->tls_cert_file, 0) < 0
	    || cache_msg_text(t->key_file, sizeof(t->key_file), c->tls_key_file,
			      0) < 0
	    || cache_msg_text(t->protocols, sizeof(t->protocols),
			      c->tls_protocols, 0) < 0 ? -1 : 0);
}

/* tls_by_cache - rrelay-cache as the TLS end: 1 when it settled the matter */

static int tls_by_cache(struct session *s, const char *names)
{
    struct cache_tls t;
    char    why[300];
    int     plain;

    if (!s->cache.key[0] || !s->conf->tls_conn_reuse || s->wrapper
	|| tls_request(s, names, &t) < 0)
	return (0);
    switch (cache_tls_start(s->conf, s->cache.key, s->res->relay,
			    s->res->addr, s->io.fd, &t, s->req->deadline_ms,
			    &plain, why, sizeof(why))) {
    case TLS_END_DONE:
	(void) close(s->io.fd);
	s->io.fd = plain;
	smtp_tls_end_learn(s, &t);
	return (1);
    case TLS_END_FAIL:
	if (s->level == TLS_MAY)
	    s->res->tls_retry = 1;
	smtp_host_down(s, "%s: %s", why);
	return (1);
    case TLS_END_LOST:
	s->cache.stale = 1;			/* a new connection, no blame */
	snprintf(s->res->error, sizeof(s->res->error), "rrelay-cache did not "
		 "finish the TLS handshake with %s", s->res->relay);
	s->state = S_DONE;
	return (1);
    default:
	if (why[0])
	    log_info("%s: rrelay-cache declined to be the TLS end for %s: %s",
		     s->req->queue_id, s->res->relay, why);
	return (0);
    }
}

/* smtp_start_tls - the TLS handshake on the open connection, here or by rrelay-cache */

void    smtp_start_tls(struct session *s)
{
    char    why[300];
    const char *names = s->level == TLS_SECURE && s->match ? s->match : 0;
    SSL    *ssl;
    long long deadline = smtp_state_deadline(s);
    struct tls_info info;
    struct tls_peer peer = {s->res->relay, s->level, s->name, names};
    int     status;

    if (tls_by_cache(s, names))
	return;
    if ((ssl = tls_prepare(s->conf, s->name, names, why, sizeof(why))) == 0) {
	s->res->local_error = 1;
	snprintf(s->res->error, sizeof(s->res->error), "TLS set-up for %s: %s",
		 s->res->relay, why);
	s->state = S_DONE;
	return;
    }
    (void) tls_resume_offer(s->conf, &peer, ssl, s->req->deadline_ms,
			    s->cache.tls_key, sizeof(s->cache.tls_key));
    if ((status = netio_tls_start(&s->io, ssl, deadline, why, sizeof(why)))
	== NETIO_GIVEUP) {
	smtp_slow_left(s);
	return;
    }
    if (status != NETIO_OK) {
	if (s->level == TLS_MAY && !s->wrapper)
	    s->res->tls_retry = 1;
	smtp_host_down(s, "%s: %s", why);
	return;
    }
    tls_describe(s->io.ssl, &info);
    tls_accept(s, &info, tls_resumed(s->io.ssl), names);
}

/* smtp_after_hello - STARTTLS, AUTH or MAIL, as policy and server allow */

void    smtp_after_hello(struct session *s)
{
    if (!smtp_tls_on(s) && s->level >= TLS_MAY && !s->no_tls) {
	if (s->feat.starttls) {
	    s->state = S_STARTTLS;
	    return;
	}
	if (s->level >= TLS_ENCRYPT) {
	    smtp_policy_down(s, "4.7.4", "TLS is required, but was not offered by "
			"host %s%s", "");
	    return;
	}
    }
    s->state = s->cred && s->feat.auth[0] ? S_AUTH : S_MAIL;
    if (s->cred && !s->feat.auth[0])
	log_info("%s: host %s offers no AUTH; sending without "
		 "authentication", s->req->queue_id, s->res->relay);
}

/* smtp_step_starttls - STARTTLS, the handshake, then EHLO again */

void    smtp_step_starttls(struct session *s)
{
    struct smtp_reply reply;

    if (smtp_command(s, "STARTTLS\r\n%s", "", &reply) < 0)
	return;
    if (reply.code != 220) {
	if (s->level >= TLS_ENCRYPT) {
	    smtp_policy_down(s, "4.7.4", "host %s refused STARTTLS: %s", reply.text);
	    return;
	}
	log_info("%s: host %s refused STARTTLS (%s); going on without TLS",
		 s->req->queue_id, s->res->relay, reply.text);
	s->no_tls = 1;
	smtp_after_hello(s);
	return;
    }
    if (netio_pending(&s->io)) {
	smtp_host_down(s, "host %s sent data after its reply to STARTTLS, "
		  "before the TLS handshake: refusing a possible command "
		  "injection%s", "");
	snprintf(s->res->dsn, sizeof(s->res->dsn), "4.7.0");
	return;
    }
    smtp_start_tls(s);
    if (s->state == S_STARTTLS)		/* the handshake and checks passed */
	s->state = S_EHLO;
}

