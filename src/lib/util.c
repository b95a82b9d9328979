/*
 * util.c -- the small containers every libshelf file uses: errors,
 * growable buffers, string vectors and change lists; and small helpers
 * (paths, reading a file, environment vectors, hashes, random tokens).
 *
 * Invariants: a shelf_buf with data != NULL is NUL-terminated; a shelf_strv
 * with n > 0 has v[n] == NULL. Allocation failures never abort: they are
 * returned (or made sticky, for shelf_buf) to the caller.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "shelf-internal.h"

/* ---- errors ------------------------------------------------------------ */

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

void shelf_error_set(shelf_error *err, int code, const char *module,
                     const char *file, int line, const char *fmt, ...)
{
    if (!err || err->code != SHELF_OK)
        return;
    va_list ap;
    va_start(ap, fmt);
    err->message = shelf_vfmt(fmt, ap);
    va_end(ap);
    err->code = code;
    err->module = dup_or_null(module);
    err->file = dup_or_null(file);
    err->line = line;
}

void shelf_error_clear(shelf_error *err)
{
    if (!err)
        return;
    free(err->message);
    free(err->module);
    free(err->file);
    memset(err, 0, sizeof *err);
}

int shelf_oom(shelf_error *err)
{
    shelf_error_set(err, SHELF_ENOMEM, NULL, NULL, 0, "out of memory");
    return SHELF_ENOMEM;
}

const char *shelf_strerror(int code)
{
    switch (code) {
    case SHELF_OK: return "success";
#define ERR_MESSAGE(name, value, word, status, message) \
    case SHELF_##name: return message;
    SHELF_ERRNO_MAP(ERR_MESSAGE)
#undef ERR_MESSAGE
    default: return "unknown error";
    }
}

const char *shelf_err_name(int code)
{
    switch (code) {
#define ERR_WORD(name, value, word, status, message) \
    case SHELF_##name: return word;
    SHELF_ERRNO_MAP(ERR_WORD)
#undef ERR_WORD
    default: return "internal";
    }
}

int shelf_err_http_status(int code)
{
    switch (code) {
#define ERR_STATUS(name, value, word, status, message) \
    case SHELF_##name: return status;
    SHELF_ERRNO_MAP(ERR_STATUS)
#undef ERR_STATUS
    default: return 500;
    }
}

/* ---- growable arrays ------------------------------------------------------ */

int shelf_grow(void *items, size_t *cap, size_t need, size_t elem_size)
{
    if (need <= *cap)
        return SHELF_OK;
    size_t ncap = *cap ? *cap : 16;
    while (ncap < need)
        ncap = ncap > SIZE_MAX / 2 ? need : ncap * 2;
    if (elem_size && ncap > SIZE_MAX / elem_size)
        return SHELF_ENOMEM;
    /* items is the address of the caller's T *: read and written as bytes,
     * which every object pointer shares with void *. */
    void *old;
    memcpy(&old, items, sizeof old);
    void *p = realloc(old, ncap * elem_size);
    if (!p)
        return SHELF_ENOMEM;
    memcpy(items, &p, sizeof p);
    *cap = ncap;
    return SHELF_OK;
}

/* ---- shelf_buf ----------------------------------------------------------- */

void shelf_buf_init(shelf_buf *b)
{
    memset(b, 0, sizeof *b);
}

void shelf_buf_free(shelf_buf *b)
{
    free(b->data);
    shelf_buf_init(b);
}

void shelf_buf_reset(shelf_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

static int buf_grow(shelf_buf *b, size_t extra)
{
    if (b->oom)
        return -1;
    size_t need = b->len + extra + 1;
    if (b->cap == 0 && need < 64)
        need = 64; /* most strings built here fit: one allocation */
    if (extra >= SIZE_MAX - b->len - 1 || SHELF_GROW(b->data, b->cap, need) < 0) {
        b->oom = 1;
        return -1;
    }
    return 0;
}

/* Room for n more bytes and the NUL, growing when needed; 0 or -1 (oom). An
 * empty buffer (data NULL) has cap 0, so it grows too. */
static inline int buf_room(shelf_buf *b, size_t n)
{
    return b->oom || b->cap - b->len <= n ? buf_grow(b, n) : 0;
}

void shelf_buf_add(shelf_buf *b, const char *s, size_t n)
{
    if (buf_room(b, n) < 0)
        return;
    if (n)
        memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void shelf_buf_adds(shelf_buf *b, const char *s)
{
    shelf_buf_add(b, s, strlen(s));
}

void shelf_buf_addc(shelf_buf *b, char c)
{
    if (buf_room(b, 1) < 0)
        return;
    b->data[b->len++] = c;
    b->data[b->len] = '\0';
}

void shelf_buf_vaddf(shelf_buf *b, const char *fmt, va_list ap)
{
    if (buf_grow(b, 0) < 0)
        return;
    /* Formatted into the room there is; only what does not fit is
     * formatted again, after growing. */
    size_t room = b->cap - b->len;
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(b->data + b->len, room, fmt, ap2);
    va_end(ap2);
    if (n >= 0 && (size_t)n >= room) {
        if (buf_grow(b, (size_t)n) < 0)
            n = -1;
        else
            vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    }
    if (n < 0) {
        b->data[b->len] = '\0';
        b->oom = 1;
        return;
    }
    b->len += (size_t)n;
}

void shelf_buf_addf(shelf_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    shelf_buf_vaddf(b, fmt, ap);
    va_end(ap);
}

int shelf_buf_ok(const shelf_buf *b)
{
    return b->oom ? SHELF_ENOMEM : SHELF_OK;
}

char *shelf_vfmt(const char *fmt, va_list ap)
{
    shelf_buf b;
    shelf_buf_init(&b);
    shelf_buf_vaddf(&b, fmt, ap);
    return shelf_buf_take(&b);
}

char *shelf_buf_take(shelf_buf *b)
{
    if (b->oom) {
        shelf_buf_free(b);
        return NULL;
    }
    char *s = b->data ? b->data : strdup("");
    shelf_buf_init(b);
    return s;
}

/* ---- shelf_strv ---------------------------------------------------------- */

void shelf_strv_init(shelf_strv *sv)
{
    memset(sv, 0, sizeof *sv);
}

void shelf_strv_free(shelf_strv *sv)
{
    for (size_t i = 0; i < sv->n; i++)
        free(sv->v[i]);
    free(sv->v);
    shelf_strv_init(sv);
}

int shelf_strv_push_owned(shelf_strv *sv, char *s)
{
    if (!s)
        return SHELF_ENOMEM;
    if (SHELF_GROW(sv->v, sv->cap, sv->n + 2) < 0) {
        free(s);
        return SHELF_ENOMEM;
    }
    sv->v[sv->n++] = s;
    sv->v[sv->n] = NULL;
    return SHELF_OK;
}

int shelf_strv_push(shelf_strv *sv, const char *s)
{
    return shelf_strv_push_owned(sv, strdup(s));
}

long shelf_strv_find(const shelf_strv *sv, const char *s)
{
    for (size_t i = 0; i < sv->n; i++)
        if (strcmp(sv->v[i], s) == 0)
            return (long)i;
    return -1;
}

void shelf_strv_remove(shelf_strv *sv, size_t i)
{
    if (i >= sv->n)
        return;
    free(sv->v[i]);
    memmove(sv->v + i, sv->v + i + 1, (sv->n - i) * sizeof *sv->v);
    sv->n--;
}

/* The index of NAME's entry in env, or -1. */
static ssize_t environ_find(char *const *env, const char *name)
{
    size_t n = strlen(name);
    for (ssize_t i = 0; env && env[i]; i++)
        if (strncmp(env[i], name, n) == 0 && env[i][n] == '=')
            return i;
    return -1;
}

const char *shelf_environ_get(char *const *env, const char *name)
{
    ssize_t i = environ_find(env, name);
    return i < 0 ? NULL : env[i] + strlen(name) + 1;
}

int shelf_environ_put(shelf_strv *env, const char *name, const char *value)
{
    size_t nl = strlen(name), vl = strlen(value);
    char *kv = malloc(nl + vl + 2);
    if (!kv)
        return SHELF_ENOMEM;
    memcpy(kv, name, nl);
    kv[nl] = '=';
    memcpy(kv + nl + 1, value, vl + 1);
    ssize_t i = environ_find(env->v, name);
    if (i < 0)
        return shelf_strv_push_owned(env, kv);
    free(env->v[i]);
    env->v[i] = kv;
    return SHELF_OK;
}

void shelf_environ_unset(shelf_strv *env, const char *name)
{
    ssize_t i = environ_find(env->v, name);
    if (i >= 0)
        shelf_strv_remove(env, (size_t)i);
}

int shelf_strv_split(shelf_strv *sv, const char *s, const char *delim,
                     int keep_empty)
{
    size_t dl = strlen(delim);
    if (dl == 0)
        return shelf_strv_push(sv, s);
    const char *p = s;
    for (;;) {
        const char *q = strstr(p, delim);
        size_t n = q ? (size_t)(q - p) : strlen(p);
        if (n > 0 || keep_empty) {
            char *item = strndup(p, n);
            if (shelf_strv_push_owned(sv, item) < 0)
                return SHELF_ENOMEM;
        }
        if (!q)
            break;
        p = q + dl;
    }
    return SHELF_OK;
}

char *shelf_strv_join(const shelf_strv *sv, const char *delim)
{
    shelf_buf b;
    shelf_buf_init(&b);
    for (size_t i = 0; i < sv->n; i++) {
        if (i)
            shelf_buf_adds(&b, delim);
        shelf_buf_adds(&b, sv->v[i]);
    }
    return shelf_buf_take(&b);
}

/* ---- shelf_changes ------------------------------------------------------- */

void shelf_changes_init(shelf_changes *c)
{
    memset(c, 0, sizeof *c);
}

void shelf_changes_free(shelf_changes *c)
{
    for (size_t i = 0; i < c->n; i++) {
        free(c->items[i].name);
        free(c->items[i].value);
        free(c->items[i].value2);
    }
    free(c->items);
    shelf_changes_init(c);
}

int shelf_changes_add(shelf_changes *c, shelf_change_kind kind,
                      const char *name, const char *value, const char *value2)
{
    if (SHELF_GROW(c->items, c->cap, c->n + 1) < 0)
        return SHELF_ENOMEM;
    shelf_change ch = {kind, strdup(name), dup_or_null(value), dup_or_null(value2)};
    if (!ch.name || (value && !ch.value) || (value2 && !ch.value2)) {
        free(ch.name);
        free(ch.value);
        free(ch.value2);
        return SHELF_ENOMEM;
    }
    c->items[c->n++] = ch;
    return SHELF_OK;
}

/* ---- small string helpers ------------------------------------------------ */

int shelf_str_starts(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

int shelf_str_ends(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

char *shelf_path_join(const char *a, const char *b)
{
    shelf_buf buf;
    shelf_buf_init(&buf);
    shelf_buf_adds(&buf, a);
    if (buf.len && buf.data[buf.len - 1] != '/' && b[0] != '/')
        shelf_buf_addc(&buf, '/');
    shelf_buf_adds(&buf, b);
    return shelf_buf_take(&buf);
}

char *shelf_path_absolute(const char *path)
{
    if (path[0] == '/')
        return strdup(path);
    char *cwd = getcwd(NULL, 0);
    if (!cwd)
        return NULL;
    char *joined = shelf_path_join(cwd, path);
    free(cwd);
    return joined;
}

int shelf_read_file(const char *path, shelf_buf *out, shelf_error *err)
{
    /* open/read rather than stdio: no fstat, one call less per modulefile. */
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        shelf_error_set(err, SHELF_EIO, NULL, path, 0, "cannot open %s: %s",
                        path, strerror(errno));
        return SHELF_EIO;
    }
    char chunk[8192];
    ssize_t n;
    while ((n = read(fd, chunk, sizeof chunk)) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            break;
        shelf_buf_add(out, chunk, (size_t)n);
    }
    int saved = errno;
    close(fd);
    if (n < 0) {
        shelf_error_set(err, SHELF_EIO, NULL, path, 0, "cannot read %s: %s",
                        path, strerror(saved));
        return SHELF_EIO;
    }
    if (shelf_buf_ok(out) < 0) {
        shelf_error_set(err, SHELF_ENOMEM, NULL, path, 0,
                        "out of memory reading %s", path);
        return SHELF_ENOMEM;
    }
    return SHELF_OK;
}

uint64_t shelf_fnv1a(uint64_t h, const void *data, size_t n)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 1099511628211ULL;
    return h;
}

uint32_t shelf_fnv1a32(const char *s)
{
    uint32_t h = 2166136261U;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619U;
    return h;
}

char *shelf_random_hex(size_t nbytes)
{
    char *hex = malloc(2 * nbytes + 1);
    if (!hex)
        return NULL;
    unsigned char raw[64];
    for (size_t done = 0; done < nbytes;) {
        size_t want = nbytes - done < sizeof raw ? nbytes - done : sizeof raw;
        ssize_t n = getrandom(raw, want, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (n == 0)
                errno = EIO;
            explicit_bzero(raw, sizeof raw);
            free(hex);
            return NULL;
        }
        for (size_t i = 0; i < (size_t)n; i++)
            snprintf(hex + 2 * (done + i), 3, "%02x", raw[i]);
        done += (size_t)n;
    }
    explicit_bzero(raw, sizeof raw);
    hex[2 * nbytes] = '\0';
    return hex;
}

char *shelf_dir_norm(const char *path)
{
    char *s = strdup(path), *w = s;
    if (!s)
        return NULL;
    for (const char *p = path; *p; p++)
        if (!(*p == '/' && p[1] == '/'))
            *w++ = *p;
    *w = '\0';
    while (w - s > 1 && w[-1] == '/')
        *--w = '\0';
    return s;
}
