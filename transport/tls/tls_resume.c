/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	tls_resume 3
 * SUMMARY
 *	TLS sessions kept in rrelay-cache between deliveries
 * SYNOPSIS
 *	#include "tls/tls_resume.h"
 *
 *	int	tls_resume_offer(conf, peer, ssl, deadline_ms, key, keylen)
 *
 *	void	tls_resume_keep(conf, key, ssl)
 *
 *	int	tls_resumed(ssl)
 *
 *	int	tls_resume_policy(conf, level, match, buf, len)
 * DESCRIPTION
 *	A TLS connection can't outlive the rrelay process that made it,
 *	but its session can: as Postfix's smtp_tls_session_cache_database
 *	does, rrelay stores it (i2d_SSL_SESSION) in rrelay-cache, and the
 *	next delivery to the same server resumes it, skipping the full
 *	handshake.
 *
 *	The key names the server ("name[addr]:port") and the whole TLS
 *	policy the session was made under: the level, the name sent and
 *	verified, the "secure" match names, the CA file and directory and
 *	the client certificate and key (each with its inode, size and
 *	mtime, so a replaced file counts as a change), and tls_protocols.
 *	A session is never resumed under another policy: with a changed
 *	policy the key differs, and the cache has nothing for it.
 *
 *	tls_resume_offer() writes the key into key (empty when it does
 *	not fit a cache key: then nothing is kept) and hands a stored
 *	session, if any, to ssl before the handshake. It returns 1 when
 *	it did.
 *
 *	tls_resume_keep() stores the connection's session under key for
 *	what is left of its lifetime, when it can be resumed. The caller
 *	calls it only for a session its policy accepted.
 *
 *	tls_resumed() tells whether the handshake resumed a session.
 *
 *	tls_resume_policy() writes the policy part of the key (all but the
 *	server), which also keys the connections whose TLS end rrelay-cache
 *	is; -1 when it does not fit in len, and -1 at level verify and up
 *	when trust comes from tls_ca_path or the system store: a directory's
 *	contents can change in place with no change the key could see, so
 *	under those no connection or session is reused as verified; only a
 *	tls_ca_file (its inode, size and mtime are in the key) allows it.
 *
 *	Any trouble with the cache only means a full handshake.
 *--*/

#include <stdio.h>
#include <sys/stat.h>
#include <time.h>

#include "ipc/cache_client.h"
#include "conf/tlspolicy.h"
#include "net/ossl.h"
#include "tls/tls_resume.h"

/* file_id - "path@inode.size.mtime", or "" for none */

static void file_id(const char *path, char *buf, size_t len)
{
    struct stat st;

    if (path[0] == 0 || stat(path, &st) < 0)
	snprintf(buf, len, "%s", path);
    else
	snprintf(buf, len, "%s@%lu.%lld.%lld", path, (unsigned long) st.st_ino,
		 (long long) st.st_size, (long long) st.st_mtime);
}

/* tls_resume_policy - "level=N match=... ca=...|... cert=...|... proto=..." */

int     tls_resume_policy(const struct rrconfig *conf, int level,
			          const char *match, char *buf, size_t len)
{
    char    ca_file[300];
    char    ca_path[300];
    char    cert[300];
    char    pkey[300];
    int     n;

    if (level >= TLS_VERIFY && (conf->tls_ca_path[0] || !conf->tls_ca_file[0])) {
	buf[0] = 0;				/* a store that changes unseen */
	return (-1);
    }
    file_id(conf->tls_ca_file, ca_file, sizeof(ca_file));
    file_id(conf->tls_ca_path, ca_path, sizeof(ca_path));
    file_id(conf->tls_cert_file, cert, sizeof(cert));
    file_id(conf->tls_key_file, pkey, sizeof(pkey));
    n = snprintf(buf, len, "level=%d match=%s ca=%s|%s cert=%s|%s proto=%s",
		 level, match ? match : "", ca_file, ca_path, cert, pkey,
		 conf->tls_protocols);
    if (n < 0 || (size_t) n >= len) {
	buf[0] = 0;
	return (-1);
    }
    return (0);
}

/* make_key - the server and the whole policy; -1 when it does not fit */

static int make_key(const struct rrconfig *conf, const struct tls_peer *peer,
		            char *key, size_t keylen)
{
    char    policy[CACHE_KEY_MAX];
    int     n;

    if (tls_resume_policy(conf, peer->level, peer->match, policy,
			  sizeof(policy)) < 0)
	return (-1);
    n = snprintf(key, keylen, "tls %s sni=%s %s", peer->relay, peer->sni,
		 policy);
    if (n < 0 || (size_t) n >= keylen) {
	key[0] = 0;
	return (-1);
    }
    return (0);
}

/* tls_resume_offer - a stored session for this server and policy, if any */

int     tls_resume_offer(const struct rrconfig *conf,
			         const struct tls_peer *peer, SSL *ssl,
			         long long deadline_ms, char *key, size_t keylen)
{
    static unsigned char buf[CACHE_BLOB_MAX];
    const unsigned char *cp = buf;
    SSL_SESSION *sess;
    size_t  len;
    int     used = 0;

    if (make_key(conf, peer, key, keylen) < 0
	|| cache_session_get(conf, key, deadline_ms, buf, sizeof(buf),
			     &len) == 0)
	return (0);
    if ((sess = d2i_SSL_SESSION(0, &cp, (long) len)) != 0) {
	used = SSL_SESSION_is_resumable(sess) && SSL_set_session(ssl, sess);
	SSL_SESSION_free(sess);
    }
    ERR_clear_error();
    return (used);
}

/* tls_resume_keep - store the session for what is left of its life */

void    tls_resume_keep(const struct rrconfig *conf, const char *key,
			        SSL *ssl)
{
    static unsigned char buf[CACHE_BLOB_MAX];
    unsigned char *cp = buf;
    SSL_SESSION *sess;
    long    left;
    int     len;

    if (key[0] == 0 || (sess = SSL_get1_session(ssl)) == 0)
	return;
    left = (long) SSL_SESSION_get_timeout(sess)
	- (long) (time((time_t *) 0) - SSL_SESSION_get_time(sess));
    if (SSL_SESSION_is_resumable(sess) && left > 0
	&& (len = i2d_SSL_SESSION(sess, 0)) > 0
	&& (size_t) len <= sizeof(buf)
	&& i2d_SSL_SESSION(sess, &cp) == len)
	(void) cache_session_put(conf, key, buf, (size_t) len, left);
    SSL_SESSION_free(sess);
    ERR_clear_error();
}

/* tls_resumed - the handshake resumed a session */

int     tls_resumed(SSL *ssl)
{
    return (SSL_session_reused(ssl) == 1);
}
