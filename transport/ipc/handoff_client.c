/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	handoff_client 3
 * SUMMARY
 *	a thin rrelay: hand the whole delivery to a worker
 * SYNOPSIS
 *	#include "ipc/handoff_client.h"
 *
 *	int	handoff_deliver(conf, queue_id, argc, argv, start_ms,
 *				deadline_ms, out)
 * DESCRIPTION
 *	When rrelay-cache runs delivery workers (worker.c), rrelay needs
 *	to do no more than pass its command line and its standard input
 *	to one of them, and wait for the result. handoff_deliver() tries
 *	that, on delivery_socket, when "handoff" is on:
 *
 *	REQUEST (argv, MAIL_CONFIG, TZ and LANG from the environment,
 *	the time since start_ms and the time left before deadline_ms,
 *	standard input as SCM_RIGHTS); the worker answers
 *	ACCEPT or REFUSE within HANDOFF_WAIT_MS; rrelay sends GO; the
 *	worker delivers and sends RESULT. A worker reads nothing of the
 *	message before GO, and starts nothing without it: so up to GO,
 *	rrelay can always deliver the message itself, and after GO, only
 *	the worker delivers it.
 *
 *	HANDOFF_SELF: deliver it here, as without a daemon. That is the
 *	answer when "handoff" is off, the socket is absent or refuses the
 *	connection (no daemon, or every worker busy with a full backlog),
 *	the daemon is not trusted (ipc_trusted(): of our uid or root, in a
 *	directory no one else may write to), the request does not fit,
 *	or the worker refuses, closes or does not answer in time.
 *
 *	HANDOFF_DONE: out holds the worker's result. If the connection
 *	breaks after GO (the worker or the daemon died), out is a
 *	deferral: Postfix tries again later, and the message can only
 *	have been sent twice if the worker had sent the final dot.
 *--*/

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "ipc/cache_sock.h"
#include "ipc/handoff_client.h"
#include "ipc/handoff_proto.h"
#include "net/netio.h"

#define HANDOFF_WAIT_MS	1000		/* for ACCEPT or REFUSE */

/* connect_worker - a trusted connection to delivery_socket, or -1 */

static int connect_worker(const struct rrconfig *conf, const char *queue_id)
{
    struct sockaddr_un sun;
    char    why[400];
    int     sock;

    if (!conf->handoff || conf->delivery_socket[0] == 0
	|| strlen(conf->delivery_socket) >= sizeof(sun.sun_path))
	return (-1);
    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    memcpy(sun.sun_path, conf->delivery_socket,
	   strlen(conf->delivery_socket));
    if ((sock = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC
		       | SOCK_NONBLOCK, 0)) < 0)
	return (-1);
    if (connect(sock, (struct sockaddr *) &sun, sizeof(sun)) < 0) {
	(void) close(sock);
	return (-1);
    }
    if (!ipc_trusted(sock, conf->delivery_socket, why, sizeof(why))) {
	log_warn("%s: not handing the delivery to the daemon at %s: %s",
		 queue_id, conf->delivery_socket, why);
	(void) close(sock);
	return (-1);
    }
    return (sock);
}

/* await - one record within wait_ms (-1: no limit), parsed; 1, 0 at EOF, -1 */

static int await(int sock, int wait_ms, void *buf, size_t size,
		         struct handoff_msg *msg, char *why, size_t whylen)
{
    ssize_t n;
    int     fd;

    n = ipc_await(sock, wait_ms, buf, size, &fd, why, whylen);
    if (fd >= 0) {
	(void) close(fd);
	snprintf(why, whylen, "a descriptor came with an answer");
	return (-1);
    }
    if (n <= 0) {
	if (n == 0)
	    snprintf(why, whylen, "the connection closed");
	return (n == 0 ? 0 : -1);
    }
    return (handoff_parse(buf, (size_t) n, msg, why, whylen) < 0 ? -1 : 1);
}

/* exported - the environment pipe(8) exports that the delivery uses */

static void exported(char **envp)
{
    static const char *const names[] = HANDOFF_ENV_NAMES;
    size_t  i;
    size_t  n = 0;
    size_t  len;
    char  **ep;

    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
	len = strlen(names[i]);
	for (ep = environ; ep && *ep; ep++)
	    if (strncmp(*ep, names[i], len) == 0 && (*ep)[len] == '=') {
		envp[n++] = *ep;
		break;
	    }
    }
    envp[n] = 0;
}

/* start - REQUEST, ACCEPT, GO: whether the worker now has the delivery */

static int start(int sock, const char *queue_id, int argc, char **argv,
		         long long start_ms, long long deadline_ms, void *buf,
		         struct handoff_msg *msg)
{
    long long now = netio_now_ms();
    char   *envp[HANDOFF_ENV_MAX + 1];
    char    why[256];
    ssize_t len;

    exported(envp);
    len = handoff_pack_request(buf, HANDOFF_RECORD_MAX, argc, argv, envp,
			       now - start_ms, deadline_ms > now ?
			       deadline_ms - now : 0);
    if (len < 0 || ipc_send(sock, buf, (size_t) len, 0) < 0)
	return (0);
    if (await(sock, HANDOFF_WAIT_MS, buf, HANDOFF_RECORD_MAX, msg, why,
	      sizeof(why)) <= 0 || msg->head.type != HANDOFF_ACCEPT) {
	if (msg->head.type == HANDOFF_REFUSE && why[0] == 0)
	    snprintf(why, sizeof(why), "refused: %s", msg->text);
	log_info("%s: delivering here, not through the daemon's worker (%s)",
		 queue_id, why[0] ? why : "unexpected answer");
	return (0);
    }
    len = handoff_pack(buf, HANDOFF_RECORD_MAX, HANDOFF_GO, 0, 0);
    return (ipc_send(sock, buf, (size_t) len, -1) == 0);
}

/* handoff_deliver - the worker delivers, or HANDOFF_SELF */

int     handoff_deliver(const struct rrconfig *conf, const char *queue_id,
		                int argc, char **argv, long long start_ms,
		                long long deadline_ms, struct outcome *out)
{
    struct handoff_msg *msg = 0;
    char   *buf = 0;
    char    why[256];
    int     sock = connect_worker(conf, queue_id);
    int     status = HANDOFF_SELF;

    memset(out, 0, sizeof(*out));
    if (sock < 0 || (buf = malloc(HANDOFF_RECORD_MAX)) == 0
	|| (msg = calloc(1, sizeof(*msg))) == 0
	|| !start(sock, queue_id, argc, argv, start_ms, deadline_ms, buf,
		  msg))
	goto done;
    status = HANDOFF_DONE;
    msg->head.type = 0;
    if (await(sock, -1, buf, HANDOFF_RECORD_MAX, msg, why, sizeof(why)) > 0
	&& msg->head.type == HANDOFF_RESULT) {
	out->status = (int) msg->head.status;
	snprintf(out->text, sizeof(out->text), "%s", msg->text);
	goto done;
    }
    outcome_defer(out, "4.3.0", "rrelay-cache's delivery worker ended "
		  "before it gave a result (%s); Postfix will try again",
		  msg->head.type && msg->head.type != HANDOFF_RESULT ?
		  "unexpected answer" : why);
    log_warn("%s: %s", queue_id, out->text);

done:
    free(msg);
    free(buf);
    if (sock >= 0)
	(void) close(sock);
    return (status);
}
