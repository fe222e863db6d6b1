// verify and info on damage that lies wholly in entries the newest snapshot
// holds: the finding says so and names `raftlog repair --compact-to S`
// instead of "rebuild this member"; damage past the snapshot keeps the
// rebuild advice. Following the advice makes verify pass.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/testutil/temp_dir.h"
#include "tests/tools/cli_runner.h"
#include "tests/tools/log_builder.h"

namespace raftlog::tools::testing {
namespace {

// The default log: entries 501 .. 3000 (segments 1 .. 1043, 1044 .. 2084,
// then the active one), a snapshot at 1000, commit 2900.
class DamageAdviceTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(BuildLog(dir_, LogSpec{}).ok()); }

  // Damages the frame holding `index` in segment `id`; returns its first
  // index.
  uint64_t Damage(uint64_t id, uint64_t index) {
    FrameAt hit;
    for (const FrameAt& f : Frames(SegmentPath(dir_, id))) {
      if (f.first_index <= index) hit = f;
    }
    FlipByte(SegmentPath(dir_, id), hit.offset + 200);
    return hit.first_index;
  }

  // The hints of verify's error findings in segment files.
  std::vector<std::string> VerifyHints() {
    const CliResult r = RunCli({"verify", dir_, "--format", "json"});
    EXPECT_EQ(r.exit_code, 1) << r.out;
    std::vector<std::string> hints;
    const nlohmann::json j = r.Json();
    for (const auto& f : j["findings"]) {
      if (f["severity"] == "error" && f["file"].get<std::string>().rfind("segments/", 0) == 0) {
        hints.push_back(f["hint"]);
      }
    }
    return hints;
  }

  testutil::TempDir tmp_{"advice"};
  const std::string dir_ = tmp_.Sub("log");
};

constexpr std::string_view kRebuild = "rebuild this member";

TEST_F(DamageAdviceTest, DamageBelowTheSnapshotAdvisesCompactTo) {
  const uint64_t first = Damage(1, 700);
  const std::string advice = "damage in entries " + std::to_string(first) + " .. " +
                             std::to_string(first + 49) +
                             ", all covered by the snapshot at index 1000: nothing after it is "
                             "lost. Stop the member and run `raftlog repair --compact-to 1000 DIR`";
  const std::vector<std::string> hints = VerifyHints();
  ASSERT_EQ(hints.size(), 1u);
  EXPECT_EQ(hints[0].rfind(advice, 0), 0u) << hints[0];
  EXPECT_EQ(hints[0].find(kRebuild), std::string::npos) << hints[0];

  const CliResult info = RunCli({"info", dir_, "--format", "json"});
  EXPECT_EQ(info.exit_code, 1);
  EXPECT_NE(info.err.find("raftlog info: " + advice), std::string::npos) << info.err;
  bool hinted = false;
  const nlohmann::json j = info.Json();
  for (const auto& p : j["problems"]) {
    if (p["severity"] == "error" && p.contains("hint")) {
      hinted = p["hint"].get<std::string>().rfind(advice, 0) == 0;
    }
  }
  EXPECT_TRUE(hinted) << info.out;

  // Following the advice repairs the log.
  ASSERT_EQ(RunCli({"repair", "--compact-to", "1000", dir_}).exit_code, 0);
  EXPECT_EQ(RunCli({"verify", dir_}).exit_code, 0);
}

TEST_F(DamageAdviceTest, DamagePastTheSnapshotKeepsTheRebuildAdvice) {
  Damage(2, 1500);
  const std::vector<std::string> hints = VerifyHints();
  ASSERT_EQ(hints.size(), 1u);
  EXPECT_NE(hints[0].find(kRebuild), std::string::npos) << hints[0];
  EXPECT_EQ(hints[0].find("--compact-to"), std::string::npos) << hints[0];
  const CliResult info = RunCli({"info", dir_});
  EXPECT_EQ(info.exit_code, 1);
  EXPECT_EQ(info.err.find("--compact-to"), std::string::npos) << info.err;
}

TEST_F(DamageAdviceTest, DamageOnBothSidesOfTheSnapshotIsNotRepairedByCompaction) {
  Damage(1, 700);
  Damage(2, 1500);
  const std::vector<std::string> hints = VerifyHints();
  ASSERT_EQ(hints.size(), 2u);
  for (const std::string& h : hints) {
    EXPECT_NE(h.find(kRebuild), std::string::npos) << h;
    EXPECT_EQ(h.find("--compact-to"), std::string::npos) << h;
  }
}

// A log the engine refuses for damage in the middle of its active segment,
// all of it in entries a snapshot holds: verify's finding and the engine's
// refusal, and info after the engine's error, advise the compaction that
// repairs it; damage past the snapshot does not.
TEST(DamageAdviceRefusedTest, ActiveSegmentDamageBelowTheSnapshotAdvisesCompactTo) {
  testutil::TempDir tmp("advice-refused");
  const std::string dir = tmp.Sub("log");
  LogSpec spec;
  spec.snapshot_index = 2500;
  ASSERT_TRUE(BuildLog(dir, spec).ok());
  const std::string active = SegmentPath(dir, 3);
  FrameAt below, past;
  for (const FrameAt& f : Frames(active)) {
    if (f.first_index <= 2300) below = f;
    if (f.first_index <= 2800) past = f;
  }
  FlipByte(active, below.offset + 200);
  const std::string advice = "damage in entries " + std::to_string(below.first_index) + " .. " +
                             std::to_string(below.first_index + 49) +
                             ", all covered by the snapshot at index 2500: nothing after it is "
                             "lost. Stop the member and run `raftlog repair --compact-to 2500 DIR`";

  CliResult r = RunCli({"verify", dir, "--format", "json", "--writer-patience", "0"});
  EXPECT_EQ(r.exit_code, 1) << r.out;
  size_t advised = 0, errors = 0;
  const nlohmann::json j = r.Json();
  for (const auto& f : j["findings"]) {
    if (f["severity"] != "error") continue;
    ++errors;
    if (f["hint"].get<std::string>().rfind(advice, 0) == 0) ++advised;
  }
  EXPECT_EQ(errors, 2u) << r.out;  // the active segment's damage, the engine's refusal
  EXPECT_EQ(advised, errors) << r.out;
  r = RunCli({"info", dir});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("raftlog info: " + advice), std::string::npos) << r.err;

  // Damage past the snapshot besides: no compaction repairs the log.
  FlipByte(active, past.offset + 200);
  r = RunCli({"verify", dir, "--format", "json", "--writer-patience", "0"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out.find("--compact-to"), std::string::npos) << r.out;
  r = RunCli({"info", dir});
  EXPECT_EQ(r.err.find("--compact-to"), std::string::npos) << r.err;
  FlipByte(active, past.offset + 200);  // undone

  // Following the advice repairs the log.
  ASSERT_EQ(RunCli({"repair", "--compact-to", "2500", dir}).exit_code, 0);
  EXPECT_EQ(RunCli({"verify", dir}).exit_code, 0);
}

}  // namespace
}  // namespace raftlog::tools::testing
