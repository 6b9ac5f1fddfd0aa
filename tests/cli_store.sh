#!/bin/sh
# cli_store.sh: the commands that write the results database (sweep,
# ingest, merge) and the listings (gpus, kernels) on bad input: one line on
# stderr naming the file, the line and the text, exit 2, nothing on stdout
# and no database left behind; input from a pipe read once.
L=${LEANSIM:-build/leansim}
pass=0; fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL cli_store: $*"; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
CSV=experiments/data/h100-20261127-tuned-v4-mha.csv
# refused CMD...: exit 2, one line on stderr containing $want, stdout empty, no $T/x.db
refused() { refused_in /dev/null "$@"; }
# refused_in FILE CMD...: refused, the command's stdin a pipe from FILE
refused_in() {
  in=$1; shift
  rm -f "$T/x.db"
  cat "$in" | "$L" "$@" > "$T/o" 2> "$T/e"; rc=$?
  if [ $rc -eq 2 ] && [ ! -s "$T/o" ] && [ "$(wc -l < "$T/e")" -eq 1 ] && grep -qF -- "$want" "$T/e" &&
     [ ! -e "$T/x.db" ]; then ok; else
    bad "leansim $*: rc $rc, want 2 and '$want' on one line, no stdout, no database: $(head -2 "$T/e") | $(head -1 "$T/o")"
  fi
}

# ingest reads its input once: a pipe or a FIFO is checked, then stored
cat "$CSV" | "$L" ingest /dev/stdin --db "$T/p.db" > "$T/o" 2> "$T/e" &&
  grep -q ': 28 rows added' "$T/o" && ok || bad "ingest from a pipe: $(cat "$T/e" "$T/o" | head -2)"
mkfifo "$T/fifo"
cat "$CSV" > "$T/fifo" & w=$!
timeout 20 "$L" ingest "$T/fifo" --db "$T/f.db" > "$T/o" 2> "$T/e" &&
  grep -q ': 28 rows added' "$T/o" && ok || bad "ingest from a named FIFO: $(cat "$T/e" "$T/o" | head -2)"
kill $w 2> /dev/null
{ head -1 "$CSV"; echo garbage; } > "$T/bad.csv"
want="/dev/stdin:2: 1 columns"
refused_in "$T/bad.csv" ingest /dev/stdin --db "$T/x.db"

# a row of CSV with field $1 set to $2 (the file's second row, batch 1): $T/row.csv
row() { awk -F, -v OFS=, -v c="$1" -v v="$2" 'NR == 1 { print } NR == 3 { $c = v; print }' "$CSV" > "$T/row.csv"; }
# ctx: an empty length anywhere, the first one too
row 15 ';1024'
want="row.csv:2: ctx ';1024': empty length" refused ingest "$T/row.csv" --db "$T/x.db"

# sweep: rows that cannot be are refused before the database is made, nothing on stdout
printf 'heads = 7\nkv_heads = 3\nctx=4k\n' > "$T/hk.exp"
want="hk.exp:2: kv_heads: 3 divides none of the heads (7)" refused sweep "$T/hk.exp" --db "$T/x.db"
printf 'heads = 7, 32\nkv_heads = 8\n' > "$T/hk2.exp"
want="hk2.exp:1: heads: 7 is divided by none of the kv_heads (8)" refused sweep "$T/hk2.exp" --db "$T/x.db"
printf 'ctas_per_sm = 64\nkernels = torch-flash\nschedules = fa2\n' > "$T/cps.exp"
want="cps.exp: every one of its 2 rows is invalid" refused sweep "$T/cps.exp" --db "$T/x.db"

# a --db that is not SQLite is bad input in every command, and left as it is
echo hi > "$T/notdb.db"
printf 'ctx = 4k\n' > "$T/s.exp"
"$L" ingest "$CSV" --db "$T/good.db" > /dev/null
want="--db $T/notdb.db: not a SQLite file" refused sweep "$T/s.exp" --db "$T/notdb.db"
want="--db $T/notdb.db: not a SQLite file" refused ingest "$CSV" --db "$T/notdb.db"
want="--db $T/notdb.db: not a SQLite file" refused validate --db "$T/notdb.db"
want="--into $T/notdb.db: not a SQLite file" refused merge "$T/good.db" --into "$T/notdb.db"
[ "$(cat "$T/notdb.db")" = hi ] && ok || bad "a file that is not SQLite was changed"
# merge names a bad source as given: it has no --db
want="leansim merge: $T/notdb.db: not a leansim results database" refused merge "$T/notdb.db" --into "$T/x.db"
# a command that reads its rows makes no database of an empty file
: > "$T/empty.db"
want="--db $T/empty.db: not a leansim results database" refused validate --db "$T/empty.db"
want="--db $T/empty.db: not a leansim results database" refused report --db "$T/empty.db"
[ ! -s "$T/empty.db" ] && ok || bad "validate made a database of an empty file"
# one that fills a database takes an empty file (mktemp's) as a new one
"$L" ingest "$CSV" --db "$T/empty.db" > /dev/null 2> "$T/e" && ok || bad "ingest into an empty file: $(cat "$T/e")"

# sweep files: an empty list item, a value listed twice, an unknown spec or
# profile and a NUL byte are refused at their line
sw() { printf '# a sweep\n%s\n' "$1" > "$T/g1.exp"; want="g1.exp:2: $2" refused sweep "$T/g1.exp" --db "$T/x.db"; }
sw 'gpus = h100,,h200' 'gpus: empty item'
sw 'ctx = 4k,,8k' 'ctx: empty item'
sw 'engines = sim,' 'engines: empty item'
sw 'ctx = 4k, 4k' 'ctx: 4096 listed twice'
sw 'ctx = 1k..8k *2, 4k' 'ctx: 4096 listed twice'
sw 'gpus = h100, h100' "gpus: 'h100' listed twice"
sw 'schedules = fa2, split, fa2' "schedules: 'fa2' listed twice"
sw 'gpus = nosuch' "gpus: unknown GPU spec 'nosuch' (known: "
sw 'kernels = nosuch' "kernels: unknown kernel profile 'nosuch' (known: "
printf 'ctx = 4k\nbatch = 1\0000\n' > "$T/nul.exp"
want="nul.exp:2: a NUL byte inside the line" refused sweep "$T/nul.exp" --db "$T/x.db"

# ingest takes plain decimal numbers only, and no text with a space at an end
row 2 ' 132'; want="row.csv:2: sms ' 132': not an integer" refused ingest "$T/row.csv" --db "$T/x.db"
row 10 '+1'; want="row.csv:2: batch '+1': not an integer" refused ingest "$T/row.csv" --db "$T/x.db"
row 21 '0x12'; want="row.csv:2: time_us '0x12': not a number" refused ingest "$T/row.csv" --db "$T/x.db"
row 21 '18.'; want="row.csv:2: time_us '18.': not a number" refused ingest "$T/row.csv" --db "$T/x.db"
row 1 ' NVIDIA H100 80GB HBM3'; want="row.csv:2: gpu: empty, not printable or with a space at an end ' NVIDIA" refused ingest "$T/row.csv" --db "$T/x.db"
row 21 '1.84e1'
"$L" ingest "$T/row.csv" --db "$T/e.db" > /dev/null 2> "$T/e" && ok || bad "ingest of time_us 1.84e1: $(cat "$T/e")"

# the listings: a failed write is said, in every format; the CSV's numbers read back as the JSON's
if [ -w /dev/full ]; then
  for c in gpus kernels; do for f in json csv table; do
    "$L" $c --format $f > /dev/full 2> "$T/e"; rc=$?
    [ $rc -eq 1 ] && grep -q "leansim $c: writing the output failed" "$T/e" && ok ||
      bad "$c --format $f > /dev/full: rc $rc, $(cat "$T/e")"
  done; done
fi
"$L" kernels --format csv | grep -q '^torch-cudnn,.*,9675000,tensor$' && ok ||
  bad "kernels --format csv: torch-cudnn's cta_inflight_bytes not 9675000: $("$L" kernels --format csv | grep cudnn)"

# merge: too many sources are told as such
want="at most 256 sources" refused merge $(seq -f "$T/s%g.db" 1 257) --into "$T/x.db"

# a read error is the run's failure (exit 1), not the input's; no database
# (/proc/self/mem fails to read at offset 0 on Linux; where it reads otherwise, nothing is asserted)
rm -f "$T/x.db"; "$L" ingest /proc/self/mem --db "$T/x.db" > "$T/o" 2> "$T/e"; rc=$?
if grep -q 'read error' "$T/e"; then
  [ $rc -eq 1 ] && [ ! -e "$T/x.db" ] && ok || bad "ingest of a read error: rc $rc, $(head -1 "$T/e")"
else
  echo "# cli_store: /proc/self/mem read without error here: the read-error exit not checked"
fi

echo "cli_store: $pass passed, $fail failed"
[ $fail -eq 0 ]
