/* SPDX-License-Identifier: MIT */
/*
 * fuzz_filter_record - fuzz harness for filter/spf_record.c and filter/spf_macro.c
 *
 * Input: an SPF record, then a macro-string, each ending with a NUL.
 *
 * Properties: spf_record_parse() never crashes and either refuses the
 * record with a reason or accepts it. An accepted record holds only
 * printable ASCII and spaces; its terms have prefix lengths in range
 * and well-formed domain-specs where the mechanism needs one; it
 * prints, and the printed form parses again and prints the same
 * (round trip). A macro-string that spf_macro_string_ok() accepts
 * expands without error into a bounded buffer, and a domain-spec
 * expands to at most 253 bytes with no trailing dot.
 */

#include <sys/socket.h>
#include <arpa/inet.h>

#include "fuzz.h"
#include "spf_macro.h"
#include "spf_record.h"

/* check_terms - the parsed fields are in range */

static void check_terms(const struct spf_record *rec)
{
    const struct spf_term *t;
    int     i;

    for (i = 0; i < rec->nterms; i++) {
	t = rec->terms + i;
	FUZZ_ASSERT(t->cidr4 >= -1 && t->cidr4 <= 32, "cidr4 %d", t->cidr4);
	FUZZ_ASSERT(t->cidr6 >= -1 && t->cidr6 <= 128, "cidr6 %d", t->cidr6);
	FUZZ_ASSERT(strchr("+-~?", t->qualifier) != 0, "qualifier");
	if (t->mech == SPFM_INCLUDE || t->mech == SPFM_EXISTS)
	    FUZZ_ASSERT(t->domain != 0, "%s without a domain",
			spf_mech_name(t->mech));
	if (t->domain)
	    FUZZ_ASSERT(spf_domain_spec_ok(t->domain, strlen(t->domain)),
			"bad domain-spec kept: %s", t->domain);
    }
}

/* check_record - the parse and round-trip properties */

static void check_record(const char *text)
{
    static char out[2 * SPFREC_TEXT_MAX + 64];
    static char out2[2 * SPFREC_TEXT_MAX + 64];
    struct spf_record rec;
    struct spf_record again;
    char    err[SPFREC_ERR_MAX];
    const unsigned char *cp;

    err[0] = 0;
    if (spf_record_parse(text, &rec, err, sizeof(err)) != 0) {
	FUZZ_ASSERT(err[0] != 0, "refused without a reason");
	return;
    }
    for (cp = (const unsigned char *) text; *cp; cp++)
	FUZZ_ASSERT(*cp >= 0x20 && *cp <= 0x7e, "accepted byte 0x%02x", *cp);
    check_terms(&rec);
    FUZZ_ASSERT(spf_record_print(&rec, out, sizeof(out)) > 0, "no print");
    FUZZ_ASSERT(spf_record_parse(out, &again, err, sizeof(err)) == 0,
		"printed form refused: %s (%s)", out, err);
    FUZZ_ASSERT(spf_record_print(&again, out2, sizeof(out2)) > 0, "no print");
    FUZZ_ASSERT(strcmp(out, out2) == 0, "round trip: %s != %s", out, out2);
    spf_record_free(&again);
    spf_record_free(&rec);
}

/* check_macro - expansion of an accepted macro-string */

static void check_macro(const char *text)
{
    static char out[SPF_MACRO_OUT_MAX];
    struct spf_macro_env env;
    size_t  len = strlen(text);
    int     n;

    memset(&env, 0, sizeof(env));
    env.sender = env.domain = env.sender_domain = "a-b.c+d.example";
    env.local = "l-o+c=a_l";
    env.helo = "[192.0.2.1] odd";
    env.receiver = "r.example";
    env.family = (len & 1) ? AF_INET6 : AF_INET;
    inet_pton(env.family, (len & 1) ? "2001:db8::1" : "192.0.2.1", env.addr);
    if (spf_macro_string_ok(text, len, 1)) {
	n = spf_macro_expand(text, len, &env, out, sizeof(out));
	FUZZ_ASSERT(n < (int) sizeof(out), "expansion overran");
	FUZZ_ASSERT(n < 0 || strlen(out) == (size_t) n, "length %d", n);
    }
    if (spf_domain_spec_ok(text, len)) {
	n = spf_macro_domain(text, &env, out, sizeof(out));
	FUZZ_ASSERT(n <= SPF_NAME_MAX, "name of %d bytes", n);
	FUZZ_ASSERT(n <= 0 || out[n - 1] != '.', "trailing dot kept");
    }
}

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_in in = {data, size};
    char   *record = fuzz_take_str(&in);
    char   *macro = fuzz_take_str(&in);

    check_record(record);
    check_macro(macro);
    free(record);
    free(macro);
    return (0);
}
