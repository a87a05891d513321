#ifndef RR_STATUS_H
#define RR_STATUS_H

/* status.h - "rrelay status": print the shared state of every host list */

#include <stdio.h>

extern int status_print(const char *dir, FILE *out);
extern void status_escape(const char *in, char *out, size_t outlen);

#endif
