/*
 * check.h -- a minimal TAP test harness for the unit tests.
 *
 * A test file defines `static void test_x(void)` functions and lists them
 * in a TESTS table; CHECK* record failures; main() prints one TAP line per
 * test ("ok 3 - version_ordering") so automake's tap-driver counts them.
 */
#ifndef SHELF_CHECK_H
#define SHELF_CHECK_H

#include <stdio.h>
#include <string.h>

static int check_failures_;

#define CHECK(cond)                                                        \
    do {                                                                   \
        if (!(cond)) {                                                     \
            printf("# %s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond); \
            check_failures_++;                                             \
        }                                                                  \
    } while (0)

#define CHECK_STR(a, b)                                                    \
    do {                                                                   \
        const char *a_ = (a), *b_ = (b);                                   \
        if (!a_ || !b_ || strcmp(a_, b_) != 0) {                           \
            printf("# %s:%d: %s == \"%s\", expected \"%s\"\n", __FILE__,   \
                   __LINE__, #a, a_ ? a_ : "(null)", b_ ? b_ : "(null)");  \
            check_failures_++;                                             \
        }                                                                  \
    } while (0)

#define CHECK_INT(a, b)                                                    \
    do {                                                                   \
        long a_ = (long)(a), b_ = (long)(b);                               \
        if (a_ != b_) {                                                    \
            printf("# %s:%d: %s == %ld, expected %ld\n", __FILE__, __LINE__, \
                   #a, a_, b_);                                            \
            check_failures_++;                                             \
        }                                                                  \
    } while (0)

struct check_test {
    const char *name;
    void (*fn)(void);
};

#define TEST(fn) {#fn, fn}

static inline int check_run(const struct check_test *tests, size_t n)
{
    int failed = 0;
    printf("1..%zu\n", n);
    for (size_t i = 0; i < n; i++) {
        check_failures_ = 0;
        tests[i].fn();
        printf("%s %zu - %s\n", check_failures_ ? "not ok" : "ok", i + 1,
               tests[i].name);
        if (check_failures_)
            failed++;
    }
    return failed ? 1 : 0;
}

#define CHECK_MAIN(tests)                                                  \
    int main(void)                                                         \
    {                                                                      \
        return check_run(tests, sizeof tests / sizeof tests[0]);          \
    }

#endif
