/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	drain - read standard input to the end and exit 0
 * SYNOPSIS
 *	drain [ARG...]
 * DESCRIPTION
 *	The floor of a pipe(8) transport for bench/run: configuration (c)
 *	runs it where rrelay would run, with the same argv macros, so a
 *	delivery costs pipe(8)'s own work plus one minimal process that
 *	reads the whole message. Arguments are ignored.
 *
 *	Built three times by bench/run: "drain" links only the C library,
 *	as rrelay does; "drain-libs" also links libresolv, and "drain-ssl"
 *	libssl, libcrypto and libresolv, as rrelay did before it loaded
 *	them on first use: the difference is what linking them costs each
 *	process.
 * EXIT STATUS
 *	0 at end of input; 75 (EX_TEMPFAIL) on a read error.
 */

#include <errno.h>
#include <unistd.h>

int     main(void)
{
    static char buf[65536];
    ssize_t n;

    for (;;) {
	n = read(0, buf, sizeof(buf));
	if (n > 0)
	    continue;
	if (n == 0)
	    return (0);
	if (errno != EINTR)
	    return (75);
    }
}
