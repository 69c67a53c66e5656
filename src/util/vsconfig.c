/*
 * vsconfig.c: virt-shadow.conf, read with GKeyFile
 */
#include <config.h>

#include <math.h>
#include <string.h>

#include "vsconfig.h"
#include "vserror.h"
#include "vslog.h"
#include "vsutil.h"

typedef enum {
    VS_CONF_STRING,
    VS_CONF_DURATION,
    VS_CONF_SIZE,
    VS_CONF_NUMBER,         /* a double, >= 0 */
    VS_CONF_UINT,           /* a guint64 */
} vsConfigKeyType;

typedef gboolean (*vsConfigValidator)(const char *value, GError **error);

typedef struct {
    const char *group;
    const char *key;
    vsConfigKeyType type;
    gsize offset;
    vsConfigValidator validate;     /* optional */
} vsConfigKey;

static gboolean
vsConfigValidateLogLevel(const char *value, GError **error)
{
    vsLogLevel level;

    return vsLogLevelFromString(value, &level, error);
}

static gboolean
vsConfigValidateDomainType(const char *value, GError **error)
{
    if (g_strcmp0(value, "qemu") == 0 || g_strcmp0(value, "kvm") == 0)
        return TRUE;
    g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
                "invalid domain type '%s' (expected qemu or kvm)", value);
    return FALSE;
}

static gboolean
vsConfigValidateAbsolute(const char *value, GError **error)
{
    if (g_path_is_absolute(value))
        return TRUE;
    g_set_error(error, VS_ERROR, VS_ERROR_INVALID, "path '%s' is not absolute", value);
    return FALSE;
}

/* A libvirt storage pool name (no "/", no leading "." or "-": it is never
 * taken for a path or an option) or an absolute directory. */
static gboolean
vsConfigValidatePool(const char *value, GError **error)
{
    if (g_path_is_absolute(value))
        return TRUE;
    if (*value && *value != '.' && *value != '-') {
        const char *p = value;

        while (*p && (g_ascii_isalnum(*p) || strchr("_.+-", *p)))
            p++;
        if (!*p)
            return TRUE;
    }
    g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
                "invalid pool '%s' (expected a storage pool name or an absolute directory)",
                value);
    return FALSE;
}

static gboolean
vsConfigValidateCount(const char *value, guint64 min, guint64 max, GError **error)
{
    guint64 n = 0;

    if (g_ascii_string_to_unsigned(value, 10, min, max, &n, NULL))
        return TRUE;
    g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
                "invalid count '%s' (expected a whole number from %" G_GUINT64_FORMAT " to %"
                G_GUINT64_FORMAT ")", value, min, max);
    return FALSE;
}

/* A count of shadows: at most 64 (the host's room runs out long before). */
static gboolean
vsConfigValidateShadowCount(const char *value, GError **error)
{
    return vsConfigValidateCount(value, 0, 64, error);
}

/* A scheduled job's leases: at least the first. */
static gboolean
vsConfigValidateAttempts(const char *value, GError **error)
{
    return vsConfigValidateCount(value, 1, 100, error);
}

static gboolean
vsConfigValidateClone(const char *value, GError **error)
{
    if (g_strcmp0(value, "linked") == 0 || g_strcmp0(value, "full") == 0)
        return TRUE;
    g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
                "invalid clone kind '%s' (expected linked or full)", value);
    return FALSE;
}

static gboolean
vsConfigParseNumber(const char *value, double *ret, GError **error)
{
    char *end = NULL;
    double v = g_ascii_strtod(value, &end);

    if (end == value || *end || !isfinite(v) || v < 0) {
        g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
                    "invalid number '%s' (expected a non-negative number)", value);
        return FALSE;
    }
    *ret = v;
    return TRUE;
}

/* A forecaster keeps a week of seasons: this bounds its memory per domain. */
#define VS_CONFIG_MAX_SEASON_SLOTS 8640

static gboolean
vsConfigCheckForecast(const vsConfig *cfg, const char *name, GError **error)
{
    guint64 step = cfg->forecast_step_ms, season = cfg->forecast_season_ms;

    if (step < 1000 || step % 1000 || season % step || season / step < 4 ||
        season / step > VS_CONFIG_MAX_SEASON_SLOTS) {
        g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
                    "config file '%s': [forecast] step must be whole seconds and divide season "
                    "into 4 to %u slots", name, VS_CONFIG_MAX_SEASON_SLOTS);
        return FALSE;
    }
    if (cfg->forecast_horizon_ms % 1000 || cfg->forecast_horizon_ms > season / 2) {
        g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
                    "config file '%s': [forecast] horizon must be whole seconds and at most "
                    "half a season", name);
        return FALSE;
    }
    return TRUE;
}

#define VS_CONF(group, key, type, field, validate) \
    { group, key, type, G_STRUCT_OFFSET(vsConfig, field), validate }

static const vsConfigKey vsConfigKeys[] = {
    VS_CONF("main", "state_dir", VS_CONF_STRING, state_dir, vsConfigValidateAbsolute),
    VS_CONF("main", "database", VS_CONF_STRING, database, NULL),
    VS_CONF("main", "embedded_db_user", VS_CONF_STRING, embedded_db_user, NULL),
    VS_CONF("main", "log_level", VS_CONF_STRING, log_level, vsConfigValidateLogLevel),
    VS_CONF("main", "log_target", VS_CONF_STRING, log_target, NULL),
    VS_CONF("libvirt", "uri", VS_CONF_STRING, uri, NULL),
    VS_CONF("libvirt", "domain_type", VS_CONF_STRING, domain_type, vsConfigValidateDomainType),
    VS_CONF("daemon", "pid_file", VS_CONF_STRING, pid_file, vsConfigValidateAbsolute),
    VS_CONF("daemon", "heartbeat_interval", VS_CONF_DURATION, heartbeat_interval_ms, NULL),
    VS_CONF("telemetry", "min_interval", VS_CONF_DURATION, min_interval_ms, NULL),
    VS_CONF("telemetry", "max_interval", VS_CONF_DURATION, max_interval_ms, NULL),
    VS_CONF("telemetry", "balloon_period", VS_CONF_DURATION, balloon_period_ms, NULL),
    VS_CONF("telemetry", "spool_max", VS_CONF_SIZE, spool_max_bytes, NULL),
    VS_CONF("telemetry", "raw_retention", VS_CONF_DURATION, raw_retention_ms, NULL),
    VS_CONF("telemetry", "rollup_retention", VS_CONF_DURATION, rollup_retention_ms, NULL),
    VS_CONF("metrics", "listen", VS_CONF_STRING, metrics_listen, NULL),
    VS_CONF("forecast", "step", VS_CONF_DURATION, forecast_step_ms, NULL),
    VS_CONF("forecast", "season", VS_CONF_DURATION, forecast_season_ms, NULL),
    VS_CONF("forecast", "horizon", VS_CONF_DURATION, forecast_horizon_ms, NULL),
    VS_CONF("allocator", "interval", VS_CONF_DURATION, allocator_interval_ms, NULL),
    VS_CONF("allocator", "shrink_window", VS_CONF_DURATION, shrink_window_ms, NULL),
    VS_CONF("allocator", "cpu_overcommit", VS_CONF_NUMBER, cpu_overcommit, NULL),
    VS_CONF("allocator", "memory_overcommit", VS_CONF_NUMBER, memory_overcommit, NULL),
    VS_CONF("allocator", "host_cpus", VS_CONF_NUMBER, host_cpus, NULL),
    VS_CONF("allocator", "host_memory", VS_CONF_SIZE, host_memory_bytes, NULL),
    VS_CONF("shadow", "pool", VS_CONF_STRING, shadow_pool, vsConfigValidatePool),
    VS_CONF("shadow", "max_concurrent_shadows", VS_CONF_NUMBER, max_concurrent_shadows,
            vsConfigValidateShadowCount),
    VS_CONF("shadow", "max_job_attempts", VS_CONF_UINT, max_job_attempts,
            vsConfigValidateAttempts),
    VS_CONF("deploy", "margin", VS_CONF_NUMBER, deploy_margin, NULL),
    VS_CONF("deploy", "vcpus", VS_CONF_UINT, deploy_vcpus, NULL),
    VS_CONF("deploy", "memory", VS_CONF_SIZE, deploy_memory_bytes, NULL),
    VS_CONF("deploy", "clone", VS_CONF_STRING, deploy_clone, vsConfigValidateClone),
    VS_CONF("deploy", "pool", VS_CONF_STRING, deploy_pool, vsConfigValidatePool),
};

vsConfig *
vsConfigNew(void)
{
    vsConfig *cfg = g_new0(vsConfig, 1);

    cfg->state_dir = g_strdup(VS_DEFAULT_STATE_DIR);
    cfg->embedded_db_user = g_strdup("postgres");
    cfg->log_level = g_strdup("info");
    cfg->log_target = g_strdup("auto");
    cfg->domain_type = g_strdup("qemu");
    cfg->pid_file = g_strdup("/run/virt-shadowd.pid");
    cfg->heartbeat_interval_ms = 10 * 1000;
    cfg->min_interval_ms = 5 * 1000;
    cfg->max_interval_ms = 60 * 1000;
    cfg->balloon_period_ms = 10 * 1000;
    cfg->spool_max_bytes = 64 * 1024 * 1024;
    cfg->raw_retention_ms = 14 * 24 * 3600 * 1000ULL;
    cfg->rollup_retention_ms = 365 * 24 * 3600 * 1000ULL;
    cfg->metrics_listen = g_strdup("127.0.0.1:9468");
    cfg->forecast_step_ms = 300 * 1000;
    cfg->forecast_season_ms = 86400 * 1000;
    cfg->forecast_horizon_ms = 0;      /* one step */
    cfg->allocator_interval_ms = 15 * 1000;
    cfg->shrink_window_ms = 3600 * 1000;
    cfg->cpu_overcommit = 4;
    cfg->memory_overcommit = 1;
    cfg->shadow_pool = g_strdup(VS_DEFAULT_SHADOW_POOL);
    cfg->max_concurrent_shadows = 1;
    cfg->max_job_attempts = 3;
    cfg->deploy_margin = 1.2;
    cfg->deploy_vcpus = 1;
    cfg->deploy_memory_bytes = 1024 * 1024 * 1024;
    cfg->deploy_clone = g_strdup("linked");
    cfg->deploy_pool = g_strdup(VS_DEFAULT_DEPLOY_POOL);
    return cfg;
}

void
vsConfigFree(vsConfig *cfg)
{
    if (!cfg)
        return;
    g_free(cfg->path);
    for (gsize i = 0; i < G_N_ELEMENTS(vsConfigKeys); i++) {
        if (vsConfigKeys[i].type == VS_CONF_STRING)
            g_free(G_STRUCT_MEMBER(char *, cfg, vsConfigKeys[i].offset));
    }
    g_free(cfg);
}

static const vsConfigKey *
vsConfigFindKey(const char *group, const char *key)
{
    for (gsize i = 0; i < G_N_ELEMENTS(vsConfigKeys); i++) {
        if (g_str_equal(vsConfigKeys[i].group, group) && g_str_equal(vsConfigKeys[i].key, key))
            return &vsConfigKeys[i];
    }
    return NULL;
}

static gboolean
vsConfigSetKey(vsConfig *cfg, const vsConfigKey *def, const char *value, GError **error)
{
    if (def->validate && !def->validate(value, error))
        return FALSE;

    switch (def->type) {
    case VS_CONF_STRING: {
        char **field = &G_STRUCT_MEMBER(char *, cfg, def->offset);

        g_free(*field);
        /* an empty value means "unset" (e.g. database = for the embedded one) */
        *field = *value ? g_strdup(value) : NULL;
        return TRUE;
    }
    case VS_CONF_DURATION:
        return vsParseDuration(value, &G_STRUCT_MEMBER(guint64, cfg, def->offset), error);
    case VS_CONF_SIZE:
        return vsParseSize(value, 1, &G_STRUCT_MEMBER(guint64, cfg, def->offset), error);
    case VS_CONF_NUMBER:
        return vsConfigParseNumber(value, &G_STRUCT_MEMBER(double, cfg, def->offset), error);
    case VS_CONF_UINT:
        if (g_ascii_string_to_unsigned(value, 10, 0, G_MAXUINT,
                                       &G_STRUCT_MEMBER(guint64, cfg, def->offset), NULL))
            return TRUE;
        g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
                    "invalid count '%s' (expected a whole number)", value);
        return FALSE;
    }
    g_assert_not_reached();
}

static gboolean
vsConfigApplyKeyFile(vsConfig *cfg, GKeyFile *kf, GError **error)
{
    g_auto(GStrv) groups = g_key_file_get_groups(kf, NULL);

    for (gsize g = 0; groups[g]; g++) {
        g_auto(GStrv) keys = g_key_file_get_keys(kf, groups[g], NULL, NULL);

        for (gsize k = 0; keys && keys[k]; k++) {
            const vsConfigKey *def = vsConfigFindKey(groups[g], keys[k]);
            g_autofree char *value = NULL;
            g_autoptr(GError) local = NULL;

            if (!def) {
                g_set_error(error, VS_ERROR, VS_ERROR_INVALID, "unknown key '%s' in group [%s]",
                            keys[k], groups[g]);
                return FALSE;
            }
            value = g_key_file_get_string(kf, groups[g], keys[k], &local);
            if (!value || !vsConfigSetKey(cfg, def, g_strstrip(value), &local)) {
                g_set_error(error, VS_ERROR, VS_ERROR_INVALID, "[%s] %s: %s",
                            groups[g], keys[k], local->message);
                return FALSE;
            }
        }
        if (!keys || !keys[0]) {
            gboolean known = FALSE;

            for (gsize i = 0; i < G_N_ELEMENTS(vsConfigKeys); i++)
                known |= g_str_equal(vsConfigKeys[i].group, groups[g]);
            if (!known) {
                g_set_error(error, VS_ERROR, VS_ERROR_INVALID, "unknown group [%s]", groups[g]);
                return FALSE;
            }
        }
    }
    return TRUE;
}

static vsConfig *
vsConfigFromKeyFile(GKeyFile *kf, const char *name, GError **error)
{
    g_autoptr(vsConfig) cfg = vsConfigNew();
    g_autoptr(GError) local = NULL;

    if (!vsConfigApplyKeyFile(cfg, kf, &local)) {
        g_set_error(error, VS_ERROR, VS_ERROR_INVALID, "config file '%s': %s",
                    name, local->message);
        return NULL;
    }
    if (cfg->min_interval_ms == 0 || cfg->min_interval_ms > cfg->max_interval_ms) {
        g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
                    "config file '%s': [telemetry] min_interval must be above 0 and at most "
                    "max_interval", name);
        return NULL;
    }
    if (!vsConfigCheckForecast(cfg, name, error))
        return NULL;
    if (!(cfg->cpu_overcommit > 0) || !(cfg->memory_overcommit > 0)) {
        g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
                    "config file '%s': [allocator] cpu_overcommit and memory_overcommit must be "
                    "above 0", name);
        return NULL;
    }
    if (!(cfg->deploy_margin >= 1) || cfg->deploy_vcpus < 1 ||
        cfg->deploy_memory_bytes < 128 * 1024 * 1024) {
        g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
                    "config file '%s': [deploy] margin must be at least 1, vcpus at least 1 and "
                    "memory at least 128M", name);
        return NULL;
    }
    cfg->path = g_strdup(name);
    return g_steal_pointer(&cfg);
}

vsConfig *
vsConfigLoadData(const char *data, const char *name, GError **error)
{
    g_autoptr(GKeyFile) kf = g_key_file_new();
    g_autoptr(GError) local = NULL;

    if (!g_key_file_load_from_data(kf, data, -1, G_KEY_FILE_NONE, &local)) {
        g_set_error(error, VS_ERROR, VS_ERROR_INVALID, "config file '%s': %s",
                    name, local->message);
        return NULL;
    }
    return vsConfigFromKeyFile(kf, name, error);
}

vsConfig *
vsConfigLoad(const char *path, gboolean must_exist, GError **error)
{
    g_autofree char *data = NULL;
    g_autoptr(GError) local = NULL;

    if (!g_file_get_contents(path, &data, NULL, &local)) {
        if (!must_exist && g_error_matches(local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
            return vsConfigNew();
        g_set_error(error, VS_ERROR, VS_ERROR_IO, "cannot read config file '%s': %s",
                    path, local->message);
        return NULL;
    }
    return vsConfigLoadData(data, path, error);
}

const char *
vsConfigResolveURI(const vsConfig *cfg, const char *option)
{
    const char *env = g_getenv("LIBVIRT_DEFAULT_URI");

    if (option && *option)
        return option;
    if (cfg->uri)
        return cfg->uri;
    return env && *env ? env : NULL;
}

const char *
vsConfigResolveDatabase(const vsConfig *cfg)
{
    const char *env = g_getenv("VIRT_SHADOW_DATABASE");

    if (cfg->database)
        return cfg->database;
    return env && *env ? env : NULL;
}
