/*
 * sandbox.h -- the one Lua sandbox of libshelf: modulefiles, .modulerc.lua
 * files and the launcher's launch.lua all run in it (internal header).
 *
 * A sandbox is a Lua state whose memory is capped, plus a template of the
 * globals sandboxed code may see. Each evaluation runs one text file in a
 * fresh environment copied from the template, with its own copies of the
 * library tables (string, table, math, utf8, os) and its own string
 * metatable, so nothing one file changes is seen by the next; it runs
 * under an instruction budget and a wall-clock deadline that Lua code,
 * the pattern matcher (pattern.h) and the library loops that the count
 * hook does not see (string.rep, table.insert, remove, move, sort) all
 * report to.
 *
 * The pcall policy: pcall and xpcall catch ordinary Lua errors, but not
 * an abort: a budget running out (instructions, time, memory) or
 * shelf_sandbox_abort() (LmodError, a failing host call). An abort ends
 * the evaluation, whatever the code tries.
 *
 * What every evaluation sees: assert error ipairs next pairs pcall xpcall
 * select tonumber tostring type rawequal rawget rawlen rawset
 * setmetatable (refusing __gc: a finalizer would run after the
 * evaluation) getmetatable _VERSION _G require (of string, table, math,
 * utf8 only), string, table, math, utf8, os (date, time, clock, difftime),
 * and what the caller installs. Never io, load, dofile, the debug library
 * or coroutines.
 */
#ifndef SHELF_SANDBOX_H
#define SHELF_SANDBOX_H

#include <lua.h>

#include "shelf.h"

typedef struct shelf_sandbox shelf_sandbox;

/* Makes a sandbox with the limits (NULL or zero fields: the defaults of
 * shelf.h). install, when not NULL, is called once in protected mode with
 * the template environment table as its argument 1, to add the caller's
 * globals (its C functions find their evaluation with shelf_sandbox_ud;
 * a table it adds is copied afresh for each evaluation, one level deep).
 * NULL when out of memory or when install raised an error. */
shelf_sandbox *shelf_sandbox_new(const shelf_eval_limits *limits, lua_CFunction install);
void shelf_sandbox_free(shelf_sandbox *sb);
lua_State *shelf_sandbox_lua(shelf_sandbox *sb);

typedef enum shelf_sandbox_status {
    SHELF_SANDBOX_OK,
    SHELF_SANDBOX_SYNTAX,       /* the text does not compile */
    SHELF_SANDBOX_ERROR,        /* a Lua error nothing caught */
    SHELF_SANDBOX_ABORTED,      /* shelf_sandbox_abort() */
    SHELF_SANDBOX_INSTRUCTIONS, /* the instruction budget ran out */
    SHELF_SANDBOX_TIME,         /* the deadline passed */
    SHELF_SANDBOX_MEMORY,       /* the state's memory cap was reached */
    SHELF_SANDBOX_NOMEM         /* malloc itself failed */
} shelf_sandbox_status;

/* One evaluation. */
typedef struct shelf_sandbox_run {
    const char *file;  /* the chunk is named "@file": messages say file:line */
    const char *text;  /* the file's text (never bytecode: refused) */
    size_t len;
    void *ud;          /* what shelf_sandbox_ud() gives the caller's functions */
    int nresults;      /* values of the chunk's return kept on success */
    int line;          /* out: the line where it failed, 0 when unknown */
} shelf_sandbox_run;

/* Evaluates run->text. Returns a status; on SHELF_SANDBOX_OK the nresults
 * values are pushed, on SHELF_SANDBOX_NOMEM nothing, otherwise one string:
 * Lua's message ("file:line: text") for SYNTAX and ERROR, for a budget
 * what ran out and how to raise it ("ran over its time budget (10 s;
 * ...)": the caller names the file), for ABORTED nothing useful (the
 * caller recorded why). The caller pops what was pushed. run->line is the
 * line of the abort or of the uncaught error, when known. Re-entrant: a
 * host call of a running evaluation may start another one, which gets its
 * own budget but never more time or instructions than the outer one has
 * left. */
int shelf_sandbox_eval(shelf_sandbox *sb, shelf_sandbox_run *run);

/* The ud of the evaluation running in L. Raises a Lua error when none is
 * running (a function called from outside any evaluation). */
void *shelf_sandbox_ud(lua_State *L);

/* Ends the running evaluation with SHELF_SANDBOX_ABORTED, past every pcall
 * (the caller has recorded why). Never returns; raises a plain error when
 * no evaluation is running. */
int shelf_sandbox_abort(lua_State *L);

#endif
