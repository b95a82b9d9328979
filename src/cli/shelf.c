/*
 * shelf.c -- the `shelf` command: `shelf SHELL [OPTIONS] SUBCOMMAND [ARGS]`.
 *
 * Parses the command line, runs the subcommand on libshelf and prints:
 * code for SHELL on stdout (only when the command succeeded), and text
 * for the person on stderr. Exit status 0 on success, 1 on failure (then
 * stdout holds only the shell's failure idiom, so that `eval` fails too).
 * After an LmodWarning the changes stand: their code, then the failure
 * idiom, exit status 1. The json idiom is empty, so for json a document
 * on stdout with status 1 is a warning, an empty stdout a failure (the
 * Python module tells them apart so).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

extern char **environ;

typedef enum cmd_kind {
    CMD_LOAD, CMD_TRY_LOAD, CMD_UNLOAD, CMD_SWAP, CMD_PURGE, CMD_RELOAD,
    CMD_REFRESH, CMD_USE, CMD_UNUSE, CMD_RESET,
    CMD_LIST, CMD_AVAIL, CMD_SPIDER, CMD_WHATIS, CMD_HELP, CMD_SHOW,
    CMD_KEYWORD, CMD_IS_LOADED, CMD_IS_AVAIL,
    CMD_SAVE, CMD_SAVELIST, CMD_DESCRIBE, CMD_DISABLE, /* read commands up to here */
    CMD_RESTORE,
    CMD_VERSION
} cmd_kind;

struct command {
    const char *name; /* canonical name first, then its aliases */
    cmd_kind kind;
};

static const struct command COMMANDS[] = {
    {"load", CMD_LOAD}, {"add", CMD_LOAD},
    {"try-load", CMD_TRY_LOAD}, {"try-add", CMD_TRY_LOAD},
    {"unload", CMD_UNLOAD}, {"del", CMD_UNLOAD}, {"rm", CMD_UNLOAD},
    {"delete", CMD_UNLOAD}, {"remove", CMD_UNLOAD},
    {"swap", CMD_SWAP}, {"switch", CMD_SWAP}, {"sw", CMD_SWAP},
    {"purge", CMD_PURGE}, {"reload", CMD_RELOAD}, {"refresh", CMD_REFRESH},
    {"use", CMD_USE}, {"unuse", CMD_UNUSE}, {"reset", CMD_RESET},
    {"list", CMD_LIST}, {"avail", CMD_AVAIL}, {"av", CMD_AVAIL},
    {"spider", CMD_SPIDER}, {"whatis", CMD_WHATIS}, {"help", CMD_HELP},
    {"show", CMD_SHOW}, {"display", CMD_SHOW},
    {"keyword", CMD_KEYWORD}, {"search", CMD_KEYWORD},
    {"is-loaded", CMD_IS_LOADED}, {"is_loaded", CMD_IS_LOADED},
    {"is-avail", CMD_IS_AVAIL}, {"is_avail", CMD_IS_AVAIL},
    {"save", CMD_SAVE}, {"restore", CMD_RESTORE}, {"savelist", CMD_SAVELIST},
    {"describe", CMD_DESCRIBE}, {"mcc", CMD_DESCRIBE}, {"disable", CMD_DISABLE},
};
#define NCOMMANDS (sizeof COMMANDS / sizeof COMMANDS[0])

/* The command `word` names exactly or by a unique prefix; NULL if none.
 * *ambiguous is set when several commands share the prefix. */
static const struct command *find_command(const char *word, int *ambiguous)
{
    const struct command *hit = NULL;
    size_t n = strlen(word);
    *ambiguous = 0;
    if (n == 0)
        return NULL;
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (strcmp(COMMANDS[i].name, word) == 0)
            return &COMMANDS[i];
    for (size_t i = 0; i < NCOMMANDS; i++) {
        if (strncmp(COMMANDS[i].name, word, n) != 0)
            continue;
        if (hit && hit->kind != COMMANDS[i].kind)
            *ambiguous = 1;
        hit = &COMMANDS[i];
    }
    return *ambiguous ? NULL : hit;
}

static const char *canonical_name(cmd_kind kind)
{
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (COMMANDS[i].kind == kind)
            return COMMANDS[i].name;
    return "?";
}

void cli_print_error(FILE *out, const shelf_error *err)
{
    fprintf(out, "shelf: error: %s\n",
            err->message ? err->message : shelf_strerror(err->code));
    if (err->file && err->line > 0)
        fprintf(out, "  in %s, line %d%s%s%s\n", err->file, err->line,
                err->module ? " (module " : "", err->module ? err->module : "",
                err->module ? ")" : "");
    else if (err->file)
        fprintf(out, "  in %s%s%s%s\n", err->file, err->module ? " (module " : "",
                err->module ? err->module : "", err->module ? ")" : "");
}

shelf_index_check cli_index_check(void)
{
    return shelf_index_check_from(getenv("SHELF_INDEX_CHECK"));
}

/* Parses one option word; returns 1 if it was one. */
static int parse_option(cli_opts *o, const char *w, int *want_version, int *want_help)
{
    if (strcmp(w, "-t") == 0 || strcmp(w, "--terse") == 0)
        o->terse = 1;
    else if (strcmp(w, "-d") == 0 || strcmp(w, "--default") == 0)
        o->defaults = 1;
    else if (strcmp(w, "-f") == 0 || strcmp(w, "--force") == 0)
        o->force = 1;
    else if (strcmp(w, "-q") == 0 || strcmp(w, "--quiet") == 0)
        o->quiet = 1;
    else if (strcmp(w, "--show-hidden") == 0 || strcmp(w, "--show_hidden") == 0)
        o->show_hidden = 1;
    else if (strcmp(w, "--json") == 0)
        o->json = 1;
    else if (strcmp(w, "--version") == 0 || strcmp(w, "-v") == 0 ||
             strcmp(w, "-V") == 0)
        *want_version = 1;
    else if (strcmp(w, "--help") == 0 || strcmp(w, "-h") == 0 || strcmp(w, "-?") == 0)
        *want_help = 1;
    else
        return 0;
    return 1;
}

/* `shelf launch ...` is its own program (it links libuv, which the module
 * commands must not pay for at start-up): exec $SHELF_LIBEXEC/shelf-launch,
 * else the installed one. Returns only on failure. */
static int exec_launch(char **argv)
{
    const char *dir = getenv("SHELF_LIBEXEC");
    if (!dir || !*dir)
        dir = SHELF_LIBEXECDIR;
    size_t n = strlen(dir) + sizeof "/shelf-launch";
    char *path = malloc(n);
    if (!path) {
        fprintf(stderr, "shelf: error: out of memory\n");
        return 1;
    }
    snprintf(path, n, "%s/shelf-launch", dir);
    argv[0] = path;
    execv(path, argv);
    fprintf(stderr, "shelf: error: cannot run %s: %s\n", path, strerror(errno));
    free(path);
    return 1;
}

static void print_version(FILE *out)
{
    fprintf(out, "Shelf %s: environment modules, compatible with Lmod's Lua modulefiles\n",
            PACKAGE_VERSION);
}

static void print_messages(const shelf_engine *e, const cli_opts *o)
{
    if (o->quiet)
        return;
    for (size_t i = 0; i < e->messages.n; i++)
        fprintf(stderr, "%s\n", e->messages.v[i]);
}

/* `ml` words -> a subcommand: no words = list; a command name = that
 * command; else unload every -name and load every other name. */
static int ml_split(char **args, int nargs, shelf_strv *loads, shelf_strv *unloads)
{
    for (int i = 0; i < nargs; i++) {
        int rc = args[i][0] == '-' && args[i][1]
                     ? shelf_strv_push(unloads, args[i] + 1)
                     : shelf_strv_push(loads, args[i]);
        if (rc < 0)
            return rc;
    }
    return SHELF_OK;
}

static int run_change(shelf_engine *e, const cli_opts *o, cmd_kind kind,
                      char **args, int nargs, shelf_error *err)
{
    switch (kind) {
    case CMD_LOAD:
    case CMD_TRY_LOAD:
        if (nargs == 0) {
            shelf_error_set(err, SHELF_EUSAGE, NULL, NULL, 0,
                            "%s: name at least one module (see `module %s --help`)",
                            canonical_name(kind), canonical_name(kind));
            return SHELF_EUSAGE;
        }
        return shelf_engine_load(e, args, (size_t)nargs, kind == CMD_TRY_LOAD, err);
    case CMD_UNLOAD:
        return shelf_engine_unload(e, args, (size_t)nargs, err);
    case CMD_SWAP:
        if (nargs < 1 || nargs > 2) {
            shelf_error_set(err, SHELF_EUSAGE, NULL, NULL, 0,
                            "swap: use `module swap OLD NEW` or `module swap NEW`");
            return SHELF_EUSAGE;
        }
        return shelf_engine_swap(e, args[0], nargs == 2 ? args[1] : NULL, err);
    case CMD_PURGE:
        return shelf_engine_purge(e, err);
    case CMD_RELOAD:
        return shelf_engine_reload(e, err);
    case CMD_REFRESH:
        return shelf_engine_refresh(e, err);
    case CMD_USE:
    case CMD_UNUSE:
        if (nargs == 0) {
            shelf_error_set(err, SHELF_EUSAGE, NULL, NULL, 0,
                            "%s: name at least one directory", canonical_name(kind));
            return SHELF_EUSAGE;
        }
        return kind == CMD_USE ? shelf_engine_use(e, args, (size_t)nargs, o->append, err)
                               : shelf_engine_unuse(e, args, (size_t)nargs, err);
    case CMD_RESET:
        return cli_system_default(e, err);
    case CMD_RESTORE:
        return cli_restore(e, o, args, nargs, err);
    default:
        return SHELF_EUSAGE;
    }
}

static int fail(const cli_opts *o, const shelf_error *err)
{
    cli_print_error(stderr, err);
    shelf_buf b;
    shelf_buf_init(&b);
    shelf_emit_failure(o->shell, &b);
    if (b.len)
        fwrite(b.data, 1, b.len, stdout);
    shelf_buf_free(&b);
    return 1;
}

static int run_read(shelf_engine *e, const cli_opts *o, cmd_kind kind,
                    char **args, int nargs)
{
    switch (kind) {
    case CMD_LIST: return cli_list(e, o, args, nargs);
    case CMD_AVAIL: return cli_avail(e, o, args, nargs);
    case CMD_SPIDER: return cli_spider(e, o, args, nargs);
    case CMD_KEYWORD: return cli_keyword(e, o, args, nargs);
    case CMD_WHATIS: return cli_whatis(e, o, args, nargs);
    case CMD_HELP: return cli_help_module(e, o, args, nargs);
    case CMD_SHOW: return cli_show(e, o, args, nargs);
    case CMD_IS_LOADED: return cli_is_loaded(e, o, args, nargs);
    case CMD_IS_AVAIL: return cli_is_avail(e, o, args, nargs);
    case CMD_SAVE: return cli_save(e, o, args, nargs);
    case CMD_SAVELIST: return cli_savelist(e, o, args, nargs);
    case CMD_DESCRIBE: return cli_describe(e, o, args, nargs);
    case CMD_DISABLE: return cli_disable(e, o, args, nargs);
    default: return 1;
    }
}

static int is_read(cmd_kind kind)
{
    return kind >= CMD_LIST && kind <= CMD_DISABLE;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        cli_usage(stderr);
        return 1;
    }
    cli_opts o;
    memset(&o, 0, sizeof o);
    o.out = stderr;
    o.json_out = getenv("SHELF_EVAL") ? stderr : stdout;
    int want_version = 0, want_help = 0;
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "-h") == 0) {
        if (argv[1][2] == 'v')
            print_version(stdout);
        else
            cli_usage(stdout);
        return 0;
    }
    /* SHELF_EVAL_*: the budgets of each modulefile evaluation */
    shelf_eval_limits limits;
    shelf_error limits_err = {0};
    if (strcmp(argv[1], "index") == 0 || strcmp(argv[1], "export") == 0) {
        if (shelf_eval_limits_from_env(&limits, environ, &limits_err) < 0) {
            cli_print_error(stderr, &limits_err);
            shelf_error_clear(&limits_err);
            return 1;
        }
        return argv[1][0] == 'i' ? cli_index(argc - 2, argv + 2, &limits) /* prints no code */
                                 : cli_export(argc - 2, argv + 2, &limits); /* a script */
    }
    if (strcmp(argv[1], "launch") == 0) /* shelf launch ARGS: shelf-launch ARGS */
        return exec_launch(argv + 1);
    o.shell = shelf_shell_from_name(argv[1]);
    if (o.shell == SHELF_SH_UNKNOWN) {
        fprintf(stderr, "shelf: error: unknown shell \"%s\" (one of bash zsh sh ksh "
                        "csh tcsh fish python json)\nusage: shelf SHELL [OPTIONS] "
                        "SUBCOMMAND [ARGS...]; see `shelf --help`\n", argv[1]);
        return 1;
    }
    if (shelf_eval_limits_from_env(&limits, environ, &limits_err) < 0) {
        int st = fail(&o, &limits_err);
        shelf_error_clear(&limits_err);
        return st;
    }
    int i = 2, is_ml = 0;
    if (i < argc && strcmp(argv[i], "ml") == 0) {
        is_ml = 1;
        i++;
    }
    while (i < argc && argv[i][0] == '-' &&
           parse_option(&o, argv[i], &want_version, &want_help))
        i++;
    if (want_version) {
        print_version(stderr);
        return 0;
    }
    const struct command *cmd = NULL;
    int ambiguous = 0;
    if (i < argc && !(is_ml && argv[i][0] == '-'))
        cmd = find_command(argv[i], &ambiguous);
    if (!cmd && !is_ml) {
        if (want_help || i >= argc) {
            cli_usage(stderr);
            return want_help ? 0 : 1;
        }
        shelf_error uerr = {0};
        shelf_error_set(&uerr, SHELF_EUSAGE, NULL, NULL, 0,
                        "%s subcommand \"%s\"; see `module --help`",
                        ambiguous ? "ambiguous" : "unknown", argv[i]);
        int st = fail(&o, &uerr);
        shelf_error_clear(&uerr);
        return st;
    }
    cmd_kind kind = cmd ? cmd->kind : CMD_LOAD;
    if (cmd)
        i++;
    else if (is_ml && i >= argc)
        kind = CMD_LIST;
    /* Options may also follow the subcommand (`module avail -t`, `use -a`). */
    char **args = argv + i;
    int nargs = argc - i;
    int w = 0;
    for (int k = 0; k < nargs; k++) {
        const char *a = args[k];
        if ((kind == CMD_USE) && (strcmp(a, "-a") == 0 || strcmp(a, "--append") == 0))
            o.append = 1;
        else if ((kind == CMD_USE) && (strcmp(a, "-p") == 0 || strcmp(a, "--prepend") == 0))
            o.append = 0;
        else if (kind == CMD_RESTORE && strcmp(a, "--allow-changes") == 0)
            o.allow_changes = 1;
        else if (cmd && a[0] == '-' && parse_option(&o, a, &want_version, &want_help))
            continue;
        else
            args[w++] = args[k];
    }
    nargs = w;
    if (want_help) {
        if (!cmd || cli_command_help(stderr, canonical_name(kind)) != 0)
            cli_usage(stderr);
        return 0;
    }
    shelf_engine e;
    shelf_error err = {0};
    int status = 0;
    shelf_changes changes;
    shelf_changes_init(&changes);
    shelf_buf out;
    shelf_buf_init(&out);
    int rc = shelf_engine_open(&e, environ, o.shell, &err);
    e.force = o.force;
    e.limits = limits;
    if (rc == SHELF_ESTATE && kind == CMD_PURGE && o.force) {
        shelf_error_clear(&err);
        rc = shelf_engine_forget_table(&e, &err);
    }
    if (rc == 0 && is_read(kind)) {
        status = run_read(&e, &o, kind, args, nargs);
        print_messages(&e, &o);
        if (status != 0 && !o.json) {
            /* As Lmod: `eval "$(shelf bash is-loaded x)"` must fail too
             * (with --json, stdout holds only the JSON document). */
            shelf_emit_failure(o.shell, &out);
            fwrite(out.data ? out.data : "", 1, out.len, stdout);
        }
    } else if (rc == 0) {
        if (is_ml && !cmd) {
            shelf_strv loads, unloads;
            shelf_strv_init(&loads);
            shelf_strv_init(&unloads);
            rc = ml_split(args, nargs, &loads, &unloads);
            if (rc == 0 && unloads.n)
                rc = shelf_engine_unload(&e, unloads.v, unloads.n, &err);
            if (rc == 0 && loads.n)
                rc = shelf_engine_load(&e, loads.v, loads.n, 0, &err);
            shelf_strv_free(&loads);
            shelf_strv_free(&unloads);
            if (rc == SHELF_ENOMEM)
                shelf_error_set(&err, rc, NULL, NULL, 0, "out of memory");
        } else {
            rc = run_change(&e, &o, kind, args, nargs, &err);
        }
        if (rc == 0)
            rc = shelf_engine_finish(&e, &changes, &err);
        if (rc == 0)
            rc = shelf_emit(o.shell, &changes, &out, &err);
        if (rc == 0) {
            fwrite(out.data ? out.data : "", 1, out.len, stdout);
            print_messages(&e, &o);
            cli_follow(&e, &o);
            if (e.warned) {
                /* As Lmod: the changes stand, but the command reports failure. */
                shelf_buf_reset(&out);
                shelf_emit_failure(o.shell, &out);
                fwrite(out.data ? out.data : "", 1, out.len, stdout);
                status = 1;
            }
        }
    }
    if (rc < 0)
        status = fail(&o, &err);
    if (fflush(stdout) != 0 && status == 0) {
        fprintf(stderr, "shelf: error: cannot write to standard output\n");
        status = 1;
    }
    shelf_buf_free(&out);
    shelf_changes_free(&changes);
    shelf_error_clear(&err);
    shelf_engine_close(&e);
    return status;
}
