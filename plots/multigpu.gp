# multigpu.gp: KV-parallel decode against heads-parallel decode, Llama-3.1-70B
# attention at batch 1.  h100, b200: predicted (simulator; interconnect from
# the chip spec: the H100's as the H200's measured link, the B200's a
# datasheet estimate), the better of split and stream-K on each side.
# Measured (leanbench --gpus, NCCL gather, stream-K on each GPU;
# experiments/multigpu/score.py): on 2 H100s in the h100 panel (filled,
# the simulator's prediction of the same runs open), on 2 and 4 H200s in
# the h200 panel.  Below 1: spreading the KV over the GPUs wins.
load 'plots/common.gp'
set multiplot layout 1, 3 title 'kv over heads parallelism (Llama-3.1-70B attention, batch 1)'
set logscale x 2
set xrange [4096:4194304]
set xtics ('4k' 4096, '16k' 16384, '64k' 65536, '256k' 262144, '1M' 1048576, '4M' 4194304) font ',8'
set xlabel 'context length (tokens)'
set ylabel 'kv time / heads time'
set yrange [0.5:3.5]
set key top right font ',8'
set title 'h100: predicted; 2 GPUs measured (filled)'
plot for [i = 2:4] data.'/multigpu-h100.dat' using 1:i with linespoints lt i-1 lw 1.5 \
         title sprintf('%d GPUs', 2 ** (i - 1)), \
     data.'/multigpu-measured-h100.dat' index 0 using 2:3 with points lt 1 pt 7 ps 1.2 title '2 GPUs, measured', \
     data.'/multigpu-measured-h100.dat' index 0 using 2:4 with points lt 1 pt 6 ps 1.5 title '(same runs, predicted)', \
     1 with lines lc rgb '#999999' dt 3 notitle
set title 'h200: measured (filled), predicted (open)'
plot for [b = 0:1] data.'/multigpu-measured-h200.dat' index b using 2:3 with linespoints lt b+1 pt 7 lw 1.5 \
         title sprintf('%d GPUs, measured', 2 * (b + 1)), \
     for [b = 0:1] data.'/multigpu-measured-h200.dat' index b using 2:4 with points lt b+1 pt 6 ps 1.3 \
         title sprintf('%d GPUs, predicted', 2 * (b + 1)), \
     1 with lines lc rgb '#999999' dt 3 notitle
set title 'b200 (predicted; link estimated)'
plot for [i = 2:4] data.'/multigpu-b200.dat' using 1:i with linespoints lt i-1 lw 1.5 \
         title sprintf('%d GPUs', 2 ** (i - 1)), 1 with lines lc rgb '#999999' dt 3 notitle
unset multiplot
