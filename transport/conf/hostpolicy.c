/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	hostpolicy 3
 * SUMMARY
 *	per-upstream capacity: weight, backup, rate, connections, quota
 * SYNOPSIS
 *	#include "conf/hostpolicy.h"
 *
 *	int	hostpolicy_load(path, policy, err, errlen)
 *	void	hostpolicy_limits(policy, dest, lim)
 *	int	hostpolicy_format(lim, buf, len)
 * DESCRIPTION
 *	hostpolicy_load() reads host_policy_file: one destination per
 *	line, in the form of tls_policy_file, then its attributes:
 *
 *	    [smtp.a.example]:587  weight=3  rate=14/s  max_connections=10  quota=50000/d
 *	    [smtp.b.example]:587  weight=1
 *	    [backup.example]      backup
 *
 *	Every attribute is optional and may appear once:
 *
 *	    weight=N		1 to 100 (default 1)
 *	    backup		take mail only when no primary host can
 *	    rate=N/s|N/m|N/h	N from 1 to 1000000 deliveries per interval
 *	    max_connections=N	1 to 10000 sessions at once
 *	    quota=N/d|N/h	N from 1 to 100000000 recipients per UTC
 *				day or clock hour
 *
 *	'#' starts a comment line, a line may hold up to 2048 bytes and no
 *	NUL byte (cf_read_line()), and each destination is normalized as
 *	in the host list, so "[Mail.Example]:25" and "[mail.example]" are
 *	the same key. A destination may appear once; the file may hold
 *	HOSTPOLICY_MAX of them.
 *
 *	hostpolicy_limits() gives the limits for one destination (as
 *	hostlist_parse() normalized it): the file's, or the defaults
 *	(weight 1, no limits) for a destination not in the file or when
 *	policy is null. Without a limit, rate_per is 1 and quota_per is
 *	86400, so that neither is ever 0.
 *
 *	hostpolicy_format() writes the limits in the file's syntax, the
 *	attributes that differ from the defaults only, in a fixed order
 *	("weight=3 rate=14/s max_connections=10 quota=50000/d backup"),
 *	for rrelay status and the logs. Read back as the attributes of a
 *	line, the text gives the same limits. All defaults give "".
 * DIAGNOSTICS
 *	hostpolicy_load() returns -1 with "file:line: what is wrong".
 *	hostpolicy_format() returns the length of the text, or -1 when it
 *	does not fit in len bytes.
 *--*/

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "conf/hostpolicy.h"

#define LINE_MAX_LEN	2048

#define SEEN_WEIGHT	(1 << 0)
#define SEEN_BACKUP	(1 << 1)
#define SEEN_RATE	(1 << 2)
#define SEEN_CONN	(1 << 3)
#define SEEN_QUOTA	(1 << 4)

/* One attribute: its name, its bit, and its parser (null: a flag). */

struct hp_attr {
    const char *name;
    int     seen;
    int     (*parse) (const char *, const char *, struct host_limits *,
		              char *, size_t);
};

/* The interval units of rate= and quota=. */

struct hp_unit {
    char    letter;
    long    seconds;
};

static const struct hp_unit rate_units[] = {
    {'s', 1}, {'m', 60}, {'h', 3600}, {0, 0},
};
static const struct hp_unit quota_units[] = {
    {'d', 86400}, {'h', 3600}, {0, 0},
};

/* default_limits - weight 1, no limits */

static void default_limits(struct host_limits *lim)
{
    memset(lim, 0, sizeof(*lim));
    lim->weight = 1;
    lim->rate_per = 1;
    lim->quota_per = 86400;
}

/* parse_count - digits only, within min..max; the rest in *rest */

static int parse_count(const char *text, long min, long max, long *value,
		               const char **rest)
{
    const char *cp;
    long    n = 0;
    int     big = 0;

    for (cp = text; isdigit((unsigned char) *cp); cp++) {
	if (n > max)
	    big = 1;
	else
	    n = n * 10 + (*cp - '0');
    }
    *rest = cp;
    if (cp == text || big || n < min || n > max)
	return (-1);
    *value = n;
    return (0);
}

/* parse_plain - a count with nothing after it */

static int parse_plain(const char *word, const char *value, long min,
		               long max, long *out, char *why, size_t whylen)
{
    const char *rest;
    const char *name = word;
    int     namelen = (int) (value - word - 1);

    if (parse_count(value, min, max, out, &rest) < 0 || *rest) {
	snprintf(why, whylen, "%.64s: %.*s must be %ld to %ld", word,
		 namelen, name, min, max);
	return (-1);
    }
    return (0);
}

/* parse_per - "N/u" with u one of units */

static int parse_per(const char *word, const char *value, long max,
		             const struct hp_unit *units, const char *unitwords,
		             long *count, long *per, char *why, size_t whylen)
{
    const struct hp_unit *u;
    const char *rest;
    int     namelen = (int) (value - word - 1);

    if (parse_count(value, 1, max, count, &rest) < 0) {
	snprintf(why, whylen, "%.64s: %.*s must be 1 to %ld per %s", word,
		 namelen, word, max, unitwords);
	return (-1);
    }
    for (u = units; u->letter; u++)
	if (rest[0] == '/' && rest[1] == u->letter && rest[2] == 0)
	    break;
    if (u->letter == 0) {
	snprintf(why, whylen, "%.64s: %.*s needs a unit: N/%s", word,
		 namelen, word, unitwords);
	return (-1);
    }
    *per = u->seconds;
    return (0);
}

/* parse_weight - weight=N */

static int parse_weight(const char *word, const char *value,
			        struct host_limits *lim, char *why,
			        size_t whylen)
{
    long    n;

    if (parse_plain(word, value, 1, HP_WEIGHT_MAX, &n, why, whylen) < 0)
	return (-1);
    lim->weight = (int) n;
    return (0);
}

/* parse_conn - max_connections=N */

static int parse_conn(const char *word, const char *value,
		              struct host_limits *lim, char *why, size_t whylen)
{
    return (parse_plain(word, value, 1, HP_CONN_MAX, &lim->max_conn, why,
			whylen));
}

/* parse_rate - rate=N/s, N/m or N/h */

static int parse_rate(const char *word, const char *value,
		              struct host_limits *lim, char *why, size_t whylen)
{
    return (parse_per(word, value, HP_RATE_MAX, rate_units, "s, N/m or N/h",
		      &lim->rate, &lim->rate_per, why, whylen));
}

/* parse_quota - quota=N/d or N/h */

static int parse_quota(const char *word, const char *value,
		               struct host_limits *lim, char *why, size_t whylen)
{
    return (parse_per(word, value, HP_QUOTA_MAX, quota_units, "d or N/h",
		      &lim->quota, &lim->quota_per, why, whylen));
}

static const struct hp_attr attrs[] = {
    {"weight", SEEN_WEIGHT, parse_weight},
    {"backup", SEEN_BACKUP, 0},
    {"rate", SEEN_RATE, parse_rate},
    {"max_connections", SEEN_CONN, parse_conn},
    {"quota", SEEN_QUOTA, parse_quota},
    {0, 0, 0},
};

/* find_attr - the attribute a word names; its value (or null) in *value */

static const struct hp_attr *find_attr(const char *word, const char **value)
{
    const struct hp_attr *a;
    const char *eq = strchr(word, '=');
    size_t  len = eq ? (size_t) (eq - word) : strlen(word);

    for (a = attrs; a->name; a++) {
	if (strlen(a->name) == len && strncmp(a->name, word, len) == 0) {
	    *value = eq ? eq + 1 : 0;
	    return (a);
	}
    }
    return (0);
}

/* parse_attr - one attribute word into the limits */

static int parse_attr(const char *word, int *seen, struct host_limits *lim,
		              char *why, size_t whylen)
{
    const struct hp_attr *a;
    const char *value;

    if ((a = find_attr(word, &value)) == 0) {
	snprintf(why, whylen, "unknown attribute \"%.64s\" (want weight=, "
		 "backup, rate=, max_connections= or quota=)", word);
	return (-1);
    }
    if (*seen & a->seen) {
	snprintf(why, whylen, "%s given twice", a->name);
	return (-1);
    }
    *seen |= a->seen;
    if (a->parse == 0 && value == 0) {
	lim->backup = 1;
	return (0);
    }
    if (a->parse == 0 || value == 0) {
	snprintf(why, whylen, "%.64s: %s %s", word, a->name, a->parse ?
		 "needs a value, as in name=N" : "takes no value");
	return (-1);
    }
    return (a->parse(word, value, lim, why, whylen));
}

/* normal_dest - one destination in its normalized form */

static int normal_dest(const char *word, char *out, size_t outlen,
		               char *why, size_t whylen)
{
    struct hostlist list;

    if (hostlist_parse(word, &list, why, whylen) < 0)
	return (-1);
    if (list.count != 1) {
	snprintf(why, whylen, "one destination per line");
	return (-1);
    }
    snprintf(out, outlen, "%s", list.dests[0].text);
    return (0);
}

/* find_entry - the entry for a normalized destination, or null */

static const struct host_policy_entry *find_entry(const struct host_policy *p,
						          const char *dest)
{
    int     i;

    for (i = 0; p && i < p->count; i++)
	if (strcmp(p->entries[i].dest, dest) == 0)
	    return (&p->entries[i]);
    return (0);
}

/* policy_line - parse one line into the next entry */

static int policy_line(char *line, struct host_policy *policy, char *why,
		               size_t whylen)
{
    struct host_policy_entry *e = &policy->entries[policy->count];
    char   *word;
    int     seen = 0;

    memset(e, 0, sizeof(*e));
    default_limits(&e->lim);
    if (normal_dest(cf_next_word(&line), e->dest, sizeof(e->dest), why,
		    whylen) < 0)
	return (-1);
    if (find_entry(policy, e->dest) != 0) {
	snprintf(why, whylen, "%s is already in the file", e->dest);
	return (-1);
    }
    while ((word = cf_next_word(&line)) != 0)
	if (parse_attr(word, &seen, &e->lim, why, whylen) < 0)
	    return (-1);
    return (0);
}

/* hostpolicy_load - read host_policy_file */

int     hostpolicy_load(const char *path, struct host_policy *policy,
			        char *err, size_t errlen)
{
    char    line[LINE_MAX_LEN + 1];
    char    why[300];
    char   *cp;
    FILE   *fp;
    int     lineno = 0;
    int     status = -1;
    int     got;

    policy->count = 0;
    if ((fp = fopen(path, "r")) == 0) {
	snprintf(err, errlen, "%s: %s", path, strerror(errno));
	return (-1);
    }
    while ((got = cf_read_line(fp, line, sizeof(line))) != CF_LINE_EOF) {
	lineno++;
	if (got != CF_LINE_OK) {
	    snprintf(err, errlen, "%s:%d: %s", path, lineno,
		     cf_line_error(got));
	    goto out;
	}
	line[strcspn(line, "\r")] = 0;
	for (cp = line; isspace((unsigned char) *cp); cp++)
	    ;
	if (*cp == 0 || *cp == '#')
	    continue;
	if (policy->count >= HOSTPOLICY_MAX) {
	    snprintf(err, errlen, "%s:%d: more than %d destinations", path,
		     lineno, HOSTPOLICY_MAX);
	    goto out;
	}
	if (policy_line(cp, policy, why, sizeof(why)) < 0) {
	    snprintf(err, errlen, "%s:%d: %s", path, lineno, why);
	    goto out;
	}
	policy->count++;
    }
    status = 0;

out:
    if (status < 0)
	policy->count = 0;
    fclose(fp);
    return (status);
}

/* hostpolicy_limits - the limits for one destination, or the defaults */

void    hostpolicy_limits(const struct host_policy *policy, const char *dest,
			          struct host_limits *lim)
{
    const struct host_policy_entry *e = find_entry(policy, dest);

    if (e != 0)
	*lim = e->lim;
    else
	default_limits(lim);
}

/* unit_letter - the letter for an interval, '?' for none */

static char unit_letter(const struct hp_unit *units, long seconds)
{
    const struct hp_unit *u;

    for (u = units; u->letter; u++)
	if (u->seconds == seconds)
	    return (u->letter);
    return ('?');
}

/* append - add one word, after a space unless it is the first */

static int append(char *buf, size_t len, size_t *used, const char *word)
{
    int     got;

    got = snprintf(buf + *used, len - *used, "%s%s", *used ? " " : "", word);
    if (got < 0 || (size_t) got >= len - *used)
	return (-1);
    *used += (size_t) got;
    return (0);
}

/* hostpolicy_format - the non-default limits in the file's syntax */

int     hostpolicy_format(const struct host_limits *lim, char *buf,
			          size_t len)
{
    char    words[5][48];
    size_t  used = 0;
    int     n = 0;
    int     i;

    if (lim->weight != 1)
	snprintf(words[n++], sizeof(words[0]), "weight=%d", lim->weight);
    if (lim->rate > 0)
	snprintf(words[n++], sizeof(words[0]), "rate=%ld/%c", lim->rate,
		 unit_letter(rate_units, lim->rate_per));
    if (lim->max_conn > 0)
	snprintf(words[n++], sizeof(words[0]), "max_connections=%ld",
		 lim->max_conn);
    if (lim->quota > 0)
	snprintf(words[n++], sizeof(words[0]), "quota=%ld/%c", lim->quota,
		 unit_letter(quota_units, lim->quota_per));
    if (lim->backup)
	snprintf(words[n++], sizeof(words[0]), "backup");
    if (len == 0)
	return (-1);
    buf[0] = 0;
    for (i = 0; i < n; i++) {
	if (append(buf, len, &used, words[i]) < 0) {
	    buf[0] = 0;
	    return (-1);
	}
    }
    return ((int) used);
}
