/*
 * vserror.c: the virt-shadow GError domain
 */
#include <config.h>

#include "vserror.h"

GQuark
vsErrorQuark(void)
{
    return g_quark_from_static_string("vs-error-quark");
}

int
vsErrorExitCode(const GError *error)
{
    if (!error)
        return VS_EXIT_OK;
    if (g_error_matches(error, VS_ERROR, VS_ERROR_USAGE))
        return VS_EXIT_USAGE;
    return VS_EXIT_FAILURE;
}
