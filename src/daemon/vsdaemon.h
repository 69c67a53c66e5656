/*
 * vsdaemon.h: virt-shadowd, the controller daemon
 *
 * One GLib main loop per host: it keeps the database migrated, stays
 * connected to libvirt (reconnecting with backoff), records domain lifecycle
 * events and a host heartbeat, reloads its config on SIGHUP and stops
 * cleanly on SIGTERM or SIGINT.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _vsDaemonOptions vsDaemonOptions;
struct _vsDaemonOptions {
    char *config_path;      /* NULL: the default, which may be absent */
    char *connect;          /* -c URI overrides the config */
    char *state_dir;        /* overrides the config */
    char *pid_file;         /* overrides the config */
    gboolean foreground;
    int verbose;
};

void vsDaemonOptionsClear(vsDaemonOptions *opts);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(vsDaemonOptions, vsDaemonOptionsClear)

typedef struct _vsDaemon vsDaemon;

vsDaemon *vsDaemonNew(const vsDaemonOptions *opts, GError **error);
void vsDaemonFree(vsDaemon *d);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vsDaemon, vsDaemonFree)

/* Detach unless in the foreground, take the pid file, and run until a
 * signal stops the loop.  FALSE when start-up fails. */
gboolean vsDaemonRun(vsDaemon *d, GError **error);

G_END_DECLS
