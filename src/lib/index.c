/*
 * index.c -- the sqlite index of module trees: spider records, building an
 * index (`shelf index DIR`), checking that it still matches the tree, and
 * the queries behind avail, spider and keyword.
 *
 * One index file covers one root MODULEPATH directory and the levels its
 * modules open (Compiler/gcc/12, MPI/...), recursively. Tables (schema
 * SHELF_INDEX_SCHEMA):
 *
 *   meta(key, value)        schema, shelf_version, root, built (unix time),
 *                           started (ns, CLOCK_REALTIME, taken before
 *                           the walk) and, with --timestamp, timestamp (the
 *                           admin's file, absolute)
 *   levels(id, path, root)  MODULEPATH directories; root = 1 for the root
 *   dirs(path, level, mtime)      every directory walked under a level,
 *                                 mtime in ns (-1: the level did not exist)
 *   markers(path, level, mtime, size, top)  default, .modulerc.lua, .modulerc and
 *                                 .version files (lstat: links are markers)
 *   modules(id, level, seq, name, sn, version, fullname, file, size, mtime,
 *           hash, hidden, is_default, marked_default, is_tcl, level_default,
 *           broken, description, category, keywords, url, family,
 *           whatis, props, deps, opens, sorder)
 *                           one row per modulefile, seq = the order of the
 *                           tree scan; lists joined by "\x1e"; hash is
 *                           FNV-1a 64 of the file in hex; level_default = 1
 *                           for what the short name resolves to with this
 *                           level alone on MODULEPATH; broken = the error
 *                           of the spider evaluation; sorder = the rank
 *                           in spider's order (name, version, file), so
 *                           readers stream sorted lists without sorting
 *   helps(id, text)         help texts, out of the pages avail reads
 *   edges(module, level, mseq, seq, fullname, path)  module -> level it opens
 *   aliases(level, seq, name, target)   module_alias() of .modulerc files
 *   rcnames(level, name)    names the .modulerc/.version files mention
 *   kwsearch, namesearch    contentless FTS5 trigram tables (rowid = the
 *                           module's id) over the text keyword searches
 *                           (short name, whatis lines, properties) and over
 *                           the full names: substring candidates for words
 *                           of 3 characters or more, without reading the
 *                           text of every module
 *
 * Invariants: an index file is only ever replaced whole (temp file in the
 * same directory, fsync, rename) under an flock on OUTPUT.lock, so readers
 * see an old or a new index, never a mix; journal_mode is OFF (no WAL, no
 * side files). Readers open it read-only and trust it only while
 * shelf_index_fresh() says every recorded directory and marker is as it
 * was. libshelf never prints: progress goes through a callback.
 */
#include "config.h"

#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "index.h"
#include "shelf-internal.h"
#include "tree-internal.h"

#define LIST_SEP "\x1e"

/* ---- spider records ----------------------------------------------------- */

void shelf_spider_rec_init(shelf_spider_rec *r)
{
    memset(r, 0, sizeof *r);
    shelf_strv_init(&r->whatis);
    shelf_strv_init(&r->props);
    shelf_strv_init(&r->opens);
    shelf_strv_init(&r->deps);
}

void shelf_spider_rec_free(shelf_spider_rec *r)
{
    free(r->description);
    free(r->category);
    free(r->keywords);
    free(r->url);
    free(r->help);
    free(r->family);
    shelf_strv_free(&r->whatis);
    shelf_strv_free(&r->props);
    shelf_strv_free(&r->opens);
    shelf_strv_free(&r->deps);
    shelf_spider_rec_init(r);
}

char *shelf_dir_norm(const char *path)
{
    char *s = strdup(path), *w = s;
    if (!s)
        return NULL;
    for (const char *p = path; *p; p++)
        if (!(*p == '/' && p[1] == '/'))
            *w++ = *p;
    *w = '\0';
    while (w - s > 1 && w[-1] == '/')
        *--w = '\0';
    return s;
}

static int set_field(char **field, const char *value)
{
    char *v = strdup(value);
    if (!v)
        return SHELF_ENOMEM;
    free(*field);
    *field = v;
    return SHELF_OK;
}

/* Lmod's whatis keys: "Description: text" and friends. */
static int whatis_field(shelf_spider_rec *r, const char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t klen = strcspn(s, ": \t");
    const char *p = s + klen;
    while (*p == ' ' || *p == '\t')
        p++;
    if (klen == 0 || *p != ':')
        return SHELF_OK;
    p++;
    while (*p == ' ' || *p == '\t')
        p++;
    if (klen == 11 && strncmp(s, "Description", 11) == 0)
        return set_field(&r->description, p);
    if (klen == 8 && strncmp(s, "Category", 8) == 0)
        return set_field(&r->category, p);
    if ((klen == 8 && strncmp(s, "Keywords", 8) == 0) ||
        (klen == 7 && strncmp(s, "Keyword", 7) == 0))
        return set_field(&r->keywords, p);
    if (klen == 3 && strncmp(s, "URL", 3) == 0)
        return set_field(&r->url, p);
    return SHELF_OK;
}

int shelf_spider_collect(shelf_spider_rec *r, const shelf_mf_call *c)
{
    int rc = SHELF_OK;
    switch (c->fn) {
    case SHELF_FN_WHATIS:
        for (size_t i = 0; rc == 0 && i < c->args.n; i++) {
            rc = shelf_strv_push(&r->whatis, c->args.v[i]);
            if (rc == 0)
                rc = whatis_field(r, c->args.v[i]);
        }
        return rc;
    case SHELF_FN_HELP: {
        shelf_buf b;
        shelf_buf_init(&b);
        if (r->help)
            shelf_buf_adds(&b, r->help);
        for (size_t i = 0; i < c->args.n; i++)
            shelf_buf_adds(&b, c->args.v[i]);
        char *h = shelf_buf_take(&b);
        if (!h)
            return SHELF_ENOMEM;
        free(r->help);
        r->help = h;
        return SHELF_OK;
    }
    case SHELF_FN_ADD_PROPERTY:
    case SHELF_FN_REMOVE_PROPERTY: {
        if (c->args.n < 2)
            return SHELF_OK;
        shelf_buf b;
        shelf_buf_init(&b);
        shelf_buf_addf(&b, "%s=%s", c->args.v[0], c->args.v[1]);
        char *kv = shelf_buf_take(&b);
        if (!kv)
            return SHELF_ENOMEM;
        long at = shelf_strv_find(&r->props, kv);
        if (c->fn == SHELF_FN_ADD_PROPERTY && at < 0)
            rc = shelf_strv_push(&r->props, kv);
        else if (c->fn == SHELF_FN_REMOVE_PROPERTY && at >= 0)
            shelf_strv_remove(&r->props, (size_t)at);
        free(kv);
        return rc;
    }
    case SHELF_FN_FAMILY:
        return c->args.n ? set_field(&r->family, c->args.v[0]) : SHELF_OK;
    case SHELF_FN_LOAD:
    case SHELF_FN_TRY_LOAD:
    case SHELF_FN_ALWAYS_LOAD:
    case SHELF_FN_DEPENDS_ON:
    case SHELF_FN_PREREQ:
    case SHELF_FN_PREREQ_ANY:
        for (size_t i = 0; rc == 0 && i < c->args.n; i++)
            if (shelf_strv_find(&r->deps, c->args.v[i]) < 0)
                rc = shelf_strv_push(&r->deps, c->args.v[i]);
        return rc;
    case SHELF_FN_PREPEND_PATH:
    case SHELF_FN_APPEND_PATH:
        if (c->args.n >= 2 && strcmp(c->args.v[0], "MODULEPATH") == 0) {
            shelf_strv items;
            shelf_strv_init(&items);
            rc = shelf_strv_split(&items, c->args.v[1], c->delim ? c->delim : ":", 0);
            for (size_t i = 0; rc == 0 && i < items.n; i++) {
                char *d = shelf_dir_norm(items.v[i]);
                if (!d)
                    rc = SHELF_ENOMEM;
                else if (shelf_strv_find(&r->opens, d) < 0)
                    rc = shelf_strv_push_owned(&r->opens, d);
                else
                    free(d);
            }
            shelf_strv_free(&items);
        }
        return rc;
    default:
        return SHELF_OK;
    }
}

/* ---- paths ---------------------------------------------------------------- */

/* FNV-1a, 64 bits: a fast hash for file contents and cache names. */
static uint64_t fnv1a(uint64_t h, const void *data, size_t n)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 1099511628211ULL;
    }
    return h;
}
#define FNV_INIT 14695981039346656037ULL

/* dir made absolute (against the working directory) and normalized. */
static char *abs_dir(const char *dir)
{
    char *joined = shelf_path_absolute(dir);
    char *n = joined ? shelf_dir_norm(joined) : NULL;
    free(joined);
    return n;
}

static char *cache_path(const char *absdir)
{
    shelf_buf b;
    shelf_buf_init(&b);
    const char *xdg = getenv("XDG_CACHE_HOME");
    if (xdg && xdg[0] == '/') {
        shelf_buf_adds(&b, xdg);
    } else {
        const char *home = getenv("HOME");
        shelf_buf_adds(&b, home && *home ? home : "/tmp");
        shelf_buf_adds(&b, "/.cache");
    }
    shelf_buf_addf(&b, "/shelf/index-%016llx.db",
                   (unsigned long long)fnv1a(FNV_INIT, absdir, strlen(absdir)));
    return shelf_buf_take(&b);
}

int shelf_index_locations(const char *dir, shelf_strv *out)
{
    char *absdir = abs_dir(dir);
    char *own = absdir ? shelf_path_join(absdir, ".shelf/index.db") : NULL;
    char *cache = absdir ? cache_path(absdir) : NULL;
    int rc = own && cache ? SHELF_OK : SHELF_ENOMEM;
    if (rc == 0 && (rc = shelf_strv_push_owned(out, own)) == 0)
        own = NULL;
    if (rc == 0 && (rc = shelf_strv_push_owned(out, cache)) == 0)
        cache = NULL;
    free(own);
    free(cache);
    free(absdir);
    return rc;
}

char *shelf_index_default_path(const char *dir)
{
    char *absdir = abs_dir(dir);
    if (!absdir)
        return NULL;
    char *p = access(absdir, W_OK) == 0 ? shelf_path_join(absdir, ".shelf/index.db")
                                        : cache_path(absdir);
    free(absdir);
    return p;
}

/* mkdir -p of the directory holding file; 0 or -1 (errno set). */
static int make_parents(const char *file)
{
    char *d = strdup(file);
    if (!d) {
        errno = ENOMEM;
        return -1;
    }
    char *slash = strrchr(d, '/');
    if (slash && slash != d) {
        *slash = '\0';
        for (char *p = d + 1; *p; p++)
            if (*p == '/') {
                *p = '\0';
                if (mkdir(d, 0755) < 0 && errno != EEXIST) {
                    free(d);
                    return -1;
                }
                *p = '/';
            }
        if (mkdir(d, 0755) < 0 && errno != EEXIST) {
            free(d);
            return -1;
        }
    }
    free(d);
    return 0;
}

static int64_t mtime_ns(const struct stat *st)
{
    return (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
}

/* ---- sqlite helpers ------------------------------------------------------- */

static int db_fail(sqlite3 *db, shelf_error *err, const char *file, const char *what)
{
    int code = db ? sqlite3_errcode(db) : SQLITE_NOMEM;
    if (code == SQLITE_NOMEM) {
        shelf_error_set(err, SHELF_ENOMEM, NULL, file, 0, "out of memory");
        return SHELF_ENOMEM;
    }
    shelf_error_set(err, SHELF_EIO, NULL, file, 0, "%s %s: %s", what, file,
                    db ? sqlite3_errmsg(db) : "cannot open");
    return SHELF_EIO;
}

static char *col_dup(sqlite3_stmt *st, int i, int *oom)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    if (!t)
        return NULL;
    char *s = strdup((const char *)t);
    if (!s)
        *oom = 1;
    return s;
}

static int col_list(sqlite3_stmt *st, int i, shelf_strv *out)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    if (!t)
        return SHELF_OK;
    return shelf_strv_split(out, (const char *)t, LIST_SEP, 1);
}

/* Binds the list joined by LIST_SEP, or NULL when empty. */
static int bind_list(sqlite3_stmt *st, int i, const shelf_strv *sv)
{
    if (sv->n == 0)
        return sqlite3_bind_null(st, i);
    char *s = shelf_strv_join(sv, LIST_SEP);
    if (!s)
        return SQLITE_NOMEM;
    return sqlite3_bind_text(st, i, s, -1, free);
}

static int bind_str(sqlite3_stmt *st, int i, const char *s)
{
    return s ? sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT) : sqlite3_bind_null(st, i);
}

/* Reads the meta value for key into *out (NULL when absent). SQLITE_OK or
 * the sqlite error. */
static int meta_get(sqlite3 *db, const char *key, char **out)
{
    *out = NULL;
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key=?1", -1, &st, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            int oom = 0;
            *out = col_dup(st, 0, &oom);
            rc = oom ? SQLITE_NOMEM : SQLITE_OK;
        } else if (rc == SQLITE_DONE) {
            rc = SQLITE_OK;
        }
    }
    sqlite3_finalize(st);
    return rc;
}

/* Checks the meta table of an open index: 0, or SHELF_EIO / SHELF_ENOMEM
 * with err saying what is wrong. *root receives the root (may be NULL). */
static int meta_check(sqlite3 *db, const char *file, char **root, shelf_error *err)
{
    char *schema = NULL, *version = NULL, *r = NULL;
    int rc = meta_get(db, "schema", &schema);
    if (rc == SQLITE_OK)
        rc = meta_get(db, "shelf_version", &version);
    if (rc == SQLITE_OK)
        rc = meta_get(db, "root", &r);
    int status = SHELF_OK;
    if (rc == SQLITE_NOMEM) {
        status = db_fail(NULL, err, file, "reading");
    } else if (rc != SQLITE_OK) {
        shelf_error_set(err, SHELF_EIO, NULL, file, 0, "%s is not a usable index: %s",
                        file, sqlite3_errstr(rc));
        status = SHELF_EIO;
    } else if (!schema || atoi(schema) != SHELF_INDEX_SCHEMA || !r) {
        shelf_error_set(err, SHELF_EIO, NULL, file, 0,
                        "%s has schema %s, this shelf reads schema %d", file,
                        schema ? schema : "(none)", SHELF_INDEX_SCHEMA);
        status = SHELF_EIO;
    } else if (!version || strcmp(version, SHELF_VERSION_STRING) != 0) {
        shelf_error_set(err, SHELF_EIO, NULL, file, 0,
                        "%s was written by shelf %s, this is shelf %s", file,
                        version ? version : "(unknown)", SHELF_VERSION_STRING);
        status = SHELF_EIO;
    }
    free(schema);
    free(version);
    if (status == SHELF_OK && root)
        *root = r;
    else
        free(r);
    return status;
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
    shelf_lua *lua;
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
        return db_fail(b->db, b->err, b->tmpfile, "cannot write");
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
    sqlite3_bind_int64(ins, 3, mtime_ns(&sb));
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
            sqlite3_bind_int64(ins, 3, mtime_ns(&cs));
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

/* Spider-mode host of the builder: collects, answers queries as a fresh
 * login would (nothing loaded, the process environment). */
typedef struct build_host {
    shelf_spider_rec *rec;
    const char *level;
} build_host;

static int bh_call(void *ud, const shelf_mf_call *c, shelf_error *err)
{
    build_host *h = ud;
    if (shelf_spider_collect(h->rec, c) < 0) {
        shelf_error_set(err, SHELF_ENOMEM, NULL, NULL, 0, "out of memory");
        return SHELF_ENOMEM;
    }
    return SHELF_OK;
}

static int bh_is_loaded(void *ud, const char *name)
{
    (void)ud;
    (void)name;
    return 0;
}

static int bh_is_avail(void *ud, const char *name)
{
    build_host *h = ud;
    shelf_strv mp;
    shelf_strv_init(&mp);
    shelf_modfile mf;
    shelf_error err = {0};
    int ok = shelf_strv_push(&mp, h->level) == 0 && shelf_resolve(&mp, name, &mf, &err) == 0;
    if (ok)
        shelf_modfile_free(&mf);
    shelf_error_clear(&err);
    shelf_strv_free(&mp);
    return ok;
}

static const char *bh_getenv(void *ud, const char *name)
{
    (void)ud;
    return getenv(name);
}

/* FNV-1a of the file as 16 hex digits, or NULL when it cannot be read. */
static char *file_hash(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    uint64_t h = FNV_INIT;
    char chunk[16384];
    ssize_t n;
    while ((n = read(fd, chunk, sizeof chunk)) > 0)
        h = fnv1a(h, chunk, (size_t)n);
    close(fd);
    if (n < 0)
        return NULL;
    char *s = malloc(17);
    if (s)
        snprintf(s, 17, "%016llx", (unsigned long long)h);
    return s;
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
    sqlite3_bind_int64(q, 3, mtime_ns(sb));
    int found = 0, oom = 0;
    if (sqlite3_step(q) == SQLITE_ROW) {
        found = 1;
        *hash = col_dup(q, 0, &oom);
        *broken = col_dup(q, 1, &oom);
        rec->description = col_dup(q, 2, &oom);
        rec->category = col_dup(q, 3, &oom);
        rec->keywords = col_dup(q, 4, &oom);
        rec->url = col_dup(q, 5, &oom);
        rec->help = col_dup(q, 6, &oom);
        rec->family = col_dup(q, 7, &oom);
        if (col_list(q, 8, &rec->whatis) < 0 || col_list(q, 9, &rec->props) < 0 ||
            col_list(q, 10, &rec->deps) < 0 || col_list(q, 11, &rec->opens) < 0)
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
        if (!mf->is_tcl) {
            build_host h = {&rec, b->levels.v[level]};
            shelf_mf_host host = {&h, bh_call, bh_is_loaded, bh_is_avail, bh_getenv};
            shelf_mf_info info = {mf->path, mf->fullname, mf->sn, mf->version, mf->fullname,
                                  SHELF_MODE_SPIDER, "bash"};
            shelf_error eerr = {0};
            int erc = shelf_mf_eval(b->lua, &info, &host, &eerr);
            if (erc == SHELF_ENOMEM)
                rc = SHELF_ENOMEM;
            else if (erc < 0 && !(broken = strdup(eerr.message ? eerr.message
                                                               : shelf_strerror(erc))))
                rc = SHELF_ENOMEM;
            shelf_error_clear(&eerr);
        }
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
            sqlite3_bind_int64(ins, 9, mtime_ns(&sb));
        }
        bind_str(ins, 10, hash);
        sqlite3_bind_int(ins, 11, mf->hidden);
        sqlite3_bind_int(ins, 12, mf->is_default);
        sqlite3_bind_int(ins, 13, mf->marked_default);
        sqlite3_bind_int(ins, 14, mf->is_tcl);
        sqlite3_bind_int(ins, 15, level_default);
        bind_str(ins, 16, broken);
        bind_str(ins, 17, rec.description);
        bind_str(ins, 18, rec.category);
        bind_str(ins, 19, rec.keywords);
        bind_str(ins, 20, rec.url);
        bind_str(ins, 22, rec.family);
        if (bind_list(ins, 23, &rec.whatis) != SQLITE_OK ||
            bind_list(ins, 24, &rec.props) != SQLITE_OK ||
            bind_list(ins, 25, &rec.deps) != SQLITE_OK ||
            bind_list(ins, 26, &rec.opens) != SQLITE_OK) {
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
        rc = shelf_tree_scan(mpath, &ml, b->err);
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
    shelf_strv mp;
    shelf_strv_init(&mp);
    if (rc == 0 && shelf_strv_push(&mp, mpath) < 0)
        rc = SHELF_ENOMEM;
    char *dflt = NULL;
    const char *dflt_sn = NULL;
    for (size_t i = 0; rc == 0 && i < ml.n; i++) {
        const shelf_modfile *mf = &ml.items[i];
        if (!dflt_sn || strcmp(dflt_sn, mf->sn) != 0) {
            free(dflt);
            dflt = NULL;
            dflt_sn = mf->sn;
            ins = b->ins[ST_DIR_SN];
            sqlite3_bind_int64(ins, 1, level);
            sqlite3_bind_text(ins, 2, mf->sn, -1, SQLITE_STATIC);
            rc = run_insert(b, ins);
            shelf_modfile r;
            shelf_error rerr = {0};
            int rr = rc == 0 ? shelf_resolve(&mp, mf->sn, &r, &rerr) : SHELF_ENOTFOUND;
            shelf_error_clear(&rerr);
            if (rr == SHELF_ENOMEM)
                rc = rr;
            if (rr == 0) {
                dflt = r.path;
                r.path = NULL;
                shelf_modfile_free(&r);
            }
        }
        if (rc == 0)
            rc = build_module(b, level, (long)i, mf, dflt && strcmp(dflt, mf->path) == 0);
        b->done++;
        if (b->o->progress)
            b->o->progress(b->o->ud, b->done, b->total);
    }
    free(dflt);
    shelf_strv_free(&mp);
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
    int ok = meta_check(b->old, output, NULL, &e) == 0;
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
        return db_fail(b->db, b->err, b->tmpfile, "cannot write");
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
    size_t lx = strlen(x->sn), ly = strlen(y->sn);
    int c = strncmp(x->sn, y->sn, lx < ly ? lx : ly);
    if (c == 0 && lx != ly)
        c = (lx < ly ? '/' : (unsigned char)x->sn[ly]) -
            (lx < ly ? (unsigned char)y->sn[lx] : '/');
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
        rc = db_fail(b->db, b->err, b->tmpfile, "cannot write");
    int step = SQLITE_DONE;
    while (rc == 0 && (step = sqlite3_step(sel)) == SQLITE_ROW) {
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 1024;
            sort_row *nv = realloc(v, nc * sizeof *nv);
            if (!nv) {
                rc = SHELF_ENOMEM;
                break;
            }
            v = nv;
            cap = nc;
        }
        int oom = 0;
        sort_row *r = &v[n++];
        r->id = sqlite3_column_int64(sel, 0);
        r->sn = col_dup(sel, 1, &oom);
        const unsigned char *ver = sqlite3_column_text(sel, 2);
        r->vkey = shelf_version_key(ver ? (const char *)ver : "");
        r->file = col_dup(sel, 3, &oom);
        if (oom || !r->sn || !r->vkey || !r->file)
            rc = SHELF_ENOMEM;
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = db_fail(b->db, b->err, b->tmpfile, "cannot read");
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
            rc = db_fail(b->db, b->err, b->tmpfile, "cannot write");
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
    char *root = abs_dir(dir);
    char *output = o->output ? strdup(o->output) : shelf_index_default_path(dir);
    char *lockname = NULL, *tmp = NULL, *stamp = NULL;
    int lockfd = -1, rc = SHELF_OK;
    builder b;
    memset(&b, 0, sizeof b);
    shelf_strv_init(&b.levels);
    b.o = o;
    b.st = st;
    b.err = err;
    if (!root || !output) {
        rc = SHELF_ENOMEM;
        shelf_error_set(err, rc, NULL, NULL, 0, "out of memory");
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
    if (make_parents(output) < 0) {
        rc = SHELF_EIO;
        shelf_error_set(err, rc, NULL, output, 0, "cannot create the directory of %s: %s",
                        output, strerror(errno));
        goto out;
    }
    shelf_buf nb;
    shelf_buf_init(&nb);
    shelf_buf_addf(&nb, "%s.lock", output);
    lockname = shelf_buf_take(&nb);
    shelf_buf_addf(&nb, "%s.XXXXXX", output);
    tmp = shelf_buf_take(&nb);
    if (!lockname || !tmp) {
        rc = SHELF_ENOMEM;
        shelf_error_set(err, rc, NULL, NULL, 0, "out of memory");
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
        stamp = abs_dir(o->timestamp);
        if (!stamp) {
            rc = SHELF_ENOMEM;
            shelf_error_set(err, rc, NULL, NULL, 0, "out of memory");
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
    if (stamp && stat(stamp, &ss) == 0 && mtime_ns(&ss) > b.started)
        b.started = mtime_ns(&ss); /* a clock behind the file system's */
    open_previous(&b, output);
    b.lua = shelf_lua_new(o->limits);
    if (!b.lua) {
        rc = SHELF_ENOMEM;
        shelf_error_set(err, rc, NULL, NULL, 0, "out of memory");
        goto out;
    }
    if (sqlite3_open_v2(tmp, &b.db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        rc = db_fail(b.db, err, tmp, "cannot write");
        goto out;
    }
    rc = build_all(&b, root);
    for (int i = 0; i < ST_COUNT; i++)
        sqlite3_finalize(b.ins[i]);
    memset(b.ins, 0, sizeof b.ins);
    if (sqlite3_close(b.db) != SQLITE_OK && rc == 0)
        rc = db_fail(NULL, err, tmp, "cannot close");
    b.db = NULL;
    if (rc == 0) {
        fd = open(tmp, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || fchmod(fd, 0644) < 0 || fsync(fd) < 0 || rename(tmp, output) < 0) {
            rc = SHELF_EIO;
            shelf_error_set(err, rc, NULL, output, 0, "cannot write %s: %s", output,
                            strerror(errno));
        }
        if (fd >= 0)
            close(fd);
        char *slash = strrchr(output, '/');
        if (rc == 0 && slash) {
            *slash = '\0';
            int dfd = open(slash == output ? "/" : output, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            *slash = '/';
            if (dfd >= 0) {
                fsync(dfd);
                close(dfd);
            }
        }
    }
out:
    if (tmp && rc != 0)
        unlink(tmp);
    sqlite3_close(b.db);
    sqlite3_finalize(b.reuse);
    sqlite3_close(b.old);
    shelf_lua_free(b.lua);
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
        shelf_error_set(err, SHELF_ENOMEM, NULL, NULL, 0, "out of memory");
        return SHELF_ENOMEM;
    }
    int rc;
    /* One thread per connection: no mutexes. */
    if (sqlite3_open_v2(file, &ix->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) !=
        SQLITE_OK) {
        rc = db_fail(ix->db, err, file, "cannot open");
        goto fail;
    }
    sqlite3_busy_timeout(ix->db, 0);
    rc = meta_check(ix->db, file, &ix->root, err);
    if (rc < 0)
        goto fail;
    char *started = NULL;
    int mrc = meta_get(ix->db, "timestamp", &ix->timestamp);
    if (mrc == SQLITE_OK)
        mrc = meta_get(ix->db, "started", &started);
    ix->started = started ? strtoll(started, NULL, 10) : 0;
    free(started);
    if (mrc != SQLITE_OK) {
        rc = db_fail(ix->db, err, file, "cannot read");
        goto fail;
    }
    if (sqlite3_prepare_v2(ix->db, "SELECT path FROM levels WHERE id=?1", -1,
                           &ix->level_path, NULL) != SQLITE_OK) {
        rc = db_fail(ix->db, err, file, "cannot read");
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

const char *shelf_index_root(const shelf_index *ix)
{
    return ix->root;
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
        int same = markers ? got == 0 && mtime_ns(&sb) == want &&
                                 (sqlite3_int64)sb.st_size == sqlite3_column_int64(st, 3)
                           : (got < 0 ? want < 0 : (want >= 0 && mtime_ns(&sb) == want));
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
    if (stat(ix->timestamp, &sb) == 0 && mtime_ns(&sb) <= ix->started)
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
int shelf_index_fresh(shelf_index *ix, const long *levels, size_t n, char *const *words,
                      size_t nwords, char **why)
{
    if (why)
        *why = NULL;
    /* SHELF_INDEX_CHECK=dirs: the full check even for a --timestamp index
     * (for an admin who suspects the timestamp was not touched). */
    const char *mode = getenv("SHELF_INDEX_CHECK");
    int stamp = ix->timestamp && !(mode && strcmp(mode, "dirs") == 0);
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
    return db_fail(ix->db, err, ix->file, "cannot read");
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
    *out = rc == SQLITE_ROW ? col_dup(st, 0, &oom) : NULL;
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
        m.mf.sn = col_dup(st, 0, &oom);
        m.mf.version = col_dup(st, 1, &oom);
        m.mf.fullname = col_dup(st, 2, &oom);
        m.mf.path = col_dup(st, 3, &oom);
        m.mf.mpath = strdup(mpath);
        oom |= !m.mf.sn || !m.mf.version || !m.mf.fullname || !m.mf.path || !m.mf.mpath;
        m.mf.hidden = sqlite3_column_int(st, 4) != 0;
        m.mf.is_default = sqlite3_column_int(st, 5) != 0;
        m.mf.marked_default = sqlite3_column_int(st, 6) != 0;
        m.mf.is_tcl = sqlite3_column_int(st, 7) != 0;
        m.level_default = sqlite3_column_int(st, 8) != 0;
        m.broken = col_dup(st, 9, &oom);
        m.rec.description = col_dup(st, 10, &oom);
        m.rec.category = col_dup(st, 11, &oom);
        m.rec.keywords = col_dup(st, 12, &oom);
        m.rec.url = col_dup(st, 13, &oom);
        m.rec.family = col_dup(st, 14, &oom);
        if (col_list(st, 15, &m.rec.props) < 0 || col_list(st, 16, &m.rec.deps) < 0 ||
            col_list(st, 17, &m.rec.whatis) < 0 || col_list(st, 19, &m.rec.opens) < 0)
            oom = 1;
        m.rec.help = col_dup(st, 18, &oom);
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
    if (h->n == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 256;
        held_row **v = realloc(h->v, cap * sizeof *v);
        if (!v)
            return SHELF_ENOMEM;
        h->v = v;
        h->cap = cap;
    }
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
            shelf_error_set(err, SHELF_ENOMEM, NULL, NULL, 0, "out of memory");
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
        shelf_error_set(err, SHELF_ENOMEM, NULL, NULL, 0, "out of memory");
        return SHELF_ENOMEM;
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
        shelf_error_set(err, SHELF_ENOMEM, NULL, NULL, 0, "out of memory");
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
