/*
 * api-context.c -- the environment contexts, one per client id, and the
 * endpoints that read or set them: GET/PUT context, GET loaded.
 *
 * Invariants: a context's MODULEPATH names only directories the catalog
 * allows (inside a tree, or a level a tree's module opens); a context is
 * found or made under ctx_lock and then used under its own lock.
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "api-internal.h"
#include "shelf.h"

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
static int api_make_env(api_state *s, char *const *environ_, shelf_strv *env, shelf_strv *warnings,
                    shelf_error *err)
{
    for (char *const *e = environ_; e && *e; e++)
        if (strchr(*e, '=') && shelf_strv_push(env, *e) < 0)
            goto nomem;
    cat_ref *cr = api_cat_get(s, err);
    if (!cr)
        return err->code ? err->code : SHELF_ENOMEM;
    int rc = filter_modulepath(s, cr->cat, env, warnings);
    api_cat_release(s, cr);
    if (rc == 0)
        return 0;
nomem:
    return shelf_oom(err);
}

void api_ctx_free(api_ctx *c)
{
    pthread_mutex_destroy(&c->lock);
    free(c->client);
    shelf_strv_free(&c->env);
    shelf_strv_free(&c->warnings);
    free(c);
}

/* The context of req's client, made from the default environment when new.
 * NULL with the error answered. Contexts live until api_free. */
api_ctx *api_ctx_get(api_state *s, const api_request *req, api_response *r)
{
    const char *client = req->client && *req->client ? req->client : "default";
    size_t n = strlen(client);
    int bad = n > MAX_CLIENT_LEN;
    for (const unsigned char *p = (const unsigned char *)client; !bad && *p; p++)
        bad = *p < 0x21 || *p == 0x7f;
    if (bad) {
        api_respond_error(r, 400, "bad_client", NULL, NULL, 0,
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
        api_respond_oom(r);
        return NULL;
    }
    pthread_mutex_init(&c->lock, NULL);
    shelf_strv_init(&c->env);
    shelf_strv_init(&c->warnings);
    if (api_make_env(s, s->default_env.v, &c->env, &c->warnings, &err) < 0) {
        api_respond_shelf(r, &err);
        shelf_error_clear(&err);
        api_ctx_free(c);
        return NULL;
    }
    pthread_mutex_lock(&s->ctx_lock);
    api_ctx *found = NULL;
    for (api_ctx *o = s->ctxs; o && !found; o = o->next)
        if (strcmp(o->client, client) == 0)
            found = o;
    if (!found && s->nctx >= MAX_CONTEXTS) {
        pthread_mutex_unlock(&s->ctx_lock);
        api_ctx_free(c);
        api_respond_error(r, 503, "too_many_contexts", NULL, NULL, 0,
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
        api_ctx_free(c);
        return found;
    }
    return c;
}

/* ---- JSON of the engine's results ------------------------------------------------- */

cJSON *api_loaded_json(const shelf_state *st)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; a && i < st->n; i++) {
        cJSON *o = shelf_json_loaded(&st->mods[i]);
        if (!o || !cJSON_AddItemToArray(a, o)) {
            cJSON_Delete(o);
            cJSON_Delete(a);
            return NULL;
        }
    }
    return a;
}

/* ---- GET/PUT context, GET loaded ------------------------------------------------------- */

/* {"client", "loaded", ...}: the part every context answer shares. Called
 * with c locked. NULL with the error answered. */
static cJSON *ctx_summary(api_ctx *c, api_response *r)
{
    shelf_engine *e;
    shelf_error err = {0};
    int rc = shelf_engine_new(c->env.v, SHELF_SH_BASH, NULL, &e, &err);
    cJSON *o = NULL;
    if (rc == 0 && (o = cJSON_CreateObject())) {
        shelf_json_add_str(o, "client", c->client);
        if (!shelf_json_add(o, "loaded", api_loaded_json(shelf_engine_state(e))) ||
            !shelf_json_add(o, "warnings", shelf_json_strv(&c->warnings))) {
            cJSON_Delete(o);
            o = NULL;
        }
        if (!o)
            api_respond_oom(r);
    } else if (rc == 0) {
        api_respond_oom(r);
    } else {
        api_respond_shelf(r, &err);
    }
    shelf_engine_free(e);
    shelf_error_clear(&err);
    return o;
}

/* GET context (with_env) and GET loaded; PUT context answers with_warnings. */
void api_get_context(api_ctx *c, api_response *r, int with_env, int with_warnings)
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
            api_respond_oom(r);
        }
    }
    pthread_mutex_unlock(&c->lock);
    if (o) {
        if (!with_warnings)
            cJSON_DeleteItemFromObjectCaseSensitive(o, "warnings");
        api_respond(r, 200, o);
    }
}

void api_put_context(api_state *s, api_ctx *c, const api_request *req, api_response *r)
{
    cJSON *body = api_parse_body(req, r, 1);
    if (!body)
        return;
    cJSON *env = cJSON_GetObjectItemCaseSensitive(body, "env");
    if (!cJSON_IsObject(env)) {
        cJSON_Delete(body);
        api_respond_error(r, 400, "bad_request", NULL, NULL, 0,
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
        api_respond_error(r, 400, "bad_request", NULL, NULL, 0,
                      "\"env\" must map non-empty names without \"=\" to strings");
        return;
    }
    shelf_strv newenv, warnings;
    shelf_strv_init(&newenv);
    shelf_strv_init(&warnings);
    shelf_error err = {0};
    if (rc == 0)
        rc = api_make_env(s, given.v, &newenv, &warnings, &err);
    else
        shelf_error_set(&err, rc, NULL, NULL, 0, "out of memory");
    shelf_strv_free(&given);
    if (rc == 0) { /* the posted environment's module table must be readable */
        shelf_engine *e;
        rc = shelf_engine_new(newenv.v, SHELF_SH_BASH, NULL, &e, &err);
        shelf_engine_free(e);
    }
    if (rc < 0) {
        if (rc == SHELF_ESTATE)
            err.code = SHELF_EUSAGE;
        api_respond_shelf(r, &err);
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
    api_get_context(c, r, 0, 1);
}
