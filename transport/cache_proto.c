/*
 * NAME
 *	cache_proto 3
 * SUMMARY
 *	the messages between rrelay and rrelay-cache
 * SYNOPSIS
 *	#include "cache_proto.h"
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
 *	with it (nfd: one with PUT and HIT, none otherwise), terminated
 *	and zero-padded text fields of printable ASCII (the keywords also
 *	newlines), the fields each type needs present and the others
 *	empty, a use count in range, and the spare field zero. A TLS
 *	session (SESS_PUT, SESS_HIT) has a lifetime of 1 to CACHE_LIFE_MAX
 *	seconds and 1 to CACHE_BLOB_MAX bytes, zero-padded, and nothing
 *	of a connection's.
 *
 *	cache_msg_wants_fd() tells whether a type carries a descriptor.
 * DIAGNOSTICS
 *	cache_msg_parse() returns 0, or -1 with the reason in why.
 *--*/

#include <stdio.h>
#include <string.h>

#include "cache_proto.h"

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

/* cache_msg_wants_fd - PUT and HIT carry the connection */

int     cache_msg_wants_fd(enum cache_type type)
{
    return (type == CACHE_PUT || type == CACHE_HIT);
}

/* check_session - a TLS session's fields, present exactly when wanted */

static int check_session(const struct cache_msg *msg, char *why,
			         size_t whylen)
{
    int     sess = msg->type == CACHE_SESS_PUT || msg->type == CACHE_SESS_HIT;
    size_t  i;

    if (!sess && (msg->lifetime || msg->blob_len))
	BAD("session fields in a message of another type");
    if (sess && (msg->blob_len < 1 || msg->blob_len > CACHE_BLOB_MAX))
	BAD("session length out of range");
    if (sess && (msg->lifetime < 1 || msg->lifetime > CACHE_LIFE_MAX))
	BAD("session lifetime out of range");
    for (i = msg->blob_len; i < CACHE_BLOB_MAX; i++)
	if (msg->blob[i] != 0)
	    BAD("session padding is not zero");
    return (0);
}

/* cache_msg_parse - check one record strictly */

int     cache_msg_parse(const void *buf, size_t len, int nfd,
			        struct cache_msg *msg, char *why, size_t whylen)
{
    long    key;
    long    relay;
    long    addr;
    long    ext;
    int     full;

    if (len != sizeof(*msg))
	BAD("wrong message size");
    memcpy(msg, buf, sizeof(*msg));
    if (msg->magic != CACHE_MAGIC)
	BAD("bad magic");
    if (msg->version != CACHE_VERSION)
	BAD("unknown protocol version");
    if (msg->type < CACHE_TAKE || msg->type > CACHE_SESS_HIT)
	BAD("unknown message type");
    if (msg->spare != 0)
	BAD("spare field is not zero");
    full = cache_msg_wants_fd((enum cache_type) msg->type);
    if (nfd != full)
	BAD(full ? "no descriptor with the message" :
	    "unexpected descriptor with the message");
    if ((key = field_len(msg->key, sizeof(msg->key), 0)) < 0
	|| (relay = field_len(msg->relay, sizeof(msg->relay), 0)) < 0
	|| (addr = field_len(msg->addr, sizeof(msg->addr), 0)) < 0
	|| (ext = field_len(msg->ext, sizeof(msg->ext), 1)) < 0)
	BAD("malformed text field");
    if (key == 0)
	BAD("empty key");
    if (full && (relay == 0 || addr == 0))
	BAD("no relay or address");
    if (full && (msg->use < 1 || msg->use > CACHE_USE_MAX))
	BAD("use count out of range");
    if (!full && (relay || addr || ext || msg->use))
	BAD("fields set that the type does not use");
    return (check_session(msg, why, whylen));
}
