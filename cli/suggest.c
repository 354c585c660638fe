/* Teaching usage errors: "did you mean" (for commands, options and entity
 * types) and the check of an entity type against the registry in use. */
#include "cli.h"

#include <cJSON.h>
#include <stdlib.h>
#include <string.h>

/* Optimal string alignment distance (a swap of two neighbours is one edit:
 * "exprot"), capped: words longer than 63 bytes are never close. */
static size_t distance(const char *a, const char *b)
{
    size_t n = strlen(a), m = strlen(b);
    if (n > 63 || m > 63)
        return (size_t)-1;
    size_t d[64][64];
    for (size_t i = 0; i <= n; i++)
        d[i][0] = i;
    for (size_t j = 0; j <= m; j++)
        d[0][j] = j;
    for (size_t i = 1; i <= n; i++)
        for (size_t j = 1; j <= m; j++) {
            size_t cost = a[i - 1] != b[j - 1];
            size_t v = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < v)
                v = d[i][j - 1] + 1;
            if (d[i - 1][j - 1] + cost < v)
                v = d[i - 1][j - 1] + cost;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                d[i - 2][j - 2] + 1 < v)
                v = d[i - 2][j - 2] + 1;
            d[i][j] = v;
        }
    return d[n][m];
}

const char *cli_suggest(const char *word, const char *const *candidates, size_t n)
{
    /* close enough to be a typo: a third of the word, at least one edit */
    size_t limit = strlen(word) / 3 < 1 ? 1 : strlen(word) / 3, best = limit + 1;
    const char *pick = NULL;
    for (size_t i = 0; i < n; i++) {
        size_t d = candidates[i] ? distance(word, candidates[i]) : (size_t)-1;
        if (d < best) {
            best = d;
            pick = candidates[i];
        }
    }
    return pick;
}

char **cli_registry_types(fk_ctx *ctx, size_t *n)
{
    *n = 0;
    char *json = NULL;
    if (fk_registry_describe(&json, ctx) != FK_OK)
        return NULL;
    cJSON *doc = cJSON_Parse(json);
    fk_free(json);
    const cJSON *ents = cJSON_GetObjectItemCaseSensitive(doc, "entities");
    char **names = calloc((size_t)cJSON_GetArraySize(ents) + 1, sizeof *names);
    const cJSON *e;
    cJSON_ArrayForEach(e, ents)
    {
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(e, "type");
        if (names && cJSON_IsString(t) && (names[*n] = strdup(t->valuestring)))
            ++*n;
    }
    cJSON_Delete(doc);
    return names;
}

void cli_registry_types_free(char **names)
{
    for (size_t i = 0; names && names[i]; i++)
        free(names[i]);
    free(names);
}

int cli_check_type(fk_ctx *ctx, const char *type, cli_result *r)
{
    size_t n = 0, len = 0;
    char **names = cli_registry_types(ctx, &n);
    /* a registry that cannot be read: the operation itself says why */
    int rc = FK_OK, found = !names;
    for (size_t i = 0; i < n; i++) {
        found |= strcmp(names[i], type) == 0;
        len += strlen(names[i]) + 2;
    }
    char *list = found ? NULL : calloc(1, len + 1);
    if (list) {
        for (size_t i = 0; i < n; i++)
            strcat(strcat(list, i ? ", " : ""), names[i]);
        const char *guess = cli_suggest(type, (const char *const *)names, n);
        rc = FK_EINVAL;
        cli_fail_msg(r, rc, "unknown entity type \"%s\"%s%s%s; the types of this registry: %s",
                     type, guess ? " (did you mean \"" : "", guess ? guess : "",
                     guess ? "\"?)" : "", list);
    }
    free(list);
    cli_registry_types_free(names);
    return rc;
}
