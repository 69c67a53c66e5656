/*
 * vscapabilities.h: facts from the hypervisor's capabilities XML
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Domain types ("kvm", "qemu") the host offers for its own architecture;
 * NULL with @error on malformed XML. */
GStrv vsCapabilitiesDomainTypes(const char *caps_xml, GError **error);

/* The host's size from its NUMA topology: logical CPUs and memory (KiB),
 * summed over the cells.  VS_ERROR_INVALID when the XML has no topology. */
gboolean vsCapabilitiesHostSize(const char *caps_xml, double *ret_cpus, double *ret_memory_kib,
                                GError **error);

G_END_DECLS
