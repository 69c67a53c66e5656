/*
 * vsdrivers.h: register the built-in drivers with the core
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Register the libvirt hypervisor driver and the PostgreSQL store driver.
 * Call once, first thing in main(). */
void vsDriversInit(void);

G_END_DECLS
