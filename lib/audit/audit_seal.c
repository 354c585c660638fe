/* fk_audit_seal(): the public entry to sealing (lib/model/seal.c). */
#include "entry.h"
#include "fortknox/audit.h"
#include "seal.h"
#include "standby.h"

int fk_audit_seal(uint64_t *out_sealed, fk_ctx *ctx)
{
    if (out_sealed)
        *out_sealed = 0;
    FK__BEGIN(ctx, "fk_audit_seal");
    int rc = fk__require_primary(ctx, "fk_audit_seal", "sealing");
    return rc ? rc : fk__audit_seal(ctx, out_sealed);
}
