/*
 * vstrace.h: resource-usage traces for "virt-shadow backtest"
 *
 * A trace file is read in two stages, each usable alone:
 *  1. rows: every line is parsed on its own (vsTraceParseLine); bad rows
 *     (malformed, NaN/Inf, negative, time not increasing) are skipped and
 *     counted, with a warning naming file and line;
 *  2. grid: valid rows are averaged into fixed slots of @step_s seconds
 *     aligned to the epoch (slot = floor(t / step) * step), from the first
 *     valid row's slot to the last one's.  Empty slots are forward-filled;
 *     the slots of a gap longer than @max_fill_slots are forward-filled too
 *     but flagged not scored (the replay rules in
 *     shared/research/rightsizing-baselines.md).
 *
 * Formats:
 *  - bitbrains: GWA-T-12 ("a;\tb;\t..."), a header row, "Timestamp [ms]"
 *    holding unix seconds.  Rows with 0 CPU cores or 0 MHz capacity pad the
 *    file before the VM existed or after it went away: dropped and counted
 *    apart (padding_rows), never warned about.
 *  - csv: "timestamp,value" (unix seconds, integer or not), optional header.
 *  - plain: one value per line, optional header; the i-th value line
 *    (malformed ones included, empty lines not) is at i * @interval_s.
 * csv and plain carry one resource, named by @value_resource.
 *
 * Files may be gzip-compressed (detected by magic bytes).  Library code does
 * not log: warnings are collected on the trace, for the caller to print.
 */
#pragma once

#include <glib.h>

#include "forecast/vsmodel.h"

G_BEGIN_DECLS

typedef enum {
    VS_TRACE_BITBRAINS,
    VS_TRACE_CSV,
    VS_TRACE_PLAIN,
} vsTraceFormat;

/* "bitbrains", "csv" or "plain"; VS_ERROR_INVALID naming @text otherwise. */
gboolean vsTraceFormatFromString(const char *text, vsTraceFormat *ret,
                                 GError **error);
const char *vsTraceFormatToString(vsTraceFormat format);

typedef struct _vsTraceOptions vsTraceOptions;
struct _vsTraceOptions {
    vsTraceFormat format;
    double interval_s;              /* plain: seconds between values (300) */
    vsResourceKind value_resource;  /* csv, plain: what the value is (CPU) */
    double step_s;                  /* grid step, > 0 (300) */
    guint max_fill_slots;           /* longer gaps are not scored (24 = 2 h) */
    guint max_warnings;             /* per file, then one summary line (10) */
    gsize max_slots;                /* a longer grid is an error (1 << 22) */
};

void vsTraceOptionsDefaults(vsTraceOptions *o);

/* One series on the grid: slot i starts at start_t + i * step_s.
 * A resource the format lacks has NULL arrays; so has everything when
 * n == 0 (no valid row: callers skip it like any too-short trace).
 * Provisioned sizes are the last row's in each slot, usage the mean. */
typedef struct _vsTrace vsTrace;
struct _vsTrace {
    char *name;             /* file basename without ".gz" and extension */
    double start_t;         /* unix seconds of slot 0; NaN when n == 0 */
    double step_s;
    gsize n;
    double *cpu;            /* cores */
    double *mem_mib;
    double *cpu_prov;       /* cores provisioned (bitbrains only) */
    double *mem_prov_mib;   /* memory provisioned (bitbrains only) */
    guint8 *scored;         /* 0: slot in a gap longer than max_fill_slots */

    guint rows;             /* valid rows on the grid */
    guint skipped_rows;     /* bad rows, each warned about */
    guint padding_rows;     /* bitbrains zero-capacity rows, not warned */
    guint filled_slots;     /* empty slots in short gaps (scored) */
    guint unscored_slots;   /* empty slots in long gaps (filled, not scored) */
    char **warnings;        /* "FILE:LINE: reason", at most max_warnings + 1;
                             * NULL when none */
};

void vsTraceFree(vsTrace *t);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vsTrace, vsTraceFree)

/* One data row, in the grid's units. */
typedef struct _vsTraceRow vsTraceRow;
struct _vsTraceRow {
    double t;               /* unix seconds; plain leaves it to the caller */
    double cpu;             /* NaN when the format lacks it */
    double mem_mib;
    double cpu_prov;
    double mem_prov_mib;
};

typedef enum {
    VS_TRACE_LINE_OK,
    VS_TRACE_LINE_PADDING,  /* bitbrains zero-capacity row */
    VS_TRACE_LINE_BAD,      /* *ret_reason says why */
} vsTraceLineResult;

/* Parse one NUL-terminated data line (no newline; a trailing \r is fine)
 * of @o->format into @ret_row.  @n_fields is the column count a bitbrains
 * row must have (from its header; 0 accepts any >= 7).  Never reads past
 * the NUL.  On VS_TRACE_LINE_BAD, *@ret_reason is a static string. */
vsTraceLineResult vsTraceParseLine(const vsTraceOptions *o, const char *line,
                                   guint n_fields, vsTraceRow *ret_row,
                                   const char **ret_reason);

/* Parse and grid the @len bytes at @data (not NUL-terminated, not
 * compressed).  @source names them in warnings and errors (a path); the
 * trace's name derives from it.  Fails (VS_ERROR_INVALID) only for bad
 * options or a grid longer than @o->max_slots. */
vsTrace *vsTraceParse(const char *source, const char *data, gsize len,
                      const vsTraceOptions *o, GError **error);

/* Read one file, plain or gzip.  VS_ERROR_IO naming @path when it cannot
 * be read or decompressed. */
vsTrace *vsTraceRead(const char *path, const vsTraceOptions *o, GError **error);

/* Read every file of @paths (NULL-terminated); a directory stands for its
 * files (not subdirectories, not dot files), in natural order (2 before 10).
 * Returns vsTrace pointers in that order (freed with the array); files are
 * read on one thread per core.  Any unreadable file, or a directory without
 * files, fails the whole call (the first in order names its path).
 * @ret_skipped_rows (may be NULL) gets the skipped rows of all files. */
GPtrArray *vsTraceReadPaths(const char *const *paths, const vsTraceOptions *o,
                            guint *ret_skipped_rows, GError **error);

/* strcmp with digit runs compared as numbers ("2" < "10"); for sorting. */
int vsTraceNaturalCompare(const char *a, const char *b);

G_END_DECLS
