/* SPDX-License-Identifier: MIT */
/*
 * fuzz_handoff - fuzz harness for transport/ipc/handoff_proto.c
 *
 * Input: a record as a delivery worker or a thin rrelay receives it.
 *
 * Properties: handoff_parse() accepts only a record with the magic and
 * version, a known type and a length that matches its head; a REQUEST
 * with 1 to HANDOFF_ARGC_MAX strings and at most HANDOFF_ENV_MAX
 * NAME=VALUE strings that fill it exactly, and times in range; a REFUSE
 * or RESULT with one terminated text, a RESULT status of 0, 69 or 75;
 * no request field in any other type. What it accepts, the packing
 * functions rebuild byte for byte.
 */

#include "fuzz.h"
#include "ipc/handoff_proto.h"

static char copy[HANDOFF_RECORD_MAX];
static char again[HANDOFF_RECORD_MAX];
static struct handoff_msg msg;

/* repack - the packing functions give back the same record */

static ssize_t repack(void)
{
    const struct handoff_head *h = &msg.head;

    if (h->type == HANDOFF_REQUEST)
	return (handoff_pack_request(again, sizeof(again), (int) h->argc,
				     msg.argv, msg.envp, h->elapsed_ms,
				     h->left_ms));
    return (handoff_pack(again, sizeof(again), (enum handoff_type) h->type,
			 h->status, h->len ? msg.text : 0));
}

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char    why[200];
    uint32_t i;
    ssize_t len;

    if (size > sizeof(copy))
	return (0);
    memcpy(copy, data, size);
    if (handoff_parse(copy, size, &msg, why, sizeof(why)) < 0) {
	FUZZ_ASSERT(strnlen(why, sizeof(why)) > 0, "refused without a reason");
	return (0);
    }
    FUZZ_ASSERT(msg.head.magic == HANDOFF_MAGIC, "magic");
    FUZZ_ASSERT(msg.head.len == size - sizeof(msg.head), "length");
    if (msg.head.type == HANDOFF_REQUEST) {
	FUZZ_ASSERT(msg.head.argc >= 1 && msg.head.argc <= HANDOFF_ARGC_MAX,
		    "argc");
	FUZZ_ASSERT(msg.argv[msg.head.argc] == 0, "argv end");
	FUZZ_ASSERT(msg.head.envc <= HANDOFF_ENV_MAX, "envc");
	for (i = 0; i < msg.head.envc; i++)
	    FUZZ_ASSERT(strchr(msg.envp[i], '=') > msg.envp[i], "NAME=VALUE");
    } else {
	FUZZ_ASSERT(msg.head.argc == 0 && msg.head.envc == 0, "request fields");
    }
    if (msg.head.type == HANDOFF_RESULT)
	FUZZ_ASSERT(msg.head.status == 0 || msg.head.status == 69
		    || msg.head.status == 75, "status");
    len = repack();
    FUZZ_ASSERT(len == (ssize_t) size, "repacked to %zd bytes, not %zu",
		len, size);
    FUZZ_ASSERT(memcmp(again, data, size) == 0, "repacked differently");
    return (0);
}
