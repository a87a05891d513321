/* SPDX-License-Identifier: MIT */
#ifndef RR_CACHE_PROTO_H
#define RR_CACHE_PROTO_H

/* cache_proto.h - the messages between rrelay and rrelay-cache */

#include <stddef.h>
#include <stdint.h>

#define CACHE_MAGIC	0x52524331u	/* "RRC1" */
#define CACHE_VERSION	2
#define CACHE_KEY_MAX	1024		/* "dest tls=N helo=NAME" + policy */
#define CACHE_RELAY_MAX	320		/* "name[addr]:port" */
#define CACHE_ADDR_MAX	64		/* "addr:port" */
#define CACHE_EXT_MAX	1200		/* EHLO keywords, one per line */
#define CACHE_USE_MAX	1000000		/* deliveries on one connection */
#define CACHE_BLOB_MAX	6144		/* one i2d_SSL_SESSION() */
#define CACHE_LIFE_MAX	86400		/* seconds a TLS session may live */
#define CACHE_PATH_MAX	256		/* a CA, certificate or key file */
#define CACHE_MATCH_MAX	512		/* "secure" names, ':'-separated */
#define CACHE_WAIT_MAX	3600000		/* ms for a handshake, or idle */

/* cache_tls.flags: what a connection's TLS end gave */
#define CACHE_TLS_ACTIVE	(1u << 0)	/* the cache is its TLS end */
#define CACHE_TLS_PEER_CERT	(1u << 1)	/* the server showed one */
#define CACHE_TLS_VERIFIED	(1u << 2)	/* trusted, names matched */
#define CACHE_TLS_RESUMED	(1u << 3)	/* the handshake resumed */
#define CACHE_TLS_FLAGS		0xfu

enum cache_type {
    CACHE_TAKE = 1,			/* rrelay: a connection for key? */
    CACHE_PUT,				/* rrelay: keep this one (+ fd) */
    CACHE_HIT,				/* cache: here it is (+ fd) */
    CACHE_MISS,				/* cache: none for that key */
    CACHE_SESS_TAKE,			/* rrelay: a TLS session for key? */
    CACHE_SESS_PUT,			/* rrelay: keep this TLS session */
    CACHE_SESS_HIT,			/* cache: here it is */
    CACHE_TLS_START,			/* rrelay: be the TLS end (+ fd) */
    CACHE_TLS_DONE,			/* cache: the plaintext end (+ fd) */
    CACHE_TLS_FAIL,			/* cache: the handshake failed */
    CACHE_TLS_DECLINE,			/* cache: do it yourself */
};

/*
 * The TLS end of a connection (CACHE_TLS_START and its answers, and a
 * connection whose TLS end the cache is: PUT, HIT).
 */
struct cache_tls {
    uint32_t level;			/* START: enum tls_level, may..secure */
    uint32_t wait_ms;			/* START: for the handshake */
    uint32_t idle_ms;			/* START: then a silent proxy ends */
    uint32_t flags;			/* DONE, PUT, HIT: CACHE_TLS_* */
    char    sni[256];			/* START: the name sent and verified */
    char    match[CACHE_MATCH_MAX];	/* START: "secure" names, or "" */
    char    ca_file[CACHE_PATH_MAX];	/* START: the policy's files */
    char    ca_path[CACHE_PATH_MAX];
    char    cert_file[CACHE_PATH_MAX];
    char    key_file[CACHE_PATH_MAX];
    char    protocols[16];		/* START: tls_protocols */
    char    version[16];		/* DONE, PUT, HIT: "TLSv1.3" */
    char    cipher[64];			/* DONE, PUT, HIT */
    char    text[256];			/* DONE: verify error; FAIL: why */
};

/*
 * One message, always this size, one per SOCK_SEQPACKET record; in
 * host byte order, since both ends run on one host. Unused text is
 * zero-filled to the end of its field.
 */
struct cache_msg {
    uint32_t magic;
    uint16_t version;
    uint16_t type;			/* enum cache_type */
    uint32_t use;			/* deliveries so far (PUT, HIT) */
    uint32_t spare;			/* zero */
    char    key[CACHE_KEY_MAX];
    char    relay[CACHE_RELAY_MAX];	/* PUT, HIT */
    char    addr[CACHE_ADDR_MAX];	/* PUT, HIT */
    char    ext[CACHE_EXT_MAX];		/* PUT, HIT; may be empty */
    uint32_t lifetime;			/* SESS_PUT, SESS_HIT: seconds left */
    uint32_t blob_len;			/* SESS_PUT, SESS_HIT */
    unsigned char blob[CACHE_BLOB_MAX];	/* the session, zero-padded */
    struct cache_tls tls;		/* see above */
};

extern void cache_msg_init(struct cache_msg *msg, enum cache_type type);
extern int cache_msg_text(char *field, size_t size, const char *value,
		                  int lines);
extern int cache_msg_parse(const void *buf, size_t len, int nfd,
			           struct cache_msg *msg, char *why,
			           size_t whylen);
extern int cache_msg_wants_fd(enum cache_type type);

#endif
