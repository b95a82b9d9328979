/*
 * modulefile.h -- evaluates one Lua modulefile in a sandbox.
 *
 * The evaluator turns each call of Lmod's modulefile API into a plain
 * shelf_mf_call handed to a host (the engine, or a reader such as `show`),
 * which decides what the call means in the current mode. Queries
 * (isloaded, isAvail, os.getenv) are answered by the host too, so a
 * modulefile sees the environment as the command has changed it so far.
 */
#ifndef SHELF_MODULEFILE_H
#define SHELF_MODULEFILE_H

#include "shelf.h"

typedef struct shelf_mf_host {
    void *ud;
    /* Performs the call. Non-zero (a SHELF_E* code, with err set) aborts
     * the evaluation and the command. */
    int (*call)(void *ud, const shelf_mf_call *call, shelf_error *err);
    int (*is_loaded)(void *ud, const char *name);
    int (*is_avail)(void *ud, const char *name);
    const char *(*getenv)(void *ud, const char *name);
} shelf_mf_host;

/* Who is being evaluated, for myModuleName() and friends. */
typedef struct shelf_mf_info {
    const char *file;
    const char *fullname;
    const char *sn;
    const char *version;
    const char *usrname;
    shelf_mode mode;
    const char *shell; /* "bash", ... */
} shelf_mf_info;

typedef struct shelf_lua shelf_lua;

/* A Lua interpreter for one command, whose evaluations each get the
 * budgets of limits (NULL: the defaults, see shelf.h). NULL on OOM.
 * Its sandbox comes from and goes back to the sandbox pool
 * (shelf_sandbox_take, shelf_sandbox_give). */
shelf_lua *shelf_lua_new(const shelf_eval_limits *limits);
void shelf_lua_free(shelf_lua *lua);

/* Evaluates info->file (text Lua only, never bytecode) in a fresh sandbox
 * (shelf.h): nothing an earlier evaluation changed is seen. Returns 0;
 * SHELF_EIO when the file cannot be read; SHELF_EMODULEFILE for a syntax
 * or runtime error or a budget that ran out (the message says which and
 * how to raise it); SHELF_ELMODERROR for LmodError(); SHELF_ENOMEM when
 * malloc fails; or the code a host call returned. LmodError(), a failing
 * host call and the budgets cannot be caught by the modulefile's pcall.
 * err names the module, the file and the line. Re-entrant: a host call
 * may evaluate another modulefile, within what is left of this one's
 * time and instructions. */
int shelf_mf_eval(shelf_lua *lua, const shelf_mf_info *info,
                  const shelf_mf_host *host, shelf_error *err);

/* Lmod's pathJoin("a/", "/b", "c") -> "a/b/c" as a lua_CFunction: joins
 * its arguments with "/" and squeezes repeated slashes. Shared by the
 * modulefile and .modulerc.lua sandboxes. */
struct lua_State;
int shelf_lua_path_join(struct lua_State *L);
/* isDir(path) and isFile(path) (a directory; a regular file), as Lmod's:
 * shared by the modulefile and .modulerc.lua sandboxes. */
int shelf_lua_is_dir(struct lua_State *L);
int shelf_lua_is_file(struct lua_State *L);

#endif
