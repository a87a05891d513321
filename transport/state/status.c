/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	status 3
 * SUMMARY
 *	"rrelay status": print the shared state of every host list
 * SYNOPSIS
 *	#include "state/status.h"
 *
 *	int	status_print(dir, out)
 *
 *	void	status_escape(in, out, outlen)
 *
 *	int	status_list(dir, names, count)
 *	int	status_read(path, head, hosts, why, whylen)
 *	const char *status_tls_text(flags)
 *	const char *status_state(host, now)
 *	uint64_t status_quota_used(host, now)
 * DESCRIPTION
 *	status_print() reads every rrelay-*.state file in dir, under a
 *	shared lock, and prints one block per host list: a line naming
 *	the list, then one row per destination with its address, up or
 *	down, down until when, consecutive failures, messages sent, whether
 *	its last session used TLS ("verified", "untrusted" or "none") and
 *	its last error. A damaged file is reported as such; rrelay rebuilds it
 *	on the next delivery. A host whose list has a host_policy_file
 *	(weight above 0 in the state) gets a second line: its weight and
 *	tier, its rate, sessions in use of max_connections, recipients
 *	of its quota used in the current window, until when it is
 *	saturated, and its busy skips, waits and saturations (throttle/
 *	quota). Its state is "saturated" while a reply said it is full or
 *	its quota is used up.
 *
 *	status_state() and status_quota_used() give a host's state and
 *	its quota's use now, for both outputs.
 *
 *	Every text from a state file or a file name is printed through
 *	status_escape(): rrelay cleans what it stores, but a file damaged
 *	or edited by hand must not send control bytes to the admin's
 *	terminal. status_escape() copies in to out with each byte outside
 *	' '..'~' written as \xHH and a backslash as \\, cut to fit.
 * DIAGNOSTICS
 *	Returns 0, or -1 when dir can't be read.
 *--*/

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "state/rrstate.h"
#include "state/sched.h"
#include "state/slots.h"
#include "state/status.h"

#define ROW_FORMAT	"%-28s %-24s %-5s %-20s %8s %8s %-9s %s\n"

/* stamp - a time for the table, or "-" */

static const char *stamp(int64_t when, time_t now, char *buf, size_t len)
{
    struct tm tm;
    time_t  t = (time_t) when;

    if (when <= (int64_t) now)
	return ("-");
    /* A corrupt file's time may not fit a struct tm: show the number. */
    if ((int64_t) t != when || localtime_r(&t, &tm) == 0
	|| strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm) == 0)
	snprintf(buf, len, "@%lld", (long long) when);
    return (buf);
}

/* when_text - a time as local "YYYY-mm-dd HH:MM:SS", or "@N" if it won't fit */

static const char *when_text(int64_t when, char *buf, size_t len)
{
    struct tm tm;
    time_t  t = (time_t) when;

    if ((int64_t) t != when || localtime_r(&t, &tm) == 0
	|| strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm) == 0)
	snprintf(buf, len, "@%lld", (long long) when);
    return (buf);
}

/* last_error_text - a down host's error; an up host's as history, with when it came up */

static void last_error_text(const struct rr_host *host, time_t now,
			            char *out, size_t outlen)
{
    char    raw[RRSTATE_ERR_MAX + 80];
    char    since[32];

    if (host->last_error[0] == 0)
	snprintf(raw, sizeof(raw), "-");
    else if (host->down_until > (int64_t) now || host->state_since <= 0)
	snprintf(raw, sizeof(raw), "%s", host->last_error);
    else
	snprintf(raw, sizeof(raw), "(history, up since %s) %s",
		 when_text(host->state_since, since, sizeof(since)),
		 host->last_error);
    status_escape(raw, out, outlen);
}

/* status_escape - printable text: \xHH for other bytes, \\ for a backslash */

void    status_escape(const char *in, char *out, size_t outlen)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *cp;
    size_t  used = 0;

    for (cp = (const unsigned char *) in; *cp && used + 5 <= outlen; cp++) {
	if (*cp >= ' ' && *cp <= '~' && *cp != '\\') {
	    out[used++] = (char) *cp;
	} else if (*cp == '\\') {
	    out[used++] = '\\';
	    out[used++] = '\\';
	} else {
	    out[used++] = '\\';
	    out[used++] = 'x';
	    out[used++] = hex[*cp >> 4];
	    out[used++] = hex[*cp & 15];
	}
    }
    out[used] = 0;
}

/* status_tls_text - how the last session was protected */

const char *status_tls_text(uint32_t flags)
{
    if (flags & RR_TLS_VERIFIED)
	return ("verified");
    if (flags & RR_TLS_USED)
	return ("untrusted");
    return ("none");
}

/* status_quota_used - recipients counted in the quota window of now */

uint64_t status_quota_used(const struct rr_host *h, time_t now)
{
    struct host_limits lim = {1, 0, 0, 1, 0, 0, 0};

    lim.quota = h->quota;
    lim.quota_per = h->quota_per;
    return (h->quota > 0 && h->quota_window == sched_window_start(&lim, now) ?
	    h->quota_used : 0);
}

/* status_state - up, down, or saturated (said it is full, or used its quota) */

const char *status_state(const struct rr_host *h, time_t now)
{
    if (h->down_until > (int64_t) now)
	return ("down");
    if (h->saturated_until > (int64_t) now
	|| (h->quota > 0 && status_quota_used(h, now) >= (uint64_t) h->quota))
	return ("saturated");
    return ("up");
}

/* print_capacity - the host's limits and their use, under its row */

static void print_capacity(FILE *out, const char *dir, uint64_t hash,
			           int index, const struct rr_host *h, time_t now)
{
    char    until[32];
    static const char *per[] = {"s", "m", "h", "d"};

    fprintf(out, "    weight=%lu %s", (unsigned long) h->weight,
	    h->backup ? "backup" : "primary");
    if (h->rate > 0)
	fprintf(out, " rate=%lld/%s", (long long) h->rate,
		per[h->rate_per == 1 ? 0 : h->rate_per == 60 ? 1 : 2]);
    if (h->max_conn > 0)
	fprintf(out, " sessions=%d/%lld", slots_count(dir, hash, index,
			(long) h->max_conn), (long long) h->max_conn);
    if (h->quota > 0)
	fprintf(out, " quota=%llu/%lld per %s", (unsigned long long)
		status_quota_used(h, now), (long long) h->quota,
		per[h->quota_per == 3600 ? 2 : 3]);
    if (h->saturated_until > (int64_t) now)
	fprintf(out, " saturated_until=%s", stamp(h->saturated_until, now,
						     until, sizeof(until)));
    fprintf(out, " busy_skips=%llu rate_waits=%llu saturations=%llu/%llu\n",
	    (unsigned long long) h->busy_skips,
	    (unsigned long long) h->rate_waits,
	    (unsigned long long) h->sat_throttle,
	    (unsigned long long) h->sat_quota);
}

/* print_file - one host list */

static void print_file(const char *dir, const char *name, FILE *out)
{
    char    path[4096];
    struct rr_head head;
    static struct rr_host hosts[HOSTLIST_MAX];
    char    why[200];
    char    until[32];
    char    failures[16];
    char    sent[24];
    char    epath[4 * sizeof(path)];
    char    dest[4 * DEST_TEXT_MAX];
    char    addr[4 * RRSTATE_ADDR_MAX];
    char    error[4 * (RRSTATE_ERR_MAX + 80)];
    time_t  now = time((time_t *) 0);
    uint32_t i;
    int     status;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    status_escape(path, epath, sizeof(epath));
    if ((status = status_read(path, &head, hosts, why, sizeof(why))) == -2) {
	fprintf(out, "%s: %s\n\n", epath, why);
	return;
    }
    if (status <= 0) {
	fprintf(out, "%s: %s (rrelay rebuilds it on the next delivery)\n\n",
		epath, status < 0 ? "damaged" : "empty");
	return;
    }
    fprintf(out, "host list %016llx (%s)\n", (unsigned long long) head.hash,
	    epath);
    fprintf(out, ROW_FORMAT, "destination", "address", "state",
	    "down_until", "failures", "sent", "tls", "last_error");
    for (i = 0; i < head.count; i++) {
	snprintf(failures, sizeof(failures), "%lu",
		 (unsigned long) hosts[i].failures);
	snprintf(sent, sizeof(sent), "%llu",
		 (unsigned long long) hosts[i].sent);
	hosts[i].dest[sizeof(hosts[i].dest) - 1] = 0;
	hosts[i].addr[sizeof(hosts[i].addr) - 1] = 0;
	hosts[i].last_error[sizeof(hosts[i].last_error) - 1] = 0;
	status_escape(hosts[i].dest, dest, sizeof(dest));
	status_escape(hosts[i].addr[0] ? hosts[i].addr : "-", addr,
		      sizeof(addr));
	last_error_text(&hosts[i], now, error, sizeof(error));
	fprintf(out, ROW_FORMAT, dest, addr, status_state(&hosts[i], now),
		stamp(hosts[i].down_until, now, until, sizeof(until)),
		failures, sent, status_tls_text(hosts[i].flags), error);
	if (hosts[i].weight > 0)
	    print_capacity(out, dir, head.hash, (int) i, &hosts[i], now);
    }
    fputc('\n', out);
}

/* is_state_file - "rrelay-<hex>.state" */

static int is_state_file(const char *name)
{
    size_t  len = strlen(name);

    return (strncmp(name, "rrelay-", 7) == 0 && len > 13
	    && strcmp(name + len - 6, ".state") == 0);
}

/* by_name - qsort order */

static int by_name(const void *a, const void *b)
{
    return (strcmp(*(char *const *) a, *(char *const *) b));
}

/* status_read - a state file under a shared lock; -2 if it can't be opened */

int     status_read(const char *path, struct rr_head *head,
		            struct rr_host *hosts, char *why, size_t whylen)
{
    int     fd;
    int     status;

    if (whylen > 0)
	why[0] = 0;				/* written on every path */

    if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
	snprintf(why, whylen, "%s", strerror(errno));
	return (-2);
    }
    (void) flock(fd, LOCK_SH);
    status = rrstate_read(fd, head, hosts, why, whylen);
    (void) close(fd);
    return (status);
}

/* status_list - the state files of dir, sorted; -1 (errno) if dir can't be read */

int     status_list(const char *dir, char ***namesp, size_t *countp)
{
    DIR    *dp;
    struct dirent *de;
    char  **names = 0;
    char  **more;
    size_t  count = 0;

    if ((dp = opendir(dir)) == 0)
	return (-1);			/* errno says why */
    while ((de = readdir(dp)) != 0) {
	if (!is_state_file(de->d_name))
	    continue;
	if ((more = realloc(names, (count + 1) * sizeof(*names))) == 0)
	    break;
	names = more;
	if ((names[count] = strdup(de->d_name)) != 0)
	    count++;
    }
    closedir(dp);
    if (count > 0)
	qsort(names, count, sizeof(*names), by_name);
    *namesp = names;
    *countp = count;
    return (0);
}

/* status_print - every host list in the state directory */

int     status_print(const char *dir, FILE *out)
{
    char  **names;
    size_t  count;
    size_t  i;

    if (status_list(dir, &names, &count) < 0) {
	fprintf(stderr, "rrelay status: open %s: %s\n", dir, strerror(errno));
	return (-1);
    }
    if (count == 0)
	fprintf(out, "no host list has state in %s yet\n", dir);
    for (i = 0; i < count; i++) {
	print_file(dir, names[i], out);
	free(names[i]);
    }
    free(names);
    return (0);
}
