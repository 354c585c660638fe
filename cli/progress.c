/* The progress bar of long commands (export, import, verify, drill): one
 * line on stderr, redrawn at most ten times a second, only on a terminal and
 * never with --quiet or --json (stdout stays clean for scripts either way). */
#include "cli.h"

#include <unistd.h>

void progress_init(cli_progress *p, const cli *c)
{
    p->draw = !c->quiet && !c->json && isatty(STDERR_FILENO);
    p->start_ms = cli_now_ms();
    p->last_ms = 0;
    p->drawn = 0;
}

int progress_cb(const fk_progress *pr, void *userdata)
{
    cli_progress *p = userdata;
    if (cli_stop_requested)
        return 1; /* the library rolls back and returns FK_ECANCELLED */
    if (!p->draw)
        return 0;
    double now = cli_now_ms();
    if (now - p->last_ms < 100 && !(pr->total && pr->done == pr->total))
        return 0;
    p->last_ms = now;
    double secs = (now - p->start_ms) / 1000;
    double rate = secs > 0 ? (double)pr->done / secs : 0;
    char bar[32] = "";
    if (pr->total) {
        int filled = (int)(24.0 * (double)pr->done / (double)pr->total);
        if (filled > 24)
            filled = 24;
        for (int i = 0; i < 24; i++)
            bar[i] = i < filled ? '=' : ' ';
        bar[24] = '\0';
        fprintf(stderr, "\r\033[K%s %-28.28s %llu/%llu [%s] %3d%% %.0f/s", pr->operation,
                pr->entity_type ? pr->entity_type : "", (unsigned long long)pr->done,
                (unsigned long long)pr->total, bar, (int)(100.0 * (double)pr->done / (double)pr->total),
                rate);
    } else {
        fprintf(stderr, "\r\033[K%s %-28.28s %llu %.0f/s", pr->operation,
                pr->entity_type ? pr->entity_type : "", (unsigned long long)pr->done, rate);
    }
    p->drawn = 1;
    return 0;
}

void progress_end(cli_progress *p)
{
    if (p->drawn)
        fputs("\r\033[K", stderr);
    p->drawn = 0;
}
