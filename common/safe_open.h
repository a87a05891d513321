/* SPDX-License-Identifier: MIT */
#ifndef RR_SAFE_OPEN_H
#define RR_SAFE_OPEN_H

/* safe_open.h - open a file that must be ours: no symlink, no hard link */

#include <stddef.h>

extern int safe_open(const char *path, int flags, char *why, size_t whylen);

#endif
