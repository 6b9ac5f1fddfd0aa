# scaling.gp: time against the number of SMs at fixed bandwidth; lines:
# simulator (default plans), points: measured.
load 'plots/common.gp'
set title 'SM scaling, '.system('cat '.data.'/scaling.label')
set logscale y
set logscale x 2
set xtics (8, 16, 32, 64, 132)
set xlabel 'SMs'
set ylabel 'time (µs)'
set key outside right
plot for [s in 'fa2 split streamk balanced'] data.'/scaling-pred-'.s.'.dat' using 1:2 with lines \
         lt (s eq 'fa2' ? 1 : s eq 'split' ? 2 : s eq 'streamk' ? 3 : 5) lw 2 title s.' (sim)', \
     for [s in 'fa2 split streamk balanced'] data.'/scaling-meas-'.s.'.dat' using 1:2 with points \
         lt (s eq 'fa2' ? 1 : s eq 'split' ? 2 : s eq 'streamk' ? 3 : 5) ps 1.2 title s.' (measured)'
