/* SPDX-License-Identifier: MIT */
/* check_hostpolicy - host_policy_file: attributes, defaults, errors, format */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"
#include "conf/hostpolicy.h"

static char path[] = "/tmp/check_hostpolicy.XXXXXX";

/* write_bytes - a temporary file with len bytes of data */

static void write_bytes(const char *data, size_t len)
{
    int     fd;

    strcpy(path, "/tmp/check_hostpolicy.XXXXXX");
    ck_assert_int_ge(fd = mkstemp(path), 0);
    ck_assert_int_eq(write(fd, data, len), (int) len);
    close(fd);
}

/* load_text - load text as host_policy_file; the result */

static int load_text(const char *text, struct host_policy *p, char *err,
		             size_t errlen)
{
    int     status;

    write_bytes(text, strlen(text));
    status = hostpolicy_load(path, p, err, errlen);
    unlink(path);
    return (status);
}

/* test_example - the example file */

START_TEST(test_example)
{
    static struct host_policy p;
    struct host_limits lim;
    char    err[300];

    ck_assert_int_eq(load_text(
	   "# upstreams with limits\n"
	   "[smtp.a.example]:587  weight=3  rate=14/s  max_connections=10  "
	   "quota=50000/d\n"
	   "\n"
	   "  [SMTP.B.example]:587\tweight=1\r\n"
	   "[backup.example]      backup\n", &p, err, sizeof(err)), 0);
    ck_assert_int_eq(p.count, 3);
    hostpolicy_limits(&p, "[smtp.a.example]:587", &lim);
    ck_assert_int_eq(lim.weight, 3);
    ck_assert_int_eq(lim.backup, 0);
    ck_assert_int_eq(lim.rate, 14);
    ck_assert_int_eq(lim.rate_per, 1);
    ck_assert_int_eq(lim.max_conn, 10);
    ck_assert_int_eq(lim.quota, 50000);
    ck_assert_int_eq(lim.quota_per, 86400);
    hostpolicy_limits(&p, "[smtp.b.example]:587", &lim);
    ck_assert_int_eq(lim.weight, 1);
    ck_assert_int_eq(lim.rate, 0);
    ck_assert_int_eq(lim.max_conn, 0);
    ck_assert_int_eq(lim.quota, 0);
    hostpolicy_limits(&p, "[backup.example]", &lim);
    ck_assert_int_eq(lim.backup, 1);
    ck_assert_int_eq(lim.weight, 1);
}
END_TEST

/* test_units - each interval of rate= and quota=, and the bounds */

START_TEST(test_units)
{
    static struct host_policy p;
    struct host_limits lim;
    char    err[300];

    ck_assert_int_eq(load_text(
	   "[a.example] rate=1/m quota=100000000/h weight=100\n"
	   "[b.example] rate=1000000/h max_connections=10000 quota=1/d\n",
	   &p, err, sizeof(err)), 0);
    hostpolicy_limits(&p, "[a.example]", &lim);
    ck_assert_int_eq(lim.rate, 1);
    ck_assert_int_eq(lim.rate_per, 60);
    ck_assert_int_eq(lim.quota, 100000000);
    ck_assert_int_eq(lim.quota_per, 3600);
    ck_assert_int_eq(lim.weight, 100);
    hostpolicy_limits(&p, "[b.example]", &lim);
    ck_assert_int_eq(lim.rate, 1000000);
    ck_assert_int_eq(lim.rate_per, 3600);
    ck_assert_int_eq(lim.max_conn, 10000);
    ck_assert_int_eq(lim.quota_per, 86400);
}
END_TEST

/* test_normalized - "[Mail.Example]:25" and "[mail.example]" are one key */

START_TEST(test_normalized)
{
    static struct host_policy p;
    struct host_limits lim;
    char    err[300];

    ck_assert_int_eq(load_text("[Mail.Example]:25 weight=7\n", &p, err,
			       sizeof(err)), 0);
    ck_assert_str_eq(p.entries[0].dest, "[mail.example]");
    hostpolicy_limits(&p, "[mail.example]", &lim);
    ck_assert_int_eq(lim.weight, 7);
    ck_assert_int_eq(load_text("[mail.example] weight=2\n"
			       "[MAIL.example]:25 backup\n", &p, err,
			       sizeof(err)), -1);
    ck_assert_msg(strstr(err, ":2: [mail.example] is already in the file"),
		  "%s", err);
}
END_TEST

/* test_defaults - absent destination, null policy, empty file */

START_TEST(test_defaults)
{
    static struct host_policy p;
    struct host_limits lim;
    char    err[300];

    memset(&lim, 0x55, sizeof(lim));
    hostpolicy_limits(0, "[a.example]", &lim);
    ck_assert_int_eq(lim.weight, 1);
    ck_assert_int_eq(lim.backup, 0);
    ck_assert_int_eq(lim.rate, 0);
    ck_assert_int_eq(lim.rate_per, 1);
    ck_assert_int_eq(lim.max_conn, 0);
    ck_assert_int_eq(lim.quota, 0);
    ck_assert_int_eq(lim.quota_per, 86400);
    ck_assert_int_eq(load_text("# nothing\n\n", &p, err, sizeof(err)), 0);
    ck_assert_int_eq(p.count, 0);
    ck_assert_int_eq(load_text("[a.example] weight=5\n", &p, err,
			       sizeof(err)), 0);
    hostpolicy_limits(&p, "[b.example]", &lim);
    ck_assert_int_eq(lim.weight, 1);
    ck_assert_int_eq(hostpolicy_load("/nonexistent/rrelay-no-such-file", &p, err,
				     sizeof(err)), -1);
    ck_assert_msg(strstr(err, "/nonexistent/rrelay-no-such-file: No such file"),
		  "%s", err);
}
END_TEST

struct bad_case {
    const char *text;
    const char *expect;
};

static const struct bad_case bad[] = {
    {"[a.example] weight=0\n", ":1: weight=0: weight must be 1 to 100"},
    {"[a.example] weight=101\n", ":1: weight=101: weight must be 1 to 100"},
    {"[a.example] weight=\n", ":1: weight=: weight must be 1 to 100"},
    {"[a.example] weight=3x\n", ":1: weight=3x: weight must be 1 to 100"},
    {"[a.example] weight=-1\n", ":1: weight=-1: weight must be 1 to 100"},
    {"[a.example] weight=99999999999999999999999\n",
    "weight must be 1 to 100"},
    {"[a.example] weight\n", ":1: weight: weight needs a value"},
    {"[a.example] backup=1\n", ":1: backup=1: backup takes no value"},
    {"\n[a.example] weight=2 weight=2\n", ":2: weight given twice"},
    {"[a.example] backup backup\n", ":1: backup given twice"},
    {"[a.example] speed=9\n", ":1: unknown attribute \"speed=9\""},
    {"[a.example] Weight=2\n", ":1: unknown attribute \"Weight=2\""},
    {"[a.example] rate=14\n", ":1: rate=14: rate needs a unit: N/s, N/m or N/h"},
    {"[a.example] rate=14/d\n", ":1: rate=14/d: rate needs a unit"},
    {"[a.example] rate=14/ss\n", ":1: rate=14/ss: rate needs a unit"},
    {"[a.example] rate=0/s\n", ":1: rate=0/s: rate must be 1 to 1000000"},
    {"[a.example] rate=1000001/s\n", "rate must be 1 to 1000000 per s"},
    {"[a.example] rate=/s\n", "rate=/s: rate must be 1 to 1000000"},
    {"[a.example] quota=5/m\n", ":1: quota=5/m: quota needs a unit: N/d or N/h"},
    {"[a.example] quota=100000001/d\n", "quota must be 1 to 100000000"},
    {"[a.example] max_connections=0\n",
    ":1: max_connections=0: max_connections must be 1 to 10000"},
    {"[a.example] max_connections=10001\n", "must be 1 to 10000"},
    {"[a.example]:0 weight=2\n", ":1: bad destination"},
    {"[a.example],[b.example] weight=2\n", ":1: one destination per line"},
};

/* test_bad - each mistake names the file, the line and what is wrong */

START_TEST(test_bad)
{
    static struct host_policy p;
    char    err[300];

    ck_assert_int_eq(load_text(bad[_i].text, &p, err, sizeof(err)), -1);
    ck_assert_msg(strncmp(err, path, strlen(path)) == 0
		  && strstr(err, bad[_i].expect) != 0,
		  "\"%s\" gave \"%s\"", bad[_i].text, err);
    ck_assert_int_eq(p.count, 0);
}
END_TEST

/* test_too_many - HOSTPOLICY_MAX destinations, and not one more */

START_TEST(test_too_many)
{
    static struct host_policy p;
    static char text[(HOSTPOLICY_MAX + 1) * 40];
    char    err[300];
    size_t  len = 0;
    int     i;

    for (i = 0; i < HOSTPOLICY_MAX; i++)
	len += (size_t) snprintf(text + len, sizeof(text) - len,
				 "[h%d.example] weight=2\n", i);
    ck_assert_int_eq(load_text(text, &p, err, sizeof(err)), 0);
    ck_assert_int_eq(p.count, HOSTPOLICY_MAX);
    snprintf(text + len, sizeof(text) - len, "[one.more.example]\n");
    ck_assert_int_eq(load_text(text, &p, err, sizeof(err)), -1);
    ck_assert_msg(strstr(err, ":257: more than 256 destinations"), "%s", err);
}
END_TEST

/* test_nul_long - a NUL byte or an over-long line is refused */

START_TEST(test_nul_long)
{
    static struct host_policy p;
    static char text[4096];
    char    err[300];

    write_bytes("[a.example] weight=2\0 backup\n", 29);
    ck_assert_int_eq(hostpolicy_load(path, &p, err, sizeof(err)), -1);
    unlink(path);
    ck_assert_msg(strstr(err, ":1: NUL byte in line"), "%s", err);
    memset(text, ' ', 3000);
    memcpy(text + 3000, "[a.example]\n", 13);
    ck_assert_int_eq(load_text(text, &p, err, sizeof(err)), -1);
    ck_assert_msg(strstr(err, ":1: ") != 0, "%s", err);
}
END_TEST

/* test_format - canonical text, defaults left out, and too small buffers */

START_TEST(test_format)
{
    static struct host_policy p;
    struct host_limits lim;
    char    buf[200];
    char    err[300];
    const char *full = "weight=3 rate=14/s max_connections=10 "
    "quota=50000/d backup";

    ck_assert_int_eq(load_text("[a.example] backup quota=50000/d "
			       "max_connections=10 rate=14/s weight=3\n"
			       "[b.example] rate=2/h quota=7/h\n"
			       "[c.example] weight=1\n", &p, err,
			       sizeof(err)), 0);
    hostpolicy_limits(&p, "[a.example]", &lim);
    ck_assert_int_eq(hostpolicy_format(&lim, buf, sizeof(buf)),
		     (int) strlen(full));
    ck_assert_str_eq(buf, full);
    ck_assert_int_eq(hostpolicy_format(&lim, buf, strlen(full) + 1),
		     (int) strlen(full));
    ck_assert_int_eq(hostpolicy_format(&lim, buf, strlen(full)), -1);
    ck_assert_str_eq(buf, "");
    ck_assert_int_eq(hostpolicy_format(&lim, buf, 0), -1);
    hostpolicy_limits(&p, "[b.example]", &lim);
    ck_assert_int_eq(hostpolicy_format(&lim, buf, sizeof(buf)), 18);
    ck_assert_str_eq(buf, "rate=2/h quota=7/h");
    hostpolicy_limits(&p, "[c.example]", &lim);
    ck_assert_int_eq(hostpolicy_format(&lim, buf, sizeof(buf)), 0);
    ck_assert_str_eq(buf, "");
}
END_TEST

int     main(void)
{
    Suite  *s = suite_create("hostpolicy");
    TCase  *tc = tcase_create("file");

    tcase_add_test(tc, test_example);
    tcase_add_test(tc, test_units);
    tcase_add_test(tc, test_normalized);
    tcase_add_test(tc, test_defaults);
    tcase_add_loop_test(tc, test_bad, 0, sizeof(bad) / sizeof(bad[0]));
    tcase_add_test(tc, test_too_many);
    tcase_add_test(tc, test_nul_long);
    tcase_add_test(tc, test_format);
    suite_add_tcase(s, tc);
    return (run_suite(s));
}
