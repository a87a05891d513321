/* SPDX-License-Identifier: MIT */
/*
 * cache_take - ask rrelay-cache for a connection, as rrelay would
 *
 * usage: cache_take SOCKET KEY
 *	  cache_take SOCKET KEY tls-start tcp:PORT|unix WAIT_MS
 *
 * Sends one TAKE for KEY and prints what came back: "hit RELAY use=N"
 * (the connection is then closed with QUIT), "miss", or "refused" when
 * the cache closed the connection without an answer. Exits 0 for those,
 * 1 when the socket can't be reached or the answer is malformed. The
 * integration tests use it to check who may take connections.
 *
 * With tls-start it sends a TLS_START for KEY instead, at level
 * encrypt with a handshake wait of WAIT_MS, and with it a *blocking*
 * descriptor: a TCP socket connected to 127.0.0.1:PORT, or one end of
 * a unix stream socket pair whose other end stays silent. It prints
 * the answer, "done", "fail TEXT" or "decline TEXT", and "after N ms",
 * the time the answer took; it waits at most 30 s for it. The tests
 * use it to check that the TLS end refuses such descriptors or keeps
 * its time limit with them.
 */

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "listen.h"
#include "ipc/cache_proto.h"
#include "ipc/cache_sock.h"
#include "conf/tlspolicy.h"

#define ANSWER_MS	30000		/* at most, for a TLS_START's answer */

/* now_ms - the monotonic clock in milliseconds */

static long long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (ts.tv_sec * 1000LL + ts.tv_nsec / 1000000);
}

/* blocking_fd - a blocking TCP socket to 127.0.0.1:PORT, or a silent unix stream socket */

static int blocking_fd(const char *kind, int *other)
{
    struct sockaddr_in sin;
    int     pair[2];
    int     fd;

    *other = -1;
    if (strcmp(kind, "unix") == 0) {
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, pair) < 0)
	    tool_die("cache_take", "socketpair");
	*other = pair[1];			/* kept open, and silent */
	return (pair[0]);
    }
    if (strncmp(kind, "tcp:", 4) != 0)
	tool_die("cache_take", "descriptor kind (tcp:PORT or unix)");
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_port = htons((unsigned short) atoi(kind + 4));
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0
	|| connect(fd, (struct sockaddr *) &sin, sizeof(sin)) < 0)
	tool_die("cache_take", kind);
    return (fd);
}

/* tls_start - one TLS_START with a blocking descriptor; print the answer */

static int tls_start(int sock, const char *key, const char *kind,
		             const char *wait)
{
    struct cache_msg msg;
    struct pollfd pfd;
    long long start;
    char    why[100];
    int     other;
    int     fd = blocking_fd(kind, &other);
    int     got;
    int     status;

    cache_msg_init(&msg, CACHE_TLS_START);
    if (cache_msg_text(msg.key, sizeof(msg.key), key, 0) < 0
	|| cache_msg_text(msg.relay, sizeof(msg.relay), "blocking", 0) < 0
	|| cache_msg_text(msg.addr, sizeof(msg.addr), "127.0.0.1", 0) < 0)
	tool_die("cache_take", "key");
    msg.tls.level = TLS_ENCRYPT;
    msg.tls.wait_ms = (uint32_t) atoi(wait);
    msg.tls.idle_ms = 1000;
    snprintf(msg.tls.sni, sizeof(msg.tls.sni), "localhost");
    snprintf(msg.tls.protocols, sizeof(msg.tls.protocols), ">=TLSv1.2");
    start = now_ms();
    if (cache_send(sock, &msg, fd) < 0)
	tool_die("cache_take", "send");
    pfd.fd = sock;
    pfd.events = POLLIN;
    if (poll(&pfd, 1, ANSWER_MS) != 1) {
	printf("no answer after %d ms\n", ANSWER_MS);
	return (0);
    }
    status = cache_recv(sock, &msg, &got, why, sizeof(why));
    if (status <= 0) {
	printf("refused after %lld ms\n", now_ms() - start);
	return (0);
    }
    if (got >= 0)
	(void) close(got);
    printf("%s %s\nafter %lld ms\n", msg.type == CACHE_TLS_DONE ? "done" :
	   msg.type == CACHE_TLS_FAIL ? "fail" :
	   msg.type == CACHE_TLS_DECLINE ? "decline" : "other",
	   msg.tls.text, now_ms() - start);
    (void) close(fd);
    if (other >= 0)
	(void) close(other);
    return (0);
}

/* main - one TAKE, or one TLS_START */

int     main(int argc, char **argv)
{
    struct sockaddr_un sun;
    struct cache_msg msg;
    struct pollfd pfd;
    char    why[100];
    int     sock;
    int     fd;
    int     status;

    if ((argc != 3 && !(argc == 6 && strcmp(argv[3], "tls-start") == 0))
	|| strlen(argv[1]) >= sizeof(sun.sun_path)) {
	fprintf(stderr, "usage: cache_take SOCKET KEY [tls-start "
		"tcp:PORT|unix WAIT_MS]\n");
	return (1);
    }
    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    memcpy(sun.sun_path, argv[1], strlen(argv[1]));
    if ((sock = socket(AF_UNIX, SOCK_SEQPACKET, 0)) < 0
	|| connect(sock, (struct sockaddr *) &sun, sizeof(sun)) < 0)
	tool_die("cache_take", argv[1]);
    if (argc == 6)
	return (tls_start(sock, argv[2], argv[4], argv[5]));
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
