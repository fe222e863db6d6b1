// The storages under the raft core: an in-process cluster of 1 or 3
// RawNodes (bench/raft_cluster.h) whose leader proposes rounds of entries,
// every node persisting each Ready to its backend:
//
//   BM_RaftCluster/<backend>/<nodes>/<bytes>/<batch>
//       backend: memory (MemoryStorage), disk/sync (DiskStorage, default
//       options), disk/nosync (DiskStorage, SyncPolicy::kNever), lmdb/sync (the
//       one-key-per-entry LMDB log of bench/lmdb_baseline.h).
//       One iteration is one round: <batch> proposals of <bytes> bytes on the
//       leader, run until the whole cluster is quiet (persisted, replicated,
//       committed, applied everywhere).
//
// Items are committed entries (so items_per_second is committed entries/s),
// bytes their data. Counters: p50_us, p99_us and max_us, the commit latency
// of a proposal (Propose() -> applied on the leader) over the run;
// fsyncs_per_round (segment fdatasyncs of all nodes per round) and
// meta_commits_per_round (LMDB) for DiskStorage; step_us, ready_us, save_us,
// apply_us and save_stalled_us, where a round's time went (Cluster::PhaseTimes,
// microseconds per round summed over the nodes), and readies_per_round.
//
// Each case runs a fixed minimum time (kMinTimeSeconds) on a cluster built
// and warmed up once per case (not timed; see RaftCluster); logs are
// compacted, with the timer paused, after every 16 MiB of applied data.
// Everything runs on one thread, so the nodes' fsyncs of a round are
// serialized (see raft_cluster.h).
//
// Windowed mode (bench/raft_window_cluster.h), the workload of the etcd raft
// peer in bench/etcd, one case per run, one JSON line on stdout in the peer's
// format ("impl":"raftlog"; storage memory, disk_sync or disk_nosync, the
// counterparts of the peer's memory, wal_sync and wal_nosync; disk_pipelined
// is DiskStorage with sync under asynchronous storage writes, a LogWriter
// thread per node group-committing the appends, also against wal_sync;
// disk_pipelined_nosync the same without sync, against wal_nosync):
//
//   raft_cluster_bench --windowed --storage=memory --nodes=3 --entry-bytes=1024
//       [--window=256] [--seconds=10] [--warmup=3] [--compact-every=100000]
//       [--keep=5000] [--pool=1024] [--payload=etcd|json|random]
//       [--compression=off|cold|frames] [--recycled-segments=N]
//
// --payload fills each entry after its tag with a slice of that payload
// kind's corpus (bench/payload_gen.h) instead of the peer's xorshift bytes;
// --compression sets the disk logs' Options::compression_mode (kOff,
// kColdSegments: the background cold-segment worker, kEveryFrame). The
// JSON line then also names them and counts the segments the cold workers
// compressed during the measured run (cold_segments, cold_mb_saved).
//
// It warms up until the leader's first compaction or for --warmup seconds,
// whichever comes first, then measures for --seconds. With sync (disk_sync,
// disk_pipelined) it then measures the disk's limit for the same work: for
// each node at once, a thread pwrites the frame bytes that node wrote, in as
// many fdatasync'ed chunks as its segment fdatasyncs, into a pre-zeroed file
// of its own (raw_disk_s; vs_raw_disk = raw_disk_s / seconds, 1.0 meaning
// the disk's pace; --raw-disk=0 skips it). Errors go to stderr
// with exit status 1 (2 for bad arguments). scripts/cluster_vs_etcd.sh runs
// it beside the peer.

#include <benchmark/benchmark.h>

#include <malloc.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "bench/bench_util.h"
#include "bench/raft_cluster.h"
#include "bench/raft_window_cluster.h"

namespace raftlog::bench {
namespace {

constexpr double kMinTimeSeconds = 0.5;
// Entry data applied between compactions: small, so that the warm-up reaches
// the steady state quickly and memory stays bounded.
constexpr uint64_t kCompactEveryBytes = 16u << 20;

struct ClusterSetup {
  std::unique_ptr<TempDir> dir;  // declared first: removed after the cluster closes
  std::unique_ptr<Cluster> cluster;
};

void RaftCluster(benchmark::State& state, const std::string& key, ClusterOptions options) {
  auto& s = Setups().Get<ClusterSetup>(key, [&] {
    auto setup = std::make_unique<ClusterSetup>();
    if (options.backend != Backend::kMemory) {
      setup->dir = std::make_unique<TempDir>("cluster");
      options.dir = setup->dir->path();
    }
    setup->cluster = CheckOk(Cluster::Start(options), "Cluster::Start");
    // A new log's preallocator starts writing a spare segment at once: let
    // it finish before timing.
    for (int id = 1; id <= setup->cluster->size(); ++id) {
      if (const engine::DiskStorage* d = setup->cluster->disk(id)) {
        WaitForSpareSegments(setup->cluster->node_dir(id), d->engine().GetStats().segments);
      }
    }
    // Warm up (untimed): rounds until the second compaction or for 3 s,
    // whichever comes first, so that MemoryStorage (and the raft core's
    // buffers) reuse heap memory the process already has, as in a
    // long-running node, rather than faulting in fresh pages (which costs
    // more than the copies themselves, on this VM especially).
    const auto warm_until = std::chrono::steady_clock::now() + std::chrono::seconds(3);
    for (int compactions = 0; compactions < 2 && std::chrono::steady_clock::now() < warm_until;) {
      CheckOk(setup->cluster->Round(nullptr), "Cluster::Round");
      if (setup->cluster->CompactionDue()) {
        CheckOk(setup->cluster->Compact(), "Cluster::Compact");
        ++compactions;
      }
    }
    return setup;
  });
  Cluster& cluster = *s.cluster;
  std::vector<double> latencies;
  const Cluster::SyncCounts before = cluster.Syncs();
  const Cluster::PhaseTimes phases_before = cluster.phases();
  for (auto _ : state) {
    CheckOk(cluster.Round(&latencies), "Cluster::Round");
    if (cluster.CompactionDue()) {
      state.PauseTiming();
      CheckOk(cluster.Compact(), "Cluster::Compact");
      state.ResumeTiming();
    }
  }
  const Cluster::SyncCounts after = cluster.Syncs();
  SetThroughput(state, options.batch, options.entry_bytes);
  const double rounds = static_cast<double>(state.iterations());
  state.counters["p50_us"] = Value(Quantile(&latencies, 0.50) * 1e6);
  state.counters["p99_us"] = Value(Quantile(&latencies, 0.99) * 1e6);
  state.counters["max_us"] =
      Value(latencies.empty() ? 0 : *std::max_element(latencies.begin(), latencies.end()) * 1e6);
  // Where a round's time went, summed over the nodes (raft_cluster.h
  // PhaseTimes), in microseconds per round.
  const Cluster::PhaseTimes& ph = cluster.phases();
  if (rounds > 0) {
    state.counters["step_us"] = Value((ph.step - phases_before.step) * 1e6 / rounds);
    state.counters["ready_us"] = Value((ph.ready - phases_before.ready) * 1e6 / rounds);
    state.counters["save_us"] = Value((ph.save - phases_before.save) * 1e6 / rounds);
    state.counters["apply_us"] = Value((ph.apply - phases_before.apply) * 1e6 / rounds);
    state.counters["save_stalled_us"] =
        Value((ph.save_stalled - phases_before.save_stalled) * 1e6 / rounds);
    state.counters["readies_per_round"] =
        Value(static_cast<double>(ph.readies - phases_before.readies) / rounds);
  }
  if (IsDisk(options.backend) && rounds > 0) {
    state.counters["fsyncs_per_round"] =
        Value(static_cast<double>(after.log_syncs - before.log_syncs) / rounds);
    state.counters["meta_commits_per_round"] =
        Value(static_cast<double>(after.meta_commits - before.meta_commits) / rounds);
  }
}

// --payload=random|etcd|json: the entry data of the BM_RaftCluster cases
// (default: bench_util.h's text corpus). The windowed mode keeps its own.
std::optional<PayloadKind> g_payload;

void Register(Backend backend, int nodes, size_t bytes, size_t batch) {
  ClusterOptions options;
  options.payload = g_payload;
  options.backend = backend;
  options.nodes = nodes;
  options.entry_bytes = bytes;
  options.batch = batch;
  options.compact_every_bytes = kCompactEveryBytes;
  const std::string name = BenchName("BM_RaftCluster/" + std::string(BackendName(backend)),
                                     {static_cast<uint64_t>(nodes), bytes, batch});
  benchmark::RegisterBenchmark(name.c_str(),
                               [=](benchmark::State& st) { RaftCluster(st, name, options); })
      ->UseRealTime()
      ->MinTime(kMinTimeSeconds);
}

void RegisterAll() {
  const Backend all[] = {Backend::kMemory, Backend::kDiskSync, Backend::kDiskNoSync,
                         Backend::kLmdbSync};
  // The headline shape: 1 KiB entries, 64 proposals per round.
  for (int nodes : {1, 3}) {
    for (Backend b : all) Register(b, nodes, 1024, 64);
  }
  // Entry size and batch sweeps on 3 nodes (the report's charts).
  for (Backend b : {Backend::kMemory, Backend::kDiskSync, Backend::kDiskNoSync}) {
    for (size_t bytes : {128, 16384}) Register(b, 3, bytes, 64);
    for (size_t batch : {1, 256}) Register(b, 3, 1024, batch);
  }
}

// --- windowed mode --------------------------------------------------------------

struct WindowArgs {
  WindowOptions options;
  std::string storage = "memory";
  double seconds = 10;
  double warmup = 3;
  bool raw_disk = true;  // with sync: time the same bytes and fdatasyncs on the raw disk
  std::string payload = "xorshift";
  std::string compression = "off";
};

// Parses --name=value flags; false (with a message) on anything else.
bool ParseWindowArgs(int argc, char** argv, WindowArgs* a) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--windowed") continue;
    const size_t eq = arg.find('=');
    if (arg.rfind("--", 0) != 0 || eq == std::string::npos) {
      std::fprintf(stderr, "raft_cluster_bench: bad argument '%s' (--name=value)\n", arg.c_str());
      return false;
    }
    const std::string name = arg.substr(2, eq - 2);
    const std::string value = arg.substr(eq + 1);
    char* end = nullptr;
    const double v = std::strtod(value.c_str(), &end);
    const bool number = !value.empty() && end != nullptr && *end == '\0' && v >= 0;
    if (name == "storage") {
      a->storage = value;
    } else if (name == "payload") {
      a->payload = value;
      a->options.payload = ParsePayloadKind(value);
      if (!a->options.payload.has_value()) {
        std::fprintf(stderr, "raft_cluster_bench: --payload is etcd, json or random\n");
        return false;
      }
    } else if (name == "compression") {
      a->compression = value;
      if (value == "off") {
        a->options.compression = engine::CompressionMode::kOff;
      } else if (value == "cold") {
        a->options.compression = engine::CompressionMode::kColdSegments;
      } else if (value == "frames") {
        a->options.compression = engine::CompressionMode::kEveryFrame;
      } else {
        std::fprintf(stderr, "raft_cluster_bench: --compression is off, cold or frames\n");
        return false;
      }
    } else if (!number) {
      std::fprintf(stderr, "raft_cluster_bench: --%s needs a number >= 0\n", name.c_str());
      return false;
    } else if (name == "nodes") {
      a->options.nodes = static_cast<int>(v);
    } else if (name == "entry-bytes") {
      a->options.entry_bytes = static_cast<size_t>(v);
    } else if (name == "window") {
      a->options.window = static_cast<size_t>(v);
    } else if (name == "seconds") {
      a->seconds = v;
    } else if (name == "warmup") {
      a->warmup = v;
    } else if (name == "compact-every") {
      a->options.compact_every = static_cast<uint64_t>(v);
    } else if (name == "keep") {
      a->options.keep_entries = static_cast<uint64_t>(v);
    } else if (name == "pool") {
      a->options.pool_size = static_cast<size_t>(v);
    } else if (name == "recycled-segments") {
      a->options.recycled_segments = static_cast<int>(v);
    } else if (name == "raw-disk") {
      a->raw_disk = v != 0;
    } else {
      std::fprintf(stderr, "raft_cluster_bench: unknown flag --%s\n", name.c_str());
      return false;
    }
  }
  if (a->storage == "memory") {
    a->options.backend = Backend::kMemory;
  } else if (a->storage == "disk_sync") {
    a->options.backend = Backend::kDiskSync;
  } else if (a->storage == "disk_pipelined") {
    a->options.backend = Backend::kDiskSync;
    a->options.pipelined = true;
  } else if (a->storage == "disk_nosync") {
    a->options.backend = Backend::kDiskNoSync;
  } else if (a->storage == "disk_pipelined_nosync") {
    a->options.backend = Backend::kDiskNoSync;
    a->options.pipelined = true;
  } else {
    std::fprintf(stderr,
                 "raft_cluster_bench: --storage is memory, disk_sync, disk_pipelined, "
                 "disk_nosync or disk_pipelined_nosync\n");
    return false;
  }
  if (a->seconds <= 0) {
    std::fprintf(stderr, "raft_cluster_bench: --seconds must be > 0\n");
    return false;
  }
  return true;
}

double Round1(double x) { return std::round(x * 10) / 10; }

// The nearest-rank q-quantile of sorted v (the peer's quantileNs); 0 if empty.
int64_t QuantileNs(const std::vector<int64_t>& v, double q) {
  if (v.empty()) return 0;
  const double rank = std::max(1.0, std::ceil(q * static_cast<double>(v.size())));
  return v[std::min(static_cast<size_t>(rank) - 1, v.size() - 1)];
}

// The disk's limit for a run's work: for each node, on a thread of its own
// and all at once, the node's bytes pwritten in as many chunks as its
// syncs, each chunk fdatasync'ed, into a pre-zeroed file in `dir` (up to
// 128 MiB, wrapping; zero-filled and synced before the clock starts).
// Seconds until the last thread is done (0 if there was nothing to write),
// and the p99 and max of one chunk's pwrite + fdatasync: how much the disk
// itself varies, against which to read the run's commit latencies.
struct RawDisk {
  double seconds = 0;
  int64_t write_p99_ns = 0;
  int64_t write_max_ns = 0;
};

RawDisk RawDiskRun(const std::string& dir, const std::vector<WindowCluster::LogWork>& work) {
  std::vector<std::unique_ptr<ZeroedFile>> files;
  std::vector<std::unique_ptr<RawWriter>> writers;
  std::vector<uint64_t> syncs;
  for (size_t k = 0; k < work.size(); ++k) {
    if (work[k].bytes == 0 || work[k].syncs == 0) continue;
    const uint64_t chunk = std::max<uint64_t>(1, work[k].bytes / work[k].syncs);
    const uint64_t size = std::max<uint64_t>(chunk, std::min<uint64_t>(work[k].bytes, 128u << 20));
    files.push_back(std::make_unique<ZeroedFile>(dir + "/raw-disk-" + std::to_string(k), size));
    writers.push_back(
        std::make_unique<RawWriter>(files.back().get(), std::string(static_cast<size_t>(chunk), 'r')));
    syncs.push_back(work[k].syncs);
  }
  if (writers.empty()) return {};
  std::vector<std::vector<int64_t>> times(writers.size());
  for (size_t k = 0; k < writers.size(); ++k) times[k].reserve(syncs[k]);
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (size_t k = 0; k < writers.size(); ++k) {
    threads.emplace_back([&, k] {
      for (uint64_t i = 0; i < syncs[k]; ++i) {
        const auto t0 = std::chrono::steady_clock::now();
        writers[k]->Write(true);
        times[k].push_back(
            std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0)
                .count());
      }
    });
  }
  for (std::thread& t : threads) t.join();
  RawDisk raw;
  raw.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::vector<int64_t> all;
  for (const auto& t : times) all.insert(all.end(), t.begin(), t.end());
  std::sort(all.begin(), all.end());
  raw.write_p99_ns = QuantileNs(all, 0.99);
  raw.write_max_ns = all.empty() ? 0 : all.back();
  return raw;
}

int RunWindowed(int argc, char** argv) {
  WindowArgs a;
  if (!ParseWindowArgs(argc, argv, &a)) return 2;
  using Clock = std::chrono::steady_clock;
  std::unique_ptr<TempDir> dir;  // declared first: removed after the cluster closes
  if (a.options.backend != Backend::kMemory) {
    dir = std::make_unique<TempDir>("window-" + a.storage);
    a.options.dir = dir->path();
  }
  const std::string where = a.storage + "/" + std::to_string(a.options.nodes) + "/" +
                            std::to_string(a.options.entry_bytes);
  Result<std::unique_ptr<WindowCluster>> started = WindowCluster::Start(a.options);
  if (!started.ok()) {
    std::fprintf(stderr, "raft_cluster_bench: %s: %s\n", where.c_str(),
                 started.status().ToString().c_str());
    return 1;
  }
  WindowCluster& c = **started;
  // A new log's preallocator starts writing a spare segment at once.
  for (int id = 1; id <= c.size(); ++id) {
    if (const engine::DiskStorage* d = c.disk(id)) {
      WaitForSpareSegments(c.node_dir(id), d->engine().GetStats().segments);
    }
  }
  auto fail = [&](const Status& s) {
    std::fprintf(stderr, "raft_cluster_bench: %s: %s\n", where.c_str(), s.ToString().c_str());
    return 1;
  };
  const auto warm_start = Clock::now();
  const auto warm_until = warm_start + std::chrono::duration<double>(a.warmup);
  while (c.counters().compactions == 0 && Clock::now() < warm_until) {
    if (Status s = c.Step(); !s.ok()) return fail(s);
  }
  const double warmup_s = std::chrono::duration<double>(Clock::now() - warm_start).count();

  // Measure: entries the leader sees committed from here on (the window
  // stays full across the line).
  c.ResetCounters();
  const uint64_t syncs_before = c.LogSyncs();
  const WindowCluster::ColdWork cold_before = c.ColdWorkDone();
  // The leader's waits for seals and spares during the run (their longest
  // waits are since open, warm-up included).
  const engine::Stats stats_before =
      c.disk(1) != nullptr ? c.disk(1)->engine().GetStats() : engine::Stats{};
  std::vector<WindowCluster::LogWork> work = c.LogWorkByNode();
  const auto start = Clock::now();
  const auto deadline = start + std::chrono::duration<double>(a.seconds);
  Clock::time_point now;
  for (;;) {
    if (Status s = c.Step(); !s.ok()) return fail(s);
    if ((now = Clock::now()) >= deadline) break;
  }
  const double elapsed = std::chrono::duration<double>(now - start).count();
  const uint64_t run_syncs = c.LogSyncs() - syncs_before;
  const WindowCluster::ColdWork cold_after = c.ColdWorkDone();
  uint64_t run_bytes = 0;
  double storage_s = 0;  // the busiest node's time persisting
  const std::vector<WindowCluster::LogWork> work_after = c.LogWorkByNode();
  for (size_t n = 0; n < work.size(); ++n) {
    work[n] = {work_after[n].bytes - work[n].bytes, work_after[n].syncs - work[n].syncs,
               work_after[n].busy_ns - work[n].busy_ns};
    run_bytes += work[n].bytes;
    storage_s = std::max(storage_s, static_cast<double>(work[n].busy_ns) / 1e9);
  }
  const RawDisk raw = a.raw_disk && a.options.backend == Backend::kDiskSync
                         ? RawDiskRun(a.options.dir, work)
                         : RawDisk{};
  const double raw_s = raw.seconds;
  WindowCluster::Counters& k = c.counters();
  // How the leader's spare segments were made, since open (warm-up included).
  const engine::Stats spares =
      c.disk(1) != nullptr ? c.disk(1)->engine().GetStats() : engine::Stats{};
  std::sort(k.latencies_ns.begin(), k.latencies_ns.end());
  auto us = [](int64_t ns) { return Round1(static_cast<double>(ns) / 1e3); };
  std::printf(
      "{\"impl\":\"raftlog\",\"nodes\":%d,\"entry_bytes\":%zu,\"storage\":\"%s\","
      "\"window\":%zu,\"seconds\":%.3f,\"committed\":%llu,\"entries_per_s\":%.1f,"
      "\"p50_us\":%.1f,\"p99_us\":%.1f,\"p999_us\":%.1f,\"max_us\":%.1f,\"readies\":%llu,"
      "\"log_fsyncs\":%llu,\"log_bytes\":%llu,\"raw_disk_s\":%.3f,\"vs_raw_disk\":%.3f,"
      "\"storage_s\":%.3f,\"raw_vs_storage\":%.3f,"
      "\"compactions\":%llu,\"snapshots_installed\":%llu,\"warmup_s\":%.3f,"
      "\"payload\":\"%s\",\"compression\":\"%s\",\"cold_segments\":%llu,"
      "\"cold_mb_saved\":%.1f,"
      "\"leader_spares\":{\"recycled\":%llu,\"fallocated\":%llu,\"zero_filled\":%llu},"
      "\"stalls_ms\":{\"save_max\":%.1f,\"compact_max\":%.1f,\"compact_total\":%.1f,"
      "\"snapshot_max\":%.1f,\"truncate_max\":%.1f,"
      "\"leader_seal_waits\":%llu,\"leader_seal_wait_max\":%.1f,\"leader_spare_waits\":%llu,"
      "\"leader_spare_wait_max\":%.1f,\"leader_write_max\":%.1f,\"leader_sync_max\":%.1f,"
      "\"raw_write_p99\":%.2f,\"raw_write_max\":%.1f}}\n",
      a.options.nodes, a.options.entry_bytes, a.storage.c_str(), a.options.window, elapsed,
      static_cast<unsigned long long>(k.committed),
      Round1(static_cast<double>(k.committed) / elapsed), us(QuantileNs(k.latencies_ns, 0.50)),
      us(QuantileNs(k.latencies_ns, 0.99)), us(QuantileNs(k.latencies_ns, 0.999)),
      us(k.latencies_ns.empty() ? 0 : k.latencies_ns.back()),
      static_cast<unsigned long long>(k.readies),
      static_cast<unsigned long long>(run_syncs), static_cast<unsigned long long>(run_bytes),
      raw_s, raw_s > 0 ? raw_s / elapsed : 0.0, storage_s,
      raw_s > 0 && storage_s > 0 ? raw_s / storage_s : 0.0,
      static_cast<unsigned long long>(k.compactions),
      static_cast<unsigned long long>(k.snapshots_installed), warmup_s, a.payload.c_str(),
      a.compression.c_str(), static_cast<unsigned long long>(cold_after.segments - cold_before.segments),
      static_cast<double>(cold_after.bytes_saved - cold_before.bytes_saved) / 1e6,
      static_cast<unsigned long long>(spares.segments_recycled),
      static_cast<unsigned long long>(spares.segments_prepared - spares.segments_zero_filled),
      static_cast<unsigned long long>(spares.segments_zero_filled),
      static_cast<double>(k.save_max_ns) / 1e6, static_cast<double>(k.compact_max_ns) / 1e6,
      static_cast<double>(k.compact_ns) / 1e6, static_cast<double>(k.snapshot_max_ns) / 1e6,
      static_cast<double>(k.truncate_max_ns) / 1e6,
      static_cast<unsigned long long>(spares.seal_waits - stats_before.seal_waits),
      static_cast<double>(spares.seal_wait_max_us) / 1e3,
      static_cast<unsigned long long>(spares.spare_waits - stats_before.spare_waits),
      static_cast<double>(spares.spare_wait_max_us) / 1e3,
      static_cast<double>(spares.write_max_us) / 1e3,
      static_cast<double>(spares.log_sync_max_us) / 1e3,
      static_cast<double>(raw.write_p99_ns) / 1e6, static_cast<double>(raw.write_max_ns) / 1e6);
  std::fflush(stdout);
  return 0;
}

}  // namespace
}  // namespace raftlog::bench

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--windowed") == 0) {
      // The allocator settings of BenchMain: freed memory stays in the heap.
      ::mallopt(M_TRIM_THRESHOLD, 1 << 30);
      ::mallopt(M_MMAP_THRESHOLD, 64 << 20);
      return raftlog::bench::RunWindowed(argc, argv);
    }
  }
  if (!raftlog::bench::TakePayloadFlag(&argc, argv, &raftlog::bench::g_payload)) return 2;
  return raftlog::bench::BenchMain(argc, argv, raftlog::bench::RegisterAll, [] {});
}
