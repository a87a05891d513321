/* SPDX-License-Identifier: MIT */
#ifndef RR_CONTEXT_H
#define RR_CONTEXT_H

/* context.h - per-connection and per-message state of the milter */

#include <sys/socket.h>
#include <netinet/in.h>
#include <stddef.h>

#include "milterconf.h"
#include "policy.h"
#include "spf_check.h"

#define CC_HOST_MAX	255		/* client host name kept */
#define CC_HELO_MAX	256		/* HELO kept; longer is no domain anyway */
#define MC_QID_MAX	31		/* queue id kept */
#define MC_FORGED_MAX	1000		/* forged A-R fields removed, at most */

struct msg_ctx {
    int     mc_active;			/* MAIL FROM seen, check done */
    char    mc_from[SPF_ADDR_MAX + 2];	/* envelope sender, "" for <> */
    struct spf_verdict mc_verdict;
    enum policy_action mc_action;
    unsigned mc_ar_count;		/* Authentication-Results seen */
    unsigned *mc_forged;		/* indexes of those with our id */
    size_t  mc_nforged;
    size_t  mc_forged_cap;
    int     mc_too_many;		/* more than MC_FORGED_MAX of them */
    int     mc_nomem;			/* out of memory noting them */
};

struct conn_ctx {
    struct mconf *cc_conf;		/* held until close */
    char    cc_ip[INET6_ADDRSTRLEN];	/* "" when unknown */
    char    cc_host[CC_HOST_MAX + 1];
    char    cc_helo[CC_HELO_MAX + 1];	/* "" until HELO/EHLO */
    const char *cc_skip;		/* why not checked, or null */
    struct msg_ctx cc_msg;
};

extern struct conn_ctx *cc_new(struct mconf *conf);
extern void cc_free(struct conn_ctx *cc);
extern void cc_set_client(struct conn_ctx *cc, const struct sockaddr *sa,
			          const char *hostname);
extern void cc_set_helo(struct conn_ctx *cc, const char *helo);
extern int cc_live(void);
extern void mc_reset(struct msg_ctx *mc);
extern void mc_set_from(struct msg_ctx *mc, const char *arg);
extern int mc_note_header(struct msg_ctx *mc, const char *name,
			          const char *value, const char *authserv_id);

#endif
