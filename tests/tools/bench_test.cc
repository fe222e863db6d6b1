// raftlog bench: a short run's figures, verdict and clean-up.

#include <gtest/gtest.h>
#include <sys/vfs.h>

#include <filesystem>
#include <string>
#include <vector>

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
  // The verdict and the exit code agree, and a warning says why. (The test
  // directory is on a durable file system, see TempDir.)
  EXPECT_EQ(j["file_system"]["durable"], true) << j["file_system"];
  EXPECT_EQ(j["warnings"], nlohmann::json::array());
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

// On tmpfs fdatasync makes nothing durable: a warning on stderr and in the
// JSON, the file system named, and never PASS, however fast it was, even
// with thresholds any run meets.
TEST(BenchTest, FileSystemInMemoryIsNeverAPass) {
  const std::string base = testutil::TempDir::InMemoryBase();
  struct statfs st = {};
  if (::statfs(base.c_str(), &st) != 0 || st.f_type != 0x01021994) {
    GTEST_SKIP() << base << " is not tmpfs on this machine";
  }
  testutil::TempDir tmp("bench", base);
  const std::vector<std::string> args = {"bench", tmp.path(), "--entry-bytes", "128", "--batch",
                                         "1", "--seconds", "0.1", "--max-p99-ms", "1000000",
                                         "--min-syncs", "0"};
  CliResult r = RunCli(args);
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("raftlog bench: warning: " + tmp.path() + " is on tmpfs, a file system in "
                       "memory: fdatasync there makes nothing durable"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(r.out.find("PASS"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("NOT DURABLE: measured tmpfs (memory), not a disk: p99 "), std::string::npos)
      << r.out;

  std::vector<std::string> json_args = args;
  json_args.insert(json_args.end(), {"--format", "json"});
  r = RunCli(json_args);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  const nlohmann::json j = r.Json();
  EXPECT_EQ(j["verdict"], "not-durable");
  EXPECT_EQ(j["file_system"]["type"], "tmpfs");
  EXPECT_EQ(j["file_system"]["durable"], false);
  ASSERT_EQ(j["warnings"].size(), 1u);
  EXPECT_NE(j["warnings"][0].get<std::string>().find("makes nothing durable"), std::string::npos);
  ASSERT_EQ(j["cases"].size(), 1u);  // what it measured is still reported
  ExpectSaneStats(j["cases"][0]["engine"]);
  EXPECT_TRUE(std::filesystem::is_empty(tmp.path()));
}

TEST(BenchTest, MissingDirectoryIsAnError) {
  const CliResult r = RunCli({"bench", "/nonexistent/raftlog-bench"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.err, "raftlog bench: /nonexistent/raftlog-bench: no such directory\n");
}

}  // namespace
}  // namespace raftlog::tools::testing
