/*
 * emit_python.c -- Python code that applies the changes to os.environ,
 * for exec() in a running interpreter (a notebook kernel, Lmod's
 * `module(...)` helper in Python scripts).
 *
 *   import os                                  (once, first)
 *   os.environ["NAME"] = "VALUE"               setenv
 *   os.environ.pop("NAME", None)               unsetenv (no error if unset)
 * Aliases and shell functions mean nothing to Python and are skipped.
 *
 * Values: the output is pure ASCII. Printable ASCII is written as is (with
 * \\ and \" escaped), control bytes as \n, \t, \r or \xNN. A value with any
 * byte >= 0x80 is written as os.fsdecode(b"...") with those bytes as \xNN:
 * os.environ encodes a str back with the file system encoding and the
 * surrogateescape handler, which is exactly the inverse of os.fsdecode, so
 * the process gets the very bytes of the value whatever the locale, and
 * invalid UTF-8 survives too.
 */
#include "config.h"

#include "emit-internal.h"

void shelf_emit_py_literal(shelf_buf *out, const char *s)
{
    int high = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p >= 0x80)
            high = 1;
    if (high)
        shelf_buf_adds(out, "os.fsdecode(b\"");
    else
        shelf_buf_addc(out, '"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '\\': shelf_buf_adds(out, "\\\\"); break;
        case '"': shelf_buf_adds(out, "\\\""); break;
        case '\n': shelf_buf_adds(out, "\\n"); break;
        case '\t': shelf_buf_adds(out, "\\t"); break;
        case '\r': shelf_buf_adds(out, "\\r"); break;
        default:
            if (*p < 0x20 || *p >= 0x7f)
                shelf_buf_addf(out, "\\x%02x", *p);
            else
                shelf_buf_addc(out, (char)*p);
        }
    }
    shelf_buf_adds(out, high ? "\")" : "\"");
}

void shelf_emit_python(const shelf_changes *changes, shelf_buf *out)
{
    int imported = 0;
    for (size_t i = 0; i < changes->n; i++) {
        const shelf_change *c = &changes->items[i];
        if (c->kind != SHELF_CHANGE_SETENV && c->kind != SHELF_CHANGE_UNSETENV)
            continue;
        if (!imported)
            shelf_buf_adds(out, "import os\n");
        imported = 1;
        if (c->kind == SHELF_CHANGE_SETENV) {
            shelf_buf_addf(out, "os.environ[\"%s\"] = ", c->name);
            shelf_emit_py_literal(out, shelf_emit_str(c->value));
            shelf_buf_addc(out, '\n');
        } else {
            shelf_buf_addf(out, "os.environ.pop(\"%s\", None)\n", c->name);
        }
    }
}
