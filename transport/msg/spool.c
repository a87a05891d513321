/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	spool 3
 * SUMMARY
 *	keep the message in an unlinked file so it can be sent again
 * SYNOPSIS
 *	#include "msg/spool.h"
 *
 *	int	spool_read(spool, in_fd, dir, why, whylen)
 *
 *	off_t	spool_wire_estimate(spool)
 *
 *	void	spool_close(spool)
 * DESCRIPTION
 *	spool_read() copies the whole message from in_fd (pipe(8)'s
 *	stdin) into a file that has no name, so that a failover can send
 *	it again to the next host and nothing is left behind when the
 *	process dies. Up to SPOOL_MEMORY_MAX bytes, the file is a memfd
 *	(memory; creating an inode on disk cost more than the rest of a
 *	small delivery). A longer message moves to a file in dir
 *	(O_TMPFILE, or a mkstemp() file unlinked at once) and continues
 *	there. It copies in fixed 64 KB blocks, so memory stays flat
 *	whatever the message size. On the way it counts the bytes and
 *	lines and notes 8-bit content, for SIZE= and BODY=8BITMIME.
 *
 *	spool_wire_estimate() is the size on the wire: one CR per line
 *	is added. Dot-stuffing and folding add a little more; RFC 1870
 *	asks only for an estimate.
 * DIAGNOSTICS
 *	spool_read() returns -1 with a reason (the directory is unusable,
 *	the disk is full, stdin gave a read error); spool->full tells a
 *	full disk or quota (4.3.1 rather than 4.3.0).
 *--*/

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <unistd.h>

#include "msg/spool.h"

#define SPOOL_BLOCK	65536

/* spool_create - an anonymous file in dir */

static int spool_create(const char *dir, char *why, size_t whylen)
{
    char    path[4096];
    int     fd;

    if (whylen > 0)
	why[0] = 0;				/* written on every path */

#ifdef O_TMPFILE
    fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd >= 0)
	return (fd);
    if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL) {
	snprintf(why, whylen, "create spool file in %s: %s", dir,
		 strerror(errno));
	return (-1);
    }
#endif
    snprintf(path, sizeof(path), "%s/spool.XXXXXX", dir);
    if ((fd = mkostemp(path, O_CLOEXEC)) < 0) {
	snprintf(why, whylen, "create spool file in %s: %s", dir,
		 strerror(errno));
	return (-1);
    }
    (void) unlink(path);
    return (fd);
}

/* write_all - write a whole buffer, retrying short writes */

static int write_all(int fd, const char *buf, size_t len)
{
    ssize_t n;

    while (len > 0) {
	n = write(fd, buf, len);
	if (n < 0 && errno == EINTR)
	    continue;
	if (n <= 0)
	    return (-1);
	buf += n;
	len -= (size_t) n;
    }
    return (0);
}

/* scan - count lines and look for 8-bit bytes */

static void scan(struct spool *spool, const char *buf, size_t len)
{
    const char *cp = buf;
    const char *end = buf + len;
    size_t  i;

    while ((cp = memchr(cp, '\n', (size_t) (end - cp))) != 0) {
	spool->lines++;
	cp++;
    }
    if (!spool->eightbit)
	for (i = 0; i < len; i++)
	    if (buf[i] & 0x80) {
		spool->eightbit = 1;
		break;
	    }
}

/* spool_to_disk - move the memory spool's bytes to a file in dir */

static int spool_to_disk(struct spool *spool, const char *dir, char *why,
			         size_t whylen)
{
    int     fd;
    off_t   off = 0;
    ssize_t n = 0;

    if (whylen > 0)
	why[0] = 0;				/* written on every path */

    if ((fd = spool_create(dir, why, whylen)) < 0)
	return (-1);
    while (off < spool->size
	   && ((n = sendfile(fd, spool->fd, &off, (size_t) (spool->size - off)))
	       > 0 || (n < 0 && errno == EINTR)))
	 /* void */ ;
    if (off < spool->size || lseek(fd, off, SEEK_SET) < 0) {
	spool->full = n < 0 && (errno == ENOSPC || errno == EDQUOT);
	snprintf(why, whylen, "write spool file in %s: %s", dir,
		 n == 0 ? "short copy" : strerror(errno));
	(void) close(fd);
	return (-1);
    }
    (void) close(spool->fd);
    spool->fd = fd;
    spool->on_disk = 1;
    return (0);
}

/* spool_read - copy stdin into an anonymous file */

int     spool_read(struct spool *spool, int in_fd, const char *dir,
		           char *why, size_t whylen)
{
    char    buf[SPOOL_BLOCK];
    ssize_t n;

    if (whylen > 0)
	why[0] = 0;				/* written on every path */

    memset(spool, 0, sizeof(*spool));
    if ((spool->fd = memfd_create("rrelay-spool", MFD_CLOEXEC)) < 0) {
	if ((spool->fd = spool_create(dir, why, whylen)) < 0)
	    return (-1);
	spool->on_disk = 1;
    }
    for (;;) {
	n = read(in_fd, buf, sizeof(buf));
	if (n < 0 && errno == EINTR)
	    continue;
	if (n < 0) {
	    snprintf(why, whylen, "read message: %s", strerror(errno));
	    goto fail;
	}
	if (n == 0)
	    break;
	if (!spool->on_disk && spool->size + n > SPOOL_MEMORY_MAX
	    && spool_to_disk(spool, dir, why, whylen) < 0)
	    goto fail;
	if (write_all(spool->fd, buf, (size_t) n) < 0) {
	    spool->full = errno == ENOSPC || errno == EDQUOT;
	    snprintf(why, whylen, "write spool file in %s: %s",
		     spool->on_disk ? dir : "memory", strerror(errno));
	    goto fail;
	}
	spool->size += n;
	scan(spool, buf, (size_t) n);
    }
    return (0);

fail:
    spool_close(spool);
    return (-1);
}

/* spool_wire_estimate - message size on the wire, for SIZE= */

off_t   spool_wire_estimate(const struct spool *spool)
{
    return (spool->size + spool->lines);
}

/* spool_close - drop the spool file */

void    spool_close(struct spool *spool)
{
    if (spool->fd >= 0)
	(void) close(spool->fd);
    spool->fd = -1;
}
