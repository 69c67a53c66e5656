/*
 * vsconfig.h: virt-shadow.conf, read with GKeyFile
 *
 * Unknown groups and keys are errors, so a typo never silently falls back to
 * a default.  See virt-shadow.conf(5).
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _vsConfig vsConfig;
struct _vsConfig {
    char *path;                 /* file read; NULL when only defaults */

    /* [main] */
    char *state_dir;
    char *database;             /* NULL: embedded cluster under state_dir/pg */
    char *embedded_db_user;     /* system user running the embedded server as root */
    char *log_level;
    char *log_target;

    /* [libvirt] */
    char *uri;                  /* NULL: LIBVIRT_DEFAULT_URI, then libvirt's default */
    char *domain_type;          /* "qemu" (TCG) or "kvm" for domains we create */

    /* [daemon] */
    char *pid_file;
    guint64 heartbeat_interval_ms;

    /* [telemetry] */
    guint64 min_interval_ms;
    guint64 max_interval_ms;
    guint64 balloon_period_ms;      /* stats period set on domains lacking one; 0: never */
    guint64 spool_max_bytes;
    guint64 raw_retention_ms;
    guint64 rollup_retention_ms;

    /* [metrics] */
    char *metrics_listen;           /* "127.0.0.1:9468"; NULL: off */

    /* [forecast] */
    guint64 forecast_step_ms;       /* the slot forecasts are made for (5m) */
    guint64 forecast_season_ms;     /* the cycle demand repeats on (1d) */
    guint64 forecast_horizon_ms;    /* allocations look this far past the open
                                     * slot (0: a step) */

    /* [allocator] */
    guint64 allocator_interval_ms;  /* 0: the daemon never resizes */
    guint64 shrink_window_ms;       /* below this long before a shrink (1h) */
    double cpu_overcommit;          /* the host grants up to capacity x this */
    double memory_overcommit;
    double host_cpus;               /* 0: what the hypervisor reports */
    guint64 host_memory_bytes;      /* 0: what the hypervisor reports */

    /* [shadow] */
    char *shadow_pool;              /* a storage pool name, or an absolute
                                     * directory, for shadows' overlays */
    double max_concurrent_shadows;  /* scheduled shadow runs virt-shadowd runs
                                     * at once (a whole number, 0..64; 0: it
                                     * runs none) */
    guint64 max_job_attempts;       /* leases of a scheduled job before it is
                                     * given up as failed (1..100; 3) */

    /* [deploy] */
    double deploy_margin;           /* x the profile's peaks (1.2) */
    guint64 deploy_vcpus;           /* without a profile */
    guint64 deploy_memory_bytes;    /* without a profile */
    char *deploy_clone;             /* "linked" or "full" */
    char *deploy_pool;              /* a storage pool name, or an absolute
                                     * directory, for deployed disks */
};

/* Where shadows' overlays go when the config does not say. */
#define VS_DEFAULT_SHADOW_POOL "/var/lib/libvirt/images/virt-shadow"
/* Where deployed domains' disks go when the config does not say. */
#define VS_DEFAULT_DEPLOY_POOL "/var/lib/libvirt/images"

vsConfig *vsConfigNew(void);
void vsConfigFree(vsConfig *cfg);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vsConfig, vsConfigFree)

/* Read @path over the defaults.  A missing file is an error only when
 * @must_exist (the user named it); errors name the file. */
vsConfig *vsConfigLoad(const char *path, gboolean must_exist, GError **error);
/* The same from a string, for tests; @name stands for the file in errors. */
vsConfig *vsConfigLoadData(const char *data, const char *name, GError **error);

/* The libvirt URI in force: @option, then the config, then
 * LIBVIRT_DEFAULT_URI; NULL leaves the choice to libvirt. */
const char *vsConfigResolveURI(const vsConfig *cfg, const char *option);
/* The database URL in force: the config, then VIRT_SHADOW_DATABASE; NULL
 * means the embedded cluster. */
const char *vsConfigResolveDatabase(const vsConfig *cfg);

G_END_DECLS
