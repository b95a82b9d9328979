/*
 * index-read.c -- reading an index: opening it, checking that it still
 * matches the tree (shelf_index_fresh), and the queries behind avail,
 * spider, keyword and the catalog, as whole modules or as rows streamed
 * straight from sqlite. The tables are described in index.c.
 *
 * Invariants: an index is opened read-only and never trusted unless
 * shelf_index_fresh() said so; nothing here writes.
 */
#include "config.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "index-internal.h"
#include "shelf.h"
#include "shelf-internal.h"

/* ---- reading ------------------------------------------------------------------ */

struct shelf_index {
    sqlite3 *db;
    char *file;
    char *root;
    sqlite3_stmt *level_path; /* SELECT path FROM levels WHERE id=? */
    sqlite3_stmt *sn_levels;  /* shelf_index_sn_levels, prepared on first use */
    char *want_key;           /* the words the temp.want table holds sns for */
    char *kw_key;             /* the words the temp.kwhit table holds ids for */
    char *timestamp;          /* the admin's timestamp file, or NULL */
    int64_t started;          /* when the build started (ns) */
};

int shelf_index_open(const char *file, shelf_index **out, shelf_error *err)
{
    *out = NULL;
    struct stat sb;
    if (stat(file, &sb) < 0) {
        shelf_error_set(err, SHELF_ENOTFOUND, NULL, file, 0, "no index at %s", file);
        return SHELF_ENOTFOUND;
    }
    shelf_index *ix = calloc(1, sizeof *ix);
    if (!ix || !(ix->file = strdup(file))) {
        free(ix);
        return shelf_oom(err);
    }
    int rc;
    /* One thread per connection: no mutexes. */
    if (sqlite3_open_v2(file, &ix->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) !=
        SQLITE_OK) {
        rc = ix_db_fail(ix->db, err, file, "cannot open");
        goto fail;
    }
    sqlite3_busy_timeout(ix->db, 0);
    rc = ix_meta_check(ix->db, file, &ix->root, err);
    if (rc < 0)
        goto fail;
    char *started = NULL;
    int mrc = ix_meta_get(ix->db, "timestamp", &ix->timestamp);
    if (mrc == SQLITE_OK)
        mrc = ix_meta_get(ix->db, "started", &started);
    ix->started = started ? strtoll(started, NULL, 10) : 0;
    free(started);
    if (mrc != SQLITE_OK) {
        rc = ix_db_fail(ix->db, err, file, "cannot read");
        goto fail;
    }
    if (sqlite3_prepare_v2(ix->db, "SELECT path FROM levels WHERE id=?1", -1,
                           &ix->level_path, NULL) != SQLITE_OK) {
        rc = ix_db_fail(ix->db, err, file, "cannot read");
        goto fail;
    }
    *out = ix;
    return SHELF_OK;
fail:
    shelf_index_close(ix);
    return rc;
}

void shelf_index_close(shelf_index *ix)
{
    if (!ix)
        return;
    sqlite3_finalize(ix->level_path);
    sqlite3_finalize(ix->sn_levels);
    sqlite3_close(ix->db);
    free(ix->file);
    free(ix->root);
    free(ix->want_key);
    free(ix->kw_key);
    free(ix->timestamp);
    free(ix);
}

const char *shelf_index_file(const shelf_index *ix)
{
    return ix->file;
}

const char *shelf_index_timestamp(const shelf_index *ix)
{
    return ix->timestamp;
}

long shelf_index_level(shelf_index *ix, const char *path)
{
    sqlite3_stmt *st = NULL;
    long id = -2;
    if (sqlite3_prepare_v2(ix->db, "SELECT id FROM levels WHERE path=?1", -1, &st, NULL) ==
            SQLITE_OK &&
        sqlite3_bind_text(st, 1, path, -1, SQLITE_STATIC) == SQLITE_OK) {
        int rc = sqlite3_step(st);
        id = rc == SQLITE_ROW ? (long)sqlite3_column_int64(st, 0) : rc == SQLITE_DONE ? -1 : -2;
    }
    sqlite3_finalize(st);
    return id;
}

/* Appends "level IN (l1,l2,...) AND " (nothing when n == 0). */
static void level_clause(shelf_buf *sql, const long *levels, size_t n)
{
    if (n == 0)
        return;
    shelf_buf_adds(sql, "level IN (");
    for (size_t i = 0; i < n; i++)
        shelf_buf_addf(sql, "%s%ld", i ? "," : "", levels[i]);
    shelf_buf_adds(sql, ") AND ");
}

static int fill_want(shelf_index *ix, char *const *words, size_t n, shelf_error *err);
static int level_path(shelf_index *ix, long level, char **out, shelf_error *err);

/* Compares recorded rows (level, path, mtime[, size]) with the tree; 1
 * fresh, 0 stale, <0. Paths are relative to their level's root (dirs) or
 * absolute under it (markers, with a size, checked with lstat): both are
 * looked up from an O_PATH descriptor of the level root, so each stat
 * walks one or two components. No allocation per row. */
static int rows_fresh(shelf_index *ix, const char *sql, int markers, char **why)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(ix->db, sql, -1, &st, NULL) != SQLITE_OK) {
        sqlite3_finalize(st);
        return SHELF_EIO;
    }
    int fresh = 1, rc, fd = -1;
    long fd_level = -1;
    char *root = NULL;
    size_t rootlen = 0;
    while (fresh && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        long level = (long)sqlite3_column_int64(st, 0);
        const char *rel = (const char *)sqlite3_column_text(st, 1);
        sqlite3_int64 want = sqlite3_column_int64(st, 2);
        if (level != fd_level) {
            if (fd >= 0)
                close(fd);
            free(root);
            root = NULL;
            fd_level = level;
            if (level_path(ix, level, &root, NULL) < 0) {
                rc = SQLITE_NOMEM;
                break;
            }
            rootlen = strlen(root);
            fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_PATH);
        }
        const char *look = rel ? rel : "";
        if (markers && strncmp(look, root, rootlen) == 0 && look[rootlen] == '/')
            look += rootlen + 1;
        struct stat sb;
        int got = -1;
        if (rel && (look[0] == '/' || fd >= 0))
            got = fstatat(fd, look[0] ? look : ".", &sb, markers ? AT_SYMLINK_NOFOLLOW : 0);
        int same = markers ? got == 0 && ix_mtime_ns(&sb) == want &&
                                 (sqlite3_int64)sb.st_size == sqlite3_column_int64(st, 3)
                           : (got < 0 ? want < 0 : (want >= 0 && ix_mtime_ns(&sb) == want));
        if (!same) {
            fresh = 0;
            if (why) {
                shelf_buf b;
                shelf_buf_init(&b);
                if (!markers) {
                    shelf_buf_adds(&b, root);
                    if (rel && rel[0])
                        shelf_buf_addc(&b, '/');
                }
                shelf_buf_adds(&b, rel ? rel : "");
                *why = shelf_buf_take(&b);
            }
        }
    }
    if (fd >= 0)
        close(fd);
    free(root);
    sqlite3_finalize(st);
    if (!fresh)
        return 0;
    return rc == SQLITE_DONE ? 1 : rc == SQLITE_NOMEM ? SHELF_ENOMEM : SHELF_EIO;
}

/* The timestamp file of a --timestamp index: 1 while it exists and is not
 * newer than the start of the build, else 0 (*why names it). */
static int stamp_fresh(const shelf_index *ix, char **why)
{
    struct stat sb;
    if (stat(ix->timestamp, &sb) == 0 && ix_mtime_ns(&sb) <= ix->started)
        return 1;
    if (why)
        *why = strdup(ix->timestamp);
    return 0;
}

/*
 * The freshness check: one stat per recorded directory (relative to its
 * level's root) and one lstat per recorded marker file; no file is read
 * and no directory listed. Adding or removing a modulefile or a version
 * directory changes the mtime of the directory holding it; editing a
 * .modulerc.lua/.version in place changes the marker's own mtime. (A
 * modulefile edited in place, keeping its directory, is not seen: `shelf
 * index` re-reads it by its size and mtime.)
 *
 * With a timestamp file (`shelf index --timestamp FILE`), as Lmod's system
 * cache: one stat of FILE, one of each level root and the markers directly
 * in it. Packages added or removed at a level root are seen; versions
 * added inside a package directory only once FILE is touched.
 *
 * Measured on the 2-core build machine, warm cache, generated tree of
 * 67,503 modulefiles (10,000 packages, 3 levels deep, 10 MODULEPATH
 * directories, 22,518 directories, 6,561 markers): every level (keyword,
 * `shelf index --check`) about 40 ms, the three levels of avail with a
 * compiler and an MPI loaded (10,300 directories and markers) about 15 ms,
 * spider NAME's narrowed check (a few dozen directories) well under 1 ms;
 * with a timestamp file, under 0.2 ms for any command. Reading the tree
 * instead costs 410 ms for `avail -t`, 2.3 s for keyword and 5.8 s for
 * spider NAME (scan and evaluation of every modulefile).
 */
shelf_index_check shelf_index_check_from(const char *word)
{
    return word && strcmp(word, "dirs") == 0 ? SHELF_INDEX_CHECK_DIRS : SHELF_INDEX_CHECK_AUTO;
}

int shelf_index_fresh(shelf_index *ix, shelf_index_check check, const long *levels, size_t n,
                      char *const *words, size_t nwords, char **why)
{
    if (why)
        *why = NULL;
    int stamp = ix->timestamp && check != SHELF_INDEX_CHECK_DIRS;
    if (stamp && !stamp_fresh(ix, why))
        return 0;
    shelf_buf sql;
    shelf_buf_init(&sql);
    shelf_buf_adds(&sql, "SELECT level, rel, mtime FROM dirs WHERE ");
    level_clause(&sql, levels, n);
    if (stamp) {
        shelf_buf_adds(&sql, "rel='' AND ");
    } else if (nwords) {
        shelf_error err = {0};
        int rc = fill_want(ix, words, nwords, &err);
        shelf_error_clear(&err);
        if (rc < 0) {
            shelf_buf_free(&sql);
            return rc;
        }
        shelf_buf_adds(&sql, "(sn IS NULL OR sn IN (SELECT sn FROM temp.want) OR sn IN"
                             " (SELECT m.sn FROM edges e JOIN modules m ON m.id=e.module)) AND ");
    }
    shelf_buf_adds(&sql, "1 ORDER BY level");
    int fresh = shelf_buf_ok(&sql) < 0 ? SHELF_ENOMEM : rows_fresh(ix, sql.data, 0, why);
    shelf_buf_free(&sql);
    if (fresh <= 0)
        return fresh;
    shelf_buf_init(&sql);
    shelf_buf_adds(&sql, "SELECT m.level, m.path, m.mtime, m.size FROM markers m WHERE ");
    for (size_t i = 0; i < n; i++)
        shelf_buf_addf(&sql, "%sm.level=%ld%s", i ? " OR " : "(", levels[i],
                       i + 1 == n ? ") AND " : "");
    if (stamp)
        shelf_buf_adds(&sql, "m.top=1 AND ");
    shelf_buf_adds(&sql, "1 ORDER BY m.level");
    fresh = shelf_buf_ok(&sql) < 0 ? SHELF_ENOMEM : rows_fresh(ix, sql.data, 1, why);
    shelf_buf_free(&sql);
    return fresh;
}

void shelf_index_mod_free(shelf_index_mod *m)
{
    shelf_modfile_free(&m->mf);
    shelf_spider_rec_free(&m->rec);
    free(m->broken);
    memset(m, 0, sizeof *m);
    shelf_spider_rec_init(&m->rec);
}

static int read_fail(shelf_index *ix, shelf_error *err)
{
    return ix_db_fail(ix->db, err, ix->file, "cannot read");
}

/* A LIKE pattern matching strings that contain word ("\" escapes). */
static char *like_pattern(const char *word)
{
    shelf_buf b;
    shelf_buf_init(&b);
    shelf_buf_addc(&b, '%');
    for (const char *p = word; *p; p++) {
        if (*p == '%' || *p == '_' || *p == '\\')
            shelf_buf_addc(&b, '\\');
        shelf_buf_addc(&b, *p);
    }
    shelf_buf_addc(&b, '%');
    return shelf_buf_take(&b);
}

/* An FTS5 query matching text that contains any of words[0..n) (a superset,
 * folding case as sqlite does), or NULL when a word is shorter than the
 * three characters a trigram needs (the caller then scans) or on OOM
 * (*oom set). */
static char *trigram_query(char *const *words, size_t n, int *oom)
{
    shelf_buf b;
    shelf_buf_init(&b);
    for (size_t i = 0; i < n; i++) {
        size_t chars = 0;
        for (const unsigned char *p = (const unsigned char *)words[i]; *p; p++)
            chars += (*p & 0xC0) != 0x80;
        if (chars < 3) {
            shelf_buf_free(&b);
            return NULL;
        }
        shelf_buf_adds(&b, i ? " OR \"" : "\"");
        for (const char *p = words[i]; *p; p++) {
            if (*p == '"')
                shelf_buf_addc(&b, '"');
            shelf_buf_addc(&b, *p);
        }
        shelf_buf_addc(&b, '"');
    }
    char *q = n ? shelf_buf_take(&b) : NULL;
    if (n && !q)
        *oom = 1;
    shelf_buf_free(&b);
    return q;
}

/* Fills temp.want with the short names of the modules whose full name
 * contains one of words (once per set of words). */
static int fill_want(shelf_index *ix, char *const *words, size_t n, shelf_error *err)
{
    shelf_buf key;
    shelf_buf_init(&key);
    for (size_t i = 0; i < n; i++) {
        shelf_buf_adds(&key, words[i]);
        shelf_buf_addc(&key, '\x1f');
    }
    if (shelf_buf_ok(&key) < 0) {
        shelf_buf_free(&key);
        return SHELF_ENOMEM;
    }
    if (ix->want_key && key.data && strcmp(ix->want_key, key.data) == 0) {
        shelf_buf_free(&key);
        return SHELF_OK;
    }
    free(ix->want_key);
    ix->want_key = NULL;
    if (sqlite3_exec(ix->db, "CREATE TEMP TABLE IF NOT EXISTS want(sn TEXT PRIMARY KEY);"
                             "DELETE FROM temp.want", NULL, NULL, NULL) != SQLITE_OK) {
        shelf_buf_free(&key);
        return read_fail(ix, err);
    }
    sqlite3_stmt *st = NULL;
    int rc = SHELF_OK, nomem = 0;
    char *fts = trigram_query(words, n, &nomem);
    if (nomem)
        rc = SHELF_ENOMEM;
    else if (sqlite3_prepare_v2(ix->db, fts ? "INSERT OR IGNORE INTO temp.want SELECT sn FROM"
                                              " modules WHERE id IN (SELECT rowid FROM"
                                              " namesearch WHERE namesearch MATCH ?2) AND"
                                              " fullname LIKE ?1 ESCAPE '\\'"
                                            : "INSERT OR IGNORE INTO temp.want SELECT sn FROM"
                                              " modules WHERE fullname LIKE ?1 ESCAPE '\\'",
                                -1, &st, NULL) != SQLITE_OK)
        rc = read_fail(ix, err);
    if (rc == 0 && fts)
        sqlite3_bind_text(st, 2, fts, -1, SQLITE_STATIC);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        char *pat = like_pattern(words[i]);
        if (!pat) {
            rc = SHELF_ENOMEM;
            break;
        }
        sqlite3_bind_text(st, 1, pat, -1, free);
        if (sqlite3_step(st) != SQLITE_DONE)
            rc = read_fail(ix, err);
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    free(fts);
    if (rc == 0)
        ix->want_key = shelf_buf_take(&key);
    shelf_buf_free(&key);
    return rc;
}

/* Fills temp.kwhit (once per set of words) with the ids of the modules
 * whose keyword text may contain a word, from the trigram query fts. */
static int fill_kwhit(shelf_index *ix, const char *fts, shelf_error *err)
{
    if (ix->kw_key && strcmp(ix->kw_key, fts) == 0)
        return SHELF_OK;
    free(ix->kw_key);
    ix->kw_key = NULL;
    if (sqlite3_exec(ix->db, "CREATE TEMP TABLE IF NOT EXISTS kwhit(level INTEGER, seq INTEGER,"
                             " id INTEGER, PRIMARY KEY(level, seq)) WITHOUT ROWID;"
                             "DELETE FROM temp.kwhit", NULL, NULL, NULL) != SQLITE_OK)
        return read_fail(ix, err);
    sqlite3_stmt *st = NULL;
    int rc = SHELF_OK;
    if (sqlite3_prepare_v2(ix->db, "INSERT OR IGNORE INTO temp.kwhit SELECT level, seq, id FROM"
                                   " modules WHERE id IN (SELECT rowid FROM kwsearch WHERE"
                                   " kwsearch MATCH ?1)", -1, &st, NULL) != SQLITE_OK ||
        sqlite3_bind_text(st, 1, fts, -1, SQLITE_STATIC) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_DONE)
        rc = read_fail(ix, err);
    sqlite3_finalize(st);
    if (rc == 0 && !(ix->kw_key = strdup(fts)))
        rc = SHELF_ENOMEM;
    return rc;
}

/* The path of level into *out (a new string). */
static int level_path(shelf_index *ix, long level, char **out, shelf_error *err)
{
    sqlite3_stmt *st = ix->level_path;
    sqlite3_bind_int64(st, 1, level);
    int rc = sqlite3_step(st);
    int oom = 0;
    *out = rc == SQLITE_ROW ? ix_col_dup(st, 0, &oom) : NULL;
    sqlite3_reset(st);
    if (oom)
        return SHELF_ENOMEM;
    if (!*out)
        return err ? read_fail(ix, err) : SHELF_EIO;
    return SHELF_OK;
}

int shelf_index_query(shelf_index *ix, long level, shelf_index_filter filter,
                      char *const *words, size_t n, unsigned what,
                      int (*cb)(void *ud, shelf_index_mod *m), void *ud,
                      shelf_error *err)
{
    char *mpath = NULL;
    int rc = level_path(ix, level, &mpath, err);
    if (rc < 0)
        return rc;
    if (filter == SHELF_IXF_NAMES)
        rc = fill_want(ix, words, n, err);
    shelf_buf sql;
    shelf_buf_init(&sql);
    shelf_buf_adds(&sql, "SELECT sn, version, fullname, file, hidden, is_default,"
                         " marked_default, is_tcl, level_default, broken, ");
    shelf_buf_adds(&sql, what & SHELF_IX_META ? "description, category, keywords, url,"
                                                " family, props, deps, "
                                              : "NULL, NULL, NULL, NULL, NULL, NULL, NULL, ");
    shelf_buf_adds(&sql, what & SHELF_IX_WHATIS ? "whatis, " : "NULL, ");
    shelf_buf_adds(&sql, what & SHELF_IX_HELP ? "(SELECT text FROM helps h WHERE h.id=m.id), "
                                              : "NULL, ");
    shelf_buf_adds(&sql, what & SHELF_IX_OPENS ? "opens" : "NULL");
    int nomem = 0;
    char *fts = filter == SHELF_IXF_KEYWORDS ? trigram_query(words, n, &nomem) : NULL;
    if (nomem && rc == 0)
        rc = SHELF_ENOMEM;
    if (fts && rc == 0)
        rc = fill_kwhit(ix, fts, err);
    /* Keyword candidates: only their rows are read, by id, in scan order. */
    shelf_buf_adds(&sql, fts ? " FROM temp.kwhit k CROSS JOIN modules m ON m.id=k.id"
                               " WHERE k.level=?1"
                             : " FROM modules m WHERE level=?1");
    if (filter == SHELF_IXF_NAMES)
        shelf_buf_adds(&sql, " AND sn IN (SELECT sn FROM temp.want)");
    if (filter == SHELF_IXF_KEYWORDS && !fts) {
        shelf_buf_adds(&sql, " AND (0");
        for (size_t i = 0; i < n; i++)
            shelf_buf_addf(&sql, " OR sn LIKE ?%zu ESCAPE '\\' OR whatis LIKE ?%zu ESCAPE '\\'"
                                 " OR props LIKE ?%zu ESCAPE '\\'",
                           i + 2, i + 2, i + 2);
        shelf_buf_adds(&sql, ")");
    }
    shelf_buf_adds(&sql, fts ? " ORDER BY k.seq" : " ORDER BY seq");
    sqlite3_stmt *st = NULL;
    if (rc == 0 && shelf_buf_ok(&sql) < 0)
        rc = SHELF_ENOMEM;
    if (rc == 0 && sqlite3_prepare_v2(ix->db, sql.data, -1, &st, NULL) != SQLITE_OK)
        rc = read_fail(ix, err);
    shelf_buf_free(&sql);
    if (rc == 0)
        sqlite3_bind_int64(st, 1, level);
    for (size_t i = 0; rc == 0 && filter == SHELF_IXF_KEYWORDS && !fts && i < n; i++) {
        char *pat = like_pattern(words[i]);
        if (!pat)
            rc = SHELF_ENOMEM;
        else
            sqlite3_bind_text(st, (int)i + 2, pat, -1, free);
    }
    int step = SQLITE_DONE;
    while (rc == 0 && (step = sqlite3_step(st)) == SQLITE_ROW) {
        shelf_index_mod m;
        memset(&m, 0, sizeof m);
        shelf_spider_rec_init(&m.rec);
        int oom = 0;
        m.mf.sn = ix_col_dup(st, 0, &oom);
        m.mf.version = ix_col_dup(st, 1, &oom);
        m.mf.fullname = ix_col_dup(st, 2, &oom);
        m.mf.path = ix_col_dup(st, 3, &oom);
        m.mf.mpath = strdup(mpath);
        oom |= !m.mf.sn || !m.mf.version || !m.mf.fullname || !m.mf.path || !m.mf.mpath;
        m.mf.hidden = sqlite3_column_int(st, 4) != 0;
        m.mf.is_default = sqlite3_column_int(st, 5) != 0;
        m.mf.marked_default = sqlite3_column_int(st, 6) != 0;
        m.mf.is_tcl = sqlite3_column_int(st, 7) != 0;
        m.level_default = sqlite3_column_int(st, 8) != 0;
        m.broken = ix_col_dup(st, 9, &oom);
        m.rec.description = ix_col_dup(st, 10, &oom);
        m.rec.category = ix_col_dup(st, 11, &oom);
        m.rec.keywords = ix_col_dup(st, 12, &oom);
        m.rec.url = ix_col_dup(st, 13, &oom);
        m.rec.family = ix_col_dup(st, 14, &oom);
        if (ix_col_list(st, 15, &m.rec.props) < 0 || ix_col_list(st, 16, &m.rec.deps) < 0 ||
            ix_col_list(st, 17, &m.rec.whatis) < 0 || ix_col_list(st, 19, &m.rec.opens) < 0)
            oom = 1;
        m.rec.help = ix_col_dup(st, 18, &oom);
        if (oom) {
            shelf_index_mod_free(&m);
            rc = SHELF_ENOMEM;
            break;
        }
        rc = cb(ud, &m);
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = read_fail(ix, err);
    if (rc == SHELF_ENOMEM && err->code == SHELF_OK)
        shelf_error_set(err, rc, NULL, NULL, 0, "out of memory");
    sqlite3_finalize(st);
    free(fts);
    free(mpath);
    return rc;
}

/* Runs sql (binding ?1 to level when level >= 0) and hands each row's two
 * text columns to cb. */
static int each_pair(shelf_index *ix, const char *sql, long level,
                     int (*cb)(void *ud, const char *a, const char *b), void *ud,
                     shelf_error *err)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(ix->db, sql, -1, &st, NULL) != SQLITE_OK) {
        sqlite3_finalize(st);
        return read_fail(ix, err);
    }
    if (level >= 0)
        sqlite3_bind_int64(st, 1, level);
    int rc = SHELF_OK, step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *a = (const char *)sqlite3_column_text(st, 0);
        const char *b = (const char *)sqlite3_column_text(st, 1);
        rc = cb(ud, a ? a : "", b ? b : "");
        if (rc != 0)
            break;
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = read_fail(ix, err);
    sqlite3_finalize(st);
    return rc;
}

int shelf_index_edges(shelf_index *ix, long level,
                      int (*cb)(void *ud, const char *fullname, const char *opened),
                      void *ud, shelf_error *err)
{
    return each_pair(ix, "SELECT fullname, path FROM edges WHERE level=?1 ORDER BY mseq, seq",
                     level, cb, ud, err);
}

int shelf_index_aliases(shelf_index *ix, long level,
                        int (*cb)(void *ud, const char *name, const char *target),
                        void *ud, shelf_error *err)
{
    return each_pair(ix, "SELECT name, target FROM aliases WHERE level=?1 ORDER BY seq",
                     level, cb, ud, err);
}

int shelf_index_broken(shelf_index *ix,
                       int (*cb)(void *ud, const char *file, const char *message),
                       void *ud, shelf_error *err)
{
    return each_pair(ix, "SELECT file, broken FROM modules WHERE broken IS NOT NULL"
                         " ORDER BY level, seq", -1, cb, ud, err);
}

static int push_name(void *ud, const char *a, const char *b)
{
    (void)b;
    return shelf_strv_push(ud, a);
}

int shelf_index_rc_names(shelf_index *ix, long level, shelf_strv *out, shelf_error *err)
{
    return each_pair(ix, "SELECT name, '' FROM rcnames WHERE level=?1", level, push_name,
                     out, err);
}

/* Rows of a trigram search, held until sorted: the search yields them in
 * id order, and sorting a few thousand small copies in C costs a fraction
 * of sqlite's sorter on rows with their whatis text. */
typedef struct held_row {
    long sorder;
    shelf_index_row r;
    char text[]; /* the row's strings */
} held_row;

typedef struct held_rows {
    held_row **v;
    size_t n, cap;
} held_rows;

static const char *hold_str(char **p, const char *s)
{
    if (!s)
        return NULL;
    size_t len = strlen(s) + 1;
    char *d = memcpy(*p, s, len);
    *p += len;
    return d;
}

static int hold_row(held_rows *h, const shelf_index_row *r, long sorder)
{
    const char *f[] = {r->sn, r->version, r->fullname, r->file, r->description,
                       r->category, r->keywords, r->props, r->whatis};
    size_t size = 0;
    for (size_t i = 0; i < sizeof f / sizeof *f; i++)
        size += f[i] ? strlen(f[i]) + 1 : 0;
    if (SHELF_GROW(h->v, h->cap, h->n + 1) < 0)
        return SHELF_ENOMEM;
    held_row *c = malloc(sizeof *c + size);
    if (!c)
        return SHELF_ENOMEM;
    char *p = c->text;
    c->sorder = sorder;
    c->r = *r;
    c->r.sn = hold_str(&p, r->sn);
    c->r.version = hold_str(&p, r->version);
    c->r.fullname = hold_str(&p, r->fullname);
    c->r.file = hold_str(&p, r->file);
    c->r.description = hold_str(&p, r->description);
    c->r.category = hold_str(&p, r->category);
    c->r.keywords = hold_str(&p, r->keywords);
    c->r.props = hold_str(&p, r->props);
    c->r.whatis = hold_str(&p, r->whatis);
    h->v[h->n++] = c;
    return 0;
}

static int held_cmp(const void *a, const void *b)
{
    const held_row *x = *(held_row *const *)a, *y = *(held_row *const *)b;
    return (x->sorder > y->sorder) - (x->sorder < y->sorder);
}

static void held_free(held_rows *h)
{
    for (size_t i = 0; i < h->n; i++)
        free(h->v[i]);
    free(h->v);
}

/* Steps st (bound by the caller) and hands each row to cb as a
 * shelf_index_row: columns level, sn, version, fullname, file, hidden,
 * level_default, description, category, keywords, props, whatis. With
 * `sorted`, column 12 is a sort key: the rows are held, sorted by it, and
 * then handed to cb. */
static int each_row(shelf_index *ix, sqlite3_stmt *st, int sorted,
                    int (*cb)(void *ud, const shelf_index_row *r), void *ud, shelf_error *err)
{
    held_rows h = {NULL, 0, 0};
    int rc = SHELF_OK, step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        shelf_index_row r;
        r.level = (long)sqlite3_column_int64(st, 0);
        r.sn = (const char *)sqlite3_column_text(st, 1);
        r.version = (const char *)sqlite3_column_text(st, 2);
        r.fullname = (const char *)sqlite3_column_text(st, 3);
        r.file = (const char *)sqlite3_column_text(st, 4);
        r.hidden = sqlite3_column_int(st, 5) != 0;
        r.level_default = sqlite3_column_int(st, 6) != 0;
        r.description = (const char *)sqlite3_column_text(st, 7);
        r.category = (const char *)sqlite3_column_text(st, 8);
        r.keywords = (const char *)sqlite3_column_text(st, 9);
        r.props = (const char *)sqlite3_column_text(st, 10);
        r.whatis = (const char *)sqlite3_column_text(st, 11);
        if (!r.sn || !r.version || !r.fullname || !r.file) {
            if (sqlite3_errcode(ix->db) == SQLITE_NOMEM) {
                rc = SHELF_ENOMEM;
                break;
            }
            continue; /* NOT NULL columns: only a damaged file */
        }
        if (!sorted) {
            rc = cb(ud, &r);
        } else if ((rc = hold_row(&h, &r, (long)sqlite3_column_int64(st, 12))) != 0) {
            shelf_oom(err);
        }
        if (rc != 0)
            break;
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = read_fail(ix, err);
    if (rc == 0 && sorted) {
        qsort(h.v, h.n, sizeof *h.v, held_cmp);
        for (size_t i = 0; rc == 0 && i < h.n; i++)
            rc = cb(ud, &h.v[i]->r);
    }
    held_free(&h);
    return rc;
}

/* The column list of each_row for `what`, appended to sql. */
static void row_columns(shelf_buf *sql, unsigned what)
{
    shelf_buf_adds(sql, "SELECT level, sn, version, fullname, file, hidden, level_default, ");
    shelf_buf_adds(sql, what & (SHELF_IX_META | SHELF_IX_DESC) ? "description, " : "NULL, ");
    shelf_buf_adds(sql, what & SHELF_IX_META ? "category, keywords, props, " : "NULL, NULL, NULL, ");
    shelf_buf_adds(sql, what & SHELF_IX_WHATIS ? "whatis" : "NULL");
}

int shelf_index_level_rows(shelf_index *ix, long level, unsigned what,
                           int (*cb)(void *ud, const shelf_index_row *r), void *ud,
                           shelf_error *err)
{
    shelf_buf sql;
    shelf_buf_init(&sql);
    row_columns(&sql, what);
    shelf_buf_adds(&sql, " FROM modules WHERE level=?1 ORDER BY seq");
    if (shelf_buf_ok(&sql) < 0) {
        shelf_buf_free(&sql);
        return shelf_oom(err);
    }
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(ix->db, sql.data, -1, &st, NULL) == SQLITE_OK
                 ? SHELF_OK
                 : read_fail(ix, err);
    shelf_buf_free(&sql);
    if (rc == 0) {
        sqlite3_bind_int64(st, 1, level);
        rc = each_row(ix, st, 0, cb, ud, err);
    }
    sqlite3_finalize(st);
    return rc;
}

int shelf_index_sorted_rows(shelf_index *ix, const long *levels, size_t n,
                            shelf_index_filter filter, char *const *words, size_t nwords,
                            unsigned what, int (*cb)(void *ud, const shelf_index_row *r),
                            void *ud, shelf_error *err)
{
    int nomem = 0;
    char *fts = filter == SHELF_IXF_KEYWORDS ? trigram_query(words, nwords, &nomem) : NULL;
    shelf_buf sql;
    shelf_buf_init(&sql);
    row_columns(&sql, what);
    /* The candidates of a trigram search are few and come in id order: they
     * are sorted in C (each_row). Else the sorder index gives the
     * order without sorting. */
    shelf_buf_adds(&sql, fts ? ", sorder FROM kwsearch CROSS JOIN modules ON id=kwsearch.rowid"
                               " WHERE kwsearch MATCH ?1 AND "
                             : " FROM modules WHERE ");
    /* "+level": never the level index, which would need a sort. */
    if (n)
        shelf_buf_adds(&sql, "+");
    level_clause(&sql, levels, n);
    shelf_buf_adds(&sql, fts ? "1" : "1 ORDER BY sorder");
    int rc = SHELF_OK;
    if (nomem || shelf_buf_ok(&sql) < 0) {
        shelf_oom(err);
        rc = SHELF_ENOMEM;
    }
    sqlite3_stmt *st = NULL;
    if (rc == 0 && sqlite3_prepare_v2(ix->db, sql.data, -1, &st, NULL) != SQLITE_OK)
        rc = read_fail(ix, err);
    shelf_buf_free(&sql);
    if (rc == 0 && fts)
        sqlite3_bind_text(st, 1, fts, -1, SQLITE_STATIC);
    if (rc == 0)
        rc = each_row(ix, st, fts != NULL, cb, ud, err);
    sqlite3_finalize(st);
    free(fts);
    return rc;
}

int shelf_index_sn_levels(shelf_index *ix, const char *sn,
                          void (*cb)(void *ud, long level, int hidden), void *ud,
                          shelf_error *err)
{
    if (!ix->sn_levels && sqlite3_prepare_v2(ix->db, "SELECT level, hidden FROM modules"
                                                     " WHERE sn=?1", -1, &ix->sn_levels,
                                             NULL) != SQLITE_OK)
        return read_fail(ix, err);
    sqlite3_stmt *st = ix->sn_levels;
    sqlite3_bind_text(st, 1, sn, -1, SQLITE_STATIC);
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW)
        cb(ud, (long)sqlite3_column_int64(st, 0), sqlite3_column_int(st, 1) != 0);
    int rc = step == SQLITE_DONE ? SHELF_OK : read_fail(ix, err);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc;
}

/* each_pair's callback for shelf_index_all_edges: the level as text. */
typedef struct edge_fwd {
    int (*cb)(void *ud, long level, const char *opened);
    void *ud;
} edge_fwd;

static int edge_forward(void *ud, const char *level, const char *opened)
{
    edge_fwd *f = ud;
    return f->cb(f->ud, strtol(level, NULL, 10), opened);
}

int shelf_index_all_edges(shelf_index *ix,
                          int (*cb)(void *ud, long level, const char *opened), void *ud,
                          shelf_error *err)
{
    edge_fwd f = {cb, ud};
    return each_pair(ix, "SELECT DISTINCT level, path FROM edges ORDER BY level", -1,
                     edge_forward, &f, err);
}

long shelf_index_count(shelf_index *ix)
{
    sqlite3_stmt *st = NULL;
    long n = -1;
    if (sqlite3_prepare_v2(ix->db, "SELECT count(*) FROM modules", -1, &st, NULL) ==
            SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        n = (long)sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}
