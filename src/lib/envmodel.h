/*
 * envmodel.h -- a working copy of a process environment that records what
 * changed: variables, path lists with reference counts and priorities,
 * pushenv stacks, aliases and shell functions.
 *
 * The engine applies every modulefile action to a shelf_env; the front end
 * asks shelf_env_diff() for the changes to emit once the whole command has
 * succeeded. The original environment is never modified.
 */
#ifndef SHELF_ENVMODEL_H
#define SHELF_ENVMODEL_H

#include "shelf.h"

/* One entry of a path-like variable, with the number of times it was added
 * and its priority (0 unless a modulefile gave one). */
typedef struct shelf_pathref {
    char *entry;
    int count;
    int priority;
} shelf_pathref;

/* Reference counts of one variable, for the entries whose count or
 * priority differs from the implicit (1, 0). */
typedef struct shelf_varrefs {
    char *name;
    shelf_pathref *refs;
    size_t n, cap;
} shelf_varrefs;

typedef struct shelf_env_var {
    char *name;
    char *value;    /* current value, NULL when unset */
    char *orig;     /* value before the command, NULL when it was unset */
    int orig_known; /* orig has been recorded */
} shelf_env_var;

typedef struct shelf_env_named {
    char *name;
    char *value;  /* alias text or sh function body; NULL when removed */
    char *value2; /* csh body for functions */
} shelf_env_named;

typedef struct shelf_env_stack {
    char *name;
    shelf_strv values; /* pushed previous values; "\x01" stands for unset */
} shelf_env_stack;

typedef struct shelf_env {
    char **base; /* the environment read through to (not owned) */
    shelf_env_var *vars;
    size_t nvars, varcap;
    shelf_varrefs *refs; /* per path variable */
    size_t nrefs, refcap;
    shelf_env_stack *stacks;
    size_t nstacks, stackcap;
    shelf_env_named *aliases;
    size_t naliases, aliascap;
    shelf_env_named *funcs;
    size_t nfuncs, funccap;
} shelf_env;

/* Marker used in pushenv stacks for "was unset". */
#define SHELF_ENV_UNSET_MARK "\x01"

/* Makes an env whose variables read through to `environ` (NULL-terminated
 * "NAME=value" strings, not copied until touched: it must outlive env). */
void shelf_env_init(shelf_env *env, char **environ_);
void shelf_env_free(shelf_env *env);

/* Current value of name, or NULL when unset. The pointer is valid until the
 * next change to that variable. */
const char *shelf_env_get(const shelf_env *env, const char *name);
/* Set / unset. 0 or SHELF_ENOMEM (env unchanged on failure). */
int shelf_env_set(shelf_env *env, const char *name, const char *value);
int shelf_env_unset(shelf_env *env, const char *name);

/* Adds each `delim`-separated item of `items` to the path variable `name`
 * (front for prepend, back for append), counting an entry already present
 * once more and moving it. Higher `priority` entries stay in front
 * (prepend) or at the back (append) of lower ones. 0 or SHELF_ENOMEM. */
int shelf_env_path_add(shelf_env *env, const char *name, const char *items,
                       const char *delim, int prepend, int priority);
/* Counts each item once less and removes it at zero (or at once when
 * `force`). Items not present are ignored. Unsets the variable when it
 * becomes empty. 0 or SHELF_ENOMEM. */
int shelf_env_path_remove(shelf_env *env, const char *name, const char *items,
                          const char *delim, int force);

/* pushenv: remembers the current value, then sets value. */
int shelf_env_push(shelf_env *env, const char *name, const char *value);
/* Pops the last pushed value and restores it (unsets when it was unset;
 * when the stack is empty, unsets). 0 or SHELF_ENOMEM. */
int shelf_env_pop(shelf_env *env, const char *name);

/* Aliases and shell functions (value NULL removes). */
int shelf_env_set_alias(shelf_env *env, const char *name, const char *value);
int shelf_env_set_func(shelf_env *env, const char *name, const char *sh_body,
                       const char *csh_body, int remove);

/* Reference-count bookkeeping as the state stores it. */
shelf_varrefs *shelf_env_refs(shelf_env *env, const char *name, int create);
int shelf_env_stack_push(shelf_env *env, const char *name, const char *value);

/* Appends to out every change from the original environment: variables in
 * name order, then aliases and functions. 0 or SHELF_ENOMEM. */
int shelf_env_diff(const shelf_env *env, shelf_changes *out);

#endif
