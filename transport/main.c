/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	rrelay 8
 * SUMMARY
 *	round-robin relay transport for Postfix's pipe(8)
 * SYNOPSIS
 *	rrelay [-c FILE] [-o NAME=VALUE]... [-q QUEUE_ID] -f SENDER
 *		-n DESTINATIONS -- RECIPIENT...
 *
 *	rrelay status [--json] [-c FILE] [-o NAME=VALUE]...
 *
 *	rrelay check-destinations DESTINATIONS
 * DESCRIPTION
 *	Postfix's pipe(8) runs rrelay once per message, with the message
 *	on standard input (LF line endings, not dot-stuffed) and the
 *	relayhost list as DESTINATIONS, which is ${nexthop} in master.cf:
 *
 *	    rrelay unix - n n - - pipe flags=q null_sender= user=rrelay
 *	      argv=/usr/local/libexec/rrelay/rrelay -q ${queue_id}
 *	      -f ${sender} -n ${nexthop} -- ${recipient}
 *
 *	rrelay spools the message to an unlinked file, picks the next
 *	live host of the list in round-robin order (one cursor per list,
 *	shared by every rrelay process through a state file), and relays
 *	the message over SMTP. A host that fails is marked down for a
 *	backoff that doubles with each consecutive failure, and the
 *	message moves on to the next live host. When every host is down,
 *	the host whose backoff ends first is probed, and the message is
 *	deferred if that fails.
 *
 *	When rrelay-cache runs delivery workers (handoff, delivery_socket),
 *	rrelay is a thin client: it hands its command line and standard
 *	input to a worker, which runs the same delivery (delivery.c), and
 *	only prints the worker's result and exits with its status. Until
 *	the worker confirms, rrelay can always deliver by itself, and does
 *	when no worker answers within a second (handoff_client.c).
 *
 *	After a delivery rrelay rewrites STATE_DIRECTORY/rrelay.prom,
 *	per-host metrics for node_exporter's textfile collector (prom.c),
 *	at once when a host changed state, else at most once a second and
 *	never more than a second behind.
 *
 *	"rrelay status" prints the state of every host list; with --json,
 *	as one JSON document for monitoring (schema in status_json.c).
 *
 *	"rrelay check-destinations" parses DESTINATIONS as a delivery
 *	would, prints each destination, and exits 0, or 2 with the reason:
 *	rrelay-setup checks a relayhost list with it before using it.
 *
 *	Options:
 *	-c FILE	the configuration file (default /etc/rrelay/rrelay.conf,
 *		which may be absent).
 *	-o NAME=VALUE	override one setting.
 *	-q QUEUE_ID	Postfix's queue id, which starts every log line.
 *	-f SENDER	the envelope sender; empty for the null sender.
 *	-n DESTINATIONS	[host], [host]:port, [ipv6:addr]:port, or
 *		domain[:port] for an MX lookup; separated by commas and/or
 *		white space.
 * EXIT STATUS
 *	0	every recipient was accepted; or recipients with different
 *		results were split, the accepted ones delivered and each
 *		other class handed back to Postfix with sendmail(1).
 *	69	every recipient was rejected permanently (5xx or bad
 *		address syntax). The output starts with "5.X.Y".
 *	75	a temporary failure, or trouble of rrelay's own (bad
 *		configuration or destinations, unusable state directory, no
 *		recipients, deadline). The output starts with "4.X.Y".
 *
 *	pipe(8) bounces on any other status and on its own time limit, so
 *	rrelay never exits otherwise, and stops itself at "deadline".
 * FILES
 *	/etc/rrelay/rrelay.conf, the configuration.
 *	/var/lib/rrelay/rrelay-HASH.state, the shared state per host list.
 * SEE ALSO
 *	pipe(8), sendmail(1), README.md
 *--*/

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "delivery.h"
#include "conf/hostlist.h"
#include "ipc/handoff_client.h"
#include "net/netio.h"
#include "msg/outcome.h"
#include "conf/rrconfig.h"
#include "state/status.h"

#define BACKSTOP	5		/* seconds past deadline: hard stop */

/* finish - print the status line pipe(8) reads, release logs, exit */

static void finish(const struct outcome *outcome)
{
    /* No newline: pipe(8) would show it as a stray space (log_release). */
    if (outcome->text[0])
	printf("%s", outcome->text);
    fflush(stdout);
    log_release();
    exit(outcome->status);
}

/* backstop - the soft deadline failed to stop us; defer before pipe(8) bounces */

static void backstop(int sig)
{
    static const char text[] = "4.4.7 rrelay: hard deadline reached\n";

    (void) sig;
    if (write(1, text, sizeof(text) - 1) < 0) {
	/* nobody left to tell: defer all the same */
    }
    _exit(75);
}

/* deliver - one message: by a worker of the daemon, or here */

static void deliver(int argc, char **argv, long long start_ms)
{
    struct delivery d;
    struct outcome outcome;
    long long deadline_ms;

    if (delivery_setup(&d, argc, argv, &outcome) < 0)
	finish(&outcome);
    signal(SIGALRM, backstop);
    alarm((unsigned) (d.conf.deadline + BACKSTOP));
    deadline_ms = start_ms + d.conf.deadline * 1000LL;
    if (handoff_deliver(&d.conf, d.queue_id, argc, argv, start_ms,
			deadline_ms, &outcome) == HANDOFF_SELF)
	delivery_run(&d, 0, start_ms, deadline_ms, &outcome);
    finish(&outcome);
}

/* take_flag - remove every argv[i] equal to flag; whether there was one */

static int take_flag(int *argc, char **argv, const char *flag)
{
    int     found = 0;
    int     i;
    int     j;

    for (i = j = 1; i < *argc; i++) {
	if (strcmp(argv[i], flag) == 0)
	    found = 1;
	else
	    argv[j++] = argv[i];
    }
    argv[j] = 0;
    *argc = j;
    return (found);
}

/* run_status - "rrelay status [--json]" */

static int run_status(int argc, char **argv)
{
    struct delivery args;
    struct rrconfig conf;
    char    err[1024];
    int     json = take_flag(&argc, argv, "--json");
    int     status;

    if (delivery_args(argc, argv, &args, err, sizeof(err)) < 0
	|| args.nrcpt > 0 || args.sender || args.destinations) {
	fprintf(stderr, "usage: rrelay status [--json] [-c FILE] "
		"[-o NAME=VALUE]...\n");
	return (2);
    }
    if (rrconfig_load(&conf, args.config, args.config_given, args.overrides,
		      args.n_overrides, err, sizeof(err)) < 0) {
	fprintf(stderr, "rrelay status: configuration error: %s\n", err);
	return (1);
    }
    if (json)
	status = status_print_json(conf.state_directory, stdout,
				   (long long) time(0)) < 0 ? 1 : 0;
    else
	status = status_print(conf.state_directory, stdout) < 0 ? 1 : 0;
    rrconfig_free(&conf);
    return (status);
}

/* run_check - "rrelay check-destinations LIST": parse it as a delivery would */

static int run_check(int argc, char **argv)
{
    struct hostlist list;
    char    err[1024];
    int     i;

    if (argc != 2) {
	fprintf(stderr, "usage: rrelay check-destinations DESTINATIONS\n");
	return (2);
    }
    if (hostlist_parse(argv[1], &list, err, sizeof(err)) < 0) {
	fprintf(stderr, "rrelay: bad destinations: %s\n", err);
	return (2);
    }
    for (i = 0; i < list.count; i++)
	printf("%s\n", list.dests[i].text);
    return (0);
}

/* main - one message, or an administrative command */

int     main(int argc, char **argv)
{
    long long start_ms = netio_now_ms();

    /* The package's set-gid postdrop, for log = postfix: until log_open(). */
    log_privs_hold();
    if (argc > 1 && strcmp(argv[1], "status") == 0) {
	if (log_privs_drop() < 0) {
	    fprintf(stderr, "rrelay status: cannot drop set-gid group\n");
	    return (1);
	}
	return (run_status(argc - 1, argv + 1));
    }
    if (argc > 1 && strcmp(argv[1], "check-destinations") == 0)
	return (log_privs_drop() < 0 ? 1 : run_check(argc - 1, argv + 1));
    signal(SIGPIPE, SIG_IGN);
    log_hold(1);
    deliver(argc, argv, start_ms);
    return (EXIT_DEFER);
}
