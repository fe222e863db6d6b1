// verify and the engine's open classify a log directory's files the same
// way (engine/dir_scan.h): every file verify warns about as a leftover is
// one the engine removes on its next read-write open, the spares and side
// files it accepts are kept, and verify is clean afterwards.

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <set>
#include <string>

#include "raftlog/engine/disk_storage.h"
#include "raftlog/format/layout.h"
#include "tests/testutil/temp_dir.h"
#include "tests/tools/cli_runner.h"
#include "tests/tools/log_builder.h"

namespace raftlog::tools::testing {
namespace {

namespace fs = std::filesystem;
namespace layout = format::layout;

TEST(DirScanAgreementTest, VerifyWarnsAboutExactlyWhatTheEngineRemoves) {
  testutil::TempDir tmp("dir-scan");
  const std::string dir = tmp.Sub("log");
  const LogSpec spec;
  ASSERT_TRUE(BuildLog(dir, spec).ok());
  const std::string segs = dir + "/segments/";
  // Leftovers the engine removes.
  const std::string stray = "segments/" + layout::SegmentFileName(0);  // below next id, unlisted
  WriteFile(dir + "/" + stray, std::string(4096, 'x'));
  const std::string tmp_spare = "segments/" + layout::SpareTempFileName(200);
  WriteFile(dir + "/" + tmp_spare, std::string(4096, '\0'));
  // (Not one being written right now: older than verify's 10 s.)
  fs::last_write_time(dir + "/" + tmp_spare,
                      fs::file_time_type::clock::now() - std::chrono::minutes(5));
  const std::string foreign = "segments/notes.txt";
  WriteFile(dir + "/" + foreign, "notes");
  fs::create_directory(dir + "/creating.tmp");
  WriteFile(dir + "/creating.tmp/meta.mdb", "partial");
  // Files the engine keeps: a complete spare, repair's side file.
  const std::string spare = "segments/" + layout::SegmentFileName(201);
  WriteFile(dir + "/" + spare, std::string(spec.segment_bytes, '\0'));
  const std::string side = layout::RepairSideFileName(layout::SegmentFileName(3), 1764000000);
  WriteFile(dir + "/" + side, "cut bytes");

  CliResult r = RunCli({"verify", dir, "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.out;
  std::set<std::string> warned;
  const nlohmann::json j = r.Json();
  for (const auto& f : j["findings"]) {
    EXPECT_EQ(f["severity"], "warning") << f.dump();
    warned.insert(f["file"].get<std::string>());
  }
  EXPECT_EQ(warned, (std::set<std::string>{stray, tmp_spare, foreign, "creating.tmp"}));

  engine::DiskStorageOptions options;
  options.engine.segment_bytes = spec.segment_bytes;
  options.engine.create_if_missing = false;
  {
    auto storage = engine::DiskStorage::Open(dir, options);
    ASSERT_TRUE(storage.ok()) << storage.status().ToString();
    ASSERT_TRUE((*storage)->Close().ok());
  }
  for (const std::string& gone : warned) EXPECT_FALSE(fs::exists(dir + "/" + gone)) << gone;
  EXPECT_TRUE(fs::exists(dir + "/" + spare));
  EXPECT_TRUE(fs::exists(dir + "/" + side));
  r = RunCli({"verify", dir, "--format", "json", "--strict"});
  EXPECT_EQ(r.exit_code, 0) << r.out;
}

}  // namespace
}  // namespace raftlog::tools::testing
