/*
 * vsscheduletest.c: "--every" (daily, weekly, five-field cron) and the
 * next due time, against hand-picked dates and a minute-by-minute check
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shadow/vsschedule.h"
#include "util/vserror.h"
#include "vstestutils.h"

static gint64
utc(int year, int month, int day, int hour, int minute)
{
    g_autoptr(GDateTime) dt = g_date_time_new_utc(year, month, day, hour, minute, 0);

    return g_date_time_to_unix(dt) * G_USEC_PER_SEC;
}

static vsSchedule *
parse(const char *every)
{
    g_autoptr(GError) error = NULL;
    vsSchedule *s = vsScheduleParse(every, &error);

    ck_assert_msg(s, "'%s': %s", every, error ? error->message : "");
    return s;
}

static void
assertNext(const char *every, gint64 after_us, gint64 expect_us)
{
    g_autoptr(vsSchedule) s = parse(every);
    gint64 got = vsScheduleNext(s, after_us);

    if (got != expect_us) {
        g_autoptr(GDateTime) g = g_date_time_new_from_unix_utc(got / G_USEC_PER_SEC);
        g_autoptr(GDateTime) e = g_date_time_new_from_unix_utc(expect_us / G_USEC_PER_SEC);
        g_autofree char *gs = g_date_time_format_iso8601(g);
        g_autofree char *es = g_date_time_format_iso8601(e);

        ck_abort_msg("'%s': next is %s, expected %s", every, gs, es);
    }
}

START_TEST(test_daily_weekly)
{
    /* 2024-03-10 was a Sunday */
    assertNext("daily", utc(2024, 3, 10, 12, 30), utc(2024, 3, 11, 0, 0));
    assertNext("daily", utc(2024, 3, 10, 23, 59), utc(2024, 3, 11, 0, 0));
    /* strictly after: midnight itself is not due again */
    assertNext("daily", utc(2024, 3, 11, 0, 0), utc(2024, 3, 12, 0, 0));
    assertNext("daily", utc(2024, 3, 11, 0, 0) - 1, utc(2024, 3, 11, 0, 0));
    assertNext("weekly", utc(2024, 3, 10, 0, 0), utc(2024, 3, 17, 0, 0));
    assertNext("weekly", utc(2024, 3, 12, 8, 0), utc(2024, 3, 17, 0, 0));
}
END_TEST

START_TEST(test_fields)
{
    gint64 t = utc(2024, 3, 10, 12, 30);

    assertNext("*/15 * * * *", t, utc(2024, 3, 10, 12, 45));
    assertNext("5,10-12 * * * *", t, utc(2024, 3, 10, 13, 5));
    assertNext("30 3 * * *", t, utc(2024, 3, 11, 3, 30));
    assertNext("0 22-23/1 * * *", t, utc(2024, 3, 10, 22, 0));
    assertNext("0 0 1 * *", t, utc(2024, 4, 1, 0, 0));
    assertNext("0 0 1 jan *", t, utc(2025, 1, 1, 0, 0));
    assertNext("0 0 * * MON-fri", t, utc(2024, 3, 11, 0, 0));
    assertNext("0 0 * * 7", t, utc(2024, 3, 17, 0, 0));
    assertNext("0 0 * * 0", t, utc(2024, 3, 17, 0, 0));
    assertNext("15/20 * * * *", t, utc(2024, 3, 10, 12, 35));
    assertNext("0 0 29 2 *", t, utc(2028, 2, 29, 0, 0));
    assertNext("  0   3 *  *  * ", t, utc(2024, 3, 11, 3, 0));
    /* month end rolls into the next year */
    assertNext("59 23 31 12 *", utc(2024, 12, 31, 23, 59), utc(2025, 12, 31, 23, 59));
}
END_TEST

/* Vixie cron: both day fields restricted means either; one a star, both. */
START_TEST(test_day_or_rule)
{
    gint64 t = utc(2024, 3, 10, 12, 0);     /* Sunday the 10th */

    /* the 15th or a Wednesday: Wednesday the 13th comes first */
    assertNext("0 0 15 * 3", t, utc(2024, 3, 13, 0, 0));
    /* a star in the day of month: only Wednesdays */
    assertNext("0 0 * * 3", t, utc(2024, 3, 13, 0, 0));
    /* "*" then a step still counts as a star (Vixie's DOM_STAR): only
     * odd days that are Mondays, the 11th */
    assertNext("0 0 */2 * 1", t, utc(2024, 3, 11, 0, 0));
    assertNext("0 0 */2 * 1", utc(2024, 3, 11, 0, 0), utc(2024, 3, 25, 0, 0));
    /* a star in the day of week: only the 15th */
    assertNext("0 0 15 * *", t, utc(2024, 3, 15, 0, 0));
}
END_TEST

START_TEST(test_text)
{
    g_autoptr(vsSchedule) d = parse("daily");
    g_autoptr(vsSchedule) c = parse(" 0  3 * * 1-5 ");

    ck_assert_str_eq(vsScheduleGetText(d), "daily");
    ck_assert_str_eq(vsScheduleGetText(c), "0 3 * * 1-5");
}
END_TEST

START_TEST(test_errors)
{
    static const struct {
        const char *every;
        const char *message;
    } cases[] = {
        { "", "empty schedule" },
        { "hourly", "invalid schedule 'hourly' (expected daily, weekly or five" },
        { "* * * *", "invalid schedule '* * * *' (expected" },
        { "* * * * * *", "invalid schedule '* * * * * *' (expected" },
        { "60 * * * *", "invalid schedule '60 * * * *': bad minute '60'" },
        { "* 24 * * *", "bad hour '24'" },
        { "* * 0 * *", "bad day of month '0'" },
        { "* * * 13 *", "bad month '13'" },
        { "* * * * 8", "bad day of week '8'" },
        { "*/0 * * * *", "bad minute '*/0'" },
        { "5-1 * * * *", "bad minute '5-1'" },
        { "1,,2 * * * *", "bad minute '1,,2'" },
        { "x * * * *", "bad minute 'x'" },
        { "-1 * * * *", "bad minute '-1'" },
        { "0 0 * foo *", "bad month 'foo'" },
        { "0 0 31 2 *", "invalid schedule '0 0 31 2 *': no such date ever comes" },
        { "0 0 30,31 feb *", "no such date ever comes" },
    };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GError) error = NULL;
        g_autoptr(vsSchedule) s = vsScheduleParse(cases[i].every, &error);

        ck_assert_msg(!s, "'%s' parsed", cases[i].every);
        ck_assert(g_error_matches(error, VS_ERROR, VS_ERROR_INVALID));
        ck_assert_msg(strstr(error->message, cases[i].message), "'%s': %s", cases[i].every,
                      error->message);
    }
}
END_TEST

/* A naive matcher, minute by minute, with GLib's calendar. */
static gboolean
naiveMatches(const char *const *fields, gint64 us)
{
    g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc(us / G_USEC_PER_SEC);
    int values[5] = {
        g_date_time_get_minute(dt), g_date_time_get_hour(dt),
        g_date_time_get_day_of_month(dt), g_date_time_get_month(dt),
        g_date_time_get_day_of_week(dt) % 7,
    };
    gboolean match[5];

    for (int f = 0; f < 5; f++) {
        g_auto(GStrv) items = g_strsplit(fields[f], ",", -1);

        match[f] = FALSE;
        for (guint i = 0; items[i]; i++) {
            int lo, hi, step = 1;
            char *slash = strchr(items[i], '/');

            if (slash)
                step = atoi(slash + 1);
            if (items[i][0] == '*') {
                lo = f == 2 || f == 3 ? 1 : 0;
                hi = (int[]){ 59, 23, 31, 12, 6 }[f];
            } else if (sscanf(items[i], "%d-%d", &lo, &hi) != 2) {
                lo = atoi(items[i]);
                hi = slash ? (int[]){ 59, 23, 31, 12, 6 }[f] : lo;
            }
            for (int v = lo; v <= hi; v += step)
                match[f] |= v == values[f];
        }
    }
    if (!match[0] || !match[1] || !match[3])
        return FALSE;
    if (fields[2][0] == '*' || fields[4][0] == '*')
        return match[2] && match[4];
    return match[2] || match[4];
}

START_TEST(test_against_naive)
{
    static const char *const exprs[] = {
        "*/7 */5 * * *", "0 12 1,15 * 2", "30 1-3 */3 * *", "0 0 * 2 1-2",
        "10 6 13 * 5", "0 */4 * 3-4 0", "45 23 28-31 * *", "0 0 */10 * 4",
    };
    gint64 starts[] = { utc(2024, 2, 27, 5, 11), utc(2023, 12, 30, 23, 59) + 30 * G_USEC_PER_SEC };

    for (gsize i = 0; i < G_N_ELEMENTS(exprs); i++) {
        g_autoptr(vsSchedule) s = parse(exprs[i]);
        g_auto(GStrv) fields = g_strsplit(exprs[i], " ", -1);

        for (gsize j = 0; j < G_N_ELEMENTS(starts); j++) {
            gint64 t = starts[j];

            /* five due times in a row, each the first naive match */
            for (int k = 0; k < 5; k++) {
                gint64 next = vsScheduleNext(s, t);
                gint64 m = (t / (60 * G_USEC_PER_SEC) + 1) * 60 * G_USEC_PER_SEC;

                while (!naiveMatches((const char *const *)fields, m))
                    m += 60 * G_USEC_PER_SEC;
                ck_assert_msg(next == m, "'%s' after %" G_GINT64_FORMAT ": %" G_GINT64_FORMAT
                              " != %" G_GINT64_FORMAT, exprs[i], t, next, m);
                t = next;
            }
        }
    }
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("schedule");
    TCase *tc = tcase_create("schedule");

    tcase_add_test(tc, test_daily_weekly);
    tcase_add_test(tc, test_fields);
    tcase_add_test(tc, test_day_or_rule);
    tcase_add_test(tc, test_text);
    tcase_add_test(tc, test_errors);
    tcase_add_test(tc, test_against_naive);
    suite_add_tcase(s, tc);
    tcase_set_timeout(tc, 60);
    return vsTestRunSuite(s);
}
