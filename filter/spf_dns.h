/* SPDX-License-Identifier: MIT */
#ifndef RR_SPF_DNS_H
#define RR_SPF_DNS_H

/* spf_dns.h - libspf2 DNS layer on res_nquery with a deadline and size bounds */

#include "spf_lib.h"

#define SDNS_ANSWER_MAX	65536		/* largest DNS message read */

extern SPF_dns_server_t *sdns_resolv_new(void);
extern SPF_dns_rr_t *sdns_parse(SPF_dns_server_t *layer, const char *domain,
				        ns_type type, const unsigned char *msg,
				        int len);
extern SPF_dns_rr_t *sdns_error_rr(SPF_dns_server_t *layer,
				           const char *domain, ns_type type,
				           int herrno);

#endif
