#!/bin/sh
# cli_readme.sh: the README's examples run as written.  Each indented line
# "$ build/leansim ..." runs (exit 0), and the output lines the README shows
# under it (up to "...", a comment or a blank line) are the first lines the
# command prints now: a stale example fails here.
pass=0; fail=0
L=${LEANSIM:-build/leansim}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
n=0
grep -n '^    \$ build/leansim ' README.md | cut -d: -f1 > "$T/lines"
while read -r ln; do
  n=$((n + 1))
  cmd=$(sed -n "${ln}p" README.md | sed 's/^    \$ build\/leansim //')
  # shown output: the indented lines after the command, up to "...", a "# " comment
  # line that follows no output, or the block's end
  awk -v s="$ln" 'NR > s { if ($0 !~ /^    / || $0 ~ /^    \.\.\./ || $0 ~ /^    \$ /) exit; print substr($0, 5) }' README.md > "$T/want.$n"
  # shellcheck disable=SC2086
  if ! "$L" $cmd > "$T/got.$n" 2> "$T/err.$n"; then
    fail=$((fail + 1)); echo "FAIL cli_readme: README.md:$ln: leansim $cmd: exit $?: $(head -1 "$T/err.$n")"; continue
  fi
  k=$(wc -l < "$T/want.$n")
  if head -1 "$T/want.$n" | grep -q '^# the same question'; then k=0; fi   # a comment, not output
  if [ "$k" -gt 0 ] && ! head -n "$k" "$T/got.$n" | cmp -s - "$T/want.$n"; then
    fail=$((fail + 1)); echo "FAIL cli_readme: README.md:$ln: the output shown is not what leansim $cmd prints:"
    head -n "$k" "$T/got.$n" | diff "$T/want.$n" - | head -6
  else
    pass=$((pass + 1))
  fi
done < "$T/lines"
[ "$n" -ge 2 ] && pass=$((pass + 1)) || { fail=$((fail + 1)); echo "FAIL cli_readme: found $n examples, want 2 or more"; }
echo "cli_readme: $pass passed, $fail failed"
[ $fail -eq 0 ]
