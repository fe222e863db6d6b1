// verify and the engine's open classify a log directory's files the same
// way (engine/dir_scan.h): every file verify warns about as a leftover is
// one the engine removes on its next read-write open, the spares and side
// files it accepts are kept, and verify is clean afterwards.

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <vector>

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

// The cold worker's files: a compressed rewrite the manifest does not list,
// and the raw file of a segment it lists compressed. Left by an interrupted
// compression they are leftovers that verify warns about and the engine
// removes. Beside a writer that is appending (its active segment written in
// the last 10 seconds) they are the worker's progress, which verify leaves
// alone, unless told that no process writes the log (--writer-patience 0).
TEST(DirScanAgreementTest, CompressionFilesAreLeftoversOnlyWhenNoWriterAppends) {
  testutil::TempDir tmp("dir-scan");
  const std::string dir = tmp.Sub("log");
  LogSpec spec;
  spec.compressible = true;
  ASSERT_TRUE(BuildLog(dir, spec).ok());
  CliResult r = RunCli({"compress", dir, "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  ASSERT_GT(r.Json()["compressed"].get<int>(), 0) << r.out;

  std::optional<layout::CompressedSegmentName> compressed;
  for (const auto& e : fs::directory_iterator(dir + "/segments")) {
    compressed = layout::ParseCompressedSegmentFileName(e.path().filename().string());
    if (compressed.has_value()) break;
  }
  ASSERT_TRUE(compressed.has_value());
  const std::string raw_left = "segments/" + layout::SegmentFileName(compressed->id);
  const std::string rewrite_left =
      "segments/" + layout::CompressedSegmentFileName(compressed->id, compressed->generation + 100);
  WriteFile(dir + "/" + raw_left, std::string(4096, 'r'));
  WriteFile(dir + "/" + rewrite_left, std::string(4096, 'z'));
  const CliResult info = RunCli({"info", dir, "--format", "json"});
  const nlohmann::json info_json = info.Json();
  std::string active;
  for (const auto& s : info_json["segments"]) {
    if (s["state"] == "active") active = dir + "/" + s["file"].get<std::string>();
  }
  ASSERT_FALSE(active.empty()) << info.out << info.err;
  // Every file old, as after a crash minutes ago; then the active segment
  // written just now, as by a writer appending.
  for (const auto& e : fs::directory_iterator(dir + "/segments")) {
    fs::last_write_time(e.path(), fs::file_time_type::clock::now() - std::chrono::minutes(5));
  }
  fs::last_write_time(active, fs::file_time_type::clock::now());
  auto warned = [&](const std::vector<std::string>& extra) {
    std::vector<std::string> args = {"verify", dir, "--format", "json"};
    args.insert(args.end(), extra.begin(), extra.end());
    const CliResult v = RunCli(args);
    EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
    std::set<std::string> files;
    const nlohmann::json j = v.Json();
    for (const auto& f : j["findings"]) {
      EXPECT_EQ(f["severity"], "warning") << f.dump();
      files.insert(f["file"].get<std::string>());
    }
    return files;
  };
  const std::set<std::string> both = {raw_left, rewrite_left};
  EXPECT_EQ(warned({}), std::set<std::string>{});
  EXPECT_EQ(warned({"--writer-patience", "0"}), both);
  // No writer: the active segment is as old as the rest.
  fs::last_write_time(active, fs::file_time_type::clock::now() - std::chrono::minutes(5));
  EXPECT_EQ(warned({"--writer-patience", "0.1"}), both);

  engine::DiskStorageOptions options;
  options.engine.segment_bytes = spec.segment_bytes;
  options.engine.create_if_missing = false;
  options.engine.compression_mode = engine::CompressionMode::kOff;
  {
    auto storage = engine::DiskStorage::Open(dir, options);
    ASSERT_TRUE(storage.ok()) << storage.status().ToString();
    ASSERT_TRUE((*storage)->Close().ok());
  }
  for (const std::string& gone : both) EXPECT_FALSE(fs::exists(dir + "/" + gone)) << gone;
  r = RunCli({"verify", dir, "--format", "json", "--strict", "--writer-patience", "0"});
  EXPECT_EQ(r.exit_code, 0) << r.out;
}

}  // namespace
}  // namespace raftlog::tools::testing
