/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	null_milter - a libmilter filter that takes rrelay-milter's steps
 *	and does no work
 * SYNOPSIS
 *	null_milter SOCKET LOGFILE
 * DESCRIPTION
 *	The floor of a libmilter filter for bench/run, as drain is the
 *	floor of a pipe(8) transport. It registers the same callbacks and
 *	negotiates the same protocol steps as rrelay-milter (the CB_
 *	macros of filter/callbacks.h, which it includes): connect, HELO and each header field without
 *	a reply, a reply at MAIL FROM and at the end of the message, and
 *	no RCPT, DATA, end-of-header or body steps. At the end of each
 *	message it adds two header fields of the usual size at the top
 *	and appends one line to LOGFILE, as rrelay-milter does. It looks
 *	nothing up and decides nothing.
 *
 *	So a message through it costs what libmilter and the MTA's side
 *	of the milter protocol cost; what rrelay-milter costs beyond that
 *	is its own work (the SPF checks, DNS, the policy, the headers'
 *	text).
 *
 *	SOCKET is a libmilter connection spec (unix:/path). The program
 *	runs in the foreground until it gets SIGTERM.
 * EXIT STATUS
 *	0 after a clean stop; 1 on a usage or start-up error.
 */

#define _POSIX_C_SOURCE 200809L

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <libmilter/mfapi.h>

#include "callbacks.h"			/* rrelay-milter's CB_ steps */

static int nm_log_fd = -1;

/* nm_connect - a new client: nothing to remember (no reply) */

static sfsistat nm_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *addr)
{
    (void) ctx;
    (void) host;
    (void) addr;
    return (SMFIS_NOREPLY);
}

/* nm_helo - HELO or EHLO (no reply) */

static sfsistat nm_helo(SMFICTX *ctx, char *helo)
{
    (void) ctx;
    (void) helo;
    return (SMFIS_NOREPLY);
}

/* nm_envfrom - MAIL FROM: answer "continue" */

static sfsistat nm_envfrom(SMFICTX *ctx, char **argv)
{
    (void) ctx;
    (void) argv;
    return (SMFIS_CONTINUE);
}

/* nm_header - one header field (no reply) */

static sfsistat nm_header(SMFICTX *ctx, char *name, char *value)
{
    (void) ctx;
    (void) name;
    (void) value;
    return (SMFIS_NOREPLY);
}

/* nm_eom - add two fields at the top and log one line */

static sfsistat nm_eom(SMFICTX *ctx)
{
    const char *qid = smfi_getsymval(ctx, "i");
    char    line[256];
    int     len;

    if (smfi_insheader(ctx, 0, "Received-SPF", "none (null_milter: no "
		       "check) client-ip=192.0.2.1; envelope-from=\"joe@"
		       "pass.test\"; helo=mx.pass.test; receiver=bench; "
		       "identity=mailfrom;") != MI_SUCCESS
	|| smfi_insheader(ctx, 0, "Authentication-Results", "bench; "
			  "spf=none smtp.mailfrom=joe@pass.test")
	!= MI_SUCCESS)
	return (SMFIS_TEMPFAIL);
    len = snprintf(line, sizeof(line), "null_milter: %s: spf=none\n",
		   qid && *qid ? qid : "NOQUEUE");
    if (write(nm_log_fd, line, (size_t) len) != len)
	return (SMFIS_TEMPFAIL);
    return (SMFIS_CONTINUE);
}

/* nm_negotiate - rrelay-milter's actions and steps */

static sfsistat nm_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
			             unsigned long f2, unsigned long f3,
			             unsigned long *pf0, unsigned long *pf1,
			             unsigned long *pf2, unsigned long *pf3)
{
    (void) ctx;
    (void) f2;
    (void) f3;
    if ((f0 & CB_ACTIONS) != CB_ACTIONS || (f1 & CB_NR_STEPS) != CB_NR_STEPS)
	return (SMFIS_REJECT);
    *pf0 = CB_ACTIONS;
    *pf1 = (f1 & CB_NO_STEPS) | CB_NR_STEPS;
    *pf2 = 0;
    *pf3 = 0;
    return (SMFIS_CONTINUE);
}

static struct smfiDesc nm_desc = {
    "null_milter",
    SMFI_VERSION,
    CB_ACTIONS,
    nm_connect,
    nm_helo,
    nm_envfrom,
    0,					/* envrcpt */
    nm_header,
    0,					/* eoh */
    0,					/* body */
    nm_eom,
    0,					/* abort */
    0,					/* close */
    0,					/* unknown */
    0,					/* data */
    nm_negotiate,
};

/* main - open the log and the socket, then serve */

int     main(int argc, char **argv)
{
    char    spec[1024];

    if (argc != 3 || strlen(argv[1]) >= sizeof(spec)) {
	fprintf(stderr, "usage: null_milter SOCKET LOGFILE\n");
	return (1);
    }
    if ((nm_log_fd = open(argv[2], O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
			  0644)) < 0) {
	perror(argv[2]);
	return (1);
    }
    strcpy(spec, argv[1]);			/* smfi_setconn wants it writable */
    if (smfi_setconn(spec) != MI_SUCCESS || smfi_register(nm_desc) != MI_SUCCESS
	|| smfi_opensocket(1) != MI_SUCCESS) {
	fprintf(stderr, "null_milter: cannot listen on %s\n", argv[1]);
	return (1);
    }
    if (write(nm_log_fd, "null_milter: started\n", 21) != 21)
	return (1);
    return (smfi_main() == MI_SUCCESS ? 0 : 1);
}
