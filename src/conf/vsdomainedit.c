/*
 * vsdomainedit.c: editing a libvirt domain XML into another domain's
 */
#include <config.h>

#include <string.h>

#include <libxml/parser.h>

#include "vsdomainedit.h"
#include "hypervisor/vshypervisor.h"
#include "util/vserror.h"

vsDomainEditDoc *
vsDomainEditParse(const char *xml, xmlNodePtr *ret_devices, GError **error)
{
    g_autoptr(vsDomainEditDoc) doc = NULL;
    xmlNodePtr root;
    xmlNodePtr devices;

    doc = xmlReadMemory(xml, (int)strlen(xml), "domain.xml", NULL,
                        XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
                        XML_PARSE_NOBLANKS);
    if (!doc) {
        const xmlError *err = xmlGetLastError();

        g_set_error(error, VS_ERROR, VS_ERROR_INVALID, "malformed base domain XML at line %d: %s",
                    err ? err->line : 0,
                    err && err->message ? g_strstrip(err->message) : "parse error");
        return NULL;
    }
    root = xmlDocGetRootElement(doc);
    if (!root || !xmlStrEqual(root->name, BAD_CAST "domain")) {
        g_set_error(error, VS_ERROR, VS_ERROR_INVALID, "base XML root element is not <domain>");
        return NULL;
    }
    if (!(devices = vsDomainEditChild(root, "devices"))) {
        g_set_error(error, VS_ERROR, VS_ERROR_INVALID, "base domain XML has no <devices>");
        return NULL;
    }
    *ret_devices = devices;
    return g_steal_pointer(&doc);
}

char *
vsDomainEditFormat(vsDomainEditDoc *doc)
{
    xmlChar *out = NULL;
    int outlen = 0;
    const char *start;
    char *ret;

    xmlDocDumpFormatMemoryEnc(doc, &out, &outlen, "UTF-8", 1);
    start = strstr((const char *)out, "<domain");
    ret = g_strdup(start ? start : (const char *)out);
    xmlFree(out);
    return ret;
}

xmlNodePtr
vsDomainEditChild(xmlNodePtr parent, const char *name)
{
    for (xmlNodePtr n = parent ? parent->children : NULL; n; n = n->next)
        if (n->type == XML_ELEMENT_NODE && !n->ns && xmlStrEqual(n->name, BAD_CAST name))
            return n;
    return NULL;
}

void
vsDomainEditRemoveAll(xmlNodePtr parent, const char *name)
{
    xmlNodePtr n;

    while ((n = vsDomainEditChild(parent, name))) {
        xmlUnlinkNode(n);
        xmlFreeNode(n);
    }
}

xmlNodePtr
vsDomainEditSetChild(xmlNodePtr parent, const char *name, const char *text)
{
    xmlNodePtr n = vsDomainEditChild(parent, name);

    if (n) {
        xmlNodePtr fresh = xmlNewNode(NULL, BAD_CAST name);

        xmlReplaceNode(n, fresh);
        xmlFreeNode(n);
        n = fresh;
    } else {
        n = xmlNewChild(parent, NULL, BAD_CAST name, NULL);
    }
    if (text)
        xmlNodeSetContent(n, BAD_CAST text);
    return n;
}

xmlNodePtr
vsDomainEditSetUInt(xmlNodePtr parent, const char *name, guint64 value, const char *unit)
{
    char buf[32];
    xmlNodePtr n;

    g_snprintf(buf, sizeof(buf), "%" G_GUINT64_FORMAT, value);
    n = vsDomainEditSetChild(parent, name, buf);
    if (unit)
        xmlSetProp(n, BAD_CAST "unit", BAD_CAST unit);
    return n;
}

void
vsDomainEditSetIdentity(xmlNodePtr root, const char *name, const char *uuid)
{
    xmlUnsetProp(root, BAD_CAST "id");
    vsDomainEditSetChild(root, "name", name);
    if (!vsDomainEditChild(root, "uuid"))
        xmlAddNextSibling(vsDomainEditChild(root, "name"), xmlNewNode(NULL, BAD_CAST "uuid"));
    vsDomainEditSetChild(root, "uuid", uuid);
}

static gboolean
vsDomainEditIsReadOnly(xmlNodePtr disk)
{
    xmlChar *device = xmlGetProp(disk, BAD_CAST "device");
    gboolean ro = vsDomainEditChild(disk, "readonly") != NULL ||
                  (device && (xmlStrEqual(device, BAD_CAST "cdrom") ||
                              xmlStrEqual(device, BAD_CAST "floppy")));

    xmlFree(device);
    return ro;
}

xmlNodePtr
vsDomainEditReplaceDisk(xmlNodePtr devices, const char *path, const char *format,
                        const char *who, GError **error)
{
    xmlNodePtr disk = NULL;
    xmlNodePtr driver;
    xmlNodePtr source;
    guint writable = 0;

    for (xmlNodePtr n = devices ? devices->children : NULL; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE || n->ns || !xmlStrEqual(n->name, BAD_CAST "disk") ||
            vsDomainEditIsReadOnly(n))
            continue;
        writable++;
        disk = n;
    }
    if (writable != 1) {
        if (writable)
            g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
                        "base domain has %u writable disks; %s needs exactly one", writable, who);
        else
            g_set_error(error, VS_ERROR, VS_ERROR_INVALID, "base domain has no writable disk");
        return NULL;
    }
    xmlSetProp(disk, BAD_CAST "type", BAD_CAST "file");
    driver = vsDomainEditChild(disk, "driver");
    if (!driver)
        driver = xmlNewChild(disk, NULL, BAD_CAST "driver", NULL);
    xmlSetProp(driver, BAD_CAST "name", BAD_CAST "qemu");
    xmlSetProp(driver, BAD_CAST "type", BAD_CAST format);
    vsDomainEditRemoveAll(disk, "backingStore");
    vsDomainEditRemoveAll(disk, "shareable");
    source = vsDomainEditSetChild(disk, "source", NULL);
    xmlSetProp(source, BAD_CAST "file", BAD_CAST path);
    vsDomainEditRemoveAll(disk, "iotune");
    return disk;
}

void
vsDomainEditDropChannelPaths(xmlNodePtr devices)
{
    for (xmlNodePtr n = devices->children; n; n = n->next) {
        xmlChar *type;

        if (n->type != XML_ELEMENT_NODE || !xmlStrEqual(n->name, BAD_CAST "channel"))
            continue;
        type = xmlGetProp(n, BAD_CAST "type");
        if (type && xmlStrEqual(type, BAD_CAST "unix"))
            vsDomainEditRemoveAll(n, "source");
        xmlFree(type);
    }
}

static const char *const vsDomainEditChardevs[] = {
    "serial", "console", "parallel", "channel", NULL,
};

static char *
vsDomainEditChardevPath(const char *path, const char *base_name, const char *new_name)
{
    g_autofree char *dir = g_path_get_dirname(path);
    g_autofree char *file = g_path_get_basename(path);
    g_autofree char *ours = *base_name && g_str_has_prefix(file, base_name)
        ? g_strconcat(new_name, file + strlen(base_name), NULL)
        : g_strconcat(new_name, "-", file, NULL);

    return g_build_filename(dir, ours, NULL);
}

/* @node's @attr, a host path, moved to the new domain's; FALSE when
 * there is none to move. */
static gboolean
vsDomainEditMovePath(xmlNodePtr node, const char *attr, const char *base_name,
                     const char *new_name)
{
    xmlChar *path = node ? xmlGetProp(node, BAD_CAST attr) : NULL;
    g_autofree char *moved = NULL;

    if (!path)
        return FALSE;
    if (new_name) {
        moved = vsDomainEditChardevPath((const char *)path, base_name, new_name);
        xmlSetProp(node, BAD_CAST attr, BAD_CAST moved);
    }
    xmlFree(path);
    return TRUE;
}

void
vsDomainEditMoveChardevFiles(xmlNodePtr devices, const char *base_name, const char *new_name)
{
    for (xmlNodePtr n = devices->children; n; n = n->next) {
        xmlChar *type;

        if (n->type != XML_ELEMENT_NODE || n->ns ||
            !g_strv_contains(vsDomainEditChardevs, (const char *)n->name))
            continue;
        type = xmlGetProp(n, BAD_CAST "type");
        if (type && xmlStrEqual(type, BAD_CAST "file") &&
            vsDomainEditMovePath(vsDomainEditChild(n, "source"), "path", base_name, new_name) &&
            !new_name) {
            xmlSetProp(n, BAD_CAST "type", BAD_CAST "pty");
            vsDomainEditRemoveAll(n, "source");
        }
        xmlFree(type);
        if (vsDomainEditMovePath(vsDomainEditChild(n, "log"), "file", base_name, new_name) &&
            !new_name)
            vsDomainEditRemoveAll(n, "log");
    }
}

void
vsDomainEditDropSizing(xmlNodePtr root)
{
    xmlNodePtr cpu = vsDomainEditChild(root, "cpu");

    vsDomainEditRemoveAll(root, "maxMemory");
    vsDomainEditRemoveAll(root, "vcpus");
    vsDomainEditRemoveAll(root, "cputune");
    vsDomainEditRemoveAll(root, "memtune");
    if (cpu) {
        vsDomainEditRemoveAll(cpu, "topology");
        vsDomainEditRemoveAll(cpu, "numa");
    }
}

gboolean
vsDomainEditSetMetadata(xmlNodePtr root, const char *element_xml, GError **error)
{
    g_autoptr(vsDomainEditDoc) elemdoc = NULL;
    xmlNodePtr metadata;

    elemdoc = xmlReadMemory(element_xml, (int)strlen(element_xml), "metadata.xml", NULL,
                            XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
                            XML_PARSE_NOBLANKS);
    if (!elemdoc || !xmlDocGetRootElement(elemdoc)) {
        g_set_error(error, VS_ERROR, VS_ERROR_FAILED, "cannot read our metadata element");
        return FALSE;
    }
    metadata = vsDomainEditChild(root, "metadata");
    if (!metadata)
        metadata = xmlNewChild(root, NULL, BAD_CAST "metadata", NULL);
    for (xmlNodePtr n = metadata->children, next; n; n = next) {
        next = n->next;
        if (n->type == XML_ELEMENT_NODE && n->ns &&
            xmlStrEqual(n->ns->href, BAD_CAST VS_METADATA_NS)) {
            xmlUnlinkNode(n);
            xmlFreeNode(n);
        }
    }
    xmlAddChild(metadata, xmlDocCopyNode(xmlDocGetRootElement(elemdoc), root->doc, 1));
    return TRUE;
}
