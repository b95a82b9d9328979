/*
 * shelf-internal.h -- helpers shared by libshelf's files and its unit
 * tests, not part of the public surface (shelf.h).
 */
#ifndef SHELF_INTERNAL_H
#define SHELF_INTERNAL_H

#include <stdint.h>
#include <sys/types.h>

#include "shelf.h"

/* vprintf into a new string (the caller frees it); NULL on OOM. */
char *shelf_vfmt(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

/* Sets err to "out of memory" (SHELF_ENOMEM) and returns SHELF_ENOMEM. */
int shelf_oom(shelf_error *err);

/* Makes room for `need` elements of elem_size bytes in the array whose
 * address is items (a T **): when *cap < need, reallocates it to a
 * capacity that doubles from 16 until it holds need, and updates *cap.
 * Returns 0, or SHELF_ENOMEM (the size would overflow or realloc failed)
 * with the array and *cap unchanged. SHELF_GROW(arr, cap, need) is the
 * call with the element size of arr. */
int shelf_grow(void *items, size_t *cap, size_t need, size_t elem_size);
#define SHELF_GROW(arr, cap, need) shelf_grow(&(arr), &(cap), (need), sizeof *(arr))

/* 1 if s starts with prefix / ends with suffix. */
int shelf_str_starts(const char *s, const char *prefix);
int shelf_str_ends(const char *s, const char *suffix);
/* a + "/" + b (no doubled slash); NULL on OOM. */
char *shelf_path_join(const char *a, const char *b);
/* path joined to the working directory when relative (not normalized);
 * a new string, NULL on OOM or when the working directory is unknown. */
char *shelf_path_absolute(const char *path);
/* A copy of path without doubled or trailing slashes; NULL on OOM. */
char *shelf_dir_norm(const char *path);
/* Appends the whole file to out. Returns 0, SHELF_EIO (err names the file
 * and the reason) or SHELF_ENOMEM. */
int shelf_read_file(const char *path, shelf_buf *out, shelf_error *err);

/* ---- files and directories (fs.c) ---- */

/* mkdir -p: creates dir and the parents it lacks, each with mode (less the
 * umask, as mkdir(2) does). What exists already must be a directory, or a
 * symlink to one; with SHELF_MKDIR_NOFOLLOW the last component must be a
 * directory itself, never a symlink (the caller is about to trust it).
 * Returns 0, SHELF_EIO (err: "cannot create the directory D: reason", D the
 * component that failed; errno the reason) or SHELF_ENOMEM. What was
 * created before a failure stays. */
#define SHELF_MKDIR_NOFOLLOW 1
int shelf_mkdir_p(const char *dir, mode_t mode, int flags, shelf_error *err);

/* Replaces the file at path with data[0..len) atomically: a temp file
 * .NAME.RANDOM in the same directory (O_EXCL, O_NOFOLLOW, created with mode
 * less the umask), written whole, fsynced, renamed over path, and the
 * directory fsynced. A symlink at path is replaced, not followed. Readers
 * see the old file or the new one, never a part. Returns 0, SHELF_EIO (err:
 * "cannot write PATH: reason", file = path; errno the reason) or
 * SHELF_ENOMEM; on failure path is untouched and no temp file is left. */
int shelf_write_atomic(const char *path, const void *data, size_t len, mode_t mode,
                       shelf_error *err);
/* The last step of shelf_write_atomic, for a temp file the caller wrote
 * (tmp beside path, open as fd): fsyncs and closes fd (always), renames tmp
 * over path, fsyncs path's directory. Returns 0 or SHELF_EIO (err as
 * above, errno the reason); on failure tmp is removed and path untouched. */
int shelf_file_commit(int fd, const char *tmp, const char *path, shelf_error *err);

/* The XDG base directories, looked up in env (NAME=value strings, may be
 * NULL; never the process environment itself): $XDG_CONFIG_HOME else
 * $HOME/.config, $XDG_CACHE_HOME else $HOME/.cache, $XDG_RUNTIME_DIR (no
 * default: the caller picks its own). A variable counts only when it holds
 * an absolute path. Returns 0 with *out a new string, SHELF_ENOTFOUND (*out
 * NULL: nothing usable, the caller says so or falls back) or SHELF_ENOMEM. */
typedef enum shelf_xdg_kind { SHELF_XDG_CONFIG, SHELF_XDG_CACHE, SHELF_XDG_RUNTIME } shelf_xdg_kind;
int shelf_xdg_dir(char *const *env, shelf_xdg_kind kind, char **out);

/* ---- command-line options (opts.c) ---- */

/* One option of a command: --long_name and/or -short_name. */
typedef struct shelf_opt shelf_opt;
typedef enum shelf_opt_kind {
    SHELF_OPT_FLAG,     /* no value: *(int *)ptr = value */
    SHELF_OPT_STRING,   /* a value: *(const char **)ptr = it (argv's word, not a copy);
                           the last one given wins, unless flags has SHELF_OPT_ONCE */
    SHELF_OPT_CALLBACK, /* a value: cb(opt, value, err), which returns 0 or an error
                           code (err set) that ends the parse */
    SHELF_OPT_STOP      /* no value: the parse stops and returns value (> 0): --help */
} shelf_opt_kind;
#define SHELF_OPT_ONCE 1 /* SHELF_OPT_STRING: a second one is "NAME given twice" */
struct shelf_opt {
    const char *long_name; /* "output" for --output, or NULL */
    char short_name;       /* 'o' for -o, or 0 */
    shelf_opt_kind kind;
    void *ptr;
    int value;
    unsigned flags;
    int (*cb)(const shelf_opt *opt, const char *value, shelf_error *err);
};
/* The rows, as a table's initializers: a FLAG stores v in *(int *)p, a
 * STRING (flags 0 or SHELF_OPT_ONCE) the value in *(const char **)p. */
#define SHELF_OPTS_FLAG(l, s, p, v)                                                     \
    { .long_name = (l), .short_name = (s), .kind = SHELF_OPT_FLAG, .ptr = (p), .value = (v) }
#define SHELF_OPTS_STRING(l, s, p, f)                                                   \
    { .long_name = (l), .short_name = (s), .kind = SHELF_OPT_STRING, .ptr = (p), .flags = (f) }
#define SHELF_OPTS_CALLBACK(l, s, p, fn)                                                \
    { .long_name = (l), .short_name = (s), .kind = SHELF_OPT_CALLBACK, .ptr = (p), .cb = (fn) }
#define SHELF_OPTS_STOP(l, s, v)                                                        \
    { .long_name = (l), .short_name = (s), .kind = SHELF_OPT_STOP, .value = (v) }
#define SHELF_OPTS_END { .long_name = NULL }
#define SHELF_OPTS_STOP_AT_ARG 1 /* options end at the first argument */

/* Parses the words argv[0..*argc) against opts (ended by a row without
 * names), in order, as git's parse-options does: "--name=value" and
 * "--name value", a unique prefix of a long name, "-x value", "-xvalue",
 * clustered flags "-ab"; "--" ends the options, "-" is an argument. The
 * arguments (non-options) are moved in order to argv[0..*argc). Returns 0;
 * a SHELF_OPT_STOP row's value; SHELF_EUSAGE with err naming the option
 * ("unknown option \"--x\"", "ambiguous option ...", "--output needs a
 * value", "--kube takes no value", "--format given twice"); a callback's
 * code; SHELF_ENOMEM. Options met before an error or a stop are stored;
 * *argc and argv are complete only on 0. Prints nothing. */
int shelf_opts_parse(const shelf_opt *opts, int *argc, char **argv, int flags,
                     shelf_error *err);

/* Environments as "NAME=value" strings (environ, a shelf_strv's v).
 * shelf_environ_get: NAME's value in the NULL-terminated array env (which
 * may be NULL), or NULL. shelf_environ_put: sets NAME=value in env,
 * replacing NAME's entry in place; 0 or SHELF_ENOMEM (env unchanged).
 * shelf_environ_unset: removes NAME's entry, if there is one. */
const char *shelf_environ_get(char *const *env, const char *name);
int shelf_environ_put(shelf_strv *env, const char *name, const char *value);
void shelf_environ_unset(shelf_strv *env, const char *name);

/* FNV-1a, 64 bits: a fast hash, not a digest (file contents in the index,
 * cache file names, change signatures, cache keys). Start from
 * SHELF_FNV1A_INIT and feed the bytes in pieces: the hash of a then b is
 * shelf_fnv1a(shelf_fnv1a(SHELF_FNV1A_INIT, a, na), b, nb). Never fails. */
#define SHELF_FNV1A_INIT 14695981039346656037ULL
uint64_t shelf_fnv1a(uint64_t h, const void *data, size_t n);
/* FNV-1a, 32 bits, of the string s. Its own prime and offset basis: the
 * value cannot be had from the 64-bit hash, and names already made from it
 * (the launcher's shortened object names) must stay the same. */
uint32_t shelf_fnv1a32(const char *s);

/* SHA-256 (sha256.c, by libmd) of a file as 64 lowercase hex digits and a
 * NUL in out: the digest collections and the index record of modulefiles.
 * 0, SHELF_ENOTFOUND or SHELF_EIO (err says why; out untouched). */
int shelf_sha256_file(const char *path, char out[65], shelf_error *err);
/* SHA-256 of a buffer, same output. Never fails. */
void shelf_sha256_hex(const void *data, size_t len, char out[65]);

/* nbytes random bytes (getrandom(2)) as 2 * nbytes lowercase hex digits, a
 * new string (tokens); NULL with errno set when memory or randomness is
 * missing. */
char *shelf_random_hex(size_t nbytes);

#endif
