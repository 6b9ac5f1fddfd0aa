#!/bin/sh
# cli_figures.sh: plots/*.gp over the files `leansim export` writes, drawn
# by plots/draw.sh as `make figures` draws them: every figure draws, the
# columns each script reads are where its data file's header says, a title
# names what the data holds, and a script gnuplot stops on fails the draw.
# Skipped (0 passed) where gnuplot is missing.  Prints "cli_figures: N passed,
# N failed".
L=${LEANSIM:-build/leansim}
GP=${GNUPLOT:-gnuplot}
if ! command -v "$GP" > /dev/null 2>&1; then
  echo "cli_figures: $GP not found, figures not drawn (apt-get install gnuplot-nox): 0 passed, 0 failed"
  exit 0
fi
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0; fail=0
ok() { if eval "$2"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL $1: $2"; fi; }

# a small database: fa2 and streamk at three contexts on the H100 (the runner's CSV format 1)
H=$(sed -n 's/^ *X(\([a-z_0-9]*\), *1) *\\\{0,1\}$/\1/p' sim/runcsv.h | paste -sd, -)
{
  echo "$H"
  for c in 16384 65536 262144; do
    f=$((c / 64)); k=$((c / 352))
    echo "NVIDIA H100 80GB HBM3,132,580,1980,2619,13.0,abc,2026-11-21,fa2,1,32,32,128,fp16,$c,128,32,0,3,20,$f,$f,$f,0,1,1,0"
    echo "NVIDIA H100 80GB HBM3,132,580,1980,2619,13.0,abc,2026-11-21,streamk,1,32,32,128,fp16,$c,128,264,0,3,20,$k,$k,$k,0,1,1,0"
  done
} > "$T/m.csv"
printf 'cta,sm,event,unit,t_ns\n0,3,start,-1,0\n0,3,seg_end,0,1000\n0,3,end,-1,1200\n1,4,start,-1,10\n1,4,end,-1,1500\n' \
  > "$T/h100-streamk-b1h32-4k-x.csv"
$L ingest "$T/m.csv" --db "$T/r.db" > /dev/null && $L validate --db "$T/r.db" > /dev/null
$L export all --db "$T/r.db" --out "$T/data" --timeline "$T/h100-streamk-b1h32-4k-x.csv"; rc=$?
ok "export all" "[ $rc -eq 0 ]"

# the columns the scripts read, by name: each file's header as the script expects it
hdr() { ok "$1 header" "grep -qx -- '# $2' $T/data/$1"; }
hdr speedup-h100-sim.dat  "ctx streamk_over_fa2 split_over_fa2"      # speedup.gp: 1:2 1:3
hdr speedup-h100-meas.dat "ctx streamk_over_fa2 split_over_fa2"
hdr scatter-fa2.dat       "measured_us sim_us model_us gpu sms"      # scatter.gp: 1, 2 / 1, strcol(4)
hdr cdf-h100-sim.dat      "ape_pct fraction"                         # cdf.gp: 1:2
hdr scaling-pred-fa2.dat  "sms sim_us model_us"                      # scaling.gp: 1:2
hdr scaling-meas-fa2.dat  "sms measured_us"
hdr timeline-sim.dat      "lane t0_us dur_us kind"                   # timeline.gp: 2:1:3:(0):4
hdr timeline-meas.dat     "lane t0_us dur_us kind"
hdr tuner.dat             "ctx_i batch_i schedule_i block_n ctx batch schedule time_us margin_pct"   # tuner.gp: 1:2:3, $4, $9
hdr whatif-h100.dat       "ctx streamk_over_fa2 streamk_over_split"  # whatif.gp: 1:2 1:3
hdr paper-d64.dat         "ctx over_fa2 over_flashdecoding implementation_share schedule_share fa2_us fd_us lean_us"
hdr multigpu-h100.dat     "ctx gpus2 gpus4 gpus8"                    # multigpu.gp: 1:2..4 as 2, 4, 8 GPUs

# every figure draws, png and pdf, as make figures draws it
for f in $(sed -n 's/^FIGURES *= *//p' plots/plots.mk); do
  GNUPLOT=$GP sh plots/draw.sh "$T/data" "$T" "$f" > /dev/null 2> "$T/$f.err"; rc=$?
  ok "$f draws" "[ $rc -eq 0 ] && [ -s $T/$f.png ] && [ -s $T/$f.pdf ]"
done

# a script gnuplot stops on fails the draw, naming the script
GNUPLOT=false sh plots/draw.sh "$T/data" "$T" cdf > "$T/out" 2> "$T/err"; rc=$?
ok "a failed script fails draw.sh" "[ $rc -eq 1 ] && grep -q 'plots/cdf.gp drew no' $T/err && [ \$(wc -l < $T/err) -eq 1 ] && [ ! -s $T/out ]"

# the tuner's title names the GPU the data is of
$L export tuner --gpu h200 --db "$T/r.db" --out "$T/h200" > /dev/null
"$GP" -e "data='$T/h200'; out='$T/t'; fmt='png'" plots/tuner.gp -e 'show title' 2> "$T/title"
ok "tuner title: export tuner --gpu h200 draws h200" "grep -q 'Tuner choice on h200,' $T/title"

echo "cli_figures: $pass passed, $fail failed"
[ $fail -eq 0 ]
