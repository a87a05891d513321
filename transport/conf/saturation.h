/* SPDX-License-Identifier: MIT */
#ifndef RR_SATURATION_H
#define RR_SATURATION_H

/* saturation.h - replies that mean "this host is full", not "recipient refused" */

#include <stddef.h>

#define SAT_RULE_MAX	256		/* rules in one saturation_file */
#define SAT_REGEX_MAX	512		/* bytes of one rule's regex */

enum sat_class { SAT_NONE = 0, SAT_THROTTLE = 1, SAT_QUOTA = 2 };

struct saturation;			/* the site rules; opaque */

extern int saturation_load(const char *path, struct saturation **sat,
			           char *err, size_t errlen);
extern void saturation_free(struct saturation *sat);
extern int saturation_classify(const struct saturation *sat, int code,
			               const char *enhanced, const char *text,
			               const char **rule);
extern const char *saturation_class_name(int cls);

#endif
