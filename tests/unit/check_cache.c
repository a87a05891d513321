/* SPDX-License-Identifier: MIT */
/* check_cache - rrelay-cache's table of idle connections and its messages */

#include <stdio.h>
#include <string.h>

#include "unit.h"
#include "config.h"
#include "cache/cache.h"
#include "conf/rrconfig.h"

#define DROPS_MAX	16

/* What the table let go of, in order. */
static int dropped[DROPS_MAX];
static char drop_why[DROPS_MAX][32];
static int ndropped;

/* record_drop - the drop hook: remember the fd and the reason */

static void record_drop(void *ctx, int fd, const struct cache_msg *msg,
			        const char *why)
{
    (void) ctx;
    (void) msg;
    ck_assert_int_lt(ndropped, DROPS_MAX);
    dropped[ndropped] = fd;
    snprintf(drop_why[ndropped], sizeof(drop_why[0]), "%s", why);
    ndropped++;
}

/* take - cache_take(): the fd, or -1 for none */

static int take(struct cache_table *t, const char *key, long long now,
		        struct cache_msg *msg)
{
    int     fd = -2;

    if (cache_take(t, key, now, msg, &fd) == 0) {
	ck_assert_int_eq(fd, -2);		/* untouched */
	return (-1);
    }
    return (fd);
}

/* put_msg - a PUT record for key with use count */

static struct cache_msg put_msg(const char *key, unsigned use)
{
    struct cache_msg msg;

    cache_msg_init(&msg, CACHE_PUT);
    ck_assert_int_eq(cache_msg_text(msg.key, sizeof(msg.key), key, 0), 0);
    ck_assert_int_eq(cache_msg_text(msg.relay, sizeof(msg.relay),
				    "h[127.0.0.1]:25", 0), 0);
    ck_assert_int_eq(cache_msg_text(msg.addr, sizeof(msg.addr),
				    "127.0.0.1:25", 0), 0);
    ck_assert_int_eq(cache_msg_text(msg.ext, sizeof(msg.ext),
				    "PIPELINING\nSIZE 1000", 1), 0);
    msg.use = use;
    return (msg);
}

/* new_table - 2s, 3 uses, 2 per host, 4 in all */

static void new_table(struct cache_table *t)
{
    ndropped = 0;
    ck_assert_int_eq(cache_table_init(t, 2, 3, 2, 4, record_drop, 0), 0);
}

/* test_take_exact_key - only the key asked for, newest first */

START_TEST(test_take_exact_key)
{
    struct cache_table t;
    struct cache_msg msg = put_msg("a tls=1 helo=x", 1);
    struct cache_msg other = put_msg("b tls=1 helo=x", 2);
    struct cache_msg got;

    new_table(&t);
    cache_store(&t, &msg, 10, 0);
    cache_store(&t, &other, 11, 0);
    msg.use = 2;
    cache_store(&t, &msg, 12, 100);
    ck_assert_int_eq(take(&t, "c tls=1 helo=x", 200, &got), -1);
    ck_assert_int_eq(take(&t, "a tls=1 helo=y", 200, &got), -1);
    ck_assert_int_eq(take(&t, "a tls=1 helo=x", 200, &got), 12);
    ck_assert_uint_eq(got.use, 2);
    ck_assert_str_eq(got.ext, "PIPELINING\nSIZE 1000");
    ck_assert_int_eq(take(&t, "a tls=1 helo=x", 200, &got), 10);
    ck_assert_int_eq(take(&t, "a tls=1 helo=x", 200, &got), -1);
    ck_assert_int_eq(take(&t, "b tls=1 helo=x", 200, &got), 11);
    ck_assert_int_eq(ndropped, 0);
    cache_table_free(&t);
}
END_TEST

/* test_time_limit - idle for the limit or more: closed, never handed out */

START_TEST(test_time_limit)
{
    struct cache_table t;
    struct cache_msg msg = put_msg("a", 1);
    struct cache_msg got;

    new_table(&t);
    ck_assert_int_eq(cache_next_expiry(&t), -1);
    cache_store(&t, &msg, 10, 1000);
    cache_store(&t, &msg, 11, 1500);
    ck_assert_int_eq(cache_next_expiry(&t), 3000);
    cache_expire(&t, 2999);
    ck_assert_int_eq(ndropped, 0);
    ck_assert_int_eq(take(&t, "a", 3000, &got), 11);
    ck_assert_int_eq(ndropped, 1);
    ck_assert_int_eq(dropped[0], 10);
    ck_assert_str_eq(drop_why[0], "idle time limit");
    cache_store(&t, &msg, 12, 4000);
    ck_assert_int_eq(take(&t, "a", 6000, &got), -1);
    ck_assert_int_eq(dropped[1], 12);
    cache_table_free(&t);
}
END_TEST

/* test_use_limit - a connection that carried use_limit deliveries is closed */

START_TEST(test_use_limit)
{
    struct cache_table t;
    struct cache_msg msg = put_msg("a", 2);
    struct cache_msg got;

    new_table(&t);
    cache_store(&t, &msg, 10, 0);
    ck_assert_int_eq(ndropped, 0);
    msg.use = 3;
    cache_store(&t, &msg, 11, 0);
    ck_assert_int_eq(ndropped, 1);
    ck_assert_int_eq(dropped[0], 11);
    ck_assert_str_eq(drop_why[0], "reuse count limit");
    ck_assert_int_eq(take(&t, "a", 0, &got), 10);
    ck_assert_int_eq(take(&t, "a", 0, &got), -1);
    cache_table_free(&t);
}
END_TEST

/* test_per_host - the oldest of a key goes when the key is full */

START_TEST(test_per_host)
{
    struct cache_table t;
    struct cache_msg a = put_msg("a", 1);
    struct cache_msg b = put_msg("b", 1);
    struct cache_msg c;
    struct cache_msg got;

    new_table(&t);
    cache_store(&t, &a, 10, 0);
    cache_store(&t, &b, 20, 1);
    cache_store(&t, &a, 11, 2);
    cache_store(&t, &a, 12, 3);
    ck_assert_int_eq(ndropped, 1);
    ck_assert_int_eq(dropped[0], 10);
    ck_assert_str_eq(drop_why[0], "per-host limit");
    /* The table is full at 4: the oldest of all goes. */
    cache_store(&t, &b, 21, 4);
    ck_assert_int_eq(ndropped, 1);
    c = put_msg("c", 1);
    cache_store(&t, &c, 30, 5);
    ck_assert_int_eq(ndropped, 2);
    ck_assert_int_eq(dropped[1], 20);
    ck_assert_str_eq(drop_why[1], "cache full");
    ck_assert_int_eq(take(&t, "b", 5, &got), 21);
    ck_assert_int_eq(take(&t, "b", 5, &got), -1);
    cache_drain(&t, "stopping");
    ck_assert_int_eq(ndropped, 5);
    ck_assert_int_eq(t.count, 0);
    ck_assert_str_eq(drop_why[4], "stopping");
    cache_table_free(&t);
}
END_TEST

/* parse - cache_msg_parse() of a message with nfd descriptors */

static int parse(const struct cache_msg *msg, int nfd)
{
    struct cache_msg out;
    char    why[100];

    return (cache_msg_parse(msg, sizeof(*msg), nfd, &out, why, sizeof(why)));
}

/* test_parse - what the protocol accepts, and each thing it refuses */

START_TEST(test_parse)
{
    struct cache_msg msg = put_msg("a", 1);
    struct cache_msg bad;
    struct cache_msg out;
    char    why[100];

    ck_assert_int_eq(parse(&msg, 1), 0);
    ck_assert_int_eq(parse(&msg, 0), -1);	/* PUT without the fd */
    ck_assert_int_eq(cache_msg_parse(&msg, sizeof(msg) - 1, 1, &out, why,
				     sizeof(why)), -1);
    bad = msg;
    bad.version = CACHE_VERSION + 1;
    ck_assert_int_eq(parse(&bad, 1), -1);
    bad.version = CACHE_VERSION - 1;		/* an older rrelay or cache */
    ck_assert_int_eq(parse(&bad, 1), -1);
    bad = msg;
    bad.magic ^= 1;
    ck_assert_int_eq(parse(&bad, 1), -1);
    bad = msg;
    bad.type = CACHE_TLS_DECLINE + 1;
    ck_assert_int_eq(parse(&bad, 1), -1);
    bad.type = 0;
    ck_assert_int_eq(parse(&bad, 1), -1);
    bad = msg;
    bad.spare = 1;
    ck_assert_int_eq(parse(&bad, 1), -1);
    bad = msg;
    bad.use = 0;
    ck_assert_int_eq(parse(&bad, 1), -1);
    bad = msg;
    bad.key[sizeof(bad.key) - 1] = 'x';	/* garbage after the NUL */
    ck_assert_int_eq(parse(&bad, 1), -1);
    bad = msg;
    memset(bad.relay, 'x', sizeof(bad.relay));	/* no NUL */
    ck_assert_int_eq(parse(&bad, 1), -1);
    bad = msg;
    bad.key[0] = '\n';			/* newlines only in ext */
    ck_assert_int_eq(parse(&bad, 1), -1);
    bad = msg;
    bad.ext[0] = 1;
    ck_assert_int_eq(parse(&bad, 1), -1);
    cache_msg_init(&bad, CACHE_TAKE);
    ck_assert_int_eq(parse(&bad, 0), -1);	/* no key */
    ck_assert_int_eq(cache_msg_text(bad.key, sizeof(bad.key), "a", 0), 0);
    ck_assert_int_eq(parse(&bad, 0), 0);
    ck_assert_int_eq(parse(&bad, 1), -1);	/* TAKE with an fd */
    bad.use = 1;
    ck_assert_int_eq(parse(&bad, 0), -1);	/* TAKE with a use count */
    cache_msg_init(&bad, CACHE_MISS);
    ck_assert_int_eq(cache_msg_text(bad.key, sizeof(bad.key), "a", 0), 0);
    ck_assert_int_eq(parse(&bad, 0), 0);
    ck_assert_int_eq(cache_msg_text(bad.relay, sizeof(bad.relay), "r", 0), 0);
    ck_assert_int_eq(parse(&bad, 0), -1);	/* MISS with a relay */
    ck_assert_int_eq(cache_msg_text(bad.key, sizeof(bad.key), "a\nb", 0), -1);
    ck_assert_int_eq(cache_msg_text(bad.key, 2, "ab", 0), -1);
}
END_TEST

/* tls_start - a valid TLS_START: relay, address, policy and waits */

static struct cache_msg tls_start(void)
{
    struct cache_msg msg;

    cache_msg_init(&msg, CACHE_TLS_START);
    ck_assert_int_eq(cache_msg_text(msg.key, sizeof(msg.key), "k", 0), 0);
    ck_assert_int_eq(cache_msg_text(msg.relay, sizeof(msg.relay),
				    "mx[192.0.2.1]:25", 0), 0);
    ck_assert_int_eq(cache_msg_text(msg.addr, sizeof(msg.addr),
				    "192.0.2.1:25", 0), 0);
    msg.tls.level = 3;
    msg.tls.wait_ms = 60000;
    msg.tls.idle_ms = 250000;
    ck_assert_int_eq(cache_msg_text(msg.tls.sni, sizeof(msg.tls.sni), "mx",
				    0), 0);
    ck_assert_int_eq(cache_msg_text(msg.tls.protocols,
				    sizeof(msg.tls.protocols), ">=TLSv1.2",
				    0), 0);
    return (msg);
}

/* tls_done - a valid TLS_DONE: an active, verified TLS 1.3 end */

static struct cache_msg tls_done(void)
{
    struct cache_msg msg;

    cache_msg_init(&msg, CACHE_TLS_DONE);
    ck_assert_int_eq(cache_msg_text(msg.key, sizeof(msg.key), "k", 0), 0);
    msg.tls.flags = CACHE_TLS_ACTIVE | CACHE_TLS_PEER_CERT
	| CACHE_TLS_VERIFIED;
    ck_assert_int_eq(cache_msg_text(msg.tls.version, sizeof(msg.tls.version),
				    "TLSv1.3", 0), 0);
    ck_assert_int_eq(cache_msg_text(msg.tls.cipher, sizeof(msg.tls.cipher),
				    "TLS_AES_256_GCM_SHA384", 0), 0);
    return (msg);
}

/* test_parse_tls - the TLS end's messages: what is accepted and refused */

START_TEST(test_parse_tls)
{
    struct cache_msg msg = tls_start();
    struct cache_msg bad;

    ck_assert_int_eq(parse(&msg, 1), 0);
    ck_assert_int_eq(parse(&msg, 0), -1);	/* no socket */
    bad = msg;
    bad.tls.level = 0;				/* "none" needs no TLS end */
    ck_assert_int_eq(parse(&bad, 1), -1);
    bad.tls.level = 5;
    ck_assert_int_eq(parse(&bad, 1), -1);
    bad = msg;
    bad.tls.wait_ms = 0;
    ck_assert_int_eq(parse(&bad, 1), -1);
    bad = msg;
    bad.tls.idle_ms = CACHE_WAIT_MAX + 1;
    ck_assert_int_eq(parse(&bad, 1), -1);
    bad = msg;
    bad.tls.sni[0] = 0;
    ck_assert_int_eq(parse(&bad, 1), -1);
    bad = msg;
    bad.tls.flags = CACHE_TLS_ACTIVE;		/* a result in a request */
    ck_assert_int_eq(parse(&bad, 1), -1);
    bad = msg;
    bad.use = 1;
    ck_assert_int_eq(parse(&bad, 1), -1);
    bad = msg;
    bad.tls.ca_file[0] = '\n';
    ck_assert_int_eq(parse(&bad, 1), -1);
    bad = msg;
    bad.tls.cert_file[sizeof(bad.tls.cert_file) - 1] = 'x';
    ck_assert_int_eq(parse(&bad, 1), -1);

    msg = tls_done();
    ck_assert_int_eq(parse(&msg, 1), 0);
    ck_assert_int_eq(parse(&msg, 0), -1);
    bad = msg;
    bad.tls.flags = 0;				/* not active */
    ck_assert_int_eq(parse(&bad, 1), -1);
    bad.tls.flags = CACHE_TLS_ACTIVE | 0x10;	/* an unknown flag */
    ck_assert_int_eq(parse(&bad, 1), -1);
    bad.tls.flags = CACHE_TLS_ACTIVE | CACHE_TLS_VERIFIED;	/* no cert */
    ck_assert_int_eq(parse(&bad, 1), -1);
    bad = msg;
    bad.tls.cipher[0] = 0;
    ck_assert_int_eq(parse(&bad, 1), -1);
    bad = msg;
    bad.tls.level = 3;				/* a request field */
    ck_assert_int_eq(parse(&bad, 1), -1);
    bad = msg;
    ck_assert_int_eq(cache_msg_text(bad.tls.sni, sizeof(bad.tls.sni), "mx",
				    0), 0);
    ck_assert_int_eq(parse(&bad, 1), -1);
    bad = msg;
    ck_assert_int_eq(cache_msg_text(bad.tls.text, sizeof(bad.tls.text),
				    "certificate has expired", 0), 0);
    ck_assert_int_eq(parse(&bad, 1), 0);	/* why it was not verified */

    /* A connection whose TLS end the cache is: PUT and HIT, no text. */
    bad = put_msg("a", 2);
    bad.tls = msg.tls;
    ck_assert_int_eq(parse(&bad, 1), 0);
    ck_assert_int_eq(cache_msg_text(bad.tls.text, sizeof(bad.tls.text), "x",
				    0), 0);
    ck_assert_int_eq(parse(&bad, 1), -1);
    bad = put_msg("a", 2);
    ck_assert_int_eq(cache_msg_text(bad.tls.version, sizeof(bad.tls.version),
				    "TLSv1.3", 0), 0);
    ck_assert_int_eq(parse(&bad, 1), -1);	/* plaintext with a version */

    cache_msg_init(&bad, CACHE_TLS_FAIL);
    ck_assert_int_eq(cache_msg_text(bad.key, sizeof(bad.key), "k", 0), 0);
    ck_assert_int_eq(parse(&bad, 0), -1);	/* no reason */
    ck_assert_int_eq(cache_msg_text(bad.tls.text, sizeof(bad.tls.text),
				    "TLS handshake failed", 0), 0);
    ck_assert_int_eq(parse(&bad, 0), 0);
    ck_assert_int_eq(parse(&bad, 1), -1);
    bad.tls.flags = CACHE_TLS_ACTIVE;
    ck_assert_int_eq(parse(&bad, 0), -1);
    bad.type = CACHE_TLS_DECLINE;
    bad.tls.flags = 0;
    ck_assert_int_eq(parse(&bad, 0), 0);
    memset(bad.tls.text, 0, sizeof(bad.tls.text));	/* a reason is optional */
    ck_assert_int_eq(parse(&bad, 0), 0);
    bad.tls.wait_ms = 1;
    ck_assert_int_eq(parse(&bad, 0), -1);

    cache_msg_init(&bad, CACHE_TAKE);		/* no TLS fields elsewhere */
    ck_assert_int_eq(cache_msg_text(bad.key, sizeof(bad.key), "k", 0), 0);
    bad.tls.flags = CACHE_TLS_ACTIVE;
    ck_assert_int_eq(parse(&bad, 0), -1);
}
END_TEST

/* load - rrconfig_load() with no file and one override */

static int load(struct rrconfig *conf, const char *override, char *err,
		        size_t errlen)
{
    char   *ov[2] = {(char *) "helo_name=relay.example", (char *) override};

    return (rrconfig_load(conf, "/nonexistent/rrelay.conf", 0, ov,
			  override ? 2 : 1, err, errlen));
}

/* test_settings - the cache's settings: defaults and start-up checks */

START_TEST(test_settings)
{
    static const char *bad[] = {
	"cache_socket=relative.sock",
	"connection_cache_time_limit=0",
	"connection_cache_time_limit=1h",
	"connection_reuse_count_limit=0",
	"connection_cache_per_host=0",
	"connection_cache_per_host=1001",
	"tls_connection_reuse=maybe",
	"tls_proxy_limit=0",
	"tls_proxy_limit=1001",
    };
    struct rrconfig conf;
    char    err[CF_ERR_MAX];
    char    longpath[200];
    size_t  i;

    ck_assert_int_eq(load(&conf, 0, err, sizeof(err)), 0);
    ck_assert_str_eq(conf.cache_socket, "/run/rrelay/cache.sock");
    ck_assert_int_eq(conf.cache_time_limit, 2);
    ck_assert_int_eq(conf.cache_reuse_limit, 100);
    ck_assert_int_eq(conf.cache_per_host, 20);
    ck_assert_int_eq(conf.tls_conn_reuse, 1);
    ck_assert_int_eq(conf.tls_proxy_limit, 100);
    rrconfig_free(&conf);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
	ck_assert_msg(load(&conf, bad[i], err, sizeof(err)) < 0, "%s", bad[i]);
	ck_assert_msg(strstr(err, "-o ") != 0, "%s: %s", bad[i], err);
	rrconfig_free(&conf);
    }
    snprintf(longpath, sizeof(longpath), "cache_socket=/%0150d", 0);
    ck_assert_int_lt(load(&conf, longpath, err, sizeof(err)), 0);
    ck_assert_ptr_nonnull(strstr(err, "too long"));
    rrconfig_free(&conf);
}
END_TEST

/* test_sessions - kept for their own lifetime, whatever time_limit says */

START_TEST(test_sessions)
{
    struct cache_table t;
    struct cache_msg msg;
    struct cache_msg got;

    new_table(&t);
    cache_msg_init(&msg, CACHE_SESS_PUT);
    ck_assert_int_eq(cache_msg_text(msg.key, sizeof(msg.key), "tls a", 0), 0);
    msg.lifetime = 10;
    msg.blob_len = 3;
    memcpy(msg.blob, "abc", 3);
    cache_store(&t, &msg, -1, 1000);
    ck_assert_int_eq(cache_next_expiry(&t), 11000);
    cache_expire(&t, 9000);			/* past time_limit (2s) */
    ck_assert_int_eq(t.count, 1);
    ck_assert_int_eq(take(&t, "tls a", 4500, &got), -1);	/* its fd */
    ck_assert_int_eq(got.lifetime, 7);		/* 6.5s left, rounded up */
    ck_assert_int_eq(got.blob_len, 3);
    cache_store(&t, &msg, -1, 20000);
    ck_assert_int_eq(take(&t, "tls a", 30000, &got), -1);
    ck_assert_int_eq(t.count, 0);
    ck_assert_int_eq(ndropped, 1);
    ck_assert_str_eq(drop_why[0], "session lifetime");
    cache_table_free(&t);
}
END_TEST

/* test_parse_sessions - the session messages' rules */

START_TEST(test_parse_sessions)
{
    static struct cache_msg msg;
    static struct cache_msg bad;

    cache_msg_init(&msg, CACHE_SESS_PUT);
    ck_assert_int_eq(cache_msg_text(msg.key, sizeof(msg.key), "tls a", 0), 0);
    msg.lifetime = 300;
    msg.blob_len = 2;
    msg.blob[0] = 0x30;
    msg.blob[1] = 0x00;
    ck_assert_int_eq(parse(&msg, 0), 0);
    ck_assert_int_eq(parse(&msg, 1), -1);	/* no descriptor here */
    bad = msg;
    bad.blob[2] = 1;				/* past blob_len */
    ck_assert_int_eq(parse(&bad, 0), -1);
    bad = msg;
    bad.lifetime = 0;
    ck_assert_int_eq(parse(&bad, 0), -1);
    bad = msg;
    bad.lifetime = CACHE_LIFE_MAX + 1;
    ck_assert_int_eq(parse(&bad, 0), -1);
    bad = msg;
    bad.blob_len = CACHE_BLOB_MAX + 1;
    ck_assert_int_eq(parse(&bad, 0), -1);
    bad = msg;
    bad.use = 1;
    ck_assert_int_eq(parse(&bad, 0), -1);
    bad = msg;
    bad.type = CACHE_TAKE;			/* session fields elsewhere */
    ck_assert_int_eq(parse(&bad, 0), -1);
    cache_msg_init(&bad, CACHE_SESS_TAKE);
    ck_assert_int_eq(cache_msg_text(bad.key, sizeof(bad.key), "tls a", 0), 0);
    ck_assert_int_eq(parse(&bad, 0), 0);
}
END_TEST

int     main(void)
{
    Suite  *s = suite_create("cache");
    TCase  *tc = tcase_create("table");

    tcase_add_test(tc, test_take_exact_key);
    tcase_add_test(tc, test_time_limit);
    tcase_add_test(tc, test_use_limit);
    tcase_add_test(tc, test_per_host);
    tcase_add_test(tc, test_parse);
    tcase_add_test(tc, test_settings);
    tcase_add_test(tc, test_sessions);
    tcase_add_test(tc, test_parse_sessions);
    tcase_add_test(tc, test_parse_tls);
    suite_add_tcase(s, tc);
    return (run_suite(s));
}
