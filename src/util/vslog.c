/*
 * vslog.c: structured logging for the binaries
 */
#include <config.h>

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "vslog.h"
#include "vserror.h"

typedef enum {
    VS_LOG_TO_STDERR,
    VS_LOG_TO_JOURNAL,
    VS_LOG_TO_FILE,
} vsLogTarget;

static struct {
    char *progname;
    gboolean timestamps;
    vsLogLevel level;
    vsLogTarget target;
    FILE *file;
} vsLog = { NULL, FALSE, VS_LOG_WARNING, VS_LOG_TO_STDERR, NULL };
/* The daemon logs from its store thread too: the target may not change
 * under a writer. */
static GMutex vsLogLock;

static const char *const vsLogLevelNames[] = { "error", "warning", "info", "debug" };

gboolean
vsLogLevelFromString(const char *text, vsLogLevel *ret, GError **error)
{
    for (gsize i = 0; i < G_N_ELEMENTS(vsLogLevelNames); i++) {
        if (g_strcmp0(text, vsLogLevelNames[i]) == 0) {
            *ret = (vsLogLevel)i;
            return TRUE;
        }
    }
    g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
                "invalid log level '%s' (expected error, warning, info or debug)",
                text ? text : "");
    return FALSE;
}

void
vsLogSetLevel(vsLogLevel level)
{
    vsLog.level = level;
}

vsLogLevel
vsLogGetLevel(void)
{
    return vsLog.level;
}

static vsLogLevel
vsLogLevelOf(GLogLevelFlags flags)
{
    if (flags & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL))
        return VS_LOG_ERROR;
    if (flags & G_LOG_LEVEL_WARNING)
        return VS_LOG_WARNING;
    if (flags & (G_LOG_LEVEL_MESSAGE | G_LOG_LEVEL_INFO))
        return VS_LOG_INFO;
    return VS_LOG_DEBUG;
}

static const char *
vsLogFieldString(const GLogField *field)
{
    return field->length < 0 ? field->value : NULL;
}

/* Our own fields are lowercase; GLib's (MESSAGE, PRIORITY, GLIB_DOMAIN, CODE_*)
 * are uppercase and not repeated in the human format. */
static gboolean
vsLogFieldIsOurs(const GLogField *field)
{
    return g_ascii_islower(field->key[0]);
}

static void
vsLogFormatHuman(GString *out, GLogLevelFlags flags, const GLogField *fields,
                 gsize n_fields)
{
    const char *message = "";
    gboolean first = TRUE;

    if (vsLog.timestamps) {
        g_autoptr(GDateTime) now = g_date_time_new_now_utc();
        g_autofree char *ts = g_date_time_format(now, "%Y-%m-%d %H:%M:%S.%f");

        /* %f gives microseconds; milliseconds are enough for logs */
        g_string_append_printf(out, "%.23sZ %s[%d]: ", ts, vsLog.progname, (int)getpid());
    } else {
        g_string_append_printf(out, "%s: ", vsLog.progname);
    }
    g_string_append_printf(out, "%s: ", vsLogLevelNames[vsLogLevelOf(flags)]);

    for (gsize i = 0; i < n_fields; i++) {
        if (g_strcmp0(fields[i].key, "MESSAGE") == 0 && vsLogFieldString(&fields[i]))
            message = fields[i].value;
    }
    g_string_append(out, message);
    for (gsize i = 0; i < n_fields; i++) {
        const char *value = vsLogFieldString(&fields[i]);

        if (!vsLogFieldIsOurs(&fields[i]) || !value)
            continue;
        g_string_append(out, first ? " (" : " ");
        first = FALSE;
        if (strpbrk(value, " \"="))
            g_string_append_printf(out, "%s=\"%s\"", fields[i].key, value);
        else
            g_string_append_printf(out, "%s=%s", fields[i].key, value);
    }
    if (!first)
        g_string_append_c(out, ')');
    g_string_append_c(out, '\n');
}

/* journald wants upper-case keys; ours get a VS_ prefix so they are easy to
 * filter with journalctl VS_DOMAIN=... */
static GLogWriterOutput
vsLogWriteJournal(GLogLevelFlags flags, const GLogField *fields, gsize n_fields)
{
    g_autoptr(GPtrArray) keys = g_ptr_array_new_with_free_func(g_free);
    g_autofree GLogField *copy = g_new(GLogField, n_fields);

    for (gsize i = 0; i < n_fields; i++) {
        copy[i] = fields[i];
        if (vsLogFieldIsOurs(&fields[i])) {
            char *key = g_strconcat("VS_", fields[i].key, NULL);

            g_ptr_array_add(keys, g_ascii_strup(key, -1));
            g_free(key);
            copy[i].key = g_ptr_array_index(keys, keys->len - 1);
        }
    }
    return g_log_writer_journald(flags, copy, n_fields, NULL);
}

static GLogWriterOutput
vsLogWriter(GLogLevelFlags flags, const GLogField *fields, gsize n_fields,
            gpointer opaque)
{
    g_autoptr(GString) line = NULL;
    FILE *out;

    if (vsLogLevelOf(flags) > vsLog.level)
        return G_LOG_WRITER_HANDLED;
    if (vsLog.target == VS_LOG_TO_JOURNAL &&
        vsLogWriteJournal(flags, fields, n_fields) == G_LOG_WRITER_HANDLED)
        return G_LOG_WRITER_HANDLED;

    line = g_string_new(NULL);
    vsLogFormatHuman(line, flags, fields, n_fields);
    g_mutex_lock(&vsLogLock);
    out = vsLog.target == VS_LOG_TO_FILE && vsLog.file ? vsLog.file : stderr;
    fputs(line->str, out);
    fflush(out);
    g_mutex_unlock(&vsLogLock);
    return G_LOG_WRITER_HANDLED;
}

void
vsLogInit(const char *progname, gboolean timestamps)
{
    static gsize once;

    g_free(vsLog.progname);
    vsLog.progname = g_strdup(progname);
    vsLog.timestamps = timestamps;
    /* GLib takes one writer per process; vsCliMain() may run twice in a test */
    if (g_once_init_enter(&once)) {
        g_log_set_writer_func(vsLogWriter, NULL, NULL);
        g_once_init_leave(&once, 1);
    }
}

gboolean
vsLogSetTarget(const char *target, GError **error)
{
    FILE *file = NULL;

    if (g_str_has_prefix(target, "file:")) {
        const char *path = target + strlen("file:");
        int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);

        if (fd < 0 || !(file = fdopen(fd, "a"))) {
            int err = errno;

            if (fd >= 0)
                close(fd);
            g_set_error(error, VS_ERROR, VS_ERROR_IO, "cannot open log file '%s': %s",
                        path, g_strerror(err));
            return FALSE;
        }
    } else if (g_strcmp0(target, "stderr") != 0 && g_strcmp0(target, "journal") != 0 &&
               g_strcmp0(target, "auto") != 0) {
        g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
                    "invalid log target '%s' (expected stderr, journal, file:PATH or auto)",
                    target);
        return FALSE;
    }

    g_mutex_lock(&vsLogLock);
    if (vsLog.file)
        fclose(vsLog.file);
    vsLog.file = file;
    if (file)
        vsLog.target = VS_LOG_TO_FILE;
    else if (g_strcmp0(target, "journal") == 0 ||
             (g_strcmp0(target, "auto") == 0 && g_log_writer_is_journald(fileno(stderr))))
        vsLog.target = VS_LOG_TO_JOURNAL;
    else
        vsLog.target = VS_LOG_TO_STDERR;
    g_mutex_unlock(&vsLogLock);
    return TRUE;
}

void
vsLogWithFields(GLogLevelFlags level, const char *const *fields,
                const char *format, ...)
{
    g_autoptr(GArray) arr = g_array_new(FALSE, FALSE, sizeof(GLogField));
    g_autofree char *message = NULL;
    GLogField f;
    va_list ap;

    va_start(ap, format);
    message = g_strdup_vprintf(format, ap);
    va_end(ap);

    f = (GLogField){ "MESSAGE", message, -1 };
    g_array_append_val(arr, f);
    f = (GLogField){ "GLIB_DOMAIN", VS_LOG_DOMAIN, -1 };
    g_array_append_val(arr, f);
    for (gsize i = 0; fields && fields[i] && fields[i + 1]; i += 2) {
        f = (GLogField){ fields[i], fields[i + 1], -1 };
        g_array_append_val(arr, f);
    }
    g_log_structured_array(level, (GLogField *)arr->data, arr->len);
}
