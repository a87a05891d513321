/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	tls 3
 * SUMMARY
 *	OpenSSL set-up for connections to upstream hosts
 * SYNOPSIS
 *	#include "tls/tls.h"
 *
 *	SSL	*tls_prepare(conf, host, match, why, whylen)
 *
 *
 *	void	tls_describe(ssl, info)
 *	const char *tls_summary(info, buf, len)
 * DESCRIPTION
 *	The start-up checks of the TLS settings are rrconfig.c's. The OpenSSL context itself is built when the
 *	first connection needs TLS, so a delivery to a host without
 *	STARTTLS never pays for loading OpenSSL's trust store; a file that
 *	then fails to parse is reported as a configuration error too. A
 *	process that runs many deliveries (a delivery worker) keeps the
 *	context only while the settings it was built from, and the files
 *	they name (inode, size, modification time), stay the same.
 *
 *	tls_prepare() makes the SSL object for one connection: SNI set to
 *	host when it is a name, and the names that verification must
 *	match handed to OpenSSL's own host-name checking (no home-made
 *	matching): match, a ':'-separated list, or else host itself; an
 *	IP address is matched as an address. The certificate is always
 *	verified, but never aborts the handshake: the caller decides from
 *	the security level what an unverified peer means, as Postfix does.
 *
 *	tls_describe() reads the protocol, cipher and verification result
 *	of a finished handshake; tls_summary() formats them for the log:
 *	"TLSv1.3/TLS_AES_256_GCM_SHA384 verified|untrusted|anonymous".
 * DIAGNOSTICS
 *	tls_prepare() returns an error with a
 *	reason from OpenSSL's error queue.
 *--*/

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tls/tls.h"
#include "net/ossl.h"

static SSL_CTX *tls_ctx;
static char tls_ctx_key[2048];		/* the settings tls_ctx was built for */

/* ssl_reason - the newest OpenSSL error, in words */

static const char *ssl_reason(void)
{
    unsigned long err = ERR_get_error();
    const char *text = err ? ERR_reason_error_string(err) : 0;

    ERR_clear_error();
    return (text ? text : "unknown error");
}

/* load_trust - CA file/path, or the system store */

static int load_trust(const struct rrconfig *conf, char *err, size_t errlen)
{
    const char *file = conf->tls_ca_file[0] ? conf->tls_ca_file : 0;
    const char *path = conf->tls_ca_path[0] ? conf->tls_ca_path : 0;

    if (errlen > 0)
	err[0] = 0;				/* written on every path */

    if (file == 0 && path == 0) {
	if (SSL_CTX_set_default_verify_paths(tls_ctx) != 1) {
	    snprintf(err, errlen, "cannot use the system CA store: %s",
		     ssl_reason());
	    return (-1);
	}
	return (0);
    }
    if (SSL_CTX_load_verify_locations(tls_ctx, file, path) != 1) {
	snprintf(err, errlen, "tls_ca_file/tls_ca_path: cannot load %s: %s",
		 file ? file : path, ssl_reason());
	return (-1);
    }
    return (0);
}

/* load_identity - the client certificate and key, when configured */

static int load_identity(const struct rrconfig *conf, char *err,
			         size_t errlen)
{
    const char *key = conf->tls_key_file[0] ? conf->tls_key_file :
    conf->tls_cert_file;

    if (errlen > 0)
	err[0] = 0;				/* written on every path */

    if (conf->tls_cert_file[0] == 0)
	return (0);
    if (SSL_CTX_use_certificate_chain_file(tls_ctx, conf->tls_cert_file) != 1
	|| SSL_CTX_use_PrivateKey_file(tls_ctx, key, SSL_FILETYPE_PEM) != 1
	|| SSL_CTX_check_private_key(tls_ctx) != 1) {
	snprintf(err, errlen, "tls_cert_file/tls_key_file: cannot use %s: %s",
		 conf->tls_cert_file, ssl_reason());
	return (-1);
    }
    return (0);
}

/* file_id - ":ino.size.mtime" of a configured file, or ":-" */

static void file_id(char *buf, size_t len, const char *path)
{
    struct stat st;

    if (path[0] && stat(path, &st) == 0)
	snprintf(buf, len, ":%s:%lu.%lld.%lld.%ld", path,
		 (unsigned long) st.st_ino, (long long) st.st_size,
		 (long long) st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
    else
	snprintf(buf, len, ":%s:-", path);
}

/*
 * context_key - what the context depends on: a delivery worker runs
 * deliveries with different settings, and files may change under it
 */

static void context_key(const struct rrconfig *conf, char *key, size_t len)
{
    char    ca[600];
    char    dir[600];
    char    cert[600];
    char    pkey[600];

    file_id(ca, sizeof(ca), conf->tls_ca_file);
    file_id(dir, sizeof(dir), conf->tls_ca_path);
    file_id(cert, sizeof(cert), conf->tls_cert_file);
    file_id(pkey, sizeof(pkey), conf->tls_key_file);
    snprintf(key, len, "%s%s%s%s%s", conf->tls_protocols, ca, dir, cert, pkey);
}

/* tls_context - build the client context when TLS is first needed */

static int tls_context(const struct rrconfig *conf, char *err, size_t errlen)
{
    char    key[sizeof(tls_ctx_key)];

    if (errlen > 0)
	err[0] = 0;				/* written on every path */

    context_key(conf, key, sizeof(key));
    if (tls_ctx && strcmp(key, tls_ctx_key) == 0)
	return (0);
    if (tls_ctx)
	SSL_CTX_free(tls_ctx);
    tls_ctx = 0;
    memcpy(tls_ctx_key, key, sizeof(key));
    if (tls_check_config(conf, err, errlen) < 0
	|| ossl_load(err, errlen) < 0)
	return (-1);
    if ((tls_ctx = SSL_CTX_new(TLS_client_method())) == 0) {
	snprintf(err, errlen, "SSL_CTX_new: %s", ssl_reason());
	return (-1);
    }
    SSL_CTX_set_min_proto_version(tls_ctx, tls_min_version(conf->tls_protocols));
    SSL_CTX_set_mode(tls_ctx, SSL_MODE_ENABLE_PARTIAL_WRITE
		     | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_CTX_set_verify(tls_ctx, SSL_VERIFY_NONE, 0);
    if (load_trust(conf, err, errlen) < 0
	|| load_identity(conf, err, errlen) < 0) {
	SSL_CTX_free(tls_ctx);
	tls_ctx = 0;
	return (-1);
    }
    return (0);
}

/* is_address - an IPv4 or IPv6 literal */

static int is_address(const char *host)
{
    unsigned char buf[sizeof(struct in6_addr)];

    return (inet_pton(AF_INET, host, buf) == 1
	    || inet_pton(AF_INET6, host, buf) == 1);
}

/* set_names - the names (or address) the certificate must match */

static int set_names(SSL *ssl, const char *host, const char *match)
{
    X509_VERIFY_PARAM *param = SSL_get0_param(ssl);
    char    names[512];
    char   *name;
    char   *save = 0;
    int     first = 1;

    X509_VERIFY_PARAM_set_hostflags(param,
				    X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    if ((match == 0 || *match == 0) && is_address(host))
	return (X509_VERIFY_PARAM_set1_ip_asc(param, host) == 1 ? 0 : -1);
    snprintf(names, sizeof(names), "%s", match && *match ? match : host);
    for (name = strtok_r(names, ":", &save); name;
	 name = strtok_r(0, ":", &save)) {
	if ((first ? X509_VERIFY_PARAM_set1_host(param, name, 0) :
	     X509_VERIFY_PARAM_add1_host(param, name, 0)) != 1)
	    return (-1);
	first = 0;
    }
    return (0);
}

/* tls_prepare - an SSL object for one connection */

SSL    *tls_prepare(const struct rrconfig *conf, const char *host,
		            const char *match, char *why, size_t whylen)
{
    SSL    *ssl;

    if (tls_context(conf, why, whylen) < 0)
	return (0);
    if ((ssl = SSL_new(tls_ctx)) == 0) {
	snprintf(why, whylen, "SSL_new: %s", ssl_reason());
	return (0);
    }
    if ((!is_address(host) && SSL_set_tlsext_host_name(ssl, host) != 1)
	|| set_names(ssl, host, match) < 0) {
	snprintf(why, whylen, "cannot set the TLS peer name %s: %s", host,
		 ssl_reason());
	SSL_free(ssl);
	return (0);
    }
    return (ssl);
}

/* tls_describe - what the finished handshake gave */

void    tls_describe(SSL *ssl, struct tls_info *info)
{
    X509   *peer = SSL_get1_peer_certificate(ssl);
    long    result = SSL_get_verify_result(ssl);

    memset(info, 0, sizeof(*info));
    info->active = 1;
    info->peer_cert = peer != 0;
    info->verified = peer != 0 && result == X509_V_OK;
    snprintf(info->version, sizeof(info->version), "%s", SSL_get_version(ssl));
    snprintf(info->cipher, sizeof(info->cipher), "%s",
	     SSL_get_cipher_name(ssl));
    if (!info->verified)
	snprintf(info->verify_error, sizeof(info->verify_error), "%s",
		 peer ? X509_verify_cert_error_string(result) :
		 "no server certificate");
    X509_free(peer);
}

/* tls_summary - "TLSv1.3/CIPHER verified|untrusted|anonymous" */

const char *tls_summary(const struct tls_info *info, char *buf, size_t len)
{
    snprintf(buf, len, "%s/%s %s", info->version, info->cipher,
	     info->verified ? "verified" :
	     info->peer_cert ? "untrusted" : "anonymous");
    return (buf);
}
