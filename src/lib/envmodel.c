/*
 * envmodel.c -- the environment a command works on (see envmodel.h).
 *
 * Data: `base` is the caller's environment, read through and never
 * written; `vars` holds every variable the command touched, with its
 * original value, so the diff is exact. Path variables keep their order
 * in the value itself; `refs` adds counts and priorities for entries whose
 * (count, priority) is not the implicit (1, 0).
 * Invariant: a shelf_varrefs never lists an entry absent from the value.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "envmodel.h"
#include "shelf-internal.h"

void shelf_env_init(shelf_env *env, char **environ_)
{
    memset(env, 0, sizeof *env);
    env->base = environ_;
}

static void named_free(shelf_env_named *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i].name);
        free(v[i].value);
        free(v[i].value2);
    }
    free(v);
}

void shelf_env_free(shelf_env *env)
{
    for (size_t i = 0; i < env->nvars; i++) {
        free(env->vars[i].name);
        free(env->vars[i].value);
        free(env->vars[i].orig);
    }
    free(env->vars);
    for (size_t i = 0; i < env->nrefs; i++) {
        for (size_t j = 0; j < env->refs[i].n; j++)
            free(env->refs[i].refs[j].entry);
        free(env->refs[i].refs);
        free(env->refs[i].name);
    }
    free(env->refs);
    for (size_t i = 0; i < env->nstacks; i++) {
        free(env->stacks[i].name);
        shelf_strv_free(&env->stacks[i].values);
    }
    free(env->stacks);
    named_free(env->aliases, env->naliases);
    named_free(env->funcs, env->nfuncs);
    memset(env, 0, sizeof *env);
}

static shelf_env_var *find_var(const shelf_env *env, const char *name)
{
    for (size_t i = 0; i < env->nvars; i++)
        if (strcmp(env->vars[i].name, name) == 0)
            return &env->vars[i];
    return NULL;
}

const char *shelf_env_get(const shelf_env *env, const char *name)
{
    shelf_env_var *v = find_var(env, name);
    return v ? v->value : shelf_environ_get(env->base, name);
}

/* The record for name, created (with its original value) on first touch. */
static shelf_env_var *touch_var(shelf_env *env, const char *name)
{
    shelf_env_var *v = find_var(env, name);
    if (v)
        return v;
    if (SHELF_GROW(env->vars, env->varcap, env->nvars + 1) < 0)
        return NULL;
    const char *orig = shelf_environ_get(env->base, name);
    shelf_env_var nv = {strdup(name), orig ? strdup(orig) : NULL,
                        orig ? strdup(orig) : NULL, 1};
    if (!nv.name || (orig && (!nv.value || !nv.orig))) {
        free(nv.name);
        free(nv.value);
        free(nv.orig);
        return NULL;
    }
    env->vars[env->nvars] = nv;
    return &env->vars[env->nvars++];
}

int shelf_env_set(shelf_env *env, const char *name, const char *value)
{
    shelf_env_var *v = touch_var(env, name);
    char *copy = value ? strdup(value) : NULL;
    if (!v || (value && !copy)) {
        free(copy);
        return SHELF_ENOMEM;
    }
    free(v->value);
    v->value = copy;
    return SHELF_OK;
}

int shelf_env_unset(shelf_env *env, const char *name)
{
    return shelf_env_set(env, name, NULL);
}

/* ---- path variables ---------------------------------------------------- */

shelf_varrefs *shelf_env_refs(shelf_env *env, const char *name, int create)
{
    for (size_t i = 0; i < env->nrefs; i++)
        if (strcmp(env->refs[i].name, name) == 0)
            return &env->refs[i];
    if (!create || SHELF_GROW(env->refs, env->refcap, env->nrefs + 1) < 0)
        return NULL;
    shelf_varrefs r = {strdup(name), NULL, 0, 0};
    if (!r.name)
        return NULL;
    env->refs[env->nrefs] = r;
    return &env->refs[env->nrefs++];
}

static shelf_pathref *find_ref(shelf_varrefs *vr, const char *entry)
{
    for (size_t i = 0; vr && i < vr->n; i++)
        if (strcmp(vr->refs[i].entry, entry) == 0)
            return &vr->refs[i];
    return NULL;
}

static void drop_ref(shelf_varrefs *vr, const char *entry)
{
    shelf_pathref *r = find_ref(vr, entry);
    if (!r)
        return;
    free(r->entry);
    size_t i = (size_t)(r - vr->refs);
    memmove(r, r + 1, (vr->n - i - 1) * sizeof *r);
    vr->n--;
}

/* Records (count, priority) for entry; the implicit (1, 0) is not stored. */
static int put_ref(shelf_env *env, const char *name, const char *entry,
                   int count, int priority)
{
    shelf_varrefs *vr = shelf_env_refs(env, name, count != 1 || priority != 0);
    if (!vr)
        return (count != 1 || priority != 0) ? SHELF_ENOMEM : SHELF_OK;
    shelf_pathref *r = find_ref(vr, entry);
    if (count == 1 && priority == 0) {
        drop_ref(vr, entry);
        return SHELF_OK;
    }
    if (!r) {
        if (SHELF_GROW(vr->refs, vr->cap, vr->n + 1) < 0)
            return SHELF_ENOMEM;
        char *e = strdup(entry);
        if (!e)
            return SHELF_ENOMEM;
        r = &vr->refs[vr->n++];
        r->entry = e;
    }
    r->count = count;
    r->priority = priority;
    return SHELF_OK;
}

static void entry_meta(shelf_env *env, const char *name, const char *entry,
                       int *count, int *priority)
{
    shelf_pathref *r = find_ref(shelf_env_refs(env, name, 0), entry);
    *count = r ? r->count : 1;
    *priority = r ? r->priority : 0;
}

static int store_entries(shelf_env *env, const char *name,
                         const shelf_strv *entries, const char *delim)
{
    if (entries->n == 0)
        return shelf_env_unset(env, name);
    char *joined = shelf_strv_join(entries, delim);
    if (!joined)
        return SHELF_ENOMEM;
    int rc = shelf_env_set(env, name, joined);
    free(joined);
    return rc;
}

static int insert_at(shelf_strv *sv, size_t pos, const char *s)
{
    if (shelf_strv_push(sv, s) < 0)
        return SHELF_ENOMEM;
    char *last = sv->v[sv->n - 1];
    memmove(sv->v + pos + 1, sv->v + pos, (sv->n - 1 - pos) * sizeof *sv->v);
    sv->v[pos] = last;
    return SHELF_OK;
}

int shelf_env_path_add(shelf_env *env, const char *name, const char *items,
                       const char *delim, int prepend, int priority)
{
    shelf_strv entries, add;
    shelf_strv_init(&entries);
    shelf_strv_init(&add);
    const char *cur = shelf_env_get(env, name);
    int rc = shelf_strv_split(&entries, cur ? cur : "", delim, 0);
    if (rc == 0)
        rc = shelf_strv_split(&add, items, delim, 0);
    for (size_t k = 0; rc == 0 && k < add.n; k++) {
        /* Prepending "a:b" must leave a before b: insert b first. */
        const char *item = add.v[prepend ? add.n - 1 - k : k];
        int count = 0, prio;
        long at = shelf_strv_find(&entries, item);
        if (at >= 0) {
            entry_meta(env, name, item, &count, &prio);
            shelf_strv_remove(&entries, (size_t)at);
        }
        size_t pos;
        int p, c;
        if (prepend) {
            for (pos = 0; pos < entries.n; pos++) {
                entry_meta(env, name, entries.v[pos], &c, &p);
                if (p <= priority)
                    break;
            }
        } else {
            for (pos = entries.n; pos > 0; pos--) {
                entry_meta(env, name, entries.v[pos - 1], &c, &p);
                if (p <= priority)
                    break;
            }
        }
        rc = insert_at(&entries, pos, item);
        if (rc == 0)
            rc = put_ref(env, name, item, count + 1, priority);
    }
    if (rc == 0)
        rc = store_entries(env, name, &entries, delim);
    shelf_strv_free(&entries);
    shelf_strv_free(&add);
    return rc;
}

int shelf_env_path_remove(shelf_env *env, const char *name, const char *items,
                          const char *delim, int force)
{
    const char *cur = shelf_env_get(env, name);
    if (!cur)
        return SHELF_OK;
    shelf_strv entries, del;
    shelf_strv_init(&entries);
    shelf_strv_init(&del);
    int rc = shelf_strv_split(&entries, cur, delim, 0);
    if (rc == 0)
        rc = shelf_strv_split(&del, items, delim, 0);
    for (size_t k = 0; rc == 0 && k < del.n; k++) {
        long at = shelf_strv_find(&entries, del.v[k]);
        if (at < 0)
            continue;
        int count, prio;
        entry_meta(env, name, del.v[k], &count, &prio);
        if (force || count <= 1) {
            drop_ref(shelf_env_refs(env, name, 0), del.v[k]);
            shelf_strv_remove(&entries, (size_t)at);
        } else {
            rc = put_ref(env, name, del.v[k], count - 1, prio);
        }
    }
    if (rc == 0)
        rc = store_entries(env, name, &entries, delim);
    shelf_strv_free(&entries);
    shelf_strv_free(&del);
    return rc;
}

/* ---- pushenv stacks -------------------------------------------------------- */

static shelf_env_stack *find_stack(shelf_env *env, const char *name, int create)
{
    for (size_t i = 0; i < env->nstacks; i++)
        if (strcmp(env->stacks[i].name, name) == 0)
            return &env->stacks[i];
    if (!create || SHELF_GROW(env->stacks, env->stackcap, env->nstacks + 1) < 0)
        return NULL;
    shelf_env_stack *s = &env->stacks[env->nstacks];
    if (!(s->name = strdup(name)))
        return NULL;
    shelf_strv_init(&s->values);
    env->nstacks++;
    return s;
}

int shelf_env_stack_push(shelf_env *env, const char *name, const char *value)
{
    shelf_env_stack *s = find_stack(env, name, 1);
    if (!s)
        return SHELF_ENOMEM;
    return shelf_strv_push(&s->values, value ? value : SHELF_ENV_UNSET_MARK);
}

int shelf_env_push(shelf_env *env, const char *name, const char *value)
{
    int rc = shelf_env_stack_push(env, name, shelf_env_get(env, name));
    if (rc == 0 && (rc = shelf_env_set(env, name, value)) < 0) {
        shelf_env_stack *s = find_stack(env, name, 0);
        shelf_strv_remove(&s->values, s->values.n - 1);
    }
    return rc;
}

int shelf_env_pop(shelf_env *env, const char *name)
{
    shelf_env_stack *s = find_stack(env, name, 0);
    if (!s || s->values.n == 0)
        return shelf_env_unset(env, name);
    const char *prev = s->values.v[s->values.n - 1];
    int rc = strcmp(prev, SHELF_ENV_UNSET_MARK) == 0
                 ? shelf_env_unset(env, name)
                 : shelf_env_set(env, name, prev);
    if (rc == 0)
        shelf_strv_remove(&s->values, s->values.n - 1);
    return rc;
}

/* ---- aliases and functions --------------------------------------------------- */

static int set_named(shelf_env_named **arr, size_t *n, size_t *cap,
                     const char *name, const char *value, const char *value2)
{
    shelf_env_named *hit = NULL;
    for (size_t i = 0; i < *n; i++)
        if (strcmp((*arr)[i].name, name) == 0)
            hit = &(*arr)[i];
    char *v = value ? strdup(value) : NULL;
    char *v2 = value2 ? strdup(value2) : NULL;
    if ((value && !v) || (value2 && !v2))
        goto oom;
    if (!hit) {
        if (shelf_grow(arr, cap, *n + 1, sizeof **arr) < 0)
            goto oom;
        hit = &(*arr)[*n];
        if (!(hit->name = strdup(name)))
            goto oom;
        hit->value = hit->value2 = NULL;
        (*n)++;
    }
    free(hit->value);
    free(hit->value2);
    hit->value = v;
    hit->value2 = v2;
    return SHELF_OK;
oom:
    free(v);
    free(v2);
    return SHELF_ENOMEM;
}

int shelf_env_set_alias(shelf_env *env, const char *name, const char *value)
{
    return set_named(&env->aliases, &env->naliases, &env->aliascap, name,
                     value, NULL);
}

int shelf_env_set_func(shelf_env *env, const char *name, const char *sh_body,
                       const char *csh_body, int remove)
{
    return set_named(&env->funcs, &env->nfuncs, &env->funccap, name,
                     remove ? NULL : sh_body ? sh_body : "",
                     remove ? NULL : csh_body);
}

/* ---- diff ---------------------------------------------------------------------- */

static int cmp_var(const void *a, const void *b)
{
    return strcmp((*(shelf_env_var *const *)a)->name,
                  (*(shelf_env_var *const *)b)->name);
}

int shelf_env_diff(const shelf_env *env, shelf_changes *out)
{
    shelf_env_var **sorted = malloc((env->nvars + 1) * sizeof *sorted);
    if (!sorted)
        return SHELF_ENOMEM;
    for (size_t i = 0; i < env->nvars; i++)
        sorted[i] = &env->vars[i];
    qsort(sorted, env->nvars, sizeof *sorted, cmp_var);
    int rc = SHELF_OK;
    for (size_t i = 0; rc == 0 && i < env->nvars; i++) {
        shelf_env_var *v = sorted[i];
        if (v->value && (!v->orig || strcmp(v->value, v->orig) != 0))
            rc = shelf_changes_add(out, SHELF_CHANGE_SETENV, v->name, v->value, NULL);
        else if (!v->value && v->orig)
            rc = shelf_changes_add(out, SHELF_CHANGE_UNSETENV, v->name, NULL, NULL);
    }
    free(sorted);
    for (size_t i = 0; rc == 0 && i < env->naliases; i++) {
        shelf_env_named *a = &env->aliases[i];
        rc = shelf_changes_add(out, a->value ? SHELF_CHANGE_ALIAS : SHELF_CHANGE_UNALIAS,
                               a->name, a->value, NULL);
    }
    for (size_t i = 0; rc == 0 && i < env->nfuncs; i++) {
        shelf_env_named *f = &env->funcs[i];
        rc = shelf_changes_add(out, f->value ? SHELF_CHANGE_FUNC : SHELF_CHANGE_UNFUNC,
                               f->name, f->value, f->value2);
    }
    return rc;
}
