/*
 * index-build.c -- writing an index (`shelf index DIR`, shelfd's
 * background re-indexing): every modulefile of a root directory and of the
 * levels its modules open, evaluated in the engine's spider mode (or
 * reused from the previous index when its file is unchanged), written to a
 * temp file renamed into place under a lock. The tables are described in
 * index.c.
 *
 * Invariants: the output is replaced whole or not at all; a build holds the
 * lock OUTPUT.lock from start to end, so concurrent builds queue.
 */
#include "config.h"

#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "engine-internal.h"
#include "index-internal.h"
#include "shelf.h"
#include "shelf-internal.h"
#include "tree-internal.h"

/* Binds the list joined by LIST_SEP, or NULL when empty. */
static int ix_bind_list(sqlite3_stmt *st, int i, const shelf_strv *sv)
{
    if (sv->n == 0)
        return sqlite3_bind_null(st, i);
    char *s = shelf_strv_join(sv, LIST_SEP);
    if (!s)
        return SQLITE_NOMEM;
    return sqlite3_bind_text(st, i, s, -1, free);
}

/* Binds a copy of s, or NULL. */
static int ix_bind_str(sqlite3_stmt *st, int i, const char *s)
{
    return s ? sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT) : sqlite3_bind_null(st, i);
}

/* ---- building --------------------------------------------------------------- */

static const char SCHEMA_SQL[] =
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT);"
    "CREATE TABLE levels(id INTEGER PRIMARY KEY, path TEXT UNIQUE NOT NULL,"
    " root INTEGER NOT NULL);"
    "CREATE TABLE dirs(level INTEGER NOT NULL, rel TEXT NOT NULL, sn TEXT,"
    " mtime INTEGER NOT NULL);"
    "CREATE INDEX dirs_rel ON dirs(level, rel);"
    "CREATE TABLE markers(path TEXT NOT NULL, level INTEGER NOT NULL,"
    " mtime INTEGER NOT NULL, size INTEGER NOT NULL, top INTEGER NOT NULL);"
    "CREATE TABLE modules(id INTEGER PRIMARY KEY, level INTEGER NOT NULL,"
    " seq INTEGER NOT NULL, name TEXT NOT NULL, sn TEXT NOT NULL, version TEXT NOT NULL,"
    " fullname TEXT NOT NULL, file TEXT NOT NULL, size INTEGER, mtime INTEGER,"
    " hash TEXT, hidden INTEGER, is_default INTEGER, marked_default INTEGER,"
    " is_tcl INTEGER, level_default INTEGER, broken TEXT, description TEXT,"
    " category TEXT, keywords TEXT, url TEXT, family TEXT, whatis TEXT,"
    " props TEXT, deps TEXT, opens TEXT, sorder INTEGER);"
    "CREATE TABLE helps(id INTEGER PRIMARY KEY, text TEXT NOT NULL);"
    "CREATE TABLE edges(module INTEGER NOT NULL, level INTEGER NOT NULL,"
    " mseq INTEGER NOT NULL, seq INTEGER NOT NULL, fullname TEXT NOT NULL,"
    " path TEXT NOT NULL);"
    "CREATE TABLE aliases(level INTEGER NOT NULL, seq INTEGER NOT NULL, name TEXT,"
    " target TEXT);"
    "CREATE TABLE rcnames(level INTEGER NOT NULL, name TEXT NOT NULL);";

static const char INDEX_SQL[] =
    "CREATE VIRTUAL TABLE kwsearch USING fts5(text, tokenize='trigram', content='');"
    "INSERT INTO kwsearch(rowid, text) SELECT id, sn || char(10) ||"
    " coalesce(replace(whatis, char(30), char(10)), '') || char(10) ||"
    " coalesce(replace(props, char(30), char(10)), '') FROM modules;"
    "CREATE VIRTUAL TABLE namesearch USING fts5(text, tokenize='trigram', content='');"
    "INSERT INTO namesearch(rowid, text) SELECT id, fullname FROM modules;"
    "CREATE INDEX modules_level ON modules(level, seq, sn, version, fullname, file, hidden,"
    " is_default, marked_default, is_tcl, level_default, broken);"
    "CREATE INDEX modules_names ON modules(fullname, sn);"
    "CREATE INDEX modules_sn ON modules(sn, level, hidden);"
    "CREATE INDEX modules_sorder ON modules(sorder, level, hidden, sn, version, fullname,"
    " file, level_default, description);"
    "CREATE INDEX dirs_top ON dirs(rel, level);"
    "CREATE INDEX modules_file ON modules(file);"
    "CREATE INDEX dirs_sn ON dirs(sn);"
    "CREATE INDEX markers_level ON markers(level);"
    "CREATE INDEX markers_top ON markers(top, level);"
    "CREATE INDEX edges_level ON edges(level, mseq, seq);";

enum {
    ST_LEVEL, ST_DIR, ST_DIR_SN, ST_MARKER, ST_MODULE, ST_EDGE, ST_ALIAS, ST_RCNAME,
    ST_HELP, ST_COUNT
};

static const char *const INSERT_SQL[ST_COUNT] = {
    "INSERT INTO levels(id, path, root) VALUES(?1, ?2, ?3)",
    "INSERT INTO dirs(rel, level, mtime) VALUES(?1, ?2, ?3)",
    "UPDATE dirs SET sn=?2 WHERE level=?1 AND (rel=?2 OR (rel > ?2 || '/' AND"
    " rel < ?2 || '0'))",
    "INSERT INTO markers(path, level, mtime, size, top) VALUES(?1, ?2, ?3, ?4, ?5)",
    "INSERT INTO modules(level, seq, name, sn, version, fullname, file, size, mtime,"
    " hash, hidden, is_default, marked_default, is_tcl, level_default, broken,"
    " description, category, keywords, url, family, whatis, props, deps, opens)"
    " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,"
    " ?17, ?18, ?19, ?20, ?22, ?23, ?24, ?25, ?26)",
    "INSERT INTO edges(module, level, mseq, seq, fullname, path) VALUES(?1, ?2, ?3, ?4,"
    " ?5, ?6)",
    "INSERT INTO aliases(level, seq, name, target) VALUES(?1, ?2, ?3, ?4)",
    "INSERT INTO rcnames(level, name) VALUES(?1, ?2)",
    "INSERT INTO helps(id, text) VALUES(?1, ?2)",
};

/* What the builder carries from one level to the next. */
typedef struct builder {
    sqlite3 *db;
    const char *tmpfile;
    sqlite3_stmt *ins[ST_COUNT];
    sqlite3 *old;          /* the previous index, for reuse, or NULL */
    sqlite3_stmt *reuse;
    shelf_engine eng;      /* evaluates the modulefiles in spider mode */
    int eng_open;
    shelf_strv levels;     /* normalized level paths, in discovery order */
    const shelf_index_opts *o;
    shelf_index_stats *st;
    size_t total;          /* modulefiles known so far, for progress */
    size_t done;           /* modulefiles recorded so far */
    shelf_error *err;
    const char *timestamp; /* absolute timestamp file, or NULL */
    int64_t started;       /* ns, before anything was walked */
} builder;

/* Runs a prepared insert (bound by the caller) and resets it. */
static int run_insert(builder *b, sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc != SQLITE_DONE)
        return ix_db_fail(b->db, b->err, b->tmpfile, "cannot write");
    return SHELF_OK;
}

static int is_marker_name(const char *name)
{
    return strcmp(name, "default") == 0 || strcmp(name, ".modulerc.lua") == 0 ||
           strcmp(name, ".modulerc") == 0 || strcmp(name, ".version") == 0;
}

/* Records dir (mtime taken before it is listed, so that a change made
 * while listing shows as stale later), its markers, and every directory
 * below it, skipping the names the tree scan skips and .shelf. Directories
 * are recorded relative to the level: "" for the level itself. */
static int walk_dirs(builder *b, long level, const char *path, int depth)
{
    struct stat sb;
    if (stat(path, &sb) < 0 || !S_ISDIR(sb.st_mode))
        return SHELF_OK;
    const char *rel = path + strlen(b->levels.v[level]);
    if (*rel == '/')
        rel++;
    sqlite3_stmt *ins = b->ins[ST_DIR];
    sqlite3_bind_text(ins, 1, rel, -1, SQLITE_STATIC);
    sqlite3_bind_int64(ins, 2, level);
    sqlite3_bind_int64(ins, 3, ix_mtime_ns(&sb));
    int rc = run_insert(b, ins);
    if (rc < 0)
        return rc;
    b->st->dirs++;
    DIR *d = opendir(path);
    if (!d)
        return SHELF_OK; /* unreadable: the scan lists nothing there either */
    struct dirent *de;
    while (rc == 0 && (de = readdir(d)) != NULL) {
        const char *name = de->d_name;
        if (!tree_keep_name(name) || strcmp(name, ".shelf") == 0)
            continue;
        int marker = is_marker_name(name);
        if (!marker && de->d_type != DT_DIR && de->d_type != DT_LNK &&
            de->d_type != DT_UNKNOWN)
            continue;
        char *child = shelf_path_join(path, name);
        if (!child) {
            rc = SHELF_ENOMEM;
            break;
        }
        struct stat cs;
        if (marker && lstat(child, &cs) == 0) {
            ins = b->ins[ST_MARKER];
            sqlite3_bind_text(ins, 1, child, -1, SQLITE_STATIC);
            sqlite3_bind_int64(ins, 2, level);
            sqlite3_bind_int64(ins, 3, ix_mtime_ns(&cs));
            sqlite3_bind_int64(ins, 4, (sqlite3_int64)cs.st_size);
            sqlite3_bind_int(ins, 5, depth == 0);
            rc = run_insert(b, ins);
        } else if (!marker && depth < TREE_MAX_DEPTH && stat(child, &cs) == 0 &&
                   S_ISDIR(cs.st_mode)) {
            rc = walk_dirs(b, level, child, depth + 1);
        }
        free(child);
    }
    closedir(d);
    return rc;
}

/* Records the names level's .modulerc/.version files mention. */
static int record_rc_names(builder *b, long level, const char *mpath)
{
    tree_rc rc;
    tree_rc_init(&rc);
    rc.env = b->o->env;
    tree_dir *root = tree_dir_new(mpath, "");
    int r = root ? tree_dir_load(mpath, root, &rc) : SHELF_ENOMEM;
    const shelf_strv *lists[] = {&rc.alias_name, &rc.alias_target, &rc.sym_name,
                                 &rc.sym_target, &rc.hidden};
    for (size_t l = 0; r == 0 && l < sizeof lists / sizeof lists[0]; l++)
        for (size_t i = 0; r == 0 && i < lists[l]->n; i++) {
            sqlite3_stmt *ins = b->ins[ST_RCNAME];
            sqlite3_bind_int64(ins, 1, level);
            sqlite3_bind_text(ins, 2, lists[l]->v[i], -1, SQLITE_STATIC);
            r = run_insert(b, ins);
        }
    tree_dir_free(root);
    tree_rc_free(&rc);
    if (r == SHELF_ENOMEM)
        shelf_error_set(b->err, r, NULL, mpath, 0, "out of memory reading %s", mpath);
    return r;
}

/* The SHA-256 of the file in hex, the digest collections record, or NULL
 * when it cannot be read. */
static char *file_hash(const char *path)
{
    char hex[65];
    shelf_error e = {0};
    int rc = shelf_sha256_file(path, hex, &e);
    shelf_error_clear(&e);
    return rc == 0 ? strdup(hex) : NULL;
}

/* The row of the previous index for (path, size, mtime), read into rec,
 * *hash and *broken. 1 found, 0 not, SHELF_ENOMEM. */
static int reuse_row(builder *b, const char *path, const struct stat *sb,
                     shelf_spider_rec *rec, char **hash, char **broken)
{
    if (!b->reuse)
        return 0;
    sqlite3_stmt *q = b->reuse;
    sqlite3_bind_text(q, 1, path, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 2, (sqlite3_int64)sb->st_size);
    sqlite3_bind_int64(q, 3, ix_mtime_ns(sb));
    int found = 0, oom = 0;
    if (sqlite3_step(q) == SQLITE_ROW) {
        found = 1;
        *hash = ix_col_dup(q, 0, &oom);
        *broken = ix_col_dup(q, 1, &oom);
        rec->description = ix_col_dup(q, 2, &oom);
        rec->category = ix_col_dup(q, 3, &oom);
        rec->keywords = ix_col_dup(q, 4, &oom);
        rec->url = ix_col_dup(q, 5, &oom);
        rec->help = ix_col_dup(q, 6, &oom);
        rec->family = ix_col_dup(q, 7, &oom);
        if (ix_col_list(q, 8, &rec->whatis) < 0 || ix_col_list(q, 9, &rec->props) < 0 ||
            ix_col_list(q, 10, &rec->deps) < 0 || ix_col_list(q, 11, &rec->opens) < 0)
            oom = 1;
    }
    sqlite3_reset(q);
    sqlite3_clear_bindings(q);
    return oom ? SHELF_ENOMEM : found;
}

/* Adds level path to the queue once; its index in b->levels, or <0. */
static long queue_level(builder *b, const char *path)
{
    long at = shelf_strv_find(&b->levels, path);
    if (at >= 0)
        return at;
    if (shelf_strv_push(&b->levels, path) < 0)
        return SHELF_ENOMEM;
    return (long)b->levels.n - 1;
}

/* The last component of sn: the package name of a category layout. */
static const char *base_name(const char *sn)
{
    const char *s = strrchr(sn, '/');
    return s ? s + 1 : sn;
}

/* Evaluates (or reuses) and records one modulefile of level. */
static int build_module(builder *b, long level, long seq, const shelf_modfile *mf,
                        int level_default)
{
    shelf_spider_rec rec;
    shelf_spider_rec_init(&rec);
    char *hash = NULL, *broken = NULL;
    struct stat sb;
    int have_stat = stat(mf->path, &sb) == 0;
    int rc = have_stat ? reuse_row(b, mf->path, &sb, &rec, &hash, &broken) : 0;
    if (rc == 0) {
        b->st->evaluated++;
        hash = file_hash(mf->path);
        shelf_error eerr = {0};
        int erc = shelf_engine_spider(&b->eng, mf, &rec, &eerr);
        if (erc == SHELF_ENOMEM)
            rc = SHELF_ENOMEM;
        else if (erc < 0 && !(broken = strdup(eerr.message ? eerr.message
                                                           : shelf_strerror(erc))))
            rc = SHELF_ENOMEM;
        shelf_error_clear(&eerr);
    }
    if (rc >= 0)
        rc = SHELF_OK;
    if (broken)
        b->st->broken++;
    sqlite3_stmt *ins = b->ins[ST_MODULE];
    if (rc == 0) {
        sqlite3_bind_int64(ins, 1, level);
        sqlite3_bind_int64(ins, 2, seq);
        sqlite3_bind_text(ins, 3, base_name(mf->sn), -1, SQLITE_STATIC);
        sqlite3_bind_text(ins, 4, mf->sn, -1, SQLITE_STATIC);
        sqlite3_bind_text(ins, 5, mf->version, -1, SQLITE_STATIC);
        sqlite3_bind_text(ins, 6, mf->fullname, -1, SQLITE_STATIC);
        sqlite3_bind_text(ins, 7, mf->path, -1, SQLITE_STATIC);
        if (have_stat) {
            sqlite3_bind_int64(ins, 8, (sqlite3_int64)sb.st_size);
            sqlite3_bind_int64(ins, 9, ix_mtime_ns(&sb));
        }
        ix_bind_str(ins, 10, hash);
        sqlite3_bind_int(ins, 11, mf->hidden);
        sqlite3_bind_int(ins, 12, mf->is_default);
        sqlite3_bind_int(ins, 13, mf->marked_default);
        sqlite3_bind_int(ins, 14, mf->is_tcl);
        sqlite3_bind_int(ins, 15, level_default);
        ix_bind_str(ins, 16, broken);
        ix_bind_str(ins, 17, rec.description);
        ix_bind_str(ins, 18, rec.category);
        ix_bind_str(ins, 19, rec.keywords);
        ix_bind_str(ins, 20, rec.url);
        ix_bind_str(ins, 22, rec.family);
        if (ix_bind_list(ins, 23, &rec.whatis) != SQLITE_OK ||
            ix_bind_list(ins, 24, &rec.props) != SQLITE_OK ||
            ix_bind_list(ins, 25, &rec.deps) != SQLITE_OK ||
            ix_bind_list(ins, 26, &rec.opens) != SQLITE_OK) {
            sqlite3_reset(ins);
            sqlite3_clear_bindings(ins);
            rc = SHELF_ENOMEM;
        } else {
            rc = run_insert(b, ins);
        }
    }
    sqlite3_int64 id = sqlite3_last_insert_rowid(b->db);
    if (rc == 0 && rec.help) {
        ins = b->ins[ST_HELP];
        sqlite3_bind_int64(ins, 1, id);
        sqlite3_bind_text(ins, 2, rec.help, -1, SQLITE_STATIC);
        rc = run_insert(b, ins);
    }
    for (size_t k = 0; rc == 0 && k < rec.opens.n; k++) {
        long to = queue_level(b, rec.opens.v[k]);
        if (to < 0) {
            rc = (int)to;
            break;
        }
        ins = b->ins[ST_EDGE];
        sqlite3_bind_int64(ins, 1, id);
        sqlite3_bind_int64(ins, 2, level);
        sqlite3_bind_int64(ins, 3, seq);
        sqlite3_bind_int64(ins, 4, (sqlite3_int64)k);
        sqlite3_bind_text(ins, 5, mf->fullname, -1, SQLITE_STATIC);
        sqlite3_bind_text(ins, 6, rec.opens.v[k], -1, SQLITE_STATIC);
        rc = run_insert(b, ins);
    }
    if (rc == SHELF_ENOMEM)
        shelf_error_set(b->err, rc, mf->fullname, mf->path, 0, "out of memory");
    shelf_spider_rec_free(&rec);
    free(hash);
    free(broken);
    return rc;
}

/* Scans, records and evaluates one level. */
static int build_level(builder *b, long level)
{
    const char *mpath = b->levels.v[level];
    sqlite3_stmt *ins = b->ins[ST_LEVEL];
    sqlite3_bind_int64(ins, 1, level);
    sqlite3_bind_text(ins, 2, mpath, -1, SQLITE_STATIC);
    sqlite3_bind_int(ins, 3, level == 0);
    int rc = run_insert(b, ins);
    struct stat sb;
    if (rc == 0 && stat(mpath, &sb) < 0) {
        /* A level that does not exist yet: its creation makes the index stale. */
        ins = b->ins[ST_DIR];
        sqlite3_bind_text(ins, 1, "", -1, SQLITE_STATIC);
        sqlite3_bind_int64(ins, 2, level);
        sqlite3_bind_int64(ins, 3, -1);
        rc = run_insert(b, ins);
    } else if (rc == 0) {
        rc = walk_dirs(b, level, mpath, 0);
    }
    if (rc == 0)
        rc = record_rc_names(b, level, mpath);
    shelf_modlist ml;
    shelf_modlist_init(&ml);
    if (rc == 0)
        rc = shelf_tree_scan(mpath, b->o->env, &ml, b->err);
    b->total += ml.n;
    b->st->modules += ml.n;
    for (size_t a = 0; rc == 0 && a < ml.naliases; a++) {
        ins = b->ins[ST_ALIAS];
        sqlite3_bind_int64(ins, 1, level);
        sqlite3_bind_int64(ins, 2, (sqlite3_int64)a);
        sqlite3_bind_text(ins, 3, ml.aliases[a].name, -1, SQLITE_STATIC);
        sqlite3_bind_text(ins, 4, ml.aliases[a].target, -1, SQLITE_STATIC);
        rc = run_insert(b, ins);
    }
    /* What each short name resolves to with this level alone on MODULEPATH:
     * readers take the default from here instead of resolving every name. */
    unsigned char *dflt = calloc(ml.n ? ml.n : 1, 1);
    if (rc == 0 && (!dflt || shelf_level_defaults(mpath, b->o->env, &ml, dflt) < 0))
        rc = SHELF_ENOMEM;
    for (size_t i = 0; rc == 0 && i < ml.n; i++) {
        const shelf_modfile *mf = &ml.items[i];
        if (i == 0 || strcmp(ml.items[i - 1].sn, mf->sn) != 0) {
            ins = b->ins[ST_DIR_SN];
            sqlite3_bind_int64(ins, 1, level);
            sqlite3_bind_text(ins, 2, mf->sn, -1, SQLITE_STATIC);
            rc = run_insert(b, ins);
        }
        if (rc == 0)
            rc = build_module(b, level, (long)i, mf, dflt[i]);
        b->done++;
        if (b->o->progress)
            b->o->progress(b->o->ud, b->done, b->total);
    }
    free(dflt);
    shelf_modlist_free(&ml);
    if (rc == SHELF_ENOMEM && b->err->code == SHELF_OK)
        shelf_error_set(b->err, rc, NULL, mpath, 0, "out of memory indexing %s", mpath);
    return rc;
}

/* Opens the previous index at output for reuse, when it is usable. */
static void open_previous(builder *b, const char *output)
{
    if (b->o->full || access(output, R_OK) != 0)
        return;
    if (sqlite3_open_v2(output, &b->old, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
        goto drop;
    shelf_error e = {0};
    int ok = ix_meta_check(b->old, output, NULL, &e) == 0;
    shelf_error_clear(&e);
    if (!ok || sqlite3_prepare_v2(b->old,
                                  "SELECT m.hash, m.broken, m.description, m.category,"
                                  " m.keywords, m.url, h.text, m.family, m.whatis, m.props,"
                                  " m.deps, m.opens FROM modules m LEFT JOIN helps h ON"
                                  " h.id=m.id WHERE m.file=?1 AND m.size=?2 AND m.mtime=?3"
                                  " LIMIT 1",
                                  -1, &b->reuse, NULL) != SQLITE_OK)
        goto drop;
    return;
drop:
    sqlite3_finalize(b->reuse);
    b->reuse = NULL;
    sqlite3_close(b->old);
    b->old = NULL;
}

static int exec_sql(builder *b, const char *sql)
{
    if (sqlite3_exec(b->db, sql, NULL, NULL, NULL) != SQLITE_OK)
        return ix_db_fail(b->db, b->err, b->tmpfile, "cannot write");
    return SHELF_OK;
}

/* One module for build_sorder: its id, and the fields spider sorts on. */
typedef struct sort_row {
    sqlite3_int64 id;
    char *sn, *vkey, *file;
} sort_row;

/* spider's order: by short name as "sn/" sorts (so "a/" before "a-b/"),
 * then version (shelf_version_cmp, through its key), then file. */
static int cmp_sort_row(const void *a, const void *b)
{
    const sort_row *x = a, *y = b;
    int c = shelf_sn_cmp(x->sn, y->sn);
    if (c == 0)
        c = strcmp(x->vkey, y->vkey);
    if (c == 0)
        c = strcmp(x->file, y->file);
    return c;
}

/* Numbers every module in spider's order (modules.sorder), so that
 * readers list matches sorted straight from an index, without sorting. */
static int build_sorder(builder *b)
{
    sqlite3_stmt *sel = NULL, *upd = NULL;
    sort_row *v = NULL;
    size_t n = 0, cap = 0;
    int rc = SHELF_OK;
    if (sqlite3_prepare_v2(b->db, "SELECT id, sn, version, file FROM modules", -1, &sel,
                           NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(b->db, "UPDATE modules SET sorder=?2 WHERE id=?1", -1, &upd,
                           NULL) != SQLITE_OK)
        rc = ix_db_fail(b->db, b->err, b->tmpfile, "cannot write");
    int step = SQLITE_DONE;
    while (rc == 0 && (step = sqlite3_step(sel)) == SQLITE_ROW) {
        if ((rc = SHELF_GROW(v, cap, n + 1)) < 0)
            break;
        int oom = 0;
        sort_row *r = &v[n++];
        r->id = sqlite3_column_int64(sel, 0);
        r->sn = ix_col_dup(sel, 1, &oom);
        const unsigned char *ver = sqlite3_column_text(sel, 2);
        r->vkey = shelf_version_key(ver ? (const char *)ver : "");
        r->file = ix_col_dup(sel, 3, &oom);
        if (oom || !r->sn || !r->vkey || !r->file)
            rc = SHELF_ENOMEM;
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = ix_db_fail(b->db, b->err, b->tmpfile, "cannot read");
    if (rc == 0 && n)
        qsort(v, n, sizeof *v, cmp_sort_row);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        sqlite3_bind_int64(upd, 1, v[i].id);
        sqlite3_bind_int64(upd, 2, (sqlite3_int64)i);
        rc = run_insert(b, upd);
    }
    for (size_t i = 0; i < n; i++) {
        free(v[i].sn);
        free(v[i].vkey);
        free(v[i].file);
    }
    free(v);
    sqlite3_finalize(sel);
    sqlite3_finalize(upd);
    if (rc == SHELF_ENOMEM)
        shelf_error_set(b->err, rc, NULL, NULL, 0, "out of memory");
    return rc;
}

/* Writes the whole index into b->db (the temp file). */
static int build_all(builder *b, const char *root)
{
    int rc = exec_sql(b, "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;"
                         " PRAGMA page_size=4096; BEGIN");
    if (rc == 0)
        rc = exec_sql(b, SCHEMA_SQL);
    for (int i = 0; rc == 0 && i < ST_COUNT; i++)
        if (sqlite3_prepare_v2(b->db, INSERT_SQL[i], -1, &b->ins[i], NULL) != SQLITE_OK)
            rc = ix_db_fail(b->db, b->err, b->tmpfile, "cannot write");
    if (rc == 0 && queue_level(b, root) < 0)
        rc = SHELF_ENOMEM;
    for (size_t l = 0; rc == 0 && l < b->levels.n; l++)
        rc = build_level(b, (long)l);
    if (rc == 0) {
        shelf_buf sql;
        shelf_buf_init(&sql);
        char *qroot = sqlite3_mprintf("%Q", root);
        char *qstamp = sqlite3_mprintf("%Q", b->timestamp);
        shelf_buf_addf(&sql,
                       "INSERT INTO meta VALUES('schema', '%d');"
                       "INSERT INTO meta VALUES('shelf_version', '%s');"
                       "INSERT INTO meta VALUES('root', %s);"
                       "INSERT INTO meta VALUES('built', '%lld');"
                       "INSERT INTO meta VALUES('started', '%lld');",
                       SHELF_INDEX_SCHEMA, SHELF_VERSION_STRING, qroot ? qroot : "NULL",
                       (long long)time(NULL), (long long)b->started);
        if (b->timestamp)
            shelf_buf_addf(&sql, "INSERT INTO meta VALUES('timestamp', %s);",
                           qstamp ? qstamp : "NULL");
        rc = shelf_buf_ok(&sql) == 0 && qroot && qstamp ? exec_sql(b, sql.data) : SHELF_ENOMEM;
        sqlite3_free(qroot);
        sqlite3_free(qstamp);
        shelf_buf_free(&sql);
    }
    if (rc == 0)
        rc = build_sorder(b);
    if (rc == 0)
        rc = exec_sql(b, INDEX_SQL);
    if (rc == 0)
        rc = exec_sql(b, "COMMIT");
    b->st->levels = b->levels.n;
    return rc;
}

int shelf_index_build(const char *dir, const shelf_index_opts *o,
                      shelf_index_stats *st, shelf_error *err)
{
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    memset(st, 0, sizeof *st);
    char *root = ix_abs_dir(dir);
    char *output = o->output ? strdup(o->output) : shelf_index_default_path(dir, o->env);
    char *lockname = NULL, *tmp = NULL, *stamp = NULL;
    int lockfd = -1, rc = SHELF_OK;
    builder b;
    memset(&b, 0, sizeof b);
    shelf_strv_init(&b.levels);
    b.o = o;
    b.st = st;
    b.err = err;
    if (!root || !output) {
        rc = shelf_oom(err);
        goto out;
    }
    struct stat sb;
    if (stat(root, &sb) < 0 || !S_ISDIR(sb.st_mode)) {
        rc = SHELF_EIO;
        shelf_error_set(err, rc, NULL, root, 0, "%s is not a directory", root);
        goto out;
    }
    /* The output directory first: creating DIR/.shelf changes DIR's mtime,
     * which must happen before DIR is recorded. */
    char *outdir = shelf_path_dir(output);
    rc = outdir ? shelf_mkdir_p(outdir, 0755, 0, err) : shelf_oom(err);
    free(outdir);
    if (rc < 0)
        goto out;
    shelf_buf nb;
    shelf_buf_init(&nb);
    shelf_buf_addf(&nb, "%s.lock", output);
    lockname = shelf_buf_take(&nb);
    shelf_buf_addf(&nb, "%s.XXXXXX", output);
    tmp = shelf_buf_take(&nb);
    if (!lockname || !tmp) {
        rc = shelf_oom(err);
        goto out;
    }
    lockfd = open(lockname, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (lockfd < 0 || flock(lockfd, LOCK_EX) < 0) {
        rc = SHELF_EIO;
        shelf_error_set(err, rc, NULL, lockname, 0, "cannot lock %s: %s", lockname,
                        strerror(errno));
        goto out;
    }
    int fd = mkstemp(tmp);
    if (fd < 0) {
        rc = SHELF_EIO;
        shelf_error_set(err, rc, NULL, output, 0, "cannot write beside %s: %s", output,
                        strerror(errno));
        free(tmp);
        tmp = NULL;
        goto out;
    }
    close(fd);
    b.tmpfile = tmp;
    if (o->timestamp) {
        /* Created (never truncated) before the clock is read: its own
         * creation is not newer than the build. */
        stamp = ix_abs_dir(o->timestamp);
        if (!stamp) {
            rc = shelf_oom(err);
            goto out;
        }
        fd = open(stamp, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOCTTY, 0644);
        if (fd < 0) {
            rc = SHELF_EIO;
            shelf_error_set(err, rc, NULL, stamp, 0, "cannot create the timestamp file %s: %s",
                            stamp, strerror(errno));
            goto out;
        }
        close(fd);
        b.timestamp = stamp;
    }
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    b.started = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
    struct stat ss;
    if (stamp && stat(stamp, &ss) == 0 && ix_mtime_ns(&ss) > b.started)
        b.started = ix_mtime_ns(&ss); /* a clock behind the file system's */
    open_previous(&b, output);
    static char *const no_env[] = {NULL};
    rc = shelf_engine_open(&b.eng, o->env ? o->env : no_env, SHELF_SH_BASH, o->limits, err);
    b.eng_open = 1;
    if (rc == SHELF_ESTATE) { /* spider mode reads no module table */
        shelf_error_clear(err);
        rc = SHELF_OK;
    }
    if (rc < 0)
        goto out;
    if (sqlite3_open_v2(tmp, &b.db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        rc = ix_db_fail(b.db, err, tmp, "cannot write");
        goto out;
    }
    rc = build_all(&b, root);
    for (int i = 0; i < ST_COUNT; i++)
        sqlite3_finalize(b.ins[i]);
    memset(b.ins, 0, sizeof b.ins);
    if (sqlite3_close(b.db) != SQLITE_OK && rc == 0)
        rc = ix_db_fail(NULL, err, tmp, "cannot close");
    b.db = NULL;
    if (rc == 0) {
        fd = open(tmp, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || fchmod(fd, 0644) < 0) {
            rc = SHELF_EIO;
            shelf_error_set(err, rc, NULL, output, 0, "cannot write %s: %s", output,
                            strerror(errno));
            if (fd >= 0)
                close(fd);
        } else {
            rc = shelf_file_commit(fd, tmp, output, err);
        }
    }
out:
    if (tmp && rc != 0)
        unlink(tmp);
    sqlite3_close(b.db);
    sqlite3_finalize(b.reuse);
    sqlite3_close(b.old);
    if (b.eng_open)
        shelf_engine_close(&b.eng);
    shelf_strv_free(&b.levels);
    if (lockfd >= 0)
        close(lockfd); /* releases the lock */
    free(lockname);
    free(tmp);
    free(stamp);
    free(root);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    st->seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    if (rc == 0)
        st->output = output;
    else
        free(output);
    return rc;
}

