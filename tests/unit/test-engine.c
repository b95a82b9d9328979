/* test-engine.c -- load/unload/swap/purge as transactions on small trees
 * written to a temporary directory; each command starts from the
 * environment the previous one produced, as in a shell. */
#include "config.h"

#include <stdarg.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "engine-internal.h"

static char tmpl[] = "/tmp/shelf-engine-XXXXXX";
static char *root;
static shelf_strv environ_v; /* "NAME=value" strings: the shell's environment */

static void write_file(const char *rel, const char *text)
{
    shelf_buf p;
    shelf_buf_init(&p);
    shelf_buf_addf(&p, "%s/%s", root, rel);
    for (char *s = p.data + strlen(root) + 1; (s = strchr(s, '/')); s++) {
        *s = '\0';
        mkdir(p.data, 0755);
        *s = '/';
    }
    FILE *f = fopen(p.data, "w");
    fputs(text, f);
    fclose(f);
    shelf_buf_free(&p);
}

static void env_reset(const char *modulepath_rel)
{
    shelf_strv_free(&environ_v);
    shelf_strv_push(&environ_v, "PATH=/usr/bin:/bin");
    shelf_buf b;
    shelf_buf_init(&b);
    shelf_buf_addf(&b, "MODULEPATH=%s/%s", root, modulepath_rel);
    shelf_strv_push_owned(&environ_v, shelf_buf_take(&b));
}

static long env_index(const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < environ_v.n; i++)
        if (strncmp(environ_v.v[i], name, n) == 0 && environ_v.v[i][n] == '=')
            return (long)i;
    return -1;
}

static const char *env_get(const char *name)
{
    long i = env_index(name);
    return i < 0 ? NULL : environ_v.v[i] + strlen(name) + 1;
}

static void apply(const shelf_changes *c)
{
    for (size_t i = 0; i < c->n; i++) {
        const shelf_change *ch = &c->items[i];
        if (ch->kind != SHELF_CHANGE_SETENV && ch->kind != SHELF_CHANGE_UNSETENV)
            continue;
        long at = env_index(ch->name);
        if (at >= 0)
            shelf_strv_remove(&environ_v, (size_t)at);
        if (ch->kind == SHELF_CHANGE_SETENV) {
            shelf_buf b;
            shelf_buf_init(&b);
            shelf_buf_addf(&b, "%s=%s", ch->name, ch->value);
            shelf_strv_push_owned(&environ_v, shelf_buf_take(&b));
        }
    }
}

enum op { LOAD, UNLOAD, SWAP, PURGE };

/* Runs one command like the front end does; on success the environment
 * moves on, on failure it stays exactly as it was. Returns the code and
 * leaves the error (and messages) for the caller to look at. */
static int run(enum op op, shelf_error *err, shelf_strv *messages, ...)
{
    char *names[8];
    int n = 0;
    va_list ap;
    va_start(ap, messages);
    for (const char *s; n < 8 && (s = va_arg(ap, const char *));)
        names[n++] = (char *)s;
    va_end(ap);
    shelf_engine e;
    int rc = shelf_engine_open(&e, environ_v.v, SHELF_SH_BASH, NULL, err);
    if (rc == 0) {
        switch (op) {
        case LOAD: rc = shelf_engine_load(&e, names, (size_t)n, 0, err); break;
        case UNLOAD: rc = shelf_engine_unload(&e, names, (size_t)n, err); break;
        case SWAP: rc = shelf_engine_swap(&e, names[0], n > 1 ? names[1] : NULL, err); break;
        case PURGE: rc = shelf_engine_purge(&e, err); break;
        }
    }
    shelf_changes c;
    shelf_changes_init(&c);
    if (rc == 0)
        rc = shelf_engine_finish(&e, &c, err);
    if (rc == 0)
        apply(&c);
    if (messages)
        for (size_t i = 0; i < e.messages.n; i++)
            shelf_strv_push(messages, e.messages.v[i]);
    shelf_changes_free(&c);
    shelf_engine_close(&e);
    return rc;
}

#define RUN_OK(op, ...)                                                    \
    do {                                                                   \
        shelf_error e_ = {0};                                              \
        int rc_ = run(op, &e_, NULL, __VA_ARGS__, NULL);                    \
        if (rc_)                                                           \
            printf("# %s\n", e_.message ? e_.message : "?");               \
        CHECK_INT(rc_, 0);                                                 \
        shelf_error_clear(&e_);                                            \
    } while (0)

static void setup_tree(void)
{
    write_file("core/a/1.0.lua",
               "setenv('A_VAR', 'x y $z')\nprepend_path('PATH', '/opt/a/bin')\n"
               "pushenv('CC', 'a-cc')\n");
    write_file("core/dep/1.0.lua", "setenv('DEP', '1')\n");
    write_file("core/user/1.0.lua", "depends_on('dep')\nsetenv('USER_MOD', '1')\n");
    write_file("core/other/1.0.lua", "depends_on('dep')\n");
    write_file("core/bad/1.0.lua", "setenv('X', '1')\n\nLmodError('no licence for ', myModuleName())\n");
    write_file("core/syntax/1.0.lua", "setenv('X', '1')\nsetenv('Y' '2')\n");
    write_file("core/runtime/1.0.lua", "setenv('X', '1')\nlocal t = nil\nprint(t.field)\n");
    write_file("core/needsbad/1.0.lua", "setenv('N', '1')\nload('bad')\n");
    write_file("core/gcc/12.lua", "family('compiler')\nprepend_path('MODULEPATH', '" "@ROOT@/comp/gcc12')\n");
    write_file("core/gcc/13.lua", "family('compiler')\nprepend_path('MODULEPATH', '" "@ROOT@/comp/gcc13')\n");
    write_file("core/clang/15.lua", "family('compiler')\n");
    write_file("comp/gcc12/mpi/4.lua", "setenv('MPI_BUILD', 'gcc12')\n");
    write_file("comp/gcc13/mpi/4.lua", "setenv('MPI_BUILD', 'gcc13')\n");
}

/* Modulefiles name their MODULEPATH level with @ROOT@: rewrite it. */
static void fix_roots(void)
{
    const char *files[] = {"core/gcc/12.lua", "core/gcc/13.lua"};
    for (size_t i = 0; i < 2; i++) {
        shelf_buf b;
        shelf_buf_init(&b);
        shelf_buf_addf(&b, "family('compiler')\nprepend_path('MODULEPATH', '%s/comp/gcc%s')\n",
                       root, i == 0 ? "12" : "13");
        write_file(files[i], b.data);
        shelf_buf_free(&b);
    }
}

static void test_load_and_unload_reverse_everything(void)
{
    env_reset("core");
    RUN_OK(LOAD, "a");
    CHECK_STR(env_get("A_VAR"), "x y $z");
    CHECK_STR(env_get("PATH"), "/opt/a/bin:/usr/bin:/bin");
    CHECK_STR(env_get("CC"), "a-cc");
    CHECK_STR(env_get("LOADEDMODULES"), "a/1.0");
    CHECK(env_get("_SHELF_TABLE_SZ") != NULL);
    RUN_OK(UNLOAD, "a");
    CHECK(env_get("A_VAR") == NULL);
    CHECK(env_get("CC") == NULL);
    CHECK_STR(env_get("PATH"), "/usr/bin:/bin");
    CHECK(env_get("LOADEDMODULES") == NULL);
    CHECK(env_get("_SHELF_TABLE_SZ") == NULL);
}

static void test_unknown_module_changes_nothing(void)
{
    env_reset("core");
    shelf_error err = {0};
    CHECK_INT(run(LOAD, &err, NULL, "a", "nosuch", NULL), SHELF_ENOTFOUND);
    CHECK(err.message && strstr(err.message, "\"nosuch\""));
    CHECK(env_get("A_VAR") == NULL);
    CHECK(env_get("LOADEDMODULES") == NULL);
    shelf_error_clear(&err);
}

static void test_lmod_error_names_file_and_line(void)
{
    env_reset("core");
    shelf_error err = {0};
    CHECK_INT(run(LOAD, &err, NULL, "a", "bad", NULL), SHELF_ELMODERROR);
    CHECK_STR(err.message, "no licence for bad");
    CHECK_INT(err.line, 3);
    CHECK(err.file && strstr(err.file, "core/bad/1.0.lua"));
    CHECK_STR(err.module, "bad/1.0");
    CHECK(env_get("A_VAR") == NULL); /* a was loaded first in the same command */
    shelf_error_clear(&err);
    /* An error two modules deep names the innermost file. */
    CHECK_INT(run(LOAD, &err, NULL, "needsbad", NULL), SHELF_ELMODERROR);
    CHECK_STR(err.module, "bad/1.0");
    shelf_error_clear(&err);
}

static void test_syntax_and_runtime_errors(void)
{
    env_reset("core");
    shelf_error err = {0};
    CHECK_INT(run(LOAD, &err, NULL, "syntax", NULL), SHELF_EMODULEFILE);
    CHECK_INT(err.line, 2);
    CHECK(err.message && strstr(err.message, "syntax error"));
    shelf_error_clear(&err);
    CHECK_INT(run(LOAD, &err, NULL, "runtime", NULL), SHELF_EMODULEFILE);
    CHECK_INT(err.line, 3);
    CHECK(err.message && strstr(err.message, "attempt to index a nil value"));
    CHECK(env_get("X") == NULL);
    shelf_error_clear(&err);
}

static void test_dependencies_leave_with_last_dependent(void)
{
    env_reset("core");
    RUN_OK(LOAD, "user", "other");
    CHECK_STR(env_get("LOADEDMODULES"), "dep/1.0:user/1.0:other/1.0");
    RUN_OK(UNLOAD, "user");
    CHECK_STR(env_get("LOADEDMODULES"), "dep/1.0:other/1.0");
    RUN_OK(UNLOAD, "other");
    CHECK(env_get("LOADEDMODULES") == NULL);
    CHECK(env_get("DEP") == NULL);
    /* A dependency the user asked for stays. */
    RUN_OK(LOAD, "dep");
    RUN_OK(LOAD, "user");
    RUN_OK(UNLOAD, "user");
    CHECK_STR(env_get("LOADEDMODULES"), "dep/1.0");
}

static void test_family_swap_and_hierarchy(void)
{
    env_reset("core");
    fix_roots();
    shelf_strv msgs;
    shelf_strv_init(&msgs);
    shelf_error err = {0};
    RUN_OK(LOAD, "gcc/12", "mpi");
    CHECK_STR(env_get("MPI_BUILD"), "gcc12");
    CHECK_STR(env_get("LMOD_FAMILY_COMPILER"), "gcc");
    CHECK_INT(run(SWAP, &err, &msgs, "gcc", "gcc/13", NULL), 0);
    CHECK_STR(env_get("MPI_BUILD"), "gcc13");
    CHECK_STR(env_get("LOADEDMODULES"), "gcc/13:mpi/4");
    CHECK_STR(env_get("LMOD_FAMILY_COMPILER_VERSION"), "13");
    CHECK(msgs.n > 0 && strstr(msgs.v[msgs.n - 1], "reloaded"));
    /* clang opens no level: mpi goes inactive, and comes back with gcc. */
    shelf_strv_free(&msgs);
    CHECK_INT(run(LOAD, &err, &msgs, "clang", NULL), 0);
    CHECK_STR(env_get("LOADEDMODULES"), "clang/15");
    CHECK(env_get("MPI_BUILD") == NULL);
    int saw_replace = 0, saw_inactive = 0;
    for (size_t i = 0; i < msgs.n; i++) {
        saw_replace |= strstr(msgs.v[i], "automatically replacing \"gcc/13\" with \"clang/15\"") != NULL;
        saw_inactive |= strstr(msgs.v[i], "Inactive Modules:\n  1) mpi") != NULL;
    }
    CHECK(saw_replace);
    CHECK(saw_inactive);
    RUN_OK(LOAD, "gcc/12");
    CHECK_STR(env_get("LOADEDMODULES"), "gcc/12:mpi/4");
    CHECK_STR(env_get("MPI_BUILD"), "gcc12");
    shelf_strv_free(&msgs);
    shelf_error_clear(&err);
}

static void test_corrupt_state_is_refused(void)
{
    env_reset("core");
    shelf_strv_push(&environ_v, "_SHELF_TABLE_SZ=3");
    shelf_engine e;
    shelf_error err = {0};
    CHECK_INT(shelf_engine_open(&e, environ_v.v, SHELF_SH_BASH, NULL, &err), SHELF_ESTATE);
    CHECK(err.message && strstr(err.message, "_SHELF_TABLE_001 is missing"));
    shelf_engine_close(&e);
    shelf_error_clear(&err);
}

static void cleanup(void)
{
    shelf_buf cmd;
    shelf_buf_init(&cmd);
    shelf_buf_addf(&cmd, "rm -rf '%s'", root);
    if (system(cmd.data) != 0)
        fprintf(stderr, "could not remove %s\n", root);
    shelf_buf_free(&cmd);
    shelf_strv_free(&environ_v);
}

static const struct check_test tests[] = {
    TEST(test_load_and_unload_reverse_everything),
    TEST(test_unknown_module_changes_nothing),
    TEST(test_lmod_error_names_file_and_line),
    TEST(test_syntax_and_runtime_errors),
    TEST(test_dependencies_leave_with_last_dependent),
    TEST(test_family_swap_and_hierarchy),
    TEST(test_corrupt_state_is_refused),
};

int main(void)
{
    root = mkdtemp(tmpl);
    if (!root)
        return 99;
    setup_tree();
    int rc = check_run(tests, sizeof tests / sizeof tests[0]);
    cleanup();
    return rc;
}
