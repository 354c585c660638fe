/* The progress bar of long commands (export, import, verify, drill): one
 * line on stderr, as wide as the terminal and never wider (a wrapped line is
 * redrawn below itself on every update), redrawn at most ten times a second,
 * only on a terminal and never with --quiet or --json (stdout stays clean
 * for scripts either way). */
#include "cli.h"

#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* The terminal's width now (it may have been resized since the last line);
 * COLUMNS where the terminal does not say, 80 where nothing does. */
static int term_width(void)
{
    struct winsize ws;
    if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
        return ws.ws_col;
    const char *c = getenv("COLUMNS");
    long n = c ? strtol(c, NULL, 10) : 0;
    return n > 0 && n < 10000 ? (int)n : 80;
}

void progress_format(char *buf, size_t size, int width, const fk_progress *pr, double rate)
{
    char tail[96], rate_s[32] = "";
    if (rate >= 0) /* padded, like the count, so that the bar keeps its width */
        snprintf(rate_s, sizeof rate_s, " %5.0f/s", rate);
    unsigned long long done = pr->done, total = pr->total;
    int pct = total ? (int)(100.0 * (double)(done < total ? done : total) / (double)total) : 0;
    char digits[24];
    int dw = snprintf(digits, sizeof digits, "%llu", total);
    if (total)
        snprintf(tail, sizeof tail, " %*llu/%llu %3d%%%s", dw, done, total, pct, rate_s);
    else
        snprintf(tail, sizeof tail, " %llu%s", done, rate_s);
    const char *op = pr->operation ? pr->operation : "";
    const char *type = pr->entity_type ? pr->entity_type : "";
    int max = width - 1;
    int room = max - (int)strlen(op) - (int)strlen(tail); /* for " TYPE" and " [BAR]" */
    int tlen = (int)strlen(type), barw = 0;
    if (tlen > 28)
        tlen = 28;
    if (total) { /* the type name first, then a bar of 10 to 40 columns */
        barw = room - (tlen ? tlen + 1 : 0) - 3;
        if (barw < 10) { /* shorten the name to keep a bar of 10, if there is room */
            tlen = room - 13 - 1;
            barw = 10;
            if (tlen < 4) { /* no room for both: the name wins */
                tlen = (int)strlen(type) < room - 1 ? (int)strlen(type) : room - 1;
                barw = 0;
            }
        }
        if (barw > 40)
            barw = 40;
    } else if (tlen > room - 1) {
        tlen = room - 1;
    }
    if (tlen < 0)
        tlen = 0;
    char bar[48] = "";
    if (barw > 0) {
        int filled = (int)((double)barw * (double)(done < total ? done : total) / (double)total);
        bar[0] = ' ';
        bar[1] = '[';
        for (int i = 0; i < barw; i++)
            bar[2 + i] = i < filled ? '=' : ' ';
        bar[2 + barw] = ']';
        bar[3 + barw] = '\0';
    }
    snprintf(buf, size, "%s%s%.*s%s%s", op, tlen ? " " : "", tlen, type, bar, tail);
    if (strlen(buf) > (size_t)(max > 0 ? max : 0)) /* a very narrow terminal: cut, never wrap */
        buf[max > 0 ? max : 0] = '\0';
}

#ifdef FK_CLI_TEST_HOOKS
/* Test builds only (fortknox-test-hooks): FORTKNOX_TEST_PAUSE_AT=N stops at
 * the first progress call with done >= N ("end": done == total), says so on
 * stderr, and waits there for SIGINT/SIGTERM -- so that a test can press
 * Ctrl-C at a known point of an operation, without racing it. */
static void test_pause(const fk_progress *pr)
{
    static int paused;
    const char *at = getenv("FORTKNOX_TEST_PAUSE_AT");
    if (!at || paused)
        return;
    int hit = strcmp(at, "end") == 0 ? pr->total && pr->done == pr->total
                                     : pr->done >= strtoull(at, NULL, 10);
    if (!hit)
        return;
    paused = 1;
    fprintf(stderr, "\n[paused at %s %llu/%llu]\n", pr->operation,
            (unsigned long long)pr->done, (unsigned long long)pr->total);
    while (!cli_stop_requested) {
        struct pollfd pfd = {cli_signal_fd(), POLLIN, 0};
        poll(&pfd, 1, -1);
    }
}
#endif

void progress_init(cli_progress *p, const cli *c)
{
    memset(p, 0, sizeof *p);
    p->draw = !c->quiet && !c->json && isatty(STDERR_FILENO);
}

int progress_cb(const fk_progress *pr, void *userdata)
{
    cli_progress *p = userdata;
#ifdef FK_CLI_TEST_HOOKS
    test_pause(pr);
#endif
    if (cli_stop_requested)
        return 1; /* the library rolls back and returns FK_ECANCELLED */
    if (!p->draw)
        return 0;
    double now = cli_now_ms();
    const char *op = pr->operation ? pr->operation : "";
    if (strncmp(p->op, op, sizeof p->op) != 0) {
        /* the first call, or a new phase counting from 0 again: the rate
         * counts from here (a drill's verify was divided by the time of
         * the import before it, every rate by the time to connect) */
        p->phase_ms = now;
        p->phase_done = pr->done;
        snprintf(p->op, sizeof p->op, "%s", op);
    }
    if (now - p->last_ms < 100 && !(pr->total && pr->done == pr->total))
        return 0;
    p->last_ms = now;
    double secs = (now - p->phase_ms) / 1000;
    double rate = secs >= 0.2 ? (double)(pr->done - p->phase_done) / secs : -1;
    char line[512];
    progress_format(line, sizeof line, term_width(), pr, rate);
    fprintf(stderr, "\r\033[K%s", line);
    p->drawn = 1;
    return 0;
}

void progress_end(cli_progress *p)
{
    if (p->drawn)
        fputs("\r\033[K", stderr);
    p->drawn = 0;
}
