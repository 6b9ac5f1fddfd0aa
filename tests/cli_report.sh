#!/bin/sh
# cli_report.sh: leansim validate, report and export end to end on a small
# synthetic database, and their error paths (one line, exit 2, no database
# created).  Prints "cli_report: N passed, N failed".
L=${LEANSIM:-build/leansim}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0; fail=0
ok() { if eval "$2"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL $1: $2"; fi; }

# expect_err WHAT ARGS...: exit 2, one line on stderr containing WHAT, nothing on stdout
expect_err() {
  want=$1; shift
  "$L" "$@" > "$T/out" 2> "$T/err"; rc=$?
  ok "leansim $* exit 2" "[ $rc -eq 2 ]"
  ok "leansim $* names '$want'" "grep -qF -- '$want' $T/err && [ \$(wc -l < $T/err) -eq 1 ] && [ ! -s $T/out ]"
}

# the runner's CSV format 1 (sim/runcsv.h: the columns of X(name, 1)); the rows below are of that format
H=$(sed -n 's/^ *X(\([a-z_0-9]*\), *1) *\\\{0,1\}$/\1/p' sim/runcsv.h | paste -sd, -)
{
  echo "$H"
  for c in 16384 65536 262144; do
    f=$((c / 64)); s=$((c / 350)); k=$((c / 352))
    echo "NVIDIA H100 80GB HBM3,132,580,1980,2619,13.0,abc,2026-11-21,fa2,1,32,32,128,fp16,$c,128,32,0,3,20,$f,$f,$f,0,1,1,0"
    echo "NVIDIA H100 80GB HBM3,132,580,1980,2619,13.0,abc,2026-11-21,split,1,32,32,128,fp16,$c,128,256,8,3,20,$s,$s,$s,0,1,1,0"
    echo "NVIDIA H100 80GB HBM3,132,580,1980,2619,13.0,abc,2026-11-21,streamk,1,32,32,128,fp16,$c,128,264,0,3,20,$k,$k,$k,0,1,1,0"
  done
  echo "NVIDIA H100 80GB HBM3,132,580,1980,2619,torch,abc,2026-11-21,torch-flash,1,32,32,128,fp16,65536,0,0,0,0,20,400,390,410,0,1,1,0"
} > "$T/m.csv"
$L ingest "$T/m.csv" --db "$T/r.db" > /dev/null
$L validate --db "$T/r.db" > "$T/o"; rc=$?
ok "validate runs" "[ $rc -eq 0 ] && grep -q '9 measured rows, 18 predictions added' $T/o"
$L validate --db "$T/r.db" > "$T/o"; rc=$?
ok "validate re-run adds nothing" "[ $rc -eq 0 ] && grep -q '0 predictions added, 18 already present' $T/o"
ok "validate stores one run row" "[ \$(sqlite3 $T/r.db \"select count(*) from runs where command='validate'\") -eq 1 ]"

$L report --db "$T/r.db" > "$T/t"; rc=$?
ok "report table" "[ $rc -eq 0 ] && grep -q '^h100 .*streamk .*sim ' $T/t && grep -q '^sim ' $T/t"
$L report --db "$T/r.db" --format json > "$T/j"; rc=$?
ok "report json" "[ $rc -eq 0 ]"
for key in spec rows plan_mismatch errors choice speedup sm_scaling totals mape_pct p95_ape_pct max_ape_pct \
           agree_frac within_1pct_frac regret_mean_pct regret_max_pct err_mean_pct err_max_pct missing; do
  ok "json key $key" "grep -q '\"$key\": ' $T/j"
done
if command -v python3 > /dev/null; then
  ok "json parses" "python3 -c 'import json,sys; d=json.load(open(\"$T/j\")); assert d[\"rows\"] == 9' 2>/dev/null"
fi
ok "three configurations" "grep -q '\"configs\": 3' $T/j"
if command -v python3 > /dev/null; then
  # the interval block: every kernel together (all), then each, and the parts add up to the whole
  ok "json interval: all and per kernel" "python3 -c '
import json; d = json.load(open(\"$T/j\"))
iv = [x for x in d[\"interval\"] if x[\"engine\"] == \"sim\"]
a = [x for x in iv if x[\"kernel\"] == \"all\"]
assert len(a) == 1 and a[0][\"n\"] > 0 and a[0][\"n\"] == sum(x[\"n\"] for x in iv if x[\"kernel\"] != \"all\")
assert all(0 <= x[\"coverage_frac\"] <= 1 for x in iv)
' 2>/dev/null"
fi
$L report --db "$T/r.db" --holdout > "$T/h"; rc=$?
ok "report --holdout" "[ $rc -eq 0 ] && grep -q 'calibration held out' $T/h"
$L report --db "$T/r.db" --gpu h100 > /dev/null; rc=$?
ok "report --gpu h100" "[ $rc -eq 0 ]"

# export: files and columns
$L export scatter --db "$T/r.db" --out "$T/fig"; rc=$?
ok "export scatter" "[ $rc -eq 0 ] && [ -f $T/fig/scatter-streamk.dat ]"
ok "scatter columns" "grep -q '^# measured_us sim_us model_us gpu sms' $T/fig/scatter-streamk.dat && [ \$(grep -v '^#' $T/fig/scatter-streamk.dat | awk '{print NF}' | sort -u) = 5 ]"
ok "scatter rows" "[ \$(grep -vc '^#' $T/fig/scatter-split.dat) -eq 3 ]"
$L export cdf --db "$T/r.db" --out "$T/fig" && $L export speedup --db "$T/r.db" --out "$T/fig" && \
  $L export whatif --db "$T/r.db" --out "$T/fig" && $L export scaling --db "$T/r.db" --out "$T/fig"; rc=$?
ok "export cdf speedup whatif scaling" "[ $rc -eq 0 ]"
ok "cdf columns" "grep -q '^# ape_pct fraction' $T/fig/cdf-h100-sim.dat && [ \$(grep -vc '^#' $T/fig/cdf-h100-sim.dat) -eq 9 ] && tail -1 $T/fig/cdf-h100-sim.dat | grep -q ' 1$'"
ok "speedup columns" "grep -q '^# ctx streamk_over_fa2 split_over_fa2' $T/fig/speedup-h100-meas.dat && grep -q '^65536 ' $T/fig/speedup-h100-meas.dat"
ok "speedup measured value" "awk '\$1 == 65536 { exit !(\$2 > 5.4 && \$2 < 5.6) }' $T/fig/speedup-h100-meas.dat"
ok "whatif marks each spec measured or estimate" "[ \$(wc -w < $T/fig/whatif.kinds) -eq \$(wc -w < $T/fig/whatif.gpus) ] && grep -q estimate $T/fig/whatif.kinds && grep -q measured $T/fig/whatif.kinds"
ok "whatif has every spec" "[ \$(ls $T/fig/whatif-*.dat | wc -l) -eq \$($L gpus | grep -vc '^#' ) ] || [ \$(wc -w < $T/fig/whatif.gpus) -ge 7 ]"
ok "scaling columns" "grep -q '^# sms sim_us model_us' $T/fig/scaling-pred-streamk.dat"
printf 'cta,sm,event,unit,t_ns\n0,3,start,-1,0\n0,3,seg_end,0,1000\n0,3,end,-1,1200\n1,4,start,-1,10\n1,4,wait_begin,1,500\n1,4,wait_end,1,900\n1,4,end,-1,1500\n' > "$T/h100-streamk-b1h32-4k-x.csv"
$L export timeline --db "$T/r.db" --out "$T/fig" --timeline "$T/h100-streamk-b1h32-4k-x.csv"; rc=$?
ok "export timeline" "[ $rc -eq 0 ] && grep -q '^# lane t0_us dur_us kind' $T/fig/timeline-meas.dat && [ \$(grep -vc '^#' $T/fig/timeline-meas.dat) -eq 3 ] && [ \$(grep -vc '^#' $T/fig/timeline-sim.dat) -gt 2 ]"

# totals: missing counts leansim's rows, as n does, not an outside kernel's
cp "$T/r.db" "$T/nt.db"
sqlite3 "$T/nt.db" "delete from pairings where prediction_id in (select id from predictions where schedule = 'torch-flash');
                    delete from predictions where schedule = 'torch-flash'"
$L report --db "$T/nt.db" --format json > "$T/ntj"; rc=$?
ok "totals: an outside kernel's unpredicted row is not missing" \
   "[ $rc -eq 0 ] && grep -q '{\"engine\": \"sim\", \"n\": 9, .*\"missing\": 0}' $T/ntj"

# an oracle workload (timed under 20 plans or more): a ragged batch of 16 requests from the H100 oracle
W='4096;300;30000;300;150000;9000;400000;70000;400000;150000;9000;30000;9000;4096;1500;150000'
{ head -1 experiments/data/h100-20261127-oracle.csv; grep -F ",$W," experiments/data/h100-20261127-oracle.csv; } > "$T/o.csv"
$L ingest "$T/o.csv" --db "$T/o.db" > /dev/null 2>&1 && $L validate --db "$T/o.db" > /dev/null
$L report --db "$T/o.db" --picks > "$T/ot"; rc=$?
$L report --db "$T/o.db" --picks --format json > "$T/oj"; rc2=$?
ok "report --picks on an oracle" "[ $rc -eq 0 ] && [ $rc2 -eq 0 ] && grep -q '^h100 .*tune ' $T/ot"
ok "picks json: the whole ragged batch" "grep -qF '\"workload\": \"b16 h8/8 d64 $W\"' $T/oj"
ok "picks table: a long batch cut with ..." "grep -q '^h100 *b16 h8/8 d64 4096;300;.*\\.\\.\\. ' $T/ot"
ok "shortlist: unmeasured counts the k-th plan alone" "grep -q '^# unmeasured: workloads whose k-th plan (that one alone)' $T/ot"

# error paths
expect_err "no such database" report --db "$T/none.db"
ok "missing db not created" "[ ! -e $T/none.db ]"
expect_err "no such database" validate --db "$T/none.db"
expect_err "no such database" export cdf --db "$T/none.db" --out "$T/x"
expect_err "--gpu nosuch: unknown GPU" report --db "$T/r.db" --gpu nosuch
expect_err "--gpu nosuch: unknown GPU" validate --db "$T/r.db" --gpu nosuch
expect_err "unknown figure" export nosuch --db "$T/r.db" --out "$T/x"
expect_err "--format yaml" report --db "$T/r.db" --format yaml
expect_err "unknown option" validate --db "$T/r.db" --bogus
expect_err "--spec" validate --db "$T/r.db" --spec "$T/nosuch.gpu"
expect_err "--set sms=x" validate --db "$T/r.db" --set sms=x
expect_err "expected header" export timeline --db "$T/r.db" --out "$T/x" --timeline "$T/m.csv"
$L ingest "$T/m.csv" --db "$T/empty.db" > /dev/null && sqlite3 "$T/empty.db" "delete from measurements"
expect_err "no measured rows" report --db "$T/empty.db"
expect_err "--gpu h200: no measured rows" report --db "$T/r.db" --gpu h200
expect_err "--gpu h200: no measured rows" report --db "$T/r.db" --gpu h200 --format json
cp "$T/m.csv" "$T/m2.csv"; $L ingest "$T/m2.csv" --db "$T/nopred.db" > /dev/null
expect_err "run leansim validate first" report --db "$T/nopred.db"

# a bad --spec, --set or --kernel is named before anything is read or written
expect_err "--spec $T/none.gpu: cannot open" report --db "$T/r.db" --spec "$T/none.gpu"
expect_err "--set foo=1: unknown key" report --db "$T/r.db" --set foo=1
expect_err "--spec $T/none.gpu: cannot open" validate --db "$T/r.db" --spec "$T/none.gpu"
expect_err "--spec $T/none.gpu: cannot open" export scatter --db "$T/r.db" --out "$T/exc" --spec "$T/none.gpu"
ok "export with a bad --spec creates no directory" "[ ! -e $T/exc ]"

echo "cli_report: $pass passed, $fail failed"
[ $fail -eq 0 ]
