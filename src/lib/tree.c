/*
 * tree.c -- reading modulepath directories the way Lmod's DirTree and
 * ModuleA do: which files are modulefiles, which directories are modules
 * (see tree-internal.h), what the default markers say, and the full
 * listing of one modulepath directory (shelf_tree_scan).
 *
 * Directories are read lazily (tree_dir): markers, then entries, then
 * subdirectories, each at most once, so that name.c can look at just the
 * path of one name. Default markers, first found wins (Lmod's defaultFnT):
 * a `default` symlink, .modulerc.lua, .modulerc (Tcl), .version (Tcl);
 * a first marker that names no default still counts (then the highest
 * version is the default). Every marker file's aliases, symbolic versions
 * and hidden names are gathered into the tree_rc of its modulepath dir.
 *
 * .modulerc.lua runs in a pooled sandbox (the Lua sandbox of shelf.h)
 * with small budgets, holding what the sandbox gives every evaluation plus
 * module_version, module_alias, hide_version, hide_modulefile, isDir,
 * isFile, pathJoin and os.getenv; unknown globals are no-op functions. A
 * file that fails is ignored. The Tcl files are parsed, not run:
 * module-version, module-alias, hide-version, hide-modulefile, and `set
 * ModulesVersion`.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <lauxlib.h>
#include <lua.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "modulefile.h"
#include "shelf.h"
#include "shelf-internal.h"
#include "tree-internal.h"

#define META_PV "M.*zfinal"
#define RC_MEM_LIMIT (16u << 20)
#define RC_INSN_LIMIT 10000000

/* ---- small helpers -------------------------------------------------------- */

static char *str_cat3(const char *a, const char *b, const char *c)
{
    size_t la = strlen(a), lb = strlen(b), lc = strlen(c);
    char *s = malloc(la + lb + lc + 1);
    if (!s)
        return NULL;
    memcpy(s, a, la);
    memcpy(s + la, b, lb);
    memcpy(s + la + lb, c, lc + 1);
    return s;
}

/* rel + "/" + name, or name when rel is "". */
static char *rel_join(const char *rel, const char *name)
{
    return rel[0] ? str_cat3(rel, "/", name) : strdup(name);
}

int tree_keep_name(const char *name)
{
    static const char *const ignored[] = {".",    "..",         ".git", ".gitignore",
                                          ".svn", ".lua",       ".DS_Store"};
    size_t n = strlen(name);
    if (n == 0)
        return 0;
    for (size_t i = 0; i < sizeof ignored / sizeof ignored[0]; i++)
        if (strcmp(name, ignored[i]) == 0)
            return 0;
    if (name[n - 1] == '~' || name[0] == '#' || name[n - 1] == '#')
        return 0;
    if (shelf_str_starts(name, ".#") || shelf_str_starts(name, "__"))
        return 0;
    if (name[0] == '.' && shelf_str_ends(name, ".swp"))
        return 0;
    return 1;
}

/* 1 if the file starts with "#%Module" (how Lmod tells a Tcl modulefile
 * from any other file). */
static int has_tcl_header(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    char head[8];
    size_t got = 0;
    while (got < sizeof head) {
        ssize_t r = read(fd, head + got, sizeof head - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    return got == sizeof head && memcmp(head, "#%Module", 8) == 0;
}

static int is_regular(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static int is_readable_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode) &&
           access(path, R_OK | X_OK) == 0;
}

/* readlink into a new string; NULL on failure (errno set, ENOMEM on OOM). */
static char *read_link(const char *path)
{
    size_t cap = 128;
    for (;;) {
        char *buf = malloc(cap);
        if (!buf) {
            errno = ENOMEM;
            return NULL;
        }
        ssize_t n = readlink(path, buf, cap);
        if (n < 0) {
            free(buf);
            return NULL;
        }
        if ((size_t)n < cap) {
            buf[n] = '\0';
            return buf;
        }
        free(buf);
        cap *= 2;
    }
}

/* ---- tree_rc ------------------------------------------------------------ */

void tree_rc_init(tree_rc *rc)
{
    memset(rc, 0, sizeof *rc);
}

void tree_rc_free(tree_rc *rc)
{
    shelf_strv_free(&rc->alias_name);
    shelf_strv_free(&rc->alias_target);
    shelf_strv_free(&rc->sym_name);
    shelf_strv_free(&rc->sym_target);
    shelf_strv_free(&rc->hidden);
}

/* Sets key -> value in the parallel vectors (a later definition replaces
 * an earlier one, as a Lua table assignment does). */
static int map_set(shelf_strv *keys, shelf_strv *values, const char *key,
                   const char *value)
{
    long i = shelf_strv_find(keys, key);
    if (i >= 0) {
        char *v = strdup(value);
        if (!v)
            return SHELF_ENOMEM;
        free(values->v[i]);
        values->v[i] = v;
        return SHELF_OK;
    }
    if (shelf_strv_push(keys, key) < 0)
        return SHELF_ENOMEM;
    if (shelf_strv_push(values, value) < 0) {
        shelf_strv_remove(keys, keys->n - 1);
        return SHELF_ENOMEM;
    }
    return SHELF_OK;
}

static const char *map_lookup(const tree_rc *rcs, size_t n, int sym,
                              const char *key)
{
    for (size_t i = 0; i < n; i++) {
        const shelf_strv *k = sym ? &rcs[i].sym_name : &rcs[i].alias_name;
        const shelf_strv *v = sym ? &rcs[i].sym_target : &rcs[i].alias_target;
        long j = shelf_strv_find(k, key);
        if (j >= 0)
            return v->v[j];
    }
    return NULL;
}

static char *rc_resolve_depth(const tree_rc *rcs, size_t n, const char *name,
                              int depth)
{
    if (depth > 16)
        return strdup(name);
    /* Lmod resolves the alias target recursively but then keeps only the
     * target itself unless it is a symbolic version: alias -> alias stops
     * after one step. */
    const char *alias = map_lookup(rcs, n, 0, name);
    if (alias)
        name = alias;
    const char *sym = map_lookup(rcs, n, 1, name);
    if (!sym)
        return strdup(name);
    return rc_resolve_depth(rcs, n, sym, depth + 1);
}

char *tree_rc_resolve(const tree_rc *rcs, size_t n, const char *name)
{
    return rc_resolve_depth(rcs, n, name, 0);
}

int tree_hidden_list(const tree_rc *rcs, size_t n, shelf_strv *out)
{
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < rcs[i].hidden.n; j++)
            if (shelf_strv_push_owned(out, tree_rc_resolve(rcs, n,
                                                           rcs[i].hidden.v[j])) < 0)
                return SHELF_ENOMEM;
    return SHELF_OK;
}

static int tree_visible(const shelf_strv *hidden, const char *fullname,
                 const char *path)
{
    if (fullname[0] == '.' || strstr(fullname, "/."))
        return 0;
    if (hidden && (shelf_strv_find(hidden, fullname) >= 0 ||
                   (path && shelf_strv_find(hidden, path) >= 0)))
        return 0;
    return 1;
}

/* ---- the calls made by one rc file -------------------------------------- */

enum { CALL_VERSION = 'V', CALL_ALIAS = 'A', CALL_HIDE = 'H', CALL_DEFAULT = 'D' };

typedef struct rc_call {
    int kind;
    shelf_strv args;
} rc_call;

typedef struct rc_calls {
    rc_call *v;
    size_t n, cap;
    int oom;
    char *const *env; /* what os.getenv() sees */
} rc_calls;

static void calls_free(rc_calls *c)
{
    for (size_t i = 0; i < c->n; i++)
        shelf_strv_free(&c->v[i].args);
    free(c->v);
    memset(c, 0, sizeof *c);
}

/* Appends a call taking ownership of args (freed on failure). */
static int calls_add(rc_calls *c, int kind, shelf_strv *args)
{
    if (SHELF_GROW(c->v, c->cap, c->n + 1) < 0) {
        shelf_strv_free(args);
        c->oom = 1;
        return SHELF_ENOMEM;
    }
    c->v[c->n].kind = kind;
    c->v[c->n].args = *args;
    c->n++;
    shelf_strv_init(args);
    return SHELF_OK;
}

/* Applies the calls of the rc file found in directory `rel` to rc, as
 * Lmod's MRC:parseModA_for_moduleA; *default_value receives the default it
 * names (or NULL). */
static int calls_apply(const rc_calls *c, const char *rel, tree_rc *rc,
                       char **default_value)
{
    char *dflt = NULL;
    int rcode = SHELF_OK;
    for (size_t i = 0; i < c->n && rcode == SHELF_OK; i++) {
        const rc_call *call = &c->v[i];
        const char *a0 = call->args.v[0];
        if (call->kind == CALL_DEFAULT) {
            char *d = strdup(a0);
            if (!d)
                rcode = SHELF_ENOMEM;
            free(dflt);
            dflt = d;
        } else if (call->kind == CALL_HIDE) {
            rcode = shelf_strv_push(&rc->hidden, a0);
        } else if (call->kind == CALL_ALIAS) {
            char *name = a0[0] == '/' ? str_cat3(rel, a0, "") : strdup(a0);
            if (!name) {
                rcode = SHELF_ENOMEM;
                break;
            }
            rcode = map_set(&rc->alias_name, &rc->alias_target, name,
                            call->args.v[1]);
            free(name);
        } else if (call->kind == CALL_VERSION) {
            char *full0 = a0[0] == '/' ? str_cat3(rel, a0, "") : strdup(a0);
            char *full = full0 ? tree_rc_resolve(rc, 1, full0) : NULL;
            free(full0);
            if (!full) {
                rcode = SHELF_ENOMEM;
                break;
            }
            const char *slash = strrchr(full, '/');
            for (size_t j = 1; j < call->args.n && rcode == SHELF_OK; j++) {
                const char *v = call->args.v[j];
                if (strcmp(v, "default") == 0) {
                    char *d = strdup(full);
                    if (!d)
                        rcode = SHELF_ENOMEM;
                    free(dflt);
                    dflt = d;
                } else if (slash) {
                    shelf_buf key;
                    shelf_buf_init(&key);
                    shelf_buf_add(&key, full, (size_t)(slash - full) + 1);
                    shelf_buf_adds(&key, v);
                    char *k = shelf_buf_take(&key);
                    rcode = k ? map_set(&rc->sym_name, &rc->sym_target, k, full)
                              : SHELF_ENOMEM;
                    free(k);
                }
            }
            free(full);
        }
    }
    if (rcode != SHELF_OK) {
        free(dflt);
        return rcode;
    }
    *default_value = dflt;
    return SHELF_OK;
}

/* ---- .modulerc.lua in a small sandbox ------------------------------------ */

/* module_version(name, v...), module_alias(name, target),
 * hide_version(name), hide_modulefile(path): record the call. Calls with
 * arguments that are not strings are ignored. */
static int rc_lua_call(lua_State *L)
{
    rc_calls *calls = shelf_sandbox_ud(L);
    int kind = (int)lua_tointeger(L, lua_upvalueindex(1));
    int top = lua_gettop(L);
    int want = kind == CALL_ALIAS ? 2 : 1;
    if (top < want)
        return 0;
    if (kind != CALL_VERSION)
        top = want;
    for (int i = 1; i <= top; i++) { /* what may raise, before anything is held */
        if (lua_type(L, i) != LUA_TSTRING && lua_type(L, i) != LUA_TNUMBER)
            return 0;
        lua_tostring(L, i);
    }
    shelf_strv args;
    shelf_strv_init(&args);
    for (int i = 1; i <= top; i++) {
        if (shelf_strv_push(&args, lua_tostring(L, i)) < 0) {
            shelf_strv_free(&args);
            calls->oom = 1;
            return shelf_sandbox_abort(L);
        }
    }
    if (calls_add(calls, kind, &args) < 0)
        return shelf_sandbox_abort(L);
    return 0;
}

static int rc_lua_nop(lua_State *L)
{
    (void)L;
    return 0;
}

static int rc_lua_index(lua_State *L)
{
    lua_pushcfunction(L, rc_lua_nop);
    return 1;
}

static int rc_lua_getenv(lua_State *L)
{
    const char *name = luaL_checkstring(L, 1);
    const rc_calls *calls = shelf_sandbox_ud(L);
    const char *v = shelf_environ_get(calls->env, name);
    if (v)
        lua_pushstring(L, v);
    else
        lua_pushnil(L);
    return 1;
}

/* Adds the .modulerc.lua functions to the sandbox's template (argument 1). */
static int rc_install(lua_State *L)
{
    lua_settop(L, 1);
    lua_getfield(L, 1, "os");
    lua_pushcfunction(L, rc_lua_getenv);
    lua_setfield(L, -2, "getenv");
    lua_pop(L, 1);
    static const struct {
        const char *name;
        int kind;
    } api[] = {{"module_version", CALL_VERSION},
               {"module_alias", CALL_ALIAS},
               {"hide_version", CALL_HIDE},
               {"hide_modulefile", CALL_HIDE}};
    for (size_t i = 0; i < sizeof api / sizeof api[0]; i++) {
        lua_pushinteger(L, api[i].kind);
        lua_pushcclosure(L, rc_lua_call, 1);
        lua_setfield(L, 1, api[i].name);
    }
    static const luaL_Reg funcs[] = {{"pathJoin", shelf_lua_path_join},
                                     {"isDir", shelf_lua_is_dir},
                                     {"isFile", shelf_lua_is_file},
                                     {NULL, NULL}};
    luaL_setfuncs(L, funcs, 0);
    lua_newtable(L); /* unknown functions do nothing */
    lua_pushcfunction(L, rc_lua_index);
    lua_setfield(L, -2, "__index");
    lua_setmetatable(L, 1);
    return 0;
}

/* Fills calls from a .modulerc.lua. A file that cannot be read or fails
 * to run gives no calls. 0 or SHELF_ENOMEM. */
static int rc_read_lua(const char *path, const char *text, size_t len,
                       rc_calls *calls)
{
    static const shelf_eval_limits limits = {0, RC_INSN_LIMIT, RC_MEM_LIMIT};
    shelf_sandbox *sb = shelf_sandbox_take(&limits, rc_install);
    if (!sb)
        return SHELF_ENOMEM;
    shelf_sandbox_run run = {path, text, len, calls, 0, 0};
    int st = shelf_sandbox_eval(sb, &run);
    shelf_sandbox_give(sb);
    if (st == SHELF_SANDBOX_NOMEM || calls->oom)
        return SHELF_ENOMEM;
    if (st != SHELF_SANDBOX_OK)
        calls_free(calls); /* Lmod rejects the whole file */
    return SHELF_OK;
}

/* ---- Tcl .modulerc and .version ------------------------------------------ */

/* Reads one Tcl word at *pp into w; stops at a command end. Returns 0 at
 * the end of the command (no word), 1 for a word. Substitutions ($x, [c])
 * are kept as text. */
static int tcl_word(const char **pp, shelf_buf *w)
{
    const char *p = *pp;
    while (*p == ' ' || *p == '\t' || *p == '\r' ||
           (*p == '\\' && p[1] == '\n'))
        p += (*p == '\\') ? 2 : 1;
    if (*p == '\0' || *p == '\n' || *p == ';') {
        *pp = p;
        return 0;
    }
    shelf_buf_reset(w);
    shelf_buf_adds(w, "");
    if (*p == '{') {
        int depth = 1;
        p++;
        while (*p) {
            if (*p == '\\' && p[1]) {
                shelf_buf_add(w, p, 2);
                p += 2;
                continue;
            }
            if (*p == '{')
                depth++;
            else if (*p == '}' && --depth == 0) {
                p++;
                break;
            }
            shelf_buf_addc(w, *p++);
        }
    } else {
        int quoted = *p == '"';
        if (quoted)
            p++;
        while (*p) {
            if (quoted ? *p == '"'
                       : (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n' ||
                          *p == ';'))
                break;
            if (*p == '\\' && p[1]) {
                char c = p[1];
                shelf_buf_addc(w, c == 'n' ? '\n' : c == 't' ? '\t' : c);
                p += 2;
                continue;
            }
            shelf_buf_addc(w, *p++);
        }
        if (quoted && *p == '"')
            p++;
    }
    *pp = p;
    return 1;
}

static int rc_read_tcl(const char *text, rc_calls *calls)
{
    shelf_buf w;
    shelf_buf_init(&w);
    shelf_strv words;
    shelf_strv_init(&words);
    char *modules_version = NULL;
    int rcode = SHELF_OK;
    const char *p = text;
    while (*p && rcode == SHELF_OK) {
        while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n' || *p == ';')
            p++;
        if (*p == '#') {
            while (*p && *p != '\n')
                p++;
            continue;
        }
        shelf_strv_free(&words);
        while (tcl_word(&p, &w)) {
            if (shelf_buf_ok(&w) < 0 || shelf_strv_push(&words, w.data) < 0) {
                rcode = SHELF_ENOMEM;
                break;
            }
        }
        if (*p)
            p++;
        if (rcode != SHELF_OK || words.n == 0)
            continue;
        const char *cmd = words.v[0];
        int kind = 0;
        size_t want = 0;
        if (strcmp(cmd, "module-version") == 0 && words.n >= 3)
            kind = CALL_VERSION, want = words.n - 1;
        else if (strcmp(cmd, "module-alias") == 0 && words.n >= 3)
            kind = CALL_ALIAS, want = 2;
        else if ((strcmp(cmd, "hide-version") == 0 ||
                  strcmp(cmd, "hide-modulefile") == 0) && words.n >= 2)
            kind = CALL_HIDE, want = 1;
        else if (strcmp(cmd, "set") == 0 && words.n >= 3 &&
                 (strcmp(words.v[1], "ModulesVersion") == 0 ||
                  strcmp(words.v[1], "ModuleVersion") == 0)) {
            /* ModulesVersion, when set, wins over ModuleVersion */
            if (!modules_version || strcmp(words.v[1], "ModulesVersion") == 0) {
                char *v = strdup(words.v[2]);
                if (!v)
                    rcode = SHELF_ENOMEM;
                free(modules_version);
                modules_version = v;
            }
            continue;
        }
        if (!kind)
            continue;
        shelf_strv args;
        shelf_strv_init(&args);
        for (size_t i = 1; i <= want && rcode == SHELF_OK; i++)
            rcode = shelf_strv_push(&args, words.v[i]);
        if (rcode == SHELF_OK)
            rcode = calls_add(calls, kind, &args);
        else
            shelf_strv_free(&args);
    }
    if (rcode == SHELF_OK && modules_version) {
        shelf_strv args;
        shelf_strv_init(&args);
        rcode = shelf_strv_push(&args, modules_version);
        if (rcode == SHELF_OK)
            rcode = calls_add(calls, CALL_DEFAULT, &args);
    }
    free(modules_version);
    shelf_strv_free(&words);
    shelf_buf_free(&w);
    return rcode;
}

/* Appends the whole file to text. SHELF_EIO when it cannot be read (the
 * caller ignores such a file), SHELF_ENOMEM. open/read allocate nothing,
 * so a failure here is never a disguised lack of memory. */
static int read_all(const char *path, shelf_buf *text)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOMEM ? SHELF_ENOMEM : SHELF_EIO;
    char chunk[4096];
    int r = SHELF_OK;
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            r = SHELF_EIO;
            break;
        }
        if (n == 0)
            break;
        shelf_buf_add(text, chunk, (size_t)n);
    }
    close(fd);
    shelf_buf_adds(text, "");
    if (shelf_buf_ok(text) < 0)
        return SHELF_ENOMEM;
    return r;
}

/* Reads an rc file and applies it. A file that cannot be read says
 * nothing. */
static int rc_file(const char *path, int is_lua, const char *rel, tree_rc *rc,
                   char **default_value)
{
    *default_value = NULL;
    shelf_buf text;
    shelf_buf_init(&text);
    int r = read_all(path, &text);
    if (r != SHELF_OK) {
        shelf_buf_free(&text);
        return r == SHELF_ENOMEM ? r : SHELF_OK;
    }
    rc_calls calls = {.env = rc->env};
    r = is_lua ? rc_read_lua(path, text.data, text.len, &calls)
               : rc_read_tcl(text.data, &calls);
    shelf_buf_free(&text);
    if (r == SHELF_OK)
        r = calls_apply(&calls, rel, rc, default_value);
    calls_free(&calls);
    return r;
}

/* ---- tree_dir ----------------------------------------------------------- */

tree_dir *tree_dir_new(const char *mpath, const char *rel)
{
    tree_dir *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->nonempty = -1;
    d->path = rel[0] ? shelf_path_join(mpath, rel) : strdup(mpath);
    d->rel = strdup(rel);
    const char *slash = strrchr(rel, '/');
    d->name = strdup(slash ? slash + 1 : rel);
    for (const char *p = rel; *p; p++)
        d->depth += *p == '/';
    d->depth += rel[0] != '\0';
    if (!d->path || !d->rel || !d->name) {
        tree_dir_free(d);
        return NULL;
    }
    return d;
}

static void file_free(tree_file *f)
{
    free(f->name);
    free(f->path);
}

void tree_dir_free(tree_dir *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->nfiles; i++)
        file_free(&d->files[i]);
    free(d->files);
    for (size_t i = 0; i < d->ndirs; i++)
        tree_dir_free(d->dirs[i]);
    free(d->dirs);
    free(d->path);
    free(d->rel);
    free(d->name);
    free(d->default_value);
    shelf_strv_free(&d->absent);
    free(d);
}

/* 1 if `name` was found not to exist in d before (no need to look again). */
static int known_absent(const tree_dir *d, const char *name)
{
    return shelf_strv_find(&d->absent, name) >= 0;
}

/* Remembers that `name` does not exist in d; forgetting on OOM only costs
 * a later look. */
static void note_absent(tree_dir *d, const char *name)
{
    (void)shelf_strv_push(&d->absent, name);
}

/* The marker names, as bits of the `present` mask of read_markers(). */
enum {
    MARK_DEFAULT = 1,
    MARK_MODULERC_LUA = 2,
    MARK_MODULERC = 4,
    MARK_VERSION = 8,
    MARK_ALL = 15
};

static unsigned marker_bit(const char *name)
{
    return strcmp(name, "default") == 0         ? MARK_DEFAULT
           : strcmp(name, ".modulerc.lua") == 0 ? MARK_MODULERC_LUA
           : strcmp(name, ".modulerc") == 0     ? MARK_MODULERC
           : strcmp(name, ".version") == 0      ? MARK_VERSION
                                                : 0;
}

/* Reads d's markers once. `present` says which marker names may exist
 * (MARK_ALL when d was not listed): absent ones cost no file-system call. */
static int read_markers(tree_dir *d, tree_rc *rc, unsigned present)
{
    if (d->markers_read)
        return SHELF_OK;
    d->markers_read = 1;
    int found = 0;

    /* 1: a `default` symlink names the default (a regular file called
     * `default` is a modulefile that is also the default). */
    char *p = shelf_path_join(d->path, "default");
    if (!p)
        return SHELF_ENOMEM;
    struct stat st;
    if ((present & MARK_DEFAULT) && lstat(p, &st) == 0 &&
        (S_ISLNK(st.st_mode) || S_ISREG(st.st_mode))) {
        char *value;
        if (S_ISLNK(st.st_mode)) {
            char *target = read_link(p);
            if (!target && errno == ENOMEM) {
                free(p);
                return SHELF_ENOMEM;
            }
            const char *base = target ? strrchr(target, '/') : NULL;
            value = strdup(target ? (base ? base + 1 : target) : "");
            free(target);
            if (value && shelf_str_ends(value, ".lua"))
                value[strlen(value) - 4] = '\0';
        } else {
            value = strdup("default");
        }
        if (!value) {
            free(p);
            return SHELF_ENOMEM;
        }
        d->default_value = value;
        found = 1;
    }
    free(p);

    static const struct {
        const char *name;
        int is_lua;
        unsigned bit;
    } rcfiles[] = {{".modulerc.lua", 1, MARK_MODULERC_LUA},
                   {".modulerc", 0, MARK_MODULERC},
                   {".version", 0, MARK_VERSION}};
    for (size_t i = 0; i < sizeof rcfiles / sizeof rcfiles[0]; i++) {
        if (!(present & rcfiles[i].bit))
            continue;
        p = shelf_path_join(d->path, rcfiles[i].name);
        if (!p)
            return SHELF_ENOMEM;
        if (is_regular(p)) {
            char *value = NULL;
            int r = rc_file(p, rcfiles[i].is_lua, d->rel, rc, &value);
            if (r != SHELF_OK) {
                free(p);
                return r;
            }
            if (!found)
                d->default_value = value;
            else
                free(value);
            found = 1;
        }
        free(p);
    }
    d->has_marker = found;
    return SHELF_OK;
}

int tree_dir_markers(const char *mpath, tree_dir *d, tree_rc *rc)
{
    (void)mpath;
    /* A MODULEPATH directory holds packages, not versions: only its rc
     * files mean something (a `default` or `.version` there names nothing). */
    return read_markers(d, rc, MARK_MODULERC_LUA | MARK_MODULERC);
}

static int add_file(tree_dir *d, const char *name, size_t namelen,
                    const char *path, int is_lua)
{
    if (SHELF_GROW(d->files, d->capfiles, d->nfiles + 1) < 0)
        return SHELF_ENOMEM;
    tree_file f = {strndup(name, namelen), strdup(path), (unsigned)is_lua};
    if (!f.name || !f.path) {
        file_free(&f);
        return SHELF_ENOMEM;
    }
    d->files[d->nfiles++] = f;
    return SHELF_OK;
}

static tree_dir *find_child(const tree_dir *d, const char *name)
{
    for (size_t i = 0; i < d->ndirs; i++)
        if (strcmp(d->dirs[i]->name, name) == 0)
            return d->dirs[i];
    return NULL;
}

static tree_dir *add_child(const char *mpath, tree_dir *d, const char *name)
{
    if (SHELF_GROW(d->dirs, d->capdirs, d->ndirs + 1) < 0)
        return NULL;
    char *rel = rel_join(d->rel, name);
    tree_dir *c = rel ? tree_dir_new(mpath, rel) : NULL;
    free(rel);
    if (c)
        d->dirs[d->ndirs++] = c;
    return c;
}

static int file_cmp(const void *a, const void *b)
{
    const tree_file *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : (int)y->is_lua - (int)x->is_lua; /* .lua first */
}

static int dir_cmp(const void *a, const void *b)
{
    const tree_dir *const *x = a, *const *y = b;
    return strcmp((*x)->name, (*y)->name);
}

static int tree_dir_list(const char *mpath, tree_dir *d, tree_rc *rc)
{
    if (d->listed)
        return SHELF_OK;
    d->listed = 1;
    DIR *dir = d->depth > TREE_MAX_DEPTH ? NULL : opendir(d->path);
    if (!dir) { /* too deep or unreadable: lists as empty */
        if (errno == ENOMEM)
            return SHELF_ENOMEM;
        return read_markers(d, rc, d->depth > TREE_MAX_DEPTH ? MARK_ALL : 0);
    }
    shelf_buf full;
    shelf_buf_init(&full);
    struct dirent *de;
    int r = SHELF_OK;
    unsigned present = 0; /* the marker names seen */
    while (r == SHELF_OK && (de = readdir(dir)) != NULL) {
        const char *name = de->d_name;
        present |= marker_bit(name);
        if (!tree_keep_name(name))
            continue;
        shelf_buf_reset(&full);
        shelf_buf_adds(&full, d->path);
        shelf_buf_addc(&full, '/');
        shelf_buf_adds(&full, name);
        if (shelf_buf_ok(&full) < 0) {
            r = SHELF_ENOMEM;
            break;
        }
        int is_dir = de->d_type == DT_DIR, is_file = de->d_type == DT_REG;
        if (strcmp(name, "default") == 0 && de->d_type == DT_LNK)
            continue; /* a marker, read by tree_dir_markers */
        if (!is_dir && !is_file) {
            struct stat st;
            if (stat(full.data, &st) != 0)
                continue; /* dangling symlink */
            is_dir = S_ISDIR(st.st_mode);
            is_file = S_ISREG(st.st_mode);
            if (is_file && strcmp(name, "default") == 0) {
                struct stat lst;
                if (lstat(full.data, &lst) == 0 && S_ISLNK(lst.st_mode))
                    continue;
            }
        }
        if (is_dir) {
            if (access(full.data, R_OK | X_OK) != 0)
                continue; /* unreadable subdirectory */
            if (!find_child(d, name) && !add_child(mpath, d, name))
                r = SHELF_ENOMEM;
            continue;
        }
        if (!is_file)
            continue;
        if (strcmp(name, ".modulerc.lua") == 0 || strcmp(name, ".modulerc") == 0 ||
            strcmp(name, ".version") == 0)
            continue;
        size_t len = strlen(name);
        if (shelf_str_ends(name, ".lua"))
            r = add_file(d, name, len - 4, full.data, 1);
        else if (strcmp(name, "default") == 0 || has_tcl_header(full.data))
            r = add_file(d, name, len, full.data, 0);
    }
    closedir(dir);
    shelf_buf_free(&full);
    if (r == SHELF_OK)
        r = read_markers(d, rc, present);
    if (r != SHELF_OK)
        return r;
    /* sort, and keep only the .lua file of a name that has both */
    if (d->nfiles > 1)
        qsort(d->files, d->nfiles, sizeof *d->files, file_cmp);
    size_t w = 0;
    for (size_t i = 0; i < d->nfiles; i++) {
        if (w > 0 && strcmp(d->files[w - 1].name, d->files[i].name) == 0) {
            file_free(&d->files[i]);
            continue;
        }
        d->files[w++] = d->files[i];
    }
    d->nfiles = w;
    if (d->ndirs > 1)
        qsort(d->dirs, d->ndirs, sizeof *d->dirs, dir_cmp);
    return SHELF_OK;
}

int tree_dir_nonempty(const char *mpath, tree_dir *d, tree_rc *rc)
{
    if (d->nonempty >= 0)
        return d->nonempty;
    int r = tree_dir_list(mpath, d, rc);
    if (r != SHELF_OK)
        return r;
    int found = d->nfiles > 0;
    for (size_t i = 0; i < d->ndirs && !found; i++) {
        r = tree_dir_nonempty(mpath, d->dirs[i], rc);
        if (r < 0)
            return r;
        found = r;
    }
    d->nonempty = found;
    return found;
}

int tree_dir_load(const char *mpath, tree_dir *d, tree_rc *rc)
{
    if (d->loaded)
        return SHELF_OK;
    int r = tree_dir_list(mpath, d, rc);
    if (r != SHELF_OK)
        return r;
    size_t w = 0;
    for (size_t i = 0; i < d->ndirs; i++) {
        tree_dir *c = d->dirs[i];
        r = tree_dir_load(mpath, c, rc);
        if (r != SHELF_OK) {
            /* keep the array consistent before failing */
            memmove(d->dirs + w, d->dirs + i, (d->ndirs - i) * sizeof *d->dirs);
            d->ndirs = w + (d->ndirs - i);
            return r;
        }
        if (c->nfiles == 0 && c->ndirs == 0)
            tree_dir_free(c);
        else
            d->dirs[w++] = c;
    }
    d->ndirs = w;
    d->nonempty = d->nfiles > 0 || d->ndirs > 0;
    d->loaded = 1;
    return SHELF_OK;
}

tree_dir *tree_dir_lookup(const char *mpath, tree_dir *d, const char *name,
                          int *oom, int *absent)
{
    *absent = 0;
    if (!tree_keep_name(name) || strchr(name, '/'))
        return NULL;
    tree_dir *c = find_child(d, name);
    if (c || d->listed)
        return c;
    if (known_absent(d, name)) {
        *absent = 1;
        return NULL;
    }
    char *p = shelf_path_join(d->path, name);
    if (!p) {
        *oom = 1;
        return NULL;
    }
    struct stat st;
    int ok = stat(p, &st) == 0;
    *absent = !ok && errno == ENOENT;
    if (*absent)
        note_absent(d, name);
    /* No access() check: an unreadable directory lists as empty, which
     * makes it no module, as skipping it would. */
    ok = ok && S_ISDIR(st.st_mode);
    free(p);
    if (!ok)
        return NULL;
    c = add_child(mpath, d, name);
    if (!c)
        *oom = 1;
    return c;
}

int tree_dir_find_file(tree_dir *d, const char *name, int plain_absent,
                       tree_file *out)
{
    memset(out, 0, sizeof *out);
    if (strchr(name, '/'))
        return 0;
    if (d->listed) { /* the listing knows: no file-system call */
        for (size_t i = 0; i < d->nfiles; i++) {
            if (strcmp(d->files[i].name, name) != 0)
                continue;
            out->name = strdup(d->files[i].name);
            out->path = strdup(d->files[i].path);
            out->is_lua = d->files[i].is_lua;
            if (!out->name || !out->path) {
                file_free(out);
                return SHELF_ENOMEM;
            }
            return 1;
        }
        return 0;
    }
    char *lua = str_cat3(name, ".lua", "");
    if (!lua)
        return SHELF_ENOMEM;
    int keep = tree_keep_name(lua) && !known_absent(d, lua);
    char *p = keep ? shelf_path_join(d->path, lua) : NULL;
    if (keep && !p) {
        free(lua);
        return SHELF_ENOMEM;
    }
    struct stat st;
    int lua_exists = p && stat(p, &st) == 0;
    if (p && !lua_exists && errno == ENOENT)
        note_absent(d, lua);
    free(lua);
    if (lua_exists && S_ISREG(st.st_mode)) {
        out->name = strdup(name);
        out->path = p;
        out->is_lua = 1;
        if (!out->name) {
            file_free(out);
            return SHELF_ENOMEM;
        }
        return 1;
    }
    free(p);
    if (plain_absent || !tree_keep_name(name) || strcmp(name, ".modulerc") == 0 ||
        strcmp(name, ".version") == 0)
        return 0;
    p = shelf_path_join(d->path, name);
    if (!p)
        return SHELF_ENOMEM;
    if (is_regular(p) && has_tcl_header(p)) {
        out->name = strdup(name);
        out->path = p;
        if (!out->name) {
            file_free(out);
            return SHELF_ENOMEM;
        }
        return 1;
    }
    free(p);
    return 0;
}

int tree_dir_is_module(const char *mpath, tree_dir *d, tree_rc *rc)
{
    int r = tree_dir_list(mpath, d, rc);
    if (r != SHELF_OK)
        return r;
    if (d->has_marker)
        return 1;
    for (size_t i = 0; i < d->ndirs; i++) {
        r = tree_dir_nonempty(mpath, d->dirs[i], rc);
        if (r != 0)
            return r < 0 ? r : 0;
    }
    return 1;
}

/* ---- entries ---------------------------------------------------------------- */

void shelf_modfile_free(shelf_modfile *mf)
{
    if (!mf)
        return;
    free(mf->fullname);
    free(mf->sn);
    free(mf->version);
    free(mf->path);
    free(mf->mpath);
    memset(mf, 0, sizeof *mf);
}

int shelf_modfile_copy(shelf_modfile *dst, const shelf_modfile *src)
{
    shelf_modfile m = *src;
    m.fullname = strdup(src->fullname);
    m.sn = strdup(src->sn);
    m.version = strdup(src->version);
    m.path = strdup(src->path);
    m.mpath = strdup(src->mpath);
    if (!m.fullname || !m.sn || !m.version || !m.path || !m.mpath) {
        shelf_modfile_free(&m);
        return SHELF_ENOMEM;
    }
    *dst = m;
    return SHELF_OK;
}

static void entry_free(tree_entry *e)
{
    shelf_modfile_free(&e->mf);
    free(e->dir);
    free(e->pv);
    free(e->wv);
}

void tree_entries_free(tree_entries *es)
{
    for (size_t i = 0; i < es->n; i++)
        entry_free(&es->v[i]);
    free(es->v);
    memset(es, 0, sizeof *es);
}

/* Appends an entry, taking ownership of every string (all freed on
 * failure). */
static int entries_add(tree_entries *es, char *fullname, char *sn,
                       char *version, char *path, char *mpath, char *dir,
                       char *pv, char *wv, int is_tcl, const shelf_strv *hidden)
{
    tree_entry e = {.mf = {fullname, sn, version, path, mpath, 0, 0, 0, 0},
                    .dir = dir, .pv = pv, .wv = wv};
    if (!fullname || !sn || !version || !path || !mpath || !dir || !pv || !wv)
        goto oom;
    if (SHELF_GROW(es->v, es->cap, es->n + 1) < 0)
        goto oom;
    e.mf.is_tcl = is_tcl ? 1 : 0;
    e.mf.hidden = tree_visible(hidden, fullname, path) ? 0 : 1;
    es->v[es->n++] = e;
    return SHELF_OK;
oom:
    entry_free(&e);
    return SHELF_ENOMEM;
}

/* "^" + key without its first character: a marked default outranks any
 * version (digits and "*" sort below "^"). */
static char *mark(const char *key, int marked)
{
    if (!marked)
        return strdup(key);
    return str_cat3("^", key[0] ? key + 1 : "", "");
}

static char *key_join(const char *prefix, const char *k)
{
    return prefix[0] ? str_cat3(prefix, "/", k) : strdup(k);
}

static int module_entries_rec(const char *mpath, const char *sn,
                              const tree_dir *d, const char *dirrel,
                              const char *pv0, const char *wv0,
                              const shelf_strv *hidden, tree_entries *out)
{
    const char *dv = d->default_value;
    size_t snlen = strlen(sn);
    for (size_t i = 0; i < d->nfiles; i++) {
        const tree_file *f = &d->files[i];
        char *fullname = rel_join(d->rel, f->name);
        char *k = shelf_version_key(f->name);
        int marked = dv && fullname && (strcmp(dv, f->name) == 0 ||
                                        strcmp(dv, fullname) == 0);
        char *wk = k ? mark(k, marked) : NULL;
        char *pv = k ? key_join(pv0, k) : NULL;
        char *wv = wk ? key_join(wv0, wk) : NULL;
        free(k);
        free(wk);
        int r = entries_add(out, fullname, strdup(sn),
                            fullname ? strdup(fullname + snlen + 1) : NULL,
                            strdup(f->path), strdup(mpath), strdup(dirrel), pv,
                            wv, !f->is_lua, hidden);
        if (r != SHELF_OK)
            return r;
    }
    for (size_t i = 0; i < d->ndirs; i++) {
        const tree_dir *c = d->dirs[i];
        char *k = shelf_version_key(c->name);
        if (!k)
            return SHELF_ENOMEM;
        if (shelf_str_ends(k, ".*zfinal"))
            k[strlen(k) - 8] = '\0';
        int marked = dv && (strcmp(dv, c->name) == 0 || strcmp(dv, c->rel) == 0);
        char *wk = mark(k, marked);
        char *pv = key_join(pv0, k);
        char *wv = wk ? key_join(wv0, wk) : NULL;
        char *sub = rel_join(dirrel, c->name);
        free(k);
        free(wk);
        int r = (pv && wv && sub)
                    ? module_entries_rec(mpath, sn, c, sub, pv, wv, hidden, out)
                    : SHELF_ENOMEM;
        free(pv);
        free(wv);
        free(sub);
        if (r != SHELF_OK)
            return r;
    }
    return SHELF_OK;
}

int tree_module_entries(const char *mpath, const tree_dir *moddir,
                        const shelf_strv *hidden, tree_entries *out)
{
    return module_entries_rec(mpath, moddir->rel, moddir, "", "", "", hidden,
                              out);
}

int tree_meta_entry(const char *mpath, const char *sn, const tree_file *f,
                    const shelf_strv *hidden, tree_entries *out)
{
    return entries_add(out, strdup(sn), strdup(sn), strdup(""), strdup(f->path),
                       strdup(mpath), strdup(""), strdup(META_PV),
                       strdup(META_PV), !f->is_lua, hidden);
}

static int tree_wv_marked(const char *wv)
{
    const char *last = strrchr(wv, '/');
    return (last ? last[1] : wv[0]) >= '^';
}

int tree_wv_any_marked(const char *wv)
{
    for (const char *p = wv; *p; p++)
        if (*p == '^' && (p == wv || p[-1] == '/'))
            return 1;
    return 0;
}

long tree_highest(const tree_entries *es, const size_t *idx, size_t n)
{
    long best = -1;
    for (size_t i = 0; i < n; i++) {
        const tree_entry *e = &es->v[idx[i]];
        if (e->mf.hidden && !tree_wv_marked(e->wv))
            continue;
        if (best < 0 || strcmp(e->wv, es->v[idx[best]].wv) > 0)
            best = (long)i;
    }
    return best;
}

/* ---- shelf_modlist and the scan -------------------------------------------- */

void shelf_modlist_init(shelf_modlist *ml)
{
    memset(ml, 0, sizeof *ml);
}

void shelf_modlist_free(shelf_modlist *ml)
{
    for (size_t i = 0; i < ml->n; i++)
        shelf_modfile_free(&ml->items[i]);
    free(ml->items);
    for (size_t i = 0; i < ml->naliases; i++) {
        free(ml->aliases[i].name);
        free(ml->aliases[i].target);
        free(ml->aliases[i].mpath);
    }
    free(ml->aliases);
    shelf_modlist_init(ml);
}

/* Moves *mf into ml (mf is left empty). */
static int modlist_take(shelf_modlist *ml, shelf_modfile *mf)
{
    if (SHELF_GROW(ml->items, ml->cap, ml->n + 1) < 0)
        return SHELF_ENOMEM;
    ml->items[ml->n++] = *mf;
    memset(mf, 0, sizeof *mf);
    return SHELF_OK;
}

static int modlist_alias(shelf_modlist *ml, const char *name,
                         const char *target, const char *mpath)
{
    if (SHELF_GROW(ml->aliases, ml->aliascap, ml->naliases + 1) < 0)
        return SHELF_ENOMEM;
    shelf_modalias a = {strdup(name), strdup(target), strdup(mpath)};
    if (!a.name || !a.target || !a.mpath) {
        free(a.name);
        free(a.target);
        free(a.mpath);
        return SHELF_ENOMEM;
    }
    ml->aliases[ml->naliases++] = a;
    return SHELF_OK;
}

typedef struct scan_ctx {
    const char *mpath;
    tree_rc *rc;
    tree_entries es;
    size_t *module_start; /* where each module's entries begin in es */
    size_t nmodules, capmodules;
} scan_ctx;

static int scan_module_begin(scan_ctx *s)
{
    if (SHELF_GROW(s->module_start, s->capmodules, s->nmodules + 1) < 0)
        return SHELF_ENOMEM;
    s->module_start[s->nmodules++] = s->es.n;
    return SHELF_OK;
}

/* ModuleA's l_GroupIntoModules: the files of a category are modules by
 * themselves, its subdirectories modules or categories in turn. */
static int scan_group(scan_ctx *s, tree_dir *d)
{
    int r;
    for (size_t i = 0; i < d->nfiles; i++) {
        const tree_file *f = &d->files[i];
        tree_dir *c = find_child(d, f->name);
        if (c) {
            r = tree_dir_is_module(s->mpath, c, s->rc);
            if (r < 0)
                return r;
            if (r)
                continue; /* the module directory wins */
        }
        char *sn = rel_join(d->rel, f->name);
        r = sn ? scan_module_begin(s) : SHELF_ENOMEM;
        if (r == SHELF_OK)
            r = tree_meta_entry(s->mpath, sn, f, NULL, &s->es);
        free(sn);
        if (r != SHELF_OK)
            return r;
    }
    for (size_t i = 0; i < d->ndirs; i++) {
        tree_dir *c = d->dirs[i];
        r = tree_dir_is_module(s->mpath, c, s->rc);
        if (r < 0)
            return r;
        if (r) {
            r = scan_module_begin(s);
            if (r == SHELF_OK)
                r = tree_module_entries(s->mpath, c, NULL, &s->es);
        } else {
            r = scan_group(s, c);
        }
        if (r != SHELF_OK)
            return r;
    }
    return SHELF_OK;
}

typedef struct sort_item {
    char *key; /* sn + "/" + pv: the order of Lmod's avail */
    size_t i;
} sort_item;

static int sort_item_cmp(const void *a, const void *b)
{
    const sort_item *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    return c ? c : (x->i > y->i) - (x->i < y->i);
}

/* Hidden flags (needing every rc file read first), defaults, sorting. */
static int scan_finish(scan_ctx *s, shelf_modlist *out)
{
    shelf_strv hidden;
    shelf_strv_init(&hidden);
    int r = tree_hidden_list(s->rc, 1, &hidden);
    for (size_t i = 0; i < s->es.n && r == SHELF_OK; i++) {
        tree_entry *e = &s->es.v[i];
        e->mf.hidden = tree_visible(&hidden, e->mf.fullname, e->mf.path) ? 0 : 1;
    }
    shelf_strv_free(&hidden);
    if (r != SHELF_OK)
        return r;

    size_t *idx = malloc((s->es.n ? s->es.n : 1) * sizeof *idx);
    sort_item *items = calloc(s->es.n ? s->es.n : 1, sizeof *items);
    if (!idx || !items) {
        free(idx);
        free(items);
        return SHELF_ENOMEM;
    }
    for (size_t m = 0; m < s->nmodules; m++) {
        size_t from = s->module_start[m];
        size_t to = m + 1 < s->nmodules ? s->module_start[m + 1] : s->es.n;
        for (size_t i = from; i < to; i++)
            idx[i - from] = i;
        long best = tree_highest(&s->es, idx, to - from);
        if (best >= 0) {
            tree_entry *e = &s->es.v[idx[best]];
            e->mf.is_default = 1;
            e->mf.marked_default = tree_wv_any_marked(e->wv) ? 1 : 0;
        }
    }
    for (size_t i = 0; i < s->es.n && r == SHELF_OK; i++) {
        items[i].key = str_cat3(s->es.v[i].mf.sn, "/", s->es.v[i].pv);
        items[i].i = i;
        if (!items[i].key)
            r = SHELF_ENOMEM;
    }
    if (r == SHELF_OK) {
        qsort(items, s->es.n, sizeof *items, sort_item_cmp);
        for (size_t i = 0; i < s->es.n && r == SHELF_OK; i++)
            r = modlist_take(out, &s->es.v[items[i].i].mf);
    }
    for (size_t i = 0; i < s->es.n; i++)
        free(items[i].key);
    free(items);
    free(idx);
    for (size_t i = 0; i < s->rc->alias_name.n && r == SHELF_OK; i++)
        r = modlist_alias(out, s->rc->alias_name.v[i], s->rc->alias_target.v[i],
                          s->mpath);
    return r;
}

int shelf_tree_scan(const char *mpath, char *const *env, shelf_modlist *out,
                    shelf_error *err)
{
    if (!is_readable_dir(mpath))
        return SHELF_OK;
    tree_rc rc;
    tree_rc_init(&rc);
    rc.env = env;
    scan_ctx s = {.mpath = mpath, .rc = &rc};
    tree_dir *root = tree_dir_new(mpath, "");
    int r = root ? tree_dir_load(mpath, root, &rc) : SHELF_ENOMEM;
    if (r == SHELF_OK)
        r = scan_group(&s, root);
    if (r == SHELF_OK)
        r = scan_finish(&s, out);
    tree_entries_free(&s.es);
    free(s.module_start);
    tree_dir_free(root);
    tree_rc_free(&rc);
    if (r != SHELF_OK)
        shelf_error_set(err, r, NULL, mpath, 0, "out of memory reading %s",
                        mpath);
    return r;
}
