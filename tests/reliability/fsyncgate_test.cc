// After a failed fdatasync Linux may mark the dirty pages clean without
// writing them ("fsyncgate"): the page cache then shows bytes the disk never
// got. Recovery must not trust such bytes: where it can read the device
// directly (O_DIRECT) it compares and writes back what differs; where the
// file system refuses O_DIRECT it must still make them durable before it
// serves them. Here with the fault file system, which models exactly that
// page-cache state, and O_DIRECT refused.

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "raftlog/engine/log_engine.h"
#include "tests/testutil/fault_file_system.h"
#include "tests/testutil/temp_dir.h"

namespace raftlog::engine {
namespace {

using format::EntryView;
using testutil::FaultFileSystem;
using testutil::FsOp;

Status AppendRange(LogEngine* e, uint64_t first, uint64_t last) {
  std::vector<std::string> data;
  std::vector<EntryView> views;
  for (uint64_t i = first; i <= last; ++i) data.push_back("entry " + std::to_string(i));
  for (uint64_t k = 0; k < data.size(); ++k) views.push_back(EntryView{first + k, 1, 0, data[k]});
  return e->Append(views, {});
}

TEST(FsyncgateTest, WithoutDirectIoRecoveredBytesAreStillMadeDurable) {
  testutil::TempDir dir("fsyncgate");
  FaultFileSystem fs;
  fs.set_direct_reads_supported(false);
  Options options;
  options.file_system = &fs;
  options.segment_bytes = 1 << 20;
  options.prepared_segments = 0;
  {
    auto e = LogEngine::Open(dir.path(), options);
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    ASSERT_TRUE(AppendRange(e->get(), 1, 10).ok());
    // The next append's fdatasync fails: its bytes stay in the page cache,
    // marked clean, never written.
    fs.FailNth(FsOp::kSync, 1, EIO, ".seg");
    EXPECT_FALSE(AppendRange(e->get(), 11, 20).ok());
    fs.ClearFaults();
    (*e)->Abandon();  // the process dies; the page cache stays
  }
  uint64_t served = 0;
  {
    auto e = LogEngine::Open(dir.path(), options);
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    served = (*e)->LastIndex();
    EXPECT_GT((*e)->GetStats().open_bytes_rewritten, 0u);
    (*e)->Abandon();
  }
  ASSERT_EQ(served, 20u);
  // What the second open served must survive a power loss now.
  ASSERT_TRUE(fs.SimulatePowerLoss(testutil::PowerLossMode::kDropUnsynced).ok());
  auto e = LogEngine::Open(dir.path(), options);
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ((*e)->LastIndex(), served) << "entries served after recovery were lost in a power loss";
}

}  // namespace
}  // namespace raftlog::engine
