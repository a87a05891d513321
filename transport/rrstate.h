/* SPDX-License-Identifier: MIT */
#ifndef RR_RRSTATE_H
#define RR_RRSTATE_H

/* rrstate.h - round-robin cursor and host health, shared between processes */

#include <stdint.h>
#include <time.h>

#include "hostlist.h"

#define RRSTATE_MAGIC	"RRSTATE1"
#define RRSTATE_VERSION	2
#define RRSTATE_ADDR_MAX	64
#define RRSTATE_ERR_MAX	256
#define RRSTATE_PATH_MAX	4096

struct rr_head {
    char    magic[8];
    uint32_t version;
    uint32_t count;			/* destinations in the list */
    uint64_t hash;			/* hostlist_hash() of the list */
    uint64_t cursor;			/* index of the next host to use */
    int64_t updated;			/* time of the last write */
    uint64_t checksum;			/* FNV-1a of the file, this as 0 */
};

struct rr_host {
    char    dest[DEST_TEXT_MAX];	/* the destination as normalized */
    char    addr[RRSTATE_ADDR_MAX];	/* last address used, "ip:port" */
    int64_t down_until;			/* skip until then; 0 when up */
    int64_t last_change;		/* went up or down, or failed again */
    uint32_t failures;			/* consecutive failures */
    uint32_t flags;			/* RR_TLS_*: the last session */
    uint64_t sent;			/* messages delivered through it */
    char    last_error[RRSTATE_ERR_MAX];
    uint64_t deferred;			/* attempts it did not take (4xx, down) */
    uint64_t bounced;			/* attempts it refused for good (5xx) */
    uint64_t down_count;		/* times it went from up to down */
    int64_t state_since;		/* when it last went up or down; 0: never */
};

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
};

extern void rrstate_pick(struct rrstate *st, time_t now, long lease,
			         struct rr_pick *pick);
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
