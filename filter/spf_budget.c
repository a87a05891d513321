/*
 * NAME
 *	spf_budget 3
 * SUMMARY
 *	the RFC 7208 lookup limits and the time limit, as a libspf2 DNS layer
 * SYNOPSIS
 *	#include "spf_budget.h"
 *
 *	SPF_dns_server_t *budget_layer_new(below)
 *
 *	void	budget_begin(budget, deadline, request)
 *	void	budget_end()
 *
 *	long	budget_ms_left()
 *	void	budget_deadline(deadline, seconds)
 *	const char *budget_stop_text(stop)
 * DESCRIPTION
 *	libspf2 counts DNS mechanisms per record, so that every include
 *	starts a fresh count, it has no void-lookup limit, and no time
 *	limit. This layer sits on top of the DNS stack and enforces, per
 *	check, what RFC 7208 section 4.6.4 asks for:
 *
 *	- at most 10 DNS-querying terms (include, a, mx, ptr, exists,
 *	  redirect). The first SPF record fetch of a check is the check
 *	  itself, every later fetch is an include or a redirect. The
 *	  address lookups that libspf2 makes for the names an mx or ptr
 *	  term returned (at most 10, in order) belong to that term.
 *	- at most 2 void lookups (NXDOMAIN or no answer) among the terms.
 *	- the deadline: past it every lookup fails at once.
 *
 *	When a limit is hit the layer records why in the budget and
 *	answers TRY_AGAIN, which makes libspf2 stop at once; the caller
 *	then turns the result into permerror (a limit) or temperror (the
 *	deadline).
 *
 *	The layer also fetches SPF records itself (the get_spf method):
 *	a record is a TXT string that is "v=spf1" alone or followed by a
 *	space (any case); none gives "none", more than one permerror.
 *	And it builds explanations (the get_exp method), expanding the
 *	exp= TXT string one word at a time: libspf2 1.2.10 mangles the
 *	spaces of an explanation it compiles whole.
 *
 *	The budget of the running check is thread-local: budget_begin()
 *	and budget_end() bracket one SPF_request_query_mailfrom(). With
 *	no budget active the layer only passes lookups down.
 *
 *	budget_ms_left() gives the milliseconds left before the deadline
 *	(0 when it is past), or -1 without an active budget.
 *	budget_deadline() sets a deadline seconds from now.
 */

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "spf_budget.h"
#include "spf_dns.h"

static __thread struct spf_budget *budget_current;

/* budget_deadline - a CLOCK_MONOTONIC time seconds from now */

void    budget_deadline(struct timespec *deadline, long seconds)
{
    clock_gettime(CLOCK_MONOTONIC, deadline);
    deadline->tv_sec += seconds;
}

/* budget_begin - make budget the one of this thread's running check */

void    budget_begin(struct spf_budget *budget, const struct timespec *deadline,
		             SPF_request_t *request)
{
    memset(budget, 0, sizeof(*budget));
    budget->deadline = *deadline;
    budget->request = request;
    budget_current = budget;
}

/* budget_end - the check is over */

void    budget_end(void)
{
    budget_current = 0;
}

/* budget_ms_left - milliseconds before the deadline, 0 past it, -1 none */

long    budget_ms_left(void)
{
    struct timespec now;
    long    ms;

    if (budget_current == 0)
	return (-1);
    clock_gettime(CLOCK_MONOTONIC, &now);
    ms = (budget_current->deadline.tv_sec - now.tv_sec) * 1000
	+ (budget_current->deadline.tv_nsec - now.tv_nsec) / 1000000;
    return (ms > 0 ? ms : 0);
}

/* budget_stop_text - why a check was stopped, for logs and headers */

const char *budget_stop_text(enum budget_stop stop)
{
    switch (stop) {
    case BUDGET_TERMS:
	return ("more than 10 DNS-querying terms");
    case BUDGET_VOIDS:
	return ("more than 2 void DNS lookups");
    case BUDGET_TIME:
	return ("DNS time limit exceeded");
    default:
	return ("");
    }
}

/* budget_is_void - NXDOMAIN or an empty answer */

static int budget_is_void(const SPF_dns_rr_t *rr)
{
    return (rr->herrno == HOST_NOT_FOUND || rr->herrno == NO_DATA
	    || (rr->herrno == NETDB_SUCCESS && rr->num_rr == 0));
}

/* budget_is_sub - is this the next address lookup of an mx/ptr term? */

static int budget_is_sub(struct spf_budget *b, const char *domain,
			         ns_type type)
{
    if ((type != ns_t_a && type != ns_t_aaaa) || b->sub_next >= b->sub_count)
	return (0);
    if (strcasecmp(domain, b->sub_names[b->sub_next]) != 0)
	return (0);
    b->sub_next++;
    return (1);
}

/* budget_note_names - remember the names an mx or ptr term returned */

static void budget_note_names(struct spf_budget *b, const SPF_dns_rr_t *rr)
{
    int     i;

    b->sub_count = 0;
    b->sub_next = 0;
    if ((rr->rr_type != ns_t_mx && rr->rr_type != ns_t_ptr)
	|| rr->herrno != NETDB_SUCCESS)
	return;
    for (i = 0; i < rr->num_rr && i < BUDGET_SUB_MAX; i++) {
	/* An over-long name is not remembered: it counts as a term. */
	if (strlen(rr->rr[i]->mx) >= BUDGET_NAME_MAX)
	    break;
	strcpy(b->sub_names[i], rr->rr[i]->mx);
	b->sub_count = i + 1;
    }
}

/* budget_stop - record why the check stops; 0 if it may go on */

static int budget_stop(struct spf_budget *b)
{
    if (b->stop == BUDGET_OK && budget_ms_left() == 0)
	b->stop = BUDGET_TIME;
    return (b->stop != BUDGET_OK);
}

/* budget_count_term - one more DNS term; non-zero past the limit */

static int budget_count_term(struct spf_budget *b)
{
    b->sub_count = b->sub_next = 0;
    if (++b->terms > BUDGET_MAX_TERMS)
	b->stop = BUDGET_TERMS;
    return (b->stop != BUDGET_OK);
}

/* budget_count_void - one more void lookup; non-zero past the limit */

static int budget_count_void(struct spf_budget *b)
{
    if (++b->voids > BUDGET_MAX_VOIDS)
	b->stop = BUDGET_VOIDS;
    return (b->stop != BUDGET_OK);
}

/* budget_lookup - the layer's lookup method: count, then ask below */

static SPF_dns_rr_t *budget_lookup(SPF_dns_server_t *layer, const char *domain,
				           ns_type type, int should_cache)
{
    struct spf_budget *b = budget_current;
    SPF_dns_rr_t *rr;
    int     sub;

    if (b == 0)
	return (SPF_dns_lookup(layer->layer_below, domain, type, should_cache));
    if (budget_stop(b))
	return (sdns_error_rr(layer, domain, type, TRY_AGAIN));
    sub = budget_is_sub(b, domain, type);
    if (!sub && budget_count_term(b))
	return (sdns_error_rr(layer, domain, type, TRY_AGAIN));
    rr = SPF_dns_lookup(layer->layer_below, domain, type, should_cache);
    if (sub || rr == 0)
	return (rr);
    if (budget_is_void(rr) && budget_count_void(b)) {
	SPF_dns_rr_free(rr);
	return (sdns_error_rr(layer, domain, type, TRY_AGAIN));
    }
    budget_note_names(b, rr);
    return (rr);
}

/* budget_is_record - "v=spf1" alone or followed by a space */

static int budget_is_record(const char *txt)
{
    return (strncasecmp(txt, SPF_VER_STR, sizeof(SPF_VER_STR) - 1) == 0
	    && (txt[sizeof(SPF_VER_STR) - 1] == 0
		|| txt[sizeof(SPF_VER_STR) - 1] == ' '));
}

/* budget_no_record - the domain publishes no SPF record */

static SPF_errcode_t budget_no_record(SPF_response_t *resp, const char *domain)
{
    resp->result = SPF_RESULT_NONE;
    resp->reason = SPF_REASON_FAILURE;
    return (SPF_response_add_error(resp, SPF_E_NOT_SPF,
				   "No SPF record for '%s'", domain));
}

/* budget_pick_record - choose the one SPF record among TXT strings */

static SPF_errcode_t budget_pick_record(SPF_server_t *server,
					        SPF_response_t *resp,
					        const SPF_dns_rr_t *rr,
					        const char *domain,
					        SPF_record_t **recordp)
{
    int     found = 0;
    int     pick = 0;
    int     i;

    for (i = 0; i < rr->num_rr; i++) {
	if (budget_is_record(rr->rr[i]->txt)) {
	    found++;
	    pick = i;
	}
    }
    if (found == 0)
	return (budget_no_record(resp, domain));
    if (found > 1) {
	resp->result = SPF_RESULT_PERMERROR;
	resp->reason = SPF_REASON_FAILURE;
	resp->err = SPF_E_MULTIPLE_RECORDS;
	return (SPF_response_add_error(resp, SPF_E_MULTIPLE_RECORDS,
				       "Multiple SPF records for '%s'", domain));
    }
    if (SPF_record_compile(server, resp, recordp, rr->rr[pick]->txt)
	!= SPF_E_SUCCESS)
	return (SPF_response_add_error(resp, SPF_E_NOT_SPF,
			    "Failed to compile SPF record for '%s'", domain));
    return (SPF_E_SUCCESS);
}

/* budget_dns_error - a fetch that failed for a DNS reason */

static SPF_errcode_t budget_dns_error(SPF_response_t *resp, const char *domain)
{
    return (SPF_response_add_error(resp, SPF_E_DNS_ERROR,
				   "DNS failure for '%s'", domain));
}

/* budget_get_spf - the layer's get_spf method: fetch one SPF record */

static SPF_errcode_t budget_get_spf(SPF_server_t *server, SPF_request_t *req,
				            SPF_response_t *resp,
				            SPF_record_t **recordp)
{
    struct spf_budget *b = budget_current;
    SPF_dns_server_t *layer = server->resolver;
    const char *domain = req->cur_dom;
    SPF_dns_rr_t *rr;
    SPF_errcode_t err;
    int     term;

    *recordp = 0;
    term = (b != 0 && b->fetches++ > 0);
    if (b && (budget_stop(b) || (term && budget_count_term(b))))
	return (budget_dns_error(resp, domain));
    rr = SPF_dns_lookup(layer->layer_below, domain, ns_t_txt, 1);
    if (rr == 0)
	return (SPF_response_add_error(resp, SPF_E_NO_MEMORY, "out of memory"));
    if (term && budget_is_void(rr) && budget_count_void(b))
	err = budget_dns_error(resp, domain);
    else if (rr->herrno == HOST_NOT_FOUND || rr->herrno == NO_DATA)
	err = budget_no_record(resp, domain);
    else if (rr->herrno != NETDB_SUCCESS)
	err = budget_dns_error(resp, domain);
    else
	err = budget_pick_record(server, resp, rr, domain, recordp);
    SPF_dns_rr_free(rr);
    return (err);
}

/* budget_append - append text to a growing explanation, bounded */

static int budget_append(char *out, size_t *used, const char *text)
{
    size_t  len = strlen(text);

    if (*used + len + 2 > BUDGET_EXP_MAX)
	return (-1);
    if (*used > 0)
	out[(*used)++] = ' ';
    memcpy(out + *used, text, len + 1);
    *used += len;
    return (0);
}

/* budget_expand_word - expand the macros of one explanation word */

static int budget_expand_word(SPF_server_t *server, SPF_request_t *req,
			              SPF_response_t *scratch, const char *word,
			              char **buf, size_t *buflen)
{
    SPF_macro_t *macro = 0;
    int     status = -1;

    if (SPF_record_compile_macro(server, scratch, &macro, word) != SPF_E_SUCCESS)
	goto out;
    if (SPF_record_expand_data(server, req, scratch,
			  (SPF_data_t *) ((char *) macro + sizeof(*macro)),
			       macro->macro_len, buf, buflen) != SPF_E_SUCCESS)
	goto out;
    status = 0;
out:
    if (macro)
	SPF_macro_free(macro);
    return (status);
}

/* budget_expand - expand an explanation string word by word */

static void budget_expand(SPF_server_t *server, SPF_request_t *req,
			          const char *text, char *out)
{
    SPF_response_t *scratch;
    char   *copy;
    char   *cp;
    char   *word;
    char   *buf = 0;
    size_t  buflen = 0;
    size_t  used = 0;

    out[0] = 0;
    if ((copy = strdup(text)) == 0)
	return;
    if ((scratch = SPF_response_new(req)) == 0) {
	free(copy);
	return;
    }
    for (cp = copy; (word = strsep(&cp, " ")) != 0;) {
	if (*word == 0)
	    continue;
	if (budget_expand_word(server, req, scratch, word, &buf, &buflen) < 0
	    || budget_append(out, &used, buf ? buf : "") < 0) {
	    out[0] = 0;
	    break;
	}
    }
    free(buf);
    SPF_response_free(scratch);
    free(copy);
}

/* budget_get_exp - the layer's get_exp method: the exp= explanation */

static SPF_errcode_t budget_get_exp(SPF_server_t *server, const char *domain,
				            char **bufp, size_t *buflenp)
{
    struct spf_budget *b = budget_current;
    SPF_dns_server_t *layer = server->resolver;
    SPF_dns_rr_t *rr = 0;
    char    text[BUDGET_EXP_MAX];
    char   *name;
    char   *grown;

    text[0] = 0;
    if ((name = strdup(domain)) == 0)
	return (SPF_E_NO_MEMORY);
    /* Not a term: not counted, but never past the deadline. */
    if (b && b->request && budget_ms_left() != 0)
	rr = SPF_dns_lookup(layer->layer_below, name, ns_t_txt, 1);
    /* RFC 7208 6.2: anything but exactly one TXT string: no explanation. */
    if (rr && rr->herrno == NETDB_SUCCESS && rr->num_rr == 1)
	budget_expand(server, b->request, rr->rr[0]->txt, text);
    if (rr)
	SPF_dns_rr_free(rr);
    free(name);
    if (*buflenp < strlen(text) + 1) {
	if ((grown = realloc(*bufp, strlen(text) + 1)) == 0)
	    return (SPF_E_NO_MEMORY);
	*bufp = grown;
	*buflenp = strlen(text) + 1;
    }
    strcpy(*bufp, text);
    return (SPF_E_SUCCESS);
}

/* budget_destroy - free the layer (not the layer below) */

static void budget_destroy(SPF_dns_server_t *layer)
{
    free(layer);
}

/* budget_layer_new - make the counting layer on top of below */

SPF_dns_server_t *budget_layer_new(SPF_dns_server_t *below)
{
    SPF_dns_server_t *layer;

    if ((layer = calloc(1, sizeof(*layer))) == 0)
	return (0);
    layer->destroy = budget_destroy;
    layer->lookup = budget_lookup;
    layer->get_spf = budget_get_spf;
    layer->get_exp = budget_get_exp;
    layer->layer_below = below;
    layer->name = "rrelay-budget";
    return (layer);
}
