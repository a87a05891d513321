/* SPDX-License-Identifier: MIT */
#ifndef RR_CAPACITY_H
#define RR_CAPACITY_H

/* capacity.h - each upstream's limits: choose, wait, log, count */

#include "conf/hostlist.h"
#include "conf/hostpolicy.h"
#include "conf/rrconfig.h"
#include "smtp/smtp_client.h"
#include "state/rrstate.h"
#include "state/slots.h"

/* What the MAIL FROM gate needs: which host, and where its state is. */
struct mail_gate {
    struct capacity *cap;
    struct rrstate *st;
    int     index;
};

struct capacity {
    struct host_limits lims[HOSTLIST_MAX];	/* per host, in list order */
    int     limited;			/* some host has max_connections */
    struct slots slots;			/* ... its session slots */
    long    rate_wait;			/* seconds a message may wait */
    long long wait_until_ms;		/* a message waits for a slot until */
    int     waited;			/* this message has waited */
    int     busy_out;			/* it gave up waiting */
};

extern void capacity_init(struct capacity *cap, const struct rrconfig *conf,
			          const struct hostlist *list);
extern void capacity_close(struct capacity *cap);
extern void capacity_start(struct capacity *cap, const struct smtp_request *req);
extern int capacity_pick(struct capacity *cap, struct rrstate *st,
			          const struct smtp_request *req,
			         const int *tried, int probe, long lease,
			         struct rr_pick *pick);
extern void capacity_mail_gate(void *ctx);
extern void capacity_done(struct capacity *cap, struct rrstate *st,
			          int index, int reserved, int used);
extern int capacity_saturate(const struct capacity *cap, struct rrstate *st,
			              const struct smtp_request *req, int index,
			              const struct smtp_result *res);
extern void capacity_nowhere(const struct capacity *cap,
			             const struct rrstate *st,
			             const struct rr_pick *pick, char *dsn,
			             size_t dsnlen, char *why, size_t whylen);

#endif
