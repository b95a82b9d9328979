/*
 * shelfd.c -- the shelfd daemon: options, the runtime directory, the pid
 * lock, the token file, daemonizing, and the libuv loop that owns the main
 * thread (signals, and the watch over the module trees: watch.c).
 *
 * HTTP is served by libmicrohttpd's own threads (server.c); the loop never
 * waits for them, nor for the trees: every look at a tree and every index
 * rebuild runs in libuv's thread pool (watch.c).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <uv.h>

#include "api.h"
#include "events.h"
#include "server.h"
#include "shelf.h"
#include "watch.h"

extern char **environ;

#define DEFAULT_MAX_BODY (1024 * 1024)

/* ---- small helpers ------------------------------------------------------- */

static void oom_exit(void)
{
    fprintf(stderr, "shelfd: error: out of memory\n");
    exit(1);
}

static char *xstrdup(const char *s)
{
    char *p = strdup(s);
    if (!p)
        oom_exit();
    return p;
}

static char *xfmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *xfmt(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0)
        oom_exit();
    va_end(ap);
    return s;
}

/* path made absolute (against the working directory) and normalized. */
static char *absolute(const char *path)
{
    char *joined;
    if (path[0] == '/') {
        joined = xstrdup(path);
    } else {
        char *cwd = getcwd(NULL, 0);
        if (!cwd) {
            fprintf(stderr, "shelfd: error: getcwd: %s\n", strerror(errno));
            exit(1);
        }
        joined = xfmt("%s/%s", cwd, path);
        free(cwd);
    }
    char *norm = shelf_dir_norm(joined);
    free(joined);
    if (!norm)
        oom_exit();
    return norm;
}

/* The directory of an absolute path. */
static char *dir_of(const char *path)
{
    char *d = shelf_path_dir(path);
    if (!d)
        oom_exit();
    return d;
}

/* ---- options ------------------------------------------------------------- */

typedef struct options {
    char *socket;      /* unix mode */
    char *listen;      /* TCP mode: ADDR:PORT */
    char *token_file;
    char **trees;      /* NULL-terminated */
    size_t ntrees, treecap;
    int foreground;
    char *pid_file;
    int print_address;
    size_t max_body;
    unsigned threads;
    char *log;
    shelf_eval_limits limits; /* SHELF_EVAL_*: each modulefile evaluation's budgets */
    shelf_index_check index_check; /* SHELF_INDEX_CHECK, for the API and the watcher */
} options;

static void usage(FILE *out)
{
    fputs("usage: shelfd [--socket PATH | --listen ADDR:PORT [--token-file FILE]]\n"
          "              [--tree DIR]... [--foreground] [--pid-file FILE] [--print-address]\n"
          "              [--max-body BYTES] [--threads N] [--log FILE]\n", out);
}

static void help(void)
{
    usage(stdout);
    fputs("\n"
          "Serves Shelf's JSON API (/api/v1/...) over HTTP on a unix socket (mode 0600)\n"
          "or on a loopback TCP port with a bearer token. See shelfd(1).\n"
          "\n"
          "  --socket PATH       the unix socket (default $XDG_RUNTIME_DIR/shelf/shelfd.sock,\n"
          "                      else /tmp/shelf-$UID/shelfd.sock)\n"
          "  --listen ADDR:PORT  TCP instead: 127.0.0.1, [::1] or localhost (another\n"
          "                      address only with an explicit --token-file); port 0 picks one\n"
          "  --token-file FILE   where the bearer token is written, mode 0600 (default\n"
          "                      beside the default socket: .../shelf/token)\n"
          "  --tree DIR          a module tree to serve and watch (repeatable; default: the\n"
          "                      directories of $MODULEPATH)\n"
          "  --foreground        do not detach; log to stderr unless --log is given\n"
          "  --pid-file FILE     the pid and lock file (default shelfd.pid beside the\n"
          "                      socket, shelfd-tcp.pid beside the token file)\n"
          "  --print-address     print socket= or url= and token_file=, pid= once serving\n"
          "  --max-body BYTES    largest request body (default 1M; suffixes K, M)\n"
          "  --threads N         requests worked on at once (default: no limit, one\n"
          "                      thread per connection)\n"
          "  --log FILE          log requests and errors to FILE\n"
          "  --help, --version\n", stdout);
}

static void bad_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void bad_usage(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("shelfd: error: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    usage(stderr);
    exit(2);
}

static unsigned long long parse_size(const char *opt, const char *s, unsigned long long max)
{
    char *end;
    errno = 0;
    if (!(*s >= '0' && *s <= '9'))
        bad_usage("%s \"%s\": expected a number", opt, s);
    unsigned long long v = strtoull(s, &end, 10), mul = 1;
    if (*end == 'k' || *end == 'K')
        mul = 1024, end++;
    else if (*end == 'm' || *end == 'M')
        mul = 1024 * 1024, end++;
    if (*end || errno || v > max / mul)
        bad_usage("%s \"%s\": expected a number up to %llu", opt, s, max);
    return v * mul;
}

static void add_tree(options *o, const char *dir, int explicit_)
{
    struct stat st;
    if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
        if (explicit_)
            bad_usage("--tree %s: not a directory", dir);
        fprintf(stderr, "shelfd: warning: MODULEPATH directory %s does not exist; not served\n",
                dir);
        return;
    }
    char *abs = absolute(dir);
    for (size_t i = 0; i < o->ntrees; i++)
        if (strcmp(o->trees[i], abs) == 0) {
            free(abs);
            return;
        }
    if (SHELF_GROW(o->trees, o->treecap, o->ntrees + 2) < 0)
        oom_exit();
    o->trees[o->ntrees++] = abs;
    o->trees[o->ntrees] = NULL;
}

/* --socket, --listen, --token-file, --pid-file, --log: not empty; the
 * last one wins (the file names are made absolute after the parse). */
static int string_opt(const shelf_opt *opt, const char *value, shelf_error *err)
{
    (void)err;
    if (!*value)
        bad_usage("--%s needs a non-empty value", opt->long_name);
    char **slot = opt->ptr;
    free(*slot);
    *slot = xstrdup(value);
    return 0;
}

static int tree_opt(const shelf_opt *opt, const char *value, shelf_error *err)
{
    (void)err;
    if (!*value)
        bad_usage("--%s needs a non-empty value", opt->long_name);
    add_tree(opt->ptr, value, 1);
    return 0;
}

static int max_body_opt(const shelf_opt *opt, const char *value, shelf_error *err)
{
    (void)err;
    *(size_t *)opt->ptr = (size_t)parse_size("--max-body", value, 1ULL << 30);
    return 0;
}

static int threads_opt(const shelf_opt *opt, const char *value, shelf_error *err)
{
    (void)err;
    *(unsigned *)opt->ptr = (unsigned)parse_size("--threads", value, 4096);
    return 0;
}

static void parse_options(int argc, char **argv, options *o)
{
    memset(o, 0, sizeof *o);
    o->max_body = DEFAULT_MAX_BODY;
    enum { WANT_HELP = 1, WANT_VERSION };
    const shelf_opt opts[] = {
        SHELF_OPTS_CALLBACK("socket", 0, &o->socket, string_opt),
        SHELF_OPTS_CALLBACK("listen", 0, &o->listen, string_opt),
        SHELF_OPTS_CALLBACK("token-file", 0, &o->token_file, string_opt),
        SHELF_OPTS_CALLBACK("tree", 0, o, tree_opt),
        SHELF_OPTS_FLAG("foreground", 0, &o->foreground, 1),
        SHELF_OPTS_CALLBACK("pid-file", 0, &o->pid_file, string_opt),
        SHELF_OPTS_FLAG("print-address", 0, &o->print_address, 1),
        SHELF_OPTS_CALLBACK("max-body", 0, &o->max_body, max_body_opt),
        SHELF_OPTS_CALLBACK("threads", 0, &o->threads, threads_opt),
        SHELF_OPTS_CALLBACK("log", 0, &o->log, string_opt),
        SHELF_OPTS_STOP("help", 'h', WANT_HELP),
        SHELF_OPTS_STOP("version", 0, WANT_VERSION),
        SHELF_OPTS_END,
    };
    int nargs = argc - 1;
    shelf_error err = {0};
    int rc = shelf_opts_parse(opts, &nargs, argv + 1, 0, &err);
    if (rc == WANT_HELP) {
        help();
        exit(0);
    }
    if (rc == WANT_VERSION) {
        printf("shelfd (%s) %s\n", PACKAGE_NAME, PACKAGE_VERSION);
        exit(0);
    }
    if (rc < 0)
        bad_usage("%s", err.message ? err.message : shelf_strerror(rc));
    if (nargs > 0)
        bad_usage("unexpected argument \"%s\"", argv[1]);
    char **files[] = {&o->socket, &o->token_file, &o->pid_file, &o->log};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
        if (*files[i]) {
            char *abs = absolute(*files[i]);
            free(*files[i]);
            *files[i] = abs;
        }
    if (o->socket && o->listen)
        bad_usage("--socket and --listen exclude each other");
    if (o->token_file && !o->listen)
        bad_usage("--token-file goes with --listen (a unix socket needs no token)");
    shelf_error_clear(&err);
    if (shelf_eval_limits_from_env(&o->limits, environ, &err) < 0) {
        fprintf(stderr, "shelfd: error: %s\n", err.message ? err.message : "out of memory");
        shelf_error_clear(&err);
        exit(2);
    }
    o->index_check = shelf_index_check_from(getenv("SHELF_INDEX_CHECK"));
    if (o->ntrees == 0) { /* no --tree */
        const char *mp = getenv("MODULEPATH");
        char *copy = xstrdup(mp ? mp : "");
        char *save = NULL;
        for (char *d = strtok_r(copy, ":", &save); d; d = strtok_r(NULL, ":", &save))
            add_tree(o, d, 0);
        free(copy);
    }
}

/* ---- runtime directory, pid file, token ---------------------------------- */

/* dir exists as a directory that we own and only we may enter (fixing its
 * mode when it is ours). 0, or -1 with *why. */
static int private_dir(const char *dir, char **why)
{
    shelf_error err = {0};
    if (shelf_mkdir_p(dir, 0700, SHELF_MKDIR_NOFOLLOW, &err) < 0) {
        if (err.code == SHELF_ENOMEM)
            oom_exit();
        *why = xstrdup(err.message);
        shelf_error_clear(&err);
        return -1;
    }
    struct stat st;
    if (lstat(dir, &st) < 0) {
        *why = xfmt("%s: %s", dir, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid()) {
        *why = xfmt("%s is not a directory owned by uid %u; refusing to use it", dir,
                    (unsigned)geteuid());
        return -1;
    }
    if ((st.st_mode & 077) && chmod(dir, 0700) < 0) {
        *why = xfmt("cannot make %s private: %s", dir, strerror(errno));
        return -1;
    }
    return 0;
}

/* $XDG_RUNTIME_DIR/shelf when that is usable, else /tmp/shelf-UID. */
static char *runtime_dir(void)
{
    char *x = NULL;
    if (shelf_xdg_dir(environ, SHELF_XDG_RUNTIME, &x) == SHELF_ENOMEM)
        oom_exit();
    struct stat st;
    char *why = NULL;
    if (x && stat(x, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == geteuid() &&
        access(x, W_OK | X_OK) == 0) {
        char *d = xfmt("%s/shelf", x);
        free(x);
        if (private_dir(d, &why) == 0)
            return d;
        fprintf(stderr, "shelfd: warning: %s\n", why);
        free(why);
        free(d);
    } else {
        free(x);
    }
    char *d = xfmt("/tmp/shelf-%u", (unsigned)geteuid());
    if (private_dir(d, &why) < 0) {
        fprintf(stderr, "shelfd: error: %s\n", why);
        exit(1);
    }
    return d;
}

/* Takes the pid file's lock and writes our pid. Returns the fd; exits 1
 * when another daemon holds it. */
static int pidfile_take(const char *path, const char *where)
{
    for (;;) {
        int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd < 0) {
            fprintf(stderr, "shelfd: error: cannot open pid file %s: %s\n", path,
                    strerror(errno));
            exit(1);
        }
        if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
            char buf[32] = "";
            ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
            buf[n > 0 ? n : 0] = 0;
            long pid = strtol(buf, NULL, 10);
            if (pid > 0)
                fprintf(stderr, "shelfd: error: shelfd is already running (pid %ld) on %s\n",
                        pid, where);
            else
                fprintf(stderr, "shelfd: error: shelfd is already running on %s (%s is locked)\n",
                        where, path);
            exit(1);
        }
        /* A daemon that was stopping may have removed the file we opened:
         * the lock must be on the file that is at path now. */
        struct stat a, b;
        if (fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_ino == b.st_ino &&
            a.st_dev == b.st_dev) {
            char buf[32];
            int n = snprintf(buf, sizeof buf, "%ld\n", (long)getpid());
            if (ftruncate(fd, 0) < 0 || pwrite(fd, buf, (size_t)n, 0) != n) {
                fprintf(stderr, "shelfd: error: cannot write pid file %s: %s\n", path,
                        strerror(errno));
                exit(1);
            }
            return fd;
        }
        close(fd);
    }
}

/* Writes a fresh random token (64 hex digits) to path, mode 0600, by a
 * temp file and a rename. Returns the token. */
static char *token_write(const char *path)
{
    char *tok = shelf_random_hex(32);
    if (!tok && errno == ENOMEM)
        oom_exit();
    if (!tok) {
        fprintf(stderr, "shelfd: error: getrandom: %s\n", strerror(errno));
        exit(1);
    }
    char *line = xfmt("%s\n", tok);
    shelf_error err = {0};
    if (shelf_write_atomic(path, line, strlen(line), 0600, &err) < 0) {
        if (err.code == SHELF_ENOMEM)
            oom_exit();
        fprintf(stderr, "shelfd: error: cannot write token file %s: %s\n", path,
                strerror(errno));
        exit(1);
    }
    explicit_bzero(line, strlen(line));
    free(line);
    return tok;
}

/* The daemon's parts, owned by main and reached from the signal handlers. */
typedef struct daemon_state {
    uv_loop_t *loop;
    api_state *api;
    events *bus;
    server *srv;
    watcher *watch;
    uv_signal_t sigterm, sigint, sighup;
    int stopping;
} daemon_state;

/* ---- signals and lifecycle --------------------------------------------- */

static void shutdown_begin(daemon_state *d, const char *why)
{
    if (d->stopping)
        return;
    d->stopping = 1;
    server_log("%s: shutting down", why);
    server_quiesce(d->srv);
    events_close(d->bus);
    server_stop(d->srv);
    d->srv = NULL;
    if (d->watch)
        watcher_stop(d->watch);
    uv_close((uv_handle_t *)&d->sigterm, NULL);
    uv_close((uv_handle_t *)&d->sigint, NULL);
    uv_close((uv_handle_t *)&d->sighup, NULL);
}

static void on_signal(uv_signal_t *h, int signum)
{
    daemon_state *d = h->data;
    if (signum == SIGHUP) {
        char *why = NULL;
        if (server_log_reopen(&why) < 0) {
            server_log("%s", why ? why : "cannot reopen the log");
            free(why);
        }
        server_log("SIGHUP: re-reading the trees");
        if (d->watch)
            watcher_rescan(d->watch);
        return;
    }
    shutdown_begin(d, signum == SIGTERM ? "SIGTERM" : "SIGINT");
}

/* Lets the file-descriptor limit go up to its hard limit: one descriptor
 * per connection. */
static void raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

/* Forks; the parent waits until the child says it serves (exit 0) or dies
 * (its exit status). Returns, in the child, the fd to write readiness to. */
static int daemonize(void)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0) {
        fprintf(stderr, "shelfd: error: pipe: %s\n", strerror(errno));
        exit(1);
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "shelfd: error: fork: %s\n", strerror(errno));
        exit(1);
    }
    if (pid > 0) {
        close(p[1]);
        char c = 0;
        ssize_t n;
        while ((n = read(p[0], &c, 1)) < 0 && errno == EINTR)
            ;
        if (n == 1 && c == 'R')
            _exit(0);
        int st;
        while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
            ;
        _exit(WIFEXITED(st) && WEXITSTATUS(st) ? WEXITSTATUS(st) : 1);
    }
    close(p[0]);
    setsid();
    return p[1];
}

static void detach_stdio(void)
{
    int fd = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return;
    dup2(fd, STDIN_FILENO);
    dup2(fd, STDOUT_FILENO);
    dup2(fd, STDERR_FILENO);
    if (fd > STDERR_FILENO)
        close(fd);
}

/* Static, so that what it holds stays reachable when an error exits early. */
static options o;

int main(int argc, char **argv)
{
    parse_options(argc, argv, &o);

    char *rundir = NULL;
    char *listen_host = NULL;
    unsigned listen_port = 0;
    if (o.listen) {
        int loopback = 0;
        char *why = NULL;
        if (server_parse_listen(o.listen, &listen_host, &listen_port, &loopback, &why) < 0) {
            fprintf(stderr, "shelfd: error: %s\n", why ? why : "out of memory");
            free(why);
            usage(stderr);
            exit(2);
        }
        if (!loopback && !o.token_file) { /* before the default below */
            free(listen_host);
            bad_usage("--listen %s is not a loopback address: other hosts could reach it; "
                      "give --token-file FILE as well to allow that", o.listen);
        }
        if (!o.token_file)
            o.token_file = xfmt("%s/token", rundir = runtime_dir());
        if (!o.pid_file) {
            char *d = dir_of(o.token_file);
            o.pid_file = xfmt("%s/shelfd-tcp.pid", d);
            free(d);
        }
    } else {
        if (!o.socket)
            o.socket = xfmt("%s/shelfd.sock", rundir = runtime_dir());
        if (!o.pid_file) {
            char *d = dir_of(o.socket);
            o.pid_file = xfmt("%s/shelfd.pid", d);
            free(d);
        }
    }
    free(rundir);
    if (o.ntrees == 0)
        fprintf(stderr, "shelfd: warning: no module tree to serve (MODULEPATH is empty and no "
                        "--tree was given)\n");

    signal(SIGPIPE, SIG_IGN);
    raise_nofile();
    int ready_fd = o.foreground ? -1 : daemonize();

    const char *where = o.listen ? o.listen : o.socket;
    int pid_fd = pidfile_take(o.pid_file, where);

    char *why = NULL;
    if (server_log_open(o.log, o.foreground, &why) < 0) {
        fprintf(stderr, "shelfd: error: %s\n", why ? why : "out of memory");
        free(why);
        unlink(o.pid_file);
        return 1;
    }

    int fd;
    char *url = NULL, *token = NULL;
    if (o.listen) {
        fd = server_listen_tcp(listen_host, listen_port, &url, &why);
    } else {
        int busy = 0;
        long pid = 0;
        fd = server_listen_unix(o.socket, &busy, &pid, &why);
    }
    if (fd < 0) {
        fprintf(stderr, "shelfd: error: %s\n", why ? why : "out of memory");
        free(why);
        unlink(o.pid_file);
        return 1;
    }
    if (o.listen)
        token = token_write(o.token_file);

    uv_loop_t *loop = uv_default_loop();
    daemon_state d = {0};
    d.loop = loop;
    d.bus = events_new();
    shelf_error err = {0};
    api_config cfg = {(const char *const *)o.trees, o.ntrees, environ, d.bus, o.index_check,
                      o.limits};
    d.api = d.bus ? api_new(&cfg, &err) : NULL;
    if (!d.api) {
        fprintf(stderr, "shelfd: error: %s\n", err.message ? err.message : "out of memory");
        shelf_error_clear(&err);
        close(fd);
        if (o.socket)
            unlink(o.socket);
        unlink(o.pid_file);
        return 1;
    }
    server_config sc = {fd, o.listen == NULL, token, o.max_body, o.threads, d.api, d.bus};
    d.srv = server_start(&sc, &why);
    if (!d.srv) {
        fprintf(stderr, "shelfd: error: %s\n", why ? why : "out of memory");
        free(why);
        if (o.socket)
            unlink(o.socket);
        unlink(o.pid_file);
        return 1;
    }
    uv_signal_init(loop, &d.sigterm);
    uv_signal_init(loop, &d.sigint);
    uv_signal_init(loop, &d.sighup);
    d.sigterm.data = d.sigint.data = d.sighup.data = &d;
    uv_signal_start(&d.sigterm, on_signal, SIGTERM);
    uv_signal_start(&d.sigint, on_signal, SIGINT);
    uv_signal_start(&d.sighup, on_signal, SIGHUP);
    d.watch = watcher_start(loop, o.trees, o.ntrees, d.api, &o.limits, o.index_check);
    if (!d.watch)
        oom_exit();

    if (o.listen)
        server_log("serving %s (token in %s), %zu trees, pid %ld", url, o.token_file, o.ntrees,
                   (long)getpid());
    else
        server_log("serving unix socket %s, %zu trees, pid %ld", o.socket, o.ntrees,
                   (long)getpid());
    if (o.print_address) {
        if (o.listen)
            printf("url=%s\ntoken_file=%s\n", url, o.token_file);
        else
            printf("socket=%s\n", o.socket);
        printf("pid=%ld\npid_file=%s\n", (long)getpid(), o.pid_file);
        fflush(stdout);
    }
    if (ready_fd >= 0) {
        if (chdir("/") < 0)
            server_log("chdir /: %s", strerror(errno));
        detach_stdio();
        ssize_t n = write(ready_fd, "R", 1);
        (void)n;
        close(ready_fd);
    }

    uv_run(loop, UV_RUN_DEFAULT);

    /* The server is stopped and no job runs any more. */
    api_free(d.api);
    events_free(d.bus);
    if (o.socket)
        unlink(o.socket);
    if (o.listen)
        unlink(o.token_file);
    unlink(o.pid_file);
    close(pid_fd);
    server_log("stopped");
    server_log_close();
    uv_loop_close(loop);
    if (token)
        explicit_bzero(token, strlen(token));
    free(token);
    free(url);
    free(listen_host);
    watcher_free(d.watch);
    for (size_t i = 0; i < o.ntrees; i++)
        free(o.trees[i]);
    free(o.trees);
    free(o.socket);
    free(o.listen);
    free(o.token_file);
    free(o.pid_file);
    free(o.log);
    return 0;
}
