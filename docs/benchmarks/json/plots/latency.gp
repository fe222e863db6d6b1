set terminal pngcairo size 1000,520 font "DejaVu Sans,10"
set output "/work/main/docs/benchmarks/cluster_commit_latency.png"
set title "Commit latency under the raft core (Propose → applied on the leader), 1 KiB entries, 64 per round"
set style data histogram
set style histogram cluster gap 1
set style fill solid 0.8 border -1
set boxwidth 0.9
set logscale y 10
set grid ytics
set ylabel "milliseconds (log scale)"
set xtics rotate by -25
set key top left
plot "docs/benchmarks/json/plots/latency.dat" using 2:xtic(1) title "p50" lc rgb '#1b9e77', '' using 3 title "p99" lc rgb '#d95f02', '' using 4 title "max" lc rgb '#7570b3'
