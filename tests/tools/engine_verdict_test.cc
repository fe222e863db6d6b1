// Every command gives the engine's verdict: a log the engine refuses is
// refused by info and dump with the engine's message and is an error for
// verify; a log from which committed entries are gone is never OK, and
// repair does not cut it further without --truncate-at-corruption.

#include <gtest/gtest.h>

#include <filesystem>
#include <random>
#include <string>

#include "raftlog/engine/meta_store.h"
#include "raftlog/format/meta_records.h"
#include "tests/testutil/temp_dir.h"
#include "tests/tools/cli_runner.h"
#include "tests/tools/log_builder.h"

namespace raftlog::tools::testing {
namespace {

class EngineVerdictTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(BuildLog(dir_, LogSpec{}).ok()); }

  std::string ActivePath() const { return SegmentPath(dir_, 3); }

  // info and dump refuse the log, naming `what` on their one line of stderr.
  void ExpectInfoAndDumpRefuse(const std::string& what) {
    for (const std::string command : {"info", "dump"}) {
      SCOPED_TRACE(command);
      const CliResult r = RunCli({command, dir_});
      EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
      EXPECT_EQ(r.err.rfind("raftlog " + command + ": ", 0), 0u) << r.err;
      EXPECT_NE(r.err.find(what), std::string::npos) << r.err;
    }
  }

  // verify fails with an error finding whose text holds `what`.
  nlohmann::json ExpectVerifyError(const std::string& what) {
    const CliResult r = RunCli({"verify", dir_, "--format", "json"});
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    const nlohmann::json j = r.Json();
    EXPECT_EQ(j["ok"], false);
    bool found = false;
    for (const auto& f : j["findings"]) {
      if (f["severity"] == "error" && f["what"].get<std::string>().find(what) != std::string::npos) {
        found = true;
      }
    }
    EXPECT_TRUE(found) << j["findings"].dump(2);
    const CliResult text = RunCli({"verify", dir_});
    EXPECT_EQ(text.out.find("\nOK: "), std::string::npos) << text.out;
    return j;
  }

  // repair without --truncate-at-corruption changes nothing.
  void ExpectRepairRefuses() {
    const auto before = DirContents(dir_);
    const CliResult r = RunCli({"repair", dir_});
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    EXPECT_NE(r.err.find("Nothing was changed"), std::string::npos) << r.err;
    EXPECT_EQ(DirContents(dir_), before);
  }

  testutil::TempDir tmp_{"verdict"};
  const std::string dir_ = tmp_.Sub("log");
};

TEST_F(EngineVerdictTest, ZeroFrameHeaderBeforeValidFramesIsRefusedByEveryCommand) {
  const auto frames = Frames(ActivePath());
  ASSERT_GT(frames.size(), 10u);
  std::string bytes = ReadFile(ActivePath());
  bytes.replace(frames[5].offset, 64, std::string(64, '\0'));
  WriteFile(ActivePath(), bytes);

  // The engine's own message: the file and the offset of the damage.
  const std::string where = "0000000000000003.seg: bad frame at offset " +
                            std::to_string(frames[5].offset);
  ExpectInfoAndDumpRefuse(where);
  ExpectVerifyError("the engine refuses to open the log: " + where);
  ExpectRepairRefuses();
}

TEST_F(EngineVerdictTest, TruncatedActiveSegmentIsNeverOk) {
  const auto frames = Frames(ActivePath());
  std::filesystem::resize_file(ActivePath(), frames[5].offset + 100);
  // Committed entries (up to 2900) are gone whatever the engine calls the
  // end of this file.
  ExpectVerifyError("");
  for (const std::string command : {"info", "dump"}) {
    const CliResult r = RunCli({command, dir_}, CliOptions{.discard_stdout = true});
    EXPECT_EQ(r.exit_code, 1) << command << ": " << r.err;
  }
  ExpectRepairRefuses();
}

TEST_F(EngineVerdictTest, ActiveSegmentOverwrittenWithRandomBytesIsNeverOk) {
  std::string bytes = ReadFile(ActivePath());
  std::mt19937_64 rng(7);
  for (char& c : bytes) c = static_cast<char>(rng());
  WriteFile(ActivePath(), bytes);
  ExpectVerifyError("");
  for (const std::string command : {"info", "dump"}) {
    const CliResult r = RunCli({command, dir_}, CliOptions{.discard_stdout = true});
    EXPECT_EQ(r.exit_code, 1) << command << ": " << r.err;
  }
  ExpectRepairRefuses();
}

TEST_F(EngineVerdictTest, CommitIndexBeyondTheLogIsAnError) {
  {
    auto meta = engine::MetaStore::Open(dir_ + "/meta.mdb");
    ASSERT_TRUE(meta.ok()) << meta.status().ToString();
    engine::MetaStore::Batch batch;
    batch.Put("state/hardstate", format::EncodeHardState(format::HardStateRecord{2, 1, 3500}));
    ASSERT_TRUE((*meta)->Write(batch).ok());
  }
  const nlohmann::json j =
      ExpectVerifyError("commit index 3500 is beyond the last entry the engine serves (3000)");
  for (const auto& f : j["findings"]) {
    if (f["severity"] == "error") {
      EXPECT_EQ(f["file"], "meta.mdb");
      EXPECT_NE(f["what"].get<std::string>().find("500 committed entries (3001 .. 3500)"),
                std::string::npos);
    }
  }
  const CliResult info = RunCli({"info", dir_, "--format", "json"});
  EXPECT_EQ(info.exit_code, 1);
  const auto problems = info.Json()["problems"];
  ASSERT_EQ(problems.size(), 1u) << problems.dump(2);
  EXPECT_EQ(problems[0]["severity"], "error");
  EXPECT_EQ(problems[0]["file"], "meta.mdb");
}

}  // namespace
}  // namespace raftlog::tools::testing
