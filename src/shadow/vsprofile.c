/*
 * vsprofile.c: per-step resource profiles, their aggregate over runs, the
 * optimized install order, and deploy sizing
 */
#include <config.h>

#include <math.h>
#include <string.h>

#include "vsprofile.h"
#include "util/vserror.h"

/* --- attribution --------------------------------------------------------- */

void
vsProfileUsageFree(vsProfileUsage *usage)
{
    if (!usage)
        return;
    g_free(usage->name);
    g_free(usage);
}

static int
vsProfileCompareSamples(gconstpointer a, gconstpointer b)
{
    const vsProfileSample *x = a;
    const vsProfileSample *y = b;

    return (x->time_us > y->time_us) - (x->time_us < y->time_us);
}

/* The growth of a cumulative counter; one that went down restarted at 0. */
static guint64
vsProfileDelta(guint64 prev, guint64 cur)
{
    return cur >= prev ? cur - prev : cur;
}

/* Disk bytes per second over the interval ending at sample @i, or the one
 * starting at it for the first sample; 0 when there is none. */
static void
vsProfileDiskRate(const vsProfileSample *s, gsize n, gsize i, double *ret_read, double *ret_write)
{
    gsize a = i > 0 ? i - 1 : i;
    gsize b = i > 0 ? i : i + 1;
    double secs;

    *ret_read = *ret_write = 0;
    if (b >= n || s[b].time_us <= s[a].time_us)
        return;
    secs = (double)(s[b].time_us - s[a].time_us) / G_USEC_PER_SEC;
    *ret_read = vsProfileDelta(s[a].disk_read_bytes, s[b].disk_read_bytes) / secs;
    *ret_write = vsProfileDelta(s[a].disk_write_bytes, s[b].disk_write_bytes) / secs;
}

static void
vsProfileEstimate(vsProfileUsage *u, const vsProfileSpan *span, const vsProfileSample *s, gsize n)
{
    gsize best = 0;
    gint64 best_dist = G_MAXINT64;
    double read_rate;
    double write_rate;
    double secs = (double)u->duration_us / G_USEC_PER_SEC;

    if (!n)
        return;
    for (gsize i = 0; i < n; i++) {
        gint64 t = s[i].time_us;
        gint64 dist = t < span->start_us ? span->start_us - t : t - span->end_us;

        if (dist < best_dist) {
            best_dist = dist;
            best = i;
        }
    }
    u->estimated = TRUE;
    u->cpu_avg = u->cpu_peak = s[best].cpu_cores;
    u->memory_peak_kib = s[best].memory_kib;
    vsProfileDiskRate(s, n, best, &read_rate, &write_rate);
    u->disk_read_bytes = (guint64)llround(read_rate * secs);
    u->disk_write_bytes = (guint64)llround(write_rate * secs);
}

GPtrArray *
vsProfileAttribute(const vsProfileSpan *spans, gsize n_spans,
                   const vsProfileSample *samples, gsize n_samples)
{
    GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)vsProfileUsageFree);
    g_autofree vsProfileSample *s = g_memdup2(samples, n_samples * sizeof(*samples));
    g_autofree double *cpu_sum = g_new0(double, n_spans + 1);

    if (n_samples)
        qsort(s, n_samples, sizeof(*s), vsProfileCompareSamples);
    for (gsize i = 0; i < n_spans; i++) {
        vsProfileUsage *u = g_new0(vsProfileUsage, 1);

        u->index = spans[i].index;
        u->name = g_strdup(spans[i].name);
        u->duration_us = spans[i].end_us - spans[i].start_us;
        g_ptr_array_add(out, u);
    }
    for (gsize j = 0; j < n_samples; j++) {
        for (gsize i = 0; i < n_spans; i++) {
            vsProfileUsage *u = g_ptr_array_index(out, i);

            if (s[j].time_us < spans[i].start_us || s[j].time_us > spans[i].end_us)
                continue;
            u->samples++;
            cpu_sum[i] += s[j].cpu_cores;
            u->cpu_peak = u->samples == 1 ? s[j].cpu_cores : MAX(u->cpu_peak, s[j].cpu_cores);
            u->memory_peak_kib = MAX(u->memory_peak_kib, s[j].memory_kib);
            if (j > 0) {
                u->disk_read_bytes += vsProfileDelta(s[j - 1].disk_read_bytes, s[j].disk_read_bytes);
                u->disk_write_bytes += vsProfileDelta(s[j - 1].disk_write_bytes,
                                                      s[j].disk_write_bytes);
            }
            break;
        }
    }
    for (gsize i = 0; i < n_spans; i++) {
        vsProfileUsage *u = g_ptr_array_index(out, i);

        if (u->samples)
            u->cpu_avg = cpu_sum[i] / u->samples;
        else
            vsProfileEstimate(u, &spans[i], s, n_samples);
    }
    return out;
}

/* --- aggregation over runs ---------------------------------------------- */

void
vsProfileAggregateFree(vsProfileAggregate *agg)
{
    if (!agg)
        return;
    g_free(agg->name);
    g_free(agg);
}

/* Running min/max/sum of a figure, turned into mean and spread at the end. */
typedef struct {
    double sum;
    double min;
    double max;
} vsProfileAcc;

enum { VS_ACC_DURATION, VS_ACC_CPU_AVG, VS_ACC_CPU_PEAK, VS_ACC_MEMORY, VS_ACC_READ,
       VS_ACC_WRITE, VS_ACC_LAST };

static void
vsProfileAccAdd(vsProfileAcc *acc, guint n_before, double value)
{
    acc->sum += value;
    acc->min = n_before ? MIN(acc->min, value) : value;
    acc->max = n_before ? MAX(acc->max, value) : value;
}

static void
vsProfileAccFinish(const vsProfileAcc *acc, guint n, vsProfileFigure *fig)
{
    fig->mean = n ? acc->sum / n : 0;
    fig->peak = acc->max;
    fig->spread = acc->max - acc->min;
}

GPtrArray *
vsProfileAggregateRuns(GPtrArray *const *runs, gsize n_runs)
{
    GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)vsProfileAggregateFree);
    g_autoptr(GHashTable) by_name = g_hash_table_new(g_str_hash, g_str_equal);
    g_autoptr(GArray) accs = g_array_new(FALSE, TRUE, sizeof(vsProfileAcc) * VS_ACC_LAST);

    for (gsize r = 0; r < n_runs; r++) {
        for (guint i = 0; runs[r] && i < runs[r]->len; i++) {
            const vsProfileUsage *u = g_ptr_array_index(runs[r], i);
            gpointer pos;
            vsProfileAggregate *agg;
            vsProfileAcc *acc;
            guint k;

            if (!g_hash_table_lookup_extended(by_name, u->name, NULL, &pos)) {
                agg = g_new0(vsProfileAggregate, 1);
                agg->name = g_strdup(u->name);
                agg->index = u->index;
                pos = GUINT_TO_POINTER(out->len);
                g_ptr_array_add(out, agg);
                g_hash_table_insert(by_name, agg->name, pos);
                g_array_set_size(accs, out->len);
            }
            k = GPOINTER_TO_UINT(pos);
            agg = g_ptr_array_index(out, k);
            acc = (vsProfileAcc *)(accs->data + (gsize)k * sizeof(vsProfileAcc) * VS_ACC_LAST);
            vsProfileAccAdd(&acc[VS_ACC_DURATION], agg->runs, (double)u->duration_us / G_USEC_PER_SEC);
            vsProfileAccAdd(&acc[VS_ACC_CPU_AVG], agg->runs, u->cpu_avg);
            vsProfileAccAdd(&acc[VS_ACC_CPU_PEAK], agg->runs, u->cpu_peak);
            vsProfileAccAdd(&acc[VS_ACC_MEMORY], agg->runs, (double)u->memory_peak_kib);
            vsProfileAccAdd(&acc[VS_ACC_READ], agg->runs, (double)u->disk_read_bytes);
            vsProfileAccAdd(&acc[VS_ACC_WRITE], agg->runs, (double)u->disk_write_bytes);
            agg->runs++;
            if (u->estimated)
                agg->estimated++;
        }
    }
    for (guint k = 0; k < out->len; k++) {
        vsProfileAggregate *agg = g_ptr_array_index(out, k);
        const vsProfileAcc *acc =
            (const vsProfileAcc *)(accs->data + (gsize)k * sizeof(vsProfileAcc) * VS_ACC_LAST);

        vsProfileAccFinish(&acc[VS_ACC_DURATION], agg->runs, &agg->duration_s);
        vsProfileAccFinish(&acc[VS_ACC_CPU_AVG], agg->runs, &agg->cpu_avg);
        vsProfileAccFinish(&acc[VS_ACC_CPU_PEAK], agg->runs, &agg->cpu_peak);
        vsProfileAccFinish(&acc[VS_ACC_MEMORY], agg->runs, &agg->memory_peak_kib);
        vsProfileAccFinish(&acc[VS_ACC_READ], agg->runs, &agg->disk_read_bytes);
        vsProfileAccFinish(&acc[VS_ACC_WRITE], agg->runs, &agg->disk_write_bytes);
    }
    return out;
}

/* --- optimization -------------------------------------------------------- */

static gboolean
vsProfileIsFileEvent(const vsEvent *e)
{
    return e->type <= VS_EVENT_SERVICE_DELETED;
}

/* @a is @b, or one of them lies under the other. */
static gboolean
vsProfilePathsOverlap(const char *a, const char *b)
{
    gsize la = strlen(a);
    gsize lb = strlen(b);

    if (la > lb)
        return vsProfilePathsOverlap(b, a);
    /* "/" holds everything */
    if (la == 1 && a[0] == '/')
        return TRUE;
    return strncmp(a, b, la) == 0 && (b[la] == '\0' || b[la] == '/');
}

/* Whether package @name is among @e's dependencies ("a|b" alternatives). */
static gboolean
vsProfileDependsOnPackage(const vsEvent *e, const char *name)
{
    for (gsize i = 0; e->depends && e->depends[i]; i++) {
        g_auto(GStrv) alts = g_strsplit(e->depends[i], "|", -1);

        if (g_strv_contains((const char *const *)alts, name))
            return TRUE;
    }
    return FALSE;
}

static gboolean
vsProfileEventsConflict(const vsEvent *x, const vsEvent *y)
{
    if (vsProfileIsFileEvent(x) != vsProfileIsFileEvent(y))
        return FALSE;
    if (vsProfileIsFileEvent(x))
        return vsProfilePathsOverlap(x->path, y->path);
    return strcmp(x->path, y->path) == 0 || vsProfileDependsOnPackage(x, y->path) ||
           vsProfileDependsOnPackage(y, x->path);
}

gboolean
vsProfileDependsOn(const vsProfileStepEvents *later, const vsProfileStepEvents *earlier)
{
    if (!later->events || !earlier->events)
        return FALSE;
    for (guint i = 0; i < later->events->len; i++)
        for (guint j = 0; j < earlier->events->len; j++)
            if (vsProfileEventsConflict(g_ptr_array_index(later->events, i),
                                        g_ptr_array_index(earlier->events, j)))
                return TRUE;
    return FALSE;
}

void
vsProfilePlanFree(vsProfilePlan *plan)
{
    if (!plan)
        return;
    g_ptr_array_unref(plan->groups);
    g_array_unref(plan->dropped);
    g_free(plan);
}

vsProfilePlan *
vsProfileOptimize(const vsProfileStepEvents *steps, gsize n_steps)
{
    vsProfilePlan *plan = g_new0(vsProfilePlan, 1);
    g_autoptr(GPtrArray) members = g_ptr_array_new();  /* of the current group's steps */
    GArray *group = NULL;
    gboolean group_closed = FALSE;

    plan->groups = g_ptr_array_new_with_free_func((GDestroyNotify)g_array_unref);
    plan->dropped = g_array_new(FALSE, FALSE, sizeof(guint));
    for (gsize i = 0; i < n_steps; i++) {
        const vsProfileStepEvents *step = &steps[i];
        gboolean failed = step->exit_code != 0;
        gboolean join = group && !group_closed && !failed;

        if (!failed && (!step->events || !step->events->len)) {
            g_array_append_val(plan->dropped, step->index);
            continue;
        }
        for (guint m = 0; join && m < members->len; m++)
            if (vsProfileDependsOn(step, g_ptr_array_index(members, m)))
                join = FALSE;
        if (!join) {
            group = g_array_new(FALSE, FALSE, sizeof(guint));
            g_ptr_array_add(plan->groups, group);
            g_ptr_array_set_size(members, 0);
        }
        g_array_append_val(group, step->index);
        g_ptr_array_add(members, (gpointer)step);
        group_closed = failed;
    }
    return plan;
}

vsScript *
vsProfileOptimizedScript(const vsScript *script, const vsProfilePlan *plan, GError **error)
{
    g_autoptr(vsScript) out = vsScriptNew(script->filename, script->interpreter,
                                          script->interpreter_arg);

    out->marked = TRUE;
    for (guint g = 0; g < plan->groups->len; g++) {
        GArray *group = g_ptr_array_index(plan->groups, g);

        for (guint k = 0; k < group->len; k++) {
            guint index = g_array_index(group, guint, k);
            const vsScriptStep *step = NULL;

            for (guint i = 0; i < script->steps->len && !step; i++) {
                const vsScriptStep *s = g_ptr_array_index(script->steps, i);

                if (s->index == index)
                    step = s;
            }
            if (!step) {
                g_set_error(error, VS_ERROR, VS_ERROR_INVALID, "'%s' has no step %u",
                            script->filename, index);
                return NULL;
            }
            g_ptr_array_add(out->steps, vsScriptStepNew(out->steps->len + 1, step->name, step->text,
                                                        step->line, g + 1));
        }
    }
    if (!out->steps->len) {
        g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
                    "'%s': every step was dropped, nothing to install", script->filename);
        return NULL;
    }
    return g_steal_pointer(&out);
}

/* --- end state ------------------------------------------------------------ */

static int
vsProfileComparePaths(gconstpointer a, gconstpointer b, gpointer unused)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

typedef struct {
    gboolean existed_before;
    gboolean exists;
    gboolean has_type, has_mode, has_size;
    char type;
    guint mode;
    guint64 size;
} vsProfileEnd;

void
vsProfileEndComparisonFree(vsProfileEndComparison *cmp)
{
    if (!cmp)
        return;
    g_clear_pointer(&cmp->differences, g_ptr_array_unref);
    g_free(cmp);
}

static gboolean
vsProfileParseMode(const char *text, guint *ret_mode)
{
    char *end = NULL;
    guint64 v = g_ascii_strtoull(text, &end, 8);

    if (end == text || *end || v > 07777)
        return FALSE;
    *ret_mode = (guint)v;
    return TRUE;
}

static gboolean
vsProfileParseSize(const char *text, guint64 *ret_size)
{
    char *end = NULL;
    guint64 v = g_ascii_strtoull(text, &end, 10);

    if (end == text || *end)
        return FALSE;
    *ret_size = v;
    return TRUE;
}

/* A creation's detail: "T MODE SIZE". */
static void
vsProfileEndCreated(vsProfileEnd *st, const char *detail)
{
    g_auto(GStrv) f = g_strsplit(detail ? detail : "", " ", -1);

    st->has_type = st->has_mode = st->has_size = FALSE;
    if (g_strv_length(f) != 3 || strlen(f[0]) != 1)
        return;
    st->type = f[0][0];
    st->has_type = TRUE;
    st->has_mode = vsProfileParseMode(f[1], &st->mode);
    st->has_size = vsProfileParseSize(f[2], &st->size);
}

/* A modification's detail: "type a -> b, mode A -> B, size A -> B, sha256, mtime". */
static void
vsProfileEndModified(vsProfileEnd *st, const char *detail)
{
    g_auto(GStrv) parts = g_strsplit(detail ? detail : "", ", ", -1);

    for (guint i = 0; parts[i]; i++) {
        g_auto(GStrv) f = g_strsplit(parts[i], " ", -1);

        if (g_strv_length(f) != 4 || !g_str_equal(f[2], "->"))
            continue;
        if (g_str_equal(f[0], "type") && strlen(f[3]) == 1) {
            st->type = f[3][0];
            st->has_type = TRUE;
        } else if (g_str_equal(f[0], "mode")) {
            st->has_mode = vsProfileParseMode(f[3], &st->mode);
        } else if (g_str_equal(f[0], "size")) {
            st->has_size = vsProfileParseSize(f[3], &st->size);
        }
    }
}

/* path -> vsProfileEnd, for file events (@services FALSE) or service ones. */
static GHashTable *
vsProfileFoldEnds(GPtrArray *events, gboolean services)
{
    GHashTable *ends = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);

    for (guint i = 0; events && i < events->len; i++) {
        const vsEvent *e = g_ptr_array_index(events, i);
        gboolean is_service = e->type >= VS_EVENT_SERVICE_CREATED &&
                              e->type <= VS_EVENT_SERVICE_DELETED;
        gboolean created = e->type == VS_EVENT_FILE_CREATED ||
                           e->type == VS_EVENT_SERVICE_CREATED;
        gboolean deleted = e->type == VS_EVENT_FILE_DELETED ||
                           e->type == VS_EVENT_SERVICE_DELETED;
        vsProfileEnd *st;

        if (!vsProfileIsFileEvent(e) || is_service != services)
            continue;
        if (!(st = g_hash_table_lookup(ends, e->path))) {
            st = g_new0(vsProfileEnd, 1);
            st->existed_before = !created;
            g_hash_table_insert(ends, g_strdup(e->path), st);
        }
        st->exists = !deleted;
        if (created)
            vsProfileEndCreated(st, e->detail);
        else if (deleted)
            st->has_type = st->has_mode = st->has_size = FALSE;
        else
            vsProfileEndModified(st, e->detail);
    }
    return ends;
}

static gboolean
vsProfileEndUntouched(const vsProfileEnd *st)
{
    return !st || (!st->existed_before && !st->exists);
}

static gboolean
vsProfileEndSame(const vsProfileEnd *a, const vsProfileEnd *b)
{
    if (vsProfileEndUntouched(a) || vsProfileEndUntouched(b))
        return vsProfileEndUntouched(a) && vsProfileEndUntouched(b);
    if (a->exists != b->exists || a->existed_before != b->existed_before)
        return FALSE;
    return (!a->has_type || !b->has_type || a->type == b->type) &&
           (!a->has_mode || !b->has_mode || a->mode == b->mode) &&
           (!a->has_size || !b->has_size || a->size == b->size);
}

static char *
vsProfileEndDescribe(const vsProfileEnd *st)
{
    GString *out;

    if (vsProfileEndUntouched(st))
        return g_strdup("untouched");
    if (!st->exists)
        return g_strdup("deleted");
    out = g_string_new(st->existed_before ? "changed" : "created");
    if (st->has_type || st->has_mode || st->has_size) {
        const char *sep = "";

        g_string_append(out, " (");
        if (st->has_type) {
            g_string_append_printf(out, "%c", st->type);
            sep = " ";
        }
        if (st->has_mode) {
            g_string_append_printf(out, "%s%04o", sep, st->mode);
            sep = ", ";
        }
        if (st->has_size)
            g_string_append_printf(out, "%s%" G_GUINT64_FORMAT " bytes", sep, st->size);
        g_string_append_c(out, ')');
    }
    return g_string_free(out, FALSE);
}

/* Appends the differences of @a and @b to @out; FALSE when there is one. */
static gboolean
vsProfileCompareEnds(GHashTable *a, GHashTable *b, const char *kind, GPtrArray *out)
{
    g_autoptr(GHashTable) paths = g_hash_table_new(g_str_hash, g_str_equal);
    g_autofree gpointer *sorted = NULL;
    GHashTableIter it;
    gpointer key;
    guint n = 0;
    gboolean same = TRUE;

    g_hash_table_iter_init(&it, a);
    while (g_hash_table_iter_next(&it, &key, NULL))
        g_hash_table_add(paths, key);
    g_hash_table_iter_init(&it, b);
    while (g_hash_table_iter_next(&it, &key, NULL))
        g_hash_table_add(paths, key);
    sorted = g_hash_table_get_keys_as_array(paths, &n);
    g_qsort_with_data(sorted, n, sizeof(gpointer), (GCompareDataFunc)vsProfileComparePaths,
                      NULL);
    for (guint i = 0; i < n; i++) {
        const vsProfileEnd *x = g_hash_table_lookup(a, sorted[i]);
        const vsProfileEnd *y = g_hash_table_lookup(b, sorted[i]);
        g_autofree char *dx = NULL;
        g_autofree char *dy = NULL;

        if (vsProfileEndSame(x, y))
            continue;
        same = FALSE;
        dx = vsProfileEndDescribe(x);
        dy = vsProfileEndDescribe(y);
        g_ptr_array_add(out, g_strdup_printf("%s %s: %s in the original, %s in the optimized run",
                                             kind, (const char *)sorted[i], dx, dy));
    }
    return same;
}

vsProfileEndComparison *
vsProfileCompareEndStates(GPtrArray *original, GPtrArray *optimized)
{
    vsProfileEndComparison *cmp = g_new0(vsProfileEndComparison, 1);
    g_autoptr(GHashTable) fa = vsProfileFoldEnds(original, FALSE);
    g_autoptr(GHashTable) fb = vsProfileFoldEnds(optimized, FALSE);
    g_autoptr(GHashTable) sa = vsProfileFoldEnds(original, TRUE);
    g_autoptr(GHashTable) sb = vsProfileFoldEnds(optimized, TRUE);

    cmp->differences = g_ptr_array_new_with_free_func(g_free);
    cmp->same_files = vsProfileCompareEnds(fa, fb, "file", cmp->differences);
    cmp->same_services = vsProfileCompareEnds(sa, sb, "service", cmp->differences);
    return cmp;
}

/* --- deploy sizing ------------------------------------------------------- */

void
vsProfileSize(double peak_cpu, guint64 peak_memory_kib, double margin, vsProfileSizing *ret_sizing)
{
    vsProfileSizing s;
    double mib;

    if (margin <= 0)
        margin = VS_PROFILE_MARGIN_DEFAULT;
    s.peak_cpu = MAX(peak_cpu, 0);
    s.peak_memory_kib = peak_memory_kib;
    /* 2.5 x 1.2 is 3.0000000000000004 in binary: do not round that to 4 */
    s.vcpus = (guint)MAX(1.0, ceil(s.peak_cpu * margin - 1e-9));
    mib = ceil((double)peak_memory_kib * margin / 1024.0 - 1e-9);
    s.memory_kib = MAX((guint64)mib * 1024, VS_PROFILE_MIN_MEMORY_KIB);
    *ret_sizing = s;
}

gboolean
vsProfileSizeFromAggregates(GPtrArray *aggregates, double margin, vsProfileSizing *ret_sizing)
{
    double cpu = 0;
    double mem = 0;

    if (!aggregates || !aggregates->len)
        return FALSE;
    for (guint i = 0; i < aggregates->len; i++) {
        const vsProfileAggregate *agg = g_ptr_array_index(aggregates, i);

        cpu = MAX(cpu, agg->cpu_peak.peak);
        mem = MAX(mem, agg->memory_peak_kib.peak);
    }
    vsProfileSize(cpu, (guint64)mem, margin, ret_sizing);
    return TRUE;
}

void
vsProfileStartingPolicy(const vsProfileSizing *sizing, vsPolicy *ret_policy)
{
    vsPolicy p;

    vsPolicyInitDefaults(&p);
    p.mode = VS_POLICY_MODE_AUTO;
    p.min_vcpus = sizing->vcpus;
    p.max_vcpus = 2 * sizing->vcpus;
    p.min_memory_kib = sizing->memory_kib;
    p.max_memory_kib = 2 * sizing->memory_kib;
    *ret_policy = p;
}
