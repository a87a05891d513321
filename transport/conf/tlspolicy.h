/* SPDX-License-Identifier: MIT */
#ifndef RR_TLSPOLICY_H
#define RR_TLSPOLICY_H

/* tlspolicy.h - per-destination TLS policy and SMTP AUTH credentials */

#include <stddef.h>

#include "conf/hostlist.h"

#define POLICY_MAX	256		/* entries in one file */
#define CRED_MAX	256		/* user name or password */
#define MATCH_MAX	512		/* "name1:name2" */

enum tls_level { TLS_NONE, TLS_MAY, TLS_ENCRYPT, TLS_VERIFY, TLS_SECURE };

#define TLS_LEVEL_NAMES	"none|may|encrypt|verify|secure"

struct tls_policy_entry {
    char    dest[DEST_TEXT_MAX];	/* normalized destination */
    int     level;			/* enum tls_level */
    char    match[MATCH_MAX];		/* names for "secure", ':'-separated */
    int     wrapper;			/* implicit TLS, port 465 style */
};

struct tls_policy {
    int     count;
    struct tls_policy_entry entries[POLICY_MAX];
};

struct auth_entry {
    char    dest[DEST_TEXT_MAX];
    char    user[CRED_MAX];
    char    pass[CRED_MAX];
};

struct auth_table {
    int     count;
    struct auth_entry entries[POLICY_MAX];
};

extern int tlspolicy_load(const char *path, struct tls_policy *policy,
			          char *err, size_t errlen);
extern const struct tls_policy_entry *tlspolicy_find(const struct tls_policy *,
						             const char *dest);
extern int authfile_load(const char *path, struct auth_table *table,
			         char *err, size_t errlen);
extern const struct auth_entry *authfile_find(const struct auth_table *table,
					              const char *dest);
extern void authfile_wipe(struct auth_table *table);

#endif
