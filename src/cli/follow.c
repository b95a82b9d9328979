/*
 * follow.c -- a shell that shares a shelfd context.
 *
 * The Jupyter server extension exports SHELF_CONTEXT_SOCKET (shelfd's unix
 * socket) and SHELF_CONTEXT_CLIENT (its client id) to the terminals it
 * starts. A module command in such a shell changes the shell as always;
 * then the same change of the module set is sent to that context, so the
 * JupyterLab panel showing it (and the kernels started after) follow:
 *
 *   - modules gone from the shell are unloaded there (POST unload): the
 *     ones the user had asked for, and dependencies removed while every
 *     module needing them stayed (an explicit unload), not the ones that
 *     left only because what needed them left (the context does that);
 *   - modules the user asked for that are new in the shell (or came from
 *     another modulefile, as after a swap to another compiler) are loaded
 *     there by full name, in load order (POST load); their dependencies
 *     come with them.
 *
 * A module is "the same" when its modulefile is. Only the shells' code
 * formats follow: `shelf python` and `shelf json` (kernels, the `shelf`
 * Python module, programs) do not, so applying a set to a kernel never
 * changes the shared context.
 * A context that cannot follow (daemon gone, module not in its trees) gets
 * a warning on stderr; the shell's own change stands and the exit status
 * is the command's.
 */
#include "config.h"

#include <cJSON.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "shelf.h"

#define FOLLOW_TIMEOUT_MS 30000 /* a load in the daemon may evaluate modulefiles */

/* Where the changes go. */
typedef struct follow_target {
    const char *socket;
    const char *client;
} follow_target;

static int is_shell(shelf_shell sh)
{
    return sh != SHELF_SH_PYTHON && sh != SHELF_SH_JSON && sh != SHELF_SH_UNKNOWN;
}

static const shelf_loaded *find_file(const shelf_state *st, const char *file)
{
    for (size_t i = 0; i < st->n; i++)
        if (st->mods[i].file && strcmp(st->mods[i].file, file) == 0)
            return &st->mods[i];
    return NULL;
}

/* 1 when every module that needed d is still loaded after. */
static int needers_stayed(const shelf_loaded *d, const shelf_state *after)
{
    for (size_t k = 0; k < d->needed_by.n; k++)
        if (!shelf_state_find_sn((shelf_state *)after, d->needed_by.v[k]))
            return 0;
    return 1;
}

/* ---- one HTTP request to a unix socket ------------------------------------------- */

static long ms_left(const struct timespec *deadline)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (deadline->tv_sec - now.tv_sec) * 1000 + (deadline->tv_nsec - now.tv_nsec) / 1000000;
}

/* Waits until fd is ready for events; 0, or -1 with errno (ETIMEDOUT). */
static int wait_fd(int fd, short events, const struct timespec *deadline)
{
    for (;;) {
        long left = ms_left(deadline);
        if (left <= 0) {
            errno = ETIMEDOUT;
            return -1;
        }
        struct pollfd p = {fd, events, 0};
        int n = poll(&p, 1, (int)left);
        if (n > 0)
            return 0;
        if (n < 0 && errno != EINTR)
            return -1;
    }
}

/* POST /api/v1/PATH with body to the daemon; *status and the answer's body
 * into answer. 0, or -1 with a message in why (malloc'd). */
static int post(const follow_target *f, const char *path, const char *body, int *status,
                shelf_buf *answer, char **why)
{
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    if (strlen(f->socket) >= sizeof sa.sun_path) {
        *why = strdup("the socket path is too long");
        return -1;
    }
    memcpy(sa.sun_path, f->socket, strlen(f->socket) + 1);
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += FOLLOW_TIMEOUT_MS / 1000;

    shelf_buf req;
    shelf_buf_init(&req);
    shelf_buf_addf(&req,
                   "POST /api/v1/%s HTTP/1.1\r\nHost: localhost\r\nX-Shelf-Client: %s\r\n"
                   "Content-Type: application/json\r\nContent-Length: %zu\r\n"
                   "Connection: close\r\n\r\n%s",
                   path, f->client, strlen(body), body);
    if (shelf_buf_ok(&req) != 0) {
        shelf_buf_free(&req);
        *why = strdup("out of memory");
        return -1;
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    int rc = fd < 0 ? -1 : connect(fd, (struct sockaddr *)&sa, sizeof sa);
    if (rc < 0 && fd >= 0 && (errno == EINPROGRESS || errno == EAGAIN)) {
        int soerr = 0;
        socklen_t len = sizeof soerr;
        rc = wait_fd(fd, POLLOUT, &deadline);
        if (rc == 0 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == 0 && soerr) {
            errno = soerr;
            rc = -1;
        }
    }
    const char *stage = "cannot connect";
    for (size_t off = 0; rc == 0 && off < req.len;) {
        ssize_t n = send(fd, req.data + off, req.len - off, MSG_NOSIGNAL);
        if (n > 0)
            off += (size_t)n;
        else if (n < 0 && errno == EINTR)
            continue;
        else if (n < 0 && errno == EAGAIN)
            rc = wait_fd(fd, POLLOUT, &deadline);
        else
            rc = -1;
        stage = "cannot send the request";
    }
    shelf_buf_free(&req);
    shelf_buf raw;
    shelf_buf_init(&raw);
    while (rc == 0) {
        char chunk[4096];
        ssize_t n = recv(fd, chunk, sizeof chunk, 0);
        if (n > 0)
            shelf_buf_add(&raw, chunk, (size_t)n);
        else if (n == 0)
            break;
        else if (errno == EINTR)
            continue;
        else if (errno == EAGAIN)
            rc = wait_fd(fd, POLLIN, &deadline);
        else
            rc = -1;
        stage = errno == ETIMEDOUT ? "no answer in time" : "cannot read the answer";
    }
    int saved = errno;
    if (fd >= 0)
        close(fd);
    if (rc < 0) {
        shelf_buf_free(&raw);
        shelf_buf msg;
        shelf_buf_init(&msg);
        shelf_buf_addf(&msg, "%s: %s", stage, saved == ETIMEDOUT ? "timed out" : strerror(saved));
        *why = shelf_buf_ok(&msg) == 0 ? msg.data : NULL;
        if (!*why)
            shelf_buf_free(&msg);
        return -1;
    }
    if (shelf_buf_ok(&raw) != 0) {
        shelf_buf_free(&raw);
        *why = strdup("out of memory");
        return -1;
    }
    const char *head_end = raw.data ? strstr(raw.data, "\r\n\r\n") : NULL;
    if (!head_end || sscanf(raw.data, "HTTP/1.%*d %d", status) != 1) {
        shelf_buf_free(&raw);
        *why = strdup("the answer is not HTTP");
        return -1;
    }
    shelf_buf_adds(answer, head_end + 4);
    shelf_buf_free(&raw);
    if (shelf_buf_ok(answer) != 0) {
        *why = strdup("out of memory");
        return -1;
    }
    return 0;
}

/* Sends {"modules": names} to PATH; prints a warning when that fails. */
static void send_names(const follow_target *f, const char *path, const shelf_strv *names,
                       const cli_opts *o)
{
    if (names->n == 0)
        return;
    cJSON *doc = cJSON_CreateObject();
    cJSON *a = doc ? cJSON_AddArrayToObject(doc, "modules") : NULL;
    int ok = a != NULL;
    for (size_t i = 0; ok && i < names->n; i++) {
        cJSON *s = cJSON_CreateString(names->v[i]);
        ok = s && cJSON_AddItemToArray(a, s);
        if (!ok)
            cJSON_Delete(s);
    }
    char *body = ok ? shelf_json_text(doc, 0) : NULL;
    cJSON_Delete(doc);
    char *why = NULL;
    int status = 0;
    shelf_buf answer;
    shelf_buf_init(&answer);
    if (!body)
        why = strdup("out of memory");
    else if (post(f, path, body, &status, &answer, &why) == 0 && status != 200) {
        /* The daemon's error document says why. */
        cJSON *err = shelf_json_parse(answer.data ? answer.data : "", answer.len, NULL);
        cJSON *e = cJSON_GetObjectItemCaseSensitive(err, "error");
        cJSON *m = cJSON_GetObjectItemCaseSensitive(e, "message");
        shelf_buf msg;
        shelf_buf_init(&msg);
        shelf_buf_addf(&msg, "%d %s", status,
                       cJSON_IsString(m) ? m->valuestring : "(no message)");
        why = shelf_buf_ok(&msg) == 0 ? msg.data : strdup("out of memory");
        if (why != msg.data)
            shelf_buf_free(&msg);
        cJSON_Delete(err);
    }
    if (!o->quiet && (why || !body)) {
        fprintf(stderr, "shelf: warning: the shared context \"%s\" (shelfd at %s) did not %s ",
                f->client, f->socket, path);
        for (size_t i = 0; i < names->n; i++)
            fprintf(stderr, "%s%s", i ? " " : "", names->v[i]);
        fprintf(stderr, ": %s\n", why ? why : "out of memory");
    }
    free(why);
    free(body);
    shelf_buf_free(&answer);
}

int cli_following(const cli_opts *o)
{
    const char *socket = getenv("SHELF_CONTEXT_SOCKET");
    return socket && *socket && is_shell(o->shell);
}

void cli_follow(const shelf_result *res, const cli_opts *o)
{
    follow_target f = {getenv("SHELF_CONTEXT_SOCKET"), getenv("SHELF_CONTEXT_CLIENT")};
    if (!cli_following(o))
        return;
    if (!f.client || !*f.client)
        f.client = "default";
    const shelf_state *before = &res->before, *after = &res->after;
    shelf_strv unload, load;
    shelf_strv_init(&unload);
    shelf_strv_init(&load);
    int ok = 1;
    for (size_t i = before->n; ok && i-- > 0;) { /* last loaded first */
        const shelf_loaded *d = &before->mods[i];
        if (!d->file || !d->fullname || find_file(after, d->file))
            continue;
        if (d->user_loaded || needers_stayed(d, after))
            ok = shelf_strv_push(&unload, d->fullname) == 0;
    }
    for (size_t i = 0; ok && i < after->n; i++) {
        const shelf_loaded *m = &after->mods[i];
        const shelf_loaded *d = m->file ? find_file(before, m->file) : NULL;
        if (m->user_loaded && m->fullname && (!d || !d->user_loaded))
            ok = shelf_strv_push(&load, m->fullname) == 0;
    }
    if (!ok) {
        if (!o->quiet)
            fprintf(stderr, "shelf: warning: out of memory; the shared context will not follow\n");
    } else {
        send_names(&f, "unload", &unload, o);
        send_names(&f, "load", &load, o);
    }
    shelf_strv_free(&unload);
    shelf_strv_free(&load);
}
