/* SPDX-License-Identifier: MIT */
#ifndef RR_SPF_BUDGET_H
#define RR_SPF_BUDGET_H

/* spf_budget.h - one check's RFC 7208 4.6.4 limits and its deadline */

#include <time.h>

#define BUDGET_MAX_TERMS	10	/* DNS-querying terms per check */
#define BUDGET_MAX_VOIDS	2	/* void lookups per check */
#define BUDGET_SUB_MAX		10	/* MX/PTR names followed per term */
#define BUDGET_EXP_MAX		512	/* longest explanation kept */

enum budget_stop {
    BUDGET_OK,				/* within every limit */
    BUDGET_TERMS,			/* more than 10 DNS terms */
    BUDGET_VOIDS,			/* more than 2 void lookups */
    BUDGET_TIME,			/* past the deadline */
};

struct spf_budget {
    struct timespec deadline;		/* CLOCK_MONOTONIC */
    int     terms;			/* DNS-querying terms so far */
    int     voids;			/* void lookups so far */
    enum budget_stop stop;		/* why evaluation was stopped */
};

extern void budget_begin(struct spf_budget *budget,
			         const struct timespec *deadline);
extern void budget_end(void);
extern long budget_ms_left(void);
extern int budget_count_term(struct spf_budget *budget);
extern int budget_count_void(struct spf_budget *budget);
extern int budget_out_of_time(struct spf_budget *budget);
extern const char *budget_stop_text(enum budget_stop stop);
extern void budget_deadline(struct timespec *deadline, long seconds);

#endif
