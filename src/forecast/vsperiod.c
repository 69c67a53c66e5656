/*
 * vsperiod.c: the season length of a series, or none
 *
 * 1. Gaps are filled by linear interpolation, the largest spikes are
 *    clipped (so a few of them cannot make a period), the least-squares
 *    line is removed, and a Hann-windowed periodogram is taken with a
 *    radix-2 FFT zero-padded to at least 1.5 times the length.
 * 2. Each bin's contrast is its power over the median power of the bins on
 *    either side.  Judging a line against its own neighbourhood is what
 *    keeps random walks, trends and coloured noise (smooth spectra) from
 *    producing periods.
 * 3. Candidates come from two places: the strongest lines, each with its
 *    fundamental (a lower line it is a harmonic of), and the peaks of the
 *    harmonic sum, the cosine transform of the lines' excess contrast.  A
 *    spiky season (a nightly job) spreads over a comb of harmonics whose
 *    fundamental may be too weak to stand out alone; the harmonic sum
 *    gathers the whole comb at its period.
 * 4. Each candidate is confirmed in the time domain: the series minus its
 *    moving average over the candidate length (which keeps a season of that
 *    length whole and removes anything slower) must correlate with itself
 *    one period later above a floor, far above what the remainder's own
 *    memory yields by chance (Bartlett), and clearly more than half a
 *    period away (else half the period is tried).  The lag leaves the
 *    spectral estimate only for a clearly better one.
 * 5. The strongest confirmed candidate wins, unless a confirmed divisor of
 *    it is nearly as strong or explains its profile: then the shorter
 *    (fundamental) period wins.
 *
 * About 12 million instructions (2 ms) for 8,640 points: two FFTs of
 * 16,384 points, and a few passes over the series per candidate.
 */
#include <config.h>

#include <math.h>
#include <string.h>

#include "vsperiod.h"

/* A line must stand this many times above the local background.  Under
 * white noise a bin exceeds it with odds of about e^-(0.69 * 12) ~ 2.5e-4,
 * and the correlation check must agree as well. */
#define VS_PERIOD_MIN_CONTRAST 12.0
/* Fourier bins each side of a bin left out of its background (the Hann
 * main lobe is +-2 bins), and the bins in each background window. */
#define VS_PERIOD_GUARD_BINS 3.0
#define VS_PERIOD_BACKGROUND_BINS 8
/* Contrast below this adds nothing to the harmonic sum (noise bins exceed
 * it with odds of about 1.6%). */
#define VS_PERIOD_COMB_FLOOR 6.0
/* A harmonic-sum peak must hold this share of all the excess contrast. */
#define VS_PERIOD_MIN_COMB 0.2
/* Lines taken (each with its fundamental) and harmonic-sum peaks taken,
 * with room for the shorter seasons their confirmation suggests. */
#define VS_PERIOD_MAX_LINES 6
#define VS_PERIOD_MAX_COMBS 8
#define VS_PERIOD_MAX_CANDIDATES (2 * (2 * VS_PERIOD_MAX_LINES + VS_PERIOD_MAX_COMBS))
/* The largest deviations from the median clipped, as a share. */
#define VS_PERIOD_CLIP_SHARE 0.01
/* The shortest moving average used to remove slow components. */
#define VS_PERIOD_MIN_WINDOW 24
/* The lagged correlation a season must reach, whatever the length ... */
#define VS_PERIOD_MIN_CORRELATION 0.2
/* ... and how many standard errors it must clear: 1/sqrt(n) for white
 * noise, more for a remainder with memory (Bartlett). */
#define VS_PERIOD_NOISE_SIGMAS 4.0
/* A divisor of the winner is preferred when its own correlation is this
 * close (for a multiple up to this), or when folding the winner's profile
 * at the divisor leaves at most this share unexplained (or noise only). */
#define VS_PERIOD_FUNDAMENTAL_RATIO 0.8
#define VS_PERIOD_FUNDAMENTAL_MULTIPLE 4
#define VS_PERIOD_UNEXPLAINED 0.2

typedef struct {
    double period;          /* estimate, in steps */
    double contrast;        /* evidence: the line's (or comb's best) contrast */
    gssize radius;          /* lags searched either side of the estimate */
    guint lag;              /* confirmed lag, 0 if rejected */
    double corr;            /* lagged correlation at @lag */
} vsPeriodCandidate;

typedef struct {
    double bin;             /* interpolated padded bin */
    double contrast;
} vsPeriodLine;

/* Values on [lo, hi) with prefix sums, for O(1) means and variances. */
typedef struct {
    double *v;
    double *sum;            /* sum[t] = v[lo] + ... + v[t - 1], t in [lo, hi] */
    double *sq;             /* the same for squares */
    gsize lo, hi;
} vsPeriodSeries;

/* What the stages share. */
typedef struct {
    gsize n;                /* observations */
    gsize N, M;             /* padded length, N / 2 */
    double pad;             /* padded bins per Fourier bin, N / n */
    const double *y;        /* the filled, clipped series */
    double *prefix;         /* prefix[i] = y[0] + ... + y[i - 1] */
    double *power;          /* tapered periodogram, bins 0..M */
    double *contrast;       /* power over background, bins 0..M */
    double *comb;           /* harmonic sum, lags 0..M */
    double *tw;             /* FFT twiddles */
    vsPeriodSeries z;       /* the series high-passed for one candidate */
    gsize z_window;         /* ... over this window (0: none yet) */
    vsPeriodSeries e;       /* its remainder once the season is removed */
    gssize min_lag, max_lag;
    double threshold;       /* correlation floor */
} vsPeriodWork;

/* Fill NaN by linear interpolation between the nearest finite values
 * (nearest value at the ends).  Returns how many values were finite. */
static gsize
vsPeriodImpute(const double *y, gsize n, double *out)
{
    gsize finite = 0;
    gssize prev = -1;
    gsize i, j;

    for (i = 0; i < n; i++) {
        if (!isfinite(y[i]))
            continue;
        finite++;
        out[i] = y[i];
        if (prev < 0) {
            for (j = 0; j < i; j++)
                out[j] = y[i];
        } else {
            for (j = prev + 1; j < i; j++)
                out[j] = y[prev] + (y[i] - y[prev]) * (double)(j - prev) / (double)(i - prev);
        }
        prev = i;
    }
    if (prev >= 0) {
        for (j = prev + 1; j < n; j++)
            out[j] = y[prev];
    }
    return finite;
}

/* Observed values that differ from the previous observed one: the
 * information a series carries (runs of zeros or of one value add none). */
static gsize
vsPeriodChanges(const double *y, gsize n)
{
    gsize changes = 0;
    gsize i;

    for (i = 1; i < n; i++) {
        if (isfinite(y[i]) && isfinite(y[i - 1]) && y[i] != y[i - 1])
            changes++;
    }
    return changes;
}

/* The @k-th smallest of @v[0..n-1] (which it reorders): quickselect with
 * a median-of-three pivot, no comparison callbacks. */
static double
vsPeriodSelect(double *v, gsize n, gsize k)
{
    gsize left = 0, right = n - 1;

    while (right > left) {
        double a = v[left], b = v[(left + right) / 2], c = v[right];
        double pivot = a < b ? (b < c ? b : MAX(a, c)) : (a < c ? a : MAX(b, c));
        gsize i = left, j = right;

        while (i <= j) {
            while (v[i] < pivot)
                i++;
            while (v[j] > pivot)
                j--;
            if (i <= j) {
                double t = v[i];

                v[i] = v[j];
                v[j] = t;
                i++;
                if (j == 0)
                    break;
                j--;
            }
        }
        if (k <= j)
            right = j;
        else if (k >= i)
            left = i;
        else
            return v[k];
    }
    return v[k];
}

/* Clip the largest VS_PERIOD_CLIP_SHARE of deviations from the median
 * (among values off the median: a mostly idle series keeps its bursts).
 * A few huge spikes otherwise dominate every correlation: two of them L
 * steps apart make a period of L, and a comb of lines 1/L apart in the
 * spectrum. */
static void
vsPeriodClip(double *y, gsize n)
{
    g_autofree double *v = g_memdup2(y, n * sizeof(double));
    double median = vsPeriodSelect(v, n, n / 2), limit;
    gsize off = 0, i;

    for (i = 0; i < n; i++) {
        if (y[i] != median)
            v[off++] = fabs(y[i] - median);
    }
    if (off == 0)
        return;
    limit = vsPeriodSelect(v, off, (gsize)((1.0 - VS_PERIOD_CLIP_SHARE) * (off - 1)));
    for (i = 0; i < n; i++)
        y[i] = CLAMP(y[i], median - limit, median + limit);
}

/* @tw = exp(-2 pi i k / N) for k < N / 2, interleaved (re, im); cos and
 * sin only on the first eighth, the rest by symmetry. */
static void
vsPeriodTwiddles(gsize N, double *tw)
{
    gsize quarter = N / 4, eighth = N / 8;
    gsize k;

    for (k = 0; k <= eighth; k++) {
        double a = 2.0 * G_PI * (double)k / (double)N;

        tw[2 * k] = cos(a);
        tw[2 * k + 1] = -sin(a);
    }
    /* pi/2 - a swaps cos and sin */
    for (k = eighth + 1; k < quarter; k++) {
        tw[2 * k] = -tw[2 * (quarter - k) + 1];
        tw[2 * k + 1] = -tw[2 * (quarter - k)];
    }
    /* a quarter turn further: (c, -s) times -i is (-s, -c) */
    for (k = 0; k < quarter; k++) {
        tw[2 * (k + quarter)] = tw[2 * k + 1];
        tw[2 * (k + quarter) + 1] = -tw[2 * k];
    }
}

/* In-place radix-2 complex FFT of @a (M interleaved values, M a power of
 * two) with twiddles @tw of a transform @stride times longer. */
static void
vsPeriodFft(double *a, gsize M, const double *tw, gsize stride)
{
    gsize i, j, len;

    for (i = 1, j = 0; i < M; i++) {
        gsize bit = M >> 1;

        for (; j & bit; bit >>= 1)
            j ^= bit;
        j ^= bit;
        if (i < j) {
            double re = a[2 * i], im = a[2 * i + 1];

            a[2 * i] = a[2 * j];
            a[2 * i + 1] = a[2 * j + 1];
            a[2 * j] = re;
            a[2 * j + 1] = im;
        }
    }
    for (len = 2; len <= M; len <<= 1) {
        gsize half = len / 2;
        gsize step = (M / len) * stride;
        gsize k;

        for (k = 0; k < half; k++) {
            double wr = tw[2 * k * step], wi = tw[2 * k * step + 1];

            for (i = k; i < M; i += len) {
                double *u = a + 2 * i, *v = a + 2 * (i + half);
                double vr = v[0] * wr - v[1] * wi;
                double vi = v[0] * wi + v[1] * wr;

                v[0] = u[0] - vr;
                v[1] = u[1] - vi;
                u[0] += vr;
                u[1] += vi;
            }
        }
    }
}

/* DFT X_k, k = 0..N/2, of the real @x[0..len-1] zero-padded to @N, through
 * one complex FFT of N/2 points (even samples real, odd imaginary).
 * @im may be NULL. */
static void
vsPeriodRealDft(const double *x, gsize len, gsize N, const double *tw,
                double *re, double *im)
{
    gsize M = N / 2;
    g_autofree double *a = g_new0(double, N);
    gsize k;

    memcpy(a, x, len * sizeof(double));
    vsPeriodFft(a, M, tw, 2);
    for (k = 0; k <= M; k++) {
        gsize p = k % M, q = (M - k) % M;
        double zr = a[2 * p], zi = a[2 * p + 1];
        double cr = a[2 * q], ci = -a[2 * q + 1];   /* conj(Z[M-k]) */
        /* the even samples' DFT E and the odd samples' O */
        double er = 0.5 * (zr + cr), ei = 0.5 * (zi + ci);
        double or_ = 0.5 * (zi - ci), oi = -0.5 * (zr - cr);
        double wr = k < M ? tw[2 * k] : -1.0, wi = k < M ? tw[2 * k + 1] : 0.0;

        re[k] = er + wr * or_ - wi * oi;
        if (im)
            im[k] = ei + wr * oi + wi * or_;
    }
}

/* The cosine transform out[t] = sum_k c_k half[k] cos(2 pi k t / N),
 * t = 0..M, of the even sequence whose first M + 1 terms are @half (the
 * inverse DFT of a real, symmetric spectrum, up to a factor). */
static void
vsPeriodEvenDft(const double *half, gsize M, const double *tw, double *out)
{
    g_autofree double *full = g_new(double, 2 * M);
    gsize k;

    memcpy(full, half, (M + 1) * sizeof(double));
    for (k = 1; k < M; k++)
        full[2 * M - k] = half[k];
    vsPeriodRealDft(full, 2 * M, 2 * M, tw, out, NULL);
}

/* The series minus its least-squares line, Hann-windowed. */
static void
vsPeriodTaper(const double *y, gsize n, double *out)
{
    double tm = (n - 1) / 2.0, sy = 0, sty = 0, stt = 0, slope, mean;
    double c2, cprev, ccur;
    gsize i;

    for (i = 0; i < n; i++) {
        sy += y[i];
        sty += (i - tm) * y[i];
        stt += (i - tm) * (i - tm);
    }
    mean = sy / n;
    slope = stt > 0 ? sty / stt : 0;
    /* cos(i a) by the Chebyshev recurrence: no libm call per value */
    c2 = 2.0 * cos(2.0 * G_PI / (n - 1));
    cprev = cos(2.0 * G_PI / (n - 1));
    ccur = 1.0;
    for (i = 0; i < n; i++) {
        double cnext = c2 * ccur - cprev;

        out[i] = 0.5 * (1.0 - ccur) * (y[i] - mean - slope * (i - tm));
        cprev = ccur;
        ccur = cnext;
    }
}

#define VS_PERIOD_SORT2(a, b) do { \
        double lo_ = MIN(v[a], v[b]), hi_ = MAX(v[a], v[b]); \
        v[a] = lo_; \
        v[b] = hi_; \
    } while (0)

/* Median of the @m (<= VS_PERIOD_BACKGROUND_BINS) values in @v, which it
 * sorts: a sorting network for a full window, insertion sort otherwise. */
static double
vsPeriodMedian(double *v, guint m)
{
    guint i, j;

    if (m == 8) {
        VS_PERIOD_SORT2(0, 1); VS_PERIOD_SORT2(2, 3); VS_PERIOD_SORT2(4, 5); VS_PERIOD_SORT2(6, 7);
        VS_PERIOD_SORT2(0, 2); VS_PERIOD_SORT2(1, 3); VS_PERIOD_SORT2(4, 6); VS_PERIOD_SORT2(5, 7);
        VS_PERIOD_SORT2(1, 2); VS_PERIOD_SORT2(5, 6); VS_PERIOD_SORT2(0, 4); VS_PERIOD_SORT2(3, 7);
        VS_PERIOD_SORT2(1, 5); VS_PERIOD_SORT2(2, 6);
        VS_PERIOD_SORT2(1, 4); VS_PERIOD_SORT2(3, 6);
        VS_PERIOD_SORT2(2, 4); VS_PERIOD_SORT2(3, 5);
        VS_PERIOD_SORT2(3, 4);
        return 0.5 * (v[3] + v[4]);
    }
    for (i = 1; i < m; i++) {
        double x = v[i];

        for (j = i; j > 0 && v[j - 1] > x; j--)
            v[j] = v[j - 1];
        v[j] = x;
    }
    return m % 2 ? v[m / 2] : 0.5 * (v[m / 2 - 1] + v[m / 2]);
}

/* The spectral background around padded bin @j: the geometric mean of the
 * medians of VS_PERIOD_BACKGROUND_BINS bins on either side, one Fourier bin
 * apart (nearly independent values) beyond a guard.  The spectrum mirrors
 * about Nyquist.  Near zero frequency the left side is missing; the right
 * side alone then assumes the background may fall as steeply as a random
 * walk's (1/f^2), which only errs towards no period.  0 when there is no
 * room for a background. */
static double
vsPeriodBackground(const vsPeriodWork *w, const gsize *offset, gsize j)
{
    double left[VS_PERIOD_BACKGROUND_BINS], right[VS_PERIOD_BACKGROUND_BINS];
    gsize first = (gsize)ceil(w->pad);     /* one cycle in the record */
    guint nl = 0, nr = 0, i;
    double k = j / w->pad, kr;

    for (i = 0; i < VS_PERIOD_BACKGROUND_BINS; i++) {
        if (j >= first + offset[i])
            left[nl++] = w->power[j - offset[i]];
        if (j + offset[i] <= w->M)
            right[nr++] = w->power[j + offset[i]];
        else if (j + offset[i] < w->N - first)
            right[nr++] = w->power[w->N - j - offset[i]];
    }
    if (nr < VS_PERIOD_BACKGROUND_BINS / 2)
        return 0;
    if (nl >= VS_PERIOD_BACKGROUND_BINS / 2)
        return sqrt(vsPeriodMedian(left, nl) * vsPeriodMedian(right, nr));
    kr = k + VS_PERIOD_GUARD_BINS + (nr - 1) / 2.0;
    return vsPeriodMedian(right, nr) * (kr / k) * (kr / k);
}

/* Every bin's contrast from two cycles up; below, 0.  The background is
 * smooth, so it is taken at every other bin. */
static void
vsPeriodContrast(vsPeriodWork *w)
{
    gsize offset[VS_PERIOD_BACKGROUND_BINS];
    gsize from = (gsize)ceil(2 * w->pad);
    double bg = 0;
    gsize j;

    for (j = 0; j < VS_PERIOD_BACKGROUND_BINS; j++)
        offset[j] = (gsize)lround((VS_PERIOD_GUARD_BINS + j) * w->pad);
    for (j = 0; j <= w->M; j++) {
        if (j < from) {
            w->contrast[j] = 0;
            continue;
        }
        if (j == from || j % 2 == 0)
            bg = vsPeriodBackground(w, offset, j);
        w->contrast[j] = bg > 0 ? w->power[j] / bg : 0;
    }
}

/* Periodogram, contrast and harmonic sum of the filled series. */
static void
vsPeriodSpectra(vsPeriodWork *w)
{
    g_autofree double *x = g_new(double, w->n);
    g_autofree double *im = g_new(double, w->M + 1);
    g_autofree double *excess = g_new(double, w->M + 1);
    gsize k;

    vsPeriodTaper(w->y, w->n, x);
    vsPeriodRealDft(x, w->n, w->N, w->tw, w->power, im);
    for (k = 0; k <= w->M; k++)
        w->power[k] = w->power[k] * w->power[k] + im[k] * im[k];
    vsPeriodContrast(w);
    for (k = 0; k <= w->M; k++)
        excess[k] = MAX(0.0, w->contrast[k] - VS_PERIOD_COMB_FLOOR);
    vsPeriodEvenDft(excess, w->M, w->tw, w->comb);
}

static int
vsPeriodLineCompare(gconstpointer a, gconstpointer b)
{
    const vsPeriodLine *x = a, *y = b;

    return (x->contrast < y->contrast) - (x->contrast > y->contrast);
}

/* Every line in padded bins [@jlo, @jhi] at least VS_PERIOD_MIN_CONTRAST
 * times its background, strongest first. */
static GArray *
vsPeriodLines(const vsPeriodWork *w, gsize jlo, gsize jhi)
{
    GArray *lines = g_array_new(FALSE, FALSE, sizeof(vsPeriodLine));
    gsize j;

    for (j = jlo; j <= jhi; j++) {
        /* mirrored about Nyquist */
        double next = j < w->M ? w->power[j + 1] : w->power[w->M - 1];
        double l, c, r, denom, shift;
        vsPeriodLine line;

        if (!(w->power[j] > w->power[j - 1] && w->power[j] >= next) ||
            w->contrast[j] < VS_PERIOD_MIN_CONTRAST)
            continue;
        /* parabolic interpolation of the log power: the Hann main lobe is
         * close to a Gaussian, so this lands well inside the bin */
        l = log(w->power[j - 1] + 1e-300);
        c = log(w->power[j] + 1e-300);
        r = log(next + 1e-300);
        denom = l - 2 * c + r;
        shift = denom < 0 ? 0.5 * (l - r) / denom : 0;
        line.bin = j + CLAMP(shift, -0.5, 0.5);
        line.contrast = w->contrast[j];
        g_array_append_val(lines, line);
    }
    g_array_sort(lines, vsPeriodLineCompare);
    return lines;
}

static void
vsPeriodAdd(vsPeriodCandidate *cand, guint *count, double period,
            double contrast, gssize radius)
{
    guint i;

    if (*count >= VS_PERIOD_MAX_CANDIDATES)
        return;
    for (i = 0; i < *count; i++) {
        if (fabs(cand[i].period - period) < 0.5)
            return;
    }
    cand[(*count)++] = (vsPeriodCandidate) {
        .period = period,
        .contrast = contrast,
        .radius = MAX(1, radius),
    };
}

/* A line's frequency is known to about 1 / sqrt(contrast) Fourier bins,
 * and a bin is period^2 / n steps of lag: search twice that far. */
static void
vsPeriodAddLine(const vsPeriodWork *w, vsPeriodCandidate *cand, guint *count,
                const vsPeriodLine *line)
{
    double period = w->N / line->bin;

    vsPeriodAdd(cand, count, period, line->contrast,
                (gssize)ceil(2.0 * period * period / w->n / sqrt(line->contrast)));
}

/* The strongest lines, each with its fundamental: the lowest line (down to
 * bin @jlo) at its bin / m, m >= 2, within half a Fourier bin. */
static void
vsPeriodLineCandidates(const vsPeriodWork *w, GArray *lines, gsize jlo,
                       vsPeriodCandidate *cand, guint *count)
{
    /* which line, if any, lies at each padded bin (+1; 0 for none) */
    g_autofree guint *at = g_new0(guint, w->M + 2);
    gssize reach = MAX(0, (gssize)floor(0.5 * w->pad));
    guint i;

    for (i = lines->len; i-- > 0;) {
        const vsPeriodLine *line = &g_array_index(lines, vsPeriodLine, i);
        gssize b = lround(line->bin), d;

        /* strongest last, so it wins a shared bin */
        for (d = -reach; d <= reach; d++) {
            if (b + d >= 0 && b + d <= (gssize)w->M + 1)
                at[b + d] = i + 1;
        }
    }
    for (i = 0; i < lines->len && i < VS_PERIOD_MAX_LINES; i++) {
        const vsPeriodLine *line = &g_array_index(lines, vsPeriodLine, i);
        guint m;

        vsPeriodAddLine(w, cand, count, line);
        for (m = (guint)(line->bin / jlo); m >= 2; m--) {
            guint hit = at[lround(line->bin / m)];

            if (hit) {
                vsPeriodAddLine(w, cand, count,
                                &g_array_index(lines, vsPeriodLine, hit - 1));
                break;
            }
        }
    }
}

/* The strongest line among the harmonics of @period. */
static double
vsPeriodCombContrast(const vsPeriodWork *w, GArray *lines, double period)
{
    double f0 = w->N / period, best = 0;
    guint i;

    for (i = 0; i < lines->len; i++) {
        const vsPeriodLine *line = &g_array_index(lines, vsPeriodLine, i);
        double k = round(line->bin / f0);

        if (k >= 1 && fabs(line->bin - k * f0) <= 0.5 * w->pad)
            best = MAX(best, line->contrast);
    }
    return best;
}

/* The strongest peaks of the harmonic sum within the lag range; each
 * carries the contrast of its strongest harmonic line. */
static void
vsPeriodCombCandidates(const vsPeriodWork *w, GArray *lines,
                       vsPeriodCandidate *cand, guint *count)
{
    gssize peak[VS_PERIOD_MAX_COMBS];
    guint found = 0, weakest, i;
    gssize t;

    if (!(w->comb[0] > 0))
        return;
    for (t = MAX(w->min_lag, 1); t <= w->max_lag; t++) {
        double v = w->comb[t];

        if (v < VS_PERIOD_MIN_COMB * w->comb[0] || v <= w->comb[t - 1] || v < w->comb[t + 1])
            continue;
        if (found < VS_PERIOD_MAX_COMBS) {
            peak[found++] = t;
            continue;
        }
        /* full: replace the weakest if weaker */
        weakest = 0;
        for (i = 1; i < found; i++) {
            if (w->comb[peak[i]] < w->comb[peak[weakest]])
                weakest = i;
        }
        if (w->comb[peak[weakest]] < v)
            peak[weakest] = t;
    }
    for (i = 0; i < found; i++) {
        double contrast = vsPeriodCombContrast(w, lines, peak[i]);

        if (contrast > 0)
            vsPeriodAdd(cand, count, peak[i], contrast,
                        (gssize)ceil(0.005 * peak[i]));
    }
}

/* All candidates; returns how many. */
static guint
vsPeriodCandidates(vsPeriodWork *w, vsPeriodCandidate *cand)
{
    /* one Fourier bin of slack at either end: the lag is refined later */
    gsize jlo = (gsize)MAX(0.0, floor(w->N / (double)w->max_lag - w->pad));
    gsize jhi = (gsize)ceil(w->N / (double)w->min_lag + w->pad);
    g_autoptr(GArray) lines = NULL;
    guint count = 0;

    /* at least two cycles in the record, never the DC bin */
    jlo = MAX(jlo, MAX((gsize)ceil(2 * w->pad), 2));
    jhi = MIN(jhi, w->M);
    if (jhi < jlo)
        return 0;
    lines = vsPeriodLines(w, jlo, jhi);
    vsPeriodLineCandidates(w, lines, jlo, cand, &count);
    vsPeriodCombCandidates(w, lines, cand, &count);
    return count;
}

static void
vsPeriodPrefix(vsPeriodSeries *s)
{
    gsize t;

    s->sum[s->lo] = 0;
    s->sq[s->lo] = 0;
    for (t = s->lo; t < s->hi; t++) {
        s->sum[t + 1] = s->sum[t] + s->v[t];
        s->sq[t + 1] = s->sq[t] + s->v[t] * s->v[t];
    }
}

/* z = y minus its centred moving average over @len steps (a 2 x len
 * average when @len is even, as in classical decomposition), where the
 * average is defined.  A season dividing @len averages out, so it stays
 * whole in z; anything slower goes. */
static void
vsPeriodHighPass(vsPeriodWork *w, gsize len)
{
    gsize h = len / 2;
    double half = len % 2 == 0 ? 0.5 : 0.0;
    gsize t;

    if (w->z_window == len)
        return;
    w->z_window = len;
    w->z.lo = h;
    w->z.hi = w->n - h;
    w->z.sum[h] = 0;
    w->z.sq[h] = 0;
    for (t = h; t + h < w->n; t++) {
        double sum = w->prefix[t + h + 1] - w->prefix[t - h] -
            half * (w->y[t - h] + w->y[t + h]);
        double z = w->y[t] - sum / len;

        w->z.v[t] = z;
        w->z.sum[t + 1] = w->z.sum[t] + z;
        w->z.sq[t + 1] = w->z.sq[t] + z * z;
    }
}

/* Pearson correlation of s[lo..hi-lag) with s[lo+lag..hi). */
static double
vsPeriodLagCorr(const vsPeriodSeries *s, gsize lag)
{
    gsize lo = s->lo, hi = s->hi, t;
    double m, sa, sb, va, vb, sab = 0;

    if (lo + lag >= hi)
        return 0;
    m = hi - lo - lag;
    for (t = lo; t + lag < hi; t++)
        sab += s->v[t] * s->v[t + lag];
    sa = s->sum[hi - lag] - s->sum[lo];
    sb = s->sum[hi] - s->sum[lo + lag];
    va = s->sq[hi - lag] - s->sq[lo] - sa * sa / m;
    vb = s->sq[hi] - s->sq[lo + lag] - sb * sb / m;
    if (!(va > 0 && vb > 0))
        return 0;
    return (sab - sa * sb / m) / sqrt(va * vb);
}

/* The mean of @s over each phase of @lag into @profile[0..lag-1]. */
static void
vsPeriodProfile(const vsPeriodSeries *s, gsize lag, double *profile)
{
    g_autofree guint *count = g_new0(guint, lag);
    gsize t, phase;

    memset(profile, 0, lag * sizeof(double));
    for (t = s->lo, phase = 0; t < s->hi; t++) {
        profile[phase] += s->v[t];
        count[phase]++;
        if (++phase == lag)
            phase = 0;
    }
    for (phase = 0; phase < lag; phase++)
        profile[phase] /= MAX(count[phase], 1);
}

/* Bartlett's factor 1 + 2 sum_j rho_j^2 for the remainder of z once its
 * mean profile over @lag is removed: how much less than n independent
 * values the pairs at @lag are worth.  A season of that length leaves a
 * remainder close to white (factor near 1); a slow wander such as a
 * random walk or AR(0.99) does not.  The sum runs over dyadic lags below
 * @lag / 4, each standing for the lags up to the next one (rho decays, so
 * this errs high). */
static double
vsPeriodBartlett(vsPeriodWork *w, gsize lag)
{
    g_autofree double *profile = g_new(double, lag);
    double sum = 0;
    gsize t, phase, j;

    vsPeriodProfile(&w->z, lag, profile);
    w->e.lo = w->z.lo;
    w->e.hi = w->z.hi;
    for (t = w->z.lo, phase = 0; t < w->z.hi; t++) {
        w->e.v[t] = w->z.v[t] - profile[phase];
        if (++phase == lag)
            phase = 0;
    }
    vsPeriodPrefix(&w->e);
    for (j = 1; 4 * j <= lag && 4 * j <= w->e.hi - w->e.lo; j *= 2) {
        double rho = vsPeriodLagCorr(&w->e, j);

        sum += rho * rho * j;
    }
    return 1.0 + 2.0 * sum;
}

/* The lag in [@lmin, @lmax] where the harmonic sum peaks: the lines'
 * (whitened) autocorrelation, which the slow components that tilt the
 * series' own autocorrelation do not reach. */
static gssize
vsPeriodCombPeak(const vsPeriodWork *w, gssize lmin, gssize lmax)
{
    gssize best = lmin, t;

    for (t = lmin + 1; t <= lmax; t++) {
        if (w->comb[t] > w->comb[best])
            best = t;
    }
    return best;
}

/* The moving-average window for a season: whole seasons, and never a very
 * short window (differencing-like filters correlate white noise at short
 * lags by themselves). */
static gsize
vsPeriodWindow(gsize season)
{
    return season * ((VS_PERIOD_MIN_WINDOW + season - 1) / season);
}

/* Confirm @c in the time domain; on success set its lag and correlation.
 * Returns a lag worth trying as a candidate of its own: half @c's lag
 * when the series looks as much like itself there (the season is
 * shorter), else 0. */
static gssize
vsPeriodConfirm(vsPeriodWork *w, vsPeriodCandidate *c)
{
    gssize season = MAX(lround(c->period), 2);
    gssize lmin = MAX(w->min_lag, season - c->radius);
    gssize lmax = MIN(w->max_lag, season + c->radius);
    gssize start, lag, peak;
    double best, margin, half;

    vsPeriodHighPass(w, vsPeriodWindow(season));
    /* a full season of pairs at least */
    lmax = MIN(lmax, (gssize)(w->z.hi - w->z.lo) - season);
    start = CLAMP(season, lmin, lmax);
    if (lmax < lmin)
        return 0;
    lag = start;
    best = vsPeriodLagCorr(&w->z, start);
    /* Leave the spectral estimate only for a clearly better lag: the
     * autocorrelation of a near-sinusoid peaks so flatly that noise
     * (about sqrt(2/m) between two lags) would otherwise pick the lag,
     * while a spiky season's peaks are sharp. */
    margin = 2.0 * sqrt(2.0 / (double)(w->z.hi - w->z.lo - start));
    peak = vsPeriodCombPeak(w, lmin, lmax);
    if (peak != start) {
        double r = vsPeriodLagCorr(&w->z, peak);

        if (r > best + margin) {
            lag = peak;
            best = r;
        }
    }
    /* a season is a hill, not a plateau: half a period away the series
     * must look clearly less like itself, or the season is shorter */
    half = vsPeriodLagCorr(&w->z, MAX(1, lag / 2));
    if (best - half < w->threshold / 2)
        return half >= w->threshold && lag / 2 >= w->min_lag ? lag / 2 : 0;
    if (best < w->threshold)
        return 0;
    /* and the correlation must stand clear of what the remainder's own
     * memory produces by chance */
    if (best < VS_PERIOD_NOISE_SIGMAS *
        sqrt(vsPeriodBartlett(w, lag) / (double)(w->z.hi - w->z.lo - lag)))
        return 0;
    c->lag = lag;
    c->corr = best;
    return 0;
}

/* Drop confirmed candidates within 10% of a stronger line: near a strong
 * season, a noise line's lag correlates by proximity alone. */
static void
vsPeriodDedupe(vsPeriodCandidate *cand, guint count)
{
    guint i, j;

    for (i = 0; i < count; i++) {
        for (j = 0; j < count && cand[i].lag; j++) {
            /* on a tie (a comb sharing a line's contrast), the line,
             * which comes first, stays */
            if (j != i && cand[j].lag &&
                (cand[j].contrast > cand[i].contrast ||
                 (cand[j].contrast == cand[i].contrast && j < i)) &&
                fabs((double)cand[i].lag - cand[j].lag) <= 0.1 * cand[j].lag)
                cand[i].lag = 0;
        }
    }
}

/* Whether @small, whose lag (nearly) divides @big's, explains @big's
 * season: the mean profile over @big's lag, folded at @small's lag, must
 * leave no more than twice what its noise alone would (the remainder's
 * variance over the cycles averaged), or a small share of the profile.  A
 * daily profile that is an hourly pattern 24 times over is hourly; a daily
 * shape with an hourly blip is daily. */
static gboolean
vsPeriodExplains(vsPeriodWork *w, const vsPeriodCandidate *small,
                 const vsPeriodCandidate *big)
{
    gsize P = big->lag, p = small->lag;
    double m = round((double)P / p);
    g_autofree double *profile = g_new(double, P);
    g_autofree double *folded = g_new0(double, p);
    g_autofree guint *count = g_new0(guint, p);
    double noise = 0, total = 0, unexplained = 0, mean = 0, cycles, span;
    gsize t, k, phase;

    vsPeriodHighPass(w, vsPeriodWindow(P));
    vsPeriodProfile(&w->z, P, profile);
    for (t = w->z.lo, phase = 0; t < w->z.hi; t++) {
        double e = w->z.v[t] - profile[phase];

        noise += e * e;
        if (++phase == P)
            phase = 0;
    }
    span = w->z.hi - w->z.lo;
    cycles = span / P;
    noise /= MAX(1.0, span - P);
    for (k = 0, phase = 0; k < P; k++) {
        mean += profile[k] / P;
        folded[phase] += profile[k];
        count[phase]++;
        if (++phase == p)
            phase = 0;
    }
    for (k = 0, phase = 0; k < P; k++) {
        double d = profile[k] - folded[phase] / count[phase];

        unexplained += d * d / P;
        total += (profile[k] - mean) * (profile[k] - mean) / P;
        if (++phase == p)
            phase = 0;
    }
    return unexplained <= MAX(VS_PERIOD_UNEXPLAINED * total,
                              2.0 * noise / cycles * (1.0 - 1.0 / m));
}

/* The strongest confirmed candidate, or the shortest confirmed divisor of
 * it that is nearly as strong on its own or explains its season. */
static const vsPeriodCandidate *
vsPeriodChoose(vsPeriodWork *w, vsPeriodCandidate *cand, guint count)
{
    const vsPeriodCandidate *best = NULL, *choice;
    guint i;

    vsPeriodDedupe(cand, count);
    for (i = 0; i < count; i++) {
        if (cand[i].lag && (!best || cand[i].corr > best->corr))
            best = &cand[i];
    }
    choice = best;
    for (i = 0; best && i < count; i++) {
        double ratio, m;

        if (!cand[i].lag || cand[i].lag >= choice->lag)
            continue;
        ratio = (double)best->lag / cand[i].lag;
        m = round(ratio);
        if (m < 2 || fabs(ratio - m) > 0.03 * m)
            continue;
        /* strengths on different filters compare only across nearby
         * time scales; an hourly and a daily season are both real */
        if ((m <= VS_PERIOD_FUNDAMENTAL_MULTIPLE &&
             cand[i].corr >= VS_PERIOD_FUNDAMENTAL_RATIO * best->corr) ||
            vsPeriodExplains(w, &cand[i], best))
            choice = &cand[i];
    }
    return choice;
}

/* The filled, clipped copy of @y, or NULL when it cannot hold a season:
 * too few values, or (nearly) constant. */
static double *
vsPeriodPrepare(const double *y, gsize n)
{
    g_autofree double *filled = g_new(double, n);
    double lo, hi;
    gsize i;

    if (vsPeriodImpute(y, n, filled) < 16)
        return NULL;
    lo = hi = filled[0];
    for (i = 1; i < n; i++) {
        lo = MIN(lo, filled[i]);
        hi = MAX(hi, filled[i]);
    }
    if (!(hi - lo > 1e-12 * MAX(1.0, MAX(fabs(lo), fabs(hi)))))
        return NULL;
    vsPeriodClip(filled, n);
    return g_steal_pointer(&filled);
}

guint
vsPeriodDetect(const double *y, gsize n, guint min_period, guint max_period,
               double *strength)
{
    vsPeriodWork w = { 0 };
    g_autofree double *filled = NULL;
    g_autofree double *buf = NULL;
    vsPeriodCandidate cand[VS_PERIOD_MAX_CANDIDATES];
    const vsPeriodCandidate *choice;
    gsize changes, i;
    guint count;

    if (strength)
        *strength = 0;
    min_period = MAX(min_period, 2);
    max_period = MIN(max_period, n / 2);
    if (!y || n < 8 || max_period < min_period)
        return 0;
    /* constant series and runs of one value carry no season */
    changes = vsPeriodChanges(y, n);
    if (changes < 16 || !(filled = vsPeriodPrepare(y, n)))
        return 0;

    w.n = n;
    w.y = filled;
    /* at least 1.5x zero padding: a finer grid for the peak search, and
     * lags up to n / 2 free of circular wrap-around */
    for (w.N = 16; w.N < n + n / 2; w.N *= 2)
        ;
    w.M = w.N / 2;
    w.pad = (double)w.N / n;
    w.min_lag = min_period;
    w.max_lag = max_period;
    /* one allocation for every array */
    buf = g_new(double, w.N + 3 * (w.M + 1) + 7 * (n + 1));
    w.tw = buf;
    w.power = w.tw + w.N;
    w.contrast = w.power + w.M + 1;
    w.comb = w.contrast + w.M + 1;
    w.prefix = w.comb + w.M + 1;
    w.z.v = w.prefix + n + 1;
    w.z.sum = w.z.v + n + 1;
    w.z.sq = w.z.sum + n + 1;
    w.e.v = w.z.sq + n + 1;
    w.e.sum = w.e.v + n + 1;
    w.e.sq = w.e.sum + n + 1;
    vsPeriodTwiddles(w.N, w.tw);
    vsPeriodSpectra(&w);
    count = vsPeriodCandidates(&w, cand);
    if (count == 0)
        return 0;

    w.prefix[0] = 0;
    for (i = 0; i < n; i++)
        w.prefix[i + 1] = w.prefix[i] + filled[i];
    /* the white-noise band counts only the values that carry information */
    w.threshold = MAX(VS_PERIOD_MIN_CORRELATION,
                      VS_PERIOD_NOISE_SIGMAS / sqrt((double)changes));
    for (i = 0; i < count; i++) {
        gssize shorter;

        cand[i].lag = 0;
        shorter = vsPeriodConfirm(&w, &cand[i]);
        if (shorter)
            vsPeriodAdd(cand, &count, shorter, cand[i].contrast, cand[i].radius / 2);
    }
    choice = vsPeriodChoose(&w, cand, count);
    if (!choice)
        return 0;
    if (strength)
        *strength = choice->corr;
    return choice->lag;
}
