/*
 * vspolicyclitest.c: "policy set" and "policy show" against libvirt's test
 * driver, in one process
 *
 * test:///default keeps its state only while a connection to it is open,
 * and every virt-shadow process gets a fresh one.  So the commands run
 * through vsCliMain() here while the test holds a connection: set then show
 * is a real round trip through libvirt's metadata, live and config.
 */
#include <config.h>

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "cli/vscli.h"
#include "conf/vsmetadata.h"
#include "conf/vspolicy.h"
#include "util/vserror.h"
#include "vsdrivers.h"
#include "vstestutils.h"

static char *vsTmpDir;
static vsHypervisor *vsHv;

static void
vsSetup(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *conf = NULL;

    vsDriversInit();
    vsTmpDir = vsTestMakeTempDir("vspolicycli-XXXXXX");
    conf = g_build_filename(vsTmpDir, "empty.conf", NULL);
    ck_assert(g_file_set_contents(conf, "", 0, NULL));
    vsHv = vsHypervisorOpen("test:///default", NULL, &error);
    ck_assert_msg(vsHv, "%s", error ? error->message : "");
}

static void
vsTeardown(void)
{
    vsHypervisorFree(vsHv);
    vsTestRemoveTree(vsTmpDir);
    g_clear_pointer(&vsTmpDir, g_free);
}

/* Run "virt-shadow -c test:///default ARGS..." and return its exit code,
 * with its stdout in @ret_out (may be NULL). */
static int
vsRun(char **ret_out, ...)
{
    g_autofree char *conf = g_build_filename(vsTmpDir, "empty.conf", NULL);
    g_autofree char *state = g_build_filename(vsTmpDir, "state", NULL);
    g_autofree char *capture = g_build_filename(vsTmpDir, "stdout", NULL);
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    const char *arg;
    va_list ap;
    int saved;
    int fd;
    int rc;

    g_ptr_array_add(argv, (char *)"virt-shadow");
    g_ptr_array_add(argv, (char *)"--config");
    g_ptr_array_add(argv, conf);
    g_ptr_array_add(argv, (char *)"--state-dir");
    g_ptr_array_add(argv, state);
    g_ptr_array_add(argv, (char *)"-c");
    g_ptr_array_add(argv, (char *)"test:///default");
    va_start(ap, ret_out);
    while ((arg = va_arg(ap, const char *)))
        g_ptr_array_add(argv, (char *)arg);
    va_end(ap);
    g_ptr_array_add(argv, NULL);

    fflush(stdout);
    saved = dup(STDOUT_FILENO);
    fd = open(capture, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ck_assert_int_ge(fd, 0);
    dup2(fd, STDOUT_FILENO);
    close(fd);
    rc = vsCliMain((int)argv->len - 1, (char **)argv->pdata);
    fflush(stdout);
    dup2(saved, STDOUT_FILENO);
    close(saved);
    if (ret_out)
        ck_assert(g_file_get_contents(capture, ret_out, NULL, NULL));
    return rc;
}

static void
vsGetPolicy(const char *domain, vsAffectFlags scope, vsPolicy *policy, gboolean *present)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *xml = vsHypervisorGetMetadata(vsHv, domain, scope, &error);

    ck_assert_msg(xml || g_error_matches(error, VS_ERROR, VS_ERROR_NOT_FOUND), "%s",
                  error ? error->message : "");
    ck_assert_msg(vsPolicyParse(xml, policy, present, &error), "%s", error ? error->message : "");
}

START_TEST(test_set_then_show)
{
    g_autofree char *out = NULL;
    g_autoptr(vsJson) json = NULL;
    gint64 n = 0;
    vsPolicy live;
    vsPolicy config;
    gboolean present = FALSE;

    ck_assert_int_eq(vsRun(NULL, "policy", "set", "test", "--mode", "auto", "--max-vcpus", "4",
                           "--min-memory", "512M", "--memory-headroom", "25%", "--lead", "2m",
                           "--tier", "2", NULL), 0);
    vsGetPolicy("test", VS_AFFECT_LIVE, &live, &present);
    ck_assert(present);
    vsGetPolicy("test", VS_AFFECT_CONFIG, &config, &present);
    ck_assert(present);
    ck_assert_int_eq(live.mode, VS_POLICY_MODE_AUTO);
    ck_assert_uint_eq(config.max_vcpus, 4);
    ck_assert_uint_eq(live.min_memory_kib, 524288);
    ck_assert_double_eq(config.memory_headroom, 0.25);
    ck_assert_uint_eq(live.lead_s, 120);

    ck_assert_int_eq(vsRun(&out, "policy", "show", "test", "--json", NULL), 0);
    ck_assert_msg((json = vsJsonParse(out, -1, NULL)), "%s", out);
    ck_assert(vsJsonGetBool(vsJsonObjectGet(json, "present")));
    ck_assert_str_eq(vsJsonGetString(vsJsonObjectGet(json, "mode")), "auto");
    ck_assert(vsJsonGetInt64(vsJsonObjectGet(json, "max_vcpus"), &n));
    ck_assert_int_eq(n, 4);
    ck_assert(vsJsonGetInt64(vsJsonObjectGet(json, "tier"), &n));
    ck_assert_int_eq(n, 2);

    /* later options keep what was set before */
    ck_assert_int_eq(vsRun(NULL, "policy", "set", "test", "--confidence", "0.9", NULL), 0);
    vsGetPolicy("test", VS_AFFECT_LIVE, &live, &present);
    ck_assert_uint_eq(live.max_vcpus, 4);
    ck_assert_double_eq(live.confidence, 0.9);
    g_clear_pointer(&out, g_free);
    ck_assert_int_eq(vsRun(&out, "policy", "show", "test", NULL), 0);
    ck_assert_msg(strstr(out, "max vCPUs:               4\n"), "%s", out);
    ck_assert_msg(strstr(out, "cooldown up:             60 s (default)\n"), "%s", out);
}
END_TEST

/* A refused policy writes nothing: the domain keeps the previous one. */
START_TEST(test_refused_keeps_previous)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *before = NULL;
    g_autofree char *after = NULL;
    g_autofree char *after2 = NULL;

    ck_assert_int_eq(vsRun(NULL, "policy", "set", "test", "--mode", "advise", "--tier", "3", NULL), 0);
    before = vsHypervisorGetMetadata(vsHv, "test", VS_AFFECT_CONFIG, &error);
    ck_assert_ptr_nonnull(before);
    ck_assert_int_eq(vsRun(NULL, "policy", "set", "test", "--tier", "12", NULL), 1);
    ck_assert_int_eq(vsRun(NULL, "policy", "set", "test", "--min-vcpus", "8", "--max-vcpus", "2", NULL), 1);
    after = vsHypervisorGetMetadata(vsHv, "test", VS_AFFECT_CONFIG, &error);
    ck_assert_str_eq(after, before);
    ck_assert_int_eq(vsRun(NULL, "policy", "set", "test", "--tier", "many", NULL), 2);
    ck_assert_int_eq(vsRun(NULL, "policy", "set", "test", "--mode", "sometimes", NULL), 2);
    after2 = vsHypervisorGetMetadata(vsHv, "test", VS_AFFECT_LIVE, &error);
    ck_assert_str_eq(after2, before);
}
END_TEST

/* A hand-edited invalid policy: show fails, set needs --reset, and the
 * labels beside it survive. */
START_TEST(test_invalid_stored)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *xml = NULL;
    g_autofree char *labels = NULL;
    vsPolicy policy;
    gboolean present;

    ck_assert(vsHypervisorSetMetadata(vsHv, "test",
                                      "<domain><labels><label name='app'>web</label></labels>"
                                      "<policy mode='auto' tier='12'/></domain>",
                                      VS_AFFECT_LIVE | VS_AFFECT_CONFIG, &error));
    ck_assert_int_eq(vsRun(NULL, "policy", "show", "test", NULL), 1);
    ck_assert_int_eq(vsRun(NULL, "policy", "set", "test", "--mode", "off", NULL), 1);
    ck_assert_int_eq(vsRun(NULL, "policy", "set", "test", "--reset", "--mode", "advise", NULL), 0);
    vsGetPolicy("test", VS_AFFECT_LIVE, &policy, &present);
    ck_assert_int_eq(policy.mode, VS_POLICY_MODE_ADVISE);
    ck_assert_uint_eq(policy.tier, 5);
    xml = vsHypervisorGetMetadata(vsHv, "test", VS_AFFECT_CONFIG, &error);
    ck_assert(vsMetadataParseLabels(xml, &labels, &error));
    ck_assert_str_eq(labels, "{\"app\":\"web\"}");
}
END_TEST

/* A stopped persistent domain gets the policy in its config only. */
START_TEST(test_stopped_domain)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(vsDomainInfo) info = NULL;
    g_autofree char *name = NULL;
    vsPolicy policy;
    gboolean present = FALSE;

    name = vsHypervisorDefineDomainXML(vsHv,
                                       "<domain type='test'><name>idle</name>"
                                       "<memory unit='KiB'>1048576</memory>"
                                       "<vcpu current='1'>2</vcpu>"
                                       "<os><type>hvm</type></os></domain>", &error);
    ck_assert_msg(name, "%s", error ? error->message : "");
    info = vsHypervisorLookupDomain(vsHv, "idle", &error);
    ck_assert_int_lt(info->id, 0);
    ck_assert_int_eq(vsRun(NULL, "policy", "set", "idle", "--mode", "auto", NULL), 0);
    vsGetPolicy("idle", VS_AFFECT_CONFIG, &policy, &present);
    ck_assert(present);
    ck_assert_int_eq(policy.mode, VS_POLICY_MODE_AUTO);
    ck_assert(vsHypervisorUndefineDomain(vsHv, "idle", &error));
}
END_TEST

/* doctor: an invalid stored policy fails, naming the domain; an active one
 * on a domain without room to grow warns with the exact fix. */
START_TEST(test_doctor)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *out = NULL;
    g_autofree char *bad = NULL;

    ck_assert_int_eq(vsRun(NULL, "policy", "set", "test", "--mode", "auto", "--max-vcpus", "3", NULL), 0);
    vsRun(&out, "doctor", NULL);
    ck_assert_msg(strstr(out, "[warn] policy       domain 'test' (mode auto): vCPUs: <vcpu current='2'>2</vcpu> "
                              "leaves no room to grow, so the allocator cannot grow it\n"), "%s", out);
    ck_assert_msg(strstr(out, "fix: set <vcpu placement='static' current='2'>3</vcpu> (virsh edit test), "
                              "then restart the domain\n"), "%s", out);
    ck_assert(vsHypervisorSetMetadata(vsHv, "test", "<domain><policy lead='soon'/></domain>",
                                      VS_AFFECT_LIVE, &error));
    ck_assert_int_eq(vsRun(&bad, "doctor", "--json", NULL), 1);
    ck_assert_msg(strstr(bad, "\"detail\": \"domain 'test': invalid virt-shadow metadata: "
                              "Invalid attribute lead for element policy"), "%s", bad);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("policycli");
    TCase *tc = tcase_create("policycli");

    tcase_add_checked_fixture(tc, vsSetup, vsTeardown);
    tcase_add_test(tc, test_set_then_show);
    tcase_add_test(tc, test_refused_keeps_previous);
    tcase_add_test(tc, test_invalid_stored);
    tcase_add_test(tc, test_stopped_domain);
    tcase_add_test(tc, test_doctor);
    suite_add_tcase(s, tc);
    return vsTestRunSuite(s);
}
