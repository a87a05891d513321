/* SPDX-License-Identifier: MIT */
/*
 * fuzz_filter_dns - fuzz harness for sdns_parse() in filter/spf_dns.c
 *
 * Input: a byte that picks the query type (A, AAAA, MX, PTR, TXT),
 * then a DNS answer message as a server might send it.
 *
 * Properties: sdns_parse() always returns a record set of the type
 * asked for; a message that libresolv cannot parse reads as TRY_AGAIN
 * with no records; otherwise the records are exactly those of the
 * answer section, in order, of that type and class IN, that are well
 * formed, computed here record by record: A and AAAA of the right
 * length, MX and PTR names as ns_name_uncompress() expands them, TXT
 * strings joined, NUL bytes made DEL (0x7f), so that a record hides nothing
 * after a NUL. No records reads as NO_DATA.
 */

#include <arpa/nameser.h>
#include <netdb.h>
#include <resolv.h>

#include "fuzz.h"
#include "spf_dns.h"

static const ns_type types[] = {ns_t_a, ns_t_aaaa, ns_t_mx, ns_t_ptr,
ns_t_txt};

struct want {
    size_t  len;			/* bytes for A/AAAA, else strlen */
    char    data[NS_MAXDNAME + 65536];
};

/* want_txt - the joined strings of a TXT record; -1 if malformed */

static int want_txt(const unsigned char *rd, size_t rdlen, struct want *w)
{
    size_t  in = 0;
    size_t  len;
    size_t  i;

    w->len = 0;
    while (in < rdlen) {
	len = rd[in++];
	if (len > rdlen - in)
	    return (-1);
	for (i = 0; i < len; i++)
	    w->data[w->len++] = rd[in + i] ? (char) rd[in + i] : 0x7f;
	in += len;
    }
    w->data[w->len] = 0;
    return (0);
}

/* want_name - a name in the message; -1 if malformed */

static int want_name(const unsigned char *msg, size_t len,
		             const unsigned char *rd, struct want *w)
{
    if (ns_name_uncompress(msg, msg + len, rd, w->data, NS_MAXDNAME) < 0)
	return (-1);
    w->len = strlen(w->data);
    return (0);
}

/* want_record - what one answer record should give; -1 to skip it */

static int want_record(ns_type type, const unsigned char *msg, size_t len,
		               ns_rr *r, struct want *w)
{
    const unsigned char *rd = ns_rr_rdata(*r);
    size_t  rdlen = ns_rr_rdlen(*r);

    if (ns_rr_type(*r) != type || ns_rr_class(*r) != ns_c_in)
	return (-1);
    switch (type) {
    case ns_t_a:
    case ns_t_aaaa:
	if (rdlen != (type == ns_t_a ? 4u : 16u))
	    return (-1);
	memcpy(w->data, rd, rdlen);
	w->len = rdlen;
	return (0);
    case ns_t_mx:
	return (rdlen < 3 ? -1 : want_name(msg, len, rd + 2, w));
    case ns_t_ptr:
	return (want_name(msg, len, rd, w));
    default:
	return (want_txt(rd, rdlen, w));
    }
}

/* same_record - the parsed record is what was wanted */

static void same_record(ns_type type, const SPF_dns_rr_data_t *got,
			        const struct want *w, int n)
{
    const char *text;

    switch (type) {
    case ns_t_a:
	FUZZ_ASSERT(memcmp(&got->a, w->data, 4) == 0, "A record %d", n);
	return;
    case ns_t_aaaa:
	FUZZ_ASSERT(memcmp(&got->aaaa, w->data, 16) == 0, "AAAA record %d", n);
	return;
    case ns_t_mx:
	text = got->mx;
	break;
    case ns_t_ptr:
	text = got->ptr;
	break;
    default:
	text = got->txt;
	break;
    }
    FUZZ_ASSERT(strlen(text) == w->len && memcmp(text, w->data, w->len) == 0,
		"record %d is \"%s\", not \"%s\"", n, text, w->data);
}

/* check - the record set against the message, record by record */

static void check(SPF_dns_rr_t *rr, ns_type type, const unsigned char *msg,
		          size_t len)
{
    static struct want w;
    ns_msg  handle;
    ns_rr   r;
    int     count;
    int     i;
    int     n = 0;

    FUZZ_ASSERT(rr->rr_type == type, "type %d, not %d", rr->rr_type, type);
    if (ns_initparse(msg, (int) len, &handle) < 0) {
	FUZZ_ASSERT(rr->herrno == TRY_AGAIN && rr->num_rr == 0,
		    "malformed message: herrno %d, %d records", rr->herrno,
		    rr->num_rr);
	return;
    }
    count = ns_msg_count(handle, ns_s_an);
    for (i = 0; i < count && ns_parserr(&handle, ns_s_an, i, &r) == 0; i++) {
	if (want_record(type, msg, len, &r, &w) < 0)
	    continue;
	FUZZ_ASSERT(n < rr->num_rr, "record %d (answer %d) missing", n, i);
	same_record(type, rr->rr[n], &w, n);
	n++;
    }
    FUZZ_ASSERT(n == rr->num_rr, "%d records, not %d", rr->num_rr, n);
    FUZZ_ASSERT(rr->herrno == (n > 0 ? NETDB_SUCCESS : NO_DATA), "herrno %d "
		"with %d records", rr->herrno, n);
}

/* LLVMFuzzerTestOneInput - one DNS answer */

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_in in = {data, size};
    ns_type type = types[fuzz_take_byte(&in) % (sizeof(types)
						 / sizeof(types[0]))];
    SPF_dns_rr_t *rr;

    if (in.size > SDNS_ANSWER_MAX)
	return (0);
    rr = sdns_parse(0, "fuzz.example", type, in.data, (int) in.size);
    FUZZ_ASSERT(rr != 0, "no record set");
    check(rr, type, in.data, in.size);
    SPF_dns_rr_free(rr);
    return (0);
}
