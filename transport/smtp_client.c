/*
 * NAME
 *	smtp_client 3
 * SUMMARY
 *	one SMTP session with one destination
 * SYNOPSIS
 *	#include "smtp_client.h"
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
 *	that would be plaintext without AUTH takes the cache's idle
 *	connection for exactly this destination, TLS level and HELO name,
 *	if there is one, and starts at MAIL FROM with the EHLO keywords
 *	that came with it. If that connection fails before MAIL FROM is
 *	accepted (lost, 421, timeout), it is closed and a fresh one made,
 *	logged at debug level only: the host is not blamed. After a 250
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
 *--*/

#include <errno.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>


#include "log.h"
#include "address.h"
#include "cache_client.h"
#include "netio.h"
#include "resolve.h"
#include "smtp_auth.h"
#include "smtp_client.h"
#include "smtp_reply.h"
#include "tls.h"
#include "tls_resume.h"
#include "tlspolicy.h"
#include "wire.h"

#define EXT_MAX		32		/* EHLO keyword lines kept */
#define CMD_BUF		8192		/* pipelined commands per write */
#define BODY_BLOCK	65536		/* spool bytes per body write */
#define QUIT_WAIT_MS	5000		/* at most, to write QUIT */

enum smtp_state {
    S_CONNECT, S_GREETING, S_EHLO, S_HELO, S_STARTTLS, S_AUTH, S_MAIL,
    S_RCPT, S_DATA, S_BODY, S_DOT, S_QUIT, S_DONE,
};

/* What Postfix says about each state in its log. */
static const char *state_where[] = {
    "while connecting",
    "while receiving the initial server greeting",
    "while performing the EHLO handshake",
    "while performing the HELO handshake",
    "in reply to STARTTLS command",
    "while authenticating",
    "in reply to MAIL FROM command",
    "in reply to RCPT TO command",
    "in reply to DATA command",
    "while sending message body",
    "in reply to end of DATA command",
    "in reply to QUIT command",
    "after QUIT",
};

struct features {
    int     starttls;
    char    auth[REPLY_EXT_LEN];		/* the AUTH mechanisms offered */
    int     pipelining;
    int     eightbitmime;
    int     smtputf8;
    int     size;
    long long size_limit;
};

struct session {
    struct smtp_request *req;
    struct smtp_result *res;
    const struct rrconfig *conf;
    struct netio io;
    enum smtp_state state;
    struct features feat;
    int    *part;			/* indexes of taking-part recipients */
    char   *accepted;			/* per taking part: 2xx to RCPT */
    int     npart;
    int     naccepted;
    int     level;			/* enum tls_level for this host */
    int     wrapper;			/* TLS from the start */
    const char *match;			/* names for "secure" */
    const char *name;			/* the host name connected to */
    char    name_buf[DEST_HOST_MAX + 1];
    const struct auth_entry *cred;	/* credentials, or null */
    int     no_tls;			/* the plaintext retry of "may" */
    char    ext[EXT_MAX][REPLY_EXT_LEN];
    int     ext_count;			/* lines in ext */
    struct cache_use cache;		/* the connection and rrelay-cache */
    char    cmd[CMD_BUF];
    size_t  cmdlen;
    char    helo[256];			/* helo_name, or our address literal */
};

static void start_tls(struct session *);
static void after_hello(struct session *);

static char body_in[BODY_BLOCK];
static char body_out[WIRE_OUT_MAX(BODY_BLOCK) + WIRE_OUT_MAX(0)];

/* state_deadline - when a wait in the current state must end */

static long long state_deadline(const struct session *s)
{
    long    secs = (s->state == S_BODY || s->state == S_DOT) ?
    s->conf->data_timeout : s->conf->command_timeout;
    long long when = netio_now_ms() + secs * 1000LL;

    return (when < s->req->deadline_ms ? when : s->req->deadline_ms);
}

/* host_down - the host is in trouble; say why */

static void host_down(struct session *s, const char *fmt, const char *arg)
{
    s->res->host = SMTP_HOST_DOWN;
    snprintf(s->res->error, sizeof(s->res->error), fmt, s->res->relay, arg);
    s->state = S_DONE;
}

/* policy_down - host trouble on a sound connection: say why, then QUIT */

static void policy_down(struct session *s, const char *dsn, const char *fmt,
			        const char *arg)
{
    host_down(s, fmt, arg);
    snprintf(s->res->dsn, sizeof(s->res->dsn), "%s", dsn);
    s->state = S_QUIT;
}

/* slow_left - no greeting within greeting_grace, and another host is up */

static void slow_left(struct session *s)
{
    s->res->host = SMTP_HOST_DOWN;
    snprintf(s->res->error, sizeof(s->res->error), "%s %s after %lds "
	     "(greeting_grace), and another host is up",
	     s->state == S_CONNECT ? "no connection to" : "no greeting from",
	     s->res->relay, s->conf->greeting_grace);
    s->state = S_DONE;
}

/* watch_greeting - from now, consult the slow-host hook after the grace */

static void watch_greeting(struct session *s)
{
    s->io.watch_at = 0;
    if (s->req->slow_host && s->conf->greeting_grace > 0) {
	s->io.watch = s->req->slow_host;
	s->io.watch_ctx = s->req->slow_ctx;
	s->io.watch_at = netio_now_ms() + s->conf->greeting_grace * 1000LL;
    }
}

/* io_fail - a read or write failed in the current state */

static void io_fail(struct session *s, int status)
{
    if (netio_now_ms() >= s->req->deadline_ms)
	s->res->deadline = 1;
    if (status == NETIO_GIVEUP)
	slow_left(s);
    else if (status == NETIO_TIMEOUT)
	host_down(s, "conversation with %s timed out %s",
		  state_where[s->state]);
    else if (status == NETIO_TOOLONG)
	host_down(s, "reply line from %s is too long %s",
		  state_where[s->state]);
    else
	host_down(s, "lost connection with %s %s", state_where[s->state]);
}

/* delay - seconds since the run started, for the log */

static double delay(const struct session *s)
{
    return ((netio_now_ms() - s->req->start_ms) / 1000.0);
}

/* log_rcpt - one Postfix-style line for one recipient and attempt */

static void log_rcpt(struct session *s, const struct rcpt *r,
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

/* rcpt_reply - record a non-2xx reply for one recipient */

static void rcpt_reply(struct session *s, struct rcpt *r,
		               const struct smtp_reply *reply)
{
    enum rcpt_state state = reply->code >= 500 ? RCPT_PERM : RCPT_PENDING;

    rcpt_set(r, state, reply->dsn, "host %s said: %s (%s)", s->res->relay,
	     reply->text, state_where[s->state]);
    log_rcpt(s, r, state == RCPT_PERM ? "bounced" : "deferred", r->reason);
    snprintf(s->res->error, sizeof(s->res->error), "%s", r->reason);
}

/* accepted_reply - apply one reply to every recipient RCPT accepted */

static void accepted_reply(struct session *s, const struct smtp_reply *reply)
{
    int     i;

    for (i = 0; i < s->npart; i++)
	if (s->accepted[i])
	    rcpt_reply(s, &s->req->rcpts[s->part[i]], reply);
}

/* get_reply - read one whole reply in the current state */

static int get_reply(struct session *s, struct smtp_reply *reply)
{
    char    line[REPLY_LINE_MAX + 1];
    char    why[200];
    size_t  len;
    long long deadline = state_deadline(s);
    int     status;

    reply_init(reply);
    /* Only EHLO's reply lists keywords; other replies keep none. */
    reply->ext = (s->state == S_EHLO) ? s->ext : 0;
    reply->ext_max = EXT_MAX;
    for (;;) {
	status = netio_read_line(&s->io, line, sizeof(line), &len, deadline);
	if (status != NETIO_OK) {
	    io_fail(s, status);
	    return (-1);
	}
	switch (reply_feed(reply, line, len, why, sizeof(why))) {
	case REPLY_DONE:
	    return (0);
	case REPLY_ERROR:
	    s->res->host = SMTP_HOST_DOWN;
	    snprintf(s->res->error, sizeof(s->res->error), "protocol error "
		     "from %s %s: %s", s->res->relay, state_where[s->state], why);
	    s->state = S_DONE;
	    return (-1);
	case REPLY_MORE:
	    break;
	}
    }
}

/* flush - write the queued commands */

static int flush(struct session *s)
{
    int     status;

    if (s->cmdlen == 0)
	return (0);
    status = netio_write(&s->io, s->cmd, s->cmdlen, state_deadline(s));
    s->cmdlen = 0;
    if (status != NETIO_OK) {
	io_fail(s, status);
	return (-1);
    }
    return (0);
}

/* queue_cmd - add one command line; write when the buffer is full */

static int queue_cmd(struct session *s, const char *fmt, const char *a,
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
    } else if (s->cmdlen + (size_t) len > sizeof(s->cmd) && flush(s) < 0) {
	len = -1;
    } else {
	memcpy(s->cmd + s->cmdlen, line, (size_t) len);
	s->cmdlen += (size_t) len;
    }
    explicit_bzero(line, sizeof(line));	/* it may have held credentials */
    return (len < 0 ? -1 : 0);
}

/* command - send one command now and read its reply */

static int command(struct session *s, const char *fmt, const char *arg,
		           struct smtp_reply *reply)
{
    if (queue_cmd(s, fmt, arg, "") < 0 || flush(s) < 0)
	return (-1);
    return (get_reply(s, reply));
}

/* do_connect - try each address of the destination in turn */

static void do_connect(struct session *s, const struct dest *dest)
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
	host_down(s, "%s: %s", why);
	return;
    }
    watch_greeting(s);
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
		start_tls(s);
	    return;
	}
	if (status == NETIO_GIVEUP) {
	    slow_left(s);
	    return;
	}
	if (netio_now_ms() >= s->req->deadline_ms)
	    s->res->deadline = 1;
	host_down(s, "connect to %s: %s", strerror(err));
    }
}

/* start_tls - the TLS handshake on the open connection */

static void start_tls(struct session *s)
{
    char    why[300];
    const char *names = s->level == TLS_SECURE && s->match ? s->match : 0;
    SSL    *ssl;
    long long deadline = state_deadline(s);
    struct tls_info info;
    struct tls_peer peer = {s->res->relay, s->level, s->name, names};
    int     status;

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
	slow_left(s);
	return;
    }
    if (status != NETIO_OK) {
	if (s->level == TLS_MAY && !s->wrapper)
	    s->res->tls_retry = 1;
	host_down(s, "%s: %s", why);
	return;
    }
    tls_describe(s->io.ssl, &info);
    tls_summary(&info, s->res->tls, sizeof(s->res->tls));
    if (tls_resumed(s->io.ssl))
	strncat(s->res->tls, " resumed", sizeof(s->res->tls)
		- strlen(s->res->tls) - 1);
    s->res->tls_active = 1;
    s->res->tls_verified = info.verified;
    if (s->level >= TLS_VERIFY && !info.verified) {
	snprintf(why, sizeof(why), "server certificate not trusted for %s: %s",
		 names ? names : s->name, info.verify_error);
	policy_down(s, "4.7.5", "%s: %s", why);
	return;
    }
    memset(&s->feat, 0, sizeof(s->feat));
}

/* after_hello - STARTTLS, AUTH or MAIL, as policy and server allow */

static void after_hello(struct session *s)
{
    if (s->io.ssl == 0 && s->level >= TLS_MAY && !s->no_tls) {
	if (s->feat.starttls) {
	    s->state = S_STARTTLS;
	    return;
	}
	if (s->level >= TLS_ENCRYPT) {
	    policy_down(s, "4.7.4", "TLS is required, but was not offered by "
			"host %s%s", "");
	    return;
	}
    }
    s->state = s->cred && s->feat.auth[0] ? S_AUTH : S_MAIL;
    if (s->cred && !s->feat.auth[0])
	log_info("%s: host %s offers no AUTH; sending without "
		 "authentication", s->req->queue_id, s->res->relay);
}

/* step_starttls - STARTTLS, the handshake, then EHLO again */

static void step_starttls(struct session *s)
{
    struct smtp_reply reply;

    if (command(s, "STARTTLS\r\n%s", "", &reply) < 0)
	return;
    if (reply.code != 220) {
	if (s->level >= TLS_ENCRYPT) {
	    policy_down(s, "4.7.4", "host %s refused STARTTLS: %s", reply.text);
	    return;
	}
	log_info("%s: host %s refused STARTTLS (%s); going on without TLS",
		 s->req->queue_id, s->res->relay, reply.text);
	s->no_tls = 1;
	after_hello(s);
	return;
    }
    if (netio_pending(&s->io)) {
	host_down(s, "host %s sent data after its reply to STARTTLS, "
		  "before the TLS handshake: refusing a possible command "
		  "injection%s", "");
	snprintf(s->res->dsn, sizeof(s->res->dsn), "4.7.0");
	return;
    }
    start_tls(s);
    if (s->state == S_STARTTLS)		/* the handshake and checks passed */
	s->state = S_EHLO;
}

/* auth_fail - AUTH did not work: host trouble, 4.7.8 */

static void auth_fail(struct session *s, const char *fmt, const char *text)
{
    policy_down(s, "4.7.8", fmt, text);
}

/* auth_send - one AUTH step; the text sent is never logged */

static int auth_send(struct session *s, const char *fmt, const char *arg,
		             int want, struct smtp_reply *reply)
{
    int     status = command(s, fmt, arg, reply);

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

/* step_auth - AUTH PLAIN or LOGIN, only over TLS */

static void step_auth(struct session *s)
{
    struct smtp_reply reply;
    const char *mech;
    char    b64[1400];

    reply.code = 0;
    if (s->io.ssl == 0 && s->level != TLS_NONE) {
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

/* step_greeting - the server must greet with 2xx */

static void step_greeting(struct session *s)
{
    struct smtp_reply reply;

    if (get_reply(s, &reply) < 0)
	return;
    s->io.watch_at = 0;				/* it greeted */
    if (reply.code / 100 != 2) {
	host_down(s, "host %s refused to talk to me: %s", reply.text);
	return;
    }
    s->state = S_EHLO;
}

/* has_ext - the EHLO reply offered keyword; *param gets its argument */

static int has_ext(const struct smtp_reply *reply, const char *keyword,
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

/* hello_name - helo_name, or (none set) the literal of our end of the connection */

static const char *hello_name(struct session *s)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);

    if (s->conf->helo_name[0])
	return (s->conf->helo_name);
    if (getsockname(s->io.fd, (struct sockaddr *) &ss, &len) < 0
	|| address_literal((struct sockaddr *) &ss, s->helo,
			   sizeof(s->helo)) < 0) {
	if (gethostname(s->helo, sizeof(s->helo) - 1) < 0)
	    snprintf(s->helo, sizeof(s->helo), "localhost");
	s->helo[sizeof(s->helo) - 1] = 0;
    }
    return (s->helo);
}

/* learn_features - what the EHLO keywords offer */

static void learn_features(struct session *s, const struct smtp_reply *reply)
{
    const char *size;

    memset(&s->feat, 0, sizeof(s->feat));
    s->feat.starttls = has_ext(reply, "STARTTLS", 0);
    if (has_ext(reply, "AUTH", &size) || has_ext(reply, "AUTH=", &size))
	snprintf(s->feat.auth, sizeof(s->feat.auth), "%s", size);
    s->feat.pipelining = has_ext(reply, "PIPELINING", 0);
    s->feat.eightbitmime = has_ext(reply, "8BITMIME", 0);
    s->feat.smtputf8 = has_ext(reply, "SMTPUTF8", 0);
    if ((s->feat.size = has_ext(reply, "SIZE", &size)) != 0)
	s->feat.size_limit = reply_size_limit(size);
    s->ext_count = reply->ext_count;
}

/* step_ehlo - EHLO, and learn what the server offers */

static void step_ehlo(struct session *s)
{
    struct smtp_reply reply;

    if (command(s, "EHLO %s\r\n", hello_name(s), &reply) < 0)
	return;
    if (reply.code / 100 == 5 && reply.code != 521) {
	s->state = S_HELO;
	return;
    }
    if (reply.code / 100 != 2) {
	host_down(s, "host %s refused EHLO: %s", reply.text);
	return;
    }
    learn_features(s, &reply);
    s->res->reached = 1;
    after_hello(s);
}

/* step_helo - HELO, for servers that refuse EHLO */

static void step_helo(struct session *s)
{
    struct smtp_reply reply;

    if (command(s, "HELO %s\r\n", hello_name(s), &reply) < 0)
	return;
    if (reply.code / 100 != 2) {
	host_down(s, "host %s refused HELO: %s", reply.text);
	return;
    }
    s->res->reached = 1;
    memset(&s->feat, 0, sizeof(s->feat));
    after_hello(s);
}

/* needs_utf8 - an envelope address needs SMTPUTF8 */

static int needs_utf8(const struct session *s)
{
    int     i;

    if (address_needs_utf8(s->req->sender))
	return (1);
    for (i = 0; i < s->npart; i++)
	if (address_needs_utf8(s->req->rcpts[s->part[i]].addr))
	    return (1);
    return (0);
}

/* refuse_all - a permanent result for every taking-part recipient */

static void refuse_all(struct session *s, const char *dsn, const char *why)
{
    struct rcpt *r;
    int     i;

    for (i = 0; i < s->npart; i++) {
	r = &s->req->rcpts[s->part[i]];
	rcpt_set(r, RCPT_PERM, dsn, "%s", why);
	log_rcpt(s, r, "bounced", r->reason);
    }
    s->state = S_QUIT;
}

/* mail_params - SIZE=, BODY= and SMTPUTF8 for MAIL FROM */

static void mail_params(struct session *s, char *buf, size_t len)
{
    size_t  used = 0;

    buf[0] = 0;
    if (s->feat.size)
	used += snprintf(buf + used, len - used, " SIZE=%lld",
			 (long long) spool_wire_estimate(s->req->spool));
    if (s->req->spool->eightbit && s->feat.eightbitmime && used < len)
	used += snprintf(buf + used, len - used, " BODY=8BITMIME");
    if (needs_utf8(s) && used < len)
	snprintf(buf + used, len - used, " SMTPUTF8");
}

/* step_mail - MAIL FROM (and, when pipelining, RCPT TO and DATA too) */

static void step_mail(struct session *s)
{
    struct smtp_reply reply;
    char    params[128];
    char    why[RCPT_REASON_MAX];
    int     i;

    if (s->feat.size && s->feat.size_limit > 0
	&& spool_wire_estimate(s->req->spool) > s->feat.size_limit) {
	snprintf(why, sizeof(why), "message size %lld exceeds size limit "
		 "%lld of server %s", (long long)
		 spool_wire_estimate(s->req->spool), s->feat.size_limit,
		 s->res->relay);
	refuse_all(s, "5.3.4", why);
	return;
    }
    if (needs_utf8(s) && !s->feat.smtputf8) {
	snprintf(why, sizeof(why), "SMTPUTF8 is required, but was not "
		 "offered by host %s", s->res->relay);
	refuse_all(s, "5.6.7", why);
	return;
    }
    mail_params(s, params, sizeof(params));
    if (queue_cmd(s, "MAIL FROM:<%s>%s\r\n", s->req->sender, params) < 0)
	return;
    if (s->feat.pipelining) {
	for (i = 0; i < s->npart; i++)
	    if (queue_cmd(s, "RCPT TO:<%s>%s\r\n",
			  s->req->rcpts[s->part[i]].addr, "") < 0)
		return;
	if (queue_cmd(s, "DATA\r\n%s%s", "", "") < 0)
	    return;
    }
    if (flush(s) < 0 || get_reply(s, &reply) < 0
	|| (reply.code == 421 && s->cache.reused)) {
	if ((s->cache.stale = s->cache.reused) != 0)
	    s->state = S_DONE;			/* smtp_deliver() connects */
	return;
    }
    if (reply.code / 100 == 2) {
	s->state = S_RCPT;
	return;
    }
    for (i = 0; i < s->npart; i++)
	rcpt_reply(s, &s->req->rcpts[s->part[i]], &reply);
    if (reply.code == 421)
	host_down(s, "host %s said: %s (in reply to MAIL FROM command)",
		  reply.text);
    else
	s->state = S_QUIT;
}

/* step_rcpt - one RCPT TO per recipient (already sent if pipelining) */

static void step_rcpt(struct session *s)
{
    struct smtp_reply reply;
    int     i;

    for (i = 0; i < s->npart; i++) {
	if (!s->feat.pipelining && queue_cmd(s, "RCPT TO:<%s>%s\r\n",
				      s->req->rcpts[s->part[i]].addr, "") < 0)
	    return;
	if (flush(s) < 0 || get_reply(s, &reply) < 0)
	    return;
	if (reply.code == 421) {
	    host_down(s, "host %s said: %s (in reply to RCPT TO command)",
		      reply.text);
	    return;
	}
	if (reply.code / 100 == 2) {
	    s->accepted[i] = 1;
	    s->naccepted++;
	} else {
	    rcpt_reply(s, &s->req->rcpts[s->part[i]], &reply);
	}
    }
    s->state = S_DATA;
}

/* step_data - DATA; with no recipient accepted, only clean up */

static void step_data(struct session *s)
{
    struct smtp_reply reply;

    if (s->naccepted == 0 && !s->feat.pipelining) {
	s->state = S_QUIT;
	return;
    }
    if (!s->feat.pipelining && queue_cmd(s, "DATA\r\n%s%s", "", "") < 0)
	return;
    if (flush(s) < 0 || get_reply(s, &reply) < 0)
	return;
    if (s->naccepted == 0) {
	/* Pipelined DATA that a broken server accepted with no recipient. */
	if (reply.code == 354) {
	    s->state = S_DOT;
	    (void) (queue_cmd(s, ".\r\n%s%s", "", "") == 0 && flush(s) == 0
		    && get_reply(s, &reply) == 0);
	}
	if (s->state != S_DONE)
	    s->state = S_QUIT;
	return;
    }
    if (reply.code == 354) {
	s->state = S_BODY;
	return;
    }
    if (reply.code == 421 || reply.code / 100 < 4) {
	host_down(s, "host %s said: %s (in reply to DATA command)",
		  reply.text);
	return;
    }
    accepted_reply(s, &reply);
    s->state = S_QUIT;
}

/* step_body - stream the spooled message, converted for the wire */

static void step_body(struct session *s)
{
    struct wire wire;
    off_t   offset = 0;
    ssize_t n;
    size_t  len;
    int     status;
    int     finished = 0;

    wire_init(&wire, WIRE_LINE_LIMIT);
    for (;;) {
	n = pread(s->req->spool->fd, body_in, sizeof(body_in), offset);
	if (n < 0 && errno == EINTR)
	    continue;
	if (n < 0) {
	    snprintf(s->res->error, sizeof(s->res->error), "read spool file: "
		     "%s", strerror(errno));
	    s->state = S_DONE;
	    return;
	}
	if (n == 0)
	    break;
	offset += n;
	len = wire_convert(&wire, body_in, (size_t) n, body_out);
	if (offset == s->req->spool->size) {	/* the end: one write */
	    len += wire_finish(&wire, body_out + len);
	    finished = 1;
	}
	status = netio_write(&s->io, body_out, len, state_deadline(s));
	if (status != NETIO_OK) {
	    io_fail(s, status);
	    return;
	}
	if (finished)
	    break;
    }
    if (!finished && (status = netio_write(&s->io, body_out,
					   wire_finish(&wire, body_out),
					   state_deadline(s))) != NETIO_OK) {
	io_fail(s, status);
	return;
    }
    s->state = S_DOT;
}

/* unknown_after_dot - no reply to the final dot: defer, try no other host */

static void unknown_after_dot(struct session *s)
{
    struct rcpt *r;
    int     i;

    for (i = 0; i < s->npart; i++) {
	if (!s->accepted[i])
	    continue;
	r = &s->req->rcpts[s->part[i]];
	rcpt_set(r, RCPT_TEMP, "4.4.2", "%s; the message may already be "
		 "delivered, so no other host is tried", s->res->error);
	r->final = 1;
	log_rcpt(s, r, "deferred", r->reason);
    }
}

/* step_dot - the reply to the final dot decides */

static void step_dot(struct session *s)
{
    struct smtp_reply reply;
    struct rcpt *r;
    int     i;

    if (get_reply(s, &reply) < 0) {
	unknown_after_dot(s);
	return;
    }
    if (reply.code / 100 != 2) {
	accepted_reply(s, &reply);
	if (reply.code == 421)
	    host_down(s, "host %s said: %s (in reply to end of DATA command)",
		      reply.text);
	else
	    s->state = S_QUIT;
	return;
    }
    for (i = 0; i < s->npart; i++) {
	if (!s->accepted[i])
	    continue;
	r = &s->req->rcpts[s->part[i]];
	rcpt_set(r, RCPT_SENT, reply.dsn, "%s", reply.text);
	log_rcpt(s, r, "sent", reply.text);
    }
    s->res->delivered = 1;
    s->state = S_QUIT;
}

/* reuse - rrelay-cache's idle connection to this destination, if any */

static int reuse(struct session *s, const struct dest *dest)
{
    struct cache_conn conn;
    struct smtp_reply reply;
    char   *bracket;

    s->cache.use = 1;
    if (s->wrapper || s->cred || s->level > TLS_MAY
	|| cache_key(s->cache.key, sizeof(s->cache.key), dest->text,
		     s->level, s->conf->helo_name) < 0) {
	s->cache.key[0] = 0;			/* never cached */
	return (0);
    }
    if (cache_get(s->conf, s->cache.key, s->req->deadline_ms, &conn) == 0)
	return (0);
    s->io.fd = conn.fd;
    s->cache.reused = 1;
    s->cache.use = conn.use + 1;
    snprintf(s->res->relay, sizeof(s->res->relay), "%s", conn.relay);
    snprintf(s->res->addr, sizeof(s->res->addr), "%s", conn.addr);
    snprintf(s->name_buf, sizeof(s->name_buf), "%s", conn.relay);
    if ((bracket = strchr(s->name_buf, '[')) != 0)
	*bracket = 0;
    s->name = s->name_buf;
    reply_init(&reply);
    reply.ext = s->ext;
    reply.ext_count = cache_ext_split(conn.ext, s->ext, EXT_MAX);
    learn_features(s, &reply);
    s->res->reached = 1;
    after_hello(s);
    return (1);
}

/* stash - give a delivered, idle plaintext connection to rrelay-cache */

static int stash(struct session *s)
{
    struct cache_conn conn;

    if (!s->res->delivered || !s->cache.key[0] || s->io.ssl || s->cmdlen
	|| netio_pending(&s->io) || (s->level != TLS_NONE && s->feat.starttls)
	|| cache_ext_join(s->ext, s->ext_count, conn.ext,
			  sizeof(conn.ext)) < 0)
	return (0);
    conn.fd = s->io.fd;
    conn.use = s->cache.use;
    snprintf(conn.relay, sizeof(conn.relay), "%s", s->res->relay);
    snprintf(conn.addr, sizeof(conn.addr), "%s", s->res->addr);
    if (cache_put(s->conf, s->cache.key, &conn) < 0)
	return (0);
    s->io.fd = -1;				/* the cache has it now */
    return (1);
}

/* step_quit - say goodbye; as Postfix's smtp(8), don't wait for the answer */

static void step_quit(struct session *s)
{
    long long deadline = netio_now_ms() + QUIT_WAIT_MS;

    if (deadline > s->req->deadline_ms)
	deadline = s->req->deadline_ms;
    if (s->io.ssl && s->res->reached && s->res->host == SMTP_HOST_OK
	&& (s->level < TLS_VERIFY || s->res->tls_verified))
	tls_resume_keep(s->conf, s->cache.tls_key, s->io.ssl);
    if (!stash(s))
	(void) netio_write(&s->io, "QUIT\r\n", 6, deadline);
    s->state = S_DONE;
}

/* run - drive the state machine until it is done */

static void run(struct session *s)
{
    while (s->state != S_DONE) {
	switch (s->state) {
	case S_GREETING:
	    step_greeting(s);
	    break;
	case S_EHLO:
	    step_ehlo(s);
	    break;
	case S_HELO:
	    step_helo(s);
	    break;
	case S_STARTTLS:
	    step_starttls(s);
	    break;
	case S_AUTH:
	    step_auth(s);
	    break;
	case S_MAIL:
	    step_mail(s);
	    break;
	case S_RCPT:
	    step_rcpt(s);
	    break;
	case S_DATA:
	    step_data(s);
	    break;
	case S_BODY:
	    step_body(s);
	    break;
	case S_DOT:
	    step_dot(s);
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

/* afresh - a reused connection failed before MAIL: a new one, no blame */

static void afresh(struct session *s, const struct dest *dest)
{
    log_debug("%s: reused connection to %s failed before MAIL FROM was "
	      "accepted (%s); connecting afresh", s->req->queue_id,
	      s->res->relay, s->res->error[0] ? s->res->error : "421");
    netio_close(&s->io);
    memset(s->res, 0, sizeof(*s->res));
    s->cache.reused = s->cache.stale = 0;
    s->cache.use = 1;
    s->state = S_CONNECT;
    do_connect(s, dest);
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
	do_connect(&s, dest);
    run(&s);
    if (s.cache.stale && !res->deadline)
	afresh(&s, dest);
    if (res->tls_retry && !res->deadline) {
	log_info("%s: %s; trying %s again without TLS, as security level "
		 "\"may\" allows", req->queue_id, res->error, res->relay);
	netio_close(&s.io);
	memset(res, 0, sizeof(*res));
	memset(&s.feat, 0, sizeof(s.feat));
	s.no_tls = 1;
	s.state = S_CONNECT;
	do_connect(&s, dest);
	run(&s);
    }

out:
    netio_close(&s.io);
    free(s.part);
    free(s.accepted);
}
