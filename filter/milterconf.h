/* SPDX-License-Identifier: MIT */
#ifndef RR_MILTERCONF_H
#define RR_MILTERCONF_H

/* milterconf.h - rrelay-milter settings, loaded, checked and refcounted */

#include <stddef.h>

#include "cidr.h"
#include "policy.h"
#include "spf_check.h"

#define MCONF_PATH	"/etc/rrelay/rrelay-milter.conf"

enum mconf_header { MCONF_HDR_RECEIVED_SPF, MCONF_HDR_AUTH_RESULTS, MCONF_HDR_BOTH };

struct mconf {
    /* settings, as the table stores them */
    char   *socket;
    char   *user;
    char   *pidfile;
    char   *authserv_id;
    int     header;			/* enum mconf_header */
    int     on_fail;			/* 0 mark, 1 reject */
    int     on_softfail;
    int     on_permerror;
    int     on_temperror;		/* 0 mark, 1 defer */
    int     on_none;
    int     helo_check;
    char   *trusted_networks;
    int     skip_authenticated;
    long    dns_timeout;
    char   *log;
    /* derived at load time */
    struct cidr_list trusted;
    struct policy policy;
    struct spf_engine engine;
    int     refs;
};

extern struct mconf *mconf_load(const char *path, int required,
				        char *const *overrides, int n_overrides,
				        SPF_dns_server_t *dns, char *err,
				        size_t errlen);
extern void mconf_install(struct mconf *conf);
extern struct mconf *mconf_acquire(void);
extern void mconf_release(struct mconf *conf);
extern void mconf_restart_only(const struct mconf *old,
			               const struct mconf *new, char *buf,
			               size_t buflen);

#endif
