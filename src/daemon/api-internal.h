/*
 * api-internal.h -- the pieces of shelfd's API shared between api.c
 * (routing, contexts, actions) and api-catalog.c (the module catalog of
 * the trees and the JSON of GET /api/v1/modules).
 */
#ifndef SHELFD_API_INTERNAL_H
#define SHELFD_API_INTERNAL_H

#include <cJSON.h>

#include "shelf.h"

/* Every module of the configured trees, at every level of their hierarchy,
 * with what spider mode tells of it and the modules that open its level.
 * Immutable once built: any number of threads read it without a lock. */
typedef struct api_catalog api_catalog;

/* Builds the catalog of trees[0..ntrees) (normalized absolute directories):
 * from each tree's index when it is fresh, else by walking the tree and
 * evaluating its modulefiles in spider mode (os.getenv answered from env, a
 * NULL-terminated "NAME=value" array; each evaluation within limits).
 * Reads nothing outside the trees and the directories their modules open.
 * Returns 0 and *out, or SHELF_ENOMEM (*out NULL, err set). An unreadable
 * tree is simply empty. */
int api_catalog_build(char *const *trees, size_t ntrees, char *const *env,
                      const shelf_eval_limits *limits, api_catalog **out, shelf_error *err);
void api_catalog_free(api_catalog *cat);

/* 1 when dir (normalized) is a directory the context may have on
 * MODULEPATH: inside a tree, or a level that a module of the trees opens. */
int api_catalog_allows(const api_catalog *cat, char *const *trees, size_t ntrees,
                       const char *dir);

/* What GET modules asks for. */
typedef struct api_list_query {
    const char *q;       /* substring of name, description or keywords; "" all */
    int all;             /* every version, not only defaults and loaded ones */
    int hidden;          /* hidden versions too */
    const shelf_strv *modulepath;  /* the context's MODULEPATH (normalized) */
    const shelf_strv *loaded_files; /* the context's _LMFILES_ */
} api_list_query;

/* The JSON document {"modules": [...]} for q. NULL on OOM. */
char *api_catalog_modules_json(const api_catalog *cat, const api_list_query *q,
                               size_t *len);

/* The module the catalog knows as `name` (a full name, or a short name:
 * its default at the first level holding it). Its modfile (owned by the
 * catalog) or NULL. */
const shelf_modfile *api_catalog_find(const api_catalog *cat, const char *name);

/* The module lists that unlock the level of modulefile `file`, as
 * [["gcc/12.3.0", "openmpi/4.1.6"], ...] ([] for a tree's top level or a
 * file the catalog does not know). NULL on OOM. */
cJSON *api_catalog_requires(const api_catalog *cat, const char *file);


#endif
