/*
 * server.c -- shelfd's HTTP side: listening sockets, libmicrohttpd, the
 * event stream, the log (see server.h).
 *
 * libmicrohttpd runs one thread per connection (plus the one that accepts),
 * so a request that is slow in api_handle, a slow client or an event
 * stream blocked on the bus holds only its own thread. Each request gets a
 * req_ctx on the first call of the access handler, where everything that
 * can be decided from the headers is: peer uid, token, path, client id,
 * Content-Length. The body is then collected up to max_body, and the last
 * call (no more upload data) answers, from api_handle or the event bus.
 *
 * The path and query values MHD hands over are decoded by unescape() below,
 * which turns every control byte -- raw or %-encoded, %00 included -- into
 * DEL (0x7f): a decoded string then never holds a NUL that would cut it
 * short, and one test for 0x00-0x1f/0x7f rejects them all with 400.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cJSON.h>
#include <microhttpd.h>

#include "server.h"
#include "shelf.h"

#define CONNECTION_TIMEOUT_S 30
#define CONNECTION_LIMIT 4096
#define CONNECTION_MEMORY (64 * 1024)
#define THREAD_STACK (512 * 1024)
#define KEEPALIVE_MS 15000
#define CLIENT_MAX 128

/* printf into a new string; NULL on OOM. */
static char *fmt_str(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *fmt_str(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0)
        s = NULL;
    va_end(ap);
    return s;
}

/* ---- the log ------------------------------------------------------------- */

static struct {
    pthread_mutex_t lock;
    FILE *f;
    char *path; /* NULL: f is stderr (or there is no log) */
} logst = {PTHREAD_MUTEX_INITIALIZER, NULL, NULL};

static FILE *log_file_open(const char *path, char **why)
{
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0600);
    FILE *f = fd < 0 ? NULL : fdopen(fd, "a");
    if (!f) {
        *why = fmt_str("cannot open log %s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    setvbuf(f, NULL, _IOLBF, 0);
    return f;
}

int server_log_open(const char *path, int to_stderr, char **why)
{
    FILE *f = NULL;
    char *copy = NULL;
    if (path) {
        if (!(copy = strdup(path))) {
            *why = NULL;
            return -1;
        }
        if (!(f = log_file_open(path, why))) {
            free(copy);
            return -1;
        }
    } else if (to_stderr) {
        f = stderr;
    }
    pthread_mutex_lock(&logst.lock);
    if (logst.f && logst.f != stderr)
        fclose(logst.f);
    free(logst.path);
    logst.f = f;
    logst.path = copy;
    pthread_mutex_unlock(&logst.lock);
    return 0;
}

int server_log_reopen(char **why)
{
    pthread_mutex_lock(&logst.lock);
    int rc = 0;
    if (logst.path) {
        FILE *f = log_file_open(logst.path, why);
        if (f) {
            fclose(logst.f);
            logst.f = f;
        } else {
            rc = -1;
        }
    }
    pthread_mutex_unlock(&logst.lock);
    return rc;
}

void server_log_close(void)
{
    pthread_mutex_lock(&logst.lock);
    if (logst.f && logst.f != stderr)
        fclose(logst.f);
    free(logst.path);
    logst.f = NULL;
    logst.path = NULL;
    pthread_mutex_unlock(&logst.lock);
}

static int log_enabled(void)
{
    pthread_mutex_lock(&logst.lock);
    int on = logst.f != NULL;
    pthread_mutex_unlock(&logst.lock);
    return on;
}

static void log_v(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));
static void log_v(const char *fmt, va_list ap)
{
    pthread_mutex_lock(&logst.lock);
    if (logst.f) {
        struct timespec ts;
        struct tm tm;
        clock_gettime(CLOCK_REALTIME, &ts);
        gmtime_r(&ts.tv_sec, &tm);
        char stamp[40];
        strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
        fprintf(logst.f, "%s.%03ldZ shelfd: ", stamp, ts.tv_nsec / 1000000L);
        vfprintf(logst.f, fmt, ap);
        size_t n = strlen(fmt);
        if (n == 0 || fmt[n - 1] != '\n')
            fputc('\n', logst.f);
        fflush(logst.f);
    }
    pthread_mutex_unlock(&logst.lock);
}

void server_log(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_v(fmt, ap);
    va_end(ap);
}

static void mhd_logger(void *cls, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
static void mhd_logger(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    log_v(fmt, ap);
}

/* ---- listening sockets ------------------------------------------------- */

int server_listen_unix(const char *path, int *busy, long *pid, char **why)
{
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    *busy = 0;
    *pid = 0;
    if (strlen(path) >= sizeof sa.sun_path) {
        *why = fmt_str("socket path %s is too long (%zu bytes; at most %zu)", path, strlen(path),
                       sizeof sa.sun_path - 1);
        return -1;
    }
    memcpy(sa.sun_path, path, strlen(path) + 1);
    struct stat st;
    if (lstat(path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) {
            *why = fmt_str("%s exists and is not a socket; not replacing it", path);
            return -1;
        }
        int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (probe < 0) {
            *why = fmt_str("socket: %s", strerror(errno));
            return -1;
        }
        if (connect(probe, (struct sockaddr *)&sa, sizeof sa) == 0) {
            struct ucred cred;
            socklen_t cl = sizeof cred;
            if (getsockopt(probe, SOL_SOCKET, SO_PEERCRED, &cred, &cl) == 0)
                *pid = cred.pid;
            close(probe);
            *busy = 1;
            *why = *pid ? fmt_str("shelfd is already running (pid %ld) on %s", *pid, path)
                        : fmt_str("shelfd is already running on %s", path);
            return -1;
        }
        int e = errno;
        close(probe);
        if (e != ECONNREFUSED && e != ENOENT) {
            *why = fmt_str("cannot probe %s: %s", path, strerror(e));
            return -1;
        }
        /* Nothing listens: the socket of a daemon that was killed. */
        if (unlink(path) < 0 && errno != ENOENT) {
            *why = fmt_str("cannot remove stale socket %s: %s", path, strerror(errno));
            return -1;
        }
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        *why = fmt_str("socket: %s", strerror(errno));
        return -1;
    }
    /* Bound under umask 077, the socket is never reachable by others, not
     * even between bind and chmod. */
    mode_t old = umask(077);
    int rc = bind(fd, (struct sockaddr *)&sa, sizeof sa);
    int e = errno;
    umask(old);
    if (rc < 0) {
        *why = fmt_str("cannot bind %s: %s", path, strerror(e));
        close(fd);
        return -1;
    }
    if (chmod(path, 0600) < 0 || listen(fd, SOMAXCONN) < 0) {
        *why = fmt_str("cannot listen on %s: %s", path, strerror(errno));
        close(fd);
        unlink(path);
        return -1;
    }
    return fd;
}

int server_parse_listen(const char *spec, char **host, unsigned *port, int *loopback,
                        char **why)
{
    *host = NULL;
    const char *colon, *h = spec;
    size_t hlen;
    if (spec[0] == '[') {
        const char *end = strchr(spec, ']');
        if (!end || end[1] != ':') {
            *why = fmt_str("--listen %s: expected [IPV6]:PORT", spec);
            return -1;
        }
        h = spec + 1;
        hlen = (size_t)(end - h);
        colon = end + 1;
    } else {
        colon = strrchr(spec, ':');
        if (!colon || strchr(spec, ':') != colon) {
            *why = fmt_str("--listen %s: expected ADDR:PORT (IPv6 as [ADDR]:PORT)", spec);
            return -1;
        }
        hlen = (size_t)(colon - spec);
    }
    const char *p = colon + 1;
    char *end = NULL;
    errno = 0;
    unsigned long v = *p >= '0' && *p <= '9' ? strtoul(p, &end, 10) : 0;
    if (!end || *end || errno || v > 65535) {
        *why = fmt_str("--listen %s: the port must be a number from 0 to 65535", spec);
        return -1;
    }
    *port = (unsigned)v;
    char *name = strndup(h, hlen);
    if (!name) {
        *why = NULL;
        return -1;
    }
    if (strcmp(name, "localhost") == 0) {
        free(name);
        if (!(name = strdup("127.0.0.1"))) {
            *why = NULL;
            return -1;
        }
    }
    unsigned char addr[16];
    if (inet_pton(AF_INET, name, addr) == 1) {
        *loopback = addr[0] == 127;
    } else if (inet_pton(AF_INET6, name, addr) == 1) {
        *loopback = memcmp(addr, in6addr_loopback.s6_addr, 16) == 0;
    } else {
        *why = fmt_str("--listen %s: \"%s\" is not an IP address (use 127.0.0.1, [::1] or "
                       "localhost)", spec, name);
        free(name);
        return -1;
    }
    *host = name;
    return 0;
}

int server_listen_tcp(const char *host, unsigned port, char **url, char **why)
{
    struct addrinfo hints, *ai = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
    hints.ai_socktype = SOCK_STREAM;
    char portstr[16];
    snprintf(portstr, sizeof portstr, "%u", port);
    int rc = getaddrinfo(host, portstr, &hints, &ai);
    if (rc != 0) {
        *why = fmt_str("%s: %s", host, gai_strerror(rc));
        return -1;
    }
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    int one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
        (ai->ai_family == AF_INET6 &&
         setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) < 0) ||
        bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, SOMAXCONN) < 0) {
        *why = fmt_str("cannot listen on %s port %u: %s", host, port, strerror(errno));
        if (fd >= 0)
            close(fd);
        freeaddrinfo(ai);
        return -1;
    }
    int family = ai->ai_family;
    freeaddrinfo(ai);
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) < 0) {
        *why = fmt_str("getsockname: %s", strerror(errno));
        close(fd);
        return -1;
    }
    unsigned bound = ntohs(family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                              : ((struct sockaddr_in *)&ss)->sin_port);
    *url = family == AF_INET6 ? fmt_str("http://[%s]:%u", host, bound)
                              : fmt_str("http://%s:%u", host, bound);
    if (!*url) {
        *why = NULL;
        close(fd);
        return -1;
    }
    return fd;
}

/* ---- the HTTP server --------------------------------------------------- */

struct server {
    struct MHD_Daemon *mhd;
    int fd;
    int unix_socket;
    char *token;
    size_t max_body;
    api_state *api;
    events *bus;
    int limit_active;
    sem_t active; /* slots for api_handle when limit_active */
};

/* One request, from its first handler call to MHD's completion notice. */
typedef struct req_ctx {
    char *body;
    size_t len, cap;
    size_t discarded;   /* body bytes dropped after the limit was crossed */
    int too_large;
    int status;         /* the status sent, for the log */
    char *method, *path; /* copies for the log (only when there is a log) */
    char *client;
    struct timespec start;
} req_ctx;

/* The event stream of one connection. */
typedef struct stream_ctx {
    events_sub *sub;
    char *msg;     /* the message being sent */
    size_t len, off;
    int greeted;
} stream_ctx;

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decodes %XX in place, mapping every control byte to DEL (see the top). */
static size_t unescape(void *cls, struct MHD_Connection *c, char *s)
{
    (void)cls;
    (void)c;
    char *w = s;
    for (const char *r = s; *r; r++) {
        unsigned char ch = (unsigned char)*r;
        int hi, lo;
        if (ch == '%' && (hi = hexval(r[1])) >= 0 && (lo = hexval(r[2])) >= 0) {
            ch = (unsigned char)(hi * 16 + lo);
            r += 2;
        }
        *w++ = (char)(ch < 0x20 || ch == 0x7f ? 0x7f : ch);
    }
    *w = 0;
    return (size_t)(w - s);
}

static int has_control(const char *s)
{
    for (; s && *s; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s == 0x7f)
            return 1;
    return 0;
}

static int client_valid(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > CLIENT_MAX)
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              strchr("._:@-", *s)))
            return 0;
    return 1;
}

static enum MHD_Result send_body(struct MHD_Connection *c, req_ctx *r, int status,
                                 const char *body, size_t len, const char *allow,
                                 int unauthorized)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, "Content-Type", "application/json");
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    if (allow)
        MHD_add_response_header(resp, "Allow", allow);
    if (unauthorized)
        MHD_add_response_header(resp, "WWW-Authenticate", "Bearer realm=\"shelfd\"");
    enum MHD_Result rc = MHD_queue_response(c, (unsigned)status, resp);
    MHD_destroy_response(resp);
    r->status = status;
    return rc;
}

/* Answers {"error": {...}} with status. */
static enum MHD_Result send_error(struct MHD_Connection *c, req_ctx *r, int status,
                                  const char *code, const char *message, const char *allow)
{
    cJSON *root = shelf_json_error(code, message, NULL, NULL, 0);
    char *text = root ? shelf_json_text(root, 0) : NULL;
    cJSON_Delete(root);
    if (!text) {
        static const char oom[] = "{\"error\": {\"code\": \"internal\", \"message\": \"out of "
                                  "memory\", \"module\": null, \"file\": null, \"line\": null}}";
        return send_body(c, r, 500, oom, sizeof oom - 1, NULL, 0);
    }
    enum MHD_Result rc = send_body(c, r, status, text, strlen(text), allow, status == 401);
    free(text);
    return rc;
}

static int peer_uid_ok(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (!ci)
        return 0;
    struct ucred cred;
    socklen_t cl = sizeof cred;
    if (getsockopt(ci->connect_fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) < 0)
        return 0;
    return cred.uid == geteuid();
}

/* Compares in time that depends only on the lengths. */
static int token_equal(const char *given, size_t glen, const char *want)
{
    size_t wlen = strlen(want);
    unsigned char diff = glen != wlen;
    for (size_t i = 0; i < wlen; i++)
        diff |= (unsigned char)(want[i] ^ (i < glen ? given[i] : 0));
    return diff == 0;
}

static int token_ok(const server *s, struct MHD_Connection *c)
{
    const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    if (!h || strncasecmp(h, "Bearer ", 7) != 0)
        return 0;
    h += 7;
    while (*h == ' ')
        h++;
    size_t n = strlen(h);
    while (n && h[n - 1] == ' ')
        n--;
    return token_equal(h, n, s->token);
}

static enum MHD_Result query_ok(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    (void)kind;
    int *bad = cls;
    if (has_control(key) || has_control(value)) {
        *bad = 1;
        return MHD_NO;
    }
    return MHD_YES;
}

typedef struct query_list {
    const char **keys, **vals;
    size_t n, cap;
    int oom;
} query_list;

static enum MHD_Result query_add(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    (void)kind;
    query_list *q = cls;
    /* two arrays of one capacity: both grow to the same one */
    size_t kcap = q->cap, vcap = q->cap;
    if (SHELF_GROW(q->keys, kcap, q->n + 1) < 0 || SHELF_GROW(q->vals, vcap, q->n + 1) < 0) {
        q->oom = 1;
        return MHD_NO;
    }
    q->cap = vcap;
    q->keys[q->n] = key;
    q->vals[q->n] = value ? value : "";
    q->n++;
    return MHD_YES;
}

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    stream_ctx *st = cls;
    if (!st->greeted) {
        /* Tells the client it is subscribed: what it publishes from now on
         * is seen. A comment, so EventSource ignores it. */
        static const char hello[] = "retry: 3000\n: connected\n\n";
        st->greeted = 1;
        size_t n = sizeof hello - 1 < max ? sizeof hello - 1 : max;
        memcpy(buf, hello, n);
        return (ssize_t)n;
    }
    if (st->off == st->len) {
        free(st->msg);
        st->msg = NULL;
        st->len = st->off = 0;
        char *msg;
        size_t len;
        int rc = events_next(st->sub, KEEPALIVE_MS, &msg, &len);
        if (rc == 0)
            return MHD_CONTENT_READER_END_OF_STREAM;
        if (rc < 0)
            return MHD_CONTENT_READER_END_WITH_ERROR;
        if (rc == 2) {
            static const char ka[] = ": keep-alive\n\n";
            memcpy(buf, ka, sizeof ka - 1 < max ? sizeof ka - 1 : max);
            return (ssize_t)(sizeof ka - 1 < max ? sizeof ka - 1 : max);
        }
        st->msg = msg;
        st->len = len;
    }
    size_t n = st->len - st->off < max ? st->len - st->off : max;
    memcpy(buf, st->msg + st->off, n);
    st->off += n;
    return (ssize_t)n;
}

static void stream_free(void *cls)
{
    stream_ctx *st = cls;
    events_unsubscribe(st->sub);
    free(st->msg);
    free(st);
}

static enum MHD_Result serve_events(server *s, struct MHD_Connection *c, req_ctx *r)
{
    const char *client = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "client");
    if (!client)
        client = r->client;
    if (!client_valid(client))
        return send_error(c, r, 400, "bad_request",
                          "client: 1 to 128 characters of A-Z a-z 0-9 . _ : @ -", NULL);
    stream_ctx *st = calloc(1, sizeof *st);
    if (!st || !(st->sub = events_subscribe(s->bus, client))) {
        free(st);
        return send_error(c, r, 500, "internal", "out of memory", NULL);
    }
    struct MHD_Response *resp =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, stream_read, st, stream_free);
    if (!resp) {
        stream_free(st);
        return MHD_NO;
    }
    MHD_add_response_header(resp, "Content-Type", "text/event-stream");
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    MHD_add_response_header(resp, "X-Accel-Buffering", "no");
    enum MHD_Result rc = MHD_queue_response(c, MHD_HTTP_OK, resp);
    MHD_destroy_response(resp);
    r->status = 200;
    return rc;
}

static enum MHD_Result serve_api(server *s, struct MHD_Connection *c, req_ctx *r,
                                 const char *method, const char *url)
{
    query_list q = {0};
    MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, query_add, &q);
    if (q.oom) {
        free(q.keys);
        free(q.vals);
        return send_error(c, r, 500, "internal", "out of memory", NULL);
    }
    api_request req = {
        .method = method,
        .path = url,
        .client = r->client,
        .qkeys = q.keys,
        .qvals = q.vals,
        .nquery = q.n,
        .body = r->body,
        .body_len = r->len,
    };
    api_response resp = {0};
    if (s->limit_active)
        while (sem_wait(&s->active) < 0 && errno == EINTR)
            ;
    api_handle(s->api, &req, &resp);
    if (s->limit_active)
        sem_post(&s->active);
    free(q.keys);
    free(q.vals);
    enum MHD_Result rc;
    if (resp.body)
        rc = send_body(c, r, resp.status, resp.body, resp.len, resp.allow, 0);
    else
        rc = send_error(c, r, 500, "internal", "the API gave no answer", NULL);
    api_response_free(&resp);
    return rc;
}

/* What the headers alone decide: the first call of the access handler. */
static enum MHD_Result check_headers(server *s, struct MHD_Connection *c, req_ctx *r,
                                     const char *url)
{
    if (s->unix_socket && !peer_uid_ok(c))
        return send_error(c, r, 403, "forbidden",
                          "this daemon serves only the user it runs as", NULL);
    if (!s->unix_socket && !token_ok(s, c))
        return send_error(c, r, 401, "unauthorized",
                          "missing or wrong token: send \"Authorization: Bearer TOKEN\" with "
                          "the token from the daemon's token file", NULL);
    int bad = 0;
    MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, query_ok, &bad);
    if (bad || has_control(url))
        return send_error(c, r, 400, "bad_request",
                          "the path or the query holds a NUL or control character", NULL);
    const char *client = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Shelf-Client");
    if (client && !client_valid(client))
        return send_error(c, r, 400, "bad_request",
                          "X-Shelf-Client: 1 to 128 characters of A-Z a-z 0-9 . _ : @ -", NULL);
    if (!(r->client = strdup(client ? client : "default")))
        return send_error(c, r, 500, "internal", "out of memory", NULL);
    const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
    if (cl) {
        char *end;
        errno = 0;
        unsigned long long n = strtoull(cl, &end, 10);
        if (errno || *end || n > s->max_body) {
            char msg[96];
            snprintf(msg, sizeof msg, "the request body is larger than %zu bytes", s->max_body);
            return send_error(c, r, 413, "payload_too_large", msg, NULL);
        }
    }
    return MHD_YES;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    (void)version;
    server *s = cls;
    req_ctx *r = *con_cls;
    if (!r) {
        if (!(r = calloc(1, sizeof *r)))
            return MHD_NO;
        *con_cls = r;
        clock_gettime(CLOCK_MONOTONIC, &r->start);
        if (log_enabled()) {
            r->method = strdup(method);
            r->path = strdup(url);
        }
        return check_headers(s, c, r, url);
    }
    if (r->status) /* answered from the headers; MHD drops what follows */
        return MHD_YES;
    if (*upload_data_size) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (r->too_large || n > s->max_body - r->len) {
            /* A chunked body over the limit: its end is waited for (to
             * answer 413), but not past another max_body bytes. */
            r->too_large = 1;
            free(r->body);
            r->body = NULL;
            r->discarded += n;
            if (r->discarded <= s->max_body)
                return MHD_YES;
            server_log("a chunked request body went far over %zu bytes: connection closed",
                       s->max_body);
            return MHD_NO;
        }
        if (SHELF_GROW(r->body, r->cap, r->len + n) < 0)
            return MHD_NO;
        memcpy(r->body + r->len, upload_data, n);
        r->len += n;
        return MHD_YES;
    }
    if (r->too_large) {
        char msg[96];
        snprintf(msg, sizeof msg, "the request body is larger than %zu bytes", s->max_body);
        return send_error(c, r, 413, "payload_too_large", msg, NULL);
    }
    if (strcmp(url, "/api/v1/events") == 0) {
        if (strcmp(method, "GET") != 0)
            return send_error(c, r, 405, "method_not_allowed",
                              "/api/v1/events takes GET only", "GET");
        return serve_events(s, c, r);
    }
    return serve_api(s, c, r, method, url);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode why)
{
    (void)cls;
    (void)c;
    req_ctx *r = *con_cls;
    if (!r)
        return;
    if (r->method) {
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        double ms = (double)(now.tv_sec - r->start.tv_sec) * 1e3 +
                    (double)(now.tv_nsec - r->start.tv_nsec) / 1e6;
        static const char *const ends[] = {"", " (error)", " (timeout)", " (shutdown)",
                                           " (read error)", " (client gone)"};
        server_log("%s %s %d %.1fms client=%s%s", r->method, r->path ? r->path : "?", r->status,
                   ms, r->client ? r->client : "-",
                   (unsigned)why < sizeof ends / sizeof *ends ? ends[why] : " (?)");
    }
    free(r->method);
    free(r->path);
    free(r->client);
    free(r->body);
    free(r);
    *con_cls = NULL;
}

server *server_start(const server_config *cfg, char **why)
{
    *why = NULL;
    server *s = calloc(1, sizeof *s);
    if (!s || (cfg->token && !(s->token = strdup(cfg->token)))) {
        free(s);
        close(cfg->fd);
        return NULL;
    }
    if (!cfg->unix_socket && !s->token) {
        *why = fmt_str("a TCP listener needs a token");
        free(s);
        close(cfg->fd);
        return NULL;
    }
    s->fd = cfg->fd;
    s->unix_socket = cfg->unix_socket;
    s->max_body = cfg->max_body;
    s->api = cfg->api;
    s->bus = cfg->bus;
    if (cfg->max_active) {
        if (sem_init(&s->active, 0, cfg->max_active) < 0) {
            *why = fmt_str("sem_init: %s", strerror(errno));
            free(s->token);
            free(s);
            close(cfg->fd);
            return NULL;
        }
        s->limit_active = 1;
    }
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
                     MHD_USE_POLL | MHD_USE_ITC | MHD_USE_ERROR_LOG;
    s->mhd = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, s,
        MHD_OPTION_EXTERNAL_LOGGER, mhd_logger, NULL,
        MHD_OPTION_LISTEN_SOCKET, (MHD_socket)s->fd,
        MHD_OPTION_THREAD_STACK_SIZE, (size_t)THREAD_STACK,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)CONNECTION_TIMEOUT_S,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)CONNECTION_LIMIT,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONNECTION_MEMORY,
        MHD_OPTION_UNESCAPE_CALLBACK, unescape, NULL,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
        MHD_OPTION_END);
    if (!s->mhd) {
        *why = fmt_str("libmicrohttpd could not start");
        if (s->limit_active)
            sem_destroy(&s->active);
        free(s->token);
        free(s);
        close(cfg->fd);
        return NULL;
    }
    return s;
}

void server_quiesce(server *s)
{
    if (!s || s->fd < 0)
        return;
    MHD_socket fd = MHD_quiesce_daemon(s->mhd);
    if (fd != MHD_INVALID_SOCKET)
        close(fd);
    s->fd = -1;
}

void server_stop(server *s)
{
    if (!s)
        return;
    server_quiesce(s);
    MHD_stop_daemon(s->mhd);
    if (s->limit_active)
        sem_destroy(&s->active);
    if (s->token)
        explicit_bzero(s->token, strlen(s->token));
    free(s->token);
    free(s);
}
