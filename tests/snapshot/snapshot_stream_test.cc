// Streaming a large snapshot: 64 MiB written in odd chunk sizes and read
// back block by block, with the writer's and the reader's memory bounded by
// one block throughout.

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "raftlog/format/checksum.h"
#include "raftlog/snapshot/snapshot_store.h"
#include "tests/testutil/temp_dir.h"

namespace raftlog::snapshot {
namespace {

// Fills [p, p+n) from a xorshift64 generator, 8 bytes per step.
void FillRandom(char* p, size_t n, uint64_t* state) {
  while (n > 0) {
    uint64_t x = *state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *state = x;
    const size_t take = std::min<size_t>(n, sizeof(x));
    std::memcpy(p, &x, take);
    p += take;
    n -= take;
  }
}

TEST(SnapshotStreamTest, SixtyFourMebibytesInOddChunksWithBoundedMemory) {
  constexpr uint64_t kTotal = uint64_t{64} << 20;
  constexpr size_t kBlock = size_t{1} << 20;  // the default
  testutil::TempDir tmp("snapshot-stream");
  auto store = SnapshotStore::Open(io::FileSystem::Default(), tmp.path(), {});
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  ASSERT_EQ((*store)->options().block_bytes, kBlock);

  // Chunk sizes around and across block boundaries, cycled.
  const std::vector<size_t> sizes = {
      1,      7, 4093,       65537, kBlock - 1,     kBlock,        kBlock + 1, 3 * kBlock + 5,
      999983, 2, kBlock / 2, 0,     5 * kBlock - 3, kBlock * 2 + 1};
  std::vector<char> chunk(*std::max_element(sizes.begin(), sizes.end()));
  uint64_t state = 0x5eed;
  format::StreamingChecksum want;

  auto writer = (*store)->BeginWrite({/*index=*/1000, /*term=*/7, "conf"});
  ASSERT_TRUE(writer.ok()) << writer.status().ToString();
  uint64_t written = 0;
  size_t max_capacity = 0;
  for (size_t i = 0; written < kTotal; ++i) {
    const size_t n =
        static_cast<size_t>(std::min<uint64_t>(sizes[i % sizes.size()], kTotal - written));
    FillRandom(chunk.data(), n, &state);
    const std::string_view piece(chunk.data(), n);
    want.Update(piece);
    ASSERT_TRUE((*writer)->Append(piece).ok());
    written += n;
    ASSERT_LT((*writer)->buffered_bytes(), kBlock);
    ASSERT_LE((*writer)->buffer_capacity(), kBlock);
    max_capacity = std::max(max_capacity, (*writer)->buffer_capacity());
  }
  EXPECT_GT(max_capacity, 0u);  // the odd sizes did go through the buffer
  auto info = (*writer)->Commit();
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->data_bytes, kTotal);
  EXPECT_EQ(info->data_checksum, want.Digest());

  auto reader = (*store)->OpenReader(info->name);
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  EXPECT_EQ((*reader)->block_count(), kTotal / kBlock);
  format::StreamingChecksum got;
  uint64_t read = 0;
  while (true) {
    auto piece = (*reader)->ReadChunk();
    ASSERT_TRUE(piece.ok()) << piece.status().ToString();
    if (piece->empty()) break;
    ASSERT_LE(piece->size(), kBlock);
    ASSERT_LE((*reader)->buffer_capacity(), kBlockHeaderBytes + kBlock);
    got.Update(*piece);
    read += piece->size();
  }
  EXPECT_EQ(read, kTotal);
  EXPECT_EQ(got.Digest(), want.Digest());
  EXPECT_TRUE((*store)->Verify(info->name).ok());
}

}  // namespace
}  // namespace raftlog::snapshot
