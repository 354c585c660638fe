/* doctor's backup checks. Parthenon had a week of byte-identical
 * 466,449-byte backups: the database had been empty since the first of
 * them, and nobody looked. Only the files are looked at (names, sizes,
 * times, contents), never the database. */
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "alloc.h"
#include "doctor_internal.h"
#include "report_internal.h"
#include "sha256.h"
#include "entry.h"

typedef struct backup {
    char *name;
    int64_t size;
    time_t mtime;
} backup;

typedef struct backups {
    backup *b;
    size_t n, cap;
} backups;

static int cmp_mtime(const void *a, const void *b)
{
    const backup *x = a, *y = b;
    if (x->mtime != y->mtime)
        return x->mtime < y->mtime ? -1 : 1;
    return strcmp(x->name, y->name);
}

/* Two backups of the same size: same digest, same bytes. Each file is
 * streamed through SHA-256 in fixed-size chunks, so a backup of any size is
 * compared in constant memory; one that cannot be read is never "the same". */
static int same_content(int dfd, const char *a, const char *b)
{
    unsigned char ha[32], hb[32];
    return fk__sha256_file(dfd, a, ha) == 0 && fk__sha256_file(dfd, b, hb) == 0 &&
           memcmp(ha, hb, sizeof ha) == 0;
}

/* The regular files directly in dfd (no dot files, no symlinks). */
static int list_backups(fk__doctor *d, int dfd, backups *l)
{
    int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *dir = fd >= 0 ? fdopendir(fd) : NULL;
    int rc = FK_OK;
    struct dirent *de;
    while (dir && (de = readdir(dir))) {
        struct stat st;
        if (de->d_name[0] == '.' || fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
            !S_ISREG(st.st_mode))
            continue;
        if (l->n == l->cap) {
            backup *g = fk__grow(l->b, &l->cap, sizeof *g, 32);
            if (!g) {
                rc = fk__oom(d->ctx);
                break;
            }
            l->b = g;
        }
        if (!(l->b[l->n].name = fk__strdup(de->d_name))) {
            rc = fk__oom(d->ctx);
            break;
        }
        l->b[l->n].size = (int64_t)st.st_size;
        l->b[l->n].mtime = st.st_mtime;
        l->n++;
    }
    if (dir)
        closedir(dir);
    else if (fd >= 0)
        close(fd);
    return rc;
}

static void report_identical(fk__doctor *d, const backup *first, const backup *last, size_t run)
{
    fk__report_add(d->report, FK_SEV_WARNING, "FK-BACKUP-IDENTICAL", NULL, 0, last->name, NULL,
                   "compare the database with the newest backup: if nothing was meant to be "
                   "unchanged that long, data may have been lost before the first of them",
                   "%zu consecutive backups are byte-identical (%" PRId64 " bytes, %s to %s)",
                   run, last->size, first->name, last->name);
}

static void report_shrink(fk__doctor *d, const backup *prev, const backup *b)
{
    fk__report_add(d->report, FK_SEV_WARNING, "FK-BACKUP-SHRINK", NULL, 0, b->name, NULL,
                   "find out what the database lost in between",
                   "%s is %.0f%% smaller than %s (%" PRId64 " vs %" PRId64 " bytes)", b->name,
                   100.0 * (double)(prev->size - b->size) / (double)prev->size, prev->name,
                   b->size, prev->size);
}

/* Oldest first: the newest one's age, runs of identical ones, and sudden
 * shrinking from one to the next. */
static void judge(fk__doctor *d, int dfd, const backup *b, size_t n)
{
    int64_t age = (int64_t)(time(NULL) - b[n - 1].mtime);
    if (age > d->o.max_backup_age_s)
        fk__report_add(d->report, FK_SEV_WARNING, "FK-BACKUP-STALE", NULL, 0, b[n - 1].name,
                       NULL, "check the backup job",
                       "the newest backup, %s, is %" PRId64 " hours old", b[n - 1].name,
                       age / 3600);
    size_t run = 1;
    for (size_t i = 1; i <= n; i++) {
        int same = i < n && b[i].size == b[i - 1].size &&
                   same_content(dfd, b[i].name, b[i - 1].name);
        if (same) {
            run++;
            continue;
        }
        if (run > 1)
            report_identical(d, &b[i - run], &b[i - 1], run);
        run = 1;
        if (i < n && b[i - 1].size > 0 &&
            (double)b[i].size < (double)b[i - 1].size * (1.0 - d->o.backup_shrink_ratio))
            report_shrink(d, &b[i - 1], &b[i]);
    }
}

int fk__doctor_backups(fk__doctor *d)
{
    int dfd = open(d->o.backup_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return fk__report_add(d->report, FK_SEV_ERROR, "FK-BACKUP-NONE", NULL, 0,
                              d->o.backup_dir, NULL, "check the backup job and the path",
                              "cannot open the backup directory %s: %m", d->o.backup_dir);
    backups l = {NULL, 0, 0};
    int rc = list_backups(d, dfd, &l);
    if (rc == FK_OK && l.n == 0)
        fk__report_add(d->report, FK_SEV_ERROR, "FK-BACKUP-NONE", NULL, 0, d->o.backup_dir, NULL,
                       "check the backup job", "no backups in %s", d->o.backup_dir);
    if (rc == FK_OK && l.n) {
        qsort(l.b, l.n, sizeof *l.b, cmp_mtime);
        judge(d, dfd, l.b, l.n);
    }
    for (size_t i = 0; i < l.n; i++)
        fk__xfree(l.b[i].name);
    fk__xfree(l.b);
    close(dfd);
    return rc;
}
