/*
 * index.c -- `shelf index [--output FILE] [--timestamp FILE] [--quiet] [--check] [--full]
 * DIR...`
 *
 * Builds (or, with --check, inspects) the sqlite index of each MODULEPATH
 * directory DIR and of the levels its modules open. Unlike the other
 * subcommands it takes no SHELL argument and prints nothing for a shell:
 * a progress bar on stderr when stderr is a terminal, then one summary
 * line per DIR (nothing with --quiet, for cron). The index goes to
 * DIR/.shelf/index.db when DIR is writable, else to
 * $XDG_CACHE_HOME/shelf/index-HASH.db; --output FILE names it (one DIR
 * only). --timestamp FILE makes readers trust the index while FILE is not
 * newer than the build and the level roots are unchanged (Lmod's system
 * cache); --check says which check an index uses. Exit status: 0 on success; 1 when an index could not be written,
 * or with --check when an index is missing, stale or unreadable; 2 for bad
 * usage.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

extern char **environ;
#include "shelf.h"

static void progress(void *ud, size_t done, size_t total)
{
    (void)ud;
    if (done == total || done % 64 == 0)
        fprintf(stderr, "\rindexing %zu/%zu modulefiles", done, total);
}

static int print_broken(void *ud, const char *file, const char *message)
{
    (void)ud;
    printf("broken: %s: %s\n", file, message);
    return 0;
}

/* --check of one DIR: 0 fresh, 1 missing, stale or unreadable. */
static int check_one(const char *dir, const char *output, int quiet)
{
    shelf_strv places;
    shelf_strv_init(&places);
    if (output ? shelf_strv_push(&places, output) < 0
               : shelf_index_locations(dir, environ, &places) < 0) {
        fprintf(stderr, "shelf: error: out of memory\n");
        return 1;
    }
    int status = 1, found = 0;
    for (size_t i = 0; i < places.n && status; i++) {
        shelf_index *ix = NULL;
        shelf_error err = {0};
        int rc = shelf_index_open(places.v[i], &ix, &err);
        if (rc == SHELF_ENOTFOUND) {
            shelf_error_clear(&err);
            continue;
        }
        found = 1;
        if (rc < 0) {
            printf("%s: unusable index %s: %s\n", dir, places.v[i], err.message);
            shelf_error_clear(&err);
            continue;
        }
        char *why = NULL;
        int fresh = shelf_index_fresh(ix, cli_index_check(), NULL, 0, NULL, 0, &why);
        const char *stamp = shelf_index_timestamp(ix);
        if (!quiet) {
            if (stamp)
                printf("%s: index %s: timestamp mode: fresh while %s is not touched and the "
                       "level roots are unchanged\n", dir, places.v[i], stamp);
            else
                printf("%s: index %s: directory mode: every recorded directory is checked\n",
                       dir, places.v[i]);
        }
        if (fresh > 0) {
            status = 0;
            if (!quiet)
                printf("%s: index %s is fresh (%ld modulefiles)\n", dir, places.v[i],
                       shelf_index_count(ix));
        } else if (fresh == 0) {
            printf("%s: index %s is stale: %s changed (run `shelf index %s`)\n", dir,
                   places.v[i], why ? why : "a directory", dir);
        } else {
            printf("%s: index %s cannot be read\n", dir, places.v[i]);
        }
        free(why);
        if (shelf_index_broken(ix, print_broken, NULL, &err) < 0) {
            printf("%s: index %s cannot be read: %s\n", dir, places.v[i], err.message);
            status = 1;
        }
        shelf_error_clear(&err);
        shelf_index_close(ix);
    }
    if (!found)
        printf("%s: no index (run `shelf index %s`)\n", dir, dir);
    shelf_strv_free(&places);
    return status;
}

static void usage(FILE *out)
{
    fprintf(out, "usage: shelf index [--output FILE] [--timestamp FILE] [--quiet] [--check] "
                 "[--full] DIR...\n");
}

static void help(FILE *out)
{
    usage(out);
    fputs("\n"
          "Writes a sqlite index of each MODULEPATH directory DIR and of the levels its\n"
          "modules open: DIR/.shelf/index.db when DIR is writable, else\n"
          "$XDG_CACHE_HOME/shelf/index-HASH.db. avail, spider and keyword answer from it\n"
          "while it is fresh, else read the tree with a hint to re-index.\n"
          "\n"
          "  -o, --output FILE  write the index to FILE (one DIR only)\n"
          "  --timestamp FILE   timestamp mode, as Lmod's system cache: FILE is created\n"
          "                     when missing, and readers trust the index while FILE's\n"
          "                     mtime is not newer than the start of this build and\n"
          "                     every level root directory (and its .modulerc.lua,\n"
          "                     .version, default files) keeps its mtime: a few stats.\n"
          "                     Packages added or removed at a level root are seen at\n"
          "                     once; a version added inside an existing package\n"
          "                     directory, or a modulefile edited, is seen only after\n"
          "                     `touch FILE` (the tree is then read until re-indexed)\n"
          "                     or `shelf index`. Without it, every directory recorded\n"
          "                     is checked (one stat each).\n"
          "  --full             evaluate every modulefile again (else only changed ones)\n"
          "  --check            say which mode each index uses, whether it is fresh,\n"
          "                     and list its broken modulefiles; exit 1 when an index\n"
          "                     is missing, stale or unreadable\n"
          "  -q, --quiet        no progress bar, no summary (cron)\n", out);
}

int cli_index(int argc, char **argv, const shelf_eval_limits *limits)
{
    const char *output = NULL, *stamp = NULL;
    int quiet = 0, check = 0, full = 0;
    const shelf_opt opts[] = {
        SHELF_OPTS_STRING("output", 'o', &output, 0),
        SHELF_OPTS_STRING("timestamp", 0, &stamp, 0),
        SHELF_OPTS_FLAG("quiet", 'q', &quiet, 1),
        SHELF_OPTS_FLAG("check", 0, &check, 1),
        SHELF_OPTS_FLAG("full", 0, &full, 1),
        SHELF_OPTS_STOP("help", 'h', 1),
        SHELF_OPTS_END,
    };
    shelf_error uerr = {0};
    int urc = shelf_opts_parse(opts, &argc, argv, SHELF_OPTS_STOP_AT_ARG, &uerr);
    if (urc > 0) {
        help(stdout);
        return 0;
    }
    const char *why = urc < 0 ? (uerr.message ? uerr.message : shelf_strerror(urc))
                      : argc == 0 ? "name at least one MODULEPATH directory"
                      : output && argc > 1 ? "--output takes one directory only"
                                           : NULL;
    if (why) {
        fprintf(stderr, "shelf: error: index: %s\n", why);
        shelf_error_clear(&uerr);
        usage(stderr);
        return 2;
    }
    int status = 0;
    if (check) {
        for (int i = 0; i < argc; i++)
            status |= check_one(argv[i], output, quiet);
        return status;
    }
    int bar = !quiet && isatty(STDERR_FILENO);
    for (int i = 0; i < argc; i++) {
        shelf_index_opts o = {output, full, bar ? progress : NULL, NULL, stamp, environ, limits};
        shelf_index_stats st;
        shelf_error err = {0};
        int rc = shelf_index_build(argv[i], &o, &st, &err);
        if (bar)
            fprintf(stderr, "\r\033[K");
        if (rc < 0) {
            cli_print_error(stderr, &err);
            status = 1;
        } else if (!quiet) {
            fprintf(stderr, "shelf: indexed %s: %zu modulefiles in %zu levels, %zu broken, "
                            "%zu evaluated, %.2f s -> %s\n",
                    argv[i], st.modules, st.levels, st.broken, st.evaluated, st.seconds,
                    st.output);
        }
        shelf_error_clear(&err);
        free(st.output);
    }
    return status;
}
