/* SPDX-License-Identifier: MIT */
#ifndef RR_TLS_RESUME_H
#define RR_TLS_RESUME_H

/* tls_resume.h - TLS sessions kept in rrelay-cache between deliveries */

#include <stddef.h>

#include <openssl/ssl.h>

#include "conf/rrconfig.h"

struct tls_peer {
    const char *relay;			/* "name[addr]:port" */
    int     level;			/* enum tls_level */
    const char *sni;			/* the name verified and sent */
    const char *match;			/* "secure" names, or null */
};

extern int tls_resume_offer(const struct rrconfig *conf,
			            const struct tls_peer *peer, SSL *ssl,
			            long long deadline_ms, char *key,
			            size_t keylen);
extern void tls_resume_keep(const struct rrconfig *conf, const char *key,
			            SSL *ssl);
extern int tls_resumed(SSL *ssl);
extern int tls_resume_policy(const struct rrconfig *conf, int level,
			             const char *match, char *buf, size_t len);

#endif
