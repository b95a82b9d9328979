/*
 * emit_sh.c -- code for the Bourne family: bash, zsh, sh (dash, POSIX
 * only) and ksh (ksh93).
 *
 * The output is meant for `eval "$(shelf bash ...)"` (shell-init/bash and
 * friends) and uses only POSIX syntax for values: every value that is not
 * a plain word goes in single quotes, where no shell interprets anything,
 * and a single quote becomes \' between quoted runs. Newlines, `!`, `$`,
 * backquotes and non-ASCII bytes are therefore taken literally by every
 * shell of the family, interactive or not. ($'...' would be shorter for
 * control bytes but is not POSIX.)
 *
 * Per change (one statement a line, each ending in ';' as Lmod's do):
 *   setenv    NAME=VALUE;  export NAME;
 *   unsetenv  unset NAME;
 *   alias     alias NAME=VALUE;
 *   unalias   unalias NAME 2>/dev/null || true;
 *   func      bash/zsh/ksh: function NAME {  BODY  }   (the keyword form:
 *             an alias of the same name is not expanded in it, and in ksh
 *             it gives typeset-local variables)
 *             sh: NAME () {  BODY  }
 *             BODY sits on its own lines so that a body ending in ';', '&'
 *             or a comment still parses; an empty body becomes ':'.
 *   unfunc    unset -f NAME 2>/dev/null || true;
 * Every statement succeeds when the thing it removes does not exist, so
 * the status of the whole eval is 0 unless something really failed.
 */
#include "config.h"

#include <string.h>

#include "emit-internal.h"

void shelf_emit_sh_quote(shelf_buf *out, const char *s)
{
    if (shelf_emit_is_bare(s, strlen(s))) {
        shelf_buf_adds(out, s);
        return;
    }
    if (!*s) {
        shelf_buf_adds(out, "''");
        return;
    }
    while (*s) {
        if (*s == '\'') {
            shelf_buf_adds(out, "\\'");
            s++;
            continue;
        }
        size_t run = strcspn(s, "'");
        shelf_buf_addc(out, '\'');
        shelf_buf_add(out, s, run);
        shelf_buf_addc(out, '\'');
        s += run;
    }
}

static void emit_func(shelf_shell sh, const shelf_change *c, shelf_buf *out)
{
    const char *body = shelf_emit_str(c->value);
    if (sh == SHELF_SH_SH)
        shelf_buf_addf(out, "%s () {\n", c->name);
    else
        shelf_buf_addf(out, "function %s {\n", c->name);
    shelf_buf_adds(out, *body ? body : ":");
    shelf_buf_adds(out, "\n};\n");
}

void shelf_emit_sh(shelf_shell sh, const shelf_changes *changes, shelf_buf *out)
{
    for (size_t i = 0; i < changes->n; i++) {
        const shelf_change *c = &changes->items[i];
        switch (c->kind) {
        case SHELF_CHANGE_SETENV:
            shelf_buf_addf(out, "%s=", c->name);
            shelf_emit_sh_quote(out, shelf_emit_str(c->value));
            shelf_buf_addf(out, ";\nexport %s;\n", c->name);
            break;
        case SHELF_CHANGE_UNSETENV:
            shelf_buf_addf(out, "unset %s;\n", c->name);
            break;
        case SHELF_CHANGE_ALIAS:
            shelf_buf_addf(out, "alias %s=", c->name);
            shelf_emit_sh_quote(out, shelf_emit_str(c->value));
            shelf_buf_adds(out, ";\n");
            break;
        case SHELF_CHANGE_UNALIAS:
            shelf_buf_addf(out, "unalias %s 2>/dev/null || true;\n", c->name);
            break;
        case SHELF_CHANGE_FUNC:
            emit_func(sh, c, out);
            break;
        case SHELF_CHANGE_UNFUNC:
            shelf_buf_addf(out, "unset -f %s 2>/dev/null || true;\n", c->name);
            break;
        }
    }
}
