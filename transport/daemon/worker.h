/* SPDX-License-Identifier: MIT */
#ifndef RR_WORKER_H
#define RR_WORKER_H

/* worker.h - a delivery worker: runs whole deliveries for thin rrelays */

extern void worker_main(int listen_fd)
	__attribute__((noreturn));

#endif
