/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	smtp_hello 3
 * SUMMARY
 *	connect, greeting, EHLO/HELO and AUTH
 * SYNOPSIS
 *	#include "smtp/smtp_session.h"
 *
 *	void	smtp_do_connect(s, dest)
 *	void	smtp_step_greeting(s)
 *	void	smtp_step_ehlo(s)
 *	void	smtp_step_helo(s)
 *	void	smtp_learn_features(s, reply)
 *	void	smtp_step_auth(s)
 * DESCRIPTION
 *	The states up to MAIL FROM but STARTTLS (smtp_starttls.c):
 *	CONNECT (each address of the destination in turn, TLS at once for
 *	"wrapper"), GREETING, EHLO or HELO, and AUTH (only over TLS).
 *	What follows a successful EHLO/HELO is smtp_after_hello()'s choice
 *	(smtp_starttls.c), so this file calls that one and never back.
 *--*/

#include <errno.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "msg/address.h"
#include "net/netio.h"
#include "smtp/resolve.h"
#include "smtp/smtp_auth.h"
#include "smtp/smtp_client.h"
#include "smtp/smtp_session.h"
#include "net/smtp_reply.h"
#include "conf/tlspolicy.h"

/* smtp_do_connect - try each address of the destination in turn */

void    smtp_do_connect(struct session *s, const struct dest *dest)
{
    struct target targets[RESOLVE_MAX];
    char    why[RCPT_REASON_MAX - 64];
    int     count;
    int     i;
    int     err;
    int     status;
    long long deadline;

    count = resolve_dest(dest, targets, RESOLVE_MAX, why, sizeof(why));
    snprintf(s->res->relay, sizeof(s->res->relay), "%s", dest->text);
    if (count < 0) {
	smtp_host_down(s, "%s: %s", why);
	return;
    }
    smtp_watch_greeting(s);
    for (i = 0; i < count; i++) {
	snprintf(s->res->relay, sizeof(s->res->relay), "%s[%s]:%d",
		 targets[i].name, targets[i].addr, targets[i].port);
	snprintf(s->res->addr, sizeof(s->res->addr), strchr(targets[i].addr,
		 ':') ? "[%s]:%d" : "%s:%d", targets[i].addr, targets[i].port);
	deadline = netio_now_ms() + s->conf->connect_timeout * 1000LL;
	if (deadline > s->req->deadline_ms)
	    deadline = s->req->deadline_ms;
	status = netio_connect(&s->io, (struct sockaddr *) &targets[i].sa,
			       targets[i].len, deadline, &err);
	if (status == NETIO_OK) {
	    s->res->host = SMTP_HOST_OK;	/* earlier addresses don't count */
	    s->res->error[0] = 0;
	    snprintf(s->name_buf, sizeof(s->name_buf), "%s", targets[i].name);
	    s->name = s->name_buf;
	    s->state = S_GREETING;
	    if (s->wrapper)
		smtp_start_tls(s);
	    return;
	}
	if (status == NETIO_GIVEUP) {
	    smtp_slow_left(s);
	    return;
	}
	if (netio_now_ms() >= s->req->deadline_ms)
	    s->res->deadline = 1;
	smtp_host_down(s, "connect to %s: %s", strerror(err));
    }
}

/* auth_fail - AUTH did not work: host trouble, 4.7.8 */

static void auth_fail(struct session *s, const char *fmt, const char *text)
{
    smtp_policy_down(s, "4.7.8", fmt, text);
}

/* auth_send - one AUTH step; the text sent is never logged */

static int auth_send(struct session *s, const char *fmt, const char *arg,
		             int want, struct smtp_reply *reply)
{
    int     status = smtp_command(s, fmt, arg, reply);

    explicit_bzero(s->cmd, sizeof(s->cmd));
    if (status < 0)
	return (-1);
    if (reply->code != want) {
	auth_fail(s, "SASL authentication failed; host %s said: %s",
		  reply->text);
	return (-1);
    }
    return (0);
}

/* smtp_step_auth - AUTH PLAIN or LOGIN, only over TLS */

void    smtp_step_auth(struct session *s)
{
    struct smtp_reply reply;
    const char *mech;
    char    b64[1400];

    reply.code = 0;
    if (!smtp_tls_on(s) && s->level != TLS_NONE) {
	auth_fail(s, "SASL authentication not attempted: host %s%s offers "
		  "no TLS, and rrelay sends credentials only over TLS (unless "
		  "the destination's TLS level is none)", "");
	return;
    }
    if ((mech = auth_choose(s->feat.auth, s->conf->auth_mechanisms)) == 0) {
	auth_fail(s, "SASL authentication not attempted: host %s offers "
		  "none of auth_mechanisms (it offers %s)", s->feat.auth);
	return;
    }
    if (strcmp(mech, "PLAIN") == 0) {
	if (auth_plain(s->cred->user, s->cred->pass, b64, sizeof(b64)) == 0)
	    (void) auth_send(s, "AUTH PLAIN %s\r\n", b64, 235, &reply);
    } else if (auth_send(s, "AUTH LOGIN\r\n%s", "", 334, &reply) == 0
	       && auth_base64(s->cred->user, strlen(s->cred->user), b64,
			      sizeof(b64)) == 0
	       && auth_send(s, "%s\r\n", b64, 334, &reply) == 0
	       && auth_base64(s->cred->pass, strlen(s->cred->pass), b64,
			      sizeof(b64)) == 0) {
	(void) auth_send(s, "%s\r\n", b64, 235, &reply);
    }
    explicit_bzero(b64, sizeof(b64));
    if (s->state != S_AUTH)
	return;
    if (reply.code != 235) {
	auth_fail(s, "SASL authentication not attempted with host %s: "
		  "credentials too long%s", "");
	return;
    }
    snprintf(s->res->auth_user, sizeof(s->res->auth_user), "%s",
	     s->cred->user);
    s->state = S_MAIL;
}

/* smtp_step_greeting - the server must greet with 2xx */

void    smtp_step_greeting(struct session *s)
{
    struct smtp_reply reply;

    if (smtp_get_reply(s, &reply) < 0)
	return;
    s->io.watch_at = 0;				/* it greeted */
    if (reply.code / 100 != 2) {
	smtp_host_down(s, "host %s refused to talk to me: %s", reply.text);
	return;
    }
    s->state = S_EHLO;
}

/* hello_name - helo_name, or (none set) the literal of our end of the connection */

static const char *hello_name(struct session *s)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);

    if (s->conf->helo_name[0])
	return (s->conf->helo_name);
    if (s->helo[0])				/* the same after STARTTLS */
	return (s->helo);
    if (getsockname(s->io.fd, (struct sockaddr *) &ss, &len) < 0
	|| address_literal((struct sockaddr *) &ss, s->helo,
			   sizeof(s->helo)) < 0) {
	if (gethostname(s->helo, sizeof(s->helo) - 1) < 0)
	    snprintf(s->helo, sizeof(s->helo), "localhost");
	s->helo[sizeof(s->helo) - 1] = 0;
    }
    return (s->helo);
}

/* smtp_learn_features - what the EHLO keywords offer */

void    smtp_learn_features(struct session *s, const struct smtp_reply *reply)
{
    const char *size;

    memset(&s->feat, 0, sizeof(s->feat));
    s->feat.starttls = smtp_has_ext(reply, "STARTTLS", 0);
    if (smtp_has_ext(reply, "AUTH", &size) || smtp_has_ext(reply, "AUTH=", &size))
	snprintf(s->feat.auth, sizeof(s->feat.auth), "%s", size);
    s->feat.pipelining = smtp_has_ext(reply, "PIPELINING", 0);
    s->feat.eightbitmime = smtp_has_ext(reply, "8BITMIME", 0);
    s->feat.smtputf8 = smtp_has_ext(reply, "SMTPUTF8", 0);
    if ((s->feat.size = smtp_has_ext(reply, "SIZE", &size)) != 0)
	s->feat.size_limit = reply_size_limit(size);
    s->ext_count = reply->ext_count;
}

/* smtp_step_ehlo - EHLO, and learn what the server offers */

void    smtp_step_ehlo(struct session *s)
{
    struct smtp_reply reply;

    if (smtp_command(s, "EHLO %s\r\n", hello_name(s), &reply) < 0)
	return;
    if (reply.code / 100 == 5 && reply.code != 521) {
	s->state = S_HELO;
	return;
    }
    if (reply.code / 100 != 2) {
	smtp_host_down(s, "host %s refused EHLO: %s", reply.text);
	return;
    }
    smtp_learn_features(s, &reply);
    s->res->reached = 1;
    smtp_after_hello(s);
}

/* smtp_step_helo - HELO, for servers that refuse EHLO */

void    smtp_step_helo(struct session *s)
{
    struct smtp_reply reply;

    if (smtp_command(s, "HELO %s\r\n", hello_name(s), &reply) < 0)
	return;
    if (reply.code / 100 != 2) {
	smtp_host_down(s, "host %s refused HELO: %s", reply.text);
	return;
    }
    s->res->reached = 1;
    memset(&s->feat, 0, sizeof(s->feat));
    smtp_after_hello(s);
}

