/* SPDX-License-Identifier: MIT */
/*
 * check_filter_cidr - unit tests of filter/cidr.c (trusted_networks)
 *
 * IPv4 and IPv6 matches at the edges of each prefix, /0 and host
 * prefixes, IPv4-mapped addresses, and the parse errors.
 */

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/socket.h>

#include "cidr.h"

struct match_case {
    const char *list;
    const char *ip;
    int     match;
};

static const struct match_case match_cases[] = {
    {"127.0.0.0/8, ::1/128", "127.0.0.1", 1},
    {"127.0.0.0/8, ::1/128", "127.255.255.255", 1},
    {"127.0.0.0/8, ::1/128", "128.0.0.1", 0},
    {"127.0.0.0/8, ::1/128", "126.255.255.255", 0},
    {"127.0.0.0/8, ::1/128", "::1", 1},
    {"127.0.0.0/8, ::1/128", "::2", 0},
    {"127.0.0.0/8, ::1/128", "::ffff:127.0.0.1", 1},	/* mapped */
    {"192.0.2.0/24", "192.0.2.0", 1},
    {"192.0.2.0/24", "192.0.2.255", 1},
    {"192.0.2.0/24", "192.0.3.0", 0},
    {"192.0.2.0/24", "192.0.1.255", 0},
    {"192.0.2.128/25", "192.0.2.127", 0},
    {"192.0.2.128/25", "192.0.2.128", 1},
    {"192.0.2.0/23", "192.0.3.77", 1},		/* odd prefix */
    {"192.0.2.0/23", "192.0.4.0", 0},
    {"192.0.2.7", "192.0.2.7", 1},			/* bare host */
    {"192.0.2.7/32", "192.0.2.8", 0},
    {"0.0.0.0/0", "203.0.113.9", 1},			/* everything v4 */
    {"0.0.0.0/0", "2001:db8::1", 0},			/* but not v6 */
    {"::/0", "2001:db8::1", 1},
    {"::/0", "192.0.2.1", 0},
    {"2001:db8::/32", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", 1},
    {"2001:db8::/32", "2001:db9::", 0},
    {"2001:db8::/33", "2001:db8:8000::1", 0},
    {"2001:db8::/33", "2001:db8:7fff::1", 1},
    {"2001:db8::1/127", "2001:db8::1", 0},		/* host bits: see errors */
    {"2001:db8::/127", "2001:db8::1", 1},
    {"2001:db8::/127", "2001:db8::2", 0},
    {"[2001:db8::5]/128", "2001:db8::5", 1},
    {"[2001:db8::5]", "2001:db8::5", 1},
    {"::ffff:192.0.2.0/120", "192.0.2.44", 1},		/* mapped network */
    {"::ffff:192.0.2.0/120", "::ffff:192.0.2.44", 1},
    {"::ffff:192.0.2.0/120", "192.0.3.44", 0},
    {"192.0.2.0/24", "::ffff:192.0.2.9", 1},
    {"192.0.2.0/24,\t2001:db8::/32\n198.51.100.0/24", "198.51.100.1", 1},
    {"", "127.0.0.1", 0},				/* empty: nothing */
    {"192.0.2.0/24", "", 0},
    {"192.0.2.0/24", "192.0.2", 0},
    {"192.0.2.0/24", "junk", 0},
    {"192.0.2.0/24", 0, 0},
};

START_TEST(test_match)
{
    const struct match_case *c = match_cases + _i;
    struct cidr_list list;
    char    err[256];

    if (cidr_list_parse(c->list, &list, err, sizeof(err)) < 0) {
	/* the host-bits case is an error, tested below */
	ck_assert_str_eq(c->list, "2001:db8::1/127");
	return;
    }
    ck_assert_msg(cidr_list_match(&list, c->ip) == c->match, "%s in %s: want %d",
		  c->ip ? c->ip : "(null)", c->list, c->match);
    cidr_list_free(&list);
}
END_TEST

struct error_case {
    const char *list;
    const char *error;
};

static const struct error_case error_cases[] = {
    {"192.0.2.1/24", "\"192.0.2.1/24\" has host bits set after the /24 prefix"},
    {"2001:db8::1/64", "\"2001:db8::1/64\" has host bits set after the /64 prefix"},
    {"192.0.2.0/33", "\"192.0.2.0/33\": prefix length must be 0 to 32"},
    {"2001:db8::/129", "\"2001:db8::/129\": prefix length must be 0 to 128"},
    {"192.0.2.0/-1", "\"192.0.2.0/-1\": prefix length must be 0 to 32"},
    {"192.0.2.0/", "\"192.0.2.0/\": prefix length must be 0 to 32"},
    {"192.0.2.0/2x", "\"192.0.2.0/2x\": prefix length must be 0 to 32"},
    {"example.org", "\"example.org\" is not an IPv4 or IPv6 network"},
    {"192.0.2.0/24, 300.0.0.0/8", "\"300.0.0.0/8\" is not an IPv4 or IPv6 network"},
    {"::ffff:192.0.2.0/24", "\"::ffff:192.0.2.0/24\": an IPv4-mapped network "
    "needs a prefix of 96 or more"},
};

START_TEST(test_errors)
{
    const struct error_case *c = error_cases + _i;
    struct cidr_list list;
    char    err[256];

    ck_assert_int_eq(cidr_list_parse(c->list, &list, err, sizeof(err)), -1);
    ck_assert_str_eq(err, c->error);
    ck_assert_ptr_null(list.nets);
}
END_TEST

START_TEST(test_long_and_many)
{
    struct cidr_list list;
    char    err[256];
    char   *text;
    size_t  i;

    ck_assert_int_eq(cidr_list_parse("1111111111111111111111111111111111111111"
			     "111111111111111111111111111111111111111111111111",
				     &list, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "is too long"));
    /* 2000 networks parse, and the last one matches */
    text = malloc(2000 * 20);
    ck_assert_ptr_nonnull(text);
    text[0] = 0;
    for (i = 0; i < 2000; i++)
	sprintf(text + strlen(text), "10.%zu.%zu.0/24 ", i / 256, i % 256);
    ck_assert_int_eq(cidr_list_parse(text, &list, err, sizeof(err)), 0);
    ck_assert_int_eq(list.count, 2000);
    ck_assert_int_eq(cidr_list_match(&list, "10.7.207.1"), 1);
    ck_assert_int_eq(cidr_list_match(&list, "10.7.208.1"), 0);
    cidr_list_free(&list);
    free(text);
}
END_TEST

/* test_mapped_spellings - mapped or not is read from the address, not the text */

START_TEST(test_mapped_spellings)
{
    struct cidr_list list;
    char    err[256];

    /* hex spelling of ::ffff:192.0.2.0/120 */
    ck_assert_msg(cidr_list_parse("::ffff:c000:200/120", &list, err,
				  sizeof(err)) == 0, "%s", err);
    ck_assert_int_eq(cidr_list_match(&list, "192.0.2.9"), 1);
    ck_assert_int_eq(cidr_list_match(&list, "192.0.3.9"), 0);
    cidr_list_free(&list);
    /* every IPv4-mapped address */
    ck_assert_msg(cidr_list_parse("0:0:0:0:0:ffff:0:0/96", &list, err,
				  sizeof(err)) == 0, "%s", err);
    ck_assert_int_eq(cidr_list_match(&list, "203.0.113.1"), 1);
    ck_assert_int_eq(cidr_list_match(&list, "2001:db8::1"), 0);
    cidr_list_free(&list);
    /* ::ffff:0:0:0/96 (RFC 2765) is not mapped: an IPv6 /96, not ::/0 */
    ck_assert_msg(cidr_list_parse("::ffff:0:0.0.0.0/96", &list, err,
				  sizeof(err)) == 0, "%s", err);
    ck_assert_int_eq(cidr_list_match(&list, "2001:db8::1"), 0);
    ck_assert_int_eq(cidr_list_match(&list, "::ffff:0:1.2.3.4"), 1);
    ck_assert_int_eq(cidr_list_match(&list, "1.2.3.4"), 0);
    cidr_list_free(&list);
    /* a mapped network with an IPv4-sized prefix is a mistake */
    ck_assert_int_eq(cidr_list_parse("::ffff:c000:0/16", &list, err,
				     sizeof(err)), -1);
    ck_assert_str_eq(err, "\"::ffff:c000:0/16\": an IPv4-mapped network "
		     "needs a prefix of 96 or more");
}
END_TEST

START_TEST(test_parse_addr)
{
    unsigned char addr[16];
    int     family;

    ck_assert_int_eq(cidr_parse_addr("::ffff:10.1.2.3", &family, addr), 0);
    ck_assert_int_eq(family, AF_INET);
    ck_assert_int_eq(addr[0], 10);
    ck_assert_int_eq(addr[3], 3);
    ck_assert_int_eq(cidr_parse_addr("2001:db8::ff", &family, addr), 0);
    ck_assert_int_eq(family, AF_INET6);
    ck_assert_int_eq(addr[15], 0xff);
    ck_assert_int_eq(cidr_parse_addr("2001:db8::ff%eth0", &family, addr), -1);
    ck_assert_int_eq(cidr_parse_addr("192.0.2.1 ", &family, addr), -1);
}
END_TEST

/* cidr_suite - the test cases */

static Suite *cidr_suite(void)
{
    Suite  *s = suite_create("filter_cidr");
    TCase  *tc = tcase_create("cidr");

    tcase_add_loop_test(tc, test_match, 0,
		        sizeof(match_cases) / sizeof(match_cases[0]));
    tcase_add_loop_test(tc, test_errors, 0,
		        sizeof(error_cases) / sizeof(error_cases[0]));
    tcase_add_test(tc, test_long_and_many);
    tcase_add_test(tc, test_mapped_spellings);
    tcase_add_test(tc, test_parse_addr);
    suite_add_tcase(s, tc);
    return (s);
}

int     main(void)
{
    SRunner *sr = srunner_create(cidr_suite());
    int     failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return (failed ? EXIT_FAILURE : EXIT_SUCCESS);
}
