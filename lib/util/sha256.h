/* SHA-256 through OpenSSL's libcrypto (never a home-made digest). */
#ifndef FK_CORE_SHA256_H
#define FK_CORE_SHA256_H

#include <stddef.h>

/* out receives 64 lowercase hex digits and a NUL. 0, or -1 if libcrypto failed. */
int fk__sha256_hex(const void *data, size_t len, char out[65]);

/* Raw 32-byte digest. */
int fk__sha256(const void *data, size_t len, unsigned char out[32]);

void fk__hex(const unsigned char *in, size_t n, char *out);

/* The digest of the regular file `name` in dirfd (a final symlink is not
 * followed), read in fixed-size chunks: memory does not grow with the file.
 * 0, or -1 if it cannot be opened or read, is not a regular file, or
 * libcrypto failed. */
int fk__sha256_file(int dirfd, const char *name, unsigned char out[32]);

#endif
