#ifndef RR_TLSCONF_H
#define RR_TLSCONF_H

/* tlsconf.h - the TLS settings' start-up checks */

#include <stddef.h>

#include "rrconfig.h"

extern int tls_check_config(const struct rrconfig *conf, char *err,
			            size_t errlen);
extern int tls_min_version(const char *text);

#endif
