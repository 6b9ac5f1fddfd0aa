/*
 * gputest.cu: correctness suite of the decode kernels (`make gpu-test`).
 *
 * First, every kernel instance's occupancy: the resident CTAs per SM the
 * driver reports (attn_occupancy) must equal what the simulator derives
 * from sim/kres.c and the H100 spec (sim/gpu.c), for every dtype, head dim,
 * GQA group 1..16 and block_n (on a compute capability 9.0 device).
 *
 * Then, for every schedule x dtype {fp16, bf16} x head dim {64, 128, 256} x
 * GQA group (1..16; 9..16 only at head dims <= 128, where the tensor-core
 * path takes them) x block_n {32, 64, 128, 256} and KV lengths 1 .. 524288
 * (groups 1, 4, 8, 16 over every length, the long ones subsampled over the
 * cross product; the other groups at 7, 129 and 4097 tokens), plus forced
 * grids and split counts and ragged batches, it draws fresh random inputs,
 * poisons the output and the lse with NaN, runs the plan on the GPU and
 * compares with the double-precision CPU reference (kernels/ref.cpp):
 *   O:   max |o - ref| <= 2e-3 (fp16) or 1.6e-2 (bf16) of max |ref|;
 *   lse: |lse - ref| <= ATTN_LSE_TOL_LOG2 (1e-3) in log2 units, every row.
 * Each plan runs twice, with lse and then without (attn_io.lse = NULL): O
 * must be bit-identical between the two (determinism; lse changes nothing).
 * Prints the first mismatches and exits 1 on any failure.
 */
#include "attn.h"
#include "opts.h"
extern "C" {
#include "gpu.h"
}

#include <string.h>
#include <thread>
#include <vector>

static int n_sms, n_fail, n_runs;

/* Checks attn_occupancy against sim/kres.c + sim/gpu.c's H100 spec for every
 * instance the planner can ask for. */
static void check_occupancy(const cudaDeviceProp *prop)
{
    if (prop->major != 9 || prop->minor != 0) {
        printf("occupancy: not a compute capability 9.0 device; the H100 spec does not apply, skipped\n");
        return;
    }
    gpu_spec g;
    char err[256];
    if (gpu_spec_load(&g, "h100", err, sizeof err) != GPU_OK) {
        fprintf(stderr, "FAIL occupancy: %s\n", err);
        n_fail++;
        return;
    }
    const int dims[] = {64, 128, 256}, bns[] = {32, 64, 128, 256};
    int checked = 0;
    for (int dt = 0; dt < 2; dt++)
        for (int d : dims)
            for (int rows = 1; rows <= ATTN_MAX_ROWS; rows++) {
                const int drv = attn_occupancy(dt, d, rows);
                for (int bn : bns) {
                    kernel_res r;
                    const int have = kres_decode(d, bn, dt, rows, &r) == 0;
                    const int sim = have ? gpu_occupancy(&g, &r) : -1;
                    checked++;
                    if (sim != drv) {
                        fprintf(stderr, "FAIL occupancy %s d=%d group=%d block_n=%d: the driver %d CTAs per SM, "
                                "sim/kres.c on the h100 spec %d (-1: no such kernel)\n",
                                dtype_name(dt), d, rows, bn, drv, sim);
                        n_fail++;
                    }
                }
            }
    printf("occupancy: %d instances x tile lengths compared with sim/kres.c on the h100 spec\n", checked);
}

/* Runs one schedule on buffers b and compares with ref (O) and ref2 (lse,
 * log2 units); lse_d: a device buffer of batch*heads floats. */
static void run_one(const workload *w, const attn_bufs *b, const double *ref, const double *ref2, float *lse_d,
                    int kind, int block_n, int grid, int splits, cudaStream_t s, const char *what)
{
    const int rows = w->heads / w->kv_heads;
    const int occ = attn_occupancy(w->dtype, w->head_dim, rows);
    plan_opts po = {kind, block_n, splits, grid, 0};
    plan *p = plan_alloc();
    int rc = plan_build(p, w, &po, n_sms, occ);
    char label[256];
    snprintf(label, sizeof label, "%s %s %s d=%d g=%d bn=%d grid=%d splits=%d", what, sched_name(kind),
             dtype_name(w->dtype), w->head_dim, rows, block_n, grid, splits);
    if (rc != PLAN_OK) {
        if (rc == PLAN_ERESIDENT) { plan_free(p); return; }   /* a forced grid above residency: refused, as it must be */
        fprintf(stderr, "FAIL %s: plan_build returned %d\n", label, rc);
        n_fail++;
        plan_free(p);
        return;
    }
    attn_plan_dev d;
    attn_plan_upload(&d, p, w);
    attn_io io;
    memset(&io, 0, sizeof io);
    io.q = b->q; io.k = b->k[0]; io.v = b->v[0]; io.o = b->o;
    io.dtype = w->dtype; io.head_dim = w->head_dim;
    const size_t n_lse = (size_t)w->batch * w->heads;
    std::vector<uint16_t> first;
    for (int it = 0; it < 2; it++) {   /* with lse, then without */
        io.lse = it == 0 ? lse_d : NULL;
        CUDA_CHECK(cudaMemsetAsync(b->o, 0xff, (size_t)b->qo_elems * 2, s));   /* NaN in fp16 and bf16 */
        CUDA_CHECK(cudaMemsetAsync(lse_d, 0xff, n_lse * sizeof(float), s));   /* NaN */
        CUDA_CHECK(attn_launch(&d, &io, s, NULL));
        CUDA_CHECK(cudaStreamSynchronize(s));
        double err;
        int64_t bad = attn_compare(w, b->o, ref, attn_tolerance(w->dtype), &err, 4, label);
        n_runs++;
        if (bad) {
            fprintf(stderr, "FAIL %s%s: %lld mismatches, max err %.3g (grid %d, segs %d)\n", label,
                    io.lse ? "" : " (lse NULL)", (long long)bad, err, p->grid, p->n_segs);
            n_fail++;
            break;
        }
        if (io.lse) {
            bad = attn_compare_lse(w, lse_d, ref2, ATTN_LSE_TOL_LOG2, &err, 4, label);
            if (bad) {
                fprintf(stderr, "FAIL %s: lse of %lld rows off, max |diff| %.3g (log2 units; grid %d, segs %d)\n",
                        label, (long long)bad, err, p->grid, p->n_segs);
                n_fail++;
            }
        }
        std::vector<uint16_t> cur((size_t)b->qo_elems);
        CUDA_CHECK(cudaMemcpy(cur.data(), b->o, cur.size() * 2, cudaMemcpyDeviceToHost));
        if (it == 0) first = cur;
        else if (memcmp(first.data(), cur.data(), cur.size() * 2)) {
            fprintf(stderr, "FAIL %s: the launch without lse differs bitwise (not deterministic)\n", label);
            n_fail++;
        }
    }
    attn_plan_free(&d);
    plan_free(p);
}

/* Draws inputs for w, computes the reference once, runs the schedules under
 * the tile lengths of bn_mask (bit k: 32 << k) and, with extra, forced
 * grids and split counts. */
static void run_case(workload *w, int bn_mask, int extra, uint64_t seed, cudaStream_t s, const char *what)
{
    attn_bufs b;
    if (attn_bufs_alloc(&b, w, 1, seed, s)) {
        fprintf(stderr, "FAIL %s: cannot allocate buffers\n", what);
        n_fail++;
        return;
    }
    float *lse_d = NULL;
    CUDA_CHECK(cudaMalloc((void **)&lse_d, (size_t)w->batch * w->heads * sizeof(float)));
    int th = (int)std::thread::hardware_concurrency();
    double *ref2 = NULL;
    double *ref = attn_ref_lse_from_device(w, &b, 0, th > 0 ? th : 4, &ref2);
    const int bns[4] = {32, 64, 128, 256};
    for (int kind = 0; kind < SCHED_COUNT; kind++)
        for (int k = 0; k < 4; k++)
            if (bn_mask & (1 << k)) run_one(w, &b, ref, ref2, lse_d, kind, bns[k], 0, 0, s, what);
    if (extra) {   /* forced grids and splits: odd sizes exercise unit boundaries */
        run_one(w, &b, ref, ref2, lse_d, SCHED_STREAMK, 64, 7, 0, s, what);
        run_one(w, &b, ref, ref2, lse_d, SCHED_STREAMK, 32, 131, 0, s, what);
        run_one(w, &b, ref, ref2, lse_d, SCHED_HYBRID, 64, 5, 0, s, what);
        run_one(w, &b, ref, ref2, lse_d, SCHED_SPLIT, 64, 0, 3, s, what);
        run_one(w, &b, ref, ref2, lse_d, SCHED_SPLIT, 32, 0, 128, s, what);
    }
    free(ref);
    free(ref2);
    cudaFree(lse_d);
    attn_bufs_free(&b);
}

/* GQA groups the kernels take at head dim d: 1..16 on the tensor-core path
 * (d <= 128), 1..8 on CUDA cores. */
static int max_group(int d)
{
    return d <= PLAN_MMA_MAX_DIM ? ATTN_MAX_ROWS : 8;
}

int main(void)
{
    CUDA_CHECK(cudaSetDevice(0));
    cudaDeviceProp prop;
    CUDA_CHECK(cudaGetDeviceProperties(&prop, 0));
    n_sms = prop.multiProcessorCount;
    cudaStream_t s;
    CUDA_CHECK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
    printf("gputest on %s (%d SMs)\n", prop.name, n_sms);
    check_occupancy(&prop);

    static workload w;
    const int dims[] = {64, 128, 256};
    uint64_t seed = 1;
    /* groups 1, 4, 8, 16 over every length (16 not at d = 256) */
    const int64_t lens[] = {1, 7, 127, 128, 129, 1000, 4097, 131071, 524288};
    const int groups[] = {1, 4, 8, 16};
    int combo = 0;
    for (int dt = 0; dt < 2; dt++)
        for (int di = 0; di < 3; di++) {
            const int ng = max_group(dims[di]) >= 16 ? 4 : 3;
            for (int gi = 0; gi < ng; gi++)
                for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++, combo++) {
                    memset(&w, 0, sizeof w);
                    w.dtype = dt;
                    w.head_dim = dims[di];
                    int64_t n = lens[li];
                    int bn_mask = 15, extra = 0;
                    if (n >= 524288) {
                        /* one group per (dtype, dim), one or two tile lengths */
                        if (gi != (dt * 2 + di) % ng) continue;
                        w.batch = 1; w.kv_heads = 1;
                        bn_mask = (dt + di) % 2 ? 0x6 : 0x9;
                    } else if (n >= 131071) {
                        if (gi == (dt + di) % ng) continue;
                        w.batch = 1; w.kv_heads = 2;
                        bn_mask = 1 << ((combo) % 4) | 1 << ((combo + 2) % 4);
                    } else {
                        w.batch = groups[gi] >= 16 ? 2 : 3; w.kv_heads = 2;
                        extra = n >= 127;
                    }
                    w.heads = w.kv_heads * groups[gi];
                    for (int r = 0; r < w.batch; r++) w.ctx[r] = n;
                    char what[64];
                    snprintf(what, sizeof what, "ctx=%lld", (long long)n);
                    run_case(&w, bn_mask, extra, seed++, s, what);
                }
        }
    /* every other group the kernels take, at a short, a tile-crossing and a
     * multi-chunk length: each row capacity's padding (3 in the capacity-4
     * kernel, 5..7 in 8, 9..15 in 16) */
    const int64_t lens_g[] = {7, 129, 4097};
    for (int dt = 0; dt < 2; dt++)
        for (int di = 0; di < 3; di++)
            for (int g = 2; g <= max_group(dims[di]); g++) {
                if (g == 4 || g == 8 || g == 16) continue;
                for (size_t li = 0; li < sizeof lens_g / sizeof lens_g[0]; li++) {
                    memset(&w, 0, sizeof w);
                    w.dtype = dt;
                    w.head_dim = dims[di];
                    w.batch = 2;
                    w.kv_heads = 1 + (g + (int)li) % 2;
                    w.heads = w.kv_heads * g;
                    for (int r = 0; r < w.batch; r++) w.ctx[r] = lens_g[li];
                    char what[64];
                    snprintf(what, sizeof what, "group=%d ctx=%lld", g, (long long)lens_g[li]);
                    run_case(&w, 15, lens_g[li] >= 127, seed++, s, what);
                }
            }
    /* ragged batches, lengths 1..100k, groups across 1..16 */
    uint64_t x = 12345;
    for (int c = 0; c < 12; c++) {
        memset(&w, 0, sizeof w);
        w.dtype = c % 2;
        w.head_dim = c % 3 == 2 ? 64 : c % 4 == 3 ? 256 : 128;
        w.batch = 2 + c % 5;
        w.kv_heads = 1 + c % 3;
        int g = 1 + (c * 7) % 16;
        if (g > max_group(w.head_dim)) g = 1 + g % max_group(w.head_dim);
        w.heads = w.kv_heads * g;
        w.ragged = 1;
        char what[256];
        int o = snprintf(what, sizeof what, "ragged g=%d ctx=", g);
        for (int r = 0; r < w.batch; r++) {
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            int64_t len = 1 + (int64_t)((x >> 33) % 100000);
            if (r == 0 && c % 2) len = 1 + (int64_t)((x >> 40) % 50);   /* very short next to long */
            w.ctx[r] = len;
            o += snprintf(what + o, sizeof what - (size_t)o, "%s%lld", r ? ";" : "", (long long)len);
        }
        run_case(&w, 15, 1, seed++, s, what);
    }
    printf("gputest: %d runs, %d failures\n", n_runs, n_fail);
    return n_fail ? 1 : 0;
}
