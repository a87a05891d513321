/* SPDX-License-Identifier: MIT */
/* check_heloname - the default HELO name and its minute in the state directory */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "unit.h"
#include "conf/heloname.h"

#define HOST	"localhost"		/* unqualified, and in /etc/hosts */

struct dir {
    char    path[64];
    char    file[128];
};

/* make_dir - a state directory of its own, with a HELO_FILE of text (0: none) dated at */

static void make_dir(struct dir *d, const char *text, time_t at)
{
    struct timeval tv[2];
    FILE   *fp;

    snprintf(d->path, sizeof(d->path), "/tmp/check_heloname.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(d->path));
    snprintf(d->file, sizeof(d->file), "%s/%s", d->path, HELO_FILE);
    if (text == 0)
	return;
    ck_assert_ptr_nonnull(fp = fopen(d->file, "w"));
    fputs(text, fp);
    ck_assert_int_eq(fclose(fp), 0);
    tv[0].tv_sec = tv[1].tv_sec = at;
    tv[0].tv_usec = tv[1].tv_usec = 0;
    ck_assert_int_eq(utimes(d->file, tv), 0);
}

/* file_text - what HELO_FILE holds now */

static char *file_text(const struct dir *d, char *buf, size_t len)
{
    FILE   *fp = fopen(d->file, "r");

    buf[0] = 0;
    if (fp) {
	if (fgets(buf, (int) len, fp) == 0)
	    buf[0] = 0;
	fclose(fp);
    }
    return (buf);
}

/* remove_dir - the directory and what the test left in it */

static void remove_dir(const struct dir *d)
{
    (void) unlink(d->file);
    ck_assert_int_eq(rmdir(d->path), 0);
}

/* looked_up - what a lookup gives here, through a directory that has no file */

static char *looked_up(time_t now)
{
    return (heloname_default("/nonexistent/check_heloname", HOST, now));
}

/* test_fresh_file - a fresh file is the answer: no lookup */

START_TEST(test_fresh_file)
{
    time_t  now = time(0);
    struct dir d;
    char   *name;

    make_dir(&d, HOST " cached.example\n", now - 5);
    name = heloname_default(d.path, HOST, now);
    ck_assert_str_eq(name, "cached.example");
    free(name);
    remove_dir(&d);
}
END_TEST

/* test_stale_file - older than HELO_CACHE_S, in the future, or not a name: looked up and replaced */

START_TEST(test_stale_file)
{
    static const struct {
	const char *text;
	int     age;
    }       cases[] = {
	{HOST " cached.example\n", HELO_CACHE_S},
	{HOST " cached.example\n", -30},
	{HOST " bad name!\n", 1},
	{HOST " cached.example", 1},		/* no newline: cut short */
	{"otherhost cached.example\n", 1},	/* another host name's */
	{"cached.example\n", 1},		/* no host name */
    };
    time_t  now = time(0);
    char   *want = looked_up(now);
    char    expect[300];
    char    buf[300];
    struct dir d;
    char   *name;

    make_dir(&d, cases[_i].text, now - cases[_i].age);
    name = heloname_default(d.path, HOST, now);
    ck_assert_str_eq(name, want);
    snprintf(expect, sizeof(expect), HOST " %s\n", want);
    ck_assert_str_eq(file_text(&d, buf, sizeof(buf)), expect);
    free(name);
    free(want);
    remove_dir(&d);
}
END_TEST

/* test_written - a lookup leaves the file for the next process */

START_TEST(test_written)
{
    time_t  now = time(0);
    struct dir d;
    struct stat st;
    char    expect[300];
    char    buf[300];
    char   *name;

    make_dir(&d, 0, 0);
    name = heloname_default(d.path, HOST, now);
    snprintf(expect, sizeof(expect), HOST " %s\n", name);
    ck_assert_str_eq(file_text(&d, buf, sizeof(buf)), expect);
    ck_assert_int_eq(stat(d.file, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0644 & ~umask(022));
    free(name);
    remove_dir(&d);
}
END_TEST

/* test_process_cache - within HELO_CACHE_S the process keeps its answer */

START_TEST(test_process_cache)
{
    time_t  now = time(0);
    char   *want = looked_up(now + HELO_CACHE_S);
    struct dir d;
    char   *name;
    FILE   *fp;

    make_dir(&d, HOST " one.example\n", now);
    name = heloname_default(d.path, HOST, now);
    ck_assert_str_eq(name, "one.example");
    free(name);
    ck_assert_ptr_nonnull(fp = fopen(d.file, "w"));
    fputs(HOST " two.example\n", fp);
    ck_assert_int_eq(fclose(fp), 0);
    name = heloname_default(d.path, HOST, now + 1);
    ck_assert_str_eq(name, "one.example");	/* not read again */
    free(name);
    name = heloname_default(d.path, HOST, now + HELO_CACHE_S + 5);
    ck_assert_str_eq(name, want);		/* both too old: looked up */
    free(name);
    free(want);
    remove_dir(&d);
}
END_TEST

/* test_qualified - a host name with a dot is the answer: no lookup, no file */

START_TEST(test_qualified)
{
    struct dir d;
    char   *name;

    make_dir(&d, 0, 0);
    name = heloname_default(d.path, "mta.example.net", time(0));
    ck_assert_str_eq(name, "mta.example.net");
    ck_assert_int_eq(access(d.file, F_OK), -1);
    free(name);
    remove_dir(&d);
}
END_TEST

/* test_valid - names and literals pass; empty, long and odd bytes don't */

START_TEST(test_valid)
{
    char    longname[300];

    ck_assert(heloname_valid("mta.example.org"));
    ck_assert(heloname_valid("[192.0.2.1]"));
    ck_assert(heloname_valid("[IPv6:2001:db8::1]"));
    ck_assert(!heloname_valid(""));
    ck_assert(!heloname_valid("a b"));
    ck_assert(!heloname_valid("a\r\nMAIL"));
    memset(longname, 'a', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = 0;
    ck_assert(!heloname_valid(longname));
}
END_TEST

int     main(void)
{
    Suite  *s = suite_create("heloname");
    TCase  *tc = tcase_create("cache");

    tcase_add_test(tc, test_fresh_file);
    tcase_add_loop_test(tc, test_stale_file, 0, 6);
    tcase_add_test(tc, test_qualified);
    tcase_add_test(tc, test_written);
    tcase_add_test(tc, test_process_cache);
    tcase_add_test(tc, test_valid);
    suite_add_tcase(s, tc);
    return (run_suite(s));
}
