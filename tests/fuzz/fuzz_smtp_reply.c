/* SPDX-License-Identifier: MIT */
/*
 * fuzz_smtp_reply - fuzz harness for transport/smtp_reply.c
 *
 * The input is what an upstream server sends. As in smtp_client.c it
 * is cut into lines by netio_read_line() (through a socket pair) and
 * fed to reply_feed(), with EHLO keyword storage, reply after reply,
 * until the input ends or a line is refused.
 *
 * Properties: a finished reply has a code of three digits from 200 to
 * 599, the first three characters of each of its lines, every line but
 * the last with '-' after the code; its DSN is the first line's
 * enhanced code when has_dsn says so, else "C.0.0"; its text is
 * printable ASCII that fits REPLY_TEXT_MAX; no reply passes
 * REPLY_LINES_MAX lines; stored keywords are upper case and fit
 * REPLY_EXT_LEN. A refused line gets a printable reason. auth_choose()
 * picks only a mechanism that the AUTH keyword line offers.
 */

#include <ctype.h>
#include <fcntl.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fuzz.h"
#include "net/netio.h"
#include "smtp/smtp_auth.h"
#include "net/smtp_reply.h"

#define EXT_MAX		32		/* as smtp_client.c */
#define INPUT_MAX	65536		/* fits a socket buffer */

struct seen {
    char    code[3];			/* the first line's code */
    int     lines;
    int     dashes;			/* lines with '-' after the code */
};

/* check_dsn - "C.x.y" with 1-3 digit parts, C the code's class */

static void check_dsn(const char *dsn, int code)
{
    const char *cp = dsn;
    int     part;
    int     digits;

    FUZZ_ASSERT(cp[0] == '0' + code / 100 && cp[1] == '.',
		"dsn \"%s\" for code %d", dsn, code);
    for (cp += 2, part = 0; part < 2; part++, cp++) {
	for (digits = 0; isdigit((unsigned char) *cp); cp++)
	    digits++;
	FUZZ_ASSERT(digits >= 1 && digits <= 3, "dsn \"%s\"", dsn);
	if (part == 0)
	    FUZZ_ASSERT(*cp == '.', "dsn \"%s\"", dsn);
	else
	    FUZZ_ASSERT(*cp == 0, "dsn \"%s\"", dsn);
    }
}

/* offered - the space-separated list names mech, in any case */

static int offered(const char *list, const char *mech)
{
    size_t  len = strlen(mech);
    const char *cp;

    for (cp = list; (cp = strcasestr(cp, mech)) != 0; cp++)
	if ((cp == list || cp[-1] == ' ' || cp[-1] == '=')
	    && (cp[len] == 0 || cp[len] == ' '))
	    return (1);
    return (0);
}

/* check_keywords - the stored EHLO lines, and AUTH mechanism choice */

static void check_keywords(const struct smtp_reply *reply)
{
    const char *kw;
    const char *mech;
    int     i;

    FUZZ_ASSERT(reply->ext_count >= 0 && reply->ext_count <= reply->ext_max,
		"ext_count %d", reply->ext_count);
    for (i = 0; i < reply->ext_count; i++) {
	kw = reply->ext[i];
	FUZZ_ASSERT(strnlen(kw, REPLY_EXT_LEN) < REPLY_EXT_LEN,
		    "keyword %d not terminated", i);
	for (; *kw; kw++)
	    FUZZ_ASSERT(!islower((unsigned char) *kw), "lower case keyword");
	kw = reply->ext[i];
	if (strncmp(kw, "AUTH", 4) != 0 || (kw[4] != ' ' && kw[4] != '='))
	    continue;
	mech = auth_choose(kw + 5, "plain, login");
	FUZZ_ASSERT(mech == 0 || strcmp(mech, "PLAIN") == 0
		    || strcmp(mech, "LOGIN") == 0, "mechanism %s", mech);
	FUZZ_ASSERT(mech == 0 || offered(kw + 5, mech),
		    "%s chosen from \"%s\"", mech, kw + 5);
    }
}

/* check_done - a finished reply */

static void check_done(const struct smtp_reply *reply, const struct seen *seen,
		               const char *first, size_t first_len)
{
    int     code = (seen->code[0] - '0') * 100 + (seen->code[1] - '0') * 10
    + (seen->code[2] - '0');

    FUZZ_ASSERT(reply->code >= 200 && reply->code <= 599, "code %d",
		reply->code);
    FUZZ_ASSERT(reply->code == code, "code %d, lines said %.3s", reply->code,
		seen->code);
    FUZZ_ASSERT(reply->lines == seen->lines && seen->dashes == seen->lines - 1,
		"%d lines, %d with '-'", seen->lines, seen->dashes);
    FUZZ_ASSERT(reply->lines <= REPLY_LINES_MAX, "%d lines", reply->lines);
    check_dsn(reply->dsn, reply->code);
    if (reply->has_dsn)
	FUZZ_ASSERT(first_len > 4 && strncmp(first + 4, reply->dsn,
					     strlen(reply->dsn)) == 0,
		    "dsn \"%s\" not from \"%.*s\"", reply->dsn, (int) first_len,
		    first);
    else
	FUZZ_ASSERT(strcmp(reply->dsn + 1, ".0.0") == 0, "derived dsn %s",
		    reply->dsn);
    FUZZ_ASSERT(strnlen(reply->text, REPLY_TEXT_MAX) < REPLY_TEXT_MAX,
		"text not terminated");
    FUZZ_ASSERT(fuzz_printable(reply->text), "unprintable text \"%s\"",
		reply->text);
    FUZZ_ASSERT(strncmp(reply->text, seen->code, 3) == 0, "text \"%s\"",
		reply->text);
    check_keywords(reply);
}

/* note_line - what the harness itself sees in a line */

static void note_line(struct seen *seen, const char *line, size_t len)
{
    if (seen->lines++ == 0)
	memcpy(seen->code, line, 3);
    if (len > 3 && line[3] == '-')
	seen->dashes++;
}

/* feed - the replies in the server's output; stop at the first error */

static void feed(struct netio *io)
{
    static char ext[EXT_MAX][REPLY_EXT_LEN];
    struct smtp_reply reply;
    struct seen seen;
    char    line[REPLY_LINE_MAX + 1];
    char    first[REPLY_LINE_MAX + 1];
    size_t  first_len = 0;
    char    err[200];
    size_t  len;
    enum reply_status status = REPLY_DONE;

    for (;;) {
	if (status == REPLY_DONE) {
	    reply_init(&reply);
	    reply.ext = ext;
	    reply.ext_max = EXT_MAX;
	    memset(&seen, 0, sizeof(seen));
	}
	if (netio_read_line(io, line, sizeof(line), &len,
			    netio_now_ms() + 1000) != NETIO_OK)
	    return;
	FUZZ_ASSERT(len < sizeof(line) && line[len] == 0, "line length %zu",
		    len);
	err[0] = 0;
	status = reply_feed(&reply, line, len, err, sizeof(err));
	if (status == REPLY_ERROR) {
	    FUZZ_ASSERT(err[0] && fuzz_printable(err), "reason \"%s\"", err);
	    return;
	}
	note_line(&seen, line, len);
	if (seen.lines == 1) {
	    memcpy(first, line, len + 1);
	    first_len = len;
	}
	FUZZ_ASSERT(reply.lines <= REPLY_LINES_MAX, "%d lines", reply.lines);
	if (status == REPLY_DONE)
	    check_done(&reply, &seen, first, first_len);
    }
}

/* LLVMFuzzerTestOneInput - one server's output */

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct netio io;
    int     sv[2];

    if (size > INPUT_MAX)
	return (0);
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
	abort();
    if (size > 0 && write(sv[1], data, size) != (ssize_t) size)
	abort();
    (void) close(sv[1]);
    memset(&io, 0, sizeof(io));
    io.fd = sv[0];
    feed(&io);
    netio_close(&io);
    return (0);
}
