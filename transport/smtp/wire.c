/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	wire 3
 * SUMMARY
 *	turn a queued message into SMTP DATA text
 * SYNOPSIS
 *	#include "smtp/wire.h"
 *
 *	void	wire_init(wire, limit)
 *
 *	size_t	wire_convert(wire, in, len, out)
 *
 *	size_t	wire_finish(wire, out)
 * DESCRIPTION
 *	pipe(8) hands over the message as queued: LF line endings, no
 *	dot-stuffing. wire_convert() streams it into SMTP DATA form and
 *	returns the number of bytes it put in out, which must have room
 *	for WIRE_OUT_MAX(len) bytes. State carries over between calls,
 *	so the message can be fed in chunks of any size.
 *
 *	Line endings: LF, CRLF and a bare CR each become CRLF, so no
 *	bare CR or LF reaches the wire.
 *
 *	Dot-stuffing: a line that starts with '.' gets another '.'. Like
 *	the SMTP line limit, the folding below does not count that dot.
 *
 *	Long lines: as Postfix's smtp(8) does with smtp_line_length_limit
 *	= 998, a line longer than limit wire bytes is broken by inserting
 *	CR LF SPACE, which does the least damage to MIME text. A limit
 *	of 0 disables this.
 *
 *	Runs of ordinary bytes are found with memchr() and copied whole,
 *	so the cost per byte is close to that of memcpy().
 *
 *	wire_finish() ends a last line that has no newline and appends
 *	the ".\r\n" that ends DATA.
 *--*/

#include <string.h>

#include "smtp/wire.h"

/* wire_init - start a new message */

void    wire_init(struct wire *wire, size_t limit)
{
    wire->at_bol = 1;
    wire->pending_cr = 0;
    wire->col = 0;
    wire->limit = limit;
    wire->folds = 0;
}

/* end_line - emit CRLF and start a new line */

static size_t end_line(struct wire *wire, char *out)
{
    out[0] = '\r';
    out[1] = '\n';
    wire->at_bol = 1;
    wire->col = 0;
    return (2);
}

/* put_byte - emit one content byte, stuffing dots and folding */

static size_t put_byte(struct wire *wire, char ch, char *out)
{
    size_t  n = 0;

    if (wire->limit > 0 && wire->col >= wire->limit) {
	out[n++] = '\r';
	out[n++] = '\n';
	out[n++] = ' ';
	wire->col = 1;
	wire->folds++;
    } else if (wire->at_bol && ch == '.') {
	out[n++] = '.';			/* not counted: RFC 5321 4.5.3.1.6 */
    }
    out[n++] = ch;
    wire->col++;
    wire->at_bol = 0;
    return (n);
}

/* plain_run - bytes from in that need no care: no CR, LF, stuffing or fold */

static size_t plain_run(const struct wire *wire, const char *in, size_t len)
{
    const char *lf;
    const char *cr;
    size_t  run;

    if (wire->pending_cr || (wire->at_bol && in[0] == '.'))
	return (0);
    if ((lf = memchr(in, '\n', len)) != 0)
	len = (size_t) (lf - in);
    if ((cr = memchr(in, '\r', len)) != 0)
	len = (size_t) (cr - in);
    run = len;
    if (wire->limit > 0)
	run = wire->col >= wire->limit ? 0 :
	    len < wire->limit - wire->col ? len : wire->limit - wire->col;
    return (run);
}

/* wire_convert - convert one chunk of the queued message */

size_t  wire_convert(struct wire *wire, const char *in, size_t len, char *out)
{
    size_t  n = 0;
    size_t  i;
    size_t  run;
    char    ch;

    for (i = 0; i < len; i++) {
	if ((run = plain_run(wire, in + i, len - i)) > 1) {
	    memcpy(out + n, in + i, run);
	    n += run;
	    wire->col += run;
	    wire->at_bol = 0;
	    i += run - 1;
	    continue;
	}
	ch = in[i];
	if (wire->pending_cr) {
	    wire->pending_cr = 0;
	    n += end_line(wire, out + n);
	    if (ch == '\n')
		continue;
	}
	if (ch == '\r')
	    wire->pending_cr = 1;
	else if (ch == '\n')
	    n += end_line(wire, out + n);
	else
	    n += put_byte(wire, ch, out + n);
    }
    return (n);
}

/* wire_finish - end the last line and add the final dot */

size_t  wire_finish(struct wire *wire, char *out)
{
    size_t  n = 0;

    if (wire->pending_cr || !wire->at_bol) {
	wire->pending_cr = 0;
	n += end_line(wire, out);
    }
    memcpy(out + n, ".\r\n", 3);
    return (n + 3);
}
