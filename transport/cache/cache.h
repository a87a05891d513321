/* SPDX-License-Identifier: MIT */
#ifndef RR_CACHE_H
#define RR_CACHE_H

/* cache.h - the table of idle SMTP connections that rrelay-cache keeps */

#include "ipc/cache_proto.h"

struct cache_entry {
    int     fd;
    long long stored_ms;		/* when it went idle */
    long long expires_ms;		/* when it must go */
    struct cache_msg msg;		/* key, relay, addr, ext, use */
};

struct cache_table {
    struct cache_entry *slots;		/* oldest first */
    int     count;
    int     total;			/* room in slots */
    long long time_limit_ms;		/* connection_cache_time_limit */
    unsigned use_limit;			/* connection_reuse_count_limit */
    int     per_host;			/* connection_cache_per_host */
    void    (*drop) (void *, int, const struct cache_msg *, const char *);
    void   *drop_ctx;			/* drop(ctx, fd, msg, why) closes fd */
};

extern int cache_table_init(struct cache_table *table, long time_limit,
			            long use_limit, long per_host, int total,
	      void (*drop) (void *, int, const struct cache_msg *, const char *),
			            void *drop_ctx);
extern void cache_store(struct cache_table *table, const struct cache_msg *msg,
			        int fd, long long now_ms);
extern int cache_take(struct cache_table *table, const char *key,
		              long long now_ms, struct cache_msg *msg, int *fd);
extern void cache_expire(struct cache_table *table, long long now_ms);
extern long long cache_next_expiry(const struct cache_table *table);
extern void cache_drain(struct cache_table *table, const char *why);
extern void cache_table_free(struct cache_table *table);
extern void cache_table_wipe(struct cache_table *table);

#endif
