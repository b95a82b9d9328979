/*
 * catalog.c -- the catalog behind avail, spider, keyword and shelfd's
 * GET /api/v1/modules (see the catalog in shelf.h): the modulefiles of a set of
 * MODULEPATH directories and, when following, of every directory their
 * modules open (recursively), each with its spider record.
 *
 * A level comes from a fresh index covering it, reading only the
 * modules and fields the caller needs, else from a walk of the tree that
 * evaluates each modulefile in the engine's spider mode, which answers as
 * a fresh login would: the same records either way, so every front end
 * prints the same thing with or without an index. Defaults are worked out
 * by the resolver's rules (shelf_resolve), taken from the index where the
 * index's own answer is the resolver's; the hierarchy's edges give each
 * level its chains, the module lists that unlock it.
 *
 * Invariants: see shelf_catalog in shelf.h. Nothing here prints: a stale
 * index is reported through the caller's hint callback.
 */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "shelf.h"
#include "shelf-internal.h"


static void mod_init(shelf_cat_mod *m)
{
    memset(m, 0, sizeof *m);
    shelf_spider_rec_init(&m->info);
}

static void mod_free(shelf_cat_mod *m)
{
    shelf_modfile_free(&m->mf);
    shelf_spider_rec_free(&m->info);
}

void shelf_catalog_init(shelf_catalog *cat)
{
    memset(cat, 0, sizeof *cat);
    shelf_strv_init(&cat->alias_names);
    shelf_strv_init(&cat->alias_targets);
}

void shelf_catalog_free(shelf_catalog *cat)
{
    for (size_t i = 0; i < cat->n; i++)
        mod_free(&cat->mods[i]);
    free(cat->mods);
    for (size_t i = 0; i < cat->nlevels; i++) {
        free(cat->levels[i].path);
        shelf_strv_free(&cat->levels[i].chains);
        shelf_strv_free(&cat->levels[i].rc_names);
    }
    free(cat->levels);
    for (size_t i = 0; i < cat->nedges; i++)
        free(cat->edges[i].fullname);
    free(cat->edges);
    for (size_t i = 0; i < cat->nix; i++)
        shelf_index_close(cat->ixs[i]);
    free(cat->ixs);
    shelf_strv_free(&cat->alias_names);
    shelf_strv_free(&cat->alias_targets);
    shelf_catalog_init(cat);
}

long shelf_catalog_level(const shelf_catalog *cat, const char *dir)
{
    char *p = shelf_dir_norm(dir);
    if (!p)
        return -2;
    long at = -1;
    for (size_t i = 0; i < cat->nlevels && at < 0; i++)
        if (strcmp(cat->levels[i].path, p) == 0)
            at = (long)i;
    free(p);
    return at;
}

/* Adds level path (once); its index, or SHELF_ENOMEM. */
static long add_level(shelf_catalog *cat, const char *path, int on_modulepath)
{
    char *p = shelf_dir_norm(path);
    if (!p)
        return SHELF_ENOMEM;
    for (size_t i = 0; i < cat->nlevels; i++)
        if (strcmp(cat->levels[i].path, p) == 0) {
            free(p);
            return (long)i;
        }
    if (SHELF_GROW(cat->levels, cat->levelcap, cat->nlevels + 1) < 0) {
        free(p);
        return SHELF_ENOMEM;
    }
    shelf_cat_level *l = &cat->levels[cat->nlevels++];
    memset(l, 0, sizeof *l);
    l->path = p;
    l->on_modulepath = on_modulepath;
    l->ixlevel = -1;
    shelf_strv_init(&l->chains);
    shelf_strv_init(&l->rc_names);
    return (long)cat->nlevels - 1;
}

/* Records that a module of level `from` opens `path` (adding that level
 * when following; else only an edge to a level of the catalog counts).
 * 0 or SHELF_ENOMEM. */
static int add_edge(shelf_catalog *cat, size_t from, const char *fullname, const char *path,
                    int follow)
{
    long to = follow ? add_level(cat, path, 0) : shelf_catalog_level(cat, path);
    if (to < 0) /* without following, -1 is a level out of the catalog; else out of memory */
        return to == -1 && !follow ? SHELF_OK : SHELF_ENOMEM;
    if (SHELF_GROW(cat->edges, cat->edgecap, cat->nedges + 1) < 0)
        return SHELF_ENOMEM;
    char *f = strdup(fullname);
    if (!f)
        return SHELF_ENOMEM;
    cat->edges[cat->nedges++] = (shelf_cat_edge){from, (size_t)to, f};
    return SHELF_OK;
}

static int reserve(shelf_catalog *cat, size_t more)
{
    return SHELF_GROW(cat->mods, cat->cap, cat->n + more);
}

static int add_alias(shelf_catalog *cat, const char *name, const char *target)
{
    if (shelf_strv_find(&cat->alias_names, name) >= 0)
        return SHELF_OK;
    int rc = shelf_strv_push(&cat->alias_names, name);
    if (rc == 0 && (rc = shelf_strv_push(&cat->alias_targets, target)) < 0)
        shelf_strv_remove(&cat->alias_names, cat->alias_names.n - 1);
    return rc;
}

/* ---- indexes ----------------------------------------------------------- */

/* The fresh index at one of places[] for what o reads (NULL when none is;
 * *problem then says why, when an index was there but could not be used).
 * SHELF_ENOMEM through *oom_out. */
static shelf_index *fresh_index(const shelf_catalog_opts *o, const shelf_strv *places,
                                char **problem, int *oom_out)
{
    for (size_t p = 0; p < places->n; p++) {
        shelf_index *ix = NULL;
        shelf_error err = {0};
        int rc = shelf_index_open(places->v[p], &ix, &err);
        if (rc == SHELF_ENOMEM) {
            shelf_error_clear(&err);
            *oom_out = 1;
            return NULL;
        }
        if (rc < 0) {
            if (rc != SHELF_ENOTFOUND && !*problem && err.message)
                *problem = strdup(err.message);
            shelf_error_clear(&err);
            continue;
        }
        /* The levels to check: all (following), or the listed ones. */
        long *levels = calloc(o->ndirs + 1, sizeof *levels);
        size_t nl = 0;
        for (size_t m = 0; levels && !o->follow && m < o->ndirs; m++) {
            char *d = shelf_dir_norm(o->dirs[m]);
            long l = d ? shelf_index_level(ix, d) : -2;
            free(d);
            if (l >= 0)
                levels[nl++] = l;
        }
        char *why = NULL;
        int names = o->filter == SHELF_IXF_NAMES;
        int fresh = levels ? shelf_index_fresh(ix, o->check, levels, nl,
                                               names ? o->words : NULL, names ? o->nwords : 0,
                                               &why)
                           : SHELF_ENOMEM;
        free(levels);
        if (fresh > 0) {
            free(why);
            return ix;
        }
        shelf_index_close(ix);
        if (fresh == SHELF_ENOMEM) {
            free(why);
            *oom_out = 1;
            return NULL;
        }
        if (!*problem) {
            shelf_buf b;
            shelf_buf_init(&b);
            shelf_buf_addf(&b, "%s changed", why ? why : "the tree");
            *problem = shelf_buf_take(&b);
        }
        free(why);
    }
    return NULL;
}

/* Keeps the fresh index of each listed directory that has one. A stale or
 * unreadable index goes to the hint; a directory with no index at all is
 * read silently. Only OOM fails. */
static int open_indexes(const shelf_catalog_opts *o, shelf_catalog *cat)
{
    for (size_t i = 0; i < o->ndirs; i++) {
        char *dir = shelf_dir_norm(o->dirs[i]);
        if (!dir)
            return SHELF_ENOMEM;
        int covered = 0;
        for (size_t k = 0; k < cat->nix && !covered; k++)
            covered = shelf_index_level(cat->ixs[k], dir) >= 0;
        shelf_strv places;
        shelf_strv_init(&places);
        char *problem = NULL;
        int oom_out = 0;
        shelf_index *found = NULL;
        if (!covered) {
            if (shelf_index_locations(dir, o->env, &places) < 0)
                oom_out = 1;
            else
                found = fresh_index(o, &places, &problem, &oom_out);
        }
        shelf_strv_free(&places);
        if (found) {
            if (SHELF_GROW(cat->ixs, cat->ixcap, cat->nix + 1) < 0) {
                shelf_index_close(found);
                oom_out = 1;
            } else {
                cat->ixs[cat->nix++] = found;
            }
        } else if (problem && o->hint) {
            o->hint(o->hint_ud, dir, problem);
        }
        free(problem);
        free(dir);
        if (oom_out)
            return SHELF_ENOMEM;
    }
    return SHELF_OK;
}

int shelf_catalog_open(const shelf_catalog_opts *o, shelf_catalog *cat, shelf_error *err)
{
    for (size_t i = 0; i < o->ndirs; i++)
        if (add_level(cat, o->dirs[i], 1) < 0)
            return shelf_oom(err);
    if (open_indexes(o, cat) < 0)
        return shelf_oom(err);
    return SHELF_OK;
}

/* ---- filling ------------------------------------------------------------- */

typedef struct fill_ctx {
    shelf_catalog *cat;
    size_t level;
    int follow;
} fill_ctx;

static int fill_mod(void *ud, shelf_index_mod *im)
{
    fill_ctx *f = ud;
    shelf_catalog *cat = f->cat;
    if (reserve(cat, 1) < 0) {
        shelf_index_mod_free(im);
        return SHELF_ENOMEM;
    }
    shelf_cat_mod *m = &cat->mods[cat->n++];
    mod_init(m);
    m->mf = im->mf;
    m->info = im->rec;
    m->level = f->level;
    m->level_default = im->level_default;
    memset(&im->mf, 0, sizeof im->mf);
    shelf_spider_rec_init(&im->rec);
    shelf_index_mod_free(im);
    return SHELF_OK;
}

static int fill_edge(void *ud, const char *fullname, const char *opened)
{
    fill_ctx *f = ud;
    return add_edge(f->cat, f->level, fullname, opened, f->follow);
}

static int fill_alias(void *ud, const char *name, const char *target)
{
    fill_ctx *f = ud;
    return add_alias(f->cat, name, target);
}

/* The rc names of level l from its index, and its aliases when it is on
 * MODULEPATH. */
static int fill_rc(shelf_catalog *cat, size_t l, shelf_error *err)
{
    shelf_cat_level *lv = &cat->levels[l];
    fill_ctx f = {cat, l, 0};
    int rc = lv->on_modulepath ? shelf_index_aliases(lv->ix, lv->ixlevel, fill_alias, &f, err)
                               : SHELF_OK;
    if (rc == 0)
        rc = shelf_index_rc_names(lv->ix, lv->ixlevel, &cat->levels[l].rc_names, err);
    lv->rc_read = rc == 0;
    return rc;
}

int shelf_catalog_stream(shelf_catalog *cat, int with_rc, shelf_index **out, shelf_error *err)
{
    *out = NULL;
    if (cat->nix != 1 || cat->nlevels == 0)
        return SHELF_OK;
    shelf_index *ix = cat->ixs[0];
    for (size_t d = 0; d < cat->nlevels; d++) {
        cat->levels[d].ixlevel = shelf_index_level(ix, cat->levels[d].path);
        if (cat->levels[d].ixlevel < 0) { /* not all of it: no streaming */
            for (size_t k = 0; k <= d; k++)
                cat->levels[k].ixlevel = -1;
            return SHELF_OK;
        }
    }
    int rc = SHELF_OK;
    for (size_t d = 0; d < cat->nlevels; d++) {
        cat->levels[d].ix = ix;
        if (rc == 0 && with_rc && cat->levels[d].on_modulepath)
            rc = fill_rc(cat, d, err);
    }
    if (rc < 0) {
        shelf_catalog_unstream(cat);
        return rc == SHELF_ENOMEM ? shelf_oom(err) : rc;
    }
    *out = ix;
    return SHELF_OK;
}

void shelf_catalog_unstream(shelf_catalog *cat)
{
    for (size_t d = 0; d < cat->nlevels; d++) {
        cat->levels[d].ix = NULL;
        shelf_strv_free(&cat->levels[d].rc_names);
        cat->levels[d].rc_read = 0;
    }
    shelf_strv_free(&cat->alias_names);
    shelf_strv_free(&cat->alias_targets);
}

static int fill_indexed(shelf_catalog *cat, size_t l, const shelf_catalog_opts *o,
                        shelf_error *err)
{
    shelf_cat_level *lv = &cat->levels[l];
    shelf_index *ix = lv->ix;
    long level = lv->ixlevel;
    fill_ctx f = {cat, l, o->follow};
    int rc = lv->on_modulepath || o->all_rc ? fill_rc(cat, l, err) : SHELF_OK;
    if (rc == 0)
        rc = shelf_index_query(ix, level, o->filter, o->words, o->nwords, o->what, fill_mod,
                               &f, err);
    if (rc == 0)
        rc = shelf_index_edges(ix, level, fill_edge, &f, err);
    return rc;
}

static int fill_walked(shelf_engine *e, shelf_catalog *cat, size_t l,
                       const shelf_catalog_opts *o, shelf_error *err)
{
    shelf_modlist ml;
    shelf_modlist_init(&ml);
    int rc = shelf_tree_scan(cat->levels[l].path, o->env, &ml, err);
    if (rc == 0 && cat->levels[l].on_modulepath)
        for (size_t a = 0; rc == 0 && a < ml.naliases; a++)
            rc = add_alias(cat, ml.aliases[a].name, ml.aliases[a].target);
    /* Level defaults cost a resolution per name: worked out only along with
     * the spider evaluation, which costs more. */
    unsigned char *dflt = rc == 0 ? calloc(ml.n ? ml.n : 1, 1) : NULL;
    if (rc == 0 && (!dflt || (o->evaluate &&
                              shelf_level_defaults(cat->levels[l].path, o->env, &ml, dflt) < 0)))
        rc = SHELF_ENOMEM;
    if (rc == 0)
        rc = reserve(cat, ml.n);
    size_t first = cat->n;
    if (rc == 0) {
        /* The entries move into the catalog: ml keeps no copy. */
        for (size_t i = 0; i < ml.n; i++) {
            shelf_cat_mod *m = &cat->mods[cat->n++];
            mod_init(m);
            m->mf = ml.items[i];
            m->level = l;
            m->level_default = dflt[i];
        }
        ml.n = 0;
    }
    free(dflt);
    shelf_modlist_free(&ml);
    if (rc < 0)
        return rc;
    for (size_t i = first; o->evaluate && i < cat->n; i++) {
        shelf_error eerr = {0};
        rc = shelf_engine_spider(e, &cat->mods[i].mf, &cat->mods[i].info, &eerr);
        shelf_error_clear(&eerr);
        if (rc == SHELF_ENOMEM)
            return rc;
        const shelf_cat_mod *m = &cat->mods[i];
        for (size_t k = 0; k < m->info.opens.n; k++)
            if (add_edge(cat, l, m->mf.fullname, m->info.opens.v[k], o->follow) < 0)
                return SHELF_ENOMEM;
    }
    return SHELF_OK;
}

int shelf_catalog_fill(shelf_engine *e, const shelf_catalog_opts *o, shelf_catalog *cat,
                       shelf_error *err)
{
    cat->sn_complete = o->filter != SHELF_IXF_KEYWORDS;
    for (size_t l = 0; l < cat->nlevels; l++) {
        for (size_t k = 0; k < cat->nix && !cat->levels[l].ix; k++) {
            long il = shelf_index_level(cat->ixs[k], cat->levels[l].path);
            if (il >= 0) {
                cat->levels[l].ix = cat->ixs[k];
                cat->levels[l].ixlevel = il;
            }
        }
        int rc = cat->levels[l].ix ? fill_indexed(cat, l, o, err)
                                   : fill_walked(e, cat, l, o, err);
        if (rc == SHELF_ENOMEM)
            return shelf_oom(err);
        if (rc < 0)
            return rc;
    }
    for (size_t l = 0; o->chains && l < cat->nlevels; l++)
        if (shelf_catalog_chains(cat, l) < 0)
            return shelf_oom(err);
    return SHELF_OK;
}

int shelf_catalog_build(shelf_engine *e, const shelf_catalog_opts *o, shelf_catalog *cat,
                        shelf_error *err)
{
    int rc = shelf_catalog_open(o, cat, err);
    return rc < 0 ? rc : shelf_catalog_fill(e, o, cat, err);
}

int shelf_catalog_chains(shelf_catalog *cat, size_t l)
{
    shelf_cat_level *lv = &cat->levels[l];
    if (lv->chain_state)
        return SHELF_OK; /* done, or a cycle being walked */
    lv->chain_state = 1;
    int rc = SHELF_OK, opened = 0;
    for (size_t i = 0; rc == 0 && i < cat->nedges; i++) {
        const shelf_cat_edge *ed = &cat->edges[i];
        if (ed->to != l || ed->from == l)
            continue;
        opened = 1;
        rc = shelf_catalog_chains(cat, ed->from);
        const shelf_strv *pc = &cat->levels[ed->from].chains;
        for (size_t c = 0; rc == 0 && c < pc->n; c++) {
            shelf_buf b;
            shelf_buf_init(&b);
            shelf_buf_adds(&b, pc->v[c]);
            if (pc->v[c][0])
                shelf_buf_addc(&b, SHELF_CHAIN_SEP);
            shelf_buf_adds(&b, ed->fullname);
            char *line = shelf_buf_take(&b);
            if (!line)
                rc = SHELF_ENOMEM;
            else if (shelf_strv_find(&cat->levels[l].chains, line) < 0)
                rc = shelf_strv_push_owned(&cat->levels[l].chains, line);
            else
                free(line);
        }
    }
    if (rc == 0 && !opened && cat->levels[l].on_modulepath)
        rc = shelf_strv_push(&cat->levels[l].chains, "");
    cat->levels[l].chain_state = 2;
    return rc;
}

/* ---- defaults ------------------------------------------------------------ */

static int cmp_sn_default(const void *a, const void *b)
{
    return strcmp(((const shelf_sn_default *)a)->sn, ((const shelf_sn_default *)b)->sn);
}

static int is_listed(const shelf_catalog *cat, const unsigned char *listed, size_t l)
{
    return listed ? listed[l] : cat->levels[l].on_modulepath;
}

/* 1 if the rc names of a listed level other than `level` mention sn. */
static int rc_mentions(const shelf_catalog *cat, const unsigned char *listed, size_t level,
                       const char *sn)
{
    size_t len = strlen(sn);
    for (size_t d = 0; d < cat->nlevels; d++) {
        if (d == level || !is_listed(cat, listed, d))
            continue;
        const shelf_strv *names = &cat->levels[d].rc_names;
        for (size_t i = 0; i < names->n; i++)
            if (strncmp(names->v[i], sn, len) == 0 &&
                (names->v[i][len] == '\0' || names->v[i][len] == '/'))
                return 1;
    }
    return 0;
}

/* The default of d->sn from the index, without resolving: 1 done (d->path
 * set or left NULL), 0 when the resolver must decide, SHELF_ENOMEM. */
static int index_default(const shelf_catalog *cat, const unsigned char *listed,
                         shelf_sn_default *d)
{
    if (d->level < 0 || d->multi || rc_mentions(cat, listed, (size_t)d->level, d->sn))
        return 0;
    if (d->hit && !(d->path = strdup(d->hit->mf.path)))
        return SHELF_ENOMEM;
    return 1;
}

/* What sn resolves to on e's MODULEPATH: *path (NULL: nothing). */
static int resolve_path(shelf_engine *e, const char *sn, char **path)
{
    *path = NULL;
    shelf_modfile mf;
    shelf_error err = {0};
    int rc = shelf_engine_resolve(e, sn, &mf, &err);
    shelf_error_clear(&err);
    if (rc == SHELF_ENOMEM)
        return rc;
    if (rc == 0) {
        *path = mf.path;
        mf.path = NULL;
        shelf_modfile_free(&mf);
    }
    return SHELF_OK;
}

int shelf_catalog_defaults(shelf_engine *e, const shelf_catalog *cat, const unsigned char *listed,
                           int show_hidden, shelf_defaults *out)
{
    out->v = NULL;
    out->n = 0;
    shelf_sn_default *v = calloc(cat->n ? cat->n : 1, sizeof *v);
    if (!v)
        return SHELF_ENOMEM;
    size_t n = 0;
    for (size_t i = 0; i < cat->n; i++)
        if (is_listed(cat, listed, cat->mods[i].level))
            v[n++].sn = cat->mods[i].mf.sn;
    qsort(v, n, sizeof *v, cmp_sn_default);
    size_t u = 0;
    for (size_t i = 0; i < n; i++)
        if (u == 0 || strcmp(v[u - 1].sn, v[i].sn) != 0)
            v[u++] = v[i];
    for (size_t i = 0; i < u; i++)
        v[i].level = -1;
    for (size_t i = 0; i < cat->n; i++) {
        const shelf_cat_mod *m = &cat->mods[i];
        if (!is_listed(cat, listed, m->level))
            continue;
        shelf_sn_default key = {.sn = m->mf.sn};
        shelf_sn_default *d = bsearch(&key, v, u, sizeof *v, cmp_sn_default);
        if (!d)
            continue;
        if (!m->mf.hidden || show_hidden)
            d->count++;
        if (d->level >= 0 && (size_t)d->level != m->level)
            d->multi = 1;
        d->level = (long)m->level;
        if (m->level_default)
            d->hit = m;
    }
    int fast = cat->sn_complete;
    for (size_t l = 0; l < cat->nlevels; l++)
        fast &= !is_listed(cat, listed, l) || (cat->levels[l].ix && cat->levels[l].rc_read);
    int rc = SHELF_OK;
    for (size_t i = 0; rc == 0 && i < u; i++) {
        int r = fast ? index_default(cat, listed, &v[i]) : 0;
        if (r < 0)
            rc = r;
        else if (r == 0)
            rc = resolve_path(e, v[i].sn, &v[i].path);
    }
    out->v = v;
    out->n = u;
    if (rc < 0) {
        shelf_defaults_free(out);
        return SHELF_ENOMEM;
    }
    return SHELF_OK;
}

void shelf_defaults_free(shelf_defaults *d)
{
    for (size_t i = 0; i < d->n; i++)
        free(d->v[i].path);
    free(d->v);
    d->v = NULL;
    d->n = 0;
}

const shelf_sn_default *shelf_defaults_find(const shelf_defaults *d, const char *sn)
{
    shelf_sn_default key = {.sn = sn};
    return d->n ? bsearch(&key, d->v, d->n, sizeof *d->v, cmp_sn_default) : NULL;
}

int shelf_defaults_is(const shelf_defaults *d, const shelf_cat_mod *m)
{
    const shelf_sn_default *sd = shelf_defaults_find(d, m->mf.sn);
    return sd && sd->path && strcmp(sd->path, m->mf.path) == 0;
}

typedef struct sn_count {
    const shelf_catalog *cat;
    size_t level;
    int show_hidden;
    size_t count;
    int multi;
} sn_count;

static void count_sn(void *ud, long ixlevel, int hidden)
{
    sn_count *s = ud;
    for (size_t d = 0; d < s->cat->nlevels; d++)
        if (s->cat->levels[d].ixlevel == ixlevel && s->cat->levels[d].on_modulepath) {
            if (!hidden || s->show_hidden)
                s->count++;
            if (d != s->level)
                s->multi = 1;
        }
}

int shelf_catalog_stream_default(shelf_engine *e, const shelf_catalog *cat, size_t level,
                                 const char *sn, int show_hidden, size_t *count,
                                 int *use_level, char **path, shelf_error *err)
{
    *path = NULL;
    sn_count s = {cat, level, show_hidden, 0, 0};
    int rc = shelf_index_sn_levels(cat->levels[level].ix, sn, count_sn, &s, err);
    if (rc < 0)
        return rc;
    *count = s.count;
    *use_level = !s.multi && !rc_mentions(cat, NULL, level, sn);
    return *use_level ? SHELF_OK : resolve_path(e, sn, path);
}

/* ---- orders and matches ------------------------------------------------- */

/* By short name (as "sn/" sorts), then version, then file. */
static int cmp_spider(const void *a, const void *b, void *ud)
{
    const shelf_catalog *cat = ud;
    const shelf_cat_mod *x = &cat->mods[*(const size_t *)a];
    const shelf_cat_mod *y = &cat->mods[*(const size_t *)b];
    int c = shelf_sn_cmp(x->mf.sn, y->mf.sn);
    if (c == 0)
        c = shelf_version_cmp(x->mf.version, y->mf.version);
    if (c == 0)
        c = strcmp(x->mf.path, y->mf.path);
    return c;
}

static int cmp_file(const void *a, const void *b, void *ud)
{
    const shelf_catalog *cat = ud;
    return strcmp(cat->mods[*(const size_t *)a].mf.path, cat->mods[*(const size_t *)b].mf.path);
}

void shelf_catalog_sort(const shelf_catalog *cat, size_t *idx, size_t n)
{
    if (n)
        qsort_r(idx, n, sizeof *idx, cmp_spider, (void *)cat);
}

void shelf_catalog_sort_by_file(const shelf_catalog *cat, size_t *idx, size_t n)
{
    if (n)
        qsort_r(idx, n, sizeof *idx, cmp_file, (void *)cat);
}

/* 1 if needle occurs in hay[0..n), ignoring case (an empty needle matches). */
static int contains_ci_n(const char *hay, size_t n, const char *needle)
{
    size_t nl = strlen(needle);
    if (nl == 0)
        return 1;
    /* Only positions whose first byte matches are compared in full. */
    unsigned char lo = (unsigned char)tolower((unsigned char)needle[0]);
    unsigned char up = (unsigned char)toupper((unsigned char)needle[0]);
    for (size_t i = 0; i + nl <= n; i++) {
        unsigned char c = (unsigned char)hay[i];
        if ((c == lo || c == up) && strncasecmp(hay + i + 1, needle + 1, nl - 1) == 0)
            return 1;
    }
    return 0;
}

static int contains_ci(const char *hay, const char *needle)
{
    return hay && contains_ci_n(hay, strlen(hay), needle);
}

int shelf_catalog_keyword_match(const shelf_cat_mod *m, char *const *words, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (contains_ci(m->mf.sn, words[i]))
            return 1;
        for (size_t k = 0; k < m->info.whatis.n; k++)
            if (contains_ci(m->info.whatis.v[k], words[i]))
                return 1;
        for (size_t k = 0; k < m->info.props.n; k++) {
            const char *eq = strchr(m->info.props.v[k], '=');
            if (eq && contains_ci(eq + 1, words[i]))
                return 1;
        }
    }
    return 0;
}

int shelf_index_row_keyword_match(const shelf_index_row *r, char *const *words, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (contains_ci(r->sn, words[i]))
            return 1;
        for (const char *p = r->whatis; p;) {
            const char *end = strchr(p, SHELF_INDEX_SEP);
            size_t len = end ? (size_t)(end - p) : strlen(p);
            if (contains_ci_n(p, len, words[i]))
                return 1;
            p = end ? end + 1 : NULL;
        }
        for (const char *p = r->props; p;) {
            const char *end = strchr(p, SHELF_INDEX_SEP);
            size_t len = end ? (size_t)(end - p) : strlen(p);
            const char *eq = memchr(p, '=', len);
            if (eq && contains_ci_n(eq + 1, len - (size_t)(eq + 1 - p), words[i]))
                return 1;
            p = end ? end + 1 : NULL;
        }
    }
    return 0;
}

/* ---- levels reached through a single index --------------------------------- */

typedef struct reach_edge_t {
    long from, to; /* to = -1: out of the index */
} reach_edge_t;

typedef struct reach {
    long *v;
    size_t n, cap;
    shelf_index *ix;
    reach_edge_t *edges; /* between levels */
    size_t nedges, edgecap;
} reach;

static int reach_add(reach *s, long l)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->v[i] == l)
            return 0;
    if (SHELF_GROW(s->v, s->cap, s->n + 1) < 0)
        return SHELF_ENOMEM;
    s->v[s->n++] = l;
    return 1;
}

static int reach_edge(void *ud, long level, const char *opened)
{
    reach *s = ud;
    long to = shelf_index_level(s->ix, opened);
    if (to == -2)
        return SHELF_EIO;
    if (SHELF_GROW(s->edges, s->edgecap, s->nedges + 1) < 0)
        return SHELF_ENOMEM;
    s->edges[s->nedges++] = (reach_edge_t){level, to < 0 ? -1 : to};
    return SHELF_OK;
}

int shelf_catalog_reach(const shelf_catalog *cat, shelf_index *ix, long **levels, size_t *n,
                        shelf_error *err)
{
    reach s;
    memset(&s, 0, sizeof s);
    s.ix = ix;
    *levels = NULL;
    *n = 0;
    int rc = shelf_index_all_edges(ix, reach_edge, &s, err);
    if (rc == SHELF_EIO && err->code == SHELF_OK)
        shelf_error_set(err, rc, NULL, shelf_index_file(ix), 0, "cannot read %s",
                        shelf_index_file(ix));
    for (size_t d = 0; rc == 0 && d < cat->nlevels; d++)
        rc = reach_add(&s, cat->levels[d].ixlevel) < 0 ? SHELF_ENOMEM : SHELF_OK;
    int whole = 1;
    for (size_t i = 0; rc == 0 && whole && i < s.n; i++) /* s grows while walked */
        for (size_t k = 0; rc == 0 && whole && k < s.nedges; k++) {
            if (s.edges[k].from != s.v[i])
                continue;
            if (s.edges[k].to < 0)
                whole = 0;
            else if (reach_add(&s, s.edges[k].to) < 0)
                rc = SHELF_ENOMEM;
        }
    free(s.edges);
    if (rc < 0 || !whole) {
        free(s.v);
        if (rc == SHELF_ENOMEM)
            shelf_oom(err);
        return rc < 0 ? rc : 0;
    }
    *levels = s.v;
    *n = s.n;
    return 1;
}

/* ---- one short name in a context ------------------------------------------ */

size_t shelf_catalog_chain_missing(const char *c, const shelf_strv *loaded)
{
    size_t missing = 0;
    while (*c) {
        const char *end = strchr(c, SHELF_CHAIN_SEP);
        size_t len = end ? (size_t)(end - c) : strlen(c);
        int have = 0;
        for (size_t i = 0; loaded && i < loaded->n && !have; i++)
            have = strlen(loaded->v[i]) == len && strncmp(loaded->v[i], c, len) == 0;
        missing += !have;
        c = end ? end + 1 : c + len;
    }
    return missing;
}

/* The fewest modules any chain of level l lacks (SIZE_MAX: no chain). */
static size_t level_missing(const shelf_catalog *cat, size_t l, const shelf_strv *loaded)
{
    size_t best = (size_t)-1;
    const shelf_strv *ch = &cat->levels[l].chains;
    for (size_t c = 0; c < ch->n; c++) {
        size_t m = shelf_catalog_chain_missing(ch->v[c], loaded);
        if (m < best)
            best = m;
    }
    return best;
}

long shelf_catalog_pick(const shelf_catalog *cat, const size_t *idx, size_t n,
                        const unsigned char *on_mp, const char *dflt,
                        const shelf_strv *loaded)
{
    if (dflt)
        for (size_t i = 0; i < n; i++)
            if (on_mp[cat->mods[idx[i]].level] && strcmp(cat->mods[idx[i]].mf.path, dflt) == 0)
                return (long)i;
    long best = -1;
    size_t best_missing = 0;
    for (size_t i = 0; i < n; i++) {
        const shelf_cat_mod *m = &cat->mods[idx[i]];
        if (m->mf.hidden)
            continue;
        size_t missing = level_missing(cat, m->level, loaded);
        const shelf_cat_mod *b = best >= 0 ? &cat->mods[idx[best]] : NULL;
        /* Fewer modules to load first; then the level's own default; then
         * the highest version; the first level on ties. */
        int better = !b || missing < best_missing ||
                     (missing == best_missing &&
                      (b->level != m->level
                           ? 0
                           : (m->level_default && !b->level_default) ||
                                 (m->level_default == b->level_default &&
                                  shelf_version_cmp(m->mf.version, b->mf.version) > 0)));
        if (better) {
            best = (long)i;
            best_missing = missing;
        }
    }
    return best;
}
