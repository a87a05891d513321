/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	handback 3
 * SUMMARY
 *	resubmit some recipients to Postfix as a new message
 * SYNOPSIS
 *	#include "handback.h"
 *
 *	int	handback(conf, queue_id, spool, sender, rcpts, nrcpt, which,
 *			why, whylen)
 * DESCRIPTION
 *	pipe(8) gives one status to every recipient of a request. When
 *	the recipients of one message end in different classes, the
 *	delivered ones are done and each other class is handed back to
 *	Postfix with its sendmail(1):
 *
 *	    sendmail -i -f SENDER -- RCPT...
 *
 *	with the spooled message, unchanged, on its standard input (the
 *	null sender as -f ''). Postfix queues it as a new message, which
 *	comes back through rrelay with fewer recipients and gets a uniform
 *	status: a temporary class is deferred, a permanent class bounced,
 *	and Postfix writes the DSN. handback() does this for the
 *	recipients in state "which" (RCPT_TEMP also takes RCPT_PENDING)
 *	and logs one line per recipient.
 *
 *	A recipient whose address fails address_check() (it came with
 *	control characters or specials, which Postfix itself does not
 *	hand over with flags=q) is not resubmitted: sendmail would read
 *	it as another address, or several. It can never be sent, so it
 *	is permanent; rrelay writes its bounce itself (dsn.c), the way
 *	Postfix would, and hands that to sendmail for the sender:
 *
 *	    sendmail -i -f '' -- SENDER
 *
 *	For the null sender no report is written (a bounce is never
 *	bounced), as Postfix does. Should one turn up in the temporary
 *	class, handback() fails, and the whole request is deferred.
 *
 *	pipe(8) runs rrelay with MAIL_CONFIG in its environment; it passes
 *	to sendmail, so the message goes back into the same Postfix
 *	instance.
 * DIAGNOSTICS
 *	Returns -1 with a reason when sendmail could not be run or did
 *	not exit 0; the caller then defers the whole request, since a
 *	duplicate is better than a loss.
 *--*/

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "msg/address.h"
#include "msg/dsn.h"
#include "handback.h"

#define OUTPUT_MAX	400		/* sendmail's complaint, for the log */

/* of_class - the recipient ended in the class (RCPT_TEMP takes pending too) */

static int of_class(const struct rcpt *r, enum rcpt_state which)
{
    return (r->state == which
	    || (which == RCPT_TEMP && r->state == RCPT_PENDING));
}

/* in_class - of the class, and sendmail reads its address as it is */

static int in_class(const struct rcpt *r, enum rcpt_state which)
{
    return (of_class(r, which) && address_check(r->addr, 0) == 0);
}

/* is_unsafe - in the class, but sendmail would read the address differently */

static int is_unsafe(const struct rcpt *r, enum rcpt_state which)
{
    return (of_class(r, which) && address_check(r->addr, 0) != 0);
}

/* build_argv - sendmail -i -f SENDER -- RCPT... */

static char **build_argv(const struct rrconfig *conf, const char *sender,
			         struct rcpt *rcpts, int nrcpt,
			         enum rcpt_state which)
{
    char  **argv;
    int     argc = 0;
    int     i;

    if ((argv = calloc((size_t) nrcpt + 6, sizeof(*argv))) == 0)
	return (0);
    argv[argc++] = conf->sendmail_path;
    argv[argc++] = (char *) "-i";
    argv[argc++] = (char *) "-f";
    argv[argc++] = (char *) sender;
    argv[argc++] = (char *) "--";
    for (i = 0; i < nrcpt; i++)
	if (in_class(&rcpts[i], which))
	    argv[argc++] = (char *) rcpts[i].addr;
    argv[argc] = 0;
    return (argv);
}

/* run_child - the child side: message on stdin, output to the pipe */

static void run_child(char **argv, int spool_fd, int out_fd)
{
    if (lseek(spool_fd, 0, SEEK_SET) < 0 || dup2(spool_fd, 0) < 0
	|| dup2(out_fd, 1) < 0 || dup2(out_fd, 2) < 0) {
	dprintf(out_fd, "set up: %s", strerror(errno));
	_exit(75);
    }
    execv(argv[0], argv);
    dprintf(2, "execute %s: %s", argv[0], strerror(errno));
    _exit(75);
}

/* collect - read the child's output and wait for it */

static int collect(pid_t pid, int fd, char *out, size_t len)
{
    size_t  used = 0;
    ssize_t n;
    char    sink[512];
    int     status;

    for (;;) {
	if (used + 1 < len)
	    n = read(fd, out + used, len - 1 - used);
	else
	    n = read(fd, sink, sizeof(sink));
	if (n < 0 && errno == EINTR)
	    continue;
	if (n <= 0)
	    break;
	if (used + 1 < len)
	    used += (size_t) n;
    }
    out[used] = 0;
    while (waitpid(pid, &status, 0) < 0)
	if (errno != EINTR)
	    return (-1);
    return (status);
}

/* run_sendmail - sendmail argv with fd on its stdin; 0 if it exited 0 */

static int run_sendmail(const struct rrconfig *conf, char **argv, int fd,
			        char *why, size_t whylen)
{
    char    output[OUTPUT_MAX];
    int     fds[2] = {-1, -1};
    pid_t   pid;
    int     status;
    int     ret = -1;

    if (whylen > 0)
	why[0] = 0;				/* written on every path */

    if (pipe2(fds, O_CLOEXEC) < 0) {
	snprintf(why, whylen, "pipe: %s", strerror(errno));
	goto out;
    }
    if ((pid = fork()) < 0) {
	snprintf(why, whylen, "fork: %s", strerror(errno));
	goto out;
    }
    if (pid == 0)
	run_child(argv, fd, fds[1]);
    (void) close(fds[1]);
    fds[1] = -1;
    status = collect(pid, fds[0], output, sizeof(output));
    if (status != 0) {
	log_sanitize(output);
	snprintf(why, whylen, "%s %s (%s)", conf->sendmail_path,
		 status < 0 ? "could not be waited for" :
		 WIFEXITED(status) ? "failed" : "was killed",
		 output[0] ? output : "no output");
	goto out;
    }
    ret = 0;
out:
    if (fds[0] >= 0)
	(void) close(fds[0]);
    if (fds[1] >= 0)
	(void) close(fds[1]);
    return (ret);
}

/* reporting_mta - this host's name, for the report */

static void reporting_mta(const struct rrconfig *conf, char *out, size_t len)
{
    if (conf->helo_name[0])
	snprintf(out, len, "%s", conf->helo_name);
    else if (gethostname(out, len - 1) < 0)
	snprintf(out, len, "localhost");
    out[len - 1] = 0;
}

/* send_report - rrelay's own bounce for the unsafe recipients */

static int send_report(const struct rrconfig *conf, const char *queue_id,
		               const char *sender, const struct rcpt **list,
		               int n, char *why, size_t whylen)
{
    struct dsn_report report = {queue_id, sender, 0, list, n, 0};
    char    mta[256];
    char   *argv[] = {conf->sendmail_path, (char *) "-i", (char *) "-f",
	(char *) "", (char *) "--", (char *) sender, 0};
    int     fd;
    int     ret = -1;

    if (whylen > 0)
	why[0] = 0;				/* written on every path */

    reporting_mta(conf, mta, sizeof(mta));
    report.mta = mta;
    report.arrival = (long long) time(0);
    if ((fd = memfd_create("rrelay-dsn", MFD_CLOEXEC)) < 0
	|| dsn_write(fd, &report) < 0) {
	snprintf(why, whylen, "write the delivery report: %s", strerror(errno));
	goto out;
    }
    ret = run_sendmail(conf, argv, fd, why, whylen);
out:
    if (fd >= 0)
	(void) close(fd);
    return (ret);
}

/* report_unsafe - bounce the unsafe recipients ourselves; -1 to defer all */

static int report_unsafe(const struct rrconfig *conf, const char *queue_id,
			         const char *sender, struct rcpt *rcpts,
			         int nrcpt, enum rcpt_state which, char *why,
			         size_t whylen)
{
    const struct rcpt **list;
    const char *what;
    int     n = 0;
    int     ret = -1;
    int     i;

    if (whylen > 0)
	why[0] = 0;				/* written on every path */

    if ((list = calloc((size_t) nrcpt + 1, sizeof(*list))) == 0) {
	snprintf(why, whylen, "out of memory");
	return (-1);
    }
    for (i = 0; i < nrcpt; i++)
	if (is_unsafe(&rcpts[i], which))
	    list[n++] = &rcpts[i];
    if (n > 0 && (which != RCPT_PERM || address_check(sender, 1) != 0)) {
	snprintf(why, whylen, "a recipient address can't be handed back "
		 "safely");
	goto out;
    }
    if (n > 0 && *sender
	&& send_report(conf, queue_id, sender, list, n, why, whylen) < 0)
	goto out;
    what = *sender ? "delivery report sent to the sender by rrelay" :
	"no delivery report: the sender is null";
    for (i = 0; i < n; i++)
	log_info("%s: to=<%s>, relay=none, dsn=%s, status=bounced (%s; the "
		 "address can't be resubmitted to Postfix; %s)", queue_id,
		 list[i]->addr, list[i]->dsn, list[i]->reason, what);
    ret = 0;
out:
    free(list);
    return (ret);
}

/* handback - resubmit one class of recipients through sendmail */

int     handback(const struct rrconfig *conf, const char *queue_id,
		         const struct spool *spool, const char *sender,
		         struct rcpt *rcpts, int nrcpt, enum rcpt_state which,
		         char *why, size_t whylen)
{
    char  **argv;
    int     ret = -1;
    int     i;

    if (whylen > 0)
	why[0] = 0;				/* written on every path */

    if ((argv = build_argv(conf, sender, rcpts, nrcpt, which)) == 0) {
	snprintf(why, whylen, "out of memory");
	return (-1);
    }
    if (argv[5] != 0 && run_sendmail(conf, argv, spool->fd, why, whylen) < 0)
	goto out;
    for (i = 0; i < nrcpt; i++)
	if (in_class(&rcpts[i], which))
	    log_info("%s: to=<%s>, relay=none, dsn=%s, status=handed-back "
		     "(resubmitted to Postfix with sendmail for a %s result "
		     "of its own: %s)", queue_id, rcpts[i].addr, rcpts[i].dsn,
		     which == RCPT_PERM ? "bounce" : "later retry",
		     rcpts[i].reason);
    ret = report_unsafe(conf, queue_id, sender, rcpts, nrcpt, which, why,
			whylen);
out:
    free(argv);
    return (ret);
}
