/*
 * linkbench.cu: the interconnect between the GPUs of one host, as the
 * KV-parallel decode's gather uses it: time and bandwidth of peer-to-peer
 * copies (cudaMemcpyPeerAsync over NVLink where the GPUs have it) of
 * 256 B to 256 MB, one pair at a time and all peers into GPU 0 at once.
 * Every copy is checked (the destination is poisoned first, then compared
 * with the source) before it is timed.  Writes CSV:
 *   gpu,gpus,driver,commit,date,mode,src,dst,bytes,reps,time_us,time_p10_us,time_p90_us,gbps
 * mode `pair`: src -> dst alone; mode `gather`: every GPU but 0 -> GPU 0
 * at once (bytes per peer, gbps: all bytes received over the time).
 *
 *   linkbench [--csv FILE] [--reps N]
 */
#include "attn.h"   /* CUDA_CHECK */

#include <algorithm>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vector>

static const size_t MAX_BYTES = (size_t)256 << 20;

__global__ void fill(uint32_t *p, size_t n, uint32_t seed)
{
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x)
        p[i] = (uint32_t)(i * 2654435761u) ^ seed;
}

/* 1 when dst[0..n) equals what fill(seed) wrote, checked on the host. */
static int same(const uint32_t *dst_dev, size_t n, uint32_t seed, int dev)
{
    std::vector<uint32_t> h(n);
    CUDA_CHECK(cudaSetDevice(dev));
    CUDA_CHECK(cudaMemcpy(h.data(), dst_dev, n * 4, cudaMemcpyDeviceToHost));
    for (size_t i = 0; i < n; i++)
        if (h[i] != ((uint32_t)(i * 2654435761u) ^ seed)) return 0;
    return 1;
}

static double pct(std::vector<double> v, double q)
{
    std::sort(v.begin(), v.end());
    return v[(size_t)(q * (double)(v.size() - 1) + 0.5)];
}

int main(int argc, char **argv)
{
    const char *csv = NULL;
    int reps = 30;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--csv") && i + 1 < argc) csv = argv[++i];
        else if (!strcmp(argv[i], "--reps") && i + 1 < argc) {
            const char *v = argv[++i];
            char *end;
            long r = strtol(v, &end, 10);
            if (end == v || *end || r < 3 || r > 1000000) {
                fprintf(stderr, "linkbench: --reps %s: an integer from 3 to 1000000\n", v);
                return 2;
            }
            reps = (int)r;
        }
        else {
            fprintf(stderr, "usage: linkbench [--csv FILE] [--reps N]\n");
            return 2;
        }
    }
    int n = 0;
    CUDA_CHECK(cudaGetDeviceCount(&n));
    if (n < 2) {
        fprintf(stderr, "linkbench: %d GPU(s): needs two or more\n", n);
        return 2;
    }
    cudaDeviceProp prop;
    CUDA_CHECK(cudaGetDeviceProperties(&prop, 0));
    int drv = 0;
    cudaDriverGetVersion(&drv);
    const char *commit = getenv("LEANBENCH_COMMIT") ? getenv("LEANBENCH_COMMIT") : "unknown";
    const char *date = getenv("LEANBENCH_DATE") ? getenv("LEANBENCH_DATE") : "unknown";
    const char *driver = getenv("LEANBENCH_DRIVER") ? getenv("LEANBENCH_DRIVER") : "unknown";
    std::vector<uint32_t *> src(n), dst(n);
    std::vector<cudaStream_t> st(n);
    for (int d = 0; d < n; d++) {
        CUDA_CHECK(cudaSetDevice(d));
        for (int p = 0; p < n; p++) {
            int ok = 0;
            if (p != d && cudaDeviceCanAccessPeer(&ok, d, p) == cudaSuccess && ok) {
                cudaError_t e = cudaDeviceEnablePeerAccess(p, 0);
                if (e != cudaSuccess && e != cudaErrorPeerAccessAlreadyEnabled) CUDA_CHECK(e);
                cudaGetLastError();
            }
        }
        CUDA_CHECK(cudaMalloc((void **)&src[d], MAX_BYTES));
        /* GPU 0 receives every peer's copy at once: one region per peer */
        CUDA_CHECK(cudaMalloc((void **)&dst[d], d == 0 ? MAX_BYTES * (size_t)n : MAX_BYTES));
        CUDA_CHECK(cudaStreamCreateWithFlags(&st[d], cudaStreamNonBlocking));
        fill<<<1024, 256>>>(src[d], MAX_BYTES / 4, 1000u + (uint32_t)d);
        CUDA_CHECK(cudaDeviceSynchronize());
    }
    FILE *f = csv ? fopen(csv, "a") : NULL;
    if (csv && !f) {
        fprintf(stderr, "linkbench: --csv %s: cannot open for appending\n", csv);
        return 2;
    }
    if (f && ftell(f) == 0)
        fprintf(f, "gpu,gpus,driver,commit,date,mode,src,dst,bytes,reps,time_us,time_p10_us,time_p90_us,gbps\n");
    printf("%-7s %3s %3s %10s %10s %10s\n", "mode", "src", "dst", "bytes", "time_us", "GB/s");
    int fails = 0;
    for (size_t bytes = 256; bytes <= MAX_BYTES; bytes *= 4) {
        /* every ordered pair alone, then all peers into GPU 0 at once */
        for (int pair = 0; pair <= n * n; pair++) {
            int gather = pair == n * n;
            int s = gather ? -1 : pair / n, d = gather ? 0 : pair % n;
            if (!gather && s == d) continue;
            /* check: poison, copy, compare */
            for (int p = 0; p < n; p++) {
                if (gather ? p == 0 : p != s) continue;
                uint32_t *to = d == 0 ? dst[0] + (size_t)p * (MAX_BYTES / 4) : dst[d];
                CUDA_CHECK(cudaSetDevice(d));
                CUDA_CHECK(cudaMemset(to, 0xff, bytes));
                CUDA_CHECK(cudaDeviceSynchronize());
                CUDA_CHECK(cudaSetDevice(p));
                CUDA_CHECK(cudaMemcpyPeerAsync(to, d, src[p], p, bytes, st[p]));
                CUDA_CHECK(cudaStreamSynchronize(st[p]));
                if (!same(to, bytes / 4, 1000u + (uint32_t)p, d)) {
                    fprintf(stderr, "linkbench: CHECK FAILED: %d -> %d, %zu bytes\n", p, d, bytes);
                    fails++;
                }
            }
            std::vector<double> t;
            cudaEvent_t e0, e1;
            CUDA_CHECK(cudaSetDevice(d));
            CUDA_CHECK(cudaEventCreate(&e0));
            CUDA_CHECK(cudaEventCreate(&e1));
            for (int r = 0; r < reps + 3; r++) {
                /* the copies start when GPU d's event does: peers wait on it, GPU d waits on them */
                CUDA_CHECK(cudaSetDevice(d));
                CUDA_CHECK(cudaEventRecord(e0, st[d]));
                std::vector<cudaEvent_t> done;
                for (int p = 0; p < n; p++) {
                    if (gather ? p == 0 : p != s) continue;
                    uint32_t *to = d == 0 ? dst[0] + (size_t)p * (MAX_BYTES / 4) : dst[d];
                    CUDA_CHECK(cudaSetDevice(p));
                    CUDA_CHECK(cudaStreamWaitEvent(st[p], e0, 0));
                    CUDA_CHECK(cudaMemcpyPeerAsync(to, d, src[p], p, bytes, st[p]));
                    cudaEvent_t ev;
                    CUDA_CHECK(cudaEventCreateWithFlags(&ev, cudaEventDisableTiming));
                    CUDA_CHECK(cudaEventRecord(ev, st[p]));
                    done.push_back(ev);
                }
                CUDA_CHECK(cudaSetDevice(d));
                for (cudaEvent_t ev : done) CUDA_CHECK(cudaStreamWaitEvent(st[d], ev, 0));
                CUDA_CHECK(cudaEventRecord(e1, st[d]));
                CUDA_CHECK(cudaEventSynchronize(e1));
                for (cudaEvent_t ev : done) cudaEventDestroy(ev);
                float ms = 0;
                CUDA_CHECK(cudaEventElapsedTime(&ms, e0, e1));
                if (r >= 3) t.push_back(1e3 * ms);
            }
            cudaEventDestroy(e0);
            cudaEventDestroy(e1);
            double med = pct(t, 0.5), total = (double)bytes * (gather ? n - 1 : 1);
            printf("%-7s %3d %3d %10zu %10.2f %10.1f\n", gather ? "gather" : "pair", s, d, bytes, med, total / med / 1e3);
            if (f)
                fprintf(f, "%s,%d,%s,%s,%s,%s,%d,%d,%zu,%d,%.3f,%.3f,%.3f,%.2f\n", prop.name, n, driver, commit, date,
                        gather ? "gather" : "pair", s, d, bytes, reps, med, pct(t, 0.1), pct(t, 0.9),
                        total / med / 1e3);
        }
    }
    if (f) fclose(f);
    printf("linkbench: %d failed checks\n", fails);
    return fails ? 1 : 0;
}
