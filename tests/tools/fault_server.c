/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	fault_server - an SMTP server that fails at the stage a script names
 * SYNOPSIS
 *	fault_server PORT DIR [cert=FILE key=FILE] [size=N] [smtputf8=yes]
 *		[STAGE=ACTION]...
 * DESCRIPTION
 *	fault_server listens on 127.0.0.1:PORT and serves each connection
 *	in a child process of its own, as a plain SMTP server (EHLO with
 *	PIPELINING and SIZE, MAIL, RCPT, DATA, RSET, NOOP, QUIT), except at
 *	the stages the script names. With cert= and key= (PEM files) it
 *	offers STARTTLS too, and speaks TLS after it. size=N is the SIZE
 *	its EHLO reply offers (default 10240000); smtputf8=yes adds
 *	SMTPUTF8 to it. STAGE is one of
 *
 *	greet	the greeting
 *	ehlo	the reply to EHLO (or HELO)
 *	mail	the reply to MAIL FROM
 *	rcpt	the reply to each RCPT TO
 *	data	the reply to DATA
 *	body	after the first lines of the body (only close, which
 *		closes with the rest unread, and silent, which stops
 *		reading, so that the client's writes block)
 *	dot	the reply to the final dot
 *	quit	the reply to QUIT
 *
 *	and ACTION one of
 *
 *	NNN	answer code NNN ("NNN X.0.0 fault at STAGE"); 421 also
 *		closes the connection, as RFC 5321 says
 *	close	close the connection without a word
 *	silent	say nothing more, and read until the client goes
 *	slow	give the normal answer one byte every 100 ms
 *	endless	a multi-line reply without end ("250-more", 200,000
 *		lines at the most)
 *	longline	one reply line of 100 KB
 *	NNN TEXT	the reply line "NNN TEXT" as it is (421 closes)
 *	N:ACTION	the normal answer the first N times this stage is
 *		reached, counted over all sessions, then ACTION
 *	250+NNN	(dot only) the normal 250; then, on the first connection
 *		that gets here, as soon as DIR/trigger exists, an unsolicited line "NNN
 *		X.7.1 unsolicited line after the dot", and DIR/stale
 *		created once it was written: a server or middlebox that
 *		speaks out of turn while the client keeps the connection
 *		idle
 *	250+close	(dot only) the same, but the server closes that
 *		connection instead (DIR/stale created just before): an
 *		upstream that ends idle sessions, on cue rather than on a
 *		timer
 *
 *	A message the server accepts (a 2xx to the final dot), and one
 *	whose final dot it received but did not answer (dot=close,
 *	dot=silent: the reply is lost), is written to DIR/msg.PID.N: the
 *	lines "X-Mail-From: <...>" and "X-Rcpt-To: <...>" for the envelope,
 *	then the message as it came, dot-stuffing undone. Every RCPT TO it
 *	saw is appended to DIR/rcpts, one address a line. The time of each
 *	MAIL FROM (seconds since the epoch, to the microsecond) is appended
 *	to DIR/mail_times. DIR/max_sessions holds the most sessions that
 *	were open at once: a session counts from its accept to the QUIT
 *	command (before the 221) or the client's close. DIR/ready is
 *	created once the socket listens.
 *
 *	The children die with the server (PR_SET_PDEATHSIG); SIGTERM ends it.
 * EXIT STATUS
 *	0 after SIGTERM, 1 on a usage or system error.
 * SEE ALSO
 *	tests/faults/matrix.bats
 */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "listen.h"

#define PROG		"fault_server"
#define LINE_MAX_LEN	4096		/* longest command line read */
#define ENDLESS_MAX	200000		/* lines of an "endless" reply */
#define LONG_LINE	(100 * 1024)	/* bytes of a "longline" reply */
#define TRIGGER_WAIT_MS	60000		/* at most, for DIR/trigger */

enum stage { GREET, EHLO, MAIL, RCPT, DATA, BODY, DOT, QUIT, STAGES };

static const char *stage_names[STAGES] = {
    "greet", "ehlo", "mail", "rcpt", "data", "body", "dot", "quit",
};

static const char *script[STAGES];	/* the action per stage, or null */
static const char *dir;
static const char *cert_file;		/* cert=: STARTTLS offered */
static const char *key_file;
static SSL_CTX *tls_ctx;
static volatile sig_atomic_t stop;
static const char *size_limit = "10240000";	/* size=N: EHLO's SIZE */
static int smtputf8;			/* smtputf8=yes: EHLO offers it */

/* Reading one connection. */

struct conn {
    int     fd;
    char    buf[LINE_MAX_LEN];
    size_t  len;
    FILE   *msg;			/* the message being received */
    char    msg_path[512];
    char    from[LINE_MAX_LEN];
    int     count;			/* messages accepted so far */
    SSL    *ssl;			/* after STARTTLS */
    int     spoke_out;			/* the unsolicited line was sent */
};

/* on_term - SIGTERM: stop accepting */

static void on_term(int sig)
{
    (void) sig;
    stop = 1;
}

/* io_read - read from the connection, through TLS after STARTTLS */

static ssize_t io_read(struct conn *c, char *buf, size_t len)
{
    int     n;

    if (c->ssl == 0)
	return (read(c->fd, buf, len));
    n = SSL_read(c->ssl, buf, (int) len);
    return (n > 0 ? n : -1);
}

static void session_end(void);

/* bye - the session is over: it no longer counts as open */

static void bye(void)
{
    session_end();
    _exit(0);
}

/* send_all - write it all; exit when the client is gone */

static void send_all(struct conn *c, const char *data, size_t len)
{
    ssize_t n;

    while (len > 0) {
	if (c->ssl)
	    n = SSL_write(c->ssl, data, (int) len) > 0 ? (ssize_t) len : -1;
	else
	    n = write(c->fd, data, len);
	if (n < 0) {
	    if (errno == EINTR && c->ssl == 0)
		continue;
	    bye();
	}
	data += n;
	len -= (size_t) n;
    }
}

/* drain - read and drop until the client closes */

static void drain(struct conn *c)
{
    char    sink[4096];

    while (io_read(c, sink, sizeof(sink)) > 0)
	 /* void */ ;
    bye();
}

/* shared_add - add delta to counter file DIR/name under a lock; the new value */

static long shared_add(const char *name, long delta, const char *max_name)
{
    char    path[512];
    char    buf[32];
    long    value = 0;
    long    max = 0;
    ssize_t n;
    int     fd;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    if ((fd = open(path, O_RDWR | O_CREAT, 0644)) < 0 || flock(fd, LOCK_EX) < 0)
	tool_die(PROG, path);
    if ((n = pread(fd, buf, sizeof(buf) - 1, 0)) > 0) {
	buf[n] = 0;
	value = strtol(buf, 0, 10);
    }
    value += delta;
    n = snprintf(buf, sizeof(buf), "%ld\n", value);
    if (ftruncate(fd, 0) < 0 || pwrite(fd, buf, (size_t) n, 0) != n)
	tool_die(PROG, path);
    if (max_name) {
	snprintf(path, sizeof(path), "%s/%s", dir, max_name);
	FILE   *fp = fopen(path, "r");

	if (fp && fscanf(fp, "%ld", &max) != 1)
	    max = 0;
	if (fp)
	    fclose(fp);
	if (value > max && (fp = fopen(path, "w")) != 0) {
	    fprintf(fp, "%ld\n", value);
	    fclose(fp);
	}
    }
    close(fd);				/* the lock goes with it */
    return (value);
}

/* session_end - the session no longer counts as open */

static void session_end(void)
{
    static int ended;

    if (!ended++)
	(void) shared_add("open_sessions", -1, 0);
}

/* note_mail - append the time of a MAIL FROM to DIR/mail_times */

static void note_mail(void)
{
    struct timespec ts;
    char    path[512];
    int     fd;

    clock_gettime(CLOCK_REALTIME, &ts);
    snprintf(path, sizeof(path), "%s/mail_times", dir);
    if ((fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0644)) < 0)
	return;
    dprintf(fd, "%ld.%06ld\n", (long) ts.tv_sec, ts.tv_nsec / 1000);
    close(fd);
}

/* script_action - the action for this stage now: N:ACTION counts first */

static const char *script_action(enum stage st)
{
    const char *act = script[st];
    char   *end;
    long    n;
    char    name[32];

    if (act == 0 || !isdigit((unsigned char) act[0]))
	return (act);
    n = strtol(act, &end, 10);
    if (*end != ':')
	return (act);
    snprintf(name, sizeof(name), "count.%s", stage_names[st]);
    return (shared_add(name, 1, 0) <= n ? 0 : end + 1);
}

/* touch - create DIR/name */

static void touch(const char *name)
{
    char    path[512];
    int     fd;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    if ((fd = open(path, O_WRONLY | O_CREAT, 0644)) < 0)
	tool_die(PROG, path);
    close(fd);
}

/* speak_out - once DIR/trigger exists, the unsolicited line NNN */

static void speak_out(struct conn *c, const char *code)
{
    char    path[512];
    char    text[128];
    struct stat st;
    int     waited;

    snprintf(path, sizeof(path), "%s/stale", dir);
    if (c->spoke_out++ || stat(path, &st) == 0)
	return;					/* once per server */
    snprintf(path, sizeof(path), "%s/trigger", dir);
    for (waited = 0; stat(path, &st) < 0 && waited < TRIGGER_WAIT_MS;
	 waited += 20)
	usleep(20000);
    if (strcmp(code, "close") == 0) {
	touch("stale");
	bye();
    }
    snprintf(text, sizeof(text), "%.3s %c.7.1 unsolicited line after the "
	     "dot\r\n", code, code[0]);
    send_all(c, text, strlen(text));
    touch("stale");
}

/* fault_reply - the scripted reply in place of normal; 0 to answer normally */

static int fault_reply(struct conn *c, enum stage st, const char *normal)
{
    const char *act = script_action(st);
    char    text[512];
    static char big[LONG_LINE + 8];
    int     i;

    if (act == 0)
	return (0);
    if (strcmp(act, "close") == 0)
	bye();
    if (strcmp(act, "silent") == 0)
	drain(c);
    if (strcmp(act, "slow") == 0) {
	for (i = 0; normal[i]; i++) {
	    send_all(c, normal + i, 1);
	    usleep(100000);
	}
	return (1);
    }
    if (strcmp(act, "endless") == 0) {
	for (i = 0; i < ENDLESS_MAX; i++)
	    send_all(c, "250-more\r\n", 10);
	bye();
    }
    if (strcmp(act, "longline") == 0) {
	memcpy(big, "250 ", 4);
	memset(big + 4, 'x', LONG_LINE);
	memcpy(big + 4 + LONG_LINE, "\r\n", 2);
	send_all(c, big, LONG_LINE + 6);
	return (1);
    }
    if (st == DOT && strncmp(act, "250+", 4) == 0) {
	send_all(c, normal, strlen(normal));
	speak_out(c, act + 4);
	return (1);
    }
    if (strlen(act) > 4 && act[3] == ' ')
	snprintf(text, sizeof(text), "%s\r\n", act);
    else
	snprintf(text, sizeof(text), "%.3s %c.0.0 fault at %s\r\n", act,
		 act[0], stage_names[st]);
    send_all(c, text, strlen(text));
    if (strncmp(act, "421", 3) == 0)
	bye();
    return (1);
}

/* reply - the scripted reply, or the normal one */

static void reply(struct conn *c, enum stage st, const char *normal)
{
    if (!fault_reply(c, st, normal))
	send_all(c, normal, strlen(normal));
}

/* read_line - one line without CRLF into line; -1 at EOF */

static int read_line(struct conn *c, char *line, size_t size)
{
    char   *nl;
    ssize_t n;
    size_t  len;

    while ((nl = memchr(c->buf, '\n', c->len)) == 0) {
	if (c->len == sizeof(c->buf))
	    c->len = 0;			/* an over-long line: drop it */
	if ((n = io_read(c, c->buf + c->len, sizeof(c->buf) - c->len)) <= 0)
	    return (-1);
	c->len += (size_t) n;
    }
    len = (size_t) (nl - c->buf);
    if (len > 0 && c->buf[len - 1] == '\r')
	len--;
    if (len >= size)
	len = size - 1;
    memcpy(line, c->buf, len);
    line[len] = 0;
    c->len -= (size_t) (nl + 1 - c->buf);
    memmove(c->buf, nl + 1, c->len);
    return (0);
}

/* note_rcpt - append a recipient to DIR/rcpts */

static void note_rcpt(const char *arg)
{
    char    path[512];
    int     fd;

    snprintf(path, sizeof(path), "%s/rcpts", dir);
    if ((fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0644)) < 0)
	return;
    dprintf(fd, "%s\n", arg);
    close(fd);
}

/* begin_message - open the message file, envelope first */

static void begin_message(struct conn *c, const char *rcpts)
{
    snprintf(c->msg_path, sizeof(c->msg_path), "%s/.tmp.%d.%d", dir,
	     (int) getpid(), c->count);
    if ((c->msg = fopen(c->msg_path, "w")) == 0)
	tool_die(PROG, c->msg_path);
    fprintf(c->msg, "X-Mail-From: %s\n%s", c->from, rcpts);
}

/* keep_message - the message is accepted (or its reply lost): keep it */

static void keep_message(struct conn *c)
{
    char    path[512];

    if (c->msg == 0)
	return;
    fclose(c->msg);
    c->msg = 0;
    snprintf(path, sizeof(path), "%s/msg.%d.%d", dir, (int) getpid(),
	     c->count++);
    if (rename(c->msg_path, path) < 0)
	tool_die(PROG, "rename");
}

/* receive_body - DATA until the dot; 0, or -1 at EOF */

static int receive_body(struct conn *c)
{
    char    line[LINE_MAX_LEN];
    int     lines = 0;

    while (read_line(c, line, sizeof(line)) == 0) {
	if (strcmp(line, ".") == 0)
	    return (0);
	if (++lines == 2 && script[BODY] && strcmp(script[BODY], "silent") == 0)
	    for (;;)
		pause();		/* stop reading: the client's writes block */
	if (lines == 2 && script[BODY])
	    fault_reply(c, BODY, "");
	fprintf(c->msg, "%s\n", line[0] == '.' ? line + 1 : line);
    }
    return (-1);
}

/* do_data - DATA, the body, the final dot */

static void do_data(struct conn *c, char *rcpts)
{
    int     lost;

    reply(c, DATA, "354 go ahead\r\n");
    begin_message(c, rcpts);
    if (receive_body(c) < 0) {
	fclose(c->msg);
	unlink(c->msg_path);
	bye();
    }
    /* A dot whose reply never leaves: the message was received. */
    lost = script[DOT] && (strcmp(script[DOT], "close") == 0
			   || strcmp(script[DOT], "silent") == 0);
    if (lost || script[DOT] == 0 || script[DOT][0] == '2'
	|| strcmp(script[DOT], "slow") == 0)
	keep_message(c);
    else {
	fclose(c->msg);
	unlink(c->msg_path);
	c->msg = 0;
    }
    reply(c, DOT, "250 2.0.0 ok: queued\r\n");
    rcpts[0] = 0;
}

/* start_tls - STARTTLS: 220, then the server side of the handshake */

static void start_tls(struct conn *c)
{
    if (tls_ctx == 0 || c->ssl) {
	send_all(c, "502 5.5.1 no STARTTLS here\r\n", 28);
	return;
    }
    send_all(c, "220 2.0.0 ready to start TLS\r\n", 30);
    c->len = 0;					/* nothing carried across */
    if ((c->ssl = SSL_new(tls_ctx)) == 0 || SSL_set_fd(c->ssl, c->fd) != 1
	|| SSL_accept(c->ssl) != 1)
	bye();
}

/* ehlo_reply - the EHLO reply: STARTTLS while it can be used */

static const char *ehlo_reply(const struct conn *c)
{
    static char text[256];

    snprintf(text, sizeof(text), "250-fault.test\r\n250-PIPELINING\r\n%s%s"
	     "250 SIZE %s\r\n", tls_ctx && c->ssl == 0 ? "250-STARTTLS\r\n" : "",
	     smtputf8 ? "250-SMTPUTF8\r\n" : "", size_limit);
    return (text);
}

/* session - one SMTP session */

static void session(int fd)
{
    static struct conn c;
    static char rcpts[64 * 1024];
    char    line[LINE_MAX_LEN];

    c.fd = fd;
    (void) shared_add("open_sessions", 1, "max_sessions");
    reply(&c, GREET, "220 fault.test ESMTP fault_server\r\n");
    while (read_line(&c, line, sizeof(line)) == 0) {
	if (strncasecmp(line, "EHLO", 4) == 0 || strncasecmp(line, "HELO", 4) == 0)
	    reply(&c, EHLO, ehlo_reply(&c));
	else if (strcasecmp(line, "STARTTLS") == 0)
	    start_tls(&c);
	else if (strncasecmp(line, "MAIL FROM:", 10) == 0) {
	    snprintf(c.from, sizeof(c.from), "%s", line + 10);
	    note_mail();
	    rcpts[0] = 0;
	    reply(&c, MAIL, "250 2.1.0 ok\r\n");
	} else if (strncasecmp(line, "RCPT TO:", 8) == 0) {
	    note_rcpt(line + 8);
	    if (!fault_reply(&c, RCPT, "250 2.1.5 ok\r\n")) {
		send_all(&c, "250 2.1.5 ok\r\n", 14);
		if (strlen(rcpts) + strlen(line) + 16 < sizeof(rcpts))
		    sprintf(rcpts + strlen(rcpts), "X-Rcpt-To: %s\n", line + 8);
	    }
	} else if (strcasecmp(line, "DATA") == 0 && rcpts[0] == 0)
	    send_all(&c, "554 5.5.1 no valid recipients\r\n", 32);
	else if (strcasecmp(line, "DATA") == 0)
	    do_data(&c, rcpts);
	else if (strcasecmp(line, "QUIT") == 0) {
	    session_end();
	    reply(&c, QUIT, "221 2.0.0 bye\r\n");
	    break;
	} else
	    send_all(&c, "250 2.0.0 ok\r\n", 14);
    }
    bye();
}

/* tls_init - the server's TLS context from cert= and key= */

static void tls_init(void)
{
    if (cert_file == 0 && key_file == 0)
	return;
    if (cert_file == 0 || key_file == 0) {
	fprintf(stderr, "%s: cert= and key= go together\n", PROG);
	exit(1);
    }
    if ((tls_ctx = SSL_CTX_new(TLS_server_method())) == 0
	|| SSL_CTX_use_certificate_chain_file(tls_ctx, cert_file) != 1
	|| SSL_CTX_use_PrivateKey_file(tls_ctx, key_file, SSL_FILETYPE_PEM) != 1) {
	ERR_print_errors_fp(stderr);
	exit(1);
    }
}

/* parse_script - STAGE=ACTION arguments */

static void parse_script(int argc, char **argv)
{
    char   *eq;
    int     i;
    int     st;

    for (i = 3; i < argc; i++) {
	if ((eq = strchr(argv[i], '=')) == 0)
	    goto bad;
	*eq = 0;
	if (strcmp(argv[i], "cert") == 0 || strcmp(argv[i], "key") == 0) {
	    *(argv[i][0] == 'c' ? &cert_file : &key_file) = eq + 1;
	    continue;
	}
	if (strcmp(argv[i], "size") == 0) {
	    size_limit = eq + 1;
	    continue;
	}
	if (strcmp(argv[i], "smtputf8") == 0) {
	    smtputf8 = strcmp(eq + 1, "yes") == 0;
	    continue;
	}
	for (st = 0; st < STAGES && strcmp(argv[i], stage_names[st]); st++)
	     /* void */ ;
	if (st == STAGES)
	    goto bad;
	script[st] = eq + 1;
    }
    return;
bad:
    fprintf(stderr, "%s: bad STAGE=ACTION: %s\n", PROG, argv[i]);
    exit(1);
}

/* serve - accept until SIGTERM; a child per connection */

static void serve(int lfd)
{
    int     fd;
    pid_t   pid;

    while (!stop) {
	while (waitpid(-1, 0, WNOHANG) > 0)
	     /* void */ ;
	if ((fd = accept(lfd, 0, 0)) < 0) {
	    if (errno == EINTR)
		continue;
	    tool_die(PROG, "accept");
	}
	if ((pid = fork()) < 0)
	    tool_die(PROG, "fork");
	if (pid == 0) {
	    close(lfd);
	    signal(SIGTERM, SIG_DFL);
	    prctl(PR_SET_PDEATHSIG, SIGKILL);
	    if (getppid() == 1)
		_exit(0);
	    session(fd);
	}
	close(fd);
    }
}

int     main(int argc, char **argv)
{
    struct sigaction sa;
    int     lfd;

    if (argc < 3) {
	fprintf(stderr, "usage: %s PORT DIR [cert=FILE key=FILE] "
		"[STAGE=ACTION]...\n", PROG);
	return (1);
    }
    dir = argv[2];
    parse_script(argc, argv);
    tls_init();
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_term;		/* no SA_RESTART: accept() returns */
    sigaction(SIGTERM, &sa, 0);
    signal(SIGPIPE, SIG_IGN);
    lfd = tool_listen(PROG, argv[1], 128);
    touch("ready");
    serve(lfd);
    return (0);
}
