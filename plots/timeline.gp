# timeline.gp: one configuration's CTAs, one row per SM (lanes for resident
# CTAs), simulated above measured.  Blue: running, red: waiting for peers.
load 'plots/common.gp'
set multiplot layout 2, 1 title system('cat '.data.'/timeline.label') font ',9'
set linetype 11 lc rgb c_streamk
set linetype 12 lc rgb '#c0392b'
set linetype 13 lc rgb c_hybrid
# kind column: 1 running, 2 waiting, 3 combine kernel
set palette defined (1 c_streamk, 1.66 c_streamk, 1.67 '#c0392b', 2.33 '#c0392b', 2.34 c_hybrid, 3 c_hybrid)
set cbrange [1:3]
unset colorbox
set xlabel 'time since the first CTA started (µs)'
set ylabel 'SM'
set yrange [-1:*]
set key outside right
set title 'simulated'
plot data.'/timeline-sim.dat' using 2:1:3:(0):4 with vectors nohead lw 1 lc palette notitle, \
     NaN with lines lt 11 lw 4 title 'running', NaN with lines lt 12 lw 4 title 'waiting', \
     NaN with lines lt 13 lw 4 title 'combine'
set title 'measured'
plot data.'/timeline-meas.dat' using 2:1:3:(0):4 with vectors nohead lw 1 lc palette notitle, \
     NaN with lines lt 11 lw 4 title 'running', NaN with lines lt 12 lw 4 title 'waiting'
unset multiplot
