// raftlog bench [DIR]: how fit this disk is for a raft log. For a few entry
// and batch sizes it measures synced appends through the engine (each
// Append followed by its fdatasync, as raft's MustSync Readys are) and,
// beside them, the raw limit: pwrite of the same number of bytes into a
// pre-zeroed file followed by fdatasync. It reports throughput and latency
// percentiles and a pass/warn verdict against stated thresholds, in the
// manner of `etcdctl check perf`. Runs in a temporary directory (under DIR,
// default $TMPDIR or /tmp) that it removes afterwards.

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <system_error>
#include <vector>

#include "raftlog/engine/log_engine.h"
#include "raftlog/engine/options.h"
#include "raftlog/format/record.h"
#include "raftlog/format/record_format.h"
#include "raftlog/io/file_system.h"
#include "tools/command.h"
#include "tools/fs_kind.h"
#include "tools/json.h"
#include "tools/numbers.h"
#include "tools/output.h"
#include "tools/text.h"

namespace raftlog::tools {

namespace {

using Clock = std::chrono::steady_clock;

struct BenchOptions {
  std::string dir;
  std::vector<uint64_t> entry_bytes = {256, 4096, 65536};
  std::vector<uint64_t> batches = {1, 16};
  double seconds = 1.0;  // per case and kind
  double max_p99_ms = 10.0;
  double min_syncs_per_second = 100.0;
  std::string format = "text";
  bool keep = false;
};

// Figures of one run of synced writes.
struct RunStats {
  uint64_t ops = 0;
  uint64_t bytes = 0;
  double seconds = 0;
  double p50_ms = 0, p99_ms = 0, p999_ms = 0, max_ms = 0;

  double ops_per_second() const { return seconds > 0 ? static_cast<double>(ops) / seconds : 0; }
  double mib_per_second() const {
    return seconds > 0 ? static_cast<double>(bytes) / seconds / (1 << 20) : 0;
  }
};

RunStats Summarize(std::vector<double> latencies_ms, uint64_t bytes, double seconds) {
  RunStats s;
  s.ops = latencies_ms.size();
  s.bytes = bytes;
  s.seconds = seconds;
  if (latencies_ms.empty()) return s;
  std::sort(latencies_ms.begin(), latencies_ms.end());
  auto pct = [&](double q) {
    const auto k = static_cast<size_t>(q * static_cast<double>(latencies_ms.size()));
    return latencies_ms[std::min(k, latencies_ms.size() - 1)];
  };
  s.p50_ms = pct(0.50);
  s.p99_ms = pct(0.99);
  s.p999_ms = pct(0.999);
  s.max_ms = latencies_ms.back();
  return s;
}

double MillisSince(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

// Synced appends of `batch` entries of `entry_bytes` through the engine.
Result<RunStats> RunEngine(const std::string& dir, uint64_t entry_bytes, uint64_t batch,
                           double seconds, const std::string& data) {
  engine::Options options;
  options.sync = engine::SyncPolicy::kAlways;
  RAFTLOG_ASSIGN_OR_RETURN(std::unique_ptr<engine::LogEngine> log,
                           engine::LogEngine::Open(dir, options));
  std::vector<format::EntryView> entries(batch);
  uint64_t next = 1;
  auto append = [&]() {
    for (uint64_t i = 0; i < batch; ++i) {
      entries[i] = format::EntryView{next + i, 1, 0,
                                     std::string_view(data).substr((next + i) % 64, entry_bytes)};
    }
    next += batch;
    return log->Append(entries, engine::AppendOptions{});
  };
  // Warm up: the segment header, the first pages.
  for (int i = 0; i < 5; ++i) RAFTLOG_RETURN_IF_ERROR(append());
  std::vector<double> latencies;
  const auto start = Clock::now();
  const auto deadline = start + std::chrono::duration<double>(seconds);
  while (Clock::now() < deadline) {
    const auto t = Clock::now();
    RAFTLOG_RETURN_IF_ERROR(append());
    latencies.push_back(MillisSince(t));
  }
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  RAFTLOG_RETURN_IF_ERROR(log->Close());
  return Summarize(std::move(latencies), latencies.size() * batch * entry_bytes, elapsed);
}

// The raw limit: pwrite of as many bytes as the engine's frame takes, at
// increasing offsets of a pre-zeroed, synced file, each followed by
// fdatasync.
Result<RunStats> RunRaw(const std::string& dir, uint64_t entry_bytes, uint64_t batch,
                        double seconds, const std::string& data) {
  constexpr uint64_t kFileBytes = 64u << 20;
  io::FileSystem* fs = io::FileSystem::Default();
  RAFTLOG_ASSIGN_OR_RETURN(std::unique_ptr<io::File> file,
                           fs->Open(io::JoinPath(dir, "raw.dat"), io::OpenMode::kCreate));
  {
    const std::string zeros(1u << 20, '\0');
    for (uint64_t off = 0; off < kFileBytes; off += zeros.size()) {
      const std::string_view pieces[] = {zeros};
      RAFTLOG_RETURN_IF_ERROR(file->PWrite(off, pieces));
    }
    RAFTLOG_RETURN_IF_ERROR(file->Sync());
  }
  const uint64_t write_bytes = format::FrameBytes(batch * (entry_bytes + 5));
  std::string payload;
  while (payload.size() < write_bytes) payload += data;
  payload.resize(write_bytes);
  uint64_t offset = 0;
  auto write = [&]() -> Status {
    if (offset + write_bytes > kFileBytes) offset = 0;
    const std::string_view pieces[] = {payload};
    RAFTLOG_RETURN_IF_ERROR(file->PWrite(offset, pieces));
    offset += write_bytes;
    return file->Sync();
  };
  for (int i = 0; i < 5; ++i) RAFTLOG_RETURN_IF_ERROR(write());
  std::vector<double> latencies;
  const auto start = Clock::now();
  const auto deadline = start + std::chrono::duration<double>(seconds);
  while (Clock::now() < deadline) {
    const auto t = Clock::now();
    RAFTLOG_RETURN_IF_ERROR(write());
    latencies.push_back(MillisSince(t));
  }
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  return Summarize(std::move(latencies), latencies.size() * batch * entry_bytes, elapsed);
}

Json StatsJson(const RunStats& s) {
  return Json{{"ops", s.ops},
              {"ops_per_second", s.ops_per_second()},
              {"mib_per_second", s.mib_per_second()},
              {"p50_ms", s.p50_ms},
              {"p99_ms", s.p99_ms},
              {"p999_ms", s.p999_ms},
              {"max_ms", s.max_ms}};
}

std::string Ms(double ms) { return Fixed(ms, ms < 10 ? 2 : 1); }

struct Case {
  uint64_t entry_bytes;
  uint64_t batch;
  RunStats engine;
  RunStats raw;
};

int RunBench(const BenchOptions& opt) {
  std::string base = opt.dir;
  if (base.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    base = tmp != nullptr && *tmp != '\0' ? tmp : "/tmp";
  }
  std::error_code ec;
  if (!std::filesystem::is_directory(base, ec)) {
    return ReportError("bench", Status::NotFound(base + ": no such directory"));
  }
  // A file system in memory makes fdatasync a no-op: what is measured there
  // is memory, and no verdict on a disk may come out of it.
  auto fs_kind = FileSystemKind(base);
  if (!fs_kind.ok()) return ReportError("bench", fs_kind.status());
  std::string not_durable;
  if (!fs_kind->durable) {
    not_durable = base + " is on " + fs_kind->name +
                  ", a file system in memory: fdatasync there makes nothing durable and a power "
                  "loss loses everything, so these figures are memory speeds, not a disk's; run "
                  "bench in a directory on the disk that will hold the log";
    std::fprintf(stderr, "raftlog bench: warning: %s\n", not_durable.c_str());
  }
  std::string tmpl = io::JoinPath(base, "raftlog-bench-XXXXXX");
  if (::mkdtemp(tmpl.data()) == nullptr) {
    return ReportError("bench", Status::FromErrno("mkdtemp " + tmpl, errno));
  }
  const std::string work = tmpl;
  // Random bytes, so that no layer can compress or deduplicate them.
  std::string data(
      std::max<uint64_t>(*std::max_element(opt.entry_bytes.begin(), opt.entry_bytes.end()) + 64,
                         4096),
      '\0');
  std::mt19937_64 rng(42);
  for (char& c : data) c = static_cast<char>(rng());

  std::vector<Case> cases;
  Status failure;
  for (const uint64_t entry_bytes : opt.entry_bytes) {
    for (const uint64_t batch : opt.batches) {
      const std::string name = std::to_string(entry_bytes) + "x" + std::to_string(batch);
      const std::string engine_dir = io::JoinPath(work, "engine-" + name);
      const std::string raw_dir = io::JoinPath(work, "raw-" + name);
      std::filesystem::create_directory(raw_dir, ec);
      auto engine = RunEngine(engine_dir, entry_bytes, batch, opt.seconds, data);
      auto raw = engine.ok() ? RunRaw(raw_dir, entry_bytes, batch, opt.seconds, data)
                             : Result<RunStats>(engine.status());
      std::filesystem::remove_all(engine_dir, ec);
      std::filesystem::remove_all(raw_dir, ec);
      if (!raw.ok()) {
        failure = raw.status();
        break;
      }
      cases.push_back(Case{entry_bytes, batch, *engine, *raw});
    }
    if (!failure.ok()) break;
  }
  if (!opt.keep) std::filesystem::remove_all(work, ec);
  if (!failure.ok()) return ReportError("bench", failure);

  // The verdict rests on raft's steady state: the smallest entries, one per
  // synced append.
  const Case& key = *std::min_element(cases.begin(), cases.end(), [](const Case& a, const Case& b) {
    return std::make_pair(a.entry_bytes, a.batch) < std::make_pair(b.entry_bytes, b.batch);
  });
  std::vector<std::string> reasons;
  if (key.engine.p99_ms > opt.max_p99_ms) {
    reasons.push_back("p99 of a synced " + std::to_string(key.entry_bytes) + "-byte append is " +
                      Ms(key.engine.p99_ms) + " ms, above " + Ms(opt.max_p99_ms) + " ms");
  }
  if (key.engine.ops_per_second() < opt.min_syncs_per_second) {
    reasons.push_back(Fixed(key.engine.ops_per_second(), 0) + " synced appends/s, below " +
                      Fixed(opt.min_syncs_per_second, 0));
  }
  const bool pass = reasons.empty() && not_durable.empty();
  const char* verdict = !not_durable.empty() ? "not-durable" : pass ? "pass" : "warn";

  Output out;
  if (opt.format == "json") {
    Json list = Json::array();
    for (const Case& c : cases) {
      list.push_back(Json{{"entry_bytes", c.entry_bytes},
                          {"batch", c.batch},
                          {"engine", StatsJson(c.engine)},
                          {"raw", StatsJson(c.raw)}});
    }
    Json j{{"dir", base},
           {"seconds_per_run", opt.seconds},
           {"cases", std::move(list)},
           {"thresholds", Json{{"max_p99_ms", opt.max_p99_ms},
                               {"min_syncs_per_second", opt.min_syncs_per_second}}},
           {"file_system", Json{{"type", fs_kind->name}, {"durable", fs_kind->durable}}},
           {"warnings", not_durable.empty() ? Json::array() : Json::array({not_durable})},
           {"verdict", verdict},
           {"reasons", reasons}};
    out.Line(DumpJson(j, /*pretty=*/true));
  } else {
    out.Line("raftlog bench in " + base + " (" + fs_kind->name +
             "): each append/write is followed by fdatasync; " + Fixed(opt.seconds, 1) +
             " s per run");
    out.Line("");
    out.Line(
        "                  engine (LogEngine::Append, synced)           raw (pwrite+fdatasync, "
        "pre-zeroed file)");
    out.Line(
        "entry     batch   appends/s  MiB/s    p50 ms  p99 ms  p99.9 ms   writes/s   MiB/s    "
        "p50 ms  p99 ms  p99.9 ms");
    for (const Case& c : cases) {
      char buf[256];
      std::snprintf(
          buf, sizeof(buf), "%-9s %-7llu %-10s %-8s %-7s %-7s %-10s %-10s %-8s %-7s %-7s %-8s",
          HumanBytes(c.entry_bytes).c_str(), static_cast<unsigned long long>(c.batch),
          Fixed(c.engine.ops_per_second(), 0).c_str(), Fixed(c.engine.mib_per_second(), 1).c_str(),
          Ms(c.engine.p50_ms).c_str(), Ms(c.engine.p99_ms).c_str(), Ms(c.engine.p999_ms).c_str(),
          Fixed(c.raw.ops_per_second(), 0).c_str(), Fixed(c.raw.mib_per_second(), 1).c_str(),
          Ms(c.raw.p50_ms).c_str(), Ms(c.raw.p99_ms).c_str(), Ms(c.raw.p999_ms).c_str());
      out.Line(buf);
    }
    out.Line("");
    out.Line("thresholds (for " + HumanBytes(key.entry_bytes) + " entries, batch " +
             std::to_string(key.batch) + "): p99 <= " + Ms(opt.max_p99_ms) +
             " ms, >= " + Fixed(opt.min_syncs_per_second, 0) + " synced appends/s");
    if (!not_durable.empty()) {
      // Never PASS: say what was measured instead.
      out.Line("NOT DURABLE: measured " + fs_kind->name + " (memory), not a disk: p99 " +
               Ms(key.engine.p99_ms) + " ms, " + Fixed(key.engine.ops_per_second(), 0) +
               " appends/s with fdatasync calls that make nothing durable");
      for (const std::string& r : reasons) out.Line("WARN: " + r);
    } else if (pass) {
      out.Line("PASS: p99 " + Ms(key.engine.p99_ms) + " ms, " +
               Fixed(key.engine.ops_per_second(), 0) + " synced appends/s");
    } else {
      for (const std::string& r : reasons) out.Line("WARN: " + r);
      out.Line(
          "WARN: this disk is slow for a raft log (etcd's guidance: WAL fsync p99 under 10 "
          "ms); expect elections and slow commits under load");
    }
  }
  out.Flush();
  return pass ? kExitOk : kExitProblems;
}

}  // namespace

Command AddBenchCommand(CLI::App* root) {
  auto opt = std::make_shared<BenchOptions>();
  CLI::App* app = root->add_subcommand(
      "bench",
      "Measure this disk for raft use: synced append throughput and latency percentiles "
      "(p50/p99/p99.9) through the engine for a few entry and batch sizes, beside the raw "
      "pwrite+fdatasync limit, with a pass/warn verdict (exit 0/1). Runs in a temporary "
      "directory under DIR (default $TMPDIR or /tmp), removed afterwards. On a file system in "
      "memory (tmpfs, ramfs) it warns and gives no pass: fdatasync makes nothing durable there.");
  app->add_option("DIR", opt->dir, "Directory on the disk to measure (default $TMPDIR or /tmp)");
  app->add_option("--entry-bytes", opt->entry_bytes, "Entry sizes to measure")
      ->delimiter(',')
      ->transform(WholeNumber(1, uint64_t{16} << 20))
      ->capture_default_str();
  app->add_option("--batch", opt->batches, "Entries per synced append")
      ->delimiter(',')
      ->transform(WholeNumber(1, 1024))
      ->capture_default_str();
  app->add_option("--seconds", opt->seconds, "Duration of each run (engine and raw, per case)")
      ->check(Decimal(0.05, 600.0))
      ->capture_default_str();
  app->add_option("--max-p99-ms", opt->max_p99_ms,
                  "Threshold: p99 latency of the smallest synced append (etcd's WAL fsync "
                  "guidance)")
      ->check(Decimal(0.001, 1e6))
      ->capture_default_str();
  app->add_option("--min-syncs", opt->min_syncs_per_second,
                  "Threshold: synced appends per second of the smallest case")
      ->check(Decimal(0, 1e9))
      ->capture_default_str();
  app->add_option("--format", opt->format, "Output format (JSON is documented in docs/tools.md)")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  app->add_flag("--keep", opt->keep, "Keep the temporary directory");
  return Command{app, [opt] { return RunBench(*opt); }};
}

}  // namespace raftlog::tools
