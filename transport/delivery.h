/* SPDX-License-Identifier: MIT */
#ifndef RR_DELIVERY_H
#define RR_DELIVERY_H

/* delivery.h - one message from rrelay's command line to its outcome */

#include "msg/outcome.h"
#include "conf/rrconfig.h"

#define DELIVERY_OVERRIDES_MAX	64

struct delivery {
    const char *config;			/* -c, or the default */
    int     config_given;
    char   *overrides[DELIVERY_OVERRIDES_MAX];	/* -o NAME=VALUE */
    int     n_overrides;
    const char *queue_id;		/* -q, or "NOQUEUE" */
    const char *sender;			/* -f */
    const char *destinations;		/* -n */
    char  **rcpts;			/* after -- */
    int     nrcpt;
    struct rrconfig conf;
    int     conf_loaded;
    int     (*gone) (void *);		/* nonzero: nobody waits for the outcome */
    void   *gone_ctx;
};

extern int delivery_args(int argc, char **argv, struct delivery *d,
			         char *err, size_t errlen);
extern int delivery_setup(struct delivery *d, int argc, char **argv,
			          struct outcome *out);
extern void delivery_run(struct delivery *d, int in_fd, long long start_ms,
			         long long deadline_ms, struct outcome *out);
extern void delivery_free(struct delivery *d);

#endif
