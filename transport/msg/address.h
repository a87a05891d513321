/* SPDX-License-Identifier: MIT */
#ifndef RR_ADDRESS_H
#define RR_ADDRESS_H

/* address.h - check envelope addresses before they go on the wire */

#include <stddef.h>
#include <sys/socket.h>

#define ADDRESS_MAX	254		/* RFC 5321 path limit less "<>" */
#define ADDRESS_LITERAL_MAX 64		/* "[IPv6:" + INET6_ADDRSTRLEN + "]" */

extern const char *address_check(const char *addr, int is_sender);
extern int address_needs_utf8(const char *addr);
extern int address_literal(const struct sockaddr *sa, char *buf,
			           size_t buflen);

#endif
