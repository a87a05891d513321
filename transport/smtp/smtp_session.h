/* SPDX-License-Identifier: MIT */
#ifndef RR_SMTP_SESSION_H
#define RR_SMTP_SESSION_H

/* smtp_session.h - one SMTP session's state, shared by the smtp_*.c modules */

#include <stddef.h>

#include "ipc/cache_client.h"
#include "net/netio.h"
#include "smtp/smtp_auth.h"
#include "smtp/smtp_client.h"
#include "net/smtp_reply.h"

#define EXT_MAX		32		/* EHLO keyword lines kept */
#define CMD_BUF		8192		/* pipelined commands per write */
#define BODY_BLOCK	65536		/* spool bytes per body write */
#define QUIT_WAIT_MS	5000		/* at most, to write QUIT */
#define QUIT_REPLY_MS	2000		/* at most, for its reply (max_connections) */
#define RSET_TIMEOUT	20		/* seconds, at most, for RSET's reply */

enum smtp_state {
    S_CONNECT, S_GREETING, S_EHLO, S_HELO, S_STARTTLS, S_AUTH, S_RSET, S_MAIL,
    S_RCPT, S_DATA, S_BODY, S_DOT, S_QUIT, S_DONE,
};

/* What Postfix says about each state in its log (smtp_chat.c). */
extern const char *const smtp_state_where[];

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
    struct cache_tls tls_end;		/* rrelay-cache as the TLS end */
    char    cmd[CMD_BUF];
    size_t  cmdlen;
    char    helo[256];			/* helo_name, or our address literal */
    int     sat;			/* SAT_*: what the last reply said */
};

/* smtp_tls_on - the session is encrypted, here or by rrelay-cache */
#define smtp_tls_on(s) \
    ((s)->io.ssl != 0 || ((s)->tls_end.flags & CACHE_TLS_ACTIVE) != 0)

extern void smtp_tls_end_learn(struct session *s, const struct cache_tls *t);
extern void smtp_accepted_reply(struct session *s, const struct smtp_reply *reply);
extern void smtp_after_hello(struct session *s);
extern int smtp_command(struct session *s, const char *fmt, const char *arg, struct smtp_reply *reply);
extern void smtp_do_connect(struct session *s, const struct dest *dest);
extern int smtp_flush(struct session *s);
extern int smtp_get_reply(struct session *s, struct smtp_reply *reply);
extern int smtp_has_ext(const struct smtp_reply *reply, const char *keyword, const char **param);
extern void smtp_host_down(struct session *s, const char *fmt, const char *arg);
extern void smtp_io_fail(struct session *s, int status);
extern void smtp_learn_features(struct session *s, const struct smtp_reply *reply);
extern void smtp_log_rcpt(struct session *s, const struct rcpt *r, const char *status, const char *text);
extern void smtp_policy_down(struct session *s, const char *dsn, const char *fmt, const char *arg);
extern int smtp_queue_cmd(struct session *s, const char *fmt, const char *a, const char *b);
extern void smtp_rcpt_reply(struct session *s, struct rcpt *r, const struct smtp_reply *reply);
extern void smtp_refuse_all(struct session *s, const char *dsn, const char *why);
extern void smtp_unable_all(struct session *s, const char *dsn, const char *why);
extern void smtp_slow_left(struct session *s);
extern long long smtp_state_deadline(const struct session *s);
extern void smtp_step_auth(struct session *s);
extern void smtp_step_body(struct session *s);
extern void smtp_step_data(struct session *s);
extern void smtp_step_dot(struct session *s);
extern void smtp_step_ehlo(struct session *s);
extern void smtp_step_greeting(struct session *s);
extern void smtp_step_helo(struct session *s);
extern void smtp_step_mail(struct session *s);
extern void smtp_step_rcpt(struct session *s);
extern void smtp_step_starttls(struct session *s);
extern void smtp_start_tls(struct session *s);
extern void smtp_watch_greeting(struct session *s);

#endif
