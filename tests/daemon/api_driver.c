/*
 * api_driver.c -- drives shelfd's API (api_handle) without HTTP, for tests
 * and as the base of a fuzz target.
 *
 * Usage: api_driver [--stress THREADS:ROUNDS] TREE...
 * Reads one request a line on stdin:
 *     METHOD URL [CLIENT [BODY]]
 * URL is percent-encoded ("/api/v1/modules?q=hdf", "%2e%2e" ...) and
 * decoded here as the HTTP server decodes it; CLIENT "-" means none; BODY
 * is the rest of the line. Prints one line per request:
 *     STATUS<TAB>ALLOW or -<TAB>BODY
 * Events published on the bus are printed on stderr as "event NAME CLIENT
 * JSON". With --stress, every request is also run ROUNDS times from
 * THREADS threads at once (each thread its own client id), checking that
 * each answer is JSON; prints "stress: N requests" at the end.
 */
#include "config.h"

#include <cJSON.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "shelf.h"

extern char **environ;

/* The bus, as the daemon's events.c provides it: here it prints. */
int events_publish(events *bus, const char *name, const char *client, const char *json)
{
    (void)bus;
    fprintf(stderr, "event %s %s %s\n", name, client ? client : "-", json);
    return 0;
}

typedef struct req_line {
    char *method, *path, *client, *body;
    char **qkeys, **qvals;
    size_t nquery;
} req_line;

static int hexval(int c)
{
    return c >= '0' && c <= '9' ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* Decodes %XX (and + as space in a query) in place; a %00 ends the string,
 * as a C string would. */
static void decode(char *s, int query)
{
    char *o = s;
    for (char *p = s; *p; p++) {
        if (*p == '%' && hexval(p[1]) >= 0 && hexval(p[2]) >= 0) {
            *o++ = (char)(hexval(p[1]) * 16 + hexval(p[2]));
            p += 2;
        } else {
            *o++ = query && *p == '+' ? ' ' : *p;
        }
    }
    *o = '\0';
}

static int parse_line(char *line, req_line *r)
{
    memset(r, 0, sizeof *r);
    char *save = NULL;
    char *method = strtok_r(line, " ", &save);
    char *url = strtok_r(NULL, " ", &save);
    char *client = strtok_r(NULL, " ", &save);
    char *body = save && *save ? save : NULL;
    if (!method || !url)
        return -1;
    r->method = strdup(method);
    r->client = client && strcmp(client, "-") != 0 ? strdup(client) : NULL;
    r->body = body ? strdup(body) : NULL;
    char *qs = strchr(url, '?');
    if (qs)
        *qs++ = '\0';
    r->path = strdup(url);
    decode(r->path, 0);
    for (char *kv = qs ? strtok_r(qs, "&", &save) : NULL; kv; kv = strtok_r(NULL, "&", &save)) {
        r->qkeys = realloc(r->qkeys, (r->nquery + 1) * sizeof *r->qkeys);
        r->qvals = realloc(r->qvals, (r->nquery + 1) * sizeof *r->qvals);
        char *eq = strchr(kv, '=');
        if (eq)
            *eq = '\0';
        r->qkeys[r->nquery] = strdup(kv);
        r->qvals[r->nquery] = strdup(eq ? eq + 1 : "");
        decode(r->qkeys[r->nquery], 1);
        decode(r->qvals[r->nquery], 1);
        r->nquery++;
    }
    return 0;
}

static void free_line(req_line *r)
{
    for (size_t i = 0; i < r->nquery; i++) {
        free(r->qkeys[i]);
        free(r->qvals[i]);
    }
    free(r->qkeys);
    free(r->qvals);
    free(r->method);
    free(r->path);
    free(r->client);
    free(r->body);
}

static void run(api_state *s, const req_line *l, const char *client, api_response *resp)
{
    api_request req = {l->method, l->path, client ? client : "default",
                       (const char *const *)l->qkeys, (const char *const *)l->qvals,
                       l->nquery, l->body, l->body ? strlen(l->body) : 0};
    api_handle(s, &req, resp);
}

typedef struct stress_arg {
    api_state *s;
    req_line *lines;
    size_t n;
    int rounds, id;
    long bad;
} stress_arg;

static void *stress_thread(void *p)
{
    stress_arg *a = p;
    char client[64];
    for (int round = 0; round < a->rounds; round++)
        for (size_t i = 0; i < a->n; i++) {
            snprintf(client, sizeof client, "%s-%d", a->lines[i].client ? a->lines[i].client
                                                                        : "stress", a->id);
            api_response resp;
            run(a->s, &a->lines[i], client, &resp);
            cJSON *doc = shelf_json_parse(resp.body, resp.len, NULL);
            if (!doc || resp.status < 200 || resp.status > 599)
                a->bad++;
            cJSON_Delete(doc);
            api_response_free(&resp);
        }
    return NULL;
}

int main(int argc, char **argv)
{
    int threads = 0, rounds = 0, first = 1;
    if (argc > 2 && strcmp(argv[1], "--stress") == 0) {
        if (sscanf(argv[2], "%d:%d", &threads, &rounds) != 2 || threads < 1 || rounds < 1) {
            fprintf(stderr, "api_driver: --stress THREADS:ROUNDS\n");
            return 2;
        }
        first = 3;
    }
    static char bus_token; /* the bus is not used here: events_publish prints */
    api_config cfg = {(const char *const *)argv + first, (size_t)(argc - first), environ,
                      (events *)&bus_token, shelf_index_check_from(getenv("SHELF_INDEX_CHECK")),
                      {0, 0, 0}};
    shelf_error err = {0};
    api_state *s = shelf_eval_limits_from_env(&cfg.limits, environ, &err) == 0
                       ? api_new(&cfg, &err)
                       : NULL;
    if (!s) {
        fprintf(stderr, "api_driver: %s\n", err.message ? err.message : "api_new failed");
        shelf_error_clear(&err);
        return 1;
    }
    req_line *lines = NULL;
    size_t n = 0;
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    while ((len = getline(&line, &cap, stdin)) >= 0) {
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        req_line r;
        if (len == 0 || line[0] == '#' || parse_line(line, &r) < 0)
            continue;
        api_response resp;
        run(s, &r, r.client, &resp);
        printf("%d\t%s\t%.*s\n", resp.status, resp.allow ? resp.allow : "-", (int)resp.len,
               resp.body);
        fflush(stdout);
        api_response_free(&resp);
        lines = realloc(lines, (n + 1) * sizeof *lines);
        lines[n++] = r;
    }
    free(line);
    int status = 0;
    if (threads) {
        pthread_t *t = calloc((size_t)threads, sizeof *t);
        stress_arg *a = calloc((size_t)threads, sizeof *a);
        for (int i = 0; i < threads; i++) {
            a[i] = (stress_arg){s, lines, n, rounds, i, 0};
            pthread_create(&t[i], NULL, stress_thread, &a[i]);
        }
        long bad = 0;
        for (int i = 0; i < threads; i++) {
            pthread_join(t[i], NULL);
            bad += a[i].bad;
        }
        printf("stress: %ld requests, %ld bad\n", (long)threads * rounds * (long)n, bad);
        status = bad != 0;
        free(t);
        free(a);
    }
    for (size_t i = 0; i < n; i++)
        free_line(&lines[i]);
    free(lines);
    api_free(s);
    return status;
}
