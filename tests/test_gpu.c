/*
 * test_gpu.c: spec files (shipped ones parse; every error names file, line
 * and text) and occupancy.
 */
#include <math.h>
#include <string.h>

#include "gpu.h"
#include "testhelp.h"

static const char *good =
    "# comment\nname = t\nfull_name = Test GPU\nsms = 10\nmax_ctas_per_sm = 32\nmax_threads_per_sm = 2048\n"
    "regs_per_sm = 65536\nsmem_per_sm_bytes = 233472\nsmem_per_cta_bytes = 232448\nl2_bytes = 1e6\n"
    "sm_clock_mhz = 1000\nmem_bw_gbps = 1000\nmem_bw_achievable_gbps = 900\nmem_latency_ns = 500\n"
    "cta_inflight_bytes = 8192\nfp32_tflops = 10\nfp32_eff = 0.5\ntensor_tflops = 100\ntensor_eff = 0.5\nlaunch_us = 2\nkernel_gap_us = 1\n"
    "cta_prologue_ns = 100\ncta_epilogue_ns = 100\npartial_write_ns = 100\nflag_latency_ns = 100\n"
    "merge_round_ns = 100   # trailing comment\n";

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
    CHECK(g.sms == 10 && g.l2_bytes == 1e6 && g.merge_round_ns == 100, "values read");

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
    CHECK(parse_edit("sms", "sms = 10\nsms = 12", err, sizeof err) == GPU_EPARSE && strstr(err, "given twice"),
          "duplicate key: '%s'", err);
    CHECK(parse_edit("sms", "sms 10", err, sizeof err) == GPU_EPARSE && strstr(err, "expected 'key = value'"),
          "no '=': '%s'", err);
    CHECK(parse_edit("mem_bw_achievable_gbps", "mem_bw_achievable_gbps = 2000", err, sizeof err) == GPU_EPARSE &&
              strstr(err, "exceeds"),
          "achievable above peak: '%s'", err);
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
