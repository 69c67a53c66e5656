/*
 * vsspool.c: the on-disk spool that keeps samples while the database is away
 *
 * Layout of the directory (mode 0700):
 *
 *   lock                    flock()ed exclusively for the vsSpool's life
 *   NNNNNNNNNNNNNNNN.seg    segments, 16 hex digit sequence numbers; records
 *                           are appended to the newest one created since open
 *   NNNNNNNNNNNNNNNN.seg.tmp  a rewrite in progress (removed at open)
 *
 * A segment is rotated once it holds an eighth of the bound (at most 4 MiB),
 * so shrinking works in steps that leave the newest data alone.  After an
 * open the old newest segment is never appended to: its tail may be torn.
 *
 * A record is a 16-byte header, all little-endian u32: magic 0x56535350,
 * payload length (at most 64 MiB), CRC-32 (zlib's) of the payload, reserved
 * (0); then the payload: batch id u64, rollup_s u32, sample count u32, and
 * per sample, in this order: time_us i64, uuid str, name str, interval_s,
 * cpu_vcpus, cpu_per_vcpu (f64), vcpus, vcpus_max (i32), mem_used_kib i64,
 * mem_used_is_rss u32, mem_current_kib, mem_max_kib (i64), disk_rd_bps,
 * disk_wr_bps, disk_rd_iops, disk_wr_iops, net_rx_bps, net_tx_bps (f64),
 * labels str.  An f64 is its IEEE-754 bit pattern as u64 (NaN survives); a
 * str is a u32 length and the bytes, 0xFFFFFFFF for NULL.
 *
 * An append is one write() of header and payload, then fdatasync; a failed
 * one is truncated away.  Reading takes a record that runs past the end of
 * the file as torn; bad magic, an absurd length or a CRC mismatch as
 * corrupt, and resynchronises at the next offset where a whole valid record
 * starts.  A checksummed payload that does not decode is skipped alone.
 *
 * Replay goes oldest first and unlinks each segment once @fn took all of
 * it; when @fn fails, the segment is rewritten to start at the batch it
 * refused.  Every rewrite goes to a .tmp file renamed over the original, so
 * a crash leaves the old or the new segment, and at worst batches replay
 * twice, which their ids make harmless.
 *
 * Bound: after an append that takes the spool over max_bytes, the oldest
 * segment holding raw batches is rewritten in place with each run of raw
 * batches merged and rolled up into one 5-minute batch (new id), repeated
 * until the spool fits.  Only when nothing raw is left are the oldest
 * batches dropped, one at a time: the last resort.  Both are reported as
 * warnings.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "vsspool.h"
#include "util/vserror.h"

#define VS_SPOOL_MAGIC 0x56535350u
#define VS_SPOOL_HEADER 16
#define VS_SPOOL_MAX_PAYLOAD (64u << 20)
#define VS_SPOOL_MAX_SEGMENT ((guint64) 4 << 20)
#define VS_SPOOL_NULL_STR 0xFFFFFFFFu
#define VS_SPOOL_SUFFIX ".seg"
#define VS_SPOOL_TMP_SUFFIX ".seg.tmp"
#define VS_SPOOL_SEQ_DIGITS 16

typedef struct {
    guint64 seq;
    guint64 bytes;
    guint records;          /* intact or not */
    guint raw;              /* intact records holding raw batches */
} vsSpoolSegment;

struct _vsSpool {
    char *dir;
    guint64 max_bytes;
    guint64 segment_max;
    int lock_fd;
    int fd;                 /* open on the last segment, or -1 */
    GArray *segments;       /* vsSpoolSegment, by seq */
    GPtrArray *warnings;
};


/* --- little-endian encoding ------------------------------------------------ */

static guint32 vsCrcTable[256];

static void
vsCrcInitTable(void)
{
    static gsize once;

    if (!g_once_init_enter(&once))
        return;
    for (guint32 i = 0; i < 256; i++) {
        guint32 c = i;

        for (int k = 0; k < 8; k++)
            c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        vsCrcTable[i] = c;
    }
    g_once_init_leave(&once, 1);
}

static guint32
vsCrc32(const guint8 *data, gsize len)
{
    guint32 c = 0xFFFFFFFFu;

    vsCrcInitTable();
    for (gsize i = 0; i < len; i++)
        c = vsCrcTable[(c ^ data[i]) & 0xFF] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
}

static guint32
vsGetU32(const guint8 *p)
{
    return (guint32) p[0] | (guint32) p[1] << 8 | (guint32) p[2] << 16 |
           (guint32) p[3] << 24;
}

static void
vsSetU32(guint8 *p, guint32 v)
{
    for (int i = 0; i < 4; i++)
        p[i] = v >> (8 * i);
}

static void
vsPutU32(GByteArray *out, guint32 v)
{
    guint8 buf[4];

    vsSetU32(buf, v);
    g_byte_array_append(out, buf, sizeof(buf));
}

static void
vsPutU64(GByteArray *out, guint64 v)
{
    vsPutU32(out, v & 0xFFFFFFFFu);
    vsPutU32(out, v >> 32);
}

static void
vsPutDouble(GByteArray *out, double v)
{
    guint64 bits;

    memcpy(&bits, &v, sizeof(bits));
    vsPutU64(out, bits);
}

static void
vsPutString(GByteArray *out, const char *str, gsize len)
{
    if (!str) {
        vsPutU32(out, VS_SPOOL_NULL_STR);
        return;
    }
    vsPutU32(out, len);
    g_byte_array_append(out, (const guint8 *) str, len);
}

static void
vsSpoolEncodeSample(GByteArray *out, const vsSample *smp)
{
    vsPutU64(out, smp->time_us);
    vsPutString(out, smp->uuid, strnlen(smp->uuid, VS_UUID_STRLEN - 1));
    vsPutString(out, smp->name, smp->name ? strlen(smp->name) : 0);
    vsPutDouble(out, smp->interval_s);
    vsPutDouble(out, smp->cpu_vcpus);
    vsPutDouble(out, smp->cpu_per_vcpu);
    vsPutU32(out, smp->vcpus);
    vsPutU32(out, smp->vcpus_max);
    vsPutU64(out, smp->mem_used_kib);
    vsPutU32(out, smp->mem_used_is_rss ? 1 : 0);
    vsPutU64(out, smp->mem_current_kib);
    vsPutU64(out, smp->mem_max_kib);
    vsPutDouble(out, smp->disk_rd_bps);
    vsPutDouble(out, smp->disk_wr_bps);
    vsPutDouble(out, smp->disk_rd_iops);
    vsPutDouble(out, smp->disk_wr_iops);
    vsPutDouble(out, smp->net_rx_bps);
    vsPutDouble(out, smp->net_tx_bps);
    vsPutString(out, smp->labels, smp->labels ? strlen(smp->labels) : 0);
}

/* Append @b as a whole record (header and payload) to @out. */
static void
vsSpoolEncode(GByteArray *out, const vsSampleBatch *b)
{
    guint start = out->len;
    static const guint8 header[VS_SPOOL_HEADER];
    guint32 plen;

    g_byte_array_append(out, header, sizeof(header));
    vsPutU64(out, b->id);
    vsPutU32(out, b->rollup_s);
    vsPutU32(out, b->samples->len);
    for (guint i = 0; i < b->samples->len; i++)
        vsSpoolEncodeSample(out, &g_array_index(b->samples, vsSample, i));

    plen = out->len - start - VS_SPOOL_HEADER;
    vsSetU32(out->data + start, VS_SPOOL_MAGIC);
    vsSetU32(out->data + start + 4, plen);
    vsSetU32(out->data + start + 8,
             vsCrc32(out->data + start + VS_SPOOL_HEADER, plen));
}


/* --- decoding -------------------------------------------------------------- */

/* Reads past the end set @bad and yield zeros, so decoding checks once. */
typedef struct {
    const guint8 *p;
    gsize left;
    gboolean bad;
} vsSpoolCursor;

static const guint8 *
vsCursorTake(vsSpoolCursor *c, gsize n)
{
    const guint8 *p = c->p;

    if (c->bad || c->left < n) {
        c->bad = TRUE;
        return NULL;
    }
    c->p += n;
    c->left -= n;
    return p;
}

static guint32
vsCursorU32(vsSpoolCursor *c)
{
    const guint8 *p = vsCursorTake(c, 4);

    return p ? vsGetU32(p) : 0;
}

static guint64
vsCursorU64(vsSpoolCursor *c)
{
    guint64 lo = vsCursorU32(c);

    return lo | (guint64) vsCursorU32(c) << 32;
}

static double
vsCursorDouble(vsSpoolCursor *c)
{
    guint64 bits = vsCursorU64(c);
    double v;

    memcpy(&v, &bits, sizeof(v));
    return v;
}

/* A string no longer than @max bytes without NUL; NULL for the NULL marker
 * (or on error, with @bad set). */
static char *
vsCursorString(vsSpoolCursor *c, gsize max)
{
    guint32 len = vsCursorU32(c);
    const guint8 *p;

    if (c->bad || len == VS_SPOOL_NULL_STR)
        return NULL;
    if (len > max || !(p = vsCursorTake(c, len)) || memchr(p, '\0', len)) {
        c->bad = TRUE;
        return NULL;
    }
    return g_strndup((const char *) p, len);
}

static void
vsSpoolDecodeSample(vsSpoolCursor *c, vsSample *smp)
{
    g_autofree char *uuid = NULL;

    smp->time_us = vsCursorU64(c);
    uuid = vsCursorString(c, VS_UUID_STRLEN - 1);
    if (!uuid)
        c->bad = TRUE;
    else
        memcpy(smp->uuid, uuid, strlen(uuid) + 1);
    smp->name = vsCursorString(c, G_MAXUINT32 - 1);
    smp->interval_s = vsCursorDouble(c);
    smp->cpu_vcpus = vsCursorDouble(c);
    smp->cpu_per_vcpu = vsCursorDouble(c);
    smp->vcpus = vsCursorU32(c);
    smp->vcpus_max = vsCursorU32(c);
    smp->mem_used_kib = vsCursorU64(c);
    smp->mem_used_is_rss = vsCursorU32(c) != 0;
    smp->mem_current_kib = vsCursorU64(c);
    smp->mem_max_kib = vsCursorU64(c);
    smp->disk_rd_bps = vsCursorDouble(c);
    smp->disk_wr_bps = vsCursorDouble(c);
    smp->disk_rd_iops = vsCursorDouble(c);
    smp->disk_wr_iops = vsCursorDouble(c);
    smp->net_rx_bps = vsCursorDouble(c);
    smp->net_tx_bps = vsCursorDouble(c);
    smp->labels = vsCursorString(c, G_MAXUINT32 - 1);
}

/* The batch in @payload, or NULL when it does not decode exactly. */
static vsSampleBatch *
vsSpoolDecode(const guint8 *payload, guint32 len)
{
    vsSpoolCursor c = { payload, len, FALSE };
    g_autoptr(vsSampleBatch) b = vsSampleBatchNew(0);
    guint32 count;

    b->id = vsCursorU64(&c);
    b->rollup_s = vsCursorU32(&c);
    count = vsCursorU32(&c);
    /* no reservation from @count: the loop stops at the payload's end */
    for (guint32 i = 0; i < count && !c.bad; i++) {
        vsSample *smp;

        g_array_set_size(b->samples, i + 1);
        smp = &g_array_index(b->samples, vsSample, i);
        vsSampleInit(smp);
        vsSpoolDecodeSample(&c, smp);
    }
    if (c.bad || c.left != 0)
        return NULL;
    return g_steal_pointer(&b);
}


/* --- reading records ------------------------------------------------------- */

typedef enum {
    VS_RECORD_OK,
    VS_RECORD_TORN,         /* runs past the end of the file */
    VS_RECORD_CORRUPT,
} vsRecordStatus;

static vsRecordStatus
vsSpoolCheckRecord(const guint8 *data, gsize len, gsize off, guint32 *ret_plen)
{
    gsize avail = len - off;
    guint8 magic[4];
    guint32 plen;

    vsSetU32(magic, VS_SPOOL_MAGIC);
    if (memcmp(data + off, magic, MIN(avail, sizeof(magic))) != 0)
        return VS_RECORD_CORRUPT;
    if (avail < VS_SPOOL_HEADER)
        return VS_RECORD_TORN;
    plen = vsGetU32(data + off + 4);
    if (plen > VS_SPOOL_MAX_PAYLOAD)
        return VS_RECORD_CORRUPT;
    if (plen > avail - VS_SPOOL_HEADER)
        return VS_RECORD_TORN;
    if (vsCrc32(data + off + VS_SPOOL_HEADER, plen) != vsGetU32(data + off + 8))
        return VS_RECORD_CORRUPT;
    *ret_plen = plen;
    return VS_RECORD_OK;
}

/* The first offset after @from where a whole valid record starts, or @len. */
static gsize
vsSpoolResync(const guint8 *data, gsize len, gsize from)
{
    guint32 plen;

    while (from + VS_SPOOL_HEADER <= len) {
        const guint8 *p = memchr(data + from, VS_SPOOL_MAGIC & 0xFF,
                                 len - from - VS_SPOOL_HEADER + 1);

        if (!p)
            break;
        from = p - data;
        if (vsSpoolCheckRecord(data, len, from, &plen) == VS_RECORD_OK)
            return from;
        from++;
    }
    return len;
}

typedef struct {
    const guint8 *data;
    gsize len;
    gsize off;
    const char *path;
    GPtrArray *warnings;    /* NULL: count damage quietly */
    guint damaged;
} vsSpoolReader;

static void G_GNUC_PRINTF(2, 3)
vsSpoolReaderWarn(vsSpoolReader *r, const char *format, ...)
{
    va_list ap;

    r->damaged++;
    if (!r->warnings)
        return;
    va_start(ap, format);
    g_ptr_array_add(r->warnings, g_strdup_vprintf(format, ap));
    va_end(ap);
}

/* Skip the damage at r->off up to the next valid record. */
static void
vsSpoolReaderSkip(vsSpoolReader *r, vsRecordStatus status)
{
    gsize from = r->off;

    r->off = vsSpoolResync(r->data, r->len, from + 1);
    if (status == VS_RECORD_TORN && r->off == r->len)
        vsSpoolReaderWarn(r, "spool '%s': torn record at offset %zu skipped",
                          r->path, from);
    else
        vsSpoolReaderWarn(r, "spool '%s': corrupt record at offset %zu skipped (%zu bytes)",
                          r->path, from, r->off - from);
}

/* The next intact record: where it starts, its payload.  FALSE at the end. */
static gboolean
vsSpoolReaderNext(vsSpoolReader *r, gsize *ret_start, const guint8 **ret_payload,
                  guint32 *ret_plen)
{
    while (r->off < r->len) {
        guint32 plen = 0;
        vsRecordStatus status = vsSpoolCheckRecord(r->data, r->len, r->off, &plen);

        if (status != VS_RECORD_OK) {
            vsSpoolReaderSkip(r, status);
            continue;
        }
        *ret_start = r->off;
        *ret_payload = r->data + r->off + VS_SPOOL_HEADER;
        *ret_plen = plen;
        r->off += VS_SPOOL_HEADER + plen;
        return TRUE;
    }
    return FALSE;
}

/* rollup_s of an intact record, without decoding it all. */
static guint32
vsSpoolPeekRollUp(const guint8 *payload, guint32 plen)
{
    return plen >= 12 ? vsGetU32(payload + 8) : 0;
}

static guint32
vsSpoolPeekCount(const guint8 *payload, guint32 plen)
{
    return plen >= 16 ? vsGetU32(payload + 12) : 0;
}

/* Count the records of a segment's contents into @seg. */
static void
vsSpoolScan(vsSpoolSegment *seg, const guint8 *data, gsize len)
{
    vsSpoolReader r = { data, len, 0, NULL, NULL, 0 };
    const guint8 *payload;
    guint32 plen;
    gsize start;

    seg->bytes = len;
    seg->records = 0;
    seg->raw = 0;
    while (vsSpoolReaderNext(&r, &start, &payload, &plen)) {
        seg->records++;
        if (vsSpoolPeekRollUp(payload, plen) == 0)
            seg->raw++;
    }
    seg->records += r.damaged;
}


/* --- files ----------------------------------------------------------------- */

/* A segment's contents, mapped read-only: a foreign huge file costs no
 * memory, and we hold the lock, so nobody truncates it under us. */
typedef struct {
    guint8 *data;
    gsize len;
} vsSpoolMap;

static void
vsSpoolMapFree(vsSpoolMap *m)
{
    if (!m)
        return;
    if (m->len > 0)
        munmap(m->data, m->len);
    g_free(m);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vsSpoolMap, vsSpoolMapFree)

static vsSpoolMap *
vsSpoolMapFile(const char *path, GError **error)
{
    g_autoptr(vsSpoolMap) m = g_new0(vsSpoolMap, 1);
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    struct stat st;
    void *p = MAP_FAILED;

    if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
        m->len = st.st_size;
        if (m->len == 0)
            p = NULL;
        else
            p = mmap(NULL, m->len, PROT_READ, MAP_PRIVATE, fd, 0);
    } else if (fd >= 0) {
        errno = EINVAL;
    }
    if (p == MAP_FAILED) {
        int err = errno;

        m->len = 0;
        if (fd >= 0)
            close(fd);
        g_set_error(error, VS_ERROR, VS_ERROR_IO, "cannot read spool file '%s': %s",
                    path, g_strerror(err));
        return NULL;
    }
    close(fd);
    m->data = p;
    return g_steal_pointer(&m);
}

static gboolean
vsWriteAll(int fd, const guint8 *data, gsize len)
{
    while (len > 0) {
        ssize_t n = write(fd, data, len);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (n == 0)
                errno = EIO;
            return FALSE;
        }
        data += n;
        len -= n;
    }
    return TRUE;
}

/* Best effort: makes a create, rename or unlink durable. */
static void
vsSpoolSyncDir(vsSpool *s)
{
    int fd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

    if (fd < 0)
        return;
    fsync(fd);
    close(fd);
}

static char *
vsSpoolSegmentPath(vsSpool *s, guint64 seq)
{
    g_autofree char *name = g_strdup_printf("%016" G_GINT64_MODIFIER "x" VS_SPOOL_SUFFIX,
                                            seq);

    return g_build_filename(s->dir, name, NULL);
}

static vsSpoolSegment *
vsSpoolSegmentAt(vsSpool *s, guint i)
{
    return &g_array_index(s->segments, vsSpoolSegment, i);
}

static void
vsSpoolCloseActive(vsSpool *s)
{
    if (s->fd >= 0)
        close(s->fd);
    s->fd = -1;
}

static void G_GNUC_PRINTF(2, 3)
vsSpoolWarn(vsSpool *s, const char *format, ...)
{
    va_list ap;

    va_start(ap, format);
    g_ptr_array_add(s->warnings, g_strdup_vprintf(format, ap));
    va_end(ap);
}

static void
vsSpoolRemoveSegment(vsSpool *s, guint i)
{
    g_autofree char *path = vsSpoolSegmentPath(s, vsSpoolSegmentAt(s, i)->seq);

    if (i == s->segments->len - 1)
        vsSpoolCloseActive(s);
    /* left behind, it only replays again: its ids make that harmless */
    if (g_unlink(path) < 0 && errno != ENOENT)
        vsSpoolWarn(s, "cannot remove spool file '%s': %s", path, g_strerror(errno));
    g_array_remove_index(s->segments, i);
    vsSpoolSyncDir(s);
}

/* Replace segment @i by @data atomically (or remove it when @len is 0). */
static gboolean
vsSpoolReplaceSegment(vsSpool *s, guint i, const guint8 *data, gsize len,
                      GError **error)
{
    vsSpoolSegment *seg = vsSpoolSegmentAt(s, i);
    g_autofree char *path = vsSpoolSegmentPath(s, seg->seq);
    g_autofree char *tmp = g_strconcat(path, ".tmp", NULL);
    int fd;

    if (len == 0) {
        vsSpoolRemoveSegment(s, i);
        return TRUE;
    }
    if (i == s->segments->len - 1)
        vsSpoolCloseActive(s);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0 || !vsWriteAll(fd, data, len) || fdatasync(fd) < 0 ||
        rename(tmp, path) < 0) {
        int err = errno;

        if (fd >= 0) {
            close(fd);
            g_unlink(tmp);
        }
        g_set_error(error, VS_ERROR, VS_ERROR_IO, "cannot rewrite spool file '%s': %s",
                    path, g_strerror(err));
        return FALSE;
    }
    close(fd);
    vsSpoolSyncDir(s);
    vsSpoolScan(seg, data, len);
    return TRUE;
}


/* --- open and close -------------------------------------------------------- */

static gboolean
vsSpoolLock(vsSpool *s, GError **error)
{
    g_autofree char *path = g_build_filename(s->dir, "lock", NULL);

    s->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (s->lock_fd < 0) {
        g_set_error(error, VS_ERROR, VS_ERROR_IO, "cannot open spool lock '%s': %s",
                    path, g_strerror(errno));
        return FALSE;
    }
    if (flock(s->lock_fd, LOCK_EX | LOCK_NB) < 0) {
        if (errno == EWOULDBLOCK)
            g_set_error(error, VS_ERROR, VS_ERROR_FAILED,
                        "spool '%s' is in use by another process", s->dir);
        else
            g_set_error(error, VS_ERROR, VS_ERROR_IO, "cannot lock spool '%s': %s",
                        path, g_strerror(errno));
        return FALSE;
    }
    return TRUE;
}

/* The sequence number of a segment file name, or FALSE for other files. */
static gboolean
vsSpoolParseName(const char *name, guint64 *ret_seq)
{
    guint64 seq = 0;

    if (strlen(name) != VS_SPOOL_SEQ_DIGITS + strlen(VS_SPOOL_SUFFIX) ||
        !g_str_has_suffix(name, VS_SPOOL_SUFFIX))
        return FALSE;
    for (int i = 0; i < VS_SPOOL_SEQ_DIGITS; i++) {
        int digit = g_ascii_xdigit_value(name[i]);

        if (digit < 0)
            return FALSE;
        seq = seq << 4 | digit;
    }
    *ret_seq = seq;
    return TRUE;
}

static gboolean
vsSpoolAddExisting(vsSpool *s, guint64 seq, GError **error)
{
    g_autofree char *path = vsSpoolSegmentPath(s, seq);
    g_autoptr(vsSpoolMap) m = vsSpoolMapFile(path, error);
    vsSpoolSegment seg = { .seq = seq };

    if (!m)
        return FALSE;
    vsSpoolScan(&seg, m->data, m->len);
    g_array_append_val(s->segments, seg);
    return TRUE;
}

static gint
vsSpoolSegmentCompare(gconstpointer a, gconstpointer b)
{
    guint64 x = ((const vsSpoolSegment *) a)->seq;
    guint64 y = ((const vsSpoolSegment *) b)->seq;

    return x < y ? -1 : x > y;
}

static gboolean
vsSpoolLoad(vsSpool *s, GError **error)
{
    g_autoptr(GError) local = NULL;
    g_autoptr(GDir) dir = g_dir_open(s->dir, 0, &local);
    const char *name;

    if (!dir) {
        g_set_error(error, VS_ERROR, VS_ERROR_IO, "cannot read spool '%s': %s",
                    s->dir, local->message);
        return FALSE;
    }
    while ((name = g_dir_read_name(dir))) {
        guint64 seq;

        if (g_str_has_suffix(name, VS_SPOOL_TMP_SUFFIX)) {
            /* a rewrite that did not finish: the original is still there */
            g_autofree char *path = g_build_filename(s->dir, name, NULL);

            g_unlink(path);
        } else if (vsSpoolParseName(name, &seq) && !vsSpoolAddExisting(s, seq, error)) {
            return FALSE;
        }
    }
    g_array_sort(s->segments, vsSpoolSegmentCompare);
    return TRUE;
}

vsSpool *
vsSpoolOpen(const char *dir, guint64 max_bytes, GError **error)
{
    g_autoptr(vsSpool) s = g_new0(vsSpool, 1);

    s->dir = g_strdup(dir);
    s->max_bytes = max_bytes;
    s->segment_max = CLAMP(max_bytes / 8, 1, VS_SPOOL_MAX_SEGMENT);
    s->lock_fd = -1;
    s->fd = -1;
    s->segments = g_array_new(FALSE, FALSE, sizeof(vsSpoolSegment));
    s->warnings = g_ptr_array_new_with_free_func(g_free);

    if (g_mkdir_with_parents(dir, 0700) < 0) {
        g_set_error(error, VS_ERROR, VS_ERROR_IO, "cannot create spool '%s': %s",
                    dir, g_strerror(errno));
        return NULL;
    }
    if (!vsSpoolLock(s, error) || !vsSpoolLoad(s, error))
        return NULL;
    return g_steal_pointer(&s);
}

void
vsSpoolFree(vsSpool *s)
{
    if (!s)
        return;
    vsSpoolCloseActive(s);
    if (s->lock_fd >= 0)
        close(s->lock_fd);
    g_array_unref(s->segments);
    g_ptr_array_unref(s->warnings);
    g_free(s->dir);
    g_free(s);
}

guint64
vsSpoolBytes(vsSpool *s)
{
    guint64 bytes = 0;

    for (guint i = 0; i < s->segments->len; i++)
        bytes += vsSpoolSegmentAt(s, i)->bytes;
    return bytes;
}

guint
vsSpoolBatches(vsSpool *s)
{
    guint records = 0;

    for (guint i = 0; i < s->segments->len; i++)
        records += vsSpoolSegmentAt(s, i)->records;
    return records;
}

GStrv
vsSpoolTakeWarnings(vsSpool *s)
{
    GStrv ret;

    if (s->warnings->len == 0)
        return NULL;
    g_ptr_array_add(s->warnings, NULL);
    ret = (GStrv) g_ptr_array_free(s->warnings, FALSE);
    s->warnings = g_ptr_array_new_with_free_func(g_free);
    return ret;
}


/* --- shrinking ------------------------------------------------------------- */

typedef struct {
    guint raw_samples;
    guint raw_batches;
    guint rolled_samples;
    guint dropped_batches;
    guint dropped_samples;
} vsSpoolShrinkStats;

/* Roll the raw batches merged in @run up into one record on @out. */
static void
vsSpoolFlushRun(vsSampleBatch **run, guint *run_batches, GByteArray *out,
                vsSpoolShrinkStats *st)
{
    g_autoptr(vsSampleBatch) rolled = NULL;

    if (!*run)
        return;
    rolled = vsSampleBatchRollUp(*run);
    st->raw_samples += (*run)->samples->len;
    st->raw_batches += *run_batches;
    st->rolled_samples += rolled->samples->len;
    if (rolled->samples->len > 0)
        vsSpoolEncode(out, rolled);
    g_clear_pointer(run, vsSampleBatchFree);
    *run_batches = 0;
}

static void
vsSpoolMergeInto(vsSampleBatch **run, const vsSampleBatch *b)
{
    if (!*run)
        *run = vsSampleBatchNew(0);
    for (guint i = 0; i < b->samples->len; i++) {
        guint at = (*run)->samples->len;

        g_array_set_size((*run)->samples, at + 1);
        vsSampleCopy(&g_array_index((*run)->samples, vsSample, at),
                     &g_array_index(b->samples, vsSample, i));
    }
}

/* Rewrite segment @i with each run of raw batches rolled up into one
 * batch: one domain's samples of a cycle spread over many batches. */
static gboolean
vsSpoolRollUpSegment(vsSpool *s, guint i, vsSpoolShrinkStats *st, GError **error)
{
    g_autofree char *path = vsSpoolSegmentPath(s, vsSpoolSegmentAt(s, i)->seq);
    g_autoptr(vsSpoolMap) m = vsSpoolMapFile(path, error);
    g_autoptr(GByteArray) out = g_byte_array_new();
    g_autoptr(vsSampleBatch) run = NULL;
    guint run_batches = 0;
    vsSpoolReader r = { NULL, 0, 0, path, s->warnings, 0 };
    const guint8 *payload;
    guint32 plen;
    gsize start;

    if (!m)
        return FALSE;
    r.data = m->data;
    r.len = m->len;
    while (vsSpoolReaderNext(&r, &start, &payload, &plen)) {
        g_autoptr(vsSampleBatch) b = vsSpoolDecode(payload, plen);

        if (!b) {
            vsSpoolReaderWarn(&r, "spool '%s': corrupt record at offset %zu skipped",
                              path, start);
        } else if (b->rollup_s == 0) {
            vsSpoolMergeInto(&run, b);
            run_batches++;
        } else {
            vsSpoolFlushRun(&run, &run_batches, out, st);
            g_byte_array_append(out, m->data + start, VS_SPOOL_HEADER + plen);
        }
    }
    vsSpoolFlushRun(&run, &run_batches, out, st);
    return vsSpoolReplaceSegment(s, i, out->data, out->len, error);
}

/* The last resort: drop the oldest batch (and any damage before it). */
static gboolean
vsSpoolDropOldest(vsSpool *s, vsSpoolShrinkStats *st, GError **error)
{
    g_autofree char *path = vsSpoolSegmentPath(s, vsSpoolSegmentAt(s, 0)->seq);
    g_autoptr(vsSpoolMap) m = vsSpoolMapFile(path, error);
    vsSpoolReader r = { NULL, 0, 0, path, s->warnings, 0 };
    const guint8 *payload;
    guint32 plen;
    gsize start;

    if (!m)
        return FALSE;
    r.data = m->data;
    r.len = m->len;
    if (vsSpoolReaderNext(&r, &start, &payload, &plen)) {
        st->dropped_batches++;
        st->dropped_samples += vsSpoolPeekCount(payload, plen);
    }
    return vsSpoolReplaceSegment(s, 0, m->data + r.off, m->len - r.off, error);
}

static gint
vsSpoolOldestRaw(vsSpool *s)
{
    for (guint i = 0; i < s->segments->len; i++) {
        if (vsSpoolSegmentAt(s, i)->raw > 0)
            return i;
    }
    return -1;
}

/* "64 MiB": g_format_size() puts a no-break space in log lines. */
static char *
vsSpoolFormatSize(guint64 bytes)
{
    static const char *const units[] = { "bytes", "KiB", "MiB", "GiB", "TiB" };
    double v = bytes;
    guint u = 0;

    while (v >= 1024 && u < G_N_ELEMENTS(units) - 1) {
        v /= 1024;
        u++;
    }
    if (v == (guint64) v)
        return g_strdup_printf("%" G_GUINT64_FORMAT " %s", (guint64) v, units[u]);
    return g_strdup_printf("%.1f %s", v, units[u]);
}

static void
vsSpoolShrinkReport(vsSpool *s, const vsSpoolShrinkStats *st)
{
    g_autofree char *bound = vsSpoolFormatSize(s->max_bytes);
    g_autofree char *batches = st->dropped_batches == 1 ? g_strdup("batch") :
        g_strdup_printf("%u batches", st->dropped_batches);

    if (st->raw_batches > 0)
        vsSpoolWarn(s, "spool over its %s bound: rolled %u raw samples of %u batches "
                    "up into %u five-minute samples",
                    bound, st->raw_samples, st->raw_batches, st->rolled_samples);
    if (st->dropped_batches > 0)
        vsSpoolWarn(s, "spool over its %s bound with nothing left to roll up: "
                    "dropped the oldest %s (%u samples)",
                    bound, batches, st->dropped_samples);
}

static void
vsSpoolShrink(vsSpool *s)
{
    vsSpoolShrinkStats st = { 0 };
    g_autoptr(GError) error = NULL;

    while (vsSpoolBytes(s) > s->max_bytes && s->segments->len > 0) {
        gint raw = vsSpoolOldestRaw(s);
        gboolean ok;

        if (raw >= 0)
            ok = vsSpoolRollUpSegment(s, raw, &st, &error);
        else
            ok = vsSpoolDropOldest(s, &st, &error);
        if (!ok)
            break;
    }
    vsSpoolShrinkReport(s, &st);
    if (error)
        vsSpoolWarn(s, "cannot shrink spool '%s': %s", s->dir, error->message);
}


/* --- appending ------------------------------------------------------------- */

/* Make s->fd the segment to append to, rotating when it is full. */
static gboolean
vsSpoolActivate(vsSpool *s, GError **error)
{
    guint n = s->segments->len;
    vsSpoolSegment seg = { .seq = n > 0 ? vsSpoolSegmentAt(s, n - 1)->seq + 1 : 1 };
    g_autofree char *path = NULL;

    if (s->fd >= 0 && vsSpoolSegmentAt(s, n - 1)->bytes < s->segment_max)
        return TRUE;
    vsSpoolCloseActive(s);
    path = vsSpoolSegmentPath(s, seg.seq);
    s->fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC | O_NOFOLLOW,
                 0600);
    if (s->fd < 0) {
        g_set_error(error, VS_ERROR, VS_ERROR_IO, "cannot create spool file '%s': %s",
                    path, g_strerror(errno));
        return FALSE;
    }
    vsSpoolSyncDir(s);
    g_array_append_val(s->segments, seg);
    return TRUE;
}

gboolean
vsSpoolAppend(vsSpool *s, const vsSampleBatch *b, GError **error)
{
    g_autoptr(GByteArray) rec = g_byte_array_new();
    vsSpoolSegment *seg;

    vsSpoolEncode(rec, b);
    if (rec->len - VS_SPOOL_HEADER > VS_SPOOL_MAX_PAYLOAD) {
        g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
                    "batch of %u samples is too large for spool '%s'",
                    b->samples->len, s->dir);
        return FALSE;
    }
    if (!vsSpoolActivate(s, error))
        return FALSE;
    seg = vsSpoolSegmentAt(s, s->segments->len - 1);
    if (!vsWriteAll(s->fd, rec->data, rec->len) || fdatasync(s->fd) < 0) {
        g_autofree char *path = vsSpoolSegmentPath(s, seg->seq);
        int err = errno;

        /* leave no torn record behind for the next append to bury */
        if (ftruncate(s->fd, seg->bytes) < 0)
            vsSpoolCloseActive(s);
        g_set_error(error, VS_ERROR, VS_ERROR_IO, "cannot write spool file '%s': %s",
                    path, g_strerror(err));
        return FALSE;
    }
    seg->bytes += rec->len;
    seg->records++;
    if (b->rollup_s == 0)
        seg->raw++;
    /* the batch is safe now; a failure to shrink is only a warning */
    if (vsSpoolBytes(s) > s->max_bytes)
        vsSpoolShrink(s);
    return TRUE;
}


/* --- replay ---------------------------------------------------------------- */

/* Feed the first segment to @fn.  FALSE when @fn refused a batch: the
 * segment then starts at that batch. */
static gboolean
vsSpoolReplaySegment(vsSpool *s, vsSpoolReplayFunc fn, gpointer opaque,
                     guint *accepted, GError **error)
{
    g_autofree char *path = vsSpoolSegmentPath(s, vsSpoolSegmentAt(s, 0)->seq);
    g_autoptr(vsSpoolMap) m = vsSpoolMapFile(path, error);
    vsSpoolReader r = { NULL, 0, 0, path, s->warnings, 0 };
    const guint8 *payload;
    guint32 plen;
    gsize start;

    if (!m)
        return FALSE;
    r.data = m->data;
    r.len = m->len;
    while (vsSpoolReaderNext(&r, &start, &payload, &plen)) {
        g_autoptr(vsSampleBatch) b = vsSpoolDecode(payload, plen);
        g_autoptr(GError) local = NULL;
        g_autoptr(GError) rewrite = NULL;

        if (!b) {
            vsSpoolReaderWarn(&r, "spool '%s': corrupt record at offset %zu skipped",
                              path, start);
            continue;
        }
        if (fn(b, opaque, &local)) {
            (*accepted)++;
            continue;
        }
        /* accepted batches left in place replay again, harmlessly */
        if (start > 0 &&
            !vsSpoolReplaceSegment(s, 0, m->data + start, m->len - start, &rewrite))
            vsSpoolWarn(s, "%s", rewrite->message);
        if (!local)
            g_set_error(&local, VS_ERROR, VS_ERROR_FAILED,
                        "replay of spool '%s' stopped", s->dir);
        g_propagate_error(error, g_steal_pointer(&local));
        return FALSE;
    }
    vsSpoolRemoveSegment(s, 0);
    return TRUE;
}

gboolean
vsSpoolReplay(vsSpool *s, vsSpoolReplayFunc fn, gpointer opaque,
              guint *ret_batches, GError **error)
{
    guint accepted = 0;

    while (s->segments->len > 0) {
        if (!vsSpoolReplaySegment(s, fn, opaque, &accepted, error))
            return FALSE;
    }
    if (ret_batches)
        *ret_batches = accepted;
    return TRUE;
}
