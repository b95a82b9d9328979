/*
 * emit-driver.c -- prints shelf_emit()'s output for changes given on the
 * command line, so that shell tests can push any byte sequence (but NUL)
 * through each emitter and into a real shell.
 *
 *   emit-driver SHELL ACTION ARGS... [ACTION ARGS...]...
 *     set NAME VALUE        unset NAME
 *     alias NAME VALUE      unalias NAME
 *     func NAME BODY CSH    unfunc NAME      (CSH "" = no csh body)
 *     fail                  append shelf_emit_failure() after the changes
 *
 * Exit status: 0 after printing the code; 1 with the message on stderr
 * (nothing on stdout) when shelf_emit() fails; 2 for bad usage.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "shelf.h"

static const struct {
    const char *action;
    shelf_change_kind kind;
    int nvalues;
} actions[] = {
    {"set", SHELF_CHANGE_SETENV, 1},   {"unset", SHELF_CHANGE_UNSETENV, 0},
    {"alias", SHELF_CHANGE_ALIAS, 1},  {"unalias", SHELF_CHANGE_UNALIAS, 0},
    {"func", SHELF_CHANGE_FUNC, 2},    {"unfunc", SHELF_CHANGE_UNFUNC, 0},
};

static int usage(const char *msg)
{
    fprintf(stderr, "emit-driver: %s\n"
                    "usage: emit-driver SHELL ACTION ARGS... (actions: set "
                    "unset alias unalias func unfunc fail)\n", msg);
    return 2;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage("no shell");
    shelf_shell sh = shelf_shell_from_name(argv[1]);
    if (sh == SHELF_SH_UNKNOWN)
        return usage("unknown shell");

    shelf_changes changes;
    shelf_changes_init(&changes);
    int fail = 0;
    for (int i = 2; i < argc;) {
        if (strcmp(argv[i], "fail") == 0) {
            fail = 1;
            i++;
            continue;
        }
        size_t a = 0;
        while (a < sizeof actions / sizeof actions[0] &&
               strcmp(actions[a].action, argv[i]) != 0)
            a++;
        if (a == sizeof actions / sizeof actions[0]) {
            shelf_changes_free(&changes);
            return usage("unknown action");
        }
        if (argc - i - 2 < actions[a].nvalues) {
            shelf_changes_free(&changes);
            return usage("missing arguments");
        }
        const char *v1 = actions[a].nvalues >= 1 ? argv[i + 2] : NULL;
        const char *v2 = actions[a].nvalues >= 2 && argv[i + 3][0] ? argv[i + 3] : NULL;
        if (shelf_changes_add(&changes, actions[a].kind, argv[i + 1], v1, v2) != 0) {
            shelf_changes_free(&changes);
            fputs("emit-driver: out of memory\n", stderr);
            return 1;
        }
        i += 2 + actions[a].nvalues;
    }

    shelf_buf out;
    shelf_buf_init(&out);
    shelf_error err = {0};
    int rc = shelf_emit(sh, &changes, &out, &err);
    if (rc == SHELF_OK && fail)
        shelf_emit_failure(sh, &out);
    if (rc == SHELF_OK)
        rc = shelf_buf_ok(&out);
    if (rc != SHELF_OK) {
        fprintf(stderr, "emit-driver: %s\n",
                err.message ? err.message : shelf_strerror(rc));
    } else if (out.len && fwrite(out.data, 1, out.len, stdout) != out.len) {
        rc = SHELF_EIO;
    }
    shelf_error_clear(&err);
    shelf_buf_free(&out);
    shelf_changes_free(&changes);
    if (fflush(stdout) != 0)
        rc = SHELF_EIO;
    return rc == SHELF_OK ? 0 : 1;
}
