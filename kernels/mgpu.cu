/*
 * mgpu.cu: decode attention over the GPUs of one host, measured
 * (leanbench --gpus N --parallel kv|heads).
 *
 * One host thread drives every GPU through its own stream.
 *   heads  GPU g holds query heads [g H/N, (g+1) H/N) and their KV heads
 *          over the whole context and runs the single-GPU plan of that
 *          share; no communication inside attention.  Time: the slowest
 *          GPU's decode.
 *   kv     every request's KV is cut along the sequence into N contiguous
 *          shards (plan_kv_shard: the first ones ceil(ctx / N) tokens, as
 *          the simulator cuts them); GPU g runs the single-GPU plan of its shard and
 *          writes its normalised O (the KV dtype) and the rows'
 *          log-sum-exp (attn_io.lse) into one buffer, which GPU g copies
 *          into GPU 0, and GPU 0 merges the N states.  Time: GPU 0's start
 *          to the merge's end.  The gather (--gather): `nccl`, NCCL's
 *          point-to-point send/receive in one group (the default where the
 *          runner was built with NCCL; NVLink SHARP, which uses multicast,
 *          is switched off), or `p2p`, cudaMemcpyPeerAsync over NVLink and
 *          a cross-GPU event that GPU 0's stream waits on.
 *
 * Method, as for one GPU: every configuration is checked against the CPU
 * reference of the whole workload (outputs poisoned first) before it is
 * timed; L2 is flushed on every GPU before every rep, outside the timed
 * region.  The GPUs start together: each stream waits in a small kernel
 * for a flag in pinned host memory that the host sets once every GPU's
 * work of the rep is enqueued, so host launch costs do not enter the
 * times.  CUDA events on each GPU: decode start/end, on GPU 0 also the
 * end of the gather (its wait for the peers' copies) and of the merge.
 * Median (p10, p90) over --reps.  CSV columns: MGPU_CSV_HEADER.
 */
#include "attn.h"
#include "mgpu.h"
#include "opts.h"

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#if MGPU_WITH_NCCL   /* kernels.mk: where the toolkit or the system has libnccl */
#include <nccl.h>
#define MGPU_NCCL 1
#else
#define MGPU_NCCL 0     /* built without NCCL: peer-to-peer copies only */
#endif
#include <math.h>
#include <string.h>
#include <algorithm>
#include <thread>
#include <vector>

#define MGPU_MAX 8

static const char *MGPU_CSV_HEADER =
    "gpu,gpus,parallel,gather,driver,commit,date,schedule,batch,heads,kv_heads,head_dim,dtype,ctx,block_n,ctas,splits,"
    "reps,time_us,time_p10_us,time_p90_us,per_gpu_us,per_gpu_max_us,gather_us,merge_us,link_bytes,max_err";

enum { PAR_HEADS = 0, PAR_KV };
enum { GATHER_P2P = 0, GATHER_NCCL };
static const char *gather_name(int x) { return x == GATHER_NCCL ? "nccl" : "p2p"; }

/* Run-wide settings. */
static struct {
    int gpus, parallel, reps, warmup, gather;
    const char *csv, *sweep;
    const char *commit, *date, *driver;
    cudaDeviceProp prop;
    volatile int *flag;     /* pinned host memory, mapped: the start gate */
    int epoch;
#if MGPU_NCCL
    ncclComm_t comm[MGPU_MAX];
    int comm_n;             /* GPUs of the communicators in comm, 0: none */
#endif
} m;

#if MGPU_NCCL
#define NCCL_CHECK(x) do { ncclResult_t r_ = (x); if (r_ != ncclSuccess) { \
    fprintf(stderr, "%s:%d: %s: %s\n", __FILE__, __LINE__, #x, ncclGetErrorString(r_)); exit(2); } } while (0)

/* Communicators over GPUs 0..n-1 (one process, one thread), made once per n. */
static void nccl_setup(int n)
{
    if (m.comm_n == n) return;
    for (int i = 0; i < m.comm_n; i++) ncclCommDestroy(m.comm[i]);
    int devs[MGPU_MAX];
    for (int i = 0; i < n; i++) devs[i] = i;
    NCCL_CHECK(ncclCommInitAll(m.comm, n, devs));
    m.comm_n = n;
    /* connect every peer to GPU 0 now, outside any timed rep */
    std::vector<void *> buf((size_t)n);
    for (int g = 0; g < n; g++) {
        CUDA_CHECK(cudaSetDevice(g));
        CUDA_CHECK(cudaMalloc(&buf[(size_t)g], (size_t)n << 12));
    }
    NCCL_CHECK(ncclGroupStart());
    for (int g = 1; g < n; g++) {
        NCCL_CHECK(ncclSend(buf[(size_t)g], 4096, ncclUint8, 0, m.comm[g], 0));
        NCCL_CHECK(ncclRecv((char *)buf[0] + ((size_t)g << 12), 4096, ncclUint8, g, m.comm[0], 0));
    }
    NCCL_CHECK(ncclGroupEnd());
    for (int g = 0; g < n; g++) {
        CUDA_CHECK(cudaSetDevice(g));
        CUDA_CHECK(cudaDeviceSynchronize());
        cudaFree(buf[(size_t)g]);
    }
}
#endif

/* ---- device code ---- */

static __device__ __forceinline__ uint64_t gtime()
{
    uint64_t t;
    asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));
    return t;
}

/* Waits until the host has set *flag to at least epoch (gives up after 2 s). */
__global__ void gate_wait(const volatile int *flag, int epoch)
{
    const uint64_t t0 = gtime();
    while (*flag < epoch && gtime() - t0 < 2000000000ull) __nanosleep(128);
}

template <typename T> __device__ __forceinline__ float to_float(T x);
template <> __device__ __forceinline__ float to_float<__half>(__half x) { return __half2float(x); }
template <> __device__ __forceinline__ float to_float<__nv_bfloat16>(__nv_bfloat16 x) { return __bfloat162float(x); }
template <typename T> __device__ __forceinline__ T of_float(float x);
template <> __device__ __forceinline__ __half of_float<__half>(float x) { return __float2half_rn(x); }
template <> __device__ __forceinline__ __nv_bfloat16 of_float<__nv_bfloat16>(float x) { return __float2bfloat16_rn(x); }

/*
 * Merges n states per row: part 0 at `own`, parts 1..n-1 at recv + (i-1) *
 * part_bytes; each part is O[rows][d] (T) followed by lse[rows] (float,
 * log2 domain).  One warp per row; the weights in a fixed order.
 */
template <typename T>
__global__ void merge_parts(const unsigned char *own, const unsigned char *recv, size_t part_bytes, int n, int rows,
                            int d, T *out)
{
    const int row = blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32, lane = threadIdx.x & 31;
    if (row >= rows) return;
    const size_t o_bytes = (size_t)rows * d * sizeof(T);
    float l[MGPU_MAX], mx = -INFINITY;
    for (int i = 0; i < n; i++) {
        const unsigned char *base = i == 0 ? own : recv + (size_t)(i - 1) * part_bytes;
        l[i] = reinterpret_cast<const float *>(base + o_bytes)[row];
        mx = fmaxf(mx, l[i]);
    }
    const float mu = mx == -INFINITY ? 0.f : mx;
    float wsum = 0.f;
    for (int i = 0; i < n; i++) {
        l[i] = exp2f(l[i] - mu);   /* 0 for an empty state */
        wsum += l[i];
    }
    const float inv = wsum > 0.f ? 1.f / wsum : 0.f;
    for (int c = lane; c < d; c += 32) {
        float acc = 0.f;
        for (int i = 0; i < n; i++) {
            const unsigned char *base = i == 0 ? own : recv + (size_t)(i - 1) * part_bytes;
            acc = fmaf(l[i], to_float(reinterpret_cast<const T *>(base)[(size_t)row * d + c]), acc);
        }
        out[(size_t)row * d + c] = of_float<T>(acc * inv);
    }
}

/* ---- host side ---- */

/* One GPU's share of a configuration. */
typedef struct dev_state {
    cudaStream_t s;
    workload *w;              /* this GPU's share (heap: ctx per request) */
    attn_bufs b;
    plan *p;
    attn_plan_dev d;
    int planned;
    unsigned char *part;      /* O (dtype) then lse (float): this GPU's output */
    unsigned char *recv;      /* GPU 0, kv: the peers' parts, [gpus - 1][part_bytes] */
    unsigned char *out;       /* GPU 0, kv: the merged O */
    void *scratch;            /* > L2, read before every rep */
    size_t scratch_bytes;
    cudaEvent_t e0, e1, eg, e2;   /* decode start, decode end; GPU 0: gathered, merged */
    cudaEvent_t done;         /* kv, GPU > 0: its part copied into GPU 0 */
} dev_state;

static double pct(std::vector<double> v, double q)
{
    std::sort(v.begin(), v.end());
    return v[(size_t)(q * (double)(v.size() - 1) + 0.5)];
}

/* Element offset of (request q, KV head h, token 0) in a ragged KV array of w. */
static int64_t kv_off(const workload *w, int q, int h)
{
    int64_t off = 0;
    for (int i = 0; i < q; i++) off += w->ctx[i] * w->kv_heads * w->head_dim;
    return off + (int64_t)h * w->ctx[q] * w->head_dim;
}

static void states_free(std::vector<dev_state> &st, int n)
{
    for (int g = 0; g < n; g++) {
        dev_state &x = st[(size_t)g];
        CUDA_CHECK(cudaSetDevice(g));
        CUDA_CHECK(cudaDeviceSynchronize());
        if (x.planned) attn_plan_free(&x.d);
        plan_free(x.p);
        attn_bufs_free(&x.b);
        cudaFree(x.part); cudaFree(x.recv); cudaFree(x.out); cudaFree(x.scratch);
        cudaEventDestroy(x.e0); cudaEventDestroy(x.e1); cudaEventDestroy(x.eg); cudaEventDestroy(x.e2);
        cudaEventDestroy(x.done);
        cudaStreamDestroy(x.s);
        free(x.w);
    }
}

/* Enqueues one rep on every GPU and opens the gate; with timed, the events. */
static void one_rep(std::vector<dev_state> &st, int n, int par, const workload *w)
{
    const size_t part_bytes = (size_t)st[0].w->batch * st[0].w->heads * (w->head_dim * 2 + 4);
    m.epoch++;
    for (int g = 0; g < n; g++) {
        dev_state &x = st[(size_t)g];
        CUDA_CHECK(cudaSetDevice(g));
        attn_l2_flush(x.scratch, x.scratch_bytes, x.s);
        gate_wait<<<1, 32, 0, x.s>>>(m.flag, m.epoch);
        CUDA_CHECK(cudaGetLastError());
        CUDA_CHECK(cudaEventRecord(x.e0, x.s));
        attn_io io;
        memset(&io, 0, sizeof io);
        io.q = x.b.q; io.k = x.b.k[0]; io.v = x.b.v[0];
        io.o = x.part;
        io.lse = par == PAR_KV ? reinterpret_cast<float *>(x.part + (size_t)x.w->batch * x.w->heads * x.w->head_dim * 2)
                               : NULL;
        io.dtype = w->dtype; io.head_dim = w->head_dim;
        CUDA_CHECK(attn_launch(&x.d, &io, x.s, NULL));
        CUDA_CHECK(cudaEventRecord(x.e1, x.s));
        if (par == PAR_KV && g > 0 && m.gather == GATHER_P2P) {
            CUDA_CHECK(cudaMemcpyPeerAsync(st[0].recv + (size_t)(g - 1) * part_bytes, 0, x.part, g, part_bytes, x.s));
            CUDA_CHECK(cudaEventRecord(x.done, x.s));
        }
    }
#if MGPU_NCCL
    if (par == PAR_KV && m.gather == GATHER_NCCL) {   /* every peer's part into GPU 0, one group */
        NCCL_CHECK(ncclGroupStart());
        for (int g = 1; g < n; g++) {
            NCCL_CHECK(ncclSend(st[(size_t)g].part, part_bytes, ncclUint8, 0, m.comm[g], st[(size_t)g].s));
            NCCL_CHECK(ncclRecv(st[0].recv + (size_t)(g - 1) * part_bytes, part_bytes, ncclUint8, g, m.comm[0], st[0].s));
        }
        NCCL_CHECK(ncclGroupEnd());
    }
#endif
    if (par == PAR_KV) {
        dev_state &x = st[0];
        CUDA_CHECK(cudaSetDevice(0));
        if (m.gather == GATHER_P2P)
            for (int g = 1; g < n; g++) CUDA_CHECK(cudaStreamWaitEvent(x.s, st[(size_t)g].done, 0));
        CUDA_CHECK(cudaEventRecord(x.eg, x.s));
        const int rows = w->batch * w->heads, per_block = 4;
        if (w->dtype == DTYPE_BF16)
            merge_parts<__nv_bfloat16><<<(rows + per_block - 1) / per_block, 32 * per_block, 0, x.s>>>(
                x.part, x.recv, part_bytes, n, rows, w->head_dim, reinterpret_cast<__nv_bfloat16 *>(x.out));
        else
            merge_parts<__half><<<(rows + per_block - 1) / per_block, 32 * per_block, 0, x.s>>>(
                x.part, x.recv, part_bytes, n, rows, w->head_dim, reinterpret_cast<__half *>(x.out));
        CUDA_CHECK(cudaGetLastError());
        CUDA_CHECK(cudaEventRecord(x.e2, x.s));
    }
    __atomic_store_n((int *)m.flag, m.epoch, __ATOMIC_RELEASE);
    for (int g = 0; g < n; g++) {
        CUDA_CHECK(cudaSetDevice(g));
        CUDA_CHECK(cudaStreamSynchronize(st[(size_t)g].s));
    }
}

/*
 * Checks against the CPU reference (outputs poisoned first).  kv: the
 * whole workload's reference from the shards' inputs, against GPU 0's
 * merged O; heads: each GPU's share against its own reference.  Returns
 * the mismatches; *err: the largest error.
 */
static int64_t check(std::vector<dev_state> &st, int n, int par, const workload *w, const char *label, double *err)
{
    const int th = std::max(4, (int)std::thread::hardware_concurrency());
    const double tol = attn_tolerance(w->dtype);
    for (int g = 0; g < n; g++) {
        dev_state &x = st[(size_t)g];
        CUDA_CHECK(cudaSetDevice(g));
        const size_t pb = (size_t)x.w->batch * x.w->heads * (x.w->head_dim * 2 + 4);
        CUDA_CHECK(cudaMemset(x.part, 0xff, pb));
        if (g == 0 && par == PAR_KV) {
            CUDA_CHECK(cudaMemset(x.recv, 0xff, pb * (size_t)(n - 1)));
            CUDA_CHECK(cudaMemset(x.out, 0xff, (size_t)w->batch * w->heads * w->head_dim * 2));
        }
        CUDA_CHECK(cudaDeviceSynchronize());
    }
    one_rep(st, n, par, w);
    int64_t bad = 0;
    *err = 0;
    if (par == PAR_HEADS) {
        for (int g = 0; g < n; g++) {
            dev_state &x = st[(size_t)g];
            CUDA_CHECK(cudaSetDevice(g));
            double *ref = attn_ref_from_device(x.w, &x.b, 0, th), e = 0;
            bad += attn_compare(x.w, x.part, ref, tol, &e, 3, label);
            *err = std::max(*err, e);
            free(ref);
        }
        return bad;
    }
    /* kv: q is GPU 0's (every GPU holds a copy); K and V put back together from the shards */
    const int64_t qn = (int64_t)w->batch * w->heads * w->head_dim, kvn = attn_kv_elems(w);
    std::vector<uint16_t> q((size_t)qn), k((size_t)kvn), v((size_t)kvn);
    CUDA_CHECK(cudaSetDevice(0));
    CUDA_CHECK(cudaMemcpy(q.data(), st[0].b.q, (size_t)qn * 2, cudaMemcpyDeviceToHost));
    std::vector<int64_t> tok0((size_t)w->batch, 0);
    for (int g = 0; g < n; g++) {
        dev_state &x = st[(size_t)g];
        CUDA_CHECK(cudaSetDevice(g));
        const int64_t sn = attn_kv_elems(x.w);
        std::vector<uint16_t> sk((size_t)sn), sv((size_t)sn);
        CUDA_CHECK(cudaMemcpy(sk.data(), x.b.k[0], (size_t)sn * 2, cudaMemcpyDeviceToHost));
        CUDA_CHECK(cudaMemcpy(sv.data(), x.b.v[0], (size_t)sn * 2, cudaMemcpyDeviceToHost));
        for (int r = 0; r < w->batch; r++) {
            for (int h = 0; h < w->kv_heads; h++) {
                const size_t len = (size_t)x.w->ctx[r] * w->head_dim;
                const int64_t src = kv_off(x.w, r, h), dst = kv_off(w, r, h) + tok0[(size_t)r] * w->head_dim;
                memcpy(&k[(size_t)dst], &sk[(size_t)src], len * 2);
                memcpy(&v[(size_t)dst], &sv[(size_t)src], len * 2);
            }
            tok0[(size_t)r] += x.w->ctx[r];
        }
    }
    std::vector<double> ref((size_t)qn);
    attn_reference(w, q.data(), k.data(), v.data(), ref.data(), th);
    CUDA_CHECK(cudaSetDevice(0));
    return attn_compare(w, st[0].out, ref.data(), tol, err, 3, label);
}

/*
 * Plans, checks and times schedule `kind` of workload w over m.gpus GPUs.
 * Returns 0 (also for a skip: does not fit), -1 on a refusal or a failed
 * check (said on stderr; not timed).
 */
static int run_one(const workload *w, plan_opts po, int kind)
{
    const int n = m.gpus, par = m.parallel;
    po.kind = kind;
    if (par == PAR_HEADS && (w->kv_heads % n)) {
        fprintf(stderr, "leanbench: --kv-heads %d: not a multiple of --gpus %d\n", w->kv_heads, n);
        return -1;
    }
    std::vector<dev_state> st((size_t)n);
    for (auto &x : st) memset(&x, 0, sizeof x);
    const size_t scratch = std::max((size_t)m.prop.l2CacheSize * 2, (size_t)64 << 20);
    int rc = 0;
    for (int g = 0; g < n && !rc; g++) {
        dev_state &x = st[(size_t)g];
        CUDA_CHECK(cudaSetDevice(g));
        CUDA_CHECK(cudaStreamCreateWithFlags(&x.s, cudaStreamNonBlocking));
        CUDA_CHECK(cudaEventCreate(&x.e0)); CUDA_CHECK(cudaEventCreate(&x.e1));
        CUDA_CHECK(cudaEventCreate(&x.eg)); CUDA_CHECK(cudaEventCreate(&x.e2));
        CUDA_CHECK(cudaEventCreateWithFlags(&x.done, cudaEventDisableTiming));
        x.p = plan_alloc();
        x.w = (workload *)malloc(sizeof *x.w);
        if (!x.p || !x.w) { fprintf(stderr, "leanbench: out of host memory\n"); exit(2); }
        *x.w = *w;
        if (par == PAR_HEADS) {
            x.w->heads = w->heads / n;
            x.w->kv_heads = w->kv_heads / n;
        } else {
            for (int r = 0; r < w->batch; r++) {
                x.w->ctx[r] = plan_kv_shard(w->ctx[r], n, g);
                if (x.w->ctx[r] < 1) {
                    fprintf(stderr, "leanbench: --ctx %lld: too short for %d shards\n", (long long)w->ctx[r], n);
                    rc = -1;
                }
            }
            if (rc) break;
        }
        const int occ = attn_occupancy(w->dtype, w->head_dim, w->heads / w->kv_heads);
        if (occ <= 0) {
            fprintf(stderr, "leanbench: no kernel for head dim %d, group %d\n", w->head_dim, w->heads / w->kv_heads);
            rc = -1;
            break;
        }
        if (plan_build(x.p, x.w, &po, m.prop.multiProcessorCount, occ) != PLAN_OK) {
            fprintf(stderr, "leanbench: %s: the plan of GPU %d's share failed\n", sched_name(kind), g);
            rc = -1;
            break;
        }
        attn_plan_upload(&x.d, x.p, x.w);
        x.planned = 1;
        const size_t pb = (size_t)x.w->batch * x.w->heads * (x.w->head_dim * 2 + 4);
        x.scratch_bytes = scratch;
        if (attn_bufs_alloc(&x.b, x.w, 1, 7 + (uint64_t)g, x.s) || cudaMalloc((void **)&x.part, pb) != cudaSuccess ||
            cudaMalloc(&x.scratch, scratch) != cudaSuccess ||
            (g == 0 && par == PAR_KV &&
             (cudaMalloc((void **)&x.recv, pb * (size_t)(n - 1)) != cudaSuccess ||
              cudaMalloc((void **)&x.out, (size_t)w->batch * w->heads * w->head_dim * 2) != cudaSuccess))) {
            cudaGetLastError();
            fprintf(stderr, "leanbench: %s: GPU %d's share does not fit in its memory; skipped\n", sched_name(kind), g);
            rc = 1;
            break;
        }
        CUDA_CHECK(cudaMemset(x.scratch, 0, scratch));
    }
#if MGPU_NCCL
    if (!rc && par == PAR_KV && m.gather == GATHER_NCCL) nccl_setup(n);
#endif
    if (!rc && par == PAR_KV)   /* one query for every shard */
        for (int g = 1; g < n; g++)
            CUDA_CHECK(cudaMemcpyPeer(st[(size_t)g].b.q, g, st[0].b.q, 0, (size_t)w->batch * w->heads * w->head_dim * 2));
    char ctxs[WL_MAX_BATCH * 9 + 16];
    {
        int off = 0;
        for (int r = 0; r < w->batch && off < (int)sizeof ctxs - 12; r++)
            off += snprintf(ctxs + off, sizeof ctxs - (size_t)off, "%s%lld", r ? ";" : "", (long long)w->ctx[r]);
    }
    double err = 0;
    if (!rc) {
        char label[64];
        snprintf(label, sizeof label, "%s x%d %s", sched_name(kind), n, par == PAR_KV ? gather_name(m.gather) : "heads");
        int64_t bad = check(st, n, par, w, label, &err);
        if (bad) {
            fprintf(stderr, "leanbench: %s, ctx %s: CHECK FAILED, %lld mismatches; not timed\n", label, ctxs,
                    (long long)bad);
            rc = -1;
        }
    }
    if (rc) {
        states_free(st, n);
        return rc < 0 ? -1 : 0;
    }
    for (int i = 0; i < m.warmup; i++) one_rep(st, n, par, w);
    std::vector<double> tot, g0, gmax, gath, mrg;
    for (int i = 0; i < m.reps; i++) {
        one_rep(st, n, par, w);
        float ms;
        double mx = 0, t0 = 0;
        for (int g = 0; g < n; g++) {
            CUDA_CHECK(cudaSetDevice(g));
            CUDA_CHECK(cudaEventElapsedTime(&ms, st[(size_t)g].e0, st[(size_t)g].e1));
            mx = std::max(mx, 1e3 * ms);
            if (g == 0) t0 = 1e3 * ms;
        }
        g0.push_back(t0);
        gmax.push_back(mx);
        if (par == PAR_KV) {
            CUDA_CHECK(cudaSetDevice(0));
            CUDA_CHECK(cudaEventElapsedTime(&ms, st[0].e0, st[0].e2));
            tot.push_back(1e3 * ms);
            CUDA_CHECK(cudaEventElapsedTime(&ms, st[0].e1, st[0].eg));
            gath.push_back(1e3 * ms);
            CUDA_CHECK(cudaEventElapsedTime(&ms, st[0].eg, st[0].e2));
            mrg.push_back(1e3 * ms);
        } else {
            tot.push_back(mx);
            gath.push_back(0);
            mrg.push_back(0);
        }
    }
    const plan *p0 = st[0].p;
    const double link = par == PAR_KV ? (double)(n - 1) * w->batch * w->heads * (w->head_dim * 2 + 4) : 0;
    const double t = pct(tot, 0.5);
    printf("%-8s x%d %-5s %-4s b=%-2d h=%-3d kvh=%-3d d=%-3d ctx=%-10.10s bn=%-3d ctas=%-4d  %9.2f us  (gpu0 %.2f, max %.2f, "
           "gather %.2f, merge %.2f)  err %.3g\n",
           sched_name(kind), n, par == PAR_KV ? "kv" : "heads", par == PAR_KV ? gather_name(m.gather) : "-", w->batch, w->heads, w->kv_heads, w->head_dim, ctxs,
           p0->block_n, p0->grid, t, pct(g0, 0.5), pct(gmax, 0.5), pct(gath, 0.5), pct(mrg, 0.5), err);
    fflush(stdout);
    if (m.csv) {
        FILE *f = fopen(m.csv, "a");
        if (!f) { fprintf(stderr, "leanbench: --csv %s: cannot open for appending\n", m.csv); exit(2); }
        fseek(f, 0, SEEK_END);
        if (ftell(f) == 0) fprintf(f, "%s\n", MGPU_CSV_HEADER);
        fprintf(f, "%s,%d,%s,%s,%s,%s,%s,%s,%d,%d,%d,%d,%s,%s,%d,%d,%d,%d,%.3f,%.3f,%.3f,%.3f,%.3f,%.3f,%.3f,%.0f,%.3g\n",
                m.prop.name, n, par == PAR_KV ? "kv" : "heads", par == PAR_KV ? gather_name(m.gather) : "none", m.driver, m.commit, m.date, sched_name(kind),
                w->batch, w->heads, w->kv_heads, w->head_dim, dtype_name(w->dtype), ctxs, p0->block_n, p0->grid,
                p0->splits, m.reps, t, pct(tot, 0.1), pct(tot, 0.9), pct(g0, 0.5), pct(gmax, 0.5), pct(gath, 0.5),
                pct(mrg, 0.5), link, err);
        if (fclose(f)) { fprintf(stderr, "leanbench: --csv %s: write failed\n", m.csv); exit(2); }
    }
    states_free(st, n);
    return 0;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: leanbench --gpus N [--parallel kv|heads] [workload options] [--reps N] [--warmup N]\n"
               "                 [--csv FILE] [--sweep FILE]\n"
               "  --gpus N                   GPUs of this host, 2..%d (GPUs 0..N-1)\n"
               "  --parallel P               kv: KV shards along the sequence, gathered into GPU 0 and merged;\n"
               "                             heads: query/KV heads split over the GPUs (default kv)\n"
               "  --gather G                 kv: nccl (NCCL send/receive; the default when built with NCCL) or\n"
               "                             p2p (peer copies and a cross-GPU event)\n"
               "  --reps N                   timed reps per configuration (default 30)\n"
               "  --warmup N                 untimed reps first (default 3)\n"
               "  --csv FILE                 append one row per configuration\n"
               "  --sweep FILE               one option set per line (# comments): workload options, --gpus,\n"
               "                             --parallel, --gather and --reps; every line is checked before\n"
               "                             any GPU work\n"
               "workload options:\n", MGPU_MAX);
    wl_opts_help(f);
}

/* Parses options; where: "FILE:LINE" of a sweep line (workload, --gpus,
 * --parallel, --gather, --reps only), NULL: the command line.  *n_wl (when
 * not NULL): workload options seen.  Returns 0, or -1 after a message
 * naming where, the option and the value. */
static int parse(int argc, char **argv, wl_opts *o, int *gpus, int *par, int *reps, const char *where, int *n_wl)
{
    const int line_mode = where != NULL;
    const char *who = where ? where : "leanbench";
    char err[256];
    for (int i = 1; i < argc;) {
        int r = wl_opts_parse(o, &i, argc, argv, err, sizeof err);
        if (r < 0) { fprintf(stderr, "%s: %s\n", who, err); return -1; }
        if (r > 0) {
            if (n_wl) (*n_wl)++;
            continue;
        }
        const char *a = argv[i], *eq = strchr(a, '=');
        char name[32];
        const char *v;
        if (eq && eq - a < (int)sizeof name) {
            memcpy(name, a, (size_t)(eq - a));
            name[eq - a] = 0;
            v = eq + 1;
            i += 1;
        } else {
            snprintf(name, sizeof name, "%s", a);
            v = i + 1 < argc ? argv[i + 1] : NULL;
            i += 2;
        }
        if (!line_mode && (!strcmp(name, "--help") || !strcmp(name, "-h"))) { usage(stdout); exit(0); }
        if (!v) { fprintf(stderr, "%s: %s: missing value\n", who, name); return -1; }
        char *end;
        long x = strtol(v, &end, 10);
        const int num = *v && !*end;
        if (!strcmp(name, "--gpus")) {
            if (!num || x < 2 || x > MGPU_MAX) { fprintf(stderr, "%s: --gpus %s: 2..%d\n", who, v, MGPU_MAX); return -1; }
            *gpus = (int)x;
        } else if (!strcmp(name, "--parallel")) {
            if (!strcmp(v, "kv")) *par = PAR_KV;
            else if (!strcmp(v, "heads")) *par = PAR_HEADS;
            else { fprintf(stderr, "%s: --parallel %s: kv or heads\n", who, v); return -1; }
        } else if (!strcmp(name, "--gather")) {
            if (!strcmp(v, "p2p")) m.gather = GATHER_P2P;
            else if (!strcmp(v, "nccl") && MGPU_NCCL) m.gather = GATHER_NCCL;
            else { fprintf(stderr, "%s: --gather %s: %s\n", who, v, MGPU_NCCL ? "nccl or p2p" : "p2p (built without NCCL)"); return -1; }
        } else if (!strcmp(name, "--reps")) {
            if (!num || x < 3 || x > 1000000) { fprintf(stderr, "%s: --reps %s: 3 to 1000000\n", who, v); return -1; }
            *reps = (int)x;
        } else if (!line_mode && !strcmp(name, "--warmup")) {
            if (!num || x < 0 || x > 1000000) { fprintf(stderr, "%s: --warmup %s: a count, 0 to 1000000\n", who, v); return -1; }
            m.warmup = (int)x;
        } else if (!line_mode && !strcmp(name, "--csv")) {
            m.csv = v;
        } else if (!line_mode && !strcmp(name, "--sweep")) {
            m.sweep = v;
        } else if (line_mode && (!strcmp(name, "--warmup") || !strcmp(name, "--csv") || !strcmp(name, "--sweep"))) {
            fprintf(stderr, "%s: %s: not on a --sweep line (workload options, --gpus, --parallel, --gather, --reps)\n",
                    who, name);
            return -1;
        } else {
            fprintf(stderr, "%s: unknown option with --gpus: %s\n", who, name);
            return -1;
        }
    }
    if (wl_opts_finish(o, err, sizeof err)) { fprintf(stderr, "%s: %s\n", who, err); return -1; }
    return 0;
}

/* Every schedule asked of one option set; returns the failures. */
static int run_set(const wl_opts *o)
{
    int fails = 0;
    unsigned mask = o->sched_given ? o->sched_mask : (1u << SCHED_STREAMK);
    for (int k = 0; k < SCHED_COUNT; k++)
        if (mask & (1u << k)) fails += run_one(&o->wl, o->po, k) != 0;
    return fails;
}

/* What a sweep line starts from: the command line's settings, and the GPUs there are. */
typedef struct sweep_base {
    int gpus, parallel, reps, gather, ndev;
    int sets;               /* option sets found by sweep_check */
} sweep_base;

/* Parses one option set of the --sweep file into *lo and m, from the
 * command line's settings b; errors name the file and line.  Returns 0, or
 * 1 when it is bad. */
static int sweep_parse(const sweep_base *b, int ac, char **av, int ln, wl_opts *lo)
{
    char where[600];
    snprintf(where, sizeof where, "%s:%d", m.sweep, ln);
    wl_opts_init(lo);
    m.gpus = b->gpus; m.parallel = b->parallel; m.reps = b->reps; m.gather = b->gather;
    return parse(ac, av, lo, &m.gpus, &m.parallel, &m.reps, where, NULL) ? 1 : 0;
}

/* Every option set of the --sweep file parsed before any GPU work, so that
 * a bad line stops the run before it starts: 1 for a bad line. */
static int sweep_check(void *arg, int ac, char **av, int ln)
{
    sweep_base *b = (sweep_base *)arg;
    static wl_opts lo;
    const int bad = sweep_parse(b, ac, av, ln, &lo);
    b->sets += !bad;
    return bad;
}

/* One option set of a --sweep file (checked by sweep_check): the
 * configurations that failed. */
static int sweep_set(void *arg, int ac, char **av, int ln)
{
    const sweep_base *b = (const sweep_base *)arg;
    static wl_opts lo;
    if (sweep_parse(b, ac, av, ln, &lo)) return 1;
    if (m.gpus > b->ndev) {
        fprintf(stderr, "leanbench: --sweep %s:%d: --gpus %d: this host has %d GPUs; skipped\n", m.sweep, ln, m.gpus,
                b->ndev);
        return 0;
    }
    return run_set(&lo);
}

int mgpu_main(int argc, char **argv)
{
    static wl_opts o;
    wl_opts_init(&o);
    m.gpus = 0;
    m.parallel = PAR_KV;
    m.reps = 30;
    m.warmup = 3;
    m.gather = MGPU_NCCL ? GATHER_NCCL : GATHER_P2P;
    setenv("NCCL_NVLS_ENABLE", "0", 1);   /* NVLink SHARP uses multicast: never */
    int n_wl = 0;
    if (parse(argc, argv, &o, &m.gpus, &m.parallel, &m.reps, NULL, &n_wl)) return 2;
    if (m.sweep && n_wl) {
        fprintf(stderr, "leanbench: --sweep: workload options go on the file's lines, not on the command line\n");
        return 2;
    }
    sweep_base base = {m.gpus, m.parallel, m.reps, m.gather, 0, 0};
    if (m.sweep) {   /* every line parsed now: a bad one stops the run before any GPU work */
        const int bad = attn_sweep_each(m.sweep, sweep_check, &base);
        m.gpus = base.gpus; m.parallel = base.parallel; m.reps = base.reps; m.gather = base.gather;
        if (bad < 0) { fprintf(stderr, "leanbench: --sweep %s: cannot open\n", m.sweep); return 2; }
        if (bad) { fprintf(stderr, "leanbench: --sweep %s: %d bad line%s; nothing run\n", m.sweep, bad, bad > 1 ? "s" : ""); return 2; }
        if (!base.sets) { fprintf(stderr, "leanbench: --sweep %s: no option sets\n", m.sweep); return 2; }
    }
    if (m.csv) {   /* rows of another column set would be misread */
        FILE *f = fopen(m.csv, "r");
        char h[4096] = "";
        if (f && fgets(h, sizeof h, f) && (h[strcspn(h, "\r\n")] = 0, strcmp(h, MGPU_CSV_HEADER) != 0)) {
            fprintf(stderr, "leanbench: --csv %s: its header is not the one of --gpus: not appended to\n", m.csv);
            return 2;
        }
        if (f) fclose(f);
    }
    int ndev = 0;
    CUDA_CHECK(cudaGetDeviceCount(&ndev));
    static char commit[64], date[32], driver[64];
    attn_provenance(commit, sizeof commit, date, sizeof date, driver, sizeof driver);   /* as one GPU's rows */
    m.commit = commit;
    m.date = date;
    m.driver = driver;
    CUDA_CHECK(cudaGetDeviceProperties(&m.prop, 0));
    /* peer access both ways between GPU 0 and every other GPU */
    for (int a = 0; a < ndev && a < MGPU_MAX; a++) {
        CUDA_CHECK(cudaSetDevice(a));
        for (int b = 0; b < ndev && b < MGPU_MAX; b++) {
            int ok = 0;
            if (a != b && (a == 0 || b == 0) && cudaDeviceCanAccessPeer(&ok, a, b) == cudaSuccess && ok) {
                cudaError_t e = cudaDeviceEnablePeerAccess(b, 0);
                if (e != cudaSuccess && e != cudaErrorPeerAccessAlreadyEnabled) CUDA_CHECK(e);
                cudaGetLastError();
            }
        }
    }
    int *flag = NULL;
    CUDA_CHECK(cudaSetDevice(0));
    CUDA_CHECK(cudaHostAlloc((void **)&flag, sizeof(int), cudaHostAllocMapped | cudaHostAllocPortable));
    *flag = 0;
    m.flag = flag;
    int fails = 0;
    if (!m.sweep) {
        if (m.gpus > ndev) { fprintf(stderr, "leanbench: --gpus %d: this host has %d GPUs\n", m.gpus, ndev); return 2; }
        fails = run_set(&o);
    } else {
        base.ndev = ndev;
        fails = attn_sweep_each(m.sweep, sweep_set, &base);
        if (fails < 0) { fprintf(stderr, "leanbench: --sweep %s: cannot open\n", m.sweep); return 2; }
    }
    cudaFreeHost(flag);
    fprintf(stderr, "leanbench: --gpus: %d configurations failed\n", fails);
    return fails ? 1 : 0;
}
