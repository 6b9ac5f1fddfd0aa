# whatif.gp: predicted streamk speedup over fa2 and over split against
# context length for every shipped GPU spec (simulator); dashed lines and
# "(estimate)" mark specs with no measured rows in the database.
load 'plots/common.gp'
gpus = system('cat '.data.'/whatif.gpus')
kinds = system('cat '.data.'/whatif.kinds')
est(i) = word(kinds, i) eq 'estimate'
label(i) = word(gpus, i).(est(i) ? ' (estimate)' : ' (measured)')
set multiplot layout 1, 2 title 'What if: streamk on every GPU spec (batch 1, 32 heads, 8 KV heads, d = 128)'
set logscale x 2
@ctx_tics
set xlabel 'context length (tokens)'
set key top left font ',8'
set title 'streamk over fa2'
set ylabel 'speedup (x)'
plot for [i = 1:words(gpus)] data.'/whatif-'.word(gpus, i).'.dat' using 1:2 with linespoints lt i lw 1.5 \
         dt 1+est(i) title label(i)
set title 'streamk over split'
set key off
plot for [i = 1:words(gpus)] data.'/whatif-'.word(gpus, i).'.dat' using 1:3 with linespoints lt i lw 1.5 \
         dt 1+est(i) title label(i), 1 with lines lc rgb '#999999' dt 3 notitle
unset multiplot
