#!/bin/sh
# cli_calib.sh: leansim calibrate's options, what it prints and what it writes.
L=${LEANSIM:-build/leansim}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0; fail=0
ok() { if eval "$2"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL $1: $2"; fi; }

# rows made by the simulator from a spec with a launch cost of 6 us, as the runner's CSV format 1
# (sim/runcsv.h: the columns of X(name, 1)); d = 128 and 256, both halves of the configurations
sed 's/^launch_us = .*/launch_us = 6.0/' experiments/gpus/h100.gpu > "$T/slow.gpu"
H=$(sed -n 's/^ *X(\([a-z_0-9]*\), *1) *\\\{0,1\}$/\1/p' sim/runcsv.h | paste -sd, -)
echo "$H" > "$T/m.csv"
for d in 128 256; do for b in 1 4 16; do for c in 1k 8k 64k; do
  $L simulate --gpu "$T/slow.gpu" --batch $b --ctx $c --head-dim $d --format csv | tail -n +2 |
    awk -F, '{printf "h100,132,580,1980,2619,12.8,t,2026,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,0,10,%s,%s,%s,0,%s,%s,0\n", $3,$6,$7,$8,$9,$10,$11,$12,$13,$14,$18,$18,$18,$22,$23}' >> "$T/m.csv"
done; done; done
$L ingest "$T/m.csv" --db "$T/r.db" > /dev/null
C="$L calibrate --db $T/r.db --gpu h100"

# bad input: exit 2, one line on stderr, nothing on stdout, no file written
bad() {   # bad NAME GREP ARGS...
  name=$1; pat=$2; shift 2
  $C "$@" --out "$T/bad.gpu" > "$T/bo" 2> "$T/be"; rc=$?
  ok "$name: exit 2, one line, nothing written" "[ $rc -eq 2 ] && [ ! -s $T/bo ] && [ \$(wc -l < $T/be) -eq 1 ] && grep -q -- '$pat' $T/be && [ ! -e $T/bad.gpu ]"
}
bad "--holdout with --half" "--holdout with --half" --holdout 3 --half
bad "--params with --band-only" "--params with --band-only" --band-only --params launch_us --microbench experiments/data/h100-20261127-smbw.csv
bad "--maxiter with --chip-band" "--maxiter with --chip-band" --chip-band --maxiter 3
bad "--xtol with --band-only" "--xtol with --band-only" --band-only --xtol 1e-6 --microbench experiments/data/h100-20261127-smbw.csv
bad "--sm-rows with --band-only" "--sm-rows with --band-only" --band-only --sm-rows --microbench experiments/data/h100-20261127-smbw.csv
bad "--out-kernel with --chip-band" "--out-kernel with --chip-band" --chip-band --out-kernel "$T/bad.kernel"
ok "  and no kernel file either" "[ ! -e $T/bad.kernel ]"
$C --band-only --out "$T/bad.gpu" > "$T/bo" 2> "$T/be"; rc=$?
ok "--out with --band-only and no --microbench: exit 2, nothing written" "[ $rc -eq 2 ] && [ ! -s $T/bo ] && grep -q -- '--out with --band-only' $T/be && [ ! -e $T/bad.gpu ]"
for t in "--xtol 0" "--gtol 0" "--ftol 0" "--xtol -1e-8" "--ftol 1" "--gtol 1e300" "--xtol x"; do
  bad "tolerance $t" "not a tolerance above 0 and below 1" --params launch_us $t
done

# --microbench: each file named in its error, another chip's rows refused, a file without ceilings keeps the chip's table
MB=experiments/data/h100-20261127-smbw.csv
: > "$T/empty.csv"; head -1 $MB > "$T/hdr.csv"
bad "--microbench A,EMPTY names the empty file" "empty.csv: empty" --params launch_us --microbench "$MB,$T/empty.csv"
bad "--microbench of a header alone" "hdr.csv: no rows" --params launch_us --microbench "$T/hdr.csv"
bad "--microbench A,MISSING names the missing file" "none.csv: cannot open" --params launch_us --microbench "$MB,$T/none.csv"
bad "--microbench of another chip (h200's rows, --gpu h100)" "h200-20261127-smbw.csv:2: a row of h200, not h100" --params launch_us --microbench experiments/data/h200-20261127-smbw.csv
bad "--microbench of another format" "sweep-v4.csv:1: no sms_used" --params launch_us --microbench experiments/data/h100-20261121-sweep-v4.csv
$C --params launch_us --maxiter 1 --microbench $MB --out "$T/mb.gpu" > "$T/o" 2> /dev/null; rc=$?
ok "--microbench without two ceilings keeps the chip's mem_bw_sms, said so" "[ $rc -eq 0 ] && [ \"\$(grep '^mem_bw_sms' $T/mb.gpu | cut -d'#' -f1 | sed 's/ *$//')\" = \"\$(grep '^mem_bw_sms' experiments/gpus/h100.gpu | cut -d'#' -f1 | sed 's/ *$//')\" ] && grep -q '^# mem_bw_sms: 32:3114 .* as in builtin:h100' $T/o"

echo "cli_calib: $pass passed, $fail failed"
[ $fail -eq 0 ]
