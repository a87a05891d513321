/* SPDX-License-Identifier: MIT */
#ifndef RR_RRFILE_H
#define RR_RRFILE_H

/* rrfile.h - the records of a state file, shared by rrstate.c and sched.c */

#include <stdint.h>

#include "conf/hostlist.h"

#define RRSTATE_MAGIC	"RRSTATE1"
#define RRSTATE_VERSION	3
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
    /* version 3: the capacity scheduler (sched.c), with host_policy_file */
    int64_t swrr_current;		/* smooth weighted round-robin */
    int64_t rate_tat_us;		/* GCRA: the next start allowed, in us */
    int64_t quota_window;		/* start of the window quota_used is in */
    uint64_t quota_used;		/* recipients in it, reserved ones too */
    int64_t saturated_until;		/* it said it is full: skip until then */
    uint32_t sat_class;			/* SAT_THROTTLE or SAT_QUOTA */
    uint32_t spare;			/* zero */
    int64_t busy_last;			/* the last time it was passed over busy */
    int64_t mail_tat_us;		/* GCRA at the wire: the next MAIL FROM */
    uint64_t busy_skips;		/* passed over at a rate or conn limit */
    uint64_t sat_throttle;		/* throttle replies */
    uint64_t sat_quota;			/* quota replies, and quotas used up */
    uint64_t rate_waits;		/* messages that waited for its slot */
    char    sat_reply[RRSTATE_ERR_MAX];	/* the reply that saturated it */
    /* its limits as the last delivery read them, for rrelay status */
    uint32_t weight;			/* 0: no host_policy_file in use */
    uint32_t backup;
    int64_t rate;
    int64_t rate_per;
    int64_t max_conn;
    int64_t quota;
    int64_t quota_per;
};

#endif
