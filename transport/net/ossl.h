/* SPDX-License-Identifier: MIT */
#ifndef RR_OSSL_H
#define RR_OSSL_H

/*
 * ossl.h - OpenSSL, loaded when the first connection needs it
 *
 * rrelay is not linked with libssl and libcrypto. Relocating those two
 * libraries at every process start cost more CPU than the whole plaintext
 * delivery (bench/results/latest.md), and most deliveries never use TLS.
 * ossl_load() dlopen()s libssl (which brings libcrypto) the first time a
 * connection needs TLS and fills a table with the functions below.
 *
 * Code that calls OpenSSL includes this header instead of <openssl/...>.
 * Each function is then redefined as a call through the table, so the call
 * sites read as plain OpenSSL, and OpenSSL's own function-like macros
 * (SSL_CTX_set_mode() and friends) expand to table calls too. A function
 * used but missing from the table is a link error; a #define without a
 * table entry is a compile error: the two lists can't drift apart quietly.
 * Nothing here may be called before ossl_load() has succeeded.
 */

#include <stddef.h>

#include <openssl/opensslv.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#if OPENSSL_VERSION_MAJOR < 3
#error "rrelay needs OpenSSL 3"
#endif

#define OSSL_STR2(x)	#x
#define OSSL_STR(x)	OSSL_STR2(x)
#define OSSL_LIBSSL	"libssl.so." OSSL_STR(OPENSSL_VERSION_MAJOR)

#define OSSL_FUNCTIONS(X) \
    X(ERR_clear_error) X(ERR_get_error) X(ERR_peek_error) \
    X(ERR_reason_error_string) X(EVP_EncodeBlock) X(OPENSSL_init_ssl) \
    X(SSL_CIPHER_get_name) X(SSL_CTX_check_private_key) X(SSL_CTX_ctrl) \
    X(SSL_CTX_free) X(SSL_CTX_load_verify_locations) X(SSL_CTX_new) \
    X(SSL_CTX_set_default_verify_paths) X(SSL_CTX_set_verify) \
    X(SSL_CTX_use_PrivateKey_file) X(SSL_CTX_use_certificate_chain_file) \
    X(SSL_connect) X(SSL_ctrl) X(SSL_free) X(SSL_get0_param) \
    X(SSL_get1_peer_certificate) X(SSL_get_current_cipher) \
    X(SSL_get_error) X(SSL_get_verify_result) X(SSL_get_version) \
    X(SSL_new) X(SSL_pending) X(SSL_read) X(SSL_set_fd) X(SSL_shutdown) X(SSL_write) \
    X(SSL_SESSION_free) X(SSL_SESSION_get_time) X(SSL_SESSION_get_timeout) \
    X(SSL_SESSION_is_resumable) X(SSL_get1_session) X(SSL_session_reused) \
    X(SSL_set_session) X(d2i_SSL_SESSION) X(i2d_SSL_SESSION) \
    X(TLS_client_method) X(X509_VERIFY_PARAM_add1_host) \
    X(X509_VERIFY_PARAM_set1_host) X(X509_VERIFY_PARAM_set1_ip_asc) \
    X(X509_VERIFY_PARAM_set_hostflags) X(X509_free) \
    X(X509_verify_cert_error_string)

struct ossl_api {
#define OSSL_MEMBER(name) __typeof__(name) *name;
    OSSL_FUNCTIONS(OSSL_MEMBER)
#undef OSSL_MEMBER
};

extern struct ossl_api ossl_api;
extern int ossl_load(char *why, size_t whylen);
extern int ossl_loaded(void);

#ifndef OSSL_TABLE
#define ERR_clear_error			(*ossl_api.ERR_clear_error)
#define ERR_get_error			(*ossl_api.ERR_get_error)
#define ERR_peek_error			(*ossl_api.ERR_peek_error)
#define ERR_reason_error_string		(*ossl_api.ERR_reason_error_string)
#define EVP_EncodeBlock			(*ossl_api.EVP_EncodeBlock)
#define OPENSSL_init_ssl		(*ossl_api.OPENSSL_init_ssl)
#define SSL_CIPHER_get_name		(*ossl_api.SSL_CIPHER_get_name)
#define SSL_CTX_check_private_key	(*ossl_api.SSL_CTX_check_private_key)
#define SSL_CTX_ctrl			(*ossl_api.SSL_CTX_ctrl)
#define SSL_CTX_free			(*ossl_api.SSL_CTX_free)
#define SSL_CTX_load_verify_locations	(*ossl_api.SSL_CTX_load_verify_locations)
#define SSL_CTX_new			(*ossl_api.SSL_CTX_new)
#define SSL_CTX_set_default_verify_paths (*ossl_api.SSL_CTX_set_default_verify_paths)
#define SSL_CTX_set_verify		(*ossl_api.SSL_CTX_set_verify)
#define SSL_CTX_use_PrivateKey_file	(*ossl_api.SSL_CTX_use_PrivateKey_file)
#define SSL_CTX_use_certificate_chain_file \
					(*ossl_api.SSL_CTX_use_certificate_chain_file)
#define SSL_connect			(*ossl_api.SSL_connect)
#define SSL_ctrl			(*ossl_api.SSL_ctrl)
#define SSL_free			(*ossl_api.SSL_free)
#define SSL_get0_param			(*ossl_api.SSL_get0_param)
#define SSL_get1_peer_certificate	(*ossl_api.SSL_get1_peer_certificate)
#define SSL_get_current_cipher		(*ossl_api.SSL_get_current_cipher)
#define SSL_get_error			(*ossl_api.SSL_get_error)
#define SSL_get_verify_result		(*ossl_api.SSL_get_verify_result)
#define SSL_get_version			(*ossl_api.SSL_get_version)
#define SSL_new				(*ossl_api.SSL_new)
#define SSL_pending			(*ossl_api.SSL_pending)
#define SSL_read			(*ossl_api.SSL_read)
#define SSL_set_fd			(*ossl_api.SSL_set_fd)
#define SSL_shutdown			(*ossl_api.SSL_shutdown)
#define SSL_write			(*ossl_api.SSL_write)
#define SSL_SESSION_free		(*ossl_api.SSL_SESSION_free)
#define SSL_SESSION_get_time		(*ossl_api.SSL_SESSION_get_time)
#define SSL_SESSION_get_timeout		(*ossl_api.SSL_SESSION_get_timeout)
#define SSL_SESSION_is_resumable	(*ossl_api.SSL_SESSION_is_resumable)
#define SSL_get1_session		(*ossl_api.SSL_get1_session)
#define SSL_session_reused		(*ossl_api.SSL_session_reused)
#define SSL_set_session			(*ossl_api.SSL_set_session)
#define d2i_SSL_SESSION			(*ossl_api.d2i_SSL_SESSION)
#define i2d_SSL_SESSION			(*ossl_api.i2d_SSL_SESSION)
#define TLS_client_method		(*ossl_api.TLS_client_method)
#define X509_VERIFY_PARAM_add1_host	(*ossl_api.X509_VERIFY_PARAM_add1_host)
#define X509_VERIFY_PARAM_set1_host	(*ossl_api.X509_VERIFY_PARAM_set1_host)
#define X509_VERIFY_PARAM_set1_ip_asc	(*ossl_api.X509_VERIFY_PARAM_set1_ip_asc)
#define X509_VERIFY_PARAM_set_hostflags	(*ossl_api.X509_VERIFY_PARAM_set_hostflags)
#define X509_free			(*ossl_api.X509_free)
#define X509_verify_cert_error_string	(*ossl_api.X509_verify_cert_error_string)
#endif

#endif
