/*
 * emit_json.c -- the changes as one JSON document, for programs (the
 * daemon, the Jupyter extension, scripts) rather than shells. Modelled on
 * Lmod 8.7's `json` shell.
 *
 * Shape (every key always present, one line, then a newline):
 *   {
 *     "env":         {"NAME": "value", ...},   variables to set
 *     "unset":       ["NAME", ...],            variables to remove
 *     "alias":       {"name": "command line", ...},
 *     "unalias":     ["name", ...],
 *     "shellFunc":   {"name": {"sh": "body", "csh": "body" or null}, ...},
 *     "unshellFunc": ["name", ...]
 *   }
 * A name appears at most once per pair (env/unset, alias/unalias,
 * shellFunc/unshellFunc): when the change list touches it twice, the last
 * change wins, and the entry sits where that last change put it.
 *
 * Strings: JSON text is Unicode, environment values are bytes. Valid UTF-8
 * is written as is (with JSON's escapes for quotes, backslashes and
 * control bytes). A byte that is not part of valid UTF-8 is written as
 * \udcXX (XX = the byte), Python's surrogateescape convention: Python's
 * json.loads() accepts it and os.fsencode() turns it back into the byte.
 */
#include "config.h"

#include <string.h>

#include <cjson/cJSON.h>

#include "emit-internal.h"

/* Length of the valid UTF-8 sequence at p (1..4), or 0 if the bytes there
 * do not start one (stray continuation, overlong form, surrogate, beyond
 * U+10FFFF, truncated). */
static size_t utf8_seq(const unsigned char *p)
{
    unsigned c = p[0];
    size_t n;
    unsigned lo = 0x80, hi = 0xbf;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        n = 2;
    else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        if (c == 0xe0) lo = 0xa0;
        if (c == 0xed) hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        if (c == 0xf0) lo = 0x90;
        if (c == 0xf4) hi = 0x8f;
    } else
        return 0;
    if (p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if (p[i] < 0x80 || p[i] > 0xbf)
            return 0;
    return n;
}

static int valid_utf8(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        size_t n = utf8_seq(p);
        if (!n)
            return 0;
        p += n;
    }
    return 1;
}

void shelf_emit_json_quote(shelf_buf *b, const char *s)
{
    shelf_buf_addc(b, '"');
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        size_t n = utf8_seq(p);
        if (n == 0) {
            shelf_buf_addf(b, "\\udc%02x", *p);
            p++;
        } else if (n > 1) {
            shelf_buf_add(b, (const char *)p, n);
            p += n;
        } else {
            switch (*p) {
            case '"': shelf_buf_adds(b, "\\\""); break;
            case '\\': shelf_buf_adds(b, "\\\\"); break;
            case '\n': shelf_buf_adds(b, "\\n"); break;
            case '\t': shelf_buf_adds(b, "\\t"); break;
            case '\r': shelf_buf_adds(b, "\\r"); break;
            default:
                if (*p < 0x20)
                    shelf_buf_addf(b, "\\u%04x", *p);
                else
                    shelf_buf_addc(b, (char)*p);
            }
            p++;
        }
    }
    shelf_buf_addc(b, '"');
}

/* A raw cJSON item holding the JSON string literal for s (with \udcXX for
 * the invalid bytes); NULL on OOM. */
static cJSON *raw_string(const char *s)
{
    shelf_buf b;
    shelf_buf_init(&b);
    shelf_emit_json_quote(&b, s);
    cJSON *item = shelf_buf_ok(&b) == SHELF_OK ? cJSON_CreateRaw(b.data) : NULL;
    shelf_buf_free(&b);
    return item;
}

/* A JSON string item for a byte string (NULL -> JSON null when
 * null_ok, else ""); NULL on OOM. */
static cJSON *string_item(const char *s, int null_ok)
{
    if (!s)
        return null_ok ? cJSON_CreateNull() : cJSON_CreateString("");
    return valid_utf8(s) ? cJSON_CreateString(s) : raw_string(s);
}

/* Removes `name` from the object and from the array of one pair. */
static void forget(cJSON *obj, cJSON *arr, const char *name)
{
    cJSON_DeleteItemFromObjectCaseSensitive(obj, name);
    int i = 0;
    for (cJSON *it = arr->child; it; it = it->next, i++) {
        if (cJSON_IsString(it) && strcmp(it->valuestring, name) == 0) {
            cJSON_DeleteItemFromArray(arr, i);
            return;
        }
    }
}

/* Adds item under name to obj; takes item (freed on failure). */
static int put(cJSON *obj, const char *name, cJSON *item)
{
    if (!item)
        return SHELF_ENOMEM;
    if (!cJSON_AddItemToObject(obj, name, item)) {
        cJSON_Delete(item);
        return SHELF_ENOMEM;
    }
    return SHELF_OK;
}

static int push_name(cJSON *arr, const char *name)
{
    cJSON *item = cJSON_CreateString(name);
    if (!item || !cJSON_AddItemToArray(arr, item)) {
        cJSON_Delete(item);
        return SHELF_ENOMEM;
    }
    return SHELF_OK;
}

static cJSON *func_item(const shelf_change *c)
{
    cJSON *f = cJSON_CreateObject();
    if (!f)
        return NULL;
    if (put(f, "sh", string_item(c->value, 0)) != SHELF_OK ||
        put(f, "csh", string_item(c->value2, 1)) != SHELF_OK) {
        cJSON_Delete(f);
        return NULL;
    }
    return f;
}

static const char *const keys[] = {"env",     "unset",     "alias",
                                   "unalias", "shellFunc", "unshellFunc"};

int shelf_emit_json(const shelf_changes *changes, shelf_buf *out)
{
    cJSON *root = cJSON_CreateObject();
    cJSON *part[6] = {0};
    int rc = root ? SHELF_OK : SHELF_ENOMEM;
    for (size_t k = 0; k < 6 && rc == SHELF_OK; k++) {
        part[k] = (k % 2 == 0) ? cJSON_CreateObject() : cJSON_CreateArray();
        rc = put(root, keys[k], part[k]);
    }
    for (size_t i = 0; i < changes->n && rc == SHELF_OK; i++) {
        const shelf_change *c = &changes->items[i];
        size_t pair = 0;
        switch (c->kind) {
        case SHELF_CHANGE_SETENV:
        case SHELF_CHANGE_UNSETENV: pair = 0; break;
        case SHELF_CHANGE_ALIAS:
        case SHELF_CHANGE_UNALIAS: pair = 2; break;
        case SHELF_CHANGE_FUNC:
        case SHELF_CHANGE_UNFUNC: pair = 4; break;
        }
        forget(part[pair], part[pair + 1], c->name);
        switch (c->kind) {
        case SHELF_CHANGE_SETENV:
        case SHELF_CHANGE_ALIAS:
            rc = put(part[pair], c->name, string_item(c->value, 0));
            break;
        case SHELF_CHANGE_FUNC:
            rc = put(part[pair], c->name, func_item(c));
            break;
        default:
            rc = push_name(part[pair + 1], c->name);
            break;
        }
    }
    if (rc == SHELF_OK) {
        char *text = cJSON_PrintUnformatted(root);
        if (text) {
            shelf_buf_adds(out, text);
            shelf_buf_addc(out, '\n');
            cJSON_free(text);
        } else {
            rc = SHELF_ENOMEM;
        }
    }
    cJSON_Delete(root);
    return rc;
}
