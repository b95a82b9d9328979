/*
 * emit-internal.h -- what the emitters (emit_*.c) share with the
 * dispatcher (emit.c).
 *
 * emit.c validates every name in a change list before any emitter runs, so
 * an emitter never fails on bad input: it only appends to `out`, and an
 * allocation failure shows as out->oom (checked once by shelf_emit()).
 * Values are arbitrary byte strings without NUL; NULL values are treated as
 * "" by every emitter.
 */
#ifndef SHELF_EMIT_INTERNAL_H
#define SHELF_EMIT_INTERNAL_H

#include "shelf.h"

/* bash, zsh, sh (dash) and ksh: `sh` says which one. */
void shelf_emit_sh(shelf_shell sh, const shelf_changes *changes, shelf_buf *out);
/* csh and tcsh produce the same code. */
void shelf_emit_csh(const shelf_changes *changes, shelf_buf *out);
void shelf_emit_fish(const shelf_changes *changes, shelf_buf *out);
void shelf_emit_python(const shelf_changes *changes, shelf_buf *out);
/* The only emitter that can fail by itself (it builds a document first):
 * returns 0 or SHELF_ENOMEM. */
int shelf_emit_json(const shelf_changes *changes, shelf_buf *out);

/* 1 if s is a portable variable name: [A-Za-z_][A-Za-z0-9_]*. */
int shelf_emit_is_identifier(const char *s);

/* 1 if the n bytes at s are not empty and all are bytes that no shell
 * treats specially anywhere in a word ([A-Za-z0-9_@+=:,./-]): such a value
 * may be written without quotes, which keeps the common case readable. */
int shelf_emit_is_bare(const char *s, size_t n);

/* Appends a POSIX shell word whose value is exactly s: runs of bytes in
 * '...', each ' as \' outside the quotes (never an empty '' pair, so zsh's
 * RC_QUOTES cannot merge two quotes into one). */
void shelf_emit_sh_quote(shelf_buf *out, const char *s);

/* Appends a csh/tcsh word whose value is exactly s (emit_csh.c). A newline
 * is written as $_shelf_nl:q: the code must define that variable first
 * (set _shelf_nl = '\<newline>') when s may hold one. */
void shelf_emit_csh_quote(shelf_buf *out, const char *s);

/* Appends a fish word whose value is exactly the n bytes at s: bare when
 * shelf_emit_is_bare(), else in '...' with \ and ' escaped (emit_fish.c). */
void shelf_emit_fish_word(shelf_buf *out, const char *s, size_t n);

/* Appends a pure-ASCII Python expression whose value, stored in
 * os.environ, gives back exactly the bytes of s (emit_python.c). */
void shelf_emit_py_literal(shelf_buf *out, const char *s);

/* A value, or "" for NULL. */
static inline const char *shelf_emit_str(const char *s)
{
    return s ? s : "";
}

#endif
