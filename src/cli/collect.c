/*
 * collect.c -- the collection subcommands: save, restore, savelist,
 * describe and disable (libshelf's collections, in shelf.h, do the storing and
 * checking; the engine does the restoring).
 *
 * save, savelist, describe and disable change nothing in the environment:
 * they print for the person on stderr (or JSON on o->json_out with --json).
 * restore is a changing command: cli_prepare_restore reads the collection
 * into the request that change.c runs.
 */
#include "config.h"

#include <cJSON.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "shelf.h"

#define DEFAULT_NAME "default"

static int usage(const cli_opts *o, const char *text)
{
    shelf_error err = {SHELF_EUSAGE, (char *)text, NULL, NULL, 0};
    cli_print_error(o->out, &err);
    return 1;
}

static int failed(const cli_opts *o, shelf_error *err)
{
    cli_print_error(o->out, err);
    shelf_error_clear(err);
    return 1;
}

/* The name from args (at most one), or "default". NULL after a usage error. */
static const char *one_name(const cli_opts *o, const char *cmd, char **args, int nargs,
                            int required)
{
    if (nargs > 1 || (required && nargs == 0)) {
        fprintf(o->out, "shelf: error: %s: name %s collection (see `module %s --help`)\n", cmd,
                required ? "one" : "at most one", cmd);
        return NULL;
    }
    return nargs ? args[0] : DEFAULT_NAME;
}

int cli_save(shelf_engine *e, const cli_opts *o, char **args, int nargs)
{
    const char *name = one_name(o, "save", args, nargs, 0);
    if (!name)
        return 1;
    shelf_error err = {0};
    if (shelf_collection_name_check(name, &err) < 0)
        return failed(o, &err);
    char *dir = NULL;
    if (shelf_collection_dir(environ, &dir, &err) < 0)
        return failed(o, &err);
    shelf_collection c;
    shelf_collection_init(&c);
    int rc = shelf_engine_snapshot(e, name, &c, &err);
    if (rc == 0)
        rc = shelf_collection_write(dir, &c, &err);
    if (rc == 0 && !o->quiet) {
        size_t inactive = 0;
        const shelf_state *st = shelf_engine_state(e);
        for (size_t i = 0; i < st->n; i++)
            inactive += !st->mods[i].active;
        fprintf(o->out, "Saved current collection of modules to: \"%s\" (%zu module%s)\n",
                name, c.n, c.n == 1 ? "" : "s");
        if (inactive)
            fprintf(o->out, "  (%zu inactive module%s left out: not loadable from the "
                            "current MODULEPATH)\n",
                    inactive, inactive == 1 ? "" : "s");
        if (c.n == 0)
            fprintf(o->out, "  (no modules are loaded: restoring it unloads everything)\n");
    }
    shelf_collection_free(&c);
    free(dir);
    return rc < 0 ? failed(o, &err) : 0;
}

int cli_savelist(shelf_engine *e, const cli_opts *o, char **args, int nargs)
{
    (void)e;
    (void)args;
    if (nargs > 0)
        return usage(o, "savelist takes no arguments");
    shelf_error err = {0};
    char *dir = NULL;
    if (shelf_collection_dir(environ, &dir, &err) < 0)
        return failed(o, &err);
    shelf_strv names;
    shelf_strv_init(&names);
    int rc = shelf_collection_names(dir, &names, &err);
    if (rc == 0 && o->json) {
        cJSON *a = cJSON_CreateArray();
        int ok = a != NULL;
        for (size_t i = 0; ok && i < names.n; i++) {
            cJSON *s = cJSON_CreateString(names.v[i]);
            ok = s && cJSON_AddItemToArray(a, s);
            if (!ok)
                cJSON_Delete(s);
        }
        char *text = ok ? shelf_json_text(a, 0) : NULL;
        if (text)
            fprintf(o->json_out, "%s\n", text);
        else
            rc = SHELF_ENOMEM;
        free(text);
        cJSON_Delete(a);
    } else if (rc == 0 && o->terse) {
        for (size_t i = 0; i < names.n; i++)
            fprintf(o->out, "%s\n", names.v[i]);
    } else if (rc == 0 && names.n == 0) {
        fprintf(o->out, "No named collections (`module save NAME` makes one).\n");
    } else if (rc == 0) {
        fprintf(o->out, "Named collection list:\n");
        for (size_t i = 0; i < names.n; i++)
            fprintf(o->out, "  %zu) %s\n", i + 1, names.v[i]);
    }
    if (rc == SHELF_ENOMEM)
        shelf_oom(&err);
    shelf_strv_free(&names);
    free(dir);
    return rc < 0 ? failed(o, &err) : 0;
}

static int describe_json(FILE *f, const shelf_collection *c, const shelf_drift *d, size_t nd)
{
    cJSON *doc = shelf_json_collection(c, d, nd);
    char *out = shelf_json_text(doc, 1);
    cJSON_Delete(doc);
    if (!out)
        return SHELF_ENOMEM;
    fprintf(f, "%s\n", out);
    free(out);
    return SHELF_OK;
}

int cli_describe(shelf_engine *e, const cli_opts *o, char **args, int nargs)
{
    (void)e;
    const char *name = one_name(o, "describe", args, nargs, 0);
    if (!name)
        return 1;
    shelf_error err = {0};
    shelf_collection c;
    int rc = shelf_collection_read_named(environ, name, &c, &err);
    if (rc < 0)
        return failed(o, &err);
    shelf_drift *d = NULL;
    size_t nd = 0;
    rc = shelf_collection_check(&c, &d, &nd, &err);
    if (rc == 0 && o->json) {
        rc = describe_json(o->json_out, &c, d, nd);
        if (rc < 0)
            shelf_oom(&err);
    } else if (rc == 0 && o->terse) {
        for (size_t i = 0; i < c.n; i++)
            fprintf(o->out, "%s\n", c.mods[i].fullname);
    } else if (rc == 0) {
        FILE *f = o->out;
        fprintf(f, "Collection \"%s\"", c.name);
        if (c.created)
            fprintf(f, ", saved %s", c.created);
        if (c.shelf_version)
            fprintf(f, " by shelf %s", c.shelf_version);
        fprintf(f, "\n  MODULEPATH:");
        for (size_t i = 0; i < c.modulepath.n; i++)
            fprintf(f, "%s%s", i ? ":" : " ", c.modulepath.v[i]);
        fprintf(f, "%s\n", c.modulepath.n ? "" : " (empty)");
        if (c.n == 0)
            fprintf(f, "  No modules: restoring it unloads everything.\n");
        else
            fprintf(f, "  Modules, in load order:\n");
        size_t width = 0;
        for (size_t i = 0; i < c.n; i++)
            if (strlen(c.mods[i].fullname) > width)
                width = strlen(c.mods[i].fullname);
        for (size_t i = 0; i < c.n; i++) {
            const shelf_coll_mod *m = &c.mods[i];
            fprintf(f, "  %2zu) %-*s  ", i + 1, (int)width, m->fullname);
            if (m->user_loaded)
                fprintf(f, "loaded by the user");
            else
                fprintf(f, "dependency");
            for (size_t k = 0; k < m->needed_by.n; k++)
                fprintf(f, "%s%s", k ? ", " : (m->user_loaded ? "; needed by " : " of "),
                        m->needed_by.v[k]);
            fprintf(f, "\n       %-*s  %s\n       %-*s  sha256 %s\n", (int)width, "",
                    m->file, (int)width, "", m->sha256);
        }
        if (nd == 0 && c.n)
            fprintf(f, "Every modulefile is as it was when saved.\n");
        else if (nd)
            fprintf(f, "Changes since the save (`module restore %s` stops on these; "
                       "--allow-changes goes ahead):\n",
                    c.name);
        for (size_t i = 0; i < nd; i++)
            fprintf(f, "  %s: %s\n", shelf_drift_word(d[i].kind), d[i].detail);
    }
    shelf_drifts_free(d, nd);
    shelf_collection_free(&c);
    return rc < 0 ? failed(o, &err) : 0;
}

int cli_disable(shelf_engine *e, const cli_opts *o, char **args, int nargs)
{
    (void)e;
    const char *name = one_name(o, "disable", args, nargs, 1);
    if (!name)
        return 1;
    shelf_error err = {0};
    if (shelf_collection_delete_named(environ, name, &err) < 0)
        return failed(o, &err);
    if (!o->quiet)
        fprintf(o->out, "Deleted collection \"%s\"\n", name);
    return 0;
}

int cli_prepare_restore(const cli_command *cmd, char **args, int nargs, cli_change *c,
                        shelf_error *err)
{
    (void)cmd;
    if (nargs > 1) {
        shelf_error_set(err, SHELF_EUSAGE, NULL, NULL, 0,
                        "restore: name at most one collection (see `module restore --help`)");
        return SHELF_EUSAGE;
    }
    const char *name = nargs ? args[0] : DEFAULT_NAME;
    int rc = shelf_collection_read_named(environ, name, &c->collection, err);
    if (rc == SHELF_ENOTFOUND && nargs == 0) {
        /* No default collection: the system's default set, as `reset`. */
        shelf_error_clear(err);
        const char *dflt = getenv("SHELF_SYSTEM_DEFAULT_MODULES");
        c->q.op = SHELF_OP_RESET;
        c->note = dflt && *dflt ? "No collection \"default\": restored the system default "
                                  "modules (SHELF_SYSTEM_DEFAULT_MODULES)"
                                : "No collection \"default\": restored the system default "
                                  "modules (none are set)";
        return SHELF_OK;
    }
    if (rc < 0)
        return rc;
    c->q.op = SHELF_OP_RESTORE;
    c->q.collection = &c->collection;
    return SHELF_OK;
}
