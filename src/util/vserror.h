/*
 * vserror.h: the virt-shadow GError domain
 *
 * Every function that can fail takes "GError **error" last and reports
 * through this domain (or a driver's converted error).  Messages are short,
 * quote their subject, and never end in a period.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define VS_ERROR (vsErrorQuark())
GQuark vsErrorQuark(void);

typedef enum {
    VS_ERROR_FAILED,        /* generic failure */
    VS_ERROR_USAGE,         /* bad command line: exit code 2 */
    VS_ERROR_INVALID,       /* malformed input: config, XML, value */
    VS_ERROR_NOT_FOUND,     /* named object does not exist */
    VS_ERROR_CONNECT,       /* a service (libvirt, PostgreSQL) is unreachable */
    VS_ERROR_SCHEMA,        /* database schema mismatch */
    VS_ERROR_IO,            /* file system or subprocess failure */
    VS_ERROR_UNSUPPORTED,   /* the hypervisor or guest cannot do this */
    VS_ERROR_TIMEOUT,       /* a deadline passed */
} vsErrorCode;

/* Exit codes shared by every binary (EXIT STATUS in the man pages). */
enum {
    VS_EXIT_OK = 0,
    VS_EXIT_FAILURE = 1,
    VS_EXIT_USAGE = 2,
};

int vsErrorExitCode(const GError *error);

G_END_DECLS
