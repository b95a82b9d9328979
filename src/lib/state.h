/*
 * state.h -- how the loaded-module table (shelf_loaded, shelf_state in
 * shelf.h) lives in the environment.
 *
 * The table (modules in load order, plus the path reference counts and
 * pushenv stacks held by the shelf_env) is stored as compact JSON split into
 * chunks of SHELF_STATE_CHUNK bytes: _SHELF_TABLE_001, _SHELF_TABLE_002, ...
 * with the number of chunks in _SHELF_TABLE_SZ (csh limits the length of a
 * variable). LOADEDMODULES and _LMFILES_ are derived from the table.
 */
#ifndef SHELF_STATE_H
#define SHELF_STATE_H

#include "envmodel.h"
#include "shelf.h"

#define SHELF_STATE_CHUNK 512

/* Reads the table from env (and the reference counts and pushenv stacks
 * into env). An environment without a table gives an empty state. A
 * corrupt table gives SHELF_ESTATE with a message saying what is wrong and
 * how to recover; st is then empty and env unchanged. */
int shelf_state_load(shelf_state *st, shelf_env *env, shelf_error *err);

/* Writes the table, LOADEDMODULES and _LMFILES_ into env (removing all of
 * them when nothing is loaded and no counts are left). 0 or SHELF_ENOMEM. */
int shelf_state_save(const shelf_state *st, shelf_env *env);

#endif
