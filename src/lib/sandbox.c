/*
 * sandbox.c -- the Lua sandbox every kind of site code runs in (see
 * the sandbox in shelf.h for what it offers and promises).
 *
 * Data: a shelf_sandbox owns one lua_State (allocator sb_alloc, which caps
 * what the state holds while an evaluation runs), the template environment
 * (in the registry under TEMPLATE_KEY) and a stack of frames, one per
 * running evaluation, linked through the C stack (sb->frame is the
 * innermost). The state's extra space points back at the sandbox. An
 * evaluation's environment is a table of its own whose metatable reads
 * the template through and copies a library on first use (push_env).
 *
 * Invariants:
 *  - sb->insns only grows: it counts the instructions (count hook, every
 *    HOOK_EVERY) and the steps the matcher and the costed library
 *    functions report. A frame's insn_stop and deadline are absolute, and
 *    never beyond its outer frame's.
 *  - Once a frame's abort is a budget status, every hook, every charge
 *    and every pcall of that evaluation raises again, so nothing the code
 *    does (pcall, xpcall, __close handlers) gets it running again.
 *  - Outside evaluations the strings have the stock string metatable and
 *    no sandboxed code runs: the sandbox's setmetatable refuses __gc, so no
 *    finalizer of the site's code exists.
 */
#include "config.h"

#include <errno.h>
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pattern.h"
#include "shelf.h"
#include "shelf-internal.h"

#define HOOK_EVERY 1000

typedef struct sb_frame {
    struct sb_frame *outer;
    shelf_sandbox_run *run;
    unsigned long long insn_stop; /* stop when sb->insns reaches it */
    int64_t deadline;             /* CLOCK_MONOTONIC, ns */
    int status;                   /* the outcome, set at the end */
    int abort;                    /* 0, SHELF_SANDBOX_ABORTED or a budget status */
    int abort_line;               /* where the abort happened */
    int err_line;                 /* where an uncaught error was raised */
} sb_frame;

struct shelf_sandbox {
    lua_State *L;
    void *state_block;         /* the allocation L lies inside (see sb_alloc) */
    shelf_eval_limits limits;  /* defaults filled in */
    size_t used;               /* bytes the state holds */
    int real_oom;              /* malloc failed during the current evaluation */
    int refused_line;          /* where the cap last refused an allocation */
    unsigned long long insns;
    sb_frame *frame;           /* innermost running evaluation, or NULL */
    lua_CFunction install;     /* the caller's globals, while building */
    lua_CFunction made_with;   /* the install it was built with (the pool's key) */
    shelf_pattern_budget budget;
};

static const char TEMPLATE_KEY = 0;

/* The libraries every evaluation gets a copy of, and may require(). */
static const char *const LIBRARIES[] = {LUA_STRLIBNAME, LUA_TABLIBNAME, LUA_MATHLIBNAME,
                                        LUA_UTF8LIBNAME, NULL};

enum cost { COST_REP, COST_MOVE, COST_INSERT, COST_REMOVE, COST_SORT };

static shelf_sandbox *sandbox_of(lua_State *L)
{
    return *(shelf_sandbox **)lua_getextraspace(L);
}

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Stops frame f with status at line, unless it is stopped already (the
 * first reason stands). */
static void stop(sb_frame *f, int status, int line)
{
    if (!f->abort) {
        f->abort = status;
        f->abort_line = line;
    }
}

static int is_budget(int status)
{
    return status == SHELF_SANDBOX_INSTRUCTIONS || status == SHELF_SANDBOX_TIME ||
           status == SHELF_SANDBOX_MEMORY;
}

int shelf_sandbox_line(lua_State *L)
{
    lua_Debug ar;
    for (int level = 0; lua_getstack(L, level, &ar); level++)
        if (lua_getinfo(L, "l", &ar) && ar.currentline > 0)
            return ar.currentline;
    return 0;
}

/* ---- limits ------------------------------------------------------------------ */

static void fill_limits(shelf_eval_limits *out, const shelf_eval_limits *in)
{
    static const shelf_eval_limits none;
    if (!in)
        in = &none;
    /* (at most 1e9 s, about 32 years: the deadline in ns must fit in 64 bits) */
    out->seconds = in->seconds > 0 ? (in->seconds < 1e9 ? in->seconds : 1e9)
                                   : SHELF_EVAL_DEFAULT_SECONDS;
    out->instructions = in->instructions ? in->instructions : SHELF_EVAL_DEFAULT_INSTRUCTIONS;
    out->memory = in->memory ? in->memory : (size_t)SHELF_EVAL_DEFAULT_MEMORY_MB << 20;
}

/* A whole number above 0 and at most max, digits only. */
static int parse_count(const char *s, unsigned long long max, unsigned long long *out)
{
    if (*s < '0' || *s > '9')
        return -1;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v == 0 || v > max)
        return -1;
    *out = v;
    return 0;
}

int shelf_eval_limits_from_env(shelf_eval_limits *out, char *const *env, shelf_error *err)
{
    shelf_eval_limits l = {0};
    /* One pass over the environment, which every command reads this way. */
    static const char *const names[] = {"SECONDS=", "INSTRUCTIONS=", "MEMORY_MB="};
    const char *found[3] = {NULL, NULL, NULL};
    for (char *const *p = env; p && *p; p++) {
        if (strncmp(*p, "SHELF_EVAL_", 11) != 0)
            continue;
        for (int i = 0; i < 3; i++)
            if (!found[i] && strncmp(*p + 11, names[i], strlen(names[i])) == 0)
                found[i] = *p + 11 + strlen(names[i]);
    }
    const char *v = found[0];
    if (v && *v) {
        char *end;
        errno = 0;
        double d = strtod(v, &end);
        if (errno || *end || end == v || !(d > 0) || d > 1e6) {
            shelf_error_set(err, SHELF_EUSAGE, NULL, NULL, 0,
                            "SHELF_EVAL_SECONDS must be a number of seconds above 0 "
                            "(such as 10 or 0.5), not \"%s\"", v);
            return SHELF_EUSAGE;
        }
        l.seconds = d;
    }
    v = found[1];
    if (v && *v && parse_count(v, ~0ULL, &l.instructions) < 0) {
        shelf_error_set(err, SHELF_EUSAGE, NULL, NULL, 0,
                        "SHELF_EVAL_INSTRUCTIONS must be a whole number above 0 "
                        "(such as 1000000000), not \"%s\"", v);
        return SHELF_EUSAGE;
    }
    v = found[2];
    unsigned long long mb = 0;
    if (v && *v && parse_count(v, SIZE_MAX >> 20, &mb) < 0) {
        shelf_error_set(err, SHELF_EUSAGE, NULL, NULL, 0,
                        "SHELF_EVAL_MEMORY_MB must be a whole number of MiB above 0 "
                        "(such as 512), not \"%s\"", v);
        return SHELF_EUSAGE;
    }
    l.memory = (size_t)mb << 20;
    *out = l;
    return SHELF_OK;
}

/* ---- the budget -------------------------------------------------------------- */

/* Pushes what ran out and how to raise it. */
static void push_budget_text(lua_State *L, const shelf_sandbox *sb, int status)
{
    char text[200];
    if (status == SHELF_SANDBOX_TIME)
        snprintf(text, sizeof text, "ran over its time budget (%g s; a loop that never "
                 "ends? SHELF_EVAL_SECONDS raises it)", sb->limits.seconds);
    else if (status == SHELF_SANDBOX_INSTRUCTIONS)
        snprintf(text, sizeof text, "ran over its budget of %llu instructions (a loop "
                 "that never ends? SHELF_EVAL_INSTRUCTIONS raises it)",
                 sb->limits.instructions);
    else
        snprintf(text, sizeof text, "ran over its memory budget (%zu MiB; "
                 "SHELF_EVAL_MEMORY_MB raises it)", sb->limits.memory >> 20);
    lua_pushstring(L, text);
}

static sb_frame *running_frame(lua_State *L)
{
    sb_frame *f = sandbox_of(L)->frame;
    if (!f)
        luaL_error(L, "no evaluation is running (sandboxed code called from outside one)");
    return f;
}

/* Raises when the running evaluation is out of instructions or time (or
 * was already stopped by its budget). */
static void check_budget(lua_State *L)
{
    shelf_sandbox *sb = sandbox_of(L);
    sb_frame *f = running_frame(L);
    int over = is_budget(f->abort) ? f->abort : 0;
    if (!over && sb->insns >= f->insn_stop)
        over = SHELF_SANDBOX_INSTRUCTIONS;
    if (!over && now_ns() >= f->deadline)
        over = SHELF_SANDBOX_TIME;
    if (!over)
        return;
    stop(f, over, shelf_sandbox_line(L));
    push_budget_text(L, sb, over);
    lua_error(L);
}

/* Counts work that no instruction shows, then checks the budget. */
static void charge(lua_State *L, unsigned long long cost)
{
    shelf_sandbox *sb = sandbox_of(L);
    sb_frame *f = running_frame(L);
    if (sb->insns >= f->insn_stop || cost >= f->insn_stop - sb->insns)
        sb->insns = sb->insns > f->insn_stop ? sb->insns : f->insn_stop;
    else
        sb->insns += cost;
    check_budget(L);
}

static void pattern_charge(lua_State *L, void *ud, unsigned long steps)
{
    (void)ud;
    charge(L, steps);
}

static void count_hook(lua_State *L, lua_Debug *ar)
{
    (void)ar;
    sandbox_of(L)->insns += HOOK_EVERY;
    check_budget(L);
}

/* Caps what the state holds while an evaluation runs; between evaluations
 * only the callers' own C code allocates. */
static void *sb_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    shelf_sandbox *sb = ud;
    size_t old = ptr ? osize : 0;
    if (nsize == 0) {
        free(ptr);
        sb->used -= old;
        return NULL;
    }
    if (sb->frame && nsize > old && sb->used + (nsize - old) > sb->limits.memory) {
        sb->refused_line = shelf_sandbox_line(sb->L); /* reads the stack, allocates nothing */
        return NULL;
    }
    void *p = realloc(ptr, nsize);
    if (!p) {
        sb->real_oom = 1;
        return NULL;
    }
    /* lua_newstate's first allocation holds the state; L points inside it.
     * Kept so that a pooled sandbox's memory is reachable from its start
     * for leak checkers, not "possibly lost". */
    if (!sb->L && !sb->state_block)
        sb->state_block = p;
    sb->used = sb->used - old + nsize;
    return p;
}

/* ---- the functions that differ from the stock ones -------------------------- */

/* After a protected call with an error at the top: an abort (or running
 * out of memory, which becomes one) goes on up; 0 lets pcall report it. */
static int passes_through(lua_State *L, int status)
{
    sb_frame *f = running_frame(L);
    if (status == LUA_ERRMEM)
        stop(f, SHELF_SANDBOX_MEMORY, sandbox_of(L)->refused_line);
    return f->abort != 0;
}

static int sb_pcall(lua_State *L)
{
    luaL_checkany(L, 1);
    int status = lua_pcall(L, lua_gettop(L) - 1, LUA_MULTRET, 0);
    if (status == LUA_OK) {
        lua_pushboolean(L, 1);
        lua_insert(L, 1);
        return lua_gettop(L);
    }
    if (passes_through(L, status))
        return lua_error(L);
    lua_pushboolean(L, 0);
    lua_insert(L, -2);
    return 2;
}

/* xpcall's handler: the caller's (upvalue 1), unless the evaluation is
 * being aborted, whose error goes on unchanged. */
static int xpcall_handler(lua_State *L)
{
    sb_frame *f = sandbox_of(L)->frame;
    if (!f || f->abort)
        return 1;
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, 1);
    return 1;
}

static int sb_xpcall(lua_State *L)
{
    int n = lua_gettop(L);
    luaL_checktype(L, 2, LUA_TFUNCTION);
    lua_pushvalue(L, 2);
    lua_pushcclosure(L, xpcall_handler, 1);
    lua_replace(L, 2);
    lua_pushboolean(L, 1);
    lua_pushvalue(L, 1);
    lua_rotate(L, 3, 2); /* f, handler, true, f, args... */
    int status = lua_pcall(L, n - 2, LUA_MULTRET, 2);
    if (status == LUA_OK)
        return lua_gettop(L) - 2;
    if (passes_through(L, status))
        return lua_error(L);
    lua_pushboolean(L, 0);
    lua_pushvalue(L, -2);
    return 2;
}

/* The stock setmetatable (upvalue 1), refusing a metatable with __gc: its
 * finalizer would run whenever the collector gets to it, long after the
 * evaluation (and its host) is gone. A __gc added to the metatable later
 * does not mark the object (Lua 5.4), so looking now is enough. */
static int sb_setmetatable(lua_State *L)
{
    if (lua_type(L, 2) == LUA_TTABLE) {
        lua_pushliteral(L, "__gc");
        if (lua_rawget(L, 2) != LUA_TNIL)
            return luaL_error(L, "setmetatable: __gc metamethods are not allowed here (the "
                                 "finalizer would run after the evaluation)");
        lua_pop(L, 1);
    }
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, 1);
    return 1;
}

/* require of a library: this evaluation's copy (the environment is
 * upvalue 1); nothing is loaded from files. */
static int sb_require(lua_State *L)
{
    const char *name = luaL_checkstring(L, 1);
    for (int i = 0; LIBRARIES[i]; i++)
        if (strcmp(name, LIBRARIES[i]) == 0) {
            lua_getfield(L, lua_upvalueindex(1), name);
            return 1;
        }
    return luaL_error(L, "require(\"%s\") is not allowed here: only string, table, math "
                         "and utf8 can be required", name);
}

/* A library function (upvalue 1) whose loop the count hook does not see:
 * charges the turns it is about to make (upvalue 2 says how to count). */
static int sb_costed(lua_State *L)
{
    unsigned long long cost = 0;
    int top = lua_gettop(L), isnum1, isnum2;
    switch ((enum cost)lua_tointeger(L, lua_upvalueindex(2))) {
    case COST_REP: { /* the copies are bounded by the memory cap; empty ones are not */
        lua_Integer n = lua_tointegerx(L, 2, &isnum1);
        size_t piece = lua_rawlen(L, 1) + lua_rawlen(L, 3);
        unsigned long long copies = isnum1 && n > 0 ? (unsigned long long)n : 0;
        if (piece == 0)
            cost = copies;
        else
            cost = copies / 64 > ~0ULL / piece ? ~0ULL : copies / 64 * piece;
        break;
    }
    case COST_MOVE: {
        lua_Integer from = lua_tointegerx(L, 2, &isnum1), to = lua_tointegerx(L, 3, &isnum2);
        if (isnum1 && isnum2 && to >= from)
            cost = (unsigned long long)to - (unsigned long long)from + 1;
        break;
    }
    case COST_INSERT:
    case COST_REMOVE:
    case COST_SORT: {
        enum cost how = (enum cost)lua_tointeger(L, lua_upvalueindex(2));
        int shifts = how == COST_SORT || (how == COST_INSERT ? top >= 3 : top >= 2);
        if (shifts && lua_type(L, 1) == LUA_TTABLE) {
            lua_Integer n = luaL_len(L, 1);
            cost = n > 0 ? (unsigned long long)n : 0;
        }
        break;
    }
    }
    charge(L, cost);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, top, LUA_MULTRET);
    return lua_gettop(L);
}

/* ---- environments ------------------------------------------------------------- */

/* Pushes a shallow copy of the table at idx. */
static void copy_table(lua_State *L, int idx)
{
    idx = lua_absindex(L, idx);
    int n = 0;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        n++;
        lua_pop(L, 1);
    }
    lua_createtable(L, 0, n);
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        lua_pushvalue(L, -2);
        lua_insert(L, -2);
        lua_rawset(L, -4);
    }
}

static void set_costed(lua_State *L, int lib, const char *name, enum cost how)
{
    lua_getfield(L, lib, name);
    lua_pushinteger(L, how);
    lua_pushcclosure(L, sb_costed, 2);
    lua_setfield(L, lib, name);
}

/* Protected: opens the libraries and builds the template (argument 1 is
 * the sandbox). */
static int build_template(lua_State *L)
{
    shelf_sandbox *sb = lua_touserdata(L, 1);
    static const luaL_Reg libs[] = {
        {LUA_GNAME, luaopen_base}, {LUA_STRLIBNAME, luaopen_string},
        {LUA_TABLIBNAME, luaopen_table}, {LUA_MATHLIBNAME, luaopen_math},
        {LUA_UTF8LIBNAME, luaopen_utf8}, {LUA_OSLIBNAME, luaopen_os},
        {NULL, NULL}};
    for (const luaL_Reg *lib = libs; lib->func; lib++) {
        luaL_requiref(L, lib->name, lib->func, 1);
        lua_pop(L, 1);
    }
    lua_createtable(L, 0, 128); /* room for the caller's globals too */
    int t = lua_gettop(L);
    static const char *const base[] = {
        "assert", "error", "ipairs", "next", "pairs", "select", "tonumber", "tostring",
        "type", "rawequal", "rawget", "rawlen", "rawset", "getmetatable", "_VERSION",
        NULL};
    for (int i = 0; base[i]; i++) {
        lua_getglobal(L, base[i]);
        lua_setfield(L, t, base[i]);
    }
    lua_pushcfunction(L, sb_pcall);
    lua_setfield(L, t, "pcall");
    lua_pushcfunction(L, sb_xpcall);
    lua_setfield(L, t, "xpcall");
    lua_getglobal(L, "setmetatable");
    lua_pushcclosure(L, sb_setmetatable, 1);
    lua_setfield(L, t, "setmetatable");

    for (int i = 0; LIBRARIES[i]; i++) { /* no sandboxed code reaches the state's own */
        lua_getglobal(L, LIBRARIES[i]);
        lua_setfield(L, t, LIBRARIES[i]);
    }
    lua_getfield(L, t, LUA_STRLIBNAME);
    shelf_pattern_open(L, -1, &sb->budget);
    set_costed(L, lua_gettop(L), "rep", COST_REP);
    lua_pop(L, 1);
    lua_getfield(L, t, LUA_TABLIBNAME);
    int tab = lua_gettop(L);
    set_costed(L, tab, "move", COST_MOVE);
    set_costed(L, tab, "insert", COST_INSERT);
    set_costed(L, tab, "remove", COST_REMOVE);
    set_costed(L, tab, "sort", COST_SORT);
    lua_pop(L, 1);

    lua_createtable(L, 0, 5);
    lua_getglobal(L, LUA_OSLIBNAME);
    static const char *const os_names[] = {"date", "time", "clock", "difftime", NULL};
    for (int i = 0; os_names[i]; i++) {
        lua_getfield(L, -1, os_names[i]);
        lua_setfield(L, -3, os_names[i]);
    }
    lua_pop(L, 1);
    lua_setfield(L, t, LUA_OSLIBNAME);

    if (sb->install) {
        lua_pushcfunction(L, sb->install);
        lua_pushvalue(L, t);
        lua_call(L, 1, 0);
    }
    lua_rawsetp(L, LUA_REGISTRYINDEX, &TEMPLATE_KEY);
    return 0;
}

/* An evaluation's environment starts empty and sees the template through
 * its metatable: what the file reads is looked up there when the file has
 * not yet set it, and a table of the template (a library) is copied for
 * this evaluation the first time it is wanted, so that nothing one
 * evaluation changes in it is seen by a later one, and an evaluation pays
 * only for the libraries it uses. The closures below share as upvalues:
 * 1 the template, 2 the set of names the environment holds or held (a
 * library once copied, a name once set: from then on the environment's
 * own entry decides, so `os = nil` holds), 3 the
 * copies made (library name -> copy), 4 the evaluation's string
 * metatable, whose __index is the copy of string once it is made. */
enum { UP_TEMPLATE = 1, UP_SEEN, UP_COPIES, UP_STRMT, UP_COUNT = UP_STRMT };

static int string_index(lua_State *L);

/* Pushes this evaluation's copy of the template's table under the key at
 * idx (the template's value is on top of the stack and is replaced). */
static void lib_copy(lua_State *L, int key)
{
    lua_pushvalue(L, key);
    if (lua_rawget(L, lua_upvalueindex(UP_COPIES)) == LUA_TTABLE) {
        lua_remove(L, -2);
        return;
    }
    lua_pop(L, 1);
    copy_table(L, -1);
    lua_remove(L, -2);
    lua_pushvalue(L, key);
    lua_pushvalue(L, -2);
    lua_rawset(L, lua_upvalueindex(UP_COPIES));
    if (lua_type(L, key) == LUA_TSTRING && strcmp(lua_tostring(L, key), LUA_STRLIBNAME) == 0) {
        lua_getfield(L, lua_upvalueindex(UP_STRMT), "__index");
        int unchanged = lua_tocfunction(L, -1) == string_index;
        lua_pop(L, 1);
        if (unchanged) { /* not replaced by the file */
            lua_pushvalue(L, -1);
            lua_setfield(L, lua_upvalueindex(UP_STRMT), "__index");
        }
    }
}

/* Pushes what the template gives for the key at idx. A library is
 * copied, and its key marked seen: the caller puts the copy in the
 * environment. Other values are read through until the file sets them. */
static void from_template(lua_State *L, int key)
{
    lua_pushvalue(L, key);
    if (lua_rawget(L, lua_upvalueindex(UP_TEMPLATE)) != LUA_TTABLE)
        return;
    lib_copy(L, key);
    lua_pushvalue(L, key);
    lua_pushboolean(L, 1);
    lua_rawset(L, lua_upvalueindex(UP_SEEN));
}

/* __index (1 the environment, 2 the name). */
static int env_index(lua_State *L)
{
    lua_pushvalue(L, 2);
    if (lua_rawget(L, lua_upvalueindex(UP_SEEN)) != LUA_TNIL) {
        lua_pushnil(L); /* read or set before, and no longer there */
        return 1;
    }
    lua_pop(L, 1);
    from_template(L, 2);
    if (lua_type(L, -1) == LUA_TTABLE) {
        lua_pushvalue(L, 2);
        lua_pushvalue(L, -2);
        lua_rawset(L, 1);
        return 1;
    }
    if (!lua_isnil(L, -1) || !lua_getmetatable(L, lua_upvalueindex(UP_TEMPLATE)))
        return 1;
    lua_getfield(L, -1, "__index"); /* the template's own fallback */
    if (lua_isfunction(L, -1)) {
        lua_pushvalue(L, 1);
        lua_pushvalue(L, 2);
        lua_call(L, 2, 1);
    } else if (lua_istable(L, -1)) {
        lua_pushvalue(L, 2);
        lua_gettable(L, -2);
    }
    return 1;
}

/* __newindex (1 the environment, 2 the name, 3 the value). */
static int env_newindex(lua_State *L)
{
    lua_pushvalue(L, 2);
    lua_pushboolean(L, 1);
    lua_rawset(L, lua_upvalueindex(UP_SEEN));
    lua_settop(L, 3);
    lua_rawset(L, 1);
    return 0;
}

/* __pairs (1 the environment): brings in every name of the template the
 * file has not yet read or set, then iterates as next does. */
static int env_pairs(lua_State *L)
{
    lua_settop(L, 1);
    lua_pushnil(L);
    while (lua_next(L, lua_upvalueindex(UP_TEMPLATE))) {
        lua_pop(L, 1);
        lua_pushvalue(L, -1);
        if (lua_rawget(L, lua_upvalueindex(UP_SEEN)) == LUA_TNIL) {
            lua_pop(L, 1);
            int key = lua_gettop(L);
            from_template(L, key);
            lua_pushvalue(L, key);
            lua_pushboolean(L, 1);
            lua_rawset(L, lua_upvalueindex(UP_SEEN));
            lua_pushvalue(L, key);
            lua_insert(L, -2);
            lua_rawset(L, 1);
        } else {
            lua_pop(L, 1);
        }
    }
    lua_getglobal(L, "next");
    lua_pushvalue(L, 1);
    lua_pushnil(L);
    return 3;
}

/* __index of the evaluation's string metatable until its copy of string
 * is made: makes it and looks the name up there. */
static int string_index(lua_State *L)
{
    lua_pushstring(L, LUA_STRLIBNAME);
    int key = lua_gettop(L);
    lua_pushvalue(L, key);
    if (lua_rawget(L, lua_upvalueindex(UP_TEMPLATE)) != LUA_TTABLE)
        return 0;
    lib_copy(L, key);
    lua_pushvalue(L, 2);
    lua_gettable(L, -2);
    return 1;
}

/* Pushes a fresh environment for an evaluation whose string metatable is
 * at strmt, with _G and require of its own. Its metatable is protected
 * (getmetatable(_G) is false), so the template behind it cannot be
 * reached and changed. */
static void push_env(lua_State *L, int strmt)
{
    strmt = lua_absindex(L, strmt);
    lua_createtable(L, 0, 8);
    int e = lua_gettop(L);
    lua_pushvalue(L, e);
    lua_setfield(L, e, "_G");
    lua_pushvalue(L, e);
    lua_pushcclosure(L, sb_require, 1);
    lua_setfield(L, e, "require");

    lua_rawgetp(L, LUA_REGISTRYINDEX, &TEMPLATE_KEY); /* the upvalues */
    lua_createtable(L, 0, 4);
    lua_createtable(L, 0, 4);
    lua_pushvalue(L, strmt);
    int up = e + 1;
    static const struct {
        const char *name;
        lua_CFunction fn;
    } meta[] = {{"__index", env_index}, {"__newindex", env_newindex}, {"__pairs", env_pairs}};
    lua_createtable(L, 0, 4);
    for (size_t i = 0; i < sizeof meta / sizeof meta[0]; i++) {
        for (int u = 0; u < UP_COUNT; u++)
            lua_pushvalue(L, up + u);
        lua_pushcclosure(L, meta[i].fn, UP_COUNT);
        lua_setfield(L, -2, meta[i].name);
    }
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_setmetatable(L, e);
    for (int u = 0; u < UP_COUNT; u++)
        lua_pushvalue(L, up + u);
    lua_pushcclosure(L, string_index, UP_COUNT);
    lua_setfield(L, strmt, "__index");
    lua_settop(L, e);
}

/* Message handler of the evaluation: remembers where the error was. */
static int msgh(lua_State *L)
{
    sb_frame *f = sandbox_of(L)->frame;
    if (f && !f->err_line)
        f->err_line = shelf_sandbox_line(L);
    return 1;
}

/* Protected: runs the frame's evaluation (argument 1) and leaves its
 * results or its message; the status goes to the frame. Everything that
 * may fail (building the environment, loading, messages) happens while
 * the stock string metatable is in place, or after it is back. */
static int protected_eval(lua_State *L)
{
    sb_frame *f = lua_touserdata(L, 1);
    shelf_sandbox_run *run = f->run;
    lua_settop(L, 0);
    lua_pushliteral(L, ""); /* 1: a string, to reach the string metatable */
    if (!lua_getmetatable(L, 1)) /* 2: the stock one */
        lua_pushnil(L);
    lua_pushcfunction(L, msgh); /* 3 */
    lua_createtable(L, 0, 1);   /* 4: this evaluation's string metatable */
    push_env(L, 4);             /* 5 */
    const char *name = lua_pushfstring(L, "@%s", run->file); /* 6 */
    int rc = luaL_loadbufferx(L, run->text ? run->text : "", run->len, name, "t");
    if (rc != LUA_OK) {
        f->status = rc == LUA_ERRMEM ? SHELF_SANDBOX_MEMORY : SHELF_SANDBOX_SYNTAX;
        return 1;
    }
    lua_pushvalue(L, 5);
    lua_setupvalue(L, -2, 1);
    lua_pushvalue(L, 4);
    lua_setmetatable(L, 1);
    rc = lua_pcall(L, 0, run->nresults, 3);
    lua_pushvalue(L, 2);
    lua_setmetatable(L, 1);
    if (rc == LUA_OK && !f->abort) {
        f->status = SHELF_SANDBOX_OK;
        return run->nresults;
    }
    if (rc == LUA_OK) { /* stopped by a nested evaluation's budget, not yet raised */
        lua_pop(L, run->nresults);
        lua_pushnil(L);
    }
    if (rc == LUA_ERRMEM && !f->abort) /* no message handler runs for it */
        f->err_line = sandbox_of(L)->refused_line;
    f->status = f->abort                ? f->abort
                : rc == LUA_ERRMEM      ? SHELF_SANDBOX_MEMORY
                                        : SHELF_SANDBOX_ERROR;
    if (is_budget(f->status)) {
        push_budget_text(L, sandbox_of(L), f->status);
    } else if (lua_type(L, -1) != LUA_TSTRING && lua_type(L, -1) != LUA_TNUMBER) {
        lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, -1));
    }
    lua_tostring(L, -1);
    return 1;
}

/* ---- the public functions ------------------------------------------------------ */

shelf_sandbox *shelf_sandbox_new(const shelf_eval_limits *limits, lua_CFunction install)
{
    shelf_sandbox *sb = calloc(1, sizeof *sb);
    if (!sb)
        return NULL;
    fill_limits(&sb->limits, limits);
    sb->budget.charge = pattern_charge;
    sb->budget.ud = sb;
    sb->L = lua_newstate(sb_alloc, sb);
    if (!sb->L) {
        free(sb);
        return NULL;
    }
    *(shelf_sandbox **)lua_getextraspace(sb->L) = sb;
    sb->install = install;
    sb->made_with = install;
    lua_gc(sb->L, LUA_GCSTOP); /* all that is built now stays */
    lua_pushcfunction(sb->L, build_template);
    lua_pushlightuserdata(sb->L, sb);
    int rc = lua_pcall(sb->L, 1, 0, 0);
    lua_gc(sb->L, LUA_GCRESTART);
    sb->install = NULL;
    if (rc != LUA_OK) {
        shelf_sandbox_free(sb);
        return NULL;
    }
    lua_sethook(sb->L, count_hook, LUA_MASKCOUNT, HOOK_EVERY);
    return sb;
}

void shelf_sandbox_free(shelf_sandbox *sb)
{
    if (!sb)
        return;
    lua_close(sb->L);
    free(sb);
}

/* Sandboxes given back, for later commands and files of the process:
 * building one (the libraries, the template) costs ten runs of a small
 * file in it, and shelfd runs a command per request, on the connection's
 * thread. A sandbox carries nothing from one evaluation to the next but
 * garbage: each has an environment of its own, and the template cannot
 * be reached. The pool is not emptied at exit: the pointers stay in it
 * (leak checkers count that memory as reachable), and closing each state
 * would only slow every command down at its end. */
#define POOL_MAX 8
static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static shelf_sandbox *pool[POOL_MAX];
static size_t pool_n;

static int same_limits(const shelf_eval_limits *a, const shelf_eval_limits *b)
{
    return a->seconds == b->seconds && a->instructions == b->instructions &&
           a->memory == b->memory;
}

shelf_sandbox *shelf_sandbox_take(const shelf_eval_limits *limits, lua_CFunction install)
{
    shelf_eval_limits want;
    fill_limits(&want, limits);
    shelf_sandbox *sb = NULL;
    pthread_mutex_lock(&pool_lock);
    for (size_t i = pool_n; i-- > 0;) {
        if (pool[i]->made_with == install && same_limits(&pool[i]->limits, &want)) {
            sb = pool[i];
            pool[i] = pool[--pool_n];
            break;
        }
    }
    pthread_mutex_unlock(&pool_lock);
    return sb ? sb : shelf_sandbox_new(limits, install);
}

void shelf_sandbox_give(shelf_sandbox *sb)
{
    if (!sb)
        return;
    if (sb->frame) { /* given back from inside an evaluation: never reused */
        shelf_sandbox_free(sb);
        return;
    }
    lua_settop(sb->L, 0); /* what the last evaluation left */
    pthread_mutex_lock(&pool_lock);
    shelf_sandbox *out = sb;
    if (pool_n < POOL_MAX) {
        pool[pool_n++] = sb;
        out = NULL;
    }
    pthread_mutex_unlock(&pool_lock);
    shelf_sandbox_free(out);
}

lua_State *shelf_sandbox_lua(shelf_sandbox *sb)
{
    return sb->L;
}

int shelf_sandbox_eval(shelf_sandbox *sb, shelf_sandbox_run *run)
{
    lua_State *L = sb->L;
    run->line = 0;
    if (!lua_checkstack(L, run->nresults + 4))
        return SHELF_SANDBOX_NOMEM;
    sb_frame f = {.outer = sb->frame, .run = run};
    double ns = sb->limits.seconds * 1e9;
    f.deadline = now_ns() + (int64_t)ns;
    f.insn_stop = sb->limits.instructions > ~0ULL - sb->insns ? ~0ULL
                                                              : sb->insns + sb->limits.instructions;
    if (f.outer) {
        if (f.outer->deadline < f.deadline)
            f.deadline = f.outer->deadline;
        if (f.outer->insn_stop < f.insn_stop)
            f.insn_stop = f.outer->insn_stop;
    } else {
        sb->real_oom = 0;
    }
    sb->frame = &f;
    lua_pushcfunction(L, protected_eval);
    lua_pushlightuserdata(L, &f);
    int rc = lua_pcall(L, 1, LUA_MULTRET, 0);
    sb->frame = f.outer;
    if (rc != LUA_OK) /* out of memory setting up or reporting */
        f.status = rc == LUA_ERRMEM ? SHELF_SANDBOX_MEMORY : SHELF_SANDBOX_ERROR;
    if (f.status == SHELF_SANDBOX_MEMORY && sb->real_oom) {
        f.status = SHELF_SANDBOX_NOMEM;
        lua_pop(L, 1);
    }
    run->line = f.abort ? f.abort_line : f.err_line;
    /* A nested evaluation that ran out of the outer one's instructions or
     * time stops the outer one too, at its next check or its end. */
    sb_frame *outer = f.outer;
    if (outer && ((f.status == SHELF_SANDBOX_INSTRUCTIONS && sb->insns >= outer->insn_stop) ||
                  (f.status == SHELF_SANDBOX_TIME && now_ns() >= outer->deadline)))
        stop(outer, f.status, shelf_sandbox_line(L));
    return f.status;
}

void *shelf_sandbox_ud(lua_State *L)
{
    return running_frame(L)->run->ud;
}

int shelf_sandbox_abort(lua_State *L)
{
    stop(running_frame(L), SHELF_SANDBOX_ABORTED, shelf_sandbox_line(L));
    lua_pushliteral(L, "the evaluation was stopped");
    return lua_error(L);
}
