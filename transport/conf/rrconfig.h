/* SPDX-License-Identifier: MIT */
#ifndef RR_RRCONFIG_H
#define RR_RRCONFIG_H

/* rrconfig.h - rrelay's settings */

#include <stddef.h>

#include "conf/tlspolicy.h"

#define RRELAY_CONFIG	"/etc/rrelay/rrelay.conf"
#define REUSE_COUNT_MAX	1000000	/* connection_reuse_count_limit's bound */

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
    char   *host_policy_file;
    char   *saturation_file;
    long    rate_wait;			/* seconds a message may wait for a slot */
    long    throttle_backoff;		/* skip a host that said "throttled" */
    long    quota_backoff;		/* ... "quota", when it has no quota= */
    char   *auth_mechanisms;
    char   *cache_socket;			/* rrelay-cache's socket */
    long    cache_time_limit;		/* seconds a connection stays idle */
    long    cache_reuse_limit;		/* deliveries on one connection */
    long    cache_per_host;		/* idle connections per host */
    int     tls_conn_reuse;		/* rrelay-cache as the TLS end */
    long    tls_proxy_limit;		/* its TLS ends at one time */
    int     handoff;			/* hand deliveries to its workers */
    char   *delivery_socket;		/* ... on this socket */
    long    delivery_workers;		/* how many it runs */
    struct tls_policy *tls_policy;	/* loaded from tls_policy_file */
    struct auth_table *auth;		/* loaded from auth_file */
    struct host_policy *host_policy;	/* loaded from host_policy_file */
    struct saturation *saturation;	/* loaded from saturation_file */
};

extern int rrconfig_load(struct rrconfig *conf, const char *path,
			         int required, char *const *overrides,
			         int n_overrides, char *err, size_t errlen);
extern int rrconfig_load_base(struct rrconfig *conf, const char *path,
			              int required, char *const *overrides,
			              int n_overrides, char *err, size_t errlen);
extern int rrconfig_finish(struct rrconfig *conf, const char *path,
			           char *const *overrides, int n_overrides,
			           char *err, size_t errlen);
extern void rrconfig_free(struct rrconfig *conf);
extern int tls_check_config(const struct rrconfig *conf, char *err,
			            size_t errlen);
extern int tls_min_version(const char *text);

#endif
