/*
 * vsschedule.c: when a recurring shadow run is due ("--every")
 *
 * Each field is a bit set of the values it allows.  The next due time is
 * found day by day (civil dates from day numbers, UTC), then by hour and
 * minute within the first matching day.
 */
#include <config.h>

#include <string.h>

#include "vsschedule.h"
#include "util/vserror.h"

typedef enum {
    VS_FIELD_MINUTE,
    VS_FIELD_HOUR,
    VS_FIELD_MDAY,
    VS_FIELD_MONTH,
    VS_FIELD_WDAY,
    VS_FIELD_LAST
} vsScheduleField;

typedef struct {
    const char *name;
    guint min, max;
    const char *const *names;   /* names of min, min+1, ...; or NULL */
} vsFieldSpec;

static const char *const vsMonthNames[] = {
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec", NULL
};
static const char *const vsDayNames[] = {
    "sun", "mon", "tue", "wed", "thu", "fri", "sat", NULL
};

/* The day of week runs to 7 (Sunday again), folded onto 0 once parsed. */
static const vsFieldSpec vsFieldSpecs[VS_FIELD_LAST] = {
    { "minute", 0, 59, NULL },
    { "hour", 0, 23, NULL },
    { "day of month", 1, 31, NULL },
    { "month", 1, 12, vsMonthNames },
    { "day of week", 0, 7, vsDayNames },
};

struct _vsSchedule {
    char *text;
    guint64 bits[VS_FIELD_LAST];
    gboolean mday_star;         /* the field starts with "*" (Vixie's DOM_STAR) */
    gboolean wday_star;
};

#define VS_DAY_MINUTES 1440
#define VS_MINUTE_US (G_GINT64_CONSTANT(60) * G_USEC_PER_SEC)
/* Ten years of days: a leap day comes at least every eight. */
#define VS_SEARCH_DAYS (10 * 366)

void
vsScheduleFree(vsSchedule *sched)
{
    if (!sched)
        return;
    g_free(sched->text);
    g_free(sched);
}

const char *
vsScheduleGetText(const vsSchedule *sched)
{
    return sched->text;
}

/* A number or (for month and day of week) a name, all of @text. */
static gboolean
vsScheduleValue(const vsFieldSpec *spec, const char *text, guint *ret)
{
    guint64 v = 0;

    for (guint i = 0; spec->names && spec->names[i]; i++) {
        if (g_ascii_strcasecmp(text, spec->names[i]) == 0) {
            *ret = spec->min + i;
            return TRUE;
        }
    }
    if (!g_ascii_string_to_unsigned(text, 10, spec->min, spec->max, &v, NULL))
        return FALSE;
    *ret = (guint)v;
    return TRUE;
}

/* One list item: "*", N, N-M, each with an optional /STEP. */
static gboolean
vsScheduleItem(const vsFieldSpec *spec, const char *item, guint64 *bits)
{
    g_auto(GStrv) step_parts = NULL;
    const char *range;
    guint64 step = 1;
    guint lo = spec->min, hi = spec->max;

    /* g_strsplit gives no field at all for "" */
    if (!*item || *item == '/')
        return FALSE;
    step_parts = g_strsplit(item, "/", 2);
    range = step_parts[0];
    if (step_parts[1] &&
        !g_ascii_string_to_unsigned(step_parts[1], 10, 1, spec->max + 1, &step, NULL))
        return FALSE;
    if (!g_str_equal(range, "*")) {
        g_auto(GStrv) ends = NULL;

        if (*range == '-')
            return FALSE;
        ends = g_strsplit(range, "-", 2);
        if (!vsScheduleValue(spec, ends[0], &lo))
            return FALSE;
        if (ends[1]) {
            if (!vsScheduleValue(spec, ends[1], &hi) || hi < lo)
                return FALSE;
        } else if (!step_parts[1]) {
            hi = lo;
        }
    }
    for (guint v = lo; v <= hi; v += (guint)step)
        *bits |= G_GUINT64_CONSTANT(1) << v;
    return TRUE;
}

static gboolean
vsScheduleParseField(vsSchedule *sched, vsScheduleField field, const char *text,
                     const char *every, GError **error)
{
    const vsFieldSpec *spec = &vsFieldSpecs[field];
    g_auto(GStrv) items = g_strsplit(text, ",", -1);
    guint64 bits = 0;

    for (guint i = 0; items[i]; i++) {
        if (!vsScheduleItem(spec, items[i], &bits)) {
            g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
                        "invalid schedule '%s': bad %s '%s' (expected *, N, N-M, lists "
                        "and /STEP within %u-%u)", every, spec->name, text, spec->min,
                        spec->max);
            return FALSE;
        }
    }
    if (field == VS_FIELD_WDAY && (bits & (G_GUINT64_CONSTANT(1) << 7)))
        bits = (bits | 1) & ~(G_GUINT64_CONSTANT(1) << 7);
    sched->bits[field] = bits;
    return TRUE;
}

vsSchedule *
vsScheduleParse(const char *every, GError **error)
{
    g_autoptr(vsSchedule) sched = g_new0(vsSchedule, 1);
    g_auto(GStrv) fields = NULL;
    const char *expr = every;

    if (!every || !*every) {
        g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
                    "empty schedule (expected daily, weekly or a five-field cron expression)");
        return NULL;
    }
    if (g_str_equal(every, "daily"))
        expr = "0 0 * * *";
    else if (g_str_equal(every, "weekly"))
        expr = "0 0 * * 0";
    fields = g_strsplit_set(expr, " \t", -1);
    {
        /* drop the empty strings runs of blanks leave */
        guint n = 0;

        for (guint i = 0; fields[i]; i++) {
            if (*fields[i])
                fields[n++] = fields[i];
            else
                g_free(fields[i]);
        }
        fields[n] = NULL;
        if (n != VS_FIELD_LAST) {
            g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
                        "invalid schedule '%s' (expected daily, weekly or five cron fields: "
                        "minute hour day-of-month month day-of-week)", every);
            return NULL;
        }
    }
    for (guint f = 0; f < VS_FIELD_LAST; f++) {
        if (!vsScheduleParseField(sched, f, fields[f], every, error))
            return NULL;
    }
    sched->mday_star = fields[VS_FIELD_MDAY][0] == '*';
    sched->wday_star = fields[VS_FIELD_WDAY][0] == '*';
    sched->text = expr == every ? g_strjoinv(" ", fields) : g_strdup(every);
    /* from a leap year's New Year, every possible date comes within the search */
    if (vsScheduleNext(sched, G_GINT64_CONSTANT(946684800) * G_USEC_PER_SEC) < 0) {
        g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
                    "invalid schedule '%s': no such date ever comes", every);
        return NULL;
    }
    return g_steal_pointer(&sched);
}

static gboolean
vsScheduleHas(const vsSchedule *sched, vsScheduleField field, guint v)
{
    return (sched->bits[field] >> v) & 1;
}

/* The civil date of day @days since 1970-01-01 (Howard Hinnant's
 * days_from_civil, inverted). */
static void
vsScheduleCivil(gint64 days, gint64 *ret_year, guint *ret_month, guint *ret_mday)
{
    gint64 z = days + 719468;
    gint64 era = (z >= 0 ? z : z - 146096) / 146097;
    guint doe = (guint)(z - era * 146097);
    guint yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    guint doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    guint mp = (5 * doy + 2) / 153;
    guint month = mp < 10 ? mp + 3 : mp - 9;

    *ret_mday = doy - (153 * mp + 2) / 5 + 1;
    *ret_month = month;
    *ret_year = yoe + era * 400 + (month <= 2);
}

static gboolean
vsScheduleDayMatches(const vsSchedule *sched, gint64 days)
{
    gint64 year;
    guint month, mday;
    guint wday = (guint)(((days % 7) + 11) % 7);    /* 1970-01-01 was a Thursday */
    gboolean by_mday, by_wday;

    vsScheduleCivil(days, &year, &month, &mday);
    if (!vsScheduleHas(sched, VS_FIELD_MONTH, month))
        return FALSE;
    by_mday = vsScheduleHas(sched, VS_FIELD_MDAY, mday);
    by_wday = vsScheduleHas(sched, VS_FIELD_WDAY, wday);
    if (sched->mday_star || sched->wday_star)
        return by_mday && by_wday;
    return by_mday || by_wday;
}

static gint64
vsFloorDiv(gint64 a, gint64 b)
{
    return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

gint64
vsScheduleNext(const vsSchedule *sched, gint64 after_us)
{
    gint64 minute = vsFloorDiv(after_us, VS_MINUTE_US) + 1;
    gint64 day = vsFloorDiv(minute, VS_DAY_MINUTES);
    guint from = (guint)(minute - day * VS_DAY_MINUTES);

    for (guint i = 0; i <= VS_SEARCH_DAYS; i++, day++, from = 0) {
        if (!vsScheduleDayMatches(sched, day))
            continue;
        for (guint h = from / 60; h < 24; h++) {
            if (!vsScheduleHas(sched, VS_FIELD_HOUR, h))
                continue;
            for (guint m = h == from / 60 ? from % 60 : 0; m < 60; m++) {
                if (vsScheduleHas(sched, VS_FIELD_MINUTE, m))
                    return ((day * VS_DAY_MINUTES) + h * 60 + m) * VS_MINUTE_US;
            }
        }
    }
    return -1;
}
