/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	smtp_chat 3
 * SUMMARY
 *	reading replies and writing commands for an SMTP session
 * SYNOPSIS
 *	#include "smtp/smtp_session.h"
 *
 *	long long smtp_state_deadline(s)
 *	void	smtp_host_down(s, fmt, arg)
 *	void	smtp_policy_down(s, dsn, fmt, arg)
 *	void	smtp_slow_left(s)
 *	void	smtp_watch_greeting(s)
 *	void	smtp_io_fail(s, status)
 *	void	smtp_log_rcpt(s, rcpt, status, text)
 *	void	smtp_rcpt_reply(s, rcpt, reply)
 *	void	smtp_accepted_reply(s, reply)
 *	int	smtp_get_reply(s, reply)
 *	int	smtp_queue_cmd(s, fmt, a, b)
 *	int	smtp_flush(s)
 *	int	smtp_command(s, fmt, arg, reply)
 *	int	smtp_has_ext(reply, keyword, param)
 *	void	smtp_refuse_all(s, dsn, why)
 *	void	smtp_unable_all(s, dsn, why)
 * DESCRIPTION
 *	The dialogue under every state of smtp_client's machine: the
 *	deadline of the current state, reading one whole reply (EHLO's
 *	keywords kept only in the EHLO state), queueing and writing
 *	pipelined commands, and turning a failed read or write, or a bad
 *	reply, into host trouble with Postfix's wording. A connection
 *	whose TLS end is rrelay-cache is the exception: when that TLS end
 *	died (its socket closed both ways, where the server's close
 *	arrives as a half close), the failure is our own (local_error):
 *	deferred, and no host is marked down. Per recipient,
 *	smtp_rcpt_reply() records a non-2xx reply and logs it in
 *	Postfix's form (smtp_log_rcpt()).
 *--*/

#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "conf/saturation.h"
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

/* What Postfix says about each state in its log. */
const char *const smtp_state_where[] = {
    "while connecting",
    "while receiving the initial server greeting",
    "while performing the EHLO handshake",
    "while performing the HELO handshake",
    "in reply to STARTTLS command",
    "while authenticating",
    "in reply to RSET command",
    "in reply to MAIL FROM command",
    "in reply to RCPT TO command",
    "in reply to DATA command",
    "while sending message body",
    "in reply to end of DATA command",
    "in reply to QUIT command",
    "after QUIT",
};

/* smtp_state_deadline - when a wait in the current state must end */

long long smtp_state_deadline(const struct session *s)
{
    long    secs = (s->state == S_BODY || s->state == S_DOT) ?
    s->conf->data_timeout : s->conf->command_timeout;
    long long when;

    if (s->state == S_RSET && secs > RSET_TIMEOUT)
	secs = RSET_TIMEOUT;			/* as smtp(8)'s smtp_rset_timeout */
    when = netio_now_ms() + secs * 1000LL;
    return (when < s->req->deadline_ms ? when : s->req->deadline_ms);
}

/* smtp_host_down - the host is in trouble; say why */

void    smtp_host_down(struct session *s, const char *fmt, const char *arg)
{
    s->res->host = SMTP_HOST_DOWN;
    snprintf(s->res->error, sizeof(s->res->error), fmt, s->res->relay, arg);
    s->state = S_DONE;
}

/* smtp_policy_down - host trouble on a sound connection: say why, then QUIT */

void    smtp_policy_down(struct session *s, const char *dsn, const char *fmt,
			        const char *arg)
{
    smtp_host_down(s, fmt, arg);
    snprintf(s->res->dsn, sizeof(s->res->dsn), "%s", dsn);
    s->state = S_QUIT;
}

/* smtp_slow_left - no greeting within greeting_grace, and another host is up */

void    smtp_slow_left(struct session *s)
{
    s->res->host = SMTP_HOST_DOWN;
    snprintf(s->res->error, sizeof(s->res->error), "%s %s after %lds "
	     "(greeting_grace), and another host is up",
	     s->state == S_CONNECT ? "no connection to" : "no greeting from",
	     s->res->relay, s->conf->greeting_grace);
    s->state = S_DONE;
}

/* smtp_watch_greeting - from now, consult the slow-host hook after the grace */

void    smtp_watch_greeting(struct session *s)
{
    s->io.watch_at = 0;
    if (s->req->slow_host && s->conf->greeting_grace > 0) {
	s->io.watch = s->req->slow_host;
	s->io.watch_ctx = s->req->slow_ctx;
	s->io.watch_at = netio_now_ms() + s->conf->greeting_grace * 1000LL;
    }
}

/*
 * tls_end_gone - the session's TLS end (rrelay-cache) closed both sides
 * of its socket: it died. For the server's end it shuts only its write
 * side, and waits for our close (cache_tls.c).
 */

static int tls_end_gone(const struct session *s)
{
    struct pollfd pfd;

    if ((s->tls_end.flags & CACHE_TLS_ACTIVE) == 0 || s->io.fd < 0)
	return (0);
    pfd.fd = s->io.fd;
    pfd.events = POLLIN | POLLRDHUP;
    pfd.revents = 0;
    return (poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLHUP) != 0);
}

/* tls_end_lost - our own trouble: defer, and blame no host */

static void tls_end_lost(struct session *s)
{
    s->res->local_error = 1;
    snprintf(s->res->error, sizeof(s->res->error), "rrelay-cache's TLS end "
	     "for %s went away %s", s->res->relay, smtp_state_where[s->state]);
    log_warn("%s: %s; the host is not blamed", s->req->queue_id,
	     s->res->error);
    s->state = S_DONE;
}

/* smtp_io_fail - a read or write failed in the current state */

void    smtp_io_fail(struct session *s, int status)
{
    if (netio_now_ms() >= s->req->deadline_ms)
	s->res->deadline = 1;
    if ((status == NETIO_EOF || status == NETIO_ERROR) && tls_end_gone(s))
	tls_end_lost(s);
    else if (status == NETIO_GIVEUP)
	smtp_slow_left(s);
    else if (status == NETIO_TIMEOUT)
	smtp_host_down(s, "conversation with %s timed out %s",
		  smtp_state_where[s->state]);
    else if (status == NETIO_TOOLONG)
	smtp_host_down(s, "reply line from %s is too long %s",
		  smtp_state_where[s->state]);
    else
	smtp_host_down(s, "lost connection with %s %s", smtp_state_where[s->state]);
}

/* delay - seconds since the run started, for the log */

static double delay(const struct session *s)
{
    return ((netio_now_ms() - s->req->start_ms) / 1000.0);
}

/* smtp_log_rcpt - one Postfix-style line for one recipient and attempt */

void    smtp_log_rcpt(struct session *s, const struct rcpt *r,
		             const char *status, const char *text)
{
    char    use[32] = "";

    if (s->cache.use > 1)			/* as smtp(8): only when reused */
	snprintf(use, sizeof(use), ", conn_use=%u", s->cache.use);
    log_info("%s: to=<%s>, relay=%s%s, delay=%.2f, dsn=%s%s%s%s%s, "
	     "status=%s (%s)", s->req->queue_id, r->addr, s->res->relay, use,
	     delay(s), r->dsn, s->res->tls[0] ? ", tls=" : "", s->res->tls,
	     s->res->auth_user[0] ? ", auth=" : "", s->res->auth_user,
	     status, text);
}

/* smtp_rcpt_reply - record a non-2xx reply for one recipient */

void    smtp_rcpt_reply(struct session *s, struct rcpt *r,
		               const struct smtp_reply *reply)
{
    enum rcpt_state state = reply->code >= 500 && !s->sat ?
	RCPT_PERM : RCPT_PENDING;
    char    dsn[sizeof(reply->dsn)];

    /* "The host is full" is never permanent: 5.4.5 becomes 4.4.5. */
    snprintf(dsn, sizeof(dsn), "%s", reply->dsn);
    if (s->sat && dsn[0] == '5')
	dsn[0] = '4';
    rcpt_set(r, state, dsn, "host %s said: %s (%s)", s->res->relay,
	     reply->text, smtp_state_where[s->state]);
    smtp_log_rcpt(s, r, state == RCPT_PERM ? "bounced" : "deferred", r->reason);
    snprintf(s->res->error, sizeof(s->res->error), "%s", r->reason);
}

/* smtp_accepted_reply - apply one reply to every recipient RCPT accepted */

void    smtp_accepted_reply(struct session *s, const struct smtp_reply *reply)
{
    int     i;

    for (i = 0; i < s->npart; i++)
	if (s->accepted[i])
	    smtp_rcpt_reply(s, &s->req->rcpts[s->part[i]], reply);
}

/* reply_text - the text of a reply after its code and enhanced code */

static const char *reply_text(const struct smtp_reply *reply)
{
    const char *text = reply->text;
    size_t  len = strlen(reply->dsn);

    text += strspn(text, "0123456789");
    text += (*text == ' ' || *text == '-');
    if (reply->has_dsn && strncmp(text, reply->dsn, len) == 0)
	text += len;
    return (text + strspn(text, " "));
}

/* saturation - does this reply say the host is full? (saturation.c) */

static void saturation(struct session *s, const struct smtp_reply *reply)
{
    const char *rule = "";

    s->sat = SAT_NONE;
    if (reply->code < 400)
	return;
    s->sat = saturation_classify(s->conf->saturation, reply->code,
				 reply->has_dsn ? reply->dsn : "",
				 reply_text(reply), &rule);
    if (s->sat == SAT_NONE)
	return;
    s->res->saturated = s->sat;
    s->res->sat_rule = rule;
    snprintf(s->res->sat_reply, sizeof(s->res->sat_reply), "host %s said: "
	     "%s (%s)", s->res->relay, reply->text, smtp_state_where[s->state]);
}

/* smtp_get_reply - read one whole reply in the current state */

int     smtp_get_reply(struct session *s, struct smtp_reply *reply)
{
    char    line[REPLY_LINE_MAX + 1];
    char    why[200];
    size_t  len;
    long long deadline = smtp_state_deadline(s);
    int     status;

    reply_init(reply);
    /* Only EHLO's reply lists keywords; other replies keep none. */
    reply->ext = (s->state == S_EHLO) ? s->ext : 0;
    reply->ext_max = EXT_MAX;
    for (;;) {
	status = netio_read_line(&s->io, line, sizeof(line), &len, deadline);
	if (status != NETIO_OK) {
	    smtp_io_fail(s, status);
	    return (-1);
	}
	switch (reply_feed(reply, line, len, why, sizeof(why))) {
	case REPLY_DONE:
	    saturation(s, reply);
	    return (0);
	case REPLY_ERROR:
	    s->res->host = SMTP_HOST_DOWN;
	    snprintf(s->res->error, sizeof(s->res->error), "protocol error "
		     "from %s %s: %s", s->res->relay, smtp_state_where[s->state], why);
	    s->state = S_DONE;
	    return (-1);
	case REPLY_MORE:
	    break;
	}
    }
}

/* smtp_flush - write the queued commands */

int     smtp_flush(struct session *s)
{
    int     status;

    if (s->cmdlen == 0)
	return (0);
    status = netio_write(&s->io, s->cmd, s->cmdlen, smtp_state_deadline(s));
    s->cmdlen = 0;
    if (status != NETIO_OK) {
	smtp_io_fail(s, status);
	return (-1);
    }
    return (0);
}

/* smtp_queue_cmd - add one smtp_command line; write when the buffer is full */

int     smtp_queue_cmd(struct session *s, const char *fmt, const char *a,
		             const char *b)
{
    char    line[1024];
    int     len;

    len = snprintf(line, sizeof(line), fmt, a, b);
    if (len < 0 || (size_t) len >= sizeof(line)) {
	snprintf(s->res->error, sizeof(s->res->error), "internal error: "
		 "command too long");
	s->state = S_DONE;
	len = -1;
    } else if (s->cmdlen + (size_t) len > sizeof(s->cmd) && smtp_flush(s) < 0) {
	len = -1;
    } else {
	memcpy(s->cmd + s->cmdlen, line, (size_t) len);
	s->cmdlen += (size_t) len;
    }
    explicit_bzero(line, sizeof(line));	/* it may have held credentials */
    return (len < 0 ? -1 : 0);
}

/* smtp_command - send one smtp_command now and read its reply */

int     smtp_command(struct session *s, const char *fmt, const char *arg,
		           struct smtp_reply *reply)
{
    if (smtp_queue_cmd(s, fmt, arg, "") < 0 || smtp_flush(s) < 0)
	return (-1);
    return (smtp_get_reply(s, reply));
}

/* smtp_has_ext - the EHLO reply offered keyword; *param gets its argument */

int     smtp_has_ext(const struct smtp_reply *reply, const char *keyword,
		           const char **param)
{
    size_t  len = strlen(keyword);
    int     i;

    for (i = 0; i < reply->ext_count; i++) {
	if (strncmp(reply->ext[i], keyword, len) == 0
	    && (reply->ext[i][len] == 0 || reply->ext[i][len] == ' ')) {
	    if (param)
		*param = reply->ext[i] + len + (reply->ext[i][len] == ' ');
	    return (1);
	}
    }
    return (0);
}

/*
 * smtp_unable_all - this host can't take the message (no SMTPUTF8, SIZE
 * too small), but another may: the recipients stay pending, marked with
 * the DSN they get if no host can. One log line for the host.
 */

void    smtp_unable_all(struct session *s, const char *dsn, const char *why)
{
    struct rcpt *r;
    int     i;

    for (i = 0; i < s->npart; i++) {
	r = &s->req->rcpts[s->part[i]];
	rcpt_set(r, RCPT_PENDING, "4.0.0", "%s", why);
	snprintf(r->unable, sizeof(r->unable), "%s", dsn);
    }
    log_info("%s: relay=%s, status=unable (%s); the message goes to a host "
	     "that can take it, or bounces with %s if none can",
	     s->req->queue_id, s->res->relay, why, dsn);
    s->state = S_QUIT;
}

/* smtp_refuse_all - a permanent result for every taking-part recipient */

void    smtp_refuse_all(struct session *s, const char *dsn, const char *why)
{
    struct rcpt *r;
    int     i;

    for (i = 0; i < s->npart; i++) {
	r = &s->req->rcpts[s->part[i]];
	rcpt_set(r, RCPT_PERM, dsn, "%s", why);
	smtp_log_rcpt(s, r, "bounced", r->reason);
    }
    s->state = S_QUIT;
}

