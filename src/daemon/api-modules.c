/*
 * api-modules.c -- GET modules (the catalog as the client's context sees
 * it, with a small LRU of answers keyed by generation, MODULEPATH, loaded
 * files and query) and GET modules/NAME (one module's details and `show`).
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "api-internal.h"
#include "shelf.h"

/* ---- GET modules -------------------------------------------------------------------- */

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

void api_lru_clear(api_state *s)
{
    for (size_t i = 0; i < LRU_SIZE; i++) {
        free(s->lru[i].key);
        free(s->lru[i].body);
        memset(&s->lru[i], 0, sizeof s->lru[i]);
    }
}

void api_get_modules(api_state *s, api_ctx *c, const api_request *req, api_response *r)
{
    const char *q = api_query(req, "q");
    if (!q)
        q = "";
    if (strlen(q) > MAX_QUERY_LEN) {
        api_respond_error(r, 400, "bad_request", NULL, NULL, 0, "q is too long (256 bytes at most)");
        return;
    }
    int all = api_query_flag(req, "all"), hidden = api_query_flag(req, "hidden");
    shelf_strv env;
    shelf_strv_init(&env);
    pthread_mutex_lock(&c->lock);
    int rc = SHELF_OK;
    for (size_t i = 0; rc == 0 && i < c->env.n; i++)
        rc = shelf_strv_push(&env, c->env.v[i]);
    pthread_mutex_unlock(&c->lock);
    const char *files = shelf_environ_get(env.v, "_LMFILES_");

    shelf_error err = {0};
    cat_ref *cr = rc == 0 ? api_cat_get(s, &err) : NULL;
    shelf_buf key;
    shelf_buf_init(&key);
    if (cr) {
        /* The answer depends on the whole environment (a .modulerc.lua may
         * read any variable): all of it is in the key, each part
         * length-prefixed, so no two keys collide. */
        shelf_buf_addf(&key, "%lu %d%d%zu:%s", cr->gen, all, hidden, strlen(q), q);
        for (size_t i = 0; i < env.n; i++)
            shelf_buf_addf(&key, "%zu:%s", strlen(env.v[i]), env.v[i]);
    }
    if (!cr || shelf_buf_ok(&key) < 0) {
        if (err.code && err.code != SHELF_ENOMEM)
            api_respond_shelf(r, &err);
        else
            api_respond_oom(r);
        shelf_error_clear(&err);
        api_cat_release(s, cr);
        shelf_buf_free(&key);
        shelf_strv_free(&env);
        return;
    }
    unsigned long h = (unsigned long)shelf_fnv1a(SHELF_FNV1A_INIT, key.data, key.len);
    if (lru_get(s, key.data, key.len, h, r)) {
        api_cat_release(s, cr);
        shelf_buf_free(&key);
        shelf_strv_free(&env);
        return;
    }
    shelf_strv fv;
    shelf_strv_init(&fv);
    rc = shelf_strv_split(&fv, files ? files : "", ":", 0);
    shelf_engine *e;
    api_view view;
    memset(&view, 0, sizeof view);
    int erc = shelf_engine_new(env.v, SHELF_SH_BASH, NULL, &e, &err);
    if (rc == 0 && erc == 0)
        rc = api_view_init(&view, cr->cat, e);
    size_t len = 0;
    char *text = NULL;
    if (rc == 0 && erc == 0) {
        api_list_query lq = {q, all, hidden, &fv};
        text = api_catalog_modules_json(&view, &lq, &len);
    }
    api_view_free(&view);
    shelf_engine_free(e);
    if (text) {
        lru_put(s, key.data, key.len, h, text, len);
        r->status = 200;
        r->body = text;
        r->len = len;
    } else if (erc < 0 && erc != SHELF_ENOMEM) {
        api_respond_shelf(r, &err);
    } else {
        api_respond_oom(r);
    }
    shelf_error_clear(&err);
    shelf_strv_free(&fv);
    shelf_strv_free(&env);
    shelf_buf_free(&key);
    api_cat_release(s, cr);
}

/* ---- GET modules/NAME ------------------------------------------------------------------- */

static cJSON *deps_json(const shelf_show *sh)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; a && i < sh->ndeps; i++) {
        cJSON *d = cJSON_CreateObject();
        if (!d || !cJSON_AddItemToArray(a, d)) {
            cJSON_Delete(d);
            cJSON_Delete(a);
            return NULL;
        }
        shelf_json_add_str(d, "function", sh->deps[i].function);
        if (!shelf_json_add(d, "modules", shelf_json_strv(&sh->deps[i].modules))) {
            cJSON_Delete(a);
            return NULL;
        }
    }
    return a;
}

void api_get_module(api_state *s, api_ctx *c, const char *name, api_response *r)
{
    if (!api_check_name(r, name))
        return;
    shelf_error err = {0};
    cat_ref *cr = api_cat_get(s, &err);
    if (!cr) {
        api_respond_shelf(r, &err);
        shelf_error_clear(&err);
        return;
    }
    shelf_show sh;
    shelf_show_init(&sh);
    shelf_modfile mf = {0};
    cJSON *doc = NULL, *requires = NULL;
    int found = 0, loadable = 0, is_default = 0, loaded = 0;
    api_view view;
    memset(&view, 0, sizeof view);

    pthread_mutex_lock(&c->lock);
    shelf_engine *e;
    int rc = shelf_engine_new(c->env.v, SHELF_SH_BASH, &s->limits, &e, &err);
    if (rc == 0 && api_view_init(&view, cr->cat, e) < 0)
        rc = SHELF_ENOMEM;
    if (rc == 0) {
        rc = shelf_engine_resolve(e, name, &mf, &err);
        found = loadable = rc == 0;
        if (rc == SHELF_ENOTFOUND) { /* elsewhere in the hierarchy? */
            const shelf_modfile *known = api_catalog_find(&view, name);
            if (known) {
                shelf_error_clear(&err);
                rc = shelf_modfile_copy(&mf, known);
                found = rc == 0;
            }
        }
    }
    if (rc == 0) {
        is_default = api_catalog_is_default(&view, &mf);
        if (!(requires = api_catalog_requires(&view, mf.path)))
            rc = SHELF_ENOMEM;
    }
    if (rc == 0)
        rc = shelf_engine_show(e, &mf, name, &sh, &err);
    const shelf_state *st = rc == 0 ? shelf_engine_state(e) : NULL;
    for (size_t i = 0; st && i < st->n; i++)
        loaded |= st->mods[i].file && strcmp(st->mods[i].file, mf.path) == 0;
    api_view_free(&view);
    shelf_engine_free(e);
    pthread_mutex_unlock(&c->lock);

    if (rc == 0 && (doc = cJSON_CreateObject())) {
        shelf_json_add_str(doc, "name", mf.sn);
        shelf_json_add_str(doc, "version", mf.version);
        shelf_json_add_str(doc, "fullname", mf.fullname);
        shelf_json_add_str(doc, "file", mf.path);
        shelf_json_add_str(doc, "modulepath", mf.mpath);
        cJSON_AddBoolToObject(doc, "default", is_default);
        cJSON_AddBoolToObject(doc, "hidden", mf.hidden);
        cJSON_AddBoolToObject(doc, "loaded", loaded);
        cJSON_AddBoolToObject(doc, "loadable", loadable);
        cJSON_AddBoolToObject(doc, "tcl", mf.is_tcl);
        shelf_json_add_str(doc, "description", sh.rec.description);
        shelf_json_add_str(doc, "category", sh.rec.category);
        shelf_json_add_str(doc, "keywords", sh.rec.keywords);
        shelf_json_add_str(doc, "url", sh.rec.url);
        shelf_json_add_str(doc, "family", sh.rec.family);
        shelf_json_add_str(doc, "help", sh.rec.help);
        cJSON *req = requires; /* add_item takes it, on failure too */
        requires = NULL;
        if (!shelf_json_add(doc, "requires", req) ||
            !shelf_json_add(doc, "whatis", shelf_json_strv(&sh.rec.whatis)) ||
            !shelf_json_add(doc, "properties", shelf_json_props(&sh.rec.props)) ||
            !shelf_json_add(doc, "dependencies", deps_json(&sh)) ||
            !shelf_json_add(doc, "conflicts", shelf_json_strv(&sh.conflicts)) ||
            !shelf_json_add(doc, "show", shelf_json_strv(&sh.lines))) {
            cJSON_Delete(doc);
            doc = NULL;
            rc = SHELF_ENOMEM;
        }
    } else if (rc == 0) {
        rc = SHELF_ENOMEM;
    }
    if (rc == SHELF_ENOTFOUND && !found)
        api_respond_error(r, 404, "not_found", name, NULL, 0,
                      err.message ? err.message : "no such module");
    else
        api_respond_result(r, rc, &err, 200, doc); /* doc is NULL unless rc is 0 */
    cJSON_Delete(requires);
    shelf_show_free(&sh);
    shelf_modfile_free(&mf);
    shelf_error_clear(&err);
    api_cat_release(s, cr);
}
