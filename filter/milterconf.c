/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	milterconf 3
 * SUMMARY
 *	rrelay-milter settings: the table, the checks, the refcounted copy in use
 * SYNOPSIS
 *	#include "milterconf.h"
 *
 *	struct mconf *mconf_load(path, required, overrides, n_overrides,
 *				dns, err, errlen)
 *
 *	void	mconf_install(conf)
 *	struct mconf *mconf_acquire()
 *	void	mconf_release(conf)
 *
 *	void	mconf_restart_only(old, new, buf, buflen)
 * DESCRIPTION
 *	mconf_load() reads the settings with the shared loader (common/
 *	config.c: defaults, then the file, then the -o overrides), checks
 *	what the loader cannot (socket syntax, networks, paths, the
 *	authserv-id), and builds what the filter derives from them: the
 *	trusted network list, the policy table and the libspf2 engine.
 *	dns is the DNS layer under the engine: null for the real
 *	resolver, a zone in tests. An empty authserv_id becomes the
 *	host's fully qualified name. The result has one reference.
 *
 *	A configuration is read-only once loaded. mconf_install() makes
 *	conf the one that new connections get and drops the reference to
 *	the one before. mconf_acquire() takes a reference to the current
 *	one for a connection; mconf_release() gives it back, and the last
 *	release frees it. So a reload (SIGHUP) swaps in a new
 *	configuration while connections in flight keep the old one.
 *
 *	mconf_restart_only() lists the settings that differ between old
 *	and new but take effect only at start-up (socket, user, pidfile,
 *	log), or gives an empty string.
 * DIAGNOSTICS
 *	mconf_load() returns a null pointer and puts the reason in err:
 *	"file:line: problem" for what the loader finds, "file: setting:
 *	problem" (or "-o setting: problem") for the later checks.
 */

#include <sys/socket.h>
#include <sys/un.h>
#include <ctype.h>
#include <netdb.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "headers.h"
#include "milterconf.h"

#define OFF(field)	offsetof(struct mconf, field)
#define MCONF_ID_MAX	255		/* longest authserv-id */

static int mconf_check_socket(const char *, char *, size_t);
static int mconf_check_log(const char *, char *, size_t);
static int mconf_check_user(const char *, char *, size_t);
static int mconf_check_path(const char *, char *, size_t);
static int mconf_check_id(const char *, char *, size_t);
static int mconf_check_networks(const char *, char *, size_t);

static const struct cf_entry mconf_table[] = {
    {"socket", CF_STR, "unix:/var/spool/postfix/rrelay-milter/milter.sock", 0, 0, 0, OFF(socket),
    mconf_check_socket},
    {"user", CF_STR, "rrelay", 0, 0, 0, OFF(user), mconf_check_user},
    {"pidfile", CF_STR, "/run/rrelay-milter/rrelay-milter.pid", 0, 0, 0, OFF(pidfile),
    mconf_check_path},
    {"authserv_id", CF_STR, "", 0, 0, 0, OFF(authserv_id), mconf_check_id},
    {"header", CF_ENUM, "both", 0, 0, "received-spf|authentication-results|both",
    OFF(header), 0},
    {"on_fail", CF_ENUM, "reject", 0, 0, "mark|reject", OFF(on_fail), 0},
    {"on_softfail", CF_ENUM, "mark", 0, 0, "mark|reject", OFF(on_softfail), 0},
    {"on_permerror", CF_ENUM, "mark", 0, 0, "mark|reject", OFF(on_permerror), 0},
    {"on_temperror", CF_ENUM, "defer", 0, 0, "mark|defer", OFF(on_temperror), 0},
    {"on_none", CF_ENUM, "mark", 0, 0, "mark|reject", OFF(on_none), 0},
    {"helo_check", CF_BOOL, "yes", 0, 0, 0, OFF(helo_check), 0},
    {"trusted_networks", CF_STR, "127.0.0.0/8, ::1/128", 0, 0, 0,
    OFF(trusted_networks), mconf_check_networks},
    {"skip_authenticated", CF_BOOL, "yes", 0, 0, 0, OFF(skip_authenticated), 0},
    {"dns_timeout", CF_TIME, "20s", 1, 300, 0, OFF(dns_timeout), 0},
    {"log", CF_STR, "syslog", 0, 0, 0, OFF(log), mconf_check_log},
    {0},
};

static pthread_mutex_t mconf_lock = PTHREAD_MUTEX_INITIALIZER;
static struct mconf *mconf_current;

/* mconf_check_port - a decimal port number 1..65535 */

static int mconf_check_port(const char *text, size_t len)
{
    long    port = 0;
    size_t  i;

    if (len == 0 || len > 5)
	return (-1);
    for (i = 0; i < len; i++) {
	if (!isdigit((unsigned char) text[i]))
	    return (-1);
	port = port * 10 + (text[i] - '0');
    }
    return (port >= 1 && port <= 65535 ? 0 : -1);
}

/* mconf_check_socket - unix:/PATH, local:/PATH, inet:PORT[@HOST], inet6:... */

static int mconf_check_socket(const char *spec, char *why, size_t whylen)
{
    struct sockaddr_un sun;
    const char *arg;
    const char *at;

    if (whylen > 0)
	why[0] = 0;				/* written on every path */

    if ((arg = strchr(spec, ':')) == 0) {
	snprintf(why, whylen, "\"%s\" is not unix:PATH, inet:PORT@HOST or "
		 "inet6:PORT@HOST", spec);
	return (-1);
    }
    arg++;
    if (strncmp(spec, "unix:", 5) == 0 || strncmp(spec, "local:", 6) == 0) {
	if (*arg != '/' || strlen(arg) >= sizeof(sun.sun_path)) {
	    snprintf(why, whylen, "\"%s\": the socket path must be absolute "
		     "and shorter than %zu bytes", spec, sizeof(sun.sun_path));
	    return (-1);
	}
	return (0);
    }
    if (strncmp(spec, "inet:", 5) != 0 && strncmp(spec, "inet6:", 6) != 0) {
	snprintf(why, whylen, "\"%s\": unknown socket type (want unix, inet "
		 "or inet6)", spec);
	return (-1);
    }
    at = strchr(arg, '@');
    if (mconf_check_port(arg, at ? (size_t) (at - arg) : strlen(arg)) < 0
	|| (at && at[1] == 0)) {
	snprintf(why, whylen, "\"%s\": want PORT@HOST with a port from 1 to "
		 "65535", spec);
	return (-1);
    }
    return (0);
}

/* mconf_check_user - a user name must be given */

static int mconf_check_user(const char *user, char *why, size_t whylen)
{
    if (whylen > 0)
	why[0] = 0;				/* written on every path */

    if (*user)
	return (0);
    snprintf(why, whylen, "the user name is empty");
    return (-1);
}

/* mconf_check_path - an absolute path */

static int mconf_check_path(const char *path, char *why, size_t whylen)
{
    if (whylen > 0)
	why[0] = 0;				/* written on every path */

    if (path[0] == '/')
	return (0);
    snprintf(why, whylen, "\"%s\" is not an absolute path", path);
    return (-1);
}

/* mconf_check_id - an authserv-id, when one is given (empty: the FQDN) */

static int mconf_check_id(const char *id, char *why, size_t whylen)
{
    if (whylen > 0)
	why[0] = 0;				/* written on every path */

    if (*id == 0 || (hdr_token_ok(id) && strlen(id) <= MCONF_ID_MAX))
	return (0);
    snprintf(why, whylen, "\"%.64s\" is not a valid authserv-id (a name of "
	     "letters, digits, '.', '-' and '_', at most %d bytes)", id,
	     MCONF_ID_MAX);
    return (-1);
}

/* mconf_check_networks - a list that the CIDR matcher accepts */

static int mconf_check_networks(const char *text, char *why, size_t whylen)
{
    struct cidr_list list;
    int     status;

    if (whylen > 0)
	why[0] = 0;				/* written on every path */

    memset(&list, 0, sizeof(list));
    status = cidr_list_parse(text, &list, why, whylen);
    cidr_list_free(&list);
    return (status);
}

/* mconf_fqdn - the host's fully qualified name, or its plain name */

static int mconf_fqdn(char *buf, size_t buflen)
{
    struct addrinfo hints;
    struct addrinfo *res = 0;
    char    host[256];

    if (gethostname(host, sizeof(host)) < 0)
	return (-1);
    host[sizeof(host) - 1] = 0;
    memset(&hints, 0, sizeof(hints));
    hints.ai_flags = AI_CANONNAME;
    hints.ai_family = AF_UNSPEC;
    if (strchr(host, '.') == 0 && getaddrinfo(host, 0, &hints, &res) == 0
	&& res->ai_canonname && strchr(res->ai_canonname, '.'))
	snprintf(buf, buflen, "%s", res->ai_canonname);
    else
	snprintf(buf, buflen, "%s", host);
    if (res)
	freeaddrinfo(res);
    return (0);
}

/* mconf_authserv_id - default the authserv-id and check it */

static int mconf_authserv_id(struct mconf *c, char *why, size_t whylen)
{
    char    fqdn[256];
    char   *copy;

    if (whylen > 0)
	why[0] = 0;				/* written on every path */

    if (*c->authserv_id == 0) {
	if (mconf_fqdn(fqdn, sizeof(fqdn)) < 0 || (copy = strdup(fqdn)) == 0) {
	    snprintf(why, whylen, "cannot find the host name; set it");
	    return (-1);
	}
	free(c->authserv_id);
	c->authserv_id = copy;
    }
    if (!hdr_token_ok(c->authserv_id) || strlen(c->authserv_id) > MCONF_ID_MAX) {
	snprintf(why, whylen, "\"%.64s\" is not a valid authserv-id (a name "
		 "of letters, digits, '.', '-' and '_', at most %d bytes)",
		 c->authserv_id, MCONF_ID_MAX);
	return (-1);
    }
    return (0);
}

/* mconf_check_log - syslog, stderr, postfix or an absolute path */

static int mconf_check_log(const char *log, char *why, size_t whylen)
{
    return (log_check_target(log, why, whylen));
}

/* mconf_policy - the action table from the on_* settings */

static void mconf_policy(struct mconf *c)
{
    policy_init(&c->policy);
    c->policy.on[SPFR_FAIL] = c->on_fail ? ACT_REJECT : ACT_MARK;
    c->policy.on[SPFR_SOFTFAIL] = c->on_softfail ? ACT_REJECT : ACT_MARK;
    c->policy.on[SPFR_PERMERROR] = c->on_permerror ? ACT_REJECT : ACT_MARK;
    c->policy.on[SPFR_TEMPERROR] = c->on_temperror ? ACT_DEFER : ACT_MARK;
    c->policy.on[SPFR_NONE] = c->on_none ? ACT_REJECT : ACT_MARK;
}

/* mconf_check - what needs the whole configuration; name the bad setting */

static int mconf_check(struct mconf *c, const char **bad, char *why,
		               size_t whylen)
{
    if (whylen > 0)
	why[0] = 0;				/* written on every path */

    *bad = "authserv_id";
    if (mconf_authserv_id(c, why, whylen) < 0)
	return (-1);
    *bad = "trusted_networks";
    if (cidr_list_parse(c->trusted_networks, &c->trusted, why, whylen) < 0)
	return (-1);
    mconf_policy(c);
    return (0);
}

/* mconf_free - release everything a configuration holds */

static void mconf_free(struct mconf *c)
{
    cidr_list_free(&c->trusted);
    spf_engine_free(&c->engine);
    cf_free(mconf_table, c);
    free(c);
}

/* mconf_load - read, check and build one configuration */

struct mconf *mconf_load(const char *path, int required,
			         char *const *overrides, int n_overrides,
			         SPF_dns_server_t *dns, char *err, size_t errlen)
{
    struct mconf *c;
    const char *bad = 0;
    char    why[CF_ERR_MAX];
    char    where[CF_ERR_MAX];

    if (errlen > 0)
	err[0] = 0;				/* written on every path */

    if ((c = calloc(1, sizeof(*c))) == 0) {
	snprintf(err, errlen, "out of memory");
	return (0);
    }
    if (cf_load(mconf_table, c, path, required, overrides, n_overrides,
		err, errlen) < 0)
	goto fail;
    if (mconf_check(c, &bad, why, sizeof(why)) < 0) {
	(void) cf_origin(bad, path, overrides, n_overrides, where,
			 sizeof(where));
	snprintf(err, errlen, "%s: %s: %s", where, bad, why);
	goto fail;
    }
    if (spf_engine_init(&c->engine, c->authserv_id, dns, err, errlen) < 0)
	goto fail;
    c->refs = 1;
    return (c);
fail:
    mconf_free(c);
    return (0);
}

/* mconf_install - make conf the configuration for new connections */

void    mconf_install(struct mconf *conf)
{
    struct mconf *old;

    pthread_mutex_lock(&mconf_lock);
    old = mconf_current;
    mconf_current = conf;
    pthread_mutex_unlock(&mconf_lock);
    if (old)
	mconf_release(old);
}

/* mconf_acquire - a reference to the current configuration */

struct mconf *mconf_acquire(void)
{
    struct mconf *c;

    pthread_mutex_lock(&mconf_lock);
    if ((c = mconf_current) != 0)
	c->refs++;
    pthread_mutex_unlock(&mconf_lock);
    return (c);
}

/* mconf_release - drop a reference; the last one frees */

void    mconf_release(struct mconf *conf)
{
    int     last;

    pthread_mutex_lock(&mconf_lock);
    last = (--conf->refs == 0);
    pthread_mutex_unlock(&mconf_lock);
    if (last)
	mconf_free(conf);
}

/* mconf_restart_only - changed settings that need a restart */

void    mconf_restart_only(const struct mconf *old, const struct mconf *new,
			           char *buf, size_t buflen)
{
    buf[0] = 0;
    snprintf(buf, buflen, "%s%s%s%s",
	     strcmp(old->socket, new->socket) ? " socket" : "",
	     strcmp(old->user, new->user) ? " user" : "",
	     strcmp(old->pidfile, new->pidfile) ? " pidfile" : "",
	     strcmp(old->log, new->log) ? " log" : "");
}
