/*
 * ref.cpp: CPU reference of decode attention in double precision.
 *
 * O[r][h] = softmax(q[r][h] . K[r][h/g]^T / sqrt(d)) V[r][h/g] with the
 * inputs read from the same 16-bit values the GPU reads, and optionally
 * each row's log-sum-exp of the scaled scores; every product and sum in
 * double.  Work items (request, kv head, a block of its query heads) are
 * spread over std::thread workers; each decodes its K and V rows once, a
 * block of tokens at a time, for all the heads it holds.
 *
 * leanbench computes this before it times a workload, so it is written for
 * speed: split accumulators in the dot products (ref_dot2), four tokens per
 * pass over the output, fp16 decoded by F16C where the CPU has it, and an
 * AVX2 build of the worker beside the baseline one (REF_CLONES).  Only the
 * order of the dot products' sums differs from one running sum per dot.
 */
#include "attn.h"

#include <math.h>
#include <string.h>
#include <atomic>
#include <thread>
#include <vector>
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)   /* gcc, nvcc's host compiler */
#include <immintrin.h>
#define REF_X86 1
/* the worker built twice, for AVX2 (four doubles an instruction; without
 * FMA, so with the same roundings) and for baseline x86-64 (SSE2); the
 * loader picks the one this CPU runs */
#define REF_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define REF_CLONES
#endif

float attn_elem_to_float(uint16_t x, int dtype)
{
    uint32_t b;
    if (dtype == DTYPE_BF16) {
        b = (uint32_t)x << 16;
    } else {
        uint32_t s = (uint32_t)(x >> 15) << 31, e = (x >> 10) & 31, m = x & 1023;
        if (e == 0) {
            if (m == 0) b = s;
            else {   /* subnormal: renormalise */
                e = 113;
                while (!(m & 1024)) { m <<= 1; e--; }
                b = s | (e << 23) | ((m & 1023) << 13);
            }
        } else if (e == 31) {
            b = s | 0x7f800000u | (m << 13);
        } else {
            b = s | ((e + 112) << 23) | (m << 13);
        }
    }
    float f;
    memcpy(&f, &b, 4);
    return f;
}

void attn_reference(const workload *w, const uint16_t *q, const uint16_t *k, const uint16_t *v,
                    double *o, int threads)
{
    attn_reference_lse(w, q, k, v, o, NULL, 0, threads);
}

/* Tokens per block: the decoded K (or V) rows of a block, REF_BLOCK_ELEMS
 * doubles (32 KB), stay in L1/L2 while every head of the item uses them. */
#define REF_BLOCK_ELEMS 4096

/* n stored elements of dtype to double, each equal to attn_elem_to_float
 * for every 16-bit pattern.  Arithmetic rather than a table so that the
 * compiler vectorises it; fp16 still costs about a cycle per element this
 * way, as much as the dot products of a GQA group of 4, so x86 CPUs with
 * F16C convert it in hardware (ref_decode_f16c). */
static void ref_decode_c(double *dst, const uint16_t *src, int64_t n, int dtype)
{
    if (dtype == DTYPE_BF16) {
        for (int64_t i = 0; i < n; i++) {
            const uint32_t b = (uint32_t)src[i] << 16;
            float f;
            memcpy(&f, &b, 4);
            dst[i] = f;
        }
        return;
    }
    for (int64_t i = 0; i < n; i++) {   /* fp16 (and whatever attn_elem_to_float reads as fp16) */
        /* normal: exponent and mantissa moved into float's fields, the
         * exponent rebiased by 127 - 15; inf/NaN (exponent field 31) get
         * float's all-ones one; zero and subnormals are m x 2^-24, exact in
         * float.  All three computed and one kept by masks, without branches
         * (so that it vectorises) or subnormal float arithmetic (which some
         * CPUs trap to microcode). */
        const uint32_t x = src[i], em = x & 0x7fff;
        const uint32_t is_sub = 0u - (uint32_t)(em < 0x400), is_inf = 0u - (uint32_t)(em > 0x7bff);
        const uint32_t norm = ((em << 13) + (112u << 23)) | (is_inf & 0x7f800000u);
        const float fs = (float)(int32_t)em * 5.9604644775390625e-8f;   /* 2^-24 */
        uint32_t sub;
        memcpy(&sub, &fs, 4);
        const uint32_t b = (sub & is_sub) | (norm & ~is_sub) | (x & 0x8000) << 16;
        float f;
        memcpy(&f, &b, 4);
        dst[i] = f;
    }
}

#ifdef REF_X86
/* fp16 to double, eight at a time, by the F16C conversion (exact, and
 * equal to attn_elem_to_float: a signalling NaN comes out quiet either way
 * once it is a double). */
__attribute__((target("avx,f16c"))) static void ref_decode_f16c(double *dst, const uint16_t *src, int64_t n)
{
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 f = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(src + i)));
        _mm256_storeu_pd(dst + i, _mm256_cvtps_pd(_mm256_castps256_ps128(f)));
        _mm256_storeu_pd(dst + i + 4, _mm256_cvtps_pd(_mm256_extractf128_ps(f, 1)));
    }
    ref_decode_c(dst + i, src + i, n - i, DTYPE_FP16);
}
#endif

/* ref_decode_c, by F16C where f16c is set (fp16 only: the caller checks). */
static inline void ref_decode(double *dst, const uint16_t *src, int64_t n, int dtype, int f16c)
{
#ifdef REF_X86
    if (f16c && dtype != DTYPE_BF16) { ref_decode_f16c(dst, src, n); return; }
#endif
    (void)f16c;
    ref_decode_c(dst, src, n, dtype);
}

/* Four doubles: the compiler's generic vectors (two SSE2 registers, one
 * AVX register, plain code elsewhere; the same results on all).  Loads go
 * through memcpy (no alignment assumed) and nothing passes them by value
 * (whose ABI differs between the builds). */
typedef double ref_v4 __attribute__((vector_size(32)));

/* q . k0 and q . k1 over d elements, every product and sum in double.  One
 * running sum is a chain of d dependent adds (4 cycles each); eight partial
 * sums per dot (of the elements e = i mod 8) are independent chains the
 * CPU overlaps, added pairwise at the end: the same products summed in
 * another order.  Two keys at once share the loads of q. */
static inline void ref_dot2(const double *q, const double *k0, const double *k1, int d, double *s0, double *s1)
{
    ref_v4 a0 = {0, 0, 0, 0}, a1 = a0, b0 = a0, b1 = a0;
    int e = 0;
    for (; e + 8 <= d; e += 8) {
        ref_v4 q0, q1, x0, x1, y0, y1;
        memcpy(&q0, q + e, sizeof q0);
        memcpy(&q1, q + e + 4, sizeof q1);
        memcpy(&x0, k0 + e, sizeof x0);
        memcpy(&x1, k0 + e + 4, sizeof x1);
        memcpy(&y0, k1 + e, sizeof y0);
        memcpy(&y1, k1 + e + 4, sizeof y1);
        a0 += q0 * x0;
        a1 += q1 * x1;
        b0 += q0 * y0;
        b1 += q1 * y1;
    }
    a0 += a1;
    b0 += b1;
    double t0 = (a0[0] + a0[1]) + (a0[2] + a0[3]), t1 = (b0[0] + b0[1]) + (b0[2] + b0[3]);
    for (; e < d; e++) {   /* head dims are multiples of 8: never, today */
        t0 += q[e] * k0[e];
        t1 += q[e] * k1[e];
    }
    *s0 = t0;
    *s1 = t1;
}

/* What every worker shares. */
typedef struct ref_job {
    const workload *w;
    const uint16_t *q, *k, *v;
    double *o, *lse;
    int log2_domain;
    const int64_t *base;   /* [batch]: element offset of each request's K (and V) */
    int nb, hb, items;     /* head blocks per (request, kv head), heads per block, work items */
    int tb;                /* tokens per block */
    int f16c;              /* 1: fp16 through ref_decode_f16c */
    std::atomic<int> next; /* next work item */
} ref_job;

/* A worker: takes work items until none is left.  Scratch is its own. */
REF_CLONES static void ref_work(ref_job *jb)
{
    const workload *w = jb->w;
    const int D = w->head_dim, G = w->heads / w->kv_heads, hb = jb->hb, nb = jb->nb, tb = jb->tb;
    const double scale = 1.0 / sqrt((double)D);
    /* s holds the item's scaled scores, [head][token]; kv one block of
     * decoded K or V rows; pb the block's exponentials of one head */
    std::vector<double> qd((size_t)hb * D), s, od((size_t)hb * D), mx(hb), sum(hb), pb(tb), kv((size_t)tb * D);
    for (int it; (it = jb->next.fetch_add(1)) < jb->items;) {
        const int unit = it / nb, r = unit / w->kv_heads, kh = unit % w->kv_heads;
        const int h0 = kh * G + (it % nb) * hb;
        const int nh = h0 + hb <= (kh + 1) * G ? hb : (kh + 1) * G - h0;
        const int64_t n = w->ctx[r];
        const uint16_t *kp = jb->k + jb->base[r] + (int64_t)kh * n * D;
        const uint16_t *vp = jb->v + jb->base[r] + (int64_t)kh * n * D;
        ref_decode(qd.data(), jb->q + ((int64_t)r * w->heads + h0) * D, (int64_t)nh * D, w->dtype, jb->f16c);
        s.resize((size_t)n * nh);
        /* pass 1: scores and each head's maximum */
        for (int j = 0; j < nh; j++) mx[j] = -INFINITY;
        for (int64_t t0 = 0; t0 < n; t0 += tb) {
            const int nt = n - t0 < tb ? (int)(n - t0) : tb;
            ref_decode(kv.data(), kp + t0 * D, (int64_t)nt * D, w->dtype, jb->f16c);
            for (int j = 0; j < nh; j++) {
                double *sj = &s[(size_t)j * n + t0], m = mx[j];
                for (int tt = 0; tt < nt; tt += 2) {   /* an odd block's last key goes twice */
                    const int t1 = tt + 1 < nt ? tt + 1 : tt;
                    double s0, s1;
                    ref_dot2(&qd[(size_t)j * D], &kv[(size_t)tt * D], &kv[(size_t)t1 * D], D, &s0, &s1);
                    sj[tt] = s0 * scale;
                    sj[t1] = s1 * scale;
                    if (sj[tt] > m) m = sj[tt];
                    if (sj[t1] > m) m = sj[t1];
                }
                mx[j] = m;
            }
        }
        /* pass 2: exponentials, their sums and P V; each of these sums runs
         * over the tokens in order, as one running sum would */
        for (int j = 0; j < nh; j++) sum[j] = 0;
        for (size_t e = 0; e < od.size(); e++) od[e] = 0;
        for (int64_t t0 = 0; t0 < n; t0 += tb) {
            const int nt = n - t0 < tb ? (int)(n - t0) : tb;
            ref_decode(kv.data(), vp + t0 * D, (int64_t)nt * D, w->dtype, jb->f16c);
            for (int j = 0; j < nh; j++) {
                const double *sj = &s[(size_t)j * n + t0];
                double sm = sum[j];
                for (int tt = 0; tt < nt; tt++) { pb[tt] = exp(sj[tt] - mx[j]); sm += pb[tt]; }
                sum[j] = sm;
                /* four tokens per pass over o: a quarter of its loads and
                 * stores, each element's sum still in token order */
                double *oj = &od[(size_t)j * D];
                int tt = 0;
                for (; tt + 4 <= nt; tt += 4) {
                    const double p0 = pb[tt], p1 = pb[tt + 1], p2 = pb[tt + 2], p3 = pb[tt + 3];
                    const double *r0 = &kv[(size_t)tt * D], *r1 = r0 + D, *r2 = r1 + D, *r3 = r2 + D;
                    for (int e = 0; e < D; e++) oj[e] = (((oj[e] + p0 * r0[e]) + p1 * r1[e]) + p2 * r2[e]) + p3 * r3[e];
                }
                for (; tt < nt; tt++) {
                    const double pw = pb[tt], *row = &kv[(size_t)tt * D];
                    for (int e = 0; e < D; e++) oj[e] += pw * row[e];
                }
            }
        }
        for (int j = 0; j < nh; j++) {
            const int64_t p = (int64_t)r * w->heads + h0 + j;
            for (int e = 0; e < D; e++) jb->o[p * D + e] = od[(size_t)j * D + e] / sum[j];
            if (jb->lse) {   /* natural: mx + ln(sum); log2 units: that times log2(e) */
                const double l = n > 0 ? mx[j] + log(sum[j]) : -INFINITY;
                jb->lse[p] = jb->log2_domain ? l / log(2.0) : l;
            }
        }
    }
}

void attn_reference_lse(const workload *w, const uint16_t *q, const uint16_t *k, const uint16_t *v,
                        double *o, double *lse, int log2_domain, int threads)
{
    const int D = w->head_dim, G = w->heads / w->kv_heads;
    std::vector<int64_t> base(w->batch);
    int64_t off = 0;
    for (int r = 0; r < w->batch; r++) { base[r] = off; off += w->ctx[r] * w->kv_heads * D; }
    if (threads < 1) threads = 1;
    ref_job jb;
    jb.w = w;
    jb.q = q;
    jb.k = k;
    jb.v = v;
    jb.o = o;
    jb.lse = lse;
    jb.log2_domain = log2_domain;
    jb.base = base.data();
    /* work item: the heads [h0, h0 + hb) of one (request, kv head): each K
     * and V row is decoded once for all of them (a GQA group reads its KV
     * once, not once per head); the group is cut into blocks when there
     * are too few (request, kv head) pairs to keep every thread busy */
    const int units = w->batch * w->kv_heads;
    int nb = (2 * threads + units - 1) / units;
    if (nb > G) nb = G;
    if (nb < 1) nb = 1;
    jb.hb = (G + nb - 1) / nb;
    jb.nb = (G + jb.hb - 1) / jb.hb;
    jb.items = units * jb.nb;
    jb.tb = D < REF_BLOCK_ELEMS ? REF_BLOCK_ELEMS / D : 1;
#ifdef REF_X86
    jb.f16c = __builtin_cpu_supports("avx") && __builtin_cpu_supports("f16c");
#else
    jb.f16c = 0;
#endif
    jb.next.store(0);
    std::vector<std::thread> ts;
    for (int i = 1; i < threads; i++) ts.emplace_back(ref_work, &jb);
    ref_work(&jb);
    for (auto &t : ts) t.join();
}
