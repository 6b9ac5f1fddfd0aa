#!/bin/sh
# cli_calib.sh: leansim calibrate's options, what it prints and what it writes.
L=${LEANSIM:-build/leansim}
T=$(mktemp -d)
[ -n "$KEEP" ] && echo "kept $T" || trap 'rm -rf "$T"' EXIT
pass=0; fail=0
ok() { if eval "$2"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL $1: $2"; fi; }

# rows made by the simulator from a spec with a launch cost of 6 us, as the runner's CSV format 1
# (sim/runcsv.h: the columns of X(name, 1)); d = 128 and 256, both halves of the configurations
sed 's/^launch_us = .*/launch_us = 6.0/' experiments/gpus/h100.gpu > "$T/slow.gpu"
H=$(sed -n 's/^ *X(\([a-z_0-9]*\), *1) *\\\{0,1\}$/\1/p' sim/runcsv.h | paste -sd, -)
echo "$H" > "$T/m.csv"
i=0; for d in 128 256; do for b in 1 4 16; do for c in 1k 8k 64k; do i=$((i + 1))
  $L simulate --gpu "$T/slow.gpu" --batch $b --ctx $c --head-dim $d --format csv | tail -n +2 |   # up to 3% of noise, fixed
    awk -F, -v i=$i '{t = $18 * (1 + 0.03 * (((i * 7 + NR * 13) % 11) / 5 - 1)); printf "h100,132,580,1980,2619,12.8,t,2026,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,0,10,%s,%s,%s,0,%s,%s,0\n", $3,$6,$7,$8,$9,$10,$11,$12,$13,$14,t,t,t,$22,$23}' >> "$T/m.csv"
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
bad "--out and --out-kernel of one file" "one file for two" --params launch_us --out-kernel "$T/bad.gpu"

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

# what is printed is what is written: the fitted value, the bands (to 0.01%), the counts
$C --params launch_us --holdout 3 --out "$T/f.gpu" --out-kernel "$T/f.kernel" > "$T/o" 2> "$T/e"; rc=$?
ok "a fit runs, progress on stderr, none on stdout" "[ $rc -eq 0 ] && grep -q '^calibrate: iteration 1, rms' $T/e && ! grep -q '^calibrate:' $T/o"
ok "the fit finds launch 6.0" "awk '\$1==\"launch_us\" {exit !(\$3 > 5.5 && \$3 < 6.5)}' $T/o"
ok "launch_us written as printed" "[ \"\$(awk '\$1==\"launch_us\" {print \$3}' $T/o)\" = \"\$(awk '\$1==\"launch_us\" {printf \"%.6g\", \$3}' $T/f.gpu)\" ] && grep -q '^launch_us = .*# fit, 95% CI +- '\"\$(awk '\$1==\"launch_us\" {print \$4}' $T/o)\" $T/f.gpu"
lo=$(sed -n 's/^90% band .*: \([-+0-9.]*\)% .. \([-+0-9.]*\)%$/\1/p' "$T/o"); hi=$(sed -n 's/^90% band .*: \([-+0-9.]*\)% .. \([-+0-9.]*\)%$/\2/p' "$T/o")
ok "the band written as printed" "[ -n \"$lo\" ] && awk -v l=$lo -v h=$hi '\$1==\"err_lo_pct\" {a=(\$3==l+0)} \$1==\"err_hi_pct\" {b=(\$3==h+0)} END {exit !(a && b)}' $T/f.kernel"
ok "the counts and MAPE in the file's head as printed" "grep -q \"^# \$(sed -n 's/.*: \\([0-9]* rows fitted, [0-9]* held out\\),.*/\\1/p' $T/o); MAPE \$(sed -n 's/^MAPE fit rows: *//p' $T/o) (held out: \$(sed -n 's/^MAPE held out: *//p' $T/o))\" $T/f.gpu"
ok "both files load back" "$L simulate --gpu $T/f.gpu --kernel $T/f.kernel --ctx 4k > /dev/null"
$C --band-only --half --out-kernel "$T/b.kernel" > "$T/o" 2> /dev/null; rc=$?
ok "--band-only --half: the odd half held out, the even half fitted, every row one or the other" "sed -n 's/.*: \\([0-9]*\\) rows, nothing fitted (the bands only: of \\([0-9]*\\) rows, \\([0-9]*\\) held out.*/\\1 \\2 \\3/p' $T/o | awk '{ok = \$2 > 0 && \$3 > 0 && \$2 + \$3 == \$1} END {exit !(NR == 1 && ok)}'"
ok "--band-only --half: the counts of each half, printed and written" "[ $rc -eq 0 ] && n=\$(sed -n 's/.*(the bands only: of \\([0-9]* rows, [0-9]* held out\\) and scored).*/\\1/p' $T/o) && [ -n \"\$n\" ] && grep -q \"^# nothing fitted: the bands of \$n;\" $T/b.kernel && ! grep -q MAPE $T/b.kernel"
$C --params launch_us --maxiter 1 --microbench experiments/data/h100-20261127-smbw.csv,experiments/data/h100-20261127-smbw-sms.csv --out "$T/mb2.gpu" > "$T/o" 2> /dev/null
ok "--microbench: the written file says where sm_max_gbps and mem_bw_sms came from" "grep -q '^# from .*; sm_max_gbps and mem_bw_sms from --microbench experiments/data/h100-20261127-smbw.csv,' $T/mb2.gpu"
ok "--microbench: mem_bw_sms written as printed" "[ \"\$(sed -n 's/^# mem_bw_sms from [^:]*: \\([0-9: .]*\\) (.*/\\1/p' $T/o)\" = \"\$(sed -n 's/^mem_bw_sms = //p' $T/mb2.gpu)\" ]"

echo "cli_calib: $pass passed, $fail failed"
[ $fail -eq 0 ]
