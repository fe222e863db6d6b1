// Options::segment_bytes changed across a restart: the reopened active
// segment keeps the size it was made with (its header says it), new segments
// take the new size. Both directions, with appends, reads, a roll into the
// next segment and another reopen.

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "raftlog/engine/log_engine.h"
#include "raftlog/io/file_system.h"
#include "tests/testutil/temp_dir.h"

namespace raftlog::engine {
namespace {

using format::EntryView;

std::string Data(uint64_t index) {
  std::string s = "entry " + std::to_string(index) + " ";
  s.resize(1000, static_cast<char>('a' + index % 26));
  return s;
}

Status AppendRange(LogEngine* e, uint64_t first, uint64_t last) {
  for (uint64_t i = first; i <= last; i += 8) {
    std::vector<std::string> data;
    std::vector<EntryView> views;
    for (uint64_t k = i; k <= std::min(last, i + 7); ++k) data.push_back(Data(k));
    for (uint64_t k = 0; k < data.size(); ++k) {
      views.push_back(EntryView{i + k, 1, 0, data[k]});
    }
    RAFTLOG_RETURN_IF_ERROR(e->Append(views, {}));
  }
  return Status::OK();
}

void ExpectAll(LogEngine* e, uint64_t last) {
  ASSERT_EQ(e->LastIndex(), last);
  uint64_t next = 1;
  const Status s = e->Read(1, last + 1, [&](const EntryView& v) {
    EXPECT_EQ(v.index, next);
    EXPECT_EQ(v.data, Data(next)) << "entry " << next;
    ++next;
    return true;
  });
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(next, last + 1);
}

std::vector<uint64_t> SegmentSizes(const std::string& dir) {
  io::FileSystem* fs = io::FileSystem::Default();
  std::vector<uint64_t> sizes;
  auto names = fs->ListDir(dir + "/segments");
  EXPECT_TRUE(names.ok());
  for (const std::string& name : *names) {
    auto f = fs->Open(dir + "/segments/" + name, io::OpenMode::kReadOnly);
    EXPECT_TRUE(f.ok());
    sizes.push_back(*(*f)->Size());
  }
  return sizes;
}

void RunChange(uint64_t before, uint64_t after) {
  testutil::TempDir dir("segment-size");
  Options options;
  options.prepared_segments = 0;
  options.segment_bytes = before;
  uint64_t last = 0;
  {
    auto e = LogEngine::Open(dir.path(), options);
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    // Half of the first segment.
    last = before / 2 / 1100;
    ASSERT_TRUE(AppendRange(e->get(), 1, last).ok());
    ASSERT_TRUE((*e)->Close().ok());
  }
  options.segment_bytes = after;
  {
    auto e = LogEngine::Open(dir.path(), options);
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    ExpectAll(e->get(), last);
    // Fill the old active segment and roll into segments of the new size.
    const uint64_t more = (before + 2 * after) / 1100;
    const Status s = AppendRange(e->get(), last + 1, last + more);
    ASSERT_TRUE(s.ok()) << s.ToString();
    last += more;
    ExpectAll(e->get(), last);
    EXPECT_GE((*e)->GetStats().segment_rolls, 2u);
    ASSERT_TRUE((*e)->Close().ok());
  }
  {
    auto e = LogEngine::Open(dir.path(), options);
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    ExpectAll(e->get(), last);
    ASSERT_TRUE(AppendRange(e->get(), last + 1, last + 50).ok());
    last += 50;
    ExpectAll(e->get(), last);
    ASSERT_TRUE((*e)->Close().ok());
  }
  // The first segment was sealed (shorter than it was made); the active one
  // (the last) has the new size, and so has every sealed one but the first
  // no more than it.
  const std::vector<uint64_t> sizes = SegmentSizes(dir.path());
  ASSERT_GE(sizes.size(), 3u);
  EXPECT_LE(sizes.front(), before);
  EXPECT_EQ(sizes.back(), after);
  for (size_t k = 1; k < sizes.size(); ++k) EXPECT_LE(sizes[k], after) << "segment " << k;
  auto e = LogEngine::Open(dir.path(), options);
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  ExpectAll(e->get(), last);
}

TEST(SegmentSizeChangeTest, RaisedAcrossARestart) { RunChange(256 << 10, 1 << 20); }

TEST(SegmentSizeChangeTest, LoweredAcrossARestart) { RunChange(1 << 20, 256 << 10); }

}  // namespace
}  // namespace raftlog::engine
