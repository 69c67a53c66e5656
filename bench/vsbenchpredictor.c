/*
 * vsbenchpredictor.c: what the daemon's forecasting costs per domain
 *
 * Feeds the predictor eight days of 5-minute samples for @domains domains
 * (a daily wave, deterministic noise) and reports the resident memory it
 * grew by, per domain, and the CPU time per domain-slot.  Eight days is
 * past the week of history a domain keeps, so this is the steady state.
 */
#include <config.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "vstestutils.h"
#include "forecast/vspredictor.h"

#define BENCH_DOMAINS 100
#define BENCH_DAYS 8
#define BENCH_STEP_US (G_GINT64_CONSTANT(300) * G_USEC_PER_SEC)

static long
benchRssKiB(void)
{
    g_autofree char *status = NULL;
    const char *line;

    if (!g_file_get_contents("/proc/self/status", &status, NULL, NULL) ||
        !(line = strstr(status, "VmRSS:")))
        return 0;
    return strtol(line + strlen("VmRSS:"), NULL, 10);
}

static void
benchFeed(vsPredictor *p, guint domain, guint slot, gint64 t0)
{
    vsSample x;

    vsSampleInit(&x);
    x.time_us = t0 + (gint64)(slot + 1) * BENCH_STEP_US;
    g_snprintf(x.uuid, sizeof(x.uuid), "00000000-0000-4000-8000-%012u", domain);
    x.name = g_strdup_printf("vm%u", domain);
    x.cpu_vcpus = 1 + sin(2 * G_PI * slot / 288 + domain) + 0.1 * ((slot * 7919 + domain) % 13);
    x.mem_used_kib = 1048576 + 1024 * ((slot * 31 + domain) % 97);
    vsPredictorAddSample(p, &x);
    vsSampleClear(&x);
}

int
main(void)
{
    g_autoptr(vsPredictor) p = vsPredictorNew(300, 86400, 300, 288);
    gint64 t0 = G_GINT64_CONSTANT(1700000000) * G_USEC_PER_SEC / BENCH_STEP_US * BENCH_STEP_US;
    long before = benchRssKiB();
    double cpu = vsTestCpuSeconds();
    guint slots = BENCH_DAYS * 288;

    for (guint slot = 0; slot < slots; slot++) {
        for (guint d = 0; d < BENCH_DOMAINS; d++)
            benchFeed(p, d, slot, t0);
        vsPredictorOutputFree(vsPredictorAdvance(p, t0 + (gint64)(slot + 1) * BENCH_STEP_US));
    }
    cpu = vsTestCpuSeconds() - cpu;
    printf("predictor: %u domains, %u days of 5-minute slots: %.1f KiB of memory per domain"
           " (10,000 domains: %.0f MiB), %.1f us of CPU per domain-slot\n",
           BENCH_DOMAINS, BENCH_DAYS, (benchRssKiB() - before) / (double)BENCH_DOMAINS,
           (benchRssKiB() - before) / (double)BENCH_DOMAINS * 10000 / 1024,
           cpu / ((double)BENCH_DOMAINS * slots) * 1e6);
    return EXIT_SUCCESS;
}
