/*
 * api.c -- shelfd's JSON API: routes a decoded request to its endpoint and
 * answers JSON (see docs/API.md for every endpoint).
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

#include <cJSON.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "api-internal.h"
#include "api.h"
#include "collection.h"
#include "engine.h"
#include "export.h"
#include "index.h"
#include "shelf-internal.h"

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
    events *bus;
    shelf_eval_limits limits; /* of each modulefile evaluation */
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

/* What a response says when even the error could not be allocated. */
static char oom_body[] =
    "{\"error\":{\"code\":\"out_of_memory\",\"message\":\"out of memory\","
    "\"module\":null,\"file\":null,\"line\":null}}";

/* ---- responses -------------------------------------------------------------- */

static void respond_oom(api_response *r)
{
    free(r->body != oom_body ? r->body : NULL);
    r->status = 500;
    r->body = oom_body;
    r->len = sizeof oom_body - 1;
}

/* Answers doc (deleted here) with status. */
static void respond(api_response *r, int status, cJSON *doc)
{
    char *text = doc ? cJSON_PrintUnformatted(doc) : NULL;
    cJSON_Delete(doc);
    if (!text) {
        respond_oom(r);
        return;
    }
    r->status = status;
    r->body = text;
    r->len = strlen(text);
}

static void add_str(cJSON *o, const char *k, const char *v)
{
    if (v)
        cJSON_AddStringToObject(o, k, v);
    else
        cJSON_AddNullToObject(o, k);
}

static void respond_error(api_response *r, int status, const char *code, const char *module,
                          const char *file, int line, const char *message)
{
    cJSON *doc = cJSON_CreateObject();
    cJSON *e = doc ? cJSON_AddObjectToObject(doc, "error") : NULL;
    if (!e) {
        cJSON_Delete(doc);
        respond_oom(r);
        return;
    }
    add_str(e, "code", code);
    add_str(e, "message", message);
    add_str(e, "module", module);
    add_str(e, "file", file);
    if (line > 0)
        cJSON_AddNumberToObject(e, "line", line);
    else
        cJSON_AddNullToObject(e, "line");
    respond(r, status, doc);
}

static void respond_errorf(api_response *r, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void respond_errorf(api_response *r, int status, const char *code, const char *fmt, ...)
{
    shelf_buf b;
    shelf_buf_init(&b);
    va_list ap;
    va_start(ap, fmt);
    shelf_buf_vaddf(&b, fmt, ap);
    va_end(ap);
    if (shelf_buf_ok(&b) < 0)
        respond_oom(r);
    else
        respond_error(r, status, code, NULL, NULL, 0, b.data ? b.data : "");
    shelf_buf_free(&b);
}

/* A libshelf error as HTTP: its status and code word. */
static void respond_shelf(api_response *r, const shelf_error *err)
{
    int status = 500;
    const char *code = "internal";
    switch (err->code) {
    case SHELF_ENOTFOUND: status = 404; code = "not_found"; break;
    case SHELF_EUSAGE: status = 400; code = "bad_request"; break;
    case SHELF_EPARSE: status = 400; code = "bad_request"; break;
    case SHELF_EMODULEFILE: status = 422; code = "modulefile_error"; break;
    case SHELF_ELMODERROR: status = 422; code = "lmod_error"; break;
    case SHELF_ECONFLICT: status = 422; code = "conflict"; break;
    case SHELF_EPREREQ: status = 422; code = "prereq"; break;
    case SHELF_EFAMILY: status = 422; code = "family"; break;
    case SHELF_EDRIFT: status = 409; code = "drift"; break;
    case SHELF_ESTATE: status = 409; code = "state"; break;
    case SHELF_EIO: status = 500; code = "io_error"; break;
    case SHELF_ENOMEM: respond_oom(r); return;
    default: break;
    }
    respond_error(r, status, code, err->module, err->file, err->line,
                  err->message ? err->message : shelf_strerror(err->code));
}

void api_response_free(api_response *resp)
{
    if (resp->body != oom_body)
        free(resp->body);
    resp->body = NULL;
    resp->len = 0;
}

/* ---- small helpers ------------------------------------------------------------ */

static const char *query(const api_request *req, const char *key)
{
    for (size_t i = 0; i < req->nquery; i++)
        if (req->qkeys[i] && strcmp(req->qkeys[i], key) == 0)
            return req->qvals[i] ? req->qvals[i] : "";
    return NULL;
}

/* ?all, ?all=1, ?all=true: 1; absent, 0, false, no: 0. */
static int query_flag(const api_request *req, const char *key)
{
    const char *v = query(req, key);
    return v && strcmp(v, "0") != 0 && strcasecmp(v, "false") != 0 && strcasecmp(v, "no") != 0;
}

/* A module name from a request: 1-1024 bytes, no leading "/", no empty,
 * "." or ".." component, no backslash, no control character. Checked
 * before the name reaches anything that reads the file system. */
static int api_name_ok(const char *name, const char **why)
{
    size_t n = strlen(name);
    *why = NULL;
    if (n == 0)
        *why = "is empty";
    else if (n > MAX_NAME_LEN)
        *why = "is too long";
    else if (name[0] == '/')
        *why = "starts with \"/\"";
    else if (strchr(name, '\\'))
        *why = "contains a backslash";
    for (const unsigned char *p = (const unsigned char *)name; !*why && *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            *why = "contains a control character";
    for (const char *p = name; !*why && p;) {
        const char *q = strchr(p, '/');
        size_t len = q ? (size_t)(q - p) : strlen(p);
        if (len == 0)
            *why = "has an empty component";
        else if ((len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.'))
            *why = "has a \".\" or \"..\" component";
        p = q ? q + 1 : NULL;
    }
    return *why == NULL;
}

static int check_name(api_response *r, const char *name)
{
    const char *why;
    if (api_name_ok(name, &why))
        return 1;
    respond_errorf(r, 400, "bad_name", "bad module name \"%s\": it %s", name, why);
    return 0;
}

static int check_collection_name(api_response *r, const char *name)
{
    shelf_error err = {0};
    if (shelf_collection_name_check(name, &err) == 0)
        return 1;
    err.code = SHELF_EUSAGE;
    respond_shelf(r, &err);
    shelf_error_clear(&err);
    return 0;
}

/* Parses the body as a JSON object: an empty body is {} unless required.
 * NULL with the 400 answered. */
static cJSON *parse_body(const api_request *req, api_response *r, int required)
{
    size_t len = req->body ? req->body_len : 0;
    size_t i = 0;
    while (i < len && strchr(" \t\r\n", req->body[i]))
        i++;
    if (i == len) {
        if (!required)
            return cJSON_CreateObject();
        respond_error(r, 400, "bad_request", NULL, NULL, 0, "a JSON object body is required");
        return NULL;
    }
    /* cJSON would cut a string at an escaped NUL: refuse those outright. */
    for (size_t k = i; k + 6 <= len; k++)
        if (req->body[k] == '\\' && req->body[k + 1] == 'u' &&
            strncmp(req->body + k + 2, "0000", 4) == 0) {
            respond_error(r, 400, "bad_json", NULL, NULL, 0,
                          "a NUL character (\\u0000) in the body");
            return NULL;
        }
    const char *end = NULL;
    cJSON *doc = cJSON_ParseWithLengthOpts(req->body, len, &end, 0);
    if (doc && end)
        while (end < req->body + len && strchr(" \t\r\n", *end))
            end++;
    if (!doc || (end && end != req->body + len)) {
        size_t at = end && end >= req->body ? (size_t)(end - req->body) : 0;
        cJSON_Delete(doc);
        respond_errorf(r, 400, "bad_json", "malformed JSON body (at byte %zu)", at);
        return NULL;
    }
    if (!cJSON_IsObject(doc)) {
        cJSON_Delete(doc);
        respond_error(r, 400, "bad_request", NULL, NULL, 0, "the body must be a JSON object");
        return NULL;
    }
    return doc;
}

static int method_is(const api_request *req, const char *m)
{
    return req->method && strcmp(req->method, m) == 0;
}

/* 1 when req's method is one of `allow` ("GET, POST"), else answers 405. */
static int method_ok(const api_request *req, api_response *r, const char *allow)
{
    size_t n = req->method ? strlen(req->method) : 0;
    for (const char *p = allow; n && p;) {
        if (strncmp(p, req->method, n) == 0 && (p[n] == ',' || p[n] == '\0'))
            return 1;
        p = strchr(p, ',');
        p = p ? p + 2 : NULL;
    }
    r->allow = allow;
    respond_errorf(r, 405, "method_not_allowed", "%s is not allowed here (allowed: %s)",
                   req->method ? req->method : "(none)", allow);
    return 0;
}

static cJSON *strv_json(const shelf_strv *sv)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; a && i < sv->n; i++) {
        cJSON *s = cJSON_CreateString(sv->v[i]);
        if (!s || !cJSON_AddItemToArray(a, s)) {
            cJSON_Delete(s);
            cJSON_Delete(a);
            return NULL;
        }
    }
    return a;
}

/* Adds item to o under k; deletes o and returns 0 when item is NULL. */
static int add_item(cJSON *o, const char *k, cJSON *item)
{
    if (item && cJSON_AddItemToObject(o, k, item))
        return 1;
    cJSON_Delete(item);
    return 0;
}

/* ---- the catalog, per tree generation --------------------------------------------- */

static void cat_release(api_state *s, cat_ref *cr)
{
    if (!cr)
        return;
    pthread_mutex_lock(&s->cat_lock);
    int last = --cr->refs == 0;
    pthread_mutex_unlock(&s->cat_lock);
    if (last) {
        api_catalog_free(cr->cat);
        free(cr);
    }
}

/* Builds the catalog of generation gen and makes it the newest; clears
 * s->building. With for_caller the caller holds a reference to the result
 * (NULL on OOM, err set). */
static cat_ref *cat_build(api_state *s, unsigned long gen, int for_caller, shelf_error *err)
{
    cat_ref *cr = calloc(1, sizeof *cr);
    int rc = cr ? api_catalog_build(s->trees.v, s->trees.n, s->default_env.v,
                                         &s->limits, &cr->cat, err)
                : SHELF_ENOMEM;
    if (rc < 0) {
        if (!cr)
            shelf_error_set(err, SHELF_ENOMEM, NULL, NULL, 0, "out of memory");
        free(cr);
        cr = NULL;
    }
    pthread_mutex_lock(&s->cat_lock);
    s->building = 0;
    cat_ref *old = NULL;
    if (cr) {
        cr->gen = gen;
        cr->refs = for_caller ? 2 : 1; /* the state's (and the caller's) */
        old = s->cat;
        s->cat = cr;
    }
    pthread_cond_broadcast(&s->cat_built);
    pthread_mutex_unlock(&s->cat_lock);
    if (cr && old && s->bus) {
        /* Clients that re-read after a `tree` event got the previous
         * catalog: tell them the new one is in. */
        char text[64];
        snprintf(text, sizeof text, "{\"generation\":%lu}", gen);
        events_publish(s->bus, "catalog", NULL, text);
    }
    cat_release(s, old);
    return for_caller ? cr : NULL;
}

typedef struct cat_job {
    api_state *s;
    unsigned long gen;
} cat_job;

static void *cat_build_thread(void *p)
{
    cat_job *job = p;
    shelf_error err = {0};
    api_state *s = job->s;
    cat_build(s, job->gen, 0, &err);
    shelf_error_clear(&err); /* the next request tries again */
    free(job);
    /* The last touch of s: api_free waits for this. */
    pthread_mutex_lock(&s->cat_lock);
    s->builders--;
    pthread_cond_broadcast(&s->cat_built);
    pthread_mutex_unlock(&s->cat_lock);
    return NULL;
}

/* The catalog of the current generation. When the trees changed and an
 * older catalog exists, that one is returned at once and the new one is
 * built by a thread of its own: a slow modulefile in the trees delays no
 * request. Only the very first catalog is waited for. NULL on OOM (err
 * set). Release with cat_release. */
static cat_ref *cat_get(api_state *s, shelf_error *err)
{
    pthread_mutex_lock(&s->cat_lock);
    for (;;) {
        if (s->cat && s->cat->gen != s->gen && !s->building) {
            cat_job *job = malloc(sizeof *job);
            pthread_attr_t attr;
            pthread_t t;
            int started = 0;
            if (job && pthread_attr_init(&attr) == 0) {
                pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
                *job = (cat_job){s, s->gen};
                s->building = 1;
                started = pthread_create(&t, &attr, cat_build_thread, job) == 0;
                pthread_attr_destroy(&attr);
                if (started)
                    s->builders++;
            }
            if (!started) {
                s->building = 0; /* build it here instead, below */
                free(job);
                break;
            }
        }
        if (s->cat && (s->cat->gen == s->gen || s->building)) {
            s->cat->refs++;
            cat_ref *cr = s->cat;
            pthread_mutex_unlock(&s->cat_lock);
            return cr;
        }
        if (!s->building)
            break;
        pthread_cond_wait(&s->cat_built, &s->cat_lock);
    }
    s->building = 1;
    unsigned long gen = s->gen;
    pthread_mutex_unlock(&s->cat_lock);
    return cat_build(s, gen, 1, err);
}

/* ---- contexts ------------------------------------------------------------------------ */

/* Keeps only the MODULEPATH entries inside the trees (normalized), saying
 * in warnings what was dropped; sets MODULEPATH to the trees when the
 * environment has none. 0 or SHELF_ENOMEM. */
static int filter_modulepath(api_state *s, const api_catalog *cat, shelf_strv *env,
                             shelf_strv *warnings)
{
    const char *mp = shelf_environ_get(env->v, "MODULEPATH");
    if (!mp) {
        char *all = shelf_strv_join(&s->trees, ":");
        int rc = all ? shelf_environ_put(env, "MODULEPATH", all) : SHELF_ENOMEM;
        free(all);
        return rc;
    }
    shelf_strv parts, kept;
    shelf_strv_init(&parts);
    shelf_strv_init(&kept);
    int rc = shelf_strv_split(&parts, mp, ":", 0);
    for (size_t i = 0; rc == 0 && i < parts.n; i++) {
        char *norm = shelf_dir_norm(parts.v[i]);
        if (!norm) {
            rc = SHELF_ENOMEM;
        } else if (api_catalog_allows(cat, s->trees.v, s->trees.n, norm)) {
            rc = shelf_strv_find(&kept, norm) >= 0 ? (free(norm), 0)
                                                  : shelf_strv_push_owned(&kept, norm);
        } else {
            free(norm);
            shelf_buf b;
            shelf_buf_init(&b);
            shelf_buf_addf(&b, "MODULEPATH entry %s is outside the trees this daemon serves: "
                               "dropped", parts.v[i]);
            char *w = shelf_buf_take(&b);
            rc = w ? shelf_strv_push_owned(warnings, w) : SHELF_ENOMEM;
        }
    }
    char *joined = rc == 0 ? shelf_strv_join(&kept, ":") : NULL;
    if (rc == 0)
        rc = joined ? shelf_environ_put(env, "MODULEPATH", joined) : SHELF_ENOMEM;
    free(joined);
    shelf_strv_free(&parts);
    shelf_strv_free(&kept);
    return rc;
}

/* Makes env (empty, initialised) from environ_ (NULL-terminated), with
 * MODULEPATH filtered. 0 or a code with err set. */
static int make_env(api_state *s, char *const *environ_, shelf_strv *env, shelf_strv *warnings,
                    shelf_error *err)
{
    for (char *const *e = environ_; e && *e; e++)
        if (strchr(*e, '=') && shelf_strv_push(env, *e) < 0)
            goto nomem;
    cat_ref *cr = cat_get(s, err);
    if (!cr)
        return err->code ? err->code : SHELF_ENOMEM;
    int rc = filter_modulepath(s, cr->cat, env, warnings);
    cat_release(s, cr);
    if (rc == 0)
        return 0;
nomem:
    shelf_error_set(err, SHELF_ENOMEM, NULL, NULL, 0, "out of memory");
    return SHELF_ENOMEM;
}

static void ctx_free(api_ctx *c)
{
    pthread_mutex_destroy(&c->lock);
    free(c->client);
    shelf_strv_free(&c->env);
    shelf_strv_free(&c->warnings);
    free(c);
}

/* The context of req's client, made from the default environment when new.
 * NULL with the error answered. Contexts live until api_free. */
static api_ctx *ctx_get(api_state *s, const api_request *req, api_response *r)
{
    const char *client = req->client && *req->client ? req->client : "default";
    size_t n = strlen(client);
    int bad = n > MAX_CLIENT_LEN;
    for (const unsigned char *p = (const unsigned char *)client; !bad && *p; p++)
        bad = *p < 0x21 || *p == 0x7f;
    if (bad) {
        respond_error(r, 400, "bad_client", NULL, NULL, 0,
                      "the client id must be 1-128 printable characters without spaces");
        return NULL;
    }
    pthread_mutex_lock(&s->ctx_lock);
    for (api_ctx *c = s->ctxs; c; c = c->next)
        if (strcmp(c->client, client) == 0) {
            pthread_mutex_unlock(&s->ctx_lock);
            return c;
        }
    pthread_mutex_unlock(&s->ctx_lock);

    /* Made outside the list's lock (it may build the catalog). */
    api_ctx *c = calloc(1, sizeof *c);
    shelf_error err = {0};
    if (!c || !(c->client = strdup(client))) {
        free(c);
        respond_oom(r);
        return NULL;
    }
    pthread_mutex_init(&c->lock, NULL);
    shelf_strv_init(&c->env);
    shelf_strv_init(&c->warnings);
    if (make_env(s, s->default_env.v, &c->env, &c->warnings, &err) < 0) {
        respond_shelf(r, &err);
        shelf_error_clear(&err);
        ctx_free(c);
        return NULL;
    }
    pthread_mutex_lock(&s->ctx_lock);
    api_ctx *found = NULL;
    for (api_ctx *o = s->ctxs; o && !found; o = o->next)
        if (strcmp(o->client, client) == 0)
            found = o;
    if (!found && s->nctx >= MAX_CONTEXTS) {
        pthread_mutex_unlock(&s->ctx_lock);
        ctx_free(c);
        respond_error(r, 503, "too_many_contexts", NULL, NULL, 0,
                      "too many client contexts");
        return NULL;
    }
    if (!found) {
        c->next = s->ctxs;
        s->ctxs = c;
        s->nctx++;
    }
    pthread_mutex_unlock(&s->ctx_lock);
    if (found) { /* another thread made it meanwhile */
        ctx_free(c);
        return found;
    }
    return c;
}

/* ---- JSON of the engine's results ------------------------------------------------- */

static cJSON *loaded_json(const shelf_state *st)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; a && i < st->n; i++) {
        const shelf_loaded *m = &st->mods[i];
        cJSON *o = cJSON_CreateObject();
        if (!o || !cJSON_AddItemToArray(a, o)) {
            cJSON_Delete(o);
            cJSON_Delete(a);
            return NULL;
        }
        add_str(o, "fullname", m->fullname);
        add_str(o, "sn", m->sn);
        add_str(o, "version", m->version);
        cJSON_AddBoolToObject(o, "user_loaded", m->user_loaded);
        cJSON_AddBoolToObject(o, "dependency", !m->user_loaded);
        cJSON_AddBoolToObject(o, "active", m->active);
        add_str(o, "file", m->file);
        add_str(o, "modulepath", m->mpath);
        add_str(o, "family", m->family);
        if (!add_item(o, "needed_by", strv_json(&m->needed_by)) ||
            !add_item(o, "properties", shelf_props_json(&m->props))) {
            cJSON_Delete(a);
            return NULL;
        }
    }
    return a;
}

/* {"set": {...}, "unset": [...], "aliases": {...}, "functions": {...}}:
 * the last change of each name wins; removed aliases and functions are null. */
static cJSON *changes_json(const shelf_changes *ch)
{
    cJSON *o = cJSON_CreateObject();
    cJSON *set = o ? cJSON_AddObjectToObject(o, "set") : NULL;
    cJSON *unset = o ? cJSON_AddArrayToObject(o, "unset") : NULL;
    cJSON *aliases = o ? cJSON_AddObjectToObject(o, "aliases") : NULL;
    cJSON *funcs = o ? cJSON_AddObjectToObject(o, "functions") : NULL;
    int ok = set && unset && aliases && funcs;
    for (size_t i = 0; ok && i < ch->n; i++) {
        const shelf_change *c = &ch->items[i];
        cJSON *v = NULL;
        cJSON *where = NULL;
        switch (c->kind) {
        case SHELF_CHANGE_SETENV:
        case SHELF_CHANGE_UNSETENV:
            cJSON_DeleteItemFromObjectCaseSensitive(set, c->name);
            for (int k = cJSON_GetArraySize(unset) - 1; k >= 0; k--)
                if (strcmp(cJSON_GetArrayItem(unset, k)->valuestring, c->name) == 0)
                    cJSON_DeleteItemFromArray(unset, k);
            if (c->kind == SHELF_CHANGE_SETENV) {
                where = set;
                v = cJSON_CreateString(c->value ? c->value : "");
            } else {
                v = cJSON_CreateString(c->name);
                ok = v && cJSON_AddItemToArray(unset, v);
                if (!ok)
                    cJSON_Delete(v);
                continue;
            }
            break;
        case SHELF_CHANGE_ALIAS:
        case SHELF_CHANGE_UNALIAS:
            where = aliases;
            v = c->kind == SHELF_CHANGE_ALIAS ? cJSON_CreateString(c->value ? c->value : "")
                                              : cJSON_CreateNull();
            break;
        case SHELF_CHANGE_FUNC:
        case SHELF_CHANGE_UNFUNC:
            where = funcs;
            v = c->kind == SHELF_CHANGE_FUNC ? cJSON_CreateString(c->value ? c->value : "")
                                             : cJSON_CreateNull();
            break;
        }
        cJSON_DeleteItemFromObjectCaseSensitive(where, c->name);
        ok = v && cJSON_AddItemToObject(where, c->name, v);
        if (!ok)
            cJSON_Delete(v);
    }
    if (!ok) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

static void publish_loaded(api_state *s, const char *client, const shelf_state *st)
{
    if (!s->bus)
        return;
    cJSON *o = cJSON_CreateObject();
    cJSON *a = o ? cJSON_AddArrayToObject(o, "loaded") : NULL;
    if (o)
        add_str(o, "client", client);
    for (size_t i = 0; a && i < st->n; i++)
        cJSON_AddItemToArray(a, cJSON_CreateString(st->mods[i].fullname));
    char *text = a ? cJSON_PrintUnformatted(o) : NULL;
    cJSON_Delete(o);
    if (text)
        events_publish(s->bus, "loaded", client, text);
    free(text);
}

/* ---- GET/PUT context, GET loaded ------------------------------------------------------- */

/* {"client", "loaded", ...}: the part every context answer shares. Called
 * with c locked. NULL with the error answered. */
static cJSON *ctx_summary(api_ctx *c, api_response *r)
{
    shelf_engine e;
    shelf_error err = {0};
    int rc = shelf_engine_open(&e, c->env.v, SHELF_SH_BASH, &err);
    cJSON *o = NULL;
    if (rc == 0 && (o = cJSON_CreateObject())) {
        add_str(o, "client", c->client);
        if (!add_item(o, "loaded", loaded_json(&e.st)) ||
            !add_item(o, "warnings", strv_json(&c->warnings))) {
            cJSON_Delete(o);
            o = NULL;
        }
        if (!o)
            respond_oom(r);
    } else if (rc == 0) {
        respond_oom(r);
    } else {
        respond_shelf(r, &err);
    }
    shelf_engine_close(&e);
    shelf_error_clear(&err);
    return o;
}

/* GET context (with_env) and GET loaded; PUT context answers with_warnings. */
static void get_context(api_ctx *c, api_response *r, int with_env, int with_warnings)
{
    pthread_mutex_lock(&c->lock);
    cJSON *o = ctx_summary(c, r);
    if (o && with_env) {
        cJSON *env = cJSON_AddObjectToObject(o, "env");
        for (size_t i = 0; env && i < c->env.n; i++) {
            char *eq = strchr(c->env.v[i], '=');
            char *k = strndup(c->env.v[i], (size_t)(eq - c->env.v[i]));
            cJSON *v = k ? cJSON_CreateString(eq + 1) : NULL;
            if (!v || !cJSON_AddItemToObject(env, k, v)) {
                cJSON_Delete(v);
                env = NULL;
            }
            free(k);
        }
        if (!env) {
            cJSON_Delete(o);
            o = NULL;
            respond_oom(r);
        }
    }
    pthread_mutex_unlock(&c->lock);
    if (o) {
        if (!with_warnings)
            cJSON_DeleteItemFromObjectCaseSensitive(o, "warnings");
        respond(r, 200, o);
    }
}

static void put_context(api_state *s, api_ctx *c, const api_request *req, api_response *r)
{
    cJSON *body = parse_body(req, r, 1);
    if (!body)
        return;
    cJSON *env = cJSON_GetObjectItemCaseSensitive(body, "env");
    if (!cJSON_IsObject(env)) {
        cJSON_Delete(body);
        respond_error(r, 400, "bad_request", NULL, NULL, 0,
                      "\"env\" must be an object of NAME: \"value\" strings");
        return;
    }
    shelf_strv given;
    shelf_strv_init(&given);
    cJSON *it;
    int rc = 0;
    cJSON_ArrayForEach(it, env)
    {
        if (!cJSON_IsString(it) || !it->string[0] || strchr(it->string, '=')) {
            rc = SHELF_EUSAGE;
            break;
        }
        shelf_buf b;
        shelf_buf_init(&b);
        shelf_buf_addf(&b, "%s=%s", it->string, it->valuestring);
        char *kv = shelf_buf_take(&b);
        if ((rc = kv ? shelf_strv_push_owned(&given, kv) : SHELF_ENOMEM) < 0)
            break;
    }
    cJSON_Delete(body);
    if (rc == SHELF_EUSAGE) {
        shelf_strv_free(&given);
        respond_error(r, 400, "bad_request", NULL, NULL, 0,
                      "\"env\" must map non-empty names without \"=\" to strings");
        return;
    }
    shelf_strv newenv, warnings;
    shelf_strv_init(&newenv);
    shelf_strv_init(&warnings);
    shelf_error err = {0};
    if (rc == 0)
        rc = make_env(s, given.v, &newenv, &warnings, &err);
    else
        shelf_error_set(&err, rc, NULL, NULL, 0, "out of memory");
    shelf_strv_free(&given);
    if (rc == 0) { /* the posted environment's module table must be readable */
        shelf_engine e;
        rc = shelf_engine_open(&e, newenv.v, SHELF_SH_BASH, &err);
        shelf_engine_close(&e);
    }
    if (rc < 0) {
        if (rc == SHELF_ESTATE)
            err.code = SHELF_EUSAGE;
        respond_shelf(r, &err);
        shelf_error_clear(&err);
        shelf_strv_free(&newenv);
        shelf_strv_free(&warnings);
        return;
    }
    pthread_mutex_lock(&c->lock);
    shelf_strv_free(&c->env);
    shelf_strv_free(&c->warnings);
    c->env = newenv;
    c->warnings = warnings;
    pthread_mutex_unlock(&c->lock);
    get_context(c, r, 0, 1);
}

/* ---- actions: load, unload, swap, purge, reload, restore -------------------------- */

/* The strings of array `a` (names checked), into names. 0, or answers 400. */
static int names_of(cJSON *a, shelf_strv *names, api_response *r)
{
    if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) == 0) {
        respond_error(r, 400, "bad_request", NULL, NULL, 0,
                      "\"modules\" must be a non-empty array of module names");
        return -1;
    }
    cJSON *it;
    cJSON_ArrayForEach(it, a)
    {
        if (!cJSON_IsString(it)) {
            respond_error(r, 400, "bad_request", NULL, NULL, 0,
                          "\"modules\" must hold strings");
            return -1;
        }
        if (!check_name(r, it->valuestring))
            return -1;
        if (shelf_strv_push(names, it->valuestring) < 0) {
            respond_oom(r);
            return -1;
        }
    }
    return 0;
}

static const char *string_field(cJSON *body, const char *k)
{
    cJSON *v = cJSON_GetObjectItemCaseSensitive(body, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void action(api_state *s, api_ctx *c, const char *op, const api_request *req,
                   api_response *r)
{
    cJSON *body = parse_body(req, r, strcmp(op, "purge") && strcmp(op, "reload"));
    if (!body)
        return;
    shelf_strv names;
    shelf_strv_init(&names);
    const char *old = NULL, *new_ = NULL, *cname = NULL;
    int allow_changes = 0;
    if (strcmp(op, "load") == 0 || strcmp(op, "unload") == 0) {
        if (names_of(cJSON_GetObjectItemCaseSensitive(body, "modules"), &names, r) < 0)
            goto done;
    } else if (strcmp(op, "swap") == 0) {
        old = string_field(body, "old");
        new_ = string_field(body, "new");
        if (!new_) {
            respond_error(r, 400, "bad_request", NULL, NULL, 0,
                          "swap needs \"new\" (and optionally \"old\")");
            goto done;
        }
        if ((old && !check_name(r, old)) || !check_name(r, new_))
            goto done;
    } else if (strcmp(op, "restore") == 0) {
        cname = string_field(body, "name");
        allow_changes = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(body, "allow_changes"));
        if (!cname) {
            respond_error(r, 400, "bad_request", NULL, NULL, 0, "restore needs \"name\"");
            goto done;
        }
        if (!check_collection_name(r, cname))
            goto done;
    }

    shelf_collection coll;
    shelf_collection_init(&coll);
    shelf_error err = {0};
    shelf_changes ch;
    shelf_changes_init(&ch);
    shelf_strv newenv;
    shelf_strv_init(&newenv);
    cJSON *doc = NULL;

    pthread_mutex_lock(&c->lock);
    shelf_engine e;
    int rc = shelf_engine_open(&e, c->env.v, SHELF_SH_BASH, &err);
    e.limits = s->limits;
    if (rc == 0 && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(body, "force")))
        e.force = 1;
    if (rc < 0)
        ;
    else if (strcmp(op, "load") == 0)
        rc = shelf_engine_load(&e, names.v, names.n, 0, &err);
    else if (strcmp(op, "unload") == 0)
        rc = shelf_engine_unload(&e, names.v, names.n, &err);
    else if (strcmp(op, "swap") == 0)
        rc = old ? shelf_engine_swap(&e, old, new_, &err) : shelf_engine_swap(&e, new_, NULL, &err);
    else if (strcmp(op, "purge") == 0)
        rc = shelf_engine_purge(&e, &err);
    else if (strcmp(op, "reload") == 0)
        rc = shelf_engine_reload(&e, &err);
    else if ((rc = shelf_collection_read_named(cname, &coll, &err)) == 0)
        rc = shelf_engine_restore(&e, &coll, allow_changes, &err);
    if (rc == 0)
        rc = shelf_engine_finish(&e, &ch, &err);
    if (rc == 0 && shelf_export_apply(c->env.v, &ch, &newenv) < 0)
        rc = SHELF_ENOMEM;
    if (rc == 0 && (doc = cJSON_CreateObject())) {
        if (!add_item(doc, "loaded", loaded_json(&e.st)) ||
            !add_item(doc, "changes", changes_json(&ch)) ||
            !add_item(doc, "messages", strv_json(&e.messages))) {
            cJSON_Delete(doc);
            doc = NULL;
        }
    }
    if (rc == 0 && !doc)
        rc = SHELF_ENOMEM;
    if (rc == 0) {
        shelf_strv_free(&c->env);
        c->env = newenv;
        shelf_strv_init(&newenv);
        publish_loaded(s, c->client, &e.st);
    }
    shelf_engine_close(&e);
    pthread_mutex_unlock(&c->lock);

    if (rc == SHELF_ENOMEM)
        respond_oom(r);
    else if (rc < 0)
        respond_shelf(r, &err);
    else
        respond(r, 200, doc), doc = NULL;
    cJSON_Delete(doc);
    shelf_error_clear(&err);
    shelf_changes_free(&ch);
    shelf_strv_free(&newenv);
    shelf_collection_free(&coll);
done:
    shelf_strv_free(&names);
    cJSON_Delete(body);
}

/* ---- GET modules -------------------------------------------------------------------- */

static unsigned long hash_bytes(const char *p, size_t n)
{
    unsigned long h = 1469598103934665603UL;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)p[i]) * 1099511628211UL;
    return h;
}

/* A copy of the cached answer for key into r; 1 on a hit. */
static int lru_get(api_state *s, const char *key, size_t keylen, unsigned long h,
                   api_response *r)
{
    int hit = 0;
    pthread_mutex_lock(&s->lru_lock);
    for (size_t i = 0; i < LRU_SIZE && !hit; i++) {
        lru_ent *e = &s->lru[i];
        if (e->key && e->hash == h && e->keylen == keylen && memcmp(e->key, key, keylen) == 0) {
            char *copy = malloc(e->len + 1);
            if (copy) {
                memcpy(copy, e->body, e->len + 1);
                r->status = 200;
                r->body = copy;
                r->len = e->len;
                e->used = ++s->tick;
                hit = 1;
            }
        }
    }
    pthread_mutex_unlock(&s->lru_lock);
    return hit;
}

/* Keeps a copy of body under key, evicting the least recently used. */
static void lru_put(api_state *s, const char *key, size_t keylen, unsigned long h,
                    const char *body, size_t len)
{
    char *k = malloc(keylen), *b = malloc(len + 1);
    if (!k || !b) {
        free(k);
        free(b);
        return;
    }
    memcpy(k, key, keylen);
    memcpy(b, body, len + 1);
    pthread_mutex_lock(&s->lru_lock);
    lru_ent *victim = &s->lru[0];
    for (size_t i = 0; i < LRU_SIZE; i++) {
        if (!s->lru[i].key) {
            victim = &s->lru[i];
            break;
        }
        if (s->lru[i].used < victim->used)
            victim = &s->lru[i];
    }
    free(victim->key);
    free(victim->body);
    *victim = (lru_ent){k, keylen, h, b, len, ++s->tick};
    pthread_mutex_unlock(&s->lru_lock);
}

static void lru_clear(api_state *s)
{
    for (size_t i = 0; i < LRU_SIZE; i++) {
        free(s->lru[i].key);
        free(s->lru[i].body);
        memset(&s->lru[i], 0, sizeof s->lru[i]);
    }
}

static void get_modules(api_state *s, api_ctx *c, const api_request *req, api_response *r)
{
    const char *q = query(req, "q");
    if (!q)
        q = "";
    if (strlen(q) > MAX_QUERY_LEN) {
        respond_error(r, 400, "bad_request", NULL, NULL, 0, "q is too long (256 bytes at most)");
        return;
    }
    int all = query_flag(req, "all"), hidden = query_flag(req, "hidden");
    pthread_mutex_lock(&c->lock);
    const char *mp = shelf_environ_get(c->env.v, "MODULEPATH");
    const char *files = shelf_environ_get(c->env.v, "_LMFILES_");
    char *mpcopy = strdup(mp ? mp : ""), *fcopy = strdup(files ? files : "");
    pthread_mutex_unlock(&c->lock);

    shelf_error err = {0};
    cat_ref *cr = mpcopy && fcopy ? cat_get(s, &err) : NULL;
    shelf_buf key;
    shelf_buf_init(&key);
    if (cr) { /* every part but the last is length-prefixed: no two keys collide */
        shelf_buf_addf(&key, "%lu %d%d%zu:%s%zu:%s", cr->gen, all, hidden, strlen(q), q,
                       strlen(mpcopy), mpcopy);
        shelf_buf_adds(&key, fcopy);
    }
    if (!cr || shelf_buf_ok(&key) < 0) {
        if (err.code && err.code != SHELF_ENOMEM)
            respond_shelf(r, &err);
        else
            respond_oom(r);
        shelf_error_clear(&err);
        cat_release(s, cr);
        shelf_buf_free(&key);
        free(mpcopy);
        free(fcopy);
        return;
    }
    unsigned long h = hash_bytes(key.data, key.len);
    if (lru_get(s, key.data, key.len, h, r)) {
        cat_release(s, cr);
        shelf_buf_free(&key);
        free(mpcopy);
        free(fcopy);
        return;
    }
    shelf_strv mpv, fv, mpnorm;
    shelf_strv_init(&mpv);
    shelf_strv_init(&fv);
    shelf_strv_init(&mpnorm);
    int rc = shelf_strv_split(&mpv, mpcopy, ":", 0);
    if (rc == 0)
        rc = shelf_strv_split(&fv, fcopy, ":", 0);
    for (size_t i = 0; rc == 0 && i < mpv.n; i++) {
        char *n = shelf_dir_norm(mpv.v[i]);
        rc = n ? shelf_strv_push_owned(&mpnorm, n) : SHELF_ENOMEM;
    }
    size_t len = 0;
    char *text = NULL;
    if (rc == 0) {
        api_list_query lq = {q, all, hidden, &mpnorm, &fv};
        text = api_catalog_modules_json(cr->cat, &lq, &len);
    }
    if (text) {
        lru_put(s, key.data, key.len, h, text, len);
        r->status = 200;
        r->body = text;
        r->len = len;
    } else {
        respond_oom(r);
    }
    free(mpcopy);
    free(fcopy);
    shelf_strv_free(&mpv);
    shelf_strv_free(&fv);
    shelf_strv_free(&mpnorm);
    shelf_buf_free(&key);
    cat_release(s, cr);
}

/* ---- GET modules/NAME ------------------------------------------------------------------- */

typedef struct show_host {
    shelf_engine *e;
    shelf_spider_rec rec;
    cJSON *show, *deps, *conflicts;
    int oom;
} show_host;

static int sh_call(void *ud, const shelf_mf_call *c, shelf_error *err)
{
    show_host *h = ud;
    shelf_buf b;
    shelf_buf_init(&b);
    shelf_mf_call_format(c, &b);
    cJSON *line = shelf_buf_ok(&b) == 0 ? cJSON_CreateString(b.data ? b.data : "") : NULL;
    shelf_buf_free(&b);
    int ok = line && cJSON_AddItemToArray(h->show, line);
    if (!ok)
        cJSON_Delete(line);
    if (ok && shelf_spider_collect(&h->rec, c) < 0)
        ok = 0;
    switch (c->fn) {
    case SHELF_FN_LOAD: case SHELF_FN_TRY_LOAD: case SHELF_FN_ALWAYS_LOAD:
    case SHELF_FN_DEPENDS_ON: case SHELF_FN_PREREQ: case SHELF_FN_PREREQ_ANY: {
        cJSON *d = ok ? cJSON_CreateObject() : NULL;
        ok = d && cJSON_AddItemToArray(h->deps, d);
        if (!ok) {
            cJSON_Delete(d);
            break;
        }
        add_str(d, "function", c->fname);
        ok = add_item(d, "modules", strv_json(&c->args));
        break;
    }
    case SHELF_FN_CONFLICT:
        for (size_t i = 0; ok && i < c->args.n; i++) {
            cJSON *s = cJSON_CreateString(c->args.v[i]);
            ok = s && cJSON_AddItemToArray(h->conflicts, s);
            if (!ok)
                cJSON_Delete(s);
        }
        break;
    default:
        break;
    }
    if (ok)
        return SHELF_OK;
    h->oom = 1;
    shelf_error_set(err, SHELF_ENOMEM, NULL, NULL, 0, "out of memory");
    return SHELF_ENOMEM;
}

static int sh_is_loaded(void *ud, const char *name)
{
    show_host *h = ud;
    return shelf_engine_is_loaded(h->e, name);
}

static int sh_is_avail(void *ud, const char *name)
{
    show_host *h = ud;
    return shelf_engine_is_avail(h->e, name);
}

static const char *sh_getenv(void *ud, const char *name)
{
    show_host *h = ud;
    return shelf_env_get(&h->e->env, name);
}

/* The lines of a Tcl modulefile (shown, not evaluated). */
static int tcl_lines(const char *path, cJSON *show, shelf_error *err)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        shelf_error_set(err, SHELF_EIO, NULL, path, 0, "cannot read %s", path);
        return SHELF_EIO;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int rc = 0;
    while (rc == 0 && (n = getline(&line, &cap, f)) >= 0) {
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        cJSON *s = cJSON_CreateString(line);
        if (!s || !cJSON_AddItemToArray(show, s)) {
            cJSON_Delete(s);
            rc = SHELF_ENOMEM;
        }
    }
    free(line);
    fclose(f);
    return rc;
}

static void get_module(api_state *s, api_ctx *c, const char *name, api_response *r)
{
    if (!check_name(r, name))
        return;
    shelf_error err = {0};
    cat_ref *cr = cat_get(s, &err);
    if (!cr) {
        respond_shelf(r, &err);
        shelf_error_clear(&err);
        return;
    }
    show_host h = {0};
    shelf_spider_rec_init(&h.rec);
    shelf_modfile mf = {0};
    cJSON *doc = NULL;
    int found = 0, loadable = 0, is_default = 0;

    pthread_mutex_lock(&c->lock);
    shelf_engine e;
    int rc = shelf_engine_open(&e, c->env.v, SHELF_SH_BASH, &err);
    e.limits = s->limits;
    const shelf_strv *mp = rc == 0 ? shelf_engine_modulepath(&e) : NULL;
    if (rc == 0 && !mp)
        rc = SHELF_ENOMEM;
    if (rc == 0) {
        rc = shelf_resolve_with(e.resolver, mp, name, &mf, &err);
        found = loadable = rc == 0;
        if (rc == SHELF_ENOTFOUND) { /* elsewhere in the hierarchy? */
            const shelf_modfile *known = api_catalog_find(cr->cat, name);
            if (known) {
                shelf_error_clear(&err);
                rc = shelf_modfile_copy(&mf, known);
                found = rc == 0;
            }
        }
    }
    if (rc == 0 && loadable) {
        shelf_modfile d;
        shelf_error e2 = {0};
        if (shelf_resolve_with(e.resolver, mp, mf.sn, &d, &e2) == 0) {
            is_default = strcmp(d.path, mf.path) == 0;
            shelf_modfile_free(&d);
        }
        shelf_error_clear(&e2);
    }
    h.e = &e;
    h.show = cJSON_CreateArray();
    h.deps = cJSON_CreateArray();
    h.conflicts = cJSON_CreateArray();
    if (rc == 0 && (!h.show || !h.deps || !h.conflicts))
        rc = SHELF_ENOMEM;
    if (rc == 0 && mf.is_tcl) {
        rc = tcl_lines(mf.path, h.show, &err);
    } else if (rc == 0) {
        shelf_mf_host host = {&h, sh_call, sh_is_loaded, sh_is_avail, sh_getenv};
        shelf_mf_info info = {mf.path, mf.fullname, mf.sn, mf.version, name,
                              SHELF_MODE_SHOW, "bash"};
        shelf_lua *lua = shelf_engine_lua(&e);
        rc = lua ? shelf_mf_eval(lua, &info, &host, &err) : SHELF_ENOMEM;
        if (h.oom)
            rc = SHELF_ENOMEM;
    }
    int loaded = 0;
    for (size_t i = 0; rc == 0 && i < e.st.n; i++)
        loaded |= e.st.mods[i].file && strcmp(e.st.mods[i].file, mf.path) == 0;
    shelf_engine_close(&e);
    pthread_mutex_unlock(&c->lock);

    if (rc == 0 && (doc = cJSON_CreateObject())) {
        add_str(doc, "name", mf.sn);
        add_str(doc, "version", mf.version);
        add_str(doc, "fullname", mf.fullname);
        add_str(doc, "file", mf.path);
        add_str(doc, "modulepath", mf.mpath);
        cJSON_AddBoolToObject(doc, "default", is_default);
        cJSON_AddBoolToObject(doc, "hidden", mf.hidden);
        cJSON_AddBoolToObject(doc, "loaded", loaded);
        cJSON_AddBoolToObject(doc, "loadable", loadable);
        cJSON_AddBoolToObject(doc, "tcl", mf.is_tcl);
        add_str(doc, "description", h.rec.description);
        add_str(doc, "category", h.rec.category);
        add_str(doc, "keywords", h.rec.keywords);
        add_str(doc, "url", h.rec.url);
        add_str(doc, "family", h.rec.family);
        add_str(doc, "help", h.rec.help);
        if (!add_item(doc, "requires", api_catalog_requires(cr->cat, mf.path)) ||
            !add_item(doc, "whatis", strv_json(&h.rec.whatis)) ||
            !add_item(doc, "properties", shelf_props_json(&h.rec.props)) ||
            !add_item(doc, "dependencies", h.deps) ||
            !add_item(doc, "conflicts", (h.deps = NULL, h.conflicts)) ||
            !add_item(doc, "show", (h.conflicts = NULL, h.show))) {
            h.show = NULL;
            cJSON_Delete(doc);
            doc = NULL;
            rc = SHELF_ENOMEM;
        }
        h.deps = h.conflicts = h.show = NULL;
    } else if (rc == 0) {
        rc = SHELF_ENOMEM;
    }
    if (rc == SHELF_ENOTFOUND && !found)
        respond_error(r, 404, "not_found", name, NULL, 0,
                      err.message ? err.message : "no such module");
    else if (rc == SHELF_ENOMEM)
        respond_oom(r);
    else if (rc < 0)
        respond_shelf(r, &err);
    else
        respond(r, 200, doc);
    cJSON_Delete(h.show);
    cJSON_Delete(h.deps);
    cJSON_Delete(h.conflicts);
    shelf_spider_rec_free(&h.rec);
    shelf_modfile_free(&mf);
    shelf_error_clear(&err);
    cat_release(s, cr);
}

/* ---- collections -------------------------------------------------------------------- */

static char *now_iso(void)
{
    time_t t = time(NULL);
    struct tm tm;
    char buf[32];
    if (!gmtime_r(&t, &tm) || !strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm))
        return strdup("1970-01-01T00:00:00Z");
    return strdup(buf);
}

static void list_collections(api_response *r)
{
    shelf_error err = {0};
    char *dir = NULL;
    shelf_strv names;
    shelf_strv_init(&names);
    int rc = shelf_collection_dir(&dir, &err);
    if (rc == 0)
        rc = shelf_collection_names(dir, &names, &err);
    cJSON *doc = rc == 0 ? cJSON_CreateObject() : NULL;
    cJSON *arr = doc ? cJSON_AddArrayToObject(doc, "collections") : NULL;
    if (rc == 0 && !arr)
        rc = SHELF_ENOMEM;
    for (size_t i = 0; rc == 0 && i < names.n; i++) {
        shelf_collection coll;
        shelf_error e2 = {0};
        cJSON *o = cJSON_CreateObject();
        if (!o || !cJSON_AddItemToArray(arr, o)) {
            cJSON_Delete(o);
            rc = SHELF_ENOMEM;
            break;
        }
        add_str(o, "name", names.v[i]);
        if (shelf_collection_read(dir, names.v[i], &coll, &e2) == 0) {
            add_str(o, "created", coll.created);
            cJSON_AddNumberToObject(o, "modules", (double)coll.n);
        } else {
            add_str(o, "error", e2.message ? e2.message : shelf_strerror(e2.code));
        }
        shelf_collection_free(&coll);
        shelf_error_clear(&e2);
    }
    if (rc == SHELF_ENOMEM)
        respond_oom(r), cJSON_Delete(doc);
    else if (rc < 0)
        respond_shelf(r, &err), cJSON_Delete(doc);
    else
        respond(r, 200, doc);
    shelf_error_clear(&err);
    shelf_strv_free(&names);
    free(dir);
}

static void describe_collection(const char *name, api_response *r)
{
    shelf_collection coll;
    shelf_error err = {0};
    shelf_drift *d = NULL;
    size_t nd = 0;
    int rc = shelf_collection_read_named(name, &coll, &err);
    if (rc == 0)
        rc = shelf_collection_check(&coll, &d, &nd, &err);
    char *text = rc == 0 ? shelf_collection_to_json(&coll) : NULL;
    cJSON *doc = text ? cJSON_Parse(text) : NULL;
    cJSON *drift = doc ? cJSON_AddArrayToObject(doc, "drift") : NULL;
    if (rc == 0 && !drift)
        rc = SHELF_ENOMEM;
    for (size_t i = 0; rc == 0 && i < nd; i++) {
        cJSON *o = cJSON_CreateObject();
        if (!o || !cJSON_AddItemToArray(drift, o)) {
            cJSON_Delete(o);
            rc = SHELF_ENOMEM;
            break;
        }
        add_str(o, "kind", shelf_drift_word(d[i].kind));
        add_str(o, "module", coll.mods[d[i].mod].fullname);
        add_str(o, "file", coll.mods[d[i].mod].file);
        add_str(o, "detail", d[i].detail);
    }
    if (rc == 0)
        cJSON_AddBoolToObject(doc, "drifted", nd > 0);
    if (rc == SHELF_ENOMEM)
        respond_oom(r), cJSON_Delete(doc);
    else if (rc < 0)
        respond_shelf(r, &err), cJSON_Delete(doc);
    else
        respond(r, 200, doc);
    free(text);
    shelf_drifts_free(d, nd);
    shelf_collection_free(&coll);
    shelf_error_clear(&err);
}

static void save_collection(api_state *s, api_ctx *c, const char *name, api_response *r)
{
    shelf_error err = {0};
    char *dir = NULL;
    shelf_collection coll;
    shelf_collection_init(&coll);
    int rc = shelf_collection_dir(&dir, &err);
    if (rc == 0) {
        coll.name = strdup(name);
        coll.created = now_iso();
        coll.shelf_version = strdup(PACKAGE_VERSION);
        if (!coll.name || !coll.created || !coll.shelf_version)
            rc = SHELF_ENOMEM;
    }
    if (rc == 0) {
        pthread_mutex_lock(&c->lock);
        shelf_engine e;
        rc = shelf_engine_open(&e, c->env.v, SHELF_SH_BASH, &err);
        e.limits = s->limits;
        if (rc == 0)
            rc = shelf_engine_snapshot(&e, &coll, &err);
        shelf_engine_close(&e);
        pthread_mutex_unlock(&c->lock);
    }
    if (rc == 0)
        rc = shelf_collection_write(dir, &coll, &err);
    char *text = rc == 0 ? shelf_collection_to_json(&coll) : NULL;
    cJSON *doc = text ? cJSON_Parse(text) : NULL;
    if (rc == 0 && !doc)
        rc = SHELF_ENOMEM;
    if (rc == SHELF_ENOMEM)
        respond_oom(r);
    else if (rc < 0)
        respond_shelf(r, &err);
    else
        respond(r, 201, doc), doc = NULL;
    cJSON_Delete(doc);
    free(text);
    free(dir);
    shelf_collection_free(&coll);
    shelf_error_clear(&err);
}

static void delete_collection(const char *name, api_response *r)
{
    shelf_error err = {0};
    char *dir = NULL;
    int rc = shelf_collection_dir(&dir, &err);
    if (rc == 0)
        rc = shelf_collection_delete(dir, name, &err);
    free(dir);
    if (rc < 0) {
        respond_shelf(r, &err);
    } else {
        cJSON *doc = cJSON_CreateObject();
        if (doc)
            add_str(doc, "deleted", name);
        respond(r, 200, doc);
    }
    shelf_error_clear(&err);
}

/* ---- GET preamble ----------------------------------------------------------------- */

static void get_preamble(api_ctx *c, const api_request *req, api_response *r)
{
    const char *lang = query(req, "lang");
    const char *cname = query(req, "collection");
    lang = lang && *lang ? lang : "python";
    int python = strcmp(lang, "python") == 0;
    if (!python && strcmp(lang, "bash") != 0) {
        respond_error(r, 400, "bad_request", NULL, NULL, 0, "lang must be python or bash");
        return;
    }
    if (cname && !check_collection_name(r, cname))
        return;
    shelf_strv mods;
    shelf_strv_init(&mods);
    shelf_error err = {0};
    int rc = 0;
    if (cname) {
        shelf_collection coll;
        rc = shelf_collection_read_named(cname, &coll, &err);
        for (size_t i = 0; rc == 0 && i < coll.n; i++)
            if (coll.mods[i].user_loaded)
                rc = shelf_strv_push(&mods, coll.mods[i].fullname);
        shelf_collection_free(&coll);
    } else {
        pthread_mutex_lock(&c->lock);
        shelf_engine e;
        rc = shelf_engine_open(&e, c->env.v, SHELF_SH_BASH, &err);
        for (size_t i = 0; rc == 0 && i < e.st.n; i++)
            if (e.st.mods[i].user_loaded && e.st.mods[i].active)
                rc = shelf_strv_push(&mods, e.st.mods[i].fullname);
        shelf_engine_close(&e);
        pthread_mutex_unlock(&c->lock);
    }
    shelf_buf code;
    shelf_buf_init(&code);
    if (python) {
        shelf_buf_adds(&code, "import shelf\n");
        if (mods.n)
            shelf_buf_adds(&code, "shelf.load(");
        for (size_t i = 0; i < mods.n; i++) {
            cJSON *js = cJSON_CreateString(mods.v[i]);
            char *lit = js ? cJSON_PrintUnformatted(js) : NULL;
            cJSON_Delete(js);
            if (!lit) {
                code.oom = 1;
                break;
            }
            shelf_buf_addf(&code, "%s%s", i ? ", " : "", lit);
            free(lit);
        }
        if (mods.n)
            shelf_buf_adds(&code, ")\n");
    } else if (mods.n) {
        shelf_buf_adds(&code, "module load");
        for (size_t i = 0; i < mods.n; i++) {
            shelf_buf_adds(&code, " '");
            for (const char *p = mods.v[i]; *p; p++)
                if (*p == '\'')
                    shelf_buf_adds(&code, "'\\''");
                else
                    shelf_buf_addc(&code, *p);
            shelf_buf_addc(&code, '\'');
        }
        shelf_buf_addc(&code, '\n');
    }
    if (rc == 0 && shelf_buf_ok(&code) < 0)
        rc = SHELF_ENOMEM;
    if (rc == SHELF_ENOMEM) {
        respond_oom(r);
    } else if (rc < 0) {
        respond_shelf(r, &err);
    } else {
        cJSON *doc = cJSON_CreateObject();
        if (doc) {
            add_str(doc, "lang", lang);
            add_str(doc, "collection", cname);
            add_str(doc, "code", code.data ? code.data : "");
            if (!add_item(doc, "modules", strv_json(&mods)))
                cJSON_Delete(doc), doc = NULL;
        }
        respond(r, 200, doc);
    }
    shelf_buf_free(&code);
    shelf_strv_free(&mods);
    shelf_error_clear(&err);
}

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
        add_str(doc, "status", "ok");
        cJSON_AddNumberToObject(doc, "uptime_s", (double)(now.tv_sec - s->started.tv_sec));
        cJSON_AddNumberToObject(doc, "contexts", (double)n);
        cJSON_AddNumberToObject(doc, "generation", (double)gen);
        if (!add_item(doc, "trees", strv_json(&s->trees)))
            doc = NULL;
    }
    respond(r, 200, doc);
}

static void get_version(api_response *r)
{
    cJSON *doc = cJSON_CreateObject();
    if (doc) {
        add_str(doc, "shelf", PACKAGE_VERSION);
        cJSON_AddNumberToObject(doc, "api", 1);
    }
    respond(r, 200, doc);
}

/* ---- routing ------------------------------------------------------------------------ */

void api_handle(api_state *s, const api_request *req, api_response *resp)
{
    memset(resp, 0, sizeof *resp);
    const char *path = req->path ? req->path : "";
    if (strncmp(path, "/api/v1/", 8) != 0) {
        respond_errorf(resp, 404, "not_found", "no such endpoint: %s (the API is under /api/v1/)",
                       path);
        return;
    }
    const char *p = path + 8;
    size_t seg = strcspn(p, "/");
    const char *rest = p[seg] == '/' ? p + seg + 1 : NULL;
#define IS(word) (seg == sizeof(word) - 1 && strncmp(p, word, seg) == 0)

    if (IS("health") && !rest) {
        if (method_ok(req, resp, "GET"))
            get_health(s, resp);
        return;
    }
    if (IS("version") && !rest) {
        if (method_ok(req, resp, "GET"))
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
        respond_errorf(resp, 404, "not_found", "no such endpoint: %s", path);
        return;
    }
    if (!method_ok(req, resp, allow))
        return;
    if (collections_item && !check_collection_name(resp, rest))
        return;
    if (IS("collections") && !rest) {
        list_collections(resp);
        return;
    }
    if (collections_item && method_is(req, "GET")) {
        describe_collection(rest, resp);
        return;
    }
    if (collections_item && method_is(req, "DELETE")) {
        delete_collection(rest, resp);
        return;
    }
    api_ctx *c = ctx_get(s, req, resp);
    if (!c)
        return;
    if (IS("context"))
        method_is(req, "PUT") ? put_context(s, c, req, resp) : get_context(c, resp, 1, 1);
    else if (IS("loaded"))
        get_context(c, resp, 0, 0);
    else if (IS("modules") && rest)
        get_module(s, c, rest, resp);
    else if (IS("modules"))
        get_modules(s, c, req, resp);
    else if (IS("preamble"))
        get_preamble(c, req, resp);
    else if (collections_item)
        save_collection(s, c, rest, resp);
    else {
        char op[8];
        memcpy(op, p, seg);
        op[seg] = '\0';
        action(s, c, op, req, resp);
    }
#undef IS
}

/* ---- life cycle and tree changes ------------------------------------------------------- */

api_state *api_new(const api_config *cfg, shelf_error *err)
{
    api_state *s = calloc(1, sizeof *s);
    if (!s) {
        shelf_error_set(err, SHELF_ENOMEM, NULL, NULL, 0, "out of memory");
        return NULL;
    }
    shelf_strv_init(&s->trees);
    shelf_strv_init(&s->default_env);
    s->bus = cfg->bus;
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
            shelf_error_set(err, SHELF_ENOMEM, NULL, NULL, 0, "out of memory");
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
        ctx_free(c);
    }
    if (s->cat) {
        api_catalog_free(s->cat->cat);
        free(s->cat);
    }
    lru_clear(s);
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
        add_str(o, "dir", dir);
        cJSON_AddNumberToObject(o, "generation", (double)gen);
    }
    char *text = o ? cJSON_PrintUnformatted(o) : NULL;
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
