/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	saturation 3
 * SUMMARY
 *	replies that mean "this host is full", not "recipient refused"
 * SYNOPSIS
 *	#include "conf/saturation.h"
 *
 *	int	saturation_load(path, sat, err, errlen)
 *	void	saturation_free(sat)
 *	int	saturation_classify(sat, code, enhanced, text, rule)
 *	const char *saturation_class_name(cls)
 * DESCRIPTION
 *	Some 4xx and 5xx replies say that the upstream is full: it
 *	throttles, has hit a rate limit or a connection limit, or the
 *	account's quota is spent. The next host may well take the mail,
 *	so rrelay treats such a reply as "saturated", not as a verdict on
 *	the recipient.
 *
 *	saturation_classify() looks at one reply: code is the three-digit
 *	reply code, enhanced the RFC 3463 status code ("5.4.5", or "" or
 *	null when there is none), and text the rest of the reply, the
 *	lines of a multi-line reply joined with a space. It answers
 *	SAT_THROTTLE (full for now: rate, connections, busy), SAT_QUOTA (a
 *	daily or hourly allowance is spent) or SAT_NONE. Only 4xx and 5xx
 *	replies can match. The site rules of sat (which may be null) are
 *	tried first, in file order, then the built-in table of the large
 *	providers' published replies. When rule is not null, *rule gets a
 *	short name for the log ("gmail daily quota", "saturation_file
 *	line 3"), or null when nothing matched.
 *
 *	The built-in table prefers the enhanced status code where the
 *	code alone says "full" (4.7.652, 5.4.5), and otherwise matches a
 *	case-insensitive part of the text. It leaves out replies about
 *	one recipient (Gmail's "450 4.2.1 The user you are trying to
 *	contact is receiving mail at a rate that...") and reputation
 *	blocks: another host would get the same answer.
 *
 *	saturation_load() reads saturation_file, one rule per line:
 *
 *	    CODE ENHANCED REGEX CLASS
 *
 *	CODE is a reply code from 400 to 599, 4xx, 5xx or *; ENHANCED is
 *	an enhanced status code such as 5.4.5, or *; REGEX is a POSIX
 *	extended regular expression, which may hold spaces, matched
 *	without regard to case against the text; CLASS, the last word,
 *	is throttle or quota. For example:
 *
 *	    550 5.7.1 relay limit exceeded quota
 *
 *	'#' starts a comment line; a line may hold up to 2048 bytes and no
 *	NUL byte. A file holds at most SAT_RULE_MAX rules; a regex is at
 *	most SAT_REGEX_MAX bytes and may not use back-references or
 *	intervals ({m,n}), nor more than 8 '+': glibc copies what they
 *	apply to, and nested copies take exponential time or memory. saturation_free() releases
 *	what saturation_load() built.
 *
 *	saturation_class_name() names a class for logs: "throttle",
 *	"quota" or "none".
 * DIAGNOSTICS
 *	saturation_load() returns -1 with "file:line: what is wrong" and
 *	sets *sat to null.
 *--*/

#include <ctype.h>
#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "conf/saturation.h"

#define LINE_MAX_LEN	2048
#define ENH_MAX		12		/* "5.123.123" and a NUL */
#define SAT_PLUS_MAX	8		/* '+' in one regex */

/* One site rule from saturation_file. */

struct sat_rule {
    int     code;			/* 400-599; 4 or 5: a class; 0: any */
    char    enhanced[ENH_MAX];		/* "" for any */
    regex_t re;
    int     cls;
    char    name[40];			/* "saturation_file line N" */
};

struct saturation {
    int     count;
    struct sat_rule rules[SAT_RULE_MAX];
};

/* An enhanced status code, split. */

struct enh {
    int     cls;
    int     subject;
    int     detail;
};

/*
 * One built-in entry. It matches a reply whose code is in code_cls (4
 * or 5; 0 for both), whose enhanced code is cls.subject.lo to
 * cls.subject.hi (cls -1: any), and whose text holds text (null: any).
 */
struct sat_builtin {
    int     code_cls;
    int     enh_cls;
    int     enh_subject;
    int     enh_lo;
    int     enh_hi;
    const char *text;
    int     cls;
    const char *name;
};

static const struct sat_builtin builtin[] = {

    /*
     * By enhanced code, where the code alone says the host is full.
     */

    /*
     * Microsoft 365 / Exchange Online: "451 4.7.652 The mail server
     * [x.x.x.x] has exceeded the maximum number of connections."
     */
    {4, 4, 7, 652, 652, 0, SAT_THROTTLE, "microsoft connection limit"},

    /*
     * Microsoft 365 / Exchange Online: "451 4.7.500 Server busy. Please
     * try again later from [x.x.x.x]. (AS77719)". Microsoft's "Fix email
     * delivery issues for error code 451 4.7.500-699 (ASxxx)" calls the
     * whole range IP throttling. 4xx only: 5.7.606 and its neighbours
     * are blocks.
     */
    {4, 4, 7, 500, 699, 0, SAT_THROTTLE, "microsoft server busy"},

    /*
     * Gmail: "421 4.7.28 ... Our system has detected that this message
     * exceeded the rate that the sending domain is allowed to send.
     * Please slow down."
     */
    {4, 4, 7, 28, 28, 0, SAT_THROTTLE, "gmail rate limit"},

    /*
     * Gmail / Google Workspace: "421 4.4.5 Server busy, try again
     * later." (Google, "Gmail SMTP errors and codes"). X.4.5 is "mail
     * system congestion" in RFC 3463.
     */
    {4, 4, 4, 5, 5, 0, SAT_THROTTLE, "server busy"},

    /*
     * Gmail / Google Workspace: "550 5.4.5 Daily user sending quota
     * exceeded." and "550 5.4.5 Daily SMTP relay limit exceeded for
     * user." (Google, "Gmail SMTP errors and codes").
     */
    {5, 5, 4, 5, 5, 0, SAT_QUOTA, "gmail daily quota"},

    /*
     * By text, where the enhanced code is generic or absent.
     */

    /*
     * Amazon SES: "454 Throttling failure: Maximum sending rate
     * exceeded." (AWS, "Errors related to the sending quotas for your
     * Amazon SES account").
     */
    {0, -1, 0, 0, 0, "Maximum sending rate exceeded", SAT_THROTTLE,
    "ses sending rate"},

    /*
     * Amazon SES: "454 Throttling failure: Daily message quota
     * exceeded." (same page).
     */
    {0, -1, 0, 0, 0, "Daily message quota exceeded", SAT_QUOTA,
    "ses daily quota"},

    /*
     * Microsoft 365 / Exchange Online, SMTP AUTH submission over 10,000
     * recipients a day: "554 5.2.0
     * STOREDRV.Submission.Exception:SubmissionQuotaExceededException"
     * (Microsoft, "SMTP submission improvements").
     */
    {0, -1, 0, 0, 0, "SubmissionQuotaExceededException", SAT_QUOTA,
    "microsoft submission quota"},

    /*
     * Microsoft 365 / Exchange Online: "550 5.1.90 Your message can't be
     * sent because you've reached your daily limit for message
     * recipients" (quoted in MicrosoftDocs/OfficeDocs-Exchange#2729).
     */
    {0, -1, 0, 0, 0, "reached your daily limit for message recipients",
    SAT_QUOTA, "microsoft recipient rate limit"},

    /*
     * Microsoft Exchange Online Protection: "421 4.3.2 The maximum number
     * of concurrent connections per resource forest has exceeded a
     * limit, closing transmission channel."
     */
    {4, -1, 0, 0, 0, "maximum number of concurrent connections",
    SAT_THROTTLE, "microsoft concurrent connections"},

    /*
     * Google Workspace SMTP relay: "550 5.7.1 Daily SMTP relay limit
     * exceeded for customer." (Google, "Gmail SMTP errors and codes";
     * the "for user" form comes as 5.4.5).
     */
    {0, -1, 0, 0, 0, "Daily SMTP relay limit exceeded", SAT_QUOTA,
    "gmail relay daily limit"},

    /*
     * Google Workspace SMTP relay: "450 4.2.1 Peak SMTP relay limit
     * exceeded for customer. This is a temporary error." (Google).
     */
    {4, -1, 0, 0, 0, "Peak SMTP relay limit exceeded", SAT_THROTTLE,
    "gmail relay peak limit"},

    /*
     * Gmail / Google Workspace: "421 4.7.0 Try again later, closing
     * connection." which Google says "usually indicates a Denial of
     * Service (DoS) for the SMTP relay at the HELO stage".
     */
    {4, -1, 0, 0, 0, "Try again later, closing connection", SAT_THROTTLE,
    "gmail relay busy"},

    /*
     * SendGrid: "451 Authentication failed: Maximum credits exceeded"
     * (Twilio SendGrid, "SMTP Errors and Troubleshooting").
     */
    {0, -1, 0, 0, 0, "Maximum credits exceeded", SAT_QUOTA,
    "sendgrid credits"},
};

/* saturation_class_name - "throttle", "quota" or "none" */

const char *saturation_class_name(int cls)
{
    switch (cls) {
    case SAT_THROTTLE:
	return ("throttle");
    case SAT_QUOTA:
	return ("quota");
    default:
	return ("none");
    }
}

/* parse_enhanced - "c.s.d" with 1 to 3 digits per part after the class */

static int parse_enhanced(const char *text, struct enh *e)
{
    int     part[3];
    int     i;
    int     digits;

    for (i = 0; i < 3; i++) {
	part[i] = 0;
	for (digits = 0; isdigit((unsigned char) *text); text++) {
	    if (++digits > (i == 0 ? 1 : 3))
		return (-1);
	    part[i] = part[i] * 10 + (*text - '0');
	}
	if (digits < 1)
	    return (-1);
	if (*text != (i < 2 ? '.' : 0))
	    return (-1);
	if (i < 2)
	    text++;
    }
    if (part[0] != 2 && part[0] != 4 && part[0] != 5)
	return (-1);
    e->cls = part[0];
    e->subject = part[1];
    e->detail = part[2];
    return (0);
}

/* builtin_match - one built-in entry against one reply */

static int builtin_match(const struct sat_builtin *b, int code,
			         const char *enhanced, const char *text)
{
    struct enh e;

    if (b->code_cls && code / 100 != b->code_cls)
	return (0);
    if (b->enh_cls >= 0
	&& (parse_enhanced(enhanced, &e) < 0 || e.cls != b->enh_cls
	    || e.subject != b->enh_subject || e.detail < b->enh_lo
	    || e.detail > b->enh_hi))
	return (0);
    if (b->text && strcasestr(text, b->text) == 0)
	return (0);
    return (1);
}

/* rule_match - one site rule against one reply */

static int rule_match(const struct sat_rule *r, int code,
		              const char *enhanced, const char *text)
{
    if (r->code >= 100 ? code != r->code : r->code && code / 100 != r->code)
	return (0);
    if (r->enhanced[0] && strcmp(r->enhanced, enhanced) != 0)
	return (0);
    return (regexec(&r->re, text, 0, 0, 0) == 0);
}

/* saturation_classify - is this reply "host full", and which kind */

int     saturation_classify(const struct saturation *sat, int code,
			            const char *enhanced, const char *text,
			            const char **rule)
{
    size_t  i;
    int     n;

    if (rule)
	*rule = 0;
    if (code < 400 || code > 599)
	return (SAT_NONE);
    enhanced = enhanced ? enhanced : "";
    text = text ? text : "";
    for (n = 0; sat && n < sat->count; n++) {
	if (rule_match(&sat->rules[n], code, enhanced, text)) {
	    if (rule)
		*rule = sat->rules[n].name;
	    return (sat->rules[n].cls);
	}
    }
    for (i = 0; i < sizeof(builtin) / sizeof(builtin[0]); i++) {
	if (builtin_match(&builtin[i], code, enhanced, text)) {
	    if (rule)
		*rule = builtin[i].name;
	    return (builtin[i].cls);
	}
    }
    return (SAT_NONE);
}

/* parse_code - "550", "5xx" or "*" */

static int parse_code(const char *word, int *code, char *why, size_t whylen)
{
    if (strcmp(word, "*") == 0) {
	*code = 0;
    } else if ((word[0] == '4' || word[0] == '5') && strlen(word) == 3
	       && isdigit((unsigned char) word[1])
	       && isdigit((unsigned char) word[2])) {
	*code = atoi(word);
    } else if ((word[0] == '4' || word[0] == '5')
	       && strcasecmp(word + 1, "xx") == 0) {
	*code = word[0] - '0';
    } else {
	snprintf(why, whylen, "bad reply code \"%.32s\" (want 400 to 599, "
		 "4xx, 5xx or *)", word);
	return (-1);
    }
    return (0);
}

/* parse_rule_enhanced - "5.4.5" or "*", in step with the reply code */

static int parse_rule_enhanced(const char *word, int code, char *out,
			               char *why, size_t whylen)
{
    struct enh e;
    int     code_cls = code >= 100 ? code / 100 : code;

    out[0] = 0;
    if (strcmp(word, "*") == 0)
	return (0);
    if (strlen(word) >= ENH_MAX || parse_enhanced(word, &e) < 0
	|| e.cls == 2) {
	snprintf(why, whylen, "bad enhanced code \"%.32s\" (want one such "
		 "as 5.4.5, or *)", word);
	return (-1);
    }
    if (code_cls && e.cls != code_cls) {
	snprintf(why, whylen, "enhanced code %s does not go with reply "
		 "code %dxx", word, code_cls);
	return (-1);
    }
    strcpy(out, word);
    return (0);
}

/* parse_class - "throttle" or "quota" */

static int parse_class(const char *word, int *cls, char *why, size_t whylen)
{
    if (strcmp(word, "throttle") == 0) {
	*cls = SAT_THROTTLE;
    } else if (strcmp(word, "quota") == 0) {
	*cls = SAT_QUOTA;
    } else {
	snprintf(why, whylen, "unknown class \"%.32s\" at the end of the "
		 "line (want throttle or quota)", word);
	return (-1);
    }
    return (0);
}

/* split_last - cut the last word off text; text keeps the rest, trimmed */

static char *split_last(char *text)
{
    char   *end = text + strlen(text);
    char   *last;

    while (end > text && isspace((unsigned char) end[-1]))
	*--end = 0;
    for (last = end; last > text && !isspace((unsigned char) last[-1]);)
	last--;
    if (last == text)
	return (0);
    for (end = last; end > text && isspace((unsigned char) end[-1]);)
	*--end = 0;
    while (isspace((unsigned char) *text))
	memmove(text, text + 1, strlen(text));
    return (last);
}

/*
 * regex_trouble - what makes this regex too costly for glibc, or null.
 * regcomp() copies the operand of '+' and of "{m,n}" (n times), and
 * regexec() of a back-reference can take exponential time; nested,
 * these copies multiply, and "a++++..." alone took gigabytes.
 */

static const char *regex_trouble(const char *text)
{
    const char *cp;
    int     plus = 0;

    for (cp = text; *cp; cp++) {
	if (cp[0] == '\\' && isdigit((unsigned char) cp[1]))
	    return ("a back-reference");
	if (cp[0] == '\\' && cp[1]) {
	    cp++;
	} else if (cp[0] == '[') {
	    cp += (cp[1] == '^');
	    cp += (cp[1] == ']');
	    while (cp[1] && cp[1] != ']')
		cp++;
	    if (cp[1] == 0)
		return (0);			/* regcomp() says what is wrong */
	    cp++;
	} else if (cp[0] == '{') {
	    return ("an interval {m,n}");
	} else if (cp[0] == '+' && ++plus > SAT_PLUS_MAX) {
	    return ("more than 8 '+'");
	}
    }
    return (0);
}

/* compile_regex - one rule's regex, bounded in size and in cost */

static int compile_regex(const char *text, regex_t *re, char *why,
			         size_t whylen)
{
    const char *trouble;
    char    msg[160];
    int     status;

    if (strlen(text) > SAT_REGEX_MAX) {
	snprintf(why, whylen, "regex longer than %d bytes", SAT_REGEX_MAX);
	return (-1);
    }
    if ((trouble = regex_trouble(text)) != 0) {
	snprintf(why, whylen, "%s in the regex (not allowed: it can take "
		 "exponential time or memory)", trouble);
	return (-1);
    }
    if ((status = regcomp(re, text, REG_EXTENDED | REG_ICASE | REG_NOSUB))
	!= 0) {
	regerror(status, re, msg, sizeof(msg));
	snprintf(why, whylen, "bad regex \"%.64s\": %s", text, msg);
	return (-1);
    }
    return (0);
}

/* rule_line - parse one saturation_file line into a rule */

static int rule_line(char *line, int lineno, struct sat_rule *r, char *why,
		             size_t whylen)
{
    char   *code = cf_next_word(&line);
    char   *enhanced = cf_next_word(&line);
    char   *cls;

    if (code == 0 || enhanced == 0 || (cls = split_last(line)) == 0) {
	snprintf(why, whylen, "want: code enhanced-code regex class, as in "
		 "\"550 5.7.1 relay limit exceeded quota\"");
	return (-1);
    }
    if (*line == 0) {
	snprintf(why, whylen, "missing regex before \"%.32s\"", cls);
	return (-1);
    }
    if (parse_code(code, &r->code, why, whylen) < 0
	|| parse_rule_enhanced(enhanced, r->code, r->enhanced, why,
			       whylen) < 0
	|| parse_class(cls, &r->cls, why, whylen) < 0
	|| compile_regex(line, &r->re, why, whylen) < 0)
	return (-1);
    snprintf(r->name, sizeof(r->name), "saturation_file line %d", lineno);
    return (0);
}

/* saturation_free - release the site rules */

void    saturation_free(struct saturation *sat)
{
    int     i;

    if (sat == 0)
	return;
    for (i = 0; i < sat->count; i++)
	regfree(&sat->rules[i].re);
    free(sat);
}

/* read_rules - every rule of an open saturation_file */

static int read_rules(FILE *fp, const char *path, struct saturation *sat,
		              char *err, size_t errlen)
{
    char    line[LINE_MAX_LEN + 1];
    char    why[300];
    char   *cp;
    int     lineno = 0;
    int     got;

    while ((got = cf_read_line(fp, line, sizeof(line))) != CF_LINE_EOF) {
	lineno++;
	if (got != CF_LINE_OK) {
	    snprintf(err, errlen, "%s:%d: %s", path, lineno,
		     cf_line_error(got));
	    return (-1);
	}
	line[strcspn(line, "\r")] = 0;
	for (cp = line; isspace((unsigned char) *cp); cp++)
	    ;
	if (*cp == 0 || *cp == '#')
	    continue;
	if (sat->count >= SAT_RULE_MAX) {
	    snprintf(err, errlen, "%s:%d: more than %d rules", path, lineno,
		     SAT_RULE_MAX);
	    return (-1);
	}
	if (rule_line(cp, lineno, &sat->rules[sat->count], why,
		      sizeof(why)) < 0) {
	    snprintf(err, errlen, "%s:%d: %s", path, lineno, why);
	    return (-1);
	}
	sat->count++;
    }
    return (0);
}

/* saturation_load - read saturation_file */

int     saturation_load(const char *path, struct saturation **satp,
			        char *err, size_t errlen)
{
    struct saturation *sat = 0;
    FILE   *fp;
    int     status = -1;

    *satp = 0;
    if ((fp = fopen(path, "r")) == 0) {
	snprintf(err, errlen, "%s: %s", path, strerror(errno));
	return (-1);
    }
    if ((sat = calloc(1, sizeof(*sat))) == 0) {
	snprintf(err, errlen, "%s: out of memory", path);
	goto out;
    }
    if (read_rules(fp, path, sat, err, errlen) < 0)
	goto out;
    *satp = sat;
    sat = 0;
    status = 0;

out:
    saturation_free(sat);
    fclose(fp);
    return (status);
}
