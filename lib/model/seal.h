/* Sealing the audit log: hashing the committed, still unsealed rows into
 * the chain, in id order (lib/sql/core--1.sql seal(); docs/audit.md,
 * "Sealing"). */
#ifndef FK_SEAL_H
#define FK_SEAL_H

#include <stddef.h>
#include <stdint.h>

#include "ctx_internal.h"

/* Seals every committed unsealed row, a batch per transaction (each batch
 * moves the head; outside any transaction of the caller's). *sealed: rows
 * sealed (may be NULL). FK_ENOTFOUND when nothing is installed, FK_ETAMPER
 * when a row past the head is sealed already (not written through
 * fortknox) or the head is gone, FK_EDB otherwise. */
int fk__audit_seal(fk_ctx *ctx, uint64_t *sealed);

/* The same where this session can seal -- a primary, a role that may
 * execute seal() -- and nothing otherwise (a standby, a read-only role:
 * the unsealed rows stay for the primary; verification says how many).
 * A seal that fails is not an error here (a damaged install, a tampered
 * tail, a lock timeout): the checks that follow name what they find. For
 * commands that read the chain. */
int fk__audit_seal_if_permitted(fk_ctx *ctx);

/* The same, saying in why (whylen bytes; may be NULL) why a seal it tried
 * failed ("" when it did not try or succeeded). */
int fk__audit_seal_try(fk_ctx *ctx, char *why, size_t whylen);

#endif
