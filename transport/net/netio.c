/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	netio 3
 * SUMMARY
 *	socket I/O with a time limit on every wait
 * SYNOPSIS
 *	#include "net/netio.h"
 *
 *	long long netio_now_ms()
 *
 *	int	netio_connect(io, sa, len, deadline, err)
 *	int	netio_write(io, buf, len, deadline)
 *	int	netio_read_line(io, line, size, len, deadline)
 *	int	netio_pending(io)
 *	int	netio_input_waiting(io)
 *	void	netio_ack_now(io)
 *	void	netio_close(io)
 * DESCRIPTION
 *	The socket is non-blocking and every wait is a poll(2) that ends
 *	at an absolute deadline on the monotonic clock (milliseconds
 *	from netio_now_ms()). The caller passes, for each protocol state,
 *	the earlier of that state's timeout and the run's overall
 *	deadline, so no wait can outlast either.
 *
 *	A caller may set a watch: io->watch_at (a time on the same clock)
 *	and io->watch(io->watch_ctx). When a wait is still going on at
 *	watch_at, watch() is called once; if it returns nonzero the wait
 *	ends at once with NETIO_GIVEUP. The watch ends when the first
 *	bytes arrive from the peer. rrelay uses it to hand a message
 *	to another host when this one is slow to greet (relay.c).
 *
 *	netio_connect() sets TCP_NODELAY: SMTP writes a command and waits
 *	for the reply, the pattern where Nagle's algorithm meets delayed
 *	ACK and stalls each round trip for tens of milliseconds.
 *
 *	netio_read_line() returns one line without its CRLF (a bare LF
 *	also ends a line), NUL-terminated in line.
 *
 *	netio_pending() is true when the server sent bytes that were not
 *	read yet; after STARTTLS or a final reply that means trouble.
 *	netio_input_waiting() looks further, without waiting: also at
 *	TLS's decrypted bytes and at the socket, where an end of file or
 *	an error counts as input too. Before a reused connection says
 *	anything, input that is waiting is a stale line (or a close) that
 *	would be read as the reply to the next command.
 *
 *	netio_ack_now() sends the ACK that TCP would delay (TCP_QUICKACK).
 *	rrelay calls it before it leaves a connection idle: a server whose
 *	last reply is not yet acknowledged holds a later small write back
 *	(Nagle's algorithm) until it is, so an unsolicited line would
 *	otherwise reach us only when the next command's segment carries the
 *	ACK, and be read as that command's reply.
 *
 *	netio_tls_start() runs the TLS handshake on the connection with
 *	the prepared SSL object, which the netio then owns; from then on
 *	reads and writes go through it. OpenSSL's WANT_READ/WANT_WRITE
 *	become polls with the same deadlines as plain I/O.
 * DIAGNOSTICS
 *	NETIO_OK, or NETIO_TIMEOUT, NETIO_EOF, NETIO_ERROR (errno set),
 *	NETIO_TOOLONG (a line longer than size - 1), NETIO_GIVEUP (the
 *	watch said to stop).
 *--*/

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>


#include "net/netio.h"
#include "net/ossl.h"

/* netio_now_ms - monotonic milliseconds */

long long netio_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ((long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/* wait_fd - poll for events until the deadline; consult the watch */

static int wait_fd(struct netio *io, int fd, short events, long long deadline)
{
    struct pollfd pfd;
    long long left;
    long long now;
    int     n;

    for (;;) {
	now = netio_now_ms();
	if (io->watch_at && now >= io->watch_at) {
	    io->watch_at = 0;
	    if (io->watch(io->watch_ctx))
		return (NETIO_GIVEUP);
	}
	left = (io->watch_at && io->watch_at < deadline ? io->watch_at :
		deadline) - now;
	if (now >= deadline)
	    return (NETIO_TIMEOUT);
	pfd.fd = fd;
	pfd.events = events;
	pfd.revents = 0;
	n = poll(&pfd, 1, left > 60000 ? 60000 : left < 0 ? 0 : (int) left);
	if (n > 0)
	    return (NETIO_OK);
	if (n < 0 && errno != EINTR)
	    return (NETIO_ERROR);
    }
}

/* netio_connect - non-blocking connect with a deadline */

int     netio_connect(struct netio *io, const struct sockaddr *sa,
		              socklen_t len, long long deadline, int *err)
{
    int     fd;
    int     one = 1;
    int     status;
    socklen_t errlen = sizeof(*err);

    io->start = io->end = 0;
    io->fd = -1;
    io->ssl = 0;
    *err = 0;
    fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
	*err = errno;
	return (NETIO_ERROR);
    }
    (void) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (connect(fd, sa, len) < 0) {
	if (errno != EINPROGRESS) {
	    *err = errno;
	    goto fail;
	}
	if ((status = wait_fd(io, fd, POLLOUT, deadline)) != NETIO_OK) {
	    *err = status == NETIO_TIMEOUT ? ETIMEDOUT :
		status == NETIO_GIVEUP ? ECANCELED : errno;
	    goto fail;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, err, &errlen) < 0)
	    *err = errno;
	if (*err != 0)
	    goto fail;
    }
    io->fd = fd;
    return (NETIO_OK);

fail:
    (void) close(fd);
    return (*err == ETIMEDOUT ? NETIO_TIMEOUT :
	    *err == ECANCELED ? NETIO_GIVEUP : NETIO_ERROR);
}

/* ssl_wait - poll for what OpenSSL asked for; NETIO_OK to retry */

static int ssl_wait(struct netio *io, int ret, long long deadline)
{
    switch (SSL_get_error(io->ssl, ret)) {
    case SSL_ERROR_WANT_READ:
	return (wait_fd(io, io->fd, POLLIN, deadline));
    case SSL_ERROR_WANT_WRITE:
	return (wait_fd(io, io->fd, POLLOUT, deadline));
    case SSL_ERROR_ZERO_RETURN:
	return (NETIO_EOF);
    case SSL_ERROR_SYSCALL:
	ERR_clear_error();
	return (NETIO_EOF);
    default:
	ERR_clear_error();
	return (NETIO_ERROR);
    }
}

/* ssl_write - write everything through TLS before the deadline */

static int ssl_write(struct netio *io, const char *buf, size_t len,
		             long long deadline)
{
    int     n;
    int     status;

    while (len > 0) {
	n = SSL_write(io->ssl, buf, len > 1 << 30 ? 1 << 30 : (int) len);
	if (n > 0) {
	    buf += n;
	    len -= (size_t) n;
	    continue;
	}
	if ((status = ssl_wait(io, n, deadline)) != NETIO_OK)
	    return (status);
    }
    return (NETIO_OK);
}

/* netio_write - write everything before the deadline */

int     netio_write(struct netio *io, const char *buf, size_t len,
		            long long deadline)
{
    ssize_t n;
    int     status;

    if (io->ssl)
	return (ssl_write(io, buf, len, deadline));
    while (len > 0) {
	n = send(io->fd, buf, len, MSG_NOSIGNAL);
	if (n > 0) {
	    buf += n;
	    len -= (size_t) n;
	    continue;
	}
	if (n < 0 && errno == EINTR)
	    continue;
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
	    if ((status = wait_fd(io, io->fd, POLLOUT, deadline)) != NETIO_OK)
		return (status);
	    continue;
	}
	return (n < 0 && errno == EPIPE ? NETIO_EOF : NETIO_ERROR);
    }
    return (NETIO_OK);
}

/* fill - read more bytes into the buffer */

static int fill(struct netio *io, long long deadline)
{
    ssize_t n;
    int     status;

    if (io->start > 0) {
	memmove(io->buf, io->buf + io->start, io->end - io->start);
	io->end -= io->start;
	io->start = 0;
    }
    while (io->ssl) {
	status = SSL_read(io->ssl, io->buf + io->end,
			  (int) (sizeof(io->buf) - io->end));
	if (status > 0) {
	    io->end += (size_t) status;
	    return (NETIO_OK);
	}
	if ((status = ssl_wait(io, status, deadline)) != NETIO_OK)
	    return (status);
    }
    for (;;) {
	n = recv(io->fd, io->buf + io->end, sizeof(io->buf) - io->end, 0);
	if (n > 0) {
	    io->watch_at = 0;			/* the peer is talking */
	    io->end += (size_t) n;
	    return (NETIO_OK);
	}
	if (n == 0)
	    return (NETIO_EOF);
	if (errno == EINTR)
	    continue;
	if (errno != EAGAIN && errno != EWOULDBLOCK)
	    return (errno == ECONNRESET ? NETIO_EOF : NETIO_ERROR);
	if ((status = wait_fd(io, io->fd, POLLIN, deadline)) != NETIO_OK)
	    return (status);
    }
}

/* netio_read_line - one line, CRLF or LF removed */

int     netio_read_line(struct netio *io, char *line, size_t size,
			        size_t *len, long long deadline)
{
    char   *base;
    char   *nl;
    size_t  avail;
    size_t  n;
    int     status;

    for (;;) {
	base = io->buf + io->start;
	avail = io->end - io->start;
	if ((nl = memchr(base, '\n', avail)) != 0) {
	    n = (size_t) (nl - base);
	    io->start += n + 1;
	    if (n > 0 && base[n - 1] == '\r')
		n--;
	    if (n >= size)
		return (NETIO_TOOLONG);
	    memcpy(line, base, n);
	    line[n] = 0;
	    *len = n;
	    return (NETIO_OK);
	}
	if (avail > size || (io->start == 0 && io->end == sizeof(io->buf)))
	    return (NETIO_TOOLONG);
	if ((status = fill(io, deadline)) != NETIO_OK)
	    return (status);
    }
}

/* netio_pending - unread bytes from the server */

int     netio_pending(const struct netio *io)
{
    return (io->end > io->start);
}

/* netio_input_waiting - bytes, EOF or an error waiting now (no wait) */

int     netio_input_waiting(const struct netio *io)
{
    struct pollfd pfd;
    int     n;

    if (netio_pending(io) || (io->ssl && SSL_pending(io->ssl) > 0))
	return (1);
    pfd.fd = io->fd;
    pfd.events = POLLIN;
    pfd.revents = 0;
    do {
	n = poll(&pfd, 1, 0);
    } while (n < 0 && errno == EINTR);
    return (n != 0);				/* an error counts as input */
}

/* netio_tls_start - TLS handshake; the netio owns ssl afterwards */

int     netio_tls_start(struct netio *io, SSL *ssl, long long deadline,
			        char *why, size_t whylen)
{
    int     ret;
    int     status;
    unsigned long err;

    if (whylen > 0)
	why[0] = 0;				/* written on every path */

    io->ssl = ssl;
    if (SSL_set_fd(ssl, io->fd) != 1) {
	snprintf(why, whylen, "SSL_set_fd failed");
	return (NETIO_ERROR);
    }
    ERR_clear_error();
    while ((ret = SSL_connect(ssl)) != 1) {
	err = ERR_peek_error();
	status = ssl_wait(io, ret, deadline);
	if (status == NETIO_OK)
	    continue;
	if (status == NETIO_TIMEOUT)
	    snprintf(why, whylen, "TLS handshake timed out");
	else if (err)
	    snprintf(why, whylen, "TLS handshake failed: %s",
		     ERR_reason_error_string(err) ?
		     ERR_reason_error_string(err) : "unknown error");
	else
	    snprintf(why, whylen, "TLS handshake failed: lost connection");
	return (status);
    }
    return (NETIO_OK);
}

/* netio_ack_now - acknowledge what was read, without TCP's delay */

void    netio_ack_now(const struct netio *io)
{
    int     one = 1;

    if (io->fd >= 0)
	(void) setsockopt(io->fd, IPPROTO_TCP, TCP_QUICKACK, &one,
			  sizeof(one));
}

/* netio_close - close the socket */

void    netio_close(struct netio *io)
{
    if (io->ssl) {
	(void) SSL_shutdown(io->ssl);
	SSL_free(io->ssl);
	io->ssl = 0;
    }
    if (io->fd >= 0)
	(void) close(io->fd);
    io->fd = -1;
    io->start = io->end = 0;
}

/* netio_strerror - words for a status */

const char *netio_strerror(int status)
{
    switch (status) {
    case NETIO_TIMEOUT:
	return ("timed out");
    case NETIO_EOF:
	return ("lost connection");
    case NETIO_TOOLONG:
	return ("line too long");
    case NETIO_OK:
	return ("ok");
    default:
	return (strerror(errno));
    }
}
