/*
 * name.c -- from what the user typed to one modulefile (shelf_resolve),
 * reading only the directories on the path of the name.
 *
 * Per MODULEPATH directory D and name c1/c2/.../ck, the walk looks at D's
 * markers, then D/c1: a module directory ends the walk (its whole subtree
 * is read: those are its versions); a category is entered, and a file
 * c1.lua beside it is a module by itself; and so on (tree-internal.h).
 * This yields the short names that D offers along the name; as in Lmod the
 * longest one offered by any directory is the short name, the rest of the
 * name is the version asked for.
 *
 * Then Lmod's rules (MName.lua, LocationT.lua, ModuleA.lua, with
 * LMOD_EXTENDED_DEFAULT=yes, Lmod 8.6):
 *  - aliases and symbolic versions (module_alias, module_version) first;
 *  - a module whose directories hold only files (N/V): the versions of all
 *    MODULEPATH directories are merged; a full name found in several keeps
 *    the first, unless a later one is marked default and the first is not.
 *    Exact version first, else the greatest weight: a marked default beats
 *    any version, then the highest visible version, ties to the first dir;
 *  - a module with version subdirectories (N/V/V): exact version from any
 *    directory (first wins), the default from the first directory that has
 *    the module only;
 *  - partial versions: "gcc/12" with no exact 12 considers gcc/12.* (also
 *    12-*, 12_*, 12+*, 12=*), never gcc/120; "x/default" is x's default.
 * Lmod switches the whole tree to the N/V/V rules as soon as one module
 * anywhere is N/V/V; here the choice is made per module, which needs no
 * walk of the tree.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "shelf-internal.h"
#include "tree-internal.h"

enum { KEY_MODDIR, KEY_META };

/* A short name that one modulepath directory offers along the name. */
typedef struct sn_key {
    char *sn;
    int kind;
    tree_dir *dir;  /* KEY_MODDIR: the module directory, loaded */
    tree_file file; /* KEY_META */
} sn_key;

typedef struct mp_ctx {
    const char *mpath;
    tree_dir *root; /* NULL when the directory does not exist */
    sn_key *keys;
    size_t nkeys, capkeys;
} mp_ctx;

typedef struct resolver {
    mp_ctx *mp;
    tree_rc *rc;
    size_t n;
    shelf_strv hidden;
    shelf_resolver *cache; /* where roots and rc data are kept, or NULL */
    size_t *slot;          /* per directory: its cache entry, or NO_SLOT */
} resolver;

#define NO_SLOT ((size_t)-1)

/* What one MODULEPATH directory has shown so far: its root (directories
 * read lazily, kept) and what its markers said. A resolve borrows rc by
 * value and hands it back when done. */
typedef struct rcache_entry {
    char *mpath;
    tree_dir *root; /* NULL when the directory does not exist */
    tree_rc rc;
    int borrowed;
} rcache_entry;

struct shelf_resolver {
    rcache_entry *v;
    size_t n, cap;
    char *const *env; /* what os.getenv() of .modulerc.lua sees */
};

shelf_resolver *shelf_resolver_new(char *const *env)
{
    shelf_resolver *c = calloc(1, sizeof *c);
    if (c)
        c->env = env;
    return c;
}

void shelf_resolver_free(shelf_resolver *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++) {
        free(c->v[i].mpath);
        tree_dir_free(c->v[i].root);
        tree_rc_free(&c->v[i].rc);
    }
    free(c->v);
    free(c);
}

static void keys_clear(mp_ctx *m)
{
    for (size_t i = 0; i < m->nkeys; i++) {
        free(m->keys[i].sn);
        free(m->keys[i].file.name);
        free(m->keys[i].file.path);
    }
    m->nkeys = 0;
}

static int keys_add(mp_ctx *m, const char *sn, int kind, tree_dir *dir,
                    tree_file *file)
{
    if (SHELF_GROW(m->keys, m->capkeys, m->nkeys + 1) < 0)
        goto oom;
    sn_key k = {strdup(sn), kind, dir, {0}};
    if (!k.sn)
        goto oom;
    if (file) {
        k.file = *file;
        memset(file, 0, sizeof *file);
    }
    m->keys[m->nkeys++] = k;
    return SHELF_OK;
oom:
    if (file) {
        free(file->name);
        free(file->path);
    }
    return SHELF_ENOMEM;
}

static void resolver_free(resolver *rs)
{
    for (size_t i = 0; i < rs->n; i++) {
        keys_clear(&rs->mp[i]);
        free(rs->mp[i].keys);
        if (rs->slot && rs->slot[i] != NO_SLOT) {
            rcache_entry *ce = &rs->cache->v[rs->slot[i]];
            ce->rc = rs->rc[i]; /* hand back what this resolve added */
            ce->borrowed = 0;
            continue;
        }
        tree_dir_free(rs->mp[i].root);
        tree_rc_free(&rs->rc[i]);
    }
    free(rs->mp);
    free(rs->rc);
    free(rs->slot);
    shelf_strv_free(&rs->hidden);
}

/* The root of a MODULEPATH directory with its markers read into rc, or
 * NULL in *root when it does not exist. 0 or SHELF_ENOMEM. */
static int open_root(const char *mpath, tree_dir **root, tree_rc *rc)
{
    *root = NULL;
    struct stat st;
    if (mpath[0] == '\0' || stat(mpath, &st) != 0 || !S_ISDIR(st.st_mode))
        return SHELF_OK; /* a missing directory offers nothing */
    *root = tree_dir_new(mpath, "");
    if (!*root)
        return SHELF_ENOMEM;
    return tree_dir_markers(mpath, *root, rc);
}

/* The cache entry for mpath, created (root opened) on first use. */
static int cache_slot(shelf_resolver *c, const char *mpath, size_t *slot)
{
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->v[i].mpath, mpath) == 0) {
            *slot = i;
            return SHELF_OK;
        }
    if (SHELF_GROW(c->v, c->cap, c->n + 1) < 0)
        return SHELF_ENOMEM;
    rcache_entry *ce = &c->v[c->n];
    memset(ce, 0, sizeof *ce);
    tree_rc_init(&ce->rc);
    ce->rc.env = c->env;
    if (!(ce->mpath = strdup(mpath)))
        return SHELF_ENOMEM;
    int r = open_root(mpath, &ce->root, &ce->rc);
    if (r != SHELF_OK) {
        free(ce->mpath);
        tree_dir_free(ce->root);
        tree_rc_free(&ce->rc);
        return r;
    }
    *slot = c->n++;
    return SHELF_OK;
}

static int resolver_init(resolver *rs, const shelf_strv *modulepath,
                         shelf_resolver *cache)
{
    memset(rs, 0, sizeof *rs);
    size_t n = modulepath ? modulepath->n : 0;
    rs->mp = calloc(n ? n : 1, sizeof *rs->mp);
    rs->rc = calloc(n ? n : 1, sizeof *rs->rc);
    rs->slot = cache ? malloc((n ? n : 1) * sizeof *rs->slot) : NULL;
    if (!rs->mp || !rs->rc || (cache && !rs->slot)) {
        free(rs->mp);
        free(rs->rc);
        free(rs->slot);
        memset(rs, 0, sizeof *rs); /* resolver_free() has nothing to do */
        return SHELF_ENOMEM;
    }
    rs->n = n;
    rs->cache = cache;
    for (size_t i = 0; i < n; i++)
        if (rs->slot)
            rs->slot[i] = NO_SLOT;
    for (size_t i = 0; i < n; i++) {
        tree_rc_init(&rs->rc[i]);
        rs->mp[i].mpath = modulepath->v[i];
        size_t slot = NO_SLOT;
        int r = cache ? cache_slot(cache, modulepath->v[i], &slot) : SHELF_OK;
        if (r != SHELF_OK)
            return r;
        if (slot != NO_SLOT && !cache->v[slot].borrowed) {
            /* A directory named twice in MODULEPATH borrows only once. */
            rcache_entry *ce = &cache->v[slot];
            ce->borrowed = 1;
            rs->slot[i] = slot;
            rs->mp[i].root = ce->root;
            rs->rc[i] = ce->rc;
            continue;
        }
        r = open_root(modulepath->v[i], &rs->mp[i].root, &rs->rc[i]);
        if (r != SHELF_OK)
            return r;
    }
    return SHELF_OK;
}

/* The short names directory m offers along `name` (see the file comment);
 * reads the markers of every directory on the way into rc. */
static int locate(mp_ctx *m, tree_rc *rc, const char *name)
{
    keys_clear(m);
    if (!m->root)
        return SHELF_OK;
    shelf_strv comps;
    shelf_strv_init(&comps);
    int r = shelf_strv_split(&comps, name, "/", 1);
    tree_dir *d = m->root;
    shelf_buf prefix;
    shelf_buf_init(&prefix);
    for (size_t i = 0; i < comps.n && r == SHELF_OK; i++) {
        const char *c = comps.v[i];
        if (!tree_keep_name(c))
            break;
        if (i)
            shelf_buf_addc(&prefix, '/');
        shelf_buf_adds(&prefix, c);
        if (shelf_buf_ok(&prefix) < 0) {
            r = SHELF_ENOMEM;
            break;
        }
        int oom = 0, absent = 0;
        tree_dir *child = tree_dir_lookup(m->mpath, d, c, &oom, &absent);
        if (oom) {
            r = SHELF_ENOMEM;
            break;
        }
        int nonempty = 0, is_module = 0;
        if (child) {
            nonempty = tree_dir_nonempty(m->mpath, child, rc);
            if (nonempty > 0)
                is_module = tree_dir_is_module(m->mpath, child, rc);
            if (nonempty < 0 || is_module < 0) {
                r = SHELF_ENOMEM;
                break;
            }
        }
        if (is_module) {
            r = tree_dir_load(m->mpath, child, rc);
            if (r == SHELF_OK)
                r = keys_add(m, prefix.data, KEY_MODDIR, child, NULL);
            break;
        }
        tree_file f;
        int found = tree_dir_find_file(d, c, absent, &f);
        if (found < 0) {
            r = found;
            break;
        }
        if (found)
            r = keys_add(m, prefix.data, KEY_META, NULL, &f);
        if (!nonempty)
            break;
        d = child; /* a category: go on */
    }
    shelf_buf_free(&prefix);
    shelf_strv_free(&comps);
    return r;
}

/* ---- choosing a file ------------------------------------------------------ */

typedef struct idxv {
    size_t *v;
    size_t n, cap;
} idxv;

static int idx_push(idxv *x, size_t i)
{
    if (SHELF_GROW(x->v, x->cap, x->n + 1) < 0)
        return SHELF_ENOMEM;
    x->v[x->n++] = i;
    return SHELF_OK;
}

static int under_dir(const char *dir, const char *top)
{
    size_t n = strlen(top);
    return n == 0 || (strncmp(dir, top, n) == 0 && (dir[n] == '\0' || dir[n] == '/'));
}

/* Lmod's collectFileA: the candidates of list for the version asked for
 * (`want`, NULL for none), from the version directory vdir. */
static int collect(const tree_entries *es, const idxv *list, const char *vdir,
                   const char *want, idxv *out)
{
    if (want) {
        for (size_t i = 0; i < list->n; i++) {
            const tree_entry *e = &es->v[list->v[i]];
            if (strcmp(e->dir, vdir) == 0 && strcmp(e->mf.version, want) == 0)
                return idx_push(out, list->v[i]);
        }
        size_t wl = strlen(want);
        char last = wl ? want[wl - 1] : '\0';
        int any_next = last && strchr("-+_.=", last) != NULL;
        any_next = any_next || (last >= 'a' && last <= 'z') ||
                   (last >= 'A' && last <= 'Z');
        for (size_t i = 0; i < list->n; i++) {
            const tree_entry *e = &es->v[list->v[i]];
            const char *v = e->mf.version;
            if (strcmp(e->dir, vdir) != 0 || strncmp(v, want, wl) != 0)
                continue;
            if (any_next || (v[wl] && strchr("-+_.=", v[wl])))
                if (idx_push(out, list->v[i]) < 0)
                    return SHELF_ENOMEM;
        }
        if (out->n > 0 || strcmp(want, "default") != 0)
            return SHELF_OK;
    }
    for (size_t i = 0; i < list->n; i++)
        if (under_dir(es->v[list->v[i]].dir, vdir) &&
            idx_push(out, list->v[i]) < 0)
            return SHELF_ENOMEM;
    return SHELF_OK;
}

/* How far `want` walks down version directories of the module dir d:
 * the deepest directory reached (relative, into *vdir) and whether the
 * whole of want is a directory. */
static int walk_vdirs(const tree_dir *d, const char *want, char **vdir,
                      int *whole)
{
    *whole = 0;
    shelf_buf b;
    shelf_buf_init(&b);
    shelf_buf_adds(&b, "");
    const char *p = want;
    while (d && *p) {
        const char *slash = strchr(p, '/');
        size_t len = slash ? (size_t)(slash - p) : strlen(p);
        const tree_dir *next = NULL;
        for (size_t i = 0; i < d->ndirs; i++)
            if (strlen(d->dirs[i]->name) == len &&
                strncmp(d->dirs[i]->name, p, len) == 0)
                next = d->dirs[i];
        if (!next)
            break;
        if (b.len)
            shelf_buf_addc(&b, '/');
        shelf_buf_add(&b, p, len);
        d = next;
        if (!slash) {
            *whole = 1;
            break;
        }
        p = slash + 1;
    }
    *vdir = shelf_buf_take(&b);
    return *vdir ? SHELF_OK : SHELF_ENOMEM;
}

typedef struct search {
    tree_entries es;
    idxv *lists;               /* per modulepath dir holding sn (N/V/V), or one merged list */
    const tree_dir **moddirs;  /* the module directory of each list (N/V/V), or NULL */
    size_t nlists;
    int nvv;
} search;

#define CHOOSE_OOM (-2)

static void search_free(search *s)
{
    for (size_t i = 0; i < s->nlists; i++)
        free(s->lists[i].v);
    free(s->lists);
    free(s->moddirs);
    tree_entries_free(&s->es);
}

/* Builds the lists of candidates of short name sn. */
static int search_build(resolver *rs, const char *sn, search *s)
{
    memset(s, 0, sizeof *s);
    s->lists = calloc(rs->n ? rs->n : 1, sizeof *s->lists);
    s->moddirs = calloc(rs->n ? rs->n : 1, sizeof *s->moddirs);
    if (!s->lists || !s->moddirs)
        return SHELF_ENOMEM;
    for (size_t i = 0; i < rs->n; i++)
        for (size_t k = 0; k < rs->mp[i].nkeys; k++) {
            const sn_key *key = &rs->mp[i].keys[k];
            if (strcmp(key->sn, sn) == 0 && key->kind == KEY_MODDIR &&
                key->dir->ndirs > 0)
                s->nvv = 1;
        }
    for (size_t i = 0; i < rs->n; i++) {
        for (size_t k = 0; k < rs->mp[i].nkeys; k++) {
            const sn_key *key = &rs->mp[i].keys[k];
            if (strcmp(key->sn, sn) != 0)
                continue;
            size_t from = s->es.n;
            int r = key->kind == KEY_MODDIR
                        ? tree_module_entries(rs->mp[i].mpath, key->dir,
                                              &rs->hidden, &s->es)
                        : tree_meta_entry(rs->mp[i].mpath, sn, &key->file,
                                          &rs->hidden, &s->es);
            if (r != SHELF_OK)
                return r;
            size_t li = s->nvv ? s->nlists : 0;
            idxv *list = &s->lists[li];
            if (s->nvv && key->kind == KEY_MODDIR)
                s->moddirs[li] = key->dir;
            for (size_t e = from; e < s->es.n; e++) {
                if (!s->nvv) {
                    /* merge: a full name already seen stays, unless this
                     * one weighs more (is marked default) */
                    size_t j;
                    for (j = 0; j < list->n; j++)
                        if (strcmp(s->es.v[list->v[j]].mf.fullname,
                                   s->es.v[e].mf.fullname) == 0)
                            break;
                    if (j < list->n) {
                        if (strcmp(s->es.v[e].wv, s->es.v[list->v[j]].wv) > 0)
                            list->v[j] = e;
                        continue;
                    }
                }
                if (idx_push(list, e) < 0)
                    return SHELF_ENOMEM;
            }
            if (s->nvv || s->nlists == 0)
                s->nlists++;
        }
    }
    return SHELF_OK;
}

/* The best entry for version `want` (NULL: the default), by Lmod's steps:
 * exact match, greatest weight, a module without version. Returns an index
 * into s->es, -1 when nothing fits, CHOOSE_OOM. */
static long choose(const char *want, search *s)
{
    size_t nl = s->nlists ? s->nlists : 1;
    idxv *cand = calloc(nl, sizeof *cand);
    char **vd = calloc(nl, sizeof *vd);
    int r = cand && vd ? SHELF_OK : SHELF_ENOMEM;
    long found = -1;
    /* how far the version walks down version directories (N/V/V); as in
     * Lmod, a version that is a directory in any modulepath dir means
     * "everything below it" for all of them */
    int whole_any = 0;
    for (size_t i = 0; i < s->nlists && r == SHELF_OK; i++) {
        int whole = 0;
        if (want && s->moddirs[i]) {
            r = walk_vdirs(s->moddirs[i], want, &vd[i], &whole);
        } else {
            vd[i] = strdup("");
            r = vd[i] ? SHELF_OK : SHELF_ENOMEM;
        }
        whole_any |= whole;
    }
    const char *full = whole_any ? NULL : want;
    for (size_t i = 0; i < s->nlists && r == SHELF_OK; i++)
        r = collect(&s->es, &s->lists[i], vd[i], full, &cand[i]);

    if (r == SHELF_OK && full) {
        const char *best = NULL;
        for (size_t i = 0; i < s->nlists; i++)
            for (size_t j = 0; j < cand[i].n; j++) {
                const tree_entry *e = &s->es.v[cand[i].v[j]];
                if (strcmp(e->mf.version, full) == 0) {
                    if (!best || strcmp(e->pv, best) > 0) {
                        best = e->pv;
                        found = (long)cand[i].v[j];
                    }
                    break;
                }
            }
    }
    if (r == SHELF_OK && found < 0 && s->nlists > 0) {
        long h = tree_highest(&s->es, cand[0].v, cand[0].n);
        if (h >= 0)
            found = (long)cand[0].v[h];
    }
    if (r == SHELF_OK && found < 0 && !want) {
        const char *best = NULL;
        for (size_t i = 0; i < s->nlists; i++)
            for (size_t j = 0; j < cand[i].n; j++) {
                const tree_entry *e = &s->es.v[cand[i].v[j]];
                if (e->mf.version[0] == '\0' && (!best || strcmp(e->pv, best) > 0)) {
                    best = e->pv;
                    found = (long)cand[i].v[j];
                }
            }
    }
    for (size_t i = 0; cand && vd && i < s->nlists; i++) {
        free(cand[i].v);
        free(vd[i]);
    }
    free(cand);
    free(vd);
    return r != SHELF_OK ? CHOOSE_OOM : found;
}

/* "  gcc/12/ " -> "gcc/12"; "foo/1.2.lua" -> "foo/1.2" (as MName does). */
static char *normalize(const char *user)
{
    while (*user == ' ' || *user == '\t' || *user == '\n' || *user == '\r')
        user++;
    char *s = strdup(user);
    if (!s)
        return NULL;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' ||
                 s[n - 1] == '\r'))
        s[--n] = '\0';
    while (n && s[n - 1] == '/')
        s[--n] = '\0';
    if (shelf_str_ends(s, ".lua"))
        s[n - 4] = '\0';
    return s;
}

/* Finds the file `name` designates. 1 found (*out filled), 0 not found,
 * or SHELF_ENOMEM. */
static int resolve_name(resolver *rs, const char *name, shelf_modfile *out)
{
    /* aliases and symbolic versions may live on the path of their target:
     * read along the name until it no longer changes */
    char *cur = strdup(name);
    if (!cur)
        return SHELF_ENOMEM;
    int r = SHELF_OK, located = 0;
    for (int round = 0; round < 8 && r == SHELF_OK && !located; round++) {
        for (size_t i = 0; i < rs->n && r == SHELF_OK; i++)
            r = locate(&rs->mp[i], &rs->rc[i], cur);
        char *next = r == SHELF_OK ? tree_rc_resolve(rs->rc, rs->n, name) : NULL;
        if (!next) {
            r = SHELF_ENOMEM;
            break;
        }
        located = strcmp(next, cur) == 0;
        free(cur);
        cur = next;
    }
    for (size_t i = 0; i < rs->n && r == SHELF_OK && !located; i++)
        r = locate(&rs->mp[i], &rs->rc[i], cur);
    if (r == SHELF_OK)
        r = tree_hidden_list(rs->rc, rs->n, &rs->hidden);
    if (r != SHELF_OK) {
        free(cur);
        return r;
    }

    /* the longest short name any directory offers */
    const char *sn = NULL;
    for (size_t i = 0; i < rs->n; i++)
        for (size_t k = 0; k < rs->mp[i].nkeys; k++)
            if (!sn || strlen(rs->mp[i].keys[k].sn) > strlen(sn))
                sn = rs->mp[i].keys[k].sn;
    if (!sn) {
        free(cur);
        return 0;
    }
    size_t snlen = strlen(sn);
    const char *want = cur[snlen] == '/' ? cur + snlen + 1 : NULL;

    search s;
    r = search_build(rs, sn, &s);
    long found = r == SHELF_OK ? choose(want, &s) : CHOOSE_OOM;
    long dflt = found >= 0 ? choose(NULL, &s) : -1;
    if (dflt == CHOOSE_OOM)
        found = CHOOSE_OOM;
    if (found >= 0) {
        shelf_modfile *mf = &s.es.v[found].mf;
        mf->is_default = dflt == found;
        mf->marked_default = mf->is_default && tree_wv_any_marked(s.es.v[found].wv);
        r = shelf_modfile_copy(out, mf);
    }
    search_free(&s);
    free(cur);
    if (found == CHOOSE_OOM)
        return SHELF_ENOMEM;
    if (r != SHELF_OK)
        return r;
    return found >= 0;
}

/* The path of a dangling symlink that `name` names directly, or NULL. */
static char *dangling(const shelf_strv *modulepath, const char *name)
{
    if (!modulepath || strstr(name, "..") || name[0] == '/')
        return NULL;
    for (size_t i = 0; i < modulepath->n; i++) {
        static const char *const ext[] = {".lua", ""};
        for (size_t e = 0; e < 2; e++) {
            shelf_buf b;
            shelf_buf_init(&b);
            shelf_buf_adds(&b, modulepath->v[i]);
            shelf_buf_addc(&b, '/');
            shelf_buf_adds(&b, name);
            shelf_buf_adds(&b, ext[e]);
            char *p = shelf_buf_take(&b);
            if (!p)
                return NULL;
            struct stat st;
            if (lstat(p, &st) == 0 && S_ISLNK(st.st_mode) && stat(p, &st) != 0)
                return p;
            free(p);
        }
    }
    return NULL;
}

int shelf_resolve(const shelf_strv *modulepath, const char *user,
                  shelf_modfile *out, shelf_error *err)
{
    return shelf_resolve_with(NULL, modulepath, user, out, err);
}

int shelf_resolve_with(shelf_resolver *cache, const shelf_strv *modulepath,
                       const char *user, shelf_modfile *out, shelf_error *err)
{
    char *name = normalize(user);
    if (!name) {
        shelf_error_set(err, SHELF_ENOMEM, user, NULL, 0, "out of memory");
        return SHELF_ENOMEM;
    }
    resolver rs;
    int r = resolver_init(&rs, modulepath, cache);
    if (r == SHELF_OK && name[0])
        r = resolve_name(&rs, name, out);
    else if (r == SHELF_OK)
        r = 0;
    resolver_free(&rs);
    if (r < 0) {
        shelf_error_set(err, r, user, NULL, 0, "out of memory resolving \"%s\"",
                        user);
        free(name);
        return r;
    }
    if (r == 0) {
        char *p = dangling(modulepath, name);
        if (p) {
            shelf_error_set(err, SHELF_EIO, name, p, 0,
                            "modulefile %s for \"%s\" is a dangling symbolic link",
                            p, user);
            free(p);
            free(name);
            return SHELF_EIO;
        }
        shelf_error_set(err, SHELF_ENOTFOUND, user, NULL, 0,
                        "unknown module \"%s\"", user);
        free(name);
        return SHELF_ENOTFOUND;
    }
    free(name);
    return SHELF_OK;
}

char *shelf_user_sn(shelf_resolver *cache, const shelf_strv *modulepath, const char *user)
{
    shelf_modfile mf;
    shelf_error err = {0};
    int r = shelf_resolve_with(cache, modulepath, user, &mf, &err);
    shelf_error_clear(&err);
    if (r == SHELF_OK) {
        char *sn = strdup(mf.sn);
        shelf_modfile_free(&mf);
        return sn;
    }
    if (r == SHELF_ENOMEM)
        return NULL;
    char *name = normalize(user);
    if (!name)
        return NULL;
    for (char *slash = strrchr(name, '/'); slash; slash = strrchr(name, '/')) {
        *slash = '\0';
        for (size_t i = 0; modulepath && i < modulepath->n; i++) {
            char *p = shelf_path_join(modulepath->v[i], name);
            if (!p) {
                free(name);
                return NULL;
            }
            struct stat st;
            int isdir = !strstr(name, "..") && stat(p, &st) == 0 &&
                        S_ISDIR(st.st_mode);
            free(p);
            if (isdir)
                return name;
        }
    }
    free(name);
    return normalize(user);
}

int shelf_level_defaults(const char *mpath, char *const *env, const shelf_modlist *ml,
                         unsigned char *out)
{
    shelf_strv mp;
    shelf_strv_init(&mp);
    shelf_resolver *cache = shelf_resolver_new(env);
    int rc = cache && shelf_strv_push(&mp, mpath) == 0 ? SHELF_OK : SHELF_ENOMEM;
    char *dflt = NULL;
    const char *dflt_sn = NULL;
    for (size_t i = 0; rc == 0 && i < ml->n; i++) {
        const shelf_modfile *mf = &ml->items[i];
        if (!dflt_sn || strcmp(dflt_sn, mf->sn) != 0) {
            free(dflt);
            dflt = NULL;
            dflt_sn = mf->sn;
            shelf_modfile r;
            shelf_error err = {0};
            int rr = shelf_resolve_with(cache, &mp, mf->sn, &r, &err);
            shelf_error_clear(&err);
            if (rr == SHELF_ENOMEM)
                rc = rr;
            if (rr == 0) {
                dflt = r.path;
                r.path = NULL;
                shelf_modfile_free(&r);
            }
        }
        out[i] = dflt && strcmp(dflt, mf->path) == 0;
    }
    free(dflt);
    shelf_resolver_free(cache);
    shelf_strv_free(&mp);
    return rc;
}
