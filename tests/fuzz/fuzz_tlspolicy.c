/* SPDX-License-Identifier: MIT */
/*
 * fuzz_tlspolicy - fuzz harness for transport/tlspolicy.c (and the AUTH
 * PLAIN encoding in smtp_auth.c)
 *
 * Input: a byte (bit 0: auth_file, else tls_policy_file), then the
 * file, NUL bytes and all. The file is private (mode 0600).
 *
 * Properties: a file with a NUL byte is refused (a comment could hide
 * an entry after one). A load either fails with "file:line: reason" on
 * one line, or gives at most POLICY_MAX entries whose destinations are in the
 * normalized form that hostlist_parse() gives (so the find functions
 * can match them), and which the find functions return. A policy
 * entry has one of the five levels, no wrapper with "none", and a
 * match list without white space. Credentials have a user without
 * white space and a password without CR, LF or white space at either
 * end, both non-empty and within CRED_MAX; auth_plain() of them is
 * base64 that decodes to NUL user NUL password; authfile_wipe() leaves
 * no byte of them.
 */

#include <ctype.h>
#include <unistd.h>

#include "fuzz.h"
#include "conf/hostlist.h"
#include "smtp/smtp_auth.h"
#include "conf/tlspolicy.h"

/* check_dest - a destination in the form hostlist_parse() gives it */

static void check_dest(const char *dest)
{
    static struct hostlist list;
    char    err[300];

    FUZZ_ASSERT(hostlist_parse(dest, &list, err, sizeof(err)) == 0
		&& list.count == 1 && strcmp(list.dests[0].text, dest) == 0,
		"destination \"%s\" is not normalized", dest);
}

/* unbase64 - decode base64 text; the length, or -1 */

static int unbase64(const char *text, unsigned char *out, size_t outlen)
{
    static const char set[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t  len = strlen(text);
    size_t  n = 0;
    size_t  i;
    int     j;
    unsigned long group;
    const char *pos;

    if (len % 4)
	return (-1);
    for (i = 0; i < len; i += 4) {
	for (group = 0, j = 0; j < 4; j++) {
	    if (text[i + j] == '=' && i + 4 == len && j >= 2)
		pos = set;
	    else if ((pos = strchr(set, text[i + j])) == 0 || *pos == 0)
		return (-1);
	    group = group << 6 | (unsigned long) (pos - set);
	}
	for (j = 0; j < 3 && n < outlen; j++)
	    out[n++] = (unsigned char) (group >> (16 - 8 * j));
    }
    if (len >= 4 && text[len - 1] == '=')
	n -= text[len - 2] == '=' ? 2 : 1;
    return ((int) n);
}

/* check_plain - AUTH PLAIN of the credentials decodes back */

static void check_plain(const struct auth_entry *e)
{
    char    b64[2048];
    unsigned char raw[1536];
    size_t  ulen = strlen(e->user);
    size_t  plen = strlen(e->pass);
    int     n;

    FUZZ_ASSERT(auth_plain(e->user, e->pass, b64, sizeof(b64)) == 0,
		"auth_plain failed");
    n = unbase64(b64, raw, sizeof(raw));
    FUZZ_ASSERT(n == (int) (ulen + plen + 2) && raw[0] == 0
		&& memcmp(raw + 1, e->user, ulen) == 0 && raw[1 + ulen] == 0
		&& memcmp(raw + 2 + ulen, e->pass, plen) == 0,
		"AUTH PLAIN \"%s\" does not decode to the credentials", b64);
}

/* check_policy - loaded TLS policy entries */

static void check_policy(const struct tls_policy *policy)
{
    const struct tls_policy_entry *e;
    const char *cp;
    int     i;

    FUZZ_ASSERT(policy->count >= 0 && policy->count <= POLICY_MAX, "count");
    for (i = 0; i < policy->count; i++) {
	e = &policy->entries[i];
	check_dest(e->dest);
	FUZZ_ASSERT(e->level >= TLS_NONE && e->level <= TLS_SECURE, "level");
	FUZZ_ASSERT(!e->wrapper || e->level != TLS_NONE, "wrapper, none");
	for (cp = e->match; *cp; cp++)
	    FUZZ_ASSERT(!isspace((unsigned char) *cp), "space in match");
	FUZZ_ASSERT(tlspolicy_find(policy, e->dest) != 0, "not found");
    }
}

/* check_auth - loaded credentials */

static void check_auth(struct auth_table *table)
{
    const struct auth_entry *e;
    const char *cp;
    size_t  plen;
    int     i;

    FUZZ_ASSERT(table->count >= 0 && table->count <= POLICY_MAX, "count");
    for (i = 0; i < table->count; i++) {
	e = &table->entries[i];
	check_dest(e->dest);
	FUZZ_ASSERT(*e->user && strlen(e->user) < CRED_MAX, "user length");
	for (cp = e->user; *cp; cp++)
	    FUZZ_ASSERT(!isspace((unsigned char) *cp), "space in user");
	plen = strlen(e->pass);
	FUZZ_ASSERT(plen > 0 && plen < CRED_MAX, "password length");
	FUZZ_ASSERT(!isspace((unsigned char) e->pass[0])
		    && !isspace((unsigned char) e->pass[plen - 1])
		    && strpbrk(e->pass, "\r\n") == 0, "password \"%s\"",
		    e->pass);
	FUZZ_ASSERT(authfile_find(table, e->dest) != 0, "not found");
	check_plain(e);
    }
    authfile_wipe(table);
    for (i = 0; i < (int) sizeof(*table); i++)
	FUZZ_ASSERT(((unsigned char *) table)[i] == 0, "wipe left byte %d", i);
}

/* LLVMFuzzerTestOneInput - one tls_policy_file or auth_file */

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct tls_policy policy;
    static struct auth_table table;
    struct fuzz_in in = {data, size};
    int     auth = fuzz_take_byte(&in) & 1;
    char    path[64];
    char    err[600];
    int     fd = fuzz_memfile(in.data, in.size, 0600, path, sizeof(path));
    int     status;

    err[0] = 0;
    if (auth)
	status = authfile_load(path, &table, err, sizeof(err));
    else
	status = tlspolicy_load(path, &policy, err, sizeof(err));
    if (status < 0) {
	FUZZ_ASSERT(strncmp(err, path, strlen(path)) == 0
		    && err[strlen(path)] == ':' && strchr(err, '\n') == 0,
		    "reason \"%s\"", err);
	if (auth)
	    authfile_wipe(&table);
    } else if (memchr(in.data, 0, in.size) != 0) {
	fuzz_fail(__FILE__, __LINE__, "NUL byte accepted");
    } else if (auth) {
	check_auth(&table);
    } else {
	check_policy(&policy);
    }
    (void) close(fd);
    return (0);
}
