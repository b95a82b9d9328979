/* test-collection.c -- SHA-256 against published vectors and sha256sum(1),
 * collection names, the JSON round trip, damaged files, and the drift
 * check. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "shelf.h"
#include "shelf-internal.h"

static char *tmpdir(void)
{
    char tmpl[] = "/tmp/shelf-coll-XXXXXX";
    char *d = mkdtemp(tmpl);
    return d ? strdup(d) : NULL;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

/* The digest of a file holding len bytes of data. */
static void file_digest(const char *dir, const void *data, size_t len, char out[65])
{
    char path[512];
    snprintf(path, sizeof path, "%s/vector", dir);
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL && fwrite(data, 1, len, f) == len);
    if (f)
        fclose(f);
    shelf_error err = {0};
    CHECK_INT(shelf_sha256_file(path, out, &err), SHELF_OK);
    shelf_error_clear(&err);
    unlink(path);
}

static void test_sha256_vectors(void)
{
    char *dir = tmpdir();
    CHECK(dir != NULL);
    if (!dir)
        return;
    char out[65];
    file_digest(dir, "", 0, out);
    CHECK_STR(out, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    file_digest(dir, "abc", 3, out);
    CHECK_STR(out, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    file_digest(dir, two, strlen(two), out);
    CHECK_STR(out, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    char *million = malloc(1000000);
    CHECK(million != NULL);
    if (million) {
        memset(million, 'a', 1000000);
        file_digest(dir, million, 1000000, out);
        CHECK_STR(out, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
        free(million);
    }
    rmdir(dir);
    free(dir);
}

/* Files of every length around the block boundaries, against sha256sum. */
static void test_sha256_file_matches_sha256sum(void)
{
    char *dir = tmpdir();
    CHECK(dir != NULL);
    if (!dir)
        return;
    size_t lens[] = {0, 1, 55, 56, 63, 64, 65, 119, 120, 16383, 16384, 16385, 100000};
    for (size_t i = 0; i < sizeof lens / sizeof *lens; i++) {
        char path[512], cmd[600], want[65] = "", got[65];
        snprintf(path, sizeof path, "%s/f%zu", dir, lens[i]);
        FILE *f = fopen(path, "w");
        for (size_t k = 0; f && k < lens[i]; k++)
            fputc((int)((k * 131 + 7) & 0xff), f);
        if (f)
            fclose(f);
        snprintf(cmd, sizeof cmd, "sha256sum '%s'", path);
        FILE *p = popen(cmd, "r");
        CHECK(p != NULL && fscanf(p, "%64s", want) == 1);
        if (p)
            pclose(p);
        shelf_error err = {0};
        CHECK_INT(shelf_sha256_file(path, got, &err), SHELF_OK);
        CHECK_STR(got, want);
        unlink(path);
    }
    char nothing[600];
    snprintf(nothing, sizeof nothing, "%s/none", dir);
    char got[65];
    shelf_error err = {0};
    CHECK_INT(shelf_sha256_file(nothing, got, &err), SHELF_ENOTFOUND);
    CHECK(err.message && strstr(err.message, "none"));
    shelf_error_clear(&err);
    rmdir(dir);
    free(dir);
}

static void test_names(void)
{
    const char *good[] = {"default", "train", "my-env_2.1", "a+b@c,d", "x"};
    const char *bad[] = {"", "a/b", "..", ".hidden", "-x", "a b", "x$y", "é"};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        shelf_error err = {0};
        CHECK_INT(shelf_collection_name_check(good[i], &err), SHELF_OK);
    }
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        shelf_error err = {0};
        CHECK_INT(shelf_collection_name_check(bad[i], &err), SHELF_EUSAGE);
        CHECK(err.message && strstr(err.message, "not a valid collection name"));
        shelf_error_clear(&err);
    }
    char longname[300];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    shelf_error err = {0};
    CHECK_INT(shelf_collection_name_check(longname, &err), SHELF_EUSAGE);
    shelf_error_clear(&err);
}

static void add_mod(shelf_collection *c, const char *fullname, const char *file,
                    const char *sha, int user, const char *needed_by)
{
    shelf_coll_mod m;
    memset(&m, 0, sizeof m);
    shelf_strv_init(&m.needed_by);
    m.fullname = strdup(fullname);
    const char *slash = strrchr(fullname, '/');
    m.sn = strndup(fullname, (size_t)(slash - fullname));
    m.version = strdup(slash + 1);
    m.usrname = strdup(m.sn);
    m.file = strdup(file);
    m.mpath = strdup("/tree/Core");
    m.sha256 = strdup(sha);
    m.user_loaded = user;
    if (needed_by)
        shelf_strv_push(&m.needed_by, needed_by);
    CHECK_INT(shelf_collection_add(c, &m), SHELF_OK);
}

static void test_round_trip_and_names(void)
{
    char *dir = tmpdir();
    CHECK(dir != NULL);
    if (!dir)
        return;
    char sub[600];
    snprintf(sub, sizeof sub, "%s/a/b/collections", dir); /* created on write */
    shelf_collection c;
    shelf_collection_init(&c);
    c.name = strdup("train");
    c.created = strdup("2026-01-01T00:00:00Z");
    c.shelf_version = strdup("0.1.0");
    shelf_strv_push(&c.modulepath, "/tree/Core");
    shelf_strv_push(&c.modulepath, "/my \"own\" tree");
    const char *hex = "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881"; /* "x" */
    add_mod(&c, "torch/2.2.0", "/tree/Core/torch/2.2.0.lua", hex, 0, "torchvision");
    add_mod(&c, "torchvision/0.17.0", "/tree/Core/torchvision/0.17.0.lua", hex, 1, NULL);
    shelf_error err = {0};
    CHECK_INT(shelf_collection_write(sub, &c, &err), SHELF_OK);
    shelf_collection back;
    CHECK_INT(shelf_collection_read(sub, "train", &back, &err), SHELF_OK);
    CHECK_STR(back.name, "train");
    CHECK_STR(back.created, "2026-01-01T00:00:00Z");
    CHECK_INT((int)back.modulepath.n, 2);
    if (back.modulepath.n == 2)
        CHECK_STR(back.modulepath.v[1], "/my \"own\" tree");
    CHECK_INT((int)back.n, 2);
    if (back.n == 2) {
        CHECK_STR(back.mods[0].fullname, "torch/2.2.0");
        CHECK_STR(back.mods[0].sn, "torch");
        CHECK_STR(back.mods[0].sha256, hex);
        CHECK_INT(back.mods[0].user_loaded, 0);
        CHECK_INT((int)back.mods[0].needed_by.n, 1);
        CHECK_INT(back.mods[1].user_loaded, 1);
    }
    shelf_collection_free(&back);
    /* A second collection, then the list. */
    free(c.name);
    c.name = strdup("another");
    CHECK_INT(shelf_collection_write(sub, &c, &err), SHELF_OK);
    shelf_strv names;
    shelf_strv_init(&names);
    CHECK_INT(shelf_collection_names(sub, &names, &err), SHELF_OK);
    CHECK_INT((int)names.n, 2);
    if (names.n == 2) {
        CHECK_STR(names.v[0], "another");
        CHECK_STR(names.v[1], "train");
    }
    shelf_strv_free(&names);
    CHECK_INT(shelf_collection_delete(sub, "another", &err), SHELF_OK);
    CHECK_INT(shelf_collection_delete(sub, "another", &err), SHELF_ENOTFOUND);
    shelf_error_clear(&err);
    CHECK_INT(shelf_collection_read(sub, "another", &back, &err), SHELF_ENOTFOUND);
    shelf_error_clear(&err);
    CHECK_INT(shelf_collection_read(sub, "../x", &back, &err), SHELF_EUSAGE);
    shelf_error_clear(&err);
    /* A missing directory lists nothing. */
    char none[700];
    snprintf(none, sizeof none, "%s/none", dir);
    shelf_strv_init(&names);
    CHECK_INT(shelf_collection_names(none, &names, &err), SHELF_OK);
    CHECK_INT((int)names.n, 0);
    shelf_strv_free(&names);
    shelf_collection_free(&c);
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK_INT(system(cmd), 0);
    free(dir);
}

/* A damaged file: SHELF_EPARSE naming the file and what is wrong. */
static void expect_damaged(const char *dir, const char *text, const char *what)
{
    char path[600];
    snprintf(path, sizeof path, "%s/bad.json", dir);
    write_file(path, text);
    shelf_collection c;
    shelf_error err = {0};
    CHECK_INT(shelf_collection_read(dir, "bad", &c, &err), SHELF_EPARSE);
    CHECK(err.message && strstr(err.message, path));
    if (!(err.message && strstr(err.message, what)))
        printf("# message: %s\n# wanted: %s\n", err.message ? err.message : "(none)", what);
    CHECK(err.message && strstr(err.message, what));
    CHECK_INT((int)c.n, 0);
    shelf_error_clear(&err);
}

static void test_damaged_files(void)
{
    char *dir = tmpdir();
    CHECK(dir != NULL);
    if (!dir)
        return;
    const char *h = "\"sha256\": \"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\"";
    char text[1024];
    expect_damaged(dir, "{\"format\": 1,\n\"modules\": [\n", "not valid JSON (near line 3)");
    expect_damaged(dir, "", "not valid JSON");
    expect_damaged(dir, "[]", "not a JSON object");
    expect_damaged(dir, "{\"modules\": []}", "no \"format\"");
    expect_damaged(dir, "{\"format\": 2, \"modules\": []}", "newer shelf (format 2");
    expect_damaged(dir, "{\"format\": 0.5, \"modules\": []}", "unknown \"format\"");
    expect_damaged(dir, "{\"format\": 1}", "no \"modules\" list");
    expect_damaged(dir, "{\"format\": 1, \"modules\": [3]}", "module 1 is not an object");
    expect_damaged(dir, "{\"format\": 1, \"modules\": [{\"file\": \"/a.lua\"}]}",
                   "module 1 has no \"fullname\"");
    snprintf(text, sizeof text,
             "{\"format\": 1, \"modules\": [{\"fullname\": \"a/1\", \"file\": \"a.lua\", %s}]}", h);
    expect_damaged(dir, text, "the file of a/1 is not an absolute path");
    expect_damaged(dir,
                   "{\"format\": 1, \"modules\": [{\"fullname\": \"a/1\", \"file\": \"/a.lua\", "
                   "\"sha256\": \"ABC\"}]}",
                   "sha256 of a/1 is not 64 lowercase hex digits");
    snprintf(text, sizeof text,
             "{\"format\": 1, \"modules\": [{\"fullname\": \"a/1\", \"file\": \"/a.lua\", %s, "
             "\"user_loaded\": \"yes\"}]}", h);
    expect_damaged(dir, text, "\"user_loaded\" of a/1 is not true or false");
    snprintf(text, sizeof text,
             "{\"format\": 1, \"modulepath\": \"/x\", \"modules\": []}");
    expect_damaged(dir, text, "\"modulepath\" of the collection is not a list");
    snprintf(text, sizeof text,
             "{\"format\": 1, \"modules\": [{\"fullname\": \"a/1\", \"file\": \"/a.lua\", %s, "
             "\"needed_by\": [1]}]}", h);
    expect_damaged(dir, text, "\"needed_by\" of module 1 holds something that is not a string");
    /* Hand-written but whole: sn and version come from the full name. */
    snprintf(text, sizeof text,
             "{\"format\": 1, \"modules\": [{\"fullname\": \"x/y/1.0\", \"file\": \"/a.lua\", %s}]}",
             h);
    char path[600];
    snprintf(path, sizeof path, "%s/ok.json", dir);
    write_file(path, text);
    shelf_collection c;
    shelf_error err = {0};
    CHECK_INT(shelf_collection_read(dir, "ok", &c, &err), SHELF_OK);
    if (c.n == 1) {
        CHECK_STR(c.mods[0].sn, "x/y");
        CHECK_STR(c.mods[0].version, "1.0");
        CHECK_STR(c.mods[0].usrname, "x/y/1.0");
        CHECK_INT(c.mods[0].user_loaded, 1);
    }
    shelf_collection_free(&c);
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK_INT(system(cmd), 0);
    free(dir);
}

static void test_check_reports_drift(void)
{
    char *dir = tmpdir();
    CHECK(dir != NULL);
    if (!dir)
        return;
    char same[600], changed[600], gone[600];
    snprintf(same, sizeof same, "%s/same.lua", dir);
    snprintf(changed, sizeof changed, "%s/changed.lua", dir);
    snprintf(gone, sizeof gone, "%s/gone.lua", dir);
    write_file(same, "setenv(\"A\", \"1\")\n");
    write_file(changed, "setenv(\"B\", \"2\")\n");
    char hs[65], hc[65];
    shelf_error err = {0};
    CHECK_INT(shelf_sha256_file(same, hs, &err), SHELF_OK);
    CHECK_INT(shelf_sha256_file(changed, hc, &err), SHELF_OK);
    shelf_collection c;
    shelf_collection_init(&c);
    add_mod(&c, "same/1", same, hs, 1, NULL);
    add_mod(&c, "changed/1", changed, hc, 1, NULL);
    add_mod(&c, "gone/1", gone, hs, 1, NULL);
    write_file(changed, "setenv(\"B\", \"3\")\n");
    shelf_drift *d = NULL;
    size_t n = 0;
    CHECK_INT(shelf_collection_check(&c, &d, &n, &err), SHELF_OK);
    CHECK_INT((int)n, 2);
    if (n == 2) {
        CHECK_INT((int)d[0].kind, SHELF_DRIFT_CHANGED);
        CHECK_INT((int)d[0].mod, 1);
        CHECK(strstr(d[0].detail, "changed/1: its modulefile") != NULL);
        CHECK_INT((int)d[1].kind, SHELF_DRIFT_VANISHED);
        CHECK_INT((int)d[1].mod, 2);
        CHECK(strstr(d[1].detail, "is gone") != NULL);
    }
    shelf_drifts_free(d, n);
    shelf_collection_free(&c);
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK_INT(system(cmd), 0);
    free(dir);
}

static const struct check_test tests[] = {
    TEST(test_sha256_vectors),
    TEST(test_sha256_file_matches_sha256sum),
    TEST(test_names),
    TEST(test_round_trip_and_names),
    TEST(test_damaged_files),
    TEST(test_check_reports_drift),
};
CHECK_MAIN(tests)
