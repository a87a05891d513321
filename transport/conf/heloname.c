/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	heloname 3
 * SUMMARY
 *	this host's name for EHLO when helo_name is unset
 * SYNOPSIS
 *	#include "conf/heloname.h"
 *
 *	int	heloname_valid(name)
 *
 *	char	*heloname_default(state_directory, host, now)
 * DESCRIPTION
 *	heloname_valid() tells whether name can follow EHLO: a host name
 *	or an address literal, at most 255 bytes.
 *
 *	heloname_default() returns this host's fully qualified name,
 *	newly allocated, or "" when it has none (the SMTP client then
 *	sends the address literal of its end, RFC 5321 4.1.4). The name
 *	is host's, or gethostname()'s when host is null; a qualified one
 *	(with a dot) is the answer at once. An unqualified one is looked
 *	up with getaddrinfo(AI_CANONNAME), which can cost a DNS round
 *	trip.
 *
 *	So that the lookup is not done per message, its answer is kept
 *	for HELO_CACHE_S seconds twice: in the process (a delivery worker
 *	runs many deliveries), and in the file HELO_FILE in
 *	state_directory, which every rrelay that pipe(8) starts reads
 *	instead of looking up. Both are kept with the host name they are
 *	for, so a new host name is looked up at once. The file is one
 *	line, the host name, a space and the answer, replaced with
 *	rename() so that a reader sees a whole one. A file that is older
 *	than HELO_CACHE_S, dated in the future, for another host name or
 *	not valid is looked past and replaced; one that can't be written
 *	only means the next process looks up again. rrelay-setup passes
 *	Postfix's myhostname as helo_name, so none of this happens there.
 * DIAGNOSTICS
 *	heloname_default() returns 0 when out of memory.
 *--*/

#include <ctype.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf/heloname.h"

#define NAME_MAX_LEN	256			/* a name, its NUL */

/* heloname_valid - a host name or address literal we can put after EHLO */

int     heloname_valid(const char *name)
{
    const unsigned char *cp;

    if (*name == 0 || strlen(name) > 255)
	return (0);
    for (cp = (const unsigned char *) name; *cp; cp++)
	if (!isalnum(*cp) && strchr("-._[]:", *cp) == 0)
	    return (0);
    return (1);
}

/* lookup - host's FQDN, or "" when it has none */

static void lookup(const char *host, char *name, size_t len)
{
    struct addrinfo hints;
    struct addrinfo *res = 0;

    memset(&hints, 0, sizeof(hints));
    hints.ai_flags = AI_CANONNAME;
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(host, 0, &hints, &res) == 0 && res->ai_canonname
	&& strchr(res->ai_canonname, '.'))
	snprintf(name, len, "%s", res->ai_canonname);
    else
	name[0] = 0;
    if (res)
	freeaddrinfo(res);
}

/* read_cached - the answer in path for host if it is fresh and valid; 1, or 0 */

static int read_cached(const char *path, const char *host, time_t now,
		               char *name, size_t len)
{
    char    buf[2 * NAME_MAX_LEN + 2];
    struct stat st;
    ssize_t n = -1;
    char   *answer;
    int     fd;

    if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
	return (0);
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_mtime <= now
	&& now - st.st_mtime < HELO_CACHE_S)
	n = read(fd, buf, sizeof(buf) - 1);
    (void) close(fd);
    if (n < 2 || buf[n - 1] != '\n' || memchr(buf, 0, (size_t) n))
	return (0);
    buf[n - 1] = 0;
    if ((answer = strchr(buf, ' ')) == 0)
	return (0);
    *answer++ = 0;
    if (strcmp(buf, host) != 0 || (answer[0] && !heloname_valid(answer)))
	return (0);				/* "" is a valid answer too */
    snprintf(name, len, "%s", answer);
    return (1);
}

/* write_cached - replace path with host's answer; no harm when it can't */

static void write_cached(const char *path, const char *host,
			         const char *name)
{
    char    tmp[4096];
    char    line[2 * NAME_MAX_LEN + 2];
    int     len = snprintf(line, sizeof(line), "%s %s\n", host, name);
    int     fd;
    int     ok;

    if (snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", path, (long) getpid())
	>= (int) sizeof(tmp)
	|| (fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW
		      | O_CLOEXEC, 0644)) < 0)
	return;
    ok = write(fd, line, (size_t) len) == len;
    if (close(fd) < 0 || !ok || rename(tmp, path) < 0)
	(void) unlink(tmp);
}

/* heloname_default - host's FQDN, looked up at most once a HELO_CACHE_S */

char   *heloname_default(const char *state_directory, const char *host,
			         time_t now)
{
    static char name[NAME_MAX_LEN];
    static char for_host[NAME_MAX_LEN];
    static char dir[4096];
    static time_t when;
    char    this_host[NAME_MAX_LEN];
    char    path[4096];

    if (host == 0) {
	if (gethostname(this_host, sizeof(this_host)) < 0)
	    snprintf(this_host, sizeof(this_host), "localhost");
	this_host[sizeof(this_host) - 1] = 0;
	host = this_host;
    }
    if (strchr(host, '.'))			/* qualified: no lookup */
	return (strdup(host));
    if (when != 0 && now >= when && now - when < HELO_CACHE_S
	&& strcmp(dir, state_directory) == 0 && strcmp(for_host, host) == 0)
	return (strdup(name));
    if (snprintf(path, sizeof(path), "%s/%s", state_directory, HELO_FILE)
	>= (int) sizeof(path) || strchr(host, ' ')
	|| !read_cached(path, host, now, name, sizeof(name))) {
	lookup(host, name, sizeof(name));
	if (strchr(host, ' ') == 0)
	    write_cached(path, host, name);
    }
    snprintf(dir, sizeof(dir), "%s", state_directory);
    snprintf(for_host, sizeof(for_host), "%s", host);
    when = now;
    return (strdup(name));
}
