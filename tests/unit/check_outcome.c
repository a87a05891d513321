/* SPDX-License-Identifier: MIT */
/* check_outcome - recipient classes to the pipe(8) exit status */

#include <string.h>

#include "unit.h"
#include "msg/outcome.h"

struct exit_case {
    const char *states;			/* S sent, T temp, P perm, . pending */
    int     status;
    const char *text_prefix;
    int     handback_temp;
    int     handback_perm;
};

static const struct exit_case cases[] = {
    {"S", 0, "", 0, 0},
    {"SSS", 0, "", 0, 0},
    {"T", 75, "4.2.0 ", 0, 0},
    {"TT.", 75, "4.2.0 ", 0, 0},
    {".", 75, "4.0.0 ", 0, 0},
    {"P", 69, "5.1.1 ", 0, 0},
    {"PP", 69, "5.1.1 ", 0, 0},
    {"ST", 0, "", 1, 0},
    {"SP", 0, "", 0, 1},
    {"STP", 0, "", 1, 1},
    {"TP", 0, "", 1, 1},		/* nothing sent: still hand back both */
    {"P.", 0, "", 1, 1},
};

/* fill - recipients in the states the case names */

static void fill(struct rcpt *r, const char *states)
{
    int     i;

    for (i = 0; states[i]; i++) {
	memset(&r[i], 0, sizeof(r[i]));
	r[i].addr = "x@example.org";
	switch (states[i]) {
	case 'S':
	    rcpt_set(&r[i], RCPT_SENT, "2.0.0", "250 ok");
	    break;
	case 'T':
	    rcpt_set(&r[i], RCPT_TEMP, "4.2.0", "host h said: 452 full");
	    break;
	case 'P':
	    rcpt_set(&r[i], RCPT_PERM, "5.1.1", "host h said: 550 no such user");
	    break;
	default:
	    r[i].state = RCPT_PENDING;
	}
    }
}

/* test_cases - the table of classes and the status each must give */

START_TEST(test_cases)
{
    const struct exit_case *c = &cases[_i];
    struct rcpt r[8];
    struct outcome o;

    fill(r, c->states);
    outcome_decide(r, (int) strlen(c->states), &o);
    ck_assert_int_eq(o.status, c->status);
    ck_assert_msg(strncmp(o.text, c->text_prefix, strlen(c->text_prefix)) == 0,
		  "text \"%s\" for %s", o.text, c->states);
    ck_assert_int_eq(o.handback_temp, c->handback_temp);
    ck_assert_int_eq(o.handback_perm, c->handback_perm);
}
END_TEST

/* test_dsn_class - a DSN that disagrees with the state is replaced */

START_TEST(test_dsn_class)
{
    struct rcpt r;

    memset(&r, 0, sizeof(r));
    rcpt_set(&r, RCPT_TEMP, "5.1.1", "x");
    ck_assert_str_eq(r.dsn, "4.0.0");
    rcpt_set(&r, RCPT_PERM, "4.4.1", "x");
    ck_assert_str_eq(r.dsn, "5.0.0");
    rcpt_set(&r, RCPT_PERM, 0, "x");
    ck_assert_str_eq(r.dsn, "5.0.0");
    rcpt_set(&r, RCPT_PENDING, "4.7.1", "x");
    ck_assert_str_eq(r.dsn, "4.7.1");
}
END_TEST

/* test_defer - our own trouble always defers with a 4.x.y text */

START_TEST(test_defer)
{
    struct outcome o;

    outcome_defer(&o, "4.3.5", "bad config %d", 3);
    ck_assert_int_eq(o.status, 75);
    ck_assert_str_eq(o.text, "4.3.5 bad config 3");
    outcome_defer(&o, "5.0.0", "never bounce");
    ck_assert_str_eq(o.text, "4.3.0 never bounce");
}
END_TEST

int     main(void)
{
    Suite  *s = suite_create("outcome");
    TCase  *tc = tcase_create("decide");

    tcase_add_loop_test(tc, test_cases, 0, sizeof(cases) / sizeof(cases[0]));
    tcase_add_test(tc, test_dsn_class);
    tcase_add_test(tc, test_defer);
    suite_add_tcase(s, tc);
    return (run_suite(s));
}
