/*
 * emit_fish.c -- code for fish (3.x).
 *
 * Quoting: fish's single quotes take everything literally except \\ and
 * \', so a value becomes '...' with those two escaped; newlines, $, (),
 * and non-ASCII bytes need nothing (fish keeps bytes that are not valid
 * UTF-8 and gives them back unchanged when it exports the variable).
 *
 * Path variables: fish treats every variable whose name ends in PATH as a
 * list that it joins with ':' when exporting (PATH, MANPATH, CDPATH, and
 * also LD_LIBRARY_PATH...). Such values are written as one list element
 * per ':'-separated piece, empty pieces included, so that $PATH is a
 * proper list for fish's command lookup and the exported string is
 * byte-for-byte the value. Every other variable is a single string.
 *
 * Per change:
 *   setenv    set -gx NAME VALUE;        (-g: the module function's own
 *                                         scope must not capture it)
 *   unsetenv  set -e -g NAME; or true;   (set -e fails when the variable is
 *                                         already gone; that is not an error)
 *   alias     alias NAME VALUE;
 *   unalias, unfunc  functions -e NAME;  (a fish alias is a function)
 *   func      function NAME <newline> BODY <newline> end;  (value is the
 *             body; an empty body gives an empty function)
 */
#include "config.h"

#include <string.h>

#include "emit-internal.h"

static void fish_quote_n(shelf_buf *out, const char *s, size_t n)
{
    shelf_buf_addc(out, '\'');
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\\' || s[i] == '\'')
            shelf_buf_addc(out, '\\');
        shelf_buf_addc(out, s[i]);
    }
    shelf_buf_addc(out, '\'');
}

void shelf_emit_fish_word(shelf_buf *out, const char *s, size_t n)
{
    if (shelf_emit_is_bare(s, n))
        shelf_buf_add(out, s, n);
    else
        fish_quote_n(out, s, n);
}

static void fish_quote(shelf_buf *out, const char *s)
{
    shelf_emit_fish_word(out, s, strlen(s));
}

static int is_path_var(const char *name)
{
    size_t n = strlen(name);
    return n >= 4 && strcmp(name + n - 4, "PATH") == 0;
}

static void emit_setenv(shelf_buf *out, const char *name, const char *value)
{
    shelf_buf_addf(out, "set -gx %s ", name);
    if (!is_path_var(name)) {
        fish_quote(out, value);
    } else {
        const char *p = value;
        for (;;) {
            size_t n = strcspn(p, ":");
            shelf_emit_fish_word(out, p, n);
            if (p[n] != ':')
                break;
            shelf_buf_addc(out, ' ');
            p += n + 1;
        }
    }
    shelf_buf_adds(out, ";\n");
}

void shelf_emit_fish(const shelf_changes *changes, shelf_buf *out)
{
    for (size_t i = 0; i < changes->n; i++) {
        const shelf_change *c = &changes->items[i];
        switch (c->kind) {
        case SHELF_CHANGE_SETENV:
            emit_setenv(out, c->name, shelf_emit_str(c->value));
            break;
        case SHELF_CHANGE_UNSETENV:
            shelf_buf_addf(out, "set -e -g %s; or true;\n", c->name);
            break;
        case SHELF_CHANGE_ALIAS:
            shelf_buf_addf(out, "alias %s ", c->name);
            fish_quote(out, shelf_emit_str(c->value));
            shelf_buf_adds(out, ";\n");
            break;
        case SHELF_CHANGE_FUNC:
            shelf_buf_addf(out, "function %s\n", c->name);
            if (c->value && *c->value) {
                shelf_buf_adds(out, c->value);
                shelf_buf_addc(out, '\n');
            }
            shelf_buf_adds(out, "end;\n");
            break;
        case SHELF_CHANGE_UNALIAS:
        case SHELF_CHANGE_UNFUNC:
            shelf_buf_addf(out, "functions -e %s;\n", c->name);
            break;
        }
    }
}
