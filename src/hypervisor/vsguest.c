/*
 * vsguest.c: guest agent conversations built on vsHypervisorAgentCommand
 */
#include <config.h>

#include <string.h>

#include "vsguest.h"
#include "util/vserror.h"
#include "util/vsjson.h"

/* Per-command agent timeout while polling, in seconds. */
#define VS_GUEST_COMMAND_TIMEOUT_S 5

void
vsGuestExecResultFree(vsGuestExecResult *res)
{
    if (!res)
        return;
    g_clear_pointer(&res->out, g_bytes_unref);
    g_clear_pointer(&res->err, g_bytes_unref);
    g_free(res);
}

/* Send @json and parse the reply; the caller looks into "return". */
static vsJson *
vsGuestCommand(vsHypervisor *hv, const char *domain, const char *json,
               int timeout_s, GError **error)
{
    g_autofree char *reply = NULL;
    g_autoptr(GError) local = NULL;
    vsJson *ret;

    if (!(reply = vsHypervisorAgentCommand(hv, domain, json, timeout_s, error)))
        return NULL;
    if (!(ret = vsJsonParse(reply, -1, &local))) {
        g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
                    "bad reply from guest agent of domain '%s': %s",
                    domain, local->message);
        return NULL;
    }
    return ret;
}

gboolean
vsGuestPing(vsHypervisor *hv, const char *domain, GError **error)
{
    g_autoptr(vsJson) reply = NULL;
    GError *local = NULL;

    reply = vsGuestCommand(hv, domain, "{\"execute\":\"guest-ping\"}",
                           VS_GUEST_COMMAND_TIMEOUT_S, &local);
    if (!reply) {
        /* An agent that times out is as absent as one not connected. */
        if (local->domain == VS_ERROR && local->code == VS_ERROR_TIMEOUT)
            local->code = VS_ERROR_CONNECT;
        g_propagate_error(error, local);
        return FALSE;
    }
    return TRUE;
}

static gboolean
vsGuestRetryable(const GError *err)
{
    return err->domain == VS_ERROR &&
        (err->code == VS_ERROR_CONNECT || err->code == VS_ERROR_TIMEOUT ||
         err->code == VS_ERROR_FAILED);
}

gboolean
vsGuestWaitForAgent(vsHypervisor *hv, const char *domain, guint timeout_ms,
                    GError **error)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;

    for (;;) {
        g_autoptr(GError) local = NULL;

        if (vsGuestPing(hv, domain, &local))
            return TRUE;
        if (!vsGuestRetryable(local)) {
            g_propagate_error(error, g_steal_pointer(&local));
            return FALSE;
        }
        if (g_get_monotonic_time() >= deadline) {
            g_set_error(error, VS_ERROR, VS_ERROR_TIMEOUT,
                        "guest agent of domain '%s' did not answer within %u ms: %s",
                        domain, timeout_ms, local->message);
            return FALSE;
        }
        g_usleep(250 * 1000);
    }
}

static char *
vsGuestExecCommand(const char *const *argv, GBytes *input)
{
    g_autoptr(vsJsonWriter) w = vsJsonWriterNew(FALSE);
    gsize i;

    vsJsonWriterBeginObject(w);
    vsJsonWriterMemberString(w, "execute", "guest-exec");
    vsJsonWriterKey(w, "arguments");
    vsJsonWriterBeginObject(w);
    vsJsonWriterMemberString(w, "path", argv[0]);
    vsJsonWriterKey(w, "arg");
    vsJsonWriterBeginArray(w);
    for (i = 1; argv[i]; i++)
        vsJsonWriterString(w, argv[i]);
    vsJsonWriterEndArray(w);
    if (input) {
        gsize len;
        const guchar *data = g_bytes_get_data(input, &len);
        g_autofree char *b64 = g_base64_encode(data, len);

        vsJsonWriterMemberString(w, "input-data", b64);
    }
    vsJsonWriterMemberBool(w, "capture-output", TRUE);
    vsJsonWriterEndObject(w);
    vsJsonWriterEndObject(w);
    return vsJsonWriterSteal(w);
}

static GBytes *
vsGuestDecode(const vsJson *ret, const char *key)
{
    const char *b64 = vsJsonGetString(vsJsonObjectGet(ret, key));
    gsize len = 0;
    guchar *data;

    if (!b64 || !*b64)
        return g_bytes_new(NULL, 0);
    data = g_base64_decode(b64, &len);
    return g_bytes_new_take(data, len);
}

static gboolean
vsGuestGetBool(const vsJson *ret, const char *key)
{
    const vsJson *v = vsJsonObjectGet(ret, key);

    return v && vsJsonGetType(v) == VS_JSON_BOOL && vsJsonGetBool(v);
}

vsGuestExecResult *
vsGuestExec(vsHypervisor *hv, const char *domain, const char *const *argv,
            GBytes *input, guint timeout_ms, GError **error)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    g_autofree char *cmd = NULL;
    g_autoptr(vsJson) reply = NULL;
    gulong sleep_us = 20 * 1000;
    gint64 pid;

    if (!argv || !argv[0]) {
        g_set_error(error, VS_ERROR, VS_ERROR_INVALID, "no command to run in domain '%s'",
                    domain);
        return NULL;
    }
    cmd = vsGuestExecCommand(argv, input);
    if (!(reply = vsGuestCommand(hv, domain, cmd, VS_GUEST_COMMAND_TIMEOUT_S, error)))
        return NULL;
    if (!vsJsonGetInt64(vsJsonPath(reply, "return.pid"), &pid)) {
        g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
                    "guest agent of domain '%s' returned no pid for '%s'",
                    domain, argv[0]);
        return NULL;
    }

    for (;;) {
        g_autoptr(vsJson) status = NULL;
        g_autofree char *query = NULL;
        const vsJson *ret;

        query = g_strdup_printf("{\"execute\":\"guest-exec-status\","
                                "\"arguments\":{\"pid\":%" G_GINT64_FORMAT "}}", pid);
        if (!(status = vsGuestCommand(hv, domain, query, VS_GUEST_COMMAND_TIMEOUT_S,
                                      error)))
            return NULL;
        ret = vsJsonObjectGet(status, "return");
        if (!ret || vsJsonGetType(ret) != VS_JSON_OBJECT) {
            g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
                        "guest agent of domain '%s' returned no status for '%s'",
                        domain, argv[0]);
            return NULL;
        }
        if (vsGuestGetBool(ret, "exited")) {
            g_autoptr(vsGuestExecResult) res = g_new0(vsGuestExecResult, 1);
            gint64 num;

            res->exit_code = -1;
            if (vsJsonGetInt64(vsJsonObjectGet(ret, "signal"), &num) && num != 0) {
                res->signal = (int)num;
            } else if (vsJsonGetInt64(vsJsonObjectGet(ret, "exitcode"), &num)) {
                res->exit_code = (int)num;
            }
            res->out = vsGuestDecode(ret, "out-data");
            res->err = vsGuestDecode(ret, "err-data");
            res->out_truncated = vsGuestGetBool(ret, "out-truncated");
            res->err_truncated = vsGuestGetBool(ret, "err-truncated");
            return g_steal_pointer(&res);
        }
        if (g_get_monotonic_time() >= deadline) {
            g_set_error(error, VS_ERROR, VS_ERROR_TIMEOUT,
                        "command '%s' in domain '%s' did not finish within %u ms",
                        argv[0], domain, timeout_ms);
            return NULL;
        }
        g_usleep(sleep_us);
        sleep_us = MIN(sleep_us * 2, 500 * 1000);
    }
}
