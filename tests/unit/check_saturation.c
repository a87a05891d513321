/* SPDX-License-Identifier: MIT */
/* check_saturation - the built-in table, site rules and saturation_file errors */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"
#include "conf/saturation.h"

static char path[] = "/tmp/check_saturation.XXXXXX";

/* write_bytes - a temporary file with len bytes of data */

static void write_bytes(const char *data, size_t len)
{
    int     fd;

    strcpy(path, "/tmp/check_saturation.XXXXXX");
    ck_assert_int_ge(fd = mkstemp(path), 0);
    ck_assert_int_eq(write(fd, data, len), (int) len);
    close(fd);
}

/* load_text - load text as saturation_file; the result */

static int load_text(const char *text, struct saturation **sat, char *err,
		             size_t errlen)
{
    int     status;

    write_bytes(text, strlen(text));
    status = saturation_load(path, sat, err, errlen);
    unlink(path);
    return (status);
}

struct reply_case {
    int     code;
    const char *enhanced;
    const char *text;
    int     cls;
    const char *rule;
};

/* Each built-in entry with the provider's published reply. */

static const struct reply_case builtin_replies[] = {
    {451, "4.7.652", "The mail server [192.0.2.1] has exceeded the maximum "
	"number of connections. (S3115) [BN3PEPF0000B06D.namprd21.prod."
	"outlook.com]", SAT_THROTTLE, "microsoft connection limit"},
    {451, "4.7.500", "Server busy. Please try again later from "
	"[192.0.2.1]. (S77719) [FR2DEU01FT008.eop-deu01.prod.protection."
	"outlook.com]", SAT_THROTTLE, "microsoft server busy"},
    {451, "4.7.699", "Access denied, please try again later. (AS12345)",
    SAT_THROTTLE, "microsoft server busy"},
    {421, "4.7.28", "[192.0.2.1] Our system has detected that this message "
	"exceeded the rate that the sending domain is allowed to send. "
	"Please slow down. 421 4.7.28 gsmtp", SAT_THROTTLE,
    "gmail rate limit"},
    {421, "4.4.5", "Server busy, try again later. (mx.google.com) - gsmtp",
    SAT_THROTTLE, "server busy"},
    {550, "5.4.5", "Daily user sending quota exceeded. "
	"https://support.google.com/mail/?p=DailyLimitExceeded - gsmtp",
    SAT_QUOTA, "gmail daily quota"},
    {550, "5.4.5", "Daily SMTP relay limit exceeded for user. - gsmtp",
    SAT_QUOTA, "gmail daily quota"},
    {454, "", "Throttling failure: Maximum sending rate exceeded.",
    SAT_THROTTLE, "ses sending rate"},
    {454, "4.7.0", "Throttling failure: Maximum sending rate exceeded.",
    SAT_THROTTLE, "ses sending rate"},
    {454, "", "Throttling failure: Daily message quota exceeded.",
    SAT_QUOTA, "ses daily quota"},
    {554, "5.2.0", "STOREDRV.Submission.Exception:"
	"SubmissionQuotaExceededException; Failed to process message due "
	"to a permanent exception", SAT_QUOTA, "microsoft submission quota"},
    {550, "5.1.90", "Your message can't be sent because you've reached "
	"your daily limit for message recipients", SAT_QUOTA,
    "microsoft recipient rate limit"},
    {421, "4.3.2", "The maximum number of concurrent connections per "
	"resource forest has exceeded a limit, closing transmission "
	"channel.", SAT_THROTTLE, "microsoft concurrent connections"},
    {550, "5.7.1", "Daily SMTP relay limit exceeded for customer. - gsmtp",
    SAT_QUOTA, "gmail relay daily limit"},
    {450, "4.2.1", "Peak SMTP relay limit exceeded for customer. This is a "
	"temporary error. - gsmtp", SAT_THROTTLE, "gmail relay peak limit"},
    {421, "4.7.0", "Try again later, closing connection. (EHLO) - gsmtp",
    SAT_THROTTLE, "gmail relay busy"},
    {451, "", "Authentication failed: Maximum credits exceeded", SAT_QUOTA,
    "sendgrid credits"},
};

/* Replies that are about a recipient or the message, or generic. */

static const struct reply_case not_full[] = {
    {550, "5.1.1", "The email account that you tried to reach does not "
    "exist. - gsmtp", SAT_NONE, 0},
    {550, "5.1.1", "<x@example.com>: Recipient address rejected: User "
    "unknown", SAT_NONE, 0},
    {451, "4.3.0", "Mail server temporarily rejected message. - gsmtp",
    SAT_NONE, 0},
    {421, "4.3.0", "Temporary System Problem. Try again later", SAT_NONE, 0},
    {450, "4.2.1", "The user you are trying to contact is receiving mail "
	"at a rate that prevents additional messages from being delivered. "
    "Please resend your message at a later time.", SAT_NONE, 0},
    {450, "4.2.1", "The user you are trying to contact is receiving mail "
    "too quickly. Please resend your message at a later time.", SAT_NONE, 0},
    {432, "4.3.2", "STOREDRV.Deliver; recipient thread limit exceeded",
    SAT_NONE, 0},
    {550, "5.7.606", "Access denied, banned sending IP [192.0.2.1].",
    SAT_NONE, 0},
    {550, "5.7.500", "Access denied, spam abuse detected.", SAT_NONE, 0},
    {451, "4.7.499", "Something else", SAT_NONE, 0},
    {451, "4.7.700", "Something else", SAT_NONE, 0},
    {550, "5.4.4", "Unable to route", SAT_NONE, 0},
    {250, "2.4.5", "Maximum sending rate exceeded", SAT_NONE, 0},
    {354, "", "Daily message quota exceeded", SAT_NONE, 0},
    {550, "", "", SAT_NONE, 0},
    {550, "5.7.1", "This message violates example.com email policy. - "
    "gcdp <sessionid> - gsmtp", SAT_NONE, 0},
};

/* check_reply - classify one case, without and with an unrelated rule */

static void check_reply(const struct reply_case *c,
			        const struct saturation *sat)
{
    const char *rule = "unset";
    int     cls;

    cls = saturation_classify(sat, c->code, c->enhanced, c->text, &rule);
    ck_assert_msg(cls == c->cls, "%d %s %s: class %d, want %d", c->code,
		  c->enhanced, c->text, cls, c->cls);
    if (c->rule)
	ck_assert_str_eq(rule, c->rule);
    else
	ck_assert_ptr_eq(rule, NULL);
}

/* test_builtin - each provider's reply gives its class and rule name */

START_TEST(test_builtin)
{
    check_reply(&builtin_replies[_i], 0);
}
END_TEST

/* test_not_full - recipient and generic replies are not saturation */

START_TEST(test_not_full)
{
    check_reply(&not_full[_i], 0);
}
END_TEST

/* test_null_args - null enhanced, text and rule are allowed */

START_TEST(test_null_args)
{
    ck_assert_int_eq(saturation_classify(0, 550, 0, 0, 0), SAT_NONE);
    ck_assert_int_eq(saturation_classify(0, 550, "5.4.5", 0, 0), SAT_QUOTA);
    ck_assert_int_eq(saturation_classify(0, 454, 0, "throttling failure: "
					 "MAXIMUM SENDING RATE EXCEEDED", 0),
		     SAT_THROTTLE);
    ck_assert_int_eq(saturation_classify(0, 550, "5.4.5x", 0, 0), SAT_NONE);
    ck_assert_int_eq(saturation_classify(0, 550, "5.4.05", 0, 0), SAT_QUOTA);
    ck_assert_int_eq(saturation_classify(0, 550, "58888888888888.4.5", 0, 0),
		     SAT_NONE);
    ck_assert_int_eq(saturation_classify(0, 550, "5.4.0005", 0, 0), SAT_NONE);
    ck_assert_str_eq(saturation_class_name(SAT_NONE), "none");
    ck_assert_str_eq(saturation_class_name(SAT_THROTTLE), "throttle");
    ck_assert_str_eq(saturation_class_name(SAT_QUOTA), "quota");
    ck_assert_str_eq(saturation_class_name(7), "none");
}
END_TEST

/* test_site_rules - site rules first, in order; codes, classes, '*' */

START_TEST(test_site_rules)
{
    struct saturation *sat;
    const char *rule;
    char    err[300];

    ck_assert_int_eq(load_text(
	  "# site rules\n"
	  "550 5.7.1 relay limit exceeded quota\n"
	  "\n"
	  "4xx * too (many|much) (mail|messages)   throttle\n"
	  "* * ^Server busy[+{]?( |\\{)[]x] throttle\n"
	  "5XX 5.1.1 user unknown throttle\n"
	  "550 * Daily user sending quota exceeded throttle\n",
	  &sat, err, sizeof(err)), 0);
    ck_assert_int_eq(saturation_classify(sat, 550, "5.7.1",
					 "Daily SMTP RELAY LIMIT EXCEEDED",
					 &rule), SAT_QUOTA);
    ck_assert_str_eq(rule, "saturation_file line 2");
    ck_assert_int_eq(saturation_classify(sat, 551, "5.7.1",
				 "relay limit exceeded", &rule), SAT_NONE);
    ck_assert_int_eq(saturation_classify(sat, 452, "", "Too many messages",
					 &rule), SAT_THROTTLE);
    ck_assert_str_eq(rule, "saturation_file line 4");
    ck_assert_int_eq(saturation_classify(sat, 552, "", "Too many messages",
					 &rule), SAT_NONE);
    ck_assert_int_eq(saturation_classify(sat, 554, "5.0.0", "server BUSY{]",
					 &rule), SAT_THROTTLE);
    ck_assert_str_eq(rule, "saturation_file line 5");
    ck_assert_int_eq(saturation_classify(sat, 554, "5.0.0", "a server busy",
					 &rule), SAT_NONE);
    ck_assert_int_eq(saturation_classify(sat, 550, "5.1.1", "user unknown",
					 &rule), SAT_THROTTLE);
    ck_assert_str_eq(rule, "saturation_file line 6");
    /* a site rule comes before the built-in table */
    ck_assert_int_eq(saturation_classify(sat, 550, "5.4.5", "Daily user "
				 "sending quota exceeded.", &rule), SAT_THROTTLE);
    ck_assert_str_eq(rule, "saturation_file line 7");
    /* and the built-in table still answers when no rule matches */
    ck_assert_int_eq(saturation_classify(sat, 454, "", "Throttling failure: "
				 "Daily message quota exceeded.", &rule), SAT_QUOTA);
    ck_assert_str_eq(rule, "ses daily quota");
    check_reply(&not_full[4], sat);
    saturation_free(sat);
    saturation_free(0);
    ck_assert_int_eq(load_text("", &sat, err, sizeof(err)), 0);
    ck_assert_int_eq(saturation_classify(sat, 550, "5.4.5", "", &rule),
		     SAT_QUOTA);
    saturation_free(sat);
}
END_TEST

struct bad_case {
    const char *text;
    const char *expect;
};

static const struct bad_case bad[] = {
    {"550 5.7.1 limit\n", ":1: want: code enhanced-code regex class"},
    {"550\n", ":1: want: code enhanced-code regex class"},
    {"550 5.7.1   quota\n", ":1: missing regex before \"quota\""},
    {"\n250 2.0.0 ok quota\n", ":2: bad reply code \"250\""},
    {"55 * x quota\n", ":1: bad reply code \"55\""},
    {"5500 * x quota\n", ":1: bad reply code \"5500\""},
    {"6xx * x quota\n", ":1: bad reply code \"6xx\""},
    {"55x * x quota\n", ":1: bad reply code \"55x\""},
    {"550 5.7 x quota\n", ":1: bad enhanced code \"5.7\""},
    {"550 5.7.1234 x quota\n", ":1: bad enhanced code \"5.7.1234\""},
    {"550 2.0.0 x quota\n", ":1: bad enhanced code \"2.0.0\""},
    {"550 4.7.1 x quota\n",
    ":1: enhanced code 4.7.1 does not go with reply code 5xx"},
    {"4xx 5.7.1 x quota\n",
    ":1: enhanced code 5.7.1 does not go with reply code 4xx"},
    {"550 5.7.1 x full\n", ":1: unknown class \"full\""},
    {"550 5.7.1 x Quota\n", ":1: unknown class \"Quota\""},
    {"550 5.7.1 (unclosed quota\n", ":1: bad regex \"(unclosed\": "},
    {"550 5.7.1 a{2,1} quota\n", ":1: an interval {m,n} in the regex"},
    {"550 5.7.1 (a*)*\\1 quota\n", ":1: a back-reference in the regex"},
    {"550 5.7.1 a+++++++++ quota\n", ":1: more than 8 '+' in the regex"},
    {"550 5.7.1 (x+ quota\n", ":1: bad regex \"(x+\": "},
};

/* test_bad - each mistake names the file, the line and what is wrong */

START_TEST(test_bad)
{
    struct saturation *sat = (struct saturation *) 1;
    char    err[300];

    ck_assert_int_eq(load_text(bad[_i].text, &sat, err, sizeof(err)), -1);
    ck_assert_ptr_eq(sat, NULL);
    ck_assert_msg(strncmp(err, path, strlen(path)) == 0
		  && strstr(err, bad[_i].expect) != 0,
		  "\"%s\" gave \"%s\"", bad[_i].text, err);
}
END_TEST

/* test_limits - rule count, regex length, NUL byte, missing file */

START_TEST(test_limits)
{
    struct saturation *sat;
    static char text[(SAT_RULE_MAX + 1) * 32];
    char    regex[SAT_REGEX_MAX + 40];
    char    err[300];
    size_t  len = 0;
    int     i;

    for (i = 0; i < SAT_RULE_MAX; i++)
	len += (size_t) snprintf(text + len, sizeof(text) - len,
				 "5xx * rule %d quota\n", i);
    ck_assert_int_eq(load_text(text, &sat, err, sizeof(err)), 0);
    ck_assert_int_eq(saturation_classify(sat, 550, "", "rule 255", 0),
		     SAT_QUOTA);
    saturation_free(sat);
    snprintf(text + len, sizeof(text) - len, "5xx * one more quota\n");
    ck_assert_int_eq(load_text(text, &sat, err, sizeof(err)), -1);
    ck_assert_msg(strstr(err, ":257: more than 256 rules"), "%s", err);
    memset(regex, 'a', sizeof(regex));
    snprintf(regex, sizeof(regex), "550 * %0*d quota\n", SAT_REGEX_MAX + 1,
	     0);
    ck_assert_int_eq(load_text(regex, &sat, err, sizeof(err)), -1);
    ck_assert_msg(strstr(err, ":1: regex longer than 512 bytes"), "%s", err);
    write_bytes("550 * x\0y quota\n", 16);
    ck_assert_int_eq(saturation_load(path, &sat, err, sizeof(err)), -1);
    unlink(path);
    ck_assert_msg(strstr(err, ":1: NUL byte in line"), "%s", err);
    ck_assert_int_eq(saturation_load("/nonexistent/rrelay-no-such-file", &sat, err,
				     sizeof(err)), -1);
    ck_assert_msg(strstr(err, "No such file"), "%s", err);
}
END_TEST

int     main(void)
{
    Suite  *s = suite_create("saturation");
    TCase  *tc = tcase_create("classify");

    tcase_add_loop_test(tc, test_builtin, 0,
		   sizeof(builtin_replies) / sizeof(builtin_replies[0]));
    tcase_add_loop_test(tc, test_not_full, 0,
			sizeof(not_full) / sizeof(not_full[0]));
    tcase_add_test(tc, test_null_args);
    tcase_add_test(tc, test_site_rules);
    tcase_add_loop_test(tc, test_bad, 0, sizeof(bad) / sizeof(bad[0]));
    tcase_add_test(tc, test_limits);
    suite_add_tcase(s, tc);
    return (run_suite(s));
}
