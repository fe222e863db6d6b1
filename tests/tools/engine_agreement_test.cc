// The tool and the engine agree on every damaged copy of a real log.
//
// Many seeded mutations of one log made by DiskStorage (bit flips, zeroed
// ranges, truncations and garbage, in sealed and active segments, in
// footers and in meta.mdb), and for each the engine's verdict (a child
// process opens the copy read-only with DiskStorage and reads every entry
// back, strictly and with the default recovery) against the tool's:
//   - the engine refuses the log, or fails to read an entry back:
//     verify, info and dump all exit non-zero; when the open itself is
//     refused, info and dump print the engine's own error message and
//     verify reports it;
//   - the engine opens the log by cutting a torn write: verify reports a
//     torn write (the engine and the tool classify the active segment's
//     end with the same scan, segment_scan.h);
//   - the engine serves the log as it is (nothing cut, every entry read, no
//     committed entry missing): verify exits 0 (warnings allowed), and info
//     and dump exit 0 and show the index range the engine serves.
// The default run tries a few hundred mutants (about 20 s); the soak label
// (RAFTLOG_SOAK=1) tries thousands.

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "raftlog/engine/disk_storage.h"
#include "raftlog/format/meta_records.h"
#include "tests/testutil/temp_dir.h"
#include "tests/tools/cli_runner.h"
#include "tests/tools/log_builder.h"

namespace raftlog::tools::testing {
namespace {

namespace fs = std::filesystem;

// What the engine makes of a copy.
struct Oracle {
  bool crashed = false;  // the child died (LMDB trusts its file's pages)
  bool default_ok = false;  // opens with the default recovery and reads every entry
  bool strict_ok = false;   // ... with kAbsoluteConsistency, and no committed entry missing
  uint64_t first = 0, last = 0;  // of the strict open
  bool torn_cut = false;         // the default open cut a torn write
  std::string open_error;        // the default open's error, if it refused the log
};

// In a child process: 0 default_ok, 1 strict_ok, then first and last, the
// default open's torn-tail cuts, then its error message.
std::string JudgeInChild(const std::string& dir) {
  uint64_t out[5] = {0, 0, 0, 0, 0};
  std::string open_error;
  for (const auto policy :
       {engine::RecoveryPolicy::kTolerateTornTail, engine::RecoveryPolicy::kAbsoluteConsistency}) {
    engine::DiskStorageOptions options;
    options.engine.read_only = true;
    options.engine.create_if_missing = false;
    options.engine.prepared_segments = 0;
    options.engine.recovery = policy;
    auto storage = engine::DiskStorage::Open(dir, options);
    if (!storage.ok()) {
      if (policy == engine::RecoveryPolicy::kTolerateTornTail) {
        open_error = std::string(storage.status().message());
      }
      continue;
    }
    const uint64_t first = *(*storage)->FirstIndex();
    const uint64_t last = *(*storage)->LastIndex();
    bool ok = true;
    for (uint64_t lo = first; ok && lo <= last; lo += 256) {
      ok = (*storage)->Entries(lo, std::min(last, lo + 255) + 1,
                               std::numeric_limits<uint64_t>::max()).ok();
    }
    if (policy == engine::RecoveryPolicy::kTolerateTornTail) {
      out[0] = ok ? 1 : 0;
      out[4] = (*storage)->engine().GetStats().torn_tail_cuts;
      continue;
    }
    auto hs = (*storage)->engine().GetState("hardstate");
    auto snap = (*storage)->Snapshot();
    uint64_t commit = 0;
    if (hs.ok() && hs->has_value()) {
      auto decoded = format::DecodeHardState(**hs);
      if (decoded.ok()) commit = decoded->commit;
    }
    const uint64_t snap_index = snap.ok() ? snap->metadata.index : 0;
    out[1] = ok && commit <= std::max(last, snap_index) ? 1 : 0;
    out[2] = first;
    out[3] = last;
  }
  return std::string(reinterpret_cast<const char*>(out), sizeof(out)) + open_error;
}

Oracle JudgeWithEngine(const std::string& dir) {
  const std::optional<std::string> answer = RunInChild([&dir] { return JudgeInChild(dir); });
  uint64_t in[5] = {0, 0, 0, 0, 0};
  Oracle o;
  o.crashed = !answer.has_value() || answer->size() < sizeof(in);
  if (o.crashed) return o;
  std::memcpy(in, answer->data(), sizeof(in));
  o.default_ok = in[0] != 0;
  o.strict_ok = in[1] != 0;
  o.first = in[2];
  o.last = in[3];
  o.torn_cut = in[4] != 0;
  o.open_error = answer->substr(sizeof(in));
  return o;
}

// One random damage to one file of the copy in `dir`.
std::string Mutate(const std::string& dir, std::mt19937_64* rng) {
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(dir + "/segments")) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  files.push_back(dir + "/meta.mdb");
  auto pick = [&](uint64_t n) { return n == 0 ? 0 : (*rng)() % n; };
  const std::string path = files[pick(files.size())];
  std::string bytes = ReadFile(path);
  if (bytes.empty()) return path + ": empty";
  const bool meta = path.ends_with("meta.mdb");
  // Where the data is: a segment's frames and footer (an active segment is
  // mostly preallocated zeros), or meta.mdb's meta and data pages.
  uint64_t used = bytes.size();
  if (!meta) {
    while (used > 0 && bytes[used - 1] == 0) --used;
    used = std::min<uint64_t>(bytes.size(), used + 256);
  }
  const uint64_t at = pick(used);
  const int op = static_cast<int>(pick(meta ? 3 : 5));
  std::string what;
  switch (op) {
    case 0: {  // bit flips
      const int flips = 1 + static_cast<int>(pick(4));
      for (int i = 0; i < flips; ++i) {
        const uint64_t off = std::min<uint64_t>(bytes.size() - 1, at + pick(64));
        bytes[off] = static_cast<char>(bytes[off] ^ (1 << pick(8)));
      }
      what = "flip near " + std::to_string(at);
      break;
    }
    case 1: {  // a zeroed range
      const uint64_t len = std::min<uint64_t>(bytes.size() - at, 1 + pick(4096));
      bytes.replace(at, len, std::string(len, '\0'));
      what = "zero [" + std::to_string(at) + ", +" + std::to_string(len) + ")";
      break;
    }
    case 2: {  // a truncation
      bytes.resize(at);
      what = "truncate to " + std::to_string(at);
      break;
    }
    case 3: {  // garbage
      const uint64_t len = std::min<uint64_t>(bytes.size() - at, 1 + pick(2048));
      for (uint64_t i = 0; i < len; ++i) bytes[at + i] = static_cast<char>((*rng)());
      what = "garbage [" + std::to_string(at) + ", +" + std::to_string(len) + ")";
      break;
    }
    default: {  // the footer and trailer of a sealed segment, or the tail of the data
      const uint64_t off = used > 200 ? used - 1 - pick(200) : 0;
      bytes[off] = static_cast<char>(bytes[off] ^ 0x40);
      what = "flip at " + std::to_string(off) + " near the end of the data";
      break;
    }
  }
  WriteFile(path, bytes);
  return fs::path(path).filename().string() + ": " + what;
}

// Whether one of verify's errors states `engine_error` (findings name the
// file apart, so the message may lack its "<path>: " prefix).
bool VerifyQuotes(const CliResult& verify, const std::string& engine_error) {
  const auto j = verify.Json();
  for (const auto& f : j["findings"]) {
    if (f["severity"] != "error") continue;
    const std::string what = f["what"].get<std::string>();
    if (!what.empty() && (engine_error.find(what) != std::string::npos ||
                          what.find(engine_error) != std::string::npos)) {
      return true;
    }
  }
  return false;
}

// The first and last index of a dump's JSON lines (0, 0 if none).
std::pair<uint64_t, uint64_t> DumpRange(const CliResult& r) {
  const auto lines = r.JsonLines();
  if (lines.empty()) return {0, 0};
  return {lines.front()["index"].get<uint64_t>(), lines.back()["index"].get<uint64_t>()};
}

void RunMutants(int count, std::chrono::seconds budget) {
  testutil::TempDir tmp("agreement");
  const std::string base = tmp.Sub("base");
  LogSpec spec;
  spec.segment_bytes = 128u << 10;
  spec.entries = 1200;
  spec.entry_bytes = 200;
  spec.batch = 20;
  spec.conf_change_index = 0;
  spec.conf_change_v2_index = 0;
  spec.snapshot_index = 400;
  spec.compact_index = 200;
  spec.hard_state = raft::HardState{2, 1, 1150};
  ASSERT_TRUE(BuildLog(base, spec).ok());

  std::mt19937_64 rng(20261206);
  const auto deadline = std::chrono::steady_clock::now() + budget;
  int tried = 0, refused = 0, refused_at_open = 0, torn = 0, served = 0;
  // Past the time budget only until the mutants have reached every verdict
  // (a slow build, e.g. under a sanitizer, fits fewer into the budget).
  auto reached_all = [&] { return refused_at_open > 0 && torn > 0 && served > 0; };
  for (int i = 0; i < count && (std::chrono::steady_clock::now() < deadline || !reached_all());
       ++i) {
    const std::string dir = tmp.Sub("m" + std::to_string(i));
    fs::copy(base, dir, fs::copy_options::recursive);
    const std::string mutation = Mutate(dir, &rng);
    SCOPED_TRACE("mutant " + std::to_string(i) + ": " + mutation);
    const CliOptions quick{.timeout = std::chrono::seconds(60)};
    const CliResult verify = RunCli({"verify", dir, "--format", "json", "--no-progress"}, quick);
    const CliResult info = RunCli({"info", dir, "--format", "json"}, quick);
    const CliResult dump =
        RunCli({"dump", dir, "--format", "json", "--preview-bytes", "0"}, quick);
    for (const CliResult* r : {&verify, &info, &dump}) {
      EXPECT_EQ(r->signal, 0) << r->err;
      EXPECT_FALSE(r->timed_out);
    }
    // After the tool, which must change nothing: DiskStorage's open may.
    const Oracle engine = JudgeWithEngine(dir);
    ++tried;
    if (engine.crashed) continue;  // nothing to compare with
    if (!engine.default_ok) {
      ++refused;
      EXPECT_NE(verify.exit_code, 0) << verify.out;
      EXPECT_NE(info.exit_code, 0) << info.out;
      EXPECT_NE(dump.exit_code, 0) << dump.err;
      if (!engine.open_error.empty()) {
        // Refused at open: the tool quotes the engine, word for word.
        ++refused_at_open;
        EXPECT_NE(info.err.find(engine.open_error), std::string::npos)
            << info.err << "\nengine: " << engine.open_error;
        EXPECT_NE(dump.err.find(engine.open_error), std::string::npos)
            << dump.err << "\nengine: " << engine.open_error;
        EXPECT_TRUE(VerifyQuotes(verify, engine.open_error))
            << verify.out << "\nengine: " << engine.open_error;
      }
    } else if (engine.torn_cut) {
      // The engine cuts a torn write at the end of the active segment:
      // verify names it as one.
      ++torn;
      EXPECT_NE(verify.out.find("torn write"), std::string::npos) << verify.out;
    }
    if (engine.default_ok && engine.strict_ok) {
      ++served;
      EXPECT_EQ(verify.exit_code, 0) << verify.out;
      EXPECT_EQ(info.exit_code, 0) << info.err;
      EXPECT_EQ(dump.exit_code, 0) << dump.err;
      if (info.exit_code == 0) {
        const auto j = info.Json();
        EXPECT_EQ(j["first_index"], engine.first);
        EXPECT_EQ(j["last_index"], engine.last);
      }
      if (dump.exit_code == 0 && engine.last >= engine.first) {
        EXPECT_EQ(DumpRange(dump), std::make_pair(engine.first, engine.last));
      }
    }
    fs::remove_all(dir);
    if (::testing::Test::HasFailure()) break;  // one mutant's report is enough
  }
  // The mutations reach both sides of the verdict.
  EXPECT_GT(refused, 0);
  EXPECT_GT(refused_at_open, 0);
  EXPECT_GT(torn, 0);
  EXPECT_GT(served, 0);
  std::printf(
      "%d mutants: %d refused by the engine (%d at open), %d with a torn write cut, %d served as "
      "they are\n",
      tried, refused, refused_at_open, torn, served);
}

TEST(EngineAgreementTest, ToolAndEngineAgreeOnMutatedLogs) {
  RunMutants(300, std::chrono::seconds(20));
}

TEST(EngineAgreementTest, SoakThousandsOfMutants) {
  if (std::getenv("RAFTLOG_SOAK") == nullptr) GTEST_SKIP() << "set RAFTLOG_SOAK=1 (ctest -L soak)";
  RunMutants(5000, std::chrono::seconds(3000));
}

}  // namespace
}  // namespace raftlog::tools::testing
