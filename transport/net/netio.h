/* SPDX-License-Identifier: MIT */
#ifndef RR_NETIO_H
#define RR_NETIO_H

/* netio.h - socket I/O with a time limit on every wait */

#include <stddef.h>
#include <sys/socket.h>

#include <openssl/ssl.h>

#define NETIO_BUF	8192

struct netio {
    int     fd;
    SSL    *ssl;			/* non-null once TLS is up */
    long long watch_at;			/* 0, or when to call watch() once */
    int     (*watch) (void *);		/* nonzero: stop waiting now */
    void   *watch_ctx;
    size_t  start;			/* unread bytes: buf[start..end) */
    size_t  end;
    char    buf[NETIO_BUF];
};

enum netio_status { NETIO_OK = 0, NETIO_TIMEOUT = -1, NETIO_EOF = -2,
NETIO_ERROR = -3, NETIO_TOOLONG = -4, NETIO_GIVEUP = -5 };

extern long long netio_now_ms(void);
extern int netio_connect(struct netio *io, const struct sockaddr *sa,
			         socklen_t len, long long deadline, int *err);
extern int netio_write(struct netio *io, const char *buf, size_t len,
		               long long deadline);
extern int netio_read_line(struct netio *io, char *line, size_t size,
			           size_t *len, long long deadline);
extern int netio_pending(const struct netio *io);
extern int netio_input_waiting(const struct netio *io);
extern int netio_tls_start(struct netio *io, SSL *ssl, long long deadline,
			           char *why, size_t whylen);
extern void netio_ack_now(const struct netio *io);
extern void netio_close(struct netio *io);
extern const char *netio_strerror(int status);

#endif
