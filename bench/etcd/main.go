// etcd_raft_bench: etcd raft (3.4, Debian's golang-etcd-server-dev) under
// the windowed cluster workload of raftlog's raft cluster benchmark, so that
// raftlog's figures can be given as ratios to etcd's measured on the same
// machine in the same run. See README.md beside this file.
//
// One case per run:
//
//	etcd_raft_bench -storage wal_sync -nodes 3 -entry-bytes 1024 [-window 256] [-seconds 10]
//
// prints one JSON object on stdout:
//
//	{"impl":"etcd","nodes":3,"entry_bytes":1024,"storage":"wal_sync","window":256,
//	 "seconds":10.0,"committed":C,"entries_per_s":X,"p50_us":..,"p99_us":..,"max_us":..,
//	 "readies":..,"wal_fsyncs":..,"compactions":..,"warmup_s":..,"etcd_version":"3.4.23"}
//
// Errors (bad flags, a storage failure, an entry applied out of order or
// with the wrong size) go to stderr with exit status 1 (2 for bad flags).
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"math"
	"os"
	"runtime"
	"sort"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.etcd.io/etcd/version"
)

func newStderrLog() *log.Logger { return log.New(os.Stderr, "raft ", log.LstdFlags) }

// result is the JSON line of a case; the fields up to max_us are the ones
// the comparison reads, the rest are for diagnosis.
type result struct {
	Impl        string  `json:"impl"`
	Nodes       int     `json:"nodes"`
	EntryBytes  int     `json:"entry_bytes"`
	Storage     string  `json:"storage"`
	Window      int     `json:"window"`
	Seconds     float64 `json:"seconds"`
	Committed   uint64  `json:"committed"`
	EntriesPerS float64 `json:"entries_per_s"`
	P50Us       float64 `json:"p50_us"`
	P99Us       float64 `json:"p99_us"`
	MaxUs       float64 `json:"max_us"`
	Readies     uint64  `json:"readies"`
	WALFsyncs   uint64  `json:"wal_fsyncs"`
	Compactions uint64  `json:"compactions"`
	WarmupS     float64 `json:"warmup_s"`
	EtcdVersion string  `json:"etcd_version"`
	GoVersion   string  `json:"go_version"`
}

// quantileNs is the q-quantile (0..1) of v by nearest rank, as
// bench/raft_cluster.h's Quantile; v must be sorted. 0 if empty.
func quantileNs(v []int64, q float64) int64 {
	if len(v) == 0 {
		return 0
	}
	k := int(math.Max(1, math.Ceil(q*float64(len(v))))) - 1
	if k >= len(v) {
		k = len(v) - 1
	}
	return v[k]
}

// walFsyncs is the number of fdatasyncs (and directory fsyncs at segment
// cuts) the WAL has timed so far, read from its Prometheus histogram
// etcd_disk_wal_fsync_duration_seconds.
func walFsyncs() uint64 {
	families, err := prometheus.DefaultGatherer.Gather()
	if err != nil {
		return 0
	}
	for _, f := range families {
		if f.GetName() == "etcd_disk_wal_fsync_duration_seconds" {
			for _, m := range f.GetMetric() {
				return m.GetHistogram().GetSampleCount()
			}
		}
	}
	return 0
}

func round1(x float64) float64 { return math.Round(x*10) / 10 }

// run builds a cluster, warms it up (until the leader's first compaction
// or for warmup, whichever comes first), then drives it for `seconds` and
// measures.
func run(opt clusterOptions, seconds, warmup time.Duration) (result, error) {
	c, err := startCluster(opt)
	if err != nil {
		return result{}, err
	}
	defer c.close()

	warmStart := time.Now()
	for c.c.compactions == 0 && time.Since(warmStart) < warmup {
		if err := c.step(); err != nil {
			return result{}, err
		}
	}
	warmupS := time.Since(warmStart).Seconds()

	// Measure: entries the leader sees committed from here on (some were
	// proposed during the warm-up: the window stays full across the line).
	c.c = counters{latenciesNs: make([]int64, 0, 1<<20)}
	fsyncsBefore := walFsyncs()
	start := time.Now()
	deadline := start.Add(seconds)
	var now time.Time
	for {
		if err := c.step(); err != nil {
			return result{}, err
		}
		if now = time.Now(); !now.Before(deadline) {
			break
		}
	}
	elapsed := now.Sub(start).Seconds()
	fsyncs := walFsyncs() - fsyncsBefore

	lat := c.c.latenciesNs
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	us := func(ns int64) float64 { return round1(float64(ns) / 1e3) }
	r := result{
		Impl:        "etcd",
		Nodes:       opt.nodes,
		EntryBytes:  opt.entryBytes,
		Storage:     opt.storage,
		Window:      opt.window,
		Seconds:     math.Round(elapsed*1000) / 1000,
		Committed:   c.c.committed,
		EntriesPerS: round1(float64(c.c.committed) / elapsed),
		P50Us:       us(quantileNs(lat, 0.50)),
		P99Us:       us(quantileNs(lat, 0.99)),
		Readies:     c.c.readies,
		WALFsyncs:   fsyncs,
		Compactions: c.c.compactions,
		WarmupS:     math.Round(warmupS*1000) / 1000,
		EtcdVersion: version.Version,
		GoVersion:   runtime.Version(),
	}
	if len(lat) > 0 {
		r.MaxUs = us(lat[len(lat)-1])
	}
	return r, nil
}

func main() {
	storage := flag.String("storage", storageMemory, "memory, wal_sync or wal_nosync")
	nodes := flag.Int("nodes", 3, "cluster size")
	entryBytes := flag.Int("entry-bytes", 1024, "bytes per proposal (>= 16)")
	window := flag.Int("window", 256, "proposals the leader keeps in flight")
	seconds := flag.Float64("seconds", 10, "measured time")
	warmup := flag.Float64("warmup", 3, "warm-up: until the leader's first compaction, at most this many seconds")
	compactEvery := flag.Uint64("compact-every", 100000, "a node snapshots and compacts after this many applied entries")
	keep := flag.Uint64("keep", 5000, "entries kept below the snapshot index at compaction")
	pool := flag.Int("pool", 1024, "prepared payload buffers")
	defaultDir := os.Getenv("RAFTLOG_BENCH_DIR")
	if defaultDir == "" {
		defaultDir = "/tmp"
	}
	dir := flag.String("dir", defaultDir, "the WAL storages: nodes log under a fresh directory here (removed afterwards)")
	flag.Parse()
	if flag.NArg() != 0 || *seconds <= 0 || *warmup < 0 {
		fmt.Fprintln(os.Stderr, "etcd_raft_bench: bad arguments (see -h)")
		os.Exit(2)
	}

	opt := clusterOptions{
		storage:      *storage,
		nodes:        *nodes,
		entryBytes:   *entryBytes,
		window:       *window,
		compactEvery: *compactEvery,
		keepEntries:  *keep,
		poolSize:     *pool,
	}
	if opt.storage != storageMemory {
		tmp, err := os.MkdirTemp(*dir, "etcd-bench-"+opt.storage+"-")
		if err != nil {
			fmt.Fprintf(os.Stderr, "etcd_raft_bench: %v\n", err)
			os.Exit(1)
		}
		defer os.RemoveAll(tmp)
		opt.dir = tmp
	}
	r, err := run(opt, time.Duration(*seconds*float64(time.Second)), time.Duration(*warmup*float64(time.Second)))
	if err != nil {
		fmt.Fprintf(os.Stderr, "etcd_raft_bench: %s/%d/%d: %v\n", opt.storage, opt.nodes, opt.entryBytes, err)
		if opt.dir != "" {
			os.RemoveAll(opt.dir)
		}
		os.Exit(1)
	}
	line, _ := json.Marshal(r)
	fmt.Println(string(line))
}
