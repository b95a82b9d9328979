/*
 * engine.c -- module operations as transactions (see shelf.h and engine-internal.h).
 *
 * The engine owns a working environment (shelf_env) and the loaded table
 * (shelf_state). Every modulefile action arrives through host_call() and
 * is interpreted by mode: load applies it, unload applies its reversal
 * (Lmod's rules: setenv -> unset, prepend_path -> count once less,
 * pushenv -> pop, load -> unload, depends_on -> release ...).
 *
 * Invariants between operations: each loaded short name appears once in
 * the table; active modules are in LOADEDMODULES order; a module's
 * `needed_by` lists the short names of the loaded modules whose
 * depends_on() holds it. A module being unloaded is taken out of the
 * table before its modulefile runs, so nested unloads cannot move it.
 */
#include "config.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "shelf.h"
#include "engine-internal.h"
#include "shelf-internal.h"

#define MAX_DEPTH 64

/* The module whose modulefile is running, and how. In a read mode (sink
 * set) nothing is changed: every call goes to the sink, rec is NULL. */
typedef struct engine_frame {
    shelf_loaded *rec;
    shelf_mode mode;
    int line; /* line of the modulefile call being carried out */
    const shelf_eval_sink *sink; /* read modes: where the calls go */
    const char *level;           /* spider: the directory being read */
    struct engine_frame *outer;
} engine_frame;

static int load_one(shelf_engine *e, const char *usr, int user_req,
                    const char *dep_of, int try_mode, shelf_error *err);
static int unload_one(shelf_engine *e, size_t idx, shelf_error *err);

/* ---- setup --------------------------------------------------------------- */

static int refresh_modulepath(shelf_engine *e)
{
    const char *mp = shelf_env_get(&e->env, "MODULEPATH");
    if (!mp)
        mp = "";
    if (e->modulepath_text && strcmp(e->modulepath_text, mp) == 0)
        return SHELF_OK;
    free(e->modulepath_text);
    shelf_strv_free(&e->modulepath);
    e->modulepath_text = strdup(mp);
    if (!e->modulepath_text)
        return SHELF_ENOMEM;
    return shelf_strv_split(&e->modulepath, mp, ":", 0);
}

const shelf_strv *shelf_engine_modulepath(shelf_engine *e)
{
    if (refresh_modulepath(e) < 0)
        return NULL;
    return &e->modulepath;
}

int shelf_engine_open(shelf_engine *e, char *const *env, shelf_shell shell,
                      const shelf_eval_limits *limits, shelf_error *err)
{
    memset(e, 0, sizeof *e);
    if (limits)
        e->limits = *limits;
    shelf_env_init(&e->env, (char **)env); /* read, never written through */
    shelf_state_init(&e->st);
    shelf_strv_init(&e->messages);
    shelf_strv_init(&e->modulepath);
    e->shell = shell;
    if (refresh_modulepath(e) < 0)
        goto oom;
    e->start_modulepath = strdup(e->modulepath_text);
    e->resolver = shelf_resolver_new(env);
    if (!e->start_modulepath || !e->resolver)
        goto oom;
    return shelf_state_load(&e->st, &e->env, err);
oom:
    return shelf_oom(err);
}

void shelf_engine_close(shelf_engine *e)
{
    shelf_env_free(&e->env);
    shelf_state_free(&e->st);
    shelf_lua_free(e->lua);
    shelf_resolver_free(e->resolver);
    shelf_strv_free(&e->messages);
    shelf_strv_free(&e->sticky_kept);
    shelf_strv_free(&e->modulepath);
    free(e->modulepath_text);
    free(e->start_modulepath);
    memset(e, 0, sizeof *e);
}

int shelf_engine_new(char *const *env, shelf_shell shell, const shelf_eval_limits *limits,
                     shelf_engine **out, shelf_error *err)
{
    *out = calloc(1, sizeof **out);
    if (!*out)
        return shelf_oom(err);
    int rc = shelf_engine_open(*out, env, shell, limits, err);
    if (rc == SHELF_ENOMEM) {
        shelf_engine_free(*out);
        *out = NULL;
    }
    return rc;
}

void shelf_engine_free(shelf_engine *e)
{
    if (!e)
        return;
    shelf_engine_close(e);
    free(e);
}

const shelf_state *shelf_engine_state(const shelf_engine *e)
{
    return &e->st;
}


static shelf_lua *shelf_engine_lua(shelf_engine *e)
{
    if (!e->lua)
        e->lua = shelf_lua_new(&e->limits);
    return e->lua;
}

static int message(shelf_engine *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int message(shelf_engine *e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *text = shelf_vfmt(fmt, ap);
    va_end(ap);
    return shelf_strv_push_owned(&e->messages, text);
}

int shelf_engine_forget_table(shelf_engine *e, shelf_error *err)
{
    shelf_state_free(&e->st);
    for (char **v = e->env.base; v && *v; v++) {
        if (strncmp(*v, "_SHELF_TABLE_", 13) != 0)
            continue;
        char *name = strndup(*v, strcspn(*v, "="));
        int rc = name ? shelf_env_unset(&e->env, name) : SHELF_ENOMEM;
        free(name);
        if (rc < 0)
            return shelf_oom(err);
    }
    if (shelf_env_unset(&e->env, "LOADEDMODULES") < 0 ||
        shelf_env_unset(&e->env, "_LMFILES_") < 0 ||
        message(e, "The module table was corrupt and has been cleared. Settings made by "
                   "the modules loaded before remain: start a new shell for a clean "
                   "environment.") < 0)
        return shelf_oom(err);
    return SHELF_OK;
}

static long index_of(shelf_engine *e, const shelf_loaded *m)
{
    return m ? (long)(m - e->st.mods) : -1;
}

static int shelf_engine_is_loaded(shelf_engine *e, const char *name)
{
    shelf_loaded *m = shelf_state_find(&e->st, name);
    return m && m->active;
}

/* ---- the host: what each modulefile call means per mode ---------------- */

/* Spider mode answers as a fresh login would, whatever the caller has
 * loaded: nothing is loaded, and a name is available when it resolves with
 * the directory being read alone on MODULEPATH. An index built once and a
 * walk of the tree by any user then record the same thing. */
static int spidering(const shelf_engine *e)
{
    return e->frame && e->frame->mode == SHELF_MODE_SPIDER;
}

static int host_is_loaded(void *ud, const char *name)
{
    shelf_engine *e = ud;
    return spidering(e) ? 0 : shelf_engine_is_loaded(e, name);
}

/* 1 if name resolves on the modulepath mp (NULL: out of memory, no). */
static int resolves(shelf_engine *e, const shelf_strv *mp, const char *name)
{
    shelf_modfile mf;
    shelf_error err = {0};
    int ok = mp && shelf_resolve_with(e->resolver, mp, name, &mf, &err) == 0;
    if (ok)
        shelf_modfile_free(&mf);
    shelf_error_clear(&err);
    return ok;
}

static int host_is_avail(void *ud, const char *name)
{
    shelf_engine *e = ud;
    if (!spidering(e))
        return shelf_engine_is_avail(e, name);
    shelf_strv level; /* a fresh login sees the modulefile's own directory */
    shelf_strv_init(&level);
    int ok = shelf_strv_push(&level, e->frame->level) == 0 && resolves(e, &level, name);
    shelf_strv_free(&level);
    return ok;
}

int shelf_engine_is_avail(shelf_engine *e, const char *name)
{
    return resolves(e, shelf_engine_modulepath(e), name);
}

static const char *host_getenv(void *ud, const char *name)
{
    shelf_engine *e = ud;
    return shelf_env_get(&e->env, name);
}

static char *family_var(const char *family, const char *suffix)
{
    shelf_buf b;
    shelf_buf_init(&b);
    shelf_buf_adds(&b, "LMOD_FAMILY_");
    for (const char *p = family; *p; p++)
        shelf_buf_addc(&b, (*p >= 'a' && *p <= 'z') ? (char)(*p - 32) : *p);
    shelf_buf_adds(&b, suffix);
    return shelf_buf_take(&b);
}

static int set_family_vars(shelf_engine *e, const char *family, const char *sn,
                           const char *version)
{
    char *n = family_var(family, ""), *v = family_var(family, "_VERSION");
    int rc = (!n || !v) ? SHELF_ENOMEM
             : sn      ? shelf_env_set(&e->env, n, sn)
                       : shelf_env_unset(&e->env, n);
    if (rc == 0)
        rc = sn ? shelf_env_set(&e->env, v, version) : shelf_env_unset(&e->env, v);
    free(n);
    free(v);
    return rc;
}

static int do_family(shelf_engine *e, const shelf_mf_call *c, shelf_error *err)
{
    shelf_loaded *self = e->frame->rec;
    const char *family = c->args.v[0];
    if (e->frame->mode == SHELF_MODE_UNLOAD)
        return set_family_vars(e, family, NULL, NULL);
    for (size_t i = 0; i < e->st.n; i++) {
        shelf_loaded *m = &e->st.mods[i];
        if (m == self || !m->active || !m->family || strcmp(m->family, family) != 0 ||
            strcmp(m->sn, self->sn) == 0)
            continue;
        if (message(e, "Shelf is automatically replacing \"%s\" with \"%s\".",
                    m->fullname, self->fullname) < 0)
            return shelf_oom(err);
        int rc = unload_one(e, i, err);
        if (rc < 0)
            return rc;
        break;
    }
    free(self->family);
    if (!(self->family = strdup(family)))
        return shelf_oom(err);
    return set_family_vars(e, family, self->sn, self->version);
}

/* depends_on() in unload mode: this module no longer holds `name`; unload
 * it when nothing else does and the user did not ask for it. */
static int release_dependency(shelf_engine *e, const char *name, shelf_error *err)
{
    shelf_loaded *dep = shelf_state_find(&e->st, name);
    if (!dep)
        return SHELF_OK;
    long at = shelf_strv_find(&dep->needed_by, e->frame->rec->sn);
    if (at >= 0)
        shelf_strv_remove(&dep->needed_by, (size_t)at);
    if (dep->needed_by.n == 0 && !dep->user_loaded)
        return unload_one(e, (size_t)index_of(e, dep), err);
    return SHELF_OK;
}

static int do_depends_on(shelf_engine *e, const shelf_mf_call *c, shelf_error *err)
{
    for (size_t i = 0; i < c->args.n; i++) {
        int rc;
        if (e->frame->mode == SHELF_MODE_UNLOAD) {
            rc = release_dependency(e, c->args.v[i], err);
        } else {
            shelf_loaded *dep = shelf_state_find(&e->st, c->args.v[i]);
            if (dep && dep->active) {
                rc = shelf_strv_find(&dep->needed_by, e->frame->rec->sn) >= 0
                         ? 0
                         : shelf_strv_push(&dep->needed_by, e->frame->rec->sn);
                if (rc < 0)
                    return shelf_oom(err);
            } else {
                rc = load_one(e, c->args.v[i], 0, e->frame->rec->sn, 0, err);
            }
        }
        if (rc < 0)
            return rc;
    }
    return SHELF_OK;
}

static int is_sticky(const shelf_loaded *m)
{
    for (size_t i = 0; i < m->props.n; i++)
        if (strcmp(m->props.v[i], "lmod=sticky") == 0)
            return 1;
    return 0;
}

/* Sticky modules stay unless --force; they are reported once. */
static int keep_sticky(shelf_engine *e, const shelf_loaded *m)
{
    if (e->force || !is_sticky(m))
        return 0;
    if (shelf_strv_find(&e->sticky_kept, m->fullname) < 0)
        shelf_strv_push(&e->sticky_kept, m->fullname);
    return 1;
}

static int unload_by_name(shelf_engine *e, const char *name, shelf_error *err)
{
    shelf_loaded *m = shelf_state_find(&e->st, name);
    if (!m || keep_sticky(e, m))
        return SHELF_OK;
    return unload_one(e, (size_t)index_of(e, m), err);
}

static int check_loaded_set(shelf_engine *e, const shelf_mf_call *c, shelf_error *err)
{
    shelf_loaded *self = e->frame->rec;
    shelf_buf names;
    shelf_buf_init(&names);
    size_t hits = 0;
    for (size_t i = 0; i < c->args.n; i++) {
        int loaded = shelf_engine_is_loaded(e, c->args.v[i]);
        if (c->fn == SHELF_FN_CONFLICT ? loaded : !loaded) {
            shelf_buf_addf(&names, "\n   %s", c->args.v[i]);
            hits++;
        }
    }
    int rc = SHELF_OK;
    if (c->fn == SHELF_FN_CONFLICT && hits)
        rc = SHELF_ECONFLICT;
    else if (c->fn == SHELF_FN_PREREQ && hits)
        rc = SHELF_EPREREQ;
    else if (c->fn == SHELF_FN_PREREQ_ANY && hits == c->args.n)
        rc = SHELF_EPREREQ;
    if (rc == SHELF_ECONFLICT)
        shelf_error_set(err, rc, self->fullname, self->file, c->line,
                        "Cannot load module \"%s\" because these module(s) are loaded:%s",
                        self->fullname, names.data ? names.data : "");
    else if (rc == SHELF_EPREREQ)
        shelf_error_set(err, rc, self->fullname, self->file, c->line,
                        "Cannot load module \"%s\" without %s of these module(s) loaded:%s",
                        self->fullname, c->fn == SHELF_FN_PREREQ_ANY ? "one" : "all",
                        names.data ? names.data : "");
    shelf_buf_free(&names);
    return rc;
}

static int do_property(shelf_engine *e, const shelf_mf_call *c, shelf_error *err)
{
    shelf_buf kv;
    shelf_buf_init(&kv);
    shelf_buf_addf(&kv, "%s=%s", c->args.v[0], c->args.v[1]);
    char *s = shelf_buf_take(&kv);
    if (!s)
        return shelf_oom(err);
    shelf_strv *props = &e->frame->rec->props;
    long at = shelf_strv_find(props, s);
    int rc = SHELF_OK;
    if (c->fn == SHELF_FN_ADD_PROPERTY && at < 0)
        rc = shelf_strv_push(props, s);
    else if (c->fn == SHELF_FN_REMOVE_PROPERTY && at >= 0)
        shelf_strv_remove(props, (size_t)at);
    free(s);
    return rc < 0 ? shelf_oom(err) : SHELF_OK;
}

static int host_call(void *ud, const shelf_mf_call *c, shelf_error *err)
{
    shelf_engine *e = ud;
    e->frame->line = c->line;
    if (e->frame->sink)
        return e->frame->sink->call(e->frame->sink->ud, c, err);
    int unload = e->frame->mode == SHELF_MODE_UNLOAD;
    /* refresh re-defines aliases and shell functions, and does nothing
     * else (as Lmod's refresh mode): no loads, checks or families. */
    if (e->frame->mode == SHELF_MODE_REFRESH && c->fn != SHELF_FN_SET_ALIAS &&
        c->fn != SHELF_FN_SET_SHELL_FUNCTION)
        return SHELF_OK;
    const char *const *a = (const char *const *)c->args.v;
    int rc = SHELF_OK;
    switch (c->fn) {
    case SHELF_FN_SETENV:
        rc = unload ? shelf_env_unset(&e->env, a[0]) : shelf_env_set(&e->env, a[0], a[1]);
        break;
    case SHELF_FN_UNSETENV: /* Lmod restores nothing on unload */
        if (!unload)
            rc = shelf_env_unset(&e->env, a[0]);
        break;
    case SHELF_FN_PUSHENV:
        rc = unload ? shelf_env_pop(&e->env, a[0]) : shelf_env_push(&e->env, a[0], a[1]);
        break;
    case SHELF_FN_PREPEND_PATH:
    case SHELF_FN_APPEND_PATH:
        rc = unload ? shelf_env_path_remove(&e->env, a[0], a[1], c->delim, 0)
                    : shelf_env_path_add(&e->env, a[0], a[1], c->delim,
                                         c->fn == SHELF_FN_PREPEND_PATH, c->priority);
        break;
    case SHELF_FN_REMOVE_PATH: /* nothing to undo on unload */
        if (!unload)
            rc = shelf_env_path_remove(&e->env, a[0], a[1], c->delim, 1);
        break;
    case SHELF_FN_LOAD:
    case SHELF_FN_TRY_LOAD:
    case SHELF_FN_ALWAYS_LOAD:
        for (size_t i = 0; rc == 0 && i < c->args.n; i++) {
            if (!unload)
                rc = load_one(e, a[i], 0, NULL, c->fn == SHELF_FN_TRY_LOAD, err);
            else if (c->fn != SHELF_FN_ALWAYS_LOAD)
                rc = unload_by_name(e, a[i], err);
        }
        return rc;
    case SHELF_FN_UNLOAD: /* nothing to undo on unload */
        for (size_t i = 0; rc == 0 && !unload && i < c->args.n; i++)
            rc = unload_by_name(e, a[i], err);
        return rc;
    case SHELF_FN_DEPENDS_ON:
        return do_depends_on(e, c, err);
    case SHELF_FN_PREREQ:
    case SHELF_FN_PREREQ_ANY:
    case SHELF_FN_CONFLICT:
        return unload ? SHELF_OK : check_loaded_set(e, c, err);
    case SHELF_FN_FAMILY:
        return do_family(e, c, err);
    case SHELF_FN_SET_ALIAS:
        rc = shelf_env_set_alias(&e->env, a[0], unload ? NULL : a[1]);
        break;
    case SHELF_FN_UNSET_ALIAS:
        if (!unload)
            rc = shelf_env_set_alias(&e->env, a[0], NULL);
        break;
    case SHELF_FN_SET_SHELL_FUNCTION:
        rc = shelf_env_set_func(&e->env, a[0], a[1], c->args.n > 2 ? a[2] : NULL, unload);
        break;
    case SHELF_FN_UNSET_SHELL_FUNCTION:
        if (!unload)
            rc = shelf_env_set_func(&e->env, a[0], NULL, NULL, 1);
        break;
    case SHELF_FN_ADD_PROPERTY:
    case SHELF_FN_REMOVE_PROPERTY:
        return unload ? SHELF_OK : do_property(e, c, err);
    case SHELF_FN_MESSAGE:
    case SHELF_FN_WARNING: {
        char *text = shelf_strv_join(&c->args, "");
        if (!text)
            return shelf_oom(err);
        if (c->fn == SHELF_FN_WARNING) {
            /* Lmod applies the command but reports failure after a warning. */
            e->warned = 1;
            rc = message(e, "Warning: %s (%s)", text, e->frame->rec->fullname);
        } else
            rc = shelf_strv_push(&e->messages, text);
        free(text);
        break;
    }
    case SHELF_FN_WHATIS:
    case SHELF_FN_HELP:
        break;
    }
    return rc < 0 ? shelf_oom(err) : SHELF_OK;
}

/* Evaluates info's modulefile with e as its host, in the frame `frame`
 * (pushed for the evaluation: nested evaluations stack). */
static int run_frame(shelf_engine *e, engine_frame *frame, const shelf_mf_info *info,
                     shelf_error *err)
{
    if (!shelf_engine_lua(e))
        return shelf_oom(err);
    shelf_mf_host host = {e, host_call, host_is_loaded, host_is_avail, host_getenv};
    frame->outer = e->frame;
    e->frame = frame;
    int rc = shelf_mf_eval(e->lua, info, &host, err);
    e->frame = frame->outer;
    return rc;
}

static int evaluate(shelf_engine *e, shelf_loaded *rec, shelf_mode mode,
                    shelf_error *err)
{
    if (e->depth >= MAX_DEPTH) {
        shelf_error_set(err, SHELF_EMODULEFILE, rec->fullname, rec->file, 0,
                        "modules load each other too deeply (a dependency cycle?)");
        return SHELF_EMODULEFILE;
    }
    engine_frame frame = {rec, mode, 0, NULL, NULL, NULL};
    shelf_mf_info info = {rec->file, rec->fullname, rec->sn, rec->version,
                          rec->usrname, mode, shelf_shell_name(e->shell)};
    e->depth++;
    int rc = run_frame(e, &frame, &info, err);
    e->depth--;
    return rc;
}

/* ---- read modes: evaluations that change nothing --------------------------- */

int shelf_engine_read(shelf_engine *e, const shelf_modfile *mf, const char *usrname,
                      shelf_mode mode, const shelf_eval_sink *sink, shelf_error *err)
{
    engine_frame frame = {NULL, mode, 0, sink, mf->mpath, NULL};
    shelf_mf_info info = {mf->path, mf->fullname, mf->sn, mf->version,
                          usrname ? usrname : mf->fullname, mode, shelf_shell_name(e->shell)};
    return run_frame(e, &frame, &info, err);
}

static int collect_call(void *ud, const shelf_mf_call *c, shelf_error *err)
{
    return shelf_spider_collect(ud, c) < 0 ? shelf_oom(err) : SHELF_OK;
}

int shelf_engine_spider(shelf_engine *e, const shelf_modfile *mf, shelf_spider_rec *rec,
                        shelf_error *err)
{
    if (mf->is_tcl)
        return SHELF_OK;
    shelf_eval_sink sink = {collect_call, rec};
    return shelf_engine_read(e, mf, mf->fullname, SHELF_MODE_SPIDER, &sink, err);
}

/* Calls fn(ud, line, len) for each line of a file (without its "\n", or
 * "\r\n"). 0, SHELF_EIO (err names the file), SHELF_ENOMEM or fn's code. */
static int each_line(const shelf_modfile *mf, int (*fn)(void *ud, const char *line, size_t len),
                     void *ud, shelf_error *err)
{
    shelf_buf text;
    shelf_buf_init(&text);
    int rc = shelf_read_file(mf->path, &text, err);
    if (rc < 0) {
        if (!err->module && mf->fullname)
            err->module = strdup(mf->fullname);
        return rc;
    }
    for (const char *p = text.data; rc == 0 && p && *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        size_t shown = len && p[len - 1] == '\r' ? len - 1 : len;
        rc = fn(ud, p, shown);
        p = nl ? nl + 1 : NULL;
    }
    shelf_buf_free(&text);
    return rc == SHELF_ENOMEM ? shelf_oom(err) : rc;
}

/* A Tcl modulefile's `module-whatis TEXT` lines, into rec->whatis. Tcl
 * modulefiles are read, not evaluated: TEXT is taken as written, without
 * its surrounding quotes or braces. */
static int tcl_whatis_line(void *ud, const char *line, size_t len)
{
    shelf_spider_rec *rec = ud;
    const char *p = line, *end = line + len;
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    if ((size_t)(end - p) < 13 || strncmp(p, "module-whatis", 13) != 0)
        return SHELF_OK;
    p += 13;
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    size_t n = (size_t)(end - p);
    if (n >= 2 && (p[0] == '"' || p[0] == '{')) {
        p++;
        n -= 2;
    }
    char *text = strndup(p, n);
    return text ? shelf_strv_push_owned(&rec->whatis, text) : SHELF_ENOMEM;
}

int shelf_engine_describe(shelf_engine *e, const shelf_modfile *mf, shelf_mode mode,
                          shelf_spider_rec *rec, shelf_error *err)
{
    if (mf->is_tcl)
        return mode == SHELF_MODE_WHATIS ? each_line(mf, tcl_whatis_line, rec, err)
                                         : SHELF_OK;
    shelf_eval_sink sink = {collect_call, rec};
    return shelf_engine_read(e, mf, mf->fullname, mode, &sink, err);
}

void shelf_show_init(shelf_show *s)
{
    memset(s, 0, sizeof *s);
    shelf_strv_init(&s->lines);
    shelf_spider_rec_init(&s->rec);
    shelf_strv_init(&s->conflicts);
}

void shelf_show_free(shelf_show *s)
{
    shelf_strv_free(&s->lines);
    shelf_spider_rec_free(&s->rec);
    for (size_t i = 0; i < s->ndeps; i++) {
        free(s->deps[i].function);
        shelf_strv_free(&s->deps[i].modules);
    }
    free(s->deps);
    shelf_strv_free(&s->conflicts);
    shelf_show_init(s);
}

static int show_dep(shelf_show *s, const shelf_mf_call *c)
{
    if (SHELF_GROW(s->deps, s->depcap, s->ndeps + 1) < 0)
        return SHELF_ENOMEM;
    shelf_show_dep *d = &s->deps[s->ndeps];
    shelf_strv_init(&d->modules);
    if (!(d->function = strdup(c->fname)))
        return SHELF_ENOMEM;
    for (size_t i = 0; i < c->args.n; i++)
        if (shelf_strv_push(&d->modules, c->args.v[i]) < 0) {
            shelf_strv_free(&d->modules);
            free(d->function);
            return SHELF_ENOMEM;
        }
    s->ndeps++;
    return SHELF_OK;
}

static int show_call(void *ud, const shelf_mf_call *c, shelf_error *err)
{
    shelf_show *s = ud;
    shelf_buf b;
    shelf_buf_init(&b);
    shelf_mf_call_format(c, &b);
    char *line = shelf_buf_take(&b);
    int rc = line ? shelf_strv_push_owned(&s->lines, line) : SHELF_ENOMEM;
    if (rc == 0)
        rc = shelf_spider_collect(&s->rec, c);
    if (rc < 0)
        return shelf_oom(err);
    switch (c->fn) {
    case SHELF_FN_LOAD: case SHELF_FN_TRY_LOAD: case SHELF_FN_ALWAYS_LOAD:
    case SHELF_FN_DEPENDS_ON: case SHELF_FN_PREREQ: case SHELF_FN_PREREQ_ANY:
        rc = show_dep(s, c);
        break;
    case SHELF_FN_CONFLICT:
        for (size_t i = 0; rc == 0 && i < c->args.n; i++)
            rc = shelf_strv_push(&s->conflicts, c->args.v[i]);
        break;
    default:
        break;
    }
    return rc < 0 ? shelf_oom(err) : SHELF_OK;
}

static int show_tcl_line(void *ud, const char *line, size_t len)
{
    char *s = strndup(line, len);
    return s ? shelf_strv_push_owned(ud, s) : SHELF_ENOMEM;
}

int shelf_engine_show(shelf_engine *e, const shelf_modfile *mf, const char *usrname,
                      shelf_show *out, shelf_error *err)
{
    if (mf->is_tcl)
        return each_line(mf, show_tcl_line, &out->lines, err);
    shelf_eval_sink sink = {show_call, out};
    return shelf_engine_read(e, mf, usrname, SHELF_MODE_SHOW, &sink, err);
}

int shelf_engine_find(shelf_engine *e, const char *name, shelf_modfile *mf, shelf_error *err)
{
    const shelf_loaded *l = shelf_state_find(&e->st, name);
    if (!l)
        return shelf_engine_resolve(e, name, mf, err);
    memset(mf, 0, sizeof *mf);
    mf->fullname = strdup(l->fullname);
    mf->sn = strdup(l->sn);
    mf->version = strdup(l->version);
    mf->path = strdup(l->file);
    mf->mpath = strdup(l->mpath ? l->mpath : "");
    if (!mf->fullname || !mf->sn || !mf->version || !mf->path || !mf->mpath) {
        shelf_modfile_free(mf);
        return shelf_oom(err);
    }
    mf->is_tcl = !shelf_str_ends(mf->path, ".lua");
    return SHELF_OK;
}

/* ---- load and unload -------------------------------------------------------- */

static int record_from(shelf_loaded *rec, const shelf_modfile *mf, const char *usr)
{
    memset(rec, 0, sizeof *rec);
    rec->fullname = strdup(mf->fullname);
    rec->sn = strdup(mf->sn);
    rec->version = strdup(mf->version);
    rec->file = strdup(mf->path);
    rec->mpath = strdup(mf->mpath);
    rec->usrname = strdup(usr);
    rec->active = 1;
    if (!rec->fullname || !rec->sn || !rec->version || !rec->file || !rec->mpath ||
        !rec->usrname) {
        shelf_loaded_free(rec);
        return SHELF_ENOMEM;
    }
    return SHELF_OK;
}

int shelf_engine_resolve(shelf_engine *e, const char *usr, shelf_modfile *mf,
                         shelf_error *err)
{
    const shelf_strv *mp = shelf_engine_modulepath(e);
    if (!mp)
        return shelf_oom(err);
    return shelf_resolve_with(e->resolver, mp, usr, mf, err);
}

/* Puts rec (consumed) at position `at`, or at the end when at < 0. */
static int state_insert(shelf_engine *e, shelf_loaded *rec, long at)
{
    if (shelf_state_append(&e->st, rec) < 0)
        return SHELF_ENOMEM;
    if (at >= 0 && (size_t)at < e->st.n - 1) {
        shelf_loaded moved = e->st.mods[e->st.n - 1];
        memmove(e->st.mods + at + 1, e->st.mods + at,
                (e->st.n - 1 - (size_t)at) * sizeof moved);
        e->st.mods[at] = moved;
    }
    return SHELF_OK;
}

/* Evaluates rec in load mode and inserts it at position `at` (or at the end
 * when at < 0). rec's contents are consumed either way. */
static int activate(shelf_engine *e, shelf_loaded *rec, long at, shelf_error *err)
{
    int rc = evaluate(e, rec, SHELF_MODE_LOAD, err);
    if (rc < 0) {
        shelf_loaded_free(rec);
        return rc;
    }
    return state_insert(e, rec, at) < 0 ? shelf_oom(err) : SHELF_OK;
}

static int load_one(shelf_engine *e, const char *usr, int user_req,
                    const char *dep_of, int try_mode, shelf_error *err)
{
    shelf_modfile mf;
    shelf_error rerr = {0};
    int rc = shelf_engine_resolve(e, usr, &mf, &rerr);
    if (rc == SHELF_ENOTFOUND && try_mode) {
        shelf_error_clear(&rerr);
        return SHELF_OK;
    }
    if (rc < 0) {
        if (rc == SHELF_ENOTFOUND && e->frame)
            shelf_error_set(err, rc, e->frame->rec->fullname, e->frame->rec->file,
                            e->frame->line,
                            "module \"%s\" needs \"%s\", which is unknown%s",
                            e->frame->rec->fullname, usr,
                            e->frame->mode == SHELF_MODE_LOAD ? "" : " here");
        else if (rc == SHELF_ENOTFOUND)
            shelf_error_set(err, rc, NULL, NULL, 0, "%s",
                            rerr.message ? rerr.message : shelf_strerror(rc));
        else
            shelf_error_set(err, rc, rerr.module, rerr.file, rerr.line, "%s",
                            rerr.message ? rerr.message : shelf_strerror(rc));
        shelf_error_clear(&rerr);
        return rc;
    }
    if (mf.is_tcl) {
        shelf_error_set(err, SHELF_EMODULEFILE, mf.fullname, mf.path, 1,
                        "%s is a Tcl modulefile; only Lua modulefiles are supported",
                        mf.fullname);
        shelf_modfile_free(&mf);
        return SHELF_EMODULEFILE;
    }
    shelf_loaded *old = shelf_state_find_sn(&e->st, mf.sn);
    int same = old && old->active && strcmp(old->file, mf.path) == 0;
    if (same && dep_of) {
        /* depends_on() of a loaded module only counts one more holder. */
        shelf_modfile_free(&mf);
        if (shelf_strv_find(&old->needed_by, dep_of) < 0 &&
            shelf_strv_push(&old->needed_by, dep_of) < 0)
            return shelf_oom(err);
        return SHELF_OK;
    }
    shelf_loaded rec;
    if (record_from(&rec, &mf, usr) < 0) {
        shelf_modfile_free(&mf);
        return shelf_oom(err);
    }
    rec.user_loaded = user_req;
    if (dep_of && shelf_strv_push(&rec.needed_by, dep_of) < 0) {
        shelf_loaded_free(&rec);
        shelf_modfile_free(&mf);
        return shelf_oom(err);
    }
    if (old) {
        /* Same name, another version (or an inactive one): replace it. */
        rec.user_loaded |= old->user_loaded;
        for (size_t i = 0; i < old->needed_by.n; i++)
            if (shelf_strv_find(&rec.needed_by, old->needed_by.v[i]) < 0 &&
                shelf_strv_push(&rec.needed_by, old->needed_by.v[i]) < 0)
                rc = SHELF_ENOMEM;
        if (rc == 0 && old->active && !same &&
            message(e, "The following have been reloaded with a version change:\n"
                       "  1) %s => %s", old->fullname, mf.fullname) < 0)
            rc = SHELF_ENOMEM;
        if (rc < 0) {
            shelf_loaded_free(&rec);
            shelf_modfile_free(&mf);
            return shelf_oom(err);
        }
        rc = unload_one(e, (size_t)index_of(e, old), err);
        if (rc < 0) {
            shelf_loaded_free(&rec);
            shelf_modfile_free(&mf);
            return rc;
        }
    }
    shelf_modfile_free(&mf);
    return activate(e, &rec, -1, err);
}

/* Runs the module's reversal and drops it from the table. The record is
 * taken out first, so nested unloads cannot move it under our feet. */
static int unload_one(shelf_engine *e, size_t idx, shelf_error *err)
{
    shelf_loaded rec = e->st.mods[idx];
    memmove(e->st.mods + idx, e->st.mods + idx + 1,
            (e->st.n - idx - 1) * sizeof rec);
    e->st.n--;
    int rc = SHELF_OK;
    if (rec.active) {
        if (access(rec.file, R_OK) == 0)
            rc = evaluate(e, &rec, SHELF_MODE_UNLOAD, err);
        else
            rc = message(e, "Warning: the modulefile of %s (%s) is gone; it was "
                            "dropped from the list, its settings may remain",
                         rec.fullname, rec.file) < 0 ? shelf_oom(err) : 0;
    }
    shelf_loaded_free(&rec);
    return rc;
}

/* ---- commands ------------------------------------------------------------------ */

int shelf_engine_load(shelf_engine *e, char *const *names, size_t n,
                      int try_mode, shelf_error *err)
{
    /* Names are resolved as the loads go (an earlier module may open the
     * level of a later one); every unknown name is reported at once. */
    shelf_buf unknown;
    shelf_buf_init(&unknown);
    const char *first_unknown = NULL;
    for (size_t i = 0; i < n; i++) {
        shelf_error lerr = {0};
        int rc = load_one(e, names[i], 1, NULL, try_mode, &lerr);
        if (rc == SHELF_ENOTFOUND && lerr.module == NULL) {
            shelf_buf_addf(&unknown, "%s\"%s\"", unknown.len ? ", " : "", names[i]);
            if (!first_unknown)
                first_unknown = names[i];
        } else if (rc < 0) {
            shelf_error_set(err, rc, lerr.module, lerr.file, lerr.line, "%s",
                            lerr.message ? lerr.message : shelf_strerror(rc));
            shelf_error_clear(&lerr);
            shelf_buf_free(&unknown);
            return rc;
        }
        shelf_error_clear(&lerr);
    }
    int rc = SHELF_OK;
    if (shelf_buf_ok(&unknown) < 0) {
        rc = shelf_oom(err);
    } else if (unknown.len) {
        shelf_error_set(err, SHELF_ENOTFOUND, NULL, NULL, 0,
                        "The following module(s) are unknown: %s\n"
                        "  Try \"module spider %s\" to see how to load it, or "
                        "\"module avail\" to list what is available now.",
                        unknown.data, first_unknown);
        rc = SHELF_ENOTFOUND;
    }
    shelf_buf_free(&unknown);
    return rc;
}

/* Unloading a module that others depend on leaves them loaded; say so. */
static int warn_dependents(shelf_engine *e, const shelf_loaded *m)
{
    shelf_buf b;
    shelf_buf_init(&b);
    for (size_t i = 0; i < m->needed_by.n; i++) {
        const shelf_loaded *d = shelf_state_find_sn(&e->st, m->needed_by.v[i]);
        if (d && d->active)
            shelf_buf_addf(&b, "%s%s", b.len ? ", " : "", d->fullname);
    }
    int rc = shelf_buf_ok(&b);
    if (rc == 0 && b.len)
        rc = message(e, "The following dependent module(s) are not currently loaded: "
                        "%s (required by: %s)", m->sn, b.data);
    shelf_buf_free(&b);
    return rc < 0 ? SHELF_ENOMEM : SHELF_OK;
}

int shelf_engine_unload(shelf_engine *e, char *const *names, size_t n,
                        shelf_error *err)
{
    for (size_t i = 0; i < n; i++) {
        shelf_loaded *m = shelf_state_find(&e->st, names[i]);
        if (m && m->active && !(is_sticky(m) && !e->force) && warn_dependents(e, m) < 0)
            return shelf_oom(err);
        int rc = unload_by_name(e, names[i], err);
        if (rc < 0)
            return rc;
    }
    return SHELF_OK;
}

int shelf_engine_swap(shelf_engine *e, const char *a, const char *b,
                      shelf_error *err)
{
    char *sn = NULL;
    if (!b) {
        b = a;
        sn = shelf_user_sn(e->resolver, shelf_engine_modulepath(e), a);
        if (!sn)
            return shelf_oom(err);
        a = sn;
    }
    shelf_loaded *old = shelf_state_find(&e->st, a);
    int rc = SHELF_OK;
    if (!old) {
        shelf_error_set(err, SHELF_ENOTFOUND, NULL, NULL, 0,
                        "Swap failed: \"%s\" is not loaded.", a);
        rc = SHELF_ENOTFOUND;
    }
    int user = old ? old->user_loaded : 1;
    char *old_sn = old ? strdup(old->sn) : NULL;
    char *old_full = old ? strdup(old->fullname) : NULL;
    if (rc == 0 && (!old_sn || !old_full))
        rc = shelf_oom(err);
    if (rc == 0)
        rc = unload_one(e, (size_t)index_of(e, old), err);
    if (rc == 0)
        rc = load_one(e, b, user, NULL, 0, err);
    shelf_loaded *now = rc == 0 ? shelf_state_find_sn(&e->st, old_sn) : NULL;
    if (now && strcmp(now->fullname, old_full) != 0 &&
        message(e, "The following have been reloaded with a version change:\n"
                   "  1) %s => %s", old_full, now->fullname) < 0)
        rc = shelf_oom(err);
    free(old_sn);
    free(old_full);
    free(sn);
    return rc;
}

int shelf_engine_purge(shelf_engine *e, shelf_error *err)
{
    for (size_t i = e->st.n; i > 0; i--) {
        if (i > e->st.n)
            continue; /* a reversal took more than one module away */
        if (e->st.mods[i - 1].active && keep_sticky(e, &e->st.mods[i - 1]))
            continue;
        int rc = unload_one(e, i - 1, err);
        if (rc < 0)
            return rc;
    }
    return SHELF_OK;
}

int shelf_engine_purge_all(shelf_engine *e, shelf_error *err)
{
    int force = e->force;
    e->force = 1;
    int rc = shelf_engine_purge(e, err);
    e->force = force;
    return rc;
}

int shelf_engine_reload(shelf_engine *e, shelf_error *err)
{
    /* Unload everything, then load the same files again in the same order. */
    shelf_state keep = e->st;
    shelf_state_init(&e->st);
    for (size_t i = keep.n; i > 0; i--) {
        shelf_loaded *m = &keep.mods[i - 1];
        if (!m->active)
            continue;
        int rc = evaluate(e, m, SHELF_MODE_UNLOAD, err);
        if (rc < 0) {
            shelf_state_free(&keep);
            return rc;
        }
    }
    int rc = SHELF_OK;
    for (size_t i = 0; rc == 0 && i < keep.n; i++) {
        shelf_loaded rec = keep.mods[i];
        memset(&keep.mods[i], 0, sizeof rec);
        if (!rec.active) {
            rc = shelf_state_append(&e->st, &rec) < 0 ? shelf_oom(err) : 0;
            continue;
        }
        shelf_loaded *now = shelf_state_find_sn(&e->st, rec.sn);
        if (now) { /* loaded again meanwhile by a dependent */
            now->user_loaded |= rec.user_loaded;
            shelf_loaded_free(&rec);
            continue;
        }
        shelf_strv_free(&rec.props);
        free(rec.family);
        rec.family = NULL;
        rc = activate(e, &rec, -1, err);
    }
    shelf_state_free(&keep);
    return rc;
}

int shelf_engine_refresh(shelf_engine *e, shelf_error *err)
{
    /* Evaluate each module again on a scratch environment, keeping only
     * the aliases and shell functions it defines. */
    for (size_t i = 0; i < e->st.n; i++) {
        shelf_loaded *m = &e->st.mods[i];
        if (!m->active)
            continue;
        shelf_env saved = e->env;
        shelf_env scratch;
        shelf_env_init(&scratch, NULL);
        e->env = scratch;
        shelf_state keep = e->st;
        shelf_state_init(&e->st);
        shelf_loaded copy = *m;
        int rc = evaluate(e, &copy, SHELF_MODE_REFRESH, err);
        shelf_state_free(&e->st);
        e->st = keep;
        scratch = e->env;
        e->env = saved;
        for (size_t j = 0; rc == 0 && j < scratch.naliases; j++)
            rc = shelf_env_set_alias(&e->env, scratch.aliases[j].name,
                                     scratch.aliases[j].value);
        for (size_t j = 0; rc == 0 && j < scratch.nfuncs; j++)
            rc = shelf_env_set_func(&e->env, scratch.funcs[j].name,
                                    scratch.funcs[j].value, scratch.funcs[j].value2,
                                    scratch.funcs[j].value == NULL);
        shelf_env_free(&scratch);
        if (rc < 0)
            return rc == SHELF_ENOMEM ? shelf_oom(err) : rc;
    }
    return SHELF_OK;
}

int shelf_engine_use(shelf_engine *e, char *const *dirs, size_t n, int append,
                     shelf_error *err)
{
    /* `use a b` leaves a before b, as Lmod does. */
    for (size_t k = 0; k < n; k++) {
        const char *dir = dirs[append ? k : n - 1 - k];
        char *abs = shelf_path_absolute(dir);
        if (!abs)
            return shelf_oom(err);
        size_t len = strlen(abs);
        while (len > 1 && abs[len - 1] == '/')
            abs[--len] = '\0';
        if (access(abs, F_OK) != 0 &&
            message(e, "Warning: the directory %s does not exist (added anyway)", abs) < 0) {
            free(abs);
            return shelf_oom(err);
        }
        int rc = shelf_env_path_add(&e->env, "MODULEPATH", abs, ":", !append, 0);
        free(abs);
        if (rc < 0)
            return shelf_oom(err);
    }
    return SHELF_OK;
}

int shelf_engine_unuse(shelf_engine *e, char *const *dirs, size_t n,
                       shelf_error *err)
{
    for (size_t k = 0; k < n; k++) {
        char *abs = shelf_path_absolute(dirs[k]);
        if (!abs)
            return shelf_oom(err);
        size_t len = strlen(abs);
        while (len > 1 && abs[len - 1] == '/')
            abs[--len] = '\0';
        int rc = shelf_env_path_remove(&e->env, "MODULEPATH", abs, ":", 1);
        if (rc == 0 && strcmp(abs, dirs[k]) != 0)
            rc = shelf_env_path_remove(&e->env, "MODULEPATH", dirs[k], ":", 1);
        free(abs);
        if (rc < 0)
            return shelf_oom(err);
    }
    return SHELF_OK;
}

/* ---- collections ------------------------------------------------------------------ */

int shelf_engine_snapshot(shelf_engine *e, const char *name, shelf_collection *c,
                          shelf_error *err)
{
    time_t now = time(NULL);
    struct tm tm;
    char when[32];
    if (!gmtime_r(&now, &tm) || !strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm))
        strcpy(when, "1970-01-01T00:00:00Z");
    c->name = strdup(name);
    c->created = strdup(when);
    c->shelf_version = strdup(PACKAGE_VERSION);
    if (!c->name || !c->created || !c->shelf_version)
        return shelf_oom(err);
    /* The base MODULEPATH: what a forced purge of the same environment
     * leaves (the user's own `module use` directories stay). */
    shelf_engine tmp;
    int rc = shelf_engine_open(&tmp, e->env.base, e->shell, &e->limits, err);
    if (rc == 0)
        rc = shelf_engine_purge_all(&tmp, err);
    const shelf_strv *mp = rc == 0 ? shelf_engine_modulepath(&tmp) : NULL;
    if (rc == 0 && !mp)
        rc = shelf_oom(err);
    for (size_t i = 0; rc == 0 && i < mp->n; i++)
        if (shelf_strv_find(&c->modulepath, mp->v[i]) < 0 &&
            shelf_strv_push(&c->modulepath, mp->v[i]) < 0)
            rc = shelf_oom(err);
    shelf_engine_close(&tmp);
    for (size_t i = 0; rc == 0 && i < e->st.n; i++) {
        const shelf_loaded *l = &e->st.mods[i];
        if (!l->active)
            continue; /* not loadable from this MODULEPATH: nothing to restore */
        char hex[65];
        if ((rc = shelf_sha256_file(l->file, hex, err)) < 0) {
            if (rc == SHELF_ENOTFOUND)
                rc = SHELF_EIO;
            break;
        }
        shelf_coll_mod m;
        memset(&m, 0, sizeof m);
        shelf_strv_init(&m.needed_by);
        m.fullname = strdup(l->fullname);
        m.sn = strdup(l->sn);
        m.version = strdup(l->version);
        m.usrname = strdup(l->usrname ? l->usrname : l->fullname);
        m.file = strdup(l->file);
        m.mpath = strdup(l->mpath ? l->mpath : "");
        m.sha256 = strdup(hex);
        m.user_loaded = l->user_loaded;
        int bad = !m.fullname || !m.sn || !m.version || !m.usrname || !m.file || !m.mpath ||
                  !m.sha256;
        for (size_t k = 0; !bad && k < l->needed_by.n; k++)
            bad = shelf_strv_push(&m.needed_by, l->needed_by.v[k]) < 0;
        if (bad) {
            shelf_coll_mod_free(&m);
            rc = shelf_oom(err);
        } else if (shelf_collection_add(c, &m) < 0) {
            rc = shelf_oom(err);
        }
    }
    return rc;
}

/* Appends to order (indexes into c->mods) module i after the modules it
 * depends on, each once. */
static void restore_order(const shelf_collection *c, size_t i, char *seen, size_t *order,
                          size_t *n)
{
    if (seen[i])
        return;
    seen[i] = 1;
    for (size_t j = 0; j < c->n; j++)
        if (j != i && shelf_strv_find(&c->mods[j].needed_by, c->mods[i].sn) >= 0)
            restore_order(c, j, seen, order, n);
    order[(*n)++] = i;
}

int shelf_engine_restore(shelf_engine *e, const shelf_collection *c, int allow_changes,
                         shelf_error *err)
{
    shelf_drift *drift = NULL;
    size_t ndrift = 0;
    int rc = shelf_collection_check(c, &drift, &ndrift, err);
    if (rc < 0)
        return rc;
    char *skip = calloc(c->n + 1, 1), *seen = calloc(c->n + 1, 1);
    size_t *order = calloc(c->n + 1, sizeof *order), norder = 0;
    shelf_buf why;
    shelf_buf_init(&why);
    if (!skip || !seen || !order) {
        rc = shelf_oom(err);
        goto out;
    }
    for (size_t i = 0; i < ndrift; i++) {
        shelf_buf_addf(&why, "\n  %s", drift[i].detail);
        if (drift[i].kind != SHELF_DRIFT_CHANGED)
            skip[drift[i].mod] = 1;
    }
    if (ndrift && !allow_changes) {
        shelf_error_set(err, SHELF_EDRIFT, NULL, NULL, 0,
                        "collection \"%s\" no longer matches the module trees:%s\n"
                        "Nothing was changed. `module restore --allow-changes %s` restores "
                        "it anyway, leaving out what vanished.",
                        c->name ? c->name : "?", why.data ? why.data : "",
                        c->name ? c->name : "");
        rc = SHELF_EDRIFT;
        goto out;
    }
    /* Everything goes, sticky modules too (Lmod does the same). */
    rc = shelf_engine_purge_all(e, err);
    if (rc < 0)
        goto out;
    char *mp = shelf_strv_join(&c->modulepath, ":");
    if (!mp || (c->modulepath.n ? shelf_env_set(&e->env, "MODULEPATH", mp)
                                : shelf_env_unset(&e->env, "MODULEPATH")) < 0 ||
        refresh_modulepath(e) < 0) {
        free(mp);
        rc = shelf_oom(err);
        goto out;
    }
    free(mp);
    if (message(e, "Restoring modules from collection \"%s\"", c->name ? c->name : "?") < 0) {
        rc = shelf_oom(err);
        goto out;
    }
    for (size_t i = 0; i < c->n; i++)
        restore_order(c, i, seen, order, &norder);
    for (size_t k = 0; rc == 0 && k < norder; k++) {
        const shelf_coll_mod *m = &c->mods[order[k]];
        if (skip[order[k]])
            continue;
        shelf_loaded *have = shelf_state_find_sn(&e->st, m->sn);
        if (have && have->active && strcmp(have->fullname, m->fullname) == 0)
            continue; /* a dependency the modules loaded themselves */
        rc = load_one(e, m->fullname, m->user_loaded, NULL, 0, err);
        if (rc < 0)
            break;
        shelf_loaded *l = shelf_state_find_sn(&e->st, m->sn);
        if (!l || strcmp(l->file, m->file) != 0) {
            shelf_buf d;
            shelf_buf_init(&d);
            shelf_buf_addf(&d, "%s now comes from %s, not %s", m->fullname,
                           l ? l->file : "nowhere", m->file);
            if (shelf_buf_ok(&d) < 0) {
                shelf_buf_free(&d);
                rc = shelf_oom(err);
            } else if (!allow_changes) {
                shelf_error_set(err, SHELF_EDRIFT, m->fullname, NULL, 0,
                                "collection \"%s\" no longer matches the module trees: %s\n"
                                "Nothing was changed. `module restore --allow-changes %s` "
                                "restores it anyway.",
                                c->name ? c->name : "?", d.data, c->name ? c->name : "");
                rc = SHELF_EDRIFT;
            } else {
                shelf_buf_addf(&why, "\n  %s", d.data);
            }
            shelf_buf_free(&d);
            if (rc < 0)
                break;
        }
        if (l) {
            char *u = strdup(m->usrname);
            if (!u) {
                rc = shelf_oom(err);
                break;
            }
            free(l->usrname);
            l->usrname = u;
            l->user_loaded = m->user_loaded;
        }
    }
    if (rc == 0 && why.len &&
        message(e, "Warning: collection \"%s\" was restored with changes:%s",
                c->name ? c->name : "?", why.data) < 0)
        rc = shelf_oom(err);
    if (rc == 0 && shelf_buf_ok(&why) < 0)
        rc = shelf_oom(err);
out:
    shelf_buf_free(&why);
    shelf_drifts_free(drift, ndrift);
    free(skip);
    free(seen);
    free(order);
    return rc;
}

/* ---- the hierarchy ------------------------------------------------------------------ */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Appends "TITLE\n  1) a\n  2) b" with the names sorted, as Lmod lists them. */
static int report(shelf_engine *e, const char *title, shelf_strv *names)
{
    if (names->n == 0)
        return SHELF_OK;
    qsort(names->v, names->n, sizeof *names->v, cmp_str);
    shelf_buf b;
    shelf_buf_init(&b);
    shelf_buf_adds(&b, title);
    for (size_t i = 0; i < names->n; i++)
        shelf_buf_addf(&b, "\n  %zu) %s", i + 1, names->v[i]);
    return shelf_strv_push_owned(&e->messages, shelf_buf_take(&b));
}

/* Re-examines the module at index i after a MODULEPATH change. */
static int settle_one(shelf_engine *e, size_t i, shelf_strv *reloaded,
                      shelf_strv *inactive, shelf_strv *reactivated,
                      shelf_error *err)
{
    shelf_loaded *m = &e->st.mods[i];
    shelf_modfile mf;
    memset(&mf, 0, sizeof mf);
    shelf_error rerr = {0};
    int found = shelf_engine_resolve(e, m->usrname, &mf, &rerr) == 0 && !mf.is_tcl;
    if (!found)
        shelf_modfile_free(&mf);
    shelf_error_clear(&rerr);
    if (found && m->active && strcmp(mf.path, m->file) == 0) {
        shelf_modfile_free(&mf);
        return SHELF_OK;
    }
    if (!found && !m->active)
        return SHELF_OK;
    shelf_loaded rec;
    memset(&rec, 0, sizeof rec);
    int rc = SHELF_OK;
    if (found) {
        rc = record_from(&rec, &mf, m->usrname);
        shelf_modfile_free(&mf);
        rec.user_loaded = m->user_loaded;
        for (size_t k = 0; rc == 0 && k < m->needed_by.n; k++)
            rc = shelf_strv_push(&rec.needed_by, m->needed_by.v[k]);
        if (rc == 0)
            rc = m->active ? shelf_strv_push(reloaded, rec.sn)
                           : shelf_strv_push(reactivated, rec.fullname);
        if (rc < 0) {
            shelf_loaded_free(&rec);
            return shelf_oom(err);
        }
    }
    /* Take the old record out, run its reversal when it was active. */
    shelf_loaded old = *m;
    memmove(m, m + 1, (e->st.n - i - 1) * sizeof *m);
    e->st.n--;
    if (old.active)
        rc = evaluate(e, &old, SHELF_MODE_UNLOAD, err);
    if (rc == 0 && !found) {
        old.active = 0;
        rc = shelf_strv_push(inactive, old.sn) < 0 ? shelf_oom(err) : 0;
        if (rc == 0)
            rc = state_insert(e, &old, (long)i) < 0 ? shelf_oom(err) : 0;
        else
            shelf_loaded_free(&old);
        return rc;
    }
    shelf_loaded_free(&old);
    if (rc < 0) {
        shelf_loaded_free(&rec);
        return rc;
    }
    /* Reloaded and reactivated modules go to the end, in their order. */
    return activate(e, &rec, -1, err);
}

/* After MODULEPATH changed, each loaded module is looked up again by the
 * name it was asked for: another file -> unloaded and the new one loaded
 * in its place; not found -> unloaded and kept as inactive; inactive and
 * found again -> loaded. Repeats while MODULEPATH keeps changing. */
static int settle_hierarchy(shelf_engine *e, shelf_error *err)
{
    shelf_strv reloaded, inactive, reactivated;
    shelf_strv_init(&reloaded);
    shelf_strv_init(&inactive);
    shelf_strv_init(&reactivated);
    char *seen = strdup(e->start_modulepath);
    int rc = seen ? 0 : shelf_oom(err);
    for (int round = 0; rc == 0 && round < 16; round++) {
        const char *mp = shelf_env_get(&e->env, "MODULEPATH");
        if (strcmp(seen, mp ? mp : "") == 0)
            break;
        free(seen);
        if (!(seen = strdup(mp ? mp : ""))) {
            rc = shelf_oom(err);
            break;
        }
        /* Each module is examined once per round, by short name, since
         * settling one may move it to the end or unload others. */
        shelf_strv order;
        shelf_strv_init(&order);
        for (size_t i = 0; rc == 0 && i < e->st.n; i++)
            if (shelf_strv_push(&order, e->st.mods[i].sn) < 0)
                rc = shelf_oom(err);
        /* Active modules first, then the inactive ones: reactivated
         * modules land after the reloaded ones, as in Lmod. */
        for (int pass = 0; pass < 2; pass++)
            for (size_t k = 0; rc == 0 && k < order.n; k++) {
                shelf_loaded *m = shelf_state_find_sn(&e->st, order.v[k]);
                if (m && m->active == (pass == 0))
                    rc = settle_one(e, (size_t)index_of(e, m), &reloaded, &inactive,
                                    &reactivated, err);
            }
        shelf_strv_free(&order);
    }
    free(seen);
    if (rc == 0 && (report(e, "Due to MODULEPATH changes, the following have been reloaded:",
                           &reloaded) < 0 ||
                    report(e, "Inactive Modules:", &inactive) < 0 ||
                    report(e, "Activating Modules:", &reactivated) < 0))
        rc = shelf_oom(err);
    shelf_strv_free(&reloaded);
    shelf_strv_free(&inactive);
    shelf_strv_free(&reactivated);
    return rc;
}

int shelf_engine_finish(shelf_engine *e, shelf_changes *out, shelf_error *err)
{
    int rc = settle_hierarchy(e, err);
    if (rc < 0)
        return rc;
    if (report(e, "The following modules were not unloaded:\n"
                  "  (Use \"module --force purge\" to unload all):", &e->sticky_kept) < 0)
        return shelf_oom(err);
    if (shelf_state_save(&e->st, &e->env) < 0 || shelf_env_diff(&e->env, out) < 0)
        return shelf_oom(err);
    return SHELF_OK;
}
