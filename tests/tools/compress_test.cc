// raftlog compress: rewrites a log's sealed segments compressed, printing
// each one's bytes before and after; the log then verifies clean, info shows
// each segment's form and ratio, and dump prints the same entries as before.
// Incompressible segments stay raw; a log open elsewhere is refused.

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "raftlog/engine/log_engine.h"
#include "tests/testutil/temp_dir.h"
#include "tests/tools/cli_runner.h"
#include "tests/tools/log_builder.h"

namespace raftlog::tools::testing {
namespace {

class CompressTest : public ::testing::Test {
 protected:
  void Build(bool compressible) {
    spec_.compressible = compressible;
    ASSERT_TRUE(BuildLog(dir_, spec_).ok());
  }

  nlohmann::json Run(const std::vector<std::string>& args, int want_exit) {
    const CliResult r = RunCli(args);
    EXPECT_EQ(r.signal, 0);
    EXPECT_EQ(r.exit_code, want_exit) << r.out << r.err;
    return r.exit_code == 0 ? r.Json() : nlohmann::json();
  }

  LogSpec spec_;
  testutil::TempDir tmp_{"compress-cli"};
  std::string dir_ = tmp_.Sub("log");
};

TEST_F(CompressTest, CompressesSealedSegmentsAndTheLogReadsTheSame) {
  Build(/*compressible=*/true);
  const CliResult before = RunCli({"dump", dir_, "--format", "json", "--data"});
  ASSERT_EQ(before.exit_code, 0) << before.err;

  const nlohmann::json c = Run({"compress", dir_, "--format", "json"}, 0);
  ASSERT_GT(c["segments"].size(), 0u);
  EXPECT_EQ(c["compressed"], c["segments"].size());
  for (const auto& s : c["segments"]) {
    EXPECT_EQ(s["outcome"], "compressed") << s.dump();
    EXPECT_LT(s["compressed_bytes"].get<uint64_t>(), s["raw_bytes"].get<uint64_t>());
    EXPECT_GT(s["ratio"].get<double>(), 1.5) << s.dump();
  }
  EXPECT_GT(c["ratio"].get<double>(), 1.5);

  const nlohmann::json v = Run({"verify", dir_, "--format", "json"}, 0);
  EXPECT_EQ(v["errors"], 0);
  EXPECT_EQ(v["warnings"], 0) << v.dump();
  EXPECT_EQ(v["checked"]["compressed_segments"], c["compressed"]);
  EXPECT_GT(v["checked"]["compressed_raw_bytes"].get<uint64_t>(),
            v["checked"]["compressed_bytes"].get<uint64_t>());

  const nlohmann::json info = Run({"info", dir_, "--format", "json"}, 0);
  size_t compressed = 0;
  for (const auto& s : info["segments"]) {
    if (s["form"] == "compressed") {
      ++compressed;
      const std::string file = s["file"];
      EXPECT_TRUE(file.ends_with(".zseg")) << file;
      EXPECT_GT(s["raw_file_bytes"].get<uint64_t>(), s["file_bytes"].get<uint64_t>());
    } else {
      EXPECT_EQ(s["state"], "active") << s.dump();  // only the active segment stays raw
    }
  }
  EXPECT_EQ(compressed, c["compressed"].get<size_t>());
  const CliResult text = RunCli({"info", dir_});
  EXPECT_NE(text.out.find("zstd "), std::string::npos) << text.out;

  const CliResult after = RunCli({"dump", dir_, "--format", "json", "--data"});
  ASSERT_EQ(after.exit_code, 0) << after.err;
  EXPECT_EQ(after.out, before.out);

  // Nothing left to do the second time.
  const nlohmann::json again = Run({"compress", dir_, "--format", "json"}, 0);
  EXPECT_EQ(again["compressed"], 0);
  EXPECT_EQ(again["segments"].size(), 0u);
  const CliResult plain = RunCli({"compress", dir_});
  EXPECT_EQ(plain.exit_code, 0);
  EXPECT_NE(plain.out.find("compressed 0 segments"), std::string::npos) << plain.out;
}

TEST_F(CompressTest, IncompressibleSegmentsStayRaw) {
  Build(/*compressible=*/false);
  const CliResult r = RunCli({"compress", dir_});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("kept raw"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("compressed 0 segments"), std::string::npos) << r.out;
  const nlohmann::json v = Run({"verify", dir_, "--format", "json"}, 0);
  EXPECT_EQ(v["checked"]["compressed_segments"], 0);
}

TEST_F(CompressTest, RefusesALogOpenElsewhereAndWhatIsNotALog) {
  Build(/*compressible=*/true);
  {
    engine::Options options;
    options.create_if_missing = false;
    auto open = engine::LogEngine::Open(dir_, options);
    ASSERT_TRUE(open.ok()) << open.status().ToString();
    const CliResult busy = RunCli({"compress", dir_});
    EXPECT_EQ(busy.exit_code, 4) << busy.out << busy.err;
    EXPECT_NE(busy.err.find("raftlog compress:"), std::string::npos) << busy.err;
  }
  const CliResult missing = RunCli({"compress", tmp_.Sub("nothing")});
  EXPECT_EQ(missing.exit_code, 3) << missing.err;
  const CliResult usage = RunCli({"compress", dir_, "--max-ratio", "7"});
  EXPECT_EQ(usage.exit_code, 2) << usage.err;
}

}  // namespace
}  // namespace raftlog::tools::testing
