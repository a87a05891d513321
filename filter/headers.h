/* SPDX-License-Identifier: MIT */
#ifndef RR_HEADERS_H
#define RR_HEADERS_H

/* headers.h - Received-SPF and Authentication-Results, built and parsed safely */

#include <stddef.h>

#include "spf_check.h"

#define HDR_RECEIVED_SPF	"Received-SPF"
#define HDR_AUTH_RESULTS	"Authentication-Results"
#define HDR_VALUE_MAX	256		/* client text shown in a header, at most */
#define HDR_FOLD_AT	78		/* fold lines longer than this */
#define HDR_BUF_MAX	4096		/* room for one header value */

struct hdr_info {
    enum spf_res result;
    enum spf_ident identity;
    const char *ip;			/* client address */
    const char *helo;			/* HELO name, or null */
    const char *from;			/* envelope sender; "" for <> */
    const char *receiver;		/* authserv_id, our host name */
    const char *reason;			/* problem text, or "" */
};

extern int hdr_received_spf(const struct hdr_info *info, char *out,
			            size_t outlen);
extern int hdr_auth_results(const struct hdr_info *info, char *out,
			            size_t outlen);
extern int hdr_authserv_id(const char *value, char *out, size_t outlen);
extern int hdr_ar_is_ours(const char *value, const char *authserv_id);
extern int hdr_token_ok(const char *text);

#endif
