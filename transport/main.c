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

#include "config.h"
#include "log.h"
#include "msg/address.h"
#include "handback.h"
#include "state/prom.h"
#include "conf/hostlist.h"
#include "net/netio.h"
#include "msg/outcome.h"
#include "relay.h"
#include "conf/rrconfig.h"
#include "state/rrstate.h"
#include "msg/spool.h"
#include "state/status.h"

#define OVERRIDES_MAX	64
#define BACKSTOP	5		/* seconds past deadline: hard stop */

struct args {
    const char *config;
    int     config_given;
    char   *overrides[OVERRIDES_MAX];
    int     n_overrides;
    const char *queue_id;
    const char *sender;
    const char *destinations;
    char  **rcpts;
    int     nrcpt;
};

static const char usage_text[] =
"usage: rrelay [-c FILE] [-o NAME=VALUE]... [-q QUEUE_ID] -f SENDER "
"-n DESTINATIONS -- RECIPIENT...";

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

/* defer_now - trouble of our own: defer with a 4.X.Y text */

static void defer_now(const char *queue_id, const char *dsn, const char *why)
{
    struct outcome outcome;

    outcome_defer(&outcome, dsn, "%s", why);
    log_error("%s: %s", queue_id, outcome.text);
    finish(&outcome);
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

/* parse_args - the delivery command line */

static int parse_args(int argc, char **argv, struct args *args, char *err,
		              size_t errlen)
{
    int     ch;

    if (errlen > 0)
	err[0] = 0;				/* written on every path */

    memset(args, 0, sizeof(*args));
    args->config = RRELAY_CONFIG;
    args->queue_id = "NOQUEUE";
    opterr = 0;
    while ((ch = getopt(argc, argv, "+c:o:q:f:n:")) != -1) {
	switch (ch) {
	case 'c':
	    args->config = optarg;
	    args->config_given = 1;
	    break;
	case 'o':
	    if (args->n_overrides >= OVERRIDES_MAX) {
		snprintf(err, errlen, "too many -o options");
		return (-1);
	    }
	    args->overrides[args->n_overrides++] = optarg;
	    break;
	case 'q':
	    args->queue_id = optarg;
	    break;
	case 'f':
	    args->sender = optarg;
	    break;
	case 'n':
	    args->destinations = optarg;
	    break;
	default:
	    snprintf(err, errlen, "bad option -%c; %s", optopt, usage_text);
	    return (-1);
	}
    }
    args->rcpts = argv + optind;
    args->nrcpt = argc - optind;
    return (0);
}

/* load_config - settings and the log target */

static int load_config(const struct args *args, struct rrconfig *conf,
		               char *err, size_t errlen)
{
    char    why[CF_ERR_MAX];

    if (errlen > 0)
	err[0] = 0;				/* written on every path */

    if (rrconfig_load(conf, args->config, args->config_given,
		      args->overrides, args->n_overrides, why,
		      sizeof(why)) < 0) {
	snprintf(err, errlen, "configuration error: %s", why);
	return (-1);
    }
    if (log_open("rrelay", conf->log, why, sizeof(why)) < 0) {
	snprintf(err, errlen, "configuration error: %s", why);
	return (-1);
    }
    return (0);
}

/* check_addresses - bad syntax is permanent (RFC 3463: 5.1.7 sender, 5.1.3 recipient) */

static void check_addresses(const struct args *args, struct rcpt *rcpts)
{
    const char *why;
    const char *sender_why = address_check(args->sender, 1);
    const char *dsn = sender_why ? "5.1.7" : "5.1.3";
    int     i;

    for (i = 0; i < args->nrcpt; i++) {
	rcpts[i].addr = args->rcpts[i];
	why = sender_why ? sender_why : address_check(rcpts[i].addr, 0);
	if (why == 0)
	    continue;
	rcpt_set(&rcpts[i], RCPT_PERM, dsn, "bad %s address syntax: %s",
		 sender_why ? "sender" : "recipient", why);
	log_info("%s: to=<%s>, relay=none, delay=0, dsn=%s, "
		 "status=bounced (%s)", args->queue_id, rcpts[i].addr, dsn,
		 rcpts[i].reason);
    }
}

/* deliver - relay to the hosts, then hand back what must go back */

static void deliver(const struct args *args, const struct rrconfig *conf,
		            long long start_ms)
{
    struct hostlist list;
    struct rrstate state;
    struct spool spool;
    struct smtp_request req;
    struct relay relay;
    struct capacity cap;
    struct outcome outcome;
    struct rcpt *rcpts;
    char    why[1024];

    if (hostlist_parse(args->destinations, &list, why, sizeof(why)) < 0)
	defer_now(args->queue_id, "4.3.5", why);
    if (spool_read(&spool, 0, conf->state_directory, why, sizeof(why)) < 0)
	defer_now(args->queue_id, spool.full ? "4.3.1" : "4.3.0", why);
    if ((rcpts = calloc((size_t) args->nrcpt, sizeof(*rcpts))) == 0)
	defer_now(args->queue_id, "4.3.0", "out of memory");
    check_addresses(args, rcpts);
    memset(&req, 0, sizeof(req));
    req.conf = conf;
    req.queue_id = args->queue_id;
    req.sender = args->sender;
    req.rcpts = rcpts;
    req.nrcpt = args->nrcpt;
    req.spool = &spool;
    req.start_ms = start_ms;
    req.deadline_ms = start_ms + conf->deadline * 1000LL;
    memset(&relay, 0, sizeof(relay));
    relay.list = &list;
    relay.state = &state;
    relay.req = &req;
    rrstate_open(&state, conf->state_directory, &list);
    rrstate_limit(&state, conf->max_backoff);
    if (conf->host_policy) {
	capacity_init(&cap, conf, &list);
	relay.cap = &cap;
    }
    relay_message(&relay);
    if (relay.cap)
	capacity_close(relay.cap);
    rrstate_close(&state);
    if (prom_flush(conf->state_directory, relay.changed, why, sizeof(why)) < 0)
	log_warn("%s: metrics file not written: %s", args->queue_id, why);
    outcome_decide(rcpts, args->nrcpt, &outcome);
    if ((outcome.handback_perm
	 && handback(conf, args->queue_id, &spool, args->sender, rcpts,
		     args->nrcpt, RCPT_PERM, why, sizeof(why)) < 0)
	|| (outcome.handback_temp
	    && handback(conf, args->queue_id, &spool, args->sender, rcpts,
			args->nrcpt, RCPT_TEMP, why, sizeof(why)) < 0))
	outcome_defer(&outcome, "4.3.0", "could not hand recipients back to "
		      "Postfix: %s", why);
    else if (outcome.status == EXIT_SENT && relay.delivered_via[0])
	snprintf(outcome.text, sizeof(outcome.text), "delivered via %s",
		 relay.delivered_via);
    log_info("%s: result=%s, exit=%d (%s)", args->queue_id,
	     outcome.status == EXIT_SENT ? "sent" :
	     outcome.status == EXIT_BOUNCE ? "bounced" : "deferred",
	     outcome.status, outcome.text[0] ? outcome.text : "-");
    spool_close(&spool);
    free(rcpts);
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
    struct args args;
    struct rrconfig conf;
    char    err[1024];
    int     json = take_flag(&argc, argv, "--json");
    int     status;

    if (parse_args(argc, argv, &args, err, sizeof(err)) < 0
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
    struct args args;
    struct rrconfig conf;
    char    err[1024];
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
    if (parse_args(argc, argv, &args, err, sizeof(err)) < 0)
	defer_now(args.queue_id, "4.3.5", err);
    if (load_config(&args, &conf, err, sizeof(err)) < 0)
	defer_now(args.queue_id, "4.3.5", err);
    signal(SIGALRM, backstop);
    alarm((unsigned) (conf.deadline + BACKSTOP));
    if (args.sender == 0)
	defer_now(args.queue_id, "4.3.5", "no -f SENDER given (use -f '' "
		  "for the null sender)");
    if (args.destinations == 0)
	defer_now(args.queue_id, "4.3.5", "no -n DESTINATIONS given");
    if (args.nrcpt == 0)
	defer_now(args.queue_id, "4.3.0", "no recipients given");
    deliver(&args, &conf, start_ms);
    return (EXIT_DEFER);
}
