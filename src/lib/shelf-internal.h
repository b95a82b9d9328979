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
/* ---- files (fs.c; the rest is public) ---- */

/* The last step of shelf_write_atomic, for a temp file the caller wrote
 * (tmp beside path, open as fd): fsyncs and closes fd (always), renames tmp
 * over path, fsyncs path's directory. Returns 0 or SHELF_EIO (err names
 * the file and the reason, as shelf_write_atomic's); on failure tmp is
 * removed and path untouched. */
int shelf_file_commit(int fd, const char *tmp, const char *path, shelf_error *err);

/* SHA-256 (sha256.c, by libmd) of a file as 64 lowercase hex digits and a
 * NUL in out: the digest collections and the index record of modulefiles.
 * 0, SHELF_ENOTFOUND or SHELF_EIO (err says why; out untouched). */
int shelf_sha256_file(const char *path, char out[65], shelf_error *err);

/* Compares two short names as "a/" and "b/" compare, bytewise (spider's
 * order: "a-b" comes before "a", "a" before "a0"). Never fails. */
int shelf_sn_cmp(const char *a, const char *b);

#endif
