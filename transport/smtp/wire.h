/* SPDX-License-Identifier: MIT */
#ifndef RR_WIRE_H
#define RR_WIRE_H

/* wire.h - turn a queued message into SMTP DATA text */

#include <stddef.h>

#define WIRE_LINE_LIMIT	998		/* Postfix's smtp_line_length_limit */
#define WIRE_OUT_MAX(n)	((n) * 4 + 16)	/* output room for n input bytes */

struct wire {
    int     at_bol;			/* next byte starts a line */
    int     pending_cr;			/* a CR waits for its LF */
    size_t  col;			/* bytes on the current wire line */
    size_t  limit;			/* fold lines longer than this */
    unsigned long folds;		/* long lines broken so far */
};

extern void wire_init(struct wire *wire, size_t limit);
extern size_t wire_convert(struct wire *wire, const char *in, size_t len,
			           char *out);
extern size_t wire_finish(struct wire *wire, char *out);

#endif
