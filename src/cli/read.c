/*
 * read.c -- the read-only subcommands of `shelf`: list, avail, spider,
 * keyword, whatis, help, show, is-loaded and is-avail.
 *
 * Nothing here changes the environment: these commands print for the
 * person on o->out (stderr) in Lmod's layouts (column tables, banners,
 * "Where:" legends, spider's levels), so that people and scripts used to
 * Lmod read them the same way. With --json, avail, list, spider and
 * keyword print one JSON document on o->json_out (stdout; see cli.h) instead.
 *
 * The catalog (shelf_catalog) is the plain data behind avail, spider and
 * keyword: the modulefiles under the MODULEPATH directories and, for
 * spider, under every directory that a module adds to MODULEPATH
 * (recursively), each with what evaluating it in spider mode told: whatis
 * lines, help, properties and the directories it opens. shelf_catalog_fill
 * (catalog.c) fills it, directory by directory, from a fresh index covering
 * that directory, reading only the modules and fields the command needs
 * (spider NAME: the names matching; keyword: the rows whose text may
 * match), else by walking the tree; the commands read the same structure
 * either way, so their output is the same byte for byte. When one fresh
 * index covers every MODULEPATH directory, avail, spider (no name) and
 * keyword skip the catalog: rows stream from the index in printing order
 * (avail directory by directory, spider and keyword in the order the index
 * records) straight into the output, which is written out as it grows;
 * only one avail block's names are held for its column layout. A stale or
 * unusable index gives one hint line on stderr; whatis, help, show and
 * is-avail keep reading the modulefiles through the resolver (a few files,
 * never a walk).
 */
#include "config.h"

#include <cJSON.h>
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "shelf.h"
#include "cli.h"

extern char **environ;

/* ---- small helpers ---------------------------------------------------------- */


/* 1 if `needle` occurs in `hay`, ignoring case (an empty needle matches). */
static int contains_ci(const char *hay, const char *needle)
{
    return hay && strcasestr(hay, needle) != NULL;
}

/* 1 if `s` contains any of words[0..n), ignoring case; 1 when n == 0. */
static int matches_any(const char *s, char *const *words, size_t n)
{
    if (n == 0)
        return 1;
    for (size_t i = 0; i < n; i++)
        if (contains_ci(s, words[i]))
            return 1;
    return 0;
}

static void add_spaces(shelf_buf *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        shelf_buf_addc(b, ' ');
}

/* Writes b to f; 0, or 1 when the buffer overflowed memory. */
static int flush_buf(FILE *f, shelf_buf *b)
{
    if (shelf_buf_ok(b) < 0) {
        fprintf(stderr, "shelf: error: out of memory\n");
        return 1;
    }
    if (b->len)
        fwrite(b->data, 1, b->len, f);
    return 0;
}

/* The width to lay out text in, as Lmod: $LMOD_TERM_WIDTH, $COLUMNS, the
 * terminal on stderr, else 80; never below 30. */
static size_t term_width(void)
{
    const char *vars[] = {"LMOD_TERM_WIDTH", "COLUMNS"};
    long w = 0;
    for (size_t i = 0; i < 2 && w <= 0; i++) {
        const char *s = getenv(vars[i]);
        if (s && *s)
            w = strtol(s, NULL, 10);
    }
    if (w <= 0) {
        struct winsize ws;
        if (isatty(STDERR_FILENO) && ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 &&
            ws.ws_col > 0)
            w = ws.ws_col;
        else
            w = 80;
    }
    if (w > 1000)
        w = 1000;
    return w < 30 ? 30 : (size_t)w;
}

/* "------ STR ------" across the width (Lmod's bannerStr), no newline. */
static void banner(shelf_buf *b, const char *str, size_t width)
{
    size_t len = strlen(str) + 2;
    size_t left = width > len ? (width - len) / 2 : 0;
    if (left < 4)
        left = 4;
    size_t right = width > left + len ? width - left - len : 0;
    if (right < 4)
        right = 4;
    for (size_t i = 0; i < left; i++)
        shelf_buf_addc(b, '-');
    shelf_buf_addf(b, " %s ", str);
    for (size_t i = 0; i < right; i++)
        shelf_buf_addc(b, '-');
}

/* A line of width-4 dashes and a newline (Lmod's border). */
static void border(shelf_buf *b, size_t width)
{
    for (size_t i = 0; i + 4 < width; i++)
        shelf_buf_addc(b, '-');
    shelf_buf_addc(b, '\n');
}

/* Word-wraps text after `indent` so that lines stay under width (Lmod's
 * fillWords); no trailing newline. */
static void fill_words(shelf_buf *b, const char *text, const char *indent, size_t width)
{
    size_t ilen = strlen(indent), len = ilen;
    int first = 1, need_space = 0;
    shelf_buf_adds(b, indent);
    const char *p = text;
    for (;;) {
        while (*p == ' ' || *p == '\n' || *p == '\t')
            p++;
        if (!*p)
            break;
        const char *w = p;
        while (*p && *p != ' ' && *p != '\n' && *p != '\t')
            p++;
        size_t wlen = (size_t)(p - w);
        if (wlen + len >= width) {
            if (first && b->len >= ilen)
                b->len -= ilen; /* Lmod trims the lone indent */
            shelf_buf_addc(b, '\n');
            shelf_buf_adds(b, indent);
            len = ilen;
            need_space = 0;
        }
        if (need_space)
            shelf_buf_addc(b, ' ');
        shelf_buf_add(b, w, wlen);
        len += wlen + 1;
        need_space = 1;
        first = 0;
    }
}

/* ---- column tables (Lmod's ColumnTable, two-dimensional form) ------------- */

static size_t ceil_div(size_t a, size_t b)
{
    return (a + b - 1) / b;
}

typedef struct ctable {
    const char *const *cells; /* n rows of dim cells */
    size_t n, dim;
    size_t *keep, nkeep; /* the sub-columns that are not empty everywhere */
} ctable;

static size_t ct_len(const ctable *t, size_t row, size_t j)
{
    const char *s = t->cells[row * t->dim + t->keep[j]];
    return s ? strlen(s) : 0;
}

/* Width of the column holding rows [is, ie), filling maxA[nkeep]. */
static size_t ct_colsum(const ctable *t, size_t is, size_t ie, size_t *maxA)
{
    for (size_t j = 0; j < t->nkeep; j++)
        maxA[j] = 0;
    for (size_t i = is; i < ie && i < t->n; i++)
        for (size_t j = 0; j < t->nkeep; j++) {
            size_t l = ct_len(t, i, j);
            if (l > maxA[j])
                maxA[j] = l;
        }
    size_t sum = 0;
    int found = 0;
    for (size_t j = t->nkeep; j-- > 0;) {
        if (found || maxA[j] > 0) {
            found = 1;
            sum += 1;
        }
        sum += maxA[j];
    }
    return sum;
}

/* Lays out n entries of dim cells in as many columns as fit in width,
 * filled column by column, as Lmod does; rows joined by "\n", no final
 * newline, trailing blanks removed. NULL cells count as empty. */
static void column_table(shelf_buf *out, const char *const *cells, size_t n,
                         size_t dim, size_t width)
{
    if (n == 0 || dim == 0)
        return;
    ctable t = {cells, n, dim, NULL, 0};
    t.keep = calloc(dim, sizeof *t.keep);
    size_t *maxA = NULL, *colw = NULL;
    if (!t.keep)
        goto fail;
    for (size_t j = 0; j < dim; j++) {
        int any = 0;
        for (size_t i = 0; i < n && !any; i++)
            any = cells[i * dim + j] && cells[i * dim + j][0];
        if (any)
            t.keep[t.nkeep++] = j;
    }
    if (t.nkeep == 0) {
        free(t.keep);
        return;
    }
    size_t nk = t.nkeep;
    size_t imin = nk - 1, imax = nk - 1;
    for (size_t j = 0; j < nk; j++) {
        size_t mn = (size_t)-1, mx = 0;
        for (size_t i = 0; i < n; i++) {
            size_t l = ct_len(&t, i, j);
            mn = l < mn ? l : mn;
            mx = l > mx ? l : mx;
        }
        imin += mn;
        imax += mx;
    }
    maxA = calloc(n * nk, sizeof *maxA);
    colw = calloc(n, sizeof *colw);
    if (!maxA || !colw)
        goto fail;
    size_t ncols = 1, nrows = n;
    if (imax < width) {
        double q = imin ? (double)width / (double)imin : (double)n;
        size_t mc = q < (double)n ? (size_t)floor(q) : n;
        if (mc < 1)
            mc = 1;
        mc = ceil_div(n, ceil_div(n, mc));
        size_t result = 0;
        for (size_t nc = mc; nc >= 1 && !result; nc--) {
            size_t nr = ceil_div(n, nc), sum = 0;
            for (size_t c = 0; c < nc; c++)
                sum += ct_colsum(&t, c * nr, c * nr + nr, maxA);
            if (sum < width)
                result = nc;
        }
        ncols = result ? result : 1;
        nrows = ceil_div(n, ncols);
        ncols = ceil_div(n, nrows);
    }
    for (size_t c = 0; c < ncols; c++)
        colw[c] = ct_colsum(&t, c * nrows, c * nrows + nrows, maxA + c * nk);
    for (size_t r = 0; r < nrows; r++) {
        size_t line_start = out->len;
        for (size_t c = 0; c < ncols; c++) {
            size_t loc = r + c * nrows;
            if (loc >= n)
                continue;
            const size_t *w = maxA + c * nk;
            size_t last = 0;
            for (size_t j = nk; j-- > 0;)
                if (w[j] > 0) {
                    last = j;
                    break;
                }
            size_t sum = 0;
            for (size_t j = 0; j < nk; j++) {
                const char *s = cells[loc * dim + t.keep[j]];
                size_t l = s ? strlen(s) : 0;
                if (s)
                    shelf_buf_adds(out, s);
                size_t pad = (w[j] > l ? w[j] - l : 0) + (j < last ? 1 : 0);
                add_spaces(out, pad);
                sum += l + pad;
            }
            if (colw[c] > sum)
                add_spaces(out, colw[c] - sum);
        }
        while (out->len > line_start && out->data &&
               (out->data[out->len - 1] == ' ' || out->data[out->len - 1] == '\t'))
            out->data[--out->len] = '\0';
        if (r + 1 < nrows)
            shelf_buf_addc(out, '\n');
    }
    free(t.keep);
    free(maxA);
    free(colw);
    return;
fail:
    free(t.keep);
    free(maxA);
    free(colw);
    out->oom = 1;
}

/* ---- properties, markers and the "Where:" legend --------------------------- */

/* Lmod's standard property table (lmodrc.lua): how each property value is
 * marked in avail and list. Keys in Lmod's display order. */
static const struct prop_display {
    const char *key, *value, *mark, *doc;
} PROPS[] = {
    {"arch", "gpu", "g", "built for GPU"},
    {"arch", "mic", "m", "built for host and native MIC"},
    {"arch", "offload", "o", "built for offload to the MIC only"},
    {"arch", "mic:offload", "*", "built for host, native MIC and offload to the MIC"},
    {"arch", "gpu:mic", "gm", "built natively for MIC and GPU"},
    {"arch", "gpu:mic:offload", "@", "built natively for MIC and GPU and offload to the MIC"},
    {"lmod", "sticky", "S", "Module is Sticky, requires --force to unload or purge"},
    {"state", "experimental", "E", "Experimental"},
    {"state", "testing", "T", "Testing"},
    {"state", "obsolete", "O", "Obsolete"},
    {"status", "active", "L", "Module is loaded"},
};
static const char *const PROP_KEYS[] = {"arch", "lmod", "state", "status"};

typedef struct legend {
    shelf_strv keys, docs;
} legend;

static void legend_init(legend *l)
{
    shelf_strv_init(&l->keys);
    shelf_strv_init(&l->docs);
}

static void legend_free(legend *l)
{
    shelf_strv_free(&l->keys);
    shelf_strv_free(&l->docs);
}

static int legend_add(legend *l, const char *key, const char *doc)
{
    if (shelf_strv_find(&l->keys, key) >= 0)
        return SHELF_OK;
    if (shelf_strv_push(&l->keys, key) < 0)
        return SHELF_ENOMEM;
    if (shelf_strv_push(&l->docs, doc) < 0) {
        shelf_strv_remove(&l->keys, l->keys.n - 1);
        return SHELF_ENOMEM;
    }
    return SHELF_OK;
}

/* "\n  Where:\n   D:  Default Module\n..." in key order; nothing when empty. */
static void legend_print(const legend *l, shelf_buf *b)
{
    if (l->keys.n == 0)
        return;
    size_t n = l->keys.n, *order = malloc(n * sizeof *order), w = 0;
    if (!order) {
        b->oom = 1;
        return;
    }
    for (size_t i = 0; i < n; i++) {
        order[i] = i;
        size_t kl = strlen(l->keys.v[i]);
        w = kl > w ? kl : w;
    }
    for (size_t i = 1; i < n; i++) /* insertion sort: a handful of keys */
        for (size_t j = i; j > 0 && strcmp(l->keys.v[order[j - 1]], l->keys.v[order[j]]) > 0; j--) {
            size_t t = order[j];
            order[j] = order[j - 1];
            order[j - 1] = t;
        }
    shelf_buf_adds(b, "\n  Where:\n");
    for (size_t i = 0; i < n; i++) {
        const char *k = l->keys.v[order[i]];
        shelf_buf_addf(b, "   %s:", k);
        add_spaces(b, w - strlen(k) + 2);
        shelf_buf_addf(b, "%s\n", l->docs.v[order[i]]);
    }
    free(order);
}

static int cmp_cstr(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Appends the markers of one module ("H", "g", "S", "L", comma separated)
 * for its properties ("name=value" strings), adding them to lg. */
static int prop_marks(const shelf_strv *props, int hidden, int loaded, shelf_buf *out,
                      legend *lg)
{
    int rc = SHELF_OK;
    if (hidden) {
        shelf_buf_adds(out, "H");
        rc = legend_add(lg, "H", "Hidden Module");
    }
    for (size_t k = 0; rc == 0 && k < sizeof PROP_KEYS / sizeof PROP_KEYS[0]; k++) {
        const char *key = PROP_KEYS[k];
        size_t klen = strlen(key);
        shelf_strv vals;
        shelf_strv_init(&vals);
        for (size_t i = 0; rc == 0 && props && i < props->n; i++)
            if (strncmp(props->v[i], key, klen) == 0 && props->v[i][klen] == '=')
                rc = shelf_strv_push(&vals, props->v[i] + klen + 1);
        if (rc == 0 && loaded && strcmp(key, "status") == 0)
            rc = shelf_strv_push(&vals, "active");
        char *joined = NULL;
        if (rc == 0 && vals.n) {
            qsort(vals.v, vals.n, sizeof *vals.v, cmp_cstr);
            joined = shelf_strv_join(&vals, ":");
            if (!joined)
                rc = SHELF_ENOMEM;
        }
        for (size_t p = 0; joined && p < sizeof PROPS / sizeof PROPS[0]; p++)
            if (strcmp(PROPS[p].key, key) == 0 && strcmp(PROPS[p].value, joined) == 0) {
                if (out->len)
                    shelf_buf_addc(out, ',');
                shelf_buf_adds(out, PROPS[p].mark);
                rc = legend_add(lg, PROPS[p].mark, PROPS[p].doc);
                break;
            }
        free(joined);
        shelf_strv_free(&vals);
    }
    return rc;
}

/* ---- the catalog (libshelf's) ------------------------------------------------- */

static void index_hint(void *ud, const char *dir, const char *problem)
{
    (void)ud;
    fprintf(stderr, "shelf: the index of %s is stale or unusable (%s; run `shelf index %s`); "
                    "reading the tree instead\n", dir, problem, dir);
}

/* Options for a catalog of e's MODULEPATH directories (the command does not
 * change MODULEPATH, so co may point into it). */
static int catalog_opts(shelf_engine *e, int follow, int evaluate, shelf_index_filter filter,
                        char *const *words, size_t nwords, unsigned what,
                        shelf_catalog_opts *co, shelf_error *err)
{
    const shelf_strv *mp = shelf_engine_modulepath(e);
    if (!mp)
        return shelf_oom(err);
    *co = (shelf_catalog_opts){.dirs = mp->v, .ndirs = mp->n, .follow = follow,
                               .evaluate = evaluate, .filter = filter, .words = words,
                               .nwords = nwords, .what = what, .env = environ,
                               .check = cli_index_check(),
                               .hint = index_hint};
    return SHELF_OK;
}

/* Opens the catalog of e's MODULEPATH and every level it leads to (spider
 * and keyword), and, when `stream`, sees whether one fresh index covers it
 * all (*six, else NULL). 0 or an error (err set). */
static int open_followed(shelf_engine *e, shelf_index_filter filter, char **args, int nargs,
                         unsigned what, int stream, shelf_catalog_opts *co, shelf_catalog *cat,
                         shelf_index **six, shelf_error *err)
{
    *six = NULL;
    int rc = catalog_opts(e, 1, 1, filter, args, (size_t)nargs, what, co, err);
    if (rc == 0)
        rc = shelf_catalog_open(co, cat, err);
    if (rc == 0 && stream)
        rc = shelf_catalog_stream(cat, 0, six, err); /* spider, keyword: no rc needed */
    return rc;
}

/* ---- JSON --------------------------------------------------------------- */

/* One catalog entry as a JSON object, with the module lists that unlock
 * its level (NULL on OOM). */
static cJSON *mod_json(shelf_catalog *cat, const shelf_cat_mod *m, int dflt, int loaded)
{
    cJSON *o = shelf_json_modfile(&m->mf, &m->info, dflt, loaded);
    cJSON *req = o ? cJSON_AddArrayToObject(o, "requires") : NULL;
    const shelf_strv *ch = &cat->levels[m->level].chains;
    for (size_t c = 0; req && c < ch->n; c++) {
        if (!ch->v[c][0])
            continue;
        cJSON *line = shelf_json_chain(ch->v[c]);
        if (!line || !cJSON_AddItemToArray(req, line)) {
            cJSON_Delete(line);
            req = NULL;
        }
    }
    if (!req) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

/* Prints doc on o->json_out and frees it; 0, or 1 on OOM. */
static int json_print(const cli_opts *o, cJSON *doc)
{
    char *s = shelf_json_text(doc, 1);
    cJSON_Delete(doc);
    if (!s) {
        fprintf(stderr, "shelf: error: out of memory\n");
        return 1;
    }
    fprintf(o->json_out, "%s\n", s);
    free(s);
    return 0;
}

/* ---- list ---------------------------------------------------------------- */

int cli_list(shelf_engine *e, const cli_opts *o, char **args, int nargs)
{
    const shelf_state *st = shelf_engine_state(e);
    size_t wanted = (size_t)nargs;
    if (o->json) {
        cJSON *arr = cJSON_CreateArray();
        for (size_t i = 0; arr && i < st->n; i++) {
            if (!matches_any(st->mods[i].fullname, args, wanted))
                continue;
            cJSON *obj = shelf_json_loaded(&st->mods[i]);
            if (!obj || !cJSON_AddItemToArray(arr, obj)) {
                cJSON_Delete(obj);
                cJSON_Delete(arr);
                arr = NULL;
            }
        }
        return json_print(o, arr);
    }
    shelf_buf b;
    shelf_buf_init(&b);
    if (st->n == 0 || o->terse) {
        if (st->n == 0)
            shelf_buf_adds(&b, "No modules loaded\n");
        for (size_t i = 0; i < st->n; i++)
            if (st->mods[i].active && matches_any(st->mods[i].fullname, args, wanted))
                shelf_buf_addf(&b, "%s\n", st->mods[i].fullname);
        int status = flush_buf(o->out, &b);
        shelf_buf_free(&b);
        return status;
    }
    size_t width = term_width();
    shelf_buf suffix;
    shelf_buf_init(&suffix);
    if (wanted == 0)
        shelf_buf_adds(&suffix, ":");
    else {
        shelf_buf_adds(&suffix, " Matching: ");
        for (size_t i = 0; i < wanted; i++)
            shelf_buf_addf(&suffix, "%s%s", i ? " or " : "", args[i]);
    }
    const char *sfx = suffix.data ? suffix.data : "";
    legend lg;
    legend_init(&lg);
    /* 3 cells per row: "  1)", full name, "(markers)"; strings kept in strv. */
    shelf_strv cells;
    shelf_strv_init(&cells);
    int rc = SHELF_OK;
    size_t kk = 0;
    for (size_t i = 0; rc == 0 && i < st->n; i++) {
        const shelf_loaded *m = &st->mods[i];
        if (!m->active || !matches_any(m->fullname, args, wanted))
            continue;
        shelf_buf mk, num;
        shelf_buf_init(&mk);
        shelf_buf_init(&num);
        rc = prop_marks(&m->props, 0, 0, &mk, &lg);
        shelf_buf_addf(&num, "%3zu)", ++kk);
        char *ns = shelf_buf_take(&num), *ms = NULL;
        if (mk.len) {
            shelf_buf markers;
            shelf_buf_init(&markers);
            shelf_buf_addf(&markers, "(%s)", mk.data);
            ms = shelf_buf_take(&markers);
        } else {
            ms = strdup("");
        }
        shelf_buf_free(&mk);
        if (rc == 0 && (!ns || !ms))
            rc = SHELF_ENOMEM;
        if (rc == 0)
            rc = shelf_strv_push_owned(&cells, ns);
        else
            free(ns);
        if (rc == 0)
            rc = shelf_strv_push(&cells, m->fullname);
        if (rc == 0)
            rc = shelf_strv_push_owned(&cells, ms);
        else
            free(ms);
    }
    shelf_buf_addf(&b, "\nCurrently Loaded Modules%s\n", sfx);
    if (kk == 0) {
        shelf_buf_adds(&b, "  None found.");
    } else {
        column_table(&b, (const char *const *)cells.v, kk, 3, width);
        shelf_buf_addc(&b, '\n');
    }
    legend_print(&lg, &b);
    shelf_strv_free(&cells);
    shelf_strv_init(&cells);
    size_t ki = 0;
    for (size_t i = 0; rc == 0 && i < st->n; i++) {
        const shelf_loaded *m = &st->mods[i];
        if (m->active || !matches_any(m->fullname, args, wanted))
            continue;
        shelf_buf num;
        shelf_buf_init(&num);
        shelf_buf_addf(&num, "  %zu)", ++ki);
        char *ns = shelf_buf_take(&num);
        rc = ns ? shelf_strv_push_owned(&cells, ns) : SHELF_ENOMEM;
        if (rc == 0)
            rc = shelf_strv_push(&cells, m->usrname ? m->usrname : m->fullname);
    }
    if (ki > 0) {
        shelf_buf_addf(&b, "\nInactive Modules%s\n", sfx);
        column_table(&b, (const char *const *)cells.v, ki, 2, width);
        shelf_buf_addc(&b, '\n');
    }
    if (!o->quiet)
        shelf_buf_adds(&b, "\n \n\n");
    shelf_strv_free(&cells);
    legend_free(&lg);
    shelf_buf_free(&suffix);
    if (rc < 0)
        b.oom = 1;
    int status = flush_buf(o->out, &b);
    shelf_buf_free(&b);
    return status;
}

/* ---- avail --------------------------------------------------------------- */

/* The full name an alias leads to now, or NULL when it leads nowhere. */
static char *alias_fullname(shelf_engine *e, const char *alias)
{
    shelf_modfile mf;
    shelf_error err = {0};
    char *name = NULL;
    if (shelf_engine_resolve(e, alias, &mf, &err) == 0) {
        name = mf.fullname;
        mf.fullname = NULL;
        shelf_modfile_free(&mf);
    }
    shelf_error_clear(&err);
    return name;
}

static const char AVAIL_TAIL[] =
    "If the avail list is too long consider trying:\n"
    "\n"
    "\"module --default avail\" or \"ml -d av\" to just list the default modules.\n"
    "\n"
    "Use \"module spider\" to find all possible modules.\n"
    "Use \"module keyword key1 key2 ...\" to search for all possible modules matching "
    "any of the \"keys\".\n";

/* Lmod's closing hint: each line word-wrapped, then a blank line. */
static void message_tail(shelf_buf *b, const char *text, size_t width)
{
    const char *p = text;
    for (;;) { /* every line, the empty one after the last newline too */
        size_t n = strcspn(p, "\n");
        char *line = strndup(p, n);
        if (!line) {
            b->oom = 1;
            return;
        }
        shelf_buf_addc(b, '\n');
        fill_words(b, line, "", width);
        free(line);
        if (!p[n])
            break;
        p += n + 1;
    }
    shelf_buf_adds(b, "\n\n");
}

/* ---- streaming from one index ---------------------------------------------- */

static const char *buf_str(const shelf_buf *b)
{
    return b->data ? b->data : "";
}

static void buf_set(shelf_buf *b, const char *s)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
    shelf_buf_adds(b, s);
}

/* Writes b to f once it holds more than a little, and empties it: output
 * streams out instead of growing with the tree. 0, or 1 on OOM. */
static int flush_some(FILE *f, shelf_buf *b, size_t above)
{
    if (b->len <= above && shelf_buf_ok(b) == 0)
        return 0;
    int st = flush_buf(f, b);
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
    return st;
}


/* One module as avail shows it, from the catalog or an index row. */
typedef struct avail_ent {
    const char *sn, *version, *fullname, *file, *mpath;
    const char *description, *category, *keywords;
    const shelf_strv *props;
    int hidden, dflt;
    size_t count; /* listed versions of sn (for the "D" mark) */
} avail_ent;

/* What avail carries from one module to the next. */
typedef struct avail_ctx {
    shelf_engine *e;
    const cli_opts *o;
    const shelf_strv *search;
    shelf_buf *b;
    legend *lg;
    shelf_strv cells;  /* of the current block */
    size_t rows;       /* in the current block */
    int header;        /* terse: the block's "dir:" line printed */
    shelf_buf last;    /* terse: the "name/" of the last line */
    int have_last;
    const char *dirpath;
    int json_first;
} avail_ctx;

/* The loaded record whose modulefile is (sn, file), or NULL. */
static const shelf_loaded *loaded_file(const shelf_engine *e, const char *sn, const char *file)
{
    const shelf_state *st = shelf_engine_state(e);
    for (size_t i = 0; i < st->n; i++) {
        const shelf_loaded *l = &st->mods[i];
        if (l->active && strcmp(l->sn, sn) == 0 && strcmp(l->file, file) == 0)
            return l;
    }
    return NULL;
}

/* Prints obj (then deleted) as the next element of a JSON array on stdout,
 * formatted as cJSON_Print formats a whole array. 0 or SHELF_ENOMEM. */
static int json_elem(FILE *f, cJSON *obj, int *first)
{
    cJSON *arr = obj ? cJSON_CreateArray() : NULL;
    if (!arr || !cJSON_AddItemToArray(arr, obj)) {
        cJSON_Delete(arr);
        cJSON_Delete(obj);
        return SHELF_ENOMEM;
    }
    char *s = shelf_json_text(arr, 1);
    cJSON_Delete(arr);
    if (!s)
        return SHELF_ENOMEM;
    size_t n = strlen(s); /* "[...]": the element between the brackets */
    fputs(*first ? "[" : ", ", f);
    if (n >= 2)
        fwrite(s + 1, 1, n - 2, f);
    *first = 0;
    free(s);
    return SHELF_OK;
}

static int avail_entry(avail_ctx *a, const avail_ent *m)
{
    const cli_opts *o = a->o;
    shelf_buf *b = a->b;
    if (m->hidden && !o->show_hidden)
        return SHELF_OK;
    if (o->defaults && !m->dflt)
        return SHELF_OK;
    if (a->search->n && !matches_any(m->fullname, a->search->v, a->search->n) &&
        !matches_any(m->sn, a->search->v, a->search->n))
        return SHELF_OK;
    const shelf_loaded *ld = loaded_file(a->e, m->sn, m->file);
    if (o->json) {
        /* Views of the entry's strings, owned by the caller. */
        shelf_modfile mf = {.fullname = (char *)m->fullname, .sn = (char *)m->sn,
                            .version = (char *)m->version, .path = (char *)m->file,
                            .mpath = (char *)m->mpath, .hidden = m->hidden != 0};
        shelf_spider_rec rec = {.description = (char *)m->description,
                                .category = (char *)m->category,
                                .keywords = (char *)m->keywords};
        if (m->props)
            rec.props = *m->props;
        return json_elem(o->json_out, shelf_json_modfile(&mf, &rec, m->dflt, ld != NULL),
                         &a->json_first);
    }
    if (o->terse) {
        if (!a->header)
            shelf_buf_addf(b, "%s:\n", a->dirpath);
        a->header = 1;
        /* The "name/" line before the versions of each name. */
        const char *slash = strrchr(m->fullname, '/');
        size_t plen = slash ? (size_t)(slash - m->fullname) : 0;
        if (!o->defaults && a->search->n == 0 && slash &&
            !(a->have_last && a->last.len == plen &&
              memcmp(a->last.data, m->fullname, plen) == 0)) {
            shelf_buf_add(b, m->fullname, plen + 1);
            shelf_buf_addc(b, '\n');
        }
        if (slash) {
            a->last.len = 0;
            shelf_buf_add(&a->last, m->fullname, plen);
            a->have_last = 1;
        }
        shelf_buf_adds(b, m->fullname);
        shelf_buf_addc(b, '\n');
        return shelf_buf_ok(&a->last) < 0 ? SHELF_ENOMEM : SHELF_OK;
    }
    shelf_buf mk;
    shelf_buf_init(&mk);
    int rc = prop_marks(m->props, m->hidden, ld != NULL, &mk, a->lg);
    if (rc == 0 && !o->defaults && m->dflt && m->count > 1) {
        if (mk.len)
            shelf_buf_addc(&mk, ',');
        shelf_buf_adds(&mk, "D");
        rc = legend_add(a->lg, "D", "Default Module");
    }
    shelf_buf cell;
    shelf_buf_init(&cell);
    if (mk.len)
        shelf_buf_addf(&cell, "(%s)", mk.data);
    else
        shelf_buf_adds(&cell, "");
    shelf_buf_free(&mk);
    char *cs = shelf_buf_take(&cell);
    if (rc == 0)
        rc = shelf_strv_push(&a->cells, "  ");
    if (rc == 0)
        rc = shelf_strv_push(&a->cells, m->fullname);
    if (rc == 0)
        rc = cs ? shelf_strv_push_owned(&a->cells, cs) : SHELF_ENOMEM;
    else
        free(cs);
    if (rc == 0)
        a->rows++;
    return rc;
}

/* Starts the block of one MODULEPATH directory. */
static void avail_block_start(avail_ctx *a, const char *path)
{
    shelf_strv_free(&a->cells);
    shelf_strv_init(&a->cells);
    a->rows = 0;
    a->header = 0;
    a->have_last = 0;
    a->dirpath = path;
}

/* Ends the block: its banner and column table, then lets the output out. */
static int avail_block_end(avail_ctx *a, size_t width, int *status)
{
    if (a->rows && !a->o->json && !a->o->terse) {
        shelf_buf_adds(a->b, "\n");
        banner(a->b, a->dirpath, width);
        shelf_buf_adds(a->b, "\n");
        column_table(a->b, (const char *const *)a->cells.v, a->rows, 3, width);
        shelf_buf_adds(a->b, "\n");
    }
    size_t rows = a->rows;
    shelf_strv_free(&a->cells);
    shelf_strv_init(&a->cells);
    *status |= flush_some(a->o->out, a->b, 65536);
    return (int)(rows > 0 ? rows : 0);
}

/* Reads the rows of one directory of a single index. */
typedef struct avail_stream {
    avail_ctx *a;
    shelf_catalog *cat;
    size_t d;
    int need_dflt;
    shelf_buf sn;   /* the short name the group fields are for */
    int have_sn;
    size_t count;   /* its listed versions on MODULEPATH */
    int use_level;  /* its default is the row marked level_default */
    char *dpath;    /* else what it resolves to (NULL: nothing) */
} avail_stream;

/* The default and the count of sn (shelf_catalog_stream_default). */
static int avail_group(avail_stream *s, const char *sn, shelf_error *err)
{
    buf_set(&s->sn, sn);
    s->have_sn = 1;
    free(s->dpath);
    s->dpath = NULL;
    if (shelf_buf_ok(&s->sn) < 0)
        return SHELF_ENOMEM;
    return shelf_catalog_stream_default(s->a->e, s->cat, s->d, sn, s->a->o->show_hidden,
                                        &s->count, &s->use_level, &s->dpath, err);
}

typedef struct avail_row_ctx {
    avail_stream *s;
    shelf_error *err;
} avail_row_ctx;

static int avail_row(void *ud, const shelf_index_row *r)
{
    avail_row_ctx *c = ud;
    avail_stream *s = c->s;
    const cli_opts *o = s->a->o;
    if (r->hidden && !o->show_hidden)
        return SHELF_OK;
    avail_ent m = {r->sn, r->version, r->fullname, r->file, s->cat->levels[s->d].path,
                   r->description, r->category, r->keywords, NULL, r->hidden, 0, 0};
    if (s->need_dflt) {
        if (!s->have_sn || strcmp(buf_str(&s->sn), r->sn) != 0) {
            int rc = avail_group(s, r->sn, c->err);
            if (rc < 0)
                return rc;
        }
        m.dflt = s->use_level ? r->level_default
                              : s->dpath && strcmp(s->dpath, r->file) == 0;
        m.count = s->count;
    }
    shelf_strv props;
    shelf_strv_init(&props);
    if (r->props) {
        char sep[2] = {SHELF_INDEX_SEP, '\0'};
        if (shelf_strv_split(&props, r->props, sep, 1) < 0)
            return SHELF_ENOMEM;
    }
    m.props = &props;
    int rc = avail_entry(s->a, &m);
    shelf_strv_free(&props);
    return rc;
}

int cli_avail(shelf_engine *e, const cli_opts *o, char **args, int nargs)
{
    shelf_catalog cat;
    shelf_catalog_init(&cat);
    shelf_error err = {0};
    shelf_defaults dv = {NULL, 0};
    shelf_strv search, cells;
    shelf_strv_init(&search);
    shelf_strv_init(&cells);
    shelf_buf b;
    shelf_buf_init(&b);
    legend lg;
    legend_init(&lg);
    avail_ctx a = {e, o, &search, &b, &lg, {0}, 0, 0, {0}, 0, NULL, 1};
    shelf_strv_init(&a.cells);
    shelf_buf_init(&a.last);
    avail_stream s;
    memset(&s, 0, sizeof s);
    shelf_buf_init(&s.sn);
    int status = 0;
    /* `avail -t` prints no default marks: no defaults to work out. */
    int need_dflt = o->json || !o->terse || o->defaults;
    int meta = !o->terse || o->json;
    shelf_catalog_opts co;
    int rc = catalog_opts(e, 0, meta, SHELF_IXF_ALL, NULL, 0, meta ? SHELF_IX_META : 0, &co,
                          &err);
    if (rc == 0)
        rc = shelf_catalog_open(&co, &cat, &err);
    /* From a single fresh index, the modules stream from it directory by
     * directory: nothing of the whole tree is held. */
    shelf_index *six = NULL;
    if (rc == 0)
        rc = shelf_catalog_stream(&cat, 1, &six, &err);
    if (rc == 0 && !six)
        rc = shelf_catalog_fill(e, &co, &cat, &err);
    if (rc == 0 && !six && need_dflt && shelf_catalog_defaults(e, &cat, NULL, o->show_hidden,
                                                               &dv) < 0)
        rc = shelf_oom(&err);
    /* A word that names an alias searches for what the alias leads to. */
    for (int i = 0; rc == 0 && i < nargs; i++) {
        long al = shelf_strv_find(&cat.alias_names, args[i]);
        rc = shelf_strv_push(&search, al >= 0 ? cat.alias_targets.v[al] : args[i]);
    }
    if (rc < 0)
        goto done;
    size_t width = term_width();
    /* Aliases: the "Global Aliases" block, or "name(@target)" lines. */
    size_t nalias = 0;
    for (size_t i = 0; !o->json && i < cat.alias_names.n; i++) {
        char *full = alias_fullname(e, cat.alias_names.v[i]);
        const char *shown = full ? full : cat.alias_targets.v[i];
        if (search.n && !matches_any(shown, search.v, search.n)) {
            free(full);
            continue;
        }
        nalias++;
        if (o->terse) {
            shelf_buf_addf(&b, "%s(@%s)\n", cat.alias_names.v[i], shown);
        } else {
            shelf_buf nb;
            shelf_buf_init(&nb);
            shelf_buf_addf(&nb, "   %s", cat.alias_names.v[i]);
            char *ns = shelf_buf_take(&nb);
            rc = ns ? shelf_strv_push_owned(&cells, ns) : SHELF_ENOMEM;
            if (rc == 0)
                rc = shelf_strv_push(&cells, "->");
            if (rc == 0)
                rc = shelf_strv_push(&cells, full ? full : "(N/A)");
            if (rc == 0 && !full)
                rc = legend_add(&lg, "N/A", "Alias cannot be loaded with current $MODULEPATH");
        }
        free(full);
        if (rc < 0)
            goto done;
    }
    if (!o->terse && !o->json && nalias) {
        /* Sorted by alias name, as Lmod lists them. */
        size_t n = cells.n / 3;
        for (size_t i = 1; i < n; i++)
            for (size_t j = i; j > 0 && strcmp(cells.v[3 * (j - 1)], cells.v[3 * j]) > 0; j--)
                for (size_t k = 0; k < 3; k++) {
                    char *t = cells.v[3 * j + k];
                    cells.v[3 * j + k] = cells.v[3 * (j - 1) + k];
                    cells.v[3 * (j - 1) + k] = t;
                }
        shelf_buf_adds(&b, "\n");
        banner(&b, "Global Aliases", width);
        shelf_buf_adds(&b, "\n");
        column_table(&b, (const char *const *)cells.v, n, 3, width);
        shelf_buf_adds(&b, "\n");
    }
    size_t found = 0;
    s.a = &a;
    s.cat = &cat;
    s.need_dflt = need_dflt;
    for (size_t d = 0; d < cat.nlevels; d++) {
        if (!cat.levels[d].on_modulepath)
            continue;
        avail_block_start(&a, cat.levels[d].path);
        if (six) {
            s.d = d;
            s.have_sn = 0;
            avail_row_ctx c = {&s, &err};
            rc = shelf_index_level_rows(six, cat.levels[d].ixlevel, co.what, avail_row, &c,
                                        &err);
        }
        for (size_t i = 0; !six && rc == 0 && i < cat.n; i++) {
            const shelf_cat_mod *m = &cat.mods[i];
            if (m->level != d)
                continue;
            const shelf_sn_default *sd = need_dflt ? shelf_defaults_find(&dv, m->mf.sn) : NULL;
            avail_ent ent = {m->mf.sn, m->mf.version, m->mf.fullname, m->mf.path,
                             m->mf.mpath, m->info.description, m->info.category,
                             m->info.keywords, &m->info.props, m->mf.hidden,
                             need_dflt && shelf_defaults_is(&dv, m), sd ? sd->count : 0};
            rc = avail_entry(&a, &ent);
        }
        if (rc < 0)
            goto done;
        found += (size_t)avail_block_end(&a, width, &status);
    }
    if (o->json) {
        fputs(a.json_first ? "[]\n" : "]\n", o->json_out);
        goto done;
    }
    if (!o->terse) {
        if (found == 0 && nalias == 0)
            shelf_buf_adds(&b, "No module(s) found!");
        legend_print(&lg, &b);
        if (!o->quiet)
            message_tail(&b, AVAIL_TAIL, width);
    }
    status |= flush_buf(o->out, &b);
done:
    if (rc < 0) {
        if (err.code == SHELF_OK)
            shelf_oom(&err);
        cli_print_error(o->out, &err);
        status = 1;
    }
    shelf_error_clear(&err);
    shelf_defaults_free(&dv);
    shelf_strv_free(&search);
    shelf_strv_free(&cells);
    shelf_strv_free(&a.cells);
    shelf_buf_free(&a.last);
    shelf_buf_free(&s.sn);
    free(s.dpath);
    legend_free(&lg);
    shelf_buf_free(&b);
    shelf_catalog_free(&cat);
    return status;
}

/* ---- spider and keyword ------------------------------------------------ */

static int visible(const cli_opts *o, const shelf_cat_mod *m)
{
    return o->show_hidden || !m->mf.hidden;
}

/* Indexes of cat's entries, in a new array (NULL on OOM or when n == 0). */
typedef struct idxv {
    size_t *v;
    size_t n;
} idxv;

static const char SPIDER_TAIL[] =
    "\nTo learn more about a package execute:\n"
    "\n"
    "   $ module spider Foo\n"
    "\n"
    "where \"Foo\" is the name of a module.\n"
    "\n"
    "To find detailed information about a particular package you\n"
    "must specify the version if there is more than one version:\n"
    "\n"
    "   $ module spider Foo/11.1\n"
    "\n";

/* Lmod's level-0 list: for each name, its versions and a description. */
static void level0_helper(const shelf_catalog *cat, idxv *ix, shelf_buf *b, size_t width)
{
    size_t tw = width - 4;
    shelf_catalog_sort(cat, ix->v, ix->n);
    for (size_t i = 0; i < ix->n;) {
        const char *sn = cat->mods[ix->v[i]].mf.sn;
        size_t j = i;
        while (j < ix->n && strcmp(cat->mods[ix->v[j]].mf.sn, sn) == 0)
            j++;
        /* The description of the first file by path, as Lmod picks it. */
        const shelf_cat_mod *first = NULL;
        for (size_t k = i; k < j; k++) {
            const shelf_cat_mod *m = &cat->mods[ix->v[k]];
            if (!first || strcmp(m->mf.path, first->mf.path) < 0)
                first = m;
        }
        size_t start = b->len;
        shelf_buf_addf(b, "  %s:", sn);
        size_t len = b->len - start;
        const char *prev = NULL;
        for (size_t k = i; k < j; k++) {
            const shelf_cat_mod *m = &cat->mods[ix->v[k]];
            if (prev && strcmp(prev, m->mf.fullname) == 0)
                continue;
            prev = m->mf.fullname;
            len += strlen(m->mf.fullname) + 2;
            if (len > tw) {
                shelf_buf_adds(b, " ...,");
                break;
            }
            shelf_buf_addf(b, " %s,", m->mf.fullname);
        }
        if (b->len && b->data[b->len - 1] == ',')
            b->data[b->len - 1] = '\n';
        if (first && first->info.description) {
            fill_words(b, first->info.description, "    ", tw);
            shelf_buf_addc(b, '\n');
        }
        shelf_buf_addc(b, '\n');
        i = j;
    }
    border(b, width);
    shelf_buf_adds(b, SPIDER_TAIL);
    border(b, width);
}

/* Lmod's `spider -t`: "name/" then each full name, sorted. */
static void level0_terse(const shelf_catalog *cat, idxv *ix, shelf_buf *b)
{
    shelf_catalog_sort(cat, ix->v, ix->n);
    const char *prev_sn = NULL, *prev_full = NULL;
    for (size_t i = 0; i < ix->n; i++) {
        const shelf_cat_mod *m = &cat->mods[ix->v[i]];
        if (!prev_sn || strcmp(prev_sn, m->mf.sn) != 0) {
            if (strcmp(m->mf.sn, m->mf.fullname) == 0)
                shelf_buf_addf(b, "%s\n", m->mf.sn);
            else
                shelf_buf_addf(b, "%s/\n", m->mf.sn);
            prev_full = NULL;
        }
        prev_sn = m->mf.sn;
        if (strcmp(m->mf.sn, m->mf.fullname) != 0 &&
            !(prev_full && strcmp(prev_full, m->mf.fullname) == 0))
            shelf_buf_addf(b, "%s\n", m->mf.fullname);
        prev_full = m->mf.fullname;
    }
}

static int idx_push(idxv *ix, size_t cap, size_t i)
{
    if (ix->n >= cap)
        return SHELF_ENOMEM;
    ix->v[ix->n++] = i;
    return SHELF_OK;
}

/* Lmod's level-2 report on one full name (entries sorted by path). */
static int spider_level2(shelf_catalog *cat, const char *sn, const char *fullname,
                         const idxv *entries, const shelf_strv *possible,
                         shelf_buf *b, size_t width)
{
    size_t tw = width - 4;
    const shelf_cat_mod *first = entries->n ? &cat->mods[entries->v[0]] : NULL;
    shelf_buf_addc(b, '\n');
    border(b, width);
    shelf_buf_addf(b, "  %s: %s\n", sn, fullname);
    border(b, width);
    if (first && first->info.description) {
        shelf_buf_adds(b, "    Description:\n");
        fill_words(b, first->info.description, "      ", tw);
        shelf_buf_adds(b, "\n\n");
    }
    if (first && first->info.props.n) {
        shelf_buf_adds(b, "    Properties:\n");
        for (size_t i = 0; i < first->info.props.n; i++)
            for (size_t p = 0; p < sizeof PROPS / sizeof PROPS[0]; p++) {
                size_t kl = strlen(PROPS[p].key);
                const char *kv = first->info.props.v[i];
                if (strncmp(kv, PROPS[p].key, kl) == 0 && kv[kl] == '=' &&
                    strcmp(kv + kl + 1, PROPS[p].value) == 0) {
                    fill_words(b, PROPS[p].doc, "      ", tw);
                    shelf_buf_addc(b, '\n');
                }
            }
    }
    if (possible->n) {
        shelf_buf_adds(b, "\n     Other possible modules matches:\n        ");
        for (size_t i = 0; i < possible->n; i++)
            shelf_buf_addf(b, "%s%s", i ? ", " : "", possible->v[i]);
        shelf_buf_addc(b, '\n');
    }
    int have_core = 0, have_hier = 0;
    shelf_strv lines;
    shelf_strv_init(&lines);
    int rc = SHELF_OK;
    for (size_t k = 0; rc == 0 && k < entries->n; k++) {
        const shelf_cat_mod *m = &cat->mods[entries->v[k]];
        rc = shelf_catalog_chains(cat, m->level);
        const shelf_strv *ch = &cat->levels[m->level].chains;
        for (size_t c = 0; rc == 0 && c < ch->n; c++) {
            if (!ch->v[c][0]) {
                have_core = 1;
                continue;
            }
            have_hier = 1;
            if (shelf_strv_find(&lines, ch->v[c]) < 0)
                rc = shelf_strv_push(&lines, ch->v[c]);
        }
    }
    if (entries->n) {
        if (have_core)
            shelf_buf_addf(b, "\n    This module can be loaded directly: module load %s\n",
                           fullname);
        if (have_core && have_hier)
            shelf_buf_adds(b, "\n    Additional variants of this module can also be loaded "
                              "after loading the following modules:\n");
        else if (have_hier)
            shelf_buf_addf(b, "\n    You will need to load all module(s) on any one of the "
                              "lines below before the \"%s\" module is available to load.\n",
                           fullname);
        if (lines.n) {
            qsort(lines.v, lines.n, sizeof *lines.v, cmp_cstr);
            shelf_buf_addc(b, '\n');
            for (size_t i = 0; i < lines.n; i++) {
                shelf_buf_adds(b, "      ");
                for (const char *p = lines.v[i]; *p; p++)
                    if (*p == SHELF_CHAIN_SEP)
                        shelf_buf_adds(b, "  ");
                    else
                        shelf_buf_addc(b, *p);
                shelf_buf_addc(b, '\n');
            }
            shelf_buf_adds(b, " ");
        }
    }
    shelf_strv_free(&lines);
    if (first && first->info.help) {
        shelf_buf_adds(b, "\n    Help:\n");
        const char *p = first->info.help;
        for (;;) {
            size_t n = strcspn(p, "\n");
            shelf_buf_adds(b, "      ");
            shelf_buf_add(b, p, n);
            shelf_buf_addc(b, '\n');
            if (!p[n])
                break;
            p += n + 1;
        }
    }
    shelf_buf_addc(b, '\n');
    return rc;
}

/* Lmod's level-1 report on one short name: the versions, or the level-2
 * report when `key` designates a single full name. */
static int spider_level1(shelf_catalog *cat, const cli_opts *o, const char *sn,
                         const char *key, const shelf_strv *possible, int last,
                         shelf_buf *b, size_t width)
{
    idxv exact = {calloc(cat->n + 1, sizeof(size_t)), 0};
    idxv partial = {calloc(cat->n + 1, sizeof(size_t)), 0};
    int rc = exact.v && partial.v ? SHELF_OK : SHELF_ENOMEM;
    for (size_t i = 0; rc == 0 && i < cat->n; i++) {
        const shelf_cat_mod *m = &cat->mods[i];
        if (strcmp(m->mf.sn, sn) != 0 || !visible(o, m))
            continue;
        if (strcmp(m->mf.fullname, key) == 0)
            rc = idx_push(&exact, cat->n, i);
        if (rc == 0 && contains_ci(m->mf.fullname, key))
            rc = idx_push(&partial, cat->n, i);
    }
    if (rc < 0)
        goto out;
    idxv *entries = exact.n ? &exact : &partial;
    shelf_catalog_sort_by_file(cat, entries->v, entries->n);
    size_t names = 0;
    for (size_t i = 0; i < entries->n; i++) {
        int seen = 0;
        for (size_t k = 0; k < i && !seen; k++)
            seen = strcmp(cat->mods[entries->v[k]].mf.fullname,
                          cat->mods[entries->v[i]].mf.fullname) == 0;
        names += !seen;
    }
    if (o->terse) {
        shelf_catalog_sort(cat, entries->v, entries->n);
        const char *prev = NULL;
        for (size_t i = 0; i < entries->n; i++) {
            const char *f = cat->mods[entries->v[i]].mf.fullname;
            if (!prev || strcmp(prev, f) != 0)
                shelf_buf_addf(b, "%s\n", f);
            prev = f;
        }
        goto out;
    }
    if (exact.n || names == 1) {
        const char *full = cat->mods[entries->v[0]].mf.fullname;
        rc = spider_level2(cat, sn, full, entries, possible, b, width);
        goto out;
    }
    /* Several versions: list them. */
    idxv all = partial;
    shelf_catalog_sort_by_file(cat, all.v, all.n);
    const char *description = NULL, *example = NULL;
    idxv versions = {calloc(all.n + 1, sizeof(size_t)), 0};
    if (!versions.v) {
        rc = SHELF_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < all.n; i++) {
        const shelf_cat_mod *m = &cat->mods[all.v[i]];
        int seen = 0;
        for (size_t k = 0; k < versions.n && !seen; k++)
            seen = shelf_version_cmp(cat->mods[versions.v[k]].mf.version, m->mf.version) == 0;
        if (!seen) {
            versions.v[versions.n++] = all.v[i];
            description = m->info.description;
        }
    }
    shelf_catalog_sort(cat, versions.v, versions.n);
    if (versions.n)
        example = cat->mods[versions.v[versions.n - 1]].mf.fullname;
    shelf_buf_addc(b, '\n');
    border(b, width);
    shelf_buf_addf(b, "  %s:\n", sn);
    border(b, width);
    if (description) {
        shelf_buf_adds(b, "    Description:\n");
        fill_words(b, description, "      ", width - 4);
        shelf_buf_adds(b, "\n\n");
    }
    shelf_buf_adds(b, "     Versions:\n");
    for (size_t i = 0; i < versions.n; i++)
        shelf_buf_addf(b, "        %s\n", cat->mods[versions.v[i]].mf.fullname);
    if (possible->n) {
        shelf_buf_adds(b, "     Other possible modules matches:\n        ");
        for (size_t i = 0; i < possible->n; i++)
            shelf_buf_addf(b, "%s%s", i ? "  " : "", possible->v[i]);
        shelf_buf_addc(b, '\n');
    }
    if (last && example) {
        shelf_buf_addc(b, '\n');
        border(b, width);
        shelf_buf_addf(b, "  For detailed information about a specific \"%s\" package "
                          "(including how to load the modules) use the module's full name.\n"
                          "  For example:\n\n     $ module spider %s\n",
                       sn, example);
        border(b, width);
    }
    free(versions.v);
out:
    free(exact.v);
    free(partial.v);
    return rc;
}

/* `spider PATTERN`: 0, 1 when nothing matches (err set), or SHELF_ENOMEM. */
static int spider_search(shelf_catalog *cat, const cli_opts *o, const char *pat, int last,
                         shelf_buf *b, size_t width, shelf_error *err)
{
    shelf_strv sns, possible;
    shelf_strv_init(&sns);
    shelf_strv_init(&possible);
    int rc = SHELF_OK, exact_sn = 0;
    for (size_t i = 0; i < cat->n && !exact_sn; i++)
        exact_sn = visible(o, &cat->mods[i]) && strcmp(cat->mods[i].mf.sn, pat) == 0;
    if (exact_sn) {
        rc = shelf_strv_push(&sns, pat);
        for (size_t i = 0; rc == 0 && i < cat->n; i++) {
            const char *sn = cat->mods[i].mf.sn;
            if (strcmp(sn, pat) != 0 && contains_ci(sn, pat) &&
                shelf_strv_find(&possible, sn) < 0)
                rc = shelf_strv_push(&possible, sn);
        }
    } else {
        /* Exact full names first, else names containing the pattern. */
        for (int pass = 0; pass < 2 && rc == 0 && sns.n == 0; pass++)
            for (size_t i = 0; rc == 0 && i < cat->n; i++) {
                const shelf_cat_mod *m = &cat->mods[i];
                if (!visible(o, m))
                    continue;
                int hit = pass == 0 ? strcmp(m->mf.fullname, pat) == 0
                                    : contains_ci(m->mf.sn, pat) ||
                                          contains_ci(m->mf.fullname, pat);
                if (hit && shelf_strv_find(&sns, m->mf.sn) < 0)
                    rc = shelf_strv_push(&sns, m->mf.sn);
            }
    }
    if (rc == 0 && sns.n == 0) {
        shelf_error_set(err, SHELF_ENOTFOUND, NULL, NULL, 0, "Unable to find: \"%s\"", pat);
        rc = 1;
    }
    if (rc == 0) {
        qsort(sns.v, sns.n, sizeof *sns.v, cmp_cstr);
        if (possible.n)
            qsort(possible.v, possible.n, sizeof *possible.v, cmp_cstr);
    }
    for (size_t i = 0; rc == 0 && i < sns.n; i++)
        rc = spider_level1(cat, o, sns.v[i], pat, &possible, last, b, width);
    shelf_strv_free(&sns);
    shelf_strv_free(&possible);
    return rc;
}

/* spider's level-0 list (or its terse form) printed row by row from rows
 * in spider's order: what level0_helper / level0_terse print for a sorted
 * catalog. */
typedef struct l0_stream {
    const cli_opts *o;
    char *const *words; /* keyword: the words a row must match */
    size_t nwords;
    shelf_buf *b;
    size_t tw;
    int in_group;
    shelf_buf sn, prev, minpath, desc;
    int has_prev, has_desc, full;
    size_t len;
    int status; /* 1 once output failed */
} l0_stream;

static void l0_init(l0_stream *s, const cli_opts *o, char *const *words, size_t nwords,
                    shelf_buf *b, size_t width)
{
    memset(s, 0, sizeof *s);
    s->o = o;
    s->words = words;
    s->nwords = nwords;
    s->b = b;
    s->tw = width - 4;
    shelf_buf_init(&s->sn);
    shelf_buf_init(&s->prev);
    shelf_buf_init(&s->minpath);
    shelf_buf_init(&s->desc);
}

static void l0_free(l0_stream *s)
{
    shelf_buf_free(&s->sn);
    shelf_buf_free(&s->prev);
    shelf_buf_free(&s->minpath);
    shelf_buf_free(&s->desc);
}

/* Ends the current name's paragraph, then lets the output out. */
static void l0_close(l0_stream *s)
{
    shelf_buf *b = s->b;
    if (s->in_group && !s->o->terse) {
        if (b->len && b->data[b->len - 1] == ',')
            b->data[b->len - 1] = '\n';
        if (s->has_desc) {
            fill_words(b, buf_str(&s->desc), "    ", s->tw);
            shelf_buf_addc(b, '\n');
        }
        shelf_buf_addc(b, '\n');
    }
    s->in_group = 0;
    s->status |= flush_some(s->o->out, b, 65536);
}

static int l0_row(void *ud, const shelf_index_row *r)
{
    l0_stream *s = ud;
    shelf_buf *b = s->b;
    if ((r->hidden && !s->o->show_hidden) ||
        (s->nwords && !shelf_index_row_keyword_match(r, s->words, s->nwords)))
        return SHELF_OK;
    if (!s->in_group || strcmp(buf_str(&s->sn), r->sn) != 0) {
        l0_close(s);
        s->in_group = 1;
        buf_set(&s->sn, r->sn);
        s->has_prev = 0;
        if (s->o->terse) {
            shelf_buf_adds(b, r->sn);
            shelf_buf_adds(b, strcmp(r->sn, r->fullname) == 0 ? "\n" : "/\n");
        } else {
            size_t start = b->len;
            shelf_buf_addf(b, "  %s:", r->sn);
            s->len = b->len - start;
            s->full = 0;
            buf_set(&s->minpath, r->file);
            s->has_desc = r->description != NULL;
            buf_set(&s->desc, r->description ? r->description : "");
        }
    } else if (!s->o->terse && strcmp(r->file, buf_str(&s->minpath)) < 0) {
        /* The description of the first file by path, as Lmod picks it. */
        buf_set(&s->minpath, r->file);
        s->has_desc = r->description != NULL;
        buf_set(&s->desc, r->description ? r->description : "");
    }
    int dup = s->has_prev && strcmp(buf_str(&s->prev), r->fullname) == 0;
    if (s->o->terse) {
        if (strcmp(r->sn, r->fullname) != 0 && !dup) {
            shelf_buf_adds(b, r->fullname);
            shelf_buf_addc(b, '\n');
        }
    } else if (!s->full && !dup) {
        s->len += strlen(r->fullname) + 2;
        if (s->len > s->tw) {
            shelf_buf_adds(b, " ...,");
            s->full = 1;
        } else {
            shelf_buf_addc(b, ' ');
            shelf_buf_adds(b, r->fullname);
            shelf_buf_addc(b, ',');
        }
    }
    if (s->o->terse || !s->full) {
        buf_set(&s->prev, r->fullname);
        s->has_prev = 1;
    }
    if (shelf_buf_ok(b) < 0 || shelf_buf_ok(&s->sn) < 0 || shelf_buf_ok(&s->prev) < 0 ||
        shelf_buf_ok(&s->minpath) < 0 || shelf_buf_ok(&s->desc) < 0)
        return SHELF_ENOMEM;
    return SHELF_OK;
}


/* level0_stream() declined (nothing was streamed): drop what was prepared
 * for it, so the catalog path prints from the start. */
static void stream_declined(shelf_catalog *cat, shelf_buf *b)
{
    shelf_buf_reset(b);
    shelf_catalog_unstream(cat);
}

/* spider (no name) or keyword, from a single fresh index: 1 when done
 * (*status set), 0 when the catalog must be read instead, <0 on error. */
static int level0_stream(shelf_catalog *cat, shelf_index *ix, const cli_opts *o,
                         char *const *words, size_t nwords, shelf_buf *b, size_t width,
                         shelf_error *err, int *status)
{
    long *levels = NULL;
    size_t nlevels = 0;
    int rc = shelf_catalog_reach(cat, ix, &levels, &nlevels, err);
    if (rc <= 0)
        return rc;
    l0_stream s;
    l0_init(&s, o, words, nwords, b, width);
    rc = shelf_index_sorted_rows(ix, levels, nlevels, nwords ? SHELF_IXF_KEYWORDS : SHELF_IXF_ALL,
                                 words, nwords,
                                 nwords ? SHELF_IX_META | SHELF_IX_WHATIS
                                        : o->terse ? 0 : SHELF_IX_DESC,
                                 l0_row, &s, err);
    if (rc == 0) {
        l0_close(&s);
        if (!o->terse) {
            border(b, width);
            shelf_buf_adds(b, SPIDER_TAIL);
            border(b, width);
        }
    }
    *status = s.status;
    l0_free(&s);
    free(levels);
    return rc < 0 ? rc : 1;
}

/* Prints matched entries of cat as a JSON array (with their requirements). */
static int catalog_json(shelf_engine *e, const cli_opts *o, shelf_catalog *cat, const idxv *ix)
{
    cJSON *arr = cJSON_CreateArray();
    shelf_defaults dv = {NULL, 0};
    if (!arr || shelf_catalog_defaults(e, cat, NULL, 0, &dv) < 0) {
        cJSON_Delete(arr);
        return json_print(o, NULL);
    }
    for (size_t i = 0; i < ix->n; i++) {
        shelf_cat_mod *m = &cat->mods[ix->v[i]];
        int dflt = cat->levels[m->level].on_modulepath && shelf_defaults_is(&dv, m);
        cJSON *obj = NULL;
        if (shelf_catalog_chains(cat, m->level) == 0)
            obj = mod_json(cat, m, dflt, loaded_file(e, m->mf.sn, m->mf.path) != NULL);
        if (!obj || !cJSON_AddItemToArray(arr, obj)) {
            cJSON_Delete(obj);
            cJSON_Delete(arr);
            arr = NULL;
            break;
        }
    }
    shelf_defaults_free(&dv);
    return json_print(o, arr);
}

int cli_spider(shelf_engine *e, const cli_opts *o, char **args, int nargs)
{
    shelf_catalog cat;
    shelf_catalog_init(&cat);
    shelf_error err = {0};
    shelf_buf b;
    shelf_buf_init(&b);
    int status = 0;
    idxv ix = {NULL, 0};
    /* spider NAME needs only the short names some full name matching NAME
     * has (all their versions, for the level-1 and level-2 reports). */
    shelf_catalog_opts co;
    shelf_index *six;
    int rc = open_followed(e, nargs ? SHELF_IXF_NAMES : SHELF_IXF_ALL, args, nargs,
                           SHELF_IX_META | (nargs ? SHELF_IX_HELP : 0), nargs == 0 && !o->json,
                           &co, &cat, &six, &err);
    if (six) {
        /* The list of everything, straight from the index in its order. */
        size_t width = term_width();
        if (!o->terse) {
            shelf_buf_addc(&b, '\n');
            border(&b, width);
            shelf_buf_adds(&b, "The following is a list of the modules currently available:\n");
            border(&b, width);
        }
        int done = level0_stream(&cat, six, o, NULL, 0, &b, width, &err, &status);
        rc = done < 0 ? done : 0;
        if (done == 0)
            stream_declined(&cat, &b);
        if (done > 0) {
            if (!o->terse && !o->quiet)
                shelf_buf_adds(&b, "\n \n\n");
            status |= flush_buf(o->out, &b);
            goto done;
        }
    }
    if (rc == 0)
        rc = shelf_catalog_fill(e, &co, &cat, &err);
    if (rc < 0)
        goto done;
    ix.v = calloc(cat.n + 1, sizeof *ix.v);
    if (!ix.v) {
        rc = shelf_oom(&err);
        goto done;
    }
    for (size_t i = 0; i < cat.n; i++)
        if (visible(o, &cat.mods[i]) &&
            (nargs == 0 || matches_any(cat.mods[i].mf.fullname, args, (size_t)nargs)))
            ix.v[ix.n++] = i;
    if (o->json) {
        shelf_catalog_sort(&cat, ix.v, ix.n);
        status = catalog_json(e, o, &cat, &ix);
        goto done;
    }
    size_t width = term_width();
    if (nargs == 0 && o->terse) {
        level0_terse(&cat, &ix, &b);
    } else if (nargs == 0) {
        shelf_buf_addc(&b, '\n');
        border(&b, width);
        shelf_buf_adds(&b, "The following is a list of the modules currently available:\n");
        border(&b, width);
        level0_helper(&cat, &ix, &b, width);
    } else {
        for (int i = 0; rc == 0 && i < nargs; i++)
            rc = spider_search(&cat, o, args[i], i == nargs - 1, &b, width, &err);
    }
    if (rc == 0 && o->terse && nargs > 0)
        shelf_buf_addc(&b, '\n'); /* as Lmod ends a terse search */
    else if (rc == 0 && !o->terse && !o->quiet)
        shelf_buf_adds(&b, "\n \n\n");
    if (rc == 0)
        status = flush_buf(o->out, &b);
done:
    if (rc != 0) {
        if (rc < 0 && err.code == SHELF_OK)
            shelf_oom(&err);
        cli_print_error(o->out, &err);
        status = 1;
    }
    free(ix.v);
    shelf_error_clear(&err);
    shelf_buf_free(&b);
    shelf_catalog_free(&cat);
    return status;
}

/* keyword's header, as Lmod prints it, between two borders. */
static void keyword_banner(shelf_buf *b, size_t width, char **args, int nargs)
{
    border(b, width);
    shelf_buf_adds(b, "\nThe following modules match your search criteria: \"");
    for (int i = 0; i < nargs; i++)
        shelf_buf_addf(b, "%s%s", i ? "\", \"" : "", args[i]);
    shelf_buf_adds(b, "\"\n");
    border(b, width);
    shelf_buf_addc(b, '\n');
}

int cli_keyword(shelf_engine *e, const cli_opts *o, char **args, int nargs)
{
    if (nargs == 0) {
        shelf_error err = {SHELF_EUSAGE, (char *)"keyword: name at least one word "
                           "(see `module keyword --help`)", NULL, NULL, 0};
        cli_print_error(o->out, &err);
        return 1;
    }
    shelf_catalog cat;
    shelf_catalog_init(&cat);
    shelf_error err = {0};
    shelf_buf b;
    shelf_buf_init(&b);
    int status = 0;
    idxv ix = {NULL, 0};
    shelf_catalog_opts co;
    shelf_index *six;
    int rc = open_followed(e, SHELF_IXF_KEYWORDS, args, nargs, SHELF_IX_META | SHELF_IX_WHATIS,
                           !o->json, &co, &cat, &six, &err);
    if (six) {
        /* The matches straight from the index, in spider's order. */
        size_t width = term_width();
        if (!o->terse) {
            keyword_banner(&b, width, args, nargs);
        }
        int done = level0_stream(&cat, six, o, args, (size_t)nargs, &b, width, &err, &status);
        rc = done < 0 ? done : 0;
        if (done == 0)
            stream_declined(&cat, &b);
        if (done > 0) {
            status |= flush_buf(o->out, &b);
            goto done;
        }
    }
    if (rc == 0)
        rc = shelf_catalog_fill(e, &co, &cat, &err);
    if (rc == 0 && !(ix.v = calloc(cat.n + 1, sizeof *ix.v)))
        rc = shelf_oom(&err);
    if (rc < 0) {
        if (err.code == SHELF_OK) /* a row callback ran out of memory */
            shelf_oom(&err);
        cli_print_error(o->out, &err);
        status = 1;
        goto done;
    }
    for (size_t i = 0; i < cat.n; i++)
        if (visible(o, &cat.mods[i]) &&
            shelf_catalog_keyword_match(&cat.mods[i], args, (size_t)nargs))
            ix.v[ix.n++] = i;
    if (o->json) {
        shelf_catalog_sort(&cat, ix.v, ix.n);
        status = catalog_json(e, o, &cat, &ix);
        goto done;
    }
    size_t width = term_width();
    if (o->terse) {
        level0_terse(&cat, &ix, &b);
    } else {
        keyword_banner(&b, width, args, nargs);
        level0_helper(&cat, &ix, &b, width);
    }
    status = flush_buf(o->out, &b);
done:
    free(ix.v);
    shelf_error_clear(&err);
    shelf_buf_free(&b);
    shelf_catalog_free(&cat);
    return status;
}

/* ---- whatis, help, show ------------------------------------------------- */

typedef enum access_kind { ACCESS_WHATIS, ACCESS_HELP, ACCESS_SHOW } access_kind;

/* "NAME                : TEXT" lines, as Lmod's whatis prints them. */
static void whatis_lines(shelf_buf *b, const char *fullname, const shelf_strv *lines)
{
    size_t l = strlen(fullname);
    for (size_t i = 0; i < lines->n; i++) {
        shelf_buf_adds(b, fullname);
        add_spaces(b, l < 20 ? 20 - l : l + 2);
        shelf_buf_addf(b, ": %s\n", lines->v[i]);
    }
}

static int access_one(shelf_engine *e, access_kind kind, const char *name, shelf_buf *b,
                      shelf_error *err)
{
    shelf_modfile mf;
    int rc = shelf_engine_find(e, name, &mf, err);
    if (rc < 0)
        return rc;
    size_t width = term_width();
    if (kind == ACCESS_HELP) {
        shelf_buf title;
        shelf_buf_init(&title);
        shelf_buf_addf(&title, "Module Specific Help for \"%s\"", mf.fullname);
        shelf_buf_addc(b, '\n');
        banner(b, title.data ? title.data : "", width);
        shelf_buf_addc(b, '\n');
        shelf_buf_free(&title);
    } else if (kind == ACCESS_SHOW) {
        border(b, width);
        shelf_buf_addf(b, "   %s:\n", mf.path);
        border(b, width);
    }
    if (kind == ACCESS_SHOW) {
        shelf_show sh;
        shelf_show_init(&sh);
        rc = shelf_engine_show(e, &mf, name, &sh, err);
        for (size_t i = 0; rc == 0 && i < sh.lines.n; i++)
            shelf_buf_addf(b, "%s\n", sh.lines.v[i]);
        shelf_show_free(&sh);
    } else {
        shelf_spider_rec rec;
        shelf_spider_rec_init(&rec);
        rc = shelf_engine_describe(e, &mf, kind == ACCESS_HELP ? SHELF_MODE_HELP
                                                                : SHELF_MODE_WHATIS,
                                   &rec, err);
        if (rc == 0 && kind == ACCESS_HELP && rec.help)
            shelf_buf_addf(b, "%s\n", rec.help);
        if (rc == 0 && kind == ACCESS_WHATIS)
            whatis_lines(b, mf.fullname, &rec.whatis);
        shelf_spider_rec_free(&rec);
    }
    if (rc == 0)
        shelf_buf_addc(b, '\n');
    shelf_modfile_free(&mf);
    return rc;
}

/* whatis --json: [{"name", "file", "whatis": [...]}] on stdout; a Tcl
 * modulefile (not evaluated) has "tcl": true and no whatis lines. */
static int whatis_json(shelf_engine *e, const cli_opts *o, char **args, int nargs)
{
    cJSON *arr = cJSON_CreateArray();
    int status = arr ? 0 : 1;
    for (int i = 0; arr && i < nargs; i++) {
        shelf_modfile mf;
        shelf_error err = {0};
        int rc = shelf_engine_find(e, args[i], &mf, &err);
        if (rc < 0) {
            if (rc == SHELF_ENOTFOUND) {
                shelf_error_clear(&err);
                shelf_error_set(&err, rc, NULL, NULL, 0, "unknown module \"%s\"", args[i]);
            }
            cli_print_error(o->out, &err);
            shelf_error_clear(&err);
            status = 1;
            continue;
        }
        shelf_spider_rec rec;
        shelf_spider_rec_init(&rec);
        rc = mf.is_tcl ? 0 : shelf_engine_describe(e, &mf, SHELF_MODE_WHATIS, &rec, &err);
        cJSON *obj = cJSON_CreateObject();
        cJSON *lines = obj ? cJSON_AddArrayToObject(obj, "whatis") : NULL;
        int ok = rc == 0 && lines &&
                 cJSON_AddStringToObject(obj, "name", mf.fullname) &&
                 cJSON_AddStringToObject(obj, "file", mf.path) &&
                 (!mf.is_tcl || cJSON_AddTrueToObject(obj, "tcl"));
        for (size_t k = 0; ok && k < rec.whatis.n; k++)
            ok = cJSON_AddItemToArray(lines, cJSON_CreateString(rec.whatis.v[k]));
        if (ok)
            ok = cJSON_AddItemToArray(arr, obj);
        else
            cJSON_Delete(obj);
        if (rc < 0)
            cli_print_error(o->out, &err);
        else if (!ok)
            fprintf(o->out, "shelf: error: out of memory\n");
        status |= !ok || rc < 0;
        shelf_spider_rec_free(&rec);
        shelf_error_clear(&err);
        shelf_modfile_free(&mf);
    }
    return json_print(o, arr) | status;
}

static int access_cmd(shelf_engine *e, const cli_opts *o, access_kind kind,
                      char **args, int nargs)
{
    static const char *const names[] = {"whatis", "help", "show"};
    if (nargs == 0 && kind == ACCESS_HELP) {
        cli_usage(o->out);
        return 0;
    }
    if (nargs == 0) {
        fprintf(o->out, "shelf: error: %s: name at least one module (see `module %s --help`)\n",
                names[kind], names[kind]);
        return 1;
    }
    if (kind == ACCESS_WHATIS && o->json)
        return whatis_json(e, o, args, nargs);
    int status = 0;
    for (int i = 0; i < nargs; i++) {
        shelf_buf b;
        shelf_buf_init(&b);
        shelf_error err = {0};
        int rc = access_one(e, kind, args[i], &b, &err);
        if (rc == 0)
            status |= flush_buf(o->out, &b);
        else {
            if (rc == SHELF_ENOTFOUND) {
                shelf_error_clear(&err);
                shelf_error_set(&err, SHELF_ENOTFOUND, NULL, NULL, 0,
                                "unknown module \"%s\"; try `module spider %s`",
                                args[i], args[i]);
            }
            cli_print_error(o->out, &err);
            status = 1;
        }
        shelf_error_clear(&err);
        shelf_buf_free(&b);
    }
    return status;
}

int cli_whatis(shelf_engine *e, const cli_opts *o, char **args, int nargs)
{
    return access_cmd(e, o, ACCESS_WHATIS, args, nargs);
}

int cli_help_module(shelf_engine *e, const cli_opts *o, char **args, int nargs)
{
    return access_cmd(e, o, ACCESS_HELP, args, nargs);
}

int cli_show(shelf_engine *e, const cli_opts *o, char **args, int nargs)
{
    return access_cmd(e, o, ACCESS_SHOW, args, nargs);
}

/* ---- is-loaded, is-avail -------------------------------------------------- */

int cli_is_loaded(shelf_engine *e, const cli_opts *o, char **args, int nargs)
{
    (void)o;
    if (nargs == 0)
        return 1;
    /* As Lmod's is-loaded: the short name or the exact full name of an
     * active module ("gcc/12" does not designate a loaded gcc/12.3.0). */
    for (int i = 0; i < nargs; i++) {
        int found = 0;
        const shelf_state *st = shelf_engine_state(e);
        for (size_t k = 0; k < st->n && !found; k++) {
            const shelf_loaded *m = &st->mods[k];
            found = m->active && (strcmp(m->sn, args[i]) == 0 ||
                                  strcmp(m->fullname, args[i]) == 0);
        }
        if (!found)
            return 1;
    }
    return 0;
}

int cli_is_avail(shelf_engine *e, const cli_opts *o, char **args, int nargs)
{
    (void)o;
    if (nargs == 0)
        return 1;
    for (int i = 0; i < nargs; i++)
        if (!shelf_engine_is_avail(e, args[i]))
            return 1;
    return 0;
}
