/*
 * sha256.c -- SHA-256 of files, as hex, computed by libmd
 * (<sha2.h>, the BSD digest functions Debian ships as libmd).
 *
 * Collections record the digest of every modulefile so that `restore` can
 * say exactly which ones changed since the save, and the index records the
 * same digest of every modulefile it lists. Checked against published
 * vectors and sha256sum(1) in tests/unit/test-collection.c.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sha2.h>
#include <string.h>
#include <unistd.h>

#include "shelf-internal.h"

_Static_assert(SHA256_DIGEST_STRING_LENGTH == 65, "64 hex digits and a NUL");

int shelf_sha256_file(const char *path, char out[65], shelf_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        int code = e == ENOENT ? SHELF_ENOTFOUND : SHELF_EIO;
        shelf_error_set(err, code, NULL, path, 0, "cannot open %s: %s", path, strerror(e));
        return code;
    }
    SHA2_CTX ctx;
    SHA256Init(&ctx);
    unsigned char buf[16384];
    for (;;) {
        ssize_t got = read(fd, buf, sizeof buf);
        if (got == 0)
            break;
        if (got < 0) {
            if (errno == EINTR)
                continue;
            int e = errno;
            close(fd);
            shelf_error_set(err, SHELF_EIO, NULL, path, 0, "cannot read %s: %s", path,
                            strerror(e));
            return SHELF_EIO;
        }
        SHA256Update(&ctx, buf, (size_t)got);
    }
    close(fd);
    SHA256End(&ctx, out);
    return SHELF_OK;
}
