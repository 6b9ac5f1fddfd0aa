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

echo "cli_calib: $pass passed, $fail failed"
[ $fail -eq 0 ]
