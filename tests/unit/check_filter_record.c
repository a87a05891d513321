/* SPDX-License-Identifier: MIT */
/*
 * check_filter_record - unit tests of filter/spf_record.c and filter/spf_macro.c
 *
 * The record parser against every rule of the RFC 7208 section 12 ABNF,
 * each accepted and refused, with the canonical form the printer gives;
 * the macro expander against the examples of RFC 7208 section 7.4.
 */

#include <check.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <arpa/inet.h>

#include "spf_macro.h"
#include "spf_record.h"

/* A record and the canonical form it must print as; null: refused. */

struct rec_case {
    const char *text;
    const char *canon;
};

static const struct rec_case rec_cases[] = {
    /* version and term separators */
    {"v=spf1", "v=spf1"},
    {"V=SPF1 -ALL", "v=spf1 -all"},
    {"v=spf1  a   -all ", "v=spf1 a -all"},
    {"v=spf10", 0},
    {"v=spf1\t-all", 0},		/* only SP separates terms */
    {"v=spf1 a\r-all", 0},		/* control character */
    {"v=spf1 a:\303\251.example -all", 0},	/* non-ASCII */
    {"v=spf1 \177all", 0},		/* DEL (a NUL in DNS) */
    /* qualifiers and all */
    {"v=spf1 +all", "v=spf1 all"},
    {"v=spf1 ~all ?all", "v=spf1 ~all ?all"},
    {"v=spf1 !all", 0},
    {"v=spf1 -all.", 0},
    {"v=spf1 -all:foo.example", 0},
    {"v=spf1 -all/24", 0},
    {"v=spf1 allx", 0},
    /* include and exists: a domain-spec is required, no CIDR */
    {"v=spf1 include:_spf.example.com", "v=spf1 include:_spf.example.com"},
    {"v=spf1 include", 0},
    {"v=spf1 include:", 0},
    {"v=spf1 include:ip5.example.com/24", 0},
    {"v=spf1 exists:%{ir}.bl.example.org", "v=spf1 exists:%{ir}.bl.example.org"},
    {"v=spf1 exists", 0},
    {"v=spf1 exists:", 0},
    {"v=spf1 exists:mail.example.com/24", 0},
    /* a and mx: optional domain-spec, dual CIDR */
    {"v=spf1 a", "v=spf1 a"},
    {"v=spf1 a/0 -all", "v=spf1 a/0 -all"},
    {"v=spf1 a//0", "v=spf1 a//0"},
    {"v=spf1 a/24//64", "v=spf1 a/24//64"},
    {"v=spf1 mx:foo.example.com/24", "v=spf1 mx:foo.example.com/24"},
    {"v=spf1 a:foo:bar/baz.example.com", "v=spf1 a:foo:bar/baz.example.com"},
    {"v=spf1 a:foo.example.xn--zckzah", "v=spf1 a:foo.example.xn--zckzah"},
    {"v=spf1 a:example.com.", "v=spf1 a:example.com."},
    {"v=spf1 a:.com", "v=spf1 a:.com"},
    {"v=spf1 a:%{d}", "v=spf1 a:%{d}"},
    {"v=spf1 a:mail.%{d}%%", "v=spf1 a:mail.%{d}%%"},
    {"v=spf1 a/33", 0},
    {"v=spf1 a//129", 0},
    {"v=spf1 a/24/64", 0},
    {"v=spf1 a/024", 0},
    {"v=spf1 a:", 0},
    {"v=spf1 a:museum", 0},		/* a toplabel alone */
    {"v=spf1 a:museum.", 0},
    {"v=spf1 a:abc.123", 0},		/* all-numeric toplabel */
    {"v=spf1 a:111.222.33.44", 0},
    {"v=spf1 a:example.-com", 0},
    {"v=spf1 a:example.com-", 0},
    {"v=spf1 a:example.com:8080", 0},
    {"v=spf1 a:foo-bar", 0},
    {"v=spf1 mx: -all", 0},
    {"v=spf1 mx//33", "v=spf1 mx//33"},
    {"v=spf1 mxfoo", 0},
    /* ptr: optional domain-spec, no CIDR */
    {"v=spf1 ptr", "v=spf1 ptr"},
    {"v=spf1 ptr:example.com", "v=spf1 ptr:example.com"},
    {"v=spf1 ptr:", 0},
    {"v=spf1 ptr/0", 0},
    /* ip4 */
    {"v=spf1 ip4:192.0.2.1", "v=spf1 ip4:192.0.2.1"},
    {"v=spf1 ip4:0.0.0.0/0", "v=spf1 ip4:0.0.0.0/0"},
    {"v=spf1 ip4:192.0.2.0/24", "v=spf1 ip4:192.0.2.0/24"},
    {"v=spf1 ip4:1.2.3.4/32", "v=spf1 ip4:1.2.3.4/32"},
    {"v=spf1 ip4:1.2.3.4/33", 0},
    {"v=spf1 ip4:1.2.3.4/032", 0},
    {"v=spf1 ip4:1.2.3.4//32", 0},
    {"v=spf1 ip4:1.2.3.4/", 0},
    {"v=spf1 ip4:1.2.3", 0},
    {"v=spf1 ip4:1.2.3.4.5", 0},
    {"v=spf1 ip4:1.2.03.4", 0},
    {"v=spf1 ip4:1.2.3.256", 0},
    {"v=spf1 ip4:1.2.3.4:8080", 0},
    {"v=spf1 ip4", 0},
    {"v=spf1 ip4:", 0},
    /* ip6 */
    {"v=spf1 ip6:2001:db8::/32", "v=spf1 ip6:2001:db8::/32"},
    {"v=spf1 ip6:Cafe:Babe:8000::/33", "v=spf1 ip6:cafe:babe:8000::/33"},
    {"v=spf1 ip6:::1.1.1.1/0", "v=spf1 ip6:::1.1.1.1/0"},
    {"v=spf1 ip6:::1/129", 0},
    {"v=spf1 ip6:::1//33", 0},
    {"v=spf1 ip6::CAFE::BABE", 0},
    {"v=spf1 ip6", 0},
    {"v=spf1 ip6:2001:db8::/0128", 0},
    /* modifiers: anywhere, at most once for redirect= and exp= */
    {"v=spf1 redirect=_spf.example.com", "v=spf1 redirect=_spf.example.com"},
    {"v=spf1 redirect=a.example.com a -all", "v=spf1 a -all redirect=a.example.com"},
    {"v=spf1 exp=e.example.com -all", "v=spf1 -all exp=e.example.com"},
    {"v=spf1 REDIRECT=x.example.com", "v=spf1 redirect=x.example.com"},
    {"v=spf1 redirect=a.example.com redirect=b.example.com", 0},
    {"v=spf1 exp=a.example.com -all exp=b.example.com", 0},
    {"v=spf1 redirect:a.example.com", 0},
    {"v=spf1 redirect=", 0},
    {"v=spf1 exp=", 0},
    {"v=spf1 exp=-all", 0},
    {"v=spf1 redirect=-all ?all", 0},
    {"v=spf1 -redirect=a.example.com", 0},	/* no qualifier on a modifier */
    {"v=spf1 exp=%{r}.example.com", 0},	/* r only in explanations */
    {"v=spf1 a:%{c}.example.com", 0},
    {"v=spf1 a:%{t}.example.com", 0},
    /* unknown modifiers: well-formed ones are ignored */
    {"v=spf1 moo.cow-far_out=man:dog/cat -all", "v=spf1 -all"},
    {"v=spf1 default=pass", "v=spf1"},
    {"v=spf1 x=", "v=spf1"},
    {"v=spf1 moo.cow/far_out=man:dog/cat -all", 0},
    {"v=spf1 moo.cow:far_out=man:dog/cat -all", 0},
    {"v=spf1 1up=foo", 0},
    {"v=spf1 =all", 0},
    {"v=spf1 -all foo=%abc", 0},
    {"v=spf1 foo=%{x}", 0},
    {"v=spf1 foo=bar baz=qux foo=bar", "v=spf1"},
    /* macros */
    {"v=spf1 exists:%{i}.%{l2r-}.user.%{d2}", "v=spf1 exists:%{i}.%{l2r-}.user.%{d2}"},
    {"v=spf1 exists:%{l2r+-}.user.%{d2}", "v=spf1 exists:%{l2r+-}.user.%{d2}"},
    {"v=spf1 a:%{H}.bar.example", "v=spf1 a:%{H}.bar.example"},
    {"v=spf1 a:macro%%percent%_%_space%-url-space.example.com",
    "v=spf1 a:macro%%percent%_%_space%-url-space.example.com"},
    {"v=spf1 -exists:%(ir).sbl.example.com ?all", 0},
    {"v=spf1 exists:foo%.sbl.example.com", 0},
    {"v=spf1 exists:foo.sbl.example.com%", 0},
    {"v=spf1 a:%{d0}.example.com", 0},	/* a zero digit transformer */
    {"v=spf1 a:%{d}x.example.com%{", 0},
    {"v=spf1 a:%{d.example.com", 0},
    {"v=spf1 a:%{dx}.example.com", 0},
    {"v=spf1 a:%{}.example.com", 0},
    /* unknown mechanisms */
    {"v=spf1 foo:bar", 0},
    {"v=spf1 ip:1.2.3.4", 0},
    {"v=spf1 a,", 0},
};

START_TEST(test_record)
{
    const struct rec_case *c = rec_cases + _i;
    struct spf_record rec;
    struct spf_record again;
    char    err[SPFREC_ERR_MAX];
    char    out[SPFREC_TEXT_MAX];
    char    out2[SPFREC_TEXT_MAX];
    int     status = spf_record_parse(c->text, &rec, err, sizeof(err));

    if (c->canon == 0) {
	ck_assert_msg(status == -1, "\"%s\" was accepted", c->text);
	ck_assert_msg(err[0] != 0, "\"%s\": no error text", c->text);
	return;
    }
    ck_assert_msg(status == 0, "\"%s\" refused: %s", c->text, err);
    ck_assert_int_gt(spf_record_print(&rec, out, sizeof(out)), 0);
    ck_assert_str_eq(out, c->canon);
    /* The printed form parses to itself. */
    ck_assert_int_eq(spf_record_parse(out, &again, err, sizeof(err)), 0);
    ck_assert_int_gt(spf_record_print(&again, out2, sizeof(out2)), 0);
    ck_assert_str_eq(out2, out);
    spf_record_free(&again);
    spf_record_free(&rec);
}
END_TEST

START_TEST(test_record_fields)
{
    struct spf_record rec;
    char    err[SPFREC_ERR_MAX];

    ck_assert_int_eq(spf_record_parse("v=spf1 redirect=r.example ~mx:m.example/24//64"
				      " ip6:2001:db8::/32 exp=%{d}",
				      &rec, err, sizeof(err)), 0);
    ck_assert_int_eq(rec.nterms, 2);
    ck_assert_int_eq(rec.terms[0].mech, SPFM_MX);
    ck_assert_int_eq(rec.terms[0].qualifier, '~');
    ck_assert_str_eq(rec.terms[0].domain, "m.example");
    ck_assert_int_eq(rec.terms[0].cidr4, 24);
    ck_assert_int_eq(rec.terms[0].cidr6, 64);
    ck_assert_int_eq(rec.terms[1].mech, SPFM_IP6);
    ck_assert_int_eq(rec.terms[1].cidr6, 32);
    ck_assert_int_eq(rec.terms[1].addr[3], 0xb8);
    ck_assert_str_eq(rec.redirect, "r.example");
    ck_assert_str_eq(rec.exp, "%{d}");
    spf_record_free(&rec);
}
END_TEST

START_TEST(test_record_long)
{
    static char text[SPFREC_TEXT_MAX + 16];
    struct spf_record rec;
    char    err[SPFREC_ERR_MAX];
    char    small[16];

    memset(text, 0, sizeof(text));
    strcpy(text, "v=spf1 ");
    memset(text + 7, 'a', SPFREC_TEXT_MAX);
    ck_assert_int_eq(spf_record_parse(text, &rec, err, sizeof(err)), -1);
    ck_assert_int_eq(spf_record_parse("v=spf1 ip4:192.0.2.1 -all", &rec, err,
				      sizeof(err)), 0);
    ck_assert_int_eq(spf_record_print(&rec, small, sizeof(small)), -1);
    spf_record_free(&rec);
}
END_TEST

START_TEST(test_is_spf)
{
    ck_assert(spf_record_is_spf("v=spf1"));
    ck_assert(spf_record_is_spf("V=Spf1 -all"));
    ck_assert(!spf_record_is_spf("v=spf10"));
    ck_assert(!spf_record_is_spf("v=spf1-all"));
    ck_assert(!spf_record_is_spf(" v=spf1"));
    ck_assert(!spf_record_is_spf("spf2.0/pra"));
}
END_TEST

START_TEST(test_explain_string)
{
    ck_assert(spf_macro_string_ok("%{c} is not %{r} at %{t}", 24, 1));
    ck_assert(!spf_macro_string_ok("%{c} is not %{r} at %{t}", 24, 0));
    ck_assert(!spf_macro_string_ok("The %{x}-files.", 15, 1));
    ck_assert(!spf_macro_string_ok("caf\303\251", 5, 1));
    ck_assert(spf_domain_spec_ok("%{d2}", 5));
    ck_assert(!spf_domain_spec_ok("", 0));
}
END_TEST

/* RFC 7208 section 7.4, with strong-bad@email.example.com from 192.0.2.3 */

struct macro_case {
    const char *in;
    const char *out;
};

static const struct macro_case macro_cases[] = {
    {"%{s}", "strong-bad@email.example.com"},
    {"%{o}", "email.example.com"},
    {"%{d}", "email.example.com"},
    {"%{d4}", "email.example.com"},
    {"%{d3}", "email.example.com"},
    {"%{d2}", "example.com"},
    {"%{d1}", "com"},
    {"%{dr}", "com.example.email"},
    {"%{d2r}", "example.email"},
    {"%{l}", "strong-bad"},
    {"%{l-}", "strong.bad"},
    {"%{lr}", "strong-bad"},
    {"%{lr-}", "bad.strong"},
    {"%{l1r-}", "strong"},
    {"%{ir}.%{v}._spf.%{d2}", "3.2.0.192.in-addr._spf.example.com"},
    {"%{lr-}.lp._spf.%{d2}", "bad.strong.lp._spf.example.com"},
    {"%{lr-}.lp.%{ir}.%{v}._spf.%{d2}",
    "bad.strong.lp.3.2.0.192.in-addr._spf.example.com"},
    {"%{ir}.%{v}.%{l1r-}.lp._spf.%{d2}",
    "3.2.0.192.in-addr.strong.lp._spf.example.com"},
    {"%{d2}.trusted-domains.example.net",
    "example.com.trusted-domains.example.net"},
    {"%%%_%-", "% %20"},
    {"%{L}=%{S}", "strong-bad=strong-bad%40email.example.com"},
    {"%{h}", "mx.example.org"},
    {"%{c} %{r}", "192.0.2.3 receiver.example"},
    {"%{p}", "unknown"},
};

/* macro_env - the section 7.4 example's values */

static void macro_env(struct spf_macro_env *env, const char *ip)
{
    memset(env, 0, sizeof(*env));
    env->sender = "strong-bad@email.example.com";
    env->local = "strong-bad";
    env->sender_domain = "email.example.com";
    env->domain = "email.example.com";
    env->helo = "mx.example.org";
    env->receiver = "receiver.example";
    env->family = strchr(ip, ':') ? AF_INET6 : AF_INET;
    ck_assert_int_eq(inet_pton(env->family, ip, env->addr), 1);
}

START_TEST(test_macro)
{
    const struct macro_case *c = macro_cases + _i;
    struct spf_macro_env env;
    char    out[SPF_MACRO_OUT_MAX];

    macro_env(&env, "192.0.2.3");
    ck_assert_int_eq(spf_macro_expand(c->in, strlen(c->in), &env, out,
				      sizeof(out)), (int) strlen(c->out));
    ck_assert_str_eq(out, c->out);
}
END_TEST

START_TEST(test_macro_ipv6)
{
    struct spf_macro_env env;
    char    out[SPF_MACRO_OUT_MAX];
    const char *in = "%{ir}.%{v}._spf.%{d2}";

    macro_env(&env, "2001:db8::cb01");
    ck_assert_int_gt(spf_macro_expand(in, strlen(in), &env, out,
				      sizeof(out)), 0);
    ck_assert_str_eq(out, "1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0"
		     ".8.b.d.0.1.0.0.2.ip6._spf.example.com");
    ck_assert_int_gt(spf_macro_expand("%{c}", 4, &env, out, sizeof(out)), 0);
    ck_assert_str_eq(out, "2001:db8::cb01");
}
END_TEST

START_TEST(test_macro_odd_helo)
{
    struct spf_macro_env env;
    char    out[SPF_MACRO_OUT_MAX];

    /* %{h} is the HELO as given, whatever it is (section 7.3). */
    macro_env(&env, "192.0.2.3");
    env.helo = "[192.0.2.3]";
    ck_assert_int_gt(spf_macro_domain("%{h}.x.example", &env, out,
				      sizeof(out)), 0);
    ck_assert_str_eq(out, "[192.0.2.3].x.example");
    env.helo = "JUMPIN' JUPITER";
    ck_assert_int_gt(spf_macro_domain("%{H}.x.example", &env, out,
				      sizeof(out)), 0);
    ck_assert_str_eq(out, "JUMPIN%27%20JUPITER.x.example");
}
END_TEST

START_TEST(test_macro_domain)
{
    struct spf_macro_env env;
    char    out[SPF_MACRO_OUT_MAX];
    char    spec[400];
    int     len;

    macro_env(&env, "192.0.2.3");
    /* one trailing dot goes */
    ck_assert_int_gt(spf_macro_domain("%{d}.", &env, out, sizeof(out)), 0);
    ck_assert_str_eq(out, "email.example.com");
    /* over 253 bytes: labels go from the left until it fits */
    snprintf(spec, sizeof(spec), "%s", "x.%{o}.%{o}.%{o}.%{o}.%{o}.%{o}.%{o}"
	     ".%{o}.%{o}.%{o}.%{o}.%{o}.%{o}.%{o}.%{o}.example");
    len = spf_macro_domain(spec, &env, out, sizeof(out));
    ck_assert_int_le(len, SPF_NAME_MAX);
    ck_assert_int_gt(len, SPF_NAME_MAX - 20);
    ck_assert_msg(strncmp(out, "example.com.email", 17) == 0
		  || strncmp(out, "com.email", 9) == 0
		  || strncmp(out, "email.example", 13) == 0, "%s", out);
    ck_assert_str_eq(out + len - 8, ".example");
    /* a buffer too small is an error, never a cut name */
    ck_assert_int_eq(spf_macro_domain("%{d}", &env, out, 5), -1);
}
END_TEST

/* one_name - the %{p} source of the test: its arg is the one validated name */

static const char *one_name(void *arg, const char *domain)
{
    (void) domain;
    return (arg);
}

START_TEST(test_macro_p)
{
    struct spf_macro_env env;
    char    out[SPF_MACRO_OUT_MAX];

    macro_env(&env, "192.0.2.3");
    env.validated = one_name;
    env.arg = "mx.example.com";
    ck_assert_int_gt(spf_macro_expand("%{p}", 4, &env, out, sizeof(out)), 0);
    ck_assert_str_eq(out, "mx.example.com");
    ck_assert_int_gt(spf_macro_expand("%{p2}", 5, &env, out, sizeof(out)), 0);
    ck_assert_str_eq(out, "example.com");
}
END_TEST

static Suite *record_suite(void)
{
    Suite  *s = suite_create("filter_record");
    TCase  *tc = tcase_create("record");

    tcase_add_loop_test(tc, test_record, 0,
			sizeof(rec_cases) / sizeof(rec_cases[0]));
    tcase_add_test(tc, test_record_fields);
    tcase_add_test(tc, test_record_long);
    tcase_add_test(tc, test_is_spf);
    tcase_add_test(tc, test_explain_string);
    tcase_add_loop_test(tc, test_macro, 0,
			sizeof(macro_cases) / sizeof(macro_cases[0]));
    tcase_add_test(tc, test_macro_ipv6);
    tcase_add_test(tc, test_macro_odd_helo);
    tcase_add_test(tc, test_macro_domain);
    tcase_add_test(tc, test_macro_p);
    suite_add_tcase(s, tc);
    return (s);
}

int     main(void)
{
    SRunner *sr = srunner_create(record_suite());
    int     failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return (failed ? 1 : 0);
}
