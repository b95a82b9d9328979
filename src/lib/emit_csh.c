/*
 * emit_csh.c -- code for csh and tcsh.
 *
 * The code is written for `source FILE`, not for eval "`...`": the init
 * alias (shell-init/csh, shell-init/tcsh) saves shelf's output to a
 * temporary file, sources it when shelf succeeded, removes it and returns
 * shelf's status. That is the only way csh lets a value hold a newline:
 * command substitution turns every newline of the output into a word
 * break, and eval joins words with spaces.
 *
 * Quoting (shelf_emit_csh_quote): plain words stay bare; everything else is built from
 * pieces that csh reads literally in every context (interactive or not):
 *   - runs of ordinary bytes in '...' ($ and ` are literal there);
 *   - '  ->  \'      (outside quotes)
 *   - \  ->  \\      (outside quotes: inside them a backslash is literal
 *                     except before ! and newline, which is ambiguous)
 *   - !  ->  \!      (outside quotes; history substitution runs before
 *                     quoting, even in sourced files, and outside quotes
 *                     \! is literal whatever histchars holds)
 *   - newline -> $_shelf_nl:q, a shell variable holding one newline that
 *                     the code defines first (set _shelf_nl = '\<newline>')
 *                     and unsets last. A newline written in the word itself
 *                     ('\<newline>' in quotes) works only as long as the
 *                     word has no $ or ` anywhere, even quoted: tcsh 6.24
 *                     then fails with "Unmatched '''". A substituted
 *                     newline protected by :q has no such trouble.
 *
 * Per change:
 *   setenv    setenv NAME VALUE;
 *   unsetenv  unsetenv NAME;
 *   alias     alias NAME BODY;     with $* -> !* and $1..$9 -> !:1..!:9 as
 *                                  Lmod does, so one alias text serves sh
 *                                  and csh
 *   unalias   unalias NAME;
 *   func      csh has no functions: value2 (the csh body) becomes an alias
 *             (same conversion); no csh body -> nothing is written
 *   unfunc    unalias NAME;
 */
#include "config.h"

#include <string.h>

#include "emit-internal.h"

void shelf_emit_csh_quote(shelf_buf *out, const char *s)
{
    if (shelf_emit_is_bare(s, strlen(s))) {
        shelf_buf_adds(out, s);
        return;
    }
    if (!*s) {
        shelf_buf_adds(out, "''");
        return;
    }
    int quoted = 0; /* inside an open '...' */
    for (; *s; s++) {
        switch (*s) {
        case '\'':
        case '\\':
        case '!':
            if (quoted)
                shelf_buf_addc(out, '\'');
            quoted = 0;
            shelf_buf_addc(out, '\\');
            shelf_buf_addc(out, *s);
            break;
        case '\n':
            if (quoted)
                shelf_buf_addc(out, '\'');
            quoted = 0;
            shelf_buf_adds(out, "$_shelf_nl:q");
            break;
        default:
            if (!quoted)
                shelf_buf_addc(out, '\'');
            quoted = 1;
            shelf_buf_addc(out, *s);
            break;
        }
    }
    if (quoted)
        shelf_buf_addc(out, '\'');
}

/* Appends `alias NAME BODY;` with sh-style argument references turned into
 * csh history references. */
static void emit_alias(shelf_buf *out, const char *name, const char *body)
{
    shelf_buf conv;
    shelf_buf_init(&conv);
    for (const char *p = body; *p; p++) {
        if (p[0] == '$' && p[1] == '*') {
            shelf_buf_adds(&conv, "!*");
            p++;
        } else if (p[0] == '$' && p[1] >= '1' && p[1] <= '9') {
            shelf_buf_adds(&conv, "!:");
            shelf_buf_addc(&conv, p[1]);
            p++;
        } else {
            shelf_buf_addc(&conv, *p);
        }
    }
    if (conv.oom) {
        out->oom = 1;
    } else {
        shelf_buf_addf(out, "alias %s ", name);
        shelf_emit_csh_quote(out, conv.data ? conv.data : "");
        shelf_buf_adds(out, ";\n");
    }
    shelf_buf_free(&conv);
}

static int has_newline(const shelf_change *c)
{
    switch (c->kind) {
    case SHELF_CHANGE_SETENV:
    case SHELF_CHANGE_ALIAS:
        return c->value && strchr(c->value, '\n');
    case SHELF_CHANGE_FUNC:
        return c->value2 && strchr(c->value2, '\n');
    default:
        return 0;
    }
}

void shelf_emit_csh(const shelf_changes *changes, shelf_buf *out)
{
    int nl = 0;
    for (size_t i = 0; i < changes->n && !nl; i++)
        nl = has_newline(&changes->items[i]);
    if (nl)
        shelf_buf_adds(out, "set _shelf_nl = '\\\n';\n");
    for (size_t i = 0; i < changes->n; i++) {
        const shelf_change *c = &changes->items[i];
        switch (c->kind) {
        case SHELF_CHANGE_SETENV:
            shelf_buf_addf(out, "setenv %s ", c->name);
            shelf_emit_csh_quote(out, shelf_emit_str(c->value));
            shelf_buf_adds(out, ";\n");
            break;
        case SHELF_CHANGE_UNSETENV:
            shelf_buf_addf(out, "unsetenv %s;\n", c->name);
            break;
        case SHELF_CHANGE_ALIAS:
            emit_alias(out, c->name, shelf_emit_str(c->value));
            break;
        case SHELF_CHANGE_FUNC:
            if (c->value2 && *c->value2)
                emit_alias(out, c->name, c->value2);
            break;
        case SHELF_CHANGE_UNALIAS:
        case SHELF_CHANGE_UNFUNC:
            shelf_buf_addf(out, "unalias %s;\n", c->name);
            break;
        }
    }
    if (nl)
        shelf_buf_adds(out, "unset _shelf_nl;\n");
}
