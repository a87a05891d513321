/* SPDX-License-Identifier: MIT */
#ifndef RR_HOSTPOLICY_H
#define RR_HOSTPOLICY_H

/* hostpolicy.h - per-upstream capacity: weight, backup, rate, connections, quota */

#include <stddef.h>

#include "conf/hostlist.h"

#define HOSTPOLICY_MAX	256		/* entries in one file */

#define HP_WEIGHT_MAX	100
#define HP_RATE_MAX	1000000L	/* deliveries per interval */
#define HP_CONN_MAX	10000L		/* sessions at once */
#define HP_QUOTA_MAX	100000000L	/* recipients per window */

struct host_limits {
    int     weight;			/* 1 to 100; 1 when not set */
    int     backup;			/* 1: takes mail only when no primary can */
    long    rate;			/* deliveries per rate_per seconds; 0: no
					 * limit */
    long    rate_per;			/* 1, 60 or 3600 */
    long    max_conn;			/* sessions at once; 0: no limit */
    long    quota;			/* recipients per quota_per window; 0: none */
    long    quota_per;			/* 3600 (clock hour) or 86400 (UTC day) */
};

struct host_policy_entry {
    char    dest[DEST_TEXT_MAX];	/* normalized destination */
    struct host_limits lim;
};

struct host_policy {
    int     count;
    struct host_policy_entry entries[HOSTPOLICY_MAX];
};

extern int hostpolicy_load(const char *path, struct host_policy *policy,
			           char *err, size_t errlen);
extern void hostpolicy_limits(const struct host_policy *policy,
			              const char *dest, struct host_limits *lim);
extern int hostpolicy_format(const struct host_limits *lim, char *buf,
			             size_t len);

#endif
