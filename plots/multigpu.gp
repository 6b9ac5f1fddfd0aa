# multigpu.gp: KV-parallel decode against heads-parallel decode, predicted
# (simulator; interconnect from the chip spec: the H100's as the H200's
# measured peer copies, the B200's a datasheet estimate), Llama-3.1-70B
# attention at batch 1.  Below 1: spreading the KV over the GPUs wins.
load 'plots/common.gp'
set multiplot layout 1, 2 title 'kv over heads parallelism (Llama-3.1-70B attention, batch 1; predicted, not measured)'
set logscale x 2
set xrange [4096:4194304]
set xtics ('4k' 4096, '16k' 16384, '64k' 65536, '256k' 262144, '1M' 1048576, '4M' 4194304)
set xlabel 'context length (tokens)'
set ylabel 'kv time / heads time'
set yrange [0.5:2.5]
set key top right font ',8'
do for [g in 'h100 b200'] {
    set title g.(g eq 'b200' ? ' (estimate)' : ' (link measured on H200)')
    plot for [i = 2:4] data.'/multigpu-'.g.'.dat' using 1:i with linespoints lt i-1 lw 1.5 \
             title sprintf('%d GPUs', 2 ** (i - 1)), 1 with lines lc rgb '#999999' dt 3 notitle
}
unset multiplot
