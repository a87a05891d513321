/* SPDX-License-Identifier: MIT */
#ifndef RR_RRSTATE_H
#define RR_RRSTATE_H

/* rrstate.h - round-robin cursor and host health, shared between processes */

#include <stdint.h>
#include <time.h>

#include "conf/hostlist.h"
#include "conf/hostpolicy.h"
#include "state/rrfile.h"

#define RR_RESULT_DEFERRED	1	/* for rrstate_count_result() */
#define RR_RESULT_BOUNCED	2

#define RR_TLS_USED	1		/* the last session used TLS */
#define RR_TLS_VERIFIED	2		/* ... with a verified certificate */

struct rrstate {
    int     fd;				/* -1: this run keeps state in memory */
    int     whole;			/* the file read was sound: same size */
    long    max_down;			/* cap on down_until - now; 0: none */
    char    path[RRSTATE_PATH_MAX];
    const struct hostlist *list;
    struct rr_head head;
    struct rr_host hosts[HOSTLIST_MAX];
};

struct rr_change {
    int     changed;			/* went up, or went down */
    uint32_t failures;			/* before mark_up, after mark_down */
    int     counted;			/* mark_down: a new failure */
    long    backoff;			/* seconds, after mark_down */
};

extern void rrstate_open(struct rrstate *st, const char *dir,
			         const struct hostlist *list);
extern void rrstate_limit(struct rrstate *st, long max_backoff);
extern void rrstate_close(struct rrstate *st);
struct rr_pick {
    int     index;			/* the host chosen, or -1 */
    int     probe;			/* every host is down: probing index */
    int     nskipped;			/* down hosts passed over, in order */
    int     skipped[HOSTLIST_MAX];
    /* with a capacity context (rrstate_pick_cap) */
    int     why[HOSTLIST_MAX];		/* per host: AVAIL_* (sched.h) */
    int     backup;			/* index is a backup host */
    int64_t wait_us;			/* none now: try again then (0: never) */
    int     nbusy;			/* hosts busy after a quiet minute */
    int     busy[HOSTLIST_MAX];
    int     quota_now_full;		/* index's quota is used up by this one */
};

/* What the capacity scheduler needs beside the state (host_policy_file). */
struct rr_cap {
    const struct host_limits *lims;	/* per host, in list order */
    int     nrcpt;			/* recipients this message offers */
    int     waited;			/* the message already waited once */
    int     (*slot_take) (void *ctx, int index);	/* 1: a session slot held */
    void   *slot_ctx;
};

extern void rrstate_begin(struct rrstate *st, time_t now);
extern void rrstate_commit(struct rrstate *st, time_t now);
extern void rrstate_take(struct rr_host *host, time_t now, long lease);
extern void rrstate_pick(struct rrstate *st, time_t now, long lease,
			         struct rr_pick *pick);
extern void rrstate_pick_cap(struct rrstate *st, const struct rr_cap *cap,
			             const int *tried, int probe, int64_t now_us,
			             long lease, struct rr_pick *pick);
extern void rrstate_saturate(struct rrstate *st, int index, int cls,
			             time_t until, const char *reply, time_t now,
			             struct rr_change *change);
extern int64_t rrstate_mail_gate(struct rrstate *st, int index,
				          const struct host_limits *lim,
				          int64_t now_us);
extern void rrstate_quota_settle(struct rrstate *st, int index,
			                 const struct host_limits *lim,
			                 int reserved, int used, time_t now);
extern void rrstate_next(struct rrstate *st, int after, const int *tried,
			         time_t now, long lease, struct rr_pick *pick);
extern void rrstate_mark_up(struct rrstate *st, int index, const char *addr,
			            uint32_t flags, uint32_t sent, time_t now,
			            struct rr_change *change);
extern void rrstate_mark_down(struct rrstate *st, int index, const char *addr,
			              const char *error, time_t since, time_t now,
			              long backoff, long max_backoff,
			              struct rr_change *change);
extern int rrstate_other_live(struct rrstate *st, int index,
			               const int *tried, time_t now);
extern void rrstate_count_sent(struct rrstate *st, int index, time_t now);
extern void rrstate_count_result(struct rrstate *st, int index, int result,
				         time_t now);
extern void rrstate_note_error(struct rrstate *st, int index,
			               const char *error, time_t now);
extern int rrstate_read(int fd, struct rr_head *head, struct rr_host *hosts,
			        char *why, size_t whylen);
extern long rrstate_backoff(uint32_t failures, long backoff, long max_backoff);

#endif
