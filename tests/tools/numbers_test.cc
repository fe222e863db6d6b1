// Numeric options: every one of every command takes only a plain decimal
// number in its range. Anything else (a sign, letters, trailing characters,
// a base prefix, a value past 64 bits, nan) is a usage error: exit code 2,
// one message naming the option and quoting the value, and nothing run.

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "tests/testutil/temp_dir.h"
#include "tests/tools/cli_runner.h"
#include "tests/tools/log_builder.h"

namespace raftlog::tools::testing {
namespace {

struct NumericOption {
  std::vector<std::string> command;  // the subcommand and its positional arguments
  std::string option;
  bool decimal;  // takes a fraction ("0.5")
};

// The directory is never opened: the usage error comes first.
std::vector<NumericOption> Options(const std::string& dir) {
  return {
      {{"dump", dir}, "--from", false},          {{"dump", dir}, "--to", false},
      {{"dump", dir}, "--limit", false},         {{"dump", dir}, "--preview-bytes", false},
      {{"dump", dir}, "--decoder-timeout", true},
      {{"bench", dir}, "--entry-bytes", false},  {{"bench", dir}, "--batch", false},
      {{"bench", dir}, "--seconds", true},       {{"bench", dir}, "--max-p99-ms", true},
      {{"bench", dir}, "--min-syncs", true},
      {{"repair", dir}, "--compact-to", false},
  };
}

TEST(NumbersTest, BadValuesAreUsageErrorsNamingOptionAndValue) {
  testutil::TempDir tmp("numbers");
  const std::string dir = tmp.Sub("never-made");
  const std::vector<std::string> bad = {
      "-5", "-0", "abc", "12x", "0x10", "+5", " 7", "7 ", "1e3", "nan", "inf", "--",
      "99999999999999999999999",  // past 2^64
      "18446744073709551616",     // 2^64 exactly
  };
  for (const NumericOption& o : Options(dir)) {
    for (const std::string& value : bad) {
      std::vector<std::string> args = o.command;
      args.push_back(o.option + "=" + value);
      const CliResult r = RunCli(args);
      const std::string what = o.option + " '" + value + "'";
      EXPECT_EQ(r.exit_code, 2) << what << ": " << r.err;
      EXPECT_NE(r.err.find(o.option + ": '" + value + "'"), std::string::npos) << what << ": "
                                                                                << r.err;
      EXPECT_EQ(r.out, "") << what;
    }
    // No value at all: CLI11's own message, which names the option.
    std::vector<std::string> args = o.command;
    args.push_back(o.option + "=");
    const CliResult r = RunCli(args);
    EXPECT_EQ(r.exit_code, 2) << o.option << ": " << r.err;
    EXPECT_EQ(r.err.rfind(o.option + ": ", 0), 0u) << r.err;
  }
  EXPECT_FALSE(std::filesystem::exists(dir));
}

TEST(NumbersTest, FractionsOnlyWhereTheOptionTakesThem) {
  testutil::TempDir tmp("numbers");
  const std::string dir = tmp.Sub("never-made");
  for (const NumericOption& o : Options(dir)) {
    if (o.decimal) continue;
    std::vector<std::string> args = o.command;
    args.push_back(o.option + "=1.5");
    const CliResult r = RunCli(args);
    EXPECT_EQ(r.exit_code, 2) << o.option;
    EXPECT_NE(r.err.find(o.option + ": '1.5' is not a whole number"), std::string::npos) << r.err;
  }
}

TEST(NumbersTest, OutOfRangeValuesNameTheRange) {
  testutil::TempDir tmp("numbers");
  const std::string dir = tmp.Sub("never-made");
  struct Case {
    std::vector<std::string> args;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {{"dump", dir, "--limit", "0"}, "--limit: '0' is out of range: expected 1 to "},
      {{"bench", dir, "--batch", "0"}, "--batch: '0' is out of range: expected 1 to 1024"},
      {{"bench", dir, "--batch", "1,2000"}, "--batch: '2000' is out of range: expected 1 to 1024"},
      {{"bench", dir, "--entry-bytes", "256,-1"}, "--entry-bytes: '-1' is not a whole number"},
      {{"bench", dir, "--seconds", "0.01"},
       "--seconds: '0.01' is out of range: expected 0.05 to 600.00"},
  };
  for (const Case& c : cases) {
    const CliResult r = RunCli(c.args);
    EXPECT_EQ(r.exit_code, 2) << c.expected;
    EXPECT_NE(r.err.find(c.expected), std::string::npos) << r.err;
  }
}

// The largest value is accepted (not mistaken for an overflow), and
// --limit stops the dump after that many entries.
TEST(NumbersTest, GoodValuesAreTakenAsWritten) {
  testutil::TempDir tmp("numbers");
  const std::string dir = tmp.Sub("log");
  LogSpec spec;
  spec.entries = 200;
  spec.entry_bytes = 10;
  spec.snapshot_index = 0;
  spec.compact_index = 0;
  spec.conf_change_index = 0;
  spec.conf_change_v2_index = 0;
  spec.hard_state = {2, 1, 200};
  ASSERT_TRUE(BuildLog(dir, spec).ok());

  CliResult r = RunCli({"dump", dir, "--format", "json", "--from", "0010", "--to",
                        "18446744073709551615", "--limit", "3"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto lines = r.JsonLines();
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0]["index"], 10);
  EXPECT_EQ(lines[2]["index"], 12);

  r = RunCli({"dump", dir, "--format", "json", "--from", "195", "--limit", "100"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.JsonLines().size(), 6u);  // 195 .. 200: --limit caps the count, it does not demand it
}

}  // namespace
}  // namespace raftlog::tools::testing
