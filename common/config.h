/* SPDX-License-Identifier: MIT */
#ifndef RR_CONFIG_H
#define RR_CONFIG_H

/* config.h - table-driven NAME = VALUE configuration, shared by both programs */

#include <stddef.h>
#include <stdio.h>

enum cf_type {
    CF_STR,				/* char *, malloc'ed */
    CF_TIME,				/* long seconds; s/m/h/d/w suffixes */
    CF_INT,				/* long */
    CF_BOOL,				/* int 0/1: yes/no, true/false, on/off */
    CF_ENUM,				/* int index into the '|' list */
};

struct cf_entry {
    const char *name;
    enum cf_type type;
    const char *def;			/* default, in the file's syntax */
    long    min;			/* CF_TIME, CF_INT bounds */
    long    max;
    const char *choices;		/* CF_ENUM: "a|b|c" */
    size_t  offset;			/* where the value lives in the struct */
    int     (*check) (const char *value, char *why, size_t whylen);
					/* CF_STR: more checks, or null */
};

#define CF_LINE_MAX	4096		/* longest config line */
#define CF_ERR_MAX	512		/* room for a file:line message */

/* cf_read_line() results */
#define CF_LINE_OK	0		/* a line, without its newline */
#define CF_LINE_EOF	(-1)		/* no more lines */
#define CF_LINE_LONG	(-2)		/* longer than the buffer */
#define CF_LINE_NUL	(-3)		/* a NUL byte: not a text file */
#define CF_LINE_ERROR	(-4)		/* read error, errno set */

extern int cf_load(const struct cf_entry *table, void *conf, const char *path,
		           int required, char *const *overrides, int n_overrides,
		           char *err, size_t errlen);
extern int cf_set(const struct cf_entry *table, void *conf, const char *name,
		          const char *value, char *err, size_t errlen);
extern void cf_free(const struct cf_entry *table, void *conf);
extern int cf_origin(const char *name, const char *path,
		             char *const *overrides, int n_overrides,
		             char *buf, size_t buflen);
extern int cf_parse_time(const char *text, long *seconds);
extern int cf_parse_bool(const char *text, int *value);
extern int cf_enum_index(const char *choices, const char *value);
extern int cf_read_line(FILE *fp, char *buf, size_t size);
extern char *cf_next_word(char **cp);
extern const char *cf_line_error(int status);

#endif
