/*
 * ref.cpp: CPU reference of decode attention in double precision.
 *
 * O[r][h] = softmax(q[r][h] . K[r][h/g]^T / sqrt(d)) V[r][h/g] with the
 * inputs read from the same 16-bit values the GPU reads, and optionally
 * each row's log-sum-exp of the scaled scores.  Work items (request, kv
 * head, a block of its query heads) are spread over std::thread workers;
 * each reads its K and V rows once for all the heads it holds.
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
    attn_reference_lse(w, q, k, v, o, NULL, 0, threads);
}

void attn_reference_lse(const workload *w, const uint16_t *q, const uint16_t *k, const uint16_t *v,
                        double *o, double *lse, int log2_domain, int threads)
{
    const int D = w->head_dim, G = w->heads / w->kv_heads;
    std::vector<int64_t> base(w->batch);
    int64_t off = 0;
    for (int r = 0; r < w->batch; r++) { base[r] = off; off += w->ctx[r] * w->kv_heads * D; }
    if (threads < 1) threads = 1;
    /* work item: the heads [h0, h0 + hb) of one (request, kv head): each K
     * and V row is decoded once for all of them (a GQA group reads its KV
     * once, not once per head); the group is cut into blocks when there
     * are too few (request, kv head) pairs to keep every thread busy */
    const int units = w->batch * w->kv_heads;
    int nb = (2 * threads + units - 1) / units;
    if (nb > G) nb = G;
    if (nb < 1) nb = 1;
    const int hb = (G + nb - 1) / nb;
    nb = (G + hb - 1) / hb;
    const int items = units * nb;
    std::atomic<int> next(0);
    const double scale = 1.0 / sqrt((double)D);
    std::vector<float> lut(65536);   /* every 16-bit pattern, decoded once */
    for (int x = 0; x < 65536; x++) lut[(size_t)x] = attn_elem_to_float((uint16_t)x, w->dtype);
    auto work = [&]() {
        std::vector<double> qd((size_t)hb * D), s, od((size_t)hb * D), mx(hb), sum(hb);
        std::vector<float> row(D);
        for (int it; (it = next.fetch_add(1)) < items;) {
            const int unit = it / nb, r = unit / w->kv_heads, kh = unit % w->kv_heads;
            const int h0 = kh * G + (it % nb) * hb;
            const int nh = h0 + hb <= (kh + 1) * G ? hb : (kh + 1) * G - h0;
            const int64_t n = w->ctx[r];
            const uint16_t *kp = k + base[r] + (int64_t)kh * n * D;
            const uint16_t *vp = v + base[r] + (int64_t)kh * n * D;
            for (int j = 0; j < nh; j++)
                for (int e = 0; e < D; e++) qd[(size_t)j * D + e] = lut[q[((int64_t)r * w->heads + h0 + j) * D + e]];
            s.resize((size_t)n * nh);
            for (int j = 0; j < nh; j++) mx[j] = -INFINITY;
            for (int64_t t = 0; t < n; t++) {
                for (int e = 0; e < D; e++) row[e] = lut[kp[t * D + e]];
                for (int j = 0; j < nh; j++) {
                    double acc = 0;
                    for (int e = 0; e < D; e++) acc += qd[(size_t)j * D + e] * row[e];
                    const double sc = acc * scale;
                    s[(size_t)t * nh + j] = sc;
                    if (sc > mx[j]) mx[j] = sc;
                }
            }
            for (int j = 0; j < nh; j++) sum[j] = 0;
            for (size_t e = 0; e < od.size(); e++) od[e] = 0;
            for (int64_t t = 0; t < n; t++) {
                for (int e = 0; e < D; e++) row[e] = lut[vp[t * D + e]];
                for (int j = 0; j < nh; j++) {
                    const double pw = exp(s[(size_t)t * nh + j] - mx[j]);
                    sum[j] += pw;
                    for (int e = 0; e < D; e++) od[(size_t)j * D + e] += pw * row[e];
                }
            }
            for (int j = 0; j < nh; j++) {
                const int64_t p = (int64_t)r * w->heads + h0 + j;
                for (int e = 0; e < D; e++) o[p * D + e] = od[(size_t)j * D + e] / sum[j];
                if (lse) {   /* natural: mx + ln(sum); log2 units: that times log2(e) */
                    const double l = n > 0 ? mx[j] + log(sum[j]) : -INFINITY;
                    lse[p] = log2_domain ? l / log(2.0) : l;
                }
            }
        }
    };
    std::vector<std::thread> ts;
    for (int i = 1; i < threads; i++) ts.emplace_back(work);
    work();
    for (auto &t : ts) t.join();
}
