/*
 * vsguest.h: guest agent conversations built on vsHypervisorAgentCommand
 *
 * The JSON protocol lives here, in the core; the driver only carries bytes.
 * Commands run as argv arrays: no shell string is ever built.
 */
#pragma once

#include "hypervisor/vshypervisor.h"

G_BEGIN_DECLS

/* One guest-ping; VS_ERROR_CONNECT when the agent does not answer. */
gboolean vsGuestPing(vsHypervisor *hv, const char *domain, GError **error);
/* Ping until the agent answers or @timeout_ms passes (VS_ERROR_TIMEOUT). */
gboolean vsGuestWaitForAgent(vsHypervisor *hv, const char *domain,
                             guint timeout_ms, GError **error);

typedef struct _vsGuestExecResult vsGuestExecResult;
struct _vsGuestExecResult {
    int exit_code;          /* -1 when killed by a signal */
    int signal;             /* 0 unless killed by a signal */
    GBytes *out;            /* captured stdout (decoded) */
    GBytes *err;            /* captured stderr (decoded) */
    gboolean out_truncated;
    gboolean err_truncated;
};

void vsGuestExecResultFree(vsGuestExecResult *res);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vsGuestExecResult, vsGuestExecResultFree)

/* Run @argv[0] with @argv[1..] in the guest (guest-exec with captured
 * output), feed @input (may be NULL) on stdin, and poll guest-exec-status
 * until it exits or @timeout_ms passes (VS_ERROR_TIMEOUT). */
vsGuestExecResult *vsGuestExec(vsHypervisor *hv, const char *domain,
                               const char *const *argv, GBytes *input,
                               guint timeout_ms, GError **error);

/* Start @argv[0] with @argv[1..] in the guest (guest-exec with captured
 * output) and return at once with its pid in *@ret_pid.  @env, when not
 * NULL, is the child's whole environment ("KEY=VALUE" strings; the agent
 * does not merge it with its own, so give PATH too).  @input (may be
 * NULL) is fed on stdin. */
gboolean vsGuestExecStart(vsHypervisor *hv, const char *domain, const char *const *argv,
                          const char *const *env, GBytes *input, gint64 *ret_pid,
                          GError **error);

/* One guest-exec-status of @pid: *@ret_result is NULL while it runs, else
 * its result (the agent forgets the pid once it has said so). */
gboolean vsGuestExecPoll(vsHypervisor *hv, const char *domain, gint64 pid,
                         vsGuestExecResult **ret_result, GError **error);

/* "mkdir -p" the absolute guest paths @dirs (NULL-terminated) with one
 * argv, no shell.  Errors name the domain and the first directory. */
gboolean vsGuestMakeDirs(vsHypervisor *hv, const char *domain, const char *const *dirs,
                         guint timeout_ms, GError **error);

/* Largest raw chunk sent or asked for in one guest-file-write/-read. */
#define VS_GUEST_FILE_CHUNK (48 * 1024)

/* Write @data to @guest_path in the guest (created or truncated) through
 * guest-file-open/-write/-close, in base64 chunks of at most
 * VS_GUEST_FILE_CHUNK raw bytes; then, when @mode >= 0, run chmod with an
 * argv (no shell) to set it.  Gives up once @timeout_ms have passed,
 * checked between chunks (VS_ERROR_TIMEOUT).  Errors name the domain and
 * the guest path; the file may be left half written. */
gboolean vsGuestFileWrite(vsHypervisor *hv, const char *domain, const char *guest_path,
                          GBytes *data, int mode, guint timeout_ms, GError **error);

/* Read @guest_path from the guest with guest-file-read until end of file.
 * A file longer than @max bytes is an error (VS_ERROR_INVALID), so a
 * runaway log cannot eat the host's memory. */
gboolean vsGuestFileRead(vsHypervisor *hv, const char *domain, const char *guest_path,
                         gsize max, GBytes **ret, GError **error);

G_END_DECLS
