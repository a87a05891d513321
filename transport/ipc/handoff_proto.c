/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	handoff_proto 3
 * SUMMARY
 *	the records between a thin rrelay and a delivery worker
 * SYNOPSIS
 *	#include "ipc/handoff_proto.h"
 *
 *	ssize_t	handoff_pack(buf, size, type, status, text)
 *
 *	ssize_t	handoff_pack_request(buf, size, argc, argv, envp,
 *				elapsed_ms, left_ms)
 *
 *	int	handoff_parse(buf, len, msg, why, whylen)
 * DESCRIPTION
 *	A delivery handed over (handoff_client.c, worker.c) is four
 *	records on one SOCK_SEQPACKET connection: REQUEST (rrelay's
 *	command line, with its standard input as SCM_RIGHTS), ACCEPT or
 *	REFUSE, GO, RESULT. Each is a struct handoff_head and len bytes:
 *	for REQUEST, argc strings and then envc NAME=VALUE strings (the
 *	environment that pipe(8) gives rrelay and that the delivery uses,
 *	such as MAIL_CONFIG for sendmail), each with its NUL; for REFUSE
 *	and RESULT, one text with its NUL; for the others, nothing.
 *
 *	handoff_pack() writes a record other than REQUEST (text may be
 *	null); handoff_pack_request() writes a REQUEST (envp is
 *	null-terminated, at most HANDOFF_ENV_MAX). Both return its
 *	length, or -1 when it does not fit size or the limits.
 *
 *	handoff_parse() checks a received record strictly: magic and
 *	version, a known type, len equal to what follows the head, the
 *	exact number of strings (each NAME=VALUE with a name), a RESULT
 *	status of 0, 69 or 75, times within bounds. It fills msg (whose pointers point into
 *	buf) and returns 0, or -1 with the reason.
 *--*/

#include <stdio.h>
#include <string.h>
#include <sys/types.h>

#include "ipc/handoff_proto.h"

#define BAD(text) do { snprintf(why, whylen, "%s", text); return (-1); } while (0)

/* head_init - a head of type for len bytes that follow */

static void head_init(struct handoff_head *head, enum handoff_type type,
		              size_t len)
{
    memset(head, 0, sizeof(*head));
    head->magic = HANDOFF_MAGIC;
    head->version = HANDOFF_VERSION;
    head->type = (uint16_t) type;
    head->len = (uint32_t) len;
}

/* handoff_pack - ACCEPT, REFUSE, GO or RESULT */

ssize_t handoff_pack(void *buf, size_t size, enum handoff_type type,
		             unsigned status, const char *text)
{
    struct handoff_head head;
    size_t  len = text ? strlen(text) + 1 : 0;

    if (type == HANDOFF_REQUEST || len > HANDOFF_TEXT_MAX
	|| sizeof(head) + len > size)
	return (-1);
    head_init(&head, type, len);
    head.status = status;
    memcpy(buf, &head, sizeof(head));
    if (len)
	memcpy((char *) buf + sizeof(head), text, len);
    return ((ssize_t) (sizeof(head) + len));
}

/* handoff_pack_request - the command line and the clock */

/* put_strings - count strings after len bytes of the body; -1 if too long */

static int put_strings(void *buf, size_t size, size_t *len, int count,
		               char *const *strings)
{
    size_t  n;
    int     i;

    for (i = 0; i < count; i++) {
	n = strlen(strings[i]) + 1;
	if (*len + n > HANDOFF_ARGS_MAX
	    || sizeof(struct handoff_head) + *len + n > size)
	    return (-1);
	memcpy((char *) buf + sizeof(struct handoff_head) + *len, strings[i], n);
	*len += n;
    }
    return (0);
}

ssize_t handoff_pack_request(void *buf, size_t size, int argc,
			             char *const *argv, char *const *envp,
			             long long elapsed_ms, long long left_ms)
{
    struct handoff_head head;
    size_t  len = 0;
    int     envc = 0;

    while (envp[envc])
	envc++;
    if (argc < 1 || argc > HANDOFF_ARGC_MAX || envc > HANDOFF_ENV_MAX
	|| elapsed_ms < 0 || elapsed_ms > HANDOFF_MS_MAX || left_ms < 0
	|| left_ms > HANDOFF_MS_MAX
	|| put_strings(buf, size, &len, argc, argv) < 0
	|| put_strings(buf, size, &len, envc, envp) < 0)
	return (-1);
    head_init(&head, HANDOFF_REQUEST, len);
    head.argc = (uint32_t) argc;
    head.envc = (uint32_t) envc;
    head.elapsed_ms = elapsed_ms;
    head.left_ms = left_ms;
    memcpy(buf, &head, sizeof(head));
    return ((ssize_t) (sizeof(head) + len));
}

/* split - count NUL-terminated strings from *off; null-terminated in out */

static int split(char *body, size_t len, size_t *off, uint32_t count,
		         char **out)
{
    char   *nul;
    uint32_t i;

    for (i = 0; i < count; i++) {
	if (*off >= len || (nul = memchr(body + *off, 0, len - *off)) == 0)
	    return (-1);
	out[i] = body + *off;
	*off = (size_t) (nul - body) + 1;
    }
    out[i] = 0;
    return (0);
}

/* split_args - argc strings, then envc NAME=VALUE, exactly filling len bytes */

static int split_args(char *body, size_t len, struct handoff_msg *msg)
{
    size_t  off = 0;
    uint32_t i;

    if (split(body, len, &off, msg->head.argc, msg->argv) < 0
	|| split(body, len, &off, msg->head.envc, msg->envp) < 0)
	return (-1);
    for (i = 0; i < msg->head.envc; i++)
	if (strchr(msg->envp[i], '=') == 0 || msg->envp[i][0] == '=')
	    return (-1);
    return (off == len ? 0 : -1);
}

/* handoff_parse - one record, checked */

int     handoff_parse(void *buf, size_t len, struct handoff_msg *msg,
		              char *why, size_t whylen)
{
    struct handoff_head *h = &msg->head;
    char   *body = (char *) buf + sizeof(*h);
    int     texty;

    if (whylen > 0)
	why[0] = 0;				/* written on every path */

    msg->text = "";
    msg->argv[0] = 0;
    msg->envp[0] = 0;
    if (len < sizeof(*h))
	BAD("record shorter than its head");
    memcpy(h, buf, sizeof(*h));
    if (h->magic != HANDOFF_MAGIC || h->version != HANDOFF_VERSION)
	BAD("not a hand-over record of this version");
    if (h->type < HANDOFF_REQUEST || h->type > HANDOFF_RESULT)
	BAD("unknown record type");
    if (h->len != len - sizeof(*h) || h->len > HANDOFF_ARGS_MAX)
	BAD("record length does not match its head");
    texty = h->type == HANDOFF_REFUSE || h->type == HANDOFF_RESULT;
    if (h->type == HANDOFF_REQUEST) {
	if (h->argc < 1 || h->argc > HANDOFF_ARGC_MAX
	    || h->envc > HANDOFF_ENV_MAX || h->elapsed_ms < 0 || h->elapsed_ms > HANDOFF_MS_MAX
	    || h->left_ms < 0 || h->left_ms > HANDOFF_MS_MAX
	    || split_args(body, h->len, msg) < 0)
	    BAD("bad request: argument count, strings or times");
    } else if (h->argc || h->envc || h->elapsed_ms || h->left_ms) {
	BAD("request fields in a record that is not a request");
    } else if (texty ? (h->len < 1 || h->len > HANDOFF_TEXT_MAX
			|| memchr(body, 0, h->len) != body + h->len - 1)
	       : h->len != 0) {
	BAD("bad text in record");
    }
    if (h->type == HANDOFF_RESULT ? h->status != 0 && h->status != 69
	&& h->status != 75 : h->status != 0)
	BAD("bad exit status in record");
    if (texty)
	msg->text = body;
    return (0);
}
