/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	bad_server - an SMTP server whose greeting is broken on purpose
 * SYNOPSIS
 *	bad_server PORT MODE READYFILE
 * DESCRIPTION
 *	bad_server listens on 127.0.0.1:PORT and answers every connection,
 *	one at a time, with a broken greeting, then reads and discards what
 *	the client sends until it closes. MODE is one of:
 *
 *	continuation	"220-hello" then "250 changed": the code changes
 *			between the lines of one reply
 *	endless		"220-more" lines without end (200,000 at most)
 *	longline	one greeting line of 5,000 characters
 *	garbage		"hello there", not a reply at all
 *
 *	READYFILE is created once the socket listens. SIGTERM ends it.
 * EXIT STATUS
 *	0 after SIGTERM, 1 on a usage or system error.
 * SEE ALSO
 *	tests/integration/transport_hostile.bats
 */

#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "listen.h"

#define ENDLESS_MAX	200000		/* lines sent in "endless" mode */

/* send_all - write the whole buffer; -1 when the client went away */
static int send_all(int fd, const char *buf, size_t len)
{
    ssize_t n;

    while (len > 0) {
	if ((n = write(fd, buf, len)) < 0) {
	    if (errno == EINTR)
		continue;
	    return (-1);
	}
	buf += n;
	len -= (size_t) n;
    }
    return (0);
}

/* greet - the broken greeting of the chosen mode */
static int greet(int fd, const char *mode)
{
    static char longline[5000 + 8];
    int     i;

    if (strcmp(mode, "continuation") == 0)
	return (send_all(fd, "220-hello\r\n250 changed\r\n", 24));
    if (strcmp(mode, "garbage") == 0)
	return (send_all(fd, "hello there\r\n", 13));
    if (strcmp(mode, "longline") == 0) {
	memcpy(longline, "220 ", 4);
	memset(longline + 4, 'x', 5000 - 4);
	memcpy(longline + 5000, "\r\n", 2);
	return (send_all(fd, longline, 5002));
    }
    for (i = 0; i < ENDLESS_MAX; i++)
	if (send_all(fd, "220-more\r\n", 10) < 0)
	    return (-1);
    return (0);
}

/* drain - read until the client closes */
static void drain(int fd)
{
    char    buf[4096];

    while (read(fd, buf, sizeof(buf)) > 0)
	;
}

int     main(int argc, char **argv)
{
    int     lfd;
    int     fd;
    FILE   *fp;

    if (argc != 4 || (strcmp(argv[2], "continuation") && strcmp(argv[2],
	"endless") && strcmp(argv[2], "longline") && strcmp(argv[2], "garbage"))) {
	fprintf(stderr, "usage: bad_server PORT continuation|endless|longline|"
		"garbage READYFILE\n");
	return (1);
    }
    signal(SIGPIPE, SIG_IGN);
    lfd = tool_listen("bad_server", argv[1], 16);
    if ((fp = fopen(argv[3], "w")) == 0)
	tool_die("bad_server", argv[3]);
    fclose(fp);
    for (;;) {
	if ((fd = accept(lfd, 0, 0)) < 0) {
	    if (errno == EINTR)
		continue;
	    tool_die("bad_server", "accept");
	}
	if (greet(fd, argv[2]) == 0)
	    drain(fd);
	close(fd);
    }
}
