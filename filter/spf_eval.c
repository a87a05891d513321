/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	spf_eval 3
 * SUMMARY
 *	RFC 7208 check_host(): evaluate SPF records over a DNS layer
 * SYNOPSIS
 *	#include "spf_eval.h"
 *
 *	void	spf_eval(query, domain, budget, outcome)
 * DESCRIPTION
 *	spf_eval() runs check_host() (RFC 7208 section 4) for domain:
 *	it fetches the domain's SPF record, has spf_record parse all of
 *	it, evaluates the directives in order (section 5), follows
 *	include: and redirect= (section 6.1), and, for a fail, fetches
 *	and expands the exp= explanation (section 6.2). Lookups go to
 *	query->dns (libspf2's DNS layer interface: the filter's own
 *	resolver, or an in-memory zone in the tests).
 *
 *	The caller has started budget (budget_begin()): every include,
 *	a, mx, ptr, exists and redirect counts against the 10-term limit,
 *	and a lookup of a, mx, ptr, exists, include or redirect that
 *	finds no name or no records counts against the 2-void limit
 *	(section 4.6.4). Past either limit the result is permerror.
 *	Past the deadline it is temperror.
 *
 *	Semantics that the parts of the RFC decide, in one place:
 *	- a name that can't be a DNS name after macro expansion (an empty
 *	  or over-long label, or a backslash, which the resolver would
 *	  read as an escape) is not queried: the mechanism does not
 *	  match, as for a name that does not exist;
 *	- a and mx match the client's family only: A records with the
 *	  ip4 prefix (default /32) for an IPv4 client, AAAA with the ip6
 *	  prefix (default /128) for an IPv6 one; /0 matches any address
 *	  of that family once a record exists;
 *	- mx with more than 10 names is permerror; ptr follows only the
 *	  first 10 names and ignores the rest, and a DNS error during ptr
 *	  makes it not match (section 5.5);
 *	- an included domain's pass matches, its fail, softfail and
 *	  neutral don't, its temperror and permerror are the result, and
 *	  "none" is permerror; the included record's exp= is not used;
 *	- redirect= applies only when no directive matched, wherever it
 *	  stands; the target's result and explanation replace ours, and a
 *	  target without a record is permerror;
 *	- an explanation that can't be had (no record, several, a DNS
 *	  error, bad syntax) leaves the fail without one.
 */

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "spf_eval.h"
#include "spf_record.h"

#define SPF_DEPTH_MAX	16		/* include/redirect nesting guard */

enum spf_look {
    SPFL_ANSWER,			/* at least one record */
    SPFL_VOID,				/* no such name, or no records */
    SPFL_ERROR,				/* run->error says which */
};

/* One whole check, across includes and redirects. */

struct spf_run {
    const struct spf_query *query;
    struct spf_budget *budget;
    enum spf_res error;			/* temperror or permerror */
    char   *reason;			/* the outcome's reason text */
};

/* One record being evaluated: its domain and macro values. */

struct spf_level {
    struct spf_run *run;
    struct spf_macro_env env;		/* env.domain is domain */
    char    domain[SPF_NAME_MAX + 1];
    char    validated[SPF_NAME_MAX + 1];/* %{p}, once looked up */
};

/* spf_fail - record an error and its reason; returns -1 */

static int spf_fail(struct spf_run *run, enum spf_res error, const char *why,
		            const char *what)
{
    if (run->error == SPFR_NONE) {
	run->error = error;
	snprintf(run->reason, SPF_REASON_MAX, "%s%s%.60s", why,
		 what ? ": " : "", what ? what : "");
    }
    return (-1);
}

/* spf_name_ok - fit to query: 1-253 bytes, labels of 1-63 bytes, no '\\' */

static int spf_name_ok(const char *name)
{
    const char *label = name;
    const char *dot;

    /* The resolver would read a backslash as an escape, or refuse it. */
    if (*name == 0 || strlen(name) > SPF_NAME_MAX || strchr(name, '\\'))
	return (0);
    for (;;) {
	dot = strchr(label, '.');
	if ((dot ? (size_t) (dot - label) : strlen(label)) - 1 >= 63)
	    return (0);
	if (dot == 0)
	    return (1);
	label = dot + 1;
    }
}

/* spf_lookup - ask DNS; void lookups counted when count_void */

static enum spf_look spf_lookup(struct spf_run *run, const char *name,
				        ns_type type, int count_void,
				        SPF_dns_rr_t **rrp)
{
    SPF_dns_rr_t *rr;

    *rrp = 0;
    if (!spf_name_ok(name))
	return (SPFL_VOID);
    if (budget_out_of_time(run->budget))
	return (spf_fail(run, SPFR_TEMPERROR, "DNS time limit exceeded", 0),
		SPFL_ERROR);
    if ((rr = SPF_dns_lookup(run->query->dns, name, type, 1)) == 0)
	return (spf_fail(run, SPFR_TEMPERROR, "out of memory", 0), SPFL_ERROR);
    if (rr->herrno == NETDB_SUCCESS && rr->num_rr > 0) {
	*rrp = rr;
	return (SPFL_ANSWER);
    }
    if (rr->herrno != NETDB_SUCCESS && rr->herrno != HOST_NOT_FOUND
	&& rr->herrno != NO_DATA) {
	SPF_dns_rr_free(rr);
	(void) budget_out_of_time(run->budget);
	return (spf_fail(run, SPFR_TEMPERROR, "DNS lookup failure", 0),
		SPFL_ERROR);
    }
    SPF_dns_rr_free(rr);
    if (count_void && budget_count_void(run->budget))
	return (spf_fail(run, SPFR_PERMERROR,
			 budget_stop_text(BUDGET_VOIDS), 0), SPFL_ERROR);
    return (SPFL_VOID);
}

/* spf_addr_match - do the first bits of two addresses agree? */

static int spf_addr_match(const unsigned char *a, const unsigned char *b,
			          int bits)
{
    int     bytes = bits / 8;
    int     rest = bits % 8;
    unsigned char mask = (unsigned char) (0xff << (8 - rest));

    if (memcmp(a, b, bytes) != 0)
	return (0);
    return (rest == 0 || ((a[bytes] ^ b[bytes]) & mask) == 0);
}

/* spf_rr_match - does any address record match the client? */

static int spf_rr_match(const SPF_dns_rr_t *rr, const struct spf_macro_env *env,
			        int bits)
{
    const unsigned char *addr;
    int     i;

    for (i = 0; i < rr->num_rr; i++) {
	addr = (env->family == AF_INET ?
		(const unsigned char *) &rr->rr[i]->a :
		(const unsigned char *) &rr->rr[i]->aaaa);
	if (spf_addr_match(addr, env->addr, bits))
	    return (1);
    }
    return (0);
}

/* spf_addr_type - the address record type of the client's family */

static ns_type spf_addr_type(const struct spf_macro_env *env)
{
    return (env->family == AF_INET ? ns_t_a : ns_t_aaaa);
}

/* spf_has_addr - does name have an address record matching the client? */

static enum spf_look spf_has_addr(struct spf_level *lv, const char *name,
				          int bits, int count_void, int *match)
{
    SPF_dns_rr_t *rr;
    enum spf_look look;

    *match = 0;
    look = spf_lookup(lv->run, name, spf_addr_type(&lv->env), count_void, &rr);
    if (look == SPFL_ANSWER) {
	*match = spf_rr_match(rr, &lv->env, bits);
	SPF_dns_rr_free(rr);
    }
    return (look);
}

/* spf_strip_dot - a name without its trailing dot, into buf */

static const char *spf_strip_dot(const char *name, char *buf, size_t len)
{
    size_t  n = strlen(name);

    if (n > 0 && name[n - 1] == '.')
	n--;
    if (n >= len)
	n = len - 1;
    memcpy(buf, name, n);
    buf[n] = 0;
    return (buf);
}

/* spf_reverse_name - the in-addr.arpa or ip6.arpa name of the client */

static void spf_reverse_name(const struct spf_macro_env *env, char *buf,
			             size_t len)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *a = env->addr;
    size_t  n = 0;
    int     i;

    if (env->family == AF_INET) {
	snprintf(buf, len, "%d.%d.%d.%d.in-addr.arpa", a[3], a[2], a[1], a[0]);
	return;
    }
    for (i = 15; i >= 0 && n + 4 < len; i--) {
	buf[n++] = hex[a[i] & 15];
	buf[n++] = '.';
	buf[n++] = hex[a[i] >> 4];
	buf[n++] = '.';
    }
    snprintf(buf + n, len - n, "ip6.arpa");
}

/* spf_domain_match - is name target, or a name below it? */

static int spf_domain_match(const char *name, const char *target)
{
    size_t  nlen = strlen(name);
    size_t  tlen = strlen(target);

    if (nlen == tlen)
	return (strcasecmp(name, target) == 0);
    return (nlen > tlen && name[nlen - tlen - 1] == '.'
	    && strcasecmp(name + nlen - tlen, target) == 0);
}

/* spf_ptr_names - the client's PTR names; SPFL_ANSWER with *rrp */

static enum spf_look spf_ptr_names(struct spf_level *lv, int count_void,
				           SPF_dns_rr_t **rrp)
{
    char    rev[80];

    spf_reverse_name(&lv->env, rev, sizeof(rev));
    return (spf_lookup(lv->run, rev, ns_t_ptr, count_void, rrp));
}

/* spf_validated - first of the first 10 PTR names whose address is the client's */

static int spf_validated(struct spf_level *lv, const SPF_dns_rr_t *ptrs,
			         const char *target, char *out, size_t outlen)
{
    char    name[SPF_NAME_MAX + 2];
    int     match;
    int     i;

    for (i = 0; i < ptrs->num_rr && i < BUDGET_SUB_MAX; i++) {
	spf_strip_dot(ptrs->rr[i]->ptr, name, sizeof(name));
	if (target && !spf_domain_match(name, target))
	    continue;
	if (spf_has_addr(lv, name, lv->env.family == AF_INET ? 32 : 128, 0,
			 &match) == SPFL_ERROR) {
	    if (lv->run->budget->stop != BUDGET_OK)
		return (-1);
	    lv->run->error = SPFR_NONE;	/* section 5.5: skip that name */
	    continue;
	}
	if (match) {
	    snprintf(out, outlen, "%s", name);
	    return (1);
	}
    }
    return (0);
}

/* spf_p_macro - %{p}: a validated name, one below the domain preferred */

static const char *spf_p_macro(void *arg, const char *domain)
{
    struct spf_level *lv = arg;
    SPF_dns_rr_t *ptrs;
    enum spf_res saved = lv->run->error;
    int     found = 0;

    if (lv->validated[0])
	return (lv->validated);
    if (spf_ptr_names(lv, 0, &ptrs) == SPFL_ANSWER) {
	found = spf_validated(lv, ptrs, domain, lv->validated,
			      sizeof(lv->validated));
	if (found == 0)
	    found = spf_validated(lv, ptrs, 0, lv->validated,
				  sizeof(lv->validated));
	SPF_dns_rr_free(ptrs);
    }
    if (lv->run->budget->stop == BUDGET_OK)
	lv->run->error = saved;		/* no name is "unknown", not an error */
    return (found > 0 ? lv->validated : 0);
}

/* spf_target - the expanded domain-spec of a term, or the current domain */

static int spf_target(struct spf_level *lv, const char *spec, char *out,
		              size_t outlen)
{
    if (spec == 0) {
	snprintf(out, outlen, "%s", lv->domain);
	return (0);
    }
    if (spf_macro_domain(spec, &lv->env, out, outlen) < 0)
	return (spf_fail(lv->run, SPFR_PERMERROR, "macro expansion failed",
			 spec));
    return (0);
}

/* spf_mech_a - the a mechanism */

static int spf_mech_a(struct spf_level *lv, const char *name, int bits)
{
    int     match;

    if (spf_has_addr(lv, name, bits, 1, &match) == SPFL_ERROR)
	return (-1);
    return (match);
}

/* spf_mech_mx - the mx mechanism */

static int spf_mech_mx(struct spf_level *lv, const char *name, int bits)
{
    SPF_dns_rr_t *mx;
    char    host[SPF_NAME_MAX + 2];
    enum spf_look look;
    int     match = 0;
    int     i;

    if ((look = spf_lookup(lv->run, name, ns_t_mx, 1, &mx)) != SPFL_ANSWER)
	return (look == SPFL_VOID ? 0 : -1);
    if (mx->num_rr > BUDGET_SUB_MAX) {
	SPF_dns_rr_free(mx);
	return (spf_fail(lv->run, SPFR_PERMERROR, "more than 10 MX names",
			 name));
    }
    for (i = 0; i < mx->num_rr && match == 0; i++) {
	spf_strip_dot(mx->rr[i]->mx, host, sizeof(host));
	if (spf_has_addr(lv, host, bits, 0, &match) == SPFL_ERROR)
	    match = -1;
    }
    SPF_dns_rr_free(mx);
    return (match);
}

/* spf_mech_ptr - the ptr mechanism (section 5.5) */

static int spf_mech_ptr(struct spf_level *lv, const char *target)
{
    SPF_dns_rr_t *ptrs;
    char    name[SPF_NAME_MAX + 1];
    enum spf_look look;
    int     match;

    if ((look = spf_ptr_names(lv, 1, &ptrs)) != SPFL_ANSWER) {
	if (look == SPFL_ERROR && lv->run->budget->stop == BUDGET_OK) {
	    lv->run->error = SPFR_NONE;	/* a DNS error: no match */
	    return (0);
	}
	return (look == SPFL_VOID ? 0 : -1);
    }
    match = spf_validated(lv, ptrs, target, name, sizeof(name));
    SPF_dns_rr_free(ptrs);
    return (match);
}

/* spf_mech_exists - the exists mechanism: any A record */

static int spf_mech_exists(struct spf_level *lv, const char *name)
{
    SPF_dns_rr_t *rr;
    enum spf_look look;

    if ((look = spf_lookup(lv->run, name, ns_t_a, 1, &rr)) == SPFL_ANSWER)
	SPF_dns_rr_free(rr);
    return (look == SPFL_ANSWER ? 1 : look == SPFL_VOID ? 0 : -1);
}

static enum spf_res spf_check_host(struct spf_run *run, const char *domain,
				           int depth, char *exp);

/* spf_mech_include - the include mechanism (section 5.2) */

static int spf_mech_include(struct spf_level *lv, const char *name, int depth)
{
    switch (spf_check_host(lv->run, name, depth + 1, 0)) {
    case SPFR_PASS:
	return (1);
    case SPFR_FAIL:
    case SPFR_SOFTFAIL:
    case SPFR_NEUTRAL:
	return (0);
    case SPFR_NONE:
	return (spf_fail(lv->run, SPFR_PERMERROR,
			 "included domain has no SPF record", name));
    default:
	return (-1);
    }
}

/* spf_ip_match - ip4 and ip6: the client's family only */

static int spf_ip_match(const struct spf_level *lv, const struct spf_term *t)
{
    if (t->mech == SPFM_IP4)
	return (lv->env.family == AF_INET
		&& spf_addr_match(t->addr, lv->env.addr,
				  t->cidr4 < 0 ? 32 : t->cidr4));
    return (lv->env.family == AF_INET6
	    && spf_addr_match(t->addr, lv->env.addr,
			      t->cidr6 < 0 ? 128 : t->cidr6));
}

/* spf_term_bits - the prefix length that a and mx use for this client */

static int spf_term_bits(const struct spf_level *lv, const struct spf_term *t)
{
    if (lv->env.family == AF_INET)
	return (t->cidr4 < 0 ? 32 : t->cidr4);
    return (t->cidr6 < 0 ? 128 : t->cidr6);
}

/* spf_eval_term - 1 if the directive matches, 0 if not, -1 on error */

static int spf_eval_term(struct spf_level *lv, const struct spf_term *t,
			         int depth)
{
    char    name[SPF_NAME_MAX + 1];

    if (t->mech == SPFM_ALL)
	return (1);
    if (t->mech == SPFM_IP4 || t->mech == SPFM_IP6)
	return (spf_ip_match(lv, t));
    if (budget_count_term(lv->run->budget))
	return (spf_fail(lv->run, SPFR_PERMERROR,
			 budget_stop_text(BUDGET_TERMS), 0));
    if (spf_target(lv, t->domain, name, sizeof(name)) < 0)
	return (-1);
    switch (t->mech) {
    case SPFM_INCLUDE:
	return (spf_mech_include(lv, name, depth));
    case SPFM_A:
	return (spf_mech_a(lv, name, spf_term_bits(lv, t)));
    case SPFM_MX:
	return (spf_mech_mx(lv, name, spf_term_bits(lv, t)));
    case SPFM_PTR:
	return (spf_mech_ptr(lv, name));
    default:
	return (spf_mech_exists(lv, name));
    }
}

/* spf_qualifier_result - what a matching directive gives */

static enum spf_res spf_qualifier_result(char qualifier)
{
    switch (qualifier) {
    case '-':
	return (SPFR_FAIL);
    case '~':
	return (SPFR_SOFTFAIL);
    case '?':
	return (SPFR_NEUTRAL);
    default:
	return (SPFR_PASS);
    }
}

/* spf_explain - the exp= explanation, or nothing (section 6.2) */

static void spf_explain(struct spf_level *lv, const char *spec, char *exp)
{
    char    name[SPF_NAME_MAX + 1];
    SPF_dns_rr_t *rr = 0;
    enum spf_res saved = lv->run->error;
    const char *text;

    exp[0] = 0;
    if (spf_macro_domain(spec, &lv->env, name, sizeof(name)) < 0
	|| spf_lookup(lv->run, name, ns_t_txt, 0, &rr) != SPFL_ANSWER)
	goto out;
    text = rr->rr[0]->txt;
    if (rr->num_rr != 1 || !spf_macro_string_ok(text, strlen(text), 1)
	|| spf_macro_expand(text, strlen(text), &lv->env, exp,
			    BUDGET_EXP_MAX) < 0)
	exp[0] = 0;
out:
    lv->run->error = saved;		/* no explanation is no error */
    if (rr)
	SPF_dns_rr_free(rr);
}

/* spf_fetch - the domain's one SPF record, parsed; or a result */

static enum spf_res spf_fetch(struct spf_run *run, const char *domain,
			              int counted, struct spf_record *rec)
{
    SPF_dns_rr_t *rr;
    enum spf_look look;
    char    err[SPFREC_ERR_MAX];
    int     pick = -1;
    int     i;

    if ((look = spf_lookup(run, domain, ns_t_txt, counted, &rr)) != SPFL_ANSWER)
	return (look == SPFL_VOID ? SPFR_NONE : run->error);
    for (i = 0; i < rr->num_rr; i++) {
	if (!spf_record_is_spf(rr->rr[i]->txt))
	    continue;
	if (pick >= 0) {
	    SPF_dns_rr_free(rr);
	    spf_fail(run, SPFR_PERMERROR, "more than one SPF record", domain);
	    return (SPFR_PERMERROR);
	}
	pick = i;
    }
    if (pick < 0) {
	SPF_dns_rr_free(rr);
	return (SPFR_NONE);
    }
    i = spf_record_parse(rr->rr[pick]->txt, rec, err, sizeof(err));
    SPF_dns_rr_free(rr);
    if (i < 0) {
	spf_fail(run, i == -2 ? SPFR_TEMPERROR : SPFR_PERMERROR,
		 "invalid SPF record", err);
	return (run->error);
    }
    return (SPFR_COUNT);		/* a record to evaluate */
}

/* spf_level_init - the macro values for evaluating domain's record */

static void spf_level_init(struct spf_level *lv, struct spf_run *run,
			           const char *domain)
{
    memset(lv, 0, sizeof(*lv));
    lv->run = run;
    lv->env = run->query->env;
    spf_strip_dot(domain, lv->domain, sizeof(lv->domain));
    lv->env.domain = lv->domain;
    lv->env.validated = spf_p_macro;
    lv->env.arg = lv;
}

/* spf_redirect - follow redirect= (section 6.1) */

static enum spf_res spf_redirect(struct spf_level *lv, const char *spec,
				         int depth, char *exp)
{
    char    name[SPF_NAME_MAX + 1];
    enum spf_res res;

    if (budget_count_term(lv->run->budget)) {
	spf_fail(lv->run, SPFR_PERMERROR, budget_stop_text(BUDGET_TERMS), 0);
	return (SPFR_PERMERROR);
    }
    if (spf_target(lv, spec, name, sizeof(name)) < 0)
	return (SPFR_PERMERROR);
    res = spf_check_host(lv->run, name, depth + 1, exp);
    if (res == SPFR_NONE) {
	spf_fail(lv->run, SPFR_PERMERROR,
		 "redirect target has no SPF record", name);
	return (SPFR_PERMERROR);
    }
    return (res);
}

/* spf_check_host - check_host() for domain; exp receives a fail's explanation */

static enum spf_res spf_check_host(struct spf_run *run, const char *domain,
				           int depth, char *exp)
{
    struct spf_level level;
    struct spf_record rec;
    enum spf_res res;
    int     match = 0;
    int     i;

    if (depth > SPF_DEPTH_MAX) {
	spf_fail(run, SPFR_PERMERROR, "too many nested records", domain);
	return (SPFR_PERMERROR);
    }
    spf_level_init(&level, run, domain);
    if ((res = spf_fetch(run, level.domain, depth > 0, &rec)) != SPFR_COUNT)
	return (res);
    for (i = 0; i < rec.nterms && match == 0; i++)
	match = spf_eval_term(&level, rec.terms + i, depth);
    if (match < 0)
	res = run->error;
    else if (match > 0)
	res = spf_qualifier_result(rec.terms[i - 1].qualifier);
    else if (rec.redirect)
	res = spf_redirect(&level, rec.redirect, depth, exp);
    else
	res = SPFR_NEUTRAL;
    if (res == SPFR_FAIL && match > 0 && exp && rec.exp)
	spf_explain(&level, rec.exp, exp);
    spf_record_free(&rec);
    return (res);
}

/* spf_eval - check_host() for domain, within budget */

void    spf_eval(const struct spf_query *query, const char *domain,
		         struct spf_budget *budget, struct spf_outcome *outcome)
{
    struct spf_run run = {query, budget, SPFR_NONE, outcome->reason};

    memset(outcome, 0, sizeof(*outcome));
    outcome->result = spf_check_host(&run, domain, 0, outcome->explanation);
    if (budget->stop == BUDGET_TIME) {
	outcome->result = SPFR_TEMPERROR;
	snprintf(outcome->reason, sizeof(outcome->reason), "%s",
		 budget_stop_text(budget->stop));
    } else if (outcome->result == SPFR_NONE) {
	snprintf(outcome->reason, sizeof(outcome->reason), "no SPF record");
    }
    if (outcome->result != SPFR_FAIL)
	outcome->explanation[0] = 0;
}
