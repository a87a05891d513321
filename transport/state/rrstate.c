/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	rrstate 3
 * SUMMARY
 *	round-robin cursor and host health, shared between processes
 * SYNOPSIS
 *	#include "state/rrstate.h"
 *
 *	void	rrstate_open(st, dir, list)
 *	void	rrstate_limit(st, max_backoff)
 *	void	rrstate_close(st)
 *
 *	void	rrstate_pick(st, now, lease, pick)
 *	void	rrstate_next(st, after, tried, now, lease, pick)
 *
 *	void	rrstate_mark_up(st, index, addr, flags, sent, now, change)
 *	void	rrstate_mark_down(st, index, addr, error, since, now,
 *				backoff, max_backoff, change)
 *	int	rrstate_other_live(st, index, tried, now)
 *
 *	void	rrstate_count_sent(st, index, now)
 *	void	rrstate_count_result(st, index, result, now)
 *	void	rrstate_note_error(st, index, error, now)
 *
 *	int	rrstate_read(fd, head, hosts, why, whylen)
 *
 *	void	rrstate_begin(st, now)
 *	void	rrstate_commit(st, now)
 *	void	rrstate_take(host, now, lease)
 * DESCRIPTION
 *	Every distinct destination list has one state file in the state
 *	directory, "rrelay-HASH.state", named by hostlist_hash(). It holds
 *	the list's round-robin cursor and, per destination, whether it is
 *	down and until when, its consecutive failures, the messages sent
 *	through it and its last error. All rrelay processes share it.
 *
 *	Each operation is one short transaction: take an exclusive
 *	flock(2), read and check the whole file, change it, write it back
 *	with one pwrite(2), release the lock. The file is a few KB, so
 *	this costs microseconds, and a process that dies mid-way leaves
 *	nothing locked.
 *
 *	rrstate_pick() chooses the host for a new message: the first live
 *	host at or after the cursor, in list order; the cursor then moves
 *	past it, once per message. So with L live hosts, consecutive
 *	messages go to the live hosts in list order. When no host is
 *	live, it chooses the host whose backoff ends first, and sets
 *	pick->probe. Both report the down hosts they passed over, so
 *	that every skip is logged. A host whose backoff has passed but that has not yet
 *	succeeded again is given a lease: it counts as down for lease
 *	seconds more, so that only one process probes it at a time.
 *
 *	rrstate_next() finds the next live host after "after" in list
 *	order that the message has not tried, for failover within one
 *	message, or -1 in pick->index. When the cursor points at that
 *	host, it moves past it, so the next message does not go to the
 *	host that has just taken a failed-over one.
 *
 *	rrstate_other_live() tells whether a live host other than index
 *	is left that the message has not tried: whether a delivery that
 *	waits too long for index's greeting has somewhere else to go.
 *
 *	rrstate_mark_down() doubles the backoff for each consecutive
 *	failure, up to max_backoff. A failure is counted once: when the
 *	host's last failure was recorded after since (when this attempt
 *	began), another delivery that overlapped this one has counted it,
 *	and the backoff stays as it is (change->counted is 0). A last
 *	failure recorded after now (the clock went back, or another
 *	process wrote while this one waited for the lock) counts as now,
 *	so no host is skipped for longer than max_backoff.
 *	rrstate_mark_up() clears it, records whether the session used
 *	TLS and verified the server, and adds sent to the messages
 *	delivered (one transaction, not two). Both report in *change
 *	whether the host changed state, for logging.
 *
 *	rrstate_limit() sets the longest a host may stay down from now:
 *	each transaction caps a down_until that lies further ahead, as
 *	after the clock was stepped back (or a file written by hand), so
 *	no host is skipped for longer than max_backoff from now. Without
 *	it there is no cap.
 *
 *	A missing, unreadable, truncated or corrupt file never stops
 *	delivery: it is logged, treated as empty (a random cursor, no
 *	host down) and rewritten. When the file cannot be opened at all,
 *	or is not safely ours, the run keeps its state in memory only.
 *
 *	rrstate_count_result() counts an attempt the host did not take:
 *	RR_RESULT_DEFERRED (a temporary failure: 4xx or host trouble; the
 *	message may have gone on to another host) or RR_RESULT_BOUNCED (a
 *	5xx for a recipient). With sent, the times the host went down and
 *	when its state last changed, these feed the metrics (prom.c).
 *
 *	rrstate_begin() and rrstate_commit() are one transaction's start
 *	and end, and rrstate_take() claims a host for a delivery (a lease
 *	when it is on probation), for capstate.c, which adds the capacity
 *	scheduler's transactions.
 *
 *	rrstate_read() reads and checks a state file for "rrelay status".
 *	A file of another format version (version 1 had no counters,
 *	version 2 no capacity fields) is treated as damaged: rebuilt once,
 *	with a warning.
 *--*/

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "safe_open.h"
#include "state/rrstate.h"

#define SATURATED_MAX	(8 * 86400L)	/* quota_backoff's bound, and a day */

/* file_size - bytes in a state file for count hosts */

static size_t file_size(uint32_t count)
{
    return (sizeof(struct rr_head) + count * sizeof(struct rr_host));
}

/* checksum - FNV-1a over head (with checksum 0) and the host records */

static uint64_t checksum(const struct rr_head *head,
			         const struct rr_host *hosts)
{
    struct rr_head copy = *head;
    const unsigned char *cp;
    uint64_t hash = 0xcbf29ce484222325ULL;
    size_t  i;

    copy.checksum = 0;
    for (cp = (const unsigned char *) &copy, i = 0; i < sizeof(copy); i++) {
	hash ^= cp[i];
	hash *= 0x100000001b3ULL;
    }
    cp = (const unsigned char *) hosts;
    for (i = 0; i < head->count * sizeof(*hosts); i++) {
	hash ^= cp[i];
	hash *= 0x100000001b3ULL;
    }
    return (hash);
}

/* rrstate_read - read a state file and check that it is whole */

int     rrstate_read(int fd, struct rr_head *head, struct rr_host *hosts,
		             char *why, size_t whylen)
{
    struct stat st;
    ssize_t n;

    if (whylen > 0)
	why[0] = 0;				/* written on every path */

    if (fstat(fd, &st) < 0) {
	snprintf(why, whylen, "fstat: %s", strerror(errno));
	return (-1);
    }
    if (st.st_size == 0) {
	snprintf(why, whylen, "empty");
	return (0);
    }
    n = pread(fd, head, sizeof(*head), 0);
    if (n != (ssize_t) sizeof(*head)) {
	snprintf(why, whylen, "truncated header");
	return (-1);
    }
    if (memcmp(head->magic, RRSTATE_MAGIC, sizeof(head->magic)) != 0) {
	snprintf(why, whylen, "bad magic");
	return (-1);
    }
    if (head->version != RRSTATE_VERSION) {
	snprintf(why, whylen, "format version %lu, from another rrelay "
		 "version; this one writes %d", (unsigned long) head->version,
		 RRSTATE_VERSION);
	return (-1);
    }
    if (head->count < 1 || head->count > HOSTLIST_MAX
	|| (size_t) st.st_size != file_size(head->count)) {
	snprintf(why, whylen, "bad size %lld for %lu hosts",
		 (long long) st.st_size, (unsigned long) head->count);
	return (-1);
    }
    n = pread(fd, hosts, head->count * sizeof(*hosts), sizeof(*head));
    if (n != (ssize_t) (head->count * sizeof(*hosts))) {
	snprintf(why, whylen, "truncated host records");
	return (-1);
    }
    if (checksum(head, hosts) != head->checksum) {
	snprintf(why, whylen, "checksum mismatch");
	return (-1);
    }
    return (1);
}

/* fresh - an empty state for the list, starting at a random host */

static void fresh(struct rrstate *st)
{
    int     i;

    memset(&st->head, 0, sizeof(st->head));
    memset(st->hosts, 0, sizeof(st->hosts));
    memcpy(st->head.magic, RRSTATE_MAGIC, sizeof(st->head.magic));
    st->head.version = RRSTATE_VERSION;
    st->head.count = (uint32_t) st->list->count;
    st->head.hash = hostlist_hash(st->list);
    st->head.cursor = ((uint64_t) getpid() ^ (uint64_t) time(0))
	% (uint64_t) st->list->count;
    for (i = 0; i < st->list->count; i++)
	snprintf(st->hosts[i].dest, sizeof(st->hosts[i].dest), "%s",
		 st->list->dests[i].text);
}

/* matches_list - the file describes this very list */

static int matches_list(const struct rrstate *st)
{
    int     i;

    if (st->head.count != (uint32_t) st->list->count
	|| st->head.hash != hostlist_hash(st->list))
	return (0);
    for (i = 0; i < st->list->count; i++)
	if (strncmp(st->hosts[i].dest, st->list->dests[i].text,
		    sizeof(st->hosts[i].dest)) != 0)
	    return (0);
    return (1);
}

/* cap_down - no host down for longer than max_down, nor saturated for long */

static void cap_down(struct rrstate *st, time_t now)
{
    uint32_t i;

    for (i = 0; i < st->head.count; i++) {
	if (st->hosts[i].saturated_until > (int64_t) now + SATURATED_MAX)
	    st->hosts[i].saturated_until = (int64_t) now + SATURATED_MAX;
	if (st->max_down > 0
	    && st->hosts[i].down_until > (int64_t) now + st->max_down)
	    st->hosts[i].down_until = (int64_t) now + st->max_down;
    }
}

/* rrstate_begin - lock the file and load it; rebuild what is damaged; cap backoffs */

void    rrstate_begin(struct rrstate *st, time_t now)
{
    char    why[200];
    int     status;

    if (st->fd < 0)
	return;
    if (flock(st->fd, LOCK_EX) < 0)
	log_warn("state file %s: lock: %s", st->path, strerror(errno));
    status = rrstate_read(st->fd, &st->head, st->hosts, why, sizeof(why));
    if (status == 1 && st->head.cursor >= st->head.count) {
	snprintf(why, sizeof(why), "cursor out of range");
	status = -1;
    }
    if (status == 1 && !matches_list(st)) {
	snprintf(why, sizeof(why), "it describes another destination list");
	status = -1;
    }
    if (status < 0)
	log_warn("state file %s is damaged (%s): starting afresh and "
		 "rewriting it", st->path, why);
    if (status <= 0)
	fresh(st);
    st->whole = status == 1;
    cap_down(st, now);
}

/* rrstate_commit - write the state back and unlock */

void    rrstate_commit(struct rrstate *st, time_t now)
{
    size_t  size = file_size(st->head.count);
    char    buf[sizeof(struct rr_head) + sizeof(st->hosts)];
    ssize_t n;

    if (st->fd < 0)
	return;
    st->head.updated = now;
    st->head.checksum = checksum(&st->head, st->hosts);
    memcpy(buf, &st->head, sizeof(st->head));
    memcpy(buf + sizeof(st->head), st->hosts, size - sizeof(st->head));
    n = pwrite(st->fd, buf, size, 0);
    if (n != (ssize_t) size)
	log_warn("state file %s: write: %s", st->path,
		 n < 0 ? strerror(errno) : "short write");
    else if (!st->whole && ftruncate(st->fd, (off_t) size) < 0)
	log_warn("state file %s: truncate: %s", st->path, strerror(errno));
    (void) flock(st->fd, LOCK_UN);
}

/* end - unlock without writing */

static void end(struct rrstate *st)
{
    if (st->fd >= 0)
	(void) flock(st->fd, LOCK_UN);
}

/* rrstate_open - find the list's state file; fall back to memory */

void    rrstate_open(struct rrstate *st, const char *dir,
		             const struct hostlist *list)
{
    char    why[RRSTATE_PATH_MAX + 100];

    st->list = list;
    st->fd = -1;
    st->max_down = 0;
    snprintf(st->path, sizeof(st->path), "%s/rrelay-%016llx.state", dir,
	     hostlist_hash(list));
    fresh(st);
    st->fd = safe_open(st->path, O_RDWR | O_CREAT, why, sizeof(why));
    if (st->fd < 0)
	log_warn("cannot use state file: %s; this delivery does not share "
		 "state with others", why);
}

/* rrstate_limit - the longest a host stays down from now */

void    rrstate_limit(struct rrstate *st, long max_backoff)
{
    st->max_down = max_backoff;
}

/* rrstate_close - release the state file */

void    rrstate_close(struct rrstate *st)
{
    if (st->fd >= 0)
	(void) close(st->fd);
    st->fd = -1;
}

/* is_live - a host may be used now */

static int is_live(const struct rr_host *host, time_t now)
{
    return (host->down_until <= (int64_t) now
	    && host->saturated_until <= (int64_t) now);
}

/* rrstate_take - claim a host; one that is on probation gets a lease */

void    rrstate_take(struct rr_host *host, time_t now, long lease)
{
    if (host->failures > 0)
	host->down_until = (int64_t) now + lease;
}

/* rrstate_pick - the host for a new message; advance the cursor */

void    rrstate_pick(struct rrstate *st, time_t now, long lease,
		             struct rr_pick *pick)
{
    uint32_t count;
    uint32_t k;
    uint32_t j;

    rrstate_begin(st, now);
    count = st->head.count;
    pick->index = -1;
    pick->probe = 0;
    pick->nskipped = 0;
    for (k = 0; k < count && pick->index < 0; k++) {
	j = (uint32_t) ((st->head.cursor + k) % count);
	if (is_live(&st->hosts[j], now))
	    pick->index = (int) j;
	else
	    pick->skipped[pick->nskipped++] = (int) j;
    }
    if (pick->index < 0) {
	/* The earliest end of a backoff; a saturated host is no probe. */
	for (j = 0; j < count; j++)
	    if (st->hosts[j].saturated_until <= (int64_t) now
		&& (pick->index < 0 || st->hosts[j].down_until
		    < st->hosts[pick->index].down_until))
		pick->index = (int) j;
	pick->probe = pick->index >= 0;
    } else {
	rrstate_take(&st->hosts[pick->index], now, lease);
    }
    if (pick->index >= 0)
	st->head.cursor = ((uint32_t) pick->index + 1) % count;
    rrstate_commit(st, now);
}

/* rrstate_next - next live, untried host after "after", for failover */

void    rrstate_next(struct rrstate *st, int after, const int *tried,
		             time_t now, long lease, struct rr_pick *pick)
{
    int     count;
    int     k;
    int     j;

    rrstate_begin(st, now);
    count = (int) st->head.count;
    pick->index = -1;
    pick->probe = 0;
    pick->nskipped = 0;
    for (k = 1; k <= count && pick->index < 0; k++) {
	j = (after + k) % count;
	if (tried[j])
	    continue;
	if (is_live(&st->hosts[j], now))
	    pick->index = j;
	else
	    pick->skipped[pick->nskipped++] = j;
    }
    if (pick->index >= 0) {
	rrstate_take(&st->hosts[pick->index], now, lease);
	if (st->head.cursor == (uint64_t) pick->index)
	    st->head.cursor = (uint64_t) ((pick->index + 1) % count);
    }
    rrstate_commit(st, now);
}

/* rrstate_backoff - seconds to skip a host after this many failures */

long    rrstate_backoff(uint32_t failures, long backoff, long max_backoff)
{
    long    wait = backoff;
    uint32_t i;

    for (i = 1; i < failures && wait < max_backoff; i++)
	wait = wait > max_backoff / 2 ? max_backoff : wait * 2;
    return (wait < max_backoff ? wait : max_backoff);
}

/* rrstate_mark_up - the host answered; clear its backoff */

void    rrstate_mark_up(struct rrstate *st, int index, const char *addr,
			        uint32_t flags, uint32_t sent, time_t now,
			        struct rr_change *change)
{
    struct rr_host *host;

    rrstate_begin(st, now);
    host = &st->hosts[index];
    change->changed = host->failures > 0;
    change->failures = host->failures;
    change->backoff = 0;
    if (host->failures > 0)
	host->last_change = host->state_since = now;
    host->failures = 0;
    host->down_until = 0;
    host->flags = flags;
    host->sent += sent;
    snprintf(host->addr, sizeof(host->addr), "%s", addr);
    rrstate_commit(st, now);
}

/* rrstate_mark_down - the host failed; skip it for a growing backoff */

void    rrstate_mark_down(struct rrstate *st, int index, const char *addr,
			          const char *error, time_t since, time_t now,
			          long backoff, long max_backoff,
			          struct rr_change *change)
{
    struct rr_host *host;

    rrstate_begin(st, now);
    host = &st->hosts[index];
    /* Later than now: the clock went back, or we waited for the lock. */
    if (host->last_change > (int64_t) now)
	host->last_change = (int64_t) now;
    change->changed = host->failures == 0;
    if (change->changed) {
	host->down_count++;
	host->state_since = now;
    }
    change->counted = !(host->failures > 0 && host->last_change >= since);
    if (change->counted) {
	if (host->failures < UINT32_MAX)
	    host->failures++;
	host->last_change = now;
    }
    /* from the counted failure; this also ends a probe's lease */
    host->down_until = host->last_change
	+ rrstate_backoff(host->failures, backoff, max_backoff);
    change->failures = host->failures;
    change->backoff = host->down_until > (int64_t) now ?
	(long) (host->down_until - (int64_t) now) : 0;
    if (addr && *addr)
	snprintf(host->addr, sizeof(host->addr), "%s", addr);
    snprintf(host->last_error, sizeof(host->last_error), "%s", error);
    rrstate_commit(st, now);
}

/* rrstate_other_live - another live host the message has not tried */

int     rrstate_other_live(struct rrstate *st, int index, const int *tried,
			           time_t now)
{
    int     found = 0;
    int     j;

    rrstate_begin(st, now);
    for (j = 0; j < (int) st->head.count && !found; j++)
	found = j != index && !tried[j] && is_live(&st->hosts[j], now);
    end(st);
    return (found);
}

/* rrstate_count_sent - one more message delivered through the host */

void    rrstate_count_sent(struct rrstate *st, int index, time_t now)
{
    rrstate_begin(st, now);
    st->hosts[index].sent++;
    rrstate_commit(st, now);
}

/* rrstate_count_result - one more attempt the host deferred or bounced */

void    rrstate_count_result(struct rrstate *st, int index, int result,
			             time_t now)
{
    rrstate_begin(st, now);
    if (result == RR_RESULT_BOUNCED)
	st->hosts[index].bounced++;
    else
	st->hosts[index].deferred++;
    rrstate_commit(st, now);
}

/* rrstate_note_error - remember a reply that did not mark the host down */

void    rrstate_note_error(struct rrstate *st, int index, const char *error,
			           time_t now)
{
    rrstate_begin(st, now);
    snprintf(st->hosts[index].last_error, sizeof(st->hosts[index].last_error),
	     "%s", error);
    rrstate_commit(st, now);
}
