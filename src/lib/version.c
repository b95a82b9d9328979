/*
 * version.c -- Lmod's version ordering.
 *
 * Lmod never compares version strings directly: parseVersion.lua turns each
 * one into a canonical key and the keys are compared as byte strings. This
 * file builds the same key, so that every ordering (sorting, defaults,
 * partial versions) agrees with Lmod byte for byte:
 *
 *   - the string is lower-cased and cut into parts: runs of digits (padded
 *     to nine digits, leading zeros dropped, so they compare as numbers),
 *     runs of letters ("*" + the word), "/" and any other single character
 *     ("*" + the character); "." only separates;
 *   - words are normalised: pre, preview, rc -> "c"; dev -> "@"; p, "-p"
 *     and "-" -> "zfinal-" (a patch level); the end of the string is
 *     "*zfinal" (the release itself);
 *   - before a word, trailing "000000000" parts and "*zfinal-" parts are
 *     dropped, so 1.2.0 == 1.2 and 1.2-beta == 1.2beta;
 *   - the parts are joined with "." and "./." becomes "/".
 *
 * Since "*" < digits < letters in ASCII, a word after a release ("1.2a",
 * "1.2-rc1") sorts before the release ("1.2" = "...2.*zfinal") and a patch
 * ("1.2-1" = "...2.*zfinal-.000000001...") after it; "@" (dev) sorts
 * before every letter.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "shelf-internal.h"
#include "tree-internal.h"

#define ZEROS "000000000"

/* The stack of parts, kept as the joined string itself: part i starts at
 * start[i] in b, preceded by a "." when i > 0. */
typedef struct parts {
    shelf_buf b;
    size_t *start;
    size_t n;
} parts;

static int part_is(const parts *p, size_t i, const char *s)
{
    size_t end = (i + 1 < p->n) ? p->start[i + 1] - 1 : p->b.len;
    size_t len = end - p->start[i];
    return len == strlen(s) && memcmp(p->b.data + p->start[i], s, len) == 0;
}

static void part_pop(parts *p)
{
    p->n--;
    size_t cut = p->start[p->n];
    if (p->n > 0)
        cut--; /* the "." before it */
    p->b.len = cut;
    p->b.data[cut] = '\0';
}

static int top_is(const parts *p, const char *s)
{
    return p->n > 0 && part_is(p, p->n - 1, s);
}

/* Pushes the part made of `prefix` (may be NULL) followed by s[0..len). */
static void part_push(parts *p, const char *prefix, const char *s, size_t len)
{
    if (prefix && prefix[0] == '*') {
        int final = len == 6 && memcmp(s, "zfinal", 6) == 0;
        if (!final)
            while (top_is(p, "*zfinal-"))
                part_pop(p);
        while (top_is(p, ZEROS))
            part_pop(p);
        if (final)
            while (top_is(p, "*zfinal-"))
                part_pop(p);
    }
    if (p->n > 0)
        shelf_buf_addc(&p->b, '.');
    p->start[p->n++] = p->b.len;
    if (prefix)
        shelf_buf_adds(&p->b, prefix);
    shelf_buf_add(&p->b, s, len);
}

/* Lmod's replaceT, for words made of letters. */
static const char *replace_word(const char *w, size_t n)
{
    static const struct {
        const char *from, *to;
    } table[] = {{"pre", "c"}, {"preview", "c"}, {"p", "zfinal-"},
                 {"rc", "c"},  {"dev", "@"}};
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (strlen(table[i].from) == n && memcmp(table[i].from, w, n) == 0)
            return table[i].to;
    return NULL;
}

static int is_digit(char c) { return c >= '0' && c <= '9'; }
static int is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
static char to_lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

char *shelf_version_key(const char *version)
{
    size_t n = strlen(version);
    char *s = malloc(n + 1);
    /* at most one part per character, plus the leading zeros and *zfinal */
    size_t *start = malloc((n + 2) * sizeof *start);
    if (!s || !start) {
        free(s);
        free(start);
        return NULL;
    }
    for (size_t i = 0; i <= n; i++)
        s[i] = to_lower(version[i]);

    parts p = {.start = start, .n = 0};
    shelf_buf_init(&p.b);
    shelf_buf_adds(&p.b, ""); /* so that b.data is never NULL */
    size_t pos = 0;
    for (;;) {
        if (p.b.oom)
            break;
        if (pos < n && s[pos] == '.') {
            if (pos == 0) {
                pos++;
                part_push(&p, NULL, ZEROS, 9);
                continue;
            }
            pos++;
        }
        if (pos > n)
            break;
        if (pos == n) {
            pos++;
            part_push(&p, "*", "zfinal", 6);
            continue;
        }
        if (is_digit(s[pos])) {
            size_t j = pos;
            while (j < n && is_digit(s[j]))
                j++;
            size_t k = pos;
            while (k + 1 < j && s[k] == '0')
                k++;
            size_t len = j - k;
            if (len < 9) {
                char padded[10];
                memset(padded, '0', 9 - len);
                memcpy(padded + 9 - len, s + k, len);
                part_push(&p, NULL, padded, 9);
            } else {
                part_push(&p, NULL, s + k, len);
            }
            pos = j;
        } else if (s[pos] == '/') {
            pos++;
            part_push(&p, NULL, "/", 1);
        } else if (is_alpha(s[pos])) {
            size_t j = pos;
            while (j < n && is_alpha(s[j]))
                j++;
            const char *r = replace_word(s + pos, j - pos);
            if (r)
                part_push(&p, "*", r, strlen(r));
            else
                part_push(&p, "*", s + pos, j - pos);
            pos = j;
        } else if (s[pos] == '-' && pos + 1 < n && s[pos + 1] == 'p') {
            pos += 2;
            part_push(&p, "*", "zfinal-", 7);
        } else if (s[pos] == '-') {
            pos++;
            part_push(&p, "*", "zfinal-", 7);
        } else {
            part_push(&p, "*", s + pos, 1);
            pos++;
        }
    }
    free(s);
    free(start);
    if (p.b.oom) {
        shelf_buf_free(&p.b);
        return NULL;
    }
    /* gsub("%./%.", "/"), left to right without overlap */
    char *k = p.b.data;
    size_t r = 0, w = 0;
    while (k[r]) {
        if (k[r] == '.' && k[r + 1] == '/' && k[r + 2] == '.') {
            k[w++] = '/';
            r += 3;
        } else {
            k[w++] = k[r++];
        }
    }
    k[w] = '\0';
    return k;
}

int shelf_version_cmp(const char *a, const char *b)
{
    char *ka = shelf_version_key(a);
    char *kb = shelf_version_key(b);
    int c;
    if (ka && kb)
        c = strcmp(ka, kb);
    else
        c = strcasecmp(a, b); /* out of memory: still a total order */
    free(ka);
    free(kb);
    return c < 0 ? -1 : c > 0;
}

int shelf_sn_cmp(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    int c = strncmp(a, b, la < lb ? la : lb);
    if (c == 0 && la != lb) /* the shorter one goes on with its '/' */
        c = (la < lb ? '/' : (unsigned char)a[lb]) - (la < lb ? (unsigned char)b[la] : '/');
    return c;
}
