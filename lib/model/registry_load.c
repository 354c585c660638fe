/* The context's registry: parsed from the user's file or the built-in
 * Parthenon document, then resolved against the catalog, once per context. */
#include "registry.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "alloc.h"
#include "entry.h"

#define MAX_REGISTRY_BYTES (4 * 1024 * 1024)

static int read_file(fk_ctx *ctx, const char *path, char **out, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return fk__fail(ctx, errno == ENOENT ? FK_ENOTFOUND : FK_EIO,
                        "cannot open registry file %s: %s", path, strerror(errno));
    struct stat st;
    int rc = FK_OK;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode))
        rc = fk__fail(ctx, FK_EIO, "registry file %s is not a regular file", path);
    else if (st.st_size > MAX_REGISTRY_BYTES)
        rc = fk__fail(ctx, FK_EPARSE, "registry file %s is larger than %d bytes", path,
                      MAX_REGISTRY_BYTES);
    else if (!(*out = fk__malloc((size_t)st.st_size + 1)))
        rc = fk__oom(ctx);
    else if ((*len = fread(*out, 1, (size_t)st.st_size, f)) != (size_t)st.st_size) {
        rc = fk__fail(ctx, FK_EIO, "cannot read registry file %s", path);
        fk__xfree(*out);
        *out = NULL;
    }
    fclose(f);
    return rc;
}

int fk__ctx_registry(fk_ctx *ctx, fk__registry **out)
{
    if (ctx->registry) {
        *out = ctx->registry;
        return FK_OK;
    }
    fk__registry *reg = NULL;
    int rc;
    if (ctx->registry_file) {
        char *text = NULL;
        size_t len = 0;
        if ((rc = read_file(ctx, ctx->registry_file, &text, &len)))
            return rc;
        rc = fk__registry_parse(ctx, &reg, text, len, ctx->registry_file);
        fk__xfree(text);
    } else {
        rc = fk__registry_parse(ctx, &reg, fk__parthenon_registry_json,
                                strlen(fk__parthenon_registry_json), FK__BUILTIN_REGISTRY);
    }
    if (!rc && !(reg->source = fk__strdup(ctx->registry_file ? ctx->registry_file
                                                              : FK__BUILTIN_REGISTRY)))
        rc = fk__oom(ctx);
    if (!rc)
        rc = fk__registry_resolve(ctx, reg);
    if (rc) {
        fk__registry_free(reg);
        return rc;
    }
    ctx->registry = reg;
    *out = reg;
    return FK_OK;
}

int fk__ctx_etype(fk_ctx *ctx, const char *type_name, const fk__etype **out)
{
    fk__registry *reg;
    int rc = fk__ctx_registry(ctx, &reg);
    if (rc)
        return rc;
    if (!(*out = fk__registry_find(reg, type_name)))
        return fk__fail(ctx, FK_ENOTFOUND, "unknown entity type \"%s\"", type_name);
    return fk__etype_usable(ctx, *out);
}

const char *fk__registry_in_use(const fk__registry *reg, char *out, size_t cap)
{
    int builtin = !reg->source || strcmp(reg->source, FK__BUILTIN_REGISTRY) == 0;
    snprintf(out, cap,
             "registry in use: %s%s; another one: --registry FILE or FORTKNOX_REGISTRY "
             "(fk_ctx_options.registry_file), and `fortknox registry init` proposes one for "
             "this database",
             builtin ? "the " FK__BUILTIN_REGISTRY : "the file ", builtin ? "" : reg->source);
    return out;
}

int fk__registry_foreign(const fk__registry *reg)
{
    size_t missing = 0;
    for (size_t i = 0; i < reg->ntypes; i++)
        missing += reg->types[i].t.missing;
    return reg->ntypes > 0 && missing == reg->ntypes;
}

/* A table that "does not exist" is most often a registry meant for another
 * database (the built-in Parthenon one on your own application's): the
 * message names the registry in use and how to choose another. */
int fk__etype_usable(fk_ctx *ctx, const fk__etype *e)
{
    if (!e->damage)
        return FK_OK;
    const fk__registry *reg = ctx->registry;
    char in_use[400] = "";
    if (reg)
        fk__registry_in_use(reg, in_use, sizeof in_use);
    if (reg && fk__registry_foreign(reg))
        return fk__fail(ctx, FK_ENOTFOUND,
                        "%s, nor does any of the other %zu entity tables of the registry: is "
                        "this another application's database? (%s)",
                        e->damage, reg->ntypes - 1, in_use);
    return fk__fail(ctx, FK_ENOTFOUND,
                    "entity type %s cannot be used: %s (`fortknox doctor` lists every "
                    "finding%s%s)",
                    e->name, e->damage, *in_use ? "; " : "", in_use);
}

int fk__registry_usable(fk_ctx *ctx, const fk__registry *reg)
{
    for (size_t i = 0; i < reg->ntypes; i++) {
        int rc = fk__etype_usable(ctx, &reg->types[i]);
        if (rc)
            return rc;
    }
    return FK_OK;
}
