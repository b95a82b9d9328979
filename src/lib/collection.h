/*
 * collection.h -- saved sets of loaded modules ("collections"): what one
 * records, how it is stored, and how it is checked against the trees.
 *
 * A collection is the lockfile of an environment: the base MODULEPATH (the
 * one in force before any module added its directories), and the loaded
 * modules in load order with their resolved full names, modulefile paths,
 * SHA-256 of each modulefile, whether the user asked for each one and which
 * modules depend on it. Stored per user as NAME.json under
 * $XDG_CONFIG_HOME/shelf/collections/ (default ~/.config/...), written to
 * a temporary file in that directory, fsync'ed and renamed into place, so a
 * failed save never replaces a good file.
 */
#ifndef SHELF_COLLECTION_H
#define SHELF_COLLECTION_H

#include "shelf.h"

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

/* The JSON form of c (what the file holds, also `describe --json`).
 * Malloc'd, NULL on OOM. */
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

#endif
