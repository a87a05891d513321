/* SPDX-License-Identifier: MIT */
/* check_sched - the capacity scheduler: weights, tiers, GCRA, quota windows */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"
#include "conf/hostlist.h"
#include "conf/hostpolicy.h"
#include "state/rrstate.h"
#include "state/sched.h"

#define US	1000000LL
#define T0	1800000000LL		/* 2027-01-15 08:00:00 UTC */

static char dir[] = "/tmp/check_sched.XXXXXX";
static struct hostlist list;
static struct host_limits lims[HOSTLIST_MAX];
static int conn_free[HOSTLIST_MAX];	/* slot_take's answer per host */

/* setup - a fresh state directory and a three-host list, no limits */

static void setup(void)
{
    char    err[200];
    int     i;

    strcpy(dir, "/tmp/check_sched.XXXXXX");
    ck_assert_ptr_ne(mkdtemp(dir), NULL);
    ck_assert_int_eq(hostlist_parse("[a.example], [b.example], [c.example]",
				    &list, err, sizeof(err)), 0);
    for (i = 0; i < HOSTLIST_MAX; i++) {
	hostpolicy_limits(0, "", &lims[i]);
	conn_free[i] = 1;
    }
}

/* teardown - remove the directory */

static void teardown(void)
{
    char    cmd[200];

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}

/* slot_take - the injected connection-slot check */

static int slot_take(void *ctx, int index)
{
    (void) ctx;
    return (conn_free[index]);
}

/* pick - one message's first choice at now_us, as one process makes it */

static int pick(int64_t now_us, int nrcpt, struct rr_pick *out)
{
    struct rrstate st;
    struct rr_pick p;
    struct rr_cap cap = {lims, nrcpt, 0, slot_take, 0};

    rrstate_open(&st, dir, &list);
    rrstate_pick_cap(&st, &cap, 0, 1, now_us, 30, &p);
    rrstate_close(&st);
    if (out)
	*out = p;
    return (p.index);
}

/* sequence - the hosts of n picks as letters */

static void sequence(int n, char *buf)
{
    int     i;

    for (i = 0; i < n; i++)
	buf[i] = (char) ('a' + pick(T0 * US + i, 1, 0));
    buf[n] = 0;
}

START_TEST(test_weights_interleave)
{
    char    seq[64];

    lims[0].weight = 3;
    list.count = 2;
    sequence(8, seq);
    ck_assert_str_eq(seq, "aabaaaba");
}
END_TEST

START_TEST(test_weights_every_window)
{
    char    seq[64];
    int     i;
    int     j;
    int     count[3];

    lims[0].weight = 3;
    sequence(50, seq);
    /* Every 5 consecutive choices hold a three times, b and c once. */
    for (i = 0; i + 5 <= 50; i++) {
	memset(count, 0, sizeof(count));
	for (j = i; j < i + 5; j++)
	    count[seq[j] - 'a']++;
	ck_assert_msg(count[0] == 3 && count[1] == 1 && count[2] == 1,
		      "window at %d of %s", i, seq);
    }
}
END_TEST

START_TEST(test_down_share)
{
    struct rrstate st;
    struct rr_change change;
    char    seq[64];
    int     count[3] = {0, 0, 0};
    int     i;

    lims[0].weight = 2;
    lims[1].weight = 1;
    lims[2].weight = 1;
    rrstate_open(&st, dir, &list);
    rrstate_mark_down(&st, 2, "", "gone", T0, T0, 3600, 3600, &change);
    rrstate_close(&st);
    sequence(30, seq);
    for (i = 0; i < 30; i++)
	count[seq[i] - 'a']++;
    /* c's share goes to a and b in proportion: 2:1 */
    ck_assert_int_eq(count[0], 20);
    ck_assert_int_eq(count[1], 10);
    ck_assert_int_eq(count[2], 0);
}
END_TEST

START_TEST(test_backup_tier)
{
    struct rr_pick p;
    struct rrstate st;
    struct rr_change change;
    int     i;

    lims[2].backup = 1;
    for (i = 0; i < 10; i++)
	ck_assert_int_ne(pick(T0 * US + i, 1, 0), 2);
    rrstate_open(&st, dir, &list);
    rrstate_mark_down(&st, 0, "", "gone", T0, T0, 3600, 3600, &change);
    rrstate_close(&st);
    lims[1].max_conn = 1;
    conn_free[1] = 0;				/* b has no free session */
    ck_assert_int_eq(pick(T0 * US + 20, 1, &p), 2);
    ck_assert_int_eq(p.backup, 1);
    ck_assert_int_eq(p.why[0], AVAIL_DOWN);
    ck_assert_int_eq(p.why[1], AVAIL_CONN);
    conn_free[1] = 1;
    ck_assert_int_eq(pick(T0 * US + 21, 1, &p), 1);
    ck_assert_int_eq(p.backup, 0);
}
END_TEST

START_TEST(test_gcra)
{
    struct rr_host host;
    struct host_limits lim;

    memset(&host, 0, sizeof(host));
    hostpolicy_limits(0, "", &lim);
    lim.rate = 5;
    lim.rate_per = 1;
    ck_assert_int_eq(sched_avail(&host, &lim, 1, T0 * US), AVAIL_OK);
    sched_rate_take(&host, &lim, T0 * US);
    /* 5/s: 200 ms, 2% wider */
    ck_assert_int_eq(sched_rate_slot(&host, &lim), T0 * US + 204000);
    ck_assert_int_eq(sched_avail(&host, &lim, 1, T0 * US + 203999), AVAIL_RATE);
    ck_assert_int_eq(sched_avail(&host, &lim, 1, T0 * US + 204000), AVAIL_OK);
    /* a late claim starts from now, never earns a burst */
    sched_rate_take(&host, &lim, T0 * US + 5 * US);
    ck_assert_int_eq(sched_rate_slot(&host, &lim), T0 * US + 5 * US + 204000);
    /* 14 a minute: 4.285715 s (rounded up), and 85715 us more */
    lim.rate = 14;
    lim.rate_per = 60;
    host.rate_tat_us = 0;
    sched_rate_take(&host, &lim, T0 * US);
    ck_assert_int_eq(sched_rate_slot(&host, &lim), T0 * US + 4285715 + 85715);
}
END_TEST

START_TEST(test_rate_wait)
{
    struct rr_pick p;
    int     i;

    lims[0].rate = 1;
    lims[1].rate = 1;
    lims[2].rate = 1;
    for (i = 0; i < 3; i++)
	ck_assert_int_ge(pick(T0 * US, 1, 0), 0);
    ck_assert_int_eq(pick(T0 * US + 1000, 1, &p), -1);
    ck_assert_int_eq(p.probe, 0);
    ck_assert_int_eq(p.wait_us, T0 * US + US + 20000);
    /* a and b became busy at the 2nd and 3rd pick: c is the new one */
    ck_assert_int_eq(p.nbusy, 1);
    ck_assert_int_eq(p.busy[0], 2);
    ck_assert_int_eq(p.why[0], AVAIL_RATE);
    /* busy is logged once: the next pick reports no new busy host */
    ck_assert_int_eq(pick(T0 * US + 2000, 1, &p), -1);
    ck_assert_int_eq(p.nbusy, 0);
    ck_assert_int_ge(pick(T0 * US + US + 20000, 1, 0), 0);
}
END_TEST

START_TEST(test_quota_window)
{
    struct host_limits lim;
    struct rr_host host;

    hostpolicy_limits(0, "", &lim);
    lim.quota = 10;
    lim.quota_per = 3600;
    ck_assert_int_eq(sched_window_start(&lim, T0 + 1799), T0);
    ck_assert_int_eq(sched_quota_end(&lim, T0), T0 + 3600);
    lim.quota_per = 86400;
    ck_assert_int_eq(sched_window_start(&lim, T0), T0 - 8 * 3600);
    lim.quota_per = 3600;
    memset(&host, 0, sizeof(host));
    sched_quota_roll(&host, &lim, T0 + 5);
    host.quota_used = 9;
    ck_assert_int_eq(sched_avail(&host, &lim, 1, (T0 + 6) * US), AVAIL_OK);
    ck_assert_int_eq(sched_avail(&host, &lim, 2, (T0 + 6) * US),
		     AVAIL_SATURATED);
    /* the next hour starts again */
    ck_assert_int_eq(sched_avail(&host, &lim, 2, (T0 + 3600) * US), AVAIL_OK);
    sched_quota_roll(&host, &lim, T0 + 3600);
    ck_assert_int_eq(host.quota_used, 0);
}
END_TEST

START_TEST(test_quota_pick_and_settle)
{
    struct rr_pick p;
    struct rrstate st;
    int     i;

    lims[0].quota = 3;
    lims[0].quota_per = 3600;
    lims[0].weight = 100;
    for (i = 0; i < 3; i++) {
	ck_assert_int_eq(pick(T0 * US + i, 1, &p), 0);
	ck_assert_int_eq(p.quota_now_full, i == 2);
    }
    ck_assert_int_ne(pick(T0 * US + 10, 1, &p), 0);
    ck_assert_int_eq(p.why[0], AVAIL_SATURATED);
    /* one of the three was refused: given back, the host takes one more */
    rrstate_open(&st, dir, &list);
    rrstate_quota_settle(&st, 0, &lims[0], 1, 0, T0 + 20);
    ck_assert_int_eq(st.hosts[0].quota_used, 2);
    rrstate_close(&st);
    ck_assert_int_eq(pick(T0 * US + 30, 1, &p), 0);
    ck_assert_int_eq(p.quota_now_full, 1);
}
END_TEST

START_TEST(test_saturate)
{
    struct rrstate st;
    struct rr_change change;
    struct rr_pick p;
    int     i;

    rrstate_open(&st, dir, &list);
    rrstate_saturate(&st, 1, 1, T0 + 60, "454 Throttling", T0, &change);
    ck_assert_int_eq(change.changed, 1);
    rrstate_saturate(&st, 1, 1, T0 + 60, "454 Throttling", T0 + 1, &change);
    ck_assert_int_eq(change.changed, 0);
    ck_assert_int_eq(st.hosts[1].failures, 0);
    ck_assert_int_eq(st.hosts[1].down_until, 0);
    rrstate_close(&st);
    for (i = 0; i < 6; i++)
	ck_assert_int_ne(pick((T0 + 2) * US + i, 1, &p), 1);
    ck_assert_int_eq(p.why[1], AVAIL_SATURATED);
    ck_assert_int_eq(pick((T0 + 60) * US, 1, 0) >= 0, 1);
}
END_TEST

START_TEST(test_mail_gate)
{
    struct rrstate st;

    lims[1].rate = 20;
    lims[1].rate_per = 1;
    rrstate_open(&st, dir, &list);
    /* three MAIL FROMs due at once: spaced 51 ms apart at the wire */
    ck_assert_int_eq(rrstate_mail_gate(&st, 1, &lims[1], T0 * US), 0);
    ck_assert_int_eq(rrstate_mail_gate(&st, 1, &lims[1], T0 * US), 51000);
    ck_assert_int_eq(rrstate_mail_gate(&st, 1, &lims[1], T0 * US + 10000),
		     92000);
    /* later than its slot: at once, and the next one an interval on */
    ck_assert_int_eq(rrstate_mail_gate(&st, 1, &lims[1], T0 * US + US), 0);
    ck_assert_int_eq(st.hosts[1].mail_tat_us, T0 * US + US + 51000);
    /* no rate: no gate */
    ck_assert_int_eq(rrstate_mail_gate(&st, 0, &lims[0], T0 * US), 0);
    rrstate_close(&st);
}
END_TEST

START_TEST(test_busy_news)
{
    struct rr_pick p;

    lims[0].rate = 1;
    lims[0].weight = 100;
    ck_assert_int_eq(pick(T0 * US, 1, &p), 0);
    ck_assert_int_ne(pick(T0 * US + 1000, 1, &p), 0);	/* a is busy: news */
    ck_assert_int_eq(p.nbusy, 1);
    ck_assert_int_eq(pick(T0 * US + US + 20000, 1, &p), 0);	/* its next slot */
    ck_assert_int_ne(pick(T0 * US + US + 21000, 1, &p), 0);
    ck_assert_int_eq(p.nbusy, 0);			/* busy again: no news */
    ck_assert_int_eq(pick((T0 + 120) * US, 1, &p), 0);
    ck_assert_int_ne(pick((T0 + 120) * US + 1000, 1, &p), 0);
    ck_assert_int_eq(p.nbusy, 1);			/* after a quiet spell */
}
END_TEST

/* sched_suite - the tests */

static Suite *sched_suite(void)
{
    Suite  *s = suite_create("sched");
    TCase  *tc = tcase_create("core");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_weights_interleave);
    tcase_add_test(tc, test_weights_every_window);
    tcase_add_test(tc, test_down_share);
    tcase_add_test(tc, test_backup_tier);
    tcase_add_test(tc, test_gcra);
    tcase_add_test(tc, test_rate_wait);
    tcase_add_test(tc, test_quota_window);
    tcase_add_test(tc, test_quota_pick_and_settle);
    tcase_add_test(tc, test_saturate);
    tcase_add_test(tc, test_mail_gate);
    tcase_add_test(tc, test_busy_news);
    suite_add_tcase(s, tc);
    return (s);
}

int     main(void)
{
    return (run_suite(sched_suite()));
}
