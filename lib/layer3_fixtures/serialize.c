/* The public single-entity calls: serialize one entity, name its file,
 * describe the registry. The bulk exporter shares docwriter.c. */
#include "fortknox/serialize.h"

#include <string.h>

#include "alloc.h"
#include "buf.h"
#include "docwriter.h"
#include "entity_read.h"
#include "pgutil.h"
#include "registry.h"
#include "slug.h"

int fk_entity_serialize(char **out, size_t *out_len, fk_ctx *ctx, const char *entity_type,
                        int64_t id, fk_format format)
{
    if (out)
        *out = NULL;
    if (out_len)
        *out_len = 0;
    if (!ctx)
        return fk__fail(NULL, FK_EINVAL, "fk_entity_serialize: ctx must not be NULL");
    fk__ok(ctx);
    if (!out || !entity_type || (format != FK_FORMAT_PARTHENON && format != FK_FORMAT_CANONICAL))
        return fk__fail(ctx, FK_EINVAL, "fk_entity_serialize: invalid argument");
    const fk__etype *e;
    int rc = fk__ctx_etype(ctx, entity_type, &e);
    if (rc)
        return rc;
    fk__buf doc = FK__BUF_INIT;
    fk__txn txn;
    if ((rc = fk__txn_begin(ctx, &txn, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")))
        return rc;
    rc = fk__entity_read(ctx, e, id, format, &doc, NULL, NULL);
    if (rc == FK_OK)
        rc = fk__txn_commit(ctx, &txn);
    else
        fk__txn_rollback(ctx, &txn);
    if (rc) {
        fk__buf_dispose(&doc);
        return rc;
    }
    if (out_len)
        *out_len = doc.len;
    if (!(*out = fk__buf_detach(&doc)))
        return fk__fail(ctx, FK_ENOMEM, "out of memory");
    return FK_OK;
}

int fk_fixture_path(char **out, fk_ctx *ctx, const char *entity_type, const char *name,
                    int64_t id)
{
    if (out)
        *out = NULL;
    if (!ctx)
        return fk__fail(NULL, FK_EINVAL, "fk_fixture_path: ctx must not be NULL");
    fk__ok(ctx);
    if (!out || !entity_type)
        return fk__fail(ctx, FK_EINVAL, "fk_fixture_path: invalid argument");
    const fk__etype *e;
    int rc = fk__ctx_etype(ctx, entity_type, &e);
    if (rc)
        return rc;
    fk__buf b = FK__BUF_INIT;
    fk__buf_printf(&b, "%s/", e->dir);
    fk__fixture_filename(&b, e->name, name, name ? strlen(name) : 0, id, 0);
    if (!(*out = fk__buf_detach(&b)))
        return fk__fail(ctx, FK_ENOMEM, "out of memory");
    return FK_OK;
}
