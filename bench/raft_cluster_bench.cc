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

#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "bench/bench_util.h"
#include "bench/raft_cluster.h"

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

void Register(Backend backend, int nodes, size_t bytes, size_t batch) {
  ClusterOptions options;
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

}  // namespace
}  // namespace raftlog::bench

int main(int argc, char** argv) {
  return raftlog::bench::BenchMain(argc, argv, raftlog::bench::RegisterAll, [] {});
}
