/*
 * vstestutils.h: shared helpers for the test programs
 *
 * Services are real: a throwaway PostgreSQL (vstestpg.c) and a private
 * libvirtd (vstestlibvirtd.c).  A service that cannot start fails the test,
 * it never skips.  Waiting is polling with a deadline, never a bare sleep.
 */
#pragma once

#include <check.h>
#include <glib.h>

#include "store/vsstore.h"
#include "telemetry/vssampler.h"

G_BEGIN_DECLS

/* Source and build directories (set by the Makefile). */
const char *vsTestSrcDir(void);
/* CPU time this process has used, in seconds: benchmarks time with it. */
double vsTestCpuSeconds(void);
const char *vsTestBuildDir(void);

/* The contents of tests/@dir/@name in the source tree; the test fails when
 * it cannot be read. */
char *vsTestFixture(const char *dir, const char *name);

/* A fresh private temp directory, removed by vsTestRemoveTree(). */
char *vsTestMakeTempDir(const char *tmpl);
void vsTestRemoveTree(const char *path);

/* Poll @cond every @interval_ms until it returns TRUE or @timeout_ms passes. */
typedef gboolean (*vsTestCondition)(gpointer opaque);
gboolean vsTestPoll(vsTestCondition cond, gpointer opaque, guint timeout_ms,
                    guint interval_ms);

/* @got is exactly @expect (a float8 round-trips); NaN equals NaN. */
void vsTestAssertDouble(double got, double expect, const char *what);

/* XPath @expr on the XML text @xml as a string ("" when it selects
 * nothing); "vs:" is our metadata namespace, "other:" https://example.org/app
 * (fixtures' foreign metadata).  The test fails when @xml is not
 * well-formed. */
char *vsTestXPath(const char *xml, const char *expr);
/* The one node @expr selects in @xml, serialized (the test fails unless
 * exactly one): e.g. our metadata element, to parse it on its own. */
char *vsTestXPathNode(const char *xml, const char *expr);
#define ASSERT_XPATH(xml, expr, expect) \
    do { \
        g_autofree char *got_ = vsTestXPath(xml, expr); \
        ck_assert_msg(strcmp(got_, expect) == 0, "%s: got '%s', expected '%s'", expr, got_, expect); \
    } while (0)

/* Run a Check suite with the fork mode chosen by CK_FORK; returns an exit code. */
int vsTestRunSuite(Suite *s);

/* --- throwaway PostgreSQL (tests/vstestpg.c) ------------------------------ */
typedef struct _vsTestPg vsTestPg;
/* initdb in a temp dir, start postgres on a Unix socket only, wait until it
 * accepts connections.  Aborts the test (ck_abort) when it cannot start. */
vsTestPg *vsTestPgStart(void);
/* The libpq conninfo of the server ("host=/tmp/... dbname=postgres ..."). */
const char *vsTestPgConninfo(vsTestPg *pg);
/* The socket directory (to build other conninfo strings). */
const char *vsTestPgSocketDir(vsTestPg *pg);
/* Create a fresh database and return its conninfo. */
char *vsTestPgCreateDatabase(vsTestPg *pg, const char *name);
/* Stop the server at once (simulate an outage); vsTestPgRestart brings it back. */
void vsTestPgKill(vsTestPg *pg);
void vsTestPgRestart(vsTestPg *pg);
/* Stop the server and remove everything. Accepts NULL. */
void vsTestPgStop(vsTestPg *pg);
/* A database of the test's own on @pg, named after the pid and @tag. */
char *vsTestPgFreshDatabase(vsTestPg *pg, const char *tag);
/* The store at @conninfo, opened and migrated; the test fails otherwise. */
vsStore *vsTestStoreOpenMigrated(const char *conninfo);
/* The first field of the first row @sql returns on @conninfo ("(null)"
 * for SQL NULL), NULL when no row; an SQL error fails the test. */
char *vsTestPgQuery(const char *conninfo, const char *sql);
void vsTestPgAssertQuery(const char *conninfo, const char *sql, const char *expect);

/* --- private libvirtd (tests/vstestlibvirtd.c) ---------------------------- */
typedef struct _vsTestLibvirtd vsTestLibvirtd;
/* Start a root libvirtd in private mount and pid namespaces (see
 * tests/private-libvirtd), wait until its socket answers.  Aborts the test
 * when it cannot start. */
vsTestLibvirtd *vsTestLibvirtdStart(void);
/* "qemu:///system?socket=..." for this daemon. */
const char *vsTestLibvirtdURI(vsTestLibvirtd *d);
/* The daemon's private directory (for logs and guest files). */
const char *vsTestLibvirtdDir(vsTestLibvirtd *d);
/* Kill the daemon (its guests die with it) and start it again on the same
 * directories, to test reconnects. */
void vsTestLibvirtdKill(vsTestLibvirtd *d);
void vsTestLibvirtdRestart(vsTestLibvirtd *d);
void vsTestLibvirtdStop(vsTestLibvirtd *d);

/* Run @argv (searched in PATH, no stdin) and return its stdout; aborts
 * the test when it cannot run or fails, with its stderr. */
char *vsTestRunOut(const char *const *argv);
/* The same, its stdout dropped. */
void vsTestRun(const char *const *argv);

/* The tiny guest's domain XML (contrib/guest/tiny-guest.xml.in) for the
 * files contrib/guest/build-guest made in @guest_dir, its disk being
 * @guest_dir/overlay.qcow2; @uuid NULL: libvirt picks one. */
char *vsTestTinyGuestXML(const char *guest_dir, const char *name, const char *uuid,
                         guint memory_kib, guint vcpus, guint current_vcpus);

/* A copy of @s's stats, for assertions. */
vsSamplerStats vsTestSamplerStats(vsSampler *s);

G_END_DECLS
