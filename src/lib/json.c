/*
 * json.c -- the one JSON vocabulary of Shelf: the printer and the reader
 * every JSON document goes through (the `shelf json` shell, --json, shelfd's
 * answers and events, the module table, collections, the launcher's
 * state), and the builders of the objects they share (a change set, a
 * loaded module, a modulefile, properties, an error).
 *
 * The value type is cJSON's; printing is ours, so that there is one way to
 * quote bytes. JSON text is Unicode and Shelf's strings are bytes: valid
 * UTF-8 is written as is (with JSON's escapes for quotes, backslashes and
 * control bytes), and every byte that is not part of valid UTF-8 as
 * \udcXX (XX = the byte), Python's surrogateescape convention: Python's
 * json.loads() and os.fsencode() give the byte back, and
 * shelf_json_parse() does too. Names (object keys) are quoted the same way.
 * The layout of shelf_json_text()'s two forms is cJSON's (compact, or with
 * tabs and newlines), which users' scripts have seen so far.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shelf.h"
#include "shelf-internal.h"

/* ---- quoting --------------------------------------------------------------- */

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
        if (c == 0xe0)
            lo = 0xa0;
        if (c == 0xed)
            hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        if (c == 0xf0)
            lo = 0x90;
        if (c == 0xf4)
            hi = 0x8f;
    } else
        return 0;
    if (p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if (p[i] < 0x80 || p[i] > 0xbf)
            return 0;
    return n;
}

/* 1 for the ASCII bytes written as they are (no escape needed). */
static int plain_ascii(unsigned char c)
{
    return c >= 0x20 && c < 0x80 && c != '"' && c != '\\';
}

void shelf_json_quote(shelf_buf *b, const char *s)
{
    shelf_buf_addc(b, '"');
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        /* A run of bytes that go out as they are, in one append. */
        const unsigned char *run = p;
        for (;;) {
            if (plain_ascii(*p)) {
                p++;
                continue;
            }
            size_t n = *p >= 0x80 ? utf8_seq(p) : 0;
            if (n == 0)
                break;
            p += n;
        }
        if (p > run)
            shelf_buf_add(b, (const char *)run, (size_t)(p - run));
        if (!*p)
            break;
        if (*p >= 0x80) { /* not part of valid UTF-8 */
            shelf_buf_addf(b, "\\udc%02x", *p);
            p++;
            continue;
        }
        switch (*p) {
        case '"': shelf_buf_adds(b, "\\\""); break;
        case '\\': shelf_buf_adds(b, "\\\\"); break;
        case '\b': shelf_buf_adds(b, "\\b"); break;
        case '\f': shelf_buf_adds(b, "\\f"); break;
        case '\n': shelf_buf_adds(b, "\\n"); break;
        case '\r': shelf_buf_adds(b, "\\r"); break;
        case '\t': shelf_buf_adds(b, "\\t"); break;
        default: shelf_buf_addf(b, "\\u%04x", *p); break;
        }
        p++;
    }
    shelf_buf_addc(b, '"');
}

/* ---- printing ---------------------------------------------------------------- */

static void tabs(shelf_buf *b, int n)
{
    for (int i = 0; i < n; i++)
        shelf_buf_addc(b, '\t');
}

static void print_number(shelf_buf *b, double d)
{
    if (isnan(d) || isinf(d)) {
        shelf_buf_adds(b, "null");
    } else if (d == floor(d) && fabs(d) < 9007199254740992.0) {
        shelf_buf_addf(b, "%lld", (long long)d);
    } else {
        char s[64];
        double back = 0;
        snprintf(s, sizeof s, "%1.15g", d);
        if (sscanf(s, "%lg", &back) != 1 || back != d)
            snprintf(s, sizeof s, "%1.17g", d);
        shelf_buf_adds(b, s);
    }
}

static void print_value(shelf_buf *b, const cJSON *v, int pretty, int depth)
{
    if (cJSON_IsNull(v) || cJSON_IsInvalid(v)) {
        shelf_buf_adds(b, "null");
    } else if (cJSON_IsFalse(v)) {
        shelf_buf_adds(b, "false");
    } else if (cJSON_IsTrue(v)) {
        shelf_buf_adds(b, "true");
    } else if (cJSON_IsNumber(v)) {
        print_number(b, v->valuedouble);
    } else if (cJSON_IsString(v)) {
        shelf_json_quote(b, v->valuestring ? v->valuestring : "");
    } else if (cJSON_IsRaw(v)) {
        shelf_buf_adds(b, v->valuestring ? v->valuestring : "null");
    } else if (cJSON_IsArray(v)) {
        shelf_buf_addc(b, '[');
        for (const cJSON *c = v->child; c; c = c->next) {
            print_value(b, c, pretty, depth);
            if (c->next)
                shelf_buf_adds(b, pretty ? ", " : ",");
        }
        shelf_buf_addc(b, ']');
    } else if (cJSON_IsObject(v)) {
        shelf_buf_addc(b, '{');
        if (pretty)
            shelf_buf_addc(b, '\n');
        for (const cJSON *c = v->child; c; c = c->next) {
            if (pretty)
                tabs(b, depth + 1);
            shelf_json_quote(b, c->string ? c->string : "");
            shelf_buf_adds(b, pretty ? ":\t" : ":");
            print_value(b, c, pretty, depth + 1);
            if (c->next)
                shelf_buf_addc(b, ',');
            if (pretty)
                shelf_buf_addc(b, '\n');
        }
        if (pretty)
            tabs(b, depth);
        shelf_buf_addc(b, '}');
    }
}

void shelf_json_print(const cJSON *item, int pretty, shelf_buf *out)
{
    print_value(out, item, pretty, 0);
}

char *shelf_json_text(const cJSON *item, int pretty)
{
    if (!item)
        return NULL;
    shelf_buf b;
    shelf_buf_init(&b);
    shelf_json_print(item, pretty, &b);
    return shelf_buf_take(&b);
}

/* ---- reading ---------------------------------------------------------------- */

/* 1 if p (4 characters) are hex digits; *v their value. */
static int hex4(const char *p, unsigned *v)
{
    *v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        int d = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : -1;
        if (d < 0)
            return 0;
        *v = *v * 16 + (unsigned)d;
    }
    return 1;
}

/* 1 if p (4 characters) are hex digits for a value 0xdc80..0xdcff. */
static int escaped_byte(const char *p, unsigned *byte)
{
    unsigned v;
    if (!hex4(p, &v) || v < 0xdc80 || v > 0xdcff)
        return 0;
    *byte = v & 0xff;
    return 1;
}

/* 1 if p (12 characters) is a surrogate pair, \uD8xx\uDCxx: a character
 * above U+FFFF as json.dumps writes it, for cJSON to read as it is. */
static int surrogate_pair(const char *p)
{
    unsigned hi, lo;
    return p[0] == '\\' && p[1] == 'u' && hex4(p + 2, &hi) && hi >= 0xd800 && hi <= 0xdbff &&
           p[6] == '\\' && p[7] == 'u' && hex4(p + 8, &lo) && lo >= 0xdc00 && lo <= 0xdfff;
}

/* cJSON's parse of buf[0, n) as one whole document (white space after it
 * allowed); nul: buf[n] is a NUL that cJSON is given too, as cJSON_Parse
 * does (it then places an error at the end there); *end: where cJSON
 * stopped. */
static cJSON *parse_whole(const char *buf, size_t n, int nul, const char **end)
{
    *end = NULL;
    cJSON *doc = cJSON_ParseWithLengthOpts(buf, n + (nul ? 1 : 0), end, 0);
    if (doc && *end)
        while ((size_t)(*end - buf) < n && strchr(" \t\r\n", **end))
            (*end)++;
    if (doc && *end && (size_t)(*end - buf) != n) {
        cJSON_Delete(doc);
        doc = NULL;
    }
    return doc;
}

static void place_error(const char *text, size_t off, int bad, shelf_json_where *where)
{
    where->offset = off;
    where->line = 1;
    for (size_t i = 0; i < off; i++)
        where->line += text[i] == '\n';
    where->code = bad ? SHELF_EUSAGE : SHELF_EPARSE;
}

cJSON *shelf_json_parse(const char *text, size_t len, shelf_json_where *where)
{
    if (where)
        *where = (shelf_json_where){0, 1, SHELF_OK};
    if (!memmem(text, len, "\\u", 2) && !memchr(text, '\0', len)) {
        /* Nothing to decode (no \u escape: most documents): cJSON reads
         * the text itself.
         * A document that fails is read again below, which places the
         * error as cJSON_Parse does. */
        const char *end;
        cJSON *doc = parse_whole(text, len, 0, &end);
        if (doc)
            return doc;
    }
    /* The copy cJSON reads: \udcXX escapes become their byte; at[i] is
     * the offset in text of the copy's byte i (to place an error). */
    char *copy = malloc(len + 1);
    size_t *at = malloc((len + 1) * sizeof *at);
    if (!copy || !at) {
        free(copy);
        free(at);
        if (where)
            where->code = SHELF_ENOMEM;
        return NULL;
    }
    size_t n = 0;
    int in_string = 0;
    const char *bad = NULL;
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (in_string && c == '\\' && i + 1 < len) {
            unsigned byte;
            if (i + 12 <= len && surrogate_pair(text + i)) {
                for (int k = 0; k < 12; k++) {
                    at[n] = i + (size_t)k;
                    copy[n++] = text[i + (size_t)k];
                }
                i += 11;
                continue;
            }
            if (text[i + 1] == 'u' && i + 6 <= len && escaped_byte(text + i + 2, &byte)) {
                at[n] = i;
                copy[n++] = (char)byte;
                i += 5;
                continue;
            }
            if (text[i + 1] == 'u' && i + 6 <= len && strncmp(text + i + 2, "0000", 4) == 0 &&
                !bad)
                bad = text + i; /* cJSON would cut the string there */
            at[n] = i;
            copy[n++] = c;
            at[n] = i + 1;
            copy[n++] = text[++i];
            continue;
        }
        if (c == '"')
            in_string = !in_string;
        if (c == '\0' && !bad)
            bad = text + i;
        at[n] = i;
        copy[n++] = c;
    }
    at[n] = len;
    copy[n] = '\0';
    cJSON *doc = NULL;
    const char *end = NULL;
    if (!bad)
        doc = parse_whole(copy, n, 1, &end);
    if (!doc && where)
        place_error(text,
                    bad ? (size_t)(bad - text)
                    : end && end >= copy && (size_t)(end - copy) <= n ? at[end - copy]
                                                                    : 0,
                    bad != NULL, where);
    free(copy);
    free(at);
    return doc;
}

/* ---- builders ------------------------------------------------------------------ */

int shelf_json_add(cJSON *obj, const char *key, cJSON *item)
{
    if (item && cJSON_AddItemToObject(obj, key, item))
        return 1;
    cJSON_Delete(item);
    return 0;
}

int shelf_json_add_str(cJSON *obj, const char *key, const char *s)
{
    return shelf_json_add(obj, key, s ? cJSON_CreateString(s) : cJSON_CreateNull());
}

static int shelf_json_add_bool(cJSON *obj, const char *key, int b)
{
    return shelf_json_add(obj, key, cJSON_CreateBool(b));
}

cJSON *shelf_json_strv(const shelf_strv *sv)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; a && sv && i < sv->n; i++) {
        cJSON *s = cJSON_CreateString(sv->v[i]);
        if (!s || !cJSON_AddItemToArray(a, s)) {
            cJSON_Delete(s);
            cJSON_Delete(a);
            return NULL;
        }
    }
    return a;
}

cJSON *shelf_json_props(const shelf_strv *props)
{
    cJSON *o = cJSON_CreateObject();
    for (size_t i = 0; o && props && i < props->n; i++) {
        const char *kv = props->v[i], *eq = strchr(kv, '=');
        if (!eq)
            continue;
        char *k = strndup(kv, (size_t)(eq - kv));
        cJSON *arr = k ? cJSON_GetObjectItemCaseSensitive(o, k) : NULL;
        if (k && !arr)
            arr = cJSON_AddArrayToObject(o, k);
        free(k);
        cJSON *v = arr ? cJSON_CreateString(eq + 1) : NULL;
        if (!v || !cJSON_AddItemToArray(arr, v)) {
            cJSON_Delete(v);
            cJSON_Delete(o);
            return NULL;
        }
    }
    return o;
}

cJSON *shelf_json_chain(const char *chain)
{
    cJSON *line = cJSON_CreateArray();
    for (const char *p = chain; line && *p;) {
        const char *q = strchr(p, SHELF_CHAIN_SEP);
        size_t len = q ? (size_t)(q - p) : strlen(p);
        char *name = strndup(p, len);
        cJSON *js = name ? cJSON_CreateString(name) : NULL;
        free(name);
        if (!js || !cJSON_AddItemToArray(line, js)) {
            cJSON_Delete(js);
            cJSON_Delete(line);
            return NULL;
        }
        p = q ? q + 1 : p + len;
    }
    return line;
}

/* Removes `name` from the object and from the array of one pair. */
static void forget(cJSON *obj, cJSON *arr, const char *name)
{
    cJSON_DeleteItemFromObjectCaseSensitive(obj, name);
    int i = 0;
    for (cJSON *it = arr->child; it; it = it->next, i++)
        if (cJSON_IsString(it) && strcmp(it->valuestring, name) == 0) {
            cJSON_DeleteItemFromArray(arr, i);
            return;
        }
}

static cJSON *func_item(const shelf_change *c)
{
    cJSON *f = cJSON_CreateObject();
    if (f && shelf_json_add_str(f, "sh", c->value ? c->value : "") &&
        shelf_json_add_str(f, "csh", c->value2))
        return f;
    cJSON_Delete(f);
    return NULL;
}

static const char *const change_keys[] = {"env",     "unset",     "alias",
                                          "unalias", "shellFunc", "unshellFunc"};

cJSON *shelf_json_changes(const shelf_changes *changes)
{
    cJSON *root = cJSON_CreateObject();
    cJSON *part[6] = {0};
    int ok = root != NULL;
    for (size_t k = 0; k < 6 && ok; k++) {
        part[k] = (k % 2 == 0) ? cJSON_CreateObject() : cJSON_CreateArray();
        ok = shelf_json_add(root, change_keys[k], part[k]);
    }
    for (size_t i = 0; ok && i < changes->n; i++) {
        const shelf_change *c = &changes->items[i];
        size_t pair = c->kind == SHELF_CHANGE_SETENV || c->kind == SHELF_CHANGE_UNSETENV ? 0
                      : c->kind == SHELF_CHANGE_ALIAS || c->kind == SHELF_CHANGE_UNALIAS ? 2
                                                                                          : 4;
        forget(part[pair], part[pair + 1], c->name);
        switch (c->kind) {
        case SHELF_CHANGE_SETENV:
        case SHELF_CHANGE_ALIAS:
            ok = shelf_json_add_str(part[pair], c->name, c->value ? c->value : "");
            break;
        case SHELF_CHANGE_FUNC:
            ok = shelf_json_add(part[pair], c->name, func_item(c));
            break;
        default: {
            cJSON *s = cJSON_CreateString(c->name);
            ok = s && cJSON_AddItemToArray(part[pair + 1], s);
            if (!ok)
                cJSON_Delete(s);
        }
        }
    }
    if (!ok) {
        cJSON_Delete(root);
        return NULL;
    }
    return root;
}

cJSON *shelf_json_loaded(const shelf_loaded *m)
{
    cJSON *o = cJSON_CreateObject();
    int ok = o && shelf_json_add_str(o, "name", m->sn) &&
             shelf_json_add_str(o, "version", m->version) &&
             shelf_json_add_str(o, "fullname", m->fullname) &&
             shelf_json_add_str(o, "usrname", m->usrname) &&
             shelf_json_add_bool(o, "loaded", 1) && shelf_json_add_bool(o, "active", m->active) &&
             shelf_json_add_bool(o, "user_loaded", m->user_loaded) &&
             shelf_json_add_bool(o, "dependency", !m->user_loaded) &&
             shelf_json_add_str(o, "file", m->file) &&
             shelf_json_add_str(o, "modulepath", m->mpath) &&
             shelf_json_add_str(o, "family", m->family) &&
             shelf_json_add(o, "needed_by", shelf_json_strv(&m->needed_by)) &&
             shelf_json_add(o, "properties", shelf_json_props(&m->props));
    if (ok)
        return o;
    cJSON_Delete(o);
    return NULL;
}

cJSON *shelf_json_modfile(const shelf_modfile *mf, const shelf_spider_rec *rec, int dflt,
                          int loaded)
{
    cJSON *o = cJSON_CreateObject();
    int ok = o && shelf_json_add_str(o, "name", mf->sn) &&
             shelf_json_add_str(o, "version", mf->version) &&
             shelf_json_add_str(o, "fullname", mf->fullname) &&
             shelf_json_add_bool(o, "default", dflt) && shelf_json_add_bool(o, "loaded", loaded) &&
             shelf_json_add_bool(o, "hidden", mf->hidden) &&
             shelf_json_add_str(o, "file", mf->path) &&
             shelf_json_add_str(o, "modulepath", mf->mpath) &&
             shelf_json_add_str(o, "description", rec ? rec->description : NULL) &&
             shelf_json_add_str(o, "category", rec ? rec->category : NULL) &&
             shelf_json_add_str(o, "keywords", rec ? rec->keywords : NULL) &&
             shelf_json_add(o, "properties", shelf_json_props(rec ? &rec->props : NULL));
    if (ok)
        return o;
    cJSON_Delete(o);
    return NULL;
}

cJSON *shelf_json_collection(const shelf_collection *c, const shelf_drift *d, size_t nd)
{
    cJSON *doc = shelf_collection_json(c);
    cJSON *drift = doc ? cJSON_AddArrayToObject(doc, "drift") : NULL;
    int ok = drift != NULL;
    for (size_t i = 0; ok && i < nd; i++) {
        cJSON *o = cJSON_CreateObject();
        ok = o && cJSON_AddItemToArray(drift, o);
        if (!ok) {
            cJSON_Delete(o);
            break;
        }
        ok = shelf_json_add_str(o, "kind", shelf_drift_word(d[i].kind)) &&
             shelf_json_add_str(o, "module", c->mods[d[i].mod].fullname) &&
             shelf_json_add_str(o, "file", c->mods[d[i].mod].file) &&
             shelf_json_add_str(o, "detail", d[i].detail);
    }
    if (ok)
        ok = shelf_json_add_bool(doc, "drifted", nd > 0);
    if (ok)
        return doc;
    cJSON_Delete(doc);
    return NULL;
}

cJSON *shelf_json_error(const char *code, const char *message, const char *module,
                        const char *file, int line)
{
    cJSON *doc = cJSON_CreateObject();
    cJSON *e = doc ? cJSON_AddObjectToObject(doc, "error") : NULL;
    int ok = e && shelf_json_add_str(e, "code", code) &&
             shelf_json_add_str(e, "message", message) &&
             shelf_json_add_str(e, "module", module) && shelf_json_add_str(e, "file", file) &&
             shelf_json_add(e, "line", line > 0 ? cJSON_CreateNumber(line) : cJSON_CreateNull());
    if (ok)
        return doc;
    cJSON_Delete(doc);
    return NULL;
}
