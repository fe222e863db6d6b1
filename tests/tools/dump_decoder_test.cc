// raftlog dump --raw (the payload's bytes, nothing decoded) and --decoder
// CMD (each payload through an external decoder, one line in, one line
// out): what the decoder sees and says, and every way a decoder can fail
// ending the dump with an error naming the entry, never a hang.

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "tests/testutil/temp_dir.h"
#include "tests/tools/cli_runner.h"
#include "tests/tools/log_builder.h"

namespace raftlog::tools::testing {
namespace {

std::string Hex(const std::string& bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (const char c : bytes) {
    out.push_back(kDigits[static_cast<unsigned char>(c) >> 4]);
    out.push_back(kDigits[static_cast<unsigned char>(c) & 15]);
  }
  return out;
}

LogSpec Spec() {
  LogSpec spec;
  spec.entries = 600;
  spec.entry_bytes = 200;
  spec.snapshot_index = 550;
  spec.hard_state = {2, 1, 600};
  return spec;
}

class DumpDecoderTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(BuildLog(dir_, Spec()).ok()); }

  testutil::TempDir tmp_{"dump-decoder"};
  const std::string dir_ = tmp_.Sub("log");
};

// The decoder gets each payload in hex, one line per entry, conf changes
// included; what it answers is printed as the entry's data.
TEST_F(DumpDecoderTest, DecoderSeesEachPayloadInHexAndItsLinesArePrinted) {
  CliResult r = RunCli({"dump", dir_, "--format", "json", "--from", "503", "--to", "510",
                        "--decoder", "cat", "--data"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto lines = r.JsonLines();
  ASSERT_EQ(lines.size(), 8u);
  for (const auto& e : lines) {
    EXPECT_EQ(e["decoded"], Hex(Base64Decode(e["data"].get<std::string>()))) << e;
  }
  // A decoder of its own: the answer is the text column.
  r = RunCli({"dump", dir_, "--from", "507", "--to", "508", "--decoder",
              "while read -r line; do echo \"app record of ${#line} hex digits\"; done"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_EQ(r.Lines().size(), 3u) << r.out;
  EXPECT_NE(r.Lines()[0].find("decoded"), std::string::npos);
  EXPECT_NE(r.Lines()[1].find("507          2        normal               200  app record of 400 "
                              "hex digits"),
            std::string::npos)
      << r.out;
}

TEST_F(DumpDecoderTest, DecoderThatExitsIsAnErrorNamingTheEntry) {
  const CliResult r = RunCli({"dump", dir_, "--from", "520", "--decoder", "exit 0"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("raftlog dump: --decoder 'exit 0' "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("entry 520"), std::string::npos) << r.err;
}

TEST_F(DumpDecoderTest, MissingDecoderProgramIsAnError) {
  const CliResult r =
      RunCli({"dump", dir_, "--from", "520", "--decoder", "/nonexistent/raftlog-decoder"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("entry 520"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("exited with status 127"), std::string::npos) << r.err;
}

TEST_F(DumpDecoderTest, DecoderThatNeverAnswersTimesOut) {
  const auto start = std::chrono::steady_clock::now();
  const CliResult r = RunCli({"dump", dir_, "--from", "530", "--decoder", "sleep 60",
                              "--decoder-timeout", "0.5"},
                             CliOptions{std::chrono::seconds(30)});
  EXPECT_FALSE(r.timed_out);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(20));
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("gave no answer for entry 530 within 500 ms"), std::string::npos) << r.err;
}

// A decoder that reads nothing: its pipe fills, and the tool must not block
// writing into it.
TEST_F(DumpDecoderTest, DecoderThatStopsReadingDoesNotBlockTheDump) {
  const CliResult r = RunCli({"dump", dir_, "--raw", "--decoder", "exec sleep 60 <&-",
                              "--decoder-timeout", "0.5"},
                             CliOptions{std::chrono::seconds(30)});
  EXPECT_FALSE(r.timed_out);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("--decoder 'exec sleep 60 <&-'"), std::string::npos) << r.err;
}

TEST_F(DumpDecoderTest, DecoderThatFailsAtTheEndIsAnError) {
  const CliResult r =
      RunCli({"dump", dir_, "--from", "590", "--decoder", "cat; exit 3", "--format", "json"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(r.JsonLines().size(), 11u);  // every entry was decoded and printed first
  EXPECT_NE(r.err.find("--decoder 'cat; exit 3' exited with status 3"), std::string::npos)
      << r.err;
}

// Two lines for one entry would shift every answer after it onto the wrong
// entry: refused at the first entry it happens to.
TEST_F(DumpDecoderTest, DecoderWithMoreLinesThanEntriesIsAnError) {
  const CliResult r = RunCli({"dump", dir_, "--from", "540", "--to", "545", "--decoder",
                              "while read -r l; do echo a; echo b; done"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("one line out per line in"), std::string::npos) << r.err;
}

// --raw: the payload's bytes, whole, nothing decoded (a conf change shows
// its bytes, not its meaning).
TEST_F(DumpDecoderTest, RawShowsWholePayloadsUndecoded) {
  const LogSpec spec = Spec();
  CliResult r =
      RunCli({"dump", dir_, "--format", "json", "--from", "505", "--to", "507", "--raw"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto lines = r.JsonLines();
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0]["type"], "confchange");
  EXPECT_FALSE(lines[0].contains("conf_change")) << lines[0];
  EXPECT_EQ(lines[0]["preview"], "\\x08\\x00\\x10\\x00\\x18\\x02") << lines[0];
  const std::string preview = lines[2]["preview"].get<std::string>();
  EXPECT_FALSE(preview.ends_with("...")) << preview;
  // The same as a preview long enough to hold it all.
  CliResult full = RunCli({"dump", dir_, "--format", "json", "--from", "507", "--to", "507",
                           "--preview-bytes", "100000"});
  ASSERT_EQ(full.exit_code, 0);
  EXPECT_EQ(full.JsonLines()[0]["preview"], preview);

  r = RunCli({"dump", dir_, "--from", "505", "--to", "505", "--raw"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.find("ConfChange"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"\\x08\\x00\\x10\\x00\\x18\\x02\""), std::string::npos) << r.out;

  r = RunCli({"dump", dir_, "--from", "507", "--to", "507", "--raw", "--format", "hex"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.Lines().size(), 1u + (spec.entry_bytes + 15) / 16) << r.out;
}

}  // namespace
}  // namespace raftlog::tools::testing
