/*
 * test_ref.cu: the CPU reference (kernels/ref.cpp), on the host alone.
 *
 * Every kernel is checked against this reference, so it is held here to
 * what it promises: each 16-bit input read as attn_elem_to_float reads it
 * (all 65,536 patterns, through a one-token workload whose output is its V
 * row), and outputs and log-sum-exps equal, up to the order of double
 * sums, to a plain one-running-sum evaluation in this file, on random
 * ragged workloads of every GQA group size and head dim, with any number
 * of threads.  Built with nvcc (the reference's own compiler) when the
 * toolkit is there; it makes no CUDA call and needs no GPU.
 */
#include "attn.h"
#include "testhelp.h"

#include <string.h>
#include <vector>

/* splitmix64: the test's inputs, the same on every machine */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rng_next(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* A 16-bit value of dtype near a uniform draw in [-1, 1) (fp16: rounded
 * down to its 10 bits; bf16: to its 7). */
static uint16_t rng_elem(int dtype)
{
    float f = (float)((double)(rng_next() >> 11) / 9007199254740992.0 * 2 - 1);
    uint32_t b;
    memcpy(&b, &f, 4);
    if (dtype == DTYPE_BF16) return (uint16_t)(b >> 16);
    uint32_t s = b >> 31, e = (b >> 23) & 255, m = (b >> 13) & 1023;
    if (e < 113) return (uint16_t)(s << 15);   /* below fp16's normal range: zero */
    return (uint16_t)((s << 15) | ((e - 112) << 10) | m);
}

/* The reference's definition, one running sum per dot product and per
 * output element, as plainly as it can be written. */
static void naive(const workload *w, const uint16_t *q, const uint16_t *k, const uint16_t *v, double *o,
                  double *lse)
{
    const int D = w->head_dim, G = w->heads / w->kv_heads;
    int64_t off = 0;
    for (int r = 0; r < w->batch; r++) {
        const int64_t n = w->ctx[r];
        for (int h = 0; h < w->heads; h++) {
            const uint16_t *kp = k + off + (int64_t)(h / G) * n * D, *vp = v + off + (int64_t)(h / G) * n * D;
            const uint16_t *qp = q + ((int64_t)r * w->heads + h) * D;
            std::vector<double> s((size_t)n);
            double mx = -INFINITY, sum = 0;
            for (int64_t t = 0; t < n; t++) {
                double acc = 0;
                for (int e = 0; e < D; e++)
                    acc += (double)attn_elem_to_float(qp[e], w->dtype) * attn_elem_to_float(kp[t * D + e], w->dtype);
                s[(size_t)t] = acc / sqrt((double)D);
                if (s[(size_t)t] > mx) mx = s[(size_t)t];
            }
            double *op = o + ((int64_t)r * w->heads + h) * D;
            for (int e = 0; e < D; e++) op[e] = 0;
            for (int64_t t = 0; t < n; t++) {
                const double p = exp(s[(size_t)t] - mx);
                sum += p;
                for (int e = 0; e < D; e++) op[e] += p * attn_elem_to_float(vp[t * D + e], w->dtype);
            }
            for (int e = 0; e < D; e++) op[e] /= sum;
            lse[(int64_t)r * w->heads + h] = n > 0 ? (mx + log(sum)) / log(2.0) : -INFINITY;
        }
        off += n * w->kv_heads * D;
    }
}

/* Every 16-bit pattern as V of one-token requests with zero Q and K: each
 * score is 0, its weight 1, so each output element is its V element. */
static void test_decode(int dtype)
{
    workload w;
    memset(&w, 0, sizeof w);
    w.heads = w.kv_heads = 1;
    w.head_dim = 256;
    w.dtype = dtype;
    w.batch = 65536 / w.head_dim;
    w.ragged = 1;
    for (int r = 0; r < w.batch; r++) w.ctx[r] = 1;
    std::vector<uint16_t> q((size_t)65536, 0), k((size_t)65536, 0), v((size_t)65536);
    for (int x = 0; x < 65536; x++) v[(size_t)x] = (uint16_t)x;
    std::vector<double> o((size_t)65536);
    attn_reference(&w, q.data(), k.data(), v.data(), o.data(), 3);
    int bad = 0, first = -1;
    for (int x = 0; x < 65536; x++) {
        const double want = attn_elem_to_float((uint16_t)x, dtype), got = o[(size_t)x];
        const int same = isnan(want) ? isnan(got) : got == want;   /* -0 comes out +0: 0 + 1 x -0 */
        if (!same && bad++ == 0) first = x;
    }
    CHECK(bad == 0, "%s: %d of 65536 patterns read otherwise than attn_elem_to_float (first 0x%04x)",
          dtype == DTYPE_BF16 ? "bf16" : "fp16", bad, first);
}

/* One random workload against the plain evaluation: outputs within 1e-12
 * of the row's largest, lse (log2 units) within 1e-12; threads 1 and 5
 * must give the same bits. */
static void test_workload(int batch, int heads, int kv_heads, int d, int dtype, const int64_t *ctx)
{
    workload w;
    memset(&w, 0, sizeof w);
    w.batch = batch;
    w.heads = heads;
    w.kv_heads = kv_heads;
    w.head_dim = d;
    w.dtype = dtype;
    w.ragged = 1;
    int64_t kv = 0;
    for (int r = 0; r < batch; r++) {
        w.ctx[r] = ctx[r];
        kv += ctx[r] * kv_heads * d;
    }
    const int64_t qo = (int64_t)batch * heads * d;
    std::vector<uint16_t> q((size_t)qo), k((size_t)kv + 1), v((size_t)kv + 1);
    for (auto &x : q) x = rng_elem(dtype);
    for (auto &x : k) x = rng_elem(dtype);
    for (auto &x : v) x = rng_elem(dtype);
    std::vector<double> o1((size_t)qo), o5((size_t)qo), want((size_t)qo), l1((size_t)batch * heads),
        l5((size_t)batch * heads), lwant((size_t)batch * heads);
    attn_reference_lse(&w, q.data(), k.data(), v.data(), o1.data(), l1.data(), 1, 1);
    attn_reference_lse(&w, q.data(), k.data(), v.data(), o5.data(), l5.data(), 1, 5);
    naive(&w, q.data(), k.data(), v.data(), want.data(), lwant.data());
    double worst = 0, lworst = 0;
    int nan_ok = 1;
    for (int64_t row = 0; row < (int64_t)batch * heads; row++) {
        const int r = (int)(row / heads);
        if (ctx[r] == 0) {   /* no tokens: no weights to normalise, lse -inf */
            nan_ok &= isinf(l1[(size_t)row]) && l1[(size_t)row] < 0;
            continue;
        }
        double scale = 0;
        for (int e = 0; e < d; e++) scale = fmax(scale, fabs(want[(size_t)(row * d + e)]));
        if (scale == 0) scale = 1;
        for (int e = 0; e < d; e++) {
            const double diff = fabs(o1[(size_t)(row * d + e)] - want[(size_t)(row * d + e)]) / scale;
            if (!(diff <= worst)) worst = diff;   /* NaN lands here too */
        }
        const double ld = fabs(l1[(size_t)row] - lwant[(size_t)row]);
        if (!(ld <= lworst)) lworst = ld;
    }
    const int same = memcmp(o1.data(), o5.data(), o1.size() * sizeof(double)) == 0 &&
                     memcmp(l1.data(), l5.data(), l1.size() * sizeof(double)) == 0;
    char what[96];
    snprintf(what, sizeof what, "batch %d, heads %d/%d, d %d, %s", batch, heads, kv_heads, d,
             dtype == DTYPE_BF16 ? "bf16" : "fp16");
    CHECK(worst <= 1e-12, "%s: output %.3g of the row's largest from the plain sums", what, worst);
    CHECK(lworst <= 1e-12, "%s: lse %.3g from the plain sums", what, lworst);
    CHECK(nan_ok, "%s: a request of no tokens has lse -inf", what);
    CHECK(same, "%s: 1 and 5 threads give other bits", what);
}

int main(void)
{
    test_decode(DTYPE_FP16);
    test_decode(DTYPE_BF16);
    const int64_t ragged[6] = {1, 37, 300, 0, 1029, 64};
    const int64_t one[1] = {2048};
    const int groups[5] = {1, 3, 4, 8, 16}, dims[3] = {64, 128, 256};
    for (int gi = 0; gi < 5; gi++)
        for (int di = 0; di < 3; di++)
            test_workload(6, 2 * groups[gi], 2, dims[di], (gi + di) % 2 ? DTYPE_BF16 : DTYPE_FP16, ragged);
    test_workload(1, 32, 8, 128, DTYPE_FP16, one);
    test_workload(1, 16, 16, 64, DTYPE_BF16, one);
    TEST_DONE("test_ref");
}
