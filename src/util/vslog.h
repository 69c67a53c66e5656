/*
 * vslog.h: structured logging for the binaries
 *
 * Messages go through GLib's structured log (g_info, g_warning, or
 * g_log_structured with extra fields such as VS_DOMAIN).  This module only
 * decides where they go and how they look.  Library code does not log: the
 * caller that handles an error logs it once.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define VS_LOG_DOMAIN "virt-shadow"

typedef enum {
    VS_LOG_ERROR,       /* errors only */
    VS_LOG_WARNING,     /* + warnings */
    VS_LOG_INFO,        /* + what the daemon does */
    VS_LOG_DEBUG,
} vsLogLevel;

/* Install the writer.  @timestamps for daemons; the CLI prints "prog: level: msg". */
void vsLogInit(const char *progname, gboolean timestamps);

gboolean vsLogLevelFromString(const char *text, vsLogLevel *ret, GError **error);
void vsLogSetLevel(vsLogLevel level);
vsLogLevel vsLogGetLevel(void);

/* "stderr", "journal", "file:/path" or "auto" (journal when stderr is
 * connected to it, else stderr).  A file is opened for appending, 0640. */
gboolean vsLogSetTarget(const char *target, GError **error);

/* Log with structured fields, given as a NULL-terminated array of
 * name, value pairs: { "domain", name, "event", "started", NULL }.  Field
 * names are lowercase; the journal gets them as VS_DOMAIN and so on. */
void vsLogWithFields(GLogLevelFlags level, const char *const *fields,
                     const char *format, ...) G_GNUC_PRINTF(3, 4);

G_END_DECLS
