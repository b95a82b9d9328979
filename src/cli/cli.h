/*
 * cli.h -- the pieces of the `shelf` command: argument handling and
 * dispatch (shelf.c), the read-only subcommands (read.c) and the help
 * texts (help.c). Everything meant for the person goes to stderr; stdout
 * carries only code for the shell named on the command line.
 */
#ifndef SHELF_CLI_H
#define SHELF_CLI_H

#include <stdio.h>

#include "shelf.h"

typedef struct cli_opts {
    shelf_shell shell;
    int terse;     /* -t: one entry a line, for scripts */
    int defaults;  /* -d: avail shows default versions only */
    int force;     /* -f/--force */
    int quiet;     /* -q: no informational messages */
    int show_hidden; /* --show_hidden / -a: include hidden modules */
    int append;    /* use -a */
    int json;      /* --json: machine-readable output on stdout */
    int allow_changes; /* restore --allow-changes */
    FILE *out;     /* where read commands print (stderr) */
    FILE *json_out; /* where --json documents go: stdout, but stderr when
                     * SHELF_EVAL is set (the init files' `module` set it:
                     * their stdout is evaluated as code) */
} cli_opts;

/* Read commands. Each returns the process exit status (0 success, 1
 * failure) and prints its own error messages to o->out. `args` are the
 * words after the subcommand. */
int cli_list(shelf_engine *e, const cli_opts *o, char **args, int nargs);
int cli_avail(shelf_engine *e, const cli_opts *o, char **args, int nargs);
int cli_spider(shelf_engine *e, const cli_opts *o, char **args, int nargs);
int cli_keyword(shelf_engine *e, const cli_opts *o, char **args, int nargs);
int cli_whatis(shelf_engine *e, const cli_opts *o, char **args, int nargs);
int cli_help_module(shelf_engine *e, const cli_opts *o, char **args, int nargs);
int cli_show(shelf_engine *e, const cli_opts *o, char **args, int nargs);
int cli_is_loaded(shelf_engine *e, const cli_opts *o, char **args, int nargs);
int cli_is_avail(shelf_engine *e, const cli_opts *o, char **args, int nargs);

/* `shelf index ARGS...` (index.c): argv holds the words after "index";
 * limits are the budgets of each modulefile evaluation. Returns the exit
 * status. */
int cli_index(int argc, char **argv, const shelf_eval_limits *limits);

/* ---- the command table (shelf.c) and the changing commands (change.c) -- */

typedef int (*cli_read_fn)(shelf_engine *e, const cli_opts *o, char **args, int nargs);

enum {
    CLI_CHANGE = 1,            /* changes the environment: a request for shelf_run() */
    CLI_OPT_APPEND = 2,        /* takes -a/--append and -p/--prepend (use) */
    CLI_OPT_ALLOW_CHANGES = 4  /* takes --allow-changes (restore) */
};

/* What a changing command hands to shelf_run(), with what it holds for it. */
typedef struct cli_change {
    shelf_request q;
    shelf_collection collection; /* restore: the collection read */
    const char *note;            /* printed after success, unless -q */
} cli_change;

struct cli_command;
typedef int (*cli_prepare_fn)(const struct cli_command *cmd, char **args, int nargs,
                              cli_change *c, shelf_error *err);

/* One subcommand: git's commands[] row. */
typedef struct cli_command {
    const char *name;             /* canonical name (help texts are keyed by it) */
    const char *const *aliases;   /* NULL-terminated, or NULL */
    unsigned flags;               /* CLI_* */
    shelf_op op;                  /* CLI_CHANGE: the operation */
    cli_read_fn read;             /* read commands */
    cli_prepare_fn prepare;       /* CLI_CHANGE: fills the request (NULL: the
                                     operation with the words as arguments,
                                     their number checked) */
} cli_command;

/* Runs a changing command and prints what the shell evaluates (see
 * change.c). Returns the exit status. */
int cli_change_run(const cli_command *cmd, const cli_opts *o, char **args, int nargs,
                   const shelf_eval_limits *limits);
/* The failure of a command: the error on stderr, the shell's failure idiom
 * on stdout. Returns 1. */
int cli_fail(const cli_opts *o, const shelf_error *err);
/* The shell's failure idiom alone, on stdout (the command's message, if
 * any, is already out). */
void cli_print_failure(shelf_shell shell);

/* Collections (collect.c). save, savelist, describe and disable are read
 * commands (exit status; they change no environment). restore is a
 * changing command: cli_prepare_restore reads the collection named (or
 * "default") into the request; with no name and no default collection it
 * is a `reset` (the system default modules), with a note saying so. */
int cli_save(shelf_engine *e, const cli_opts *o, char **args, int nargs);
int cli_savelist(shelf_engine *e, const cli_opts *o, char **args, int nargs);
int cli_describe(shelf_engine *e, const cli_opts *o, char **args, int nargs);
int cli_disable(shelf_engine *e, const cli_opts *o, char **args, int nargs);
int cli_prepare_restore(const cli_command *cmd, char **args, int nargs, cli_change *c,
                        shelf_error *err);

/* `shelf export ARGS...` (export.c): argv holds the words after "export".
 * Prints a script that recreates the current environment's modules, or a
 * collection's, without shelf. Returns the exit status. */
int cli_export(int argc, char **argv, const shelf_eval_limits *limits);

/* A shell sharing a shelfd context (follow.c): when SHELF_CONTEXT_SOCKET is
 * set and the output is a shell's code, sends the change a successful
 * command made to the loaded modules (res->after against res->before) to
 * that context. Warnings on stderr; the command's own
 * outcome is unchanged. */
void cli_follow(const shelf_result *res, const cli_opts *o);
/* 1 when cli_follow would send (it needs the result's `before`). */
int cli_following(const cli_opts *o);

/* Help texts (help.c). cli_usage prints the overview; cli_command_help
 * prints the help of one subcommand (canonical name) and returns 0, or
 * returns 1 when there is none. */
void cli_usage(FILE *out);
int cli_command_help(FILE *out, const char *command);

/* How indexes are checked before they are trusted: SHELF_INDEX_CHECK=dirs
 * in the environment asks for every directory (shelf.c). */
shelf_index_check cli_index_check(void);

/* Prints an error the way every subcommand does:
 *   shelf: error: MESSAGE
 *     (module M, file F, line L)                                        */
void cli_print_error(FILE *out, const shelf_error *err);

#endif
