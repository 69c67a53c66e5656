/*
 * vsformat.h: printf into a GString for the few conversions hot paths use,
 * without printf
 *
 * g_string_append_printf of doubles was measured to cost more than the
 * allocator's decision rules for 10,000 domains; these write the same
 * bytes for a handful of conversions and leave the rest to GLib.
 */
#pragma once

#include <stdarg.h>

#include <glib.h>

G_BEGIN_DECLS

/* The decimal digits of @n, as "%" G_GUINT64_FORMAT prints them, written
 * right to left so that they end at @end (exclusive); returns where they
 * start.  At most 20 characters are written before @end.  No terminator. */
char *vsFormatUInt(guint64 n, char *end);

/* Append @fmt to @s as g_string_append_vprintf(@s, @fmt, @ap) does.  A
 * format whose conversions are all "%s", "%u", "%%" or "%.Nf" with N from
 * 0 to 3 (no flags, widths or length modifiers) is written here, without
 * printf: strings as they are (NULL as "(null)", like glibc), numbers to
 * the same digits glibc prints (ties to even, from the double's exact
 * value; infinities, NaN and |x| >= 2^52 go to printf).  Any other
 * format goes to g_string_append_vprintf whole.  The one difference: a
 * finite "%.Nf" below 2^52 always gets '.' for its decimal point, where
 * printf writes LC_NUMERIC's (',' in de_DE, which the binaries take from
 * the environment).  @ap is consumed, as by vprintf. */
void vsStringAppendVprintf(GString *s, const char *fmt, va_list ap) G_GNUC_PRINTF(2, 0);

/* vsStringAppendVprintf with its arguments in line. */
void vsStringAppendPrintf(GString *s, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

G_END_DECLS
