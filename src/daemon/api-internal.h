/*
 * api-internal.h -- the pieces of shelfd's API shared by its files: api.c
 * (routing), api-respond.c (answers, request reading), api-context.c (the
 * contexts), api-actions.c, api-modules.c, api-collections.c and
 * api-catalog.c (the module catalog of the trees and the JSON of GET
 * /api/v1/modules).
 */
#ifndef SHELFD_API_INTERNAL_H
#define SHELFD_API_INTERNAL_H

#include <cJSON.h>
#include <pthread.h>
#include <time.h>

#include "api.h"
#include "shelf.h"

/* Every module of the configured trees, at every level of their hierarchy,
 * with what spider mode tells of it and the modules that open its level.
 * Immutable once built: any number of threads read it without a lock. */
typedef struct api_catalog api_catalog;

void api_catalog_free(api_catalog *cat);

/* 1 when dir (normalized) is a directory the context may have on
 * MODULEPATH: inside a tree, or a level that a module of the trees opens. */
int api_catalog_allows(const api_catalog *cat, char *const *trees, size_t ntrees,
                       const char *dir);

/* The catalog as one context sees it: the levels on its MODULEPATH, its
 * loaded modules and the defaults the engine works out for them. */
typedef struct api_view {
    const api_catalog *ac;
    unsigned char *on_mp;  /* per level of the catalog */
    shelf_strv loaded;     /* full names of the active loaded modules */
    shelf_defaults defaults;
} api_view;

/* The view of ac from engine e (opened on the context's environment).
 * 0 or SHELF_ENOMEM; free with api_view_free in both cases. */
int api_view_init(api_view *v, const api_catalog *ac, shelf_engine *e);
void api_view_free(api_view *v);

/* What GET modules asks for. */
typedef struct api_list_query {
    const char *q;       /* substring of name, description or keywords; "" all */
    int all;             /* every version, not only the default and loaded ones */
    int hidden;          /* hidden versions too */
    const shelf_strv *loaded_files; /* the context's _LMFILES_ */
} api_list_query;

/* The JSON document {"modules": [...]} for q. NULL on OOM. */
char *api_catalog_modules_json(const api_view *v, const api_list_query *q, size_t *len);

/* The module the catalog knows as `name`: a full name, or a short name
 * (the version standing for it in v, as GET modules marks it default).
 * Its modfile (owned by the catalog) or NULL. */
const shelf_modfile *api_catalog_find(const api_view *v, const char *name);

/* 1 if mf is the version standing for its short name in v. */
int api_catalog_is_default(const api_view *v, const shelf_modfile *mf);

/* The module lists that unlock the level of modulefile `file`, as
 * [["gcc/12.3.0", "openmpi/4.1.6"], ...], those needing the fewest modules
 * v has not loaded first ([] for a level that needs nothing or a file the
 * catalog does not know). NULL on OOM. */
cJSON *api_catalog_requires(const api_view *v, const char *file);

/* ---- the state (api.c), shared by the endpoint files --------------------- */

#define MAX_CONTEXTS 1024
#define MAX_CLIENT_LEN 128
#define MAX_NAME_LEN 1024
#define MAX_QUERY_LEN 256
#define LRU_SIZE 64

typedef struct api_ctx {
    char *client;
    pthread_mutex_t lock;
    shelf_strv env;      /* "NAME=value", NULL-terminated */
    shelf_strv warnings; /* what was dropped when the context was made */
    struct api_ctx *next;
} api_ctx;

/* A catalog and the tree generation it was built for. */
typedef struct cat_ref {
    api_catalog *cat;
    unsigned long gen;
    int refs; /* guarded by api_state.cat_lock */
} cat_ref;

typedef struct lru_ent {
    char *key;
    size_t keylen;
    unsigned long hash;
    char *body;
    size_t len;
    unsigned long used;
} lru_ent;

struct api_state {
    shelf_strv trees;       /* normalized */
    shelf_strv default_env; /* the daemon's, as given */
    shelf_index_check index_check;
    shelf_eval_limits limits; /* of each modulefile evaluation */
    events *bus;
    struct timespec started;

    pthread_mutex_t ctx_lock; /* the list, not the contexts */
    api_ctx *ctxs;
    size_t nctx;

    pthread_mutex_t cat_lock;
    pthread_cond_t cat_built;
    unsigned long gen; /* bumped by api_tree_changed / api_index_rebuilt */
    cat_ref *cat;      /* the newest catalog, or NULL */
    int building;
    int builders; /* background build threads still using this state */

    pthread_mutex_t lru_lock;
    lru_ent lru[LRU_SIZE];
    unsigned long tick;
};


/* ---- answers and request reading (api-respond.c) -------------------------- */

void api_respond_oom(api_response *r);
/* Answers doc (deleted here) with status. */
void api_respond(api_response *r, int status, cJSON *doc);
void api_respond_error(api_response *r, int status, const char *code, const char *module,
                       const char *file, int line, const char *message);
void api_respond_errorf(api_response *r, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* A libshelf error as HTTP: its status and code word (the error map). */
void api_respond_shelf(api_response *r, const shelf_error *err);
/* The answer of work that returned rc (0 or a SHELF_E* code, err saying
 * why): doc with status when rc is 0 and doc was made (NULL: out of
 * memory), else the error. doc is deleted here either way. */
void api_respond_result(api_response *r, int rc, const shelf_error *err, int status,
                        cJSON *doc);
/* A query parameter's value, or NULL; a flag is set when present and not "0". */
const char *api_query(const api_request *req, const char *key);
int api_query_flag(const api_request *req, const char *key);
/* 1 when name is a module name a request may use, else answers 400. */
int api_check_name(api_response *r, const char *name);
int api_check_collection_name(api_response *r, const char *name);
/* The body as a JSON object (an empty body is {} unless required); NULL
 * with the 400 answered. */
cJSON *api_parse_body(const api_request *req, api_response *r, int required);
int api_method_is(const api_request *req, const char *m);
/* 1 when req's method is one of `allow` ("GET, POST"), else answers 405. */
int api_method_ok(const api_request *req, api_response *r, const char *allow);

/* ---- the catalog per tree generation (api-catalog.c) ----------------------- */

/* The catalog of the current generation (a stale one while the new one
 * builds in the background; only the first is waited for). NULL on OOM
 * (err set). Release with api_cat_release. */
cat_ref *api_cat_get(api_state *s, shelf_error *err);
void api_cat_release(api_state *s, cat_ref *cr);

/* ---- contexts (api-context.c) ------------------------------------------------ */

/* The context of req's client, made on first use; NULL with the error
 * answered. */
api_ctx *api_ctx_get(api_state *s, const api_request *req, api_response *r);
void api_ctx_free(api_ctx *c);
/* The loaded modules as a JSON array; NULL on OOM. */
cJSON *api_loaded_json(const shelf_state *st);
void api_get_context(api_ctx *c, api_response *r, int with_env, int with_warnings);
void api_put_context(api_state *s, api_ctx *c, const api_request *req, api_response *r);

/* ---- the other endpoints ------------------------------------------------------ */

/* POST load|unload|swap|purge|reload|restore (api-actions.c). */
void api_action(api_state *s, api_ctx *c, const char *word, const api_request *req,
                api_response *r);
/* GET modules, GET modules/NAME (api-modules.c); api_lru_clear forgets the
 * cached answers. */
void api_get_modules(api_state *s, api_ctx *c, const api_request *req, api_response *r);
void api_get_module(api_state *s, api_ctx *c, const char *name, api_response *r);
void api_lru_clear(api_state *s);
/* Collections and preamble (api-collections.c). */
void api_list_collections(api_state *s, api_response *r);
void api_describe_collection(api_state *s, const char *name, api_response *r);
void api_save_collection(api_state *s, api_ctx *c, const char *name, api_response *r);
void api_delete_collection(api_state *s, const char *name, api_response *r);
void api_get_preamble(api_state *s, api_ctx *c, const api_request *req, api_response *r);

#endif
