/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	policy 3
 * SUMMARY
 *	what to do with each SPF result, and what to say when refusing
 * SYNOPSIS
 *	#include "policy.h"
 *
 *	void	policy_init(policy)
 *	enum policy_action policy_decide(policy, result)
 *	const char *policy_action_name(action)
 *
 *	void	policy_reply(verdict, domain, ip, reply)
 *	int	policy_printable(text)
 *	void	policy_escape(in, out, outlen)
 * DESCRIPTION
 *	policy_init() sets the table to "mark" for every result;
 *	milterconf fills in the on_* settings. pass and neutral are
 *	always marked. policy_decide() looks the result up.
 *
 *	policy_reply() gives the SMTP reply for a refused message (RFC
 *	7372 codes):
 *
 *	  fail       550 5.7.23 the domain's explanation when it is
 *	                        printable ASCII, else a fixed text
 *	  softfail   550 5.7.1
 *	  none       550 5.7.1
 *	  permerror  550 5.7.24
 *	  temperror  451 4.7.24
 *
 *	The fixed texts name the result; they show the sender domain
 *	only when it is a valid domain name (spf_domain_ok), and the
 *	problem found for errors. '%' is doubled, as smfi_setreply()
 *	wants, and the text is cut to fit POLICY_TEXT_MAX.
 *
 *	policy_printable() tells whether text is non-empty printable
 *	ASCII. policy_escape() doubles every '%'.
 */

#include <stdio.h>
#include <string.h>

#include "policy.h"

/* policy_init - mark everything */

void    policy_init(struct policy *policy)
{
    int     i;

    for (i = 0; i < SPFR_COUNT; i++)
	policy->on[i] = ACT_MARK;
}

/* policy_decide - the action for a result */

enum policy_action policy_decide(const struct policy *policy,
				         enum spf_res result)
{
    if ((unsigned) result >= SPFR_COUNT)
	return (ACT_DEFER);		/* cannot happen; be safe */
    if (result == SPFR_PASS || result == SPFR_NEUTRAL)
	return (ACT_MARK);
    return (policy->on[result]);
}

/* policy_action_name - action keyword for logs */

const char *policy_action_name(enum policy_action action)
{
    switch (action) {
    case ACT_REJECT:
	return ("reject");
    case ACT_DEFER:
	return ("defer");
    default:
	return ("mark");
    }
}

/* policy_printable - non-empty, printable ASCII only */

int     policy_printable(const char *text)
{
    const unsigned char *cp = (const unsigned char *) text;

    if (*cp == 0)
	return (0);
    for (; *cp; cp++)
	if (*cp < 0x20 || *cp >= 0x7f)
	    return (0);
    return (1);
}

/* policy_escape - double every '%', cut to fit */

void    policy_escape(const char *in, char *out, size_t outlen)
{
    size_t  n = 0;

    for (; *in && n + (*in == '%' ? 2 : 1) < outlen; in++) {
	if (*in == '%')
	    out[n++] = '%';
	out[n++] = *in;
    }
    out[n] = 0;
}

/* policy_codes - fill in the reply and enhanced status codes */

static void policy_codes(struct policy_reply *reply, const char *code,
			         const char *xcode)
{
    snprintf(reply->code, sizeof(reply->code), "%s", code);
    snprintf(reply->xcode, sizeof(reply->xcode), "%s", xcode);
}

/* policy_reply - the reply for refusing a message with this verdict */

void    policy_reply(const struct spf_verdict *v, const char *domain,
		             const char *ip, struct policy_reply *reply)
{
    char    text[POLICY_TEXT_MAX];
    const char *dom = spf_domain_ok(domain) ? domain : "the sender domain";
    const char *res = spf_res_name(v->result);

    switch (v->result) {
    case SPFR_FAIL:
	policy_codes(reply, "550", "5.7.23");
	if (policy_printable(v->explanation))
	    snprintf(text, sizeof(text), "%s", v->explanation);
	else
	    snprintf(text, sizeof(text), "SPF %s: %s does not allow mail "
		     "from %s", res, dom, ip);
	break;
    case SPFR_TEMPERROR:
	policy_codes(reply, "451", "4.7.24");
	snprintf(text, sizeof(text), "SPF %s checking %s: %s; try again "
		 "later", res, dom, v->reason);
	break;
    case SPFR_PERMERROR:
	policy_codes(reply, "550", "5.7.24");
	snprintf(text, sizeof(text), "SPF %s in the policy of %s: %s",
		 res, dom, v->reason);
	break;
    case SPFR_SOFTFAIL:
	policy_codes(reply, "550", "5.7.1");
	snprintf(text, sizeof(text), "SPF %s: %s does not allow mail "
		 "from %s", res, dom, ip);
	break;
    default:
	policy_codes(reply, "550", "5.7.1");
	snprintf(text, sizeof(text), "SPF %s: %s cannot be verified (%s)",
		 res, dom, v->reason);
	break;
    }
    policy_escape(text, reply->text, sizeof(reply->text));
}
