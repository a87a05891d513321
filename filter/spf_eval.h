/* SPDX-License-Identifier: MIT */
#ifndef RR_SPF_EVAL_H
#define RR_SPF_EVAL_H

/* spf_eval.h - RFC 7208 check_host() over a libspf2 DNS layer */

#include "spf_budget.h"
#include "spf_lib.h"
#include "spf_macro.h"

#define SPF_REASON_MAX	96		/* room for a short problem text */

enum spf_res {
    SPFR_NONE,
    SPFR_NEUTRAL,
    SPFR_PASS,
    SPFR_FAIL,
    SPFR_SOFTFAIL,
    SPFR_TEMPERROR,
    SPFR_PERMERROR,
    SPFR_COUNT,
};

/* One check_host() call: the DNS to ask and the macro values. */

struct spf_query {
    SPF_dns_server_t *dns;		/* lookups go here */
    struct spf_macro_env env;		/* sender, client, HELO, receiver */
};

struct spf_outcome {
    enum spf_res result;
    char    reason[SPF_REASON_MAX];	/* why none/permerror/temperror */
    char    explanation[BUDGET_EXP_MAX];/* the domain's exp=, for fail */
};

extern void spf_eval(const struct spf_query *query, const char *domain,
		             struct spf_budget *budget,
		             struct spf_outcome *outcome);

#endif
