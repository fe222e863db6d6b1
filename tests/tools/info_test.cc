// raftlog info: what it reports about logs the engine made.

#include <gtest/gtest.h>

#include "raftlog/engine/log_engine.h"
#include "raftlog/format/record_format.h"
#include "tests/testutil/temp_dir.h"
#include "tests/tools/cli_runner.h"
#include "tests/tools/log_builder.h"

namespace raftlog::tools::testing {
namespace {

TEST(InfoTest, JsonDescribesTheLog) {
  testutil::TempDir tmp("info");
  const std::string dir = tmp.Sub("log");
  const LogSpec spec;
  ASSERT_TRUE(BuildLog(dir, spec).ok());

  const CliResult r = RunCli({"info", dir, "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  const nlohmann::json j = r.Json();
  EXPECT_EQ(j["format_version"], raftlog::format::kLogFormatVersion);
  EXPECT_EQ(j["first_index"], 501);
  EXPECT_EQ(j["last_index"], 3000);
  EXPECT_EQ(j["entries"], 2500);
  EXPECT_EQ(j["compaction"]["index"], 500);
  EXPECT_EQ(j["compaction"]["term"], 1);
  // A clean close records every entry of the active segment as durable.
  EXPECT_EQ(j["durable"]["last_index"], 3000);
  EXPECT_EQ(j["hard_state"]["term"], 2);
  EXPECT_EQ(j["hard_state"]["vote"], 1);
  EXPECT_EQ(j["hard_state"]["commit"], 2900);
  EXPECT_EQ(j["conf_state"]["voters"], nlohmann::json({1, 2, 3}));
  EXPECT_EQ(j["conf_state"]["learners"], nlohmann::json({4}));
  EXPECT_EQ(j["snapshot"]["index"], 1000);
  EXPECT_EQ(j["snapshot"]["term"], 1);
  EXPECT_EQ(j["snapshot"]["data_bytes"], 13);
  ASSERT_EQ(j["snapshot_files"].size(), 1u);
  EXPECT_EQ(j["snapshot_files"][0]["index"], 1000);
  EXPECT_EQ(j["snapshot_files"][0]["damaged"], false);
  EXPECT_EQ(j["segment_counts"]["total"], 3);
  EXPECT_EQ(j["segment_counts"]["sealed"], 2);
  EXPECT_EQ(j["segment_counts"]["active"], 1);

  // The segments' ranges tile the log, and their sizes add up.
  const auto& segs = j["segments"];
  ASSERT_EQ(segs.size(), 3u);
  EXPECT_EQ(segs[0]["first_index"], 1);
  for (size_t k = 1; k < segs.size(); ++k) {
    EXPECT_EQ(segs[k]["first_index"].get<uint64_t>(),
              segs[k - 1]["last_index"].get<uint64_t>() + 1);
  }
  EXPECT_EQ(segs[2]["state"], "active");
  EXPECT_EQ(segs[2]["last_index"], 3000);
  uint64_t file_bytes = 0, frame_bytes = 0;
  for (const auto& s : segs) {
    file_bytes += s["file_bytes"].get<uint64_t>();
    frame_bytes += s["frame_bytes"].get<uint64_t>();
  }
  EXPECT_EQ(j["bytes"]["segment_files"], file_bytes);
  EXPECT_EQ(j["bytes"]["frames"], frame_bytes);
  EXPECT_EQ(j["bytes"]["payload_stored"], j["bytes"]["payload_raw"]);
  EXPECT_DOUBLE_EQ(j["bytes"]["compression_ratio"].get<double>(), 1.0);

  EXPECT_EQ(j["entry_types"]["normal"], 2498);
  EXPECT_EQ(j["entry_types"]["confchange"], 1);
  EXPECT_EQ(j["entry_types"]["confchangev2"], 1);
  EXPECT_TRUE(j["problems"].empty());

  // The engine agrees on the range.
  engine::Options options;
  options.read_only = true;
  auto log = engine::LogEngine::Open(dir, options);
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  EXPECT_EQ((*log)->FirstIndex(), j["first_index"].get<uint64_t>());
  EXPECT_EQ((*log)->LastIndex(), j["last_index"].get<uint64_t>());
}

TEST(InfoTest, TextShowsTheKeyFacts) {
  testutil::TempDir tmp("info");
  const std::string dir = tmp.Sub("log");
  ASSERT_TRUE(BuildLog(dir, LogSpec{}).ok());
  const CliResult r = RunCli({"info", dir});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* want :
       {"501 .. 3000 (2500 entries)", "term 2, vote 1, commit 2900", "voters [1 2 3], learners [4]",
        "index 1000, term 1", "3 (2 sealed, 1 active)", "normal 2498, confchange 1, confchangev2 1",
        "compression ratio 1.00"}) {
    EXPECT_NE(r.out.find(want), std::string::npos) << want << "\n" << r.out;
  }
}

TEST(InfoTest, CompressedFramesShowTheirRatio) {
  testutil::TempDir tmp("info");
  const std::string dir = tmp.Sub("log");
  LogSpec spec;
  spec.compression = true;
  spec.compressible = true;
  spec.entry_bytes = 4000;
  spec.entries = 400;
  spec.snapshot_index = 0;
  spec.compact_index = 0;
  spec.conf_change_index = 0;
  spec.conf_change_v2_index = 0;
  spec.hard_state.commit = 400;
  ASSERT_TRUE(BuildLog(dir, spec).ok());
  const CliResult r = RunCli({"info", dir, "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json j = r.Json();
  EXPECT_GT(j["frames"]["compressed"].get<uint64_t>(), 0u);
  EXPECT_GT(j["bytes"]["compression_ratio"].get<double>(), 2.0);
  EXPECT_LT(j["bytes"]["payload_stored"].get<uint64_t>(),
            j["bytes"]["payload_raw"].get<uint64_t>());
  EXPECT_EQ(j["bytes"]["entry_data"], 400u * 4000);
  EXPECT_EQ(j["entry_types"]["normal"], 400);
  EXPECT_EQ(j["conf_state"], nullptr);
  EXPECT_EQ(j["snapshot"], nullptr);
}

TEST(InfoTest, EmptyLog) {
  testutil::TempDir tmp("info");
  const std::string dir = tmp.Sub("log");
  {
    auto log = engine::LogEngine::Open(dir, engine::Options{});
    ASSERT_TRUE(log.ok());
  }
  const CliResult r = RunCli({"info", dir, "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json j = r.Json();
  EXPECT_EQ(j["first_index"], 1);
  EXPECT_EQ(j["last_index"], 0);
  EXPECT_EQ(j["entries"], 0);
  EXPECT_EQ(j["hard_state"], nullptr);
  EXPECT_TRUE(j["segments"].empty());
}

// The term history: each term's first and last index, as the frames hold
// them, in JSON (all of them) and text; terms may jump (a leader elected
// after failed elections).
TEST(InfoTest, TermHistoryShowsWhereEachTermStarts) {
  testutil::TempDir tmp("info");
  const std::string dir = tmp.Sub("log");
  LogSpec spec;
  spec.term_starts = {{1, 1}, {800, 2}, {1200, 5}, {1201, 6}, {2500, 9}};
  spec.hard_state = {9, 1, 2900};
  ASSERT_TRUE(BuildLog(dir, spec).ok());

  CliResult r = RunCli({"info", dir, "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json expected = nlohmann::json::parse(R"([
    {"term": 1, "first_index": 501, "last_index": 799, "entries": 299},
    {"term": 2, "first_index": 800, "last_index": 1199, "entries": 400},
    {"term": 5, "first_index": 1200, "last_index": 1200, "entries": 1},
    {"term": 6, "first_index": 1201, "last_index": 2499, "entries": 1299},
    {"term": 9, "first_index": 2500, "last_index": 3000, "entries": 501}])");
  EXPECT_EQ(r.Json()["term_runs"], expected);

  r = RunCli({"info", dir});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("term history    5 terms in the log"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("  term         first        last         entries\n"
                       "  1            501          799          299\n"
                       "  2            800          1199         400\n"
                       "  5            1200         1200         1\n"
                       "  6            1201         2499         1299\n"
                       "  9            2500         3000         501\n"),
            std::string::npos)
      << r.out;
}

// Only the newest runs in text; the count of the others and where to find them.
TEST(InfoTest, TermHistoryTextShowsTheNewestTerms) {
  testutil::TempDir tmp("info");
  const std::string dir = tmp.Sub("log");
  LogSpec spec;
  spec.entries = 300;
  spec.entry_bytes = 10;
  spec.snapshot_index = 0;
  spec.compact_index = 0;
  spec.conf_change_index = 0;
  spec.conf_change_v2_index = 0;
  for (uint64_t t = 1; t <= 30; ++t) spec.term_starts.push_back({(t - 1) * 10 + 1, t});
  spec.hard_state = {30, 1, 300};
  ASSERT_TRUE(BuildLog(dir, spec).ok());

  CliResult r = RunCli({"info", dir, "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_EQ(r.Json()["term_runs"].size(), 30u);
  EXPECT_EQ(r.Json()["term_runs"][29]["first_index"], 291);

  r = RunCli({"info", dir});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("  ... 10 earlier term(s); --format json lists every one\n"
                       "  11           101          110          10\n"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("  30           291          300          10\n"), std::string::npos);
}

}  // namespace
}  // namespace raftlog::tools::testing
