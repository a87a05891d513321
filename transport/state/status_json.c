/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	status_json 3
 * SUMMARY
 *	"rrelay status --json": the shared state as one JSON document
 * SYNOPSIS
 *	#include "state/slots.h"
#include "state/status.h"
 *
 *	int	status_print_json(dir, out, now)
 * DESCRIPTION
 *	status_print_json() writes one JSON object (RFC 8259) for every
 *	state file in dir, for monitoring. The schema is stable: fields
 *	may be added in a later version, but none is renamed, removed or
 *	given another meaning without a new "version".
 *
 *	{ "schema": "rrelay-status", "version": 2,
 *	  "generated": NOW, "state_directory": DIR,
 *	  "host_lists": [ {
 *	      "file": PATH, "hash": "16 hex digits" or null,
 *	      "status": "ok" | "empty" | "damaged" | "unreadable",
 *	      "error": TEXT or null,
 *	      "updated": TIME or null, "cursor": N or null,
 *	      "hosts": [ {
 *	          "destination": "[host]:port", "address": "ip:port" or null,
 *	          "state": "up" | "down", "down_until": TIME or null,
 *	          "last_change": TIME or null, "failures": N, "sent": N,
 *	          "tls": "verified" | "untrusted" | "none",
 *	          "last_error": TEXT or null, "deferred": N, "bounced": N,
 *	          "down_count": N, "state_since": TIME or null,
 *	          "weight": N or null, "tier": "primary" | "backup" or null,
 *	          "rate": {"limit": N, "per": "s"|"m"|"h"} or null,
 *	          "sessions": {"open": N, "limit": N} or null,
 *	          "quota": {"limit": N, "per": "h"|"d", "used": N,
 *	                    "left": N} or null,
 *	          "saturated_until": TIME or null,
 *	          "saturated_reply": TEXT or null, "busy_skips": N,
 *	          "rate_waits": N,
 *	          "saturations": {"throttle": N, "quota": N} } ] } ] }
 *
 *	Times are seconds since the epoch. "deferred" and "bounced" count
 *	the tries the host did not take (a 4xx reply, or down) and those it
 *	refused for good (5xx); "down_count" the times it went from up to
 *	down; "state_since" when it last went up or down. These four came
 *	after version 1 first shipped, as the schema allows. A host list
 *	that is not "ok" has an empty "hosts" (rrelay rebuilds its file on
 *	the next delivery).
 *
 *	Version 2 (issue 18, host_policy_file) added "saturated" to
 *	"state" (a host that said it is full, or used up its quota: it is
 *	up, but skipped until saturated_until or the quota window's end),
 *	and the fields from "weight" on; they are null for a host list
 *	without host_policy_file. Nothing of version 1 changed otherwise.
 *	Strings are escaped as RFC 8259 says; a byte that is
 *	not printable ASCII is written as \u00XX, so the document is
 *	always valid UTF-8, whatever a damaged file holds.
 * DIAGNOSTICS
 *	Returns 0, or -1 when dir can't be read.
 *--*/

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "state/rrstate.h"
#include "state/slots.h"
#include "state/status.h"

/* json_str - a JSON string, or null for an empty one when nullable */

static void json_str(FILE *out, const char *text, int nullable)
{
    const unsigned char *cp;

    if (nullable && *text == 0) {
	fputs("null", out);
	return;
    }
    fputc('"', out);
    for (cp = (const unsigned char *) text; *cp; cp++) {
	if (*cp == '"' || *cp == '\\')
	    fprintf(out, "\\%c", *cp);
	else if (*cp < 0x20 || *cp > 0x7e)
	    fprintf(out, "\\u%04x", *cp);
	else
	    fputc(*cp, out);
    }
    fputc('"', out);
}

/* json_time - a time, or null for 0 */

static void json_time(FILE *out, int64_t when)
{
    if (when <= 0)
	fputs("null", out);
    else
	fprintf(out, "%" PRId64, when);
}

/* json_capacity - version 2: the host's limits and their use */

static void json_capacity(FILE *out, const char *dir, uint64_t hash, int index,
			          const struct rr_host *h, long long now)
{
    static const char *per[] = {"s", "m", "h", "d"};
    uint64_t used = status_quota_used(h, (time_t) now);
    uint64_t limit = h->quota > 0 ? (uint64_t) h->quota : 0;

    if (h->weight == 0) {
	fputs(",\"weight\":null,\"tier\":null,\"rate\":null,"
	      "\"sessions\":null,\"quota\":null", out);
    } else {
	fprintf(out, ",\"weight\":%" PRIu32 ",\"tier\":\"%s\",\"rate\":",
		h->weight, h->backup ? "backup" : "primary");
	if (h->rate > 0)
	    fprintf(out, "{\"limit\":%" PRId64 ",\"per\":\"%s\"}", h->rate,
		    per[h->rate_per == 1 ? 0 : h->rate_per == 60 ? 1 : 2]);
	else
	    fputs("null", out);
	fputs(",\"sessions\":", out);
	if (h->max_conn > 0)
	    fprintf(out, "{\"open\":%d,\"limit\":%" PRId64 "}",
		    slots_count(dir, hash, index, (long) h->max_conn),
		    h->max_conn);
	else
	    fputs("null", out);
	fputs(",\"quota\":", out);
	if (h->quota > 0)
	    fprintf(out, "{\"limit\":%" PRId64 ",\"per\":\"%s\",\"used\":%"
		    PRIu64 ",\"left\":%" PRIu64 "}", h->quota,
		    per[h->quota_per == 3600 ? 2 : 3], used,
		    used < limit ? limit - used : 0);
	else
	    fputs("null", out);
    }
    fputs(",\"saturated_until\":", out);
    json_time(out, h->saturated_until > (int64_t) now ? h->saturated_until : 0);
    fputs(",\"saturated_reply\":", out);
    json_str(out, h->saturated_until > (int64_t) now ? h->sat_reply : "", 1);
    fprintf(out, ",\"busy_skips\":%" PRIu64 ",\"rate_waits\":%" PRIu64
	    ",\"saturations\":{\"throttle\":%" PRIu64 ",\"quota\":%" PRIu64
	    "}", h->busy_skips, h->rate_waits, h->sat_throttle, h->sat_quota);
}

/* json_host - one host of a list */

static void json_host(FILE *out, const char *dir, uint64_t hash, int index,
		              struct rr_host *h, long long now)
{
    h->dest[sizeof(h->dest) - 1] = 0;
    h->addr[sizeof(h->addr) - 1] = 0;
    h->last_error[sizeof(h->last_error) - 1] = 0;
    fputs("{\"destination\":", out);
    json_str(out, h->dest, 0);
    fputs(",\"address\":", out);
    json_str(out, h->addr, 1);
    h->sat_reply[sizeof(h->sat_reply) - 1] = 0;
    fprintf(out, ",\"state\":\"%s\",\"down_until\":",
	    status_state(h, (time_t) now));
    json_time(out, h->down_until > (int64_t) now ? h->down_until : 0);
    fputs(",\"last_change\":", out);
    json_time(out, h->last_change);
    fprintf(out, ",\"failures\":%" PRIu32 ",\"sent\":%" PRIu64
	    ",\"tls\":\"%s\",\"last_error\":", h->failures, h->sent,
	    status_tls_text(h->flags));
    json_str(out, h->last_error, 1);
    fprintf(out, ",\"deferred\":%" PRIu64 ",\"bounced\":%" PRIu64
	    ",\"down_count\":%" PRIu64 ",\"state_since\":", h->deferred,
	    h->bounced, h->down_count);
    json_time(out, h->state_since);
    json_capacity(out, dir, hash, index, h, now);
    fputc('}', out);
}

/* json_file - one host list */

static void json_file(FILE *out, const char *dir, const char *name,
		              long long now)
{
    static struct rr_host hosts[HOSTLIST_MAX];
    struct rr_head head;
    char    path[4096];
    char    why[200];
    int     status;
    uint32_t i;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    status = status_read(path, &head, hosts, why, sizeof(why));
    fputs("{\"file\":", out);
    json_str(out, path, 0);
    if (status == 1)
	fprintf(out, ",\"hash\":\"%016" PRIx64 "\",\"status\":\"ok\","
		"\"error\":null,\"updated\":", head.hash);
    else
	fprintf(out, ",\"hash\":null,\"status\":\"%s\",\"error\":",
		status == -2 ? "unreadable" : status == 0 ? "empty" : "damaged");
    if (status != 1) {
	json_str(out, status == 0 ? "" : why, 1);
	fputs(",\"updated\":null,\"cursor\":null,\"hosts\":[]}", out);
	return;
    }
    json_time(out, head.updated);
    fprintf(out, ",\"cursor\":%" PRIu64 ",\"hosts\":[", head.cursor);
    for (i = 0; i < head.count; i++) {
	if (i > 0)
	    fputc(',', out);
	json_host(out, dir, head.hash, (int) i, hosts + i, now);
    }
    fputs("]}", out);
}

/* status_print_json - every host list in the state directory, as JSON */

int     status_print_json(const char *dir, FILE *out, long long now)
{
    char  **names;
    size_t  count;
    size_t  i;

    if (status_list(dir, &names, &count) < 0) {
	fprintf(stderr, "rrelay status: open %s: %s\n", dir, strerror(errno));
	return (-1);
    }
    fprintf(out, "{\"schema\":\"rrelay-status\",\"version\":2,"
	    "\"generated\":%lld,\"state_directory\":", now);
    json_str(out, dir, 0);
    fputs(",\"host_lists\":[", out);
    for (i = 0; i < count; i++) {
	if (i > 0)
	    fputc(',', out);
	json_file(out, dir, names[i], now);
	free(names[i]);
    }
    free(names);
    fputs("]}\n", out);
    return (0);
}
