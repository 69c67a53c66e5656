/*
 * vsdrivers.c: register the built-in drivers with the core
 */
#include <config.h>

#include "vsdrivers.h"
#include "hypervisor/vshypervisor.h"
#include "store/vsstore.h"
#include "libvirt/vslibvirt.h"
#include "postgres/vspg.h"

void
vsDriversInit(void)
{
    vsHypervisorRegisterDriver(&vsLibvirtHypervisorDriver);
    vsStoreRegisterDriver(&vsPgStoreDriver);
}
