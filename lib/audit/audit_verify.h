/* fk_audit_verify() for the callers inside the library. */
#ifndef FK_AUDIT_VERIFY_H
#define FK_AUDIT_VERIFY_H

#include <stdint.h>

#include "ctx_internal.h"
#include "fortknox/fixtures.h"
#include "fortknox/report.h"

/* fk_audit_verify(), with (witness = 1) or without the witness in
 * anchor_dir: doctor checks and records the witness itself, as doctor;
 * progress may be NULL. */
int fk__audit_verify(fk_report **out, fk_ctx *ctx, const char *anchor_dir, int witness,
                     fk_progress_fn progress, void *progress_data);

/* The same over the id ranges splits cut the log into, one connection
 * each (audit_verify_chain.h; splits NULL: chosen by the size of the log):
 * the tests check that a boundary anywhere loses no finding. */
int fk__audit_verify_split(fk_report **out, fk_ctx *ctx, const char *anchor_dir, int witness,
                           fk_progress_fn progress, void *progress_data, const int64_t *splits,
                           int nsplits);

#endif
