/* SPDX-License-Identifier: MIT */
/* check_rrstate - the shared round-robin state file */

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "unit.h"
#include "log.h"
#include "conf/hostlist.h"
#include "state/rrstate.h"

static char dir[] = "/tmp/check_rrstate.XXXXXX";
static struct hostlist list;

/* setup - a fresh directory and a three-host list */

static void setup(void)
{
    char    err[200];
    char    cmd[100];

    strcpy(dir, "/tmp/check_rrstate.XXXXXX");
    ck_assert_ptr_ne(mkdtemp(dir), NULL);
    ck_assert_int_eq(hostlist_parse("[a.example], [b.example], [c.example]",
				    &list, err, sizeof(err)), 0);
    (void) cmd;
}

/* teardown - remove the directory */

static void teardown(void)
{
    char    cmd[200];

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}

/* pick - one pick with a fresh handle, as one rrelay process would */

static int pick(time_t now, int *probe)
{
    struct rrstate st;
    struct rr_pick p;

    rrstate_open(&st, dir, &list);
    rrstate_pick(&st, now, 30, &p);
    rrstate_close(&st);
    if (probe)
	*probe = p.probe;
    return (p.index);
}

/* mark_down - one failure for host i */

static void mark_down(int i, time_t now, long *backoff)
{
    struct rrstate st;
    struct rr_change ch;

    rrstate_open(&st, dir, &list);
    rrstate_mark_down(&st, i, "192.0.2.1:25", "connect refused", now, now, 60,
		      600, &ch);
    rrstate_close(&st);
    if (backoff)
	*backoff = ch.backoff;
}

/* test_round_robin - 30 picks give 10/10/10, in list order */

START_TEST(test_round_robin)
{
    int     counts[3] = {0};
    int     first = pick(1000, 0);
    int     i;
    int     got;

    counts[first]++;
    for (i = 1; i < 30; i++) {
	got = pick(1000, 0);
	ck_assert_int_eq(got, (first + i) % 3);
	counts[got]++;
    }
    ck_assert_int_eq(counts[0], 10);
    ck_assert_int_eq(counts[1], 10);
    ck_assert_int_eq(counts[2], 10);
}
END_TEST

/* test_concurrent - four processes picking at once still split evenly */

START_TEST(test_concurrent)
{
    int     fds[2];
    int     counts[3] = {0};
    pid_t   pids[4];
    char    c;
    int     i;
    int     j;
    int     status;

    ck_assert_int_eq(pipe(fds), 0);
    for (i = 0; i < 4; i++) {
	if ((pids[i] = fork()) == 0) {
	    for (j = 0; j < 300; j++) {
		c = (char) ('0' + pick(1000, 0));
		if (write(fds[1], &c, 1) != 1)
		    _exit(1);
	    }
	    _exit(0);
	}
	ck_assert_int_gt(pids[i], 0);
    }
    close(fds[1]);
    while (read(fds[0], &c, 1) == 1)
	counts[c - '0']++;
    close(fds[0]);
    for (i = 0; i < 4; i++) {
	ck_assert_int_eq(waitpid(pids[i], &status, 0), pids[i]);
	ck_assert_int_eq(status, 0);
    }
    ck_assert_int_eq(counts[0], 400);
    ck_assert_int_eq(counts[1], 400);
    ck_assert_int_eq(counts[2], 400);
}
END_TEST

/* test_skip_down - a down host is skipped until its backoff ends */

START_TEST(test_skip_down)
{
    int     counts[3] = {0};
    int     i;
    int     probe;

    mark_down(1, 1000, 0);
    for (i = 0; i < 20; i++)
	counts[pick(1010, &probe)]++;
    ck_assert_int_eq(probe, 0);
    ck_assert_int_eq(counts[1], 0);
    ck_assert_int_eq(counts[0], 10);
    ck_assert_int_eq(counts[2], 10);
    /* After the backoff, the host is taken again, once (a lease). */
    for (i = 0; i < 3; i++)
	counts[pick(1061, 0)]++;
    ck_assert_int_eq(counts[1], 1);
}
END_TEST

/* test_backoff - doubles per consecutive failure, up to the maximum */

START_TEST(test_backoff)
{
    long    b;

    mark_down(0, 1000, &b);			/* each attempt after the last */
    ck_assert_int_eq(b, 60);
    mark_down(0, 1100, &b);
    ck_assert_int_eq(b, 120);
    mark_down(0, 1300, &b);
    ck_assert_int_eq(b, 240);
    mark_down(0, 1600, &b);
    ck_assert_int_eq(b, 480);
    mark_down(0, 2100, &b);
    ck_assert_int_eq(b, 600);
    ck_assert_int_eq(rrstate_backoff(40, 60, 600), 600);
    ck_assert_int_eq(rrstate_backoff(4000000000U, 60, 86400 * 7), 86400 * 7);
}
END_TEST

/* test_clock_back - a clock that goes back can't stretch a backoff */

START_TEST(test_clock_back)
{
    long    b;
    int     seen = 0;
    int     i;

    mark_down(0, 100000, &b);
    ck_assert_int_eq(b, 60);
    mark_down(0, 1000, &b);			/* a day earlier */
    ck_assert_int_eq(b, 60);
    for (i = 0; i < 3; i++)			/* up again after the backoff */
	seen |= pick(1000 + 60, 0) == 0;
    ck_assert(seen);
}
END_TEST

/* test_future_down - a down_until far ahead is capped at max_backoff from now */

START_TEST(test_future_down)
{
    struct rrstate st;
    struct rr_pick p;
    struct rr_change ch;
    int     seen = 0;
    int     i;

    /* Written when the clock said 10 days ahead, with a week's backoff. */
    rrstate_open(&st, dir, &list);
    rrstate_mark_down(&st, 0, "192.0.2.1:25", "refused", 864000, 864000,
		      7 * 86400, 7 * 86400, &ch);
    rrstate_close(&st);
    for (i = 0; i < 6; i++) {		/* no cap: skipped for 17 days */
	rrstate_open(&st, dir, &list);
	rrstate_pick(&st, 1000 + 700, 30, &p);
	rrstate_close(&st);
	ck_assert_int_ne(p.index, 0);
    }
    for (i = 0; i < 3; i++) {		/* max_backoff 600 from now */
	rrstate_open(&st, dir, &list);
	rrstate_limit(&st, 600);
	rrstate_pick(&st, 1000 + (i == 0 ? 0 : 601), 30, &p);
	rrstate_close(&st);
	if (i == 0)
	    ck_assert_int_ne(p.index, 0);	/* still down at 1000 */
	seen |= p.index == 0;
    }
    ck_assert_msg(seen, "host 0 still skipped after max_backoff from now");
}
END_TEST

/* test_overlap - failures of attempts that overlapped count once */

START_TEST(test_overlap)
{
    struct rrstate st;
    struct rr_change ch;
    struct rr_pick p;
    int     tried[HOSTLIST_MAX] = {0};

    rrstate_open(&st, dir, &list);
    /* three deliveries began at 1000; the first to fail counts it */
    rrstate_mark_down(&st, 0, "192.0.2.1:25", "no greeting", 1000, 1001, 60,
		      600, &ch);
    ck_assert_int_eq(ch.counted, 1);
    ck_assert_int_eq(ch.changed, 1);
    ck_assert_int_eq(ch.failures, 1);
    ck_assert_int_eq(ch.backoff, 60);
    rrstate_mark_down(&st, 0, "192.0.2.1:25", "no greeting", 1000, 1001, 60,
		      600, &ch);
    ck_assert_int_eq(ch.counted, 0);
    ck_assert_int_eq(ch.changed, 0);
    ck_assert_int_eq(ch.failures, 1);
    ck_assert_int_eq(ch.backoff, 60);
    rrstate_mark_down(&st, 0, "192.0.2.1:25", "no greeting", 1000, 1011, 60,
		      600, &ch);
    ck_assert_int_eq(ch.counted, 0);
    ck_assert_int_eq(ch.failures, 1);
    ck_assert_int_eq(ch.backoff, 50);		/* the same end: 1061 */
    ck_assert_int_eq(st.hosts[0].down_until, 1061);
    /* an uncounted failure ends a probe's lease: back to the backoff */
    tried[1] = tried[2] = 1;
    rrstate_next(&st, 2, tried, 1062, 30, &p);
    ck_assert_int_eq(p.index, 0);
    ck_assert_int_eq(st.hosts[0].down_until, 1092);	/* the lease */
    rrstate_mark_down(&st, 0, "192.0.2.1:25", "no greeting", 1001, 1062, 60,
		      600, &ch);
    ck_assert_int_eq(ch.counted, 0);
    ck_assert_int_eq(st.hosts[0].down_until, 1061);
    /* a probe that began after that failure counts again */
    rrstate_mark_down(&st, 0, "192.0.2.1:25", "no greeting", 1062, 1063, 60,
		      600, &ch);
    ck_assert_int_eq(ch.counted, 1);
    ck_assert_int_eq(ch.failures, 2);
    ck_assert_int_eq(ch.backoff, 120);
    rrstate_close(&st);
}
END_TEST

/* test_all_down - the host whose backoff ends first is probed */

START_TEST(test_all_down)
{
    struct rrstate st;
    struct rr_change ch;
    int     probe;

    mark_down(0, 1000, 0);			/* until 1060 */
    mark_down(1, 990, 0);			/* until 1050 */
    mark_down(2, 1000, 0);
    mark_down(2, 1001, 0);			/* until 1121 */
    ck_assert_int_eq(pick(1010, &probe), 1);
    ck_assert_int_eq(probe, 1);
    /* A success brings it back up. */
    rrstate_open(&st, dir, &list);
    rrstate_mark_up(&st, 1, "192.0.2.1:25", RR_TLS_USED, 1, 1011, &ch);
    ck_assert_int_eq(st.hosts[1].sent, 1);
    rrstate_close(&st);
    ck_assert_int_eq(ch.changed, 1);
    ck_assert_int_eq(ch.failures, 1);
    ck_assert_int_eq(pick(1012, &probe), 1);
    ck_assert_int_eq(probe, 0);
}
END_TEST

/* test_next - failover goes to the next live untried host */

START_TEST(test_next)
{
    struct rrstate st;
    struct rr_pick p;
    int     tried[HOSTLIST_MAX] = {0};

    mark_down(2, 1000, 0);
    rrstate_open(&st, dir, &list);
    tried[1] = 1;
    rrstate_next(&st, 1, tried, 1001, 30, &p);
    ck_assert_int_eq(p.index, 0);
    ck_assert_int_eq(p.nskipped, 1);
    ck_assert_int_eq(p.skipped[0], 2);
    tried[0] = 1;
    rrstate_next(&st, 0, tried, 1001, 30, &p);
    ck_assert_int_eq(p.index, -1);
    rrstate_close(&st);
}
END_TEST

/* test_failover_cursor - the host that took a failover is not next too */

START_TEST(test_failover_cursor)
{
    struct rrstate st;
    struct rr_pick p;
    int     tried[HOSTLIST_MAX] = {0};
    int     first;

    first = pick(1000, 0);			/* the cursor now points past it */
    mark_down(first, 1000, 0);
    rrstate_open(&st, dir, &list);
    tried[first] = 1;
    rrstate_next(&st, first, tried, 1000, 30, &p);
    ck_assert_int_eq(p.index, (first + 1) % 3);
    rrstate_close(&st);
    /* the next message goes to the third host, then they alternate */
    ck_assert_int_eq(pick(1001, 0), (first + 2) % 3);
    ck_assert_int_eq(pick(1001, 0), (first + 1) % 3);
    ck_assert_int_eq(pick(1001, 0), (first + 2) % 3);
}
END_TEST

/* test_other_live - is there somewhere else to go than a slow host */

START_TEST(test_other_live)
{
    struct rrstate st;
    int     tried[HOSTLIST_MAX] = {0};

    rrstate_open(&st, dir, &list);
    tried[0] = 1;
    ck_assert_int_eq(rrstate_other_live(&st, 0, tried, 1000), 1);
    tried[1] = tried[2] = 1;			/* all tried */
    ck_assert_int_eq(rrstate_other_live(&st, 0, tried, 1000), 0);
    tried[1] = tried[2] = 0;
    rrstate_close(&st);
    mark_down(1, 1000, 0);			/* until 1060 */
    rrstate_open(&st, dir, &list);
    ck_assert_int_eq(rrstate_other_live(&st, 0, tried, 1001), 1);
    rrstate_close(&st);
    mark_down(2, 1000, 0);
    rrstate_open(&st, dir, &list);
    ck_assert_int_eq(rrstate_other_live(&st, 0, tried, 1001), 0);
    tried[0] = 0;
    ck_assert_int_eq(rrstate_other_live(&st, 1, tried, 1001), 1);	/* 0 */
    tried[0] = 1;
    ck_assert_int_eq(rrstate_other_live(&st, 0, tried, 1060), 1);	/* over */
    rrstate_close(&st);
}
END_TEST

/* state_path - the list's file name */

static void state_path(char *path, size_t len)
{
    snprintf(path, len, "%s/rrelay-%016llx.state", dir, hostlist_hash(&list));
}

/* test_corrupt - garbage, truncation: carry on and rebuild */

START_TEST(test_corrupt)
{
    char    path[4200];
    struct rrstate st;
    struct rr_head head;
    static struct rr_host hosts[HOSTLIST_MAX];
    char    why[100];
    int     fd;
    int     counts[3] = {0};
    int     i;
    struct stat sb;

    mark_down(1, 1000, 0);
    state_path(path, sizeof(path));
    /* Flip bytes in the middle: the checksum catches it. */
    fd = open(path, O_RDWR);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(pwrite(fd, "garbage!", 8, 100), 8);
    close(fd);
    for (i = 0; i < 3; i++)
	counts[pick(1001, 0)]++;
    /* Afresh: no memory of the down host, and the file is whole again. */
    ck_assert_int_eq(counts[0] + counts[1] + counts[2], 3);
    ck_assert_int_eq(counts[1], 1);
    fd = open(path, O_RDONLY);
    ck_assert_int_eq(rrstate_read(fd, &head, hosts, why, sizeof(why)), 1);
    close(fd);
    /* Truncated to half. */
    ck_assert_int_eq(truncate(path, 50), 0);
    ck_assert_int_ge(pick(1001, 0), 0);
    ck_assert_int_eq(stat(path, &sb), 0);
    ck_assert_int_eq((int) sb.st_size, (int) (sizeof(head) + 3 * sizeof(hosts[0])));
    /* A file that is not ours (a symlink) is not used, but delivery goes on. */
    ck_assert_int_eq(unlink(path), 0);
    ck_assert_int_eq(symlink("/etc/passwd", path), 0);
    rrstate_open(&st, dir, &list);
    ck_assert_int_eq(st.fd, -1);
    rrstate_close(&st);
    ck_assert_int_ge(pick(1001, 0), 0);
}
END_TEST

/* test_unusable_dir - no directory: state in memory, delivery goes on */

START_TEST(test_unusable_dir)
{
    struct rrstate st;
    struct rr_pick p;

    rrstate_open(&st, "/nonexistent/rrelay", &list);
    ck_assert_int_eq(st.fd, -1);
    rrstate_pick(&st, 1000, 30, &p);
    ck_assert_int_ge(p.index, 0);
    ck_assert_int_lt(p.index, 3);
    rrstate_close(&st);
}
END_TEST

int     main(void)
{
    Suite  *s = suite_create("rrstate");
    TCase  *tc = tcase_create("state");
    char    err[100];

    (void) log_open("check_rrstate", "/dev/null", err, sizeof(err));
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_round_robin);
    tcase_add_test(tc, test_concurrent);
    tcase_add_test(tc, test_skip_down);
    tcase_add_test(tc, test_backoff);
    tcase_add_test(tc, test_all_down);
    tcase_add_test(tc, test_next);
    tcase_add_test(tc, test_other_live);
    tcase_add_test(tc, test_overlap);
    tcase_add_test(tc, test_clock_back);
    tcase_add_test(tc, test_future_down);
    tcase_add_test(tc, test_failover_cursor);
    tcase_add_test(tc, test_corrupt);
    tcase_add_test(tc, test_unusable_dir);
    suite_add_tcase(s, tc);
    return (run_suite(s));
}
