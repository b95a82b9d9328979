/*
 * engine.h -- load, unload, swap, purge, reload, use and unuse as
 * transactions over a working copy of the caller's environment.
 *
 * Usage: shelf_engine_open() from the caller's environment, run one or more
 * operations, then shelf_engine_finish() to settle the hierarchy, write
 * the module table and get the changes to emit. When any step fails the
 * caller simply emits nothing: the real environment was never touched.
 */
#ifndef SHELF_ENGINE_H
#define SHELF_ENGINE_H

#include "envmodel.h"
#include "modulefile.h"
#include "shelf.h"
#include "spider.h"
#include "state.h"

typedef struct shelf_engine {
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
} shelf_engine;

/* Reads the module table from `environ_` (which must outlive e). Returns 0,
 * SHELF_ESTATE (corrupt table: err says how to recover; e is usable with an
 * empty table) or SHELF_ENOMEM; e must be closed in every case. */
int shelf_engine_open(shelf_engine *e, char **environ_, shelf_shell shell,
                      shelf_error *err);
/* Recovery from a corrupt table (`module --force purge`): drops the table
 * variables, LOADEDMODULES and _LMFILES_, and says that the settings made by
 * the modules loaded before remain. 0 or SHELF_ENOMEM. */
int shelf_engine_forget_table(shelf_engine *e, shelf_error *err);
void shelf_engine_close(shelf_engine *e);
/* The engine's Lua state, made on first use (commands that evaluate no
 * modulefile never pay for one). NULL when out of memory. */
shelf_lua *shelf_engine_lua(shelf_engine *e);

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
int shelf_engine_reload(shelf_engine *e, shelf_error *err);
/* Re-defines the aliases and shell functions of the loaded modules. */
int shelf_engine_refresh(shelf_engine *e, shelf_error *err);
int shelf_engine_use(shelf_engine *e, char *const *dirs, size_t n, int append,
                     shelf_error *err);
int shelf_engine_unuse(shelf_engine *e, char *const *dirs, size_t n,
                       shelf_error *err);

/* Collections (collection.h). snapshot fills c (initialised by the caller;
 * c->name is left alone) from the loaded table: the base MODULEPATH (what
 * a forced purge would leave), then every loaded module in load order with
 * the SHA-256 of its modulefile. e is not changed. 0, SHELF_EIO (a loaded
 * module's file cannot be read: err names it) or SHELF_ENOMEM. */
struct shelf_collection;
int shelf_engine_snapshot(shelf_engine *e, struct shelf_collection *c, shelf_error *err);
/* Restores c: unloads everything (sticky modules too, as Lmod), sets
 * MODULEPATH to c's base and loads each module at its recorded version,
 * every dependency before the modules that need it, marked as the user's or
 * as a dependency as recorded. Checks first (shelf_collection_check, and
 * that each name still resolves to the recorded file): on any difference
 * fails with SHELF_EDRIFT and a message listing them all, before anything
 * changes; with allow_changes, modules that vanished are left out, changed
 * ones are loaded, and each difference becomes a message. */
int shelf_engine_restore(shelf_engine *e, const struct shelf_collection *c,
                         int allow_changes, shelf_error *err);

/* ---- read modes: evaluating a modulefile without changing anything ----- */

/* Where the calls of a modulefile evaluated in a read mode go, in order.
 * call returns 0, or a SHELF_E* code (with err set) that ends the
 * evaluation with that code. */
typedef struct shelf_eval_sink {
    int (*call)(void *ud, const shelf_mf_call *c, shelf_error *err);
    void *ud;
} shelf_eval_sink;

/* Evaluates the Lua modulefile mf in `mode` (show, help, whatis, spider,
 * or load for a recording: mode() is what the modulefile sees) with e as
 * its host, handing every call to sink and performing none: e, its
 * environment and its table are unchanged. isloaded(), isAvail() and
 * os.getenv() answer from e, except in spider mode, which answers as a
 * fresh login would: nothing is loaded, and isAvail(name) is true when
 * name resolves with mf's own MODULEPATH directory alone. usrname is what
 * myModuleUsrName() says (NULL: the full name). Returns 0 or the code of
 * the failed evaluation (err names the file and line) or of the sink. */
int shelf_engine_read(shelf_engine *e, const shelf_modfile *mf, const char *usrname,
                      shelf_mode mode, const shelf_eval_sink *sink, shelf_error *err);

/* What spider mode tells of mf, added to rec (the one spider evaluation
 * behind the index, the catalog, avail, spider, keyword and shelfd). A Tcl
 * modulefile tells nothing (it is not evaluated). */
int shelf_engine_spider(shelf_engine *e, const shelf_modfile *mf, shelf_spider_rec *rec,
                        shelf_error *err);

/* What whatis or help mode (SHELF_MODE_WHATIS, SHELF_MODE_HELP) tells of
 * mf, added to rec. A Tcl modulefile is read, not evaluated: whatis gives
 * its module-whatis lines, help nothing. */
int shelf_engine_describe(shelf_engine *e, const shelf_modfile *mf, shelf_mode mode,
                          shelf_spider_rec *rec, shelf_error *err);

/* `show` of one modulefile. */
typedef struct shelf_show_dep {
    char *function;     /* "depends_on", "load", "prereq" ... */
    shelf_strv modules; /* its arguments */
} shelf_show_dep;

typedef struct shelf_show {
    shelf_strv lines;     /* each call as Lmod's show prints it; for a Tcl
                             modulefile (not evaluated) the file's lines */
    shelf_spider_rec rec; /* what the calls tell */
    shelf_show_dep *deps; /* the calls that load or need other modules */
    size_t ndeps;
    shelf_strv conflicts; /* the arguments of conflict() */
} shelf_show;

void shelf_show_init(shelf_show *s);
void shelf_show_free(shelf_show *s); /* then s is empty again */

/* Evaluates mf in show mode into out (initialised by the caller). 0,
 * SHELF_EIO, SHELF_ENOMEM or the modulefile's error; out then holds what
 * came before the failure. */
int shelf_engine_show(shelf_engine *e, const shelf_modfile *mf, const char *usrname,
                      shelf_show *out, shelf_error *err);

/* The modulefile `name` designates for whatis, help and show: the loaded
 * module of that name first (as Lmod), else what name resolves to on
 * MODULEPATH. Fills *mf (caller frees) and returns 0, or returns
 * shelf_resolve()'s error. */
int shelf_engine_find(shelf_engine *e, const char *name, shelf_modfile *mf,
                      shelf_error *err);

/* Settles the hierarchy (modules reloaded from a new level, made inactive
 * or reactivated after MODULEPATH changes), writes the module table and
 * appends the environment changes to out. */
int shelf_engine_finish(shelf_engine *e, shelf_changes *out, shelf_error *err);

/* ---- one command: a request in, a result out (command.c) ---------------- */

typedef enum shelf_op {
    SHELF_OP_LOAD,     /* args: the modules, as the user typed them */
    SHELF_OP_TRY_LOAD, /* the same; missing modules are skipped */
    SHELF_OP_UNLOAD,   /* args: the modules */
    SHELF_OP_SWAP,     /* args: [old] new */
    SHELF_OP_PURGE,
    SHELF_OP_RELOAD,
    SHELF_OP_REFRESH,
    SHELF_OP_USE,      /* args: directories */
    SHELF_OP_UNUSE,    /* args: directories */
    SHELF_OP_RESET,    /* everything unloaded, then system_default loaded */
    SHELF_OP_RESTORE,  /* collection */
    SHELF_OP_ML        /* args: `ml` words: -name unloads, name loads */
} shelf_op;

typedef struct shelf_request {
    shelf_op op;
    char *const *args;
    size_t nargs;
    shelf_shell shell;   /* what myShellName() says */
    int force;           /* sticky modules go too */
    int recover;         /* a module table that cannot be read is dropped, with a
                            message (`module --force purge`) instead of failing */
    int append;          /* USE: at the end of MODULEPATH */
    int allow_changes;   /* RESTORE: go ahead when the collection drifted */
    const struct shelf_collection *collection; /* RESTORE */
    const char *system_default; /* RESET: the modules to load, colon-separated, or NULL */
    const shelf_eval_limits *limits; /* budgets of each evaluation; NULL: the defaults */
} shelf_request;

typedef struct shelf_result {
    shelf_changes changes;   /* what to apply to the caller's environment */
    shelf_strv messages;     /* for the person, in order */
    int warned;              /* a modulefile warned: the changes stand, and the
                                command reports failure (as Lmod) */
    shelf_state before;      /* the loaded modules before the command */
    shelf_state after;       /* and after */
} shelf_result;

void shelf_result_init(shelf_result *r);
void shelf_result_free(shelf_result *r); /* then r is empty again */

/* Runs request q on a working copy of env (NULL-terminated "NAME=value"),
 * as one transaction. On success fills *out and returns 0; on failure
 * returns the SHELF_E* code with err naming the module, file and line,
 * and *out is empty: the caller applies nothing. */
int shelf_run(char *const *env, const shelf_request *q, shelf_result *out, shelf_error *err);

/* The current MODULEPATH as a list (refreshed from the environment). */
const shelf_strv *shelf_engine_modulepath(shelf_engine *e);
/* 1 if `name` designates an active loaded module. */
int shelf_engine_is_loaded(shelf_engine *e, const char *name);
/* 1 if `name` resolves on the current MODULEPATH (isAvail() of modulefiles). */
int shelf_engine_is_avail(shelf_engine *e, const char *name);

#endif
