/*
 * vsdomainedit.h: editing a libvirt domain XML into another domain's
 *
 * What a shadow clone (shadow/vslimits.h) and a deployed domain
 * (shadow/vsdeploy.h) both make of a base's inactive XML: a fresh
 * identity, the base's one writable disk swapped for a clone, the base's
 * bound channel sockets and size-bound elements dropped, and our metadata
 * element replaced.  libxml2 trees in, libxml2 trees out: callers add what
 * is theirs alone.
 */
#pragma once

#include <glib.h>
#include <libxml/tree.h>

G_BEGIN_DECLS

typedef xmlDoc vsDomainEditDoc;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vsDomainEditDoc, xmlFreeDoc)

/* Parse @xml, a domain with <devices>, blanks dropped.  VS_ERROR_INVALID:
 * "malformed base domain XML at line N: ...", "base XML root element is
 * not <domain>", "base domain XML has no <devices>".  *@ret_devices is
 * the <devices> element. */
vsDomainEditDoc *vsDomainEditParse(const char *xml, xmlNodePtr *ret_devices, GError **error);

/* The whole document as text, without an XML declaration (libvirt wants
 * the element). */
char *vsDomainEditFormat(vsDomainEditDoc *doc);

/* @parent's first child element @name (no namespace), or NULL. */
xmlNodePtr vsDomainEditChild(xmlNodePtr parent, const char *name);
/* Remove every child element @name (no namespace) of @parent. */
void vsDomainEditRemoveAll(xmlNodePtr parent, const char *name);
/* Set the text of @parent's child @name (NULL: empty), created at the end
 * when missing; its attributes are dropped. */
xmlNodePtr vsDomainEditSetChild(xmlNodePtr parent, const char *name, const char *text);
/* The same with a number, and a unit attribute when @unit is not NULL. */
xmlNodePtr vsDomainEditSetUInt(xmlNodePtr parent, const char *name, guint64 value,
                               const char *unit);

/* A fresh <name> and <uuid> (added after <name> when missing), and no
 * domain id. */
void vsDomainEditSetIdentity(xmlNodePtr root, const char *name, const char *uuid);

/* Point the one writable disk of @devices (not a cdrom, floppy or
 * <readonly/>) at the file @path of format @format: type='file', driver
 * qemu of that type, no <backingStore> (libvirt reads the chain from the
 * image), no <shareable/>, no <iotune>.  Read-only disks are kept.  A base
 * with no writable disk, or several, is refused (VS_ERROR_INVALID "base
 * domain has N writable disks; @who needs exactly one"), since which one
 * to clone is unknown and the base must never be written.  Returns the
 * disk element. */
xmlNodePtr vsDomainEditReplaceDisk(xmlNodePtr devices, const char *path, const char *format,
                                   const char *who, GError **error);

/* Drop the source paths of unix channels: the base's bound socket would
 * clash with the base's own; libvirt picks fresh ones. */
void vsDomainEditDropChannelPaths(xmlNodePtr devices);

/* Give the new domain its own host files for its character devices (a
 * serial, console, parallel or channel of type 'file', and any <log
 * file=...>): two domains appending to one console log garble it, and
 * QEMU truncates a file source when it starts.  With @new_name, a file
 * "DIR/BASE_NAMErest" becomes "DIR/NEW_NAMErest" and any other
 * "DIR/file" becomes "DIR/NEW_NAME-file"; without (a throwaway shadow),
 * a file source becomes a pty and a <log> is dropped. */
void vsDomainEditMoveChardevFiles(xmlNodePtr devices, const char *base_name,
                                  const char *new_name);

/* Drop what must agree with the base's sizes and is set anew by the
 * caller: <maxMemory>, <vcpus>, <cputune> (pins name the old vCPUs),
 * <memtune>, <cpu><topology> and <cpu><numa>. */
void vsDomainEditDropSizing(xmlNodePtr root);

/* Replace our element in <metadata> (namespace VS_METADATA_NS; created
 * when missing) by @element_xml, our element as text; other metadata is
 * kept.  VS_ERROR_FAILED when @element_xml cannot be read. */
gboolean vsDomainEditSetMetadata(xmlNodePtr root, const char *element_xml, GError **error);

G_END_DECLS
