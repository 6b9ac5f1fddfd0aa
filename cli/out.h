/*
 * out.h: result rows as a table, CSV or JSON, one format for every command
 * that prints predictions (simulate, predict), so that scripts read them
 * alike.  JSON and CSV text goes through the one writer, sim/fmt.h.
 */
#ifndef LEANSIM_OUT_H
#define LEANSIM_OUT_H

#include <stdio.h>

#include "fmt.h"
#include "gpu.h"
#include "kprof.h"
#include "multi.h"
#include "sim.h"

/* Output formats of result rows. */
enum out_format { OUT_TABLE = 0, OUT_CSV, OUT_JSON };
int out_format_parse(const char *s);   /* -1 if unknown */

/*
 * Prints rows (one per schedule) for workload w on chip g with kernel k in
 * format fmt.
 * `engine` names the engine ("sim" or "model"); mr (NULL: one GPU) holds
 * each row's multi-GPU parts (multi.h): CSV and JSON always end with gpus,
 * parallel, per_gpu_us, gather_us and merge_us.
 */
void out_rows_print(FILE *f, int fmt, const char *engine, const gpu_spec *g, const kernel_profile *k,
                    const workload *w, const sim_result *rows, const multi_result *mr, int n);

#endif
