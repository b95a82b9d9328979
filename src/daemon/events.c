/*
 * events.c -- shelfd's event bus (see events.h).
 *
 * One mutex guards the bus: the list of subscribers and, in each, a ring of
 * at most EVENTS_QUEUE formatted SSE messages plus a count of the messages
 * dropped since the subscriber last read. Each subscriber waits on its own
 * condition variable; a publisher formats the message once, copies the
 * pointer into every matching ring (messages are reference counted) and
 * signals. A full ring drops its oldest message: publishers never wait.
 *
 * Invariants: bus->closing is never reset; once it is set, publish is a
 * no-op and events_next returns 0 at once. The bus is freed by whichever of
 * events_free (no subscribers left) or the last events_unsubscribe (after
 * events_free) comes second.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "events.h"

#define EVENTS_QUEUE 256

typedef struct event_msg {
    size_t refs; /* under bus->lock */
    size_t len;
    char text[]; /* "id: N\nevent: NAME\ndata: JSON\n\n" */
} event_msg;

struct events_sub {
    events *bus;
    char *client;          /* NULL: every event */
    event_msg *ring[EVENTS_QUEUE];
    size_t head, count;    /* oldest message, messages held */
    size_t dropped;        /* lost to overflow since the last read */
    pthread_cond_t wake;
    events_sub *prev, *next;
};

struct events {
    pthread_mutex_t lock;
    events_sub *subs;
    unsigned long long next_id;
    int closing;           /* events_close or events_free was called */
    int freed;             /* events_free was called: the last unsubscribe frees */
};

static void msg_unref(event_msg *m)
{
    if (m && --m->refs == 0)
        free(m);
}

events *events_new(void)
{
    events *bus = calloc(1, sizeof *bus);
    if (!bus)
        return NULL;
    if (pthread_mutex_init(&bus->lock, NULL) != 0) {
        free(bus);
        return NULL;
    }
    bus->next_id = 1;
    return bus;
}

static void bus_destroy(events *bus)
{
    pthread_mutex_unlock(&bus->lock);
    pthread_mutex_destroy(&bus->lock);
    free(bus);
}

/* Marks the bus closing and wakes every subscriber; bus->lock is held. */
static void close_locked(events *bus)
{
    bus->closing = 1;
    for (events_sub *s = bus->subs; s; s = s->next)
        pthread_cond_signal(&s->wake);
}

/* Makes every events_next return 0 and every later publish a no-op; the
 * subscribers stay until they unsubscribe. Idempotent. */
void events_close(events *bus)
{
    if (!bus)
        return;
    pthread_mutex_lock(&bus->lock);
    close_locked(bus);
    pthread_mutex_unlock(&bus->lock);
}

void events_free(events *bus)
{
    if (!bus)
        return;
    pthread_mutex_lock(&bus->lock);
    close_locked(bus);
    bus->freed = 1;
    if (!bus->subs) {
        bus_destroy(bus);
        return;
    }
    pthread_mutex_unlock(&bus->lock);
}

/* Appends m to s's ring, dropping the oldest message when it is full. */
static void ring_push(events_sub *s, event_msg *m)
{
    if (s->count == EVENTS_QUEUE) {
        msg_unref(s->ring[s->head]);
        s->head = (s->head + 1) % EVENTS_QUEUE;
        s->count--;
        s->dropped++;
    }
    s->ring[(s->head + s->count) % EVENTS_QUEUE] = m;
    s->count++;
    m->refs++;
}

int events_publish(events *bus, const char *name, const char *client, const char *json)
{
    if (!bus || !name || !json)
        return -1;
    pthread_mutex_lock(&bus->lock);
    if (bus->closing || !bus->subs) {
        pthread_mutex_unlock(&bus->lock);
        return 0;
    }
    unsigned long long id = bus->next_id++;
    /* SSE data lines end at a newline: JSON from cJSON_PrintUnformatted has
     * none, but a pretty-printed one is folded into several data: lines. */
    size_t nl = 0;
    for (const char *p = json; *p; p++)
        nl += *p == '\n';
    size_t cap = strlen(name) + strlen(json) + nl * 6 + 64;
    event_msg *m = malloc(sizeof *m + cap);
    if (!m) {
        pthread_mutex_unlock(&bus->lock);
        return -1;
    }
    m->refs = 0;
    int n = snprintf(m->text, cap, "id: %llu\nevent: %s\ndata: ", id, name);
    size_t len = n > 0 ? (size_t)n : 0;
    for (const char *p = json; *p; p++) {
        if (*p == '\n') {
            memcpy(m->text + len, "\ndata: ", 7);
            len += 7;
        } else if (*p != '\r') {
            m->text[len++] = *p;
        }
    }
    memcpy(m->text + len, "\n\n", 3);
    m->len = len + 2;
    for (events_sub *s = bus->subs; s; s = s->next) {
        if (client && s->client && strcmp(client, s->client) != 0)
            continue;
        ring_push(s, m);
        pthread_cond_signal(&s->wake);
    }
    if (m->refs == 0)
        free(m);
    pthread_mutex_unlock(&bus->lock);
    return 0;
}

events_sub *events_subscribe(events *bus, const char *client)
{
    if (!bus)
        return NULL;
    events_sub *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    if (client && !(s->client = strdup(client))) {
        free(s);
        return NULL;
    }
    pthread_condattr_t attr;
    int ok = pthread_condattr_init(&attr) == 0;
    if (ok) {
        /* Timeouts are measured on the monotonic clock: a jump of the wall
         * clock neither floods nor starves keep-alives. */
        pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
        ok = pthread_cond_init(&s->wake, &attr) == 0;
        pthread_condattr_destroy(&attr);
    }
    if (!ok) {
        free(s->client);
        free(s);
        return NULL;
    }
    s->bus = bus;
    pthread_mutex_lock(&bus->lock);
    s->next = bus->subs;
    if (bus->subs)
        bus->subs->prev = s;
    bus->subs = s;
    pthread_mutex_unlock(&bus->lock);
    return s;
}

void events_unsubscribe(events_sub *s)
{
    if (!s)
        return;
    events *bus = s->bus;
    pthread_mutex_lock(&bus->lock);
    if (s->prev)
        s->prev->next = s->next;
    else
        bus->subs = s->next;
    if (s->next)
        s->next->prev = s->prev;
    while (s->count) {
        msg_unref(s->ring[s->head]);
        s->head = (s->head + 1) % EVENTS_QUEUE;
        s->count--;
    }
    pthread_cond_destroy(&s->wake);
    free(s->client);
    free(s);
    if (bus->freed && !bus->subs) {
        bus_destroy(bus);
        return;
    }
    pthread_mutex_unlock(&bus->lock);
}

static int copy_out(const char *text, size_t len, char **out, size_t *olen)
{
    char *p = malloc(len + 1);
    if (!p)
        return -1;
    memcpy(p, text, len + 1);
    *out = p;
    *olen = len;
    return 1;
}

int events_next(events_sub *s, int timeout_ms, char **out, size_t *len)
{
    events *bus = s->bus;
    *out = NULL;
    *len = 0;
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    if (timeout_ms < 0)
        timeout_ms = 0;
    until.tv_sec += timeout_ms / 1000;
    until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&bus->lock);
    for (;;) {
        if (bus->closing) {
            pthread_mutex_unlock(&bus->lock);
            return 0;
        }
        if (s->dropped) {
            char text[96];
            int n = snprintf(text, sizeof text, "event: overflow\ndata: {\"dropped\": %zu}\n\n",
                             s->dropped);
            s->dropped = 0;
            pthread_mutex_unlock(&bus->lock);
            return copy_out(text, (size_t)n, out, len);
        }
        if (s->count) {
            event_msg *m = s->ring[s->head];
            s->head = (s->head + 1) % EVENTS_QUEUE;
            s->count--;
            int rc = copy_out(m->text, m->len, out, len);
            msg_unref(m);
            pthread_mutex_unlock(&bus->lock);
            return rc;
        }
        int rc = pthread_cond_timedwait(&s->wake, &bus->lock, &until);
        if (rc == ETIMEDOUT && !s->count && !s->dropped && !bus->closing) {
            pthread_mutex_unlock(&bus->lock);
            return 2;
        }
    }
}
