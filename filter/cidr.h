/* SPDX-License-Identifier: MIT */
#ifndef RR_CIDR_H
#define RR_CIDR_H

/* cidr.h - match client addresses against an IPv4/IPv6 network list */

#include <stddef.h>

struct cidr_net {
    int     family;			/* AF_INET or AF_INET6 */
    unsigned char addr[16];		/* network, host bits zero */
    int     bits;			/* prefix length */
};

struct cidr_list {
    struct cidr_net *nets;
    size_t  count;
};

extern int cidr_parse_addr(const char *text, int *family,
			           unsigned char addr[16]);
extern int cidr_list_parse(const char *text, struct cidr_list *list,
			           char *err, size_t errlen);
extern int cidr_list_match(const struct cidr_list *list, const char *ip);
extern void cidr_list_free(struct cidr_list *list);

#endif
