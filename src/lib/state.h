/*
 * state.h -- the loaded-module table and how it lives in the environment.
 *
 * The table (modules in load order, plus the path reference counts and
 * pushenv stacks held by the shelf_env) is stored as compact JSON split into
 * chunks of SHELF_STATE_CHUNK bytes: _SHELF_TABLE_001, _SHELF_TABLE_002, ...
 * with the number of chunks in _SHELF_TABLE_SZ (csh limits the length of a
 * variable). LOADEDMODULES and _LMFILES_ are derived from the table.
 */
#ifndef SHELF_STATE_H
#define SHELF_STATE_H

#include "envmodel.h"
#include "shelf.h"

#define SHELF_STATE_CHUNK 512

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

/* Reads the table from env (and the reference counts and pushenv stacks
 * into env). An environment without a table gives an empty state. A
 * corrupt table gives SHELF_ESTATE with a message saying what is wrong and
 * how to recover; st is then empty and env unchanged. */
int shelf_state_load(shelf_state *st, shelf_env *env, shelf_error *err);

/* Writes the table, LOADEDMODULES and _LMFILES_ into env (removing all of
 * them when nothing is loaded and no counts are left). 0 or SHELF_ENOMEM. */
int shelf_state_save(const shelf_state *st, shelf_env *env);

/* The loaded module with this short name, or NULL. */
shelf_loaded *shelf_state_find_sn(shelf_state *st, const char *sn);
/* The loaded module that `user` designates: its full name, its short name,
 * or a prefix of its full name ending before a "/" or "." (a partial
 * version: "gcc/12" finds gcc/12.3.0, "gcc/1" does not). */
shelf_loaded *shelf_state_find(shelf_state *st, const char *user);

/* Appends a new record (taking ownership of *m's contents) or returns
 * SHELF_ENOMEM leaving st unchanged (m's contents freed). */
int shelf_state_append(shelf_state *st, shelf_loaded *m);
/* Removes the record at index i. */
void shelf_state_remove(shelf_state *st, size_t i);
void shelf_loaded_free(shelf_loaded *m);

#endif
