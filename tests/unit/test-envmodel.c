/* test-envmodel.c -- variables, path reference counts, priorities,
 * pushenv stacks, aliases, functions and the diff. */
#include "config.h"

#include <stdlib.h>

#include "check.h"
#include "envmodel.h"

static char *base_env[] = {"PATH=/usr/bin:/bin", "KEEP=1", "GONE=x", NULL};

static const shelf_change *find_change(const shelf_changes *c, const char *name)
{
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->items[i].name, name) == 0)
            return &c->items[i];
    return NULL;
}

static void test_reads_through_and_diffs_only_changes(void)
{
    shelf_env env;
    shelf_env_init(&env, base_env);
    CHECK_STR(shelf_env_get(&env, "KEEP"), "1");
    CHECK(shelf_env_get(&env, "NOPE") == NULL);
    CHECK_INT(shelf_env_set(&env, "KEEP", "1"), 0); /* same value: no change */
    CHECK_INT(shelf_env_set(&env, "NEW", "a b"), 0);
    CHECK_INT(shelf_env_unset(&env, "GONE"), 0);
    CHECK_INT(shelf_env_unset(&env, "NEVER"), 0); /* unset -> unset: no change */
    shelf_changes c;
    shelf_changes_init(&c);
    CHECK_INT(shelf_env_diff(&env, &c), 0);
    CHECK_INT(c.n, 2);
    CHECK_STR(c.items[0].name, "GONE"); /* sorted by name */
    CHECK_INT(c.items[0].kind, SHELF_CHANGE_UNSETENV);
    CHECK_STR(c.items[1].name, "NEW");
    CHECK_STR(c.items[1].value, "a b");
    shelf_changes_free(&c);
    shelf_env_free(&env);
}

static void test_prepend_keeps_item_order_and_counts(void)
{
    shelf_env env;
    shelf_env_init(&env, base_env);
    CHECK_INT(shelf_env_path_add(&env, "PATH", "/a:/b", ":", 1, 0), 0);
    CHECK_STR(shelf_env_get(&env, "PATH"), "/a:/b:/usr/bin:/bin");
    /* Prepending an existing entry counts it again and moves it to the front. */
    CHECK_INT(shelf_env_path_add(&env, "PATH", "/bin", ":", 1, 0), 0);
    CHECK_STR(shelf_env_get(&env, "PATH"), "/bin:/a:/b:/usr/bin");
    CHECK_INT(shelf_env_path_remove(&env, "PATH", "/bin", ":", 0), 0);
    CHECK_STR(shelf_env_get(&env, "PATH"), "/bin:/a:/b:/usr/bin"); /* count 2 -> 1 */
    CHECK_INT(shelf_env_path_add(&env, "PATH", "/a", ":", 1, 0), 0);
    CHECK_INT(shelf_env_path_remove(&env, "PATH", "/a", ":", 0), 0);
    CHECK_STR(shelf_env_get(&env, "PATH"), "/a:/bin:/b:/usr/bin");
    CHECK_INT(shelf_env_path_remove(&env, "PATH", "/a:/b", ":", 0), 0);
    CHECK_STR(shelf_env_get(&env, "PATH"), "/bin:/usr/bin");
    shelf_env_free(&env);
}

static void test_append_and_force_remove(void)
{
    shelf_env env;
    shelf_env_init(&env, base_env);
    CHECK_INT(shelf_env_path_add(&env, "PATH", "/z", ":", 0, 0), 0);
    CHECK_INT(shelf_env_path_add(&env, "PATH", "/z", ":", 0, 0), 0);
    CHECK_STR(shelf_env_get(&env, "PATH"), "/usr/bin:/bin:/z");
    CHECK_INT(shelf_env_path_remove(&env, "PATH", "/z", ":", 1), 0);
    CHECK_STR(shelf_env_get(&env, "PATH"), "/usr/bin:/bin");
    shelf_env_free(&env);
}

static void test_priority_entries_stay_in_front(void)
{
    shelf_env env;
    shelf_env_init(&env, base_env);
    CHECK_INT(shelf_env_path_add(&env, "PATH", "/hi", ":", 1, 100), 0);
    CHECK_INT(shelf_env_path_add(&env, "PATH", "/lo", ":", 1, 0), 0);
    CHECK_STR(shelf_env_get(&env, "PATH"), "/hi:/lo:/usr/bin:/bin");
    CHECK_INT(shelf_env_path_add(&env, "PATH", "/last", ":", 0, 100), 0);
    CHECK_INT(shelf_env_path_add(&env, "PATH", "/plain", ":", 0, 0), 0);
    CHECK_STR(shelf_env_get(&env, "PATH"), "/hi:/lo:/usr/bin:/bin:/plain:/last");
    shelf_env_free(&env);
}

static void test_custom_delimiter_and_empty_var_unset(void)
{
    shelf_env env;
    shelf_env_init(&env, base_env);
    CHECK_INT(shelf_env_path_add(&env, "LIST", "a;b", ";", 0, 0), 0);
    CHECK_STR(shelf_env_get(&env, "LIST"), "a;b");
    CHECK_INT(shelf_env_path_remove(&env, "LIST", "a;b", ";", 0), 0);
    CHECK(shelf_env_get(&env, "LIST") == NULL);
    shelf_env_free(&env);
}

static void test_pushenv_stack_restores_and_unsets(void)
{
    shelf_env env;
    shelf_env_init(&env, base_env);
    CHECK_INT(shelf_env_push(&env, "CC", "gcc"), 0);
    CHECK_INT(shelf_env_push(&env, "CC", "icc"), 0);
    CHECK_STR(shelf_env_get(&env, "CC"), "icc");
    CHECK_INT(shelf_env_pop(&env, "CC"), 0);
    CHECK_STR(shelf_env_get(&env, "CC"), "gcc");
    CHECK_INT(shelf_env_pop(&env, "CC"), 0);
    CHECK(shelf_env_get(&env, "CC") == NULL);
    CHECK_INT(shelf_env_push(&env, "KEEP", "2"), 0);
    CHECK_INT(shelf_env_pop(&env, "KEEP"), 0);
    CHECK_STR(shelf_env_get(&env, "KEEP"), "1");
    shelf_env_free(&env);
}

static void test_aliases_and_functions_in_diff(void)
{
    shelf_env env;
    shelf_env_init(&env, base_env);
    CHECK_INT(shelf_env_set_alias(&env, "ll", "ls -l"), 0);
    CHECK_INT(shelf_env_set_func(&env, "hi", "echo hi", "echo csh", 0), 0);
    CHECK_INT(shelf_env_set_func(&env, "bye", NULL, NULL, 1), 0);
    shelf_changes c;
    shelf_changes_init(&c);
    CHECK_INT(shelf_env_diff(&env, &c), 0);
    const shelf_change *a = find_change(&c, "ll"), *f = find_change(&c, "hi"),
                       *u = find_change(&c, "bye");
    CHECK(a && a->kind == SHELF_CHANGE_ALIAS && strcmp(a->value, "ls -l") == 0);
    CHECK(f && f->kind == SHELF_CHANGE_FUNC && strcmp(f->value2, "echo csh") == 0);
    CHECK(u && u->kind == SHELF_CHANGE_UNFUNC);
    shelf_changes_free(&c);
    shelf_env_free(&env);
}

static const struct check_test tests[] = {
    TEST(test_reads_through_and_diffs_only_changes),
    TEST(test_prepend_keeps_item_order_and_counts),
    TEST(test_append_and_force_remove),
    TEST(test_priority_entries_stay_in_front),
    TEST(test_custom_delimiter_and_empty_var_unset),
    TEST(test_pushenv_stack_restores_and_unsets),
    TEST(test_aliases_and_functions_in_diff),
};
CHECK_MAIN(tests)
