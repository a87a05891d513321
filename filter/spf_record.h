/* SPDX-License-Identifier: MIT */
#ifndef RR_SPF_RECORD_H
#define RR_SPF_RECORD_H

/* spf_record.h - an SPF record parsed strictly against RFC 7208 section 12 */

#include <stddef.h>

#define SPFREC_TEXT_MAX	4096		/* longest record parsed */
#define SPFREC_ERR_MAX	128		/* room for a syntax error text */

enum spf_mech {
    SPFM_ALL,
    SPFM_INCLUDE,
    SPFM_A,
    SPFM_MX,
    SPFM_PTR,
    SPFM_IP4,
    SPFM_IP6,
    SPFM_EXISTS,
};

/* One directive: a qualifier and a mechanism with its arguments. */

struct spf_term {
    enum spf_mech mech;
    char    qualifier;			/* '+', '-', '~' or '?' */
    const char *domain;			/* domain-spec, unexpanded, or null */
    int     cidr4;			/* prefix length, or -1 when absent */
    int     cidr6;			/* prefix length, or -1 when absent */
    unsigned char addr[16];		/* ip4 (first 4 bytes) or ip6 network */
};

struct spf_record {
    struct spf_term *terms;		/* the directives, in order */
    int     nterms;
    const char *redirect;		/* redirect= domain-spec, or null */
    const char *exp;			/* exp= domain-spec, or null */
    int     nunknown;			/* unknown modifiers (ignored) */
    char   *store;			/* the strings point in here */
};

extern int spf_record_is_spf(const char *text);
extern int spf_record_parse(const char *text, struct spf_record *rec,
			            char *err, size_t errlen);
extern void spf_record_free(struct spf_record *rec);
extern int spf_record_print(const struct spf_record *rec, char *out,
			            size_t outlen);
extern int spf_macro_string_ok(const char *text, size_t len, int explain);
extern int spf_domain_spec_ok(const char *text, size_t len);
extern const char *spf_mech_name(enum spf_mech mech);

#endif
