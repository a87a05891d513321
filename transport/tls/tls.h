/* SPDX-License-Identifier: MIT */
#ifndef RR_TLS_H
#define RR_TLS_H

/* tls.h - OpenSSL set-up for connections to upstream hosts */

#include <stddef.h>

#include <openssl/ssl.h>

#include "conf/rrconfig.h"

struct tls_info {
    int     active;			/* the session is encrypted */
    int     peer_cert;			/* the server showed a certificate */
    int     verified;			/* trusted, and the name matched */
    char    version[16];		/* "TLSv1.3" */
    char    cipher[64];
    char    verify_error[128];		/* why it was not verified */
};

extern SSL *tls_prepare(const struct rrconfig *conf, const char *host,
			        const char *match, char *why, size_t whylen);
extern void tls_describe(SSL *ssl, struct tls_info *info);
extern const char *tls_summary(const struct tls_info *info, char *buf,
			               size_t len);

#endif
