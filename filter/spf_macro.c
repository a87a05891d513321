/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	spf_macro 3
 * SUMMARY
 *	RFC 7208 section 7 macro expansion
 * SYNOPSIS
 *	#include "spf_macro.h"
 *
 *	int	spf_macro_expand(text, len, env, out, outlen)
 *	int	spf_macro_domain(text, env, out, outlen)
 * DESCRIPTION
 *	spf_macro_expand() expands the macro-string or explain-string of
 *	len bytes at text into out; spf_record has checked its syntax
 *	(the letters allowed where it stands, too). A macro splits
 *	its value on the delimiters given (default '.'), reverses the
 *	parts with 'r', keeps the rightmost N with a digit transformer,
 *	and joins them with '.'. An upper-case macro letter URL-escapes
 *	the result (RFC 3986 unreserved characters stay). "%%" is '%',
 *	"%_" a space and "%-" "%20". %{h} is the HELO name exactly as the
 *	client sent it, whatever it is. %{i} of an IPv6 client is its 32
 *	nibbles, dot-separated, in lower case as in section 7.4. %{p}
 *	asks env->validated() and gives "unknown" without a name.
 *
 *	spf_macro_domain() expands a domain-spec for a DNS query: after
 *	expansion one trailing dot is removed, and a name longer than 253
 *	bytes loses labels from the left until it fits (section 7.3).
 * DIAGNOSTICS
 *	Both return the length written, or -1 for a macro-string that the
 *	parser should have refused, or when the result does not fit out.
 */

#include <sys/socket.h>
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "spf_macro.h"

#define SPF_MACRO_PARTS	128		/* parts a macro value is split in */
#define SPF_VALUE_MAX	1024		/* longest macro value */

/* One growing output buffer. */

struct spf_out {
    char   *buf;
    size_t  len;
    size_t  size;
    int     full;
};

/* spf_put - append len bytes, or mark the buffer full */

static void spf_put(struct spf_out *o, const char *text, size_t len)
{
    if (o->full || len >= o->size - o->len) {
	o->full = 1;
	return;
    }
    memcpy(o->buf + o->len, text, len);
    o->len += len;
    o->buf[o->len] = 0;
}

/* spf_ip_nibbles - an IPv6 address as 32 dot-separated nibbles */

static void spf_ip_nibbles(const unsigned char *addr, char *out)
{
    static const char hex[] = "0123456789abcdef";
    int     i;

    for (i = 0; i < 16; i++) {
	*out++ = hex[addr[i] >> 4];
	*out++ = '.';
	*out++ = hex[addr[i] & 15];
	*out++ = (i < 15 ? '.' : 0);
    }
}

/* spf_macro_value - the raw value of one macro letter */

static const char *spf_macro_value(int letter, const struct spf_macro_env *env,
				           char *tmp, size_t tmplen)
{
    const char *p;

    switch (tolower(letter)) {
    case 's':
	return (env->sender);
    case 'l':
	return (env->local);
    case 'o':
	return (env->sender_domain);
    case 'd':
	return (env->domain);
    case 'h':
	return (env->helo ? env->helo : "");
    case 'r':
	return (env->receiver ? env->receiver : "unknown");
    case 'v':
	return (env->family == AF_INET ? "in-addr" : "ip6");
    case 't':
	snprintf(tmp, tmplen, "%lld", (long long) time(0));
	return (tmp);
    case 'p':
	p = env->validated ? env->validated(env->arg, env->domain) : 0;
	return (p ? p : "unknown");
    case 'i':
	if (env->family == AF_INET6) {
	    spf_ip_nibbles(env->addr, tmp);
	    return (tmp);
	}
	/* FALLTHROUGH */
    case 'c':
	return (inet_ntop(env->family, env->addr, tmp, tmplen) ? tmp : "");
    default:
	return ("");
    }
}

/* spf_url_put - append text, URL-escaped (RFC 3986 unreserved stay) */

static void spf_url_put(struct spf_out *o, const char *text, size_t len)
{
    static const char hex[] = "0123456789ABCDEF";
    unsigned char ch;
    char    esc[3];
    size_t  i;

    for (i = 0; i < len; i++) {
	ch = (unsigned char) text[i];
	if (isalnum(ch) || strchr("-._~", ch) != 0) {
	    spf_put(o, text + i, 1);
	    continue;
	}
	esc[0] = '%';
	esc[1] = hex[ch >> 4];
	esc[2] = hex[ch & 15];
	spf_put(o, esc, 3);
    }
}

/* spf_split - split value on the delimiters; the number of parts */

static int spf_split(char *value, const char *delims, char **parts)
{
    int     n = 0;
    char   *cp = value;

    parts[n++] = cp;
    for (; *cp; cp++) {
	if (strchr(delims, *cp) == 0)
	    continue;
	*cp = 0;
	if (n == SPF_MACRO_PARTS)
	    return (-1);
	parts[n++] = cp + 1;
    }
    return (n);
}

/* spf_transform - split, reverse, keep the rightmost keep parts, join */

static int spf_transform(const char *raw, const char *delims, int reverse,
			         long keep, struct spf_out *o)
{
    char    value[SPF_VALUE_MAX];
    char   *parts[SPF_MACRO_PARTS];
    struct spf_out joined;
    char    buf[SPF_VALUE_MAX];
    int     n;
    int     i;
    int     first;

    if (strlen(raw) >= sizeof(value))
	return (-1);
    strcpy(value, raw);
    if ((n = spf_split(value, *delims ? delims : ".", parts)) < 0)
	return (-1);
    joined = (struct spf_out) {buf, 0, sizeof(buf), 0};
    buf[0] = 0;
    first = (keep > 0 && keep < n) ? n - (int) keep : 0;
    for (i = first; i < n; i++) {
	if (i > first)
	    spf_put(&joined, ".", 1);
	if (reverse)
	    spf_put(&joined, parts[n - 1 - i], strlen(parts[n - 1 - i]));
	else
	    spf_put(&joined, parts[i], strlen(parts[i]));
    }
    if (joined.full)
	return (-1);
    spf_put(o, buf, joined.len);
    return (0);
}

/* spf_expand_one - expand "%{...}" at text (already checked); its length */

static int spf_expand_one(const char *text, size_t len,
			          const struct spf_macro_env *env,
			          struct spf_out *o)
{
    char    tmp[80];
    char    delims[8];
    char    mark[SPF_VALUE_MAX];
    struct spf_out val = {mark, 0, sizeof(mark), 0};
    const char *value;
    size_t  i = 3;
    size_t  nd = 0;
    long    keep = 0;
    int     reverse = 0;
    int     letter = text[2];

    mark[0] = 0;
    for (; i < len && isdigit((unsigned char) text[i]); i++)
	keep = (keep < 1000 ? keep * 10 + (text[i] - '0') : keep);
    if (i < len && (text[i] == 'r' || text[i] == 'R'))
	reverse = 1, i++;
    for (; i < len && text[i] != '}' && nd < sizeof(delims) - 1; i++)
	if (memchr(delims, text[i], nd) == 0)
	    delims[nd++] = text[i];
    delims[nd] = 0;
    if (i >= len || text[i] != '}')
	return (-1);
    value = spf_macro_value(letter, env, tmp, sizeof(tmp));
    if (spf_transform(value, delims, reverse, keep, &val) < 0)
	return (-1);
    if (isupper((unsigned char) letter))
	spf_url_put(o, mark, val.len);
    else
	spf_put(o, mark, val.len);
    return ((int) i + 1);
}

/* spf_macro_expand - expand a macro-string or explain-string */

int     spf_macro_expand(const char *text, size_t len,
			         const struct spf_macro_env *env, char *out,
			         size_t outlen)
{
    struct spf_out o = {out, 0, outlen, 0};
    size_t  i = 0;
    int     n;

    if (outlen == 0)
	return (-1);
    out[0] = 0;
    while (i < len && !o.full) {
	if (text[i] != '%') {
	    spf_put(&o, text + i++, 1);
	    continue;
	}
	if (i + 1 >= len)
	    return (-1);
	if (text[i + 1] == '%' || text[i + 1] == '_' || text[i + 1] == '-') {
	    spf_put(&o, text[i + 1] == '%' ? "%" : text[i + 1] == '_' ?
		    " " : "%20", text[i + 1] == '-' ? 3 : 1);
	    i += 2;
	    continue;
	}
	if (text[i + 1] != '{'
	    || (n = spf_expand_one(text + i, len - i, env, &o)) < 0)
	    return (-1);
	i += n;
    }
    return (o.full ? -1 : (int) o.len);
}

/* spf_macro_domain - expand a domain-spec into a name fit to query */

int     spf_macro_domain(const char *text, const struct spf_macro_env *env,
			         char *out, size_t outlen)
{
    char    buf[SPF_MACRO_OUT_MAX];
    const char *cp;
    int     len;

    if ((len = spf_macro_expand(text, strlen(text), env, buf,
				sizeof(buf))) < 0)
	return (-1);
    if (len > 0 && buf[len - 1] == '.')
	buf[--len] = 0;
    /* Section 7.3: drop labels from the left until it fits 253 bytes. */
    for (cp = buf; strlen(cp) > SPF_NAME_MAX && strchr(cp, '.');)
	cp = strchr(cp, '.') + 1;
    if (strlen(cp) > SPF_NAME_MAX || strlen(cp) >= outlen)
	return (-1);
    strcpy(out, cp);
    return ((int) strlen(cp));
}
