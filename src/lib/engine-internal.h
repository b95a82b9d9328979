/*
 * engine-internal.h -- the engine's insides (engine.c, command.c), for
 * libshelf's own files: the struct behind shelf_engine, opening one on the
 * stack, and the operations shelf_run() carries out. Front ends use
 * shelf_engine_new() and shelf_run() (shelf.h).
 *
 * Usage: shelf_engine_open() from the caller's environment, run one or more
 * operations, then shelf_engine_finish() to settle the hierarchy, write
 * the module table and get the changes to emit. When any step fails the
 * caller simply emits nothing: the real environment was never touched.
 */
#ifndef SHELF_ENGINE_INTERNAL_H
#define SHELF_ENGINE_INTERNAL_H

#include "envmodel.h"
#include "modulefile.h"
#include "shelf.h"
#include "state.h"

struct shelf_engine {
    shelf_env env;
    shelf_state st;
    shelf_lua *lua;
    shelf_resolver *resolver; /* what resolving has read of the trees */
    shelf_shell shell;
    shelf_strv messages;   /* text for the person, printed on success */
    shelf_strv modulepath; /* MODULEPATH split, refreshed on change */
    char *modulepath_text; /* the value modulepath was split from */
    char *start_modulepath; /* MODULEPATH when the command started */
    int depth;             /* nesting of load/unload from modulefiles */
    int force;             /* --force: purge sticky modules too */
    shelf_eval_limits limits; /* budgets of each modulefile evaluation (zero:
                                 defaults); set before the first evaluation */
    int warned;            /* a modulefile called LmodWarning() */
    shelf_strv sticky_kept; /* sticky modules an unload or purge kept */
    struct engine_frame *frame; /* the module being evaluated */
};

/* Reads the module table from env (which must outlive e); each evaluation
 * gets the budgets of limits (NULL: the defaults). Returns 0, SHELF_ESTATE
 * (corrupt table: err says how to recover; e is usable with an empty
 * table) or SHELF_ENOMEM; e must be closed in every case. */
int shelf_engine_open(shelf_engine *e, char *const *env, shelf_shell shell,
                      const shelf_eval_limits *limits, shelf_error *err);
/* Recovery from a corrupt table (`module --force purge`): drops the table
 * variables, LOADEDMODULES and _LMFILES_, and says that the settings made by
 * the modules loaded before remain. 0 or SHELF_ENOMEM. */
int shelf_engine_forget_table(shelf_engine *e, shelf_error *err);
void shelf_engine_close(shelf_engine *e);

/* Loads the modules named (as the user typed them), in order. With
 * `try_mode` missing modules are skipped; otherwise every name is looked
 * up first and an unknown one fails the whole command. */
int shelf_engine_load(shelf_engine *e, char *const *names, size_t n,
                      int try_mode, shelf_error *err);
/* Unloads the named modules; a name that is not loaded is not an error. */
int shelf_engine_unload(shelf_engine *e, char *const *names, size_t n,
                        shelf_error *err);
/* swap a b; with b == NULL, `a` names the new module and the loaded one
 * with the same short name is replaced. */
int shelf_engine_swap(shelf_engine *e, const char *a, const char *b,
                      shelf_error *err);
int shelf_engine_purge(shelf_engine *e, shelf_error *err);
/* Purges sticky modules too, whatever e->force says (restore and reset, as
 * Lmod's). */
int shelf_engine_purge_all(shelf_engine *e, shelf_error *err);
int shelf_engine_reload(shelf_engine *e, shelf_error *err);
/* Re-defines the aliases and shell functions of the loaded modules. */
int shelf_engine_refresh(shelf_engine *e, shelf_error *err);
int shelf_engine_use(shelf_engine *e, char *const *dirs, size_t n, int append,
                     shelf_error *err);
int shelf_engine_unuse(shelf_engine *e, char *const *dirs, size_t n,
                       shelf_error *err);

/* Restores c: unloads everything (sticky modules too, as Lmod), sets
 * MODULEPATH to c's base and loads each module at its recorded version,
 * every dependency before the modules that need it, marked as the user's or
 * as a dependency as recorded. Checks first (shelf_collection_check, and
 * that each name still resolves to the recorded file): on any difference
 * fails with SHELF_EDRIFT and a message listing them all, before anything
 * changes; with allow_changes, modules that vanished are left out, changed
 * ones are loaded, and each difference becomes a message. */
int shelf_engine_restore(shelf_engine *e, const shelf_collection *c,
                         int allow_changes, shelf_error *err);

/* Settles the hierarchy (modules reloaded from a new level, made inactive
 * or reactivated after MODULEPATH changes), writes the module table and
 * appends the environment changes to out. */
int shelf_engine_finish(shelf_engine *e, shelf_changes *out, shelf_error *err);

#endif
