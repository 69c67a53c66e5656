/*
 * vsmetricstest.c: the Prometheus exposition text and a real scrape
 */
#include <config.h>

#include <libsoup/soup.h>
#include <math.h>

#include "daemon/vsmetrics.h"
#include "util/vserror.h"
#include "vstestutils.h"

static void
vsFillSample(vsSample *s, const char *name, const char *uuid, double cpu)
{
    vsSampleInit(s);
    s->name = g_strdup(name);
    g_strlcpy(s->uuid, uuid, sizeof(s->uuid));
    s->cpu_vcpus = cpu;
    s->mem_current_kib = 262144;
}

START_TEST(test_format)
{
    vsSamplerStats st = { .cycles = 7, .last_cycle_s = 0.25, .samples_stored = 40,
                          .spool_batches = 2, .database_up = TRUE, .domains = 2 };
    vsSample a;
    vsSample b;
    g_autoptr(GPtrArray) latest = g_ptr_array_new();
    g_autoptr(GString) out = g_string_new(NULL);

    vsFillSample(&a, "web1", "6695eb01-f6a4-8304-79aa-97f2502e193f", 1.5);
    vsFillSample(&b, "we\"ird\\name", "1f6a2c8e-5b1d-4c9e-8f00-3f1a2b3c4d5e", NAN);
    g_ptr_array_add(latest, &a);
    g_ptr_array_add(latest, &b);
    vsMetricsFormat(out, &st, TRUE, latest);

    ck_assert(strstr(out->str, "# TYPE virtshadow_cycles_total counter\nvirtshadow_cycles_total 7\n"));
    ck_assert(strstr(out->str, "\nvirtshadow_cycle_seconds 0.25\n"));
    ck_assert(strstr(out->str, "\nvirtshadow_database_up 1\n"));
    ck_assert(strstr(out->str, "\nvirtshadow_spool_batches 2\n"));
    ck_assert(strstr(out->str, "virtshadow_domain_cpu_vcpus{domain=\"web1\","
                               "uuid=\"6695eb01-f6a4-8304-79aa-97f2502e193f\"} 1.5\n"));
    /* unknown values are left out, never written as NaN */
    ck_assert(!strstr(out->str, "NaN") && !strstr(out->str, "nan"));
    ck_assert(!strstr(out->str, "virtshadow_domain_cpu_vcpus{domain=\"we\\\"ird"));
    /* label values are escaped */
    ck_assert(strstr(out->str, "virtshadow_domain_memory_current_bytes{domain=\"we\\\"ird\\\\name\""));
    ck_assert(strstr(out->str, "} 268435456\n"));
    vsSampleClear(&a);
    vsSampleClear(&b);
}
END_TEST

static void
vsRender(GString *out, gpointer opaque)
{
    vsSamplerStats st = { .cycles = 3 };

    (*(int *)opaque)++;
    vsMetricsFormat(out, &st, FALSE, NULL);
}

typedef struct {
    char *url;
    guint status;
    char *body;
    char *content_type;
    gboolean done;
} vsScrape;

static gpointer
vsScrapeThread(gpointer opaque)
{
    vsScrape *sc = opaque;
    g_autoptr(GMainContext) ctx = g_main_context_new();
    g_autoptr(SoupSession) session = NULL;
    g_autoptr(SoupMessage) msg = NULL;
    g_autoptr(GBytes) body = NULL;

    g_main_context_push_thread_default(ctx);
    session = soup_session_new();
    msg = soup_message_new("GET", sc->url);
    body = soup_session_send_and_read(session, msg, NULL, NULL);
    sc->status = soup_message_get_status(msg);
    sc->content_type = g_strdup(soup_message_headers_get_content_type(
        soup_message_get_response_headers(msg), NULL));
    if (body)
        sc->body = g_strndup(g_bytes_get_data(body, NULL), g_bytes_get_size(body));
    g_main_context_pop_thread_default(ctx);
    g_atomic_int_set(&sc->done, TRUE);
    return NULL;
}

START_TEST(test_scrape)
{
    g_autoptr(GError) error = NULL;
    int renders = 0;
    g_autoptr(vsMetricsServer) srv = vsMetricsServerNew("127.0.0.1:0", vsRender, &renders, &error);
    vsScrape sc = { 0 };
    GThread *thread;
    gint64 deadline = g_get_monotonic_time() + 20 * G_USEC_PER_SEC;

    ck_assert_msg(srv != NULL, "%s", error ? error->message : "");
    sc.url = vsMetricsServerURL(srv);
    ck_assert(g_str_has_prefix(sc.url, "http://127.0.0.1:"));
    ck_assert(g_str_has_suffix(sc.url, "/metrics"));
    thread = g_thread_new("scrape", vsScrapeThread, &sc);
    while (!g_atomic_int_get(&sc.done) && g_get_monotonic_time() < deadline)
        g_main_context_iteration(NULL, FALSE);
    g_thread_join(thread);
    /* let the server see the client go before it is freed */
    while (g_main_context_iteration(NULL, FALSE))
        ;
    ck_assert_uint_eq(sc.status, 200);
    ck_assert_str_eq(sc.content_type, "text/plain");
    ck_assert_int_eq(renders, 1);
    ck_assert(strstr(sc.body, "\nvirtshadow_cycles_total 3\n"));
    ck_assert(strstr(sc.body, "\nvirtshadow_libvirt_up 0\n"));
    g_free(sc.url);
    g_free(sc.body);
    g_free(sc.content_type);
}
END_TEST

START_TEST(test_bad_listen)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(vsMetricsServer) a = vsMetricsServerNew("localhost:9468", vsRender, NULL, &error);

    ck_assert_ptr_null(a);
    ck_assert_msg(strstr(error->message, "invalid metrics listen address 'localhost:9468'"),
                  "%s", error->message);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("metrics");
    TCase *tc = tcase_create("metrics");

    tcase_add_test(tc, test_format);
    tcase_add_test(tc, test_scrape);
    tcase_add_test(tc, test_bad_listen);
    suite_add_tcase(s, tc);
    return vsTestRunSuite(s);
}
