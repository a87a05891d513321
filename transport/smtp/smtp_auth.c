/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	smtp_auth 3
 * SUMMARY
 *	SMTP AUTH PLAIN and LOGIN, client side
 * SYNOPSIS
 *	#include "smtp/smtp_auth.h"
 *
 *	const char *auth_choose(offered, wanted)
 *
 *	int	auth_base64(data, len, out, outlen)
 *	int	auth_plain(user, pass, out, outlen)
 * DESCRIPTION
 *	auth_choose() picks the first mechanism of wanted (auth_mechanisms,
 *	"plain, login") that the server offered in its EHLO AUTH line
 *	(offered: "PLAIN LOGIN CRAM-MD5", any case). It returns "PLAIN",
 *	"LOGIN" or a null pointer.
 *
 *	auth_base64() encodes data for the wire; auth_plain() builds the
 *	RFC 4616 initial response, base64 of NUL user NUL password.
 *	Callers wipe the results after use.
 * DIAGNOSTICS
 *	The encoders return -1 when out is too small.
 *--*/

#include <string.h>
#include <strings.h>


#include "smtp/smtp_auth.h"
#include "net/ossl.h"

/* offers - the space-separated list holds the mechanism */

static int offers(const char *offered, const char *mech)
{
    size_t  len = strlen(mech);
    const char *cp = offered;

    while (*cp) {
	while (*cp == ' ' || *cp == '=')
	    cp++;
	if (strncasecmp(cp, mech, len) == 0 && (cp[len] == 0 || cp[len] == ' '))
	    return (1);
	while (*cp && *cp != ' ')
	    cp++;
    }
    return (0);
}

/* auth_choose - first wanted mechanism that the server offers */

const char *auth_choose(const char *offered, const char *wanted)
{
    static const char *known[] = {"PLAIN", "LOGIN"};
    const char *cp = wanted;
    size_t  len;
    size_t  i;

    while (*cp) {
	cp += strspn(cp, ", \t");
	len = strcspn(cp, ", \t");
	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
	    if (len == strlen(known[i]) && strncasecmp(cp, known[i], len) == 0
		&& offers(offered, known[i]))
		return (known[i]);
	cp += len;
    }
    return (0);
}

/* auth_base64 - base64 without line breaks */

int     auth_base64(const void *data, size_t len, char *out, size_t outlen)
{
    char    why[256];

    if (outlen < 4 * ((len + 2) / 3) + 1 || len > 4096
	|| ossl_load(why, sizeof(why)) < 0)
	return (-1);
    (void) EVP_EncodeBlock((unsigned char *) out, data, (int) len);
    return (0);
}

/* auth_plain - base64("\0user\0pass") */

int     auth_plain(const char *user, const char *pass, char *out,
		           size_t outlen)
{
    char    buf[1024];
    size_t  ulen = strlen(user);
    size_t  plen = strlen(pass);
    int     status;

    if (ulen + plen + 2 > sizeof(buf))
	return (-1);
    buf[0] = 0;
    memcpy(buf + 1, user, ulen);
    buf[1 + ulen] = 0;
    memcpy(buf + 2 + ulen, pass, plen);
    status = auth_base64(buf, ulen + plen + 2, out, outlen);
    explicit_bzero(buf, sizeof(buf));
    return (status);
}
