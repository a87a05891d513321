/* SPDX-License-Identifier: MIT */
#ifndef RR_LOG_H
#define RR_LOG_H

/* log.h - one-line event logging to syslog (facility mail), stderr or a file */

#include <stdarg.h>
#include <stddef.h>

#define LOG_LINE_MAX	2048	/* longest line logged; longer is truncated */

extern int log_open(const char *ident, const char *target, char *err,
		            size_t errlen);
extern int log_file_fd(void);
extern void log_reconnect(void);
extern void log_hold(int hold);
extern void log_release(void);
extern void log_info(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
extern void log_debug(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
extern void log_warn(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
extern void log_error(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
extern void log_vprint(int severity, const char *fmt, va_list ap);
extern void log_sanitize(char *text);
extern void log_privs_hold(void);
extern int log_privs_drop(void);
extern int log_check_target(const char *value, char *why, size_t whylen);

#endif
