/* SPDX-License-Identifier: MIT */
#ifndef RR_TOOLS_LISTEN_H
#define RR_TOOLS_LISTEN_H

/* listen.h - what the test servers share: die() and a loopback listener */

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* tool_die - print "prog: what: errno text" and exit 1 */
static void tool_die(const char *prog, const char *what)
    __attribute__((noreturn, unused));

static void tool_die(const char *prog, const char *what)
{
    fprintf(stderr, "%s: %s: %s\n", prog, what, strerror(errno));
    exit(1);
}

/* tool_listen - listen on 127.0.0.1:port_text; exit 1 on any error */
static int tool_listen(const char *prog, const char *port_text, int backlog)
    __attribute__((unused));

static int tool_listen(const char *prog, const char *port_text, int backlog)
{
    struct sockaddr_in sin;
    char   *end;
    long    port;
    int     fd;
    int     on = 1;

    port = strtol(port_text, &end, 10);
    if (*port_text == 0 || *end != 0 || port < 1 || port > 65535) {
	fprintf(stderr, "%s: bad port: %s\n", prog, port_text);
	exit(1);
    }
    if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
	tool_die(prog, "socket");
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) < 0)
	tool_die(prog, "setsockopt");
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_port = htons((unsigned short) port);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *) &sin, sizeof(sin)) < 0)
	tool_die(prog, "bind");
    if (listen(fd, backlog) < 0)
	tool_die(prog, "listen");
    return (fd);
}

#endif
