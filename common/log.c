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
 *
 *	void	log_privs_hold()
 *	int	log_privs_drop()
 *	int	log_check_target(value, why, whylen)
 * DESCRIPTION
 *	These functions write one line per event, in the form that
 *	Postfix uses, to one of four targets: "syslog" (facility mail,
 *	with the pid), "stderr", an absolute file path that is opened
 *	for appending, or "postfix": wherever Postfix itself logs.
 *	File lines start with a syslog-style time stamp, host name and
 *	ident[pid], so that the same grep works on all of them.
 *
 *	"postfix" reads main.cf in $MAIL_CONFIG (default /etc/postfix).
 *	Without maillog_file it means syslog. With maillog_file, each
 *	line goes as one datagram to postlogd(8), at
 *	$queue_directory/public/postlog, in the format of Postfix's own
 *	lines (time, myhostname's first label, ident[pid]), so that
 *	postlogd writes it into maillog_file among Postfix's lines. The
 *	public directory is open to group postdrop only: a daemon gets
 *	it as a supplementary group (the systemd units), and the
 *	transport, which pipe(8) starts with its primary group alone, as
 *	the package's set-gid postdrop bit. log_privs_hold() sets that
 *	group aside at the start of main(); log_open() takes it back for
 *	the connect(2) alone, and drops it for good (saved id too) before
 *	it returns, whatever the target. Run set-gid, a MAIL_CONFIG other
 *	than /etc/postfix must be listed in /etc/postfix/main.cf's
 *	alternate_config_directories, as Postfix's set-gid programs ask.
 *
 *	A target that cannot be used (a file that cannot be opened,
 *	postlogd out of reach, or gone later) never stops the program:
 *	lines go to syslog and to stderr from then on, and one warning
 *	says so. A pipe(8) transport shows that warning after its status
 *	text, so it appears in Postfix's log of the delivery.
 *
 *	Each line is formatted into one buffer and written with one
 *	write(2), so concurrent processes and threads do not interleave
 *	within a line. Control characters in the text become '?'.
 *	log_debug() lines go to syslog at priority debug, and carry
 *	"debug: " in files and on stderr, so they can be filtered out.
 *
 *	log_file_fd() gives the descriptor of the file or postlogd
 *	target, or -1, and log_reconnect() opens syslog's connection
 *	afresh: a process that closes every descriptor it does not need
 *	(rrelay-cache's TLS ends) keeps the first and calls the second,
 *	so that no log line can go to a descriptor that was reused for
 *	something else.
 *
 *	log_hold() makes the stderr target keep its lines in memory until
 *	log_release(). A pipe(8) transport needs this: Postfix reads the
 *	first bytes of the combined output as the delivery status, and
 *	turns each newline into a space. So log_release() writes the held
 *	lines after a newline (the status line has none) and without the
 *	last one, which would show as a stray space at the end.
 *
 *	log_check_target() is the configuration check of a log setting.
 * DIAGNOSTICS
 *	log_open() returns -1 and a reason in err when the target is not
 *	"syslog", "stderr", "postfix" or an absolute path, or when a
 *	set-gid group cannot be dropped; an unusable target is not an
 *	error (see above). Until log_open() succeeds, lines go to stderr.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "pfconf.h"

#define HOLD_MAX	65536		/* held stderr output, at most */
#define QUEUE_DIR	"/var/spool/postfix"	/* Postfix's default */

enum log_target { TARGET_STDERR, TARGET_SYSLOG, TARGET_FILE, TARGET_POSTLOG };

static enum log_target log_target = TARGET_STDERR;
static const char *log_ident = "rrelay";
static int log_fd = 2;
static int log_also_stderr;		/* the fallback: syslog and stderr */
static char log_host[256];		/* postlogd: Postfix's host name */
static int log_holding;
static char log_held[HOLD_MAX];
static size_t log_held_len;
static gid_t log_priv_gid;		/* set-gid group set aside */
static int log_priv_held;

/* log_check_target - syslog, stderr, postfix or an absolute path */

int     log_check_target(const char *value, char *why, size_t whylen)
{
    if (strcmp(value, "syslog") == 0 || strcmp(value, "stderr") == 0
	|| strcmp(value, "postfix") == 0 || value[0] == '/')
	return (0);
    snprintf(why, whylen, "\"%s\" is not syslog, stderr, postfix or an "
	     "absolute path", value);
    return (-1);
}

/* log_privs_hold - set a set-gid group aside until log_open() */

void    log_privs_hold(void)
{
    log_priv_gid = getegid();
    if (log_priv_gid != getgid() && setegid(getgid()) == 0)
	log_priv_held = 1;
}

/* log_privs_drop - give up the set-gid group for good; -1 if it stays */

int     log_privs_drop(void)
{
    gid_t   gid = getgid();
    gid_t   r, e, saved;

    if (getegid() == gid && !log_priv_held)
	return (0);
    log_priv_held = 0;
    if (setresgid(gid, gid, gid) < 0 || getresgid(&r, &e, &saved) < 0
	|| r != gid || e != gid || saved != gid)
	return (-1);
    return (0);
}

/* log_fallback - the target is unusable: syslog and stderr, said once */

static void log_fallback(const char *target, const char *why)
{
    if (log_target == TARGET_FILE || log_target == TARGET_POSTLOG)
	if (log_fd > 2)
	    (void) close(log_fd);
    openlog(log_ident, LOG_PID | LOG_NDELAY, LOG_MAIL);
    log_target = TARGET_SYSLOG;
    log_fd = 2;
    log_also_stderr = 1;
    /* Short and first: pipe(8) logs only 100 bytes of a delivery's output. */
    log_warn("logging to syslog+stderr: log = %s: %s", target, why);
}

/* log_postfix_where - maillog_file's socket and host name, or "" for syslog */

static int log_postfix_where(char *sock, size_t socklen, char *why,
			             size_t whylen)
{
    const char *dir = getenv("MAIL_CONFIG");
    char    value[1024];
    char    qdir[1024];

    sock[0] = 0;
    if (dir == 0 || *dir == 0)
	dir = PFCONF_DIR;
    if (log_priv_held && strcmp(dir, PFCONF_DIR) != 0
	&& (pfconf_get(PFCONF_DIR, "alternate_config_directories", value,
		       sizeof(value)) <= 0 || !pfconf_list_has(value, dir))) {
	snprintf(why, whylen, "MAIL_CONFIG %s is not in %s/main.cf's "
		 "alternate_config_directories", dir, PFCONF_DIR);
	return (-1);
    }
    if (pfconf_get(dir, "maillog_file", value, sizeof(value)) < 0) {
	snprintf(why, whylen, "read %s/main.cf: %s", dir, strerror(errno));
	return (-1);
    }
    if (value[0] == 0)
	return (0);
    if (pfconf_get(dir, "queue_directory", qdir, sizeof(qdir)) <= 0)
	snprintf(qdir, sizeof(qdir), "%s", QUEUE_DIR);
    if (qdir[0] != '/' || strchr(qdir, '$')) {
	snprintf(why, whylen, "%s/main.cf: queue_directory \"%s\" is not a "
		 "plain absolute path", dir, qdir);
	return (-1);
    }
    snprintf(sock, socklen, "%s/public/postlog", qdir);
    if (pfconf_get(dir, "myhostname", log_host, sizeof(log_host)) <= 0
	|| strchr(log_host, '$'))
	(void) gethostname(log_host, sizeof(log_host) - 1);
    log_host[strcspn(log_host, ".")] = 0;
    return (0);
}

/* log_postfix_connect - a datagram socket connected to postlogd */

static int log_postfix_connect(const char *path, char *why, size_t whylen)
{
    struct sockaddr_un sun;
    int     fd;
    int     rc;
    int     saved_errno;

    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof(sun.sun_path)) {
	snprintf(why, whylen, "%s: path too long", path);
	return (-1);
    }
    memcpy(sun.sun_path, path, strlen(path) + 1);
    if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0) {
	snprintf(why, whylen, "socket: %s", strerror(errno));
	return (-1);
    }
    if (log_priv_held && setegid(log_priv_gid) < 0) {
	saved_errno = errno;
	rc = -1;
    } else {
	rc = connect(fd, (struct sockaddr *) &sun, sizeof(sun));
	saved_errno = errno;
	if (log_priv_held && setegid(getgid()) < 0) {
	    /* log_open()'s log_privs_drop() drops it for good, or fails */
	}
    }
    if (rc < 0) {
	snprintf(why, whylen, "connect %s: %s", path, strerror(saved_errno));
	(void) close(fd);
	return (-1);
    }
    return (fd);
}

/*
 * log_replace_fd - fd is the target now; close the old one (never fd
 * itself: after close_range() the old number may have been given again)
 */

static void log_replace_fd(int fd)
{
    if ((log_target == TARGET_FILE || log_target == TARGET_POSTLOG)
	&& log_fd > 2 && log_fd != fd)
	(void) close(log_fd);
    log_fd = fd;
}

/* log_open_postfix - postlogd when maillog_file is set, else syslog */

static int log_open_postfix(char *why, size_t whylen)
{
    char    sock[1100];
    int     fd;

    if (log_postfix_where(sock, sizeof(sock), why, whylen) < 0)
	return (-1);
    if (sock[0] == 0) {
	openlog(log_ident, LOG_PID | LOG_NDELAY, LOG_MAIL);
	log_target = TARGET_SYSLOG;
	return (0);
    }
    if ((fd = log_postfix_connect(sock, why, whylen)) < 0)
	return (-1);
    log_replace_fd(fd);
    log_target = TARGET_POSTLOG;
    return (0);
}

/* log_open_file - append to an absolute path */

static int log_open_file(const char *target, char *why, size_t whylen)
{
    int     fd;

    fd = open(target, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY,
	      0640);
    if (fd < 0) {
	snprintf(why, whylen, "open log file %s: %s", target, strerror(errno));
	return (-1);
    }
    log_replace_fd(fd);
    log_target = TARGET_FILE;
    return (0);
}

/* log_open - choose where lines go; an unusable target falls back */

int     log_open(const char *ident, const char *target, char *err,
		         size_t errlen)
{
    char    why[1200];
    int     rc = 0;

    log_ident = ident;
    log_also_stderr = 0;
    if (log_check_target(target, err, errlen) < 0) {
	rc = -1;
    } else if (strcmp(target, "syslog") == 0) {
	openlog(ident, LOG_PID | LOG_NDELAY, LOG_MAIL);
	log_target = TARGET_SYSLOG;
    } else if (strcmp(target, "stderr") == 0) {
	log_target = TARGET_STDERR;
	log_fd = 2;
    } else if ((strcmp(target, "postfix") == 0 ?
		log_open_postfix(why, sizeof(why)) :
		log_open_file(target, why, sizeof(why))) < 0) {
	log_fallback(target, why);
    }
    if (log_privs_drop() < 0) {
	snprintf(err, errlen, "cannot drop set-gid group %ld: %s",
		 (long) log_priv_gid, strerror(errno));
	rc = -1;
    }
    return (rc);
}

/* log_file_fd - the file or postlogd target's descriptor, or -1 */

int     log_file_fd(void)
{
    return (log_target == TARGET_FILE || log_target == TARGET_POSTLOG ?
	    log_fd : -1);
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

    if (log_held_len > 0 && log_held[log_held_len - 1] == '\n')
	log_held_len--;
    if (log_held_len > 0 && write(2, "\n", 1) < 0) {
	/* nobody reads it: lose the held lines as well */
    }
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

/* log_write_stderr - write or hold one finished stderr line */

static void log_write_stderr(const char *line, size_t len)
{
    ssize_t n;

    if (log_holding) {
	if (log_held_len + len <= sizeof(log_held)) {
	    memcpy(log_held + log_held_len, line, len);
	    log_held_len += len;
	}
	return;
    }
    do {
	n = write(2, line, len);
    } while (n < 0 && errno == EINTR);
}

/* log_write_fd - write one line to the file or postlogd; -1 on failure */

static int log_write_fd(const char *line, size_t len)
{
    ssize_t n;

    do {
	n = log_target == TARGET_POSTLOG ?
	    send(log_fd, line, len, MSG_NOSIGNAL) : write(log_fd, line, len);
    } while (n < 0 && errno == EINTR);
    return (n < 0 ? -1 : 0);
}

/* log_format - the line for a file or postlogd: time, host, ident[pid] */

static int log_format(char *line, size_t size, const char *label,
		              const char *text)
{
    char    host[256];
    char    stamp[32];
    time_t  now = time((time_t *) 0);
    struct tm tm;

    localtime_r(&now, &tm);
    if (log_target == TARGET_POSTLOG) {
	/* Postfix's own shape: "Dec 07 ...", its short host name, no \n. */
	strftime(stamp, sizeof(stamp), "%b %d %H:%M:%S", &tm);
	return (snprintf(line, size, "%s %s %s[%ld]: %s%s", stamp, log_host,
			 log_ident, (long) getpid(), label, text));
    }
    strftime(stamp, sizeof(stamp), "%b %e %H:%M:%S", &tm);
    if (gethostname(host, sizeof(host)) < 0)
	strcpy(host, "localhost");
    host[sizeof(host) - 1] = 0;
    return (snprintf(line, size, "%s %s %s[%ld]: %s%s\n", stamp, host,
		     log_ident, (long) getpid(), label, text));
}

/* log_vprint - format one event and send it to the target */

void    log_vprint(int severity, const char *fmt, va_list ap)
{
    char    text[LOG_LINE_MAX];
    char    line[LOG_LINE_MAX + 256];
    const char *label;
    int     len;
    int     saved_errno = errno;

    vsnprintf(text, sizeof(text), fmt, ap);
    log_sanitize(text);
    label = severity == LOG_WARNING ? "warning: " :
	severity == LOG_ERR ? "error: " :
	severity == LOG_DEBUG ? "debug: " : "";
    if (log_target == TARGET_FILE || log_target == TARGET_POSTLOG) {
	len = log_format(line, sizeof(line), label, text);
	if (len < 0)
	    len = 0;
	if ((size_t) len >= sizeof(line)) {
	    len = sizeof(line) - 1;
	    if (log_target == TARGET_FILE)
		line[len - 1] = '\n';
	}
	if (log_write_fd(line, (size_t) len) == 0) {
	    errno = saved_errno;
	    return;
	}
	log_fallback(log_target == TARGET_POSTLOG ? "postfix" : "file",
		     strerror(errno));
    }
    if (log_target == TARGET_SYSLOG)
	syslog(severity, "%s%s", label, text);
    if (log_target == TARGET_STDERR || log_also_stderr) {
	len = snprintf(line, sizeof(line), "%s: %s%s\n", log_ident, label, text);
	if (len < 0)
	    len = 0;
	if ((size_t) len >= sizeof(line)) {
	    len = sizeof(line) - 1;
	    line[len - 1] = '\n';
	}
	log_write_stderr(line, (size_t) len);
    }
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
