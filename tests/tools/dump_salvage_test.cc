// raftlog dump --salvage: every entry that still decodes and verifies is
// printed, past damage; each skipped stretch is named on stderr (file, byte
// range, entries), and the exit code says whether live entries were lost.

#include <gtest/gtest.h>

#include <cstdint>
#include <set>
#include <string>

#include "tests/testutil/temp_dir.h"
#include "tests/tools/cli_runner.h"
#include "tests/tools/log_builder.h"

namespace raftlog::tools::testing {
namespace {

class DumpSalvageTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(BuildLog(dir_, spec_).ok()); }

  // Runs dump --salvage as JSON with the data; checks every entry printed
  // against the data the log was built with and returns their indexes.
  std::set<uint64_t> Salvage(CliResult* out, const std::string& dir) {
    *out = RunCli({"dump", dir, "--salvage", "--format", "json", "--data"});
    std::set<uint64_t> indexes;
    uint64_t prev = 0;
    for (const nlohmann::json& j : out->JsonLines()) {
      const uint64_t index = j["index"];
      EXPECT_GT(index, prev) << "entries out of order";
      prev = index;
      // (The conf changes carry their encoding, not EntryData.)
      if (index != spec_.conf_change_index && index != spec_.conf_change_v2_index) {
        EXPECT_TRUE(Base64Decode(j["data"]) == EntryData(spec_, index)) << "entry " << index;
      }
      indexes.insert(index);
    }
    return indexes;
  }

  // The indexes [lo, hi] not in `got`.
  static std::set<uint64_t> Missing(const std::set<uint64_t>& got, uint64_t lo, uint64_t hi) {
    std::set<uint64_t> missing;
    for (uint64_t i = lo; i <= hi; ++i) {
      if (got.count(i) == 0) missing.insert(i);
    }
    return missing;
  }

  static std::set<uint64_t> Range(uint64_t lo, uint64_t hi) {
    std::set<uint64_t> s;
    for (uint64_t i = lo; i <= hi; ++i) s.insert(i);
    return s;
  }

  testutil::TempDir tmp_{"salvage"};
  const std::string dir_ = tmp_.Sub("log");
  const LogSpec spec_{};
};

TEST_F(DumpSalvageTest, CleanLogPrintsWhatDumpPrints) {
  const CliResult plain = RunCli({"dump", dir_, "--format", "json"});
  const CliResult salvage = RunCli({"dump", dir_, "--salvage", "--format", "json"});
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  EXPECT_EQ(salvage.exit_code, 0) << salvage.err;
  EXPECT_EQ(salvage.out, plain.out);
  EXPECT_EQ(salvage.err,
            "raftlog dump: salvage: 2500 entries printed, 0 damaged range(s) skipped\n");
}

TEST_F(DumpSalvageTest, SkipsADamagedSealedFrameAndPrintsTheRest) {
  const std::string seg = SegmentPath(dir_, 2);
  const auto frames = Frames(seg);
  ASSERT_GT(frames.size(), 6u);
  FlipByte(seg, frames[5].offset + 100);
  CliResult r;
  const std::set<uint64_t> got = Salvage(&r, dir_);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  const uint64_t lo = frames[5].first_index, hi = frames[6].first_index - 1;
  EXPECT_EQ(Missing(got, 501, 3000), Range(lo, hi));
  EXPECT_NE(r.err.find("raftlog dump: skipped: segments/0000000000000002.seg bytes [" +
                       std::to_string(frames[5].offset) + ", " + std::to_string(frames[6].offset) +
                       "): entries " + std::to_string(lo) + " .. " + std::to_string(hi) +
                       " (frame checksum mismatch"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("1 damaged range(s) skipped"), std::string::npos) << r.err;
}

TEST_F(DumpSalvageTest, GoesOnWithoutTheFooterOfADamagedSealedSegment) {
  // Two damaged frames and a damaged footer: the footer's frame table
  // cannot guide the walk past the damage; the frames themselves do.
  const std::string seg = SegmentPath(dir_, 1);
  const auto frames = Frames(seg);
  ASSERT_GT(frames.size(), 15u);
  FlipByte(seg, frames[12].offset + 200);
  FlipByte(seg, frames[14].offset + 8);
  const std::string bytes = ReadFile(seg);
  FlipByte(seg, bytes.size() - 40);  // in the footer frame, before the trailer
  CliResult r;
  const std::set<uint64_t> got = Salvage(&r, dir_);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  std::set<uint64_t> lost = Range(frames[12].first_index, frames[13].first_index - 1);
  const std::set<uint64_t> second = Range(frames[14].first_index, frames[15].first_index - 1);
  lost.insert(second.begin(), second.end());
  EXPECT_EQ(Missing(got, 501, 3000), lost);
}

TEST_F(DumpSalvageTest, ReadsPastDamageInTheActiveSegmentThatTheEngineRefuses) {
  const std::string active = SegmentPath(dir_, 3);
  const auto frames = Frames(active);
  ASSERT_GT(frames.size(), 10u);
  FlipByte(active, frames[3].offset + 300);
  ASSERT_EQ(RunCli({"dump", dir_}).exit_code, 1);  // the engine refuses the log
  CliResult r;
  const std::set<uint64_t> got = Salvage(&r, dir_);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  const uint64_t lo = frames[3].first_index, hi = frames[4].first_index - 1;
  EXPECT_EQ(Missing(got, 501, 3000), Range(lo, hi));
  EXPECT_NE(r.err.find("skipped: segments/0000000000000003.seg bytes [" +
                       std::to_string(frames[3].offset) + ", " + std::to_string(frames[4].offset) +
                       "): entries " + std::to_string(lo) + " .. " + std::to_string(hi)),
            std::string::npos)
      << r.err;
}

TEST_F(DumpSalvageTest, ATornTailIsANoteNotALoss) {
  const std::string active = SegmentPath(dir_, 3);
  const auto frames = Frames(active);
  const uint64_t end = frames.back().offset + frames.back().frame_bytes;
  std::string bytes = ReadFile(active);
  bytes.replace(end, 8, "RLFR\x01\0\0\0", 8);
  WriteFile(active, bytes);
  CliResult r;
  const std::set<uint64_t> got = Salvage(&r, dir_);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(Missing(got, 501, 3000).empty());
  EXPECT_NE(r.err.find("note: a torn write at the end of the log, which held no acknowledged "
                       "entry, skipped: segments/0000000000000003.seg bytes [" +
                       std::to_string(end) + ", "),
            std::string::npos)
      << r.err;
}

TEST_F(DumpSalvageTest, AMissingSealedSegmentIsNamedWithItsEntries) {
  ASSERT_EQ(std::remove(SegmentPath(dir_, 2).c_str()), 0);
  CliResult r;
  const std::set<uint64_t> got = Salvage(&r, dir_);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(Missing(got, 501, 3000), Range(1044, 2084));
  EXPECT_NE(r.err.find("skipped: segments/0000000000000002.seg: entries 1044 .. 2084 (missing"),
            std::string::npos)
      << r.err;
}

TEST_F(DumpSalvageTest, AnUnreadableMetaMdbLeavesTheSegmentFilesToDescribeThemselves) {
  WriteFile(dir_ + "/meta.mdb", std::string(8192, 'x'));
  CliResult r;
  const std::set<uint64_t> got = Salvage(&r, dir_);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  // Without log/start the compacted entries are printed too.
  EXPECT_TRUE(Missing(got, 1, 3000).empty());
  EXPECT_NE(r.err.find("raftlog dump: skipped: meta.mdb ("), std::string::npos) << r.err;
}

TEST_F(DumpSalvageTest, RangeAndDecoderOptions) {
  CliResult r = RunCli({"dump", dir_, "--salvage", "--from", "1500", "--to", "1510"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.Lines().size(), 1u + 11);
  r = RunCli({"dump", dir_, "--salvage", "--decoder", "cat"});
  EXPECT_EQ(r.exit_code, 2);
}

}  // namespace
}  // namespace raftlog::tools::testing
