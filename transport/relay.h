/* SPDX-License-Identifier: MIT */
#ifndef RR_RELAY_H
#define RR_RELAY_H

/* relay.h - choose hosts for one message and fail over between them */

#include "capacity.h"
#include "conf/hostlist.h"
#include "state/rrstate.h"
#include "smtp/smtp_client.h"

struct relay {
    const struct hostlist *list;
    struct rrstate *state;
    struct smtp_request *req;
    struct capacity *cap;		/* host_policy_file's limits, or null */
    char    delivered_via[320];		/* the last host that took it */
    int     changed;			/* a host changed state: log, metrics */
};

extern void relay_message(struct relay *relay);

#endif
