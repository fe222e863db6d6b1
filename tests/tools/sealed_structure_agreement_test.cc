// The engine's checks of a sealed segment on its first read and verify's
// are one function (CheckSealedStructure, sealed_scan.h): for a damaged
// trailer, footer or header, the error a read gets names the same problem
// as verify's finding, at the same offset.

#include <gtest/gtest.h>

#include <string>

#include "raftlog/engine/disk_storage.h"
#include "tests/testutil/temp_dir.h"
#include "tests/tools/cli_runner.h"
#include "tests/tools/log_builder.h"

namespace raftlog::tools::testing {
namespace {

TEST(SealedStructureAgreementTest, EngineReadsAndVerifyNameTheSameProblem) {
  // Offsets from the end of segment 1: in the trailer, in the footer frame;
  // and 20 (in the header) from the start.
  for (const int64_t at : {-8, -40, 20}) {
    testutil::TempDir tmp("sealed-structure");
    const std::string dir = tmp.Sub("log");
    ASSERT_TRUE(BuildLog(dir, LogSpec{}).ok());
    const std::string seg = SegmentPath(dir, 1);
    const uint64_t size = ReadFile(seg).size();
    const uint64_t offset = at < 0 ? size - static_cast<uint64_t>(-at) : static_cast<uint64_t>(at);
    FlipByte(seg, offset);

    const CliResult r = RunCli({"verify", dir, "--format", "json"});
    ASSERT_EQ(r.exit_code, 1) << r.out;
    const nlohmann::json j = r.Json();
    std::string what;
    std::optional<uint64_t> where;
    for (const auto& f : j["findings"]) {
      if (f["file"] == "segments/0000000000000001.seg" && f["severity"] == "error") {
        what = f["what"];
        if (!f["offset"].is_null()) where = f["offset"].get<uint64_t>();
        break;
      }
    }
    ASSERT_FALSE(what.empty()) << r.out;

    engine::DiskStorageOptions options;
    options.engine.read_only = true;
    options.engine.create_if_missing = false;
    auto storage = engine::DiskStorage::Open(dir, options);
    ASSERT_TRUE(storage.ok()) << storage.status().ToString();
    auto entries = (*storage)->Entries(501, 502, UINT64_MAX);
    ASSERT_FALSE(entries.ok()) << "offset " << offset;
    const std::string message(entries.status().message());
    EXPECT_NE(message.find(what), std::string::npos) << message << "\nverify: " << what;
    if (where.has_value()) {
      EXPECT_NE(message.find("at offset " + std::to_string(*where) + ": "), std::string::npos)
          << message;
    }
  }
}

}  // namespace
}  // namespace raftlog::tools::testing
