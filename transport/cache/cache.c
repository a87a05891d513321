/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	cache 3
 * SUMMARY
 *	the table of idle SMTP connections that rrelay-cache keeps
 * SYNOPSIS
 *	#include "cache/cache.h"
 *
 *	int	cache_table_init(table, time_limit, use_limit, per_host,
 *			total, drop, drop_ctx)
 *
 *	void	cache_store(table, msg, fd, now_ms)
 *
 *	int	cache_take(table, key, now_ms, msg, fd)
 *
 *	void	cache_expire(table, now_ms)
 *
 *	long long cache_next_expiry(table)
 *
 *	void	cache_drain(table, why)
 *
 *	void	cache_table_free(table)
 * DESCRIPTION
 *	The pure part of rrelay-cache, without sockets: which idle
 *	connection to keep, to hand out, and to close. Connections are
 *	file descriptors to the table; drop(drop_ctx, fd, msg, why) is
 *	called for each one it lets go of, and closes it.
 *
 *	cache_table_init() sets the limits, as Postfix's scache(8) has
 *	them: a connection stays idle at most time_limit seconds
 *	(connection_cache_time_limit), carries at most use_limit
 *	deliveries (connection_reuse_count_limit), and at most per_host
 *	connections are kept per key (connection_cache_per_host); total
 *	bounds the whole table.
 *
 *	cache_store() takes a connection that has carried msg->use
 *	deliveries. One that reached use_limit is dropped at once. When
 *	its key already has per_host connections, or the table is full,
 *	the oldest of them goes to make room. A TLS session (fd -1,
 *	msg->lifetime set) is kept the same way for its own lifetime
 *	instead of time_limit.
 *
 *	cache_take() expires what is too old, then removes the newest
 *	entry for exactly key, copies its record into msg (a session's
 *	lifetime then counts the seconds it has left) and its descriptor
 *	into fd. It returns 1, or 0 when there is none. The cache never
 *	offers another key's entry.
 *
 *	cache_expire() drops the connections idle for time_limit or
 *	more, and the sessions past their lifetime; cache_next_expiry() tells when the next one will be due
 *	(-1: the table is empty). cache_drain() drops everything.
 * DIAGNOSTICS
 *	cache_table_init() returns -1 when out of memory.
 *--*/

#include <stdlib.h>
#include <string.h>

#include "cache/cache.h"

/* cache_table_init - an empty table with its limits */

int     cache_table_init(struct cache_table *table, long time_limit,
			         long use_limit, long per_host, int total,
	      void (*drop) (void *, int, const struct cache_msg *, const char *),
			         void *drop_ctx)
{
    memset(table, 0, sizeof(*table));
    if (total < 1 || (table->slots = calloc((size_t) total,
					    sizeof(*table->slots))) == 0)
	return (-1);
    table->total = total;
    table->time_limit_ms = time_limit * 1000LL;
    table->use_limit = (unsigned) use_limit;
    table->per_host = (int) per_host;
    table->drop = drop;
    table->drop_ctx = drop_ctx;
    return (0);
}

/* remove_at - take slot i out of the table, keeping the order */

static void remove_at(struct cache_table *table, int i)
{
    memmove(table->slots + i, table->slots + i + 1,
	    (size_t) (table->count - i - 1) * sizeof(*table->slots));
    table->count--;
}

/* drop_at - let go of the connection in slot i */

static void drop_at(struct cache_table *table, int i, const char *why)
{
    struct cache_entry entry = table->slots[i];

    remove_at(table, i);
    table->drop(table->drop_ctx, entry.fd, &entry.msg, why);
}

/* cache_store - keep an idle connection, within the limits */

void    cache_store(struct cache_table *table, const struct cache_msg *msg,
		            int fd, long long now_ms)
{
    struct cache_entry *entry;
    int     oldest = -1;
    int     same = 0;
    int     i;

    if (msg->use >= table->use_limit) {
	table->drop(table->drop_ctx, fd, msg, "reuse count limit");
	return;
    }
    for (i = table->count - 1; i >= 0; i--) {
	if (strcmp(table->slots[i].msg.key, msg->key) == 0) {
	    same++;
	    oldest = i;
	}
    }
    if (same >= table->per_host)
	drop_at(table, oldest, "per-host limit");
    if (table->count >= table->total)
	drop_at(table, 0, "cache full");
    entry = &table->slots[table->count++];
    entry->fd = fd;
    entry->stored_ms = now_ms;
    entry->expires_ms = now_ms + (msg->lifetime ? msg->lifetime * 1000LL :
				  table->time_limit_ms);
    entry->msg = *msg;
}

/* cache_take - the newest entry for exactly key: 1, or 0 */

int     cache_take(struct cache_table *table, const char *key,
		           long long now_ms, struct cache_msg *msg, int *fd)
{
    struct cache_entry *entry;
    int     i;

    cache_expire(table, now_ms);
    for (i = table->count - 1; i >= 0; i--) {
	entry = &table->slots[i];
	if (strcmp(entry->msg.key, key) == 0) {
	    *fd = entry->fd;
	    *msg = entry->msg;
	    if (msg->lifetime)
		msg->lifetime = (uint32_t) ((entry->expires_ms - now_ms + 999)
					    / 1000);
	    remove_at(table, i);
	    return (1);
	}
    }
    return (0);
}

/* cache_expire - drop what has been idle too long */

void    cache_expire(struct cache_table *table, long long now_ms)
{
    int     i;

    for (i = 0; i < table->count; /* void */ ) {
	if (now_ms >= table->slots[i].expires_ms)
	    drop_at(table, i, table->slots[i].msg.lifetime ?
		    "session lifetime" : "idle time limit");
	else
	    i++;
    }
}

/* cache_next_expiry - when the next connection is due, or -1 */

long long cache_next_expiry(const struct cache_table *table)
{
    long long first = -1;
    int     i;

    for (i = 0; i < table->count; i++)
	if (first < 0 || table->slots[i].expires_ms < first)
	    first = table->slots[i].expires_ms;
    return (first);
}

/* cache_drain - let go of every connection */

void    cache_drain(struct cache_table *table, const char *why)
{
    while (table->count > 0)
	drop_at(table, table->count - 1, why);
}

/* cache_table_free - release the table (drain it first) */

void    cache_table_free(struct cache_table *table)
{
    free(table->slots);
    table->slots = 0;
    table->count = 0;
}

/* cache_table_wipe - zero and free the table, closing and telling nothing (a forked child's copy) */

void    cache_table_wipe(struct cache_table *table)
{
    if (table->slots)
	explicit_bzero(table->slots, (size_t) table->total * sizeof(*table->slots));
    cache_table_free(table);
}
