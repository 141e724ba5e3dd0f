/*
 * REDUCE and EXPAND for workbench.pyramid.levels. REDUCE blurs with a symmetric 1-D kernel
 * along both axes and keeps every other row and column, computing only the samples decimation
 * keeps (below); EXPAND (expand_rows, further down) sums only the grid positions that hold coarse
 * samples.
 *
 * Output row i, in three steps over contiguous memory:
 *   1. vertical: the 2m + 1 input rows around row 2i (reflect-101 borders) summed with the
 *      kernel's symmetry, k[m] * row(2i) + sum_t k[m + t] * (row(2i - t) + row(2i + t));
 *   2. that row padded by m pixels on each side (reflect-101) and split into its even and odd
 *      pixels ("phases"); for 1, 2 and 4 channels the AVX2 vertical step writes its results
 *      straight into the phases (a shuffle per 16 floats) instead of into a row to be split;
 *   3. horizontal at the kept columns only: output pixel j = sum_s k[s] * padded[2j + s], where
 *      padded[2j + s] is phase s & 1 at slot j + s / 2, so each tap is one unit-stride pass.
 * So each output sample costs 2m + 1 multiply-adds per axis and nothing is computed that
 * decimation throws away. The loops are written twice: plain C that any compiler vectorises for
 * its baseline, and AVX2 + FMA (x86-64, GCC or clang), chosen at run time from the CPU.
 *
 * uint8, uint16 and float32 accumulate in float32, float64 in float64; integers round half up and
 * saturate. The caller splits the output rows between threads: the GIL is released.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__)
#define WB_HAVE_AVX2 1
#include <immintrin.h>
#define WB_AVX2 __attribute__((target("avx2,fma")))
#else
#define WB_HAVE_AVX2 0
#endif

#if defined(_MSC_VER)
#define WB_RESTRICT __restrict
#else
#define WB_RESTRICT restrict
#endif

/* The longest kernel taken (a 1-D Gaussian of sigma ~100 000); the caller keeps longer ones. */
#define WB_MAX_TAPS ((1 << 20) + 1)

/* Columns per block in the plain loops: a block of accumulators stays in L1. */
#define WB_BLOCK 2048

/* Index i folded into [0, n) the reflect-101 way (dcb|abcd|cba), however far outside. */
static inline Py_ssize_t reflect101(Py_ssize_t i, Py_ssize_t n)
{
    if (n == 1)
        return 0;
    const Py_ssize_t period = 2 * n - 2;
    i %= period;
    if (i < 0)
        i += period;
    return i < n ? i : period - i;
}

/* Row steps, all with the same shape so that the driver can take either version:
 *   vertical(rows, k, m, x0, len, out): out[x] for x in [x0, len) from rows[0 .. 2m];
 *   horizontal(phase, k, m, x0, olen, acc, out): out[x] for x in [x0, olen) from phase[0 .. 2m]
 *   (phase[s] already offset by slot s / 2), acc is scratch of WB_BLOCK accumulators. */
typedef void (*vertical_fn)(const void *const *rows, const void *k, int m, Py_ssize_t x0,
                            Py_ssize_t len, void *out);
typedef Py_ssize_t (*vsplit_fn)(const void *const *rows, const void *k, int m, Py_ssize_t len,
                                Py_ssize_t c, void *even, void *odd);
typedef void (*horizontal_fn)(const void *const *phase, const void *k, int m, Py_ssize_t x0,
                              Py_ssize_t olen, void *acc, void *out);

static inline uint8_t put_u8(float v)
{
    v += 0.5f;
    v = v < 0.0f ? 0.0f : v;
    v = v > 255.0f ? 255.0f : v;
    return (uint8_t)(int32_t)v;
}
static inline uint16_t put_u16(float v)
{
    v += 0.5f;
    v = v < 0.0f ? 0.0f : v;
    v = v > 65535.0f ? 65535.0f : v;
    return (uint16_t)(int32_t)v;
}
static inline float put_f32(float v) { return v; }
static inline double put_f64(double v) { return v; }

#define DEFINE_PLAIN(TAG, T, A)                                                               \
    static void vertical_##TAG(const void *const *rows_, const void *k_, int m, Py_ssize_t x0, \
                               Py_ssize_t len, void *out_)                                    \
    {                                                                                         \
        const T *const *rows = (const T *const *)rows_;                                       \
        const A *k = (const A *)k_;                                                           \
        A *WB_RESTRICT out = (A *)out_;                                                       \
        for (Py_ssize_t b0 = x0; b0 < len; b0 += WB_BLOCK) {                                  \
            const Py_ssize_t b1 = len - b0 < WB_BLOCK ? len : b0 + WB_BLOCK;                  \
            const T *WB_RESTRICT mid = rows[m];                                               \
            const A k0 = k[m];                                                                \
            for (Py_ssize_t x = b0; x < b1; x++)                                              \
                out[x] = k0 * (A)mid[x];                                                      \
            for (int t = 1; t <= m; t++) {                                                    \
                const T *WB_RESTRICT up = rows[m - t];                                        \
                const T *WB_RESTRICT dn = rows[m + t];                                        \
                const A kt = k[m + t];                                                        \
                for (Py_ssize_t x = b0; x < b1; x++)                                          \
                    out[x] += kt * ((A)up[x] + (A)dn[x]);                                     \
            }                                                                                 \
        }                                                                                     \
    }                                                                                         \
    static void horizontal_##TAG(const void *const *phase_, const void *k_, int m,            \
                                 Py_ssize_t x0, Py_ssize_t olen, void *acc_, void *out_)      \
    {                                                                                         \
        const A *const *phase = (const A *const *)phase_;                                     \
        const A *k = (const A *)k_;                                                           \
        A *WB_RESTRICT acc = (A *)acc_;                                                       \
        T *WB_RESTRICT out = (T *)out_;                                                       \
        for (Py_ssize_t b0 = x0; b0 < olen; b0 += WB_BLOCK) {                                 \
            const Py_ssize_t n = olen - b0 < WB_BLOCK ? olen - b0 : WB_BLOCK;                 \
            const A *WB_RESTRICT mid = phase[m] + b0;                                         \
            const A km = k[m];                                                                \
            for (Py_ssize_t x = 0; x < n; x++)                                                \
                acc[x] = km * mid[x];                                                         \
            for (int s = 0; s < m; s++) {                                                     \
                const A *WB_RESTRICT a = phase[s] + b0;                                       \
                const A *WB_RESTRICT b = phase[2 * m - s] + b0;                               \
                const A ks = k[s];                                                            \
                for (Py_ssize_t x = 0; x < n; x++)                                            \
                    acc[x] += ks * (a[x] + b[x]);                                             \
            }                                                                                 \
            for (Py_ssize_t x = 0; x < n; x++)                                                \
                out[b0 + x] = put_##TAG(acc[x]);                                              \
        }                                                                                     \
    }

DEFINE_PLAIN(u8, uint8_t, float)
DEFINE_PLAIN(u16, uint16_t, float)
DEFINE_PLAIN(f32, float, float)
DEFINE_PLAIN(f64, double, double)

/* Weighted sum of n rows, no symmetry assumed (EXPAND's steps):
 *   wsum(rows, k, n, x0, len, out): out[x] = sum_t k[t] * rows[t][x] for x in [x0, len). */
typedef void (*wsum_fn)(const void *const *rows, const void *k, int n, Py_ssize_t x0,
                        Py_ssize_t len, void *out);

#define DEFINE_WSUM(TAG, T, A)                                                                \
    static void wsum_##TAG(const void *const *rows_, const void *k_, int n, Py_ssize_t x0,    \
                           Py_ssize_t len, void *out_)                                        \
    {                                                                                         \
        const T *const *rows = (const T *const *)rows_;                                       \
        const A *k = (const A *)k_;                                                           \
        A *WB_RESTRICT out = (A *)out_;                                                       \
        if (n == 0) { /* no taps fall on this phase (a 1-tap kernel): zeros, as in the grid */ \
            for (Py_ssize_t x = x0; x < len; x++)                                             \
                out[x] = 0;                                                                   \
            return;                                                                           \
        }                                                                                     \
        for (Py_ssize_t b0 = x0; b0 < len; b0 += WB_BLOCK) {                                  \
            const Py_ssize_t b1 = len - b0 < WB_BLOCK ? len : b0 + WB_BLOCK;                  \
            const T *WB_RESTRICT first = rows[0];                                             \
            const A k0 = k[0];                                                                \
            for (Py_ssize_t x = b0; x < b1; x++)                                              \
                out[x] = k0 * (A)first[x];                                                    \
            for (int t = 1; t < n; t++) {                                                     \
                const T *WB_RESTRICT row = rows[t];                                           \
                const A kt = k[t];                                                            \
                for (Py_ssize_t x = b0; x < b1; x++)                                          \
                    out[x] += kt * (A)row[x];                                                 \
            }                                                                                 \
        }                                                                                     \
    }

DEFINE_WSUM(u8, uint8_t, float)
DEFINE_WSUM(u16, uint16_t, float)
DEFINE_WSUM(f32, float, float)
DEFINE_WSUM(f64, double, double)

#if WB_HAVE_AVX2
/* Eight samples as float32; PAIR is row a + row b, summed exactly before the conversion. */
#define ONE_u8(p) _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(p))))
#define PAIR_u8(a, b)                                                                         \
    _mm256_cvtepi32_ps(                                                                       \
        _mm256_add_epi32(_mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(a))),         \
                         _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(b)))))
#define ONE_u16(p)                                                                            \
    _mm256_cvtepi32_ps(_mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(p))))
#define PAIR_u16(a, b)                                                                        \
    _mm256_cvtepi32_ps(                                                                       \
        _mm256_add_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(a))),        \
                         _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(b)))))
#define ONE_f32(p) _mm256_loadu_ps(p)
#define PAIR_f32(a, b) _mm256_add_ps(_mm256_loadu_ps(a), _mm256_loadu_ps(b))

/* Eight float32 results stored as samples (integers: + 0.5, saturate, truncate = half up). */
WB_AVX2 static inline __m256i round_clamp(__m256 v, float hi)
{
    v = _mm256_add_ps(v, _mm256_set1_ps(0.5f));
    v = _mm256_min_ps(_mm256_max_ps(v, _mm256_setzero_ps()), _mm256_set1_ps(hi));
    return _mm256_cvttps_epi32(v);
}
WB_AVX2 static inline void store_u8(uint8_t *p, __m256 v)
{
    const __m256i i = round_clamp(v, 255.0f);
    const __m128i w = _mm_packus_epi32(_mm256_castsi256_si128(i), _mm256_extracti128_si256(i, 1));
    _mm_storel_epi64((__m128i *)p, _mm_packus_epi16(w, w));
}
WB_AVX2 static inline void store_u16(uint16_t *p, __m256 v)
{
    const __m256i i = round_clamp(v, 65535.0f);
    _mm_storeu_si128((__m128i *)p, _mm_packus_epi32(_mm256_castsi256_si128(i),
                                                    _mm256_extracti128_si256(i, 1)));
}
WB_AVX2 static inline void store_f32(float *p, __m256 v) { _mm256_storeu_ps(p, v); }

/* Sixteen floats (two vectors, 16 / c pixels of c = 1, 2 or 4 channels) split into their even
 * and odd pixels, eight floats each. */
WB_AVX2 static inline void store_split(__m256 a, __m256 b, Py_ssize_t c, float *even,
                                       float *odd)
{
    __m256 e, o;
    if (c == 1) { /* floats: shuffle within lanes, then order the 64-bit pairs */
        e = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0));
        o = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(3, 1, 3, 1));
        e = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(e), _MM_SHUFFLE(3, 1, 2, 0)));
        o = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(o), _MM_SHUFFLE(3, 1, 2, 0)));
    } else if (c == 2) { /* 64-bit pixels */
        const __m256d da = _mm256_castps_pd(a), db = _mm256_castps_pd(b);
        e = _mm256_castpd_ps(
            _mm256_permute4x64_pd(_mm256_unpacklo_pd(da, db), _MM_SHUFFLE(3, 1, 2, 0)));
        o = _mm256_castpd_ps(
            _mm256_permute4x64_pd(_mm256_unpackhi_pd(da, db), _MM_SHUFFLE(3, 1, 2, 0)));
    } else { /* 128-bit pixels */
        e = _mm256_permute2f128_ps(a, b, 0x20);
        o = _mm256_permute2f128_ps(a, b, 0x31);
    }
    _mm256_storeu_ps(even, e);
    _mm256_storeu_ps(odd, o);
}

/* Four vectors (32 samples) in flight per step hide the multiply-add latency. */
#define VERTICAL_BLOCK(TAG, T)                                                                \
    const __m256 k0 = _mm256_set1_ps(k[m]);                                                   \
    __m256 a0 = _mm256_mul_ps(k0, ONE_##TAG(rows[m] + x));                                    \
    __m256 a1 = _mm256_mul_ps(k0, ONE_##TAG(rows[m] + x + 8));                                \
    __m256 a2 = _mm256_mul_ps(k0, ONE_##TAG(rows[m] + x + 16));                               \
    __m256 a3 = _mm256_mul_ps(k0, ONE_##TAG(rows[m] + x + 24));                               \
    for (int t = 1; t <= m; t++) {                                                            \
        const T *up = rows[m - t] + x, *dn = rows[m + t] + x;                                 \
        const __m256 kt = _mm256_set1_ps(k[m + t]);                                           \
        a0 = _mm256_fmadd_ps(kt, PAIR_##TAG(up, dn), a0);                                     \
        a1 = _mm256_fmadd_ps(kt, PAIR_##TAG(up + 8, dn + 8), a1);                             \
        a2 = _mm256_fmadd_ps(kt, PAIR_##TAG(up + 16, dn + 16), a2);                           \
        a3 = _mm256_fmadd_ps(kt, PAIR_##TAG(up + 24, dn + 24), a3);                           \
    }

#define DEFINE_AVX2(TAG, T)                                                                   \
    WB_AVX2 static void vertical_##TAG##_avx2(const void *const *rows_, const void *k_,       \
                                              int m, Py_ssize_t x0, Py_ssize_t len,           \
                                              void *out_)                                     \
    {                                                                                         \
        const T *const *rows = (const T *const *)rows_;                                       \
        const float *k = (const float *)k_;                                                   \
        float *out = (float *)out_;                                                           \
        Py_ssize_t x = x0;                                                                    \
        for (; x + 32 <= len; x += 32) {                                                      \
            VERTICAL_BLOCK(TAG, T)                                                            \
            _mm256_storeu_ps(out + x, a0);                                                    \
            _mm256_storeu_ps(out + x + 8, a1);                                                \
            _mm256_storeu_ps(out + x + 16, a2);                                               \
            _mm256_storeu_ps(out + x + 24, a3);                                               \
        }                                                                                     \
        vertical_##TAG(rows_, k_, m, x, len, out_);                                           \
    }                                                                                         \
    /* The vertical step for 1, 2 or 4 channels, written straight into the phases: input     \
     * pixel p is padded pixel p + m, phase (p + m) & 1, slot (p + m) / 2. Whole blocks only; \
     * returns the number of samples done. */                                                \
    WB_AVX2 static Py_ssize_t vsplit_##TAG##_avx2(const void *const *rows_, const void *k_,  \
                                                  int m, Py_ssize_t len, Py_ssize_t c,        \
                                                  void *even_, void *odd_)                    \
    {                                                                                         \
        const T *const *rows = (const T *const *)rows_;                                       \
        const float *k = (const float *)k_;                                                   \
        float *even_pixels = (float *)((m & 1) ? odd_ : even_);                               \
        float *odd_pixels = (float *)((m & 1) ? even_ : odd_);                                \
        Py_ssize_t x = 0;                                                                     \
        if (c != 1 && c != 2 && c != 4)                                                       \
            return 0;                                                                         \
        for (; x + 32 <= len; x += 32) {                                                      \
            VERTICAL_BLOCK(TAG, T)                                                            \
            const Py_ssize_t p0 = x / c, p1 = (x + 16) / c; /* both even */                   \
            store_split(a0, a1, c, even_pixels + ((p0 + m) >> 1) * c,                         \
                        odd_pixels + ((p0 + 1 + m) >> 1) * c);                                \
            store_split(a2, a3, c, even_pixels + ((p1 + m) >> 1) * c,                         \
                        odd_pixels + ((p1 + 1 + m) >> 1) * c);                                \
        }                                                                                     \
        return x;                                                                             \
    }                                                                                         \
    WB_AVX2 static void horizontal_##TAG##_avx2(const void *const *phase_, const void *k_,    \
                                                int m, Py_ssize_t x0, Py_ssize_t olen,        \
                                                void *acc_, void *out_)                       \
    {                                                                                         \
        const float *const *phase = (const float *const *)phase_;                             \
        const float *k = (const float *)k_;                                                   \
        T *out = (T *)out_;                                                                   \
        Py_ssize_t x = x0;                                                                    \
        for (; x + 32 <= olen; x += 32) {                                                     \
            const __m256 km = _mm256_set1_ps(k[m]);                                           \
            const float *mid = phase[m] + x;                                                  \
            __m256 a0 = _mm256_mul_ps(km, _mm256_loadu_ps(mid));                              \
            __m256 a1 = _mm256_mul_ps(km, _mm256_loadu_ps(mid + 8));                          \
            __m256 a2 = _mm256_mul_ps(km, _mm256_loadu_ps(mid + 16));                         \
            __m256 a3 = _mm256_mul_ps(km, _mm256_loadu_ps(mid + 24));                         \
            for (int s = 0; s < m; s++) {                                                     \
                const float *a = phase[s] + x, *b = phase[2 * m - s] + x;                     \
                const __m256 ks = _mm256_set1_ps(k[s]);                                       \
                a0 = _mm256_fmadd_ps(ks, PAIR_f32(a, b), a0);                                 \
                a1 = _mm256_fmadd_ps(ks, PAIR_f32(a + 8, b + 8), a1);                         \
                a2 = _mm256_fmadd_ps(ks, PAIR_f32(a + 16, b + 16), a2);                       \
                a3 = _mm256_fmadd_ps(ks, PAIR_f32(a + 24, b + 24), a3);                       \
            }                                                                                 \
            store_##TAG(out + x, a0);                                                         \
            store_##TAG(out + x + 8, a1);                                                     \
            store_##TAG(out + x + 16, a2);                                                    \
            store_##TAG(out + x + 24, a3);                                                    \
        }                                                                                     \
        horizontal_##TAG(phase_, k_, m, x, olen, acc_, out_);                                 \
    }

DEFINE_AVX2(u8, uint8_t)
DEFINE_AVX2(u16, uint16_t)
DEFINE_AVX2(f32, float)

#define DEFINE_AVX2_WSUM(TAG, T)                                                              \
    WB_AVX2 static void wsum_##TAG##_avx2(const void *const *rows_, const void *k_, int n,    \
                                          Py_ssize_t x0, Py_ssize_t len, void *out_)          \
    {                                                                                         \
        const T *const *rows = (const T *const *)rows_;                                       \
        const float *k = (const float *)k_;                                                   \
        float *out = (float *)out_;                                                           \
        Py_ssize_t x = x0;                                                                    \
        for (; n > 0 && x + 32 <= len; x += 32) {                                             \
            const __m256 k0 = _mm256_set1_ps(k[0]);                                           \
            const T *first = rows[0] + x;                                                     \
            __m256 a0 = _mm256_mul_ps(k0, ONE_##TAG(first));                                  \
            __m256 a1 = _mm256_mul_ps(k0, ONE_##TAG(first + 8));                              \
            __m256 a2 = _mm256_mul_ps(k0, ONE_##TAG(first + 16));                             \
            __m256 a3 = _mm256_mul_ps(k0, ONE_##TAG(first + 24));                             \
            for (int t = 1; t < n; t++) {                                                     \
                const T *row = rows[t] + x;                                                   \
                const __m256 kt = _mm256_set1_ps(k[t]);                                       \
                a0 = _mm256_fmadd_ps(kt, ONE_##TAG(row), a0);                                 \
                a1 = _mm256_fmadd_ps(kt, ONE_##TAG(row + 8), a1);                             \
                a2 = _mm256_fmadd_ps(kt, ONE_##TAG(row + 16), a2);                            \
                a3 = _mm256_fmadd_ps(kt, ONE_##TAG(row + 24), a3);                            \
            }                                                                                 \
            _mm256_storeu_ps(out + x, a0);                                                    \
            _mm256_storeu_ps(out + x + 8, a1);                                                \
            _mm256_storeu_ps(out + x + 16, a2);                                               \
            _mm256_storeu_ps(out + x + 24, a3);                                               \
        }                                                                                     \
        wsum_##TAG(rows_, k_, n, x, len, out_);                                               \
    }

DEFINE_AVX2_WSUM(u8, uint8_t)
DEFINE_AVX2_WSUM(u16, uint16_t)
DEFINE_AVX2_WSUM(f32, float)

static int use_avx2(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}
#define WB_SIMD_NAME (use_avx2() ? "avx2" : "baseline")
#else
#define WB_SIMD_NAME "baseline"
static int use_avx2(void) { return 0; }
#endif

/* Split the vertical result into even and odd pixels of the row padded by m on each side:
 * padded pixel q (= input pixel q - m, reflected at the borders) goes to phase q & 1, slot q / 2.
 * Input pixels from p0 on are taken from row (those before p0 are already in the phases); the
 * 2m border pixels are then copied from the phases. */
#define DEFINE_SPLIT(A)                                                                       \
    static void split_##A(const A *WB_RESTRICT row, Py_ssize_t p0, Py_ssize_t w,              \
                          Py_ssize_t c, int m, A *WB_RESTRICT even, A *WB_RESTRICT odd)       \
    {                                                                                         \
        for (int parity = 0; parity < 2; parity++) {                                          \
            A *WB_RESTRICT to = ((m + parity) & 1) ? odd : even;                              \
            Py_ssize_t p = p0 + ((p0 ^ parity) & 1); /* first p >= p0 with p % 2 == parity */ \
            Py_ssize_t slot = (p + m) >> 1;                                                   \
            switch (c) {                                                                      \
            case 1:                                                                           \
                for (; p < w; p += 2, slot++)                                                 \
                    to[slot] = row[p];                                                        \
                break;                                                                        \
            case 3:                                                                           \
                for (; p < w; p += 2, slot++) {                                               \
                    to[3 * slot] = row[3 * p];                                                \
                    to[3 * slot + 1] = row[3 * p + 1];                                        \
                    to[3 * slot + 2] = row[3 * p + 2];                                        \
                }                                                                             \
                break;                                                                        \
            default:                                                                          \
                for (; p < w; p += 2, slot++)                                                 \
                    for (Py_ssize_t ch = 0; ch < c; ch++)                                     \
                        to[c * slot + ch] = row[c * p + ch];                                  \
            }                                                                                 \
        }                                                                                     \
        for (Py_ssize_t q = 0; q < w + 2 * m; q++) {                                          \
            if (q == m)                                                                       \
                q = w + m; /* skip the interior, filled above */                              \
            if (q >= w + 2 * m)                                                               \
                break;                                                                        \
            const Py_ssize_t p = reflect101(q - m, w), from_q = p + m;                        \
            const A *from = ((from_q & 1) ? odd : even) + (from_q >> 1) * c;                  \
            A *to = ((q & 1) ? odd : even) + (q >> 1) * c;                                    \
            for (Py_ssize_t ch = 0; ch < c; ch++)                                             \
                to[ch] = from[ch];                                                            \
        }                                                                                     \
    }

DEFINE_SPLIT(float)
DEFINE_SPLIT(double)

/* Output rows [r0, r1) of an (h, w, c) image of itemsize-byte samples. scratch holds
 * w*c + (wo + m)*c + (w/2 + m)*c + WB_BLOCK accumulators; ptrs holds 2 (2m + 1) pointers. */
#define DEFINE_DRIVER(A)                                                                      \
    static void drive_##A(const char *src, Py_ssize_t itemsize, Py_ssize_t h, Py_ssize_t w,   \
                          Py_ssize_t c, char *dst, const A *k, int m, Py_ssize_t r0,          \
                          Py_ssize_t r1, A *scratch, const void **ptrs, vertical_fn vertical, \
                          vsplit_fn vsplit, horizontal_fn horizontal)                         \
    {                                                                                         \
        const Py_ssize_t len = w * c, wo = (w + 1) / 2, olen = wo * c;                        \
        A *row = scratch, *even = row + len, *odd = even + (wo + m) * c;                      \
        A *acc = odd + (w / 2 + m) * c;                                                       \
        const void **rows = ptrs, **phase = ptrs + 2 * m + 1;                                 \
        for (int s = 0; s <= 2 * m; s++)                                                      \
            phase[s] = ((s & 1) ? odd : even) + (s >> 1) * c;                                 \
        for (Py_ssize_t i = r0; i < r1; i++) {                                                \
            for (int t = -m; t <= m; t++)                                                     \
                rows[t + m] = src + reflect101(2 * i + t, h) * len * itemsize;                \
            const Py_ssize_t done = vsplit ? vsplit(rows, k, m, len, c, even, odd) : 0;       \
            vertical(rows, k, m, done, len, row);                                             \
            split_##A(row, done / c, w, c, m, even, odd);                                     \
            horizontal(phase, k, m, 0, olen, acc, dst + i * olen * itemsize);                 \
        }                                                                                     \
    }

DEFINE_DRIVER(float)
DEFINE_DRIVER(double)

enum { KIND_U8, KIND_U16, KIND_F32, KIND_F64 };
static const Py_ssize_t ITEMSIZE[] = {1, 2, 4, 8};

/* out[x] = base[x] - out[x] (subtract) or out[x] + base[x], base a row of kind base_kind. */
/* W: the type the sum is formed in, wide enough for both operands (one rounding to A). */
#define COMBINE_LOOP(A, T, W)                                                                 \
    do {                                                                                      \
        const T *WB_RESTRICT b = (const T *)base;                                             \
        if (subtract)                                                                         \
            for (Py_ssize_t x = 0; x < len; x++)                                              \
                out[x] = (A)((W)b[x] - (W)out[x]);                                            \
        else                                                                                  \
            for (Py_ssize_t x = 0; x < len; x++)                                              \
                out[x] = (A)((W)out[x] + (W)b[x]);                                            \
    } while (0)
#define DEFINE_COMBINE(A)                                                                     \
    static void combine_##A(A *WB_RESTRICT out, const void *base, int base_kind,              \
                            Py_ssize_t len, int subtract)                                     \
    {                                                                                         \
        switch (base_kind) {                                                                  \
        case 0: COMBINE_LOOP(A, uint8_t, A); break;                                           \
        case 1: COMBINE_LOOP(A, uint16_t, A); break;                                          \
        case 2: COMBINE_LOOP(A, float, A); break;                                             \
        default: COMBINE_LOOP(A, double, double); break;                                      \
        }                                                                                     \
    }

DEFINE_COMBINE(float)
DEFINE_COMBINE(double)

/* EXPAND, output rows [r0, r1) of the (h, w, c) fine level from the (hc, wc, c) coarse one, with
 * hc = ceil(h / 2), wc = ceil(w / 2). The definition: coarse samples on the even positions of
 * a zero grid of the fine size, filtered with `up` (2m + 1 taps) and reflect-101 borders.
 * Reflect-101 keeps parity, so only grid positions of even index contribute: fine row y sums
 * the coarse rows (reflect(y + d)) / 2 over the d of y's parity with taps up[m + d], and each
 * fine pixel likewise sums coarse columns of that row. Even and odd output pixels are two
 * stencils over the row of coarse columns padded by M = ceil(m / 2) on each side; they are then
 * interleaved. An axis of one fine sample is copied (the grid would fold every tap onto it).
 * scratch: wc*c (row) + (wc + 2M)*c (padded) + 2*wc*c (phases) accumulators and 4m + 6 taps;
 * ptrs: 4m + 6 pointers. */
#define DEFINE_EXPAND(A)                                                                      \
    static void expand_##A(const char *src, Py_ssize_t itemsize, Py_ssize_t hc,               \
                           Py_ssize_t wc, Py_ssize_t c, A *dst, Py_ssize_t h, Py_ssize_t w,   \
                           const A *up, int m, Py_ssize_t r0, Py_ssize_t r1, A *scratch,      \
                           const void **ptrs, wsum_fn vsum, wsum_fn hsum, const char *base,   \
                           int base_kind, int subtract)                                       \
    {                                                                                         \
        const Py_ssize_t lenc = wc * c, M = (m + 1) / 2, npad = wc + 2 * M;                   \
        A *row = scratch, *pad = row + lenc, *even = pad + npad * c, *odd = even + lenc;      \
        A *kv = odd + lenc, *ke = kv + 2 * m + 2, *ko = ke + m + 2;                           \
        const void **rows = ptrs, **pe = ptrs + 2 * m + 2, **po = pe + m + 2;                 \
        int ne = 0, no = 0;                                                                   \
        for (int d = -m; d <= m; d++) {                                                       \
            if (d % 2 == 0) { /* even pixels: coarse column j + d / 2 */                      \
                pe[ne] = pad + (d / 2 + M) * c;                                               \
                ke[ne++] = up[m + d];                                                         \
            } else { /* odd pixels 2j + 1: coarse column j + (d + 1) / 2 */                   \
                po[no] = pad + ((d + 1) / 2 + M) * c;                                         \
                ko[no++] = up[m + d];                                                         \
            }                                                                                 \
        }                                                                                     \
        (void)hc;                                                                             \
        for (Py_ssize_t y = r0; y < r1; y++) {                                                \
            int n = 0;                                                                        \
            if (h == 1) {                                                                     \
                rows[0] = src;                                                                \
                kv[0] = 1;                                                                    \
                n = 1;                                                                        \
            } else {                                                                          \
                for (int d = -m; d <= m; d++) {                                               \
                    if (((y + d) & 1) == 0) {                                                 \
                        rows[n] = src + (reflect101(y + d, h) / 2) * lenc * itemsize;         \
                        kv[n++] = up[m + d];                                                  \
                    }                                                                         \
                }                                                                             \
            }                                                                                 \
            A *out = dst + y * w * c;                                                         \
            if (w == 1) {                                                                     \
                vsum(rows, kv, n, 0, lenc, out);                                              \
                if (base)                                                                     \
                    combine_##A(out, base + y * c * ITEMSIZE[base_kind], base_kind, c,        \
                                subtract);                                                    \
                continue;                                                                     \
            }                                                                                 \
            vsum(rows, kv, n, 0, lenc, row);                                                  \
            for (Py_ssize_t u = 0; u < npad; u++) {                                           \
                const A *from = row + (reflect101(2 * (u - M), w) / 2) * c;                   \
                for (Py_ssize_t ch = 0; ch < c; ch++)                                         \
                    pad[u * c + ch] = from[ch];                                               \
            }                                                                                 \
            hsum(pe, ke, ne, 0, wc * c, even);                                                \
            hsum(po, ko, no, 0, (w / 2) * c, odd);                                            \
            switch (c) {                                                                      \
            case 1:                                                                           \
                for (Py_ssize_t j = 0; j < w / 2; j++) {                                      \
                    out[2 * j] = even[j];                                                     \
                    out[2 * j + 1] = odd[j];                                                  \
                }                                                                             \
                break;                                                                        \
            case 3:                                                                           \
                for (Py_ssize_t j = 0; j < w / 2; j++) {                                      \
                    out[6 * j] = even[3 * j];                                                 \
                    out[6 * j + 1] = even[3 * j + 1];                                         \
                    out[6 * j + 2] = even[3 * j + 2];                                         \
                    out[6 * j + 3] = odd[3 * j];                                              \
                    out[6 * j + 4] = odd[3 * j + 1];                                          \
                    out[6 * j + 5] = odd[3 * j + 2];                                          \
                }                                                                             \
                break;                                                                        \
            default:                                                                          \
                for (Py_ssize_t j = 0; j < w / 2; j++)                                        \
                    for (Py_ssize_t ch = 0; ch < c; ch++) {                                   \
                        out[2 * j * c + ch] = even[j * c + ch];                               \
                        out[(2 * j + 1) * c + ch] = odd[j * c + ch];                          \
                    }                                                                         \
            }                                                                                 \
            if (w % 2)                                                                        \
                for (Py_ssize_t ch = 0; ch < c; ch++)                                         \
                    out[(w - 1) * c + ch] = even[(wc - 1) * c + ch];                          \
            if (base)                                                                         \
                combine_##A(out, base + y * w * c * ITEMSIZE[base_kind], base_kind, w * c,    \
                            subtract);                                                        \
        }                                                                                     \
    }

DEFINE_EXPAND(float)
DEFINE_EXPAND(double)


/* The checks both entry points share: taps, alignment, row range. 0, or -1 with an error set. */
static int check_common(const Py_buffer *src, Py_ssize_t src_item, const Py_buffer *dst,
                        Py_ssize_t dst_item, const Py_buffer *taps, Py_ssize_t r0,
                        Py_ssize_t r1, Py_ssize_t rows)
{
    const Py_ssize_t ntaps = taps->len / (Py_ssize_t)sizeof(double);
    if (taps->len % (Py_ssize_t)sizeof(double) != 0 || ntaps % 2 != 1 || ntaps > WB_MAX_TAPS) {
        PyErr_SetString(PyExc_ValueError, "taps must be an odd number of float64 values, at "
                                          "most MAX_TAPS");
        return -1;
    }
    if ((uintptr_t)src->buf % (uintptr_t)src_item != 0 ||
        (uintptr_t)dst->buf % (uintptr_t)dst_item != 0 ||
        (uintptr_t)taps->buf % sizeof(double) != 0) {
        PyErr_SetString(PyExc_ValueError, "buffers must be aligned to their sample size");
        return -1;
    }
    if (r0 < 0 || r1 > rows || r0 > r1) {
        PyErr_SetString(PyExc_ValueError, "row range outside the output");
        return -1;
    }
    return 0;
}

/* Scratch of `accs` accumulators (float, or double when `wide`) whose last ntaps hold the taps
 * in that type, and `nptrs` pointers. NULL, with MemoryError set, when either allocation fails. */
static void *scratch_with_taps(Py_ssize_t accs, int wide, const Py_buffer *taps,
                               Py_ssize_t nptrs, const void ***ptrs, void **k)
{
    const Py_ssize_t ntaps = taps->len / (Py_ssize_t)sizeof(double);
    const double *k64 = (const double *)taps->buf;
    void *scratch = malloc((size_t)accs * (wide ? sizeof(double) : sizeof(float)));
    *ptrs = malloc((size_t)nptrs * sizeof(void *));
    if (scratch == NULL || *ptrs == NULL) {
        free(scratch);
        free((void *)*ptrs);
        PyErr_NoMemory();
        return NULL;
    }
    if (wide) {
        *k = (double *)scratch + accs - ntaps;
        memcpy(*k, k64, (size_t)ntaps * sizeof(double));
    } else {
        float *kf = (float *)scratch + accs - ntaps;
        for (Py_ssize_t t = 0; t < ntaps; t++)
            kf[t] = (float)k64[t];
        *k = kf;
    }
    return scratch;
}

static PyObject *reduce_rows(PyObject *self, PyObject *args)
{
    Py_buffer src = {0}, dst = {0}, taps = {0};
    Py_ssize_t h, w, c, r0, r1;
    int kind, simd = 1;
    PyObject *result = NULL;
    (void)self;
    if (!PyArg_ParseTuple(args, "y*w*y*nnnnni|p", &src, &dst, &taps, &h, &w, &c, &r0, &r1,
                          &kind, &simd))
        return NULL;
    const Py_ssize_t ntaps = taps.len / (Py_ssize_t)sizeof(double);
    const Py_ssize_t ho = h / 2 + h % 2, wo = w / 2 + w % 2; /* ceil, without h + 1 overflowing */
    if (kind < KIND_U8 || kind > KIND_F64) {
        PyErr_SetString(PyExc_ValueError, "unknown sample kind");
        goto done;
    }
    /* sizes checked by division first: the products below must not overflow */
    if (h < 1 || w < 1 || c < 1 || w > PY_SSIZE_T_MAX / c / ITEMSIZE[kind] ||
        h > PY_SSIZE_T_MAX / (w * c * ITEMSIZE[kind]) || src.len != h * w * c * ITEMSIZE[kind] ||
        dst.len != ho * wo * c * ITEMSIZE[kind]) {
        PyErr_SetString(PyExc_ValueError, "buffer sizes do not match the image shape");
        goto done;
    }
    if (check_common(&src, ITEMSIZE[kind], &dst, ITEMSIZE[kind], &taps, r0, r1, ho) < 0)
        goto done;
    const int m = (int)(ntaps / 2);
    const Py_ssize_t accs = w * c + (wo + m) * c + (w / 2 + m) * c + WB_BLOCK + ntaps;
    const int wide = kind == KIND_F64;
    const void **ptrs;
    void *k;
    void *scratch = scratch_with_taps(accs, wide, &taps, 2 * ntaps, &ptrs, &k);
    if (scratch == NULL)
        goto done;
    const int avx2 = simd && use_avx2();
    Py_BEGIN_ALLOW_THREADS;
    if (wide) {
        drive_double(src.buf, 8, h, w, c, dst.buf, k, m, r0, r1, scratch, ptrs, vertical_f64,
                     NULL, horizontal_f64);
    } else {
        vertical_fn vertical = kind == KIND_U8 ? vertical_u8 : kind == KIND_U16 ? vertical_u16 : vertical_f32;
        horizontal_fn horizontal = kind == KIND_U8    ? horizontal_u8
                                   : kind == KIND_U16 ? horizontal_u16
                                                      : horizontal_f32;
        vsplit_fn vsplit = NULL;
#if WB_HAVE_AVX2
        if (avx2) {
            vsplit = kind == KIND_U8    ? vsplit_u8_avx2
                     : kind == KIND_U16 ? vsplit_u16_avx2
                                        : vsplit_f32_avx2;
            vertical = kind == KIND_U8    ? vertical_u8_avx2
                       : kind == KIND_U16 ? vertical_u16_avx2
                                          : vertical_f32_avx2;
            horizontal = kind == KIND_U8    ? horizontal_u8_avx2
                         : kind == KIND_U16 ? horizontal_u16_avx2
                                            : horizontal_f32_avx2;
        }
#endif
        drive_float(src.buf, ITEMSIZE[kind], h, w, c, dst.buf, k, m, r0, r1, scratch, ptrs,
                    vertical, vsplit, horizontal);
    }
    Py_END_ALLOW_THREADS;
    (void)avx2;
    free((void *)ptrs);
    free(scratch);
    result = Py_NewRef(Py_None);
done:
    PyBuffer_Release(&src);
    PyBuffer_Release(&dst);
    PyBuffer_Release(&taps);
    return result;
}


static PyObject *expand_rows(PyObject *self, PyObject *args)
{
    Py_buffer src = {0}, dst = {0}, taps = {0}, base = {0};
    Py_ssize_t hc, wc, c, h, w, r0, r1;
    int kind, simd = 1, base_kind = -1, subtract = 0;
    PyObject *result = NULL;
    (void)self;
    if (!PyArg_ParseTuple(args, "y*w*y*nnnnnnni|pz*ip", &src, &dst, &taps, &hc, &wc, &c, &h, &w,
                          &r0, &r1, &kind, &simd, &base, &base_kind, &subtract))
        return NULL;
    const Py_ssize_t ntaps = taps.len / (Py_ssize_t)sizeof(double);
    if (kind < KIND_U8 || kind > KIND_F64) {
        PyErr_SetString(PyExc_ValueError, "unknown sample kind");
        goto done;
    }
    const Py_ssize_t out_size = kind == KIND_F64 ? 8 : 4; /* float32 out, float64 for float64 */
    /* sizes checked by division first: the products below must not overflow */
    if (h < 1 || w < 1 || c < 1 || hc != h / 2 + h % 2 || wc != w / 2 + w % 2 ||
        w > PY_SSIZE_T_MAX / c / 8 || h > PY_SSIZE_T_MAX / (w * c * 8) ||
        src.len != hc * wc * c * ITEMSIZE[kind] || dst.len != h * w * c * out_size) {
        PyErr_SetString(PyExc_ValueError, "buffer sizes do not match the image shapes");
        goto done;
    }
    if (check_common(&src, ITEMSIZE[kind], &dst, out_size, &taps, r0, r1, h) < 0)
        goto done;
    if (base.buf != NULL &&
        (base_kind < KIND_U8 || base_kind > KIND_F64 ||
         base.len != h * w * c * ITEMSIZE[base_kind] ||
         (uintptr_t)base.buf % (uintptr_t)ITEMSIZE[base_kind] != 0)) {
        PyErr_SetString(PyExc_ValueError, "base must be an aligned (height, width, channels) "
                                          "image of base_kind");
        goto done;
    }
    const int m = (int)(ntaps / 2);
    const Py_ssize_t M = (m + 1) / 2;
    const Py_ssize_t accs = wc * c + (wc + 2 * M) * c + 2 * wc * c + 4 * (Py_ssize_t)m + 6 + ntaps;
    const int wide = kind == KIND_F64;
    const void **ptrs;
    void *k;
    void *scratch = scratch_with_taps(accs, wide, &taps, 4 * (Py_ssize_t)m + 6, &ptrs, &k);
    if (scratch == NULL)
        goto done;
    const int avx2 = simd && use_avx2();
    Py_BEGIN_ALLOW_THREADS;
    if (wide) {
        expand_double(src.buf, 8, hc, wc, c, dst.buf, h, w, k, m, r0, r1, scratch, ptrs,
                      wsum_f64, wsum_f64, base.buf, base_kind, subtract);
    } else {
        wsum_fn vsum = kind == KIND_U8 ? wsum_u8 : kind == KIND_U16 ? wsum_u16 : wsum_f32;
        wsum_fn hsum = wsum_f32;
#if WB_HAVE_AVX2
        if (avx2) {
            vsum = kind == KIND_U8 ? wsum_u8_avx2 : kind == KIND_U16 ? wsum_u16_avx2 : wsum_f32_avx2;
            hsum = wsum_f32_avx2;
        }
#endif
        expand_float(src.buf, ITEMSIZE[kind], hc, wc, c, dst.buf, h, w, k, m, r0, r1, scratch,
                     ptrs, vsum, hsum, base.buf, base_kind, subtract);
    }
    Py_END_ALLOW_THREADS;
    (void)avx2;
    free((void *)ptrs);
    free(scratch);
    result = Py_NewRef(Py_None);
done:
    PyBuffer_Release(&src);
    PyBuffer_Release(&dst);
    PyBuffer_Release(&taps);
    if (base.obj != NULL)
        PyBuffer_Release(&base);
    return result;
}

static PyMethodDef methods[] = {
    {"reduce_rows", reduce_rows, METH_VARARGS,
     "reduce_rows(src, dst, taps, height, width, channels, row_begin, row_end, kind, simd=True)\n\n"
     "Blur and decimate output rows [row_begin, row_end) of a C-contiguous image into dst;\n"
     "taps are float64, kind 0..3 = uint8, uint16, float32, float64. simd=False runs the\n"
     "plain loops even where AVX2 is available. Releases the GIL."},
    {"expand_rows", expand_rows, METH_VARARGS,
     "expand_rows(src, dst, taps, coarse_height, coarse_width, channels, height, width,\n"
     "            row_begin, row_end, kind, simd=True, base=None, base_kind=-1, subtract=False)\n\n"
     "EXPAND rows [row_begin, row_end) of the (height, width) level from the C-contiguous\n"
     "coarse level src (kind 0..3 = uint8, uint16, float32, float64) into dst (float32;\n"
     "float64 for kind 3); taps are the float64 upsampling taps. With base (an image of the\n"
     "fine shape, kind base_kind) dst gets base + expanded, or base - expanded with subtract.\n"
     "Releases the GIL."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "_reduce",
    .m_doc = "Compiled REDUCE (blur + decimate by 2) for workbench.pyramid.levels.",
    .m_size = -1,
    .m_methods = methods,
};

PyMODINIT_FUNC PyInit__reduce(void)
{
    PyObject *mod = PyModule_Create(&module);
    if (mod != NULL && (PyModule_AddStringConstant(mod, "SIMD", WB_SIMD_NAME) < 0 ||
                        PyModule_AddIntConstant(mod, "MAX_TAPS", WB_MAX_TAPS) < 0)) {
        Py_DECREF(mod);
        return NULL;
    }
    return mod;
}
