/* SPDX-License-Identifier: MIT */
/* check_hostlist - the destination-list parser */

#include <string.h>

#include "unit.h"
#include "conf/hostlist.h"

struct good_case {
    const char *text;
    int     count;
    const char *norm[3];		/* normalized text of the first ones */
    int     mx[3];
    const char *port[3];
};

static const struct good_case good[] = {
    {"[127.0.0.1]:20025, [127.0.0.1]:20026, [127.0.0.1]:20027", 3,
    {"[127.0.0.1]:20025", "[127.0.0.1]:20026", "[127.0.0.1]:20027"},
    {0, 0, 0}, {"20025", "20026", "20027"}},
    {"[10.0.0.1], [10.0.0.2]:2525, [smtp3.example.net]", 3,
    {"[10.0.0.1]", "[10.0.0.2]:2525", "[smtp3.example.net]"}, {0, 0, 0},
    {"smtp", "2525", "smtp"}},
    {"[ipv6:2001:db8::1]:587", 1, {"[ipv6:2001:db8::1]:587"}, {0},
    {"587"}},
    {"example.com example.org:submission", 2,
    {"example.com", "example.org:submission"}, {1, 1}, {"smtp", "submission"}},
    {"  [A.Example]:25 ,,\t[b.example]:smtp  ", 2,
    {"[a.example]", "[b.example]"}, {0, 0}, {"25", "smtp"}},
};

static const char *bad[] = {
    "", " , ,", "[unterminated", "[a]x", "[a]:", "[a]:0", "[a]:70000",
    "[a b]", "a..b", "[bad!host]", "host:p@rt", "[]", "[ipv6:]", "[IPv6:]:25",
};

/* test_good - every valid list parses to the expected destinations */

START_TEST(test_good)
{
    const struct good_case *c = &good[_i];
    struct hostlist list;
    char    err[256];
    int     i;

    ck_assert_int_eq(hostlist_parse(c->text, &list, err, sizeof(err)), 0);
    ck_assert_int_eq(list.count, c->count);
    for (i = 0; i < c->count && i < 3; i++) {
	ck_assert_str_eq(list.dests[i].text, c->norm[i]);
	ck_assert_int_eq(list.dests[i].mx, c->mx[i]);
	ck_assert_str_eq(list.dests[i].port, c->port[i]);
    }
}
END_TEST

/* test_bad - malformed lists are refused with a reason */

START_TEST(test_bad)
{
    struct hostlist list;
    char    err[256] = "";

    ck_assert_int_eq(hostlist_parse(bad[_i], &list, err, sizeof(err)), -1);
    ck_assert(err[0] != 0);
}
END_TEST

/* test_too_many - more than HOSTLIST_MAX destinations is an error */

START_TEST(test_too_many)
{
    char    text[HOSTLIST_MAX * 16 + 64] = "";
    struct hostlist list;
    char    err[256];
    int     i;

    for (i = 0; i <= HOSTLIST_MAX; i++)
	strcat(text, "[h.example], ");
    ck_assert_int_eq(hostlist_parse(text, &list, err, sizeof(err)), -1);
    ck_assert_ptr_ne(strstr(err, "more than"), NULL);
}
END_TEST

/* test_ipv6_fixed - a normalized "[ipv6:...]" parses to itself at any length */

START_TEST(test_ipv6_fixed)
{
    struct hostlist a, b;
    char    text[DEST_HOST_MAX + 3];
    char    err[256];

    text[0] = '[';
    memset(text + 1, 'a', DEST_HOST_MAX);
    memcpy(text + 1, "2001:db8::", 10);
    strcpy(text + 1 + DEST_HOST_MAX, "]");
    ck_assert_int_eq(hostlist_parse(text, &a, err, sizeof(err)), 0);
    ck_assert_int_eq(strncmp(a.dests[0].text, "[ipv6:2001:db8::", 16), 0);
    ck_assert_msg(hostlist_parse(a.dests[0].text, &b, err, sizeof(err)) == 0,
		  "%s", err);
    ck_assert_str_eq(b.dests[0].text, a.dests[0].text);
    ck_assert(hostlist_hash(&a) == hostlist_hash(&b));
}
END_TEST

/* test_hash - the same list written differently hashes the same */

START_TEST(test_hash)
{
    struct hostlist a, b, c;
    char    err[256];

    ck_assert_int_eq(hostlist_parse("[A.example]:25, [b.example]", &a, err,
				     sizeof(err)), 0);
    ck_assert_int_eq(hostlist_parse("[a.example]:smtp [b.example]:25", &b,
				     err, sizeof(err)), 0);
    ck_assert_int_eq(hostlist_parse("[b.example], [a.example]", &c, err,
				     sizeof(err)), 0);
    ck_assert(hostlist_hash(&a) == hostlist_hash(&b));
    ck_assert(hostlist_hash(&a) != hostlist_hash(&c));
}
END_TEST

int     main(void)
{
    Suite  *s = suite_create("hostlist");
    TCase  *tc = tcase_create("parse");

    tcase_add_loop_test(tc, test_good, 0, sizeof(good) / sizeof(good[0]));
    tcase_add_loop_test(tc, test_bad, 0, sizeof(bad) / sizeof(bad[0]));
    tcase_add_test(tc, test_too_many);
    tcase_add_test(tc, test_ipv6_fixed);
    tcase_add_test(tc, test_hash);
    suite_add_tcase(s, tc);
    return (run_suite(s));
}
