/*
 * vslibvirt.h: the libvirt hypervisor driver
 */
#pragma once

#include <libvirt/libvirt.h>

#include "hypervisor/vshypervisor.h"
#include "telemetry/vssample.h"

G_BEGIN_DECLS

extern const vsHypervisorDriver vsLibvirtHypervisorDriver;

/* Flatten one bulk stats record's typed parameters into @ret, scanning
 * them once: state.state, cpu.time, vcpu.current/maximum, balloon.*, and
 * block.N / net.N byte and request counters summed over N.  Fields that
 * are missing, negative or not integers stay out of ->present.  @ret's
 * uuid and name are kept; every counter is overwritten. */
void vsVirStatsParamsToCounters(virTypedParameterPtr params, int nparams,
                                vsDomainCounters *ret);
/* The same for a whole record, with uuid and name (a new string) from
 * @rec->dom.  @ret is overwritten: clear it first if it holds a name. */
void vsVirStatsRecordToCounters(virDomainStatsRecordPtr rec, vsDomainCounters *ret);

/* One typed parameter as a floating GVariant (the generic getAllDomainStats
 * route); NULL for types we do not carry. */
GVariant *vsVirTypedParamToVariant(const virTypedParameter *param);

G_END_DECLS
