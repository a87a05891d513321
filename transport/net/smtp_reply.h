/* SPDX-License-Identifier: MIT */
#ifndef RR_SMTP_REPLY_H
#define RR_SMTP_REPLY_H

/* smtp_reply.h - strict parser for multi-line SMTP replies */

#include <stddef.h>

#define REPLY_LINE_MAX	2048		/* one reply line, without CRLF */
#define REPLY_LINES_MAX	100		/* lines in one reply */
#define REPLY_TEXT_MAX	1024		/* the joined text that is kept */
#define REPLY_EXT_LEN	128		/* one EHLO keyword line that is kept */

struct smtp_reply {
    int     code;			/* 250 */
    char    dsn[16];			/* "2.0.0": enhanced or derived */
    int     has_dsn;			/* the server gave an enhanced code */
    char    text[REPLY_TEXT_MAX];	/* "250 2.0.0 Ok: queued as X" */
    int     lines;			/* lines read so far */
    char    (*ext)[REPLY_EXT_LEN];	/* EHLO keyword lines, when wanted */
    int     ext_max;
    int     ext_count;
};

enum reply_status { REPLY_MORE, REPLY_DONE, REPLY_ERROR };

extern void reply_init(struct smtp_reply *reply);
extern enum reply_status reply_feed(struct smtp_reply *reply,
				            const char *line, size_t len,
				            char *err, size_t errlen);
extern void reply_printable(char *text);
extern long long reply_size_limit(const char *param);

#endif
