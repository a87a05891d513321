/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	silent_server - TCP server that accepts connections and never speaks
 * SYNOPSIS
 *	silent_server PORT COUNTFILE
 * DESCRIPTION
 *	silent_server listens on 127.0.0.1:PORT, accepts every connection
 *	and never sends a byte: an SMTP client waiting for the greeting
 *	runs into its own timeout. Whatever a client sends is read and
 *	thrown away; a connection is closed when the client closes it.
 *
 *	After each accepted connection the total number of connections
 *	accepted so far is written to COUNTFILE as a decimal number and a
 *	newline. The file is replaced atomically (write to COUNTFILE.tmp,
 *	then rename), so a reader never sees a partial count. COUNTFILE
 *	holds "0" once the socket is listening: its existence means ready.
 *
 *	SIGTERM or SIGINT ends the program with status 0.
 * EXIT STATUS
 *	0 after SIGTERM or SIGINT, 1 on a usage or system error.
 * SEE ALSO
 *	tests/integration/lib.bash (rr_silent_start, rr_silent_count)
 */

#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "listen.h"

#define MAX_CLIENTS	1000		/* connections held open at once */

static volatile sig_atomic_t stop;

/* on_signal - note that the program should end */
static void on_signal(int sig)
{
    (void) sig;
    stop = 1;
}

/* write_count - atomically replace COUNTFILE with the count */
static void write_count(const char *path, unsigned long count)
{
    char    tmp[4096];
    char    text[32];
    int     fd;
    int     len;

    if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int) sizeof(tmp)) {
	errno = ENAMETOOLONG;
	tool_die("silent_server", path);
    }
    len = snprintf(text, sizeof(text), "%lu\n", count);
    if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644)) < 0)
	tool_die("silent_server", tmp);
    if (write(fd, text, (size_t) len) != len)
	tool_die("silent_server", tmp);
    if (close(fd) < 0)
	tool_die("silent_server", tmp);
    if (rename(tmp, path) < 0)
	tool_die("silent_server", path);
}

/* serve - accept, count and hold connections until told to stop */
static void serve(int lfd, const char *countfile)
{
    struct pollfd fds[MAX_CLIENTS + 1];
    nfds_t  nfds = 1;
    unsigned long count = 0;
    char    junk[4096];
    nfds_t  i;
    int     cfd;
    ssize_t got;

    fds[0].fd = lfd;
    fds[0].events = POLLIN;
    while (!stop) {
	if (poll(fds, nfds, 1000) < 0) {
	    if (errno == EINTR)
		continue;
	    tool_die("silent_server", "poll");
	}
	if (fds[0].revents & POLLIN) {
	    if ((cfd = accept(lfd, NULL, NULL)) < 0) {
		if (errno != EINTR && errno != ECONNABORTED)
		    tool_die("silent_server", "accept");
	    } else {
		write_count(countfile, ++count);
		if (nfds > MAX_CLIENTS) {
		    (void) close(cfd);
		} else {
		    fds[nfds].fd = cfd;
		    fds[nfds].events = POLLIN;
		    fds[nfds].revents = 0;
		    nfds++;
		}
	    }
	}
	for (i = 1; i < nfds; i++) {
	    if (fds[i].revents == 0)
		continue;
	    got = read(fds[i].fd, junk, sizeof(junk));
	    if (got > 0 || (got < 0 && errno == EINTR))
		continue;
	    (void) close(fds[i].fd);
	    fds[i] = fds[--nfds];
	    i--;
	}
    }
}

int     main(int argc, char **argv)
{
    struct sigaction sa;
    int     lfd;

    if (argc != 3) {
	fprintf(stderr, "usage: silent_server PORT COUNTFILE\n");
	return (1);
    }
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGTERM, &sa, NULL) < 0 || sigaction(SIGINT, &sa, NULL) < 0)
	tool_die("silent_server", "sigaction");
    signal(SIGPIPE, SIG_IGN);
    lfd = tool_listen("silent_server", argv[1], 128);
    write_count(argv[2], 0);
    serve(lfd, argv[2]);
    return (0);
}
