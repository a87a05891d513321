/* SPDX-License-Identifier: MIT */
/* check_wire - CRLF, dot-stuffing and long-line folding */

#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "smtp/wire.h"

struct wire_case {
    const char *in;
    const char *out;
};

static const struct wire_case cases[] = {
    {"", ".\r\n"},
    {"a\n", "a\r\n.\r\n"},
    {"a", "a\r\n.\r\n"},			/* no final newline */
    {".\n", "..\r\n.\r\n"},			/* a lone dot */
    {"..x\n.y\nz.\n", "...x\r\n..y\r\nz.\r\n.\r\n"},
    {"a\r\nb\n", "a\r\nb\r\n.\r\n"},		/* CRLF stays one ending */
    {"a\rb\n", "a\r\nb\r\n.\r\n"},		/* bare CR becomes CRLF */
    {"a\r\r\n.\r", "a\r\n\r\n..\r\n.\r\n"},
    {"\n\n", "\r\n\r\n.\r\n"},
    {"a\n.\n", "a\r\n..\r\n.\r\n"},
};

/* convert - run the whole input through in chunks of chunk bytes */

static char *convert(const char *in, size_t len, size_t chunk, size_t limit)
{
    char   *out = malloc(WIRE_OUT_MAX(len) + 16);
    struct wire w;
    size_t  n = 0;
    size_t  off;
    size_t  step;

    wire_init(&w, limit);
    for (off = 0; off < len; off += step) {
	step = len - off < chunk ? len - off : chunk;
	n += wire_convert(&w, in + off, step, out + n);
    }
    n += wire_finish(&w, out + n);
    out[n] = 0;
    return (out);
}

/* test_cases - each input in one piece and byte by byte */

START_TEST(test_cases)
{
    const struct wire_case *c = &cases[_i];
    char   *whole = convert(c->in, strlen(c->in), 4096, WIRE_LINE_LIMIT);
    char   *bytes = convert(c->in, strlen(c->in), 1, WIRE_LINE_LIMIT);

    ck_assert_str_eq(whole, c->out);
    ck_assert_str_eq(bytes, c->out);
    free(whole);
    free(bytes);
}
END_TEST

/* test_no_bare_cr_lf - every CR and LF on the wire is part of CRLF */

START_TEST(test_no_bare_cr_lf)
{
    char    in[4096];
    char   *out;
    size_t  i;
    unsigned seed = 7;

    for (i = 0; i < sizeof(in); i++) {
	seed = seed * 1103515245 + 12345;
	in[i] = "ab.\r\n\r\n."[(seed >> 16) % 9];
    }
    out = convert(in, sizeof(in), 13, WIRE_LINE_LIMIT);
    for (i = 0; out[i]; i++) {
	if (out[i] == '\r')
	    ck_assert_int_eq(out[i + 1], '\n');
	if (out[i] == '\n')
	    ck_assert(i > 0 && out[i - 1] == '\r');
    }
    free(out);
}
END_TEST

/* test_998_dot - a 998-byte line starting with '.' is stuffed, not folded */

START_TEST(test_998_dot)
{
    char    in[1000];
    char   *out;

    memset(in, 'x', 998);
    in[0] = '.';
    in[998] = '\n';
    out = convert(in, 999, 100, WIRE_LINE_LIMIT);
    ck_assert_int_eq((int) strlen(out), 1 + 998 + 2 + 3);
    ck_assert(out[0] == '.' && memcmp(out + 1, in, 998) == 0);
    free(out);
}
END_TEST

/* test_998 - a 998-byte line passes unchanged */

START_TEST(test_998)
{
    char    in[1000];
    char   *out;

    memset(in, 'x', 998);
    in[998] = '\n';
    out = convert(in, 999, 100, WIRE_LINE_LIMIT);
    ck_assert_int_eq((int) strlen(out), 998 + 2 + 3);
    ck_assert(memcmp(out, in, 998) == 0);
    free(out);
}
END_TEST

/* test_fold - longer lines break with CR LF SPACE, as Postfix does */

START_TEST(test_fold)
{
    static char in[2500];
    char   *out;
    char   *cp;

    memset(in, 'y', 2000);
    in[0] = '.';
    in[2000] = '\n';
    out = convert(in, 2001, 333, WIRE_LINE_LIMIT);
    /* ".." + 997 y (998 counted: the stuffed dot is not), then " " +
     * 997 y, then " " + 5 y */
    ck_assert(strncmp(out, "..", 2) == 0);
    ck_assert(strncmp(out + 999, "\r\n ", 3) == 0);
    ck_assert(strncmp(out + 999 + 3 + 997, "\r\n ", 3) == 0);
    for (cp = out; (cp = strstr(cp, "\r\n")) != 0; cp += 2)
	ck_assert(cp[2] == ' ' || cp[2] == '.' || cp[2] == 0);
    ck_assert_int_eq((int) strlen(out), 2 + 1999 + 2 * 3 + 2 + 3);
    free(out);
}
END_TEST

/* reference - the rules, one byte at a time, as plainly as possible */

static size_t reference(const char *in, size_t len, char *out)
{
    size_t  n = 0;
    size_t  col = 0;
    size_t  i;
    int     bol = 1;

    for (i = 0; i < len; i++) {
	if (in[i] == '\r' || in[i] == '\n') {
	    if (in[i] == '\r' && i + 1 < len && in[i + 1] == '\n')
		i++;
	    out[n++] = '\r';
	    out[n++] = '\n';
	    bol = 1;
	    col = 0;
	    continue;
	}
	if (col >= WIRE_LINE_LIMIT) {
	    memcpy(out + n, "\r\n ", 3);
	    n += 3;
	    col = 1;
	} else if (bol && in[i] == '.') {
	    out[n++] = '.';
	}
	out[n++] = in[i];
	col++;
	bol = 0;
    }
    if (!bol) {
	out[n++] = '\r';
	out[n++] = '\n';
    }
    memcpy(out + n, ".\r\n", 3);
    return (n + 3);
}

/* test_against_reference - random text in random chunks, same output */

START_TEST(test_against_reference)
{
    static char in[20000];
    static char want[WIRE_OUT_MAX(20000)];
    char   *got;
    unsigned seed = 12345u + (unsigned) _i;
    size_t  len;
    size_t  i;
    size_t  wlen;

    for (i = 0; i < sizeof(in); i++) {
	seed = seed * 1103515245u + 12345u;
	/* Mostly letters, so lines run past the fold limit now and then. */
	in[i] = (seed >> 16) % 400 == 0 ? '\n' : (seed >> 16) % 700 == 1 ?
	    '\r' : (seed >> 16) % 150 == 2 ? '.' : 'a' + (seed >> 16) % 26;
    }
    len = 1000 + (seed >> 8) % (sizeof(in) - 1000);
    wlen = reference(in, len, want);
    got = convert(in, len, 1 + (seed >> 4) % 5000, WIRE_LINE_LIMIT);
    ck_assert_int_eq((int) strlen(got), (int) wlen);
    ck_assert(memcmp(got, want, wlen) == 0);
    free(got);
}
END_TEST

int     main(void)
{
    Suite  *s = suite_create("wire");
    TCase  *tc = tcase_create("convert");

    tcase_add_loop_test(tc, test_cases, 0, sizeof(cases) / sizeof(cases[0]));
    tcase_add_test(tc, test_no_bare_cr_lf);
    tcase_add_test(tc, test_998);
    tcase_add_test(tc, test_998_dot);
    tcase_add_loop_test(tc, test_against_reference, 0, 200);
    tcase_add_test(tc, test_fold);
    suite_add_tcase(s, tc);
    return (run_suite(s));
}
