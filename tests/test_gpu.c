/*
 * test_gpu.c: spec files (shipped ones parse; every error names file, line
 * and text) and occupancy.
 */
#include <math.h>
#include <string.h>

#include "gpu.h"
#include "kprof.h"
#include "sim.h"
#include "testhelp.h"

static const char *good =
    "# comment\nname = t\nfull_name = Test GPU\nsms = 10\nmax_ctas_per_sm = 32\nmax_threads_per_sm = 2048\n"
    "regs_per_sm = 65536\nsmem_per_sm_bytes = 233472\nsmem_per_cta_bytes = 232448\nl2_bytes = 1e6\n"
    "sm_clock_mhz = 1000\nmem_bw_gbps = 1000\nmem_bw_achievable_gbps = 900\nmem_bw_sms = none\nmem_latency_ns = 500\n"
    "sm_max_gbps = 80\nmem_share_exp = 0\nmem_sm_share_exp = 0\nfp32_tflops = 10\ntensor_tflops = 100\nlaunch_us = 2\ngraph_launch_us = 1\n"
    "kernel_gap_us = 1   # trailing comment\n"
    "pdl_gap_us = 0.5\n"
    "band_lo_pct = 0\nband_hi_pct = 0\nband_kernel = none\n"
    "link_gbps = 400\n"
    "link_latency_us = 15\n";

static const char *good_kernel =
    "# a kernel\nname = k\nfull_name = Test kernel\nschedule = split\nblock_n = 128\nsplits = 0\n"
    "ctas_per_sm = 0\nsplit_rule = fill\nsplit_ctas = 256\nsplit_min = 4\nthreads = 128\nregs_per_thread = 64\nsmem_bytes = 16384\ncompute = tensor\nmma_rows = 64\nmax_group = 0\n"
    "cta_inflight_bytes = 8192\ninflight_tiles = 0\nsm_gbps = 1000\nfp32_eff = 0.5\nfp32_row_flops = 4\nfp32_kv_flops = 4\nfp32_issue_frac = 1\nfp32_overlap_norm = 1\ntensor_eff = 0.5\ntc_kv_flops = 0\ncta_prologue_ns = 100\ncta_epilogue_ns = 100\n"
    "partial_write_ns = 100\npartial_row_ns = 0\nflag_latency_ns = 100\nmerge_round_ns = 100\nhost_round_ns = 0\nhost_setup_ns = 0\npdl = 0\nseg_loads = 1\nload_queue = 0\nsm_stream_loss = 0\ncall_extra_us = 0 # trailing\nerr_lo_pct = -5\nerr_hi_pct = 6\n"
    "err_fp32_lo_pct = 0\nerr_fp32_hi_pct = 0\nerr_fa2_lo_pct = 0\nerr_fa2_hi_pct = 0\nerr_split_lo_pct = -2\n"
    "err_split_hi_pct = 9\nerr_streamk_lo_pct = 0\nerr_streamk_hi_pct = 0\nerr_balanced_lo_pct = 0\n"
    "err_balanced_hi_pct = 0\nerr_fa2_wide_lo_pct = 0\nerr_fa2_wide_hi_pct = 0\nerr_split_wide_lo_pct = -3\n"
    "err_split_wide_hi_pct = 20\nerr_streamk_wide_lo_pct = 0\nerr_streamk_wide_hi_pct = 0\nerr_balanced_wide_lo_pct = 0\n"
    "err_balanced_wide_hi_pct = 0\nerr_model_lo_pct = 0\nerr_model_hi_pct = 0\nerr_model_fp32_lo_pct = 0\nerr_model_fp32_hi_pct = 0\n"
    "err_model_fa2_lo_pct = 0\nerr_model_fa2_hi_pct = 0\nerr_model_split_lo_pct = 0\nerr_model_split_hi_pct = 0\n"
    "err_model_streamk_lo_pct = 0\nerr_model_streamk_hi_pct = 0\nerr_model_balanced_lo_pct = 0\n"
    "err_model_balanced_hi_pct = 0\nerr_model_fa2_wide_lo_pct = 0\nerr_model_fa2_wide_hi_pct = 0\n"
    "err_model_split_wide_lo_pct = 0\nerr_model_split_wide_hi_pct = 0\nerr_model_streamk_wide_lo_pct = 0\n"
    "err_model_streamk_wide_hi_pct = 0\nerr_model_balanced_wide_lo_pct = 0\nerr_model_balanced_wide_hi_pct = 0\n"
    "single = none\n";

/* Parses `good` with line `key` replaced by `repl` (NULL: removed); returns
 * the status, the message in err. */
static int parse_edit(const char *key, const char *repl, char *err, int errlen)
{
    char buf[4096] = "", line[256];
    const char *p = good;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t n = (size_t)(nl - p);
        memcpy(line, p, n);
        line[n] = 0;
        p = nl + 1;
        if (strncmp(line, key, strlen(key)) == 0 && line[strlen(key)] == ' ') {
            if (repl) strcat(strcat(buf, repl), "\n");
        } else {
            strcat(strcat(buf, line), "\n");
        }
    }
    gpu_spec g;
    return gpu_spec_parse(&g, buf, "t.gpu", err, errlen);
}

int main(void)
{
    char err[512];
    gpu_spec g;
    CHECK(gpu_spec_parse(&g, good, "t.gpu", err, sizeof err) == GPU_OK, "good spec: %s", err);
    CHECK(g.sms == 10 && g.l2_bytes == 1e6 && g.sm_max_gbps == 80 && g.kernel_gap_us == 1, "values read");

    static const char *want[] = {"a100", "h100", "h100-pcie", "h200", "b200", "l40s", "rtx4090"};
    for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
        int rc = gpu_spec_load(&g, want[i], err, sizeof err);
        CHECK(rc == GPU_OK, "shipped spec %s: %s", want[i], err);
        CHECK(rc || strcmp(g.name, want[i]) == 0, "spec %s names itself %s", want[i], g.name);
    }
    CHECK(gpu_builtin_count() >= 7, "%d specs compiled in", gpu_builtin_count());

    CHECK(parse_edit("sms", "sms = 10\nwarp_size = 32", err, sizeof err) == GPU_EPARSE &&
              strstr(err, "t.gpu:5: unknown key 'warp_size'") && strstr(err, ">>> 'warp_size = 32'"),
          "unknown key: '%s'", err);
    CHECK(parse_edit("sms", NULL, err, sizeof err) == GPU_EPARSE && strstr(err, "missing required key 'sms'"),
          "missing key: '%s'", err);
    CHECK(parse_edit("sms", "sms = ten", err, sizeof err) == GPU_EPARSE && strstr(err, "t.gpu:4:") &&
              strstr(err, "'ten' is not a number"),
          "bad value: '%s'", err);
    CHECK(parse_edit("sms", "sms = 10.5", err, sizeof err) == GPU_EPARSE && strstr(err, "integer"),
          "fractional SM count: '%s'", err);
    CHECK(parse_edit("mem_bw_gbps", "mem_bw_gbps = -3", err, sizeof err) == GPU_EPARSE && strstr(err, "mem_bw_gbps"),
          "negative bandwidth: '%s'", err);
    /* the green-context ceiling table: none, or ascending N:GBPS items */
    CHECK(parse_edit("mem_bw_sms", "mem_bw_sms = 4:500 8:900", err, sizeof err) == GPU_OK, "table: '%s'", err);
    CHECK(parse_edit("mem_bw_sms", "mem_bw_sms = 8:900 4:500", err, sizeof err) == GPU_EPARSE &&
              strstr(err, "t.gpu:14:") && strstr(err, "ascending"),
          "table out of order: '%s'", err);
    CHECK(parse_edit("mem_bw_sms", "mem_bw_sms = 8:0", err, sizeof err) == GPU_EPARSE && strstr(err, "positive"),
          "zero ceiling: '%s'", err);
    CHECK(parse_edit("mem_bw_sms", "mem_bw_sms = 8=900", err, sizeof err) == GPU_EPARSE && strstr(err, "N:X"),
          "malformed item: '%s'", err);
    CHECK(parse_edit("mem_bw_sms", "mem_bw_sms = 0:900", err, sizeof err) == GPU_EPARSE && strstr(err, "N:X"),
          "zero SMs: '%s'", err);
    /* a kernel's own band on the chip: none, or NAME:LO:HI items, each kernel once */
    CHECK(parse_edit("band_kernel", "band_kernel = torch-flash:-0.75:9.5 torch-flex:-6.7:0", err, sizeof err) == GPU_OK,
          "kernel bands: '%s'", err);
    CHECK(parse_edit("band_kernel", "band_kernel = torch-flash:1:9", err, sizeof err) == GPU_EPARSE &&
              strstr(err, "band_kernel: item torch-flash needs LO in [-100, 0]"),
          "a positive lower bound: '%s'", err);
    CHECK(parse_edit("band_kernel", "band_kernel = a:-1:2 a:-1:3", err, sizeof err) == GPU_EPARSE &&
              strstr(err, "kernel a given twice"),
          "a kernel twice: '%s'", err);
    CHECK(parse_edit("band_kernel", "band_kernel = torch-flash", err, sizeof err) == GPU_EPARSE &&
              strstr(err, "NAME:LO:HI"),
          "an item without bounds: '%s'", err);
    CHECK(parse_edit("band_kernel", "band_kernel = x:-1:2:3", err, sizeof err) == GPU_EPARSE && strstr(err, "item x"),
          "an item with three numbers: '%s'", err);
    /* each bound at its limit is taken, one past it refused; at most SPECF_BANDS_MAX kernels */
    CHECK(parse_edit("band_kernel", "band_kernel = x:-100:1000", err, sizeof err) == GPU_OK, "bounds at their limits: '%s'",
          err);
    CHECK(parse_edit("band_kernel", "band_kernel = x:-101:2", err, sizeof err) == GPU_EPARSE &&
              strstr(err, "item x needs LO in [-100, 0]"),
          "a lower bound below -100%%: '%s'", err);
    CHECK(parse_edit("band_kernel", "band_kernel = x:-1:1001", err, sizeof err) == GPU_EPARSE &&
              strstr(err, "item x needs LO in [-100, 0] and HI in [0, 1000]"),
          "an upper bound above 1000%%: '%s'", err);
    CHECK(parse_edit("band_kernel", "band_kernel = a:-1:1 b:-1:1 c:-1:1 d:-1:1 e:-1:1 f:-1:1 g:-1:1 h:-1:1", err,
                     sizeof err) == GPU_OK,
          "8 kernels: '%s'", err);
    CHECK(parse_edit("band_kernel", "band_kernel = a:-1:1 b:-1:1 c:-1:1 d:-1:1 e:-1:1 f:-1:1 g:-1:1 h:-1:1 i:-1:1", err,
                     sizeof err) == GPU_EPARSE &&
              strstr(err, "band_kernel: more than 8 items"),
          "9 kernels: '%s'", err);
    CHECK(parse_edit("sms", "sms = 10\nsms = 12", err, sizeof err) == GPU_EPARSE && strstr(err, "given twice"),
          "duplicate key: '%s'", err);
    CHECK(parse_edit("sms", "sms 10", err, sizeof err) == GPU_EPARSE && strstr(err, "expected 'key = value'"),
          "no '=': '%s'", err);
    CHECK(parse_edit("smem_per_cta_bytes", "smem_per_cta_bytes = 300000", err, sizeof err) == GPU_EPARSE &&
              strstr(err, "exceeds"),
          "CTA shared memory above the SM's: '%s'", err);
    CHECK(parse_edit("sms", "sms = 10\ncta_inflight_bytes = 8192", err, sizeof err) == GPU_EPARSE &&
              strstr(err, "unknown key 'cta_inflight_bytes'"),
          "a kernel field is no chip field: '%s'", err);

    /* kernel profiles: the same format, their own keys and checks */
    kernel_profile k;
    CHECK(kprof_parse(&k, good_kernel, "t.kernel", err, sizeof err) == KPROF_OK, "good profile: %s", err);
    CHECK(k.schedule == KPROF_SPLIT && k.block_n == 128 && k.threads == 128 && k.compute == KPROF_TENSOR &&
              k.cta_inflight_bytes == 8192,
          "profile values read");
    CHECK(kprof_schedule_kind(&k) == SCHED_SPLIT && kprof_sched_mask(&k) == 1u << SCHED_SPLIT, "split family");
    /* the fill rule: 256 / units splits when at least 4, else one */
    static const int units_of[] = {1, 8, 64, 128, 300}, want_s[] = {128, 32, 4, 1, 1};
    for (int i = 0; i < 5; i++) {
        workload fw;
        workload_uniform(&fw, 1, units_of[i], units_of[i], 128, DTYPE_FP16, 4096);
        plan_opts fo = {.kind = SCHED_SPLIT};
        kprof_plan_opts(&k, &fw, &fo);
        CHECK(fo.splits == want_s[i], "fill rule, %d units: %d splits, want %d", units_of[i], fo.splits, want_s[i]);
    }
    kernel_res kr;
    CHECK(kprof_resources(&k, 128, 128, DTYPE_FP16, 1, &kr) == 0 && kr.threads == 128 && kr.regs == 64 &&
              kr.smem_bytes == 16384,
          "profile resources");
    /* the error band by regime: a split on tensor cores has its own, the others the profile's */
    double blo, bhi;
    kprof_band(&k, kprof_band_of(&k, SCHED_SPLIT, 1, 128), 0, &blo, &bhi);
    CHECK(blo == -2 && bhi == 9, "split's own band: %g .. %g", blo, bhi);
    kprof_band(&k, kprof_band_of(&k, SCHED_STREAMK, 1, 128), 0, &blo, &bhi);
    CHECK(blo == -5 && bhi == 6, "no stream-K band: the profile's: %g .. %g", blo, bhi);
    CHECK(kprof_band_of(&k, SCHED_SPLIT, 1, 256) == KPROF_BAND_SPLIT, "compute = tensor: tensor cores at d = 256 too");
    /* a wide group: its own band where the profile has one, else its family's, else the profile's */
    CHECK(kprof_band_of(&k, SCHED_SPLIT, 7, 128) == KPROF_BAND_SPLIT &&
              kprof_band_of(&k, SCHED_SPLIT, 8, 128) == KPROF_BAND_SPLIT_WIDE &&
              kprof_band_of(&k, SCHED_HYBRID, 16, 128) == KPROF_BAND_STREAMK_WIDE,
          "groups of 8 rows or more have regimes of their own");
    kprof_band(&k, KPROF_BAND_SPLIT_WIDE, 0, &blo, &bhi);
    CHECK(blo == -3 && bhi == 20, "split, wide group: its own band: %g .. %g", blo, bhi);
    {
        kernel_profile kw = k;
        kw.err_band_lo_pct[KPROF_BAND_SPLIT_WIDE] = kw.err_band_hi_pct[KPROF_BAND_SPLIT_WIDE] = 0;
        kprof_band(&kw, KPROF_BAND_SPLIT_WIDE, 0, &blo, &bhi);
        CHECK(blo == -2 && bhi == 9, "split, wide group without a band: split's: %g .. %g", blo, bhi);
        kprof_band(&kw, KPROF_BAND_STREAMK_WIDE, 0, &blo, &bhi);
        CHECK(blo == -5 && bhi == 6, "stream-K, wide group, no band in the family: the profile's: %g .. %g", blo, bhi);
    }
    /* the closed form's bands: the simulator's while it has none, its own once it has */
    kprof_band(&k, kprof_band_of(&k, SCHED_SPLIT, 1, 128), 1, &blo, &bhi);
    CHECK(blo == -2 && bhi == 9, "closed form without bands of its own: the simulator's split band: %g .. %g", blo, bhi);
    {
        kernel_profile km = k;
        km.err_model_lo_pct = -8, km.err_model_hi_pct = 7;
        km.err_model_band_lo_pct[KPROF_BAND_SPLIT] = -20, km.err_model_band_hi_pct[KPROF_BAND_SPLIT] = 4;
        kprof_band(&km, KPROF_BAND_SPLIT, 1, &blo, &bhi);
        CHECK(blo == -20 && bhi == 4, "closed form: its own split band: %g .. %g", blo, bhi);
        kprof_band(&km, KPROF_BAND_STREAMK, 1, &blo, &bhi);
        CHECK(blo == -8 && bhi == 7, "closed form, no stream-K band of its own: its overall band: %g .. %g", blo, bhi);
        kprof_band(&km, KPROF_BAND_SPLIT, 0, &blo, &bhi);
        CHECK(blo == -2 && bhi == 9, "the simulator keeps its own: %g .. %g", blo, bhi);
    }
    {
        kernel_profile ks;
        CHECK(kprof_load(&ks, "leansim", err, sizeof err) == KPROF_OK, "leansim: %s", err);
        CHECK(kprof_band_of(&ks, SCHED_SPLIT, 1, 256) == KPROF_BAND_FP32 &&
                  kprof_band_of(&ks, SCHED_HYBRID, 4, 128) == KPROF_BAND_STREAMK,
              "leansim: CUDA cores at d = 256, hybrid in stream-K's band");
        gpu_spec gh;
        CHECK(gpu_spec_load(&gh, "h100", err, sizeof err) == GPU_OK, "h100: %s", err);
        workload ww;
        workload_uniform(&ww, 1, 32, 32, 256, DTYPE_FP16, 65536);
        plan_opts po = {.kind = SCHED_SPLIT};
        sim_result rr;
        sim_ctx *sc = sim_ctx_alloc();
        CHECK(sim_run(sc, &gh, &ks, &ww, &po, &rr, NULL, err, sizeof err) == SIM_OK, "sim: %s", err);
        /* the profile's band for the regime, widened by the chip's (band_lo_pct, band_hi_pct) */
        CHECK(fabs(rr.time_lo_us / rr.time_us - 1 - (ks.err_band_lo_pct[KPROF_BAND_FP32] + gh.band_lo_pct) / 100) < 1e-9 &&
                  fabs(rr.time_hi_us / rr.time_us - 1 - (ks.err_band_hi_pct[KPROF_BAND_FP32] + gh.band_hi_pct) / 100) < 1e-9 &&
                  ks.err_band_hi_pct[KPROF_BAND_FP32] != ks.err_hi_pct,
              "d = 256: the interval is the CUDA-core path's band (%g .. %g us around %g)", rr.time_lo_us,
              rr.time_hi_us, rr.time_us);
        /* a kernel with an entry of its own in band_kernel takes it in place of the chip's band */
        gpu_spec gk = gh;
        gk.band_lo_pct = -1, gk.band_hi_pct = 2;
        CHECK(gpu_spec_set(&gk, "band_kernel=torch-flash:-3:7 leansim:-0.5:11", err, sizeof err) == GPU_OK, "%s", err);
        sim_result rk;
        CHECK(sim_run(sc, &gk, &ks, &ww, &po, &rk, NULL, err, sizeof err) == SIM_OK, "sim: %s", err);
        CHECK(fabs(rk.time_lo_us / rk.time_us - 1 - (ks.err_band_lo_pct[KPROF_BAND_FP32] - 0.5) / 100) < 1e-9 &&
                  fabs(rk.time_hi_us / rk.time_us - 1 - (ks.err_band_hi_pct[KPROF_BAND_FP32] + 11) / 100) < 1e-9,
              "leansim's own entry: %g .. %g us around %g", rk.time_lo_us, rk.time_hi_us, rk.time_us);
        CHECK(gpu_spec_set(&gk, "band_kernel=torch-flash:-3:7", err, sizeof err) == GPU_OK, "%s", err);
        CHECK(sim_run(sc, &gk, &ks, &ww, &po, &rk, NULL, err, sizeof err) == SIM_OK, "sim: %s", err);
        CHECK(fabs(rk.time_hi_us / rk.time_us - 1 - (ks.err_band_hi_pct[KPROF_BAND_FP32] + 2) / 100) < 1e-9,
              "no entry of its own: the chip's band (%g us around %g)", rk.time_hi_us, rk.time_us);
        sim_ctx_free(sc);
    }
    char kbuf[2048];
    snprintf(kbuf, sizeof kbuf, "%s", good_kernel);
    char *sp = strstr(kbuf, "schedule = split");
    memcpy(sp, "schedule = spl1t", 16);
    CHECK(kprof_parse(&k, kbuf, "t.kernel", err, sizeof err) == KPROF_EPARSE && strstr(err, "t.kernel:4:") &&
              strstr(err, "must be one of"),
          "bad schedule family: '%s'", err);
    CHECK(kprof_load(&k, "leansim", err, sizeof err) == KPROF_OK && kprof_is_default(&k) &&
              kprof_sched_mask(&k) == (1u << SCHED_COUNT) - 1,
          "leansim profile: every schedule: %s", err);
    CHECK(kprof_load(&k, "cutlass", err, sizeof err) == KPROF_ENOTFOUND && strstr(err, "--kernel cutlass"),
          "unknown profile: '%s'", err);
    for (int i = 0; i < kprof_builtin_count(); i++)
        CHECK(kprof_parse(&k, kprof_builtin_text(i), kprof_builtin_name(i), err, sizeof err) == KPROF_OK &&
                  !strcmp(k.name, kprof_builtin_name(i)),
              "shipped profile %s: %s", kprof_builtin_name(i), err);

    /* --set applies to whichever file has the key; the hash follows the values */
    gpu_spec g1, g2;
    kernel_profile k1, k2;
    const char *sets[] = {"cta_inflight_bytes=50000", "sms=66"};
    CHECK(kprof_pair_load(&g1, &k1, "h100", NULL, sets, 2, err, sizeof err) == KPROF_OK &&
              k1.cta_inflight_bytes == 50000 && g1.sms == 66,
          "--set on both files: %s", err);
    const char *sets2[] = {"sms=66", "cta_inflight_bytes=50000"};
    CHECK(kprof_pair_load(&g2, &k2, "h100", NULL, sets2, 2, err, sizeof err) == KPROF_OK &&
              kprof_pair_hash(&g1, &k1) == kprof_pair_hash(&g2, &k2),
          "the same values reached in another order: the same hash");
    const char *bad[] = {"warp_size=32"};
    CHECK(kprof_pair_load(&g1, &k1, "h100", NULL, bad, 1, err, sizeof err) == KPROF_EPARSE &&
              strstr(err, "neither a GPU spec nor a kernel profile key"),
          "unknown --set key: '%s'", err);
    CHECK(gpu_spec_load(&g, "h300", err, sizeof err) == GPU_ENOTFOUND && strstr(err, "--gpu h300: unknown GPU"),
          "unknown name: '%s'", err);
    CHECK(gpu_spec_load(&g, "/nonexistent/x.gpu", err, sizeof err) == GPU_EIO && strstr(err, "/nonexistent/x.gpu"),
          "missing file: '%s'", err);

    /* --set sms keeps the SM: whole-GPU TFLOPS follow the SM count, memory does not */
    gpu_spec_load(&g, "h100", err, sizeof err);
    gpu_spec half = g;
    CHECK(gpu_spec_set(&half, "sms=66", err, sizeof err) == GPU_OK, "%s", err);
    CHECK(half.sms == 66 && fabs(half.fp32_tflops - g.fp32_tflops / 2) < 1e-9 &&
              fabs(half.tensor_tflops - g.tensor_tflops / 2) < 1e-9 && half.mem_bw_gbps == g.mem_bw_gbps &&
              half.l2_bytes == g.l2_bytes,
          "sms=66: %d SMs, %g / %g TFLOPS, %g GB/s", half.sms, half.fp32_tflops, half.tensor_tflops, half.mem_bw_gbps);
    CHECK(gpu_spec_set(&half, "sms=0", err, sizeof err) == GPU_EPARSE && half.sms == 66 && strstr(err, "sms=0"),
          "sms=0 refused, spec unchanged: '%s'", err);

    /* the H200's green contexts read less on 96 SMs than on 64 or 132: mem_bw_sms
     * scales the achievable bandwidth by the ceiling's ratio, and back */
    gpu_spec_load(&g, "h200", err, sizeof err);
    CHECK(g.mem_bw_sms.n >= 2 && g.mem_bw_sms.at[g.mem_bw_sms.n - 1] == g.sms, "h200 has a ceiling table to its %d SMs",
          g.sms);
    gpu_spec s96 = g;
    CHECK(gpu_spec_set(&s96, "sms=96", err, sizeof err) == GPU_OK, "%s", err);
    double want96 = g.mem_bw_achievable_gbps * gpu_mem_bw_ceiling(&g, 96) / gpu_mem_bw_ceiling(&g, 132);
    CHECK(fabs(s96.mem_bw_achievable_gbps - want96) < 1e-9 && s96.mem_bw_achievable_gbps < g.mem_bw_achievable_gbps &&
              s96.hash != g.hash,
          "h200 on 96 SMs: %g GB/s, want %g", s96.mem_bw_achievable_gbps, want96);
    CHECK(gpu_spec_set(&s96, "sms=132", err, sizeof err) == GPU_OK &&
              fabs(s96.mem_bw_achievable_gbps - g.mem_bw_achievable_gbps) < 1e-9 && s96.hash == g.hash,
          "back to 132 SMs: %g GB/s", s96.mem_bw_achievable_gbps);
    CHECK(fabs(gpu_mem_bw_ceiling(&g, 40) - (gpu_mem_bw_ceiling(&g, 32) + gpu_mem_bw_ceiling(&g, 48)) / 2) < 1e-9 &&
              gpu_mem_bw_ceiling(&g, 8) == gpu_mem_bw_ceiling(&g, 32),
          "linear between items, the nearest outside");
    gpu_spec a100, a54;
    gpu_spec_load(&a100, "a100", err, sizeof err);   /* a chip whose spec has no table */
    a54 = a100;
    CHECK(gpu_spec_set(&a54, "sms=54", err, sizeof err) == GPU_OK, "%s", err);
    CHECK(gpu_mem_bw_ceiling(&a100, 32) == 0 && a54.mem_bw_achievable_gbps == a100.mem_bw_achievable_gbps,
          "no table: the achievable bandwidth stays on 54 SMs (%g, %g)", a54.mem_bw_achievable_gbps,
          a100.mem_bw_achievable_gbps);

    /* occupancy: 128 threads x 64 regs = 8192 regs -> 8 CTAs by registers */
    gpu_spec_load(&g, "h100", err, sizeof err);
    kernel_res r = {128, 64, 0};
    CHECK(gpu_occupancy(&g, &r) == 8, "128 threads x 64 regs: %d CTAs/SM, want 8", gpu_occupancy(&g, &r));
    r = (kernel_res){128, 32, 100 * 1024};
    CHECK(gpu_occupancy(&g, &r) == 2, "100 KB smem: %d CTAs/SM, want 2", gpu_occupancy(&g, &r));
    r = (kernel_res){1024, 32, 0};
    CHECK(gpu_occupancy(&g, &r) == 2, "1024 threads: %d CTAs/SM, want 2", gpu_occupancy(&g, &r));
    r = (kernel_res){128, 32, 300 * 1024};
    CHECK(gpu_occupancy(&g, &r) == 0, "300 KB smem does not fit");
    TEST_DONE("test_gpu");
}
