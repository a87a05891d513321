/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	ossl 3
 * SUMMARY
 *	load OpenSSL when the first connection needs it
 * SYNOPSIS
 *	#include "net/ossl.h"
 *
 *	int	ossl_load(why, whylen)
 *
 *	int	ossl_loaded()
 * DESCRIPTION
 *	ossl_load() dlopen()s libssl (with libcrypto, its dependency) and
 *	fills ossl_api with the functions rrelay calls; see ossl.h for why.
 *	It does the work once: later calls return at once with the first
 *	call's outcome. OpenSSL is told not to register its clean-up with
 *	atexit(): rrelay exits after one delivery, and freeing OpenSSL's
 *	tables on the way out was 6% of the instructions of a delivery
 *	with a resumed TLS session (callgrind), for nothing. ossl_loaded() tells whether OpenSSL is in the
 *	process (a test hook, and a guard for clean-up code).
 * DIAGNOSTICS
 *	ossl_load() returns -1 with the reason (dlerror's) in why when the
 *	library or one of its functions can't be found: a broken install,
 *	reported like any other local trouble (a deferral, never a bounce).
 *--*/

#include <dlfcn.h>
#include <stdio.h>

#define OSSL_TABLE			/* the real names, not the table */
#include "net/ossl.h"

struct ossl_api ossl_api;

static int ossl_state;			/* 0 not tried, 1 loaded, -1 failed */
static char ossl_why[256];

/* ossl_resolve - look up every function of the table */

static int ossl_resolve(void *handle)
{
    void   *sym;

#define OSSL_LOOKUP(name) \
    if ((sym = dlsym(handle, #name)) == 0) { \
	snprintf(ossl_why, sizeof(ossl_why), "%s: no function %s", \
		 OSSL_LIBSSL, #name); \
	return (-1); \
    } \
    *(void **) &ossl_api.name = sym;
    OSSL_FUNCTIONS(OSSL_LOOKUP)
#undef OSSL_LOOKUP
    return (0);
}

/* ossl_load - dlopen libssl once and fill the table */

int     ossl_load(char *why, size_t whylen)
{
    void   *handle;
    const char *err;

    if (whylen > 0)
	why[0] = 0;				/* written on every path */

    if (ossl_state == 0) {
	if ((handle = dlopen(OSSL_LIBSSL, RTLD_NOW | RTLD_LOCAL)) == 0) {
	    err = dlerror();
	    snprintf(ossl_why, sizeof(ossl_why), "cannot load %s: %s",
		     OSSL_LIBSSL, err ? err : "unknown error");
	    ossl_state = -1;
	} else if (ossl_resolve(handle) < 0) {
	    (void) dlclose(handle);
	    ossl_state = -1;
	} else if (ossl_api.OPENSSL_init_ssl(OPENSSL_INIT_NO_ATEXIT, 0) != 1) {
	    snprintf(ossl_why, sizeof(ossl_why), "cannot initialise %s",
		     OSSL_LIBSSL);
	    ossl_state = -1;
	} else {
	    ossl_state = 1;
	}
    }
    if (ossl_state < 0)
	snprintf(why, whylen, "%s", ossl_why);
    return (ossl_state > 0 ? 0 : -1);
}

/* ossl_loaded - OpenSSL is in the process */

int     ossl_loaded(void)
{
    return (ossl_state > 0);
}
