/*
 * launch.h -- the pieces of `shelf launch` (the shelf-launch program):
 * the site configuration and its profiles (config.c), the request a person
 * makes against a profile (launch.c), the Kubernetes objects rendered from
 * it (render.c, printed by yaml.c), running kubectl (kube.c, through the
 * libuv process helper in spawn.c) and the local backend (local.c).
 *
 * Data flows one way: config -> request -> objects (or a local process).
 * This program is a front end: on an allocation failure it prints
 * "out of memory" and exits 1 (xmalloc and friends below); every other
 * failure is a value returned to main(), which prints it.
 */
#ifndef SHELF_LAUNCH_H
#define SHELF_LAUNCH_H

#include <stddef.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "shelf.h"

/* ---- allocation and small helpers (launch.c) ---------------------------- */

/* Prints "out of memory" and exits 1. */
void launch_oom(void) __attribute__((noreturn));
void *xmalloc(size_t n);
char *xstrdup(const char *s);
char *xfmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The whole of the file at path, NUL-terminated, its length in *len when
 * len is not NULL (exits on OOM). NULL when it cannot be read; then *why
 * (when why is not NULL) is set to a message naming the file, to be freed. */
char *launch_read_text(const char *path, size_t *len, char **why);
void xpush(shelf_strv *sv, const char *s);
/* Checks a cJSON allocation result; exits on NULL. */
cJSON *xjson(cJSON *j);
/* The message, printed as "shelf launch: error: MESSAGE". */
void launch_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- the site configuration (config.c) --------------------------------- */

typedef enum launch_vol_kind {
    LAUNCH_VOL_NONE,     /* not given */
    LAUNCH_VOL_PVC,      /* persistentVolumeClaim: claim */
    LAUNCH_VOL_NFS,      /* nfs: server, path */
    LAUNCH_VOL_HOSTPATH, /* hostPath: path */
    LAUNCH_VOL_EMPTYDIR  /* emptyDir (home only) */
} launch_vol_kind;

typedef struct launch_volume {
    launch_vol_kind kind;
    char *claim;  /* PVC name; may hold {user}, {name}, {profile} */
    char *server; /* NFS server */
    char *path;   /* NFS export or host path */
    char *mount;  /* where the container sees it */
} launch_volume;

/* NAME=VALUE pairs in the order they were given (sorted by name for the
 * tables of the config file, which have no order). */
typedef struct launch_kv {
    shelf_strv keys;
    shelf_strv values;
} launch_kv;

typedef struct launch_profile {
    char *name;
    char *description;
    char *kind;          /* "pod" (Pod + Service + Secret) or "notebook" */
    char *image;
    shelf_strv command;  /* the server's argv, with {placeholders} */
    shelf_strv local_command; /* the local backend's, or empty: command */
    char *cpu_request, *cpu_limit;
    char *memory_request, *memory_limit;
    long gpus;           /* nvidia.com/gpu in limits; 0 none */
    int port;            /* the server's port in the container */
    long uid, gid;       /* runAsUser/runAsGroup/fsGroup */
    launch_kv node_selector;
    cJSON *tolerations;  /* an array of Toleration objects (checked) */
    launch_volume tree;  /* the module tree, mounted read-only */
    char *tree_local;    /* local backend: the host directory of the tree */
    shelf_strv modulepath; /* MODULEPATH, under tree.mount */
    char *prefix;        /* where shelf is installed in the image: default tree.mount */
    launch_volume home;  /* the user's home (read-write) */
    launch_kv env;       /* extra environment */
    char *collection;    /* the collection restored at start, or NULL */
    /* what the user may override */
    int allow_collection;
    char *cpu_max;       /* NULL: the CPU may not be changed */
    char *memory_max;
    long gpus_max;       /* -1: the GPUs may not be changed */
    shelf_strv images;   /* images the user may choose, besides `image` */
    int line;            /* where the profile is in the file (0 unknown) */
} launch_profile;

typedef struct launch_config {
    char *file;
    launch_profile *profiles;
    size_t n;
    /* site collections: names[i] loads mods[i] (module names, in order) */
    shelf_strv coll_names;
    shelf_strv *coll_mods;
    size_t coll_cap; /* of coll_mods */
} launch_config;

/* Reads and checks FILE, evaluated as Lua 5.4 in libshelf's sandbox (what
 * every evaluation sees: no io, load or debug; os only date, time, clock
 * and difftime; budgets of instructions, time and memory): it returns a table with
 * `profiles` (a list), optional `defaults` (fields every profile gets
 * unless it sets them) and optional `collections` (name -> list of
 * modules). Fills *cfg (launch_config_free it, also after a failure).
 * 0; SHELF_EIO (cannot read the file); SHELF_EPARSE (a Lua error, or a
 * field that is missing, unknown or of the wrong type): *msg (malloc'd)
 * then names the file and the line. */
int launch_config_load(const char *file, launch_config *cfg, char **msg);
void launch_config_free(launch_config *cfg);
const launch_profile *launch_config_find(const launch_config *cfg, const char *name);
/* The site collection NAME's modules, or NULL. */
const shelf_strv *launch_config_collection(const launch_config *cfg, const char *name);


/* A Kubernetes quantity ("500m", "2", "4Gi", "1.5G") as a number of base
 * units (CPUs, bytes). 0 or -1 (not a quantity). */
int launch_quantity(const char *s, double *out);

/* ---- the request ------------------------------------------------------- */

typedef struct launch_request {
    const launch_profile *p;
    char *user;        /* as given */
    char *user_label;  /* the user as a label value */
    char *name;        /* DNS-1123 label: the objects' name */
    char *namespace;   /* NULL: kubectl's default */
    char *image;
    char *cpu_request, *cpu_limit;
    char *memory_request, *memory_limit;
    long gpus;
    char *collection;  /* NULL: none */
    shelf_strv modules;   /* a site collection's modules (to load and save) */
    char *collection_json; /* the user's saved collection, to carry along */
    char *token;       /* the server's token */
    char *base_url;    /* "/user/alice/train/" */
    char *home;        /* the home directory (container or local) */
} launch_request;

void launch_request_free(launch_request *r);

/* "{user}" -> r->user ... in s: a new string. Placeholders: {user}, {name},
 * {profile}, {port}, {token}, {base_url}, {home}, {namespace}. An unknown
 * {word} is kept as it is. `port` and `token` are given by the backend. */
char *launch_subst(const launch_request *r, const char *s, const char *port,
                   const char *token);

/* The DNS-1123 label made of s: lowercased, every run of other characters
 * than [a-z0-9] one '-', no '-' at either end, at most `max` bytes (a
 * longer one ends in a short hash of s, so different long names stay
 * different). A leading digit gets "u-" in front (Services need a letter
 * first). NULL when nothing usable remains. */
char *launch_dns_label(const char *s, size_t max);
/* s as a label value ([A-Za-z0-9._-], alnum at both ends, <= 63). */
char *launch_label_value(const char *s);

/* The start script: sources shelf's init, restores (or loads and saves)
 * the collection, then execs its arguments (the server's argv). Static. */
const char *launch_start_script(void);

/* ---- rendering (render.c) and printing (yaml.c) ------------------------ */

/* The List of objects for r: Secret + Pod + Service ("pod"), or Notebook
 * ("notebook"). Never NULL (exits on OOM). */
cJSON *launch_render(const launch_request *r);
/* YAML for a cJSON tree (one document). Strings are quoted whenever plain
 * style could change their meaning. */
void launch_yaml(const cJSON *j, shelf_buf *out);

/* ---- processes (spawn.c) ----------------------------------------------- */

typedef struct launch_run {
    int exit_status;   /* -1: could not be started (spawn_error says why) */
    int term_signal;
    char *out, *err;   /* what it printed (never NULL after a run) */
    char *spawn_error;
} launch_run;

/* Runs argv (argv[0] looked up on PATH) with `input` on its stdin (NULL:
 * nothing), collecting stdout and stderr, through a libuv loop. Always
 * fills *run (launch_run_free it). Returns 0 when it ran and exited 0. */
int launch_spawn(char *const argv[], const char *input, launch_run *run);
void launch_run_free(launch_run *run);

/* ---- Kubernetes (kube.c) ----------------------------------------------- */

typedef struct kube_opts {
    const char *kubectl;    /* default "kubectl" */
    const char *context;
    const char *namespace;
    const char *kubeconfig;
} kube_opts;

/* Applies the List in one `kubectl apply -f -`, after checking that no
 * object of that name belongs to another user. On a failure the objects
 * kubectl reports created are deleted. Returns the exit status. */
int kube_apply(const kube_opts *ko, const launch_request *r, const cJSON *list);
/* `status [NAME]`, `logs NAME`, `stop NAME`: exit status. */
int kube_status(const kube_opts *ko, const char *name);
int kube_logs(const kube_opts *ko, const char *name);
int kube_stop(const kube_opts *ko, const char *name);

/* ---- the local backend (local.c) --------------------------------------- */

typedef struct local_opts {
    int sandbox;        /* 1 bwrap if there, 0 never (--no-sandbox) */
    double timeout;     /* seconds to wait for the server to answer */
    int json;
} local_opts;

int local_start(const local_opts *lo, launch_request *r);
int local_status(const local_opts *lo, const char *name);
int local_stop(const local_opts *lo, const char *name);
int local_logs(const char *name);

#endif
