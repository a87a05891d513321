/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	log 3
 * SUMMARY
 *	one-line event logging
 * SYNOPSIS
 *	#include "log.h"
 *
 *	int	log_open(ident, target, err, errlen)
 *
 *	void	log_info(fmt, ...)
 *	void	log_warn(fmt, ...)
 *	void	log_error(fmt, ...)
 *	void	log_debug(fmt, ...)
 *
 *	int	log_file_fd()
 *	void	log_reconnect()
 *
 *	void	log_hold(hold)
 *	void	log_release()
 * DESCRIPTION
 *	These functions write one line per event, in the form that
 *	Postfix uses, to one of three targets: "syslog" (facility mail,
 *	with the pid), "stderr", or an absolute file path that is opened
 *	for appending. File lines start with a syslog-style time stamp,
 *	host name and ident[pid], so that the same grep works on both.
 *
 *	Each line is formatted into one buffer and written with one
 *	write(2), so concurrent processes and threads do not interleave
 *	within a line. Control characters in the text become '?'.
 *	log_debug() lines go to syslog at priority debug, and carry
 *	"debug: " in files and on stderr, so they can be filtered out.
 *
 *	log_file_fd() gives the descriptor of the file target, or -1, and
 *	log_reconnect() opens syslog's connection afresh: a process that
 *	closes every descriptor it does not need (rrelay-cache's TLS ends)
 *	keeps the first and calls the second, so that no log line can go
 *	to a descriptor that was reused for something else.
 *
 *	log_hold() makes the stderr target keep its lines in memory until
 *	log_release(). A pipe(8) transport needs this: Postfix reads the
 *	first bytes of the combined output as the delivery status.
 * DIAGNOSTICS
 *	log_open() returns -1 and a reason in err when the target is not
 *	"syslog", "stderr" or an absolute path, or the file cannot be
 *	opened. Until log_open() succeeds, lines go to stderr.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

#define HOLD_MAX	65536		/* held stderr output, at most */

enum log_target { TARGET_STDERR, TARGET_SYSLOG, TARGET_FILE };

static enum log_target log_target = TARGET_STDERR;
static const char *log_ident = "rrelay";
static int log_fd = 2;
static int log_holding;
static char log_held[HOLD_MAX];
static size_t log_held_len;

/* log_open - choose where lines go */

int     log_open(const char *ident, const char *target, char *err,
		         size_t errlen)
{
    int     fd;

    log_ident = ident;
    if (strcmp(target, "syslog") == 0) {
	openlog(ident, LOG_PID | LOG_NDELAY, LOG_MAIL);
	log_target = TARGET_SYSLOG;
	return (0);
    }
    if (strcmp(target, "stderr") == 0) {
	log_target = TARGET_STDERR;
	log_fd = 2;
	return (0);
    }
    if (target[0] != '/') {
	snprintf(err, errlen, "log target \"%s\" is not syslog, stderr or "
		 "an absolute path", target);
	return (-1);
    }
    fd = open(target, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY,
	      0640);
    if (fd < 0) {
	snprintf(err, errlen, "open log file %s: %s", target, strerror(errno));
	return (-1);
    }
    if (log_target == TARGET_FILE && log_fd > 2)
	(void) close(log_fd);
    log_target = TARGET_FILE;
    log_fd = fd;
    return (0);
}

/* log_file_fd - the file target's descriptor, or -1 */

int     log_file_fd(void)
{
    return (log_target == TARGET_FILE ? log_fd : -1);
}

/* log_reconnect - syslog: a fresh connection, after descriptors were closed */

void    log_reconnect(void)
{
    if (log_target == TARGET_SYSLOG) {
	closelog();
	openlog(log_ident, LOG_PID | LOG_NDELAY, LOG_MAIL);
    }
}

/* log_hold - keep stderr lines until log_release() */

void    log_hold(int hold)
{
    log_holding = hold;
}

/* log_release - write the held stderr lines and stop holding */

void    log_release(void)
{
    size_t  off = 0;
    ssize_t n;

    while (off < log_held_len) {
	n = write(2, log_held + off, log_held_len - off);
	if (n <= 0 && errno != EINTR)
	    break;
	if (n > 0)
	    off += (size_t) n;
    }
    log_held_len = 0;
    log_holding = 0;
}

/* log_sanitize - replace control characters so one event is one line */

void    log_sanitize(char *text)
{
    unsigned char *cp;

    for (cp = (unsigned char *) text; *cp; cp++)
	if (*cp < 0x20 || *cp == 0x7f)
	    *cp = '?';
}

/* log_write_line - write one finished line to stderr or the file */

static void log_write_line(const char *line, size_t len)
{
    ssize_t n;

    if (log_target == TARGET_STDERR && log_holding) {
	if (log_held_len + len <= sizeof(log_held)) {
	    memcpy(log_held + log_held_len, line, len);
	    log_held_len += len;
	}
	return;
    }
    do {
	n = write(log_fd, line, len);
    } while (n < 0 && errno == EINTR);
}

/* log_vprint - format one event and send it to the target */

void    log_vprint(int severity, const char *fmt, va_list ap)
{
    char    text[LOG_LINE_MAX];
    char    line[LOG_LINE_MAX + 256];
    char    host[256];
    char    stamp[32];
    const char *label;
    time_t  now;
    struct tm tm;
    int     len;
    int     saved_errno = errno;

    vsnprintf(text, sizeof(text), fmt, ap);
    log_sanitize(text);
    label = severity == LOG_WARNING ? "warning: " :
	severity == LOG_ERR ? "error: " :
	severity == LOG_DEBUG ? "debug: " : "";
    if (log_target == TARGET_SYSLOG) {
	syslog(severity, "%s%s", label, text);
	errno = saved_errno;
	return;
    }
    if (log_target == TARGET_STDERR) {
	len = snprintf(line, sizeof(line), "%s: %s%s\n", log_ident, label, text);
    } else {
	now = time((time_t *) 0);
	localtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%b %e %H:%M:%S", &tm);
	if (gethostname(host, sizeof(host)) < 0)
	    strcpy(host, "localhost");
	host[sizeof(host) - 1] = 0;
	len = snprintf(line, sizeof(line), "%s %s %s[%ld]: %s%s\n", stamp, host,
		       log_ident, (long) getpid(), label, text);
    }
    if (len < 0)
	len = 0;
    if ((size_t) len >= sizeof(line)) {
	len = sizeof(line) - 1;
	line[len - 1] = '\n';
    }
    log_write_line(line, (size_t) len);
    errno = saved_errno;
}

/* log_info - log an ordinary event */

void    log_info(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    log_vprint(LOG_INFO, fmt, ap);
    va_end(ap);
}

/* log_debug - log a detail that only matters when looking for trouble */

void    log_debug(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    log_vprint(LOG_DEBUG, fmt, ap);
    va_end(ap);
}

/* log_warn - log a problem that the program works around */

void    log_warn(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    log_vprint(LOG_WARNING, fmt, ap);
    va_end(ap);
}

/* log_error - log a problem that stops the current piece of work */

void    log_error(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    log_vprint(LOG_ERR, fmt, ap);
    va_end(ap);
}
