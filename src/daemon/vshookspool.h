/*
 * vshookspool.h: domain events recorded by the libvirt hook
 *
 * contrib/hooks/qemu.d/virt-shadow may not talk to the database (a hook
 * must be fast and never block libvirtd), so it leaves one file per event
 * in a spool directory, and the daemon moves them into the events table.
 *
 * A file is named TIME_US.PID.event (written as .TIME_US.PID.tmp, then
 * renamed) and holds one tab-separated line:
 *
 *   1  TIME_US  OPERATION  SUB-OPERATION  UUID  NAME
 *
 * 1 is the format's version; TIME_US Unix microseconds; OPERATION and
 * SUB-OPERATION libvirt's ("started begin", "stopped end", "migrate
 * begin"); UUID empty when the XML had none; NAME last, so it may hold
 * tabs.
 */
#pragma once

#include <glib.h>

#include "store/vsstore.h"

G_BEGIN_DECLS

/* The spool the hook writes unless VIRT_SHADOW_HOOK_SPOOL says otherwise. */
#define VS_HOOK_SPOOL_DIR "/var/lib/virt-shadow/hooks"

/* What one read of the spool found. */
typedef struct _vsHookSpoolBatch vsHookSpoolBatch;
struct _vsHookSpoolBatch {
    GPtrArray *events;      /* vsDomainEventRecord, oldest first; event is
                             * "hook-" OPERATION, detail 0, host NULL (the
                             * reader's own) */
    GPtrArray *files;       /* char *: event i came from file i (a base name) */
    GPtrArray *problems;    /* char *: a message per malformed file, for the
                             * caller to log once */
};

void vsHookSpoolBatchFree(vsHookSpoolBatch *batch);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vsHookSpoolBatch, vsHookSpoolBatchFree)

/* Read every event file in @dir; a missing @dir is an empty spool.  A
 * malformed file is renamed NAME.bad, so it is reported once and kept for
 * a human, and skipped.  FALSE (VS_ERROR_IO naming @dir) only when @dir
 * cannot be listed. */
gboolean vsHookSpoolRead(const char *dir, vsHookSpoolBatch **ret_batch, GError **error);

/* Remove @file (from a batch's files) from @dir once its event is
 * recorded: one at a time, so a crash in between records at most one
 * event twice.  A file already gone is no error. */
gboolean vsHookSpoolRemove(const char *dir, const char *file, GError **error);

G_END_DECLS
