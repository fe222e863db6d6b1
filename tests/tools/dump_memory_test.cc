// dump streams: its peak resident memory does not grow with the log. A
// 256 MiB log in the default run (with a 16 MiB one as the baseline), and a
// 1 GiB log in the soak run (RAFTLOG_SOAK=1, ctest label "soak").

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "raftlog/engine/log_engine.h"
#include "tests/testutil/temp_dir.h"
#include "tests/tools/cli_runner.h"

namespace raftlog::tools::testing {
namespace {

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif

constexpr uint64_t kEntryBytes = 16u << 10;

// A log of about `bytes` of entry data, written fast: no syncs, big batches.
void MakeLog(const std::string& dir, uint64_t bytes) {
  engine::Options options;
  options.sync = engine::SyncPolicy::kNever;
  auto log = engine::LogEngine::Open(dir, options);
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  std::string data(kEntryBytes, '\0');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 131 % 251);
  constexpr uint64_t kBatch = 256;  // 4 MiB per append
  std::vector<format::EntryView> batch(kBatch);
  uint64_t index = 1;
  for (uint64_t written = 0; written < bytes; written += kBatch * kEntryBytes) {
    for (uint64_t k = 0; k < kBatch; ++k, ++index) batch[k] = {index, 1, 0, data};
    ASSERT_TRUE((*log)->Append(batch, engine::AppendOptions{.sync = false}).ok());
  }
  ASSERT_TRUE((*log)->Close().ok());
}

uint64_t DumpPeakRssKib(const std::string& dir, uint64_t* entries) {
  // JSON with every entry's data in base64: the most output per entry.
  CliOptions options;
  options.discard_stdout = true;
  options.timeout = std::chrono::seconds(600);
  const CliResult r = RunCli({"dump", dir, "--format", "json", "--data"}, options);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  const CliResult info = RunCli({"info", dir, "--format", "json"});
  *entries = info.Json()["entries"].get<uint64_t>();
  return r.max_rss_kib;
}

void ExpectFlat(uint64_t small_bytes, uint64_t large_bytes) {
  testutil::TempDir tmp("dump-memory");
  MakeLog(tmp.Sub("small"), small_bytes);
  MakeLog(tmp.Sub("large"), large_bytes);
  uint64_t small_entries = 0, large_entries = 0;
  const uint64_t small = DumpPeakRssKib(tmp.Sub("small"), &small_entries);
  const uint64_t large = DumpPeakRssKib(tmp.Sub("large"), &large_entries);
  EXPECT_EQ(large_entries * kEntryBytes / (1 << 20), large_bytes / (1 << 20));
  ::testing::Test::RecordProperty("peak_rss_kib_small", std::to_string(small));
  ::testing::Test::RecordProperty("peak_rss_kib_large", std::to_string(large));
  std::printf(
      "dump peak RSS: %llu KiB for %llu MiB, %llu KiB for %llu MiB\n",
      static_cast<unsigned long long>(small), static_cast<unsigned long long>(small_bytes >> 20),
      static_cast<unsigned long long>(large), static_cast<unsigned long long>(large_bytes >> 20));
  // Flat: a log 16-64 times larger costs at most a few MiB more (the read
  // window is 4 MiB, the largest frame 1 MiB).
  EXPECT_LT(large, small + 8 * 1024);
  if (!kSanitized) {
    // ASan's shadow memory inflates RSS. The engine's read-only open, which
    // gives every command its verdict first, maps and scans the active
    // segment (64 MiB, file-backed pages released when it closes): a cost
    // bounded by the segment size, not by the log's.
    EXPECT_LT(large, 48u * 1024 + 64u * 1024);
  }
}

TEST(DumpMemoryTest, PeakRssDoesNotGrowWithTheLog) {
  if (kSanitized) {
    // ASan keeps freed blocks in a quarantine (256 MiB by default), which
    // would grow the child's RSS with every entry it formats: keep it small
    // so that what is measured is the tool's own memory. And a smaller log:
    // everything runs several times slower.
    const char* old = std::getenv("ASAN_OPTIONS");
    const std::string options = std::string(old != nullptr ? old : "") +
                                (old != nullptr ? ":" : "") + "quarantine_size_mb=1";
    ::setenv("ASAN_OPTIONS", options.c_str(), 1);
    ExpectFlat(16u << 20, 64u << 20);
    return;
  }
  ExpectFlat(16u << 20, 256u << 20);
}

TEST(DumpMemoryTest, SoakOneGibLog) {
  if (std::getenv("RAFTLOG_SOAK") == nullptr) GTEST_SKIP() << "set RAFTLOG_SOAK=1 (ctest -L soak)";
  ExpectFlat(16u << 20, 1u << 30);
}

}  // namespace
}  // namespace raftlog::tools::testing
