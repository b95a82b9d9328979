/* test-opts.c -- the table-driven option parser of the front ends (opts.c). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "shelf-internal.h"

typedef struct seen {
    const char *output, *format;
    int quiet, kube, sandbox;
    shelf_strv trees; /* --tree values, in order */
} seen;

static int tree_cb(const shelf_opt *opt, const char *value, shelf_error *err)
{
    seen *s = opt->ptr;
    if (strcmp(value, "bad") == 0) {
        shelf_error_set(err, SHELF_EUSAGE, NULL, NULL, 0, "--tree %s: not a tree", value);
        return SHELF_EUSAGE;
    }
    return shelf_strv_push(&s->trees, value);
}

/* Parses the words of `line` (split at spaces) into *s; returns the
 * parser's code, the arguments left joined by "," in *rest. */
static int parse(const char *line, int flags, seen *s, char **rest, shelf_error *err)
{
    memset(s, 0, sizeof *s);
    s->sandbox = 1;
    shelf_strv_init(&s->trees);
    const shelf_opt opts[] = {
        SHELF_OPTS_STRING("output", 'o', &s->output, 0),
        SHELF_OPTS_STRING("format", 0, &s->format, SHELF_OPT_ONCE),
        SHELF_OPTS_FLAG("quiet", 'q', &s->quiet, 1),
        SHELF_OPTS_FLAG("kube", 'k', &s->kube, 1),
        SHELF_OPTS_FLAG("kubectl-free", 0, &s->kube, 2),
        SHELF_OPTS_FLAG("no-sandbox", 0, &s->sandbox, 0),
        SHELF_OPTS_CALLBACK("tree", 't', s, tree_cb),
        SHELF_OPTS_STOP("help", 'h', 7),
        SHELF_OPTS_END,
    };
    /* The words outlive the call (values point into them); the parser
     * reorders argv, a copy of their pointers. */
    static shelf_strv words;
    static char *argv[32];
    shelf_strv_free(&words);
    shelf_strv_split(&words, line, " ", 0);
    int argc = (int)words.n;
    CHECK(words.n < 32);
    for (size_t i = 0; i < words.n && i < 32; i++)
        argv[i] = words.v[i];
    int rc = shelf_opts_parse(opts, &argc, argv, flags, err);
    shelf_strv left;
    shelf_strv_init(&left);
    for (int i = 0; rc == 0 && i < argc; i++)
        shelf_strv_push(&left, argv[i]);
    *rest = shelf_strv_join(&left, ",");
    shelf_strv_free(&left);
    return rc;
}

static void done(seen *s, char *rest, shelf_error *err)
{
    shelf_strv_free(&s->trees);
    free(rest);
    shelf_error_clear(err);
}

static void test_long_short_and_clusters(void)
{
    seen s;
    char *rest;
    shelf_error err = {0};
    CHECK_INT(parse("a --output=x.db -q --format json b -t one --tree=two -kqo y c", 0, &s,
                    &rest, &err), 0);
    CHECK_STR(s.output, "y"); /* the last one wins */
    CHECK_STR(s.format, "json");
    CHECK_INT(s.quiet, 1);
    CHECK_INT(s.kube, 1);
    CHECK_INT(s.trees.n, 2);
    CHECK_STR(s.trees.v[0], "one"); /* callbacks run in order */
    CHECK_STR(s.trees.v[1], "two");
    CHECK_STR(rest, "a,b,c"); /* arguments kept, in order */
    done(&s, rest, &err);
    CHECK_INT(parse("-oattached --no-sandbox -tX", 0, &s, &rest, &err), 0);
    CHECK_STR(s.output, "attached");
    CHECK_INT(s.sandbox, 0);
    CHECK_STR(s.trees.v[0], "X");
    CHECK_STR(rest, "");
    done(&s, rest, &err);
    /* a value is the next word whatever it looks like */
    CHECK_INT(parse("--output -q", 0, &s, &rest, &err), 0);
    CHECK_STR(s.output, "-q");
    CHECK_INT(s.quiet, 0);
    done(&s, rest, &err);
    CHECK_INT(parse("--output=", 0, &s, &rest, &err), 0);
    CHECK_STR(s.output, "");
    done(&s, rest, &err);
}

static void test_prefixes(void)
{
    seen s;
    char *rest;
    shelf_error err = {0};
    CHECK_INT(parse("--out x --qu --no", 0, &s, &rest, &err), 0);
    CHECK_STR(s.output, "x");
    CHECK_INT(s.quiet, 1);
    CHECK_INT(s.sandbox, 0);
    done(&s, rest, &err);
    CHECK_INT(parse("--kube", 0, &s, &rest, &err), 0); /* exact beats a longer name */
    CHECK_INT(s.kube, 1);
    done(&s, rest, &err);
    CHECK_INT(parse("--kub", 0, &s, &rest, &err), SHELF_EUSAGE);
    CHECK_STR(err.message, "ambiguous option \"--kub\": --kube, --kubectl-free");
    done(&s, rest, &err);
}

static void test_end_of_options(void)
{
    seen s;
    char *rest;
    shelf_error err = {0};
    CHECK_INT(parse("-q -- -k --output x - y", 0, &s, &rest, &err), 0);
    CHECK_INT(s.kube, 0);
    CHECK(s.output == NULL);
    CHECK_STR(rest, "-k,--output,x,-,y");
    done(&s, rest, &err);
    CHECK_INT(parse("-q - -k", 0, &s, &rest, &err), 0); /* "-" is an argument */
    CHECK_INT(s.kube, 1);
    CHECK_STR(rest, "-");
    done(&s, rest, &err);
    CHECK_INT(parse("-q dir -k --tree t", SHELF_OPTS_STOP_AT_ARG, &s, &rest, &err), 0);
    CHECK_INT(s.quiet, 1);
    CHECK_INT(s.kube, 0);
    CHECK_INT(s.trees.n, 0);
    CHECK_STR(rest, "dir,-k,--tree,t");
    done(&s, rest, &err);
}

static void test_errors_name_the_option(void)
{
    static const struct {
        const char *line, *message;
    } cases[] = {
        {"--bogus", "unknown option \"--bogus\""},
        {"--bogus=1 x", "unknown option \"--bogus\""},
        {"-qz", "unknown option \"-z\""},
        {"a --output", "--output needs a value"},
        {"-o", "-o needs a value"},
        {"-qt", "-t needs a value"},
        {"--quiet=yes", "--quiet takes no value"},
        {"--format a --format=b", "--format given twice"},
        {"--tree ok --tree bad", "--tree bad: not a tree"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        seen s;
        char *rest;
        shelf_error err = {0};
        CHECK_INT(parse(cases[i].line, 0, &s, &rest, &err), SHELF_EUSAGE);
        CHECK_STR(err.message, cases[i].message);
        CHECK_INT(err.code, SHELF_EUSAGE);
        done(&s, rest, &err);
    }
}

static void test_stop_returns_its_value(void)
{
    seen s;
    char *rest;
    shelf_error err = {0};
    CHECK_INT(parse("-q --help --bogus", 0, &s, &rest, &err), 7);
    CHECK_INT(s.quiet, 1); /* what came before is stored */
    CHECK_INT(err.code, SHELF_OK);
    done(&s, rest, &err);
    CHECK_INT(parse("-kh", 0, &s, &rest, &err), 7);
    CHECK_INT(s.kube, 1);
    done(&s, rest, &err);
}

static void test_cleanup(void)
{
    seen s;
    char *rest;
    shelf_error err = {0};
    parse("", 0, &s, &rest, &err); /* frees the last words */
    CHECK_STR(rest, "");
    done(&s, rest, &err);
}

static const struct check_test tests[] = {
    TEST(test_long_short_and_clusters),
    TEST(test_prefixes),
    TEST(test_end_of_options),
    TEST(test_errors_name_the_option),
    TEST(test_stop_returns_its_value),
    TEST(test_cleanup),
};
CHECK_MAIN(tests)
