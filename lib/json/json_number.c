/* PHP's number forms (json_encode, serialize_precision = -1), with its
 * shortest round-trip double digits. */
#include "json_internal.h"
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct numtext {
    int neg;
    const char *ip, *fp, *ep; /* integer, fraction, exponent digits */
    size_t il, fl, el;
    int has_frac, has_exp, exp_neg;
} numtext;

static int num_split(const char *s, size_t n, numtext *t)
{
    size_t i = 0;
    memset(t, 0, sizeof *t);
    if (i < n && s[i] == '-') {
        t->neg = 1;
        i++;
    }
    t->ip = s + i;
    if (i < n && s[i] == '0')
        i++;
    else if (i < n && s[i] >= '1' && s[i] <= '9')
        while (i < n && is_digit((unsigned char)s[i]))
            i++;
    else
        return -1;
    t->il = (size_t)(s + i - t->ip);
    if (i < n && s[i] == '.') {
        t->has_frac = 1;
        t->fp = s + ++i;
        while (i < n && is_digit((unsigned char)s[i]))
            i++;
        if ((t->fl = (size_t)(s + i - t->fp)) == 0)
            return -1;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        t->has_exp = 1;
        if (++i < n && (s[i] == '+' || s[i] == '-'))
            t->exp_neg = s[i++] == '-';
        t->ep = s + i;
        while (i < n && is_digit((unsigned char)s[i]))
            i++;
        if ((t->el = (size_t)(s + i - t->ep)) == 0)
            return -1;
    }
    return i == n ? 0 : -1;
}

/* PHP's json_decode keeps an integer literal as int unless it overflows
 * int64 (its scanner compares against "9223372036854775808"). */
static int fits_int64(const numtext *t)
{
    if (t->il != 19)
        return t->il < 19;
    int cmp = memcmp(t->ip, "9223372036854775808", 19);
    return cmp < 0 || (cmp == 0 && t->neg);
}

/* DIGITS * 10^exp10 as the nearest double. No decimal point is involved,
 * so the process locale (LC_NUMERIC) cannot change the result. */
static double dec_to_double(const char *dig, int nd, long long exp10)
{
    char t[48];
    snprintf(t, sizeof t, "%.*se%lld", nd, dig, exp10);
    return strtod(t, NULL);
}

/* The p+1 significant digits of d that read back as d, if there are any:
 * value = 0.DIGITS * 10^decpt, trailing zeros dropped. Returns the digit
 * count, or -1 when no decimal of p+1 digits reads back as d. */
static int digits_at(double d, int p, char dig[18], int *decpt)
{
    char b[32];
    snprintf(b, sizeof b, "%.*e", p, d);
    const char *e = strchr(b, 'e');
    int x = atoi(e + 1), nd = 0;
    for (const char *q = b; q < e; q++)
        if (is_digit((unsigned char)*q)) /* skip the locale's decimal point */
            dig[nd++] = *q;
    if (dec_to_double(dig, nd, x - (nd - 1)) != d) {
        /* At a power of two the gap below d is half the gap above, so
         * the nearest p+1-digit decimal may fall out of range below
         * while the next one up still reads back; dtoa picks that one
         * (e.g. 2^-1017 -> 7.120236347223045e-307). */
        int bexp;
        if (frexp(d, &bexp) != 0.5)
            return -1;
        int i = nd - 1;
        while (i >= 0 && dig[i] == '9')
            dig[i--] = '0';
        if (i < 0) {
            dig[0] = '1';
            x++;
        } else {
            dig[i]++;
        }
        if (dec_to_double(dig, nd, x - (nd - 1)) != d)
            return -1;
    }
    while (nd > 1 && dig[nd - 1] == '0')
        nd--;
    *decpt = x + 1;
    return nd;
}

/* Shortest digits that read back as d (> 0, finite), like zend_dtoa mode 0:
 * value = 0.DIGITS * 10^decpt. Returns the digit count. */
static int shortest_digits(double d, char dig[18], int *decpt)
{
    for (int p = 0; p <= 16; p++) {
        int nd = digits_at(d, p, dig, decpt);
        if (nd > 0)
            return nd;
    }
    return -1; /* unreachable: 17 significant digits always round-trip */
}

/* Whether the shortest digits of d are sig (nsig digits, no trailing zero)
 * with decimal point dp, where sig reads back as d. Two conversions
 * instead of up to 17: a decimal of nsig - 1 digits that reads back means
 * a shorter form, so not sig; when there is none, there is none with fewer
 * digits either (the nearest decimal of k + 1 digits is at least as close
 * to d as the nearest of k digits, and the next one up is taken at a power
 * of two as above), so the shortest has nsig digits: the nearest ones. */
static int shortest_is(double d, const char *sig, int nsig, long long dp)
{
    char dig[18];
    int decpt;
    if (nsig >= 2 && digits_at(d, nsig - 2, dig, &decpt) > 0)
        return 0;
    int nd = digits_at(d, nsig - 1, dig, &decpt);
    if (nd < 0) /* cannot happen (sig itself reads back); the long way */
        nd = shortest_digits(d, dig, &decpt);
    return nd == nsig && decpt == dp && memcmp(dig, sig, (size_t)nsig) == 0;
}

/* php_gcvt(value, 17, '.', 'e') with mode-0 digits, as json_encode uses for
 * serialize_precision = -1. */
static void put_php_double(fk__buf *b, int neg, const char *dig, int nd, int decpt)
{
    char t[48];
    int k = 0;
    if (neg)
        t[k++] = '-';
    if (decpt < -3 || decpt > 17) {
        t[k++] = dig[0];
        t[k++] = '.';
        if (nd == 1)
            t[k++] = '0';
        for (int i = 1; i < nd; i++)
            t[k++] = dig[i];
        k += snprintf(t + k, sizeof t - (size_t)k, "e%c%d", decpt - 1 < 0 ? '-' : '+',
                      abs(decpt - 1));
    } else if (decpt <= 0) {
        t[k++] = '0';
        t[k++] = '.';
        for (int i = decpt; i < 0; i++)
            t[k++] = '0';
        for (int i = 0; i < nd; i++)
            t[k++] = dig[i];
    } else {
        for (int i = 0; i < decpt; i++)
            t[k++] = i < nd ? dig[i] : '0';
        if (nd > decpt) {
            t[k++] = '.';
            for (int i = decpt; i < nd; i++)
                t[k++] = dig[i];
        }
    }
    fk__buf_put(b, t, (size_t)k);
}

/* Writes the PHP form of a non-int64 number if that form denotes exactly
 * the input's decimal value; returns 0 if it did not write anything. */
static int put_php_float(fk__buf *b, const numtext *t)
{
    /* Normalise the input to 0.SIG * 10^dp with SIG free of leading and
     * trailing zeros, walking integer then fraction digits. */
    size_t total = t->il + t->fl, first = total, last = 0;
    for (size_t i = 0; i < total; i++) {
        char c = i < t->il ? t->ip[i] : t->fp[i - t->il];
        if (c != '0') {
            if (first == total)
                first = i;
            last = i;
        }
    }
    if (first == total) { /* zero: json_decode gives +-0.0 */
        fk__buf_puts(b, t->neg ? "-0" : "0");
        return 1;
    }
    size_t nsig = last - first + 1;
    if (nsig > 17)
        return 0; /* a double's shortest form never has more */

    long long x = 0;
    for (size_t i = 0; i < t->el; i++) {
        x = x * 10 + (t->ep[i] - '0');
        if (x > 1000000000000000LL)
            return 0; /* overflows or underflows whatever the digits */
    }
    if (t->exp_neg)
        x = -x;
    long long dp = x + (first <= t->il ? (long long)(t->il - first) : -(long long)(first - t->il));
    if (dp > 310 || dp < -330)
        return 0;

    char sig[18];
    for (size_t i = 0; i < nsig; i++) {
        size_t j = first + i;
        sig[i] = j < t->il ? t->ip[j] : t->fp[j - t->il];
    }
    double d = dec_to_double(sig, (int)nsig, dp - (long long)nsig);
    if (d == 0 || isinf(d))
        return 0;

    if (!shortest_is(d, sig, (int)nsig, dp))
        return 0;
    put_php_double(b, t->neg, sig, (int)nsig, (int)dp);
    return 1;
}

/* The display scale PostgreSQL's numeric (and so jsonb) keeps for a number
 * text: digits after the point less the exponent, at least 0. */
static long long num_scale(const numtext *t)
{
    long long e = 0;
    for (size_t i = 0; i < t->el && e < 1000000; i++)
        e = e * 10 + (t->ep[i] - '0');
    long long sc = (long long)t->fl - (t->exp_neg ? -e : e);
    return sc < 0 ? 0 : sc;
}

/* PHP's form of the number at out[at..] reads back with the input's scale:
 * 0.03 for 0.03, but not 0.1 for 0.10 (jsonb would store 0.1). */
static int same_scale(const fk__buf *out, size_t at, const numtext *in)
{
    numtext php;
    return !fk__buf_failed(out) && num_split(out->data + at, out->len - at, &php) == 0 &&
           num_scale(&php) == num_scale(in);
}

int fk__json_put_number(fk__buf *out, const char *num, size_t n, fk__json_style style)
{
    numtext t;
    if (!num || num_split(num, n, &t) < 0)
        return -1;
    if (style == FK__JSON_STYLE_PHP || style == FK__JSON_STYLE_PHP_VALUE) {
        size_t at = out->len;
        if (!t.has_frac && !t.has_exp && fits_int64(&t)) {
            if (t.neg && t.ip[0] == '0')
                fk__buf_putc(out, '0');
            else
                fk__buf_put(out, num, n);
        } else if (!put_php_float(out, &t)) {
            fk__buf_put(out, num, n);
        } else if (style == FK__JSON_STYLE_PHP && !same_scale(out, at, &t) &&
                   !fk__buf_failed(out)) {
            out->len = at; /* PHP's form would lose the scale: keep the text */
            fk__buf_put(out, num, n);
        }
    } else {
        fk__buf_put(out, num, n);
    }
    return fk__buf_failed(out) ? -1 : 0;
}

/* A JSON number token as int64: 0, -1 when it has a fraction or exponent,
 * -2 when it does not fit. */
static int parse_int64(const char *s, size_t n, int64_t *out)
{
    int neg = n > 0 && s[0] == '-';
    size_t i = (size_t)neg;
    if (i >= n)
        return -1;
    uint64_t v = 0, limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (; i < n; i++) {
        if (!(s[i] >= '0' && s[i] <= '9'))
            return -1;
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (limit - d) / 10)
            return -2;
        v = v * 10 + d;
    }
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return 0;
}

int fk__json_int64(const char *s, size_t n, int64_t *out)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] == '.' || s[i] == 'e' || s[i] == 'E')
            return -1;
    return parse_int64(s, n, out);
}
