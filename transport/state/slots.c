/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	slots 3
 * SUMMARY
 *	max_connections: session slots that the kernel holds for the process
 * SYNOPSIS
 *	#include "state/slots.h"
 *
 *	void	slots_open(sl, dir, hash)
 *	int	slots_take(sl, index, max)
 *	void	slots_release(sl)
 *	void	slots_close(sl)
 *	int	slots_count(dir, hash, index, max)
 * DESCRIPTION
 *	Each host list with max_connections has a slot file in the state
 *	directory, "rrelay-HASH.slots". Host i's slots are the bytes
 *	i * SLOTS_STRIDE to i * SLOTS_STRIDE + max - 1, and a session holds
 *	one of them with an open file description lock (F_OFD_SETLK) for
 *	as long as it is open. The kernel drops the lock when the process
 *	ends, however it ends, so a delivery killed with -9 leaks no slot,
 *	and nothing needs cleaning up. The file itself stays empty.
 *
 *	slots_open() opens the file (safe_open(): no symbolic links, owned
 *	by us). slots_take() takes a free slot of host index, or returns 0
 *	when all max are taken; the process holds at most one slot, so it
 *	first releases the one it holds. When the file cannot be used,
 *	slots_take() warns once and returns 1: the limit is not enforced,
 *	but mail is never held back by rrelay's own trouble.
 *	slots_release() gives the slot back. slots_count() tells how many
 *	of host index's slots are taken, for "rrelay status".
 *--*/

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "safe_open.h"
#include "state/slots.h"

/* slot_lock - try one byte-range lock; F_WRLCK, F_UNLCK or F_GETLK */

static int slot_lock(int fd, int cmd, short type, off_t offset,
		             struct flock *fl)
{
    memset(fl, 0, sizeof(*fl));
    fl->l_type = type;
    fl->l_whence = SEEK_SET;
    fl->l_start = offset;
    fl->l_len = 1;
    return (fcntl(fd, cmd, fl));
}

/* slots_open - open the list's slot file */

void    slots_open(struct slots *sl, const char *dir, unsigned long long hash)
{
    char    why[SLOTS_PATH_MAX + 100];

    sl->held = -1;
    sl->warned = 0;
    snprintf(sl->path, sizeof(sl->path), "%s/rrelay-%016llx.slots", dir,
	     hash);
    sl->fd = safe_open(sl->path, O_RDWR | O_CREAT, why, sizeof(why));
    if (sl->fd < 0)
	snprintf(sl->error, sizeof(sl->error), "%s", why);
}

/* slots_take - hold a free session slot of host index */

int     slots_take(struct slots *sl, int index, long max)
{
    struct flock fl;
    off_t   base = (off_t) index * SLOTS_STRIDE;
    long    i;

    slots_release(sl);
    if (sl->fd < 0) {
	if (!sl->warned++)
	    log_warn("cannot use the slot file: %s; max_connections is not "
		     "enforced for this delivery", sl->error);
	return (1);
    }
    for (i = 0; i < max && i < SLOTS_STRIDE; i++) {
	if (slot_lock(sl->fd, F_OFD_SETLK, F_WRLCK, base + i, &fl) == 0) {
	    sl->held = base + i;
	    return (1);
	}
	if (errno != EAGAIN && errno != EACCES) {
	    log_warn("slot file %s: lock: %s; max_connections is not "
		     "enforced for this delivery", sl->path, strerror(errno));
	    return (1);
	}
    }
    return (0);
}

/* slots_release - give the held slot back */

void    slots_release(struct slots *sl)
{
    struct flock fl;

    if (sl->fd >= 0 && sl->held >= 0)
	(void) slot_lock(sl->fd, F_OFD_SETLK, F_UNLCK, sl->held, &fl);
    sl->held = -1;
}

/* slots_close - release and close */

void    slots_close(struct slots *sl)
{
    slots_release(sl);
    if (sl->fd >= 0)
	(void) close(sl->fd);
    sl->fd = -1;
}

/* slots_count - the slots of host index that sessions hold now */

int     slots_count(const char *dir, unsigned long long hash, int index,
		            long max)
{
    struct slots sl;
    struct flock fl;
    int     count = 0;
    long    i;

    slots_open(&sl, dir, hash);
    for (i = 0; sl.fd >= 0 && i < max && i < SLOTS_STRIDE; i++)
	if (slot_lock(sl.fd, F_OFD_GETLK, F_WRLCK,
		      (off_t) index * SLOTS_STRIDE + i, &fl) == 0
	    && fl.l_type != F_UNLCK)
	    count++;
    slots_close(&sl);
    return (count);
}
