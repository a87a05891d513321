/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	spf_budget 3
 * SUMMARY
 *	one check's RFC 7208 lookup limits and its time limit
 * SYNOPSIS
 *	#include "spf_budget.h"
 *
 *	void	budget_begin(budget, deadline)
 *	void	budget_end()
 *	long	budget_ms_left()
 *
 *	int	budget_count_term(budget)
 *	int	budget_count_void(budget)
 *	int	budget_out_of_time(budget)
 *
 *	void	budget_deadline(deadline, seconds)
 *	const char *budget_stop_text(stop)
 * DESCRIPTION
 *	A budget holds what RFC 7208 section 4.6.4 limits for one whole
 *	check, across every include and redirect: at most 10 terms that
 *	query DNS (include, a, mx, ptr, exists, redirect) and at most 2
 *	void lookups (no such name, or no answer). The counters record
 *	in budget->stop why the check must stop (permerror).
 *
 *	budget_begin() also makes the budget's deadline the one of this
 *	thread's running check, so that the resolver layer (spf_dns) cuts
 *	its waits to it; budget_end() ends that. budget_ms_left() gives
 *	the milliseconds left (0 when past), or -1 without a running
 *	check. budget_out_of_time() records BUDGET_TIME when the deadline
 *	has passed (temperror).
 *
 *	budget_count_term() and budget_count_void() count one more and
 *	return non-zero past the limit. budget_deadline() sets a deadline
 *	seconds from now.
 */

#include <string.h>

#include "spf_budget.h"

static __thread struct spf_budget *budget_current;

/* budget_deadline - a CLOCK_MONOTONIC time seconds from now */

void    budget_deadline(struct timespec *deadline, long seconds)
{
    clock_gettime(CLOCK_MONOTONIC, deadline);
    deadline->tv_sec += seconds;
}

/* budget_begin - start a check's budget and make it this thread's */

void    budget_begin(struct spf_budget *budget, const struct timespec *deadline)
{
    memset(budget, 0, sizeof(*budget));
    budget->deadline = *deadline;
    budget_current = budget;
}

/* budget_end - the check is over */

void    budget_end(void)
{
    budget_current = 0;
}

/* budget_ms_left - milliseconds before the deadline, 0 past it, -1 none */

long    budget_ms_left(void)
{
    struct timespec now;
    long    ms;

    if (budget_current == 0)
	return (-1);
    clock_gettime(CLOCK_MONOTONIC, &now);
    ms = (budget_current->deadline.tv_sec - now.tv_sec) * 1000
	+ (budget_current->deadline.tv_nsec - now.tv_nsec) / 1000000;
    return (ms > 0 ? ms : 0);
}

/* budget_stop_text - why a check was stopped, for logs and headers */

const char *budget_stop_text(enum budget_stop stop)
{
    switch (stop) {
    case BUDGET_TERMS:
	return ("more than 10 DNS-querying terms");
    case BUDGET_VOIDS:
	return ("more than 2 void DNS lookups");
    case BUDGET_TIME:
	return ("DNS time limit exceeded");
    default:
	return ("");
    }
}

/* budget_count_term - one more DNS-querying term; non-zero past the limit */

int     budget_count_term(struct spf_budget *b)
{
    if (++b->terms > BUDGET_MAX_TERMS && b->stop == BUDGET_OK)
	b->stop = BUDGET_TERMS;
    return (b->terms > BUDGET_MAX_TERMS);
}

/* budget_count_void - one more void lookup; non-zero past the limit */

int     budget_count_void(struct spf_budget *b)
{
    if (++b->voids > BUDGET_MAX_VOIDS && b->stop == BUDGET_OK)
	b->stop = BUDGET_VOIDS;
    return (b->voids > BUDGET_MAX_VOIDS);
}

/* budget_out_of_time - non-zero, and BUDGET_TIME recorded, past the deadline */

int     budget_out_of_time(struct spf_budget *b)
{
    if (budget_current != b || budget_ms_left() != 0)
	return (0);
    if (b->stop == BUDGET_OK)
	b->stop = BUDGET_TIME;
    return (1);
}
