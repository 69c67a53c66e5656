/*
 * vspolicytest.c: the resize policy in our metadata element
 */
#include <config.h>

#include "conf/vsmetadata.h"
#include "conf/vspolicy.h"
#include "util/vserror.h"
#include "vstestutils.h"

static void
vsAssertPolicyEqual(const vsPolicy *a, const vsPolicy *b)
{
    ck_assert_int_eq(a->mode, b->mode);
    ck_assert_uint_eq(a->min_vcpus, b->min_vcpus);
    ck_assert_uint_eq(a->max_vcpus, b->max_vcpus);
    ck_assert_uint_eq(a->min_memory_kib, b->min_memory_kib);
    ck_assert_uint_eq(a->max_memory_kib, b->max_memory_kib);
    ck_assert_double_eq(a->target_utilization, b->target_utilization);
    ck_assert_double_eq(a->memory_headroom, b->memory_headroom);
    ck_assert_uint_eq(a->memory_floor_kib, b->memory_floor_kib);
    ck_assert_uint_eq(a->lead_s, b->lead_s);
    ck_assert_double_eq(a->confidence, b->confidence);
    ck_assert_uint_eq(a->tier, b->tier);
    ck_assert_uint_eq(a->cooldown_up_s, b->cooldown_up_s);
    ck_assert_uint_eq(a->cooldown_down_s, b->cooldown_down_s);
    ck_assert_uint_eq(a->max_step_vcpus, b->max_step_vcpus);
    ck_assert_uint_eq(a->max_step_memory_kib, b->max_step_memory_kib);
}

/* Every fixture validates, except those named *-invalid.xml, which fail
 * with the schema's message. */
START_TEST(test_fixtures_against_schema)
{
    g_autofree char *dir = g_build_filename(vsTestSrcDir(), "tests", "vspolicydata", NULL);
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    const char *name;
    guint seen = 0;

    ck_assert_ptr_nonnull(d);
    while ((name = g_dir_read_name(d))) {
        g_autofree char *xml = NULL;
        g_autoptr(GError) error = NULL;
        vsPolicy policy;
        gboolean present = FALSE;
        gboolean ok;

        if (!g_str_has_suffix(name, ".xml"))
            continue;   /* domains/: domain XML for the headroom checks */
        xml = vsTestFixture("vspolicydata", name);
        ok = vsPolicyParse(xml, &policy, &present, &error);
        if (g_str_has_suffix(name, "-invalid.xml")) {
            ck_assert_msg(!ok, "%s validated", name);
            ck_assert(g_error_matches(error, VS_ERROR, VS_ERROR_INVALID));
            ck_assert_msg(g_str_has_prefix(error->message, "invalid virt-shadow metadata: "),
                          "%s: %s", name, error->message);
        } else {
            ck_assert_msg(ok, "%s: %s", name, error ? error->message : "");
        }
        seen++;
    }
    ck_assert_uint_ge(seen, 12);
}
END_TEST

/* The schema's message names the faulty attribute or value. */
START_TEST(test_invalid_names_attribute)
{
    static const struct {
        const char *fixture;
        const char *message;
    } cases[] = {
        { "tier-invalid.xml", "Invalid attribute tier for element policy" },
        { "utilization-invalid.xml", "Invalid attribute target-utilization for element vcpus" },
        { "confidence-invalid.xml", "Invalid attribute confidence for element policy" },
        { "mode-invalid.xml", "Invalid attribute mode for element policy" },
        { "headroom-invalid.xml", "Invalid attribute headroom for element memory" },
        { "unknown-attribute-invalid.xml", "Invalid attribute sideways for element cooldown" },
        { "zero-vcpus-invalid.xml", "Invalid attribute min for element vcpus" },
    };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *xml = vsTestFixture("vspolicydata", cases[i].fixture);
        g_autoptr(GError) error = NULL;
        vsPolicy policy;
        gboolean present;

        ck_assert(!vsPolicyParse(xml, &policy, &present, &error));
        ck_assert_msg(strstr(error->message, cases[i].message), "%s: %s", cases[i].fixture,
                      error->message);
    }
}
END_TEST

START_TEST(test_defaults)
{
    g_autofree char *xml = vsTestFixture("vspolicydata", "defaults.xml");
    g_autofree char *none = vsTestFixture("vspolicydata", "no-policy.xml");
    vsPolicy policy;
    vsPolicy defaults;
    gboolean present = FALSE;

    vsPolicyInitDefaults(&defaults);
    ck_assert_int_eq(defaults.mode, VS_POLICY_MODE_OFF);
    ck_assert_uint_eq(defaults.tier, 5);
    ck_assert_double_eq(defaults.target_utilization, 0.7);
    ck_assert_uint_eq(defaults.max_step_memory_kib, 1048576);
    ck_assert(vsPolicyParse(xml, &policy, &present, NULL));
    ck_assert(present);
    vsAssertPolicyEqual(&policy, &defaults);
    ck_assert(vsPolicyParse(none, &policy, &present, NULL));
    ck_assert(!present);
    vsAssertPolicyEqual(&policy, &defaults);
    present = TRUE;
    ck_assert(vsPolicyParse(NULL, &policy, &present, NULL));
    ck_assert(!present);
}
END_TEST

START_TEST(test_every_attribute)
{
    g_autofree char *xml = vsTestFixture("vspolicydata", "full.xml");
    vsPolicy p;
    gboolean present;

    ck_assert(vsPolicyParse(xml, &p, &present, NULL));
    ck_assert_int_eq(p.mode, VS_POLICY_MODE_AUTO);
    ck_assert_uint_eq(p.tier, 2);
    ck_assert_uint_eq(p.lead_s, 120);
    ck_assert_double_eq(p.confidence, 0.9);
    ck_assert_uint_eq(p.min_vcpus, 2);
    ck_assert_uint_eq(p.max_vcpus, 8);
    ck_assert_double_eq(p.target_utilization, 0.6);
    ck_assert_uint_eq(p.max_step_vcpus, 4);
    ck_assert_uint_eq(p.min_memory_kib, 524288);
    ck_assert_uint_eq(p.max_memory_kib, 4194304);
    ck_assert_double_eq(p.memory_headroom, 0.25);
    ck_assert_uint_eq(p.memory_floor_kib, 262144);
    ck_assert_uint_eq(p.max_step_memory_kib, 2097152);
    ck_assert_uint_eq(p.cooldown_up_s, 30);
    ck_assert_uint_eq(p.cooldown_down_s, 1800);
}
END_TEST

/* libvirt hands the element back without a namespace */
START_TEST(test_as_returned)
{
    g_autofree char *xml = vsTestFixture("vspolicydata", "as-returned.xml");
    vsPolicy p;
    gboolean present;

    ck_assert(vsPolicyParse(xml, &p, &present, NULL));
    ck_assert_int_eq(p.mode, VS_POLICY_MODE_AUTO);
    ck_assert_uint_eq(p.tier, 3);
    ck_assert_uint_eq(p.max_memory_kib, 2097152);
}
END_TEST

START_TEST(test_mode_strings)
{
    vsPolicyMode mode = VS_POLICY_MODE_LAST;

    for (int m = 0; m < VS_POLICY_MODE_LAST; m++) {
        ck_assert(vsPolicyModeFromString(vsPolicyModeToString(m), &mode));
        ck_assert_int_eq(mode, m);
    }
    ck_assert(!vsPolicyModeFromString("sometimes", &mode));
    ck_assert(!vsPolicyModeFromString(NULL, &mode));
    ck_assert_ptr_null(vsPolicyModeToString(VS_POLICY_MODE_LAST));
}
END_TEST

START_TEST(test_round_trip)
{
    g_autofree char *full = vsTestFixture("vspolicydata", "full.xml");
    g_autofree char *text = NULL;
    g_autofree char *empty = NULL;
    vsPolicy p;
    vsPolicy back;
    gboolean present = FALSE;

    ck_assert(vsPolicyParse(full, &p, &present, NULL));
    ck_assert((text = vsPolicyFormat(NULL, &p, NULL)));
    ck_assert(vsPolicyParse(text, &back, &present, NULL));
    ck_assert(present);
    vsAssertPolicyEqual(&back, &p);

    /* odd fractions keep every bit; defaults are left out */
    vsPolicyInitDefaults(&p);
    p.target_utilization = 1.0 / 3;
    ck_assert((empty = vsPolicyFormat(NULL, &p, NULL)));
    ck_assert(vsPolicyParse(empty, &back, &present, NULL));
    vsAssertPolicyEqual(&back, &p);
    ck_assert_msg(!strstr(empty, "tier=") && !strstr(empty, "<memory") && strstr(empty, "mode=\"off\""),
                  "%s", empty);
}
END_TEST

/* Labels and elements we do not know survive; the old policy is replaced. */
START_TEST(test_format_keeps_others)
{
    g_autofree char *xml = vsTestFixture("vspolicydata", "labels-and-future.xml");
    g_autofree char *text = NULL;
    g_autofree char *labels = NULL;
    vsPolicy p;
    vsPolicy back;
    gboolean present;

    ck_assert(vsPolicyParse(xml, &p, &present, NULL));
    ck_assert_int_eq(p.mode, VS_POLICY_MODE_ADVISE);
    ck_assert_uint_eq(p.max_vcpus, 4);
    p.mode = VS_POLICY_MODE_AUTO;
    p.tier = 1;
    ck_assert((text = vsPolicyFormat(xml, &p, NULL)));
    ck_assert(vsMetadataParseLabels(text, &labels, NULL));
    ck_assert_str_eq(labels, "{\"tier\":\"gold\"}");
    ck_assert_msg(strstr(text, "<placement host=\"any\"><zone>1</zone></placement>"), "%s", text);
    ck_assert_msg(!strstr(text, "xmlns:shadow"), "%s", text);
    ck_assert_msg(!strstr(text, "advise"), "%s", text);
    ck_assert(vsPolicyParse(text, &back, &present, NULL));
    vsAssertPolicyEqual(&back, &p);
}
END_TEST

/* What libvirt hands back declares its prefix on an unprefixed root; it
 * refuses to store an element whose root declares that prefix again. */
START_TEST(test_format_libvirt_shape)
{
    g_autofree char *text = NULL;
    g_autofree char *two = NULL;
    g_autofree char *both = vsTestFixture("vspolicydata", "two-policies-invalid.xml");
    vsPolicy p;

    vsPolicyInitDefaults(&p);
    p.mode = VS_POLICY_MODE_AUTO;
    text = vsPolicyFormat("<domain xmlns:shadow=\"https://virt-shadow.org/xmlns/domain/1.0\">\n"
                          "  <policy mode=\"off\"/>\n</domain>", &p, NULL);
    ck_assert_str_eq(text, "<domain xmlns=\"https://virt-shadow.org/xmlns/domain/1.0\">\n"
                           "  <policy mode=\"auto\"/>\n</domain>");
    two = vsPolicyFormat(both, &p, NULL);
    ck_assert_msg(two && strstr(two, "auto") && !strstr(two, "off"), "%s", two);
}
END_TEST

/* An invalid stored policy can be replaced; a bad new one is refused. */
START_TEST(test_format_replaces_invalid)
{
    g_autofree char *bad = vsTestFixture("vspolicydata", "tier-invalid.xml");
    g_autofree char *text = NULL;
    g_autoptr(GError) error = NULL;
    vsPolicy p;

    vsPolicyInitDefaults(&p);
    ck_assert((text = vsPolicyFormat(bad, &p, NULL)));
    ck_assert_msg(!strstr(text, "12"), "%s", text);
    p.tier = 12;
    ck_assert_ptr_null(vsPolicyFormat(NULL, &p, &error));
    ck_assert(g_error_matches(error, VS_ERROR, VS_ERROR_INVALID));
}
END_TEST

START_TEST(test_check)
{
    static const char *const expected[] = {
        "policy min vCPUs 4 is above max vCPUs 2",
        "policy min memory 2048 KiB is above max memory 1024 KiB",
        "policy target utilization '0' is not in (0, 1]",
        "policy confidence 'nan' is not in [0, 1]",
    };
    vsPolicy p[G_N_ELEMENTS(expected)];
    vsPolicy ok;

    for (gsize i = 0; i < G_N_ELEMENTS(p); i++)
        vsPolicyInitDefaults(&p[i]);
    p[0].min_vcpus = 4;
    p[0].max_vcpus = 2;
    p[1].min_memory_kib = 2048;
    p[1].max_memory_kib = 1024;
    p[2].target_utilization = 0;
    p[3].confidence = NAN;
    for (gsize i = 0; i < G_N_ELEMENTS(p); i++) {
        g_autoptr(GError) error = NULL;
        g_autofree char *text = NULL;

        ck_assert(!vsPolicyCheck(&p[i], &error));
        ck_assert_str_eq(error->message, expected[i]);
        g_clear_error(&error);
        /* the schema speaks first where it can */
        ck_assert_ptr_null((text = vsPolicyFormat(NULL, &p[i], &error)));
        ck_assert(g_error_matches(error, VS_ERROR, VS_ERROR_INVALID));
        if (i < 2)
            ck_assert_str_eq(error->message, expected[i]);
        else
            ck_assert_msg(strstr(error->message, "invalid virt-shadow metadata: Invalid attribute"),
                          "%s", error->message);
    }
    /* the schema allows min > max: the check refuses it on parse too */
    vsPolicyInitDefaults(&ok);
    ck_assert(vsPolicyCheck(&ok, NULL));
    {
        g_autoptr(GError) error = NULL;
        vsPolicy q;
        gboolean present;

        ck_assert(!vsPolicyParse("<domain><policy><vcpus min='4' max='2'/></policy></domain>",
                                 &q, &present, &error));
        ck_assert_str_eq(error->message, expected[0]);
    }
}
END_TEST

static GPtrArray *
vsProblems(const char *fixture, const vsPolicy *policy)
{
    g_autofree char *name = g_build_filename("domains", fixture, NULL);
    g_autofree char *xml = vsTestFixture("vspolicydata", name);
    g_autoptr(GError) error = NULL;
    GPtrArray *problems = vsPolicyHeadroomProblems(xml, policy, &error);

    ck_assert_msg(problems, "%s", error ? error->message : "");
    return problems;
}

START_TEST(test_headroom)
{
    g_autoptr(GPtrArray) none = vsProblems("headroom.xml", NULL);
    g_autoptr(GPtrArray) both = vsProblems("no-headroom.xml", NULL);
    g_autoptr(GPtrArray) vcpus = NULL;
    vsPolicyProblem *p;
    vsPolicy policy;

    ck_assert_uint_eq(none->len, 0);
    ck_assert_uint_eq(both->len, 2);
    p = g_ptr_array_index(both, 0);
    ck_assert_str_eq(p->problem, "vCPUs: <vcpu current='2'>2</vcpu> leaves no room to grow");
    ck_assert_str_eq(p->fix, "set <vcpu placement='static' current='2'>4</vcpu> (virsh edit test), "
                             "then restart the domain");
    p = g_ptr_array_index(both, 1);
    ck_assert_str_eq(p->problem, "memory: <currentMemory unit='KiB'>8388608</currentMemory> equals "
                                 "<memory>, leaving no room to grow");
    ck_assert_str_eq(p->fix, "set <memory unit='KiB'>16777216</memory> and keep "
                             "<currentMemory unit='KiB'>8388608</currentMemory> (virsh edit test), "
                             "then restart the domain");

    /* the policy's maximum is what the fix proposes */
    vsPolicyInitDefaults(&policy);
    policy.max_vcpus = 6;
    vcpus = vsProblems("test-default.xml", &policy);
    ck_assert_uint_eq(vcpus->len, 1);
    p = g_ptr_array_index(vcpus, 0);
    ck_assert_str_eq(p->fix, "set <vcpu placement='static' current='2'>6</vcpu> (virsh edit test), "
                             "then restart the domain");
}
END_TEST

START_TEST(test_policy_above_domain)
{
    g_autoptr(GPtrArray) problems = NULL;
    vsPolicyProblem *p;
    vsPolicy policy;

    vsPolicyInitDefaults(&policy);
    policy.max_vcpus = 8;
    policy.max_memory_kib = 16777216;
    problems = vsProblems("headroom.xml", &policy);
    ck_assert_uint_eq(problems->len, 2);
    p = g_ptr_array_index(problems, 0);
    ck_assert_str_eq(p->problem, "vCPUs: policy max 8 is above the domain's maximum <vcpu>4</vcpu>");
    ck_assert_str_eq(p->fix, "set <vcpu placement='static' current='2'>8</vcpu> (virsh edit test), "
                             "then restart the domain; or lower the policy: "
                             "virt-shadow policy set test --max-vcpus 4");
    p = g_ptr_array_index(problems, 1);
    ck_assert_str_eq(p->problem, "memory: policy max 16777216 KiB is above the domain's "
                                 "<memory unit='KiB'>8388608</memory>");
}
END_TEST

START_TEST(test_headroom_bad_xml)
{
    g_autoptr(GError) error = NULL;

    ck_assert_ptr_null(vsPolicyHeadroomProblems("<domain", NULL, &error));
    ck_assert(g_error_matches(error, VS_ERROR, VS_ERROR_INVALID));
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("policy");
    TCase *tc = tcase_create("policy");

    tcase_add_test(tc, test_fixtures_against_schema);
    tcase_add_test(tc, test_invalid_names_attribute);
    tcase_add_test(tc, test_defaults);
    tcase_add_test(tc, test_every_attribute);
    tcase_add_test(tc, test_as_returned);
    tcase_add_test(tc, test_mode_strings);
    tcase_add_test(tc, test_round_trip);
    tcase_add_test(tc, test_format_keeps_others);
    tcase_add_test(tc, test_format_libvirt_shape);
    tcase_add_test(tc, test_format_replaces_invalid);
    tcase_add_test(tc, test_check);
    tcase_add_test(tc, test_headroom);
    tcase_add_test(tc, test_policy_above_domain);
    tcase_add_test(tc, test_headroom_bad_xml);
    suite_add_tcase(s, tc);
    return vsTestRunSuite(s);
}
