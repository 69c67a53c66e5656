/*
 * vscmd-schedule.c: the "shadow schedule" command family (recurring
 * shadow runs, run by virt-shadowd)
 *
 * A schedule keeps the script's text, so the file may change or go away
 * afterwards.  Its every is parsed here (shadow/vsschedule.h) and its
 * first due time set; virt-shadowd enqueues and runs the due ones.  The
 * stage directory is kept as an absolute path and staged by the run,
 * later and maybe on another controller.  The base is checked when
 * libvirt is reachable; when it is not, a run elsewhere may still find
 * it, so the schedule is added with a warning.
 */
#include <config.h>

#include <stdio.h>

#include "vscli.h"
#include "shadow/vslimits.h"
#include "shadow/vsrunner.h"
#include "shadow/vsschedule.h"
#include "shadow/vsscript.h"
#include "util/vserror.h"

static const char *
vsScheduleRequire(const vsCliArgs *args, const char *name, GError **error)
{
    const char *value = vsCliArgsGet(args, name);

    if (!value || !*value)
        g_set_error(error, VS_ERROR, VS_ERROR_USAGE, "missing --%s", name);
    return value && *value ? value : NULL;
}

/* The script's text, refused when it does not split into steps. */
static char *
vsScheduleReadScript(const char *path, GError **error)
{
    g_autoptr(vsScript) script = vsScriptLoad(path, error);
    g_autoptr(GError) local = NULL;
    char *text = NULL;

    if (!script)
        return NULL;
    if (!g_file_get_contents(path, &text, NULL, &local)) {
        g_set_error(error, VS_ERROR, VS_ERROR_IO, "cannot read script '%s': %s", path,
                    local->message);
        return NULL;
    }
    return text;
}

static void
vsScheduleJson(vsJsonWriter *w, const vsShadowScheduleRecord *s)
{
    vsJsonWriterBeginObject(w);
    vsJsonWriterMemberInt(w, "id", s->id);
    vsJsonWriterMemberString(w, "app", s->app);
    vsJsonWriterMemberString(w, "version", s->version);
    vsJsonWriterMemberString(w, "base", s->base);
    vsJsonWriterMemberString(w, "every", s->every);
    vsJsonWriterMemberString(w, "limits", s->limits);
    vsJsonWriterMemberString(w, "stage", s->stage_dir);
    vsJsonWriterMemberString(w, "network", s->network ? s->network : "none");
    vsJsonWriterKey(w, "timeout_s");
    if (s->timeout_s)
        vsJsonWriterInt(w, s->timeout_s);
    else
        vsJsonWriterNull(w);
    vsCliJsonMemberTime(w, "next", s->next_us);
    vsJsonWriterMemberBool(w, "enabled", s->enabled);
    vsJsonWriterMemberString(w, "last_state", s->last_state);
    if (s->last_state)
        vsCliJsonMemberTime(w, "last_due", s->last_due_us);
    vsJsonWriterMemberString(w, "last_run_id", s->last_run_id);
    vsJsonWriterMemberString(w, "last_error", s->last_error);
    vsJsonWriterEndObject(w);
}

/* The run options set, for the table: "network=isolated timeout=600s". */
static char *
vsScheduleOptionsText(const vsShadowScheduleRecord *s)
{
    g_autoptr(GString) text = g_string_new(NULL);

    if (s->limits)
        g_string_append_printf(text, " limits=%s", s->limits);
    if (s->network)
        g_string_append_printf(text, " network=%s", s->network);
    if (s->timeout_s)
        g_string_append_printf(text, " timeout=%us", s->timeout_s);
    if (s->stage_dir)
        g_string_append_printf(text, " stage=%s", s->stage_dir);
    return g_strdup(text->len ? text->str + 1 : "-");
}

/* A base libvirt does not have fails the command; libvirt out of reach
 * only warns: the controller that runs the schedule may reach it. */
static gboolean
vsScheduleCheckBase(vsCli *cli, const char *base, GError **error)
{
    g_autoptr(GError) local = NULL;
    vsHypervisor *hv = vsCliGetHypervisor(cli, &local);

    if (hv && vsShadowLookupBase(hv, base, NULL, &local))
        return TRUE;
    if (g_error_matches(local, VS_ERROR, VS_ERROR_NOT_FOUND)) {
        g_propagate_error(error, g_steal_pointer(&local));
        return FALSE;
    }
    if (!vsCliIsQuiet(cli))
        fprintf(stderr, "virt-shadow: warning: base '%s' is not checked: %s\n", base,
                local->message);
    return TRUE;
}

static gboolean
vsCmdScheduleAdd(vsCli *cli, const vsCliArgs *args, GError **error)
{
    vsShadowScheduleRecord sched = { 0 };
    g_autoptr(vsSchedule) every = NULL;
    g_autofree char *script = NULL;
    g_autofree char *limits = NULL;
    g_autofree char *stage_dir = NULL;
    const char *version, *base, *path, *every_text, *limits_text, *network, *stage;
    guint timeout_s = 0;
    vsStore *store;

    if (!(version = vsScheduleRequire(args, "version", error)) ||
        !(base = vsScheduleRequire(args, "base", error)) ||
        !(path = vsScheduleRequire(args, "script", error)) ||
        !(every_text = vsScheduleRequire(args, "every", error)))
        return FALSE;
    if (!(every = vsScheduleParse(every_text, error))) {
        (*error)->code = VS_ERROR_USAGE;
        return FALSE;
    }
    if ((limits_text = vsCliArgsGet(args, "limits"))) {
        vsLimits parsed;

        if (!vsLimitsParse(limits_text, &parsed, error)) {
            (*error)->code = VS_ERROR_USAGE;
            return FALSE;
        }
        limits = vsLimitsFormat(&parsed);
    }
    if (!vsCliShadowRunOptions(args, &timeout_s, &network, &stage, error))
        return FALSE;
    if (stage)
        stage_dir = g_canonicalize_filename(stage, NULL);
    if (!(script = vsScheduleReadScript(path, error)) ||
        !vsScheduleCheckBase(cli, base, error) ||
        !(store = vsCliGetCheckedStore(cli, error)))
        return FALSE;
    sched.app = (char *)vsCliArgsPositional(args, 0);
    sched.version = (char *)version;
    sched.base = (char *)base;
    sched.script = script;
    sched.limits = limits;
    sched.stage_dir = stage_dir;
    sched.network = (char *)network;
    sched.timeout_s = timeout_s;
    sched.every = (char *)vsScheduleGetText(every);
    sched.next_us = vsScheduleNext(every, g_get_real_time());
    sched.enabled = TRUE;
    if (!vsStoreAddShadowSchedule(store, &sched, error))
        return FALSE;
    if (vsCliWantJson(cli)) {
        g_autoptr(vsJsonWriter) w = vsJsonWriterNew(TRUE);

        vsScheduleJson(w, &sched);
        vsCliPrintJson(cli, w);
    } else {
        g_autofree char *next = vsCliFormatTime(sched.next_us);

        vsCliPrint(cli, "Added shadow schedule %" G_GINT64_FORMAT " for %s %s, every '%s': "
                   "first due %s\n", sched.id, sched.app, sched.version, sched.every, next);
    }
    return TRUE;
}

static gboolean
vsCmdScheduleList(vsCli *cli, const vsCliArgs *args, GError **error)
{
    g_autoptr(GPtrArray) all = NULL;
    vsStore *store;

    (void)args;
    if (!(store = vsCliGetCheckedStore(cli, error)) ||
        !vsStoreListShadowSchedules(store, 0, &all, error))
        return FALSE;
    if (vsCliWantJson(cli)) {
        g_autoptr(vsJsonWriter) w = vsJsonWriterNew(TRUE);

        vsJsonWriterBeginArray(w);
        for (guint i = 0; i < all->len; i++)
            vsScheduleJson(w, g_ptr_array_index(all, i));
        vsJsonWriterEndArray(w);
        vsCliPrintJson(cli, w);
        return TRUE;
    }
    if (!all->len) {
        vsCliInfo(cli, "No shadow schedules\n");
        return TRUE;
    }
    {
        g_autoptr(vsCliTable) t = vsCliTableNew("ID", "App", "Version", "Base", "Every",
                                                "Next", "Last", "Run", "Options", NULL);

        for (guint i = 0; i < all->len; i++) {
            const vsShadowScheduleRecord *s = g_ptr_array_index(all, i);
            g_autofree char *id = g_strdup_printf("%" G_GINT64_FORMAT, s->id);
            g_autofree char *next = vsCliFormatTime(s->next_us);
            g_autofree char *options = vsScheduleOptionsText(s);

            vsCliTableAddRow(t, id, s->app, s->version, s->base, s->every, next,
                             s->last_state ? s->last_state : "-",
                             s->last_run_id ? s->last_run_id : "-", options, NULL);
        }
        vsCliTablePrint(cli, t);
        for (guint i = 0; i < all->len; i++) {
            const vsShadowScheduleRecord *s = g_ptr_array_index(all, i);

            if (s->last_error)
                vsCliPrint(cli, "Schedule %" G_GINT64_FORMAT "'s last job failed: %s\n", s->id,
                           s->last_error);
        }
    }
    return TRUE;
}

static gboolean
vsCmdScheduleRemove(vsCli *cli, const vsCliArgs *args, GError **error)
{
    const char *text = vsCliArgsPositional(args, 0);
    guint64 id = 0;
    vsStore *store;

    if (!g_ascii_string_to_unsigned(text, 10, 1, G_MAXINT64, &id, NULL)) {
        g_set_error(error, VS_ERROR, VS_ERROR_USAGE,
                    "invalid schedule id '%s' (expected a positive number)", text);
        return FALSE;
    }
    if (!(store = vsCliGetCheckedStore(cli, error)) ||
        !vsStoreRemoveShadowSchedule(store, (gint64)id, error))
        return FALSE;
    vsCliPrint(cli, "Removed shadow schedule %" G_GUINT64_FORMAT "\n", id);
    return TRUE;
}

static const vsCliOption vsCmdScheduleAddOptions[] = {
    { "version", 0, VS_OPT_STRING, "V", "the app version the script installs" },
    { "base", 0, VS_OPT_STRING, "DOMAIN|VOLUME", "the base each run clones" },
    { "script", 0, VS_OPT_STRING, "FILE", "the install script (its text is stored)" },
    { "every", 0, VS_OPT_STRING, "WHEN", "daily, weekly or a five-field cron expression (UTC)" },
    { "limits", 0, VS_OPT_STRING, "LIMITS", "the shadow's limits, as for shadow run" },
    { "stage", 0, VS_OPT_STRING, "DIR",
      "copy this directory into each run's guest (its path is kept)" },
    { "network", 0, VS_OPT_STRING, "none|NAME", "no NIC (default), or one on an isolated network" },
    { "timeout", 0, VS_OPT_STRING, "DURATION", "give up on each run after this (default 30m)" },
    { NULL }
};

const vsCliCommand vsCmdShadowSchedule[] = {
    { "shadow schedule add", "APP", "run an app's shadow install on a schedule",
      "Stores a recurring shadow run of APP's version V from base B with the\n"
      "script FILE (its text, as it is now) in the database; virt-shadowd runs\n"
      "it when it is due, at most [shadow] max_concurrent_shadows at once per\n"
      "host.  --every is daily (00:00), weekly (Sunday 00:00) or a five-field\n"
      "cron expression: minute hour day-of-month month day-of-week, with *,\n"
      "lists, ranges and /steps, in UTC.  --limits, --stage, --network and\n"
      "--timeout are checked as for shadow run and apply to each run; --stage\n"
      "is kept as an absolute path, and a run fails when that directory is\n"
      "gone by then.  The base must be a domain libvirt has or an absolute\n"
      "volume path that exists (checked when libvirt is reachable; otherwise\n"
      "a warning).  A job whose lease runs out [shadow] max_job_attempts times\n"
      "is failed.",
      vsCmdScheduleAddOptions, 1, 1, vsCmdScheduleAdd },
    { "shadow schedule list", NULL, "list shadow schedules",
      "Lists the shadow schedules: their next due time, their run options, and\n"
      "the state and run of their newest job, and why it failed when it did.",
      NULL, 0, 0, vsCmdScheduleList },
    { "shadow schedule remove", "ID", "remove a shadow schedule",
      "Removes schedule ID and its queued jobs; the runs it made stay.",
      NULL, 1, 1, vsCmdScheduleRemove },
    { NULL }
};
