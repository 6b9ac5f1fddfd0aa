#!/bin/sh
# cli_tune.sh: leansim tune and leansim calibrate from the command line.
L=${LEANSIM:-build/leansim}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0; fail=0
ok() { if eval "$2"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL $1: $2"; fi; }

$L tune --ctx 1k,64k --batches 1,8 --kv-heads 8 --format csv --emit-header "$T/t.h" > "$T/o"; rc=$?
ok "tune runs" "[ $rc -eq 0 ]"
ok "tune rows" "[ \$(grep -c '^h100,' $T/o) -eq 4 ]"
ok "tune winner within 0.5% of runner-up" "awk -F, 'NR>1 && \$11 > 0 && \$11 * 1.005 < \$9 * (1 - 1e-9) {bad=1} END {exit bad}' $T/o"
ok "header compiles" "printf '#include \"$T/t.h\"\nint main(void){return leansim_tuned_h100[0].batch != 1;}\n' > $T/m.c && cc -o $T/m $T/m.c && $T/m"
$L tune --ctx 4k --format json > "$T/j"; rc=$?
ok "tune json" "[ $rc -eq 0 ] && grep -q '\"runner_up\"' $T/j"
# what chose each winner: at 16k tokens FA2's 256 CTAs (one per unit, one wave) against stream-K
# simulated 0.5% faster; at 64k the longest tile of stream-K's ties
$L tune --ctx 16k,64k --batch 16 --heads 64 --kv-heads 16 --format csv > "$T/r"; rc=$?
ok "tune chosen_by column" "[ $rc -eq 0 ] && head -1 $T/r | grep -q ',chosen_by,rank,measured_us,measured_best,time_lo_us,time_hi_us,gpus,parallel,per_gpu_us\$'"
ok "tune chosen_by: whole units at 16k" "grep -q '^h100,16,16384,fa2,.*,whole units in one wave,1,,0,[0-9.]*,[0-9.]*,1,none,[0-9.]*\$' $T/r"
ok "tune chosen_by: its winner slower than the runner-up there" "awk -F, '\$3 == 16384 && \$11 < \$9 {f=1} END {exit !f}' $T/r"
ok "tune chosen_by: longest tile at 64k" "grep -q '^h100,16,65536,streamk,256,.*,longest tile,1,,0,[0-9.]*,[0-9.]*,1,none,[0-9.]*\$' $T/r"
$L tune --ctx 16k --batch 16 --heads 64 --kv-heads 16 --format json > "$T/j2"; rc=$?
ok "tune json chosen_by" "[ $rc -eq 0 ] && grep -q '\"chosen_by\":\"whole units in one wave\"' $T/j2"
ok "tune: each plan's interval holds its time" "awk -F, 'NR>1 && !(\$20 < \$9 && \$9 < \$21) {bad=1} END {exit bad}' $T/r"
# the shortlist: the winner's row as without it, then ranks 2..K, each a line of --emit-sweep
$L tune --ctx 4k,64k --batch 8 --kv-heads 8 --format csv > "$T/s1"
$L tune --ctx 4k,64k --batch 8 --kv-heads 8 --shortlist 3 --format csv --emit-sweep "$T/sl.txt" > "$T/s3"; rc=$?
ok "tune --shortlist 3 runs" "[ $rc -eq 0 ] && head -1 $T/s3 | cut -d, -f17 | grep -qx rank"
ok "tune --shortlist 3: ranks 1-3 per workload" "[ \"\$(awk -F, 'NR>1 {print \$17}' $T/s3 | paste -sd' ')\" = '1 2 3 1 2 3' ]"
ok "tune --shortlist 3: the winners' rows unchanged" "[ \"\$(awk -F, 'NR>1 && \$17 == 1' $T/s3)\" = \"\$(tail -n +2 $T/s1)\" ]"
ok "tune --shortlist 3: rank 2 is the runner-up" "awk -F, 'NR>1 && \$17 == 1 {r=\$11} NR>1 && \$17 == 2 && \$9 != r {bad=1} END {exit bad}' $T/s3"
ok "tune --shortlist 3: the sweep has every plan" "[ \$(grep -c '^--batch 8 ' $T/sl.txt) -eq 6 ] && grep -q 'rank order' $T/sl.txt"
ok "tune --shortlist 3: every plan simulates" "grep '^--batch' $T/sl.txt | while read -r l; do $L simulate \$l > /dev/null || exit 1; done"
# nothing half-written: a bad workload fails before any output, an unwritable header takes the sweep file with it
$L tune --ctx 1k,2k --heads 7 --kv-heads 3 --emit-sweep "$T/hw.txt" > "$T/hw.out" 2> "$T/e"; rc=$?
ok "tune with a bad workload: exit 2, no output, no file" "[ $rc -eq 2 ] && [ ! -s $T/hw.out ] && [ ! -e $T/hw.txt ] && grep -q 'kv-heads 3' $T/e"
$L tune --ctx 1k --emit-sweep "$T/hw.txt" --emit-header /nonexistent/dir/x.h > /dev/null 2> "$T/e"; rc=$?
ok "tune with an unwritable header: exit 2, no sweep file" "[ $rc -eq 2 ] && [ ! -e $T/hw.txt ] && grep -q 'emit-header' $T/e"
# choosing by measurement: the shortlist's plans "measured" 50, 40 and 45 us (runner CSV rows made from
# the simulator's), ingested; --measured takes rank 2, and --emit-header writes it with its measured time
$L tune --ctx 4k --batch 2 --kv-heads 8 --shortlist 3 --emit-sweep "$T/ms.txt" > /dev/null
H1=$(sed -n 's/^ *X(\([a-z_0-9]*\), *1) *\\\{0,1\}$/\1/p' sim/runcsv.h | paste -sd, -)
echo "$H1" > "$T/ms.csv"
i=0; for t in 50 40 45; do i=$((i + 1))
  $L simulate $(grep '^--batch' "$T/ms.txt" | sed -n ${i}p) --format csv | tail -n +2 |
    awk -F, -v t=$t '{printf "NVIDIA H100 80GB HBM3,132,580,1980,2619,12.8,t,2026,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,10,%s,%s,%s,0,%s,%s,0\n", $3,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,t,t,t,$22,$23}' >> "$T/ms.csv"
done
$L ingest "$T/ms.csv" --db "$T/ms.db" > /dev/null 2>&1
$L tune --ctx 4k --batch 2 --kv-heads 8 --shortlist 3 --measured "$T/ms.db" --format csv --emit-header "$T/ms.h" > "$T/mo" 2> /dev/null; rc=$?
ok "tune --measured runs" "[ $rc -eq 0 ] && head -1 $T/mo | grep -q ',measured_us,measured_best,time_lo_us,time_hi_us,'"
ok "tune --measured: each plan's time" "[ \"\$(awk -F, 'NR>1 {print \$18}' $T/mo | paste -sd' ')\" = '50.0000 40.0000 45.0000' ]"
ok "tune --measured: the fastest measured is the choice" "[ \"\$(awk -F, 'NR>1 {print \$19}' $T/mo | paste -sd' ')\" = '0 1 0' ]"
ok "tune --measured: the header holds it" "grep -q \"{2, 4096, \\\"\$(awk -F, 'NR==3 {print \$4}' $T/mo)\\\", \$(awk -F, 'NR==3 {print \$5}' $T/mo), .*, 40.00},   /\\* measured\" $T/ms.h"
$L tune --ctx 4k --measured "$T/none.db" > /dev/null 2> "$T/e"; rc=$?
ok "tune --measured with no database: exit 2, named" "[ $rc -eq 2 ] && grep -q 'measured .*none.db: no such database' $T/e"
# more than one GPU: each parallelism that cuts the work differently, the fastest first; its time is
# simulate --gpus's for the same plan (GPU 0's share, then the gather and merge)
$L tune --ctx 1m --batch 4 --heads 64 --kv-heads 8 --gpus 4 --format csv > "$T/g4"; rc=$?
ok "tune --gpus 4 runs" "[ $rc -eq 0 ] && [ \$(tail -n +2 $T/g4 | wc -l) -eq 2 ]"
ok "tune --gpus 4: heads and kv (both cuts as heads does), the fastest first" "[ \"\$(tail -n +2 $T/g4 | cut -d, -f23 | sort | paste -sd' ')\" = 'heads kv' ] && awk -F, 'NR == 2 {t = \$9} NR == 3 && \$9 < t {bad=1} END {exit bad}' $T/g4"
ok "tune --gpus 4: kv's time is simulate --gpus 4 --parallel kv's" "awk -F, '\$23 == \"kv\" {print}' $T/g4 | while IFS=, read -r gg bb cc sch bn sp gr cps tt rest; do
  o=\"--schedule \$sch --block-n \$bn\"; [ \$sch = split ] && o=\"\$o --splits \$sp\"; [ \$gr != 0 ] && o=\"\$o --grid \$gr\"; [ \$cps != 0 ] && o=\"\$o --ctas-per-sm \$cps\"
  $L simulate --ctx 1m --batch 4 --heads 64 --kv-heads 8 --gpus 4 --parallel kv \$o --format csv | tail -1 | awk -F, -v t=\$tt '{exit !(\$18 - t < 0.01 && t - \$18 < 0.01)}' || exit 1; done"
$L tune --ctx 1k --kv-heads 2 --gpus 4 --parallel heads > /dev/null 2> "$T/e"; rc=$?
ok "tune --gpus 4 --parallel heads over 2 KV heads: exit 2, named" "[ $rc -eq 2 ] && grep -q 'gpus 4: more GPUs than the 2 KV heads' $T/e"
$L tune --ctx 1k --gpus 2 --emit-sweep "$T/g.txt" > /dev/null 2> "$T/e"; rc=$?
ok "tune --gpus 2 --emit-sweep: exit 2, no file" "[ $rc -eq 2 ] && [ ! -e $T/g.txt ] && grep -q 'one GPU' $T/e"
# a header for every chip compiles, two of them in one file
$L tune --gpu h100-pcie --ctx 4k --emit-header "$T/hp.h" > /dev/null && $L tune --ctx 4k --emit-header "$T/h1.h" > /dev/null
ok "headers of h100-pcie and h100 compile together" "printf '#include \"$T/hp.h\"\n#include \"$T/h1.h\"\nint main(void){return leansim_tuned_h100_pcie[0].batch + leansim_tuned_h100[0].batch != 2;}\n' > $T/m2.c && cc -o $T/m2 $T/m2.c && $T/m2"
# a what-if: the same tuning on 64 SMs moves the winner's time, and the table names the override
$L tune --ctx 64k --set sms=64 > "$T/w64"; rc=$?
ok "tune --set sms=64 runs and names it" "[ $rc -eq 0 ] && grep -q '^# overrides: --set sms=64' $T/w64"
ok "tune --set sms=64: slower than on 132 SMs" "[ \$(awk 'END {print \$9}' $T/w64 | cut -d. -f1) -gt \$($L tune --ctx 64k | awk 'END {print \$9}' | cut -d. -f1) ]"
for bad in "--ctx 0" "--ctx 1k --batches x" "--ctx 1k --gpu nosuch" "--batch 4" "--ctx 1k --splits 4" "--ctx 1k --bogus 1" "--ctx 1k --format xml" "--ctx 1k --shortlist 0" "--ctx 1k --shortlist 9" "--ctx 1k --shortlist 2x" "--ctx 1k --gpus 0" "--ctx 1k --gpus 2 --parallel x" "--ctx 1k --set foo=1" "--ctx 1k --batches 1,2 --batch 4"; do
  $L tune $bad 2> "$T/e" > /dev/null; rc=$?
  ok "tune $bad: exit 2" "[ $rc -eq 2 ] && [ -s $T/e ]"
done

# calibrate: rows made by the simulator from a spec with a known launch cost
sed 's/^launch_us = .*/launch_us = 6.0/' experiments/gpus/h100.gpu > "$T/slow.gpu"
# the runner's CSV format 1 (sim/runcsv.h: the columns of X(name, 1)); the rows below are of that format
H=$(sed -n 's/^ *X(\([a-z_0-9]*\), *1) *\\\{0,1\}$/\1/p' sim/runcsv.h | paste -sd, -)
echo "$H" > "$T/m.csv"
for b in 1 4 16; do for c in 1k 8k 64k 512k; do
  $L simulate --gpu "$T/slow.gpu" --batch $b --ctx $c --format csv | tail -n +2 |
    awk -F, '{printf "h100,132,580,1980,2619,12.8,t,2026,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,0,10,%s,%s,%s,0,%s,%s,0\n", $3,$6,$7,$8,$9,$10,$11,$12,$13,$14,$18,$18,$18,$22,$23}' >> "$T/m.csv"
done; done
$L ingest "$T/m.csv" --db "$T/r.db" > /dev/null
$L calibrate --db "$T/r.db" --gpu h100 --params launch_us,mem_bw_achievable_gbps --out "$T/fit.gpu" > "$T/o"; rc=$?
ok "calibrate runs" "[ $rc -eq 0 ]"
$L calibrate --db "$T/r.db" --gpu h100 --maxiter 1 > /dev/null 2> "$T/e0"; rc=$?
ok "calibrate with its default fields runs; a field at 0 is left out, said so" "[ $rc -eq 0 ] && grep -q 'partial_write_ns is 0 in leansim: not fitted' $T/e0"
echo hello > "$T/notdb.db"
$L calibrate --db "$T/notdb.db" --gpu h100 > "$T/o3" 2> "$T/e3"; rc=$?
ok "calibrate on a file that is no database: exit 2, one line" "[ $rc -eq 2 ] && [ \$(wc -l < $T/e3) -eq 1 ] && [ ! -s $T/o3 ]"
# validate: two profiles of one kernel are refused; a profile no row is of is said so
cp "$T/r.db" "$T/v.db"
$L validate --db "$T/v.db" --kernel experiments/kernels/torch-flash.kernel --kernel torch-flash > "$T/o4" 2> "$T/e4"; rc=$?
ok "validate: two --kernel files of one kernel refused" "[ $rc -eq 2 ] && grep -q 'a second profile of kernel torch-flash' $T/e4 && [ ! -s $T/o4 ]"
$L validate --db "$T/v.db" --kernel torch-flash > /dev/null 2> "$T/e5"; rc=$?
ok "validate: a --kernel profile no row is of is said so" "[ $rc -eq 0 ] && grep -q -- '--kernel torch-flash: no measured row is of its kernel' $T/e5"
# ... and a profile whose kernel has a row is not, the row the database's only one (its last)
{ head -1 experiments/data/h200-20261127-peers-v5.csv; grep -m1 ',torch-flash,' experiments/data/h200-20261127-peers-v5.csv; } > "$T/one.csv"
$L ingest "$T/one.csv" --db "$T/one.db" > /dev/null 2>&1
$L validate --db "$T/one.db" --kernel torch-flash > /dev/null 2> "$T/e6"; rc=$?
ok "validate: a --kernel profile of the database's only row is used" "[ $rc -eq 0 ] && ! grep -q 'no measured row is of its kernel' $T/e6"
# a named field at 0 cannot start a log-space fit: refused as bad input, naming --set, which starts it above 0
$L calibrate --db "$T/r.db" --gpu h100 --params partial_write_ns > /dev/null 2> "$T/e2"; rc=$?
ok "a named field at 0 is refused with the --set that starts it" "[ $rc -eq 2 ] && [ \$(wc -l < $T/e2) -eq 1 ] && grep -q -- '--set partial_write_ns=X' $T/e2"
$L calibrate --db "$T/r.db" --gpu h100 --params partial_write_ns --set partial_write_ns=100 --maxiter 2 > "$T/o2" 2>/dev/null; rc=$?
ok "calibrate --set starts a field where it says" "[ $rc -eq 0 ] && grep -q '^partial_write_ns  *100 ' $T/o2"
# no row here runs the CUDA-core path (d = 256): its efficiency is left out of the default fit, and
# refused by name when asked for (GSL's default handler would abort on the singular system)
ok "a default field no row moves with is left out, said so" "grep -q 'no fitted row.s time moves with fp32_eff = .*: not fitted' $T/e0"
$L calibrate --db "$T/r.db" --gpu h100 --params fp32_eff > "$T/o1" 2> "$T/e1"; rc=$?
ok "a named field no row moves with is refused by name" "[ $rc -eq 1 ] && grep -q 'fp32_eff = .*not identified by these rows' $T/e1 && ! grep -q gsl $T/e1"
$L calibrate --db "$T/r.db" --gpu a100 > /dev/null 2> "$T/e0"; rc=$?
ok "calibrate on a GPU without rows: exit 2, named" "[ $rc -eq 2 ] && grep -q 'no measured rows of a100' $T/e0"
ok "calibrate finds launch 6.0" "awk '\$1==\"launch_us\" {exit !(\$3 > 5.95 && \$3 < 6.05)}' $T/o"
ok "calibrated spec loads" "$L simulate --gpu $T/fit.gpu --ctx 4k > /dev/null && grep -q calibrated $T/fit.gpu"
# the per-SM limit from a microbenchmark: the most one SM read on <= 32 SMs
# and the ceiling by SM count where a shared limit binds (64 and 132 SMs, not 8 or 16)
printf 'gpu,sms_used,ctas_per_sm,gbps,gbps_per_sm\nX,8,1,320,40\nX,8,4,1196,149.5\nX,16,4,2408,150.5\nX,64,4,2800,43.75\nX,64,2,2900,45.3\nX,132,4,3000,22.7\n' > "$T/smbw.csv"
$L calibrate --db "$T/r.db" --gpu h100 --params launch_us --microbench "$T/smbw.csv" --out "$T/fit2.gpu" > "$T/o2"; rc=$?
ok "calibrate --microbench runs" "[ $rc -eq 0 ] && grep -q '^sm_max_gbps = 150.5' $T/fit2.gpu"
ok "calibrate --microbench writes the ceiling table" "grep -q '^mem_bw_sms = 64:2900 132:3000' $T/fit2.gpu"
ok "the table scales a run on 64 SMs" "$L simulate --gpu $T/fit2.gpu --set sms=64 --ctx 512k --format csv | tail -1 | awk -F, -v t=\$($L simulate --gpu $T/fit2.gpu --set mem_bw_sms=none --set sms=64 --ctx 512k --format csv | tail -1 | cut -d, -f18) '{exit !(\$18 > t * 1.02)}'"
head -3 "$T/smbw.csv" > "$T/smbw-a.csv"; { head -1 "$T/smbw.csv"; tail -n +4 "$T/smbw.csv"; } > "$T/smbw-b.csv"
$L calibrate --db "$T/r.db" --gpu h100 --params launch_us --microbench "$T/smbw-a.csv,$T/smbw-b.csv" --out "$T/fit3.gpu" > /dev/null; rc=$?
ok "calibrate --microbench A,B reads both as one" "[ $rc -eq 0 ] && grep -q '^sm_max_gbps = 150.5' $T/fit3.gpu && grep -q '^mem_bw_sms = 64:2900 132:3000' $T/fit3.gpu"
$L calibrate --db "$T/r.db" --gpu h100 --microbench "$T/smbw-a.csv,,x" 2> "$T/e" > /dev/null; rc=$?
ok "calibrate --microbench with an empty name: exit 2, named" "[ $rc -eq 2 ] && grep -q 'FILE.csv\[,FILE.csv' $T/e"
printf 'gpu,sms\nX,8\n' > "$T/bad.csv"
$L calibrate --db "$T/r.db" --gpu h100 --microbench "$T/bad.csv" 2> "$T/e" > /dev/null; rc=$?
ok "calibrate --microbench without its columns: exit 2, named" "[ $rc -eq 2 ] && grep -q 'bad.csv:1: no sms_used' $T/e"
# an outside kernel's profile written by calibrate loads back as a profile
$L calibrate --db "$T/r.db" --gpu h100 --kernel leansim --params cta_inflight_bytes --out-kernel "$T/k.kernel" > /dev/null; rc=$?
ok "calibrate --out-kernel writes a profile" "[ $rc -eq 0 ] && $L simulate --kernel $T/k.kernel --ctx 4k > /dev/null"
$L calibrate --db "$T/r.db" --gpu h100 --out /nonexistent/dir/x.gpu 2> "$T/e" > /dev/null; rc=$?
ok "calibrate to an unwritable --out fails before the fit" "[ $rc -eq 2 ] && grep -q 'cannot open for writing' $T/e"
for bad in "--db $T/r.db" "--gpu h100" "--db $T/none.db --gpu h100" "--db $T/r.db --gpu h100 --params foo" "--db $T/r.db --gpu h100 --maxiter x" "--db $T/r.db --gpu a100"; do
  $L calibrate $bad 2> "$T/e" > /dev/null; rc=$?
  ok "calibrate $bad: exit 2" "[ $rc -eq 2 ] && [ -s $T/e ]"
done
# a chip named with a comment's end still gives a header that compiles
sed 's|^name = .*|name = my*/gpu|' experiments/gpus/h100.gpu > "$T/odd.gpu"
$L tune --gpu "$T/odd.gpu" --ctx 4k --emit-header "$T/odd.h" > /dev/null 2>&1
ok "a name with '*/' in the header's comment compiles" "printf '#include \"%s\"\\nint main(void) { return leansim_tuned_my__gpu[0].batch - 1; }\\n' $T/odd.h | \${CC:-cc} -x c -fsyntax-only -"
# tune searches the schedules the kernel runs (as simulate and predict do), unless --schedule says otherwise
$L tune --ctx 64k --kernel torch-efficient --format csv > "$T/te.csv"; rc=$?
ok "tune --kernel torch-efficient picks among its own schedule" "[ $rc -eq 0 ] && [ \$(cut -d, -f4 $T/te.csv | sed -n 2p) = fa2 ]"
$L predict --policy tune --ctx 64k --kernel torch-flash --format csv > "$T/pp.csv"
$L tune --ctx 64k --kernel torch-flash --format csv > "$T/tp.csv"
ok "tune and predict --policy tune agree for an outside kernel" "[ \$(cut -d, -f3 $T/pp.csv | sed -n 2p) = \$(cut -d, -f4 $T/tp.csv | sed -n 2p) ]"
# a workload no schedule asked can plan, and --parallel without --gpus: refused before any output
$L tune --ctx 16m --batches 1024 > "$T/o" 2> "$T/e"; rc=$?
ok "tune of a workload too large to plan: exit 2, nothing on stdout" "[ $rc -eq 2 ] && [ ! -s $T/o ] && grep -q 'cannot plan this workload' $T/e"
$L tune --ctx 4k --parallel kv > "$T/o" 2> "$T/e"; rc=$?
ok "tune --parallel without --gpus is refused" "[ $rc -eq 2 ] && [ ! -s $T/o ] && grep -q 'needs --gpus 2 or more' $T/e"
# another kernel's tile is its own: tune varies its split count, not its tile
$L tune --ctx 1k,64k --batches 1,16 --kernel torch-flash --shortlist 3 --format csv > "$T/tf.csv"
ok "tune --kernel torch-flash keeps FA2's tile (128 at d = 128)" "[ \$(tail -n +2 $T/tf.csv | cut -d, -f5 | sort -u) = 128 ]"
# a missing runner-up is empty in CSV (null in JSON), '-' in the table, never a time of 0
$L tune --ctx 4k --schedule fa2 --format csv > "$T/ru.csv"
ok "no runner-up: runner_up_us empty" "[ -z \"\$(sed -n 2p $T/ru.csv | cut -d, -f11)\" ] && [ -n \"\$(sed -n 2p $T/ru.csv | cut -d, -f12)\" ]"
$L tune --ctx 4k --schedule fa2 | tail -1 > "$T/ru.txt"
ok "no runner-up: no 0.00 in the table" "! grep -q ' 0.00 ' $T/ru.txt"
# an outside kernel's spread on a chip goes to its entry of band_kernel, the others' entries and the
# chip's own band kept; leansim's rows write band_lo_pct and band_hi_pct
$L ingest experiments/data/h200-20261127-peers-v5.csv --db "$T/p.db" > /dev/null 2>&1
sed 's/^band_kernel = .*/band_kernel = torch-flash:-1:2   # test/' experiments/gpus/h200.gpu > "$T/h200.gpu"
$L calibrate --db "$T/p.db" --gpu "$T/h200.gpu" --kernel torch-cudnn --half --chip-band --out "$T/cb.gpu" > "$T/o" 2>/dev/null; rc=$?
hi=$(sed -n 's/^band_hi_pct = \([0-9.]*\).*/\1/p' experiments/gpus/h200.gpu)
ok "calibrate --chip-band of an outside kernel writes its band_kernel entry, the chip's band kept" \
  "[ $rc -eq 0 ] && grep -q '^band_kernel = torch-flash:-1:2 torch-cudnn:-*[0-9.]*:[0-9.]*' $T/cb.gpu && grep -q '^band_hi_pct = $hi' $T/cb.gpu && grep -q 'its entry of band_kernel' $T/o"
$L calibrate --db "$T/p.db" --gpu "$T/cb.gpu" --kernel torch-cudnn --half --chip-band --out "$T/cb2.gpu" > /dev/null 2>&1
grep -v '^#' "$T/cb.gpu" > "$T/cb.v"; grep -v '^#' "$T/cb2.gpu" > "$T/cb2.v"
ok "a second fit of the same kernel replaces its entry" "[ \$(grep '^band_kernel' $T/cb2.gpu | grep -o 'torch-cudnn' | wc -l) -eq 1 ] && cmp -s $T/cb.v $T/cb2.v"
# a chip's band_kernel holds 8 kernels: a ninth is refused by name, one of the 8 is replaced in place
sed 's/^band_kernel = .*/band_kernel = a:-1:1 b:-1:1 c:-1:1 d:-1:1 e:-1:1 f:-1:1 g:-1:1 h:-1:1/' experiments/gpus/h200.gpu > "$T/full.gpu"
$L calibrate --db "$T/p.db" --gpu "$T/full.gpu" --kernel torch-cudnn --half --chip-band --out "$T/cb9.gpu" > /dev/null 2> "$T/e"; rc=$?
ok "calibrate --chip-band of a ninth kernel: exit 1, named, nothing written" "[ $rc -eq 1 ] && grep -q \"band_kernel holds 8 kernels already\" $T/e && [ ! -e $T/cb9.gpu ]"
sed 's/^band_kernel = .*/band_kernel = a:-1:1 b:-1:1 c:-1:1 d:-1:1 e:-1:1 f:-1:1 g:-1:1 torch-cudnn:-1:1/' experiments/gpus/h200.gpu > "$T/full8.gpu"
$L calibrate --db "$T/p.db" --gpu "$T/full8.gpu" --kernel torch-cudnn --half --chip-band --out "$T/cb8.gpu" > /dev/null 2>&1; rc=$?
ok "calibrate --chip-band of one of 8 kernels replaces its entry" "[ $rc -eq 0 ] && grep -q '^band_kernel = a:-1:1 b:-1:1 c:-1:1 d:-1:1 e:-1:1 f:-1:1 g:-1:1 torch-cudnn:[-0-9.]*:[0-9.]*\$' $T/cb8.gpu && ! grep -q 'torch-cudnn:-1:1' $T/cb8.gpu"
# ... and its profile's block_n, where it names one, is that tile
$L tune --ctx 1k,64k --batches 1,16 --kernel torch-flash --set block_n=64 --shortlist 3 --format csv > "$T/tf64.csv"
ok "tune --kernel torch-flash --set block_n=64 keeps tile 64" "[ \"\$(tail -n +2 $T/tf64.csv | cut -d, -f5 | sort -u)\" = 64 ]"
# --parallel of any parallelism needs --gpus (heads too); a later rank has no runner-up of its own
$L tune --ctx 4k --parallel heads > "$T/o" 2> "$T/e"; rc=$?
ok "tune --parallel heads without --gpus is refused" "[ $rc -eq 2 ] && [ ! -s $T/o ] && grep -q 'parallel heads: needs --gpus 2 or more' $T/e"
ok "tune --shortlist 3: runner_up_us on rank 1 alone" "awk -F, 'NR > 1 && \$17 > 1 && \$11 != \"\" {bad = 1} NR > 1 && \$17 == 1 && \$11 == \"\" {bad = 1} END {exit bad}' $T/s3"
echo "cli_tune: $pass passed, $fail failed"
[ $fail -eq 0 ]
