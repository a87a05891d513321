/* SPDX-License-Identifier: MIT */
/*
 * fuzz_wire - fuzz harness for transport/wire.c
 *
 * Input: one byte picks the fold limit (0, a few small ones, 998), one
 * byte seeds the chunk sizes, the rest is the queued message. A limit
 * of 1 is left out: a folded line is a space and at least one byte.
 *
 * Properties: the output is the same whatever the chunks; it equals a
 * byte-at-a-time encoder written from the manual page; no call writes
 * more than WIRE_OUT_MAX(len) bytes (each output buffer is exactly that
 * big, so a sanitizer sees the rest); every CR is followed by LF and
 * every LF follows a CR; it ends with ".\r\n" and no line before that
 * is a lone dot; a line that starts with '.' starts with "..", and no
 * line is longer than limit bytes, not counting a stuffed dot; without
 * folding, undoing the dot-stuffing and the CRLFs gives back the input
 * with its line endings made LF.
 */

#include "fuzz.h"
#include "smtp/wire.h"

static const size_t limits[] = {0, 2, 3, 7, 80, WIRE_LINE_LIMIT};

struct buf {
    char   *data;
    size_t  len;
    size_t  cap;
};

/* put - append to a growing buffer */

static void put(struct buf *b, const char *data, size_t len)
{
    if (len == 0)
	return;
    if (b->len + len > b->cap) {
	b->cap = (b->len + len) * 2 + 64;
	if ((b->data = realloc(b->data, b->cap)) == 0)
	    abort();
    }
    memcpy(b->data + b->len, data, len);
    b->len += len;
}

/* encode - run the message through wire_convert(); in chunks unless seed 0 */

static void encode(const char *in, size_t len, size_t limit, unsigned seed,
		           struct buf *out, unsigned long *folds)
{
    struct wire w;
    size_t  off;
    size_t  step;
    size_t  n;
    char   *chunk_out;
    size_t  cap = (seed & 0x80) ? len : 1 + (seed & 7);

    wire_init(&w, limit);
    for (off = 0; off < len; off += step) {
	step = len - off;
	if (seed != 0) {
	    seed = seed * 1103515245u + 12345u;
	    step = 1 + (seed >> 16) % (step < cap ? step : cap);
	}
	if ((chunk_out = malloc(WIRE_OUT_MAX(step))) == 0)
	    abort();
	n = wire_convert(&w, in + off, step, chunk_out);
	FUZZ_ASSERT(n <= WIRE_OUT_MAX(step), "%zu bytes for %zu", n, step);
	put(out, chunk_out, n);
	free(chunk_out);
    }
    if ((chunk_out = malloc(5)) == 0)
	abort();
    n = wire_finish(&w, chunk_out);
    FUZZ_ASSERT(n <= 5, "wire_finish wrote %zu bytes", n);
    put(out, chunk_out, n);
    free(chunk_out);
    *folds = w.folds;
}

/* reference - the same conversion, one byte at a time, from the manual */

static void reference(const char *in, size_t len, size_t limit,
		              struct buf *out)
{
    size_t  col = 0;
    int     bol = 1;
    size_t  i;

    for (i = 0; i < len; i++) {
	if (in[i] == '\r' || in[i] == '\n') {
	    put(out, "\r\n", 2);
	    col = 0;
	    bol = 1;
	    if (in[i] == '\r' && i + 1 < len && in[i + 1] == '\n')
		i++;
	    continue;
	}
	if (limit > 0 && col >= limit) {
	    put(out, "\r\n ", 3);
	    col = 1;
	} else if (bol && in[i] == '.') {
	    put(out, ".", 1);
	}
	put(out, in + i, 1);
	col++;
	bol = 0;
    }
    if (!bol)
	put(out, "\r\n", 2);
    put(out, ".\r\n", 3);
}

/* check_lines - line endings, the final dot, stuffing and line length */

static void check_lines(const struct buf *out, size_t limit)
{
    size_t  start = 0;
    size_t  i;
    size_t  len;

    FUZZ_ASSERT(out->len >= 3 && memcmp(out->data + out->len - 3, ".\r\n",
					3) == 0, "no final dot");
    for (i = 0; i < out->len; i++) {
	if (out->data[i] == '\r')
	    FUZZ_ASSERT(i + 1 < out->len && out->data[i + 1] == '\n',
			"bare CR at %zu", i);
	if (out->data[i] != '\n')
	    continue;
	FUZZ_ASSERT(i > 0 && out->data[i - 1] == '\r', "bare LF at %zu", i);
	len = i - 1 - start;
	if (i + 1 < out->len) {
	    FUZZ_ASSERT(!(len == 1 && out->data[start] == '.'),
			"lone dot at %zu ends DATA early", start);
	    if (len > 0 && out->data[start] == '.') {
		FUZZ_ASSERT(len >= 2 && out->data[start + 1] == '.',
			    "unstuffed dot at %zu", start);
		len--;
	    }
	    FUZZ_ASSERT(limit == 0 || len <= limit, "line of %zu at %zu",
			len, start);
	}
	start = i + 1;
    }
    FUZZ_ASSERT(start == out->len, "output does not end with CRLF");
}

/* check_decode - without folds, the wire text gives the message back */

static void check_decode(const struct buf *out, const char *in, size_t len)
{
    struct buf want = {0};
    struct buf got = {0};
    size_t  i;
    int     bol = 1;

    for (i = 0; i < len; i++) {
	put(&want, in[i] == '\r' ? "\n" : in + i, 1);
	if (in[i] == '\r' && i + 1 < len && in[i + 1] == '\n')
	    i++;
    }
    if (want.len > 0 && want.data[want.len - 1] != '\n')
	put(&want, "\n", 1);
    for (i = 0; i + 3 < out->len; i++) {
	if (bol && out->data[i] == '.')
	    i++;
	if (out->data[i] == '\r') {
	    put(&got, "\n", 1);
	    i++;
	    bol = 1;
	} else {
	    put(&got, out->data + i, 1);
	    bol = 0;
	}
    }
    FUZZ_ASSERT(got.len == want.len && (got.len == 0
			|| memcmp(got.data, want.data, got.len) == 0),
		"decoding gives %zu bytes, not the %zu of the input",
		got.len, want.len);
    free(want.data);
    free(got.data);
}

/* LLVMFuzzerTestOneInput - one message */

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_in in = {data, size};
    size_t  limit = limits[fuzz_take_byte(&in) % (sizeof(limits)
						   / sizeof(limits[0]))];
    unsigned seed = fuzz_take_byte(&in);
    const char *msg = (const char *) in.data;
    struct buf whole = {0};
    struct buf chunked = {0};
    struct buf ref = {0};
    unsigned long folds_whole;
    unsigned long folds_chunked;

    encode(msg, in.size, limit, 0, &whole, &folds_whole);
    encode(msg, in.size, limit, seed + 1, &chunked, &folds_chunked);
    reference(msg, in.size, limit, &ref);
    FUZZ_ASSERT(whole.len == chunked.len && folds_whole == folds_chunked
		&& memcmp(whole.data, chunked.data, whole.len) == 0,
		"chunks change the output (seed %u)", seed);
    FUZZ_ASSERT(whole.len == ref.len
		&& memcmp(whole.data, ref.data, ref.len) == 0,
		"output differs from the reference encoder (limit %zu)", limit);
    check_lines(&whole, limit);
    if (limit == 0)
	check_decode(&whole, msg, in.size);
    free(whole.data);
    free(chunked.data);
    free(ref.data);
    return (0);
}
