/* SPDX-License-Identifier: MIT */
#ifndef RR_PROM_H
#define RR_PROM_H

/* prom.h - per-host metrics for Prometheus, as a node_exporter textfile */

#include <stddef.h>
#include <stdio.h>
#include <time.h>

#include "state/rrstate.h"

extern int prom_due(const char *dir);
extern int prom_flush(const char *dir, int changed, char *why,
			      size_t whylen);
extern int prom_write(const char *dir, char *why, size_t whylen);
extern void prom_header(FILE *out);
extern void prom_list(FILE *out, const struct rr_head *head,
		              struct rr_host *hosts, time_t now);

#endif
