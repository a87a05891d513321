/* SPDX-License-Identifier: MIT */
#ifndef RR_RRCONFIG_H
#define RR_RRCONFIG_H

/* rrconfig.h - rrelay's settings */

#include <stddef.h>

#include "tlspolicy.h"

#define RRELAY_CONFIG	"/etc/rrelay/rrelay.conf"

struct rrconfig {
    char   *state_directory;
    long    connect_timeout;		/* seconds */
    long    command_timeout;
    long    greeting_grace;		/* then down, if another host is up */
    long    data_timeout;
    long    deadline;
    long    backoff;
    long    max_backoff;
    char   *helo_name;
    char   *log;
    char   *sendmail_path;
    int     tls_security_level;		/* enum tls_level */
    char   *tls_ca_file;
    char   *tls_ca_path;
    char   *tls_cert_file;
    char   *tls_key_file;
    char   *tls_protocols;
    char   *tls_policy_file;
    char   *auth_file;
    char   *auth_mechanisms;
    char   *cache_socket;			/* rrelay-cache's socket */
    long    cache_time_limit;		/* seconds a connection stays idle */
    long    cache_reuse_limit;		/* deliveries on one connection */
    long    cache_per_host;		/* idle connections per host */
    int     tls_conn_reuse;		/* rrelay-cache as the TLS end */
    long    tls_proxy_limit;		/* its TLS ends at one time */
    struct tls_policy *tls_policy;	/* loaded from tls_policy_file */
    struct auth_table *auth;		/* loaded from auth_file */
};

extern int rrconfig_load(struct rrconfig *conf, const char *path,
			         int required, char *const *overrides,
			         int n_overrides, char *err, size_t errlen);
extern void rrconfig_free(struct rrconfig *conf);

#endif
