/*
 * config.c -- the site configuration of `shelf launch` (launch.lua): reads
 * it in a Lua sandbox and turns it into launch_config (plain C data), with
 * every field checked: a missing, unknown or ill-typed field is an error
 * naming the file, the line (of the Lua error, or of the profile's
 * `name = "..."`) and the field.
 *
 * The sandbox is libshelf's (shelf.h): what it gives every evaluation
 * (no load, dofile, loadfile, collectgarbage, print, io; pcall that cannot
 * catch the budgets) plus the constants SHELF_PREFIX, SHELF_DATADIR,
 * SHELF_SYSCONFDIR and SHELF_VERSION. The chunk runs under an instruction
 * budget, a time limit and a memory cap, so a broken file cannot hang or
 * exhaust the launcher. The returned table is read raw: no metamethod of
 * the file's runs once the chunk has returned. The sandbox lives only
 * inside launch_config_load.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#include "shelf.h"
#include "launch.h"

#define CONFIG_INSN_LIMIT 10000000
#define CONFIG_MEM_LIMIT (64u * 1024 * 1024)


typedef struct reader {
    lua_State *L;
    const char *file;
    const char *text;   /* the file, to find a profile's line */
    const char *where;  /* "profile \"train\"" or "defaults" */
    int line;
    char *msg;          /* first error, malloc'd */
} reader;

static int fail(reader *rd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(reader *rd, const char *fmt, ...)
{
    if (rd->msg)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    char *what = NULL;
    if (vasprintf(&what, fmt, ap) < 0)
        what = NULL;
    va_end(ap);
    if (!what)
        launch_oom();
    if (rd->line > 0)
        rd->msg = xfmt("%s:%d: %s: %s", rd->file, rd->line, rd->where ? rd->where : "", what);
    else if (rd->where)
        rd->msg = xfmt("%s: %s: %s", rd->file, rd->where, what);
    else
        rd->msg = xfmt("%s: %s", rd->file, what);
    free(what);
    return -1;
}

/* ---- the sandbox -------------------------------------------------------- */

/* Adds the constants to the sandbox's template (argument 1). */
static int install_constants(lua_State *L)
{
    /* the installation prefix: SHELF_DATADIR is PREFIX/share/shelf */
    static const char datadir[] = SHELF_DATADIR, tail[] = "/share/shelf";
    size_t n = strlen(datadir), t = strlen(tail);
    if (n > t && strcmp(datadir + n - t, tail) == 0)
        lua_pushlstring(L, datadir, n - t);
    else
        lua_pushstring(L, SHELF_DATADIR "/../..");
    lua_setfield(L, 1, "SHELF_PREFIX");
    lua_pushstring(L, SHELF_DATADIR);
    lua_setfield(L, 1, "SHELF_DATADIR");
    lua_pushstring(L, SHELF_SYSCONFDIR);
    lua_setfield(L, 1, "SHELF_SYSCONFDIR");
    lua_pushstring(L, PACKAGE_VERSION);
    lua_setfield(L, 1, "SHELF_VERSION");
    return 0;
}

/* Pushes t[key] of the table at idx, without metamethods. */
static int get_raw(lua_State *L, int idx, const char *key)
{
    idx = lua_absindex(L, idx);
    lua_pushstring(L, key);
    return lua_rawget(L, idx);
}

/* ---- fields ------------------------------------------------------------- */

/* The line of `name = "NAME"` in the text, or 0. */
static int find_line(const char *text, const char *name)
{
    size_t nlen = strlen(name);
    for (const char *p = strstr(text, "name"); p; p = strstr(p + 1, "name")) {
        if (p > text && (p[-1] == '_' || (p[-1] >= 'a' && p[-1] <= 'z')))
            continue;
        const char *q = p + 4;
        while (*q == ' ' || *q == '\t')
            q++;
        if (*q++ != '=')
            continue;
        while (*q == ' ' || *q == '\t')
            q++;
        if ((*q == '"' || *q == '\'') && strncmp(q + 1, name, nlen) == 0 && q[1 + nlen] == *q) {
            int line = 1;
            for (const char *c = text; c < p; c++)
                line += *c == '\n';
            return line;
        }
    }
    return 0;
}

/* Fails on any key of the table at idx that is not in `known`. */
static int check_keys(reader *rd, int idx, const char *what, const char *const known[])
{
    lua_State *L = rd->L;
    idx = lua_absindex(L, idx);
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        lua_pop(L, 1);
        if (lua_type(L, -1) != LUA_TSTRING) {
            lua_pop(L, 1);
            return fail(rd, "%s: keys must be names", what);
        }
        const char *k = lua_tostring(L, -1);
        int ok = 0;
        for (int i = 0; known[i] && !ok; i++)
            ok = strcmp(known[i], k) == 0;
        if (!ok) {
            int rc = fail(rd, "%s: unknown field \"%s\"", what, k);
            lua_pop(L, 1);
            return rc;
        }
    }
    return 0;
}

/* Pushes t[key] of the profile (index pi), else of the defaults (di, 0:
 * none). */
static int push_field(reader *rd, int pi, int di, const char *key)
{
    int t = get_raw(rd->L, pi, key);
    if (t == LUA_TNIL && di) {
        lua_pop(rd->L, 1);
        t = get_raw(rd->L, di, key);
    }
    return t;
}

/* The string at the top (popped) into *out; numbers are taken as their
 * text (cpu = 2). nil leaves *out NULL unless required. */
static int take_string(reader *rd, const char *key, int required, char **out)
{
    lua_State *L = rd->L;
    int t = lua_type(L, -1);
    int rc = 0;
    if (t == LUA_TNIL) {
        if (required)
            rc = fail(rd, "\"%s\" is required", key);
    } else if (t == LUA_TSTRING || t == LUA_TNUMBER) {
        const char *s = lua_tostring(L, -1);
        if (!*s)
            rc = fail(rd, "\"%s\" is empty", key);
        else
            *out = xstrdup(s);
    } else {
        rc = fail(rd, "\"%s\" must be a string, not a %s", key, luaL_typename(L, -1));
    }
    lua_pop(L, 1);
    return rc;
}

static int get_string(reader *rd, int pi, int di, const char *key, int required, char **out)
{
    push_field(rd, pi, di, key);
    return take_string(rd, key, required, out);
}

static int get_integer(reader *rd, int pi, int di, const char *key, long min, long max,
                       long dflt, long *out)
{
    lua_State *L = rd->L;
    push_field(rd, pi, di, key);
    int rc = 0;
    *out = dflt;
    if (lua_isnil(L, -1)) {
    } else if (lua_isinteger(L, -1)) {
        lua_Integer v = lua_tointeger(L, -1);
        if (v < min || v > max)
            rc = fail(rd, "\"%s\" must be between %ld and %ld", key, min, max);
        else
            *out = (long)v;
    } else {
        rc = fail(rd, "\"%s\" must be an integer", key);
    }
    lua_pop(L, 1);
    return rc;
}

static int get_bool(reader *rd, int idx, const char *key, int *out)
{
    lua_State *L = rd->L;
    get_raw(L, idx, key);
    int rc = 0;
    if (lua_isnil(L, -1))
        *out = 0;
    else if (lua_isboolean(L, -1))
        *out = lua_toboolean(L, -1);
    else
        rc = fail(rd, "\"%s\" must be true or false", key);
    lua_pop(L, 1);
    return rc;
}

/* A list of strings at the top (popped). */
static int take_list(reader *rd, const char *key, int required, shelf_strv *out)
{
    lua_State *L = rd->L;
    int rc = 0;
    if (lua_isnil(L, -1)) {
        if (required)
            rc = fail(rd, "\"%s\" is required", key);
    } else if (!lua_istable(L, -1)) {
        rc = fail(rd, "\"%s\" must be a list of strings", key);
    } else {
        lua_Integer n = (lua_Integer)lua_rawlen(L, -1);
        lua_pushnil(L);
        while (lua_next(L, -2)) {
            lua_pop(L, 1);
            if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 1 ||
                lua_tointeger(L, -1) > n) {
                lua_pop(L, 1);
                rc = fail(rd, "\"%s\" must be a list (1, 2, ...), not a table with names", key);
                break;
            }
        }
        for (lua_Integer i = 1; rc == 0 && i <= n; i++) {
            lua_rawgeti(L, -1, i);
            if (lua_type(L, -1) != LUA_TSTRING && lua_type(L, -1) != LUA_TNUMBER)
                rc = fail(rd, "\"%s\"[%lld] must be a string", key, (long long)i);
            else
                xpush(out, lua_tostring(L, -1));
            lua_pop(L, 1);
        }
        if (rc == 0 && required && out->n == 0)
            rc = fail(rd, "\"%s\" is empty", key);
    }
    lua_pop(L, 1);
    return rc;
}

/* A table of NAME = "value" (sorted by name). */
static int take_map(reader *rd, const char *key, launch_kv *out)
{
    lua_State *L = rd->L;
    int rc = 0;
    if (lua_isnil(L, -1)) {
    } else if (!lua_istable(L, -1)) {
        rc = fail(rd, "\"%s\" must be a table of name = \"value\"", key);
    } else {
        lua_pushnil(L);
        while (rc == 0 && lua_next(L, -2)) {
            if (lua_type(L, -2) != LUA_TSTRING ||
                (lua_type(L, -1) != LUA_TSTRING && lua_type(L, -1) != LUA_TNUMBER &&
                 lua_type(L, -1) != LUA_TBOOLEAN)) {
                rc = fail(rd, "\"%s\" must be a table of name = \"value\"", key);
            } else {
                const char *v = lua_isboolean(L, -1) ? (lua_toboolean(L, -1) ? "true" : "false")
                                                      : lua_tostring(L, -1);
                char *val = xstrdup(v);
                const char *k = lua_tostring(L, -2);
                size_t at = 0;
                while (at < out->keys.n && strcmp(out->keys.v[at], k) < 0)
                    at++;
                xpush(&out->keys, k);
                xpush(&out->values, val);
                free(val);
                /* keep sorted: move the new pair to `at` */
                for (size_t i = out->keys.n - 1; i > at; i--) {
                    char *tk = out->keys.v[i], *tv = out->values.v[i];
                    out->keys.v[i] = out->keys.v[i - 1];
                    out->values.v[i] = out->values.v[i - 1];
                    out->keys.v[i - 1] = tk;
                    out->values.v[i - 1] = tv;
                }
            }
            lua_pop(L, 1);
        }
        if (rc < 0)
            lua_pop(L, 1);
    }
    lua_pop(L, 1);
    return rc;
}

/* cpu = "2" (request and limit) or cpu = { request = "1", limit = "2" }. */
static int get_resource(reader *rd, int pi, int di, const char *key, char **req, char **lim)
{
    lua_State *L = rd->L;
    push_field(rd, pi, di, key);
    if (lua_istable(L, -1)) {
        static const char *const known[] = {"request", "limit", NULL};
        if (check_keys(rd, -1, key, known) < 0) {
            lua_pop(L, 1);
            return -1;
        }
        int t = lua_gettop(L);
        int rc = get_string(rd, t, 0, "request", 0, req);
        if (rc == 0)
            rc = get_string(rd, t, 0, "limit", 0, lim);
        lua_pop(L, 1);
        if (rc < 0)
            return -1;
    } else {
        if (take_string(rd, key, 0, req) < 0)
            return -1;
        if (*req)
            *lim = xstrdup(*req);
    }
    double v;
    if ((*req && launch_quantity(*req, &v) < 0) || (*lim && launch_quantity(*lim, &v) < 0))
        return fail(rd, "\"%s\" is not a Kubernetes quantity (\"500m\", \"2\", \"4Gi\")", key);
    double a, b;
    if (*req && *lim && launch_quantity(*req, &a) == 0 && launch_quantity(*lim, &b) == 0 &&
        a > b)
        return fail(rd, "\"%s\": the request is above the limit", key);
    return 0;
}

/* tree = { pvc = "x" | nfs = { server =, path = } | host_path = "/x",
 *          mount = "/opt/shelf", local_path = "/host/dir" } */
static int get_volume(reader *rd, int pi, int di, const char *key, int is_tree,
                      launch_volume *vol, char **local)
{
    lua_State *L = rd->L;
    push_field(rd, pi, di, key);
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        return is_tree ? fail(rd, "\"%s\" is required", key) : 0;
    }
    if (!lua_istable(L, -1)) {
        lua_pop(L, 1);
        return fail(rd, "\"%s\" must be a table", key);
    }
    static const char *const tree_keys[] = {"pvc", "nfs", "host_path", "mount",
                                            "local_path", NULL};
    static const char *const home_keys[] = {"pvc", "nfs", "host_path", "empty_dir",
                                            "mount", NULL};
    int t = lua_gettop(L);
    int rc = check_keys(rd, t, key, is_tree ? tree_keys : home_keys);
    char *nfs_server = NULL, *nfs_path = NULL;
    int kinds = 0, empty = 0;
    if (rc == 0)
        rc = get_string(rd, t, 0, "pvc", 0, &vol->claim);
    if (rc == 0)
        rc = get_string(rd, t, 0, "host_path", 0, &vol->path);
    if (rc == 0 && !is_tree)
        rc = get_bool(rd, t, "empty_dir", &empty);
    if (rc == 0)
        rc = get_string(rd, t, 0, "mount", 1, &vol->mount);
    if (rc == 0 && is_tree)
        rc = get_string(rd, t, 0, "local_path", 0, local);
    if (rc == 0 && get_raw(L, t, "nfs") != LUA_TNIL) {
        static const char *const nfs_keys[] = {"server", "path", NULL};
        if (!lua_istable(L, -1))
            rc = fail(rd, "\"%s.nfs\" must be { server = ..., path = ... }", key);
        else if ((rc = check_keys(rd, -1, "nfs", nfs_keys)) == 0 &&
                 (rc = get_string(rd, lua_gettop(L), 0, "server", 1, &nfs_server)) == 0)
            rc = get_string(rd, lua_gettop(L), 0, "path", 1, &nfs_path);
        kinds++;
    }
    lua_pop(L, 1);
    if (rc == 0) {
        if (vol->claim) {
            vol->kind = LAUNCH_VOL_PVC;
            kinds++;
        }
        if (vol->path) {
            vol->kind = LAUNCH_VOL_HOSTPATH;
            kinds++;
        }
        if (empty) {
            vol->kind = LAUNCH_VOL_EMPTYDIR;
            kinds++;
        }
        if (nfs_server) {
            vol->kind = LAUNCH_VOL_NFS;
            free(vol->path);
            vol->server = nfs_server;
            vol->path = nfs_path;
            nfs_server = nfs_path = NULL;
        }
        if (kinds != 1)
            rc = fail(rd, "\"%s\" needs exactly one of pvc, nfs, host_path%s", key,
                      is_tree ? "" : ", empty_dir");
        else if (vol->mount[0] != '/')
            rc = fail(rd, "\"%s.mount\" must be an absolute path", key);
        else if (local && *local && (*local)[0] != '/')
            rc = fail(rd, "\"%s.local_path\" must be an absolute path", key);
    }
    free(nfs_server);
    free(nfs_path);
    lua_pop(L, 1);
    return rc;
}

static const char *const profile_keys[] = {
    "name", "description", "kind", "image", "command", "local_command", "cpu", "memory",
    "gpus", "port", "uid", "gid", "node_selector", "tolerations", "tree", "modulepath",
    "prefix", "home", "env", "collection", "allow", NULL};

static int get_tolerations(reader *rd, int pi, int di, launch_profile *p)
{
    lua_State *L = rd->L;
    push_field(rd, pi, di, "tolerations");
    p->tolerations = xjson(cJSON_CreateArray());
    int rc = 0;
    if (!lua_isnil(L, -1)) {
        if (!lua_istable(L, -1)) {
            lua_pop(L, 1);
            return fail(rd, "\"tolerations\" must be a list of tables");
        }
        static const char *const known[] = {"key", "operator", "value", "effect",
                                            "toleration_seconds", NULL};
        lua_Integer n = (lua_Integer)lua_rawlen(L, -1);
        for (lua_Integer i = 1; rc == 0 && i <= n; i++) {
            lua_rawgeti(L, -1, i);
            int t = lua_gettop(L);
            if (!lua_istable(L, t)) {
                rc = fail(rd, "\"tolerations\"[%lld] must be a table", (long long)i);
            } else if ((rc = check_keys(rd, t, "tolerations", known)) == 0) {
                cJSON *tol = xjson(cJSON_CreateObject());
                cJSON_AddItemToArray(p->tolerations, tol);
                static const char *const strs[] = {"key", "operator", "value", "effect", NULL};
                for (int k = 0; rc == 0 && strs[k]; k++) {
                    char *s = NULL;
                    rc = get_string(rd, t, 0, strs[k], 0, &s);
                    if (s)
                        xjson(cJSON_AddStringToObject(tol, strs[k], s));
                    if (rc == 0 && s && strcmp(strs[k], "operator") == 0 &&
                        strcmp(s, "Exists") != 0 && strcmp(s, "Equal") != 0)
                        rc = fail(rd, "toleration operator must be \"Exists\" or \"Equal\"");
                    if (rc == 0 && s && strcmp(strs[k], "effect") == 0 &&
                        strcmp(s, "NoSchedule") != 0 && strcmp(s, "PreferNoSchedule") != 0 &&
                        strcmp(s, "NoExecute") != 0)
                        rc = fail(rd, "toleration effect must be NoSchedule, "
                                      "PreferNoSchedule or NoExecute");
                    free(s);
                }
                long secs;
                if (rc == 0 &&
                    (rc = get_integer(rd, t, 0, "toleration_seconds", 0, 1L << 40, -1, &secs)) ==
                        0 &&
                    secs >= 0)
                    xjson(cJSON_AddNumberToObject(tol, "tolerationSeconds", (double)secs));
            }
            lua_pop(L, 1);
        }
    }
    lua_pop(L, 1);
    return rc;
}

static int get_allow(reader *rd, int pi, int di, launch_profile *p)
{
    lua_State *L = rd->L;
    p->gpus_max = -1;
    push_field(rd, pi, di, "allow");
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        return 0;
    }
    static const char *const known[] = {"collection", "cpu_max", "memory_max", "gpus_max",
                                        "images", NULL};
    int t = lua_gettop(L);
    int rc = lua_istable(L, t) ? check_keys(rd, t, "allow", known)
                               : fail(rd, "\"allow\" must be a table");
    if (rc == 0)
        rc = get_bool(rd, t, "collection", &p->allow_collection);
    if (rc == 0)
        rc = get_string(rd, t, 0, "cpu_max", 0, &p->cpu_max);
    if (rc == 0)
        rc = get_string(rd, t, 0, "memory_max", 0, &p->memory_max);
    if (rc == 0)
        rc = get_integer(rd, t, 0, "gpus_max", 0, 64, -1, &p->gpus_max);
    if (rc == 0) {
        get_raw(L, t, "images");
        rc = take_list(rd, "images", 0, &p->images);
    }
    double v;
    if (rc == 0 && ((p->cpu_max && launch_quantity(p->cpu_max, &v) < 0) ||
                    (p->memory_max && launch_quantity(p->memory_max, &v) < 0)))
        rc = fail(rd, "\"allow\": cpu_max and memory_max must be Kubernetes quantities");
    lua_pop(L, 1);
    return rc;
}

static int read_profile(reader *rd, int pi, int di, launch_profile *p)
{
    lua_State *L = rd->L;
    if (!lua_istable(L, pi))
        return fail(rd, "each profile must be a table");
    get_raw(L, pi, "name");
    if (lua_type(L, -1) == LUA_TSTRING) {
        rd->line = find_line(rd->text, lua_tostring(L, -1));
        free((char *)rd->where);
        rd->where = xfmt("profile \"%s\"", lua_tostring(L, -1));
    }
    lua_pop(L, 1);
    p->line = rd->line;
    if (check_keys(rd, pi, "profile", profile_keys) < 0)
        return -1;
    if (get_string(rd, pi, 0, "name", 1, &p->name) < 0)
        return -1;
    char *label = launch_dns_label(p->name, 63);
    int same = label && strcmp(label, p->name) == 0;
    free(label);
    if (!same)
        return fail(rd, "a profile name must be a DNS label: a-z, 0-9 and '-'");
    if (get_string(rd, pi, di, "description", 0, &p->description) < 0 ||
        get_string(rd, pi, di, "kind", 0, &p->kind) < 0 ||
        get_string(rd, pi, di, "image", 1, &p->image) < 0)
        return -1;
    if (!p->kind)
        p->kind = xstrdup("pod");
    if (strcmp(p->kind, "pod") != 0 && strcmp(p->kind, "notebook") != 0)
        return fail(rd, "\"kind\" must be \"pod\" or \"notebook\"");
    push_field(rd, pi, di, "command");
    if (take_list(rd, "command", 1, &p->command) < 0)
        return -1;
    push_field(rd, pi, di, "local_command");
    if (take_list(rd, "local_command", 0, &p->local_command) < 0)
        return -1;
    if (get_resource(rd, pi, di, "cpu", &p->cpu_request, &p->cpu_limit) < 0 ||
        get_resource(rd, pi, di, "memory", &p->memory_request, &p->memory_limit) < 0 ||
        get_integer(rd, pi, di, "gpus", 0, 64, 0, &p->gpus) < 0)
        return -1;
    long port;
    if (get_integer(rd, pi, di, "port", 1, 65535, 8888, &port) < 0 ||
        get_integer(rd, pi, di, "uid", 1, 2147483647L, 1000, &p->uid) < 0 ||
        get_integer(rd, pi, di, "gid", 1, 2147483647L, 100, &p->gid) < 0)
        return -1;
    p->port = (int)port;
    push_field(rd, pi, di, "node_selector");
    if (take_map(rd, "node_selector", &p->node_selector) < 0)
        return -1;
    if (get_tolerations(rd, pi, di, p) < 0)
        return -1;
    if (get_volume(rd, pi, di, "tree", 1, &p->tree, &p->tree_local) < 0 ||
        get_volume(rd, pi, di, "home", 0, &p->home, NULL) < 0)
        return -1;
    if (p->home.kind == LAUNCH_VOL_NONE) {
        p->home.kind = LAUNCH_VOL_EMPTYDIR;
        p->home.mount = xstrdup("/home/jovyan");
    }
    push_field(rd, pi, di, "modulepath");
    if (take_list(rd, "modulepath", 1, &p->modulepath) < 0)
        return -1;
    if (get_string(rd, pi, di, "prefix", 0, &p->prefix) < 0)
        return -1;
    if (!p->prefix)
        p->prefix = xstrdup(p->tree.mount);
    push_field(rd, pi, di, "env");
    if (take_map(rd, "env", &p->env) < 0)
        return -1;
    for (size_t i = 0; i < p->env.keys.n; i++) {
        const char *k = p->env.keys.v[i];
        if (strcmp(k, "MODULEPATH") == 0 || strncmp(k, "SHELF_", 6) == 0 ||
            strcmp(k, "JUPYTER_TOKEN") == 0)
            return fail(rd, "\"env\" may not set %s (the launcher sets it)", k);
    }
    if (get_string(rd, pi, di, "collection", 0, &p->collection) < 0)
        return -1;
    if (get_allow(rd, pi, di, p) < 0)
        return -1;
    if (p->gpus_max >= 0 && p->gpus > p->gpus_max)
        return fail(rd, "\"gpus\" is above allow.gpus_max");
    return 0;
}

static int read_collections(reader *rd, int ti, launch_config *cfg)
{
    lua_State *L = rd->L;
    get_raw(L, ti, "collections");
    int rc = 0;
    free((char *)rd->where);
    rd->where = xstrdup("collections");
    rd->line = 0;
    if (lua_isnil(L, -1)) {
    } else if (!lua_istable(L, -1)) {
        rc = fail(rd, "must be a table of name = { \"module/version\", ... }");
    } else {
        lua_pushnil(L);
        while (rc == 0 && lua_next(L, -2)) {
            if (lua_type(L, -2) != LUA_TSTRING) {
                lua_pop(L, 1);
                rc = fail(rd, "must be a table of name = { \"module/version\", ... }");
                break;
            }
            const char *name = lua_tostring(L, -2);
            shelf_error err = {0};
            if (shelf_collection_name_check(name, &err) < 0) {
                rc = fail(rd, "%s", err.message ? err.message : "bad collection name");
                shelf_error_clear(&err);
                lua_pop(L, 1);
                break;
            }
            if (SHELF_GROW(cfg->coll_mods, cfg->coll_cap, cfg->coll_names.n + 1) < 0)
                launch_oom();
            shelf_strv_init(&cfg->coll_mods[cfg->coll_names.n]);
            xpush(&cfg->coll_names, name);
            char *key = xfmt("collections.%s", name);
            rc = take_list(rd, key, 1, &cfg->coll_mods[cfg->coll_names.n - 1]);
            free(key);
        }
    }
    lua_pop(L, 1);
    return rc;
}

int launch_config_load(const char *file, launch_config *cfg, char **msg)
{
    memset(cfg, 0, sizeof *cfg);
    shelf_strv_init(&cfg->coll_names);
    cfg->file = xstrdup(file);
    *msg = NULL;

    char *why = NULL;
    size_t text_len = 0;
    char *text = launch_read_text(file, &text_len, &why);
    if (!text) {
        *msg = xfmt("cannot read the launch configuration: %s", why);
        free(why);
        return SHELF_EIO;
    }

    reader rd = {.file = file, .text = text};
    static const shelf_eval_limits limits = {0, CONFIG_INSN_LIMIT, CONFIG_MEM_LIMIT};
    shelf_sandbox *sb = shelf_sandbox_new(&limits, install_constants);
    if (!sb)
        launch_oom();
    lua_State *L = shelf_sandbox_lua(sb);
    rd.L = L;
    int rc = 0;
    shelf_sandbox_run run = {file, rd.text, text_len, NULL, 1, 0};
    switch (shelf_sandbox_eval(sb, &run)) {
    case SHELF_SANDBOX_OK:
        break;
    case SHELF_SANDBOX_NOMEM:
        launch_oom();
    case SHELF_SANDBOX_INSTRUCTIONS:
    case SHELF_SANDBOX_TIME:
        if (run.line > 0)
            rd.msg = xfmt("%s:%d: the configuration runs too long (a loop that never ends?)",
                          file, run.line);
        else
            rd.msg = xfmt("%s: the configuration runs too long (a loop that never ends?)", file);
        rc = SHELF_EPARSE;
        goto out;
    case SHELF_SANDBOX_MEMORY:
        rd.msg = xfmt("%s: the configuration needs more than %u MiB of memory", file,
                      CONFIG_MEM_LIMIT >> 20);
        rc = SHELF_EPARSE;
        goto out;
    default: /* "file:line: message", as Lua says it */
        rd.msg = xfmt("%s", lua_tostring(L, -1));
        rc = SHELF_EPARSE;
        goto out;
    }
    if (!lua_istable(L, -1)) {
        fail(&rd, "must return a table: return { profiles = { ... } }");
        rc = SHELF_EPARSE;
        goto out;
    }
    int ti = lua_gettop(L);
    static const char *const top_keys[] = {"profiles", "defaults", "collections", NULL};
    if (check_keys(&rd, ti, "the returned table", top_keys) < 0) {
        rc = SHELF_EPARSE;
        goto out;
    }
    get_raw(L, ti, "defaults");
    int di = lua_gettop(L);
    if (lua_isnil(L, di)) {
        di = 0;
    } else if (!lua_istable(L, di)) {
        fail(&rd, "\"defaults\" must be a table");
        rc = SHELF_EPARSE;
        goto out;
    } else {
        rd.where = xstrdup("defaults");
        if (check_keys(&rd, di, "defaults", profile_keys) < 0) {
            rc = SHELF_EPARSE;
            goto out;
        }
        get_raw(L, di, "name");
        if (!lua_isnil(L, -1)) {
            fail(&rd, "\"name\" makes no sense in the defaults");
            rc = SHELF_EPARSE;
            goto out;
        }
        lua_pop(L, 1);
    }
    if (read_collections(&rd, ti, cfg) < 0) {
        rc = SHELF_EPARSE;
        goto out;
    }
    get_raw(L, ti, "profiles");
    int pl = lua_gettop(L);
    free((char *)rd.where);
    rd.where = NULL;
    if (!lua_istable(L, pl) || (lua_Integer)lua_rawlen(L, pl) == 0) {
        fail(&rd, "\"profiles\" must be a non-empty list of profiles");
        rc = SHELF_EPARSE;
        goto out;
    }
    lua_Integer n = (lua_Integer)lua_rawlen(L, pl);
    cfg->profiles = calloc((size_t)n, sizeof *cfg->profiles);
    if (!cfg->profiles)
        launch_oom();
    for (lua_Integer i = 1; i <= n; i++) {
        lua_rawgeti(L, pl, i);
        free((char *)rd.where);
        rd.where = xfmt("profile %lld", (long long)i);
        rd.line = 0;
        launch_profile *p = &cfg->profiles[cfg->n++];
        shelf_strv_init(&p->command);
        if (read_profile(&rd, lua_gettop(L), di, p) < 0) {
            rc = SHELF_EPARSE;
            goto out;
        }
        for (size_t j = 0; j + 1 < cfg->n; j++)
            if (strcmp(cfg->profiles[j].name, p->name) == 0) {
                fail(&rd, "a second profile named \"%s\"", p->name);
                rc = SHELF_EPARSE;
                goto out;
            }
        lua_pop(L, 1);
    }
out:
    shelf_sandbox_free(sb);
    free((char *)rd.where);
    free(text);
    if (rc < 0)
        *msg = rd.msg ? rd.msg : xfmt("%s: invalid", file);
    else
        free(rd.msg);
    return rc;
}

static void launch_kv_free(launch_kv *kv)
{
    shelf_strv_free(&kv->keys);
    shelf_strv_free(&kv->values);
}

static void volume_free(launch_volume *v)
{
    free(v->claim);
    free(v->server);
    free(v->path);
    free(v->mount);
}

void launch_config_free(launch_config *cfg)
{
    for (size_t i = 0; i < cfg->n; i++) {
        launch_profile *p = &cfg->profiles[i];
        free(p->name);
        free(p->description);
        free(p->kind);
        free(p->image);
        shelf_strv_free(&p->command);
        shelf_strv_free(&p->local_command);
        free(p->cpu_request);
        free(p->cpu_limit);
        free(p->memory_request);
        free(p->memory_limit);
        launch_kv_free(&p->node_selector);
        cJSON_Delete(p->tolerations);
        volume_free(&p->tree);
        free(p->tree_local);
        shelf_strv_free(&p->modulepath);
        free(p->prefix);
        volume_free(&p->home);
        launch_kv_free(&p->env);
        free(p->collection);
        free(p->cpu_max);
        free(p->memory_max);
        shelf_strv_free(&p->images);
    }
    free(cfg->profiles);
    for (size_t i = 0; i < cfg->coll_names.n; i++)
        shelf_strv_free(&cfg->coll_mods[i]);
    free(cfg->coll_mods);
    shelf_strv_free(&cfg->coll_names);
    free(cfg->file);
    memset(cfg, 0, sizeof *cfg);
}

const launch_profile *launch_config_find(const launch_config *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->n; i++)
        if (strcmp(cfg->profiles[i].name, name) == 0)
            return &cfg->profiles[i];
    return NULL;
}

const shelf_strv *launch_config_collection(const launch_config *cfg, const char *name)
{
    long i = shelf_strv_find(&cfg->coll_names, name);
    return i < 0 ? NULL : &cfg->coll_mods[i];
}

int launch_quantity(const char *s, double *out)
{
    static const struct {
        const char *suffix;
        double factor;
    } units[] = {{"Ki", 1024.0}, {"Mi", 1048576.0}, {"Gi", 1073741824.0},
                 {"Ti", 1099511627776.0}, {"Pi", 1125899906842624.0},
                 {"m", 1e-3}, {"k", 1e3}, {"M", 1e6}, {"G", 1e9}, {"T", 1e12}, {"P", 1e15},
                 {"", 1.0}};
    if (!s || !*s || !((*s >= '0' && *s <= '9') || *s == '.'))
        return -1;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || !isfinite(v) || v < 0)
        return -1;
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (strcmp(end, units[i].suffix) == 0) {
            *out = v * units[i].factor;
            return 0;
        }
    return -1;
}
