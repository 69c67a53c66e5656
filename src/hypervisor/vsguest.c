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
vsGuestExecCommand(const char *const *argv, const char *const *env, GBytes *input)
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
    if (env) {
        vsJsonWriterKey(w, "env");
        vsJsonWriterBeginArray(w);
        for (i = 0; env[i]; i++)
            vsJsonWriterString(w, env[i]);
        vsJsonWriterEndArray(w);
    }
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

gboolean
vsGuestExecStart(vsHypervisor *hv, const char *domain, const char *const *argv,
                 const char *const *env, GBytes *input, gint64 *ret_pid, GError **error)
{
    g_autofree char *cmd = NULL;
    g_autoptr(vsJson) reply = NULL;
    gint64 pid;

    if (!argv || !argv[0]) {
        g_set_error(error, VS_ERROR, VS_ERROR_INVALID, "no command to run in domain '%s'",
                    domain);
        return FALSE;
    }
    cmd = vsGuestExecCommand(argv, env, input);
    if (!(reply = vsGuestCommand(hv, domain, cmd, VS_GUEST_COMMAND_TIMEOUT_S, error)))
        return FALSE;
    if (!vsJsonGetInt64(vsJsonPath(reply, "return.pid"), &pid)) {
        g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
                    "guest agent of domain '%s' returned no pid for '%s'",
                    domain, argv[0]);
        return FALSE;
    }
    *ret_pid = pid;
    return TRUE;
}

gboolean
vsGuestExecPoll(vsHypervisor *hv, const char *domain, gint64 pid,
                vsGuestExecResult **ret_result, GError **error)
{
    g_autoptr(vsJson) status = NULL;
    g_autofree char *query = NULL;
    g_autoptr(vsGuestExecResult) res = NULL;
    const vsJson *ret;
    gint64 num;

    query = g_strdup_printf("{\"execute\":\"guest-exec-status\","
                            "\"arguments\":{\"pid\":%" G_GINT64_FORMAT "}}", pid);
    if (!(status = vsGuestCommand(hv, domain, query, VS_GUEST_COMMAND_TIMEOUT_S, error)))
        return FALSE;
    ret = vsJsonObjectGet(status, "return");
    if (!ret || vsJsonGetType(ret) != VS_JSON_OBJECT) {
        g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
                    "guest agent of domain '%s' returned no status for pid %" G_GINT64_FORMAT,
                    domain, pid);
        return FALSE;
    }
    if (!vsGuestGetBool(ret, "exited")) {
        *ret_result = NULL;
        return TRUE;
    }
    res = g_new0(vsGuestExecResult, 1);
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
    *ret_result = g_steal_pointer(&res);
    return TRUE;
}

vsGuestExecResult *
vsGuestExec(vsHypervisor *hv, const char *domain, const char *const *argv,
            GBytes *input, guint timeout_ms, GError **error)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    gulong sleep_us = 20 * 1000;
    gint64 pid;

    if (!vsGuestExecStart(hv, domain, argv, NULL, input, &pid, error))
        return NULL;
    for (;;) {
        vsGuestExecResult *res = NULL;

        if (!vsGuestExecPoll(hv, domain, pid, &res, error))
            return NULL;
        if (res)
            return res;
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

gboolean
vsGuestMakeDirs(vsHypervisor *hv, const char *domain, const char *const *dirs,
                guint timeout_ms, GError **error)
{
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    g_autoptr(vsGuestExecResult) res = NULL;
    g_autoptr(GError) local = NULL;
    gsize i;

    g_ptr_array_add(argv, (gpointer)"/bin/mkdir");
    g_ptr_array_add(argv, (gpointer)"-p");
    /* "--": a directory named "-m" is a directory */
    g_ptr_array_add(argv, (gpointer)"--");
    for (i = 0; dirs[i]; i++) {
        if (!g_path_is_absolute(dirs[i])) {
            g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
                        "guest path '%s' for domain '%s' is not absolute", dirs[i], domain);
            return FALSE;
        }
        g_ptr_array_add(argv, (gpointer)dirs[i]);
    }
    if (i == 0)
        return TRUE;
    g_ptr_array_add(argv, NULL);
    if (!(res = vsGuestExec(hv, domain, (const char *const *)argv->pdata, NULL, timeout_ms,
                            &local))) {
        g_propagate_prefixed_error(error, g_steal_pointer(&local),
                                   "cannot make directory '%s' in domain '%s': ",
                                   dirs[0], domain);
        return FALSE;
    }
    if (res->exit_code != 0) {
        g_autofree char *err = g_strndup(g_bytes_get_data(res->err, NULL),
                                         g_bytes_get_size(res->err));

        g_set_error(error, VS_ERROR, VS_ERROR_FAILED,
                    "cannot make directory '%s' in domain '%s': mkdir exited with %d: %s",
                    dirs[0], domain, res->exit_code, g_strstrip(err));
        return FALSE;
    }
    return TRUE;
}

/* --- files ------------------------------------------------------------------ */

/* The "return" member of the reply to @cmd, or NULL with @error set. */
static vsJson *
vsGuestCall(vsHypervisor *hv, const char *domain, const char *cmd, const char *what,
            const vsJson **ret, GError **error)
{
    g_autoptr(vsJson) reply = vsGuestCommand(hv, domain, cmd, VS_GUEST_COMMAND_TIMEOUT_S, error);

    if (!reply)
        return NULL;
    if (!(*ret = vsJsonObjectGet(reply, "return"))) {
        g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
                    "guest agent of domain '%s' returned nothing for %s", domain, what);
        return NULL;
    }
    return g_steal_pointer(&reply);
}

/* guest-file-open; the handle in *@ret_handle. */
static gboolean
vsGuestFileOpen(vsHypervisor *hv, const char *domain, const char *path, const char *mode,
                gint64 *ret_handle, GError **error)
{
    g_autoptr(vsJsonWriter) w = vsJsonWriterNew(FALSE);
    g_autoptr(vsJson) reply = NULL;
    const vsJson *ret = NULL;

    vsJsonWriterBeginObject(w);
    vsJsonWriterMemberString(w, "execute", "guest-file-open");
    vsJsonWriterKey(w, "arguments");
    vsJsonWriterBeginObject(w);
    vsJsonWriterMemberString(w, "path", path);
    vsJsonWriterMemberString(w, "mode", mode);
    vsJsonWriterEndObject(w);
    vsJsonWriterEndObject(w);
    if (!(reply = vsGuestCall(hv, domain, vsJsonWriterGet(w), "guest-file-open", &ret, error)))
        return FALSE;
    if (!vsJsonGetInt64(ret, ret_handle)) {
        g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
                    "guest agent of domain '%s' returned no file handle", domain);
        return FALSE;
    }
    return TRUE;
}

static gboolean
vsGuestFileClose(vsHypervisor *hv, const char *domain, gint64 handle, GError **error)
{
    g_autofree char *cmd = g_strdup_printf("{\"execute\":\"guest-file-close\","
                                           "\"arguments\":{\"handle\":%" G_GINT64_FORMAT "}}",
                                           handle);
    g_autoptr(vsJson) reply = vsGuestCommand(hv, domain, cmd, VS_GUEST_COMMAND_TIMEOUT_S, error);

    return reply != NULL;
}

/* Write all of @buf (@len bytes) at the handle's position. */
static gboolean
vsGuestFileWriteChunk(vsHypervisor *hv, const char *domain, gint64 handle,
                      const guchar *buf, gsize len, GError **error)
{
    while (len > 0) {
        g_autofree char *b64 = g_base64_encode(buf, len);
        g_autoptr(vsJsonWriter) w = vsJsonWriterNew(FALSE);
        g_autoptr(vsJson) reply = NULL;
        const vsJson *ret = NULL;
        gint64 count;

        vsJsonWriterBeginObject(w);
        vsJsonWriterMemberString(w, "execute", "guest-file-write");
        vsJsonWriterKey(w, "arguments");
        vsJsonWriterBeginObject(w);
        vsJsonWriterMemberInt(w, "handle", handle);
        vsJsonWriterMemberString(w, "buf-b64", b64);
        vsJsonWriterEndObject(w);
        vsJsonWriterEndObject(w);
        if (!(reply = vsGuestCall(hv, domain, vsJsonWriterGet(w), "guest-file-write", &ret, error)))
            return FALSE;
        if (!vsJsonGetInt64(vsJsonObjectGet(ret, "count"), &count) ||
            count <= 0 || (guint64)count > len) {
            g_set_error(error, VS_ERROR, VS_ERROR_IO,
                        "guest agent of domain '%s' wrote no data", domain);
            return FALSE;
        }
        /* a short write: send the rest */
        buf += count;
        len -= (gsize)count;
    }
    return TRUE;
}

static gboolean
vsGuestPastDeadline(gint64 deadline, const char *domain, const char *path,
                    guint timeout_ms, GError **error)
{
    if (g_get_monotonic_time() < deadline)
        return FALSE;
    g_set_error(error, VS_ERROR, VS_ERROR_TIMEOUT,
                "copying '%s' into domain '%s' took longer than %u ms",
                path, domain, timeout_ms);
    return TRUE;
}

gboolean
vsGuestFileWrite(vsHypervisor *hv, const char *domain, const char *guest_path,
                 GBytes *data, int mode, guint timeout_ms, GError **error)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    gsize len = 0;
    const guchar *buf = data ? g_bytes_get_data(data, &len) : NULL;
    g_autoptr(GError) local = NULL;
    gint64 handle;
    gsize off;

    if (!guest_path || !g_path_is_absolute(guest_path)) {
        g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
                    "guest path '%s' for domain '%s' is not absolute",
                    guest_path ? guest_path : "", domain);
        return FALSE;
    }
    if (mode > 07777) {
        g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
                    "invalid mode %o for '%s' in domain '%s'", (unsigned)mode, guest_path, domain);
        return FALSE;
    }
    if (!vsGuestFileOpen(hv, domain, guest_path, "w", &handle, &local)) {
        g_propagate_prefixed_error(error, g_steal_pointer(&local),
                                   "cannot open '%s' in domain '%s' for writing: ",
                                   guest_path, domain);
        return FALSE;
    }
    for (off = 0; off < len; off += VS_GUEST_FILE_CHUNK) {
        if (vsGuestPastDeadline(deadline, domain, guest_path, timeout_ms, &local) ||
            !vsGuestFileWriteChunk(hv, domain, handle, buf + off,
                                   MIN(VS_GUEST_FILE_CHUNK, len - off), &local))
            break;
    }
    /* closed in any case, so the agent does not keep the handle */
    vsGuestFileClose(hv, domain, handle, local ? NULL : &local);
    if (local) {
        if (local->code == VS_ERROR_TIMEOUT)
            g_propagate_error(error, g_steal_pointer(&local));
        else
            g_propagate_prefixed_error(error, g_steal_pointer(&local),
                                       "cannot write '%s' in domain '%s': ", guest_path, domain);
        return FALSE;
    }
    if (mode >= 0) {
        g_autofree char *octal = g_strdup_printf("%04o", (unsigned)mode);
        const char *argv[] = { "/bin/chmod", octal, guest_path, NULL };
        gint64 left = (deadline - g_get_monotonic_time()) / 1000;
        g_autoptr(vsGuestExecResult) res = NULL;

        res = vsGuestExec(hv, domain, argv, NULL, (guint)CLAMP(left, 1000, G_MAXUINT), &local);
        if (!res) {
            g_propagate_prefixed_error(error, g_steal_pointer(&local),
                                       "cannot set mode of '%s' in domain '%s': ",
                                       guest_path, domain);
            return FALSE;
        }
        if (res->exit_code != 0) {
            g_autofree char *err = g_strndup(g_bytes_get_data(res->err, NULL),
                                             g_bytes_get_size(res->err));

            g_set_error(error, VS_ERROR, VS_ERROR_FAILED,
                        "cannot set mode of '%s' in domain '%s': chmod exited with %d: %s",
                        guest_path, domain, res->exit_code, g_strstrip(err));
            return FALSE;
        }
    }
    return TRUE;
}

/* One guest-file-read of up to @count bytes appended to @out; *@ret_eof. */
static gboolean
vsGuestFileReadChunk(vsHypervisor *hv, const char *domain, gint64 handle, gsize count,
                     GByteArray *out, gboolean *ret_eof, GError **error)
{
    g_autofree char *cmd = g_strdup_printf("{\"execute\":\"guest-file-read\","
                                           "\"arguments\":{\"handle\":%" G_GINT64_FORMAT
                                           ",\"count\":%" G_GSIZE_FORMAT "}}", handle, count);
    g_autoptr(vsJson) reply = NULL;
    const vsJson *ret = NULL;
    const char *b64;
    gint64 n = 0;

    if (!(reply = vsGuestCall(hv, domain, cmd, "guest-file-read", &ret, error)))
        return FALSE;
    b64 = vsJsonGetString(vsJsonObjectGet(ret, "buf-b64"));
    if (!b64 || !vsJsonGetInt64(vsJsonObjectGet(ret, "count"), &n) || n < 0 ||
        (guint64)n > count) {
        g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
                    "guest agent of domain '%s' returned a malformed read", domain);
        return FALSE;
    }
    if (n > 0) {
        gsize len = 0;
        g_autofree guchar *bytes = g_base64_decode(b64, &len);

        if (len != (gsize)n) {
            g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
                        "guest agent of domain '%s' returned %" G_GSIZE_FORMAT
                        " bytes but counted %" G_GINT64_FORMAT, domain, len, n);
            return FALSE;
        }
        g_byte_array_append(out, bytes, (guint)len);
    }
    /* an empty read is the end too, whatever "eof" says */
    *ret_eof = n == 0 || vsGuestGetBool(ret, "eof");
    return TRUE;
}

gboolean
vsGuestFileRead(vsHypervisor *hv, const char *domain, const char *guest_path,
                gsize max, GBytes **ret, GError **error)
{
    g_autoptr(GByteArray) out = g_byte_array_new();
    g_autoptr(GError) local = NULL;
    gboolean eof = FALSE;
    gint64 handle;

    if (!guest_path || !g_path_is_absolute(guest_path)) {
        g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
                    "guest path '%s' for domain '%s' is not absolute",
                    guest_path ? guest_path : "", domain);
        return FALSE;
    }
    if (!vsGuestFileOpen(hv, domain, guest_path, "r", &handle, &local)) {
        g_propagate_prefixed_error(error, g_steal_pointer(&local),
                                   "cannot open '%s' in domain '%s' for reading: ",
                                   guest_path, domain);
        return FALSE;
    }
    while (!eof) {
        gsize room = max - out->len;
        /* one byte past @max tells a file that is too long */
        gsize want = room >= VS_GUEST_FILE_CHUNK ? VS_GUEST_FILE_CHUNK : room + 1;

        if (!vsGuestFileReadChunk(hv, domain, handle, want, out, &eof, &local))
            break;
        if (out->len > max) {
            local = g_error_new(VS_ERROR, VS_ERROR_INVALID,
                                "it is larger than %" G_GSIZE_FORMAT " bytes", max);
            break;
        }
    }
    vsGuestFileClose(hv, domain, handle, local ? NULL : &local);
    if (local) {
        g_propagate_prefixed_error(error, g_steal_pointer(&local),
                                   "cannot read '%s' in domain '%s': ", guest_path, domain);
        return FALSE;
    }
    *ret = g_byte_array_free_to_bytes(g_steal_pointer(&out));
    return TRUE;
}
