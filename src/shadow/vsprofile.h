/*
 * vsprofile.h: per-step resource profiles, their aggregate over runs, the
 * optimized install order, and deploy sizing
 *
 * Pure computation on what a shadow run recorded: step spans, resource
 * samples and per-step events.  Times are microseconds.
 */
#pragma once

#include <glib.h>

#include "conf/vspolicy.h"
#include "shadow/vsmanifest.h"
#include "shadow/vsscript.h"

G_BEGIN_DECLS

/* --- attribution --------------------------------------------------------- */

/* One resource sample of the shadow (bulk stats, every <= 1 s). */
typedef struct _vsProfileSample vsProfileSample;
struct _vsProfileSample {
    gint64 time_us;
    double cpu_cores;           /* CPU use over the last interval, in cores */
    guint64 memory_kib;         /* guest memory in use */
    guint64 disk_read_bytes;    /* cumulative counters; may restart from 0 */
    guint64 disk_write_bytes;
};

/* When a step ran. */
typedef struct _vsProfileSpan vsProfileSpan;
struct _vsProfileSpan {
    guint index;
    const char *name;
    gint64 start_us;
    gint64 end_us;              /* >= start_us */
};

typedef struct _vsProfileUsage vsProfileUsage;
struct _vsProfileUsage {
    guint index;
    char *name;
    gint64 duration_us;
    double cpu_avg;             /* cores */
    double cpu_peak;
    guint64 memory_peak_kib;
    guint64 disk_read_bytes;
    guint64 disk_write_bytes;
    guint samples;              /* samples inside the step */
    gboolean estimated;         /* none inside: taken from the nearest one */
};

void vsProfileUsageFree(vsProfileUsage *usage);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vsProfileUsage, vsProfileUsageFree)

/* The usage of each span, in the order of @spans.  A sample belongs to the
 * first span whose [start, end] holds it.  CPU avg and peak are the mean
 * and maximum of its samples' cpu_cores, memory the maximum.  The disk
 * bytes of the interval ending at a sample (its counter minus the previous
 * sample's; a counter that went down restarted from 0, so the new value is
 * the delta) count for the sample's span.
 * A span holding no sample (shorter than the sampling interval) is
 * estimated from the nearest sample (the earlier one on a tie): its CPU
 * as avg and peak, its memory, and the disk rate of the interval ending
 * at it (or starting at it, for the first sample) times the span's
 * duration.  @samples need not be sorted.  Returns vsProfileUsage. */
GPtrArray *vsProfileAttribute(const vsProfileSpan *spans, gsize n_spans,
                              const vsProfileSample *samples, gsize n_samples);

/* --- aggregation over runs ---------------------------------------------- */

/* One figure over several runs.  The spread is max - min: with the few
 * runs a profile has, a range reads plainer than a standard deviation. */
typedef struct _vsProfileFigure vsProfileFigure;
struct _vsProfileFigure {
    double mean;
    double peak;                /* the maximum */
    double spread;
};

typedef struct _vsProfileAggregate vsProfileAggregate;
struct _vsProfileAggregate {
    char *name;
    guint index;                /* in the first run that has the step */
    guint runs;                 /* how many runs have it */
    guint estimated;            /* in how many of them it was estimated */
    vsProfileFigure duration_s;
    vsProfileFigure cpu_avg;
    vsProfileFigure cpu_peak;
    vsProfileFigure memory_peak_kib;
    vsProfileFigure disk_read_bytes;
    vsProfileFigure disk_write_bytes;
};

void vsProfileAggregateFree(vsProfileAggregate *agg);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vsProfileAggregate, vsProfileAggregateFree)

/* Aggregate @n_runs runs (each a GPtrArray of vsProfileUsage, as
 * vsProfileAttribute() returns) of the same app version per step name.
 * Steps come in the order they first appear (run by run, step by step).
 * Returns vsProfileAggregate. */
GPtrArray *vsProfileAggregateRuns(GPtrArray *const *runs, gsize n_runs);

/* --- optimization -------------------------------------------------------- */

/* What one step did, in observed order. */
typedef struct _vsProfileStepEvents vsProfileStepEvents;
struct _vsProfileStepEvents {
    guint index;
    const char *name;
    int exit_code;
    GPtrArray *events;          /* of vsEvent (file, service, package); NULL: none */
};

/* Whether @later must run after @earlier, from what each changed:
 *   - a path both touched, or one under a directory the other touched
 *     (B writes into the directory A made, B deletes what A wrote, ...);
 *   - a package both installed, upgraded or removed, or one whose
 *     dependencies name a package the other touched.
 * Reads leave no trace in a manifest, so a step that only reads what an
 * earlier one wrote is not seen as dependent; the optimized script's own
 * shadow run, compared with the original's end state, is the check. */
gboolean vsProfileDependsOn(const vsProfileStepEvents *later,
                            const vsProfileStepEvents *earlier);

typedef struct _vsProfilePlan vsProfilePlan;
struct _vsProfilePlan {
    GPtrArray *groups;          /* of GArray of guint step indexes, run in order */
    GArray *dropped;            /* guint indexes of the steps left out */
};

void vsProfilePlanFree(vsProfilePlan *plan);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vsProfilePlan, vsProfilePlanFree)

/* The optimized order of @steps (observed order):
 *   - a step that exited 0 with no event is dropped: it changed nothing
 *     on disk, in services or packages (a step that only burns CPU or
 *     holds memory is dropped too: it leaves nothing the app needs);
 *   - the others keep their observed order, which already puts every
 *     dependency first, and are grouped greedily: a step joins the current
 *     group unless it depends on a step in it, else it starts the next
 *     group.  Steps of one group may run concurrently; groups run one
 *     after the other.  A step that failed (exit code not 0) is a group
 *     of its own, as what it would have done is unknown. */
vsProfilePlan *vsProfileOptimize(const vsProfileStepEvents *steps, gsize n_steps);

/* The optimized script: the steps of @script named by @plan, in its
 * order, renumbered from 1, each with its group number (1-based), so that
 * vsScriptRender() writes "# group: N" lines with "# step:" markers.
 * VS_ERROR_INVALID when @plan names a step @script does not have. */
vsScript *vsProfileOptimizedScript(const vsScript *script, const vsProfilePlan *plan,
                                   GError **error);

/* --- end state ----------------------------------------------------------- */

/* Whether two runs left files and services in the same state. */
typedef struct _vsProfileEndComparison vsProfileEndComparison;
struct _vsProfileEndComparison {
    gboolean same_files;
    gboolean same_services;
    GPtrArray *differences;     /* char *, files then services, by path:
                                 * "file /p: created (f 0644, 12 bytes) in the
                                 * original, untouched in the optimized run" */
};

void vsProfileEndComparisonFree(vsProfileEndComparison *cmp);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vsProfileEndComparison, vsProfileEndComparisonFree)

/* Fold each run's events (vsEvent in execution order: steps in order, each
 * step's events in order; package events are ignored) per path into the
 * end state the run left it in, and compare the two runs path by path,
 * files and services apart.  A path's end state:
 *   - untouched: no event, or created and deleted again;
 *   - deleted: it was there before (its first event is no creation) and
 *     is gone;
 *   - created or changed: it is there, with the type, mode and size the
 *     events tell (a creation's "T MODE SIZE" detail, a modification's
 *     "type a -> b", "mode a -> b", "size a -> b").
 * Two end states differ in kind, or in a type, mode or size both know.
 * Content is compared only through the size: events carry no hashes, and
 * mtimes differ from run to run anyway. */
vsProfileEndComparison *vsProfileCompareEndStates(GPtrArray *original, GPtrArray *optimized);

/* --- deploy sizing ------------------------------------------------------- */

#define VS_PROFILE_MARGIN_DEFAULT 1.2           /* seed 000 */
#define VS_PROFILE_MIN_MEMORY_KIB (128 * G_GUINT64_CONSTANT(1024))

typedef struct _vsProfileSizing vsProfileSizing;
struct _vsProfileSizing {
    double peak_cpu;            /* cores, the highest step peak */
    guint64 peak_memory_kib;
    guint vcpus;                /* ceil(peak_cpu x margin), at least 1 */
    guint64 memory_kib;         /* peak memory x margin up to a whole MiB, at least 128 MiB */
};

/* Size a domain from peaks with @margin (<= 0: the default 1.2). */
void vsProfileSize(double peak_cpu, guint64 peak_memory_kib, double margin,
                   vsProfileSizing *ret_sizing);

/* vsProfileSize() from the highest cpu_peak.peak and memory_peak_kib.peak
 * of @aggregates (vsProfileAggregate).  FALSE, writing nothing, when there
 * is no step: the caller falls back to the configured defaults. */
gboolean vsProfileSizeFromAggregates(GPtrArray *aggregates, double margin,
                                     vsProfileSizing *ret_sizing);

/* The new domain's starting policy: the defaults of vspolicy.h in auto
 * mode, min = the sizing, max = twice it (room for the live resizes the
 * profile cannot foresee; the domain is defined with that much headroom).
 * It passes vsPolicyCheck(). */
void vsProfileStartingPolicy(const vsProfileSizing *sizing, vsPolicy *ret_policy);

G_END_DECLS
