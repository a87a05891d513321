/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	safe_open 3
 * SUMMARY
 *	open a file that must be ours
 * SYNOPSIS
 *	#include "safe_open.h"
 *
 *	int	safe_open(path, flags, why, whylen)
 * DESCRIPTION
 *	safe_open() opens path with the open(2) flags given plus
 *	O_NOFOLLOW and O_CLOEXEC (mode 0600 when O_CREAT creates it), and
 *	then insists that what it opened is a regular file with one link,
 *	owned by the effective user. This is Postfix's safe_open() idea:
 *	another user must not be able to point our writes elsewhere with a
 *	symlink or hard link, nor feed us a file we did not write.
 * DIAGNOSTICS
 *	Returns the descriptor, or -1 with a reason in why.
 *--*/

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "safe_open.h"

/* safe_open - open, then check type, link count and owner */

int     safe_open(const char *path, int flags, char *why, size_t whylen)
{
    struct stat st;
    int     fd;

    if (whylen > 0)
	why[0] = 0;				/* written on every path */

    fd = open(path, flags | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600);
    if (fd < 0) {
	snprintf(why, whylen, "open %s: %s", path, strerror(errno));
	return (-1);
    }
    if (fstat(fd, &st) < 0) {
	snprintf(why, whylen, "fstat %s: %s", path, strerror(errno));
	goto fail;
    }
    if (!S_ISREG(st.st_mode)) {
	snprintf(why, whylen, "%s is not a regular file", path);
	goto fail;
    }
    if (st.st_nlink != 1) {
	snprintf(why, whylen, "%s has %lu hard links", path,
		 (unsigned long) st.st_nlink);
	goto fail;
    }
    if (st.st_uid != geteuid()) {
	snprintf(why, whylen, "%s is owned by uid %lu, not uid %lu", path,
		 (unsigned long) st.st_uid, (unsigned long) geteuid());
	goto fail;
    }
    return (fd);

fail:
    (void) close(fd);
    return (-1);
}
