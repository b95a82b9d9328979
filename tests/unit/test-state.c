/* test-state.c -- the module table survives a trip through the
 * environment (chunked), and a corrupt table is refused cleanly. */
#include "config.h"

#include <stdlib.h>

#include "check.h"
#include "state.h"

/* Applies env's changes to a fresh NULL-terminated environ array. */
static char **environ_from(const shelf_env *env)
{
    shelf_changes c;
    shelf_changes_init(&c);
    shelf_env_diff(env, &c);
    char **out = calloc(c.n + 1, sizeof *out);
    size_t k = 0;
    for (size_t i = 0; i < c.n; i++) {
        if (c.items[i].kind != SHELF_CHANGE_SETENV)
            continue;
        shelf_buf b;
        shelf_buf_init(&b);
        shelf_buf_addf(&b, "%s=%s", c.items[i].name, c.items[i].value);
        out[k++] = shelf_buf_take(&b);
    }
    shelf_changes_free(&c);
    return out;
}

static void free_environ(char **e)
{
    for (char **p = e; *p; p++)
        free(*p);
    free(e);
}

static void add_module(shelf_state *st, const char *fn, const char *sn, int user)
{
    shelf_loaded m;
    memset(&m, 0, sizeof m);
    m.fullname = strdup(fn);
    m.sn = strdup(sn);
    m.version = strdup(strchr(fn, '/') ? strchr(fn, '/') + 1 : "");
    shelf_buf b;
    shelf_buf_init(&b);
    shelf_buf_addf(&b, "/tree/%s.lua", fn);
    m.file = shelf_buf_take(&b);
    m.mpath = strdup("/tree");
    m.usrname = strdup(sn);
    m.user_loaded = user;
    m.active = 1;
    shelf_state_append(st, &m);
}

static void test_round_trip_with_chunks(void)
{
    shelf_state st;
    shelf_state_init(&st);
    char longname[300];
    memset(longname, 'x', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    add_module(&st, "gcc/12.3.0", "gcc", 1);
    add_module(&st, "zlib/1.3", "zlib", 0);
    add_module(&st, longname, longname, 1); /* forces several chunks */
    shelf_strv_push(&st.mods[1].needed_by, "gcc");
    shelf_strv_push(&st.mods[0].props, "lmod=sticky");
    st.mods[2].active = 0;
    shelf_env env;
    char *base[] = {NULL};
    shelf_env_init(&env, base);
    shelf_env_path_add(&env, "PATH", "/x", ":", 1, 0);
    shelf_env_path_add(&env, "PATH", "/x", ":", 1, 0); /* count 2 */
    shelf_env_push(&env, "CC", "gcc");                   /* stack: [unset] */
    CHECK_INT(shelf_state_save(&st, &env), 0);
    CHECK_STR(shelf_env_get(&env, "LOADEDMODULES"), "gcc/12.3.0:zlib/1.3");
    CHECK_STR(shelf_env_get(&env, "_LMFILES_"), "/tree/gcc/12.3.0.lua:/tree/zlib/1.3.lua");
    const char *sz = shelf_env_get(&env, "_SHELF_TABLE_SZ");
    CHECK(sz && atoi(sz) >= 2);
    CHECK(strlen(shelf_env_get(&env, "_SHELF_TABLE_001")) == SHELF_STATE_CHUNK);

    char **next = environ_from(&env);
    shelf_env env2;
    shelf_env_init(&env2, next);
    shelf_state st2;
    shelf_error err = {0};
    CHECK_INT(shelf_state_load(&st2, &env2, &err), 0);
    CHECK_INT(st2.n, 3);
    CHECK_STR(st2.mods[0].fullname, "gcc/12.3.0");
    CHECK_INT(st2.mods[1].user_loaded, 0);
    CHECK_STR(st2.mods[1].needed_by.v[0], "gcc");
    CHECK_STR(st2.mods[0].props.v[0], "lmod=sticky");
    CHECK_INT(st2.mods[2].active, 0);
    CHECK_STR(st2.mods[2].sn, longname);
    /* The reference count and the pushenv stack came back too. */
    CHECK_INT(shelf_env_path_remove(&env2, "PATH", "/x", ":", 0), 0);
    CHECK_STR(shelf_env_get(&env2, "PATH"), "/x");
    CHECK_INT(shelf_env_pop(&env2, "CC"), 0);
    CHECK(shelf_env_get(&env2, "CC") == NULL);
    CHECK(shelf_state_find(&st2, "gcc/12") == &st2.mods[0]);
    CHECK(shelf_state_find(&st2, "gcc/1") == NULL);
    CHECK(shelf_state_find(&st2, "zlib") == &st2.mods[1]);
    shelf_state_free(&st2);
    shelf_env_free(&env2);
    free_environ(next);
    shelf_state_free(&st);
    shelf_env_free(&env);
}

static void test_empty_table_removes_variables(void)
{
    char *base[] = {"_SHELF_TABLE_SZ=1", "_SHELF_TABLE_001={\"v\":1,\"mods\":[]}",
                    "LOADEDMODULES=a/1", "_LMFILES_=/a/1.lua", NULL};
    shelf_env env;
    shelf_env_init(&env, base);
    shelf_state st;
    shelf_error err = {0};
    CHECK_INT(shelf_state_load(&st, &env, &err), 0);
    CHECK_INT(st.n, 0);
    CHECK_INT(shelf_state_save(&st, &env), 0);
    CHECK(shelf_env_get(&env, "_SHELF_TABLE_SZ") == NULL);
    CHECK(shelf_env_get(&env, "_SHELF_TABLE_001") == NULL);
    CHECK(shelf_env_get(&env, "LOADEDMODULES") == NULL);
    CHECK(shelf_env_get(&env, "_LMFILES_") == NULL);
    shelf_state_free(&st);
    shelf_env_free(&env);
}

static void expect_corrupt(char **base, const char *needle)
{
    shelf_env env;
    shelf_env_init(&env, base);
    shelf_state st;
    shelf_error err = {0};
    CHECK_INT(shelf_state_load(&st, &env, &err), SHELF_ESTATE);
    CHECK(err.message && strstr(err.message, needle));
    CHECK(err.message && strstr(err.message, "--force purge"));
    CHECK_INT(st.n, 0);
    CHECK_INT(env.nrefs, 0);
    shelf_error_clear(&err);
    shelf_state_free(&st);
    shelf_env_free(&env);
}

static void test_corrupt_tables_are_refused(void)
{
    char *bad_size[] = {"_SHELF_TABLE_SZ=zz", NULL};
    expect_corrupt(bad_size, "not a chunk count");
    char *missing[] = {"_SHELF_TABLE_SZ=2", "_SHELF_TABLE_001={", NULL};
    expect_corrupt(missing, "_SHELF_TABLE_002 is missing");
    char *bad_json[] = {"_SHELF_TABLE_SZ=1", "_SHELF_TABLE_001={\"v\":1,\"mods\":[", NULL};
    expect_corrupt(bad_json, "corrupt");
    char *bad_version[] = {"_SHELF_TABLE_SZ=1", "_SHELF_TABLE_001={\"v\":7}", NULL};
    expect_corrupt(bad_version, "corrupt");
    char *bad_mod[] = {"_SHELF_TABLE_SZ=1",
                       "_SHELF_TABLE_001={\"v\":1,\"mods\":[{\"fn\":3}]}", NULL};
    expect_corrupt(bad_mod, "corrupt");
    char *bad_refs[] = {"_SHELF_TABLE_SZ=1",
                        "_SHELF_TABLE_001={\"v\":1,\"refs\":{\"PATH\":[[1,2,3]]}}", NULL};
    expect_corrupt(bad_refs, "corrupt");
}

static const struct check_test tests[] = {
    TEST(test_round_trip_with_chunks),
    TEST(test_empty_table_removes_variables),
    TEST(test_corrupt_tables_are_refused),
};
CHECK_MAIN(tests)
