/*
 * fs.c -- files and directories as every part of shelf writes them: a file
 * replaced atomically, mkdir -p, and the XDG base directories.
 *
 * Invariants: a file written here is either the old one or the whole new
 * one, on disk, at every moment (temp file beside it, fsync, rename, fsync
 * of the directory); a failure replaces nothing and leaves no temp file.
 * Nothing here reads the process environment: the XDG lookup is given one.
 * On SHELF_EIO, errno still holds the system's reason, for callers that
 * word the message themselves.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shelf-internal.h"

/* SHELF_EIO with "cannot VERB PATH: REASON", errno = e. */
static int fs_fail(shelf_error *err, const char *verb, const char *path, int e)
{
    shelf_error_set(err, SHELF_EIO, NULL, path, 0, "cannot %s %s: %s", verb, path, strerror(e));
    errno = e;
    return SHELF_EIO;
}

/* ---- mkdir -p ------------------------------------------------------------------ */

/* 0 if path is a directory (lstat when nofollow), else the errno to report. */
static int is_dir(const char *path, int nofollow)
{
    struct stat st;
    if ((nofollow ? lstat(path, &st) : stat(path, &st)) < 0)
        return errno;
    if (S_ISDIR(st.st_mode))
        return 0;
    return S_ISLNK(st.st_mode) ? ELOOP : ENOTDIR;
}

int shelf_mkdir_p(const char *dir, mode_t mode, int flags, shelf_error *err)
{
    int nofollow = (flags & SHELF_MKDIR_NOFOLLOW) != 0;
    if (!dir[0])
        return fs_fail(err, "create the directory", "\"\"", ENOENT);
    /* The common case: one lstat (not with a trailing slash, through which
     * lstat follows a symlink). */
    if (dir[strlen(dir) - 1] != '/' && is_dir(dir, nofollow) == 0)
        return SHELF_OK;
    char *p = strdup(dir);
    if (!p)
        return shelf_oom(err);
    size_t len = strlen(p);
    while (len > 1 && p[len - 1] == '/')
        p[--len] = '\0';
    int rc = SHELF_OK;
    for (char *s = p + 1;; s++) {
        if (*s != '/' && *s != '\0')
            continue;
        if (s[-1] == '/') { /* "//" */
            if (*s == '\0')
                break;
            continue;
        }
        char c = *s;
        *s = '\0';
        int last = c == '\0';
        if (mkdir(p, mode) < 0) {
            int e = errno;
            if (e == EEXIST)
                e = is_dir(p, last && nofollow);
            if (e == ELOOP) {
                shelf_error_set(err, SHELF_EIO, NULL, p, 0,
                                "cannot use the directory %s: it is a symbolic link", p);
                errno = ELOOP;
                rc = SHELF_EIO;
                break;
            }
            if (e) {
                rc = fs_fail(err, "create the directory", p, e);
                break;
            }
        }
        *s = c;
        if (last)
            break;
    }
    free(p);
    return rc;
}

/* ---- atomic replacement ------------------------------------------------------------ */

/* The directory holding path ("." for a bare name), a new string. */
char *shelf_path_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return strdup(".");
    if (slash == path)
        return strdup("/");
    return strndup(path, (size_t)(slash - path));
}

int shelf_file_commit(int fd, const char *tmp, const char *path, shelf_error *err)
{
    int e = 0;
    if (fsync(fd) < 0)
        e = errno;
    if (close(fd) < 0 && !e)
        e = errno;
    if (!e && rename(tmp, path) < 0)
        e = errno;
    if (e) {
        unlink(tmp);
        return fs_fail(err, "write", path, e);
    }
    /* The rename reaches the disk with the directory. Past the rename the
     * new file is in place: a directory that cannot be synced (some file
     * systems refuse) does not undo that, and is not an error. */
    char *dir = shelf_path_dir(path);
    int dfd = dir ? open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    free(dir);
    return SHELF_OK;
}

/* Creates dir/.base.RANDOM exclusively (never through a symlink); returns
 * the fd and sets *tmp, or -1 with errno. */
static int temp_create(const char *path, mode_t mode, char **tmp)
{
    const char *slash = strrchr(path, '/');
    size_t dirlen = slash ? (size_t)(slash - path) + 1 : 0;
    for (int tries = 0; tries < 32; tries++) {
        char *rnd = shelf_random_hex(6);
        if (!rnd)
            return -1;
        shelf_buf b;
        shelf_buf_init(&b);
        shelf_buf_add(&b, path, dirlen);
        shelf_buf_addf(&b, ".%s.%s", path + dirlen, rnd);
        free(rnd);
        char *name = shelf_buf_take(&b);
        if (!name) {
            errno = ENOMEM;
            return -1;
        }
        int fd = open(name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
        if (fd >= 0) {
            *tmp = name;
            return fd;
        }
        int e = errno;
        free(name);
        if (e != EEXIST) {
            errno = e;
            return -1;
        }
    }
    errno = EEXIST;
    return -1;
}

int shelf_write_atomic(const char *path, const void *data, size_t len, mode_t mode,
                       shelf_error *err)
{
    char *tmp = NULL;
    int fd = temp_create(path, mode, &tmp);
    if (fd < 0)
        return errno == ENOMEM ? shelf_oom(err) : fs_fail(err, "write", path, errno);
    const char *p = data;
    for (size_t done = 0; done < len;) {
        ssize_t w = write(fd, p + done, len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            int e = w < 0 ? errno : EIO;
            close(fd);
            unlink(tmp);
            free(tmp);
            return fs_fail(err, "write", path, e);
        }
        done += (size_t)w;
    }
    int rc = shelf_file_commit(fd, tmp, path, err);
    int e = errno;
    free(tmp);
    errno = e;
    return rc;
}

/* ---- XDG base directories -------------------------------------------------------- */

int shelf_xdg_dir(char *const *env, shelf_xdg_kind kind, char **out)
{
    static const struct {
        const char *var;
        const char *home_sub; /* under $HOME when var is unusable, or NULL */
    } kinds[] = {
        [SHELF_XDG_CONFIG] = {"XDG_CONFIG_HOME", ".config"},
        [SHELF_XDG_CACHE] = {"XDG_CACHE_HOME", ".cache"},
        [SHELF_XDG_RUNTIME] = {"XDG_RUNTIME_DIR", NULL},
    };
    *out = NULL;
    const char *x = shelf_environ_get(env, kinds[kind].var);
    const char *home = shelf_environ_get(env, "HOME");
    if (x && x[0] == '/')
        *out = strdup(x);
    else if (kinds[kind].home_sub && home && home[0] == '/')
        *out = shelf_path_join(home, kinds[kind].home_sub);
    else
        return SHELF_ENOTFOUND;
    return *out ? SHELF_OK : SHELF_ENOMEM;
}
