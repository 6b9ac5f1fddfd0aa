/*
 * cmd_gpus.c: `leansim gpus` and `leansim kernels`: one line per chip spec
 * and per kernel profile compiled in.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "cmd.h"
#include "gpu.h"
#include "kprof.h"
#include "sim.h"
#include "specfile.h"

static const args_opt list_table[] = {
    {"format", "table|csv|json", "output format (default table)", 0},
    {NULL, NULL, NULL, 0},
};

/* --format into *(int *)ctx: 0 table, 1 csv, 2 json. */
static int list_opt(void *ctx, int id, const char *name, const char *v, char *err, int errlen)
{
    (void)id;
    int f = out_format_parse(v);
    if (f < 0) {
        snprintf(err, (size_t)errlen, "%s %s: unknown format (table, csv, json)", name, v);
        return 2;
    }
    *(int *)ctx = f == OUT_CSV ? 1 : f == OUT_JSON ? 2 : 0;
    return 0;
}

/* Prints ',' and v as the spec files write a number (specfile_format): the
 * fewest digits that read back as v, a whole number whole (9675000, not
 * %g's 9.675e+06), so the CSV says what the JSON says. */
static void csv_num(double v)
{
    static const specfile_field f = {"", SPECF_DBL, 0, 0, 0, 0, NULL};
    char buf[64];
    specfile_format(&v, &f, 0, buf, sizeof buf);
    printf(",%s", buf);
}

/* Parses a listing command's line into *csv; -1 to go on, or an exit code. */
static int list_opts(const char *cmd, const char *about, int argc, char **argv, int *csv)
{
    args_cmd c = {cmd, "[--format table|csv|json]", about, 0, {list_table, NULL}};
    *csv = 0;
    return args_parse(&c, argc, argv, NULL, list_opt, csv, NULL, 0, NULL);
}

int cmd_gpus(int argc, char **argv)
{
    int csv;
    int rc = list_opts("gpus", "  lists the chip specs compiled in (--gpu NAME takes them)\n",
                       argc, argv, &csv);
    if (rc >= 0) return rc;
    if (csv == 2) {   /* every key of every spec, as in its file */
        fmt_json j;
        fmt_json_init(&j, stdout, 1u << 1, 2, 1);   /* one spec a line */
        fmt_json_arr(&j, NULL);
        for (int i = 0; i < gpu_builtin_count(); i++) {
            gpu_spec g;
            char err[512], val[640];
            if (gpu_spec_parse(&g, gpu_builtin_text(i), gpu_builtin_name(i), err, sizeof err)) {
                fprintf(stderr, "leansim gpus: %s\n", err);
                return 1;
            }
            fmt_json_obj(&j, NULL);
            for (int k = 0; k < gpu_spec_key_count(); k++) {
                gpu_spec_format(&g, k, val, sizeof val);
                char *end;
                strtod(val, &end);
                if (k < 2 || *end || !*val) fmt_json_str(&j, gpu_spec_key(k), val);   /* names, tables */
                else fmt_json_numtext(&j, gpu_spec_key(k), val);
            }
            fmt_json_close(&j);
        }
        fmt_json_end(&j);
        return 0;   /* a write that failed (a full disk) is main's to report */
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
        if (csv) {
            fmt_csv_field(stdout, g.name);
            putchar(',');
            fmt_csv_field(stdout, g.full_name);
            printf(",%d", g.sms);
            csv_num(g.mem_bw_gbps);
            csv_num(g.mem_bw_achievable_gbps);
            csv_num(g.l2_bytes / 1048576.0);
            csv_num(g.fp32_tflops);
            csv_num(g.tensor_tflops);
            putchar('\n');
        } else
            printf("%-10s %-28s %5d %10.0f %10.0f %7.0f %7.1f %8.0f\n", g.name, g.full_name, g.sms, g.mem_bw_gbps,
                   g.mem_bw_achievable_gbps, g.l2_bytes / 1048576.0, g.fp32_tflops, g.tensor_tflops);
    }
    return 0;
}

static const char *const sched_family[] = {"any", "fa2", "split", "streamk", "hybrid", "balanced"};
static const char *const compute_path[] = {"auto", "tensor", "fp32"};

int cmd_kernels(int argc, char **argv)
{
    int csv;
    int rc = list_opts("kernels",
                       "  lists the kernel profiles compiled in (--kernel NAME takes them): schedule family,\n"
                       "  tile length (0: the planner's default), CTA threads and bytes in flight, compute path\n",
                       argc, argv, &csv);
    if (rc >= 0) return rc;
    if (csv == 2) {   /* every key of every profile, as in its file */
        fmt_json j;
        fmt_json_init(&j, stdout, 1u << 1, 2, 1);   /* one profile a line */
        fmt_json_arr(&j, NULL);
        for (int i = 0; i < kprof_builtin_count(); i++) {
            kernel_profile k;
            char err[512], val[640];
            if (kprof_parse(&k, kprof_builtin_text(i), kprof_builtin_name(i), err, sizeof err)) {
                fprintf(stderr, "leansim kernels: %s\n", err);
                return 1;
            }
            fmt_json_obj(&j, NULL);
            for (int f = 0; f < kprof_key_count(); f++) {
                kprof_format(&k, f, val, sizeof val);
                fmt_json_numtext(&j, kprof_key(f), val);   /* names and enums as strings */
            }
            fmt_json_close(&j);
        }
        fmt_json_end(&j);
        return 0;   /* a write that failed (a full disk) is main's to report */
    }
    if (csv) printf("name,full_name,schedule,block_n,threads,regs_per_thread,smem_bytes,cta_inflight_bytes,compute\n");
    else printf("%-16s %-9s %7s %7s %5s %9s %10s %-7s %s\n", "name", "schedule", "block_n", "threads", "regs",
                "smem_KB", "inflight_KB", "compute", "full name");
    for (int i = 0; i < kprof_builtin_count(); i++) {
        kernel_profile k;
        char err[512];
        if (kprof_parse(&k, kprof_builtin_text(i), kprof_builtin_name(i), err, sizeof err)) {
            fprintf(stderr, "leansim kernels: %s\n", err);
            return 1;
        }
        if (csv) {
            fmt_csv_field(stdout, k.name);
            putchar(',');
            fmt_csv_field(stdout, k.full_name);
            printf(",%s,%d,%d,%d,%d", sched_family[k.schedule], k.block_n, k.threads, k.regs_per_thread, k.smem_bytes);
            csv_num(k.cta_inflight_bytes);
            printf(",%s\n", compute_path[k.compute]);
        } else
            printf("%-16s %-9s %7d %7d %5d %9.1f %10.1f %-7s %s\n", k.name, sched_family[k.schedule], k.block_n,
                   k.threads, k.regs_per_thread, k.smem_bytes / 1024.0, k.cta_inflight_bytes / 1024.0,
                   compute_path[k.compute], k.full_name);
    }
    return 0;
}
