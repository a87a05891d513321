/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	filter_dns_servfail 1
 * SUMMARY
 *	a DNS server that answers every query with SERVFAIL
 * SYNOPSIS
 *	filter_dns_servfail ADDRESS PORT
 * DESCRIPTION
 *	The SPF filter's integration tests point dnsmasq at this server
 *	(--server=/temp.test/ADDRESS#PORT) for the names that must fail
 *	temporarily: dnsmasq then passes the SERVFAIL on, quickly. dnsmasq
 *	itself has no option that answers SERVFAIL.
 *
 *	It listens on UDP ADDRESS:PORT (IPv4) and answers each query with
 *	its own header and question section, QR and RA set, RCODE 2, and
 *	no records. It runs until it is killed.
 * EXIT STATUS
 *	1 when it cannot bind; it does not exit otherwise.
 */

#include <sys/socket.h>
#include <sys/types.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DNS_HEADER	12
#define DNS_MAX		512

/* servfail - turn a query into its SERVFAIL answer; return its length */

static size_t servfail(unsigned char *msg, size_t len)
{
    msg[2] = (unsigned char) ((msg[2] & 0x79) | 0x80);	/* QR, keep opcode, RD */
    msg[3] = 0x82;			/* RA, RCODE 2 */
    memset(msg + 6, 0, 6);		/* no answer, authority, additional */
    return (len);
}

int     main(int argc, char **argv)
{
    struct sockaddr_in sin;
    struct sockaddr_storage peer;
    socklen_t peerlen;
    unsigned char msg[DNS_MAX];
    ssize_t len;
    int     fd;

    if (argc != 3) {
	fprintf(stderr, "usage: %s ADDRESS PORT\n", argv[0]);
	return (1);
    }
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_port = htons((unsigned short) atoi(argv[2]));
    if (inet_pton(AF_INET, argv[1], &sin.sin_addr) != 1
	|| (fd = socket(AF_INET, SOCK_DGRAM, 0)) < 0
	|| bind(fd, (struct sockaddr *) &sin, sizeof(sin)) < 0) {
	perror("filter_dns_servfail");
	return (1);
    }
    for (;;) {
	peerlen = sizeof(peer);
	len = recvfrom(fd, msg, sizeof(msg), 0, (struct sockaddr *) &peer,
		       &peerlen);
	if (len < DNS_HEADER)
	    continue;
	(void) sendto(fd, msg, servfail(msg, (size_t) len), 0,
		      (struct sockaddr *) &peer, peerlen);
    }
}
