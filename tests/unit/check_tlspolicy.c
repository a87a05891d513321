/* SPDX-License-Identifier: MIT */
/* check_tlspolicy - tls_policy_file, auth_file and the AUTH encoders */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unit.h"
#include "smtp/smtp_auth.h"
#include "conf/tlspolicy.h"

static char path[] = "/tmp/check_tlspolicy.XXXXXX";

/* write_bytes - a temporary file with len bytes of data and mode */

static void write_bytes(const char *data, size_t len, mode_t mode)
{
    int     fd;

    strcpy(path, "/tmp/check_tlspolicy.XXXXXX");
    ck_assert_int_ge(fd = mkstemp(path), 0);
    ck_assert_int_eq(write(fd, data, len), (int) len);
    close(fd);
    ck_assert_int_eq(chmod(path, mode), 0);
}

/* write_file - a temporary file with the text and mode */

static void write_file(const char *text, mode_t mode)
{
    write_bytes(text, strlen(text), mode);
}

/* test_policy - levels, match=, wrapper, normalized keys */

START_TEST(test_policy)
{
    static struct tls_policy p;
    const struct tls_policy_entry *e;
    char    err[300];

    write_file("# provider\n[Smtp.Example.COM]:587 secure "
	       "match=smtp.example.com:.example.com\n\n"
	       "[smtp.example.com]:465 encrypt wrapper\n"
	       "  [10.0.0.1] none\n", 0644);
    ck_assert_int_eq(tlspolicy_load(path, &p, err, sizeof(err)), 0);
    unlink(path);
    ck_assert_int_eq(p.count, 3);
    ck_assert_ptr_ne(e = tlspolicy_find(&p, "[smtp.example.com]:587"), NULL);
    ck_assert_int_eq(e->level, TLS_SECURE);
    ck_assert_str_eq(e->match, "smtp.example.com:.example.com");
    ck_assert_int_eq(e->wrapper, 0);
    ck_assert_ptr_ne(e = tlspolicy_find(&p, "[smtp.example.com]:465"), NULL);
    ck_assert_int_eq(e->level, TLS_ENCRYPT);
    ck_assert_int_eq(e->wrapper, 1);
    ck_assert_ptr_ne(e = tlspolicy_find(&p, "[10.0.0.1]"), NULL);
    ck_assert_int_eq(e->level, TLS_NONE);
    ck_assert_ptr_eq(tlspolicy_find(&p, "[smtp.example.com]"), NULL);
}
END_TEST

struct bad_case {
    const char *text;
    const char *expect;
};

static const struct bad_case bad_policy[] = {
    {"[a.example]:25\n", ":1: missing security level"},
    {"[a.example] strong\n", ":1: unknown security level \"strong\""},
    {"[a.example] none|may\n", ":1: unknown security level \"none|may\""},
    {"\n[a.example] may speed=9\n", ":2: unknown attribute"},
    {"[a.example] none wrapper\n", ":1: wrapper needs a level"},
    {"[a.example]:0 may\n", ":1: bad destination"},
};

/* test_bad_policy - each mistake names file and line */

START_TEST(test_bad_policy)
{
    static struct tls_policy p;
    char    err[300];

    write_file(bad_policy[_i].text, 0644);
    ck_assert_int_eq(tlspolicy_load(path, &p, err, sizeof(err)), -1);
    unlink(path);
    ck_assert_msg(strstr(err, path) && strstr(err, bad_policy[_i].expect),
		  "%s", err);
}
END_TEST

/* test_auth - user and password (the rest of the line) per destination */

START_TEST(test_auth)
{
    static struct auth_table t;
    const struct auth_entry *e;
    char    err[300];

    write_file("[smtp.example.com]:587 alice s3cret with spaces \n"
	       "[b.example] bob pw\n", 0600);
    ck_assert_int_eq(authfile_load(path, &t, err, sizeof(err)), 0);
    unlink(path);
    ck_assert_ptr_ne(e = authfile_find(&t, "[smtp.example.com]:587"), NULL);
    ck_assert_str_eq(e->user, "alice");
    ck_assert_str_eq(e->pass, "s3cret with spaces");
    ck_assert_ptr_ne(e = authfile_find(&t, "[b.example]"), NULL);
    ck_assert_str_eq(e->pass, "pw");
    authfile_wipe(&t);
    ck_assert_int_eq(t.count, 0);
    ck_assert_ptr_eq(authfile_find(&t, "[b.example]"), NULL);
}
END_TEST

/* test_auth_mode - a file others can read or write is refused */

START_TEST(test_auth_mode)
{
    static struct auth_table t;
    char    err[300];
    static const mode_t bad[] = {0644, 0604, 0620, 0666};
    size_t  i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
	write_file("[b.example] bob pw\n", bad[i]);
	ck_assert_int_eq(authfile_load(path, &t, err, sizeof(err)), -1);
	unlink(path);
	ck_assert_ptr_ne(strstr(err, "chmod 600"), NULL);
	ck_assert_ptr_eq(strstr(err, "pw"), NULL);
    }
    write_file("[b.example] bob pw\n", 0640);
    ck_assert_int_eq(authfile_load(path, &t, err, sizeof(err)), 0);
    unlink(path);
    write_file("[b.example] bob\n", 0600);
    ck_assert_int_eq(authfile_load(path, &t, err, sizeof(err)), -1);
    unlink(path);
    ck_assert_ptr_ne(strstr(err, ":1: missing or over-long password"), NULL);
}
END_TEST

/* test_nul_byte - a comment can't hide an entry behind a NUL byte */

START_TEST(test_nul_byte)
{
    static struct tls_policy p;
    static struct auth_table t;
    static char text[4096];
    char    err[300];
    size_t  len;

    /* a comment, a NUL, padding to fgets()'s buffer, then an entry */
    memcpy(text, "# c", 4);
    memset(text + 4, 'x', 2049 - 4);
    len = 2049;
    memcpy(text + len, "[b.example] none\n", 17);
    len += 17;
    write_bytes(text, len, 0600);
    ck_assert_int_eq(tlspolicy_load(path, &p, err, sizeof(err)), -1);
    ck_assert_msg(strstr(err, ":1: NUL byte in line") != 0, "%s", err);
    unlink(path);
    write_bytes("[a.example] user pass\0word\n", 27, 0600);
    ck_assert_int_eq(authfile_load(path, &t, err, sizeof(err)), -1);
    ck_assert_msg(strstr(err, ":1: NUL byte in line") != 0, "%s", err);
    unlink(path);
}
END_TEST

/* test_mechanisms - the first wanted one the server offers */

START_TEST(test_mechanisms)
{
    ck_assert_str_eq(auth_choose("PLAIN LOGIN", "plain, login"), "PLAIN");
    ck_assert_str_eq(auth_choose("LOGIN PLAIN", "login plain"), "LOGIN");
    ck_assert_str_eq(auth_choose("CRAM-MD5 LOGIN", "plain, login"), "LOGIN");
    ck_assert_str_eq(auth_choose("=LOGIN PLAIN", "plain"), "PLAIN");
    ck_assert_ptr_eq(auth_choose("CRAM-MD5 PLAINX", "plain, login"), NULL);
    ck_assert_ptr_eq(auth_choose("", "plain"), NULL);
}
END_TEST

/* test_encoding - RFC 4616 PLAIN and base64 */

START_TEST(test_encoding)
{
    char    out[100];

    ck_assert_int_eq(auth_plain("tim", "tanstaaftanstaaf", out, sizeof(out)),
		     0);
    ck_assert_str_eq(out, "AHRpbQB0YW5zdGFhZnRhbnN0YWFm");
    ck_assert_int_eq(auth_base64("user", 4, out, sizeof(out)), 0);
    ck_assert_str_eq(out, "dXNlcg==");
    ck_assert_int_eq(auth_base64("user", 4, out, 8), -1);
}
END_TEST

int     main(void)
{
    Suite  *s = suite_create("tlspolicy");
    TCase  *tc = tcase_create("files");

    tcase_add_test(tc, test_policy);
    tcase_add_loop_test(tc, test_bad_policy, 0,
			sizeof(bad_policy) / sizeof(bad_policy[0]));
    tcase_add_test(tc, test_auth);
    tcase_add_test(tc, test_auth_mode);
    tcase_add_test(tc, test_nul_byte);
    tcase_add_test(tc, test_mechanisms);
    tcase_add_test(tc, test_encoding);
    suite_add_tcase(s, tc);
    return (run_suite(s));
}
