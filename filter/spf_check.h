/* SPDX-License-Identifier: MIT */
#ifndef RR_SPF_CHECK_H
#define RR_SPF_CHECK_H

/* spf_check.h - the SPF check: client ip, HELO and MAIL FROM to a result */

#include <stddef.h>
#include <time.h>

#include "spf_eval.h"
#include "spf_lib.h"

#define SPF_DOMAIN_MAX	253		/* longest domain checked */
#define SPF_ADDR_MAX	512		/* longest MAIL FROM address kept */

enum spf_ident {
    SPFI_MAILFROM,			/* RFC 7208 2.4 */
    SPFI_HELO,				/* RFC 7208 2.3 */
};

struct spf_engine {
    SPF_dns_server_t *resolver;		/* our resolver layer, or a zone */
    int     own_resolver;		/* free resolver with the engine */
    char    receiver[SPF_NAME_MAX + 1];	/* %{r} */
};

struct spf_verdict {
    enum spf_res result;
    enum spf_ident identity;
    char    reason[SPF_REASON_MAX];	/* why none/permerror/temperror */
    char    explanation[BUDGET_EXP_MAX];/* the domain's, for fail */
};

struct spf_env {
    const char *ip;			/* client address text */
    const char *helo;			/* HELO/EHLO name, or null */
    const char *from;			/* MAIL FROM address; "" or null: <> */
    int     helo_check;			/* also check the HELO identity */
    long    timeout;			/* seconds for all DNS work */
};

extern int spf_engine_init(struct spf_engine *engine, const char *receiver,
			           SPF_dns_server_t *below, char *err,
			           size_t errlen);
extern void spf_engine_free(struct spf_engine *engine);
extern void spf_check_message(const struct spf_engine *engine,
			              const struct spf_env *env,
			              struct spf_verdict *verdict);
extern void spf_check_identity(const struct spf_engine *engine,
			               const char *ip, const char *helo,
			               const char *from,
			               const struct timespec *deadline,
			               struct spf_verdict *verdict);
extern const char *spf_res_name(enum spf_res result);
extern const char *spf_ident_name(enum spf_ident identity);
extern int spf_domain_ok(const char *domain);
extern const char *spf_sender_domain(const char *from);

#endif
