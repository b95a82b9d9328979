/*
 * api-catalog.c -- shelfd's catalog of its trees and the JSON of
 * GET /api/v1/modules rendered from it.
 *
 * The catalog is libshelf's (shelf.h: the catalog), built for the trees' top
 * directories, following every level their modules open, with every field
 * and every level's chains worked out at build time. What a context sees
 * comes from the engine's rules as the `shelf` command applies them: the
 * default of a short name is what `module load NAME` loads with the
 * context's MODULEPATH (shelf_catalog_defaults), and for a name not on it,
 * the variant whose level needs the fewest modules the context has not
 * loaded (shelf_catalog_pick); each version's chains come best first.
 *
 * Invariants: built by one thread, then never changed: readers need no
 * lock. order[] sorts the modules by short name, version and level.
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api-internal.h"
#include "shelf.h"

/* JSON lists at most this many chains per module. */
#define MAX_CHAINS_SHOWN 32

struct api_catalog {
    shelf_catalog cat;
    size_t *order;
};


void api_catalog_free(api_catalog *ac)
{
    if (!ac)
        return;
    shelf_catalog_free(&ac->cat);
    free(ac->order);
    free(ac);
}

static int cmp_order(const void *a, const void *b, void *ud)
{
    const shelf_catalog *cat = ud;
    const shelf_cat_mod *x = &cat->mods[*(const size_t *)a];
    const shelf_cat_mod *y = &cat->mods[*(const size_t *)b];
    int c = strcmp(x->mf.sn, y->mf.sn);
    if (c == 0)
        c = shelf_version_cmp(x->mf.version, y->mf.version);
    if (c == 0)
        c = x->level < y->level ? -1 : x->level > y->level;
    return c;
}

static int api_catalog_build(char *const *trees, size_t ntrees, char *const *env,
                      shelf_index_check check, const shelf_eval_limits *limits,
                      api_catalog **out, shelf_error *err)
{
    *out = NULL;
    api_catalog *ac = calloc(1, sizeof *ac);
    if (!ac)
        return shelf_oom(err);
    shelf_catalog_init(&ac->cat);
    shelf_catalog_opts co = {.dirs = trees, .ndirs = ntrees, .follow = 1, .evaluate = 1,
                             .chains = 1, .all_rc = 1, .filter = SHELF_IXF_ALL,
                             .what = SHELF_IX_META, /* whatis, help: from the file (show) */
                             .env = env, .check = check};
    shelf_engine *e;
    int rc = shelf_engine_new(env, SHELF_SH_BASH, limits, &e, err);
    if (rc == SHELF_ESTATE) { /* spider mode reads no table */
        shelf_error_clear(err);
        rc = SHELF_OK;
    }
    if (rc == 0)
        rc = shelf_catalog_build(e, &co, &ac->cat, err);
    shelf_engine_free(e);
    if (rc == 0 && !(ac->order = malloc((ac->cat.n ? ac->cat.n : 1) * sizeof *ac->order)))
        rc = shelf_oom(err);
    if (rc < 0) {
        api_catalog_free(ac);
        return rc;
    }
    for (size_t i = 0; i < ac->cat.n; i++)
        ac->order[i] = i;
    qsort_r(ac->order, ac->cat.n, sizeof *ac->order, cmp_order, &ac->cat);
    *out = ac;
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

int api_catalog_allows(const api_catalog *ac, char *const *trees, size_t ntrees,
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
    for (size_t i = 0; ac && i < ac->cat.nlevels; i++)
        if (under(dir, ac->cat.levels[i].path))
            return 1;
    return 0;
}

int api_view_init(api_view *v, const api_catalog *ac, shelf_engine *e)
{
    memset(v, 0, sizeof *v);
    v->ac = ac;
    const shelf_catalog *cat = &ac->cat;
    v->on_mp = calloc(cat->nlevels ? cat->nlevels : 1, 1);
    if (!v->on_mp)
        return SHELF_ENOMEM;
    const shelf_strv *mp = shelf_engine_modulepath(e);
    for (size_t i = 0; mp && i < mp->n; i++) {
        long l = shelf_catalog_level(cat, mp->v[i]);
        if (l == -2) {
            api_view_free(v);
            return SHELF_ENOMEM;
        }
        if (l >= 0)
            v->on_mp[l] = 1;
    }
    shelf_strv_init(&v->loaded);
    const shelf_state *st = shelf_engine_state(e);
    for (size_t i = 0; i < st->n; i++)
        if (st->mods[i].active && shelf_strv_push(&v->loaded, st->mods[i].fullname) < 0) {
            api_view_free(v);
            return SHELF_ENOMEM;
        }
    if (!mp || shelf_catalog_defaults(e, cat, v->on_mp, 0, &v->defaults) < 0) {
        api_view_free(v);
        return SHELF_ENOMEM;
    }
    return SHELF_OK;
}

void api_view_free(api_view *v)
{
    free(v->on_mp);
    shelf_strv_free(&v->loaded);
    shelf_defaults_free(&v->defaults);
    memset(v, 0, sizeof *v);
}

/* The bounds [*a, *b) in order[] of the versions of sn; 0 when none. */
static int sn_range(const api_catalog *ac, const char *sn, size_t *a, size_t *b)
{
    const shelf_catalog *cat = &ac->cat;
    size_t lo = 0, hi = cat->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(cat->mods[ac->order[mid]].mf.sn, sn) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    size_t end = lo;
    while (end < cat->n && strcmp(cat->mods[ac->order[end]].mf.sn, sn) == 0)
        end++;
    *a = lo;
    *b = end;
    return end > lo;
}

/* The entry standing for the versions order[a..b) in view v, as an index
 * into order[], or -1. */
static long pick(const api_view *v, size_t a, size_t b)
{
    const api_catalog *ac = v->ac;
    const shelf_sn_default *d = shelf_defaults_find(&v->defaults, ac->cat.mods[ac->order[a]].mf.sn);
    long at = shelf_catalog_pick(&ac->cat, ac->order + a, b - a, v->on_mp, d ? d->path : NULL,
                                 &v->loaded);
    return at < 0 ? -1 : (long)a + at;
}

const shelf_modfile *api_catalog_find(const api_view *v, const char *name)
{
    const shelf_catalog *cat = &v->ac->cat;
    for (size_t i = 0; i < cat->n; i++)
        if (strcmp(cat->mods[i].mf.fullname, name) == 0)
            return &cat->mods[i].mf;
    size_t a, b;
    if (!sn_range(v->ac, name, &a, &b))
        return NULL;
    long at = pick(v, a, b);
    return at < 0 ? NULL : &cat->mods[v->ac->order[at]].mf;
}

/* The chains of level l as JSON arrays of full names, those the context
 * lacks the fewest modules of first. NULL on OOM. */
static cJSON *chains_json(const api_view *v, size_t l)
{
    const shelf_strv *chains = &v->ac->cat.levels[l].chains;
    cJSON *arr = cJSON_CreateArray();
    size_t *order = malloc((chains->n ? chains->n : 1) * sizeof *order);
    size_t *missing = malloc((chains->n ? chains->n : 1) * sizeof *missing);
    size_t n = 0;
    for (size_t c = 0; order && missing && c < chains->n; c++) {
        if (!chains->v[c][0])
            continue;
        size_t miss = shelf_catalog_chain_missing(chains->v[c], &v->loaded);
        size_t k = n++;
        for (; k > 0 && missing[k - 1] > miss; k--) { /* insertion: stable */
            order[k] = order[k - 1];
            missing[k] = missing[k - 1];
        }
        order[k] = c;
        missing[k] = miss;
    }
    if (!order || !missing) {
        cJSON_Delete(arr);
        arr = NULL;
    }
    for (size_t i = 0; arr && i < n && i < MAX_CHAINS_SHOWN; i++) {
        cJSON *line = shelf_json_chain(chains->v[order[i]]);
        if (!line || !cJSON_AddItemToArray(arr, line)) {
            cJSON_Delete(line);
            cJSON_Delete(arr);
            arr = NULL;
        }
    }
    free(order);
    free(missing);
    return arr;
}

cJSON *api_catalog_requires(const api_view *v, const char *file)
{
    const shelf_catalog *cat = &v->ac->cat;
    for (size_t i = 0; i < cat->n; i++)
        if (strcmp(cat->mods[i].mf.path, file) == 0)
            return chains_json(v, cat->mods[i].level);
    return cJSON_CreateArray();
}

int api_catalog_is_default(const api_view *v, const shelf_modfile *mf)
{
    size_t a, b;
    if (!sn_range(v->ac, mf->sn, &a, &b))
        return 0;
    long at = pick(v, a, b);
    return at >= 0 && strcmp(v->ac->cat.mods[v->ac->order[at]].mf.path, mf->path) == 0;
}

/* ---- GET modules ------------------------------------------------------------------ */

static int matches(const shelf_cat_mod *m, const char *q)
{
    if (!q || !*q)
        return 1;
    return strcasestr(m->mf.sn, q) || (m->info.description && strcasestr(m->info.description, q)) ||
           (m->info.keywords && strcasestr(m->info.keywords, q));
}

/* Adds the chains of JSON array req (arrays of strings) not yet in all. */
static int merge_chains(cJSON *all, const cJSON *req)
{
    const cJSON *line;
    cJSON_ArrayForEach(line, req)
    {
        int seen = 0;
        const cJSON *have;
        cJSON_ArrayForEach(have, all) seen |= cJSON_Compare(have, line, 1);
        if (seen)
            continue;
        cJSON *copy = cJSON_Duplicate(line, 1);
        if (!copy || !cJSON_AddItemToArray(all, copy)) {
            cJSON_Delete(copy);
            return SHELF_ENOMEM;
        }
    }
    return SHELF_OK;
}

/* The module object of the versions order[a..b) (one short name), or NULL
 * when no version passes the filters. *fail is set on OOM. */
static cJSON *group_json(const api_view *v, size_t a, size_t b, const api_list_query *q,
                         int *fail)
{
    const api_catalog *ac = v->ac;
    const shelf_catalog *cat = &ac->cat;
    int match = 0;
    for (size_t i = a; i < b && !match; i++)
        match = matches(&cat->mods[ac->order[i]], q->q);
    if (!match)
        return NULL;
    long chosen = pick(v, a, b);
    cJSON *o = cJSON_CreateObject(), *versions = cJSON_CreateArray(), *all = cJSON_CreateArray();
    const shelf_cat_mod *rep = chosen >= 0 ? &cat->mods[ac->order[chosen]] : NULL;
    int any = 0, loadable = 0, loaded_any = 0, ok = o && versions && all;
    for (size_t i = a; ok && i < b; i++) {
        const shelf_cat_mod *m = &cat->mods[ac->order[i]];
        int loaded = q->loaded_files && shelf_strv_find(q->loaded_files, m->mf.path) >= 0;
        int dflt = (long)i == chosen;
        if (m->mf.hidden && !q->hidden && !loaded)
            continue;
        if (!q->all && !dflt && !loaded) { /* not listed, but a way to the module */
            cJSON *req = chains_json(v, m->level);
            ok = req && merge_chains(all, req) == 0;
            cJSON_Delete(req);
            continue;
        }
        any = 1;
        if (!rep)
            rep = m;
        const shelf_cat_level *l = &cat->levels[m->level];
        cJSON *ver = cJSON_CreateObject();
        cJSON *req = chains_json(v, m->level);
        ok = ver && req && cJSON_AddItemToArray(versions, ver);
        if (!ok) {
            cJSON_Delete(ver);
            cJSON_Delete(req);
            break;
        }
        shelf_json_add_str(ver, "version", m->mf.version);
        shelf_json_add_str(ver, "fullname", m->mf.fullname);
        cJSON_AddBoolToObject(ver, "default", dflt);
        cJSON_AddBoolToObject(ver, "loaded", loaded);
        cJSON_AddBoolToObject(ver, "hidden", m->mf.hidden);
        cJSON_AddBoolToObject(ver, "loadable", v->on_mp[m->level]);
        shelf_json_add_str(ver, "file", m->mf.path);
        shelf_json_add_str(ver, "modulepath", l->path);
        ok = merge_chains(all, req) == 0;
        cJSON_AddItemToObject(ver, "requires", req);
        loadable |= v->on_mp[m->level];
        loaded_any |= loaded;
    }
    if (ok && any) {
        shelf_json_add_str(o, "name", rep->mf.sn);
        shelf_json_add_str(o, "description", rep->info.description);
        shelf_json_add_str(o, "category", rep->info.category);
        shelf_json_add_str(o, "keywords", rep->info.keywords);
        shelf_json_add_str(o, "default_fullname", chosen >= 0 ? rep->mf.fullname : NULL);
        cJSON *p = shelf_json_props(&rep->info.props);
        ok = p && cJSON_AddItemToObject(o, "properties", p);
        if (!ok)
            cJSON_Delete(p);
        cJSON_AddBoolToObject(o, "loadable", loadable);
        cJSON_AddBoolToObject(o, "loaded", loaded_any);
        if (ok && cJSON_AddItemToObject(o, "requires", all))
            all = NULL;
        else
            ok = 0;
        if (ok && cJSON_AddItemToObject(o, "versions", versions))
            versions = NULL;
        else
            ok = 0;
    }
    cJSON_Delete(versions);
    cJSON_Delete(all);
    if (!ok)
        *fail = 1;
    if (!ok || !any) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

char *api_catalog_modules_json(const api_view *v, const api_list_query *q, size_t *len)
{
    const api_catalog *ac = v->ac;
    const shelf_catalog *cat = &ac->cat;
    cJSON *doc = cJSON_CreateObject();
    cJSON *arr = doc ? cJSON_AddArrayToObject(doc, "modules") : NULL;
    int fail = !arr;
    for (size_t a = 0, b; !fail && a < cat->n; a = b) {
        const char *sn = cat->mods[ac->order[a]].mf.sn;
        for (b = a + 1; b < cat->n && strcmp(cat->mods[ac->order[b]].mf.sn, sn) == 0; b++)
            ;
        cJSON *g = group_json(v, a, b, q, &fail);
        if (g && !cJSON_AddItemToArray(arr, g)) {
            cJSON_Delete(g);
            fail = 1;
        }
    }
    char *text = fail ? NULL : shelf_json_text(doc, 0);
    cJSON_Delete(doc);
    if (text)
        *len = strlen(text);
    return text;
}

/* ---- the catalog, per tree generation --------------------------------------------- */

void api_cat_release(api_state *s, cat_ref *cr)
{
    if (!cr)
        return;
    pthread_mutex_lock(&s->cat_lock);
    int last = --cr->refs == 0;
    pthread_mutex_unlock(&s->cat_lock);
    if (last) {
        api_catalog_free(cr->cat);
        free(cr);
    }
}

/* Builds the catalog of generation gen and makes it the newest; clears
 * s->building. With for_caller the caller holds a reference to the result
 * (NULL on OOM, err set). */
static cat_ref *cat_build(api_state *s, unsigned long gen, int for_caller, shelf_error *err)
{
    cat_ref *cr = calloc(1, sizeof *cr);
    int rc = cr ? api_catalog_build(s->trees.v, s->trees.n, s->default_env.v, s->index_check,
                                    &s->limits, &cr->cat, err)
                : SHELF_ENOMEM;
    if (rc < 0) {
        if (!cr)
            shelf_oom(err);
        free(cr);
        cr = NULL;
    }
    pthread_mutex_lock(&s->cat_lock);
    s->building = 0;
    cat_ref *old = NULL;
    if (cr) {
        cr->gen = gen;
        cr->refs = for_caller ? 2 : 1; /* the state's (and the caller's) */
        old = s->cat;
        s->cat = cr;
    }
    pthread_cond_broadcast(&s->cat_built);
    pthread_mutex_unlock(&s->cat_lock);
    if (cr && old && s->bus) {
        /* Clients that re-read after a `tree` event got the previous
         * catalog: tell them the new one is in. */
        char text[64];
        snprintf(text, sizeof text, "{\"generation\":%lu}", gen);
        events_publish(s->bus, "catalog", NULL, text);
    }
    api_cat_release(s, old);
    return for_caller ? cr : NULL;
}

typedef struct cat_job {
    api_state *s;
    unsigned long gen;
} cat_job;

static void *cat_build_thread(void *p)
{
    cat_job *job = p;
    shelf_error err = {0};
    api_state *s = job->s;
    cat_build(s, job->gen, 0, &err);
    shelf_error_clear(&err); /* the next request tries again */
    free(job);
    /* The last touch of s: api_free waits for this. */
    pthread_mutex_lock(&s->cat_lock);
    s->builders--;
    pthread_cond_broadcast(&s->cat_built);
    pthread_mutex_unlock(&s->cat_lock);
    return NULL;
}

/* The catalog of the current generation. When the trees changed and an
 * older catalog exists, that one is returned at once and the new one is
 * built by a thread of its own: a slow modulefile in the trees delays no
 * request. Only the very first catalog is waited for. NULL on OOM (err
 * set). Release with cat_release. */
cat_ref *api_cat_get(api_state *s, shelf_error *err)
{
    pthread_mutex_lock(&s->cat_lock);
    for (;;) {
        if (s->cat && s->cat->gen != s->gen && !s->building) {
            cat_job *job = malloc(sizeof *job);
            pthread_attr_t attr;
            pthread_t t;
            int started = 0;
            if (job && pthread_attr_init(&attr) == 0) {
                pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
                *job = (cat_job){s, s->gen};
                s->building = 1;
                started = pthread_create(&t, &attr, cat_build_thread, job) == 0;
                pthread_attr_destroy(&attr);
                if (started)
                    s->builders++;
            }
            if (!started) {
                s->building = 0; /* build it here instead, below */
                free(job);
                break;
            }
        }
        if (s->cat && (s->cat->gen == s->gen || s->building)) {
            s->cat->refs++;
            cat_ref *cr = s->cat;
            pthread_mutex_unlock(&s->cat_lock);
            return cr;
        }
        if (!s->building)
            break;
        pthread_cond_wait(&s->cat_built, &s->cat_lock);
    }
    s->building = 1;
    unsigned long gen = s->gen;
    pthread_mutex_unlock(&s->cat_lock);
    return cat_build(s, gen, 1, err);
}
