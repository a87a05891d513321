/* SPDX-License-Identifier: MIT */
#ifndef RR_RESOLVE_H
#define RR_RESOLVE_H

/* resolve.h - turn one destination into addresses to connect to */

#include <netinet/in.h>
#include <sys/socket.h>

#include "conf/hostlist.h"

#define RESOLVE_MAX	16		/* addresses tried per destination */
#define RESOLVE_MX_MAX	8		/* MX hosts looked at */

struct target {
    struct sockaddr_storage sa;
    socklen_t len;
    char    name[DEST_HOST_MAX + 1];	/* host name, for the log */
    char    addr[INET6_ADDRSTRLEN];	/* printable address */
    int     port;
};

extern int resolve_dest(const struct dest *dest, struct target *targets,
			        int max, char *why, size_t whylen);
extern int resolve_port(const char *port);
extern void resolve_set_random(unsigned (*source) (void));

#endif
