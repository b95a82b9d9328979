/*
 * api-collections.c -- the collections endpoints (list, describe, save,
 * delete; restore is an action) and GET preamble, the code that reloads a
 * context's modules elsewhere.
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "api-internal.h"
#include "shelf.h"

/* ---- collections -------------------------------------------------------------------- */

void api_list_collections(api_state *s, api_response *r)
{
    shelf_error err = {0};
    char *dir = NULL;
    shelf_strv names;
    shelf_strv_init(&names);
    int rc = shelf_collection_dir(s->default_env.v, &dir, &err);
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
        shelf_json_add_str(o, "name", names.v[i]);
        if (shelf_collection_read(dir, names.v[i], &coll, &e2) == 0) {
            shelf_json_add_str(o, "created", coll.created);
            cJSON_AddNumberToObject(o, "modules", (double)coll.n);
        } else {
            shelf_json_add_str(o, "error", e2.message ? e2.message : shelf_strerror(e2.code));
        }
        shelf_collection_free(&coll);
        shelf_error_clear(&e2);
    }
    api_respond_result(r, rc, &err, 200, doc);
    shelf_error_clear(&err);
    shelf_strv_free(&names);
    free(dir);
}

void api_describe_collection(api_state *s, const char *name, api_response *r)
{
    shelf_collection coll;
    shelf_error err = {0};
    shelf_drift *d = NULL;
    size_t nd = 0;
    int rc = shelf_collection_read_named(s->default_env.v, name, &coll, &err);
    if (rc == 0)
        rc = shelf_collection_check(&coll, &d, &nd, &err);
    api_respond_result(r, rc, &err, 200, rc == 0 ? shelf_json_collection(&coll, d, nd) : NULL);
    shelf_drifts_free(d, nd);
    shelf_collection_free(&coll);
    shelf_error_clear(&err);
}

void api_save_collection(api_state *s, api_ctx *c, const char *name, api_response *r)
{
    shelf_error err = {0};
    char *dir = NULL;
    shelf_collection coll;
    shelf_collection_init(&coll);
    int rc = shelf_collection_dir(s->default_env.v, &dir, &err);
    if (rc == 0) {
        pthread_mutex_lock(&c->lock);
        shelf_engine *e;
        rc = shelf_engine_new(c->env.v, SHELF_SH_BASH, &s->limits, &e, &err);
        if (rc == 0)
            rc = shelf_engine_snapshot(e, name, &coll, &err);
        shelf_engine_free(e);
        pthread_mutex_unlock(&c->lock);
    }
    if (rc == 0)
        rc = shelf_collection_write(dir, &coll, &err);
    api_respond_result(r, rc, &err, 201, rc == 0 ? shelf_collection_json(&coll) : NULL);
    free(dir);
    shelf_collection_free(&coll);
    shelf_error_clear(&err);
}

void api_delete_collection(api_state *s, const char *name, api_response *r)
{
    shelf_error err = {0};
    int rc = shelf_collection_delete_named(s->default_env.v, name, &err);
    cJSON *doc = rc == 0 ? cJSON_CreateObject() : NULL;
    if (doc && !shelf_json_add_str(doc, "deleted", name))
        cJSON_Delete(doc), doc = NULL;
    api_respond_result(r, rc, &err, 200, doc);
    shelf_error_clear(&err);
}

/* ---- GET preamble ----------------------------------------------------------------- */

void api_get_preamble(api_state *s, api_ctx *c, const api_request *req, api_response *r)
{
    const char *lang = api_query(req, "lang");
    const char *cname = api_query(req, "collection");
    lang = lang && *lang ? lang : "python";
    int python = strcmp(lang, "python") == 0;
    if (!python && strcmp(lang, "bash") != 0) {
        api_respond_error(r, 400, "bad_request", NULL, NULL, 0, "lang must be python or bash");
        return;
    }
    if (cname && !api_check_collection_name(r, cname))
        return;
    shelf_strv mods;
    shelf_strv_init(&mods);
    shelf_error err = {0};
    int rc = 0;
    if (cname) {
        shelf_collection coll;
        rc = shelf_collection_read_named(s->default_env.v, cname, &coll, &err);
        for (size_t i = 0; rc == 0 && i < coll.n; i++)
            if (coll.mods[i].user_loaded)
                rc = shelf_strv_push(&mods, coll.mods[i].fullname);
        shelf_collection_free(&coll);
    } else {
        pthread_mutex_lock(&c->lock);
        shelf_engine *e;
        rc = shelf_engine_new(c->env.v, SHELF_SH_BASH, NULL, &e, &err);
        const shelf_state *st = rc == 0 ? shelf_engine_state(e) : NULL;
        for (size_t i = 0; st && rc == 0 && i < st->n; i++)
            if (st->mods[i].user_loaded && st->mods[i].active)
                rc = shelf_strv_push(&mods, st->mods[i].fullname);
        shelf_engine_free(e);
        pthread_mutex_unlock(&c->lock);
    }
    shelf_buf code;
    shelf_buf_init(&code);
    if (python) {
        shelf_buf_adds(&code, "import shelf\n");
        if (mods.n)
            shelf_buf_adds(&code, "shelf.load(");
        for (size_t i = 0; i < mods.n; i++) {
            /* A JSON string literal is a Python one, byte for byte. */
            shelf_buf_adds(&code, i ? ", " : "");
            shelf_json_quote(&code, mods.v[i]);
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
    cJSON *doc = rc == 0 ? cJSON_CreateObject() : NULL;
    if (doc && !(shelf_json_add_str(doc, "lang", lang) &&
                 shelf_json_add_str(doc, "collection", cname) &&
                 shelf_json_add_str(doc, "code", code.data ? code.data : "") &&
                 shelf_json_add(doc, "modules", shelf_json_strv(&mods))))
        cJSON_Delete(doc), doc = NULL;
    api_respond_result(r, rc, &err, 200, doc);
    shelf_buf_free(&code);
    shelf_strv_free(&mods);
    shelf_error_clear(&err);
}
