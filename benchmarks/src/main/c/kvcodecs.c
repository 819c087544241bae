/*
 * Native anchor for the pagedkv codec benchmarks: the same block formats as io.pagedkv.dtype, written
 * here from the format descriptions in docs/codecs.md (not from any other project's code), built by
 * benchmarks/run.sh with gcc -O3 -march=native -shared when gcc is present, and called from
 * NativeCodecBenchmark through FFM downcalls in the same JMH run as the Java codecs.
 *
 * Every function converts n values (a multiple of 32 for q8_0/q4_0) in one call; there are no input
 * checks (the Java codecs reject NaN and infinity for q8_0/q4_0 before writing; this anchor does not,
 * so it measures the format alone). The block quantisers use AVX2 (their per-group reduction and
 * roundf's halves-away-from-zero are not auto-vectorised by gcc); the element-wise formats are plain C
 * loops that gcc vectorises. NativeCodecBenchmark checks at set-up that every function gives exactly
 * the bytes (and floats) of the Java codecs.
 */
#include <stdint.h>
#include <string.h>
#include <math.h>
#ifdef __AVX2__
#include <immintrin.h>
#endif

/* ---- fp16 scale (round to nearest even) ---------------------------------------------------------- */

static inline uint16_t f32_to_f16(float f) {
#ifdef __F16C__
    return (uint16_t) _cvtss_sh(f, _MM_FROUND_TO_NEAREST_INT);
#else
    uint32_t b; memcpy(&b, &f, 4);
    uint32_t sign = (b >> 16) & 0x8000u, a = b & 0x7FFFFFFFu;
    if (a > 0x7F800000u) return (uint16_t) (sign | 0x7E00u | ((a >> 13) & 0x3FFu));
    if (a >= 0x477FF000u) return (uint16_t) (sign | 0x7C00u);
    if (a < 0x38800000u) { float u = (float) (fabs(f) * 16777216.0); return (uint16_t) (sign | (uint32_t) nearbyintf(u)); }
    uint32_t r = a - (112u << 23);
    return (uint16_t) (sign | ((r + 0xFFFu + ((r >> 13) & 1u)) >> 13));
#endif
}

static inline float f16_to_f32(uint16_t h) {
#ifdef __F16C__
    return _cvtsh_ss(h);
#else
    uint32_t sign = (uint32_t) (h & 0x8000u) << 16, mag = h & 0x7FFFu, bits;
    if (mag >= 0x7C00u) bits = 0x7F800000u | ((mag & 0x3FFu) << 13) | (mag > 0x7C00u ? 0x400000u : 0);
    else { float v = (float) (mag << 13); memcpy(&bits, &v, 4); uint32_t s = mag << 13; float x; memcpy(&x, &s, 4); x *= 0x1p112f; memcpy(&bits, &x, 4); }
    bits |= sign; float r; memcpy(&r, &bits, 4); return r;
#endif
}

/* ---- Q8_0: per 32 values, fp16 d = max|x| / 127, then q = roundf(x * (1/d)) as int8 ------------- */

#ifdef __AVX2__
static inline float hmax8(__m256 m) {
    __m128 h = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
    h = _mm_max_ps(h, _mm_movehl_ps(h, h));
    h = _mm_max_ss(h, _mm_movehdup_ps(h));
    return _mm_cvtss_f32(h);
}

/* |x| of a group of 32: the maximum, and the four absolute vectors */
static inline float group_amax(const float *x) {
    const __m256 signbit = _mm256_set1_ps(-0.0f);
    __m256 m = _mm256_max_ps(_mm256_max_ps(_mm256_andnot_ps(signbit, _mm256_loadu_ps(x)), _mm256_andnot_ps(signbit, _mm256_loadu_ps(x + 8))),
                             _mm256_max_ps(_mm256_andnot_ps(signbit, _mm256_loadu_ps(x + 16)), _mm256_andnot_ps(signbit, _mm256_loadu_ps(x + 24))));
    return hmax8(m);
}

/* q = roundf(x * id) (halves away from zero) of 32 values, as 32 int8 at out */
static inline void q8_quantise32(const float *x, float id, uint8_t *out) {
    const __m256 signbit = _mm256_set1_ps(-0.0f), vid = _mm256_set1_ps(id), half = _mm256_set1_ps(0.5f), one = _mm256_set1_ps(1.0f);
    __m256i q[4];
    for (int k = 0; k < 4; k++) {
        __m256 y = _mm256_mul_ps(_mm256_loadu_ps(x + 8 * k), vid);
        __m256 a = _mm256_andnot_ps(signbit, y);
        __m256 t = _mm256_round_ps(a, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
        t = _mm256_add_ps(t, _mm256_and_ps(_mm256_cmp_ps(_mm256_sub_ps(a, t), half, _CMP_GE_OQ), one));
        q[k] = _mm256_cvttps_epi32(_mm256_or_ps(t, _mm256_and_ps(signbit, y)));
    }
    __m256i b = _mm256_packs_epi16(_mm256_packs_epi32(q[0], q[1]), _mm256_packs_epi32(q[2], q[3]));
    b = _mm256_permutevar8x32_epi32(b, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
    _mm256_storeu_si256((__m256i *) out, b);
}
#endif

void pk_q8_0_encode(const float *x, uint8_t *out, int64_t n) {
    int64_t groups = n / 32, g = 0;
#ifdef __AVX2__
    /* eight groups at a time: their scale arithmetic (two fp32 divisions, fp16 rounding) as vectors */
    for (; g + 8 <= groups; g += 8, x += 256, out += 8 * 34) {
        float am[8], id[8];
        uint16_t dh[8];
        for (int k = 0; k < 8; k++) am[k] = group_amax(x + 32 * k);
        __m256 d = _mm256_div_ps(_mm256_loadu_ps(am), _mm256_set1_ps(127.0f));
        __m256 nz = _mm256_cmp_ps(d, _mm256_setzero_ps(), _CMP_NEQ_OQ);
        _mm256_storeu_ps(id, _mm256_and_ps(nz, _mm256_div_ps(_mm256_set1_ps(1.0f), d)));
        _mm_storeu_si128((__m128i *) dh, _mm256_cvtps_ph(d, _MM_FROUND_TO_NEAREST_INT));
        for (int k = 0; k < 8; k++) {
            memcpy(out + 34 * k, &dh[k], 2);
            q8_quantise32(x + 32 * k, id[k], out + 34 * k + 2);
        }
    }
#endif
    for (; g < groups; g++, x += 32, out += 34) {
        float amax = 0.0f;
        for (int j = 0; j < 32; j++) amax = fmaxf(amax, fabsf(x[j]));
        float d = amax / 127.0f, id = d != 0.0f ? 1.0f / d : 0.0f;
        uint16_t dh = f32_to_f16(d);
        memcpy(out, &dh, 2);
        for (int j = 0; j < 32; j++) {
            float y = x[j] * id, a = fabsf(y);
            int q = (int) a;
            if (a - (float) q >= 0.5f) q++;
            out[2 + j] = (uint8_t) (int8_t) (y < 0 ? -q : q);
        }
    }
}

void pk_q8_0_decode(const uint8_t *in, float *y, int64_t n) {
    for (int64_t g = 0; g < n / 32; g++, in += 34, y += 32) {
        uint16_t dh; memcpy(&dh, in, 2);
        float d = f16_to_f32(dh);
        const int8_t *q = (const int8_t *) (in + 2);
        for (int j = 0; j < 32; j++) y[j] = (float) q[j] * d;
    }
}

/* ---- Q4_0: per 32 values, d = max / -8 (max: the value of largest magnitude, first on a tie),
 *      q = min(15, (int8)(x * (1/d) + 8.5)), byte j = q[j] | q[j + 16] << 4 --------------------------- */

void pk_q4_0_encode(const float *x, uint8_t *out, int64_t n) {
    int64_t groups = n / 32, g = 0;
#ifdef __AVX2__
    const __m256 signbit = _mm256_set1_ps(-0.0f);
    for (; g + 8 <= groups; g += 8, x += 256, out += 8 * 18) {
        float mx[8], id[8];
        uint16_t dh[8];
        for (int k = 0; k < 8; k++) {
            const float *xg = x + 32 * k;
            float amax = group_amax(xg);
            float max = 0.0f;
            if (amax != 0.0f) { /* the first value whose magnitude is the maximum, with its sign */
                __m256 va = _mm256_set1_ps(amax);
                unsigned bits = (unsigned) _mm256_movemask_ps(_mm256_cmp_ps(_mm256_andnot_ps(signbit, _mm256_loadu_ps(xg)), va, _CMP_EQ_OQ))
                        | (unsigned) _mm256_movemask_ps(_mm256_cmp_ps(_mm256_andnot_ps(signbit, _mm256_loadu_ps(xg + 8)), va, _CMP_EQ_OQ)) << 8
                        | (unsigned) _mm256_movemask_ps(_mm256_cmp_ps(_mm256_andnot_ps(signbit, _mm256_loadu_ps(xg + 16)), va, _CMP_EQ_OQ)) << 16
                        | (unsigned) _mm256_movemask_ps(_mm256_cmp_ps(_mm256_andnot_ps(signbit, _mm256_loadu_ps(xg + 24)), va, _CMP_EQ_OQ)) << 24;
                max = xg[__builtin_ctz(bits)];
            }
            mx[k] = max;
        }
        __m256 d = _mm256_div_ps(_mm256_loadu_ps(mx), _mm256_set1_ps(-8.0f));
        __m256 nz = _mm256_cmp_ps(d, _mm256_setzero_ps(), _CMP_NEQ_OQ);
        _mm256_storeu_ps(id, _mm256_and_ps(nz, _mm256_div_ps(_mm256_set1_ps(1.0f), d)));
        _mm_storeu_si128((__m128i *) dh, _mm256_cvtps_ph(d, _MM_FROUND_TO_NEAREST_INT));
        const __m256 bias = _mm256_set1_ps(8.5f);
        const __m256i fifteen = _mm256_set1_epi32(15);
        for (int k = 0; k < 8; k++) {
            const float *xg = x + 32 * k;
            uint8_t *o = out + 18 * k;
            memcpy(o, &dh[k], 2);
            __m256 vid = _mm256_set1_ps(id[k]);
            __m256i q0 = _mm256_min_epi32(_mm256_cvttps_epi32(_mm256_add_ps(_mm256_mul_ps(_mm256_loadu_ps(xg), vid), bias)), fifteen);
            __m256i q1 = _mm256_min_epi32(_mm256_cvttps_epi32(_mm256_add_ps(_mm256_mul_ps(_mm256_loadu_ps(xg + 8), vid), bias)), fifteen);
            __m256i q2 = _mm256_min_epi32(_mm256_cvttps_epi32(_mm256_add_ps(_mm256_mul_ps(_mm256_loadu_ps(xg + 16), vid), bias)), fifteen);
            __m256i q3 = _mm256_min_epi32(_mm256_cvttps_epi32(_mm256_add_ps(_mm256_mul_ps(_mm256_loadu_ps(xg + 24), vid), bias)), fifteen);
            __m256i lo = _mm256_or_si256(q0, _mm256_slli_epi32(q2, 4)); /* bytes 0..7: values 0..7 and 16..23 */
            __m256i hi = _mm256_or_si256(q1, _mm256_slli_epi32(q3, 4)); /* bytes 8..15: values 8..15 and 24..31 */
            __m256i w = _mm256_packus_epi16(_mm256_packus_epi32(lo, hi), _mm256_setzero_si256());
            w = _mm256_permutevar8x32_epi32(w, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
            _mm_storeu_si128((__m128i *) (o + 2), _mm256_castsi256_si128(w));
        }
    }
#endif
    for (; g < groups; g++, x += 32, out += 18) {
        float amax = 0.0f, max = 0.0f;
        for (int j = 0; j < 32; j++) {
            if (amax < fabsf(x[j])) { amax = fabsf(x[j]); max = x[j]; }
        }
        float d = max / -8.0f, id = d != 0.0f ? 1.0f / d : 0.0f;
        uint16_t dh = f32_to_f16(d);
        memcpy(out, &dh, 2);
        for (int j = 0; j < 16; j++) {
            int lo = (int) (x[j] * id + 8.5f), hi = (int) (x[j + 16] * id + 8.5f);
            if (lo > 15) lo = 15;
            if (hi > 15) hi = 15;
            out[2 + j] = (uint8_t) (lo | hi << 4);
        }
    }
}

void pk_q4_0_decode(const uint8_t *in, float *y, int64_t n) {
    for (int64_t g = 0; g < n / 32; g++, in += 18, y += 32) {
        uint16_t dh; memcpy(&dh, in, 2);
        float d = f16_to_f32(dh);
#ifdef __AVX2__
        __m128i b = _mm_loadu_si128((const __m128i *) (in + 2));
        __m128i lo = _mm_and_si128(b, _mm_set1_epi8(0x0F));
        __m128i hi = _mm_and_si128(_mm_srli_epi16(b, 4), _mm_set1_epi8(0x0F));
        __m256 vd = _mm256_set1_ps(d), eight = _mm256_set1_ps(8.0f);
        _mm256_storeu_ps(y, _mm256_mul_ps(_mm256_sub_ps(_mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(lo)), eight), vd));
        _mm256_storeu_ps(y + 8, _mm256_mul_ps(_mm256_sub_ps(_mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_srli_si128(lo, 8))), eight), vd));
        _mm256_storeu_ps(y + 16, _mm256_mul_ps(_mm256_sub_ps(_mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(hi)), eight), vd));
        _mm256_storeu_ps(y + 24, _mm256_mul_ps(_mm256_sub_ps(_mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_srli_si128(hi, 8))), eight), vd));
#else
        for (int j = 0; j < 16; j++) {
            y[j] = (float) ((in[2 + j] & 0x0F) - 8) * d;
            y[j + 16] = (float) ((in[2 + j] >> 4) - 8) * d;
        }
#endif
    }
}

/* ---- FP8 E4M3FN (1.4.3, bias 7, max 448, no infinity): nearest even, finite values beyond 448
 *      saturate, infinity and NaN become NaN (0x7F with the sign) ---------------------------------- */

void pk_fp8_e4m3_encode(const float *x, uint8_t *out, int64_t n) {
    int64_t i = 0;
#ifdef __AVX2__
    const __m256i absmask = _mm256_set1_epi32(0x7FFFFFFF), rebias = _mm256_set1_epi32(120 << 23), roundk = _mm256_set1_epi32(0x7FFFF),
            one = _mm256_set1_epi32(1), minNormal = _mm256_set1_epi32(0x3C800000 - 1), maxFinite = _mm256_set1_epi32(0x43E00000 - 1),
            inf = _mm256_set1_epi32(0x7F800000 - 1), sat = _mm256_set1_epi32(0x7E), nan = _mm256_set1_epi32(0x7F);
    const __m256 units = _mm256_set1_ps(512.0f), magic = _mm256_set1_ps(8388608.0f);
    for (; i + 8 <= n; i += 8) {
        __m256i b = _mm256_castps_si256(_mm256_loadu_ps(x + i));
        __m256i sign = _mm256_and_si256(_mm256_srli_epi32(b, 24), _mm256_set1_epi32(0x80));
        __m256i a = _mm256_and_si256(b, absmask);
        __m256i r = _mm256_sub_epi32(a, rebias);
        __m256i normal = _mm256_srli_epi32(_mm256_add_epi32(_mm256_add_epi32(r, roundk), _mm256_and_si256(_mm256_srli_epi32(r, 20), one)), 20);
        __m256 u = _mm256_sub_ps(_mm256_add_ps(_mm256_mul_ps(_mm256_castsi256_ps(a), units), magic), magic);
        __m256i sub = _mm256_cvttps_epi32(u);
        __m256i code = _mm256_blendv_epi8(normal, sub, _mm256_cmpgt_epi32(minNormal, a)); /* a < 2^-6 */
        code = _mm256_blendv_epi8(code, sat, _mm256_cmpgt_epi32(a, maxFinite));          /* a >= 448 */
        code = _mm256_blendv_epi8(code, nan, _mm256_cmpgt_epi32(a, inf));                /* a >= inf */
        code = _mm256_or_si256(code, sign);
        __m128i w = _mm_packus_epi32(_mm256_castsi256_si128(code), _mm256_extracti128_si256(code, 1));
        _mm_storel_epi64((__m128i *) (out + i), _mm_packus_epi16(w, w));
    }
#endif
    for (; i < n; i++) {
        uint32_t b; memcpy(&b, &x[i], 4);
        uint32_t sign = (b >> 24) & 0x80u, a = b & 0x7FFFFFFFu, code;
        if (a >= 0x7F800000u) code = 0x7Fu;
        else if (a >= 0x43E00000u) code = 0x7Eu;
        else if (a < 0x3C800000u) { float af; memcpy(&af, &a, 4); code = (uint32_t) (int32_t) ((af * 512.0f + 8388608.0f) - 8388608.0f); }
        else { uint32_t r = a - (120u << 23); code = (r + 0x7FFFFu + ((r >> 20) & 1u)) >> 20; }
        out[i] = (uint8_t) (code | sign);
    }
}

void pk_fp8_e4m3_decode(const uint8_t *in, float *y, int64_t n) {
    int64_t i = 0;
#ifdef __AVX2__
    const __m256i m7f = _mm256_set1_epi32(0x7F), rebias = _mm256_set1_epi32(120 << 23), expmask = _mm256_set1_epi32(0x78),
            qnan = _mm256_set1_epi32(0x7FC00000), s80 = _mm256_set1_epi32(0x80), zero = _mm256_setzero_si256();
    const __m256 subunit = _mm256_set1_ps(0x1p-9f);
    for (; i + 8 <= n; i += 8) {
        __m256i c = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *) (in + i)));
        __m256i mag = _mm256_and_si256(c, m7f);
        __m256i normal = _mm256_add_epi32(_mm256_slli_epi32(mag, 20), rebias);
        __m256i sub = _mm256_castps_si256(_mm256_mul_ps(_mm256_cvtepi32_ps(mag), subunit));
        __m256i bits = _mm256_blendv_epi8(normal, sub, _mm256_cmpeq_epi32(_mm256_and_si256(c, expmask), zero));
        bits = _mm256_blendv_epi8(bits, qnan, _mm256_cmpeq_epi32(mag, m7f));
        bits = _mm256_or_si256(bits, _mm256_slli_epi32(_mm256_and_si256(c, s80), 24));
        _mm256_storeu_ps(y + i, _mm256_castsi256_ps(bits));
    }
#endif
    for (; i < n; i++) {
        uint32_t c = in[i], mag = c & 0x7Fu, bits;
        if (mag == 0x7Fu) bits = 0x7FC00000u;
        else if ((c & 0x78u) == 0) { float f = (float) mag * 0x1p-9f; memcpy(&bits, &f, 4); }
        else bits = (mag << 20) + (120u << 23);
        bits |= (c & 0x80u) << 24;
        memcpy(&y[i], &bits, 4);
    }
}

/* ---- BF16: the upper half of binary32, rounded to nearest even; NaN stays NaN (quiet bit set) ---- */

void pk_bf16_encode(const float *x, uint16_t *out, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        uint32_t b; memcpy(&b, &x[i], 4);
        uint32_t rounded = (b + 0x7FFFu + ((b >> 16) & 1u)) >> 16;
        out[i] = (uint16_t) ((b & 0x7FFFFFFFu) > 0x7F800000u ? (b >> 16) | 0x40u : rounded);
    }
}

void pk_bf16_decode(const uint16_t *in, float *y, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        uint32_t bits = (uint32_t) in[i] << 16;
        memcpy(&y[i], &bits, 4);
    }
}
