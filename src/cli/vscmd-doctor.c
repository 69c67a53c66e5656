/*
 * vscmd-doctor.c: "doctor" checks everything a new user trips on
 *
 * Each check says what it found and, when something is wrong, the exact fix.
 * Doctor only looks: it never starts a service or changes a domain.
 */
#include <config.h>

#include "vscli.h"
#include "conf/vscapabilities.h"
#include "conf/vsdomainxml.h"
#include "conf/vspolicy.h"
#include "store/vsmigration.h"
#include "util/vserror.h"
#include "util/vsutil.h"

typedef enum {
    VS_CHECK_OK,
    VS_CHECK_WARN,
    VS_CHECK_FAIL,
} vsCheckStatus;

static const char *const vsCheckStatusNames[] = { "ok", "warn", "fail" };

typedef struct {
    char *name;
    vsCheckStatus status;
    char *detail;
    char *fix;      /* NULL when nothing to do */
} vsCheck;

static void
vsCheckFree(vsCheck *c)
{
    g_free(c->name);
    g_free(c->detail);
    g_free(c->fix);
    g_free(c);
}

static void G_GNUC_PRINTF(5, 6)
vsDoctorAdd(GPtrArray *checks, const char *name, vsCheckStatus status, const char *fix,
            const char *format, ...)
{
    vsCheck *c = g_new0(vsCheck, 1);
    va_list ap;

    va_start(ap, format);
    c->detail = g_strdup_vprintf(format, ap);
    va_end(ap);
    c->name = g_strdup(name);
    c->status = status;
    c->fix = g_strdup(fix);
    g_ptr_array_add(checks, c);
}

static void
vsDoctorConfig(vsCli *cli, GPtrArray *checks)
{
    const vsConfig *cfg = vsCliGetConfig(cli);

    if (cfg->path)
        vsDoctorAdd(checks, "config", VS_CHECK_OK, NULL, "read '%s'", cfg->path);
    else
        vsDoctorAdd(checks, "config", VS_CHECK_OK, NULL, "no config file; using defaults (%s)",
                    VS_DEFAULT_CONFIG_FILE);
}

static void
vsDoctorStateDir(vsCli *cli, GPtrArray *checks)
{
    const char *dir = vsCliGetStateDir(cli);
    g_autoptr(GError) error = NULL;
    g_autofree char *parent = g_path_get_dirname(dir);
    g_autofree char *fix = g_strdup_printf("create it: mkdir -p -m 0711 '%s', or pass --state-dir DIR",
                                           dir);

    if (vsCheckWritableDir(dir, &error))
        vsDoctorAdd(checks, "state dir", VS_CHECK_OK, NULL, "'%s' is writable", dir);
    else if (!g_file_test(dir, G_FILE_TEST_EXISTS) && vsCheckWritableDir(parent, NULL))
        vsDoctorAdd(checks, "state dir", VS_CHECK_WARN, NULL,
                    "'%s' does not exist yet; it is created on first use", dir);
    else
        vsDoctorAdd(checks, "state dir", VS_CHECK_FAIL, fix, "%s", error->message);
}

static void
vsDoctorDomainType(vsCli *cli, vsHypervisor *hv, GPtrArray *checks)
{
    const char *wanted = vsCliGetConfig(cli)->domain_type;
    g_autoptr(GError) error = NULL;
    g_autofree char *caps = vsHypervisorGetCapabilities(hv, &error);
    g_auto(GStrv) types = caps ? vsCapabilitiesDomainTypes(caps, &error) : NULL;
    g_autofree char *list = NULL;

    if (!types) {
        vsDoctorAdd(checks, "domain type", VS_CHECK_FAIL, NULL, "%s", error->message);
        return;
    }
    list = types[0] ? g_strjoinv(", ", types) : g_strdup("none");
    if (!g_strv_contains((const char *const *)types, wanted)) {
        g_autofree char *fix = g_strdup_printf(
            "%s; or set domain_type in [libvirt] to one of: %s",
            g_str_equal(wanted, "kvm") ? "load the kvm module and check /dev/kvm"
                                       : "apt-get install qemu-system-x86",
            list);
        vsDoctorAdd(checks, "domain type", VS_CHECK_FAIL, fix,
                    "domain type '%s' is not offered (host offers: %s)", wanted, list);
    } else if (g_str_equal(wanted, "qemu") && g_strv_contains((const char *const *)types, "kvm")) {
        vsDoctorAdd(checks, "domain type", VS_CHECK_OK, NULL,
                    "using qemu (TCG); kvm is offered too: set domain_type = kvm to opt in "
                    "(nested KVM can hang)");
    } else {
        vsDoctorAdd(checks, "domain type", VS_CHECK_OK, NULL, "using %s (host offers: %s)",
                    wanted, list);
    }
}

/* Sort the domains into those without an agent channel and those whose agent
 * is not connected while running. */
static void
vsDoctorAgents(vsHypervisor *hv, GPtrArray *checks)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) domains = vsHypervisorListDomains(hv, &error);
    g_autoptr(GPtrArray) missing = g_ptr_array_new();
    g_autoptr(GPtrArray) silent = g_ptr_array_new();
    g_autofree char *missing_list = NULL;

    if (!domains) {
        vsDoctorAdd(checks, "guest agent", VS_CHECK_FAIL, NULL, "%s", error->message);
        return;
    }
    for (guint i = 0; i < domains->len; i++) {
        vsDomainInfo *info = g_ptr_array_index(domains, i);
        g_autofree char *xml = vsHypervisorGetDomainXML(hv, info->uuid, FALSE, NULL);
        g_autoptr(vsDomainXML) def = xml ? vsDomainXMLParse(xml, NULL) : NULL;

        if (!def)
            continue;
        if (!def->has_agent_channel)
            g_ptr_array_add(missing, info->name);
        else if (info->state == VS_DOMAIN_RUNNING && !def->agent_connected)
            g_ptr_array_add(silent, info->name);
    }
    g_ptr_array_add(missing, NULL);
    g_ptr_array_add(silent, NULL);
    if (domains->len == 0) {
        vsDoctorAdd(checks, "guest agent", VS_CHECK_OK, NULL, "no domains defined yet");
        return;
    }
    if (missing->len > 1) {
        missing_list = g_strjoinv(", ", (char **)missing->pdata);
        vsDoctorAdd(checks, "guest agent", VS_CHECK_WARN,
                    "add to each domain's <devices> (virsh edit DOMAIN): "
                    "<channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel>",
                    "no agent channel on: %s", missing_list);
    }
    if (silent->len > 1) {
        g_autofree char *list = g_strjoinv(", ", (char **)silent->pdata);

        vsDoctorAdd(checks, "guest agent", VS_CHECK_WARN,
                    "install and start qemu-guest-agent inside these guests",
                    "agent not connected in running: %s", list);
    }
    if (missing->len == 1 && silent->len == 1)
        vsDoctorAdd(checks, "guest agent", VS_CHECK_OK, NULL,
                    "all %u domains have an agent channel", domains->len);
}

/* One domain's policy: an invalid one fails; one in advise or auto mode on
 * a domain without room to grow warns, with the fix.  Returns TRUE when the
 * domain has an active policy. */
static gboolean
vsDoctorPolicy(vsHypervisor *hv, const vsDomainInfo *info, GPtrArray *checks)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *xml = NULL;
    g_autoptr(GPtrArray) problems = NULL;
    vsPolicy policy;
    gboolean present;

    if (!vsPolicyLoad(hv, info, &policy, &present, &error)) {
        g_autofree char *fix = g_strdup_printf("replace it: virt-shadow policy set %s --reset "
                                               "[options], or correct it with virsh edit %s",
                                               info->name, info->name);

        vsDoctorAdd(checks, "policy", VS_CHECK_FAIL, fix, "%s", error->message);
        return FALSE;
    }
    if (!present || policy.mode == VS_POLICY_MODE_OFF)
        return FALSE;
    if (!(xml = vsHypervisorGetDomainXML(hv, info->uuid, info->id < 0, &error)) ||
        !(problems = vsPolicyHeadroomProblems(xml, &policy, &error))) {
        vsDoctorAdd(checks, "policy", VS_CHECK_WARN, NULL, "domain '%s': %s", info->name,
                    error->message);
        return TRUE;
    }
    for (guint i = 0; i < problems->len; i++) {
        vsPolicyProblem *p = g_ptr_array_index(problems, i);

        vsDoctorAdd(checks, "policy", VS_CHECK_WARN, p->fix,
                    "domain '%s' (mode %s): %s, so the allocator cannot grow it", info->name,
                    vsPolicyModeToString(policy.mode), p->problem);
    }
    return TRUE;
}

static void
vsDoctorPolicies(vsHypervisor *hv, GPtrArray *checks)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) domains = vsHypervisorListDomains(hv, &error);
    guint before = checks->len;
    guint active = 0;

    if (!domains) {
        vsDoctorAdd(checks, "policy", VS_CHECK_FAIL, NULL, "%s", error->message);
        return;
    }
    for (guint i = 0; i < domains->len; i++)
        active += vsDoctorPolicy(hv, g_ptr_array_index(domains, i), checks);
    if (checks->len > before)
        return;
    if (active == 0)
        vsDoctorAdd(checks, "policy", VS_CHECK_OK, NULL, "no domain has a policy in mode advise or auto");
    else
        vsDoctorAdd(checks, "policy", VS_CHECK_OK, NULL,
                    "%u domain%s with a policy in mode advise or auto, all with room to grow",
                    active, active == 1 ? "" : "s");
}

static void
vsDoctorLibvirt(vsCli *cli, GPtrArray *checks)
{
    g_autoptr(GError) error = NULL;
    vsHypervisor *hv = vsCliGetHypervisor(cli, &error);
    g_autofree char *uri = NULL;

    if (!hv) {
        vsDoctorAdd(checks, "libvirt", VS_CHECK_FAIL,
                    "start libvirtd ('systemctl start libvirtd', or contrib/start-libvirtd), "
                    "or pass -c URI",
                    "%s", error->message);
        return;
    }
    uri = vsHypervisorGetURI(hv);
    vsDoctorAdd(checks, "libvirt", VS_CHECK_OK, NULL, "connected to '%s'", uri);
    vsDoctorDomainType(cli, hv, checks);
    vsDoctorAgents(hv, checks);
    vsDoctorPolicies(hv, checks);
}

static void
vsDoctorMigrations(vsStore *store, GPtrArray *checks)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) status = vsStoreMigrationStatus(store, &error);
    guint pending = 0;
    int version = 0;

    if (!status) {
        vsDoctorAdd(checks, "migrations", VS_CHECK_FAIL, NULL, "%s", error->message);
        return;
    }
    if (!vsMigrationCheckCompatible(status, &error)) {
        vsDoctorAdd(checks, "migrations", VS_CHECK_FAIL,
                    "see 'virt-shadow db status'", "%s", error->message);
        return;
    }
    for (guint i = 0; i < status->len; i++) {
        vsMigrationStatus *s = g_ptr_array_index(status, i);

        if (s->state == VS_MIGRATION_PENDING)
            pending++;
        else
            version = MAX(version, s->version);
    }
    if (pending > 0)
        vsDoctorAdd(checks, "migrations", VS_CHECK_FAIL, "run 'virt-shadow db migrate'",
                    "%u migration%s pending (schema at version %d)", pending,
                    pending == 1 ? "" : "s", version);
    else
        vsDoctorAdd(checks, "migrations", VS_CHECK_OK, NULL, "schema is current (version %d)",
                    version);
}

static void
vsDoctorDatabase(vsCli *cli, GPtrArray *checks)
{
    const vsStoreTarget *target = vsCliGetStoreTarget(cli);
    g_autoptr(GError) error = NULL;
    vsStore *store;
    g_autofree char *where = NULL;

    if (!target->url && vsStoreEmbeddedGetState(target) == VS_STORE_EMBEDDED_ABSENT) {
        vsDoctorAdd(checks, "database", VS_CHECK_WARN, "run 'virt-shadow db migrate' to create it",
                    "embedded cluster in '%s/pg' not created yet", target->state_dir);
        return;
    }
    if (!(store = vsCliGetStore(cli, FALSE, &error))) {
        vsDoctorAdd(checks, "database", VS_CHECK_FAIL,
                    target->url ? "check the 'database' setting and that the server is up"
                                : "run 'virt-shadow db start'",
                    "%s", error->message);
        return;
    }
    where = vsStoreDescribe(store);
    vsDoctorAdd(checks, "database", VS_CHECK_OK, NULL, "connected to %s", where);
    vsDoctorMigrations(store, checks);
}

static void
vsDoctorPrint(vsCli *cli, GPtrArray *checks)
{
    if (vsCliWantJson(cli)) {
        g_autoptr(vsJsonWriter) w = vsJsonWriterNew(TRUE);
        gboolean ok = TRUE;

        vsJsonWriterBeginObject(w);
        vsJsonWriterKey(w, "checks");
        vsJsonWriterBeginArray(w);
        for (guint i = 0; i < checks->len; i++) {
            vsCheck *c = g_ptr_array_index(checks, i);

            ok &= c->status != VS_CHECK_FAIL;
            vsJsonWriterBeginObject(w);
            vsJsonWriterMemberString(w, "name", c->name);
            vsJsonWriterMemberString(w, "status", vsCheckStatusNames[c->status]);
            vsJsonWriterMemberString(w, "detail", c->detail);
            vsJsonWriterMemberString(w, "fix", c->fix);
            vsJsonWriterEndObject(w);
        }
        vsJsonWriterEndArray(w);
        vsJsonWriterMemberBool(w, "ok", ok);
        vsJsonWriterEndObject(w);
        vsCliPrintJson(cli, w);
        return;
    }
    for (guint i = 0; i < checks->len; i++) {
        static const char *const marks[] = { " ok ", "warn", "FAIL" };
        vsCheck *c = g_ptr_array_index(checks, i);

        vsCliPrint(cli, "[%s] %-12s %s\n", marks[c->status], c->name, c->detail);
        if (c->fix)
            vsCliPrint(cli, "       %-12s fix: %s\n", "", c->fix);
    }
}

static gboolean
vsCmdDoctorRun(vsCli *cli, const vsCliArgs *args, GError **error)
{
    g_autoptr(GPtrArray) checks = g_ptr_array_new_with_free_func((GDestroyNotify)vsCheckFree);
    guint failed = 0;

    vsDoctorConfig(cli, checks);
    vsDoctorStateDir(cli, checks);
    vsDoctorLibvirt(cli, checks);
    vsDoctorDatabase(cli, checks);
    vsDoctorPrint(cli, checks);

    for (guint i = 0; i < checks->len; i++)
        failed += ((vsCheck *)g_ptr_array_index(checks, i))->status == VS_CHECK_FAIL;
    if (failed > 0) {
        g_set_error(error, VS_ERROR, VS_ERROR_FAILED, "%u check%s failed", failed,
                    failed == 1 ? "" : "s");
        return FALSE;
    }
    return TRUE;
}

const vsCliCommand vsCmdDoctor[] = {
    { "doctor", NULL, "check libvirt, the database and the domains, and say how to fix problems",
      "Checks the config file, the state directory, the libvirt connection, the\n"
      "domain type (kvm or qemu/TCG), guest agent channels on domains, domain\n"
      "policies (invalid ones, and room to grow for those in advise or auto\n"
      "mode), the database and its migrations.  Only looks: it starts\n"
      "nothing.  Exits 1 when a check fails.",
      NULL, 0, 0, vsCmdDoctorRun },
    { NULL }
};
