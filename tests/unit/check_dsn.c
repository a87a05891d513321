/* SPDX-License-Identifier: MIT */
/* check_dsn - rrelay's own delivery report (transport/dsn.c) */

#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "unit.h"
#include "msg/dsn.h"

/* report_text - dsn_write() into memory, as text */

static void report_text(const struct dsn_report *r, char *out, size_t len)
{
    int     fd = memfd_create("check-dsn", 0);
    ssize_t n;

    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(dsn_write(fd, r), 0);
    ck_assert_int_eq(lseek(fd, 0, SEEK_SET), 0);
    n = read(fd, out, len - 1);
    ck_assert_int_gt(n, 0);
    ck_assert_int_lt(n, (ssize_t) len - 1);
    out[n] = 0;
    close(fd);
}

/* count_lines - lines of text that start with prefix */

static int count_lines(const char *text, const char *prefix)
{
    const char *line;
    int     n = 0;

    for (line = text; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : 0)
	n += strncmp(line, prefix, strlen(prefix)) == 0;
    return (n);
}

START_TEST(test_report)
{
    static char text[16384];
    struct rcpt bad = {"r@example.org\r\nRCPT TO:<evil@example.org>",
	RCPT_PERM, 1, "5.1.3", "bad recipient address syntax: control "
    "character\r\nDATA", ""};
    struct rcpt bad2 = {"a+b=c@x", RCPT_PERM, 1, "5.1.3", "specials", ""};
    const struct rcpt *list[] = {&bad, &bad2};
    struct dsn_report r = {"4XyZ1A", "s@sender.test", "mx.example", list, 2,
    86400};

    report_text(&r, text, sizeof(text));
    ck_assert_int_eq(count_lines(text, "To: <s@sender.test>"), 1);
    ck_assert_int_eq(count_lines(text, "Content-Type: multipart/report; "
				 "report-type=delivery-status;"), 1);
    ck_assert_int_eq(count_lines(text, "Date: Fri, 02 Jan 1970 00:00:00 +0000"), 1);
    ck_assert_int_eq(count_lines(text, "Reporting-MTA: dns; mx.example"), 1);
    ck_assert_int_eq(count_lines(text, "X-Postfix-Queue-ID: 4XyZ1A"), 1);
    ck_assert_int_eq(count_lines(text, "Final-Recipient: rfc822; "
		    "r@example.org+0D+0ARCPT+20TO:<evil@example.org>\n"), 1);
    ck_assert_int_eq(count_lines(text, "Final-Recipient: rfc822; a+2Bb+3Dc@x\n"), 1);
    ck_assert_int_eq(count_lines(text, "Action: failed\n"), 2);
    ck_assert_int_eq(count_lines(text, "Status: 5.1.3\n"), 2);
    ck_assert_int_eq(count_lines(text, "Diagnostic-Code: X-rrelay; bad "
		 "recipient address syntax: control character??DATA\n"), 1);
    /* nothing from the addresses starts a line of its own */
    ck_assert_int_eq(count_lines(text, "RCPT"), 0);
    ck_assert_int_eq(count_lines(text, "DATA"), 0);
    ck_assert_ptr_null(strchr(text, '\r'));
    ck_assert_int_eq(count_lines(text, "--4XyZ1A.86400/mx.example--"), 1);
}
END_TEST

START_TEST(test_xtext)
{
    char    out[64];

    dsn_xtext("plain@example.org", out, sizeof(out));
    ck_assert_str_eq(out, "plain@example.org");
    dsn_xtext("a b\t+=\xff", out, sizeof(out));
    ck_assert_str_eq(out, "a+20b+09+2B+3D+FF");
    dsn_xtext("\r\n\r\n\r\n\r\n", out, 10);	/* cut to fit, whole codes */
    ck_assert_str_eq(out, "+0D+0A+0D");
}
END_TEST

START_TEST(test_write_error)
{
    struct rcpt bad = {"x\ry@z", RCPT_PERM, 1, "5.1.3", "bad", ""};
    const struct rcpt *list[] = {&bad};
    struct dsn_report r = {"Q", "s@x", "mx", list, 1, 0};
    int     fds[2];

    /* A reader that is gone: the write fails, and dsn_write says so. */
    ck_assert_int_eq(pipe(fds), 0);
    close(fds[0]);
    signal(SIGPIPE, SIG_IGN);
    ck_assert_int_eq(dsn_write(fds[1], &r), -1);
    close(fds[1]);
    ck_assert_int_eq(dsn_write(-1, &r), -1);
}
END_TEST

int     main(void)
{
    Suite  *s = suite_create("dsn");
    TCase  *tc = tcase_create("dsn");

    tcase_add_test(tc, test_report);
    tcase_add_test(tc, test_xtext);
    tcase_add_test(tc, test_write_error);
    suite_add_tcase(s, tc);
    return (run_suite(s));
}
