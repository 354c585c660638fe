#include "sha256.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

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

/* Feeds everything fd holds to md: 1, or 0 on a read error. */
static int digest_fd(EVP_MD_CTX *md, int fd)
{
    unsigned char chunk[16384];
    for (;;) {
        ssize_t r = read(fd, chunk, sizeof chunk);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return r == 0;
        if (!EVP_DigestUpdate(md, chunk, (size_t)r))
            return 0;
    }
}

int fk__sha256_file(int dirfd, const char *name, unsigned char out[32])
{
    /* O_NONBLOCK: a FIFO planted in the directory must not hang us in open() */
    int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0)
        return -1;
    struct stat st;
    EVP_MD_CTX *md = NULL;
    unsigned int n = 0;
    int ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (md = EVP_MD_CTX_new()) &&
             EVP_DigestInit_ex(md, EVP_sha256(), NULL) && digest_fd(md, fd) &&
             EVP_DigestFinal_ex(md, out, &n) && n == 32;
    EVP_MD_CTX_free(md);
    close(fd);
    return ok ? 0 : -1;
}
