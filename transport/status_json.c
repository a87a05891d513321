/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	status_json 3
 * SUMMARY
 *	"rrelay status --json": the shared state as one JSON document
 * SYNOPSIS
 *	#include "status.h"
 *
 *	int	status_print_json(dir, out, now)
 * DESCRIPTION
 *	status_print_json() writes one JSON object (RFC 8259) for every
 *	state file in dir, for monitoring. The schema is stable: fields
 *	may be added in a later version, but none is renamed, removed or
 *	given another meaning without a new "version".
 *
 *	{ "schema": "rrelay-status", "version": 1,
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
 *	          "down_count": N, "state_since": TIME or null } ] } ] }
 *
 *	Times are seconds since the epoch. "deferred" and "bounced" count
 *	the tries the host did not take (a 4xx reply, or down) and those it
 *	refused for good (5xx); "down_count" the times it went from up to
 *	down; "state_since" when it last went up or down. These four came
 *	after version 1 first shipped, as the schema allows. A host list
 *	that is not "ok" has an empty "hosts" (rrelay rebuilds its file on
 *	the next delivery). Strings are escaped as RFC 8259 says; a byte that is
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

#include "rrstate.h"
#include "status.h"

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

/* json_host - one host of a list */

static void json_host(FILE *out, struct rr_host *h, long long now)
{
    h->dest[sizeof(h->dest) - 1] = 0;
    h->addr[sizeof(h->addr) - 1] = 0;
    h->last_error[sizeof(h->last_error) - 1] = 0;
    fputs("{\"destination\":", out);
    json_str(out, h->dest, 0);
    fputs(",\"address\":", out);
    json_str(out, h->addr, 1);
    fprintf(out, ",\"state\":\"%s\",\"down_until\":",
	    h->down_until > (int64_t) now ? "down" : "up");
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
	json_host(out, hosts + i, now);
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
    fprintf(out, "{\"schema\":\"rrelay-status\",\"version\":1,"
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
