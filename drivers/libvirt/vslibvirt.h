/*
 * vslibvirt.h: the libvirt hypervisor driver
 */
#pragma once

#include "hypervisor/vshypervisor.h"

G_BEGIN_DECLS

extern const vsHypervisorDriver vsLibvirtHypervisorDriver;

G_END_DECLS
