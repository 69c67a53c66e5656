/*
 * vsmanifest.h: a guest's file manifest, the diff of two, and package lists
 *
 * The guest prints its manifest by running VS_MANIFEST_ARGV followed by
 * the roots to scan (default VS_MANIFEST_DEFAULT_ROOT).  The script is a
 * constant: nothing from the user is ever part of it.  It needs only
 * find, stat -c and sha256sum, as in busybox or GNU coreutils/findutils,
 * and prints two sections:
 *
 *   RAWMODE<TAB>PERMS<TAB>SIZE<TAB>MTIME<TAB>PATH     one line per entry
 *   #sha256
 *   HASH<SPACE><SPACE>PATH                           regular files <= 64 KiB
 *
 * (RAWMODE is stat's %f, the st_mode in hex.)  vsManifestParse() joins
 * them into entries: type (f, d, l, or o for fifos, sockets and devices),
 * mode (permission bits), size, mtime, sha256 or NULL, path.
 *
 * The pruned paths are VS_MANIFEST_EXCLUDED; entries whose name holds a
 * tab or a newline are skipped with what is under them, as they could not
 * be told from the record separators.  The runner stages its own files
 * under /tmp, which is pruned, so they never show up.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define VS_MANIFEST_DEFAULT_ROOT "/"
/* Files at most this large get a hash. */
#define VS_MANIFEST_HASH_MAX 65536

/* Pruned from every scan: kernel and runtime file systems, and /tmp. */
extern const char *const vsManifestExcluded[];

/* The manifest command without its roots, NULL-terminated:
 * /bin/sh -c SCRIPT sh; the roots follow as the script's "$@". */
extern const char *const vsManifestArgv[];

/* The full argv for @roots (NULL: the default root). */
GStrv vsManifestCommand(const char *const *roots);

typedef enum {
    VS_MANIFEST_FILE = 'f',
    VS_MANIFEST_DIR = 'd',
    VS_MANIFEST_LINK = 'l',
    VS_MANIFEST_OTHER = 'o',
} vsManifestType;

typedef struct _vsManifestEntry vsManifestEntry;
struct _vsManifestEntry {
    char *path;
    vsManifestType type;
    guint mode;             /* permission bits, 07777 */
    guint64 size;
    gint64 mtime;           /* seconds since the epoch */
    char *sha256;           /* lower-case hex; NULL unless a file <= 64 KiB */
};

void vsManifestEntryFree(vsManifestEntry *entry);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vsManifestEntry, vsManifestEntryFree)

typedef struct _vsManifest vsManifest;
struct _vsManifest {
    GHashTable *entries;    /* path -> vsManifestEntry */
};

vsManifest *vsManifestNew(void);
void vsManifestFree(vsManifest *manifest);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vsManifest, vsManifestFree)

/* Parse the command's output (@len bytes).  VS_ERROR_INVALID names the
 * line and what is wrong with it; a hash for a path with no entry is
 * ignored (the file appeared between the two scans). */
vsManifest *vsManifestParse(const char *text, gsize len, GError **error);

/* --- events ------------------------------------------------------------- */

typedef enum {
    VS_EVENT_FILE_CREATED,
    VS_EVENT_FILE_MODIFIED,
    VS_EVENT_FILE_DELETED,
    VS_EVENT_SERVICE_CREATED,
    VS_EVENT_SERVICE_MODIFIED,
    VS_EVENT_SERVICE_DELETED,
    VS_EVENT_PACKAGE_INSTALLED,
    VS_EVENT_PACKAGE_UPGRADED,
    VS_EVENT_PACKAGE_REMOVED,
    VS_EVENT_LAST
} vsEventType;

/* "file-created", "service-created", "package-installed", ... */
const char *vsEventTypeToString(vsEventType type);
gboolean vsEventTypeFromString(const char *text, vsEventType *ret_type);

typedef struct _vsEvent vsEvent;
struct _vsEvent {
    vsEventType type;
    char *path;         /* file and service events: the path; package events: the name */
    char *detail;       /* file: what changed ("size 3 -> 9, sha256");
                         * service: "systemd unit", "init script", "cron entry", ...;
                         * package: the version, or "OLD -> NEW" */
    char **depends;     /* package installed or upgraded: the package names it
                         * depends on (Pre-Depends then Depends, "a|b" for
                         * alternatives); NULL otherwise */
};

vsEvent *vsEventNew(vsEventType type, const char *path, const char *detail);
void vsEventFree(vsEvent *event);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vsEvent, vsEventFree)

/* What kind of service @path is ("systemd unit", "systemd unit enabled",
 * "init script", "cron entry", "cron job"), or NULL for an ordinary file:
 *   *.service and *.timer in /etc/systemd/system, /lib/systemd/system,
 *   /usr/lib/systemd/system (in a *.wants or *.requires directory there:
 *   enabled); /etc/init.d/NAME; /etc/crontab, /etc/cron.d/NAME,
 *   /var/spool/cron/crontabs/NAME; /etc/cron.{hourly,daily,weekly,monthly}/NAME. */
const char *vsManifestServiceKind(const char *path);

/* The events turning @before into @after, sorted by path, a file event
 * before the service event of the same path: created, deleted, and
 * modified when the type, mode, size, mtime or hash differ (detail lists
 * what).  A directory counts as modified on a type or mode change only:
 * its mtime moves with every entry made in it, and those have events of
 * their own.  Appends vsEvent to @events. */
void vsManifestDiff(const vsManifest *before, const vsManifest *after, GPtrArray *events);

/* --- packages ------------------------------------------------------------ */

typedef struct _vsPackage vsPackage;
struct _vsPackage {
    char *name;
    char *version;
    char **depends;     /* names, as in vsEvent */
};

void vsPackageFree(vsPackage *package);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vsPackage, vsPackageFree)

/* name -> vsPackage */
GHashTable *vsPackagesNew(void);

/* The installed packages (Status "install ok installed" or "hold ok
 * installed"; half-installed and config-files ones are not) of a dpkg status file
 * (/var/lib/dpkg/status).  Version constraints and architecture
 * qualifiers are stripped from dependencies.  VS_ERROR_INVALID names the
 * line of a stanza without a Package field or a line that is no field. */
GHashTable *vsPackagesParseDpkg(const char *text, GError **error);

/* The rpm query after the program (and any options such as --dbpath),
 * NULL-terminated: -qa --qf FORMAT, which prints one line per installed
 * package: "NAME<TAB>[EPOCH:]VERSION-RELEASE<TAB>REQ1,REQ2,...," (the
 * Requires names). */
extern const char *const vsPackagesRpmQuery[];

/* The guest's rpm as @manifest shows it ("/usr/bin/rpm" or "/bin/rpm", a
 * regular file), or NULL: a guest without it has no rpm packages.  A
 * symlink is not taken: busybox's rpm applet is one, and cannot run the
 * query. */
const char *vsPackagesRpmFind(const vsManifest *manifest);

/* rpm's database directories, in its old and its current place
 * ("/var/lib/rpm", "/usr/lib/sysimage/rpm"), NULL-terminated. */
extern const char *const vsPackagesRpmDbDirs[];

/* Whether a file event on @path may have changed what rpm reports: a
 * change under its database (/var/lib/rpm, /usr/lib/sysimage/rpm) or to
 * rpm itself. */
gboolean vsPackagesRpmTouched(const char *path);

/* The full argv: @rpm (its absolute path), @options (may be NULL), then
 * vsPackagesRpmQuery. */
GStrv vsPackagesRpmCommand(const char *rpm, const char *const *options);

/* The packages in "NAME<TAB>VERSION[<TAB>REQUIRES]" lines, as the rpm
 * query prints them.  Dependencies are the Requires that name a package:
 * "bash" stays, a rich "(a >= 1 or b)" becomes "a|b"; files ("/bin/sh"),
 * rpmlib(...), sonames and other capabilities ("libc.so.6(GLIBC_2.34)",
 * "perl(Foo)", "config(x)") are dropped, as no package name can be told
 * from them without asking rpm which package provides each.  Each is kept
 * once, in order.  rpm's gpg-pubkey entries are skipped; several packages
 * of one name (kernels, multilib) become one, versions sorted and joined
 * with ", ", dependencies merged.  VS_ERROR_INVALID names a bad line. */
GHashTable *vsPackagesParseList(const char *text, GError **error);

/* Package events from @before to @after, sorted by name. */
void vsPackagesDiff(GHashTable *before, GHashTable *after, GPtrArray *events);

G_END_DECLS
