/*
 * index.c -- the sqlite index of module trees: where an index lives and
 * the sqlite helpers its builder (index-build.c: `shelf index DIR`) and its
 * reader (index-read.c: freshness and the queries behind avail, spider,
 * keyword and shelfd's catalog) share.
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
 *   dirs(level, rel, sn, mtime)   every directory walked under a level,
 *                                 rel to its root, sn the short name whose
 *                                 modulefiles it holds, mtime in ns (-1: the
 *                                 level did not exist)
 *   markers(path, level, mtime, size, top)  default, .modulerc.lua, .modulerc and
 *                                 .version files (lstat: links are markers)
 *   modules(id, level, seq, name, sn, version, fullname, file, size, mtime,
 *           hash, hidden, is_default, marked_default, is_tcl, level_default,
 *           broken, description, category, keywords, url, family,
 *           whatis, props, deps, opens, sorder)
 *                           one row per modulefile, seq = the order of the
 *                           tree scan; lists joined by "\x1e"; hash is
 *                           the SHA-256 of the file in hex (what
 *                           collections record); level_default = 1
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

#include <sqlite3.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "index-internal.h"
#include "shelf.h"
#include "shelf-internal.h"

/* ---- paths ---------------------------------------------------------------- */

/* dir made absolute (against the working directory) and normalized. */
char *ix_abs_dir(const char *dir)
{
    char *joined = shelf_path_absolute(dir);
    char *n = joined ? shelf_dir_norm(joined) : NULL;
    free(joined);
    return n;
}

/* The index of absdir in the user's cache: $XDG_CACHE_HOME, else
 * $HOME/.cache, else /tmp/.cache, as env says. */
static char *cache_path(const char *absdir, char *const *env)
{
    char *base = NULL;
    if (shelf_xdg_dir(env, SHELF_XDG_CACHE, &base) == SHELF_ENOMEM)
        return NULL;
    shelf_buf b;
    shelf_buf_init(&b);
    shelf_buf_adds(&b, base ? base : "/tmp/.cache");
    free(base);
    shelf_buf_addf(&b, "/shelf/index-%016llx.db",
                   (unsigned long long)shelf_fnv1a(SHELF_FNV1A_INIT, absdir, strlen(absdir)));
    return shelf_buf_take(&b);
}

int shelf_index_locations(const char *dir, char *const *env, shelf_strv *out)
{
    char *absdir = ix_abs_dir(dir);
    char *own = absdir ? shelf_path_join(absdir, ".shelf/index.db") : NULL;
    char *cache = absdir ? cache_path(absdir, env) : NULL;
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

char *shelf_index_default_path(const char *dir, char *const *env)
{
    char *absdir = ix_abs_dir(dir);
    if (!absdir)
        return NULL;
    char *p = access(absdir, W_OK) == 0 ? shelf_path_join(absdir, ".shelf/index.db")
                                        : cache_path(absdir, env);
    free(absdir);
    return p;
}

int64_t ix_mtime_ns(const struct stat *st)
{
    return (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
}

/* ---- sqlite helpers ------------------------------------------------------- */

int ix_db_fail(sqlite3 *db, shelf_error *err, const char *file, const char *what)
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

char *ix_col_dup(sqlite3_stmt *st, int i, int *oom)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    if (!t)
        return NULL;
    char *s = strdup((const char *)t);
    if (!s)
        *oom = 1;
    return s;
}

int ix_col_list(sqlite3_stmt *st, int i, shelf_strv *out)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    if (!t)
        return SHELF_OK;
    return shelf_strv_split(out, (const char *)t, LIST_SEP, 1);
}

/* Reads the meta value for key into *out (NULL when absent). SQLITE_OK or
 * the sqlite error. */
int ix_meta_get(sqlite3 *db, const char *key, char **out)
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
            *out = ix_col_dup(st, 0, &oom);
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
int ix_meta_check(sqlite3 *db, const char *file, char **root, shelf_error *err)
{
    char *schema = NULL, *version = NULL, *r = NULL;
    int rc = ix_meta_get(db, "schema", &schema);
    if (rc == SQLITE_OK)
        rc = ix_meta_get(db, "shelf_version", &version);
    if (rc == SQLITE_OK)
        rc = ix_meta_get(db, "root", &r);
    int status = SHELF_OK;
    if (rc == SQLITE_NOMEM) {
        status = ix_db_fail(NULL, err, file, "reading");
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

