/*
 * export.c -- `shelf export [--collection NAME] --format FORMAT [-o FILE]`:
 * a script that recreates the environment of the loaded modules (or of a
 * collection) where shelf is not installed: batch jobs, containers.
 *
 * The environment the modules make is a difference between two
 * environments, computed with the engine and never applied here:
 *   env0 = this environment after a forced purge (no module loaded);
 *   env1 = this environment (the loaded modules), or env0 with the
 *          collection restored (--collection).
 * The aliases and shell functions, and the variables the modules unset
 * (which no purge brings back), come from evaluating the loaded modulefiles
 * with a host that only records (record_modules), or from the restore.
 * libshelf's export.c turns env0 -> env1, plus the aliases and shell
 * functions of the modules (from a refresh, or from the restore), into the
 * script. The script goes to stdout, or with -o to FILE through a
 * temporary file renamed into place. Exit status: 0 success; 1 failure
 * (a module, the collection, writing); 2 bad usage. Nothing goes to
 * stdout on failure.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "shelf.h"

extern char **environ;

#define USAGE "usage: shelf export [--collection NAME] --format FORMAT [-o FILE]\n"

static void help(FILE *out)
{
    fputs(USAGE
          "\n"
          "Prints a script that recreates the environment of the loaded modules (or,\n"
          "with --collection, of a saved collection) where shelf is not installed:\n"
          "for batch jobs and containers.\n"
          "\n"
          "The script applies what the modules changed, not this machine's whole\n"
          "environment: a path variable the modules only extended (PATH, MANPATH,\n"
          "MODULEPATH, ...: the value without the modules is a contiguous part of the\n"
          "value with them, or the name ends in PATH and was unset) gets the modules'\n"
          "entries in front of and after the value it has where the script runs (an\n"
          "unset or empty one gets them alone); every other variable is set or unset\n"
          "as the modules left it. LOADEDMODULES and _LMFILES_ are set whole; shelf's\n"
          "private _SHELF_* variables are left out, so shelf sees no module loaded.\n"
          "Aliases and shell functions of the modules follow, for the shells.\n"
          "Each script starts with a comment naming the modules, the collection, the\n"
          "shelf version and the date ($SOURCE_DATE_EPOCH when set).\n"
          "\n"
          "Formats:\n"
          "  sh bash zsh ksh   source with `. FILE`\n"
          "  csh tcsh fish     source with `source FILE`\n"
          "  python            exec(open(FILE).read()): changes os.environ\n"
          "                    (variables only)\n"
          "  json              one document:\n"
          "                      {\"format\": 1, \"generator\": \"shelf VERSION\",\n"
          "                       \"created\": DATE, \"collection\": NAME or null,\n"
          "                       \"modules\": [full names, in load order],\n"
          "                       \"set\": {NAME: value},\n"
          "                       \"prepend\": {NAME: [entries]},\n"
          "                       \"append\": {NAME: [entries]},\n"
          "                       \"unset\": [NAME],\n"
          "                       \"aliases\": {name: command line},\n"
          "                       \"functions\": {name: {\"sh\": body,\n"
          "                                            \"csh\": body or null}}}\n"
          "                    new value of a prepend/append NAME = prepend +\n"
          "                    (current value split at ':', none when unset or\n"
          "                    empty) + append, joined with ':'. Bytes that are not\n"
          "                    UTF-8 are written as \\udcXX (Python's surrogateescape).\n"
          "  preamble-python   a notebook's first cell: `import shelf` and\n"
          "                    shelf.load() of every module at its exact version, in\n"
          "                    load order (needs shelf and the trees at run time)\n"
          "\n"
          "Options:\n"
          "  --format FORMAT       the language of the script (required)\n"
          "  --collection NAME     the modules of collection NAME (see `module\n"
          "                        save`) instead of the loaded ones\n"
          "  -o, --output FILE     write FILE (atomically) instead of stdout\n"
          "  -h, --help            this help\n"
          "\n"
          "With no module loaded (and no --collection) the script changes nothing\n"
          "and says so; a note goes to stderr and the exit status is 0.\n"
          "Exit status: 0 success, 1 failure, 2 bad usage.\n"
          "\n"
          "Example:\n"
          "  $ module load gcc/12.3.0 openmpi\n"
          "  $ shelf export --format bash -o job-env.sh\n"
          "  $ sbatch --wrap '. ./job-env.sh && mpirun ./app'\n",
          out);
}

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("shelf: error: ", stderr);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs("\n" USAGE "See `shelf export --help`.\n", stderr);
    return 2;
}

/* Now in UTC, or $SOURCE_DATE_EPOCH for reproducible output. */
static char *timestamp(void)
{
    time_t t = time(NULL);
    const char *sde = getenv("SOURCE_DATE_EPOCH");
    if (sde && *sde) {
        char *end;
        errno = 0;
        long long v = strtoll(sde, &end, 10);
        if (!*end && errno == 0 && v >= 0)
            t = (time_t)v;
    }
    struct tm tm;
    char buf[64];
    if (!gmtime_r(&t, &tm) || strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        return strdup("unknown date");
    return strdup(buf);
}

/* Adds (or replaces: the last definition wins) an alias or function. */
static int put_named(shelf_changes *named, shelf_change_kind kind, const char *name,
                     const char *value, const char *value2)
{
    for (size_t i = 0; i < named->n; i++) {
        shelf_change *c = &named->items[i];
        if (c->kind != kind || strcmp(c->name, name) != 0)
            continue;
        char *v = value ? strdup(value) : NULL, *v2 = value2 ? strdup(value2) : NULL;
        if ((value && !v) || (value2 && !v2)) {
            free(v);
            free(v2);
            return SHELF_ENOMEM;
        }
        free(c->value);
        free(c->value2);
        c->value = v;
        c->value2 = v2;
        return SHELF_OK;
    }
    return shelf_changes_add(named, kind, name, value, value2);
}

/* Copies the aliases and functions the changes define into x->named, and
 * the active loaded modules of e into x->modules. */
static int take_modules(shelf_export *x, const shelf_state *st, const shelf_changes *c,
                        shelf_error *err)
{
    for (size_t i = 0; i < c->n; i++) {
        const shelf_change *ch = &c->items[i];
        if ((ch->kind == SHELF_CHANGE_ALIAS || ch->kind == SHELF_CHANGE_FUNC) &&
            put_named(&x->named, ch->kind, ch->name, ch->value, ch->value2) < 0)
            return shelf_oom(err);
    }
    for (size_t i = 0; i < st->n; i++)
        if (st->mods[i].active && shelf_strv_push(&x->modules, st->mods[i].fullname) < 0)
            return shelf_oom(err);
    return SHELF_OK;
}

/*
 * What the loaded modules define that the environment does not show:
 * alias and function bodies, and the variables they unset (Lmod's
 * unsetenv() is not undone by an unload, so a purge cannot reveal them).
 * Each loaded modulefile is evaluated as for a load, in the engine's read
 * mode: its calls are recorded, none is performed.
 */
typedef struct recorder {
    shelf_export *x;
    shelf_strv *unsets;
} recorder;

static int record_call(void *ud, const shelf_mf_call *c, shelf_error *err)
{
    recorder *r = ud;
    char *const *a = c->args.v;
    int rc = SHELF_OK;
    if (c->fn == SHELF_FN_UNSETENV && c->args.n >= 1)
        rc = shelf_strv_find(r->unsets, a[0]) >= 0 ? 0 : shelf_strv_push(r->unsets, a[0]);
    else if (c->fn == SHELF_FN_SET_ALIAS && c->args.n >= 2)
        rc = put_named(&r->x->named, SHELF_CHANGE_ALIAS, a[0], a[1], NULL);
    else if (c->fn == SHELF_FN_SET_SHELL_FUNCTION && c->args.n >= 2)
        rc = put_named(&r->x->named, SHELF_CHANGE_FUNC, a[0], a[1],
                       c->args.n > 2 ? a[2] : NULL);
    return rc < 0 ? shelf_oom(err) : SHELF_OK;
}

static int record_modules(shelf_engine *e, shelf_export *x, shelf_strv *unsets,
                          shelf_error *err)
{
    recorder r = {x, unsets};
    shelf_eval_sink sink = {record_call, &r};
    const shelf_state *st = shelf_engine_state(e);
    for (size_t i = 0; i < st->n; i++) {
        const shelf_loaded *m = &st->mods[i];
        if (!m->active)
            continue;
        if (shelf_strv_push(&x->modules, m->fullname) < 0)
            return shelf_oom(err);
        shelf_modfile mf = {.fullname = m->fullname, .sn = m->sn, .version = m->version,
                            .path = m->file, .mpath = m->mpath};
        int rc = shelf_engine_read(e, &mf, m->usrname, SHELF_MODE_LOAD, &sink, err);
        if (rc < 0)
            return rc;
    }
    return SHELF_OK;
}

/* env0: the environment after a forced purge. With x (the loaded
 * modules are exported), first records the loaded modules, their aliases,
 * functions and unset variables into x and unsets. */
static int environment_without_modules(shelf_shell sh, const shelf_eval_limits *limits,
                                       shelf_export *x, shelf_strv *unsets,
                                       shelf_strv *env0, shelf_error *err)
{
    int rc = SHELF_OK;
    if (x) {
        shelf_engine *e;
        rc = shelf_engine_new(environ, sh, limits, &e, err);
        if (rc == 0)
            rc = record_modules(e, x, unsets, err);
        shelf_engine_free(e);
    }
    shelf_request q = {.op = SHELF_OP_PURGE, .shell = sh, .force = 1, .limits = limits};
    shelf_result res;
    shelf_result_init(&res);
    if (rc == 0)
        rc = shelf_run(environ, &q, &res, err);
    if (rc == 0 && shelf_export_apply(environ, &res.changes, env0) < 0)
        rc = shelf_oom(err);
    shelf_result_free(&res);
    return rc;
}

/* The collection restored on env0 gives env1. */
static int collection_modules(shelf_shell sh, const shelf_eval_limits *limits,
                              const char *name, shelf_strv *env0,
                              shelf_export *x, shelf_strv *env1, shelf_error *err)
{
    shelf_collection coll;
    int rc = shelf_collection_read_named(environ, name, &coll, err);
    if (rc < 0)
        return rc; /* coll is empty */
    shelf_request q = {.op = SHELF_OP_RESTORE, .shell = sh, .collection = &coll,
                       .limits = limits};
    shelf_result res;
    rc = shelf_run(env0->v, &q, &res, err);
    if (rc == 0)
        rc = take_modules(x, &res.after, &res.changes, err);
    if (rc == 0 && shelf_export_apply(env0->v, &res.changes, env1) < 0)
        rc = shelf_oom(err);
    shelf_result_free(&res);
    shelf_collection_free(&coll);
    return rc;
}

int cli_export(int argc, char **argv, const shelf_eval_limits *limits)
{
    const char *format = NULL, *collection = NULL, *output = NULL;
    const shelf_opt opts[] = {
        SHELF_OPTS_STRING("format", 0, &format, SHELF_OPT_ONCE),
        SHELF_OPTS_STRING("collection", 0, &collection, SHELF_OPT_ONCE),
        SHELF_OPTS_STRING("output", 'o', &output, SHELF_OPT_ONCE),
        SHELF_OPTS_STOP("help", 'h', 1),
        SHELF_OPTS_END,
    };
    shelf_error uerr = {0};
    int urc = shelf_opts_parse(opts, &argc, argv, 0, &uerr);
    if (urc > 0) {
        help(stdout);
        return 0;
    }
    if (urc < 0) {
        usage_error("%s", uerr.message ? uerr.message : shelf_strerror(urc));
        shelf_error_clear(&uerr);
        return 2;
    }
    if (argc > 0)
        return usage_error("unexpected argument \"%s\"", argv[0]);
    if (!format)
        return usage_error("%s", "--format is required (sh bash zsh ksh csh tcsh fish "
                                 "python json preamble-python)");
    shelf_export_format f = shelf_export_format_from_name(format);
    if (f == SHELF_EXPORT_UNKNOWN)
        return usage_error("unknown format \"%s\" (one of sh bash zsh ksh csh tcsh "
                           "fish python json preamble-python)", format);
    if (output && !*output)
        return usage_error("%s", "-o needs a file name");

    shelf_error err = {0};
    if (collection && shelf_collection_name_check(collection, &err) < 0) {
        cli_print_error(stderr, &err);
        shelf_error_clear(&err);
        fputs(USAGE, stderr);
        return 2;
    }

    shelf_shell sh = shelf_export_format_shell(f);
    shelf_export x;
    shelf_export_init(&x);
    shelf_strv env0, env1;
    shelf_strv_init(&env0);
    shelf_strv_init(&env1);
    shelf_buf out;
    shelf_buf_init(&out);
    shelf_strv unsets;
    shelf_strv_init(&unsets);
    int rc = environment_without_modules(sh, limits, collection ? NULL : &x, &unsets, &env0,
                                         &err);
    if (rc == 0 && collection)
        rc = collection_modules(sh, limits, collection, &env0, &x, &env1, &err);
    if (rc == 0 && collection && !(x.collection = strdup(collection)))
        rc = shelf_oom(&err);
    if (rc == 0 && !(x.created = timestamp()))
        rc = shelf_oom(&err);
    if (rc == 0 && shelf_export_diff(&x, env0.v, collection ? env1.v : environ) < 0)
        rc = shelf_oom(&err);
    for (size_t i = 0; rc == 0 && i < unsets.n; i++)
        if (!getenv(unsets.v[i]) && shelf_export_unset(&x, unsets.v[i]) < 0)
            rc = shelf_oom(&err);
    if (rc == 0)
        rc = shelf_export_write(&x, f, SHELF_DATADIR "/python", &out, &err);

    int status = 0;
    if (rc < 0) {
        cli_print_error(stderr, &err);
        status = 1;
    } else if (output) {
        status = shelf_write_atomic(output, out.data ? out.data : "", out.len, 0666, &err) < 0;
        if (status)
            cli_print_error(stderr, &err);
        else
            fprintf(stderr, "shelf: wrote the %s script to %s\n", format, output);
    } else {
        fwrite(out.data ? out.data : "", 1, out.len, stdout);
        if (fflush(stdout) != 0 || ferror(stdout)) {
            fprintf(stderr, "shelf: error: cannot write to standard output\n");
            status = 1;
        }
    }
    if (status == 0 && !collection && x.modules.n == 0)
        fprintf(stderr, "shelf: no modules are loaded: the script changes nothing\n");
    shelf_buf_free(&out);
    shelf_strv_free(&env0);
    shelf_strv_free(&env1);
    shelf_strv_free(&unsets);
    shelf_export_free(&x);
    shelf_error_clear(&err);
    return status;
}
