/*
 * vsspool.h: the on-disk spool that keeps samples while the database is away
 *
 * Append-only segment files under STATE_DIR/spool, each a sequence of
 * records: a header (magic, length, CRC-32 of the payload) and one
 * serialised vsSampleBatch.  A crash mid-append tears at most that record;
 * reading detects it by length or checksum and skips it with a warning.
 * When the spool outgrows its bound, its oldest raw batches are rolled up
 * into 5-minute averages rather than dropped.
 *
 * Not thread-safe; one process owns a spool directory at a time (the open
 * takes a lock).
 */
#pragma once

#include "telemetry/vssample.h"

G_BEGIN_DECLS

typedef struct _vsSpool vsSpool;

/* Open (creating, mode 0700) the spool in @dir, bounded to @max_bytes.
 * Fails when another process holds it. */
vsSpool *vsSpoolOpen(const char *dir, guint64 max_bytes, GError **error);
void vsSpoolFree(vsSpool *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vsSpool, vsSpoolFree)

/* Append @b as one record and fdatasync it.  When this takes the spool over
 * its bound, the oldest raw batches are rolled up first (reported through
 * vsSpoolTakeWarnings). */
gboolean vsSpoolAppend(vsSpool *s, const vsSampleBatch *b, GError **error);

/* Called with each spooled batch, oldest first; TRUE when it is safely
 * stored.  FALSE (with @error) stops the replay and keeps that batch and
 * everything after it. */
typedef gboolean (*vsSpoolReplayFunc)(const vsSampleBatch *b, gpointer opaque,
                                      GError **error);

/* Replay and remove what @fn stored.  Torn or corrupt records are skipped
 * (a warning each).  @ret_batches counts the batches @fn accepted.  FALSE
 * only when @fn failed or the spool cannot be read at all. */
gboolean vsSpoolReplay(vsSpool *s, vsSpoolReplayFunc fn, gpointer opaque,
                       guint *ret_batches, GError **error);

guint64 vsSpoolBytes(vsSpool *s);       /* on disk now */
guint vsSpoolBatches(vsSpool *s);       /* records waiting (intact or not) */

/* Warnings gathered since the last call (torn records, roll-ups), for the
 * caller to log; NULL when none.  Library code does not log. */
GStrv vsSpoolTakeWarnings(vsSpool *s);

G_END_DECLS
