/* SPDX-License-Identifier: MIT */
#ifndef RR_POLICY_H
#define RR_POLICY_H

/* policy.h - SPF result to action, and the SMTP reply for a refusal */

#include <stddef.h>

#include "spf_check.h"

#define POLICY_TEXT_MAX	300		/* reply text, after % escaping */

enum policy_action {
    ACT_MARK,				/* accept, add headers */
    ACT_REJECT,				/* 5xx */
    ACT_DEFER,				/* 4xx */
};

struct policy {
    enum policy_action on[SPFR_COUNT];
};

struct policy_reply {
    char    code[4];			/* "550" */
    char    xcode[8];			/* "5.7.23" */
    char    text[POLICY_TEXT_MAX];	/* '%' already doubled */
};

extern void policy_init(struct policy *policy);
extern enum policy_action policy_decide(const struct policy *policy,
					        enum spf_res result);
extern const char *policy_action_name(enum policy_action action);
extern void policy_reply(const struct spf_verdict *verdict,
			         const char *domain, const char *ip,
			         struct policy_reply *reply);
extern int policy_printable(const char *text);
extern void policy_escape(const char *in, char *out, size_t outlen);

#endif
