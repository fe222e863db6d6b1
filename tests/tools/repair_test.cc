// raftlog repair: cuts torn or (on request) corrupt tails, keeps the cut
// bytes, refuses everything else, and leaves a log the engine opens.

#include <gtest/gtest.h>

#include <filesystem>

#include "raftlog/engine/log_engine.h"
#include "raftlog/engine/disk_storage.h"
#include "tests/testutil/temp_dir.h"
#include "tests/tools/cli_runner.h"
#include "tests/tools/log_builder.h"

namespace raftlog::tools::testing {
namespace {

class RepairTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(BuildLog(dir_, spec_).ok()); }

  std::string ActivePath() const { return SegmentPath(dir_, 3); }

  // The files repair left in the log directory.
  std::vector<std::string> SideFiles() const {
    std::vector<std::string> out;
    for (const auto& e : std::filesystem::directory_iterator(dir_)) {
      if (e.path().extension() == ".cut") out.push_back(e.path().string());
    }
    return out;
  }

  // Appends one entry with the engine (read-write) and reads it back.
  // `strict`: verify must find no warning either; else verify must find
  // exactly the committed entries the cut removed (an error).
  void AppendAfterRepair(uint64_t expected_last, bool strict) {
    engine::Options options;
    options.segment_bytes = spec_.segment_bytes;
    auto log = engine::LogEngine::Open(dir_, options);
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    ASSERT_EQ((*log)->LastIndex(), expected_last);
    const format::EntryView e{expected_last + 1, 2, 0, "after repair"};
    ASSERT_TRUE((*log)->Append({&e, 1}, engine::AppendOptions{}).ok());
    ASSERT_TRUE((*log)->Close().ok());
    const CliResult v = strict ? RunCli({"verify", dir_, "--strict"}) : RunCli({"verify", dir_});
    if (strict) {
      EXPECT_EQ(v.exit_code, 0) << v.out;
    } else {
      EXPECT_EQ(v.exit_code, 1) << v.out;
      EXPECT_NE(v.out.find("error: meta.mdb: key state/hardstate: the HardState's commit index "
                           "2900 is beyond the last entry the engine serves (" +
                           std::to_string(expected_last + 1) + ")"),
                std::string::npos)
          << v.out;
      EXPECT_NE(v.out.find("FAILED: 1 error(s)"), std::string::npos) << v.out;
    }
    const CliResult d = RunCli(
        {"dump", dir_, "--format", "json", "--from", std::to_string(expected_last + 1), "--data"});
    ASSERT_EQ(d.JsonLines().size(), 1u);
    EXPECT_EQ(Base64Decode(d.JsonLines()[0]["data"]), "after repair");
  }

  testutil::TempDir tmp_{"repair"};
  const std::string dir_ = tmp_.Sub("log");
  const LogSpec spec_{};
};

TEST_F(RepairTest, CutsATornTailAndKeepsTheCutBytes) {
  const auto frames = Frames(ActivePath());
  const uint64_t end = frames.back().offset + frames.back().frame_bytes;
  const std::string torn = std::string("RLFR\x01\0\0\0", 8) + std::string(92, 'x');
  std::string bytes = ReadFile(ActivePath());
  bytes.replace(end, torn.size(), torn);
  WriteFile(ActivePath(), bytes);

  const CliResult r = RunCli({"repair", dir_});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("cut: segments/0000000000000003.seg bytes [" + std::to_string(end) + ", " +
                       std::to_string(end + torn.size()) + ") (100 bytes"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("the engine opens the log: entries 501 .. 3000"), std::string::npos);
  const auto side = SideFiles();
  ASSERT_EQ(side.size(), 1u);
  EXPECT_EQ(ReadFile(side[0]), torn);
  EXPECT_NE(r.out.find(side[0]), std::string::npos);
  // The segment is zero from the cut on.
  const std::string after = ReadFile(ActivePath());
  EXPECT_EQ(after.substr(0, end), bytes.substr(0, end));
  EXPECT_EQ(after.substr(end, 200), std::string(200, '\0'));
  AppendAfterRepair(3000, /*strict=*/true);
}

TEST_F(RepairTest, RefusesCorruptionFollowedByValidFramesUnlessAsked) {
  const auto frames = Frames(ActivePath());
  FlipByte(ActivePath(), frames[3].offset + 64);
  const auto before = DirContents(dir_);
  const std::string damaged = ReadFile(ActivePath());

  CliResult r = RunCli({"repair", dir_});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("--truncate-at-corruption"), std::string::npos) << r.err;
  EXPECT_EQ(DirContents(dir_), before);

  r = RunCli({"repair", dir_, "--truncate-at-corruption", "--dry-run"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("dry run: nothing was changed"), std::string::npos);
  EXPECT_EQ(DirContents(dir_), before);

  r = RunCli({"repair", dir_, "--truncate-at-corruption"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("including " + std::to_string(frames.size() - 4) + " valid frame(s)"),
            std::string::npos)
      << r.out;
  // Committed entries were cut: the tool says so.
  EXPECT_NE(r.out.find("warning: the HardState's commit index 2900"), std::string::npos);
  // The side file holds the segment's bytes from the bad frame up to the
  // last non-zero byte; only zeros followed them.
  const auto side = SideFiles();
  ASSERT_EQ(side.size(), 1u);
  const std::string cut = ReadFile(side[0]);
  const uint64_t end = frames.back().offset + frames.back().frame_bytes;
  ASSERT_GT(cut.size(), end - frames[3].offset - 8);
  const std::string& original = damaged;
  EXPECT_EQ(cut, original.substr(frames[3].offset, cut.size()));
  EXPECT_EQ(original.find_first_not_of('\0', frames[3].offset + cut.size()), std::string::npos);
  // The HardState's commit 2900 is still above the new end: committed
  // entries were cut on request, and verify keeps saying so.
  AppendAfterRepair(frames[3].first_index - 1, /*strict=*/false);
}

TEST_F(RepairTest, RefusesALockedLog) {
  auto storage = engine::DiskStorage::Open(dir_, engine::DiskStorageOptions{});
  ASSERT_TRUE(storage.ok());
  const CliResult r = RunCli({"repair", dir_});
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_NE(r.err.find("is open by another process"), std::string::npos) << r.err;
  EXPECT_TRUE(SideFiles().empty());
}

TEST_F(RepairTest, RefusesDamageInASealedSegment) {
  const auto frames = Frames(SegmentPath(dir_, 2));
  FlipByte(SegmentPath(dir_, 2), frames[4].offset + 99);
  const auto before = DirContents(dir_);
  const CliResult r = RunCli({"repair", dir_, "--truncate-at-corruption"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(
      r.err.find("segments/0000000000000002.seg at offset " + std::to_string(frames[4].offset)),
      std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("never drops acknowledged entries of sealed segments"), std::string::npos);
  EXPECT_EQ(DirContents(dir_), before);
}

TEST_F(RepairTest, CleanLogNeedsNothing) {
  const auto before = DirContents(dir_);
  const CliResult r = RunCli({"repair", dir_});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out.rfind("nothing to repair", 0), 0u) << r.out;
  EXPECT_EQ(DirContents(dir_), before);
}

}  // namespace
}  // namespace raftlog::tools::testing
