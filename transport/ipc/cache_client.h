/* SPDX-License-Identifier: MIT */
#ifndef RR_CACHE_CLIENT_H
#define RR_CACHE_CLIENT_H

/* cache_client.h - rrelay's side of rrelay-cache */

#include <stddef.h>

#include "ipc/cache_proto.h"
#include "conf/rrconfig.h"
#include "net/smtp_reply.h"

/* One idle connection, as the cache gives it or takes it. */
struct cache_conn {
    int     fd;
    unsigned use;			/* deliveries it has carried */
    char    relay[CACHE_RELAY_MAX];
    char    addr[CACHE_ADDR_MAX];
    char    ext[CACHE_EXT_MAX];		/* EHLO keywords, one per line */
    struct cache_tls tls;		/* its TLS end, when the cache is */
};

/* What came of asking the cache to be a connection's TLS end. */
enum { TLS_END_DONE, TLS_END_FAIL, TLS_END_NONE, TLS_END_LOST };

/* What a session knows about its connection's life in the cache. */
struct cache_use {
    char    key[CACHE_KEY_MAX];		/* "": this session is never cached */
    unsigned use;			/* deliveries on it, this one too */
    int     reused;			/* it came from the cache */
    int     stale;			/* reused, then failed before MAIL */
    char    tls_key[CACHE_KEY_MAX];	/* its TLS session's, or "" */
};

extern void cache_client_reset(void);
extern int cache_key(char *buf, size_t len, const char *dest, int level,
		             const char *helo, const char *policy);
extern int cache_get(const struct rrconfig *conf, const char *key,
		             long long deadline_ms, struct cache_conn *conn);
extern int cache_put(const struct rrconfig *conf, const char *key,
		             const struct cache_conn *conn);
extern int cache_session_get(const struct rrconfig *conf, const char *key,
			             long long deadline_ms, unsigned char *buf,
			             size_t size, size_t *len);
extern int cache_session_put(const struct rrconfig *conf, const char *key,
			             const unsigned char *buf, size_t len,
			             long lifetime);
extern int cache_tls_start(const struct rrconfig *conf, const char *key,
			           const char *relay, const char *addr, int fd,
			           struct cache_tls *tls, long long deadline_ms,
			           int *plain, char *why, size_t whylen);
extern int cache_ext_join(char (*ext)[REPLY_EXT_LEN], int count, char *buf,
			          size_t len);
extern int cache_ext_split(const char *text, char (*ext)[REPLY_EXT_LEN],
			           int max);

#endif
