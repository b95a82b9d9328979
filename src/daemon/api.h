/*
 * api.h -- shelfd's JSON API, independent of HTTP: one request in, one
 * response out. server.c (libmicrohttpd) parses HTTP, checks the token and
 * the size limits, and hands each request to api_handle(); the event bus
 * (events.h) carries what /api/v1/events streams.
 *
 * Thread safety: api_handle() is called from many threads at once (one per
 * connection). The api_state keeps one environment context per client id,
 * each with its own lock, and a read-mostly view of the module trees.
 */
#ifndef SHELFD_API_H
#define SHELFD_API_H

#include <stddef.h>

#include "events.h"
#include "shelf.h"

typedef struct api_config {
    /* The trees the daemon serves: a context's MODULEPATH may only name
     * directories inside them (others are dropped, and said so). */
    const char *const *trees;
    size_t ntrees;
    /* The environment a client that posted none works in (the daemon's own,
     * NULL-terminated "NAME=value" strings; copied by api_new). */
    char *const *default_env;
    events *bus; /* where state changes are published (not owned) */
    shelf_index_check index_check; /* how the trees' indexes are checked */
    shelf_eval_limits limits; /* budgets of each modulefile evaluation */
} api_config;

typedef struct api_state api_state;

typedef struct api_request {
    const char *method;     /* "GET", "POST", "PUT", "DELETE", ... */
    const char *path;       /* decoded path: "/api/v1/modules/gcc/12.3.0" */
    const char *client;     /* the X-Shelf-Client header, or "default" */
    const char *const *qkeys; /* query parameters (decoded), nquery of them */
    const char *const *qvals; /* a value may be "" (?all) */
    size_t nquery;
    const char *body;       /* NULL when none; not NUL-terminated */
    size_t body_len;
} api_request;

typedef struct api_response {
    int status;          /* HTTP status: 200, 201, 400, 404, 405, 409, 413, 500 ... */
    char *body;          /* malloc'd JSON text (always set, errors too) */
    size_t len;
    const char *allow;   /* for 405: the methods the path takes ("GET, POST") */
} api_response;

/* Makes the state. NULL on failure (err says why). */
api_state *api_new(const api_config *cfg, shelf_error *err);
void api_free(api_state *s);

/* Answers one request (any method and path; unknown ones get a JSON 404 or
 * 405). Never fails: resp->body is a JSON document, {"error": {"code",
 * "message", "module", "file", "line"}} for errors. Thread-safe. */
void api_handle(api_state *s, const api_request *req, api_response *resp);
void api_response_free(api_response *resp);

/* The trees changed on disk (from the watcher): drop what was read of
 * them, publish a "tree" event. Thread-safe. */
void api_tree_changed(api_state *s, const char *dir);
/* A rebuilt index is in place: publish an "index" event. Thread-safe. */
void api_index_rebuilt(api_state *s, const char *dir);

#endif
