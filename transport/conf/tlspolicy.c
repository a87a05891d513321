/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	tlspolicy 3
 * SUMMARY
 *	per-destination TLS policy and SMTP AUTH credentials
 * SYNOPSIS
 *	#include "conf/tlspolicy.h"
 *
 *	int	tlspolicy_load(path, policy, err, errlen)
 *	const struct tls_policy_entry *tlspolicy_find(policy, dest)
 *
 *	int	authfile_load(path, table, err, errlen)
 *	const struct auth_entry *authfile_find(table, dest)
 *	void	authfile_wipe(table)
 * DESCRIPTION
 *	tlspolicy_load() reads tls_policy_file, in the spirit of Postfix's
 *	smtp_tls_policy_maps: one destination per line,
 *
 *	    [host]:port level [match=name1:name2] [wrapper]
 *
 *	where level is none, may, encrypt, verify or secure, match= names
 *	the certificate names that "secure" accepts, and wrapper means
 *	implicit TLS (port 465 style).
 *
 *	authfile_load() reads auth_file, like Postfix's sasl_passwd:
 *
 *	    [host]:port username password
 *
 *	The password is the rest of the line. The file must not be
 *	writable by its group or readable by others (chmod 600, or 640
 *	with the rrelay group), or it is refused.
 *
 *	In both files '#' starts a comment line, a line may hold up to
 *	2048 bytes and no NUL byte (cf_read_line()), and each destination is
 *	normalized as in the host list, so "[Mail.Example]:25" and
 *	"[mail.example]" are the same key. The find functions look up the
 *	destination as hostlist_parse() normalized it.
 *
 *	authfile_wipe() overwrites the credentials in memory.
 * DIAGNOSTICS
 *	The load functions return -1 with "file:line: what is wrong".
 *--*/

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>


#include "config.h"
#include "conf/tlspolicy.h"

#define LINE_MAX_LEN	2048

/* normal_dest - one destination in its normalized form */

static int normal_dest(const char *word, char *out, size_t outlen,
		               char *why, size_t whylen)
{
    struct hostlist list;

    if (whylen > 0)
	why[0] = 0;				/* written on every path */

    if (hostlist_parse(word, &list, why, whylen) < 0)
	return (-1);
    if (list.count != 1) {
	snprintf(why, whylen, "one destination per line");
	return (-1);
    }
    snprintf(out, outlen, "%s", list.dests[0].text);
    return (0);
}

/* policy_line - parse one policy line into an entry */

static int policy_line(char *line, struct tls_policy_entry *e, char *why,
		               size_t whylen)
{
    char   *word;

    if (whylen > 0)
	why[0] = 0;				/* written on every path */

    memset(e, 0, sizeof(*e));
    if (normal_dest(cf_next_word(&line), e->dest, sizeof(e->dest), why,
		    whylen) < 0)
	return (-1);
    if ((word = cf_next_word(&line)) == 0) {
	snprintf(why, whylen, "missing security level after %s", e->dest);
	return (-1);
    }
    if ((e->level = cf_enum_index(TLS_LEVEL_NAMES, word)) < 0) {
	snprintf(why, whylen, "unknown security level \"%s\" (want one of: %s)",
		 word, TLS_LEVEL_NAMES);
	return (-1);
    }
    while ((word = cf_next_word(&line)) != 0) {
	if (strncmp(word, "match=", 6) == 0 && word[6]
	    && strlen(word + 6) < sizeof(e->match)) {
	    strcpy(e->match, word + 6);
	} else if (strcmp(word, "wrapper") == 0) {
	    e->wrapper = 1;
	} else {
	    snprintf(why, whylen, "unknown attribute \"%.64s\"", word);
	    return (-1);
	}
    }
    if (e->wrapper && e->level == TLS_NONE) {
	snprintf(why, whylen, "wrapper needs a level other than none");
	return (-1);
    }
    return (0);
}

/* auth_line - parse one auth_file line into an entry */

static int auth_line(char *line, struct auth_entry *e, char *why,
		             size_t whylen)
{
    char   *user;
    char   *end;

    if (whylen > 0)
	why[0] = 0;				/* written on every path */

    memset(e, 0, sizeof(*e));
    if (normal_dest(cf_next_word(&line), e->dest, sizeof(e->dest), why,
		    whylen) < 0)
	return (-1);
    if ((user = cf_next_word(&line)) == 0 || strlen(user) >= sizeof(e->user)) {
	snprintf(why, whylen, "missing or over-long user name after %s",
		 e->dest);
	return (-1);
    }
    while (isspace((unsigned char) *line))
	line++;
    end = line + strlen(line);
    while (end > line && isspace((unsigned char) end[-1]))
	*--end = 0;
    if (*line == 0 || strlen(line) >= sizeof(e->pass)) {
	snprintf(why, whylen, "missing or over-long password after %s",
		 e->dest);
	return (-1);
    }
    strcpy(e->user, user);
    strcpy(e->pass, line);
    return (0);
}

/* check_private - the credentials file must not be open to others */

static int check_private(FILE *fp, const char *path, char *err, size_t errlen)
{
    struct stat st;

    if (errlen > 0)
	err[0] = 0;				/* written on every path */

    if (fstat(fileno(fp), &st) < 0) {
	snprintf(err, errlen, "%s: %s", path, strerror(errno));
	return (-1);
    }
    if (st.st_mode & 027) {
	snprintf(err, errlen, "%s: mode %04o lets other users read or write "
		 "the credentials; chmod 600 (or 640 with the rrelay group)",
		 path, (unsigned) (st.st_mode & 07777));
	return (-1);
    }
    return (0);
}

/* load_lines - feed each non-comment line to a parser */

static int load_lines(const char *path, int private, void *entries,
		              size_t size, int *count,
		              int (*parse) (char *, void *, char *, size_t),
		              char *err, size_t errlen)
{
    char    line[LINE_MAX_LEN + 1];
    char    why[300];
    char   *cp;
    FILE   *fp;
    int     lineno = 0;
    int     status = -1;
    int     got;

    if (errlen > 0)
	err[0] = 0;				/* written on every path */

    *count = 0;
    if ((fp = fopen(path, "r")) == 0) {
	snprintf(err, errlen, "%s: %s", path, strerror(errno));
	return (-1);
    }
    if (private && check_private(fp, path, err, errlen) < 0)
	goto out;
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
	if (*count >= POLICY_MAX) {
	    snprintf(err, errlen, "%s:%d: more than %d entries", path, lineno,
		     POLICY_MAX);
	    goto out;
	}
	if (parse(cp, (char *) entries + size * (size_t) *count, why,
		  sizeof(why)) < 0) {
	    snprintf(err, errlen, "%s:%d: %s", path, lineno, why);
	    goto out;
	}
	(*count)++;
    }
    status = 0;

out:
    explicit_bzero(line, sizeof(line));
    fclose(fp);
    return (status);
}

/* parse_policy - adapter for load_lines */

static int parse_policy(char *line, void *entry, char *why, size_t whylen)
{
    if (whylen > 0)
	why[0] = 0;				/* written on every path */

    return (policy_line(line, (struct tls_policy_entry *) entry, why, whylen));
}

/* parse_auth - adapter for load_lines */

static int parse_auth(char *line, void *entry, char *why, size_t whylen)
{
    if (whylen > 0)
	why[0] = 0;				/* written on every path */

    return (auth_line(line, (struct auth_entry *) entry, why, whylen));
}

/* tlspolicy_load - read tls_policy_file */

int     tlspolicy_load(const char *path, struct tls_policy *policy,
		               char *err, size_t errlen)
{
    if (errlen > 0)
	err[0] = 0;				/* written on every path */

    return (load_lines(path, 0, policy->entries, sizeof(policy->entries[0]),
		       &policy->count, parse_policy, err, errlen));
}

/* authfile_load - read auth_file, refusing one that others can read */

int     authfile_load(const char *path, struct auth_table *table, char *err,
		              size_t errlen)
{
    if (errlen > 0)
	err[0] = 0;				/* written on every path */

    return (load_lines(path, 1, table->entries, sizeof(table->entries[0]),
		       &table->count, parse_auth, err, errlen));
}

/* tlspolicy_find - the policy for one destination, or null */

const struct tls_policy_entry *tlspolicy_find(const struct tls_policy *policy,
					              const char *dest)
{
    int     i;

    for (i = 0; policy && i < policy->count; i++)
	if (strcmp(policy->entries[i].dest, dest) == 0)
	    return (&policy->entries[i]);
    return (0);
}

/* authfile_find - the credentials for one destination, or null */

const struct auth_entry *authfile_find(const struct auth_table *table,
				               const char *dest)
{
    int     i;

    for (i = 0; table && i < table->count; i++)
	if (strcmp(table->entries[i].dest, dest) == 0)
	    return (&table->entries[i]);
    return (0);
}

/* authfile_wipe - overwrite the credentials in memory */

void    authfile_wipe(struct auth_table *table)
{
    explicit_bzero(table, sizeof(*table));
}
