// Append throughput (the append targets of docs/benchmarks.md), everything side by side in
// one run on one disk:
//
//   BM_RawPwriteFdatasync/<bytes>/<batch>   the disk's limit: pwrite of exactly
//       the bytes the engine writes per batch (bench_util.h EngineBatchBytes:
//       frame headers, entry table and padding included) at increasing offsets
//       of a pre-zeroed, synced 256 MiB file, wrapping, fdatasync per batch.
//   BM_DiskAppend/sync/<bytes>/<batch>      DiskStorage::Append, default options
//       (SyncPolicy::kAlways: one fdatasync per Append).
//   BM_EngineAppend/sync/<bytes>/<batch>    LogEngine::Append with sync: the
//       adapter's own cost is the difference to the line above.
//   BM_SyncAppendPaired/<bytes>/<batch>     the two lines above interleaved in
//       one loop, each timed alone: the ratio that cancels the drift of a
//       shared disk (counters disk_vs_raw, disk_/raw_items_per_second).
//       Where the engine's time goes: disk_roll_ms and disk_plain_ms, the
//       mean time of its appends that rolled a segment and of the others;
//       raw_ms, the mean raw write (pwrite + fdatasync); segments_fresh and
//       segments_recycled, the spares prepared during the run (from fresh
//       files or from compacted ones).
//   BM_SyncAppendPaired/fresh/<bytes>/<batch>  the same with
//       Options::recycled_segments = 0: every spare segment a fresh file, none
//       made from a compacted segment file (at these shapes fresh spares are
//       reserved with fallocate, not written with zeros: appends are large).
//   BM_MemoryAppend/<bytes>/<batch>         MemoryStorage::Append.
//   BM_DiskAppend/nosync/<bytes>/<batch>    DiskStorage::Save(empty HardState,
//       entries, no snapshot, must_sync=false): a raft Ready that needs no
//       sync, default options.
//   BM_DiskAppend/{sync,nosync}/zstd/<payload>/<bytes>/<batch>  the same with
//       Options::compression.enabled (zstd level 1, other fields default).
//   BM_ZstdMaybeCompress/<payload>/<bytes>/<batch>  format::Compressor::
//       MaybeCompress alone on the raw payload of the frame the engine builds
//       for that batch (the same bytes, same options).
//   BM_FrameBuild/<bytes>/<batch>  format::FrameBuilder::BuildEntries alone
//       on the batch, compression off: the entry table and the XXH3 pass over
//       the header and every payload byte, the CPU an append spends before
//       its write. Batches are prepared ahead and built in turn, up to 64 of
//       them or 64 MiB, so that large batches come from memory, not from the
//       caches (as a fresh batch of proposals does).
//
// Payloads are random bytes unless the name says "text" (bench_util.h), or
// --payload=etcd|json (bench/payload_gen.h) replaces the random bytes with
// slices of those payloads (--payload=random: the default).
// Runs without sync (and MemoryStorage and zstd alone, their counterparts)
// have a fixed minimum time of 0.1 s (the "min_time:0.100" in their names):
// they write into the page cache at up to 1 GB/s, and longer runs would only
// add writeback to a disk shared with others.
// Every batch is one Append call; items are entries, bytes their data bytes.
// Engine runs report fsyncs_per_append, bytes_per_append, meta_commits and
// segment_rolls from Stats (bench_util.h SetWriteCounters); runs without sync
// also report stall_share and max_call_us (StallMeter): how much of their
// time went to appends slower than 1 ms, i.e. to segment rolls.
// To bound disk and memory use, the log is compacted (timer paused) after each
// 256 MiB of appended data, as a raft log is after each snapshot; the
// engine's background segment preparation (reusing a compacted file, or
// writing zeros ahead of need) is *not* paused: it is part of its cost.

#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "bench/bench_util.h"
#include "bench/payload_gen.h"
#include "raftlog/engine/log_engine.h"
#include "raftlog/engine/options.h"
#include "raftlog/engine/disk_storage.h"
#include "raftlog/engine/stats.h"
#include "raftlog/format/compression.h"
#include "raftlog/format/record.h"
#include "raftlog/format/record_format.h"
#include "raftlog/raft/memory_storage.h"
#include "raftlog/raft/types.h"

namespace raftlog::bench {
namespace {

constexpr size_t kSizes[] = {128, 1024, 16384};
constexpr size_t kBatches[] = {1, 16, 256};
constexpr uint64_t kSeed = 20240603;
constexpr uint64_t kTerm = 7;
constexpr uint64_t kCompactEveryBytes = 256u << 20;

// --payload=random|etcd|json (payload_gen.h): replaces the random bytes of
// every benchmark below that uses them (the raw-disk baselines included).
std::optional<PayloadKind> g_payload;

const PayloadSource& Source(Payload kind) {
  static const PayloadSource* random =
      g_payload.has_value() ? new PayloadSource(PayloadCorpus(*g_payload,
                                                              PayloadSource::kCorpusBytes, kSeed))
                            : new PayloadSource(Payload::kRandom, kSeed);
  static const PayloadSource* text = new PayloadSource(Payload::kText, kSeed);
  return kind == Payload::kRandom ? *random : *text;
}

// --- the raw disk ------------------------------------------------------------

void RawPwriteFdatasync(benchmark::State& state, size_t bytes, size_t batch) {
  RawWriter raw(&RawFile(), RawBatch(Source(Payload::kRandom), bytes, batch,
                                     engine::Options{}.max_frame_bytes));
  for (auto _ : state) raw.Write();
  SetThroughput(state, batch, bytes);
  state.counters["bytes_per_append"] = Value(static_cast<double>(raw.bytes()));
  state.counters["fsyncs_per_append"] = Value(1);
}

// --- the engine ----------------------------------------------------------------

// What the timed loop appends to: DiskStorage (raft entries) or LogEngine
// (entry views). Both are opened in their own temp dir, warmed with one
// batch, and wait until the preallocator's first spare segment is ready.
class DiskTarget {
 public:
  DiskTarget(const engine::Options& options, std::vector<raft::Entry> batch)
      : dir_("disk"), batch_(std::move(batch)) {
    engine::DiskStorageOptions opts;
    opts.engine = options;
    storage_ = CheckOk(engine::DiskStorage::Open(dir_.Sub("log"), opts), "DiskStorage::Open");
  }
  std::string log_dir() const { return dir_.Sub("log"); }
  void AppendNext(bool sync) {
    Renumber(&batch_, next_index_);
    next_index_ += batch_.size();
    // Append is the synced path; Save with must_sync=false is how a raft
    // Ready that needs no sync reaches the storage.
    CheckOk(sync ? storage_->Append(batch_)
                 : storage_->Save(raft::HardState{}, batch_, nullptr, /*must_sync=*/false),
            "DiskStorage append");
  }
  void CompactToLast() { CheckOk(storage_->Compact(next_index_ - 1), "DiskStorage::Compact"); }
  engine::Stats GetStats() const { return storage_->engine().GetStats(); }

 private:
  TempDir dir_;
  std::vector<raft::Entry> batch_;
  uint64_t next_index_ = 1;
  std::unique_ptr<engine::DiskStorage> storage_;
};

class EngineTarget {
 public:
  EngineTarget(const engine::Options& options, std::vector<raft::Entry> batch)
      : dir_("engine"), batch_(std::move(batch)) {
    engine_ = CheckOk(engine::LogEngine::Open(dir_.Sub("log"), options), "LogEngine::Open");
    for (const raft::Entry& e : batch_) {
      views_.push_back(format::EntryView{e.index, e.term, 0, e.data});
    }
  }
  std::string log_dir() const { return dir_.Sub("log"); }
  void AppendNext(bool sync) {
    for (auto& v : views_) v.index = next_index_++;
    engine::AppendOptions options;
    options.sync = sync;
    CheckOk(engine_->Append(views_, options), "LogEngine::Append");
  }
  void CompactToLast() {
    CheckOk(engine_->TruncatePrefix(next_index_), "LogEngine::TruncatePrefix");
  }
  engine::Stats GetStats() const { return engine_->GetStats(); }

 private:
  TempDir dir_;
  std::vector<raft::Entry> batch_;  // owns the bytes views_ point to
  std::vector<format::EntryView> views_;
  uint64_t next_index_ = 1;
  std::unique_ptr<engine::LogEngine> engine_;
};

// The first append activates the log's first segment, and a new log's
// preallocator starts on a spare at once: let it finish before timing.
template <class Target>
void Warm(Target* target, bool sync) {
  target->AppendNext(sync);
  WaitForSpareSegments(target->log_dir(), target->GetStats().segments);
}

template <class Target>
void EngineAppend(benchmark::State& state, const std::string& key, const engine::Options& options,
                  Payload payload, size_t bytes, size_t batch, bool sync) {
  auto& setup = Setups().Get<Target>(key, [&] {
    auto target =
        std::make_unique<Target>(options, MakeEntries(Source(payload), bytes, batch, 1, kTerm));
    Warm(target.get(), sync);
    return target;
  });
  uint64_t since_compact = 0;
  const engine::Stats before = setup.GetStats();
  StallMeter stalls;
  for (auto _ : state) {
    if (sync) {
      setup.AppendNext(true);
    } else {
      stalls.Time([&] { setup.AppendNext(false); });
    }
    since_compact += batch * bytes;
    if (since_compact >= kCompactEveryBytes) {
      state.PauseTiming();
      setup.CompactToLast();
      since_compact = 0;
      state.ResumeTiming();
    }
  }
  SetWriteCounters(state, before, setup.GetStats());
  SetThroughput(state, batch, bytes);
  stalls.Report(state);
}

// Target 1 measured robustly on a shared machine: one engine Append (sync)
// and one raw pwrite+fdatasync of the same bytes per iteration, alternating
// which goes first, each timed on its own. Disk speed drifts by 2x within
// seconds here when others use the disk; interleaving at the scale of one
// fdatasync cancels that drift out of the ratio. Counters: disk_items_per_second,
// raw_items_per_second (entries/s of each alone) and disk_vs_raw (their
// ratio, the target's figure). Items are the entries of both writes.
void SyncPaired(benchmark::State& state, const std::string& key, const engine::Options& options,
                size_t bytes, size_t batch) {
  auto& target = Setups().Get<DiskTarget>(key, [&] {
    auto t = std::make_unique<DiskTarget>(
        options, MakeEntries(Source(Payload::kRandom), bytes, batch, 1, kTerm));
    Warm(t.get(), true);
    return t;
  });
  RawWriter raw(&RawFile(), RawBatch(Source(Payload::kRandom), bytes, batch,
                                     engine::Options{}.max_frame_bytes));
  uint64_t since_compact = 0;
  double disk_seconds = 0, raw_seconds = 0;
  // The engine's appends that rolled a segment, and the others.
  double roll_seconds = 0, plain_seconds = 0;
  uint64_t rolled = 0, plain = 0;
  bool disk_first = true;
  const engine::Stats before = target.GetStats();
  uint64_t rolls = before.segment_rolls;
  for (auto _ : state) {
    for (int k = 0; k < 2; ++k) {
      const auto t0 = std::chrono::steady_clock::now();
      if ((k == 0) == disk_first) {
        target.AppendNext(true);
        const double took =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        disk_seconds += took;
        // (Stats read outside the timed span.)
        const uint64_t rolls_now = target.GetStats().segment_rolls;
        if (rolls_now != rolls) {
          roll_seconds += took;
          rolled++;
        } else {
          plain_seconds += took;
          plain++;
        }
        rolls = rolls_now;
      } else {
        raw.Write();
        raw_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      }
    }
    disk_first = !disk_first;
    since_compact += batch * bytes;
    if (since_compact >= kCompactEveryBytes) {
      state.PauseTiming();
      target.CompactToLast();
      since_compact = 0;
      state.ResumeTiming();
    }
  }
  SetWriteCounters(state, before, target.GetStats());
  SetThroughput(state, 2 * batch, bytes);
  const double entries = static_cast<double>(state.iterations()) * static_cast<double>(batch);
  if (disk_seconds > 0 && raw_seconds > 0) {
    state.counters["disk_items_per_second"] = Value(entries / disk_seconds);
    state.counters["raw_items_per_second"] = Value(entries / raw_seconds);
    state.counters["disk_vs_raw"] = Value(raw_seconds / disk_seconds);
  }
  const auto mean_ms = [](double seconds, uint64_t n) {
    return Value(n > 0 ? seconds * 1e3 / static_cast<double>(n) : 0);
  };
  state.counters["disk_roll_ms"] = mean_ms(roll_seconds, rolled);
  state.counters["disk_plain_ms"] = mean_ms(plain_seconds, plain);
  state.counters["raw_ms"] = mean_ms(raw_seconds, static_cast<uint64_t>(state.iterations()));
  const engine::Stats after = target.GetStats();
  state.counters["segments_fresh"] =
      Value(static_cast<double>(after.segments_prepared - before.segments_prepared));
  state.counters["segments_recycled"] =
      Value(static_cast<double>(after.segments_recycled - before.segments_recycled));
}

// --- MemoryStorage -------------------------------------------------------------

struct MemorySetup {
  raft::MemoryStorage storage;
  std::vector<raft::Entry> batch;
  uint64_t next_index = 1;
};

void MemoryAppend(benchmark::State& state, const std::string& key, size_t bytes, size_t batch) {
  auto& setup = Setups().Get<MemorySetup>(key, [&] {
    auto s = std::make_unique<MemorySetup>();
    s->batch = MakeEntries(Source(Payload::kRandom), bytes, batch, 1, kTerm);
    return s;
  });
  uint64_t since_compact = 0;
  for (auto _ : state) {
    Renumber(&setup.batch, setup.next_index);
    CheckOk(setup.storage.Append(setup.batch), "MemoryStorage::Append");
    setup.next_index += batch;
    since_compact += batch * bytes;
    if (since_compact >= kCompactEveryBytes) {
      state.PauseTiming();
      CheckOk(setup.storage.Compact(setup.next_index - 1), "MemoryStorage::Compact");
      since_compact = 0;
      state.ResumeTiming();
    }
  }
  SetThroughput(state, batch, bytes);
}

// --- zstd alone ----------------------------------------------------------------

// The raw payload of the frame the engine builds for this batch: built by
// format::FrameBuilder without compression, header and padding cut off.
std::string FramePayload(const std::vector<raft::Entry>& batch) {
  std::vector<format::EntryView> views;
  for (const raft::Entry& e : batch) views.push_back(format::EntryView{e.index, e.term, 0, e.data});
  format::FrameBuilder builder;  // compression off
  builder.BuildEntries(/*seed=*/0, /*commit=*/0, views);
  std::string frame;
  for (std::string_view piece : builder.pieces()) frame += piece;
  return frame.substr(format::kFrameHeaderBytes, builder.header().raw_bytes);
}

void ZstdMaybeCompress(benchmark::State& state, Payload payload, size_t bytes, size_t batch) {
  const std::string raw = FramePayload(MakeEntries(Source(payload), bytes, batch, 1, kTerm));
  format::CompressionOptions options;
  options.enabled = true;  // level and thresholds: the engine's defaults
  format::Compressor compressor;
  std::string out;
  bool compressed = false;
  for (auto _ : state) {
    compressed = compressor.MaybeCompress(raw, options, &out);
    benchmark::DoNotOptimize(out.data());
  }
  SetThroughput(state, batch, bytes);
  state.counters["compression_ratio"] =
      Value(compressed ? static_cast<double>(raw.size()) / static_cast<double>(out.size()) : 1.0);
}

// --- the frame build alone -----------------------------------------------------

void FrameBuild(benchmark::State& state, size_t bytes, size_t batch) {
  const size_t ring = std::clamp<size_t>((64u << 20) / (bytes * batch), 2, 64);
  std::vector<std::vector<format::EntryView>> views(ring);
  std::vector<std::vector<raft::Entry>> entries;
  entries.reserve(ring);
  for (size_t k = 0; k < ring; ++k) {
    // Distinct copies, so that each batch's bytes are their own memory.
    entries.push_back(MakeEntries(Source(Payload::kRandom), bytes, batch, 1, kTerm));
    for (raft::Entry& e : entries.back()) e.data = Bytes(std::string(e.data.view()));
    for (const raft::Entry& e : entries.back()) {
      views[k].push_back(format::EntryView{e.index, e.term, 0, e.data});
    }
  }
  format::FrameBuilder builder;  // compression off
  size_t k = 0;
  for (auto _ : state) {
    builder.BuildEntries(/*seed=*/k, /*commit=*/0, views[k]);
    benchmark::DoNotOptimize(builder.header().checksum);
    k = (k + 1) % ring;
  }
  SetThroughput(state, batch, bytes);
}

// --- registration --------------------------------------------------------------

std::string Name(const std::string& prefix, size_t bytes, size_t batch) {
  return BenchName(prefix, {bytes, batch});
}

// Registers with real time (every benchmark here either does I/O or is
// compared with one that does). Runs that write without sync, and their
// in-memory counterparts, get a short fixed minimum time: they write up to
// 1 GB/s into the page cache, and a longer run only adds writeback to the
// disk everyone on this machine shares.
constexpr double kNoSyncMinTimeSeconds = 0.1;

template <class Fn>
void Register(const std::string& name, Fn fn, double min_time_seconds = 0) {
  benchmark::internal::Benchmark* b = benchmark::RegisterBenchmark(name.c_str(), fn);
  b->UseRealTime();
  if (min_time_seconds > 0) b->MinTime(min_time_seconds);
}

void RegisterAll() {
  // The defaults but no cold worker: these measure the append path alone
  // (bench/cold_bench.cc measures what the worker costs it, in paired runs).
  engine::Options defaults;
  defaults.compression_mode = engine::CompressionMode::kOff;
  engine::Options no_recycling = defaults;
  no_recycling.recycled_segments = 0;
  engine::Options zstd = defaults;
  zstd.compression.enabled = true;  // level 1, thresholds default
  const double quick = kNoSyncMinTimeSeconds;

  for (size_t bytes : kSizes) {
    for (size_t batch : kBatches) {
      Register(Name("BM_RawPwriteFdatasync", bytes, batch),
               [=](benchmark::State& st) { RawPwriteFdatasync(st, bytes, batch); });
      const std::string disk = Name("BM_DiskAppend/sync", bytes, batch);
      Register(disk, [=](benchmark::State& st) {
        EngineAppend<DiskTarget>(st, disk, defaults, Payload::kRandom, bytes, batch, true);
      });
      const std::string paired = Name("BM_SyncAppendPaired", bytes, batch);
      Register(paired,
               [=](benchmark::State& st) { SyncPaired(st, paired, defaults, bytes, batch); });
      if (batch == 256 && bytes >= 1024) {
        // Where the disk's bandwidth is the limit: every spare a fresh file
        // (no recycling of compacted segment files).
        const std::string fresh = Name("BM_SyncAppendPaired/fresh", bytes, batch);
        Register(fresh, [=](benchmark::State& st) {
          SyncPaired(st, fresh, no_recycling, bytes, batch);
        });
      }
      if (bytes == 1024) {
        const std::string eng = Name("BM_EngineAppend/sync", bytes, batch);
        Register(eng, [=](benchmark::State& st) {
          EngineAppend<EngineTarget>(st, eng, defaults, Payload::kRandom, bytes, batch, true);
        });
      }
    }
  }
  for (size_t bytes : kSizes) {
    for (size_t batch : kBatches) {
      const std::string mem = Name("BM_MemoryAppend", bytes, batch);
      Register(
          mem, [=](benchmark::State& st) { MemoryAppend(st, mem, bytes, batch); }, quick);
      const std::string disk = Name("BM_DiskAppend/nosync", bytes, batch);
      Register(
          disk,
          [=](benchmark::State& st) {
            EngineAppend<DiskTarget>(st, disk, defaults, Payload::kRandom, bytes, batch, false);
          },
          quick);
    }
  }
  for (size_t bytes : kSizes) {
    for (size_t batch : kBatches) {
      Register(
          Name("BM_FrameBuild", bytes, batch),
          [=](benchmark::State& st) { FrameBuild(st, bytes, batch); }, quick);
    }
  }
  // zstd: batches whose frame payload passes min_payload_bytes (4 KiB) and
  // fits one frame (max_frame_bytes, 1 MiB).
  const std::pair<size_t, size_t> zstd_cases[] = {{128, 256}, {1024, 16}, {1024, 256}, {16384, 16}};
  for (Payload payload : {Payload::kText, Payload::kRandom}) {
    const std::string p = PayloadName(payload);
    for (auto [bytes, batch] : zstd_cases) {
      Register(
          Name("BM_ZstdMaybeCompress/" + p, bytes, batch),
          [=](benchmark::State& st) { ZstdMaybeCompress(st, payload, bytes, batch); }, quick);
      const std::string disk = Name("BM_DiskAppend/nosync/zstd/" + p, bytes, batch);
      Register(
          disk,
          [=](benchmark::State& st) {
            EngineAppend<DiskTarget>(st, disk, zstd, payload, bytes, batch, false);
          },
          quick);
      if (payload == Payload::kText && bytes == 1024) {
        const std::string synced = Name("BM_DiskAppend/sync/zstd/" + p, bytes, batch);
        Register(synced, [=](benchmark::State& st) {
          EngineAppend<DiskTarget>(st, synced, zstd, payload, bytes, batch, true);
        });
      }
    }
  }
}

}  // namespace
}  // namespace raftlog::bench

int main(int argc, char** argv) {
  using namespace raftlog::bench;
  if (!TakePayloadFlag(&argc, argv, &g_payload)) return 2;
  return BenchMain(argc, argv, RegisterAll, ReleaseRawFile);
}
