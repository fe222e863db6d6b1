// Every command on input that is not a healthy log: a clear one-line error
// and a documented non-zero exit code; never a crash, never a hang. And the
// argument parser's side: --help everywhere, usage errors.

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <functional>

#include "tests/testutil/temp_dir.h"
#include "tests/tools/cli_runner.h"
#include "tests/tools/log_builder.h"

namespace raftlog::tools::testing {
namespace {

const std::vector<std::string> kLogCommands = {"info", "dump", "verify", "repair"};

struct BadInput {
  std::string name;
  // Prepares `dir` (a fresh path under a temp directory) and returns the
  // argument to pass as DIR.
  std::function<std::string(const std::string& dir)> make;
  int exit_code;             // expected of every command
  std::string message_part;  // expected in the one line on stderr
};

std::vector<BadInput> BadInputs() {
  return {
      {"MissingDirectory", [](const std::string& dir) { return dir; }, 3, "no such directory"},
      {"EmptyDirectory",
       [](const std::string& dir) {
         std::filesystem::create_directory(dir);
         return dir;
       },
       3, "not a raftlog log directory"},
      {"DirectoryOfOtherFiles",
       [](const std::string& dir) {
         std::filesystem::create_directory(dir);
         WriteFile(dir + "/data.txt", "hello");
         return dir;
       },
       3, "not a raftlog log directory"},
      {"RegularFile",
       [](const std::string& dir) {
         WriteFile(dir, "hello");
         return dir;
       },
       3, "is not a directory"},
      {"MetaMdbIsGarbage",
       [](const std::string& dir) {
         std::filesystem::create_directory(dir);
         WriteFile(dir + "/meta.mdb", std::string(8192, 'z'));
         return dir;
       },
       -1, "not an LMDB data file"},
      {"MetaMdbIsEmpty",
       [](const std::string& dir) {
         std::filesystem::create_directory(dir);
         WriteFile(dir + "/meta.mdb", "");
         return dir;
       },
       -1, "truncated"},
      {"MetaMdbIsADirectory",
       [](const std::string& dir) {
         std::filesystem::create_directories(dir + "/meta.mdb");
         return dir;
       },
       -1, "meta.mdb"},
  };
}

TEST(ErrorsTest, EveryCommandOnBadInputPrintsOneLineAndExitsNonZero) {
  for (const BadInput& input : BadInputs()) {
    for (const std::string& command : kLogCommands) {
      SCOPED_TRACE(input.name + " / " + command);
      testutil::TempDir tmp("errors");
      const std::string dir = input.make(tmp.Sub("x"));
      const CliResult r = RunCli({command, dir}, CliOptions{.timeout = std::chrono::seconds(30)});
      EXPECT_FALSE(r.timed_out);
      EXPECT_EQ(r.signal, 0);
      if (input.exit_code >= 0) {
        EXPECT_EQ(r.exit_code, input.exit_code) << r.err;
      } else {
        EXPECT_NE(r.exit_code, 0) << r.err;
        EXPECT_NE(r.exit_code, 2) << r.err;  // not a usage error
      }
      if (command == "verify" && input.exit_code < 0) {
        // verify reports it as a finding on stdout and goes on.
        EXPECT_NE(r.out.find(input.message_part), std::string::npos) << r.out;
        continue;
      }
      EXPECT_EQ(r.out, "");
      EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
      EXPECT_EQ(r.err.rfind("raftlog " + command + ": ", 0), 0u) << r.err;
      EXPECT_NE(r.err.find(input.message_part), std::string::npos) << r.err;
    }
  }
}

// backup and snapshot on the same inputs: one line, a documented exit
// code, and backup leaves nothing at DEST or DEST.tmp.
TEST(ErrorsTest, BackupAndSnapshotOnBadInput) {
  for (const BadInput& input : BadInputs()) {
    SCOPED_TRACE(input.name);
    testutil::TempDir tmp("errors");
    const std::string dir = input.make(tmp.Sub("x"));
    const std::string dest = tmp.Sub("copy");
    for (const std::vector<std::string>& args :
         {std::vector<std::string>{"backup", dir, dest},
          std::vector<std::string>{"snapshot", "inspect", dir}}) {
      const CliResult r = RunCli(args, CliOptions{.timeout = std::chrono::seconds(30)});
      EXPECT_FALSE(r.timed_out);
      EXPECT_EQ(r.signal, 0);
      EXPECT_NE(r.exit_code, 0) << r.err;
      EXPECT_NE(r.exit_code, 2) << r.err;
      EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
      EXPECT_EQ(r.err.rfind("raftlog " + args[0] + (args[0] == "snapshot" ? " inspect" : "") + ": ",
                            0),
                0u)
          << r.err;
      if (args[0] == "backup" && input.exit_code >= 0) {
        EXPECT_EQ(r.exit_code, input.exit_code) << r.err;
        EXPECT_NE(r.err.find(input.message_part), std::string::npos) << r.err;
      }
    }
    EXPECT_FALSE(std::filesystem::exists(dest));
    EXPECT_FALSE(std::filesystem::exists(dest + ".tmp"));
  }
}

TEST(ErrorsTest, TruncatedSegmentFiles) {
  // The active segment cut to 10 bytes, a sealed one cut in half.
  testutil::TempDir tmp("errors");
  const std::string dir = tmp.Sub("log");
  ASSERT_TRUE(BuildLog(dir, LogSpec{}).ok());
  std::filesystem::resize_file(SegmentPath(dir, 3), 10);
  const auto half = std::filesystem::file_size(SegmentPath(dir, 2)) / 2;
  std::filesystem::resize_file(SegmentPath(dir, 2), half);
  for (const std::string& command : kLogCommands) {
    SCOPED_TRACE(command);
    const CliResult r = RunCli({command, dir}, CliOptions{.discard_stdout = true});
    EXPECT_EQ(r.signal, 0);
    EXPECT_EQ(r.exit_code, 1) << r.err;
  }
  const CliResult r = RunCli({"verify", dir, "--format", "json"});
  const auto j = r.Json();
  // Each file's damage, and the engine's refusal of the log.
  ASSERT_EQ(j["errors"], 3) << j.dump(2);
  EXPECT_EQ(j["findings"][0]["file"], "segments/0000000000000002.seg");
  EXPECT_NE(j["findings"][0]["what"].get<std::string>().find("truncated"), std::string::npos);
  EXPECT_EQ(j["findings"][1]["file"], "segments/0000000000000003.seg");
  EXPECT_EQ(j["findings"][2]["file"], "");
  EXPECT_EQ(j["findings"][2]["what"].get<std::string>().rfind("the engine refuses", 0), 0u);
}

TEST(ErrorsTest, HelpForEveryCommand) {
  for (const std::string command :
       {"info", "dump", "verify", "repair", "bench", "snapshot", "backup"}) {
    const CliResult r = RunCli({command, "--help"});
    EXPECT_EQ(r.exit_code, 0) << command;
    EXPECT_NE(r.out.find("Usage:"), std::string::npos) << command;
  }
  const CliResult r = RunCli({"--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("Exit codes"), std::string::npos);
  EXPECT_EQ(RunCli({"--version"}).exit_code, 0);
}

TEST(ErrorsTest, UsageErrorsExitTwo) {
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{},
                                             {"frobnicate"},
                                             {"info"},
                                             {"dump", "/tmp", "--format", "xml"},
                                             {"dump", "/tmp", "--type", "weird"},
                                             {"dump", "/tmp", "--from", "minus-one"},
                                             {"verify", "/tmp", "--bogus"},
                                             {"bench", "--seconds", "0"}}) {
    const CliResult r = RunCli(args);
    EXPECT_EQ(r.exit_code, 2) << ::testing::PrintToString(args) << r.err;
    EXPECT_FALSE(r.err.empty());
  }
}

}  // namespace
}  // namespace raftlog::tools::testing
