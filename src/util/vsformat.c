/*
 * vsformat.c: printf into a GString for the few conversions hot paths use,
 * without printf
 */
#include <config.h>

#include <math.h>
#include <string.h>

#include "vsformat.h"

char *
vsFormatUInt(guint64 n, char *end)
{
    do {
        *--end = '0' + n % 10;
        n /= 10;
    } while (n);
    return end;
}

/* @x as "%.*f" with @decimals (up to 3) prints it, exactly: |x| x 10^d is
 * rounded to the nearest integer, ties to even, from the double's exact
 * binary value, as glibc does.  Beyond 2^52, or not finite: printf. */
static void
vsFormatFixed(GString *s, double x, guint decimals)
{
    static const guint64 scale[] = { 1, 10, 100, 1000 };
    char digits[32];
    char *end = digits + sizeof(digits), *start, *point;
    guint64 m, q;
    int e;

    if (!isfinite(x) || fabs(x) >= 0x1p52 || decimals >= G_N_ELEMENTS(scale)) {
        g_string_append_printf(s, "%.*f", (int)decimals, x);
        return;
    }
    /* |x| = m x 2^e, m < 2^53, and m x 10^d < 2^63 */
    m = (guint64)ldexp(fabs(frexp(x, &e)), 53) * scale[decimals];
    e -= 53;
    if (e >= 0) {
        q = m << e;
    } else if (e <= -64) {
        q = 0;      /* below 2^63 x 2^-64: under a half */
    } else {
        guint64 r = m & ((G_GUINT64_CONSTANT(1) << -e) - 1);
        guint64 half = G_GUINT64_CONSTANT(1) << (-e - 1);

        q = m >> -e;
        q += r > half || (r == half && (q & 1));
    }
    /* the integer digits end at the point, or at the end */
    point = decimals ? end - decimals - 1 : end;
    start = vsFormatUInt(q / scale[decimals], point);
    if (decimals) {
        guint64 frac = q % scale[decimals];

        *point = '.';
        for (guint i = decimals; i > 0; i--, frac /= 10)
            point[i] = '0' + frac % 10;
    }
    if (signbit(x))
        g_string_append_c(s, '-');
    g_string_append_len(s, start, end - start);
}

/* Whether every conversion in @fmt is one vsStringAppendVprintf writes
 * itself: "%s", "%u", "%.Nf" with N up to 3, and "%%". */
static gboolean
vsFormatIsSimple(const char *fmt)
{
    for (const char *p = strchr(fmt, '%'); p; p = strchr(p, '%')) {
        if (p[1] == 's' || p[1] == 'u' || p[1] == '%')
            p += 2;
        else if (p[1] == '.' && p[2] >= '0' && p[2] <= '3' && p[3] == 'f')
            p += 4;
        else
            return FALSE;
    }
    return TRUE;
}

void
vsStringAppendVprintf(GString *s, const char *fmt, va_list ap)
{
    const char *p = fmt;

    /* checked whole first: the arguments can be read only once */
    if (!vsFormatIsSimple(fmt)) {
        g_string_append_vprintf(s, fmt, ap);
        return;
    }
    for (const char *pc; (pc = strchr(p, '%')); ) {
        g_string_append_len(s, p, pc - p);
        if (pc[1] == 's') {
            const char *arg = va_arg(ap, const char *);

            g_string_append(s, arg ? arg : "(null)");
            p = pc + 2;
        } else if (pc[1] == 'u') {
            char digits[24];
            char *start = vsFormatUInt(va_arg(ap, guint), digits + sizeof(digits));

            g_string_append_len(s, start, digits + sizeof(digits) - start);
            p = pc + 2;
        } else if (pc[1] == '%') {
            g_string_append_c(s, '%');
            p = pc + 2;
        } else {
            vsFormatFixed(s, va_arg(ap, double), pc[2] - '0');
            p = pc + 4;
        }
    }
    g_string_append(s, p);
}

void
vsStringAppendPrintf(GString *s, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsStringAppendVprintf(s, fmt, ap);
    va_end(ap);
}
