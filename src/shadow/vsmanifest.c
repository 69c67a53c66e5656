/*
 * vsmanifest.c: a guest's file manifest, the diff of two, and package lists
 */
#include <config.h>

#include <string.h>

#include "vsmanifest.h"
#include "util/vserror.h"

const char *const vsManifestExcluded[] = { "/proc", "/sys", "/dev", "/run", "/tmp", NULL };

/* Keep in step with vsManifestExcluded (the unit test checks). */
#define VS_MANIFEST_PRUNE \
    "\\( -path /proc -o -path /sys -o -path /dev -o -path /run -o -path /tmp " \
    "-o -name \"*$nl*\" -o -name \"*$tab*\" \\) -prune -o"

/* $nl and $tab hold the characters themselves: find's -name globs match
 * them, and "$(printf '\n')" would lose the newline. */
#define VS_MANIFEST_SCRIPT \
    "nl='\n'\n" \
    "tab='\t'\n" \
    "for r in \"$@\"; do\n" \
    "  find \"$r\" " VS_MANIFEST_PRUNE " -exec stat -c '%f\t%a\t%s\t%Y\t%n' {} + 2>/dev/null\n" \
    "done\n" \
    "echo '#sha256'\n" \
    "for r in \"$@\"; do\n" \
    "  find \"$r\" " VS_MANIFEST_PRUNE " -type f -size -65537c -exec sha256sum {} + 2>/dev/null\n" \
    "done\n" \
    "exit 0\n"

const char *const vsManifestArgv[] = { "/bin/sh", "-c", VS_MANIFEST_SCRIPT, "sh", NULL };

GStrv
vsManifestCommand(const char *const *roots)
{
    g_autoptr(GStrvBuilder) argv = g_strv_builder_new();

    g_strv_builder_addv(argv, (const char **)vsManifestArgv);
    if (roots && roots[0])
        g_strv_builder_addv(argv, (const char **)roots);
    else
        g_strv_builder_add(argv, VS_MANIFEST_DEFAULT_ROOT);
    return g_strv_builder_end(argv);
}

void
vsManifestEntryFree(vsManifestEntry *entry)
{
    if (!entry)
        return;
    g_free(entry->path);
    g_free(entry->sha256);
    g_free(entry);
}

vsManifest *
vsManifestNew(void)
{
    vsManifest *manifest = g_new0(vsManifest, 1);

    manifest->entries = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
                                              (GDestroyNotify)vsManifestEntryFree);
    return manifest;
}

void
vsManifestFree(vsManifest *manifest)
{
    if (!manifest)
        return;
    g_hash_table_unref(manifest->entries);
    g_free(manifest);
}

static gboolean
vsManifestBad(guint line, const char *text, const char *why, GError **error)
{
    g_autofree char *shown = g_utf8_make_valid(text, MIN(strlen(text), 80));

    g_set_error(error, VS_ERROR, VS_ERROR_INVALID, "malformed manifest line %u '%s': %s",
                line, shown, why);
    return FALSE;
}

static vsManifestType
vsManifestTypeOfMode(guint64 mode)
{
    switch (mode & 0170000) {
    case 0100000:
        return VS_MANIFEST_FILE;
    case 0040000:
        return VS_MANIFEST_DIR;
    case 0120000:
        return VS_MANIFEST_LINK;
    default:
        return VS_MANIFEST_OTHER;
    }
}

static gboolean
vsManifestParseEntry(vsManifest *manifest, guint lineno, const char *line, GError **error)
{
    g_auto(GStrv) fields = g_strsplit(line, "\t", 5);
    g_autoptr(vsManifestEntry) entry = g_new0(vsManifestEntry, 1);
    guint64 raw;
    guint64 size;
    gint64 mtime;

    if (g_strv_length(fields) != 5)
        return vsManifestBad(lineno, line, "expected 5 tab-separated fields", error);
    if (!g_ascii_string_to_unsigned(fields[0], 16, 0, G_MAXUINT32, &raw, NULL))
        return vsManifestBad(lineno, line, "invalid mode", error);
    if (!g_ascii_string_to_unsigned(fields[2], 10, 0, G_MAXUINT64, &size, NULL))
        return vsManifestBad(lineno, line, "invalid size", error);
    if (!g_ascii_string_to_signed(fields[3], 10, G_MININT64, G_MAXINT64, &mtime, NULL))
        return vsManifestBad(lineno, line, "invalid mtime", error);
    if (fields[4][0] != '/')
        return vsManifestBad(lineno, line, "path is not absolute", error);
    entry->type = vsManifestTypeOfMode(raw);
    entry->mode = (guint)(raw & 07777);
    entry->size = size;
    entry->mtime = mtime;
    entry->path = g_strdup(fields[4]);
    /* roots that overlap list an entry twice: the same entry */
    g_hash_table_replace(manifest->entries, entry->path, entry);
    entry = NULL;
    return TRUE;
}

static gboolean
vsManifestIsHash(const char *text)
{
    for (int i = 0; i < 64; i++)
        if (!g_ascii_isxdigit(text[i]))
            return FALSE;
    return TRUE;
}

/* GNU sha256sum escapes a name holding '\' or a newline and marks the line
 * with a leading '\'; busybox does not escape. */
static char *
vsManifestUnescape(const char *path, gboolean escaped)
{
    GString *out;

    if (!escaped)
        return g_strdup(path);
    out = g_string_new(NULL);
    for (const char *p = path; *p; p++) {
        if (*p == '\\' && p[1] == '\\')
            g_string_append_c(out, *++p);
        else if (*p == '\\' && p[1] == 'n')
            g_string_append_c(out, '\n'), p++;
        else
            g_string_append_c(out, *p);
    }
    return g_string_free(out, FALSE);
}

static gboolean
vsManifestParseHash(vsManifest *manifest, guint lineno, const char *line, GError **error)
{
    gboolean escaped = line[0] == '\\';
    const char *hash = line + (escaped ? 1 : 0);
    g_autofree char *path = NULL;
    vsManifestEntry *entry;

    if (strlen(hash) < 67 || !vsManifestIsHash(hash) || hash[64] != ' ' ||
        (hash[65] != ' ' && hash[65] != '*') || hash[66] != '/')
        return vsManifestBad(lineno, line, "expected a sha256 and an absolute path", error);
    path = vsManifestUnescape(hash + 66, escaped);
    entry = g_hash_table_lookup(manifest->entries, path);
    if (entry && entry->type == VS_MANIFEST_FILE) {
        g_free(entry->sha256);
        entry->sha256 = g_ascii_strdown(hash, 64);
    }
    return TRUE;
}

vsManifest *
vsManifestParse(const char *text, gsize len, GError **error)
{
    g_autoptr(vsManifest) manifest = vsManifestNew();
    g_autofree char *copy = g_strndup(text, len);
    g_auto(GStrv) lines = NULL;
    gboolean hashes = FALSE;

    if (memchr(text, '\0', len)) {
        g_set_error(error, VS_ERROR, VS_ERROR_INVALID, "NUL byte in manifest");
        return NULL;
    }
    lines = g_strsplit(copy, "\n", -1);
    for (guint i = 0; lines[i]; i++) {
        const char *line = lines[i];

        if (!*line)
            continue;
        if (strcmp(line, "#sha256") == 0) {
            hashes = TRUE;
            continue;
        }
        if (!(hashes ? vsManifestParseHash(manifest, i + 1, line, error)
                     : vsManifestParseEntry(manifest, i + 1, line, error)))
            return NULL;
    }
    return g_steal_pointer(&manifest);
}

/* --- events ------------------------------------------------------------- */

static const char *const vsEventTypeNames[VS_EVENT_LAST] = {
    [VS_EVENT_FILE_CREATED] = "file-created",
    [VS_EVENT_FILE_MODIFIED] = "file-modified",
    [VS_EVENT_FILE_DELETED] = "file-deleted",
    [VS_EVENT_SERVICE_CREATED] = "service-created",
    [VS_EVENT_SERVICE_MODIFIED] = "service-modified",
    [VS_EVENT_SERVICE_DELETED] = "service-deleted",
    [VS_EVENT_PACKAGE_INSTALLED] = "package-installed",
    [VS_EVENT_PACKAGE_UPGRADED] = "package-upgraded",
    [VS_EVENT_PACKAGE_REMOVED] = "package-removed",
};

const char *
vsEventTypeToString(vsEventType type)
{
    return type < VS_EVENT_LAST ? vsEventTypeNames[type] : "unknown";
}

gboolean
vsEventTypeFromString(const char *text, vsEventType *ret_type)
{
    for (int i = 0; i < VS_EVENT_LAST; i++) {
        if (g_strcmp0(text, vsEventTypeNames[i]) == 0) {
            *ret_type = (vsEventType)i;
            return TRUE;
        }
    }
    return FALSE;
}

vsEvent *
vsEventNew(vsEventType type, const char *path, const char *detail)
{
    vsEvent *event = g_new0(vsEvent, 1);

    event->type = type;
    event->path = g_strdup(path);
    event->detail = g_strdup(detail);
    return event;
}

void
vsEventFree(vsEvent *event)
{
    if (!event)
        return;
    g_free(event->path);
    g_free(event->detail);
    g_strfreev(event->depends);
    g_free(event);
}

/* The name of @path when it sits directly in @dir, else NULL. */
static const char *
vsManifestChildOf(const char *path, const char *dir)
{
    gsize len = strlen(dir);
    const char *name;

    if (strncmp(path, dir, len) != 0 || path[len] != '/')
        return NULL;
    name = path + len + 1;
    return *name && !strchr(name, '/') ? name : NULL;
}

const char *
vsManifestServiceKind(const char *path)
{
    static const char *const unit_dirs[] = {
        "/etc/systemd/system", "/lib/systemd/system", "/usr/lib/systemd/system",
    };
    static const char *const cron_job_dirs[] = {
        "/etc/cron.hourly", "/etc/cron.daily", "/etc/cron.weekly", "/etc/cron.monthly",
    };

    if (g_str_has_suffix(path, ".service") || g_str_has_suffix(path, ".timer")) {
        for (gsize i = 0; i < G_N_ELEMENTS(unit_dirs); i++) {
            gsize len = strlen(unit_dirs[i]);
            g_autofree char *dir = NULL;

            if (vsManifestChildOf(path, unit_dirs[i]))
                return "systemd unit";
            if (strncmp(path, unit_dirs[i], len) != 0 || path[len] != '/')
                continue;
            dir = g_path_get_dirname(path);
            if (vsManifestChildOf(dir, unit_dirs[i]) &&
                (g_str_has_suffix(dir, ".wants") || g_str_has_suffix(dir, ".requires")) &&
                vsManifestChildOf(path, dir))
                return "systemd unit enabled";
        }
    }
    if (vsManifestChildOf(path, "/etc/init.d"))
        return "init script";
    if (strcmp(path, "/etc/crontab") == 0 || vsManifestChildOf(path, "/etc/cron.d") ||
        vsManifestChildOf(path, "/var/spool/cron/crontabs"))
        return "cron entry";
    for (gsize i = 0; i < G_N_ELEMENTS(cron_job_dirs); i++)
        if (vsManifestChildOf(path, cron_job_dirs[i]))
            return "cron job";
    return NULL;
}

static void
vsManifestChange(GString *out, const char *text)
{
    if (out->len)
        g_string_append(out, ", ");
    g_string_append(out, text);
}

static char *
vsManifestChanges(const vsManifestEntry *a, const vsManifestEntry *b)
{
    g_autoptr(GString) out = g_string_new(NULL);

    if (a->type != b->type) {
        g_autofree char *text = g_strdup_printf("type %c -> %c", a->type, b->type);

        vsManifestChange(out, text);
    }
    if (a->mode != b->mode) {
        g_autofree char *text = g_strdup_printf("mode %04o -> %04o", a->mode, b->mode);

        vsManifestChange(out, text);
    }
    if (a->type == b->type && b->type != VS_MANIFEST_DIR) {
        if (a->size != b->size) {
            g_autofree char *text = g_strdup_printf("size %" G_GUINT64_FORMAT " -> %" G_GUINT64_FORMAT,
                                                    a->size, b->size);

            vsManifestChange(out, text);
        }
        if (g_strcmp0(a->sha256, b->sha256) != 0)
            vsManifestChange(out, "sha256");
        if (a->mtime != b->mtime)
            vsManifestChange(out, "mtime");
    }
    return out->len ? g_string_free(g_steal_pointer(&out), FALSE) : NULL;
}

static void
vsManifestAddEvents(GPtrArray *events, vsEventType file_type, vsEventType service_type,
                    const vsManifestEntry *entry, const char *detail)
{
    const char *kind = entry->type != VS_MANIFEST_DIR ? vsManifestServiceKind(entry->path) : NULL;

    g_ptr_array_add(events, vsEventNew(file_type, entry->path, detail));
    if (kind)
        g_ptr_array_add(events, vsEventNew(service_type, entry->path, kind));
}

static int
vsManifestComparePaths(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

void
vsManifestDiff(const vsManifest *before, const vsManifest *after, GPtrArray *events)
{
    g_autoptr(GPtrArray) paths = g_ptr_array_new();
    GHashTableIter iter;
    gpointer key;

    g_hash_table_iter_init(&iter, after->entries);
    while (g_hash_table_iter_next(&iter, &key, NULL))
        g_ptr_array_add(paths, key);
    g_hash_table_iter_init(&iter, before->entries);
    while (g_hash_table_iter_next(&iter, &key, NULL))
        if (!g_hash_table_contains(after->entries, key))
            g_ptr_array_add(paths, key);
    g_ptr_array_sort(paths, vsManifestComparePaths);

    for (guint i = 0; i < paths->len; i++) {
        const char *path = g_ptr_array_index(paths, i);
        const vsManifestEntry *a = g_hash_table_lookup(before->entries, path);
        const vsManifestEntry *b = g_hash_table_lookup(after->entries, path);
        g_autofree char *detail = NULL;

        if (!a) {
            detail = g_strdup_printf("%c %04o %" G_GUINT64_FORMAT, b->type, b->mode, b->size);
            vsManifestAddEvents(events, VS_EVENT_FILE_CREATED, VS_EVENT_SERVICE_CREATED, b, detail);
        } else if (!b) {
            detail = g_strdup_printf("%c", a->type);
            vsManifestAddEvents(events, VS_EVENT_FILE_DELETED, VS_EVENT_SERVICE_DELETED, a, detail);
        } else if ((detail = vsManifestChanges(a, b))) {
            vsManifestAddEvents(events, VS_EVENT_FILE_MODIFIED, VS_EVENT_SERVICE_MODIFIED, b, detail);
        }
    }
}

/* --- packages ------------------------------------------------------------ */

void
vsPackageFree(vsPackage *package)
{
    if (!package)
        return;
    g_free(package->name);
    g_free(package->version);
    g_strfreev(package->depends);
    g_free(package);
}

GHashTable *
vsPackagesNew(void)
{
    return g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)vsPackageFree);
}

/* "a (>= 1), b:any | c, d [amd64]" -> "a", "b|c", "d" appended to @out. */
static void
vsPackagesAddDepends(GStrvBuilder *out, const char *field)
{
    g_auto(GStrv) items = NULL;

    if (!field)
        return;
    items = g_strsplit(field, ",", -1);
    for (gsize i = 0; items[i]; i++) {
        g_auto(GStrv) alts = g_strsplit(items[i], "|", -1);
        g_autoptr(GString) dep = g_string_new(NULL);

        for (gsize j = 0; alts[j]; j++) {
            const char *p = alts[j];
            gsize n;

            while (g_ascii_isspace(*p))
                p++;
            n = strcspn(p, " \t(:[<");
            if (!n)
                continue;
            if (dep->len)
                g_string_append_c(dep, '|');
            g_string_append_len(dep, p, (gssize)n);
        }
        if (dep->len)
            g_strv_builder_add(out, dep->str);
    }
}

static gboolean
vsPackagesEndStanza(GHashTable *packages, GHashTable *fields, guint line, GError **error)
{
    const char *name = g_hash_table_lookup(fields, "package");
    const char *status = g_hash_table_lookup(fields, "status");
    g_autoptr(GStrvBuilder) depends = NULL;
    g_auto(GStrv) words = NULL;
    vsPackage *package;

    if (!g_hash_table_size(fields))
        return TRUE;
    if (!name) {
        g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
                    "dpkg status stanza ending at line %u has no Package field", line);
        return FALSE;
    }
    /* "WANT FLAG STATE": held packages are installed too */
    words = g_strsplit(status ? status : "", " ", -1);
    if (g_strv_length(words) != 3 || strcmp(words[2], "installed") != 0) {
        g_hash_table_remove_all(fields);
        return TRUE;
    }
    package = g_new0(vsPackage, 1);
    package->name = g_strdup(name);
    package->version = g_strdup(g_hash_table_lookup(fields, "version"));
    depends = g_strv_builder_new();
    vsPackagesAddDepends(depends, g_hash_table_lookup(fields, "pre-depends"));
    vsPackagesAddDepends(depends, g_hash_table_lookup(fields, "depends"));
    package->depends = g_strv_builder_end(depends);
    g_hash_table_replace(packages, package->name, package);
    g_hash_table_remove_all(fields);
    return TRUE;
}

GHashTable *
vsPackagesParseDpkg(const char *text, GError **error)
{
    g_autoptr(GHashTable) packages = vsPackagesNew();
    g_autoptr(GHashTable) fields = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    g_autofree char *last = NULL;
    guint i;

    for (i = 0; lines[i]; i++) {
        const char *line = lines[i];
        const char *colon;
        char *key;

        if (!*g_strchomp(lines[i])) {
            if (!vsPackagesEndStanza(packages, fields, i, error))
                return NULL;
            g_clear_pointer(&last, g_free);
            continue;
        }
        if (line[0] == ' ' || line[0] == '\t') {
            /* a continuation: Depends may be folded; Description is ignored */
            char *prev;

            if (!last) {
                g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
                            "dpkg status line %u: continuation without a field", i + 1);
                return NULL;
            }
            prev = g_hash_table_lookup(fields, last);
            g_hash_table_insert(fields, g_strdup(last), g_strconcat(prev ? prev : "", " ",
                                                                   g_strstrip(lines[i]), NULL));
            continue;
        }
        colon = strchr(line, ':');
        if (!colon || colon == line) {
            g_autofree char *shown = g_utf8_make_valid(line, MIN(strlen(line), 80));

            g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
                        "dpkg status line %u '%s': expected 'Field: value'", i + 1, shown);
            return NULL;
        }
        key = g_ascii_strdown(line, colon - line);
        g_free(last);
        last = g_strdup(key);
        g_hash_table_insert(fields, key, g_strstrip(g_strdup(colon + 1)));
    }
    if (!vsPackagesEndStanza(packages, fields, i, error))
        return NULL;
    return g_steal_pointer(&packages);
}

const char *const vsPackagesRpmQuery[] = {
    "-qa", "--qf", "%{NAME}\t%|EPOCH?{%{EPOCH}:}:{}|%{VERSION}-%{RELEASE}\t[%{REQUIRENAME},]\n",
    NULL,
};

GStrv
vsPackagesRpmCommand(const char *rpm, const char *const *options)
{
    g_autoptr(GStrvBuilder) argv = g_strv_builder_new();

    g_strv_builder_add(argv, rpm);
    if (options)
        g_strv_builder_addv(argv, (const char **)options);
    g_strv_builder_addv(argv, (const char **)vsPackagesRpmQuery);
    return g_strv_builder_end(argv);
}

/* Where rpm lives, in the order looked for (with a merged /usr, /bin is a
 * symlink and only /usr/bin/rpm shows in a manifest). */
static const char *const vsPackagesRpmPaths[] = { "/usr/bin/rpm", "/bin/rpm", NULL };
const char *const vsPackagesRpmDbDirs[] = { "/var/lib/rpm", "/usr/lib/sysimage/rpm", NULL };

const char *
vsPackagesRpmFind(const vsManifest *manifest)
{
    for (gsize i = 0; vsPackagesRpmPaths[i]; i++) {
        const vsManifestEntry *e = g_hash_table_lookup(manifest->entries, vsPackagesRpmPaths[i]);

        /* a symlink is no rpm: busybox's applet is one (/bin/rpm -> busybox) */
        if (e && e->type == VS_MANIFEST_FILE)
            return vsPackagesRpmPaths[i];
    }
    return NULL;
}

gboolean
vsPackagesRpmTouched(const char *path)
{
    for (gsize i = 0; vsPackagesRpmDbDirs[i]; i++) {
        gsize len = strlen(vsPackagesRpmDbDirs[i]);

        if (strncmp(path, vsPackagesRpmDbDirs[i], len) == 0 &&
            (path[len] == '\0' || path[len] == '/'))
            return TRUE;
    }
    return g_strv_contains(vsPackagesRpmPaths, path);
}

/* A plain package-like name: no path, no capability "x(...)", no soname. */
static gboolean
vsPackagesRpmIsName(const char *name)
{
    const char *so;

    if (!*name || name[0] == '/' || strpbrk(name, "() \t"))
        return FALSE;
    /* "libfoo.so", "libfoo.so.1" */
    for (so = strstr(name, ".so"); so; so = strstr(so + 1, ".so"))
        if (so[3] == '\0' || so[3] == '.')
            return FALSE;
    return TRUE;
}

/* One Requires name as a dependency, or NULL when it names no package:
 * "bash" stays, "(a >= 1 or b)" becomes "a|b", and files ("/bin/sh"),
 * rpmlib(...), sonames and other capabilities ("libc.so.6(GLIBC_2.34)",
 * "perl(Foo)", "config(x)") and other rich dependencies are dropped. */
static char *
vsPackagesRpmDepend(const char *require)
{
    g_autofree char *inner = NULL;
    g_auto(GStrv) alts = NULL;
    g_autoptr(GString) dep = g_string_new(NULL);
    gsize len = strlen(require);

    if (vsPackagesRpmIsName(require))
        return g_strdup(require);
    if (len < 2 || require[0] != '(' || require[len - 1] != ')')
        return NULL;
    inner = g_strndup(require + 1, len - 2);
    alts = g_strsplit(inner, " or ", -1);
    for (gsize i = 0; alts[i]; i++) {
        g_auto(GStrv) words = g_strsplit(g_strstrip(alts[i]), " ", -1);

        /* "a", or "a OP VERSION"; anything else is no plain alternative */
        if (!words[0] || !vsPackagesRpmIsName(words[0]) ||
            (words[1] && (!words[2] || words[3] || !strchr("<>=", words[1][0]))))
            return NULL;
        if (dep->len)
            g_string_append_c(dep, '|');
        g_string_append(dep, words[0]);
    }
    return dep->len ? g_string_free(g_steal_pointer(&dep), FALSE) : NULL;
}

/* "a,b,/bin/sh,a," -> "a", "b" (in order, once each). */
static char **
vsPackagesRpmDepends(const char *field)
{
    g_autoptr(GStrvBuilder) out = g_strv_builder_new();
    g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_auto(GStrv) items = g_strsplit(field ? field : "", ",", -1);

    for (gsize i = 0; items[i]; i++) {
        char *dep = vsPackagesRpmDepend(g_strstrip(items[i]));

        if (!dep)
            continue;
        if (g_hash_table_add(seen, dep))
            g_strv_builder_add(out, dep);
    }
    return g_strv_builder_end(out);
}

/* Several installed packages of one name (kernels, multilib): one entry,
 * its versions sorted and joined, its dependencies merged. */
static void
vsPackagesMerge(vsPackage *into, vsPackage *other)
{
    g_auto(GStrv) versions = g_strsplit(into->version, ", ", -1);
    g_autoptr(GStrvBuilder) all = g_strv_builder_new();
    g_autoptr(GStrvBuilder) depends = g_strv_builder_new();
    g_auto(GStrv) joined = NULL;
    g_autofree char *deps_joined = NULL;

    if (!g_strv_contains((const char *const *)versions, other->version)) {
        g_strv_builder_addv(all, (const char **)versions);
        g_strv_builder_add(all, other->version);
        joined = g_strv_builder_end(all);
        qsort(joined, g_strv_length(joined), sizeof(char *), vsManifestComparePaths);
        g_free(into->version);
        into->version = g_strjoinv(", ", joined);
    }
    g_strv_builder_addv(depends, (const char **)into->depends);
    for (gsize i = 0; other->depends && other->depends[i]; i++)
        if (!g_strv_contains((const char *const *)into->depends, other->depends[i]))
            g_strv_builder_add(depends, other->depends[i]);
    g_strfreev(into->depends);
    into->depends = g_strv_builder_end(depends);
}

GHashTable *
vsPackagesParseList(const char *text, GError **error)
{
    g_autoptr(GHashTable) packages = vsPackagesNew();
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);

    for (guint i = 0; lines[i]; i++) {
        g_auto(GStrv) fields = NULL;
        g_autoptr(vsPackage) package = NULL;
        vsPackage *old;
        guint n;

        if (!*g_strstrip(lines[i]))
            continue;
        fields = g_strsplit(lines[i], "\t", -1);
        n = g_strv_length(fields);
        if ((n != 2 && n != 3) || !*fields[0] || !*fields[1]) {
            g_autofree char *shown = g_utf8_make_valid(lines[i], MIN(strlen(lines[i]), 80));

            g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
                        "package list line %u '%s': expected NAME<TAB>VERSION[<TAB>REQUIRES]",
                        i + 1, shown);
            return NULL;
        }
        /* rpm's imported signing keys, not software */
        if (strcmp(fields[0], "gpg-pubkey") == 0)
            continue;
        package = g_new0(vsPackage, 1);
        package->name = g_strdup(fields[0]);
        package->version = g_strdup(fields[1]);
        package->depends = vsPackagesRpmDepends(n == 3 ? fields[2] : NULL);
        if ((old = g_hash_table_lookup(packages, package->name))) {
            vsPackagesMerge(old, package);
        } else {
            vsPackage *added = g_steal_pointer(&package);

            g_hash_table_replace(packages, added->name, added);
        }
    }
    return g_steal_pointer(&packages);
}

static vsEvent *
vsPackagesEvent(vsEventType type, const vsPackage *package, const char *detail)
{
    vsEvent *event = vsEventNew(type, package->name, detail);

    if (type != VS_EVENT_PACKAGE_REMOVED)
        event->depends = g_strdupv(package->depends ? package->depends : (char *[]){ NULL });
    return event;
}

void
vsPackagesDiff(GHashTable *before, GHashTable *after, GPtrArray *events)
{
    g_autoptr(GPtrArray) names = g_ptr_array_new();
    GHashTableIter iter;
    gpointer key;

    g_hash_table_iter_init(&iter, after);
    while (g_hash_table_iter_next(&iter, &key, NULL))
        g_ptr_array_add(names, key);
    g_hash_table_iter_init(&iter, before);
    while (g_hash_table_iter_next(&iter, &key, NULL))
        if (!g_hash_table_contains(after, key))
            g_ptr_array_add(names, key);
    g_ptr_array_sort(names, vsManifestComparePaths);

    for (guint i = 0; i < names->len; i++) {
        const vsPackage *a = g_hash_table_lookup(before, g_ptr_array_index(names, i));
        const vsPackage *b = g_hash_table_lookup(after, g_ptr_array_index(names, i));

        if (!a) {
            g_ptr_array_add(events, vsPackagesEvent(VS_EVENT_PACKAGE_INSTALLED, b, b->version));
        } else if (!b) {
            g_ptr_array_add(events, vsPackagesEvent(VS_EVENT_PACKAGE_REMOVED, a, a->version));
        } else if (g_strcmp0(a->version, b->version) != 0) {
            g_autofree char *detail = g_strdup_printf("%s -> %s", a->version ? a->version : "?",
                                                      b->version ? b->version : "?");

            g_ptr_array_add(events, vsPackagesEvent(VS_EVENT_PACKAGE_UPGRADED, b, detail));
        }
    }
}
