/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	smtp_reply 3
 * SUMMARY
 *	strict parser for multi-line SMTP replies
 * SYNOPSIS
 *	#include "net/smtp_reply.h"
 *
 *	void	reply_init(reply)
 *
 *	enum reply_status reply_feed(reply, line, len, err, errlen)
 *
 *	long long reply_size_limit(param)
 * DESCRIPTION
 *	reply_feed() takes one reply line at a time, without its CRLF,
 *	and returns REPLY_MORE until the last line of the reply has been
 *	seen (REPLY_DONE). Each line must be three digits, the first 2
 *	to 5, then a space (last line), a '-' (more lines follow) or the
 *	end of the line (last line, code only). Every line of one reply
 *	must carry the same code.
 *
 *	On REPLY_DONE, reply->code is the code, reply->dsn the enhanced
 *	status code from the first line when it is valid and agrees with
 *	the code's class, otherwise X.0.0 derived from the code, and
 *	reply->text the lines joined with single spaces in the form
 *	Postfix logs them, cut at REPLY_TEXT_MAX with control and 8-bit
 *	characters replaced by '?'.
 *
 *	When reply->ext is set, the text of each line after the first is
 *	stored there (upper-cased, cut at REPLY_EXT_LEN - 1 characters) for matching
 *	EHLO keywords and their parameters ("SIZE 10240000").
 *
 *	reply_size_limit() reads the parameter of an EHLO SIZE keyword
 *	(RFC 1870: "SIZE" [SP 1*DIGIT]) and returns the limit in bytes,
 *	or 0 for "no fixed limit": no parameter, 0, a parameter that is
 *	not all digits (a broken server: it still refuses a message it
 *	finds too big, with 552), or one too large for a long long.
 * DIAGNOSTICS
 *	REPLY_ERROR, with a reason, for a malformed line, a code that
 *	changes between lines, a line longer than REPLY_LINE_MAX, or a
 *	reply of more than REPLY_LINES_MAX lines.
 *--*/

#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "net/smtp_reply.h"

/* reply_init - start a new reply */

void    reply_init(struct smtp_reply *reply)
{
    reply->code = 0;
    reply->dsn[0] = 0;
    reply->has_dsn = 0;
    reply->text[0] = 0;
    reply->lines = 0;
    reply->ext_count = 0;
}

/* reply_printable - replace control and 8-bit characters with '?' */

void    reply_printable(char *text)
{
    unsigned char *cp;

    for (cp = (unsigned char *) text; *cp; cp++)
	if (*cp < 0x20 || *cp > 0x7e)
	    *cp = '?';
}

/* parse_dsn - accept "c.n.n" at text start; c must match the code class */

static int parse_dsn(const char *text, size_t len, int code, char *dsn,
		             size_t dsnlen)
{
    size_t  i = 0;
    int     part;
    int     digits;

    if (len < 5 || text[0] != '0' + code / 100 || text[1] != '.')
	return (0);
    for (i = 2, part = 0; part < 2; part++) {
	for (digits = 0; i < len && isdigit((unsigned char) text[i]); i++)
	    digits++;
	if (digits < 1 || digits > 3)
	    return (0);
	if (part == 0) {
	    if (i >= len || text[i] != '.')
		return (0);
	    i++;
	}
    }
    if (i < len && text[i] != ' ')
	return (0);
    if (i >= dsnlen)
	return (0);
    memcpy(dsn, text, i);
    dsn[i] = 0;
    return (1);
}

/* append_text - join one line's text onto the reply text */

static void append_text(struct smtp_reply *reply, const char *line,
			        size_t len)
{
    size_t  used = strlen(reply->text);
    size_t  room;

    if (used > 0 && used + 1 < sizeof(reply->text)) {
	reply->text[used++] = ' ';
	reply->text[used] = 0;
    }
    room = sizeof(reply->text) - 1 - used;
    if (len > room)
	len = room;
    memcpy(reply->text + used, line, len);
    reply->text[used + len] = 0;
}

/* store_keyword - remember an EHLO keyword line for feature matching */

static void store_keyword(struct smtp_reply *reply, const char *text,
			          size_t len)
{
    size_t  i;
    char   *kw;

    if (reply->ext == 0 || reply->ext_count >= reply->ext_max)
	return;
    kw = reply->ext[reply->ext_count++];
    for (i = 0; i < len && i < REPLY_EXT_LEN - 1; i++)
	kw[i] = toupper((unsigned char) text[i]);
    kw[i] = 0;
}

/* reply_feed - take one line of a reply */

enum reply_status reply_feed(struct smtp_reply *reply, const char *line,
			             size_t len, char *err, size_t errlen)
{
    int     code;
    int     last;

    if (errlen > 0)
	err[0] = 0;				/* written on every path */

    if (len > REPLY_LINE_MAX) {
	snprintf(err, errlen, "reply line longer than %d characters",
		 REPLY_LINE_MAX);
	return (REPLY_ERROR);
    }
    if (len < 3 || line[0] < '2' || line[0] > '5'
	|| !isdigit((unsigned char) line[1])
	|| !isdigit((unsigned char) line[2])
	|| (len > 3 && line[3] != ' ' && line[3] != '-')) {
	snprintf(err, errlen, "malformed reply line \"%.*s\"",
		 (int) (len > 60 ? 60 : len), line);
	reply_printable(err);
	return (REPLY_ERROR);
    }
    code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
    if (reply->lines > 0 && code != reply->code) {
	snprintf(err, errlen, "reply code changed from %d to %d between lines",
		 reply->code, code);
	return (REPLY_ERROR);
    }
    if (++reply->lines > REPLY_LINES_MAX) {
	snprintf(err, errlen, "reply longer than %d lines", REPLY_LINES_MAX);
	return (REPLY_ERROR);
    }
    last = (len == 3 || line[3] == ' ');
    if (reply->lines == 1) {
	reply->code = code;
	append_text(reply, line, len);
	reply->has_dsn = len > 4 && parse_dsn(line + 4, len - 4, code,
					      reply->dsn, sizeof(reply->dsn));
	if (!reply->has_dsn)
	    snprintf(reply->dsn, sizeof(reply->dsn), "%d.0.0", code / 100);
    } else {
	if (len > 4)
	    store_keyword(reply, line + 4, len - 4);
	append_text(reply, len > 4 ? line + 4 : "", len > 4 ? len - 4 : 0);
    }
    if (!last)
	return (REPLY_MORE);
    reply_printable(reply->text);
    return (REPLY_DONE);
}

/* reply_size_limit - RFC 1870 SIZE parameter in bytes; 0: no fixed limit */

long long reply_size_limit(const char *param)
{
    long long limit = 0;
    const char *cp;

    if (param == 0 || *param == 0)
	return (0);
    for (cp = param; *cp; cp++) {
	if (!isdigit((unsigned char) *cp))
	    return (0);
	if (limit > (LLONG_MAX - (*cp - '0')) / 10)
	    return (0);
	limit = limit * 10 + (*cp - '0');
    }
    return (limit);
}
