#ifndef RR_SPF_BUDGET_H
#define RR_SPF_BUDGET_H

/* spf_budget.h - RFC 7208 4.6.4 limits and the time limit, as a DNS layer */

#include <time.h>

#include "spf_lib.h"

#define BUDGET_MAX_TERMS	10	/* DNS-querying terms per check */
#define BUDGET_MAX_VOIDS	2	/* void lookups per check */
#define BUDGET_SUB_MAX		10	/* MX/PTR names followed per term */
#define BUDGET_NAME_MAX		256	/* longest name remembered */
#define BUDGET_EXP_MAX		512	/* longest explanation kept */

enum budget_stop {
    BUDGET_OK,				/* within every limit */
    BUDGET_TERMS,			/* more than 10 DNS terms */
    BUDGET_VOIDS,			/* more than 2 void lookups */
    BUDGET_TIME,			/* past the deadline */
};

struct spf_budget {
    struct timespec deadline;		/* CLOCK_MONOTONIC */
    SPF_request_t *request;		/* for explanation macros */
    int     fetches;			/* SPF record fetches so far */
    int     terms;			/* DNS-querying terms so far */
    int     voids;			/* void lookups so far */
    enum budget_stop stop;		/* why evaluation was stopped */
    int     sub_count;			/* names of the last mx/ptr term */
    int     sub_next;			/* next expected address lookup */
    char    sub_names[BUDGET_SUB_MAX][BUDGET_NAME_MAX];
};

extern SPF_dns_server_t *budget_layer_new(SPF_dns_server_t *below);
extern void budget_begin(struct spf_budget *budget,
			         const struct timespec *deadline,
			         SPF_request_t *request);
extern void budget_end(void);
extern long budget_ms_left(void);
extern const char *budget_stop_text(enum budget_stop stop);
extern void budget_deadline(struct timespec *deadline, long seconds);

#endif
