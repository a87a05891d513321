/* SPDX-License-Identifier: MIT */
#ifndef RR_HANDOFF_CLIENT_H
#define RR_HANDOFF_CLIENT_H

/* handoff_client.h - a thin rrelay: hand the whole delivery to a worker */

#include "conf/rrconfig.h"
#include "msg/outcome.h"

enum { HANDOFF_SELF, HANDOFF_DONE };

extern int handoff_deliver(const struct rrconfig *conf, const char *queue_id,
			           int argc, char **argv, long long start_ms,
			           long long deadline_ms, struct outcome *out);

#endif
