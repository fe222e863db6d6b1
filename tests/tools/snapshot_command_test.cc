// raftlog snapshot inspect|verify|extract: a snapshot file's header, a full
// verification, and its data extracted only when every check passes.

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "tests/testutil/temp_dir.h"
#include "tests/tools/cli_runner.h"
#include "tests/tools/log_builder.h"

namespace raftlog::tools::testing {
namespace {

namespace fs = std::filesystem;

// The log builder's snapshot (1200 entries, term 2 from 601): index 1000, term 2, voters {1,2,3},
// learners {4}, data "snapshot-data".
constexpr char kSnapName[] = "0000000000000002-00000000000003e8.snap";
constexpr char kSnapData[] = "snapshot-data";
constexpr size_t kTrailerBytes = 44;

class SnapshotCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    LogSpec spec;
    spec.entries = 1200;
    spec.entry_bytes = 100;
    ASSERT_TRUE(BuildLog(dir_, spec).ok());
  }
  std::string SnapPath() const { return dir_ + "/snapshots/" + kSnapName; }
  // Flips a byte of the snapshot's data (the last block, just before the
  // trailer): the header and trailer stay intact.
  void DamageData() const {
    const uint64_t size = fs::file_size(SnapPath());
    FlipByte(SnapPath(), size - kTrailerBytes - 3);
  }

  testutil::TempDir tmp_{"snapshot-cmd"};
  const std::string dir_ = tmp_.Sub("log");
};

TEST_F(SnapshotCommandTest, InspectShowsTheHeader) {
  CliResult r = RunCli({"snapshot", "inspect", dir_, "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json j = r.Json();
  ASSERT_EQ(j["snapshots"].size(), 1u);
  const nlohmann::json& s = j["snapshots"][0];
  EXPECT_EQ(s["name"], kSnapName);
  EXPECT_EQ(s["index"], 1000);
  EXPECT_EQ(s["term"], 2);
  EXPECT_EQ(s["conf_state"]["voters"], nlohmann::json({1, 2, 3}));
  EXPECT_EQ(s["conf_state"]["learners"], nlohmann::json({4}));
  EXPECT_EQ(s["data_bytes"], std::string(kSnapData).size());
  EXPECT_EQ(s["file_bytes"], fs::file_size(SnapPath()));
  EXPECT_EQ(s["checksums"]["header_and_trailer"], "ok");
  EXPECT_EQ(s["checksums"]["data"], "not read");
  EXPECT_EQ(s["ok"], true);

  // The file itself, as text.
  r = RunCli({"snapshot", "inspect", SnapPath()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("  index           1000\n  term            2\n"
                       "  conf state      voters [1 2 3], learners [4]\n"),
            std::string::npos)
      << r.out;
}

TEST_F(SnapshotCommandTest, VerifyReadsEveryBlock) {
  CliResult r = RunCli({"snapshot", "verify", SnapPath(), "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.Json()["snapshots"][0]["checksums"]["data"], "ok");

  // A flipped data byte passes inspect (header and trailer) but not verify.
  DamageData();
  r = RunCli({"snapshot", "inspect", SnapPath()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  r = RunCli({"snapshot", "verify", dir_, "--format", "json"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(r.Json()["snapshots"][0]["checksums"]["data"], "bad");
  EXPECT_NE(r.err.find("raftlog snapshot verify: "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(kSnapName), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("offset"), std::string::npos) << r.err;
}

TEST_F(SnapshotCommandTest, ExtractWritesTheVerifiedData) {
  const std::string out = tmp_.Sub("data.bin");
  CliResult r = RunCli({"snapshot", "extract", dir_, "--out", out});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadFile(out), kSnapData);
  EXPECT_FALSE(fs::exists(out + ".tmp"));

  // Never over an existing file.
  r = RunCli({"snapshot", "extract", dir_, "--out", out});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("already exists"), std::string::npos) << r.err;
  EXPECT_EQ(ReadFile(out), kSnapData);

  r = RunCli({"snapshot", "extract", dir_});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("--out"), std::string::npos) << r.err;
}

TEST_F(SnapshotCommandTest, DamagedSnapshotIsNotExtracted) {
  DamageData();
  const std::string out = tmp_.Sub("data.bin");
  const CliResult r = RunCli({"snapshot", "extract", SnapPath(), "--out", out});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_FALSE(fs::exists(out));
  EXPECT_FALSE(fs::exists(out + ".tmp"));
}

TEST_F(SnapshotCommandTest, BadTargets) {
  CliResult r = RunCli({"snapshot", "inspect", tmp_.Sub("missing")});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("no such file or directory"), std::string::npos) << r.err;

  // A truncated file: its trailer is gone.
  const std::string bytes = ReadFile(SnapPath());
  WriteFile(SnapPath(), bytes.substr(0, bytes.size() - 10));
  r = RunCli({"snapshot", "inspect", SnapPath(), "--format", "json"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(r.Json()["snapshots"][0]["checksums"]["header_and_trailer"], "bad");

  r = RunCli({"snapshot", "frobnicate", SnapPath()});
  EXPECT_EQ(r.exit_code, 2) << r.err;
}

}  // namespace
}  // namespace raftlog::tools::testing
