/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	outcome 3
 * SUMMARY
 *	per-recipient results and the pipe(8) exit status
 * SYNOPSIS
 *	#include "msg/outcome.h"
 *
 *	void	rcpt_set(rcpt, state, dsn, fmt, ...)
 *
 *	void	outcome_decide(rcpts, count, outcome)
 *
 *	void	outcome_defer(outcome, dsn, fmt, ...)
 * DESCRIPTION
 *	This module is the one place that maps what happened to the exit
 *	status and first output line that pipe(8) reads. pipe(8) applies
 *	one status to every recipient of a request, so:
 *
 *	All recipients sent: exit 0.
 *
 *	All recipients temporary (4xx at every host tried, no host
 *	reachable, or unknown after the final dot): print "4.X.Y reason"
 *	and exit 75, so Postfix defers the message.
 *
 *	All recipients permanent: print "5.X.Y reason" and exit 69, so
 *	Postfix bounces the message.
 *
 *	Mixed: the sent ones are done; every other class that is present
 *	is handed back to Postfix as a message of its own (handback_temp,
 *	handback_perm), where it gets a uniform status on its next pass.
 *	Exit 0, the only honest status once part of the request has been
 *	handed back. A pending recipient counts as temporary.
 *
 *	rcpt_set() records a recipient's state, DSN code and reason. A
 *	DSN whose class disagrees with the state is replaced by X.0.0,
 *	so a defer never prints a 5.x.x code, nor a bounce a 4.x.x one.
 *
 *	outcome_defer() sets a defer (exit 75) for trouble of rrelay's
 *	own, whatever the recipients' state.
 *--*/

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "msg/outcome.h"

/* dsn_class - the first digit a state's DSN must have */

static char dsn_class(enum rcpt_state state)
{
    switch (state) {
    case RCPT_SENT:
	return ('2');
    case RCPT_PERM:
	return ('5');
    default:
	return ('4');
    }
}

/* rcpt_set - record one recipient's state, DSN and reason */

void    rcpt_set(struct rcpt *rcpt, enum rcpt_state state, const char *dsn,
		         const char *fmt,...)
{
    va_list ap;
    char    class = dsn_class(state);

    rcpt->state = state;
    rcpt->unable[0] = 0;
    if (dsn && dsn[0] == class && strlen(dsn) < sizeof(rcpt->dsn))
	strcpy(rcpt->dsn, dsn);
    else
	snprintf(rcpt->dsn, sizeof(rcpt->dsn), "%c.0.0", class);
    va_start(ap, fmt);
    vsnprintf(rcpt->reason, sizeof(rcpt->reason), fmt, ap);
    va_end(ap);
}

/* outcome_defer - defer the whole request for a reason of our own */

void    outcome_defer(struct outcome *outcome, const char *dsn,
		              const char *fmt,...)
{
    va_list ap;
    char    reason[sizeof(outcome->text) - 16];

    va_start(ap, fmt);
    vsnprintf(reason, sizeof(reason), fmt, ap);
    va_end(ap);
    outcome->status = EXIT_DEFER;
    outcome->handback_temp = outcome->handback_perm = 0;
    snprintf(outcome->text, sizeof(outcome->text), "%s %s",
	     dsn[0] == '4' ? dsn : "4.3.0", reason);
}

/* first_in - the first recipient in a state, for the output line */

static const struct rcpt *first_in(const struct rcpt *rcpts, int count,
				           enum rcpt_state state)
{
    int     i;

    for (i = 0; i < count; i++)
	if (rcpts[i].state == state
	    || (state == RCPT_TEMP && rcpts[i].state == RCPT_PENDING))
	    return (&rcpts[i]);
    return (0);
}

/* outcome_decide - map the recipients' states to an exit status */

void    outcome_decide(const struct rcpt *rcpts, int count,
		               struct outcome *outcome)
{
    int     sent = 0, temp = 0, perm = 0, i;
    const struct rcpt *r;

    for (i = 0; i < count; i++) {
	if (rcpts[i].state == RCPT_SENT)
	    sent++;
	else if (rcpts[i].state == RCPT_PERM)
	    perm++;
	else
	    temp++;
    }
    memset(outcome, 0, sizeof(*outcome));
    if (temp == 0 && perm == 0) {
	outcome->status = EXIT_SENT;
    } else if (sent == 0 && perm == 0) {
	r = first_in(rcpts, count, RCPT_TEMP);
	outcome->status = EXIT_DEFER;
	snprintf(outcome->text, sizeof(outcome->text), "%s %s",
		 r->state == RCPT_TEMP ? r->dsn : "4.0.0",
		 r->reason[0] ? r->reason : "delivery not attempted");
    } else if (sent == 0 && temp == 0) {
	r = first_in(rcpts, count, RCPT_PERM);
	outcome->status = EXIT_BOUNCE;
	snprintf(outcome->text, sizeof(outcome->text), "%s %s", r->dsn,
		 r->reason);
    } else {
	outcome->status = EXIT_SENT;
	outcome->handback_temp = temp > 0;
	outcome->handback_perm = perm > 0;
    }
}
