/* SPDX-License-Identifier: MIT */
#ifndef RR_CACHE_SOCK_H
#define RR_CACHE_SOCK_H

/* cache_sock.h - send and receive cache messages with a descriptor */

#include <stddef.h>

#include "ipc/cache_proto.h"

extern int cache_send(int sock, const struct cache_msg *msg, int fd);
extern int cache_recv(int sock, struct cache_msg *msg, int *fd, char *why,
		              size_t whylen);

#endif
