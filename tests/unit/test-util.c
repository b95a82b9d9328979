/* test-util.c -- buffers, string vectors, change lists and errors. */
#include "config.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>

#include "check.h"
#include "shelf-internal.h"

static void test_buf_appends_and_formats(void)
{
    shelf_buf b;
    shelf_buf_init(&b);
    shelf_buf_adds(&b, "abc");
    shelf_buf_addc(&b, '-');
    shelf_buf_addf(&b, "%d/%s", 42, "x");
    CHECK_STR(b.data, "abc-42/x");
    CHECK_INT(b.len, 8);
    CHECK_INT(shelf_buf_ok(&b), 0);
    char *s = shelf_buf_take(&b);
    CHECK_STR(s, "abc-42/x");
    CHECK(b.data == NULL && b.len == 0);
    free(s);
}

static void test_buf_grows_past_initial_capacity(void)
{
    shelf_buf b;
    shelf_buf_init(&b);
    for (int i = 0; i < 10000; i++)
        shelf_buf_adds(&b, "0123456789");
    CHECK_INT(b.len, 100000);
    CHECK_INT(b.data[99999], '9');
    CHECK_INT(b.data[100000], '\0');
    shelf_buf_free(&b);
}

/* Formatting fills the room there is and grows for what does not fit:
 * every length around the capacity comes out whole. */
static void test_buf_formats_across_its_capacity(void)
{
    char want[400];
    for (size_t pre = 0; pre < 140; pre += 7) {
        for (int w = 0; w < 200; w += 3) {
            shelf_buf b;
            shelf_buf_init(&b);
            memset(want, 'p', pre);
            want[pre] = '\0';
            shelf_buf_adds(&b, want);
            shelf_buf_addf(&b, "<%*d>", w, w);
            snprintf(want + pre, sizeof want - pre, "<%*d>", w, w);
            if (strcmp(b.data, want) != 0 || b.len != strlen(want)) {
                printf("# pre %zu width %d: %zu bytes \"%s\"\n", pre, w, b.len, b.data);
                CHECK(0);
            }
            CHECK_INT(shelf_buf_ok(&b), 0);
            shelf_buf_free(&b);
        }
    }
}

static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *fmt(const char *f, ...)
{
    va_list ap;
    va_start(ap, f);
    char *s = shelf_vfmt(f, ap);
    va_end(ap);
    return s;
}

static void test_vfmt_makes_a_new_string(void)
{
    char *s = fmt("%s/%d%s", "gcc", 12, "");
    CHECK_STR(s, "gcc/12");
    free(s);
    s = fmt("%s", "");
    CHECK_STR(s, "");
    free(s);
    char big[5000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    s = fmt("<%s>", big);
    CHECK(s && strlen(s) == sizeof big + 1 && s[0] == '<' && s[sizeof big] == '>');
    free(s);
}

static void test_buf_take_empty_gives_empty_string(void)
{
    shelf_buf b;
    shelf_buf_init(&b);
    char *s = shelf_buf_take(&b);
    CHECK_STR(s, "");
    free(s);
}

static void test_strv_split_join_find_remove(void)
{
    shelf_strv sv;
    shelf_strv_init(&sv);
    CHECK_INT(shelf_strv_split(&sv, "a::b:c", ":", 0), 0);
    CHECK_INT(sv.n, 3);
    CHECK_STR(sv.v[2], "c");
    CHECK(sv.v[3] == NULL);
    CHECK_INT(shelf_strv_find(&sv, "b"), 1);
    CHECK_INT(shelf_strv_find(&sv, "z"), -1);
    shelf_strv_remove(&sv, 0);
    char *j = shelf_strv_join(&sv, ";");
    CHECK_STR(j, "b;c");
    free(j);
    shelf_strv_free(&sv);
    CHECK_INT(shelf_strv_split(&sv, "a::b", ":", 1), 0);
    CHECK_INT(sv.n, 3);
    CHECK_STR(sv.v[1], "");
    shelf_strv_free(&sv);
    CHECK_INT(shelf_strv_split(&sv, "x##y", "##", 0), 0);
    CHECK_INT(sv.n, 2);
    CHECK_STR(sv.v[1], "y");
    shelf_strv_free(&sv);
}

static void test_error_keeps_first_and_clears(void)
{
    shelf_error err = {0};
    shelf_error_set(&err, SHELF_ENOTFOUND, "gcc/1", "/f.lua", 3, "first %s", "cause");
    shelf_error_set(&err, SHELF_EIO, NULL, NULL, 0, "second");
    CHECK_INT(err.code, SHELF_ENOTFOUND);
    CHECK_STR(err.message, "first cause");
    CHECK_STR(err.module, "gcc/1");
    CHECK_STR(err.file, "/f.lua");
    CHECK_INT(err.line, 3);
    shelf_error_clear(&err);
    CHECK_INT(err.code, SHELF_OK);
    CHECK(err.message == NULL);
    CHECK_STR(shelf_strerror(SHELF_ECONFLICT), "conflicting module loaded");
}

/* The words and statuses shelfd answers (docs/API.md) come from the map. */
static void test_error_map_names_statuses_messages(void)
{
    CHECK_STR(shelf_err_name(SHELF_ENOTFOUND), "not_found");
    CHECK_INT(shelf_err_http_status(SHELF_ENOTFOUND), 404);
    CHECK_STR(shelf_err_name(SHELF_EPARSE), "bad_request");
    CHECK_INT(shelf_err_http_status(SHELF_EUSAGE), 400);
    CHECK_STR(shelf_err_name(SHELF_EDRIFT), "drift");
    CHECK_INT(shelf_err_http_status(SHELF_ESTATE), 409);
    CHECK_STR(shelf_err_name(SHELF_ELMODERROR), "lmod_error");
    CHECK_INT(shelf_err_http_status(SHELF_EFAMILY), 422);
    CHECK_STR(shelf_err_name(SHELF_ENOMEM), "out_of_memory");
    CHECK_STR(shelf_strerror(SHELF_ENOMEM), "out of memory");
    CHECK_STR(shelf_err_name(SHELF_EIO), "io_error");
    CHECK_INT(shelf_err_http_status(SHELF_EIO), 500);
    /* not an error, or not a known one: the server's fault */
    CHECK_STR(shelf_err_name(SHELF_OK), "internal");
    CHECK_INT(shelf_err_http_status(SHELF_OK), 500);
    CHECK_STR(shelf_strerror(SHELF_OK), "success");
    CHECK_STR(shelf_err_name(-999), "internal");
    CHECK_INT(shelf_err_http_status(-999), 500);
    CHECK_STR(shelf_strerror(-999), "unknown error");
    /* every listed error has its own negative code, a message, a word and
     * an error status */
    static const int codes[] = {
#define CODE(name, value, word, status, message) SHELF_##name,
        SHELF_ERRNO_MAP(CODE)
#undef CODE
    };
    size_t n = sizeof codes / sizeof codes[0];
    CHECK_INT(n, 12);
    for (size_t i = 0; i < n; i++) {
        CHECK(codes[i] < 0);
        for (size_t j = 0; j < i; j++)
            CHECK(codes[i] != codes[j]);
        CHECK(strcmp(shelf_strerror(codes[i]), "unknown error") != 0);
        CHECK(strcmp(shelf_err_name(codes[i]), "internal") != 0);
        CHECK(shelf_err_http_status(codes[i]) >= 400);
    }
}

static void test_grow_keeps_contents_and_refuses_overflow(void)
{
    long *v = NULL;
    size_t cap = 0;
    CHECK_INT(SHELF_GROW(v, cap, 1), 0);
    CHECK(v != NULL && cap >= 1);
    for (size_t i = 0; i < 1000; i++) {
        CHECK_INT(SHELF_GROW(v, cap, i + 1), 0);
        if (!v || cap < i + 1)
            break;
        v[i] = (long)i * 3;
    }
    CHECK(cap >= 1000 && cap < 4000); /* doubled, not grown one by one */
    long sum = 0;
    for (size_t i = 0; v && i < 1000; i++)
        sum += v[i];
    CHECK_INT(sum, 3 * 999 * 1000 / 2);
    long *before = v;
    size_t cap_before = cap;
    CHECK_INT(SHELF_GROW(v, cap, 10), 0); /* room already: nothing changes */
    CHECK(v == before && cap == cap_before);
    /* a size that overflows: refused, the array left as it was */
    CHECK_INT(SHELF_GROW(v, cap, SIZE_MAX / 4), SHELF_ENOMEM);
    CHECK(v == before && cap == cap_before);
    CHECK(v[999] == 2997);
    free(v);
    shelf_error err = {0};
    CHECK_INT(shelf_oom(&err), SHELF_ENOMEM);
    CHECK_INT(err.code, SHELF_ENOMEM);
    CHECK_STR(err.message, "out of memory");
    shelf_error_clear(&err);
}

static void test_changes_copy_values(void)
{
    shelf_changes c;
    shelf_changes_init(&c);
    char name[] = "FOO";
    CHECK_INT(shelf_changes_add(&c, SHELF_CHANGE_SETENV, name, "v", NULL), 0);
    name[0] = 'X';
    CHECK_INT(shelf_changes_add(&c, SHELF_CHANGE_FUNC, "f", "echo", "echo csh"), 0);
    CHECK_STR(c.items[0].name, "FOO");
    CHECK(c.items[0].value2 == NULL);
    CHECK_STR(c.items[1].value2, "echo csh");
    shelf_changes_free(&c);
}

static void test_path_join_and_affixes(void)
{
    char *p = shelf_path_join("/a/", "b");
    CHECK_STR(p, "/a/b");
    free(p);
    p = shelf_path_join("/a", "b");
    CHECK_STR(p, "/a/b");
    free(p);
    CHECK(shelf_str_starts("gcc/12", "gcc"));
    CHECK(!shelf_str_starts("gc", "gcc"));
    CHECK(shelf_str_ends("x.lua", ".lua"));
    CHECK(!shelf_str_ends("lua", ".lua"));
}

static void test_read_file_reports_missing(void)
{
    shelf_buf b;
    shelf_buf_init(&b);
    shelf_error err = {0};
    CHECK_INT(shelf_read_file("/nonexistent/shelf-test", &b, &err), SHELF_EIO);
    CHECK(err.message && strstr(err.message, "/nonexistent/shelf-test"));
    CHECK_STR(err.file, "/nonexistent/shelf-test");
    shelf_error_clear(&err);
    shelf_buf_free(&b);
}

static void test_environ_get_put_unset(void)
{
    shelf_strv env;
    shelf_strv_init(&env);
    CHECK(shelf_environ_get(env.v, "PATH") == NULL); /* an empty vector */
    CHECK_INT(shelf_environ_put(&env, "PATH", "/bin"), SHELF_OK);
    CHECK_INT(shelf_environ_put(&env, "PATHX", "x=y"), SHELF_OK);
    CHECK_INT(shelf_environ_put(&env, "EMPTY", ""), SHELF_OK);
    CHECK_STR(shelf_environ_get(env.v, "PATH"), "/bin");
    CHECK_STR(shelf_environ_get(env.v, "PATHX"), "x=y");
    CHECK_STR(shelf_environ_get(env.v, "EMPTY"), "");
    CHECK(shelf_environ_get(env.v, "PAT") == NULL); /* a prefix is not a name */
    /* replaced in place: the order stays */
    CHECK_INT(shelf_environ_put(&env, "PATH", "/usr/bin:/bin"), SHELF_OK);
    CHECK_INT((int)env.n, 3);
    CHECK_STR(env.v[0], "PATH=/usr/bin:/bin");
    shelf_environ_unset(&env, "PATH");
    shelf_environ_unset(&env, "NOSUCH");
    CHECK_INT((int)env.n, 2);
    CHECK_STR(env.v[0], "PATHX=x=y");
    CHECK(env.v[2] == NULL);
    shelf_strv_free(&env);
}

/* The published FNV-1a test vectors (Fowler, Noll, Vo). */
static void test_fnv1a_vectors_and_pieces(void)
{
    CHECK(shelf_fnv1a(SHELF_FNV1A_INIT, "", 0) == 0xcbf29ce484222325ULL);
    CHECK(shelf_fnv1a(SHELF_FNV1A_INIT, "a", 1) == 0xaf63dc4c8601ec8cULL);
    CHECK(shelf_fnv1a(SHELF_FNV1A_INIT, "foobar", 6) == 0x85944171f73967e8ULL);
    CHECK(shelf_fnv1a(shelf_fnv1a(SHELF_FNV1A_INIT, "foo", 3), "bar", 3) ==
          0x85944171f73967e8ULL);
    CHECK(shelf_fnv1a32("") == 0x811c9dc5U);
    CHECK(shelf_fnv1a32("a") == 0xe40c292cU);
    CHECK(shelf_fnv1a32("foobar") == 0xbf9cf968U);
}

static void test_random_hex(void)
{
    char *a = shelf_random_hex(100); /* more than one getrandom chunk */
    char *b = shelf_random_hex(100);
    char *none = shelf_random_hex(0);
    CHECK(a && b && none);
    if (!a || !b || !none)
        goto out;
    CHECK_INT((int)strlen(a), 200);
    CHECK_INT((int)strspn(a, "0123456789abcdef"), 200);
    CHECK(strcmp(a, b) != 0);
    CHECK_STR(none, "");
out:
    free(a);
    free(b);
    free(none);
}

static const struct check_test tests[] = {
    TEST(test_buf_appends_and_formats),
    TEST(test_buf_grows_past_initial_capacity),
    TEST(test_buf_formats_across_its_capacity),
    TEST(test_buf_take_empty_gives_empty_string),
    TEST(test_vfmt_makes_a_new_string),
    TEST(test_strv_split_join_find_remove),
    TEST(test_error_keeps_first_and_clears),
    TEST(test_error_map_names_statuses_messages),
    TEST(test_grow_keeps_contents_and_refuses_overflow),
    TEST(test_changes_copy_values),
    TEST(test_path_join_and_affixes),
    TEST(test_read_file_reports_missing),
    TEST(test_environ_get_put_unset),
    TEST(test_fnv1a_vectors_and_pieces),
    TEST(test_random_hex),
};
CHECK_MAIN(tests)
