/*
 * command.c -- one changing command from start to end: a request in, a
 * result out (see shelf_run in shelf.h).
 *
 * The `shelf` command, shelfd's actions, `shelf export` and the tests all
 * change an environment through shelf_run: it opens the engine on the
 * caller's environment, carries out the request as one transaction,
 * settles the hierarchy and hands back the changes to apply, the messages
 * for the person and the loaded modules before and after. Nothing else of
 * the engine is needed to change an environment, so no front end decides
 * on its own how a command ends.
 *
 * Invariant: on failure the result is empty (shelf_result_init state) and
 * the caller's environment was never touched: emit nothing.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "engine-internal.h"
#include "shelf-internal.h"

void shelf_result_init(shelf_result *r)
{
    memset(r, 0, sizeof *r);
    shelf_changes_init(&r->changes);
    shelf_strv_init(&r->messages);
    shelf_state_init(&r->before);
    shelf_state_init(&r->after);
}

void shelf_result_free(shelf_result *r)
{
    shelf_changes_free(&r->changes);
    shelf_strv_free(&r->messages);
    shelf_state_free(&r->before);
    shelf_state_free(&r->after);
    shelf_result_init(r);
}

/* `reset`: every module unloaded, sticky ones too (as Lmod), then the
 * system's default modules loaded. */
static int reset(shelf_engine *e, const char *system_default, shelf_error *err)
{
    int rc = shelf_engine_purge_all(e, err);
    if (rc < 0 || !system_default || !*system_default)
        return rc;
    shelf_strv mods;
    shelf_strv_init(&mods);
    rc = shelf_strv_split(&mods, system_default, ":", 0);
    if (rc == 0)
        rc = shelf_engine_load(e, mods.v, mods.n, 0, err);
    else
        shelf_oom(err);
    shelf_strv_free(&mods);
    return rc;
}

/* `ml WORDS`: every -name unloaded, then every other name loaded. */
static int ml(shelf_engine *e, char *const *words, size_t n, shelf_error *err)
{
    shelf_strv loads, unloads;
    shelf_strv_init(&loads);
    shelf_strv_init(&unloads);
    int rc = SHELF_OK;
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = words[i][0] == '-' && words[i][1] ? shelf_strv_push(&unloads, words[i] + 1)
                                               : shelf_strv_push(&loads, words[i]);
    if (rc < 0)
        shelf_oom(err);
    if (rc == 0 && unloads.n)
        rc = shelf_engine_unload(e, unloads.v, unloads.n, err);
    if (rc == 0 && loads.n)
        rc = shelf_engine_load(e, loads.v, loads.n, 0, err);
    shelf_strv_free(&loads);
    shelf_strv_free(&unloads);
    return rc;
}

/* What a request must hold, checked before anything is read. 0 or
 * SHELF_EUSAGE. */
static int check_request(const shelf_request *q, shelf_error *err)
{
    if (q->op == SHELF_OP_SWAP && (q->nargs < 1 || q->nargs > 2)) {
        shelf_error_set(err, SHELF_EUSAGE, NULL, NULL, 0,
                        "swap: use `module swap OLD NEW` or `module swap NEW`");
        return SHELF_EUSAGE;
    }
    if (q->op == SHELF_OP_RESTORE && !q->collection) {
        shelf_error_set(err, SHELF_EUSAGE, NULL, NULL, 0, "restore needs a collection");
        return SHELF_EUSAGE;
    }
    return SHELF_OK;
}

static int carry_out(shelf_engine *e, const shelf_request *q, shelf_error *err)
{
    switch (q->op) {
    case SHELF_OP_LOAD:
    case SHELF_OP_TRY_LOAD:
        return shelf_engine_load(e, q->args, q->nargs, q->op == SHELF_OP_TRY_LOAD, err);
    case SHELF_OP_UNLOAD:
        return shelf_engine_unload(e, q->args, q->nargs, err);
    case SHELF_OP_SWAP:
        return shelf_engine_swap(e, q->args[0], q->nargs == 2 ? q->args[1] : NULL, err);
    case SHELF_OP_PURGE:
        return shelf_engine_purge(e, err);
    case SHELF_OP_RELOAD:
        return shelf_engine_reload(e, err);
    case SHELF_OP_REFRESH:
        return shelf_engine_refresh(e, err);
    case SHELF_OP_USE:
        return shelf_engine_use(e, q->args, q->nargs, q->append, err);
    case SHELF_OP_UNUSE:
        return shelf_engine_unuse(e, q->args, q->nargs, err);
    case SHELF_OP_RESET:
        return reset(e, q->system_default, err);
    case SHELF_OP_RESTORE:
        return shelf_engine_restore(e, q->collection, q->allow_changes, err);
    case SHELF_OP_ML:
        return ml(e, q->args, q->nargs, err);
    }
    shelf_error_set(err, SHELF_EUSAGE, NULL, NULL, 0, "unknown operation");
    return SHELF_EUSAGE;
}

int shelf_run(char *const *env, const shelf_request *q, shelf_result *out, shelf_error *err)
{
    shelf_result_init(out);
    if (check_request(q, err) < 0)
        return SHELF_EUSAGE;
    shelf_engine e;
    int rc = shelf_engine_open(&e, env, q->shell, q->limits, err);
    e.force = q->force;
    if (rc == SHELF_ESTATE && q->recover) {
        shelf_error_clear(err);
        rc = shelf_engine_forget_table(&e, err);
    }
    if (rc == 0 && q->keep_before && shelf_state_copy(&out->before, &e.st) < 0)
        rc = shelf_oom(err);
    if (rc == 0)
        rc = carry_out(&e, q, err);
    if (rc == SHELF_ENOMEM && err->code == SHELF_OK)
        shelf_oom(err);
    if (rc == 0)
        rc = shelf_engine_finish(&e, &out->changes, err);
    if (rc == 0) { /* the engine is done with both: moved, not copied */
        out->after = e.st;
        shelf_state_init(&e.st);
        out->messages = e.messages;
        shelf_strv_init(&e.messages);
        out->warned = e.warned;
    } else {
        shelf_result_free(out);
    }
    shelf_engine_close(&e);
    return rc;
}
