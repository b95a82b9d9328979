/*
 * json.h -- the one JSON vocabulary (json.c): one printer, one reader and
 * the builders of the objects every front end shares.
 */
#ifndef SHELF_JSON_H
#define SHELF_JSON_H

#include <cJSON.h>

#include "catalog.h"
#include "shelf.h"
#include "spider.h"
#include "state.h"

/* Appends the JSON string literal for the bytes of s: valid UTF-8 as is,
 * every other byte as \udcXX (Python's surrogateescape). */
void shelf_json_quote(shelf_buf *out, const char *s);

/* Appends item as JSON text: compact, or (pretty) laid out with tabs and
 * newlines as cJSON_Print lays it out. Strings and names are quoted by
 * shelf_json_quote. An allocation failure shows as out->oom. */
void shelf_json_print(const cJSON *item, int pretty, shelf_buf *out);
/* The same as a new string (free()), NULL on OOM or when item is NULL. */
char *shelf_json_text(const cJSON *item, int pretty);

/* Where a document failed to parse. */
typedef struct shelf_json_where {
    size_t offset; /* byte offset in the text */
    int line;      /* 1-based line of that byte */
    int code;      /* SHELF_EPARSE (malformed), SHELF_EUSAGE (a NUL, raw or
                      as \u0000, which no string may hold), SHELF_ENOMEM */
} shelf_json_where;

/* Parses the len bytes of text as one JSON value (white space around it
 * allowed, nothing else), turning \udc80..\udcff escapes back into their
 * bytes. The new value (cJSON_Delete), or NULL with *where (when not NULL)
 * saying where and why. */
cJSON *shelf_json_parse(const char *text, size_t len, shelf_json_where *where);

/* Adds item under key (taking it: freed on failure too); 1, or 0 on OOM
 * or when item is NULL. */
int shelf_json_add(cJSON *obj, const char *key, cJSON *item);
/* Adds a string, or null for s == NULL; 1 or 0 (OOM). */
int shelf_json_add_str(cJSON *obj, const char *key, const char *s);
int shelf_json_add_bool(cJSON *obj, const char *key, int b);

/* The vocabulary. Each returns a new value, NULL on OOM. */

/* ["a", "b"] (sv NULL: []). */
cJSON *shelf_json_strv(const shelf_strv *sv);
/* {"name": ["value", ...]} from "name=value" strings (NULL: {}). */
cJSON *shelf_json_props(const shelf_strv *props);
/* One chain of a catalog level (SHELF_CHAIN_SEP between full names) as
 * ["gcc/12.3.0", "openmpi/4.1.6"]. */
cJSON *shelf_json_chain(const char *chain);
/* A change set, the `json` shell's document (Lmod 8.7's shape):
 * {"env": {NAME: value}, "unset": [NAME], "alias": {name: text},
 *  "unalias": [name], "shellFunc": {name: {"sh": body, "csh": body|null}},
 *  "unshellFunc": [name]}; a name is in one list of a pair at most, where
 * the last change of it put it. */
cJSON *shelf_json_changes(const shelf_changes *changes);
/* A loaded module: {"name", "version", "fullname", "usrname", "loaded":
 * true, "active", "user_loaded", "dependency", "file", "modulepath",
 * "family", "needed_by", "properties"}. */
cJSON *shelf_json_loaded(const shelf_loaded *m);
/* A modulefile: {"name", "version", "fullname", "default", "loaded",
 * "hidden", "file", "modulepath", "description", "category", "keywords",
 * "properties"} (rec NULL: no spider fields). */
cJSON *shelf_json_modfile(const shelf_modfile *mf, const shelf_spider_rec *rec, int dflt,
                          int loaded);
/* {"error": {"code", "message", "module", "file", "line"}} (nulls for
 * what is not known; line null when 0). */
cJSON *shelf_json_error(const char *code, const char *message, const char *module,
                        const char *file, int line);

#endif
