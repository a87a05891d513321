/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	address 3
 * SUMMARY
 *	check envelope addresses before they go on the wire
 * SYNOPSIS
 *	#include "msg/address.h"
 *
 *	const char *address_check(addr, is_sender)
 *
 *	int	address_needs_utf8(addr)
 *
 *	int	address_literal(sa, buf, buflen)
 * DESCRIPTION
 *	address_check() decides whether addr can be sent inside
 *	"MAIL FROM:<...>" or "RCPT TO:<...>" without changing the meaning
 *	of the command. Postfix's pipe(8) with flags=q hands addresses
 *	over RFC 5321-quoted, so a local part with spaces arrives as
 *	"john doe"@example.org. Rejected are: control characters (CR, LF,
 *	TAB and the rest), angle brackets, white space outside a quoted
 *	local part, an unterminated quoted string, text between a closing
 *	quote and the '@', RFC 5322 specials ( ) , ; : \ outside quotes
 *	and domain literals, a domain literal that does not end the
 *	address or holds '[' or '\' (RFC 5321 dtext), and more than
 *	ADDRESS_MAX bytes. Rejecting the specials also keeps Postfix's
 *	sendmail, which parses each argument as an address list, from
 *	splitting one handed-back recipient into several. The empty
 *	address is the null sender, and is valid only as a sender.
 *
 *	address_needs_utf8() is true when addr has 8-bit bytes, which
 *	only an SMTPUTF8 server may receive.
 *
 *	address_literal() writes an IPv4 or IPv6 socket address as an
 *	RFC 5321 address literal, "[192.0.2.1]" or "[IPv6:2001:db8::1]",
 *	which a client without a domain name of its own sends after EHLO
 *	(RFC 5321 section 4.1.4). An IPv4-mapped IPv6 address is written
 *	as the IPv4 address it maps.
 * DIAGNOSTICS
 *	address_check() returns a null pointer for a good address, or a
 *	short reason. address_literal() returns -1 for any other address
 *	family or a buffer shorter than ADDRESS_LITERAL_MAX.
 *--*/

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "msg/address.h"

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
	    /* The first of these must be the last byte: ']'. */
	    cp += 1 + strcspn((const char *) cp + 1, " []\\");
	    if (*cp != ']' || cp[1] != 0)
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

/* address_literal - "[192.0.2.1]" or "[IPv6:2001:db8::1]" for a socket address */

int     address_literal(const struct sockaddr *sa, char *buf, size_t buflen)
{
    const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *) sa;
    struct in_addr v4;
    char    text[INET6_ADDRSTRLEN];

    if (buflen < ADDRESS_LITERAL_MAX)
	return (-1);
    if (sa->sa_family == AF_INET) {
	inet_ntop(AF_INET, &((const struct sockaddr_in *) sa)->sin_addr,
		  text, sizeof(text));
    } else if (sa->sa_family == AF_INET6
	       && IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
	memcpy(&v4, sin6->sin6_addr.s6_addr + 12, sizeof(v4));
	inet_ntop(AF_INET, &v4, text, sizeof(text));
    } else if (sa->sa_family == AF_INET6) {
	inet_ntop(AF_INET6, &sin6->sin6_addr, text, sizeof(text));
	snprintf(buf, buflen, "[IPv6:%s]", text);
	return (0);
    } else {
	return (-1);
    }
    snprintf(buf, buflen, "[%s]", text);
    return (0);
}
