/*
 * api-internal.h -- the pieces of shelfd's API shared between api.c
 * (routing, contexts, actions) and api-catalog.c (the module catalog of
 * the trees and the JSON of GET /api/v1/modules).
 */
#ifndef SHELFD_API_INTERNAL_H
#define SHELFD_API_INTERNAL_H

#include <cJSON.h>

#include "catalog.h"
#include "engine.h"
#include "shelf.h"

/* Every module of the configured trees, at every level of their hierarchy,
 * with what spider mode tells of it and the modules that open its level.
 * Immutable once built: any number of threads read it without a lock. */
typedef struct api_catalog api_catalog;

/* Builds the catalog of trees[0..ntrees) (normalized absolute directories):
 * from each tree's index when it is fresh, else by walking the tree and
 * evaluating its modulefiles in spider mode (os.getenv answered from env, a
 * NULL-terminated "NAME=value" array). Reads nothing outside the trees and
 * the directories their modules open. Returns 0 and *out, or SHELF_ENOMEM
 * (*out NULL, err set). An unreadable tree is simply empty. */
int api_catalog_build(char *const *trees, size_t ntrees, char *const *env,
                      shelf_index_check check, api_catalog **out, shelf_error *err);
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
int api_view_init(api_view *v, const api_catalog *ac, shelf_engine *e, int show_hidden);
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

#endif
