/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	callbacks 3
 * SUMMARY
 *	the libmilter callbacks of rrelay-milter
 * SYNOPSIS
 *	#include "callbacks.h"
 *
 *	int	cb_register()
 * DESCRIPTION
 *	cb_register() registers the filter with libmilter. The callbacks
 *	are thin: they copy what the MTA says into the contexts and call
 *	the pure modules (spf_check, policy, headers).
 *
 *	The filter answers the MTA only at MAIL FROM and at the end of
 *	the message. connect, HELO and each header field are "no reply"
 *	steps (SMFIP_NR_CONN, SMFIP_NR_HELO, SMFIP_NR_HDR): the MTA does
 *	not wait for them, and Postfix sends them in one write with the
 *	next command that does wait. libmilter offers these steps always
 *	and answers "continue" itself to an MTA that lacks them. What
 *	these steps cannot say (accept, tempfail) is said at the next
 *	step that answers:
 *
 *	connect	takes a reference to the current configuration. A client
 *		in trusted_networks, or one without an IP address, is
 *		logged as skipped here and accepted with no check and no
 *		header: each of its messages at MAIL FROM. Out of memory,
 *		it is logged here and every MAIL FROM is deferred.
 *	helo	remembers the latest HELO/EHLO name.
 *	envfrom	skips SASL-authenticated clients ({auth_authen}, with
 *		skip_authenticated), runs the SPF check and applies the
 *		policy: a reject (5xx) or defer (4xx) happens here, at
 *		MAIL FROM, with the reply from policy_reply().
 *	header	notes the Authentication-Results fields that claim our
 *		authserv-id. Out of memory, it is logged once and the
 *		message is deferred at its end.
 *	eom	deletes those forged fields (last first, so that indexes
 *		stay valid), adds Received-SPF and/or Authentication-
 *		Results at the top, and logs the decision.
 *	abort	forgets the message; close frees everything.
 *
 *	Every skip and decision is logged once, in the form
 *	"QUEUEID: spf=fail identity=mailfrom client=host[ip] helo=NAME
 *	from=<ADDR> action=reject", with "NOQUEUE" before Postfix has a
 *	queue id (at MAIL FROM) and the problem in parentheses for
 *	errors. A missing macro or callback argument is treated as empty.
 */

#include <stdio.h>
#include <string.h>

#include <libmilter/mfapi.h>

#include "callbacks.h"
#include "context.h"
#include "headers.h"
#include "log.h"
#include "policy.h"

#define CB_NAME		"rrelay-milter"

/* cb_qid - Postfix's queue id, or NOQUEUE */

static void cb_qid(SMFICTX *ctx, char *buf, size_t buflen)
{
    const char *qid = smfi_getsymval(ctx, "i");

    snprintf(buf, buflen, "%.*s", MC_QID_MAX,
	     (qid && *qid) ? qid : "NOQUEUE");
}

/* cb_log_skip - one line for a client we do not check */

static void cb_log_skip(const struct conn_ctx *cc, const char *why)
{
    log_info("NOQUEUE: spf=skip client=%.255s[%s] action=accept (%s)",
	     cc->cc_host, *cc->cc_ip ? cc->cc_ip : "unknown", why);
}

/* cb_log_skip_message - one line for a message we do not check */

static void cb_log_skip_message(SMFICTX *ctx, const struct conn_ctx *cc,
				        const char *why)
{
    char    qid[MC_QID_MAX + 1];

    cb_qid(ctx, qid, sizeof(qid));
    log_info("%s: spf=skip client=%.255s[%s] helo=%.255s from=<%.255s> "
	     "action=accept (%s)", qid, cc->cc_host, cc->cc_ip, cc->cc_helo,
	     cc->cc_msg.mc_from, why);
}

/* cb_log_decision - one line for the verdict and what we did */

static void cb_log_decision(SMFICTX *ctx, const struct conn_ctx *cc)
{
    const struct msg_ctx *mc = &cc->cc_msg;
    const struct spf_verdict *v = &mc->mc_verdict;
    char    qid[MC_QID_MAX + 1];

    cb_qid(ctx, qid, sizeof(qid));
    log_info("%s: spf=%s identity=%s client=%.255s[%s] helo=%.255s "
	     "from=<%.255s> action=%s%s%s%s", qid, spf_res_name(v->result),
	     spf_ident_name(v->identity), cc->cc_host, cc->cc_ip,
	     cc->cc_helo, mc->mc_from, policy_action_name(mc->mc_action),
	     *v->reason ? " (" : "", v->reason, *v->reason ? ")" : "");
}

/* cb_connect - a new SMTP client (no reply) */

static sfsistat cb_connect(SMFICTX *ctx, char *hostname, _SOCK_ADDR *hostaddr)
{
    struct mconf *conf;
    struct conn_ctx *cc;

    if ((conf = mconf_acquire()) == 0 || (cc = cc_new(conf)) == 0) {
	if (conf)
	    mconf_release(conf);
	log_error("out of memory for a new connection");
	return (SMFIS_NOREPLY);		/* cb_envfrom() defers */
    }
    smfi_setpriv(ctx, cc);
    cc_set_client(cc, hostaddr, hostname);
    if (*cc->cc_ip == 0)
	cc->cc_skip = "no client IP address";
    else if (cidr_list_match(&conf->trusted, cc->cc_ip))
	cc->cc_skip = "trusted network";
    if (cc->cc_skip)
	cb_log_skip(cc, cc->cc_skip);
    return (SMFIS_NOREPLY);
}

/* cb_helo - HELO or EHLO (no reply) */

static sfsistat cb_helo(SMFICTX *ctx, char *helo)
{
    struct conn_ctx *cc = smfi_getpriv(ctx);

    if (cc)
	cc_set_helo(cc, helo);
    return (SMFIS_NOREPLY);
}

/* cb_refuse - reply and log for a reject or defer at MAIL FROM */

static sfsistat cb_refuse(SMFICTX *ctx, struct conn_ctx *cc)
{
    struct msg_ctx *mc = &cc->cc_msg;
    struct policy_reply reply;
    const char *domain = mc->mc_verdict.identity == SPFI_HELO ? cc->cc_helo
    : spf_sender_domain(mc->mc_from);

    policy_reply(&mc->mc_verdict, domain, cc->cc_ip, &reply);
    if (smfi_setreply(ctx, reply.code, reply.xcode, reply.text) != MI_SUCCESS)
	log_warn("cannot set the SMTP reply \"%s %s %s\"", reply.code,
		 reply.xcode, reply.text);
    cb_log_decision(ctx, cc);
    return (mc->mc_action == ACT_REJECT ? SMFIS_REJECT : SMFIS_TEMPFAIL);
}

/* cb_envfrom - MAIL FROM: check SPF, refuse here or mark later */

static sfsistat cb_envfrom(SMFICTX *ctx, char **argv)
{
    struct conn_ctx *cc = smfi_getpriv(ctx);
    struct msg_ctx *mc;
    struct mconf *conf;
    struct spf_env env;
    const char *auth;

    if (cc == 0)
	return (SMFIS_TEMPFAIL);	/* out of memory at connect */
    if (cc->cc_skip)
	return (SMFIS_ACCEPT);		/* logged at connect */
    mc = &cc->cc_msg;
    conf = cc->cc_conf;
    mc_reset(mc);
    mc_set_from(mc, argv ? argv[0] : 0);
    auth = smfi_getsymval(ctx, "{auth_authen}");
    if (conf->skip_authenticated && auth && *auth) {
	cb_log_skip_message(ctx, cc, "authenticated");
	return (SMFIS_ACCEPT);
    }
    memset(&env, 0, sizeof(env));
    env.ip = cc->cc_ip;
    env.helo = *cc->cc_helo ? cc->cc_helo : 0;
    env.from = mc->mc_from;
    env.helo_check = conf->helo_check;
    env.timeout = conf->dns_timeout;
    spf_check_message(&conf->engine, &env, &mc->mc_verdict);
    mc->mc_action = policy_decide(&conf->policy, mc->mc_verdict.result);
    mc->mc_active = 1;
    if (mc->mc_action != ACT_MARK)
	return (cb_refuse(ctx, cc));
    return (SMFIS_CONTINUE);
}

/* cb_header - note forged Authentication-Results fields (no reply) */

static sfsistat cb_header(SMFICTX *ctx, char *name, char *value)
{
    struct conn_ctx *cc = smfi_getpriv(ctx);
    struct msg_ctx *mc;

    if (cc == 0 || !cc->cc_msg.mc_active || cc->cc_msg.mc_nomem)
	return (SMFIS_NOREPLY);
    mc = &cc->cc_msg;
    if (mc_note_header(mc, name, value, cc->cc_conf->authserv_id) < 0) {
	log_error("out of memory while reading headers");
	mc->mc_nomem = 1;		/* cb_eom() defers */
    }
    return (SMFIS_NOREPLY);
}

/* cb_remove_forged - delete the forged fields, the last one first */

static int cb_remove_forged(SMFICTX *ctx, struct msg_ctx *mc)
{
    size_t  i;

    for (i = mc->mc_nforged; i > 0; i--) {
	if (smfi_chgheader(ctx, HDR_AUTH_RESULTS, (int) mc->mc_forged[i - 1],
			   0) != MI_SUCCESS)
	    return (-1);
    }
    return (0);
}

/* cb_add_headers - prepend our Received-SPF and/or Authentication-Results */

static int cb_add_headers(SMFICTX *ctx, const struct conn_ctx *cc)
{
    const struct msg_ctx *mc = &cc->cc_msg;
    const struct mconf *conf = cc->cc_conf;
    struct hdr_info info;
    char    value[HDR_BUF_MAX];

    info.result = mc->mc_verdict.result;
    info.identity = mc->mc_verdict.identity;
    info.ip = cc->cc_ip;
    info.helo = cc->cc_helo;
    info.from = mc->mc_from;
    info.receiver = conf->authserv_id;
    info.reason = mc->mc_verdict.reason;
    if (conf->header != MCONF_HDR_AUTH_RESULTS
	&& (hdr_received_spf(&info, value, sizeof(value)) < 0
	    || smfi_insheader(ctx, 0, HDR_RECEIVED_SPF, value) != MI_SUCCESS))
	return (-1);
    if (conf->header != MCONF_HDR_RECEIVED_SPF
	&& (hdr_auth_results(&info, value, sizeof(value)) < 0
	    || smfi_insheader(ctx, 0, HDR_AUTH_RESULTS, value) != MI_SUCCESS))
	return (-1);
    return (0);
}

/* cb_eom - end of message: remove forged fields, add ours, log */

static sfsistat cb_eom(SMFICTX *ctx)
{
    struct conn_ctx *cc = smfi_getpriv(ctx);
    struct msg_ctx *mc;
    sfsistat status = SMFIS_CONTINUE;
    char    qid[MC_QID_MAX + 1];

    if (cc == 0 || !cc->cc_msg.mc_active)
	return (SMFIS_CONTINUE);
    mc = &cc->cc_msg;
    if (mc->mc_nomem) {
	mc_reset(mc);
	return (SMFIS_TEMPFAIL);	/* logged in cb_header() */
    }
    cb_qid(ctx, qid, sizeof(qid));
    if (mc->mc_too_many) {
	log_warn("%s: more than %d forged Authentication-Results fields: "
		 "rejected", qid, MC_FORGED_MAX);
	smfi_setreply(ctx, "550", "5.7.1", "Too many forged "
		      "Authentication-Results header fields");
	status = SMFIS_REJECT;
    } else if (cb_remove_forged(ctx, mc) < 0 || cb_add_headers(ctx, cc) < 0) {
	log_error("%s: cannot edit the message headers", qid);
	status = SMFIS_TEMPFAIL;
    } else {
	if (mc->mc_nforged > 0)
	    log_info("%s: removed %zu forged Authentication-Results field%s",
		     qid, mc->mc_nforged, mc->mc_nforged > 1 ? "s" : "");
	cb_log_decision(ctx, cc);
    }
    mc_reset(mc);
    return (status);
}

/* cb_abort - the message was aborted */

static sfsistat cb_abort(SMFICTX *ctx)
{
    struct conn_ctx *cc = smfi_getpriv(ctx);

    if (cc)
	mc_reset(&cc->cc_msg);
    return (SMFIS_CONTINUE);
}

/* cb_close - the connection ended */

static sfsistat cb_close(SMFICTX *ctx)
{
    struct conn_ctx *cc = smfi_getpriv(ctx);

    smfi_setpriv(ctx, 0);
    cc_free(cc);
    return (SMFIS_CONTINUE);
}

/* cb_negotiate - ask for header changes; skip or do not answer steps */

static sfsistat cb_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
			             unsigned long f2, unsigned long f3,
			             unsigned long *pf0, unsigned long *pf1,
			             unsigned long *pf2, unsigned long *pf3)
{
    (void) ctx;
    (void) f2;
    (void) f3;
    if ((f0 & CB_ACTIONS) != CB_ACTIONS) {
	log_error("the MTA does not let filters add and change headers");
	return (SMFIS_REJECT);
    }

    /*
     * libmilter offers the no-reply steps to every filter, and answers
     * "continue" in our place to an MTA that lacks them: only a library
     * that cannot do this leaves them out, and our callbacks rely on it.
     */
    if ((f1 & CB_NR_STEPS) != CB_NR_STEPS) {
	log_error("libmilter does not offer the no-reply protocol steps");
	return (SMFIS_REJECT);
    }
    *pf0 = CB_ACTIONS;
    *pf1 = (f1 & CB_NO_STEPS) | CB_NR_STEPS;
    *pf2 = 0;
    *pf3 = 0;
    return (SMFIS_CONTINUE);
}

static struct smfiDesc cb_desc = {
    CB_NAME,
    SMFI_VERSION,
    CB_ACTIONS,
    cb_connect,
    cb_helo,
    cb_envfrom,
    0,					/* envrcpt */
    cb_header,
    0,					/* eoh */
    0,					/* body */
    cb_eom,
    cb_abort,
    cb_close,
    0,					/* unknown */
    0,					/* data */
    cb_negotiate,
};

/* cb_register - register the filter with libmilter */

int     cb_register(void)
{
    return (smfi_register(cb_desc) == MI_SUCCESS ? 0 : -1);
}
