/* File-system primitives for crash-safe fixture writing. Everything works
 * relative to directory fds so a path built from data can never climb out of
 * the fixture root (and names are checked to be single components). */
#ifndef FK_CORE_FSUTIL_H
#define FK_CORE_FSUTIL_H

#include <stddef.h>
#include "buf.h"
#include "ctx_internal.h"

/* Suffix of every temp file the library creates; stale ones are removed. */
#define FK__TMP_SUFFIX ".fk-tmp"

/* Modes for what the library creates, further narrowed by the umask: files
 * are never group- or world-writable, temp files included, whatever the
 * umask; directories likewise. */
#define FK__FILE_MODE 0644
#define FK__DIR_MODE 0755

/* A name is one path component we are willing to create: non-empty, at most
 * 255 bytes, no '/', no NUL, not "." or "..". */
int fk__fs_name_ok(const char *name);

/* mkdir -p of an absolute or relative directory (FK__DIR_MODE & ~umask). */
int fk__fs_mkdirs(fk_ctx *ctx, const char *path);

/* Opens (creating with mkdirat if needed) the sub-directory `name` of dirfd. */
int fk__fs_open_subdir(fk_ctx *ctx, int dirfd, const char *name, int create, int *out_fd);

/* fk__fs_open_subdir() with create, telling in *made whether this call
 * created it: what a failed writer must remove to leave nothing behind. */
int fk__fs_make_subdir(fk_ctx *ctx, int dirfd, const char *name, int *made, int *out_fd);

/* *out = the outermost directory of `path` that does not exist yet, the
 * first one fk__fs_mkdirs(path) creates (malloc'd); NULL when path exists.
 * FK_OK or FK_ENOMEM. */
int fk__fs_first_missing(fk_ctx *ctx, const char *path, char **out);

/* Undoes fk__fs_mkdirs(path) back to `top` (from fk__fs_first_missing()):
 * removes path and its parents up to and including top, stopping at the
 * first that is not empty. */
void fk__fs_rmdirs_upto(const char *path, const char *top);

/* Writes data to ".<name>.fk-tmp" in dirfd (replacing a stale one), mode
 * FK__FILE_MODE & ~umask. Does not sync: the caller batches durability with syncfs. */
int fk__fs_write_tmp(fk_ctx *ctx, int dirfd, const char *name, const char *data, size_t len,
                     int do_fsync);

/* fk__fs_write_tmp() without a context, for a writer thread: 0, or the
 * errno with *failed set to "refuse" (a bad name), "create" or "write";
 * fk__fs_write_tmp_fail() turns that into the context's error. */
int fk__fs_write_tmp_raw(int dirfd, const char *name, const char *data, size_t len,
                         int do_fsync, const char **failed);
int fk__fs_write_tmp_fail(fk_ctx *ctx, const char *name, const char *failed, int err);

/* Renames ".<name>.fk-tmp" over name. */
int fk__fs_commit_tmp(fk_ctx *ctx, int dirfd, const char *name);

/* Removes ".<name>.fk-tmp" if present. */
void fk__fs_drop_tmp(int dirfd, const char *name);

/* Reads a regular file (not following a final symlink) into out, refusing
 * files larger than max. Returns FK_OK, FK_ENOTFOUND when absent, FK_EIO. */
int fk__fs_read_at(fk_ctx *ctx, int dirfd, const char *name, size_t max, fk__buf *out);

/* 1 when the regular file `name` holds exactly data[0..len), else 0. */
int fk__fs_same_content(int dirfd, const char *name, const char *data, size_t len);

/* unlinkat, ignoring a missing file. */
int fk__fs_remove(fk_ctx *ctx, int dirfd, const char *name);

/* Removes every ".*.fk-tmp" file directly in dirfd (left by a crash). */
void fk__fs_remove_stale_tmps(int dirfd);

/* One syncfs() for everything written so far on dirfd's file system. */
int fk__fs_syncfs(fk_ctx *ctx, int dirfd);

int fk__fs_fsync(fk_ctx *ctx, int fd);

#endif
