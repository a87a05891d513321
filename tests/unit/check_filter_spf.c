/* SPDX-License-Identifier: MIT */
/*
 * check_filter_spf - unit tests of filter/spf_check.c and filter/spf_budget.c
 *
 * Every SPF result, the null-sender/HELO identity, the
 * void-lookup and DNS-term limits, the deadline and explanations, against
 * libspf2's in-memory zone DNS: no network.
 */

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spf_check.h"

#define IP	"192.0.2.9"		/* the client, unless a test says */

static SPF_dns_server_t *zone;
static struct spf_engine engine;

/* add - one zone entry, failing the test if libspf2 refuses it */

static void add(const char *name, ns_type type, int herrno, const char *data)
{
    ck_assert_int_eq(SPF_dns_zone_add_str(zone, name, type, herrno, data), 0);
}

/* txt - one TXT record */

static void txt(const char *name, const char *data)
{
    add(name, ns_t_txt, NETDB_SUCCESS, data);
}

/* setup - a zone with one domain per case, and an engine on it */

static void setup(void)
{
    char    err[256];
    char    name[64];
    char    rec[600];
    char    rec10[600];
    int     i;

    zone = SPF_dns_zone_new(0, "test", 0);
    ck_assert_ptr_nonnull(zone);
    txt("pass.test", "v=spf1 ip4:192.0.2.9 -all");
    txt("fail.test", "v=spf1 ip4:192.0.2.1 -all");
    txt("softfail.test", "v=spf1 ~all");
    txt("neutral.test", "v=spf1 ?all");
    txt("bare.test", "v=spf1");
    txt("upper.test", "V=SPF1 +all");
    txt("spf10.test", "v=spf10 +all");
    txt("other.test", "google-site-verification=abc");
    txt("syntax.test", "v=spf1 ip4:300.1.1.1 -all");
    txt("two.test", "v=spf1 -all");
    txt("two.test", "v=spf1 +all");
    add("temp.test", ns_t_any, TRY_AGAIN, 0);
    txt("inctemp.test", "v=spf1 include:temp.test -all");
    txt("incnone.test", "v=spf1 include:nx.test -all");
    txt("incpass.test", "v=spf1 include:pass.test -all");
    txt("v6.test", "v=spf1 ip6:2001:db8::/32 -all");
    txt("loop.test", "v=spf1 -all");
    txt("exp.test", "v=spf1 -all exp=why.exp.test");
    txt("why.exp.test", "%{s} may not send from %{i}: see https://x.test/%{d}");
    txt("exp8.test", "v=spf1 -all exp=why.exp8.test");
    txt("why.exp8.test", "caf\303\251 %{s}");
    txt("helo.test", "v=spf1 a -all");
    txt("hmacro.test", "v=spf1 a:%{h}.hm.test -all");
    add("ok.hm.test", ns_t_a, NETDB_SUCCESS, "192.0.2.9");
    add("bs\\.hm.test", ns_t_a, NETDB_SUCCESS, "192.0.2.9");	/* never asked */
    add("helo.test", ns_t_a, NETDB_SUCCESS, "192.0.2.9");
    txt("helofail.test", "v=spf1 -all");
    txt("void2.test", "v=spf1 a:nx1.test a:nx2.test -all");
    txt("void3.test", "v=spf1 a:nx1.test a:nx2.test a:nx3.test -all");
    txt("voidmx.test", "v=spf1 mx:nomx1.test mx:nomx2.test mx:nomx3.test -all");
    add("nomx1.test", ns_t_mx, NO_DATA, 0);
    add("nomx2.test", ns_t_mx, NO_DATA, 0);
    add("nomx3.test", ns_t_mx, NO_DATA, 0);
    /* ten a: terms that resolve (not void), and eleven */
    strcpy(rec, "v=spf1");
    for (i = 1; i <= 11; i++) {
	snprintf(name, sizeof(name), "h%d.test", i);
	add(name, ns_t_a, NETDB_SUCCESS, "192.0.2.200");
	snprintf(rec + strlen(rec), sizeof(rec) - strlen(rec), " a:%s", name);
	if (i == 10) {
	    snprintf(rec10, sizeof(rec10), "%s -all", rec);
	    txt("terms10.test", rec10);
	}
    }
    strcat(rec, " -all");
    txt("terms11.test", rec);
    /* a chain of includes, one per record: libspf2 alone never counts it */
    for (i = 1; i <= 12; i++) {
	snprintf(name, sizeof(name), "chain%d.test", i);
	snprintf(rec, sizeof(rec), i < 12 ? "v=spf1 include:chain%d.test -all"
		 : "v=spf1 ip4:192.0.2.9 -all", i + 1);
	txt(name, rec);
    }
    /* an include loop */
    txt("loopa.test", "v=spf1 include:loopb.test -all");
    txt("loopb.test", "v=spf1 include:loopa.test -all");
    /* mx terms with four or five hosts each: host lookups are no terms */
    for (i = 1; i <= 5; i++) {
	snprintf(rec, sizeof(rec), "%d mx%d.test", i * 10, i);
	add("mx.test", ns_t_mx, NETDB_SUCCESS, rec);
	if (i < 5)
	    add("nope.test", ns_t_mx, NETDB_SUCCESS, rec);
	snprintf(name, sizeof(name), "mx%d.test", i);
	add(name, ns_t_a, NETDB_SUCCESS, i == 5 ? "192.0.2.9" : "192.0.2.100");
    }
    strcpy(rec, "v=spf1");
    for (i = 1; i <= 10; i++) {
	strcat(rec, " mx:nope.test");
	if (i == 9) {
	    snprintf(rec10, sizeof(rec10), "%s mx:mx.test -all", rec);
	    txt("mx10.test", rec10);
	}
    }
    strcat(rec, " mx:mx.test -all");
    txt("mx11.test", rec);
    txt("redir.test", "v=spf1 redirect=pass.test");
    txt("exists.test", "v=spf1 exists:%{i}.ok.test -all");
    add("192.0.2.9.ok.test", ns_t_a, NETDB_SUCCESS, "127.0.0.2");
    ck_assert_int_eq(spf_engine_init(&engine, "mx.receiver.test", zone,
				     err, sizeof(err)), 0);
}

/* teardown - free the engine and the zone */

static void teardown(void)
{
    spf_engine_free(&engine);
    SPF_dns_free(zone);
}

/* check_from - the MAIL FROM verdict for from, with a 20s deadline */

static struct spf_verdict check_from(const char *ip, const char *helo,
				             const char *from)
{
    struct spf_verdict v;
    struct timespec deadline;

    budget_deadline(&deadline, 20);
    spf_check_identity(&engine, ip, helo, from, &deadline, &v);
    return (v);
}

/* check_msg - the message verdict */

static struct spf_verdict check_msg(const char *helo, const char *from,
				            int helo_check)
{
    struct spf_verdict v;
    struct spf_env env = {IP, helo, from, helo_check, 20};

    spf_check_message(&engine, &env, &v);
    return (v);
}

struct result_case {
    const char *from;
    enum spf_res result;
};

static const struct result_case result_cases[] = {
    {"joe@pass.test", SPFR_PASS},
    {"joe@fail.test", SPFR_FAIL},
    {"joe@softfail.test", SPFR_SOFTFAIL},
    {"joe@neutral.test", SPFR_NEUTRAL},
    {"joe@bare.test", SPFR_NEUTRAL},	/* "v=spf1" alone is a record */
    {"joe@upper.test", SPFR_PASS},	/* the version is case-insensitive */
    {"joe@spf10.test", SPFR_NONE},	/* "v=spf10" is not a record */
    {"joe@nx.test", SPFR_NONE},		/* NXDOMAIN */
    {"joe@other.test", SPFR_NONE},	/* TXT, but no SPF record */
    {"joe@two.test", SPFR_PERMERROR},	/* two SPF records */
    {"joe@syntax.test", SPFR_PERMERROR},	/* INVALID, not a DNS error */
    {"joe@temp.test", SPFR_TEMPERROR},	/* INVALID with SPF_E_DNS_ERROR */
    {"joe@inctemp.test", SPFR_TEMPERROR},
    {"joe@incnone.test", SPFR_PERMERROR},	/* include of no record */
    {"joe@incpass.test", SPFR_PASS},
    {"joe@redir.test", SPFR_PASS},
    {"joe@exists.test", SPFR_PASS},
    {"pass.test", SPFR_PASS},		/* no local part: postmaster */
    {"@pass.test", SPFR_PASS},
    {"joe@PASS.TEST.", SPFR_PASS},	/* case and a final dot */
};

START_TEST(test_results)
{
    const struct result_case *c = result_cases + _i;
    struct spf_verdict v = check_from(IP, "mx.client.test", c->from);

    ck_assert_msg(v.result == c->result, "%s: expected %s, got %s (%s)",
		  c->from, spf_res_name(c->result), spf_res_name(v.result),
		  v.reason);
    ck_assert_int_eq(v.identity, SPFI_MAILFROM);
}
END_TEST

START_TEST(test_null_sender_checks_helo)
{
    struct spf_verdict v;

    v = check_msg("helo.test", "", 1);
    ck_assert_str_eq(spf_res_name(v.result), "pass");
    ck_assert_int_eq(v.identity, SPFI_HELO);
    v = check_msg("helo.test", 0, 0);	/* even without helo_check */
    ck_assert_str_eq(spf_res_name(v.result), "pass");
    ck_assert_int_eq(v.identity, SPFI_HELO);
    v = check_msg("helofail.test", "", 0);
    ck_assert_str_eq(spf_res_name(v.result), "fail");
    ck_assert_int_eq(v.identity, SPFI_HELO);
    v = check_msg(0, "", 1);		/* no HELO at all */
    ck_assert_str_eq(spf_res_name(v.result), "none");
    ck_assert_int_eq(v.identity, SPFI_HELO);
}
END_TEST

START_TEST(test_helo_check)
{
    struct spf_verdict v;

    /* A HELO fail decides, whatever MAIL FROM says. */
    v = check_msg("helofail.test", "joe@pass.test", 1);
    ck_assert_str_eq(spf_res_name(v.result), "fail");
    ck_assert_int_eq(v.identity, SPFI_HELO);
    /* Without helo_check, MAIL FROM alone. */
    v = check_msg("helofail.test", "joe@pass.test", 0);
    ck_assert_str_eq(spf_res_name(v.result), "pass");
    ck_assert_int_eq(v.identity, SPFI_MAILFROM);
    /* A HELO pass does not hide a MAIL FROM fail. */
    v = check_msg("helo.test", "joe@fail.test", 1);
    ck_assert_str_eq(spf_res_name(v.result), "fail");
    ck_assert_int_eq(v.identity, SPFI_MAILFROM);
    /* A HELO that is no domain is not checked. */
    v = check_msg("[192.0.2.9]", "joe@pass.test", 1);
    ck_assert_str_eq(spf_res_name(v.result), "pass");
    ck_assert_int_eq(v.identity, SPFI_MAILFROM);
}
END_TEST

START_TEST(test_void_limit)
{
    struct spf_verdict v;

    v = check_from(IP, 0, "joe@void2.test");
    ck_assert_str_eq(spf_res_name(v.result), "fail");
    v = check_from(IP, 0, "joe@void3.test");
    ck_assert_str_eq(spf_res_name(v.result), "permerror");
    ck_assert_str_eq(v.reason, "more than 2 void DNS lookups");
    v = check_from(IP, 0, "joe@voidmx.test");
    ck_assert_str_eq(spf_res_name(v.result), "permerror");
    ck_assert_str_eq(v.reason, "more than 2 void DNS lookups");
}
END_TEST

START_TEST(test_term_limit)
{
    struct spf_verdict v;

    v = check_from(IP, 0, "joe@terms10.test");
    ck_assert_str_eq(spf_res_name(v.result), "fail");
    v = check_from(IP, 0, "joe@terms11.test");
    ck_assert_str_eq(spf_res_name(v.result), "permerror");
    ck_assert_str_eq(v.reason, "more than 10 DNS-querying terms");
    /* 11 includes, one per record: over the limit across records */
    v = check_from(IP, 0, "joe@chain1.test");
    ck_assert_str_eq(spf_res_name(v.result), "permerror");
    ck_assert_str_eq(v.reason, "more than 10 DNS-querying terms");
    /* 10 includes: chain2 -> chain12 passes */
    v = check_from(IP, 0, "joe@chain2.test");
    ck_assert_str_eq(spf_res_name(v.result), "pass");
    v = check_from(IP, 0, "joe@loopa.test");
    ck_assert_str_eq(spf_res_name(v.result), "permerror");
}
END_TEST

START_TEST(test_mx_hosts_are_not_terms)
{
    struct spf_verdict v;

    /* 10 mx terms: 41 address lookups, 10 terms, a match at the last */
    v = check_from(IP, 0, "joe@mx10.test");
    ck_assert_msg(v.result == SPFR_PASS, "got %s (%s)", spf_res_name(v.result),
		  v.reason);
    v = check_from(IP, 0, "joe@mx11.test");
    ck_assert_str_eq(spf_res_name(v.result), "permerror");
}
END_TEST

START_TEST(test_clients)
{
    struct spf_verdict v;

    v = check_from("2001:db8::25", 0, "joe@v6.test");
    ck_assert_str_eq(spf_res_name(v.result), "pass");
    v = check_from("2001:db9::25", 0, "joe@v6.test");
    ck_assert_str_eq(spf_res_name(v.result), "fail");
    v = check_from("::ffff:192.0.2.9", 0, "joe@pass.test");
    ck_assert_str_eq(spf_res_name(v.result), "pass");
    /* No loopback free ride: trusted_networks decides that. */
    v = check_from("127.0.0.1", 0, "joe@loop.test");
    ck_assert_str_eq(spf_res_name(v.result), "fail");
    v = check_from("::1", 0, "joe@loop.test");
    ck_assert_str_eq(spf_res_name(v.result), "fail");
    v = check_from("not-an-ip", 0, "joe@pass.test");
    ck_assert_str_eq(spf_res_name(v.result), "temperror");
    v = check_from(0, 0, "joe@pass.test");
    ck_assert_str_eq(spf_res_name(v.result), "temperror");
}
END_TEST

START_TEST(test_deadline)
{
    struct spf_verdict v;
    struct timespec past;

    budget_deadline(&past, 0);
    past.tv_sec -= 1;
    spf_check_identity(&engine, IP, 0, "joe@pass.test", &past, &v);
    ck_assert_str_eq(spf_res_name(v.result), "temperror");
    ck_assert_str_eq(v.reason, "DNS time limit exceeded");
    ck_assert_int_eq(budget_ms_left(), -1);	/* no budget left active */
}
END_TEST

START_TEST(test_explanation)
{
    struct spf_verdict v;

    v = check_from(IP, 0, "joe@exp.test");
    ck_assert_str_eq(spf_res_name(v.result), "fail");
    ck_assert_str_eq(v.explanation,
		     "joe@exp.test may not send from 192.0.2.9: "
		     "see https://x.test/exp.test");
    v = check_from(IP, 0, "joe@fail.test");
    ck_assert_str_eq(spf_res_name(v.result), "fail");
    ck_assert_str_eq(v.explanation, "");	/* no exp=: no default text */
    v = check_from(IP, 0, "joe@exp8.test");
    ck_assert_str_eq(spf_res_name(v.result), "fail");
    /* RFC 7208 6.2 and 12: an explain-string is ASCII; 8-bit text is a
     * syntax error, which leaves the fail without an explanation. */
    ck_assert_str_eq(v.explanation, "");
}
END_TEST

static const char *bad_domains[] = {
    "localhost", "", ".", "a..b.test", ".a.test", "a b.test", "a\r\n.test",
    "caf\303\251.test", "[192.0.2.1]", "192.0.2.1", "a;b.test", "a\"b.test",
    "-", "x.-", "a.test/24",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.test",
};

START_TEST(test_bad_domains)
{
    struct spf_verdict v;
    char    from[600];

    ck_assert_int_eq(spf_domain_ok(bad_domains[_i]), 0);
    snprintf(from, sizeof(from), "joe@%s", bad_domains[_i]);
    v = check_from(IP, bad_domains[_i], from);
    ck_assert_str_eq(spf_res_name(v.result), "none");
    v = check_msg(bad_domains[_i], "", 1);
    ck_assert_str_eq(spf_res_name(v.result), "none");
}
END_TEST

START_TEST(test_long_inputs)
{
    char    big[5000];
    struct spf_verdict v;

    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = 0;
    v = check_msg(big, big, 1);
    ck_assert_str_eq(spf_res_name(v.result), "none");
    memcpy(big + sizeof(big) - 11, "@pass.test", 11);
    v = check_msg(big, big, 1);		/* valid domain, absurd local part */
    ck_assert_str_eq(spf_res_name(v.result), "none");
    ck_assert_str_eq(v.reason, "the sender address is too long");
    ck_assert_int_eq(spf_domain_ok("a.b.c.d.e.f.g.h.test"), 1);
    ck_assert_int_eq(spf_domain_ok("mail_out-1.x.test."), 1);
}
END_TEST

/* spf_suite - the test cases */

/* Section 7.3: %{h} is the HELO as given; an odd one is no error. */

static const char *odd_helos[] = {
    "[192.0.2.9]", "JUMPIN' JUPITER", "trailing\\", "bs\\", "a..b", "%%%", "",
};

START_TEST(test_odd_helo_macro)
{
    struct spf_verdict v;

    v = check_from(IP, odd_helos[_i], "joe@hmacro.test");
    ck_assert_msg(v.result == SPFR_FAIL, "HELO \"%s\": %s (%s)",
		  odd_helos[_i], spf_res_name(v.result), v.reason);
    v = check_from(IP, "ok", "joe@hmacro.test");
    ck_assert_str_eq(spf_res_name(v.result), "pass");
}
END_TEST

static Suite *spf_suite(void)
{
    Suite  *s = suite_create("filter_spf");
    TCase  *tc = tcase_create("spf");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_loop_test(tc, test_results, 0,
		        sizeof(result_cases) / sizeof(result_cases[0]));
    tcase_add_test(tc, test_null_sender_checks_helo);
    tcase_add_test(tc, test_helo_check);
    tcase_add_test(tc, test_void_limit);
    tcase_add_test(tc, test_term_limit);
    tcase_add_test(tc, test_mx_hosts_are_not_terms);
    tcase_add_test(tc, test_clients);
    tcase_add_test(tc, test_deadline);
    tcase_add_test(tc, test_explanation);
    tcase_add_loop_test(tc, test_odd_helo_macro, 0,
		        sizeof(odd_helos) / sizeof(odd_helos[0]));
    tcase_add_loop_test(tc, test_bad_domains, 0,
		        sizeof(bad_domains) / sizeof(bad_domains[0]));
    tcase_add_test(tc, test_long_inputs);
    suite_add_tcase(s, tc);
    return (s);
}

int     main(void)
{
    SRunner *sr = srunner_create(spf_suite());
    int     failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return (failed ? EXIT_FAILURE : EXIT_SUCCESS);
}
