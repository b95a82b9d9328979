/*
 * shelf.h -- the public surface of libshelf, the module engine.
 *
 * Everything a front end (the `shelf` command, `shelfd`, the launcher) may
 * call is declared here, and the front ends include no other header of
 * libshelf (tests/shell/surface.sh checks it). The internals stay in the
 * library's own headers: shelf-internal.h, engine-internal.h, state.h,
 * envmodel.h, modulefile.h, tree-internal.h, emit-internal.h,
 * index-internal.h, pattern.h.
 *
 * The sections, in the order a command flows through them: errors and the
 * evaluation budgets; buffers, string vectors, versions; the changes a
 * command makes and their emitters; module trees and name resolution;
 * utilities the front ends share (files, options, environments, hashes);
 * the Lua sandbox; modulefile calls; the spider record; loaded modules;
 * collections; export; the engine (opaque: read modes, show, and one
 * command as a request in, a result out: shelf_run); the index; the
 * catalog; JSON (the one printer and reader, and the vocabulary).
 *
 * Conventions, shared by every function below:
 *  - Functions return 0 (SHELF_OK) on success or a negative SHELF_E* code.
 *  - Functions that can fail take a `shelf_error *err` and fill it with a
 *    message naming the module, file and line when known. libshelf never
 *    prints and never exits: only front ends do.
 *  - Returned memory belongs to the caller unless said otherwise, and is
 *    released with the matching *_free() function.
 */
#ifndef SHELF_H
#define SHELF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <cJSON.h>

#define SHELF_VERSION_STRING PACKAGE_VERSION

/* ---- errors ----------------------------------------------------------- */

/* The one list of libshelf's errors: XX(NAME, code, word, status, message)
 * gives SHELF_NAME its value, the code word shelfd answers in
 * {"error": {"code": word}} with HTTP `status` (docs/API.md), and the short
 * text shelf_strerror() returns. Add an error here and everything that
 * names errors knows it. */
#define SHELF_ERRNO_MAP(XX)                                                               \
    XX(ENOMEM, -1, "out_of_memory", 500, "out of memory")                                 \
    XX(EIO, -2, "io_error", 500, "input/output error") /* a file could not be read */     \
    XX(ENOTFOUND, -3, "not_found", 404, "module not found")                               \
    XX(EMODULEFILE, -4, "modulefile_error", 422, "error in modulefile") /* Lua, Tcl */    \
    XX(ELMODERROR, -5, "lmod_error", 422, "modulefile reported an error") /* LmodError */ \
    XX(ECONFLICT, -6, "conflict", 422, "conflicting module loaded")                       \
    XX(EPREREQ, -7, "prereq", 422, "prerequisite not loaded")                             \
    XX(ESTATE, -8, "state", 409, "corrupt module state in the environment")               \
    XX(EUSAGE, -9, "bad_request", 400, "bad usage")                                       \
    XX(EFAMILY, -10, "family", 422, "family conflict") /* could not be resolved */        \
    XX(EPARSE, -11, "bad_request", 400, "malformed data") /* a collection, a request */   \
    XX(EDRIFT, -12, "drift", 409, "the collection no longer matches the module trees")

enum {
    SHELF_OK = 0,
#define SHELF_ERR_ENUM_(name, code, word, status, message) SHELF_##name = code,
    SHELF_ERRNO_MAP(SHELF_ERR_ENUM_)
#undef SHELF_ERR_ENUM_
};

typedef struct shelf_error {
    int code;      /* SHELF_OK when nothing is set */
    char *message; /* human text, no trailing newline */
    char *module;  /* full name of the module involved, or NULL */
    char *file;    /* modulefile path, or NULL */
    int line;      /* line in file, or 0 */
} shelf_error;

/* Sets *err (releasing what it held). Keeps the first error: a later call
 * on an error that is already set does nothing, so the innermost cause wins. */
void shelf_error_set(shelf_error *err, int code, const char *module,
                     const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
/* Releases the strings held by err and resets it to SHELF_OK. */
void shelf_error_clear(shelf_error *err);
/* A short constant text for a SHELF_E* code ("success" for SHELF_OK,
 * "unknown error" for a code not in SHELF_ERRNO_MAP). */
const char *shelf_strerror(int code);
/* The code word ("not_found") and the HTTP status (404) of a SHELF_E* code.
 * Any other code, SHELF_OK included, is "internal" and 500: an error that
 * lost its cause is the server's fault. */
const char *shelf_err_name(int code);
int shelf_err_http_status(int code);

/* ---- budgets of the site's Lua code --------------------------------------- */

/* What one evaluation of a modulefile (or .modulerc.lua, launch.lua) may
 * use before it is stopped with an error naming the file. A zero field
 * means its default; a NULL shelf_eval_limits pointer means all defaults.
 * libshelf never reads these from the environment: front ends do, with
 * shelf_eval_limits_from_env, and pass them in. */
#define SHELF_EVAL_DEFAULT_SECONDS 10.0
#define SHELF_EVAL_DEFAULT_INSTRUCTIONS 1000000000ULL
#define SHELF_EVAL_DEFAULT_MEMORY_MB 256

typedef struct shelf_eval_limits {
    double seconds;                  /* wall-clock time of one evaluation */
    unsigned long long instructions; /* Lua instructions, pattern-matching
                                        steps and library loop turns */
    size_t memory;                   /* bytes the Lua state may hold */
} shelf_eval_limits;

/* Reads SHELF_EVAL_SECONDS (seconds, such as 10 or 0.5),
 * SHELF_EVAL_INSTRUCTIONS and SHELF_EVAL_MEMORY_MB (whole numbers above 0)
 * from env, a NULL-terminated "NAME=value" array (a front end's environ);
 * unset or empty variables keep their defaults. Returns 0, or SHELF_EUSAGE
 * with err naming the variable and what it takes (*out unchanged). */
int shelf_eval_limits_from_env(shelf_eval_limits *out, char *const *env, shelf_error *err);

/* ---- growable byte buffer and string vector --------------------------- */

/* A NUL-terminated growable string. An allocation failure sets `oom`, after
 * which every append is a no-op: check once at the end with shelf_buf_ok(). */
typedef struct shelf_buf {
    char *data; /* NULL until the first append; always NUL-terminated after */
    size_t len;
    size_t cap;
    int oom;
} shelf_buf;

void shelf_buf_init(shelf_buf *b);
void shelf_buf_free(shelf_buf *b);
void shelf_buf_reset(shelf_buf *b); /* len = 0, keeps memory */
void shelf_buf_add(shelf_buf *b, const char *s, size_t n);
void shelf_buf_adds(shelf_buf *b, const char *s);
void shelf_buf_addc(shelf_buf *b, char c);
void shelf_buf_addf(shelf_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void shelf_buf_vaddf(shelf_buf *b, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
/* 0 if every append so far succeeded, SHELF_ENOMEM otherwise. */
int shelf_buf_ok(const shelf_buf *b);
/* Returns the contents ("" when empty) and leaves b empty; NULL on OOM. */
char *shelf_buf_take(shelf_buf *b);

typedef struct shelf_strv {
    char **v; /* v[n] is NULL when n > 0 */
    size_t n;
    size_t cap;
} shelf_strv;

void shelf_strv_init(shelf_strv *sv);
void shelf_strv_free(shelf_strv *sv);
/* Appends a copy of s. Returns 0 or SHELF_ENOMEM (sv unchanged). */
int shelf_strv_push(shelf_strv *sv, const char *s);
/* Appends s itself, taking ownership (freed on failure too). */
int shelf_strv_push_owned(shelf_strv *sv, char *s);
/* Index of s in sv, or -1. */
long shelf_strv_find(const shelf_strv *sv, const char *s);
/* Removes element i, shifting the rest. */
void shelf_strv_remove(shelf_strv *sv, size_t i);
/* Splits s at every `delim` into sv (empty items kept when keep_empty). */
int shelf_strv_split(shelf_strv *sv, const char *s, const char *delim,
                     int keep_empty);
/* Joins sv with delim into a new string (NULL on OOM). */
char *shelf_strv_join(const shelf_strv *sv, const char *delim);

/* ---- versions (version.c) --------------------------------------------- */

/* Compares two version strings the way Lmod orders them: <0, 0 or >0.
 * Case-insensitive, numbers compared as numbers, trailing zeros ignored,
 * pre-release words (alpha, beta, rc, dev, letters) before the release,
 * "-N" / "pN" patch levels after it. Never fails. */
int shelf_version_cmp(const char *a, const char *b);

/* ---- environment changes and emitters (emit_*.c) ---------------------- */

typedef enum shelf_change_kind {
    SHELF_CHANGE_SETENV,   /* name = value */
    SHELF_CHANGE_UNSETENV, /* unset name */
    SHELF_CHANGE_ALIAS,    /* alias name = value (a command line) */
    SHELF_CHANGE_UNALIAS,
    SHELF_CHANGE_FUNC,     /* shell function name: value (sh body), value2 (csh body, may be NULL) */
    SHELF_CHANGE_UNFUNC
} shelf_change_kind;

typedef struct shelf_change {
    shelf_change_kind kind;
    char *name;
    char *value;
    char *value2;
} shelf_change;

/* An ordered list of changes: what a successful command does to the
 * caller's environment. */
typedef struct shelf_changes {
    shelf_change *items;
    size_t n;
    size_t cap;
} shelf_changes;

void shelf_changes_init(shelf_changes *c);
void shelf_changes_free(shelf_changes *c);
/* Appends copies of name/value/value2 (value, value2 may be NULL).
 * Returns 0 or SHELF_ENOMEM (c unchanged). */
int shelf_changes_add(shelf_changes *c, shelf_change_kind kind,
                      const char *name, const char *value, const char *value2);

typedef enum shelf_shell {
    SHELF_SH_BASH, SHELF_SH_ZSH, SHELF_SH_SH, SHELF_SH_KSH,
    SHELF_SH_CSH, SHELF_SH_TCSH, SHELF_SH_FISH,
    SHELF_SH_PYTHON, SHELF_SH_JSON,
    SHELF_SH_UNKNOWN
} shelf_shell;

/* "bash" -> SHELF_SH_BASH ...; SHELF_SH_UNKNOWN for anything else. */
shelf_shell shelf_shell_from_name(const char *name);
const char *shelf_shell_name(shelf_shell sh);

/* Appends to out the code that applies `changes` in shell `sh`. Every value
 * survives any byte but NUL: spaces, quotes, $, backticks, !, backslashes,
 * newlines, non-ASCII. Variable, alias and function names that are not valid
 * identifiers for that shell give SHELF_EUSAGE and append nothing.
 * Returns 0, SHELF_EUSAGE or SHELF_ENOMEM. */
int shelf_emit(shelf_shell sh, const shelf_changes *changes, shelf_buf *out,
               shelf_error *err);
/* Appends what makes the caller's `eval` fail after an error: `false;`
 * for the sh family and fish, `( exit 1 );` for csh, `_mlstatus = False`
 * for python, nothing for json. */
void shelf_emit_failure(shelf_shell sh, shelf_buf *out);

/* ---- module trees (tree.c) and name resolution (name.c) --------------- */

/* One modulefile found under a MODULEPATH directory. */
typedef struct shelf_modfile {
    char *fullname; /* path under the MODULEPATH dir without .lua: "gcc/12.3.0", "fftw/3.3/mpi" */
    char *sn;       /* short name: "gcc", "fftw"; "a/b" for a/b/c.lua when a/ holds only
                       subdirectories and no default marker (Lmod's categories) */
    char *version;  /* "12.3.0", "3.3/mpi"; "" for a file that is a name by itself (dir/foo.lua) */
    char *path;     /* path of the modulefile (MODULEPATH dir joined with the relative path) */
    char *mpath;    /* the MODULEPATH directory it was found in */
    unsigned hidden : 1;         /* dot-named or hide_version()ed */
    unsigned is_default : 1;     /* what `sn` alone resolves to (marked, else highest visible);
                                    scan: within that MODULEPATH dir; resolve: across all */
    unsigned marked_default : 1; /* default set by a `default` symlink, .modulerc(.lua) or .version */
    unsigned is_tcl : 1;         /* a `#%Module` Tcl file (not a .lua file) */
} shelf_modfile;

/* module_alias("name", "target") from a .modulerc.lua. */
typedef struct shelf_modalias {
    char *name;
    char *target;
    char *mpath;
} shelf_modalias;

typedef struct shelf_modlist {
    shelf_modfile *items;
    size_t n, cap;
    shelf_modalias *aliases;
    size_t naliases, aliascap;
} shelf_modlist;

void shelf_modfile_free(shelf_modfile *mf);     /* frees the strings, not mf */
int shelf_modfile_copy(shelf_modfile *dst, const shelf_modfile *src); /* 0 or SHELF_ENOMEM */
void shelf_modlist_init(shelf_modlist *ml);
void shelf_modlist_free(shelf_modlist *ml);

/* Appends every modulefile under one MODULEPATH directory to `out`, sorted
 * as Lmod's avail sorts (by short name + "/" + parsed version, so "a-b/1"
 * comes before "a/1"), with is_default set per short name, and the
 * module_alias()es of its .modulerc files to out->aliases. Hidden files are
 * included with `hidden` set. Ignored: .git, .svn, *~, #*, *#, .#*, __*,
 * .*.swp, non-Lua files without a #%Module header (Tcl files are listed with
 * is_tcl), dangling symlinks, directories without any modulefile. An
 * unreadable subdirectory is skipped; an unreadable or missing `mpath`
 * itself appends nothing and returns 0. The os.getenv() of .modulerc.lua
 * files answers from env ("NAME=value" strings; NULL: nothing is set).
 * Returns 0 or SHELF_ENOMEM (then `out` holds what was appended so far;
 * the caller frees it). */
int shelf_tree_scan(const char *mpath, char *const *env, shelf_modlist *out,
                    shelf_error *err);

/* Resolves `user` (what the person typed: "gcc", "gcc/12", "gcc/12.3.0",
 * "fftw/3.3/mpi", an alias, a hidden "h/.1.0") against the MODULEPATH
 * directories, as Lmod 8.6 does: aliases and symbolic versions first
 * (module_alias, module_version), then the exact full name, then partial
 * versions ("py/3.11" -> the best 3.11.x, never 3.110; a marked default
 * among them wins), then the default of the short name. Across MODULEPATH
 * directories (N/V modules) the versions of all directories compete: a
 * marked default anywhere beats any unmarked version, else the highest
 * visible version; a full name present in several directories is taken
 * from the first, unless only a later one is marked default. N/V/V
 * modules: an exact name from any directory, the default only from the
 * first directory holding the module. Reads only the directories on the
 * path of the name (no walk of the tree). On success fills *out (caller
 * frees with shelf_modfile_free) and returns 0; SHELF_ENOTFOUND (with a
 * message naming `user`) when nothing matches; SHELF_EIO for a dangling
 * symlink named explicitly; SHELF_ENOMEM. *out is untouched on failure.
 * The .modulerc.lua files read see no environment (os.getenv() is nil):
 * shelf_resolve_with() with a resolver made on one gives them that. */
int shelf_resolve(const shelf_strv *modulepath, const char *user,
                  shelf_modfile *out, shelf_error *err);

/* A cache of what shelf_resolve_with() has read of the MODULEPATH
 * directories (their markers and the directories looked at), for a series
 * of resolutions against a tree that does not change meanwhile, e.g. one
 * command; the .modulerc.lua files it reads see env in os.getenv()
 * ("NAME=value" strings that outlive the cache; NULL: nothing). NULL on
 * OOM. */
typedef struct shelf_resolver shelf_resolver;
shelf_resolver *shelf_resolver_new(char *const *env);
void shelf_resolver_free(shelf_resolver *cache);
/* shelf_resolve() reading through `cache` (NULL: no cache). */
int shelf_resolve_with(shelf_resolver *cache, const shelf_strv *modulepath,
                       const char *user, shelf_modfile *out, shelf_error *err);

/* For each modulefile of ml (shelf_tree_scan of mpath, short names
 * together), out[i] = 1 when it is what its short name alone resolves to
 * with mpath alone on MODULEPATH (the "level default" the index records
 * and the catalog uses), else 0; env as for shelf_resolver_new. 0 or
 * SHELF_ENOMEM. */
int shelf_level_defaults(const char *mpath, char *const *env, const shelf_modlist *ml,
                         unsigned char *out);

/* The short name that `user` designates: the short name of the module it
 * resolves to, else the longest "/"-prefix of it that names an existing
 * directory in some MODULEPATH dir, else `user` itself (trimmed, without
 * trailing "/" or ".lua"). Used to match loaded modules that may no longer
 * be available; resolved through cache (NULL: none). Returns a new string
 * or NULL on OOM. */
char *shelf_user_sn(shelf_resolver *cache, const shelf_strv *modulepath, const char *user);

/* ---- utilities (util.c, fs.c, opts.c) -------------------------------------- */

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

/* A copy of path without doubled or trailing slashes; NULL on OOM. */
char *shelf_dir_norm(const char *path);
/* The directory part of path ("." without a slash, "/" for "/x"), a new
 * string; NULL on OOM. */
char *shelf_path_dir(const char *path);
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

/* nbytes random bytes (getrandom(2)) as 2 * nbytes lowercase hex digits, a
 * new string (tokens); NULL with errno set when memory or randomness is
 * missing. */
char *shelf_random_hex(size_t nbytes);


/* ---- the Lua sandbox (sandbox.c) ------------------------------------------------ */

/*
 * The one Lua sandbox (sandbox.c): modulefiles, .modulerc.lua files and the
 * launcher's launch.lua all run in it.
 *
 * A sandbox is a Lua state whose memory is capped, plus a template of the
 * globals sandboxed code may see. Each evaluation runs one text file in a
 * fresh environment of its own that sees the template through a protected
 * metatable (getmetatable(_G) is false); it gets its own copy of a
 * library table (string, table, math, utf8, os) the first time it uses
 * it, and its own string metatable, so nothing one file changes is seen
 * by the next, and a file pays only for the libraries it uses. The
 * environment behaves as a table of globals (setting, removing, pairs),
 * except that rawget and next see only what the file has used; it runs
 * under an instruction budget and a wall-clock deadline that Lua code,
 * the pattern matcher (pattern.h) and the library loops that the count
 * hook does not see (string.rep, table.insert, remove, move, sort) all
 * report to.
 *
 * The pcall policy: pcall and xpcall catch ordinary Lua errors, but not
 * an abort: a budget running out (instructions, time, memory) or
 * shelf_sandbox_abort() (LmodError, a failing host call). An abort ends
 * the evaluation, whatever the code tries.
 *
 * What every evaluation sees: assert error ipairs next pairs pcall xpcall
 * select tonumber tostring type rawequal rawget rawlen rawset
 * setmetatable (refusing __gc: a finalizer would run after the
 * evaluation) getmetatable _VERSION _G require (of string, table, math,
 * utf8 only), string, table, math, utf8, os (date, time, clock, difftime),
 * and what the caller installs. Never io, load, dofile, the debug library
 * or coroutines.
 */

struct lua_State;

typedef struct shelf_sandbox shelf_sandbox;

/* Makes a sandbox with the limits (NULL or zero fields: the defaults of
 * shelf.h). install, when not NULL, is called once in protected mode with
 * the template environment table as its argument 1, to add the caller's
 * globals (its C functions find their evaluation with shelf_sandbox_ud;
 * a table it adds is copied for each evaluation that uses it, one level
 * deep).
 * NULL when out of memory or when install raised an error. */
shelf_sandbox *shelf_sandbox_new(const shelf_eval_limits *limits,
                                 int (*install)(struct lua_State *L));
void shelf_sandbox_free(shelf_sandbox *sb);
/* A sandbox made with these limits and install, given back earlier in the
 * process, else a new one (as shelf_sandbox_new). shelf_sandbox_give hands
 * one back for that (thread-safe; a few are kept, until the process
 * exits, the rest freed). */
shelf_sandbox *shelf_sandbox_take(const shelf_eval_limits *limits,
                                  int (*install)(struct lua_State *L));
void shelf_sandbox_give(shelf_sandbox *sb);
struct lua_State *shelf_sandbox_lua(shelf_sandbox *sb);

typedef enum shelf_sandbox_status {
    SHELF_SANDBOX_OK,
    SHELF_SANDBOX_SYNTAX,       /* the text does not compile */
    SHELF_SANDBOX_ERROR,        /* a Lua error nothing caught */
    SHELF_SANDBOX_ABORTED,      /* shelf_sandbox_abort() */
    SHELF_SANDBOX_INSTRUCTIONS, /* the instruction budget ran out */
    SHELF_SANDBOX_TIME,         /* the deadline passed */
    SHELF_SANDBOX_MEMORY,       /* the state's memory cap was reached */
    SHELF_SANDBOX_NOMEM         /* malloc itself failed */
} shelf_sandbox_status;

/* One evaluation. */
typedef struct shelf_sandbox_run {
    const char *file;  /* the chunk is named "@file": messages say file:line */
    const char *text;  /* the file's text (never bytecode: refused) */
    size_t len;
    void *ud;          /* what shelf_sandbox_ud() gives the caller's functions */
    int nresults;      /* values of the chunk's return kept on success */
    int line;          /* out: the line where it failed, 0 when unknown */
} shelf_sandbox_run;

/* Evaluates run->text. Returns a status; on SHELF_SANDBOX_OK the nresults
 * values are pushed, on SHELF_SANDBOX_NOMEM nothing, otherwise one string:
 * Lua's message ("file:line: text") for SYNTAX and ERROR, for a budget
 * what ran out and how to raise it ("ran over its time budget (10 s;
 * ...)": the caller names the file), for ABORTED nothing useful (the
 * caller recorded why). The caller pops what was pushed. run->line is the
 * line of the abort or of the uncaught error, when known. Re-entrant: a
 * host call of a running evaluation may start another one, which gets its
 * own budget but never more time or instructions than the outer one has
 * left. */
int shelf_sandbox_eval(shelf_sandbox *sb, shelf_sandbox_run *run);

/* The ud of the evaluation running in L. Raises a Lua error when none is
 * running (a function called from outside any evaluation). */
void *shelf_sandbox_ud(struct lua_State *L);
/* The line of the innermost Lua function running in L, or 0. Allocates
 * nothing. */
int shelf_sandbox_line(struct lua_State *L);

/* Ends the running evaluation with SHELF_SANDBOX_ABORTED, past every pcall
 * (the caller has recorded why). Never returns; raises a plain error when
 * no evaluation is running. */
int shelf_sandbox_abort(struct lua_State *L);

/* ---- modulefile calls (modulefile.c) ----------------------------------------- */

typedef enum shelf_mode {
    SHELF_MODE_LOAD,
    SHELF_MODE_UNLOAD,
    SHELF_MODE_SHOW,
    SHELF_MODE_HELP,
    SHELF_MODE_WHATIS,
    SHELF_MODE_SPIDER,
    SHELF_MODE_REFRESH
} shelf_mode;

typedef enum shelf_fn {
    SHELF_FN_SETENV, SHELF_FN_UNSETENV, SHELF_FN_PUSHENV,
    SHELF_FN_PREPEND_PATH, SHELF_FN_APPEND_PATH, SHELF_FN_REMOVE_PATH,
    SHELF_FN_LOAD, SHELF_FN_TRY_LOAD, SHELF_FN_ALWAYS_LOAD,
    SHELF_FN_DEPENDS_ON, SHELF_FN_PREREQ, SHELF_FN_PREREQ_ANY,
    SHELF_FN_CONFLICT, SHELF_FN_UNLOAD, SHELF_FN_FAMILY,
    SHELF_FN_SET_ALIAS, SHELF_FN_UNSET_ALIAS,
    SHELF_FN_SET_SHELL_FUNCTION, SHELF_FN_UNSET_SHELL_FUNCTION,
    SHELF_FN_WHATIS, SHELF_FN_HELP,
    SHELF_FN_ADD_PROPERTY, SHELF_FN_REMOVE_PROPERTY,
    SHELF_FN_MESSAGE, SHELF_FN_WARNING
} shelf_fn;

typedef struct shelf_mf_call {
    shelf_fn fn;
    const char *fname; /* the Lua name, for `show` */
    shelf_strv args;   /* string arguments in order */
    const char *delim; /* path functions: ":" unless given */
    int priority;      /* path functions: 0 unless given */
    int table_form;    /* called as f{...} */
    int line;          /* line of the call in the modulefile */
} shelf_mf_call;

/* Appends `fname("arg1","arg2")` in Lmod's show format to out. */
void shelf_mf_call_format(const shelf_mf_call *call, shelf_buf *out);

/* ---- the spider record (spider.c) ------------------------------------------- */

typedef struct shelf_spider_rec {
    char *description; /* whatis("Description: ...") */
    char *category;    /* whatis("Category: ...") */
    char *keywords;    /* whatis("Keywords: ...") */
    char *url;         /* whatis("URL: ...") */
    char *help;        /* help() texts joined */
    char *family;      /* family("compiler") */
    shelf_strv whatis; /* every whatis() text, in order */
    shelf_strv props;  /* add_property(): "name=value" */
    shelf_strv opens;  /* directories it adds to MODULEPATH, normalized */
    shelf_strv deps;   /* names given to depends_on/load/prereq and friends */
} shelf_spider_rec;

void shelf_spider_rec_init(shelf_spider_rec *r);
void shelf_spider_rec_free(shelf_spider_rec *r); /* then r is empty again */

/* Adds what the modulefile call c tells to r; calls that tell nothing
 * (setenv, prepend_path of other variables...) are ignored.
 * 0 or SHELF_ENOMEM (r keeps what it held). */
int shelf_spider_collect(shelf_spider_rec *r, const shelf_mf_call *c);

/* ---- loaded modules (state.c) -------------------------------------------------- */

typedef struct shelf_loaded {
    char *fullname;   /* "gcc/12.3.0" */
    char *sn;         /* "gcc" */
    char *version;    /* "12.3.0" */
    char *file;       /* the modulefile evaluated */
    char *mpath;      /* the MODULEPATH directory it came from */
    char *usrname;    /* what the user (or depends_on) asked for: "gcc", "gcc/12" */
    char *family;     /* family() name, or NULL */
    shelf_strv needed_by; /* short names of loaded modules that depends_on() it */
    shelf_strv props;     /* "name=value" from add_property() */
    int user_loaded;  /* asked for by the user (not only as a dependency) */
    int active;       /* 0: inactive (not findable after a MODULEPATH change) */
} shelf_loaded;

typedef struct shelf_state {
    shelf_loaded *mods; /* in load order */
    size_t n, cap;
} shelf_state;

void shelf_state_init(shelf_state *st);
void shelf_state_free(shelf_state *st);
/* A deep copy of src into dst (initialised here). 0 or SHELF_ENOMEM (dst
 * then empty). */
int shelf_state_copy(shelf_state *dst, const shelf_state *src);

/* The loaded module with this short name, or NULL. */
shelf_loaded *shelf_state_find_sn(shelf_state *st, const char *sn);
/* The loaded module that `user` designates: its full name, its short name,
 * or a prefix of its full name ending before a "/" or "." (a partial
 * version: "gcc/12" finds gcc/12.3.0, "gcc/1" does not). */
shelf_loaded *shelf_state_find(shelf_state *st, const char *user);

/* Appends a new record (taking ownership of *m's contents) or returns
 * SHELF_ENOMEM leaving st unchanged (m's contents freed). */
int shelf_state_append(shelf_state *st, shelf_loaded *m);
void shelf_loaded_free(shelf_loaded *m);

/* ---- collections (collection.c) ---------------------------------------------- */

#define SHELF_COLLECTION_FORMAT 1

typedef struct shelf_coll_mod {
    char *fullname;       /* "torch/2.2.0" */
    char *sn;             /* "torch" */
    char *version;        /* "2.2.0" */
    char *usrname;        /* what was asked for: "torch" */
    char *file;           /* the modulefile at save time */
    char *mpath;          /* the MODULEPATH directory it came from */
    char *sha256;         /* hex digest of the modulefile at save time */
    int user_loaded;      /* asked for by the user, not only a dependency */
    shelf_strv needed_by; /* short names of the modules that depend on it */
} shelf_coll_mod;

typedef struct shelf_collection {
    char *name;
    char *created;           /* "2026-11-22T21:03:00Z" */
    char *shelf_version;     /* the version that saved it */
    shelf_strv modulepath;   /* base MODULEPATH, in order */
    shelf_coll_mod *mods;    /* in load order */
    size_t n, cap;
} shelf_collection;

void shelf_collection_init(shelf_collection *c);
void shelf_collection_free(shelf_collection *c);
/* Appends m (its contents are taken over, also on failure). 0 or
 * SHELF_ENOMEM. */
int shelf_collection_add(shelf_collection *c, shelf_coll_mod *m);
void shelf_coll_mod_free(shelf_coll_mod *m);

/* The collections directory of the environment env (shelf_xdg_dir):
 * $XDG_CONFIG_HOME/shelf/collections when XDG_CONFIG_HOME is an absolute
 * path, else $HOME/.config/shelf/collections.
 * *out is malloc'd. 0, SHELF_ENOTFOUND (neither variable usable, err says
 * so) or SHELF_ENOMEM. */
int shelf_collection_dir(char *const *env, char **out, shelf_error *err);

/* A collection name is 1-255 bytes of letters, digits, '_', '-', '.',
 * '+', '@' or ',', not starting with '.' or '-'. 0 or SHELF_EUSAGE with a
 * message saying what is wrong. */
int shelf_collection_name_check(const char *name, shelf_error *err);

/* Reads DIR/NAME.json into c (initialised by the call). 0;
 * SHELF_ENOTFOUND (no such collection); SHELF_EPARSE (corrupt or
 * hand-edited beyond repair: err names the file and what is wrong);
 * SHELF_EIO; SHELF_ENOMEM. c is empty after a failure. */
int shelf_collection_read(const char *dir, const char *name, shelf_collection *c,
                          shelf_error *err);
/* shelf_collection_read() from the user's directory (shelf_collection_dir
 * of env); its errors too. */
int shelf_collection_read_named(char *const *env, const char *name, shelf_collection *c,
                                shelf_error *err);
/* Writes c as DIR/<c->name>.json, creating DIR (mode 0700) when needed.
 * Safe against concurrent saves and failures: the old file stays until the
 * new one is complete on disk. 0, SHELF_EIO (err names the file and the
 * system's reason) or SHELF_ENOMEM. */
int shelf_collection_write(const char *dir, const shelf_collection *c, shelf_error *err);
/* The names of the collections in DIR, sorted. A missing DIR is empty. */
int shelf_collection_names(const char *dir, shelf_strv *out, shelf_error *err);
/* Deletes DIR/NAME.json. 0, SHELF_ENOTFOUND or SHELF_EIO. */
int shelf_collection_delete(const char *dir, const char *name, shelf_error *err);
/* shelf_collection_delete() in the user's directory (shelf_collection_dir
 * of env); its errors too. */
int shelf_collection_delete_named(char *const *env, const char *name, shelf_error *err);

/* The JSON form of c (what the file holds, also `describe --json`): the
 * value (cJSON_Delete), and its text (malloc'd). NULL on OOM. */
cJSON *shelf_collection_json(const shelf_collection *c);
char *shelf_collection_to_json(const shelf_collection *c);

/* What differs between a collection and the trees now. */
typedef enum shelf_drift_kind {
    SHELF_DRIFT_VANISHED, /* the modulefile is gone */
    SHELF_DRIFT_CHANGED,  /* its content changed (another SHA-256) */
    SHELF_DRIFT_UNREADABLE /* it exists but cannot be read */
} shelf_drift_kind;

typedef struct shelf_drift {
    shelf_drift_kind kind;
    size_t mod;   /* index into the collection's mods */
    char *detail; /* for the person: "modulefile /x/y.lua changed since ..." */
} shelf_drift;

/* Checks every module's file and hash. *out (malloc'd, *n entries) lists
 * the differences, NULL/0 when none. 0 or SHELF_ENOMEM. */
int shelf_collection_check(const shelf_collection *c, shelf_drift **out, size_t *n,
                           shelf_error *err);
void shelf_drifts_free(shelf_drift *d, size_t n);
/* "vanished", "changed" or "unreadable", as describe and shelfd say it. */
const char *shelf_drift_word(shelf_drift_kind k);

/* ---- export (export.c) --------------------------------------------------------- */

typedef enum shelf_export_format {
    SHELF_EXPORT_SH, SHELF_EXPORT_BASH, SHELF_EXPORT_ZSH, SHELF_EXPORT_KSH,
    SHELF_EXPORT_CSH, SHELF_EXPORT_TCSH, SHELF_EXPORT_FISH,
    SHELF_EXPORT_PYTHON, SHELF_EXPORT_JSON, SHELF_EXPORT_PREAMBLE_PYTHON,
    SHELF_EXPORT_UNKNOWN
} shelf_export_format;

/* "bash" -> SHELF_EXPORT_BASH ..., "preamble-python"; SHELF_EXPORT_UNKNOWN
 * for anything else (NULL too). */
shelf_export_format shelf_export_format_from_name(const char *name);
/* The shell whose modulefile view matches the format (python for the two
 * Python formats and json). */
shelf_shell shelf_export_format_shell(shelf_export_format f);

typedef enum shelf_export_op {
    SHELF_EXPORT_SET,   /* name = value */
    SHELF_EXPORT_PATH,  /* name = prepend + (current entries) + append */
    SHELF_EXPORT_UNSET  /* remove name */
} shelf_export_op;

typedef struct shelf_export_var {
    char *name;
    shelf_export_op op;
    char *value;        /* SET: the whole value */
    shelf_strv prepend; /* PATH: entries before the current value */
    shelf_strv append;  /* PATH: entries after it */
} shelf_export_var;

typedef struct shelf_export {
    shelf_export_var *vars; /* sorted by name */
    size_t nvars, varcap;
    shelf_changes named;    /* SHELF_CHANGE_ALIAS and _FUNC, in order */
    shelf_strv modules;     /* full names, in load order */
    char *collection;       /* the collection exported, or NULL */
    char *created;          /* "2026-11-22T21:03:00Z", or NULL */
} shelf_export;

void shelf_export_init(shelf_export *x);
void shelf_export_free(shelf_export *x);

/* Copies `base` (a NULL-terminated "NAME=value" array, NULL counts as
 * empty) into out with the SETENV and UNSETENV changes of `changes`
 * applied, in order (the other kinds are ignored). out must be initialised
 * and empty; out->v is then a NULL-terminated environment (possibly with
 * no entries: out->v may be NULL when out->n is 0). 0 or SHELF_ENOMEM (out
 * then holds a partial copy, freed by the caller). */
int shelf_export_apply(char **base, const shelf_changes *changes, shelf_strv *out);

/* Fills x->vars with what turns env0 into env1 (both NULL-terminated
 * "NAME=value" arrays; NULL counts as empty), leaving out shelf's private
 * _SHELF_* variables. A variable whose env1 value is P:v0:A as ':'-lists
 * (v0 its non-empty env0 value, P or A not empty) becomes a PATH with
 * prepend P and append A; one that env0 lacks (or has empty) and whose
 * name ends in PATH becomes a PATH with prepend = all its entries; any
 * other change is a SET or an UNSET. LOADEDMODULES and _LMFILES_ are always SET: they list
 * the modules exactly. x->vars must be empty. 0 or SHELF_ENOMEM (x->vars
 * then holds what was made so far). */
int shelf_export_diff(shelf_export *x, char **env0, char **env1);

/* Records that the modules unset `name` (unless x->vars already says
 * something about it; _SHELF_* names are ignored), keeping x->vars sorted.
 * 0 or SHELF_ENOMEM (x unchanged). */
int shelf_export_unset(shelf_export *x, const char *name);

/* Appends the script for format f to out: a comment header (what it is,
 * x->created, SHELF_VERSION_STRING, the modules and the collection), then
 * the variables in name order, then the aliases and shell functions where
 * the format has them. `pydir` is the directory holding shelf's Python
 * module, used by SHELF_EXPORT_PREAMBLE_PYTHON only (NULL: no sys.path
 * line). Every byte of every value survives but NUL. Returns 0,
 * SHELF_EUSAGE (a name that the format cannot express: err says which;
 * out may hold part of the script) or SHELF_ENOMEM. */
int shelf_export_write(const shelf_export *x, shelf_export_format f,
                       const char *pydir, shelf_buf *out, shelf_error *err);

/* ---- the engine ---------------------------------------------------------- */

/* The engine: a working copy of one environment, its loaded-module table,
 * the resolver's cache of the trees and the Lua state that evaluates
 * modulefiles. Opaque: changing commands go through shelf_run(); read
 * commands, the catalog and shelfd's endpoints ask it questions. */
typedef struct shelf_engine shelf_engine;

/* An engine on env (NULL-terminated "NAME=value", which must outlive it)
 * for shell (what myShellName() says), each evaluation with the budgets
 * of limits (NULL: the defaults). Returns 0; SHELF_ESTATE when the module
 * table in env is corrupt (err says how to recover; *out is usable, with an
 * empty table); SHELF_ENOMEM (*out NULL). Free with shelf_engine_free. */
int shelf_engine_new(char *const *env, shelf_shell shell, const shelf_eval_limits *limits,
                     shelf_engine **out, shelf_error *err);
void shelf_engine_free(shelf_engine *e);
/* The loaded modules, in load order (owned by e). */
const shelf_state *shelf_engine_state(const shelf_engine *e);
/* shelf_resolve() on e's MODULEPATH, through e's cache of the trees. */
int shelf_engine_resolve(shelf_engine *e, const char *name, shelf_modfile *mf,
                         shelf_error *err);
/* The current MODULEPATH as a list (refreshed from the environment). */
const shelf_strv *shelf_engine_modulepath(shelf_engine *e);
/* 1 if `name` resolves on the current MODULEPATH (isAvail() of modulefiles). */
int shelf_engine_is_avail(shelf_engine *e, const char *name);

/* A collection named name of e's loaded modules: fills c (initialised by
 * the caller) with the name, the time now (UTC, ISO 8601) and this
 * version of shelf, then from the loaded table: the base MODULEPATH (what
 * a forced purge would leave), then every loaded module in load order with
 * the SHA-256 of its modulefile. e is not changed. 0, SHELF_EIO (a loaded
 * module's file cannot be read: err names it) or SHELF_ENOMEM. */
int shelf_engine_snapshot(shelf_engine *e, const char *name, shelf_collection *c,
                          shelf_error *err);

/* ---- read modes: evaluating a modulefile without changing anything ----- */

/* Where the calls of a modulefile evaluated in a read mode go, in order.
 * call returns 0, or a SHELF_E* code (with err set) that ends the
 * evaluation with that code. */
typedef struct shelf_eval_sink {
    int (*call)(void *ud, const shelf_mf_call *c, shelf_error *err);
    void *ud;
} shelf_eval_sink;

/* Evaluates the Lua modulefile mf in `mode` (show, help, whatis, spider,
 * or load for a recording: mode() is what the modulefile sees) with e as
 * its host, handing every call to sink and performing none: e, its
 * environment and its table are unchanged. isloaded(), isAvail() and
 * os.getenv() answer from e, except in spider mode, which answers as a
 * fresh login would: nothing is loaded, and isAvail(name) is true when
 * name resolves with mf's own MODULEPATH directory alone. usrname is what
 * myModuleUsrName() says (NULL: the full name). Returns 0 or the code of
 * the failed evaluation (err names the file and line) or of the sink. */
int shelf_engine_read(shelf_engine *e, const shelf_modfile *mf, const char *usrname,
                      shelf_mode mode, const shelf_eval_sink *sink, shelf_error *err);

/* What spider mode tells of mf, added to rec (the one spider evaluation
 * behind the index, the catalog, avail, spider, keyword and shelfd). A Tcl
 * modulefile tells nothing (it is not evaluated). */
int shelf_engine_spider(shelf_engine *e, const shelf_modfile *mf, shelf_spider_rec *rec,
                        shelf_error *err);

/* What whatis or help mode (SHELF_MODE_WHATIS, SHELF_MODE_HELP) tells of
 * mf, added to rec. A Tcl modulefile is read, not evaluated: whatis gives
 * its module-whatis lines, help nothing. */
int shelf_engine_describe(shelf_engine *e, const shelf_modfile *mf, shelf_mode mode,
                          shelf_spider_rec *rec, shelf_error *err);

/* `show` of one modulefile. */
typedef struct shelf_show_dep {
    char *function;     /* "depends_on", "load", "prereq" ... */
    shelf_strv modules; /* its arguments */
} shelf_show_dep;

typedef struct shelf_show {
    shelf_strv lines;     /* each call as Lmod's show prints it; for a Tcl
                             modulefile (not evaluated) the file's lines */
    shelf_spider_rec rec; /* what the calls tell */
    shelf_show_dep *deps; /* the calls that load or need other modules */
    size_t ndeps, depcap;
    shelf_strv conflicts; /* the arguments of conflict() */
} shelf_show;

void shelf_show_init(shelf_show *s);
void shelf_show_free(shelf_show *s); /* then s is empty again */

/* Evaluates mf in show mode into out (initialised by the caller). 0,
 * SHELF_EIO, SHELF_ENOMEM or the modulefile's error; out then holds what
 * came before the failure. */
int shelf_engine_show(shelf_engine *e, const shelf_modfile *mf, const char *usrname,
                      shelf_show *out, shelf_error *err);

/* The modulefile `name` designates for whatis, help and show: the loaded
 * module of that name first (as Lmod), else what name resolves to on
 * MODULEPATH. Fills *mf (caller frees) and returns 0, or returns
 * shelf_resolve()'s error. */
int shelf_engine_find(shelf_engine *e, const char *name, shelf_modfile *mf,
                      shelf_error *err);

/* ---- one command: a request in, a result out (command.c) ---------------- */

typedef enum shelf_op {
    SHELF_OP_LOAD,     /* args: the modules, as the user typed them */
    SHELF_OP_TRY_LOAD, /* the same; missing modules are skipped */
    SHELF_OP_UNLOAD,   /* args: the modules */
    SHELF_OP_SWAP,     /* args: [old] new */
    SHELF_OP_PURGE,
    SHELF_OP_RELOAD,
    SHELF_OP_REFRESH,
    SHELF_OP_USE,      /* args: directories */
    SHELF_OP_UNUSE,    /* args: directories */
    SHELF_OP_RESET,    /* everything unloaded, then system_default loaded */
    SHELF_OP_RESTORE,  /* collection */
    SHELF_OP_ML        /* args: `ml` words: -name unloads, name loads */
} shelf_op;

typedef struct shelf_request {
    shelf_op op;
    char *const *args;
    size_t nargs;
    shelf_shell shell;   /* what myShellName() says */
    int force;           /* sticky modules go too */
    int recover;         /* a module table that cannot be read is dropped, with a
                            message (`module --force purge`) instead of failing */
    int append;          /* USE: at the end of MODULEPATH */
    int allow_changes;   /* RESTORE: go ahead when the collection drifted */
    const shelf_collection *collection; /* RESTORE */
    const char *system_default; /* RESET: the modules to load, colon-separated, or NULL */
    const shelf_eval_limits *limits; /* budgets of each evaluation; NULL: the defaults */
    int keep_before;     /* fill the result's `before` (a copy of the loaded state) */
} shelf_request;

typedef struct shelf_result {
    shelf_changes changes;   /* what to apply to the caller's environment */
    shelf_strv messages;     /* for the person, in order */
    int warned;              /* a modulefile warned: the changes stand, and the
                                command reports failure (as Lmod) */
    shelf_state before;      /* the loaded modules before the command (keep_before;
                                else empty) */
    shelf_state after;       /* and after */
} shelf_result;

void shelf_result_init(shelf_result *r);
void shelf_result_free(shelf_result *r); /* then r is empty again */

/* Runs request q on a working copy of env (NULL-terminated "NAME=value"),
 * as one transaction. On success fills *out and returns 0; on failure
 * returns the SHELF_E* code with err naming the module, file and line,
 * and *out is empty: the caller applies nothing. */
int shelf_run(char *const *env, const shelf_request *q, shelf_result *out, shelf_error *err);

/* ---- the index (index.c, index-build.c, index-read.c) ------------------------- */

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
/* The file it was opened from. */
const char *shelf_index_file(const shelf_index *ix);
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

/* ---- the catalog (catalog.c) ---------------------------------------------------- */

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
    shelf_strv rc_names; /* from ix: names its rc files mention */
    int rc_read;       /* rc_names were read (levels on MODULEPATH, or every level
                          with all_rc) */
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
    size_t nix, ixcap;
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
    int all_rc;        /* read the rc names of reached levels too: a view that
                          lists them (shelfd's contexts) then keeps the index's
                          defaults fast */
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
 * it (and each level's ix), having read, with with_rc, the listed levels'
 * aliases and rc names (what avail shows and its defaults need): callers
 * may then stream rows from it instead of filling the catalog. Else *ix
 * is NULL. Right after shelf_catalog_open. 0, SHELF_EIO or SHELF_ENOMEM
 * (err set). */
int shelf_catalog_stream(shelf_catalog *cat, int with_rc, shelf_index **ix, shelf_error *err);
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

/* How many modules of chain c (full names joined by SHELF_CHAIN_SEP) are
 * not in loaded (full names; NULL: none loaded). */
size_t shelf_catalog_chain_missing(const char *c, const shelf_strv *loaded);
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

/* ---- JSON (json.c) ----------------------------------------------------------------- */

/* Appends the JSON string literal for the bytes of s: valid UTF-8 as is,
 * every other byte as \udcXX (Python's surrogateescape). */
void shelf_json_quote(shelf_buf *out, const char *s);

/* Appends item as JSON text: compact, or (pretty) laid out with tabs and
 * newlines as cJSON_Print lays it out. Strings and names are quoted by
 * shelf_json_quote. An allocation failure shows as out->oom. */
void shelf_json_print(const cJSON *item, int pretty, shelf_buf *out);
/* The same as a new string (free()), NULL on OOM or when item is NULL. */
char *shelf_json_text(const cJSON *item, int pretty);

/* Where a document failed to parse. */
typedef struct shelf_json_where {
    size_t offset; /* byte offset in the text */
    int line;      /* 1-based line of that byte */
    int code;      /* SHELF_EPARSE (malformed), SHELF_EUSAGE (a NUL, raw or
                      as \u0000, which no string may hold), SHELF_ENOMEM */
} shelf_json_where;

/* Parses the len bytes of text as one JSON value (white space around it
 * allowed, nothing else), turning \udc80..\udcff escapes back into their
 * bytes. The new value (cJSON_Delete), or NULL with *where (when not NULL)
 * saying where and why. */
cJSON *shelf_json_parse(const char *text, size_t len, shelf_json_where *where);

/* Adds item under key (taking it: freed on failure too); 1, or 0 on OOM
 * or when item is NULL. */
int shelf_json_add(cJSON *obj, const char *key, cJSON *item);
/* Adds a string, or null for s == NULL; 1 or 0 (OOM). */
int shelf_json_add_str(cJSON *obj, const char *key, const char *s);

/* The vocabulary. Each returns a new value, NULL on OOM. */

/* ["a", "b"] (sv NULL: []). */
cJSON *shelf_json_strv(const shelf_strv *sv);
/* {"name": ["value", ...]} from "name=value" strings (NULL: {}). */
cJSON *shelf_json_props(const shelf_strv *props);
/* One chain of a catalog level (SHELF_CHAIN_SEP between full names) as
 * ["gcc/12.3.0", "openmpi/4.1.6"]. */
cJSON *shelf_json_chain(const char *chain);
/* A change set, the `json` shell's document (Lmod 8.7's shape):
 * {"env": {NAME: value}, "unset": [NAME], "alias": {name: text},
 *  "unalias": [name], "shellFunc": {name: {"sh": body, "csh": body|null}},
 *  "unshellFunc": [name]}; a name is in one list of a pair at most, where
 * the last change of it put it. */
cJSON *shelf_json_changes(const shelf_changes *changes);
/* A loaded module: {"name", "version", "fullname", "usrname", "loaded":
 * true, "active", "user_loaded", "dependency", "file", "modulepath",
 * "family", "needed_by", "properties"}. */
cJSON *shelf_json_loaded(const shelf_loaded *m);
/* A modulefile: {"name", "version", "fullname", "default", "loaded",
 * "hidden", "file", "modulepath", "description", "category", "keywords",
 * "properties"} (rec NULL: no spider fields). */
cJSON *shelf_json_modfile(const shelf_modfile *mf, const shelf_spider_rec *rec, int dflt,
                          int loaded);
/* A collection as its file holds it, with what drifted (d[0..nd), from
 * shelf_collection_check): "drift": [{"kind", "module", "file",
 * "detail"}], "drifted": true or false. */
cJSON *shelf_json_collection(const shelf_collection *c, const shelf_drift *d, size_t nd);
/* {"error": {"code", "message", "module", "file", "line"}} (nulls for
 * what is not known; line null when 0). */
cJSON *shelf_json_error(const char *code, const char *message, const char *module,
                        const char *file, int line);

#endif
