/* SPDX-License-Identifier: MIT */
#ifndef RR_SPOOL_H
#define RR_SPOOL_H

/* spool.h - keep the message in an unlinked file so it can be sent again */

#include <stddef.h>
#include <sys/types.h>

#define SPOOL_MEMORY_MAX	(1024 * 1024)	/* longer messages go to disk */

struct spool {
    int     fd;				/* memfd, or unlinked temp file */
    int     on_disk;			/* fd is a file in the state directory */
    int     full;			/* spool_read failed: no space */
    off_t   size;			/* bytes as queued */
    off_t   lines;			/* LF count */
    int     eightbit;			/* has bytes with the high bit set */
};

extern int spool_read(struct spool *spool, int in_fd, const char *dir,
		              char *why, size_t whylen);
extern off_t spool_wire_estimate(const struct spool *spool);
extern void spool_close(struct spool *spool);

#endif
