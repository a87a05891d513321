/* SPDX-License-Identifier: MIT */
/*
 * fuzz_filter_headers - fuzz harness for filter/headers.c (with the
 * client text kept as filter/context.c keeps it)
 *
 * Input: a result byte, an identity byte, an address-family byte and
 * 16 address bytes, then, each ending with a NUL: the HELO name, the
 * MAIL FROM argument, the authserv-id, the reason text and an
 * Authentication-Results value seen in a message.
 *
 * The client's text goes through cc_set_helo() and mc_set_from() as in
 * the milter; the authserv-id is used only when the configuration
 * would accept it (a token of at most 255 bytes), the reason is cut as
 * spf_check.c cuts it, and the client address is what inet_ntop() makes.
 *
 * Properties: with the milter's buffer (HDR_BUF_MAX) both builders
 * succeed, whatever the client sent, since a failure defers the mail.
 * Each value is one header field: printable ASCII, every LF followed
 * by a TAB, no line of 998 bytes or more with the field name. The
 * Received-SPF value reads as the result keyword, one comment with
 * balanced parentheses, then key=value; pairs (client-ip,
 * envelope-from, helo when known, receiver, identity) whose values are
 * dot-atoms or quoted-strings, and nothing more; the
 * Authentication-Results value reads as the authserv-id, ';', spf=RESULT
 * and one smtp.mailfrom= or smtp.helo= property, and hdr_ar_is_ours()
 * knows it as ours. hdr_authserv_id() of any value gives a token or
 * the inside of a quoted-string.
 */

#include <sys/socket.h>
#include <arpa/inet.h>
#include <ctype.h>
#include <strings.h>

#include "fuzz.h"
#include "context.h"
#include "headers.h"

#define DEFAULT_ID	"mx.receiver.example"

/* unfold - the value with each "\n\t" made one space */

static void unfold(const char *value, char *out)
{
    for (; *value; value++) {
	if (value[0] == '\n' && value[1] == '\t')
	    value++;
	*out++ = *value == '\t' ? ' ' : *value;
    }
    *out = 0;
}

/* check_field - printable, folded right, no over-long line */

static void check_field(const char *name, const char *value)
{
    const char *cp;
    size_t  col = strlen(name) + 2;

    for (cp = value; *cp; cp++, col++) {
	if (*cp == '\n') {
	    FUZZ_ASSERT(cp[1] == '\t', "%s: LF without TAB", name);
	    FUZZ_ASSERT(col < 998, "%s: line of %zu bytes", name, col);
	    col = (size_t) -1;
	    continue;
	}
	FUZZ_ASSERT((*cp >= 0x20 && *cp < 0x7f) || (*cp == '\t' && cp > value
						    && cp[-1] == '\n'),
		    "%s: byte 0x%02x", name, (unsigned char) *cp);
    }
    FUZZ_ASSERT(col < 998, "%s: last line of %zu bytes", name, col);
}

/* skip_atom - past a dot-atom at cp, or null */

static const char *skip_atom(const char *cp)
{
    const char *start = cp;

    while (*cp && (isalnum((unsigned char) *cp)
		   || strchr("!#$%&'*+-/=?^_`{|}~.", *cp)))
	cp++;
    if (cp == start || *start == '.' || cp[-1] == '.')
	return (0);
    for (; start + 1 < cp; start++)
	if (start[0] == '.' && start[1] == '.')
	    return (0);
    return (cp);
}

/* skip_quoted - past a quoted-string at cp, or null */

static const char *skip_quoted(const char *cp)
{
    if (*cp++ != '"')
	return (0);
    for (; *cp && *cp != '"'; cp++)
	if (*cp == '\\' && *++cp == 0)
	    return (0);
    return (*cp == '"' ? cp + 1 : 0);
}

/* skip_value - past a dot-atom, a quoted-string or an address */

static const char *skip_value(const char *cp, int address)
{
    const char *end;

    if (*cp == '"')
	return (skip_quoted(cp));
    if ((end = skip_atom(cp)) == 0 || !address)
	return (end);
    return (*end == '@' ? skip_atom(end + 1) : 0);
}

/* skip_comment - past a comment with nested, escaped parentheses */

static const char *skip_comment(const char *cp)
{
    int     depth = 0;

    do {
	if (*cp == 0)
	    return (0);
	if (*cp == '\\' && cp[1])
	    cp++;
	else if (*cp == '(')
	    depth++;
	else if (*cp == ')')
	    depth--;
	cp++;
    } while (depth > 0);
    return (cp);
}

/* check_received_spf - result (comment) key=value; ... */

static void check_received_spf(const char *value, const struct hdr_info *info)
{
    static const char *keys[] = {"client-ip", "envelope-from", "helo",
    "receiver", "identity"};
    char    text[HDR_BUF_MAX];
    const char *cp = text;
    const char *result = spf_res_name(info->result);
    size_t  i;

    unfold(value, text);
    FUZZ_ASSERT(strncmp(cp, result, strlen(result)) == 0
		&& cp[strlen(result)] == ' ' && cp[strlen(result) + 1] == '(',
		"Received-SPF starts \"%.40s\"", text);
    cp = skip_comment(cp + strlen(result) + 1);
    FUZZ_ASSERT(cp != 0, "Received-SPF comment never ends: %s", text);
    for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
	if (i == 2 && (info->helo == 0 || *info->helo == 0))
	    continue;
	FUZZ_ASSERT(*cp == ' ' && strncmp(cp + 1, keys[i], strlen(keys[i])) == 0
		    && cp[1 + strlen(keys[i])] == '=',
		    "no %s= at \"%.60s\" in %s", keys[i], cp, text);
	cp = skip_value(cp + 2 + strlen(keys[i]), 0);
	FUZZ_ASSERT(cp != 0 && *cp == ';', "bad %s value in %s", keys[i],
		    text);
	cp++;
    }
    FUZZ_ASSERT(*cp == 0, "Received-SPF goes on: \"%s\"", cp);
}

/* check_auth_results - authserv-id; spf=result smtp.x=value */

static void check_auth_results(const char *value, const struct hdr_info *info)
{
    char    text[HDR_BUF_MAX];
    char    id[HDR_VALUE_MAX + 1];
    const char *cp;
    const char *prop = info->identity == SPFI_HELO ? "smtp.helo=" :
    "smtp.mailfrom=";
    char    want[64];

    unfold(value, text);
    snprintf(want, sizeof(want), "; spf=%s %s", spf_res_name(info->result),
	     prop);
    FUZZ_ASSERT(strncmp(text, info->receiver, strlen(info->receiver)) == 0,
		"A-R starts \"%.60s\"", text);
    cp = text + strlen(info->receiver);
    FUZZ_ASSERT(strncmp(cp, want, strlen(want)) == 0, "A-R \"%s\"", text);
    cp = skip_value(cp + strlen(want), info->identity != SPFI_HELO);
    FUZZ_ASSERT(cp != 0 && *cp == 0, "A-R value in \"%s\"", text);
    FUZZ_ASSERT(hdr_authserv_id(value, id, sizeof(id)) == 0
		&& strcmp(id, info->receiver) == 0, "A-R id \"%s\"", id);
    FUZZ_ASSERT(hdr_ar_is_ours(value, info->receiver), "A-R not ours: %s",
		value);
}

/* check_seen - the authserv-id of a value found in a message */

static void check_seen(const char *value, const char *receiver)
{
    char    id[HDR_VALUE_MAX + 1];
    const char *cp;

    if (hdr_authserv_id(value, id, sizeof(id)) < 0) {
	FUZZ_ASSERT(!hdr_ar_is_ours(value, receiver), "ours without an id");
	return;
    }
    FUZZ_ASSERT(*id && strlen(id) < sizeof(id), "id \"%s\"", id);
    if (!hdr_token_ok(id))
	FUZZ_ASSERT((cp = strchr(value, '"')) != 0, "\"%s\" from \"%s\"", id,
		    value);
    (void) hdr_ar_is_ours(value, receiver);
}

/* client_ip - the address as the milter writes it */

static void client_ip(struct fuzz_in *in, char *ip, size_t len)
{
    unsigned char addr[16];
    int     family = (fuzz_take_byte(in) & 1) ? AF_INET6 : AF_INET;
    int     i;

    for (i = 0; i < 16; i++)
	addr[i] = (unsigned char) fuzz_take_byte(in);
    if (inet_ntop(family, addr, ip, (socklen_t) len) == 0)
	abort();
}

/* LLVMFuzzerTestOneInput - one message's SPF headers */

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct conn_ctx cc;
    struct fuzz_in in = {data, size};
    struct hdr_info info;
    char    value[HDR_BUF_MAX];
    char   *helo;
    char   *from;
    char   *receiver;
    char   *reason;
    char   *seen;

    memset(&info, 0, sizeof(info));
    info.result = (enum spf_res) (fuzz_take_byte(&in) % SPFR_COUNT);
    info.identity = (fuzz_take_byte(&in) & 1) ? SPFI_HELO : SPFI_MAILFROM;
    client_ip(&in, cc.cc_ip, sizeof(cc.cc_ip));
    helo = fuzz_take_str(&in);
    from = fuzz_take_str(&in);
    receiver = fuzz_take_str(&in);
    reason = fuzz_take_str(&in);
    seen = fuzz_take_str(&in);
    cc_set_helo(&cc, helo);
    mc_set_from(&cc.cc_msg, from);
    if (strlen(reason) >= SPF_REASON_MAX)
	reason[SPF_REASON_MAX - 1] = 0;
    info.ip = cc.cc_ip;
    info.helo = cc.cc_helo;
    info.from = cc.cc_msg.mc_from;
    info.receiver = hdr_token_ok(receiver) && strlen(receiver) <= 255 ?
	receiver : DEFAULT_ID;
    info.reason = reason;
    FUZZ_ASSERT(hdr_received_spf(&info, value, sizeof(value)) == 0,
		"Received-SPF does not fit");
    check_field(HDR_RECEIVED_SPF, value);
    check_received_spf(value, &info);
    FUZZ_ASSERT(hdr_auth_results(&info, value, sizeof(value)) == 0,
		"Authentication-Results does not fit");
    check_field(HDR_AUTH_RESULTS, value);
    check_auth_results(value, &info);
    check_seen(seen, info.receiver);
    free(helo);
    free(from);
    free(receiver);
    free(reason);
    free(seen);
    return (0);
}
