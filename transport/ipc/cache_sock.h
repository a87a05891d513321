/* SPDX-License-Identifier: MIT */
#ifndef RR_CACHE_SOCK_H
#define RR_CACHE_SOCK_H

/* cache_sock.h - send and receive cache messages with a descriptor */

#include <stddef.h>
#include <sys/types.h>

#include "ipc/cache_proto.h"

extern int cache_send(int sock, const struct cache_msg *msg, int fd);
extern int cache_recv(int sock, struct cache_msg *msg, int *fd, char *why,
		              size_t whylen);
extern int cache_stream_socket(int fd, int local);
extern int ipc_send(int sock, const void *buf, size_t len, int fd);
extern ssize_t ipc_recv(int sock, void *buf, size_t size, int *fd,
			        char *why, size_t whylen);
extern ssize_t ipc_await(int sock, int wait_ms, void *buf, size_t size,
			         int *fd, char *why, size_t whylen);
extern int ipc_trusted(int sock, const char *path, char *why,
		               size_t whylen);
extern int ipc_peer_is(int sock, uid_t uid, char *who, size_t wholen);

#endif
