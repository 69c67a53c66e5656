/*
 * vshint.c: announced demand (seed 002)
 */
#include <config.h>

#include <string.h>

#include "allocator/vshint.h"

void
vsHintInit(vsHint *hint)
{
    memset(hint, 0, sizeof(*hint));
}

void
vsHintClear(vsHint *hint)
{
    if (!hint)
        return;
    g_clear_pointer(&hint->name, g_free);
    g_clear_pointer(&hint->reason, g_free);
}

gboolean
vsHintActive(const vsHint *hint, gint64 lead_us, gint64 now_us)
{
    return !hint->cancelled && now_us >= hint->start_us - lead_us && now_us < hint->end_us;
}

gboolean
vsHintFloor(const vsHint *hints, gsize n, gint64 lead_us, gint64 now_us,
            guint *ret_vcpus, guint64 *ret_memory_kib)
{
    guint vcpus = 0;
    guint64 memory_kib = 0;
    gboolean any = FALSE;

    for (gsize i = 0; i < n; i++) {
        if (!vsHintActive(&hints[i], lead_us, now_us))
            continue;
        any = TRUE;
        vcpus = MAX(vcpus, hints[i].vcpus);
        memory_kib = MAX(memory_kib, hints[i].memory_kib);
    }
    *ret_vcpus = vcpus;
    *ret_memory_kib = memory_kib;
    return any;
}
