#include "raftlog/raft/memory_storage.h"

#include <gtest/gtest.h>

#include "tests/raft/storage_conformance.h"

namespace raftlog::raft {
namespace testing {
namespace {

struct MemoryStorageBackend {
  static constexpr bool kPanicsOnMisuse = true;
  static constexpr bool kReopens = false;
  std::unique_ptr<WritableStorage> Open() { return std::make_unique<MemoryStorage>(); }
  std::unique_ptr<WritableStorage> Reopen(std::unique_ptr<WritableStorage> s) { return s; }
};

}  // namespace

INSTANTIATE_TYPED_TEST_SUITE_P(Memory, StorageConformanceTest,
                               ::testing::Types<MemoryStorageBackend>);

}  // namespace testing

namespace {

using testing::Ents;

// etcd's literal fixture, MemoryStorage{ents: ...}, gives the same results as
// the suite's fixture built through the public API.
TEST(MemoryStorageTest, WithEntriesMatchesEtcdFixture) {
  MemoryStorage s = MemoryStorage::WithEntries(Ents(3, {3, 4, 5}));
  EXPECT_EQ(*s.FirstIndex(), 4u);
  EXPECT_EQ(*s.LastIndex(), 5u);
  EXPECT_EQ(*s.Term(3), 3u);
  EXPECT_TRUE(s.Term(2).status().IsCompacted());
  EXPECT_EQ(s.AllEntriesForTest(), Ents(3, {3, 4, 5}));
  EXPECT_TRUE(IsEmptySnap(*s.Snapshot()));
}

TEST(MemoryStorageTest, CompactDropsTheDummyPayload) {
  MemoryStorage s;
  ASSERT_TRUE(s.Append(std::vector<Entry>{{1, 1, EntryType::kConfChange, "payload"},
                                          {1, 2, EntryType::kNormal, "b"}})
                  .ok());
  ASSERT_TRUE(s.Compact(1).ok());
  EXPECT_EQ(s.AllEntriesForTest().front(), (Entry{1, 1, EntryType::kNormal, {}}));
}

TEST(MemoryStorageTest, ErrorMessagesAreEtcds) {
  MemoryStorage s;
  EXPECT_EQ(s.Compact(0).message(), "requested index is unavailable due to compaction");
  EXPECT_EQ(s.Term(5).status().message(), "requested entry at index is unavailable");
  ASSERT_TRUE(s.ApplySnapshot(Snapshot{"", {{}, 5, 1}}).ok());
  EXPECT_EQ(s.ApplySnapshot(Snapshot{"", {{}, 4, 1}}).message(),
            "requested index is older than the existing snapshot");
}

TEST(MemoryStorageTest, SaveAppliesHardStateSnapshotThenEntries) {
  MemoryStorage s;
  const Snapshot snap{"d", {testing::Voters({1}), 5, 2}};
  const HardState hs{3, 1, 5};
  ASSERT_TRUE(s.Save(hs, Ents(6, {3, 3}), &snap, true).ok());
  EXPECT_EQ(s.InitialState()->hard_state, hs);
  EXPECT_EQ(s.AllEntriesForTest(), Ents(5, {2, 3, 3}));
  // An empty HardState leaves the stored one alone.
  ASSERT_TRUE(s.Save(HardState{}, Ents(8, {3}), nullptr, true).ok());
  EXPECT_EQ(s.InitialState()->hard_state, hs);
  EXPECT_EQ(*s.LastIndex(), 8u);
}

}  // namespace
}  // namespace raftlog::raft
