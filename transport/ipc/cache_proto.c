/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	cache_proto 3
 * SUMMARY
 *	the messages between rrelay and rrelay-cache
 * SYNOPSIS
 *	#include "ipc/cache_proto.h"
 *
 *	void	cache_msg_init(msg, type)
 *
 *	int	cache_msg_text(field, size, value, lines)
 *
 *	int	cache_msg_parse(buf, len, nfd, msg, why, whylen)
 *
 *	int	cache_msg_wants_fd(type)
 * DESCRIPTION
 *	rrelay and rrelay-cache talk over a SOCK_SEQPACKET unix socket
 *	in fixed-size records (struct cache_msg), one request and one
 *	answer at a time:
 *
 *	    TAKE key		-> HIT key relay addr ext use + fd
 *				-> MISS key
 *	    PUT key relay addr ext use + fd	(no answer)
 *	    SESS_TAKE key	-> SESS_HIT key lifetime blob
 *				-> MISS key
 *	    SESS_PUT key lifetime blob		(no answer)
 *	    TLS_START key relay addr policy + fd
 *				-> TLS_DONE key result + fd
 *				-> TLS_FAIL key why
 *				-> TLS_DECLINE key [why]
 *
 *	The key names the destination as round-robin picked it and the
 *	session's policy ("dest tls=LEVEL helo=NAME"): the cache hands
 *	out a connection for exactly that key, never another host's.
 *
 *	cache_msg_init() zeroes a message and sets its header.
 *
 *	cache_msg_text() copies value into a text field; -1 if it does
 *	not fit or holds a byte the parser would refuse (newlines only
 *	when lines is set, for the keywords).
 *
 *	cache_msg_parse() checks a record strictly: its size, the magic
 *	and version, a known type, the number of descriptors that came
 *	with it (nfd: see cache_msg_wants_fd()), terminated
 *	and zero-padded text fields of printable ASCII (the keywords also
 *	newlines), the fields each type needs present and the others
 *	empty, a use count in range, and the spare field zero. A TLS
 *	session (SESS_PUT, SESS_HIT) has a lifetime of 1 to CACHE_LIFE_MAX
 *	seconds and 1 to CACHE_BLOB_MAX bytes, zero-padded, and nothing
 *	of a connection's. TLS_START (with the TCP socket) asks the cache
 *	to be the connection's TLS end: it carries the relay, address and
 *	the TLS policy (a level from may to secure, the server name, the
 *	"secure" names, the CA, certificate and key files, tls_protocols)
 *	and the handshake and idle waits in range. TLS_DONE (with the
 *	plaintext end) carries the result: flags with CACHE_TLS_ACTIVE,
 *	the protocol version and cipher, and maybe why the server was not
 *	verified; PUT and HIT carry the same for a connection whose TLS
 *	end the cache is, and no flags at all for a plaintext one.
 *	TLS_FAIL carries only why; TLS_DECLINE at most why.
 *
 *	cache_msg_wants_fd() tells whether a type carries a descriptor:
 *	PUT, HIT, TLS_START and TLS_DONE do.
 * DIAGNOSTICS
 *	cache_msg_parse() returns 0, or -1 with the reason in why.
 *--*/

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "ipc/cache_proto.h"

#define BAD(text) do { snprintf(why, whylen, "%s", text); return (-1); } while (0)

/* cache_msg_init - a zeroed message with its header */

void    cache_msg_init(struct cache_msg *msg, enum cache_type type)
{
    memset(msg, 0, sizeof(*msg));
    msg->magic = CACHE_MAGIC;
    msg->version = CACHE_VERSION;
    msg->type = (uint16_t) type;
}

/* text_ok - printable ASCII; newlines too when lines is set */

static int text_ok(const char *text, size_t len, int lines)
{
    size_t  i;
    unsigned char ch;

    for (i = 0; i < len; i++) {
	ch = (unsigned char) text[i];
	if ((ch < 0x20 || ch > 0x7e) && !(lines && ch == '\n'))
	    return (0);
    }
    return (1);
}

/* cache_msg_text - copy value into a field, or -1 */

int     cache_msg_text(char *field, size_t size, const char *value,
		               int lines)
{
    size_t  len = strlen(value);

    if (len >= size || !text_ok(value, len, lines))
	return (-1);
    memset(field, 0, size);
    memcpy(field, value, len);
    return (0);
}

/* field_len - length of a terminated, zero-padded field, or -1 */

static long field_len(const char *field, size_t size, int lines)
{
    const char *nul = memchr(field, 0, size);
    size_t  len;
    size_t  i;

    if (nul == 0)
	return (-1);
    len = (size_t) (nul - field);
    for (i = len; i < size; i++)
	if (field[i] != 0)
	    return (-1);
    if (!text_ok(field, len, lines))
	return (-1);
    return ((long) len);
}

/* What each type carries. */
enum { CARRY_NONE, CARRY_CONN, CARRY_SESS, CARRY_START, CARRY_DONE,
CARRY_FAIL, CARRY_DECLINE };

/* carries - what a (known) type carries */

static int carries(int type)
{
    switch (type) {
    case CACHE_PUT:
    case CACHE_HIT:
	return (CARRY_CONN);
    case CACHE_SESS_PUT:
    case CACHE_SESS_HIT:
	return (CARRY_SESS);
    case CACHE_TLS_START:
	return (CARRY_START);
    case CACHE_TLS_DONE:
	return (CARRY_DONE);
    case CACHE_TLS_FAIL:
	return (CARRY_FAIL);
    case CACHE_TLS_DECLINE:
	return (CARRY_DECLINE);
    default:
	return (CARRY_NONE);
    }
}

/* cache_msg_wants_fd - PUT, HIT and the TLS hand-overs carry a socket */

int     cache_msg_wants_fd(enum cache_type type)
{
    return (type == CACHE_PUT || type == CACHE_HIT
	    || type == CACHE_TLS_START || type == CACHE_TLS_DONE);
}

/* all_zero - size bytes of zero */

static int all_zero(const void *buf, size_t size)
{
    static const unsigned char zero[CACHE_BLOB_MAX];
    const unsigned char *cp = buf;
    size_t  n;

    while (size > 0) {
	n = size < sizeof(zero) ? size : sizeof(zero);
	if (memcmp(cp, zero, n) != 0)
	    return (0);
	cp += n;
	size -= n;
    }
    return (1);
}

/* check_session - a TLS session's fields, present exactly when wanted */

static int check_session(const struct cache_msg *msg, int sess, char *why,
			         size_t whylen)
{
    if (whylen > 0)
	why[0] = 0;				/* written on every path */

    if (!sess && (msg->lifetime || msg->blob_len))
	BAD("session fields in a message of another type");
    if (sess && (msg->blob_len < 1 || msg->blob_len > CACHE_BLOB_MAX))
	BAD("session length out of range");
    if (sess && (msg->lifetime < 1 || msg->lifetime > CACHE_LIFE_MAX))
	BAD("session lifetime out of range");
    if (!all_zero(msg->blob + msg->blob_len, CACHE_BLOB_MAX - msg->blob_len))
	BAD("session padding is not zero");
    return (0);
}

/* tls_lens - the TLS text fields' lengths (sni, match, 4 files, protocols, version, cipher, text) */

static int tls_lens(const struct cache_tls *t, long *len)
{
    const struct {
	const char *field;
	size_t  size;
    }       f[] = {
	{t->sni, sizeof(t->sni)}, {t->match, sizeof(t->match)},
	{t->ca_file, sizeof(t->ca_file)}, {t->ca_path, sizeof(t->ca_path)},
	{t->cert_file, sizeof(t->cert_file)},
	{t->key_file, sizeof(t->key_file)},
	{t->protocols, sizeof(t->protocols)},
	{t->version, sizeof(t->version)}, {t->cipher, sizeof(t->cipher)},
	{t->text, sizeof(t->text)},
    };
    size_t  i;

    for (i = 0; i < sizeof(f) / sizeof(f[0]); i++)
	if ((len[i] = field_len(f[i].field, f[i].size, 0)) < 0)
	    return (-1);
    return (0);
}

/* check_start - a request to be a connection's TLS end */

static int check_start(const struct cache_tls *t, const long *len, char *why,
		               size_t whylen)
{
    if (whylen > 0)
	why[0] = 0;				/* written on every path */

    if (t->level < 1 || t->level > 4)
	BAD("TLS level out of range");
    if (t->wait_ms < 1 || t->wait_ms > CACHE_WAIT_MAX
	|| t->idle_ms < 1 || t->idle_ms > CACHE_WAIT_MAX)
	BAD("TLS wait out of range");
    if (len[0] == 0 || len[6] == 0)
	BAD("TLS request without a server name or protocols");
    if (t->flags || len[7] || len[8] || len[9])
	BAD("TLS result fields in a request");
    return (0);
}

/* check_result - the TLS end's outcome, in DONE, PUT and HIT */

static int check_result(const struct cache_tls *t, const long *len,
			        int carry, char *why, size_t whylen)
{
    int     active = (t->flags & CACHE_TLS_ACTIVE) != 0;
    int     i;

    if (whylen > 0)
	why[0] = 0;				/* written on every path */

    if (t->level || t->wait_ms || t->idle_ms)
	BAD("TLS request fields in an answer");
    for (i = 0; i <= 6; i++)
	if (len[i])
	    BAD("TLS policy fields in an answer");
    if (t->flags & ~CACHE_TLS_FLAGS)
	BAD("unknown TLS flags");
    if (carry == CARRY_DONE && !active)
	BAD("a TLS end that is not active");
    if (!active && (t->flags || len[7] || len[8] || len[9]))
	BAD("TLS fields on a plaintext connection");
    if (active && (len[7] == 0 || len[8] == 0))
	BAD("TLS connection without a version or cipher");
    if ((t->flags & CACHE_TLS_VERIFIED) && !(t->flags & CACHE_TLS_PEER_CERT))
	BAD("verified without a certificate");
    if (carry != CARRY_DONE && len[9])
	BAD("TLS text in a connection");
    return (0);
}

/* check_tls - the TLS fields, present exactly as the type wants */

static int check_tls(const struct cache_msg *msg, int carry, char *why,
		             size_t whylen)
{
    const struct cache_tls *t = &msg->tls;
    long    len[10];

    if (whylen > 0)
	why[0] = 0;				/* written on every path */

    if (tls_lens(t, len) < 0)
	BAD("malformed TLS text field");
    if (carry == CARRY_START)
	return (check_start(t, len, why, whylen));
    if (carry == CARRY_CONN || carry == CARRY_DONE)
	return (check_result(t, len, carry, why, whylen));
    if (carry == CARRY_FAIL && len[9] == 0)
	BAD("a TLS failure without a reason");
    if ((carry == CARRY_FAIL || carry == CARRY_DECLINE)
	&& all_zero(t, offsetof(struct cache_tls, text)))
	return (0);
    if (!all_zero(t, sizeof(*t)))
	BAD("TLS fields in a message of another type");
    return (0);
}

/* check_conn - relay, address, keywords and use count, where they belong */

static int check_conn(const struct cache_msg *msg, int carry, char *why,
		              size_t whylen)
{
    long    relay;
    long    addr;
    long    ext;

    if (whylen > 0)
	why[0] = 0;				/* written on every path */

    if ((relay = field_len(msg->relay, sizeof(msg->relay), 0)) < 0
	|| (addr = field_len(msg->addr, sizeof(msg->addr), 0)) < 0
	|| (ext = field_len(msg->ext, sizeof(msg->ext), 1)) < 0)
	BAD("malformed text field");
    if ((carry == CARRY_CONN || carry == CARRY_START)
	&& (relay == 0 || addr == 0))
	BAD("no relay or address");
    if (carry == CARRY_CONN && (msg->use < 1 || msg->use > CACHE_USE_MAX))
	BAD("use count out of range");
    if (carry == CARRY_START && (ext || msg->use))
	BAD("fields set that the type does not use");
    if (carry != CARRY_CONN && carry != CARRY_START
	&& (relay || addr || ext || msg->use))
	BAD("fields set that the type does not use");
    return (0);
}

/* cache_msg_parse - check one record strictly */

int     cache_msg_parse(const void *buf, size_t len, int nfd,
			        struct cache_msg *msg, char *why, size_t whylen)
{
    int     carry;

    if (whylen > 0)
	why[0] = 0;				/* written on every path */

    if (len != sizeof(*msg))
	BAD("wrong message size");
    memcpy(msg, buf, sizeof(*msg));
    if (msg->magic != CACHE_MAGIC)
	BAD("bad magic");
    if (msg->version != CACHE_VERSION)
	BAD("unknown protocol version");
    if (msg->type < CACHE_TAKE || msg->type > CACHE_TLS_DECLINE)
	BAD("unknown message type");
    if (msg->spare != 0)
	BAD("spare field is not zero");
    if (nfd != cache_msg_wants_fd((enum cache_type) msg->type))
	BAD(nfd ? "unexpected descriptor with the message" :
	    "no descriptor with the message");
    if (field_len(msg->key, sizeof(msg->key), 0) <= 0)
	BAD("malformed or empty key");
    carry = carries(msg->type);
    if (check_conn(msg, carry, why, whylen) < 0
	|| check_session(msg, carry == CARRY_SESS, why, whylen) < 0)
	return (-1);
    return (check_tls(msg, carry, why, whylen));
}
