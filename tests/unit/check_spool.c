/* SPDX-License-Identifier: MIT */
/* check_spool - the message copy: memory for small ones, disk for big ones */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "unit.h"
#include "msg/spool.h"

static char dir[] = "/tmp/check_spool.XXXXXX";

/* make_dir - a temp dir for the disk spool */

static void make_dir(void)
{
    strcpy(dir, "/tmp/check_spool.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

/* remove_dir - nothing may be left in it: the spool file has no name */

static void remove_dir(void)
{
    ck_assert_msg(rmdir(dir) == 0, "rmdir %s: %s (a spool file left behind?)",
		  dir, strerror(errno));
}

/* pattern - byte i of the test message: lines of 76, some 8-bit */

static char pattern(size_t i, int eightbit)
{
    if (i % 77 == 76)
	return ('\n');
    if (eightbit && i == 1001)
	return ((char) 0xe9);
    return ((char) ('a' + i % 26));
}

/* feed - a pipe carrying len bytes of the pattern, written by a child */

static int feed(size_t len, int eightbit, pid_t *pid)
{
    int     fds[2];
    char    buf[8192];
    size_t  done = 0;
    size_t  i;
    size_t  n;

    ck_assert_int_eq(pipe(fds), 0);
    if ((*pid = fork()) == 0) {
	close(fds[0]);
	while (done < len) {
	    n = len - done < sizeof(buf) ? len - done : sizeof(buf);
	    for (i = 0; i < n; i++)
		buf[i] = pattern(done + i, eightbit);
	    if (write(fds[1], buf, n) != (ssize_t) n)
		_exit(1);
	    done += n;
	}
	_exit(0);
    }
    ck_assert_int_gt(*pid, 0);
    close(fds[1]);
    return (fds[0]);
}

/* spool_of - spool len bytes through a pipe; check the child and counts */

static void spool_of(struct spool *sp, size_t len, int eightbit)
{
    char    why[256] = "";
    pid_t   pid;
    int     status;
    int     in = feed(len, eightbit, &pid);

    ck_assert_msg(spool_read(sp, in, dir, why, sizeof(why)) == 0, "%s", why);
    close(in);
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_int_eq(status, 0);
    ck_assert_int_eq(sp->size, (off_t) len);
    ck_assert_int_eq(sp->lines, (off_t) (len / 77));
    ck_assert_int_eq(sp->eightbit, eightbit);
    ck_assert_int_eq(spool_wire_estimate(sp), (off_t) (len + len / 77));
}

/* same_bytes - the spool file holds exactly the pattern */

static void same_bytes(const struct spool *sp, size_t len, int eightbit)
{
    char    buf[8192];
    char    want[8192];
    off_t   off = 0;
    ssize_t n;
    ssize_t i;

    while ((n = pread(sp->fd, buf, sizeof(buf), off)) > 0) {
	for (i = 0; i < n; i++)
	    want[i] = pattern((size_t) off + (size_t) i, eightbit);
	ck_assert_msg(memcmp(buf, want, (size_t) n) == 0,
		      "bytes %lld-%lld differ", (long long) off,
		      (long long) (off + n - 1));
	off += n;
    }
    ck_assert_int_eq(n, 0);
    ck_assert_int_eq(off, (off_t) len);
}

/* is_memfd - the spool fd is a memfd, not a file on disk */

static int is_memfd(int fd)
{
    char    path[64];
    char    target[256];
    ssize_t n;

    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    ck_assert_int_gt(n = readlink(path, target, sizeof(target) - 1), 0);
    target[n] = 0;
    return (strncmp(target, "/memfd:", 7) == 0);
}

START_TEST(small_message_in_memory)
{
    struct spool sp;

    make_dir();
    spool_of(&sp, 4096, 0);
    ck_assert_int_eq(sp.on_disk, 0);
    ck_assert(is_memfd(sp.fd));
    same_bytes(&sp, 4096, 0);
    spool_close(&sp);
    ck_assert_int_eq(sp.fd, -1);
    remove_dir();
}
END_TEST

START_TEST(limit_stays_in_memory)
{
    struct spool sp;

    make_dir();
    spool_of(&sp, SPOOL_MEMORY_MAX, 1);
    ck_assert_int_eq(sp.on_disk, 0);
    ck_assert(is_memfd(sp.fd));
    same_bytes(&sp, SPOOL_MEMORY_MAX, 1);
    spool_close(&sp);
    remove_dir();
}
END_TEST

START_TEST(big_message_moves_to_disk)
{
    struct spool sp;
    struct stat st;
    size_t  len = 3 * SPOOL_MEMORY_MAX + 12345;

    make_dir();
    spool_of(&sp, len, 1);
    ck_assert_int_eq(sp.on_disk, 1);
    ck_assert(!is_memfd(sp.fd));
    ck_assert_int_eq(fstat(sp.fd, &st), 0);
    ck_assert_int_eq(st.st_size, (off_t) len);
    ck_assert_int_eq(st.st_nlink, 0);		/* no name: nothing left behind */
    same_bytes(&sp, len, 1);
    spool_close(&sp);
    remove_dir();
}
END_TEST

START_TEST(big_message_unusable_dir)
{
    struct spool sp;
    char    why[256] = "";
    pid_t   pid;
    int     in;

    in = feed(2 * SPOOL_MEMORY_MAX, 0, &pid);
    ck_assert_int_eq(spool_read(&sp, in, "/nonexistent/rrelay", why,
				sizeof(why)), -1);
    ck_assert_msg(strstr(why, "/nonexistent/rrelay") != 0, "%s", why);
    ck_assert_int_eq(sp.fd, -1);
    close(in);
    (void) waitpid(pid, 0, 0);
}
END_TEST

START_TEST(empty_message)
{
    struct spool sp;

    make_dir();
    spool_of(&sp, 0, 0);
    ck_assert_int_eq(sp.on_disk, 0);
    same_bytes(&sp, 0, 0);
    spool_close(&sp);
    remove_dir();
}
END_TEST

/* spool_suite - the tests */

static Suite *spool_suite(void)
{
    Suite  *s = suite_create("spool");
    TCase  *tc = tcase_create("core");

    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, small_message_in_memory);
    tcase_add_test(tc, limit_stays_in_memory);
    tcase_add_test(tc, big_message_moves_to_disk);
    tcase_add_test(tc, big_message_unusable_dir);
    tcase_add_test(tc, empty_message);
    suite_add_tcase(s, tc);
    return (s);
}

int     main(void)
{
    return (run_suite(spool_suite()));
}
