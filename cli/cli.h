/* The fortknox command-line tool: what the files of cli/ share.
 *
 * The tool is a thin layer over the public API (<fortknox.h>): every command
 * parses its arguments, calls the library, and hands the outcome to
 * cli_finish(), which alone decides what is printed and which exit status
 * results. That keeps output and exit codes identical across commands. */
#ifndef FORTKNOX_CLI_H
#define FORTKNOX_CLI_H

#include <fortknox.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>

/* Generated from cli/doc/ (tools/gen-cli-docs): CLI_DOC(id), CLI_OVERVIEW and
 * the constants the help texts quote, e.g. CLI_DEFAULT_COMMIT_MESSAGE. */
#include "cli_help.h"

#if defined(__GNUC__)
#define CLI_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define CLI_PRINTF(f, a)
#endif

/* Exit statuses (documented in docs/fortknox.1; scripts depend on them). */
enum {
    CLI_EXIT_OK = 0,      /* success, nothing found */
    CLI_EXIT_PROBLEM = 1, /* a check found a problem */
    CLI_EXIT_USAGE = 2,   /* bad command line */
    CLI_EXIT_FAILURE = 3  /* runtime failure: database, I/O, bad fixture, ... */
};

/* cli_parse() returns this when the command should go on. */
#define CLI_CONTINUE (-1)

#define CLI_MAX_POS 8

struct cli_command;

/* The global options and the state of the command being run. */
typedef struct cli {
    char *db;               /* --db, copied (the argv copy is scrubbed) */
    const char *registry;   /* --registry FILE */
    const char *schema;     /* --schema NAME */
    /* --lock-timeout MS, --statement-timeout MS, --connect-timeout MS;
     * -1 = the library's default */
    int lock_timeout_ms, statement_timeout_ms, connect_timeout_ms;
    int json, quiet, verbose;
    const struct cli_command *cmd; /* the command being run (for its help) */
    char *pos[CLI_MAX_POS]; /* positional arguments of the command */
    int npos;
} cli;

/* One command: main.c dispatches on `name` ("export", or two words for a
 * group: "audit log"). Name and help come from the command's cli/doc/<id>.md:
 * define it as {CLI_DOC(id), run}. */
typedef struct cli_command {
    const char *name;
    const char *help; /* the full help: usage, description, options */
    int (*run)(cli *c, int argc, char **argv);
} cli_command;

/* ------------------------------------------------------------ args.c */

typedef enum cli_opt_kind {
    CLI_FLAG,   /* *(int *)target = value */
    CLI_STRING, /* *(const char **)target = argument */
    CLI_INT,    /* *(int64_t *)target = argument, a non-negative integer */
    CLI_LIST    /* appended to *(cli_list *)target; the option may repeat */
} cli_opt_kind;

#define CLI_MAX_LIST 64

/* The arguments of a repeatable option, in command-line order. */
typedef struct cli_list {
    const char *v[CLI_MAX_LIST];
    size_t n;
} cli_list;

/* A command's option; arrays end with a {NULL} entry. */
typedef struct cli_opt {
    const char *name; /* long name without the dashes */
    cli_opt_kind kind;
    void *target;
    int value;
} cli_opt;

/* Parses a command's arguments (argv[0] is the command's name): its options,
 * the global options (accepted anywhere on the line), --help, and between
 * min_pos and max_pos positional arguments (into c->pos). Returns
 * CLI_CONTINUE, or the exit status to return at once (0 after --help, 2 after
 * a usage error, whose message and the command's help went to stderr). */
int cli_parse(cli *c, int argc, char **argv, const cli_opt *opts, int min_pos, int max_pos);

/* Parses the global options before the command. Returns the index of the
 * command word in argv (== argc when there is none) or, negated minus one,
 * an exit status to return at once: -1 - status. */
int cli_parse_global(cli *c, int argc, char **argv);

/* Prints "fortknox CMD: message", then the command's help, to stderr (and in
 * --json mode the error document on stdout). Returns CLI_EXIT_USAGE. */
int cli_usage(cli *c, const char *fmt, ...) CLI_PRINTF(2, 3);

/* Splits "TYPE:ID" (ID a positive integer; with allow_bare_type, "TYPE" alone
 * gives *id = 0). The type points into a static buffer. 0 or -1. */
int cli_entity_arg(const char *arg, const char **type, int64_t *id, int allow_bare_type);

/* ------------------------------------------------------------ keymap.c */

/* --map [TABLE.]OLD=NEW, --drop-key [TABLE.]KEY, --default [TABLE.]COLUMN
 * (import, restore): how documents whose keys drifted from their tables are
 * read. CLI_KEY_MAP_OPTS(args) lists the three options in a cli_opt array. */
typedef struct cli_key_map_args {
    cli_list map, drop_key, defaults;
} cli_key_map_args;

#define CLI_KEY_MAP_OPTS(a)                                                                      \
    {"map", CLI_LIST, &(a)->map, 0}, {"drop-key", CLI_LIST, &(a)->drop_key, 0},                  \
        {"default", CLI_LIST, &(a)->defaults, 0}

/* Fills km from the parsed options (km points into a, which must outlive
 * it). CLI_CONTINUE, or a usage error's exit status for an entry of the
 * wrong shape. */
int cli_key_map(cli *c, fk_key_map *km, const cli_key_map_args *a);

/* ------------------------------------------------------------ result.c */

/* The outcome of a command, handed to cli_finish(). */
typedef struct cli_result {
    int status;         /* library status of the operation (FK_OK, FK_E*) */
    int problem_status; /* the status that means "a check found a problem"
                           (exit 1): FK_EVERIFY, FK_ETAMPER; 0 = none */
    char *error;        /* message when status != FK_OK; owned */
    fk_report *report;  /* owned; may be NULL */
    char *data;         /* raw JSON for the document's "data" member; owned, may be NULL */
    char *summary;      /* one human sentence printed first; owned, may be NULL */
    /* Human output instead of the report (the audit log's table, from
       fk_audit_log_format()); owned, may be NULL. */
    char *text;
} cli_result;

/* Records a failed library call: status and message (fk_errmsg(ctx), or the
 * code's description when the library left none). */
void cli_fail(cli_result *r, int status, const fk_ctx *ctx);

/* Records a failure of the tool itself (git, files, ...). */
void cli_fail_msg(cli_result *r, int status, const char *fmt, ...) CLI_PRINTF(3, 4);

/* Sets r->summary to the library's sentence for r->report and r->status
 * (fk_report_summary(); subject: the directory worked on), when it has one. */
void cli_report_summary(cli_result *r, const char *subject);

/* Sets r->summary (replacing it). */
void cli_summary(cli_result *r, const char *fmt, ...) CLI_PRINTF(2, 3);

/* Prints the outcome (one JSON document on stdout with --json; else human
 * text on stdout and the error on stderr), frees what r owns and returns the
 * exit status. */
int cli_finish(cli *c, cli_result *r);

/* The exit status a result maps to. */
int cli_exit_status(const cli_result *r);

/* ------------------------------------------------------------ suggest.c */

/* The candidate closest to word if it is close enough to be a typo (a few
 * edits, swaps of neighbours included), else NULL. */
const char *cli_suggest(const char *word, const char *const *candidates, size_t n);

/* The entity types of the registry in use (malloc'd, NULL-terminated; *n
 * of them), or NULL when it cannot be read. Free with
 * cli_registry_types_free(). */
char **cli_registry_types(fk_ctx *ctx, size_t *n);
void cli_registry_types_free(char **names);

/* FK_OK when type is an entity type of the registry in use (or the registry
 * cannot be read: the operation will say why); else FK_EINVAL (a usage
 * error, exit 2) with a message in r listing the types, with "did you mean". */
int cli_check_type(fk_ctx *ctx, const char *type, cli_result *r);

/* ------------------------------------------------------------ output.c */

/* Writes s as a JSON string literal (null for NULL). */
void out_json_string(FILE *f, const char *s);

/* The items of a report, as fk_report_format()'s FK_REPORT_LAYOUT_ITEMS
 * prints them on stdout: those with the given code (preceded by a table of
 * their count per entity type) or, with code NULL, the problems (every item
 * with --verbose); at most `limit` (0 = 25, or all with --verbose). */
void out_items(const cli *c, const fk_report *report, const char *code, size_t limit,
               const char *indent);

/* Copies s into dst (cap bytes) cut to at most max code points (max >= 4),
 * marking a cut with "..."; returns dst. */
const char *out_cut(char *dst, size_t cap, const char *s, size_t max);

/* fk_json_diff()'s entries (a cJSON array), one "text" line each, cut to a
 * readable length; "(no change)" for none. */
struct cJSON;
void out_diff_lines(FILE *f, const struct cJSON *diff, const char *indent);

/* "1.2 s", "15 ms" */
const char *out_duration(char buf[32], double ms);

/* ------------------------------------------------------------ progress.c */

/* State of the progress bar of one long operation. */
typedef struct cli_progress {
    int draw;          /* stderr is a TTY and not --quiet/--json */
    double last_ms;
    int drawn;         /* something is on the line */
    /* the phase the rate is measured over: a drill imports, then verifies,
     * each counting from 0 (and a watch exports again and again) */
    char op[24];
    uint64_t phase_done;
    double phase_ms;
} cli_progress;

/* Prepares the bar; pass progress_cb and the state to the library. The
 * callback also cancels the operation after SIGINT/SIGTERM (see signals.c),
 * which the library then undoes. */
void progress_init(cli_progress *p, const cli *c);
int progress_cb(const fk_progress *progress, void *userdata);
/* Clears the bar's line. */
void progress_end(cli_progress *p);
/* The progress line for a terminal `width` columns wide, into buf (at most
 * width - 1 characters: writing the last column would wrap on some
 * terminals). rate < 0: not known yet. */
void progress_format(char *buf, size_t size, int width, const fk_progress *pr, double rate);

/* ------------------------------------------------------------ signals.c */

/* Set by SIGINT/SIGTERM once cli_signals_install() was called. */
extern volatile sig_atomic_t cli_stop_requested;

/* Catches SIGINT and SIGTERM: they set cli_stop_requested and wake poll() on
 * cli_signal_fd(), so long commands stop cleanly instead of dying. */
void cli_signals_install(void);

/* Readable after a caught signal (a self-pipe); -1 before installing. */
int cli_signal_fd(void);

/* Sleeps ms milliseconds or until a signal is caught. 0, or -1 if stopped. */
int cli_sleep_ms(long ms);

/* ------------------------------------------------------------ connect.c */

/* Where to connect: --db, else $FORTKNOX_DB (else the deprecated
 * $FORTKNOX_DSN, with a warning), else "" (libpq's PG* variables and
 * defaults). Never print it: it may hold a password. */
const char *cli_conninfo(const cli *c);

/* The registry file: --registry, else $FORTKNOX_REGISTRY, else NULL (the
 * built-in Parthenon registry). */
const char *cli_registry(const cli *c);

/* conninfo rewritten without its password (malloc'd; NULL when unparsable),
 * for the rare place that shows one (demo --keep). */
char *cli_conninfo_redacted(const char *conninfo);

/* Opens a context with the global options (flags: fk_open_flags). On failure
 * records the error in r and returns its status. */
int cli_open(cli *c, fk_ctx **ctx, unsigned flags, cli_result *r);

/* ------------------------------------------------------------ operation.c */

/* One library call: fills *report, uses progress (pass progress_cb and it to
 * the library), returns the library's status. */
typedef int (*cli_op_fn)(fk_report **report, fk_ctx *ctx, cli_progress *progress, void *arg);

/* Opens a context (fk_open_flags in open_flags), runs fn with the progress
 * bar and clean cancellation on SIGINT/SIGTERM, closes the context. r
 * receives the status, the report and, on failure, the message (fn's own,
 * when it recorded one in r, else the library's). Returns r->status. */
int cli_run_op(cli *c, cli_result *r, unsigned open_flags, cli_op_fn fn, void *arg);

/* ------------------------------------------------------------ install_info.c */

/* fk_install_status() as fields. */
typedef struct cli_install_info {
    int installed, capture, parthenon_table;
    char app_role[128]; /* "" = none */
    char *raw;          /* the JSON itself (fk_free) */
} cli_install_info;

/* Reads the install status. FK_OK, or the failure recorded in r. */
int cli_read_install(fk_ctx *ctx, cli_install_info *info, cli_result *r);
void cli_install_info_free(cli_install_info *info);

/* ------------------------------------------------------------ git.c */

/* Where the git work tree holding `dir` (or, when dir does not exist yet, its
 * nearest existing parent) starts. 0, or -1 with the reason in r. */
int git_toplevel(char **top, const char *dir, cli_result *r);

/* Whether git can name the author and committer of a commit in top
 * (user.name/user.email or the GIT_* variables): checked before exporting,
 * so that a commit cannot fail after everything was written and staged.
 * 0, or -1 with the reason in r. */
int git_check_identity(const char *top, cli_result *r);

/* Stages everything under dir (additions, changes, removals) and commits
 * exactly those paths with `message`; other staged files stay staged and
 * uncommitted. *commit receives the new commit's id, or NULL when nothing
 * under dir changed. 0, or -1 with the reason in r. */
int git_commit_dir(const cli *c, const char *top, const char *dir, const char *message,
                   char **commit, cli_result *r);

/* ------------------------------------------------------------ listen.c */

/* A libpq connection LISTENing on the channel "fortknox" (watch only). */
typedef struct cli_listener cli_listener;

int listener_new(cli_listener **out, const char *conninfo);
/* (Re)connects and LISTENs. 0, or -1 (listener_error() says why). */
int listener_connect(cli_listener *l);
/* The socket to poll, -1 when not connected. */
int listener_fd(const cli_listener *l);
/* Calls fn with each notification's payload that has arrived. 0, or -1 when
 * the connection is lost. */
int listener_drain(cli_listener *l, void (*fn)(const char *payload, void *userdata),
                   void *userdata);
/* A round trip on the connection, after which the notifications of every
 * transaction that committed before the call are readable by
 * listener_drain(). 0, or -1 when the connection is lost. */
int listener_sync(cli_listener *l);
const char *listener_error(const cli_listener *l);
void listener_free(cli_listener *l);

/* ------------------------------------------------------------ util.c */

/* Monotonic clock in milliseconds. */
double cli_now_ms(void);

/* printf into a new malloc'd string; NULL on no memory. */
char *cli_strdupf(const char *fmt, ...) CLI_PRINTF(1, 2);

/* ------------------------------------------------------------ commands */

/* cli_cmd_<id> of every command and group (commands.def registers them). */
#define CLI_COMMAND(id) extern const cli_command cli_cmd_##id;
#define CLI_GROUP(id) extern const cli_command cli_cmd_##id;
#include "commands.def"

/* The audit commands never read a design table: a design table locked by a
 * migration, or one that is missing, must not stop them (the registry is
 * resolved only if a call needs it). */
#define CLI_AUDIT_OPEN_FLAGS FK_OPEN_LAZY_REGISTRY

/* What an export is asked to do: the directory, and the losses acknowledged
 * (--accept-loss; NULL or empty: none); r, when given, receives the usage
 * error of an --accept-loss whose type the registry does not know. */
typedef struct cli_export_args {
    const char *dir;
    const cli_list *accept_loss;
    cli_result *r;
    int full; /* --full: read every type (FK_EXPORT_FULL) */
} cli_export_args;

/* fk_export() as a cli_op_fn, arg a cli_export_args (cmd_export.c; snapshot
 * and watch export the same way); and the --accept-loss option's checks
 * (0, or the usage error's exit status). */
int cli_op_export(fk_report **report, fk_ctx *ctx, cli_progress *progress, void *arg);
int cli_check_accept_loss(cli *c, const cli_list *accept);

/* The help of the tool as a whole (main.c). */
void cli_print_overview(FILE *f);

#endif /* FORTKNOX_CLI_H */
