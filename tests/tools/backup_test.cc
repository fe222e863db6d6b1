// raftlog backup DIR DEST: a verified copy that opens and reads like the
// log, of a closed log and beside a live writer; DEST never overwritten;
// a failure leaves neither DEST nor DEST.tmp.

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "raftlog/engine/disk_storage.h"
#include "tests/testutil/temp_dir.h"
#include "tests/tools/cli_runner.h"
#include "tests/tools/log_builder.h"

namespace raftlog::tools::testing {
namespace {

namespace fs = std::filesystem;

// Every entry of a dump, for comparing a copy with its log.
std::vector<nlohmann::json> DumpAll(const std::string& dir) {
  const CliResult r = RunCli({"dump", dir, "--format", "json", "--data"});
  EXPECT_EQ(r.exit_code, 0) << dir << ": " << r.err;
  return r.JsonLines();
}

TEST(BackupTest, CopyOfAClosedLogIsTheSameLog) {
  testutil::TempDir tmp("backup");
  const std::string dir = tmp.Sub("log");
  ASSERT_TRUE(BuildLog(dir, LogSpec{}).ok());
  const std::string dest = tmp.Sub("copy");

  const CliResult r = RunCli({"backup", dir, dest, "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json j = r.Json();
  EXPECT_EQ(j["first_index"], 501);
  EXPECT_EQ(j["last_index"], 3000);
  EXPECT_EQ(j["hard_state"], nlohmann::json({{"term", 2}, {"vote", 1}, {"commit", 2900}}));
  EXPECT_EQ(j["verified"], true);
  EXPECT_EQ(j["snapshot_files"], 1);
  EXPECT_FALSE(fs::exists(dest + ".tmp"));

  const CliResult verify = RunCli({"verify", dest, "--no-progress"});
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
  nlohmann::json info_src = RunCli({"info", dir, "--format", "json"}).Json();
  nlohmann::json info_copy = RunCli({"info", dest, "--format", "json"}).Json();
  for (const char* key : {"first_index", "last_index", "hard_state", "conf_state", "snapshot",
                          "term_runs", "entry_types"}) {
    EXPECT_EQ(info_copy[key], info_src[key]) << key;
  }
  EXPECT_EQ(DumpAll(dest), DumpAll(dir));
  // The copy works as a log: the engine opens it for writing.
  auto storage = engine::DiskStorage::Open(dest, {});
  ASSERT_TRUE(storage.ok()) << storage.status().ToString();
  EXPECT_EQ(*(*storage)->LastIndex(), 3000u);
}

TEST(BackupTest, NeverWritesOverAnything) {
  testutil::TempDir tmp("backup");
  const std::string dir = tmp.Sub("log");
  LogSpec spec;
  spec.entries = 300;
  spec.snapshot_index = 0;
  spec.compact_index = 0;
  spec.hard_state = {2, 1, 300};
  ASSERT_TRUE(BuildLog(dir, spec).ok());
  const std::string dest = tmp.Sub("copy");
  fs::create_directory(dest);
  CliResult r = RunCli({"backup", dir, dest});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find(dest + ": already exists"), std::string::npos) << r.err;
  EXPECT_TRUE(fs::is_empty(dest));

  // Nor over what a stopped backup left.
  fs::remove(dest);
  fs::create_directory(dest + ".tmp");
  r = RunCli({"backup", dir, dest});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find(dest + ".tmp: already exists"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dest));
}

// A log whose copy cannot verify (a sealed segment's frame damaged, which
// the engine only meets on reading it) gives an error and no copy at all.
TEST(BackupTest, FailureLeavesNoCopy) {
  testutil::TempDir tmp("backup");
  const std::string dir = tmp.Sub("log");
  ASSERT_TRUE(BuildLog(dir, LogSpec{}).ok());
  const auto frames = Frames(SegmentPath(dir, 2));
  ASSERT_GT(frames.size(), 3u);
  FlipByte(SegmentPath(dir, 2), frames[3].offset + 100);
  const std::string dest = tmp.Sub("copy");
  const CliResult r = RunCli({"backup", dir, dest});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("the copy does not verify"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dest));
  EXPECT_FALSE(fs::exists(dest + ".tmp"));

  // A directory that is not a log.
  const CliResult other = RunCli({"backup", tmp.Sub("nothing"), dest});
  EXPECT_EQ(other.exit_code, 3) << other.err;
  EXPECT_FALSE(fs::exists(dest));
  EXPECT_FALSE(fs::exists(dest + ".tmp"));
}

// Beside a writer appending, sealing segments, taking snapshots and
// compacting: each copy verifies, and holds exactly the log's entries from
// its first to its last index, and the snapshot its metadata names.
TEST(BackupTest, CopyOfALiveLogIsConsistent) {
  testutil::TempDir tmp("backup");
  const std::string dir = tmp.Sub("log");
  engine::DiskStorageOptions options;
  options.engine.segment_bytes = 256u << 10;
  options.engine.sync = engine::SyncPolicy::kNever;
  auto opened = engine::DiskStorage::Open(dir, options);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  std::unique_ptr<engine::DiskStorage> storage = std::move(*opened);
  std::atomic<bool> stop{false}, failed{false};
  std::atomic<uint64_t> last{0};
  std::thread writer([&] {
    while (!stop) {
      std::vector<raft::Entry> batch;
      const uint64_t first = last.load() + 1;
      for (uint64_t i = first; i < first + 20; ++i) {
        batch.push_back(raft::Entry{1, i, raft::EntryType::kNormal, "entry " + std::to_string(i)});
      }
      if (!storage->Save(raft::HardState{1, 1, first - 1}, batch, nullptr, true).ok()) {
        failed = true;
        return;
      }
      last = first + 19;
      // Now and then a snapshot, and the log compacted behind it: segments
      // and snapshot files go away while a backup may be copying them.
      if (last % 1000 == 0) {
        raft::ConfState cs;
        cs.voters = {1};
        if (!storage->CreateSnapshot(last - 200, &cs, "state at " + std::to_string(last - 200))
                 .ok() ||
            !storage->Compact(last - 400).ok()) {
          failed = true;
          return;
        }
      }
      std::this_thread::sleep_for(std::chrono::microseconds(300));
    }
  });
  // Stops the writer however the test ends (an ASSERT returns early).
  struct Joiner {
    std::atomic<bool>* stop;
    std::thread* thread;
    ~Joiner() {
      *stop = true;
      if (thread->joinable()) thread->join();
    }
  } joiner{&stop, &writer};
  while (last.load() < 2000 && !failed.load()) std::this_thread::yield();

  for (int round = 0; round < 3; ++round) {
    const std::string dest = tmp.Sub("copy" + std::to_string(round));
    const uint64_t before = last.load();
    const CliResult r = RunCli({"backup", dir, dest, "--format", "json"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const nlohmann::json j = r.Json();
    EXPECT_GE(j["last_index"].get<uint64_t>(), before);
    EXPECT_LE(j["hard_state"]["commit"].get<uint64_t>(), j["last_index"].get<uint64_t>());
    const CliResult verify = RunCli({"verify", dest, "--no-progress", "--strict"});
    EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
    const uint64_t first = j["first_index"].get<uint64_t>();
    const auto entries = DumpAll(dest);
    ASSERT_EQ(entries.size(), j["last_index"].get<uint64_t>() + 1 - first);
    for (size_t k = 0; k < entries.size(); k += 97) {
      EXPECT_EQ(Base64Decode(entries[k]["data"].get<std::string>()),
                "entry " + std::to_string(first + k));
    }
    const CliResult snap = RunCli({"snapshot", "verify", dest});
    EXPECT_EQ(snap.exit_code, 0) << snap.err;
  }
  stop = true;
  writer.join();
  EXPECT_FALSE(failed.load());
  EXPECT_TRUE(storage->Close().ok());
}

}  // namespace
}  // namespace raftlog::tools::testing
