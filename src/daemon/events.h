/*
 * events.h -- shelfd's event bus: api.c and the tree watcher publish; each
 * GET /api/v1/events connection subscribes and streams what arrives as
 * server-sent events ("event: NAME\ndata: JSON\n\n").
 *
 * Thread-safe. A subscriber that falls too far behind (a slow client) loses
 * the oldest events and gets an "overflow" event instead: the bus never
 * grows without bound and a publisher never waits for a reader.
 */
#ifndef SHELFD_EVENTS_H
#define SHELFD_EVENTS_H

#include <stddef.h>

typedef struct events events;
typedef struct events_sub events_sub;

events *events_new(void);
/* Wakes every subscriber (events_next returns 0) and frees the bus once
 * they have all unsubscribed. */
void events_free(events *bus);
/* Wakes every subscriber (events_next returns 0 from now on) and turns
 * later publishes into no-ops, without freeing: the server calls it first
 * at shutdown so that event streams end and their threads can be joined.
 * Idempotent; events_free is still needed. */
void events_close(events *bus);

/* Publishes event `name` ("tree", "index", "loaded", ...) with `json` (a
 * JSON object as text; copied). client: the context it concerns, or NULL
 * for everyone. Returns 0 or -1 (out of memory: the event is dropped). */
int events_publish(events *bus, const char *name, const char *client, const char *json);

/* Subscribes; client NULL receives every event, else only those for that
 * client and those for everyone. NULL on OOM. */
events_sub *events_subscribe(events *bus, const char *client);
void events_unsubscribe(events_sub *sub);

/* Waits up to timeout_ms for the next event and formats it as one SSE
 * message into *out (malloc'd, *len bytes). Returns 1 (an event), 0 (the
 * bus is closing), 2 (timeout: the caller sends a ": keep-alive" comment),
 * or -1 on OOM. */
int events_next(events_sub *sub, int timeout_ms, char **out, size_t *len);

#endif
