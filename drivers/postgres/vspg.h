/*
 * vspg.h: the PostgreSQL store driver and its embedded cluster
 *
 * Only drivers/postgres (and its tests) include libpq-fe.h.
 */
#pragma once

#include <glib.h>
#include <libpq-fe.h>
#include <sys/types.h>

#include "store/vsstore.h"

G_BEGIN_DECLS

extern const vsStoreDriver vsPgStoreDriver;

/* Local names for libpq types so g_autoptr works on them. */
typedef PGconn vsPgConn;
typedef PGresult vsPgResult;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vsPgConn, PQfinish)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vsPgResult, PQclear)

/* The role and database of the embedded cluster. */
#define VS_PG_EMBEDDED_USER "virtshadow"
#define VS_PG_EMBEDDED_DATABASE "virtshadow"

/* The first line of a (libpq or server) message, without its trailing
 * newline; "unknown error" when empty. */
char *vsPgFirstLine(const char *msg);

/* Server programs (vspgcluster.c, also used by the tests' throwaway server). */

/* The directory holding initdb, pg_ctl and postgres. */
char *vsPgFindBinDir(GError **error);

/* The system user the server programs run as when we are root: initdb,
 * pg_ctl and postgres refuse root. */
typedef struct _vsPgIdentity vsPgIdentity;
struct _vsPgIdentity {
    char *user;
    uid_t uid;
    gid_t gid;
    gid_t *groups;
    int ngroups;
};

/* Look up @user and its groups now (NSS is not safe after fork); fails
 * when @user does not exist or is root. */
vsPgIdentity *vsPgIdentityNew(const char *user, GError **error);
void vsPgIdentityFree(vsPgIdentity *id);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vsPgIdentity, vsPgIdentityFree)
/* Between fork and exec (async-signal-safe): become @id, or say so on
 * stderr and _exit(126); nothing when @id is NULL. */
void vsPgIdentityApply(const vsPgIdentity *id);

/* Embedded cluster (vspgcluster.c).  Layout under STATE_DIR/pg: data/ (the
 * cluster), run/ (the Unix socket) and server.log. */
char *vsPgClusterRunDir(const vsStoreTarget *target);
char *vsPgClusterDataDir(const vsStoreTarget *target);
vsStoreEmbeddedState vsPgClusterState(const vsStoreTarget *target);
/* initdb on first use, then start; success when already running. */
gboolean vsPgClusterStart(const vsStoreTarget *target, GError **error);
/* Fast shutdown; success when not running. */
gboolean vsPgClusterStop(const vsStoreTarget *target, GError **error);

G_END_DECLS
