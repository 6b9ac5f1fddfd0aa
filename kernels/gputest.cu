/*
 * gputest.cu: correctness suite of the decode kernels (`make gpu-test`).
 *
 * For every schedule x dtype {fp16, bf16} x head dim {64, 128, 256} x GQA group
 * {1, 4, 8} x block_n {32, 64, 128, 256} and KV lengths 1 .. 524288 (the
 * long ones subsampled over the cross product), plus ragged batches, it
 * draws fresh random inputs, poisons the output with NaN, runs the plan on
 * the GPU and compares with the double-precision CPU reference (kernels/ref.cpp).
 * Tolerance: max |o - ref| <= 2e-3 (fp16) or 1.6e-2 (bf16) of max |ref|.
 * Stream-K results must also be bit-identical between two launches.
 * Prints the first mismatches and exits 1 on any failure.
 */
#include "attn.h"
#include "opts.h"

#include <string.h>
#include <thread>
#include <vector>

static int n_sms, n_fail, n_runs;

/* Runs one schedule on buffers b and compares with ref. */
static void run_one(const workload *w, const attn_bufs *b, const double *ref, int kind, int block_n,
                    int grid, int splits, cudaStream_t s, const char *what)
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
    attn_io io = {b->q, b->k[0], b->v[0], b->o, w->dtype, w->head_dim};
    std::vector<uint16_t> first;
    const int launches = (kind == SCHED_STREAMK || kind == SCHED_HYBRID) ? 2 : 1;
    for (int it = 0; it < launches; it++) {
        CUDA_CHECK(cudaMemsetAsync(b->o, 0xff, (size_t)b->qo_elems * 2, s));   /* NaN in fp16 and bf16 */
        CUDA_CHECK(attn_launch(&d, &io, s, NULL));
        CUDA_CHECK(cudaStreamSynchronize(s));
        double err;
        int64_t bad = attn_compare(w, b->o, ref, attn_tolerance(w->dtype), &err, 4, label);
        n_runs++;
        if (bad) {
            fprintf(stderr, "FAIL %s: %lld mismatches, max err %.3g (grid %d, segs %d)\n", label,
                    (long long)bad, err, p->grid, p->n_segs);
            n_fail++;
            break;
        }
        std::vector<uint16_t> cur((size_t)b->qo_elems);
        CUDA_CHECK(cudaMemcpy(cur.data(), b->o, cur.size() * 2, cudaMemcpyDeviceToHost));
        if (it == 0) first = cur;
        else if (memcmp(first.data(), cur.data(), cur.size() * 2)) {
            fprintf(stderr, "FAIL %s: second launch differs bitwise (not deterministic)\n", label);
            n_fail++;
        }
    }
    attn_plan_free(&d);
    plan_free(p);
}

/* Draws inputs for w, computes the reference once, runs the schedules. */
static void run_case(workload *w, int bn_mask, int extra, uint64_t seed, cudaStream_t s, const char *what)
{
    attn_bufs b;
    if (attn_bufs_alloc(&b, w, 1, seed, s)) {
        fprintf(stderr, "FAIL %s: cannot allocate buffers\n", what);
        n_fail++;
        return;
    }
    int th = (int)std::thread::hardware_concurrency();
    double *ref = attn_ref_from_device(w, &b, 0, th > 0 ? th : 4);
    const int bns[4] = {32, 64, 128, 256};
    for (int kind = 0; kind < SCHED_COUNT; kind++)
        for (int k = 0; k < 4; k++)
            if (bn_mask & (1 << k)) run_one(w, &b, ref, kind, bns[k], 0, 0, s, what);
    if (extra) {   /* forced grids and splits: odd sizes exercise unit boundaries */
        run_one(w, &b, ref, SCHED_STREAMK, 64, 7, 0, s, what);
        run_one(w, &b, ref, SCHED_STREAMK, 32, 131, 0, s, what);
        run_one(w, &b, ref, SCHED_HYBRID, 64, 5, 0, s, what);
        run_one(w, &b, ref, SCHED_SPLIT, 64, 0, 3, s, what);
        run_one(w, &b, ref, SCHED_SPLIT, 32, 0, 128, s, what);
    }
    free(ref);
    attn_bufs_free(&b);
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

    static workload w;
    const int64_t lens[] = {1, 7, 127, 128, 129, 1000, 4097, 131071, 524288};
    const int groups[] = {1, 4, 8};
    const int dims[] = {64, 128, 256};
    int combo = 0;
    uint64_t seed = 1;
    for (int dt = 0; dt < 2; dt++)
        for (int di = 0; di < 3; di++)
            for (int gi = 0; gi < 3; gi++)
                for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++, combo++) {
                    memset(&w, 0, sizeof w);
                    w.dtype = dt;
                    w.head_dim = dims[di];
                    int64_t n = lens[li];
                    int bn_mask = 15, extra = 0;
                    if (n >= 524288) {
                        /* one group per (dtype, dim), one or two tile lengths */
                        if (gi != (dt * 2 + di) % 3) continue;
                        w.batch = 1; w.kv_heads = 1;
                        bn_mask = (dt + di) % 2 ? 0x6 : 0x9;
                    } else if (n >= 131071) {
                        if (gi == (dt + di) % 3) continue;
                        w.batch = 1; w.kv_heads = 2;
                        bn_mask = 1 << ((combo) % 4) | 1 << ((combo + 2) % 4);
                    } else {
                        w.batch = 3; w.kv_heads = 2;
                        extra = n >= 127;
                    }
                    w.heads = w.kv_heads * groups[gi];
                    for (int r = 0; r < w.batch; r++) w.ctx[r] = n;
                    char what[64];
                    snprintf(what, sizeof what, "ctx=%lld", (long long)n);
                    run_case(&w, bn_mask, extra, seed++, s, what);
                }
    /* GQA group 16 (one CTA holds 16 query rows; head_dim 256 has no such kernel) */
    const int64_t lens16[] = {1, 127, 129, 4097, 131071};
    for (int dt = 0; dt < 2; dt++)
        for (int di = 0; di < 2; di++)
            for (size_t li = 0; li < sizeof lens16 / sizeof lens16[0]; li++) {
                memset(&w, 0, sizeof w);
                w.dtype = dt;
                w.head_dim = dims[di];
                int64_t n = lens16[li];
                w.batch = n >= 131071 ? 1 : 2;
                w.kv_heads = 2;
                w.heads = w.kv_heads * 16;
                for (int r = 0; r < w.batch; r++) w.ctx[r] = n;
                char what[64];
                snprintf(what, sizeof what, "group=16 ctx=%lld", (long long)n);
                run_case(&w, n >= 131071 ? 0x6 : 15, n >= 127, seed++, s, what);
            }
    /* ragged batches, lengths 1..100k */
    uint64_t x = 12345;
    for (int c = 0; c < 8; c++) {
        memset(&w, 0, sizeof w);
        w.dtype = c % 2;
        w.head_dim = c % 3 == 2 ? 64 : c % 4 == 3 ? 256 : 128;
        w.batch = 2 + c % 5;
        w.kv_heads = 1 + c % 3;
        w.heads = w.kv_heads * (c == 5 ? 16 : groups[c % 3]);
        w.ragged = 1;
        char what[256];
        int o = snprintf(what, sizeof what, "ragged ctx=");
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
