/*
 * test-index.c -- the sqlite index of module trees (index.c): building,
 * querying, incremental rebuilds, freshness, and refusing bad files.
 * Each test works on its own small tree made in a mkdtemp directory.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "check.h"
#include "shelf.h"
#include "shelf-internal.h"

extern char **environ;

static char root[] = "/tmp/shelf-index-XXXXXX";

static void write_file(const char *rel, const char *text)
{
    char path[512], dir[512];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    snprintf(dir, sizeof dir, "%s", path);
    for (char *p = dir + strlen(root) + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            mkdir(dir, 0755);
            *p = '/';
        }
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static char *tree_path(const char *rel)
{
    static char buf[512];
    snprintf(buf, sizeof buf, "%s/%s", root, rel);
    return buf;
}

/* Core: gcc (opens Compiler/gcc/12), foo 1.0 / 2.0, a broken module;
 * Compiler/gcc/12: bar 1.0. */
static void make_tree(void)
{
    CHECK(mkdtemp(root) != NULL);
    char opens[600];
    snprintf(opens, sizeof opens,
             "whatis(\"Description: the compiler\")\nfamily(\"compiler\")\n"
             "prepend_path(\"MODULEPATH\", \"%s/Compiler/gcc/12\")\n", root);
    write_file("Core/gcc/12.lua", opens);
    write_file("Core/foo/1.0.lua", "whatis(\"Description: Foo one\")\n"
                                   "whatis(\"Keywords: alpha\")\n"
                                   "help([[foo help]])\nadd_property(\"lmod\", \"sticky\")\n"
                                   "depends_on(\"gcc\")\n");
    write_file("Core/foo/2.0.lua", "whatis(\"Description: Foo two\")\n");
    write_file("Core/broken/1.lua", "whatis(\"Description: half\")\nerror_here(\n");
    write_file("Compiler/gcc/12/bar/1.0.lua", "whatis(\"URL: https://bar.example\")\n");
}

static char *build(int full, shelf_index_stats *st)
{
    char out[512];
    snprintf(out, sizeof out, "%s/index.db", root);
    shelf_index_opts o = {out, full, NULL, NULL, NULL, NULL, NULL};
    shelf_error err = {0};
    memset(st, 0, sizeof *st);
    int rc = shelf_index_build(tree_path("Core"), &o, st, &err);
    CHECK_INT(rc, 0);
    shelf_error_clear(&err);
    char *file = st->output;
    st->output = NULL;
    return file;
}

typedef struct collected {
    shelf_strv names;
    shelf_index_mod last_foo1;
    int have_foo1;
} collected;

static int collect(void *ud, shelf_index_mod *m)
{
    collected *c = ud;
    shelf_strv_push(&c->names, m->mf.fullname);
    if (strcmp(m->mf.fullname, "foo/1.0") == 0 && !c->have_foo1) {
        c->last_foo1 = *m;
        c->have_foo1 = 1;
        return 0;
    }
    shelf_index_mod_free(m);
    return 0;
}

static long count_evals(const shelf_index_stats *st)
{
    return (long)st->evaluated;
}

static void test_build_and_query(void)
{
    make_tree();
    shelf_index_stats st;
    char *file = build(0, &st);
    CHECK_INT(st.modules, 5);
    CHECK_INT(st.levels, 2);
    CHECK_INT(st.broken, 1);
    CHECK_INT(count_evals(&st), 5);
    struct stat sb;
    CHECK(stat(file, &sb) == 0 && (sb.st_mode & 0777) == 0644);

    shelf_index *ix = NULL;
    shelf_error err = {0};
    CHECK_INT(shelf_index_open(file, &ix, &err), 0);
    long core = shelf_index_level(ix, tree_path("Core"));
    long comp = shelf_index_level(ix, tree_path("Compiler/gcc/12"));
    CHECK(core >= 0 && comp >= 0 && core != comp);
    CHECK_INT(shelf_index_level(ix, "/nowhere"), -1);
    CHECK_INT(shelf_index_fresh(ix, SHELF_INDEX_CHECK_AUTO, NULL, 0, NULL, 0, NULL), 1);

    collected c = {0};
    shelf_strv_init(&c.names);
    CHECK_INT(shelf_index_query(ix, core, SHELF_IXF_ALL, NULL, 0,
                                SHELF_IX_META | SHELF_IX_WHATIS | SHELF_IX_HELP, collect, &c,
                                &err), 0);
    CHECK_INT(c.names.n, 4);
    if (c.names.n == 4) {
        CHECK_STR(c.names.v[0], "broken/1");
        CHECK_STR(c.names.v[1], "foo/1.0");
        CHECK_STR(c.names.v[3], "gcc/12");
    }
    CHECK(c.have_foo1);
    if (c.have_foo1) {
        CHECK_STR(c.last_foo1.rec.description, "Foo one");
        CHECK_STR(c.last_foo1.rec.keywords, "alpha");
        CHECK_STR(c.last_foo1.rec.help, "foo help");
        CHECK_INT(c.last_foo1.rec.whatis.n, 2);
        CHECK_INT(c.last_foo1.rec.props.n, 1);
        CHECK_INT(c.last_foo1.rec.deps.n, 1);
        CHECK(c.last_foo1.broken == NULL);
        CHECK(!c.last_foo1.level_default); /* foo/2.0 is the default */
        shelf_index_mod_free(&c.last_foo1);
    }
    shelf_strv_free(&c.names);

    /* spider NAME: every version of the names matching */
    shelf_strv_init(&c.names);
    c.have_foo1 = 0;
    char *words[] = {"FOO/2"};
    CHECK_INT(shelf_index_query(ix, core, SHELF_IXF_NAMES, words, 1, 0, collect, &c, &err), 0);
    CHECK_INT(c.names.n, 2);
    if (c.have_foo1)
        shelf_index_mod_free(&c.last_foo1);
    shelf_strv_free(&c.names);

    /* keyword: the whatis text */
    shelf_strv_init(&c.names);
    c.have_foo1 = 0;
    char *kw[] = {"bar.example"};
    CHECK_INT(shelf_index_query(ix, comp, SHELF_IXF_KEYWORDS, kw, 1, 0, collect, &c, &err), 0);
    CHECK_INT(c.names.n, 1);
    shelf_strv_free(&c.names);

    /* the broken modulefile is recorded with its message */
    shelf_error_clear(&err);
    shelf_index_close(ix);
    free(file);
}

static int count_broken(void *ud, const char *file, const char *message)
{
    int *n = ud;
    (*n)++;
    CHECK(strstr(file, "broken/1.lua") != NULL);
    CHECK(message[0] != '\0');
    return 0;
}

static void test_broken_recorded(void)
{
    shelf_index_stats st;
    char *file = build(0, &st);
    shelf_index *ix = NULL;
    shelf_error err = {0};
    CHECK_INT(shelf_index_open(file, &ix, &err), 0);
    int n = 0;
    CHECK_INT(shelf_index_broken(ix, count_broken, &n, &err), 0);
    CHECK_INT(n, 1);
    shelf_index_close(ix);
    shelf_error_clear(&err);
    free(file);
}

static void test_incremental(void)
{
    shelf_index_stats st;
    char *file = build(0, &st);
    CHECK_INT(count_evals(&st), 0); /* nothing changed since the last build */
    free(file);
    sleep(1); /* a different mtime even on coarse file systems */
    write_file("Core/foo/2.0.lua", "whatis(\"Description: Foo two, edited\")\n");
    file = build(0, &st);
    CHECK_INT(count_evals(&st), 1);
    free(file);
    file = build(1, &st);
    CHECK_INT(count_evals(&st), 5); /* --full */
    free(file);
}

static int fresh_now(const char *file)
{
    shelf_index *ix = NULL;
    shelf_error err = {0};
    int rc = shelf_index_open(file, &ix, &err);
    shelf_error_clear(&err);
    if (rc < 0)
        return rc;
    char *why = NULL;
    int fresh = shelf_index_fresh(ix, SHELF_INDEX_CHECK_AUTO, NULL, 0, NULL, 0, &why);
    if (fresh == 0)
        CHECK(why != NULL);
    free(why);
    shelf_index_close(ix);
    return fresh;
}

static void test_stale(void)
{
    shelf_index_stats st;
    char *file = build(0, &st);
    CHECK_INT(fresh_now(file), 1);
    write_file("Core/foo/3.0.lua", "whatis(\"Description: Foo three\")\n");
    CHECK_INT(fresh_now(file), 0);
    free(file);

    write_file("Core/foo/.modulerc.lua", "module_version(\"foo/1.0\", \"default\")\n");
    file = build(0, &st);
    CHECK_INT(fresh_now(file), 1);
    sleep(1);
    write_file("Core/foo/.modulerc.lua", "module_version(\"foo/2.0\", \"default\")\n");
    CHECK_INT(fresh_now(file), 0);
    free(file);

    file = build(0, &st);
    CHECK_INT(fresh_now(file), 1);
    unlink(tree_path("Compiler/gcc/12/bar/1.0.lua"));
    rmdir(tree_path("Compiler/gcc/12/bar"));
    CHECK_INT(fresh_now(file), 0);
    free(file);
}

static void test_corrupt_and_schema(void)
{
    char path[512];
    snprintf(path, sizeof path, "%s/garbage.db", root);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (f) {
        fputs("this is not a database, not at all, but long enough to look like one\n", f);
        fclose(f);
    }
    shelf_index *ix = NULL;
    shelf_error err = {0};
    CHECK_INT(shelf_index_open(path, &ix, &err), SHELF_EIO);
    CHECK(ix == NULL);
    shelf_error_clear(&err);

    snprintf(path, sizeof path, "%s/missing.db", root);
    CHECK_INT(shelf_index_open(path, &ix, &err), SHELF_ENOTFOUND);
    shelf_error_clear(&err);

    /* An index of another schema version is refused. */
    shelf_index_stats st;
    char *file = build(0, &st);
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "sqlite3 '%s' \"UPDATE meta SET value='0' WHERE key='schema'\"",
             file);
    if (system(cmd) == 0) {
        CHECK_INT(shelf_index_open(file, &ix, &err), SHELF_EIO);
        CHECK(err.message && strstr(err.message, "schema"));
        shelf_error_clear(&err);
        /* ...and rebuilt completely */
        free(file);
        file = build(0, &st);
        CHECK_INT(count_evals(&st), (long)st.modules);
        CHECK_INT(shelf_index_open(file, &ix, &err), 0);
        shelf_index_close(ix);
    } else {
        printf("# sqlite3 command missing: schema check skipped\n");
    }
    free(file);
}

/* The index records the digest collections record: SHA-256. */
static void test_hash_is_the_collections_digest(void)
{
    shelf_index_stats st;
    char *file = build(0, &st);
    sqlite3 *db = NULL;
    sqlite3_stmt *q = NULL;
    CHECK(sqlite3_open_v2(file, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK);
    CHECK(sqlite3_prepare_v2(db, "SELECT hash FROM modules WHERE fullname='foo/1.0'", -1, &q,
                             NULL) == SQLITE_OK);
    CHECK(sqlite3_step(q) == SQLITE_ROW);
    char want[65];
    shelf_error err = {0};
    CHECK_INT(shelf_sha256_file(tree_path("Core/foo/1.0.lua"), want, &err), 0);
    CHECK_STR((const char *)sqlite3_column_text(q, 0), want);
    sqlite3_finalize(q);
    sqlite3_close(db);
    free(file);
}

static void test_default_path(void)
{
    char *p = shelf_index_default_path(tree_path("Core"), environ);
    CHECK(p != NULL);
    if (p && access(tree_path("Core"), W_OK) == 0)
        CHECK(strstr(p, "/Core/.shelf/index.db") != NULL);
    free(p);
    shelf_strv places;
    shelf_strv_init(&places);
    setenv("XDG_CACHE_HOME", "/xdg", 1);
    CHECK_INT(shelf_index_locations(tree_path("Core"), environ, &places), 0);
    CHECK_INT(places.n, 2);
    if (places.n == 2) {
        CHECK(strstr(places.v[0], "/Core/.shelf/index.db") != NULL);
        CHECK(strncmp(places.v[1], "/xdg/shelf/index-", 17) == 0);
    }
    shelf_strv_free(&places);
}

static void test_cleanup(void)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    CHECK(system(cmd) == 0);
}

static const struct check_test tests[] = {
    TEST(test_build_and_query),
    TEST(test_broken_recorded),
    TEST(test_incremental),
    TEST(test_stale),
    TEST(test_corrupt_and_schema),
    TEST(test_hash_is_the_collections_digest),
    TEST(test_default_path),
    TEST(test_cleanup),
};
CHECK_MAIN(tests)
