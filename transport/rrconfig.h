#ifndef RR_RRCONFIG_H
#define RR_RRCONFIG_H

/* rrconfig.h - rrelay's settings */

#include <stddef.h>

#define RRELAY_CONFIG	"/etc/rrelay/rrelay.conf"

struct rrconfig {
    char   *state_directory;
    long    connect_timeout;		/* seconds */
    long    command_timeout;
    long    data_timeout;
    long    deadline;
    long    backoff;
    long    max_backoff;
    char   *helo_name;
    char   *log;
    char   *sendmail_path;
};

extern int rrconfig_load(struct rrconfig *conf, const char *path,
			         int required, char *const *overrides,
			         int n_overrides, char *err, size_t errlen);
extern void rrconfig_free(struct rrconfig *conf);

#endif
