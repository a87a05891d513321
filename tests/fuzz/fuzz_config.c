/* SPDX-License-Identifier: MIT */
/*
 * fuzz_config - fuzz harness for common/config.c and transport/rrconfig.c
 *
 * Input: a byte for the number of -o overrides (0 to 3), the overrides
 * (each ending with a NUL), then the configuration file, NUL bytes and
 * all. The harness adds "-o helo_name=fuzz.example" (no DNS lookup for
 * the default) and empty tls_policy_file and auth_file (those files
 * have their own harness).
 *
 * Properties: a file with a NUL byte is refused, at a line: it is no
 * text file, and read as one a line would be cut short and its rest
 * read as a line of its own. rrconfig_load() either fails with a
 * reason that names where ("file:line", "-o" or the file for a
 * cross-check), or every
 * time is within its bounds, max_backoff >= backoff, paths are
 * absolute and the TLS level is one of the five. Either way
 * rrconfig_free() releases all (the leak checker sees the rest).
 * For each override's text, and its value after '=': cf_enum_index()
 * finds only a choice spelled exactly so, cf_parse_time() agrees with
 * a parser written from the manual page, and cf_parse_bool() accepts
 * exactly yes/no, true/false, on/off and 1/0 in any case.
 */

#include <ctype.h>
#include <limits.h>
#include <strings.h>
#include <unistd.h>

#include "fuzz.h"
#include "config.h"
#include "conf/rrconfig.h"

#define N_FORCED	3

/* ref_time - "digits[unit]" to seconds, written from the manual */

static int ref_time(const char *text, long *seconds)
{
    const char *units = "smhdw";
    static const long mult[] = {1, 60, 3600, 86400, 604800};
    const char *cp = text;
    const char *u;
    long    value = 0;

    if (!isdigit((unsigned char) *cp))
	return (-1);
    for (; isdigit((unsigned char) *cp); cp++) {
	if (value > (LONG_MAX - (*cp - '0')) / 10)
	    return (-1);
	value = value * 10 + (*cp - '0');
    }
    if (*cp == 0) {
	*seconds = value;
	return (0);
    }
    if ((u = strchr(units, *cp)) == 0 || cp[1] != 0
	|| value > LONG_MAX / mult[u - units])
	return (-1);
    *seconds = value * mult[u - units];
    return (0);
}

/* check_value - the value parsers on one text */

static void check_value(const char *text)
{
    static const char *words[] = {"yes", "no", "true", "false", "on", "off",
    "1", "0"};
    long    got;
    long    want;
    int     status;
    int     flag;
    int     index;
    int     known = -1;
    size_t  i;
    size_t  len;
    const char *cp;

    status = cf_parse_time(text, &got);
    FUZZ_ASSERT(status == ref_time(text, &want), "time \"%s\"", text);
    FUZZ_ASSERT(status < 0 || got == want, "time \"%s\": %ld", text, got);
    for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
	if (strcasecmp(text, words[i]) == 0)
	    known = (i % 2 == 0);
    status = cf_parse_bool(text, &flag);
    FUZZ_ASSERT((status == 0) == (known >= 0) && (status < 0 || flag == known),
		"bool \"%s\"", text);
    if ((index = cf_enum_index(TLS_LEVEL_NAMES, text)) < 0)
	return;
    for (cp = TLS_LEVEL_NAMES; index > 0; index--)
	cp = strchr(cp, '|') + 1;
    len = strcspn(cp, "|");
    FUZZ_ASSERT(strlen(text) == len && strncmp(cp, text, len) == 0,
		"enum \"%s\" taken as \"%.*s\"", text, (int) len, cp);
}

/* check_conf - a configuration that loaded */

static void check_conf(const struct rrconfig *c)
{
    FUZZ_ASSERT(c->connect_timeout >= 1 && c->connect_timeout <= 3600
		&& c->command_timeout >= 1 && c->command_timeout <= 3600
		&& c->greeting_grace >= 0 && c->greeting_grace <= 3600
		&& c->data_timeout >= 1 && c->data_timeout <= 3600
		&& c->deadline >= 1 && c->deadline <= 86400
		&& c->backoff >= 1 && c->backoff <= 86400
		&& c->max_backoff >= c->backoff
		&& c->max_backoff <= 7 * 86400, "a time out of bounds");
    FUZZ_ASSERT(c->state_directory[0] == '/' && c->sendmail_path[0] == '/',
		"relative path");
    FUZZ_ASSERT(strcmp(c->log, "syslog") == 0 || strcmp(c->log, "stderr") == 0
		|| c->log[0] == '/', "log \"%s\"", c->log);
    FUZZ_ASSERT(c->tls_security_level >= 0 && c->tls_security_level <= 4,
		"tls level %d", c->tls_security_level);
    FUZZ_ASSERT(strcmp(c->helo_name, "fuzz.example") == 0, "helo %s",
		c->helo_name);
}

/* check_error - a refusal says where */

static void check_error(const char *err, const char *path, int newline)
{
    FUZZ_ASSERT(*err, "no reason");
    FUZZ_ASSERT(strncmp(err, path, strlen(path)) == 0
		|| strncmp(err, "-o", 2) == 0, "reason \"%s\"", err);
    FUZZ_ASSERT(newline || strchr(err, '\n') == 0, "newline in \"%s\"", err);
}

/* LLVMFuzzerTestOneInput - one configuration file and its overrides */

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_in in = {data, size};
    int     n = (int) (fuzz_take_byte(&in) % 4);
    char   *over[3 + N_FORCED];
    struct rrconfig conf;
    char    path[64];
    char    err[CF_ERR_MAX];
    int     newline = 0;
    int     fd;
    int     i;

    for (i = 0; i < n; i++) {
	over[i] = fuzz_take_str(&in);
	newline |= strchr(over[i], '\n') != 0;
	check_value(over[i]);
	if (strchr(over[i], '='))
	    check_value(strchr(over[i], '=') + 1);
    }
    over[n] = "helo_name=fuzz.example";
    over[n + 1] = "tls_policy_file=";
    over[n + 2] = "auth_file=";
    fd = fuzz_memfile(in.data, in.size, 0644, path, sizeof(path));
    err[0] = 0;
    if (rrconfig_load(&conf, path, 1, over, n + N_FORCED, err,
		      sizeof(err)) == 0) {
	FUZZ_ASSERT(memchr(in.data, 0, in.size) == 0, "NUL byte accepted");
	check_conf(&conf);
    } else {
	check_error(err, path, newline);
    }
    rrconfig_free(&conf);
    (void) close(fd);
    for (i = 0; i < n; i++)
	free(over[i]);
    return (0);
}
