/* SPDX-License-Identifier: MIT */
#ifndef RR_STATUS_H
#define RR_STATUS_H

/* status.h - "rrelay status": print the shared state of every host list */

#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "state/rrstate.h"

extern int status_print(const char *dir, FILE *out);
extern void status_escape(const char *in, char *out, size_t outlen);
extern int status_list(const char *dir, char ***names, size_t *count);
extern int status_read(const char *path, struct rr_head *head,
			       struct rr_host *hosts, char *why, size_t whylen);
extern const char *status_tls_text(uint32_t flags);
extern const char *status_state(const struct rr_host *host, time_t now);
extern uint64_t status_quota_used(const struct rr_host *host, time_t now);
extern int status_print_json(const char *dir, FILE *out, long long now);

#endif
