/* SPDX-License-Identifier: MIT */
/* check_prom - the Prometheus textfile (transport/prom.c) */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unit.h"
#include "prom.h"

START_TEST(test_list)
{
    struct rr_head head;
    struct rr_host hosts[2];
    char   *text = 0;
    size_t  len = 0;
    FILE   *fp;

    memset(&head, 0, sizeof(head));
    memset(hosts, 0, sizeof(hosts));
    head.count = 2;
    head.hash = 0xabc;
    snprintf(hosts[0].dest, sizeof(hosts[0].dest), "[mx1.example]:25");
    hosts[0].sent = 42;
    hosts[0].deferred = 3;
    hosts[0].bounced = 1;
    hosts[0].down_count = 2;
    hosts[0].state_since = 900;
    snprintf(hosts[1].dest, sizeof(hosts[1].dest), "[a\"b\\c\nd]:25");
    hosts[1].down_until = 2000;			/* down at 1000 */
    hosts[1].failures = 4;
    ck_assert_ptr_nonnull(fp = open_memstream(&text, &len));
    prom_list(fp, &head, hosts, 1000);
    ck_assert_int_eq(fclose(fp), 0);
    ck_assert_str_eq(text,
	"rrelay_host_messages_total{list=\"0000000000000abc\",host=\"[mx1.example]:25\",result=\"sent\"} 42\n"
	"rrelay_host_messages_total{list=\"0000000000000abc\",host=\"[mx1.example]:25\",result=\"deferred\"} 3\n"
	"rrelay_host_messages_total{list=\"0000000000000abc\",host=\"[mx1.example]:25\",result=\"bounced\"} 1\n"
	"rrelay_host_down_transitions_total{list=\"0000000000000abc\",host=\"[mx1.example]:25\"} 2\n"
	"rrelay_host_up{list=\"0000000000000abc\",host=\"[mx1.example]:25\"} 1\n"
	"rrelay_host_state_since_seconds{list=\"0000000000000abc\",host=\"[mx1.example]:25\"} 900\n"
	"rrelay_host_consecutive_failures{list=\"0000000000000abc\",host=\"[mx1.example]:25\"} 0\n"
	"rrelay_host_messages_total{list=\"0000000000000abc\",host=\"[a\\\"b\\\\c\\nd]:25\",result=\"sent\"} 0\n"
	"rrelay_host_messages_total{list=\"0000000000000abc\",host=\"[a\\\"b\\\\c\\nd]:25\",result=\"deferred\"} 0\n"
	"rrelay_host_messages_total{list=\"0000000000000abc\",host=\"[a\\\"b\\\\c\\nd]:25\",result=\"bounced\"} 0\n"
	"rrelay_host_down_transitions_total{list=\"0000000000000abc\",host=\"[a\\\"b\\\\c\\nd]:25\"} 0\n"
	"rrelay_host_up{list=\"0000000000000abc\",host=\"[a\\\"b\\\\c\\nd]:25\"} 0\n"
	"rrelay_host_consecutive_failures{list=\"0000000000000abc\",host=\"[a\\\"b\\\\c\\nd]:25\"} 4\n");
    free(text);
}
END_TEST

START_TEST(test_write)
{
    char    dir[] = "/tmp/check_prom.XXXXXX";
    char    path[200];
    char    line[512];
    char    cmd[256];
    FILE   *fp;
    char    why[300];
    int     helps = 0;

    struct stat st;
    mode_t  old_mask;

    ck_assert_ptr_nonnull(mkdtemp(dir));
    /* pipe(8)'s umask (077) must not make it unreadable for node_exporter */
    old_mask = umask(077);
    ck_assert_int_eq(prom_write(dir, why, sizeof(why)), 0);
    umask(old_mask);
    snprintf(path, sizeof(path), "%s/rrelay.prom", dir);
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq(st.st_mode & 07777, 0644);
    ck_assert_ptr_nonnull(fp = fopen(path, "r"));
    while (fgets(line, sizeof(line), fp))
	helps += strncmp(line, "# HELP ", 7) == 0;
    fclose(fp);
    ck_assert_int_eq(helps, 5);
    /* nothing else left behind: the temporary file was renamed */
    snprintf(cmd, sizeof(cmd), "test $(ls -A '%s' | wc -l) = 1", dir);
    ck_assert_int_eq(system(cmd), 0);
    /* a directory that can't be written: an error with a reason */
    ck_assert_int_eq(prom_write("/nonexistent/rrelay", why, sizeof(why)), -1);
    ck_assert_ptr_nonnull(strstr(why, "/nonexistent/rrelay"));
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

int     main(void)
{
    Suite  *s = suite_create("prom");
    TCase  *tc = tcase_create("prom");

    tcase_add_test(tc, test_list);
    tcase_add_test(tc, test_write);
    suite_add_tcase(s, tc);
    return (run_suite(s));
}
