#include "check.h"
static void test_placeholder(void) { CHECK(1); }
static const struct check_test tests[] = {TEST(test_placeholder)};
CHECK_MAIN(tests)
