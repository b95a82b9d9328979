/*
 * shelf-internal.h -- helpers shared by libshelf's files and its unit
 * tests, not part of the public surface (shelf.h).
 */
#ifndef SHELF_INTERNAL_H
#define SHELF_INTERNAL_H

#include "shelf.h"

/* 1 if s starts with prefix / ends with suffix. */
int shelf_str_starts(const char *s, const char *prefix);
int shelf_str_ends(const char *s, const char *suffix);
/* a + "/" + b (no doubled slash); NULL on OOM. */
char *shelf_path_join(const char *a, const char *b);
/* path joined to the working directory when relative (not normalized);
 * a new string, NULL on OOM or when the working directory is unknown. */
char *shelf_path_absolute(const char *path);
/* Appends the whole file to out. Returns 0, SHELF_EIO (err names the file
 * and the reason) or SHELF_ENOMEM. */
int shelf_read_file(const char *path, shelf_buf *out, shelf_error *err);

/* Environments as "NAME=value" strings (environ, a shelf_strv's v).
 * shelf_environ_get: NAME's value in the NULL-terminated array env (which
 * may be NULL), or NULL. shelf_environ_put: sets NAME=value in env,
 * replacing NAME's entry in place; 0 or SHELF_ENOMEM (env unchanged).
 * shelf_environ_unset: removes NAME's entry, if there is one. */
const char *shelf_environ_get(char *const *env, const char *name);
int shelf_environ_put(shelf_strv *env, const char *name, const char *value);
void shelf_environ_unset(shelf_strv *env, const char *name);

/* nbytes random bytes (getrandom(2)) as 2 * nbytes lowercase hex digits, a
 * new string (tokens); NULL with errno set when memory or randomness is
 * missing. */
char *shelf_random_hex(size_t nbytes);

#endif
