/*
 * export.h -- the environment a set of modules makes, as a difference
 * between two environments, and scripts that apply that difference where
 * shelf is not installed (`shelf export`).
 *
 * The difference is computed once (shelf_export_diff) from env0, the
 * environment without the modules, and env1, the environment with them:
 * each variable the modules touched becomes "set", "unset" or, for a path
 * list that the modules only extended, "prepend these entries / append
 * those", relative to whatever value the variable has where the script
 * runs. shelf_export_write() turns the same difference into code for one
 * shell, Python or JSON, so every format says exactly the same thing.
 */
#ifndef SHELF_EXPORT_H
#define SHELF_EXPORT_H

#include "shelf.h"

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

#endif
