// MetaStore::ReadAll: every key in key order, from one read transaction, so
// that a reader in another process (the raftlog tool beside a live writer)
// sees the store as of one commit, never keys from two.

#include "raftlog/engine/meta_store.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <utility>
#include <vector>

#include "tests/testutil/temp_dir.h"

namespace raftlog::engine {
namespace {

using KeyValues = std::vector<std::pair<std::string, std::string>>;

TEST(MetaStoreTest, ReadAllReturnsEveryKeyInKeyOrder) {
  testutil::TempDir dir("meta-store");
  auto meta = MetaStore::Open(dir.Sub("meta.mdb"));
  ASSERT_TRUE(meta.ok()) << meta.status().ToString();
  auto empty = (*meta)->ReadAll();
  ASSERT_TRUE(empty.ok()) << empty.status().ToString();
  EXPECT_TRUE(empty->empty());

  // Keys of every prefix the engine uses, and the first and last byte
  // values (an empty prefix cannot be scanned: ReadAll needs none).
  MetaStore::Batch batch;
  batch.Put("seg/2", "two");
  batch.Put(std::string("\x00z", 2), "low");
  batch.Put("log/start", "start");
  batch.Put("\xff", "high");
  batch.Put("seg/1", "one");
  batch.Put("state/hs", "hs");
  ASSERT_TRUE((*meta)->Write(batch).ok());

  auto all = (*meta)->ReadAll();
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  const KeyValues want = {{std::string("\x00z", 2), "low"}, {"log/start", "start"},
                          {"seg/1", "one"},                 {"seg/2", "two"},
                          {"state/hs", "hs"},               {"\xff", "high"}};
  EXPECT_EQ(*all, want);
}

// A writer in another process commits, each time, a counter under two keys
// and one more "seg/" key: every ReadAll here must see the two keys equal
// and exactly that many "seg/" keys.
TEST(MetaStoreTest, ReadAllSeesOneCommitWhileAnotherProcessWrites) {
  testutil::TempDir dir("meta-store");
  const std::string path = dir.Sub("meta.mdb");
  {
    auto meta = MetaStore::Open(path);
    ASSERT_TRUE(meta.ok()) << meta.status().ToString();
    MetaStore::Batch batch;
    batch.Put("a", "0");
    batch.Put("z", "0");
    ASSERT_TRUE((*meta)->Write(batch).ok());
  }
  constexpr int kCommits = 150;
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // The child opens its own environment (none was open at the fork).
    auto meta = MetaStore::Open(path);
    if (!meta.ok()) _exit(2);
    for (int n = 1; n <= kCommits; ++n) {
      MetaStore::Batch batch;
      batch.Put("a", std::to_string(n));
      batch.Put("seg/" + std::to_string(1000 + n), "x");
      batch.Put("z", std::to_string(n));
      if (!(*meta)->Write(batch).ok()) _exit(3);
    }
    _exit(0);
  }
  auto meta = MetaStore::Open(path, MetaStore::OpenOptions{.read_only = true});
  ASSERT_TRUE(meta.ok()) << meta.status().ToString();
  int reads = 0, last_seen = 0;
  int status = 0;
  for (;;) {
    const bool child_done = waitpid(child, &status, WNOHANG) == child;
    auto all = (*meta)->ReadAll();
    ASSERT_TRUE(all.ok()) << all.status().ToString();
    std::string a, z;
    int segs = 0;
    for (const auto& [k, v] : *all) {
      if (k == "a") a = v;
      if (k == "z") z = v;
      if (k.starts_with("seg/")) ++segs;
    }
    ASSERT_EQ(a, z) << "read " << reads;
    ASSERT_EQ(std::to_string(segs), a) << "read " << reads;
    last_seen = segs;
    ++reads;
    if (child_done) break;
  }
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_EQ(last_seen, kCommits);  // the last read came after the child's end
  EXPECT_GT(reads, 1);
}

}  // namespace
}  // namespace raftlog::engine
