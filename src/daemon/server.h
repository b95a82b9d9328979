/*
 * server.h -- shelfd's HTTP side (server.c): the listening sockets, the
 * libmicrohttpd daemon that turns each request into an api_request, the
 * /api/v1/events stream, and the daemon's log.
 *
 * Security model: on a unix socket the socket's mode (0600, in a 0700
 * directory) keeps other users out, and each peer's SO_PEERCRED uid is
 * checked again (403 when it differs from ours); a bearer token is
 * accepted there but not needed. On TCP every request must carry
 * "Authorization: Bearer TOKEN" (401 otherwise). Errors the server itself
 * produces are JSON, as api_handle's are.
 */
#ifndef SHELFD_SERVER_H
#define SHELFD_SERVER_H

#include <stddef.h>

#include "api.h"
#include "events.h"

/* ---- the log ------------------------------------------------------------- */

/* Sends the log to path (appended, created 0600), to stderr when path is
 * NULL and to_stderr is 1, or nowhere. 0, or -1 with *why (caller frees). */
int server_log_open(const char *path, int to_stderr, char **why);
/* Reopens the log file (SIGHUP, after a rotation). 0 or -1 with *why. */
int server_log_reopen(char **why);
void server_log_close(void);
/* One line, prefixed with the UTC time; no-op without a log. Thread-safe. */
void server_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- listening sockets ------------------------------------------------- */

/* Binds and listens on the unix socket path, mode 0600. A socket file left
 * by a daemon that is gone (nothing answers on it) is replaced; another
 * file there is left alone. Returns the fd, or -1 with *why (caller frees)
 * and *busy = 1 when something answers on path (*pid: its pid, or 0). */
int server_listen_unix(const char *path, int *busy, long *pid, char **why);

/* Parses ADDR:PORT ("127.0.0.1:8080", "[::1]:0", "localhost:0"). Returns 0
 * and fills host (a numeric address; caller frees) and port, or -1 with
 * *why. *loopback is 1 for 127.0.0.0/8, ::1 and localhost. */
int server_parse_listen(const char *spec, char **host, unsigned *port, int *loopback,
                        char **why);

/* Binds and listens on host:port (port 0: the kernel picks one). Returns
 * the fd and the URL it answers on ("http://127.0.0.1:41234", caller
 * frees), or -1 with *why. */
int server_listen_tcp(const char *host, unsigned port, char **url, char **why);

/* ---- the HTTP server --------------------------------------------------- */

typedef struct server_config {
    int fd;              /* a listening socket from server_listen_*; owned from now on */
    int unix_socket;     /* 1: peers are checked by uid and need no token */
    const char *token;   /* the bearer token (copied); required when !unix_socket */
    size_t max_body;     /* longer request bodies get 413 */
    unsigned max_active; /* requests in api_handle at once; 0: no limit */
    api_state *api;      /* not owned */
    events *bus;         /* not owned */
} server_config;

typedef struct server server;

/* Starts serving cfg->fd in libmicrohttpd's threads (one per connection).
 * NULL with *why on failure; cfg->fd is closed then too. */
server *server_start(const server_config *cfg, char **why);
/* Stops accepting new connections (the listening fd is closed); requests
 * in progress go on. */
void server_quiesce(server *s);
/* Ends every connection and joins the threads: close the event bus first
 * (events_close) so that event streams end. Frees s. */
void server_stop(server *s);

#endif
