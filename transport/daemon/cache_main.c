/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	rrelay-cache 8
 * SUMMARY
 *	keeps rrelay's idle SMTP connections between deliveries
 * SYNOPSIS
 *	rrelay-cache [-c FILE] [-o NAME=VALUE]... [-u USER] [-f]
 * DESCRIPTION
 *	pipe(8) runs rrelay once per message, so without help each
 *	delivery pays for a connect, the greeting, EHLO and QUIT, on both
 *	sides. rrelay-cache is a small daemon that keeps those sessions
 *	open between deliveries, as Postfix's scache(8) does for smtp(8):
 *	after the upstream's 250 to the final dot, rrelay hands the
 *	connection (the socket itself, over SCM_RIGHTS) to the cache
 *	instead of sending QUIT; before it connects to the host that
 *	round-robin picked, it asks the cache for a connection to exactly
 *	that host, with the same TLS level and HELO name. The cache never
 *	chooses a host. Sessions with AUTH are never cached.
 *
 *	For STARTTLS the cache is the TLS end, as tlsproxy(8) is for
 *	smtp(8): rrelay passes the TCP socket after the server's 220 to
 *	STARTTLS, with its whole TLS policy, and a process forked for that
 *	connection (cache_tls.c) makes the handshake and carries the bytes
 *	between the server and a plaintext socket pair, whose other end
 *	rrelay uses and later hands back like any idle connection.
 *
 *	It also pre-forks delivery_workers delivery workers (workers.c,
 *	worker.c) on delivery_socket: rrelay then hands each whole delivery
 *	to one of them, its command line and standard input, and only
 *	waits for the result (handoff_client.c), as a thin client. The
 *	worker runs the same delivery code as rrelay alone (delivery.c).
 *
 *	It reads the same rrelay.conf as rrelay and uses:
 *	cache_socket	(/run/rrelay/cache.sock) the socket. Its
 *		directory is made mode 0700 if missing, and must be owned
 *		by the cache's user and closed to everyone else.
 *	connection_cache_time_limit	(2s) how long a connection may
 *		stay idle in the cache.
 *	connection_reuse_count_limit	(100) how many deliveries one
 *		connection may carry.
 *	connection_cache_per_host	(20) idle connections kept per
 *		host; the oldest goes first.
 *	tls_proxy_limit	(100) TLS ends running at one time; beyond it
 *		the cache declines, and rrelay makes the handshake itself.
 *	delivery_socket	(deliver.sock beside cache_socket) the workers'
 *		socket, mode 0600.
 *	delivery_workers	(20) how many workers it keeps; 0: none.
 *
 *	It also keeps TLS sessions (i2d_SSL_SESSION) under a key that
 *	names the server and the whole TLS policy, for their own lifetime,
 *	so that the next delivery there resumes instead of a full
 *	handshake, as Postfix's smtp_tls_session_cache_database.
 *
 *	Only processes of the cache's own uid (SO_PEERCRED) may talk to
 *	it; others are refused and logged. A connection that leaves the
 *	cache other than to rrelay gets QUIT before it is closed, and on
 *	SIGTERM or SIGINT every one of them does. TLS ends ignore SIGTERM:
 *	one that carries a delivery finishes it, an idle one ends on QUIT.
 *
 *	Options:
 *	-c FILE	the configuration file (default /etc/rrelay/rrelay.conf,
 *		which may be absent).
 *	-o NAME=VALUE	override one setting.
 *	-u USER	started as root, the user to run as (default rrelay):
 *		the cache makes the socket directory for USER, then drops
 *		to USER (setgroups, setgid, setuid, checked) before it
 *		binds the socket. It must be pipe(8)'s user= for rrelay.
 *	-f	stay in the foreground (as under systemd); without -f the
 *		cache daemonizes and writes its pid to rrelay-cache.pid in
 *		the socket directory, which it removes when it stops.
 * EXIT STATUS
 *	0 after SIGTERM or SIGINT; 1 for a configuration or start-up
 *	problem, which is reported with file:line on stderr.
 * FILES
 *	/etc/rrelay/rrelay.conf, /run/rrelay/cache.sock,
 *	/run/rrelay/rrelay-cache.pid
 * SEE ALSO
 *	rrelay(8), scache(8), README.md
 *--*/

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "cache/cache.h"
#include "ipc/cache_sock.h"
#include "cache/cache_tls.h"
#include "daemon/workers.h"
#include "net/netio.h"
#include "conf/rrconfig.h"

#define OVERRIDES_MAX	64
#define CLIENTS_MAX	256		/* rrelay processes at one time */
#define CLIENT_IDLE_MS	10000		/* then a silent client is closed */
#define TOTAL_MAX	1000		/* idle connections in all */
#define SESSIONS_MAX	200		/* TLS sessions in all */

struct client {
    int     fd;
    long long since_ms;			/* last heard from */
};

struct daemon {
    struct rrconfig conf;
    int     listen_fd;
    uid_t   uid;			/* the only peer allowed */
    struct client clients[CLIENTS_MAX];
    int     nclients;
    struct cache_table table;		/* idle connections */
    struct cache_table sessions;	/* TLS sessions */
    unsigned long handed;		/* connections given out */
    int     tls_ends;			/* TLS end processes running */
    int     deliver_fd;			/* delivery_socket, or -1 */
    struct workers workers;		/* its delivery workers */
};

static volatile sig_atomic_t stopping;
static const char *run_user = "rrelay";	/* -u: started as root */

/* on_signal - SIGTERM or SIGINT: stop at the next turn of the loop */

static void on_signal(int sig)
{
    (void) sig;
    stopping = 1;
}

/* on_child - SIGCHLD: only to wake ppoll, which then reaps */

static void on_child(int sig)
{
    (void) sig;
}

/* fatal - a start-up problem: say it and exit 1 */

static void __attribute__((noreturn)) fatal(const char *fmt, const char *arg)
{
    fprintf(stderr, "rrelay-cache: ");
    fprintf(stderr, fmt, arg);
    fputc('\n', stderr);
    log_error(fmt, arg);
    exit(1);
}

/* quit_close - a polite end for an idle SMTP connection */

static void quit_close(void *ctx, int fd, const struct cache_msg *msg,
		               const char *why)
{
    (void) ctx;
    (void) send(fd, "QUIT\r\n", 6, MSG_DONTWAIT | MSG_NOSIGNAL);
    (void) close(fd);
    log_debug("closed connection to %s after %u deliveries (%s)",
	      msg->relay, msg->use, why);
}

/* socket_dir - the socket's directory exists, pw's (or ours) alone */

static void socket_dir(const char *path, const struct passwd *pw, char *dir,
		               size_t dirlen)
{
    char   *slash;
    struct stat st;
    char    why[CF_ERR_MAX];
    uid_t   uid = pw ? pw->pw_uid : geteuid();

    snprintf(dir, dirlen, "%s", path);
    if ((slash = strrchr(dir, '/')) == 0 || slash == dir)
	fatal("cache_socket %s must be in a directory of its own", path);
    *slash = 0;
    if (mkdir(dir, 0700) < 0 && errno != EEXIST)
	fatal("cannot make the socket directory: %s", strerror(errno));
    if (lstat(dir, &st) < 0)
	fatal("socket directory: %s", strerror(errno));
    /* Root's, as an earlier cache started as root left it: give it over. */
    if (pw && S_ISDIR(st.st_mode) && st.st_uid == 0
	&& (lchown(dir, pw->pw_uid, pw->pw_gid) < 0 || lstat(dir, &st) < 0))
	fatal("socket directory: %s", strerror(errno));
    if (!S_ISDIR(st.st_mode) || st.st_uid != uid
	|| (st.st_mode & 077) != 0) {
	snprintf(why, sizeof(why), "%s must be a directory owned by uid %ld "
		 "with mode 0700 (it is uid %ld, mode %04o)", dir,
		 (long) uid, (long) st.st_uid,
		 (unsigned) (st.st_mode & 07777));
	fatal("%s", why);
    }
}

/* run_as - started as root: the -u user, who must not be root */

static struct passwd *run_as(void)
{
    struct passwd *pw;

    if (geteuid() != 0)
	return (0);
    if ((pw = getpwnam(run_user)) == 0)
	fatal("unknown user %s (-u)", run_user);
    if (pw->pw_uid == 0)
	fatal("will not run as %s: pick an unprivileged user (-u)", run_user);
    return (pw);
}

/* drop_privileges - setgroups, setgid, setuid to pw, and check they took */

static void drop_privileges(const struct passwd *pw)
{
    gid_t   gid = pw->pw_gid;

    if (setgroups(1, &gid) < 0 || setgid(gid) < 0 || setuid(pw->pw_uid) < 0)
	fatal("cannot change to the user: %s", strerror(errno));
    if (getuid() != pw->pw_uid || geteuid() != pw->pw_uid
	|| getegid() != gid || setuid(0) == 0)
	fatal("the change to user %s did not take", pw->pw_name);
}

/* write_pidfile - the daemon's pid, for an init script or prerm */

static void write_pidfile(const char *path)
{
    char    buf[32];
    int     fd;
    int     len;

    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
	      0644);
    len = snprintf(buf, sizeof(buf), "%ld\n", (long) getpid());
    if (fd < 0 || write(fd, buf, (size_t) len) != len || close(fd) < 0)
	fatal("cannot write the pidfile: %s", strerror(errno));
}

/* listen_on - bind the socket, unless another cache already listens */

static int listen_on(const char *path, int nonblock, int backlog)
{
    struct sockaddr_un sun;
    struct stat st;
    char    why[sizeof(sun.sun_path) + 200];
    int     fd;

    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
    if ((fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0)) < 0)
	fatal("socket: %s", strerror(errno));
    if (connect(fd, (struct sockaddr *) &sun, sizeof(sun)) == 0)
	fatal("another rrelay-cache already listens on %s", path);
    (void) close(fd);
    if (lstat(path, &st) == 0 && !S_ISSOCK(st.st_mode))
	fatal("%s exists and is not a socket", path);
    (void) unlink(path);
    if ((fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | nonblock,
		     0)) < 0)
	fatal("socket: %s", strerror(errno));
    umask(077);
    if (bind(fd, (struct sockaddr *) &sun, sizeof(sun)) < 0
	|| chmod(path, 0600) < 0 || listen(fd, backlog) < 0) {
	snprintf(why, sizeof(why), "%s: %s", path, strerror(errno));
	fatal("cannot listen on %s", why);
    }
    return (fd);
}

/* table_room - how many idle connections the descriptor limit allows */

static int table_room(void)
{
    struct rlimit rl;
    long    room;

    if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
	return (64);
    if (rl.rlim_cur < rl.rlim_max && rl.rlim_cur < TOTAL_MAX * 2) {
	rl.rlim_cur = rl.rlim_max < TOTAL_MAX * 2 ? rl.rlim_max : TOTAL_MAX * 2;
	(void) setrlimit(RLIMIT_NOFILE, &rl);
	(void) getrlimit(RLIMIT_NOFILE, &rl);
    }
    room = (long) rl.rlim_cur - CLIENTS_MAX - 16;
    return (room > TOTAL_MAX ? TOTAL_MAX : room < 16 ? 16 : (int) room);
}

/* accept_client - a new rrelay process, if it is of our uid */

static void accept_client(struct daemon *d)
{
    char    who[64];
    int     fd;

    if ((fd = accept4(d->listen_fd, 0, 0, SOCK_NONBLOCK | SOCK_CLOEXEC)) < 0)
	return;
    if (!ipc_peer_is(fd, d->uid, who, sizeof(who))) {
	log_warn("refused a client with %s: only uid %ld may use the cache",
		 who, (long) d->uid);
	(void) close(fd);
	return;
    }
    d->clients[d->nclients].fd = fd;
    d->clients[d->nclients].since_ms = netio_now_ms();
    d->nclients++;
}

/* drop_client - forget client i */

static void drop_client(struct daemon *d, int i)
{
    (void) close(d->clients[i].fd);
    d->clients[i] = d->clients[--d->nclients];
}

/* forget_session - a TLS session leaves the cache; nothing to close */

static void forget_session(void *ctx, int fd, const struct cache_msg *msg,
			           const char *why)
{
    (void) ctx;
    (void) fd;
    log_debug("forgot a TLS session for %s (%s)", msg->key, why);
}

/* answer_take - hand over what the table has for key, or say it has none */

static void answer_take(struct daemon *d, int client, struct cache_table *table,
			        const char *key, enum cache_type hit)
{
    struct cache_msg msg;
    int     fd = -1;

    if (cache_take(table, key, netio_now_ms(), &msg, &fd) == 0) {
	cache_msg_init(&msg, CACHE_MISS);
	memcpy(msg.key, key, sizeof(msg.key));
    } else {
	msg.type = (uint16_t) hit;
    }
    if (cache_send(client, &msg, fd) < 0) {
	log_warn("could not answer an rrelay process: %s", strerror(errno));
	if (fd >= 0)
	    quit_close(d, fd, &msg, "not handed over");
	return;
    }
    if (fd >= 0) {
	(void) close(fd);
	d->handed++;
    }
}

/* forget_tables - in a TLS end, right after the fork: nothing of the others */

static void forget_tables(void *ctx)
{
    struct daemon *d = ctx;

    cache_table_wipe(&d->table);
    cache_table_wipe(&d->sessions);
}

/* serve_client - one request from client i; 0 to keep the client */

static int serve_client(struct daemon *d, int i)
{
    struct cache_msg msg;
    char    why[100];
    int     fd;
    int     status = cache_recv(d->clients[i].fd, &msg, &fd, why, sizeof(why));

    if (status < 0 && errno == EAGAIN)
	return (0);
    if (status < 0)
	log_warn("dropped an rrelay process's request: %s", why);
    if (status <= 0)
	return (-1);
    d->clients[i].since_ms = netio_now_ms();
    if (msg.type == CACHE_TLS_START) {
	status = cache_tls_serve(&d->conf, d->clients[i].fd, &msg, fd,
				 d->tls_ends, forget_tables, d);
	d->tls_ends += status > 0;
	return (status == 0 ? 0 : -1);		/* 1: the TLS end answers */
    }
    if (msg.type == CACHE_TAKE || msg.type == CACHE_SESS_TAKE) {
	answer_take(d, d->clients[i].fd, msg.type == CACHE_TAKE ? &d->table :
		    &d->sessions, msg.key, msg.type == CACHE_TAKE ?
		    CACHE_HIT : CACHE_SESS_HIT);
	return (0);
    }
    if (msg.type == CACHE_PUT || msg.type == CACHE_SESS_PUT) {
	cache_store(msg.type == CACHE_PUT ? &d->table : &d->sessions, &msg,
		    fd, netio_now_ms());
	return (0);
    }
    log_warn("dropped an rrelay process that sent an answer, not a request");
    if (fd >= 0)
	(void) close(fd);
    return (-1);
}

/* wait_time - until the next idle connection or client is due */

static struct timespec *wait_time(const struct daemon *d, struct timespec *ts)
{
    long long now = netio_now_ms();
    long long due = cache_next_expiry(&d->table);
    long long sess = cache_next_expiry(&d->sessions);
    int     i;

    if (due < 0 || (sess >= 0 && sess < due))
	due = sess;
    for (i = 0; i < d->nclients; i++)
	if (due < 0 || d->clients[i].since_ms + CLIENT_IDLE_MS < due)
	    due = d->clients[i].since_ms + CLIENT_IDLE_MS;
    if (d->workers.running < d->workers.count && (due < 0 || now + 1000 < due))
	due = now + 1000;			/* workers_fill() waited */
    if (due < 0)
	return (0);
    due = due > now ? due - now : 0;
    ts->tv_sec = (time_t) (due / 1000);
    ts->tv_nsec = (long) (due % 1000) * 1000000L;
    return (ts);
}

/* turn - one wait for requests, then what is due */

static void turn(struct daemon *d, const sigset_t *mask)
{
    struct pollfd pfd[CLIENTS_MAX + 1];
    struct timespec ts;
    long long now;
    int     n = 0;
    int     i;
    int     status;
    int     saved;
    int     how;
    pid_t   pid;

    for (i = 0; i < d->nclients; i++) {
	pfd[n].fd = d->clients[i].fd;
	pfd[n++].events = POLLIN;
    }
    pfd[n].fd = d->nclients < CLIENTS_MAX ? d->listen_fd : -1;
    pfd[n].events = POLLIN;
    status = ppoll(pfd, (nfds_t) n + 1, wait_time(d, &ts), mask);
    saved = errno;
    while ((pid = waitpid(-1, &how, WNOHANG)) > 0)	/* also after a bare SIGCHLD */
	if (!workers_reaped(&d->workers, pid, how))
	    d->tls_ends--;
    if (!stopping)
	workers_fill(&d->workers);
    if (status < 0) {
	if (saved != EINTR)
	    fatal("poll: %s", strerror(saved));
	return;
    }
    now = netio_now_ms();
    for (i = n - 1; i >= 0; i--)
	if ((pfd[i].revents && serve_client(d, i) < 0)
	    || now - d->clients[i].since_ms >= CLIENT_IDLE_MS)
	    drop_client(d, i);
    if (pfd[n].revents & POLLIN)
	accept_client(d);
    cache_expire(&d->table, now);
    cache_expire(&d->sessions, now);
}

/* parse_args - -c FILE, -o NAME=VALUE, -f */

static void parse_args(int argc, char **argv, const char **config,
		               int *given, char **overrides, int *n_overrides,
		               int *foreground)
{
    int     ch;

    while ((ch = getopt(argc, argv, "c:o:u:f")) != -1) {
	if (ch == 'u') {
	    run_user = optarg;
	} else if (ch == 'c') {
	    *config = optarg;
	    *given = 1;
	} else if (ch == 'o' && *n_overrides < OVERRIDES_MAX) {
	    overrides[(*n_overrides)++] = optarg;
	} else if (ch == 'f') {
	    *foreground = 1;
	} else {
	    fprintf(stderr, "usage: rrelay-cache [-c FILE] [-o NAME=VALUE]... "
		    "[-u USER] [-f]\n");
	    exit(1);
	}
    }
    if (optind < argc)
	fatal("unexpected argument %s", argv[optind]);
}

/* daemonize - into the background, with stdio on /dev/null */

static void daemonize(void)
{
    pid_t   pid;
    int     fd;

    if ((pid = fork()) < 0)
	fatal("fork: %s", strerror(errno));
    if (pid > 0)
	_exit(0);
    (void) setsid();
    if (chdir("/") < 0 || (fd = open("/dev/null", O_RDWR)) < 0)
	fatal("cannot detach: %s", strerror(errno));
    (void) dup2(fd, 0);
    (void) dup2(fd, 1);
    (void) dup2(fd, 2);
    if (fd > 2)
	(void) close(fd);
}

/* main - load the settings, listen, serve until told to stop */

int     main(int argc, char **argv)
{
    static struct daemon d;
    const char *config = RRELAY_CONFIG;
    char   *overrides[OVERRIDES_MAX];
    int     n_overrides = 0;
    int     given = 0;
    int     foreground = 0;
    char    err[1024];
    char    dir[sizeof(((struct sockaddr_un *) 0)->sun_path)];
    char    pidfile[sizeof(dir) + 32];
    struct passwd *pw;
    struct sigaction sa;
    sigset_t block;
    sigset_t orig;

    parse_args(argc, argv, &config, &given, overrides, &n_overrides,
	       &foreground);
    if (rrconfig_load(&d.conf, config, given, overrides, n_overrides, err,
		      sizeof(err)) < 0)
	fatal("configuration error: %s", err);
    if (log_open("rrelay-cache", d.conf.log, err, sizeof(err)) < 0)
	fatal("configuration error: %s", err);
    pw = run_as();
    if (d.conf.delivery_workers > 0)
	socket_dir(d.conf.delivery_socket, pw, dir, sizeof(dir));
    socket_dir(d.conf.cache_socket, pw, dir, sizeof(dir));
    if (pw)
	drop_privileges(pw);
    d.uid = geteuid();
    snprintf(pidfile, sizeof(pidfile), "%s/rrelay-cache.pid", dir);
    if (cache_table_init(&d.table, d.conf.cache_time_limit,
			 d.conf.cache_reuse_limit, d.conf.cache_per_host,
			 table_room(), quit_close, &d) < 0
	|| cache_table_init(&d.sessions, d.conf.cache_time_limit,
			    CACHE_USE_MAX, d.conf.cache_per_host, SESSIONS_MAX,
			    forget_session, &d) < 0)
	fatal("out of memory%s", "");
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGCHLD);
    sigprocmask(SIG_BLOCK, &block, &orig);	/* delivered only in ppoll */
    sigaction(SIGTERM, &sa, 0);
    sigaction(SIGINT, &sa, 0);
    sa.sa_handler = on_child;
    sa.sa_flags = SA_NOCLDSTOP;
    sigaction(SIGCHLD, &sa, 0);
    signal(SIGPIPE, SIG_IGN);
    d.listen_fd = listen_on(d.conf.cache_socket, SOCK_NONBLOCK, 64);
    d.deliver_fd = d.conf.delivery_workers > 0 ?
	listen_on(d.conf.delivery_socket, 0, (int) d.conf.delivery_workers) : -1;
    if (!foreground) {
	daemonize();
	write_pidfile(pidfile);
    }
    if (workers_init(&d.workers, &d.conf, d.deliver_fd, forget_tables, &d) < 0)
	fatal("out of memory%s", "");
    log_info("started: uid=%ld, socket=%s, time_limit=%lds, reuse_limit=%ld, "
	     "per_host=%ld, total=%d, tls_proxy_limit=%ld, "
	     "delivery_workers=%ld",
	     (long) d.uid, d.conf.cache_socket, d.conf.cache_time_limit,
	     d.conf.cache_reuse_limit, d.conf.cache_per_host, d.table.total,
	     d.conf.tls_proxy_limit, d.conf.delivery_workers);
    workers_fill(&d.workers);
    while (!stopping)
	turn(&d, &orig);
    log_info("stopping: closing %d idle connections; %lu were reused; "
	     "%d TLS ends still running; %d delivery workers told to stop "
	     "after their deliveries", d.table.count, d.handed, d.tls_ends,
	     d.workers.running);
    workers_stop(&d.workers);
    if (d.deliver_fd >= 0) {
	(void) unlink(d.conf.delivery_socket);
	(void) close(d.deliver_fd);
    }
    cache_drain(&d.table, "rrelay-cache stopping");
    cache_drain(&d.sessions, "rrelay-cache stopping");
    while (d.nclients > 0)
	drop_client(&d, d.nclients - 1);
    (void) unlink(d.conf.cache_socket);
    if (!foreground)
	(void) unlink(pidfile);
    (void) close(d.listen_fd);
    cache_table_free(&d.table);
    cache_table_free(&d.sessions);
    free(d.workers.pids);
    rrconfig_free(&d.conf);
    return (0);
}
