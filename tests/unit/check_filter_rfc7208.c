/* SPDX-License-Identifier: MIT */
/*
 * check_filter_rfc7208 - the public RFC 7208 test suite against the SPF core
 *
 * Runs every case of the openspf.org RFC 7208 test suite (release
 * 2014.04) through spf_check_identity(), the filter's SPF core, and fails
 * on any result the suite does not allow. The suite is read from Debian's
 * python3-spf package, RFC7208_SUITE (default
 * /usr/share/doc/python3-spf/rfc7208-tests.yml.gz), through
 * tests/spf/suite2txt.py; it is not copied into the project. A missing
 * suite is a failed test that says so, never a quiet pass.
 *
 * Each case's zone data is served from memory by a DNS layer of this file,
 * the way the suite's own driver (pyspf's testspf.py) serves it: names
 * compare without case and without a final dot; a CNAME is followed, at
 * most CNAME_MAX of them in one lookup (a loop, or a longer chain, fails
 * the lookup temporarily, as pyspf's "CNAME loop" does); a
 * name with no record of the asked type is "no data", an unknown name
 * NXDOMAIN; TIMEOUT fails the lookup temporarily unless a record of the
 * asked type stands before it; a TXT record's strings are joined, and a
 * NUL in them becomes DEL as the filter's resolver layer (spf_dns.c)
 * makes it.
 *
 * Where a case gives an explanation, it must match too, ignoring ASCII
 * case: the suite's pyspf writes the nibbles of %{i} for an IPv6 client
 * in upper case, RFC 7208 section 7.4's own example in lower case (as the
 * filter does), and DNS names are case-insensitive (RFC 4343). DEFAULT
 * means no explanation from the domain: the filter then has none.
 *
 * Expected differences from the suite: none.
 *
 * Each case is one Check test (so a case that hangs meets Check's time
 * limit); a failed one says its RFC section, the results allowed and the
 * one given. Everything read is bounded: at most CASES_MAX cases and
 * ZONE_MAX records a case, every field's length; a suite beyond them is
 * a failed test that says so. One more test runs a generated suite
 * through the same reader and DNS layer: more cases than the public
 * suite has (which overran a fixed array of 400), a CNAME loop and a
 * chain one CNAME too long (which hung), and one case over CASES_MAX. Prints "RFC 7208 suite: N/M cases passed" at the end. The
 * filter before its own check_host() (libspf2 1.2.10 alone) scored
 * 144/203 here.
 */

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "spf_check.h"

#define SUITE_DEFAULT	"/usr/share/doc/python3-spf/rfc7208-tests.yml.gz"
#define CASES_MAX	1000		/* cases in one suite, at most */
#define ZONE_MAX	128		/* records in one case's zone */
#define TEXT_MAX	2048
#define CNAME_MAX	10		/* CNAMEs followed in one lookup */
#define GEN_CASES	450		/* the generated suite's plain cases */

struct zrec {
    char    owner[TEXT_MAX];
    char    type[8];
    char    data[TEXT_MAX];		/* decoded; TXT strings joined */
};

struct scase {
    char    name[64];
    char    spec[64];
    char    host[64];
    char    helo[TEXT_MAX];
    char    from[TEXT_MAX];
    char    results[96];		/* allowed results, comma-separated */
    char    explanation[TEXT_MAX];
    int     has_explanation;
    struct zrec *zone;			/* ZONE_MAX of them, at most */
    int     nzone;
};

/* One suite as read: every case complete (its C, Z... and E lines). */
struct suite {
    struct scase **cases;		/* CASES_MAX slots */
    int     ncases;
    int     open;			/* cases[ncases] has its C, not its E */
    char    error[512];
};

static struct suite public;		/* the RFC 7208 suite */
static const struct scase *current;	/* the case the DNS layer serves */

/* unhex - decode hex text into out; -1 if malformed */

static int unhex(const char *hex, char *out, size_t outlen)
{
    size_t  len = strlen(hex);
    size_t  i;
    unsigned v;

    if (len % 2 || len / 2 >= outlen)
	return (-1);
    for (i = 0; i < len / 2; i++) {
	if (sscanf(hex + 2 * i, "%2x", &v) != 1)
	    return (-1);
	out[i] = (char) (v ? v : 0x7f);	/* a NUL reads as DEL, as in spf_dns */
    }
    out[len / 2] = 0;
    return (0);
}

/* unhex_txt - the hex strings of one TXT record, joined */

static int unhex_txt(char *data, char *out, size_t outlen)
{
    char    piece[TEXT_MAX];
    char   *word;
    size_t  used = 0;

    out[0] = 0;
    if (strcmp(data, "-") == 0)
	return (0);
    while ((word = strsep(&data, ",")) != 0) {
	if (unhex(word, piece, sizeof(piece)) < 0
	    || used + strlen(piece) >= outlen)
	    return (-1);
	strcpy(out + used, piece);
	used += strlen(piece);
    }
    return (0);
}

/* parse_case - a "C" line into c (zeroed) */

static int parse_case(char *line, struct scase *c)
{
    char   *f[8];
    int     n;

    for (n = 0; n < 8 && (f[n] = strsep(&line, "\t")) != 0; n++)
	 /* void */ ;
    if (n != 8)
	return (-1);
    snprintf(c->name, sizeof(c->name), "%s", f[1]);
    snprintf(c->spec, sizeof(c->spec), "%s", f[2]);
    snprintf(c->host, sizeof(c->host), "%s", f[3]);
    snprintf(c->results, sizeof(c->results), "%s", f[6]);
    c->has_explanation = strcmp(f[7], "-") != 0;
    if (unhex(f[4], c->helo, sizeof(c->helo)) < 0
	|| unhex(f[5], c->from, sizeof(c->from)) < 0
	|| (c->has_explanation
	    && unhex(f[7], c->explanation, sizeof(c->explanation)) < 0))
	return (-1);
    return (0);
}

/* parse_zone - a "Z" line into the case's zone */

static int parse_zone(char *line, struct scase *c)
{
    struct zrec *z;
    char   *f[4];
    char   *sp;
    int     n;

    for (n = 0; n < 4 && (f[n] = strsep(&line, "\t")) != 0; n++)
	 /* void */ ;
    if (n != 4 || c->nzone == ZONE_MAX)
	return (-1);
    if (c->zone == 0 && (c->zone = calloc(ZONE_MAX, sizeof(*z))) == 0)
	abort();
    z = c->zone + c->nzone;
    memset(z, 0, sizeof(*z));
    if (unhex(f[1], z->owner, sizeof(z->owner)) < 0)
	return (-1);
    snprintf(z->type, sizeof(z->type), "%s", f[2]);
    if (strcmp(z->type, "TXT") == 0) {
	if (unhex_txt(f[3], z->data, sizeof(z->data)) < 0)
	    return (-1);
    } else if (strcmp(z->type, "MX") == 0) {
	if ((sp = strchr(f[3], ' ')) == 0
	    || unhex(sp + 1, z->data, sizeof(z->data)) < 0)
	    return (-1);
    } else if (strcmp(z->type, "PTR") == 0 || strcmp(z->type, "CNAME") == 0) {
	if (unhex(f[3], z->data, sizeof(z->data)) < 0)
	    return (-1);
    } else {
	snprintf(z->data, sizeof(z->data), "%s", f[3]);
    }
    c->nzone++;
    return (0);
}

/* new_case - open the next case: 0, or -1 with why when the suite is full */

static int new_case(struct suite *st)
{
    if (st->open || st->ncases == CASES_MAX) {
	if (st->ncases == CASES_MAX && st->error[0] == 0)
	    snprintf(st->error, sizeof(st->error), "the suite has more than "
		     "%d cases (CASES_MAX)", CASES_MAX);
	return (-1);
    }
    if ((st->cases[st->ncases] = calloc(1, sizeof(struct scase))) == 0)
	abort();
    st->open = 1;
    return (0);
}

/* load_line - one line of suite2txt's output; -1 if it does not fit */

static int load_line(struct suite *st, char *line)
{
    line[strcspn(line, "\n")] = 0;
    if (line[0] == 'C' && line[1] == '\t')
	return (new_case(st) < 0 ? -1 :
		parse_case(line, st->cases[st->ncases]));
    if (!st->open)
	return (-1);				/* Z or E with no case open */
    if (line[0] == 'Z' && line[1] == '\t')
	return (parse_zone(line, st->cases[st->ncases]));
    if (strcmp(line, "E") == 0) {
	st->ncases++;
	st->open = 0;
	return (0);
    }
    return (-1);
}

/* suite_load - run suite2txt over the suite at path and read every case */

static void suite_load(struct suite *st, const char *path)
{
    static char line[4 * TEXT_MAX];
    char    cmd[1024];
    FILE   *fp;
    int     status;

    memset(st, 0, sizeof(*st));
    if ((st->cases = calloc(CASES_MAX + 1, sizeof(*st->cases))) == 0)
	abort();
    snprintf(cmd, sizeof(cmd), "/usr/bin/python3 tests/spf/suite2txt.py '%s'",
	     path);
    if ((fp = popen(cmd, "r")) == 0) {
	snprintf(st->error, sizeof(st->error), "cannot run %s", cmd);
	return;
    }
    while (fgets(line, sizeof(line), fp) != 0)
	if (load_line(st, line) < 0 && st->error[0] == 0)
	    snprintf(st->error, sizeof(st->error), "bad line from "
		     "suite2txt after case %d", st->ncases);
    status = pclose(fp);
    if (status != 0 && st->error[0] == 0)
	snprintf(st->error, sizeof(st->error), "%s failed (status %d)", cmd,
		 status);
    if (st->open && st->error[0] == 0)
	snprintf(st->error, sizeof(st->error), "case %d has no end",
		 st->ncases);
}

/* suite_free - every case, open or not */

static void suite_free(struct suite *st)
{
    int     i;

    for (i = 0; st->cases && i <= st->ncases && i < CASES_MAX; i++)
	if (st->cases[i]) {
	    free(st->cases[i]->zone);
	    free(st->cases[i]);
	}
    free(st->cases);
    memset(st, 0, sizeof(*st));
}

/* load_public - the public suite, which must be there and hold 200 cases */

static void load_public(void)
{
    const char *suite = getenv("RFC7208_SUITE");

    if (suite == 0)
	suite = SUITE_DEFAULT;
    if (access(suite, R_OK) != 0) {
	snprintf(public.error, sizeof(public.error), "the RFC 7208 test "
		 "suite %s is missing: install Debian's python3-spf "
		 "(scripts/install-deps does)", suite);
	return;
    }
    suite_load(&public, suite);
    if (public.ncases < 200 && public.error[0] == 0)
	snprintf(public.error, sizeof(public.error), "only %d cases read "
		 "from %s", public.ncases, suite);
}

/* same_name - DNS names equal, ignoring case and a final dot */

static int same_name(const char *a, const char *b)
{
    size_t  la = strlen(a);
    size_t  lb = strlen(b);

    if (la > 0 && a[la - 1] == '.')
	la--;
    if (lb > 0 && b[lb - 1] == '.')
	lb--;
    return (la == lb && strncasecmp(a, b, la) == 0);
}

/* type_name - the suite's name of a record type */

static const char *type_name(ns_type type)
{
    switch (type) {
    case ns_t_a:
	return ("A");
    case ns_t_aaaa:
	return ("AAAA");
    case ns_t_mx:
	return ("MX");
    case ns_t_ptr:
	return ("PTR");
    case ns_t_txt:
	return ("TXT");
    default:
	return ("?");
    }
}

/* add_rr - one record of the answer; -1 if the zone data is bad */

static int add_rr(SPF_dns_rr_t *rr, ns_type type, const char *data)
{
    int     n = rr->num_rr;
    size_t  size = (type == ns_t_a || type == ns_t_aaaa) ? 16 : strlen(data) + 1;

    if (SPF_dns_rr_buf_realloc(rr, n, size) != SPF_E_SUCCESS)
	return (-1);
    if (type == ns_t_a || type == ns_t_aaaa) {
	if (inet_pton(type == ns_t_a ? AF_INET : AF_INET6, data,
		      type == ns_t_a ? (void *) &rr->rr[n]->a :
		      (void *) &rr->rr[n]->aaaa) != 1)
	    return (-1);
    } else {
	strcpy(rr->rr[n]->txt, data);
    }
    rr->num_rr = n + 1;
    return (0);
}

/* zone_find - records of type for domain, after hops CNAMEs */

static SPF_dns_rr_t *zone_find(SPF_dns_server_t *layer, const char *domain,
			               ns_type type, int should_cache, int hops)
{
    const struct zrec *z;
    SPF_dns_rr_t *rr = SPF_dns_rr_new_init(layer, domain, type, 0,
					   NETDB_SUCCESS);
    int     exists = 0;
    int     i;

    for (i = 0; rr && i < current->nzone; i++) {
	z = current->zone + i;
	if (!same_name(z->owner, domain))
	    continue;
	exists = 1;
	if (strcmp(z->type, "TIMEOUT") == 0 && rr->num_rr == 0) {
	    rr->herrno = TRY_AGAIN;
	    return (rr);
	}
	if (strcmp(z->type, "CNAME") == 0) {
	    if (hops == CNAME_MAX) {		/* a loop, or a chain too long */
		rr->herrno = TRY_AGAIN;
		return (rr);
	    }
	    SPF_dns_rr_free(rr);
	    return (zone_find(layer, z->data, type, should_cache, hops + 1));
	}
	if (strcmp(z->type, type_name(type)) == 0
	    && add_rr(rr, type, z->data) < 0) {
	    fprintf(stderr, "%s: bad %s data \"%s\"\n", current->name,
		    z->type, z->data);
	    abort();
	}
    }
    if (rr && rr->num_rr == 0)
	rr->herrno = exists ? NO_DATA : HOST_NOT_FOUND;
    return (rr);
}

/* zone_lookup - the layer's lookup method, over the current case's zone */

static SPF_dns_rr_t *zone_lookup(SPF_dns_server_t *layer, const char *domain,
				         ns_type type, int should_cache)
{
    return (zone_find(layer, domain, type, should_cache, 0));
}

/* result_allowed - is got among the case's results? */

static int result_allowed(const struct scase *c, const char *got)
{
    char    list[sizeof(c->results)];
    char   *cp = list;
    char   *word;

    snprintf(list, sizeof(list), "%s", c->results);
    while ((word = strsep(&cp, ",")) != 0)
	if (strcmp(word, got) == 0)
	    return (1);
    return (0);
}

/* run_case - one case; null if it passes, else why not */

static const char *run_case(const struct scase *c, char *why, size_t len)
{
    SPF_dns_server_t layer;
    struct spf_engine engine;
    struct spf_verdict v;
    struct timespec deadline;
    char    err[256];
    const char *got;
    const char *want_exp;

    memset(&layer, 0, sizeof(layer));
    layer.lookup = zone_lookup;
    layer.name = "rfc7208-suite";
    current = c;
    if (spf_engine_init(&engine, "receiver.test", &layer, err,
			sizeof(err)) < 0) {
	snprintf(why, len, "spf_engine_init: %s", err);
	return (why);
    }
    budget_deadline(&deadline, 20);
    spf_check_identity(&engine, c->host, c->helo, c->from[0] ? c->from : 0,
		       &deadline, &v);
    spf_engine_free(&engine);
    got = spf_res_name(v.result);
    if (!result_allowed(c, got)) {
	snprintf(why, len, "result %s (%s), allowed: %s", got, v.reason,
		 c->results);
	return (why);
    }
    want_exp = strcmp(c->explanation, "DEFAULT") == 0 ? "" : c->explanation;
    if (c->has_explanation && strcasecmp(want_exp, v.explanation) != 0) {
	snprintf(why, len, "explanation \"%s\", expected \"%s\"",
		 v.explanation, want_exp);
	return (why);
    }
    return (0);
}

START_TEST(test_case)
{
    const struct scase *c = public.cases[_i];
    char    why[2 * TEXT_MAX];

    if (run_case(c, why, sizeof(why)))
	ck_abort_msg("%s (RFC 7208 %s): %s", c->name, c->spec, why);
}
END_TEST

START_TEST(test_suite_missing)
{
    ck_abort_msg("%s", public.error);
}
END_TEST

/* gen_chain - a zone of links CNAMEs from NAME0 to NAMElinks, which has the record */

static void gen_chain(FILE *fp, const char *name, int links)
{
    int     i;

    for (i = 0; i < links; i++)
	fprintf(fp, "  %s%d.test:\n    - CNAME: %s%d.test\n", name, i, name,
		i + 1);
    fprintf(fp, "  %s%d.test:\n    - TXT: v=spf1 ip4:192.0.2.1 -all\n",
	    name, links);
}

/* gen_case - one case of the generated suite */

static void gen_case(FILE *fp, const char *name, const char *domain,
		             const char *result)
{
    fprintf(fp, "  %s:\n    spec: 4.4\n    helo: mail.example.com\n"
	    "    host: 192.0.2.1\n    mailfrom: foo@%s\n    result: %s\n",
	    name, domain, result);
}

/* gen_suite - write a suite of plain cases and, with cnames, the CNAME ones */

static void gen_suite(const char *path, int plain, int cnames)
{
    FILE   *fp = fopen(path, "w");
    char    name[32];
    int     i;

    ck_assert_msg(fp != 0, "cannot write %s", path);
    fprintf(fp, "description: generated\ntests:\n");
    for (i = 0; i < plain; i++) {
	snprintf(name, sizeof(name), "plain%04d", i);
	gen_case(fp, name, "e.example.com", "pass");
    }
    fprintf(fp, "zonedata:\n  e.example.com:\n"
	    "    - TXT: v=spf1 ip4:192.0.2.1 -all\n");
    if (cnames) {
	fprintf(fp, "---\ndescription: CNAMEs\ntests:\n");
	gen_case(fp, "cname-loop", "loop.test", "temperror");
	gen_case(fp, "cname-chain-max", "max0.test", "pass");
	gen_case(fp, "cname-chain-too-long", "long0.test", "temperror");
	fprintf(fp, "zonedata:\n  loop.test:\n    - CNAME: loop2.test\n"
		"  loop2.test:\n    - CNAME: loop.test\n");
	gen_chain(fp, "max", CNAME_MAX);
	gen_chain(fp, "long", CNAME_MAX + 1);
    }
    ck_assert_int_eq(fclose(fp), 0);
}

/* temp_path - a new empty file for a generated suite */

static void temp_path(char *path, size_t len)
{
    const char *dir = getenv("TMPDIR");
    int     fd;

    snprintf(path, len, "%s/check_rfc7208.XXXXXX", dir && *dir ? dir : "/tmp");
    fd = mkstemp(path);
    ck_assert_msg(fd >= 0, "mkstemp %s", path);
    (void) close(fd);
}

START_TEST(test_generated_suite)
{
    struct suite gen;
    char    path[256];
    char    why[2 * TEXT_MAX];
    int     i;

    /* More cases than the public suite (the reader held 400), and CNAMEs. */
    temp_path(path, sizeof(path));
    gen_suite(path, GEN_CASES, 1);
    suite_load(&gen, path);
    ck_assert_msg(gen.error[0] == 0, "%s", gen.error);
    ck_assert_int_eq(gen.ncases, GEN_CASES + 3);
    for (i = 0; i < gen.ncases; i++)
	ck_assert_msg(run_case(gen.cases[i], why, sizeof(why)) == 0,
		      "%s: %s", gen.cases[i]->name, why);
    suite_free(&gen);
    /* One case over the bound: read up to it, and said, never written past. */
    gen_suite(path, CASES_MAX + 1, 0);
    suite_load(&gen, path);
    ck_assert_int_eq(gen.ncases, CASES_MAX);
    ck_assert_msg(strstr(gen.error, "more than 1000 cases") != 0,
		  "error: \"%s\"", gen.error);
    suite_free(&gen);
    (void) unlink(path);
}
END_TEST

/* public_failed - how many of the public suite's cases failed */

static int public_failed(SRunner *sr)
{
    TestResult **tr = srunner_failures(sr);
    int     n = srunner_ntests_failed(sr);
    int     count = 0;
    int     i;

    for (i = 0; i < n; i++)
	count += strcmp(tr_tcname(tr[i]), "rfc7208") == 0;
    free(tr);
    return (count);
}

int     main(void)
{
    Suite  *s = suite_create("filter_rfc7208");
    TCase  *tc = tcase_create("rfc7208");
    TCase  *gen = tcase_create("generated");
    SRunner *sr;
    int     failed;

    load_public();
    if (public.error[0])
	tcase_add_test(tc, test_suite_missing);
    else
	tcase_add_loop_test(tc, test_case, 0, public.ncases);
    suite_add_tcase(s, tc);
    tcase_set_timeout(gen, 60);			/* python reads 1,001 cases */
    tcase_add_test(gen, test_generated_suite);
    suite_add_tcase(s, gen);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    if (public.error[0] == 0)
	printf("RFC 7208 suite: %d/%d cases passed\n", public.ncases
	       - public_failed(sr), public.ncases);
    srunner_free(sr);
    suite_free(&public);
    return (failed ? 1 : 0);
}
