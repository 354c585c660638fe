#include "placement.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "fsutil.h"
#include "fixture_limit.h"
#include "json_text.h"
#include "pgutil.h"
#include "slug.h"


struct owner_scan {
    const char *pk;
    size_t pk_len;
    int64_t id;
    int found;
};

static int owner_cb(void *ud, const fk__jmember *m)
{
    struct owner_scan *s = ud;
    if (m->key_len == s->pk_len && memcmp(m->key, s->pk, s->pk_len) == 0 &&
        m->type == FK__JT_NUMBER) {
        s->found = fk__json_int64(m->val, m->val_len, &s->id) == 0;
        return 1; /* stop: nothing else is needed */
    }
    return 0;
}

int fk__file_owner(int dirfd, const char *name, const char *pk_name, int64_t *id)
{
    fk__buf b = FK__BUF_INIT;
    int rc = fk__fs_read_at(NULL, dirfd, name, FK__MAX_FIXTURE_BYTES, &b);
    struct owner_scan s = {pk_name, strlen(pk_name), 0, 0};
    if (rc == FK_OK)
        fk__json_scan_object(b.data ? b.data : "", b.len, owner_cb, &s, NULL);
    fk__buf_dispose(&b);
    if (rc == FK_ENOTFOUND)
        return -1; /* absent */
    *id = s.id;
    return s.found;
}

/* 1 when the name is free for id: nothing there, or id's own file. */
static int free_for(int dirfd, const char *name, const char *pk_name, int64_t id)
{
    char tmp[NAME_MAX + 16];
    int64_t owner;
    snprintf(tmp, sizeof tmp, ".%s" FK__TMP_SUFFIX, name);
    int r = fk__file_owner(dirfd, tmp, pk_name, &owner);
    if (r < 0)
        r = fk__file_owner(dirfd, name, pk_name, &owner);
    if (r < 0)
        return 1;
    return r == 1 && owner == id;
}

int fk__place(fk_ctx *ctx, const fk__etype *e, int dirfd, int64_t id, const char *name,
              size_t name_len, const char *old_name, fk__buf *out)
{
    fk__buf plain = FK__BUF_INIT, with_id = FK__BUF_INIT;
    const char *pk = e->t.cols[e->t.pk].name;
    int rc = FK_OK;
    if (fk__fixture_filename(&plain, e->name, name, name_len, id, 0) != 0 ||
        fk__fixture_filename(&with_id, e->name, name, name_len, id, 1) != 0) {
        rc = fk__fail(ctx, FK_ENOMEM, "out of memory");
        goto out;
    }
    const char *p = fk__buf_cstr(&plain), *w = fk__buf_cstr(&with_id);
    const char *pick;
    if (old_name && (strcmp(old_name, p) == 0 || strcmp(old_name, w) == 0))
        pick = old_name; /* still fits the name: stay put */
    else if (free_for(dirfd, p, pk, id))
        pick = p;
    else
        pick = w; /* the collision form is this id's own, whatever is there */
    fk__buf_clear(out);
    if (fk__buf_puts(out, pick) != 0)
        rc = fk__fail(ctx, FK_ENOMEM, "out of memory");
out:
    fk__buf_dispose(&plain);
    fk__buf_dispose(&with_id);
    return rc;
}
