/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	cache_sock 3
 * SUMMARY
 *	send and receive cache messages with a descriptor
 * SYNOPSIS
 *	#include "ipc/cache_sock.h"
#include "net/netio.h"
 *
 *	int	cache_send(sock, msg, fd)
 *
 *	int	cache_recv(sock, msg, fd, why, whylen)
 *
 *	int	cache_stream_socket(fd, local)
 *
 *	int	ipc_send(sock, buf, len, fd)
 *
 *	ssize_t	ipc_recv(sock, buf, size, fd, why, whylen)
 *
 *	ssize_t	ipc_await(sock, wait_ms, buf, size, fd, why, whylen)
 *
 *	int	ipc_trusted(sock, path, why, whylen)
 *
 *	int	ipc_peer_is(sock, uid, who, wholen)
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
 *
 *	ipc_send() and ipc_recv() are the same for any record: the
 *	hand-over of a whole delivery (handoff_client.c) uses them too.
 *	ipc_recv() returns the record's length with at most one
 *	descriptor, and refuses a record that was cut short or came with
 *	more than one (closing them all).
 *
 *	ipc_await() is ipc_recv() after a wait of at most wait_ms
 *	(-1: no limit) for the record. When none came in time it returns
 *	-1 with "no answer within Nms" in why and errno ETIMEDOUT.
 *
 *	ipc_trusted() tells whether the daemon at the other end of sock
 *	(at path) may be trusted: it runs as our effective uid or as root
 *	(SO_PEERCRED), and path's directory is owned by that uid and may
 *	not be written to by others (then anyone could have put a socket
 *	there). Otherwise it says why.
 *
 *	ipc_peer_is() is the other side of that check, for the daemon:
 *	whether the process at the other end of sock runs as uid. It
 *	writes "uid U, pid P" (or "uid -1, pid -1" when unknown) into who
 *	for the caller's log line.
 * DIAGNOSTICS
 *	cache_send() returns 0 or -1 (errno set). cache_recv() returns
 *	1 with the message (and *fd, or -1), 0 at end of file, or -1 with
 *	the reason in why (EAGAIN: nothing to read yet).
 *	cache_stream_socket() returns 1, or 0 when fd is not such a
 *	socket or can't be made non-blocking.
 *--*/

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "ipc/cache_sock.h"
#include "net/netio.h"

#define FDS_MAX		4		/* room to notice extra descriptors */

/* ipc_send - one record, maybe with a descriptor */

int     ipc_send(int sock, const void *buf, size_t len, int fd)
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
    iov.iov_base = (void *) buf;
    iov.iov_len = len;
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
    if (n == (ssize_t) len)
	return (0);
    if (n >= 0)
	errno = EMSGSIZE;
    return (-1);
}

/* cache_send - one message, maybe with a descriptor */

int     cache_send(int sock, const struct cache_msg *msg, int fd)
{
    return (ipc_send(sock, msg, sizeof(*msg), fd));
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

/* ipc_recv - one whole record and at most one descriptor; its length */

ssize_t ipc_recv(int sock, void *buf, size_t size, int *fd, char *why,
		         size_t whylen)
{
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

    if (whylen > 0)
	why[0] = 0;				/* written on every path */

    *fd = -1;
    memset(&mh, 0, sizeof(mh));
    iov.iov_base = buf;
    iov.iov_len = size;
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
    if ((mh.msg_flags & (MSG_CTRUNC | MSG_TRUNC)) || nfd > 1 || n == 0) {
	snprintf(why, whylen, "%s", n == 0 ? "an empty record" : nfd > 1 ?
		 "more than one descriptor" : "record or descriptors cut short");
	for (i = 0; i < nfd; i++)
	    (void) close(fds[i]);
	errno = 0;
	return (-1);
    }
    if (nfd == 1)
	*fd = fds[0];
    return (n);
}

/* cache_recv - one record, checked; its descriptor in *fd */

int     cache_recv(int sock, struct cache_msg *msg, int *fd, char *why,
		           size_t whylen)
{
    char    buf[sizeof(*msg) + 1];
    ssize_t n = ipc_recv(sock, buf, sizeof(buf), fd, why, whylen);

    if (n <= 0)
	return ((int) n);
    if (cache_msg_parse(buf, (size_t) n, *fd >= 0, msg, why, whylen) == 0)
	return (1);
    if (*fd >= 0)
	(void) close(*fd);
    *fd = -1;
    errno = 0;
    return (-1);
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

/* peer_uid - the uid of the process at the other end of sock, or -1 */

static long peer_uid(int sock)
{
    struct ucred cred;
    socklen_t len = sizeof(cred);

    if (getsockopt(sock, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0
	|| len != sizeof(cred))
	return (-1);
    return ((long) cred.uid);
}

/* dir_owned - path's directory is owned by uid, and nobody else may write to it */

static int dir_owned(const char *path, uid_t uid, char *why, size_t whylen)
{
    char    dir[sizeof(((struct sockaddr_un *) 0)->sun_path)];
    char   *slash;
    struct stat st;

    if (whylen > 0)
	why[0] = 0;				/* written on every path */

    snprintf(dir, sizeof(dir), "%s", path);
    if ((slash = strrchr(dir, '/')) == 0)
	snprintf(dir, sizeof(dir), ".");
    else
	slash[slash == dir] = 0;		/* "/x" keeps "/" */
    if (lstat(dir, &st) < 0) {
	snprintf(why, whylen, "%s: %s", dir, strerror(errno));
	return (0);
    }
    if (!S_ISDIR(st.st_mode) || st.st_uid != uid
	|| (st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
	snprintf(why, whylen, "its directory %s is owned by uid %ld, mode "
		 "%04o; it must be a directory of uid %ld that no one else "
		 "may write to", dir, (long) st.st_uid,
		 (unsigned) (st.st_mode & 07777), (long) uid);
	return (0);
    }
    return (1);
}

/* ipc_trusted - the daemon at sock runs as us (or root), in a directory no one else may write to */

int     ipc_trusted(int sock, const char *path, char *why, size_t whylen)
{
    long    uid = peer_uid(sock);

    if (whylen > 0)
	why[0] = 0;				/* written on every path */

    if (uid < 0) {
	snprintf(why, whylen, "its uid is unknown: %s", strerror(errno));
	return (0);
    }
    if (uid != (long) geteuid() && uid != 0) {
	snprintf(why, whylen, "it runs as uid %ld, not as uid %ld or root",
		 uid, (long) geteuid());
	return (0);
    }
    return (dir_owned(path, (uid_t) uid, why, whylen));
}

/* ipc_await - one record within wait_ms (-1: no limit); as ipc_recv() */

ssize_t ipc_await(int sock, int wait_ms, void *buf, size_t size, int *fd,
		          char *why, size_t whylen)
{
    long long until = netio_now_ms() + wait_ms;
    struct pollfd pfd;
    long long left = wait_ms;
    ssize_t n;

    pfd.fd = sock;
    pfd.events = POLLIN;
    *fd = -1;
    for (;;) {
	if (wait_ms >= 0 && (left = until - netio_now_ms()) <= 0) {
	    snprintf(why, whylen, "no answer within %dms", wait_ms);
	    errno = ETIMEDOUT;
	    return (-1);
	}
	if (poll(&pfd, 1, (int) left) < 0 && errno != EINTR) {
	    snprintf(why, whylen, "poll: %s", strerror(errno));
	    return (-1);
	}
	if ((n = ipc_recv(sock, buf, size, fd, why, whylen)) >= 0
	    || errno != EAGAIN)
	    return (n);
    }
}

/* ipc_peer_is - the process at the other end of sock runs as uid */

int     ipc_peer_is(int sock, uid_t uid, char *who, size_t wholen)
{
    struct ucred cred;
    socklen_t len = sizeof(cred);
    int     known;

    known = getsockopt(sock, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0
	&& len == sizeof(cred);
    snprintf(who, wholen, "uid %ld, pid %ld", known ? (long) cred.uid : -1L,
	     known ? (long) cred.pid : -1L);
    return (known && cred.uid == uid);
}
