/* SPDX-License-Identifier: MIT */
/*
 * check_filter_headers - unit tests of filter/headers.c
 *
 * Golden Received-SPF and Authentication-Results values, hostile client
 * text (CR, LF, quotes, semicolons, parentheses, 8-bit bytes, huge
 * values), and the authserv-id parser behind forged-header removal.
 */

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "headers.h"

#define RCV	"mx.receiver.test"

/* info - a header description with the usual test values */

static struct hdr_info info(enum spf_res result, enum spf_ident identity,
			            const char *helo, const char *from)
{
    struct hdr_info i = {result, identity, "192.0.2.1", helo, from, RCV, ""};

    return (i);
}

/* unfold - the value with folds ("\n\t") turned into single spaces */

static const char *unfold(const char *value)
{
    static char buf[HDR_BUF_MAX];
    size_t  n = 0;

    for (; *value && n + 1 < sizeof(buf); value++) {
	if (value[0] == '\n' && value[1] == '\t') {
	    buf[n++] = ' ';
	    value++;
	} else
	    buf[n++] = *value;
    }
    buf[n] = 0;
    return (buf);
}

/* assert_one_field - no bare CR/LF: every LF starts a folded line */

static void assert_one_field(const char *value)
{
    const char *cp;
    const char *line = value;
    size_t  first = strlen(HDR_RECEIVED_SPF ": ");

    ck_assert_ptr_null(strchr(value, '\r'));
    for (cp = value; *cp; cp++) {
	ck_assert_msg((unsigned char) *cp >= 0x20 || *cp == '\n' || *cp == '\t',
		      "control byte 0x%02x in %s", *cp, value);
	ck_assert_msg((unsigned char) *cp < 0x7f, "8-bit byte in %s", value);
	if (*cp == '\n') {
	    ck_assert_msg(cp[1] == '\t', "LF not followed by TAB in %s", value);
	    ck_assert_msg((size_t) (cp - line) + first < 998, "line too long");
	    line = cp + 1;
	    first = 0;
	}
    }
    ck_assert_msg(strlen(line) + first < 998, "line too long");
}

struct golden {
    enum spf_res result;
    enum spf_ident identity;
    const char *helo;
    const char *from;
    const char *reason;
    const char *received_spf;		/* unfolded */
    const char *auth_results;
};

static const struct golden goldens[] = {
    {SPFR_PASS, SPFI_MAILFROM, "mx.x.org", "a@x.org", "",
	"pass (" RCV ": domain of a@x.org designates 192.0.2.1 as permitted "
	"sender) client-ip=192.0.2.1; envelope-from=\"a@x.org\"; "
	"helo=mx.x.org; receiver=" RCV "; identity=mailfrom;",
    RCV "; spf=pass smtp.mailfrom=a@x.org"},
    {SPFR_FAIL, SPFI_MAILFROM, "mx.x.org", "a@x.org", "",
	"fail (" RCV ": domain of a@x.org does not designate 192.0.2.1 as "
	"permitted sender) client-ip=192.0.2.1; envelope-from=\"a@x.org\"; "
	"helo=mx.x.org; receiver=" RCV "; identity=mailfrom;",
    RCV "; spf=fail smtp.mailfrom=a@x.org"},
    {SPFR_SOFTFAIL, SPFI_MAILFROM, "mx.x.org", "a@x.org", "",
	"softfail (" RCV ": transitioning domain of a@x.org does not "
	"designate 192.0.2.1 as permitted sender) client-ip=192.0.2.1; "
	"envelope-from=\"a@x.org\"; helo=mx.x.org; receiver=" RCV "; "
	"identity=mailfrom;",
    RCV "; spf=softfail smtp.mailfrom=a@x.org"},
    {SPFR_NEUTRAL, SPFI_MAILFROM, "mx.x.org", "a@x.org", "",
	"neutral (" RCV ": 192.0.2.1 is neither permitted nor denied by "
	"domain of a@x.org) client-ip=192.0.2.1; envelope-from=\"a@x.org\"; "
	"helo=mx.x.org; receiver=" RCV "; identity=mailfrom;",
    RCV "; spf=neutral smtp.mailfrom=a@x.org"},
    {SPFR_NONE, SPFI_MAILFROM, "mx.x.org", "a@x.org", "no SPF record",
	"none (" RCV ": domain of a@x.org does not designate permitted "
	"sender hosts) client-ip=192.0.2.1; envelope-from=\"a@x.org\"; "
	"helo=mx.x.org; receiver=" RCV "; identity=mailfrom;",
    RCV "; spf=none smtp.mailfrom=a@x.org"},
    {SPFR_TEMPERROR, SPFI_MAILFROM, "mx.x.org", "a@x.org",
	"DNS lookup failure",
	"temperror (" RCV ": temporary error in processing domain of a@x.org: "
	"DNS lookup failure) client-ip=192.0.2.1; envelope-from=\"a@x.org\"; "
	"helo=mx.x.org; receiver=" RCV "; identity=mailfrom;",
    RCV "; spf=temperror smtp.mailfrom=a@x.org"},
    {SPFR_PERMERROR, SPFI_MAILFROM, "mx.x.org", "a@x.org",
	"more than 10 DNS-querying terms",
	"permerror (" RCV ": permanent error in processing domain of a@x.org: "
	"more than 10 DNS-querying terms) client-ip=192.0.2.1; "
	"envelope-from=\"a@x.org\"; helo=mx.x.org; receiver=" RCV "; "
	"identity=mailfrom;",
    RCV "; spf=permerror smtp.mailfrom=a@x.org"},
    /* the null sender: the HELO identity */
    {SPFR_PASS, SPFI_HELO, "mx.x.org", "", "",
	"pass (" RCV ": domain of mx.x.org designates 192.0.2.1 as permitted "
	"sender) client-ip=192.0.2.1; envelope-from=\"\"; helo=mx.x.org; "
	"receiver=" RCV "; identity=helo;",
    RCV "; spf=pass smtp.helo=mx.x.org"},
    /* a quoted local part */
    {SPFR_PASS, SPFI_MAILFROM, "mx.x.org", "\"john doe\"@x.org", "",
	"pass (" RCV ": domain of \"john doe\"@x.org designates 192.0.2.1 as "
	"permitted sender) client-ip=192.0.2.1; "
	"envelope-from=\"\\\"john doe\\\"@x.org\"; helo=mx.x.org; "
	"receiver=" RCV "; identity=mailfrom;",
    RCV "; spf=pass smtp.mailfrom=\"\\\"john doe\\\"@x.org\""},
    /* hostile HELO: CR LF, a fake field, quotes, semicolons, 8-bit */
    {SPFR_NONE, SPFI_MAILFROM, "a\r\nX-Evil: 1;\"(b)\303\251", "a@x.org", "",
	"none (" RCV ": domain of a@x.org does not designate permitted "
	"sender hosts) client-ip=192.0.2.1; envelope-from=\"a@x.org\"; "
	"helo=\"a??X-Evil: 1;\\\"(b)??\"; receiver=" RCV "; "
	"identity=mailfrom;",
    RCV "; spf=none smtp.mailfrom=a@x.org"},
    /* hostile sender: a ";" and a fake result, a ")" to end the comment */
    {SPFR_NONE, SPFI_MAILFROM, "mx.x.org", "a;spf=pass)@x.org", "",
	"none (" RCV ": domain of a;spf=pass\\)@x.org does not designate "
	"permitted sender hosts) client-ip=192.0.2.1; "
	"envelope-from=\"a;spf=pass)@x.org\"; helo=mx.x.org; receiver=" RCV "; "
	"identity=mailfrom;",
    RCV "; spf=none smtp.mailfrom=\"a;spf=pass)@x.org\""},
    /* hostile HELO decided: backslashes and a NUL-free control byte */
    {SPFR_FAIL, SPFI_HELO, "x\\\".org\t", "b@y.org", "",
	"fail (" RCV ": domain of x\\\\\".org? does not designate 192.0.2.1 "
	"as permitted sender) client-ip=192.0.2.1; envelope-from=\"b@y.org\"; "
	"helo=\"x\\\\\\\".org?\"; receiver=" RCV "; identity=helo;",
    RCV "; spf=fail smtp.helo=\"x\\\\\\\".org?\""},
};

START_TEST(test_golden)
{
    const struct golden *g = goldens + _i;
    struct hdr_info i = info(g->result, g->identity, g->helo, g->from);
    char    out[HDR_BUF_MAX];

    i.reason = g->reason;
    ck_assert_int_eq(hdr_received_spf(&i, out, sizeof(out)), 0);
    assert_one_field(out);
    ck_assert_str_eq(unfold(out), g->received_spf);
    ck_assert_int_eq(hdr_auth_results(&i, out, sizeof(out)), 0);
    assert_one_field(out);
    ck_assert_str_eq(unfold(out), g->auth_results);
}
END_TEST

START_TEST(test_folding)
{
    struct hdr_info i = info(SPFR_PASS, SPFI_MAILFROM, "mx.x.org", "a@x.org");
    char    out[HDR_BUF_MAX];

    ck_assert_int_eq(hdr_received_spf(&i, out, sizeof(out)), 0);
    ck_assert_str_eq(out,
		     "pass (" RCV ": domain of a@x.org designates 192.0.2.1\n"
		     "\tas permitted sender) client-ip=192.0.2.1; "
		     "envelope-from=\"a@x.org\";\n"
		     "\thelo=mx.x.org; receiver=" RCV "; identity=mailfrom;");
    /* with the field name, every line fits in 78 columns */
    ck_assert_int_eq(strlen(HDR_RECEIVED_SPF ": ") + strcspn(out, "\n"), 76);
}
END_TEST

START_TEST(test_huge_values)
{
    char    big[20000];
    char    out[HDR_BUF_MAX];
    struct hdr_info i;
    size_t  k;

    for (k = 0; k < sizeof(big) - 1; k++)
	big[k] = "a\r\n\"\\;()\377 "[k % 10];
    big[sizeof(big) - 1] = 0;
    i = info(SPFR_NONE, SPFI_MAILFROM, big, big);
    ck_assert_int_eq(hdr_received_spf(&i, out, sizeof(out)), 0);
    assert_one_field(out);
    ck_assert_msg(strlen(out) < 2500, "%zu bytes", strlen(out));
    ck_assert_int_eq(hdr_auth_results(&i, out, sizeof(out)), 0);
    assert_one_field(out);
    i.identity = SPFI_HELO;
    ck_assert_int_eq(hdr_received_spf(&i, out, sizeof(out)), 0);
    assert_one_field(out);
    ck_assert_int_eq(hdr_received_spf(&i, out, 40), -1);	/* too small */
}
END_TEST

struct ar_case {
    const char *value;
    const char *id;			/* null: no authserv-id */
    int     ours;
};

static const struct ar_case ar_cases[] = {
    {RCV "; spf=pass smtp.mailfrom=a@x.org", RCV, 1},
    {"MX.Receiver.TEST; spf=pass", "MX.Receiver.TEST", 1},
    {"  \t" RCV ";spf=pass", RCV, 1},
    {"\r\n\t" RCV "\r\n\t; dkim=pass", RCV, 1},
    {"(comment (nested \\) ) here) " RCV "; none", RCV, 1},
    {"\"" RCV "\"; spf=pass", RCV, 1},
    {"\"mx.rec\\eiver.test\"; spf=pass", RCV, 1},
    {RCV " 1; spf=pass", RCV, 1},
    {RCV, RCV, 1},
    {"other.test; spf=pass", "other.test", 0},
    {RCV ".evil.test; spf=pass", RCV ".evil.test", 0},
    {"x" RCV "; spf=pass", "x" RCV, 0},
    {"mx.receiver; spf=pass", "mx.receiver", 0},
    {"; spf=pass", 0, 0},
    {"", 0, 0},
    {"(unterminated comment " RCV, 0, 0},
    {"\"" RCV, 0, 0},
};

START_TEST(test_authserv_id)
{
    const struct ar_case *c = ar_cases + _i;
    char    id[HDR_VALUE_MAX + 1];

    if (c->id) {
	ck_assert_int_eq(hdr_authserv_id(c->value, id, sizeof(id)), 0);
	ck_assert_str_eq(id, c->id);
    } else {
	ck_assert_int_eq(hdr_authserv_id(c->value, id, sizeof(id)), -1);
    }
    ck_assert_int_eq(hdr_ar_is_ours(c->value, RCV), c->ours);
}
END_TEST

START_TEST(test_authserv_id_long)
{
    char    big[5000];

    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = 0;
    ck_assert_int_eq(hdr_ar_is_ours(big, RCV), 0);
    memcpy(big, RCV, strlen(RCV));	/* ours, then junk: not ours */
    ck_assert_int_eq(hdr_ar_is_ours(big, RCV), 0);
}
END_TEST

START_TEST(test_token_ok)
{
    ck_assert_int_eq(hdr_token_ok("mx.example.org"), 1);
    ck_assert_int_eq(hdr_token_ok("mx_1-b.example"), 1);
    ck_assert_int_eq(hdr_token_ok(""), 0);
    ck_assert_int_eq(hdr_token_ok("a b"), 0);
    ck_assert_int_eq(hdr_token_ok("a;b"), 0);
    ck_assert_int_eq(hdr_token_ok("a\"b"), 0);
    ck_assert_int_eq(hdr_token_ok("caf\303\251"), 0);
    ck_assert_int_eq(hdr_token_ok("a\nb"), 0);
}
END_TEST

/* headers_suite - the test cases */

static Suite *headers_suite(void)
{
    Suite  *s = suite_create("filter_headers");
    TCase  *tc = tcase_create("headers");

    tcase_add_loop_test(tc, test_golden, 0, sizeof(goldens) / sizeof(goldens[0]));
    tcase_add_test(tc, test_folding);
    tcase_add_test(tc, test_huge_values);
    tcase_add_loop_test(tc, test_authserv_id, 0,
		        sizeof(ar_cases) / sizeof(ar_cases[0]));
    tcase_add_test(tc, test_authserv_id_long);
    tcase_add_test(tc, test_token_ok);
    suite_add_tcase(s, tc);
    return (s);
}

int     main(void)
{
    SRunner *sr = srunner_create(headers_suite());
    int     failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return (failed ? EXIT_FAILURE : EXIT_SUCCESS);
}
