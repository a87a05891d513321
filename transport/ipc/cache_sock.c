/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	cache_sock 3
 * SUMMARY
 *	send and receive cache messages with a descriptor
 * SYNOPSIS
 *	#include "ipc/cache_sock.h"
 *
 *	int	cache_send(sock, msg, fd)
 *
 *	int	cache_recv(sock, msg, fd, why, whylen)
 *
 *	int	cache_stream_socket(fd, local)
 * DESCRIPTION
 *	Both ends of the rrelay-cache socket (SOCK_SEQPACKET, AF_UNIX)
 *	use these. Neither call waits: the caller polls first.
 *
 *	cache_send() sends one message, with fd as SCM_RIGHTS when fd
 *	is not -1. The caller still owns fd and closes its copy.
 *
 *	cache_recv() reads one record. It keeps it only when exactly
 *	what cache_msg_parse() accepts arrived, with at most one
 *	descriptor; otherwise it closes every descriptor that came with
 *	it. Descriptors arrive close-on-exec.
 *
 *	cache_stream_socket() checks a descriptor that came with a
 *	record before anything waits on it: a TCP stream socket (IPv4 or
 *	IPv6), or with local a unix stream socket (the plaintext end of a
 *	TLS end). It makes the socket non-blocking, since every wait
 *	that follows is a poll with a time limit, and a blocking read or
 *	handshake would ignore it. Both ends use it: rrelay for what the
 *	cache hands over, the cache for the socket of a TLS_START.
 * DIAGNOSTICS
 *	cache_send() returns 0 or -1 (errno set). cache_recv() returns
 *	1 with the message (and *fd, or -1), 0 at end of file, or -1 with
 *	the reason in why (EAGAIN: nothing to read yet).
 *	cache_stream_socket() returns 1, or 0 when fd is not such a
 *	socket or can't be made non-blocking.
 *--*/

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ipc/cache_sock.h"

#define FDS_MAX		4		/* room to notice extra descriptors */

/* cache_send - one message, maybe with a descriptor */

int     cache_send(int sock, const struct cache_msg *msg, int fd)
{
    struct msghdr mh;
    struct iovec iov;
    union {
	struct cmsghdr align;
	char    buf[CMSG_SPACE(sizeof(int))];
    }       control;
    struct cmsghdr *cm;
    ssize_t n;

    memset(&mh, 0, sizeof(mh));
    iov.iov_base = (void *) msg;
    iov.iov_len = sizeof(*msg);
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    if (fd >= 0) {
	memset(&control, 0, sizeof(control));
	mh.msg_control = control.buf;
	mh.msg_controllen = sizeof(control.buf);
	cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
    }
    do {
	n = sendmsg(sock, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
    } while (n < 0 && errno == EINTR);
    if (n == (ssize_t) sizeof(*msg))
	return (0);
    if (n >= 0)
	errno = EMSGSIZE;
    return (-1);
}

/* take_fds - the descriptors of a received record; how many */

static int take_fds(struct msghdr *mh, int *fds)
{
    struct cmsghdr *cm;
    size_t  n;
    int     count = 0;

    for (cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm)) {
	if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
	    continue;
	for (n = 0; CMSG_LEN((n + 1) * sizeof(int)) <= cm->cmsg_len
	     && count < FDS_MAX; n++)
	    memcpy(&fds[count++], CMSG_DATA(cm) + n * sizeof(int),
		   sizeof(int));
    }
    return (count);
}

/* cache_recv - one record, checked; its descriptor in *fd */

int     cache_recv(int sock, struct cache_msg *msg, int *fd, char *why,
		           size_t whylen)
{
    char    buf[sizeof(*msg) + 1];
    struct msghdr mh;
    struct iovec iov;
    union {
	struct cmsghdr align;
	char    buf[CMSG_SPACE(FDS_MAX * sizeof(int))];
    }       control;
    int     fds[FDS_MAX];
    int     nfd;
    ssize_t n;
    int     i;
    int     status = -1;

    if (whylen > 0)
	why[0] = 0;				/* written on every path */

    *fd = -1;
    memset(&mh, 0, sizeof(mh));
    iov.iov_base = buf;
    iov.iov_len = sizeof(buf);
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    mh.msg_control = control.buf;
    mh.msg_controllen = sizeof(control.buf);
    do {
	n = recvmsg(sock, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
	snprintf(why, whylen, "%s", strerror(errno));
	return (-1);
    }
    nfd = take_fds(&mh, fds);
    if (n == 0 && nfd == 0)
	return (0);
    if (mh.msg_flags & (MSG_CTRUNC | MSG_TRUNC))
	snprintf(why, whylen, "message or descriptors cut short");
    else if (cache_msg_parse(buf, (size_t) n, nfd, msg, why, whylen) == 0)
	status = 1;
    if (status == 1 && nfd == 1)
	*fd = fds[0];
    else
	for (i = 0; i < nfd; i++)
	    (void) close(fds[i]);
    errno = 0;
    return (status);
}

/* cache_stream_socket - a TCP socket, or (local) a unix stream socket; made non-blocking */

int     cache_stream_socket(int fd, int local)
{
    int     type = 0;
    int     domain = 0;
    socklen_t len = sizeof(type);
    int     flags;

    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0
	|| type != SOCK_STREAM
	|| (len = sizeof(domain),
	    getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len)) < 0
	|| (local ? domain != AF_UNIX :
	    domain != AF_INET && domain != AF_INET6)
	|| (flags = fcntl(fd, F_GETFL)) < 0
	|| fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
	return (0);
    return (1);
}
