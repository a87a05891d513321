/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	prom 3
 * SUMMARY
 *	per-host metrics for Prometheus, as a node_exporter textfile
 * SYNOPSIS
 *	#include "state/prom.h"
 *
 *	int	prom_write(dir, why, whylen)
 *	int	prom_due(dir)
 *	int	prom_flush(dir, changed, why, whylen)
 *
 *	void	prom_header(out)
 *	void	prom_list(out, head, hosts, now)
 * DESCRIPTION
 *	prom_write() rewrites dir/rrelay.prom from every state file in
 *	dir, in the Prometheus text exposition format: it writes
 *	dir/.rrelay.prom.PID first and renames it over rrelay.prom, so
 *	that node_exporter's textfile collector never reads half a file.
 *	The file is mode 0644 whatever the umask (pipe(8) sets 077), and
 *	the state directory 0751, so that node_exporter's user can read it
 *	by name without listing the directory or reading the state files
 *	(0600).
 *
 *	rrelay calls prom_flush() after a delivery: it writes the file at
 *	once when a host changed state in that delivery (changed) or the
 *	file is a second old or missing (prom_due()); otherwise it makes
 *	sure that a write follows within the second: one process at a
 *	time (the flusher, holding a lock on dir/.rrelay.prom.lock) forks,
 *	lets go of every descriptor (pipe(8) waits for rrelay's output to
 *	end, not for it), sleeps until the file is a second old and
 *	writes it. So under load the file is written about once a second,
 *	at no cost per message, and it is never more than a second behind
 *	the state.
 *
 *	The file is dated when its snapshot began (the file system's
 *	coarse clock), not when it was renamed into place: a state file
 *	dated at or after that may have changed after it was read. Every
 *	write then ends by looking for such a file, and if one is there,
 *	makes sure that another write follows (the flusher loops; after
 *	letting go of its lock it looks once more, so that a process that
 *	found the lock taken is never left out). So once the state stops
 *	changing, rrelay.prom is newer than every state file, and it
 *	holds all of them. Per host of each host list
 *	(labels list="HASH", host="[name]:port"):
 *
 *	rrelay_host_messages_total{result="sent|deferred|bounced"}
 *		counter: messages the host took, attempts it answered
 *		with a temporary failure or did not answer at all (the
 *		message may then have gone to another host), and
 *		attempts with a permanent refusal
 *	rrelay_host_down_transitions_total
 *		counter: times the host went from up to down
 *	rrelay_host_up	gauge: 1 up, 0 down (in its backoff)
 *	rrelay_host_state_since_seconds
 *		gauge: when the current state began (Unix time); absent
 *		until the host first changed state
 *	rrelay_host_consecutive_failures
 *		gauge: failures since it last answered
 *
 *	and, for a host list with host_policy_file:
 *
 *	rrelay_host_busy_skips_total	counter: passed over at its
 *		rate or session limit
 *	rrelay_host_rate_waits_total	counter: messages that waited
 *		for its next slot
 *	rrelay_host_saturations_total{class="throttle|quota"}
 *		counter: replies that said it is full, and quotas used up
 *	rrelay_host_saturated	gauge: 1 while it is skipped as full
 *	rrelay_host_quota_used	gauge: recipients counted against its
 *		quota= in the current window (only with a quota)
 *
 *	Label values are escaped as the format asks (backslash, double
 *	quote, newline); other control bytes become '?'. A state file
 *	that can't be read is left out.
 *
 *	prom_header() writes the HELP and TYPE lines, prom_list() the
 *	samples of one host list; prom_write() uses both.
 * DIAGNOSTICS
 *	prom_write() returns -1 with a reason when the file can't be
 *	written. The caller logs it: metrics never change a delivery's
 *	result.
 *--*/

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "state/prom.h"
#include "state/status.h"

/* prom_label - a label value, escaped */

static void prom_label(FILE *out, const char *text)
{
    const unsigned char *cp;

    for (cp = (const unsigned char *) text; *cp; cp++) {
	if (*cp == '\\' || *cp == '"')
	    fprintf(out, "\\%c", *cp);
	else if (*cp == '\n')
	    fputs("\\n", out);
	else
	    fputc(*cp < 0x20 || *cp == 0x7f ? '?' : *cp, out);
    }
}

/* prom_sample - NAME{list="…",host="…"[,result="…"]} VALUE */

static void prom_sample(FILE *out, const char *name, uint64_t list,
			        const char *host, const char *result,
			        int64_t value)
{
    fprintf(out, "%s{list=\"%016" PRIx64 "\",host=\"", name, list);
    prom_label(out, host);
    if (result)
	fprintf(out, "\",result=\"%s", result);
    fprintf(out, "\"} %" PRId64 "\n", value);
}

/* prom_header - HELP and TYPE for every metric */

void    prom_header(FILE *out)
{
    fputs("# HELP rrelay_host_messages_total Messages an upstream host took "
	  "(sent), did not take for now (deferred) or refused (bounced).\n"
	  "# TYPE rrelay_host_messages_total counter\n"
	  "# HELP rrelay_host_down_transitions_total Times an upstream host "
	  "went from up to down.\n"
	  "# TYPE rrelay_host_down_transitions_total counter\n"
	  "# HELP rrelay_host_up Whether an upstream host is up (1) or in its "
	  "backoff (0).\n"
	  "# TYPE rrelay_host_up gauge\n"
	  "# HELP rrelay_host_state_since_seconds When the host's current "
	  "state began, in seconds since the epoch.\n"
	  "# TYPE rrelay_host_state_since_seconds gauge\n"
	  "# HELP rrelay_host_consecutive_failures Failures since the host "
	  "last answered.\n"
	  "# TYPE rrelay_host_consecutive_failures gauge\n"
	  "# HELP rrelay_host_busy_skips_total Times the host was passed over "
	  "at its rate or session limit.\n"
	  "# TYPE rrelay_host_busy_skips_total counter\n"
	  "# HELP rrelay_host_rate_waits_total Messages that waited for the "
	  "host's next rate or session slot.\n"
	  "# TYPE rrelay_host_rate_waits_total counter\n"
	  "# HELP rrelay_host_saturations_total Times the host said it is "
	  "full (class throttle), or its quota was used up (class quota).\n"
	  "# TYPE rrelay_host_saturations_total counter\n"
	  "# HELP rrelay_host_saturated Whether the host is skipped as full "
	  "(1) or not (0).\n"
	  "# TYPE rrelay_host_saturated gauge\n"
	  "# HELP rrelay_host_quota_used Recipients counted against the "
	  "host's quota= in the current window.\n"
	  "# TYPE rrelay_host_quota_used gauge\n", out);
}

/* prom_class - NAME{list=…,host=…,class="…"} VALUE */

static void prom_class(FILE *out, const char *name, uint64_t list,
		               const char *host, const char *cls, int64_t value)
{
    fprintf(out, "%s{list=\"%016" PRIx64 "\",host=\"", name, list);
    prom_label(out, host);
    fprintf(out, "\",class=\"%s\"} %" PRId64 "\n", cls, value);
}

/* prom_capacity - with host_policy_file: the limits' counters and gauges */

static void prom_capacity(FILE *out, uint64_t list, const struct rr_host *h,
			          time_t now)
{
    prom_sample(out, "rrelay_host_busy_skips_total", list, h->dest, 0,
		(int64_t) h->busy_skips);
    prom_sample(out, "rrelay_host_rate_waits_total", list, h->dest, 0,
		(int64_t) h->rate_waits);
    prom_class(out, "rrelay_host_saturations_total", list, h->dest,
	       "throttle", (int64_t) h->sat_throttle);
    prom_class(out, "rrelay_host_saturations_total", list, h->dest,
	       "quota", (int64_t) h->sat_quota);
    prom_sample(out, "rrelay_host_saturated", list, h->dest, 0,
		strcmp(status_state(h, now), "saturated") == 0);
    if (h->quota > 0)
	prom_sample(out, "rrelay_host_quota_used", list, h->dest, 0,
		    (int64_t) status_quota_used(h, now));
}

/* age_ns - how old the metrics file is (negative: dated ahead); 0 when it is missing */

static int age_ns(const char *dir, long long *age)
{
    char    path[4096];
    struct stat st;
    struct timespec now;

    snprintf(path, sizeof(path), "%s/rrelay.prom", dir);
    if (stat(path, &st) < 0)
	return (0);
    clock_gettime(CLOCK_REALTIME, &now);
    *age = (now.tv_sec - st.st_mtim.tv_sec) * 1000000000LL
	+ (now.tv_nsec - st.st_mtim.tv_nsec);
    return (1);
}

/* prom_due - the metrics file is a second old, or missing */

int     prom_due(const char *dir)
{
    long long age;

    return (!age_ns(dir, &age) || age >= 1000000000LL);
}

/* prom_list - the samples of one host list */

void    prom_list(FILE *out, const struct rr_head *head, struct rr_host *hosts,
		          time_t now)
{
    struct rr_host *h;
    uint32_t i;

    for (i = 0; i < head->count; i++) {
	h = hosts + i;
	h->dest[sizeof(h->dest) - 1] = 0;
	prom_sample(out, "rrelay_host_messages_total", head->hash, h->dest,
		    "sent", (int64_t) h->sent);
	prom_sample(out, "rrelay_host_messages_total", head->hash, h->dest,
		    "deferred", (int64_t) h->deferred);
	prom_sample(out, "rrelay_host_messages_total", head->hash, h->dest,
		    "bounced", (int64_t) h->bounced);
	prom_sample(out, "rrelay_host_down_transitions_total", head->hash,
		    h->dest, 0, (int64_t) h->down_count);
	prom_sample(out, "rrelay_host_up", head->hash, h->dest, 0,
		    h->down_until <= (int64_t) now);
	if (h->state_since > 0)
	    prom_sample(out, "rrelay_host_state_since_seconds", head->hash,
			h->dest, 0, h->state_since);
	prom_sample(out, "rrelay_host_consecutive_failures", head->hash,
		    h->dest, 0, (int64_t) h->failures);
	if (h->weight > 0)
	    prom_capacity(out, head->hash, h, now);
    }
}

/* prom_file - the samples of one state file, if it reads whole */

static void prom_file(FILE *out, const char *dir, const char *name,
		              time_t now)
{
    static struct rr_host hosts[HOSTLIST_MAX];
    struct rr_head head;
    char    path[4096];
    char    why[200];

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    if (status_read(path, &head, hosts, why, sizeof(why)) == 1)
	prom_list(out, &head, hosts, now);
}

/* write_snapshot - rewrite dir/rrelay.prom atomically, dated *since, when it began */

static int write_snapshot(const char *dir, struct timespec *since, char *why,
			          size_t whylen)
{
    struct timespec times[2];
    char    tmp[4096];
    char    path[4096];
    char  **names = 0;
    size_t  count = 0;
    size_t  i;
    FILE   *out = 0;
    int     fd = -1;
    int     ret = -1;
    time_t  now = time(0);

    if (whylen > 0)
	why[0] = 0;				/* written on every path */

    clock_gettime(CLOCK_REALTIME_COARSE, since);	/* as files are dated */
    snprintf(tmp, sizeof(tmp), "%s/.rrelay.prom.%ld", dir, (long) getpid());
    snprintf(path, sizeof(path), "%s/rrelay.prom", dir);
    if (status_list(dir, &names, &count) < 0
	|| (fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW
		      | O_CLOEXEC, 0644)) < 0
	|| fchmod(fd, 0644) < 0		/* whatever pipe(8)'s umask */
	|| (out = fdopen(fd, "w")) == 0) {
	snprintf(why, whylen, "%s: %s", fd < 0 ? dir : tmp, strerror(errno));
	goto out;
    }
    fd = -1;
    prom_header(out);
    for (i = 0; i < count; i++)
	prom_file(out, dir, names[i], now);
    times[0].tv_nsec = UTIME_OMIT;
    times[1] = *since;
    if (fflush(out) != 0 || ferror(out) || futimens(fileno(out), times) < 0
	|| fclose(out) != 0) {
	out = 0;
	snprintf(why, whylen, "write %s: %s", tmp, strerror(errno));
	goto out;
    }
    out = 0;
    if (rename(tmp, path) < 0) {
	snprintf(why, whylen, "rename %s: %s", tmp, strerror(errno));
	goto out;
    }
    ret = 0;
out:
    if (out)
	(void) fclose(out);
    if (fd >= 0)
	(void) close(fd);
    if (ret < 0)
	(void) unlink(tmp);
    for (i = 0; i < count; i++)
	free(names[i]);
    free(names);
    return (ret);
}

/* prom_write - rewrite dir/rrelay.prom atomically */

int     prom_write(const char *dir, char *why, size_t whylen)
{
    struct timespec since;

    return (write_snapshot(dir, &since, why, whylen));
}

/* changed_since - a state file in dir is dated at or after when */

static int changed_since(const char *dir, const struct timespec *when)
{
    char    path[4096];
    char  **names = 0;
    size_t  count = 0;
    size_t  i;
    struct stat st;
    time_t  now = time(0);
    int     changed = 0;

    if (status_list(dir, &names, &count) < 0)
	return (0);
    for (i = 0; i < count; i++) {
	snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
	/* one dated in the future can't tell, and must not keep us busy */
	if (stat(path, &st) == 0 && st.st_mtim.tv_sec <= now + 1
	    && (st.st_mtim.tv_sec > when->tv_sec
		|| (st.st_mtim.tv_sec == when->tv_sec
		    && st.st_mtim.tv_nsec >= when->tv_nsec)))
	    changed = 1;
	free(names[i]);
    }
    free(names);
    return (changed);
}

/* sleep_until_due - until rrelay.prom is a second old */

static void sleep_until_due(const char *dir)
{
    long long age;

    if (age_ns(dir, &age) && age >= 0 && age < 1000000000LL)
	(void) usleep((useconds_t) ((1000000000LL - age) / 1000 + 1000));
}

/* flusher - write once a second while the state changes; fd holds the lock */

static void flusher(const char *dir, int fd)
{
    struct timespec since;
    char    why[300];

    for (;;) {
	sleep_until_due(dir);
	if (write_snapshot(dir, &since, why, sizeof(why)) < 0)
	    break;
	if (changed_since(dir, &since))
	    continue;
	(void) flock(fd, LOCK_UN);
	/* one that found the lock taken just now relies on this look */
	if (!changed_since(dir, &since) || flock(fd, LOCK_EX | LOCK_NB) < 0)
	    break;
    }
}

/* prom_later - a write was skipped: one process sees that it happens soon */

static void prom_later(const char *dir)
{
    char    path[4096];
    sigset_t none;
    int     fd;

    snprintf(path, sizeof(path), "%s/.rrelay.prom.lock", dir);
    if ((fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600)) < 0)
	return;
    /* The lock is the flusher's while it lives: one at a time. */
    if (flock(fd, LOCK_EX | LOCK_NB) < 0 || fork() != 0) {
	(void) close(fd);
	return;
    }
    /* pipe(8) waits for rrelay's output to end: hold none of it. */
    (void) close_range(0, (unsigned) fd - 1, 0);
    (void) close_range((unsigned) fd + 1, ~0U, 0);
    (void) setsid();
    /* a delivery worker blocks SIGTERM while it delivers: not here */
    (void) signal(SIGTERM, SIG_DFL);
    (void) signal(SIGHUP, SIG_DFL);
    (void) signal(SIGINT, SIG_DFL);
    sigemptyset(&none);
    (void) sigprocmask(SIG_SETMASK, &none, 0);
    flusher(dir, fd);
    _exit(0);
}

/* prom_flush - write now on a change or when a second old; else soon */

int     prom_flush(const char *dir, int changed, char *why, size_t whylen)
{
    struct timespec since;

    if (whylen > 0)
	why[0] = 0;
    if (changed || prom_due(dir)) {
	if (write_snapshot(dir, &since, why, whylen) < 0)
	    return (-1);
	if (!changed_since(dir, &since))
	    return (0);
    }
    prom_later(dir);
    return (0);
}
