/*
 * spider.c -- the spider record: what evaluating one modulefile in spider
 * mode tells (whatis lines and the fields parsed from them, help,
 * properties, family, dependencies, the directories it adds to
 * MODULEPATH). The engine's read modes fill it (shelf_engine_spider), the
 * index stores it and the catalog holds it, so that avail, spider, keyword
 * and shelfd answer the same way from an index or a walk of the tree.
 *
 * Invariants: every string field is NULL or a string the record owns;
 * props, deps and opens hold no duplicates (opens holds normalized
 * directories); whatis keeps every line as it came.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "shelf-internal.h"
#include "shelf.h"

void shelf_spider_rec_init(shelf_spider_rec *r)
{
    memset(r, 0, sizeof *r);
    shelf_strv_init(&r->whatis);
    shelf_strv_init(&r->props);
    shelf_strv_init(&r->opens);
    shelf_strv_init(&r->deps);
}

void shelf_spider_rec_free(shelf_spider_rec *r)
{
    free(r->description);
    free(r->category);
    free(r->keywords);
    free(r->url);
    free(r->help);
    free(r->family);
    shelf_strv_free(&r->whatis);
    shelf_strv_free(&r->props);
    shelf_strv_free(&r->opens);
    shelf_strv_free(&r->deps);
    shelf_spider_rec_init(r);
}

static int set_field(char **field, const char *value)
{
    char *v = strdup(value);
    if (!v)
        return SHELF_ENOMEM;
    free(*field);
    *field = v;
    return SHELF_OK;
}

/* Lmod's whatis keys: "Description: text" and friends. */
static int whatis_field(shelf_spider_rec *r, const char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t klen = strcspn(s, ": \t");
    const char *p = s + klen;
    while (*p == ' ' || *p == '\t')
        p++;
    if (klen == 0 || *p != ':')
        return SHELF_OK;
    p++;
    while (*p == ' ' || *p == '\t')
        p++;
    if (klen == 11 && strncmp(s, "Description", 11) == 0)
        return set_field(&r->description, p);
    if (klen == 8 && strncmp(s, "Category", 8) == 0)
        return set_field(&r->category, p);
    if ((klen == 8 && strncmp(s, "Keywords", 8) == 0) ||
        (klen == 7 && strncmp(s, "Keyword", 7) == 0))
        return set_field(&r->keywords, p);
    if (klen == 3 && strncmp(s, "URL", 3) == 0)
        return set_field(&r->url, p);
    return SHELF_OK;
}

int shelf_spider_collect(shelf_spider_rec *r, const shelf_mf_call *c)
{
    int rc = SHELF_OK;
    switch (c->fn) {
    case SHELF_FN_WHATIS:
        for (size_t i = 0; rc == 0 && i < c->args.n; i++) {
            rc = shelf_strv_push(&r->whatis, c->args.v[i]);
            if (rc == 0)
                rc = whatis_field(r, c->args.v[i]);
        }
        return rc;
    case SHELF_FN_HELP: {
        shelf_buf b;
        shelf_buf_init(&b);
        if (r->help)
            shelf_buf_adds(&b, r->help);
        for (size_t i = 0; i < c->args.n; i++)
            shelf_buf_adds(&b, c->args.v[i]);
        char *h = shelf_buf_take(&b);
        if (!h)
            return SHELF_ENOMEM;
        free(r->help);
        r->help = h;
        return SHELF_OK;
    }
    case SHELF_FN_ADD_PROPERTY:
    case SHELF_FN_REMOVE_PROPERTY: {
        if (c->args.n < 2)
            return SHELF_OK;
        shelf_buf b;
        shelf_buf_init(&b);
        shelf_buf_addf(&b, "%s=%s", c->args.v[0], c->args.v[1]);
        char *kv = shelf_buf_take(&b);
        if (!kv)
            return SHELF_ENOMEM;
        long at = shelf_strv_find(&r->props, kv);
        if (c->fn == SHELF_FN_ADD_PROPERTY && at < 0)
            rc = shelf_strv_push(&r->props, kv);
        else if (c->fn == SHELF_FN_REMOVE_PROPERTY && at >= 0)
            shelf_strv_remove(&r->props, (size_t)at);
        free(kv);
        return rc;
    }
    case SHELF_FN_FAMILY:
        return c->args.n ? set_field(&r->family, c->args.v[0]) : SHELF_OK;
    case SHELF_FN_LOAD:
    case SHELF_FN_TRY_LOAD:
    case SHELF_FN_ALWAYS_LOAD:
    case SHELF_FN_DEPENDS_ON:
    case SHELF_FN_PREREQ:
    case SHELF_FN_PREREQ_ANY:
        for (size_t i = 0; rc == 0 && i < c->args.n; i++)
            if (shelf_strv_find(&r->deps, c->args.v[i]) < 0)
                rc = shelf_strv_push(&r->deps, c->args.v[i]);
        return rc;
    case SHELF_FN_PREPEND_PATH:
    case SHELF_FN_APPEND_PATH:
        if (c->args.n >= 2 && strcmp(c->args.v[0], "MODULEPATH") == 0) {
            shelf_strv items;
            shelf_strv_init(&items);
            rc = shelf_strv_split(&items, c->args.v[1], c->delim ? c->delim : ":", 0);
            for (size_t i = 0; rc == 0 && i < items.n; i++) {
                char *d = shelf_dir_norm(items.v[i]);
                if (!d)
                    rc = SHELF_ENOMEM;
                else if (shelf_strv_find(&r->opens, d) < 0)
                    rc = shelf_strv_push_owned(&r->opens, d);
                else
                    free(d);
            }
            shelf_strv_free(&items);
        }
        return rc;
    default:
        return SHELF_OK;
    }
}

