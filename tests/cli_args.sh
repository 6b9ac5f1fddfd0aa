#!/bin/sh
# cli_args.sh: every command parses its line from one option table
# (cli/args.h): what --help prints is what --list-options lists and what
# the parser takes; --opt=value and --opt value mean the same everywhere;
# every error names the option and exits 2.
pass=0; fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL cli_args: $*"; }
L=${LEANSIM:-build/leansim}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

# expect_err WHAT ARGS...: exit 2, one line on stderr containing WHAT, nothing on stdout
expect_err() {
  want=$1; shift
  "$L" "$@" >"$T/out" 2>"$T/err"; rc=$?
  if [ $rc -ne 2 ]; then bad "leansim $*: exit $rc, want 2"; return; fi
  if ! grep -qF -- "$want" "$T/err"; then bad "leansim $*: stderr '$(cat "$T/err")' lacks '$want'"; return; fi
  [ "$(wc -l < "$T/err")" -eq 1 ] && [ ! -s "$T/out" ] && ok || bad "leansim $*: more than one line, or output"
}

cmds=$("$L" --help | awk '/^commands:/ {on=1; next} on && /^  [a-z]/ {print $1}')
[ "$(echo $cmds | wc -w)" -ge 13 ] && ok || bad "leansim --help lists $(echo $cmds | wc -w) commands"
for c in $cmds; do
  "$L" "$c" --help > "$T/help" && "$L" "$c" -h | cmp -s - "$T/help" && ok || bad "$c: --help and -h differ or fail"
  "$L" "$c" --list-options > "$T/list" && [ -s "$T/list" ] && ok || bad "$c --list-options"
  # each listed option is on a help line of its own, with a value placeholder exactly when it takes one
  while read -r o; do
    name=${o%=}
    if [ "$name" = "$o" ]; then pat="^  $name( |$)"; else pat="^  $name [^ ]"; fi
    grep -Eq -- "$pat" "$T/help" || { bad "$c: $o not in --help as '$pat'"; break; }
  done < "$T/list"
  # and each option --help documents is one the parser knows
  for o in $(grep -Eo -- '^  --[a-z][a-z0-9-]*' "$T/help"); do
    grep -Eq -- "^$o=?\$" "$T/list" || { bad "$c: --help shows $o, the parser lacks it"; break; }
  done
  expect_err "unknown option '--no-such-option'" "$c" --no-such-option
  expect_err "unknown option '--no-such-option'" "$c" --no-such-option=3
done

# --opt=value is --opt value, workload and own options alike
"$L" simulate --gpu a100 --ctx 64k --schedule streamk --format csv > "$T/a"
"$L" simulate --gpu=a100 --ctx=64k --schedule=streamk --format=csv > "$T/b"
[ -s "$T/a" ] && cmp -s "$T/a" "$T/b" && ok || bad "simulate: --opt=value differs from --opt value"
"$L" tune --ctx=4k,8k --batches=1,2 --format=csv > "$T/a"
"$L" tune --ctx 4k,8k --batches 1,2 --format csv > "$T/b"
[ -s "$T/a" ] && cmp -s "$T/a" "$T/b" && ok || bad "tune: --opt=value differs from --opt value"
# options and operands in any order; -- ends the options
printf 'cta,sm,event,unit,t_ns\n0,0,start,0,0\n0,0,end,0,1000\n' > "$T/tl.csv"
"$L" timeline --trace "$T/a.json" "$T/tl.csv" && "$L" timeline "$T/tl.csv" --trace="$T/b.json" &&
  cmp -s "$T/a.json" "$T/b.json" && ok || bad "timeline: operand before or after the options"
cp "$T/tl.csv" "$T/-dash.csv"
LA=$(cd "$(dirname "$L")" && pwd)/$(basename "$L")
(cd "$T" && "$LA" timeline --trace c.json -- -dash.csv) && ok || bad "-- before an operand that starts with a dash"

# errors name the option (and the value), exit 2
expect_err "--batch: missing value (N)" simulate --batch
expect_err "--db: missing value (FILE)" sweep x.exp --db
expect_err "--holdout: takes no value" report --holdout=1
expect_err "--gpus 0: must be between 1 and 64" predict --gpus=0
expect_err "--gpus x: not an integer" simulate --gpus x
expect_err "--jobs 0: must be between 1 and 256" sweep x.exp --jobs=0
expect_err "--jobs 9999: must be between 1 and 256" sweep x.exp --jobs 9999
expect_err "--maxiter 0: must be between 1 and 1000000" calibrate --db x --gpu h100 --maxiter 0
expect_err "--holdout -1: must be between 0 and 1000000" calibrate --db x --gpu h100 --holdout=-1
expect_err "--batches 0: must be between 1 and 1024" tune --ctx 4k --batches 0
# each list's upper bound: at it taken, one past it refused
expect_err "--ctx 16777217: must be between 1 and 16777216" simulate --ctx 16777217
expect_err "--ctx 16777217: must be between 1 and 16777216" tune --ctx 16777217
expect_err "--batches 1025: must be between 1 and 1024" tune --ctx 4k --batches 1025
"$L" predict --ctx 16777216 > /dev/null && ok || bad "predict --ctx 16777216 (the most): refused"
# a bad entry of a long list is named by its place, the list is not echoed whole
long=$(awk 'BEGIN { for (i = 0; i < 300; i++) printf "65536,"; printf "0" }')
expect_err "--ctx: entry 301 of 301, '0': must be between 1 and 16777216" simulate --batch 301 --ctx "$long"
expect_err "--ctx: 257 lengths, at most 256" tune --ctx "$(seq -s, 1 257)"
expect_err "--ctx: entry 2 of 3, '': not a size" simulate --batch 3 --ctx 1k,,2k
expect_err "--format yaml: unknown format" gpus --format=yaml
expect_err "--shard 2/2: not I/N" sweep x.exp --shard=2/2
expect_err "unexpected argument 'extra'" simulate extra
expect_err "unexpected argument 'b.csv'" timeline a.csv b.csv --trace x.json
expect_err "--splits: tune searches it" tune --ctx 4k --splits 4
expect_err "ambiguous option '--k'" simulate --k 4   # --kernel, --kv-heads
"$L" simulate --sched=streamk --ctx 4k --format csv | tail -1 | cut -d, -f3 | grep -qx streamk && ok ||
  bad "a unique prefix of an option is the option"

echo "cli_args: $pass passed, $fail failed"
[ $fail -eq 0 ]
