/* SPDX-License-Identifier: MIT */
/*
 * fuzz_filter_conf - fuzz harness for filter/milterconf.c
 *
 * Input: a byte for the number of -o overrides (0 to 3), the overrides
 * (each ending with a NUL), then the rrelay-milter.conf file, NUL bytes
 * and all. The harness adds "-o authserv_id=mx.fuzz.example", so that
 * no host name is looked up, and gives a DNS zone instead of the
 * resolver.
 *
 * Properties: a file with a NUL byte is refused. mconf_load() either
 * fails with a reason that says where
 * (the file, or -o), or gives a configuration whose socket is
 * unix:/PATH or local:/PATH short enough for a socket address, or
 * inet:PORT[@HOST] or inet6:PORT[@HOST] with a port from 1 to 65535
 * and a host when there is an '@'; whose user is set, pidfile absolute,
 * log syslog, stderr or absolute, dns_timeout from 1 to 300 seconds;
 * whose trusted networks parse again; and whose restart-only list
 * against itself is empty. The last release frees everything (the leak
 * checker sees the rest).
 */

#include <sys/socket.h>
#include <sys/un.h>
#include <ctype.h>
#include <unistd.h>

#include "fuzz.h"
#include "milterconf.h"

/* check_socket - the milter socket as the manual page describes it */

static void check_socket(const char *spec)
{
    struct sockaddr_un sun;
    const char *arg = strchr(spec, ':');
    long    port = 0;
    const char *cp;

    FUZZ_ASSERT(arg != 0, "socket \"%s\"", spec);
    arg++;
    if (strncmp(spec, "unix:", 5) == 0 || strncmp(spec, "local:", 6) == 0) {
	FUZZ_ASSERT(*arg == '/' && strlen(arg) < sizeof(sun.sun_path),
		    "socket \"%s\"", spec);
	return;
    }
    FUZZ_ASSERT(strncmp(spec, "inet:", 5) == 0 || strncmp(spec, "inet6:", 6)
		== 0, "socket \"%s\"", spec);
    for (cp = arg; isdigit((unsigned char) *cp) && port <= 65535; cp++)
	port = port * 10 + *cp - '0';
    FUZZ_ASSERT(cp > arg && port >= 1 && port <= 65535, "port in \"%s\"",
		spec);
    FUZZ_ASSERT(*cp == 0 || (*cp == '@' && cp[1]), "socket \"%s\"", spec);
}

/* check_conf - a configuration that loaded */

static void check_conf(struct mconf *c)
{
    struct cidr_list again;
    char    err[300];
    char    changed[100];

    check_socket(c->socket);
    FUZZ_ASSERT(*c->user, "empty user");
    FUZZ_ASSERT(c->pidfile[0] == '/', "pidfile \"%s\"", c->pidfile);
    FUZZ_ASSERT(strcmp(c->log, "syslog") == 0 || strcmp(c->log, "stderr") == 0
		|| c->log[0] == '/', "log \"%s\"", c->log);
    FUZZ_ASSERT(c->dns_timeout >= 1 && c->dns_timeout <= 300, "dns_timeout");
    FUZZ_ASSERT(strcmp(c->authserv_id, "mx.fuzz.example") == 0, "id");
    FUZZ_ASSERT(cidr_list_parse(c->trusted_networks, &again, err,
				sizeof(err)) == 0
		&& again.count == c->trusted.count, "trusted networks");
    cidr_list_free(&again);
    mconf_restart_only(c, c, changed, sizeof(changed));
    FUZZ_ASSERT(changed[0] == 0, "restart-only \"%s\"", changed);
}

/* LLVMFuzzerTestOneInput - one configuration file and its overrides */

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static SPF_dns_server_t *zone;
    struct fuzz_in in = {data, size};
    int     n = (int) (fuzz_take_byte(&in) % 4);
    char   *over[4];
    struct mconf *c;
    char    path[64];
    char    err[600];
    int     fd;
    int     i;

    if (zone == 0 && (zone = SPF_dns_zone_new(0, "fuzz", 0)) == 0)
	abort();
    for (i = 0; i < n; i++)
	over[i] = fuzz_take_str(&in);
    over[n] = "authserv_id=mx.fuzz.example";
    fd = fuzz_memfile(in.data, in.size, 0644, path, sizeof(path));
    err[0] = 0;
    if ((c = mconf_load(path, 1, over, n + 1, zone, err, sizeof(err))) != 0) {
	FUZZ_ASSERT(memchr(in.data, 0, in.size) == 0, "NUL byte accepted");
	check_conf(c);
	mconf_release(c);
    } else {
	FUZZ_ASSERT(strncmp(err, path, strlen(path)) == 0
		    || strncmp(err, "-o", 2) == 0, "reason \"%s\"", err);
    }
    (void) close(fd);
    for (i = 0; i < n; i++)
	free(over[i]);
    return (0);
}
