/*
 * vsrunlock.c: one lock file per shadow run
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "vsrunlock.h"
#include "util/vserror.h"

#define VS_RUN_LOCK_SUFFIX ".lock"

char *
vsRunLockDir(const char *state_dir)
{
    return g_build_filename(state_dir, "shadow-runs", NULL);
}

static char *
vsRunLockPath(const char *dir, const char *run_id)
{
    g_autofree char *base = g_strconcat(run_id, VS_RUN_LOCK_SUFFIX, NULL);

    return g_build_filename(dir, base, NULL);
}

int
vsRunLockAcquire(const char *dir, const char *run_id, GError **error)
{
    g_autofree char *path = vsRunLockPath(dir, run_id);

    if (g_mkdir_with_parents(dir, 0700) < 0) {
        int err = errno;

        g_set_error(error, VS_ERROR, VS_ERROR_IO, "cannot make directory '%s': %s", dir,
                    g_strerror(err));
        return -1;
    }
    for (;;) {
        struct stat fst, pst;
        int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);

        if (fd < 0) {
            int err = errno;

            g_set_error(error, VS_ERROR, VS_ERROR_IO, "cannot open lock file '%s': %s", path,
                        g_strerror(err));
            return -1;
        }
        if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
            int err = errno;

            close(fd);
            g_set_error(error, VS_ERROR, err == EWOULDBLOCK ? VS_ERROR_FAILED : VS_ERROR_IO,
                        "cannot lock shadow run '%s' (%s): %s", run_id, path,
                        err == EWOULDBLOCK ? "another process runs it" : g_strerror(err));
            return -1;
        }
        /* gc may have removed a stale file between our open and flock */
        if (fstat(fd, &fst) == 0 && stat(path, &pst) == 0 &&
            fst.st_dev == pst.st_dev && fst.st_ino == pst.st_ino)
            return fd;
        close(fd);
    }
}

void
vsRunLockRelease(const char *dir, const char *run_id, int fd)
{
    g_autofree char *path = NULL;

    if (fd < 0)
        return;
    path = vsRunLockPath(dir, run_id);
    /* unlinked while still held: no one can take a lock on the old file */
    g_unlink(path);
    close(fd);
}

/* The descriptor of @run_id's lock, taken by us; -1 when it is held
 * elsewhere or has no file. */
static int
vsRunLockTry(const char *dir, const char *run_id, gboolean *held)
{
    g_autofree char *path = vsRunLockPath(dir, run_id);
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

    *held = FALSE;
    if (fd < 0)
        return -1;
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        *held = errno == EWOULDBLOCK;
        close(fd);
        return -1;
    }
    return fd;
}

gboolean
vsRunLockHeld(const char *dir, const char *run_id)
{
    gboolean held = FALSE;
    int fd;

    if (!dir)
        return FALSE;
    if ((fd = vsRunLockTry(dir, run_id, &held)) >= 0)
        close(fd);
    return held;
}

GPtrArray *
vsRunLockList(const char *dir, gboolean held_only)
{
    GPtrArray *ids = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GDir) d = dir ? g_dir_open(dir, 0, NULL) : NULL;
    const char *name;

    while (d && (name = g_dir_read_name(d))) {
        g_autofree char *id = NULL;

        if (!g_str_has_suffix(name, VS_RUN_LOCK_SUFFIX) ||
            strlen(name) == strlen(VS_RUN_LOCK_SUFFIX))
            continue;
        id = g_strndup(name, strlen(name) - strlen(VS_RUN_LOCK_SUFFIX));
        if (!held_only || vsRunLockHeld(dir, id))
            g_ptr_array_add(ids, g_steal_pointer(&id));
    }
    return ids;
}

void
vsRunLockRemoveStale(const char *dir, const char *run_id)
{
    gboolean held;
    int fd;

    if (!dir || (fd = vsRunLockTry(dir, run_id, &held)) < 0)
        return;
    vsRunLockRelease(dir, run_id, fd);
}
