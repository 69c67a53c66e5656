/*
 * vsoffline.c: what a shadow changed on disk, read offline from its
 * overlay after shutdown
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "vsoffline.h"
#include "util/vserror.h"

/* A comparison's temporary directory: PREFIX + owner pid + "-XXXXXX". */
#define VS_OFFLINE_TMP_PREFIX "vs-offline-"

/* The images of one comparison, named in its temporary directory. */
static const char *const vsOfflineImageNames[] = { "base", "overlay", NULL };

/* --- the walk ------------------------------------------------------------ */

static gboolean
vsOfflineIsExcluded(const char *path)
{
    for (gsize i = 0; vsManifestExcluded[i]; i++)
        if (strcmp(path, vsManifestExcluded[i]) == 0)
            return TRUE;
    return FALSE;
}

static vsManifestType
vsOfflineTypeOfMode(mode_t mode)
{
    if (S_ISREG(mode))
        return VS_MANIFEST_FILE;
    if (S_ISDIR(mode))
        return VS_MANIFEST_DIR;
    if (S_ISLNK(mode))
        return VS_MANIFEST_LINK;
    return VS_MANIFEST_OTHER;
}

static char *
vsOfflineHashFile(const char *host_path, GError **error)
{
    g_autofree char *data = NULL;
    gsize len = 0;
    g_autoptr(GError) local = NULL;

    if (!g_file_get_contents(host_path, &data, &len, &local)) {
        g_set_error(error, VS_ERROR, VS_ERROR_IO, "cannot read '%s': %s", host_path,
                    local->message);
        return NULL;
    }
    return g_compute_checksum_for_data(G_CHECKSUM_SHA256, (const guchar *)data, len);
}

/* Add @path (absolute within the root, at @host_path on the host) and,
 * for a directory on @dev, what is under it. */
static gboolean
vsOfflineWalkEntry(vsManifest *manifest, const char *host_path, const char *path, dev_t dev,
                   GError **error)
{
    g_autoptr(vsManifestEntry) entry = g_new0(vsManifestEntry, 1);
    g_autoptr(GDir) dir = NULL;
    g_autoptr(GError) local = NULL;
    GStatBuf st;
    const char *name;
    gboolean descend;

    if (g_lstat(host_path, &st) < 0) {
        g_set_error(error, VS_ERROR, VS_ERROR_IO, "cannot stat '%s': %s", host_path,
                    g_strerror(errno));
        return FALSE;
    }
    entry->path = g_strdup(path);
    entry->type = vsOfflineTypeOfMode(st.st_mode);
    entry->mode = st.st_mode & 07777;
    entry->size = (guint64)st.st_size;
    entry->mtime = (gint64)st.st_mtime;
    if (entry->type == VS_MANIFEST_FILE && entry->size <= VS_MANIFEST_HASH_MAX &&
        !(entry->sha256 = vsOfflineHashFile(host_path, error)))
        return FALSE;
    descend = entry->type == VS_MANIFEST_DIR && st.st_dev == dev;
    g_hash_table_replace(manifest->entries, entry->path, entry);
    entry = NULL;
    if (!descend)
        return TRUE;

    if (!(dir = g_dir_open(host_path, 0, &local))) {
        g_set_error(error, VS_ERROR, VS_ERROR_IO, "cannot read directory '%s': %s", host_path,
                    local->message);
        return FALSE;
    }
    while ((name = g_dir_read_name(dir))) {
        g_autofree char *child = NULL;
        g_autofree char *host_child = NULL;

        /* the guest's find prunes these: their names would break its records */
        if (strpbrk(name, "\t\n"))
            continue;
        child = strcmp(path, "/") == 0 ? g_strconcat("/", name, NULL)
                                       : g_strconcat(path, "/", name, NULL);
        if (vsOfflineIsExcluded(child))
            continue;
        host_child = g_build_filename(host_path, name, NULL);
        if (!vsOfflineWalkEntry(manifest, host_child, child, dev, error))
            return FALSE;
    }
    return TRUE;
}

vsManifest *
vsOfflineWalk(const char *root, GError **error)
{
    g_autoptr(vsManifest) manifest = vsManifestNew();
    GStatBuf st;

    if (g_lstat(root, &st) < 0) {
        g_set_error(error, VS_ERROR, VS_ERROR_IO, "cannot stat '%s': %s", root, g_strerror(errno));
        return NULL;
    }
    if (!vsOfflineWalkEntry(manifest, root, "/", st.st_dev, error))
        return NULL;
    return g_steal_pointer(&manifest);
}

/* --- running tools -------------------------------------------------------- */

/* Run @argv; on failure say which @step on which @image failed, with the
 * tool's own words. */
/* In the child, before exec: the callers block SIGTERM and SIGINT in
 * every thread (a signal thread takes them), and a blocked mask is
 * inherited across exec: qemu-storage-daemon would ignore the SIGTERM
 * that stops it, and be killed after a wait, leaving its FUSE mount. */
static void
vsOfflineChildSetup(gpointer opaque G_GNUC_UNUSED)
{
    sigset_t none;

    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
}

static gboolean
vsOfflineRun(const char *const *argv, const char *image, const char *step, GError **error)
{
    g_autofree char *out = NULL;
    g_autofree char *err = NULL;
    g_autoptr(GError) local = NULL;
    int status = 0;

    if (!g_spawn_sync(NULL, (char **)argv, NULL,
                      G_SPAWN_SEARCH_PATH | G_SPAWN_STDIN_FROM_DEV_NULL, vsOfflineChildSetup,
                      NULL, &out, &err, &status, &local)) {
        g_set_error(error, VS_ERROR, VS_ERROR_IO, "cannot %s '%s': %s", step, image,
                    local->message);
        return FALSE;
    }
    if (!g_spawn_check_wait_status(status, &local)) {
        g_strstrip(err);
        g_set_error(error, VS_ERROR, VS_ERROR_IO, "cannot %s '%s': %s", step, image,
                    *err ? err : local->message);
        return FALSE;
    }
    return TRUE;
}

/* QEMU's option syntax doubles a comma inside a value. */
static char *
vsOfflineQemuEscape(const char *value)
{
    g_auto(GStrv) parts = g_strsplit(value, ",", -1);

    return g_strjoinv(",,", parts);
}

/* /proc/mounts escapes space, tab, newline and backslash as \ooo. */
static char *
vsOfflineUnescapeMount(const char *field)
{
    GString *out = g_string_new(NULL);

    for (const char *p = field; *p; p++) {
        if (p[0] == '\\' && p[1] >= '0' && p[1] <= '3' && p[2] >= '0' && p[2] <= '7' &&
            p[3] >= '0' && p[3] <= '7') {
            g_string_append_c(out, (char)((p[1] - '0') * 64 + (p[2] - '0') * 8 + (p[3] - '0')));
            p += 3;
        } else {
            g_string_append_c(out, *p);
        }
    }
    return g_string_free(out, FALSE);
}

static gboolean
vsOfflineIsMounted(const char *path)
{
    g_autofree char *text = NULL;
    g_auto(GStrv) lines = NULL;

    if (!g_file_get_contents("/proc/self/mounts", &text, NULL, NULL))
        return FALSE;
    lines = g_strsplit(text, "\n", -1);
    for (gsize i = 0; lines[i]; i++) {
        g_auto(GStrv) fields = g_strsplit(lines[i], " ", 3);
        g_autofree char *target = NULL;

        if (g_strv_length(fields) < 2)
            continue;
        target = vsOfflineUnescapeMount(fields[1]);
        if (strcmp(target, path) == 0)
            return TRUE;
    }
    return FALSE;
}

/* Unmount @path; a lazy unmount when it is busy, so no mount outlives us. */
static gboolean
vsOfflineUnmount(const char *path, const char *image, const char *step, GError **error)
{
    const char *argv[] = { "umount", path, NULL };
    const char *lazy[] = { "umount", "-l", path, NULL };
    g_autoptr(GError) first = NULL;

    if (!vsOfflineIsMounted(path))
        return TRUE;
    if (vsOfflineRun(argv, image, step, &first) || !vsOfflineIsMounted(path))
        return TRUE;
    if (vsOfflineRun(lazy, image, step, NULL) && !vsOfflineIsMounted(path))
        return TRUE;
    g_propagate_error(error, g_steal_pointer(&first));
    return FALSE;
}

/* --- one image, exported and mounted ------------------------------------- */

typedef struct _vsOfflineImage vsOfflineImage;
struct _vsOfflineImage {
    char *image;        /* the image file, for messages */
    char *export_path;  /* the FUSE export: a raw view of the whole chain */
    char *mount_dir;
    char *pid_file;
    pid_t pid;          /* qemu-storage-daemon, 0 when not running */
    /* the file system mounted: the whole disk, or partition @partition */
    guint partition;    /* 1-based; 0: the whole disk */
    guint64 fs_offset;  /* bytes */
    guint64 fs_size;    /* bytes; 0: the whole disk */
    char *where;        /* "" or " (partition N)", for messages */
};

/* Gone, or a zombie waiting for init (the daemon is not our child). */
static gboolean
vsOfflineProcessGone(pid_t pid)
{
    g_autofree char *stat_path = g_strdup_printf("/proc/%d/stat", (int)pid);
    g_autofree char *text = NULL;
    const char *paren;

    if (!g_file_get_contents(stat_path, &text, NULL, NULL))
        return TRUE;
    paren = strrchr(text, ')');
    return !paren || paren[1] != ' ' || paren[2] == 'Z' || paren[2] == 'X';
}

static gboolean
vsOfflineWaitGone(pid_t pid, guint timeout_ms)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;

    while (!vsOfflineProcessGone(pid)) {
        if (g_get_monotonic_time() > deadline)
            return FALSE;
        g_usleep(10 * 1000);
    }
    return TRUE;
}

/* Undo whatever of @img was done, in reverse order; the first failure is
 * reported but every step is still tried. */
static gboolean
vsOfflineImageRelease(vsOfflineImage *img, GError **error)
{
    g_autoptr(GError) first = NULL;
    GError **err = &first;

    if (img->mount_dir) {
        if (!vsOfflineUnmount(img->mount_dir, img->image, "unmount", err))
            err = NULL;
        if (g_rmdir(img->mount_dir) < 0 && errno != ENOENT && err) {
            g_set_error(err, VS_ERROR, VS_ERROR_IO, "cannot remove '%s': %s", img->mount_dir,
                        g_strerror(errno));
            err = NULL;
        }
    }
    if (img->pid > 0) {
        kill(img->pid, SIGTERM);
        if (!vsOfflineWaitGone(img->pid, 5000)) {
            kill(img->pid, SIGKILL);
            if (!vsOfflineWaitGone(img->pid, 2000) && err) {
                g_set_error(err, VS_ERROR, VS_ERROR_IO,
                            "qemu-storage-daemon %d exporting '%s' did not exit", (int)img->pid,
                            img->image);
                err = NULL;
            }
        }
        img->pid = 0;
    }
    if (img->export_path) {
        /* a killed daemon leaves its FUSE mount behind */
        if (!vsOfflineUnmount(img->export_path, img->image, "unmount the export of", err))
            err = NULL;
        if (g_unlink(img->export_path) < 0 && errno != ENOENT && err) {
            g_set_error(err, VS_ERROR, VS_ERROR_IO, "cannot remove '%s': %s", img->export_path,
                        g_strerror(errno));
            err = NULL;
        }
    }
    if (img->pid_file)
        g_unlink(img->pid_file);
    if (first) {
        g_propagate_error(error, g_steal_pointer(&first));
        return FALSE;
    }
    return TRUE;
}

static void
vsOfflineImageFree(vsOfflineImage *img)
{
    if (!img)
        return;
    vsOfflineImageRelease(img, NULL);
    g_free(img->image);
    g_free(img->export_path);
    g_free(img->mount_dir);
    g_free(img->pid_file);
    g_free(img->where);
    g_free(img);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vsOfflineImage, vsOfflineImageFree)

static gboolean
vsOfflineReadPid(vsOfflineImage *img, GError **error)
{
    g_autofree char *text = NULL;
    g_autoptr(GError) local = NULL;
    guint64 pid;

    if (!g_file_get_contents(img->pid_file, &text, NULL, &local) ||
        !g_ascii_string_to_unsigned(g_strstrip(text), 10, 1, G_MAXINT32, &pid, NULL)) {
        g_set_error(error, VS_ERROR, VS_ERROR_IO,
                    "cannot read the qemu-storage-daemon pid file for '%s': %s", img->image,
                    local ? local->message : "not a pid");
        return FALSE;
    }
    img->pid = (pid_t)pid;
    return TRUE;
}

/* Export @img's whole chain read-only as a raw image at img->export_path. */
static gboolean
vsOfflineExport(vsOfflineImage *img, const char *format, GError **error)
{
    g_autofree char *file = NULL;
    g_autofree char *fmt = NULL;
    g_autofree char *export = NULL;
    g_autofree char *filename = vsOfflineQemuEscape(img->image);
    g_autofree char *mountpoint = vsOfflineQemuEscape(img->export_path);
    const char *argv[] = {
        "qemu-storage-daemon", "--blockdev", NULL, "--blockdev", NULL, "--export", NULL,
        "--pidfile", img->pid_file, "--daemonize", NULL,
    };

    if (!g_file_set_contents(img->export_path, "", 0, error))
        return FALSE;
    file = g_strdup_printf("driver=file,node-name=file0,filename=%s,read-only=on", filename);
    fmt = g_strdup_printf("driver=%s,node-name=fmt0,file=file0,read-only=on", format);
    export = g_strdup_printf("type=fuse,id=export0,node-name=fmt0,mountpoint=%s,writable=off",
                             mountpoint);
    argv[2] = file;
    argv[4] = fmt;
    argv[6] = export;
    if (!vsOfflineRun(argv, img->image, "export", error))
        return FALSE;
    return vsOfflineReadPid(img, error);
}

/* The ext2/3/4 superblock, 1024 bytes in: the fields read here. */
#define VS_OFFLINE_EXT_SB 1024
#define VS_OFFLINE_EXT_MAGIC (VS_OFFLINE_EXT_SB + 0x38)          /* le16 0xef53 */
#define VS_OFFLINE_EXT_STATE (VS_OFFLINE_EXT_SB + 0x3a)          /* le16, 1: clean */
#define VS_OFFLINE_EXT_COMPAT (VS_OFFLINE_EXT_SB + 0x5c)         /* le32, 4: journal */
#define VS_OFFLINE_EXT_INCOMPAT (VS_OFFLINE_EXT_SB + 0x60)       /* le32, 4: recover */
#define VS_OFFLINE_EXT_HEAD (VS_OFFLINE_EXT_SB + 0x64)
/* The start of a disk read for its partition table: a GPT's entries
 * follow its header, normally at sector 2; 1 MiB is where the first
 * partition usually starts. */
#define VS_OFFLINE_TABLE_MAX (1024 * 1024)

static guint32
vsOfflineLe(const guchar *p, gsize bytes)
{
    guint32 value = 0;

    for (gsize i = bytes; i-- > 0;)
        value = (value << 8) | p[i];
    return value;
}

/* --- partition tables ----------------------------------------------------- */

#define VS_OFFLINE_SECTOR 512
#define VS_OFFLINE_MBR_ENTRIES 446
#define VS_OFFLINE_MBR_PROTECTIVE 0xee
#define VS_OFFLINE_GPT_MAX_ENTRIES 1024

static guint64
vsOfflineLe64(const guchar *p)
{
    return ((guint64)vsOfflineLe(p + 4, 4) << 32) | vsOfflineLe(p, 4);
}

static gboolean
vsOfflineBadTable(GError **error, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static gboolean
vsOfflineBadTable(GError **error, const char *fmt, ...)
{
    va_list ap;
    g_autofree char *msg = NULL;

    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_set_error_literal(error, VS_ERROR, VS_ERROR_INVALID, msg);
    return FALSE;
}

/* Add partition @index at sectors [@first, @last] if it lies on the disk. */
static gboolean
vsOfflineAddPartition(GArray *parts, guint index, guint64 first, guint64 last,
                      guint64 disk_size, GError **error)
{
    vsOfflinePartition p = { index, 0, 0 };

    if (last < first || last >= G_MAXUINT64 / VS_OFFLINE_SECTOR ||
        (last + 1) * VS_OFFLINE_SECTOR > disk_size)
        return vsOfflineBadTable(error, "partition %u (sectors %" G_GUINT64_FORMAT "-%"
                                 G_GUINT64_FORMAT ") is not on the %" G_GUINT64_FORMAT
                                 "-byte disk", index, first, last, disk_size);
    p.offset = first * VS_OFFLINE_SECTOR;
    p.size = (last - first + 1) * VS_OFFLINE_SECTOR;
    g_array_append_val(parts, p);
    return TRUE;
}

static gboolean
vsOfflineParseGpt(const guchar *disk, gsize len, guint64 disk_size, GArray *parts,
                  GError **error)
{
    const guchar *hdr = disk + VS_OFFLINE_SECTOR;
    guint64 array_lba;
    guint32 count;
    guint32 entry_size;

    if (len < 2 * VS_OFFLINE_SECTOR || memcmp(hdr, "EFI PART", 8) != 0)
        return vsOfflineBadTable(error, "a protective MBR but no GPT header");
    array_lba = vsOfflineLe64(hdr + 72);
    count = vsOfflineLe(hdr + 80, 4);
    entry_size = vsOfflineLe(hdr + 84, 4);
    if (entry_size < 128 || entry_size > 4096 || count > VS_OFFLINE_GPT_MAX_ENTRIES ||
        array_lba < 2 || array_lba > len / VS_OFFLINE_SECTOR ||
        array_lba * VS_OFFLINE_SECTOR + (guint64)count * entry_size > len)
        return vsOfflineBadTable(error, "a GPT header with an unreadable partition array "
                                 "(%u entries of %u bytes at sector %" G_GUINT64_FORMAT ")",
                                 count, entry_size, array_lba);
    for (guint32 i = 0; i < count; i++) {
        const guchar *e = disk + array_lba * VS_OFFLINE_SECTOR + (gsize)i * entry_size;
        static const guchar unused[16] = { 0 };

        if (memcmp(e, unused, sizeof(unused)) == 0)
            continue;
        if (!vsOfflineAddPartition(parts, i + 1, vsOfflineLe64(e + 32), vsOfflineLe64(e + 40),
                                   disk_size, error))
            return FALSE;
    }
    return TRUE;
}

GArray *
vsOfflineParsePartitions(const guchar *disk, gsize len, guint64 disk_size, GError **error)
{
    g_autoptr(GArray) parts = g_array_new(FALSE, FALSE, sizeof(vsOfflinePartition));

    if (len < VS_OFFLINE_SECTOR || disk[510] != 0x55 || disk[511] != 0xaa) {
        vsOfflineBadTable(error, "no MBR signature");
        return NULL;
    }
    for (guint i = 0; i < 4; i++) {
        const guchar *e = disk + VS_OFFLINE_MBR_ENTRIES + i * 16;

        if (e[4] == VS_OFFLINE_MBR_PROTECTIVE) {
            g_array_set_size(parts, 0);
            if (!vsOfflineParseGpt(disk, len, disk_size, parts, error))
                return NULL;
            return g_steal_pointer(&parts);
        }
    }
    for (guint i = 0; i < 4; i++) {
        const guchar *e = disk + VS_OFFLINE_MBR_ENTRIES + i * 16;
        guint64 first = vsOfflineLe(e + 8, 4);
        guint64 count = vsOfflineLe(e + 12, 4);

        /* empty, or an extended partition: its logical ones are not read */
        if (e[4] == 0 || count == 0 || e[4] == 0x05 || e[4] == 0x0f || e[4] == 0x85)
            continue;
        if (!vsOfflineAddPartition(parts, i + 1, first, first + count - 1, disk_size, error))
            return NULL;
    }
    return g_steal_pointer(&parts);
}

/* What an ext superblock at some offset says. */
typedef enum {
    VS_OFFLINE_FS_NONE,         /* no ext2/3/4 file system */
    VS_OFFLINE_FS_CLEAN,
    VS_OFFLINE_FS_RECOVER,      /* its journal needs recovery */
    VS_OFFLINE_FS_DIRTY,        /* no journal, not marked clean */
} vsOfflineFsState;

static vsOfflineFsState
vsOfflineExtState(const guchar *head, gsize len)
{
    gboolean journal;

    if (len < VS_OFFLINE_EXT_HEAD || vsOfflineLe(head + VS_OFFLINE_EXT_MAGIC, 2) != 0xef53)
        return VS_OFFLINE_FS_NONE;
    journal = vsOfflineLe(head + VS_OFFLINE_EXT_COMPAT, 4) & 0x4;
    if (vsOfflineLe(head + VS_OFFLINE_EXT_INCOMPAT, 4) & 0x4)
        return VS_OFFLINE_FS_RECOVER;
    if (!journal && !(vsOfflineLe(head + VS_OFFLINE_EXT_STATE, 2) & 0x1))
        return VS_OFFLINE_FS_DIRTY;
    return VS_OFFLINE_FS_CLEAN;
}

/* One not cleanly unmounted (the shadow destroyed, not shut down) is
 * refused: "noload" skips its journal, so changes would be missed. */
static gboolean
vsOfflineCheckClean(vsOfflineImage *img, vsOfflineFsState state, GError **error)
{
    if (state != VS_OFFLINE_FS_RECOVER && state != VS_OFFLINE_FS_DIRTY)
        return TRUE;
    g_set_error(error, VS_ERROR, VS_ERROR_UNSUPPORTED,
                "the file system in '%s'%s was not cleanly unmounted (%s): its last "
                "changes cannot be read offline", img->image, img->where,
                state == VS_OFFLINE_FS_RECOVER ? "its journal needs recovery"
                                               : "it is marked dirty");
    return FALSE;
}

/* Read up to @len bytes at @offset of @img's export into @buf. */
static gboolean
vsOfflineReadAt(vsOfflineImage *img, int fd, guint64 offset, guchar *buf, gsize len,
                gsize *ret_got, GError **error)
{
    gsize got = 0;

    while (got < len) {
        ssize_t n = pread(fd, buf + got, len - got, (off_t)(offset + got));

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            g_set_error(error, VS_ERROR, VS_ERROR_IO, "cannot read the export of '%s': %s",
                        img->image, g_strerror(errno));
            return FALSE;
        }
        if (n == 0)
            break;
        got += (gsize)n;
    }
    *ret_got = got;
    return TRUE;
}

/* Mount the file system at img->fs_offset (img->fs_size bytes; 0: the
 * whole disk) read-only, its journal not replayed. */
static gboolean
vsOfflineMount(vsOfflineImage *img, GError **error)
{
    g_autofree char *options = img->fs_size
        ? g_strdup_printf("ro,loop,noload,offset=%" G_GUINT64_FORMAT ",sizelimit=%" G_GUINT64_FORMAT,
                          img->fs_offset, img->fs_size)
        : g_strdup("ro,loop,noload");
    /* "cannot mount partition 1 of 'IMAGE': ..." */
    g_autofree char *step = img->partition
        ? g_strdup_printf("mount partition %u of", img->partition)
        : g_strdup("mount");
    const char *argv[] = {
        "mount", "-t", "ext4", "-o", options, img->export_path, img->mount_dir, NULL,
    };

    if (g_mkdir(img->mount_dir, 0700) < 0 && errno != EEXIST) {
        g_set_error(error, VS_ERROR, VS_ERROR_IO, "cannot create '%s': %s", img->mount_dir,
                    g_strerror(errno));
        return FALSE;
    }
    return vsOfflineRun(argv, img->image, step, error);
}

/* Whether the mounted file system looks like a root one. */
static gboolean
vsOfflineIsRoot(vsOfflineImage *img)
{
    static const char *const marks[] = { "etc/fstab", "etc/os-release" };

    for (gsize i = 0; i < G_N_ELEMENTS(marks); i++) {
        g_autofree char *path = g_build_filename(img->mount_dir, marks[i], NULL);
        GStatBuf st;

        /* os-release is often a symlink into /usr: its presence is enough */
        if (g_lstat(path, &st) == 0)
            return TRUE;
    }
    return FALSE;
}

static int
vsOfflineCompareSizeDesc(gconstpointer a, gconstpointer b)
{
    const vsOfflinePartition *pa = a;
    const vsOfflinePartition *pb = b;

    if (pa->size != pb->size)
        return pa->size > pb->size ? -1 : 1;
    return pa->index < pb->index ? -1 : pa->index > pb->index;
}

/* Mount the root file system among the partitions of @img (read from
 * @disk, its first @len bytes, @disk_size in all): the largest ext2/3/4
 * partition holding /etc/fstab or /etc/os-release.  Each candidate is
 * mounted to look; the others are unmounted again.  When none is the
 * root, the first that did not mount is the error, if any. */
static gboolean
vsOfflineMountRootPartition(vsOfflineImage *img, int fd, const guchar *disk, gsize len,
                            guint64 disk_size, GError **error)
{
    g_autoptr(GArray) parts = NULL;
    g_autoptr(GError) local = NULL;
    g_autoptr(GError) first = NULL;     /* the first partition that did not mount */
    guint ext = 0;

    if (!(parts = vsOfflineParsePartitions(disk, len, disk_size, &local))) {
        g_set_error(error, VS_ERROR, VS_ERROR_UNSUPPORTED, "cannot read the partitions of '%s': %s",
                    img->image, local->message);
        return FALSE;
    }
    g_array_sort(parts, vsOfflineCompareSizeDesc);
    for (guint i = 0; i < parts->len; i++) {
        const vsOfflinePartition *p = &g_array_index(parts, vsOfflinePartition, i);
        guchar head[VS_OFFLINE_EXT_HEAD];
        vsOfflineFsState state;
        gsize got = 0;

        if (!vsOfflineReadAt(img, fd, p->offset, head, sizeof(head), &got, error))
            return FALSE;
        if ((state = vsOfflineExtState(head, got)) == VS_OFFLINE_FS_NONE)
            continue;
        ext++;
        img->partition = p->index;
        img->fs_offset = p->offset;
        img->fs_size = p->size;
        g_free(img->where);
        img->where = g_strdup_printf(" (partition %u)", p->index);
        /* one that does not mount (a damaged /boot) must not hide the root */
        if (!vsOfflineMount(img, first ? NULL : &first))
            continue;
        if (vsOfflineIsRoot(img))
            return vsOfflineCheckClean(img, state, error);
        if (!vsOfflineUnmount(img->mount_dir, img->image, "unmount", error))
            return FALSE;
    }
    if (first)
        g_propagate_error(error, g_steal_pointer(&first));
    else if (!ext)
        g_set_error(error, VS_ERROR, VS_ERROR_UNSUPPORTED,
                    "'%s' holds a partition table with no ext2/3/4 partition: only those are "
                    "compared offline", img->image);
    else
        g_set_error(error, VS_ERROR, VS_ERROR_UNSUPPORTED,
                    "'%s' holds no ext2/3/4 partition with /etc/fstab or /etc/os-release: "
                    "no root file system to compare offline", img->image);
    return FALSE;
}

/* Mount @img's root file system: the whole disk when it is ext2/3/4, else
 * the root partition of its MBR or GPT; say why when there is none. */
static gboolean
vsOfflineMountRoot(vsOfflineImage *img, GError **error)
{
    g_autofree guchar *disk = g_malloc0(VS_OFFLINE_TABLE_MAX);
    vsOfflineFsState state;
    GStatBuf st;
    gsize got = 0;
    gboolean ok;
    int fd;

    if ((fd = open(img->export_path, O_RDONLY | O_CLOEXEC)) < 0 || fstat(fd, &st) < 0) {
        int saved = errno;

        if (fd >= 0)
            close(fd);
        g_set_error(error, VS_ERROR, VS_ERROR_IO, "cannot read the export of '%s': %s",
                    img->image, g_strerror(saved));
        return FALSE;
    }
    if (!vsOfflineReadAt(img, fd, 0, disk, VS_OFFLINE_TABLE_MAX, &got, error)) {
        close(fd);
        return FALSE;
    }
    if ((state = vsOfflineExtState(disk, got)) != VS_OFFLINE_FS_NONE) {
        close(fd);
        return vsOfflineCheckClean(img, state, error) && vsOfflineMount(img, error);
    }
    if (got < 512 || disk[510] != 0x55 || disk[511] != 0xaa) {
        close(fd);
        g_set_error(error, VS_ERROR, VS_ERROR_UNSUPPORTED,
                    "'%s' holds no ext2/3/4 file system: only those are compared offline",
                    img->image);
        return FALSE;
    }
    ok = vsOfflineMountRootPartition(img, fd, disk, got, (guint64)st.st_size, error);
    close(fd);
    return ok;
}

/* The manifest of @image's file system, everything undone after. */
/* @name's files in @tmpdir: NAME.raw (the export), NAME.mnt, NAME.pid. */
static vsOfflineImage *
vsOfflineImageNew(const char *tmpdir, const char *name, const char *image)
{
    vsOfflineImage *img = g_new0(vsOfflineImage, 1);
    g_autofree char *export_name = g_strconcat(name, ".raw", NULL);
    g_autofree char *mount_name = g_strconcat(name, ".mnt", NULL);
    g_autofree char *pid_name = g_strconcat(name, ".pid", NULL);

    img->image = g_strdup(image);
    img->where = g_strdup("");
    img->export_path = g_build_filename(tmpdir, export_name, NULL);
    img->mount_dir = g_build_filename(tmpdir, mount_name, NULL);
    img->pid_file = g_build_filename(tmpdir, pid_name, NULL);
    return img;
}

static vsManifest *
vsOfflineImageManifest(const char *tmpdir, const char *name, const char *image,
                       const char *format, GError **error)
{
    g_autoptr(vsOfflineImage) img = vsOfflineImageNew(tmpdir, name, image);
    g_autoptr(vsManifest) manifest = NULL;

    if (!vsOfflineExport(img, format, error) || !vsOfflineMountRoot(img, error))
        return NULL;
    if (!(manifest = vsOfflineWalk(img->mount_dir, error))) {
        g_prefix_error(error, "cannot walk the file system of '%s': ", image);
        return NULL;
    }
    if (!vsOfflineImageRelease(img, error))
        return NULL;
    return g_steal_pointer(&manifest);
}

/* --- the comparison ------------------------------------------------------- */

static gboolean
vsOfflineCheckHost(GError **error)
{
    static const char *const tools[] = { "qemu-storage-daemon", "mount", "umount" };

    if (geteuid() != 0) {
        g_set_error(error, VS_ERROR, VS_ERROR_UNSUPPORTED,
                    "offline comparison needs root (loop mounts)");
        return FALSE;
    }
    for (gsize i = 0; i < G_N_ELEMENTS(tools); i++) {
        g_autofree char *path = g_find_program_in_path(tools[i]);

        if (!path) {
            g_set_error(error, VS_ERROR, VS_ERROR_UNSUPPORTED,
                        "offline comparison needs '%s', not found in PATH", tools[i]);
            return FALSE;
        }
    }
    if (!g_file_test("/dev/fuse", G_FILE_TEST_EXISTS)) {
        g_set_error(error, VS_ERROR, VS_ERROR_UNSUPPORTED,
                    "offline comparison needs '/dev/fuse' for qemu-storage-daemon's export");
        return FALSE;
    }
    return TRUE;
}

static gboolean
vsOfflineCheckImage(const char *path, const char *what, GError **error)
{
    if (!g_file_test(path, G_FILE_TEST_IS_REGULAR)) {
        g_set_error(error, VS_ERROR, VS_ERROR_NOT_FOUND, "%s image '%s' does not exist", what,
                    path);
        return FALSE;
    }
    return TRUE;
}

/* A format name goes into QEMU's option string: no commas, no tricks. */
static gboolean
vsOfflineCheckFormat(const char *format, GError **error)
{
    if (!format || !*format || strspn(format, "abcdefghijklmnopqrstuvwxyz0123456789-_") !=
                                   strlen(format)) {
        g_set_error(error, VS_ERROR, VS_ERROR_INVALID, "invalid image format '%s'",
                    format ? format : "");
        return FALSE;
    }
    return TRUE;
}

static void
vsOfflineRemoveTmpdir(char *tmpdir)
{
    if (!tmpdir)
        return;
    /* only empty: never delete through a mount left behind */
    g_rmdir(tmpdir);
    g_free(tmpdir);
}

gboolean
vsOfflineCompare(const char *base_path, const char *base_format, const char *overlay_path,
                 GPtrArray *events, GError **error)
{
    g_autoptr(vsManifest) before = NULL;
    g_autoptr(vsManifest) after = NULL;
    g_autofree char *base = NULL;
    g_autofree char *overlay = NULL;
    g_autofree char *tmpl = NULL;
    g_autofree char *made = NULL;
    char *tmpdir = NULL;
    gboolean ok;

    if (!vsOfflineCheckFormat(base_format, error) ||
        !vsOfflineCheckImage(base_path, "base", error) ||
        !vsOfflineCheckImage(overlay_path, "overlay", error) || !vsOfflineCheckHost(error))
        return FALSE;
    /* absolute: QEMU would take a value starting with '{' for JSON */
    base = g_canonicalize_filename(base_path, NULL);
    overlay = g_canonicalize_filename(overlay_path, NULL);
    /* the owner's pid in the name lets vsOfflineCleanStale() tell leftovers */
    tmpl = g_strdup_printf(VS_OFFLINE_TMP_PREFIX "%d-XXXXXX", (int)getpid());
    if (!(made = g_dir_make_tmp(tmpl, error)))
        return FALSE;
    /* /proc/mounts shows the real path */
    if (!(tmpdir = realpath(made, NULL)))
        tmpdir = g_strdup(made);

    ok = (before = vsOfflineImageManifest(tmpdir, vsOfflineImageNames[0], base, base_format,
                                          error)) &&
         (after = vsOfflineImageManifest(tmpdir, vsOfflineImageNames[1], overlay, "qcow2",
                                         error));
    vsOfflineRemoveTmpdir(tmpdir);
    if (!ok)
        return FALSE;
    vsManifestDiff(before, after, events);
    return TRUE;
}

/* --- leftovers of a killed comparison ------------------------------------ */

/* The pid of the owner of a comparison's directory @name, 0 if it is none. */
static pid_t
vsOfflineStaleOwner(const char *name)
{
    g_autofree char *digits = NULL;
    guint64 pid;

    if (!g_str_has_prefix(name, VS_OFFLINE_TMP_PREFIX))
        return 0;
    name += strlen(VS_OFFLINE_TMP_PREFIX);
    digits = g_strndup(name, strspn(name, "0123456789"));
    if (name[strlen(digits)] != '-' ||
        !g_ascii_string_to_unsigned(digits, 10, 1, G_MAXINT32, &pid, NULL))
        return 0;
    return (pid_t)pid;
}

/* The daemon named in @img's pid file, if that process still serves
 * @img's export (not some later process that got its pid). */
static void
vsOfflineStaleDaemon(vsOfflineImage *img)
{
    g_autofree char *text = NULL;
    g_autofree char *cmdline_path = NULL;
    g_autofree char *cmdline = NULL;
    gsize len = 0;
    guint64 pid;

    if (!g_file_get_contents(img->pid_file, &text, NULL, NULL) ||
        !g_ascii_string_to_unsigned(g_strstrip(text), 10, 1, G_MAXINT32, &pid, NULL))
        return;
    cmdline_path = g_strdup_printf("/proc/%d/cmdline", (int)pid);
    if (!g_file_get_contents(cmdline_path, &cmdline, &len, NULL))
        return;
    for (gsize i = 0; i + 1 < len; i++)
        if (!cmdline[i])
            cmdline[i] = ' ';
    if (strstr(cmdline, img->export_path))
        img->pid = (pid_t)pid;
}

static gboolean
vsOfflineCleanDir(const char *tmpdir, GError **error)
{
    for (gsize i = 0; vsOfflineImageNames[i]; i++) {
        g_autoptr(vsOfflineImage) img = vsOfflineImageNew(tmpdir, vsOfflineImageNames[i], tmpdir);

        vsOfflineStaleDaemon(img);
        if (!vsOfflineImageRelease(img, error))
            return FALSE;
    }
    if (g_rmdir(tmpdir) < 0) {
        g_set_error(error, VS_ERROR, VS_ERROR_IO, "cannot remove '%s': %s", tmpdir,
                    g_strerror(errno));
        return FALSE;
    }
    return TRUE;
}

gboolean
vsOfflineCleanStale(guint *ret_cleaned, GError **error)
{
    g_autofree char *tmp = realpath(g_get_tmp_dir(), NULL);
    g_autoptr(GDir) dir = NULL;
    g_autoptr(GError) local = NULL;
    const char *name;
    guint cleaned = 0;

    if (!tmp)
        tmp = g_strdup(g_get_tmp_dir());
    if (!(dir = g_dir_open(tmp, 0, &local))) {
        g_set_error(error, VS_ERROR, VS_ERROR_IO, "cannot read '%s': %s", tmp, local->message);
        return FALSE;
    }
    while ((name = g_dir_read_name(dir))) {
        pid_t owner = vsOfflineStaleOwner(name);
        g_autofree char *path = NULL;

        if (!owner || owner == getpid() || !vsOfflineProcessGone(owner))
            continue;
        path = g_build_filename(tmp, name, NULL);
        if (!vsOfflineCleanDir(path, error))
            return FALSE;
        cleaned++;
    }
    if (ret_cleaned)
        *ret_cleaned = cleaned;
    return TRUE;
}

/* --- disagreements -------------------------------------------------------- */

/* The net file event of a path so far; VS_EVENT_LAST: none. */
static vsEventType
vsOfflineFold(vsEventType net, vsEventType next)
{
    switch (net) {
    case VS_EVENT_FILE_CREATED:
        if (next == VS_EVENT_FILE_DELETED)
            return VS_EVENT_LAST;
        return VS_EVENT_FILE_CREATED;
    case VS_EVENT_FILE_MODIFIED:
        return next == VS_EVENT_FILE_DELETED ? VS_EVENT_FILE_DELETED : VS_EVENT_FILE_MODIFIED;
    case VS_EVENT_FILE_DELETED:
        /* there before and there after: changed, as far as the end state goes */
        return next == VS_EVENT_FILE_DELETED ? VS_EVENT_FILE_DELETED : VS_EVENT_FILE_MODIFIED;
    default:
        return next;
    }
}

static gboolean
vsOfflineIgnored(const char *path, const char *const *ignore_prefixes)
{
    const char *const *lists[] = { vsManifestExcluded, ignore_prefixes };

    for (gsize l = 0; l < G_N_ELEMENTS(lists); l++) {
        for (gsize i = 0; lists[l] && lists[l][i]; i++) {
            const char *prefix = lists[l][i];
            gsize len = strlen(prefix);

            if (len && strncmp(path, prefix, len) == 0 &&
                (path[len] == '\0' || path[len] == '/' || prefix[len - 1] == '/'))
                return TRUE;
        }
    }
    return FALSE;
}

/* path -> net file event (GINT_TO_POINTER), over @events in order. */
static GHashTable *
vsOfflineNetEvents(GPtrArray *events, const char *const *ignore_prefixes)
{
    GHashTable *net = g_hash_table_new(g_str_hash, g_str_equal);

    for (guint i = 0; events && i < events->len; i++) {
        const vsEvent *e = g_ptr_array_index(events, i);
        gpointer old;

        /* service events mirror the file event of their path; packages are
         * not seen offline */
        if (e->type != VS_EVENT_FILE_CREATED && e->type != VS_EVENT_FILE_MODIFIED &&
            e->type != VS_EVENT_FILE_DELETED)
            continue;
        if (!e->path || vsOfflineIgnored(e->path, ignore_prefixes))
            continue;
        if (!g_hash_table_lookup_extended(net, e->path, NULL, &old))
            old = GINT_TO_POINTER(VS_EVENT_LAST);
        g_hash_table_insert(net, e->path,
                            GINT_TO_POINTER(vsOfflineFold(GPOINTER_TO_INT(old), e->type)));
    }
    return net;
}

static const char *
vsOfflineNetName(GHashTable *net, const char *path)
{
    gpointer type;

    if (!g_hash_table_lookup_extended(net, path, NULL, &type) ||
        GPOINTER_TO_INT(type) == VS_EVENT_LAST)
        return "none";
    return vsEventTypeToString(GPOINTER_TO_INT(type));
}

static int
vsOfflineComparePaths(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

GPtrArray *
vsOfflineDisagreements(GPtrArray *offline, GPtrArray *guest, const char *const *ignore_prefixes)
{
    g_autoptr(GHashTable) off = vsOfflineNetEvents(offline, ignore_prefixes);
    g_autoptr(GHashTable) in = vsOfflineNetEvents(guest, ignore_prefixes);
    g_autoptr(GPtrArray) paths = g_ptr_array_new();
    GPtrArray *lines = g_ptr_array_new_with_free_func(g_free);
    GHashTableIter iter;
    gpointer key;

    g_hash_table_iter_init(&iter, off);
    while (g_hash_table_iter_next(&iter, &key, NULL))
        g_ptr_array_add(paths, key);
    g_hash_table_iter_init(&iter, in);
    while (g_hash_table_iter_next(&iter, &key, NULL))
        if (!g_hash_table_contains(off, key))
            g_ptr_array_add(paths, key);
    g_ptr_array_sort(paths, vsOfflineComparePaths);

    for (guint i = 0; i < paths->len; i++) {
        const char *path = g_ptr_array_index(paths, i);
        const char *a = vsOfflineNetName(off, path);
        const char *b = vsOfflineNetName(in, path);

        if (strcmp(a, b) != 0)
            g_ptr_array_add(lines, g_strdup_printf("%s: offline %s, guest %s", path, a, b));
    }
    return lines;
}
