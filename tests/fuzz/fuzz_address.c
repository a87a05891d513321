/* SPDX-License-Identifier: MIT */
/*
 * fuzz_address - fuzz harness for transport/address.c
 *
 * Input: one byte (bit 0: the address is the sender), then the address
 * as pipe(8) would pass it (an argv string: up to the first NUL), then
 * for address_literal() a family byte and 16 address bytes.
 *
 * Properties, for an address that address_check() lets through: it is
 * not empty unless it is the sender; it has at most ADDRESS_MAX bytes;
 * no control character (CR, LF, TAB, DEL), no angle bracket, so that
 * "MAIL FROM:<%s>" stays one command with one path; outside a leading
 * quoted local part (whose end is found here with its own scanner) no
 * white space, quote or RFC 5322 special except in a domain literal
 * that ends the address; text after the quoted part starts with '@'.
 * A refused address gets a reason. address_needs_utf8() is true exactly
 * when a byte has the high bit set.
 *
 * address_literal() refuses a family other than IPv4 and IPv6 and a
 * short buffer; otherwise it writes "[a.b.c.d]" (also for IPv4-mapped
 * IPv6) or "[IPv6:...]" that gives the same address back, fits
 * ADDRESS_LITERAL_MAX and, as the domain of an address, passes
 * address_check().
 */

#include <arpa/inet.h>
#include <netinet/in.h>

#include "fuzz.h"
#include "msg/address.h"

static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
0xff, 0xff};

/* check_literal - one socket address as an EHLO address literal */

static void check_literal(struct fuzz_in *in)
{
    struct sockaddr_in6 sin6;
    struct sockaddr_in sin;
    struct sockaddr *sa;
    unsigned char addr[16];
    unsigned char back[16];
    char    buf[ADDRESS_LITERAL_MAX];
    char    mail[ADDRESS_LITERAL_MAX + 16];
    unsigned family = fuzz_take_byte(in) % 3;
    int     i;

    for (i = 0; i < 16; i++)
	addr[i] = (unsigned char) fuzz_take_byte(in);
    memset(&sin, 0, sizeof(sin));
    memset(&sin6, 0, sizeof(sin6));
    sin.sin_family = family == 0 ? AF_INET : AF_UNIX;
    memcpy(&sin.sin_addr, addr, 4);
    sin6.sin6_family = AF_INET6;
    memcpy(&sin6.sin6_addr, addr, 16);
    sa = family == 1 ? (struct sockaddr *) &sin6 : (struct sockaddr *) &sin;
    FUZZ_ASSERT(address_literal(sa, buf, sizeof(buf) - 1) == -1,
		"short buffer taken");
    if (family == 2) {
	FUZZ_ASSERT(address_literal(sa, buf, sizeof(buf)) == -1,
		    "family %d taken", sa->sa_family);
	return;
    }
    FUZZ_ASSERT(address_literal(sa, buf, sizeof(buf)) == 0, "refused");
    FUZZ_ASSERT(strlen(buf) < sizeof(buf) && buf[0] == '['
		&& buf[strlen(buf) - 1] == ']', "literal \"%s\"", buf);
    buf[strlen(buf) - 1] = 0;
    memset(back, 0, sizeof(back));
    if (family == 1 && memcmp(addr, mapped, 12) != 0) {
	FUZZ_ASSERT(strncmp(buf, "[IPv6:", 6) == 0
		    && inet_pton(AF_INET6, buf + 6, back) == 1
		    && memcmp(back, addr, 16) == 0, "IPv6 literal %s]", buf);
    } else {
	FUZZ_ASSERT(inet_pton(AF_INET, buf + 1, back) == 1
		    && memcmp(back, family == 1 ? addr + 12 : addr, 4) == 0,
		    "IPv4 literal %s]", buf);
    }
    snprintf(mail, sizeof(mail), "postmaster@%s]", buf);
    FUZZ_ASSERT(address_check(mail, 0) == 0, "%s refused: %s", mail,
		address_check(mail, 0));
}

/* quoted_end - just past the quoted string at text, or null */

static const char *quoted_end(const char *text)
{
    const char *cp;

    for (cp = text + 1; *cp; cp++) {
	if (*cp == '\\' && cp[1])
	    cp++;
	else if (*cp == '\\')
	    return (0);
	else if (*cp == '"')
	    return (cp + 1);
    }
    return (0);
}

/* check_rest - the part after a quoted local part, or the whole */

static void check_rest(const char *addr, const char *rest)
{
    const char *cp;

    for (cp = rest; *cp; cp++) {
	if (*cp == '[') {
	    FUZZ_ASSERT(strchr(cp, ']') && strchr(cp, ']')[1] == 0,
			"domain literal not at the end of \"%s\"", addr);
	    for (cp++; *cp != ']'; cp++)
		FUZZ_ASSERT(*cp != ' ' && *cp != '[' && *cp != '\\',
			    "white space, '[' or '\\' in the domain literal "
			    "of \"%s\"", addr);
	    return;
	}
	FUZZ_ASSERT(*cp != ' ' && *cp != '"' && strchr("(),;:\\]", *cp) == 0,
		    "'%c' outside quotes in \"%s\"", *cp, addr);
    }
}

/* check_good - an address that may go on the wire */

static void check_good(const char *addr, int is_sender)
{
    const unsigned char *cp;
    const char *rest = addr;

    FUZZ_ASSERT(*addr || is_sender, "empty recipient accepted");
    FUZZ_ASSERT(strlen(addr) <= ADDRESS_MAX, "%zu bytes accepted",
		strlen(addr));
    for (cp = (const unsigned char *) addr; *cp; cp++)
	FUZZ_ASSERT(*cp >= 0x20 && *cp != 0x7f && *cp != '<' && *cp != '>',
		    "byte 0x%02x accepted", *cp);
    if (*addr == '"') {
	rest = quoted_end(addr);
	FUZZ_ASSERT(rest != 0, "unterminated quote accepted: \"%s\"", addr);
	FUZZ_ASSERT(*rest == 0 || *rest == '@', "text after quotes: \"%s\"",
		    addr);
    }
    check_rest(addr, rest);
}

/* LLVMFuzzerTestOneInput - one envelope address */

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_in in = {data, size};
    int     is_sender = fuzz_take_byte(&in) & 1;
    char   *addr = fuzz_take_str(&in);
    const char *why = address_check(addr, is_sender);
    const unsigned char *cp;
    int     eight = 0;

    if (why == 0)
	check_good(addr, is_sender);
    else
	FUZZ_ASSERT(*why, "empty reason");
    for (cp = (const unsigned char *) addr; *cp; cp++)
	eight |= *cp >= 0x80;
    FUZZ_ASSERT(address_needs_utf8(addr) == eight, "needs_utf8 wrong");
    check_literal(&in);
    free(addr);
    return (0);
}
