#ifndef RR_ADDRESS_H
#define RR_ADDRESS_H

/* address.h - check envelope addresses before they go on the wire */

#define ADDRESS_MAX	254		/* RFC 5321 path limit less "<>" */

extern const char *address_check(const char *addr, int is_sender);
extern int address_needs_utf8(const char *addr);

#endif
