// raftlog bench: a short run's figures, verdict and clean-up.

#include <gtest/gtest.h>

#include <filesystem>

#include "tests/testutil/temp_dir.h"
#include "tests/tools/cli_runner.h"

namespace raftlog::tools::testing {
namespace {

void ExpectSaneStats(const nlohmann::json& s) {
  EXPECT_GT(s["ops"].get<uint64_t>(), 0u) << s;
  EXPECT_GT(s["ops_per_second"].get<double>(), 0) << s;
  EXPECT_LE(s["p50_ms"].get<double>(), s["p99_ms"].get<double>()) << s;
  EXPECT_LE(s["p99_ms"].get<double>(), s["p999_ms"].get<double>()) << s;
  EXPECT_LE(s["p999_ms"].get<double>(), s["max_ms"].get<double>()) << s;
}

TEST(BenchTest, ReportsEngineAndRawFiguresAndCleansUp) {
  testutil::TempDir tmp("bench");
  const CliResult r = RunCli({"bench", tmp.path(), "--entry-bytes", "256,4096", "--batch", "1",
                              "--seconds", "0.2", "--format", "json"});
  ASSERT_TRUE(r.exit_code == 0 || r.exit_code == 1) << r.err;
  const nlohmann::json j = r.Json();
  ASSERT_EQ(j["cases"].size(), 2u);
  EXPECT_EQ(j["cases"][0]["entry_bytes"], 256);
  EXPECT_EQ(j["cases"][1]["entry_bytes"], 4096);
  for (const auto& c : j["cases"]) {
    EXPECT_EQ(c["batch"], 1);
    ExpectSaneStats(c["engine"]);
    ExpectSaneStats(c["raw"]);
  }
  EXPECT_EQ(j["thresholds"]["max_p99_ms"], 10.0);
  // The verdict and the exit code agree, and a warning says why.
  EXPECT_EQ(j["verdict"], r.exit_code == 0 ? "pass" : "warn");
  EXPECT_EQ(j["reasons"].empty(), r.exit_code == 0);
  // Nothing is left behind.
  EXPECT_TRUE(std::filesystem::is_empty(tmp.path()));
}

TEST(BenchTest, ThresholdsDecideTheVerdict) {
  testutil::TempDir tmp("bench");
  // No disk syncs in under a microsecond at a million per second.
  const CliResult r =
      RunCli({"bench", tmp.path(), "--entry-bytes", "128", "--batch", "1", "--seconds", "0.1",
              "--max-p99-ms", "0.001", "--min-syncs", "1000000"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("WARN: p99 of a synced 128-byte append"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("raw (pwrite+fdatasync"), std::string::npos);
}

TEST(BenchTest, MissingDirectoryIsAnError) {
  const CliResult r = RunCli({"bench", "/nonexistent/raftlog-bench"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.err, "raftlog bench: /nonexistent/raftlog-bench: no such directory\n");
}

}  // namespace
}  // namespace raftlog::tools::testing
