/* SPDX-License-Identifier: MIT */
/* check_handoff - the records between a thin rrelay and a delivery worker */

#include <string.h>

#include "unit.h"
#include "ipc/handoff_proto.h"

static char buf[HANDOFF_RECORD_MAX + 16];
static struct handoff_msg msg;
static char why[200];

/* parse - handoff_parse() of len bytes of buf */

static int parse(ssize_t len)
{
    ck_assert_int_gt(len, 0);
    return (handoff_parse(buf, (size_t) len, &msg, why, sizeof(why)));
}

START_TEST(test_request_round_trip)
{
    char   *argv[] = {"rrelay", "-q", "ABC", "-f", "", "--", "a@b.c", 0};
    char   *envp[] = {"MAIL_CONFIG=/etc/postfix", "LANG=C", 0};
    ssize_t len = handoff_pack_request(buf, sizeof(buf), 7, argv, envp,
				       12, 900000);

    ck_assert_int_eq(parse(len), 0);
    ck_assert_int_eq(msg.head.type, HANDOFF_REQUEST);
    ck_assert_int_eq(msg.head.argc, 7);
    ck_assert_int_eq(msg.head.envc, 2);
    ck_assert_str_eq(msg.argv[2], "ABC");
    ck_assert_str_eq(msg.argv[4], "");		/* the null sender survives */
    ck_assert_str_eq(msg.argv[6], "a@b.c");
    ck_assert_ptr_null(msg.argv[7]);
    ck_assert_str_eq(msg.envp[0], "MAIL_CONFIG=/etc/postfix");
    ck_assert_ptr_null(msg.envp[2]);
    ck_assert_int_eq(msg.head.elapsed_ms, 12);
    ck_assert_int_eq(msg.head.left_ms, 900000);
}
END_TEST

START_TEST(test_request_bad)
{
    char   *argv[] = {"rrelay", "-q", "ABC", 0};
    char   *none[] = {0};
    char   *bad_env[] = {"NOVALUE", 0};
    struct handoff_head head;
    ssize_t len = handoff_pack_request(buf, sizeof(buf), 3, argv, none, 0, 1);

    ck_assert_int_eq(parse(len - 1), -1);	/* one string short */
    ck_assert_int_eq(parse(len), 0);
    memcpy(&head, buf, sizeof(head));
    head.argc = 2;				/* a string left over */
    memcpy(buf, &head, sizeof(head));
    ck_assert_int_eq(parse(len), -1);
    head.argc = 4;				/* a string missing */
    memcpy(buf, &head, sizeof(head));
    ck_assert_int_eq(parse(len), -1);
    head.argc = 3;
    head.left_ms = -1;
    memcpy(buf, &head, sizeof(head));
    ck_assert_int_eq(parse(len), -1);
    head.left_ms = 1;
    head.magic ^= 1;
    memcpy(buf, &head, sizeof(head));
    ck_assert_int_eq(parse(len), -1);
    len = handoff_pack_request(buf, sizeof(buf), 3, argv, bad_env, 0, 1);
    ck_assert_int_eq(parse(len), -1);		/* NAME=VALUE only */
    ck_assert_int_eq(handoff_pack_request(buf, 40, 3, argv, none, 0, 1), -1);
    ck_assert_int_eq(handoff_pack_request(buf, sizeof(buf), 0, argv, none, 0,
					  1), -1);
}
END_TEST

START_TEST(test_answers)
{
    ssize_t len;

    len = handoff_pack(buf, sizeof(buf), HANDOFF_RESULT, 75, "4.4.1 down");
    ck_assert_int_eq(parse(len), 0);
    ck_assert_int_eq(msg.head.status, 75);
    ck_assert_str_eq(msg.text, "4.4.1 down");
    len = handoff_pack(buf, sizeof(buf), HANDOFF_RESULT, 1, "x");
    ck_assert_int_eq(parse(len), -1);		/* 0, 69 or 75 only */
    len = handoff_pack(buf, sizeof(buf), HANDOFF_GO, 0, 0);
    ck_assert_int_eq(parse(len), 0);
    ck_assert_str_eq(msg.text, "");
    len = handoff_pack(buf, sizeof(buf), HANDOFF_GO, 0, "text");
    ck_assert_int_eq(parse(len), -1);		/* GO carries nothing */
    len = handoff_pack(buf, sizeof(buf), HANDOFF_REFUSE, 0, "");
    ck_assert_int_eq(parse(len), 0);
    len = handoff_pack(buf, sizeof(buf), HANDOFF_REFUSE, 0, 0);
    ck_assert_int_eq(parse(len), -1);		/* REFUSE has a text */
    ck_assert_int_eq(handoff_pack(buf, sizeof(buf), HANDOFF_REQUEST, 0, 0), -1);
    ck_assert_int_eq(parse(3), -1);		/* shorter than a head */
}
END_TEST

int     main(void)
{
    Suite  *s = suite_create("handoff");
    TCase  *tc = tcase_create("records");

    tcase_add_test(tc, test_request_round_trip);
    tcase_add_test(tc, test_request_bad);
    tcase_add_test(tc, test_answers);
    suite_add_tcase(s, tc);
    return (run_suite(s));
}
