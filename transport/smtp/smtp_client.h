/* SPDX-License-Identifier: MIT */
#ifndef RR_SMTP_CLIENT_H
#define RR_SMTP_CLIENT_H

/* smtp_client.h - one SMTP session with one destination */

#include "conf/hostlist.h"
#include "msg/outcome.h"
#include "conf/rrconfig.h"
#include "msg/spool.h"

struct smtp_request {
    const struct rrconfig *conf;
    const char *queue_id;
    const char *sender;
    struct rcpt *rcpts;			/* those RCPT_PENDING take part */
    int     nrcpt;
    const struct spool *spool;
    long long start_ms;			/* for delay= in the log */
    long long deadline_ms;		/* the whole run ends here */
    int     no_keep;			/* never hand the connection to the cache */
    void    (*before_mail) (void *);	/* just before MAIL FROM: a rate gate */
    void   *mail_ctx;
    int     (*slow_host) (void *);	/* no greeting after greeting_grace: */
    void   *slow_ctx;			/* ... nonzero to give up on the host */
    int     (*before_dot) (void *);	/* nonzero: send no final dot, stop */
    void   *dot_ctx;
};

enum smtp_host { SMTP_HOST_OK, SMTP_HOST_DOWN };

struct smtp_result {
    enum smtp_host host;		/* SMTP_HOST_DOWN: mark it down */
    int     reached;			/* EHLO/HELO was accepted */
    int     delivered;			/* 2xx to the final dot */
    int     deadline;			/* the run's deadline ran out */
    char    relay[320];			/* "name[addr]:port" */
    char    addr[64];			/* "addr:port", for the state file */
    char    error[RCPT_REASON_MAX];	/* why down, or the last bad reply */
    char    dsn[16];			/* for give-up: 4.7.8 after AUTH */
    int     local_error;		/* trouble of our own, not the host's */
    int     tls_retry;			/* "may": try again in plaintext */
    int     tls_active;
    int     tls_verified;
    char    tls[128];			/* "TLSv1.3/CIPHER verified" */
    char    auth_user[256];		/* who we logged in as */
    int     saturated;			/* SAT_*: a reply said the host is full */
    const char *sat_rule;		/* which rule said so, for the log */
    char    sat_reply[RCPT_REASON_MAX];	/* "host X said: ..." */
};

extern void smtp_deliver(const struct dest *dest, struct smtp_request *req,
			         struct smtp_result *res);

#endif
