/* SPDX-License-Identifier: MIT */
#ifndef RR_FUZZ_H
#define RR_FUZZ_H

/* fuzz.h - what the libFuzzer harnesses share */

/*
 * Each tests/fuzz/fuzz_<target>.c defines LLVMFuzzerTestOneInput() and
 * checks properties of the code under test; a property that fails
 * aborts with the reason, which libFuzzer reports as a crash and the
 * corpus replay (replay.c) as a failed test.
 *
 * The input is cut into pieces with fuzz_take_byte() and fuzz_take_str():
 * a byte for a choice, a NUL-terminated string for a text.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

extern int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fuzz_in {
    const uint8_t *data;
    size_t  size;
};

/* fuzz_fail - a property does not hold: say which, and stop */

static inline void __attribute__((noreturn, format(printf, 3, 4)))
fuzz_fail(const char *file, int line, const char *fmt,...)
{
    va_list ap;

    fprintf(stderr, "%s:%d: property failed: ", file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    abort();
}

#define FUZZ_ASSERT(cond, ...) \
    do { \
	if (!(cond)) \
	    fuzz_fail(__FILE__, __LINE__, __VA_ARGS__); \
    } while (0)

/* fuzz_take_byte - the next input byte, or 0 at the end */

static inline unsigned fuzz_take_byte(struct fuzz_in *in)
{
    unsigned ch;

    if (in->size == 0)
	return (0);
    ch = in->data[0];
    in->data++;
    in->size--;
    return (ch);
}

/* fuzz_take_str - the input up to the next NUL as a new string */

static inline char *fuzz_take_str(struct fuzz_in *in)
{
    const uint8_t *nul = memchr(in->data, 0, in->size);
    size_t  len = nul ? (size_t) (nul - in->data) : in->size;
    char   *text;

    if ((text = malloc(len + 1)) == 0)
	abort();
    if (len > 0)
	memcpy(text, in->data, len);
    text[len] = 0;
    in->data += len + (nul != 0);
    in->size -= len + (nul != 0);
    return (text);
}

/* fuzz_printable - text holds printable ASCII only */

static inline int fuzz_printable(const char *text)
{
    const unsigned char *cp;

    for (cp = (const unsigned char *) text; *cp; cp++)
	if (*cp < 0x20 || *cp > 0x7e)
	    return (0);
    return (1);
}

/* fuzz_memfile - data in an anonymous file with mode; its path in path */

static inline int fuzz_memfile(const void *data, size_t len, int mode,
			               char *path, size_t pathlen)
{
    int     fd;

    if ((fd = memfd_create("fuzz", MFD_CLOEXEC)) < 0
	|| (len > 0 && write(fd, data, len) != (ssize_t) len)
	|| fchmod(fd, (mode_t) mode) < 0)
	abort();
    snprintf(path, pathlen, "/proc/self/fd/%d", fd);
    return (fd);
}

#endif
