// raftlog repair --compact-to N: damage wholly in entries up to N (the
// newest snapshot's index) is dropped with them and the log opens with
// every entry after N intact; damage past N, or N past the snapshot, the
// commit index or the log, is refused with nothing changed.

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <string>

#include "raftlog/engine/disk_storage.h"
#include "tests/testutil/temp_dir.h"
#include "tests/tools/cli_runner.h"
#include "tests/tools/log_builder.h"

namespace raftlog::tools::testing {
namespace {

class RepairCompactTest : public ::testing::Test {
 protected:
  void Build(const LogSpec& spec) {
    spec_ = spec;
    ASSERT_TRUE(BuildLog(dir_, spec_).ok());
  }

  // Damages the frame holding `index` in segment `id` (a byte in its
  // payload); returns that frame.
  FrameAt DamageFrameHolding(uint64_t id, uint64_t index) {
    const auto frames = Frames(SegmentPath(dir_, id));
    FrameAt hit;
    for (const FrameAt& f : frames) {
      if (f.first_index <= index) hit = f;
    }
    EXPECT_NE(hit.frame_bytes, 0u);
    FlipByte(SegmentPath(dir_, id), hit.offset + 200);
    return hit;
  }

  // Opens the log with DiskStorage (read-write, as the member would) and
  // checks it serves exactly [first, last] with the data it was built with.
  void ExpectServes(uint64_t first, uint64_t last) {
    auto storage = engine::DiskStorage::Open(dir_, engine::DiskStorageOptions{});
    ASSERT_TRUE(storage.ok()) << storage.status().ToString();
    EXPECT_EQ(*(*storage)->FirstIndex(), first);
    EXPECT_EQ(*(*storage)->LastIndex(), last);
    auto entries = (*storage)->Entries(first, last + 1, UINT64_MAX);
    ASSERT_TRUE(entries.ok()) << entries.status().ToString();
    ASSERT_EQ(entries->size(), last - first + 1);
    for (const raft::Entry& e : *entries) {
      if (e.index == spec_.conf_change_index || e.index == spec_.conf_change_v2_index) continue;
      ASSERT_TRUE(e.data.view() == EntryData(spec_, e.index)) << "entry " << e.index;
    }
  }

  testutil::TempDir tmp_{"repair-compact"};
  const std::string dir_ = tmp_.Sub("log");
  LogSpec spec_;
};

// The default log: entries 501 .. 3000 (segments 1 .. 1043, 1044 .. 2084,
// then the active one), a snapshot at 1000, commit 2900.

TEST_F(RepairCompactTest, DamageBelowTheSnapshotIsDroppedAndTheLogOpens) {
  Build(LogSpec{});
  const FrameAt bad = DamageFrameHolding(1, 700);
  ASSERT_EQ(RunCli({"verify", dir_}).exit_code, 1);  // lost entries, as things stand

  const CliResult r = RunCli({"repair", "--compact-to", "1000", dir_});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("segments/0000000000000001.seg at offset " + std::to_string(bad.offset)),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("the engine opens the log and reads back every entry: 1001 .. 3000 (2000 "
                       "entries)"),
            std::string::npos)
      << r.out;
  ExpectServes(1001, 3000);
  // What is left of the damage is compacted: a warning, not an error.
  const CliResult v = RunCli({"verify", dir_});
  EXPECT_EQ(v.exit_code, 0) << v.out;
}

TEST_F(RepairCompactTest, WholeSegmentsBelowGoEvenWithADamagedFooter) {
  LogSpec spec;
  spec.snapshot_index = 2100;
  Build(spec);
  // Segment 1's footer: the engine refuses every read of the segment.
  const std::string seg1 = SegmentPath(dir_, 1);
  FlipByte(seg1, ReadFile(seg1).size() - 40);
  DamageFrameHolding(2, 1500);
  const CliResult r = RunCli({"repair", "--compact-to", "2100", dir_});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("segment removed: segments/0000000000000001.seg"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("segment removed: segments/0000000000000002.seg"), std::string::npos)
      << r.out;
  EXPECT_FALSE(std::filesystem::exists(seg1));
  EXPECT_FALSE(std::filesystem::exists(SegmentPath(dir_, 2)));
  ExpectServes(2101, 3000);
  EXPECT_EQ(RunCli({"verify", dir_}).exit_code, 0);
}

TEST_F(RepairCompactTest, DamagePastNIsRefusedWithNothingChanged) {
  Build(LogSpec{});
  const FrameAt bad = DamageFrameHolding(2, 1500);
  const auto before = DirContents(dir_);
  const CliResult r = RunCli({"repair", "--compact-to", "1000", dir_});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err.rfind("raftlog repair: --compact-to 1000 refused: damage reaches past 1000: "
                        "segments/0000000000000002.seg at offset " +
                            std::to_string(bad.offset),
                        0),
            0u)
      << r.err;
  EXPECT_NE(r.err.find("Nothing was changed."), std::string::npos);
  EXPECT_EQ(DirContents(dir_), before);
}

TEST_F(RepairCompactTest, ADamagedFooterOfTheSegmentHoldingNPlusOneIsRefused) {
  Build(LogSpec{});
  // Segment 1 holds 1 .. 1043: after a compaction to 1000 the engine still
  // reads it, through its footer.
  const std::string seg1 = SegmentPath(dir_, 1);
  FlipByte(seg1, ReadFile(seg1).size() - 40);
  const auto before = DirContents(dir_);
  const CliResult r = RunCli({"repair", "--compact-to", "1000", dir_});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("damage reaches past 1000: segments/0000000000000001.seg"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("(the segment's entries 1 .. 1043)"), std::string::npos) << r.err;
  EXPECT_EQ(DirContents(dir_), before);
}

TEST_F(RepairCompactTest, NBeyondTheSnapshotCommitOrLogIsRefused) {
  Build(LogSpec{});
  DamageFrameHolding(1, 700);
  const auto before = DirContents(dir_);
  CliResult r = RunCli({"repair", "--compact-to", "1500", dir_});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("1500 is beyond the newest snapshot (index 1000, term 1): compacting to it "
                       "would drop entries 1001 .. 1500, which no snapshot holds; the furthest "
                       "the start can move is 1000"),
            std::string::npos)
      << r.err;
  r = RunCli({"repair", "--compact-to", "5000", dir_});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(DirContents(dir_), before);

  // A snapshot beyond the commit index (made by hand: raft never does).
  LogSpec no_snapshot;
  no_snapshot.snapshot_index = 0;
  no_snapshot.compact_index = 0;
  testutil::TempDir other("repair-compact-none");
  const std::string dir2 = other.Sub("log");
  ASSERT_TRUE(BuildLog(dir2, no_snapshot).ok());
  r = RunCli({"repair", "--compact-to", "10", dir2});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("the log has no snapshot: compacting to 10 would drop entries 1 .. 10, "
                       "which nothing else holds"),
            std::string::npos)
      << r.err;
}

TEST_F(RepairCompactTest, DryRunSaysWhatAndChangesNothing) {
  Build(LogSpec{});
  DamageFrameHolding(1, 700);
  const auto before = DirContents(dir_);
  const CliResult r = RunCli({"repair", "--compact-to", "1000", "--dry-run", dir_});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("the log will start at index 1001 (compaction point 1000) and end at 3000"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("dry run: nothing was changed"), std::string::npos);
  EXPECT_EQ(DirContents(dir_), before);
}

TEST_F(RepairCompactTest, RefusesALockedLogAndAnNAlreadyCompacted) {
  Build(LogSpec{});
  {
    auto storage = engine::DiskStorage::Open(dir_, engine::DiskStorageOptions{});
    ASSERT_TRUE(storage.ok());
    const CliResult r = RunCli({"repair", "--compact-to", "1000", dir_});
    EXPECT_EQ(r.exit_code, 4) << r.err;
  }
  const CliResult r = RunCli({"repair", "--compact-to", "200", dir_});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("nothing to do: the log already starts at index 501"), std::string::npos)
      << r.out;
  const CliResult both =
      RunCli({"repair", "--compact-to", "1000", "--truncate-at-corruption", dir_});
  EXPECT_EQ(both.exit_code, 2);
}

}  // namespace
}  // namespace raftlog::tools::testing
