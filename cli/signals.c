/* SIGINT and SIGTERM for commands that must stop cleanly (long operations
 * cancel through the progress callback; watch and demo leave their loops).
 * A self-pipe lets poll() wake up on a signal without races. */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

volatile sig_atomic_t cli_stop_requested;
static int pipe_fds[2] = {-1, -1};

static void on_signal(int sig)
{
    (void)sig;
    int saved = errno;
    cli_stop_requested = 1;
    if (pipe_fds[1] >= 0) {
        ssize_t w = write(pipe_fds[1], "x", 1); /* full pipe: already woken */
        (void)w;
    }
    errno = saved;
}

void cli_signals_install(void)
{
    if (pipe_fds[0] < 0 && pipe2(pipe_fds, O_NONBLOCK | O_CLOEXEC) != 0)
        pipe_fds[0] = pipe_fds[1] = -1;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESTART; /* library calls in progress are not interrupted */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

int cli_signal_fd(void) { return pipe_fds[0]; }

int cli_sleep_ms(long ms)
{
    double until = cli_now_ms() + (double)ms;
    while (!cli_stop_requested) {
        double left = until - cli_now_ms();
        if (left <= 0)
            return 0;
        struct pollfd pfd = {cli_signal_fd(), POLLIN, 0};
        poll(&pfd, pfd.fd >= 0 ? 1 : 0, (int)left + 1);
    }
    return -1;
}
