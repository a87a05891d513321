/* SPDX-License-Identifier: MIT */
#ifndef RR_SMTP_AUTH_H
#define RR_SMTP_AUTH_H

/* smtp_auth.h - SMTP AUTH PLAIN and LOGIN, client side */

#include <stddef.h>

extern const char *auth_choose(const char *offered, const char *wanted);
extern int auth_base64(const void *data, size_t len, char *out,
		               size_t outlen);
extern int auth_plain(const char *user, const char *pass, char *out,
		              size_t outlen);

#endif
