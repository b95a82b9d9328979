/*
 * fuzz_api.c -- libFuzzer target for shelfd's request handling: the
 * routing of method and path, query parameters, client ids, module and
 * collection names, and the JSON bodies, all through api_handle() on the
 * sample tree; plus the --listen address parser. scripts/fuzz builds and
 * runs it for a bounded time.
 *
 * Input layout (fields separated by NUL bytes, missing ones empty):
 *   METHOD-BYTE PATH \0 QUERY \0 CLIENT \0 BODY
 * METHOD-BYTE picks GET/POST/PUT/DELETE/PATCH/HEAD; PATH gets "/api/v1/"
 * in front unless it starts with '/'; QUERY is "k=v&k=v" taken as decoded.
 * Each answer must be a JSON document with an HTTP status.
 *
 * SHELF_FUZZ_TREE names the tree (default: the sample tree's Core level of
 * the source directory).
 */
#include "config.h"

#include <cJSON.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "shelf.h"
#include "server.h"

#ifndef SHELF_SRCDIR_FOR_FUZZ
#define SHELF_SRCDIR_FOR_FUZZ "."
#endif

static api_state *state;
static events *bus;
static char *tree;

static char *str_printf(const char *a, const char *b)
{
    size_t n = strlen(a) + strlen(b) + 1;
    char *s = malloc(n);
    if (!s)
        abort();
    snprintf(s, n, "%s%s", a, b);
    return s;
}

static void setup(void)
{
    static char *env[4];
    const char *t = getenv("SHELF_FUZZ_TREE");
    tree = t ? str_printf(t, "") : str_printf(SHELF_SRCDIR_FOR_FUZZ, "/modulefiles/Core");
    /* Collections saved by the input go to a private directory. */
    const char *tmp = getenv("TMPDIR");
    char *tmpl = str_printf(tmp && *tmp ? tmp : "/tmp", "/shelf-fuzz-XXXXXX");
    char *home = mkdtemp(tmpl);
    if (!home)
        abort();
    char *config = str_printf(home, "/config");
    setenv("XDG_CONFIG_HOME", config, 1);
    env[0] = str_printf("HOME=", home);
    env[1] = str_printf("XDG_CONFIG_HOME=", config);
    env[2] = str_printf("MODULEPATH=", tree);
    env[3] = NULL;
    free(config);
    free(tmpl); /* home pointed into it */
    bus = events_new();
    const char *trees[] = {tree};
    api_config cfg = {.trees = trees, .ntrees = 1, .default_env = env, .bus = bus,
                      .index_check = SHELF_INDEX_CHECK_AUTO}; /* default budgets */
    shelf_error err = {0};
    state = api_new(&cfg, &err);
    if (!state) {
        fprintf(stderr, "fuzz_api: %s\n", err.message ? err.message : "api_new failed");
        abort();
    }
}

/* The next NUL-separated field of [*p, end), as a new string. */
static char *field(const uint8_t **p, const uint8_t *end)
{
    const uint8_t *s = *p;
    while (*p < end && **p)
        (*p)++;
    size_t n = (size_t)(*p - s);
    if (*p < end)
        (*p)++; /* the NUL */
    char *out = malloc(n + 1);
    if (!out)
        abort();
    memcpy(out, s, n);
    out[n] = '\0';
    return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!state)
        setup();
    if (size == 0)
        return 0;
    static const char *methods[] = {"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD"};
    const char *method = methods[data[0] % 6];
    const uint8_t *p = data + 1, *end = data + size;
    char *path = field(&p, end);
    char *query = field(&p, end);
    char *client = field(&p, end);
    const char *body = (const char *)p;
    size_t body_len = (size_t)(end - p);

    char *full = malloc(strlen(path) + 16);
    if (!full)
        abort();
    sprintf(full, "%s%s", path[0] == '/' ? "" : "/api/v1/", path);

    /* Query "k=v&k2=v2" into parallel arrays. */
    size_t nq = 0, cap = 8;
    char **keys = malloc(cap * sizeof *keys), **vals = malloc(cap * sizeof *vals);
    if (!keys || !vals)
        abort();
    char *save = NULL;
    for (char *kv = strtok_r(query, "&", &save); kv && nq < cap; kv = strtok_r(NULL, "&", &save)) {
        char *eq = strchr(kv, '=');
        if (eq)
            *eq = '\0';
        keys[nq] = kv;
        vals[nq] = eq ? eq + 1 : (char *)"";
        nq++;
    }
    api_request req = {method, full, client[0] ? client : "default",
                       (const char *const *)keys, (const char *const *)vals, nq,
                       body_len ? body : NULL, body_len};
    api_response resp;
    api_handle(state, &req, &resp);
    if (resp.status < 100 || resp.status > 599 || !resp.body)
        abort();
    /* Every answer is JSON (bytes that are not UTF-8 as \udcXX escapes). */
    cJSON *doc = shelf_json_parse(resp.body, resp.len, NULL);
    if (!doc)
        abort();
    cJSON_Delete(doc);
    api_response_free(&resp);

    /* The --listen parser on the same bytes. */
    char *host = NULL, *why = NULL;
    unsigned port = 0;
    int loopback = 0;
    if (server_parse_listen(path, &host, &port, &loopback, &why) == 0 && !host)
        abort();
    free(host);
    free(why);

    free(keys);
    free(vals);
    free(full);
    free(path);
    free(query);
    free(client);
    return 0;
}
