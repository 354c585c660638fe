/* Running one library operation: connect, show progress, let SIGINT/SIGTERM
 * cancel cleanly (the library then undoes its work), record the outcome.
 * Every command that is "one call on a context" goes through here. */
#include "cli.h"

int cli_run_op(cli *c, cli_result *r, unsigned open_flags, cli_op_fn fn, void *arg)
{
    fk_ctx *ctx = NULL;
    if (cli_open(c, &ctx, open_flags, r) != FK_OK)
        return r->status;
    cli_progress progress;
    progress_init(&progress, c);
    cli_signals_install();
    r->status = fn(&r->report, ctx, &progress, arg);
    progress_end(&progress);
    if (r->status != FK_OK && !r->error) /* fn may have said it better */
        cli_fail(r, r->status, ctx);
    fk_close(ctx);
    return r->status;
}
