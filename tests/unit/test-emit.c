/*
 * test-emit.c -- the emitters: shell names, name validation (nothing
 * appended on error), exact output for the common forms, the failure
 * idioms, and JSON that cJSON parses back to the very values.
 * (tests/shell/roundtrip.sh runs the output through the real shells.)
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "check.h"
#include "shelf.h"

/* Emits one change list; returns the code (caller frees) or NULL on error,
 * with *rc set. */
static char *emit(shelf_shell sh, const shelf_changes *c, int *rc)
{
    shelf_buf out;
    shelf_buf_init(&out);
    shelf_error err = {0};
    *rc = shelf_emit(sh, c, &out, &err);
    if (*rc != SHELF_OK) {
        CHECK(err.message != NULL);
        CHECK(out.len == 0);
        shelf_error_clear(&err);
        shelf_buf_free(&out);
        return NULL;
    }
    return shelf_buf_take(&out);
}

static char *emit1(shelf_shell sh, shelf_change_kind kind, const char *name,
                   const char *value, const char *value2)
{
    shelf_changes c;
    shelf_changes_init(&c);
    CHECK_INT(shelf_changes_add(&c, kind, name, value, value2), 0);
    int rc;
    char *s = emit(sh, &c, &rc);
    shelf_changes_free(&c);
    return s;
}

/* Emits one change and compares the whole output. */
#define CHECK_EMIT1(sh, kind, name, value, value2, expected)               \
    do {                                                                   \
        char *out_ = emit1(sh, kind, name, value, value2);                 \
        CHECK_STR(out_, expected);                                         \
        free(out_);                                                        \
    } while (0)

static void test_shell_names(void)
{
    const char *names[] = {"bash", "zsh", "sh", "ksh", "csh", "tcsh",
                           "fish", "python", "json"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        shelf_shell sh = shelf_shell_from_name(names[i]);
        CHECK(sh != SHELF_SH_UNKNOWN);
        CHECK_STR(shelf_shell_name(sh), names[i]);
    }
    CHECK_INT(shelf_shell_from_name("Bash"), SHELF_SH_UNKNOWN);
    CHECK_INT(shelf_shell_from_name(""), SHELF_SH_UNKNOWN);
    CHECK_INT(shelf_shell_from_name(NULL), SHELF_SH_UNKNOWN);
    CHECK_STR(shelf_shell_name(SHELF_SH_UNKNOWN), "unknown");
}

static void test_invalid_names(void)
{
    const char *bad_vars[] = {"", "1X", "A-B", "A B", "A=B", "A;B", "É", "$A"};
    for (int sh = SHELF_SH_BASH; sh < SHELF_SH_UNKNOWN; sh++) {
        for (size_t i = 0; i < sizeof bad_vars / sizeof bad_vars[0]; i++) {
            shelf_buf out;
            shelf_buf_init(&out);
            shelf_buf_adds(&out, "kept");
            shelf_changes c;
            shelf_changes_init(&c);
            shelf_changes_add(&c, SHELF_CHANGE_SETENV, "GOOD", "v", NULL);
            shelf_changes_add(&c, SHELF_CHANGE_SETENV, bad_vars[i], "v", NULL);
            shelf_error err = {0};
            CHECK_INT(shelf_emit((shelf_shell)sh, &c, &out, &err), SHELF_EUSAGE);
            CHECK_INT(err.code, SHELF_EUSAGE);
            CHECK(err.message && strstr(err.message, "invalid"));
            CHECK_STR(out.data, "kept"); /* nothing appended, not even GOOD */
            shelf_error_clear(&err);
            shelf_changes_free(&c);
            shelf_buf_free(&out);
        }
    }
    int rc;
    shelf_changes c;
    shelf_changes_init(&c);
    shelf_changes_add(&c, SHELF_CHANGE_ALIAS, "-x", "y", NULL);
    CHECK(emit(SHELF_SH_BASH, &c, &rc) == NULL);
    CHECK_INT(rc, SHELF_EUSAGE);
    shelf_changes_free(&c);
    /* a '-' in a function name: fine in bash, not in POSIX sh or ksh */
    shelf_changes_init(&c);
    shelf_changes_add(&c, SHELF_CHANGE_FUNC, "my-fn", "echo", NULL);
    char *s = emit(SHELF_SH_BASH, &c, &rc);
    CHECK(s != NULL);
    free(s);
    CHECK(emit(SHELF_SH_SH, &c, &rc) == NULL);
    CHECK(emit(SHELF_SH_KSH, &c, &rc) == NULL);
    /* python ignores functions, so it does not judge their names */
    s = emit(SHELF_SH_PYTHON, &c, &rc);
    CHECK_STR(s, "");
    free(s);
    shelf_changes_free(&c);
    /* an unknown shell is a usage error */
    shelf_changes_init(&c);
    CHECK(emit(SHELF_SH_UNKNOWN, &c, &rc) == NULL);
    CHECK_INT(rc, SHELF_EUSAGE);
    shelf_changes_free(&c);
}

static void test_sh(void)
{
    CHECK_EMIT1(SHELF_SH_BASH, SHELF_CHANGE_SETENV, "FOO", "/usr/bin:/x", NULL,
                "FOO=/usr/bin:/x;\nexport FOO;\n");
    CHECK_EMIT1(SHELF_SH_SH, SHELF_CHANGE_SETENV, "FOO", "it's $x", NULL,
                "FOO='it'\\''s $x';\nexport FOO;\n");
    /* no empty '' pair */
    CHECK_EMIT1(SHELF_SH_ZSH, SHELF_CHANGE_SETENV, "FOO", "'", NULL,
                "FOO=\\';\nexport FOO;\n");
    CHECK_EMIT1(SHELF_SH_KSH, SHELF_CHANGE_SETENV, "FOO", "", NULL,
                "FOO='';\nexport FOO;\n");
    CHECK_EMIT1(SHELF_SH_KSH, SHELF_CHANGE_SETENV, "FOO", NULL, NULL,
                "FOO='';\nexport FOO;\n");
    CHECK_EMIT1(SHELF_SH_BASH, SHELF_CHANGE_UNSETENV, "FOO", NULL, NULL,
                "unset FOO;\n");
    CHECK_EMIT1(SHELF_SH_BASH, SHELF_CHANGE_ALIAS, "ll", "ls -l", NULL,
                "alias ll='ls -l';\n");
    CHECK_EMIT1(SHELF_SH_BASH, SHELF_CHANGE_UNALIAS, "ll", NULL, NULL,
                "unalias ll 2>/dev/null || true;\n");
    CHECK_EMIT1(SHELF_SH_BASH, SHELF_CHANGE_FUNC, "f", "echo hi;", "echo csh",
                "function f {\necho hi;\n};\n");
    CHECK_EMIT1(SHELF_SH_SH, SHELF_CHANGE_FUNC, "f", "", NULL,
                "f () {\n:\n};\n");
    CHECK_EMIT1(SHELF_SH_ZSH, SHELF_CHANGE_UNFUNC, "f", NULL, NULL,
                "unset -f f 2>/dev/null || true;\n");
}

static void test_csh(void)
{
    CHECK_EMIT1(SHELF_SH_CSH, SHELF_CHANGE_SETENV, "BAZ", "hello world", NULL,
                "setenv BAZ 'hello world';\n");
    CHECK_EMIT1(SHELF_SH_TCSH, SHELF_CHANGE_SETENV, "BAZ", "a!b'c\\d", NULL,
                "setenv BAZ 'a'\\!'b'\\''c'\\\\'d';\n");
    CHECK_EMIT1(SHELF_SH_TCSH, SHELF_CHANGE_SETENV, "BAZ", "a\n$b", NULL,
                "set _shelf_nl = '\\\n';\nsetenv BAZ 'a'$_shelf_nl:q'$b';\n"
                 "unset _shelf_nl;\n");
    CHECK_EMIT1(SHELF_SH_CSH, SHELF_CHANGE_ALIAS, "ll", "ls -l $* $1", NULL,
                "alias ll 'ls -l '\\!'* '\\!':1';\n");
    /* functions: the csh body as an alias, or nothing at all */
    CHECK_EMIT1(SHELF_SH_CSH, SHELF_CHANGE_FUNC, "f", "echo sh", "echo csh",
                "alias f 'echo csh';\n");
    CHECK_EMIT1(SHELF_SH_CSH, SHELF_CHANGE_FUNC, "f", "echo sh", NULL,
                "");
    CHECK_EMIT1(SHELF_SH_CSH, SHELF_CHANGE_UNFUNC, "f", NULL, NULL,
                "unalias f;\n");
    CHECK_EMIT1(SHELF_SH_CSH, SHELF_CHANGE_UNSETENV, "BAZ", NULL, NULL,
                "unsetenv BAZ;\n");
}

static void test_fish(void)
{
    CHECK_EMIT1(SHELF_SH_FISH, SHELF_CHANGE_SETENV, "BAZ", "it's \\ x", NULL,
                "set -gx BAZ 'it\\'s \\\\ x';\n");
    CHECK_EMIT1(SHELF_SH_FISH, SHELF_CHANGE_SETENV, "PATH", "/a b::/c:", NULL,
                "set -gx PATH '/a b' '' /c '';\n");
    CHECK_EMIT1(SHELF_SH_FISH, SHELF_CHANGE_SETENV, "FOO", "/a:/b", NULL,
                "set -gx FOO /a:/b;\n");
    CHECK_EMIT1(SHELF_SH_FISH, SHELF_CHANGE_UNSETENV, "FOO", NULL, NULL,
                "set -e -g FOO; or true;\n");
    CHECK_EMIT1(SHELF_SH_FISH, SHELF_CHANGE_FUNC, "f", "echo hi", NULL,
                "function f\necho hi\nend;\n");
    CHECK_EMIT1(SHELF_SH_FISH, SHELF_CHANGE_ALIAS, "ll", "ls -l", NULL,
                "alias ll 'ls -l';\n");
}

static void test_python(void)
{
    shelf_changes c;
    shelf_changes_init(&c);
    shelf_changes_add(&c, SHELF_CHANGE_ALIAS, "ll", "ls", NULL);
    shelf_changes_add(&c, SHELF_CHANGE_SETENV, "A", "q\"\\\n\x01", NULL);
    shelf_changes_add(&c, SHELF_CHANGE_SETENV, "B", "caf\xc3\xa9", NULL);
    shelf_changes_add(&c, SHELF_CHANGE_UNSETENV, "C", NULL, NULL);
    shelf_changes_add(&c, SHELF_CHANGE_FUNC, "f", "x", NULL);
    int rc;
    char *s = emit(SHELF_SH_PYTHON, &c, &rc);
    CHECK_STR(s, "import os\n"
                 "os.environ[\"A\"] = \"q\\\"\\\\\\n\\x01\"\n"
                 "os.environ[\"B\"] = os.fsdecode(b\"caf\\xc3\\xa9\")\n"
                 "os.environ.pop(\"C\", None)\n");
    free(s);
    shelf_changes_free(&c);
}

static void test_json(void)
{
    const char *v1 = "a \"b\" \\ \n\t $x `y` !z \xc3\xa9 \x01";
    const char *v2 = "bad \xff\xfe utf8";
    shelf_changes c;
    shelf_changes_init(&c);
    shelf_changes_add(&c, SHELF_CHANGE_SETENV, "A", v1, NULL);
    shelf_changes_add(&c, SHELF_CHANGE_SETENV, "C", "gone", NULL);
    shelf_changes_add(&c, SHELF_CHANGE_UNSETENV, "C", NULL, NULL);
    shelf_changes_add(&c, SHELF_CHANGE_UNSETENV, "D", NULL, NULL);
    shelf_changes_add(&c, SHELF_CHANGE_SETENV, "D", "back", NULL);
    shelf_changes_add(&c, SHELF_CHANGE_ALIAS, "ll", "ls -l", NULL);
    shelf_changes_add(&c, SHELF_CHANGE_UNALIAS, "la", NULL, NULL);
    shelf_changes_add(&c, SHELF_CHANGE_FUNC, "f", "echo sh", NULL);
    shelf_changes_add(&c, SHELF_CHANGE_FUNC, "g", "echo sh", "echo csh");
    shelf_changes_add(&c, SHELF_CHANGE_UNFUNC, "h", NULL, NULL);
    int rc;
    char *s = emit(SHELF_SH_JSON, &c, &rc);
    CHECK(s != NULL);
    cJSON *root = s ? cJSON_Parse(s) : NULL;
    CHECK(root != NULL);
    if (root) {
        cJSON *env = cJSON_GetObjectItemCaseSensitive(root, "env");
        CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(env, "A")), v1);
        CHECK(cJSON_GetObjectItemCaseSensitive(env, "C") == NULL);
        CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(env, "D")), "back");
        cJSON *unset = cJSON_GetObjectItemCaseSensitive(root, "unset");
        CHECK_INT(cJSON_GetArraySize(unset), 1);
        CHECK_STR(cJSON_GetStringValue(cJSON_GetArrayItem(unset, 0)), "C");
        cJSON *alias = cJSON_GetObjectItemCaseSensitive(root, "alias");
        CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(alias, "ll")), "ls -l");
        cJSON *unalias = cJSON_GetObjectItemCaseSensitive(root, "unalias");
        CHECK_STR(cJSON_GetStringValue(cJSON_GetArrayItem(unalias, 0)), "la");
        cJSON *fn = cJSON_GetObjectItemCaseSensitive(root, "shellFunc");
        cJSON *f = cJSON_GetObjectItemCaseSensitive(fn, "f");
        CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(f, "sh")), "echo sh");
        CHECK(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(f, "csh")));
        cJSON *g = cJSON_GetObjectItemCaseSensitive(fn, "g");
        CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(g, "csh")), "echo csh");
        cJSON *unfn = cJSON_GetObjectItemCaseSensitive(root, "unshellFunc");
        CHECK_STR(cJSON_GetStringValue(cJSON_GetArrayItem(unfn, 0)), "h");
        cJSON_Delete(root);
    }
    CHECK(s && s[strlen(s) - 1] == '\n');
    free(s);
    shelf_changes_free(&c);

    /* invalid UTF-8 becomes \udcXX (Python's surrogateescape; cJSON
     * itself refuses lone surrogates, so this one is checked as text and
     * through Python in tests/shell/roundtrip.sh) */
    shelf_changes_init(&c);
    shelf_changes_add(&c, SHELF_CHANGE_SETENV, "B", v2, NULL);
    s = emit(SHELF_SH_JSON, &c, &rc);
    CHECK(s && strstr(s, "\"B\":\"bad \\udcff\\udcfe utf8\"") != NULL);
    free(s);
    shelf_changes_free(&c);

    /* nothing to do: every key is still there */
    shelf_changes_init(&c);
    s = emit(SHELF_SH_JSON, &c, &rc);
    CHECK_STR(s, "{\"env\":{},\"unset\":[],\"alias\":{},\"unalias\":[],"
                 "\"shellFunc\":{},\"unshellFunc\":[]}\n");
    free(s);
    shelf_changes_free(&c);
}

/* shelf_json_parse reads back what the quoter writes, and what Python's
 * json.dumps writes: \udcXX as the byte, a surrogate pair as its
 * character (the pair's second half may look like \udcXX: it stays one
 * character), other escapes as JSON has them; errors are placed. */
static void test_json_parse(void)
{
    static const char text[] =
        "[\"\\ud83d\\udca9 \\ud83d\\ude00\", \"caf\\udce9\", \"a\\\"b\\\\c\\n\", \"\\u00e9\"]";
    shelf_json_where at;
    cJSON *doc = shelf_json_parse(text, strlen(text), &at);
    CHECK(doc != NULL);
    if (doc) {
        CHECK_STR(cJSON_GetStringValue(cJSON_GetArrayItem(doc, 0)),
                  "\xf0\x9f\x92\xa9 \xf0\x9f\x98\x80");
        CHECK_STR(cJSON_GetStringValue(cJSON_GetArrayItem(doc, 1)), "caf\xe9");
        CHECK_STR(cJSON_GetStringValue(cJSON_GetArrayItem(doc, 2)), "a\"b\\c\n");
        CHECK_STR(cJSON_GetStringValue(cJSON_GetArrayItem(doc, 3)), "\xc3\xa9");
        cJSON_Delete(doc);
    }
    /* the quoter's output comes back byte for byte */
    static const char *const values[] = {"caf\xe9", "\xf0\x9f\x92\xbb laptop", "\xff\xfe",
                                         "tab\there \"q\" \\", "plain"};
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        shelf_buf b;
        shelf_buf_init(&b);
        shelf_json_quote(&b, values[i]);
        cJSON *v = shelf_json_parse(b.data, b.len, NULL);
        CHECK(v && cJSON_IsString(v) && strcmp(cJSON_GetStringValue(v), values[i]) == 0);
        cJSON_Delete(v);
        shelf_buf_free(&b);
    }
    static const char nul[] = "{\"a\": \"x\\u0000y\"}";
    CHECK(shelf_json_parse(nul, strlen(nul), &at) == NULL);
    CHECK_INT(at.code, SHELF_EUSAGE);
    CHECK_INT(at.offset, 8);
    static const char trailing[] = "{\"a\": 1}\n  x";
    CHECK(shelf_json_parse(trailing, strlen(trailing), &at) == NULL);
    CHECK_INT(at.code, SHELF_EPARSE);
    CHECK_INT(at.line, 2);
}

static void test_failure_idiom(void)
{
    struct { shelf_shell sh; const char *want; } cases[] = {
        {SHELF_SH_BASH, "false;\n"},      {SHELF_SH_ZSH, "false;\n"},
        {SHELF_SH_SH, "false;\n"},        {SHELF_SH_KSH, "false;\n"},
        {SHELF_SH_FISH, "false\n"},       {SHELF_SH_CSH, "( exit 1 );\n"},
        {SHELF_SH_TCSH, "( exit 1 );\n"}, {SHELF_SH_PYTHON, "_mlstatus = False\n"},
        {SHELF_SH_JSON, ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        shelf_buf out;
        shelf_buf_init(&out);
        shelf_emit_failure(cases[i].sh, &out);
        CHECK_STR(out.data ? out.data : "", cases[i].want);
        shelf_buf_free(&out);
    }
}

static void test_appends(void)
{
    /* shelf_emit appends: two calls give both outputs in order */
    shelf_buf out;
    shelf_buf_init(&out);
    shelf_changes c;
    shelf_changes_init(&c);
    shelf_changes_add(&c, SHELF_CHANGE_UNSETENV, "A", NULL, NULL);
    shelf_error err = {0};
    CHECK_INT(shelf_emit(SHELF_SH_BASH, &c, &out, &err), 0);
    CHECK_INT(shelf_emit(SHELF_SH_BASH, &c, &out, &err), 0);
    CHECK_STR(out.data, "unset A;\nunset A;\n");
    shelf_buf_free(&out);
    shelf_changes_free(&c);
}

static const struct check_test tests[] = {
    TEST(test_shell_names), TEST(test_invalid_names), TEST(test_sh),
    TEST(test_csh),         TEST(test_fish),          TEST(test_python),
    TEST(test_json),        TEST(test_json_parse),    TEST(test_failure_idiom), TEST(test_appends),
};
CHECK_MAIN(tests)
