#ifndef RR_CACHE_PROTO_H
#define RR_CACHE_PROTO_H

/* cache_proto.h - the messages between rrelay and rrelay-cache */

#include <stddef.h>
#include <stdint.h>

#define CACHE_MAGIC	0x52524331u	/* "RRC1" */
#define CACHE_VERSION	1
#define CACHE_KEY_MAX	400		/* "dest tls=N helo=NAME" */
#define CACHE_RELAY_MAX	320		/* "name[addr]:port" */
#define CACHE_ADDR_MAX	64		/* "addr:port" */
#define CACHE_EXT_MAX	1200		/* EHLO keywords, one per line */
#define CACHE_USE_MAX	1000000		/* deliveries on one connection */
#define CACHE_BLOB_MAX	6144		/* one i2d_SSL_SESSION() */
#define CACHE_LIFE_MAX	86400		/* seconds a TLS session may live */

enum cache_type {
    CACHE_TAKE = 1,			/* rrelay: a connection for key? */
    CACHE_PUT,				/* rrelay: keep this one (+ fd) */
    CACHE_HIT,				/* cache: here it is (+ fd) */
    CACHE_MISS,				/* cache: none for that key */
    CACHE_SESS_TAKE,			/* rrelay: a TLS session for key? */
    CACHE_SESS_PUT,			/* rrelay: keep this TLS session */
    CACHE_SESS_HIT,			/* cache: here it is */
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
};

extern void cache_msg_init(struct cache_msg *msg, enum cache_type type);
extern int cache_msg_text(char *field, size_t size, const char *value,
		                  int lines);
extern int cache_msg_parse(const void *buf, size_t len, int nfd,
			           struct cache_msg *msg, char *why,
			           size_t whylen);
extern int cache_msg_wants_fd(enum cache_type type);

#endif
