/*
 * spawn.c -- runs one program to completion through a libuv loop (the
 * launcher's only way to run kubectl): its stdin fed from a string, its
 * stdout and stderr collected whole, its exit status and signal kept.
 *
 * Each call owns a private loop, closed before it returns, so no handle
 * outlives the call. The program inherits this environment (KUBECONFIG
 * among it).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "launch.h"

typedef struct run_ctx {
    uv_process_t proc;
    uv_pipe_t in, out, err;
    uv_write_t write_req;
    shelf_buf out_buf, err_buf;
    int exited;
    int64_t status;
    int signal;
} run_ctx;

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)h;
    buf->base = xmalloc(suggested);
    buf->len = suggested;
}

static void read_cb(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    shelf_buf *dst = s->data;
    if (n > 0)
        shelf_buf_add(dst, buf->base, (size_t)n);
    free(buf->base);
    if (n < 0)
        uv_close((uv_handle_t *)s, NULL);
}

static void exit_cb(uv_process_t *p, int64_t status, int sig)
{
    run_ctx *c = p->data;
    c->exited = 1;
    c->status = status;
    c->signal = sig;
    uv_close((uv_handle_t *)p, NULL);
}

static void write_cb(uv_write_t *req, int status)
{
    (void)status; /* a program that does not read its input says so itself */
    uv_close((uv_handle_t *)req->handle, NULL);
}

int launch_spawn(char *const argv[], const char *input, launch_run *run)
{
    memset(run, 0, sizeof *run);
    run->exit_status = -1;
    uv_loop_t loop;
    int rc = uv_loop_init(&loop);
    if (rc < 0) {
        run->spawn_error = xfmt("cannot start an event loop: %s", uv_strerror(rc));
        run->out = xstrdup("");
        run->err = xstrdup("");
        return -1;
    }
    run_ctx c;
    memset(&c, 0, sizeof c);
    shelf_buf_init(&c.out_buf);
    shelf_buf_init(&c.err_buf);
    uv_pipe_init(&loop, &c.in, 0);
    uv_pipe_init(&loop, &c.out, 0);
    uv_pipe_init(&loop, &c.err, 0);
    c.out.data = &c.out_buf;
    c.err.data = &c.err_buf;

    uv_stdio_container_t stdio[3];
    stdio[0].flags = UV_CREATE_PIPE | UV_READABLE_PIPE;
    stdio[0].data.stream = (uv_stream_t *)&c.in;
    stdio[1].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
    stdio[1].data.stream = (uv_stream_t *)&c.out;
    stdio[2].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
    stdio[2].data.stream = (uv_stream_t *)&c.err;
    uv_process_options_t opts;
    memset(&opts, 0, sizeof opts);
    opts.file = argv[0];
    opts.args = (char **)argv;
    opts.exit_cb = exit_cb;
    opts.stdio = stdio;
    opts.stdio_count = 3;
    c.proc.data = &c;

    rc = uv_spawn(&loop, &c.proc, &opts);
    if (rc < 0) {
        run->spawn_error = xfmt("cannot run %s: %s", argv[0], uv_strerror(rc));
        uv_close((uv_handle_t *)&c.proc, NULL);
        uv_close((uv_handle_t *)&c.in, NULL);
        uv_close((uv_handle_t *)&c.out, NULL);
        uv_close((uv_handle_t *)&c.err, NULL);
    } else {
        uv_read_start((uv_stream_t *)&c.out, alloc_cb, read_cb);
        uv_read_start((uv_stream_t *)&c.err, alloc_cb, read_cb);
        if (input && *input) {
            uv_buf_t b = uv_buf_init((char *)input, (unsigned)strlen(input));
            if (uv_write(&c.write_req, (uv_stream_t *)&c.in, &b, 1, write_cb) < 0)
                uv_close((uv_handle_t *)&c.in, NULL);
        } else {
            uv_close((uv_handle_t *)&c.in, NULL);
        }
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);

    if (shelf_buf_ok(&c.out_buf) < 0 || shelf_buf_ok(&c.err_buf) < 0)
        launch_oom();
    run->out = shelf_buf_take(&c.out_buf);
    run->err = shelf_buf_take(&c.err_buf);
    if (!run->out || !run->err)
        launch_oom();
    if (rc < 0)
        return -1;
    run->exit_status = c.exited ? (int)c.status : -1;
    run->term_signal = c.signal;
    return run->exit_status == 0 && c.signal == 0 ? 0 : -1;
}

void launch_run_free(launch_run *run)
{
    free(run->out);
    free(run->err);
    free(run->spawn_error);
    memset(run, 0, sizeof *run);
}
