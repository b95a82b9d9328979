/*
 * catalog.h -- the catalog (catalog.c): every modulefile of a set of
 * MODULEPATH directories and, when following the hierarchy, of every
 * directory their modules open, each with its spider record. avail,
 * spider and keyword (the `shelf` command) and GET /api/v1/modules
 * (shelfd) all read it, so they agree on every module, default and
 * requirement.
 */
#ifndef SHELF_CATALOG_H
#define SHELF_CATALOG_H

#include "engine.h"
#include "index.h"
#include "shelf.h"
#include "spider.h"

/* Chains: the modules to load, in order, before a level's modules can be
 * loaded, as full names joined by this byte ("" = load directly). */
#define SHELF_CHAIN_SEP '\x1f'

typedef struct shelf_cat_mod {
    shelf_modfile mf;
    size_t level;          /* index into the catalog's levels */
    shelf_spider_rec info; /* what the spider evaluation told */
    int level_default;     /* what sn alone resolves to with its level alone
                              (from an index, or a walk that evaluates) */
} shelf_cat_mod;

typedef struct shelf_cat_level {
    char *path;        /* normalized */
    int on_modulepath; /* one of the directories the catalog was built for */
    int chain_state;   /* 0 not computed, 1 being computed, 2 done */
    shelf_strv chains; /* once computed (shelf_catalog_chains) */
    shelf_index *ix;   /* the index it was read from, or NULL (walked) */
    long ixlevel;      /* its level in ix */
    shelf_strv rc_names; /* from ix, listed levels: names its rc files mention */
} shelf_cat_level;

/* A module that adds a directory to MODULEPATH: the hierarchy's edges. */
typedef struct shelf_cat_edge {
    size_t from; /* the level holding the module */
    size_t to;   /* the level it opens */
    char *fullname;
} shelf_cat_edge;

/* Invariants: mods are in level order, each level's in the order of the
 * tree scan (the order avail prints); levels[0..k) are the directories the
 * catalog was built for, in their order, the levels found by following
 * come after; edges name levels of the catalog only. A built catalog is
 * only read (chains computed at build with `chains` set), so threads may
 * share it. */
typedef struct shelf_catalog {
    shelf_cat_mod *mods;
    size_t n, cap;
    shelf_cat_level *levels;
    size_t nlevels, levelcap;
    shelf_cat_edge *edges;
    size_t nedges, edgecap;
    shelf_strv alias_names, alias_targets; /* module_alias() of the listed levels */
    shelf_index **ixs;                     /* open, fresh indexes */
    size_t nix;
    int sn_complete; /* every module of each short name listed is in mods */
} shelf_catalog;

/* What a catalog holds and how it is read. */
typedef struct shelf_catalog_opts {
    char *const *dirs; /* the directories to list (MODULEPATH, or shelfd's trees) */
    size_t ndirs;
    int follow;        /* also every directory their modules open, recursively */
    int evaluate;      /* a walked directory's modulefiles are evaluated in spider
                          mode (else only listed, with empty records) */
    int chains;        /* work out every level's chains at build time */
    /* Which modules and fields an index must give (a walk gives everything,
     * a superset): SHELF_IXF_* with words, and SHELF_IX_* fields. */
    shelf_index_filter filter;
    char *const *words;
    size_t nwords;
    unsigned what;
    /* Where the user's cache of indexes is (XDG_CACHE_HOME, HOME), and
     * what a walk's os.getenv() sees through e: "NAME=value" strings. */
    char *const *env;
    /* How indexes are checked before they are trusted (SHELF_INDEX_CHECK). */
    shelf_index_check check;
    /* A directory whose index is stale or unusable (it is read instead):
     * called with the directory and what is wrong. NULL: quiet. */
    void (*hint)(void *ud, const char *dir, const char *problem);
    void *hint_ud;
} shelf_catalog_opts;

void shelf_catalog_init(shelf_catalog *cat);
void shelf_catalog_free(shelf_catalog *cat); /* then cat is empty again */

/* Adds o->dirs as the listed levels and opens the fresh index covering each
 * one, when there is one (its own location first, then the user's cache),
 * checked for what the catalog reads: the listed levels, or every level it
 * knows when following (for SHELF_IXF_NAMES only the directories that can
 * change that answer). Nothing is read from the tree yet. A missing
 * directory lists nothing. 0 or SHELF_ENOMEM. */
int shelf_catalog_open(const shelf_catalog_opts *o, shelf_catalog *cat, shelf_error *err);

/* When one and the same fresh index covers every level of cat, sets *ix to
 * it (and each level's ix), having read the listed levels' aliases and rc
 * names: callers may then stream rows from it instead of filling the
 * catalog. Else *ix is NULL. Right after shelf_catalog_open. 0, SHELF_EIO
 * or SHELF_ENOMEM (err set). */
int shelf_catalog_stream(shelf_catalog *cat, shelf_index **ix, shelf_error *err);
/* Forgets what shelf_catalog_stream set and read, before shelf_catalog_fill. */
void shelf_catalog_unstream(shelf_catalog *cat);

/* Fills cat, level by level, from its index when one covers it (only the
 * modules and fields o asks for), else from a walk of the tree evaluating
 * each modulefile in e's spider mode (shelf_engine_spider). A modulefile
 * that fails to evaluate is listed with what it told before failing.
 * 0, SHELF_ENOMEM or SHELF_EIO (err set; cat holds what was found so far:
 * the caller frees it in every case). */
int shelf_catalog_fill(shelf_engine *e, const shelf_catalog_opts *o, shelf_catalog *cat,
                       shelf_error *err);

/* shelf_catalog_open then shelf_catalog_fill. */
int shelf_catalog_build(shelf_engine *e, const shelf_catalog_opts *o, shelf_catalog *cat,
                        shelf_error *err);

/* Works out (once) the chains of level l: each the list of modules to load,
 * in order, before its modules can be loaded. A level that no module opens
 * and that is listed has the single empty chain (load directly); as in
 * Lmod, a level some module opens is reached through it even when listed.
 * 0 or SHELF_ENOMEM. */
int shelf_catalog_chains(shelf_catalog *cat, size_t l);

/* The level whose path is dir (normalized or not), or -1 (-2 on OOM). */
long shelf_catalog_level(const shelf_catalog *cat, const char *dir);

/* ---- defaults: what a short name alone loads ------------------------------ */

/* The default of one short name among the listed modules, and how many
 * versions of it are listed. */
typedef struct shelf_sn_default {
    const char *sn;
    char *path;   /* what sn alone resolves to now, NULL when nothing */
    size_t count; /* listed versions (hidden ones only with show_hidden) */
    long level;   /* the listed level holding sn (-1: none yet) */
    int multi;    /* sn is in several listed levels */
    const shelf_cat_mod *hit; /* its entry with level_default set */
} shelf_sn_default;

typedef struct shelf_defaults {
    shelf_sn_default *v; /* sorted by sn */
    size_t n;
} shelf_defaults;

/* Works out, by the resolver's own rules on e's MODULEPATH (shelf_resolve),
 * what each short name of the levels marked in listed[] (NULL: the levels
 * the catalog was built for) loads: from the index when the short name
 * lives in one listed level and no other listed level's rc files mention it
 * (what it resolved to with that level alone, recorded by `shelf index`),
 * else by resolving. Fills *out (free with shelf_defaults_free). 0 or
 * SHELF_ENOMEM (out empty). */
int shelf_catalog_defaults(shelf_engine *e, const shelf_catalog *cat, const unsigned char *listed,
                           int show_hidden, shelf_defaults *out);
void shelf_defaults_free(shelf_defaults *d);
/* The entry of sn, or NULL. */
const shelf_sn_default *shelf_defaults_find(const shelf_defaults *d, const char *sn);
/* 1 if m is what its short name loads. */
int shelf_defaults_is(const shelf_defaults *d, const shelf_cat_mod *m);

/* The default and count of sn for one listed level of a single index
 * (streaming avail), by the same rules as shelf_catalog_defaults: *use_level
 * is set when the rows' level_default says it, else *path is what sn
 * resolves to (NULL: nothing). 0, SHELF_EIO (err set) or SHELF_ENOMEM. */
int shelf_catalog_stream_default(shelf_engine *e, const shelf_catalog *cat, size_t level,
                                 const char *sn, int show_hidden, size_t *count,
                                 int *use_level, char **path, shelf_error *err);

/* ---- orders and matches ------------------------------------------------ */

/* Sorts idx[0..n) (indexes into cat->mods) in spider's order: by short name
 * (as "name/" sorts), version (shelf_version_cmp) and file. */
void shelf_catalog_sort(const shelf_catalog *cat, size_t *idx, size_t n);
/* Sorts idx[0..n) by file. */
void shelf_catalog_sort_by_file(const shelf_catalog *cat, size_t *idx, size_t n);

/* 1 if m matches one of words[0..n) for keyword: its short name, a whatis
 * line or a property value contain it, ignoring case. */
int shelf_catalog_keyword_match(const shelf_cat_mod *m, char *const *words, size_t n);
/* The same test on an index row (lists joined by SHELF_INDEX_SEP). */
int shelf_index_row_keyword_match(const shelf_index_row *r, char *const *words, size_t n);

/* The index levels spider and keyword read from a single index: those of
 * cat's listed levels and every level their modules open, recursively.
 * 1 with *levels (caller frees) and *n set; 0 when some opened directory is
 * not in the index (fill the catalog instead); <0 on error (err set). */
int shelf_catalog_reach(const shelf_catalog *cat, shelf_index *ix, long **levels, size_t *n,
                        shelf_error *err);

/* ---- one short name in a context ---------------------------------------- */

/* The module of cat->mods[idx[0..n)] (the versions of one short name) that
 * stands for it where on_mp[] marks the levels now on MODULEPATH and
 * `loaded` holds the loaded modules' full names: what `module load sn`
 * loads when some version is on MODULEPATH (dflt: that file's path, from
 * shelf_catalog_defaults; NULL: resolve none), else the level default of
 * the level whose chain needs the fewest modules that are not loaded
 * (the loaded compiler's build before another compiler's). Returns an index
 * into idx, or -1 when every version is hidden. Chains must be computed. */
long shelf_catalog_pick(const shelf_catalog *cat, const size_t *idx, size_t n,
                        const unsigned char *on_mp, const char *dflt,
                        const shelf_strv *loaded);

#endif
