/*
 * vspgcluster.c: the embedded PostgreSQL cluster under STATE_DIR/pg
 *
 * initdb, pg_ctl and postgres refuse to run as root, so when we are root
 * they run as the target's pg_user (default "postgres").  Every program is
 * run from an argv array, never through a shell.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vspg.h"
#include "util/vserror.h"

#define VS_PG_DEFAULT_USER "postgres"
#define VS_PG_START_TIMEOUT "60"

typedef struct _vsPgCluster vsPgCluster;
struct _vsPgCluster {
    char *stateDir;
    char *pgDir;
    char *dataDir;
    char *runDir;
    char *logFile;
    char *binDir;

    /* Identity the server programs run as (only when we are root). */
    vsPgIdentity *identity;
};

static void
vsPgClusterFree(vsPgCluster *c)
{
    if (!c)
        return;
    g_free(c->stateDir);
    g_free(c->pgDir);
    g_free(c->dataDir);
    g_free(c->runDir);
    g_free(c->logFile);
    g_free(c->binDir);
    vsPgIdentityFree(c->identity);
    g_free(c);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vsPgCluster, vsPgClusterFree)

char *
vsPgFirstLine(const char *msg)
{
    const char *end;

    if (!msg || !*msg)
        return g_strdup("unknown error");
    end = strchr(msg, '\n');
    return g_strstrip(end ? g_strndup(msg, end - msg) : g_strdup(msg));
}

char *
vsPgClusterRunDir(const vsStoreTarget *target)
{
    return g_build_filename(target->state_dir, "pg", "run", NULL);
}

char *
vsPgClusterDataDir(const vsStoreTarget *target)
{
    return g_build_filename(target->state_dir, "pg", "data", NULL);
}

static gboolean
vsPgIsBinDir(const char *dir)
{
    static const char *const progs[] = { "initdb", "pg_ctl", "postgres" };
    size_t i;

    for (i = 0; i < G_N_ELEMENTS(progs); i++) {
        g_autofree char *path = g_build_filename(dir, progs[i], NULL);

        if (!g_file_test(path, G_FILE_TEST_IS_EXECUTABLE))
            return FALSE;
    }
    return TRUE;
}

/* pg_config knows, but Debian does not put the server on PATH and a
 * client-only pg_config may point elsewhere: fall back to the newest
 * /usr/lib/postgresql/N/bin. */
char *
vsPgFindBinDir(GError **error)
{
    const char *argv[] = { "pg_config", "--bindir", NULL };
    g_autofree char *out = NULL;
    g_autoptr(GDir) dir = NULL;
    g_autofree char *best = NULL;
    guint64 bestVersion = 0;
    const char *entry;
    int status;

    if (g_spawn_sync(NULL, (char **)argv, NULL,
                     G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL,
                     NULL, NULL, &out, NULL, &status, NULL) &&
        g_spawn_check_exit_status(status, NULL)) {
        g_strstrip(out);
        if (vsPgIsBinDir(out))
            return g_steal_pointer(&out);
    }

    if ((dir = g_dir_open("/usr/lib/postgresql", 0, NULL))) {
        while ((entry = g_dir_read_name(dir))) {
            g_autofree char *bin = g_build_filename("/usr/lib/postgresql", entry, "bin", NULL);
            guint64 version;

            if (!g_ascii_string_to_unsigned(entry, 10, 1, G_MAXUINT, &version, NULL))
                continue;
            if (version > bestVersion && vsPgIsBinDir(bin)) {
                bestVersion = version;
                g_free(best);
                best = g_steal_pointer(&bin);
            }
        }
    }
    if (best)
        return g_steal_pointer(&best);

    g_set_error(error, VS_ERROR, VS_ERROR_NOT_FOUND,
                "cannot find the PostgreSQL server programs 'initdb' and 'pg_ctl': install the Debian package 'postgresql'");
    return NULL;
}

void
vsPgIdentityFree(vsPgIdentity *id)
{
    if (!id)
        return;
    g_free(id->user);
    g_free(id->groups);
    g_free(id);
}

vsPgIdentity *
vsPgIdentityNew(const char *user, GError **error)
{
    g_autoptr(vsPgIdentity) id = g_new0(vsPgIdentity, 1);
    struct passwd pwbuf;
    struct passwd *pw = NULL;
    char buf[4096];
    int ngroups = 64;

    id->user = g_strdup(user);
    if (getpwnam_r(id->user, &pwbuf, buf, sizeof(buf), &pw) != 0 || !pw) {
        g_set_error(error, VS_ERROR, VS_ERROR_NOT_FOUND,
                    "system user '%s' for the embedded database does not exist: install the Debian package 'postgresql'",
                    id->user);
        return NULL;
    }
    if (pw->pw_uid == 0) {
        g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
                    "system user '%s' for the embedded database must not be root",
                    id->user);
        return NULL;
    }
    id->uid = pw->pw_uid;
    id->gid = pw->pw_gid;
    id->groups = g_new0(gid_t, ngroups);
    if (getgrouplist(id->user, id->gid, id->groups, &ngroups) < 0) {
        id->groups = g_renew(gid_t, id->groups, ngroups);
        if (getgrouplist(id->user, id->gid, id->groups, &ngroups) < 0)
            ngroups = 0;
    }
    id->ngroups = ngroups;
    return g_steal_pointer(&id);
}

void
vsPgIdentityApply(const vsPgIdentity *id)
{
    static const char msg[] = "virt-shadow: cannot switch to the database user\n";

    if (!id)
        return;
    if (setgroups(id->ngroups, id->groups) < 0 ||
        setgid(id->gid) < 0 ||
        setuid(id->uid) < 0) {
        if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0) {
            /* nothing left to report with */
        }
        _exit(126);
    }
}

static vsPgCluster *
vsPgClusterNew(const vsStoreTarget *target, gboolean needPrograms, GError **error)
{
    g_autoptr(vsPgCluster) c = g_new0(vsPgCluster, 1);

    if (!target || !target->state_dir || !*target->state_dir) {
        g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
                    "no state directory for the embedded database");
        return NULL;
    }
    c->stateDir = g_strdup(target->state_dir);
    c->pgDir = g_build_filename(c->stateDir, "pg", NULL);
    c->dataDir = g_build_filename(c->pgDir, "data", NULL);
    c->runDir = g_build_filename(c->pgDir, "run", NULL);
    c->logFile = g_build_filename(c->pgDir, "server.log", NULL);
    if (!needPrograms)
        return g_steal_pointer(&c);

    if (!(c->binDir = vsPgFindBinDir(error)))
        return NULL;

    if (geteuid() == 0 &&
        !(c->identity = vsPgIdentityNew(target->pg_user && *target->pg_user ?
                                        target->pg_user : VS_PG_DEFAULT_USER,
                                        error)))
        return NULL;
    return g_steal_pointer(&c);
}

/* Runs in the child between fork and exec: async-signal-safe calls only. */
static void
vsPgChildSetup(gpointer opaque)
{
    vsPgCluster *c = opaque;

    /* Own session: a Ctrl-C meant for the CLI must not reach the server. */
    setsid();
    vsPgIdentityApply(c->identity);
}

/* A server log line without its "timestamp [pid] " prefix; @ret_pid gets
 * the pid part ("" when there is none). */
static const char *
vsPgLogBody(const char *line, char **ret_pid)
{
    const char *open = strchr(line, '[');
    const char *close = open ? strstr(open, "] ") : NULL;

    if (!open || !close || close - open > 12) {
        *ret_pid = g_strdup("");
        return line;
    }
    *ret_pid = g_strndup(open, close - open + 1);
    return close + 2;
}

static gboolean
vsPgIsErrorLine(const char *line)
{
    return strstr(line, "FATAL:") || strstr(line, "PANIC:") ||
           strstr(line, "ERROR:") || strstr(line, "error:");
}

/* The most telling part of a program's or the server's output, on one
 * line: the last error line, preceded by the line before it from the same
 * process (postgres logs the cause of a FATAL just before it); else the
 * last line. */
static char *
vsPgPickLine(const char *text)
{
    g_auto(GStrv) lines = g_strsplit(text ? text : "", "\n", -1);
    g_autoptr(GPtrArray) kept = g_ptr_array_new();
    gint err = -1;
    g_autofree char *errPid = NULL;
    g_autofree char *prevPid = NULL;
    const char *errBody;
    const char *prevBody;
    size_t i;

    for (i = 0; lines[i]; i++) {
        g_strstrip(lines[i]);
        if (!*lines[i])
            continue;
        g_ptr_array_add(kept, lines[i]);
        if (vsPgIsErrorLine(lines[i]))
            err = kept->len - 1;
    }
    if (kept->len == 0)
        return g_strdup("no output");
    if (err < 0)
        return g_strdup(g_ptr_array_index(kept, kept->len - 1));

    /* "FATAL:  msg" reads better as "FATAL: msg" on one line. */
    for (i = 0; i < kept->len; i++) {
        char *line = g_ptr_array_index(kept, i);
        char *gap;

        while ((gap = strstr(line, ":  ")))
            memmove(gap + 1, gap + 2, strlen(gap + 2) + 1);
    }
    errBody = vsPgLogBody(g_ptr_array_index(kept, err), &errPid);
    if (err == 0)
        return g_strdup(errBody);
    prevBody = vsPgLogBody(g_ptr_array_index(kept, err - 1), &prevPid);
    if (!*errPid || strcmp(errPid, prevPid) != 0 ||
        vsPgIsErrorLine(g_ptr_array_index(kept, err - 1)))
        return g_strdup(errBody);
    return g_strdup_printf("%s; %s", prevBody, errBody);
}

/* Files in the pg dir belong to the server user: as root, never follow a
 * link planted there. */
static FILE *
vsPgOpenNoFollow(const char *path, int flags, const char *mode)
{
    int fd = open(path, flags | O_NOFOLLOW | O_CLOEXEC);
    FILE *fp;

    if (fd < 0)
        return NULL;
    if (!(fp = fdopen(fd, mode)))
        close(fd);
    return fp;
}

static char *
vsPgLogTail(vsPgCluster *c)
{
    g_autofree char *buf = NULL;
    FILE *fp;
    long size;
    size_t n;

    if (!(fp = vsPgOpenNoFollow(c->logFile, O_RDONLY, "r")))
        return g_strdup("no server log");
    /* The log grows forever: only its end matters. */
    if (fseek(fp, 0, SEEK_END) == 0 && (size = ftell(fp)) > 8192)
        fseek(fp, size - 8192, SEEK_SET);
    else
        fseek(fp, 0, SEEK_SET);
    buf = g_new0(char, 8193);
    n = fread(buf, 1, 8192, fp);
    buf[n] = '\0';
    fclose(fp);
    return vsPgPickLine(buf);
}

/* Run a server program synchronously; on failure set @error to "@what:
 * <its error line>" (or the server log's when @useLog). */
static gboolean
vsPgRun(vsPgCluster *c, const char *const *argv, const char *what,
        gboolean useLog, GError **error)
{
    g_autofree char *out = NULL;
    g_autofree char *err = NULL;
    g_autoptr(GError) local = NULL;
    g_autofree char *line = NULL;
    int status;

    if (!g_spawn_sync(c->pgDir, (char **)argv, NULL, 0,
                      vsPgChildSetup, c, &out, &err, &status, &local)) {
        g_set_error(error, VS_ERROR, VS_ERROR_IO, "%s: %s", what, local->message);
        return FALSE;
    }
    if (g_spawn_check_exit_status(status, NULL))
        return TRUE;

    if (useLog) {
        line = vsPgLogTail(c);
        g_set_error(error, VS_ERROR, VS_ERROR_IO, "%s: %s (see '%s')", what, line, c->logFile);
    } else {
        line = vsPgPickLine(err && *err ? err : out);
        g_set_error(error, VS_ERROR, VS_ERROR_IO, "%s: %s", what, line);
    }
    return FALSE;
}

/* Make @path a directory of @mode owned by the server user.  The pg dir
 * belongs to that user, who could swap a subdirectory for a symlink to
 * something of root's: open without following links, then change the
 * opened directory itself. */
static gboolean
vsPgMakeDir(vsPgCluster *c, const char *path, int mode, GError **error)
{
    int fd;

    if ((g_mkdir(path, mode) < 0 && errno != EEXIST) ||
        (fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
        int err = errno;
        GStatBuf st;

        g_set_error(error, VS_ERROR, VS_ERROR_IO, "cannot create directory '%s': %s", path,
                    g_lstat(path, &st) == 0 && S_ISLNK(st.st_mode) ? "it is a symbolic link"
                                                                   : g_strerror(err));
        return FALSE;
    }
    if (fchmod(fd, mode) < 0 ||
        (c->identity && fchown(fd, c->identity->uid, c->identity->gid) < 0)) {
        int err = errno;

        close(fd);
        g_set_error(error, VS_ERROR, VS_ERROR_IO, "cannot set up directory '%s': %s",
                    path, g_strerror(err));
        return FALSE;
    }
    close(fd);
    return TRUE;
}

/* The server runs as another user: every parent of the state dir must let
 * it through, or initdb fails with a bare "Permission denied". */
static gboolean
vsPgCheckReachable(vsPgCluster *c, GError **error)
{
    g_autofree char *dir = g_strdup(c->stateDir);

    while (g_path_skip_root(dir) && *g_path_skip_root(dir)) {
        g_autofree char *parent = g_path_get_dirname(dir);
        GStatBuf st;

        if (g_stat(parent, &st) == 0 && !(st.st_mode & S_IXOTH) &&
            st.st_uid != c->identity->uid &&
            !(st.st_gid == c->identity->gid && (st.st_mode & S_IXGRP))) {
            g_set_error(error, VS_ERROR, VS_ERROR_IO,
                        "user '%s' that runs the embedded database cannot reach '%s': "
                        "'%s' is closed to it (chmod o+x '%s', or choose another state dir)",
                        c->identity->user, c->stateDir, parent, parent);
            return FALSE;
        }
        g_free(dir);
        dir = g_steal_pointer(&parent);
    }
    return TRUE;
}

static gboolean
vsPgPrepareDirs(vsPgCluster *c, GError **error)
{
    GStatBuf st;

    if (g_mkdir_with_parents(c->stateDir, 0711) < 0 || g_stat(c->stateDir, &st) < 0) {
        g_set_error(error, VS_ERROR, VS_ERROR_IO, "cannot create directory '%s': %s",
                    c->stateDir, g_strerror(errno));
        return FALSE;
    }
    /* The server user must be able to walk through to its own pg dir. */
    if (c->identity && (st.st_mode & 0011) != 0011 &&
        g_chmod(c->stateDir, (st.st_mode & 07777) | 0011) < 0) {
        g_set_error(error, VS_ERROR, VS_ERROR_IO, "cannot make '%s' traversable: %s",
                    c->stateDir, g_strerror(errno));
        return FALSE;
    }
    if (c->identity && !vsPgCheckReachable(c, error))
        return FALSE;
    return vsPgMakeDir(c, c->pgDir, 0700, error) &&
           vsPgMakeDir(c, c->runDir, 0700, error);
}

static char *
vsPgConfQuote(const char *value)
{
    g_auto(GStrv) parts = g_strsplit(value, "'", -1);
    g_autofree char *joined = g_strjoinv("''", parts);

    return g_strdup_printf("'%s'", joined);
}

#define VS_PG_SETTINGS_MARK "# virt-shadow: Unix socket only, private to the server user\n"

/* Our settings live in the cluster, so pg_ctl needs no -o shell string.
 * Checked at every start: a crash right after initdb must not leave a
 * cluster listening where we do not look. */
static gboolean
vsPgEnsureSettings(vsPgCluster *c, GError **error)
{
    g_autofree char *conf = g_build_filename(c->dataDir, "postgresql.conf", NULL);
    g_autofree char *runQuoted = vsPgConfQuote(c->runDir);
    g_autofree char *settings = NULL;
    FILE *fp;

    if ((fp = vsPgOpenNoFollow(conf, O_RDONLY, "r"))) {
        g_autoptr(GString) text = g_string_new(NULL);
        char buf[4096];
        size_t n;

        while ((n = fread(buf, 1, sizeof(buf), fp)) > 0)
            g_string_append_len(text, buf, n);
        fclose(fp);
        if (strstr(text->str, VS_PG_SETTINGS_MARK))
            return TRUE;
    }
    settings = g_strdup_printf("\n" VS_PG_SETTINGS_MARK
                               "listen_addresses = ''\n"
                               "unix_socket_directories = %s\n"
                               "unix_socket_permissions = 0700\n"
                               "shared_buffers = 128MB\n",
                               runQuoted);
    /* Appended, not replaced: the file keeps its owner and mode. */
    if ((fp = vsPgOpenNoFollow(conf, O_WRONLY | O_APPEND, "a"))) {
        gboolean written = fputs(settings, fp) >= 0;

        if (fclose(fp) == 0 && written)
            return TRUE;
    }
    g_set_error(error, VS_ERROR, VS_ERROR_IO, "cannot write '%s': %s", conf,
                g_strerror(errno));
    return FALSE;
}

static gboolean
vsPgInit(vsPgCluster *c, GError **error)
{
    g_autofree char *initdb = g_build_filename(c->binDir, "initdb", NULL);
    /* TCP is off by our settings, and refused by pg_hba.conf regardless */
    const char *argv[] = {
        initdb, "-D", c->dataDir, "--auth-local=trust", "--auth-host=reject",
        "-U", VS_PG_EMBEDDED_USER,
        "--encoding", "UTF8", "--no-locale", "--no-instructions", NULL
    };
    g_autofree char *what = g_strdup_printf("cannot initialise the database in '%s'",
                                            c->dataDir);

    return vsPgRun(c, argv, what, FALSE, error);
}

static vsPgConn *
vsPgClusterConnect(vsPgCluster *c, const char *dbname)
{
    const char *keys[] = { "host", "dbname", "user", "connect_timeout", NULL };
    const char *values[] = { c->runDir, dbname, VS_PG_EMBEDDED_USER, "5", NULL };

    return PQconnectdbParams(keys, values, 0);
}

static vsStoreEmbeddedState
vsPgClusterGetState(vsPgCluster *c)
{
    const char *keys[] = { "host", "dbname", "user", "connect_timeout", NULL };
    const char *values[] = { c->runDir, "postgres", VS_PG_EMBEDDED_USER, "5", NULL };
    g_autofree char *version = g_build_filename(c->dataDir, "PG_VERSION", NULL);

    if (!g_file_test(version, G_FILE_TEST_EXISTS))
        return VS_STORE_EMBEDDED_ABSENT;
    switch (PQpingParams(keys, values, 0)) {
    case PQPING_OK:
    case PQPING_REJECT:         /* up, but starting or shutting down */
        return VS_STORE_EMBEDDED_RUNNING;
    case PQPING_NO_RESPONSE:
    case PQPING_NO_ATTEMPT:
    default:
        return VS_STORE_EMBEDDED_STOPPED;
    }
}

static gboolean
vsPgCreateDatabase(vsPgCluster *c, GError **error)
{
    g_autoptr(vsPgConn) conn = vsPgClusterConnect(c, "postgres");
    g_autoptr(vsPgResult) res = NULL;
    const char *params[] = { VS_PG_EMBEDDED_DATABASE };

    if (PQstatus(conn) != CONNECTION_OK) {
        g_autofree char *line = vsPgFirstLine(PQerrorMessage(conn));

        g_set_error(error, VS_ERROR, VS_ERROR_CONNECT,
                    "cannot connect to database on socket '%s': %s", c->runDir, line);
        return FALSE;
    }
    res = PQexecParams(conn, "SELECT 1 FROM pg_database WHERE datname = $1",
                       1, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
        return TRUE;
    g_clear_pointer(&res, PQclear);

    res = PQexec(conn, "CREATE DATABASE " VS_PG_EMBEDDED_DATABASE);
    if (PQresultStatus(res) != PGRES_COMMAND_OK &&
        g_strcmp0(PQresultErrorField(res, PG_DIAG_SQLSTATE), "42P04") != 0) {
        g_autofree char *line = vsPgFirstLine(PQresultErrorMessage(res));

        g_set_error(error, VS_ERROR, VS_ERROR_FAILED,
                    "cannot create database '%s': %s", VS_PG_EMBEDDED_DATABASE, line);
        return FALSE;
    }
    return TRUE;
}

/* Serialises concurrent starts (two commands autostarting at once). */
static int
vsPgLock(vsPgCluster *c, GError **error)
{
    /* in the state dir, which the server user does not own */
    g_autofree char *path = g_build_filename(c->stateDir, "pg-start.lock", NULL);
    int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);

    if (fd < 0 || flock(fd, LOCK_EX) < 0) {
        g_set_error(error, VS_ERROR, VS_ERROR_IO, "cannot lock '%s': %s", path,
                    g_strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

gboolean
vsPgClusterStart(const vsStoreTarget *target, GError **error)
{
    g_autoptr(vsPgCluster) c = NULL;
    g_autofree char *pgctl = NULL;
    g_autofree char *what = NULL;
    g_autoptr(GError) startError = NULL;
    gboolean ok = FALSE;
    int lockfd;

    if (!(c = vsPgClusterNew(target, TRUE, error)))
        return FALSE;
    if (!vsPgPrepareDirs(c, error))
        return FALSE;
    if ((lockfd = vsPgLock(c, error)) < 0)
        return FALSE;

    switch (vsPgClusterGetState(c)) {
    case VS_STORE_EMBEDDED_ABSENT:
        if (!vsPgInit(c, error))
            goto cleanup;
        G_GNUC_FALLTHROUGH;
    case VS_STORE_EMBEDDED_STOPPED:
        if (!vsPgEnsureSettings(c, error))
            goto cleanup;
        pgctl = g_build_filename(c->binDir, "pg_ctl", NULL);
        what = g_strdup_printf("cannot start the database in '%s'", c->dataDir);
        {
            const char *argv[] = {
                pgctl, "-D", c->dataDir, "-l", c->logFile, "-w",
                "-t", VS_PG_START_TIMEOUT, "start", NULL
            };

            if (!vsPgRun(c, argv, what, TRUE, &startError) &&
                vsPgClusterGetState(c) != VS_STORE_EMBEDDED_RUNNING) {
                g_propagate_error(error, g_steal_pointer(&startError));
                goto cleanup;
            }
        }
        break;
    case VS_STORE_EMBEDDED_RUNNING:
        break;
    }

    /* Also after a crash between initdb and the first connection. */
    ok = vsPgCreateDatabase(c, error);

 cleanup:
    close(lockfd);
    return ok;
}

gboolean
vsPgClusterStop(const vsStoreTarget *target, GError **error)
{
    g_autoptr(vsPgCluster) c = NULL;
    g_autofree char *pgctl = NULL;
    g_autofree char *what = NULL;

    if (!(c = vsPgClusterNew(target, FALSE, error)))
        return FALSE;
    if (vsPgClusterGetState(c) != VS_STORE_EMBEDDED_RUNNING)
        return TRUE;

    g_clear_pointer(&c, vsPgClusterFree);
    if (!(c = vsPgClusterNew(target, TRUE, error)))
        return FALSE;
    pgctl = g_build_filename(c->binDir, "pg_ctl", NULL);
    what = g_strdup_printf("cannot stop the database in '%s'", c->dataDir);
    {
        const char *argv[] = {
            pgctl, "-D", c->dataDir, "-m", "fast", "-w", "stop", NULL
        };

        return vsPgRun(c, argv, what, TRUE, error);
    }
}

vsStoreEmbeddedState
vsPgClusterState(const vsStoreTarget *target)
{
    g_autoptr(vsPgCluster) c = vsPgClusterNew(target, FALSE, NULL);

    if (!c)
        return VS_STORE_EMBEDDED_ABSENT;
    return vsPgClusterGetState(c);
}
