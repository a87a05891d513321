/* SPDX-License-Identifier: MIT */
/*
 * fuzz_saturation - fuzz harness for transport/conf/saturation.c
 *
 * Input: the saturation_file up to the first NUL byte, two bytes for
 * the reply code (0 to 999), then the enhanced code and the reply text,
 * each up to the next NUL byte.
 *
 * Properties: a load either fails with "file:line: reason" on one line
 * and no rules, or succeeds. Classifying the reply, with the rules and
 * without, never crashes and gives a valid class; a rule name exactly
 * when the class is not SAT_NONE (a site rule's names a line of the
 * file); SAT_NONE for a code outside 400 to 599; the same answer when
 * asked again. Without a site rule that matches, the answer is the
 * built-in table's. saturation_free() releases everything (the replay
 * runs under valgrind too).
 */

#include <unistd.h>

#include "fuzz.h"
#include "conf/saturation.h"

#define SITE_PREFIX	"saturation_file line "

/* check_answer - one classification and its rule name */

static void check_answer(int cls, const char *rule, int code, int lines)
{
    FUZZ_ASSERT(cls == SAT_NONE || cls == SAT_THROTTLE || cls == SAT_QUOTA,
		"class %d", cls);
    FUZZ_ASSERT((cls == SAT_NONE) == (rule == 0), "class %d, rule %s", cls,
		rule ? rule : "(null)");
    FUZZ_ASSERT(cls == SAT_NONE || (code >= 400 && code <= 599),
		"class %d for code %d", cls, code);
    if (rule && strncmp(rule, SITE_PREFIX, strlen(SITE_PREFIX)) == 0)
	FUZZ_ASSERT(atoi(rule + strlen(SITE_PREFIX)) >= 1
		    && atoi(rule + strlen(SITE_PREFIX)) <= lines,
		    "%s of a %d-line file", rule, lines);
}

/* count_lines - lines in the file, the last one perhaps without newline */

static int count_lines(const char *text)
{
    int     n = *text != 0;

    for (; *text; text++)
	if (*text == '\n' && text[1])
	    n++;
    return (n);
}

/* check_reply - classify one reply with and without the site rules */

static void check_reply(const struct saturation *sat, int lines, int code,
			        const char *enhanced, const char *text)
{
    const char *rule;
    const char *again_rule;
    const char *builtin_rule;
    int     cls;
    int     builtin;

    cls = saturation_classify(sat, code, enhanced, text, &rule);
    check_answer(cls, rule, code, lines);
    FUZZ_ASSERT(saturation_classify(sat, code, enhanced, text, &again_rule)
		== cls && again_rule == rule, "a second answer differs");
    builtin = saturation_classify(0, code, enhanced, text, &builtin_rule);
    check_answer(builtin, builtin_rule, code, 0);
    FUZZ_ASSERT(builtin_rule == 0
		|| strncmp(builtin_rule, SITE_PREFIX, strlen(SITE_PREFIX)) != 0,
		"a site rule without a file");
    if (rule == 0 || strncmp(rule, SITE_PREFIX, strlen(SITE_PREFIX)) != 0)
	FUZZ_ASSERT(cls == builtin && rule == builtin_rule,
		    "no site rule matched, yet not the built-in answer");
    FUZZ_ASSERT(strcmp(saturation_class_name(cls), cls == SAT_QUOTA ?
		       "quota" : cls == SAT_THROTTLE ? "throttle" : "none")
		== 0, "class name");
}

/* LLVMFuzzerTestOneInput - one saturation_file and one reply */

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_in in = {data, size};
    struct saturation *sat = 0;
    char   *file = fuzz_take_str(&in);
    int     code = (int) ((fuzz_take_byte(&in) << 8 | fuzz_take_byte(&in))
			  % 1000);
    char   *enhanced = fuzz_take_str(&in);
    char   *text = fuzz_take_str(&in);
    char    path[64];
    char    err[600];
    int     fd = fuzz_memfile(file, strlen(file), 0600, path, sizeof(path));

    err[0] = 0;
    if (saturation_load(path, &sat, err, sizeof(err)) < 0) {
	FUZZ_ASSERT(strncmp(err, path, strlen(path)) == 0
		    && err[strlen(path)] == ':' && strchr(err, '\n') == 0,
		    "reason \"%s\"", err);
	FUZZ_ASSERT(sat == 0, "rules after a failed load");
    } else {
	FUZZ_ASSERT(sat != 0, "no rules after a load");
    }
    check_reply(sat, count_lines(file), code, enhanced, text);
    saturation_free(sat);
    (void) close(fd);
    free(file);
    free(enhanced);
    free(text);
    return (0);
}
