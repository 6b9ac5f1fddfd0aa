/*
 * decode.cuh: the decode-attention kernel, one body for every schedule.
 *
 * Build: `make kernels` (nvcc -O3 -gencode arch=compute_90,code=sm_90
 * -std=c++17); included by kernels/decode_d{64,128,256}.cu, each of which
 * instantiates one head dim for fp16 and bf16, GQA row capacities 1, 2, 4,
 * 8 (and 16 at d <= 128) and the L2 prefetch hint off/on.  kernels/attn.cu
 * picks the instance and launches it; gputest checks every instance the
 * planner uses against the CPU reference (kernels/ref.cpp).
 *
 * Each CTA (128 threads) walks its segment list from the plan (sim/plan.c).
 * A segment is a run of KV tiles of one unit (request, kv head); the unit's
 * `rows` query heads are processed together so that each K/V element loaded
 * serves all of them.  The file, in the order a segment runs through it:
 *
 *   cuda_segment   CUDA cores (d = 256): streams the segment's KV and leaves
 *                  one online-softmax state per token group in shared memory
 *   mma_segment    tensor cores (every group at d <= 128): the same, one
 *                  state per warp
 *   segment_end    merges those states and writes the segment's result: a
 *                  partial (slot >= 0), the unit's O (a single-part unit),
 *                  or, in the host CTA of a stream-K unit, waits for the
 *                  peers and merges them in (host_merge)
 *   decode_kernel  the driver: the segment loop
 *   combine_merge  the combine kernel's merge of every partial of a unit
 *                  (split, balanced)
 *
 * Variants chosen at run time (kernels/attn.cu): the L2 256 B prefetch hint
 * on the KV copies (template parameter PF; attn_l2pf_choice,
 * LEANBENCH_L2PF=0/1) and the combine kernel's programmatic dependent
 * launch (attn_pdl_choice, LEANBENCH_PDL=0).  Build-time variants that
 * lost against this code are listed in kernels/NOTES.md ("Removed variants").
 *
 * Napkin math (H100, d=128, fp16): a token is 256 B of K + 256 B of V; at
 * 3 TB/s over 132 SMs and 1.98 GHz an SM receives ~11.5 B/cycle, i.e. one
 * token every ~44 cycles, against 2*rows*d = 256*rows FMAs (2*rows cycles at
 * 128 FMA/cycle) plus log2(16)*rows shuffles on CUDA cores; hence tensor
 * cores for every group at d <= 128.  In flight: 3 stages x 16 KB = 48 KB per
 * CTA, 2-3 CTAs per SM, well above the ~20 KB per SM that latency x
 * bandwidth asks for.
 *
 * Segment endings (plan.h): slot >= 0 writes a partial (O normalised, fp32;
 * lse in log2 units) and, for stream-K, fences and increments cnt[unit];
 * slot == -1 with one part writes O; slot == -1 with several parts (the host
 * holding tile 0) waits until cnt[unit] == parts-1, merges its own state and
 * the partial slots in slot order (deterministic for a given grid), writes
 * O and sets cnt[unit] back to 0 so the next launch needs no memset.  Every
 * writer of a unit's O also writes its rows' log-sum-exp (log2 units) to
 * a.lse when that is not NULL.
 */
#include <cuda_fp16.h>
#include <cuda_bf16.h>
#include <math_constants.h>
#include "attn.h"

namespace dec {

constexpr int STAGES = 4;            /* pipeline depth of the CUDA-core path */
constexpr int CHUNK_BYTES = 8192;    /* K bytes (and V bytes) per stage */

template <int D> struct geo {
    static constexpr int LPT = D / 8;                 /* lanes per token: 16-byte slices */
    static constexpr int TG = ATTN_THREADS / LPT;     /* token groups per CTA */
    static constexpr int CH = CHUNK_BYTES / (D * 2);  /* tokens per chunk */
    static constexpr int TPT = CH / TG;               /* tokens per thread per chunk */
    static_assert(TPT * TG == CH, "chunk must split evenly over token groups");
};

constexpr int SMEM_BYTES = STAGES * 2 * CHUNK_BYTES;  /* 64 KB */

/* ---- primitives ---- */

/* 16-byte copy global -> shared; bytes == 0 writes zeros.  PF: with the
 * L2 256 B prefetch hint, which helps wide grids on the H100 (+3% at 264
 * CTAs) and hurts narrow ones (fa2 with 32 CTAs: 1.43 -> 1.18 TB/s) and
 * the H200, so the launcher picks it (attn_l2pf_choice). */
template <bool PF>
__device__ __forceinline__ void cp16(void *smem, const void *g, int bytes)
{
    unsigned s = (unsigned)__cvta_generic_to_shared(smem);
    if (PF) {
        asm volatile("cp.async.cg.shared.global.L2::256B [%0], [%1], 16, %2;\n" ::"r"(s), "l"(g), "r"(bytes) : "memory");
        return;
    }
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(s), "l"(g), "r"(bytes) : "memory");
}

__device__ __forceinline__ unsigned saddr(const void *p) { return (unsigned)__cvta_generic_to_shared(p); }
__device__ __forceinline__ void cp_commit() { asm volatile("cp.async.commit_group;\n" ::: "memory"); }
template <int N> __device__ __forceinline__ void cp_wait()
{
    asm volatile("cp.async.wait_group %0;\n" ::"n"(N) : "memory");
}

__device__ __forceinline__ uint64_t gtimer()
{
    uint64_t t;
    asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));
    return t;
}
__device__ __forceinline__ int smid()
{
    unsigned s;
    asm volatile("mov.u32 %0, %%smid;" : "=r"(s));
    return (int)s;
}
__device__ __forceinline__ int ld_acquire(const int32_t *p)
{
    int v;
    asm volatile("ld.acquire.gpu.global.s32 %0, [%1];" : "=r"(v) : "l"(p) : "memory");
    return v;
}

template <typename T> __device__ __forceinline__ void to_f8(const uint4 &u, float f[8]);
template <> __device__ __forceinline__ void to_f8<__half>(const uint4 &u, float f[8])
{
    const __half2 *h = reinterpret_cast<const __half2 *>(&u);
#pragma unroll
    for (int k = 0; k < 4; k++) { float2 a = __half22float2(h[k]); f[2 * k] = a.x; f[2 * k + 1] = a.y; }
}
template <> __device__ __forceinline__ void to_f8<__nv_bfloat16>(const uint4 &u, float f[8])
{
    const __nv_bfloat162 *h = reinterpret_cast<const __nv_bfloat162 *>(&u);
#pragma unroll
    for (int k = 0; k < 4; k++) { float2 a = __bfloat1622float2(h[k]); f[2 * k] = a.x; f[2 * k + 1] = a.y; }
}
template <typename T> __device__ __forceinline__ T from_f(float x);
template <> __device__ __forceinline__ __half from_f<__half>(float x) { return __float2half_rn(x); }
template <> __device__ __forceinline__ __nv_bfloat16 from_f<__nv_bfloat16>(float x) { return __float2bfloat16_rn(x); }

__device__ __forceinline__ void tl_put(tl_rec *tl, int idx, int ev, int unit)
{
    tl_rec r;
    r.sm = smid(); r.event = ev; r.unit = unit; r.pad = 0; r.t_ns = gtimer();
    tl[idx] = r;
}

/* Thread 0 of the host CTA of unit u waits until its parts-1 peers have
 * published their partials, sets the count back to 0 for the next launch
 * and records the wait in the timeline (entries idx, idx+1); the caller's
 * block barrier then releases the other threads. */
__device__ __forceinline__ void host_wait(const dec_args &a, int u, int parts, tl_rec *tl, int idx)
{
    if (threadIdx.x == 0) {
        if (tl) tl_put(tl, idx, TL_WAIT_BEGIN, u);
        while (ld_acquire(&a.cnt[u]) < parts - 1) __nanosleep(64);
        a.cnt[u] = 0;   /* every peer has arrived: ready for the next launch */
        if (tl) tl_put(tl, idx + 1, TL_WAIT_END, u);
    }
}

/* ---- CUDA-core path (d = 256) ----
 * A 4-stage cp.async pipeline of 8 KB K + 8 KB V chunks (CH = 4096/d
 * tokens).  Thread t owns the 16-byte slice j = t % (d/8) of the tokens
 * g + TG*i (g = t / (d/8), TG = 128/(d/8), i < TPT) of every chunk: it
 * copies exactly the bytes it later reads, so the pipeline needs no block
 * barrier, only cp.async.wait_group.  Each token group keeps its own
 * online-softmax state (max, sum, O slice).
 *
 * Streams one segment as token group g, slice j and leaves the TG token
 * groups' states in m_s, l_s and acc_s ([TG][RT][D] floats at the start of
 * smem). */
template <typename T, int D, int RT, bool PF>
__device__ __forceinline__ void cuda_segment(const dec_args &a, int u, int ntok, const T *kb, const T *vb, int g, int j,
                                             unsigned char *smem, float (*m_s)[RT], float (*l_s)[RT])
{
    using G = geo<D>;
    const int nch = (ntok + G::CH - 1) / G::CH;
    /* chunk c goes to stage c % STAGES: K at [0, CHUNK_BYTES), V after it */
    auto issue = [&](int c) {
        unsigned char *st = smem + (c % STAGES) * 2 * CHUNK_BYTES;
#pragma unroll
        for (int i = 0; i < G::TPT; i++) {
            const int tok = g + G::TG * i;
            const int t = c * G::CH + tok;
            const bool ok = t < ntok;
            const int64_t off = ok ? (int64_t)t * D + j * 8 : 0;
            cp16<PF>(st + (tok * D + j * 8) * 2, kb + off, ok ? 16 : 0);
            cp16<PF>(st + CHUNK_BYTES + (tok * D + j * 8) * 2, vb + off, ok ? 16 : 0);
        }
    };
#pragma unroll
    for (int c = 0; c < STAGES - 1; c++) {
        if (c < nch) issue(c);
        cp_commit();
    }

    /* this thread's slice of the unit's query rows, prescaled to log2
     * units; loaded while the first chunks are in flight */
    float q[RT][8];
#pragma unroll
    for (int r = 0; r < RT; r++) {
        if (r < a.rows) {
            uint4 qq = *reinterpret_cast<const uint4 *>(static_cast<const T *>(a.q) +
                                                        ((int64_t)u * a.rows + r) * D + j * 8);
            to_f8<T>(qq, q[r]);
#pragma unroll
            for (int e = 0; e < 8; e++) q[r][e] *= a.scale_log2;
        } else {
#pragma unroll
            for (int e = 0; e < 8; e++) q[r][e] = 0.f;
        }
    }
    float m[RT], l[RT], acc[RT][8];
#pragma unroll
    for (int r = 0; r < RT; r++) {
        m[r] = -CUDART_INF_F; l[r] = 0.f;
#pragma unroll
        for (int e = 0; e < 8; e++) acc[r][e] = 0.f;
    }

    for (int c = 0; c < nch; c++) {
        /* stage (c-1) % STAGES was consumed by this thread's previous
         * iteration (its values fed the FMAs), so it can be refilled */
        if (c + STAGES - 1 < nch) issue(c + STAGES - 1);
        cp_commit();
        cp_wait<STAGES - 1>();
        const unsigned char *st = smem + (c % STAGES) * 2 * CHUNK_BYTES;
        const uint4 *ks = reinterpret_cast<const uint4 *>(st);
        const uint4 *vs = reinterpret_cast<const uint4 *>(st + CHUNK_BYTES);

        float p[G::TPT][RT];
#pragma unroll
        for (int i = 0; i < G::TPT; i++) {
            const int tok = g + G::TG * i;
            float kf[8];
            to_f8<T>(ks[tok * G::LPT + j], kf);
#pragma unroll
            for (int r = 0; r < RT; r++) {
                float s = 0.f;
#pragma unroll
                for (int e = 0; e < 8; e++) s = fmaf(q[r][e], kf[e], s);
                p[i][r] = s;
            }
#pragma unroll
            for (int off = G::LPT / 2; off > 0; off >>= 1)
#pragma unroll
                for (int r = 0; r < RT; r++) p[i][r] += __shfl_xor_sync(0xffffffffu, p[i][r], off);
            if (c * G::CH + tok >= ntok)
#pragma unroll
                for (int r = 0; r < RT; r++) p[i][r] = -CUDART_INF_F;
        }
#pragma unroll
        for (int r = 0; r < RT; r++) {
            float mx = m[r];
#pragma unroll
            for (int i = 0; i < G::TPT; i++) mx = fmaxf(mx, p[i][r]);
            const float mu = mx == -CUDART_INF_F ? 0.f : mx;
            const float alpha = exp2f(m[r] - mu);
            float sum = 0.f;
#pragma unroll
            for (int i = 0; i < G::TPT; i++) { p[i][r] = exp2f(p[i][r] - mu); sum += p[i][r]; }
            l[r] = l[r] * alpha + sum;
            m[r] = mx;
#pragma unroll
            for (int e = 0; e < 8; e++) acc[r][e] *= alpha;
        }
#pragma unroll
        for (int i = 0; i < G::TPT; i++) {
            const int tok = g + G::TG * i;
            float vf[8];
            to_f8<T>(vs[tok * G::LPT + j], vf);
#pragma unroll
            for (int r = 0; r < RT; r++)
#pragma unroll
                for (int e = 0; e < 8; e++) acc[r][e] = fmaf(p[i][r], vf[e], acc[r][e]);
        }
    }
    cp_wait<0>();

    /* the token groups' states to shared memory, over the stages */
    __syncthreads();                      /* every thread is done with its stages */
    float *acc_s = reinterpret_cast<float *>(smem);   /* [TG][RT][D] */
#pragma unroll
    for (int r = 0; r < RT; r++) {
#pragma unroll
        for (int e = 0; e < 8; e += 4)
            *reinterpret_cast<float4 *>(&acc_s[(g * RT + r) * D + j * 8 + e]) =
                make_float4(acc[r][e], acc[r][e + 1], acc[r][e + 2], acc[r][e + 3]);
        if (j == 0) { m_s[g][r] = m[r]; l_s[g][r] = l[r]; }
    }
    __syncthreads();
}

/* ---- tensor-core path (every group at d = 64, 128) ----
 * Per chunk of 64 tokens, warp w owns tokens 16w..16w+15: it copies them
 * (cp.async into an XOR-swizzled [token][d] layout, so ldmatrix is free of
 * bank conflicts) and computes S = Q K^T (m16n8k16, the unit's rows in
 * M, padded to 16 with zeros; tokens in N) and O += P V (P from the S
 * accumulators, V through ldmatrix.trans), fp32 accumulation.  Each warp
 * keeps its own online-softmax state; the four are merged like the token
 * groups of the CUDA-core path.  CUDA cores would spend ~2*rows FMAs plus
 * log2(d/8) shuffles per element and row; here a 16-token step is
 * 4*(d/16) mma + d/8 ldmatrix per warp. */
/* rows 0..7 of the tile in a0, a2; rows 8..15 in a1, a3 (zero below a
 * capacity of 16) */
template <typename T> __device__ __forceinline__ void mma16816(float c[4], uint32_t a0, uint32_t a1, uint32_t a2,
                                                               uint32_t a3, uint32_t b0, uint32_t b1);
template <> __device__ __forceinline__ void mma16816<__half>(float c[4], uint32_t a0, uint32_t a1, uint32_t a2,
                                                            uint32_t a3, uint32_t b0, uint32_t b1)
{
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};"
                 : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
                 : "r"(a0), "r"(a1), "r"(a2), "r"(a3), "r"(b0), "r"(b1));
}
template <> __device__ __forceinline__ void mma16816<__nv_bfloat16>(float c[4], uint32_t a0, uint32_t a1, uint32_t a2,
                                                                   uint32_t a3, uint32_t b0, uint32_t b1)
{
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};"
                 : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
                 : "r"(a0), "r"(a1), "r"(a2), "r"(a3), "r"(b0), "r"(b1));
}
__device__ __forceinline__ void ldsm_x4(uint32_t r[4], const void *p)
{
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3]) : "r"(saddr(p)));
}
__device__ __forceinline__ void ldsm_x4_t(uint32_t r[4], const void *p)
{
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3]) : "r"(saddr(p)));
}
template <typename T> __device__ __forceinline__ uint32_t pack2(float x, float y);
template <> __device__ __forceinline__ uint32_t pack2<__half>(float x, float y)
{
    __half2 h = __floats2half2_rn(x, y);
    return *reinterpret_cast<uint32_t *>(&h);
}
template <> __device__ __forceinline__ uint32_t pack2<__nv_bfloat16>(float x, float y)
{
    __nv_bfloat162 h = __floats2bfloat162_rn(x, y);
    return *reinterpret_cast<uint32_t *>(&h);
}

template <int D> struct mgeo {
    static constexpr int CH = 64;                          /* tokens per chunk, 16 per warp */
    static constexpr int CPR = D / 8;                      /* 16-byte pieces per token row */
    static constexpr int KB = CH * D * 2;                  /* K bytes per stage */
    static constexpr int NS = SMEM_BYTES / (2 * KB);       /* stages: 4 (d=64), 2 (d=128) */
    static_assert(NS >= 2 && CPR >= 8, "mma path geometry");
};

/* Streams one segment through the tensor-core path and leaves the four
 * warps' states in m_s, l_s and acc_s ([4][RT][D] at the start of smem). */
template <typename T, int D, int RT, bool PF>
__device__ __forceinline__ void mma_segment(const dec_args &a, int u, int ntok, const T *kb, const T *vb,
                                            unsigned char *smem, float (*m_s)[RT], float (*l_s)[RT])
{
    using M = mgeo<D>;
    constexpr int NT = D / 8, KK = D / 16;
    const int tid = threadIdx.x, lane = tid & 31, w = tid >> 5;
    const int gq = lane >> 2, tq = lane & 3;
    const int nch = (ntok + M::CH - 1) / M::CH;
    auto sw = [](int tok, int ch) { return (tok * D + ((ch ^ (tok & 7)) * 8)) * 2; };   /* byte offset */
    auto issue = [&](int c) {
        unsigned char *st = smem + (c % M::NS) * 2 * M::KB;
#pragma unroll
        for (int i = 0; i < 16 * M::CPR / 32; i++) {
            const int piece = lane + 32 * i;
            const int tok = 16 * w + piece / M::CPR, ch = piece % M::CPR;
            const int t = c * M::CH + tok;
            const bool ok = t < ntok;
            const int64_t off = ok ? (int64_t)t * D + ch * 8 : 0;
            cp16<PF>(st + sw(tok, ch), kb + off, ok ? 16 : 0);
            cp16<PF>(st + M::KB + sw(tok, ch), vb + off, ok ? 16 : 0);
        }
    };
#pragma unroll
    for (int c = 0; c < M::NS - 1; c++) {
        if (c < nch) issue(c);
        cp_commit();
    }
    /* rows gq (qa) and, at a capacity of 16, gq + 8 (qb) of the tile */
    constexpr bool HI = RT > 8;
    uint32_t qa[KK][2], qb[KK][2];
#pragma unroll
    for (int kk = 0; kk < KK; kk++) {
#pragma unroll
        for (int h = 0; h < 2; h++) {
            const int row = gq + 8 * h;
            uint32_t *dst = h ? qb[kk] : qa[kk];
            if ((h == 0 || HI) && row < a.rows) {
                const T *qp = static_cast<const T *>(a.q) + ((int64_t)u * a.rows + row) * D + kk * 16 + 2 * tq;
                dst[0] = *reinterpret_cast<const uint32_t *>(qp);
                dst[1] = *reinterpret_cast<const uint32_t *>(qp + 8);
            } else {
                dst[0] = dst[1] = 0u;
            }
        }
    }
    float acc[NT][4];
#pragma unroll
    for (int n = 0; n < NT; n++) acc[n][0] = acc[n][1] = acc[n][2] = acc[n][3] = 0.f;
    float m = -CUDART_INF_F, l = 0.f, m2 = -CUDART_INF_F, l2 = 0.f;   /* rows gq and gq + 8 */
    const int mi = lane >> 3, r8 = lane & 7;
    for (int c = 0; c < nch; c++) {
        if (c + M::NS - 1 < nch) issue(c + M::NS - 1);
        cp_commit();
        cp_wait<M::NS - 1>();
        __syncwarp();                          /* the warp's copies are visible to all its lanes */
        const unsigned char *st = smem + (c % M::NS) * 2 * M::KB;
        float s[2][4] = {{0.f, 0.f, 0.f, 0.f}, {0.f, 0.f, 0.f, 0.f}};
#pragma unroll
        for (int kk = 0; kk < KK; kk++) {
            uint32_t b[4];
            ldsm_x4(b, st + sw(16 * w + (mi >> 1) * 8 + r8, 2 * kk + (mi & 1)));
            mma16816<T>(s[0], qa[kk][0], qb[kk][0], qa[kk][1], qb[kk][1], b[0], b[1]);
            mma16816<T>(s[1], qa[kk][0], qb[kk][0], qa[kk][1], qb[kk][1], b[2], b[3]);
        }
        const int tb = c * M::CH + 16 * w + 2 * tq;
        /* the online softmax of one row of the tile: its scores sv (tokens
         * tb, tb+1, tb+8, tb+9), its state (mr, lr); returns the rescale
         * of its accumulators and leaves the probabilities in p */
        auto softmax_row = [&](float sv[4], float &mr, float &lr, float p[4]) {
#pragma unroll
            for (int i = 0; i < 4; i++) {
                const int t = tb + (i >> 1) * 8 + (i & 1);
                sv[i] = t < ntok ? sv[i] * a.scale_log2 : -CUDART_INF_F;
            }
            float mx = fmaxf(fmaxf(sv[0], sv[1]), fmaxf(sv[2], sv[3]));
            mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 1));
            mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 2));
            mx = fmaxf(mr, mx);
            const float mu = mx == -CUDART_INF_F ? 0.f : mx;
            const float alpha = exp2f(mr - mu);
#pragma unroll
            for (int i = 0; i < 4; i++) p[i] = exp2f(sv[i] - mu);
            lr = lr * alpha + (p[0] + p[1]) + (p[2] + p[3]);
            mr = mx;
            return alpha;
        };
        float sv[4] = {s[0][0], s[0][1], s[1][0], s[1][1]}, p[4];
        const float alpha = softmax_row(sv, m, l, p);
#pragma unroll
        for (int n = 0; n < NT; n++) { acc[n][0] *= alpha; acc[n][1] *= alpha; }
        const uint32_t pa0 = pack2<T>(p[0], p[1]), pa2 = pack2<T>(p[2], p[3]);
        uint32_t pb1 = 0u, pb3 = 0u;
        if constexpr (HI) {
            float sv2[4] = {s[0][2], s[0][3], s[1][2], s[1][3]}, p2[4];
            const float alpha2 = softmax_row(sv2, m2, l2, p2);
#pragma unroll
            for (int n = 0; n < NT; n++) { acc[n][2] *= alpha2; acc[n][3] *= alpha2; }
            pb1 = pack2<T>(p2[0], p2[1]);
            pb3 = pack2<T>(p2[2], p2[3]);
        }
#pragma unroll
        for (int np = 0; np < NT / 2; np++) {
            uint32_t b[4];
            ldsm_x4_t(b, st + M::KB + sw(16 * w + (mi & 1) * 8 + r8, 2 * np + (mi >> 1)));
            mma16816<T>(acc[2 * np], pa0, pb1, pa2, pb3, b[0], b[1]);
            mma16816<T>(acc[2 * np + 1], pa0, pb1, pa2, pb3, b[2], b[3]);
        }
        __syncwarp();                          /* done with the stage before it is refilled */
    }
    cp_wait<0>();
    l += __shfl_xor_sync(0xffffffffu, l, 1);
    l += __shfl_xor_sync(0xffffffffu, l, 2);
    if constexpr (HI) {
        l2 += __shfl_xor_sync(0xffffffffu, l2, 1);
        l2 += __shfl_xor_sync(0xffffffffu, l2, 2);
    }
    __syncthreads();                           /* every warp is done with its stages */
    float *acc_s = reinterpret_cast<float *>(smem);
    if (gq < RT) {
#pragma unroll
        for (int n = 0; n < NT; n++)
            *reinterpret_cast<float2 *>(&acc_s[(w * RT + gq) * D + n * 8 + 2 * tq]) = make_float2(acc[n][0], acc[n][1]);
        if (tq == 0) { m_s[w][gq] = m; l_s[w][gq] = l; }
    }
    if constexpr (HI) {   /* rows 8..15 of the tile */
#pragma unroll
        for (int n = 0; n < NT; n++)
            *reinterpret_cast<float2 *>(&acc_s[(w * RT + gq + 8) * D + n * 8 + 2 * tq]) =
                make_float2(acc[n][2], acc[n][3]);
        if (tq == 0) { m_s[w][gq + 8] = m2; l_s[w][gq + 8] = l2; }
    }
    __syncthreads();
}

/* ---- segment end ---- */

/* The stream-K host's merge of one float4 of row r (elements d..d+3): its
 * own state (lse, L > 0 when not empty, normalised val) first, then the
 * parts-1 peers' partials in slot order, PLAN_MERGE_BATCH loads in flight.
 * Leaves the unit's O in val and its log-sum-exp (log2 units, -inf for an
 * empty row) in lse. */
template <int D>
__device__ __forceinline__ void host_merge(const dec_args &a, int u, int parts, int r, int d, float L, float &lse,
                                           float4 &val)
{
    float rm = lse, rs = L > 0.f ? 1.f : 0.f;
    float4 ro = L > 0.f ? val : make_float4(0.f, 0.f, 0.f, 0.f);
    if (!(L > 0.f)) rm = -CUDART_INF_F;
    const int s0 = a.unit_slot[u];
    for (int k0 = 0; k0 < parts - 1; k0 += PLAN_MERGE_BATCH) {   /* peers' loads in flight */
        float pl[PLAN_MERGE_BATCH];
        float4 po[PLAN_MERGE_BATCH];
#pragma unroll
        for (int k = 0; k < PLAN_MERGE_BATCH; k++) {
            const bool ok = k0 + k < parts - 1;
            const int64_t sl = (int64_t)(s0 + (ok ? k0 + k : 0)) * a.rows + r;
            pl[k] = ok ? __ldcg(&a.part_lse[sl]) : -CUDART_INF_F;
            po[k] = __ldcg(reinterpret_cast<const float4 *>(&a.part_o[sl * D + d]));
        }
#pragma unroll
        for (int k = 0; k < PLAN_MERGE_BATCH; k++) {
            if (pl[k] == -CUDART_INF_F) continue;
            const float nm = fmaxf(rm, pl[k]);
            const float ea = exp2f(rm - nm), eb = exp2f(pl[k] - nm);
            rs = rs * ea + eb;
            ro.x = ro.x * ea + eb * po[k].x; ro.y = ro.y * ea + eb * po[k].y;
            ro.z = ro.z * ea + eb * po[k].z; ro.w = ro.w * ea + eb * po[k].w;
            rm = nm;
        }
    }
    const float ri = rs > 0.f ? 1.f / rs : 0.f;
    val = make_float4(ro.x * ri, ro.y * ri, ro.z * ri, ro.w * ri);
    lse = rs > 0.f ? rm + log2f(rs) : -CUDART_INF_F;
}

/* Ends the segment of unit u (plan segment sg) whose NG states
 * (m_s, l_s, acc_s = [NG][RT][D] floats at smem) the segment function
 * left: merges them and writes a partial (slot >= 0), or O (and lse) of a
 * single-part unit, or, in a stream-K host, waits for the peers
 * (host_wait, timeline entries tln, tln+1) and writes the merge of all
 * parts (host_merge).  A thread owns PLAN_MERGE_VEC consecutive elements
 * of one row.  The caller then signals the host (stream-K partials) or
 * waits at a block barrier before smem takes the next segment's stages. */
template <typename T, int D, int RT, int NG>
__device__ __forceinline__ void segment_end(const dec_args &a, const plan_seg &sg, int u, unsigned char *smem,
                                            const float (*m_s)[RT], const float (*l_s)[RT], tl_rec *tl, int &tln)
{
    const int tid = threadIdx.x;
    const float *acc_s = reinterpret_cast<const float *>(smem);   /* [NG][RT][D] */
    const int parts = a.unit_parts[u];
    const bool host = sg.slot < 0 && parts > 1;
    if (host) {
        host_wait(a, u, parts, tl, tln);
        tln += 2;
        __syncthreads();                  /* the others wait for thread 0 */
    }
    constexpr int V = PLAN_MERGE_VEC;
    static_assert(V == 4 && D % V == 0, "segment end works in float4");
    for (int idx = tid; idx < a.rows * D / V; idx += ATTN_THREADS) {
        const int r = idx * V / D, d = idx * V % D;
        float M = -CUDART_INF_F;
#pragma unroll
        for (int gg = 0; gg < NG; gg++) M = fmaxf(M, m_s[gg][r]);
        const float mu = M == -CUDART_INF_F ? 0.f : M;
        float L = 0.f;
        float4 A = make_float4(0.f, 0.f, 0.f, 0.f);
#pragma unroll
        for (int gg = 0; gg < NG; gg++) {
            const float w = exp2f(m_s[gg][r] - mu);
            const float4 x = *reinterpret_cast<const float4 *>(&acc_s[(gg * RT + r) * D + d]);
            L += l_s[gg][r] * w;
            A.x = fmaf(x.x, w, A.x); A.y = fmaf(x.y, w, A.y); A.z = fmaf(x.z, w, A.z); A.w = fmaf(x.w, w, A.w);
        }
        float lse = L > 0.f ? mu + log2f(L) : -CUDART_INF_F;
        const float inv = L > 0.f ? 1.f / L : 0.f;
        float4 val = make_float4(A.x * inv, A.y * inv, A.z * inv, A.w * inv);
        if (sg.slot >= 0) {
            *reinterpret_cast<float4 *>(&a.part_o[((int64_t)sg.slot * a.rows + r) * D + d]) = val;
            if (d == 0) a.part_lse[(int64_t)sg.slot * a.rows + r] = lse;
        } else {
            if (host) host_merge<D>(a, u, parts, r, d, L, lse, val);   /* own state first, then the peers */
            T *op = static_cast<T *>(a.o) + ((int64_t)u * a.rows + r) * D + d;
            op[0] = from_f<T>(val.x); op[1] = from_f<T>(val.y);
            op[2] = from_f<T>(val.z); op[3] = from_f<T>(val.w);
            if (a.lse && d == 0) a.lse[(int64_t)u * a.rows + r] = lse;
        }
    }
}

/* ---- the driver ---- */

template <typename T, int D, int RT, bool PF>
__global__ void __launch_bounds__(ATTN_THREADS) decode_kernel(const dec_args a)
{
    extern __shared__ __align__(16) unsigned char smem[];
    /* tensor cores at d <= 128 (rows padded to 16); CUDA cores at d = 256 */
    constexpr bool MMA = RT >= PLAN_MMA_MIN_ROWS && D <= PLAN_MMA_MAX_DIM;
    constexpr int NG = MMA ? ATTN_THREADS / 32 : geo<D>::TG;   /* states merged at segment end */
    __shared__ float m_s[NG][RT], l_s[NG][RT];
    static_assert((MMA ? 16 * RT * D : 4096 * RT) <= SMEM_BYTES, "the states fit over the stages");

    const int tid = threadIdx.x;
    const int g = tid / geo<D>::LPT, j = tid % geo<D>::LPT;   /* CUDA-core path: token group, slice */
    /* a dependent combine kernel may be scheduled now; it waits for this
     * grid to complete before reading anything */
    asm volatile("griddepcontrol.launch_dependents;" ::: "memory");
    const int cta = blockIdx.x;
    const int seg0 = a.cta_first[cta], seg1 = a.cta_first[cta + 1];
    tl_rec *tl = a.tl ? a.tl + seg0 + 4 * cta : nullptr;
    int tln = 0;
    if (tl && tid == 0) tl_put(tl, tln, TL_START, -1);
    tln++;

    for (int si = seg0; si < seg1; si++) {
        const plan_seg sg = a.segs[si];
        const seg_kv skv = a.seg_kv[si];
        const int u = sg.unit;
        const T *kb = static_cast<const T *>(a.k) + skv.off;
        const T *vb = static_cast<const T *>(a.v) + skv.off;
        if constexpr (MMA) mma_segment<T, D, RT, PF>(a, u, skv.ntok, kb, vb, smem, m_s, l_s);
        else cuda_segment<T, D, RT, PF>(a, u, skv.ntok, kb, vb, g, j, smem, m_s, l_s);
        segment_end<T, D, RT, NG>(a, sg, u, smem, m_s, l_s, tl, tln);
        /* partial writers signal the host (stream-K); everyone waits before
         * smem takes the next segment's stages.  Kept here: inside
         * segment_end the compiler lays this branch out the other way round
         * and allocates the kernel's registers anew (139 instead of 158 at
         * d = 128), which is a different kernel to time. */
        if (sg.slot >= 0 && a.signal) {
            __threadfence();                  /* this thread's partial is visible device-wide */
            __syncthreads();
            if (tid == 0) atomicAdd(&a.cnt[u], 1);
        } else {
            __syncthreads();                  /* acc_s is reused by the next segment's stages */
        }
        if (tl && tid == 0) tl_put(tl, tln, TL_SEG_END, u);
        tln++;
    }
    if (tl && tid == 0) tl_put(tl, tln, TL_END, -1);
}

/* ---- the combine kernel (split, balanced) ---- */

/* Merges the np partial states of unit u in slots s0 .. s0+np-1 into O
 * (out = its [rows][D]) and, when a.lse is set, the rows' log-sum-exp.
 * Step 1: per row, max and sum of the states' weights (a warp per row,
 * lanes over the states).  Step 2: weighted sum of the partial O vectors,
 * float4 per thread, 8 loads in flight, states split across thread groups
 * when rows*D/4 < 128 and summed in fixed order through shared memory.
 * Deterministic: every sum runs in an order fixed by the plan. */
template <typename T, int D>
__device__ __forceinline__ void combine_merge(const dec_args &a, int u, int s0, int np, T *out, float4 *red, float *ms)
{
    const int rows = a.rows, tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
    for (int r = warp; r < rows; r += ATTN_THREADS / 32) {
        float mx = -CUDART_INF_F;
        for (int k = lane; k < np; k += 32) mx = fmaxf(mx, __ldcg(&a.part_lse[(int64_t)(s0 + k) * rows + r]));
#pragma unroll
        for (int o = 16; o > 0; o >>= 1) mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, o));
        const float mu = mx == -CUDART_INF_F ? 0.f : mx;
        float sum = 0.f;
        for (int k = lane; k < np; k += 32) sum += exp2f(__ldcg(&a.part_lse[(int64_t)(s0 + k) * rows + r]) - mu);
#pragma unroll
        for (int o = 16; o > 0; o >>= 1) sum += __shfl_xor_sync(0xffffffffu, sum, o);
        if (lane == 0) { ms[r] = mu; ms[ATTN_MAX_ROWS + r] = sum; }
    }
    __syncthreads();
    const int O4 = rows * D / 4;
    const int KQ = O4 >= ATTN_THREADS ? 1 : ATTN_THREADS / O4;
    auto part_sum = [&](int o, int kq) {
        const int r = o * 4 / D;
        const float mu = ms[r];
        float4 acc = make_float4(0.f, 0.f, 0.f, 0.f);
        for (int k0 = kq; k0 < np; k0 += PLAN_MERGE_BATCH * KQ) {
            float w[PLAN_MERGE_BATCH];
            float4 v[PLAN_MERGE_BATCH];
#pragma unroll
            for (int i = 0; i < PLAN_MERGE_BATCH; i++) {
                const int k = k0 + i * KQ;
                const int64_t sl = (int64_t)(s0 + (k < np ? k : 0)) * rows + r;
                w[i] = k < np ? __ldcg(&a.part_lse[sl]) : -CUDART_INF_F;
                v[i] = __ldcg(reinterpret_cast<const float4 *>(a.part_o + (int64_t)(s0 + (k < np ? k : 0)) * rows * D) + o);
            }
#pragma unroll
            for (int i = 0; i < PLAN_MERGE_BATCH; i++) {
                const float e = exp2f(w[i] - mu);   /* 0 for an empty state */
                acc.x = fmaf(e, v[i].x, acc.x); acc.y = fmaf(e, v[i].y, acc.y);
                acc.z = fmaf(e, v[i].z, acc.z); acc.w = fmaf(e, v[i].w, acc.w);
            }
        }
        return acc;
    };
    auto finish = [&](int o, float4 acc) {
        const int r = o * 4 / D;
        const float s = ms[ATTN_MAX_ROWS + r];
        const float inv = s > 0.f ? 1.f / s : 0.f;
        out[o * 4 + 0] = from_f<T>(acc.x * inv);
        out[o * 4 + 1] = from_f<T>(acc.y * inv);
        out[o * 4 + 2] = from_f<T>(acc.z * inv);
        out[o * 4 + 3] = from_f<T>(acc.w * inv);
    };
    if (KQ == 1) {
        for (int o = tid; o < O4; o += ATTN_THREADS) finish(o, part_sum(o, 0));
    } else {
        if (tid < KQ * O4) red[tid] = part_sum(tid % O4, tid / O4);
        __syncthreads();
        if (tid < O4) {
            float4 acc = red[tid];
            for (int kq = 1; kq < KQ; kq++) {
                const float4 b = red[kq * O4 + tid];
                acc.x += b.x; acc.y += b.y; acc.z += b.z; acc.w += b.w;
            }
            finish(tid, acc);
        }
    }
    if (a.lse && tid < rows) {   /* ms is not written again after the barrier above */
        const float s = ms[ATTN_MAX_ROWS + tid];
        a.lse[(int64_t)u * rows + tid] = s > 0.f ? ms[tid] + log2f(s) : -CUDART_INF_F;
    }
}

/* One CTA per unit: merges the partial slots of every multi-part unit. */
template <typename T, int D>
__global__ void __launch_bounds__(ATTN_THREADS) combine_kernel(const dec_args a)
{
    __shared__ float4 red[ATTN_THREADS];
    __shared__ float ms[2 * ATTN_MAX_ROWS];
    const int u = blockIdx.x;
    const int parts = a.unit_parts[u];
    /* timeline: 3 records per combine CTA, below the decode kernel's (attn_launch) */
    tl_rec *tl = a.tl && threadIdx.x == 0 ? a.tl - 3 * (int64_t)gridDim.x + 3 * u : nullptr;
    if (tl) tl_put(tl, 0, TL_COMB_START, u);
    /* launched as a programmatic dependent of decode_kernel: wait until it
     * has finished and its partials are visible (a no-op otherwise) */
    asm volatile("griddepcontrol.wait;" ::: "memory");
    if (tl) tl_put(tl, 1, TL_COMB_READY, u);
    if (parts > 1)
        combine_merge<T, D>(a, u, a.unit_slot[u], parts, static_cast<T *>(a.o) + (int64_t)u * a.rows * D, red, ms);
    if (tl) tl_put(tl, 2, TL_COMB_END, u);
}

/* The capacity-16 kernel: groups of 9..16 rows fill the 16-row tensor-core
 * tile; the CUDA-core path (d = 256) has none. */
template <typename T, int D, bool PF> constexpr dec_kernel_fn rows16()
{
    if constexpr (D <= PLAN_MMA_MAX_DIM) return decode_kernel<T, D, 16, PF>;
    else return nullptr;
}

} /* namespace dec */

#define DEC_ROWS(T, D, PF)                                                                      \
    {dec::decode_kernel<T, D, 1, PF>, dec::decode_kernel<T, D, 2, PF>,                            \
     dec::decode_kernel<T, D, 4, PF>, dec::decode_kernel<T, D, 8, PF>, dec::rows16<T, D, PF>()}
#define DEC_TABLE(D)                                                                            \
    const dec_table dec_table_d##D = {                                                          \
        {{DEC_ROWS(__half, D, false), DEC_ROWS(__half, D, true)},                               \
         {DEC_ROWS(__nv_bfloat16, D, false), DEC_ROWS(__nv_bfloat16, D, true)}},                \
        dec::SMEM_BYTES,                                                                        \
        {dec::combine_kernel<__half, D>, dec::combine_kernel<__nv_bfloat16, D>}}
