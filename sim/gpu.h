/*
 * gpu.h: GPU specifications and kernel occupancy.
 *
 * A spec is a text file of `key = value` lines with `#` comments
 * (experiments/gpus/NAME.gpu).  The shipped files are embedded into the
 * binary at build time so that `--gpu h100` works from any directory;
 * `--gpu path/to/x.gpu` loads a user's file.  A spec holds the chip alone:
 * what a datasheet or a microbenchmark of the chip gives.  What depends on
 * the kernel that runs (bytes it keeps in flight, its compute efficiency,
 * its fixed CTA costs, its resources) is a kernel profile (kprof.h).
 */
#ifndef LEANSIM_GPU_H
#define LEANSIM_GPU_H

#include <stdint.h>

#include "specfile.h"

typedef struct gpu_spec {
    char name[32];              /* short name: h100, a100, ... */
    char full_name[96];         /* marketing name */
    int sms;                    /* streaming multiprocessors */
    int max_ctas_per_sm;        /* resident CTA limit per SM */
    int max_threads_per_sm;     /* resident thread limit per SM */
    int regs_per_sm;            /* 32-bit registers per SM */
    int smem_per_sm_bytes;      /* shared memory usable by CTAs per SM */
    int smem_per_cta_bytes;     /* shared memory one CTA may have */
    double l2_bytes;            /* L2 cache size */
    double sm_clock_mhz;        /* max SM clock */
    double mem_bw_gbps;         /* datasheet memory bandwidth */
    double mem_bw_achievable_gbps; /* bandwidth a read-mostly kernel reaches */
    specfile_pairs mem_bw_sms;  /* read ceiling (GB/s) measured on N of the SMs (a green context): N:GBPS
                                   items, or none; scales mem_bw_achievable_gbps when the SM count changes */
    double mem_latency_ns;      /* loaded DRAM latency seen by one CTA */
    double sm_max_gbps;         /* most one SM pulls from memory, whatever its CTAs keep in flight */
    double mem_share_exp;       /* saturation exponent k of the memory link (pslink_share); 0: a hard min */
    double mem_sm_share_exp;    /* how the CTAs of one SM share its part of the link: a CTA streaming
                                   beside k - 1 others on its SM weighs k^-x in the link's split
                                   (pslink_groups); 0: every CTA an equal share, 1: every SM */
    double fp32_tflops;         /* dense FP32 (CUDA cores) */
    double tensor_tflops;       /* dense FP16/BF16 tensor cores */
    double launch_us;           /* from a launch (timed with events around it) to the first CTA running */
    double graph_launch_us;     /* the same for a kernel replayed back to back from a CUDA graph */
    double kernel_gap_us;       /* between back-to-back dependent kernels in a stream: the first's last CTA
                                   ending to the second's first CTA starting its work */
    double pdl_gap_us;          /* the same when the second is a programmatic dependent launch (its CTAs
                                   already resident, waiting for the first grid to complete) */
    double band_lo_pct, band_hi_pct; /* this chip's spread beyond a kernel profile's 90% band, which was
                                   fitted on another chip's rows: added to the band's bounds (percent;
                                   0 and 0: the band alone, as on the chip the profiles were fitted on) */
    specfile_bands band_kernel; /* the same spread for a kernel measured on this chip, by its profile's name,
                                   in place of band_lo_pct and band_hi_pct (none: those for every kernel) */
    double link_gbps;           /* GPU-to-GPU bandwidth into one GPU (NVLink or PCIe, one direction) */
    double link_latency_us;     /* a small peer-to-peer copy, issued to its arrival being seen */
    char source[256];           /* file it came from, or "builtin:NAME" */
    uint64_t hash;              /* FNV-1a of the spec text, for provenance */
} gpu_spec;

/* Status codes. */
enum gpu_status { GPU_OK = 0, GPU_EPARSE, GPU_ENOTFOUND, GPU_EIO };

/*
 * Parses spec text.  `file` names the source in messages.  On error returns
 * GPU_EPARSE and writes "file:line: reason >>> 'text'" into err[errlen].
 */
int gpu_spec_parse(gpu_spec *g, const char *text, const char *file, char *err, int errlen);

/*
 * Loads a spec by short name (an embedded spec) or by path (anything with a
 * '/' or ending in ".gpu").  Returns GPU_OK, GPU_ENOTFOUND, GPU_EIO or
 * GPU_EPARSE with err set.
 */
int gpu_spec_load(gpu_spec *g, const char *name_or_path, char *err, int errlen);

/*
 * Overrides one field from "key=value" (a what-if: `--set sms=64`), with
 * the checks of the parser.  Setting `sms` keeps each SM as it was: the
 * whole-GPU FP32 and tensor TFLOPS scale with the SM count (memory
 * bandwidth and L2 do not).  Returns GPU_OK, or GPU_EPARSE with err set and
 * g unchanged.
 */
int gpu_spec_set(gpu_spec *g, const char *assign, char *err, int errlen);

/*
 * The chip's spread beyond a profile's band for kernel `kernel` (percent,
 * into *lo and *hi): its band_kernel entry where it has one, else
 * band_lo_pct and band_hi_pct.
 */
void gpu_spec_band(const gpu_spec *g, const char *kernel, double *lo, double *hi);

/*
 * Sets kernel `kernel`'s entry of g's band_kernel to lo and hi (percent),
 * replacing one of that name or adding one.  Returns 0, or -1 when the
 * table already holds SPECF_BANDS_MAX other kernels (g unchanged).
 */
int gpu_spec_band_set(gpu_spec *g, const char *kernel, double lo, double hi);

/*
 * Makes g a spec of `sms` SMs of the same kind (a green context, or a
 * what-if): the whole-GPU FP32 and tensor TFLOPS scale with the SM count,
 * and mem_bw_achievable_gbps scales with the chip's read ceiling on that
 * many SMs (gpu_mem_bw_ceiling) where the spec has a mem_bw_sms table (it
 * stays as it is without one).  sms >= 1.
 */
void gpu_spec_use_sms(gpu_spec *g, int sms);

/*
 * The chip's read ceiling on `sms` SMs from its mem_bw_sms table: linear
 * between items, the nearest item's outside them; 0 without a table.
 */
double gpu_mem_bw_ceiling(const gpu_spec *g, int sms);

/* Embedded specs: count, and the i-th one's short name and text. */
int gpu_builtin_count(void);
const char *gpu_builtin_name(int i);
const char *gpu_builtin_text(int i);

/* Resources of one kernel, from the compiler's report (nvcc -Xptxas -v). */
typedef struct kernel_res {
    int threads;      /* per CTA */
    int regs;         /* per thread */
    int smem_bytes;   /* static + dynamic shared memory per CTA */
} kernel_res;

/* CTAs of a kernel with resources r that fit on one SM of g at once (>= 0). */
int gpu_occupancy(const gpu_spec *g, const kernel_res *r);

/*
 * Resources of the decode kernel for a head dim, KV tile length, KV dtype and
 * GQA group size (rows), as the CUDA kernels in kernels/ compile.
 * Returns 0, or -1 when no such kernel is built.
 */
int kres_decode(int head_dim, int block_n, int dtype, int rows, kernel_res *out);

/* FNV-1a 64-bit hash of a string. */
uint64_t gpu_hash_text(const char *s);

/* 1 when key names a spec field. */
int gpu_spec_has_key(const char *key);

/* Number of spec keys, and the i-th key's name (for listings and --set). */
int gpu_spec_key_count(void);
const char *gpu_spec_key(int i);
/* Writes key i of g as its file text into buf[len]. */
void gpu_spec_format(const gpu_spec *g, int i, char *buf, int len);

#endif
