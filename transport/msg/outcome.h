/* SPDX-License-Identifier: MIT */
#ifndef RR_OUTCOME_H
#define RR_OUTCOME_H

/* outcome.h - per-recipient results and the pipe(8) exit status */

#define RCPT_REASON_MAX	768

enum rcpt_state {
    RCPT_PENDING,			/* not yet decided */
    RCPT_SENT,				/* 2xx to the final dot */
    RCPT_TEMP,				/* temporary: 4xx, or unknown after dot */
    RCPT_PERM,				/* permanent: 5xx or bad syntax */
};

struct rcpt {
    const char *addr;
    enum rcpt_state state;
    int     final;			/* no other host may be tried */
    char    dsn[16];
    char    reason[RCPT_REASON_MAX];
    char    unable[16];			/* the last host could not take it:
					 * this DSN (5.6.7, 5.3.4) if none can */
};

#define EXIT_SENT	0
#define EXIT_BOUNCE	69		/* EX_UNAVAILABLE */
#define EXIT_DEFER	75		/* EX_TEMPFAIL */

struct outcome {
    int     status;			/* EXIT_SENT, EXIT_BOUNCE, EXIT_DEFER */
    char    text[1024];			/* "D.D.D reason", or empty */
    int     handback_temp;		/* resubmit the temporary class */
    int     handback_perm;		/* resubmit the permanent class */
};

extern void rcpt_set(struct rcpt *rcpt, enum rcpt_state state,
		             const char *dsn, const char *fmt,...)
	__attribute__((format(printf, 4, 5)));
extern void outcome_decide(const struct rcpt *rcpts, int count,
			           struct outcome *outcome);
extern void outcome_defer(struct outcome *outcome, const char *dsn,
			          const char *fmt,...)
	__attribute__((format(printf, 3, 4)));

#endif
