/*
 * vspg.h: the PostgreSQL store driver and its embedded cluster
 *
 * Only drivers/postgres (and its tests) include libpq-fe.h.
 */
#pragma once

#include <glib.h>
#include <libpq-fe.h>

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
