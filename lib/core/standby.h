/* A hot standby answers reads and refuses every write: the commands that
 * write (install, import, drill, restore) ask up front, so that their user
 * learns "this is a standby, use the primary" before any work, instead of
 * PostgreSQL's "cannot execute X in a read-only transaction" from the middle
 * of it. The read-only commands (export, verify, doctor, audit verify) do not
 * ask: they work on a standby. */
#ifndef FK_CORE_STANDBY_H
#define FK_CORE_STANDBY_H

#include "ctx_internal.h"

/* FK_OK on a primary; FK_EUNSUPPORTED when the server is in recovery
 * (pg_is_in_recovery()), the message naming fn, saying the server is a hot
 * standby, that `what` writes, and to run it against the primary (naming the
 * primary the standby streams from when the server shows it); also
 * FK_EUNSUPPORTED on a primary when the session is read-only
 * (transaction_read_only); FK_EDB when the question cannot be asked. */
int fk__require_primary(fk_ctx *ctx, const char *fn, const char *what);

#endif
