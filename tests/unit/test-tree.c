/*
 * test-tree.c -- reading modulepath directories (tree.c) and resolving
 * names (name.c) on small trees built in a temporary directory.
 *
 * Expectations marked "Lmod:" were observed with Debian's Lmod 8.6.19 on
 * the same trees (`lmod bash -t avail`, `lmod bash load X` then
 * LOADEDMODULES/_LMFILES_).
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "shelf.h"

static char root_dir[] = "/tmp/shelf-test-tree-XXXXXX";

/* ---- building trees ------------------------------------------------------- */

static char *path_of(const char *rel)
{
    size_t n = strlen(root_dir) + strlen(rel) + 2;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/%s", root_dir, rel);
    return p;
}

static void mkdirs(const char *path)
{
    char *p = strdup(path);
    for (char *s = p + 1; s && *s; s++)
        if (*s == '/') {
            *s = '\0';
            mkdir(p, 0755);
            *s = '/';
        }
    mkdir(p, 0755);
    free(p);
}

/* Writes root_dir/rel (creating directories), content or a plain Lua
 * modulefile. */
static void put(const char *rel, const char *content)
{
    char *p = path_of(rel);
    char *dir = strdup(p);
    *strrchr(dir, '/') = '\0';
    mkdirs(dir);
    free(dir);
    FILE *f = fopen(p, "w");
    if (!f) {
        printf("# cannot write %s: %s\n", p, strerror(errno));
        check_failures_++;
        free(p);
        return;
    }
    fputs(content ? content : "setenv(\"X\", \"1\")\n", f);
    fclose(f);
    free(p);
}

static void link_to(const char *target, const char *rel)
{
    char *p = path_of(rel);
    if (symlink(target, p) != 0) {
        printf("# symlink %s: %s\n", p, strerror(errno));
        check_failures_++;
    }
    free(p);
}

static void rm_rf(const char *path)
{
    char *cmd = malloc(strlen(path) + 16);
    sprintf(cmd, "rm -rf '%s'", path);
    if (system(cmd) != 0)
        printf("# cleanup of %s failed\n", path);
    free(cmd);
}

/* A modulepath of the given subdirectories of root_dir ("A", "A:B"). */
static void modulepath(shelf_strv *mp, const char *dirs)
{
    shelf_strv names;
    shelf_strv_init(&names);
    shelf_strv_init(mp);
    shelf_strv_split(&names, dirs, ":", 0);
    for (size_t i = 0; i < names.n; i++)
        shelf_strv_push_owned(mp, path_of(names.v[i]));
    shelf_strv_free(&names);
}

/* ---- looking at results ------------------------------------------------------ */

/* The scan of one directory as "fullname[flags] ..." with flags
 * H hidden, D default, M marked default, T Tcl. */
/* The scan of dir with the environment env, as "fullname[flags] ...". */
static char *scan_env_str(const char *dir, char *const *env)
{
    char *p = path_of(dir);
    shelf_modlist ml;
    shelf_modlist_init(&ml);
    shelf_error err = {0};
    int r = shelf_tree_scan(p, env, &ml, &err);
    CHECK_INT(r, 0);
    shelf_buf b;
    shelf_buf_init(&b);
    shelf_buf_adds(&b, "");
    for (size_t i = 0; i < ml.n; i++) {
        const shelf_modfile *m = &ml.items[i];
        if (i)
            shelf_buf_addc(&b, ' ');
        shelf_buf_adds(&b, m->fullname);
        if (m->hidden || m->is_default || m->marked_default || m->is_tcl)
            shelf_buf_addf(&b, "[%s%s%s%s]", m->hidden ? "H" : "",
                           m->is_default ? "D" : "", m->marked_default ? "M" : "",
                           m->is_tcl ? "T" : "");
        /* every item carries consistent names and paths */
        CHECK(strncmp(m->path, p, strlen(p)) == 0);
        CHECK_STR(m->mpath, p);
        if (m->version[0]) {
            size_t sl = strlen(m->sn);
            CHECK(strncmp(m->fullname, m->sn, sl) == 0 && m->fullname[sl] == '/');
            CHECK_STR(m->fullname + sl + 1, m->version);
        } else {
            CHECK_STR(m->fullname, m->sn);
        }
    }
    for (size_t i = 0; i < ml.naliases; i++)
        shelf_buf_addf(&b, " %s->%s", ml.aliases[i].name, ml.aliases[i].target);
    shelf_modlist_free(&ml);
    shelf_error_clear(&err);
    free(p);
    return shelf_buf_take(&b);
}

static char *scan_str(const char *dir)
{
    return scan_env_str(dir, environ);
}

#define CHECK_SCAN(dir, expected)                                          \
    do {                                                                   \
        char *s_ = scan_str(dir);                                          \
        CHECK_STR(s_, expected);                                           \
        free(s_);                                                          \
    } while (0)

/* Resolves `user` and returns "fullname path-relative-to-root_dir[flags]"
 * or "error CODE: message". */
static char *resolve_str(const char *dirs, const char *user)
{
    shelf_strv mp;
    modulepath(&mp, dirs);
    shelf_modfile mf;
    memset(&mf, 0x5a, sizeof mf); /* must stay untouched on failure */
    shelf_error err = {0};
    int r = shelf_resolve(&mp, user, &mf, &err);
    shelf_buf b;
    shelf_buf_init(&b);
    if (r == 0) {
        size_t rl = strlen(root_dir);
        CHECK(strncmp(mf.path, root_dir, rl) == 0);
        shelf_buf_addf(&b, "%s %s", mf.fullname, mf.path + rl + 1);
        if (mf.is_default || mf.marked_default || mf.hidden)
            shelf_buf_addf(&b, "[%s%s%s]", mf.hidden ? "H" : "",
                           mf.is_default ? "D" : "", mf.marked_default ? "M" : "");
        shelf_modfile_free(&mf);
    } else {
        CHECK_INT(err.code, r);
        shelf_buf_addf(&b, "error %d: %s", r, err.message ? err.message : "");
        unsigned char *bytes = (unsigned char *)&mf;
        for (size_t i = 0; i < sizeof mf; i++)
            if (bytes[i] != 0x5a) {
                printf("# *out changed on failure\n");
                check_failures_++;
                break;
            }
    }
    shelf_error_clear(&err);
    shelf_strv_free(&mp);
    return shelf_buf_take(&b);
}

#define CHECK_RESOLVE(dirs, user, expected)                                \
    do {                                                                   \
        char *s_ = resolve_str(dirs, user);                                \
        CHECK_STR(s_, expected);                                           \
        free(s_);                                                          \
    } while (0)

/* ---- scans ------------------------------------------------------------------ */

static void test_scan_order_and_highest_default(void)
{
    put("s1/gcc/9.4.0.lua", NULL);
    put("s1/gcc/12.3.0.lua", NULL);
    put("s1/gcc/13.2.0.lua", NULL);
    put("s1/gcc/13.2.0-rc1.lua", NULL);
    put("s1/a-b/1.0.lua", NULL);
    put("s1/zlib/1.2.lua", NULL);
    put("s1/zlib/1.10.lua", NULL);
    /* Lmod sorts by name + "/" + parsed version, so "a-b/" comes first */
    CHECK_SCAN("s1", "a-b/1.0[D] gcc/9.4.0 gcc/12.3.0 gcc/13.2.0-rc1 "
                     "gcc/13.2.0[D] zlib/1.2 zlib/1.10[D]");
}

static void test_scan_default_markers(void)
{
    static const char *const names[] = {"s", "l1", "l2", "l3", "r", "t1",
                                        "t2", "v", "p1", "p2", "p3", "p4"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        for (int v = 1; v <= 3; v++) {
            char rel[64];
            snprintf(rel, sizeof rel, "s2/%s/%d.0.lua", names[i], v);
            put(rel, NULL);
        }
    link_to("1.0.lua", "s2/s/default");
    put("s2/l1/.modulerc.lua", "module_version(\"l1/1.0\", \"default\")\n");
    put("s2/l2/.modulerc.lua", "module_version(\"1.0\", \"default\")\n");
    put("s2/l3/.modulerc.lua", "module_version(\"/1.0\", \"default\")\n");
    /* Lmod: a default named in the modulepath dir's own .modulerc.lua
     * does not apply (r's default stays 3.0) */
    put("s2/.modulerc.lua", "module_version(\"r/1.0\", \"default\")\n");
    put("s2/t1/.modulerc", "#%Module\nmodule-version t1/1.0 default\n");
    put("s2/t2/.modulerc", "#%Module\nmodule-version 1.0 default\n");
    put("s2/v/.version", "#%Module\nset ModulesVersion \"1.0\"\n");
    /* Lmod: the first marker wins: default > .modulerc.lua > .modulerc > .version */
    link_to("1.0.lua", "s2/p1/default");
    put("s2/p1/.modulerc.lua", "module_version(\"p1/2.0\", \"default\")\n");
    put("s2/p2/.modulerc.lua", "module_version(\"p2/1.0\", \"default\")\n");
    put("s2/p2/.version", "#%Module\nset ModulesVersion \"2.0\"\n");
    /* Lmod: a .modulerc.lua that names no default still hides .version */
    put("s2/p3/.modulerc.lua", "module_alias(\"p3/foo\", \"p3/3.0\")\n");
    put("s2/p3/.version", "#%Module\nset ModulesVersion \"1.0\"\n");
    put("s2/p4/.modulerc", "#%Module\nmodule-version 1.0 default\n");
    put("s2/p4/.version", "#%Module\nset ModulesVersion \"2.0\"\n");
    CHECK_SCAN("s2", "l1/1.0[DM] l1/2.0 l1/3.0 l2/1.0[DM] l2/2.0 l2/3.0 "
                     "l3/1.0[DM] l3/2.0 l3/3.0 p1/1.0[DM] p1/2.0 p1/3.0 "
                     "p2/1.0[DM] p2/2.0 p2/3.0 p3/1.0 p3/2.0 p3/3.0[D] "
                     "p4/1.0[DM] p4/2.0 p4/3.0 r/1.0 r/2.0 r/3.0[D] "
                     "s/1.0[DM] s/2.0 s/3.0 t1/1.0[DM] t1/2.0 t1/3.0 "
                     "t2/1.0[DM] t2/2.0 t2/3.0 v/1.0[DM] v/2.0 v/3.0 "
                     "p3/foo->p3/3.0");
}

static void test_scan_hidden(void)
{
    put("s3/h/1.0.lua", NULL);
    put("s3/h/.2.0.lua", NULL);
    put("s3/hv/1.0.lua", NULL);
    put("s3/hv/2.0.lua", NULL);
    put("s3/hv/.modulerc.lua", "hide_version(\"hv/2.0\")\n");
    /* Lmod: a hidden version marked default is still the default */
    put("s3/hd/1.0.lua", NULL);
    put("s3/hd/.2.0.lua", NULL);
    put("s3/hd/.modulerc.lua", "module_version(\".2.0\", \"default\")\n");
    put("s3/.dot/1.0.lua", NULL);
    /* Lmod: x holds a subdirectory, so x is a category: x/1.0.lua is the
     * module "x/1.0" and x/.sub the (hidden) module "x/.sub" */
    put("s3/x/.sub/1.0.lua", NULL);
    put("s3/x/1.0.lua", NULL);
    CHECK_SCAN("s3", ".dot/1.0[H] h/.2.0[H] h/1.0[D] hd/.2.0[HDM] hd/1.0 "
                     "hv/1.0[D] hv/2.0[H] x/.sub/1.0[H] x/1.0[D]");
}

static void test_scan_ignored_files(void)
{
    put("s4/ig/1.0.lua", NULL);
    put("s4/ig/2.0.lua~", NULL);
    put("s4/ig/#3.0.lua", NULL);
    put("s4/ig/.#4.0.lua", NULL);
    put("s4/ig/.5.0.lua.swp", NULL);
    put("s4/ig/7.0", "setenv x\n");       /* not Lua, no #%Module */
    put("s4/ig/8.0", "#%Module1.0\n");    /* Tcl: listed */
    put("s4/ig/9.0#", NULL);
    put("s4/ig/__10.lua", NULL);
    put("s4/ig/.git/11.lua", NULL);
    put("s4/ig/.svn/12.lua", NULL);
    link_to("nowhere.lua", "s4/ig/13.0.lua"); /* dangling */
    put("s4/ig/14.0", "#%Module\n");
    put("s4/ig/14.0.lua", NULL);              /* .lua wins over Tcl */
    put("s4/empty/sub/README", "nothing\n");  /* no modulefile at all */
    /* Lmod lists 8.0 and picks it as the default (Tcl included) */
    CHECK_SCAN("s4", "ig/1.0 ig/8.0[T] ig/14.0[D]");
}

static void test_scan_layouts(void)
{
    /* Lmod: a/b/c.lua (no marker) is short name "a/b", version "c" */
    put("s5/a/b/c.lua", NULL);
    /* Lmod: m holds a subdirectory: m/n.lua is a module without version */
    put("s5/m/n.lua", NULL);
    put("s5/m/o/1.0.lua", NULL);
    /* a module directory hides a file of the same name (Lmod) */
    put("s5/bar.lua", NULL);
    put("s5/bar/2.0.lua", NULL);
    put("s5/foo.lua", NULL);
    /* a marker makes fftw a module with N/V/V versions */
    put("s5/fftw/3.3/mpi.lua", NULL);
    put("s5/fftw/3.3/serial.lua", NULL);
    put("s5/fftw/2.0.lua", NULL);
    put("s5/fftw/.version", "set ModulesVersion \"3.3\"\n");
    CHECK_SCAN("s5", "a/b/c[D] bar/2.0[D] fftw/2.0 fftw/3.3/mpi "
                     "fftw/3.3/serial[DM] foo[D] m/n[D] m/o/1.0[D]");
}

static void test_scan_missing_and_unreadable(void)
{
    CHECK_SCAN("does-not-exist", "");
    put("s6/ok/1.0.lua", NULL);
    put("s6/locked/1.0.lua", NULL);
    char *locked = path_of("s6/locked");
    chmod(locked, 0);
    if (geteuid() != 0) /* root reads it anyway */
        CHECK_SCAN("s6", "ok/1.0[D]");
    chmod(locked, 0755);
    free(locked);
}

static void test_scan_rc_sandbox(void)
{
    put("s7/a/1.0.lua", NULL);
    put("s7/a/2.0.lua", NULL);
    /* unknown functions are ignored; os.getenv and string work */
    put("s7/a/.modulerc.lua",
        "some_site_function(\"x\")\n"
        "local v = string.format(\"%s/%s\", \"a\", \"1.0\")\n"
        "if os.getenv(\"PATH\") then module_version(v, \"default\") end\n");
    put("s7/b/1.0.lua", NULL);
    put("s7/b/2.0.lua", NULL);
    /* a loop that never ends is stopped; the file says nothing */
    put("s7/b/.modulerc.lua", "module_version(\"b/1.0\", \"default\")\n"
                              "while true do end\n");
    put("s7/c/1.0.lua", NULL);
    put("s7/c/2.0.lua", NULL);
    put("s7/c/.modulerc.lua", "module_version(\"c/1.0\", \"default\"\n"); /* syntax */
    put("s7/d/1.0.lua", NULL);
    put("s7/d/2.0.lua", NULL);
    put("s7/d/.modulerc.lua", "local t = {} for i = 1, 1e9 do t[i] = "
                              "string.rep(\"x\", 1000) .. i end\n");
    CHECK_SCAN("s7", "a/1.0[DM] a/2.0 b/1.0 b/2.0[D] c/1.0 c/2.0[D] "
                     "d/1.0 d/2.0[D]");
}

/* os.getenv() in a .modulerc.lua answers from the environment the caller
 * passes, not from the process's. */
static void test_scan_rc_env(void)
{
    put("s8/e/1.0.lua", NULL);
    put("s8/e/2.0.lua", NULL);
    put("s8/e/.modulerc.lua",
        "if os.getenv(\"SHELF_TEST_RC_PICK\") == \"old\" then\n"
        "  module_version(\"e/1.0\", \"default\")\n"
        "end\n");
    unsetenv("SHELF_TEST_RC_PICK");
    char *const env[] = {(char *)"SHELF_TEST_RC_PICK=old", NULL};
    char *s = scan_env_str("s8", env);
    CHECK_STR(s, "e/1.0[DM] e/2.0");
    free(s);
    setenv("SHELF_TEST_RC_PICK", "old", 1);
    s = scan_env_str("s8", NULL);
    CHECK_STR(s, "e/1.0 e/2.0[D]");
    free(s);
    unsetenv("SHELF_TEST_RC_PICK");
}

/* ---- resolve ---------------------------------------------------------------- */

static void build_resolve_tree(void)
{
    put("r/gcc/12.1.0.lua", NULL);
    put("r/gcc/12.3.0.lua", NULL);
    put("r/gcc/13.2.0.lua", NULL);
    put("r/gcc/.modulerc.lua", "module_version(\"gcc/12.3.0\", \"12\", \"stable\")\n"
                               "module_alias(\"gcc/latest\", \"gcc/13.2.0\")\n");
    put("r/foo/1.2.lua", NULL);
    put("r/foo/1.10.lua", NULL);
    put("r/foo/17.lua", NULL);
    put("r/foo/1-beta.lua", NULL);
    put("r/py/3.9.lua", NULL);
    put("r/py/3.11.2.lua", NULL);
    put("r/py/3.11.10.lua", NULL);
    put("r/py/3.110.lua", NULL);
    put("r/pm/1.2.lua", NULL);
    put("r/pm/1.5.lua", NULL);
    put("r/pm/1.9.lua", NULL);
    put("r/pm/.version", "#%Module\nset ModulesVersion \"1.5\"\n");
    put("r/h/1.0.lua", NULL);
    put("r/h/.2.0.lua", NULL);
    put("r/.dot/1.0.lua", NULL);
    put("r/.modulerc.lua", "module_alias(\"cc\", \"gcc/stable\")\n"
                           "module_alias(\"aa\", \"cc\")\n");
    put("r/fftw/3.3/mpi.lua", NULL);
    put("r/fftw/3.3/serial.lua", NULL);
    put("r/fftw/2.0.lua", NULL);
    put("r/fftw/.version", "set ModulesVersion \"3.3\"\n");
    put("r/cat/b/c.lua", NULL);
    put("r/cat/meta.lua", NULL);
    put("r/tool.lua", NULL);
    link_to("nowhere.lua", "r/gcc/14.1.0.lua");
}

static void test_resolve_exact_default_partial(void)
{
    build_resolve_tree();
    CHECK_RESOLVE("r", "gcc/12.1.0", "gcc/12.1.0 r/gcc/12.1.0.lua");
    CHECK_RESOLVE("r", "gcc", "gcc/13.2.0 r/gcc/13.2.0.lua[D]");
    /* Lmod: the symbolic version wins over the partial match */
    CHECK_RESOLVE("r", "gcc/12", "gcc/12.3.0 r/gcc/12.3.0.lua");
    CHECK_RESOLVE("r", "gcc/stable", "gcc/12.3.0 r/gcc/12.3.0.lua");
    CHECK_RESOLVE("r", "gcc/13", "gcc/13.2.0 r/gcc/13.2.0.lua[D]");
    /* Lmod: foo/1 -> foo/1.10 (1.2, 1.10, 1-beta match; 17 does not) */
    CHECK_RESOLVE("r", "foo/1", "foo/1.10 r/foo/1.10.lua");
    CHECK_RESOLVE("r", "foo/1-", "foo/1-beta r/foo/1-beta.lua");
    CHECK_RESOLVE("r", "py/3.11", "py/3.11.10 r/py/3.11.10.lua");
    CHECK_RESOLVE("r", "py/3", "py/3.110 r/py/3.110.lua[D]");
    CHECK_RESOLVE("r", "pm", "pm/1.5 r/pm/1.5.lua[DM]");
    /* Lmod: a partial version prefers the marked default among matches */
    CHECK_RESOLVE("r", "pm/1", "pm/1.5 r/pm/1.5.lua[DM]");
    CHECK_RESOLVE("r", "foo/default", "foo/17 r/foo/17.lua[D]");
    /* typed the way MName cleans it up */
    CHECK_RESOLVE("r", " foo/1.2.lua ", "foo/1.2 r/foo/1.2.lua");
    CHECK_RESOLVE("r", "foo/", "foo/17 r/foo/17.lua[D]");
    CHECK_RESOLVE("r", "foo/1.1", "error -3: unknown module \"foo/1.1\"");
    CHECK_RESOLVE("r", "foo/latest", "error -3: unknown module \"foo/latest\"");
    CHECK_RESOLVE("r", "nope", "error -3: unknown module \"nope\"");
    CHECK_RESOLVE("r", "", "error -3: unknown module \"\"");
    CHECK_RESOLVE("r", "../r/gcc/12.1.0", "error -3: unknown module \"../r/gcc/12.1.0\"");
}

static void test_resolve_aliases_hidden_layouts(void)
{
    CHECK_RESOLVE("r", "gcc/latest", "gcc/13.2.0 r/gcc/13.2.0.lua[D]");
    CHECK_RESOLVE("r", "cc", "gcc/12.3.0 r/gcc/12.3.0.lua");
    /* Lmod: an alias of an alias is not followed */
    CHECK_RESOLVE("r", "aa", "error -3: unknown module \"aa\"");
    CHECK_RESOLVE("r", "h", "h/1.0 r/h/1.0.lua[D]");
    CHECK_RESOLVE("r", "h/.2.0", "h/.2.0 r/h/.2.0.lua[H]");
    /* Lmod: a module with only hidden versions loads by full name only */
    CHECK_RESOLVE("r", ".dot", "error -3: unknown module \".dot\"");
    CHECK_RESOLVE("r", ".dot/1.0", ".dot/1.0 r/.dot/1.0.lua[H]");
    CHECK_RESOLVE("r", "fftw", "fftw/3.3/serial r/fftw/3.3/serial.lua[DM]");
    CHECK_RESOLVE("r", "fftw/3.3", "fftw/3.3/serial r/fftw/3.3/serial.lua[DM]");
    CHECK_RESOLVE("r", "fftw/3.3/mpi", "fftw/3.3/mpi r/fftw/3.3/mpi.lua");
    CHECK_RESOLVE("r", "fftw/2.0", "fftw/2.0 r/fftw/2.0.lua");
    /* Lmod: partial versions look only at the files beside the version dirs */
    CHECK_RESOLVE("r", "fftw/3", "error -3: unknown module \"fftw/3\"");
    CHECK_RESOLVE("r", "cat/b", "cat/b/c r/cat/b/c.lua[D]");
    CHECK_RESOLVE("r", "cat/b/c", "cat/b/c r/cat/b/c.lua[D]");
    CHECK_RESOLVE("r", "cat/meta", "cat/meta r/cat/meta.lua[D]");
    CHECK_RESOLVE("r", "cat", "error -3: unknown module \"cat\"");
    CHECK_RESOLVE("r", "tool", "tool r/tool.lua[D]");
}

static void test_resolve_dangling_symlink(void)
{
    char *s = resolve_str("r", "gcc/14.1.0");
    CHECK(strncmp(s, "error -2: modulefile ", 21) == 0);
    CHECK(strstr(s, "r/gcc/14.1.0.lua") != NULL);
    CHECK(strstr(s, "dangling symbolic link") != NULL);
    free(s);
    /* not a candidate for the default either */
    CHECK_RESOLVE("r", "gcc", "gcc/13.2.0 r/gcc/13.2.0.lua[D]");
}

static void test_resolve_across_modulepath_dirs(void)
{
    /* Lmod (N/V layout): versions of all directories compete */
    put("A1/gcc/10.lua", NULL);
    put("A2/gcc/12.lua", NULL);
    CHECK_RESOLVE("A1:A2", "gcc", "gcc/12 A2/gcc/12.lua[D]");
    /* the same version in two directories: the first one */
    put("B1/gcc/10.lua", NULL);
    put("B1/gcc/12.lua", NULL);
    put("B2/gcc/12.lua", NULL);
    CHECK_RESOLVE("B1:B2", "gcc", "gcc/12 B1/gcc/12.lua[D]");
    CHECK_RESOLVE("B2:B1", "gcc/12", "gcc/12 B2/gcc/12.lua[D]");
    /* a marked default in the second beats the highest in the first */
    put("C1/gcc/10.lua", NULL);
    put("C1/gcc/12.lua", NULL);
    put("C2/gcc/11.lua", NULL);
    put("C2/gcc/12.lua", NULL);
    put("C2/gcc/.version", "#%Module\nset ModulesVersion \"11\"\n");
    CHECK_RESOLVE("C1:C2", "gcc", "gcc/11 C2/gcc/11.lua[DM]");
    CHECK_RESOLVE("C1:C2", "gcc/12", "gcc/12 C1/gcc/12.lua");
    /* the same version, marked in the second directory only: the second */
    put("D1/gcc/12.lua", NULL);
    put("D2/gcc/12.lua", NULL);
    put("D2/gcc/.version", "#%Module\nset ModulesVersion \"12\"\n");
    CHECK_RESOLVE("D1:D2", "gcc/12", "gcc/12 D2/gcc/12.lua[DM]");
    /* both marked: the higher marked version */
    put("E1/gcc/10.lua", NULL);
    put("E1/gcc/.version", "#%Module\nset ModulesVersion \"10\"\n");
    put("E2/gcc/9.lua", NULL);
    put("E2/gcc/.version", "#%Module\nset ModulesVersion \"9\"\n");
    CHECK_RESOLVE("E2:E1", "gcc", "gcc/10 E1/gcc/10.lua[DM]");
    /* partial versions across directories */
    put("F1/gcc/1.2.lua", NULL);
    put("F2/gcc/1.3.lua", NULL);
    put("F2/gcc/1.10.lua", NULL);
    CHECK_RESOLVE("F1:F2", "gcc/1", "gcc/1.10 F2/gcc/1.10.lua[D]");
    /* a module without version beats versions elsewhere (Lmod: "M" key) */
    put("G1/meta.lua", NULL);
    put("G2/meta/1.0.lua", NULL);
    CHECK_RESOLVE("G2:G1", "meta", "meta G1/meta.lua[D]");
    CHECK_RESOLVE("G2:G1", "meta/1.0", "meta/1.0 G2/meta/1.0.lua");
    /* N/V/V: the default comes from the first directory holding the
     * module; an exact name from any (Lmod) */
    put("N1/fftw/3.3/a.lua", NULL);
    put("N1/fftw/2.0.lua", NULL);
    put("N1/fftw/.version", "set ModulesVersion \"3.3\"\n");
    put("N2/fftw/4.0/a.lua", NULL);
    put("N2/fftw/.version", "set ModulesVersion \"4.0\"\n");
    CHECK_RESOLVE("N1:N2", "fftw", "fftw/3.3/a N1/fftw/3.3/a.lua[DM]");
    CHECK_RESOLVE("N1:N2", "fftw/4.0/a", "fftw/4.0/a N2/fftw/4.0/a.lua");
    /* Lmod 8.6 even answers fftw/4.0 with the first directory's default */
    CHECK_RESOLVE("N1:N2", "fftw/4.0", "fftw/3.3/a N1/fftw/3.3/a.lua[DM]");
    /* a missing directory is no error */
    CHECK_RESOLVE("missing:A1", "gcc", "gcc/10 A1/gcc/10.lua[D]");
}

static void test_resolve_hide_version_across_dirs(void)
{
    put("H1/tool/1.0.lua", NULL);
    put("H1/tool/2.0.lua", NULL);
    put("H2/tool/.modulerc.lua", "hide_version(\"tool/2.0\")\n");
    put("H2/tool/0.5.lua", NULL);
    /* Lmod merges the hidden lists of all directories */
    CHECK_RESOLVE("H1:H2", "tool", "tool/1.0 H1/tool/1.0.lua[D]");
    CHECK_RESOLVE("H1:H2", "tool/2.0", "tool/2.0 H1/tool/2.0.lua[H]");
}

static void test_user_sn(void)
{
    shelf_strv mp;
    modulepath(&mp, "r");
    char *sn = shelf_user_sn(NULL, &mp, "gcc/12");
    CHECK_STR(sn, "gcc");
    free(sn);
    sn = shelf_user_sn(NULL, &mp, "cat/b");
    CHECK_STR(sn, "cat/b");
    free(sn);
    sn = shelf_user_sn(NULL, &mp, "fftw/3.3/mpi");
    CHECK_STR(sn, "fftw");
    free(sn);
    /* no longer available: the longest existing directory */
    sn = shelf_user_sn(NULL, &mp, "gcc/99.1");
    CHECK_STR(sn, "gcc");
    free(sn);
    sn = shelf_user_sn(NULL, &mp, "gone/1.0");
    CHECK_STR(sn, "gone/1.0");
    free(sn);
    shelf_strv_free(&mp);
}

static void test_modfile_copy(void)
{
    shelf_modfile a = {"x/1", "x", "1", "/m/x/1.lua", "/m", 1, 1, 0, 1};
    shelf_modfile b;
    CHECK_INT(shelf_modfile_copy(&b, &a), 0);
    CHECK_STR(b.fullname, "x/1");
    CHECK_STR(b.path, "/m/x/1.lua");
    CHECK(b.hidden && b.is_default && !b.marked_default && b.is_tcl);
    CHECK(b.sn != a.sn);
    shelf_modfile_free(&b);
    CHECK(b.fullname == NULL);
}

static void test_setup(void)
{
    CHECK(mkdtemp(root_dir) != NULL);
}

static void test_cleanup(void)
{
    rm_rf(root_dir);
}

static const struct check_test tests[] = {
    TEST(test_setup),
    TEST(test_scan_order_and_highest_default),
    TEST(test_scan_default_markers),
    TEST(test_scan_hidden),
    TEST(test_scan_ignored_files),
    TEST(test_scan_layouts),
    TEST(test_scan_missing_and_unreadable),
    TEST(test_scan_rc_sandbox),
    TEST(test_scan_rc_env),
    TEST(test_resolve_exact_default_partial),
    TEST(test_resolve_aliases_hidden_layouts),
    TEST(test_resolve_dangling_symlink),
    TEST(test_resolve_across_modulepath_dirs),
    TEST(test_resolve_hide_version_across_dirs),
    TEST(test_user_sn),
    TEST(test_modfile_copy),
    TEST(test_cleanup),
};
CHECK_MAIN(tests)
