/* SPDX-License-Identifier: MIT */
/*
 * check_filter_policy - unit tests of filter/policy.c
 *
 * The result-to-action table for every on_* setting, the reply codes
 * (RFC 7372), explanations used only when printable, and '%' escaping.
 */

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"

/* verdict - a verdict with a result, reason and explanation */

static struct spf_verdict verdict(enum spf_res result, const char *reason,
				          const char *explanation)
{
    struct spf_verdict v;

    memset(&v, 0, sizeof(v));
    v.result = result;
    snprintf(v.reason, sizeof(v.reason), "%s", reason);
    snprintf(v.explanation, sizeof(v.explanation), "%s", explanation);
    return (v);
}

START_TEST(test_default_marks)
{
    struct policy p;
    int     r;

    policy_init(&p);
    for (r = 0; r < SPFR_COUNT; r++)
	ck_assert_int_eq(policy_decide(&p, (enum spf_res) r), ACT_MARK);
    ck_assert_int_eq(policy_decide(&p, SPFR_COUNT), ACT_DEFER);
}
END_TEST

START_TEST(test_pass_neutral_always_marked)
{
    struct policy p;
    int     r;

    for (r = 0; r < SPFR_COUNT; r++)
	p.on[r] = ACT_REJECT;
    ck_assert_int_eq(policy_decide(&p, SPFR_PASS), ACT_MARK);
    ck_assert_int_eq(policy_decide(&p, SPFR_NEUTRAL), ACT_MARK);
    ck_assert_int_eq(policy_decide(&p, SPFR_FAIL), ACT_REJECT);
    ck_assert_int_eq(policy_decide(&p, SPFR_NONE), ACT_REJECT);
}
END_TEST

START_TEST(test_action_names)
{
    ck_assert_str_eq(policy_action_name(ACT_MARK), "mark");
    ck_assert_str_eq(policy_action_name(ACT_REJECT), "reject");
    ck_assert_str_eq(policy_action_name(ACT_DEFER), "defer");
}
END_TEST

struct reply_case {
    enum spf_res result;
    const char *reason;
    const char *explanation;
    const char *domain;
    const char *code;
    const char *xcode;
    const char *text;
};

static const struct reply_case reply_cases[] = {
    {SPFR_FAIL, "", "", "x.org", "550", "5.7.23",
    "SPF fail: x.org does not allow mail from 192.0.2.1"},
    {SPFR_FAIL, "", "Go away, see https://x.org/spf?ip=192.0.2.1", "x.org",
	"550", "5.7.23", "Go away, see https://x.org/spf?ip=192.0.2.1"},
    {SPFR_FAIL, "", "100% spam", "x.org", "550", "5.7.23", "100%% spam"},
    {SPFR_FAIL, "", "caf\303\251", "x.org", "550", "5.7.23",
    "SPF fail: x.org does not allow mail from 192.0.2.1"},
    {SPFR_FAIL, "", "two\r\nlines", "x.org", "550", "5.7.23",
    "SPF fail: x.org does not allow mail from 192.0.2.1"},
    {SPFR_FAIL, "", "", "evil;\r\n.org", "550", "5.7.23",
    "SPF fail: the sender domain does not allow mail from 192.0.2.1"},
    {SPFR_SOFTFAIL, "", "ignored", "x.org", "550", "5.7.1",
    "SPF softfail: x.org does not allow mail from 192.0.2.1"},
    {SPFR_PERMERROR, "more than 10 DNS-querying terms", "", "x.org", "550",
	"5.7.24", "SPF permerror in the policy of x.org: more than 10 "
    "DNS-querying terms"},
    {SPFR_TEMPERROR, "DNS lookup failure", "", "x.org", "451", "4.7.24",
    "SPF temperror checking x.org: DNS lookup failure; try again later"},
    {SPFR_NONE, "no SPF record", "", "x.org", "550", "5.7.1",
    "SPF none: x.org cannot be verified (no SPF record)"},
    {SPFR_NONE, "the sender domain is not a domain name", "", "localhost",
	"550", "5.7.1", "SPF none: the sender domain cannot be verified (the "
    "sender domain is not a domain name)"},
};

START_TEST(test_reply)
{
    const struct reply_case *c = reply_cases + _i;
    struct spf_verdict v = verdict(c->result, c->reason, c->explanation);
    struct policy_reply reply;

    policy_reply(&v, c->domain, "192.0.2.1", &reply);
    ck_assert_str_eq(reply.code, c->code);
    ck_assert_str_eq(reply.xcode, c->xcode);
    ck_assert_str_eq(reply.text, c->text);
}
END_TEST

START_TEST(test_escape)
{
    char    out[8];
    char    big[POLICY_TEXT_MAX * 3];

    policy_escape("a%b", out, sizeof(out));
    ck_assert_str_eq(out, "a%%b");
    policy_escape("%%%%%%", out, sizeof(out));
    ck_assert_str_eq(out, "%%%%%%");	/* 3 of 6, whole pairs only */
    policy_escape("abcdefghij", out, sizeof(out));
    ck_assert_str_eq(out, "abcdefg");
    memset(big, '%', sizeof(big) - 1);
    big[sizeof(big) - 1] = 0;
    {
	struct spf_verdict v = verdict(SPFR_FAIL, "", big + sizeof(big)
				       - BUDGET_EXP_MAX);
	struct policy_reply reply;

	policy_reply(&v, "x.org", "192.0.2.1", &reply);
	ck_assert_uint_lt(strlen(reply.text), POLICY_TEXT_MAX);
	ck_assert_uint_eq(strlen(reply.text) % 2, 0);
    }
}
END_TEST

START_TEST(test_printable)
{
    ck_assert_int_eq(policy_printable("Hello, world! ~"), 1);
    ck_assert_int_eq(policy_printable(""), 0);
    ck_assert_int_eq(policy_printable("tab\there"), 0);
    ck_assert_int_eq(policy_printable("del\177"), 0);
    ck_assert_int_eq(policy_printable("\303\251"), 0);
}
END_TEST

/* policy_suite - the test cases */

static Suite *policy_suite(void)
{
    Suite  *s = suite_create("filter_policy");
    TCase  *tc = tcase_create("policy");

    tcase_add_test(tc, test_default_marks);
    tcase_add_test(tc, test_pass_neutral_always_marked);
    tcase_add_test(tc, test_action_names);
    tcase_add_loop_test(tc, test_reply, 0,
		        sizeof(reply_cases) / sizeof(reply_cases[0]));
    tcase_add_test(tc, test_escape);
    tcase_add_test(tc, test_printable);
    suite_add_tcase(s, tc);
    return (s);
}

int     main(void)
{
    SRunner *sr = srunner_create(policy_suite());
    int     failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return (failed ? EXIT_FAILURE : EXIT_SUCCESS);
}
