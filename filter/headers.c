/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	headers 3
 * SUMMARY
 *	Received-SPF and Authentication-Results header fields
 * SYNOPSIS
 *	#include "headers.h"
 *
 *	int	hdr_received_spf(info, out, outlen)
 *	int	hdr_auth_results(info, out, outlen)
 *
 *	int	hdr_authserv_id(value, out, outlen)
 *	int	hdr_ar_is_ours(value, authserv_id)
 *	int	hdr_token_ok(text)
 * DESCRIPTION
 *	hdr_received_spf() builds the value of a Received-SPF field (RFC
 *	7208 section 9.1) in the form DMARC verifiers accept:
 *
 *	  pass (rcv.example: domain of a@x.org designates 192.0.2.1 as
 *	  permitted sender) client-ip=192.0.2.1; envelope-from="a@x.org";
 *	  helo=mx.x.org; receiver=rcv.example; identity=mailfrom;
 *
 *	hdr_auth_results() builds an Authentication-Results value (RFC
 *	8601): "rcv.example; spf=pass smtp.mailfrom=a@x.org", or
 *	smtp.helo=NAME when the HELO identity decided.
 *
 *	Text that comes from the client (HELO name, envelope sender) is
 *	cut to HDR_VALUE_MAX bytes and written as a dot-atom when it is
 *	one, else as a quoted-string with '"' and '\' escaped; inside a
 *	comment '(', ')' and '\' are escaped. Control characters (CR, LF,
 *	NUL, TAB) and 8-bit bytes become '?'. So no client text can end a
 *	value, a comment or the field, or start a new one. Lines are
 *	folded ("\n\t") at spaces outside quoted-strings, near
 *	HDR_FOLD_AT columns.
 *
 *	hdr_authserv_id() extracts the authserv-id (a token or a quoted
 *	string, after optional comments and white space) from an
 *	Authentication-Results value. hdr_ar_is_ours() compares it with
 *	ours, ignoring case.
 *
 *	hdr_token_ok() tells whether text can be written as an RFC 2045
 *	token, as an authserv-id must be.
 * DIAGNOSTICS
 *	The builders return -1 when out is too small; hdr_authserv_id()
 *	returns -1 when value has no authserv-id.
 */

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "headers.h"

#define HDR_TSPECIALS	"()<>@,;:\\\"/[]?="

struct hdr_buf {
    char   *out;
    size_t  cap;
    size_t  len;
    size_t  column;			/* length of the current line */
    int     overflow;
};

/* hb_init - start an empty value; the field name takes start columns */

static void hb_init(struct hdr_buf *hb, char *out, size_t cap, size_t start)
{
    hb->out = out;
    hb->cap = cap;
    hb->len = 0;
    hb->column = start;
    hb->overflow = (cap == 0);
    if (cap)
	out[0] = 0;
}

/* hb_putc - append one byte */

static void hb_putc(struct hdr_buf *hb, int ch)
{
    if (hb->len + 1 >= hb->cap) {
	hb->overflow = 1;
	return;
    }
    hb->out[hb->len++] = (char) ch;
    hb->out[hb->len] = 0;
    hb->column = (ch == '\n') ? 0 : hb->column + 1;
}

/* hb_puts - append a string as it is */

static void hb_puts(struct hdr_buf *hb, const char *text)
{
    while (*text)
	hb_putc(hb, (unsigned char) *text++);
}

/* hdr_safe - a printable ASCII byte, or '?' */

static int hdr_safe(int ch)
{
    return ((ch >= 0x20 && ch < 0x7f) ? ch : '?');
}

/* hdr_clip - copy client text, cut to HDR_VALUE_MAX bytes */

static void hdr_clip(char *dst, const char *src)
{
    snprintf(dst, HDR_VALUE_MAX + 1, "%s", src ? src : "");
}

/* hdr_is_atext - an RFC 5322 atext character */

static int hdr_is_atext(int ch)
{
    return (isalnum(ch) || (ch && strchr("!#$%&'*+-/=?^_`{|}~", ch) != 0));
}

/* hdr_is_dot_atom - non-empty atext runs separated by single dots */

static int hdr_is_dot_atom(const char *text)
{
    const unsigned char *cp = (const unsigned char *) text;
    int     last = '.';

    if (*cp == 0)
	return (0);
    for (; *cp; last = *cp++) {
	if (*cp == '.' ? last == '.' : !hdr_is_atext(*cp))
	    return (0);
    }
    return (last != '.');
}

/* hdr_is_address - dot-atom "@" dot-atom */

static int hdr_is_address(const char *text)
{
    char    copy[HDR_VALUE_MAX + 1];
    char   *at;

    hdr_clip(copy, text);
    if ((at = strrchr(copy, '@')) == 0)
	return (0);
    *at = 0;
    return (hdr_is_dot_atom(copy) && hdr_is_dot_atom(at + 1));
}

/* hb_quoted - append text as a quoted-string */

static void hb_quoted(struct hdr_buf *hb, const char *text)
{
    char    copy[HDR_VALUE_MAX + 1];
    const unsigned char *cp;

    hdr_clip(copy, text);
    hb_putc(hb, '"');
    for (cp = (const unsigned char *) copy; *cp; cp++) {
	if (*cp == '"' || *cp == '\\')
	    hb_putc(hb, '\\');
	hb_putc(hb, hdr_safe(*cp));
    }
    hb_putc(hb, '"');
}

/* hb_value - append a dot-atom as it is, anything else quoted */

static void hb_value(struct hdr_buf *hb, const char *text, int address)
{
    char    copy[HDR_VALUE_MAX + 1];

    hdr_clip(copy, text);
    if (address ? hdr_is_address(copy) : hdr_is_dot_atom(copy))
	hb_puts(hb, copy);
    else
	hb_quoted(hb, copy);
}

/* hb_space - a space, or a fold when the next word would pass the limit */

static void hb_space(struct hdr_buf *hb, size_t next_len)
{
    if (hb->column + 1 + next_len > HDR_FOLD_AT && hb->column > 1)
	hb_puts(hb, "\n\t");
    else
	hb_putc(hb, ' ');
}

/* hb_words - append text, splitting it at spaces outside quotes */

static void hb_words(struct hdr_buf *hb, const char *text)
{
    const char *cp = text;
    const char *end;
    int     quoted;

    while (*cp) {
	for (end = cp, quoted = 0; *end && (quoted || *end != ' '); end++) {
	    if (*end == '\\' && quoted && end[1])
		end++;
	    else if (*end == '"')
		quoted = !quoted;
	}
	if (hb->len > 0)
	    hb_space(hb, end - cp);
	while (cp < end)
	    hb_putc(hb, *cp++);
	while (*cp == ' ')
	    cp++;
    }
}

/* hdr_comment - text as the inside of a comment: escaped, 8-bit free */

static void hdr_comment(char *out, size_t outlen, const char *text)
{
    size_t  n = 0;
    const unsigned char *cp;

    for (cp = (const unsigned char *) text; *cp && n + 3 < outlen; cp++) {
	if (*cp == '(' || *cp == ')' || *cp == '\\')
	    out[n++] = '\\';
	out[n++] = (char) hdr_safe(*cp);
    }
    out[n] = 0;
}

/* hdr_subject - "domain of X": the identity the result is about */

static void hdr_subject(const struct hdr_info *info, char *out, size_t outlen)
{
    char    who[HDR_VALUE_MAX + 1];

    hdr_clip(who, info->identity == SPFI_HELO ? info->helo : info->from);
    snprintf(out, outlen, "domain of %s", who);
}

/* hdr_explain - the Received-SPF comment, before escaping */

static void hdr_explain(const struct hdr_info *info, char *out, size_t outlen)
{
    char    subj[HDR_VALUE_MAX + 16];
    const char *rcv = info->receiver;
    const char *ip = info->ip;
    const char *why = (info->reason && *info->reason) ? info->reason : "error";

    hdr_subject(info, subj, sizeof(subj));
    switch (info->result) {
    case SPFR_PASS:
	snprintf(out, outlen, "%s: %s designates %s as permitted sender",
		 rcv, subj, ip);
	break;
    case SPFR_FAIL:
	snprintf(out, outlen, "%s: %s does not designate %s as permitted "
		 "sender", rcv, subj, ip);
	break;
    case SPFR_SOFTFAIL:
	snprintf(out, outlen, "%s: transitioning %s does not designate %s "
		 "as permitted sender", rcv, subj, ip);
	break;
    case SPFR_NEUTRAL:
	snprintf(out, outlen, "%s: %s is neither permitted nor denied by %s",
		 rcv, ip, subj);
	break;
    case SPFR_NONE:
	snprintf(out, outlen, "%s: %s does not designate permitted sender "
		 "hosts", rcv, subj);
	break;
    case SPFR_TEMPERROR:
	snprintf(out, outlen, "%s: temporary error in processing %s: %s",
		 rcv, subj, why);
	break;
    default:
	snprintf(out, outlen, "%s: permanent error in processing %s: %s",
		 rcv, subj, why);
	break;
    }
}

/* hb_key - append a "key=value;" pair */

static void hb_key(struct hdr_buf *hb, const char *key, const char *value,
		           int force_quote)
{
    char    word[2 * HDR_VALUE_MAX + 64];
    struct hdr_buf w;

    hb_init(&w, word, sizeof(word), 0);
    hb_puts(&w, key);
    hb_putc(&w, '=');
    if (force_quote)
	hb_quoted(&w, value);
    else
	hb_value(&w, value, 0);
    hb_putc(&w, ';');
    hb_words(hb, word);
}

/* hdr_received_spf - the value of a Received-SPF field */

int     hdr_received_spf(const struct hdr_info *info, char *out, size_t outlen)
{
    struct hdr_buf hb;
    char    text[2 * HDR_VALUE_MAX + 256];
    char    comment[sizeof(text) * 2 + 3];

    hb_init(&hb, out, outlen, sizeof(HDR_RECEIVED_SPF ": ") - 1);
    hb_puts(&hb, spf_res_name(info->result));
    hdr_explain(info, text, sizeof(text));
    comment[0] = '(';
    hdr_comment(comment + 1, sizeof(comment) - 2, text);
    strcat(comment, ")");
    hb_words(&hb, comment);
    hb_key(&hb, "client-ip", info->ip, 0);
    hb_key(&hb, "envelope-from", info->from, 1);
    if (info->helo && *info->helo)
	hb_key(&hb, "helo", info->helo, 0);
    hb_key(&hb, "receiver", info->receiver, 0);
    hb_key(&hb, "identity", spf_ident_name(info->identity), 0);
    return (hb.overflow ? -1 : 0);
}

/* hdr_auth_results - the value of an Authentication-Results field */

int     hdr_auth_results(const struct hdr_info *info, char *out, size_t outlen)
{
    struct hdr_buf hb;
    char    word[2 * HDR_VALUE_MAX + 64];
    struct hdr_buf w;

    hb_init(&hb, out, outlen, sizeof(HDR_AUTH_RESULTS ": ") - 1);
    hb_puts(&hb, info->receiver);
    hb_putc(&hb, ';');
    hb_init(&w, word, sizeof(word), 0);
    hb_puts(&w, "spf=");
    hb_puts(&w, spf_res_name(info->result));
    hb_words(&hb, word);
    hb_init(&w, word, sizeof(word), 0);
    if (info->identity == SPFI_HELO) {
	hb_puts(&w, "smtp.helo=");
	hb_value(&w, info->helo, 0);
    } else {
	hb_puts(&w, "smtp.mailfrom=");
	hb_value(&w, info->from, 1);
    }
    hb_words(&hb, word);
    return (hb.overflow ? -1 : 0);
}

/* hdr_skip_cfws - skip white space, line breaks and (nested) comments */

static const char *hdr_skip_cfws(const char *cp)
{
    int     depth = 0;

    for (; *cp; cp++) {
	if (depth > 0 && *cp == '\\' && cp[1])
	    cp++;
	else if (*cp == '(')
	    depth++;
	else if (*cp == ')' && depth > 0)
	    depth--;
	else if (depth == 0 && !isspace((unsigned char) *cp))
	    break;
    }
    return (cp);
}

/* hdr_is_token_char - RFC 2045 token character */

static int hdr_is_token_char(int ch)
{
    return (ch > 0x20 && ch < 0x7f && strchr(HDR_TSPECIALS, ch) == 0);
}

/* hdr_token_ok - non-empty, token characters only */

int     hdr_token_ok(const char *text)
{
    if (*text == 0)
	return (0);
    for (; *text; text++)
	if (!hdr_is_token_char((unsigned char) *text))
	    return (0);
    return (1);
}

/* hdr_authserv_id - the authserv-id at the start of an A-R value */

int     hdr_authserv_id(const char *value, char *out, size_t outlen)
{
    const char *cp = hdr_skip_cfws(value);
    size_t  n = 0;

    if (outlen == 0)
	return (-1);
    if (*cp == '"') {
	for (cp++; *cp && *cp != '"'; cp++) {
	    if (*cp == '\\' && cp[1])
		cp++;
	    if (n + 1 < outlen)
		out[n++] = *cp;
	}
	if (*cp != '"')
	    n = 0;			/* unterminated: no id */
    } else {
	for (; hdr_is_token_char((unsigned char) *cp); cp++)
	    if (n + 1 < outlen)
		out[n++] = *cp;
    }
    out[n] = 0;
    return (n > 0 ? 0 : -1);
}

/* hdr_ar_is_ours - does this Authentication-Results claim our id? */

int     hdr_ar_is_ours(const char *value, const char *authserv_id)
{
    char    id[HDR_VALUE_MAX + 1];

    /* An id longer than the buffer cannot be ours (ours is shorter). */
    if (hdr_authserv_id(value, id, sizeof(id)) < 0
	|| strlen(id) >= HDR_VALUE_MAX)
	return (0);
    return (strcasecmp(id, authserv_id) == 0);
}
