/*
 * fuzz_address - fuzz harness for transport/address.c
 *
 * Input: one byte (bit 0: the address is the sender), then the address
 * as pipe(8) would pass it (an argv string: up to the first NUL).
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
 */

#include "fuzz.h"
#include "address.h"

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
    free(addr);
    return (0);
}
