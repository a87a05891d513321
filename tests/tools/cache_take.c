/* SPDX-License-Identifier: MIT */
/*
 * cache_take - ask rrelay-cache for a connection, as rrelay would
 *
 * usage: cache_take SOCKET KEY
 *
 * Sends one TAKE for KEY and prints what came back: "hit RELAY use=N"
 * (the connection is then closed with QUIT), "miss", or "refused" when
 * the cache closed the connection without an answer. Exits 0 for those,
 * 1 when the socket can't be reached or the answer is malformed. The
 * integration tests use it to check who may take connections.
 */

#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "listen.h"
#include "ipc/cache_proto.h"
#include "ipc/cache_sock.h"

int     main(int argc, char **argv)
{
    struct sockaddr_un sun;
    struct cache_msg msg;
    struct pollfd pfd;
    char    why[100];
    int     sock;
    int     fd;
    int     status;

    if (argc != 3 || strlen(argv[1]) >= sizeof(sun.sun_path)) {
	fprintf(stderr, "usage: cache_take SOCKET KEY\n");
	return (1);
    }
    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    memcpy(sun.sun_path, argv[1], strlen(argv[1]));
    if ((sock = socket(AF_UNIX, SOCK_SEQPACKET, 0)) < 0
	|| connect(sock, (struct sockaddr *) &sun, sizeof(sun)) < 0)
	tool_die("cache_take", argv[1]);
    cache_msg_init(&msg, CACHE_TAKE);
    if (cache_msg_text(msg.key, sizeof(msg.key), argv[2], 0) < 0)
	tool_die("cache_take", "key");
    if (cache_send(sock, &msg, -1) < 0) {
	if (errno != EPIPE && errno != ECONNRESET)
	    tool_die("cache_take", "send");
	printf("refused\n");			/* closed before we asked */
	return (0);
    }
    pfd.fd = sock;
    pfd.events = POLLIN;
    if (poll(&pfd, 1, 10000) != 1)
	tool_die("cache_take", "no answer");
    status = cache_recv(sock, &msg, &fd, why, sizeof(why));
    if (status == 0 || (status < 0 && errno == ECONNRESET)) {
	printf("refused\n");
	return (0);
    }
    if (status < 0) {
	fprintf(stderr, "cache_take: %s\n", why);
	return (1);
    }
    if (msg.type == CACHE_MISS) {
	printf("miss\n");
	return (0);
    }
    printf("hit %s use=%u\n", msg.relay, msg.use);
    (void) write(fd, "QUIT\r\n", 6);
    (void) close(fd);
    return (0);
}
