/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	rrelay-milter 8
 * SUMMARY
 *	SPF (RFC 7208) filter for Postfix, on libmilter and libspf2
 * SYNOPSIS
 *	rrelay-milter [-c FILE] [-o NAME=VALUE]... [-f]
 * DESCRIPTION
 *	rrelay-milter checks the SPF policy of the sender's domain for
 *	every message a Postfix smtpd(8) receives, rejects or defers
 *	according to its on_* settings, removes forged Authentication-
 *	Results fields that claim our authserv-id, and stamps the result
 *	in Received-SPF and/or Authentication-Results fields.
 *
 *	It reads the configuration (-c FILE, default
 *	/etc/rrelay/rrelay-milter.conf; a missing default file means all
 *	defaults), applies the -o NAME=VALUE overrides, binds the libmilter
 *	socket, and when started as root gives the unix socket to the
 *	configured user and drops to that user (setgroups, setgid, setuid,
 *	checked). Without -f it first becomes a daemon, writes the pidfile
 *	and returns only when the daemon is ready, with its status.
 *	With -f it stays in the foreground (for systemd); it logs to the
 *	"log" target either way.
 * OPTIONS
 *	-c FILE	the configuration file; it must exist
 *	-o NAME=VALUE
 *		override a setting; may be repeated
 *	-f	stay in the foreground, write no pidfile
 * SIGNALS
 *	SIGTERM, SIGINT
 *		stop accepting connections at once, wait up to 10 seconds
 *		for those in flight, remove the unix socket and the
 *		pidfile, exit 0.
 *	SIGHUP	re-read the configuration (the same file and -o options).
 *		New connections use the new one, connections in flight
 *		keep theirs. A bad configuration is logged and ignored.
 *		socket, user, pidfile and log change only with a restart.
 *
 *	libmilter's own signal thread treats SIGHUP like SIGTERM. This
 *	program defines sigwait() so that, in that thread, SIGHUP is left
 *	out of the set waited for; a thread of ours takes it instead. The
 *	same hook has that thread interrupt libmilter's listener after
 *	SIGTERM, which otherwise notices a stop only every 5 seconds.
 * EXIT STATUS
 *	0 after a clean stop, 64 for bad usage, 78 for a configuration
 *	error (or an unknown user), 71 when the socket, the pidfile or the
 *	user change fails or another instance runs, 70 when libmilter
 *	fails. In daemon mode the command returns the daemon's start-up
 *	status.
 * FILES
 *	/etc/rrelay/rrelay-milter.conf, the configuration
 *	/var/spool/postfix/rrelay-milter/milter.sock, the default socket,
 *	inside the chroot of Debian's smtpd (there unix:/rrelay-milter/
 *	milter.sock); the socket takes its directory's group (postfix)
 *	/run/rrelay-milter/rrelay-milter.pid, the default pidfile
 * SEE ALSO
 *	filter/README-section.md, RFC 7208, RFC 8601, RFC 7372
 */

#include <sys/stat.h>
#include <sys/types.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include <libmilter/mfapi.h>

#include "config.h"
#include "log.h"
#include "callbacks.h"
#include "context.h"
#include "milterconf.h"
#include "spf_lib.h"

#define PROG		"rrelay-milter"
#define MAX_OVERRIDES	64
#define DRAIN_SECONDS	10		/* wait for connections at stop */

struct opts {
    const char *path;
    int     required;			/* -c given: the file must exist */
    char   *overrides[MAX_OVERRIDES];
    int     n_overrides;
    int     foreground;
};

static int startup_fd = -1;		/* daemon child: status pipe */
static int log_ready;			/* log_open() done, not stderr */
static pthread_t main_thread;		/* runs libmilter's listener */
static pthread_t control_tid;		/* takes SIGHUP and SIGUSR2 */
static int control_started;
static int milter_done;			/* smfi_main() has returned */
static int control_quit;		/* control_thread: return */
static char *bound_socket;		/* as started: a reload may change */
static char *bound_pidfile;		/* the settings, not these files */

/* wake_handler - SIGUSR1 only interrupts the listener's poll() */

static void wake_handler(int sig)
{
    (void) sig;
}

/* sigwait - libmilter's signal thread waits here: leave SIGHUP to us */

int     sigwait(const sigset_t *restrict set, int *restrict sig)
{
    sigset_t mine = *set;
    int     got;

    sigdelset(&mine, SIGHUP);
    do {
	got = sigwaitinfo(&mine, 0);
    } while (got < 0 && errno == EINTR);
    if (got < 0)
	return (errno);
    /* libmilter sets its stop flag when we return, but its listener
     * polls with a 5-second timeout: have the control thread nudge it. */
    if ((got == SIGTERM || got == SIGINT) && control_started)
	pthread_kill(control_tid, SIGUSR2);
    *sig = got;
    return (0);
}

/* die - report a start-up failure and exit */

static void die(int, const char *,...)
	__attribute__((noreturn, format(printf, 2, 3)));

static void die(int status, const char *fmt,...)
{
    char    msg[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (log_ready)
	log_error("fatal: %s", msg);
    if (startup_fd >= 0) {
	if (write(startup_fd, msg, strlen(msg)) < 0) {
	    /* the parent still gets the status */
	}
	_exit(status);
    }
    fprintf(stderr, "%s: fatal: %s\n", PROG, msg);
    exit(status);
}

/* usage - complain about the command line */

static void usage(void)
{
    fprintf(stderr, "usage: %s [-c FILE] [-o NAME=VALUE]... [-f]\n", PROG);
    exit(EX_USAGE);
}

/* parse_args - the command line into opts */

static void parse_args(int argc, char **argv, struct opts *o)
{
    int     ch;

    memset(o, 0, sizeof(*o));
    o->path = MCONF_PATH;
    while ((ch = getopt(argc, argv, "c:o:f")) != -1) {
	switch (ch) {
	case 'c':
	    o->path = optarg;
	    o->required = 1;
	    break;
	case 'o':
	    if (o->n_overrides >= MAX_OVERRIDES)
		usage();
	    o->overrides[o->n_overrides++] = optarg;
	    break;
	case 'f':
	    o->foreground = 1;
	    break;
	default:
	    usage();
	}
    }
    if (optind != argc)
	usage();
}

/* spf_log_error - libspf2 gave up (it aborts): say why first */

static void spf_log_error(const char *, int, const char *)
	__attribute__((noreturn));

static void spf_log_error(const char *file, int line, const char *msg)
{
    log_error("libspf2: %s (%s:%d)", msg, file ? file : "?", line);
    abort();
}

/* spf_log_warning - a libspf2 warning */

static void spf_log_warning(const char *file, int line, const char *msg)
{
    (void) file;
    (void) line;
    log_warn("libspf2: %s", msg);
}

/* spf_log_quiet - libspf2 info and debug output: dropped */

static void spf_log_quiet(const char *file, int line, const char *msg)
{
    (void) file;
    (void) line;
    (void) msg;
}

/* unix_path - the path of a unix: or local: socket, or null */

static const char *unix_path(const char *spec)
{
    if (strncmp(spec, "unix:", 5) == 0)
	return (spec + 5);
    if (strncmp(spec, "local:", 6) == 0)
	return (spec + 6);
    return (0);
}

/* ensure_parent - create the directory of path if missing, for pw */

static void ensure_parent(const char *path, const struct passwd *pw)
{
    char    dir[4096];
    char   *slash;

    snprintf(dir, sizeof(dir), "%s", path);
    if ((slash = strrchr(dir, '/')) == 0 || slash == dir)
	return;
    *slash = 0;
    if (mkdir(dir, 0755) < 0) {
	if (errno == EEXIST)
	    return;
	die(EX_OSERR, "create directory %s: %s", dir, strerror(errno));
    }
    if (pw && chown(dir, pw->pw_uid, pw->pw_gid) < 0)
	die(EX_OSERR, "chown directory %s: %s", dir, strerror(errno));
}

/* check_pidfile - refuse to start twice */

static void check_pidfile(const char *path)
{
    FILE   *fp;
    long    pid = 0;

    if ((fp = fopen(path, "r")) == 0)
	return;
    if (fscanf(fp, "%ld", &pid) == 1 && pid > 1 && kill((pid_t) pid, 0) == 0)
	die(EX_OSERR, "already running with pid %ld (%s)", pid, path);
    fclose(fp);
}

/* write_pidfile - record the daemon's pid */

static void write_pidfile(const char *path)
{
    char    buf[32];
    int     fd;
    int     len;

    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0)
	die(EX_OSERR, "open pidfile %s: %s", path, strerror(errno));
    len = snprintf(buf, sizeof(buf), "%ld\n", (long) getpid());
    if (write(fd, buf, len) != len || close(fd) < 0)
	die(EX_OSERR, "write pidfile %s: %s", path, strerror(errno));
}

/* socket_owner - give a unix socket to pw, in its directory's group */

static void socket_owner(const char *path, const struct passwd *pw)
{
    char    dir[4096];
    struct stat st;
    gid_t   gid = (gid_t) -1;

    snprintf(dir, sizeof(dir), "%s", path);
    if (strrchr(dir, '/'))
	*strrchr(dir, '/') = 0;
    /* The group that may connect: the directory's (postfix, by tmpfiles.d). */
    if (dir[0] && stat(dir, &st) == 0)
	gid = st.st_gid;
    if (pw && chown(path, pw->pw_uid, gid) < 0)
	die(EX_OSERR, "chown %s: %s", path, strerror(errno));
    if (chmod(path, 0660) < 0)
	die(EX_OSERR, "chmod %s: %s", path, strerror(errno));
}

/* open_socket - bind the milter socket; give a unix socket to pw */

static void open_socket(const struct mconf *c, const struct passwd *pw)
{
    const char *path = unix_path(c->socket);
    char   *spec;

    if (path)
	ensure_parent(path, pw);
    /* smfi_setconn() wants a writable string, and copies it. */
    if ((spec = strdup(c->socket)) == 0 || smfi_setconn(spec) != MI_SUCCESS)
	die(EX_OSERR, "bad milter socket %s", c->socket);
    free(spec);
    if (cb_register() < 0)
	die(EX_SOFTWARE, "cannot register with libmilter");
    if (smfi_opensocket(1) != MI_SUCCESS)
	die(EX_OSERR, "cannot open milter socket %s%s", c->socket,
	    path ? " (is its directory there and writable?)"
	    : " (is the address local and the port free?)");
    if (path)
	socket_owner(path, pw);
}

/* drop_privileges - setgroups, setgid, setuid, and check they took */

static void drop_privileges(const struct passwd *pw)
{
    gid_t   gid = pw->pw_gid;
    uid_t   uid = pw->pw_uid;

    if (setgroups(1, &gid) < 0)
	die(EX_OSERR, "setgroups(%ld): %s", (long) gid, strerror(errno));
    if (setgid(gid) < 0)
	die(EX_OSERR, "setgid(%ld): %s", (long) gid, strerror(errno));
    if (setuid(uid) < 0)
	die(EX_OSERR, "setuid(%ld): %s", (long) uid, strerror(errno));
    if (getuid() != uid || geteuid() != uid || getgid() != gid
	|| getegid() != gid || setuid(0) == 0)
	die(EX_OSERR, "dropping privileges to %s did not take", pw->pw_name);
}

/* lookup_user - the run-as user, when started as root */

static struct passwd *lookup_user(const struct mconf *c)
{
    struct passwd *pw;

    if (geteuid() != 0)
	return (0);
    errno = 0;
    if ((pw = getpwnam(c->user)) == 0)
	die(EX_CONFIG, "unknown user \"%s\"", c->user);
    if (pw->pw_uid == 0)
	die(EX_CONFIG, "user \"%s\" is root; use an unprivileged user",
	    c->user);
    return (pw);
}

/* daemonize - fork; the parent exits with the child's start-up status */

static void daemonize(void)
{
    int     fds[2];
    char    msg[1024];
    ssize_t n;
    pid_t   pid;
    int     null;

    if (pipe(fds) < 0 || (pid = fork()) < 0)
	die(EX_OSERR, "cannot fork: %s", strerror(errno));
    if (pid > 0) {
	close(fds[1]);
	while ((n = read(fds[0], msg, sizeof(msg) - 1)) < 0 && errno == EINTR)
	     /* void */ ;
	/* _exit(): what the parent holds now belongs to the daemon. */
	if (n == 2 && memcmp(msg, "OK", 2) == 0)
	    _exit(0);
	msg[n > 0 ? n : 0] = 0;
	fprintf(stderr, "%s: fatal: %s\n", PROG, n > 0 ? msg : "start-up failed");
	_exit(EX_OSERR);
    }
    close(fds[0]);
    startup_fd = fds[1];
    fcntl(startup_fd, F_SETFD, FD_CLOEXEC);
    if (setsid() < 0 || chdir("/") < 0)
	die(EX_OSERR, "cannot detach: %s", strerror(errno));
    if ((null = open("/dev/null", O_RDWR)) >= 0) {
	dup2(null, 0);
	dup2(null, 1);
	dup2(null, 2);
	if (null > 2)
	    close(null);
    }
}

/* startup_done - tell the waiting parent that the daemon runs */

static void startup_done(void)
{
    if (startup_fd < 0)
	return;
    if (write(startup_fd, "OK", 2) < 0)
	log_warn("cannot tell the parent that the daemon runs: %s",
		 strerror(errno));
    close(startup_fd);
    startup_fd = -1;
}

/* reload - SIGHUP: load the configuration again, swap it in if good */

static void reload(const struct opts *o)
{
    struct mconf *next;
    struct mconf *prev;
    char    err[CF_ERR_MAX + 256];
    char    changed[128];

    next = mconf_load(o->path, o->required, o->overrides, o->n_overrides,
		      0, err, sizeof(err));
    if (next == 0) {
	log_error("reload failed, keeping the configuration in use: %s", err);
	return;
    }
    if ((prev = mconf_acquire()) != 0) {
	mconf_restart_only(prev, next, changed, sizeof(changed));
	if (*changed)
	    log_warn("reload: changed settings that need a restart:%s",
		     changed);
	mconf_release(prev);
    }
    mconf_install(next);
    log_info("reloaded %s: new connections use it", o->path);
}

/* nudge_listener - interrupt the listener's poll() until it has stopped */

static void nudge_listener(void)
{
    struct timespec tick = {0, 20 * 1000 * 1000};
    int     i;

    for (i = 0; i < 250 && !__atomic_load_n(&milter_done, __ATOMIC_SEQ_CST);
	 i++) {
	pthread_kill(main_thread, SIGUSR1);
	nanosleep(&tick, 0);
    }
}

/* control_thread - SIGHUP: reload; SIGUSR2: nudge, or return at the end */

static void *control_thread(void *arg)
{
    const struct opts *o = arg;
    sigset_t set;

    sigemptyset(&set);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGUSR2);
    while (!__atomic_load_n(&control_quit, __ATOMIC_SEQ_CST)) {
	switch (sigwaitinfo(&set, 0)) {
	case SIGHUP:
	    reload(o);
	    break;
	case SIGUSR2:
	    nudge_listener();
	    break;
	}
    }
    return (0);
}

/* block_signals - SIGHUP to control_thread, SIGTERM/SIGINT to libmilter */

static void block_signals(void)
{
    struct sigaction sa;
    sigset_t set;

    /* Threads inherit this mask: only the sigwait()ers take these. */
    sigemptyset(&set);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGUSR2);
    pthread_sigmask(SIG_BLOCK, &set, 0);
    signal(SIGPIPE, SIG_IGN);
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = wake_handler;	/* no SA_RESTART: poll() gets EINTR */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, 0);
    main_thread = pthread_self();
}

/* drain - wait a while for connections in flight to end */

static int drain(void)
{
    struct timespec tick = {0, 100 * 1000 * 1000};
    int     i;

    for (i = 0; i < DRAIN_SECONDS * 10 && cc_live() > 0; i++)
	nanosleep(&tick, 0);
    return (cc_live());
}

/* remove_socket - unlink our unix socket if it is still there */

static void remove_socket(const char *spec)
{
    const char *path = unix_path(spec);
    struct stat st;

    if (path && lstat(path, &st) == 0 && S_ISSOCK(st.st_mode)
	&& unlink(path) < 0)
	log_warn("cannot remove %s: %s", path, strerror(errno));
}

/* setup_logging - the log target, and libspf2's messages into it */

static void setup_logging(const struct mconf *c, const struct opts *o)
{
    char    err[512];

    if (!o->foreground && strcmp(c->log, "stderr") == 0)
	die(EX_CONFIG, "log = stderr needs -f (a daemon has no stderr)");
    if (log_open(PROG, c->log, err, sizeof(err)) < 0)
	die(EX_CONFIG, "%s", err);
    log_ready = (strcmp(c->log, "stderr") != 0);
    SPF_error_handler = spf_log_error;
    SPF_warning_handler = spf_log_warning;
    SPF_info_handler = spf_log_quiet;
    SPF_debug_handler = spf_log_quiet;
}

/* start - everything up to smfi_main */

static void start(const struct opts *o, struct mconf *c, pthread_t *tid)
{
    struct passwd *pw = lookup_user(c);

    setup_logging(c, o);
    if (!o->foreground) {
	ensure_parent(c->pidfile, pw);
	check_pidfile(c->pidfile);
    }
    open_socket(c, pw);
    if (!o->foreground) {
	daemonize();
	write_pidfile(c->pidfile);
    }
    if (pw)
	drop_privileges(pw);
    if ((bound_socket = strdup(c->socket)) == 0
	|| (bound_pidfile = strdup(c->pidfile)) == 0)
	die(EX_OSERR, "out of memory");
    mconf_install(c);
    block_signals();
    if (pthread_create(tid, 0, control_thread, (void *) o) != 0)
	die(EX_OSERR, "cannot start the control thread");
    control_tid = *tid;
    control_started = 1;
    log_info("started: socket=%s authserv_id=%s uid=%ld", c->socket,
	     c->authserv_id, (long) getuid());
    /* DMARC verifiers trust an authserv-id by name: a bare host name is a trap. */
    if (strchr(c->authserv_id, '.') == 0)
	log_warn("authserv_id \"%s\" is not a fully qualified name; set "
		 "authserv_id to the name your DMARC verifier trusts",
		 c->authserv_id);
    startup_done();
}

/* stop - after smfi_main: drain, clean up files, free */

static int stop(const struct opts *o, pthread_t tid, int milter_status)
{
    int     left = drain();

    /* No pthread_cancel(): let the thread return by itself. */
    __atomic_store_n(&control_quit, 1, __ATOMIC_SEQ_CST);
    pthread_kill(tid, SIGUSR2);
    pthread_join(tid, 0);
    remove_socket(bound_socket);
    if (!o->foreground && unlink(bound_pidfile) < 0 && errno != ENOENT)
	log_warn("cannot remove %s: %s", bound_pidfile, strerror(errno));
    if (left > 0)
	log_warn("stopping with %d connection%s still open", left,
		 left > 1 ? "s" : "");
    log_info("stopped");
    if (left == 0)
	mconf_install(0);		/* frees it: nobody else uses it */
    free(bound_socket);
    free(bound_pidfile);
    return (milter_status == MI_SUCCESS ? 0 : EX_SOFTWARE);
}

int     main(int argc, char **argv)
{
    struct opts o;
    struct mconf *c;
    pthread_t tid;
    char    err[CF_ERR_MAX + 256];
    int     status;

    parse_args(argc, argv, &o);
    c = mconf_load(o.path, o.required, o.overrides, o.n_overrides, 0,
		   err, sizeof(err));
    if (c == 0)
	die(EX_CONFIG, "%s", err);
    start(&o, c, &tid);
    status = smfi_main();
    __atomic_store_n(&milter_done, 1, __ATOMIC_SEQ_CST);
    if (status != MI_SUCCESS)
	log_error("libmilter stopped with an error");
    return (stop(&o, tid, status));
}
