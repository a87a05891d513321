/* SPDX-License-Identifier: MIT */
#ifndef RR_SLOTS_H
#define RR_SLOTS_H

/* slots.h - max_connections: session slots that the kernel holds for the process */

#include <sys/types.h>

#define SLOTS_STRIDE	16384		/* bytes per host: max_connections' bound */
#define SLOTS_PATH_MAX	4096

struct slots {
    int     fd;				/* -1: the file could not be used */
    off_t   held;			/* the byte locked, or -1 */
    int     warned;
    char    path[SLOTS_PATH_MAX];
    char    error[SLOTS_PATH_MAX + 100];
};

extern void slots_open(struct slots *sl, const char *dir,
		               unsigned long long hash);
extern int slots_take(struct slots *sl, int index, long max);
extern void slots_release(struct slots *sl);
extern void slots_close(struct slots *sl);
extern int slots_count(const char *dir, unsigned long long hash, int index,
		               long max);

#endif
