/* SPDX-License-Identifier: MIT */
/*
 * fuzz_cache_proto - fuzz harness for transport/cache_proto.c
 *
 * Input: a byte whose low two bits are the number of descriptors that
 * came with the record (0 to 3), then the record itself.
 *
 * Properties: cache_msg_parse() accepts only a record of exactly the
 * message's size, with the magic, the version and a known type; with
 * exactly one descriptor for PUT and HIT and none otherwise; with each
 * text field terminated, zero-padded and printable (newlines only in
 * the keywords); a key always; a relay, an address and a use count in
 * range with a descriptor, and nothing else without one; a TLS session
 * (SESS_PUT, SESS_HIT) with a lifetime and length in range and zero
 * padding, and no session fields in any other type; a TLS_START (with a
 * descriptor) with a relay, an address, a level from may to secure, both
 * waits in range, a server name and protocols, and no result; a TLS_DONE
 * (with a descriptor) active, with a version and cipher; PUT and HIT either
 * plaintext (no TLS field at all) or active in the same way, without text;
 * VERIFIED only with PEER_CERT; a TLS_FAIL with a reason and nothing else;
 * a TLS_DECLINE with at most a reason; no TLS field in any other type.
 * What it accepts, it copies unchanged, and cache_msg_text() rebuilds each
 * of its text fields byte for byte.
 */

#include "fuzz.h"
#include "ipc/cache_proto.h"

/* printable_field - terminated, zero-padded, printable (or newline) */

static int printable_field(const char *field, size_t size, int lines)
{
    size_t  len = strnlen(field, size);
    size_t  i;

    if (len == size)
	return (0);
    for (i = 0; i < size; i++) {
	if (i >= len && field[i] != 0)
	    return (0);
	if (i < len && (field[i] < 0x20 || field[i] > 0x7e)
	    && !(lines && field[i] == '\n'))
	    return (0);
    }
    return (1);
}

/* same_text - cache_msg_text() gives back the field exactly */

static int same_text(const char *field, size_t size, int lines)
{
    char    copy[CACHE_EXT_MAX];

    if (cache_msg_text(copy, size, field, lines) < 0)
	return (0);
    return (memcmp(copy, field, size) == 0);
}

/* check_session - session fields exactly in the session types */

static void check_session(const struct cache_msg *msg)
{
    size_t  i;

    if (msg->type == CACHE_SESS_PUT || msg->type == CACHE_SESS_HIT)
	FUZZ_ASSERT(msg->blob_len >= 1 && msg->blob_len <= CACHE_BLOB_MAX
		    && msg->lifetime >= 1 && msg->lifetime <= CACHE_LIFE_MAX,
		    "session out of range");
    else
	FUZZ_ASSERT(msg->blob_len == 0 && msg->lifetime == 0,
		    "session fields in type %d", msg->type);
    for (i = msg->blob_len; i < CACHE_BLOB_MAX; i++)
	FUZZ_ASSERT(msg->blob[i] == 0, "session padding at %zu", i);
}

/* empty - a field of zeros */

static int empty(const void *field, size_t size)
{
    const unsigned char *cp = field;
    size_t  i;

    for (i = 0; i < size; i++)
	if (cp[i])
	    return (0);
    return (1);
}

/* tls_text - every TLS text field terminated, padded, printable, rebuilt */

static int tls_text(const struct cache_tls *t)
{
    const struct {
	const char *f;
	size_t  n;
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
	if (!printable_field(f[i].f, f[i].n, 0) || !same_text(f[i].f, f[i].n, 0))
	    return (0);
    return (1);
}

/* no_policy - none of a request's TLS fields */

static int no_policy(const struct cache_tls *t)
{
    return (t->level == 0 && t->wait_ms == 0 && t->idle_ms == 0
	    && !t->sni[0] && !t->match[0] && !t->ca_file[0] && !t->ca_path[0]
	    && !t->cert_file[0] && !t->key_file[0] && !t->protocols[0]);
}

/* check_tls - the TLS fields exactly where the type wants them */

static void check_tls(const struct cache_msg *msg)
{
    const struct cache_tls *t = &msg->tls;
    int     active = (t->flags & CACHE_TLS_ACTIVE) != 0;

    FUZZ_ASSERT(tls_text(t), "TLS text field");
    if (msg->type == CACHE_TLS_START) {
	FUZZ_ASSERT(t->level >= 1 && t->level <= 4 && t->wait_ms >= 1
		    && t->wait_ms <= CACHE_WAIT_MAX && t->idle_ms >= 1
		    && t->idle_ms <= CACHE_WAIT_MAX && t->sni[0]
		    && t->protocols[0], "TLS request out of range");
	FUZZ_ASSERT(t->flags == 0 && !t->version[0] && !t->cipher[0]
		    && !t->text[0], "TLS result in a request");
	return;
    }
    FUZZ_ASSERT(no_policy(t), "TLS request fields in type %d", msg->type);
    if (msg->type == CACHE_TLS_DONE || msg->type == CACHE_PUT
	|| msg->type == CACHE_HIT) {
	FUZZ_ASSERT((t->flags & ~CACHE_TLS_FLAGS) == 0, "unknown flags");
	FUZZ_ASSERT(msg->type != CACHE_TLS_DONE || active, "inactive DONE");
	FUZZ_ASSERT(active ? t->version[0] && t->cipher[0] :
		    t->flags == 0 && !t->version[0] && !t->cipher[0],
		    "TLS result");
	FUZZ_ASSERT(!(t->flags & CACHE_TLS_VERIFIED)
		    || (t->flags & CACHE_TLS_PEER_CERT), "verified, no cert");
	FUZZ_ASSERT(msg->type == CACHE_TLS_DONE || !t->text[0],
		    "text with a connection");
	return;
    }
    FUZZ_ASSERT(t->flags == 0 && !t->version[0] && !t->cipher[0],
		"TLS result in type %d", msg->type);
    if (msg->type == CACHE_TLS_FAIL)
	FUZZ_ASSERT(t->text[0], "failure without a reason");
    else if (msg->type != CACHE_TLS_DECLINE)
	FUZZ_ASSERT(empty(t, sizeof(*t)), "TLS fields in type %d", msg->type);
}

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cache_msg msg;
    char    why[100];
    int     nfd;
    int     full;

    if (size < 1)
	return (0);
    nfd = data[0] & 3;
    if (cache_msg_parse(data + 1, size - 1, nfd, &msg, why, sizeof(why)) < 0) {
	FUZZ_ASSERT(strnlen(why, sizeof(why)) > 0, "refused without a reason");
	return (0);
    }
    FUZZ_ASSERT(size - 1 == sizeof(msg), "accepted %zu bytes", size - 1);
    FUZZ_ASSERT(memcmp(&msg, data + 1, sizeof(msg)) == 0, "copy differs");
    FUZZ_ASSERT(msg.magic == CACHE_MAGIC && msg.version == CACHE_VERSION,
		"header");
    FUZZ_ASSERT(msg.type >= CACHE_TAKE && msg.type <= CACHE_TLS_DECLINE,
		"type");
    FUZZ_ASSERT(msg.spare == 0, "spare");
    full = msg.type == CACHE_PUT || msg.type == CACHE_HIT;
    FUZZ_ASSERT(nfd == (full || msg.type == CACHE_TLS_START
			|| msg.type == CACHE_TLS_DONE),
		"type %d with %d descriptors", msg.type, nfd);
    FUZZ_ASSERT(printable_field(msg.key, sizeof(msg.key), 0)
		&& printable_field(msg.relay, sizeof(msg.relay), 0)
		&& printable_field(msg.addr, sizeof(msg.addr), 0)
		&& printable_field(msg.ext, sizeof(msg.ext), 1), "text field");
    FUZZ_ASSERT(same_text(msg.key, sizeof(msg.key), 0)
		&& same_text(msg.relay, sizeof(msg.relay), 0)
		&& same_text(msg.addr, sizeof(msg.addr), 0)
		&& same_text(msg.ext, sizeof(msg.ext), 1), "text round trip");
    FUZZ_ASSERT(msg.key[0] != 0, "empty key");
    if (full)
	FUZZ_ASSERT(msg.relay[0] && msg.addr[0] && msg.use >= 1
		    && msg.use <= CACHE_USE_MAX, "full message incomplete");
    else if (msg.type == CACHE_TLS_START)
	FUZZ_ASSERT(msg.relay[0] && msg.addr[0] && !msg.ext[0]
		    && msg.use == 0, "TLS request's connection fields");
    else
	FUZZ_ASSERT(!msg.relay[0] && !msg.addr[0] && !msg.ext[0]
		    && msg.use == 0, "short message with more");
    check_session(&msg);
    check_tls(&msg);
    return (0);
}
