/*
 * out.c: result rows as a table, CSV or JSON (one format for simulate and
 * predict, so that scripts read both alike).
 */
#include <string.h>

#include "multi.h"
#include "sim.h"

void out_json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') fprintf(f, "\\%c", *p);
        else if (*p < 0x20) fprintf(f, "\\u%04x", *p);
        else fputc(*p, f);
    }
    fputc('"', f);
}

void out_csv_str(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (const char *p = s; *p; p++) {
        if (*p == '"') fputc('"', f);
        fputc(*p, f);
    }
    fputc('"', f);
}

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
                    const workload *w, const sim_result *rows, const struct multi_result *mr, int n)
{
    static const multi_result one = {1, -1, 0, 0, 0, 0};
    int multi = mr && n > 0 && mr[0].gpus > 1;
    if (fmt == OUT_TABLE) {
        fprintf(f, "# %s on %s (%d SMs), kernel %s: batch %d, heads %d, kv_heads %d, d %d, %s, ctx ", engine, g->name,
                g->sms, k->name, w->batch, w->heads, w->kv_heads, w->head_dim, dtype_name(w->dtype));
        print_ctx(f, w, ",", "", "");
        if (multi)
            fprintf(f, "\n# on %d GPUs, %s parallel (link %.0f GB/s, %.1f us): time = per GPU + gather + merge; "
                       "columns from ctas on are one GPU's", mr[0].gpus, multi_parallel_name(mr[0].parallel),
                    g->link_gbps, g->link_latency_us);
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
            fprintf(f, "%s,", engine);
            out_csv_str(f, k->name);
            fprintf(f, ",%s,", sched_name(r->schedule));
            out_csv_str(f, g->name);
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
    fputs("[\n", f);
    for (int i = 0; i < n; i++) {
        const sim_result *r = &rows[i];
        const multi_result *m = mr ? &mr[i] : &one;
        fprintf(f, "  {\"engine\":\"%s\",\"kernel\":", engine);
        out_json_str(f, k->name);
        fprintf(f, ",\"schedule\":\"%s\",\"gpu\":", sched_name(r->schedule));
        out_json_str(f, g->name);
        fprintf(f, ",\"sms\":%d,\"batch\":%d,\"heads\":%d,\"kv_heads\":%d,\"head_dim\":%d,\"dtype\":\"%s\",\"ctx\":",
                g->sms, w->batch, w->heads, w->kv_heads, w->head_dim, dtype_name(w->dtype));
        print_ctx(f, w, ",", "[", "]");
        fprintf(f, ",\"block_n\":%d,\"ctas\":%d,\"splits\":%d,\"ctas_per_sm\":%d,\"waves\":%.4f,\"sm_busy\":%.4f,"
                   "\"time_us\":%.4f,\"main_us\":%.4f,\"combine_us\":%.4f,\"hbm_bytes\":%.0f,\"kv_bytes\":%.0f,"
                   "\"bw_gbps\":%.2f,\"sol_us\":%.4f,\"speedup_vs_fa2\":%.4f,\"time_lo_us\":%.4f,"
                   "\"time_hi_us\":%.4f,\"gpus\":%d,\"parallel\":\"%s\",\"per_gpu_us\":%.4f,\"gather_us\":%.4f,"
                   "\"merge_us\":%.4f}%s\n",
                r->block_n, r->ctas, r->splits, r->ctas_per_sm, r->waves, r->sm_busy, r->time_us, r->main_us,
                r->combine_us, r->hbm_bytes, r->kv_bytes, r->bw_gbps, r->sol_us, r->speedup_vs_fa2, r->time_lo_us,
                r->time_hi_us, m->gpus, m->gpus > 1 ? multi_parallel_name(m->parallel) : "none",
                m->gpus > 1 ? m->per_gpu_us : r->time_us, m->gather_us, m->merge_us, i + 1 < n ? "," : "");
    }
    fputs("]\n", f);
}
