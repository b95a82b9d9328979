/*
 * emit_json.c -- the changes as one JSON document, for programs (the
 * daemon, the Jupyter extension, scripts) rather than shells. Modelled on
 * Lmod 8.7's `json` shell.
 *
 * Shape (every key always present, one line, then a newline):
 *   {
 *     "env":         {"NAME": "value", ...},   variables to set
 *     "unset":       ["NAME", ...],            variables to remove
 *     "alias":       {"name": "command line", ...},
 *     "unalias":     ["name", ...],
 *     "shellFunc":   {"name": {"sh": "body", "csh": "body" or null}, ...},
 *     "unshellFunc": ["name", ...]
 *   }
 * A name appears at most once per pair (env/unset, alias/unalias,
 * shellFunc/unshellFunc): when the change list touches it twice, the last
 * change wins, and the entry sits where that last change put it.
 *
 * The document is json.c's change set, printed by json.c's printer: a byte
 * that is not part of valid UTF-8 is written as \udcXX (Python's
 * surrogateescape), so every value arrives byte for byte.
 */
#include "config.h"

#include <stdlib.h>

#include "emit-internal.h"
#include "shelf.h"

int shelf_emit_json(const shelf_changes *changes, shelf_buf *out)
{
    cJSON *doc = shelf_json_changes(changes);
    if (!doc)
        return SHELF_ENOMEM;
    shelf_json_print(doc, 0, out);
    shelf_buf_addc(out, '\n');
    cJSON_Delete(doc);
    return shelf_buf_ok(out);
}
