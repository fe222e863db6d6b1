#include "raftlog/snapshot/snapshot_store.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "raftlog/format/checksum.h"
#include "raftlog/snapshot/snapshot_format.h"
#include "tests/snapshot/snapshot_test_util.h"
#include "tests/testutil/temp_dir.h"

namespace raftlog::snapshot {
namespace {

using test_support::RandomBytes;
using test_support::ReadFile;

SnapshotMeta Meta(uint64_t term, uint64_t index, std::string conf_state = "conf") {
  return SnapshotMeta{index, term, std::move(conf_state)};
}

class SnapshotStoreTest : public ::testing::Test {
 protected:
  std::unique_ptr<SnapshotStore> OpenStore(SnapshotStore::Options options = {}) {
    auto store = SnapshotStore::Open(io::FileSystem::Default(), dir_, options);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(*store) : nullptr;
  }

  // Reads a snapshot back through the streaming reader, checking the
  // reader's memory bound on the way.
  std::string StreamAll(SnapshotStore* store, const std::string& name) {
    auto reader = store->OpenReader(name);
    EXPECT_TRUE(reader.ok()) << reader.status().ToString();
    if (!reader.ok()) return {};
    std::string out;
    while (true) {
      auto chunk = (*reader)->ReadChunk();
      EXPECT_TRUE(chunk.ok()) << chunk.status().ToString();
      if (!chunk.ok() || chunk->empty()) break;
      EXPECT_LE(chunk->size(), (*reader)->block_bytes());
      EXPECT_LE((*reader)->buffer_capacity(), kBlockHeaderBytes + (*reader)->block_bytes());
      out.append(*chunk);
    }
    EXPECT_TRUE((*reader)->done());
    // The end is sticky.
    auto again = (*reader)->ReadChunk();
    EXPECT_TRUE(again.ok() && again->empty());
    return out;
  }

  std::vector<std::string> Names(const std::vector<SnapshotInfo>& infos) {
    std::vector<std::string> names;
    for (const SnapshotInfo& info : infos) names.push_back(info.name);
    return names;
  }

  testutil::TempDir tmp_{"snapshot"};
  std::string dir_ = tmp_.Sub("snap");
};

// Round trips of the data sizes around the block boundaries, each read back
// three ways (Load, the streaming reader, Verify), with the metadata and the
// info fields checked.
TEST_F(SnapshotStoreTest, RoundTripsAroundBlockBoundaries) {
  constexpr size_t kBlock = 64;
  auto store = OpenStore({.keep = 100, .block_bytes = kBlock});
  ASSERT_NE(store, nullptr);
  const size_t sizes[] = {0, 1, kBlock - 1, kBlock, kBlock + 1, 2 * kBlock, 10 * kBlock + 7, 5000};
  uint64_t index = 1;
  for (size_t size : sizes) {
    SCOPED_TRACE("size " + std::to_string(size));
    const std::string data = RandomBytes(size, size);
    // Binary conf state bytes, including NUL, survive unchanged.
    const SnapshotMeta meta = Meta(7, index++, std::string("\0\x01\xff v", 5));
    auto info = store->Write(meta, data);
    ASSERT_TRUE(info.ok()) << info.status().ToString();
    EXPECT_EQ(info->meta, meta);
    EXPECT_EQ(info->name, SnapshotFileName(meta.term, meta.index));
    EXPECT_EQ(info->data_bytes, size);
    EXPECT_EQ(info->data_checksum, format::Checksum64(data));
    const std::string file = ReadFile(io::JoinPath(dir_, info->name));
    EXPECT_EQ(info->file_bytes, file.size());
    const size_t blocks = (size + kBlock - 1) / kBlock;
    EXPECT_EQ(file.size(), kHeaderFixedBytes + meta.conf_state.size() + blocks * kBlockHeaderBytes +
                               size + kTrailerBytes);

    auto loaded = store->Load(info->name);
    ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
    EXPECT_EQ(loaded->first, *info);
    EXPECT_EQ(loaded->second, data);
    EXPECT_EQ(StreamAll(store.get(), info->name), data);
    EXPECT_TRUE(store->Verify(info->name).ok());

    auto reader = store->OpenReader(info->name);
    ASSERT_TRUE(reader.ok());
    EXPECT_EQ((*reader)->meta(), meta);
    EXPECT_EQ((*reader)->info(), *info);
    EXPECT_EQ((*reader)->block_count(), blocks);
  }
}

// The bytes on disk do not depend on how the data was cut into Append calls.
TEST_F(SnapshotStoreTest, ChunkingDoesNotChangeTheFile) {
  constexpr size_t kBlock = 16;
  const std::string data = RandomBytes(1000, 3);
  std::string reference;
  {
    auto store = OpenStore({.block_bytes = kBlock});
    ASSERT_TRUE(store->Write(Meta(1, 1), data).ok());
    reference = ReadFile(io::JoinPath(dir_, SnapshotFileName(1, 1)));
  }
  const std::vector<std::vector<size_t>> patterns = {{1},  {0, 1, 0, 2}, {15},  {16},
                                                     {17}, {31, 1, 33},  {999}, {1000}};
  for (size_t p = 0; p < patterns.size(); ++p) {
    SCOPED_TRACE("pattern " + std::to_string(p));
    testutil::TempDir other("snapshot-chunks");
    auto store = SnapshotStore::Open(io::FileSystem::Default(), other.path(), {.block_bytes = 16});
    ASSERT_TRUE(store.ok());
    auto writer = (*store)->BeginWrite(Meta(1, 1));
    ASSERT_TRUE(writer.ok());
    size_t pos = 0, i = 0;
    while (pos < data.size()) {
      const size_t n = std::min(patterns[p][i++ % patterns[p].size()], data.size() - pos);
      ASSERT_TRUE((*writer)->Append(std::string_view(data).substr(pos, n)).ok());
      pos += n;
      EXPECT_LT((*writer)->buffered_bytes(), kBlock);
      EXPECT_LE((*writer)->buffer_capacity(), kBlock);
      EXPECT_EQ((*writer)->data_bytes(), pos);
    }
    ASSERT_TRUE((*writer)->Commit().ok());
    EXPECT_EQ(ReadFile(other.Sub(SnapshotFileName(1, 1))), reference);
  }
}

TEST_F(SnapshotStoreTest, OpenCreatesTheDirectoryPrivate) {
  ASSERT_FALSE(io::FileSystem::Default()->Exists(dir_));
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  struct stat st;
  ASSERT_EQ(::stat(dir_.c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  EXPECT_EQ(store->dir(), dir_);
  auto listed = store->List();
  ASSERT_TRUE(listed.ok());
  EXPECT_TRUE(listed->empty());
  auto latest = store->Latest();
  ASSERT_TRUE(latest.ok());
  EXPECT_FALSE(latest->has_value());
}

TEST_F(SnapshotStoreTest, OpenRejectsBadOptions) {
  io::FileSystem* fs = io::FileSystem::Default();
  EXPECT_TRUE(SnapshotStore::Open(fs, dir_, {.keep = 0}).status().IsInvalidArgument());
  EXPECT_TRUE(SnapshotStore::Open(fs, dir_, {.block_bytes = 0}).status().IsInvalidArgument());
  EXPECT_TRUE(SnapshotStore::Open(fs, dir_, {.block_bytes = size_t{kMaxBlockBytes} + 1})
                  .status()
                  .IsInvalidArgument());
  EXPECT_TRUE(SnapshotStore::Open(fs, "", {}).status().IsInvalidArgument());
  EXPECT_FALSE(fs->Exists(dir_));
}

// List is newest first by index, then term, whatever the write order.
TEST_F(SnapshotStoreTest, ListIsNewestFirstByIndexThenTerm) {
  auto store = OpenStore({.keep = 100});
  const std::vector<std::pair<uint64_t, uint64_t>> term_index = {{3, 5},  {1, 20}, {2, 15},
                                                                 {1, 10}, {2, 10}, {4, 1}};
  for (auto [term, index] : term_index) ASSERT_TRUE(store->Write(Meta(term, index), "x").ok());
  auto listed = store->List();
  ASSERT_TRUE(listed.ok());
  std::vector<std::pair<uint64_t, uint64_t>> got;
  for (const SnapshotInfo& info : *listed) got.emplace_back(info.meta.term, info.meta.index);
  const std::vector<std::pair<uint64_t, uint64_t>> want = {{1, 20}, {2, 15}, {2, 10},
                                                           {1, 10}, {3, 5},  {4, 1}};
  EXPECT_EQ(got, want);
  auto latest = store->Latest();
  ASSERT_TRUE(latest.ok() && latest->has_value());
  EXPECT_EQ((*latest)->meta.index, 20u);
}

TEST_F(SnapshotStoreTest, CommitPrunesToTheNewestKeep) {
  auto store = OpenStore({.keep = 3});
  for (uint64_t i = 1; i <= 5; ++i) {
    ASSERT_TRUE(store->Write(Meta(1, i * 10), "data" + std::to_string(i)).ok());
  }
  auto listed = store->List();
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(Names(*listed),
            (std::vector<std::string>{SnapshotFileName(1, 50), SnapshotFileName(1, 40),
                                      SnapshotFileName(1, 30)}));
  EXPECT_EQ(store->stats().snapshots_pruned, 2u);
  EXPECT_TRUE(store->stats().last_prune_status.ok());
  // Nothing but the three snapshots is left in the directory.
  EXPECT_EQ(test_support::ListDir(dir_).size(), 3u);
}

// A snapshot older than the `keep` newest ones is still kept by its own
// Commit: pruning never removes the snapshot just written.
TEST_F(SnapshotStoreTest, CommitNeverPrunesTheSnapshotJustWritten) {
  auto store = OpenStore({.keep = 2});
  ASSERT_TRUE(store->Write(Meta(2, 30), "a").ok());
  ASSERT_TRUE(store->Write(Meta(2, 40), "b").ok());
  auto old = store->Write(Meta(1, 5), "old");
  ASSERT_TRUE(old.ok()) << old.status().ToString();
  auto listed = store->List();
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(Names(*listed),
            (std::vector<std::string>{SnapshotFileName(2, 40), SnapshotFileName(2, 30),
                                      SnapshotFileName(1, 5)}));
  EXPECT_EQ(store->Load(old->name)->second, "old");
  // The next Commit prunes normally.
  ASSERT_TRUE(store->Write(Meta(2, 50), "c").ok());
  listed = store->List();
  EXPECT_EQ(Names(*listed),
            (std::vector<std::string>{SnapshotFileName(2, 50), SnapshotFileName(2, 40)}));
}

TEST_F(SnapshotStoreTest, RetainRemovesAllButTheNewest) {
  auto store = OpenStore({.keep = 10});
  for (uint64_t i = 1; i <= 4; ++i) ASSERT_TRUE(store->Write(Meta(1, i), "x").ok());
  EXPECT_TRUE(store->Retain(0).IsInvalidArgument());
  ASSERT_TRUE(store->Retain(5).ok());
  EXPECT_EQ(store->List()->size(), 4u);
  ASSERT_TRUE(store->Retain(1).ok());
  EXPECT_EQ(Names(*store->List()), std::vector<std::string>{SnapshotFileName(1, 4)});
  EXPECT_EQ(store->stats().snapshots_pruned, 3u);
}

// Writing a snapshot whose name exists replaces it atomically; a reader that
// had the old file open keeps reading the old data to its verified end.
TEST_F(SnapshotStoreTest, WritingAnExistingNameReplacesIt) {
  auto store = OpenStore({.block_bytes = 8});
  const std::string old_data = RandomBytes(100, 1), new_data = RandomBytes(77, 2);
  ASSERT_TRUE(store->Write(Meta(3, 9), old_data).ok());
  auto old_reader = store->OpenReader(SnapshotFileName(3, 9));
  ASSERT_TRUE(old_reader.ok());
  auto first = (*old_reader)->ReadChunk();
  ASSERT_TRUE(first.ok());
  std::string old_read(*first);

  auto info = store->Write(Meta(3, 9, "new conf"), new_data);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  auto listed = store->List();
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].meta.conf_state, "new conf");
  EXPECT_EQ(store->Load(info->name)->second, new_data);

  while (true) {
    auto chunk = (*old_reader)->ReadChunk();
    ASSERT_TRUE(chunk.ok()) << chunk.status().ToString();
    if (chunk->empty()) break;
    old_read.append(*chunk);
  }
  EXPECT_EQ(old_read, old_data);
}

// A reader of a snapshot that pruning removes goes on reading it.
TEST_F(SnapshotStoreTest, ReaderOfAPrunedSnapshotKeepsReading) {
  auto store = OpenStore({.keep = 1, .block_bytes = 4});
  const std::string data = RandomBytes(50, 9);
  ASSERT_TRUE(store->Write(Meta(1, 1), data).ok());
  auto reader = store->OpenReader(SnapshotFileName(1, 1));
  ASSERT_TRUE(reader.ok());
  ASSERT_TRUE(store->Write(Meta(1, 2), "newer").ok());
  EXPECT_TRUE(store->OpenReader(SnapshotFileName(1, 1)).status().IsNotFound());
  std::string got;
  while (true) {
    auto chunk = (*reader)->ReadChunk();
    ASSERT_TRUE(chunk.ok()) << chunk.status().ToString();
    if (chunk->empty()) break;
    got.append(*chunk);
  }
  EXPECT_EQ(got, data);
}

// Open removes the temp files of interrupted writes, counts them, and
// leaves every other file alone, even ones with similar names.
TEST_F(SnapshotStoreTest, OpenRemovesLeftoverTempFilesOnly) {
  ASSERT_TRUE(io::FileSystem::Default()->CreateDir(dir_).ok());
  const std::vector<std::string> temps = {TempFileName(SnapshotFileName(1, 5)),
                                          TempFileName(SnapshotFileName(0xabc, 0xdef0))};
  const std::vector<std::string> others = {
      "README",
      "foo.tmp",
      "foo.snap.tmp",
      SnapshotFileName(1, 5) + ".tmp.bak",
      SnapshotFileName(1, 5) + ".bak",
      "0000000000000001-00000000000000AB.snap.tmp",  // upper case: not ours
      "000000000000001-0000000000000005.snap.tmp",   // 15 digits
  };
  for (const auto& name : temps) test_support::WriteFile(io::JoinPath(dir_, name), "partial");
  for (const auto& name : others) test_support::WriteFile(io::JoinPath(dir_, name), "keep me");

  // Read-only: counted, not removed.
  {
    auto ro = OpenStore({.read_only = true});
    ASSERT_NE(ro, nullptr);
    EXPECT_EQ(ro->stats().temp_files_found, 2u);
    EXPECT_EQ(ro->stats().temp_files_removed, 0u);
    EXPECT_EQ(test_support::ListDir(dir_).size(), temps.size() + others.size());
  }
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->stats().temp_files_found, 2u);
  EXPECT_EQ(store->stats().temp_files_removed, 2u);
  std::vector<std::string> want = others;
  std::sort(want.begin(), want.end());
  EXPECT_EQ(test_support::ListDir(dir_), want);
  // None of the others is taken for a snapshot either.
  auto scan = store->Scan();
  ASSERT_TRUE(scan.ok());
  EXPECT_TRUE(scan->snapshots.empty());
  EXPECT_TRUE(scan->damaged.empty());
}

TEST_F(SnapshotStoreTest, ReadOnlyStoreRefusesChanges) {
  io::FileSystem* fs = io::FileSystem::Default();
  EXPECT_TRUE(SnapshotStore::Open(fs, dir_, {.read_only = true}).status().IsNotFound());
  EXPECT_FALSE(fs->Exists(dir_));
  {
    auto store = OpenStore();
    ASSERT_TRUE(store->Write(Meta(1, 1), "data").ok());
  }
  auto ro = OpenStore({.read_only = true});
  ASSERT_NE(ro, nullptr);
  EXPECT_TRUE(ro->BeginWrite(Meta(1, 2)).status().IsFailedPrecondition());
  EXPECT_TRUE(ro->Write(Meta(1, 2), "x").status().IsFailedPrecondition());
  EXPECT_TRUE(ro->Remove(SnapshotFileName(1, 1)).IsFailedPrecondition());
  EXPECT_TRUE(ro->Retain(1).IsFailedPrecondition());
  EXPECT_EQ(ro->Load(SnapshotFileName(1, 1))->second, "data");
  EXPECT_TRUE(ro->Verify(SnapshotFileName(1, 1)).ok());
}

TEST_F(SnapshotStoreTest, UncommittedWriterLeavesNothingBehind) {
  auto store = OpenStore({.block_bytes = 4});
  {
    auto writer = store->BeginWrite(Meta(1, 1));
    ASSERT_TRUE(writer.ok());
    ASSERT_TRUE((*writer)->Append("some bytes that fill blocks").ok());
    EXPECT_EQ(test_support::ListDir(dir_),
              std::vector<std::string>{TempFileName(SnapshotFileName(1, 1))});
    // Temp files are not snapshots.
    EXPECT_TRUE(store->List()->empty());
  }
  EXPECT_TRUE(test_support::ListDir(dir_).empty());
}

TEST_F(SnapshotStoreTest, SecondWriterOfTheSameNameIsBusy) {
  auto store = OpenStore();
  auto first = store->BeginWrite(Meta(1, 1));
  ASSERT_TRUE(first.ok());
  EXPECT_TRUE(store->BeginWrite(Meta(1, 1)).status().IsBusy());
  EXPECT_TRUE(store->BeginWrite(Meta(1, 2)).ok());  // another name is fine
  ASSERT_TRUE((*first)->Commit().ok());
  // Once committed, the name is free again (the writer object may live on).
  auto again = store->BeginWrite(Meta(1, 1));
  ASSERT_TRUE(again.ok()) << again.status().ToString();
}

TEST_F(SnapshotStoreTest, WriterRefusesUseAfterCommit) {
  auto store = OpenStore();
  auto writer = store->BeginWrite(Meta(1, 1));
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->Append("abc").ok());
  ASSERT_TRUE((*writer)->Commit().ok());
  EXPECT_TRUE((*writer)->Append("more").IsFailedPrecondition());
  EXPECT_TRUE((*writer)->Commit().status().IsFailedPrecondition());
  EXPECT_EQ(store->Load(SnapshotFileName(1, 1))->second, "abc");
}

TEST_F(SnapshotStoreTest, BadArguments) {
  auto store = OpenStore();
  EXPECT_TRUE(store->OpenReader("README").status().IsInvalidArgument());
  EXPECT_TRUE(store->OpenReader("../x.snap").status().IsInvalidArgument());
  EXPECT_TRUE(store->Remove("README").IsInvalidArgument());
  EXPECT_TRUE(store->Load(SnapshotFileName(1, 1)).status().IsNotFound());
  EXPECT_TRUE(store->Verify(SnapshotFileName(1, 1)).IsNotFound());
  EXPECT_TRUE(store->Remove(SnapshotFileName(1, 1)).IsNotFound());
  SnapshotMeta big = Meta(1, 1, std::string(kMaxConfStateBytes + 1, 'c'));
  EXPECT_TRUE(store->BeginWrite(big).status().IsInvalidArgument());
  EXPECT_TRUE(test_support::ListDir(dir_).empty());
}

TEST_F(SnapshotStoreTest, RemoveDeletesOneSnapshot) {
  auto store = OpenStore();
  ASSERT_TRUE(store->Write(Meta(1, 1), "a").ok());
  ASSERT_TRUE(store->Write(Meta(1, 2), "b").ok());
  ASSERT_TRUE(store->Remove(SnapshotFileName(1, 2)).ok());
  EXPECT_EQ(Names(*store->List()), std::vector<std::string>{SnapshotFileName(1, 1)});
}

TEST_F(SnapshotStoreTest, ReopenSeesCommittedSnapshots) {
  {
    auto store = OpenStore({.block_bytes = 3});
    ASSERT_TRUE(store->Write(Meta(5, 100, "cs"), "persisted").ok());
  }
  auto store = OpenStore({.block_bytes = 1000});  // the block size is per file
  auto latest = store->Latest();
  ASSERT_TRUE(latest.ok() && latest->has_value());
  EXPECT_EQ((*latest)->meta, Meta(5, 100, "cs"));
  EXPECT_EQ(store->Load((*latest)->name)->second, "persisted");
}

// One writer committing (and pruning) while readers list and load: readers
// see complete snapshots or NotFound (pruned between List and open), never
// an error of any other kind.
TEST_F(SnapshotStoreTest, ConcurrentReadersDuringWritesAndPruning) {
  auto store = OpenStore({.keep = 2, .block_bytes = 256});
  ASSERT_TRUE(store->Write(Meta(1, 0), RandomBytes(3000, 0)).ok());
  std::atomic<bool> stop{false};
  std::atomic<int> loads{0};
  std::vector<std::thread> readers;
  std::vector<std::string> failures[2];
  for (int t = 0; t < 2; ++t) {
    readers.emplace_back([&, t] {
      while (!stop.load()) {
        auto listed = store->List();
        if (!listed.ok()) {
          failures[t].push_back(listed.status().ToString());
          continue;
        }
        for (const SnapshotInfo& info : *listed) {
          auto loaded = store->Load(info.name);
          if (loaded.ok()) {
            ++loads;
            // The data is the one written for this index.
            if (loaded->second != RandomBytes(3000, info.meta.index)) {
              failures[t].push_back("wrong data in " + info.name);
            }
          } else if (!loaded.status().IsNotFound()) {
            failures[t].push_back(loaded.status().ToString());
          }
        }
      }
    });
  }
  for (uint64_t i = 1; i <= 60; ++i) {
    ASSERT_TRUE(store->Write(Meta(1, i), RandomBytes(3000, i)).ok());
  }
  stop = true;
  for (auto& t : readers) t.join();
  for (const auto& f : failures) EXPECT_TRUE(f.empty()) << f.front();
  EXPECT_GT(loads.load(), 0);
  EXPECT_EQ(store->List()->size(), 2u);
}

}  // namespace
}  // namespace raftlog::snapshot
