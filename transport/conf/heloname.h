/* SPDX-License-Identifier: MIT */
#ifndef RR_HELONAME_H
#define RR_HELONAME_H

/* heloname.h - this host's name for EHLO when helo_name is unset */

#include <time.h>

#define HELO_CACHE_S	60		/* seconds a looked-up name is kept */
#define HELO_FILE	"helo_name"	/* its file in the state directory */

extern int heloname_valid(const char *name);
extern char *heloname_default(const char *state_directory, const char *host,
				      time_t now);

#endif
