/*
 * state.c -- encodes and decodes the loaded-module table (see state.h).
 *
 * JSON shape, version 1:
 *   {"v":1,
 *    "mods":[{"fn":..,"sn":..,"ver":..,"file":..,"mpath":..,"usr":..,
 *             "fam":..,"by":[..],"props":[..],"user":true,"active":true}],
 *    "refs":{"PATH":[["/a/bin",2,0]]},
 *    "stacks":{"CC":["gcc", null]}}
 * Absent keys take their defaults, so the format can grow.
 */
#include "config.h"

#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shelf-internal.h"
#include "shelf.h"
#include "state.h"

#define TABLE_PREFIX "_SHELF_TABLE_"
#define TABLE_SIZE_VAR "_SHELF_TABLE_SZ"

void shelf_state_init(shelf_state *st)
{
    memset(st, 0, sizeof *st);
}

void shelf_loaded_free(shelf_loaded *m)
{
    free(m->fullname);
    free(m->sn);
    free(m->version);
    free(m->file);
    free(m->mpath);
    free(m->usrname);
    free(m->family);
    shelf_strv_free(&m->needed_by);
    shelf_strv_free(&m->props);
    memset(m, 0, sizeof *m);
}

/* A copy of s, NULL kept NULL; *fail set on OOM. */
static char *dup_or_null(const char *s, int *fail)
{
    char *d = s ? strdup(s) : NULL;
    if (s && !d)
        *fail = 1;
    return d;
}

static int strv_copy(shelf_strv *dst, const shelf_strv *src)
{
    shelf_strv_init(dst);
    for (size_t i = 0; i < src->n; i++)
        if (shelf_strv_push(dst, src->v[i]) < 0) {
            shelf_strv_free(dst);
            return SHELF_ENOMEM;
        }
    return SHELF_OK;
}

int shelf_state_copy(shelf_state *dst, const shelf_state *src)
{
    shelf_state_init(dst);
    for (size_t i = 0; i < src->n; i++) {
        const shelf_loaded *m = &src->mods[i];
        int fail = 0;
        shelf_loaded c = {dup_or_null(m->fullname, &fail), dup_or_null(m->sn, &fail),
                          dup_or_null(m->version, &fail), dup_or_null(m->file, &fail),
                          dup_or_null(m->mpath, &fail), dup_or_null(m->usrname, &fail),
                          dup_or_null(m->family, &fail), {0}, {0}, m->user_loaded, m->active};
        if (strv_copy(&c.needed_by, &m->needed_by) < 0 || strv_copy(&c.props, &m->props) < 0)
            fail = 1;
        if (fail || shelf_state_append(dst, &c) < 0) {
            shelf_loaded_free(&c);
            shelf_state_free(dst);
            return SHELF_ENOMEM;
        }
    }
    return SHELF_OK;
}

void shelf_state_free(shelf_state *st)
{
    for (size_t i = 0; i < st->n; i++)
        shelf_loaded_free(&st->mods[i]);
    free(st->mods);
    shelf_state_init(st);
}

int shelf_state_append(shelf_state *st, shelf_loaded *m)
{
    if (SHELF_GROW(st->mods, st->cap, st->n + 1) < 0) {
        shelf_loaded_free(m);
        return SHELF_ENOMEM;
    }
    st->mods[st->n++] = *m;
    memset(m, 0, sizeof *m);
    return SHELF_OK;
}

shelf_loaded *shelf_state_find_sn(shelf_state *st, const char *sn)
{
    for (size_t i = 0; i < st->n; i++)
        if (strcmp(st->mods[i].sn, sn) == 0)
            return &st->mods[i];
    return NULL;
}

shelf_loaded *shelf_state_find(shelf_state *st, const char *user)
{
    for (size_t i = 0; i < st->n; i++)
        if (strcmp(st->mods[i].fullname, user) == 0)
            return &st->mods[i];
    shelf_loaded *m = shelf_state_find_sn(st, user);
    if (m)
        return m;
    size_t n = strlen(user);
    for (size_t i = 0; i < st->n; i++)
        if (strncmp(st->mods[i].fullname, user, n) == 0 &&
            (st->mods[i].fullname[n] == '/' || st->mods[i].fullname[n] == '.'))
            return &st->mods[i];
    return NULL;
}

/* ---- decoding ------------------------------------------------------------- */

static int json_str(const cJSON *obj, const char *key, char **out, int required)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!it || cJSON_IsNull(it)) {
        *out = NULL;
        return required ? -1 : 0;
    }
    if (!cJSON_IsString(it))
        return -1;
    *out = strdup(it->valuestring);
    return *out ? 0 : SHELF_ENOMEM;
}

static int json_strv(const cJSON *obj, const char *key, shelf_strv *out)
{
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(obj, key), *it;
    if (!arr)
        return 0;
    if (!cJSON_IsArray(arr))
        return -1;
    cJSON_ArrayForEach(it, arr) {
        if (!cJSON_IsString(it))
            return -1;
        if (shelf_strv_push(out, it->valuestring) < 0)
            return SHELF_ENOMEM;
    }
    return 0;
}

static int json_bool(const cJSON *obj, const char *key, int dflt)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
    return it ? cJSON_IsTrue(it) : dflt;
}

static int decode_mod(const cJSON *jm, shelf_loaded *m)
{
    memset(m, 0, sizeof *m);
    if (!cJSON_IsObject(jm))
        return -1;
    int rc = 0;
    if (json_str(jm, "fn", &m->fullname, 1) || json_str(jm, "sn", &m->sn, 1) ||
        json_str(jm, "ver", &m->version, 0) || json_str(jm, "file", &m->file, 1) ||
        json_str(jm, "mpath", &m->mpath, 0) || json_str(jm, "usr", &m->usrname, 0) ||
        json_str(jm, "fam", &m->family, 0) || json_strv(jm, "by", &m->needed_by) ||
        json_strv(jm, "props", &m->props))
        rc = -1;
    if (rc == 0 && !m->version)
        rc = (m->version = strdup("")) ? 0 : -1;
    if (rc == 0 && !m->mpath)
        rc = (m->mpath = strdup("")) ? 0 : -1;
    if (rc == 0 && !m->usrname)
        rc = (m->usrname = strdup(m->fullname)) ? 0 : -1;
    m->user_loaded = json_bool(jm, "user", 1);
    m->active = json_bool(jm, "active", 1);
    if (rc < 0)
        shelf_loaded_free(m);
    return rc;
}

static int decode_refs(const cJSON *refs, shelf_env *env)
{
    const cJSON *var, *ent;
    if (!refs)
        return 0;
    if (!cJSON_IsObject(refs))
        return -1;
    cJSON_ArrayForEach(var, refs) {
        if (!cJSON_IsArray(var))
            return -1;
        shelf_varrefs *vr = shelf_env_refs(env, var->string, 1);
        if (!vr)
            return -1;
        cJSON_ArrayForEach(ent, var) {
            const cJSON *e = cJSON_GetArrayItem(ent, 0);
            const cJSON *c = cJSON_GetArrayItem(ent, 1);
            const cJSON *p = cJSON_GetArrayItem(ent, 2);
            if (!cJSON_IsString(e) || !cJSON_IsNumber(c) || !cJSON_IsNumber(p))
                return -1;
            if (SHELF_GROW(vr->refs, vr->cap, vr->n + 1) < 0)
                return -1;
            shelf_pathref *r = &vr->refs[vr->n];
            if (!(r->entry = strdup(e->valuestring)))
                return -1;
            r->count = c->valueint;
            r->priority = p->valueint;
            vr->n++;
        }
    }
    return 0;
}

static int decode_stacks(const cJSON *stacks, shelf_env *env)
{
    const cJSON *var, *it;
    if (!stacks)
        return 0;
    if (!cJSON_IsObject(stacks))
        return -1;
    cJSON_ArrayForEach(var, stacks) {
        if (!cJSON_IsArray(var))
            return -1;
        cJSON_ArrayForEach(it, var) {
            if (!cJSON_IsString(it) && !cJSON_IsNull(it))
                return -1;
            if (shelf_env_stack_push(env, var->string,
                                     cJSON_IsString(it) ? it->valuestring : NULL) < 0)
                return -1;
        }
    }
    return 0;
}

/* Joins the chunks; NULL with *missing set when a chunk is absent. */
static char *join_chunks(const shelf_env *env, long count, long *missing)
{
    shelf_buf b;
    shelf_buf_init(&b);
    for (long i = 1; i <= count; i++) {
        char name[64];
        snprintf(name, sizeof name, TABLE_PREFIX "%03ld", i);
        const char *part = shelf_env_get(env, name);
        if (!part) {
            *missing = i;
            shelf_buf_free(&b);
            return NULL;
        }
        shelf_buf_adds(&b, part);
    }
    return shelf_buf_take(&b);
}

int shelf_state_load(shelf_state *st, shelf_env *env, shelf_error *err)
{
    shelf_state_init(st);
    const char *sz = shelf_env_get(env, TABLE_SIZE_VAR);
    if (!sz)
        return SHELF_OK;
    static const char recover[] =
        "; run `module --force purge` (or start a new shell) to start afresh";
    char *end;
    long count = strtol(sz, &end, 10);
    if (*sz == '\0' || *end != '\0' || count < 1 || count > 100000) {
        shelf_error_set(err, SHELF_ESTATE, NULL, NULL, 0,
                        "the module table in the environment is corrupt: "
                        TABLE_SIZE_VAR "=\"%s\" is not a chunk count%s", sz, recover);
        return SHELF_ESTATE;
    }
    long missing = 0;
    char *text = join_chunks(env, count, &missing);
    if (!text) {
        if (missing)
            shelf_error_set(err, SHELF_ESTATE, NULL, NULL, 0,
                            "the module table in the environment is corrupt: "
                            TABLE_PREFIX "%03ld is missing%s", missing, recover);
        return missing ? SHELF_ESTATE : SHELF_ENOMEM;
    }
    shelf_json_where at;
    cJSON *root = shelf_json_parse(text, strlen(text), &at);
    free(text);
    if (!root && at.code == SHELF_ENOMEM) /* not a corrupt table */
        return SHELF_ENOMEM;
    const cJSON *mods = root ? cJSON_GetObjectItemCaseSensitive(root, "mods") : NULL, *jm;
    const cJSON *ver = root ? cJSON_GetObjectItemCaseSensitive(root, "v") : NULL;
    int bad = !root || !cJSON_IsObject(root) || !cJSON_IsNumber(ver) ||
              ver->valueint != 1 || (mods && !cJSON_IsArray(mods));
    shelf_env probe; /* refs and stacks are decoded aside, then moved in */
    shelf_env_init(&probe, NULL);
    if (!bad) {
        cJSON_ArrayForEach(jm, mods) {
            shelf_loaded m;
            if (decode_mod(jm, &m) < 0 || shelf_state_append(st, &m) < 0) {
                bad = 1;
                break;
            }
        }
    }
    if (!bad)
        bad = decode_refs(cJSON_GetObjectItemCaseSensitive(root, "refs"), &probe) ||
              decode_stacks(cJSON_GetObjectItemCaseSensitive(root, "stacks"), &probe);
    cJSON_Delete(root);
    if (bad) {
        shelf_state_free(st);
        shelf_env_free(&probe);
        shelf_error_set(err, SHELF_ESTATE, NULL, NULL, 0,
                        "the module table in the environment (" TABLE_PREFIX
                        "*) is corrupt%s", recover);
        return SHELF_ESTATE;
    }
    /* Hand the decoded counts and stacks to env (it has none of its own yet). */
    env->refs = probe.refs;
    env->nrefs = probe.nrefs;
    env->refcap = probe.refcap;
    env->stacks = probe.stacks;
    env->nstacks = probe.nstacks;
    env->stackcap = probe.stackcap;
    return SHELF_OK;
}

/* ---- encoding ------------------------------------------------------------- */

static cJSON *encode(const shelf_state *st, const shelf_env *env)
{
    cJSON *root = cJSON_CreateObject();
    cJSON *mods = cJSON_AddArrayToObject(root, "mods");
    int ok = root && mods && cJSON_AddNumberToObject(root, "v", 1);
    for (size_t i = 0; ok && i < st->n; i++) {
        const shelf_loaded *m = &st->mods[i];
        cJSON *jm = cJSON_CreateObject();
        ok = jm && cJSON_AddItemToArray(mods, jm) &&
             cJSON_AddStringToObject(jm, "fn", m->fullname) &&
             cJSON_AddStringToObject(jm, "sn", m->sn) &&
             cJSON_AddStringToObject(jm, "ver", m->version) &&
             cJSON_AddStringToObject(jm, "file", m->file) &&
             cJSON_AddStringToObject(jm, "mpath", m->mpath) &&
             cJSON_AddStringToObject(jm, "usr", m->usrname) &&
             (!m->family || cJSON_AddStringToObject(jm, "fam", m->family)) &&
             (!m->needed_by.n || shelf_json_add(jm, "by", shelf_json_strv(&m->needed_by))) &&
             (!m->props.n || shelf_json_add(jm, "props", shelf_json_strv(&m->props))) &&
             (m->user_loaded || cJSON_AddFalseToObject(jm, "user")) &&
             (m->active || cJSON_AddFalseToObject(jm, "active"));
    }
    cJSON *refs = ok ? cJSON_AddObjectToObject(root, "refs") : NULL;
    ok = ok && refs;
    for (size_t i = 0; ok && i < env->nrefs; i++) {
        const shelf_varrefs *vr = &env->refs[i];
        if (vr->n == 0)
            continue;
        cJSON *arr = cJSON_AddArrayToObject(refs, vr->name);
        ok = arr != NULL;
        for (size_t j = 0; ok && j < vr->n; j++) {
            cJSON *e = cJSON_CreateArray();
            ok = e && cJSON_AddItemToArray(arr, e) &&
                 cJSON_AddItemToArray(e, cJSON_CreateString(vr->refs[j].entry)) &&
                 cJSON_AddItemToArray(e, cJSON_CreateNumber(vr->refs[j].count)) &&
                 cJSON_AddItemToArray(e, cJSON_CreateNumber(vr->refs[j].priority));
        }
    }
    cJSON *stacks = ok ? cJSON_AddObjectToObject(root, "stacks") : NULL;
    ok = ok && stacks;
    for (size_t i = 0; ok && i < env->nstacks; i++) {
        const shelf_env_stack *s = &env->stacks[i];
        if (s->values.n == 0)
            continue;
        cJSON *arr = cJSON_AddArrayToObject(stacks, s->name);
        ok = arr != NULL;
        for (size_t j = 0; ok && j < s->values.n; j++) {
            const char *v = s->values.v[j];
            ok = cJSON_AddItemToArray(arr, strcmp(v, SHELF_ENV_UNSET_MARK) == 0
                                               ? cJSON_CreateNull()
                                               : cJSON_CreateString(v));
        }
    }
    if (!ok) {
        cJSON_Delete(root);
        return NULL;
    }
    return root;
}

static int has_bookkeeping(const shelf_env *env)
{
    for (size_t i = 0; i < env->nrefs; i++)
        if (env->refs[i].n)
            return 1;
    for (size_t i = 0; i < env->nstacks; i++)
        if (env->stacks[i].values.n)
            return 1;
    return 0;
}

static int set_or_unset_list(shelf_env *env, const char *name, shelf_strv *sv)
{
    if (sv->n == 0)
        return shelf_env_unset(env, name);
    char *joined = shelf_strv_join(sv, ":");
    if (!joined)
        return SHELF_ENOMEM;
    int rc = shelf_env_set(env, name, joined);
    free(joined);
    return rc;
}

int shelf_state_save(const shelf_state *st, shelf_env *env)
{
    long old = 0;
    const char *sz = shelf_env_get(env, TABLE_SIZE_VAR);
    if (sz)
        old = strtol(sz, NULL, 10);
    char *text = NULL;
    if (st->n || has_bookkeeping(env)) {
        cJSON *root = encode(st, env);
        text = shelf_json_text(root, 0);
        cJSON_Delete(root);
        if (!text)
            return SHELF_ENOMEM;
    }
    int rc = SHELF_OK;
    size_t len = text ? strlen(text) : 0;
    long chunks = (long)((len + SHELF_STATE_CHUNK - 1) / SHELF_STATE_CHUNK);
    char name[64];
    for (long i = 1; rc == 0 && i <= chunks; i++) {
        size_t off = (size_t)(i - 1) * SHELF_STATE_CHUNK;
        size_t n = len - off < SHELF_STATE_CHUNK ? len - off : SHELF_STATE_CHUNK;
        char *part = strndup(text + off, n);
        snprintf(name, sizeof name, TABLE_PREFIX "%03ld", i);
        rc = part ? shelf_env_set(env, name, part) : SHELF_ENOMEM;
        free(part);
    }
    for (long i = chunks + 1; rc == 0 && i <= old; i++) {
        snprintf(name, sizeof name, TABLE_PREFIX "%03ld", i);
        rc = shelf_env_unset(env, name);
    }
    free(text);
    if (rc == 0) {
        snprintf(name, sizeof name, "%ld", chunks);
        rc = chunks ? shelf_env_set(env, TABLE_SIZE_VAR, name)
                    : shelf_env_unset(env, TABLE_SIZE_VAR);
    }
    shelf_strv names, files;
    shelf_strv_init(&names);
    shelf_strv_init(&files);
    for (size_t i = 0; rc == 0 && i < st->n; i++) {
        if (!st->mods[i].active)
            continue;
        rc = shelf_strv_push(&names, st->mods[i].fullname);
        if (rc == 0)
            rc = shelf_strv_push(&files, st->mods[i].file);
    }
    if (rc == 0)
        rc = set_or_unset_list(env, "LOADEDMODULES", &names);
    if (rc == 0)
        rc = set_or_unset_list(env, "_LMFILES_", &files);
    shelf_strv_free(&names);
    shelf_strv_free(&files);
    return rc;
}

