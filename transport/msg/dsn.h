/* SPDX-License-Identifier: MIT */
#ifndef RR_DSN_H
#define RR_DSN_H

/* dsn.h - a delivery status notification (RFC 3464) written by rrelay */

#include "msg/outcome.h"

struct dsn_report {
    const char *queue_id;		/* the original message's */
    const char *sender;			/* who gets the report */
    const char *mta;			/* the reporting host's name */
    const struct rcpt **rcpts;		/* the failed recipients */
    int     nrcpt;
    long long arrival;			/* seconds since the epoch */
};

extern int dsn_write(int fd, const struct dsn_report *report);
extern void dsn_xtext(const char *in, char *out, size_t outlen);

#endif
