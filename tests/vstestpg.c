/*
 * vstestpg.c: a throwaway PostgreSQL server for the tests
 *
 * fsync=off survives a killed server (the tests' outages), not a host crash.
 * The server is our child process (not daemonised by pg_ctl) and dies with
 * us through PR_SET_PDEATHSIG, so a crashed test leaves nothing behind.
 * As root it runs as the "postgres" user: initdb and postgres refuse root.
 *
 * In Check's fork mode a test may kill the fixture's server (an outage);
 * a restart from inside that test makes the new server the test process's
 * child, which dies with it: give outage tests a server of their own.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <libpq-fe.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "postgres/vspg.h"
#include "vstestutils.h"

#define VS_TEST_PG_USER "postgres"
#define VS_TEST_PG_START_MS 30000
#define VS_TEST_PG_STOP_MS 30000

struct _vsTestPg {
    char *dir;
    char *dataDir;
    char *sockDir;
    char *logFile;
    char *binDir;
    char *conninfo;
    GPid pid;
    pid_t owner;            /* the process that spawned @pid */

    vsPgIdentity *identity;     /* NULL unless we are root */
    gboolean deathSignal;
};

/* Between fork and exec: async-signal-safe calls only. */
static void
vsTestPgChildSetup(gpointer opaque)
{
    vsTestPg *pg = opaque;

    vsPgIdentityApply(pg->identity);
    /* After setuid: a credential change clears the death signal. */
    if (pg->deathSignal) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() == 1)
            _exit(126);
    }
}

static gboolean vsTestPgDead(gpointer opaque);

static char *
vsTestPgLogTail(vsTestPg *pg)
{
    g_autofree char *text = NULL;
    gsize len = 0;

    if (!g_file_get_contents(pg->logFile, &text, &len, NULL))
        return g_strdup("(no server log)");
    return g_strdup(len > 2000 ? text + len - 2000 : text);
}

/* Walk up from @path making each directory traversable by the server user. */
static void
vsTestPgMakeTraversable(const char *path)
{
    g_autofree char *dir = g_path_get_dirname(path);

    while (strcmp(dir, "/") != 0 && strcmp(dir, ".") != 0) {
        GStatBuf st;
        char *parent;

        if (g_stat(dir, &st) == 0 && (st.st_mode & S_IXOTH) == 0)
            g_chmod(dir, (st.st_mode & 07777) | S_IXOTH);
        parent = g_path_get_dirname(dir);
        g_free(dir);
        dir = parent;
    }
}

static void
vsTestPgInitdb(vsTestPg *pg)
{
    g_autofree char *initdb = g_build_filename(pg->binDir, "initdb", NULL);
    const char *argv[] = {
        initdb, "-D", pg->dataDir, "-A", "trust", "-U", VS_TEST_PG_USER,
        "--encoding", "UTF8", "--no-locale", "--no-sync", "--no-instructions", NULL
    };
    g_autofree char *out = NULL;
    g_autofree char *err = NULL;
    g_autoptr(GError) error = NULL;
    int status;

    pg->deathSignal = FALSE;
    if (!g_spawn_sync(pg->dir, (char **)argv, NULL, 0,
                      vsTestPgChildSetup, pg, &out, &err, &status, &error))
        ck_abort_msg("cannot run '%s': %s", initdb, error->message);
    if (!g_spawn_check_exit_status(status, NULL))
        ck_abort_msg("initdb failed in '%s': %s%s", pg->dataDir, out, err);
}

static gboolean
vsTestPgAccepts(gpointer opaque)
{
    vsTestPg *pg = opaque;

    return PQping(pg->conninfo) == PQPING_OK;
}

static gboolean
vsTestPgExited(vsTestPg *pg)
{
    int status;

    if (pg->owner != getpid()) {
        if (!vsTestPgDead(GINT_TO_POINTER(pg->pid)))
            return FALSE;
        pg->pid = 0;
        return TRUE;
    }
    if (waitpid(pg->pid, &status, WNOHANG) == pg->pid) {
        pg->pid = 0;
        return TRUE;
    }
    return FALSE;
}

/* Spawn postgres once; FALSE when it exited before accepting. */
static gboolean
vsTestPgSpawn(vsTestPg *pg, gint64 deadline)
{
    g_autofree char *postgres = g_build_filename(pg->binDir, "postgres", NULL);
    const char *argv[] = {
        postgres, "-D", pg->dataDir, "-k", pg->sockDir,
        "-c", "listen_addresses=", "-c", "fsync=off",
        "-c", "full_page_writes=off", NULL
    };
    g_autoptr(GError) error = NULL;
    int logfd;
    gboolean ok;

    logfd = open(pg->logFile, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (logfd < 0)
        ck_abort_msg("cannot open '%s': %s", pg->logFile, g_strerror(errno));
    pg->deathSignal = TRUE;
    ok = g_spawn_async_with_fds(pg->dir, (char **)argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD,
                                vsTestPgChildSetup, pg, &pg->pid, -1, logfd, logfd,
                                &error);
    close(logfd);
    pg->owner = getpid();
    if (!ok)
        ck_abort_msg("cannot run '%s': %s", postgres, error->message);

    while (g_get_monotonic_time() < deadline) {
        if (vsTestPgAccepts(pg))
            return TRUE;
        if (vsTestPgExited(pg))
            return FALSE;
        g_usleep(50 * 1000);
    }
    return FALSE;
}

static void
vsTestPgLaunch(vsTestPg *pg)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)VS_TEST_PG_START_MS * 1000;

    /* After a SIGKILL, old backends may hold the shared memory for a
     * moment and postgres refuses to start: try again until the deadline. */
    while (!vsTestPgSpawn(pg, deadline)) {
        if (g_get_monotonic_time() >= deadline) {
            g_autofree char *tail = vsTestPgLogTail(pg);

            vsTestPgKill(pg);
            ck_abort_msg("PostgreSQL did not start in '%s':\n%s", pg->dataDir, tail);
        }
        g_usleep(100 * 1000);
    }
}

vsTestPg *
vsTestPgStart(void)
{
    vsTestPg *pg = g_new0(vsTestPg, 1);
    g_autoptr(GError) error = NULL;

    if (!(pg->binDir = vsPgFindBinDir(&error)))
        ck_abort_msg("%s", error->message);
    pg->dir = vsTestMakeTempDir("vstestpg-XXXXXX");
    pg->dataDir = g_build_filename(pg->dir, "data", NULL);
    pg->sockDir = g_build_filename(pg->dir, "run", NULL);
    pg->logFile = g_build_filename(pg->dir, "server.log", NULL);
    pg->conninfo = g_strdup_printf("host=%s port=5432 dbname=postgres user=" VS_TEST_PG_USER,
                                   pg->sockDir);
    if (g_mkdir(pg->sockDir, 0700) < 0)
        ck_abort_msg("cannot create '%s': %s", pg->sockDir, g_strerror(errno));

    if (geteuid() == 0) {
        if (!(pg->identity = vsPgIdentityNew(VS_TEST_PG_USER, &error)))
            ck_abort_msg("%s", error->message);
        if (chown(pg->dir, pg->identity->uid, pg->identity->gid) < 0 ||
            chown(pg->sockDir, pg->identity->uid, pg->identity->gid) < 0)
            ck_abort_msg("cannot chown '%s': %s", pg->dir, g_strerror(errno));
        vsTestPgMakeTraversable(pg->dir);
    }

    vsTestPgInitdb(pg);
    vsTestPgLaunch(pg);
    return pg;
}

const char *
vsTestPgConninfo(vsTestPg *pg)
{
    return pg->conninfo;
}

const char *
vsTestPgSocketDir(vsTestPg *pg)
{
    return pg->sockDir;
}

char *
vsTestPgCreateDatabase(vsTestPg *pg, const char *name)
{
    PGconn *conn = PQconnectdb(pg->conninfo);
    PGresult *res;
    char *ident;
    g_autofree char *sql = NULL;

    if (PQstatus(conn) != CONNECTION_OK)
        ck_abort_msg("cannot connect to the test server: %s", PQerrorMessage(conn));
    ident = PQescapeIdentifier(conn, name, strlen(name));
    sql = g_strdup_printf("CREATE DATABASE %s", ident);
    PQfreemem(ident);
    res = PQexec(conn, sql);
    if (PQresultStatus(res) != PGRES_COMMAND_OK)
        ck_abort_msg("cannot create database '%s': %s", name, PQresultErrorMessage(res));
    PQclear(res);
    PQfinish(conn);
    return g_strdup_printf("host=%s port=5432 dbname=%s user=" VS_TEST_PG_USER,
                           pg->sockDir, name);
}

/* Is @pid gone or a zombie?  For a server another process spawned (a
 * forked Check test killing the fixture's server), which we cannot reap. */
static gboolean
vsTestPgDead(gpointer opaque)
{
    pid_t pid = GPOINTER_TO_INT(opaque);
    g_autofree char *path = g_strdup_printf("/proc/%d/stat", (int)pid);
    g_autofree char *stat = NULL;
    const char *paren;

    if (!g_file_get_contents(path, &stat, NULL, NULL))
        return TRUE;
    paren = strrchr(stat, ')');
    return paren && paren[1] == ' ' && (paren[2] == 'Z' || paren[2] == 'X');
}

/* Does any process still work in @dataDir (a backend of a killed server)? */
static gboolean
vsTestPgNoBackends(gpointer opaque)
{
    const char *dataDir = opaque;
    g_autoptr(GDir) proc = g_dir_open("/proc", 0, NULL);
    const char *entry;

    while (proc && (entry = g_dir_read_name(proc))) {
        g_autofree char *link = NULL;
        g_autofree char *cwd = NULL;

        if (!g_ascii_isdigit(entry[0]))
            continue;
        link = g_strdup_printf("/proc/%s/cwd", entry);
        if ((cwd = g_file_read_link(link, NULL)) && strcmp(cwd, dataDir) == 0)
            return FALSE;
    }
    return TRUE;
}

/* We cannot reap the fixture's server from a forked test: it stays a
 * zombie, and postgres would take its postmaster.pid for a live server.
 * Remove the locks once every backend is gone, as postgres would. */
static void
vsTestPgKillForeign(vsTestPg *pg)
{
    g_autofree char *real = realpath(pg->dataDir, NULL);
    g_autofree char *lock = g_build_filename(pg->dataDir, "postmaster.pid", NULL);
    g_autofree char *sockLock = g_build_filename(pg->sockDir, ".s.PGSQL.5432.lock", NULL);
    g_autofree char *sock = g_build_filename(pg->sockDir, ".s.PGSQL.5432", NULL);

    if (!vsTestPoll(vsTestPgDead, GINT_TO_POINTER(pg->pid), 10000, 10))
        ck_abort_msg("PostgreSQL (pid %d) survived SIGKILL", (int)pg->pid);
    if (!vsTestPoll(vsTestPgNoBackends, real ? real : pg->dataDir, 10000, 10))
        ck_abort_msg("PostgreSQL backends in '%s' survived their postmaster", pg->dataDir);
    g_unlink(lock);
    g_unlink(sockLock);
    g_unlink(sock);
}

void
vsTestPgKill(vsTestPg *pg)
{
    if (!pg || pg->pid <= 0)
        return;
    kill(pg->pid, SIGKILL);
    if (pg->owner == getpid())
        waitpid(pg->pid, NULL, 0);
    else
        vsTestPgKillForeign(pg);
    pg->pid = 0;
}

void
vsTestPgRestart(vsTestPg *pg)
{
    vsTestPgKill(pg);
    /* postgres itself removes a postmaster.pid whose process is gone. */
    vsTestPgLaunch(pg);
}

void
vsTestPgStop(vsTestPg *pg)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)VS_TEST_PG_STOP_MS * 1000;

    if (!pg)
        return;
    if (pg->pid > 0) {
        /* SIGINT is the fast shutdown: SIGTERM would wait for clients. */
        kill(pg->pid, SIGINT);
        while (!vsTestPgExited(pg) && g_get_monotonic_time() < deadline)
            g_usleep(20 * 1000);
        vsTestPgKill(pg);
    }
    vsTestRemoveTree(pg->dir);
    g_free(pg->dir);
    g_free(pg->dataDir);
    g_free(pg->sockDir);
    g_free(pg->logFile);
    g_free(pg->binDir);
    g_free(pg->conninfo);
    vsPgIdentityFree(pg->identity);
    g_free(pg);
}

char *
vsTestPgFreshDatabase(vsTestPg *pg, const char *tag)
{
    /* the pid keeps names unique across forked tests */
    g_autofree char *name = g_strdup_printf("t%d_%s", (int)getpid(), tag);

    return vsTestPgCreateDatabase(pg, name);
}

vsStore *
vsTestStoreOpenMigrated(const char *conninfo)
{
    vsStoreTarget target = { .url = (char *)conninfo };
    g_autoptr(GError) error = NULL;
    vsStore *store = vsStoreOpen(&target, FALSE, &error);

    ck_assert_msg(store != NULL, "open: %s", error ? error->message : "");
    ck_assert_msg(vsStoreMigrate(store, NULL, &error), "migrate: %s",
                  error ? error->message : "");
    return store;
}

char *
vsTestPgQuery(const char *conninfo, const char *sql)
{
    g_autoptr(vsPgConn) conn = PQconnectdb(conninfo);
    g_autoptr(vsPgResult) res = NULL;

    ck_assert_msg(PQstatus(conn) == CONNECTION_OK, "%s", PQerrorMessage(conn));
    res = PQexec(conn, sql);
    ck_assert_msg(PQresultStatus(res) == PGRES_TUPLES_OK ||
                  PQresultStatus(res) == PGRES_COMMAND_OK,
                  "%s: %s", sql, PQresultErrorMessage(res));
    if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) == 0)
        return NULL;
    return g_strdup(PQgetisnull(res, 0, 0) ? "(null)" : PQgetvalue(res, 0, 0));
}

void
vsTestPgAssertQuery(const char *conninfo, const char *sql, const char *expect)
{
    g_autofree char *got = vsTestPgQuery(conninfo, sql);

    ck_assert_msg(g_strcmp0(got, expect) == 0, "%s: got '%s', expected '%s'",
                  sql, got ? got : "(no row)", expect);
}
