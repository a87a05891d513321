/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	rrconfig 3
 * SUMMARY
 *	rrelay's settings
 * SYNOPSIS
 *	#include "conf/rrconfig.h"
 *
 *	int	rrconfig_load(conf, path, required, overrides, n_overrides,
 *			err, errlen)
 *
 *	int	rrconfig_load_base(conf, path, required, overrides,
 *			n_overrides, err, errlen)
 *
 *	int	rrconfig_finish(conf, path, overrides, n_overrides, err,
 *			errlen)
 *
 *	void	rrconfig_free(conf)
 *
 *	int	tls_check_config(conf, err, errlen)
 *
 *	int	tls_min_version(text)
 * DESCRIPTION
 *	The table below is the whole list of rrelay's settings, with
 *	their defaults and bounds; common/config.c reads them from the
 *	file and the -o overrides. rrconfig_load() then checks what one
 *	setting alone can't: absolute paths, a usable HELO name (the
 *	host's FQDN when none is set, kept a minute in the state
 *	directory (heloname.c); without one, helo_name stays empty and
 *	the SMTP client sends the address literal of its end of each
 *	connection), max_backoff >= backoff, the TLS
 *	settings (a known tls_protocols value, readable CA, certificate
 *	and key files: checks that need OpenSSL's headers, never the
 *	library), and reads tls_policy_file, auth_file, host_policy_file
 *	and saturation_file, so that every
 *	mistake shows at start-up.
 *
 *	rrconfig_load() is rrconfig_load_base() (the settings, their
 *	cross-checks and the default delivery_socket) and then
 *	rrconfig_finish() (the HELO name and the files). A thin rrelay,
 *	which hands its delivery to a worker, needs only the first; the
 *	worker, or rrelay when it delivers by itself, then finishes.
 *
 *	tls_check_config() makes those TLS checks alone, for a
 *	configuration that did not come from rrconfig_load() (the TLS end).
 *
 *	tls_min_version() maps a tls_protocols value (">=TLSv1.2") to
 *	OpenSSL's protocol version number, or -1.
 * DIAGNOSTICS
 *	rrconfig_load() returns -1 with "file:line: what is wrong".
 *--*/

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "config.h"
#include "log.h"
#include "conf/heloname.h"
#include "conf/hostpolicy.h"
#include "conf/rrconfig.h"
#include "conf/saturation.h"

#define DAY	86400L

#define OFF(field) offsetof(struct rrconfig, field)

/* check_absolute - a path that does not depend on the working directory */

static int check_absolute(const char *value, char *why, size_t whylen)
{
    if (whylen > 0)
	why[0] = 0;				/* written on every path */

    if (value[0] == '/')
	return (0);
    snprintf(why, whylen, "\"%s\" is not an absolute path", value);
    return (-1);
}

/* check_log - syslog, stderr, postfix or an absolute path */

static int check_log(const char *value, char *why, size_t whylen)
{
    return (log_check_target(value, why, whylen));
}

/* check_socket - an absolute path that fits a unix socket address */

static int check_socket(const char *value, char *why, size_t whylen)
{
    if (whylen > 0)
	why[0] = 0;				/* written on every path */

    if (check_absolute(value, why, whylen) < 0)
	return (-1);
    if (strlen(value) < sizeof(((struct sockaddr_un *) 0)->sun_path))
	return (0);
    snprintf(why, whylen, "\"%.64s...\" is too long for a unix socket", value);
    return (-1);
}

/* check_socket_or_empty - as check_socket, or "" for the default */

static int check_socket_or_empty(const char *value, char *why, size_t whylen)
{
    if (whylen > 0)
	why[0] = 0;				/* written on every path */

    return (value[0] ? check_socket(value, why, whylen) : 0);
}

static const struct cf_entry rr_settings[] = {
    {"state_directory", CF_STR, "/var/lib/rrelay", 0, 0, 0, OFF(state_directory), check_absolute},
    {"connect_timeout", CF_TIME, "10s", 1, 3600, 0, OFF(connect_timeout), 0},
    {"command_timeout", CF_TIME, "60s", 1, 3600, 0, OFF(command_timeout), 0},
    {"greeting_grace", CF_TIME, "1s", 0, 3600, 0, OFF(greeting_grace), 0},
    {"data_timeout", CF_TIME, "180s", 1, 3600, 0, OFF(data_timeout), 0},
    {"deadline", CF_TIME, "900s", 1, DAY, 0, OFF(deadline), 0},
    {"backoff", CF_TIME, "60s", 1, DAY, 0, OFF(backoff), 0},
    {"max_backoff", CF_TIME, "10m", 1, 7 * DAY, 0, OFF(max_backoff), 0},
    {"helo_name", CF_STR, "", 0, 0, 0, OFF(helo_name), 0},
    {"log", CF_STR, "syslog", 0, 0, 0, OFF(log), check_log},
    {"sendmail_path", CF_STR, "/usr/sbin/sendmail", 0, 0, 0, OFF(sendmail_path), check_absolute},
    {"tls_security_level", CF_ENUM, "may", 0, 0, TLS_LEVEL_NAMES,
    OFF(tls_security_level), 0},
    {"tls_ca_file", CF_STR, "", 0, 0, 0, OFF(tls_ca_file), 0},
    {"tls_ca_path", CF_STR, "", 0, 0, 0, OFF(tls_ca_path), 0},
    {"tls_cert_file", CF_STR, "", 0, 0, 0, OFF(tls_cert_file), 0},
    {"tls_key_file", CF_STR, "", 0, 0, 0, OFF(tls_key_file), 0},
    {"tls_protocols", CF_STR, ">=TLSv1.2", 0, 0, 0, OFF(tls_protocols), 0},
    {"tls_policy_file", CF_STR, "", 0, 0, 0, OFF(tls_policy_file), 0},
    {"auth_file", CF_STR, "", 0, 0, 0, OFF(auth_file), 0},
    {"host_policy_file", CF_STR, "", 0, 0, 0, OFF(host_policy_file), 0},
    {"saturation_file", CF_STR, "", 0, 0, 0, OFF(saturation_file), 0},
    {"rate_wait", CF_TIME, "10s", 0, 600, 0, OFF(rate_wait), 0},
    {"throttle_backoff", CF_TIME, "60s", 1, DAY, 0, OFF(throttle_backoff), 0},
    {"quota_backoff", CF_TIME, "1h", 1, 7 * DAY, 0, OFF(quota_backoff), 0},
    {"auth_mechanisms", CF_STR, "plain, login", 0, 0, 0, OFF(auth_mechanisms), 0},
    {"cache_socket", CF_STR, "/run/rrelay/cache.sock", 0, 0, 0, OFF(cache_socket), check_socket},
    {"connection_cache_time_limit", CF_TIME, "2s", 1, 300, 0, OFF(cache_time_limit), 0},
    {"connection_reuse_count_limit", CF_INT, "100", 1, REUSE_COUNT_MAX, 0, OFF(cache_reuse_limit), 0},
    {"connection_cache_per_host", CF_INT, "20", 1, 1000, 0, OFF(cache_per_host), 0},
    {"tls_connection_reuse", CF_BOOL, "yes", 0, 0, 0, OFF(tls_conn_reuse), 0},
    {"tls_proxy_limit", CF_INT, "100", 1, 1000, 0, OFF(tls_proxy_limit), 0},
    {"handoff", CF_BOOL, "yes", 0, 0, 0, OFF(handoff), 0},
    {"delivery_socket", CF_STR, "", 0, 0, 0, OFF(delivery_socket), check_socket_or_empty},
    {"delivery_workers", CF_INT, "20", 0, 500, 0, OFF(delivery_workers), 0},
    {0},
};

/* valid_mechanisms - auth_mechanisms names only what rrelay speaks */

static int valid_mechanisms(const char *list)
{
    char    copy[256];
    char   *word;
    char   *save = 0;
    int     count = 0;

    if (strlen(list) >= sizeof(copy))
	return (0);
    strcpy(copy, list);
    for (word = strtok_r(copy, ", \t", &save); word;
	 word = strtok_r(0, ", \t", &save), count++)
	if (strcasecmp(word, "plain") != 0 && strcasecmp(word, "login") != 0)
	    return (0);
    return (count > 0);
}

/* rr_source - where the settings came from, for errors found after loading */

struct rr_source {
    const char *path;
    char   *const *overrides;
    int     n_overrides;
};

/* rr_where - "file:line" or "-o NAME=VALUE" of a setting; 0 if a default */

static int rr_where(const struct rr_source *src, const char *name,
		            char *buf, size_t buflen)
{
    return (cf_origin(name, src->path, src->overrides, src->n_overrides,
		      buf, buflen));
}

/* tls_min_version - ">=TLSv1.2" and friends, as OpenSSL's version */

int     tls_min_version(const char *text)
{
    static const struct {
	const char *name;
	int     version;
    }       table[] = {
	{">=TLSv1", TLS1_VERSION},
	{">=TLSv1.1", TLS1_1_VERSION},
	{">=TLSv1.2", TLS1_2_VERSION},
	{">=TLSv1.3", TLS1_3_VERSION},
    };
    size_t  i;

    for (i = 0; i < sizeof(table) / sizeof(table[0]); i++)
	if (strcmp(text, table[i].name) == 0)
	    return (table[i].version);
    return (-1);
}

/* readable - a configured file that rrelay can read */

static int readable(const char *name, const char *path, char *err,
		            size_t errlen)
{
    if (errlen > 0)
	err[0] = 0;				/* written on every path */

    if (path[0] && access(path, R_OK) < 0) {
	snprintf(err, errlen, "%s %s: %s", name, path, strerror(errno));
	return (-1);
    }
    return (0);
}

/* tls_check_config - the cheap TLS checks, done at start-up */

int     tls_check_config(const struct rrconfig *conf, char *err, size_t errlen)
{
    if (errlen > 0)
	err[0] = 0;				/* written on every path */

    if (tls_min_version(conf->tls_protocols) < 0) {
	snprintf(err, errlen, "tls_protocols \"%s\" is not one of >=TLSv1, "
		 ">=TLSv1.1, >=TLSv1.2, >=TLSv1.3", conf->tls_protocols);
	return (-1);
    }
    if (conf->tls_key_file[0] && conf->tls_cert_file[0] == 0) {
	snprintf(err, errlen, "tls_key_file is set, but tls_cert_file is not");
	return (-1);
    }
    return (readable("tls_ca_file", conf->tls_ca_file, err, errlen) < 0
	    || readable("tls_ca_path", conf->tls_ca_path, err, errlen) < 0
	    || readable("tls_cert_file", conf->tls_cert_file, err, errlen) < 0
	    || readable("tls_key_file", conf->tls_key_file, err, errlen) < 0 ?
	    -1 : 0);
}

/* load_tls - check the TLS settings; read the policy and auth files */

static int load_tls(struct rrconfig *conf, const struct rr_source *src,
		            char *err, size_t errlen)
{
    char    why[CF_ERR_MAX];
    char    where[CF_ERR_MAX];

    if (errlen > 0)
	err[0] = 0;				/* written on every path */

    if (tls_check_config(conf, why, sizeof(why)) < 0) {
	snprintf(err, errlen, "%s: %s", src->path, why);
	return (-1);
    }
    if (!valid_mechanisms(conf->auth_mechanisms)) {
	(void) rr_where(src, "auth_mechanisms", where, sizeof(where));
	snprintf(err, errlen, "%s: auth_mechanisms \"%.64s\" must list plain "
		 "and/or login", where, conf->auth_mechanisms);
	return (-1);
    }
    if (conf->tls_policy_file[0]
	&& ((conf->tls_policy = calloc(1, sizeof(*conf->tls_policy))) == 0
	    || tlspolicy_load(conf->tls_policy_file, conf->tls_policy, err,
			      errlen) < 0))
	return (-1);
    if (conf->auth_file[0]
	&& ((conf->auth = calloc(1, sizeof(*conf->auth))) == 0
	    || authfile_load(conf->auth_file, conf->auth, err, errlen) < 0))
	return (-1);
    return (0);
}

/* load_capacity - read host_policy_file and saturation_file */

static int load_capacity(struct rrconfig *conf, char *err, size_t errlen)
{
    /* Not calloc(): each entry is cleared as it is read, and clearing
     * all 256 would cost every delivery 96 KB of memset and page faults. */
    if (conf->host_policy_file[0]
	&& ((conf->host_policy = malloc(sizeof(*conf->host_policy))) == 0
	    || hostpolicy_load(conf->host_policy_file, conf->host_policy, err,
			       errlen) < 0))
	return (-1);
    if (conf->saturation_file[0]
	&& saturation_load(conf->saturation_file, &conf->saturation, err,
			   errlen) < 0)
	return (-1);
    return (0);
}

/* default_delivery_socket - "": deliver.sock beside cache_socket */

static int default_delivery_socket(struct rrconfig *conf, char *err,
				           size_t errlen)
{
    const char *slash = strrchr(conf->cache_socket, '/');
    size_t  dirlen = slash ? (size_t) (slash - conf->cache_socket) : 0;
    char    path[sizeof(((struct sockaddr_un *) 0)->sun_path)];

    if (errlen > 0)
	err[0] = 0;				/* written on every path */

    if (conf->delivery_socket[0])
	return (0);
    if (dirlen + sizeof("/deliver.sock") > sizeof(path)) {
	snprintf(err, errlen, "delivery_socket: deliver.sock beside "
		 "cache_socket is too long for a unix socket; set it");
	return (-1);
    }
    snprintf(path, sizeof(path), "%.*s/deliver.sock", (int) dirlen,
	     conf->cache_socket);
    free(conf->delivery_socket);
    if ((conf->delivery_socket = strdup(path)) == 0) {
	snprintf(err, errlen, "out of memory");
	return (-1);
    }
    return (0);
}

/* rrconfig_load_base - the settings, without the files they name or the HELO lookup */

int     rrconfig_load_base(struct rrconfig *conf, const char *path,
			           int required, char *const *overrides,
			           int n_overrides, char *err, size_t errlen)
{
    struct rr_source src;
    char    where[CF_ERR_MAX];

    if (errlen > 0)
	err[0] = 0;				/* written on every path */

    memset(conf, 0, sizeof(*conf));
    src.path = path;
    src.overrides = overrides;
    src.n_overrides = n_overrides;
    if (cf_load(rr_settings, conf, path, required, overrides, n_overrides,
		err, errlen) < 0)
	return (-1);
    if (conf->max_backoff < conf->backoff) {
	/* Name max_backoff's line, or backoff's when max_backoff is a default. */
	if (rr_where(&src, "max_backoff", where, sizeof(where)) == 0)
	    (void) rr_where(&src, "backoff", where, sizeof(where));
	snprintf(err, errlen, "%s: max_backoff (%lds) is less than backoff "
		 "(%lds)", where, conf->max_backoff, conf->backoff);
	return (-1);
    }
    return (default_delivery_socket(conf, err, errlen));
}

/* rrconfig_finish - the HELO name, and the TLS, auth and capacity files */

int     rrconfig_finish(struct rrconfig *conf, const char *path,
			        char *const *overrides, int n_overrides,
			        char *err, size_t errlen)
{
    struct rr_source src;
    char    where[CF_ERR_MAX];

    if (errlen > 0)
	err[0] = 0;				/* written on every path */

    src.path = path;
    src.overrides = overrides;
    src.n_overrides = n_overrides;
    if (conf->helo_name[0] == 0) {
	free(conf->helo_name);
	if ((conf->helo_name = heloname_default(conf->state_directory,
						     0, time(0))) == 0) {
	    snprintf(err, errlen, "out of memory");
	    return (-1);
	}
    }
    if (conf->helo_name[0] && !heloname_valid(conf->helo_name)) {
	(void) rr_where(&src, "helo_name", where, sizeof(where));
	snprintf(err, errlen, "%s: helo_name \"%.64s\" is not a valid host "
		 "name", where, conf->helo_name);
	return (-1);
    }
    if (load_tls(conf, &src, err, errlen) < 0)
	return (-1);
    return (load_capacity(conf, err, errlen));
}

/* rrconfig_load - read and cross-check the settings */

int     rrconfig_load(struct rrconfig *conf, const char *path, int required,
		              char *const *overrides, int n_overrides,
		              char *err, size_t errlen)
{
    if (rrconfig_load_base(conf, path, required, overrides, n_overrides, err,
			   errlen) < 0)
	return (-1);
    return (rrconfig_finish(conf, path, overrides, n_overrides, err, errlen));
}

/* rrconfig_free - release the settings' strings */

void    rrconfig_free(struct rrconfig *conf)
{
    if (conf->auth)
	authfile_wipe(conf->auth);
    free(conf->auth);
    free(conf->tls_policy);
    free(conf->host_policy);
    conf->host_policy = 0;
    saturation_free(conf->saturation);
    conf->saturation = 0;
    conf->auth = 0;
    conf->tls_policy = 0;
    cf_free(rr_settings, conf);
}
