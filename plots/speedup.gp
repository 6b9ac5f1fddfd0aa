# speedup.gp: speedup of streamk and split over fa2 against context length,
# one panel per GPU; lines: simulator, points: measured.
load 'plots/common.gp'
gpus = system('cat '.data.'/speedup.gpus')
n = words(gpus)
set multiplot layout 1, n title 'Decode attention, batch 1, 32 heads (MHA), d = 128, fp16: speedup over fa2'
set logscale x 2
@ctx_tics
set xlabel 'context length (tokens)'
set ylabel 'speedup over fa2 (x)'
# one y range for every panel, so that the GPUs compare by eye
ymax = 1
do for [i = 1:n] {
    stats data.'/speedup-'.word(gpus, i).'-sim.dat' using 2 nooutput
    if (STATS_max > ymax) { ymax = STATS_max }
    stats data.'/speedup-'.word(gpus, i).'-sim.dat' using 3 nooutput
    if (STATS_max > ymax) { ymax = STATS_max }
}
set yrange [0:ceil(ymax * 1.15)]
set key bottom right
do for [i = 1:n] {
    g = word(gpus, i)
    set title g
    if (i > 1) { unset ylabel; set key off }
    plot data.'/speedup-'.g.'-sim.dat' using 1:2 with lines lt 3 lw 2 title 'streamk (sim)', \
         '' using 1:3 with lines lt 2 lw 2 dt 2 title 'split (sim)', \
         data.'/speedup-'.g.'-meas.dat' using 1:2 with points lt 3 title 'streamk (measured)', \
         '' using 1:3 with points lt 2 title 'split (measured)', \
         1 with lines lc rgb '#999999' dt 3 notitle
}
unset multiplot
