/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	replay 1
 * SUMMARY
 *	feed a fuzz harness its corpus without libFuzzer
 * SYNOPSIS
 *	fuzz_TARGET DIR|FILE...
 * DESCRIPTION
 *	Linked with one tests/fuzz/fuzz_TARGET.c and the normal compiler,
 *	this runs LLVMFuzzerTestOneInput() once on each file named, and
 *	on each file in each directory named (in name order, dot files
 *	skipped), so that "make check" replays the committed corpus the
 *	same way every time. Each input is in a buffer of its exact size,
 *	so a sanitizer build sees a read past its end.
 *
 *	A property that fails aborts the run; tests/run counts it failed.
 * EXIT STATUS
 *	0 when every input ran, 1 when a file could not be read or no
 *	input was found.
 *--*/

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

/* read_file - the whole file in a buffer of its size; -1 on error */

static int read_file(const char *path, uint8_t **data, size_t *len)
{
    FILE   *fp;
    struct stat st;
    int     status = -1;

    *data = 0;
    if ((fp = fopen(path, "rb")) == 0)
	return (-1);
    if (fstat(fileno(fp), &st) < 0 || st.st_size < 0)
	goto out;
    *len = (size_t) st.st_size;
    if ((*data = malloc(*len ? *len : 1)) == 0
	|| fread(*data, 1, *len, fp) != *len)
	goto out;
    status = 0;
out:
    if (status < 0) {
	free(*data);
	*data = 0;
    }
    fclose(fp);
    return (status);
}

/* run_file - one input */

static int run_file(const char *path)
{
    uint8_t *data;
    size_t  len;

    if (read_file(path, &data, &len) < 0) {
	fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
	return (-1);
    }
    (void) LLVMFuzzerTestOneInput(data, len);
    free(data);
    return (0);
}

/* visible - scandir filter: no dot files */

static int visible(const struct dirent *de)
{
    return (de->d_name[0] != '.');
}

/* run_dir - every file of a corpus directory; the count, or -1 */

static int run_dir(const char *dir)
{
    struct dirent **names;
    char    path[4096];
    int     n;
    int     i;
    int     status = 0;

    if ((n = scandir(dir, &names, visible, alphasort)) < 0) {
	fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
	return (-1);
    }
    for (i = 0; i < n; i++) {
	snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
	if (status == 0 && run_file(path) < 0)
	    status = -1;
	free(names[i]);
    }
    free(names);
    return (status < 0 ? -1 : n);
}

/* main - replay every input named */

int     main(int argc, char **argv)
{
    struct stat st;
    int     total = 0;
    int     n;
    int     i;

    for (i = 1; i < argc; i++) {
	if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode))
	    n = run_dir(argv[i]);
	else
	    n = run_file(argv[i]) < 0 ? -1 : 1;
	if (n < 0)
	    return (1);
	total += n;
    }
    if (total == 0) {
	fprintf(stderr, "replay %s: no input\n", argv[0]);
	return (1);
    }
    printf("replay %s: %d inputs, every property held\n", argv[0], total);
    return (0);
}
