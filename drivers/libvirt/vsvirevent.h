/*
 * vsvirevent.h: libvirt's event loop on the GLib main context
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Make libvirt dispatch its handles and timers from the default GLib main
 * context.  Idempotent; must run before the first virConnectOpen. */
void vsVirEventRegister(void);

G_END_DECLS
