/* test-modulefile.c -- the Lua sandbox: each API call reaches the host as
 * a plain call with its arguments, options and line; queries answer from
 * the host and the module's identity; nothing outside the sandbox is
 * reachable. */
#include "config.h"

#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "modulefile.h"

static char path[] = "/tmp/shelf-mf-XXXXXX";
static shelf_strv calls; /* "line:fname(args)|delim|priority" */

static int rec_call(void *ud, const shelf_mf_call *c, shelf_error *err)
{
    (void)ud;
    (void)err;
    shelf_buf b;
    shelf_buf_init(&b);
    shelf_buf_addf(&b, "%d:", c->line);
    shelf_mf_call_format(c, &b);
    shelf_buf_addf(&b, "|%s|%d", c->delim, c->priority);
    shelf_strv_push_owned(&calls, shelf_buf_take(&b));
    return 0;
}

static int rec_loaded(void *ud, const char *name)
{
    (void)ud;
    return strcmp(name, "gcc") == 0;
}

static const char *rec_getenv(void *ud, const char *name)
{
    (void)ud;
    return strcmp(name, "HOME_OF_TEST") == 0 ? "/home/t" : NULL;
}

static const shelf_mf_host host = {NULL, rec_call, rec_loaded, rec_loaded, rec_getenv};

static int eval(const char *text, shelf_mode mode, shelf_error *err)
{
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
    shelf_strv_free(&calls);
    shelf_mf_info info = {path, "foo/1.2", "foo", "1.2", "foo/1", mode, "bash"};
    shelf_lua *lua = shelf_lua_new(NULL);
    int rc = shelf_mf_eval(lua, &info, &host, err);
    shelf_lua_free(lua);
    return rc;
}

static void test_calls_reach_host_with_lines_and_options(void)
{
    shelf_error err = {0};
    CHECK_INT(eval("setenv('A', 'x')\n"
                   "prepend_path('P', '/a', ';')\n"
                   "append_path{'P', '/b', delim=',', priority=100}\n"
                   "setenv('N', 42)\n"
                   "whatis('Description: demo')\n"
                   "print('to the person')\n",
                   SHELF_MODE_LOAD, &err), 0);
    CHECK_INT(calls.n, 6);
    CHECK_STR(calls.v[5], "6:print(\"to the person\")|:|0");
    CHECK_STR(calls.v[0], "1:setenv(\"A\",\"x\")|:|0");
    CHECK_STR(calls.v[1], "2:prepend_path(\"P\",\"/a\",\";\")|;|0");
    CHECK_STR(calls.v[2], "3:append_path{\"P\",\"/b\",delim=\",\",priority=100}|,|100");
    CHECK_STR(calls.v[3], "4:setenv(\"N\",\"42\")|:|0");
    CHECK_STR(calls.v[4], "5:whatis(\"Description: demo\")|:|0");
    shelf_error_clear(&err);
}

static void test_queries_answer_identity_and_host(void)
{
    shelf_error err = {0};
    CHECK_INT(eval("setenv('R', table.concat({myModuleName(), myModuleVersion(),\n"
                   "  myModuleFullName(), myModuleUsrName(), mode(), myShellType(),\n"
                   "  tostring(isloaded('gcc')), tostring(isloaded('x')),\n"
                   "  os.getenv('HOME_OF_TEST'), tostring(os.getenv('NOPE')),\n"
                   "  pathJoin('/a/', '/b', 'c')}, ' '))\n",
                   SHELF_MODE_UNLOAD, &err), 0);
    CHECK_INT(calls.n, 1);
    CHECK_STR(calls.v[0], "1:setenv(\"R\",\"foo 1.2 foo/1.2 foo/1 unload sh true false "
                          "/home/t nil /a/b/c\")|:|0");
    CHECK_INT(eval("setenv('F', myFileName())\n", SHELF_MODE_LOAD, &err), 0);
    CHECK(calls.n == 1 && strstr(calls.v[0], path));
    shelf_error_clear(&err);
}

static void expect_error(const char *text, int code, int line, const char *needle)
{
    shelf_error err = {0};
    CHECK_INT(eval(text, SHELF_MODE_LOAD, &err), code);
    CHECK_INT(err.line, line);
    CHECK_STR(err.file, path);
    CHECK_STR(err.module, "foo/1.2");
    if (!err.message || !strstr(err.message, needle)) {
        printf("# message: %s (wanted %s)\n", err.message ? err.message : "(null)", needle);
        CHECK(0);
    }
    shelf_error_clear(&err);
}

static void test_sandbox_refuses_escapes(void)
{
    expect_error("os.execute('true')\n", SHELF_EMODULEFILE, 1, "execute");
    expect_error("\nio.open('/etc/passwd')\n", SHELF_EMODULEFILE, 2, "io");
    expect_error("require('os')\n", SHELF_EMODULEFILE, 1, "not allowed");
    expect_error("dofile('/etc/passwd')\n", SHELF_EMODULEFILE, 1, "dofile");
    expect_error("loadfile('/etc/passwd')\n", SHELF_EMODULEFILE, 1, "loadfile");
    expect_error("string.dump(print)\n", SHELF_EMODULEFILE, 1, "dump");
    /* Bytecode is refused at load time. */
    expect_error("\x1bLua", SHELF_EMODULEFILE, 0, "binary");
}

static void test_errors_carry_the_line(void)
{
    expect_error("setenv('A','1')\n\nLmodError('bad ', 'thing')\n", SHELF_ELMODERROR, 3,
                 "bad thing");
    expect_error("setenv('A')\n", SHELF_EMODULEFILE, 1, "setenv");
    expect_error("x = = 1\n", SHELF_EMODULEFILE, 1, "syntax error");
    expect_error("local function f() error('deep') end\n\nf()\n", SHELF_EMODULEFILE, 1, "deep");
}

static void test_interpreter_reused_and_missing_file(void)
{
    shelf_error err = {0};
    FILE *f = fopen(path, "w");
    fputs("setenv('A','1')\nsetenv('B','2')\n", f);
    fclose(f);
    shelf_strv_free(&calls);
    shelf_mf_info info = {path, "foo/1.2", "foo", "1.2", "foo", SHELF_MODE_LOAD, "bash"};
    shelf_lua *lua = shelf_lua_new(NULL);
    CHECK_INT(shelf_mf_eval(lua, &info, &host, &err), 0);
    CHECK_INT(calls.n, 2);
    /* The same interpreter evaluates the next file cleanly. */
    CHECK_INT(shelf_mf_eval(lua, &info, &host, &err), 0);
    CHECK_INT(calls.n, 4);
    shelf_lua_free(lua);
    shelf_error_clear(&err);
    info.file = "/nonexistent/x.lua";
    lua = shelf_lua_new(NULL);
    CHECK_INT(shelf_mf_eval(lua, &info, &host, &err), SHELF_EIO);
    CHECK(err.message && strstr(err.message, "/nonexistent/x.lua"));
    shelf_lua_free(lua);
    shelf_error_clear(&err);
}

/* One interpreter for several evaluations, with small budgets. */
static int eval_in(shelf_lua *lua, const char *text, shelf_error *err)
{
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
    shelf_strv_free(&calls);
    shelf_mf_info info = {path, "foo/1.2", "foo", "1.2", "foo/1", SHELF_MODE_LOAD, "bash"};
    return shelf_mf_eval(lua, &info, &host, err);
}

static void test_budgets_aborts_and_fresh_libraries(void)
{
    shelf_eval_limits limits = {0, 200000, 0};
    shelf_lua *lua = shelf_lua_new(&limits);
    shelf_error err = {0};
    CHECK_INT(eval_in(lua, "setenv('A', '1')\nwhile true do end\n", &err), SHELF_EMODULEFILE);
    CHECK_INT(err.line, 2);
    CHECK_STR(err.file, path);
    CHECK(err.message && strstr(err.message, "the modulefile ran over its budget of 200000 "
                                             "instructions"));
    shelf_error_clear(&err);
    CHECK_INT(eval_in(lua, "pcall(function() while true do end end)\nsetenv('A', '1')\n", &err),
              SHELF_EMODULEFILE);
    CHECK_INT(calls.n, 0);
    shelf_error_clear(&err);
    CHECK_INT(eval_in(lua, "\npcall(LmodError, 'boom')\nsetenv('A', '1')\n", &err),
              SHELF_ELMODERROR);
    CHECK_INT(err.line, 2);
    CHECK_STR(err.message, "boom");
    CHECK_INT(calls.n, 0);
    shelf_error_clear(&err);
    CHECK_INT(eval_in(lua, "setmetatable({}, {__gc = function() setenv('X', '1') end})\n", &err),
              SHELF_EMODULEFILE);
    CHECK(err.message && strstr(err.message, "__gc"));
    shelf_error_clear(&err);
    CHECK_INT(eval_in(lua, "string.rep = nil\ngetmetatable('').__index = {}\n", &err), 0);
    CHECK_INT(eval_in(lua, "setenv('R', ('a'):rep(2) .. string.rep('b', 2))\n", &err), 0);
    CHECK(calls.n == 1 && strstr(calls.v[0], "setenv(\"R\",\"aabb\")"));
    shelf_lua_free(lua);
}

/* An argument table whose options raise (its __index fails) stops the
 * call before anything reaches the host, and leaves no copy of the
 * arguments behind (leak checkers see it under ASan and valgrind). */
static void test_raising_arguments_leave_nothing(void)
{
    shelf_error err = {0};
    CHECK_INT(eval("local t = setmetatable({'A', 'B', 3}, {__index = function() error('x') end})\n"
                   "local caught = 0\n"
                   "for i = 1, 100 do if not pcall(setenv, t) then caught = caught + 1 end end\n"
                   "setenv('CAUGHT', caught)\n",
                   SHELF_MODE_LOAD, &err), 0);
    CHECK_INT(calls.n, 1);
    CHECK(calls.n == 1 && strstr(calls.v[0], "setenv(\"CAUGHT\",\"100\")"));
    shelf_error_clear(&err);
}

static const struct check_test tests[] = {
    TEST(test_calls_reach_host_with_lines_and_options),
    TEST(test_queries_answer_identity_and_host),
    TEST(test_sandbox_refuses_escapes),
    TEST(test_errors_carry_the_line),
    TEST(test_interpreter_reused_and_missing_file),
    TEST(test_budgets_aborts_and_fresh_libraries),
    TEST(test_raising_arguments_leave_nothing),
};

int main(void)
{
    int fd = mkstemp(path);
    if (fd < 0)
        return 99;
    close(fd);
    int rc = check_run(tests, sizeof tests / sizeof tests[0]);
    unlink(path);
    shelf_strv_free(&calls);
    return rc;
}
