# paper.gp: the LeanAttention paper's comparison predicted by leansim on the
# A100 spec (batch 1, 32 heads, d = 64 and 128), the paper's reported points
# and averages beside it.  Left: over FlashAttention-2 without split, and
# that speedup's two factors (the kernel implementation, the schedule);
# right: over FlashDecoding.
load 'plots/common.gp'
pts = 'experiments/paper/leanattention.tsv'
set multiplot layout 1, 2 title 'LeanAttention on the A100 spec: leansim against the paper (batch 1, 32 heads)'
set logscale x 2
set logscale y 2
@ctx_tics
set xrange [1024:524288]
set xlabel 'context length (tokens)'
set ylabel 'speedup (x)'
set key top left font ',7'
set title 'over FlashAttention-2 (no split)'
plot data.'/paper-d64.dat' using 1:2 with linespoints lt 3 title 'leansim, d 64', \
     data.'/paper-d128.dat' using 1:2 with linespoints lt 3 dt 2 title 'leansim, d 128', \
     data.'/paper-d64.dat' using 1:4 with lines lt 1 dt 3 title 'implementation share (d 64)', \
     data.'/paper-d64.dat' using 1:5 with lines lt 2 dt 3 title 'schedule share (d 64)', \
     pts using (strcol(1) eq 'fa2' && $2 > 0 ? $2 : 1/0):3 with points lt 6 pt 7 ps 1.2 title 'paper (512k)', \
     pts using (strcol(1) eq 'fa2' && $2 == 0 ? 1024 : 1/0):3:(523264):(0) with vectors nohead lt 6 dt 4 title 'paper, average'
set title 'over FlashDecoding (FA2 split-KV)'
plot data.'/paper-d64.dat' using 1:3 with linespoints lt 3 title 'leansim, d 64', \
     data.'/paper-d128.dat' using 1:3 with linespoints lt 3 dt 2 title 'leansim, d 128', \
     pts using (strcol(1) eq 'fd' && $2 > 0 ? $2 : 1/0):3 with points lt 6 pt 7 ps 1.2 title 'paper (256k)', \
     pts using (strcol(1) eq 'fd' && $2 == 0 ? 1024 : 1/0):3:(523264):(0) with vectors nohead lt 6 dt 4 title 'paper, average'
unset multiplot
