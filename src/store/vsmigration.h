/*
 * vsmigration.h: schema migrations shipped inside the binary
 *
 * sql/NNNN_name.sql files are compiled in as GResources.  This module is
 * pure logic: it loads them and compares them with what a database has
 * applied.  The store driver does the applying.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _vsMigration vsMigration;
struct _vsMigration {
    int version;        /* NNNN */
    char *name;         /* "NNNN_name" */
    char *checksum;     /* SHA-256 of the file, hex */
    char *sql;
};

vsMigration *vsMigrationNew(int version, const char *name, const char *sql);
void vsMigrationFree(vsMigration *m);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vsMigration, vsMigrationFree)

/* A row of the database's migration table. */
typedef struct _vsAppliedMigration vsAppliedMigration;
struct _vsAppliedMigration {
    int version;
    char *name;
    char *checksum;
    gint64 applied_at;  /* Unix seconds */
};

vsAppliedMigration *vsAppliedMigrationNew(int version, const char *name,
                                          const char *checksum, gint64 applied_at);
void vsAppliedMigrationFree(vsAppliedMigration *a);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vsAppliedMigration, vsAppliedMigrationFree)

typedef enum {
    VS_MIGRATION_PENDING,   /* known, not applied */
    VS_MIGRATION_APPLIED,   /* applied, checksum matches */
    VS_MIGRATION_EDITED,    /* applied, but the file changed since */
    VS_MIGRATION_UNKNOWN,   /* applied, but this binary does not know it */
} vsMigrationState;

const char *vsMigrationStateToString(vsMigrationState state);

typedef struct _vsMigrationStatus vsMigrationStatus;
struct _vsMigrationStatus {
    int version;
    char *name;
    vsMigrationState state;
    gint64 applied_at;      /* 0 when pending */
};

void vsMigrationStatusFree(vsMigrationStatus *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vsMigrationStatus, vsMigrationStatusFree)

/* Every migration compiled into this binary, sorted by version. */
GPtrArray *vsMigrationsBuiltin(GError **error);

/* Parse a "NNNN_name.sql" file name; FALSE (with @error) when malformed. */
gboolean vsMigrationParseFileName(const char *file, int *ret_version,
                                  char **ret_name, GError **error);

/* Known migrations (sorted) against applied rows: one status per version,
 * sorted.  Never fails. */
GPtrArray *vsMigrationCompare(GPtrArray *known, GPtrArray *applied);

/* FALSE with VS_ERROR_SCHEMA when the database is ahead of this binary or
 * an applied migration was edited: both need a human. */
gboolean vsMigrationCheckCompatible(GPtrArray *status, GError **error);

/* The known migrations still to apply, in order (borrowed pointers). */
GPtrArray *vsMigrationPending(GPtrArray *known, GPtrArray *status);

G_END_DECLS
