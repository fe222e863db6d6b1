// Latency of log maintenance (for docs/benchmarks.md), DiskStorage against
// MemoryStorage:
//
//   BM_DiskCompact/<bytes>/<step>, BM_MemoryCompact/<bytes>/<step>
//       Compact(first + step - 1) again and again on a log of 256 MiB of
//       <bytes>-byte entries (appended 256 per batch, default 64 MiB
//       segments): one LMDB commit each, plus a segment file deletion each
//       time a whole segment falls below the compaction point (every
//       ~64 MiB / (step x bytes) calls). Fixed 200 iterations. Items are calls.
//   BM_DiskApplySnapshot/<data_bytes>, BM_MemoryApplySnapshot/<data_bytes>
//       ApplySnapshot of a snapshot of that many data bytes onto a log of
//       256 entries of 1 KiB (re-appended, timer paused, before every call):
//       snapshot file written and synced, one LMDB commit, segment files
//       removed. Options::segment_bytes = 1 MiB here, so the preallocator
//       can re-prepare the segment the next append takes quickly (it is
//       waited for with the timer paused). Fixed 16 iterations.

#include <benchmark/benchmark.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "bench/bench_util.h"
#include "raftlog/engine/options.h"
#include "raftlog/engine/disk_storage.h"
#include "raftlog/raft/memory_storage.h"
#include "raftlog/raft/storage.h"
#include "raftlog/raft/types.h"

namespace raftlog::bench {
namespace {

constexpr uint64_t kSeed = 20240603;
constexpr uint64_t kCompactLogBytes = 256u << 20;
constexpr size_t kBatch = 256;

const PayloadSource& Source() {
  static const PayloadSource* random = new PayloadSource(Payload::kRandom, kSeed);
  return *random;
}

// Appends `count` entries from *next without sync (Save with must_sync off).
void Fill(raft::WritableStorage* storage, uint64_t* next, uint64_t count, size_t bytes) {
  for (uint64_t done = 0; done < count; done += kBatch) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(kBatch, count - done));
    std::vector<raft::Entry> entries = MakeEntries(Source(), bytes, n, *next, 1, *next);
    CheckOk(storage->Save(raft::HardState{}, entries, nullptr, /*must_sync=*/false), "Save");
    *next += n;
  }
}

void Compact(benchmark::State& state, bool disk, size_t bytes, uint64_t step) {
  TempDir dir("compact");
  std::unique_ptr<raft::WritableStorage> storage;
  if (disk) {
    storage = CheckOk(engine::DiskStorage::Open(dir.Sub("log")), "DiskStorage::Open");
  } else {
    storage = std::make_unique<raft::MemoryStorage>();
  }
  uint64_t next = 1;
  Fill(storage.get(), &next, kCompactLogBytes / bytes, bytes);
  if (disk) {
    auto* d = static_cast<engine::DiskStorage*>(storage.get());
    WaitForSpareSegments(dir.Sub("log"), d->engine().GetStats().segments);
    SyncFiles(dir.path(), /*drop=*/false);  // no writeback of the fill while timing
  }
  uint64_t compact_index = 0;
  for (auto _ : state) {
    compact_index += step;
    CheckOk(storage->Compact(compact_index), "Compact");
  }
  RAFTLOG_CHECK(compact_index < next);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  if (disk) {
    auto* d = static_cast<engine::DiskStorage*>(storage.get());
    state.counters["segments_left"] = Value(static_cast<double>(d->engine().GetStats().segments));
  }
}

void ApplySnapshot(benchmark::State& state, bool disk, size_t data_bytes) {
  TempDir dir("snapshot");
  std::unique_ptr<raft::WritableStorage> storage;
  if (disk) {
    engine::DiskStorageOptions options;
    options.engine.segment_bytes = 1u << 20;
    // Compaction and snapshot costs alone, without the cold worker's.
    options.engine.compression_mode = engine::CompressionMode::kOff;
    storage = CheckOk(engine::DiskStorage::Open(dir.Sub("log"), options), "DiskStorage::Open");
  } else {
    storage = std::make_unique<raft::MemoryStorage>();
  }
  raft::Snapshot snap;
  snap.data = std::string(Source().Slice(0, data_bytes));
  snap.metadata.term = 1;
  snap.metadata.conf_state.voters = {1, 2, 3};
  uint64_t next = 1;
  for (auto _ : state) {
    state.PauseTiming();
    Fill(storage.get(), &next, 256, 1024);
    if (disk) {
      auto* d = static_cast<engine::DiskStorage*>(storage.get());
      WaitForSpareSegments(dir.Sub("log"), d->engine().GetStats().segments);
      SyncFiles(dir.path(), /*drop=*/false);
    }
    snap.metadata.index = next + 1000;  // ahead of the log, as from a leader
    next = snap.metadata.index + 1;
    state.ResumeTiming();
    CheckOk(storage->ApplySnapshot(snap), "ApplySnapshot");
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * data_bytes));
}

void RegisterAll() {
  for (bool disk : {true, false}) {
    const std::string prefix = disk ? "BM_Disk" : "BM_Memory";
    benchmark::RegisterBenchmark(BenchName(prefix + "Compact", {1024, 1024}).c_str(),
                                 [=](benchmark::State& st) { Compact(st, disk, 1024, 1024); })
        ->Iterations(200)
        ->UseRealTime()
        ->Unit(benchmark::kMicrosecond);
  }
  for (size_t data_bytes : {4096, 1 << 20}) {
    for (bool disk : {true, false}) {
      const std::string prefix = disk ? "BM_Disk" : "BM_Memory";
      benchmark::RegisterBenchmark(
          BenchName(prefix + "ApplySnapshot", {data_bytes}).c_str(),
          [=](benchmark::State& st) { ApplySnapshot(st, disk, data_bytes); })
          ->Iterations(16)
          ->UseRealTime()
          ->Unit(benchmark::kMicrosecond);
    }
  }
}

}  // namespace
}  // namespace raftlog::bench

int main(int argc, char** argv) {
  return raftlog::bench::BenchMain(argc, argv, raftlog::bench::RegisterAll, [] {});
}
