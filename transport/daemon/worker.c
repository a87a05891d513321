/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	worker 3
 * SUMMARY
 *	a delivery worker: runs whole deliveries for thin rrelays
 * SYNOPSIS
 *	#include "daemon/worker.h"
 *
 *	void	worker_main(listen_fd)
 * DESCRIPTION
 *	rrelay-cache forks delivery_workers of these (workers.c). Each
 *	takes one connection at a time from listen_fd (delivery_socket),
 *	with blocking I/O, as Postfix's own daemons do, and runs the
 *	delivery it is handed with the same code as rrelay alone
 *	(delivery.c): so round-robin, failover, hand-back, TLS policy and
 *	the capacity limits behave the same either way.
 *
 *	The exchange (handoff_proto.c): the peer must be of the daemon's
 *	uid (SO_PEERCRED). Its REQUEST must arrive within WAIT_MS with
 *	exactly one descriptor, rrelay's standard input, which must be a
 *	pipe or a regular file (a socket or a tty is refused: the worker
 *	could not tell what it reads). The worker answers ACCEPT and
 *	starts only on GO, within WAIT_MS; otherwise it drops the
 *	connection having read nothing, and rrelay delivers by itself.
 *
 *	The delivery logs where its own settings say, as rrelay alone
 *	would; so do the worker's own warnings after its first delivery.
 *
 *	While it delivers, the worker watches the connection: if rrelay
 *	is gone (killed by pipe(8) or by hand), Postfix will try the
 *	message again, so the worker sends no final dot and hands nothing
 *	back (delivery.c). A delivery that overruns its deadline by
 *	BACKSTOP seconds ends the worker (SIGALRM): rrelay sees the
 *	connection break and defers, and the daemon starts a new worker.
 *
 *	Idle connections and TLS ends stay with the daemon itself, as
 *	for rrelay alone (cache_client.c): a worker takes the connection
 *	that round-robin needs from the one table every worker shares.
 *	The worker wakes every IDLE_MS to reap its children (the metrics
 *	flusher). It ends on SIGTERM, after the delivery in hand, or when
 *	the daemon that forked it is gone.
 *--*/

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "delivery.h"
#include "daemon/worker.h"
#include "ipc/cache_client.h"
#include "ipc/cache_sock.h"
#include "ipc/handoff_proto.h"
#include "net/netio.h"

#define WAIT_MS		1000		/* for REQUEST, then for GO */
#define IDLE_MS		5000		/* longest sleep between checks */
#define BACKSTOP	5		/* seconds past a delivery's deadline */

struct job {
    int     sock;			/* the thin rrelay */
    int     in_fd;			/* its standard input */
    char   *buf;			/* HANDOFF_RECORD_MAX: the request */
    struct handoff_msg msg;		/* ... parsed */
    char    go_buf[sizeof(struct handoff_head) + 1];
    struct handoff_msg go;		/* the GO record */
};

static volatile sig_atomic_t stopping;

/* on_term - SIGTERM: stop after the delivery in hand */

static void on_term(int sig)
{
    (void) sig;
    stopping = 1;
}

/* on_wake - SIGALRM while idle: only to interrupt accept() */

static void on_wake(int sig)
{
    (void) sig;
}

/* timer - SIGALRM after ms (0: none), with handler */

static void timer(long long ms, void (*handler) (int))
{
    struct sigaction sa;
    struct itimerval it;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = handler;			/* no SA_RESTART: EINTR */
    sigaction(SIGALRM, &sa, 0);
    memset(&it, 0, sizeof(it));
    it.it_value.tv_sec = (time_t) (ms / 1000);
    it.it_value.tv_usec = (suseconds_t) (ms % 1000) * 1000;
    setitimer(ITIMER_REAL, &it, 0);
}

/* await - one record into buf within WAIT_MS; 1, or 0 */

static int await(struct job *job, char *buf, size_t size,
		         struct handoff_msg *msg, int *fd)
{
    char    why[200];
    ssize_t n = ipc_await(job->sock, WAIT_MS, buf, size, fd, why,
			  sizeof(why));

    if (n > 0 && handoff_parse(buf, (size_t) n, msg, why, sizeof(why)) == 0)
	return (1);
    if (n != 0)
	log_warn("dropped a hand-over: %s", why);
    if (*fd >= 0)
	(void) close(*fd);
    *fd = -1;
    return (0);
}

/* answer - one record to the thin rrelay */

static int answer(struct job *job, enum handoff_type type, unsigned status,
		          const char *text)
{
    char    buf[sizeof(struct handoff_head) + HANDOFF_TEXT_MAX];
    ssize_t len = handoff_pack(buf, sizeof(buf), type, status, text);

    return (len < 0 ? -1 : ipc_send(job->sock, buf, (size_t) len, -1));
}

/* readable_input - a pipe or a regular file: what pipe(8) gives */

static int readable_input(int fd)
{
    struct stat st;

    return (fstat(fd, &st) == 0 && (S_ISFIFO(st.st_mode)
				    || S_ISREG(st.st_mode)));
}

/* handshake - REQUEST, ACCEPT, GO: whether the delivery is ours now */

static int handshake(struct job *job)
{
    int     fd;

    if (!await(job, job->buf, HANDOFF_RECORD_MAX, &job->msg, &job->in_fd))
	return (0);
    if (job->msg.head.type != HANDOFF_REQUEST || job->in_fd < 0) {
	log_warn("dropped a hand-over without a request and its input");
	return (0);
    }
    if (!readable_input(job->in_fd)) {
	(void) answer(job, HANDOFF_REFUSE, 0, "standard input is not a "
		      "pipe or a regular file");
	return (0);
    }
    if (answer(job, HANDOFF_ACCEPT, 0, 0) < 0
	|| !await(job, job->go_buf, sizeof(job->go_buf), &job->go, &fd))
	return (0);
    if (fd >= 0 || job->go.head.type != HANDOFF_GO) {
	if (fd >= 0)
	    (void) close(fd);
	return (0);
    }
    return (1);
}

/* client_gone - the thin rrelay closed its end: nobody waits */

static int client_gone(void *ctx)
{
    struct pollfd pfd;

    pfd.fd = *(int *) ctx;
    pfd.events = POLLIN | POLLRDHUP;
    pfd.revents = 0;
    return (poll(&pfd, 1, 0) == 1);		/* it sends nothing after GO */
}

/* passed - the value of name among envp, or null */

static const char *passed(char *const *envp, const char *name)
{
    size_t  len = strlen(name);

    for (; *envp; envp++)
	if (strncmp(*envp, name, len) == 0 && (*envp)[len] == '=')
	    return (*envp + len + 1);
    return (0);
}

/* take_environment - what pipe(8) gave the thin rrelay, and nothing else */

static void take_environment(char *const *envp)
{
    static const char *const names[] = HANDOFF_ENV_NAMES;
    const char *want;
    const char *have;
    size_t  i;

    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
	want = passed(envp, names[i]);
	have = getenv(names[i]);
	if (want == 0 && have != 0)
	    (void) unsetenv(names[i]);
	else if (want != 0 && (have == 0 || strcmp(want, have) != 0)
		 && setenv(names[i], want, 1) < 0)
	    log_warn("could not set %s for a delivery", names[i]);
    }
}

/* deliver - the request in job, with the code rrelay runs alone */

static void deliver(struct job *job)
{
    struct delivery d;
    struct outcome out;
    long long now = netio_now_ms();
    long long start_ms = now - job->msg.head.elapsed_ms;
    long long deadline_ms = now + job->msg.head.left_ms;
    char   *const *argv = job->msg.argv;

    cache_client_reset();
    take_environment(job->msg.envp);
    timer((deadline_ms - now) + BACKSTOP * 1000LL, SIG_DFL);
    if (delivery_setup(&d, (int) job->msg.head.argc, (char **) argv,
		       &out) == 0) {
	d.gone = client_gone;
	d.gone_ctx = &job->sock;
	delivery_run(&d, job->in_fd, start_ms, deadline_ms, &out);
    }
    timer(0, SIG_DFL);
    delivery_free(&d);
    if (answer(job, HANDOFF_RESULT, (unsigned) out.status, out.text) < 0)
	log_warn("%s: could not tell rrelay the result: %s", d.queue_id,
		 strerror(errno));
}

/* serve - one connection from a thin rrelay */

static void serve(int sock, uid_t uid, char *buf)
{
    static struct job job;
    char    who[64];
    sigset_t term;

    job.sock = sock;
    job.in_fd = -1;
    job.buf = buf;
    if (!ipc_peer_is(sock, uid, who, sizeof(who))) {
	log_warn("refused a delivery from %s: only uid %ld may hand over "
		 "deliveries", who, (long) uid);
    } else if (handshake(&job)) {
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	sigprocmask(SIG_BLOCK, &term, 0);	/* finish it first */
	deliver(&job);
	sigprocmask(SIG_UNBLOCK, &term, 0);
    }
    if (job.in_fd >= 0)
	(void) close(job.in_fd);
    (void) close(sock);
}

/* settle_signals - the worker's own: none blocked, SIGTERM stops it */

static void settle_signals(void)
{
    struct sigaction sa;
    sigset_t none;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_term;
    sigaction(SIGTERM, &sa, 0);
    sa.sa_handler = SIG_DFL;
    sigaction(SIGCHLD, &sa, 0);
    sigaction(SIGINT, &sa, 0);
    signal(SIGPIPE, SIG_IGN);
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, 0);
}

/* worker_main - take deliveries until told to stop */

void    worker_main(int listen_fd)
{
    pid_t   parent = getppid();
    uid_t   uid = geteuid();
    char   *buf = malloc(HANDOFF_RECORD_MAX);
    int     sock;

    settle_signals();
    (void) prctl(PR_SET_NAME, "rrelay-worker");	/* ps, pgrep: not a TLS end */
    (void) prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (buf == 0) {
	log_error("delivery worker: out of memory");
	_exit(1);
    }
    while (!stopping && getppid() == parent) {
	timer(IDLE_MS, on_wake);
	sock = accept4(listen_fd, 0, 0, SOCK_CLOEXEC);
	timer(0, on_wake);
	if (sock >= 0)
	    serve(sock, uid, buf);
	while (waitpid(-1, 0, WNOHANG) > 0)
	    continue;
    }
    _exit(0);
}
