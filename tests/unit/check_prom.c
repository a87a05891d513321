/* SPDX-License-Identifier: MIT */
/* check_prom - the Prometheus textfile (transport/prom.c) */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "unit.h"
#include "state/prom.h"

START_TEST(test_list)
{
    struct rr_head head;
    struct rr_host hosts[2];
    char   *text = 0;
    size_t  len = 0;
    FILE   *fp;

    memset(&head, 0, sizeof(head));
    memset(hosts, 0, sizeof(hosts));
    head.count = 2;
    head.hash = 0xabc;
    snprintf(hosts[0].dest, sizeof(hosts[0].dest), "[mx1.example]:25");
    hosts[0].sent = 42;
    hosts[0].deferred = 3;
    hosts[0].bounced = 1;
    hosts[0].down_count = 2;
    hosts[0].state_since = 900;
    snprintf(hosts[1].dest, sizeof(hosts[1].dest), "[a\"b\\c\nd]:25");
    hosts[1].down_until = 2000;			/* down at 1000 */
    hosts[1].failures = 4;
    ck_assert_ptr_nonnull(fp = open_memstream(&text, &len));
    prom_list(fp, &head, hosts, 1000);
    ck_assert_int_eq(fclose(fp), 0);
    ck_assert_str_eq(text,
	"rrelay_host_messages_total{list=\"0000000000000abc\",host=\"[mx1.example]:25\",result=\"sent\"} 42\n"
	"rrelay_host_messages_total{list=\"0000000000000abc\",host=\"[mx1.example]:25\",result=\"deferred\"} 3\n"
	"rrelay_host_messages_total{list=\"0000000000000abc\",host=\"[mx1.example]:25\",result=\"bounced\"} 1\n"
	"rrelay_host_down_transitions_total{list=\"0000000000000abc\",host=\"[mx1.example]:25\"} 2\n"
	"rrelay_host_up{list=\"0000000000000abc\",host=\"[mx1.example]:25\"} 1\n"
	"rrelay_host_state_since_seconds{list=\"0000000000000abc\",host=\"[mx1.example]:25\"} 900\n"
	"rrelay_host_consecutive_failures{list=\"0000000000000abc\",host=\"[mx1.example]:25\"} 0\n"
	"rrelay_host_messages_total{list=\"0000000000000abc\",host=\"[a\\\"b\\\\c\\nd]:25\",result=\"sent\"} 0\n"
	"rrelay_host_messages_total{list=\"0000000000000abc\",host=\"[a\\\"b\\\\c\\nd]:25\",result=\"deferred\"} 0\n"
	"rrelay_host_messages_total{list=\"0000000000000abc\",host=\"[a\\\"b\\\\c\\nd]:25\",result=\"bounced\"} 0\n"
	"rrelay_host_down_transitions_total{list=\"0000000000000abc\",host=\"[a\\\"b\\\\c\\nd]:25\"} 0\n"
	"rrelay_host_up{list=\"0000000000000abc\",host=\"[a\\\"b\\\\c\\nd]:25\"} 0\n"
	"rrelay_host_consecutive_failures{list=\"0000000000000abc\",host=\"[a\\\"b\\\\c\\nd]:25\"} 4\n");
    free(text);
}
END_TEST

START_TEST(test_write)
{
    char    dir[] = "/tmp/check_prom.XXXXXX";
    char    path[200];
    char    line[512];
    char    cmd[256];
    FILE   *fp;
    char    why[300];
    int     helps = 0;

    struct stat st;
    mode_t  old_mask;

    ck_assert_ptr_nonnull(mkdtemp(dir));
    /* pipe(8)'s umask (077) must not make it unreadable for node_exporter */
    old_mask = umask(077);
    ck_assert_int_eq(prom_write(dir, why, sizeof(why)), 0);
    umask(old_mask);
    snprintf(path, sizeof(path), "%s/rrelay.prom", dir);
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq(st.st_mode & 07777, 0644);
    ck_assert_ptr_nonnull(fp = fopen(path, "r"));
    while (fgets(line, sizeof(line), fp))
	helps += strncmp(line, "# HELP ", 7) == 0;
    fclose(fp);
    ck_assert_int_eq(helps, 10);
    /* just written: not due; a second old, or gone: due */
    ck_assert_int_eq(prom_due(dir), 0);
    ck_assert_int_eq(utimes(path, (struct timeval[2]) {{time(0) - 2, 0},
			    {time(0) - 2, 0}}), 0);
    ck_assert_int_eq(prom_due(dir), 1);
    ck_assert_int_eq(prom_due("/nonexistent/rrelay"), 1);
    /* nothing else left behind: the temporary file was renamed */
    snprintf(cmd, sizeof(cmd), "test $(ls -A '%s' | wc -l) = 1", dir);
    ck_assert_int_eq(system(cmd), 0);
    /* a directory that can't be written: an error with a reason */
    ck_assert_int_eq(prom_write("/nonexistent/rrelay", why, sizeof(why)), -1);
    ck_assert_ptr_nonnull(strstr(why, "/nonexistent/rrelay"));
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

/* mtime_ns - a file's modification time, or -1 */

static long long mtime_ns(const char *path)
{
    struct stat st;

    if (stat(path, &st) < 0)
	return (-1);
    return (st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec);
}

/* inode - a file's inode number: a rename puts a new one in place */

static ino_t inode(const char *path)
{
    struct stat st;

    return (stat(path, &st) < 0 ? 0 : st.st_ino);
}

START_TEST(test_flush)
{
    ino_t   ino;
    char    dir[] = "/tmp/check_prom.XXXXXX";
    char    path[200];
    char    cmd[256];
    char    why[300];
    long long first;
    int     fd;
    int     i;

    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/rrelay.prom", dir);
    /* missing: written at once */
    ck_assert_int_eq(prom_flush(dir, 0, why, sizeof(why)), 0);
    ck_assert_int_ge(first = mtime_ns(path), 0);
    /* fresh and nothing changed: not now, but within the second */
    ino = inode(path);
    ck_assert_int_eq(prom_flush(dir, 0, why, sizeof(why)), 0);
    ck_assert_int_eq(prom_flush(dir, 0, why, sizeof(why)), 0);
    ck_assert(inode(path) == ino);		/* the flusher sleeps first */
    for (i = 0; i < 50 && mtime_ns(path) == first; i++)
	usleep(100000);
    ck_assert_msg(mtime_ns(path) > first, "not rewritten within 5 s");
    ck_assert_int_ge(mtime_ns(path) - first, 900000000LL);
    /* a change of state: at once, a new file (dated by the coarse clock,
     * maybe in the same tick as the last) */
    ino = inode(path);
    ck_assert_int_eq(prom_flush(dir, 1, why, sizeof(why)), 0);
    ck_assert(inode(path) != ino);
    /* no flusher is left behind: its lock comes free */
    snprintf(cmd, sizeof(cmd), "%s/.rrelay.prom.lock", dir);
    ck_assert_int_ge(fd = open(cmd, O_RDWR), 0);
    for (i = 0; i < 50 && flock(fd, LOCK_EX | LOCK_NB) < 0; i++)
	usleep(100000);
    ck_assert_int_lt(i, 50);
    close(fd);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

START_TEST(test_capacity)
{
    struct rr_head head;
    struct rr_host host;
    char   *text = 0;
    size_t  len = 0;
    FILE   *fp;

    memset(&head, 0, sizeof(head));
    memset(&host, 0, sizeof(host));
    head.count = 1;
    head.hash = 0xabc;
    snprintf(host.dest, sizeof(host.dest), "[q.example]:25");
    host.weight = 2;
    host.quota = 10;
    host.quota_per = 3600;
    host.quota_window = 3600;		/* the hour of 4000 */
    host.quota_used = 7;
    host.busy_skips = 5;
    host.rate_waits = 4;
    host.sat_throttle = 3;
    host.sat_quota = 1;
    host.saturated_until = 5000;
    ck_assert_ptr_nonnull(fp = open_memstream(&text, &len));
    prom_list(fp, &head, &host, 4000);
    ck_assert_int_eq(fclose(fp), 0);
    ck_assert_ptr_nonnull(strstr(text,
	"rrelay_host_busy_skips_total{list=\"0000000000000abc\",host=\"[q.example]:25\"} 5\n"
	"rrelay_host_rate_waits_total{list=\"0000000000000abc\",host=\"[q.example]:25\"} 4\n"
	"rrelay_host_saturations_total{list=\"0000000000000abc\",host=\"[q.example]:25\",class=\"throttle\"} 3\n"
	"rrelay_host_saturations_total{list=\"0000000000000abc\",host=\"[q.example]:25\",class=\"quota\"} 1\n"
	"rrelay_host_saturated{list=\"0000000000000abc\",host=\"[q.example]:25\"} 1\n"
	"rrelay_host_quota_used{list=\"0000000000000abc\",host=\"[q.example]:25\"} 7\n"));
    free(text);
}
END_TEST

/* date_state - a state file in dir (no valid content needed), dated now + ahead_ms */

static void date_state(const char *dir, long ahead_ms, char *path, size_t len)
{
    struct timespec times[2];
    int     fd;

    snprintf(path, len, "%s/rrelay-00000000000000ab.state", dir);
    ck_assert_int_ge(fd = open(path, O_WRONLY | O_CREAT, 0600), 0);
    clock_gettime(CLOCK_REALTIME, &times[1]);
    times[1].tv_sec += ahead_ms / 1000;
    times[1].tv_nsec += (ahead_ms % 1000) * 1000000L;
    if (times[1].tv_nsec >= 1000000000L) {
	times[1].tv_sec++;
	times[1].tv_nsec -= 1000000000L;
    }
    times[0] = times[1];
    ck_assert_int_eq(futimens(fd, times), 0);
    close(fd);
}

/* lock_free_within - the flusher's lock comes free within ms */

static int lock_free_within(const char *dir, int ms)
{
    char    path[200];
    int     fd;
    int     i;

    snprintf(path, sizeof(path), "%s/.rrelay.prom.lock", dir);
    if ((fd = open(path, O_RDWR)) < 0)
	return (1);				/* no flusher ever */
    for (i = 0; i < ms / 50 && flock(fd, LOCK_EX | LOCK_NB) < 0; i++)
	usleep(50000);
    close(fd);
    return (i < ms / 50);
}

/* test_snapshot - dated when it began; a state file as new is written again */

START_TEST(test_snapshot)
{
    char    dir[] = "/tmp/check_prom.XXXXXX";
    char    prom[200];
    char    state[200];
    char    cmd[256];
    char    why[300];
    long long first;
    int     i;

    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(prom, sizeof(prom), "%s/rrelay.prom", dir);
    /* an older state file: one write, newer than it, and no flusher */
    date_state(dir, -3000, state, sizeof(state));
    ck_assert_int_eq(prom_flush(dir, 1, why, sizeof(why)), 0);
    ck_assert_int_gt(mtime_ns(prom), mtime_ns(state));
    ck_assert(lock_free_within(dir, 100));
    /* a state file dated after the snapshot began: written again later */
    date_state(dir, 500, state, sizeof(state));
    first = mtime_ns(prom);
    ck_assert_int_eq(prom_flush(dir, 1, why, sizeof(why)), 0);
    ck_assert_int_lt(mtime_ns(prom), mtime_ns(state));
    for (i = 0; i < 60 && mtime_ns(prom) <= mtime_ns(state); i++)
	usleep(100000);
    ck_assert_msg(mtime_ns(prom) > mtime_ns(state), "not written again");
    ck_assert_int_gt(mtime_ns(prom), first);
    ck_assert(lock_free_within(dir, 3000));
    /* one dated far ahead can't keep a flusher writing */
    date_state(dir, 100000, state, sizeof(state));
    ck_assert_int_eq(prom_flush(dir, 1, why, sizeof(why)), 0);
    ck_assert(lock_free_within(dir, 3000));
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

int     main(void)
{
    Suite  *s = suite_create("prom");
    TCase  *tc = tcase_create("prom");

    tcase_add_test(tc, test_list);
    tcase_add_test(tc, test_write);
    tcase_add_test(tc, test_capacity);
    tcase_add_test(tc, test_flush);
    tcase_add_test(tc, test_snapshot);
    suite_add_tcase(s, tc);
    return (run_suite(s));
}
