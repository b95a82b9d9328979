/*
 * local.c -- the local backend: the profile's notebook server as a child
 * process of the current user, on a free loopback port with a fresh
 * random token, the module tree shown read-only at the profile's mount
 * path, and the collection restored in its environment by the same start
 * script the pods run (render.c).
 *
 * The read-only view is made with bubblewrap: the sandbox's root is
 * bwrap's own tmpfs, into which every entry of the host's / is bound as it
 * is, except along the mount path, where the directories are recreated
 * (in that tmpfs) and filled with their host entries one level at a time;
 * the tree is bound read-only at the end of that path. So a mount path that
 * does not exist on the host is never created there. Without bwrap (or
 * with --no-sandbox) the server runs in a plain environment with
 * MODULEPATH pointing at the tree's real path, and says so.
 *
 * State: one NAME.json per server (pid, process start time, port, URL,
 * token, log) and NAME.log (the server's output) in
 * $XDG_RUNTIME_DIR/shelf/launch, else $TMPDIR/shelf-launch-UID, a
 * directory of mode 0700 that must belong to the user. The server runs in
 * its own session (process group = its pid); stop sends SIGTERM to the
 * group and waits, then SIGKILL after STOP_WAIT_MS.
 */
#include "config.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <uv.h>

#include "launch.h"
#include "shelf.h"

extern char **environ;

#define BWRAP "/usr/bin/bwrap"
#define POLL_MS 150
#define STOP_WAIT_MS 10000

/* ---- the state directory ------------------------------------------------ */

/* The state directory, created (0700) when create; NULL with a message
 * when it cannot be used. */
static char *state_dir(int create)
{
    char *rt = NULL;
    if (shelf_xdg_dir(environ, SHELF_XDG_RUNTIME, &rt) == SHELF_ENOMEM)
        launch_oom();
    char *dir;
    if (rt) {
        dir = xfmt("%s/shelf/launch", rt);
        free(rt);
    } else {
        const char *tmp = getenv("TMPDIR");
        dir = xfmt("%s/shelf-launch-%lu", tmp && tmp[0] == '/' ? tmp : "/tmp",
                   (unsigned long)getuid());
    }
    shelf_error err = {0};
    if (create && shelf_mkdir_p(dir, 0700, SHELF_MKDIR_NOFOLLOW, &err) < 0) {
        if (err.code == SHELF_ENOMEM)
            launch_oom();
        launch_error("%s", err.message);
        shelf_error_clear(&err);
        free(dir);
        return NULL;
    }
    struct stat st;
    if (lstat(dir, &st) < 0) {
        if (errno != ENOENT || create)
            launch_error("cannot use %s: %s", dir, strerror(errno));
        free(dir);
        return NULL;
    }
    if (!S_ISDIR(st.st_mode) || st.st_uid != getuid() || (st.st_mode & 077)) {
        launch_error("%s is not a private directory of this user (mode 0700); remove it", dir);
        free(dir);
        return NULL;
    }
    return dir;
}

/* Field 22 of /proc/PID/stat (start time), or NULL; "Z" as state -> NULL. */
static char *proc_start(long pid)
{
    char *path = xfmt("/proc/%ld/stat", pid);
    char *text = launch_read_text(path, NULL, NULL);
    free(path);
    if (!text)
        return NULL;
    char *p = strrchr(text, ')'), *out = NULL;
    if (p && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X') {
        /* after ") ": field 3 is the state; field 22 is 19 further */
        p += 2;
        for (int field = 3; field < 22 && p; field++) {
            p = strchr(p, ' ');
            if (p)
                p++;
        }
        if (p) {
            size_t len = strcspn(p, " ");
            out = xmalloc(len + 1);
            memcpy(out, p, len);
            out[len] = '\0';
        }
    }
    free(text);
    return out;
}

/* The server of a state document is still the process that was started. */
static int state_alive(const cJSON *st)
{
    const cJSON *pid = cJSON_GetObjectItemCaseSensitive(st, "pid");
    const char *start = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(st, "start"));
    if (!cJSON_IsNumber(pid) || !start)
        return 0;
    char *now = proc_start((long)pid->valuedouble);
    int alive = now && strcmp(now, start) == 0;
    free(now);
    return alive;
}

static cJSON *state_read(const char *path)
{
    char *text = launch_read_text(path, NULL, NULL);
    cJSON *j = text ? shelf_json_parse(text, strlen(text), NULL) : NULL;
    free(text);
    return j;
}

static int state_write(const char *path, const cJSON *st)
{
    char *text = shelf_json_text(st, 1);
    if (!text)
        launch_oom();
    shelf_error err = {0};
    int rc = shelf_write_atomic(path, text, strlen(text), 0600, &err);
    if (rc == SHELF_ENOMEM)
        launch_oom();
    if (rc < 0) {
        launch_error("%s", err.message);
        shelf_error_clear(&err);
    }
    free(text);
    return rc;
}

/* ---- the sandbox -------------------------------------------------------- */

static void replicate(shelf_strv *av, const char *path)
{
    struct stat st;
    if (lstat(path, &st) < 0)
        return;
    if (S_ISLNK(st.st_mode)) {
        char *target = NULL;
        for (size_t cap = 256;; cap *= 2) {
            target = xmalloc(cap);
            ssize_t n = readlink(path, target, cap);
            if (n < 0) {
                free(target);
                return;
            }
            if ((size_t)n < cap) {
                target[n] = '\0';
                break;
            }
            free(target);
        }
        xpush(av, "--symlink");
        xpush(av, target);
        xpush(av, path);
        free(target);
        return;
    }
    xpush(av, "--dev-bind");
    xpush(av, path);
    xpush(av, path);
}

/* bwrap's arguments showing the host as it is, with `tree` read-only at
 * `mount` (absolute, normalised: no "." or ".." parts). */
static void bwrap_argv(shelf_strv *av, const char *tree, const char *mount)
{
    xpush(av, BWRAP);
    char *dir = xstrdup("/");
    const char *rest = mount;
    while (*rest == '/')
        rest++;
    for (;;) {
        size_t clen = strcspn(rest, "/");
        char *comp = xmalloc(clen + 1);
        memcpy(comp, rest, clen);
        comp[clen] = '\0';
        DIR *d = opendir(dir);
        struct dirent *e;
        while (d && (e = readdir(d))) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0 ||
                strcmp(e->d_name, comp) == 0)
                continue;
            char *p = xfmt("%s%s%s", dir, strcmp(dir, "/") == 0 ? "" : "/", e->d_name);
            replicate(av, p);
            free(p);
        }
        if (d)
            closedir(d);
        char *next = xfmt("%s%s%s", dir, strcmp(dir, "/") == 0 ? "" : "/", comp);
        free(comp);
        free(dir);
        dir = next;
        rest += clen;
        while (*rest == '/')
            rest++;
        struct stat st;
        if (!*rest || lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
            break;
        xpush(av, "--dir");
        xpush(av, dir);
    }
    free(dir);
    xpush(av, "--ro-bind");
    xpush(av, tree);
    xpush(av, mount);
}

static int bwrap_works(void)
{
    if (access(BWRAP, X_OK) < 0)
        return 0;
    char *const argv[] = {BWRAP, "--dev-bind", "/", "/", "true", NULL};
    launch_run run;
    int rc = launch_spawn(argv, NULL, &run);
    launch_run_free(&run);
    return rc == 0;
}

/* ---- waiting for the server --------------------------------------------- */

/* One GET of `path` with the token on 127.0.0.1:port. The HTTP status, or
 * 0 when nothing answers yet. */
static int http_status(int port, const char *path, const char *token)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return 0;
    struct timeval tv = {2, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int status = 0;
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0) {
        char *req = xfmt("GET %s HTTP/1.0\r\nHost: 127.0.0.1:%d\r\n"
                         "Authorization: token %s\r\n\r\n", path, port, token);
        size_t len = strlen(req);
        char head[64];
        if (send(fd, req, len, MSG_NOSIGNAL) == (ssize_t)len) {
            ssize_t n = recv(fd, head, sizeof head - 1, 0);
            if (n > 12) {
                head[n] = '\0';
                if (strncmp(head, "HTTP/1.", 7) == 0)
                    status = atoi(head + 9);
            }
        }
        free(req);
    }
    close(fd);
    return status;
}

typedef struct wait_ctx {
    uv_process_t proc;
    uv_timer_t timer;
    int port;
    const char *path, *token;
    uint64_t deadline;
    int exited, ready, timed_out;
    int64_t exit_status;
    int term_signal;
} wait_ctx;

static void server_exit_cb(uv_process_t *p, int64_t status, int sig)
{
    wait_ctx *w = p->data;
    w->exited = 1;
    w->exit_status = status;
    w->term_signal = sig;
    uv_timer_stop(&w->timer);
    uv_close((uv_handle_t *)&w->timer, NULL);
    uv_close((uv_handle_t *)p, NULL);
}

static void on_tick(uv_timer_t *t)
{
    wait_ctx *w = t->data;
    int st = http_status(w->port, w->path, w->token);
    if (st == 200)
        w->ready = 1;
    else if (uv_now(t->loop) >= w->deadline)
        w->timed_out = 1;
    if (w->ready || w->timed_out) {
        uv_timer_stop(t);
        uv_close((uv_handle_t *)t, NULL);
        uv_close((uv_handle_t *)&w->proc, NULL); /* the server keeps running */
    }
}

/* ---- start ---------------------------------------------------------------- */

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof sa;
    int port = -1;
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0 &&
        getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
        port = ntohs(sa.sin_port);
    close(fd);
    return port;
}

/* Where this shelf lives: the `shelf` command ($SHELF, else the sibling
 * bin/shelf of this program's prefix, else the build tree's), its init
 * files and its Python package ($SHELF_SRCDIR's when running from a build
 * tree, else the installed ones). */
static void shelf_paths(char **cmd, char **init, char **py)
{
    const char *env = getenv("SHELF");
    const char *src = getenv("SHELF_SRCDIR");
    *cmd = NULL;
    if (env && env[0] == '/') {
        *cmd = xstrdup(env);
    } else {
        char *self = realpath("/proc/self/exe", NULL);
        if (self) {
            char *slash = strrchr(self, '/');
            *slash = '\0';
            char *cands[] = {xfmt("%s/../../bin/shelf", self), xfmt("%s/../cli/shelf", self)};
            for (int i = 0; i < 2; i++) {
                if (!*cmd && access(cands[i], X_OK) == 0)
                    *cmd = realpath(cands[i], NULL);
                free(cands[i]);
            }
            free(self);
        }
        if (!*cmd)
            *cmd = xstrdup("shelf");
    }
    if (src && src[0] == '/') {
        *init = xfmt("%s/shell-init", src);
        *py = xfmt("%s/python", src);
    } else {
        *init = xstrdup(SHELF_DATADIR "/init");
        *py = xstrdup(SHELF_DATADIR "/python");
    }
}

/* Sets or removes a variable of the server's environment (exits on OOM). */
static void set_env(shelf_strv *envv, const char *name, const char *value)
{
    if (shelf_environ_put(envv, name, value) < 0)
        launch_oom();
}

/* The last lines of the log, for a server that died. */
static void print_log_tail(const char *log)
{
    char *text = launch_read_text(log, NULL, NULL);
    if (!text)
        return;
    size_t len = strlen(text);
    if (len) {
        const char *start = text + len;
        int lines = 0;
        while (start > text && lines <= 15)
            if (*--start == '\n')
                lines++;
        fprintf(stderr, "--- the end of %s ---\n%s", log, start == text ? start : start + 1);
        if (text[len - 1] != '\n')
            fputc('\n', stderr);
    }
    free(text);
}

static void kill_group(long pid)
{
    if (kill((pid_t)-pid, SIGTERM) < 0)
        kill((pid_t)pid, SIGTERM);
}

int local_start(const local_opts *lo, launch_request *r)
{
    const launch_profile *p = r->p;
    const char *tree = p->tree_local ? p->tree_local : p->tree.mount;
    struct stat st;
    if (stat(tree, &st) < 0 || !S_ISDIR(st.st_mode)) {
        launch_error("profile \"%s\": the tree %s is not a directory here%s", p->name, tree,
                     p->tree_local ? "" : " (set tree.local_path for the local backend)");
        return 1;
    }
    const char *home = getenv("HOME");
    if (!home || home[0] != '/' || stat(home, &st) < 0 || !S_ISDIR(st.st_mode)) {
        launch_error("HOME is not a directory: the local server starts in your home");
        return 1;
    }
    free(r->home);
    r->home = xstrdup(home);
    char *dir = state_dir(1);
    if (!dir)
        return 1;
    char *state_path = xfmt("%s/%s.json", dir, r->name);
    char *log_path = xfmt("%s/%s.log", dir, r->name);
    int rc = 1;
    shelf_strv argv, envv;
    shelf_strv_init(&argv);
    shelf_strv_init(&envv);
    char *cmd = NULL, *init = NULL, *py = NULL, *url = NULL, *port_s = NULL;
    cJSON *st_json = NULL;
    cJSON *old = state_read(state_path);
    if (old && state_alive(old)) {
        launch_error("\"%s\" is running already: %s (stop it with `shelf launch stop %s`)",
                     r->name,
                     cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(old, "url"))
                         ? cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(old, "url"))
                         : "?",
                     r->name);
        cJSON_Delete(old);
        goto out;
    }
    cJSON_Delete(old);

    int port = free_port();
    free(r->token);
    r->token = shelf_random_hex(24);
    if (port < 0 || !r->token) {
        launch_error("cannot find a free loopback port or random bytes: %s", strerror(errno));
        goto out;
    }
    port_s = xfmt("%d", port);

    int sandbox = lo->sandbox && bwrap_works();
    shelf_paths(&cmd, &init, &py);

    /* argv: [bwrap ...] /bin/sh -c SCRIPT shelf-start SERVER... */
    if (sandbox) {
        bwrap_argv(&argv, tree, p->tree.mount);
        xpush(&argv, "--chdir");
        xpush(&argv, home);
        xpush(&argv, "--");
    }
    xpush(&argv, "/bin/sh");
    xpush(&argv, "-c");
    xpush(&argv, launch_start_script());
    xpush(&argv, "shelf-start");
    const shelf_strv *server = p->local_command.n ? &p->local_command : &p->command;
    for (size_t i = 0; i < server->n; i++) {
        char *a = launch_subst(r, server->v[i], port_s, r->token);
        xpush(&argv, a);
        free(a);
    }

    for (char **e = environ; *e; e++)
        xpush(&envv, *e);
    /* MODULEPATH: under the mount in the sandbox, at the tree's real path
     * without it */
    shelf_strv mp;
    shelf_strv_init(&mp);
    size_t mlen = strlen(p->tree.mount);
    for (size_t i = 0; i < p->modulepath.n; i++) {
        const char *d = p->modulepath.v[i];
        if (!sandbox && strncmp(d, p->tree.mount, mlen) == 0 && (d[mlen] == '/' || !d[mlen])) {
            char *real = xfmt("%s%s", tree, d + mlen);
            xpush(&mp, real);
            free(real);
        } else {
            xpush(&mp, d);
        }
    }
    char *mps = shelf_strv_join(&mp, ":");
    shelf_strv_free(&mp);
    if (!mps)
        launch_oom();
    set_env(&envv, "MODULEPATH", mps);
    free(mps);
    set_env(&envv, "SHELF_CMD", cmd);
    set_env(&envv, "SHELF_INIT", init);
    char *v = xfmt("%s/bash", init);
    set_env(&envv, "BASH_ENV", v);
    free(v);
    v = xfmt("%s/sh", init);
    set_env(&envv, "ENV", v);
    free(v);
    const char *oldpy = getenv("PYTHONPATH");
    v = oldpy && *oldpy ? xfmt("%s:%s", oldpy, py) : xstrdup(py);
    set_env(&envv, "PYTHONPATH", v);
    free(v);
    set_env(&envv, "JUPYTER_TOKEN", r->token);
    set_env(&envv, "NB_PREFIX", r->base_url);
    shelf_environ_unset(&envv, "SHELF_LAUNCH_COLLECTION_JSON");
    shelf_environ_unset(&envv, "SHELF_LAUNCH_MODULES");
    shelf_environ_unset(&envv, "SHELF_LAUNCH_COLLECTION");
    /* the engine's state of this shell's modules is not the server's */
    shelf_environ_unset(&envv, "LOADEDMODULES");
    shelf_environ_unset(&envv, "_LMFILES_");
    for (size_t i = 0; i < envv.n;) {
        if (strncmp(envv.v[i], "_SHELF_", 7) == 0 || strncmp(envv.v[i], "__LMOD", 6) == 0)
            shelf_strv_remove(&envv, i);
        else
            i++;
    }
    if (r->collection) {
        set_env(&envv, "SHELF_LAUNCH_COLLECTION", r->collection);
        if (!r->collection_json) {
            char *mods = shelf_strv_join(&r->modules, " ");
            if (!mods)
                launch_oom();
            set_env(&envv, "SHELF_LAUNCH_MODULES", mods);
            free(mods);
        }
    }
    for (size_t i = 0; i < p->env.keys.n; i++) {
        v = launch_subst(r, p->env.values.v[i], port_s, r->token);
        set_env(&envv, p->env.keys.v[i], v);
        free(v);
    }

    int logfd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    int nullfd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (logfd < 0 || nullfd < 0) {
        launch_error("cannot open %s: %s", logfd < 0 ? log_path : "/dev/null", strerror(errno));
        if (logfd >= 0)
            close(logfd);
        if (nullfd >= 0)
            close(nullfd);
        goto out;
    }

    uv_loop_t loop;
    if (uv_loop_init(&loop) < 0) {
        launch_error("cannot start an event loop");
        close(logfd);
        close(nullfd);
        goto out;
    }
    wait_ctx w;
    memset(&w, 0, sizeof w);
    uv_stdio_container_t stdio[3];
    stdio[0].flags = UV_INHERIT_FD;
    stdio[0].data.fd = nullfd;
    stdio[1].flags = UV_INHERIT_FD;
    stdio[1].data.fd = logfd;
    stdio[2].flags = UV_INHERIT_FD;
    stdio[2].data.fd = logfd;
    uv_process_options_t opts;
    memset(&opts, 0, sizeof opts);
    opts.file = argv.v[0];
    opts.args = argv.v;
    opts.env = envv.v;
    opts.cwd = home;
    opts.flags = UV_PROCESS_DETACHED;
    opts.exit_cb = server_exit_cb;
    opts.stdio = stdio;
    opts.stdio_count = 3;
    w.proc.data = &w;
    int src = uv_spawn(&loop, &w.proc, &opts);
    close(logfd);
    close(nullfd);
    if (src < 0) {
        launch_error("cannot start %s: %s", argv.v[0], uv_strerror(src));
        uv_close((uv_handle_t *)&w.proc, NULL);
        uv_run(&loop, UV_RUN_DEFAULT);
        uv_loop_close(&loop);
        goto out;
    }
    long pid = w.proc.pid;

    url = xfmt("http://127.0.0.1:%d%s?token=%s", port, r->base_url, r->token);
    char *start = proc_start(pid);
    st_json = xjson(cJSON_CreateObject());
    xjson(cJSON_AddStringToObject(st_json, "name", r->name));
    xjson(cJSON_AddStringToObject(st_json, "profile", p->name));
    xjson(cJSON_AddStringToObject(st_json, "user", r->user));
    xjson(cJSON_AddNumberToObject(st_json, "pid", (double)pid));
    xjson(cJSON_AddStringToObject(st_json, "start", start ? start : ""));
    free(start);
    xjson(cJSON_AddNumberToObject(st_json, "port", port));
    xjson(cJSON_AddStringToObject(st_json, "url", url));
    xjson(cJSON_AddStringToObject(st_json, "base_url", r->base_url));
    xjson(cJSON_AddStringToObject(st_json, "token", r->token));
    xjson(cJSON_AddStringToObject(st_json, "log", log_path));
    xjson(cJSON_AddStringToObject(st_json, "sandbox", sandbox ? "bwrap" : "none"));
    xjson(cJSON_AddStringToObject(st_json, "tree", sandbox ? p->tree.mount : tree));
    if (r->collection)
        xjson(cJSON_AddStringToObject(st_json, "collection", r->collection));
    if (state_write(state_path, st_json) < 0) {
        kill_group(pid);
        uv_run(&loop, UV_RUN_DEFAULT);
        uv_loop_close(&loop);
        goto out;
    }

    char *probe = xfmt("%sapi/status", r->base_url);
    w.port = port;
    w.path = probe;
    w.token = r->token;
    uv_timer_init(&loop, &w.timer);
    w.timer.data = &w;
    w.deadline = uv_now(&loop) + (uint64_t)(lo->timeout * 1000);
    uv_timer_start(&w.timer, on_tick, POLL_MS, POLL_MS);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    free(probe);

    if (w.ready) {
        if (!sandbox)
            fprintf(stderr, "shelf launch: %s: no sandbox (%s): a plain environment; the "
                            "tree is at its real path %s, read-only only as far as its "
                            "permissions say\n",
                    r->name, lo->sandbox ? BWRAP " is missing or does not work here"
                                         : "--no-sandbox",
                    tree);
        else
            fprintf(stderr, "shelf launch: %s: the tree %s is mounted read-only at %s "
                            "(bubblewrap)\n", r->name, tree, p->tree.mount);
        if (r->collection)
            fprintf(stderr, "shelf launch: %s: collection \"%s\" restored\n", r->name,
                    r->collection);
        fprintf(stderr, "shelf launch: %s: log %s; stop it with `shelf launch stop %s`\n",
                r->name, log_path, r->name);
        if (lo->json) {
            char *text = shelf_json_text(st_json, 1);
            if (!text)
                launch_oom();
            printf("%s\n", text);
            free(text);
        } else {
            printf("%s\n", url);
        }
        rc = 0;
    } else {
        if (w.exited)
            launch_error("the server of \"%s\" exited (status %ld%s) before answering",
                         r->name, (long)w.exit_status, w.term_signal ? ", killed" : "");
        else
            launch_error("the server of \"%s\" did not answer on port %d within %g s; "
                         "stopped it", r->name, port, lo->timeout);
        print_log_tail(log_path);
        if (!w.exited) {
            kill_group(pid);
            for (int i = 0; i < 50; i++) {
                char *s = proc_start(pid);
                free(s);
                if (!s)
                    break;
                usleep(100000);
            }
        }
        unlink(state_path);
    }
out:
    cJSON_Delete(st_json);
    free(url);
    free(port_s);
    free(cmd);
    free(init);
    free(py);
    shelf_strv_free(&argv);
    shelf_strv_free(&envv);
    free(state_path);
    free(log_path);
    free(dir);
    return rc;
}

/* ---- status, stop, logs --------------------------------------------------- */

static int valid_name(const char *name)
{
    char *l = launch_dns_label(name, 63);
    int ok = l && strcmp(l, name) == 0;
    free(l);
    if (!ok)
        launch_error("\"%s\" is not the name of a launch (a-z, 0-9, '-')", name);
    return ok;
}

int local_status(const local_opts *lo, const char *name)
{
    if (name && !valid_name(name))
        return 1;
    char *dir = state_dir(0);
    cJSON *all = xjson(cJSON_CreateArray());
    if (dir) {
        DIR *d = opendir(dir);
        struct dirent *e;
        shelf_strv names;
        shelf_strv_init(&names);
        while (d && (e = readdir(d))) {
            size_t n = strlen(e->d_name);
            if (n > 5 && strcmp(e->d_name + n - 5, ".json") == 0)
                xpush(&names, e->d_name);
        }
        if (d)
            closedir(d);
        for (size_t i = 1; i < names.n; i++) /* sorted */
            for (size_t j = i; j > 0 && strcmp(names.v[j - 1], names.v[j]) > 0; j--) {
                char *t = names.v[j];
                names.v[j] = names.v[j - 1];
                names.v[j - 1] = t;
            }
        for (size_t i = 0; i < names.n; i++) {
            char *path = xfmt("%s/%s", dir, names.v[i]);
            cJSON *st = state_read(path);
            free(path);
            const char *n = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(st, "name"));
            if (!st || !n || (name && strcmp(n, name) != 0)) {
                cJSON_Delete(st);
                continue;
            }
            cJSON_DeleteItemFromObjectCaseSensitive(st, "running");
            xjson(cJSON_AddBoolToObject(st, "running", state_alive(st)));
            cJSON_AddItemToArray(all, st);
        }
        shelf_strv_free(&names);
    }
    free(dir);
    int rc = 0;
    if (name && cJSON_GetArraySize(all) == 0) {
        launch_error("no local launch named \"%s\"", name);
        rc = 1;
    } else if (lo->json) {
        char *text = shelf_json_text(all, 1);
        if (!text)
            launch_oom();
        printf("%s\n", text);
        free(text);
    } else if (cJSON_GetArraySize(all) == 0) {
        fprintf(stderr, "shelf launch: no local servers\n");
    } else {
        const cJSON *st;
        printf("%-20s %-12s %-8s %-8s %s\n", "NAME", "PROFILE", "PID", "STATE", "URL");
        cJSON_ArrayForEach(st, all)
        {
            const char *n = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(st, "name"));
            const char *pr = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(st, "profile"));
            const char *u = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(st, "url"));
            const cJSON *pid = cJSON_GetObjectItemCaseSensitive(st, "pid");
            printf("%-20s %-12s %-8ld %-8s %s\n", n, pr ? pr : "?",
                   cJSON_IsNumber(pid) ? (long)pid->valuedouble : 0L,
                   cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(st, "running")) ? "running"
                                                                                 : "exited",
                   u ? u : "?");
        }
    }
    cJSON_Delete(all);
    return rc;
}

int local_stop(const local_opts *lo, const char *name)
{
    (void)lo;
    if (!valid_name(name))
        return 1;
    char *dir = state_dir(0);
    if (!dir) {
        launch_error("no local launch named \"%s\"", name);
        return 1;
    }
    char *path = xfmt("%s/%s.json", dir, name);
    char *log = xfmt("%s/%s.log", dir, name);
    cJSON *st = state_read(path);
    int rc = 0;
    if (!st) {
        launch_error("no local launch named \"%s\"", name);
        rc = 1;
    } else if (!state_alive(st)) {
        fprintf(stderr, "shelf launch: %s had exited already\n", name);
        unlink(path);
        unlink(log);
    } else {
        long pid = (long)cJSON_GetObjectItemCaseSensitive(st, "pid")->valuedouble;
        kill_group(pid);
        int gone = 0;
        for (int waited = 0; waited < STOP_WAIT_MS && !gone; waited += 100) {
            gone = !state_alive(st);
            if (!gone)
                usleep(100000);
        }
        if (!gone) {
            if (kill((pid_t)-pid, SIGKILL) < 0)
                kill((pid_t)pid, SIGKILL);
            fprintf(stderr, "shelf launch: %s did not stop within %d s: killed\n", name,
                    STOP_WAIT_MS / 1000);
            for (int i = 0; i < 20 && state_alive(st); i++)
                usleep(100000);
        }
        fprintf(stderr, "shelf launch: %s stopped\n", name);
        unlink(path);
        unlink(log);
    }
    cJSON_Delete(st);
    free(path);
    free(log);
    free(dir);
    return rc;
}

int local_logs(const char *name)
{
    if (!valid_name(name))
        return 1;
    char *dir = state_dir(0);
    char *log = dir ? xfmt("%s/%s.log", dir, name) : NULL;
    FILE *f = log ? fopen(log, "r") : NULL;
    int rc = 0;
    if (!f) {
        launch_error("no log of a local launch named \"%s\"", name);
        rc = 1;
    } else {
        char chunk[4096];
        size_t n;
        while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
            fwrite(chunk, 1, n, stdout);
        fclose(f);
    }
    free(log);
    free(dir);
    return rc;
}
