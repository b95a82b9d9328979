/*
 * shelf.h -- the public surface of libshelf, the module engine.
 *
 * Everything a front end (the `shelf` command, `shelfd`, the launcher) may
 * call is declared here; everything else is internal (shelf-internal.h).
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

#include <stddef.h>
#include <stdarg.h>

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
 * itself appends nothing and returns 0. Returns 0 or SHELF_ENOMEM (then
 * `out` holds what was appended so far; the caller frees it). */
int shelf_tree_scan(const char *mpath, shelf_modlist *out, shelf_error *err);

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
 * symlink named explicitly; SHELF_ENOMEM. *out is untouched on failure. */
int shelf_resolve(const shelf_strv *modulepath, const char *user,
                  shelf_modfile *out, shelf_error *err);

/* A cache of what shelf_resolve_with() has read of the MODULEPATH
 * directories (their markers and the directories looked at), for a series
 * of resolutions against a tree that does not change meanwhile, e.g. one
 * command. NULL on OOM. */
typedef struct shelf_resolver shelf_resolver;
shelf_resolver *shelf_resolver_new(void);
void shelf_resolver_free(shelf_resolver *cache);
/* shelf_resolve() reading through `cache` (NULL: no cache). */
int shelf_resolve_with(shelf_resolver *cache, const shelf_strv *modulepath,
                       const char *user, shelf_modfile *out, shelf_error *err);

/* For each modulefile of ml (shelf_tree_scan of mpath, short names
 * together), out[i] = 1 when it is what its short name alone resolves to
 * with mpath alone on MODULEPATH (the "level default" the index records
 * and the catalog uses), else 0. 0 or SHELF_ENOMEM. */
int shelf_level_defaults(const char *mpath, const shelf_modlist *ml, unsigned char *out);

/* The short name that `user` designates: the short name of the module it
 * resolves to, else the longest "/"-prefix of it that names an existing
 * directory in some MODULEPATH dir, else `user` itself (trimmed, without
 * trailing "/" or ".lua"). Used to match loaded modules that may no longer
 * be available. Returns a new string or NULL on OOM. */
char *shelf_user_sn(const shelf_strv *modulepath, const char *user);

#endif
