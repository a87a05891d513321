/*
 * NAME
 *	tlsconf 3
 * SUMMARY
 *	the TLS settings' start-up checks
 * SYNOPSIS
 *	#include "tlsconf.h"
 *
 *	int	tls_check_config(conf, err, errlen)
 *	int	tls_min_version(text)
 * DESCRIPTION
 *	tls_check_config() makes the checks that cost nothing at start-up:
 *	a known tls_protocols value, and CA, certificate and key files
 *	that can be read. It needs OpenSSL's headers only, never the
 *	library, so the configuration layer stays below tls.c.
 *
 *	tls_min_version() maps a tls_protocols value (">=TLSv1.2") to
 *	OpenSSL's protocol version number, or -1.
 *--*/

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "tlsconf.h"

/* tls_min_version - ">=TLSv1.2" and friends, as OpenSSL's version */

int     tls_min_version(const char *text)
{
    static const struct {
	const char *name;
	int     version;
    }       table[] = {
	{">=TLSv1", TLS1_VERSION},
	{">=TLSv1.1", TLS1_1_VERSION},
	{">=TLSv1.2", TLS1_2_VERSION},
	{">=TLSv1.3", TLS1_3_VERSION},
    };
    size_t  i;

    for (i = 0; i < sizeof(table) / sizeof(table[0]); i++)
	if (strcmp(text, table[i].name) == 0)
	    return (table[i].version);
    return (-1);
}

/* readable - a configured file that rrelay can read */

static int readable(const char *name, const char *path, char *err,
		            size_t errlen)
{
    if (path[0] && access(path, R_OK) < 0) {
	snprintf(err, errlen, "%s %s: %s", name, path, strerror(errno));
	return (-1);
    }
    return (0);
}

/* tls_check_config - the cheap checks, done at start-up */

int     tls_check_config(const struct rrconfig *conf, char *err, size_t errlen)
{
    if (tls_min_version(conf->tls_protocols) < 0) {
	snprintf(err, errlen, "tls_protocols \"%s\" is not one of >=TLSv1, "
		 ">=TLSv1.1, >=TLSv1.2, >=TLSv1.3", conf->tls_protocols);
	return (-1);
    }
    if (conf->tls_key_file[0] && conf->tls_cert_file[0] == 0) {
	snprintf(err, errlen, "tls_key_file is set, but tls_cert_file is not");
	return (-1);
    }
    return (readable("tls_ca_file", conf->tls_ca_file, err, errlen) < 0
	    || readable("tls_ca_path", conf->tls_ca_path, err, errlen) < 0
	    || readable("tls_cert_file", conf->tls_cert_file, err, errlen) < 0
	    || readable("tls_key_file", conf->tls_key_file, err, errlen) < 0 ?
	    -1 : 0);
}
