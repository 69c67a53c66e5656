/*
 * vsoffline.h: what a shadow changed on disk, read offline from its
 * overlay after shutdown
 *
 * The guest's own manifests (vsmanifest.h) can be fooled by the guest; the
 * overlay cannot.  After the shadow is shut down, the base and the overlay
 * are each exported read-only as a raw image with qemu-storage-daemon's
 * FUSE export (no copy is made), loop-mounted read-only (ext2/3/4,
 * "noload" so no journal is replayed) in a private temporary directory,
 * walked on the host into the same manifest form the guest prints, and
 * diffed with vsManifestDiff().  Everything is done through argv arrays.
 *
 * A partitioned disk (MBR or GPT) has its root file system compared: the
 * largest ext2/3/4 partition holding /etc/fstab or /etc/os-release (a
 * separate /boot or /var is not compared), mounted with the loop offset
 * and size limit of its partition.
 *
 * This needs root, /dev/fuse, loop devices, qemu-storage-daemon and a
 * file system the host kernel mounts; without them the comparison is
 * skipped with the reason (VS_ERROR_UNSUPPORTED), never silently.  So is
 * a file system not cleanly unmounted (a shadow destroyed rather than
 * shut down): "noload" would miss what its journal holds.
 */
#pragma once

#include <glib.h>

#include "shadow/vsmanifest.h"

G_BEGIN_DECLS

/* Walk the directory tree at @root (not following symlinks, staying on
 * its file system) into a manifest whose paths are absolute within @root
 * ("/etc/passwd" for ROOT/etc/passwd), with vsManifestExcluded pruned and
 * the same fields and hash rule as the guest-side command.  Unreadable
 * entries are VS_ERROR_IO naming them. */
vsManifest *vsOfflineWalk(const char *root, GError **error);

/* The events (vsEvent, file and service ones) turning the base image
 * @base_path (format @base_format) into the overlay @overlay_path (qcow2,
 * its backing chain as recorded), appended to @events.  Exports, mounts
 * and temporary directories are undone before returning, on success and
 * failure. */
gboolean vsOfflineCompare(const char *base_path, const char *base_format,
                          const char *overlay_path, GPtrArray *events,
                          GError **error);

/* Undo what a comparison killed midway (SIGKILL) left behind: its loop
 * mounts, qemu-storage-daemon exports and temporary directory, found by
 * name under g_get_tmp_dir() ("vs-offline-PID-XXXXXX") once the process
 * PID is gone.  For "shadow gc" and the daemon's start; @ret_cleaned (may
 * be NULL) gets how many directories were cleaned. */
gboolean vsOfflineCleanStale(guint *ret_cleaned, GError **error);

/* A partition of a disk image, in bytes. */
typedef struct _vsOfflinePartition vsOfflinePartition;
struct _vsOfflinePartition {
    guint index;        /* 1-based, as Linux numbers it (sda1, vda15) */
    guint64 offset;
    guint64 size;
};

/* The partitions (vsOfflinePartition) of the MBR or GPT at the start of a
 * disk: @disk holds its first @len bytes (the GPT partition array must lie
 * within them), @disk_size is its whole size.  512-byte sectors; an MBR's
 * extended partition and the logical ones in it are left out; the GPT's
 * CRCs are not checked (the image is only read).  VS_ERROR_INVALID says
 * what is wrong: no 0x55AA signature, a protective MBR without a GPT
 * header, an unreadable partition array, a partition off the disk. */
GArray *vsOfflineParsePartitions(const guchar *disk, gsize len, guint64 disk_size,
                                 GError **error);

/* Where @offline (the ground truth) and @guest (the guest-side events of
 * every step, vsEvent) disagree: for each path, the last event type of
 * each side, compared after folding (created then modified = created;
 * created then deleted = nothing; modified then deleted = deleted;
 * deleted then created = modified).  Only file events are compared:
 * service events follow from the file event of their path, and package
 * events are not seen offline.  Returns char * lines
 * "PATH: offline file-created, guest none", sorted by path.  Paths under
 * vsManifestExcluded (VS_STAGE_GUEST_DIR's file system, /tmp, among them)
 * and the guest's own logs churn (the ones in @ignore_prefixes,
 * NULL-terminated, may be NULL; a prefix ends at a path component) are
 * left out.  Either array may be NULL. */
GPtrArray *vsOfflineDisagreements(GPtrArray *offline, GPtrArray *guest,
                                  const char *const *ignore_prefixes);

G_END_DECLS
