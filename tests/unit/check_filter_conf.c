/* SPDX-License-Identifier: MIT */
/*
 * check_filter_conf - unit tests of filter/milterconf.c
 *
 * Defaults, file and -o values, every kind of configuration error with
 * its file:line or -o prefix, and the refcounted swap that SIGHUP uses.
 */

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "milterconf.h"

static char path[64];
static SPF_dns_server_t *zone;

/* setup - a scratch file name and a DNS zone for the engines */

static void setup(void)
{
    int     fd;

    snprintf(path, sizeof(path), "/tmp/check_filter_conf.XXXXXX");
    fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    zone = SPF_dns_zone_new(0, "test", 0);
    ck_assert_ptr_nonnull(zone);
}

/* teardown - remove the file and the zone */

static void teardown(void)
{
    unlink(path);
    SPF_dns_free(zone);
}

/* write_conf - replace the scratch file's content */

static void write_conf(const char *text)
{
    FILE   *fp = fopen(path, "w");

    ck_assert_ptr_nonnull(fp);
    fputs(text, fp);
    fclose(fp);
}

/* load - load the scratch file with overrides */

static struct mconf *load(char *const *over, int n, char *err, size_t len)
{
    err[0] = 0;
    return (mconf_load(path, 1, over, n, zone, err, len));
}

START_TEST(test_defaults)
{
    struct mconf *c;
    char    err[512];

    c = mconf_load("/nonexistent/rrelay-milter.conf", 0, 0, 0, zone, err,
		   sizeof(err));
    ck_assert_msg(c != 0, "%s", err);
    ck_assert_str_eq(c->socket, "unix:/var/spool/postfix/rrelay-milter/milter.sock");
    ck_assert_str_eq(c->user, "rrelay");
    ck_assert_str_eq(c->pidfile, "/run/rrelay-milter/rrelay-milter.pid");
    ck_assert_str_eq(c->log, "syslog");
    ck_assert_int_ne(strlen(c->authserv_id), 0);	/* the host name */
    ck_assert_int_eq(c->header, MCONF_HDR_BOTH);
    ck_assert_int_eq(c->helo_check, 1);
    ck_assert_int_eq(c->skip_authenticated, 1);
    ck_assert_int_eq(c->dns_timeout, 20);
    ck_assert_int_eq(c->trusted.count, 2);
    ck_assert_int_eq(cidr_list_match(&c->trusted, "127.0.0.1"), 1);
    ck_assert_int_eq(cidr_list_match(&c->trusted, "::1"), 1);
    ck_assert_int_eq(cidr_list_match(&c->trusted, "192.0.2.1"), 0);
    ck_assert_int_eq(policy_decide(&c->policy, SPFR_FAIL), ACT_REJECT);
    ck_assert_int_eq(policy_decide(&c->policy, SPFR_SOFTFAIL), ACT_MARK);
    ck_assert_int_eq(policy_decide(&c->policy, SPFR_PERMERROR), ACT_MARK);
    ck_assert_int_eq(policy_decide(&c->policy, SPFR_TEMPERROR), ACT_DEFER);
    ck_assert_int_eq(policy_decide(&c->policy, SPFR_NONE), ACT_MARK);
    ck_assert_ptr_nonnull(c->engine.resolver);
    mconf_release(c);
    /* a missing file given with -c is an error */
    ck_assert_ptr_null(mconf_load("/nonexistent/x.conf", 1, 0, 0, zone, err,
				  sizeof(err)));
    ck_assert_str_eq(err, "/nonexistent/x.conf: No such file or directory");
}
END_TEST

START_TEST(test_values)
{
    char   *over[] = {"on_none=reject", " header = received-spf"};
    struct mconf *c;
    char    err[512];

    write_conf("# comment\n"
	       "socket = inet:8891@127.0.0.1\n"
	       "authserv_id = MX.Example.ORG\n"
	       "on_fail = mark\non_softfail = reject\non_permerror = reject\n"
	       "on_temperror = mark\non_none = mark\n"
	       "trusted_networks = 192.0.2.0/24,\n"
	       "    2001:db8::/32\n"
	       "helo_check = no\nskip_authenticated = off\n"
	       "dns_timeout = 1m\nlog = /var/log/x.log\n");
    c = load(over, 2, err, sizeof(err));
    ck_assert_msg(c != 0, "%s", err);
    ck_assert_str_eq(c->socket, "inet:8891@127.0.0.1");
    ck_assert_str_eq(c->authserv_id, "MX.Example.ORG");
    ck_assert_int_eq(c->header, MCONF_HDR_RECEIVED_SPF);
    ck_assert_int_eq(c->trusted.count, 2);
    ck_assert_int_eq(cidr_list_match(&c->trusted, "2001:db8::9"), 1);
    ck_assert_int_eq(c->helo_check, 0);
    ck_assert_int_eq(c->skip_authenticated, 0);
    ck_assert_int_eq(c->dns_timeout, 60);
    ck_assert_int_eq(policy_decide(&c->policy, SPFR_FAIL), ACT_MARK);
    ck_assert_int_eq(policy_decide(&c->policy, SPFR_SOFTFAIL), ACT_REJECT);
    ck_assert_int_eq(policy_decide(&c->policy, SPFR_PERMERROR), ACT_REJECT);
    ck_assert_int_eq(policy_decide(&c->policy, SPFR_TEMPERROR), ACT_MARK);
    ck_assert_int_eq(policy_decide(&c->policy, SPFR_NONE), ACT_REJECT);
    mconf_release(c);
}
END_TEST

struct error_case {
    const char *file;			/* file content */
    const char *override;		/* or null */
    const char *error;			/* after "PATH" (or as is for -o) */
};

static const struct error_case error_cases[] = {
    {"on_fail = maybe\n", 0,
    ":1: bad value \"maybe\" for on_fail (want one of: mark|reject)"},
    {"\n\non_temperror = reject\n", 0,
    ":3: bad value \"reject\" for on_temperror (want one of: mark|defer)"},
    {"header = all\n", 0, ":1: bad value \"all\" for header (want one of: "
    "received-spf|authentication-results|both)"},
    {"dns_timeout = 0\n", 0,
    ":1: value \"0\" for dns_timeout is out of range (1..300 seconds)"},
    {"dns_timeout = 6m\n", 0,
    ":1: value \"6m\" for dns_timeout is out of range (1..300 seconds)"},
    {"dns_timeout = soon\n", 0, ":1: bad time value \"soon\" for dns_timeout "
    "(want a number with an optional s, m, h, d or w unit)"},
    {"helo_check = perhaps\n", 0,
    ":1: bad value \"perhaps\" for helo_check (want yes or no)"},
    {"bogus = 1\n", 0, ":1: unknown setting \"bogus\""},
    {"socket\n", 0, ":1: missing '=' after \"socket\""},
    {"trusted_networks = 192.0.2.1/24\n", 0, ":1: trusted_networks: "
    "\"192.0.2.1/24\" has host bits set after the /24 prefix"},
    {"trusted_networks = localhost\n", 0, ":1: trusted_networks: "
    "\"localhost\" is not an IPv4 or IPv6 network"},
    {"socket = tcp:25\n", 0, ":1: socket: \"tcp:25\": unknown socket type "
    "(want unix, inet or inet6)"},
    {"socket = milter.sock\n", 0, ":1: socket: \"milter.sock\" is not "
    "unix:PATH, inet:PORT@HOST or inet6:PORT@HOST"},
    {"socket = unix:run/milter.sock\n", 0, ":1: socket: \"unix:run/milter.sock\": "
    "the socket path must be absolute and shorter than 108 bytes"},
    {"socket = inet:99999@localhost\n", 0, ":1: socket: \"inet:99999@localhost\": "
    "want PORT@HOST with a port from 1 to 65535"},
    {"socket = inet6:25@\n", 0, ":1: socket: \"inet6:25@\": want PORT@HOST "
    "with a port from 1 to 65535"},
    {"authserv_id = mx example\n", 0, ":1: authserv_id: \"mx example\" is not "
    "a valid authserv-id (a name of letters, digits, '.', '-' and '_', at "
    "most 255 bytes)"},
    {"authserv_id = mx;spf=pass\n", 0, ":1: authserv_id: \"mx;spf=pass\" is not "
    "a valid authserv-id (a name of letters, digits, '.', '-' and '_', at "
    "most 255 bytes)"},
    {"log = milter.log\n", 0, ":1: log: \"milter.log\" is not syslog, stderr, postfix "
    "or an absolute path"},
    {"pidfile = run/x.pid\n", 0, ":1: pidfile: \"run/x.pid\" is not an "
    "absolute path"},
    {"user =\n", 0, ":1: user: the user name is empty"},
    {"", "on_none=sometimes", "-o on_none=sometimes: bad value \"sometimes\" "
    "for on_none (want one of: mark|reject)"},
    {"trusted_networks = 192.0.2.0/24\n", "trusted_networks = 10.0.0.1/8",
    "-o trusted_networks = 10.0.0.1/8: trusted_networks: \"10.0.0.1/8\" has "
    "host bits set after the /8 prefix"},
    {"", "nonsense", "-o nonsense: missing '=' after \"nonsense\""},
};

START_TEST(test_errors)
{
    const struct error_case *c = error_cases + _i;
    char   *over[1];
    char    err[512];
    char    want[512];

    write_conf(c->file);
    over[0] = (char *) c->override;
    ck_assert_ptr_null(load(over, c->override ? 1 : 0, err, sizeof(err)));
    if (strncmp(c->error, "-o", 2) == 0)
	snprintf(want, sizeof(want), "%s", c->error);
    else
	snprintf(want, sizeof(want), "%s%s", path, c->error);
    ck_assert_str_eq(err, want);
}
END_TEST

START_TEST(test_swap)
{
    struct mconf *a;
    struct mconf *b;
    struct mconf *held;
    char    err[512];
    char    changed[128];

    write_conf("authserv_id = first.example\n");
    ck_assert_ptr_nonnull(a = load(0, 0, err, sizeof(err)));
    write_conf("authserv_id = second.example\nsocket = inet:1@x\n"
	       "log = stderr\n");
    ck_assert_ptr_nonnull(b = load(0, 0, err, sizeof(err)));
    mconf_restart_only(a, b, changed, sizeof(changed));
    ck_assert_str_eq(changed, " socket log");
    mconf_restart_only(a, a, changed, sizeof(changed));
    ck_assert_str_eq(changed, "");
    ck_assert_ptr_null(mconf_acquire());
    mconf_install(a);
    held = mconf_acquire();			/* a connection in flight */
    ck_assert_ptr_eq(held, a);
    mconf_install(b);				/* SIGHUP */
    ck_assert_str_eq(held->authserv_id, "first.example");	/* still valid */
    ck_assert_ptr_nonnull(held->engine.resolver);
    ck_assert_ptr_eq(held = mconf_acquire(), b);	/* new connections */
    mconf_release(held);
    mconf_release(a);				/* last reference: freed */
    mconf_install(0);				/* frees b */
    ck_assert_ptr_null(mconf_acquire());
}
END_TEST

/* conf_suite - the test cases */

static Suite *conf_suite(void)
{
    Suite  *s = suite_create("filter_conf");
    TCase  *tc = tcase_create("conf");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_defaults);
    tcase_add_test(tc, test_values);
    tcase_add_loop_test(tc, test_errors, 0,
		        sizeof(error_cases) / sizeof(error_cases[0]));
    tcase_add_test(tc, test_swap);
    suite_add_tcase(s, tc);
    return (s);
}

int     main(void)
{
    SRunner *sr = srunner_create(conf_suite());
    int     failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return (failed ? EXIT_FAILURE : EXIT_SUCCESS);
}
