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

/* The subcommands, git-style: one row each, the canonical name first.
 * Changing commands (CLI_CHANGE) become a request for shelf_run(); read
 * commands run on an engine opened on the environment and change nothing. */
static const char *const LOAD_ALIASES[] = {"add", NULL};
static const char *const TRY_LOAD_ALIASES[] = {"try-add", NULL};
static const char *const UNLOAD_ALIASES[] = {"del", "rm", "delete", "remove", NULL};
static const char *const SWAP_ALIASES[] = {"switch", "sw", NULL};
static const char *const AVAIL_ALIASES[] = {"av", NULL};
static const char *const SHOW_ALIASES[] = {"display", NULL};
static const char *const KEYWORD_ALIASES[] = {"search", NULL};
static const char *const IS_LOADED_ALIASES[] = {"is_loaded", NULL};
static const char *const IS_AVAIL_ALIASES[] = {"is_avail", NULL};
static const char *const DESCRIBE_ALIASES[] = {"mcc", NULL};

#define CHANGE(name, aliases, op, flags) {name, aliases, CLI_CHANGE | (flags), op, NULL, NULL}
#define READ(name, aliases, fn) {name, aliases, 0, SHELF_OP_LOAD, fn, NULL}

static const cli_command COMMANDS[] = {
    CHANGE("load", LOAD_ALIASES, SHELF_OP_LOAD, 0),
    CHANGE("try-load", TRY_LOAD_ALIASES, SHELF_OP_TRY_LOAD, 0),
    CHANGE("unload", UNLOAD_ALIASES, SHELF_OP_UNLOAD, 0),
    CHANGE("swap", SWAP_ALIASES, SHELF_OP_SWAP, 0),
    CHANGE("purge", NULL, SHELF_OP_PURGE, 0),
    CHANGE("reload", NULL, SHELF_OP_RELOAD, 0),
    CHANGE("refresh", NULL, SHELF_OP_REFRESH, 0),
    CHANGE("use", NULL, SHELF_OP_USE, CLI_OPT_APPEND),
    CHANGE("unuse", NULL, SHELF_OP_UNUSE, 0),
    CHANGE("reset", NULL, SHELF_OP_RESET, 0),
    {"restore", NULL, CLI_CHANGE | CLI_OPT_ALLOW_CHANGES, SHELF_OP_RESTORE, NULL,
     cli_prepare_restore},
    READ("list", NULL, cli_list),
    READ("avail", AVAIL_ALIASES, cli_avail),
    READ("spider", NULL, cli_spider),
    READ("whatis", NULL, cli_whatis),
    READ("help", NULL, cli_help_module),
    READ("show", SHOW_ALIASES, cli_show),
    READ("keyword", KEYWORD_ALIASES, cli_keyword),
    READ("is-loaded", IS_LOADED_ALIASES, cli_is_loaded),
    READ("is-avail", IS_AVAIL_ALIASES, cli_is_avail),
    READ("save", NULL, cli_save),
    READ("savelist", NULL, cli_savelist),
    READ("describe", DESCRIBE_ALIASES, cli_describe),
    READ("disable", NULL, cli_disable),
};
#define NCOMMANDS (sizeof COMMANDS / sizeof COMMANDS[0])

/* `ml` words that name no command: unload every -name, load the others. */
static const cli_command ML = CHANGE("ml", NULL, SHELF_OP_ML, 0);

/* 1 if word is the command's name or one of its aliases (exactly, or by
 * prefix when prefix is set). */
static int names(const cli_command *c, const char *word, int prefix)
{
    size_t n = strlen(word);
    if (prefix ? strncmp(c->name, word, n) == 0 : strcmp(c->name, word) == 0)
        return 1;
    for (const char *const *a = c->aliases; a && *a; a++)
        if (prefix ? strncmp(*a, word, n) == 0 : strcmp(*a, word) == 0)
            return 1;
    return 0;
}

/* The command `word` names exactly or by a unique prefix; NULL if none.
 * *ambiguous is set when several commands share the prefix. */
static const cli_command *find_command(const char *word, int *ambiguous)
{
    const cli_command *hit = NULL;
    *ambiguous = 0;
    if (!*word)
        return NULL;
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (names(&COMMANDS[i], word, 0))
            return &COMMANDS[i];
    for (size_t i = 0; i < NCOMMANDS; i++) {
        if (!names(&COMMANDS[i], word, 1))
            continue;
        if (hit && hit != &COMMANDS[i])
            *ambiguous = 1;
        hit = &COMMANDS[i];
    }
    return *ambiguous ? NULL : hit;
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

/* A read command on an engine opened on the environment: it prints for the
 * person and changes nothing. On failure the shell's `eval` must fail too
 * (as Lmod's `eval "$(module is-loaded x)"`), except with --json, whose
 * stdout holds only the document. */
static int run_read(const cli_command *cmd, const cli_opts *o, char **args, int nargs,
                    const shelf_eval_limits *limits)
{
    shelf_engine *e;
    shelf_error err = {0};
    int rc = shelf_engine_new(environ, o->shell, limits, &e, &err);
    int status;
    if (rc < 0) {
        status = cli_fail(o, &err);
    } else {
        status = cmd->read(e, o, args, nargs);
        if (status != 0 && !o->json)
            cli_print_failure(o->shell);
    }
    shelf_error_clear(&err);
    shelf_engine_free(e);
    return status;
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
        int st = cli_fail(&o, &limits_err);
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
    const cli_command *cmd = NULL;
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
        int st = cli_fail(&o, &uerr);
        shelf_error_clear(&uerr);
        return st;
    }
    if (cmd)
        i++;
    else if (i >= argc) /* `ml` alone lists */
        cmd = find_command("list", &ambiguous);
    else
        cmd = &ML;
    /* Options may also follow the subcommand (`module avail -t`, `use -a`). */
    char **args = argv + i;
    int nargs = argc - i;
    int w = 0;
    for (int k = 0; k < nargs; k++) {
        const char *a = args[k];
        if ((cmd->flags & CLI_OPT_APPEND) && (strcmp(a, "-a") == 0 || strcmp(a, "--append") == 0))
            o.append = 1;
        else if ((cmd->flags & CLI_OPT_APPEND) &&
                 (strcmp(a, "-p") == 0 || strcmp(a, "--prepend") == 0))
            o.append = 0;
        else if ((cmd->flags & CLI_OPT_ALLOW_CHANGES) && strcmp(a, "--allow-changes") == 0)
            o.allow_changes = 1;
        else if (cmd != &ML && a[0] == '-' && parse_option(&o, a, &want_version, &want_help))
            continue;
        else
            args[w++] = args[k];
    }
    nargs = w;
    if (want_help) {
        if (cmd == &ML || cli_command_help(stderr, cmd->name) != 0)
            cli_usage(stderr);
        return 0;
    }
    int status = cmd->flags & CLI_CHANGE ? cli_change_run(cmd, &o, args, nargs, &limits)
                                         : run_read(cmd, &o, args, nargs, &limits);
    if (fflush(stdout) != 0 && status == 0) {
        fprintf(stderr, "shelf: error: cannot write to standard output\n");
        status = 1;
    }
    return status;
}
