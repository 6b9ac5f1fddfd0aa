#!/bin/sh
# cli_leanbench.sh: leanbench's options (one table, parsed by getopt_long,
# printed by --help): every option kernels/run-on-gpu.sh passes it is one
# --help lists, and bad options and values are named, exit 2.  Options are
# parsed before the GPU is touched, so the toolkit's stub driver library
# lets leanbench start here; without a build of it (no nvcc), nothing runs.
L=${LEANSIM:-build/leansim}
B=$(dirname "$L")/leanbench
STUB=${CUDA_HOME:-/usr/local/cuda}/lib64/stubs/libcuda.so
pass=0; fail=0
ok() { if eval "$2"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL cli_leanbench: $1: $2"; fi; }
if [ ! -x "$B" ] || [ ! -f "$STUB" ]; then
  echo "# cli_leanbench: no $B or no $STUB: not run"
  echo "cli_leanbench: 0 passed, 0 failed"
  exit 0
fi
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
mkdir -p "$T/stub" && ln -sf "$STUB" "$T/stub/libcuda.so.1"
lb() { LD_LIBRARY_PATH="$T/stub" "$B" "$@"; }

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
echo "cli_leanbench: $pass passed, $fail failed"
[ $fail -eq 0 ]
