/*
 * watch.c -- shelfd's watch over its trees: inotify watches on every
 * directory of each tree (a poll every few seconds where watches run out),
 * a debounced look at a tree after a change (in the thread pool: the tree's
 * signature of directory and marker stats, its index and whether that is
 * stale), then the API told that the tree changed (api_tree_changed) and a
 * stale index rebuilt in the background (api_index_rebuilt when it is in
 * place).
 *
 * Invariants: everything but the jobs' work functions runs on the loop's
 * thread; a tree has at most one look and one rebuild in flight (a change
 * meanwhile asks for another when it ends); nothing is queued once
 * watcher_stop() was called, and a running rebuild is waited for by the
 * loop, so that no half-written index is left.
 */
#include "config.h"

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "server.h"
#include "shelf.h"
#include "watch.h"

#define DEBOUNCE_MS 300
#define POLL_MS 5000
#define STALE_REBUILD_MS 60000
#define MAX_WATCHES 8192

/* ---- the trees ------------------------------------------------------------ */

typedef struct tree tree;

typedef struct watch {
    uv_fs_event_t h;
    tree *t;
    char *path;
    int seen;   /* listed by the last scan */
    int active; /* uv_fs_event_start succeeded */
} watch;

/* A look at one tree, made in the thread pool. */
typedef struct scan_job {
    uv_work_t req;
    tree *t;
    int notify;         /* tell the API the tree changed, whatever is found */
    int have_old;
    uint64_t old_sig;
    uint64_t started;   /* uv_now when queued */
    /* results */
    uint64_t sig;
    char **subdirs;     /* package directories (absolute) */
    size_t nsub;
    char *index;        /* the tree's index file, or NULL */
    char *stamp;        /* its timestamp file (timestamp mode), or NULL */
    int index_stale;
    int notified;
} scan_job;

typedef struct rebuild_job {
    uv_work_t req;
    tree *t;
    char *index;
    char *stamp;
    int rc;
    char *message;
    size_t modules, evaluated;
    double seconds;
} rebuild_job;

struct tree {
    watcher *d;
    char *dir;
    watch **w;
    size_t nw, wcap;
    uv_timer_t debounce;
    scan_job *scan;          /* in flight */
    int scan_pending, scan_pending_notify;
    uint64_t sig;
    int have_sig;
    char *index;
    char *stamp;
    uint64_t rebuilt_at;     /* uv_now of the last rebuild's end, or 0 */
    rebuild_job *rebuild;    /* in flight */
    int rebuild_pending;
    int rebuild_failed;      /* not retried until the next change */
};

struct watcher {
    uv_loop_t *loop;
    api_state *api;
    shelf_eval_limits limits;
    shelf_index_check index_check; /* as the API's readers check indexes */
    tree *trees;
    size_t ntrees;
    size_t nwatches;
    int watch_capped;
    uv_timer_t poll;
    int stopping;
};

static uint64_t stat_sig(uint64_t h, const struct stat *st)
{
    h = shelf_fnv1a(h, &st->st_mtim, sizeof st->st_mtim);
    h = shelf_fnv1a(h, &st->st_ino, sizeof st->st_ino);
    return shelf_fnv1a(h, &st->st_size, sizeof st->st_size);
}

static void scan_work(uv_work_t *req)
{
    scan_job *j = req->data;
    const char *dir = j->t->dir;
    uint64_t h = SHELF_FNV1A_INIT;
    struct stat st;
    if (stat(dir, &st) == 0)
        h = stat_sig(h, &st);
    DIR *dp = opendir(dir);
    size_t cap = 0;
    if (dp) {
        struct dirent *e;
        while ((e = readdir(dp))) {
            /* Dot entries are hidden modules or the index's .shelf: the
             * marker files among them change the tree's mtime anyway. */
            if (e->d_name[0] == '.')
                continue;
            char *p = NULL;
            if (asprintf(&p, "%s/%s", dir, e->d_name) < 0)
                break;
            if (stat(p, &st) < 0) {
                free(p);
                continue;
            }
            h = shelf_fnv1a(h, e->d_name, strlen(e->d_name) + 1);
            h = stat_sig(h, &st);
            if (!S_ISDIR(st.st_mode)) {
                free(p);
                continue;
            }
            if (SHELF_GROW(j->subdirs, cap, j->nsub + 1) < 0) {
                free(p);
                break;
            }
            j->subdirs[j->nsub++] = p;
        }
        closedir(dp);
    }
    j->sig = h;
    shelf_strv places;
    shelf_strv_init(&places);
    if (shelf_index_locations(dir, environ, &places) == 0) {
        for (size_t i = 0; i < places.n && !j->index; i++) {
            shelf_index *ix = NULL;
            shelf_error err = {0};
            int rc = shelf_index_open(places.v[i], &ix, &err);
            if (rc == 0) {
                j->index = strdup(places.v[i]);
                const char *stamp = shelf_index_timestamp(ix);
                j->stamp = stamp ? strdup(stamp) : NULL;
                j->index_stale = shelf_index_fresh(ix, j->t->d->index_check, NULL, 0, NULL, 0,
                                                   NULL) <= 0;
                shelf_index_close(ix);
            } else if (rc != SHELF_ENOTFOUND && access(places.v[i], F_OK) == 0) {
                /* There but unusable (another schema, corrupt): rebuilt. */
                j->index = strdup(places.v[i]);
                j->index_stale = 1;
            }
            shelf_error_clear(&err);
        }
    }
    shelf_strv_free(&places);
    if (j->notify || (j->have_old && j->old_sig != j->sig)) {
        api_tree_changed(j->t->d->api, dir);
        j->notified = 1;
    }
}

static void scan_queue(tree *t, int notify);
static void rebuild_queue(tree *t);

static void on_fs_event(uv_fs_event_t *h, const char *filename, int events_, int status);

/* Starts watching path for t unless the cap is reached. */
static void watch_add(tree *t, const char *path)
{
    watcher *d = t->d;
    if (d->nwatches >= MAX_WATCHES) {
        if (!d->watch_capped)
            server_log("watching %d directories, the most allowed: changes elsewhere are "
                       "found by the poll every %d s", MAX_WATCHES, POLL_MS / 1000);
        d->watch_capped = 1;
        return;
    }
    watch *w = calloc(1, sizeof *w);
    if (!w || SHELF_GROW(t->w, t->wcap, t->nw + 1) < 0 || !(w->path = strdup(path))) {
        free(w);
        return;
    }
    w->t = t;
    w->seen = 1;
    uv_fs_event_init(d->loop, &w->h);
    w->h.data = w;
    int rc = uv_fs_event_start(&w->h, on_fs_event, path, 0);
    if (rc < 0) {
        /* Kept in the list, inactive, so that it is not tried again. */
        if (!d->watch_capped)
            server_log("cannot watch %s: %s; the poll every %d s finds its changes", path,
                       uv_strerror(rc), POLL_MS / 1000);
        if (rc == UV_ENOSPC)
            d->watch_capped = 1;
    } else {
        w->active = 1;
        d->nwatches++;
    }
    t->w[t->nw++] = w;
}

static void watch_freed(uv_handle_t *h)
{
    watch *w = h->data;
    free(w->path);
    free(w);
}

static void watch_drop(tree *t, size_t i)
{
    watch *w = t->w[i];
    if (w->active)
        t->d->nwatches--;
    uv_close((uv_handle_t *)&w->h, watch_freed);
    t->w[i] = t->w[--t->nw];
}

static void on_debounce(uv_timer_t *timer)
{
    scan_queue(timer->data, 1);
}

static void on_fs_event(uv_fs_event_t *h, const char *filename, int events_, int status)
{
    (void)events_;
    watch *w = h->data;
    tree *t = w->t;
    if (t->d->stopping)
        return;
    if (status < 0) {
        server_log("watching %s: %s", w->path, uv_strerror(status));
        return;
    }
    /* The index's own directory changes on every rebuild. */
    if (filename && strcmp(w->path, t->dir) == 0 && strcmp(filename, ".shelf") == 0)
        return;
    uv_timer_start(&t->debounce, on_debounce, DEBOUNCE_MS, 0);
}

static void scan_done(uv_work_t *req, int status)
{
    scan_job *j = req->data;
    tree *t = j->t;
    watcher *d = t->d;
    t->scan = NULL;
    if (status == 0 && !d->stopping) {
        if (j->notified)
            server_log("tree %s changed", t->dir);
        /* Watch the package directories listed, stop watching those gone. */
        for (size_t i = 0; i < t->nw; i++)
            t->w[i]->seen = strcmp(t->w[i]->path, t->dir) == 0;
        for (size_t k = 0; k < j->nsub; k++) {
            size_t i = 0;
            while (i < t->nw && strcmp(t->w[i]->path, j->subdirs[k]) != 0)
                i++;
            if (i < t->nw)
                t->w[i]->seen = 1;
            else
                watch_add(t, j->subdirs[k]);
        }
        for (size_t i = 0; i < t->nw;)
            if (!t->w[i]->seen)
                watch_drop(t, i);
            else
                i++;
        t->sig = j->sig;
        t->have_sig = 1;
        free(t->index);
        free(t->stamp);
        t->index = j->index;
        t->stamp = j->stamp;
        j->index = j->stamp = NULL;
        if (j->notified)
            t->rebuild_failed = 0;
        /* A stale index with no change seen here (a level elsewhere in the
         * hierarchy changed) is rebuilt too, but at most once a minute: a
         * tree that changes all the time is not re-indexed in a loop. */
        int stale_due = j->index_stale && !t->rebuild && j->started >= t->rebuilt_at &&
                        (!t->rebuilt_at || uv_now(d->loop) - t->rebuilt_at >= STALE_REBUILD_MS);
        if (t->index && (j->notified || stale_due) && !t->rebuild_failed)
            rebuild_queue(t);
    }
    for (size_t k = 0; k < j->nsub; k++)
        free(j->subdirs[k]);
    free(j->subdirs);
    free(j->index);
    free(j->stamp);
    free(j);
    if (t->scan_pending && !d->stopping) {
        int notify = t->scan_pending_notify;
        t->scan_pending = t->scan_pending_notify = 0;
        scan_queue(t, notify);
    }
}

static void scan_queue(tree *t, int notify)
{
    if (t->d->stopping)
        return;
    if (t->scan) {
        t->scan_pending = 1;
        t->scan_pending_notify |= notify;
        return;
    }
    scan_job *j = calloc(1, sizeof *j);
    if (!j) {
        server_log("out of memory: tree %s not scanned", t->dir);
        return;
    }
    j->t = t;
    j->notify = notify;
    j->have_old = t->have_sig;
    j->old_sig = t->sig;
    j->started = uv_now(t->d->loop);
    j->req.data = j;
    if (uv_queue_work(t->d->loop, &j->req, scan_work, scan_done) < 0) {
        free(j);
        return;
    }
    t->scan = j;
}

static void rebuild_work(uv_work_t *req)
{
    rebuild_job *j = req->data;
    shelf_index_opts o = {j->index, 0, NULL, NULL, j->stamp, environ, &j->t->d->limits};
    shelf_index_stats st = {0};
    shelf_error err = {0};
    j->rc = shelf_index_build(j->t->dir, &o, &st, &err);
    if (j->rc < 0) {
        j->message = strdup(err.message ? err.message : "out of memory");
    } else {
        j->modules = st.modules;
        j->evaluated = st.evaluated;
        j->seconds = st.seconds;
        /* The new file is in place: readers that open it now see it. */
        api_index_rebuilt(j->t->d->api, j->t->dir);
    }
    free(st.output);
    shelf_error_clear(&err);
}

static void rebuild_done(uv_work_t *req, int status)
{
    rebuild_job *j = req->data;
    tree *t = j->t;
    t->rebuild = NULL;
    t->rebuilt_at = uv_now(t->d->loop);
    if (status == 0) {
        if (j->rc < 0) {
            server_log("re-indexing %s failed: %s", t->dir, j->message ? j->message : "?");
            t->rebuild_failed = 1;
        } else {
            server_log("re-indexed %s: %zu modulefiles, %zu evaluated, %.2f s -> %s", t->dir,
                       j->modules, j->evaluated, j->seconds, j->index);
        }
    }
    free(j->message);
    free(j->index);
    free(j->stamp);
    free(j);
    if (t->rebuild_pending && !t->d->stopping) {
        t->rebuild_pending = 0;
        rebuild_queue(t);
    }
}

static void rebuild_queue(tree *t)
{
    if (t->d->stopping || !t->index)
        return;
    if (t->rebuild) {
        t->rebuild_pending = 1;
        return;
    }
    rebuild_job *j = calloc(1, sizeof *j);
    if (!j || !(j->index = strdup(t->index)) || (t->stamp && !(j->stamp = strdup(t->stamp)))) {
        if (j)
            free(j->index);
        free(j);
        server_log("out of memory: %s not re-indexed", t->dir);
        return;
    }
    j->t = t;
    j->req.data = j;
    if (uv_queue_work(t->d->loop, &j->req, rebuild_work, rebuild_done) < 0) {
        free(j->stamp);
        free(j->index);
        free(j);
        return;
    }
    t->rebuild = j;
}

static void on_poll(uv_timer_t *timer)
{
    watcher *d = timer->data;
    for (size_t i = 0; i < d->ntrees; i++)
        scan_queue(&d->trees[i], 0);
}

watcher *watcher_start(uv_loop_t *loop, char *const *trees, size_t ntrees, api_state *api,
                       const shelf_eval_limits *limits, shelf_index_check check)
{
    watcher *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->loop = loop;
    d->api = api;
    d->limits = *limits;
    d->index_check = check;
    d->trees = calloc(ntrees ? ntrees : 1, sizeof *d->trees);
    if (!d->trees) {
        free(d);
        return NULL;
    }
    d->ntrees = ntrees;
    for (size_t i = 0; i < d->ntrees; i++) {
        tree *t = &d->trees[i];
        t->d = d;
        t->dir = trees[i];
        uv_timer_init(d->loop, &t->debounce);
        t->debounce.data = t;
        watch_add(t, t->dir);
        scan_queue(t, 0);
    }
    uv_timer_init(d->loop, &d->poll);
    d->poll.data = d;
    uv_timer_start(&d->poll, on_poll, POLL_MS, POLL_MS);
    return d;
}

void watcher_rescan(watcher *d)
{
    for (size_t i = 0; i < d->ntrees; i++)
        scan_queue(&d->trees[i], 1);
}

void watcher_stop(watcher *d)
{
    d->stopping = 1;
    for (size_t i = 0; i < d->ntrees; i++) {
        tree *t = &d->trees[i];
        while (t->nw)
            watch_drop(t, t->nw - 1);
        free(t->w);
        t->w = NULL;
        free(t->index);
        free(t->stamp);
        t->index = t->stamp = NULL;
        uv_close((uv_handle_t *)&t->debounce, NULL);
        /* Jobs not started yet are dropped; a running rebuild is waited
         * for by uv_run, so that no half-written temp file is left. */
        if (t->scan)
            uv_cancel((uv_req_t *)&t->scan->req);
        if (t->rebuild)
            uv_cancel((uv_req_t *)&t->rebuild->req);
    }
    uv_close((uv_handle_t *)&d->poll, NULL);
}

void watcher_free(watcher *d)
{
    if (!d)
        return;
    free(d->trees);
    free(d);
}
