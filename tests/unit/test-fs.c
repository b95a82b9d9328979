/* test-fs.c -- atomic replacement of a file, mkdir -p and the XDG base
 * directories (fs.c), each test in its own mkdtemp directory. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "shelf-internal.h"

static char *tmpdir(void)
{
    char tmpl[] = "/tmp/shelf-fs-XXXXXX";
    char *d = mkdtemp(tmpl);
    return d ? strdup(d) : NULL;
}

static void rm_rf(const char *dir)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK_INT(system(cmd), 0);
}

/* The number of entries of dir, "." and ".." aside. */
static int entries(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    if (d)
        closedir(d);
    return d ? n : -1;
}

static char *slurp(const char *path)
{
    shelf_buf b;
    shelf_buf_init(&b);
    shelf_error err = {0};
    if (shelf_read_file(path, &b, &err) < 0) {
        shelf_error_clear(&err);
        shelf_buf_free(&b);
        return NULL;
    }
    return shelf_buf_take(&b);
}

static void test_write_atomic_replaces_the_whole_file(void)
{
    char *dir = tmpdir();
    CHECK(dir != NULL);
    if (!dir)
        return;
    char *path = shelf_path_join(dir, "out.txt");
    shelf_error err = {0};
    mode_t old = umask(022);
    CHECK_INT(shelf_write_atomic(path, "first\n", 6, 0666, &err), 0);
    CHECK_INT(shelf_write_atomic(path, "second", 6, 0666, &err), 0);
    CHECK_INT(shelf_write_atomic(path, "", 0, 0640, &err), 0);
    CHECK_INT(shelf_write_atomic(path, "third", 5, 0666, &err), 0);
    umask(old);
    CHECK_INT(err.code, SHELF_OK);
    char *text = slurp(path);
    CHECK_STR(text, "third");
    struct stat st;
    CHECK(stat(path, &st) == 0 && (st.st_mode & 07777) == 0644); /* 0666 less the umask */
    CHECK_INT(entries(dir), 1);                                   /* no temp file is left */
    free(text);
    /* a bare name is written in the working directory */
    char *cwd = getcwd(NULL, 0);
    CHECK(cwd && chdir(dir) == 0);
    CHECK_INT(shelf_write_atomic("bare", "b", 1, 0600, &err), 0);
    CHECK(cwd && chdir(cwd) == 0);
    free(cwd);
    char *bare = shelf_path_join(dir, "bare");
    text = slurp(bare);
    CHECK_STR(text, "b");
    CHECK(stat(bare, &st) == 0 && (st.st_mode & 0777) == 0600);
    free(text);
    free(bare);
    free(path);
    rm_rf(dir);
    free(dir);
}

static void test_write_atomic_failure_replaces_nothing(void)
{
    char *dir = tmpdir();
    CHECK(dir != NULL);
    if (!dir)
        return;
    /* a directory where the file should go: the rename fails */
    char *path = shelf_path_join(dir, "taken");
    CHECK(mkdir(path, 0755) == 0);
    shelf_error err = {0};
    CHECK_INT(shelf_write_atomic(path, "x", 1, 0666, &err), SHELF_EIO);
    CHECK(errno == EISDIR);
    CHECK(err.message && strstr(err.message, "cannot write ") && strstr(err.message, path));
    CHECK_STR(err.file, path);
    shelf_error_clear(&err);
    CHECK_INT(entries(dir), 1);  /* the temp file is gone */
    CHECK_INT(entries(path), 0); /* and the directory untouched */
    /* a directory that does not exist */
    char *missing = shelf_path_join(dir, "no/such/file");
    CHECK_INT(shelf_write_atomic(missing, "x", 1, 0666, &err), SHELF_EIO);
    CHECK(errno == ENOENT);
    CHECK_STR(err.file, missing);
    shelf_error_clear(&err);
    CHECK_INT(entries(dir), 1);
    free(missing);
    free(path);
    rm_rf(dir);
    free(dir);
}

static void test_write_atomic_replaces_a_symlink_not_its_target(void)
{
    char *dir = tmpdir();
    CHECK(dir != NULL);
    if (!dir)
        return;
    char *target = shelf_path_join(dir, "target");
    char *link = shelf_path_join(dir, "link");
    shelf_error err = {0};
    CHECK_INT(shelf_write_atomic(target, "keep", 4, 0644, &err), 0);
    CHECK(symlink(target, link) == 0);
    CHECK_INT(shelf_write_atomic(link, "new", 3, 0644, &err), 0);
    char *t = slurp(target), *l = slurp(link);
    CHECK_STR(t, "keep");
    CHECK_STR(l, "new");
    struct stat st;
    CHECK(lstat(link, &st) == 0 && S_ISREG(st.st_mode));
    free(t);
    free(l);
    free(target);
    free(link);
    rm_rf(dir);
    free(dir);
}

static void test_file_commit_renames_or_removes_the_temp_file(void)
{
    char *dir = tmpdir();
    CHECK(dir != NULL);
    if (!dir)
        return;
    char *tmp = shelf_path_join(dir, ".db.tmp");
    char *path = shelf_path_join(dir, "db");
    shelf_error err = {0};
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0644);
    CHECK(fd >= 0 && write(fd, "data", 4) == 4);
    CHECK_INT(shelf_file_commit(fd, tmp, path, &err), 0);
    char *text = slurp(path);
    CHECK_STR(text, "data");
    free(text);
    CHECK(access(tmp, F_OK) < 0);
    /* a rename that cannot happen (onto a non-empty directory) */
    char *sub = shelf_path_join(dir, "sub");
    char *inside = shelf_path_join(sub, "f");
    CHECK(mkdir(sub, 0755) == 0);
    fd = open(inside, O_WRONLY | O_CREAT | O_EXCL, 0644);
    CHECK(fd >= 0 && close(fd) == 0);
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0644);
    CHECK(fd >= 0);
    CHECK_INT(shelf_file_commit(fd, tmp, sub, &err), SHELF_EIO);
    CHECK_STR(err.file, sub);
    shelf_error_clear(&err);
    CHECK(access(tmp, F_OK) < 0);
    CHECK_INT(entries(sub), 1);
    free(inside);
    free(sub);
    free(tmp);
    free(path);
    rm_rf(dir);
    free(dir);
}

static int mode_of(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0 ? (int)(st.st_mode & 07777) : -1;
}

static void test_mkdir_p(void)
{
    char *dir = tmpdir();
    CHECK(dir != NULL);
    if (!dir)
        return;
    shelf_error err = {0};
    shelf_buf b;
    shelf_buf_init(&b);
    shelf_buf_addf(&b, "%s/a//b/c/", dir);
    mode_t old = umask(022);
    CHECK_INT(shelf_mkdir_p(b.data, 0750, 0, &err), 0);
    CHECK_INT(shelf_mkdir_p(b.data, 0750, 0, &err), 0); /* there already */
    umask(old);
    char *c = shelf_path_join(dir, "a/b/c");
    char *a = shelf_path_join(dir, "a");
    CHECK_INT(mode_of(c), 0750);
    CHECK_INT(mode_of(a), 0750);
    CHECK_INT(mode_of(dir), 0700); /* what was there is left as it was */
    CHECK_INT(err.code, SHELF_OK);
    /* a file in the way, at the end or on the way */
    char *file = shelf_path_join(dir, "file");
    CHECK_INT(shelf_write_atomic(file, "", 0, 0644, &err), 0);
    CHECK_INT(shelf_mkdir_p(file, 0700, 0, &err), SHELF_EIO);
    CHECK(err.message && strstr(err.message, "cannot create the directory ") &&
          strstr(err.message, file) && strstr(err.message, "Not a directory"));
    shelf_error_clear(&err);
    char *under = shelf_path_join(file, "x/y");
    CHECK_INT(shelf_mkdir_p(under, 0700, 0, &err), SHELF_EIO);
    CHECK_STR(err.file, file); /* names the component that failed */
    shelf_error_clear(&err);
    /* a symlink to a directory: followed on the way; at the end only
     * without SHELF_MKDIR_NOFOLLOW */
    char *link = shelf_path_join(dir, "link");
    CHECK(symlink(a, link) == 0);
    CHECK_INT(shelf_mkdir_p(link, 0700, 0, &err), 0);
    CHECK_INT(shelf_mkdir_p(link, 0700, SHELF_MKDIR_NOFOLLOW, &err), SHELF_EIO);
    CHECK(err.message && strstr(err.message, "symbolic link") && strstr(err.message, link));
    shelf_error_clear(&err);
    char *slashed = shelf_path_join(link, ""); /* "link/": lstat would follow it */
    CHECK_INT(shelf_mkdir_p(slashed, 0700, SHELF_MKDIR_NOFOLLOW, &err), SHELF_EIO);
    shelf_error_clear(&err);
    free(slashed);
    char *via = shelf_path_join(link, "d");
    CHECK_INT(shelf_mkdir_p(via, 0700, SHELF_MKDIR_NOFOLLOW, &err), 0);
    char *real = shelf_path_join(a, "d");
    CHECK_INT(mode_of(real), 0700);
    CHECK_INT(shelf_mkdir_p("", 0700, 0, &err), SHELF_EIO);
    shelf_error_clear(&err);
    free(real);
    free(via);
    free(link);
    free(under);
    free(file);
    free(a);
    free(c);
    shelf_buf_free(&b);
    rm_rf(dir);
    free(dir);
}

static void test_xdg_dirs_from_the_given_environment(void)
{
    char *out = NULL;
    char *both[] = {"HOME=/home/u", "XDG_CONFIG_HOME=/cfg", "XDG_CACHE_HOME=/cache",
                    "XDG_RUNTIME_DIR=/run/user/7", NULL};
    CHECK_INT(shelf_xdg_dir(both, SHELF_XDG_CONFIG, &out), 0);
    CHECK_STR(out, "/cfg");
    free(out);
    CHECK_INT(shelf_xdg_dir(both, SHELF_XDG_CACHE, &out), 0);
    CHECK_STR(out, "/cache");
    free(out);
    CHECK_INT(shelf_xdg_dir(both, SHELF_XDG_RUNTIME, &out), 0);
    CHECK_STR(out, "/run/user/7");
    free(out);
    /* relative or empty variables do not count: HOME's defaults */
    char *home[] = {"XDG_CONFIG_HOME=relative", "XDG_CACHE_HOME=", "HOME=/home/u/",
                    "XDG_RUNTIME_DIR=run", NULL};
    CHECK_INT(shelf_xdg_dir(home, SHELF_XDG_CONFIG, &out), 0);
    CHECK_STR(out, "/home/u/.config");
    free(out);
    CHECK_INT(shelf_xdg_dir(home, SHELF_XDG_CACHE, &out), 0);
    CHECK_STR(out, "/home/u/.cache");
    free(out);
    CHECK_INT(shelf_xdg_dir(home, SHELF_XDG_RUNTIME, &out), SHELF_ENOTFOUND);
    CHECK(out == NULL);
    /* nothing usable */
    char *none[] = {"HOME=home", NULL};
    CHECK_INT(shelf_xdg_dir(none, SHELF_XDG_CONFIG, &out), SHELF_ENOTFOUND);
    CHECK(out == NULL);
    CHECK_INT(shelf_xdg_dir(NULL, SHELF_XDG_CACHE, &out), SHELF_ENOTFOUND);
    CHECK(out == NULL);
}

static const struct check_test tests[] = {
    TEST(test_write_atomic_replaces_the_whole_file),
    TEST(test_write_atomic_failure_replaces_nothing),
    TEST(test_write_atomic_replaces_a_symlink_not_its_target),
    TEST(test_file_commit_renames_or_removes_the_temp_file),
    TEST(test_mkdir_p),
    TEST(test_xdg_dirs_from_the_given_environment),
};
CHECK_MAIN(tests)
