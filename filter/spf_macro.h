/* SPDX-License-Identifier: MIT */
#ifndef RR_SPF_MACRO_H
#define RR_SPF_MACRO_H

/* spf_macro.h - RFC 7208 section 7 macro expansion */

#include <stddef.h>

#define SPF_MACRO_OUT_MAX	2048	/* longest expansion kept */
#define SPF_NAME_MAX		253	/* longest domain name queried */

/* What the macro letters stand for in one check_host() call. */

struct spf_macro_env {
    const char *sender;			/* s: local-part@domain */
    const char *local;			/* l */
    const char *sender_domain;		/* o */
    const char *domain;			/* d: the current domain */
    const char *helo;			/* h: as the client gave it */
    const char *receiver;		/* r */
    int     family;			/* AF_INET or AF_INET6 */
    unsigned char addr[16];		/* i, c, v: the client address */
    /* p: the validated client name, or null for "unknown" */
    const char *(*validated) (void *arg, const char *domain);
    void   *arg;
};

extern int spf_macro_expand(const char *text, size_t len,
			            const struct spf_macro_env *env, char *out,
			            size_t outlen);
extern int spf_macro_domain(const char *text, const struct spf_macro_env *env,
			            char *out, size_t outlen);

#endif
