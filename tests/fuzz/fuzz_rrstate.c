/* SPDX-License-Identifier: MIT */
/*
 * fuzz_rrstate - fuzz harness for transport/rrstate.c and status.c
 *
 * Input: a flags byte, a byte for the list length (1 to 4 hosts), six
 * operation bytes, then the image of a state file.
 *
 * First the image goes as it is to rrstate_read(), which must return 0
 * only for an empty file, and 1 only for a file of the right size for
 * its host count (1 to HOSTLIST_MAX) with the right magic, version and
 * checksum (recomputed here); otherwise -1 with a reason.
 *
 * Then, to get past the checksum, the image is fitted to the list as
 * the flags say (magic and version, host count and size, destination
 * names, checksum), stored as the list's state file, and the operations
 * run on it as rrelay processes would: pick, next, mark up, mark down,
 * other_live, count_sent, note_error, the capacity scheduler's choice
 * (rrstate_pick_cap(), with limits the operation byte sets) and a
 * saturation, and "rrelay status".
 *
 * Properties: a damaged file never stops an operation; every host
 * index handed out is in the list; a host marked down is skipped for
 * no more than max_backoff, whatever times the file holds; after every
 * operation the file reads back whole, with the cursor inside the list;
 * a host the scheduler chose could take the message; its weighted
 * round-robin values and saturations stay within bounds;
 * "rrelay status" prints only printable ASCII and newlines.
 */

#include <fcntl.h>
#include <limits.h>
#include <unistd.h>

#include "fuzz.h"
#include "log.h"
#include "conf/hostlist.h"
#include "conf/hostpolicy.h"
#include "state/rrstate.h"
#include "state/status.h"

#define FIX_MAGIC	1		/* flags: set magic and version */
#define FIX_COUNT	2		/* ... the count and the size */
#define FIX_DESTS	4		/* ... the destination names */
#define FIX_SUM		8		/* ... the checksum */
#define NOW		1700000000	/* the clock, give or take */

static char dir[4096];			/* $TMPDIR/rrelay-fuzz-rrstate.XXXXXX */
static struct hostlist lists[4];

/* fnv - FNV-1a over len bytes, continuing hash */

static uint64_t fnv(uint64_t hash, const void *data, size_t len)
{
    const unsigned char *cp = data;
    size_t  i;

    for (i = 0; i < len; i++) {
	hash ^= cp[i];
	hash *= 0x100000001b3ULL;
    }
    return (hash);
}

/* file_sum - the checksum of an image, computed from the layout */

static uint64_t file_sum(const unsigned char *image, size_t len)
{
    struct rr_head head;

    memcpy(&head, image, sizeof(head));
    head.checksum = 0;
    return (fnv(fnv(0xcbf29ce484222325ULL, &head, sizeof(head)),
		image + sizeof(head), len - sizeof(head)));
}

/* check_read - rrstate_read() on the raw image */

static void check_read(const uint8_t *image, size_t len)
{
    static struct rr_host hosts[HOSTLIST_MAX];
    struct rr_head head;
    char    why[200];
    char    path[64];
    int     fd = fuzz_memfile(image, len, 0600, path, sizeof(path));
    int     status;

    why[0] = 0;
    status = rrstate_read(fd, &head, hosts, why, sizeof(why));
    (void) close(fd);
    FUZZ_ASSERT(status >= -1 && status <= 1, "status %d", status);
    FUZZ_ASSERT((status == 0) == (len == 0), "status %d for %zu bytes",
		status, len);
    FUZZ_ASSERT(status == 1 || *why, "no reason for status %d", status);
    if (status != 1)
	return;
    FUZZ_ASSERT(head.count >= 1 && head.count <= HOSTLIST_MAX
		&& len == sizeof(head) + head.count * sizeof(struct rr_host),
		"accepted %zu bytes for %u hosts", len, head.count);
    FUZZ_ASSERT(memcmp(head.magic, RRSTATE_MAGIC, 8) == 0
		&& head.version == RRSTATE_VERSION, "accepted magic/version");
    FUZZ_ASSERT(file_sum(image, len) == head.checksum, "accepted checksum");
}

/* fit - the image made to pass the checks the flags name */

static unsigned char *fit(const uint8_t *image, size_t len, unsigned flags,
			          const struct hostlist *list, size_t *outlen)
{
    struct rr_head head;
    struct rr_host host;
    unsigned char *out;
    size_t  size = len;
    int     i;

    if (flags & FIX_COUNT)
	size = sizeof(head) + (size_t) list->count * sizeof(host);
    if (size < sizeof(head))
	size = sizeof(head);
    if ((out = calloc(1, size)) == 0)
	abort();
    memcpy(out, image, len < size ? len : size);
    memcpy(&head, out, sizeof(head));
    if (flags & FIX_MAGIC) {
	memcpy(head.magic, RRSTATE_MAGIC, sizeof(head.magic));
	head.version = RRSTATE_VERSION;
    }
    if (flags & FIX_COUNT)
	head.count = (uint32_t) list->count;
    for (i = 0; (flags & FIX_DESTS) && i < list->count
	 && sizeof(head) + (i + 1) * sizeof(host) <= size; i++) {
	memcpy(&host, out + sizeof(head) + i * sizeof(host), sizeof(host));
	snprintf(host.dest, sizeof(host.dest), "%s", list->dests[i].text);
	memcpy(out + sizeof(head) + i * sizeof(host), &host, sizeof(host));
    }
    if (flags & FIX_DESTS)
	head.hash = hostlist_hash(list);
    memcpy(out, &head, sizeof(head));
    if (flags & FIX_SUM) {
	head.checksum = file_sum(out, size);
	memcpy(out, &head, sizeof(head));
    }
    *outlen = size;
    return (out);
}

/* store - the image as the list's state file */

static void store(const struct hostlist *list, const unsigned char *image,
		          size_t len)
{
    char    path[sizeof(dir) + 64];
    int     fd;

    snprintf(path, sizeof(path), "%s/rrelay-%016llx.state", dir,
	     hostlist_hash(list));
    if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) < 0
	|| write(fd, image, len) != (ssize_t) len)
	abort();
    (void) close(fd);
}

/* check_file - the state file reads back whole after an operation */

static void check_file(const struct rrstate *st, const char *what)
{
    static struct rr_host hosts[HOSTLIST_MAX];
    struct rr_head head;
    char    why[200];

    if (st->fd < 0)
	return;
    FUZZ_ASSERT(rrstate_read(st->fd, &head, hosts, why, sizeof(why)) == 1,
		"after %s: %s", what, why);
    FUZZ_ASSERT(head.count == (uint32_t) st->list->count
		&& head.cursor < head.count, "after %s: cursor %llu of %u",
		what, (unsigned long long) head.cursor, head.count);
}

/* check_pick - indexes handed out are in the list, and not tried */

static void check_pick(const struct rr_pick *pick, int count, const int *tried)
{
    int     i;

    FUZZ_ASSERT(pick->index >= -1 && pick->index < count, "index %d",
		pick->index);
    FUZZ_ASSERT(pick->index < 0 || tried == 0 || !tried[pick->index],
		"picked tried host %d", pick->index);
    FUZZ_ASSERT(pick->nskipped >= 0 && pick->nskipped <= count, "%d skipped",
		pick->nskipped);
    for (i = 0; i < pick->nskipped; i++)
	FUZZ_ASSERT(pick->skipped[i] >= 0 && pick->skipped[i] < count,
		    "skipped %d", pick->skipped[i]);
}

/* all_saturated - every host of the list is skipped as full now */

static int all_saturated(const struct rrstate *st, time_t now)
{
    int     i;

    for (i = 0; i < st->list->count; i++)
	if (st->hosts[i].saturated_until <= (int64_t) now)
	    return (0);
    return (1);
}

/* slot_any - the connection-slot hook: free or not, by the host's index */

static int slot_any(void *ctx, int index)
{
    return ((*(unsigned *) ctx >> index) & 1);
}

/*
 * pick_cap - a choice with limits that op picks: the index is in the
 * list and untried, a chosen host (not a probe) was able to take it, and
 * the scheduler's values stay in their bounds whatever the file held.
 */

static void pick_cap(struct rrstate *st, unsigned op, int *tried, time_t now)
{
    struct host_limits lims[HOSTLIST_MAX];
    struct rr_cap cap = {lims, 1 + (int) (op >> 9) % 3, 0, slot_any, &op};
    struct rr_pick pick;
    int64_t now_us = (int64_t) now * 1000000;
    int     count = st->list->count;
    int     i;

    for (i = 0; i < count; i++) {
	hostpolicy_limits(0, "", &lims[i]);
	lims[i].weight = 1 + (int) ((op >> (i + 3)) % 100);
	lims[i].backup = (op >> (i + 12)) & 1;
	lims[i].rate = (op >> (i + 16)) & 1 ? 5 : 0;
	lims[i].max_conn = (op >> (i + 20)) & 1;
	lims[i].quota = (op >> (i + 24)) & 1 ? 3 : 0;
	lims[i].quota_per = 3600;
    }
    rrstate_pick_cap(st, &cap, tried, (op >> 28) & 1, now_us, 30, &pick);
    check_pick(&pick, count, tried);
    FUZZ_ASSERT(pick.index < 0 || pick.probe || pick.why[pick.index] == 0,
		"chose host %d, which could not take it (%d)", pick.index,
		pick.index >= 0 ? pick.why[pick.index] : -1);
    FUZZ_ASSERT(pick.wait_us == 0 || pick.wait_us > now_us,
		"waits for the past");
    for (i = 0; i < count; i++) {
	FUZZ_ASSERT(st->hosts[i].swrr_current >= -2000000
		    && st->hosts[i].swrr_current <= 2000000,
		    "weighted round-robin value %lld",
		    (long long) st->hosts[i].swrr_current);
	FUZZ_ASSERT(st->hosts[i].saturated_until <= (int64_t) now + 8 * 86400
		    + 86400, "saturated for too long");
    }
}

/* run_op - one operation, chosen and timed by op */

static void run_op(struct rrstate *st, unsigned op, int *tried,
		           time_t now)
{
    struct rr_pick pick;
    struct rr_change change;
    int     count = st->list->count;
    int     index = (int) (op >> 3) % count;

    switch (op % 9) {
    case 0:
	rrstate_pick(st, now, 30, &pick);
	check_pick(&pick, count, 0);
	FUZZ_ASSERT(pick.index >= 0 || all_saturated(st, now),
		    "no host picked");
	break;
    case 7:
	pick_cap(st, op, tried, now);
	break;
    case 8:
	rrstate_saturate(st, index, 1 + (op >> 5) % 2, now + (op >> 6), "full",
			 now, &change);
	FUZZ_ASSERT(st->hosts[index].failures == 0
		    || st->hosts[index].down_until != 0
		    || st->hosts[index].last_change != 0, "saturation blamed");
	break;
    case 1:
	tried[index] = 1;
	rrstate_next(st, index, tried, now, 30, &pick);
	check_pick(&pick, count, tried);
	break;
    case 2:
	rrstate_mark_up(st, index, "192.0.2.1:25", RR_TLS_USED, 1, now,
			&change);
	break;
    case 3:
	rrstate_mark_down(st, index, "192.0.2.1:25", "refused", now - (op >> 5),
			  now, 60, 600, &change);
	FUZZ_ASSERT(change.backoff >= 0 && change.backoff <= 600,
		    "backoff %ld, max_backoff 600", change.backoff);
	break;
    case 4:
	(void) rrstate_other_live(st, index, tried, now);
	break;
    case 5:
	rrstate_count_sent(st, index, now);
	break;
    default:
	rrstate_note_error(st, index, "said no", now);
	break;
    }
    if (op % 9 != 4)				/* the others write the file */
	check_file(st, "an operation");
}

/* cleanup - remove the state files and the directory */

static void cleanup(void)
{
    char    path[sizeof(dir) + 64];
    int     i;

    for (i = 0; i < 4; i++) {
	snprintf(path, sizeof(path), "%s/rrelay-%016llx.state", dir,
		 hostlist_hash(&lists[i]));
	(void) unlink(path);
    }
    (void) rmdir(dir);
}

/* LLVMFuzzerTestOneInput - one state file, then a few deliveries */

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    struct fuzz_in in = {data, size};
    unsigned flags = fuzz_take_byte(&in);
    const struct hostlist *list = &lists[fuzz_take_byte(&in) % 4];
    unsigned ops[6];
    int     tried[HOSTLIST_MAX] = {0};
    struct rrstate *st;
    unsigned char *image;
    size_t  len;
    FILE   *out;
    char   *text = 0;
    size_t  text_len = 0;
    int     i;

    if (!ready) {
	ready = 1;
	snprintf(dir, sizeof(dir) - 64, "%s/rrelay-fuzz-rrstate.XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (log_open("fuzz", "/dev/null", 0, 0) < 0 || mkdtemp(dir) == 0)
	    abort();
	for (i = 0; i < 4; i++)
	    if (hostlist_parse(i == 0 ? "[a.example]" : i == 1 ?
			       "[a.example] b.example:2525" : i == 2 ?
			       "[a], [b], [c]" : "[a] [b] [c] [ipv6:::1]:26",
			       &lists[i], 0, 0) < 0)
		abort();
	atexit(cleanup);
    }
    for (i = 0; i < 6; i++)
	ops[i] = fuzz_take_byte(&in);
    check_read(in.data, in.size);
    image = fit(in.data, in.size, flags, list, &len);
    store(list, image, len);
    if ((st = malloc(sizeof(*st))) == 0)
	abort();
    rrstate_open(st, dir, list);
    for (i = 0; i < 6; i++)
	run_op(st, ops[i], tried, NOW + (time_t) (ops[i] % 100) * 7);
    rrstate_close(st);
    if ((out = open_memstream(&text, &text_len)) == 0)
	abort();
    FUZZ_ASSERT(status_print(dir, out) == 0, "status failed");
    fclose(out);
    for (i = 0; i < (int) text_len; i++)
	FUZZ_ASSERT(text[i] == '\n' || (text[i] >= ' ' && text[i] <= '~'),
		    "status printed byte 0x%02x", (unsigned char) text[i]);
    free(text);
    free(st);
    free(image);
    return (0);
}
