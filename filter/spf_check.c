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
 *	enum spf_res spf_map_result(result, rc)
 *	const char *spf_res_name(result)
 *	const char *spf_ident_name(identity)
 *	int	spf_domain_ok(domain)
 *	const char *spf_sender_domain(from)
 * DESCRIPTION
 *	spf_engine_init() builds the libspf2 server that all threads
 *	share: our time-bounded resolver (or the layer below given, a
 *	zone in the unit tests) under the counting layer of spf_budget.
 *	receiver is the %{r} macro. The server's default explanation is
 *	empty, so that only a domain's own exp= text is ever reported.
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
 *	7208 section 4.3). libspf2's setters are called in the order its
 *	null-sender handling needs (HELO first). libspf2 answers "pass"
 *	for every loopback client on its own; we skip that shortcut and
 *	evaluate like for any other address: which clients to trust is
 *	trusted_networks' business.
 *
 *	spf_map_result() maps libspf2's result and return code to ours.
 *	Its INVALID means temperror when the code is SPF_E_DNS_ERROR and
 *	permerror otherwise. The return code alone never decides: it is
 *	non-zero for none, permerror and temperror alike.
 */

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "cidr.h"
#include "spf_budget.h"
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

/* spf_map_result - libspf2 result and return code to our result */

enum spf_res spf_map_result(SPF_result_t result, SPF_errcode_t rc)
{
    switch (result) {
    case SPF_RESULT_NEUTRAL:
	return (SPFR_NEUTRAL);
    case SPF_RESULT_PASS:
	return (SPFR_PASS);
    case SPF_RESULT_FAIL:
	return (SPFR_FAIL);
    case SPF_RESULT_SOFTFAIL:
	return (SPFR_SOFTFAIL);
    case SPF_RESULT_NONE:
	return (SPFR_NONE);
    case SPF_RESULT_TEMPERROR:
	return (SPFR_TEMPERROR);
    case SPF_RESULT_INVALID:
	return (rc == SPF_E_DNS_ERROR ? SPFR_TEMPERROR : SPFR_PERMERROR);
    case SPF_RESULT_PERMERROR:
    default:
	return (SPFR_PERMERROR);
    }
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

/* spf_engine_init - build the shared libspf2 server and its DNS layers */

int     spf_engine_init(struct spf_engine *engine, const char *receiver,
			        SPF_dns_server_t *below, char *err, size_t errlen)
{
    SPF_response_t *resp = 0;

    memset(engine, 0, sizeof(*engine));
    engine->own_resolver = (below == 0);
    engine->resolver = below ? below : sdns_resolv_new();
    if (engine->resolver == 0
	|| (engine->budget = budget_layer_new(engine->resolver)) == 0
	|| (engine->server = SPF_server_new_dns(engine->budget, 0)) == 0) {
	snprintf(err, errlen, "cannot create the SPF server: out of memory");
	spf_engine_free(engine);
	return (-1);
    }
    if (SPF_server_set_rec_dom(engine->server, receiver) != SPF_E_SUCCESS
	|| SPF_server_set_explanation(engine->server, "", &resp)
	!= SPF_E_SUCCESS) {
	snprintf(err, errlen, "cannot configure the SPF server");
	if (resp)
	    SPF_response_free(resp);
	spf_engine_free(engine);
	return (-1);
    }
    if (resp)
	SPF_response_free(resp);
    return (0);
}

/* spf_engine_free - release the server and the layers we made */

void    spf_engine_free(struct spf_engine *engine)
{
    if (engine->server)
	SPF_server_free(engine->server);	/* leaves its resolver alone */
    /* SPF_dns_free() frees a layer and every layer below it. */
    if (engine->budget && !engine->own_resolver)
	engine->budget->layer_below = 0;
    if (engine->budget)
	SPF_dns_free(engine->budget);
    else if (engine->resolver && engine->own_resolver)
	SPF_dns_free(engine->resolver);
    memset(engine, 0, sizeof(*engine));
}

/* spf_set_client - give the request the client address */

static int spf_set_client(SPF_request_t *req, const char *ip)
{
    unsigned char addr[16];
    struct in_addr a4;
    struct in6_addr a6;
    int     family;

    if (ip == 0 || cidr_parse_addr(ip, &family, addr) < 0)
	return (-1);
    if (family == AF_INET) {
	memcpy(&a4, addr, 4);
	return (SPF_request_set_ipv4(req, a4) == SPF_E_SUCCESS ? 0 : -1);
    }
    memcpy(&a6, addr, 16);
    return (SPF_request_set_ipv6(req, a6) == SPF_E_SUCCESS ? 0 : -1);
}

/* spf_query - SPF_request_query_mailfrom() without the loopback pass */

static SPF_errcode_t spf_query(SPF_request_t *req, SPF_response_t **respp)
{
    SPF_record_t *record = 0;
    SPF_errcode_t err;

    if ((*respp = SPF_response_new(req)) == 0)
	return (SPF_E_NO_MEMORY);
    req->cur_dom = req->env_from_dp;
    err = SPF_server_get_record(req->spf_server, req, *respp, &record);
    if (err != SPF_E_SUCCESS) {
	if (record)
	    SPF_record_free(record);
	return (err);
    }
    (*respp)->spf_record_exp = record;
    err = SPF_record_interpret(record, req, *respp, 0);
    SPF_record_free(record);
    return (err);
}

/* spf_set_reason - a short problem text for none/permerror/temperror */

static void spf_set_reason(struct spf_verdict *v, const struct spf_budget *b,
			           SPF_errcode_t rc, SPF_response_t *resp)
{
    SPF_errcode_t err = rc ? rc : SPF_response_errcode(resp);

    if (b->stop == BUDGET_TERMS || b->stop == BUDGET_VOIDS)
	v->result = SPFR_PERMERROR;
    else if (b->stop == BUDGET_TIME)
	v->result = SPFR_TEMPERROR;
    if (b->stop != BUDGET_OK)
	snprintf(v->reason, sizeof(v->reason), "%s", budget_stop_text(b->stop));
    else if (v->result == SPFR_NONE)
	snprintf(v->reason, sizeof(v->reason), "no SPF record");
    else if (v->result == SPFR_TEMPERROR)
	snprintf(v->reason, sizeof(v->reason), "DNS lookup failure");
    else if (v->result == SPFR_PERMERROR)
	snprintf(v->reason, sizeof(v->reason), "%s",
		 err == SPF_E_NOT_SPF ? "invalid SPF record" : SPF_strerror(err));
}

/* spf_run - evaluate a prepared request within the deadline */

static void spf_run(SPF_request_t *req, const struct timespec *deadline,
		            struct spf_verdict *v)
{
    struct spf_budget budget;
    SPF_response_t *resp = 0;
    SPF_errcode_t rc;
    const char *exp;

    budget_begin(&budget, deadline, req);
    rc = spf_query(req, &resp);
    budget_end();
    if (resp == 0) {
	v->result = SPFR_TEMPERROR;
	snprintf(v->reason, sizeof(v->reason), "out of memory");
	return;
    }
    v->result = spf_map_result(SPF_response_result(resp), rc);
    spf_set_reason(v, &budget, rc, resp);
    exp = SPF_response_get_explanation(resp);
    if (v->result == SPFR_FAIL && exp)
	snprintf(v->explanation, sizeof(v->explanation), "%s", exp);
    SPF_response_free(resp);
}

/* spf_check_identity - one check_host() for MAIL FROM, or HELO if from is null */

void    spf_check_identity(const struct spf_engine *engine, const char *ip,
			           const char *helo, const char *from,
			           const struct timespec *deadline,
			           struct spf_verdict *v)
{
    SPF_request_t *req = 0;
    const char *domain = from ? spf_sender_domain(from) : helo;

    memset(v, 0, sizeof(*v));
    v->identity = from ? SPFI_MAILFROM : SPFI_HELO;
    v->result = SPFR_NONE;
    if (!spf_domain_ok(domain)) {
	snprintf(v->reason, sizeof(v->reason), "%s is not a domain name",
		 from ? "the sender domain" : "the HELO name");
	goto out;
    }
    if (from && strlen(from) > SPF_ADDR_MAX) {
	snprintf(v->reason, sizeof(v->reason), "the sender address is too long");
	goto out;
    }
    if ((req = SPF_request_new(engine->server)) == 0
	|| spf_set_client(req, ip) < 0) {
	v->result = SPFR_TEMPERROR;
	snprintf(v->reason, sizeof(v->reason), "no usable client address");
	goto out;
    }
    /* HELO first: set_env_from("") takes the HELO only if it is known. */
    if (spf_domain_ok(helo)
	&& SPF_request_set_helo_dom(req, helo) != SPF_E_SUCCESS)
	goto oom;
    if (SPF_request_set_env_from(req, from ? from : "") != SPF_E_SUCCESS)
	goto oom;
    spf_run(req, deadline, v);
    goto out;
oom:
    v->result = SPFR_TEMPERROR;
    snprintf(v->reason, sizeof(v->reason), "out of memory");
out:
    if (req)
	SPF_request_free(req);
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
