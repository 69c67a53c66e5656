/*
 * vsprofiletest.c: per-step attribution of resource samples (counter
 * resets, steps shorter than the sampling interval), aggregation over
 * runs, the optimized order and script, and deploy sizing; every expected
 * figure is worked out by hand in the comments
 */
#include <config.h>

#include <string.h>

#include "shadow/vsprofile.h"
#include "util/vserror.h"
#include "vstestutils.h"

#define SEC G_USEC_PER_SEC
#define TOL 1e-9

static const vsProfileUsage *
vsTestUsage(GPtrArray *u, guint i)
{
    ck_assert_uint_lt(i, u->len);
    return g_ptr_array_index(u, i);
}

START_TEST(test_attribute)
{
    static const vsProfileSpan spans[] = {
        { 1, "files", 0, 3 * SEC },
        { 2, "cpu", 3 * SEC, 6 * SEC },
        { 3, "quick", 6 * SEC + SEC / 5, 6 * SEC + SEC / 2 },
        { 4, "mem", 7 * SEC, 9 * SEC },
    };
    /* out of order on purpose */
    static const vsProfileSample samples[] = {
        { 4 * SEC, 1.0, 120000, 3000, 1500 },
        { 1 * SEC, 0.2, 100000, 1000, 0 },
        { 2 * SEC, 0.4, 110000, 3000, 500 },
        { 3 * SEC, 0.3, 120000, 3000, 1500 },
        { 5 * SEC, 0.9, 121000, 3100, 1500 },
        { 6 * SEC, 0.95, 121000, 100, 1600 },       /* the read counter restarted */
        { 7 * SEC, 0.1, 121000, 300, 2600 },
        { 8 * SEC, 0.2, 400000, 300, 2600 },
        { 9 * SEC, 0.15, 380000, 400, 2600 },
    };
    g_autoptr(GPtrArray) u = vsProfileAttribute(spans, G_N_ELEMENTS(spans), samples,
                                                G_N_ELEMENTS(samples));
    const vsProfileUsage *x;

    ck_assert_uint_eq(u->len, 4);
    /* files: samples at 1, 2, 3 s (3 s is on both edges: the first span wins) */
    x = vsTestUsage(u, 0);
    ck_assert_str_eq(x->name, "files");
    ck_assert_uint_eq(x->index, 1);
    ck_assert_int_eq(x->duration_us, 3 * SEC);
    ck_assert_uint_eq(x->samples, 3);
    ck_assert(!x->estimated);
    ck_assert_double_eq_tol(x->cpu_avg, 0.3, TOL);          /* (0.2 + 0.4 + 0.3) / 3 */
    ck_assert_double_eq_tol(x->cpu_peak, 0.4, TOL);
    ck_assert_uint_eq(x->memory_peak_kib, 120000);
    ck_assert_uint_eq(x->disk_read_bytes, 2000);            /* 1 s: no delta; 2000 + 0 */
    ck_assert_uint_eq(x->disk_write_bytes, 1500);           /* 500 + 1000 */
    /* cpu: samples at 4, 5, 6 s */
    x = vsTestUsage(u, 1);
    ck_assert_uint_eq(x->samples, 3);
    ck_assert_double_eq_tol(x->cpu_avg, 0.95, TOL);         /* (1.0 + 0.9 + 0.95) / 3 */
    ck_assert_double_eq_tol(x->cpu_peak, 1.0, TOL);
    ck_assert_uint_eq(x->memory_peak_kib, 121000);
    ck_assert_uint_eq(x->disk_read_bytes, 200);             /* 0 + 100 + 100 (reset: 3100 -> 100) */
    ck_assert_uint_eq(x->disk_write_bytes, 100);
    /* quick: 0.3 s, no sample; nearest is 6 s (0.2 s away, 7 s is 0.5 s) */
    x = vsTestUsage(u, 2);
    ck_assert_uint_eq(x->samples, 0);
    ck_assert(x->estimated);
    ck_assert_int_eq(x->duration_us, 3 * SEC / 10);
    ck_assert_double_eq_tol(x->cpu_avg, 0.95, TOL);
    ck_assert_double_eq_tol(x->cpu_peak, 0.95, TOL);
    ck_assert_uint_eq(x->memory_peak_kib, 121000);
    ck_assert_uint_eq(x->disk_read_bytes, 30);              /* 100 B/s (5 s -> 6 s) x 0.3 s */
    ck_assert_uint_eq(x->disk_write_bytes, 30);
    /* mem: samples at 7, 8, 9 s */
    x = vsTestUsage(u, 3);
    ck_assert_uint_eq(x->samples, 3);
    ck_assert_double_eq_tol(x->cpu_avg, 0.15, TOL);
    ck_assert_double_eq_tol(x->cpu_peak, 0.2, TOL);
    ck_assert_uint_eq(x->memory_peak_kib, 400000);
    ck_assert_uint_eq(x->disk_read_bytes, 300);             /* 200 + 0 + 100 */
    ck_assert_uint_eq(x->disk_write_bytes, 1000);
}
END_TEST

START_TEST(test_attribute_edges)
{
    static const vsProfileSpan spans[] = {
        { 1, "before", 0, SEC / 2 },
    };
    static const vsProfileSample samples[] = {
        { 1 * SEC, 0.5, 1000, 0, 0 },
        { 3 * SEC, 0.7, 2000, 4000, 1000 },
    };
    g_autoptr(GPtrArray) u = vsProfileAttribute(spans, 1, samples, G_N_ELEMENTS(samples));
    g_autoptr(GPtrArray) none = vsProfileAttribute(spans, 1, NULL, 0);
    const vsProfileUsage *x = vsTestUsage(u, 0);

    /* nearest is the first sample: the rate of the interval after it,
     * 2000 B/s read and 500 B/s written, for 0.5 s */
    ck_assert(x->estimated);
    ck_assert_double_eq_tol(x->cpu_peak, 0.5, TOL);
    ck_assert_uint_eq(x->memory_peak_kib, 1000);
    ck_assert_uint_eq(x->disk_read_bytes, 1000);
    ck_assert_uint_eq(x->disk_write_bytes, 250);
    /* no samples at all: nothing to say */
    x = vsTestUsage(none, 0);
    ck_assert(!x->estimated);
    ck_assert_uint_eq(x->samples, 0);
    ck_assert_uint_eq(x->memory_peak_kib, 0);
}
END_TEST

static vsProfileUsage *
vsTestMakeUsage(guint index, const char *name, double dur_s, double avg, double peak, guint64 mem,
                guint64 rd, guint64 wr, gboolean estimated)
{
    vsProfileUsage *u = g_new0(vsProfileUsage, 1);

    u->index = index;
    u->name = g_strdup(name);
    u->duration_us = (gint64)(dur_s * SEC);
    u->cpu_avg = avg;
    u->cpu_peak = peak;
    u->memory_peak_kib = mem;
    u->disk_read_bytes = rd;
    u->disk_write_bytes = wr;
    u->estimated = estimated;
    return u;
}

static void
vsTestAssertFigure(const vsProfileFigure *f, double mean, double peak, double spread)
{
    ck_assert_double_eq_tol(f->mean, mean, TOL);
    ck_assert_double_eq_tol(f->peak, peak, TOL);
    ck_assert_double_eq_tol(f->spread, spread, TOL);
}

static GPtrArray *
vsTestRuns(GPtrArray **ret_a, GPtrArray **ret_b)
{
    GPtrArray *a = g_ptr_array_new_with_free_func((GDestroyNotify)vsProfileUsageFree);
    GPtrArray *b = g_ptr_array_new_with_free_func((GDestroyNotify)vsProfileUsageFree);
    GPtrArray *runs[2] = { a, b };

    g_ptr_array_add(a, vsTestMakeUsage(1, "a", 2, 0.5, 1.0, 1000, 10, 20, FALSE));
    g_ptr_array_add(a, vsTestMakeUsage(2, "b", 1, 0.1, 0.2, 500, 0, 0, TRUE));
    g_ptr_array_add(b, vsTestMakeUsage(1, "b", 3, 0.3, 0.6, 700, 5, 0, FALSE));
    g_ptr_array_add(b, vsTestMakeUsage(2, "a", 4, 1.5, 2.0, 3000, 30, 40, FALSE));
    g_ptr_array_add(b, vsTestMakeUsage(3, "c", 1, 0.1, 0.1, 100, 1, 1, FALSE));
    *ret_a = a;
    *ret_b = b;
    return vsProfileAggregateRuns(runs, 2);
}

START_TEST(test_aggregate)
{
    g_autoptr(GPtrArray) a = NULL;
    g_autoptr(GPtrArray) b = NULL;
    g_autoptr(GPtrArray) agg = vsTestRuns(&a, &b);
    const vsProfileAggregate *x;

    ck_assert_uint_eq(agg->len, 3);
    x = g_ptr_array_index(agg, 0);
    ck_assert_str_eq(x->name, "a");
    ck_assert_uint_eq(x->index, 1);
    ck_assert_uint_eq(x->runs, 2);
    ck_assert_uint_eq(x->estimated, 0);
    vsTestAssertFigure(&x->duration_s, 3, 4, 2);
    vsTestAssertFigure(&x->cpu_avg, 1.0, 1.5, 1.0);
    vsTestAssertFigure(&x->cpu_peak, 1.5, 2.0, 1.0);
    vsTestAssertFigure(&x->memory_peak_kib, 2000, 3000, 2000);
    vsTestAssertFigure(&x->disk_read_bytes, 20, 30, 20);
    vsTestAssertFigure(&x->disk_write_bytes, 30, 40, 20);
    x = g_ptr_array_index(agg, 1);
    ck_assert_str_eq(x->name, "b");
    ck_assert_uint_eq(x->index, 2);
    ck_assert_uint_eq(x->runs, 2);
    ck_assert_uint_eq(x->estimated, 1);
    vsTestAssertFigure(&x->duration_s, 2, 3, 2);
    vsTestAssertFigure(&x->cpu_peak, 0.4, 0.6, 0.4);
    vsTestAssertFigure(&x->memory_peak_kib, 600, 700, 200);
    x = g_ptr_array_index(agg, 2);
    ck_assert_str_eq(x->name, "c");
    ck_assert_uint_eq(x->runs, 1);
    vsTestAssertFigure(&x->memory_peak_kib, 100, 100, 0);
}
END_TEST

/* --- optimization -------------------------------------------------------- */

static void
vsTestEvent(GPtrArray **events, vsEventType type, const char *path, const char *deps)
{
    vsEvent *e = vsEventNew(type, path, NULL);

    if (deps)
        e->depends = g_strsplit(deps, ",", -1);
    if (!*events)
        *events = g_ptr_array_new_with_free_func((GDestroyNotify)vsEventFree);
    g_ptr_array_add(*events, e);
}

static void
vsTestFreeSteps(vsProfileStepEvents *steps, gsize n)
{
    for (gsize i = 0; i < n; i++)
        if (steps[i].events)
            g_ptr_array_unref(steps[i].events);
}

START_TEST(test_depends)
{
    vsProfileStepEvents s[6] = {
        { 1, "mkdir", 0, NULL }, { 2, "child", 0, NULL }, { 3, "sibling", 0, NULL },
        { 4, "libfoo", 0, NULL }, { 5, "app", 0, NULL }, { 6, "other", 0, NULL },
    };

    vsTestEvent(&s[0].events, VS_EVENT_FILE_CREATED, "/opt/app", NULL);
    vsTestEvent(&s[1].events, VS_EVENT_FILE_CREATED, "/opt/app/x", NULL);
    vsTestEvent(&s[2].events, VS_EVENT_FILE_CREATED, "/opt/application", NULL);
    vsTestEvent(&s[3].events, VS_EVENT_PACKAGE_INSTALLED, "libfoo", "libc6");
    vsTestEvent(&s[4].events, VS_EVENT_PACKAGE_INSTALLED, "app", "dpkg,libbar|libfoo");
    vsTestEvent(&s[5].events, VS_EVENT_PACKAGE_INSTALLED, "other", "libc6");
    /* writing into a directory another step made */
    ck_assert(vsProfileDependsOn(&s[1], &s[0]));
    ck_assert(!vsProfileDependsOn(&s[2], &s[0]));
    ck_assert(!vsProfileDependsOn(&s[2], &s[1]));
    /* a dependency, through an alternative */
    ck_assert(vsProfileDependsOn(&s[4], &s[3]));
    /* sharing a dependency nobody installs is no link */
    ck_assert(!vsProfileDependsOn(&s[5], &s[3]));
    ck_assert(!vsProfileDependsOn(&s[5], &s[4]));
    /* packages and files never meet */
    ck_assert(!vsProfileDependsOn(&s[3], &s[0]));
    vsTestFreeSteps(s, G_N_ELEMENTS(s));
}
END_TEST

/* The e2e script's shape: files, a service, CPU and memory burners, a
 * step doing nothing, packages, a failure. */
static const char vsTestScriptText[] =
    "#!/bin/sh\n"
    "umask 022\n"
    "# step: files\necho 2\n"
    "# step: service\necho 3\n"
    "# step: burn cpu\necho 4\n"
    "# step: config\necho 5\n"
    "# step: hold memory\necho 6\n"
    "# step: pkg-a\necho 7\n"
    "# step: pkg-b\necho 8\n"
    "# step: logs\necho 9\n"
    "# step: fails\necho 10\n"
    "# step: after\necho 11\n";

START_TEST(test_optimize)
{
    vsProfileStepEvents s[11] = {
        { 1, "prologue", 0, NULL }, { 2, "files", 0, NULL }, { 3, "service", 0, NULL },
        { 4, "burn cpu", 0, NULL }, { 5, "config", 0, NULL }, { 6, "hold memory", 0, NULL },
        { 7, "pkg-a", 0, NULL }, { 8, "pkg-b", 0, NULL }, { 9, "logs", 0, NULL },
        { 10, "fails", 1, NULL }, { 11, "after", 0, NULL },
    };
    g_autoptr(vsProfilePlan) plan = NULL;
    g_autoptr(vsScript) script = NULL;
    g_autoptr(vsScript) optimized = NULL;
    g_autoptr(GString) out = g_string_new(NULL);
    g_autoptr(GError) error = NULL;
    static const guint expect[][3] = { { 2, 3 }, { 5, 7 }, { 8, 9 }, { 10 }, { 11 } };
    static const guint expect_len[] = { 2, 2, 2, 1, 1 };

    vsTestEvent(&s[1].events, VS_EVENT_FILE_CREATED, "/opt/app", NULL);
    vsTestEvent(&s[1].events, VS_EVENT_FILE_CREATED, "/opt/app/bin/hello", NULL);
    vsTestEvent(&s[2].events, VS_EVENT_FILE_CREATED, "/etc/init.d/app", NULL);
    vsTestEvent(&s[2].events, VS_EVENT_SERVICE_CREATED, "/etc/init.d/app", NULL);
    vsTestEvent(&s[2].events, VS_EVENT_FILE_CREATED, "/etc/cron.d/app", NULL);
    vsTestEvent(&s[4].events, VS_EVENT_FILE_MODIFIED, "/opt/app/bin/hello", NULL);
    vsTestEvent(&s[6].events, VS_EVENT_PACKAGE_INSTALLED, "libfoo", NULL);
    vsTestEvent(&s[6].events, VS_EVENT_FILE_MODIFIED, "/var/lib/dpkg/status", NULL);
    vsTestEvent(&s[7].events, VS_EVENT_PACKAGE_INSTALLED, "app-b", "libfoo");
    vsTestEvent(&s[7].events, VS_EVENT_FILE_MODIFIED, "/var/lib/dpkg/status", NULL);
    vsTestEvent(&s[8].events, VS_EVENT_FILE_CREATED, "/var/log/app.log", NULL);
    vsTestEvent(&s[10].events, VS_EVENT_FILE_CREATED, "/srv/x", NULL);

    plan = vsProfileOptimize(s, G_N_ELEMENTS(s));
    /* prologue, burn cpu and hold memory changed nothing */
    ck_assert_uint_eq(plan->dropped->len, 3);
    ck_assert_uint_eq(g_array_index(plan->dropped, guint, 0), 1);
    ck_assert_uint_eq(g_array_index(plan->dropped, guint, 1), 4);
    ck_assert_uint_eq(g_array_index(plan->dropped, guint, 2), 6);
    /* config edits what files made: a new group; pkg-b shares dpkg's status
     * with pkg-a: another; the failed step stands alone and closes its group */
    ck_assert_uint_eq(plan->groups->len, G_N_ELEMENTS(expect));
    for (guint g = 0; g < plan->groups->len; g++) {
        GArray *group = g_ptr_array_index(plan->groups, g);

        ck_assert_uint_eq(group->len, expect_len[g]);
        for (guint k = 0; k < group->len; k++)
            ck_assert_uint_eq(g_array_index(group, guint, k), expect[g][k]);
    }

    script = vsScriptParse(vsTestScriptText, strlen(vsTestScriptText), "install.sh", &error);
    ck_assert_msg(script, "%s", error ? error->message : "");
    ck_assert_uint_eq(script->steps->len, 11);
    optimized = vsProfileOptimizedScript(script, plan, &error);
    ck_assert_msg(optimized, "%s", error ? error->message : "");
    vsScriptRender(optimized, out);
    ck_assert_str_eq(out->str,
                     "#!/bin/sh\n"
                     "# group: 1 (steps 1 2 may run concurrently)\n"
                     "# step: files\necho 2\n"
                     "# step: service\necho 3\n"
                     "# group: 2 (steps 3 4 may run concurrently)\n"
                     "# step: config\necho 5\n"
                     "# step: pkg-a\necho 7\n"
                     "# group: 3 (steps 5 6 may run concurrently)\n"
                     "# step: pkg-b\necho 8\n"
                     "# step: logs\necho 9\n"
                     "# group: 4\n"
                     "# step: fails\necho 10\n"
                     "# group: 5\n"
                     "# step: after\necho 11\n");
    vsTestFreeSteps(s, G_N_ELEMENTS(s));
}
END_TEST

START_TEST(test_optimize_errors)
{
    const char *text = "# step: a\ntrue\n";
    g_autoptr(vsScript) script = vsScriptParse(text, strlen(text), "install.sh", NULL);
    vsProfileStepEvents noop[] = { { 1, "a", 0, NULL } };
    g_autoptr(vsProfilePlan) empty = vsProfileOptimize(noop, 1);
    g_autoptr(vsProfilePlan) wrong = g_new0(vsProfilePlan, 1);
    g_autoptr(GArray) group = g_array_new(FALSE, FALSE, sizeof(guint));
    g_autoptr(GError) e1 = NULL;
    g_autoptr(GError) e2 = NULL;
    guint nine = 9;

    ck_assert_uint_eq(empty->groups->len, 0);
    ck_assert_ptr_null(vsProfileOptimizedScript(script, empty, &e1));
    ck_assert_str_eq(e1->message, "'install.sh': every step was dropped, nothing to install");
    wrong->groups = g_ptr_array_new_with_free_func((GDestroyNotify)g_array_unref);
    wrong->dropped = g_array_new(FALSE, FALSE, sizeof(guint));
    g_array_append_val(group, nine);
    g_ptr_array_add(wrong->groups, g_array_ref(group));
    ck_assert_ptr_null(vsProfileOptimizedScript(script, wrong, &e2));
    ck_assert_str_eq(e2->message, "'install.sh' has no step 9");
}
END_TEST

/* --- sizing -------------------------------------------------------------- */

START_TEST(test_size)
{
    vsProfileSizing z;
    vsPolicy p;
    g_autoptr(GError) error = NULL;

    /* 2.5 x 1.2 = 3 exactly, not 4; 400000 KiB x 1.2 = 480000 KiB = 468.75 MiB -> 469 MiB */
    vsProfileSize(2.5, 400000, 1.2, &z);
    ck_assert_uint_eq(z.vcpus, 3);
    ck_assert_uint_eq(z.memory_kib, 469 * 1024);
    ck_assert_double_eq_tol(z.peak_cpu, 2.5, TOL);
    ck_assert_uint_eq(z.peak_memory_kib, 400000);
    /* 0.3 x 1.2 -> 1; 50000 KiB x 1.2 is under the 128 MiB floor */
    vsProfileSize(0.3, 50000, 0, &z);
    ck_assert_uint_eq(z.vcpus, 1);
    ck_assert_uint_eq(z.memory_kib, 128 * 1024);
    /* nothing measured: the minimums */
    vsProfileSize(0, 0, 1.2, &z);
    ck_assert_uint_eq(z.vcpus, 1);
    ck_assert_uint_eq(z.memory_kib, VS_PROFILE_MIN_MEMORY_KIB);
    /* 1.01 x 1.2 = 1.212 -> 2 */
    vsProfileSize(1.01, 1048576, 1.5, &z);
    ck_assert_uint_eq(z.vcpus, 2);
    ck_assert_uint_eq(z.memory_kib, 1572864);

    vsProfileSize(2.5, 400000, 1.2, &z);
    vsProfileStartingPolicy(&z, &p);
    ck_assert_int_eq(p.mode, VS_POLICY_MODE_AUTO);
    ck_assert_uint_eq(p.min_vcpus, 3);
    ck_assert_uint_eq(p.max_vcpus, 6);
    ck_assert_uint_eq(p.min_memory_kib, 469 * 1024);
    ck_assert_uint_eq(p.max_memory_kib, 2 * 469 * 1024);
    ck_assert_uint_eq(p.tier, 5);
    ck_assert_msg(vsPolicyCheck(&p, &error), "%s", error ? error->message : "");
}
END_TEST

START_TEST(test_size_from_aggregates)
{
    g_autoptr(GPtrArray) a = NULL;
    g_autoptr(GPtrArray) b = NULL;
    g_autoptr(GPtrArray) agg = vsTestRuns(&a, &b);
    g_autoptr(GPtrArray) empty = g_ptr_array_new();
    vsProfileSizing z;

    /* highest peaks: 2.0 cores (a) -> 2.4 -> 3; 3000 KiB -> the 128 MiB floor */
    ck_assert(vsProfileSizeFromAggregates(agg, 1.2, &z));
    ck_assert_uint_eq(z.vcpus, 3);
    ck_assert_uint_eq(z.memory_kib, 128 * 1024);
    ck_assert_double_eq_tol(z.peak_cpu, 2.0, TOL);
    ck_assert_uint_eq(z.peak_memory_kib, 3000);
    memset(&z, 0x5a, sizeof(z));
    ck_assert(!vsProfileSizeFromAggregates(empty, 1.2, &z));
    ck_assert(!vsProfileSizeFromAggregates(NULL, 1.2, &z));
    ck_assert_uint_eq(z.vcpus, 0x5a5a5a5a);
}
END_TEST

/* Events in execution order, from "TYPE PATH [DETAIL]" lines. */
static GPtrArray *
vsTestEndEvents(const char *const *lines)
{
    GPtrArray *events = g_ptr_array_new_with_free_func((GDestroyNotify)vsEventFree);

    for (guint i = 0; lines[i]; i++) {
        g_auto(GStrv) f = g_strsplit(lines[i], " ", 3);
        vsEventType type;

        ck_assert_msg(vsEventTypeFromString(f[0], &type), "type in '%s'", lines[i]);
        g_ptr_array_add(events, vsEventNew(type, f[1], f[2]));
    }
    return events;
}

START_TEST(test_end_state_same)
{
    /* the original made a scratch file and removed it, wrote a file twice,
     * and made the service; the optimized run did it in another order
     * with the file written once: the same end state */
    static const char *const orig[] = {
        "file-created /opt/app/tmp f 0644 3",
        "file-created /opt/app/conf f 0644 3",
        "file-modified /opt/app/conf size 3 -> 9, sha256, mtime",
        "file-deleted /opt/app/tmp f",
        "file-created /etc/init.d/app f 0755 120",
        "service-created /etc/init.d/app init script",
        "file-modified /etc/motd sha256, mtime",
        "package-installed foo 1.0",
        NULL,
    };
    static const char *const opt[] = {
        "file-created /etc/init.d/app f 0755 120",
        "service-created /etc/init.d/app init script",
        "file-modified /etc/motd mtime",
        "file-created /opt/app/conf f 0644 9",
        NULL,
    };
    g_autoptr(GPtrArray) a = vsTestEndEvents(orig);
    g_autoptr(GPtrArray) b = vsTestEndEvents(opt);
    g_autoptr(vsProfileEndComparison) cmp = vsProfileCompareEndStates(a, b);
    g_autoptr(vsProfileEndComparison) self = vsProfileCompareEndStates(a, a);
    g_autoptr(vsProfileEndComparison) none = vsProfileCompareEndStates(NULL, NULL);

    ck_assert(cmp->same_files);
    ck_assert(cmp->same_services);
    ck_assert_uint_eq(cmp->differences->len, 0);
    ck_assert(self->same_files && self->same_services);
    ck_assert(none->same_files && none->same_services);
    ck_assert_uint_eq(none->differences->len, 0);
}
END_TEST

START_TEST(test_end_state_differs)
{
    static const char *const orig[] = {
        "file-created /opt/app/bin f 0755 100",
        "file-created /opt/app/data f 0644 10",
        "file-deleted /var/old f",
        "file-created /etc/cron.d/app f 0644 30",
        "service-created /etc/cron.d/app cron entry",
        "file-modified /etc/app.conf mode 0644 -> 0600",
        NULL,
    };
    static const char *const opt[] = {
        "file-created /opt/app/bin f 0644 100",     /* another mode */
        "file-created /opt/app/data f 0644 12",     /* another size */
        "file-created /opt/app/extra f 0644 1",     /* only here */
        "file-modified /etc/app.conf mode 0644 -> 0600",
        NULL,                                       /* /var/old kept, no cron entry */
    };
    g_autoptr(GPtrArray) a = vsTestEndEvents(orig);
    g_autoptr(GPtrArray) b = vsTestEndEvents(opt);
    g_autoptr(vsProfileEndComparison) cmp = vsProfileCompareEndStates(a, b);
    g_autoptr(GPtrArray) services_only = NULL;
    g_autoptr(vsProfileEndComparison) svc = NULL;

    ck_assert(!cmp->same_files);
    ck_assert(!cmp->same_services);
    /* files then services, each by path */
    ck_assert_uint_eq(cmp->differences->len, 6);
    ck_assert_str_eq(g_ptr_array_index(cmp->differences, 0),
                     "file /etc/cron.d/app: created (f 0644, 30 bytes) in the original, "
                     "untouched in the optimized run");
    ck_assert_str_eq(g_ptr_array_index(cmp->differences, 1),
                     "file /opt/app/bin: created (f 0755, 100 bytes) in the original, "
                     "created (f 0644, 100 bytes) in the optimized run");
    ck_assert_str_eq(g_ptr_array_index(cmp->differences, 2),
                     "file /opt/app/data: created (f 0644, 10 bytes) in the original, "
                     "created (f 0644, 12 bytes) in the optimized run");
    ck_assert_str_eq(g_ptr_array_index(cmp->differences, 3),
                     "file /opt/app/extra: untouched in the original, "
                     "created (f 0644, 1 bytes) in the optimized run");
    ck_assert_str_eq(g_ptr_array_index(cmp->differences, 4),
                     "file /var/old: deleted in the original, untouched in the optimized run");
    ck_assert_str_eq(g_ptr_array_index(cmp->differences, 5),
                     "service /etc/cron.d/app: created in the original, "
                     "untouched in the optimized run");

    /* the services alone can differ: files the same, the unit deleted */
    {
        static const char *const x[] = {
            "file-modified /etc/systemd/system/a.service size 1 -> 2",
            "service-modified /etc/systemd/system/a.service systemd unit",
            NULL,
        };
        static const char *const y[] = {
            "file-modified /etc/systemd/system/a.service size 1 -> 2",
            "service-deleted /etc/systemd/system/a.service systemd unit",
            NULL,
        };
        g_autoptr(GPtrArray) ex = vsTestEndEvents(x);

        services_only = vsTestEndEvents(y);
        svc = vsProfileCompareEndStates(ex, services_only);
        ck_assert(svc->same_files);
        ck_assert(!svc->same_services);
        ck_assert_uint_eq(svc->differences->len, 1);
        ck_assert_str_eq(g_ptr_array_index(svc->differences, 0),
                         "service /etc/systemd/system/a.service: changed in the original, "
                         "deleted in the optimized run");
    }
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("profile");
    TCase *tc = tcase_create("profile");

    tcase_add_test(tc, test_attribute);
    tcase_add_test(tc, test_attribute_edges);
    tcase_add_test(tc, test_aggregate);
    tcase_add_test(tc, test_depends);
    tcase_add_test(tc, test_optimize);
    tcase_add_test(tc, test_optimize_errors);
    tcase_add_test(tc, test_size);
    tcase_add_test(tc, test_size_from_aggregates);
    tcase_add_test(tc, test_end_state_same);
    tcase_add_test(tc, test_end_state_differs);
    suite_add_tcase(s, tc);
    return vsTestRunSuite(s);
}
