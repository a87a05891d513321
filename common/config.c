/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	config 3
 * SUMMARY
 *	table-driven configuration loader
 * SYNOPSIS
 *	#include "config.h"
 *
 *	int	cf_load(table, conf, path, required, overrides, n_overrides,
 *			err, errlen)
 *
 *	int	cf_set(table, conf, name, value, err, errlen)
 *
 *	void	cf_free(table, conf)
 *
 *	int	cf_origin(name, path, overrides, n_overrides, buf, buflen)
 *
 *	int	cf_parse_time(text, seconds)
 *	int	cf_parse_bool(text, value)
 *	int	cf_enum_index(choices, value)
 *
 *	int	cf_read_line(fp, buf, size)
 *	const char *cf_line_error(status)
 *	char	*cf_next_word(cp)
 * DESCRIPTION
 *	A program describes its settings with a table of struct cf_entry:
 *	name, type, default, bounds, and the offset of the value in the
 *	program's configuration structure. One loader serves rrelay and
 *	rrelay-milter, so both accept the same syntax and report errors
 *	the same way.
 *
 *	cf_load() sets every default, then reads path (if it exists, or
 *	always when required is non-zero), then applies the "NAME=VALUE"
 *	overrides given with -o. The file holds "NAME = VALUE" lines.
 *	Blank lines and lines whose first non-blank character is '#' are
 *	ignored. A line that starts with white space continues the value
 *	of the line before it, as in Postfix's main.cf. A setting given
 *	twice takes the last value.
 *
 *	Times are a number with an optional unit: s (the default), m, h,
 *	d or w, as in Postfix. A string setting may name a check function
 *	in its table entry; its complaint is reported with the file and
 *	line (or the -o option) like every other mistake.
 *
 *	cf_free() releases the strings that cf_load() or cf_set() stored.
 *
 *	cf_origin() tells where the value of setting name came from, for
 *	checks that need the whole configuration and so run after
 *	cf_load(). It puts "-o NAME=VALUE" in buf when an override set
 *	it (the last one), else "path:line" of the last line of the file
 *	that set it, and returns 1. Otherwise the default is in effect:
 *	buf gets the path and the result is 0. It reads the file again
 *	and gives up quietly (the path alone) if it cannot.
 *
 *	cf_read_line() reads the next line of fp, without its newline,
 *	into buf. A line that does not fit in size - 1 bytes, or that
 *	holds a NUL byte, is an error: read on as text, it would be cut
 *	short, and what follows the cut would be read as a line of its
 *	own. The configuration file, tls_policy_file, auth_file,
 *	host_policy_file and saturation_file are read with it.
 *	cf_line_error() words an error status. cf_next_word() splits the
 *	next white-space separated word off *cp, in place, for the files
 *	of one entry a line; null when none is left.
 * DIAGNOSTICS
 *	cf_load() and cf_set() return -1 and put "file:line: what is
 *	wrong" (or "-o NAME=VALUE: what is wrong") in err.
 */

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

#define CF_SLOT(conf, e, type)	((type *) ((char *) (conf) + (e)->offset))

/* cf_find - look up a setting by name */

static const struct cf_entry *cf_find(const struct cf_entry *table,
				              const char *name)
{
    for (; table->name; table++)
	if (strcmp(table->name, name) == 0)
	    return (table);
    return (0);
}

/* cf_trim - strip leading and trailing white space in place */

static char *cf_trim(char *text)
{
    char   *end;

    while (isspace((unsigned char) *text))
	text++;
    end = text + strlen(text);
    while (end > text && isspace((unsigned char) end[-1]))
	*--end = 0;
    return (text);
}

/* cf_parse_time - convert "90", "90s", "10m", "1h", "2d", "1w" to seconds */

int     cf_parse_time(const char *text, long *seconds)
{
    char   *end;
    long    value;
    long    unit;

    if (!isdigit((unsigned char) *text))
	return (-1);
    errno = 0;
    value = strtol(text, &end, 10);
    if (errno != 0)
	return (-1);
    switch (*end) {
    case 0:
    case 's':
	unit = 1;
	break;
    case 'm':
	unit = 60;
	break;
    case 'h':
	unit = 3600;
	break;
    case 'd':
	unit = 86400;
	break;
    case 'w':
	unit = 604800;
	break;
    default:
	return (-1);
    }
    if (*end && end[1] != 0)
	return (-1);
    if (value > LONG_MAX / unit)
	return (-1);
    *seconds = value * unit;
    return (0);
}

/* cf_parse_bool - accept yes/no, true/false, on/off, 1/0 */

int     cf_parse_bool(const char *text, int *value)
{
    static const char *yes[] = {"yes", "true", "on", "1", 0};
    static const char *no[] = {"no", "false", "off", "0", 0};
    int     i;

    for (i = 0; yes[i]; i++) {
	if (strcasecmp(text, yes[i]) == 0) {
	    *value = 1;
	    return (0);
	}
	if (strcasecmp(text, no[i]) == 0) {
	    *value = 0;
	    return (0);
	}
    }
    return (-1);
}

/* cf_enum_index - position of value in a "a|b|c" list, or -1 */

int     cf_enum_index(const char *choices, const char *value)
{
    const char *cp = choices;
    size_t  len;
    int     index;

    /* Compare whole choices: "a|b" is no choice, though it is in "a|b|c". */
    for (index = 0; *cp; index++) {
	len = strcspn(cp, "|");
	if (len > 0 && strlen(value) == len && strncmp(cp, value, len) == 0)
	    return (index);
	cp += len;
	if (*cp == '|')
	    cp++;
    }
    return (-1);
}

/* cf_store - check one value against its entry and store it */

static int cf_store(const struct cf_entry *e, void *conf, const char *value,
		            char *why, size_t whylen)
{
    long    number;
    int     flag;
    char   *end;
    char   *copy;
    char    check_why[CF_ERR_MAX - 64];

    if (whylen > 0)
	why[0] = 0;				/* written on every path */

    switch (e->type) {
    case CF_STR:
	if (e->check && e->check(value, check_why, sizeof(check_why)) < 0) {
	    snprintf(why, whylen, "%s: %s", e->name, check_why);
	    return (-1);
	}
	if ((copy = strdup(value)) == 0) {
	    snprintf(why, whylen, "out of memory");
	    return (-1);
	}
	free(*CF_SLOT(conf, e, char *));
	*CF_SLOT(conf, e, char *) = copy;
	return (0);
    case CF_TIME:
	if (cf_parse_time(value, &number) < 0) {
	    snprintf(why, whylen, "bad time value \"%s\" for %s "
		     "(want a number with an optional s, m, h, d or w unit)",
		     value, e->name);
	    return (-1);
	}
	break;
    case CF_INT:
	errno = 0;
	number = strtol(value, &end, 10);
	if (errno || *value == 0 || *end != 0) {
	    snprintf(why, whylen, "bad number \"%s\" for %s", value, e->name);
	    return (-1);
	}
	break;
    case CF_BOOL:
	if (cf_parse_bool(value, &flag) < 0) {
	    snprintf(why, whylen, "bad value \"%s\" for %s (want yes or no)",
		     value, e->name);
	    return (-1);
	}
	*CF_SLOT(conf, e, int) = flag;
	return (0);
    case CF_ENUM:
	if ((flag = cf_enum_index(e->choices, value)) < 0) {
	    snprintf(why, whylen, "bad value \"%s\" for %s (want one of: %s)",
		     value, e->name, e->choices);
	    return (-1);
	}
	*CF_SLOT(conf, e, int) = flag;
	return (0);
    default:
	snprintf(why, whylen, "internal error: bad type for %s", e->name);
	return (-1);
    }
    if (number < e->min || number > e->max) {
	snprintf(why, whylen, "value \"%s\" for %s is out of range "
		 "(%ld..%ld%s)", value, e->name, e->min, e->max,
		 e->type == CF_TIME ? " seconds" : "");
	return (-1);
    }
    *CF_SLOT(conf, e, long) = number;
    return (0);
}

/* cf_set - set one named setting */

int     cf_set(const struct cf_entry *table, void *conf, const char *name,
	               const char *value, char *err, size_t errlen)
{
    const struct cf_entry *e;

    if (errlen > 0)
	err[0] = 0;				/* written on every path */

    if ((e = cf_find(table, name)) == 0) {
	snprintf(err, errlen, "unknown setting \"%s\"", name);
	return (-1);
    }
    return (cf_store(e, conf, value, err, errlen));
}

/* cf_apply_line - apply one complete "NAME = VALUE" line */

static int cf_apply_line(const struct cf_entry *table, void *conf,
			         char *line, char *why, size_t whylen)
{
    char   *eq;
    char   *name;

    if (whylen > 0)
	why[0] = 0;				/* written on every path */

    if ((eq = strchr(line, '=')) == 0) {
	snprintf(why, whylen, "missing '=' after \"%.64s\"", cf_trim(line));
	return (-1);
    }
    *eq = 0;
    name = cf_trim(line);
    if (*name == 0) {
	snprintf(why, whylen, "missing setting name before '='");
	return (-1);
    }
    return (cf_set(table, conf, name, cf_trim(eq + 1), why, whylen));
}

/* cf_read_line - the next line, without its newline; CF_LINE_* status */

int     cf_read_line(FILE *fp, char *buf, size_t size)
{
    size_t  n = 0;
    int     ch;

    while ((ch = getc(fp)) != EOF && ch != '\n') {
	if (ch == 0)
	    return (CF_LINE_NUL);
	if (n + 1 >= size)
	    return (CF_LINE_LONG);
	buf[n++] = (char) ch;
    }
    buf[n] = 0;
    if (ch == EOF && ferror(fp))
	return (CF_LINE_ERROR);
    return (ch == EOF && n == 0 ? CF_LINE_EOF : CF_LINE_OK);
}

/* cf_line_error - words for a cf_read_line() error */

const char *cf_line_error(int status)
{
    switch (status) {
    case CF_LINE_LONG:
	return ("line is too long");
    case CF_LINE_NUL:
	return ("NUL byte in line: not a text file");
    case CF_LINE_ERROR:
	return (strerror(errno));
    default:
	return ("no error");
    }
}

/* cf_line_fn - what cf_scan_file() does with each complete line */

typedef int (*cf_line_fn) (void *context, char *line, int lineno,
			           char *why, size_t whylen);

/* cf_load_ctx - cf_apply_file()'s context */

struct cf_load_ctx {
    const struct cf_entry *table;
    void   *conf;
};

/* cf_apply_file - apply one line of the file */

static int cf_apply_file(void *context, char *line, int lineno, char *why,
			         size_t whylen)
{
    struct cf_load_ctx *ctx = context;

    if (whylen > 0)
	why[0] = 0;				/* written on every path */

    (void) lineno;
    return (cf_apply_line(ctx->table, ctx->conf, line, why, whylen));
}

/* cf_scan_file - read the NAME = VALUE file, joining continuation lines */

static int cf_scan_file(FILE *fp, const char *path, cf_line_fn fn,
			        void *context, char *err, size_t errlen)
{
    char    buf[CF_LINE_MAX + 1];
    char    pending[CF_LINE_MAX + 1];
    char    why[CF_ERR_MAX];
    int     lineno = 0;
    int     pending_line = 0;
    int     status;
    char   *text;

    if (errlen > 0)
	err[0] = 0;				/* written on every path */

    pending[0] = 0;
    while ((status = cf_read_line(fp, buf, sizeof(buf))) != CF_LINE_EOF) {
	lineno++;
	if (status == CF_LINE_LONG) {
	    snprintf(err, errlen, "%s:%d: line is longer than %d characters",
		     path, lineno, CF_LINE_MAX);
	    return (-1);
	}
	if (status != CF_LINE_OK) {
	    snprintf(err, errlen, "%s:%d: %s", path, lineno,
		     cf_line_error(status));
	    return (-1);
	}
	text = cf_trim(buf);
	if (*text == 0 || *text == '#')
	    continue;
	if (isspace((unsigned char) buf[0])) {
	    if (pending_line == 0) {
		snprintf(err, errlen, "%s:%d: continuation line with no "
			 "setting before it", path, lineno);
		return (-1);
	    }
	    if (strlen(pending) + 1 + strlen(text) > CF_LINE_MAX) {
		snprintf(err, errlen, "%s:%d: value is longer than %d "
			 "characters", path, lineno, CF_LINE_MAX);
		return (-1);
	    }
	    strcat(pending, " ");
	    strcat(pending, text);
	    continue;
	}
	if (pending_line && fn(context, pending, pending_line, why,
			       sizeof(why)) < 0) {
	    snprintf(err, errlen, "%s:%d: %s", path, pending_line, why);
	    return (-1);
	}
	strcpy(pending, text);
	pending_line = lineno;
    }
    if (pending_line && fn(context, pending, pending_line, why,
			   sizeof(why)) < 0) {
	snprintf(err, errlen, "%s:%d: %s", path, pending_line, why);
	return (-1);
    }
    return (0);
}

/* cf_defaults - store every default value */

static int cf_defaults(const struct cf_entry *table, void *conf,
		               char *err, size_t errlen)
{
    char    why[CF_ERR_MAX];

    if (errlen > 0)
	err[0] = 0;				/* written on every path */

    for (; table->name; table++) {
	if (cf_store(table, conf, table->def, why, sizeof(why)) < 0) {
	    snprintf(err, errlen, "default: %s", why);
	    return (-1);
	}
    }
    return (0);
}

/* cf_load - defaults, then the file, then the -o overrides */

int     cf_load(const struct cf_entry *table, void *conf, const char *path,
		        int required, char *const *overrides, int n_overrides,
		        char *err, size_t errlen)
{
    FILE   *fp;
    char    why[CF_ERR_MAX];
    char    copy[CF_LINE_MAX + 1];
    struct cf_load_ctx ctx;
    int     i;
    int     status;

    if (errlen > 0)
	err[0] = 0;				/* written on every path */

    if (cf_defaults(table, conf, err, errlen) < 0)
	return (-1);
    ctx.table = table;
    ctx.conf = conf;
    if ((fp = fopen(path, "r")) != 0) {
	status = cf_scan_file(fp, path, cf_apply_file, &ctx, err, errlen);
	fclose(fp);
	if (status < 0)
	    return (-1);
    } else if (required || errno != ENOENT) {
	snprintf(err, errlen, "%s: %s", path, strerror(errno));
	return (-1);
    }
    for (i = 0; i < n_overrides; i++) {
	if (strlen(overrides[i]) > CF_LINE_MAX) {
	    snprintf(err, errlen, "-o: value is longer than %d characters",
		     CF_LINE_MAX);
	    return (-1);
	}
	strcpy(copy, overrides[i]);
	if (cf_apply_line(table, conf, copy, why, sizeof(why)) < 0) {
	    snprintf(err, errlen, "-o %.200s: %s", overrides[i], why);
	    return (-1);
	}
    }
    return (0);
}

/* cf_free - release the strings in a loaded configuration */

void    cf_free(const struct cf_entry *table, void *conf)
{
    for (; table->name; table++) {
	if (table->type == CF_STR) {
	    free(*CF_SLOT(conf, table, char *));
	    *CF_SLOT(conf, table, char *) = 0;
	}
    }
}

/* cf_names - does "NAME = VALUE" text set setting name? */

static int cf_names(const char *text, const char *name)
{
    size_t  len = strlen(name);

    while (isspace((unsigned char) *text))
	text++;
    if (strncmp(text, name, len) != 0)
	return (0);
    for (text += len; isspace((unsigned char) *text); text++)
	 /* void */ ;
    return (*text == '=');
}

/* cf_origin_ctx - cf_note_line()'s context */

struct cf_origin_ctx {
    const char *name;
    int     lineno;			/* last line that set it, or 0 */
};

/* cf_note_line - remember the line if it sets the setting */

static int cf_note_line(void *context, char *line, int lineno, char *why,
			        size_t whylen)
{
    struct cf_origin_ctx *ctx = context;

    if (whylen > 0)
	why[0] = 0;				/* written on every path */

    (void) why;
    (void) whylen;
    if (cf_names(line, ctx->name))
	ctx->lineno = lineno;
    return (0);
}

/* cf_origin - where a setting's value came from: -o, file:line, or default */

int     cf_origin(const char *name, const char *path,
		          char *const *overrides, int n_overrides,
		          char *buf, size_t buflen)
{
    struct cf_origin_ctx ctx;
    char    err[CF_ERR_MAX];
    FILE   *fp;
    int     i;

    for (i = n_overrides - 1; i >= 0; i--) {
	if (cf_names(overrides[i], name)) {
	    snprintf(buf, buflen, "-o %.200s", overrides[i]);
	    return (1);
	}
    }
    ctx.name = name;
    ctx.lineno = 0;
    if ((fp = fopen(path, "r")) != 0) {
	(void) cf_scan_file(fp, path, cf_note_line, &ctx, err, sizeof(err));
	fclose(fp);
    }
    if (ctx.lineno == 0) {
	snprintf(buf, buflen, "%s", path);
	return (0);
    }
    snprintf(buf, buflen, "%s:%d", path, ctx.lineno);
    return (1);
}

/* cf_next_word - split off one white-space separated word; null at the end */

char   *cf_next_word(char **cp)
{
    char   *start;

    while (isspace((unsigned char) **cp))
	(*cp)++;
    if (**cp == 0)
	return (0);
    start = *cp;
    while (**cp && !isspace((unsigned char) **cp))
	(*cp)++;
    if (**cp)
	*(*cp)++ = 0;
    return (start);
}
