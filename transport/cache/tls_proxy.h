/* SPDX-License-Identifier: MIT */
#ifndef RR_TLS_PROXY_H
#define RR_TLS_PROXY_H

/* tls_proxy.h - carry bytes between a plaintext socket and a TLS connection */

#include <openssl/ssl.h>

struct tls_proxy_stats {
    unsigned long long up;		/* bytes from rrelay to the server */
    unsigned long long down;		/* bytes from the server to rrelay */
    const char *end;			/* how it ended */
};

extern void tls_proxy_run(int plain, SSL *ssl, int tcp, long idle_ms,
			          void (*first_read) (void *), void *ctx,
			          struct tls_proxy_stats *stats);

#endif
