/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	dsn 3
 * SUMMARY
 *	a delivery status notification (RFC 3464) written by rrelay
 * SYNOPSIS
 *	#include "msg/dsn.h"
 *
 *	int	dsn_write(fd, report)
 *
 *	void	dsn_xtext(in, out, outlen)
 * DESCRIPTION
 *	dsn_write() writes to fd a whole message, headers and body, that
 *	tells report->sender that the recipients in report->rcpts failed
 *	for good: a multipart/report (RFC 6522) with a plain-text part
 *	and a message/delivery-status part (RFC 3464), one per-recipient
 *	block each with Final-Recipient, Action: failed, Status and a
 *	Diagnostic-Code. Lines end in LF, as sendmail(1) reads them.
 *
 *	It is for the recipients that handback can't give back to
 *	Postfix, because sendmail would read their addresses differently
 *	(control characters, specials): Postfix can't write their bounce,
 *	so rrelay writes it. Nothing from those addresses or reasons
 *	reaches a header or ends a line: in the report an address is
 *	xtext (RFC 3461: every byte outside '!' to '~', and '+' and '=',
 *	as "+XX"), and the reasons have their control characters made
 *	'?'.
 *
 *	dsn_xtext() writes in as xtext into out, cut to fit.
 * DIAGNOSTICS
 *	dsn_write() returns -1 when a write fails, with errno set.
 *--*/

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "msg/dsn.h"

/* dsn_xtext - RFC 3461 xtext: bytes outside '!'..'~', '+' and '=' as +XX */

void    dsn_xtext(const char *in, char *out, size_t outlen)
{
    static const char hex[] = "0123456789ABCDEF";
    const unsigned char *cp;
    size_t  used = 0;

    for (cp = (const unsigned char *) in; *cp && used + 4 <= outlen; cp++) {
	if (*cp >= '!' && *cp <= '~' && *cp != '+' && *cp != '=') {
	    out[used++] = (char) *cp;
	    continue;
	}
	out[used++] = '+';
	out[used++] = hex[*cp >> 4];
	out[used++] = hex[*cp & 15];
    }
    out[used] = 0;
}

/* dsn_clean - a reason fit for one line: control and 8-bit bytes as '?' */

static void dsn_clean(const char *in, char *out, size_t outlen)
{
    size_t  i;

    for (i = 0; in[i] && i + 1 < outlen; i++)
	out[i] = ((unsigned char) in[i] < 0x20 || (unsigned char) in[i] > 0x7e)
	    ? '?' : in[i];
    out[i] = 0;
}

/* dsn_date - an RFC 5322 date */

static void dsn_date(long long when, char *out, size_t outlen)
{
    time_t  t = (time_t) when;
    struct tm tm;

    if (gmtime_r(&t, &tm) == 0
	|| strftime(out, outlen, "%a, %d %b %Y %H:%M:%S +0000", &tm) == 0)
	snprintf(out, outlen, "Thu, 01 Jan 1970 00:00:00 +0000");
}

/* dsn_text_part - the part a person reads */

static int dsn_text_part(FILE *fp, const struct dsn_report *r,
			         const char *boundary)
{
    char    addr[3 * RCPT_REASON_MAX];
    char    why[RCPT_REASON_MAX];
    int     i;

    fprintf(fp, "--%s\nContent-Description: Notification\n"
	    "Content-Type: text/plain; charset=us-ascii\n\n"
	    "This is the rrelay transport of Postfix at host %s.\n\n"
	    "Your message (queue id %s) could not be delivered to the\n"
	    "recipients below, and it won't be: their addresses can't be\n"
	    "sent. Each is written as xtext (a byte that is not a visible\n"
	    "character, '+' or '=' is shown as +XX, in hexadecimal).\n\n",
	    boundary, r->mta, r->queue_id);
    for (i = 0; i < r->nrcpt; i++) {
	dsn_xtext(r->rcpts[i]->addr, addr, sizeof(addr));
	dsn_clean(r->rcpts[i]->reason, why, sizeof(why));
	fprintf(fp, "<%s>: %s\n", addr, why);
    }
    return (fprintf(fp, "\n"));
}

/* dsn_status_part - the message/delivery-status part */

static int dsn_status_part(FILE *fp, const struct dsn_report *r,
			           const char *boundary, const char *date)
{
    char    addr[3 * RCPT_REASON_MAX];
    char    why[RCPT_REASON_MAX];
    char    code[16];
    int     i;

    fprintf(fp, "--%s\nContent-Description: Delivery report\n"
	    "Content-Type: message/delivery-status\n\n"
	    "Reporting-MTA: dns; %s\nX-Postfix-Queue-ID: %s\n"
	    "Arrival-Date: %s\n", boundary, r->mta, r->queue_id, date);
    for (i = 0; i < r->nrcpt; i++) {
	dsn_xtext(r->rcpts[i]->addr, addr, sizeof(addr));
	dsn_clean(r->rcpts[i]->reason, why, sizeof(why));
	dsn_clean(r->rcpts[i]->dsn[0] ? r->rcpts[i]->dsn : "5.0.0", code,
		  sizeof(code));
	fprintf(fp, "\nFinal-Recipient: rfc822; %s\nAction: failed\n"
		"Status: %s\nDiagnostic-Code: X-rrelay; %s\n", addr, code, why);
    }
    return (fprintf(fp, "\n--%s--\n", boundary));
}

/* dsn_write - the whole report, headers and body, to fd */

int     dsn_write(int fd, const struct dsn_report *r)
{
    char    boundary[128];
    char    date[64];
    FILE   *fp;
    int     status;

    if ((fd = dup(fd)) < 0 || (fp = fdopen(fd, "w")) == 0) {
	if (fd >= 0)
	    (void) close(fd);
	return (-1);
    }
    snprintf(boundary, sizeof(boundary), "%s.%lld/%s", r->queue_id,
	     r->arrival, r->mta);
    dsn_date(r->arrival, date, sizeof(date));
    fprintf(fp, "From: MAILER-DAEMON (Mail Delivery System)\n"
	    "To: <%s>\nSubject: Undelivered Mail Returned to Sender\n"
	    "Date: %s\nAuto-Submitted: auto-replied\nMIME-Version: 1.0\n"
	    "Content-Type: multipart/report; report-type=delivery-status;\n"
	    "\tboundary=\"%s\"\n\n"
	    "This is a MIME-encapsulated message.\n\n", r->sender, date,
	    boundary);
    dsn_text_part(fp, r, boundary);
    dsn_status_part(fp, r, boundary, date);
    status = (fflush(fp) == 0 && !ferror(fp)) ? 0 : -1;
    if (fclose(fp) != 0)
	status = -1;
    return (status);
}
