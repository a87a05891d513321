/* SPDX-License-Identifier: MIT */
/* check_smtp_reply - the strict SMTP reply parser */

#include <stdio.h>
#include <string.h>

#include "unit.h"
#include "net/smtp_reply.h"

/* feed_all - feed lines separated by '\n'; return the final status */

static enum reply_status feed_all(struct smtp_reply *r, const char *text,
				          char *err, size_t errlen)
{
    enum reply_status st = REPLY_MORE;
    const char *cp = text;
    const char *nl;

    reply_init(r);
    while (*cp && st == REPLY_MORE) {
	nl = strchr(cp, '\n');
	if (nl == 0)
	    nl = cp + strlen(cp);
	st = reply_feed(r, cp, (size_t) (nl - cp), err, errlen);
	cp = *nl ? nl + 1 : nl;
    }
    return (st);
}

/* test_single - one line with an enhanced status code */

START_TEST(test_single)
{
    struct smtp_reply r;
    char    err[200];

    r.ext = 0;
    ck_assert_int_eq(feed_all(&r, "250 2.0.0 Ok: queued as X", err,
			      sizeof(err)), REPLY_DONE);
    ck_assert_int_eq(r.code, 250);
    ck_assert_str_eq(r.dsn, "2.0.0");
    ck_assert_int_eq(r.has_dsn, 1);
    ck_assert_str_eq(r.text, "250 2.0.0 Ok: queued as X");
}
END_TEST

/* test_derived_dsn - no enhanced code, or one of the wrong class */

START_TEST(test_derived_dsn)
{
    struct smtp_reply r;
    char    err[200];

    r.ext = 0;
    ck_assert_int_eq(feed_all(&r, "451 try later", err, sizeof(err)),
		     REPLY_DONE);
    ck_assert_str_eq(r.dsn, "4.0.0");
    ck_assert_int_eq(r.has_dsn, 0);
    ck_assert_int_eq(feed_all(&r, "550 2.1.1 mismatched", err, sizeof(err)),
		     REPLY_DONE);
    ck_assert_str_eq(r.dsn, "5.0.0");
    ck_assert_int_eq(feed_all(&r, "550 5.1.10x", err, sizeof(err)),
		     REPLY_DONE);
    ck_assert_str_eq(r.dsn, "5.0.0");
    ck_assert_int_eq(feed_all(&r, "550 5.7.23 SPF", err, sizeof(err)),
		     REPLY_DONE);
    ck_assert_str_eq(r.dsn, "5.7.23");
    ck_assert_int_eq(feed_all(&r, "250", err, sizeof(err)), REPLY_DONE);
    ck_assert_int_eq(r.code, 250);
}
END_TEST

/* test_multiline - EHLO keywords are collected, text joined */

START_TEST(test_multiline)
{
    struct smtp_reply r;
    char    ext[8][REPLY_EXT_LEN];
    char    err[200];

    r.ext = ext;
    r.ext_max = 8;
    ck_assert_int_eq(feed_all(&r, "250-mx.example\n250-PIPELINING\n"
			      "250-size 10240000\n250 8BITMIME", err,
			      sizeof(err)), REPLY_DONE);
    ck_assert_int_eq(r.lines, 4);
    ck_assert_int_eq(r.ext_count, 3);
    ck_assert_str_eq(ext[0], "PIPELINING");
    ck_assert_str_eq(ext[1], "SIZE 10240000");
    ck_assert_str_eq(ext[2], "8BITMIME");
    ck_assert_str_eq(r.text, "250-mx.example PIPELINING size 10240000 "
		     "8BITMIME");
}
END_TEST

static const char *malformed[] = {
    "25", "abc hello", "250x", "650 bad class", "150 bad class", "2a0 x",
    "250-a\n251 b",			/* code changes between lines */
};

/* test_malformed - each is a protocol error */

START_TEST(test_malformed)
{
    struct smtp_reply r;
    char    err[200] = "";

    r.ext = 0;
    ck_assert_int_eq(feed_all(&r, malformed[_i], err, sizeof(err)),
		     REPLY_ERROR);
    ck_assert(err[0] != 0);
}
END_TEST

/* test_endless - more than REPLY_LINES_MAX continuation lines */

START_TEST(test_endless)
{
    struct smtp_reply r;
    char    err[200];
    int     i;
    enum reply_status st = REPLY_MORE;

    r.ext = 0;
    reply_init(&r);
    for (i = 0; i < REPLY_LINES_MAX + 5 && st == REPLY_MORE; i++)
	st = reply_feed(&r, "250-more", 8, err, sizeof(err));
    ck_assert_int_eq(st, REPLY_ERROR);
    ck_assert_int_eq(i, REPLY_LINES_MAX + 1);
}
END_TEST

/* test_long_line - a line over REPLY_LINE_MAX is refused */

START_TEST(test_long_line)
{
    static char line[REPLY_LINE_MAX + 10];
    struct smtp_reply r;
    char    err[200];

    memset(line, 'x', sizeof(line));
    memcpy(line, "250 ", 4);
    r.ext = 0;
    reply_init(&r);
    ck_assert_int_eq(reply_feed(&r, line, sizeof(line), err, sizeof(err)),
		     REPLY_ERROR);
    reply_init(&r);
    ck_assert_int_eq(reply_feed(&r, line, REPLY_LINE_MAX, err, sizeof(err)),
		     REPLY_DONE);
    ck_assert_int_eq((int) strlen(r.text), REPLY_TEXT_MAX - 1);
}
END_TEST

/* test_control_chars - control and 8-bit bytes never reach the text */

START_TEST(test_control_chars)
{
    struct smtp_reply r;
    char    err[200];
    const char line[] = "550 5.1.1 bad\rRCPT\x01\xff";

    r.ext = 0;
    reply_init(&r);
    ck_assert_int_eq(reply_feed(&r, line, sizeof(line) - 1, err,
				sizeof(err)), REPLY_DONE);
    ck_assert_str_eq(r.text, "550 5.1.1 bad?RCPT??");
}
END_TEST

struct size_case {
    const char *param;
    long long limit;
};

static const struct size_case size_cases[] = {
    {"10240000", 10240000},
    {"", 0},				/* no parameter: no fixed limit */
    {0, 0},
    {"0", 0},
    {"9223372036854775807", 9223372036854775807LL},
    {"9223372036854775808", 0},		/* overflow: no fixed limit */
    {"99999999999999999999999999", 0},
    {"-1", 0},				/* not digits: ignored */
    {"10M", 0},
    {" 100", 0},
    {"100 ", 0},
};

START_TEST(test_size_limit)
{
    const struct size_case *c = size_cases + _i;

    ck_assert_msg(reply_size_limit(c->param) == c->limit, "\"%s\": %lld",
		  c->param ? c->param : "(null)", reply_size_limit(c->param));
}
END_TEST

int     main(void)
{
    Suite  *s = suite_create("smtp_reply");
    TCase  *tc = tcase_create("parse");

    tcase_add_test(tc, test_single);
    tcase_add_test(tc, test_derived_dsn);
    tcase_add_test(tc, test_multiline);
    tcase_add_loop_test(tc, test_malformed, 0,
			sizeof(malformed) / sizeof(malformed[0]));
    tcase_add_test(tc, test_endless);
    tcase_add_test(tc, test_long_line);
    tcase_add_test(tc, test_control_chars);
    tcase_add_loop_test(tc, test_size_limit, 0,
			sizeof(size_cases) / sizeof(size_cases[0]));
    suite_add_tcase(s, tc);
    return (run_suite(s));
}
