#include "fsutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc.h"
#include "ctx_internal.h"
#include "entry.h"

int fk__fs_name_ok(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    return n > 0 && n <= 255 && !strchr(name, '/') && strcmp(name, ".") != 0 &&
           strcmp(name, "..") != 0;
}

static int tmp_name(char *out, size_t cap, const char *name)
{
    int n = snprintf(out, cap, ".%s" FK__TMP_SUFFIX, name);
    return n > 0 && (size_t)n < cap && n <= NAME_MAX ? 0 : -1;
}

int fk__fs_mkdirs(fk_ctx *ctx, const char *path)
{
    size_t n = strlen(path);
    char *p = fk__strdup(path);
    if (!p)
        return fk__oom(ctx);
    for (size_t i = 1; i <= n; i++) {
        if (p[i] != '/' && p[i] != '\0')
            continue;
        char c = p[i];
        p[i] = '\0';
        if (mkdir(p, FK__DIR_MODE) != 0 && errno != EEXIST) {
            int rc = fk__fail(ctx, FK_EIO, "cannot create directory %s: %s", p, strerror(errno));
            fk__xfree(p);
            return rc;
        }
        p[i] = c;
    }
    fk__xfree(p);
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
        return fk__fail(ctx, FK_EIO, "%s is not a directory", path);
    return FK_OK;
}

/* Trailing slashes off (but "/" stays "/"): the forms both helpers compare. */
static char *dir_path(const char *path)
{
    char *p = fk__strdup(path);
    size_t n = p ? strlen(p) : 0;
    while (n > 1 && p[n - 1] == '/')
        p[--n] = '\0';
    return p;
}

int fk__fs_first_missing(fk_ctx *ctx, const char *path, char **out)
{
    *out = NULL;
    char *p = dir_path(path);
    struct stat st;
    if (!p)
        return fk__oom(ctx);
    if (stat(p, &st) == 0) {
        fk__xfree(p);
        return FK_OK;
    }
    char *s;
    while ((s = strrchr(p, '/')) && s != p) {
        *s = '\0';
        if (stat(p, &st) == 0) {
            *s = '/';
            break;
        }
    }
    *out = p;
    return FK_OK;
}

void fk__fs_rmdirs_upto(const char *path, const char *top)
{
    char *p = dir_path(path);
    while (p && rmdir(p) == 0 && strcmp(p, top) != 0) {
        char *s = strrchr(p, '/');
        if (!s || s == p)
            break;
        *s = '\0';
    }
    fk__xfree(p);
}

static int open_dir(fk_ctx *ctx, int dirfd, const char *name, int *out_fd)
{
    int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return fk__fail(ctx, errno == ENOENT ? FK_ENOTFOUND : FK_EIO,
                        "cannot open directory %s: %s", name, strerror(errno));
    *out_fd = fd;
    return FK_OK;
}

int fk__fs_open_subdir(fk_ctx *ctx, int dirfd, const char *name, int create, int *out_fd)
{
    int made;
    if (create)
        return fk__fs_make_subdir(ctx, dirfd, name, &made, out_fd);
    *out_fd = -1;
    if (!fk__fs_name_ok(name))
        return fk__fail(ctx, FK_EINVAL, "refusing directory name \"%s\"", name);
    return open_dir(ctx, dirfd, name, out_fd);
}

int fk__fs_make_subdir(fk_ctx *ctx, int dirfd, const char *name, int *made, int *out_fd)
{
    *out_fd = -1;
    *made = 0;
    if (!fk__fs_name_ok(name))
        return fk__fail(ctx, FK_EINVAL, "refusing directory name \"%s\"", name);
    if (mkdirat(dirfd, name, FK__DIR_MODE) == 0)
        *made = 1;
    else if (errno != EEXIST)
        return fk__fail(ctx, FK_EIO, "cannot create directory %s: %s", name, strerror(errno));
    return open_dir(ctx, dirfd, name, out_fd);
}

static int write_all(int fd, const char *data, size_t len)
{
    while (len) {
        ssize_t w = write(fd, data, len);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        data += w;
        len -= (size_t)w;
    }
    return 0;
}

int fk__fs_write_tmp_raw(int dirfd, const char *name, const char *data, size_t len,
                         int do_fsync, const char **failed)
{
    char tmp[NAME_MAX + 16];
    if (!fk__fs_name_ok(name) || tmp_name(tmp, sizeof tmp, name) != 0) {
        *failed = "refuse";
        return EINVAL;
    }
    /* O_EXCL: never write through a symlink someone planted at the temp name;
     * a leftover is removed only when there is one (no failed unlink each) */
    int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, FK__FILE_MODE);
    if (fd < 0 && errno == EEXIST && unlinkat(dirfd, tmp, 0) == 0)
        fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
                    FK__FILE_MODE);
    if (fd < 0) {
        *failed = "create";
        return errno;
    }
    int err = write_all(fd, data, len) != 0 ? errno : 0;
    if (!err && do_fsync && fsync(fd) != 0)
        err = errno;
    if (close(fd) != 0 && !err)
        err = errno;
    if (err) {
        unlinkat(dirfd, tmp, 0);
        *failed = "write";
    }
    return err;
}

int fk__fs_write_tmp_fail(fk_ctx *ctx, const char *name, const char *failed, int err)
{
    if (strcmp(failed, "refuse") == 0)
        return fk__fail(ctx, FK_EINVAL, "refusing file name \"%s\"", name);
    if (strcmp(failed, "create") == 0)
        return fk__fail(ctx, FK_EIO, "cannot create .%s" FK__TMP_SUFFIX ": %s", name,
                        strerror(err));
    return fk__fail(ctx, FK_EIO, "cannot write %s: %s", name, strerror(err));
}

int fk__fs_write_tmp(fk_ctx *ctx, int dirfd, const char *name, const char *data, size_t len,
                     int do_fsync)
{
    const char *failed = NULL;
    int err = fk__fs_write_tmp_raw(dirfd, name, data, len, do_fsync, &failed);
    return err ? fk__fs_write_tmp_fail(ctx, name, failed, err) : FK_OK;
}

int fk__fs_commit_tmp(fk_ctx *ctx, int dirfd, const char *name)
{
    char tmp[NAME_MAX + 16];
    if (tmp_name(tmp, sizeof tmp, name) != 0)
        return fk__fail(ctx, FK_EINVAL, "refusing file name \"%s\"", name);
    if (renameat(dirfd, tmp, dirfd, name) != 0)
        return fk__fail(ctx, FK_EIO, "cannot rename %s into place: %s", name, strerror(errno));
    return FK_OK;
}

void fk__fs_drop_tmp(int dirfd, const char *name)
{
    char tmp[NAME_MAX + 16];
    if (tmp_name(tmp, sizeof tmp, name) == 0)
        unlinkat(dirfd, tmp, 0);
}

int fk__fs_read_at(fk_ctx *ctx, int dirfd, const char *name, size_t max, fk__buf *out)
{
    /* O_NONBLOCK: a FIFO planted as a fixture must not hang us in open() */
    int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0) {
        if (errno == ENOENT)
            return FK_ENOTFOUND;
        return fk__fail(ctx, FK_EIO, "cannot open %s: %s", name,
                        errno == ELOOP ? "it is a symbolic link" : strerror(errno));
    }
    struct stat st;
    int rc = FK_OK;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
        rc = fk__fail(ctx, FK_EIO, "%s is not a regular file", name);
    else if ((size_t)st.st_size > max)
        rc = fk__fail(ctx, FK_EIO, "%s is larger than the limit of %zu bytes", name, max);
    else if (fk__buf_grow(out, (size_t)st.st_size) < 0)
        rc = fk__oom(ctx);
    else {
        for (;;) {
            if (fk__buf_grow(out, 4096) < 0) {
                rc = fk__oom(ctx);
                break;
            }
            ssize_t r = read(fd, out->data + out->len, out->cap - out->len - 1);
            if (r < 0 && errno == EINTR)
                continue;
            if (r < 0) {
                rc = fk__fail(ctx, FK_EIO, "cannot read %s: %s", name, strerror(errno));
                break;
            }
            if (r == 0)
                break;
            out->len += (size_t)r;
            if (out->len > max) {
                rc = fk__fail(ctx, FK_EIO, "%s is larger than the limit of %zu bytes", name, max);
                break;
            }
        }
        out->data[out->len] = '\0';
    }
    close(fd);
    return rc;
}

int fk__fs_same_content(int dirfd, const char *name, const char *data, size_t len)
{
    int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0)
        return 0;
    struct stat st;
    int same = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (size_t)st.st_size == len;
    char chunk[16384];
    size_t off = 0;
    while (same && off < len) {
        ssize_t r = read(fd, chunk, sizeof chunk);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0 || (size_t)r > len - off || memcmp(chunk, data + off, (size_t)r) != 0)
            same = 0;
        else
            off += (size_t)r;
    }
    close(fd);
    return same;
}

int fk__fs_remove(fk_ctx *ctx, int dirfd, const char *name)
{
    if (unlinkat(dirfd, name, 0) != 0 && errno != ENOENT)
        return fk__fail(ctx, FK_EIO, "cannot remove %s: %s", name, strerror(errno));
    return FK_OK;
}

void fk__fs_remove_stale_tmps(int dirfd)
{
    /* a fresh open, not dup(): a dup shares the directory read position */
    int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return;
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return;
    }
    size_t sl = strlen(FK__TMP_SUFFIX);
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t n = strlen(de->d_name);
        if (de->d_name[0] == '.' && n > sl + 1 && strcmp(de->d_name + n - sl, FK__TMP_SUFFIX) == 0)
            unlinkat(dirfd, de->d_name, 0);
    }
    closedir(d);
}

int fk__fs_syncfs(fk_ctx *ctx, int dirfd)
{
    if (syncfs(dirfd) != 0)
        return fk__fail(ctx, FK_EIO, "syncfs failed: %s", strerror(errno));
    return FK_OK;
}

int fk__fs_fsync(fk_ctx *ctx, int fd)
{
    if (fsync(fd) != 0 && errno != EINVAL)
        return fk__fail(ctx, FK_EIO, "fsync failed: %s", strerror(errno));
    return FK_OK;
}
