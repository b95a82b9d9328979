/*
 * api.c -- shelfd's JSON API: routes a decoded request to its endpoint
 * (api-context.c, api-actions.c, api-modules.c, api-collections.c; answers
 * through api-respond.c) and holds the state's life cycle (see docs/API.md
 * for every endpoint).
 *
 * State: the environment contexts, one per client id, each a
 * NULL-terminated "NAME=value" array with its own mutex (an action holds
 * it for the whole transaction, so one client's actions are serialized
 * and clients never wait for each other); the catalog of the trees
 * (api-catalog.c), built once per tree generation and shared read-only by
 * reference count; and a small LRU of GET modules answers keyed by
 * (generation, MODULEPATH, loaded files, query).
 *
 * Invariants: a context's MODULEPATH names only directories the catalog
 * allows (inside a tree, or a level a tree's module opens); a module named
 * in a request is checked (api_name_ok) before anything touches the file
 * system and is found only through the context's MODULEPATH or the
 * catalog, never through a path made from the request. A context changes
 * only when an action succeeds.
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api-internal.h"
#include "shelf.h"

/* ---- health and version ----------------------------------------------------------- */

static void get_health(api_state *s, api_response *r)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    pthread_mutex_lock(&s->ctx_lock);
    size_t n = s->nctx;
    pthread_mutex_unlock(&s->ctx_lock);
    pthread_mutex_lock(&s->cat_lock);
    unsigned long gen = s->gen;
    pthread_mutex_unlock(&s->cat_lock);
    cJSON *doc = cJSON_CreateObject();
    if (doc) {
        shelf_json_add_str(doc, "status", "ok");
        cJSON_AddNumberToObject(doc, "uptime_s", (double)(now.tv_sec - s->started.tv_sec));
        cJSON_AddNumberToObject(doc, "contexts", (double)n);
        cJSON_AddNumberToObject(doc, "generation", (double)gen);
        if (!shelf_json_add(doc, "trees", shelf_json_strv(&s->trees)))
            cJSON_Delete(doc), doc = NULL;
    }
    api_respond(r, 200, doc);
}

static void get_version(api_response *r)
{
    cJSON *doc = cJSON_CreateObject();
    if (doc) {
        shelf_json_add_str(doc, "shelf", PACKAGE_VERSION);
        cJSON_AddNumberToObject(doc, "api", 1);
    }
    api_respond(r, 200, doc);
}

/* ---- routing ------------------------------------------------------------------------ */

void api_handle(api_state *s, const api_request *req, api_response *resp)
{
    memset(resp, 0, sizeof *resp);
    const char *path = req->path ? req->path : "";
    if (strncmp(path, "/api/v1/", 8) != 0) {
        api_respond_errorf(resp, 404, "not_found", "no such endpoint: %s (the API is under /api/v1/)",
                       path);
        return;
    }
    const char *p = path + 8;
    size_t seg = strcspn(p, "/");
    const char *rest = p[seg] == '/' ? p + seg + 1 : NULL;
#define IS(word) (seg == sizeof(word) - 1 && strncmp(p, word, seg) == 0)

    if (IS("health") && !rest) {
        if (api_method_ok(req, resp, "GET"))
            get_health(s, resp);
        return;
    }
    if (IS("version") && !rest) {
        if (api_method_ok(req, resp, "GET"))
            get_version(resp);
        return;
    }
    const char *allow = NULL;
    int collections_item = IS("collections") && rest && *rest;
    if ((IS("context") || IS("modules") || IS("loaded") || IS("collections") ||
         IS("preamble")) && !rest)
        allow = IS("context") ? "GET, PUT" : "GET";
    else if (IS("modules") && rest)
        allow = "GET";
    else if ((IS("load") || IS("unload") || IS("swap") || IS("purge") || IS("reload") ||
              IS("restore")) && !rest)
        allow = "POST";
    else if (collections_item)
        allow = "GET, POST, PUT, DELETE";
    if (!allow) {
        api_respond_errorf(resp, 404, "not_found", "no such endpoint: %s", path);
        return;
    }
    if (!api_method_ok(req, resp, allow))
        return;
    if (collections_item && !api_check_collection_name(resp, rest))
        return;
    if (IS("collections") && !rest) {
        api_list_collections(s, resp);
        return;
    }
    if (collections_item && api_method_is(req, "GET")) {
        api_describe_collection(s, rest, resp);
        return;
    }
    if (collections_item && api_method_is(req, "DELETE")) {
        api_delete_collection(s, rest, resp);
        return;
    }
    api_ctx *c = api_ctx_get(s, req, resp);
    if (!c)
        return;
    if (IS("context"))
        api_method_is(req, "PUT") ? api_put_context(s, c, req, resp) : api_get_context(c, resp, 1, 1);
    else if (IS("loaded"))
        api_get_context(c, resp, 0, 0);
    else if (IS("modules") && rest)
        api_get_module(s, c, rest, resp);
    else if (IS("modules"))
        api_get_modules(s, c, req, resp);
    else if (IS("preamble"))
        api_get_preamble(s, c, req, resp);
    else if (collections_item)
        api_save_collection(s, c, rest, resp);
    else {
        char op[8];
        memcpy(op, p, seg);
        op[seg] = '\0';
        api_action(s, c, op, req, resp);
    }
#undef IS
}

/* ---- life cycle and tree changes ------------------------------------------------------- */

api_state *api_new(const api_config *cfg, shelf_error *err)
{
    api_state *s = calloc(1, sizeof *s);
    if (!s) {
        shelf_oom(err);
        return NULL;
    }
    shelf_strv_init(&s->trees);
    shelf_strv_init(&s->default_env);
    s->bus = cfg->bus;
    s->index_check = cfg->index_check;
    s->limits = cfg->limits;
    clock_gettime(CLOCK_MONOTONIC, &s->started);
    pthread_mutex_init(&s->ctx_lock, NULL);
    pthread_mutex_init(&s->cat_lock, NULL);
    pthread_mutex_init(&s->lru_lock, NULL);
    pthread_cond_init(&s->cat_built, NULL);
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < cfg->ntrees; i++) {
        if (!cfg->trees[i] || cfg->trees[i][0] != '/') {
            shelf_error_set(err, SHELF_EUSAGE, NULL, NULL, 0,
                            "a tree must be an absolute directory: %s",
                            cfg->trees[i] ? cfg->trees[i] : "(null)");
            rc = SHELF_EUSAGE;
            break;
        }
        char *n = shelf_dir_norm(cfg->trees[i]);
        rc = n ? shelf_strv_push_owned(&s->trees, n) : SHELF_ENOMEM;
    }
    for (char *const *e = cfg->default_env; rc == 0 && e && *e; e++)
        rc = shelf_strv_push(&s->default_env, *e);
    if (rc < 0) {
        if (rc == SHELF_ENOMEM)
            shelf_oom(err);
        api_free(s);
        return NULL;
    }
    return s;
}

void api_free(api_state *s)
{
    if (!s)
        return;
    /* A catalog being built in the background finishes first, and its
     * thread is done with the state (it publishes and releases after
     * clearing `building`). */
    pthread_mutex_lock(&s->cat_lock);
    while (s->building || s->builders)
        pthread_cond_wait(&s->cat_built, &s->cat_lock);
    pthread_mutex_unlock(&s->cat_lock);
    for (api_ctx *c = s->ctxs, *next; c; c = next) {
        next = c->next;
        api_ctx_free(c);
    }
    if (s->cat) {
        api_catalog_free(s->cat->cat);
        free(s->cat);
    }
    api_lru_clear(s);
    shelf_strv_free(&s->trees);
    shelf_strv_free(&s->default_env);
    pthread_mutex_destroy(&s->ctx_lock);
    pthread_mutex_destroy(&s->cat_lock);
    pthread_mutex_destroy(&s->lru_lock);
    pthread_cond_destroy(&s->cat_built);
    free(s);
}

static void bump(api_state *s, const char *event, const char *dir)
{
    pthread_mutex_lock(&s->cat_lock);
    unsigned long gen = ++s->gen;
    pthread_mutex_unlock(&s->cat_lock);
    if (!s->bus)
        return;
    cJSON *o = cJSON_CreateObject();
    if (o) {
        shelf_json_add_str(o, "dir", dir);
        cJSON_AddNumberToObject(o, "generation", (double)gen);
    }
    char *text = o ? shelf_json_text(o, 0) : NULL;
    cJSON_Delete(o);
    if (text)
        events_publish(s->bus, event, NULL, text);
    free(text);
}

void api_tree_changed(api_state *s, const char *dir)
{
    bump(s, "tree", dir);
}

void api_index_rebuilt(api_state *s, const char *dir)
{
    bump(s, "index", dir);
}
