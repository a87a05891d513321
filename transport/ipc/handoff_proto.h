/* SPDX-License-Identifier: MIT */
#ifndef RR_HANDOFF_PROTO_H
#define RR_HANDOFF_PROTO_H

/* handoff_proto.h - the records between a thin rrelay and a delivery worker */

#include <stddef.h>
#include <stdint.h>

#define HANDOFF_MAGIC	0x52524831u	/* "RRH1" */
#define HANDOFF_VERSION	1
#define HANDOFF_ARGC_MAX	4096	/* rrelay's whole command line */
#define HANDOFF_ARGS_MAX	(128 * 1024)	/* its bytes, NULs included */
#define HANDOFF_TEXT_MAX	1024	/* a result's text, NUL included */
#define HANDOFF_MS_MAX	(8LL * 86400 * 1000)	/* elapsed, left */
#define HANDOFF_ENV_MAX	8		/* environment entries passed */
#define HANDOFF_ENV_NAMES	{"MAIL_CONFIG", "TZ", "LANG"}	/* pipe(8)'s export_environment */

enum handoff_type {
    HANDOFF_REQUEST = 1,		/* rrelay: deliver this (+ stdin) */
    HANDOFF_ACCEPT,			/* worker: I will, on GO */
    HANDOFF_REFUSE,			/* worker: deliver it yourself (text) */
    HANDOFF_GO,				/* rrelay: go on; I wait for RESULT */
    HANDOFF_RESULT,			/* worker: exit status and text */
};

/* Every record starts with this, in host byte order (one host). */
struct handoff_head {
    uint32_t magic;
    uint16_t version;
    uint16_t type;			/* enum handoff_type */
    uint32_t status;			/* RESULT: 0, 69 or 75 */
    uint32_t argc;			/* REQUEST: strings that follow */
    int64_t elapsed_ms;			/* REQUEST: since rrelay started */
    int64_t left_ms;			/* REQUEST: until its deadline */
    uint32_t len;			/* bytes after the head */
    uint32_t envc;			/* REQUEST: NAME=VALUE after argv */
};

/* A parsed record; argv and text point into the caller's buffer. */
struct handoff_msg {
    struct handoff_head head;
    char   *argv[HANDOFF_ARGC_MAX + 1];	/* REQUEST, null-terminated */
    char   *envp[HANDOFF_ENV_MAX + 1];	/* REQUEST, null-terminated */
    const char *text;			/* REFUSE, RESULT; "" otherwise */
};

#define HANDOFF_RECORD_MAX	(sizeof(struct handoff_head) + HANDOFF_ARGS_MAX)

extern ssize_t handoff_pack(void *buf, size_t size, enum handoff_type type,
			            unsigned status, const char *text);
extern ssize_t handoff_pack_request(void *buf, size_t size, int argc,
				            char *const *argv, char *const *envp,
				            long long elapsed_ms, long long left_ms);
extern int handoff_parse(void *buf, size_t len, struct handoff_msg *msg,
			         char *why, size_t whylen);

#endif
