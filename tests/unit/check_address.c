/* SPDX-License-Identifier: MIT */
/* check_address - envelope addresses that could inject SMTP commands */

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/un.h>

#include "unit.h"
#include "msg/address.h"

static const char *good[] = {
    "user@example.org", "\"john doe\"@example.org", "a.b+c@d.example",
    "postmaster", "\"a\\\"b\"@example.org", "u@[192.0.2.1]",
    "u@[IPv6:2001:db8::1]", "\xc3\xa9l\xc3\xa8ve@example.org",
};

static const char *bad[] = {
    "", "a\r\nRCPT TO:<x@y>", "a\n@b", "a\r@b", "a\t@b", "a@b>", "<a@b",
    "a b@c", "\"unterminated@x", "\"q\"x@y", "a@x,b@y", "a@x;b@y",
    "a(comment)@x", "a\\b@x", "a:b@x", "a@[1.2.3.4", "a@[1.2.3.4]x",
    "a\"b@x", "a\x7f@b",
};

/* test_good - valid addresses pass */

START_TEST(test_good)
{
    ck_assert_ptr_eq(address_check(good[_i], 0), NULL);
}
END_TEST

/* test_bad - each injection attempt is refused with a reason */

START_TEST(test_bad)
{
    ck_assert_ptr_ne(address_check(bad[_i], 0), NULL);
}
END_TEST

/* test_domain_literal - a literal can't carry white space into the command */

START_TEST(test_domain_literal)
{
    static const char *refused[] = {
	"a@[192.0.2.1 NOTIFY=NEVER]", "a@[x y]", "a@[ 192.0.2.1]",
	"a@[[192.0.2.1]", "a@[192.0.2.1\\]", "a@[]x]",
    };
    size_t  i;

    for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
	ck_assert_msg(address_check(refused[i], 0) != NULL, "%s accepted",
		      refused[i]);
    ck_assert_ptr_eq(address_check("a@[IPv6:2001:db8::1]", 0), NULL);
    ck_assert_ptr_eq(address_check("\"a [b]\"@[192.0.2.1]", 0), NULL);
}
END_TEST

/* test_null_sender - the empty address is a sender only */

START_TEST(test_null_sender)
{
    ck_assert_ptr_eq(address_check("", 1), NULL);
    ck_assert_ptr_ne(address_check("", 0), NULL);
}
END_TEST

/* test_length - over ADDRESS_MAX is refused */

START_TEST(test_length)
{
    char    addr[ADDRESS_MAX + 2];

    memset(addr, 'a', sizeof(addr));
    addr[10] = '@';
    addr[ADDRESS_MAX] = 0;
    ck_assert_ptr_eq(address_check(addr, 0), NULL);
    addr[ADDRESS_MAX] = 'a';
    addr[ADDRESS_MAX + 1] = 0;
    ck_assert_ptr_ne(address_check(addr, 0), NULL);
}
END_TEST

/* test_utf8 - 8-bit addresses need SMTPUTF8 */

START_TEST(test_utf8)
{
    ck_assert_int_eq(address_needs_utf8("user@example.org"), 0);
    ck_assert_int_eq(address_needs_utf8("\xc3\xa9@example.org"), 1);
}
END_TEST

/* test_literal - our own address as RFC 5321 writes it after EHLO */

START_TEST(test_literal)
{
    struct sockaddr_in sin;
    struct sockaddr_in6 sin6;
    struct sockaddr_un sun;
    char    buf[ADDRESS_LITERAL_MAX];

    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    inet_pton(AF_INET, "192.0.2.10", &sin.sin_addr);
    ck_assert_int_eq(address_literal((struct sockaddr *) &sin, buf,
				     sizeof(buf)), 0);
    ck_assert_str_eq(buf, "[192.0.2.10]");
    ck_assert_ptr_eq(address_check("u@[192.0.2.10]", 0), NULL);

    memset(&sin6, 0, sizeof(sin6));
    sin6.sin6_family = AF_INET6;
    inet_pton(AF_INET6, "2001:db8::25", &sin6.sin6_addr);
    ck_assert_int_eq(address_literal((struct sockaddr *) &sin6, buf,
				     sizeof(buf)), 0);
    ck_assert_str_eq(buf, "[IPv6:2001:db8::25]");
    inet_pton(AF_INET6, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
	      &sin6.sin6_addr);
    ck_assert_int_eq(address_literal((struct sockaddr *) &sin6, buf,
				     sizeof(buf)), 0);
    ck_assert_str_eq(buf, "[IPv6:ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]");
    /* an IPv4 client on an IPv6 socket is an IPv4 literal */
    inet_pton(AF_INET6, "::ffff:198.51.100.7", &sin6.sin6_addr);
    ck_assert_int_eq(address_literal((struct sockaddr *) &sin6, buf,
				     sizeof(buf)), 0);
    ck_assert_str_eq(buf, "[198.51.100.7]");

    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    ck_assert_int_eq(address_literal((struct sockaddr *) &sun, buf,
				     sizeof(buf)), -1);
    ck_assert_int_eq(address_literal((struct sockaddr *) &sin, buf,
				     ADDRESS_LITERAL_MAX - 1), -1);
}
END_TEST

int     main(void)
{
    Suite  *s = suite_create("address");
    TCase  *tc = tcase_create("check");

    tcase_add_loop_test(tc, test_good, 0, sizeof(good) / sizeof(good[0]));
    tcase_add_loop_test(tc, test_bad, 0, sizeof(bad) / sizeof(bad[0]));
    tcase_add_test(tc, test_domain_literal);
    tcase_add_test(tc, test_null_sender);
    tcase_add_test(tc, test_length);
    tcase_add_test(tc, test_utf8);
    tcase_add_test(tc, test_literal);
    suite_add_tcase(s, tc);
    return (run_suite(s));
}
