/*
 * collection.c -- collections on disk: the JSON format, the per-user
 * directory, atomic writes, listing, deleting, and the check of a saved
 * collection against the trees (see the collections in shelf.h).
 *
 * The file is small readable JSON:
 *   {"format": 1, "name": "train", "created": "...", "shelf_version": "...",
 *    "modulepath": ["/tree/Core"],
 *    "modules": [{"fullname": "torch/2.2.0", "sn": "torch", "version": "2.2.0",
 *                 "requested_as": "torch", "file": "/tree/Core/torch/2.2.0.lua",
 *                 "from": "/tree/Core", "sha256": "...", "user_loaded": false,
 *                 "needed_by": ["torchvision"]}, ...]}
 * Reading is strict about what restore relies on (full names, absolute
 * files, digests) and names the file, the line or the entry that is wrong.
 */
#include "config.h"

#include <cJSON.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shelf.h"
#include "shelf-internal.h"

void shelf_collection_init(shelf_collection *c)
{
    memset(c, 0, sizeof *c);
    shelf_strv_init(&c->modulepath);
}

void shelf_coll_mod_free(shelf_coll_mod *m)
{
    free(m->fullname);
    free(m->sn);
    free(m->version);
    free(m->usrname);
    free(m->file);
    free(m->mpath);
    free(m->sha256);
    shelf_strv_free(&m->needed_by);
    memset(m, 0, sizeof *m);
}

void shelf_collection_free(shelf_collection *c)
{
    for (size_t i = 0; i < c->n; i++)
        shelf_coll_mod_free(&c->mods[i]);
    free(c->mods);
    free(c->name);
    free(c->created);
    free(c->shelf_version);
    shelf_strv_free(&c->modulepath);
    shelf_collection_init(c);
}

int shelf_collection_add(shelf_collection *c, shelf_coll_mod *m)
{
    if (SHELF_GROW(c->mods, c->cap, c->n + 1) < 0) {
        shelf_coll_mod_free(m);
        return SHELF_ENOMEM;
    }
    c->mods[c->n++] = *m;
    memset(m, 0, sizeof *m);
    return SHELF_OK;
}

/* ---- where ------------------------------------------------------------------ */

int shelf_collection_dir(char *const *env, char **out, shelf_error *err)
{
    char *base = NULL;
    int rc = shelf_xdg_dir(env, SHELF_XDG_CONFIG, &base);
    if (rc == SHELF_ENOTFOUND) {
        shelf_error_set(err, SHELF_ENOTFOUND, NULL, NULL, 0,
                        "cannot tell where collections live: set HOME or XDG_CONFIG_HOME "
                        "to an absolute path");
        return SHELF_ENOTFOUND;
    }
    *out = base ? shelf_path_join(base, "shelf/collections") : NULL;
    free(base);
    return *out ? SHELF_OK : shelf_oom(err);
}

int shelf_collection_name_check(const char *name, shelf_error *err)
{
    const char *why = NULL;
    size_t len = strlen(name);
    if (len == 0)
        why = "it is empty";
    else if (len > 255)
        why = "it is longer than 255 bytes";
    else if (name[0] == '.' || name[0] == '-')
        why = "it starts with '.' or '-'";
    else
        for (const char *p = name; *p && !why; p++)
            if (!isalnum((unsigned char)*p) && !strchr("_-.+@,", *p))
                why = *p == '/' ? "it contains '/'"
                                : "it may hold only letters, digits and _ - . + @ ,";
    if (!why)
        return SHELF_OK;
    shelf_error_set(err, SHELF_EUSAGE, NULL, NULL, 0,
                    "\"%s\" is not a valid collection name: %s", name, why);
    return SHELF_EUSAGE;
}

static int no_such(shelf_error *err, const char *name)
{
    shelf_error_set(err, SHELF_ENOTFOUND, NULL, NULL, 0,
                    "no collection named \"%s\" (`module savelist` lists them)", name);
    return SHELF_ENOTFOUND;
}

static char *coll_path(const char *dir, const char *name)
{
    shelf_buf b;
    shelf_buf_init(&b);
    shelf_buf_addf(&b, "%s/%s.json", dir, name);
    return shelf_buf_take(&b);
}

/* ---- JSON -------------------------------------------------------------------- */

static int add_str(cJSON *o, const char *key, const char *v)
{
    if (!v)
        return 1;
    return cJSON_AddStringToObject(o, key, v) != NULL;
}

cJSON *shelf_collection_json(const shelf_collection *c)
{
    cJSON *root = cJSON_CreateObject();
    cJSON *mods = NULL;
    int ok = root && cJSON_AddNumberToObject(root, "format", SHELF_COLLECTION_FORMAT) &&
             add_str(root, "name", c->name) && add_str(root, "created", c->created) &&
             add_str(root, "shelf_version", c->shelf_version) &&
             shelf_json_add(root, "modulepath", shelf_json_strv(&c->modulepath)) &&
             (mods = cJSON_AddArrayToObject(root, "modules")) != NULL;
    for (size_t i = 0; ok && i < c->n; i++) {
        const shelf_coll_mod *m = &c->mods[i];
        cJSON *o = cJSON_CreateObject();
        ok = o && cJSON_AddItemToArray(mods, o);
        if (!ok) {
            cJSON_Delete(o);
            break;
        }
        ok = add_str(o, "fullname", m->fullname) && add_str(o, "sn", m->sn) &&
             add_str(o, "version", m->version) && add_str(o, "requested_as", m->usrname) &&
             add_str(o, "file", m->file) && add_str(o, "from", m->mpath) &&
             add_str(o, "sha256", m->sha256) &&
             cJSON_AddBoolToObject(o, "user_loaded", m->user_loaded) &&
             shelf_json_add(o, "needed_by", shelf_json_strv(&m->needed_by));
    }
    if (ok)
        return root;
    cJSON_Delete(root);
    return NULL;
}

char *shelf_collection_to_json(const shelf_collection *c)
{
    cJSON *root = shelf_collection_json(c);
    char *text = root ? shelf_json_text(root, 1) : NULL;
    cJSON_Delete(root);
    return text;
}

typedef struct reader {
    const char *path;
    shelf_error *err;
} reader;

static int bad(reader *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int bad(reader *r, const char *fmt, ...)
{
    shelf_buf m;
    shelf_buf_init(&m);
    va_list ap;
    va_start(ap, fmt);
    shelf_buf_vaddf(&m, fmt, ap);
    va_end(ap);
    shelf_error_set(r->err, SHELF_EPARSE, NULL, r->path, 0,
                    "collection file %s is damaged: %s (fix or delete it; `module "
                    "disable NAME` deletes it)",
                    r->path, m.data ? m.data : "?");
    shelf_buf_free(&m);
    return SHELF_EPARSE;
}

/* Copies the string member `key` of o into *out: required or optional. */
static int get_str(reader *r, const cJSON *o, const char *where, const char *key,
                   int required, char **out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!v || cJSON_IsNull(v)) {
        if (required)
            return bad(r, "%s has no \"%s\"", where, key);
        return SHELF_OK;
    }
    if (!cJSON_IsString(v) || !v->valuestring)
        return bad(r, "\"%s\" of %s is not a string", key, where);
    if (required && !v->valuestring[0])
        return bad(r, "\"%s\" of %s is empty", key, where);
    if (!(*out = strdup(v->valuestring)))
        return shelf_oom(r->err);
    return SHELF_OK;
}

static int get_strv(reader *r, const cJSON *o, const char *where, const char *key,
                    shelf_strv *out)
{
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!a || cJSON_IsNull(a))
        return SHELF_OK;
    if (!cJSON_IsArray(a))
        return bad(r, "\"%s\" of %s is not a list", key, where);
    const cJSON *s;
    cJSON_ArrayForEach(s, a)
    {
        if (!cJSON_IsString(s) || !s->valuestring)
            return bad(r, "\"%s\" of %s holds something that is not a string", key, where);
        if (shelf_strv_push(out, s->valuestring) < 0)
            return shelf_oom(r->err);
    }
    return SHELF_OK;
}

static int is_hex64(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++)
        if (!isxdigit((unsigned char)s[n]) || isupper((unsigned char)s[n]))
            return 0;
    return n == 64;
}

static int read_mod(reader *r, const cJSON *o, size_t i, shelf_coll_mod *m)
{
    char where[48];
    snprintf(where, sizeof where, "module %zu", i + 1);
    if (!cJSON_IsObject(o))
        return bad(r, "%s is not an object", where);
    int rc;
    if ((rc = get_str(r, o, where, "fullname", 1, &m->fullname)) < 0 ||
        (rc = get_str(r, o, where, "file", 1, &m->file)) < 0 ||
        (rc = get_str(r, o, where, "sha256", 1, &m->sha256)) < 0 ||
        (rc = get_str(r, o, where, "sn", 0, &m->sn)) < 0 ||
        (rc = get_str(r, o, where, "version", 0, &m->version)) < 0 ||
        (rc = get_str(r, o, where, "requested_as", 0, &m->usrname)) < 0 ||
        (rc = get_str(r, o, where, "from", 0, &m->mpath)) < 0 ||
        (rc = get_strv(r, o, where, "needed_by", &m->needed_by)) < 0)
        return rc;
    if (m->file[0] != '/')
        return bad(r, "the file of %s is not an absolute path: %s", m->fullname, m->file);
    if (!is_hex64(m->sha256))
        return bad(r, "the sha256 of %s is not 64 lowercase hex digits: %s", m->fullname,
                   m->sha256);
    if (!m->sn || !m->version) {
        /* Hand-written: NAME/VERSION split at the last '/'. */
        const char *slash = strrchr(m->fullname, '/');
        free(m->sn);
        free(m->version);
        m->sn = slash ? strndup(m->fullname, (size_t)(slash - m->fullname))
                      : strdup(m->fullname);
        m->version = strdup(slash ? slash + 1 : "");
        if (!m->sn || !m->version)
            return shelf_oom(r->err);
    }
    if (!m->usrname && !(m->usrname = strdup(m->fullname)))
        return shelf_oom(r->err);
    const cJSON *u = cJSON_GetObjectItemCaseSensitive(o, "user_loaded");
    if (u && !cJSON_IsBool(u))
        return bad(r, "\"user_loaded\" of %s is not true or false", m->fullname);
    m->user_loaded = !u || cJSON_IsTrue(u);
    return SHELF_OK;
}

static int from_json(reader *r, const char *text, shelf_collection *c)
{
    shelf_json_where at;
    cJSON *root = shelf_json_parse(text, strlen(text), &at);
    if (!root && at.code == SHELF_ENOMEM)
        return shelf_oom(r->err);
    if (!root) {
        int line = at.line;
        shelf_error_set(r->err, SHELF_EPARSE, NULL, r->path, line,
                        "collection file %s is not valid JSON (near line %d); fix or "
                        "delete it (`module disable NAME` deletes it)",
                        r->path, line);
        return SHELF_EPARSE;
    }
    int rc = SHELF_OK;
    const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(root, "format");
    const cJSON *mods = cJSON_GetObjectItemCaseSensitive(root, "modules");
    if (!cJSON_IsObject(root))
        rc = bad(r, "it is not a JSON object");
    else if (!cJSON_IsNumber(fmt))
        rc = bad(r, "it has no \"format\" number");
    else if (fmt->valuedouble > SHELF_COLLECTION_FORMAT) {
        shelf_error_set(r->err, SHELF_EPARSE, NULL, r->path, 0,
                        "collection file %s was written by a newer shelf (format %d; this "
                        "one reads format %d)",
                        r->path, fmt->valueint, SHELF_COLLECTION_FORMAT);
        rc = SHELF_EPARSE;
    } else if (fmt->valuedouble != SHELF_COLLECTION_FORMAT)
        rc = bad(r, "unknown \"format\" %g", fmt->valuedouble);
    else if (!cJSON_IsArray(mods))
        rc = bad(r, "it has no \"modules\" list");
    if (rc == 0)
        rc = get_str(r, root, "the collection", "created", 0, &c->created);
    if (rc == 0)
        rc = get_str(r, root, "the collection", "shelf_version", 0, &c->shelf_version);
    if (rc == 0)
        rc = get_strv(r, root, "the collection", "modulepath", &c->modulepath);
    size_t i = 0;
    const cJSON *o;
    if (rc == 0)
        cJSON_ArrayForEach(o, mods)
        {
            shelf_coll_mod m;
            memset(&m, 0, sizeof m);
            shelf_strv_init(&m.needed_by);
            rc = read_mod(r, o, i++, &m);
            if (rc < 0) {
                shelf_coll_mod_free(&m);
                break;
            }
            if ((rc = shelf_collection_add(c, &m)) < 0) {
                shelf_oom(r->err);
                break;
            }
        }
    cJSON_Delete(root);
    return rc;
}

int shelf_collection_read(const char *dir, const char *name, shelf_collection *c,
                          shelf_error *err)
{
    shelf_collection_init(c);
    int rc = shelf_collection_name_check(name, err);
    if (rc < 0)
        return rc;
    char *path = coll_path(dir, name);
    if (!path)
        return shelf_oom(err);
    shelf_buf text;
    shelf_buf_init(&text);
    if (access(path, F_OK) != 0 && errno == ENOENT)
        rc = no_such(err, name);
    else
        rc = shelf_read_file(path, &text, err);
    if (rc == 0 && (shelf_buf_ok(&text) < 0 || !text.data))
        rc = text.data ? shelf_oom(err) : SHELF_OK;
    if (rc == 0) {
        reader r = {path, err};
        rc = from_json(&r, text.data ? text.data : "", c);
    }
    if (rc == 0 && !(c->name = strdup(name)))
        rc = shelf_oom(err);
    if (rc < 0)
        shelf_collection_free(c);
    shelf_buf_free(&text);
    free(path);
    return rc;
}

int shelf_collection_read_named(char *const *env, const char *name, shelf_collection *c,
                                shelf_error *err)
{
    char *dir = NULL;
    int rc = shelf_collection_dir(env, &dir, err);
    if (rc == 0)
        rc = shelf_collection_read(dir, name, c, err);
    else
        shelf_collection_init(c);
    free(dir);
    return rc;
}

/* ---- writing ------------------------------------------------------------------ */

static int io_fail(shelf_error *err, const char *what, const char *path, int e)
{
    shelf_error_set(err, SHELF_EIO, NULL, path, 0, "cannot %s %s: %s", what, path,
                    strerror(e));
    return SHELF_EIO;
}

int shelf_collection_write(const char *dir, const shelf_collection *c, shelf_error *err)
{
    int rc = shelf_collection_name_check(c->name ? c->name : "", err);
    if (rc < 0)
        return rc;
    char *text = shelf_collection_to_json(c);
    char *path = coll_path(dir, c->name);
    if (!text || !path) {
        rc = shelf_oom(err);
        goto out;
    }
    if ((rc = shelf_mkdir_p(dir, 0700, 0, err)) < 0)
        goto out;
    size_t len = strlen(text);
    text[len] = '\n'; /* shelf_json_text's ends without one; the NUL's place holds it */
    shelf_error werr = {0};
    rc = shelf_write_atomic(path, text, len + 1, 0666, &werr);
    if (rc == SHELF_EIO)
        shelf_error_set(err, SHELF_EIO, NULL, path, 0,
                        "cannot save collection \"%s\" to %s: %s (nothing was changed)",
                        c->name, path, strerror(errno));
    else if (rc < 0)
        rc = shelf_oom(err);
    shelf_error_clear(&werr);
out:
    free(text);
    free(path);
    return rc;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int shelf_collection_names(const char *dir, shelf_strv *out, shelf_error *err)
{
    DIR *d = opendir(dir);
    if (!d) {
        if (errno == ENOENT)
            return SHELF_OK;
        return io_fail(err, "read the directory", dir, errno);
    }
    int rc = SHELF_OK;
    struct dirent *de;
    errno = 0;
    while ((de = readdir(d)) != NULL) {
        size_t len = strlen(de->d_name);
        if (len <= 5 || strcmp(de->d_name + len - 5, ".json") != 0)
            continue;
        char *name = strndup(de->d_name, len - 5);
        if (!name) {
            rc = shelf_oom(err);
            break;
        }
        shelf_error nerr = {0};
        if (shelf_collection_name_check(name, &nerr) == 0) {
            if (shelf_strv_push_owned(out, name) < 0) {
                rc = shelf_oom(err);
                break;
            }
        } else {
            free(name);
        }
        shelf_error_clear(&nerr);
        errno = 0;
    }
    if (rc == 0 && errno != 0)
        rc = io_fail(err, "read the directory", dir, errno);
    closedir(d);
    if (rc == 0 && out->n > 1)
        qsort(out->v, out->n, sizeof *out->v, cmp_str);
    return rc;
}

int shelf_collection_delete(const char *dir, const char *name, shelf_error *err)
{
    int rc = shelf_collection_name_check(name, err);
    if (rc < 0)
        return rc;
    char *path = coll_path(dir, name);
    if (!path)
        return shelf_oom(err);
    if (unlink(path) != 0) {
        rc = errno == ENOENT ? no_such(err, name) : io_fail(err, "delete", path, errno);
    }
    free(path);
    return rc;
}

int shelf_collection_delete_named(char *const *env, const char *name, shelf_error *err)
{
    char *dir = NULL;
    int rc = shelf_collection_dir(env, &dir, err);
    if (rc == 0)
        rc = shelf_collection_delete(dir, name, err);
    free(dir);
    return rc;
}

/* ---- checking ------------------------------------------------------------------ */

const char *shelf_drift_word(shelf_drift_kind k)
{
    switch (k) {
    case SHELF_DRIFT_VANISHED: return "vanished";
    case SHELF_DRIFT_CHANGED: return "changed";
    default: return "unreadable";
    }
}

void shelf_drifts_free(shelf_drift *d, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(d[i].detail);
    free(d);
}

int shelf_collection_check(const shelf_collection *c, shelf_drift **out, size_t *n,
                           shelf_error *err)
{
    *out = NULL;
    *n = 0;
    size_t cap = 0;
    for (size_t i = 0; i < c->n; i++) {
        const shelf_coll_mod *m = &c->mods[i];
        char hex[65];
        shelf_error herr = {0};
        int rc = shelf_sha256_file(m->file, hex, &herr);
        shelf_buf detail;
        shelf_buf_init(&detail);
        shelf_drift_kind kind = SHELF_DRIFT_CHANGED;
        if (rc == SHELF_ENOTFOUND) {
            kind = SHELF_DRIFT_VANISHED;
            shelf_buf_addf(&detail, "%s: its modulefile %s is gone", m->fullname, m->file);
        } else if (rc < 0) {
            kind = SHELF_DRIFT_UNREADABLE;
            shelf_buf_addf(&detail, "%s: %s", m->fullname,
                           herr.message ? herr.message : "cannot read its modulefile");
        } else if (strcmp(hex, m->sha256) != 0) {
            shelf_buf_addf(&detail, "%s: its modulefile %s changed since the save",
                           m->fullname, m->file);
        }
        shelf_error_clear(&herr);
        if (rc == 0 && strcmp(hex, m->sha256) == 0)
            continue;
        if (shelf_buf_ok(&detail) < 0) {
            shelf_buf_free(&detail);
            goto nomem;
        }
        if (SHELF_GROW(*out, cap, *n + 1) < 0) {
            shelf_buf_free(&detail);
            goto nomem;
        }
        shelf_drift *v = *out;
        v[*n].kind = kind;
        v[*n].mod = i;
        v[*n].detail = shelf_buf_take(&detail);
        (*n)++;
    }
    return SHELF_OK;
nomem:
    shelf_drifts_free(*out, *n);
    *out = NULL;
    *n = 0;
    return shelf_oom(err);
}
