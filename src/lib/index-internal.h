/*
 * index-internal.h -- what the index's files (index.c, index-build.c,
 * index-read.c) share: the list separator of its columns and the sqlite
 * helpers.
 */
#ifndef SHELF_INDEX_INTERNAL_H
#define SHELF_INDEX_INTERNAL_H

#include <sqlite3.h>
#include <stdint.h>
#include <sys/stat.h>

#include "shelf.h"

/* Lists (whatis lines, properties, ...) are stored joined by this: the
 * public SHELF_INDEX_SEP as a string. */
#define LIST_SEP ((const char[]){SHELF_INDEX_SEP, '\0'})

/* dir made absolute (against the working directory) and normalized; a
 * new string, NULL on OOM. */
char *ix_abs_dir(const char *dir);
/* A file's mtime in nanoseconds. */
int64_t ix_mtime_ns(const struct stat *st);
/* Sets err for a failed sqlite call on db (NULL: it could not be opened)
 * about file: SHELF_ENOMEM or SHELF_EIO ("WHAT FILE: sqlite's words"),
 * which it returns. */
int ix_db_fail(sqlite3 *db, shelf_error *err, const char *file, const char *what);
/* A copy of column i (NULL for NULL; *oom set when the copy failed). */
char *ix_col_dup(sqlite3_stmt *st, int i, int *oom);
/* Column i split at LIST_SEP into out. 0 or SHELF_ENOMEM. */
int ix_col_list(sqlite3_stmt *st, int i, shelf_strv *out);
/* The meta value of key into *out (NULL when absent): SQLITE_OK or the
 * sqlite error. */
int ix_meta_get(sqlite3 *db, const char *key, char **out);
/* Checks the meta table of an open index (schema and shelf version): 0,
 * or SHELF_EIO / SHELF_ENOMEM with err saying what is wrong. *root
 * receives the root directory (root may be NULL). */
int ix_meta_check(sqlite3 *db, const char *file, char **root, shelf_error *err);

#endif
