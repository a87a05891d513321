/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	pfconf 3
 * SUMMARY
 *	read one parameter from a Postfix main.cf
 * SYNOPSIS
 *	#include "pfconf.h"
 *
 *	int	pfconf_get(dir, name, buf, buflen)
 *
 *	int	pfconf_list_has(list, word)
 * DESCRIPTION
 *	pfconf_get() reads dir/main.cf as Postfix does: "name = value"
 *	lines, '#' comment lines, blank lines, and lines that start with
 *	white space continuing the one before. The last definition wins.
 *	The value is returned as written: $name expansion is left to the
 *	caller (log.c treats a value with '$' in it as "set", or ignores
 *	it where it needs a path). It is read only for what the log
 *	target "postfix" needs: maillog_file, queue_directory,
 *	myhostname and alternate_config_directories.
 *
 *	pfconf_list_has() tells whether a Postfix list (words separated
 *	by commas and white space) holds word.
 * DIAGNOSTICS
 *	pfconf_get() returns 1 with the value in buf, 0 when main.cf does
 *	not set name (buf empty), -1 when main.cf cannot be read or a line
 *	is too long (errno set).
 */

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "pfconf.h"

/* pfconf_trim - cut white space off both ends of text, in place */

static char *pfconf_trim(char *text)
{
    char   *end;

    text += strspn(text, " \t");
    end = text + strlen(text);
    while (end > text && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
	*--end = 0;
    return (text);
}

/* pfconf_match - the value of a "name = value" line, or null */

static char *pfconf_match(char *line, const char *name)
{
    size_t  len = strlen(name);
    char   *cp;

    if (strncmp(line, name, len) != 0)
	return (0);
    cp = line + len;
    cp += strspn(cp, " \t");
    if (*cp != '=')
	return (0);
    return (pfconf_trim(cp + 1));
}

/* pfconf_get - the last value main.cf gives name */

int     pfconf_get(const char *dir, const char *name, char *buf, size_t buflen)
{
    char    path[1024];
    char    line[CF_LINE_MAX];
    char   *value;
    FILE   *fp;
    int     in_value = 0;
    int     found = 0;
    int     status;

    buf[0] = 0;
    snprintf(path, sizeof(path), "%s/main.cf", dir);
    if ((fp = fopen(path, "re")) == 0)
	return (-1);
    while ((status = cf_read_line(fp, line, sizeof(line))) == CF_LINE_OK) {
	if (line[0] == ' ' || line[0] == '\t') {
	    value = pfconf_trim(line);
	    if (in_value && *value && *value != '#' && strlen(buf) + 1 < buflen) {
		strncat(buf, " ", buflen - strlen(buf) - 1);
		strncat(buf, value, buflen - strlen(buf) - 1);
	    }
	    continue;
	}
	in_value = 0;
	if ((value = pfconf_match(line, name)) != 0) {
	    snprintf(buf, buflen, "%s", value);
	    in_value = found = 1;
	}
    }
    (void) fclose(fp);
    if (status != CF_LINE_EOF) {
	errno = status == CF_LINE_ERROR ? errno : EINVAL;
	return (-1);
    }
    return (found);
}

/* pfconf_list_has - whether a comma or space separated list holds word */

int     pfconf_list_has(const char *list, const char *word)
{
    size_t  len = strlen(word);
    size_t  n;

    while (*list) {
	list += strspn(list, ", \t");
	n = strcspn(list, ", \t");
	if (n == len && n > 0 && strncmp(list, word, n) == 0)
	    return (1);
	list += n;
    }
    return (0);
}
