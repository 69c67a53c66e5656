/*
 * vsofflinetest.c: the offline walk against the guest-side manifest
 * command (GNU tools and busybox, each run in a chroot of the same tree),
 * the offline comparison on real images through qemu-storage-daemon FUSE
 * exports and loop mounts (root), with nothing left behind, the tiny
 * guest's disk, and the folding of disagreements
 */
#include <config.h>

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "shadow/vsoffline.h"
#include "util/vserror.h"
#include "vstestutils.h"

/* A TMPDIR of the test's own, so leftovers of vsOfflineCompare are ours. */
static char *vsTestTmp;

#define VS_TEST_RUN(...) vsTestRun((const char *const[]){ __VA_ARGS__, NULL })

static void
vsTestWrite(const char *root, const char *path, const char *data, gssize len, int mode)
{
    g_autofree char *full = g_build_filename(root, path, NULL);
    g_autofree char *dir = g_path_get_dirname(full);
    g_autoptr(GError) error = NULL;

    ck_assert_int_eq(g_mkdir_with_parents(dir, 0755), 0);
    ck_assert_msg(g_file_set_contents(full, data, len, &error), "%s: %s", full,
                  error ? error->message : "");
    ck_assert_int_eq(chmod(full, (mode_t)mode), 0);
}

static void
vsTestMkdir(const char *root, const char *path, int mode)
{
    g_autofree char *full = g_build_filename(root, path, NULL);

    ck_assert_msg(g_mkdir_with_parents(full, 0755) == 0, "mkdir %s", full);
    ck_assert_int_eq(chmod(full, (mode_t)mode), 0);
}

static void
vsTestSymlink(const char *root, const char *path, const char *target)
{
    g_autofree char *full = g_build_filename(root, path, NULL);

    ck_assert_msg(symlink(target, full) == 0, "symlink %s: %s", full, g_strerror(errno));
}

/* Every kind of entry the manifest has a rule for. */
static void
vsTestFillTree(const char *root)
{
    g_autofree char *exact = g_malloc0(VS_MANIFEST_HASH_MAX + 1);
    g_autofree char *path = NULL;
    g_autofree char *hard = NULL;

    memset(exact, 'x', VS_MANIFEST_HASH_MAX + 1);
    vsTestWrite(root, "etc/hostname", "tree\n", -1, 0644);
    vsTestWrite(root, "etc/empty", "", 0, 0600);
    vsTestWrite(root, "etc/exact", exact, VS_MANIFEST_HASH_MAX, 0644);
    vsTestWrite(root, "etc/over", exact, VS_MANIFEST_HASH_MAX + 1, 0644);
    vsTestWrite(root, "usr/sbin/suid", "#!/bin/sh\n", -1, 04755);
    vsTestMkdir(root, "srv/sticky", 01777);
    vsTestMkdir(root, "srv/private", 0700);
    vsTestSymlink(root, "srv/link", "../etc/hostname");
    vsTestSymlink(root, "srv/dangling", "/nonexistent");
    vsTestSymlink(root, "srv/dirlink", "/etc");
    path = g_build_filename(root, "srv/fifo", NULL);
    ck_assert_int_eq(mkfifo(path, 0640), 0);
    g_free(path);
    path = g_build_filename(root, "srv/null", NULL);
    ck_assert_int_eq(mknod(path, S_IFCHR | 0666, makedev(1, 3)), 0);
    g_free(path);
    path = g_build_filename(root, "etc/hostname", NULL);
    hard = g_build_filename(root, "srv/hard", NULL);
    ck_assert_int_eq(link(path, hard), 0);
    vsTestWrite(root, "srv/with space", "a b\n", -1, 0644);
    vsTestWrite(root, "srv/back\\slash", "bs\n", -1, 0644);
    vsTestWrite(root, "srv/\xc3\xbcn\xc3\xaf" "code", "u\n", -1, 0644);
    vsTestWrite(root, "srv/latin1-\xe9", "l\n", -1, 0644);
    /* skipped with what is under them */
    vsTestWrite(root, "srv/tab\tname", "t\n", -1, 0644);
    vsTestWrite(root, "srv/nl\ndir/inner", "n\n", -1, 0644);
    /* pruned at the top only */
    for (gsize i = 0; vsManifestExcluded[i]; i++) {
        g_autofree char *inside = g_strconcat(vsManifestExcluded[i] + 1, "/x", NULL);
        g_autofree char *nested = g_strconcat("srv", vsManifestExcluded[i], "/x", NULL);

        vsTestWrite(root, inside, "pruned\n", -1, 0644);
        vsTestWrite(root, nested, "kept\n", -1, 0644);
    }
    vsTestWrite(root, "var/tmp/x", "kept\n", -1, 0644);
    vsTestWrite(root, "srv/sparse", "", 0, 0644);
    g_free(path);
    path = g_build_filename(root, "srv/sparse", NULL);
    ck_assert_int_eq(truncate(path, 1 << 20), 0);
}

/* Copy @tool (and, with @libs, the shared libraries it needs) into @root
 * at the same path. */
static void
vsTestCopyTool(const char *root, const char *tool, gboolean libs)
{
    g_autofree char *real = realpath(tool, NULL);
    g_autofree char *dest = g_build_filename(root, tool, NULL);
    g_autofree char *dir = g_path_get_dirname(dest);
    g_autofree char *ldd = NULL;
    g_auto(GStrv) lines = NULL;

    ck_assert_msg(real, "%s is missing", tool);
    ck_assert_int_eq(g_mkdir_with_parents(dir, 0755), 0);
    VS_TEST_RUN("cp", "-L", real, dest);
    if (!libs)
        return;
    ldd = vsTestRunOut((const char *const[]){ "ldd", real, NULL });
    lines = g_strsplit(ldd, "\n", -1);
    for (gsize i = 0; lines[i]; i++) {
        const char *lib = strchr(lines[i], '/');
        g_autofree char *path = NULL;
        g_autofree char *copy = NULL;
        g_autofree char *libdir = NULL;

        if (!lib)
            continue;
        path = g_strndup(lib, strcspn(lib, " \t("));
        copy = g_build_filename(root, path, NULL);
        if (g_file_test(copy, G_FILE_TEST_EXISTS))
            continue;
        libdir = g_path_get_dirname(copy);
        ck_assert_int_eq(g_mkdir_with_parents(libdir, 0755), 0);
        VS_TEST_RUN("cp", "-L", path, copy);
    }
}

/* Debian's merged /usr, so ldd's paths work in the chroot. */
static void
vsTestMergedUsr(const char *root)
{
    vsTestMkdir(root, "usr/bin", 0755);
    vsTestMkdir(root, "usr/lib", 0755);
    vsTestMkdir(root, "usr/lib64", 0755);
    vsTestSymlink(root, "bin", "usr/bin");
    vsTestSymlink(root, "lib", "usr/lib");
    vsTestSymlink(root, "lib64", "usr/lib64");
}

static void
vsTestAssertSameManifest(const vsManifest *guest, const vsManifest *walk)
{
    GHashTableIter iter;
    gpointer value;

    g_hash_table_iter_init(&iter, guest->entries);
    while (g_hash_table_iter_next(&iter, NULL, &value)) {
        const vsManifestEntry *g = value;

        ck_assert_msg(g_hash_table_contains(walk->entries, g->path),
                      "'%s' is in the guest command's manifest only", g->path);
    }
    g_hash_table_iter_init(&iter, walk->entries);
    while (g_hash_table_iter_next(&iter, NULL, &value)) {
        const vsManifestEntry *w = value;
        const vsManifestEntry *g = g_hash_table_lookup(guest->entries, w->path);

        ck_assert_msg(g, "'%s' is in the walk only", w->path);
        ck_assert_msg(g->type == w->type && g->mode == w->mode && g->size == w->size &&
                      g->mtime == w->mtime && g_strcmp0(g->sha256, w->sha256) == 0,
                      "'%s': guest %c %04o %" G_GUINT64_FORMAT " %" G_GINT64_FORMAT " %s, "
                      "walk %c %04o %" G_GUINT64_FORMAT " %" G_GINT64_FORMAT " %s",
                      w->path, g->type, g->mode, g->size, g->mtime, g->sha256, w->type,
                      w->mode, w->size, w->mtime, w->sha256);
    }
    ck_assert_uint_eq(g_hash_table_size(guest->entries), g_hash_table_size(walk->entries));
}

/* The guest command run with "/" as its root, exactly as in a guest, in a
 * chroot of @root holding its tools, against the walk of @root. */
static void
vsTestWalkMatchesCommand(const char *root)
{
    g_auto(GStrv) command = vsManifestCommand(NULL);
    g_autoptr(GStrvBuilder) argv = g_strv_builder_new();
    g_auto(GStrv) full = NULL;
    g_autofree char *out = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(vsManifest) guest = NULL;
    g_autoptr(vsManifest) walk = NULL;
    const vsManifestEntry *e;

    g_strv_builder_add_many(argv, "chroot", root, NULL);
    g_strv_builder_addv(argv, (const char **)command);
    full = g_strv_builder_end(argv);
    out = vsTestRunOut((const char *const *)full);
    guest = vsManifestParse(out, strlen(out), &error);
    ck_assert_msg(guest, "%s", error ? error->message : "");
    walk = vsOfflineWalk(root, &error);
    ck_assert_msg(walk, "%s", error ? error->message : "");
    vsTestAssertSameManifest(guest, walk);

    /* the rules themselves, not just agreement */
    ck_assert_ptr_nonnull(g_hash_table_lookup(walk->entries, "/"));
    ck_assert_ptr_nonnull((e = g_hash_table_lookup(walk->entries, "/etc/exact")));
    ck_assert_ptr_nonnull(e->sha256);
    ck_assert_ptr_null(((vsManifestEntry *)g_hash_table_lookup(walk->entries, "/etc/over"))->sha256);
    ck_assert_str_eq(((vsManifestEntry *)g_hash_table_lookup(walk->entries, "/etc/empty"))->sha256,
                     "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    ck_assert_uint_eq(((vsManifestEntry *)g_hash_table_lookup(walk->entries, "/usr/sbin/suid"))->mode,
                      04755);
    ck_assert_uint_eq(((vsManifestEntry *)g_hash_table_lookup(walk->entries, "/srv/sticky"))->mode,
                      01777);
    e = g_hash_table_lookup(walk->entries, "/srv/link");
    ck_assert_int_eq(e->type, VS_MANIFEST_LINK);
    ck_assert_uint_eq(e->size, strlen("../etc/hostname"));
    ck_assert_int_eq(((vsManifestEntry *)g_hash_table_lookup(walk->entries, "/srv/dirlink"))->type,
                     VS_MANIFEST_LINK);
    ck_assert_ptr_null(g_hash_table_lookup(walk->entries, "/srv/dirlink/hostname"));
    ck_assert_int_eq(((vsManifestEntry *)g_hash_table_lookup(walk->entries, "/srv/fifo"))->type,
                     VS_MANIFEST_OTHER);
    ck_assert_int_eq(((vsManifestEntry *)g_hash_table_lookup(walk->entries, "/srv/null"))->type,
                     VS_MANIFEST_OTHER);
    ck_assert_ptr_nonnull(g_hash_table_lookup(walk->entries, "/srv/back\\slash"));
    ck_assert_ptr_nonnull(g_hash_table_lookup(walk->entries, "/srv/latin1-\xe9"));
    ck_assert_ptr_null(g_hash_table_lookup(walk->entries, "/srv/tab\tname"));
    ck_assert_ptr_null(g_hash_table_lookup(walk->entries, "/srv/nl\ndir"));
    ck_assert_ptr_null(g_hash_table_lookup(walk->entries, "/srv/nl\ndir/inner"));
    for (gsize i = 0; vsManifestExcluded[i]; i++) {
        g_autofree char *nested = g_strconcat("/srv", vsManifestExcluded[i], "/x", NULL);

        ck_assert_msg(!g_hash_table_contains(walk->entries, vsManifestExcluded[i]),
                      "%s not pruned", vsManifestExcluded[i]);
        ck_assert_msg(g_hash_table_contains(walk->entries, nested), "%s pruned", nested);
    }
    ck_assert_ptr_nonnull(g_hash_table_lookup(walk->entries, "/var/tmp/x"));
}

/* GNU find, stat and sha256sum (and dash) as on a Debian guest. */
START_TEST(test_walk_gnu)
{
    g_autofree char *root = vsTestMakeTempDir("vs-walk-gnu-XXXXXX");
    static const char *const tools[] = { "/bin/sh", "/usr/bin/find", "/usr/bin/stat",
                                         "/usr/bin/sha256sum" };

    vsTestMergedUsr(root);
    for (gsize i = 0; i < G_N_ELEMENTS(tools); i++)
        vsTestCopyTool(root, tools[i], TRUE);
    vsTestFillTree(root);
    vsTestWalkMatchesCommand(root);
    vsTestRemoveTree(root);
}
END_TEST

/* busybox's applets, as in the tiny guest. */
START_TEST(test_walk_busybox)
{
    g_autofree char *root = vsTestMakeTempDir("vs-walk-busybox-XXXXXX");
    static const char *const applets[] = { "sh", "find", "stat", "sha256sum" };

    ck_assert_msg(g_file_test("/bin/busybox", G_FILE_TEST_IS_EXECUTABLE),
                  "/bin/busybox is missing (install busybox-static)");
    vsTestMergedUsr(root);
    vsTestCopyTool(root, "/bin/busybox", FALSE);
    for (gsize i = 0; i < G_N_ELEMENTS(applets); i++) {
        g_autofree char *path = g_strconcat("usr/bin/", applets[i], NULL);

        vsTestSymlink(root, path, "busybox");
    }
    vsTestFillTree(root);
    vsTestWalkMatchesCommand(root);
    vsTestRemoveTree(root);
}
END_TEST

/* A file system mounted inside the tree is listed, not entered: offline,
 * only the image's own file system is there. */
START_TEST(test_walk_one_fs)
{
    g_autofree char *root = vsTestMakeTempDir("vs-walk-fs-XXXXXX");
    g_autofree char *sub = g_build_filename(root, "sub", NULL);
    g_autoptr(vsManifest) walk = NULL;
    g_autoptr(GError) error = NULL;

    vsTestWrite(root, "etc/hostname", "x\n", -1, 0644);
    vsTestMkdir(root, "sub", 0755);
    VS_TEST_RUN("mount", "-t", "tmpfs", "-o", "size=1m", "vs-walk-fs", sub);
    vsTestWrite(root, "sub/inside", "x\n", -1, 0644);
    walk = vsOfflineWalk(root, &error);
    VS_TEST_RUN("umount", sub);
    ck_assert_msg(walk, "%s", error ? error->message : "");
    ck_assert_ptr_nonnull(g_hash_table_lookup(walk->entries, "/etc/hostname"));
    ck_assert_int_eq(((vsManifestEntry *)g_hash_table_lookup(walk->entries, "/sub"))->type,
                     VS_MANIFEST_DIR);
    ck_assert_ptr_null(g_hash_table_lookup(walk->entries, "/sub/inside"));
    vsTestRemoveTree(root);
}
END_TEST

START_TEST(test_walk_missing)
{
    g_autoptr(GError) error = NULL;

    ck_assert_ptr_null(vsOfflineWalk("/nonexistent/root", &error));
    ck_assert(g_error_matches(error, VS_ERROR, VS_ERROR_IO));
    ck_assert_str_eq(error->message, "cannot stat '/nonexistent/root': No such file or directory");
}
END_TEST

/* --- images ---------------------------------------------------------------- */

/* No mount, no qemu-storage-daemon and no temp dir of vsOfflineCompare
 * is left. */
static void
vsTestAssertNothingLeft(void)
{
    g_autofree char *prefix = g_build_filename(vsTestTmp, "vs-offline-", NULL);
    g_autofree char *mounts = NULL;
    g_autoptr(GDir) proc = NULL;
    g_autoptr(GDir) tmp = NULL;
    const char *name;

    ck_assert(g_file_get_contents("/proc/self/mounts", &mounts, NULL, NULL));
    ck_assert_msg(!strstr(mounts, vsTestTmp), "a mount is left: %s", mounts);
    proc = g_dir_open("/proc", 0, NULL);
    ck_assert_ptr_nonnull(proc);
    while ((name = g_dir_read_name(proc))) {
        g_autofree char *path = NULL;
        g_autofree char *cmdline = NULL;
        gsize len = 0;

        if (!g_ascii_isdigit(name[0]))
            continue;
        path = g_build_filename("/proc", name, "cmdline", NULL);
        if (!g_file_get_contents(path, &cmdline, &len, NULL))
            continue;
        for (gsize i = 0; i + 1 < len; i++)
            if (!cmdline[i])
                cmdline[i] = ' ';
        ck_assert_msg(!strstr(cmdline, prefix), "process %s is left: %s", name, cmdline);
    }
    tmp = g_dir_open(vsTestTmp, 0, NULL);
    while ((name = g_dir_read_name(tmp)))
        ck_assert_msg(!g_str_has_prefix(name, "vs-offline-"), "%s/%s is left", vsTestTmp, name);
}

static char *
vsTestSha256File(const char *path)
{
    g_autofree char *data = NULL;
    gsize len = 0;

    ck_assert(g_file_get_contents(path, &data, &len, NULL));
    return g_compute_checksum_for_data(G_CHECKSUM_SHA256, (const guchar *)data, len);
}

/* Set @pid_file's daemon going and wait until it is gone. */
static void
vsTestStopDaemon(const char *pid_file)
{
    g_autofree char *text = NULL;
    g_autofree char *stat_path = NULL;
    gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
    int pid;

    ck_assert(g_file_get_contents(pid_file, &text, NULL, NULL));
    pid = atoi(text);
    ck_assert_int_gt(pid, 0);
    ck_assert_int_eq(kill(pid, SIGTERM), 0);
    stat_path = g_strdup_printf("/proc/%d/stat", pid);
    for (;;) {
        g_autofree char *st = NULL;
        const char *paren;

        if (!g_file_get_contents(stat_path, &st, NULL, NULL) || !(paren = strrchr(st, ')')) ||
            paren[2] == 'Z')
            break;
        ck_assert_msg(g_get_monotonic_time() < deadline, "qemu-storage-daemon %d did not exit", pid);
        g_usleep(10000);
    }
}

typedef struct {
    char *dir;
    char *tree;
    char *base_raw;
    char *base_qcow2;
    char *overlay;
    char *rw_options;   /* the writable mount's options; NULL: "loop" */
} vsTestImages;

/* A tree with the places services live, at t->tree. */
static void
vsTestMakeTree(vsTestImages *t, const char *prefix)
{
    g_autofree char *motd = NULL;
    struct timeval old[2] = { { 1500000000, 0 }, { 1500000000, 0 } };

    t->dir = vsTestMakeTempDir(prefix);
    t->tree = g_build_filename(t->dir, "tree", NULL);
    t->base_raw = g_build_filename(t->dir, "base.raw", NULL);
    t->base_qcow2 = g_build_filename(t->dir, "base.qcow2", NULL);
    t->overlay = g_build_filename(t->dir, "overlay.qcow2", NULL);
    vsTestWrite(t->tree, "etc/motd", "hello\n", -1, 0644);
    /* an older mtime, so the rewrite in the overlay shows as one */
    motd = g_build_filename(t->tree, "etc/motd", NULL);
    ck_assert_int_eq(utimes(motd, old), 0);
    vsTestWrite(t->tree, "etc/old.conf", "old\n", -1, 0644);
    vsTestWrite(t->tree, "etc/hostname", "base\n", -1, 0644);
    vsTestMkdir(t->tree, "etc/init.d", 0755);
    vsTestMkdir(t->tree, "etc/cron.d", 0755);
    vsTestMkdir(t->tree, "opt", 0755);
    vsTestMkdir(t->tree, "tmp", 01777);
    vsTestWrite(t->tree, "usr/bin/x", "#!/bin/sh\n", -1, 0755);
    vsTestWrite(t->tree, "var/touched", "same\n", -1, 0644);
}

/* base.qcow2 from base.raw, and an empty overlay on it. */
static void
vsTestMakeQcow2(vsTestImages *t)
{
    VS_TEST_RUN("qemu-img", "convert", "-O", "qcow2", t->base_raw, t->base_qcow2);
    VS_TEST_RUN("qemu-img", "create", "-q", "-f", "qcow2", "-b", t->base_qcow2, "-F", "qcow2",
                t->overlay);
}

/* A small ext4 base (raw, and qcow2 from it) of the tree, and an empty
 * overlay on the qcow2. */
static void
vsTestMakeImagesFs(vsTestImages *t, const char *fs_type)
{
    vsTestMakeTree(t, "vs-images-XXXXXX");
    VS_TEST_RUN("mke2fs", "-q", "-F", "-t", fs_type, "-d", t->tree, t->base_raw, "24M");
    vsTestMakeQcow2(t);
}

/* Write a partition table (sfdisk's script @table, which sfdisk reads
 * from its stdin) on @disk. */
static void
vsTestPartition(const char *disk, const char *dir, const char *table)
{
    g_autofree char *script = g_build_filename(dir, "table.sfdisk", NULL);

    ck_assert(g_file_set_contents(script, table, -1, NULL));
    VS_TEST_RUN("/bin/sh", "-c", "exec sfdisk -q --no-reread --no-tell-kernel \"$1\" < \"$2\"",
                "sh", disk, script);
}

/* Partitions of the test disks, in MiB: 1 a 4 MiB ext4 /boot (no /etc),
 * 2 the 16 MiB ext4 root, 3 a larger 20 MiB ext2 data partition (no
 * /etc: only the root marks pick the root, not the size alone), 4 an
 * unformatted EFI one. */
#define VS_TEST_MIB (1024 * 1024)
#define VS_TEST_ROOT_OFFSET (5 * VS_TEST_MIB)
#define VS_TEST_ROOT_SIZE (16 * VS_TEST_MIB)

static const char *const vsTestLabels[] = { "dos", "gpt" };

static void
vsTestMakeFsAt(const char *disk, const char *fs_type, guint64 offset, const char *size,
               const char *tree)
{
    g_autofree char *ext = g_strdup_printf("offset=%" G_GUINT64_FORMAT, offset);

    if (tree)
        VS_TEST_RUN("mke2fs", "-q", "-F", "-t", fs_type, "-E", ext, "-d", tree, disk, size);
    else
        VS_TEST_RUN("mke2fs", "-q", "-F", "-t", fs_type, "-E", ext, disk, size);
}

static void
vsTestMakeImagesPartitioned(vsTestImages *t, const char *label)
{
    g_autofree char *table = g_strdup_printf("label: %s\n"
                                             "start=2048, size=8192, type=L\n"
                                             "start=10240, size=32768, type=L\n"
                                             "start=43008, size=40960, type=L\n"
                                             "start=83968, size=4096, type=U\n",
                                             label);
    g_autofree char *boot = NULL;

    vsTestMakeTree(t, "vs-parts-XXXXXX");
    vsTestWrite(t->tree, "etc/fstab", "/dev/vda2 / ext4 defaults 0 1\n", -1, 0644);
    boot = g_build_filename(t->dir, "boot", NULL);
    vsTestWrite(boot, "grub/grub.cfg", "set default=0\n", -1, 0644);
    VS_TEST_RUN("truncate", "-s", "48M", t->base_raw);
    vsTestPartition(t->base_raw, t->dir, table);
    vsTestMakeFsAt(t->base_raw, "ext4", 1 * VS_TEST_MIB, "4M", boot);
    vsTestMakeFsAt(t->base_raw, "ext4", VS_TEST_ROOT_OFFSET, "16M", t->tree);
    vsTestMakeFsAt(t->base_raw, "ext2", 21 * VS_TEST_MIB, "20M", NULL);
    vsTestMakeQcow2(t);
    t->rw_options = g_strdup_printf("loop,offset=%d,sizelimit=%d", VS_TEST_ROOT_OFFSET,
                                    VS_TEST_ROOT_SIZE);
}

static void
vsTestMakeImages(vsTestImages *t)
{
    vsTestMakeImagesFs(t, "ext4");
}

static void
vsTestFreeImages(vsTestImages *t)
{
    vsTestRemoveTree(t->dir);
    g_free(t->dir);
    g_free(t->tree);
    g_free(t->base_raw);
    g_free(t->base_qcow2);
    g_free(t->overlay);
    g_free(t->rw_options);
}

/* Serve @t's overlay read-write at @export, as a running shadow holds it. */
static void
vsTestExportRw(const vsTestImages *t, const char *export, const char *pid)
{
    g_autofree char *file = g_strdup_printf("driver=file,node-name=f,filename=%s", t->overlay);
    g_autofree char *exp = g_strdup_printf("type=fuse,id=e,node-name=q,mountpoint=%s,writable=on",
                                           export);

    ck_assert(g_file_set_contents(export, "", 0, NULL));
    VS_TEST_RUN("qemu-storage-daemon", "--blockdev", file, "--blockdev",
                "driver=qcow2,node-name=q,file=f", "--export", exp, "--pidfile", pid,
                "--daemonize");
}

/* What a shadow would do: change the overlay's file system, through a
 * writable export and a read-write loop mount. */
static void
vsTestChangeOverlay(const vsTestImages *t)
{
    g_autofree char *export = g_build_filename(t->dir, "rw.raw", NULL);
    g_autofree char *mnt = g_build_filename(t->dir, "rw.mnt", NULL);
    g_autofree char *pid = g_build_filename(t->dir, "rw.pid", NULL);
    g_autofree char *old = g_build_filename(mnt, "etc/old.conf", NULL);
    g_autofree char *x = g_build_filename(mnt, "usr/bin/x", NULL);
    g_autofree char *touched = g_build_filename(mnt, "var/touched", NULL);
    struct timeval times[2] = { { 1600000000, 0 }, { 1600000000, 0 } };

    ck_assert_int_eq(g_mkdir(mnt, 0700), 0);
    vsTestExportRw(t, export, pid);
    VS_TEST_RUN("mount", "-t", "ext4", "-o", t->rw_options ? t->rw_options : "loop", export, mnt);
    vsTestMkdir(mnt, "opt/app", 0755);
    vsTestWrite(mnt, "opt/app/tool", "tool\n", -1, 0755);
    vsTestWrite(mnt, "etc/motd", "hello again\n", -1, 0644);
    ck_assert_int_eq(g_unlink(old), 0);
    ck_assert_int_eq(chmod(x, 0700), 0);
    ck_assert_int_eq(utimes(touched, times), 0);
    vsTestWrite(mnt, "etc/init.d/x", "#!/bin/sh\n", -1, 0755);
    vsTestWrite(mnt, "etc/cron.d/x", "* * * * * root true\n", -1, 0644);
    vsTestWrite(mnt, "tmp/scratch", "pruned\n", -1, 0644);
    VS_TEST_RUN("umount", mnt);
    vsTestStopDaemon(pid);
    ck_assert_int_eq(g_rmdir(mnt), 0);
    ck_assert_int_eq(g_unlink(export), 0);
}

static void
vsTestAssertEvent(GPtrArray *events, guint i, vsEventType type, const char *path,
                  const char *detail)
{
    const vsEvent *e;

    ck_assert_msg(i < events->len, "event %u missing", i);
    e = g_ptr_array_index(events, i);
    ck_assert_msg(e->type == type && strcmp(e->path, path) == 0 && g_strcmp0(e->detail, detail) == 0,
                  "event %u: got %s %s '%s', expected %s %s '%s'", i,
                  vsEventTypeToString(e->type), e->path, e->detail,
                  vsEventTypeToString(type), path, detail);
}

static void vsTestAssertChanges(GPtrArray *events);

START_TEST(test_compare)
{
    vsTestImages t = { 0 };
    g_autoptr(GPtrArray) events = g_ptr_array_new_with_free_func((GDestroyNotify)vsEventFree);
    g_autoptr(GError) error = NULL;
    g_autofree char *sum_qcow2 = NULL;
    g_autofree char *sum_raw = NULL;
    g_autofree char *sum = NULL;

    vsTestMakeImages(&t);
    vsTestChangeOverlay(&t);
    sum_qcow2 = vsTestSha256File(t.base_qcow2);
    sum_raw = vsTestSha256File(t.base_raw);

    ck_assert_msg(vsOfflineCompare(t.base_qcow2, "qcow2", t.overlay, events, &error), "%s",
                  error ? error->message : "");
    vsTestAssertNothingLeft();
    vsTestAssertChanges(events);

    /* the base is only read */
    sum = vsTestSha256File(t.base_qcow2);
    ck_assert_str_eq(sum, sum_qcow2);
    g_free(sum);
    sum = vsTestSha256File(t.base_raw);
    ck_assert_str_eq(sum, sum_raw);
    vsTestFreeImages(&t);
}
END_TEST

/* Exactly what vsTestChangeOverlay() did. */
static void
vsTestAssertChanges(GPtrArray *events)
{
    vsTestAssertEvent(events, 0, VS_EVENT_FILE_CREATED, "/etc/cron.d/x", "f 0644 20");
    vsTestAssertEvent(events, 1, VS_EVENT_SERVICE_CREATED, "/etc/cron.d/x", "cron entry");
    vsTestAssertEvent(events, 2, VS_EVENT_FILE_CREATED, "/etc/init.d/x", "f 0755 10");
    vsTestAssertEvent(events, 3, VS_EVENT_SERVICE_CREATED, "/etc/init.d/x", "init script");
    vsTestAssertEvent(events, 4, VS_EVENT_FILE_MODIFIED, "/etc/motd", "size 6 -> 12, sha256, mtime");
    vsTestAssertEvent(events, 5, VS_EVENT_FILE_DELETED, "/etc/old.conf", "f");
    vsTestAssertEvent(events, 6, VS_EVENT_FILE_CREATED, "/opt/app", "d 0755 1024");
    vsTestAssertEvent(events, 7, VS_EVENT_FILE_CREATED, "/opt/app/tool", "f 0755 5");
    vsTestAssertEvent(events, 8, VS_EVENT_FILE_MODIFIED, "/usr/bin/x", "mode 0755 -> 0700");
    vsTestAssertEvent(events, 9, VS_EVENT_FILE_MODIFIED, "/var/touched", "mtime");
    ck_assert_uint_eq(events->len, 10);
}

/* A partitioned base (MBR, GPT) has its root partition compared: the
 * same events as a whole-disk one, the /boot and data partitions left
 * alone, the base only read. */
START_TEST(test_compare_partitions)
{
    vsTestImages t = { 0 };
    g_autoptr(GPtrArray) events = g_ptr_array_new_with_free_func((GDestroyNotify)vsEventFree);
    g_autoptr(GError) error = NULL;
    g_autofree char *sum_qcow2 = NULL;
    g_autofree char *sum = NULL;

    vsTestMakeImagesPartitioned(&t, vsTestLabels[_i]);
    vsTestChangeOverlay(&t);
    sum_qcow2 = vsTestSha256File(t.base_qcow2);
    ck_assert_msg(vsOfflineCompare(t.base_qcow2, "qcow2", t.overlay, events, &error), "%s: %s",
                  vsTestLabels[_i], error ? error->message : "");
    vsTestAssertNothingLeft();
    vsTestAssertChanges(events);
    sum = vsTestSha256File(t.base_qcow2);
    ck_assert_str_eq(sum, sum_qcow2);
    vsTestFreeImages(&t);
}
END_TEST

/* A larger ext partition that does not mount (its group descriptors
 * zeroed) does not hide the root partition. */
START_TEST(test_compare_partition_damaged)
{
    vsTestImages t = { 0 };
    g_autoptr(GPtrArray) events = g_ptr_array_new_with_free_func((GDestroyNotify)vsEventFree);
    g_autoptr(GError) error = NULL;
    g_autofree char *zeros = g_malloc0(2048);
    FILE *f;

    vsTestMakeImagesPartitioned(&t, "dos");
    /* partition 3 at 21 MiB: 1 KiB blocks, descriptors from block 2 */
    f = fopen(t.base_raw, "r+");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fseek(f, 21 * VS_TEST_MIB + 2048, SEEK_SET), 0);
    ck_assert_uint_eq(fwrite(zeros, 1, 2048, f), 2048);
    ck_assert_int_eq(fclose(f), 0);
    vsTestMakeQcow2(&t);
    vsTestChangeOverlay(&t);
    ck_assert_msg(vsOfflineCompare(t.base_qcow2, "qcow2", t.overlay, events, &error), "%s",
                  error ? error->message : "");
    vsTestAssertNothingLeft();
    vsTestAssertChanges(events);
    vsTestFreeImages(&t);
}
END_TEST

/* A dirty root partition is refused like a dirty whole disk, naming it. */
START_TEST(test_compare_partition_dirty)
{
    vsTestImages t = { 0 };
    g_autoptr(GPtrArray) events = g_ptr_array_new_with_free_func((GDestroyNotify)vsEventFree);
    g_autoptr(GError) error = NULL;
    g_autofree char *dirty = NULL;
    g_autofree char *dirty_at = NULL;
    g_autofree char *overlay = NULL;
    g_autofree char *expect = NULL;

    vsTestMakeImagesPartitioned(&t, "gpt");
    dirty = g_build_filename(t.dir, "dirty.raw", NULL);
    dirty_at = g_strdup_printf("%s?offset=%d", dirty, VS_TEST_ROOT_OFFSET);
    overlay = g_build_filename(t.dir, "dirty-overlay.qcow2", NULL);
    VS_TEST_RUN("cp", t.base_raw, dirty);
    VS_TEST_RUN("debugfs", "-w", "-R", "feature needs_recovery", dirty_at);
    VS_TEST_RUN("qemu-img", "create", "-q", "-f", "qcow2", "-b", dirty, "-F", "raw", overlay);
    ck_assert(!vsOfflineCompare(t.base_raw, "raw", overlay, events, &error));
    ck_assert(g_error_matches(error, VS_ERROR, VS_ERROR_UNSUPPORTED));
    expect = g_strdup_printf("the file system in '%s' (partition 2) was not cleanly unmounted "
                             "(its journal needs recovery): its last changes cannot be read "
                             "offline", overlay);
    ck_assert_str_eq(error->message, expect);
    ck_assert_uint_eq(events->len, 0);
    vsTestAssertNothingLeft();
    vsTestFreeImages(&t);
}
END_TEST

/* Partitions, but none holding a root file system: said, naming the disk. */
static const struct {
    const char *table;
    gboolean ext_boot;      /* partition 1 gets an ext4 file system without /etc */
    const char *expect;     /* after "'DISK' " */
} vsTestNoRoot[] = {
    { "label: gpt\nstart=2048, size=8192, type=U\nstart=10240, size=8192, type=S\n", FALSE,
      "holds a partition table with no ext2/3/4 partition: only those are compared offline" },
    { "label: dos\nstart=2048, size=8192, type=L\nstart=10240, size=8192, type=c\n", TRUE,
      "holds no ext2/3/4 partition with /etc/fstab or /etc/os-release: no root file system "
      "to compare offline" },
};

START_TEST(test_compare_no_root_partition)
{
    g_autofree char *dir = vsTestMakeTempDir("vs-noroot-XXXXXX");
    g_autofree char *base = g_build_filename(dir, "disk.raw", NULL);
    g_autofree char *overlay = g_build_filename(dir, "overlay.qcow2", NULL);
    g_autofree char *expect = NULL;
    g_autoptr(GPtrArray) events = g_ptr_array_new_with_free_func((GDestroyNotify)vsEventFree);
    g_autoptr(GError) error = NULL;

    VS_TEST_RUN("truncate", "-s", "16M", base);
    vsTestPartition(base, dir, vsTestNoRoot[_i].table);
    if (vsTestNoRoot[_i].ext_boot)
        vsTestMakeFsAt(base, "ext4", VS_TEST_MIB, "4M", NULL);
    VS_TEST_RUN("qemu-img", "create", "-q", "-f", "qcow2", "-b", base, "-F", "raw", overlay);
    ck_assert(!vsOfflineCompare(base, "raw", overlay, events, &error));
    ck_assert(g_error_matches(error, VS_ERROR, VS_ERROR_UNSUPPORTED));
    expect = g_strdup_printf("'%s' %s", base, vsTestNoRoot[_i].expect);
    ck_assert_str_eq(error->message, expect);
    ck_assert_uint_eq(events->len, 0);
    vsTestAssertNothingLeft();
    vsTestRemoveTree(dir);
}
END_TEST

/* The CLI and the daemon block SIGTERM and SIGINT in every thread (a
 * signal thread takes them); the exports must still stop on SIGTERM, not
 * after the 5 s wait for it and a SIGKILL (each image would take that). */
START_TEST(test_compare_signals_blocked)
{
    vsTestImages t = { 0 };
    g_autoptr(GPtrArray) events = g_ptr_array_new_with_free_func((GDestroyNotify)vsEventFree);
    g_autoptr(GError) error = NULL;
    sigset_t set;
    gint64 start;
    double secs;

    vsTestMakeImages(&t);
    vsTestChangeOverlay(&t);
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    ck_assert_int_eq(pthread_sigmask(SIG_BLOCK, &set, NULL), 0);
    start = g_get_monotonic_time();
    ck_assert_msg(vsOfflineCompare(t.base_qcow2, "qcow2", t.overlay, events, &error), "%s",
                  error ? error->message : "");
    secs = (g_get_monotonic_time() - start) / 1e6;
    printf("# offline comparison with SIGTERM blocked: %.2f s\n", secs);
    ck_assert_msg(secs < 5.0, "the comparison took %.2f s: an export ignored SIGTERM", secs);
    vsTestAssertNothingLeft();
    ck_assert_uint_eq(events->len, 10);
    vsTestFreeImages(&t);
}
END_TEST

static const char *const vsTestFsTypes[] = { "ext4", "ext3", "ext2" };

/* A raw base, through its own format driver, and an overlay that changed
 * nothing; ext2 and ext3 too (the ext4 driver mounts them). */
START_TEST(test_compare_raw_unchanged)
{
    vsTestImages t = { 0 };
    g_autoptr(GPtrArray) events = g_ptr_array_new_with_free_func((GDestroyNotify)vsEventFree);
    g_autoptr(GError) error = NULL;
    g_autofree char *overlay = NULL;

    vsTestMakeImagesFs(&t, vsTestFsTypes[_i]);
    overlay = g_build_filename(t.dir, "raw-overlay.qcow2", NULL);
    VS_TEST_RUN("qemu-img", "create", "-q", "-f", "qcow2", "-b", t.base_raw, "-F", "raw", overlay);
    ck_assert_msg(vsOfflineCompare(t.base_raw, "raw", overlay, events, &error), "%s: %s",
                  vsTestFsTypes[_i], error ? error->message : "");
    ck_assert_uint_eq(events->len, 0);
    vsTestAssertNothingLeft();
    vsTestFreeImages(&t);
}
END_TEST

/* A shadow destroyed rather than shut down leaves a dirty file system:
 * refused, as "noload" would miss what its journal holds. */
static const struct {
    const char *fs_type;
    const char *request;
    const char *why;
} vsTestDirty[] = {
    { "ext4", "feature needs_recovery", "its journal needs recovery" },
    { "ext2", "ssv state 0", "it is marked dirty" },
};

START_TEST(test_compare_dirty)
{
    vsTestImages t = { 0 };
    g_autoptr(GPtrArray) events = g_ptr_array_new_with_free_func((GDestroyNotify)vsEventFree);
    g_autoptr(GError) error = NULL;
    g_autofree char *dirty = NULL;
    g_autofree char *overlay = NULL;
    g_autofree char *expect = NULL;

    vsTestMakeImagesFs(&t, vsTestDirty[_i].fs_type);
    dirty = g_build_filename(t.dir, "dirty.raw", NULL);
    overlay = g_build_filename(t.dir, "dirty-overlay.qcow2", NULL);
    VS_TEST_RUN("cp", t.base_raw, dirty);
    VS_TEST_RUN("debugfs", "-w", "-R", vsTestDirty[_i].request, dirty);
    VS_TEST_RUN("qemu-img", "create", "-q", "-f", "qcow2", "-b", dirty, "-F", "raw", overlay);
    ck_assert(!vsOfflineCompare(t.base_raw, "raw", overlay, events, &error));
    ck_assert(g_error_matches(error, VS_ERROR, VS_ERROR_UNSUPPORTED));
    expect = g_strdup_printf("the file system in '%s' was not cleanly unmounted (%s): its last "
                             "changes cannot be read offline", overlay, vsTestDirty[_i].why);
    ck_assert_str_eq(error->message, expect);
    ck_assert_uint_eq(events->len, 0);
    vsTestAssertNothingLeft();
    vsTestFreeImages(&t);
}
END_TEST

/* A disk with an empty MBR: nothing mounted, and said why. */
START_TEST(test_compare_partitioned)
{
    g_autofree char *dir = vsTestMakeTempDir("vs-mbr-XXXXXX");
    g_autofree char *base = g_build_filename(dir, "mbr.raw", NULL);
    g_autofree char *overlay = g_build_filename(dir, "overlay.qcow2", NULL);
    g_autofree char *expect = NULL;
    g_autofree guchar *disk = g_malloc0(1 << 20);
    g_autoptr(GPtrArray) events = g_ptr_array_new_with_free_func((GDestroyNotify)vsEventFree);
    g_autoptr(GError) error = NULL;

    disk[510] = 0x55;
    disk[511] = 0xaa;
    ck_assert(g_file_set_contents(base, (const char *)disk, 1 << 20, NULL));
    VS_TEST_RUN("qemu-img", "create", "-q", "-f", "qcow2", "-b", base, "-F", "raw", overlay);
    ck_assert(!vsOfflineCompare(base, "raw", overlay, events, &error));
    ck_assert(g_error_matches(error, VS_ERROR, VS_ERROR_UNSUPPORTED));
    expect = g_strdup_printf("'%s' holds a partition table with no ext2/3/4 partition: only "
                             "those are compared offline", base);
    ck_assert_str_eq(error->message, expect);
    vsTestAssertNothingLeft();
    vsTestRemoveTree(dir);
}
END_TEST

START_TEST(test_compare_not_ext)
{
    g_autofree char *dir = vsTestMakeTempDir("vs-zero-XXXXXX");
    g_autofree char *base = g_build_filename(dir, "zero.raw", NULL);
    g_autofree char *overlay = g_build_filename(dir, "overlay.qcow2", NULL);
    g_autofree char *expect = NULL;
    g_autoptr(GPtrArray) events = g_ptr_array_new_with_free_func((GDestroyNotify)vsEventFree);
    g_autoptr(GError) error = NULL;

    VS_TEST_RUN("truncate", "-s", "16M", base);
    VS_TEST_RUN("qemu-img", "create", "-q", "-f", "qcow2", "-b", base, "-F", "raw", overlay);
    ck_assert(!vsOfflineCompare(base, "raw", overlay, events, &error));
    ck_assert(g_error_matches(error, VS_ERROR, VS_ERROR_UNSUPPORTED));
    expect = g_strdup_printf("'%s' holds no ext2/3/4 file system: only those are compared offline",
                             base);
    ck_assert_str_eq(error->message, expect);
    ck_assert_uint_eq(events->len, 0);
    vsTestAssertNothingLeft();
    vsTestRemoveTree(dir);
}
END_TEST

START_TEST(test_compare_missing)
{
    vsTestImages t = { 0 };
    g_autoptr(GPtrArray) events = g_ptr_array_new_with_free_func((GDestroyNotify)vsEventFree);
    g_autoptr(GError) e1 = NULL;
    g_autoptr(GError) e2 = NULL;
    g_autoptr(GError) e3 = NULL;
    g_autofree char *missing = NULL;
    g_autofree char *expect = NULL;

    vsTestMakeImages(&t);
    missing = g_build_filename(t.dir, "no-such.qcow2", NULL);
    ck_assert(!vsOfflineCompare(t.base_qcow2, "qcow2", missing, events, &e1));
    ck_assert(g_error_matches(e1, VS_ERROR, VS_ERROR_NOT_FOUND));
    expect = g_strdup_printf("overlay image '%s' does not exist", missing);
    ck_assert_str_eq(e1->message, expect);
    g_free(expect);
    ck_assert(!vsOfflineCompare(missing, "qcow2", t.overlay, events, &e2));
    expect = g_strdup_printf("base image '%s' does not exist", missing);
    ck_assert_str_eq(e2->message, expect);
    ck_assert(!vsOfflineCompare(t.base_qcow2, "qcow2,file.driver=nbd", t.overlay, events, &e3));
    ck_assert(g_error_matches(e3, VS_ERROR, VS_ERROR_INVALID));
    ck_assert_uint_eq(events->len, 0);
    vsTestAssertNothingLeft();
    vsTestFreeImages(&t);
}
END_TEST

/* The base is exported, mounted and walked; the overlay then fails to
 * open (its backing file is gone): all of it is undone. */
START_TEST(test_compare_broken_overlay)
{
    vsTestImages t = { 0 };
    g_autoptr(GPtrArray) events = g_ptr_array_new_with_free_func((GDestroyNotify)vsEventFree);
    g_autoptr(GError) error = NULL;
    g_autofree char *gone = NULL;
    g_autofree char *overlay = NULL;
    g_autofree char *prefix = NULL;

    vsTestMakeImages(&t);
    gone = g_build_filename(t.dir, "gone.qcow2", NULL);
    overlay = g_build_filename(t.dir, "orphan.qcow2", NULL);
    VS_TEST_RUN("cp", t.base_qcow2, gone);
    VS_TEST_RUN("qemu-img", "create", "-q", "-f", "qcow2", "-b", gone, "-F", "qcow2", overlay);
    ck_assert_int_eq(g_unlink(gone), 0);
    ck_assert(!vsOfflineCompare(t.base_qcow2, "qcow2", overlay, events, &error));
    ck_assert(g_error_matches(error, VS_ERROR, VS_ERROR_IO));
    prefix = g_strdup_printf("cannot export '%s': qemu-storage-daemon: ", overlay);
    ck_assert_msg(g_str_has_prefix(error->message, prefix) && strstr(error->message, gone),
                  "%s", error->message);
    ck_assert_uint_eq(events->len, 0);
    vsTestAssertNothingLeft();
    vsTestFreeImages(&t);
}
END_TEST

/* An overlay still in use (its shadow not shut down): QEMU's image lock
 * refuses, and the base's export and mount are undone. */
START_TEST(test_compare_in_use)
{
    vsTestImages t = { 0 };
    g_autoptr(GPtrArray) events = g_ptr_array_new_with_free_func((GDestroyNotify)vsEventFree);
    g_autoptr(GError) error = NULL;
    g_autofree char *export = NULL;
    g_autofree char *pid = NULL;
    g_autofree char *prefix = NULL;

    vsTestMakeImages(&t);
    export = g_build_filename(t.dir, "held.raw", NULL);
    pid = g_build_filename(t.dir, "held.pid", NULL);
    vsTestExportRw(&t, export, pid);
    ck_assert(!vsOfflineCompare(t.base_qcow2, "qcow2", t.overlay, events, &error));
    vsTestStopDaemon(pid);
    ck_assert(g_error_matches(error, VS_ERROR, VS_ERROR_IO));
    prefix = g_strdup_printf("cannot export '%s': qemu-storage-daemon: ", t.overlay);
    ck_assert_msg(g_str_has_prefix(error->message, prefix) && strstr(error->message, "lock"),
                  "%s", error->message);
    vsTestAssertNothingLeft();
    vsTestFreeImages(&t);
}
END_TEST

/* The tiny guest's root disk, against an overlay that changed nothing. */
START_TEST(test_compare_tiny_guest)
{
    g_autofree char *dir = vsTestMakeTempDir("vs-tiny-XXXXXX");
    g_autofree char *build = g_build_filename(vsTestSrcDir(), "contrib", "guest", "build-guest",
                                              NULL);
    g_autofree char *base = g_build_filename(dir, "base.qcow2", NULL);
    g_autofree char *overlay = g_build_filename(dir, "overlay.qcow2", NULL);
    g_autoptr(GPtrArray) events = g_ptr_array_new_with_free_func((GDestroyNotify)vsEventFree);
    g_autoptr(GError) error = NULL;
    gint64 start;
    gint64 took;

    VS_TEST_RUN(build, dir);
    VS_TEST_RUN("qemu-img", "create", "-q", "-f", "qcow2", "-b", base, "-F", "qcow2", overlay);
    start = g_get_monotonic_time();
    ck_assert_msg(vsOfflineCompare(base, "qcow2", overlay, events, &error), "%s",
                  error ? error->message : "");
    took = g_get_monotonic_time() - start;
    ck_assert_msg(events->len == 0, "%u events, first %s",
                  events->len, events->len ? ((vsEvent *)events->pdata[0])->path : "");
    vsTestAssertNothingLeft();
    fprintf(stderr, "offline compare of the tiny guest's disk: %.0f ms\n", took / 1000.0);
    vsTestRemoveTree(dir);
}
END_TEST

/* What a comparison killed with SIGKILL leaves: its base exported and
 * mounted, in a directory named after its (now dead) pid. */
START_TEST(test_clean_stale)
{
    vsTestImages t = { 0 };
    g_autoptr(GError) error = NULL;
    g_autofree char *tmpl = NULL;
    g_autofree char *stale = NULL;
    g_autofree char *live = NULL;
    g_autofree char *export = NULL;
    g_autofree char *mnt = NULL;
    g_autofree char *pid = NULL;
    g_autofree char *file = NULL;
    g_autofree char *exp = NULL;
    g_autofree char *mounts = NULL;
    guint cleaned = 99;
    pid_t dead;

    vsTestMakeImages(&t);
    if ((dead = fork()) == 0)
        _exit(0);
    ck_assert_int_eq(waitpid(dead, NULL, 0), dead);
    tmpl = g_strdup_printf("%s/vs-offline-%d-XXXXXX", vsTestTmp, (int)dead);
    stale = g_strdup(tmpl);
    ck_assert(g_mkdtemp(stale));
    g_free(tmpl);
    /* a live owner's directory is not touched */
    tmpl = g_strdup_printf("%s/vs-offline-%d-XXXXXX", vsTestTmp, (int)getppid());
    live = g_strdup(tmpl);
    ck_assert(g_mkdtemp(live));

    export = g_build_filename(stale, "base.raw", NULL);
    mnt = g_build_filename(stale, "base.mnt", NULL);
    pid = g_build_filename(stale, "base.pid", NULL);
    file = g_strdup_printf("driver=file,node-name=f,filename=%s,read-only=on", t.base_qcow2);
    exp = g_strdup_printf("type=fuse,id=e,node-name=q,mountpoint=%s,writable=off", export);
    ck_assert(g_file_set_contents(export, "", 0, NULL));
    ck_assert_int_eq(g_mkdir(mnt, 0700), 0);
    VS_TEST_RUN("qemu-storage-daemon", "--blockdev", file, "--blockdev",
                "driver=qcow2,node-name=q,file=f,read-only=on", "--export", exp, "--pidfile", pid,
                "--daemonize");
    VS_TEST_RUN("mount", "-t", "ext4", "-o", "ro,loop,noload", export, mnt);
    ck_assert(g_file_get_contents("/proc/self/mounts", &mounts, NULL, NULL));
    ck_assert(strstr(mounts, mnt));

    ck_assert_msg(vsOfflineCleanStale(&cleaned, &error), "%s", error ? error->message : "");
    ck_assert_uint_eq(cleaned, 1);
    ck_assert(g_file_test(live, G_FILE_TEST_IS_DIR));
    ck_assert_int_eq(g_rmdir(live), 0);
    vsTestAssertNothingLeft();
    /* nothing more to do */
    ck_assert(vsOfflineCleanStale(&cleaned, NULL));
    ck_assert_uint_eq(cleaned, 0);
    vsTestFreeImages(&t);
}
END_TEST

/* --- disagreements ---------------------------------------------------------- */

static void
vsTestAdd(GPtrArray *events, vsEventType type, const char *path)
{
    g_ptr_array_add(events, vsEventNew(type, path, NULL));
}

START_TEST(test_disagreements)
{
    g_autoptr(GPtrArray) offline = g_ptr_array_new_with_free_func((GDestroyNotify)vsEventFree);
    g_autoptr(GPtrArray) guest = g_ptr_array_new_with_free_func((GDestroyNotify)vsEventFree);
    g_autoptr(GPtrArray) lines = NULL;
    g_autoptr(GPtrArray) all = NULL;
    static const char *const ignore[] = { "/var/log", "/root/.ash_history", NULL };
    static const char *const expect[] = {
        "/etc/created-vs-modified: offline file-created, guest file-modified",
        "/etc/only-guest: offline none, guest file-created",
        "/etc/only-offline: offline file-created, guest none",
        "/etc/was-temporary: offline file-created, guest none",
        "/var/logfile: offline file-created, guest none",
    };

    /* created then modified = created */
    vsTestAdd(offline, VS_EVENT_FILE_CREATED, "/opt/a");
    vsTestAdd(offline, VS_EVENT_SERVICE_CREATED, "/opt/a");
    vsTestAdd(guest, VS_EVENT_FILE_CREATED, "/opt/a");
    vsTestAdd(guest, VS_EVENT_FILE_MODIFIED, "/opt/a");
    vsTestAdd(guest, VS_EVENT_FILE_MODIFIED, "/opt/a");
    /* created then deleted = nothing */
    vsTestAdd(guest, VS_EVENT_FILE_CREATED, "/etc/temporary");
    vsTestAdd(guest, VS_EVENT_FILE_DELETED, "/etc/temporary");
    /* ... which disagrees with an offline creation */
    vsTestAdd(offline, VS_EVENT_FILE_CREATED, "/etc/was-temporary");
    vsTestAdd(guest, VS_EVENT_FILE_CREATED, "/etc/was-temporary");
    vsTestAdd(guest, VS_EVENT_FILE_DELETED, "/etc/was-temporary");
    /* deleted then created again: there before and after = modified */
    vsTestAdd(offline, VS_EVENT_FILE_MODIFIED, "/etc/replaced");
    vsTestAdd(guest, VS_EVENT_FILE_DELETED, "/etc/replaced");
    vsTestAdd(guest, VS_EVENT_FILE_CREATED, "/etc/replaced");
    /* modified then deleted = deleted */
    vsTestAdd(offline, VS_EVENT_FILE_DELETED, "/etc/gone");
    vsTestAdd(guest, VS_EVENT_FILE_MODIFIED, "/etc/gone");
    vsTestAdd(guest, VS_EVENT_FILE_DELETED, "/etc/gone");
    vsTestAdd(offline, VS_EVENT_FILE_CREATED, "/etc/created-vs-modified");
    vsTestAdd(guest, VS_EVENT_FILE_MODIFIED, "/etc/created-vs-modified");
    vsTestAdd(offline, VS_EVENT_FILE_CREATED, "/etc/only-offline");
    vsTestAdd(guest, VS_EVENT_FILE_CREATED, "/etc/only-guest");
    /* services mirror their file event, packages are not seen offline */
    vsTestAdd(guest, VS_EVENT_SERVICE_CREATED, "/etc/init.d/svc");
    vsTestAdd(guest, VS_EVENT_PACKAGE_INSTALLED, "nginx");
    /* /tmp is never compared; ignored prefixes end at a path component */
    vsTestAdd(offline, VS_EVENT_FILE_CREATED, "/tmp/virt-shadow/steps/001");
    vsTestAdd(offline, VS_EVENT_FILE_CREATED, "/var/log/messages");
    vsTestAdd(offline, VS_EVENT_FILE_CREATED, "/var/log");
    vsTestAdd(offline, VS_EVENT_FILE_CREATED, "/var/logfile");
    vsTestAdd(offline, VS_EVENT_FILE_MODIFIED, "/root/.ash_history");

    lines = vsOfflineDisagreements(offline, guest, ignore);
    for (guint i = 0; i < MIN(lines->len, G_N_ELEMENTS(expect)); i++)
        ck_assert_str_eq(g_ptr_array_index(lines, i), expect[i]);
    ck_assert_uint_eq(lines->len, G_N_ELEMENTS(expect));

    /* without prefixes the logs show; /tmp still does not */
    all = vsOfflineDisagreements(offline, guest, NULL);
    ck_assert_uint_eq(all->len, G_N_ELEMENTS(expect) + 3);
    ck_assert_str_eq(g_ptr_array_index(all, 4), "/root/.ash_history: offline file-modified, guest none");
    ck_assert_str_eq(g_ptr_array_index(all, 5), "/var/log: offline file-created, guest none");
    ck_assert_str_eq(g_ptr_array_index(all, 6), "/var/log/messages: offline file-created, guest none");
    ck_assert_str_eq(g_ptr_array_index(all, 7), "/var/logfile: offline file-created, guest none");

    /* agreement: nothing to say; no events at all: nothing either */
    g_ptr_array_unref(lines);
    lines = vsOfflineDisagreements(guest, guest, NULL);
    ck_assert_uint_eq(lines->len, 0);
    g_ptr_array_unref(lines);
    lines = vsOfflineDisagreements(NULL, NULL, NULL);
    ck_assert_uint_eq(lines->len, 0);
}
END_TEST

static void
vsTestMbrEntry(guchar *disk, guint slot, guchar type, guint32 first, guint32 count)
{
    guchar *e = disk + 446 + slot * 16;

    e[4] = type;
    for (guint b = 0; b < 4; b++) {
        e[8 + b] = (guchar)(first >> (8 * b));
        e[12 + b] = (guchar)(count >> (8 * b));
    }
}

/* The table parser on hand-made tables: what it skips and what it refuses. */
START_TEST(test_parse_partitions)
{
    g_autofree guchar *disk = g_malloc0(64 * 1024);
    g_autoptr(GError) error = NULL;
    g_autoptr(GArray) parts = NULL;
    const vsOfflinePartition *p;

    ck_assert_ptr_null(vsOfflineParsePartitions(disk, 64 * 1024, 1 << 20, &error));
    ck_assert_str_eq(error->message, "no MBR signature");
    g_clear_error(&error);

    disk[510] = 0x55;
    disk[511] = 0xaa;
    vsTestMbrEntry(disk, 0, 0x83, 2048, 100);
    vsTestMbrEntry(disk, 1, 0x05, 4096, 100);   /* extended: skipped */
    vsTestMbrEntry(disk, 3, 0x83, 8192, 8);
    parts = vsOfflineParsePartitions(disk, 64 * 1024, 8200 * 512, &error);
    ck_assert_msg(parts, "%s", error ? error->message : "");
    ck_assert_uint_eq(parts->len, 2);
    p = &g_array_index(parts, vsOfflinePartition, 0);
    ck_assert_uint_eq(p->index, 1);
    ck_assert_uint_eq(p->offset, 2048 * 512);
    ck_assert_uint_eq(p->size, 100 * 512);
    p = &g_array_index(parts, vsOfflinePartition, 1);
    ck_assert_uint_eq(p->index, 4);
    ck_assert_uint_eq(p->offset, 8192 * 512);
    g_clear_pointer(&parts, g_array_unref);

    /* one sector past the end of the disk */
    ck_assert_ptr_null(vsOfflineParsePartitions(disk, 64 * 1024, 8199 * 512, &error));
    ck_assert_str_eq(error->message,
                     "partition 4 (sectors 8192-8199) is not on the 4197888-byte disk");
    g_clear_error(&error);

    vsTestMbrEntry(disk, 2, 0xee, 1, 8000);
    ck_assert_ptr_null(vsOfflineParsePartitions(disk, 64 * 1024, 8200 * 512, &error));
    ck_assert_str_eq(error->message, "a protective MBR but no GPT header");
    g_clear_error(&error);

    /* a GPT whose partition array lies beyond what was read */
    memcpy(disk + 512, "EFI PART", 8);
    disk[512 + 72] = 200;                       /* array at sector 200 */
    disk[512 + 80] = 128;                       /* 128 entries */
    disk[512 + 84] = 128;                       /* of 128 bytes */
    ck_assert_ptr_null(vsOfflineParsePartitions(disk, 64 * 1024, 8200 * 512, &error));
    ck_assert_str_eq(error->message, "a GPT header with an unreadable partition array "
                                     "(128 entries of 128 bytes at sector 200)");
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("offline");
    TCase *walk = tcase_create("walk");
    TCase *images = tcase_create("images");
    TCase *pure = tcase_create("disagreements");

    /* before anything asks GLib for the temp dir (it caches it) */
    vsTestTmp = g_build_filename(g_getenv("TMPDIR") ? g_getenv("TMPDIR") : "/tmp",
                                 "vs-offlinetest-XXXXXX", NULL);
    g_assert(g_mkdtemp(vsTestTmp));
    g_setenv("TMPDIR", vsTestTmp, TRUE);
    umask(022);

    tcase_add_test(walk, test_walk_gnu);
    tcase_add_test(walk, test_walk_busybox);
    tcase_add_test(walk, test_walk_one_fs);
    tcase_add_test(walk, test_walk_missing);
    tcase_add_test(images, test_compare);
    tcase_add_test(images, test_compare_signals_blocked);
    tcase_add_loop_test(images, test_compare_raw_unchanged, 0, G_N_ELEMENTS(vsTestFsTypes));
    tcase_add_test(images, test_compare_partitioned);
    tcase_add_loop_test(images, test_compare_partitions, 0, G_N_ELEMENTS(vsTestLabels));
    tcase_add_test(images, test_compare_partition_dirty);
    tcase_add_test(images, test_compare_partition_damaged);
    tcase_add_loop_test(images, test_compare_no_root_partition, 0, G_N_ELEMENTS(vsTestNoRoot));
    tcase_add_loop_test(images, test_compare_dirty, 0, G_N_ELEMENTS(vsTestDirty));
    tcase_add_test(images, test_compare_not_ext);
    tcase_add_test(images, test_compare_missing);
    tcase_add_test(images, test_compare_broken_overlay);
    tcase_add_test(images, test_compare_in_use);
    tcase_add_test(images, test_compare_tiny_guest);
    tcase_add_test(images, test_clean_stale);
    tcase_add_test(pure, test_disagreements);
    tcase_add_test(pure, test_parse_partitions);
    suite_add_tcase(s, walk);
    suite_add_tcase(s, images);
    suite_add_tcase(s, pure);
    {
        int rc = vsTestRunSuite(s);

        g_rmdir(vsTestTmp);
        return rc;
    }
}
