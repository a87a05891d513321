/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	spf_record 3
 * SUMMARY
 *	parse an SPF record strictly, against the ABNF of RFC 7208 section 12
 * SYNOPSIS
 *	#include "spf_record.h"
 *
 *	int	spf_record_is_spf(text)
 *	int	spf_record_parse(text, rec, err, errlen)
 *	void	spf_record_free(rec)
 *	int	spf_record_print(rec, out, outlen)
 *
 *	int	spf_macro_string_ok(text, len, explain)
 *	int	spf_domain_spec_ok(text, len)
 *	const char *spf_mech_name(mech)
 * DESCRIPTION
 *	spf_record_is_spf() tells whether a TXT string is an SPF record:
 *	"v=spf1" (any case) alone or followed by a space (section 4.5).
 *
 *	spf_record_parse() checks the whole record before anything is
 *	evaluated, as section 4.6 asks: a record with any syntax error
 *	anywhere gives permerror, even after a mechanism that would have
 *	matched. It refuses bytes outside printable ASCII, unknown
 *	mechanisms, a qualifier on a modifier, redirect= or exp= twice,
 *	arguments where a mechanism takes none, prefix lengths out of
 *	range or written with a leading zero, a bad address, and every
 *	domain-spec and macro-string that breaks the grammar (including
 *	c, r and t macros, which only explanations may use). Unknown
 *	modifiers with a well-formed name and value are accepted and
 *	ignored (section 6). Modifiers may stand anywhere in the record.
 *	On success rec holds the directives in order and the redirect=
 *	and exp= domain-specs, unexpanded; free it with spf_record_free().
 *	On failure err says what is wrong.
 *
 *	spf_record_print() writes the record back in a canonical form:
 *	the directives in order, then redirect= and exp=. Unknown
 *	modifiers are left out (they change nothing). It returns the
 *	length, or -1 when out is too small.
 *
 *	spf_macro_string_ok() checks a macro-string (explain: an
 *	explain-string, where spaces and the c, r and t macros are
 *	allowed too). spf_domain_spec_ok() checks a domain-spec: a
 *	macro-string that ends in a macro-expand or in "." toplabel with
 *	an optional trailing dot.
 * DIAGNOSTICS
 *	spf_record_parse() returns 0, -1 for a syntax error, or -2 when
 *	memory runs out (err says which).
 */

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>

#include "spf_record.h"

#define SPF_VERSION	"v=spf1"
#define SPF_VERSION_LEN	(sizeof(SPF_VERSION) - 1)

static const char *spf_mech_names[] = {
    "all", "include", "a", "mx", "ptr", "ip4", "ip6", "exists",
};

/* spf_mech_name - a mechanism's name */

const char *spf_mech_name(enum spf_mech mech)
{
    return (spf_mech_names[mech]);
}

/* spf_record_is_spf - "v=spf1" alone or followed by a space */

int     spf_record_is_spf(const char *text)
{
    return (strncasecmp(text, SPF_VERSION, SPF_VERSION_LEN) == 0
	    && (text[SPF_VERSION_LEN] == 0 || text[SPF_VERSION_LEN] == ' '));
}

/* spf_macro_letter_ok - a macro letter; c, r and t only in explanations */

static int spf_macro_letter_ok(int ch, int explain)
{
    ch = tolower(ch);
    if (strchr("slodiphv", ch) != 0)
	return (1);
    return (explain && strchr("crt", ch) != 0);
}

/* spf_macro_expand_len - length of the macro-expand at text, or 0 */

static size_t spf_macro_expand_len(const char *text, size_t len, int explain)
{
    size_t  i = 2;
    unsigned long digits = 0;
    int     any_digit = 0;

    if (len < 2 || text[0] != '%')
	return (0);
    if (text[1] == '%' || text[1] == '_' || text[1] == '-')
	return (2);
    if (text[1] != '{' || len < 4 || !spf_macro_letter_ok(text[2], explain))
	return (0);
    for (i = 3; i < len && isdigit((unsigned char) text[i]); i++) {
	any_digit = 1;
	if (digits < 1000)
	    digits = digits * 10 + (text[i] - '0');
    }
    /* Section 7.3: a DIGIT transformer must be nonzero. */
    if (any_digit && digits == 0)
	return (0);
    if (i < len && (text[i] == 'r' || text[i] == 'R'))
	i++;
    while (i < len && strchr(".-+,/_=", text[i]) != 0 && text[i] != 0)
	i++;
    return (i < len && text[i] == '}' ? i + 1 : 0);
}

/* spf_macro_scan - check a macro-string; 1 and *last_expand, or 0 */

static int spf_macro_scan(const char *text, size_t len, int explain,
			          int *last_expand)
{
    size_t  i = 0;
    size_t  n;
    unsigned char ch;

    *last_expand = 0;
    while (i < len) {
	ch = (unsigned char) text[i];
	if (ch == '%') {
	    if ((n = spf_macro_expand_len(text + i, len - i, explain)) == 0)
		return (0);
	    i += n;
	    *last_expand = 1;
	    continue;
	}
	if (!((ch >= 0x21 && ch <= 0x7e) || (explain && ch == ' ')))
	    return (0);
	*last_expand = 0;
	i++;
    }
    return (1);
}

/* spf_macro_string_ok - a valid macro-string (or explain-string) */

int     spf_macro_string_ok(const char *text, size_t len, int explain)
{
    int     last;

    return (spf_macro_scan(text, len, explain, &last));
}

/* spf_toplabel_ok - RFC 7208 toplabel: alphanumerics and inner '-', not all digits */

static int spf_toplabel_ok(const char *label, size_t len)
{
    size_t  i;
    int     alpha = 0;
    int     dash = 0;

    if (len == 0 || label[0] == '-' || label[len - 1] == '-')
	return (0);
    for (i = 0; i < len; i++) {
	if (label[i] == '-')
	    dash = 1;
	else if (isalpha((unsigned char) label[i]))
	    alpha = 1;
	else if (!isdigit((unsigned char) label[i]))
	    return (0);
    }
    return (alpha || dash);
}

/* spf_domain_spec_ok - macro-string ending in a macro-expand or "." toplabel */

int     spf_domain_spec_ok(const char *text, size_t len)
{
    const char *dot;
    int     last_expand;

    if (len == 0 || !spf_macro_scan(text, len, 0, &last_expand))
	return (0);
    if (last_expand)
	return (1);
    if (text[len - 1] == '.')
	len--;
    for (dot = text + len; dot > text && dot[-1] != '.'; dot--)
	 /* void */ ;
    if (dot == text)
	return (0);			/* a toplabel alone */
    return (spf_toplabel_ok(dot, text + len - dot));
}

/* spf_cidr_value - a prefix length: no leading zero, at most max; -1 if bad */

static int spf_cidr_value(const char *digits, size_t len, int max)
{
    int     value = 0;
    size_t  i;

    if (len == 0 || len > 3 || (len > 1 && digits[0] == '0'))
	return (-1);
    for (i = 0; i < len; i++) {
	if (!isdigit((unsigned char) digits[i]))
	    return (-1);
	value = value * 10 + (digits[i] - '0');
    }
    return (value <= max ? value : -1);
}

/* spf_digits_before - how many digits end text[0..len) */

static size_t spf_digits_before(const char *text, size_t len)
{
    size_t  n = 0;

    while (n < len && isdigit((unsigned char) text[len - n - 1]))
	n++;
    return (n);
}

/* spf_split_dual_cidr - cut [ "/" ip4 ] [ "//" ip6 ] off the end of arg */

static int spf_split_dual_cidr(char *arg, struct spf_term *t)
{
    size_t  len = strlen(arg);
    size_t  n;

    n = spf_digits_before(arg, len);
    if (n > 0 && len >= n + 2 && arg[len - n - 1] == '/'
	&& arg[len - n - 2] == '/') {
	if ((t->cidr6 = spf_cidr_value(arg + len - n, n, 128)) < 0)
	    return (-1);
	len -= n + 2;
	arg[len] = 0;
	n = spf_digits_before(arg, len);
    }
    if (n > 0 && len >= n + 1 && arg[len - n - 1] == '/') {
	if ((t->cidr4 = spf_cidr_value(arg + len - n, n, 32)) < 0)
	    return (-1);
	arg[len - n - 1] = 0;
    }
    return (0);
}

/* spf_parse_ip4 - dotted quad without leading zeros, then an optional prefix */

static int spf_parse_ip4(char *arg, struct spf_term *t)
{
    char   *slash = strchr(arg, '/');
    const char *cp = arg;
    int     octet;
    int     i;
    size_t  n;

    if (slash) {
	*slash = 0;
	if ((t->cidr4 = spf_cidr_value(slash + 1, strlen(slash + 1), 32)) < 0)
	    return (-1);
    }
    for (i = 0; i < 4; i++) {
	for (n = 0; isdigit((unsigned char) cp[n]); n++)
	     /* void */ ;
	if ((octet = spf_cidr_value(cp, n, 255)) < 0)
	    return (-1);
	t->addr[i] = (unsigned char) octet;
	cp += n;
	if (*cp != (i < 3 ? '.' : 0))
	    return (-1);
	cp++;
    }
    return (0);
}

/* spf_parse_ip6 - an IPv6 address, then an optional prefix */

static int spf_parse_ip6(char *arg, struct spf_term *t)
{
    char   *slash = strchr(arg, '/');

    if (slash) {
	*slash = 0;
	if ((t->cidr6 = spf_cidr_value(slash + 1, strlen(slash + 1), 128)) < 0)
	    return (-1);
    }
    if (strspn(arg, "0123456789abcdefABCDEF:.") != strlen(arg))
	return (-1);
    return (inet_pton(AF_INET6, arg, t->addr) == 1 ? 0 : -1);
}

/* spf_parse_domain_arg - ":" domain-spec, required or optional */

static int spf_parse_domain_arg(char *rest, struct spf_term *t, int required)
{
    if (*rest == 0)
	return (required ? -1 : 0);
    if (*rest != ':' || !spf_domain_spec_ok(rest + 1, strlen(rest + 1)))
	return (-1);
    t->domain = rest + 1;
    return (0);
}

/* spf_lookup_mech - a mechanism by name; -1 if unknown */

static int spf_lookup_mech(const char *name, size_t len)
{
    size_t  i;

    for (i = 0; i < sizeof(spf_mech_names) / sizeof(spf_mech_names[0]); i++)
	if (strlen(spf_mech_names[i]) == len
	    && strncasecmp(name, spf_mech_names[i], len) == 0)
	    return ((int) i);
    return (-1);
}

/* spf_parse_directive - [qualifier] mechanism, into t */

static int spf_parse_directive(char *word, struct spf_term *t)
{
    size_t  len;
    int     mech;
    char   *rest;

    memset(t, 0, sizeof(*t));
    t->cidr4 = t->cidr6 = -1;
    t->qualifier = '+';
    if (strchr("+-~?", *word) != 0)
	t->qualifier = *word++;
    for (len = 0; isalnum((unsigned char) word[len]); len++)
	 /* void */ ;
    if ((mech = spf_lookup_mech(word, len)) < 0)
	return (-1);
    t->mech = (enum spf_mech) mech;
    rest = word + len;
    switch (t->mech) {
    case SPFM_ALL:
	return (*rest == 0 ? 0 : -1);
    case SPFM_INCLUDE:
    case SPFM_EXISTS:
	return (spf_parse_domain_arg(rest, t, 1));
    case SPFM_PTR:
	return (spf_parse_domain_arg(rest, t, 0));
    case SPFM_A:
    case SPFM_MX:
	if (spf_split_dual_cidr(rest, t) < 0)
	    return (-1);
	return (spf_parse_domain_arg(rest, t, 0));
    case SPFM_IP4:
	return (*rest == ':' ? spf_parse_ip4(rest + 1, t) : -1);
    case SPFM_IP6:
	return (*rest == ':' ? spf_parse_ip6(rest + 1, t) : -1);
    }
    return (-1);
}

/* spf_modifier_name_len - length of a modifier name followed by '=', or 0 */

static size_t spf_modifier_name_len(const char *word)
{
    size_t  len;

    if (!isalpha((unsigned char) word[0]))
	return (0);
    for (len = 1; isalnum((unsigned char) word[len]) || word[len] == '-'
	 || word[len] == '_' || word[len] == '.'; len++)
	 /* void */ ;
    return (word[len] == '=' ? len : 0);
}

/* spf_parse_modifier - name=value into rec; -1 on a syntax error */

static int spf_parse_modifier(char *word, size_t name_len,
			              struct spf_record *rec, const char **what)
{
    char   *value = word + name_len + 1;
    const char **slot = 0;

    if (name_len == 8 && strncasecmp(word, "redirect", 8) == 0)
	slot = &rec->redirect;
    else if (name_len == 3 && strncasecmp(word, "exp", 3) == 0)
	slot = &rec->exp;
    if (slot == 0) {
	rec->nunknown++;
	*what = "bad macro-string in a modifier";
	return (spf_macro_string_ok(value, strlen(value), 0) ? 0 : -1);
    }
    if (*slot) {
	*what = "a modifier given twice";
	return (-1);
    }
    *what = "bad domain-spec in a modifier";
    if (!spf_domain_spec_ok(value, strlen(value)))
	return (-1);
    *slot = value;
    return (0);
}

/* spf_text_ok - only printable ASCII and spaces */

static int spf_text_ok(const char *text)
{
    const unsigned char *cp;

    for (cp = (const unsigned char *) text; *cp; cp++)
	if (*cp < 0x20 || *cp > 0x7e)
	    return (0);
    return (1);
}

/* spf_parse_words - every term after the version */

static int spf_parse_words(struct spf_record *rec, char *err, size_t errlen)
{
    char   *cp = rec->store + SPF_VERSION_LEN;
    char   *word;
    const char *what = 0;
    size_t  name_len;

    if (errlen > 0)
	err[0] = 0;				/* written on every path */

    while ((word = strsep(&cp, " ")) != 0) {
	if (*word == 0)
	    continue;
	if ((name_len = spf_modifier_name_len(word)) > 0) {
	    if (spf_parse_modifier(word, name_len, rec, &what) < 0)
		goto bad;
	} else if (spf_parse_directive(word, rec->terms + rec->nterms) < 0) {
	    what = "bad mechanism";
	    goto bad;
	} else {
	    rec->nterms++;
	}
    }
    return (0);
bad:
    snprintf(err, errlen, "%s: \"%.40s\"", what, word);
    return (-1);
}

/* spf_record_parse - check the whole record and split it into terms */

int     spf_record_parse(const char *text, struct spf_record *rec,
			         char *err, size_t errlen)
{
    size_t  len = strlen(text);
    size_t  words = 1;
    const char *cp;

    if (errlen > 0)
	err[0] = 0;				/* written on every path */

    memset(rec, 0, sizeof(*rec));
    if (len > SPFREC_TEXT_MAX) {
	snprintf(err, errlen, "record longer than %d bytes", SPFREC_TEXT_MAX);
	return (-1);
    }
    if (!spf_record_is_spf(text) || !spf_text_ok(text)) {
	snprintf(err, errlen, "%s", spf_record_is_spf(text) ?
		 "non-ASCII or control character in the record" :
		 "not an SPF record");
	return (-1);
    }
    for (cp = text; *cp; cp++)
	words += (*cp == ' ');
    if ((rec->store = strdup(text)) == 0
	|| (rec->terms = calloc(words, sizeof(*rec->terms))) == 0) {
	snprintf(err, errlen, "out of memory");
	spf_record_free(rec);
	return (-2);
    }
    if (spf_parse_words(rec, err, errlen) < 0) {
	spf_record_free(rec);
	return (-1);
    }
    return (0);
}

/* spf_record_free - release what spf_record_parse() made */

void    spf_record_free(struct spf_record *rec)
{
    free(rec->terms);
    free(rec->store);
    memset(rec, 0, sizeof(*rec));
}

/* spf_print_term - one directive in canonical form */

static int spf_print_term(const struct spf_term *t, char *out, size_t outlen)
{
    char    addr[INET6_ADDRSTRLEN];
    char    q[2] = {t->qualifier == '+' ? 0 : t->qualifier, 0};
    int     n;

    if (t->mech == SPFM_IP4 || t->mech == SPFM_IP6) {
	inet_ntop(t->mech == SPFM_IP4 ? AF_INET : AF_INET6, t->addr, addr,
		  sizeof(addr));
	n = snprintf(out, outlen, " %s%s:%s", q, spf_mech_name(t->mech), addr);
    } else {
	n = snprintf(out, outlen, " %s%s%s%s", q, spf_mech_name(t->mech),
		     t->domain ? ":" : "", t->domain ? t->domain : "");
    }
    if (n >= 0 && (size_t) n < outlen && t->cidr4 >= 0)
	n += snprintf(out + n, outlen - n, "/%d", t->cidr4);
    if (n >= 0 && (size_t) n < outlen && t->cidr6 >= 0)
	n += snprintf(out + n, outlen - n, t->mech == SPFM_IP6 ? "/%d" : "//%d",
		      t->cidr6);
    return (n >= 0 && (size_t) n < outlen ? n : -1);
}

/* spf_record_print - the record in canonical form; its length, or -1 */

int     spf_record_print(const struct spf_record *rec, char *out, size_t outlen)
{
    size_t  used;
    int     n;
    int     i;

    if ((n = snprintf(out, outlen, "%s", SPF_VERSION)) < 0
	|| (size_t) n >= outlen)
	return (-1);
    used = n;
    for (i = 0; i < rec->nterms; i++) {
	if ((n = spf_print_term(rec->terms + i, out + used, outlen - used)) < 0)
	    return (-1);
	used += n;
    }
    n = snprintf(out + used, outlen - used, "%s%s%s%s",
		 rec->redirect ? " redirect=" : "",
		 rec->redirect ? rec->redirect : "",
		 rec->exp ? " exp=" : "", rec->exp ? rec->exp : "");
    if (n < 0 || (size_t) n >= outlen - used)
	return (-1);
    return ((int) (used + n));
}
