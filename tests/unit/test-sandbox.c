/* test-sandbox.c -- the one Lua sandbox: its patterns give what Lua's
 * string library gives, every budget stops what the count hook cannot see
 * and what pcall tries to catch, each evaluation sees fresh libraries, and
 * nothing can reach an evaluation that is over. */
#include "config.h"

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <stdlib.h>

#include "check.h"
#include "shelf.h"

/* ---- helpers ------------------------------------------------------------------ */

static int aborter(lua_State *L)
{
    return shelf_sandbox_abort(L);
}

/* nested(text): evaluates text in the same sandbox (ud is the sandbox) and
 * returns the status and the message or result. */
static int nested(lua_State *L)
{
    shelf_sandbox *sb = shelf_sandbox_ud(L);
    size_t len;
    const char *text = luaL_checklstring(L, 1, &len);
    shelf_sandbox_run run = {"nested.lua", text, len, sb, 1, 0};
    int st = shelf_sandbox_eval(sb, &run);
    lua_pushinteger(L, st);
    lua_insert(L, -2);
    return 2;
}

static int whose(lua_State *L)
{
    lua_pushlightuserdata(L, shelf_sandbox_ud(L));
    return 1;
}

static int install_test(lua_State *L)
{
    lua_pushcfunction(L, aborter);
    lua_setfield(L, 1, "abort");
    lua_pushcfunction(L, nested);
    lua_setfield(L, 1, "nested");
    lua_pushcfunction(L, whose);
    lua_setfield(L, 1, "whose");
    return 0;
}

static shelf_sandbox *make(double seconds, unsigned long long insns, size_t memory)
{
    shelf_eval_limits l = {seconds, insns, memory};
    return shelf_sandbox_new(&l, install_test);
}

/* Evaluates text; returns the status and copies the result or message. */
static int run_text(shelf_sandbox *sb, const char *text, char *out, size_t outlen, int *line)
{
    shelf_sandbox_run run = {"test.lua", text, strlen(text), sb, 1, 0};
    int st = shelf_sandbox_eval(sb, &run);
    lua_State *L = shelf_sandbox_lua(sb);
    if (line)
        *line = run.line;
    if (out) {
        const char *s = st == SHELF_SANDBOX_NOMEM ? "" : luaL_tolstring(L, -1, NULL);
        snprintf(out, outlen, "%s", s);
        if (st != SHELF_SANDBOX_NOMEM)
            lua_pop(L, 1);
    }
    if (st != SHELF_SANDBOX_NOMEM)
        lua_pop(L, 1);
    return st;
}

static void expect(shelf_sandbox *sb, const char *text, int status, const char *needle)
{
    char out[512];
    int st = run_text(sb, text, out, sizeof out, NULL);
    if (st != status || (needle && !strstr(out, needle))) {
        printf("# %s\n#  -> status %d \"%s\" (wanted %d \"%s\")\n", text, st, out, status,
               needle ? needle : "");
        CHECK(0);
    }
}

/* ---- patterns against Lua's string library ------------------------------------- */

/* Runs the same program in the sandbox and in a stock Lua state: a list of
 * calls of find, match, gmatch and gsub, each result (or error) written as
 * one line. The calls are a table of hand-picked cases and a few thousand
 * random patterns over a small alphabet (same seed in both states). */
static const char DIFF_PROGRAM[] =
    "local function ser(...)\n"
    "  local t = table.pack(...)\n"
    "  for i = 1, t.n do\n"
    "    t[i] = type(t[i]) .. ':' .. (type(t[i]) == 'string' and ('%q'):format(t[i]) or tostring(t[i]))\n"
    "  end\n"
    "  return table.concat(t, ' ', 1, t.n)\n"
    "end\n"
    "local function gm(s, p, init)\n"
    "  local out = {}\n"
    "  for a, b, c in string.gmatch(s, p, init) do\n"
    "    out[#out + 1] = ser(a, b, c)\n"
    "    if #out > 50 then break end\n"
    "  end\n"
    "  return table.concat(out, '|')\n"
    "end\n"
    "local repl_t = {a = 'A', b = false, ab = 12, ['1'] = 'one'}\n"
    "local function repl_f(a, b) if a == 'b' then return nil end return '<' .. tostring(a) .. tostring(b) .. '>' end\n"
    "local cases = {\n"
    "  {'hello world', 'o w'}, {'hello world', 'l+'}, {'hello world', 'l*'},\n"
    "  {'hello world', 'l-o'}, {'hello world', 'x?h'}, {'hello world', '^h'},\n"
    "  {'hello world', '^e'}, {'hello world', 'd$'}, {'hello world', 'o$'},\n"
    "  {'hello world', '%w+'}, {'hello world', '%W'}, {'  x  ', '^%s*(.-)%s*$'},\n"
    "  {'key = value', '(%w+)%s*=%s*(%w+)'}, {'abc', '()b()'}, {'abc', '()'},\n"
    "  {'THE (quick) fox', '%((%a+)%)'}, {'f(a(b)c)d', '%b()'}, {'f(a(b)c', '%b()'},\n"
    "  {'\"x\" \"y\"', '%b\"\"'}, {'THE (quick) fox', '%f[%a]%a+'},\n"
    "  {'hello THE world', '%f[%u]%u+%f[%U]'}, {'aaa', '%f[a]'}, {'aaa', '%f[^a]'},\n"
    "  {'x = \"hi\" y', '([\"\\'])(.-)%1'}, {'abcabc', '(abc)%1'}, {'abab', '(a)(b)%2'},\n"
    "  {'a.b', 'a.b'}, {'a+b', 'a+b'}, {'a+b', 'a%+b'}, {'[x]', '[]x[]+'},\n"
    "  {'a]b', '[]]'}, {'a^b', '[%^]'}, {'a-b', '[a-]'}, {'a-b', '[-b]+'},\n"
    "  {'z9_', '[%a%d_]+'}, {'z9_', '[^%a]+'}, {'0x1F', '0x(%x+)'},\n"
    "  {'tab\\there', '%c'}, {'a,b;c', '%p'}, {'MiXeD', '%l+'}, {'MiXeD', '%u'},\n"
    "  {'\\0a\\0', '%z'}, {'\\0a\\0', '\\0a'}, {'a\\0b', '[\\0]'},\n"
    "  {'version 12.3.0-rc1', '(%d+)%.(%d+)%.?(%d*)'}, {'/opt/app/1.0', '^(.*)/([^/]+)$'},\n"
    "  {'aaa', 'a-b'}, {'aaab', 'a-b'}, {'', ''}, {'', 'a*'}, {'', '^$'}, {'abc', '$'},\n"
    "  {'abc', '^'}, {'a$b', 'a$b'}, {'a$', 'a%$'}, {'abc', '.-'}, {'abc', '.-$'},\n"
    "  {'abc', 'b', 3}, {'abc', 'b', -2}, {'abc', 'b', -10}, {'abc', 'b', 10},\n"
    "  {'abc', '', 4}, {'abc', '', 5}, {'abc', 'c', 0},\n"
    "  {'a', '%'}, {'a', '[a'}, {'a', '[a%'}, {'a', '[^'}, {'a', '(a'}, {'a', 'a)'},\n"
    "  {'a', '%1'}, {'a', '(a)%2'}, {'a', '(a%1)'}, {'a', '%f'}, {'a', '%fa'},\n"
    "  {'a', '%b'}, {'a', '%bx'}, {'a', ('()'):rep(33)}, {'a', '%g'},\n"
    "  {'aaa', ('a?'):rep(5) .. 'aaa'}, {'x', '[%w-z]'}, {'-', '[%w-z]'},\n"
    "}\n"
    "local repls = {'[%0]', '%1-%1', '%%', '%2', '%', '%x', 'x', 7, repl_t, repl_f}\n"
    "local out = {}\n"
    "local what\n"
    "local function add(...) out[#out + 1] = what .. ' -> ' .. ser(...) end\n"
    "local function all(s, p, init)\n"
    "  what = string.format('%q %q %s', s, p, tostring(init))\n"
    "  add(pcall(string.find, s, p, init))\n"
    "  add(pcall(string.find, s, p, init, true))\n"
    "  add(pcall(string.match, s, p, init))\n"
    "  add(pcall(gm, s, p, init))\n"
    "  for _, r in ipairs(repls) do\n"
    "    add(pcall(string.gsub, s, p, r))\n"
    "    add(pcall(string.gsub, s, p, r, 1))\n"
    "  end\n"
    "  add(pcall(function() return s:find(p, init) end))\n"
    "end\n"
    "for _, c in ipairs(cases) do all(c[1], c[2], c[3]) end\n"
    "local alphabet = {'a', 'b', '.', '%a', '%d', '[ab]', '[^a]', '(', ')', '()',\n"
    "  '*', '+', '-', '?', '^', '$', '%b()', '%f[b]', '%1', '[a-c]', ' ', '%s', '%%', ']'}\n"
    "local subjects = {'aab(b)c', 'ab ab', '((a)b)', 'ba1 2a', 'aaaa', '', 'b$a^'}\n"
    "math.randomseed(20240601)\n"
    "for _ = 1, 1500 do\n"
    "  local p = {}\n"
    "  for i = 1, math.random(1, 6) do p[i] = alphabet[math.random(#alphabet)] end\n"
    "  local s = subjects[math.random(#subjects)]\n"
    "  local init = math.random(-3, 4)\n"
    "  all(s, table.concat(p), init)\n"
    "end\n"
    "return out\n";

static void test_patterns_match_the_string_library(void)
{
    lua_State *ref = luaL_newstate();
    luaL_openlibs(ref);
    CHECK_INT(luaL_loadbuffer(ref, DIFF_PROGRAM, sizeof DIFF_PROGRAM - 1, "@diff.lua"), LUA_OK);
    CHECK_INT(lua_pcall(ref, 0, 1, 0), LUA_OK);

    shelf_sandbox *sb = make(3600, ~0ULL, 0); /* valgrind is slow */
    lua_State *L = shelf_sandbox_lua(sb);
    shelf_sandbox_run run = {"diff.lua", DIFF_PROGRAM, sizeof DIFF_PROGRAM - 1, sb, 1, 0};
    int st = shelf_sandbox_eval(sb, &run);
    CHECK_INT(st, SHELF_SANDBOX_OK);
    if (st != SHELF_SANDBOX_OK)
        printf("# %s\n", lua_tostring(L, -1));
    lua_Integer n = st == SHELF_SANDBOX_OK ? (lua_Integer)lua_rawlen(L, -1) : 0;
    CHECK_INT(n, (lua_Integer)lua_rawlen(ref, -1));
    CHECK(n > 10000);
    int shown = 0;
    lua_Integer errors = 0;
    for (lua_Integer i = 1; i <= n; i++) {
        lua_rawgeti(L, -1, i);
        lua_rawgeti(ref, -1, i);
        const char *mine = lua_tostring(L, -1), *theirs = lua_tostring(ref, -1);
        if (strstr(theirs, "-> boolean:false"))
            errors++;
        if (strcmp(mine, theirs) != 0 && shown++ < 10)
            printf("# case %lld:\n#   sandbox: %s\n#   lua:     %s\n", (long long)i, mine,
                   theirs);
        lua_pop(L, 1);
        lua_pop(ref, 1);
    }
    CHECK_INT(shown, 0);
    CHECK(errors > 100); /* malformed patterns were among the cases */
    lua_pop(L, 1);
    shelf_sandbox_free(sb);
    lua_close(ref);
}

static void test_pattern_errors_read_as_lua_says_them(void)
{
    shelf_sandbox *sb = make(0, 0, 0);
    static const struct {
        const char *call, *message;
    } cases[] = {
        {"string.find('a', '[a')", "malformed pattern (missing ']')"},
        {"string.match('a', 'a%')", "malformed pattern (ends with '%')"},
        {"string.find('a', '(a)%2')", "invalid capture index %2"},
        {"string.gsub('abc', '(a)', '%2')", "invalid capture index %2"},
        {"string.find('a', '%f')", "missing '[' after '%f' in pattern"},
        {"string.find('a', '%bx')", "malformed pattern (missing arguments to '%b')"},
        {"string.match('a', 'a)')", "invalid pattern capture"},
        {"string.find('a', '(a')", "unfinished capture"},
        {"string.gsub('a', 'a', '%y')", "invalid use of '%' in replacement string"},
        {"string.gsub('a', 'a', {a = true})", "invalid replacement value (a boolean)"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[200];
        snprintf(text, sizeof text, "local ok, e = pcall(function() return %s end)\n"
                                    "return e", cases[i].call);
        expect(sb, text, SHELF_SANDBOX_OK, cases[i].message);
    }
    shelf_sandbox_free(sb);
}

/* ---- budgets ---------------------------------------------------------------------- */

static const char BOMB[] = "string.find(('a'):rep(34), ('a?'):rep(34) .. ('a'):rep(34))";

static void test_pattern_bomb_is_stopped(void)
{
    shelf_sandbox *sb = make(0, 2000000, 0);
    char text[300];
    expect(sb, BOMB, SHELF_SANDBOX_INSTRUCTIONS, "SHELF_EVAL_INSTRUCTIONS");
    /* through the string metatable, and the other matching functions */
    expect(sb, "local s = ('a'):rep(34)\nreturn s:match(('a?'):rep(34) .. s)",
           SHELF_SANDBOX_INSTRUCTIONS, NULL);
    expect(sb, "return (('a'):rep(34)):gsub(('a?'):rep(34) .. ('a'):rep(34), 'x')",
           SHELF_SANDBOX_INSTRUCTIONS, NULL);
    expect(sb, "for _ in ('a'):rep(34):gmatch(('a?'):rep(34) .. ('a'):rep(34)) do end",
           SHELF_SANDBOX_INSTRUCTIONS, NULL);
    /* pcall does not catch it */
    snprintf(text, sizeof text, "pcall(function() %s end)\nreturn 'escaped'", BOMB);
    expect(sb, text, SHELF_SANDBOX_INSTRUCTIONS, NULL);
    shelf_sandbox_free(sb);
    /* with instructions to spare, the clock stops it */
    sb = make(0.3, ~0ULL, 0);
    int line = 0;
    CHECK_INT(run_text(sb, "local x = 1\n\nstring.find(('a'):rep(34), ('a?'):rep(34) .. "
                           "('a'):rep(34))", NULL, 0, &line),
              SHELF_SANDBOX_TIME);
    CHECK_INT(line, 3);
    shelf_sandbox_free(sb);
}

static void test_loops_stop_past_pcall(void)
{
    shelf_sandbox *sb = make(0, 1000000, 0);
    int line = 0;
    CHECK_INT(run_text(sb, "local n = 0\nwhile true do n = n + 1 end", NULL, 0, &line),
              SHELF_SANDBOX_INSTRUCTIONS);
    CHECK_INT(line, 2);
    expect(sb, "pcall(function() while true do end end)\nreturn 1",
           SHELF_SANDBOX_INSTRUCTIONS, NULL);
    expect(sb, "while true do pcall(function() while true do end end) end",
           SHELF_SANDBOX_INSTRUCTIONS, NULL);
    expect(sb, "xpcall(function() while true do end end, function() while true do end end)",
           SHELF_SANDBOX_INSTRUCTIONS, NULL);
    expect(sb, "while true do xpcall(function() while true do end end, tostring) end",
           SHELF_SANDBOX_INSTRUCTIONS, NULL);
    expect(sb, "local x <close> = setmetatable({}, {__close = function()\n"
               "  while true do pcall(function() while true do end end) end end})\n"
               "while true do end", SHELF_SANDBOX_INSTRUCTIONS, NULL);
    /* loops inside library functions that the count hook does not see */
    expect(sb, "return #string.rep('', 1e15)", SHELF_SANDBOX_INSTRUCTIONS, NULL);
    expect(sb, "return #(''):rep(1e15, '')", SHELF_SANDBOX_INSTRUCTIONS, NULL);
    expect(sb, "table.move({}, 1, 1e15, 2)", SHELF_SANDBOX_INSTRUCTIONS, NULL);
    expect(sb, "local t = setmetatable({}, {__len = function() return 1e15 end})\n"
               "table.insert(t, 1, 'x')", SHELF_SANDBOX_INSTRUCTIONS, NULL);
    expect(sb, "local t = setmetatable({}, {__len = function() return 1e15 end})\n"
               "table.remove(t, 1)", SHELF_SANDBOX_INSTRUCTIONS, NULL);
    /* ordinary errors are still caught, and small work still runs */
    expect(sb, "local ok, e = pcall(error, 'x')\nreturn tostring(ok) .. e", SHELF_SANDBOX_OK,
           "falsex");
    expect(sb, "local ok, e = xpcall(error, function(m) return 'h:' .. m end, 'y')\n"
               "return tostring(ok) .. e", SHELF_SANDBOX_OK, "falseh:y");
    expect(sb, "local t = {3, 1, 2}\ntable.sort(t)\ntable.insert(t, 1, 0)\n"
               "table.remove(t)\nreturn table.concat(t, ',') .. ('ab'):rep(2, '-')",
           SHELF_SANDBOX_OK, "0,1,2ab-ab");
    shelf_sandbox_free(sb);
    /* the time limit stops a loop that has instructions to spare */
    sb = make(0.2, ~0ULL, 0);
    expect(sb, "while true do pcall(function() while true do end end) end",
           SHELF_SANDBOX_TIME, "SHELF_EVAL_SECONDS");
    shelf_sandbox_free(sb);
}

static void test_memory_budget_passes_pcall(void)
{
    shelf_sandbox *sb = make(0, ~0ULL, 8u << 20);
    expect(sb, "local t = {}\nfor i = 1, 1e9 do t[i] = ('x'):rep(100) .. i end",
           SHELF_SANDBOX_MEMORY, "SHELF_EVAL_MEMORY_MB");
    int line = 0;
    CHECK_INT(run_text(sb, "local t = {}\n\nfor i = 1, 1e9 do t[i] = {i} end", NULL, 0, &line),
              SHELF_SANDBOX_MEMORY);
    CHECK_INT(line, 3);
    expect(sb, "local ok = pcall(function() local t = {}\n"
               "  for i = 1, 1e9 do t[i] = ('x'):rep(100) .. i end end)\nreturn 'caught'",
           SHELF_SANDBOX_MEMORY, NULL);
    /* the garbage goes: the next evaluation has the whole budget */
    expect(sb, "return #('x'):rep(2 << 20)", SHELF_SANDBOX_OK, "2097152");
    shelf_sandbox_free(sb);
}

static void test_abort_passes_pcall(void)
{
    shelf_sandbox *sb = make(0, 0, 0);
    int line = 0;
    CHECK_INT(run_text(sb, "\npcall(abort)\nreturn 1", NULL, 0, &line), SHELF_SANDBOX_ABORTED);
    CHECK_INT(line, 2);
    expect(sb, "xpcall(abort, function() return 'handled' end)\nreturn 1",
           SHELF_SANDBOX_ABORTED, NULL);
    shelf_sandbox_free(sb);
}

/* ---- isolation ------------------------------------------------------------------- */

static void test_each_evaluation_sees_fresh_libraries(void)
{
    shelf_sandbox *sb = make(0, 0, 0);
    expect(sb, "string.rep = function() return 'X' end\n"
               "table.insert = nil\nmath.pi = 3\nos.time = nil\n"
               "getmetatable('').__index.upper = function() return 'Y' end\n"
               "getmetatable('').__len = 1\nrequire('utf8').char = nil\n"
               "return ('a'):rep(2) .. ('a'):upper()", SHELF_SANDBOX_OK, "XY");
    expect(sb, "return ('a'):rep(2) .. string.rep('b', 2) .. ('c'):upper() ..\n"
               "  tostring(table.insert ~= nil) .. math.floor(math.pi) ..\n"
               "  type(os.time) .. utf8.char(65)", SHELF_SANDBOX_OK, "aabbCtrue3functionA");
    expect(sb, "getmetatable('').__index = {rep = function() return 'Z' end}\n"
               "return ('a'):rep(3)", SHELF_SANDBOX_OK, "Z");
    expect(sb, "return ('a'):rep(3)", SHELF_SANDBOX_OK, "aaa");
    /* a nested evaluation has its own, and the outer one keeps its own */
    expect(sb, "string.rep = function() return 'outer' end\n"
               "local st, r = nested(\"string.rep = nil; getmetatable('').__index = {}\\n\"\n"
               "  .. \"return tostring(string.rep)\")\n"
               "return st .. r .. string.rep() .. ('b'):upper()", SHELF_SANDBOX_OK,
           "0nilouterB");
    shelf_sandbox_free(sb);
}

/* The environment is a table of the evaluation's own: what the file sets,
 * removes or iterates behaves as in a plain table of globals. */
static void test_globals_behave_as_a_table(void)
{
    shelf_sandbox *sb = make(0, 0, 0);
    expect(sb, "local up = string.upper\nos = nil\nstring = nil\nabort = nil\n"
               "local a = tostring(os) .. tostring(string) .. tostring(abort)\n"
               "os = 1\nos = nil\nmath.floor = nil\nmath = nil\n"
               "return a .. tostring(os) .. tostring(math) .. ('x'):upper() .. up('y')",
           SHELF_SANDBOX_OK, "nilnilnilnilnilXY");
    expect(sb, "local seen = {}\nfor k, v in pairs(_G) do seen[k] = type(v) end\n"
               "return seen.string .. seen.table .. seen.os .. seen.pairs .. seen.abort ..\n"
               "  tostring(seen.io) .. tostring(getmetatable(_G)) .. tostring(_G._G == _G)",
           SHELF_SANDBOX_OK, "tabletabletablefunctionfunctionnilfalsetrue");
    expect(sb, "x = 1\n_G.y = 2\nstring.mine = function() return 'M' end\n"
               "local r = rawget(_G, 'x') .. y .. ('a'):mine()\nx = nil\n"
               "return r .. tostring(x)", SHELF_SANDBOX_OK, "12Mnil");
    /* nothing of the last one is left */
    expect(sb, "return tostring(x) .. tostring(y) .. tostring(string.mine) .. math.floor(2.5) ..\n"
               "  type(os.time) .. type(abort)", SHELF_SANDBOX_OK, "nilnilnil2functionfunction");
    /* a string metatable the file replaces stays replaced when string is first used */
    expect(sb, "getmetatable('').__index = {up = function() return 'U' end}\n"
               "local s = string.upper('a')\nreturn s .. ('b'):up()", SHELF_SANDBOX_OK, "AU");
    shelf_sandbox_free(sb);
}

static void test_nested_evaluation_keeps_the_outer_budget(void)
{
    shelf_sandbox *sb = make(0, 1000000, 0);
    /* the inner loop uses what the outer one has left: both stop */
    expect(sb, "local st = nested('while true do end')\nreturn 'outer went on: ' .. st",
           SHELF_SANDBOX_INSTRUCTIONS, NULL);
    char out[200];
    CHECK_INT(run_text(sb, "local st, r = nested('return 40 + 2')\nreturn st .. ':' .. r", out,
                       sizeof out, NULL),
              SHELF_SANDBOX_OK);
    CHECK_STR(out, "0:42");
    shelf_sandbox_free(sb);
    sb = make(0.2, ~0ULL, 0);
    expect(sb, "nested('while true do end')\nreturn 'outer went on'", SHELF_SANDBOX_TIME,
           NULL);
    shelf_sandbox_free(sb);
}

static void test_nothing_runs_after_its_evaluation(void)
{
    shelf_sandbox *sb = make(0, 0, 0);
    expect(sb, "setmetatable({}, {__gc = function() end})", SHELF_SANDBOX_ERROR, "__gc");
    expect(sb, "local mt = {__gc = true}\nsetmetatable({}, mt)", SHELF_SANDBOX_ERROR, "__gc");
    expect(sb, "local ok, e = pcall(setmetatable, {}, {__gc = tostring})\nreturn e",
           SHELF_SANDBOX_OK, "not allowed");
    expect(sb, "return getmetatable(setmetatable({}, {__index = {x = 1}})).__index.x",
           SHELF_SANDBOX_OK, "1");
    /* a function that reaches its evaluation, called when it is over */
    lua_State *L = shelf_sandbox_lua(sb);
    shelf_sandbox_run run = {"keep.lua", "return whose", 12, sb, 1, 0};
    CHECK_INT(shelf_sandbox_eval(sb, &run), SHELF_SANDBOX_OK);
    CHECK_INT(lua_pcall(L, 0, 1, 0), LUA_ERRRUN);
    CHECK(strstr(lua_tostring(L, -1), "no evaluation is running") != NULL);
    lua_pop(L, 1);
    run.text = "return abort";
    CHECK_INT(shelf_sandbox_eval(sb, &run), SHELF_SANDBOX_OK);
    CHECK_INT(lua_pcall(L, 0, 0, 0), LUA_ERRRUN);
    lua_pop(L, 1);
    run.text = "return function() while true do end end";
    run.len = strlen(run.text);
    CHECK_INT(shelf_sandbox_eval(sb, &run), SHELF_SANDBOX_OK);
    CHECK_INT(lua_pcall(L, 0, 0, 0), LUA_ERRRUN);
    lua_pop(L, 1);
    shelf_sandbox_free(sb);
}

static void test_refuses_what_is_not_there(void)
{
    shelf_sandbox *sb = make(0, 0, 0);
    expect(sb, "return load", SHELF_SANDBOX_OK, "nil");
    expect(sb, "return tostring(io) .. tostring(debug) .. tostring(coroutine) .. "
               "tostring(os.execute) .. tostring(collectgarbage) .. tostring(dofile)",
           SHELF_SANDBOX_OK, "nilnilnilnilnilnil");
    expect(sb, "require('io')", SHELF_SANDBOX_ERROR, "not allowed");
    expect(sb, "\x1bLua", SHELF_SANDBOX_SYNTAX, "binary");
    expect(sb, "x = = 1", SHELF_SANDBOX_SYNTAX, "test.lua:1:");
    expect(sb, "error({})", SHELF_SANDBOX_ERROR, "error object is a table value");
    expect(sb, "return _G == _ENV and require('string') == string", SHELF_SANDBOX_OK, "true");
    shelf_sandbox_free(sb);
}

/* ---- limits from the environment ----------------------------------------------------- */

static void test_limits_from_env(void)
{
    char *good[] = {"SHELF_EVAL_SECONDS=0.5", "SHELF_EVAL_INSTRUCTIONS=1000",
                    "SHELF_EVAL_MEMORY_MB=3", NULL};
    shelf_eval_limits l = {1, 1, 1};
    shelf_error err = {0};
    CHECK_INT(shelf_eval_limits_from_env(&l, good, &err), 0);
    CHECK(l.seconds == 0.5);
    CHECK(l.instructions == 1000);
    CHECK_INT(l.memory, 3u << 20);
    char *none[] = {"SHELF_EVAL_SECONDS=", NULL};
    CHECK_INT(shelf_eval_limits_from_env(&l, none, &err), 0);
    CHECK(l.seconds == 0 && l.instructions == 0 && l.memory == 0);
    static const char *const bad[] = {"SHELF_EVAL_SECONDS=abc", "SHELF_EVAL_SECONDS=0",
                                      "SHELF_EVAL_SECONDS=-1", "SHELF_EVAL_SECONDS=nan",
                                      "SHELF_EVAL_INSTRUCTIONS=12x", "SHELF_EVAL_INSTRUCTIONS=-5",
                                      "SHELF_EVAL_INSTRUCTIONS=0",
                                      "SHELF_EVAL_INSTRUCTIONS=99999999999999999999999",
                                      "SHELF_EVAL_MEMORY_MB= 5", "SHELF_EVAL_MEMORY_MB=1.5"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *env[] = {(char *)bad[i], NULL};
        l.seconds = 7;
        CHECK_INT(shelf_eval_limits_from_env(&l, env, &err), SHELF_EUSAGE);
        CHECK(l.seconds == 7);
        size_t n = strcspn(bad[i], "=");
        if (!err.message || strncmp(err.message, bad[i], n) != 0 ||
            !strstr(err.message, bad[i] + n + 1)) {
            printf("# %s: %s\n", bad[i], err.message ? err.message : "(none)");
            CHECK(0);
        }
        shelf_error_clear(&err);
    }
}

static const struct check_test tests[] = {
    TEST(test_patterns_match_the_string_library),
    TEST(test_pattern_errors_read_as_lua_says_them),
    TEST(test_pattern_bomb_is_stopped),
    TEST(test_loops_stop_past_pcall),
    TEST(test_memory_budget_passes_pcall),
    TEST(test_abort_passes_pcall),
    TEST(test_each_evaluation_sees_fresh_libraries),
    TEST(test_globals_behave_as_a_table),
    TEST(test_nested_evaluation_keeps_the_outer_budget),
    TEST(test_nothing_runs_after_its_evaluation),
    TEST(test_refuses_what_is_not_there),
    TEST(test_limits_from_env),
};

CHECK_MAIN(tests)
