/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	spf_check 3
 * SUMMARY
 *	the SPF check, without libmilter: client ip, HELO, MAIL FROM to a result
 * SYNOPSIS
 *	#include "spf_check.h"
 *
 *	int	spf_engine_init(engine, receiver, below, err, errlen)
 *	void	spf_engine_free(engine)
 *
 *	void	spf_check_message(engine, env, verdict)
 *	void	spf_check_identity(engine, ip, helo, from, deadline, verdict)
 *
 *	const char *spf_res_name(result)
 *	const char *spf_ident_name(identity)
 *	int	spf_domain_ok(domain)
 *	const char *spf_sender_domain(from)
 * DESCRIPTION
 *	How the work is split with libspf2. libspf2 1.2.10 compiles a
 *	record loosely and then evaluates it in one function
 *	(SPF_record_interpret) that can't be corrected piece by piece:
 *	its compiler refuses valid records (/0 prefixes, some unknown
 *	modifiers) and accepts invalid ones; its interpreter rejects a
 *	redirect= that stands before a mechanism, turns an a/mx name
 *	without records into an error, and gives permerror past 10 PTR
 *	names; its macro expander needs its own compiled form and
 *	refuses an odd HELO for %{h}. Fixing each of these means taking
 *	over the record, the directive loop and the macros, which is
 *	all of check_host() but DNS. So the filter does that itself,
 *	after the RFC 7208 text, in three small pure modules:
 *
 *	spf_record	the strict parser of a record (section 12's ABNF)
 *	spf_macro	macro expansion (section 7)
 *	spf_eval	check_host(): the directives, include, redirect,
 *			exp= and the limits of section 4.6.4 (spf_budget)
 *
 *	libspf2 keeps what it does well: the DNS layer interface
 *	(SPF_dns_server_t, SPF_dns_rr_t), under which sit our
 *	time-bounded resolver (spf_dns) in the daemon and libspf2's
 *	in-memory zone in the unit tests. With that, the filter gives
 *	the RFC 7208 result for all 203 cases of the public test suite
 *	(tests/spf/).
 *
 *	spf_engine_init() keeps the DNS layer that all threads share:
 *	our time-bounded resolver, or the layer below given (a zone in
 *	the unit tests). receiver is the %{r} macro.
 *
 *	spf_check_message() decides one message (RFC 7208 section 2):
 *	for the null sender it checks the HELO identity (postmaster@helo);
 *	otherwise, with helo_check, a HELO "fail" decides, and else the
 *	MAIL FROM identity does. One deadline, env->timeout seconds away,
 *	covers all of its DNS work.
 *
 *	spf_check_identity() runs one check_host(): the MAIL FROM identity
 *	when from is not null, else the HELO identity. A domain that is
 *	not a multi-label domain name gives "none" without a query (RFC
 *	7208 section 4.3). A sender without a local-part is
 *	postmaster@domain. An IPv4-mapped IPv6 client is checked as the
 *	IPv4 address it is (section 5). %{h} is the HELO exactly as
 *	given. A loopback client is evaluated like any other: which
 *	clients to trust is trusted_networks' business.
 */

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "cidr.h"
#include "spf_check.h"
#include "spf_dns.h"

/* spf_res_name - result keyword, as in Received-SPF and RFC 8601 */

const char *spf_res_name(enum spf_res result)
{
    static const char *names[SPFR_COUNT] = {
	"none", "neutral", "pass", "fail", "softfail", "temperror", "permerror",
    };

    return ((unsigned) result < SPFR_COUNT ? names[result] : "permerror");
}

/* spf_ident_name - identity keyword */

const char *spf_ident_name(enum spf_ident identity)
{
    return (identity == SPFI_HELO ? "helo" : "mailfrom");
}

/* spf_label_ok - one label: 1-63 letters, digits, '_' or inner '-' */

static int spf_label_ok(const char *label, size_t len)
{
    size_t  i;

    if (len == 0 || len > 63 || label[0] == '-' || label[len - 1] == '-')
	return (0);
    for (i = 0; i < len; i++)
	if (!isalnum((unsigned char) label[i]) && label[i] != '-'
	    && label[i] != '_')
	    return (0);
    return (1);
}

/* spf_domain_ok - a multi-label domain name worth a DNS query */

int     spf_domain_ok(const char *domain)
{
    size_t  len;
    const char *label;
    const char *dot;
    int     labels = 0;
    int     numeric = 0;

    if (domain == 0 || (len = strlen(domain)) == 0)
	return (0);
    if (domain[len - 1] == '.')
	len--;
    if (len == 0 || len > SPF_DOMAIN_MAX)
	return (0);
    for (label = domain; label < domain + len; label = dot + 1) {
	dot = memchr(label, '.', domain + len - label);
	if (dot == 0)
	    dot = domain + len;
	if (!spf_label_ok(label, dot - label))
	    return (0);
	numeric = (strspn(label, "0123456789") >= (size_t) (dot - label));
	labels++;
    }
    /* A name ending in an all-numeric label is an address, not a domain. */
    return (labels >= 2 && !numeric);
}

/* spf_sender_domain - the domain part of a MAIL FROM address */

const char *spf_sender_domain(const char *from)
{
    const char *at = strrchr(from, '@');

    return (at ? at + 1 : from);
}

/* spf_engine_init - keep the DNS layer that every check uses */

int     spf_engine_init(struct spf_engine *engine, const char *receiver,
			        SPF_dns_server_t *below, char *err, size_t errlen)
{
    if (errlen > 0)
	err[0] = 0;				/* written on every path */

    memset(engine, 0, sizeof(*engine));
    engine->own_resolver = (below == 0);
    engine->resolver = below ? below : sdns_resolv_new();
    if (engine->resolver == 0) {
	snprintf(err, errlen, "cannot create the SPF resolver: out of memory");
	return (-1);
    }
    snprintf(engine->receiver, sizeof(engine->receiver), "%s",
	     receiver ? receiver : "");
    return (0);
}

/* spf_engine_free - release the resolver if we made it */

void    spf_engine_free(struct spf_engine *engine)
{
    if (engine->resolver && engine->own_resolver)
	SPF_dns_free(engine->resolver);
    memset(engine, 0, sizeof(*engine));
}

/* spf_set_client - the client address; IPv4-mapped IPv6 becomes IPv4 */

static int spf_set_client(struct spf_macro_env *env, const char *ip)
{
    static const unsigned char mapped[12] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff,
    };

    if (ip == 0 || cidr_parse_addr(ip, &env->family, env->addr) < 0)
	return (-1);
    if (env->family == AF_INET6 && memcmp(env->addr, mapped, 12) == 0) {
	memmove(env->addr, env->addr + 12, 4);
	env->family = AF_INET;
    }
    return (0);
}

/* The sender as the macros see it. */

struct spf_sender {
    char    address[SPF_ADDR_MAX + 16];	/* s: with "postmaster@" when needed */
    char    local[SPF_ADDR_MAX + 1];	/* l */
};

/* spf_set_sender - s, l and o; a missing local-part is "postmaster" */

static void spf_set_sender(struct spf_macro_env *env, const char *sender,
			           struct spf_sender *buf)
{
    const char *at = strrchr(sender, '@');

    if (at && at > sender)
	snprintf(buf->address, sizeof(buf->address), "%s", sender);
    else
	snprintf(buf->address, sizeof(buf->address), "postmaster@%s",
		 at ? at + 1 : sender);
    at = strrchr(buf->address, '@');
    snprintf(buf->local, sizeof(buf->local), "%.*s",
	     (int) (at - buf->address), buf->address);
    env->sender = buf->address;
    env->local = buf->local;
    env->sender_domain = at + 1;
}

/* spf_check_identity - one check_host() for MAIL FROM, or HELO if from is null */

void    spf_check_identity(const struct spf_engine *engine, const char *ip,
			           const char *helo, const char *from,
			           const struct timespec *deadline,
			           struct spf_verdict *v)
{
    struct spf_query query;
    struct spf_budget budget;
    struct spf_outcome outcome;
    struct spf_sender sender;
    const char *domain = from ? spf_sender_domain(from) : helo;

    memset(v, 0, sizeof(*v));
    memset(&query, 0, sizeof(query));
    v->identity = from ? SPFI_MAILFROM : SPFI_HELO;
    v->result = SPFR_NONE;
    if (!spf_domain_ok(domain)) {
	snprintf(v->reason, sizeof(v->reason), "%s is not a domain name",
		 from ? "the sender domain" : "the HELO name");
	return;
    }
    if (from && strlen(from) > SPF_ADDR_MAX) {
	snprintf(v->reason, sizeof(v->reason), "the sender address is too long");
	return;
    }
    if (spf_set_client(&query.env, ip) < 0) {
	v->result = SPFR_TEMPERROR;
	snprintf(v->reason, sizeof(v->reason), "no usable client address");
	return;
    }
    query.dns = engine->resolver;
    spf_set_sender(&query.env, from ? from : domain, &sender);
    query.env.helo = helo ? helo : "";
    query.env.receiver = engine->receiver[0] ? engine->receiver : 0;
    budget_begin(&budget, deadline);
    spf_eval(&query, domain, &budget, &outcome);
    budget_end();
    v->result = outcome.result;
    snprintf(v->reason, sizeof(v->reason), "%s", outcome.reason);
    snprintf(v->explanation, sizeof(v->explanation), "%s", outcome.explanation);
}

/* spf_check_message - the verdict for one message */

void    spf_check_message(const struct spf_engine *engine,
			          const struct spf_env *env,
			          struct spf_verdict *verdict)
{
    struct timespec deadline;
    const char *from = (env->from && *env->from) ? env->from : 0;

    budget_deadline(&deadline, env->timeout);
    if (from && env->helo_check && spf_domain_ok(env->helo)) {
	spf_check_identity(engine, env->ip, env->helo, 0, &deadline, verdict);
	if (verdict->result == SPFR_FAIL)
	    return;
    }
    spf_check_identity(engine, env->ip, env->helo, from, &deadline, verdict);
}
