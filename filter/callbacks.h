/* SPDX-License-Identifier: MIT */
#ifndef RR_CALLBACKS_H
#define RR_CALLBACKS_H

/* callbacks.h - the libmilter callbacks of rrelay-milter */

#include <libmilter/mfapi.h>

/*
 * What the filter asks of the MTA at negotiation: header changes, no
 * RCPT, DATA, end-of-header or body steps, and no reply to connect, HELO
 * or header fields. bench/tools/null_milter.c negotiates the same.
 */
#define CB_ACTIONS	(SMFIF_ADDHDRS | SMFIF_CHGHDRS)
#define CB_NO_STEPS	(SMFIP_NORCPT | SMFIP_NOBODY | SMFIP_NOUNKNOWN \
			 | SMFIP_NODATA | SMFIP_NOEOH)
#define CB_NR_STEPS	(SMFIP_NR_CONN | SMFIP_NR_HELO | SMFIP_NR_HDR)

extern int cb_register(void);

#endif
