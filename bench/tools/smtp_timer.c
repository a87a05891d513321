/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	smtp_timer - send messages one at a time and time each transaction
 * SYNOPSIS
 *	smtp_timer HOST PORT[,PORT...] COUNT HELO FROM TO BODYBYTES OUTFILE
 * DESCRIPTION
 *	For each of COUNT messages: connect to HOST:PORT (IPv4 or IPv6
 *	literal; with several ports, message i goes to the (i mod n)-th,
 *	so that the servers are sampled in the same moments), read the greeting, EHLO, MAIL FROM, RCPT TO, DATA, a
 *	body of about BODYBYTES bytes of 76-column text, the final dot,
 *	QUIT. Commands are not pipelined, as a plain client sends them.
 *
 *	OUTFILE gets one line per message: the port, a space, and the
 *	microseconds from the start of connect(2) to the reply to the
 *	final dot. bench/run compares these for an smtpd with and one
 *	without rrelay-milter to get the latency the milter adds.
 *
 *	Every reply must be 2xx (354 after DATA); anything else, a
 *	timeout (30s per reply) or a lost connection stops the program.
 * EXIT STATUS
 *	0 when every message was accepted, 1 otherwise (with a message
 *	on stderr).
 */

#define _POSIX_C_SOURCE 200809L

#define MAX_PORTS	8

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static const char *progname = "smtp_timer";

/* fail - print a message and exit 1 */

static void fail(const char *what, const char *detail)
{
    fprintf(stderr, "%s: %s%s%s\n", progname, what, detail ? ": " : "",
	    detail ? detail : "");
    exit(1);
}

/* now_us - a monotonic clock in microseconds */

static long long now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ((long long) ts.tv_sec * 1000000 + ts.tv_nsec / 1000);
}

/* write_all - write the whole buffer or fail */

static void write_all(int fd, const char *buf, size_t len)
{
    ssize_t n;

    while (len > 0) {
	n = write(fd, buf, len);
	if (n < 0 && errno == EINTR)
	    continue;
	if (n <= 0)
	    fail("write", strerror(errno));
	buf += n;
	len -= (size_t) n;
    }
}

/* reply - read one (possibly multi-line) reply; return its code */

static int reply(int fd, char *rbuf, size_t *rlen, size_t rsize)
{
    char   *eol;
    ssize_t n;
    int     code;
    size_t  used;

    for (;;) {
	while ((eol = memchr(rbuf, '\n', *rlen)) == 0) {
	    if (*rlen >= rsize - 1)
		fail("reply line too long", 0);
	    n = read(fd, rbuf + *rlen, rsize - 1 - *rlen);
	    if (n < 0 && errno == EINTR)
		continue;
	    if (n < 0)
		fail("read", strerror(errno));
	    if (n == 0)
		fail("read", "connection closed");
	    *rlen += (size_t) n;
	}
	used = (size_t) (eol - rbuf) + 1;
	if (used < 4)
	    fail("malformed reply", 0);
	code = atoi(rbuf);
	if (rbuf[3] != '-') {
	    memmove(rbuf, rbuf + used, *rlen - used);
	    *rlen -= used;
	    return (code);
	}
	memmove(rbuf, rbuf + used, *rlen - used);
	*rlen -= used;
    }
}

/* expect - send a command (if any) and check the reply class */

static void expect(int fd, const char *cmd, int want, char *rbuf,
		           size_t *rlen, size_t rsize)
{
    int     code;
    char    msg[600];

    if (cmd)
	write_all(fd, cmd, strlen(cmd));
    code = reply(fd, rbuf, rlen, rsize);
    if (code / 100 != want / 100 || (want == 354 && code != 354)) {
	snprintf(msg, sizeof(msg), "after %.100s got %d", cmd ? cmd : "connect",
		 code);
	fail("unexpected reply", msg);
    }
}

/* connect_to - a TCP connection to host:port with reply timeouts */

static int connect_to(const char *host, int port)
{
    struct sockaddr_storage ss;
    struct sockaddr_in *sin = (struct sockaddr_in *) &ss;
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *) &ss;
    struct timeval tv = {30, 0};
    socklen_t len;
    int     fd;
    int     one = 1;

    memset(&ss, 0, sizeof(ss));
    if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
	sin->sin_family = AF_INET;
	sin->sin_port = htons((unsigned short) port);
	len = sizeof(*sin);
    } else if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons((unsigned short) port);
	len = sizeof(*sin6);
    } else {
	fail("not an address literal", host);
    }
    if ((fd = socket(ss.ss_family, SOCK_STREAM, 0)) < 0)
	fail("socket", strerror(errno));
    (void) setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    (void) setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    (void) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (connect(fd, (struct sockaddr *) &ss, len) < 0)
	fail("connect", strerror(errno));
    return (fd);
}

int     main(int argc, char **argv)
{
    static char rbuf[8192];
    size_t  rlen;
    char    cmd[1100];
    char   *body;
    size_t  bodylen;
    size_t  i;
    long    count;
    long    n;
    long    bytes;
    int     ports[MAX_PORTS];
    int     nports = 0;
    char   *cp;
    char   *end;
    int     port;
    int     fd;
    long long t0;
    FILE   *out;

    if (argc != 9)
	fail("usage", "smtp_timer HOST PORT[,PORT...] COUNT HELO FROM TO BODYBYTES OUTFILE");
    for (cp = argv[2]; nports < MAX_PORTS; cp = end + 1) {
	port = (int) strtol(cp, &end, 10);
	if (end == cp || port <= 0 || port > 65535 || (*end != ',' && *end))
	    fail("bad port list", argv[2]);
	ports[nports++] = port;
	if (*end == 0)
	    break;
    }
    if (*end != 0)
	fail("too many ports", argv[2]);
    count = atol(argv[3]);
    bytes = atol(argv[7]);
    if (count <= 0 || bytes < 0
	|| strlen(argv[4]) > 255 || strlen(argv[5]) > 255 || strlen(argv[6]) > 255)
	fail("bad arguments", 0);
    if ((out = fopen(argv[8], "w")) == 0)
	fail(argv[8], strerror(errno));

    /* Header plus 76-column lines of text, CRLF, ending in CRLF. */
    bodylen = 512 + (size_t) bytes + (size_t) bytes / 76 * 2 + 80;
    if ((body = malloc(bodylen)) == 0)
	fail("malloc", strerror(errno));
    i = (size_t) snprintf(body, 512, "From: <%s>\r\nTo: <%s>\r\n"
			  "Subject: bench\r\n\r\n", argv[5], argv[6]);
    for (n = 0; n < bytes; n += 78) {
	memset(body + i, 'x', 76);
	body[i] = (char) ('a' + (n / 78) % 26);
	i += 76;
	body[i++] = '\r';
	body[i++] = '\n';
    }
    memcpy(body + i, ".\r\n", 3);
    i += 3;

    for (n = 0; n < count; n++) {
	rlen = 0;
	port = ports[n % nports];
	t0 = now_us();
	fd = connect_to(argv[1], port);
	expect(fd, 0, 220, rbuf, &rlen, sizeof(rbuf));
	snprintf(cmd, sizeof(cmd), "EHLO %s\r\n", argv[4]);
	expect(fd, cmd, 250, rbuf, &rlen, sizeof(rbuf));
	snprintf(cmd, sizeof(cmd), "MAIL FROM:<%s>\r\n", argv[5]);
	expect(fd, cmd, 250, rbuf, &rlen, sizeof(rbuf));
	snprintf(cmd, sizeof(cmd), "RCPT TO:<%s>\r\n", argv[6]);
	expect(fd, cmd, 250, rbuf, &rlen, sizeof(rbuf));
	expect(fd, "DATA\r\n", 354, rbuf, &rlen, sizeof(rbuf));
	write_all(fd, body, i);
	expect(fd, 0, 250, rbuf, &rlen, sizeof(rbuf));
	fprintf(out, "%d %lld\n", port, now_us() - t0);
	write_all(fd, "QUIT\r\n", 6);
	(void) reply(fd, rbuf, &rlen, sizeof(rbuf));
	close(fd);
    }
    if (fclose(out) != 0)
	fail(argv[8], strerror(errno));
    return (0);
}
