/* SPDX-License-Identifier: MIT */
#ifndef RR_CACHE_TLS_H
#define RR_CACHE_TLS_H

/* cache_tls.h - rrelay-cache as the TLS end of rrelay's connections */

#include "ipc/cache_proto.h"
#include "conf/rrconfig.h"

extern int cache_tls_serve(const struct rrconfig *conf, int client,
			           const struct cache_msg *req, int tcp,
			           int running, void (*forget) (void *),
			           void *forget_ctx);

#endif
