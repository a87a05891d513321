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
 * padding, and no session fields in any other type. What it accepts,
 * it copies unchanged, and cache_msg_text() rebuilds each of its text
 * fields byte for byte.
 */

#include "fuzz.h"
#include "cache_proto.h"

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
    FUZZ_ASSERT(msg.type >= CACHE_TAKE && msg.type <= CACHE_SESS_HIT, "type");
    FUZZ_ASSERT(msg.spare == 0, "spare");
    full = msg.type == CACHE_PUT || msg.type == CACHE_HIT;
    FUZZ_ASSERT(nfd == full, "type %d with %d descriptors", msg.type, nfd);
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
    else
	FUZZ_ASSERT(!msg.relay[0] && !msg.addr[0] && !msg.ext[0]
		    && msg.use == 0, "short message with more");
    check_session(&msg);
    return (0);
}
