#!/bin/sh
# cli_leanbench.sh: leanbench's options (one table, parsed by getopt_long,
# printed by --help): every option kernels/run-on-gpu.sh passes it is one
# --help lists, and bad options and values are named, exit 2.  Options are
# parsed before the GPU is touched, so the toolkit's stub driver library
# lets leanbench start here; without a build of it (no nvcc), only the
# checks that need none run: kernels/run-on-gpu.sh's modes and environment,
# and the comparison scripts' bad input.
L=${LEANSIM:-build/leansim}
B=$(dirname "$L")/leanbench
STUB=${CUDA_HOME:-/usr/local/cuda}/lib64/stubs/libcuda.so
pass=0; fail=0
ok() { if eval "$2"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL cli_leanbench: $1: $2"; fi; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
# kernels/run-on-gpu.sh: a mode it does not have stops it before anything runs
# (no nvidia-smi here: a mode that got past the check would fail later, not with 2)
R=kernels/run-on-gpu.sh
OUT="$T/rog" sh $R bogus > /dev/null 2> "$T/e"; rc=$?
ok "run-on-gpu.sh bogus: exit 2, named, nothing made" "[ $rc -eq 2 ] && grep -q \"unknown mode 'bogus'\" $T/e && [ ! -e $T/rog ]"
OUT="$T/rog" sh $R profiles > /dev/null 2> "$T/e"; rc=$?
ok "run-on-gpu.sh profiles without its half: exit 2" "[ $rc -eq 2 ] && grep -q 'a or b' $T/e && [ ! -e $T/rog ]"
# every mode its header names is one it takes and has a branch for
sed -n '1,/^set -u/p' $R | sed -n 's/^#   sh kernels\/run-on-gpu.sh \([a-z]*\).*/\1/p' | grep -v '^hash$' | sort -u > "$T/modes"
ok "run-on-gpu.sh names its modes" "[ \$(grep -c . $T/modes) -ge 15 ]"
while read -r m; do
  ok "run-on-gpu.sh $m: taken and run" "sed -n '/^case \"\$MODE\" in/,/^esac/p' $R | head -3 | grep -Eq '(^|[|])$m([|]|\\))' && grep -Eq '^([a-z]+[|])*$m([|][a-z]+)*\\)' $R"
done < "$T/modes"
# every environment variable it reads is named in its header
grep -o '\${[A-Z][A-Z_0-9]*' $R | tr -d '${' | sort -u > "$T/vars"
while read -r v; do
  ok "run-on-gpu.sh's header names \$$v" "sed -n '1,/^set -u/p' $R | grep -q '$v'"
done < "$T/vars"

# the scripts around it (no GPU, no build needed): bad input named, exit 2
printf 'gpu,sms\n' > "$T/h.csv"
python3 experiments/peers/compare.py "$T/h.csv" "$T/nosuch.csv" > /dev/null 2> "$T/e"; rc=$?
ok "compare.py: a missing column named" "[ $rc -eq 2 ] && grep -q 'h.csv: no column schedule' $T/e"
H=$(sed -n 's/^ *X(\([a-z_0-9]*\), [0-9]).*/\1/p' sim/runcsv.h | paste -sd, -)
printf '%s\n' "$H" > "$T/runs.csv"
python3 experiments/peers/compare.py "$T/runs.csv" "$T/nosuch.csv" > /dev/null 2> "$T/e"; rc=$?
ok "compare.py: a missing file named" "[ $rc -eq 2 ] && grep -q 'nosuch.csv: No such file' $T/e && ! grep -q Traceback $T/e"
python3 experiments/peers/compare.py "$T/runs.csv" "$T/runs.csv" > "$T/o" 2> "$T/e"; rc=$?
ok "compare.py: files of no rows compare nothing" "[ $rc -eq 0 ] && grep -q '^0 shapes compared' $T/o"
python3 experiments/multigpu/score.py "$T/runs.csv" > /dev/null 2> "$T/e"; rc=$?
ok "score.py: a single-GPU CSV named, no traceback" "[ $rc -ne 0 ] && grep -q 'runs.csv: no column gpus' $T/e && ! grep -q Traceback $T/e"

if [ ! -x "$B" ] || [ ! -f "$STUB" ]; then
  echo "# cli_leanbench: no $B or no $STUB: leanbench itself not run"
  echo "cli_leanbench: $pass passed, $fail failed"
  [ $fail -eq 0 ]; exit
fi
mkdir -p "$T/stub" && ln -sf "$STUB" "$T/stub/libcuda.so.1"
lb() { LD_LIBRARY_PATH="$T/stub" "$B" "$@"; }

# linkbench's --reps is an integer, checked before any device call
LB=$(dirname "$L")/linkbench
if [ -x "$LB" ]; then
  for v in abc 3x 2; do
    LD_LIBRARY_PATH="$T/stub" "$LB" --reps $v > /dev/null 2> "$T/e"; rc=$?
    ok "linkbench --reps $v refused" "[ $rc -eq 2 ] && grep -q 'an integer from 3' $T/e"
  done
fi
lb --help > "$T/help"; rc=$?
ok "--help exits 0" "[ $rc -eq 0 ] && grep -q '^usage: leanbench' $T/help"
# the options run-on-gpu.sh gives leanbench (not ncu's, not the peer's)
grep -E 'leanbench|\$B ' kernels/run-on-gpu.sh | grep -v -e ncu -e python3 -e '^ *#' |
  grep -o -- ' --[a-z][a-z0-9-]*' | sort -u > "$T/used"
ok "run-on-gpu.sh passes leanbench options" "[ \$(grep -c . $T/used) -ge 10 ]"
while read -r o; do
  ok "--help lists$o" "grep -q -- '^  $o ' $T/help"
done < "$T/used"
ok "--help lists each option in the synopsis too" "! sed -n '/^leanbench options/,\$p' $T/help | grep -o '^  --[a-z-]*' | while read -r o; do sed -n '1,/^workload/p' $T/help | grep -q -- \"\\[\$o[] ]\" || echo \$o; done | grep -q ."

for c in "--bogus|unknown option '--bogus'" "--gr 5|ambiguous option '--gr'" "--reps|--reps: missing value" \
         "--reps abc|--reps abc: not an integer" "--sms 5000|--sms 5000: must be between" \
         "--no-arena=1|--no-arena=1: takes no value" "--batch 0|--batch 0" "stray|unexpected argument 'stray'"; do
  args=${c%%|*}; want=${c#*|}
  # shellcheck disable=SC2086
  lb $args > /dev/null 2> "$T/e"; rc=$?
  ok "leanbench $args: exit 2, named" "[ $rc -eq 2 ] && grep -qF -- \"$want\" $T/e"
done

# --sweep: every line is parsed before the GPU is touched (here, before the stub
# driver's first refusal): a bad line is named FILE:LINE, exit 2, nothing run
printf -- '--ctx 4k --schedule split\n\n# a comment\n--ctx 4q\n--csv x.csv\n' > "$T/bad.txt"
lb --sweep "$T/bad.txt" > /dev/null 2> "$T/e"; rc=$?
ok "--sweep: a bad value named by file and line" "grep -qF -- '$T/bad.txt:4: --ctx 4q: not a size' $T/e"
ok "--sweep: an option of the command line's named by file and line" "grep -qF -- '$T/bad.txt:5: --csv: not on a --sweep line' $T/e"
ok "--sweep: bad lines stop the run before the GPU, exit 2" "[ $rc -eq 2 ] && grep -q '2 bad lines; nothing run' $T/e && ! grep -q 'stub' $T/e"
lb --gpus 2 --sweep "$T/bad.txt" > /dev/null 2> "$T/e"; rc=$?
ok "--gpus --sweep: the same" "[ $rc -eq 2 ] && grep -qF -- '$T/bad.txt:4: --ctx 4q' $T/e && ! grep -q 'stub' $T/e"
lb --sweep "$T/nosuch.txt" > /dev/null 2> "$T/e"; rc=$?
ok "--sweep: a missing file, before the GPU" "[ $rc -eq 2 ] && grep -q 'nosuch.txt: cannot open' $T/e && ! grep -q 'stub' $T/e"
printf '# nothing\n\n' > "$T/empty.txt"
lb --sweep "$T/empty.txt" > /dev/null 2> "$T/e"; rc=$?
ok "--sweep: a file of no option sets" "[ $rc -eq 2 ] && grep -q 'empty.txt: no option sets' $T/e"
awk 'BEGIN { for (i = 0; i < 2000; i++) printf "--ctx 4k "; print ""; for (i = 0; i < 130; i++) printf "--ctx 4k "; print "" }' > "$T/long.txt"
lb --sweep "$T/long.txt" > /dev/null 2> "$T/e"; rc=$?
ok "--sweep: a line too long is named, not read as two" "[ $rc -eq 2 ] && grep -q 'long.txt:1: line longer than' $T/e && grep -q 'long.txt:2: more than 255 words' $T/e && ! grep -q 'long.txt:3' $T/e"
# every sweep file of the repository parses (the run then stops at the stub driver)
for f in kernels/sweep-*.txt; do
  case $f in *mgpu*) g="--gpus 2" ;; *) g= ;; esac
  # shellcheck disable=SC2086
  lb $g --sweep "$f" > /dev/null 2> "$T/e"
  ok "$f parses (the stub driver reached)" "! grep -qF -- '$f:' $T/e && grep -q 'stub library' $T/e"
done
# options that the run would ignore are refused
for c in "--sweep $T/bad.txt --ctx 4k|--sweep: workload options go on the file's lines" \
         "--sweep $T/bad.txt --timeline t.csv|--sweep: --timeline goes on the file's lines" \
         "--gpus 2 --sweep $T/bad.txt --batch 2|--sweep: workload options go on the file's lines" \
         "--oracle --timeline t.csv|--timeline: not with --oracle" \
         "--occupancy --ctx 4k|--occupancy: not with workload options" \
         "--sm-bandwidth --sweep $T/bad.txt|--sm-bandwidth: not with --sweep" \
         "--read-ceiling --csv $T/rc.csv|--read-ceiling: writes no --csv"; do
  args=${c%%|*}; want=${c#*|}
  # shellcheck disable=SC2086
  lb $args > /dev/null 2> "$T/e"; rc=$?
  ok "leanbench $args: refused" "[ $rc -eq 2 ] && grep -qF -- \"$want\" $T/e"
done
# --csv of another mode's columns: refused before the GPU, the file left as it was
printf 'gpu,sms\n' > "$T/other.csv"
for m in --occupancy --sm-bandwidth "--gpus 2"; do
  # shellcheck disable=SC2086
  lb $m --csv "$T/other.csv" > /dev/null 2> "$T/e"; rc=$?
  ok "leanbench $m --csv: another header refused" "[ $rc -eq 2 ] && grep -q 'other.csv: its header is not' $T/e && [ \"\$(cat $T/other.csv)\" = gpu,sms ]"
done

echo "cli_leanbench: $pass passed, $fail failed"
[ $fail -eq 0 ]
