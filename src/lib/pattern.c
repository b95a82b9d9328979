/*
 * pattern.c -- Lua 5.4 patterns with a step budget (see pattern.h).
 *
 * The matcher is a backtracking one: match() walks the pattern from one
 * subject position and returns where the match ends (NULL for none),
 * trying the longest repetition first for '*' and '+', the shortest for
 * '-', and the item before nothing for '?'. That order is what makes its
 * results those of Lua's string library, so it is kept exactly; the
 * recursion is bounded (MAX_DEPTH nested calls, "pattern too complex") and
 * every call and every single-character test is a step charged to the
 * budget.
 *
 * A matcher holds: the subject [src, src_end), the pattern [pat, pat_end)
 * and the captures so far. Invariant: cap[0..level) are the open or closed
 * captures of the current attempt; a capture's len is its length once
 * closed, CAP_OPEN while open, CAP_POSITION for a position capture "()".
 */
#include "config.h"

#include <ctype.h>
#include <lauxlib.h>
#include <lua.h>
#include <string.h>

#include "pattern.h"

#define MAX_CAPTURES 32
#define MAX_DEPTH 200
#define CHARGE_EVERY 256
#define CAP_OPEN (-1)
#define CAP_POSITION (-2)
#define SPECIALS "^$*+?.([%-"

typedef struct matcher {
    lua_State *L;
    const shelf_pattern_budget *budget;
    unsigned long steps; /* not yet charged */
    const char *src, *src_end;
    const char *pat, *pat_end;
    int depth_left;
    int level;
    struct {
        const char *init;
        ptrdiff_t len;
    } cap[MAX_CAPTURES];
} matcher;

/* Reports the steps not reported yet. */
static void charge_rest(matcher *m)
{
    if (m->steps) {
        unsigned long n = m->steps;
        m->steps = 0;
        m->budget->charge(m->L, m->budget->ud, n);
    }
}

static void step(matcher *m)
{
    if (++m->steps >= CHARGE_EVERY)
        charge_rest(m);
}

static void matcher_init(matcher *m, lua_State *L, const char *s, size_t ls,
                         const char *p, size_t lp)
{
    m->L = L;
    m->budget = lua_touserdata(L, lua_upvalueindex(1));
    m->steps = 0;
    m->src = s;
    m->src_end = s + ls;
    m->pat = p;
    m->pat_end = p + lp;
}

/* Before each attempt at a new subject position. */
static void matcher_reset(matcher *m)
{
    m->level = 0;
    m->depth_left = MAX_DEPTH;
}

/* ---- single-character items ------------------------------------------------ */

/* 1 when c is in the class named by letter cl (%a ...), or is cl itself
 * for any other character (%., %%). */
static int in_class(int c, int cl)
{
    int yes;
    switch (tolower(cl)) {
    case 'a': yes = isalpha(c); break;
    case 'c': yes = iscntrl(c); break;
    case 'd': yes = isdigit(c); break;
    case 'g': yes = isgraph(c); break;
    case 'l': yes = islower(c); break;
    case 'p': yes = ispunct(c); break;
    case 's': yes = isspace(c); break;
    case 'u': yes = isupper(c); break;
    case 'w': yes = isalnum(c); break;
    case 'x': yes = isxdigit(c); break;
    case 'z': yes = c == 0; break; /* Lua 5.1's \0, still taken by 5.4 */
    default: return cl == c;
    }
    if (isupper(cl))
        yes = !yes;
    return yes != 0;
}

/* 1 when c is in the set [p, close] (p at '[', close at its ']'). The
 * first character after '[' or "[^" belongs to the set even when it is
 * ']'; "x-y" is a range unless the '-' is last; "%x" is a class or x. */
static int in_set(int c, const char *p, const char *close)
{
    int found = 1;
    p++;
    if (*p == '^') {
        found = 0;
        p++;
    }
    for (; p < close; p++) {
        if (*p == '%') {
            p++;
            if (in_class(c, (unsigned char)*p))
                return found;
        } else if (p[1] == '-' && p + 2 < close) {
            if ((unsigned char)p[0] <= c && c <= (unsigned char)p[2])
                return found;
            p += 2;
        } else if ((unsigned char)*p == c) {
            return found;
        }
    }
    return !found;
}

/* The end of the single-character item at p: past ".", "x", "%x" or a
 * whole "[set]". Raises on a pattern that ends inside one. */
static const char *item_end(matcher *m, const char *p)
{
    char c = *p++;
    if (c == '%') {
        if (p >= m->pat_end)
            luaL_error(m->L, "malformed pattern (ends with '%%')");
        return p + 1;
    }
    if (c == '[') {
        if (p < m->pat_end && *p == '^')
            p++;
        do {
            if (p >= m->pat_end)
                luaL_error(m->L, "malformed pattern (missing ']')");
            c = *p++;
            if (c == '%' && p < m->pat_end)
                p++;
        } while (p >= m->pat_end || *p != ']');
        return p + 1;
    }
    return p;
}

/* 1 when the subject character at s matches the item [p, ep). */
static int item_matches(matcher *m, const char *s, const char *p, const char *ep)
{
    step(m);
    if (s >= m->src_end)
        return 0;
    int c = (unsigned char)*s;
    switch (*p) {
    case '.': return 1;
    case '%': return in_class(c, (unsigned char)p[1]);
    case '[': return in_set(c, p, ep - 1);
    default: return (unsigned char)*p == c;
    }
}

/* ---- the matcher ---------------------------------------------------------------- */

static const char *match(matcher *m, const char *s, const char *p);

/* item* and item+ (s past the first one): as many as possible, then fewer. */
static const char *repeat_longest(matcher *m, const char *s, const char *p, const char *ep)
{
    ptrdiff_t n = 0;
    while (item_matches(m, s + n, p, ep))
        n++;
    for (; n >= 0; n--) {
        const char *r = match(m, s + n, ep + 1);
        if (r)
            return r;
    }
    return NULL;
}

/* item-: as few as possible, then one more. */
static const char *repeat_shortest(matcher *m, const char *s, const char *p, const char *ep)
{
    for (;;) {
        const char *r = match(m, s, ep + 1);
        if (r)
            return r;
        if (!item_matches(m, s, p, ep))
            return NULL;
        s++;
    }
}

static const char *open_capture(matcher *m, const char *s, const char *p, ptrdiff_t what)
{
    if (m->level >= MAX_CAPTURES)
        luaL_error(m->L, "too many captures");
    m->cap[m->level].init = s;
    m->cap[m->level].len = what;
    m->level++;
    const char *r = match(m, s, p);
    if (!r)
        m->level--;
    return r;
}

static const char *close_capture(matcher *m, const char *s, const char *p)
{
    int l = m->level - 1;
    while (l >= 0 && m->cap[l].len != CAP_OPEN)
        l--;
    if (l < 0)
        luaL_error(m->L, "invalid pattern capture");
    m->cap[l].len = s - m->cap[l].init;
    const char *r = match(m, s, p);
    if (!r)
        m->cap[l].len = CAP_OPEN;
    return r;
}

/* %bxy at s: x, then text balanced in x and y, up to the y that closes. */
static const char *balanced(matcher *m, const char *s, const char *p)
{
    if (p + 1 >= m->pat_end)
        luaL_error(m->L, "malformed pattern (missing arguments to '%%b')");
    if (s >= m->src_end || *s != p[0])
        return NULL;
    int depth = 1;
    while (++s < m->src_end) {
        step(m);
        if (*s == p[1]) {
            if (--depth == 0)
                return s + 1;
        } else if (*s == p[0]) {
            depth++;
        }
    }
    return NULL;
}

/* %1 .. %9 at s: the text captured by that closed capture again. */
static const char *same_as_capture(matcher *m, const char *s, int digit)
{
    int l = digit - '1';
    if (l < 0 || l >= m->level || m->cap[l].len == CAP_OPEN)
        luaL_error(m->L, "invalid capture index %%%d", l + 1);
    ptrdiff_t len = m->cap[l].len;
    if (len >= 0 && m->src_end - s >= len && memcmp(m->cap[l].init, s, (size_t)len) == 0)
        return s + len;
    return NULL;
}

/* Where the match of [p, pat_end) from s ends, or NULL. */
static const char *match(matcher *m, const char *s, const char *p)
{
    if (m->depth_left-- == 0)
        luaL_error(m->L, "pattern too complex");
    step(m);
    while (s && p < m->pat_end) {
        if (*p == '(') {
            if (p + 1 < m->pat_end && p[1] == ')')
                s = open_capture(m, s, p + 2, CAP_POSITION);
            else
                s = open_capture(m, s, p + 1, CAP_OPEN);
            break;
        }
        if (*p == ')') {
            s = close_capture(m, s, p + 1);
            break;
        }
        if (*p == '$' && p + 1 == m->pat_end) {
            s = s == m->src_end ? s : NULL;
            break;
        }
        if (*p == '%' && p + 1 < m->pat_end) {
            char what = p[1];
            if (what == 'b') {
                s = balanced(m, s, p + 2);
                p += 4;
                continue;
            }
            if (what == 'f') {
                p += 2;
                if (p >= m->pat_end || *p != '[')
                    luaL_error(m->L, "missing '[' after '%%f' in pattern");
                const char *ep = item_end(m, p);
                int before = s == m->src ? 0 : (unsigned char)s[-1];
                int here = s < m->src_end ? (unsigned char)*s : 0;
                step(m);
                if (in_set(before, p, ep - 1) || !in_set(here, p, ep - 1))
                    s = NULL;
                p = ep;
                continue;
            }
            if (isdigit((unsigned char)what)) {
                s = same_as_capture(m, s, (unsigned char)what);
                p += 2;
                continue;
            }
        }
        const char *ep = item_end(m, p);
        char q = ep < m->pat_end ? *ep : '\0';
        if (!item_matches(m, s, p, ep)) {
            if (q == '*' || q == '?' || q == '-')
                p = ep + 1; /* zero of them */
            else
                s = NULL;
            continue;
        }
        if (q == '?') {
            const char *r = match(m, s + 1, ep + 1);
            if (r) {
                s = r;
                break;
            }
            p = ep + 1;
        } else if (q == '+') {
            s = repeat_longest(m, s + 1, p, ep);
            break;
        } else if (q == '*') {
            s = repeat_longest(m, s, p, ep);
            break;
        } else if (q == '-') {
            s = repeat_shortest(m, s, p, ep);
            break;
        } else {
            s++;
            p = ep;
        }
    }
    m->depth_left++;
    return s;
}

/* ---- captures to Lua values ------------------------------------------------- */

/* Pushes capture i of the match [s, e); with no captures, capture 0 is
 * the whole match. */
static void push_capture(matcher *m, int i, const char *s, const char *e)
{
    if (i >= m->level) {
        if (i != 0)
            luaL_error(m->L, "invalid capture index %%%d", i + 1);
        lua_pushlstring(m->L, s, (size_t)(e - s));
        return;
    }
    ptrdiff_t len = m->cap[i].len;
    if (len == CAP_OPEN)
        luaL_error(m->L, "unfinished capture");
    if (len == CAP_POSITION)
        lua_pushinteger(m->L, (lua_Integer)(m->cap[i].init - m->src) + 1);
    else
        lua_pushlstring(m->L, m->cap[i].init, (size_t)len);
}

/* Pushes every capture (the whole match when there is none and s is not
 * NULL); returns how many. */
static int push_captures(matcher *m, const char *s, const char *e)
{
    int n = (m->level == 0 && s) ? 1 : m->level;
    luaL_checkstack(m->L, n, "too many captures");
    for (int i = 0; i < n; i++)
        push_capture(m, i, s, e);
    return n;
}

/* ---- the library functions ------------------------------------------------------ */

/* A start position as Lua takes it: 1-based, negative from the end. */
static size_t start_index(lua_Integer pos, size_t len)
{
    if (pos > 0)
        return (size_t)pos;
    if (pos == 0 || pos < -(lua_Integer)len)
        return 1;
    return len + (size_t)pos + 1;
}

static int has_specials(const char *p, size_t lp)
{
    for (size_t i = 0; i < lp; i++)
        if (p[i] != '\0' && strchr(SPECIALS, p[i]))
            return 1;
    return 0;
}

static int find_or_match(lua_State *L, int find)
{
    size_t ls, lp;
    const char *s = luaL_checklstring(L, 1, &ls);
    const char *p = luaL_checklstring(L, 2, &lp);
    size_t init = start_index(luaL_optinteger(L, 3, 1), ls) - 1;
    if (init > ls) {
        luaL_pushfail(L);
        return 1;
    }
    if (find && (lua_toboolean(L, 4) || !has_specials(p, lp))) {
        const char *hit = memmem(s + init, ls - init, p, lp);
        if (!hit) {
            luaL_pushfail(L);
            return 1;
        }
        lua_pushinteger(L, (lua_Integer)(hit - s) + 1);
        lua_pushinteger(L, (lua_Integer)(hit - s + lp));
        return 2;
    }
    int anchor = lp > 0 && *p == '^';
    matcher m;
    matcher_init(&m, L, s, ls, p + anchor, lp - (size_t)anchor);
    const char *at = s + init;
    do {
        matcher_reset(&m);
        const char *e = match(&m, at, m.pat);
        if (e) {
            charge_rest(&m);
            if (!find)
                return push_captures(&m, at, e);
            lua_pushinteger(L, (lua_Integer)(at - s) + 1);
            lua_pushinteger(L, (lua_Integer)(e - s));
            return push_captures(&m, NULL, NULL) + 2;
        }
    } while (at++ < m.src_end && !anchor);
    charge_rest(&m);
    luaL_pushfail(L);
    return 1;
}

static int pat_find(lua_State *L)
{
    return find_or_match(L, 1);
}

static int pat_match(lua_State *L)
{
    return find_or_match(L, 0);
}

/* Where a gmatch iteration stands (a full userdata, an upvalue). */
typedef struct gmatch_state {
    size_t next;         /* offset of the next attempt */
    ptrdiff_t last_end;  /* offset where the last match ended, or -1 */
} gmatch_state;

static int gmatch_step(lua_State *L)
{
    size_t ls, lp;
    const char *s = lua_tolstring(L, lua_upvalueindex(2), &ls);
    const char *p = lua_tolstring(L, lua_upvalueindex(3), &lp);
    gmatch_state *g = lua_touserdata(L, lua_upvalueindex(4));
    matcher m;
    matcher_init(&m, L, s, ls, p, lp);
    for (const char *at = s + g->next; at <= m.src_end; at++) {
        matcher_reset(&m);
        const char *e = match(&m, at, p);
        if (e && e - s != g->last_end) {
            g->next = (size_t)(e - s);
            g->last_end = e - s;
            charge_rest(&m);
            return push_captures(&m, at, e);
        }
    }
    charge_rest(&m);
    return 0;
}

static int pat_gmatch(lua_State *L)
{
    size_t ls;
    luaL_checklstring(L, 1, &ls);
    luaL_checkstring(L, 2);
    size_t init = start_index(luaL_optinteger(L, 3, 1), ls) - 1;
    if (init > ls)
        init = ls + 1;
    lua_settop(L, 2);
    gmatch_state *g = lua_newuserdatauv(L, sizeof *g, 0);
    g->next = init;
    g->last_end = -1;
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_rotate(L, 1, 1); /* budget, s, p, state */
    lua_pushcclosure(L, gmatch_step, 4);
    return 1;
}

/* Appends the string replacement (index 3) for the match [s, e). */
static void add_template(matcher *m, luaL_Buffer *b, const char *s, const char *e)
{
    size_t len;
    const char *r = lua_tolstring(m->L, 3, &len);
    const char *end = r + len;
    for (; r < end; r++) {
        if (*r != '%') {
            luaL_addchar(b, *r);
            continue;
        }
        r++;
        if (r < end && *r == '%') {
            luaL_addchar(b, '%');
        } else if (r < end && *r == '0') {
            luaL_addlstring(b, s, (size_t)(e - s));
        } else if (r < end && isdigit((unsigned char)*r)) {
            push_capture(m, *r - '1', s, e);
            luaL_tolstring(m->L, -1, NULL);
            lua_remove(m->L, -2);
            luaL_addvalue(b);
        } else {
            luaL_error(m->L, "invalid use of '%%' in replacement string");
        }
    }
}

/* Appends the replacement of the match [s, e): the template, or what the
 * table or function (index 3) gives; false or nil keeps the match. */
static void add_replacement(matcher *m, luaL_Buffer *b, const char *s, const char *e, int kind)
{
    lua_State *L = m->L;
    if (kind == LUA_TFUNCTION) {
        lua_pushvalue(L, 3);
        int n = push_captures(m, s, e);
        lua_call(L, n, 1);
    } else if (kind == LUA_TTABLE) {
        push_capture(m, 0, s, e);
        lua_gettable(L, 3);
    } else {
        add_template(m, b, s, e);
        return;
    }
    if (!lua_toboolean(L, -1)) {
        lua_pop(L, 1);
        luaL_addlstring(b, s, (size_t)(e - s));
    } else if (!lua_isstring(L, -1)) {
        luaL_error(L, "invalid replacement value (a %s)", luaL_typename(L, -1));
    } else {
        luaL_addvalue(b);
    }
}

static int pat_gsub(lua_State *L)
{
    size_t ls, lp;
    const char *s = luaL_checklstring(L, 1, &ls);
    const char *p = luaL_checklstring(L, 2, &lp);
    int kind = lua_type(L, 3);
    lua_Integer max_n = luaL_optinteger(L, 4, (lua_Integer)ls + 1);
    luaL_argexpected(L, kind == LUA_TNUMBER || kind == LUA_TSTRING || kind == LUA_TFUNCTION ||
                            kind == LUA_TTABLE,
                     3, "string/function/table");
    int anchor = lp > 0 && *p == '^';
    matcher m;
    matcher_init(&m, L, s, ls, p + anchor, lp - (size_t)anchor);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    const char *at = s, *last_end = NULL;
    lua_Integer n = 0;
    while (n < max_n) {
        matcher_reset(&m);
        const char *e = match(&m, at, m.pat);
        if (e && e != last_end) {
            n++;
            add_replacement(&m, &b, at, e, kind);
            at = last_end = e;
        } else if (at < m.src_end) {
            luaL_addchar(&b, *at++);
        } else {
            break;
        }
        if (anchor)
            break;
    }
    charge_rest(&m);
    luaL_addlstring(&b, at, (size_t)(m.src_end - at));
    luaL_pushresult(&b);
    lua_pushinteger(L, n);
    return 2;
}

void shelf_pattern_open(lua_State *L, int lib, const shelf_pattern_budget *budget)
{
    static const luaL_Reg fns[] = {{"find", pat_find},
                                   {"match", pat_match},
                                   {"gmatch", pat_gmatch},
                                   {"gsub", pat_gsub},
                                   {NULL, NULL}};
    lua_pushvalue(L, lib);
    lua_pushlightuserdata(L, (void *)budget);
    luaL_setfuncs(L, fns, 1);
    lua_pop(L, 1);
}
