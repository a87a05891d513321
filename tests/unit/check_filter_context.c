/* SPDX-License-Identifier: MIT */
/*
 * check_filter_context - unit tests of filter/context.c
 *
 * The MAIL FROM argument parser, client addresses, bounded copies of
 * client text, the forged Authentication-Results bookkeeping (with its
 * cap), and the configuration reference a connection holds.
 */

#include <sys/socket.h>
#include <sys/un.h>
#include <arpa/inet.h>
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "context.h"

#define ID	"mx.receiver.test"

struct from_case {
    const char *arg;
    const char *from;
};

static const struct from_case from_cases[] = {
    {"<joe@x.org>", "joe@x.org"},
    {"<>", ""},
    {0, ""},
    {"", ""},
    {"  <joe@x.org>", "joe@x.org"},
    {"joe@x.org", "joe@x.org"},
    {"<joe@x.org", "joe@x.org"},
    {"<@relay.one,@relay.two:joe@x.org>", "joe@x.org"},
    {"<\"john doe\"@x.org>", "\"john doe\"@x.org"},
    {"<\"a>b\"@x.org>", "\"a>b\"@x.org"},
    {"<postmaster>", "postmaster"},
};

START_TEST(test_from)
{
    const struct from_case *c = from_cases + _i;
    struct msg_ctx mc;

    memset(&mc, 0, sizeof(mc));
    mc_set_from(&mc, c->arg);
    ck_assert_str_eq(mc.mc_from, c->from);
}
END_TEST

START_TEST(test_from_bounded)
{
    struct msg_ctx mc;
    char    big[10000];

    memset(big, 'a', sizeof(big) - 1);
    big[0] = '<';
    big[sizeof(big) - 1] = 0;
    memset(&mc, 0, sizeof(mc));
    mc_set_from(&mc, big);
    /* longer than any address checked, so the check sees it is too long */
    ck_assert_uint_eq(strlen(mc.mc_from), SPF_ADDR_MAX);
}
END_TEST

START_TEST(test_headers)
{
    struct msg_ctx mc;
    int     i;

    memset(&mc, 0, sizeof(mc));
    ck_assert_int_eq(mc_note_header(&mc, "Subject", ID "; spf=pass", ID), 0);
    ck_assert_int_eq(mc_note_header(&mc, "Authentication-Results",
				    "other.test; spf=pass", ID), 0);
    ck_assert_int_eq(mc_note_header(&mc, "authentication-results",
				    " " ID "; spf=pass", ID), 0);
    ck_assert_int_eq(mc_note_header(&mc, "X-Authentication-Results",
				    ID "; spf=pass", ID), 0);
    ck_assert_int_eq(mc_note_header(&mc, "AUTHENTICATION-RESULTS",
				    "(x) \"" ID "\"; dkim=pass", ID), 0);
    ck_assert_int_eq(mc_note_header(&mc, "Authentication-Results", 0, ID), 0);
    ck_assert_int_eq(mc_note_header(&mc, 0, ID, ID), 0);
    ck_assert_uint_eq(mc.mc_ar_count, 4);
    ck_assert_uint_eq(mc.mc_nforged, 2);
    ck_assert_uint_eq(mc.mc_forged[0], 2);	/* 1-based among A-R fields */
    ck_assert_uint_eq(mc.mc_forged[1], 3);
    for (i = 0; i < 5000; i++)
	ck_assert_int_eq(mc_note_header(&mc, "Authentication-Results",
					ID "; spf=pass", ID), 0);
    ck_assert_uint_eq(mc.mc_nforged, MC_FORGED_MAX);
    ck_assert_uint_le(mc.mc_forged_cap, MC_FORGED_MAX);
    ck_assert_int_eq(mc.mc_too_many, 1);
    ck_assert_uint_eq(mc.mc_ar_count, 5004);
    mc_reset(&mc);
    ck_assert_ptr_null(mc.mc_forged);
    ck_assert_uint_eq(mc.mc_ar_count, 0);
    ck_assert_int_eq(mc.mc_too_many, 0);
}
END_TEST

/* client - cc_set_client on a fresh context, return the context */

static void client(struct conn_ctx *cc, const struct sockaddr *sa,
		           const char *host)
{
    memset(cc, 0, sizeof(*cc));
    cc_set_client(cc, sa, host);
}

START_TEST(test_client)
{
    struct conn_ctx cc;
    struct sockaddr_in sin;
    struct sockaddr_in6 sin6;
    struct sockaddr_un sun;
    char    host[1000];

    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    inet_pton(AF_INET, "192.0.2.1", &sin.sin_addr);
    client(&cc, (struct sockaddr *) &sin, "mx.client.test");
    ck_assert_str_eq(cc.cc_ip, "192.0.2.1");
    ck_assert_str_eq(cc.cc_host, "mx.client.test");
    memset(&sin6, 0, sizeof(sin6));
    sin6.sin6_family = AF_INET6;
    inet_pton(AF_INET6, "2001:db8::25", &sin6.sin6_addr);
    client(&cc, (struct sockaddr *) &sin6, "[2001:db8::25]");
    ck_assert_str_eq(cc.cc_ip, "2001:db8::25");
    ck_assert_str_eq(cc.cc_host, "unknown");	/* Postfix's "[addr]" */
    inet_pton(AF_INET6, "::ffff:192.0.2.7", &sin6.sin6_addr);
    client(&cc, (struct sockaddr *) &sin6, 0);
    ck_assert_str_eq(cc.cc_ip, "192.0.2.7");
    ck_assert_str_eq(cc.cc_host, "unknown");
    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    client(&cc, (struct sockaddr *) &sun, "localhost");
    ck_assert_str_eq(cc.cc_ip, "");
    client(&cc, 0, "");
    ck_assert_str_eq(cc.cc_ip, "");
    ck_assert_str_eq(cc.cc_host, "unknown");
    memset(host, 'h', sizeof(host) - 1);
    host[sizeof(host) - 1] = 0;
    client(&cc, (struct sockaddr *) &sin, host);
    ck_assert_uint_eq(strlen(cc.cc_host), CC_HOST_MAX);
}
END_TEST

START_TEST(test_helo_bounded)
{
    struct conn_ctx cc;
    char    big[5000];

    memset(&cc, 0, sizeof(cc));
    cc_set_helo(&cc, "mx.client.test");
    ck_assert_str_eq(cc.cc_helo, "mx.client.test");
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = 0;
    cc_set_helo(&cc, big);
    ck_assert_uint_eq(strlen(cc.cc_helo), CC_HELO_MAX);
    cc_set_helo(&cc, 0);
    ck_assert_str_eq(cc.cc_helo, "");
}
END_TEST

START_TEST(test_conf_reference)
{
    SPF_dns_server_t *zone = SPF_dns_zone_new(0, "test", 0);
    struct mconf *conf;
    struct conn_ctx *cc;
    char    err[512];
    int     before = cc_live();

    conf = mconf_load("/nonexistent.conf", 0, 0, 0, zone, err, sizeof(err));
    ck_assert_ptr_nonnull(conf);
    mconf_install(conf);
    cc = cc_new(mconf_acquire());
    ck_assert_ptr_nonnull(cc);
    ck_assert_int_eq(cc_live(), before + 1);
    mconf_install(0);				/* as at a reload: drop ours */
    ck_assert_ptr_eq(cc->cc_conf, conf);	/* the connection keeps it */
    ck_assert_int_eq(conf->refs, 1);
    ck_assert_int_eq(mc_note_header(&cc->cc_msg, "Authentication-Results",
				    conf->authserv_id, conf->authserv_id), 0);
    cc_free(cc);				/* frees conf and the message */
    ck_assert_int_eq(cc_live(), before);
    cc_free(0);
    SPF_dns_free(zone);
}
END_TEST

/* context_suite - the test cases */

static Suite *context_suite(void)
{
    Suite  *s = suite_create("filter_context");
    TCase  *tc = tcase_create("context");

    tcase_add_loop_test(tc, test_from, 0,
		        sizeof(from_cases) / sizeof(from_cases[0]));
    tcase_add_test(tc, test_from_bounded);
    tcase_add_test(tc, test_headers);
    tcase_add_test(tc, test_client);
    tcase_add_test(tc, test_helo_bounded);
    tcase_add_test(tc, test_conf_reference);
    suite_add_tcase(s, tc);
    return (s);
}

int     main(void)
{
    SRunner *sr = srunner_create(context_suite());
    int     failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return (failed ? EXIT_FAILURE : EXIT_SUCCESS);
}
