/*
 * pattern.h -- Lua 5.4 patterns (string.find, match, gmatch and gsub) for
 * the sandbox, written so that a match can be stopped.
 *
 * Lua's own matcher is C code the instruction count never sees: a pattern
 * such as ("a?"):rep(34)..("a"):rep(34) backtracks for hours inside one
 * call. This one gives the same results (the manual's section 6.4.1:
 * classes, sets, quantifiers, anchors, captures, %b, %f, back-references)
 * and reports its work to a budget every so many steps; the budget stops
 * it by raising an ordinary Lua error at a point where the matcher holds
 * nothing but Lua values.
 */
#ifndef SHELF_PATTERN_H
#define SHELF_PATTERN_H

struct lua_State;

/* Where a match reports its work: charge(L, ud, steps) is called with the
 * steps done since the last call, every few hundred steps and once at the
 * end of each library call; it may raise a Lua error to stop the match. */
typedef struct shelf_pattern_budget {
    void (*charge)(struct lua_State *L, void *ud, unsigned long steps);
    void *ud;
} shelf_pattern_budget;

/* Sets find, match, gmatch and gsub in the table at index lib to this
 * matcher's functions, which charge budget (which must outlive every use
 * of them). Plain finds (the fourth argument of find, or a pattern without
 * special characters) are a linear-time substring search. Raises a Lua
 * error when out of memory. */
void shelf_pattern_open(struct lua_State *L, int lib, const shelf_pattern_budget *budget);

#endif
