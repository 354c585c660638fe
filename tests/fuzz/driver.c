/* Standalone driver for the libFuzzer-style targets, so they build with any
 * C compiler and run in `meson test --suite fuzz`:
 *
 *   fuzz_<target> [-runs=N] [-seed=S] [-max_len=M] [-dict=FILE] PATH...
 *
 * Every PATH is a file or a directory (read recursively, sorted, dot-files
 * skipped). Each input -- plus the empty input -- is passed to
 * LLVMFuzzerTestOneInput once. Then N mutated inputs are run: a random
 * corpus input with 1 to 4 byte flips, byte sets, inserts, deletions,
 * duplications, splices with another input, truncations or dictionary
 * tokens, all drawn from a PRNG seeded with S, so a run is reproducible.
 *
 * Under FORTKNOX_UNDER_VALGRIND (the valgrind test setup sets it) N is
 * divided by 10: the corpus still runs whole, only the mutations shrink.
 *
 * When a target aborts or crashes, the input is written to
 * $FUZZ_CRASH_DIR (default: the current directory) as
 * fuzz-crash-<target>-<pid>.bin and its origin is printed; rerun the target
 * with that file as the only argument to reproduce it.
 *
 * libFuzzer-only flags (-max_total_time=, -timeout=, ...) are accepted and
 * ignored, so one command line works for both builds. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct blob {
    uint8_t *p;
    size_t n;
    char *name;
} blob;

typedef struct blobs {
    blob *v;
    size_t n, cap;
} blobs;

static blobs corpus, dict;

/* What is running now, for the crash handler. */
static const uint8_t *volatile cur_data;
static volatile size_t cur_size;
static char cur_desc[600];
static char crash_path[4096];

static void die(const char *what, const char *arg)
{
    fprintf(stderr, "fuzz driver: %s%s%s\n", what, arg ? ": " : "", arg ? arg : "");
    exit(2);
}

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        die("out of memory", NULL);
    return q;
}

static void push(blobs *b, uint8_t *p, size_t n, const char *name)
{
    if (b->n == b->cap) {
        b->cap = b->cap ? b->cap * 2 : 64;
        b->v = xrealloc(b->v, b->cap * sizeof *b->v);
    }
    b->v[b->n].p = p;
    b->v[b->n].n = n;
    b->v[b->n].name = strdup(name);
    if (!b->v[b->n].name)
        die("out of memory", NULL);
    b->n++;
}

static void write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n > 0) {
        ssize_t k = write(fd, c, n);
        if (k <= 0)
            return;
        c += k;
        n -= (size_t)k;
    }
}

/* Handlers that were there before ours (ASan's, under -fsanitize=address):
 * after saving the input we hand the signal back to them. */
static struct sigaction old_action[NSIG];

static void on_crash(int sig)
{
    static const char m1[] = "\nfuzz driver: crashed on ";
    static const char m2[] = "\nfuzz driver: input saved to ";
    write_all(2, m1, sizeof m1 - 1);
    write_all(2, cur_desc, strlen(cur_desc));
    int fd = open(crash_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd >= 0) {
        write_all(fd, (const void *)cur_data, cur_size);
        close(fd);
        write_all(2, m2, sizeof m2 - 1);
        write_all(2, crash_path, strlen(crash_path));
    }
    write_all(2, "\n", 1);
    sigaction(sig, &old_action[sig], NULL);
    if (sig == SIGABRT)
        raise(sig);
    /* a fault: returning re-runs the faulting instruction, which now reaches
     * the previous handler (or the default action) with its real context */
}

static void catch_crashes(void)
{
    static const int sigs[] = {SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_crash;
        sigemptyset(&sa.sa_mask);
        sigaction(sigs[i], &sa, &old_action[sigs[i]]);
    }
}

static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        die("cannot open", path);
    uint8_t *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n == cap) {
            cap = cap ? cap * 2 : 4096;
            buf = xrealloc(buf, cap);
        }
        size_t k = fread(buf + n, 1, cap - n, f);
        n += k;
        if (k == 0)
            break;
    }
    if (ferror(f))
        die("cannot read", path);
    fclose(f);
    *len = n;
    return buf;
}

static int no_dot(const struct dirent *d) { return d->d_name[0] != '.'; }

static void load_path(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0)
        die("cannot stat", path);
    if (S_ISDIR(st.st_mode)) {
        struct dirent **ents;
        int n = scandir(path, &ents, no_dot, alphasort);
        if (n < 0)
            die("cannot list", path);
        for (int i = 0; i < n; i++) {
            char sub[4096];
            snprintf(sub, sizeof sub, "%s/%s", path, ents[i]->d_name);
            load_path(sub);
            free(ents[i]);
        }
        free(ents);
    } else if (S_ISREG(st.st_mode)) {
        size_t n;
        uint8_t *p = read_file(path, &n);
        push(&corpus, p, n, path);
    }
}

/* libFuzzer/AFL dictionary: lines `name="value"` or `"value"`, with \\, \"
 * and \xNN escapes; '#' comments. */
static void load_dict(const char *path)
{
    size_t len;
    uint8_t *text = read_file(path, &len);
    text = xrealloc(text, len + 1);
    text[len] = '\0';
    char *save = NULL;
    for (char *line = strtok_r((char *)text, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        char *q = strchr(line, '"');
        char *hash = strchr(line, '#');
        if (!q || (hash && hash < q))
            continue;
        char *end = strrchr(line, '"');
        if (end == q)
            continue;
        uint8_t *tok = xrealloc(NULL, (size_t)(end - q));
        size_t n = 0;
        for (char *c = q + 1; c < end; c++) {
            if (*c == '\\' && c + 1 < end) {
                c++;
                if (*c == 'x' && c + 2 < end) {
                    char hex[3] = {c[1], c[2], 0};
                    tok[n++] = (uint8_t)strtoul(hex, NULL, 16);
                    c += 2;
                    continue;
                }
            }
            tok[n++] = (uint8_t)*c;
        }
        push(&dict, tok, n, "dict");
    }
    free(text);
}

/* xorshift64*: small, fast, and the same on every platform. */
static uint64_t rng_state;
static uint64_t rnd(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717u;
}
static size_t below(size_t n) { return n ? (size_t)(rnd() % n) : 0; }

static const uint8_t interesting[] = {0x00, 0x01, 0x1f, 0x20, 0x7f, 0x80, 0xbf, 0xc0, 0xc2,
                                      0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff, '"', '\\',
                                      '/',  '{',  '}',  '[',  ']',  ',',  ':',  '-',  '0',
                                      '.',  'e',  'u',  '\n', '\r', '\t', ' '};

/* One mutation of buf[0..*n) in place; cap is its capacity. */
static void mutate_once(uint8_t *buf, size_t *n, size_t cap)
{
    size_t len = *n;
    switch (rnd() % 10) {
    case 0: /* flip a bit */
        if (len)
            buf[below(len)] ^= (uint8_t)(1u << (rnd() % 8));
        break;
    case 1: /* set a byte */
        if (len)
            buf[below(len)] = rnd() % 2 ? interesting[below(sizeof interesting)] : (uint8_t)rnd();
        break;
    case 2: { /* insert 1..8 bytes */
        size_t k = 1 + below(8), at = below(len + 1);
        if (len + k > cap)
            break;
        memmove(buf + at + k, buf + at, len - at);
        for (size_t i = 0; i < k; i++)
            buf[at + i] = rnd() % 2 ? interesting[below(sizeof interesting)] : (uint8_t)rnd();
        *n = len + k;
        break;
    }
    case 3: { /* delete a range */
        if (!len)
            break;
        size_t at = below(len), k = 1 + below(rnd() % 4 ? 8 : len - at);
        if (k > len - at)
            k = len - at;
        memmove(buf + at, buf + at + k, len - at - k);
        *n = len - k;
        break;
    }
    case 4: { /* duplicate a range somewhere else */
        if (!len)
            break;
        size_t from = below(len), k = 1 + below(len - from < 64 ? len - from : 64);
        size_t at = below(len + 1);
        if (len + k > cap)
            break;
        uint8_t tmp[64];
        memcpy(tmp, buf + from, k);
        memmove(buf + at + k, buf + at, len - at);
        memcpy(buf + at, tmp, k);
        *n = len + k;
        break;
    }
    case 5: { /* splice: keep a prefix, append a piece of another input */
        const blob *o = &corpus.v[below(corpus.n)];
        size_t at = below(len + 1), from = below(o->n + 1), k = o->n - from;
        if (at + k > cap)
            k = cap - at;
        memcpy(buf + at, o->p + from, k);
        *n = at + k;
        break;
    }
    case 6: /* truncate */
        *n = below(len + 1);
        break;
    case 7:
    case 8: { /* insert or overwrite with a dictionary token */
        if (!dict.n)
            break;
        const blob *t = &dict.v[below(dict.n)];
        size_t at = below(len + 1);
        if (rnd() % 2) {
            if (len + t->n > cap)
                break;
            memmove(buf + at + t->n, buf + at, len - at);
            *n = len + t->n;
        } else if (at + t->n > len) {
            if (at + t->n > cap)
                break;
            *n = at + t->n;
        }
        memcpy(buf + at, t->p, t->n);
        break;
    }
    default: { /* swap two bytes */
        if (len < 2)
            break;
        size_t a = below(len), b = below(len);
        uint8_t c = buf[a];
        buf[a] = buf[b];
        buf[b] = c;
        break;
    }
    }
}

/* Runs the target on an exact-size heap copy, so ASan and valgrind see any
 * read past the end. */
static void run_one(const uint8_t *p, size_t n)
{
    uint8_t *copy = xrealloc(NULL, n);
    if (n)
        memcpy(copy, p, n);
    cur_data = copy;
    cur_size = n;
    LLVMFuzzerTestOneInput(copy, n);
    cur_data = NULL;
    free(copy);
}

static const char *flag_value(const char *arg, const char *name)
{
    size_t n = strlen(name);
    return strncmp(arg, name, n) == 0 && arg[n] == '=' ? arg + n + 1 : NULL;
}

int main(int argc, char **argv)
{
    long runs = 0;
    uint64_t seed = 1;
    size_t max_len = 0;
    const char *v;
    for (int i = 1; i < argc; i++) {
        if ((v = flag_value(argv[i], "-runs")))
            runs = strtol(v, NULL, 10);
        else if ((v = flag_value(argv[i], "-seed")))
            seed = strtoull(v, NULL, 10);
        else if ((v = flag_value(argv[i], "-max_len")))
            max_len = strtoull(v, NULL, 10);
        else if ((v = flag_value(argv[i], "-dict")))
            load_dict(v);
        else if (argv[i][0] == '-')
            fprintf(stderr, "fuzz driver: ignoring %s (libFuzzer only)\n", argv[i]);
        else
            load_path(argv[i]);
    }
    if (corpus.n == 0)
        die("no inputs: give corpus directories or files", NULL);
    if (getenv("FORTKNOX_UNDER_VALGRIND") && runs > 0)
        runs = runs / 10 > 0 ? runs / 10 : 1;

    const char *prog = strrchr(argv[0], '/');
    prog = prog ? prog + 1 : argv[0];
    const char *dir = getenv("FUZZ_CRASH_DIR");
    snprintf(crash_path, sizeof crash_path, "%s/fuzz-crash-%s-%ld.bin", dir && *dir ? dir : ".",
             prog, (long)getpid());
    catch_crashes();

    size_t largest = 0;
    snprintf(cur_desc, sizeof cur_desc, "the empty input");
    run_one((const uint8_t *)"", 0);
    for (size_t i = 0; i < corpus.n; i++) {
        snprintf(cur_desc, sizeof cur_desc, "corpus file %s", corpus.v[i].name);
        run_one(corpus.v[i].p, corpus.v[i].n);
        if (corpus.v[i].n > largest)
            largest = corpus.v[i].n;
    }

    if (max_len == 0)
        max_len = largest > 4096 ? largest : 4096;
    uint8_t *buf = xrealloc(NULL, max_len);
    rng_state = seed * 0x9E3779B97F4A7C15u + 0x2545F4914F6CDD1Du;
    if (!rng_state)
        rng_state = 1;
    for (long r = 0; r < runs; r++) {
        const blob *b = &corpus.v[below(corpus.n)];
        size_t n = b->n < max_len ? b->n : max_len;
        memcpy(buf, b->p, n);
        int k = 1 + (int)(rnd() % 4);
        for (int i = 0; i < k; i++)
            mutate_once(buf, &n, max_len);
        snprintf(cur_desc, sizeof cur_desc,
                 "mutation %ld of %s (seed %" PRIu64 "); reproduce with the saved input", r,
                 b->name, seed);
        run_one(buf, n);
    }
    free(buf);
    printf("fuzz driver: %s: %zu corpus inputs + the empty input, %ld mutations (seed %" PRIu64
           ", max_len %zu): no findings\n",
           prog, corpus.n, runs, seed, max_len);
    for (size_t i = 0; i < corpus.n; i++) {
        free(corpus.v[i].p);
        free(corpus.v[i].name);
    }
    for (size_t i = 0; i < dict.n; i++) {
        free(dict.v[i].p);
        free(dict.v[i].name);
    }
    free(corpus.v);
    free(dict.v);
    return 0;
}
