// Read-only commands beside a fast live writer report the log as of their
// start and never take the writer's progress for damage: no finding at all,
// run after run, while entries are appended, segments sealed and created,
// and the HardState's commit index moves.

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "raftlog/engine/disk_storage.h"
#include "tests/testutil/temp_dir.h"
#include "tests/tools/cli_runner.h"

namespace raftlog::tools::testing {
namespace {

class LiveWriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    engine::DiskStorageOptions options;
    // Small segments: the writer seals one and starts the next every few
    // hundred entries, as often as the commands run.
    options.engine.segment_bytes = 256u << 10;
    options.engine.sync = engine::SyncPolicy::kNever;  // as fast as it goes
    // And the cold worker rewrites sealed segments meanwhile: a rewrite
    // being written and a swapped segment's raw file not yet removed are
    // progress too, not leftovers.
    options.engine.compression_mode = engine::CompressionMode::kColdSegments;
    auto storage = engine::DiskStorage::Open(dir_, options);
    ASSERT_TRUE(storage.ok()) << storage.status().ToString();
    storage_ = std::move(*storage);
    writer_ = std::thread([this] { Write(); });
    // Some log before the first command.
    while (next_.load() < 2000 && !failed_.load()) std::this_thread::yield();
  }

  void TearDown() override {
    stop_ = true;
    if (writer_.joinable()) writer_.join();
    EXPECT_FALSE(failed_.load());
    if (storage_) {
      EXPECT_TRUE(storage_->Close().ok());
    }
  }

  // Appends batches of 20 entries of 100 bytes, with the HardState's
  // commit index following the log and the term moving now and then.
  void Write() {
    uint64_t term = 1;
    while (!stop_) {
      std::vector<raft::Entry> batch;
      const uint64_t first = next_.load() + 1;
      if (first % 5000 < 20) ++term;
      for (uint64_t i = first; i < first + 20; ++i) {
        batch.push_back(raft::Entry{term, i, raft::EntryType::kNormal, std::string(100, 'w')});
      }
      const raft::HardState hs{term, 1, first - 1};
      if (!storage_->Save(hs, batch, nullptr, /*must_sync=*/true).ok()) {
        failed_ = true;
        return;
      }
      next_ = first + 19;
      // Fast, but not so fast that each command reads a much larger log
      // than the one before.
      std::this_thread::sleep_for(std::chrono::microseconds(300));
    }
  }

  testutil::TempDir tmp_{"live"};
  const std::string dir_ = tmp_.Sub("log");
  std::unique_ptr<engine::DiskStorage> storage_;
  std::thread writer_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> failed_{false};
  std::atomic<uint64_t> next_{0};  // the last index written
};

TEST_F(LiveWriterTest, VerifyReportsNothingRunAfterRun) {
  const uint64_t at_start = next_.load();
  for (int run = 0; run < 30; ++run) {
    SCOPED_TRACE("run " + std::to_string(run));
    const uint64_t before = next_.load();
    const CliResult r = RunCli({"verify", dir_, "--format", "json", "--no-progress"});
    ASSERT_EQ(r.signal, 0) << r.err;
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    const auto j = r.Json();
    EXPECT_TRUE(j["findings"].empty()) << j["findings"].dump(2);
    // It saw the log at least as it was when it started.
    EXPECT_GE(j["checked"]["last_index"].get<uint64_t>(), before);
    if (::testing::Test::HasFailure()) break;
  }
  // The writer kept going meanwhile (how far depends on the machine's load).
  EXPECT_GT(next_.load(), at_start);
}

TEST_F(LiveWriterTest, InfoAndDumpReportNothingRunAfterRun) {
  // info and dump read every entry and the writer never stops, so each run
  // takes longer than the one before: at most 30 runs, and no new one after
  // 20 s (under a sanitizer or a loaded machine that comes first), at least 3.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  for (int run = 0; run < 30 && (run < 3 || std::chrono::steady_clock::now() < deadline); ++run) {
    SCOPED_TRACE("run " + std::to_string(run));
    const CliResult info = RunCli({"info", dir_, "--format", "json"});
    ASSERT_EQ(info.signal, 0) << info.err;
    EXPECT_EQ(info.exit_code, 0) << info.err;
    const auto j = info.Json();
    EXPECT_TRUE(j["problems"].empty()) << j["problems"].dump(2);
    // The counts agree with the range (every entry is a normal one).
    EXPECT_EQ(j["entry_types"]["normal"], j["entries"]);
    const CliResult dump = RunCli({"dump", dir_}, CliOptions{.discard_stdout = true});
    ASSERT_EQ(dump.signal, 0) << dump.err;
    EXPECT_EQ(dump.exit_code, 0) << dump.err;
    EXPECT_EQ(dump.err, "");
    if (::testing::Test::HasFailure()) break;
  }
}

}  // namespace
}  // namespace raftlog::tools::testing
