/*
 * vsschedule.h: when a recurring shadow run is due ("--every")
 *
 * "--every" is daily, weekly, or a five-field cron expression: minute
 * (0-59), hour (0-23), day of month (1-31), month (1-12 or jan-dec), day
 * of week (0-7 or sun-sat, 0 and 7 both Sunday).  A field is a
 * comma-separated list of "*", N or N-M, each with an optional "/STEP"
 * ("N/STEP" runs from N to the field's end).  As in Vixie cron, when both
 * day fields are restricted (neither starts with "*") a day matches when
 * either does; otherwise both must.  daily is "0 0 * * *", weekly
 * "0 0 * * 0".
 *
 * Times are UTC, not the host's local time: controllers on hosts in
 * different zones then agree on every due time (one job per schedule and
 * due time), and no slot is skipped or doubled when clocks change.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _vsSchedule vsSchedule;

/* Parse @every; VS_ERROR_INVALID naming it (and the bad field) when it is
 * none of the forms above, or when it can never be due ("0 0 31 2 *"). */
vsSchedule *vsScheduleParse(const char *every, GError **error);
void vsScheduleFree(vsSchedule *sched);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vsSchedule, vsScheduleFree)

/* The expression as given, spaces normalised. */
const char *vsScheduleGetText(const vsSchedule *sched);

/* The first due time strictly after @after_us (Unix microseconds), on a
 * whole minute; -1 when there is none in the next ten years (which a
 * parsed schedule never gives, short of the year 9999). */
gint64 vsScheduleNext(const vsSchedule *sched, gint64 after_us);

G_END_DECLS
