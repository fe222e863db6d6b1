// Opening a log and what its index costs (the open-time target of docs/benchmarks.md):
//
//   BM_OpenLog/<warm|cold>/<1|4>GiB          LogEngine::Open with default
//       options but no cold worker (OpenOptions) on a log of that many bytes of segment files (1 KiB random
//       entries appended 256 per batch without sync, default 64 MiB
//       segments, plus the same 8 MiB in the active segment for both sizes,
//       so that open has the same unsealed tail to scan). The iteration time
//       is Open alone (manual timing); Close is reported as close_ms. "cold"
//       first evicts the log's files from the page cache (fdatasync +
//       posix_fadvise(DONTNEED) on our own files only), so footers and the
//       tail come from the disk.
//   BM_OpenDiskStorage/warm/<1|4>GiB         the same through DiskStorage::Open
//       (adds its metadata and snapshot directory).
//   BM_IndexMemory/<batch>                   Stats::index_heap_bytes per live
//       entry of a log of 1 KiB entries appended <batch> per Append (so per
//       frame; 1 is the worst case) until it spans 3.5 segments: the final
//       figure, and the peak seen while it grew (sampled every 1024 appends).
//
// The logs are built once per run in a temp dir and removed at exit. The
// 4 GiB case is skipped, with a message, if the file system holding
// $RAFTLOG_BENCH_DIR has less than 10 GiB free.

#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "bench/bench_util.h"
#include "raftlog/engine/log_engine.h"
#include "raftlog/engine/options.h"
#include "raftlog/engine/disk_storage.h"
#include "raftlog/engine/stats.h"
#include "raftlog/format/record.h"
#include "raftlog/format/record_format.h"

namespace raftlog::bench {
namespace {

// The defaults but no cold worker: it starts only once Open has returned, so
// it is not in the time measured, but between runs it would rewrite the
// built log, and each run would then open a different log.
engine::Options OpenOptions() {
  engine::Options options;
  options.compression_mode = engine::CompressionMode::kOff;
  return options;
}

constexpr uint64_t kSeed = 20240603;
constexpr uint64_t kGiB = 1ull << 30;
constexpr size_t kEntryBytes = 1024;
constexpr size_t kBuildBatch = 256;
constexpr uint64_t kTailBytes = 8u << 20;
constexpr uint64_t kMinFreeFor4GiB = 10 * kGiB;

const PayloadSource& Source() {
  static const PayloadSource* random = new PayloadSource(Payload::kRandom, kSeed);
  return *random;
}

// Appends batches of kBuildBatch entries (index from *next) without sync.
void AppendBatch(engine::LogEngine* engine, uint64_t* next, size_t batch = kBuildBatch) {
  static std::vector<format::EntryView> views;
  views.resize(batch);
  for (size_t k = 0; k < batch; ++k) {
    views[k] = format::EntryView{*next + k, 1, 0, Source().Slice(*next + k, kEntryBytes)};
  }
  engine::AppendOptions options;
  options.sync = false;
  CheckOk(engine->Append(views, options), "LogEngine::Append");
  *next += batch;
}

// --- the logs to open ------------------------------------------------------------

struct BuiltLog {
  std::string dir;
  std::string skip_reason;  // non-empty: not built
  engine::Stats stats;      // after building
  double build_seconds = 0;
};

class LogCache {
 public:
  const BuiltLog& Get(uint64_t gib) {
    auto it = logs_.find(gib);
    if (it != logs_.end()) return it->second;
    if (dir_ == nullptr) dir_ = std::make_unique<TempDir>("open");
    BuiltLog log;
    log.dir = dir_->Sub(std::to_string(gib) + "GiB");
    const uint64_t free_bytes = FreeBytes(dir_->path());
    if (gib >= 4 && free_bytes < kMinFreeFor4GiB) {
      log.skip_reason = "skipped: " + std::to_string(free_bytes >> 20) + " MiB free under " +
                        BaseDir() + ", the 4 GiB open case needs 10 GiB";
      std::fprintf(stderr, "bench: BM_OpenLog %lluGiB %s\n", static_cast<unsigned long long>(gib),
                   log.skip_reason.c_str());
    } else {
      Build(gib * kGiB, &log);
    }
    return logs_.emplace(gib, std::move(log)).first->second;
  }
  void Clear() {
    logs_.clear();
    dir_.reset();
  }

 private:
  static void Build(uint64_t bytes, BuiltLog* log) {
    const auto start = std::chrono::steady_clock::now();
    engine::Options options = OpenOptions();
    options.sync = engine::SyncPolicy::kNever;
    auto engine = CheckOk(engine::LogEngine::Open(log->dir, options), "LogEngine::Open");
    const uint64_t sealed_target = bytes / engine::Options{}.segment_bytes;
    uint64_t next = 1;
    // Until the roll into segment sealed_target + 1: counted in `segments`
    // at once, where `sealed_segments` waits for the background seal's
    // commit, by when more batches may have gone into the active segment
    // (which made the 4 GiB log's tail 19 MiB against the 1 GiB log's 8).
    while (engine->GetStats().segments <= sealed_target) AppendBatch(engine.get(), &next);
    // The same unsealed tail for every size.
    for (uint64_t b = 0; b < kTailBytes; b += kBuildBatch * kEntryBytes) {
      AppendBatch(engine.get(), &next);
    }
    WaitForSpareSegments(log->dir, engine->GetStats().segments);
    log->stats = engine->GetStats();
    CheckOk(engine->Close(), "LogEngine::Close");
    engine.reset();
    // Written without sync: flush now, so writeback does not leak into the
    // benchmarks that follow.
    SyncFiles(log->dir, /*drop=*/false);
    log->build_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::fprintf(stderr, "bench: built a %.2f GiB log (%llu segments) in %.1f s\n",
                 static_cast<double>(log->stats.segment_file_bytes) / kGiB,
                 static_cast<unsigned long long>(log->stats.segments), log->build_seconds);
  }

  std::unique_ptr<TempDir> dir_;
  std::map<uint64_t, BuiltLog> logs_;
};

LogCache& Logs() {
  static LogCache* cache = new LogCache;
  return *cache;
}

using Clock = std::chrono::steady_clock;
double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

void OpenLog(benchmark::State& state, uint64_t gib, bool cold, bool disk_storage) {
  const BuiltLog& log = Logs().Get(gib);
  if (!log.skip_reason.empty()) {
    state.SkipWithError(log.skip_reason.c_str());
    return;
  }
  // Warm means what a restart finds after recent use: everything cached.
  if (!cold) CheckOk(engine::LogEngine::Open(log.dir, OpenOptions()).status(), "warm-up Open");
  double close_seconds = 0;
  engine::Stats st;
  for (auto _ : state) {
    if (cold) SyncFiles(log.dir, /*drop=*/true);
    if (disk_storage) {
      const auto t0 = Clock::now();
      engine::DiskStorageOptions options;
      options.engine = OpenOptions();
      auto storage = CheckOk(engine::DiskStorage::Open(log.dir, options), "DiskStorage::Open");
      const auto t1 = Clock::now();
      st = storage->engine().GetStats();
      CheckOk(storage->Close(), "DiskStorage::Close");
      close_seconds += Seconds(Clock::now() - t1);
      state.SetIterationTime(Seconds(t1 - t0));
    } else {
      const auto t0 = Clock::now();
      auto engine = CheckOk(engine::LogEngine::Open(log.dir, OpenOptions()), "LogEngine::Open");
      const auto t1 = Clock::now();
      st = engine->GetStats();
      CheckOk(engine->Close(), "LogEngine::Close");
      close_seconds += Seconds(Clock::now() - t1);
      state.SetIterationTime(Seconds(t1 - t0));
    }
  }
  const double n = static_cast<double>(std::max<int64_t>(1, state.iterations()));
  state.counters["close_ms"] = Value(close_seconds * 1e3 / n);
  state.counters["log_bytes"] = Value(static_cast<double>(st.segment_file_bytes));
  state.counters["segments"] = Value(static_cast<double>(st.segments));
  state.counters["open_segments_from_footer"] =
      Value(static_cast<double>(st.open_segments_from_footer));
  state.counters["open_bytes_scanned"] = Value(static_cast<double>(st.open_bytes_scanned));
  state.counters["open_frames_scanned"] = Value(static_cast<double>(st.open_frames_scanned));
  state.counters["build_s"] = Value(log.build_seconds);
}

// --- index memory ----------------------------------------------------------------

void IndexMemory(benchmark::State& state, size_t batch) {
  // Entries one segment holds at this batch size (frames of `batch` entries).
  const uint64_t frame_bytes = format::FrameBytes(batch * (kEntryBytes + 5));
  const uint64_t per_segment = engine::Options{}.segment_bytes / frame_bytes * batch;
  const uint64_t target = per_segment * 7 / 2;
  engine::Stats st;
  double peak = 0;
  uint64_t appends = 0;
  for (auto _ : state) {
    TempDir dir("index");
    engine::Options options = OpenOptions();
    options.sync = engine::SyncPolicy::kNever;
    auto engine = CheckOk(engine::LogEngine::Open(dir.Sub("log"), options), "LogEngine::Open");
    uint64_t next = 1;
    while (next <= target) {
      AppendBatch(engine.get(), &next, batch);
      if (++appends % 1024 == 0) {
        const engine::Stats s = engine->GetStats();
        peak = std::max(peak, static_cast<double>(s.index_heap_bytes) /
                                  static_cast<double>(s.last_index - s.first_index + 1));
      }
    }
    st = engine->GetStats();
    CheckOk(engine->Close(), "LogEngine::Close");
  }
  const double live = static_cast<double>(st.last_index - st.first_index + 1);
  state.counters["bytes_per_entry"] = Value(static_cast<double>(st.index_heap_bytes) / live);
  state.counters["peak_bytes_per_entry"] = Value(peak);
  state.counters["index_heap_bytes"] = Value(static_cast<double>(st.index_heap_bytes));
  state.counters["live_entries"] = Value(live);
  state.counters["segments"] = Value(static_cast<double>(st.segments));
  state.counters["term_runs"] = Value(static_cast<double>(st.term_runs));
  SetThroughput(state, target, kEntryBytes);
}

void RegisterAll() {
  for (bool cold : {false, true}) {
    for (uint64_t gib : {1, 4}) {
      const std::string name =
          std::string("BM_OpenLog/") + (cold ? "cold/" : "warm/") + std::to_string(gib) + "GiB";
      benchmark::RegisterBenchmark(name.c_str(),
                                   [=](benchmark::State& st) { OpenLog(st, gib, cold, false); })
          ->UseManualTime()
          ->Unit(benchmark::kMillisecond);
    }
  }
  for (uint64_t gib : {1, 4}) {
    const std::string name = "BM_OpenDiskStorage/warm/" + std::to_string(gib) + "GiB";
    benchmark::RegisterBenchmark(name.c_str(),
                                 [=](benchmark::State& st) { OpenLog(st, gib, false, true); })
        ->UseManualTime()
        ->Unit(benchmark::kMillisecond);
  }
  for (size_t batch : {1, 16}) {
    benchmark::RegisterBenchmark(BenchName("BM_IndexMemory", {batch}).c_str(),
                                 [=](benchmark::State& st) { IndexMemory(st, batch); })
        ->Iterations(1)
        ->UseRealTime()
        ->Unit(benchmark::kMillisecond);
  }
}

}  // namespace
}  // namespace raftlog::bench

int main(int argc, char** argv) {
  using namespace raftlog::bench;
  return BenchMain(argc, argv, RegisterAll, [] { Logs().Clear(); });
}
