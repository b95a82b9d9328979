/*
 * change.c -- the changing subcommands of `shelf` (load, try-load, unload,
 * swap, purge, reload, refresh, use, unuse, reset, `ml` words): each turns
 * its words into one shelf_request, and cli_change_run() carries it out
 * with shelf_run() and prints what the shell must evaluate.
 *
 * Output contract (shelf.c's header): the shell's code on stdout only when
 * the command succeeded, then the messages on stderr; after an LmodWarning
 * the code stands and the failure idiom follows (exit status 1); on failure
 * only the failure idiom.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

extern char **environ;

static void cli_change_init(cli_change *c)
{
    memset(c, 0, sizeof *c);
    shelf_collection_init(&c->collection);
}

static void cli_change_free(cli_change *c)
{
    shelf_collection_free(&c->collection);
    cli_change_init(c);
}

/* The default request of a changing command: cmd's operation, the words as
 * arguments, the checks of their number. 0 or SHELF_EUSAGE (err says how to
 * call it). */
static int cli_prepare(const cli_command *cmd, char **args, int nargs, cli_change *c,
                       shelf_error *err)
{
    shelf_request *q = &c->q;
    q->op = cmd->op;
    q->args = args;
    q->nargs = (size_t)nargs;
    const char *name = cmd->name;
    switch (cmd->op) {
    case SHELF_OP_LOAD:
    case SHELF_OP_TRY_LOAD:
        if (nargs == 0) {
            shelf_error_set(err, SHELF_EUSAGE, NULL, NULL, 0,
                            "%s: name at least one module (see `module %s --help`)", name,
                            name);
            return SHELF_EUSAGE;
        }
        break;
    case SHELF_OP_USE:
    case SHELF_OP_UNUSE:
        if (nargs == 0) {
            shelf_error_set(err, SHELF_EUSAGE, NULL, NULL, 0,
                            "%s: name at least one directory", name);
            return SHELF_EUSAGE;
        }
        break;
    default:
        break;
    }
    return SHELF_OK;
}

void cli_print_failure(shelf_shell shell)
{
    shelf_buf b;
    shelf_buf_init(&b);
    shelf_emit_failure(shell, &b);
    if (b.len)
        fwrite(b.data, 1, b.len, stdout);
    shelf_buf_free(&b);
}

/* Prints the failure: the error on stderr, the shell's failure idiom on
 * stdout. Returns the exit status, 1. */
int cli_fail(const cli_opts *o, const shelf_error *err)
{
    cli_print_error(stderr, err);
    cli_print_failure(o->shell);
    return 1;
}

int cli_change_run(const cli_command *cmd, const cli_opts *o, char **args, int nargs,
                   const shelf_eval_limits *limits)
{
    cli_change c;
    cli_change_init(&c);
    shelf_error err = {0};
    shelf_result res;
    shelf_result_init(&res);
    shelf_buf out;
    shelf_buf_init(&out);
    int rc = (cmd->prepare ? cmd->prepare : cli_prepare)(cmd, args, nargs, &c, &err);
    c.q.shell = o->shell;
    c.q.force = o->force;
    c.q.recover = o->force && c.q.op == SHELF_OP_PURGE; /* out of a corrupt table */
    c.q.append = o->append;
    c.q.allow_changes = o->allow_changes;
    c.q.limits = limits;
    c.q.system_default = getenv("SHELF_SYSTEM_DEFAULT_MODULES"); /* read by a reset */
    c.q.keep_before = cli_following(o); /* what the shared context is told comes from it */
    if (rc == 0)
        rc = shelf_run(environ, &c.q, &res, &err);
    if (rc == 0)
        rc = shelf_emit(o->shell, &res.changes, &out, &err);
    int status = 0;
    if (rc == 0) {
        fwrite(out.data ? out.data : "", 1, out.len, stdout);
        if (c.note && !o->quiet)
            fprintf(o->out, "%s\n", c.note);
        for (size_t i = 0; !o->quiet && i < res.messages.n; i++)
            fprintf(stderr, "%s\n", res.messages.v[i]);
        cli_follow(&res, o);
        if (res.warned) {
            /* As Lmod: the changes stand, but the command reports failure. */
            cli_print_failure(o->shell);
            status = 1;
        }
    } else {
        status = cli_fail(o, &err);
    }
    shelf_buf_free(&out);
    shelf_result_free(&res);
    shelf_error_clear(&err);
    cli_change_free(&c);
    return status;
}
