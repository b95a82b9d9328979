/*
 * index.h -- the sqlite index of module trees (index.c) and the spider
 * record that both the index and a walk of the tree fill.
 *
 * A spider record is what evaluating one modulefile in spider mode tells:
 * whatis lines and the fields parsed from them, help, properties, family,
 * dependencies and the directories it adds to MODULEPATH. The `shelf`
 * command collects it while walking a tree, and `shelf index` stores it,
 * so that both paths answer avail, spider and keyword the same way.
 *
 * An index covers one root MODULEPATH directory and every directory its
 * modules open, recursively (the levels of a hierarchy). It is written
 * with a temp file and a rename, so readers see either the old or the new
 * file, and it is used only while fresh: see shelf_index_fresh().
 */
#ifndef SHELF_INDEX_H
#define SHELF_INDEX_H

#include "modulefile.h"
#include "shelf.h"
#include "spider.h"

/* Bumped whenever the tables or what they hold change: an index with
 * another number is never read and is rebuilt completely by `shelf index`.
 * 4: the modules' hash is the SHA-256 collections record (was FNV-1a). */
#define SHELF_INDEX_SCHEMA 4

/* ---- building ----------------------------------------------------------- */

typedef struct shelf_index_opts {
    const char *output; /* NULL: shelf_index_default_path() */
    int full;           /* 1: evaluate everything, reuse nothing */
    /* Called after each modulefile (may be NULL): done of total known so far. */
    void (*progress)(void *ud, size_t done, size_t total);
    void *ud;
    /* NULL: readers check every recorded directory (the default). Else the
     * admin's timestamp file (created when missing): readers trust the index
     * while that file's mtime is not newer than the start of the build and
     * every level root keeps its mtime (see shelf_index_fresh). */
    const char *timestamp;
    /* The environment spider mode's os.getenv() answers from ("NAME=value",
     * NULL-terminated; NULL: an empty one). */
    char *const *env;
    /* Budgets of each modulefile evaluation; NULL: the defaults. */
    const shelf_eval_limits *limits;
} shelf_index_opts;

typedef struct shelf_index_stats {
    size_t modules;   /* modulefiles recorded */
    size_t levels;    /* MODULEPATH directories (the root and those opened) */
    size_t broken;    /* modulefiles that failed in spider mode */
    size_t evaluated; /* modulefiles evaluated (the others were reused) */
    size_t dirs;      /* directories recorded for the freshness check */
    double seconds;
    char *output;     /* the file written (caller frees) */
} shelf_index_stats;

/* Where the index of dir is written by default: dir/.shelf/index.db when
 * the user may write in dir, else $XDG_CACHE_HOME/shelf/index-HASH.db
 * (~/.cache when unset), HASH naming the absolute, normalized dir. A new
 * string, NULL on OOM. */
char *shelf_index_default_path(const char *dir, char *const *env);

/* The places readers look for the index of dir, in order: dir/.shelf/index.db
 * then the cache file. 0 or SHELF_ENOMEM; the caller frees out. */
int shelf_index_locations(const char *dir, char *const *env, shelf_strv *out);

/* Evaluates every modulefile under dir and under the directories its
 * modules open, and writes the index (o->output or the default path).
 * Files whose (path, size, mtime) match the previous index there are not
 * evaluated again, unless o->full or the previous index has another
 * schema or shelf version. The file is written beside the output and
 * renamed into place under an exclusive lock on OUTPUT.lock, so that
 * concurrent builds queue and readers never see half a file. A modulefile
 * that fails is recorded as broken, with its message. Fills *st (caller
 * frees st->output). Returns 0; SHELF_EIO (err says which file) when the
 * output cannot be written (nothing is replaced then); SHELF_ENOMEM. */
int shelf_index_build(const char *dir, const shelf_index_opts *o,
                      shelf_index_stats *st, shelf_error *err);

/* ---- reading ------------------------------------------------------------ */

typedef struct shelf_index shelf_index;

/* Opens the index file read-only and checks its meta table. Returns 0 and
 * *out; SHELF_ENOTFOUND when the file does not exist; SHELF_EIO for a file
 * that is not an index, is locked, or has another schema or shelf
 * version (err says which). *out is NULL on failure. */
int shelf_index_open(const char *file, shelf_index **out, shelf_error *err);
void shelf_index_close(shelf_index *ix);
/* The file it was opened from, and the root directory it covers. */
const char *shelf_index_file(const shelf_index *ix);
const char *shelf_index_root(const shelf_index *ix);
/* The timestamp file of an index built with --timestamp, else NULL (the
 * index is then checked directory by directory). */
const char *shelf_index_timestamp(const shelf_index *ix);

/* The level id of the MODULEPATH directory path (normalized), or -1 when
 * the index does not cover it; -2 on a read error. */
long shelf_index_level(shelf_index *ix, const char *path);

/* How readers check an index before they trust it: as it was built (every
 * directory, or the timestamp file of an index built with one), or every
 * directory whatever the index says (the front ends' SHELF_INDEX_CHECK=dirs). */
typedef enum shelf_index_check {
    SHELF_INDEX_CHECK_AUTO = 0,
    SHELF_INDEX_CHECK_DIRS
} shelf_index_check;

/* The policy a front end's SHELF_INDEX_CHECK value names: "dirs" is
 * SHELF_INDEX_CHECK_DIRS; anything else, or NULL, SHELF_INDEX_CHECK_AUTO. */
shelf_index_check shelf_index_check_from(const char *word);

/* 1 when every directory recorded under the given levels (all levels when
 * n == 0) still has its recorded mtime, and every default marker file
 * (default, .modulerc.lua, .modulerc, .version) its mtime and size; 0 when
 * something changed (*why, when not NULL, names it: caller frees); <0 on a
 * read error. Stats only: reads no file and lists no directory. With
 * words (spider NAME), only the directories that can change that answer
 * are checked: the level roots and category directories, the directories
 * of the short names matching a word (as SHELF_IXF_NAMES) and those of
 * the modules that open levels. An index built with a timestamp file
 * checks only that file (stale when missing or newer than the start of the
 * build) and the level roots with the markers directly in them: a version
 * added inside an existing package directory is not seen until the file
 * is touched or the index rebuilt. With SHELF_INDEX_CHECK_DIRS every
 * directory is checked all the same (for an admin who suspects the
 * timestamp file was not touched). */
int shelf_index_fresh(shelf_index *ix, shelf_index_check check, const long *levels, size_t n,
                      char *const *words, size_t nwords, char **why);

/* What a query fetches beyond the modulefile fields. */
enum {
    SHELF_IX_META = 1,   /* description, category, keywords, url, family, props, deps */
    SHELF_IX_WHATIS = 2, /* the whatis lines */
    SHELF_IX_HELP = 4,   /* the help text */
    SHELF_IX_OPENS = 8,  /* the directories opened */
    SHELF_IX_DESC = 16   /* the description alone (streaming reads) */
};

/* One module of the index, handed to a query's callback. */
typedef struct shelf_index_mod {
    shelf_modfile mf;
    shelf_spider_rec rec;
    char *broken;    /* the error of the spider evaluation, or NULL */
    int level_default; /* what sn alone resolves to with this level alone on MODULEPATH */
} shelf_index_mod;

void shelf_index_mod_free(shelf_index_mod *m);

/* Which modules a query returns. */
typedef enum shelf_index_filter {
    SHELF_IXF_ALL,     /* every module of the level */
    SHELF_IXF_NAMES,   /* modules whose short name is that of a module whose
                          short name or full name contains a word (any case) */
    SHELF_IXF_KEYWORDS /* modules whose short name, whatis lines or properties
                          may contain a word (any case): a superset the caller
                          narrows down */
} shelf_index_filter;

/* Calls cb for each module of level that passes the filter (words[0..n)),
 * in the order the tree scan lists them. cb takes the module (moving out
 * what it keeps, then calling shelf_index_mod_free) and returns 0 or a
 * negative code that stops the query and is returned. Returns 0,
 * SHELF_EIO on a read error (err set), SHELF_ENOMEM, or cb's code. */
int shelf_index_query(shelf_index *ix, long level, shelf_index_filter filter,
                      char *const *words, size_t n, unsigned what,
                      int (*cb)(void *ud, shelf_index_mod *m), void *ud,
                      shelf_error *err);

/* Calls cb(ud, fullname, opened) for each directory a module of level adds
 * to MODULEPATH, in module order then call order. Same returns. */
int shelf_index_edges(shelf_index *ix, long level,
                      int (*cb)(void *ud, const char *fullname, const char *opened),
                      void *ud, shelf_error *err);

/* Calls cb(ud, name, target) for each module_alias() of level's .modulerc
 * files, in the order of the tree scan. Same returns. */
int shelf_index_aliases(shelf_index *ix, long level,
                        int (*cb)(void *ud, const char *name, const char *target),
                        void *ud, shelf_error *err);

/* Appends to out the names (aliases, symbolic versions, hidden names, with
 * their targets) that level's .modulerc/.version files mention: what may
 * change how a name resolves when several levels are on MODULEPATH.
 * 0, SHELF_EIO or SHELF_ENOMEM. */
int shelf_index_rc_names(shelf_index *ix, long level, shelf_strv *out, shelf_error *err);

/* Calls cb(ud, file, message) for each broken modulefile. Same returns. */
int shelf_index_broken(shelf_index *ix,
                       int (*cb)(void *ud, const char *file, const char *message),
                       void *ud, shelf_error *err);

/* ---- streaming reads ------------------------------------------------------ */

/* One module row, valid only during the callback that receives it: the
 * strings point into the database's row, nothing is allocated per row. */
typedef struct shelf_index_row {
    long level;
    const char *sn, *version, *fullname, *file;
    int hidden, level_default;
    /* With SHELF_IX_META (else NULL; description also with SHELF_IX_DESC);
     * props joined by SHELF_INDEX_SEP. */
    const char *description, *category, *keywords, *props;
    /* With SHELF_IX_WHATIS (else NULL): the whatis lines joined by SHELF_INDEX_SEP. */
    const char *whatis;
} shelf_index_row;

#define SHELF_INDEX_SEP '\x1e'

/* Calls cb for each module of level, in the order of the tree scan (the
 * order avail prints), with the fields `what` names. cb returns 0 or a
 * negative code that stops the walk and is returned. Returns 0, SHELF_EIO
 * (err set), SHELF_ENOMEM or cb's code. */
int shelf_index_level_rows(shelf_index *ix, long level, unsigned what,
                           int (*cb)(void *ud, const shelf_index_row *r), void *ud,
                           shelf_error *err);

/* Calls cb for each module of levels[0..n) in spider's order: by short
 * name (as "name/" sorts), version (shelf_version_cmp) and file, the order
 * recorded by `shelf index`. With SHELF_IXF_KEYWORDS and words, only rows
 * that may contain a word (a superset, as shelf_index_query; every row
 * when a word is too short for the trigram search); SHELF_IXF_ALL: all.
 * Returns as shelf_index_level_rows. */
int shelf_index_sorted_rows(shelf_index *ix, const long *levels, size_t n,
                            shelf_index_filter filter, char *const *words, size_t nwords,
                            unsigned what, int (*cb)(void *ud, const shelf_index_row *r),
                            void *ud, shelf_error *err);

/* Calls cb(ud, level, hidden) for every module whose short name is sn.
 * 0, SHELF_EIO (err set) or SHELF_ENOMEM. */
int shelf_index_sn_levels(shelf_index *ix, const char *sn,
                          void (*cb)(void *ud, long level, int hidden), void *ud,
                          shelf_error *err);

/* Calls cb(ud, level, opened) once per distinct (level, directory) pair of
 * the hierarchy's edges. Same returns as shelf_index_edges. */
int shelf_index_all_edges(shelf_index *ix,
                          int (*cb)(void *ud, long level, const char *opened), void *ud,
                          shelf_error *err);

/* Number of modules recorded, or <0 on error. */
long shelf_index_count(shelf_index *ix);

#endif
