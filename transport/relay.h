/* SPDX-License-Identifier: MIT */
#ifndef RR_RELAY_H
#define RR_RELAY_H

/* relay.h - choose hosts for one message and fail over between them */

#include "hostlist.h"
#include "rrstate.h"
#include "smtp_client.h"

struct relay {
    const struct hostlist *list;
    struct rrstate *state;
    struct smtp_request *req;
    char    delivered_via[320];		/* the last host that took it */
};

extern void relay_message(struct relay *relay);

#endif
