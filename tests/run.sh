#!/bin/sh
# run.sh BUILD TEST...: runs each test binary, then the CLI tests, and prints
# the total as "N passed, N failed".
build=$1; shift
pass=0; fail=0; bad=""
for t in "$@"; do
  out=$("$t" 2>&1); rc=$?
  printf '%s\n' "$out" | grep -E '^FAIL|passed, .* failed' | sed 's/^/  /'
  p=$(printf '%s\n' "$out" | sed -n 's/.*: \([0-9]*\) passed, \([0-9]*\) failed$/\1/p' | tail -1)
  f=$(printf '%s\n' "$out" | sed -n 's/.*: \([0-9]*\) passed, \([0-9]*\) failed$/\2/p' | tail -1)
  pass=$((pass + ${p:-0})); fail=$((fail + ${f:-0}))
  if [ $rc -ne 0 ]; then
    [ "${f:-0}" -eq 0 ] && fail=$((fail + 1)) && printf '%s\n' "$out" | tail -5
    bad="$bad $(basename "$t")"
  fi
done
for t in tests/cli_*.sh; do
  [ -f "$t" ] || continue
  out=$(LEANSIM="$build/leansim" sh "$t" 2>&1); rc=$?
  printf '%s\n' "$out" | grep -E '^FAIL|passed, .* failed' | sed 's/^/  /'
  p=$(printf '%s\n' "$out" | sed -n 's/.*: \([0-9]*\) passed, \([0-9]*\) failed$/\1/p' | tail -1)
  f=$(printf '%s\n' "$out" | sed -n 's/.*: \([0-9]*\) passed, \([0-9]*\) failed$/\2/p' | tail -1)
  pass=$((pass + ${p:-0})); fail=$((fail + ${f:-0}))
  if [ $rc -ne 0 ]; then
    [ "${f:-0}" -eq 0 ] && fail=$((fail + 1)) && printf '%s\n' "$out" | tail -5
    bad="$bad $(basename "$t")"
  fi
done
[ -n "$bad" ] && echo "failing:$bad"
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
