/* SPDX-License-Identifier: MIT */
/* check_status - "rrelay status" (and --json) prints a hand-edited state file safely */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"
#include "state/rrstate.h"
#include "state/status.h"

static char dir[] = "/tmp/check_status.XXXXXX";

/* fnv - FNV-1a, as the state file's checksum */

static uint64_t fnv(uint64_t hash, const void *data, size_t len)
{
    const unsigned char *cp = data;
    size_t  i;

    for (i = 0; i < len; i++) {
	hash ^= cp[i];
	hash *= 0x100000001b3ULL;
    }
    return (hash);
}

/* write_state - a sound state file, with text fields as an editor left them */

static int64_t state_down_until;	/* write_state(): the host's down_until */

static void write_state(const char *name, const char *dest, const char *addr,
			        const char *error)
{
    struct rr_head head;
    struct rr_host host;
    char    path[200];
    FILE   *fp;

    memset(&head, 0, sizeof(head));
    memset(&host, 0, sizeof(host));
    memcpy(head.magic, RRSTATE_MAGIC, 8);
    head.version = RRSTATE_VERSION;
    head.count = 1;
    head.hash = 0x1234;
    snprintf(host.dest, sizeof(host.dest), "%s", dest);
    snprintf(host.addr, sizeof(host.addr), "%s", addr);
    snprintf(host.last_error, sizeof(host.last_error), "%s", error);
    host.failures = 3;
    host.deferred = 5;
    host.bounced = 2;
    host.down_count = 1;
    host.state_since = 900;
    host.down_until = state_down_until;
    head.checksum = fnv(fnv(0xcbf29ce484222325ULL, &head, sizeof(head)),
			&host, sizeof(host));
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    ck_assert_ptr_nonnull(fp = fopen(path, "w"));
    ck_assert_int_eq(fwrite(&head, sizeof(head), 1, fp), 1);
    ck_assert_int_eq(fwrite(&host, sizeof(host), 1, fp), 1);
    ck_assert_int_eq(fclose(fp), 0);
}

/* truncate_state - cut a state file short: damaged */

static void truncate_state(const char *name)
{
    char    path[200];

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    ck_assert_int_eq(truncate(path, 10), 0);
}

/* status_text - what "rrelay status" prints for dir */

static char *status_text(void)
{
    char   *text = 0;
    size_t  len = 0;
    FILE   *fp = open_memstream(&text, &len);

    ck_assert_ptr_nonnull(fp);
    ck_assert_int_eq(status_print(dir, fp), 0);
    ck_assert_int_eq(fclose(fp), 0);
    return (text);
}

START_TEST(test_no_control_bytes)
{
    char   *text;
    const unsigned char *cp;

    write_state("rrelay-0000000000001234.state", "[a.example]\033[2J:25",
		"192.0.2.1:25\a", "421 bye\033]0;owned\a\r\nfake line\\");
    write_state("rrelay-\033[31m.state", "x", "y", "z");	/* a bad name */
    text = status_text();
    for (cp = (const unsigned char *) text; *cp; cp++)
	ck_assert_msg(*cp == '\n' || (*cp >= ' ' && *cp <= '~'),
		      "byte 0x%02x in: %s", *cp, text);
    ck_assert_ptr_nonnull(strstr(text, "[a.example]\\x1b[2J:25"));
    ck_assert_ptr_nonnull(strstr(text, "192.0.2.1:25\\x07"));
    ck_assert_ptr_nonnull(strstr(text, "421 bye\\x1b]0;owned\\x07\\x0d\\x0afake "
				 "line\\\\"));
    ck_assert_ptr_nonnull(strstr(text, "rrelay-\\x1b[31m.state)"));
    free(text);
}
END_TEST

START_TEST(test_error_history)
{
    char   *text;

    /* Up (down_until 0), up since 900: its last error is history. */
    write_state("rrelay-0000000000001234.state", "[a.example]:25",
		"192.0.2.1:25", "connect: Connection refused");
    text = status_text();
    ck_assert_ptr_nonnull(strstr(text, " up "));
    ck_assert_msg(strstr(text, "(history, up since ") != 0, "%s", text);
    ck_assert_ptr_nonnull(strstr(text, ") connect: Connection refused\n"));
    free(text);
    /* Down until 2100: the same error is the current one. */
    state_down_until = 4102444800LL;
    write_state("rrelay-0000000000001234.state", "[a.example]:25",
		"192.0.2.1:25", "connect: Connection refused");
    state_down_until = 0;
    text = status_text();
    ck_assert_ptr_nonnull(strstr(text, " down "));
    ck_assert_ptr_null(strstr(text, "history"));
    ck_assert_ptr_nonnull(strstr(text, " connect: Connection refused\n"));
    free(text);
}
END_TEST

START_TEST(test_json)
{
    char   *text = 0;
    size_t  len = 0;
    FILE   *fp;
    const unsigned char *cp;

    write_state("rrelay-0000000000001234.state", "[a.example]:25",
		"192.0.2.1:25", "421 \"bye\"\\ \033[2J\303\251");
    write_state("rrelay-00000000000000ff.state", "x", "y", "z");
    truncate_state("rrelay-00000000000000ff.state");
    ck_assert_ptr_nonnull(fp = open_memstream(&text, &len));
    ck_assert_int_eq(status_print_json(dir, fp, 1000), 0);
    ck_assert_int_eq(fclose(fp), 0);
    for (cp = (const unsigned char *) text; *cp; cp++)
	ck_assert_msg(*cp == '\n' || (*cp >= ' ' && *cp <= '~'),
		      "byte 0x%02x in: %s", *cp, text);
    ck_assert_ptr_nonnull(strstr(text, "{\"schema\":\"rrelay-status\","
				 "\"version\":2,\"generated\":1000,"));
    ck_assert_ptr_nonnull(strstr(text, "\"hash\":\"0000000000001234\","
				 "\"status\":\"ok\",\"error\":null"));
    ck_assert_ptr_nonnull(strstr(text, "{\"destination\":\"[a.example]:25\","
				 "\"address\":\"192.0.2.1:25\",\"state\":"
				 "\"up\",\"down_until\":null,"
				 "\"last_change\":null,\"failures\":3,"
				 "\"sent\":0,\"tls\":\"none\",\"last_error\":"
				 "\"421 \\\"bye\\\"\\\\ \\u001b[2J"
				 "\\u00c3\\u00a9\",\"deferred\":5,"
				 "\"bounced\":2,\"down_count\":1,"
				 "\"state_since\":900,\"weight\":null,"
				 "\"tier\":null,\"rate\":null,"
				 "\"sessions\":null,\"quota\":null,"
				 "\"saturated_until\":null,"
				 "\"saturated_reply\":null,\"busy_skips\":0,"
				 "\"rate_waits\":0,\"saturations\":"
				 "{\"throttle\":0,\"quota\":0}}"));
    ck_assert_ptr_nonnull(strstr(text, "\"hash\":null,\"status\":"
				 "\"damaged\",\"error\":\""));
    ck_assert_ptr_nonnull(strstr(text, "\"updated\":null,\"cursor\":null,\"hosts\":[]}"));
    ck_assert_str_eq(text + strlen(text) - 4, "}]}\n");
    free(text);
}
END_TEST

START_TEST(test_escape)
{
    char    out[16];

    status_escape("plain text", out, sizeof(out));
    ck_assert_str_eq(out, "plain text");
    status_escape("a\\b\tc\377", out, sizeof(out));
    ck_assert_str_eq(out, "a\\\\b\\x09c\\xff");
    status_escape("\033\033\033\033", out, 10);		/* whole escapes only */
    ck_assert_str_eq(out, "\\x1b\\x1b");
}
END_TEST

/* setup - a new directory for the state files */

static void setup(void)
{
    strcpy(dir, "/tmp/check_status.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

/* teardown - remove the directory */

static void teardown(void)
{
    char    cmd[200];

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    (void) system(cmd);
}

int     main(void)
{
    Suite  *s = suite_create("status");
    TCase  *tc = tcase_create("status");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_no_control_bytes);
    tcase_add_test(tc, test_escape);
    tcase_add_test(tc, test_json);
    tcase_add_test(tc, test_error_history);
    suite_add_tcase(s, tc);
    return (run_suite(s));
}
