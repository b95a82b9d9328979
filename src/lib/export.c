/*
 * export.c -- what a set of modules does to the environment, as a
 * difference that a script can apply without shelf (`shelf export`).
 *
 * Data: a shelf_export holds the variables the modules touched (sorted by
 * name, each a SET, an UNSET or a PATH edit: entries to put in front of
 * and after the value found at run time), the aliases and shell functions
 * they define (as shelf_changes), and the header facts (modules, the
 * collection, the date).
 *
 * Writing reuses the emitters (emit_*.c) for every plain set, unset, alias
 * and function, so an exported script quotes exactly as `module load`
 * does; only the PATH edits, which the emitters have no notion of, are
 * written here, with the emitters' quoting helpers (emit-internal.h). A
 * script is laid out as: comment header, sets and unsets, path edits,
 * aliases and functions.
 *
 * Path edits at run time: a variable that is unset or empty gets the
 * entries alone, never a stray ':' (sh: ${V:+:$V}; csh: if ($?V) and
 * $%V; fish: test -n "$V", lists for *PATH names; Python and JSON
 * readers: an empty value counts as no entries).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "emit-internal.h"
#include "shelf.h"
#include "shelf-internal.h"

static const struct {
    shelf_export_format f;
    const char *name;
    shelf_shell shell;
} formats[] = {
    {SHELF_EXPORT_SH, "sh", SHELF_SH_SH},
    {SHELF_EXPORT_BASH, "bash", SHELF_SH_BASH},
    {SHELF_EXPORT_ZSH, "zsh", SHELF_SH_ZSH},
    {SHELF_EXPORT_KSH, "ksh", SHELF_SH_KSH},
    {SHELF_EXPORT_CSH, "csh", SHELF_SH_CSH},
    {SHELF_EXPORT_TCSH, "tcsh", SHELF_SH_TCSH},
    {SHELF_EXPORT_FISH, "fish", SHELF_SH_FISH},
    {SHELF_EXPORT_PYTHON, "python", SHELF_SH_PYTHON},
    {SHELF_EXPORT_JSON, "json", SHELF_SH_JSON},
    {SHELF_EXPORT_PREAMBLE_PYTHON, "preamble-python", SHELF_SH_PYTHON},
};
#define N_FORMATS (sizeof formats / sizeof formats[0])

shelf_export_format shelf_export_format_from_name(const char *name)
{
    for (size_t i = 0; name && i < N_FORMATS; i++)
        if (strcmp(name, formats[i].name) == 0)
            return formats[i].f;
    return SHELF_EXPORT_UNKNOWN;
}

shelf_shell shelf_export_format_shell(shelf_export_format f)
{
    for (size_t i = 0; i < N_FORMATS; i++)
        if (formats[i].f == f)
            return formats[i].shell;
    return SHELF_SH_UNKNOWN;
}

static const char *format_name(shelf_export_format f)
{
    for (size_t i = 0; i < N_FORMATS; i++)
        if (formats[i].f == f)
            return formats[i].name;
    return "unknown";
}

void shelf_export_init(shelf_export *x)
{
    memset(x, 0, sizeof *x);
    shelf_changes_init(&x->named);
    shelf_strv_init(&x->modules);
}

static void var_free(shelf_export_var *v)
{
    free(v->name);
    free(v->value);
    shelf_strv_free(&v->prepend);
    shelf_strv_free(&v->append);
}

void shelf_export_free(shelf_export *x)
{
    for (size_t i = 0; i < x->nvars; i++)
        var_free(&x->vars[i]);
    free(x->vars);
    shelf_changes_free(&x->named);
    shelf_strv_free(&x->modules);
    free(x->collection);
    free(x->created);
    shelf_export_init(x);
}

/* ---- environments as "NAME=value" arrays --------------------------------- */

/* Length of the name part of "NAME=value" (the whole string without '='). */
static size_t name_len(const char *entry)
{
    return strcspn(entry, "=");
}

static const char *entry_value(const char *entry)
{
    const char *eq = strchr(entry, '=');
    return eq ? eq + 1 : "";
}

static long find_entry(const shelf_strv *sv, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < sv->n; i++)
        if (name_len(sv->v[i]) == n && strncmp(sv->v[i], name, n) == 0)
            return (long)i;
    return -1;
}

int shelf_export_apply(char **base, const shelf_changes *changes, shelf_strv *out)
{
    for (size_t i = 0; base && base[i]; i++)
        if (shelf_strv_push(out, base[i]) < 0)
            return SHELF_ENOMEM;
    for (size_t i = 0; i < changes->n; i++) {
        const shelf_change *c = &changes->items[i];
        if (c->kind != SHELF_CHANGE_SETENV && c->kind != SHELF_CHANGE_UNSETENV)
            continue;
        long at = find_entry(out, c->name);
        if (c->kind == SHELF_CHANGE_UNSETENV) {
            if (at >= 0)
                shelf_strv_remove(out, (size_t)at);
            continue;
        }
        shelf_buf b;
        shelf_buf_init(&b);
        shelf_buf_addf(&b, "%s=%s", c->name, shelf_emit_str(c->value));
        char *entry = shelf_buf_take(&b);
        shelf_buf_free(&b);
        if (!entry)
            return SHELF_ENOMEM;
        if (at >= 0) {
            free(out->v[at]);
            out->v[at] = entry;
        } else if (shelf_strv_push_owned(out, entry) < 0) {
            return SHELF_ENOMEM;
        }
    }
    return SHELF_OK;
}

/* ---- the difference ------------------------------------------------------ */

static int cmp_entry(const void *a, const void *b)
{
    const char *x = *(const char *const *)a, *y = *(const char *const *)b;
    size_t nx = name_len(x), ny = name_len(y);
    int c = strncmp(x, y, nx < ny ? nx : ny);
    return c ? c : (nx > ny) - (nx < ny);
}

/* The entries of env sorted by name, in a malloc'd array of *n pointers
 * into env (NULL with *n = 0 for an empty env; NULL with *n = 1 on OOM). */
static char **sorted(char **env, size_t *n)
{
    *n = 0;
    while (env && env[*n])
        (*n)++;
    if (*n == 0)
        return NULL;
    char **s = malloc(*n * sizeof *s);
    if (!s) {
        *n = 1;
        return NULL;
    }
    memcpy(s, env, *n * sizeof *s);
    qsort(s, *n, sizeof *s, cmp_entry);
    return s;
}

/* Variables the difference leaves out: shelf's own state. */
static int is_private(const char *entry)
{
    return strncmp(entry, "_SHELF_", 7) == 0;
}

/* LOADEDMODULES and _LMFILES_ name the loaded modules exactly: never an
 * edit relative to what is there at run time. */
static int is_module_list(const char *name)
{
    return strcmp(name, "LOADEDMODULES") == 0 || strcmp(name, "_LMFILES_") == 0;
}

static shelf_export_var *new_var(shelf_export *x, const char *entry,
                                 shelf_export_op op)
{
    if (SHELF_GROW(x->vars, x->varcap, x->nvars + 1) < 0)
        return NULL;
    shelf_export_var *v = &x->vars[x->nvars];
    memset(v, 0, sizeof *v);
    shelf_strv_init(&v->prepend);
    shelf_strv_init(&v->append);
    v->op = op;
    v->name = strndup(entry, name_len(entry));
    if (!v->name)
        return NULL;
    x->nvars++;
    return v;
}

/* Splits `v1` around the ':'-list `v0` (non-empty): 1 and fills prepend
 * and append when v1 = P:v0:A; 0 when v0 is not a contiguous part of v1;
 * SHELF_ENOMEM. */
static int split_around(const char *v1, const char *v0, shelf_strv *prepend,
                        shelf_strv *append)
{
    shelf_strv l1, l0;
    shelf_strv_init(&l1);
    shelf_strv_init(&l0);
    int rc = shelf_strv_split(&l1, v1, ":", 1);
    if (rc == 0)
        rc = shelf_strv_split(&l0, v0, ":", 1);
    size_t at = 0;
    int found = 0;
    for (at = 0; rc == 0 && !found && l0.n <= l1.n && at <= l1.n - l0.n; at++) {
        found = 1;
        for (size_t k = 0; k < l0.n && found; k++)
            found = strcmp(l1.v[at + k], l0.v[k]) == 0;
        if (found)
            break;
    }
    if (rc == 0 && found) {
        for (size_t k = 0; k < at && rc == 0; k++)
            rc = shelf_strv_push(prepend, l1.v[k]);
        for (size_t k = at + l0.n; k < l1.n && rc == 0; k++)
            rc = shelf_strv_push(append, l1.v[k]);
    }
    shelf_strv_free(&l1);
    shelf_strv_free(&l0);
    return rc < 0 ? rc : found;
}

/* Records the change of one variable from e0 to e1 (either NULL). */
static int diff_one(shelf_export *x, const char *e0, const char *e1)
{
    if (!e1)
        return new_var(x, e0, SHELF_EXPORT_UNSET) ? SHELF_OK : SHELF_ENOMEM;
    const char *v0 = e0 ? entry_value(e0) : "";
    const char *v1 = entry_value(e1);
    if (e0 && strcmp(v0, v1) == 0)
        return SHELF_OK;
    shelf_export_var *v = new_var(x, e1, SHELF_EXPORT_PATH);
    if (!v)
        return SHELF_ENOMEM;
    int rc = 0;
    if (!is_module_list(v->name)) {
        if (*v0)
            rc = split_around(v1, v0, &v->prepend, &v->append);
        else if (shelf_str_ends(v->name, "PATH"))
            rc = shelf_strv_split(&v->prepend, v1, ":", 1) < 0 ? SHELF_ENOMEM : 1;
    }
    if (rc < 0)
        return rc;
    if (rc == 0) {
        v->op = SHELF_EXPORT_SET;
        v->value = strdup(v1);
        if (!v->value)
            return SHELF_ENOMEM;
    }
    return SHELF_OK;
}

int shelf_export_diff(shelf_export *x, char **env0, char **env1)
{
    size_t n0, n1;
    char **s0 = sorted(env0, &n0);
    char **s1 = sorted(env1, &n1);
    int rc = ((!s0 && n0) || (!s1 && n1)) ? SHELF_ENOMEM : SHELF_OK;
    size_t i = 0, j = 0;
    while (rc == 0 && (i < n0 || j < n1)) {
        int c = i >= n0 ? 1 : j >= n1 ? -1 : cmp_entry(&s0[i], &s1[j]);
        const char *a = c <= 0 ? s0[i] : NULL;
        const char *b = c >= 0 ? s1[j] : NULL;
        if (!is_private(a ? a : b))
            rc = diff_one(x, a, b);
        i += c <= 0;
        j += c >= 0;
    }
    free(s0);
    free(s1);
    return rc;
}

int shelf_export_unset(shelf_export *x, const char *name)
{
    if (is_private(name))
        return SHELF_OK;
    size_t at = 0;
    while (at < x->nvars && strcmp(x->vars[at].name, name) < 0)
        at++;
    if (at < x->nvars && strcmp(x->vars[at].name, name) == 0)
        return SHELF_OK;
    if (!new_var(x, name, SHELF_EXPORT_UNSET))
        return SHELF_ENOMEM;
    shelf_export_var v = x->vars[x->nvars - 1];
    memmove(x->vars + at + 1, x->vars + at, (x->nvars - 1 - at) * sizeof v);
    x->vars[at] = v;
    return SHELF_OK;
}

/* ---- writing: shared pieces ---------------------------------------------- */

/* Appends s to a comment: control bytes become '?' so that a strange
 * module name cannot end the comment. */
static void comment_text(shelf_buf *out, const char *s)
{
    for (; *s; s++)
        shelf_buf_addc(out, ((unsigned char)*s < 0x20 || *s == 0x7f) ? '?' : *s);
}

/* How to use each kind of script, one comment line (after the prefix). */
static const char *usage_line(shelf_export_format f)
{
    switch (f) {
    case SHELF_EXPORT_CSH:
    case SHELF_EXPORT_TCSH:
    case SHELF_EXPORT_FISH:
        return "Use: source FILE";
    case SHELF_EXPORT_PYTHON:
        return "Use: exec(open(FILE).read()) -- changes os.environ, so every "
               "process started afterwards";
    case SHELF_EXPORT_PREAMBLE_PYTHON:
        return "Use: the first cell of a notebook; needs shelf and the same "
               "module trees";
    default:
        return "Use: . FILE";
    }
}

static void header(const shelf_export *x, shelf_export_format f, shelf_buf *out)
{
    shelf_buf_addf(out, "# %s for %s, generated by shelf %s",
                   f == SHELF_EXPORT_PREAMBLE_PYTHON ? "Notebook preamble"
                                                     : "Module environment",
                   f == SHELF_EXPORT_PREAMBLE_PYTHON ? "Python" : format_name(f),
                   SHELF_VERSION_STRING);
    if (x->created)
        shelf_buf_addf(out, " on %s", x->created);
    shelf_buf_adds(out, ".\n");
    if (f != SHELF_EXPORT_PREAMBLE_PYTHON)
        shelf_buf_adds(out, "# Recreates what loading these modules did, without "
                            "shelf: path variables get the\n"
                            "# modules' entries around the value they have where "
                            "this runs; other variables\n"
                            "# are set or unset as the modules left them.\n");
    shelf_buf_addf(out, "# %s\n", usage_line(f));
    if (x->collection) {
        shelf_buf_adds(out, "# Collection: ");
        comment_text(out, x->collection);
        shelf_buf_addc(out, '\n');
    }
    if (x->modules.n == 0) {
        shelf_buf_adds(out, "# No modules are loaded: this changes nothing.\n");
        return;
    }
    shelf_buf_adds(out, "# Modules, in load order:\n");
    for (size_t i = 0; i < x->modules.n; i++) {
        shelf_buf_adds(out, "#   ");
        comment_text(out, x->modules.v[i]);
        shelf_buf_addc(out, '\n');
    }
}

/* The SET and UNSET variables as changes for the emitters. */
static int plain_changes(const shelf_export *x, shelf_changes *out)
{
    for (size_t i = 0; i < x->nvars; i++) {
        const shelf_export_var *v = &x->vars[i];
        if (v->op == SHELF_EXPORT_PATH)
            continue;
        int rc = shelf_changes_add(out, v->op == SHELF_EXPORT_SET ? SHELF_CHANGE_SETENV
                                                               : SHELF_CHANGE_UNSETENV,
                                   v->name, v->value, NULL);
        if (rc < 0)
            return rc;
    }
    return SHELF_OK;
}

/* A ':'-joined list, or NULL on OOM (an empty list gives ""). */
static char *joined(const shelf_strv *sv)
{
    return sv->n ? shelf_strv_join(sv, ":") : strdup("");
}

static int any_newline(const shelf_strv *sv)
{
    for (size_t i = 0; i < sv->n; i++)
        if (strchr(sv->v[i], '\n'))
            return 1;
    return 0;
}

/* ---- path edits, one writer per language --------------------------------- */

/* sh family: V=P"${V:+:$V}":A; export V; (either side may be absent). */
static void sh_path(shelf_buf *out, const shelf_export_var *v, const char *p,
                    const char *a)
{
    shelf_buf_addf(out, "%s=", v->name);
    if (v->prepend.n) {
        shelf_emit_sh_quote(out, p);
        shelf_buf_addf(out, "\"${%s:+:$%s}\"", v->name, v->name);
    } else {
        shelf_buf_addf(out, "\"${%s:+$%s:}\"", v->name, v->name);
    }
    if (v->append.n) {
        if (v->prepend.n)
            shelf_buf_addc(out, ':');
        shelf_emit_sh_quote(out, a);
    }
    shelf_buf_addf(out, ";\nexport %s;\n", v->name);
}

/* csh: the value found is used only when set and not empty; $V:q keeps
 * its bytes, and the quoted ':' after it keeps csh from reading a second
 * modifier. */
static void csh_path(shelf_buf *out, const shelf_export_var *v, const char *p,
                     const char *a)
{
    const char *n = v->name;
    shelf_buf_addf(out, "if ($?%s) then\n  if ($%%%s > 0) then\n    setenv %s ", n, n, n);
    if (v->prepend.n) {
        shelf_emit_csh_quote(out, p);
        shelf_buf_adds(out, "':'");
    }
    shelf_buf_addf(out, "$%s:q", n);
    if (v->append.n) {
        shelf_buf_adds(out, "':'");
        shelf_emit_csh_quote(out, a);
    }
    shelf_buf_adds(out, ";\n  else\n");
    for (int branch = 0; branch < 2; branch++) {
        shelf_buf_addf(out, branch == 0 ? "    setenv %s " : "  setenv %s ", n);
        if (v->prepend.n && v->append.n) {
            shelf_emit_csh_quote(out, p);
            shelf_buf_adds(out, "':'");
            shelf_emit_csh_quote(out, a);
        } else {
            shelf_emit_csh_quote(out, v->prepend.n ? p : a);
        }
        shelf_buf_adds(out, branch == 0 ? ";\n  endif\nelse\n" : ";\nendif\n");
    }
}

static void fish_list(shelf_buf *out, const shelf_strv *sv)
{
    for (size_t i = 0; i < sv->n; i++) {
        shelf_buf_addc(out, ' ');
        shelf_emit_fish_word(out, sv->v[i], strlen(sv->v[i]));
    }
}

/* fish: a *PATH variable is a list (set -gx V P... $V A...), any other
 * variable one string. "$V" is empty for an unset V and for V = "" (a
 * list of one empty element, which $V alone would keep as a stray ':'). */
static void fish_path(shelf_buf *out, const shelf_export_var *v, const char *p,
                      const char *a)
{
    const char *n = v->name;
    if (shelf_str_ends(n, "PATH")) {
        shelf_buf_addf(out, "if test -n \"$%s\"\n    set -gx %s", n, n);
        fish_list(out, &v->prepend);
        shelf_buf_addf(out, " $%s", n);
        fish_list(out, &v->append);
        shelf_buf_addf(out, "\nelse\n    set -gx %s", n);
        fish_list(out, &v->prepend);
        fish_list(out, &v->append);
        shelf_buf_adds(out, "\nend;\n");
        return;
    }
    shelf_buf_addf(out, "if test -n \"$%s\"\n    set -gx %s ", n, n);
    if (v->prepend.n) {
        shelf_emit_fish_word(out, p, strlen(p));
        shelf_buf_adds(out, "':'");
    }
    shelf_buf_addf(out, "\"$%s\"", n);
    if (v->append.n) {
        shelf_buf_adds(out, "':'");
        shelf_emit_fish_word(out, a, strlen(a));
    }
    shelf_buf_addf(out, "\nelse\n    set -gx %s ", n);
    if (v->prepend.n && v->append.n) {
        shelf_emit_fish_word(out, p, strlen(p));
        shelf_buf_adds(out, "':'");
        shelf_emit_fish_word(out, a, strlen(a));
    } else {
        const char *s = v->prepend.n ? p : a;
        shelf_emit_fish_word(out, s, strlen(s));
    }
    shelf_buf_adds(out, "\nend;\n");
}

static void py_list(shelf_buf *out, const shelf_strv *sv)
{
    shelf_buf_addc(out, '[');
    for (size_t i = 0; i < sv->n; i++) {
        if (i)
            shelf_buf_adds(out, ", ");
        shelf_emit_py_literal(out, sv->v[i]);
    }
    shelf_buf_addc(out, ']');
}

static void py_path(shelf_buf *out, const shelf_export_var *v)
{
    shelf_buf_addf(out, "_shelf_path(\"%s\", ", v->name);
    py_list(out, &v->prepend);
    shelf_buf_adds(out, ", ");
    py_list(out, &v->append);
    shelf_buf_adds(out, ")\n");
}

static const char PY_PATH_HELPER[] =
    "def _shelf_path(name, front, back):\n"
    "    now = os.environ.get(name, \"\")\n"
    "    os.environ[name] = \":\".join(front + ([now] if now else []) + back)\n";

/* Writes every PATH edit for f (not json or preamble). */
static int path_edits(const shelf_export *x, shelf_export_format f, int imported,
                      shelf_buf *out, shelf_error *err)
{
    int csh = f == SHELF_EXPORT_CSH || f == SHELF_EXPORT_TCSH;
    int any = 0, nl = 0;
    for (size_t i = 0; i < x->nvars; i++) {
        const shelf_export_var *v = &x->vars[i];
        if (v->op != SHELF_EXPORT_PATH)
            continue;
        if (!shelf_emit_is_identifier(v->name)) {
            shelf_error_set(err, SHELF_EUSAGE, NULL, NULL, 0,
                            "invalid environment variable name \"%s\" for %s",
                            v->name, format_name(f));
            return SHELF_EUSAGE;
        }
        any = 1;
        nl |= any_newline(&v->prepend) || any_newline(&v->append);
    }
    if (!any)
        return SHELF_OK;
    if (f == SHELF_EXPORT_PYTHON) {
        if (!imported)
            shelf_buf_adds(out, "import os\n");
        shelf_buf_adds(out, PY_PATH_HELPER);
    }
    if (csh && nl)
        shelf_buf_adds(out, "set _shelf_nl = '\\\n';\n");
    for (size_t i = 0; i < x->nvars; i++) {
        const shelf_export_var *v = &x->vars[i];
        if (v->op != SHELF_EXPORT_PATH)
            continue;
        char *p = joined(&v->prepend), *a = joined(&v->append);
        if (!p || !a) {
            free(p);
            free(a);
            return SHELF_ENOMEM;
        }
        switch (f) {
        case SHELF_EXPORT_CSH:
        case SHELF_EXPORT_TCSH: csh_path(out, v, p, a); break;
        case SHELF_EXPORT_FISH: fish_path(out, v, p, a); break;
        case SHELF_EXPORT_PYTHON: py_path(out, v); break;
        default: sh_path(out, v, p, a); break;
        }
        free(p);
        free(a);
    }
    if (csh && nl)
        shelf_buf_adds(out, "unset _shelf_nl;\n");
    if (f == SHELF_EXPORT_PYTHON)
        shelf_buf_adds(out, "del _shelf_path\n");
    return SHELF_OK;
}

/* ---- JSON ----------------------------------------------------------------- */

static void json_strings(shelf_buf *out, const shelf_strv *sv)
{
    shelf_buf_addc(out, '[');
    for (size_t i = 0; i < sv->n; i++) {
        if (i)
            shelf_buf_adds(out, ", ");
        shelf_json_quote(out, sv->v[i]);
    }
    shelf_buf_addc(out, ']');
}

/* "key": {  one member a line for every variable with op (path: its
 * prepend or append list, when not empty) }. */
static void json_vars(shelf_buf *out, const shelf_export *x, const char *key,
                      shelf_export_op op, int append)
{
    shelf_buf_addf(out, "  \"%s\": {", key);
    int first = 1;
    for (size_t i = 0; i < x->nvars; i++) {
        const shelf_export_var *v = &x->vars[i];
        const shelf_strv *list = append ? &v->append : &v->prepend;
        if (v->op != op || (op == SHELF_EXPORT_PATH && list->n == 0))
            continue;
        shelf_buf_adds(out, first ? "\n    " : ",\n    ");
        first = 0;
        shelf_json_quote(out, v->name);
        shelf_buf_adds(out, ": ");
        if (op == SHELF_EXPORT_SET)
            shelf_json_quote(out, v->value);
        else
            json_strings(out, list);
    }
    shelf_buf_adds(out, first ? "},\n" : "\n  },\n");
}

static void json_named(shelf_buf *out, const shelf_export *x, shelf_change_kind kind)
{
    shelf_buf_addf(out, "  \"%s\": {", kind == SHELF_CHANGE_ALIAS ? "aliases" : "functions");
    int first = 1;
    for (size_t i = 0; i < x->named.n; i++) {
        const shelf_change *c = &x->named.items[i];
        if (c->kind != kind)
            continue;
        shelf_buf_adds(out, first ? "\n    " : ",\n    ");
        first = 0;
        shelf_json_quote(out, c->name);
        shelf_buf_adds(out, ": ");
        if (kind == SHELF_CHANGE_ALIAS) {
            shelf_json_quote(out, shelf_emit_str(c->value));
            continue;
        }
        shelf_buf_adds(out, "{\"sh\": ");
        shelf_json_quote(out, shelf_emit_str(c->value));
        shelf_buf_adds(out, ", \"csh\": ");
        if (c->value2)
            shelf_json_quote(out, c->value2);
        else
            shelf_buf_adds(out, "null");
        shelf_buf_addc(out, '}');
    }
    shelf_buf_adds(out, first ? "}" : "\n  }");
}

static void write_json(const shelf_export *x, shelf_buf *out)
{
    shelf_buf_adds(out, "{\n  \"format\": 1,\n  \"generator\": ");
    shelf_json_quote(out, "shelf " SHELF_VERSION_STRING);
    shelf_buf_adds(out, ",\n  \"created\": ");
    if (x->created)
        shelf_json_quote(out, x->created);
    else
        shelf_buf_adds(out, "null");
    shelf_buf_adds(out, ",\n  \"collection\": ");
    if (x->collection)
        shelf_json_quote(out, x->collection);
    else
        shelf_buf_adds(out, "null");
    shelf_buf_adds(out, ",\n  \"modules\": ");
    json_strings(out, &x->modules);
    shelf_buf_adds(out, ",\n");
    json_vars(out, x, "set", SHELF_EXPORT_SET, 0);
    json_vars(out, x, "prepend", SHELF_EXPORT_PATH, 0);
    json_vars(out, x, "append", SHELF_EXPORT_PATH, 1);
    shelf_buf_adds(out, "  \"unset\": [");
    int first = 1;
    for (size_t i = 0; i < x->nvars; i++) {
        if (x->vars[i].op != SHELF_EXPORT_UNSET)
            continue;
        if (!first)
            shelf_buf_adds(out, ", ");
        first = 0;
        shelf_json_quote(out, x->vars[i].name);
    }
    shelf_buf_adds(out, "],\n");
    json_named(out, x, SHELF_CHANGE_ALIAS);
    shelf_buf_adds(out, ",\n");
    json_named(out, x, SHELF_CHANGE_FUNC);
    shelf_buf_adds(out, "\n}\n");
}

/* ---- Python preamble ------------------------------------------------------- */

static void write_preamble(const shelf_export *x, const char *pydir, shelf_buf *out)
{
    if (pydir) {
        shelf_buf_adds(out, "import sys; sys.path.insert(0, ");
        shelf_emit_py_literal(out, pydir);
        shelf_buf_adds(out, ")  # where shelf's Python module is installed\n");
    }
    shelf_buf_adds(out, "import shelf\n");
    if (x->modules.n == 0)
        return;
    shelf_buf_adds(out, "shelf.load(");
    for (size_t i = 0; i < x->modules.n; i++) {
        if (i)
            shelf_buf_adds(out, ", ");
        shelf_emit_py_literal(out, x->modules.v[i]);
    }
    shelf_buf_adds(out, ")\n");
}

/* ---- the whole script ------------------------------------------------------ */

int shelf_export_write(const shelf_export *x, shelf_export_format f,
                       const char *pydir, shelf_buf *out, shelf_error *err)
{
    shelf_shell sh = shelf_export_format_shell(f);
    if (sh == SHELF_SH_UNKNOWN) {
        shelf_error_set(err, SHELF_EUSAGE, NULL, NULL, 0, "unknown export format");
        return SHELF_EUSAGE;
    }
    int rc = SHELF_OK;
    if (f == SHELF_EXPORT_JSON) {
        write_json(x, out);
    } else if (f == SHELF_EXPORT_PREAMBLE_PYTHON) {
        header(x, f, out);
        write_preamble(x, pydir, out);
    } else {
        header(x, f, out);
        shelf_changes plain;
        shelf_changes_init(&plain);
        rc = plain_changes(x, &plain);
        if (rc == 0)
            rc = shelf_emit(sh, &plain, out, err);
        if (rc == 0)
            rc = path_edits(x, f, plain.n > 0, out, err);
        if (rc == 0 && f != SHELF_EXPORT_PYTHON)
            rc = shelf_emit(sh, &x->named, out, err);
        shelf_changes_free(&plain);
    }
    if (rc == SHELF_OK)
        rc = shelf_buf_ok(out);
    if (rc == SHELF_ENOMEM)
        shelf_error_set(err, rc, NULL, NULL, 0, "out of memory while writing the %s script",
                        format_name(f));
    return rc;
}
