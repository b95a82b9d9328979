/*
 * test-version.c -- Lmod's version ordering (version.c).
 *
 * The keys below were produced by Lmod 8.6's own parseVersion.lua (run
 * with lua5.3 on the same strings); the orderings are the ones Lmod's
 * documentation and parseVersion.lua's comments promise.
 */
#include "config.h"

#include <stdlib.h>

#include "check.h"
#include "shelf.h"
#include "tree-internal.h"

/* Each element strictly less than the next. */
static void check_ascending(const char *const *v, size_t n)
{
    for (size_t i = 0; i + 1 < n; i++) {
        if (shelf_version_cmp(v[i], v[i + 1]) >= 0) {
            printf("# expected %s < %s\n", v[i], v[i + 1]);
            check_failures_++;
        }
        if (shelf_version_cmp(v[i + 1], v[i]) <= 0) {
            printf("# expected %s > %s\n", v[i + 1], v[i]);
            check_failures_++;
        }
    }
}

static void check_equal(const char *a, const char *b)
{
    if (shelf_version_cmp(a, b) != 0) {
        printf("# expected %s == %s\n", a, b);
        check_failures_++;
    }
}

static void test_numbers_compare_as_numbers(void)
{
    static const char *const v[] = {"1.2", "1.9", "1.10", "2", "10", "17",
                                    "100.0"};
    check_ascending(v, sizeof v / sizeof v[0]);
    check_equal("1.2", "1.2.0");
    check_equal("1.2", "1.2.0.0");
    check_equal("0009", "9");
    static const char *const py[] = {"3.9", "3.11.2", "3.11.10", "3.110"};
    check_ascending(py, sizeof py / sizeof py[0]);
}

static void test_release_ordering(void)
{
    static const char *const v[] = {"1.2a",  "1.2b", "1.2-beta", "1.2-rc1",
                                    "1.2",   "1.2-1", "1.2.1",  "1.9",
                                    "1.10"};
    check_ascending(v, sizeof v / sizeof v[0]);
    check_equal("1.2-1", "1.2p1");
    check_equal("1.2-1", "1.2-p1");
}

static void test_prerelease_words(void)
{
    static const char *const v[] = {"2.4dev1", "2.4alpha", "2.4beta2",
                                    "2.4rc1", "2.4"};
    check_ascending(v, sizeof v / sizeof v[0]);
    /* pre, preview and rc are all "c": a release candidate */
    check_equal("2.4rc1", "2.4pre1");
    check_equal("2.4rc", "2.4preview");
    check_equal("2.4-rc1", "2.4rc1");
    /* "dev" sorts before any letter */
    static const char *const d[] = {"2.4dev", "2.4a", "2.4a1", "2.4b"};
    check_ascending(d, sizeof d / sizeof d[0]);
}

static void test_patch_levels(void)
{
    /* from parseVersion.lua: 2.4p2 and 2.4-p2 are the same as 2.4-2, and
     * 3.2-0, 3.2-p0, 3.2p0 are the same as 3.2 */
    check_equal("2.4p2", "2.4-2");
    check_equal("2.4-p2", "2.4-2");
    check_equal("3.2-0", "3.2");
    check_equal("3.2-p0", "3.2");
    check_equal("3.2p0", "3.2");
    static const char *const v[] = {"2.4", "2.4-1", "2.4-2", "2.4-10", "2.4.1"};
    check_ascending(v, sizeof v / sizeof v[0]);
}

static void test_case_insensitive(void)
{
    check_equal("1.2BETA", "1.2beta");
    check_equal("1.2Beta", "1.2-beta");
    check_equal("RC1", "rc1");
}

static void test_keys_match_lmod(void)
{
    /* Output of Lmod 8.6's parseVersion() for these strings. */
    static const struct {
        const char *version, *key;
    } cases[] = {
        {"1.10", "000000001.000000010.*zfinal"},
        {"1.2a", "000000001.000000002.*a.*zfinal"},
        {"1.2-beta", "000000001.000000002.*beta.*zfinal"},
        {"1.2-rc1", "000000001.000000002.*c.000000001.*zfinal"},
        {"1.2-1", "000000001.000000002.*zfinal-.000000001.*zfinal"},
        {"2.4dev1", "000000002.000000004.*@.000000001.*zfinal"},
        {"2.4-0", "000000002.000000004.*zfinal"},
        {".1.0", "000000000.000000001.*zfinal"},
        {"3.3/mpi", "000000003.000000003/*mpi.*zfinal"},
        {"1..2", "000000001.*..000000002.*zfinal"},
        {"a//b", "*a//.*b.*zfinal"},
        {"1.2--3", "000000001.000000002.*zfinal-.000000003.*zfinal"},
        {"x86_64", "*x.000000086.*_.000000064.*zfinal"},
        {"12345678901", "12345678901.*zfinal"},
        {"1.0+cuda", "000000001.*+.*cuda.*zfinal"},
        {"-", "*zfinal"},
        {"", "*zfinal"},
        {"1.2.3-4.el8", "000000001.000000002.000000003.*zfinal-.000000004.*el.000000008.*zfinal"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *k = shelf_version_key(cases[i].version);
        CHECK_STR(k, cases[i].key);
        free(k);
    }
}

static void test_nested_versions(void)
{
    /* N/V/V versions compare part by part ("/" sorts after "." ) */
    static const char *const v[] = {"3.3/mpi", "3.3/serial", "3.4/mpi"};
    check_ascending(v, sizeof v / sizeof v[0]);
    check_equal("3.3.0/mpi", "3.3.0/MPI");
}

static void test_total_order(void)
{
    CHECK_INT(shelf_version_cmp("1.0", "1.0"), 0);
    CHECK(shelf_version_cmp("", "1") < 0);
    CHECK(shelf_version_cmp("abc", "abd") < 0);
    CHECK(shelf_version_cmp("1.0", "1.0.1") < 0);
}

static const struct check_test tests[] = {
    TEST(test_numbers_compare_as_numbers),
    TEST(test_release_ordering),
    TEST(test_prerelease_words),
    TEST(test_patch_levels),
    TEST(test_case_insensitive),
    TEST(test_keys_match_lmod),
    TEST(test_nested_versions),
    TEST(test_total_order),
};
CHECK_MAIN(tests)
