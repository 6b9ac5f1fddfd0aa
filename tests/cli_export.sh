#!/bin/sh
# cli_export.sh: `leansim export` and `leansim timeline` on bad input and
# failed writes: one line on stderr, exit 2 for bad input and 1 for a failed
# write, nothing on stdout, no file half-written or left behind; the options
# a figure takes change what it draws, the others are refused.
L=${LEANSIM:-build/leansim}
case "$L" in /*) ;; *) L=$(pwd)/$L ;; esac   # some cases run in another directory
pass=0; fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL cli_export: $*"; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
# expect RC TEXT CMD...: exit status RC, TEXT in the one line on stderr, nothing on stdout
expect() {
  want=$1 text=$2; shift 2
  "$L" "$@" > "$T/o" 2> "$T/e"; rc=$?
  if [ $rc -eq "$want" ] && grep -qF -- "$text" "$T/e" && [ "$(wc -l < "$T/e")" -eq 1 ] && [ ! -s "$T/o" ]; then ok
  else bad "leansim $*: exit $rc (want $want), stderr '$(head -2 "$T/e")', want '$text'$( [ -s "$T/o" ] && echo ', stdout not empty')"; fi
}
# no temporary file (NAME.tmpXXXXXX) under DIR
no_tmp() {
  if [ -z "$(find "$1" -name '*.tmp*' 2>/dev/null)" ]; then ok; else bad "$2: temporary files left: $(find "$1" -name '*.tmp*')"; fi
}
"$L" ingest experiments/data/h100-20261121-sweep-v4.csv --db "$T/v.db" > /dev/null 2>&1 &&
  "$L" validate --db "$T/v.db" > /dev/null || bad "cannot make the test database"
TL=traces/measured/h100-split-b1h32-64k-v4.csv

# timeline: the trace never replaces its input
cp "$TL" "$T/same.csv"
expect 2 "--trace $T/same.csv: is the input file" timeline "$T/same.csv" --trace "$T/same.csv"
cmp -s "$TL" "$T/same.csv" && ok || bad "timeline --trace onto its input changed the input"
(cd "$T" && "$L" timeline same.csv --trace ./same.csv > /dev/null 2>&1); [ $? -eq 2 ] && cmp -s "$TL" "$T/same.csv" && ok ||
  bad "timeline --trace onto its input by another path changed the input"

# export: a data file that cannot be opened fails the figure (exit 1), and the
# files it had open are dropped, none left half-written
for fig in speedup whatif tuner scaling paper multigpu; do
  case $fig in
    speedup) f=speedup-h100-sim.dat ;; whatif) f=whatif.kinds ;; tuner) f=tuner-tics.gp ;;
    scaling) f=scaling-meas-fa2.dat ;; paper) f=paper-d128.dat ;; multigpu) f=multigpu-b200.dat ;;
  esac
  rm -rf "$T/wk"; mkdir -p "$T/wk/$f"
  expect 1 "$T/wk/$f: cannot open for writing: Is a directory" export $fig --db "$T/v.db" --out "$T/wk"
  no_tmp "$T/wk" "export $fig onto a directory"
done

echo "cli_export: $pass passed, $fail failed"
[ $fail -eq 0 ]
