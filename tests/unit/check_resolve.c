/* SPDX-License-Identifier: MIT */
/*
 * check_resolve - MX answers in transport/resolve.c
 *
 * res_query() is replaced here by one that gives a canned answer the
 * way glibc's does: it copies what fits in the caller's buffer and
 * returns the length of the whole answer. The exchangers are named by
 * address ("192.0.2.7"), so getaddrinfo() needs no DNS.
 */

#include <arpa/nameser.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>

#include "unit.h"
#include "conf/hostlist.h"
#include "smtp/resolve.h"

static unsigned char msg[NS_MAXMSG];
static int msg_len;
static int msg_herrno;

/* res_query - the canned answer, cut as glibc cuts it */

int     res_query(const char *dname, int class, int type,
		          unsigned char *answer, int anslen)
{
    (void) dname;
    (void) class;
    (void) type;
    if (msg_herrno) {
	h_errno = msg_herrno;
	return (-1);
    }
    memcpy(answer, msg, msg_len < anslen ? msg_len : anslen);
    if (msg_len > anslen)
	answer[2] |= 2;				/* TC: truncated */
    return (msg_len);
}

/* put - append bytes to the answer */

static void put(const void *data, int len)
{
    ck_assert_int_le(msg_len + len, (int) sizeof(msg));
    memcpy(msg + msg_len, data, len);
    msg_len += len;
}

/* put16 - append a 16-bit number */

static void put16(int value)
{
    unsigned char b[2] = {(unsigned char) (value >> 8), (unsigned char) value};

    put(b, 2);
}

/* put_name - append a name as labels */

static void put_name(const char *name)
{
    const char *dot;
    unsigned char len;

    for (; *name; name = *dot ? dot + 1 : dot) {
	if ((dot = strchr(name, '.')) == 0)
	    dot = name + strlen(name);
	len = (unsigned char) (dot - name);
	put(&len, 1);
	put(name, len);
    }
    put("", 1);
}

/* begin - header and question of an MX answer with count records */

static void begin(int count)
{
    msg_len = 0;
    msg_herrno = 0;
    put16(0x1234);
    put16(0x8180);
    put16(1);
    put16(count);
    put16(0);
    put16(0);
    put_name("example.test");
    put16(ns_t_mx);
    put16(ns_c_in);
}

/* add_mx - one MX record; its name is the question's (offset 12) */

static void add_mx(int pref, const char *exchanger)
{
    int     rdlen = 2 + (int) strlen(exchanger) + 2;

    put16(0xc00c);
    put16(ns_t_mx);
    put16(ns_c_in);
    put16(0);
    put16(300);
    put16(exchanger[0] ? rdlen : 3);
    put16(pref);
    put_name(exchanger);
}

/* resolve - the targets for example.test:2525 */

static int resolve(struct target *t, int max, char *why, size_t whylen)
{
    static struct hostlist list;
    char    err[200];

    ck_assert_int_eq(hostlist_parse("example.test:2525", &list, err,
				    sizeof(err)), 0);
    return (resolve_dest(&list.dests[0], t, max, why, whylen));
}

/* add_txt - one TXT record of len bytes: filler the MX lookup skips */

static void add_txt(int len)
{
    unsigned char text[256];

    ck_assert_int_le(len, 255);
    memset(text, 'x', sizeof(text));
    text[0] = (unsigned char) (len - 1);
    put16(0xc00c);
    put16(ns_t_txt);
    put16(ns_c_in);
    put16(0);
    put16(300);
    put16(len);
    put(text, len);
}

/* test_big_answer - an answer longer than 2 KiB (over TCP) is read whole */

START_TEST(test_big_answer)
{
    struct target t[4];
    char    why[300];
    int     i;

    begin(12);
    for (i = 0; i < 10; i++)
	add_txt(250);
    add_mx(20, "192.0.2.2");			/* past the first 2 KiB */
    add_mx(10, "192.0.2.1");
    ck_assert_int_gt(msg_len, 2048);
    ck_assert_msg(resolve(t, 4, why, sizeof(why)) == 2, "%s", why);
    ck_assert_str_eq(t[0].addr, "192.0.2.1");
    ck_assert_str_eq(t[1].addr, "192.0.2.2");
    ck_assert_int_eq(t[0].port, 2525);
}
END_TEST

/* test_best_exchangers - the most preferred, wherever they are in the answer */

START_TEST(test_best_exchangers)
{
    struct target t[RESOLVE_MX_MAX];
    char    name[32];
    char    why[300];
    int     i;

    begin(3 * RESOLVE_MX_MAX);
    for (i = 1; i <= 3 * RESOLVE_MX_MAX; i++) {
	snprintf(name, sizeof(name), "192.0.2.%d", i);
	add_mx(1000 - i, name);			/* the best ones come last */
    }
    ck_assert_msg(resolve(t, RESOLVE_MX_MAX, why, sizeof(why))
		  == RESOLVE_MX_MAX, "%s", why);
    for (i = 0; i < RESOLVE_MX_MAX; i++) {
	snprintf(name, sizeof(name), "192.0.2.%d", 3 * RESOLVE_MX_MAX - i);
	ck_assert_str_eq(t[i].addr, name);
    }
}
END_TEST

static unsigned next_key;
static int key_step;

/* counting - a random source that counts up or down from next_key */

static unsigned counting(void)
{
    unsigned key = next_key;

    next_key += key_step;
    return (key);
}

/* equal_prefs - three exchangers, two of them with preference 10 */

static void equal_prefs(void)
{
    begin(3);
    add_mx(10, "192.0.2.1");
    add_mx(5, "192.0.2.2");
    add_mx(10, "192.0.2.3");
}

/* test_equal_shuffled - equal preferences in random order (RFC 5321 5.1) */

START_TEST(test_equal_shuffled)
{
    struct target t[3];
    char    why[300];

    /* The random keys decide among equals, never across preferences. */
    next_key = 100, key_step = 1;		/* keys rise: answer order */
    resolve_set_random(counting);
    equal_prefs();
    ck_assert_int_eq(resolve(t, 3, why, sizeof(why)), 3);
    ck_assert_str_eq(t[0].addr, "192.0.2.2");
    ck_assert_str_eq(t[1].addr, "192.0.2.1");
    ck_assert_str_eq(t[2].addr, "192.0.2.3");
    next_key = 100, key_step = -1;		/* keys fall: reversed */
    ck_assert_int_eq(resolve(t, 3, why, sizeof(why)), 3);
    ck_assert_str_eq(t[0].addr, "192.0.2.2");
    ck_assert_str_eq(t[1].addr, "192.0.2.3");
    ck_assert_str_eq(t[2].addr, "192.0.2.1");
    /* At the RESOLVE_MX_MAX cut, which equal one stays is random too. */
    next_key = 100, key_step = -1;
    ck_assert_int_eq(resolve(t, 2, why, sizeof(why)), 2);
    ck_assert_str_eq(t[1].addr, "192.0.2.3");
    resolve_set_random(0);
}
END_TEST

/* test_equal_random - the real source puts each equal one first at times */

START_TEST(test_equal_random)
{
    struct target t[3];
    char    why[300];
    int     first[2] = {0, 0};
    int     i;

    /* A fixed order would fail this; a fair shuffle fails it with
     * probability 2 * 2^-200. */
    equal_prefs();
    for (i = 0; i < 200; i++) {
	ck_assert_int_eq(resolve(t, 3, why, sizeof(why)), 3);
	ck_assert_str_eq(t[0].addr, "192.0.2.2");	/* the best stays first */
	first[strcmp(t[1].addr, "192.0.2.1") == 0]++;
    }
    ck_assert_int_gt(first[0], 0);
    ck_assert_int_gt(first[1], 0);
}
END_TEST

/* test_null_mx - one exchanger named "." accepts no mail */

START_TEST(test_null_mx)
{
    struct target t[4];
    char    why[300];

    begin(1);
    add_mx(0, "");
    ck_assert_int_eq(resolve(t, 4, why, sizeof(why)), -1);
    ck_assert_ptr_nonnull(strstr(why, "null MX"));
}
END_TEST

/* test_no_mx - no MX record: the domain's own address */

START_TEST(test_no_mx)
{
    static struct hostlist list;
    struct target t[4];
    char    why[300];

    begin(0);
    msg_herrno = NO_DATA;
    ck_assert_int_eq(hostlist_parse("192.0.2.9:2525", &list, why,
				    sizeof(why)), 0);
    ck_assert_int_eq(resolve_dest(&list.dests[0], t, 4, why, sizeof(why)), 1);
    ck_assert_str_eq(t[0].addr, "192.0.2.9");
    msg_herrno = TRY_AGAIN;
    ck_assert_int_eq(resolve_dest(&list.dests[0], t, 4, why, sizeof(why)), -1);
}
END_TEST

int     main(void)
{
    Suite  *s = suite_create("resolve");
    TCase  *tc = tcase_create("mx");

    tcase_add_test(tc, test_big_answer);
    tcase_add_test(tc, test_best_exchangers);
    tcase_add_test(tc, test_equal_shuffled);
    tcase_add_test(tc, test_equal_random);
    tcase_add_test(tc, test_null_mx);
    tcase_add_test(tc, test_no_mx);
    suite_add_tcase(s, tc);
    return (run_suite(s));
}
