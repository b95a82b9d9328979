/*
 * api-actions.c -- POST load, unload, swap, purge, reload and restore: each
 * one shelf_run() on the client's context, which takes the new environment
 * only when the command succeeded.
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "api-internal.h"
#include "shelf.h"

/* ---- actions: load, unload, swap, purge, reload, restore -------------------------- */

/* The strings of array `a` (names checked), into names. 0, or answers 400. */
static int names_of(cJSON *a, shelf_strv *names, api_response *r)
{
    if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) == 0) {
        api_respond_error(r, 400, "bad_request", NULL, NULL, 0,
                      "\"modules\" must be a non-empty array of module names");
        return -1;
    }
    cJSON *it;
    cJSON_ArrayForEach(it, a)
    {
        if (!cJSON_IsString(it)) {
            api_respond_error(r, 400, "bad_request", NULL, NULL, 0,
                          "\"modules\" must hold strings");
            return -1;
        }
        if (!api_check_name(r, it->valuestring))
            return -1;
        if (shelf_strv_push(names, it->valuestring) < 0) {
            api_respond_oom(r);
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

/* Publishes a "loaded" event for client. */
static void api_publish_loaded(api_state *s, const char *client, const shelf_state *st)
{
    if (!s->bus)
        return;
    cJSON *o = cJSON_CreateObject();
    cJSON *a = o ? cJSON_AddArrayToObject(o, "loaded") : NULL;
    if (o)
        shelf_json_add_str(o, "client", client);
    for (size_t i = 0; a && i < st->n; i++)
        cJSON_AddItemToArray(a, cJSON_CreateString(st->mods[i].fullname));
    char *text = a ? shelf_json_text(o, 0) : NULL;
    cJSON_Delete(o);
    if (text)
        events_publish(s->bus, "loaded", client, text);
    free(text);
}

/* The actions, by the last word of their path (the router knows them). */
static const struct {
    const char *word;
    shelf_op op;
    int needs_body;
} ACTIONS[] = {{"load", SHELF_OP_LOAD, 1},     {"unload", SHELF_OP_UNLOAD, 1},
               {"swap", SHELF_OP_SWAP, 1},     {"restore", SHELF_OP_RESTORE, 1},
               {"purge", SHELF_OP_PURGE, 0},   {"reload", SHELF_OP_RELOAD, 0}};

void api_action(api_state *s, api_ctx *c, const char *word, const api_request *req,
                   api_response *r)
{
    size_t a = 0;
    while (a + 1 < sizeof ACTIONS / sizeof ACTIONS[0] && strcmp(ACTIONS[a].word, word) != 0)
        a++;
    shelf_op op = ACTIONS[a].op;
    cJSON *body = api_parse_body(req, r, ACTIONS[a].needs_body);
    if (!body)
        return;
    shelf_strv names;
    shelf_strv_init(&names);
    const char *old = NULL, *new_ = NULL, *cname = NULL;
    int allow_changes = 0;
    if (op == SHELF_OP_LOAD || op == SHELF_OP_UNLOAD) {
        if (names_of(cJSON_GetObjectItemCaseSensitive(body, "modules"), &names, r) < 0)
            goto done;
    } else if (op == SHELF_OP_SWAP) {
        old = string_field(body, "old");
        new_ = string_field(body, "new");
        if (!new_) {
            api_respond_error(r, 400, "bad_request", NULL, NULL, 0,
                          "swap needs \"new\" (and optionally \"old\")");
            goto done;
        }
        if ((old && !api_check_name(r, old)) || !api_check_name(r, new_))
            goto done;
    } else if (op == SHELF_OP_RESTORE) {
        cname = string_field(body, "name");
        allow_changes = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(body, "allow_changes"));
        if (!cname) {
            api_respond_error(r, 400, "bad_request", NULL, NULL, 0, "restore needs \"name\"");
            goto done;
        }
        if (!api_check_collection_name(r, cname))
            goto done;
    }

    shelf_collection coll;
    shelf_collection_init(&coll);
    shelf_error err = {0};
    shelf_result res;
    shelf_result_init(&res);
    shelf_strv newenv;
    shelf_strv_init(&newenv);
    cJSON *doc = NULL;
    char *swap_args[2] = {(char *)old, (char *)new_};
    shelf_request q = {.op = op, .shell = SHELF_SH_BASH, .limits = &s->limits,
                       .force = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(body, "force")),
                       .allow_changes = allow_changes, .collection = &coll};
    if (op == SHELF_OP_LOAD || op == SHELF_OP_UNLOAD) {
        q.args = names.v;
        q.nargs = names.n;
    } else if (op == SHELF_OP_SWAP) {
        q.args = old ? swap_args : swap_args + 1;
        q.nargs = old ? 2 : 1;
    }

    pthread_mutex_lock(&c->lock);
    int rc = q.op == SHELF_OP_RESTORE ? shelf_collection_read_named(s->default_env.v, cname, &coll, &err)
                                      : 0;
    if (rc == 0)
        rc = shelf_run(c->env.v, &q, &res, &err);
    if (rc == 0 && shelf_export_apply(c->env.v, &res.changes, &newenv) < 0)
        rc = SHELF_ENOMEM;
    if (rc == 0 && (doc = cJSON_CreateObject())) {
        if (!shelf_json_add(doc, "loaded", api_loaded_json(&res.after)) ||
            !shelf_json_add(doc, "changes", shelf_json_changes(&res.changes)) ||
            !shelf_json_add(doc, "messages", shelf_json_strv(&res.messages))) {
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
        api_publish_loaded(s, c->client, &res.after);
    }
    pthread_mutex_unlock(&c->lock);

    api_respond_result(r, rc, &err, 200, doc);
    shelf_error_clear(&err);
    shelf_result_free(&res);
    shelf_strv_free(&newenv);
    shelf_collection_free(&coll);
done:
    shelf_strv_free(&names);
    cJSON_Delete(body);
}
