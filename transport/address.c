/*
 * NAME
 *	address 3
 * SUMMARY
 *	check envelope addresses before they go on the wire
 * SYNOPSIS
 *	#include "address.h"
 *
 *	const char *address_check(addr, is_sender)
 *
 *	int	address_needs_utf8(addr)
 * DESCRIPTION
 *	address_check() decides whether addr can be sent inside
 *	"MAIL FROM:<...>" or "RCPT TO:<...>" without changing the meaning
 *	of the command. Postfix's pipe(8) with flags=q hands addresses
 *	over RFC 5321-quoted, so a local part with spaces arrives as
 *	"john doe"@example.org. Rejected are: control characters (CR, LF,
 *	TAB and the rest), angle brackets, white space outside a quoted
 *	local part, an unterminated quoted string, text between a closing
 *	quote and the '@', RFC 5322 specials ( ) , ; : \ outside quotes
 *	and domain literals, and more than ADDRESS_MAX bytes. Rejecting
 *	the specials also keeps Postfix's sendmail, which parses each
 *	argument as an address list, from splitting one handed-back
 *	recipient into several. The empty
 *	address is the null sender, and is valid only as a sender.
 *
 *	address_needs_utf8() is true when addr has 8-bit bytes, which
 *	only an SMTPUTF8 server may receive.
 * DIAGNOSTICS
 *	address_check() returns a null pointer for a good address, or a
 *	short reason.
 *--*/

#include <string.h>

#include "address.h"

/* RFC 5322 specials that may not stand unquoted in an address. */
#define SPECIALS	"(),;:\\]"

/* skip_quoted - step over a quoted string; null if it never ends */

static const char *skip_quoted(const char *cp)
{
    for (cp++; *cp; cp++) {
	if (*cp == '\\') {
	    if (cp[1] == 0)
		return (0);
	    cp++;
	} else if (*cp == '"') {
	    return (cp + 1);
	}
    }
    return (0);
}

/* address_check - the reason addr can't be sent, or null */

const char *address_check(const char *addr, int is_sender)
{
    const unsigned char *cp;
    const char *after;

    if (*addr == 0)
	return (is_sender ? 0 : "empty address");
    if (strlen(addr) > ADDRESS_MAX)
	return ("address is too long");
    for (cp = (const unsigned char *) addr; *cp; cp++) {
	if (*cp < 0x20 || *cp == 0x7f)
	    return ("control character in address");
	if (*cp == '<' || *cp == '>')
	    return ("angle bracket in address");
    }
    cp = (const unsigned char *) addr;
    if (*cp == '"') {
	if ((after = skip_quoted(addr)) == 0)
	    return ("unterminated quoted string in address");
	if (*after != '@' && *after != 0)
	    return ("text after quoted local part");
	cp = (const unsigned char *) after;
    }
    for (; *cp; cp++) {
	if (*cp == '[') {
	    if ((cp = (const unsigned char *) strchr((const char *) cp, ']'))
		== 0 || cp[1] != 0)
		return ("malformed domain literal in address");
	    break;
	}
	if (*cp == ' ')
	    return ("white space in address");
	if (*cp == '"')
	    return ("misplaced quote in address");
	if (strchr(SPECIALS, *cp))
	    return ("special character outside quotes in address");
    }
    return (0);
}

/* address_needs_utf8 - true when the address has 8-bit bytes */

int     address_needs_utf8(const char *addr)
{
    const unsigned char *cp;

    for (cp = (const unsigned char *) addr; *cp; cp++)
	if (*cp & 0x80)
	    return (1);
    return (0);
}
