/* SPDX-License-Identifier: MIT */
#ifndef RR_HOSTLIST_H
#define RR_HOSTLIST_H

/* hostlist.h - parse a Postfix-style destination list */

#include <stddef.h>

#define HOSTLIST_MAX	32		/* destinations in one list */
#define DEST_TEXT_MAX	320		/* one destination as written */
#define DEST_HOST_MAX	254		/* a host name or address */
#define DEST_PORT_MAX	32		/* a port number or service name */

struct dest {
    char    text[DEST_TEXT_MAX];	/* normalized: "[host]:port" or "host" */
    char    host[DEST_HOST_MAX + 1];	/* host name, IPv4 or IPv6 address */
    char    port[DEST_PORT_MAX];	/* as written; "smtp" when absent */
    int     mx;				/* 1: look up MX records for host */
};

struct hostlist {
    int     count;
    struct dest dests[HOSTLIST_MAX];
};

extern int hostlist_parse(const char *text, struct hostlist *list,
			          char *err, size_t errlen);
extern unsigned long long hostlist_hash(const struct hostlist *list);

#endif
