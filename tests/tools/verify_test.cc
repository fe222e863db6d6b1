// raftlog verify: clean logs, and logs damaged in known ways, with the
// findings (file, offset, severity) and exit codes expected of each.

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <thread>

#include "raftlog/engine/disk_storage.h"
#include "raftlog/engine/meta_store.h"
#include "raftlog/format/layout.h"
#include "tests/testutil/fault_file_system.h"
#include "tests/testutil/temp_dir.h"
#include "tests/tools/cli_runner.h"
#include "tests/tools/log_builder.h"

namespace raftlog::tools::testing {
namespace {

class VerifyTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(BuildLog(dir_, spec_).ok()); }

  nlohmann::json Verify(int want_exit, const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args = {"verify", dir_, "--format", "json"};
    args.insert(args.end(), extra.begin(), extra.end());
    const CliResult r = RunCli(args);
    EXPECT_EQ(r.signal, 0);
    EXPECT_EQ(r.exit_code, want_exit) << r.out << r.err;
    EXPECT_EQ(r.err, "");  // no progress bar: stderr is not a terminal
    return r.Json();
  }

  // The findings of `severity` ("error" or "warning").
  static std::vector<nlohmann::json> Of(const nlohmann::json& j, const std::string& severity) {
    std::vector<nlohmann::json> out;
    for (const auto& f : j["findings"]) {
      if (f["severity"] == severity) out.push_back(f);
    }
    return out;
  }

  // The error findings other than the engine's own verdict (file "", "the
  // engine refuses ..."), which accompanies damage the engine meets on open.
  static std::vector<nlohmann::json> OwnErrors(const nlohmann::json& j) {
    std::vector<nlohmann::json> out;
    for (const auto& f : Of(j, "error")) {
      if (f["file"] != "" || f["what"].get<std::string>().rfind("the engine refuses", 0) != 0) {
        out.push_back(f);
      }
    }
    return out;
  }
  static bool EngineRefuses(const nlohmann::json& j) {
    return Of(j, "error").size() > OwnErrors(j).size();
  }

  std::string SealedPath() const { return SegmentPath(dir_, 2); }
  std::string ActivePath() const { return SegmentPath(dir_, 3); }

  testutil::TempDir tmp_{"verify"};
  const std::string dir_ = tmp_.Sub("log");
  const LogSpec spec_{};
};

TEST_F(VerifyTest, CleanLogIsOk) {
  const nlohmann::json j = Verify(0);
  EXPECT_EQ(j["ok"], true);
  EXPECT_EQ(j["errors"], 0);
  EXPECT_EQ(j["warnings"], 0);
  EXPECT_TRUE(j["findings"].empty());
  EXPECT_EQ(j["checked"]["metadata"], true);
  EXPECT_EQ(j["checked"]["segments"], 3);
  EXPECT_EQ(j["checked"]["sealed_segments"], 2);
  EXPECT_EQ(j["checked"]["entries"], 2500);
  EXPECT_EQ(j["checked"]["first_index"], 501);
  EXPECT_EQ(j["checked"]["last_index"], 3000);
  EXPECT_EQ(j["checked"]["snapshots"], 1);
  EXPECT_EQ(j["checked"]["engine_open"], true);

  const CliResult text = RunCli({"verify", dir_});
  EXPECT_EQ(text.exit_code, 0);
  EXPECT_NE(text.out.find("OK: 0 error(s), 0 warning(s)"), std::string::npos) << text.out;
}

// A log whose segments were written into recycled files (compacted segment
// files reused as spares: stale frames of the old segment after the new
// frames, an all-zero frame header between) and that keeps a recycled spare
// is clean: no torn write, no stray or odd spare, every entry dumped.
TEST(VerifyRecycledTest, ALogWrittenIntoRecycledFilesIsClean) {
  testutil::TempDir tmp("verify_recycled");
  const std::string dir = tmp.Sub("log");
  engine::DiskStorageOptions options;
  options.engine.segment_bytes = 1u << 20;
  options.engine.recycled_segments = 4;
  auto storage = engine::DiskStorage::Open(dir, options);
  ASSERT_TRUE(storage.ok()) << storage.status().ToString();
  const LogSpec spec;
  uint64_t next = 1;
  auto append = [&](uint64_t count) {
    for (uint64_t k = 0; k < count; k += 50) {
      std::vector<raft::Entry> batch;
      for (int i = 0; i < 50; ++i, ++next) {
        batch.push_back(raft::Entry{1, next, raft::EntryType::kNormal, EntryData(spec, next)});
      }
      ASSERT_TRUE((*storage)->Append(batch).ok());
    }
  };
  append(5000);
  ASSERT_TRUE((*storage)->Compact(4500).ok());
  for (int round = 0; round < 20 && (*storage)->engine().GetStats().segments_recycled < 2;
       ++round) {
    append(1000);
  }
  ASSERT_GE((*storage)->engine().GetStats().segments_recycled, 2u);
  append(100);  // a few entries into the (recycled) active segment
  const uint64_t last = next - 1;
  ASSERT_TRUE((*storage)->Close().ok());

  const CliResult r = RunCli({"verify", dir, "--format", "json"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  const nlohmann::json j = r.Json();
  EXPECT_EQ(j["errors"], 0) << r.out;
  EXPECT_EQ(j["warnings"], 0) << r.out;
  EXPECT_EQ(j["checked"]["first_index"], 4501);
  EXPECT_EQ(j["checked"]["last_index"], last);

  const CliResult dump = RunCli({"dump", dir, "--from", std::to_string(last - 1)});
  EXPECT_EQ(dump.exit_code, 0) << dump.err;
  EXPECT_NE(dump.out.find("\n" + std::to_string(last) + " "), std::string::npos) << dump.out;
}

TEST_F(VerifyTest, TornTailIsAWarningAndStrictFailsOnIt) {
  const auto frames = Frames(ActivePath());
  const uint64_t end = frames.back().offset + frames.back().frame_bytes;
  std::string bytes = ReadFile(ActivePath());
  bytes.replace(end, 40, std::string("RLFR\x01\0\0\0", 8) + std::string(32, 'x'));
  WriteFile(ActivePath(), bytes);

  nlohmann::json j = Verify(0);
  EXPECT_EQ(j["errors"], 0);
  const auto warnings = Of(j, "warning");
  ASSERT_EQ(warnings.size(), 1u) << j.dump(2);
  EXPECT_EQ(warnings[0]["file"], "segments/0000000000000003.seg");
  EXPECT_EQ(warnings[0]["offset"], end);
  EXPECT_NE(warnings[0]["what"].get<std::string>().find("torn write"), std::string::npos);
  EXPECT_NE(warnings[0]["what"].get<std::string>().find("40 bytes"), std::string::npos);
  j = Verify(1, {"--strict"});
  EXPECT_EQ(j["ok"], false);
}

TEST_F(VerifyTest, BitFlipInASealedSegmentIsAnErrorAtItsFrame) {
  const auto frames = Frames(SealedPath());
  FlipByte(SealedPath(), frames[7].offset + 300);
  const nlohmann::json j = Verify(1);
  const auto errors = Of(j, "error");
  ASSERT_EQ(errors.size(), 1u) << j.dump(2);
  EXPECT_EQ(errors[0]["file"], "segments/0000000000000002.seg");
  EXPECT_EQ(errors[0]["offset"], frames[7].offset);
  EXPECT_NE(errors[0]["what"].get<std::string>().find("checksum mismatch"), std::string::npos);
  EXPECT_FALSE(errors[0]["hint"].get<std::string>().empty());
  // It kept going: every other frame was still checked.
  EXPECT_EQ(j["checked"]["frames"].get<uint64_t>() + 1, 62u);
}

TEST_F(VerifyTest, SeveralProblemsAreAllReported) {
  const auto sealed = Frames(SealedPath());
  FlipByte(SealedPath(), sealed[2].offset + 200);
  FlipByte(SealedPath(), sealed[9].offset + 200);
  const auto snaps = std::filesystem::directory_iterator(dir_ + "/snapshots");
  FlipByte(std::filesystem::begin(snaps)->path().string(), 60);
  const nlohmann::json j = Verify(1);
  EXPECT_EQ(j["errors"], 3) << j.dump(2);
}

TEST_F(VerifyTest, CorruptionFollowedByValidFramesInTheActiveSegmentIsAnError) {
  const auto frames = Frames(ActivePath());
  ASSERT_GT(frames.size(), 4u);
  FlipByte(ActivePath(), frames[3].offset + 64);
  const nlohmann::json j = Verify(1);
  const auto errors = OwnErrors(j);
  ASSERT_EQ(errors.size(), 1u) << j.dump(2);
  EXPECT_TRUE(EngineRefuses(j)) << j.dump(2);
  EXPECT_EQ(errors[0]["file"], "segments/0000000000000003.seg");
  EXPECT_EQ(errors[0]["offset"], frames[3].offset);
  EXPECT_NE(errors[0]["what"].get<std::string>().find(
                "followed by " + std::to_string(frames.size() - 4) +
                " valid frame(s) from offset " + std::to_string(frames[4].offset)),
            std::string::npos)
      << errors[0]["what"];
  EXPECT_NE(errors[0]["hint"].get<std::string>().find("--truncate-at-corruption"),
            std::string::npos);
}

TEST_F(VerifyTest, MissingSegmentIsAnError) {
  std::filesystem::remove(SealedPath());
  const nlohmann::json j = Verify(1);
  const auto errors = OwnErrors(j);
  ASSERT_EQ(errors.size(), 1u) << j.dump(2);
  EXPECT_TRUE(EngineRefuses(j)) << j.dump(2);
  EXPECT_EQ(errors[0]["file"], "segments/0000000000000002.seg");
  EXPECT_EQ(errors[0]["offset"], nullptr);
  EXPECT_EQ(errors[0]["what"].get<std::string>().rfind("missing", 0), 0u);
}

TEST_F(VerifyTest, TruncatedLmdbFileIsAnErrorAndTheSegmentsAreStillChecked) {
  std::filesystem::resize_file(dir_ + "/meta.mdb", 12288);
  const nlohmann::json j = Verify(1);
  const auto errors = Of(j, "error");
  ASSERT_EQ(errors.size(), 1u) << j.dump(2);
  EXPECT_EQ(errors[0]["file"], "meta.mdb");
  EXPECT_NE(errors[0]["what"].get<std::string>().find("truncated"), std::string::npos);
  EXPECT_EQ(j["checked"]["metadata"], false);
  EXPECT_EQ(j["checked"]["segments"], 3);
  EXPECT_EQ(j["checked"]["frames"], 62);
  EXPECT_EQ(j["checked"]["snapshots"], 1);

  // The commands that need the metadata say so in one line, and never crash.
  for (const char* command : {"info", "dump", "repair"}) {
    const CliResult r = RunCli({command, dir_});
    EXPECT_EQ(r.signal, 0) << command;
    EXPECT_NE(r.exit_code, 0) << command;
    EXPECT_NE(r.err.find("meta.mdb: truncated"), std::string::npos) << command << ": " << r.err;
  }
}

TEST_F(VerifyTest, GarbageFileNamedLikeASegment) {
  // Not in the manifest: a warning (the engine deletes it on open).
  const std::string garbage = SegmentPath(dir_, 9);
  std::string junk(300000, '\0');
  for (size_t i = 0; i < junk.size(); ++i) junk[i] = static_cast<char>(i * 7919 % 251);
  WriteFile(garbage, junk);
  WriteFile(dir_ + "/segments/notes.txt", "hello");
  nlohmann::json j = Verify(0);
  auto warnings = Of(j, "warning");
  ASSERT_EQ(warnings.size(), 2u) << j.dump(2);
  EXPECT_EQ(warnings[0]["file"], "segments/0000000000000009.seg");
  EXPECT_EQ(warnings[1]["file"], "segments/notes.txt");

  // In place of a listed segment: an error.
  WriteFile(SealedPath(), junk);
  j = Verify(1);
  const auto errors = Of(j, "error");
  ASSERT_GE(errors.size(), 1u) << j.dump(2);
  EXPECT_EQ(errors[0]["file"], "segments/0000000000000002.seg");
}

// --writer-patience: how long an unlisted segment file (what a live
// writer's background unlink of a compacted segment leaves for a moment)
// may take to go before verify reports it. A writer that removes it within
// the patience is progress, not a finding; with 0 (a log nobody writes)
// the file is reported at once. Negative or malformed values are usage
// errors.
TEST_F(VerifyTest, WriterPatienceIsHowLongAnUnlistedFileMayTakeToGo) {
  const std::string stray = SegmentPath(dir_, 9);
  const std::string junk(4096, 'j');
  WriteFile(stray, junk);
  std::thread writer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    std::filesystem::remove(stray);
  });
  nlohmann::json j = Verify(0, {"--writer-patience", "30"});
  writer.join();
  EXPECT_TRUE(j["findings"].empty()) << j.dump(2);

  WriteFile(stray, junk);
  j = Verify(0, {"--writer-patience", "0"});
  const auto warnings = Of(j, "warning");
  ASSERT_EQ(warnings.size(), 1u) << j.dump(2);
  EXPECT_EQ(warnings[0]["file"], "segments/0000000000000009.seg");

  for (const std::string bad : {"-1", "abc", "1e3", "", "0x10", "3601"}) {
    const CliResult r = RunCli({"verify", dir_, "--writer-patience", bad});
    EXPECT_EQ(r.exit_code, 2) << bad << ": " << r.out << r.err;
    EXPECT_NE(r.err.find("--writer-patience"), std::string::npos) << bad << ": " << r.err;
  }
}

// The format record is decoded by one function for the engine and the
// tool: a version 0 (never written) is damage to both.
TEST_F(VerifyTest, AFormatVersionZeroIsAnErrorAndTheEngineRefusesIt) {
  {
    auto meta = engine::MetaStore::Open(dir_ + "/meta.mdb");
    ASSERT_TRUE(meta.ok());
    engine::MetaStore::Batch b;
    b.Put("format", std::string(2, '\0'));
    ASSERT_TRUE((*meta)->Write(b).ok());
  }
  engine::DiskStorageOptions read_only;
  read_only.engine.read_only = true;
  EXPECT_TRUE(engine::DiskStorage::Open(dir_, read_only).status().IsCorruption());
  const nlohmann::json j = Verify(1);
  bool named = false;
  for (const auto& f : Of(j, "error")) {
    if (f["file"] == "meta.mdb" &&
        f["what"].get<std::string>().find("format version 0") != std::string::npos) {
      named = true;
    }
  }
  EXPECT_TRUE(named) << j.dump(2);
  EXPECT_TRUE(EngineRefuses(j)) << j.dump(2);
}

TEST_F(VerifyTest, DamagedSnapshotIsAnError) {
  const auto snaps = std::filesystem::directory_iterator(dir_ + "/snapshots");
  const std::string snap = std::filesystem::begin(snaps)->path().string();
  FlipByte(snap, 52);  // in the data block
  const nlohmann::json j = Verify(1);
  const auto errors = OwnErrors(j);
  ASSERT_EQ(errors.size(), 1u) << j.dump(2);
  // DiskStorage refuses a log whose snapshot file is damaged.
  EXPECT_TRUE(EngineRefuses(j)) << j.dump(2);
  EXPECT_EQ(errors[0]["file"], "snapshots/" + std::filesystem::path(snap).filename().string());
}

TEST_F(VerifyTest, ReadOnlyCommandsChangeNothing) {
  // Damaged, so that the commands have something to report.
  const auto frames = Frames(ActivePath());
  FlipByte(ActivePath(), frames[2].offset + 80);
  const auto before = DirContents(dir_);
  EXPECT_EQ(RunCli({"verify", dir_}).exit_code, 1);
  EXPECT_EQ(RunCli({"info", dir_}).exit_code, 1);
  EXPECT_EQ(RunCli({"dump", dir_}, CliOptions{.discard_stdout = true}).exit_code, 1);
  EXPECT_EQ(RunCli({"repair", dir_, "--truncate-at-corruption", "--dry-run"}).exit_code, 0);
  EXPECT_EQ(DirContents(dir_), before);
}

TEST_F(VerifyTest, ReadOnlyCommandsRunBesideAWriter) {
  // A writer has the log open and holds LOCK.
  auto storage = engine::DiskStorage::Open(dir_, engine::DiskStorageOptions{});
  ASSERT_TRUE(storage.ok()) << storage.status().ToString();
  EXPECT_EQ(RunCli({"verify", dir_}).exit_code, 0);
  EXPECT_EQ(RunCli({"info", dir_}).exit_code, 0);
  EXPECT_EQ(RunCli({"dump", dir_}, CliOptions{.discard_stdout = true}).exit_code, 0);
}

// The storage API lets a caller Append entries of a new term before the
// SetHardState naming it, and a crash between the two leaves a HardState
// older than the entries, which the engine opens: a warning, not an error.
TEST(VerifyHardStateTest, HardStateOlderThanTheEntriesIsAWarning) {
  testutil::TempDir tmp("verify");
  const std::string dir = tmp.Sub("log");
  LogSpec spec;
  spec.hard_state = raft::HardState{1, 1, 1400};  // entries from 1501 have term 2
  ASSERT_TRUE(BuildLog(dir, spec).ok());
  const CliResult r = RunCli({"verify", dir, "--format", "json"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  const nlohmann::json j = r.Json();
  EXPECT_EQ(j["errors"], 0) << j.dump(2);
  EXPECT_EQ(j["checked"]["engine_open"], true);
  bool warned = false;
  for (const auto& f : j["findings"]) {
    warned = warned || (f["severity"] == "warning" &&
                        f["what"].get<std::string>().find("term 1 is older than entries on disk "
                                                          "(term 2)") != std::string::npos);
  }
  EXPECT_TRUE(warned) << j.dump(2);
}

// A roll whose background seal never committed (its fdatasync failed, then
// the power went): the manifest lists the full segment as active and not
// its successor, which holds the next entries. verify agrees with the
// engine: the successor continues the log (a warning: the next writable
// open lists it), its entries are checked and counted, and dump shows them.
TEST(VerifyUnfinishedRollTest, TheSuccessorIsPartOfTheLog) {
  testutil::TempDir tmp("verify_unfinished_roll");
  const std::string dir = tmp.Sub("log");
  testutil::FaultFileSystem fs;
  engine::DiskStorageOptions options;
  options.engine.file_system = &fs;
  options.engine.segment_bytes = 64u << 10;
  const LogSpec spec;
  auto batch = [&](uint64_t first) {
    std::vector<raft::Entry> entries;
    for (uint64_t i = first; i < first + 3; ++i) {
      entries.push_back(raft::Entry{1, i, raft::EntryType::kNormal, EntryData(spec, i) +
                                                                        std::string(20000, 'x')});
    }
    return entries;
  };
  {
    auto storage = engine::DiskStorage::Open(dir, options);
    ASSERT_TRUE(storage.ok()) << storage.status().ToString();
    ASSERT_TRUE((*storage)->Append(batch(1)).ok());  // fills the first segment
    fs.FailAlways(testutil::FsOp::kSync, EIO, format::layout::SegmentFileName(1));
    EXPECT_FALSE((*storage)->Append(batch(4)).ok());  // rolls; the seal's fdatasync fails
    (*storage)->Abandon();
  }
  fs.ClearFaults();
  ASSERT_TRUE(fs.SimulatePowerLoss(testutil::PowerLossMode::kDropUnsynced).ok());

  const CliResult r = RunCli({"verify", dir, "--format", "json"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  const nlohmann::json j = r.Json();
  EXPECT_EQ(j["errors"], 0) << r.out;
  EXPECT_EQ(j["checked"]["last_index"], 6) << r.out;
  EXPECT_EQ(j["checked"]["engine_open"], true);
  bool reported = false;
  for (const auto& f : j["findings"]) {
    if (f["what"].get<std::string>().find("background seal was interrupted") != std::string::npos) {
      reported = true;
    }
  }
  EXPECT_TRUE(reported) << r.out;
}

}  // namespace
}  // namespace raftlog::tools::testing
