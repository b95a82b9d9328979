/*
 * api-catalog.c -- the catalog of every module of shelfd's trees, and the
 * JSON of GET /api/v1/modules made from it.
 *
 * The catalog is spider's view: the modulefiles of each tree's top
 * directory and of every directory a module opens (prepend_path of
 * MODULEPATH), recursively, each with its spider record (whatis fields,
 * help, properties, family, dependencies, directories opened). It comes
 * from a tree's sqlite index when that index is fresh, else from a walk of
 * the tree evaluating each modulefile in spider mode; either way the same
 * structure results. Levels record which modules open them, so that the
 * module lists unlocking a level ("requires": gcc, then openmpi) are
 * computed once per level.
 *
 * Invariants: built by one thread, then never changed: readers need no
 * lock. mods[] is in level order (a tree's top level first, then the
 * levels in the order they were discovered); order[] sorts them by short
 * name, version and level for listing.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api-internal.h"
#include "index.h"
#include "modulefile.h"
#include "shelf-internal.h"
#include "state.h"

#define CHAIN_SEP '\x1f'   /* between the full names of one chain */
#define MAX_CHAINS 32      /* module lists kept per level */
#define MAX_DEPTH 16       /* levels of hierarchy followed */

typedef struct cat_mod {
    shelf_modfile mf;
    shelf_spider_rec rec;
    size_t level;
    int dflt; /* the default of its short name within its level */
} cat_mod;

typedef struct cat_level {
    char *path;
    int root;          /* a tree's top directory: needs nothing */
    size_t *openers;   /* mods that open this level */
    size_t nopen, capopen;
    shelf_strv chains; /* full names joined by CHAIN_SEP; "" = nothing needed */
    int chain_state;   /* 0 not computed, 1 computing (a cycle), 2 done */
} cat_level;

struct api_catalog {
    cat_level *levels;
    size_t nlevels, caplevels;
    cat_mod *mods;
    size_t nmods, capmods;
    size_t *order;
};

static int oom(shelf_error *err)
{
    shelf_error_set(err, SHELF_ENOMEM, NULL, NULL, 0, "out of memory");
    return SHELF_ENOMEM;
}

void api_catalog_free(api_catalog *cat)
{
    if (!cat)
        return;
    for (size_t i = 0; i < cat->nlevels; i++) {
        free(cat->levels[i].path);
        free(cat->levels[i].openers);
        shelf_strv_free(&cat->levels[i].chains);
    }
    for (size_t i = 0; i < cat->nmods; i++) {
        shelf_modfile_free(&cat->mods[i].mf);
        shelf_spider_rec_free(&cat->mods[i].rec);
    }
    free(cat->levels);
    free(cat->mods);
    free(cat->order);
    free(cat);
}

/* The index of level `path` (normalized), added when new. -1 on OOM. */
static long level_add(api_catalog *cat, const char *path, int root)
{
    for (size_t i = 0; i < cat->nlevels; i++)
        if (strcmp(cat->levels[i].path, path) == 0) {
            cat->levels[i].root |= root;
            return (long)i;
        }
    if (cat->nlevels == cat->caplevels) {
        size_t cap = cat->caplevels ? 2 * cat->caplevels : 16;
        cat_level *v = realloc(cat->levels, cap * sizeof *v);
        if (!v)
            return -1;
        cat->levels = v;
        cat->caplevels = cap;
    }
    cat_level *l = &cat->levels[cat->nlevels];
    memset(l, 0, sizeof *l);
    shelf_strv_init(&l->chains);
    if (!(l->path = strdup(path)))
        return -1;
    l->root = root;
    return (long)cat->nlevels++;
}

/* Appends a module, taking over mf and rec (emptied; freed on failure). */
static int mod_add(api_catalog *cat, shelf_modfile *mf, shelf_spider_rec *rec, size_t level,
                   int dflt)
{
    if (cat->nmods == cat->capmods) {
        size_t cap = cat->capmods ? 2 * cat->capmods : 256;
        cat_mod *v = realloc(cat->mods, cap * sizeof *v);
        if (!v) {
            shelf_modfile_free(mf);
            shelf_spider_rec_free(rec);
            return SHELF_ENOMEM;
        }
        cat->mods = v;
        cat->capmods = cap;
    }
    cat_mod *m = &cat->mods[cat->nmods++];
    m->mf = *mf;
    m->rec = *rec;
    m->level = level;
    m->dflt = dflt;
    memset(mf, 0, sizeof *mf);
    shelf_spider_rec_init(rec);
    return SHELF_OK;
}

/* ---- filling a level from an index ------------------------------------------ */

typedef struct fill_ctx {
    api_catalog *cat;
    size_t level;
} fill_ctx;

static int fill_indexed(void *ud, shelf_index_mod *im)
{
    fill_ctx *f = ud;
    int rc = mod_add(f->cat, &im->mf, &im->rec, f->level, im->level_default);
    shelf_index_mod_free(im);
    return rc;
}

/* ---- filling a level by evaluating its modulefiles ---------------------------- */

typedef struct spider_host {
    shelf_spider_rec *rec;
    char *const *env;
} spider_host;

static int sp_call(void *ud, const shelf_mf_call *c, shelf_error *err)
{
    spider_host *h = ud;
    return shelf_spider_collect(h->rec, c) < 0 ? oom(err) : SHELF_OK;
}

static int sp_is_loaded(void *ud, const char *name)
{
    (void)ud;
    (void)name;
    return 0;
}

static const char *sp_getenv(void *ud, const char *name)
{
    spider_host *h = ud;
    return shelf_environ_get(h->env, name);
}

static int fill_walked(api_catalog *cat, size_t level, shelf_lua *lua, char *const *env,
                       shelf_error *err)
{
    shelf_modlist ml;
    shelf_modlist_init(&ml);
    int rc = shelf_tree_scan(cat->levels[level].path, &ml, err);
    for (size_t i = 0; rc == 0 && i < ml.n; i++) {
        shelf_modfile *mf = &ml.items[i];
        shelf_spider_rec rec;
        shelf_spider_rec_init(&rec);
        if (!mf->is_tcl) {
            spider_host h = {&rec, env};
            shelf_mf_host host = {&h, sp_call, sp_is_loaded, sp_is_loaded, sp_getenv};
            shelf_mf_info info = {mf->path, mf->fullname, mf->sn, mf->version,
                                  mf->fullname, SHELF_MODE_SPIDER, "bash"};
            shelf_error e2 = {0};
            /* A broken modulefile is listed with what it told before failing. */
            if (shelf_mf_eval(lua, &info, &host, &e2) == SHELF_ENOMEM)
                rc = oom(err);
            shelf_error_clear(&e2);
        }
        int dflt = mf->is_default;
        if (rc == 0)
            rc = mod_add(cat, mf, &rec, level, dflt) < 0 ? oom(err) : 0;
        else
            shelf_spider_rec_free(&rec);
    }
    shelf_modlist_free(&ml);
    return rc;
}

/* ---- building ------------------------------------------------------------------- */

static int open_indexes(char *const *trees, size_t ntrees, shelf_index ***out, size_t *n)
{
    *out = NULL;
    *n = 0;
    shelf_index **v = calloc(ntrees ? ntrees : 1, sizeof *v);
    if (!v)
        return SHELF_ENOMEM;
    for (size_t t = 0; t < ntrees; t++) {
        shelf_strv locs;
        shelf_strv_init(&locs);
        if (shelf_index_locations(trees[t], &locs) < 0) {
            shelf_strv_free(&locs);
            continue;
        }
        int found = 0; /* the first usable location of this tree */
        for (size_t i = 0; i < locs.n && !found; i++) {
            shelf_index *ix = NULL;
            shelf_error e = {0};
            if (shelf_index_open(locs.v[i], &ix, &e) == 0 &&
                shelf_index_fresh(ix, NULL, 0, NULL, 0, NULL) == 1) {
                v[(*n)++] = ix;
                found = 1;
            } else
                shelf_index_close(ix);
            shelf_error_clear(&e);
        }
        shelf_strv_free(&locs);
    }
    *out = v;
    return SHELF_OK;
}

static int cmp_order(const void *a, const void *b, void *ud)
{
    const api_catalog *cat = ud;
    const cat_mod *x = &cat->mods[*(const size_t *)a];
    const cat_mod *y = &cat->mods[*(const size_t *)b];
    int c = strcmp(x->mf.sn, y->mf.sn);
    if (c == 0)
        c = shelf_version_cmp(x->mf.version, y->mf.version);
    if (c == 0)
        c = x->level < y->level ? -1 : x->level > y->level;
    return c;
}

static int chains_of(api_catalog *cat, size_t li, int depth);

static int chain_push(shelf_strv *out, const char *prefix, const char *name)
{
    if (out->n >= MAX_CHAINS)
        return SHELF_OK;
    shelf_buf b;
    shelf_buf_init(&b);
    shelf_buf_adds(&b, prefix);
    if (*prefix)
        shelf_buf_addc(&b, CHAIN_SEP);
    shelf_buf_adds(&b, name);
    char *s = shelf_buf_take(&b);
    if (!s)
        return SHELF_ENOMEM;
    if (shelf_strv_find(out, s) >= 0) {
        free(s);
        return SHELF_OK;
    }
    return shelf_strv_push_owned(out, s);
}

static int chains_of(api_catalog *cat, size_t li, int depth)
{
    cat_level *l = &cat->levels[li];
    if (l->chain_state)
        return SHELF_OK;
    l->chain_state = 1;
    int rc = SHELF_OK;
    if (l->root)
        rc = shelf_strv_push(&l->chains, "");
    for (size_t i = 0; rc == 0 && !l->root && depth < MAX_DEPTH && i < l->nopen; i++) {
        const cat_mod *m = &cat->mods[l->openers[i]];
        rc = chains_of(cat, m->level, depth + 1);
        const shelf_strv *up = &cat->levels[m->level].chains;
        for (size_t c = 0; rc == 0 && c < up->n; c++)
            rc = chain_push(&l->chains, up->v[c], m->mf.fullname);
    }
    l->chain_state = 2;
    return rc;
}

static int link_openers(api_catalog *cat)
{
    for (size_t m = 0; m < cat->nmods; m++) {
        const shelf_strv *opens = &cat->mods[m].rec.opens;
        for (size_t o = 0; o < opens->n; o++)
            for (size_t li = 0; li < cat->nlevels; li++) {
                cat_level *l = &cat->levels[li];
                if (strcmp(l->path, opens->v[o]) != 0)
                    continue;
                if (l->nopen == l->capopen) {
                    size_t cap = l->capopen ? 2 * l->capopen : 4;
                    size_t *v = realloc(l->openers, cap * sizeof *v);
                    if (!v)
                        return SHELF_ENOMEM;
                    l->openers = v;
                    l->capopen = cap;
                }
                l->openers[l->nopen++] = m;
            }
    }
    for (size_t li = 0; li < cat->nlevels; li++)
        if (chains_of(cat, li, 0) < 0)
            return SHELF_ENOMEM;
    return SHELF_OK;
}

int api_catalog_build(char *const *trees, size_t ntrees, char *const *env,
                      const shelf_eval_limits *limits, api_catalog **out, shelf_error *err)
{
    *out = NULL;
    api_catalog *cat = calloc(1, sizeof *cat);
    shelf_lua *lua = NULL;
    shelf_index **ixs = NULL;
    size_t nix = 0;
    if (!cat || open_indexes(trees, ntrees, &ixs, &nix) < 0) {
        free(cat);
        return oom(err);
    }
    int rc = SHELF_OK;
    for (size_t t = 0; rc == 0 && t < ntrees; t++)
        if (level_add(cat, trees[t], 1) < 0)
            rc = oom(err);
    for (size_t li = 0; rc == 0 && li < cat->nlevels; li++) {
        size_t first = cat->nmods;
        int done = 0;
        for (size_t i = 0; !done && i < nix; i++) {
            long lid = shelf_index_level(ixs[i], cat->levels[li].path);
            if (lid < 0)
                continue;
            fill_ctx f = {cat, li};
            shelf_error e2 = {0};
            int qrc = shelf_index_query(ixs[i], lid, SHELF_IXF_ALL, NULL, 0,
                                        SHELF_IX_META | SHELF_IX_WHATIS | SHELF_IX_HELP |
                                            SHELF_IX_OPENS,
                                        fill_indexed, &f, &e2);
            shelf_error_clear(&e2);
            if (qrc == SHELF_ENOMEM)
                rc = oom(err);
            done = qrc == 0;
            if (!done) /* a read error: drop what came and walk instead */
                while (cat->nmods > first) {
                    cat->nmods--;
                    shelf_modfile_free(&cat->mods[cat->nmods].mf);
                    shelf_spider_rec_free(&cat->mods[cat->nmods].rec);
                }
        }
        if (rc == 0 && !done) {
            if (!lua && !(lua = shelf_lua_new(limits)))
                rc = oom(err);
            if (rc == 0 && fill_walked(cat, li, lua, env, err) == SHELF_ENOMEM)
                rc = SHELF_ENOMEM;
        }
        for (size_t m = first; rc == 0 && m < cat->nmods; m++)
            for (size_t o = 0; rc == 0 && o < cat->mods[m].rec.opens.n; o++) {
                char *norm = shelf_dir_norm(cat->mods[m].rec.opens.v[o]);
                if (!norm || level_add(cat, norm, 0) < 0)
                    rc = oom(err);
                free(norm);
            }
    }
    for (size_t i = 0; i < nix; i++)
        shelf_index_close(ixs[i]);
    free(ixs);
    shelf_lua_free(lua);
    if (rc == 0 && link_openers(cat) < 0)
        rc = oom(err);
    if (rc == 0 && !(cat->order = malloc((cat->nmods ? cat->nmods : 1) * sizeof *cat->order)))
        rc = oom(err);
    if (rc < 0) {
        api_catalog_free(cat);
        return rc;
    }
    for (size_t i = 0; i < cat->nmods; i++)
        cat->order[i] = i;
    qsort_r(cat->order, cat->nmods, sizeof *cat->order, cmp_order, cat);
    *out = cat;
    return SHELF_OK;
}

/* ---- questions ---------------------------------------------------------------- */

static int under(const char *dir, const char *top)
{
    size_t n = strlen(top);
    while (n > 1 && top[n - 1] == '/')
        n--;
    return strncmp(dir, top, n) == 0 && (dir[n] == '\0' || dir[n] == '/');
}

int api_catalog_allows(const api_catalog *cat, char *const *trees, size_t ntrees,
                       const char *dir)
{
    if (dir[0] != '/' || strstr(dir, "/../") || strstr(dir, "/./"))
        return 0;
    size_t n = strlen(dir);
    if ((n >= 3 && strcmp(dir + n - 3, "/..") == 0) || (n >= 2 && strcmp(dir + n - 2, "/.") == 0))
        return 0;
    for (size_t t = 0; t < ntrees; t++)
        if (under(dir, trees[t]))
            return 1;
    for (size_t i = 0; cat && i < cat->nlevels; i++)
        if (under(dir, cat->levels[i].path))
            return 1;
    return 0;
}

const shelf_modfile *api_catalog_find(const api_catalog *cat, const char *name)
{
    const cat_mod *best = NULL;
    for (size_t i = 0; i < cat->nmods; i++)
        if (strcmp(cat->mods[i].mf.fullname, name) == 0)
            return &cat->mods[i].mf;
    for (size_t i = 0; i < cat->nmods; i++) {
        const cat_mod *m = &cat->mods[i];
        if (strcmp(m->mf.sn, name) != 0 || (best && m->level != best->level))
            continue;
        if (m->dflt && !m->mf.hidden)
            return &m->mf;
        if (!m->mf.hidden && (!best || shelf_version_cmp(m->mf.version, best->mf.version) > 0))
            best = m;
    }
    return best ? &best->mf : NULL;
}

static cJSON *chains_json(const shelf_strv *chains)
{
    cJSON *arr = cJSON_CreateArray();
    for (size_t c = 0; arr && c < chains->n; c++) {
        if (!chains->v[c][0])
            continue;
        cJSON *line = cJSON_CreateArray();
        if (!line || !cJSON_AddItemToArray(arr, line)) {
            cJSON_Delete(line);
            cJSON_Delete(arr);
            return NULL;
        }
        for (const char *p = chains->v[c]; p;) {
            const char *q = strchr(p, CHAIN_SEP);
            size_t len = q ? (size_t)(q - p) : strlen(p);
            char *s = strndup(p, len);
            cJSON *js = s ? cJSON_CreateString(s) : NULL;
            free(s);
            if (!js || !cJSON_AddItemToArray(line, js)) {
                cJSON_Delete(js);
                cJSON_Delete(arr);
                return NULL;
            }
            p = q ? q + 1 : NULL;
        }
    }
    return arr;
}

cJSON *api_catalog_requires(const api_catalog *cat, const char *file)
{
    for (size_t i = 0; cat && i < cat->nmods; i++)
        if (strcmp(cat->mods[i].mf.path, file) == 0)
            return chains_json(&cat->levels[cat->mods[i].level].chains);
    return cJSON_CreateArray();
}

/* ---- GET modules ------------------------------------------------------------------ */

static void add_str(cJSON *o, const char *k, const char *v)
{
    if (v)
        cJSON_AddStringToObject(o, k, v);
    else
        cJSON_AddNullToObject(o, k);
}

static int matches(const cat_mod *m, const char *q)
{
    if (!q || !*q)
        return 1;
    return strcasestr(m->mf.sn, q) || (m->rec.description && strcasestr(m->rec.description, q)) ||
           (m->rec.keywords && strcasestr(m->rec.keywords, q));
}

/* The module object of the group order[a..b) (one short name), or NULL
 * when no version passes the filters. *fail is set on OOM. */
static cJSON *group_json(const api_catalog *cat, size_t a, size_t b, const api_list_query *q,
                         const unsigned char *on_mp, int *fail)
{
    int match = 0;
    for (size_t i = a; i < b && !match; i++)
        match = matches(&cat->mods[cat->order[i]], q->q);
    if (!match)
        return NULL;
    cJSON *o = cJSON_CreateObject(), *versions = cJSON_CreateArray();
    shelf_strv chains;
    shelf_strv_init(&chains);
    const cat_mod *rep = NULL;
    int any = 0, loadable = 0, loaded_any = 0, ok = o && versions;
    for (size_t i = a; ok && i < b; i++) {
        const cat_mod *m = &cat->mods[cat->order[i]];
        int loaded = q->loaded_files && shelf_strv_find(q->loaded_files, m->mf.path) >= 0;
        if (m->mf.hidden && !q->hidden && !loaded)
            continue;
        if (!q->all && !m->dflt && !loaded)
            continue;
        any = 1;
        if (!rep || (m->dflt && !m->mf.hidden && !(rep->dflt && !rep->mf.hidden)) ||
            (!(rep->dflt && !rep->mf.hidden) && !m->mf.hidden))
            rep = m;
        const cat_level *l = &cat->levels[m->level];
        cJSON *v = cJSON_CreateObject();
        cJSON *req = chains_json(&l->chains);
        ok = v && req && cJSON_AddItemToArray(versions, v);
        if (!ok) {
            cJSON_Delete(v);
            cJSON_Delete(req);
            break;
        }
        add_str(v, "version", m->mf.version);
        add_str(v, "fullname", m->mf.fullname);
        cJSON_AddBoolToObject(v, "default", m->dflt);
        cJSON_AddBoolToObject(v, "loaded", loaded);
        cJSON_AddBoolToObject(v, "hidden", m->mf.hidden);
        cJSON_AddBoolToObject(v, "loadable", on_mp[m->level]);
        add_str(v, "file", m->mf.path);
        add_str(v, "modulepath", l->path);
        cJSON_AddItemToObject(v, "requires", req);
        loadable |= on_mp[m->level];
        loaded_any |= loaded;
        for (size_t c = 0; ok && c < l->chains.n; c++)
            if (shelf_strv_find(&chains, l->chains.v[c]) < 0)
                ok = shelf_strv_push(&chains, l->chains.v[c]) == 0;
    }
    if (ok && any) {
        add_str(o, "name", rep->mf.sn);
        add_str(o, "description", rep->rec.description);
        add_str(o, "category", rep->rec.category);
        add_str(o, "keywords", rep->rec.keywords);
        add_str(o, "default", rep->mf.fullname);
        cJSON *p = shelf_props_json(&rep->rec.props);
        cJSON *req = chains_json(&chains);
        ok = p && req && cJSON_AddItemToObject(o, "properties", p);
        if (!ok)
            cJSON_Delete(p);
        cJSON_AddBoolToObject(o, "loadable", loadable);
        cJSON_AddBoolToObject(o, "loaded", loaded_any);
        if (ok && !cJSON_AddItemToObject(o, "requires", req))
            ok = 0;
        if (!ok)
            cJSON_Delete(req);
        if (ok && !cJSON_AddItemToObject(o, "versions", versions))
            ok = 0;
        else
            versions = NULL;
    }
    shelf_strv_free(&chains);
    cJSON_Delete(versions);
    if (!ok)
        *fail = 1;
    if (!ok || !any) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

char *api_catalog_modules_json(const api_catalog *cat, const api_list_query *q, size_t *len)
{
    unsigned char *on_mp = calloc(cat->nlevels ? cat->nlevels : 1, 1);
    cJSON *doc = cJSON_CreateObject();
    cJSON *arr = doc ? cJSON_AddArrayToObject(doc, "modules") : NULL;
    int fail = !on_mp || !arr;
    for (size_t li = 0; !fail && li < cat->nlevels; li++)
        on_mp[li] = q->modulepath && shelf_strv_find(q->modulepath, cat->levels[li].path) >= 0;
    for (size_t a = 0, b; !fail && a < cat->nmods; a = b) {
        const char *sn = cat->mods[cat->order[a]].mf.sn;
        for (b = a + 1; b < cat->nmods && strcmp(cat->mods[cat->order[b]].mf.sn, sn) == 0; b++)
            ;
        cJSON *g = group_json(cat, a, b, q, on_mp, &fail);
        if (g && !cJSON_AddItemToArray(arr, g)) {
            cJSON_Delete(g);
            fail = 1;
        }
    }
    char *text = fail ? NULL : cJSON_PrintUnformatted(doc);
    cJSON_Delete(doc);
    free(on_mp);
    if (text)
        *len = strlen(text);
    return text;
}
