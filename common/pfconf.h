/* SPDX-License-Identifier: MIT */
#ifndef RR_PFCONF_H
#define RR_PFCONF_H

/* pfconf.h - read one parameter from a Postfix main.cf */

#include <stddef.h>

#define PFCONF_DIR	"/etc/postfix"	/* Postfix's default config_directory */

extern int pfconf_get(const char *dir, const char *name, char *buf,
		              size_t buflen);
extern int pfconf_list_has(const char *list, const char *word);

#endif
