/* SPDX-License-Identifier: MIT */
/*
 * fuzz_hostpolicy - fuzz harness for transport/conf/hostpolicy.c
 *
 * Input: the host_policy_file, NUL bytes and all.
 *
 * Properties: a file with a NUL byte is refused. A load either fails
 * with "file:line: reason" on one line, or gives at most HOSTPOLICY_MAX
 * entries, each with a destination in the normalized form that
 * hostlist_parse() gives, found only once, whose limits are within
 * their bounds and which hostpolicy_limits() returns. The text of
 * hostpolicy_format() for each entry, read back as the attributes of a
 * line, gives the same limits (round trip).
 */

#include <unistd.h>

#include "fuzz.h"
#include "conf/hostlist.h"
#include "conf/hostpolicy.h"

/* check_dest - a destination in the form hostlist_parse() gives it */

static void check_dest(const char *dest)
{
    static struct hostlist list;
    char    err[300];

    FUZZ_ASSERT(hostlist_parse(dest, &list, err, sizeof(err)) == 0
		&& list.count == 1 && strcmp(list.dests[0].text, dest) == 0,
		"destination \"%s\" is not normalized", dest);
}

/* check_bounds - every field within its bounds */

static void check_bounds(const struct host_limits *l)
{
    FUZZ_ASSERT(l->weight >= 1 && l->weight <= HP_WEIGHT_MAX, "weight %d",
		l->weight);
    FUZZ_ASSERT(l->backup == 0 || l->backup == 1, "backup %d", l->backup);
    FUZZ_ASSERT(l->rate >= 0 && l->rate <= HP_RATE_MAX, "rate %ld", l->rate);
    FUZZ_ASSERT(l->rate_per == 1 || l->rate_per == 60 || l->rate_per == 3600,
		"rate_per %ld", l->rate_per);
    FUZZ_ASSERT(l->max_conn >= 0 && l->max_conn <= HP_CONN_MAX,
		"max_conn %ld", l->max_conn);
    FUZZ_ASSERT(l->quota >= 0 && l->quota <= HP_QUOTA_MAX, "quota %ld",
		l->quota);
    FUZZ_ASSERT(l->quota_per == 3600 || l->quota_per == 86400,
		"quota_per %ld", l->quota_per);
}

/* same_limits - the fields that have a meaning are equal */

static int same_limits(const struct host_limits *a,
		               const struct host_limits *b)
{
    return (a->weight == b->weight && a->backup == b->backup
	    && a->rate == b->rate && (a->rate == 0 || a->rate_per == b->rate_per)
	    && a->max_conn == b->max_conn && a->quota == b->quota
	    && (a->quota == 0 || a->quota_per == b->quota_per));
}

/* check_round_trip - the formatted limits read back the same */

static void check_round_trip(const struct host_policy_entry *e)
{
    static struct host_policy again;
    struct host_limits lim;
    char    line[DEST_TEXT_MAX + 200];
    char    path[64];
    char    err[600];
    int     len;
    int     fd;

    len = snprintf(line, sizeof(line), "%s ", e->dest);
    FUZZ_ASSERT(hostpolicy_format(&e->lim, line + len, sizeof(line) - len)
		>= 0, "format of %s does not fit", e->dest);
    strcat(line, "\n");
    fd = fuzz_memfile(line, strlen(line), 0600, path, sizeof(path));
    FUZZ_ASSERT(hostpolicy_load(path, &again, err, sizeof(err)) == 0,
		"\"%s\" does not load: %s", line, err);
    hostpolicy_limits(&again, e->dest, &lim);
    FUZZ_ASSERT(again.count == 1 && same_limits(&lim, &e->lim),
		"\"%s\" reads back as other limits", line);
    (void) close(fd);
}

/* check_policy - loaded entries */

static void check_policy(const struct host_policy *policy)
{
    const struct host_policy_entry *e;
    struct host_limits lim;
    int     i;
    int     j;

    FUZZ_ASSERT(policy->count >= 0 && policy->count <= HOSTPOLICY_MAX,
		"count %d", policy->count);
    for (i = 0; i < policy->count; i++) {
	e = &policy->entries[i];
	check_dest(e->dest);
	for (j = 0; j < i; j++)
	    FUZZ_ASSERT(strcmp(policy->entries[j].dest, e->dest) != 0,
			"%s twice", e->dest);
	check_bounds(&e->lim);
	hostpolicy_limits(policy, e->dest, &lim);
	FUZZ_ASSERT(same_limits(&lim, &e->lim), "limits of %s", e->dest);
	check_round_trip(e);
    }
}

/* LLVMFuzzerTestOneInput - one host_policy_file */

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct host_policy policy;
    char    path[64];
    char    err[600];
    int     fd = fuzz_memfile(data, size, 0600, path, sizeof(path));

    err[0] = 0;
    if (hostpolicy_load(path, &policy, err, sizeof(err)) < 0) {
	FUZZ_ASSERT(strncmp(err, path, strlen(path)) == 0
		    && err[strlen(path)] == ':' && strchr(err, '\n') == 0,
		    "reason \"%s\"", err);
	FUZZ_ASSERT(policy.count == 0, "entries after a failed load");
    } else if (memchr(data, 0, size) != 0) {
	fuzz_fail(__FILE__, __LINE__, "NUL byte accepted");
    } else {
	check_policy(&policy);
    }
    (void) close(fd);
    return (0);
}
