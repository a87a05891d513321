/* SPDX-License-Identifier: MIT */
/*
 * fake_cache - a rogue rrelay-cache: answers every TAKE with its own responder
 *
 * usage: fake_cache SOCKET RESPONDER COUNTFILE
 *
 * Listens on the unix socket SOCKET (SOCK_SEQPACKET, mode 0666) as rrelay-cache
 * does, and answers each TAKE with a "hit": a stream connection to the unix
 * socket RESPONDER (any SMTP server listening there, e.g. smtp-sink
 * unix:PATH), marked as a verified TLS connection of which the cache is the
 * TLS end, with PIPELINING offered. Every other question gets a miss or no
 * answer. Each question it receives is counted in COUNTFILE (rewritten each
 * time), so a test sees whether rrelay asked it anything. It plays the local
 * user who gets to listen at rrelay's cache_socket: rrelay must not trust it.
 * SIGTERM ends it. Exits 1 on a usage or system error.
 */

#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "listen.h"
#include "ipc/cache_proto.h"
#include "ipc/cache_sock.h"

#define PROG	"fake_cache"

static int questions;

/* unix_addr - fill sun with path; exit on a path too long */

static void unix_addr(struct sockaddr_un *sun, const char *path)
{
    memset(sun, 0, sizeof(*sun));
    sun->sun_family = AF_UNIX;
    if (strlen(path) >= sizeof(sun->sun_path)) {
	fprintf(stderr, "%s: path too long: %s\n", PROG, path);
	exit(1);
    }
    memcpy(sun->sun_path, path, strlen(path));
}

/* note - rewrite COUNTFILE with the number of questions so far */

static void note(const char *countfile)
{
    FILE   *fp;

    if ((fp = fopen(countfile, "w")) == 0)
	tool_die(PROG, countfile);
    fprintf(fp, "%d\n", questions);
    fclose(fp);
}

/* answer - a hit with a connection to the responder, for any TAKE */

static void answer(int client, const struct cache_msg *q, const char *responder)
{
    struct cache_msg msg;
    struct sockaddr_un sun;
    int     fd;

    cache_msg_init(&msg, CACHE_MISS);
    memcpy(msg.key, q->key, sizeof(msg.key));
    if (q->type != CACHE_TAKE) {
	(void) cache_send(client, &msg, -1);
	return;
    }
    unix_addr(&sun, responder);
    if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) < 0
	|| connect(fd, (struct sockaddr *) &sun, sizeof(sun)) < 0)
	tool_die(PROG, responder);
    msg.type = CACHE_HIT;
    msg.use = 1;
    (void) cache_msg_text(msg.relay, sizeof(msg.relay), "evil[127.0.0.1]:25", 0);
    (void) cache_msg_text(msg.addr, sizeof(msg.addr), "127.0.0.1:25", 0);
    (void) cache_msg_text(msg.ext, sizeof(msg.ext), "PIPELINING", 1);
    msg.tls.flags = CACHE_TLS_ACTIVE | CACHE_TLS_PEER_CERT | CACHE_TLS_VERIFIED;
    snprintf(msg.tls.version, sizeof(msg.tls.version), "TLSv1.3");
    snprintf(msg.tls.cipher, sizeof(msg.tls.cipher), "FAKE");
    (void) cache_send(client, &msg, fd);
    close(fd);
}

/* serve - one question per connection, until SIGTERM */

static void serve(int lfd, const char *responder, const char *countfile)
{
    struct cache_msg q;
    struct pollfd pfd;
    char    why[100];
    int     client;
    int     fd;

    for (;;) {
	if ((client = accept(lfd, 0, 0)) < 0)
	    tool_die(PROG, "accept");
	pfd.fd = client;
	pfd.events = POLLIN;
	if (poll(&pfd, 1, 5000) == 1
	    && cache_recv(client, &q, &fd, why, sizeof(why)) > 0) {
	    questions++;
	    note(countfile);
	    if (fd >= 0)
		close(fd);
	    answer(client, &q, responder);
	}
	close(client);
    }
}

int     main(int argc, char **argv)
{
    struct sockaddr_un sun;
    int     lfd;

    if (argc != 4) {
	fprintf(stderr, "usage: %s SOCKET RESPONDER COUNTFILE\n", PROG);
	return (1);
    }
    signal(SIGPIPE, SIG_IGN);
    unix_addr(&sun, argv[1]);
    (void) unlink(argv[1]);
    if ((lfd = socket(AF_UNIX, SOCK_SEQPACKET, 0)) < 0
	|| bind(lfd, (struct sockaddr *) &sun, sizeof(sun)) < 0
	|| chmod(argv[1], 0666) < 0 || listen(lfd, 16) < 0)
	tool_die(PROG, argv[1]);
    note(argv[3]);
    serve(lfd, argv[2], argv[3]);
    return (0);
}
