/*
 * out.c: result rows as a table, CSV or JSON (one format for simulate and
 * predict, so that scripts read both alike; see out.h).
 */
#include <string.h>

#include "out.h"

int out_format_parse(const char *s)
{
    if (!strcmp(s, "table")) return OUT_TABLE;
    if (!strcmp(s, "csv")) return OUT_CSV;
    if (!strcmp(s, "json")) return OUT_JSON;
    return -1;
}

/* Writes the request lengths: one number when uniform, else a `sep` list. */
static void print_ctx(FILE *f, const workload *w, const char *sep, const char *open, const char *close)
{
    if (!w->ragged) {
        fprintf(f, "%lld", (long long)w->ctx[0]);
        return;
    }
    fputs(open, f);
    for (int r = 0; r < w->batch; r++) fprintf(f, "%s%lld", r ? sep : "", (long long)w->ctx[r]);
    fputs(close, f);
}

void out_rows_print(FILE *f, int fmt, const char *engine, const gpu_spec *g, const kernel_profile *k,
                    const workload *w, const sim_result *rows, const multi_result *mr, int n)
{
    static const multi_result one = {1, -1, 0, 0, 0, 0, 1, 1};
    int multi = mr && n > 0 && mr[0].gpus > 1;
    if (fmt == OUT_TABLE) {
        fprintf(f, "# %s on %s (%d SMs), kernel %s: batch %d, heads %d, kv_heads %d, d %d, %s, ctx ", engine, g->name,
                g->sms, k->name, w->batch, w->heads, w->kv_heads, w->head_dim, dtype_name(w->dtype));
        print_ctx(f, w, ",", "", "");
        if (multi)
            fprintf(f, "\n# on %d GPUs (%d over the heads x %d over the KV), %s parallel (link %.0f GB/s, %.1f us): "
                       "time = per GPU + gather + merge; columns from hbm_MB on are GPU 0's (GB/s: its bytes over the time)", mr[0].gpus,
                    mr[0].head_ways, mr[0].kv_ways, multi_parallel_name(mr[0].parallel), g->link_gbps,
                    g->link_latency_us);
        fprintf(f, "\n%-9s %11s ", "schedule", "time_us");
        if (multi) fprintf(f, "%10s %9s %8s ", "per_gpu_us", "gather_us", "merge_us");
        fprintf(f, "%10s %9s %6s %6s %7s %6s %7s %8s  %s\n", "hbm_MB", "GB/s", "ctas",
                "splits", "waves", "busy", "sol_us", "vs_fa2", "90% interval (us)");
        for (int i = 0; i < n; i++) {
            const sim_result *r = &rows[i];
            fprintf(f, "%-9s %11.2f ", sched_name(r->schedule), r->time_us);
            if (multi) fprintf(f, "%10.2f %9.2f %8.2f ", mr[i].per_gpu_us, mr[i].gather_us, mr[i].merge_us);
            fprintf(f, "%10.2f %9.1f %6d %6d %7.2f %6.3f %7.1f ",
                    r->hbm_bytes / 1e6, r->bw_gbps, r->ctas, r->splits, r->waves, r->sm_busy, r->sol_us);
            if (r->speedup_vs_fa2 > 0) fprintf(f, "%7.2fx", r->speedup_vs_fa2);
            else fprintf(f, "%8s", "-");
            fprintf(f, "  %.2f-%.2f\n", r->time_lo_us, r->time_hi_us);
        }
        return;
    }
    if (fmt == OUT_CSV) {
        fprintf(f, "engine,kernel,schedule,gpu,sms,batch,heads,kv_heads,head_dim,dtype,ctx,block_n,ctas,splits,ctas_per_sm,"
                   "waves,sm_busy,time_us,main_us,combine_us,hbm_bytes,kv_bytes,bw_gbps,sol_us,speedup_vs_fa2,time_lo_us,"
                   "time_hi_us,gpus,parallel,per_gpu_us,gather_us,merge_us\n");
        for (int i = 0; i < n; i++) {
            const sim_result *r = &rows[i];
            const multi_result *m = mr ? &mr[i] : &one;
            fmt_csv_field(f, engine);
            fputc(',', f);
            fmt_csv_field(f, k->name);
            fprintf(f, ",%s,", sched_name(r->schedule));
            fmt_csv_field(f, g->name);
            fprintf(f, ",%d,%d,%d,%d,%d,%s,", g->sms, w->batch, w->heads, w->kv_heads, w->head_dim,
                    dtype_name(w->dtype));
            print_ctx(f, w, ";", "", "");
            fprintf(f, ",%d,%d,%d,%d,%.4f,%.4f,%.4f,%.4f,%.4f,%.0f,%.0f,%.2f,%.4f,%.4f,%.4f,%.4f", r->block_n, r->ctas,
                    r->splits, r->ctas_per_sm, r->waves, r->sm_busy, r->time_us, r->main_us, r->combine_us,
                    r->hbm_bytes, r->kv_bytes, r->bw_gbps, r->sol_us, r->speedup_vs_fa2, r->time_lo_us, r->time_hi_us);
            fprintf(f, ",%d,%s,%.4f,%.4f,%.4f\n", m->gpus, m->gpus > 1 ? multi_parallel_name(m->parallel) : "none",
                    m->gpus > 1 ? m->per_gpu_us : r->time_us, m->gather_us, m->merge_us);
        }
        return;
    }
    fmt_json j;
    fmt_json_init(&j, f, 1u << 1, 2, 0);   /* one row a line */
    fmt_json_arr(&j, NULL);
    for (int i = 0; i < n; i++) {
        const sim_result *r = &rows[i];
        const multi_result *m = mr ? &mr[i] : &one;
        fmt_json_obj(&j, NULL);
        fmt_json_str(&j, "engine", engine);
        fmt_json_str(&j, "kernel", k->name);
        fmt_json_str(&j, "schedule", sched_name(r->schedule));
        fmt_json_str(&j, "gpu", g->name);
        fmt_json_int(&j, "sms", g->sms);
        fmt_json_int(&j, "batch", w->batch);
        fmt_json_int(&j, "heads", w->heads);
        fmt_json_int(&j, "kv_heads", w->kv_heads);
        fmt_json_int(&j, "head_dim", w->head_dim);
        fmt_json_str(&j, "dtype", dtype_name(w->dtype));
        if (w->ragged) {
            fmt_json_arr(&j, "ctx");
            for (int q = 0; q < w->batch; q++) fmt_json_int(&j, NULL, w->ctx[q]);
            fmt_json_close(&j);
        } else {
            fmt_json_int(&j, "ctx", w->ctx[0]);
        }
        fmt_json_int(&j, "block_n", r->block_n);
        fmt_json_int(&j, "ctas", r->ctas);
        fmt_json_int(&j, "splits", r->splits);
        fmt_json_int(&j, "ctas_per_sm", r->ctas_per_sm);
        fmt_json_num(&j, "waves", r->waves, 4);
        fmt_json_num(&j, "sm_busy", r->sm_busy, 4);
        fmt_json_num(&j, "time_us", r->time_us, 4);
        fmt_json_num(&j, "main_us", r->main_us, 4);
        fmt_json_num(&j, "combine_us", r->combine_us, 4);
        fmt_json_num(&j, "hbm_bytes", r->hbm_bytes, 0);
        fmt_json_num(&j, "kv_bytes", r->kv_bytes, 0);
        fmt_json_num(&j, "bw_gbps", r->bw_gbps, 2);
        fmt_json_num(&j, "sol_us", r->sol_us, 4);
        fmt_json_num(&j, "speedup_vs_fa2", r->speedup_vs_fa2, 4);
        fmt_json_num(&j, "time_lo_us", r->time_lo_us, 4);
        fmt_json_num(&j, "time_hi_us", r->time_hi_us, 4);
        fmt_json_int(&j, "gpus", m->gpus);
        fmt_json_str(&j, "parallel", m->gpus > 1 ? multi_parallel_name(m->parallel) : "none");
        fmt_json_num(&j, "per_gpu_us", m->gpus > 1 ? m->per_gpu_us : r->time_us, 4);
        fmt_json_num(&j, "gather_us", m->gather_us, 4);
        fmt_json_num(&j, "merge_us", m->merge_us, 4);
        fmt_json_close(&j);
    }
    fmt_json_end(&j);
}
