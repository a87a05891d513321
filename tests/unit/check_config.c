/* SPDX-License-Identifier: MIT */
/* check_config - the shared NAME = VALUE loader and rrelay's settings */

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"
#include "config.h"
#include "conf/rrconfig.h"

struct demo {
    char   *name;
    long    timeout;
    long    count;
    int     flag;
    int     mode;
};

/* no_digits - a check hook: the value may not contain digits */

static int no_digits(const char *value, char *why, size_t whylen)
{
    if (strpbrk(value, "0123456789") == 0)
	return (0);
    snprintf(why, whylen, "\"%s\" has digits", value);
    return (-1);
}

static const struct cf_entry table[] = {
    {"name", CF_STR, "default", 0, 0, 0, offsetof(struct demo, name),
    no_digits},
    {"timeout", CF_TIME, "10s", 1, 3600, 0, offsetof(struct demo, timeout), 0},
    {"count", CF_INT, "3", 0, 10, 0, offsetof(struct demo, count), 0},
    {"flag", CF_BOOL, "no", 0, 0, 0, offsetof(struct demo, flag), 0},
    {"mode", CF_ENUM, "a", 0, 0, "a|bb|c", offsetof(struct demo, mode), 0},
    {0},
};

static char path[] = "/tmp/check_config.XXXXXX";

/* write_file - the test's config file */

static void write_file(const char *text)
{
    FILE   *fp;
    int     fd;

    strcpy(path, "/tmp/check_config.XXXXXX");
    ck_assert_int_ge(fd = mkstemp(path), 0);
    ck_assert_ptr_ne(fp = fdopen(fd, "w"), NULL);
    fputs(text, fp);
    fclose(fp);
}

/* load - load the file with overrides; err gets the message */

static int load(struct demo *d, const char *text, char **over, int n,
		        char *err, size_t errlen)
{
    int     status;

    memset(d, 0, sizeof(*d));
    write_file(text);
    status = cf_load(table, d, path, 1, over, n, err, errlen);
    unlink(path);
    return (status);
}

/* test_times - Postfix time syntax */

START_TEST(test_times)
{
    long    t;

    ck_assert_int_eq(cf_parse_time("90", &t), 0);
    ck_assert_int_eq(t, 90);
    ck_assert_int_eq(cf_parse_time("90s", &t), 0);
    ck_assert_int_eq(t, 90);
    ck_assert_int_eq(cf_parse_time("10m", &t), 0);
    ck_assert_int_eq(t, 600);
    ck_assert_int_eq(cf_parse_time("2h", &t), 0);
    ck_assert_int_eq(t, 7200);
    ck_assert_int_eq(cf_parse_time("1d", &t), 0);
    ck_assert_int_eq(t, 86400);
    ck_assert_int_eq(cf_parse_time("1w", &t), 0);
    ck_assert_int_eq(t, 604800);
    ck_assert_int_eq(cf_parse_time("", &t), -1);
    ck_assert_int_eq(cf_parse_time("-5s", &t), -1);
    ck_assert_int_eq(cf_parse_time("5x", &t), -1);
    ck_assert_int_eq(cf_parse_time("5ss", &t), -1);
    ck_assert_int_eq(cf_parse_time("99999999999999999999", &t), -1);
}
END_TEST

/* test_enum_exact - a value names one whole choice, never a run of them */

START_TEST(test_enum_exact)
{
    ck_assert_int_eq(cf_enum_index("a|bb|c", "a"), 0);
    ck_assert_int_eq(cf_enum_index("a|bb|c", "bb"), 1);
    ck_assert_int_eq(cf_enum_index("a|bb|c", "c"), 2);
    ck_assert_int_eq(cf_enum_index("a|bb|c", "b"), -1);
    ck_assert_int_eq(cf_enum_index("a|bb|c", ""), -1);
    ck_assert_int_eq(cf_enum_index("a|bb|c", "a|bb"), -1);
    ck_assert_int_eq(cf_enum_index("a|bb|c", "bb|c"), -1);
    ck_assert_int_eq(cf_enum_index("a|bb|c", "a|bb|c"), -1);
    ck_assert_int_eq(cf_enum_index("a|bb|c", "c|"), -1);
    ck_assert_int_eq(cf_enum_index(TLS_LEVEL_NAMES, "none|may"), -1);
    ck_assert_int_eq(cf_enum_index(TLS_LEVEL_NAMES, "secure"), TLS_SECURE);
}
END_TEST

/* test_file - values, comments, continuation, last one wins, overrides */

START_TEST(test_file)
{
    struct demo d;
    char    err[CF_ERR_MAX];
    char   *over[] = {"count = 7", "flag=yes"};

    ck_assert_int_eq(load(&d, "# comment\n\nname = one\n  two\n"
			  "timeout = 2m\ncount=1\nmode = bb\nname = x y\n"
			  "  z\n", over, 2, err, sizeof(err)), 0);
    ck_assert_str_eq(d.name, "x y z");
    ck_assert_int_eq(d.timeout, 120);
    ck_assert_int_eq(d.count, 7);
    ck_assert_int_eq(d.flag, 1);
    ck_assert_int_eq(d.mode, 1);
    cf_free(table, &d);
    ck_assert_ptr_eq(d.name, NULL);
}
END_TEST

struct error_case {
    const char *text;
    const char *expect;			/* after the file name */
};

static const struct error_case errors[] = {
    {"name = a\nbogus = 1\n", ":2: unknown setting \"bogus\""},
    {"timeout = soon\n", ":1: bad time value \"soon\""},
    {"\n\ntimeout = 2h\n", ":3: value \"2h\" for timeout is out of range"},
    {"count = 3x\n", ":1: bad number"},
    {"flag = perhaps\n", ":1: bad value \"perhaps\" for flag"},
    {"mode = b\n", ":1: bad value \"b\" for mode (want one of: a|bb|c)"},
    {"mode = a|bb\n", ":1: bad value \"a|bb\" for mode"},
    {"mode = bb|c\n", ":1: bad value \"bb|c\" for mode"},
    {"just words\n", ":1: missing '='"},
    {"  leading\n", ":1: continuation line"},
    {"= 5\n", ":1: missing setting name"},
    {"# x\nname = r2d2\n", ":2: name: \"r2d2\" has digits"},
};

/* test_errors - each error names the file and line */

START_TEST(test_errors)
{
    struct demo d;
    char    err[CF_ERR_MAX];

    ck_assert_int_eq(load(&d, errors[_i].text, 0, 0, err, sizeof(err)), -1);
    ck_assert_msg(strncmp(err, path, strlen(path)) == 0, "%s", err);
    ck_assert_msg(strstr(err, errors[_i].expect) != 0, "%s", err);
    cf_free(table, &d);
}
END_TEST

/* test_override_error - a bad -o names itself */

START_TEST(test_override_error)
{
    struct demo d;
    char    err[CF_ERR_MAX];
    char   *over[] = {"nope=1"};
    char   *checked[] = {"name=c3po"};

    ck_assert_int_eq(load(&d, "", over, 1, err, sizeof(err)), -1);
    ck_assert_str_eq(err, "-o nope=1: unknown setting \"nope\"");
    cf_free(table, &d);
    ck_assert_int_eq(load(&d, "", checked, 1, err, sizeof(err)), -1);
    ck_assert_str_eq(err, "-o name=c3po: name: \"c3po\" has digits");
    cf_free(table, &d);
}
END_TEST

/* test_nul_byte - a NUL byte neither cuts a line short nor starts one */

START_TEST(test_nul_byte)
{
    static char text[CF_LINE_MAX + 100];
    struct demo d;
    char    err[CF_ERR_MAX];
    FILE   *fp;
    int     fd;
    size_t  len;

    /* a comment, a NUL, padding to fgets()'s buffer, then a setting */
    memcpy(text, "# c", 4);
    memset(text + 4, 'x', CF_LINE_MAX + 1 - 4);
    len = CF_LINE_MAX + 1;
    memcpy(text + len, "name = hidden\n", 14);
    len += 14;
    strcpy(path, "/tmp/check_config.XXXXXX");
    ck_assert_int_ge(fd = mkstemp(path), 0);
    ck_assert_ptr_ne(fp = fdopen(fd, "w"), NULL);
    ck_assert_int_eq(fwrite(text, 1, len, fp), len);
    fclose(fp);
    memset(&d, 0, sizeof(d));
    ck_assert_int_eq(cf_load(table, &d, path, 1, 0, 0, err, sizeof(err)), -1);
    ck_assert_msg(strstr(err, ":1: NUL byte in line") != 0, "%s", err);
    cf_free(table, &d);
    unlink(path);
}
END_TEST

/* test_missing_file - optional file may be absent; a required one not */

START_TEST(test_missing_file)
{
    struct demo d;
    char    err[CF_ERR_MAX];

    memset(&d, 0, sizeof(d));
    ck_assert_int_eq(cf_load(table, &d, "/nonexistent/x.conf", 0, 0, 0, err,
			     sizeof(err)), 0);
    ck_assert_str_eq(d.name, "default");
    ck_assert_int_eq(cf_load(table, &d, "/nonexistent/x.conf", 1, 0, 0, err,
			     sizeof(err)), -1);
    ck_assert_ptr_ne(strstr(err, "/nonexistent/x.conf"), NULL);
    cf_free(table, &d);
}
END_TEST

/* test_origin - which line or -o set a value, for errors found after loading */

START_TEST(test_origin)
{
    char    buf[CF_ERR_MAX];
    char    want[CF_ERR_MAX];
    char   *over[] = {"count=2", " name = q", "count = 3", "counter=9"};

    write_file("# comment\nname = a\ncount = 1\n\nname = b\n  c\n"
	       "countdown = 4\n");
    ck_assert_int_eq(cf_origin("name", path, 0, 0, buf, sizeof(buf)), 1);
    snprintf(want, sizeof(want), "%s:5", path);
    ck_assert_str_eq(buf, want);
    ck_assert_int_eq(cf_origin("count", path, 0, 0, buf, sizeof(buf)), 1);
    snprintf(want, sizeof(want), "%s:3", path);
    ck_assert_str_eq(buf, want);
    /* a default: the path alone */
    ck_assert_int_eq(cf_origin("timeout", path, 0, 0, buf, sizeof(buf)), 0);
    ck_assert_str_eq(buf, path);
    /* -o wins over the file, and the last -o wins */
    ck_assert_int_eq(cf_origin("count", path, over, 4, buf, sizeof(buf)), 1);
    ck_assert_str_eq(buf, "-o count = 3");
    ck_assert_int_eq(cf_origin("name", path, over, 4, buf, sizeof(buf)), 1);
    ck_assert_str_eq(buf, "-o  name = q");
    unlink(path);
    /* no file: the path alone */
    ck_assert_int_eq(cf_origin("name", path, 0, 0, buf, sizeof(buf)), 0);
    ck_assert_str_eq(buf, path);
}
END_TEST

/* test_rrelay_cross_checks - errors found after loading name the line */

START_TEST(test_rrelay_cross_checks)
{
    struct rrconfig conf;
    char    err[CF_ERR_MAX];
    char    want[CF_ERR_MAX];
    char   *max_low[] = {"max_backoff=30s"};

    write_file("# rrelay\nbackoff = 10m\n\nmax_backoff = 1m\n");
    ck_assert_int_eq(rrconfig_load(&conf, path, 1, 0, 0, err,
				   sizeof(err)), -1);
    snprintf(want, sizeof(want), "%s:4: max_backoff (60s) is less than "
	     "backoff (600s)", path);
    ck_assert_str_eq(err, want);
    rrconfig_free(&conf);
    unlink(path);

    /* max_backoff left at its default (10m): backoff's line is named */
    write_file("log = stderr\nbackoff = 20m\n");
    ck_assert_int_eq(rrconfig_load(&conf, path, 1, 0, 0, err,
				   sizeof(err)), -1);
    snprintf(want, sizeof(want), "%s:2: max_backoff (600s) is less than "
	     "backoff (1200s)", path);
    ck_assert_str_eq(err, want);
    rrconfig_free(&conf);
    ck_assert_int_eq(rrconfig_load(&conf, path, 1, max_low, 1, err,
				   sizeof(err)), -1);
    ck_assert_str_eq(err, "-o max_backoff=30s: max_backoff (30s) is less "
		     "than backoff (1200s)");
    rrconfig_free(&conf);
    unlink(path);

    write_file("\nhelo_name = mx.example\nhelo_name = bad name\n");
    ck_assert_int_eq(rrconfig_load(&conf, path, 1, 0, 0, err,
				   sizeof(err)), -1);
    snprintf(want, sizeof(want), "%s:3: helo_name \"bad name\" is not a "
	     "valid host name", path);
    ck_assert_str_eq(err, want);
    rrconfig_free(&conf);
    unlink(path);

    write_file("auth_mechanisms = plain, cram-md5\n");
    ck_assert_int_eq(rrconfig_load(&conf, path, 1, 0, 0, err,
				   sizeof(err)), -1);
    snprintf(want, sizeof(want), "%s:1: auth_mechanisms \"plain, cram-md5\" "
	     "must list plain and/or login", path);
    ck_assert_str_eq(err, want);
    rrconfig_free(&conf);
    unlink(path);
}
END_TEST

/* test_rrelay_settings - rrelay's defaults and cross-checks */

START_TEST(test_rrelay_settings)
{
    struct rrconfig conf;
    char    err[CF_ERR_MAX];
    char   *bad_backoff[] = {"backoff=10m", "max_backoff=1m"};
    char   *relative[] = {"sendmail_path=sendmail"};
    char   *bad_helo[] = {"helo_name=a b"};

    ck_assert_int_eq(rrconfig_load(&conf, "/nonexistent", 0, 0, 0, err,
				   sizeof(err)), 0);
    ck_assert_str_eq(conf.state_directory, "/var/lib/rrelay");
    ck_assert_int_eq(conf.connect_timeout, 10);
    ck_assert_int_eq(conf.command_timeout, 60);
    ck_assert_int_eq(conf.data_timeout, 180);
    ck_assert_int_eq(conf.deadline, 900);
    ck_assert_int_eq(conf.backoff, 60);
    ck_assert_int_eq(conf.max_backoff, 600);
    ck_assert_str_eq(conf.log, "syslog");
    ck_assert_str_eq(conf.sendmail_path, "/usr/sbin/sendmail");
    /* the host's FQDN, or empty (the connection's address literal): never a bare name */
    ck_assert(conf.helo_name[0] == 0 || strchr(conf.helo_name, '.') != 0);
    rrconfig_free(&conf);
    ck_assert_int_eq(rrconfig_load(&conf, "/nonexistent", 0, bad_backoff, 2,
				   err, sizeof(err)), -1);
    ck_assert_ptr_ne(strstr(err, "max_backoff"), NULL);
    rrconfig_free(&conf);
    ck_assert_int_eq(rrconfig_load(&conf, "/nonexistent", 0, relative, 1,
				   err, sizeof(err)), -1);
    ck_assert_str_eq(err, "-o sendmail_path=sendmail: sendmail_path: "
		     "\"sendmail\" is not an absolute path");
    rrconfig_free(&conf);
    ck_assert_int_eq(rrconfig_load(&conf, "/nonexistent", 0, bad_helo, 1,
				   err, sizeof(err)), -1);
    rrconfig_free(&conf);
}
END_TEST

int     main(void)
{
    Suite  *s = suite_create("config");
    TCase  *tc = tcase_create("load");

    tcase_add_test(tc, test_times);
    tcase_add_test(tc, test_enum_exact);
    tcase_add_test(tc, test_file);
    tcase_add_loop_test(tc, test_errors, 0, sizeof(errors) / sizeof(errors[0]));
    tcase_add_test(tc, test_override_error);
    tcase_add_test(tc, test_nul_byte);
    tcase_add_test(tc, test_missing_file);
    tcase_add_test(tc, test_rrelay_settings);
    tcase_add_test(tc, test_origin);
    tcase_add_test(tc, test_rrelay_cross_checks);
    suite_add_tcase(s, tc);
    return (run_suite(s));
}
