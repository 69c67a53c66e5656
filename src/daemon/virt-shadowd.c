/*
 * virt-shadowd.c: the controller daemon's command line
 */
#include <config.h>

#include <locale.h>
#include <stdio.h>

#include "daemon/vsdaemon.h"
#include "util/vsconfig.h"
#include "util/vserror.h"
#include "util/vslog.h"
#include "vsdrivers.h"

/* GOption has no counting flag; -v -v means debug */
static int vsVerbose;

static gboolean
vsCountVerbose(const char *name, const char *value, gpointer data, GError **error)
{
    vsVerbose++;
    return TRUE;
}

int
main(int argc, char **argv)
{
    g_autoptr(GOptionContext) ctx = g_option_context_new(NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(vsDaemon) daemon = NULL;
    g_auto(vsDaemonOptions) opts = { 0 };
    gboolean version = FALSE;
    gboolean check_config = FALSE;
    const GOptionEntry entries[] = {
        { "foreground", 'f', 0, G_OPTION_ARG_NONE, &opts.foreground,
          "Stay in the foreground and log to stderr", NULL },
        { "config", 0, 0, G_OPTION_ARG_FILENAME, &opts.config_path,
          "Config file (default: " VS_DEFAULT_CONFIG_FILE ")", "FILE" },
        { "connect", 'c', 0, G_OPTION_ARG_STRING, &opts.connect,
          "libvirt URI (default: config, then LIBVIRT_DEFAULT_URI)", "URI" },
        { "state-dir", 0, 0, G_OPTION_ARG_FILENAME, &opts.state_dir,
          "State directory (default: " VS_DEFAULT_STATE_DIR ")", "DIR" },
        { "pid-file", 'p', 0, G_OPTION_ARG_FILENAME, &opts.pid_file,
          "Pid file (default: /run/virt-shadowd.pid)", "FILE" },
        { "check-config", 0, 0, G_OPTION_ARG_NONE, &check_config,
          "Check the config file and exit", NULL },
        { "verbose", 'v', G_OPTION_FLAG_NO_ARG, G_OPTION_ARG_CALLBACK, (gpointer)vsCountVerbose,
          "Log more (twice for debug)", NULL },
        { "version", 'V', 0, G_OPTION_ARG_NONE, &version, "Print the version and exit", NULL },
        { NULL }
    };

    setlocale(LC_ALL, "");
    vsLogInit("virt-shadowd", TRUE);
    vsDriversInit();
    g_option_context_set_summary(ctx, "The virt-shadow controller daemon: one per hypervisor host.");
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
        fprintf(stderr, "virt-shadowd: %s\nTry 'virt-shadowd --help' for more information.\n",
                error->message);
        return VS_EXIT_USAGE;
    }
    if (argc > 1) {
        fprintf(stderr, "virt-shadowd: unexpected argument '%s'\n"
                "Try 'virt-shadowd --help' for more information.\n", argv[1]);
        return VS_EXIT_USAGE;
    }
    if (version) {
        printf("virt-shadowd %s\n", PACKAGE_VERSION);
        return VS_EXIT_OK;
    }
    opts.verbose = vsVerbose;
    if (!(daemon = vsDaemonNew(&opts, &error)) ||
        (!check_config && !vsDaemonRun(daemon, &error))) {
        fprintf(stderr, "virt-shadowd: error: %s\n", error->message);
        return VS_EXIT_FAILURE;
    }
    if (check_config)
        printf("virt-shadowd: configuration OK\n");
    return VS_EXIT_OK;
}
