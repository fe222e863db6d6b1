// LogEngine::CompressSegment under faults: a failure at every I/O step of the
// rewrite (creating, writing and syncing the new file, reading it back, the
// directory syncs, removing the raw file), each followed by every kind of
// power loss, then a reopen. The log must hold the same entries whatever
// happened, its segment either raw or compressed, with no unlisted file left
// after the reopen, and take new appends.
//
// The LMDB commit itself is not an I/O of the fault file system (LMDB does
// its own), so its two outcomes are covered by its neighbours: a failure of
// the directory sync just before it leaves the commit undone, a failure of
// the raw file's removal just after it leaves the commit done.

#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <memory>
#include <string>
#include <vector>

#include "raftlog/engine/log_engine.h"
#include "raftlog/format/layout.h"
#include "raftlog/format/meta_records.h"
#include "tests/engine/log_engine_fixture.h"
#include "tests/testutil/fault_file_system.h"
#include "tests/testutil/temp_dir.h"

namespace raftlog::engine {
namespace {

using testutil::FaultFileSystem;
using testutil::FsOp;
using testutil::PowerLossMode;
using testing::ReadEntries;

class CompressFaultTest : public ::testing::Test {
 protected:
  CompressFaultTest() {
    options_.segment_bytes = 64 << 10;
    // No background thread: every I/O happens inside the call under test.
    options_.prepared_segments = 0;
    options_.compression_mode = CompressionMode::kOff;
  }

  void NewCase() {
    fs_ = std::make_unique<FaultFileSystem>();
    options_.file_system = fs_.get();
    dir_ = std::make_unique<testutil::TempDir>("compress-fault");
  }

  std::unique_ptr<LogEngine> Open() {
    auto e = LogEngine::Open(dir_->path(), options_);
    EXPECT_TRUE(e.ok()) << e.status().ToString();
    return e.ok() ? std::move(*e) : nullptr;
  }

  // Two sealed segments and an active one of compressible entries, terms 1-2.
  void Fill(LogEngine* e) {
    uint64_t next = 1;
    while (e->SegmentRecords().size() < 3) {
      std::vector<std::string> data;
      std::vector<format::EntryView> views;
      for (int k = 0; k < 30; ++k) data.push_back("entry " + std::to_string(next + k) + " " +
                                                  std::string(150, static_cast<char>('a' + k % 7)));
      for (int k = 0; k < 30; ++k) {
        views.push_back(format::EntryView{next + k, next < 300 ? 1u : 2u, 0, data[k]});
      }
      ASSERT_TRUE(e->Append(views, {}).ok());
      next += 30;
    }
  }

  // Every file in segments/ is one the manifest lists.
  void ExpectNoStrays(LogEngine* e) {
    std::vector<std::string> listed;
    for (const auto& r : e->SegmentRecords()) listed.push_back(format::SegmentRecordFileName(r));
    auto names = fs_->ListDir(io::JoinPath(dir_->path(), "segments"));
    ASSERT_TRUE(names.ok());
    for (const std::string& name : *names) {
      EXPECT_NE(std::find(listed.begin(), listed.end(), name), listed.end()) << name;
    }
  }

  std::unique_ptr<FaultFileSystem> fs_;
  std::unique_ptr<testutil::TempDir> dir_;
  Options options_;
};

TEST_F(CompressFaultTest, FailureAtEveryStepThenPowerLossKeepsTheLog) {
  uint64_t steps = 0;
  int compressed_cases = 0, raw_cases = 0;
  for (uint64_t k = 0; k <= steps * 3; ++k) {
    const auto mode = static_cast<PowerLossMode>(k % 3);
    const uint64_t step = k == 0 ? 0 : (k + 2) / 3;
    SCOPED_TRACE("failing step " + std::to_string(step) + " of " + std::to_string(steps) +
                 ", power loss mode " + std::to_string(k % 3));
    NewCase();
    auto e = Open();
    ASSERT_NE(e, nullptr);
    Fill(e.get());
    // What was acknowledged must be durable before the power loss below.
    ASSERT_TRUE(e->Sync().ok());
    auto before = ReadEntries(e.get());
    ASSERT_TRUE(before.ok());
    const uint64_t id = e->SegmentRecords().front().segment_id;
    fs_->ResetCounters();
    if (step > 0) fs_->FailNth(FsOp::kAny, step, step % 2 ? EIO : ENOSPC);
    auto result = e->CompressSegment(id);
    if (k == 0) {
      ASSERT_TRUE(result.ok()) << result.status().ToString();
      ASSERT_EQ(result->outcome, CompressSegmentResult::Outcome::kCompressed);
      steps = fs_->calls(FsOp::kAny);
    }
    fs_->ClearFaults();
    // The instance reads the same entries whatever happened.
    auto live = ReadEntries(e.get());
    ASSERT_TRUE(live.ok()) << live.status().ToString();
    EXPECT_EQ(*live, *before);

    ASSERT_TRUE(fs_->SimulatePowerLoss(mode, k).ok());
    e->Abandon();
    e.reset();
    e = Open();
    ASSERT_NE(e, nullptr) << "reopen after failing step " << step;
    auto got = ReadEntries(e.get());
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_EQ(*got, *before);
    const format::SegmentRecord first = e->SegmentRecords().front();
    EXPECT_EQ(first.segment_id, id);
    if (result.ok() && result->outcome == CompressSegmentResult::Outcome::kCompressed) {
      // Acknowledged: the swap's commit is durable.
      EXPECT_TRUE(first.compressed());
    }
    (first.compressed() ? compressed_cases : raw_cases)++;
    ExpectNoStrays(e.get());
    // It takes new writes, and compressing again works.
    std::vector<format::EntryView> more{{e->LastIndex() + 1, 2, 0, "more"}};
    ASSERT_TRUE(e->Append(more, {}).ok());
    auto again = e->CompressSegment(id);
    ASSERT_TRUE(again.ok()) << again.status().ToString();
  }
  EXPECT_GT(steps, 5u);
  EXPECT_GT(compressed_cases, 0);
  EXPECT_GT(raw_cases, 0);
  RecordProperty("steps", static_cast<int>(steps));
}

}  // namespace
}  // namespace raftlog::engine
