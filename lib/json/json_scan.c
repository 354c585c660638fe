/* Walking the members of a validated object or the elements of an array. */
#include "json_internal.h"
#include <string.h>

/* Offset after the string token at in[pos]; the token is known valid. */
static size_t skip_string(const char *in, size_t pos)
{
    for (pos++;; pos++) {
        if (in[pos] == '\\')
            pos++;
        else if (in[pos] == '"')
            return pos + 1;
    }
}

/* Offset after the valid value at in[pos]. */
static size_t skip_value(const char *in, size_t len, size_t pos)
{
    size_t depth = 0;
    for (;;) {
        switch (in[pos]) {
        case '"': pos = skip_string(in, pos); break;
        case '{':
        case '[': depth++; pos++; continue;
        case '}':
        case ']': depth--; pos++; break;
        case ',': case ':': case ' ': case '\t': case '\n': case '\r': pos++; continue;
        default:
            do
                pos++;
            while (pos < len && (is_digit((unsigned char)in[pos]) || (in[pos] >= 'a' && in[pos] <= 'z') ||
                                 in[pos] == '.' || in[pos] == '+' || in[pos] == '-' || in[pos] == 'E'));
            break;
        }
        if (depth == 0)
            return pos;
    }
}

static fk__jtype type_of(char c)
{
    switch (c) {
    case '{': return FK__JT_OBJECT;
    case '[': return FK__JT_ARRAY;
    case '"': return FK__JT_STRING;
    case 't': return FK__JT_TRUE;
    case 'f': return FK__JT_FALSE;
    case 'n': return FK__JT_NULL;
    default: return FK__JT_NUMBER;
    }
}

int fk__json_scan_object(const char *in, size_t len,
                         int (*cb)(void *ud, const fk__jmember *m), void *ud,
                         fk__json_error *err)
{
    if (fk__json_validate(in, len, err) < 0)
        return -1;
    size_t pos = skip_ws(in, len, 0);
    if (in[pos] != '{')
        return fk__json_fail_at(err, in, pos, "top-level value is not an object");
    size_t line = 1, line_start = 0, counted = 0;
    pos = skip_ws(in, len, pos + 1);
    while (in[pos] == '"') {
        fk__jmember m;
        size_t kend = skip_string(in, pos);
        m.key = in + pos + 1;
        m.key_len = kend - pos - 2;
        pos = skip_ws(in, len, skip_ws(in, len, kend) + 1);
        for (const char *q = in + counted, *e = in + pos; (q = memchr(q, '\n', (size_t)(e - q))) != NULL;) {
            line++;
            line_start = (size_t)(++q - in);
        }
        counted = pos;
        m.type = type_of(in[pos]);
        m.val = in + pos;
        m.line = line;
        m.column = pos - line_start + 1;
        pos = skip_value(in, len, pos);
        m.val_len = (size_t)(in + pos - m.val);
        if (cb) {
            int rc = cb(ud, &m);
            if (rc)
                return rc;
        }
        pos = skip_ws(in, len, pos);
        if (in[pos] == ',')
            pos = skip_ws(in, len, pos + 1);
    }
    return 0;
}

int fk__json_scan_array(const char *in, size_t len,
                        int (*cb)(void *ud, const fk__jmember *m), void *ud)
{
    size_t pos = skip_ws(in, len, 0), line = 1, line_start = 0, counted = 0;
    if (pos >= len || in[pos] != '[')
        return 0;
    pos = skip_ws(in, len, pos + 1);
    while (pos < len && in[pos] != ']') {
        for (; counted < pos; counted++)
            if (in[counted] == '\n')
                line++, line_start = counted + 1;
        fk__jmember m = {NULL, 0, type_of(in[pos]), in + pos, 0, line, pos - line_start + 1};
        size_t end = skip_value(in, len, pos);
        m.val_len = end - pos;
        int rc = cb(ud, &m);
        if (rc)
            return rc;
        pos = skip_ws(in, len, end);
        if (pos < len && in[pos] == ',')
            pos = skip_ws(in, len, pos + 1);
    }
    return 0;
}
