/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	starttls_inject - SMTP server that injects a reply after STARTTLS
 * SYNOPSIS
 *	starttls_inject PORT LOGFILE [silent]
 * DESCRIPTION
 *	starttls_inject listens on 127.0.0.1:PORT and plays a server in
 *	the STARTTLS command-injection family (CVE-2011-0411 style, seen
 *	from the client's side): it greets, offers STARTTLS in its EHLO
 *	reply, and answers STARTTLS with
 *
 *	    "220 2.0.0 Ready to start TLS\r\n250 2.0.0 injected\r\n"
 *
 *	in one write(2), so the client has the extra reply in its buffer
 *	before any TLS handshake. A client that then starts the handshake
 *	anyway would take "250 injected" as a TLS-protected reply.
 *
 *	With "silent" it answers STARTTLS with the 220 alone and then plays
 *	a server whose TLS handshake never comes: it reads, and says nothing
 *	("S: ready" in the log). A client's handshake then runs into its
 *	time limit.
 *
 *	The server does no TLS itself. After its STARTTLS reply it only
 *	reads what the client sends until the client closes (or 10s pass),
 *	and logs how many bytes came and what the first one was: 0x16 is a
 *	TLS handshake record, i.e. the client went on with the handshake.
 *	Other commands get plausible replies (MAIL, RCPT, DATA and the
 *	message are accepted), so a client that falls back to plaintext
 *	shows in the log too.
 *
 *	Connections are served one at a time. Every event is appended to
 *	LOGFILE, one line each:
 *
 *	    listening PORT
 *	    connect
 *	    C: <command line as received, control characters as '?'>
 *	    S: injected         (the 220 and the 250 were sent in one write)
 *	    after-starttls bytes=N first=0xHH   (or: bytes=0)
 *	    message             (a message was received after DATA)
 *	    close
 *
 *	SIGTERM or SIGINT ends the program with status 0.
 * EXIT STATUS
 *	0 after SIGTERM or SIGINT, 1 on a usage or system error.
 * SEE ALSO
 *	tests/integration/transport_tls.bats, tests/integration/tls_lib.bash
 */

#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "listen.h"

#define IDLE_MS		10000		/* a silent client is dropped */
#define LINE_MAX_LEN	1000

static int silent;			/* no injection; no handshake either */
static volatile sig_atomic_t stop;
static int log_fd = -1;

/* on_signal - note that the program should end */
static void on_signal(int sig)
{
    (void) sig;
    stop = 1;
}

/* log_line - append one line to LOGFILE with one write(2) */
static void log_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void log_line(const char *fmt, ...)
{
    char    buf[LINE_MAX_LEN + 64];
    va_list ap;
    int     len;

    va_start(ap, fmt);
    len = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
    va_end(ap);
    if (len < 0)
	return;
    if ((size_t) len > sizeof(buf) - 2)
	len = (int) sizeof(buf) - 2;
    buf[len++] = '\n';
    if (write(log_fd, buf, (size_t) len) != len)
	tool_die("starttls_inject", "write log");
}

/* wait_in - wait until fd is readable; 0 on timeout or stop */
static int wait_in(int fd, int ms)
{
    struct pollfd pfd;
    int     n;

    pfd.fd = fd;
    pfd.events = POLLIN;
    for (;;) {
	pfd.revents = 0;
	n = poll(&pfd, 1, ms);
	if (n > 0)
	    return (1);
	if (n == 0 || stop)
	    return (0);
	if (errno != EINTR)
	    tool_die("starttls_inject", "poll");
    }
}

/* send_all - write the whole text in one write(2) when the socket allows */
static int send_all(int fd, const char *text)
{
    size_t  len = strlen(text);
    ssize_t n;

    while (len > 0) {
	n = send(fd, text, len, MSG_NOSIGNAL);
	if (n < 0 && errno == EINTR)
	    continue;
	if (n <= 0)
	    return (-1);
	text += n;
	len -= (size_t) n;
    }
    return (0);
}

struct conn {
    int     fd;
    char    buf[8192];
    size_t  len;
};

/* read_line - one line without CRLF; -1 on EOF, error or timeout */
static int read_line(struct conn *c, char *line, size_t size)
{
    char   *nl;
    size_t  n;
    ssize_t got;

    for (;;) {
	if ((nl = memchr(c->buf, '\n', c->len)) != 0) {
	    n = (size_t) (nl - c->buf);
	    if (n > 0 && c->buf[n - 1] == '\r')
		n--;
	    if (n >= size)
		n = size - 1;
	    memcpy(line, c->buf, n);
	    line[n] = 0;
	    n = (size_t) (nl - c->buf) + 1;
	    memmove(c->buf, c->buf + n, c->len - n);
	    c->len -= n;
	    return (0);
	}
	if (c->len == sizeof(c->buf))
	    c->len = 0;				/* an over-long line: drop it */
	if (!wait_in(c->fd, IDLE_MS))
	    return (-1);
	got = read(c->fd, c->buf + c->len, sizeof(c->buf) - c->len);
	if (got < 0 && errno == EINTR)
	    continue;
	if (got <= 0)
	    return (-1);
	c->len += (size_t) got;
    }
}

/* printable - control characters and 8-bit bytes become '?' */
static void printable(char *text)
{
    for (; *text; text++)
	if ((unsigned char) *text < 0x20 || (unsigned char) *text > 0x7e)
	    *text = '?';
}

/* after_starttls - log what the client sends once it has the injection */
static void after_starttls(struct conn *c)
{
    unsigned long total = c->len;
    int     first = c->len > 0 ? (unsigned char) c->buf[0] : -1;
    char    junk[4096];
    ssize_t got;

    while (wait_in(c->fd, IDLE_MS)) {
	got = read(c->fd, junk, sizeof(junk));
	if (got < 0 && errno == EINTR)
	    continue;
	if (got <= 0)
	    break;
	if (first < 0)
	    first = (unsigned char) junk[0];
	total += (unsigned long) got;
    }
    if (first < 0)
	log_line("after-starttls bytes=0");
    else
	log_line("after-starttls bytes=%lu first=0x%02x", total, first);
}

/* take_message - read the message after DATA, up to the lone dot */
static int take_message(struct conn *c)
{
    char    line[LINE_MAX_LEN + 1];

    while (read_line(c, line, sizeof(line)) == 0)
	if (strcmp(line, ".") == 0)
	    return (0);
    return (-1);
}

/* session - one SMTP conversation */
static void session(int fd)
{
    static struct conn c;
    char    line[LINE_MAX_LEN + 1];
    const char *reply;

    c.fd = fd;
    c.len = 0;
    log_line("connect");
    if (send_all(fd, "220 inject.rrelay.test ESMTP starttls_inject\r\n") < 0)
	return;
    while (!stop && read_line(&c, line, sizeof(line)) == 0) {
	printable(line);
	log_line("C: %s", line);
	if (strncasecmp(line, "EHLO", 4) == 0) {
	    reply = "250-inject.rrelay.test\r\n250-PIPELINING\r\n"
		"250-8BITMIME\r\n250 STARTTLS\r\n";
	} else if (strncasecmp(line, "HELO", 4) == 0) {
	    reply = "250 inject.rrelay.test\r\n";
	} else if (strcasecmp(line, "STARTTLS") == 0) {
	    if (send_all(fd, silent ? "220 2.0.0 Ready to start TLS\r\n" :
			 "220 2.0.0 Ready to start TLS\r\n"
			 "250 2.0.0 injected\r\n") < 0)
		return;
	    log_line(silent ? "S: ready" : "S: injected");
	    after_starttls(&c);
	    return;
	} else if (strncasecmp(line, "MAIL", 4) == 0
		   || strncasecmp(line, "RCPT", 4) == 0
		   || strncasecmp(line, "RSET", 4) == 0
		   || strncasecmp(line, "NOOP", 4) == 0) {
	    reply = "250 2.0.0 Ok\r\n";
	} else if (strcasecmp(line, "DATA") == 0) {
	    if (send_all(fd, "354 End data with <CR><LF>.<CR><LF>\r\n") < 0
		|| take_message(&c) < 0)
		return;
	    log_line("message");
	    reply = "250 2.0.0 Ok: queued\r\n";
	} else if (strcasecmp(line, "QUIT") == 0) {
	    (void) send_all(fd, "221 2.0.0 Bye\r\n");
	    return;
	} else {
	    reply = "502 5.5.2 Error: command not recognized\r\n";
	}
	if (send_all(fd, reply) < 0)
	    return;
    }
}

int     main(int argc, char **argv)
{
    struct sigaction sa;
    int     lfd;
    int     cfd;

    if (argc == 4 && strcmp(argv[3], "silent") == 0)
	silent = 1;
    else if (argc != 3) {
	fprintf(stderr, "usage: starttls_inject PORT LOGFILE [silent]\n");
	return (1);
    }
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGTERM, &sa, NULL) < 0 || sigaction(SIGINT, &sa, NULL) < 0)
	tool_die("starttls_inject", "sigaction");
    signal(SIGPIPE, SIG_IGN);
    if ((log_fd = open(argv[2], O_WRONLY | O_CREAT | O_APPEND, 0644)) < 0)
	tool_die("starttls_inject", argv[2]);
    lfd = tool_listen("starttls_inject", argv[1], 16);
    log_line("listening %s", argv[1]);
    while (!stop) {
	if (!wait_in(lfd, 1000))
	    continue;
	if ((cfd = accept(lfd, NULL, NULL)) < 0) {
	    if (errno != EINTR && errno != ECONNABORTED)
		tool_die("starttls_inject", "accept");
	    continue;
	}
	session(cfd);
	(void) close(cfd);
	log_line("close");
    }
    return (0);
}
