/* SPDX-License-Identifier: MIT */
#ifndef RR_SPF_LIB_H
#define RR_SPF_LIB_H

/* spf_lib.h - include libspf2 with the system headers it needs first */

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <spf2/spf.h>
#include <spf2/spf_dns.h>
#include <spf2/spf_dns_zone.h>

#endif
