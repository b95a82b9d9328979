/*
 * emit.c -- turns a list of environment changes into code for one shell:
 * shell names, name validation, dispatch to the emitters (emit_*.c) and
 * the failure idiom.
 *
 * Invariant: shelf_emit() either appends the whole translation of a change
 * list or, when a name is invalid, appends nothing. All names are checked
 * here before any emitter runs, so the emitters themselves cannot fail on
 * input (see emit-internal.h).
 *
 * Name rules, the same for every shell so that a modulefile behaves alike
 * everywhere:
 *  - variables: [A-Za-z_][A-Za-z0-9_]* (what POSIX sh, csh and fish accept);
 *  - aliases: [A-Za-z0-9_][A-Za-z0-9_.+-]* (a command word in every shell);
 *  - shell functions: [A-Za-z_][A-Za-z0-9_]* for sh (POSIX) and ksh (where
 *    a dot names a discipline function); bash, zsh, fish, csh (which gets
 *    an alias) and json also accept '.' and '-' after the first byte.
 * Python ignores aliases and functions, so it does not check their names.
 */
#include "config.h"

#include <string.h>

#include "emit-internal.h"

static const struct {
    shelf_shell sh;
    const char *name;
} shell_names[] = {
    {SHELF_SH_BASH, "bash"}, {SHELF_SH_ZSH, "zsh"},   {SHELF_SH_SH, "sh"},
    {SHELF_SH_KSH, "ksh"},   {SHELF_SH_CSH, "csh"},   {SHELF_SH_TCSH, "tcsh"},
    {SHELF_SH_FISH, "fish"}, {SHELF_SH_PYTHON, "python"},
    {SHELF_SH_JSON, "json"},
};

#define N_SHELLS (sizeof shell_names / sizeof shell_names[0])

shelf_shell shelf_shell_from_name(const char *name)
{
    if (!name)
        return SHELF_SH_UNKNOWN;
    for (size_t i = 0; i < N_SHELLS; i++)
        if (strcmp(name, shell_names[i].name) == 0)
            return shell_names[i].sh;
    return SHELF_SH_UNKNOWN;
}

/* The name of a known shell; "unknown" for SHELF_SH_UNKNOWN or any value
 * outside the enum. Never NULL. */
const char *shelf_shell_name(shelf_shell sh)
{
    for (size_t i = 0; i < N_SHELLS; i++)
        if (shell_names[i].sh == sh)
            return shell_names[i].name;
    return "unknown";
}

static int is_alpha_(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static int is_alnum_(char c)
{
    return is_alpha_(c) || (c >= '0' && c <= '9');
}

int shelf_emit_is_identifier(const char *s)
{
    if (!s || !is_alpha_(*s))
        return 0;
    for (s++; *s; s++)
        if (!is_alnum_(*s))
            return 0;
    return 1;
}

int shelf_emit_is_bare(const char *s, size_t n)
{
    if (n == 0)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!is_alnum_(s[i]) && !(s[i] && strchr("@+=:,./-", s[i])))
            return 0;
    return 1;
}

/* 1 if s starts with [A-Za-z_] (or a digit when digit_first) and goes on
 * with [A-Za-z0-9_] or bytes from `rest`. */
static int name_ok(const char *s, int digit_first, const char *rest)
{
    if (!s || !*s)
        return 0;
    if (!is_alpha_(*s) && !(digit_first && *s >= '0' && *s <= '9'))
        return 0;
    for (s++; *s; s++)
        if (!is_alnum_(*s) && !strchr(rest, *s))
            return 0;
    return 1;
}

static int func_name_ok(shelf_shell sh, const char *name)
{
    if (sh == SHELF_SH_SH || sh == SHELF_SH_KSH)
        return shelf_emit_is_identifier(name);
    return name_ok(name, 0, ".-");
}

/* Checks every name in `changes` for shell `sh`; on the first bad one sets
 * err and returns SHELF_EUSAGE. */
static int validate(shelf_shell sh, const shelf_changes *changes,
                    shelf_error *err)
{
    for (size_t i = 0; i < changes->n; i++) {
        const shelf_change *c = &changes->items[i];
        const char *what = NULL;
        switch (c->kind) {
        case SHELF_CHANGE_SETENV:
        case SHELF_CHANGE_UNSETENV:
            if (!shelf_emit_is_identifier(c->name))
                what = "environment variable";
            break;
        case SHELF_CHANGE_ALIAS:
        case SHELF_CHANGE_UNALIAS:
            if (sh != SHELF_SH_PYTHON && !name_ok(c->name, 1, ".+-"))
                what = "alias";
            break;
        case SHELF_CHANGE_FUNC:
        case SHELF_CHANGE_UNFUNC:
            if (sh != SHELF_SH_PYTHON && !func_name_ok(sh, c->name))
                what = "shell function";
            break;
        default:
            shelf_error_set(err, SHELF_EUSAGE, NULL, NULL, 0,
                            "unknown environment change kind %d",
                            (int)c->kind);
            return SHELF_EUSAGE;
        }
        if (what) {
            shelf_error_set(err, SHELF_EUSAGE, NULL, NULL, 0,
                            "invalid %s name \"%s\" for %s", what,
                            c->name ? c->name : "", shelf_shell_name(sh));
            return SHELF_EUSAGE;
        }
    }
    return SHELF_OK;
}

int shelf_emit(shelf_shell sh, const shelf_changes *changes, shelf_buf *out,
               shelf_error *err)
{
    if ((int)sh < 0 || sh >= SHELF_SH_UNKNOWN) {
        shelf_error_set(err, SHELF_EUSAGE, NULL, NULL, 0,
                        "unknown shell (expected one of bash zsh sh ksh csh "
                        "tcsh fish python json)");
        return SHELF_EUSAGE;
    }
    int rc = validate(sh, changes, err);
    if (rc != SHELF_OK)
        return rc;

    switch (sh) {
    case SHELF_SH_BASH:
    case SHELF_SH_ZSH:
    case SHELF_SH_SH:
    case SHELF_SH_KSH:
        shelf_emit_sh(sh, changes, out);
        break;
    case SHELF_SH_CSH:
    case SHELF_SH_TCSH:
        shelf_emit_csh(changes, out);
        break;
    case SHELF_SH_FISH:
        shelf_emit_fish(changes, out);
        break;
    case SHELF_SH_PYTHON:
        shelf_emit_python(changes, out);
        break;
    case SHELF_SH_JSON:
        rc = shelf_emit_json(changes, out);
        break;
    case SHELF_SH_UNKNOWN:
        break;
    }
    if (rc == SHELF_OK)
        rc = shelf_buf_ok(out);
    if (rc != SHELF_OK)
        shelf_error_set(err, rc, NULL, NULL, 0,
                        "out of memory while writing %s code",
                        shelf_shell_name(sh));
    return rc;
}

/*
 * What makes the caller's evaluation report failure without leaving the
 * shell:
 *  - sh family: `false` is a builtin everywhere; eval returns its status.
 *  - fish: `false` is a builtin too.
 *  - csh/tcsh: `false` is not a builtin there (it depends on an external
 *    program) and `exit 1` would end the person's shell; `( exit 1 )` runs
 *    `exit` in a subshell, which sets $status to 1 and leaves the shell
 *    alone. (The shelf init alias also checks shelf's own exit status, so
 *    this only matters to people who eval the output by hand.)
 *  - python: `_mlstatus = False`, as Lmod does, for callers that exec()
 *    the code and then look at _mlstatus.
 *  - json: nothing (appending to a JSON document would make it
 *    unparsable): the exit status and whether a document came tell
 *    success, a warning (status 1, the document: the changes stand) and
 *    a failure (status 1, nothing) apart.
 */
void shelf_emit_failure(shelf_shell sh, shelf_buf *out)
{
    switch (sh) {
    case SHELF_SH_BASH:
    case SHELF_SH_ZSH:
    case SHELF_SH_SH:
    case SHELF_SH_KSH:
        shelf_buf_adds(out, "false;\n");
        break;
    case SHELF_SH_FISH:
        shelf_buf_adds(out, "false\n");
        break;
    case SHELF_SH_CSH:
    case SHELF_SH_TCSH:
        shelf_buf_adds(out, "( exit 1 );\n");
        break;
    case SHELF_SH_PYTHON:
        shelf_buf_adds(out, "_mlstatus = False\n");
        break;
    case SHELF_SH_JSON:
    case SHELF_SH_UNKNOWN:
        break;
    }
}
