/*
 * watch.h -- shelfd's watch over its trees (watch.c): changes found by
 * inotify or a poll are told to the API, and stale indexes rebuilt in the
 * background.
 */
#ifndef SHELFD_WATCH_H
#define SHELFD_WATCH_H

#include <uv.h>

#include "api.h"
#include "shelf.h"

typedef struct watcher watcher;

/* Starts watching trees[0..ntrees) (absolute, normalized; they must outlive
 * the watcher) on loop, telling api of changes and rebuilding indexes with
 * each evaluation within limits; an index is stale as check says (the
 * API's policy). NULL on OOM. */
watcher *watcher_start(uv_loop_t *loop, char *const *trees, size_t ntrees, api_state *api,
                       const shelf_eval_limits *limits, shelf_index_check check);
/* Looks at every tree again and tells the API (SIGHUP). */
void watcher_rescan(watcher *w);
/* Stops the watches and timers and cancels the jobs not started; the loop
 * then ends once a running rebuild is done. Call once, then watcher_free
 * after the loop ended. */
void watcher_stop(watcher *w);
void watcher_free(watcher *w);

#endif
