#include "sha256.h"

#include <openssl/evp.h>

int fk__sha256(const void *data, size_t len, unsigned char out[32])
{
    unsigned int n = 0;
    return EVP_Digest(data, len, out, &n, EVP_sha256(), NULL) == 1 && n == 32 ? 0 : -1;
}

void fk__hex(const unsigned char *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}

int fk__sha256_hex(const void *data, size_t len, char out[65])
{
    unsigned char d[32];
    if (fk__sha256(data, len, d) != 0)
        return -1;
    fk__hex(d, 32, out);
    return 0;
}
