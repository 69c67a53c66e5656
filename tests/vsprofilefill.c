/*
 * vsprofilefill.c: put shadow runs of app "web" into a store through the
 * store API, for tests/vsprofilecmdtest.sh
 *
 * Usage: vsprofilefill CONNINFO
 *
 * Version 1.0 has two succeeded runs (r1a, r1b), a failed one and a
 * succeeded run checking an optimized script of r1b (r1-opt, far heavier:
 * a profile that counted it would show).  Each 1.0 run has five steps:
 *   1 files    creates /opt/app and /opt/app/bin
 *   2 service  creates /etc/init.d/app and /etc/cron.d/app (files and
 *              services) and installs package libfoo (depends libc6)
 *   3 cpu      changes nothing; CPU peak 0.9 (r1a) and 1.1 (r1b)
 *   4 mem      changes nothing; memory peak 300000 KiB (r1a), 320000 KiB (r1b)
 *   5 noop     changes nothing
 * Version 2.0 has one succeeded run (r2a): its files step also creates
 * /opt/app/lib, its service step no cron entry, libfoo depends on libc6
 * and libssl3, a new step "migrate" creates /var/lib/app/db, and the noop
 * step is gone.
 */
#include <config.h>

#include <stdio.h>
#include <string.h>

#include "postgres/vspg.h"
#include "shadow/vsmanifest.h"
#include "store/vsstore.h"

/* 2024-03-10 00:00:00 UTC */
#define DAY0_US (G_GINT64_CONSTANT(1710028800) * G_USEC_PER_SEC)
#define SEC G_USEC_PER_SEC

static const char script_1_0[] =
    "#!/bin/sh\n"
    "# step: files\n"
    "mkdir -p /opt/app\n"
    "echo app > /opt/app/bin\n"
    "# step: service\n"
    "cp app.init /etc/init.d/app\n"
    "echo '* * * * * root true' > /etc/cron.d/app\n"
    "# step: cpu\n"
    "timeout 3 sh -c 'while :; do :; done' || true\n"
    "# step: mem\n"
    "head -c 300M /dev/zero | tail > /dev/null\n"
    "# step: noop\n"
    "true\n";

static const char script_2_0[] =
    "#!/bin/sh\n"
    "# step: files\n"
    "mkdir -p /opt/app\n"
    "echo app > /opt/app/bin\n"
    "echo lib > /opt/app/lib\n"
    "# step: service\n"
    "cp app.init /etc/init.d/app\n"
    "# step: cpu\n"
    "timeout 5 sh -c 'while :; do :; done' || true\n"
    "# step: mem\n"
    "head -c 300M /dev/zero | tail > /dev/null\n"
    "# step: migrate\n"
    "mkdir -p /var/lib/app && echo db > /var/lib/app/db\n";

static gboolean
fail(const char *what, GError *error)
{
    fprintf(stderr, "vsprofilefill: %s: %s\n", what, error ? error->message : "failed");
    return FALSE;
}

typedef struct {
    const char *name;
    double seconds;
    double cpu_peak;
    guint64 memory_kib;
} StepSpec;

static GPtrArray *
newEvents(void)
{
    return g_ptr_array_new_with_free_func((GDestroyNotify)vsEventFree);
}

static void
addEvent(GPtrArray *events, vsEventType type, const char *path, const char *detail)
{
    g_ptr_array_add(events, vsEventNew(type, path, detail));
}

/* The events of step @name in version @v2 (2.0) or 1.0. */
static GPtrArray *
stepEvents(const char *name, gboolean v2)
{
    GPtrArray *events = newEvents();
    vsEvent *pkg;

    if (g_str_equal(name, "files")) {
        addEvent(events, VS_EVENT_FILE_CREATED, "/opt/app", "d 0755 0");
        addEvent(events, VS_EVENT_FILE_CREATED, "/opt/app/bin", "f 0644 4");
        if (v2)
            addEvent(events, VS_EVENT_FILE_CREATED, "/opt/app/lib", "f 0644 4");
    } else if (g_str_equal(name, "service")) {
        if (!v2) {
            addEvent(events, VS_EVENT_FILE_CREATED, "/etc/cron.d/app", "f 0644 20");
            addEvent(events, VS_EVENT_SERVICE_CREATED, "/etc/cron.d/app", "cron entry");
        }
        addEvent(events, VS_EVENT_FILE_CREATED, "/etc/init.d/app", "f 0755 100");
        addEvent(events, VS_EVENT_SERVICE_CREATED, "/etc/init.d/app", "init script");
        pkg = vsEventNew(VS_EVENT_PACKAGE_INSTALLED, "libfoo", "1.2-3");
        pkg->depends = g_strsplit(v2 ? "libc6,libssl3" : "libc6", ",", -1);
        g_ptr_array_add(events, pkg);
    } else if (g_str_equal(name, "migrate")) {
        addEvent(events, VS_EVENT_FILE_CREATED, "/var/lib/app", "d 0755 0");
        addEvent(events, VS_EVENT_FILE_CREATED, "/var/lib/app/db", "f 0644 3");
    }
    return events;
}

static gboolean
fillRun(vsStore *store, const char *id, const char *version, const char *script,
        gint64 start_us, const StepSpec *specs, gsize n, vsShadowState state,
        const char *optimized_from)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *sum = g_compute_checksum_for_string(G_CHECKSUM_SHA256, script, -1);
    g_autoptr(GArray) steps = g_array_new(FALSE, TRUE, sizeof(vsShadowStepRecord));
    vsShadowRunRecord run = {
        .id = (char *)id, .app = (char *)"web", .version = (char *)version,
        .base = (char *)"base-vm", .script_sha256 = sum, .script = (char *)script,
        .limits = (char *)"vcpus=1,cpu=100%,memory=524288K", .host = (char *)"h1",
        .started_us = start_us, .optimized_from = (char *)optimized_from,
    };
    gint64 at = start_us;

    g_array_set_clear_func(steps, (GDestroyNotify)vsShadowStepRecordClear);
    if (!vsStoreStartShadowRun(store, &run, &error))
        return fail(id, error);
    for (gsize i = 0; i < n; i++) {
        vsShadowStepRecord st = { 0 };

        st.index = (guint)i + 1;
        st.name = g_strdup(specs[i].name);
        st.started_us = at;
        at += (gint64)(specs[i].seconds * SEC);
        st.ended_us = at;
        st.has_exit_code = TRUE;
        st.exit_code = state == VS_SHADOW_FAILED && i + 1 == n ? 1 : 0;
        st.has_usage = TRUE;
        st.cpu_peak = specs[i].cpu_peak;
        st.cpu_avg = specs[i].cpu_peak * 0.8;
        st.memory_peak_kib = specs[i].memory_kib;
        st.disk_read_bytes = 4096;
        st.disk_write_bytes = g_str_equal(specs[i].name, "files") ? 2 * 1024 * 1024 : 8192;
        st.samples = (guint)specs[i].seconds;
        g_array_append_val(steps, st);
    }
    if (!vsStoreRecordShadowSteps(store, id, steps, &error))
        return fail(id, error);
    for (gsize i = 0; i < n; i++) {
        g_autoptr(GPtrArray) events = stepEvents(specs[i].name, g_str_equal(version, "2.0"));

        if (!vsStoreRecordShadowEvents(store, id, (guint)i + 1, start_us, events, &error))
            return fail(id, error);
    }
    if (!vsStoreFinishShadowRun(store, id, state, at, TRUE, state == VS_SHADOW_FAILED, NULL,
                                &error))
        return fail(id, error);
    return TRUE;
}

int
main(int argc, char **argv)
{
    static const StepSpec r1a[] = {
        { "files", 2, 0.2, 100000 }, { "service", 1, 0.1, 101000 },
        { "cpu", 3, 0.9, 102000 }, { "mem", 2, 0.3, 300000 }, { "noop", 1, 0.05, 100500 },
    };
    static const StepSpec r1b[] = {
        { "files", 4, 0.2, 100000 }, { "service", 1, 0.1, 101000 },
        { "cpu", 3, 1.1, 102000 }, { "mem", 2, 0.3, 320000 }, { "noop", 1, 0.05, 100500 },
    };
    static const StepSpec heavy[] = {
        { "files", 9, 7.0, 900000 }, { "service", 9, 7.0, 900000 },
    };
    static const StepSpec r2a[] = {
        { "files", 2, 0.2, 110000 }, { "service", 1, 0.1, 111000 },
        { "cpu", 5, 1.5, 112000 }, { "mem", 2, 0.3, 350000 }, { "migrate", 1, 0.4, 120000 },
    };
    g_autoptr(GError) error = NULL;
    vsStoreTarget target = { 0 };
    g_autoptr(vsStore) store = NULL;

    if (argc != 2) {
        fprintf(stderr, "usage: vsprofilefill CONNINFO\n");
        return 2;
    }
    vsStoreRegisterDriver(&vsPgStoreDriver);
    target.url = argv[1];
    if (!(store = vsStoreOpen(&target, FALSE, &error))) {
        fail("open", error);
        return 1;
    }
    if (!fillRun(store, "r1a", "1.0", script_1_0, DAY0_US, r1a, G_N_ELEMENTS(r1a),
                 VS_SHADOW_SUCCEEDED, NULL) ||
        !fillRun(store, "r1b", "1.0", script_1_0, DAY0_US + 60 * SEC, r1b, G_N_ELEMENTS(r1b),
                 VS_SHADOW_SUCCEEDED, NULL) ||
        !fillRun(store, "r1-failed", "1.0", script_1_0, DAY0_US + 120 * SEC, heavy,
                 G_N_ELEMENTS(heavy), VS_SHADOW_FAILED, NULL) ||
        !fillRun(store, "r1-opt", "1.0", script_1_0, DAY0_US + 180 * SEC, heavy,
                 G_N_ELEMENTS(heavy), VS_SHADOW_SUCCEEDED, "r1b") ||
        !fillRun(store, "r2a", "2.0", script_2_0, DAY0_US + 240 * SEC, r2a, G_N_ELEMENTS(r2a),
                 VS_SHADOW_SUCCEEDED, NULL))
        return 1;
    return 0;
}
