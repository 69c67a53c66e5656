/*
 * vscmd-profile.c: the "profile" command family (install profiles)
 *
 * "profile show" aggregates the latest succeeded shadow runs of an app
 * version per step (vsProfileAggregateRuns) and lists what the latest one
 * created, the package dependencies it saw and its execution path.
 * "profile diff" sets two versions' profiles side by side.  "profile
 * optimize" writes the optimized install script of the latest succeeded
 * run (vsProfileOptimize) and, with --verify, runs it in a shadow of its
 * own and stores how it compared with the original.
 */
#include <config.h>

#include <math.h>
#include <string.h>

#include "vscli.h"
#include "shadow/vslimits.h"
#include "shadow/vsmanifest.h"
#include "shadow/vsprofile.h"
#include "shadow/vsrunlock.h"
#include "shadow/vsrunner.h"
#include "shadow/vsscript.h"
#include "util/vserror.h"
#include "util/vsutil.h"

/* A profile is the mean of a few runs: enough to see the spread, few
 * enough that an old install does not linger in it. */
#define VS_PROFILE_DEFAULT_RUNS 5

/* --- reading a profile ----------------------------------------------------- */

static gboolean
vsProfileGetRuns(const vsCliArgs *args, guint *ret_runs, GError **error)
{
    const char *text = vsCliArgsGet(args, "runs");
    guint64 runs = VS_PROFILE_DEFAULT_RUNS;

    if (text && !g_ascii_string_to_unsigned(text, 10, 1, 1000, &runs, NULL)) {
        g_set_error(error, VS_ERROR, VS_ERROR_USAGE,
                    "invalid run count '%s' for --runs (expected 1 to 1000)", text);
        return FALSE;
    }
    *ret_runs = (guint)runs;
    return TRUE;
}

/* One version's profile: the aggregate of its latest runs, and the latest
 * run's steps with what they changed. */
typedef struct {
    vsShadowProfile *profile;
    GPtrArray *aggregates;      /* vsProfileAggregate */
    GPtrArray *steps;           /* vsShadowStepEvents of the latest run */
} vsProfileView;

static void
vsProfileViewFree(vsProfileView *view)
{
    if (!view)
        return;
    vsShadowProfileFree(view->profile);
    g_clear_pointer(&view->aggregates, g_ptr_array_unref);
    g_clear_pointer(&view->steps, g_ptr_array_unref);
    g_free(view);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vsProfileView, vsProfileViewFree)

/* A version that has no profile: say which versions have one. */
static void
vsProfileNameVersions(vsStore *store, const char *app, GError *error)
{
    g_autoptr(GPtrArray) versions = NULL;
    g_autoptr(GString) known = g_string_new(NULL);

    if (!vsStoreListAppVersions(store, app, &versions, NULL))
        return;
    for (guint i = 0; i < versions->len; i++) {
        const vsShadowVersion *v = g_ptr_array_index(versions, i);

        if (v->succeeded)
            g_string_append_printf(known, "%s'%s'", known->len ? ", " : "", v->version);
    }
    if (known->len) {
        char *msg = g_strdup_printf("%s (versions with one: %s)", error->message, known->str);

        g_free(error->message);
        error->message = msg;
    }
}

static vsProfileView *
vsProfileViewRead(vsStore *store, const char *app, const char *version, guint runs,
                  GError **error)
{
    g_autoptr(vsProfileView) view = g_new0(vsProfileView, 1);
    g_autoptr(GError) local = NULL;

    if (!vsStoreReadShadowProfile(store, app, version, runs, &view->profile, &local)) {
        if (version && g_error_matches(local, VS_ERROR, VS_ERROR_NOT_FOUND))
            vsProfileNameVersions(store, app, local);
        g_propagate_error(error, g_steal_pointer(&local));
        return NULL;
    }
    view->aggregates = vsProfileAggregateRuns((GPtrArray *const *)view->profile->runs->pdata,
                                              view->profile->runs->len);
    if (!vsStoreReadShadowRunSteps(store, g_ptr_array_index(view->profile->run_ids, 0),
                                   &view->steps, error))
        return NULL;
    return g_steal_pointer(&view);
}

static const char *
vsProfileLatestRun(const vsProfileView *view)
{
    return g_ptr_array_index(view->profile->run_ids, 0);
}

/* The whole install: step durations and disk bytes add up (steps run one
 * after the other in a profile's runs), peaks are the highest step's. */
typedef struct {
    double duration_s;
    double cpu_peak;
    double memory_peak_kib;
    double disk_read_bytes;
    double disk_write_bytes;
} vsProfileTotals;

static void
vsProfileTotalsOf(GPtrArray *aggregates, vsProfileTotals *t)
{
    memset(t, 0, sizeof(*t));
    for (guint i = 0; i < aggregates->len; i++) {
        const vsProfileAggregate *a = g_ptr_array_index(aggregates, i);

        t->duration_s += a->duration_s.mean;
        t->cpu_peak = MAX(t->cpu_peak, a->cpu_peak.peak);
        t->memory_peak_kib = MAX(t->memory_peak_kib, a->memory_peak_kib.peak);
        t->disk_read_bytes += a->disk_read_bytes.mean;
        t->disk_write_bytes += a->disk_write_bytes.mean;
    }
}

static const vsProfileAggregate *
vsProfileFindAggregate(GPtrArray *aggregates, const char *name)
{
    for (guint i = 0; i < aggregates->len; i++) {
        const vsProfileAggregate *a = g_ptr_array_index(aggregates, i);

        if (g_str_equal(a->name, name))
            return a;
    }
    return NULL;
}

/* What the latest run's steps changed, as "profile show" and "profile
 * diff" list it. */
typedef struct {
    guint step;
    const char *step_name;
    const vsEvent *event;
} vsProfileChange;

/* The events of @type in @steps, in execution order (vsProfileChange). */
static GArray *
vsProfileChanges(GPtrArray *steps, vsEventType type, vsEventType also)
{
    GArray *out = g_array_new(FALSE, FALSE, sizeof(vsProfileChange));

    for (guint i = 0; i < steps->len; i++) {
        const vsShadowStepEvents *se = g_ptr_array_index(steps, i);

        for (guint j = 0; j < se->events->len; j++) {
            const vsEvent *e = g_ptr_array_index(se->events, j);
            vsProfileChange c = { se->step.index, se->step.name, e };

            if (e->type == type || e->type == also)
                g_array_append_val(out, c);
        }
    }
    return out;
}

static GArray *
vsProfileFiles(GPtrArray *steps)
{
    return vsProfileChanges(steps, VS_EVENT_FILE_CREATED, VS_EVENT_FILE_CREATED);
}

static GArray *
vsProfileServices(GPtrArray *steps)
{
    return vsProfileChanges(steps, VS_EVENT_SERVICE_CREATED, VS_EVENT_SERVICE_CREATED);
}

static GArray *
vsProfilePackages(GPtrArray *steps)
{
    return vsProfileChanges(steps, VS_EVENT_PACKAGE_INSTALLED, VS_EVENT_PACKAGE_UPGRADED);
}

/* "PACKAGE -> DEP" for each dependency of @packages: what "diff" compares. */
static GHashTable *
vsProfileDependencySet(GArray *packages)
{
    GHashTable *set = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

    for (guint i = 0; i < packages->len; i++) {
        const vsEvent *e = g_array_index(packages, vsProfileChange, i).event;

        for (guint j = 0; e->depends && e->depends[j]; j++)
            g_hash_table_add(set, g_strdup_printf("%s -> %s", e->path, e->depends[j]));
    }
    return set;
}

static GHashTable *
vsProfilePathSet(GArray *changes)
{
    GHashTable *set = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

    for (guint i = 0; i < changes->len; i++)
        g_hash_table_add(set, g_strdup(g_array_index(changes, vsProfileChange, i).event->path));
    return set;
}

/* --- formatting ---------------------------------------------------------------- */

static char *
vsProfileFormatBytes(double bytes)
{
    if (!isfinite(bytes) || bytes < 0)
        return g_strdup("-");
    if (bytes < 1024)
        return g_strdup_printf("%.0f B", bytes);
    return vsFormatKiB((guint64)(bytes / 1024));
}

static char *
vsProfileFormatKiB(double kib)
{
    return isfinite(kib) && kib >= 0 ? vsFormatKiB((guint64)kib) : g_strdup("-");
}

static char *
vsProfileFormatSeconds(double s)
{
    return g_strdup_printf("%.1f s", s);
}

static char *
vsProfileFormatDuration(const vsProfileFigure *f)
{
    if (f->spread > 0)
        return g_strdup_printf("%.1f s ±%.1f", f->mean, f->spread / 2);
    return vsProfileFormatSeconds(f->mean);
}

static char *
vsProfileFormatCores(double cores)
{
    return isfinite(cores) ? g_strdup_printf("%.2f", cores) : g_strdup("-");
}

static void
vsProfileJsonFigure(vsJsonWriter *w, const char *key, const vsProfileFigure *f)
{
    vsJsonWriterKey(w, key);
    vsJsonWriterBeginObject(w);
    vsJsonWriterMemberDouble(w, "mean", f->mean);
    vsJsonWriterMemberDouble(w, "peak", f->peak);
    vsJsonWriterMemberDouble(w, "spread", f->spread);
    vsJsonWriterEndObject(w);
}

static void
vsProfileJsonTotals(vsJsonWriter *w, const char *key, const vsProfileTotals *t)
{
    vsJsonWriterKey(w, key);
    vsJsonWriterBeginObject(w);
    vsJsonWriterMemberDouble(w, "duration_s", t->duration_s);
    vsJsonWriterMemberDouble(w, "cpu_peak", t->cpu_peak);
    vsJsonWriterMemberDouble(w, "memory_peak_kib", t->memory_peak_kib);
    vsJsonWriterMemberDouble(w, "disk_read_bytes", t->disk_read_bytes);
    vsJsonWriterMemberDouble(w, "disk_write_bytes", t->disk_write_bytes);
    vsJsonWriterEndObject(w);
}

/* --- profile show -------------------------------------------------------------- */

static void
vsProfileShowJsonSteps(vsJsonWriter *w, GPtrArray *aggregates)
{
    vsJsonWriterKey(w, "steps");
    vsJsonWriterBeginArray(w);
    for (guint i = 0; i < aggregates->len; i++) {
        const vsProfileAggregate *a = g_ptr_array_index(aggregates, i);

        vsJsonWriterBeginObject(w);
        vsJsonWriterMemberInt(w, "index", a->index);
        vsJsonWriterMemberString(w, "name", a->name);
        vsJsonWriterMemberInt(w, "runs", a->runs);
        vsJsonWriterMemberInt(w, "estimated", a->estimated);
        vsProfileJsonFigure(w, "duration_s", &a->duration_s);
        vsProfileJsonFigure(w, "cpu_avg", &a->cpu_avg);
        vsProfileJsonFigure(w, "cpu_peak", &a->cpu_peak);
        vsProfileJsonFigure(w, "memory_peak_kib", &a->memory_peak_kib);
        vsProfileJsonFigure(w, "disk_read_bytes", &a->disk_read_bytes);
        vsProfileJsonFigure(w, "disk_write_bytes", &a->disk_write_bytes);
        vsJsonWriterEndObject(w);
    }
    vsJsonWriterEndArray(w);
}

static void
vsProfileJsonChanges(vsJsonWriter *w, const char *key, GArray *changes, gboolean detail)
{
    vsJsonWriterKey(w, key);
    vsJsonWriterBeginArray(w);
    for (guint i = 0; i < changes->len; i++) {
        const vsProfileChange *c = &g_array_index(changes, vsProfileChange, i);

        vsJsonWriterBeginObject(w);
        vsJsonWriterMemberInt(w, "step", c->step);
        vsJsonWriterMemberString(w, "step_name", c->step_name);
        vsJsonWriterMemberString(w, "path", c->event->path);
        if (detail)
            vsJsonWriterMemberString(w, "kind", c->event->detail);
        vsJsonWriterEndObject(w);
    }
    vsJsonWriterEndArray(w);
}

static void
vsProfileJsonDependencies(vsJsonWriter *w, GArray *packages)
{
    vsJsonWriterKey(w, "dependencies");
    vsJsonWriterBeginArray(w);
    for (guint i = 0; i < packages->len; i++) {
        const vsProfileChange *c = &g_array_index(packages, vsProfileChange, i);

        vsJsonWriterBeginObject(w);
        vsJsonWriterMemberInt(w, "step", c->step);
        vsJsonWriterMemberString(w, "package", c->event->path);
        vsJsonWriterMemberString(w, "version", c->event->detail);
        vsJsonWriterKey(w, "depends");
        vsJsonWriterBeginArray(w);
        for (guint j = 0; c->event->depends && c->event->depends[j]; j++)
            vsJsonWriterString(w, c->event->depends[j]);
        vsJsonWriterEndArray(w);
        vsJsonWriterEndObject(w);
    }
    vsJsonWriterEndArray(w);
}

static void
vsProfileJsonPath(vsJsonWriter *w, GPtrArray *steps)
{
    vsJsonWriterKey(w, "path");
    vsJsonWriterBeginArray(w);
    for (guint i = 0; i < steps->len; i++) {
        const vsShadowStepEvents *se = g_ptr_array_index(steps, i);

        vsJsonWriterBeginObject(w);
        vsJsonWriterMemberInt(w, "index", se->step.index);
        vsJsonWriterMemberString(w, "name", se->step.name);
        vsJsonWriterKey(w, "exit_code");
        if (se->step.has_exit_code)
            vsJsonWriterInt(w, se->step.exit_code);
        else
            vsJsonWriterNull(w);
        vsJsonWriterMemberInt(w, "events", se->events->len);
        vsJsonWriterEndObject(w);
    }
    vsJsonWriterEndArray(w);
}

static void
vsProfileShowJson(vsCli *cli, const vsProfileView *view, GArray *files, GArray *services,
                  GArray *packages)
{
    g_autoptr(vsJsonWriter) w = vsJsonWriterNew(TRUE);
    vsProfileTotals totals;

    vsProfileTotalsOf(view->aggregates, &totals);
    vsJsonWriterBeginObject(w);
    vsJsonWriterMemberString(w, "app", view->profile->app);
    vsJsonWriterMemberString(w, "version", view->profile->version);
    vsJsonWriterKey(w, "runs");
    vsJsonWriterBeginArray(w);
    for (guint i = 0; i < view->profile->run_ids->len; i++)
        vsJsonWriterString(w, g_ptr_array_index(view->profile->run_ids, i));
    vsJsonWriterEndArray(w);
    vsProfileShowJsonSteps(w, view->aggregates);
    vsProfileJsonTotals(w, "totals", &totals);
    vsProfileJsonChanges(w, "files_created", files, FALSE);
    vsProfileJsonChanges(w, "services_created", services, TRUE);
    vsProfileJsonDependencies(w, packages);
    vsProfileJsonPath(w, view->steps);
    vsJsonWriterEndObject(w);
    vsCliPrintJson(cli, w);
}

static void
vsProfileShowTable(vsCli *cli, GPtrArray *aggregates)
{
    g_autoptr(vsCliTable) t = vsCliTableNew("STEP", "NAME", "RUNS", "DURATION", "CPU AVG",
                                            "CPU PEAK", "MEMORY PEAK", "DISK READ",
                                            "DISK WRITTEN", NULL);
    vsProfileTotals totals;

    for (guint i = 0; i < aggregates->len; i++) {
        const vsProfileAggregate *a = g_ptr_array_index(aggregates, i);
        g_autofree char *idx = g_strdup_printf("%u", a->index);
        g_autofree char *runs = g_strdup_printf("%u%s", a->runs, a->estimated ? "*" : "");
        g_autofree char *dur = vsProfileFormatDuration(&a->duration_s);
        g_autofree char *avg = vsProfileFormatCores(a->cpu_avg.mean);
        g_autofree char *peak = vsProfileFormatCores(a->cpu_peak.peak);
        g_autofree char *mem = vsProfileFormatKiB(a->memory_peak_kib.peak);
        g_autofree char *rd = vsProfileFormatBytes(a->disk_read_bytes.mean);
        g_autofree char *wr = vsProfileFormatBytes(a->disk_write_bytes.mean);

        vsCliTableAddRow(t, idx, a->name, runs, dur, avg, peak, mem, rd, wr, NULL);
    }
    vsProfileTotalsOf(aggregates, &totals);
    {
        g_autofree char *dur = vsProfileFormatSeconds(totals.duration_s);
        g_autofree char *peak = vsProfileFormatCores(totals.cpu_peak);
        g_autofree char *mem = vsProfileFormatKiB(totals.memory_peak_kib);
        g_autofree char *rd = vsProfileFormatBytes(totals.disk_read_bytes);
        g_autofree char *wr = vsProfileFormatBytes(totals.disk_write_bytes);

        vsCliTableAddRow(t, "", "total", "", dur, "", peak, mem, rd, wr, NULL);
    }
    vsCliTablePrint(cli, t);
}

static void
vsProfileShowChanges(vsCli *cli, const char *title, GArray *changes, gboolean detail)
{
    vsCliPrint(cli, "\n%s:\n", title);
    if (!changes->len)
        vsCliPrint(cli, "  none\n");
    for (guint i = 0; i < changes->len; i++) {
        const vsProfileChange *c = &g_array_index(changes, vsProfileChange, i);

        if (detail && c->event->detail)
            vsCliPrint(cli, "  step %u '%s': %s (%s)\n", c->step, c->step_name, c->event->path,
                       c->event->detail);
        else
            vsCliPrint(cli, "  step %u '%s': %s\n", c->step, c->step_name, c->event->path);
    }
}

static void
vsProfileShowText(vsCli *cli, const vsProfileView *view, GArray *files, GArray *services,
                  GArray *packages)
{
    guint n = view->profile->run_ids->len;
    guint with_deps = 0;

    vsCliPrint(cli, "Profile of app '%s' version '%s' from %u succeeded run%s (latest '%s')\n\n",
               view->profile->app, view->profile->version, n, n == 1 ? "" : "s",
               vsProfileLatestRun(view));
    vsProfileShowTable(cli, view->aggregates);
    vsProfileShowChanges(cli, "Files created", files, FALSE);
    vsProfileShowChanges(cli, "Services created", services, TRUE);
    vsCliPrint(cli, "\nDependencies:\n");
    for (guint i = 0; i < packages->len; i++) {
        const vsEvent *e = g_array_index(packages, vsProfileChange, i).event;
        g_autofree char *deps = e->depends ? g_strjoinv(", ", e->depends) : NULL;

        if (!deps)
            continue;
        vsCliPrint(cli, "  %s -> %s\n", e->path, deps);
        with_deps++;
    }
    if (!with_deps)
        vsCliPrint(cli, "  none\n");
    vsCliPrint(cli, "\nExecution path:\n");
    for (guint i = 0; i < view->steps->len; i++) {
        const vsShadowStepEvents *se = g_ptr_array_index(view->steps, i);
        guint ev = se->events->len;

        vsCliPrint(cli, "  %u. %s: %u event%s\n", se->step.index, se->step.name, ev,
                   ev == 1 ? "" : "s");
    }
}

static gboolean
vsCmdProfileShow(vsCli *cli, const vsCliArgs *args, GError **error)
{
    const char *app = vsCliArgsPositional(args, 0);
    g_autoptr(vsProfileView) view = NULL;
    g_autoptr(GArray) files = NULL;
    g_autoptr(GArray) services = NULL;
    g_autoptr(GArray) packages = NULL;
    vsStore *store;
    guint runs;

    if (!vsProfileGetRuns(args, &runs, error) || !(store = vsCliGetCheckedStore(cli, error)))
        return FALSE;
    if (!(view = vsProfileViewRead(store, app, vsCliArgsGet(args, "version"), runs, error)))
        return FALSE;
    files = vsProfileFiles(view->steps);
    services = vsProfileServices(view->steps);
    packages = vsProfilePackages(view->steps);
    if (vsCliWantJson(cli))
        vsProfileShowJson(cli, view, files, services, packages);
    else
        vsProfileShowText(cli, view, files, services, packages);
    return TRUE;
}

/* --- profile diff -------------------------------------------------------------- */

static int
vsProfileCompareStrings(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The members of @a not in @b, sorted. */
static GPtrArray *
vsProfileSetMinus(GHashTable *a, GHashTable *b)
{
    GPtrArray *out = g_ptr_array_new();
    GHashTableIter it;
    gpointer key;

    g_hash_table_iter_init(&it, a);
    while (g_hash_table_iter_next(&it, &key, NULL))
        if (!g_hash_table_contains(b, key))
            g_ptr_array_add(out, key);
    g_ptr_array_sort(out, vsProfileCompareStrings);
    return out;
}

typedef struct {
    const char *title;          /* "Files", "Services", "Dependencies" */
    const char *key;            /* its JSON member */
    GPtrArray *added;           /* const char *, into the sets below */
    GPtrArray *removed;
    GHashTable *old_set;
    GHashTable *new_set;
} vsProfileSetDiff;

static void
vsProfileSetDiffInit(vsProfileSetDiff *d, const char *title, const char *key,
                     GHashTable *old_set, GHashTable *new_set)
{
    d->title = title;
    d->key = key;
    d->old_set = old_set;
    d->new_set = new_set;
    d->added = vsProfileSetMinus(new_set, old_set);
    d->removed = vsProfileSetMinus(old_set, new_set);
}

static void
vsProfileSetDiffClear(vsProfileSetDiff *d)
{
    g_clear_pointer(&d->added, g_ptr_array_unref);
    g_clear_pointer(&d->removed, g_ptr_array_unref);
    g_clear_pointer(&d->old_set, g_hash_table_unref);
    g_clear_pointer(&d->new_set, g_hash_table_unref);
}

/* A figure of a step in both versions; a step missing in one has NaN. */
typedef struct {
    const char *name;
    const vsProfileAggregate *old_step;
    const vsProfileAggregate *new_step;
} vsProfileStepPair;

/* Steps of the old version in its order, then those only the new one has. */
static GArray *
vsProfileStepPairs(GPtrArray *old_aggs, GPtrArray *new_aggs)
{
    GArray *pairs = g_array_new(FALSE, FALSE, sizeof(vsProfileStepPair));

    for (guint i = 0; i < old_aggs->len; i++) {
        const vsProfileAggregate *a = g_ptr_array_index(old_aggs, i);
        vsProfileStepPair p = { a->name, a, vsProfileFindAggregate(new_aggs, a->name) };

        g_array_append_val(pairs, p);
    }
    for (guint i = 0; i < new_aggs->len; i++) {
        const vsProfileAggregate *b = g_ptr_array_index(new_aggs, i);
        vsProfileStepPair p = { b->name, NULL, b };

        if (!vsProfileFindAggregate(old_aggs, b->name))
            g_array_append_val(pairs, p);
    }
    return pairs;
}

static const char *
vsProfilePairChange(const vsProfileStepPair *p)
{
    return !p->old_step ? "added" : !p->new_step ? "removed" : "changed";
}

static void
vsProfileJsonPairSide(vsJsonWriter *w, const char *key, const vsProfileAggregate *a)
{
    vsJsonWriterKey(w, key);
    if (!a) {
        vsJsonWriterNull(w);
        return;
    }
    vsJsonWriterBeginObject(w);
    vsJsonWriterMemberDouble(w, "duration_s", a->duration_s.mean);
    vsJsonWriterMemberDouble(w, "cpu_avg", a->cpu_avg.mean);
    vsJsonWriterMemberDouble(w, "cpu_peak", a->cpu_peak.peak);
    vsJsonWriterMemberDouble(w, "memory_peak_kib", a->memory_peak_kib.peak);
    vsJsonWriterMemberDouble(w, "disk_read_bytes", a->disk_read_bytes.mean);
    vsJsonWriterMemberDouble(w, "disk_write_bytes", a->disk_write_bytes.mean);
    vsJsonWriterEndObject(w);
}

static void
vsProfileDiffJson(vsCli *cli, const vsProfileView *a, const vsProfileView *b, GArray *pairs,
                  vsProfileSetDiff *sets, guint n_sets)
{
    g_autoptr(vsJsonWriter) w = vsJsonWriterNew(TRUE);
    vsProfileTotals ta;
    vsProfileTotals tb;

    vsProfileTotalsOf(a->aggregates, &ta);
    vsProfileTotalsOf(b->aggregates, &tb);
    vsJsonWriterBeginObject(w);
    vsJsonWriterMemberString(w, "app", a->profile->app);
    vsJsonWriterMemberString(w, "from", a->profile->version);
    vsJsonWriterMemberString(w, "to", b->profile->version);
    vsJsonWriterMemberString(w, "from_run", vsProfileLatestRun(a));
    vsJsonWriterMemberString(w, "to_run", vsProfileLatestRun(b));
    vsJsonWriterKey(w, "steps");
    vsJsonWriterBeginArray(w);
    for (guint i = 0; i < pairs->len; i++) {
        const vsProfileStepPair *p = &g_array_index(pairs, vsProfileStepPair, i);

        vsJsonWriterBeginObject(w);
        vsJsonWriterMemberString(w, "name", p->name);
        vsJsonWriterMemberString(w, "change", vsProfilePairChange(p));
        vsProfileJsonPairSide(w, "from", p->old_step);
        vsProfileJsonPairSide(w, "to", p->new_step);
        vsJsonWriterEndObject(w);
    }
    vsJsonWriterEndArray(w);
    vsProfileJsonTotals(w, "from_totals", &ta);
    vsProfileJsonTotals(w, "to_totals", &tb);
    for (guint i = 0; i < n_sets; i++) {
        vsJsonWriterKey(w, sets[i].key);
        vsJsonWriterBeginObject(w);
        vsJsonWriterKey(w, "added");
        vsJsonWriterBeginArray(w);
        for (guint j = 0; j < sets[i].added->len; j++)
            vsJsonWriterString(w, g_ptr_array_index(sets[i].added, j));
        vsJsonWriterEndArray(w);
        vsJsonWriterKey(w, "removed");
        vsJsonWriterBeginArray(w);
        for (guint j = 0; j < sets[i].removed->len; j++)
            vsJsonWriterString(w, g_ptr_array_index(sets[i].removed, j));
        vsJsonWriterEndArray(w);
        vsJsonWriterEndObject(w);
    }
    vsJsonWriterEndObject(w);
    vsCliPrintJson(cli, w);
}

/* "OLD -> NEW" of one figure; a side a step does not have is "-". */
typedef char *(*vsProfileFormatFunc)(double v);

static char *
vsProfileFromTo(const vsProfileStepPair *p, gsize offset, gboolean peak, vsProfileFormatFunc fmt)
{
    g_autofree char *x = NULL;
    g_autofree char *y = NULL;

#define VS_PROFILE_FIG(a) \
    (peak ? ((const vsProfileFigure *)((const char *)(a) + offset))->peak \
          : ((const vsProfileFigure *)((const char *)(a) + offset))->mean)
    x = p->old_step ? fmt(VS_PROFILE_FIG(p->old_step)) : g_strdup("-");
    y = p->new_step ? fmt(VS_PROFILE_FIG(p->new_step)) : g_strdup("-");
#undef VS_PROFILE_FIG
    return g_strdup_printf("%s -> %s", x, y);
}

static char *
vsProfileTotalFromTo(double x, double y, vsProfileFormatFunc fmt)
{
    g_autofree char *a = fmt(x);
    g_autofree char *b = fmt(y);

    return g_strdup_printf("%s -> %s", a, b);
}

static void
vsProfileDiffTable(vsCli *cli, const vsProfileView *a, const vsProfileView *b, GArray *pairs)
{
    g_autoptr(vsCliTable) t = vsCliTableNew("STEP", "CHANGE", "DURATION", "CPU PEAK",
                                            "MEMORY PEAK", "DISK READ", "DISK WRITTEN", NULL);
    vsProfileTotals ta;
    vsProfileTotals tb;

    for (guint i = 0; i < pairs->len; i++) {
        const vsProfileStepPair *p = &g_array_index(pairs, vsProfileStepPair, i);
        g_autofree char *dur = vsProfileFromTo(p, G_STRUCT_OFFSET(vsProfileAggregate, duration_s),
                                               FALSE, vsProfileFormatSeconds);
        g_autofree char *cpu = vsProfileFromTo(p, G_STRUCT_OFFSET(vsProfileAggregate, cpu_peak),
                                               TRUE, vsProfileFormatCores);
        g_autofree char *mem = vsProfileFromTo(p, G_STRUCT_OFFSET(vsProfileAggregate,
                                                                  memory_peak_kib),
                                               TRUE, vsProfileFormatKiB);
        g_autofree char *rd = vsProfileFromTo(p, G_STRUCT_OFFSET(vsProfileAggregate,
                                                                 disk_read_bytes),
                                              FALSE, vsProfileFormatBytes);
        g_autofree char *wr = vsProfileFromTo(p, G_STRUCT_OFFSET(vsProfileAggregate,
                                                                 disk_write_bytes),
                                              FALSE, vsProfileFormatBytes);

        vsCliTableAddRow(t, p->name, vsProfilePairChange(p), dur, cpu, mem, rd, wr, NULL);
    }
    vsProfileTotalsOf(a->aggregates, &ta);
    vsProfileTotalsOf(b->aggregates, &tb);
    {
        g_autofree char *dur = vsProfileTotalFromTo(ta.duration_s, tb.duration_s,
                                                    vsProfileFormatSeconds);
        g_autofree char *cpu = vsProfileTotalFromTo(ta.cpu_peak, tb.cpu_peak,
                                                    vsProfileFormatCores);
        g_autofree char *mem = vsProfileTotalFromTo(ta.memory_peak_kib, tb.memory_peak_kib,
                                                    vsProfileFormatKiB);
        g_autofree char *rd = vsProfileTotalFromTo(ta.disk_read_bytes, tb.disk_read_bytes,
                                                   vsProfileFormatBytes);
        g_autofree char *wr = vsProfileTotalFromTo(ta.disk_write_bytes, tb.disk_write_bytes,
                                                   vsProfileFormatBytes);

        vsCliTableAddRow(t, "total", "", dur, cpu, mem, rd, wr, NULL);
    }
    vsCliTablePrint(cli, t);
}

static void
vsProfileDiffText(vsCli *cli, const vsProfileView *a, const vsProfileView *b, GArray *pairs,
                  vsProfileSetDiff *sets, guint n_sets)
{
    vsCliPrint(cli, "App '%s': version '%s' (run '%s') -> version '%s' (run '%s')\n\n",
               a->profile->app, a->profile->version, vsProfileLatestRun(a),
               b->profile->version, vsProfileLatestRun(b));
    vsProfileDiffTable(cli, a, b, pairs);
    for (guint i = 0; i < n_sets; i++) {
        vsCliPrint(cli, "\n%s:\n", sets[i].title);
        if (!sets[i].added->len && !sets[i].removed->len)
            vsCliPrint(cli, "  no change\n");
        for (guint j = 0; j < sets[i].added->len; j++)
            vsCliPrint(cli, "  + %s\n", (const char *)g_ptr_array_index(sets[i].added, j));
        for (guint j = 0; j < sets[i].removed->len; j++)
            vsCliPrint(cli, "  - %s\n", (const char *)g_ptr_array_index(sets[i].removed, j));
    }
}

static gboolean
vsCmdProfileDiff(vsCli *cli, const vsCliArgs *args, GError **error)
{
    const char *app = vsCliArgsPositional(args, 0);
    g_autoptr(vsProfileView) a = NULL;
    g_autoptr(vsProfileView) b = NULL;
    g_autoptr(GArray) pairs = NULL;
    vsProfileSetDiff sets[3];
    vsStore *store;
    guint runs;

    if (!vsProfileGetRuns(args, &runs, error) || !(store = vsCliGetCheckedStore(cli, error)))
        return FALSE;
    if (!(a = vsProfileViewRead(store, app, vsCliArgsPositional(args, 1), runs, error)) ||
        !(b = vsProfileViewRead(store, app, vsCliArgsPositional(args, 2), runs, error)))
        return FALSE;
    pairs = vsProfileStepPairs(a->aggregates, b->aggregates);
    {
        g_autoptr(GArray) fa = vsProfileFiles(a->steps);
        g_autoptr(GArray) fb = vsProfileFiles(b->steps);
        g_autoptr(GArray) sa = vsProfileServices(a->steps);
        g_autoptr(GArray) sb = vsProfileServices(b->steps);
        g_autoptr(GArray) pa = vsProfilePackages(a->steps);
        g_autoptr(GArray) pb = vsProfilePackages(b->steps);

        vsProfileSetDiffInit(&sets[0], "Files", "files", vsProfilePathSet(fa),
                             vsProfilePathSet(fb));
        vsProfileSetDiffInit(&sets[1], "Services", "services", vsProfilePathSet(sa),
                             vsProfilePathSet(sb));
        vsProfileSetDiffInit(&sets[2], "Dependencies", "dependencies",
                             vsProfileDependencySet(pa), vsProfileDependencySet(pb));
    }
    if (vsCliWantJson(cli))
        vsProfileDiffJson(cli, a, b, pairs, sets, G_N_ELEMENTS(sets));
    else
        vsProfileDiffText(cli, a, b, pairs, sets, G_N_ELEMENTS(sets));
    for (guint i = 0; i < G_N_ELEMENTS(sets); i++)
        vsProfileSetDiffClear(&sets[i]);
    return TRUE;
}

/* --- profile optimize ---------------------------------------------------------- */

/* The latest succeeded run of @app's @version (NULL: of any version) that
 * is no optimization check. */
static vsShadowRunRecord *
vsProfileFindRun(vsStore *store, const char *app, const char *version, GError **error)
{
    g_autoptr(GPtrArray) runs = NULL;

    if (!vsStoreListShadowRuns(store, app, version, &runs, error))
        return NULL;
    for (guint i = 0; i < runs->len; i++) {
        vsShadowRunRecord *run = g_ptr_array_index(runs, i);

        if (run->state == VS_SHADOW_SUCCEEDED && !run->optimized_from)
            return g_ptr_array_steal_index(runs, i);
    }
    if (version)
        g_set_error(error, VS_ERROR, VS_ERROR_NOT_FOUND,
                    "app '%s' version '%s' has no succeeded shadow run", app, version);
    else
        g_set_error(error, VS_ERROR, VS_ERROR_NOT_FOUND,
                    "app '%s' has no succeeded shadow run", app);
    return NULL;
}

/* The events of @steps in execution order, borrowed. */
static GPtrArray *
vsProfileAllEvents(GPtrArray *steps)
{
    GPtrArray *all = g_ptr_array_new();

    for (guint i = 0; i < steps->len; i++) {
        const vsShadowStepEvents *se = g_ptr_array_index(steps, i);

        for (guint j = 0; j < se->events->len; j++)
            g_ptr_array_add(all, g_ptr_array_index(se->events, j));
    }
    return all;
}

/* The time the steps of a run took: steps of one group of @script ran
 * together, so a group counts from its first start to its last end;
 * every other step counts alone. */
static gint64
vsProfileStepsTime(GPtrArray *steps, const vsScript *script)
{
    g_autoptr(GHashTable) groups = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL,
                                                         g_free);
    GHashTableIter it;
    gpointer value;
    gint64 total = 0;

    for (guint i = 0; i < steps->len; i++) {
        const vsShadowStepRecord *st = &((vsShadowStepEvents *)g_ptr_array_index(steps, i))->step;
        const vsScriptStep *ss = st->index >= 1 && st->index <= script->steps->len
                                     ? g_ptr_array_index(script->steps, st->index - 1) : NULL;
        gint64 *span;

        if (!st->ended_us)
            continue;
        if (!ss || !ss->group) {
            total += st->ended_us - st->started_us;
            continue;
        }
        if (!(span = g_hash_table_lookup(groups, GUINT_TO_POINTER(ss->group)))) {
            span = g_new(gint64, 2);
            span[0] = st->started_us;
            span[1] = st->ended_us;
            g_hash_table_insert(groups, GUINT_TO_POINTER(ss->group), span);
        }
        span[0] = MIN(span[0], st->started_us);
        span[1] = MAX(span[1], st->ended_us);
    }
    g_hash_table_iter_init(&it, groups);
    while (g_hash_table_iter_next(&it, NULL, &value))
        total += ((gint64 *)value)[1] - ((gint64 *)value)[0];
    return total;
}

/* What "profile optimize" made and, with --verify, found. */
typedef struct {
    vsShadowRunRecord *run;         /* the original */
    vsScript *script;               /* its script */
    GPtrArray *steps;               /* vsShadowStepEvents */
    vsProfilePlan *plan;
    vsScript *optimized;
    GString *text;                  /* the optimized script, rendered */
    const char *output;
    /* --verify */
    vsShadowRunResult *result;
    vsShadowOptimization *opt;
} vsProfileOptimizeJob;

static void
vsProfileOptimizeJobClear(vsProfileOptimizeJob *job)
{
    g_clear_pointer(&job->run, vsShadowRunRecordFree);
    g_clear_pointer(&job->script, vsScriptFree);
    g_clear_pointer(&job->steps, g_ptr_array_unref);
    g_clear_pointer(&job->plan, vsProfilePlanFree);
    g_clear_pointer(&job->optimized, vsScriptFree);
    if (job->text)
        g_string_free(job->text, TRUE);
    job->text = NULL;
    g_clear_pointer(&job->result, vsShadowRunResultFree);
    g_clear_pointer(&job->opt, vsShadowOptimizationFree);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(vsProfileOptimizeJob, vsProfileOptimizeJobClear)

static const char *
vsProfileStepName(const vsProfileOptimizeJob *job, guint index)
{
    const vsScriptStep *st = index >= 1 && index <= job->script->steps->len
                                 ? g_ptr_array_index(job->script->steps, index - 1) : NULL;

    return st ? st->name : "?";
}

/* Plan the optimized script from the original run's steps and events. */
static gboolean
vsProfileOptimizePlan(vsProfileOptimizeJob *job, GError **error)
{
    g_autofree char *label = g_strdup_printf("script of shadow run '%s'", job->run->id);
    g_autofree vsProfileStepEvents *se = NULL;

    if (!(job->script = vsScriptParse(job->run->script, strlen(job->run->script), label,
                                      error)))
        return FALSE;
    if (job->steps->len != job->script->steps->len) {
        g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
                    "shadow run '%s' recorded %u steps but its script has %u", job->run->id,
                    job->steps->len, job->script->steps->len);
        return FALSE;
    }
    se = g_new0(vsProfileStepEvents, job->steps->len);
    for (guint i = 0; i < job->steps->len; i++) {
        const vsShadowStepEvents *st = g_ptr_array_index(job->steps, i);

        se[i].index = st->step.index;
        se[i].name = st->step.name;
        /* a step of a succeeded run that never ended is unknown: keep it */
        se[i].exit_code = st->step.has_exit_code ? st->step.exit_code : -1;
        se[i].events = st->events;
    }
    job->plan = vsProfileOptimize(se, job->steps->len);
    if (!(job->optimized = vsProfileOptimizedScript(job->script, job->plan, error)))
        return FALSE;
    job->text = g_string_new(NULL);
    vsScriptRender(job->optimized, job->text);
    return TRUE;
}

static gboolean
vsProfileOptimizeWrite(vsProfileOptimizeJob *job, GError **error)
{
    g_autoptr(GError) local = NULL;

    if (!g_file_set_contents(job->output, job->text->str, (gssize)job->text->len, &local)) {
        g_set_error(error, VS_ERROR, VS_ERROR_IO, "cannot write the optimized script to '%s': %s",
                    job->output, local->message);
        return FALSE;
    }
    return TRUE;
}

static gboolean
vsProfileVerifyOptions(vsCli *cli, const vsCliArgs *args, vsShadowRunOptions *o,
                       GError **error)
{
    const char *base = vsCliArgsGet(args, "base");

    if (!base) {
        g_set_error(error, VS_ERROR, VS_ERROR_USAGE, "--verify needs --base");
        return FALSE;
    }
    if (!vsLimitsParse(vsCliArgsGet(args, "limits"), &o->limits, error))
        return FALSE;
    o->base = base;
    o->pool = vsCliGetConfig(cli)->shadow_pool;
    return TRUE;
}

/* SIGINT and SIGTERM cancel the verifying run, so that it cleans up and
 * is closed in the store, as in "shadow run". */
static gboolean
vsProfileRunShadow(vsCli *cli, vsShadowRunOptions *o, vsShadowRunResult **ret_result,
                   GError **error)
{
    g_autoptr(vsCliSignalWatch) watch = NULL;
    vsHypervisor *hv;
    vsStore *store;
    gboolean ok;

    /* before libvirt starts threads of its own: they inherit the mask */
    if (!(watch = vsCliSignalWatchStart(error)) ||
        !(hv = vsCliGetHypervisor(cli, error)) || !(store = vsCliGetCheckedStore(cli, error)))
        return FALSE;
    o->cancel_reason = vsCliSignalWatchReasonRef(watch);
    ok = vsShadowRun(hv, store, o, NULL, vsCliSignalWatchCancellable(watch), ret_result, error);
    o->cancel_reason = NULL;
    return ok;
}

/* Run the optimized script in a shadow of its own, compare it with the
 * original run and store the result. */
static gboolean
vsProfileVerify(vsCli *cli, vsShadowRunOptions *o, vsProfileOptimizeJob *job, GError **error)
{
    g_autofree char *sum = g_compute_checksum_for_string(G_CHECKSUM_SHA256, job->text->str,
                                                         (gssize)job->text->len);
    g_autofree char *host = vsHostName();
    g_autoptr(GPtrArray) steps = NULL;
    g_autoptr(GPtrArray) before = NULL;
    g_autoptr(GPtrArray) after = NULL;
    g_autoptr(vsProfileEndComparison) cmp = NULL;
    g_autoptr(GPtrArray) dropped = g_ptr_array_new();
    vsStore *store;

    o->app = job->run->app;
    o->version = job->run->version;
    o->script = job->optimized;
    o->script_text = job->text->str;
    o->script_sha256 = sum;
    o->host = host;
    o->optimized_from = job->run->id;
    vsCliInfo(cli, "Verifying the optimized script in a shadow of '%s'\n", o->base);
    if (!vsProfileRunShadow(cli, o, &job->result, error) ||
        !(store = vsCliGetCheckedStore(cli, error)))
        return FALSE;
    if (!vsStoreReadShadowRunSteps(store, job->result->run_id, &steps, error))
        return FALSE;
    before = vsProfileAllEvents(job->steps);
    after = vsProfileAllEvents(steps);
    cmp = vsProfileCompareEndStates(before, after);
    for (guint i = 0; i < job->plan->dropped->len; i++)
        g_ptr_array_add(dropped, (gpointer)vsProfileStepName(
                                     job, g_array_index(job->plan->dropped, guint, i)));
    g_ptr_array_add(dropped, NULL);
    job->opt = g_new0(vsShadowOptimization, 1);
    job->opt->original_run = g_strdup(job->run->id);
    job->opt->optimized_run = g_strdup(job->result->run_id);
    job->opt->script = g_strdup(job->text->str);
    job->opt->dropped = g_strdupv((char **)dropped->pdata);
    job->opt->groups = job->plan->groups->len;
    job->opt->original_us = vsProfileStepsTime(job->steps, job->script);
    job->opt->optimized_us = vsProfileStepsTime(steps, job->optimized);
    /* a run that did not finish cannot vouch for any end state */
    job->opt->same_files = cmp->same_files && job->result->state == VS_SHADOW_SUCCEEDED;
    job->opt->same_services = cmp->same_services && job->result->state == VS_SHADOW_SUCCEEDED;
    g_ptr_array_add(cmp->differences, NULL);
    job->opt->differences = g_strjoinv("\n", (char **)cmp->differences->pdata);
    job->opt->optimized_state = job->result->state;
    return vsStoreRecordShadowOptimization(store, job->opt, error);
}

static void
vsProfileOptimizeJson(vsCli *cli, const vsProfileOptimizeJob *job)
{
    g_autoptr(vsJsonWriter) w = vsJsonWriterNew(TRUE);

    vsJsonWriterBeginObject(w);
    vsJsonWriterMemberString(w, "app", job->run->app);
    vsJsonWriterMemberString(w, "version", job->run->version);
    vsJsonWriterMemberString(w, "run", job->run->id);
    vsJsonWriterMemberString(w, "output", job->output);
    vsJsonWriterMemberInt(w, "steps", job->script->steps->len);
    vsJsonWriterKey(w, "dropped");
    vsJsonWriterBeginArray(w);
    for (guint i = 0; i < job->plan->dropped->len; i++) {
        guint idx = g_array_index(job->plan->dropped, guint, i);

        vsJsonWriterBeginObject(w);
        vsJsonWriterMemberInt(w, "index", idx);
        vsJsonWriterMemberString(w, "name", vsProfileStepName(job, idx));
        vsJsonWriterEndObject(w);
    }
    vsJsonWriterEndArray(w);
    vsJsonWriterKey(w, "groups");
    vsJsonWriterBeginArray(w);
    for (guint i = 0; i < job->plan->groups->len; i++) {
        GArray *g = g_ptr_array_index(job->plan->groups, i);

        vsJsonWriterBeginArray(w);
        for (guint j = 0; j < g->len; j++)
            vsJsonWriterString(w, vsProfileStepName(job, g_array_index(g, guint, j)));
        vsJsonWriterEndArray(w);
    }
    vsJsonWriterEndArray(w);
    vsJsonWriterKey(w, "verify");
    if (!job->opt) {
        vsJsonWriterNull(w);
    } else {
        vsJsonWriterBeginObject(w);
        vsJsonWriterMemberString(w, "run", job->opt->optimized_run);
        vsJsonWriterMemberString(w, "state", vsShadowStateToString(job->result->state));
        vsJsonWriterMemberString(w, "error", job->result->error);
        vsJsonWriterMemberDouble(w, "original_s", job->opt->original_us / 1e6);
        vsJsonWriterMemberDouble(w, "optimized_s", job->opt->optimized_us / 1e6);
        vsJsonWriterMemberBool(w, "same_files", job->opt->same_files);
        vsJsonWriterMemberBool(w, "same_services", job->opt->same_services);
        vsJsonWriterKey(w, "differences");
        vsJsonWriterBeginArray(w);
        if (*job->opt->differences) {
            g_auto(GStrv) lines = g_strsplit(job->opt->differences, "\n", -1);

            for (guint i = 0; lines[i]; i++)
                vsJsonWriterString(w, lines[i]);
        }
        vsJsonWriterEndArray(w);
        vsJsonWriterEndObject(w);
    }
    vsJsonWriterEndObject(w);
    vsCliPrintJson(cli, w);
}

static void
vsProfileOptimizeText(vsCli *cli, const vsProfileOptimizeJob *job)
{
    vsCliPrint(cli, "Wrote '%s': %u of %u steps of shadow run '%s' (app '%s' version '%s') "
               "in %u group%s\n", job->output, job->optimized->steps->len,
               job->script->steps->len, job->run->id, job->run->app, job->run->version,
               job->plan->groups->len, job->plan->groups->len == 1 ? "" : "s");
    for (guint i = 0; i < job->plan->dropped->len; i++) {
        guint idx = g_array_index(job->plan->dropped, guint, i);

        vsCliPrint(cli, "Dropped step %u '%s': it changed nothing\n", idx,
                   vsProfileStepName(job, idx));
    }
    for (guint i = 0; i < job->plan->groups->len; i++) {
        GArray *g = g_ptr_array_index(job->plan->groups, i);
        g_autoptr(GString) names = g_string_new(NULL);

        for (guint j = 0; j < g->len; j++)
            g_string_append_printf(names, "%s'%s'", j ? ", " : "",
                                   vsProfileStepName(job, g_array_index(g, guint, j)));
        vsCliPrint(cli, "Group %u%s: %s\n", i + 1, g->len > 1 ? " (concurrent)" : "",
                   names->str);
    }
    if (!job->opt)
        return;
    vsCliPrint(cli, "Verified in shadow run '%s': %s, steps took %.1f s (original %.1f s), "
               "files %s, services %s\n", job->opt->optimized_run,
               vsShadowStateToString(job->result->state), job->opt->optimized_us / 1e6,
               job->opt->original_us / 1e6,
               job->opt->same_files ? "the same" : "differ",
               job->opt->same_services ? "the same" : "differ");
    if (*job->opt->differences)
        vsCliPrint(cli, "%s\n", job->opt->differences);
}

static gboolean
vsCmdProfileOptimize(vsCli *cli, const vsCliArgs *args, GError **error)
{
    g_auto(vsProfileOptimizeJob) job = { 0 };
    vsShadowRunOptions o = { 0 };
    gboolean verify = vsCliArgsHas(args, "verify");
    g_autofree char *lock_dir = vsRunLockDir(vsCliGetStateDir(cli));
    vsStore *store;

    job.output = vsCliArgsGet(args, "output");
    if (!job.output) {
        g_set_error(error, VS_ERROR, VS_ERROR_USAGE, "profile optimize needs -o FILE");
        return FALSE;
    }
    if (verify && !vsProfileVerifyOptions(cli, args, &o, error))
        return FALSE;
    o.lock_dir = lock_dir;
    if (!verify && (vsCliArgsHas(args, "base") || vsCliArgsHas(args, "limits"))) {
        g_set_error(error, VS_ERROR, VS_ERROR_USAGE, "--base and --limits need --verify");
        return FALSE;
    }
    if (!(store = vsCliGetCheckedStore(cli, error)))
        return FALSE;
    if (!(job.run = vsProfileFindRun(store, vsCliArgsPositional(args, 0),
                                     vsCliArgsGet(args, "version"), error)) ||
        !vsStoreReadShadowRunSteps(store, job.run->id, &job.steps, error) ||
        !vsProfileOptimizePlan(&job, error) || !vsProfileOptimizeWrite(&job, error))
        return FALSE;
    if (verify && !vsProfileVerify(cli, &o, &job, error))
        return FALSE;
    if (vsCliWantJson(cli))
        vsProfileOptimizeJson(cli, &job);
    else
        vsProfileOptimizeText(cli, &job);
    if (job.opt && !vsShadowOptimizationVerified(job.opt)) {
        g_set_error(error, VS_ERROR, VS_ERROR_FAILED,
                    job.result->state != VS_SHADOW_SUCCEEDED
                        ? "the optimized script's shadow run '%s' did not succeed"
                        : "the optimized script's shadow run '%s' did not end in the original's "
                          "state", job.opt->optimized_run);
        return FALSE;
    }
    return TRUE;
}

/* --- the table ----------------------------------------------------------------- */

static const vsCliOption vsCmdProfileShowOptions[] = {
    { "version", 0, VS_OPT_STRING, "V",
      "the app version (default: the one with the newest succeeded run)" },
    { "runs", 'n', VS_OPT_STRING, "N", "aggregate the latest N succeeded runs (default 5)" },
    { NULL }
};

static const vsCliOption vsCmdProfileDiffOptions[] = {
    { "runs", 'n', VS_OPT_STRING, "N", "aggregate the latest N succeeded runs (default 5)" },
    { NULL }
};

static const vsCliOption vsCmdProfileOptimizeOptions[] = {
    { "version", 0, VS_OPT_STRING, "V",
      "the app version (default: the one with the newest succeeded run)" },
    { "output", 'o', VS_OPT_STRING, "FILE", "write the optimized script to FILE (required)" },
    { "verify", 0, VS_OPT_FLAG, NULL,
      "run the optimized script in a shadow and compare it with the original" },
    { "base", 0, VS_OPT_STRING, "DOMAIN|VOLUME", "the base of the --verify shadow run" },
    { "limits", 0, VS_OPT_STRING, "LIMITS",
      "limits of the --verify shadow run (vcpus=1,cpu=50%,memory=512M,...)" },
    { NULL }
};

const vsCliCommand vsCmdProfile[] = {
    { "profile show", "APP", "show the install profile of an app version",
      "Aggregates the latest succeeded shadow runs of the app version per\n"
      "step: mean duration (± half the spread), mean of the average CPU,\n"
      "highest CPU and memory peaks, mean disk bytes read and written, and\n"
      "their totals (RUNS marked * when a step was estimated from the nearest\n"
      "sample).  Then lists what the latest run did: the files and services\n"
      "created by each step, the package dependencies, and the execution path\n"
      "(steps in order with their event counts).  Runs that checked an\n"
      "optimized script are no part of a profile.",
      vsCmdProfileShowOptions, 1, 1, vsCmdProfileShow },
    { "profile diff", "APP V1 V2", "show what changed between two versions' profiles",
      "Sets the profiles of versions V1 and V2 side by side: per step (by\n"
      "name) and in total, duration, CPU peak, memory peak and disk bytes\n"
      "read and written, with steps added or removed; then the files and\n"
      "services created and the package dependencies that V2's latest run\n"
      "added (+) or no longer has (-) against V1's.",
      vsCmdProfileDiffOptions, 3, 3, vsCmdProfileDiff },
    { "profile optimize", "APP", "write an optimized install script",
      "Takes the latest succeeded shadow run of the app version and writes its\n"
      "script to FILE, optimized: steps that changed nothing are dropped, the\n"
      "others keep the observed order (dependencies first) and are grouped\n"
      "into \"# group: N\" blocks whose steps may run concurrently.  With\n"
      "--verify, the optimized script runs in a shadow of its own on --base\n"
      "and is compared with the original run: time taken by the steps, and\n"
      "whether files and services end in the same state.  The result is\n"
      "stored; deploy uses an optimized script once it verified.  Exits 1\n"
      "when the verifying run fails or ends in another state.",
      vsCmdProfileOptimizeOptions, 1, 1, vsCmdProfileOptimize },
    { NULL }
};
