/* The file channel: token login, then TRANSFER_REQUEST / TRANSFER_READY / 'C' chunks / TRANSFER_COMPLETE (PROTOCOL.md section 9). */
#ifndef TROSYN_TRANSFER_H
#define TROSYN_TRANSFER_H

#include "hub.h"
#include "pool.h"

struct transfer;

/*
 * The per-worker state of NWORKERS transfer workers (a chunk cipher
 * context and buffers that grow to the largest chunk size negotiated, so
 * no chunk allocates).  NULL on ENOMEM.
 */
struct transfer *transfer_new(int nworkers);
void transfer_free(struct transfer *x);

/* Serve one file-channel connection (a pool_fn; ARG is the struct hub). */
void transfer_serve(void *arg, struct pool_item *item, int worker);

#endif /* TROSYN_TRANSFER_H */
