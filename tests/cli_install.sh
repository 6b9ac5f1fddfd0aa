#!/bin/sh
# cli_install.sh: make install DESTDIR=... PREFIX=... puts the binary, one
# man page per command and the bash completion under the staging root; the
# installed binary runs on its own (specs compiled in); uninstall removes
# them all.
pass=0; fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL cli_install: $*"; }
L=${LEANSIM:-build/leansim}
B=$(dirname "$L")
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
make -s install BUILD="$B" DESTDIR="$T/stage" PREFIX=/opt/ls >"$T/log" 2>&1 && ok || bad "make install: $(tail -3 "$T/log")"
R=$T/stage/opt/ls
[ -x "$R/bin/leansim" ] && ok || bad "no bin/leansim"
(cd "$T" && "$R/bin/leansim" simulate --gpu h100 --ctx 64k --format csv >/dev/null) && ok || bad "installed binary does not run outside the tree"
for c in $("$L" --help | awk '/^commands:/ {on=1; next} on && /^  [a-z]/ {print $1}'); do
  f=$R/share/man/man1/leansim-$c.1
  [ -s "$f" ] && grep -q '^\.TH LEANSIM-' "$f" && ok || bad "no man page for $c"
  # every option --help prints is in the page
  for o in $("$L" "$c" --help | grep -o -- '--[a-z][a-z0-9-]*' | sort -u); do
    grep -q -- "\\\\$o\\|$o" "$f" || { bad "leansim-$c.1 lacks $o"; break; }
  done
done
[ -s "$R/share/man/man1/leansim.1" ] && ok || bad "no leansim.1"
C=$R/share/bash-completion/completions/leansim
[ -s "$C" ] && bash -n "$C" && ok || bad "completion missing or not valid bash"
out=$(bash -c ". '$C'; COMP_WORDS=(leansim tu); COMP_CWORD=1; _leansim; echo \${COMPREPLY[*]}")
[ "$out" = tune ] && ok || bad "completion of 'leansim tu': '$out'"
out=$(bash -c ". '$C'; COMP_WORDS=(leansim simulate --kv); COMP_CWORD=2; _leansim; echo \${COMPREPLY[*]}")
[ "$out" = --kv-heads ] && ok || bad "completion of 'leansim simulate --kv': '$out'"
make -s uninstall BUILD="$B" DESTDIR="$T/stage" PREFIX=/opt/ls >/dev/null 2>&1 && ok || bad "make uninstall"
[ -z "$(find "$T/stage" -type f)" ] && ok || bad "left after uninstall: $(find "$T/stage" -type f | head -3)"
echo "cli_install: $pass passed, $fail failed"
[ $fail -eq 0 ]
