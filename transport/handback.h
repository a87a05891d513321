/* SPDX-License-Identifier: MIT */
#ifndef RR_HANDBACK_H
#define RR_HANDBACK_H

/* handback.h - resubmit some recipients to Postfix as a new message */

#include <stddef.h>

#include "msg/outcome.h"
#include "conf/rrconfig.h"
#include "msg/spool.h"

extern int handback(const struct rrconfig *conf, const char *queue_id,
		            const struct spool *spool, const char *sender,
		            struct rcpt *rcpts, int nrcpt, enum rcpt_state which,
		            char *why, size_t whylen);

#endif
