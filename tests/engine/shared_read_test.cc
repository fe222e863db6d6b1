// Zero-copy reads: DiskStorage::Entries (LogEngine::ReadShared) hands out
// payloads that view the segment's mapping, or a compressed frame's
// decompressed buffer, instead of copies.
//
// What is asserted:
//   - the bytes allocated per entry read do not grow with the payload (128 B
//     against 16 KiB): one copy of a 16 KiB payload would add 16 KiB per
//     entry, far above the allowed eighth of it;
//   - the entries of one read share one buffer (no copy can);
//   - views keep their bytes, unchanged, after everything that removes or
//     rewrites the log under them: a truncating Append (raft replacing a
//     conflicting suffix), compaction (the segment files are deleted),
//     segment rolls (seals, whose ftruncate shrinks the file), Close and the
//     destruction of the storage. Run under ASan in CI: a view into an
//     unmapped region would fault.

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "raftlog/engine/disk_storage.h"
#include "raftlog/engine/log_engine.h"
#include "raftlog/format/bytes.h"
#include "raftlog/raft/types.h"
#include "tests/format/allocation_counter.h"
#include "tests/testutil/temp_dir.h"

namespace raftlog::engine {
namespace {

constexpr uint64_t kNoLimit = std::numeric_limits<uint64_t>::max();

// A payload that names its index and term, padded to `bytes` with text
// (compressible, for the compressed case).
std::string Payload(uint64_t index, uint64_t term, size_t bytes) {
  std::string s = "entry " + std::to_string(index) + " term " + std::to_string(term) + " ";
  while (s.size() < bytes) s += "the quick brown fox " + std::to_string(index % 7) + " ";
  s.resize(bytes);
  return s;
}

std::vector<raft::Entry> Batch(uint64_t first, uint64_t n, uint64_t term, size_t bytes) {
  std::vector<raft::Entry> out;
  for (uint64_t i = first; i < first + n; ++i) {
    out.push_back(raft::Entry{term, i, raft::EntryType::kNormal, Bytes(Payload(i, term, bytes))});
  }
  return out;
}

std::unique_ptr<DiskStorage> OpenStorage(const std::string& dir, const DiskStorageOptions& o) {
  auto opened = DiskStorage::Open(dir, o);
  EXPECT_TRUE(opened.ok()) << opened.status().ToString();
  return opened.ok() ? std::move(*opened) : nullptr;
}

// Bytes allocated on this thread per entry by Entries() over `count`
// entries of `bytes` each, read once before (so frames are verified and
// sealed segments opened: the steady state of raft re-reading its log).
double AllocatedPerEntry(size_t bytes, uint64_t count, bool* shared) {
  testutil::TempDir dir("shared-read-alloc");
  DiskStorageOptions o;
  o.engine.segment_bytes = 16 << 20;
  o.engine.sync = SyncPolicy::kNever;
  auto s = OpenStorage(dir.path(), o);
  if (s == nullptr) return -1;
  for (uint64_t i = 1; i <= count; i += 16) {
    EXPECT_TRUE(s->Append(Batch(i, 16, 1, bytes)).ok());
  }
  EXPECT_TRUE(s->Entries(1, count + 1, kNoLimit).ok());
  size_t allocated = 0;
  std::vector<raft::Entry> got;
  {
    format::testing::AllocationCounter counter;
    auto read = s->Entries(1, count + 1, kNoLimit);
    allocated = counter.bytes();
    EXPECT_TRUE(read.ok());
    if (read.ok()) got = std::move(*read);
  }
  EXPECT_EQ(got.size(), count);
  for (const raft::Entry& e : got) EXPECT_EQ(e.data, Payload(e.index, 1, bytes));
  *shared = got.size() == count && got.front().data.shares_buffer_with(got.back().data);
  return static_cast<double>(allocated) / static_cast<double>(count);
}

TEST(SharedReadTest, BytesAllocatedPerEntryReadDoNotGrowWithThePayload) {
  constexpr uint64_t kCount = 256;
  bool shared_small = false, shared_large = false;
  const double small = AllocatedPerEntry(128, kCount, &shared_small);
  const double large = AllocatedPerEntry(16 << 10, kCount, &shared_large);
  // The vector of entries is the same size at both; a single copy of each
  // payload would add 16 KiB per entry.
  EXPECT_LE(large, small + (16 << 10) / 8) << "128 B: " << small << " B/entry, 16 KiB: " << large
                                           << " B/entry";
  EXPECT_TRUE(shared_small);
  EXPECT_TRUE(shared_large);
}

struct Kept {
  raft::Entry entry;
  std::string expected;
};

void ExpectIntact(const std::vector<Kept>& kept, const char* when) {
  for (const Kept& k : kept) {
    ASSERT_EQ(k.entry.data, k.expected) << "entry " << k.entry.index << " " << when;
  }
}

void Keep(DiskStorage* s, uint64_t lo, uint64_t hi, uint64_t term, size_t bytes,
          std::vector<Kept>* kept) {
  auto got = s->Entries(lo, hi, kNoLimit);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_EQ(got->size(), hi - lo);
  for (raft::Entry& e : *got) {
    kept->push_back(Kept{e, Payload(e.index, term, bytes)});
  }
}

class SharedReadLifetimeTest : public ::testing::TestWithParam<bool> {};

TEST_P(SharedReadLifetimeTest, ViewsOutliveTruncationCompactionRollsAndClose) {
  testutil::TempDir dir("shared-read-life");
  DiskStorageOptions o;
  o.engine.segment_bytes = 64 << 10;  // a few entries per segment: many rolls
  o.engine.compression.enabled = GetParam();
  o.engine.compression.min_payload_bytes = 256;
  o.engine.frame_cache_bytes = 16 << 10;  // evictions while views live
  constexpr size_t kBytes = 1000;
  std::vector<Kept> kept;
  {
    auto s = OpenStorage(dir.path(), o);
    ASSERT_NE(s, nullptr);
    for (uint64_t i = 1; i <= 300; i += 10) ASSERT_TRUE(s->Append(Batch(i, 10, 1, kBytes)).ok());
    Keep(s.get(), 1, 301, 1, kBytes, &kept);
    // One read's entries of one frame share its buffer: they are views.
    EXPECT_TRUE(kept[0].entry.data.shares_buffer_with(kept[1].entry.data));

    // raft replaces a conflicting suffix: entries 291..300 get term 2. The
    // views of the replaced entries keep the old bytes.
    ASSERT_TRUE(s->Append(Batch(291, 10, 2, kBytes)).ok());
    ExpectIntact(kept, "after a truncating append");
    Keep(s.get(), 291, 301, 2, kBytes, &kept);

    // Compaction deletes the segment files wholly below index 200.
    ASSERT_TRUE(s->Compact(200).ok());
    ExpectIntact(kept, "after compaction");

    // Rolls: seals (footer, trailer, ftruncate) and new segments.
    for (uint64_t i = 301; i <= 600; i += 10) ASSERT_TRUE(s->Append(Batch(i, 10, 2, kBytes)).ok());
    ExpectIntact(kept, "after segment rolls");
    Keep(s.get(), 450, 601, 2, kBytes, &kept);

    // A second truncation, inside what is now a sealed segment.
    ASSERT_TRUE(s->Append(Batch(455, 5, 3, kBytes)).ok());
    ASSERT_TRUE(s->Compact(454).ok());
    ExpectIntact(kept, "after a truncation into a sealed segment");
    ASSERT_TRUE(s->Close().ok());
    ExpectIntact(kept, "after Close");
  }
  ExpectIntact(kept, "after the storage was destroyed");

  // Reopened, the log still reads; the old views are untouched by it.
  auto s = OpenStorage(dir.path(), o);
  ASSERT_NE(s, nullptr);
  auto last = s->Entries(455, 460, kNoLimit);
  ASSERT_TRUE(last.ok());
  ASSERT_EQ(last->size(), 5u);
  EXPECT_EQ(last->back().data, Payload(459, 3, kBytes));
  ExpectIntact(kept, "after reopening");
}

INSTANTIATE_TEST_SUITE_P(Compression, SharedReadLifetimeTest, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "Zstd" : "Plain"; });

// LogEngine::ReadShared: the Bytes equals the view's data and shares the
// mapping across frames of one segment.
TEST(SharedReadTest, ReadSharedPayloadsShareTheSegmentMapping) {
  testutil::TempDir dir("shared-read-engine");
  Options o;
  o.segment_bytes = 1 << 20;
  auto opened = LogEngine::Open(dir.path(), o);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  LogEngine* e = opened->get();
  std::vector<std::string> data;
  for (uint64_t i = 1; i <= 20; ++i) data.push_back(Payload(i, 1, 100));
  for (uint64_t i = 1; i <= 20; i += 4) {
    std::vector<format::EntryView> batch;
    for (uint64_t k = i; k < i + 4; ++k) batch.push_back({k, 1, 0, data[k - 1]});
    ASSERT_TRUE(e->Append(batch, {}).ok());
  }
  std::vector<Bytes> got;
  ASSERT_TRUE(e->ReadShared(1, 21, [&](const format::EntryView& v, Bytes b) {
                 EXPECT_EQ(b.view(), v.data);
                 EXPECT_EQ(b.data(), v.data.data());  // the same memory, not a copy
                 got.push_back(std::move(b));
                 return true;
               }).ok());
  ASSERT_EQ(got.size(), 20u);
  EXPECT_TRUE(got.front().shares_buffer_with(got.back()));  // frames 1 and 5
  ASSERT_TRUE(e->Close().ok());
  opened->reset();
  for (uint64_t i = 1; i <= 20; ++i) EXPECT_EQ(got[i - 1], data[i - 1]);
}

}  // namespace
}  // namespace raftlog::engine
