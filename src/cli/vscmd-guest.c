/*
 * vscmd-guest.c: the "guest" command family, talking to a guest agent
 *
 * Commands run as argv arrays through guest-exec: nothing is ever joined
 * into a shell string.
 */
#include <config.h>

#include <stdio.h>

#include "vscli.h"
#include "hypervisor/vsguest.h"
#include "util/vserror.h"
#include "util/vsutil.h"

#define VS_GUEST_DEFAULT_TIMEOUT "30s"

static gboolean
vsCmdGuestTimeout(const vsCliArgs *args, guint *ret_ms, GError **error)
{
    const char *text = vsCliArgsGet(args, "timeout");
    guint64 ms = 0;

    if (!vsParseDuration(text ? text : VS_GUEST_DEFAULT_TIMEOUT, &ms, error))
        return FALSE;
    *ret_ms = (guint)MIN(ms, G_MAXUINT);
    return TRUE;
}

static gboolean
vsCmdGuestPing(vsCli *cli, const vsCliArgs *args, GError **error)
{
    const char *domain = vsCliArgsPositional(args, 0);
    vsHypervisor *hv = vsCliGetHypervisor(cli, error);
    gint64 start = g_get_monotonic_time();
    double waited;
    guint timeout_ms = 0;

    if (!hv || !vsCmdGuestTimeout(args, &timeout_ms, error))
        return FALSE;
    if (vsCliArgsHas(args, "wait") ? !vsGuestWaitForAgent(hv, domain, timeout_ms, error)
                                   : !vsGuestPing(hv, domain, error))
        return FALSE;
    waited = (g_get_monotonic_time() - start) / 1e6;
    if (vsCliWantJson(cli)) {
        g_autoptr(vsJsonWriter) w = vsJsonWriterNew(TRUE);

        vsJsonWriterBeginObject(w);
        vsJsonWriterMemberString(w, "domain", domain);
        vsJsonWriterMemberBool(w, "answered", TRUE);
        vsJsonWriterMemberDouble(w, "seconds", waited);
        vsJsonWriterEndObject(w);
        vsCliPrintJson(cli, w);
    } else {
        vsCliInfo(cli, "Guest agent of '%s' answered after %.1f s\n", domain, waited);
    }
    return TRUE;
}

/* Empty GBytes hold a NULL pointer, which neither fwrite nor g_strndup
 * may be given. */
static char *
vsCmdGuestText(GBytes *bytes)
{
    gsize size = 0;
    const char *data = g_bytes_get_data(bytes, &size);

    return size ? g_strndup(data, size) : g_strdup("");
}

static void
vsCmdGuestWrite(GBytes *bytes, FILE *stream)
{
    gsize size = 0;
    const void *data = g_bytes_get_data(bytes, &size);

    if (size)
        fwrite(data, 1, size, stream);
}

static void
vsCmdGuestExecJson(vsCli *cli, const vsGuestExecResult *res)
{
    g_autoptr(vsJsonWriter) w = vsJsonWriterNew(TRUE);
    g_autofree char *out = vsCmdGuestText(res->out);
    g_autofree char *err = vsCmdGuestText(res->err);

    vsJsonWriterBeginObject(w);
    vsJsonWriterMemberInt(w, "exit_code", res->exit_code);
    vsJsonWriterMemberInt(w, "signal", res->signal);
    vsJsonWriterMemberString(w, "stdout", out);
    vsJsonWriterMemberString(w, "stderr", err);
    vsJsonWriterMemberBool(w, "stdout_truncated", res->out_truncated);
    vsJsonWriterMemberBool(w, "stderr_truncated", res->err_truncated);
    vsJsonWriterEndObject(w);
    vsCliPrintJson(cli, w);
}

static gboolean
vsCmdGuestExec(vsCli *cli, const vsCliArgs *args, GError **error)
{
    const char *domain = vsCliArgsPositional(args, 0);
    vsHypervisor *hv = vsCliGetHypervisor(cli, error);
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    g_autoptr(vsGuestExecResult) res = NULL;
    guint timeout_ms = 0;

    if (!hv || !vsCmdGuestTimeout(args, &timeout_ms, error))
        return FALSE;
    for (guint i = 1; i < args->positional->len; i++)
        g_ptr_array_add(argv, g_ptr_array_index(args->positional, i));
    g_ptr_array_add(argv, NULL);
    if (!(res = vsGuestExec(hv, domain, (const char *const *)argv->pdata, NULL, timeout_ms, error)))
        return FALSE;

    if (vsCliWantJson(cli)) {
        vsCmdGuestExecJson(cli, res);
    } else {
        vsCmdGuestWrite(res->out, stdout);
        vsCmdGuestWrite(res->err, stderr);
    }
    if (res->signal) {
        g_set_error(error, VS_ERROR, VS_ERROR_FAILED, "'%s' in domain '%s' was killed by signal %d",
                    (char *)argv->pdata[0], domain, res->signal);
        return FALSE;
    }
    if (res->exit_code != 0) {
        g_set_error(error, VS_ERROR, VS_ERROR_FAILED, "'%s' in domain '%s' exited with status %d",
                    (char *)argv->pdata[0], domain, res->exit_code);
        return FALSE;
    }
    return TRUE;
}

static const vsCliOption vsCmdGuestPingOptions[] = {
    { "wait", 'w', VS_OPT_FLAG, NULL, "keep trying until the agent answers or the timeout passes" },
    { "timeout", 't', VS_OPT_STRING, "DURATION", "how long --wait waits (default " VS_GUEST_DEFAULT_TIMEOUT ")" },
    { NULL }
};

static const vsCliOption vsCmdGuestExecOptions[] = {
    { "timeout", 't', VS_OPT_STRING, "DURATION", "how long the command may run (default " VS_GUEST_DEFAULT_TIMEOUT ")" },
    { NULL }
};

const vsCliCommand vsCmdGuest[] = {
    { "guest ping", "DOMAIN", "check that a domain's guest agent answers",
      "Sends guest-ping to the QEMU guest agent.  With --wait, retries until it\n"
      "answers, which is how long a booting guest takes to become manageable.",
      vsCmdGuestPingOptions, 1, 1, vsCmdGuestPing },
    { "guest exec", "DOMAIN -- COMMAND [ARG...]", "run a command in a guest through its agent",
      "Runs COMMAND with its arguments through guest-exec, as an argument vector\n"
      "(no shell), and prints its output.  Exits 1 when the command fails.\n"
      "Put '--' before COMMAND so its options are not taken for ours.",
      vsCmdGuestExecOptions, 2, G_MAXUINT, vsCmdGuestExec },
    { NULL }
};
