// raftlog dump: entries in order, filters, formats, damage, closed pipes.

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>

#include "tests/testutil/temp_dir.h"
#include "tests/tools/cli_runner.h"
#include "tests/tools/log_builder.h"

namespace raftlog::tools::testing {
namespace {

class DumpTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(BuildLog(dir_, spec_).ok()); }

  testutil::TempDir tmp_{"dump"};
  const std::string dir_ = tmp_.Sub("log");
  const LogSpec spec_{};
};

TEST_F(DumpTest, TextListsEveryLiveEntryInOrder) {
  const CliResult r = RunCli({"dump", dir_});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  const std::vector<std::string> lines = r.Lines();
  ASSERT_EQ(lines.size(), 1u + 2500);
  EXPECT_EQ(lines[0].rfind("index", 0), 0u);
  EXPECT_EQ(lines[1].rfind("501 ", 0), 0u) << lines[1];
  EXPECT_EQ(lines.back().rfind("3000 ", 0), 0u) << lines.back();
  EXPECT_NE(lines[5].find("ConfChangeAddNode node=2"), std::string::npos) << lines[5];
  EXPECT_NE(lines[6].find("v2 auto: v3 l4"), std::string::npos) << lines[6];
}

TEST_F(DumpTest, JsonLinesCarryEveryEntryExactly) {
  const CliResult r = RunCli({"dump", dir_, "--format", "json", "--data"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::vector<nlohmann::json> lines = r.JsonLines();
  ASSERT_EQ(lines.size(), 2500u);
  uint64_t index = 501;
  for (const nlohmann::json& e : lines) {
    ASSERT_EQ(e["index"], index);
    EXPECT_EQ(e["term"], index <= 1500 ? 1 : 2);
    const std::string data = Base64Decode(e["data"].get<std::string>());
    EXPECT_EQ(e["size"], data.size());
    if (index != spec_.conf_change_index && index != spec_.conf_change_v2_index) {
      EXPECT_EQ(e["type"], "normal");
      EXPECT_EQ(data, EntryData(spec_, index)) << index;
      EXPECT_FALSE(e.contains("conf_change"));
    }
    ++index;
  }
}

TEST_F(DumpTest, RangeAndTypeFilters) {
  CliResult r = RunCli({"dump", dir_, "--format", "json", "--from", "1500", "--to", "1600"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto lines = r.JsonLines();
  ASSERT_EQ(lines.size(), 101u);
  EXPECT_EQ(lines.front()["index"], 1500);
  EXPECT_EQ(lines.back()["index"], 1600);

  r = RunCli({"dump", dir_, "--format", "json", "--type", "confchange,confchangev2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  lines = r.JsonLines();
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0]["index"], 505);
  EXPECT_EQ(lines[0]["type"], "confchange");
  EXPECT_EQ(lines[0]["conf_change"]["type"], "ConfChangeAddNode");
  EXPECT_EQ(lines[0]["conf_change"]["node_id"], 2);
  EXPECT_EQ(lines[1]["type"], "confchangev2");
  EXPECT_EQ(lines[1]["conf_change"]["transition"], "auto");
  EXPECT_EQ(lines[1]["conf_change"]["leave_joint"], false);
  EXPECT_EQ(lines[1]["conf_change"]["changes"],
            nlohmann::json::parse(R"([{"type":"ConfChangeAddNode","node_id":3},
                                      {"type":"ConfChangeAddLearnerNode","node_id":4}])"));

  r = RunCli(
      {"dump", dir_, "--format", "json", "--type", "normal", "--from", "504", "--to", "507"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  lines = r.JsonLines();
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0]["index"], 504);
  EXPECT_EQ(lines[1]["index"], 507);
}

TEST_F(DumpTest, RangesAcrossSegmentBoundaries) {
  // Every segment boundary: the last entry of one and the first of the next.
  const CliResult info = RunCli({"info", dir_, "--format", "json"});
  ASSERT_EQ(info.exit_code, 0);
  const auto segs = info.Json()["segments"];
  for (size_t k = 1; k < segs.size(); ++k) {
    const uint64_t first = segs[k]["first_index"];
    const CliResult r = RunCli({"dump", dir_, "--format", "json", "--from",
                                std::to_string(first - 1), "--to", std::to_string(first)});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto lines = r.JsonLines();
    ASSERT_EQ(lines.size(), 2u);
    EXPECT_EQ(lines[0]["index"], first - 1);
    EXPECT_EQ(lines[1]["index"], first);
  }
  // Beyond the end and below the start.
  CliResult r = RunCli({"dump", dir_, "--format", "json", "--from", "2999", "--to", "9999"});
  EXPECT_EQ(r.JsonLines().size(), 2u);
  r = RunCli({"dump", dir_, "--format", "json", "--from", "1", "--to", "501"});
  ASSERT_EQ(r.JsonLines().size(), 1u);
  EXPECT_EQ(r.JsonLines()[0]["index"], 501);
}

TEST_F(DumpTest, HexShowsTheBytes) {
  const CliResult r = RunCli(
      {"dump", dir_, "--format", "hex", "--from", "600", "--to", "600", "--preview-bytes", "16"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto lines = r.Lines();
  ASSERT_GE(lines.size(), 3u);
  EXPECT_EQ(lines[0], "index 600  term 1  normal  1000 bytes");
  const std::string data = EntryData(spec_, 600);
  char want[8];
  std::snprintf(want, sizeof(want), "%02x %02x", static_cast<unsigned char>(data[0]),
                static_cast<unsigned char>(data[1]));
  EXPECT_EQ(lines[1].rfind(std::string("  00000000  ") + want, 0), 0u) << lines[1];
  EXPECT_EQ(lines[2], "  ... 984 more bytes");
}

TEST_F(DumpTest, StopsQuietlyWhenThePipeCloses) {
  CliOptions options;
  options.close_stdout_after = 4096;
  const CliResult r = RunCli({"dump", dir_}, options);
  EXPECT_FALSE(r.timed_out);
  EXPECT_EQ(r.signal, 0);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.err, "");
}

TEST_F(DumpTest, DamageInASealedSegmentStopsTheDumpThere) {
  const auto frames = Frames(SegmentPath(dir_, 2));
  ASSERT_GT(frames.size(), 5u);
  const FrameAt bad = frames[5];
  FlipByte(SegmentPath(dir_, 2), bad.offset + 100);
  const CliResult r = RunCli({"dump", dir_, "--format", "json"});
  EXPECT_EQ(r.exit_code, 1);
  const auto lines = r.JsonLines();
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines.back()["index"], bad.first_index - 1);
  EXPECT_EQ(r.err.rfind("raftlog dump: " + SegmentPath(dir_, 2) + " at offset " +
                            std::to_string(bad.offset) + ": frame checksum mismatch",
                        0),
            0u)
      << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1);
}

TEST_F(DumpTest, TornTailEndsTheDumpWithANote) {
  const std::string active = SegmentPath(dir_, 3);
  const auto frames = Frames(active);
  const uint64_t end = frames.back().offset + frames.back().frame_bytes;
  std::string bytes = ReadFile(active);
  bytes.replace(end, 8, "RLFR\x01\0\0\0", 8);
  WriteFile(active, bytes);
  const CliResult r = RunCli({"dump", dir_, "--format", "json", "--from", "2990"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.JsonLines().size(), 11u);
  EXPECT_NE(r.err.find("torn write at segments/0000000000000003.seg offset " + std::to_string(end)),
            std::string::npos)
      << r.err;
}

TEST_F(DumpTest, FromAboveToIsAUsageError) {
  const CliResult r = RunCli({"dump", dir_, "--from", "10", "--to", "5"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out, "");
}

}  // namespace
}  // namespace raftlog::tools::testing
