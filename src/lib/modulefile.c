/*
 * modulefile.c -- evaluates modulefiles in the sandbox (sandbox.h): Lmod's
 * modulefile API on top of what the sandbox gives every evaluation.
 *
 * One sandbox (one lua_State) serves a whole command. Its template holds
 * the API functions, unpack, print (a message for the person) and
 * os.getenv answered by the host; each evaluation gets a view of its own (see
 * sandbox.h). The evaluation being run (an mf_ctx) is the sandbox's ud of
 * the running evaluation; a nested evaluation (a host call that loads
 * another modulefile) has its own, and a function called when none is
 * running raises an error instead of reaching a host that is gone.
 *
 * LmodError() and a host call that fails abort the evaluation past any
 * pcall, so a module is never left half applied.
 */
#include "config.h"

#include <lauxlib.h>
#include <lua.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "modulefile.h"
#include "shelf.h"
#include "shelf-internal.h"

struct shelf_lua {
    shelf_sandbox *sb;
};

typedef struct mf_ctx {
    const shelf_mf_info *info;
    const shelf_mf_host *host;
    shelf_error *err;
} mf_ctx;

static const char *shelf_mode_name(shelf_mode mode)
{
    switch (mode) {
    case SHELF_MODE_LOAD: return "load";
    case SHELF_MODE_UNLOAD: return "unload";
    case SHELF_MODE_SHOW: return "show";
    case SHELF_MODE_HELP: return "help";
    case SHELF_MODE_WHATIS: return "whatis";
    case SHELF_MODE_SPIDER: return "spider";
    case SHELF_MODE_REFRESH: return "refresh";
    }
    return "load";
}

/* The running evaluation; raises when there is none. */
static mf_ctx *get_ctx(lua_State *L)
{
    return shelf_sandbox_ud(L);
}

/* ---- the API functions ---------------------------------------------------- */

struct api_entry {
    const char *name;
    shelf_fn fn;
    int min_args;
};

static const struct api_entry API[] = {
    {"setenv", SHELF_FN_SETENV, 2},
    {"unsetenv", SHELF_FN_UNSETENV, 1},
    {"pushenv", SHELF_FN_PUSHENV, 2},
    {"prepend_path", SHELF_FN_PREPEND_PATH, 2},
    {"append_path", SHELF_FN_APPEND_PATH, 2},
    {"remove_path", SHELF_FN_REMOVE_PATH, 2},
    {"load", SHELF_FN_LOAD, 1},
    {"try_load", SHELF_FN_TRY_LOAD, 1},
    {"try_add", SHELF_FN_TRY_LOAD, 1},
    {"always_load", SHELF_FN_ALWAYS_LOAD, 1},
    {"depends_on", SHELF_FN_DEPENDS_ON, 1},
    {"prereq", SHELF_FN_PREREQ, 1},
    {"prereq_any", SHELF_FN_PREREQ_ANY, 1},
    {"conflict", SHELF_FN_CONFLICT, 1},
    {"unload", SHELF_FN_UNLOAD, 1},
    {"family", SHELF_FN_FAMILY, 1},
    {"set_alias", SHELF_FN_SET_ALIAS, 2},
    {"unset_alias", SHELF_FN_UNSET_ALIAS, 1},
    {"set_shell_function", SHELF_FN_SET_SHELL_FUNCTION, 2},
    {"unset_shell_function", SHELF_FN_UNSET_SHELL_FUNCTION, 1},
    {"whatis", SHELF_FN_WHATIS, 1},
    {"help", SHELF_FN_HELP, 0},
    {"add_property", SHELF_FN_ADD_PROPERTY, 2},
    {"remove_property", SHELF_FN_REMOVE_PROPERTY, 2},
    {"LmodMessage", SHELF_FN_MESSAGE, 0},
    {"LmodWarning", SHELF_FN_WARNING, 0},
    /* stdout carries shell code: print() is a message for the person. */
    {"print", SHELF_FN_MESSAGE, 0},
};

static int is_path_fn(shelf_fn fn)
{
    return fn == SHELF_FN_PREPEND_PATH || fn == SHELF_FN_APPEND_PATH ||
           fn == SHELF_FN_REMOVE_PATH;
}

/* Makes the value at idx a string in place (a number is converted); 0
 * when it is neither. It may raise (the conversion allocates in the
 * capped state): done for every argument before anything is held outside
 * Lua, so that no raise leaves a C allocation behind. */
static int as_arg(lua_State *L, int idx)
{
    int t = lua_type(L, idx);
    if (t != LUA_TSTRING && t != LUA_TNUMBER)
        return 0;
    lua_tostring(L, idx);
    return 1;
}

static int api_call(lua_State *L)
{
    const struct api_entry *api = lua_touserdata(L, lua_upvalueindex(1));
    mf_ctx *ctx = get_ctx(L);
    shelf_mf_call call;
    memset(&call, 0, sizeof call);
    call.fn = api->fn;
    call.fname = api->name;
    call.delim = ":";
    shelf_strv_init(&call.args);
    /* First everything that may raise, leaving the arguments as strings
     * at stack positions first..first+n-1; then the copies. */
    int nargs = lua_gettop(L), first = 1, n = 0;
    if (nargs == 1 && lua_istable(L, 1)) {
        call.table_form = 1;
        first = 2;
        lua_Integer len = (lua_Integer)lua_rawlen(L, 1);
        for (lua_Integer i = 1; i <= len; i++) {
            luaL_checkstack(L, 3, "too many arguments");
            lua_rawgeti(L, 1, i);
            if (!as_arg(L, -1)) {
                lua_pop(L, 1);
                break;
            }
            n++;
        }
        if (lua_getfield(L, 1, "delim") == LUA_TSTRING)
            call.delim = lua_tostring(L, -1); /* stays on the stack: alive */
        if (lua_getfield(L, 1, "priority") == LUA_TNUMBER)
            call.priority = (int)lua_tointeger(L, -1);
    } else {
        for (int i = 1; i <= nargs; i++) {
            if (is_path_fn(api->fn) && i == 3 && lua_type(L, i) == LUA_TSTRING) {
                call.delim = lua_tostring(L, i);
                break;
            }
            if (!as_arg(L, i)) {
                if (lua_isnoneornil(L, i) && n < api->min_args)
                    return luaL_error(L, "%s: argument %d is nil (a string is expected)",
                                      api->name, i);
                break; /* trailing options such as setenv's force flag */
            }
            n++;
        }
    }
    if (n < api->min_args)
        return luaL_error(L, "%s needs at least %d string argument%s", api->name,
                          api->min_args, api->min_args == 1 ? "" : "s");
    for (int i = 0; i < n; i++) {
        if (shelf_strv_push(&call.args, lua_tostring(L, first + i)) < 0) {
            shelf_strv_free(&call.args);
            return luaL_error(L, "out of memory");
        }
    }
    if (call.delim[0] == '\0')
        call.delim = ":";
    call.line = shelf_sandbox_line(L);
    int rc = ctx->host->call(ctx->host->ud, &call, ctx->err);
    shelf_strv_free(&call.args);
    if (rc != 0) {
        if (ctx->err->code == SHELF_OK)
            shelf_error_set(ctx->err, rc, ctx->info->fullname, ctx->info->file,
                            call.line, "%s failed: %s", api->name, shelf_strerror(rc));
        return shelf_sandbox_abort(L);
    }
    return 0;
}

static int api_lmod_error(lua_State *L)
{
    mf_ctx *ctx = get_ctx(L);
    int n = lua_gettop(L); /* before luaL_buffinit, which may push a box */
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (int i = 1; i <= n; i++) {
        luaL_tolstring(L, i, NULL);
        luaL_addvalue(&b);
    }
    luaL_pushresult(&b);
    shelf_error_set(ctx->err, SHELF_ELMODERROR, ctx->info->fullname,
                    ctx->info->file, shelf_sandbox_line(L), "%s", lua_tostring(L, -1));
    return shelf_sandbox_abort(L);
}

/* ---- queries ---------------------------------------------------------------- */

static int q_name(lua_State *L)
{
    mf_ctx *ctx = get_ctx(L);
    const char *what = lua_tostring(L, lua_upvalueindex(1));
    const shelf_mf_info *in = ctx->info;
    const char *v = strcmp(what, "sn") == 0        ? in->sn
                    : strcmp(what, "version") == 0 ? in->version
                    : strcmp(what, "full") == 0    ? in->fullname
                    : strcmp(what, "usr") == 0     ? in->usrname
                    : strcmp(what, "file") == 0    ? in->file
                    : strcmp(what, "mode") == 0    ? shelf_mode_name(in->mode)
                    : strcmp(what, "shell") == 0   ? in->shell
                                                   : "";
    if (strcmp(what, "shelltype") == 0) {
        const char *sh = in->shell ? in->shell : "sh";
        v = (strcmp(sh, "csh") == 0 || strcmp(sh, "tcsh") == 0) ? "csh"
            : strcmp(sh, "fish") == 0                           ? "fish"
            : strcmp(sh, "python") == 0                         ? "python"
                                                                : "sh";
    }
    lua_pushstring(L, v ? v : "");
    return 1;
}

static int q_isloaded(lua_State *L)
{
    mf_ctx *ctx = get_ctx(L);
    const char *name = luaL_checkstring(L, 1);
    lua_pushboolean(L, ctx->host->is_loaded(ctx->host->ud, name));
    return 1;
}

static int q_isavail(lua_State *L)
{
    mf_ctx *ctx = get_ctx(L);
    const char *name = luaL_checkstring(L, 1);
    lua_pushboolean(L, ctx->host->is_avail(ctx->host->ud, name));
    return 1;
}

static int q_getenv(lua_State *L)
{
    mf_ctx *ctx = get_ctx(L);
    const char *v = ctx->host->getenv(ctx->host->ud, luaL_checkstring(L, 1));
    if (v)
        lua_pushstring(L, v);
    else
        lua_pushnil(L);
    return 1;
}

int shelf_lua_path_join(lua_State *L)
{
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    int n = lua_gettop(L), first = 1;
    for (int i = 1; i <= n; i++) {
        size_t len;
        const char *s = lua_tolstring(L, i, &len);
        if (!s || len == 0)
            continue;
        if (!first)
            luaL_addchar(&b, '/');
        luaL_addlstring(&b, s, len);
        first = 0;
    }
    luaL_pushresult(&b);
    const char *joined = lua_tostring(L, -1);
    luaL_Buffer out;
    luaL_buffinit(L, &out);
    for (const char *p = joined; *p; p++)
        if (!(*p == '/' && p[1] == '/'))
            luaL_addchar(&out, *p);
    luaL_pushresult(&out);
    return 1;
}

/* isDir(path) and isFile(path), as Lmod's: a directory, a regular file. */
static int stat_kind(lua_State *L, int want_dir)
{
    const char *path = luaL_optstring(L, 1, "");
    struct stat st;
    int ok = stat(path, &st) == 0 && (want_dir ? S_ISDIR(st.st_mode) : S_ISREG(st.st_mode));
    lua_pushboolean(L, ok);
    return 1;
}

int shelf_lua_is_dir(lua_State *L)
{
    return stat_kind(L, 1);
}

int shelf_lua_is_file(lua_State *L)
{
    return stat_kind(L, 0);
}

static int f_lmod_version(lua_State *L)
{
    lua_pushstring(L, "8.6.19");
    return 1;
}

static int f_false(lua_State *L)
{
    lua_pushboolean(L, 0);
    return 1;
}

/* ---- state and sandbox ------------------------------------------------------- */

static void set_closure(lua_State *L, const char *name, lua_CFunction f,
                        const char *upvalue)
{
    lua_pushstring(L, upvalue);
    lua_pushcclosure(L, f, 1);
    lua_setfield(L, -2, name);
}

/* Adds the modulefile API to the sandbox's template (argument 1). */
static int install_api(lua_State *L)
{
    lua_settop(L, 1);
    lua_getfield(L, 1, "table");
    lua_getfield(L, -1, "unpack");
    lua_setfield(L, 1, "unpack");
    lua_pop(L, 1);
    lua_getfield(L, 1, "os");
    lua_pushcfunction(L, q_getenv);
    lua_setfield(L, -2, "getenv");
    lua_pop(L, 1);
    for (size_t i = 0; i < sizeof API / sizeof API[0]; i++) {
        lua_pushlightuserdata(L, (void *)&API[i]);
        lua_pushcclosure(L, api_call, 1);
        lua_setfield(L, 1, API[i].name);
    }
    set_closure(L, "myModuleName", q_name, "sn");
    set_closure(L, "myModuleVersion", q_name, "version");
    set_closure(L, "myModuleFullName", q_name, "full");
    set_closure(L, "myModuleUsrName", q_name, "usr");
    set_closure(L, "myFileName", q_name, "file");
    set_closure(L, "mode", q_name, "mode");
    set_closure(L, "myShellName", q_name, "shell");
    set_closure(L, "myShellType", q_name, "shelltype");
    static const luaL_Reg funcs[] = {
        {"LmodError", api_lmod_error}, {"isDir", shelf_lua_is_dir},
        {"isFile", shelf_lua_is_file}, {"isloaded", q_isloaded}, {"isAvail", q_isavail},
        {"pathJoin", shelf_lua_path_join}, {"LmodVersion", f_lmod_version},
        {"userInGroup", f_false}, {NULL, NULL}};
    luaL_setfuncs(L, funcs, 0);
    return 0;
}

shelf_lua *shelf_lua_new(const shelf_eval_limits *limits)
{
    shelf_lua *lua = calloc(1, sizeof *lua);
    if (!lua)
        return NULL;
    lua->sb = shelf_sandbox_take(limits, install_api);
    if (!lua->sb) {
        free(lua);
        return NULL;
    }
    return lua;
}

void shelf_lua_free(shelf_lua *lua)
{
    if (!lua)
        return;
    shelf_sandbox_give(lua->sb);
    free(lua);
}

/* "path:12: message" -> line 12 and a pointer to "message". */
static const char *strip_location(const char *msg, const char *file, int *line)
{
    size_t n = strlen(file);
    if (strncmp(msg, file, n) == 0 && msg[n] == ':') {
        char *end;
        long l = strtol(msg + n + 1, &end, 10);
        if (end != msg + n + 1 && *end == ':') {
            *line = (int)l;
            return end[1] == ' ' ? end + 2 : end + 1;
        }
    }
    return msg;
}

int shelf_mf_eval(shelf_lua *lua, const shelf_mf_info *info,
                  const shelf_mf_host *host, shelf_error *err)
{
    shelf_buf text;
    shelf_buf_init(&text);
    int rc = shelf_read_file(info->file, &text, err);
    if (rc < 0) {
        if (err->module == NULL && info->fullname)
            err->module = strdup(info->fullname);
        return rc;
    }
    mf_ctx ctx = {info, host, err};
    shelf_sandbox_run run = {info->file, text.data, text.len, &ctx, 0, 0};
    int st = shelf_sandbox_eval(lua->sb, &run);
    shelf_buf_free(&text);
    lua_State *L = shelf_sandbox_lua(lua->sb);
    /* The message is on the stack unless the evaluation succeeded (it
     * keeps no results) or there was no memory for it. */
    const char *msg =
        st == SHELF_SANDBOX_OK || st == SHELF_SANDBOX_NOMEM ? NULL : lua_tostring(L, -1);
    int line = run.line;
    switch (st) {
    case SHELF_SANDBOX_OK:
        rc = SHELF_OK;
        break;
    case SHELF_SANDBOX_ABORTED: /* err says why */
        rc = err->code != SHELF_OK ? err->code : SHELF_EMODULEFILE;
        shelf_error_set(err, rc, info->fullname, info->file, line, "the modulefile stopped");
        break;
    case SHELF_SANDBOX_NOMEM:
        rc = SHELF_ENOMEM;
        shelf_error_set(err, rc, info->fullname, info->file, 0,
                        "out of memory evaluating the modulefile");
        break;
    case SHELF_SANDBOX_INSTRUCTIONS:
    case SHELF_SANDBOX_TIME:
    case SHELF_SANDBOX_MEMORY:
        rc = SHELF_EMODULEFILE;
        shelf_error_set(err, rc, info->fullname, info->file, line, "the modulefile %s", msg);
        break;
    default:
        rc = SHELF_EMODULEFILE;
        msg = strip_location(msg ? msg : "", info->file, &line);
        shelf_error_set(err, rc, info->fullname, info->file, line, "%s%s",
                        st == SHELF_SANDBOX_SYNTAX ? "syntax error: " : "", msg);
        break;
    }
    if (st != SHELF_SANDBOX_OK && st != SHELF_SANDBOX_NOMEM)
        lua_pop(L, 1);
    return rc;
}

/* Lmod shows strings with %q-like quoting in double quotes. */
static void add_quoted(shelf_buf *out, const char *s)
{
    shelf_buf_addc(out, '"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            shelf_buf_addc(out, '\\');
        if (*s == '\n')
            shelf_buf_adds(out, "\\n");
        else
            shelf_buf_addc(out, *s);
    }
    shelf_buf_addc(out, '"');
}

void shelf_mf_call_format(const shelf_mf_call *call, shelf_buf *out)
{
    shelf_buf_adds(out, call->fname);
    if (call->fn == SHELF_FN_HELP) {
        shelf_buf_adds(out, "([[");
        for (size_t i = 0; i < call->args.n; i++)
            shelf_buf_adds(out, call->args.v[i]);
        shelf_buf_adds(out, "]])");
        return;
    }
    shelf_buf_adds(out, call->table_form ? "{" : "(");
    for (size_t i = 0; i < call->args.n; i++) {
        if (i)
            shelf_buf_addc(out, ',');
        add_quoted(out, call->args.v[i]);
    }
    if (is_path_fn(call->fn) && strcmp(call->delim, ":") != 0) {
        shelf_buf_adds(out, call->table_form ? ",delim=" : ",");
        add_quoted(out, call->delim);
    }
    if (call->table_form && call->priority)
        shelf_buf_addf(out, ",priority=%d", call->priority);
    shelf_buf_adds(out, call->table_form ? "}" : ")");
}
