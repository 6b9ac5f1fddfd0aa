/*
 * ref.cpp: CPU reference of decode attention in double precision.
 *
 * O[r][h] = softmax(q[r][h] . K[r][h/g]^T / sqrt(d)) V[r][h/g] with the
 * inputs read from the same 16-bit values the GPU reads.  (request, head)
 * pairs are spread over std::thread workers.
 */
#include "attn.h"

#include <math.h>
#include <string.h>
#include <atomic>
#include <thread>
#include <vector>

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
    const int D = w->head_dim, G = w->heads / w->kv_heads;
    std::vector<int64_t> base(w->batch);
    int64_t off = 0;
    for (int r = 0; r < w->batch; r++) { base[r] = off; off += w->ctx[r] * w->kv_heads * D; }
    const int pairs = w->batch * w->heads;
    std::atomic<int> next(0);
    const double scale = 1.0 / sqrt((double)D);
    std::vector<float> lut(65536);   /* every 16-bit pattern, decoded once */
    for (int x = 0; x < 65536; x++) lut[(size_t)x] = attn_elem_to_float((uint16_t)x, w->dtype);
    auto work = [&]() {
        std::vector<double> qd(D), s, od(D);
        for (int p; (p = next.fetch_add(1)) < pairs;) {
            const int r = p / w->heads, h = p % w->heads, kh = h / G;
            const int64_t n = w->ctx[r];
            const uint16_t *kp = k + base[r] + (int64_t)kh * n * D;
            const uint16_t *vp = v + base[r] + (int64_t)kh * n * D;
            for (int e = 0; e < D; e++) qd[e] = lut[q[(int64_t)p * D + e]];
            s.resize((size_t)n);
            double mx = -INFINITY;
            for (int64_t t = 0; t < n; t++) {
                double acc = 0;
                for (int e = 0; e < D; e++) acc += qd[e] * lut[kp[t * D + e]];
                s[(size_t)t] = acc * scale;
                if (s[(size_t)t] > mx) mx = s[(size_t)t];
            }
            double sum = 0;
            for (int e = 0; e < D; e++) od[e] = 0;
            for (int64_t t = 0; t < n; t++) {
                double pw = exp(s[(size_t)t] - mx);
                sum += pw;
                for (int e = 0; e < D; e++) od[e] += pw * lut[vp[t * D + e]];
            }
            for (int e = 0; e < D; e++) o[(int64_t)p * D + e] = od[e] / sum;
        }
    };
    if (threads < 1) threads = 1;
    std::vector<std::thread> ts;
    for (int i = 1; i < threads; i++) ts.emplace_back(work);
    work();
    for (auto &t : ts) t.join();
}
