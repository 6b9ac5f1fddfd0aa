/*
 * cmd_gpus.c: `leansim gpus`: one line per GPU spec compiled in.
 */
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "gpu.h"

int cmd_gpus(int argc, char **argv)
{
    int csv = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            printf("usage: leansim gpus [--format table|csv]\n  lists the GPU specs compiled in (--gpu NAME takes them)\n");
            return 0;
        } else if (!strcmp(argv[i], "--format") && i + 1 < argc) {
            const char *v = argv[++i];
            if (!strcmp(v, "csv")) csv = 1;
            else if (strcmp(v, "table")) {
                fprintf(stderr, "leansim gpus: --format %s: unknown format (table, csv)\n", v);
                return 2;
            }
        } else {
            fprintf(stderr, "leansim gpus: unknown option '%s'\n", argv[i]);
            return 2;
        }
    }
    if (csv) printf("name,full_name,sms,mem_bw_gbps,mem_bw_achievable_gbps,l2_mb,fp32_tflops,tensor_tflops\n");
    else printf("%-10s %-28s %5s %10s %10s %7s %7s %8s\n", "name", "full name", "SMs", "BW GB/s", "achv GB/s", "L2 MB",
                "FP32 TF", "tensor TF");
    for (int i = 0; i < gpu_builtin_count(); i++) {
        gpu_spec g;
        char err[512];
        if (gpu_spec_parse(&g, gpu_builtin_text(i), gpu_builtin_name(i), err, sizeof err)) {
            fprintf(stderr, "leansim gpus: %s\n", err);
            return 1;
        }
        if (csv)
            printf("%s,\"%s\",%d,%g,%g,%g,%g,%g\n", g.name, g.full_name, g.sms, g.mem_bw_gbps,
                   g.mem_bw_achievable_gbps, g.l2_bytes / 1048576.0, g.fp32_tflops, g.tensor_tflops);
        else
            printf("%-10s %-28s %5d %10.0f %10.0f %7.0f %7.1f %8.0f\n", g.name, g.full_name, g.sms, g.mem_bw_gbps,
                   g.mem_bw_achievable_gbps, g.l2_bytes / 1048576.0, g.fp32_tflops, g.tensor_tflops);
    }
    return 0;
}
