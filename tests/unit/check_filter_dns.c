/* SPDX-License-Identifier: MIT */
/*
 * check_filter_dns - unit tests of filter/spf_dns.c
 *
 * DNS answers built byte by byte: TXT strings joined, NUL bytes,
 * malformed records, CNAMEs, name compression and a compression loop,
 * truncated messages, and a 64 KiB answer; and the deadline that stops
 * a lookup before it is sent.
 */

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spf_budget.h"
#include "spf_dns.h"

struct msg {
    unsigned char buf[SDNS_ANSWER_MAX];
    int     len;
    int     ancount;
};

/* put - append bytes */

static void put(struct msg *m, const void *data, int len)
{
    ck_assert_int_le(m->len + len, (int) sizeof(m->buf));
    memcpy(m->buf + m->len, data, len);
    m->len += len;
}

/* put16 - append a 16-bit number */

static void put16(struct msg *m, int value)
{
    unsigned char b[2] = {(unsigned char) (value >> 8), (unsigned char) value};

    put(m, b, 2);
}

/* begin - header and question for name/type (the name lands at 12) */

static void begin(struct msg *m, const char *name, int type)
{
    const char *label = name;
    const char *dot;
    unsigned char len;

    memset(m, 0, sizeof(*m));
    put16(m, 0x1234);
    put16(m, 0x8180);			/* response, RD, RA, NOERROR */
    put16(m, 1);
    put16(m, 0);			/* ancount, set by answer() */
    put16(m, 0);
    put16(m, 0);
    for (; *label; label = *dot ? dot + 1 : dot) {
	dot = strchr(label, '.');
	if (dot == 0)
	    dot = label + strlen(label);
	len = (unsigned char) (dot - label);
	put(m, &len, 1);
	put(m, label, len);
    }
    put(m, "", 1);
    put16(m, type);
    put16(m, ns_c_in);
}

/* answer - one record for the question's name (compressed to offset 12) */

static void answer(struct msg *m, int type, int class, const void *rdata,
		           int rdlen)
{
    put16(m, 0xc00c);
    put16(m, type);
    put16(m, class);
    put16(m, 0);
    put16(m, 300);
    put16(m, rdlen);
    put(m, rdata, rdlen);
    m->ancount++;
    m->buf[6] = (unsigned char) (m->ancount >> 8);
    m->buf[7] = (unsigned char) m->ancount;
}

/* parse - run sdns_parse on the message */

static SPF_dns_rr_t *parse(struct msg *m, const char *name, ns_type type)
{
    SPF_dns_rr_t *rr = sdns_parse(0, name, type, m->buf, m->len);

    ck_assert_ptr_nonnull(rr);
    return (rr);
}

START_TEST(test_txt_joined)
{
    struct msg m;
    SPF_dns_rr_t *rr;
    static const unsigned char two[] = "\007v=spf1 \004-all";
    static const unsigned char other[] = "\005hello";

    begin(&m, "x.test", ns_t_txt);
    answer(&m, ns_t_txt, ns_c_in, two, sizeof(two) - 1);
    answer(&m, ns_t_txt, ns_c_in, other, sizeof(other) - 1);
    answer(&m, ns_t_txt, ns_c_in, "", 0);	/* no string at all */
    rr = parse(&m, "x.test", ns_t_txt);
    ck_assert_int_eq(rr->herrno, NETDB_SUCCESS);
    ck_assert_int_eq(rr->num_rr, 3);
    ck_assert_str_eq(rr->rr[0]->txt, "v=spf1 -all");
    ck_assert_str_eq(rr->rr[1]->txt, "hello");
    ck_assert_str_eq(rr->rr[2]->txt, "");
    SPF_dns_rr_free(rr);
}
END_TEST

START_TEST(test_txt_hostile)
{
    struct msg m;
    SPF_dns_rr_t *rr;
    static const unsigned char nul[] = "\015v=spf1 +all\000x";	/* NUL inside */
    static const unsigned char overrun[] = "\050short";
    static const unsigned char fine[] = "\004good";

    begin(&m, "x.test", ns_t_txt);
    answer(&m, ns_t_txt, ns_c_in, nul, sizeof(nul) - 1);
    answer(&m, ns_t_txt, ns_c_in, overrun, sizeof(overrun) - 1);
    answer(&m, ns_t_txt, ns_c_chaos, fine, sizeof(fine) - 1);
    answer(&m, ns_t_txt, ns_c_in, fine, sizeof(fine) - 1);
    rr = parse(&m, "x.test", ns_t_txt);
    ck_assert_int_eq(rr->num_rr, 2);
    ck_assert_str_eq(rr->rr[0]->txt, "v=spf1 +all\177x");	/* nothing hidden */
    ck_assert_str_eq(rr->rr[1]->txt, "good");
    SPF_dns_rr_free(rr);
}
END_TEST

START_TEST(test_addresses)
{
    struct msg m;
    SPF_dns_rr_t *rr;
    static const unsigned char a1[] = {192, 0, 2, 1};
    static const unsigned char a2[] = {192, 0, 2, 2};
    static const unsigned char bad[] = {1, 2, 3, 4, 5};
    unsigned char a6[16] = {0x20, 0x01, 0x0d, 0xb8};
    static const unsigned char cname[] = "\005other\004test";

    begin(&m, "x.test", ns_t_a);
    answer(&m, ns_t_cname, ns_c_in, cname, sizeof(cname));
    answer(&m, ns_t_a, ns_c_in, a1, 4);
    answer(&m, ns_t_a, ns_c_in, bad, 5);	/* wrong length: skipped */
    answer(&m, ns_t_aaaa, ns_c_in, a6, 16);	/* wrong type: skipped */
    answer(&m, ns_t_a, ns_c_in, a2, 4);
    rr = parse(&m, "x.test", ns_t_a);
    ck_assert_int_eq(rr->num_rr, 2);
    ck_assert_int_eq(memcmp(&rr->rr[0]->a, a1, 4), 0);
    ck_assert_int_eq(memcmp(&rr->rr[1]->a, a2, 4), 0);
    SPF_dns_rr_free(rr);
    a6[15] = 1;
    begin(&m, "x.test", ns_t_aaaa);
    answer(&m, ns_t_aaaa, ns_c_in, a6, 16);
    answer(&m, ns_t_aaaa, ns_c_in, a6, 15);
    rr = parse(&m, "x.test", ns_t_aaaa);
    ck_assert_int_eq(rr->num_rr, 1);
    ck_assert_int_eq(memcmp(&rr->rr[0]->aaaa, a6, 16), 0);
    SPF_dns_rr_free(rr);
}
END_TEST

START_TEST(test_names)
{
    struct msg m;
    SPF_dns_rr_t *rr;
    /* preference, then "mx1" + pointer to the question name */
    static const unsigned char mx1[] = {0, 10, 3, 'm', 'x', '1', 0xc0, 12};
    static const unsigned char mx2[] = {0, 20, 3, 'm', 'x', '2', 0};
    static const unsigned char short_mx[] = {0, 10};
    /* a name whose pointer points at itself: a compression loop */
    unsigned char loop[] = {0, 10, 0xc0, 0};
    static const unsigned char ptr[] = "\004host\007example\000";

    begin(&m, "x.test", ns_t_mx);
    answer(&m, ns_t_mx, ns_c_in, mx1, sizeof(mx1));
    loop[3] = (unsigned char) (m.len + 12 + 2);	/* rdata offset + 2 */
    answer(&m, ns_t_mx, ns_c_in, loop, sizeof(loop));
    answer(&m, ns_t_mx, ns_c_in, short_mx, sizeof(short_mx));
    answer(&m, ns_t_mx, ns_c_in, mx2, sizeof(mx2));
    rr = parse(&m, "x.test", ns_t_mx);
    ck_assert_int_eq(rr->num_rr, 2);
    ck_assert_str_eq(rr->rr[0]->mx, "mx1.x.test");
    ck_assert_str_eq(rr->rr[1]->mx, "mx2");
    SPF_dns_rr_free(rr);
    begin(&m, "1.2.0.192.in-addr.arpa", ns_t_ptr);
    answer(&m, ns_t_ptr, ns_c_in, ptr, sizeof(ptr) - 1);
    rr = parse(&m, "1.2.0.192.in-addr.arpa", ns_t_ptr);
    ck_assert_int_eq(rr->num_rr, 1);
    ck_assert_str_eq(rr->rr[0]->ptr, "host.example");
    SPF_dns_rr_free(rr);
}
END_TEST

START_TEST(test_empty_and_broken)
{
    struct msg m;
    SPF_dns_rr_t *rr;

    begin(&m, "x.test", ns_t_txt);
    rr = parse(&m, "x.test", ns_t_txt);
    ck_assert_int_eq(rr->herrno, NO_DATA);
    ck_assert_int_eq(rr->num_rr, 0);
    SPF_dns_rr_free(rr);
    m.len = 7;				/* shorter than a header */
    rr = parse(&m, "x.test", ns_t_txt);
    ck_assert_int_eq(rr->herrno, TRY_AGAIN);
    SPF_dns_rr_free(rr);
    begin(&m, "x.test", ns_t_txt);
    answer(&m, ns_t_txt, ns_c_in, "\003abc", 4);
    m.len -= 2;				/* the last record is cut short */
    rr = parse(&m, "x.test", ns_t_txt);
    ck_assert_int_eq(rr->herrno, TRY_AGAIN);
    SPF_dns_rr_free(rr);
    begin(&m, "x.test", ns_t_txt);
    m.buf[7] = 200;			/* claims 200 answers, has none */
    rr = parse(&m, "x.test", ns_t_txt);
    ck_assert_int_eq(rr->herrno, TRY_AGAIN);
    SPF_dns_rr_free(rr);
}
END_TEST

START_TEST(test_huge_answer)
{
    static struct msg m;
    SPF_dns_rr_t *rr;
    unsigned char a[4] = {10, 0, 0, 0};
    unsigned char txt[256];
    int     i;

    begin(&m, "x.test", ns_t_a);
    for (i = 0; m.len + 16 <= SDNS_ANSWER_MAX; i++) {
	a[2] = (unsigned char) (i >> 8);
	a[3] = (unsigned char) i;
	answer(&m, ns_t_a, ns_c_in, a, 4);
    }
    rr = parse(&m, "x.test", ns_t_a);
    ck_assert_int_eq(rr->num_rr, i);
    ck_assert_int_gt(rr->num_rr, 4000);
    SPF_dns_rr_free(rr);
    /* one TXT record of 254 strings: a 64 KiB SPF "record" */
    begin(&m, "x.test", ns_t_txt);
    memset(txt, 'a', sizeof(txt));
    txt[0] = 255;
    put16(&m, 0xc00c);
    put16(&m, ns_t_txt);
    put16(&m, ns_c_in);
    put16(&m, 0);
    put16(&m, 300);
    put16(&m, 254 * 256);
    for (i = 0; i < 254; i++)
	put(&m, txt, 256);
    m.buf[7] = 1;
    rr = parse(&m, "x.test", ns_t_txt);
    ck_assert_int_eq(rr->num_rr, 1);
    ck_assert_uint_eq(strlen(rr->rr[0]->txt), 254 * 255);
    SPF_dns_rr_free(rr);
}
END_TEST

START_TEST(test_deadline_stops_lookup)
{
    SPF_dns_server_t *layer = sdns_resolv_new();
    struct spf_budget budget;
    struct timespec past;
    SPF_dns_rr_t *rr;

    ck_assert_ptr_nonnull(layer);
    budget_deadline(&past, 0);
    past.tv_sec -= 5;
    budget_begin(&budget, &past);
    ck_assert_int_eq(budget_ms_left(), 0);
    rr = SPF_dns_lookup(layer, "example.invalid", ns_t_txt, 0);
    budget_end();
    ck_assert_int_eq(rr->herrno, TRY_AGAIN);	/* nothing was sent */
    SPF_dns_rr_free(rr);
    SPF_dns_free(layer);
}
END_TEST

/* dns_suite - the test cases */

static Suite *dns_suite(void)
{
    Suite  *s = suite_create("filter_dns");
    TCase  *tc = tcase_create("dns");

    tcase_add_test(tc, test_txt_joined);
    tcase_add_test(tc, test_txt_hostile);
    tcase_add_test(tc, test_addresses);
    tcase_add_test(tc, test_names);
    tcase_add_test(tc, test_empty_and_broken);
    tcase_add_test(tc, test_huge_answer);
    tcase_add_test(tc, test_deadline_stops_lookup);
    suite_add_tcase(s, tc);
    return (s);
}

int     main(void)
{
    SRunner *sr = srunner_create(dns_suite());
    int     failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return (failed ? EXIT_FAILURE : EXIT_SUCCESS);
}
