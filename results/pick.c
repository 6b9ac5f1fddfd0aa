/*
 * pick.c: measured rows matched to plans (see results.h): which rows ran a
 * plan's cut of the work, and which plan of the tuner's shortlist measured
 * fastest.  report scores the policies with the same matching.
 */
#include "results.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int pick_row_shape(const validate_row *r, plan_shape *s)
{
    return r->plan_ok && plan_shape_of(s, &r->w, &r->po, r->sms, r->resident > 0 ? r->resident : 1) == PLAN_OK;
}

const validate_row *pick_measured_plan(const validate_row *const *m, const plan_shape *rs, const char *ok, int k,
                                       const plan_shape *ps)
{
    const validate_row *b = NULL;
    for (int i = 0; i < k; i++) {
        const validate_row *r = m[i];
        if (r->po.kind != ps->kind || r->block_n != ps->block_n || r->ctas != ps->grid ||
            (r->splits > 1 ? r->splits : 0) != (ps->splits > 1 ? ps->splits : 0) || !ok[i] ||
            !plan_shape_same(&rs[i], ps))
            continue;
        if (!b || r->time_us < b->time_us) b = r;
    }
    return b;
}

const validate_row *pick_measured_opts(const validate_row *const *m, const plan_shape *rs, const char *ok, int k,
                                       const workload *w, plan_opts po, int sms, int resident, plan *p)
{
    if (!po.block_n) po.block_n = plan_default_block_n(w->head_dim);
    return plan_build(p, w, &po, sms, resident) == PLAN_OK ? pick_measured_plan(m, rs, ok, k, &p->shape) : NULL;
}

int pick_measured(const validate_row *rows, int n, const char *gpu, const workload *w, int sms,
                  const tune_choice *list, int nl, double *t_us)
{
    for (int q = 0; q < nl; q++) t_us[q] = NAN;
    const validate_row **m = malloc(sizeof *m * (size_t)(n + 1));
    plan_shape *rs = malloc(sizeof *rs * (size_t)(n + 1));
    char *ok = malloc((size_t)n + 1);
    plan *p = plan_alloc();
    int k = 0, best = -1;
    if (!m || !rs || !ok || !p) goto done;
    for (int i = 0; i < n; i++) {
        const validate_row *r = &rows[i];
        if (strcmp(r->gpu, gpu) || strcmp(r->kernel, KPROF_DEFAULT) || r->sms != sms || !workload_same(&r->w, w))
            continue;
        ok[k] = (char)pick_row_shape(r, &rs[k]);
        m[k++] = r;
    }
    for (int q = 0; q < nl && k; q++) {
        /* as the kernels ran it: the resident CTAs per SM the rows of the plan's tile record */
        const int bn = list[q].block_n ? list[q].block_n : plan_default_block_n(w->head_dim);
        int res = m[0]->resident > 0 ? m[0]->resident : 1;
        for (int i = 0; i < k; i++)
            if (m[i]->block_n == bn && m[i]->resident > 0) res = m[i]->resident;
        const validate_row *r = pick_measured_opts(m, rs, ok, k, w, tune_plan_opts(&list[q]), sms, res, p);
        if (!r) continue;
        t_us[q] = r->time_us;
        if (best < 0 || r->time_us < t_us[best]) best = q;
    }
done:
    free(m);
    free(rs);
    free(ok);
    plan_free(p);
    return best;
}
