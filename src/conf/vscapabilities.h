/*
 * vscapabilities.h: facts from the hypervisor's capabilities XML
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Domain types ("kvm", "qemu") the host offers for its own architecture;
 * NULL with @error on malformed XML. */
GStrv vsCapabilitiesDomainTypes(const char *caps_xml, GError **error);

G_END_DECLS
