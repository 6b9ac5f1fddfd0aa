/*
 * gpcmap.cu: which SMs of the GPU share a GPC, read from thread-block
 * clusters (the hardware runs every CTA of a cluster within one GPC).
 *
 * Each CTA takes most of an SM's shared memory, so that one runs per SM.
 * For each cluster size C of 1..16 (sizes above 8 are non-portable) the
 * driver says how many clusters fit at once (cudaOccupancyMaxActiveClusters):
 * the sum over the GPCs of floor(SMs of the GPC / C), which the GPC sizes
 * decide.  For the sizes given with --sizes, a launch of that many clusters
 * records each CTA's SM (%smid) and cluster (%clusterid.x), the CTAs holding
 * until every one has started, so that all clusters are resident together;
 * the CTAs of one cluster are on one GPC.  Writes CSV:
 *   kind,cluster_size,value,cluster,rank,sm
 * kind `fit`: value = clusters that fit at once (cluster, rank, sm empty);
 * kind `place`: one row per CTA of the launch of that size (cluster -2: the
 * CTA gave up waiting for the others after 100 ms, and says so on stderr).
 *
 *   gpcmap [--csv FILE] [--sizes C1,C2,...]    (default sizes 8,12,16)
 */
#include "attn.h"   /* CUDA_CHECK */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const int SMEM_BYTES = 200 * 1024;   /* one CTA per SM */

__global__ void place(int *out, unsigned *started, unsigned total)
{
    unsigned sm, cl;
    asm volatile("mov.u32 %0, %%smid;" : "=r"(sm));
    asm volatile("mov.u32 %0, %%clusterid.x;" : "=r"(cl));
    if (threadIdx.x == 0) {
        out[2 * blockIdx.x] = (int)cl;
        out[2 * blockIdx.x + 1] = (int)sm;
        atomicAdd(started, 1u);
        /* hold the SM until every CTA runs (then the clusters were all resident at once), 100 ms at most:
         * where the driver's count does not fit, the host finds CTAs that started late (out[] holds -2) */
        unsigned long long t0, t;
        asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t0));
        do {
            __nanosleep(1000);
            asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));
        } while (atomicAdd(started, 0u) < total && t - t0 < 100000000ull);
        if (atomicAdd(started, 0u) < total) out[2 * blockIdx.x] = -2;
    }
}

/* A launch of `grid` CTAs in clusters of c, one CTA per SM; attr is the cluster attribute's storage. */
static cudaLaunchConfig_t cluster_cfg(int c, unsigned grid, cudaLaunchAttribute *attr)
{
    cudaLaunchConfig_t cfg = {};
    attr->id = cudaLaunchAttributeClusterDimension;
    attr->val.clusterDim.x = (unsigned)c;
    attr->val.clusterDim.y = attr->val.clusterDim.z = 1;
    cfg.gridDim = dim3(grid);
    cfg.blockDim = dim3(32);
    cfg.dynamicSmemBytes = SMEM_BYTES;
    cfg.attrs = attr;
    cfg.numAttrs = 1;
    return cfg;
}

int main(int argc, char **argv)
{
    const char *csv = NULL, *sizes = "8,12,16";
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--csv") && i + 1 < argc) csv = argv[++i];
        else if (!strcmp(argv[i], "--sizes") && i + 1 < argc) sizes = argv[++i];
        else {
            fprintf(stderr, "gpcmap: %s: unknown option (gpcmap [--csv FILE] [--sizes C1,C2,...])\n", argv[i]);
            return 2;
        }
    }
    int want[16], nwant = 0;   /* the sizes to place, checked before anything is written */
    char buf[256];
    snprintf(buf, sizeof buf, "%s", sizes);
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        char *end;
        long c = strtol(t, &end, 10);
        if (*end || c < 1 || c > 16 || nwant == 16) {
            fprintf(stderr, "gpcmap: --sizes %s: '%s' is not a cluster size of 1..16 (16 sizes at most)\n", sizes, t);
            return 2;
        }
        want[nwant++] = (int)c;
    }
    if (!nwant) {
        fprintf(stderr, "gpcmap: --sizes '%s': no cluster size\n", sizes);
        return 2;
    }
    FILE *f = csv ? fopen(csv, "w") : stdout;
    if (!f) {
        fprintf(stderr, "gpcmap: %s: cannot open\n", csv);
        return 2;
    }
    CUDA_CHECK(cudaFuncSetAttribute(place, cudaFuncAttributeMaxDynamicSharedMemorySize, SMEM_BYTES));
    CUDA_CHECK(cudaFuncSetAttribute(place, cudaFuncAttributeNonPortableClusterSizeAllowed, 1));
    cudaDeviceProp prop;
    CUDA_CHECK(cudaGetDeviceProperties(&prop, 0));
    fprintf(f, "kind,cluster_size,value,cluster,rank,sm\n");
    int fit[17] = {0};
    for (int c = 1; c <= 16; c++) {
        cudaLaunchAttribute attr;
        cudaLaunchConfig_t cfg = cluster_cfg(c, (unsigned)(c * 64), &attr);
        if (cudaOccupancyMaxActiveClusters(&fit[c], (void *)place, &cfg) != cudaSuccess) {
            fprintf(stderr, "gpcmap: cluster size %d: the driver gives no fit (%s)\n", c,
                    cudaGetErrorString(cudaGetLastError()));
            fit[c] = 0;
        }
        fprintf(f, "fit,%d,%d,,,\n", c, fit[c]);
    }
    for (int wi = 0; wi < nwant; wi++) {
        const int c = want[wi];
        if (fit[c] < 1) continue;
        unsigned total = (unsigned)(fit[c] * c);
        int *d_out;
        unsigned *d_started;
        CUDA_CHECK(cudaMalloc(&d_out, sizeof(int) * 2 * total));
        CUDA_CHECK(cudaMalloc(&d_started, sizeof(unsigned)));
        CUDA_CHECK(cudaMemset(d_out, 0xff, sizeof(int) * 2 * total));   /* poisoned: -1 where a CTA never wrote */
        CUDA_CHECK(cudaMemset(d_started, 0, sizeof(unsigned)));
        cudaLaunchAttribute attr;
        cudaLaunchConfig_t cfg = cluster_cfg(c, total, &attr);
        CUDA_CHECK(cudaLaunchKernelEx(&cfg, place, d_out, d_started, total));
        CUDA_CHECK(cudaDeviceSynchronize());
        int *h = (int *)malloc(sizeof(int) * 2 * total);
        CUDA_CHECK(cudaMemcpy(h, d_out, sizeof(int) * 2 * total, cudaMemcpyDeviceToHost));
        int bad = 0, late = 0;
        for (unsigned b = 0; b < total; b++) {
            late += h[2 * b] == -2;
            if (h[2 * b] == -1 || h[2 * b + 1] < 0 || h[2 * b + 1] >= prop.multiProcessorCount) bad++;
            /* a cluster's CTAs are consecutive in x: rank b mod C */
            fprintf(f, "place,%d,%d,%d,%u,%d\n", c, fit[c], h[2 * b], b % (unsigned)c, h[2 * b + 1]);
        }
        if (bad) {
            fprintf(stderr, "gpcmap: cluster size %d: %d CTAs left no record%s\n", c, bad,
                    csv ? "; the CSV is removed" : "");
            if (csv) fclose(f), remove(csv);
            return 1;
        }
        if (late) fprintf(stderr, "gpcmap: cluster size %d: %d CTAs waited 100 ms for the others: the %d clusters "
                                  "were not all resident at once\n", c, late, fit[c]);
        free(h);
        CUDA_CHECK(cudaFree(d_out));
        CUDA_CHECK(cudaFree(d_started));
    }
    if (csv) fclose(f);
    fprintf(stderr, "gpcmap: %s, %d SMs; clusters that fit by size 1..16:", prop.name, prop.multiProcessorCount);
    for (int c = 1; c <= 16; c++) fprintf(stderr, " %d", fit[c]);
    fprintf(stderr, "\n");
    return 0;
}
