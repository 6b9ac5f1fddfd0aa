#!/bin/sh
# cli_escape.sh: every JSON and CSV output goes through the one writer
# (sim/fmt.h): a chip and a kernel named with a quote, a backslash, a
# control byte and a comma come out of simulate, predict, tune, gpus-style
# listings and traces as JSON that parses and CSV whose columns line up,
# with the name intact.
pass=0; fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL cli_escape: $*"; }
L=${LEANSIM:-build/leansim}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
command -v python3 >/dev/null || { echo "cli_escape: 0 passed, 0 failed (no python3)"; exit 0; }

# the name: q"b\s<SOH>,c  (quote, backslash, control byte 0x01, comma)
NAME=$(printf 'q"b\\s\001,c')
sed "s/^name = .*/name = $(printf '%s' "$NAME" | sed 's/[\\&/]/\\&/g')/" experiments/gpus/h100.gpu > "$T/odd.gpu"
grep -q "^name = q\"b" "$T/odd.gpu" && ok || bad "could not write the odd spec"
sed "s/^name = .*/name = $(printf '%s' "$NAME" | sed 's/[\\&/]/\\&/g')/" experiments/kernels/leansim.kernel > "$T/odd.kernel"
printf '%s' "$NAME" > "$T/name"

# check_json FILE PY-EXPR: the file parses as JSON, d is it, EXPR holds
check_json() {
  python3 - "$1" "$T/name" "$2" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
name = open(sys.argv[2]).read()
assert eval(sys.argv[3]), sys.argv[3]
PY
}
# check_csv FILE COL: every row has the header's width, column COL of row 1 is the name
check_csv() {
  python3 - "$1" "$T/name" "$2" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline='')))
name = open(sys.argv[2]).read()
assert len(rows) >= 2 and all(len(r) == len(rows[0]) for r in rows), "ragged rows"
assert rows[1][int(sys.argv[3])] == name, repr(rows[1][int(sys.argv[3])])
PY
}

for cmd in simulate predict; do
  "$L" $cmd --gpu "$T/odd.gpu" --kernel "$T/odd.kernel" --ctx 4k --format json > "$T/$cmd.json" 2>"$T/e" &&
    check_json "$T/$cmd.json" 'len(d) == 5 and all(r["gpu"] == name and r["kernel"] == name for r in d)' 2>>"$T/e" &&
    ok || bad "$cmd --format json: $(cat "$T/e")"
  "$L" $cmd --gpu "$T/odd.gpu" --kernel "$T/odd.kernel" --ctx 4k --format csv > "$T/$cmd.csv" 2>"$T/e" &&
    check_csv "$T/$cmd.csv" 3 2>>"$T/e" && check_csv "$T/$cmd.csv" 1 2>>"$T/e" &&
    ok || bad "$cmd --format csv: $(cat "$T/e")"
done
"$L" tune --gpu "$T/odd.gpu" --ctx 4k,8k --format json > "$T/tune.json" 2>"$T/e" &&
  check_json "$T/tune.json" 'len(d) == 2 and d[0]["gpu"] == name' 2>>"$T/e" && ok || bad "tune --format json: $(cat "$T/e")"
"$L" tune --gpu "$T/odd.gpu" --ctx 4k,8k --format csv > "$T/tune.csv" 2>"$T/e" &&
  check_csv "$T/tune.csv" 0 2>>"$T/e" && ok || bad "tune --format csv: $(cat "$T/e")"
# a trace names its tracks from a file name: a measured timeline called t"x\y.csv
tl="$T/t\"x\\y.csv"
printf 'cta,sm,event,unit,t_ns\n0,0,start,0,0\n0,0,end,0,1000\n' > "$tl"
"$L" timeline "$tl" --trace "$T/tl.json" 2>"$T/e" &&
  check_json "$T/tl.json" 'any(e.get("args", {}).get("name", "").endswith("t\"x\\y.csv") for e in d["traceEvents"])' 2>>"$T/e" &&
  ok || bad "timeline trace of an odd file name: $(cat "$T/e")"
"$L" simulate --gpu "$T/odd.gpu" --ctx 4k --schedule streamk --trace "$T/sim.json" > /dev/null 2>"$T/e" &&
  check_json "$T/sim.json" 'len(d["traceEvents"]) > 10' 2>>"$T/e" && ok || bad "simulate --trace: $(cat "$T/e")"
# the listings: every shipped spec and profile, JSON and CSV
"$L" gpus --format json > "$T/g.json" && check_json "$T/g.json" 'all("name" in g for g in d)' && ok || bad "gpus --format json"
"$L" gpus --format csv > "$T/g.csv" && check_csv "$T/g.csv" 0 2>/dev/null; python3 -c '
import csv, sys; r = list(csv.reader(open(sys.argv[1]))); assert all(len(x) == len(r[0]) for x in r) and r[1][1].startswith("NVIDIA")' "$T/g.csv" &&
  ok || bad "gpus --format csv columns"
"$L" kernels --format json > "$T/k.json" && check_json "$T/k.json" 'any(k["name"] == "leansim" for k in d)' && ok ||
  bad "kernels --format json"

echo "cli_escape: $pass passed, $fail failed"
[ $fail -eq 0 ]
