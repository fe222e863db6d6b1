#include "raftlog/raft/internal/unstable.h"

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <vector>

#include "raftlog/raft/logger.h"
#include "tests/raft/internal/log_test_util.h"

namespace raftlog::raft::internal {
namespace {

using testing::SharedSnapAt;
using testing::Terms;
using testing::ToVector;

using SnapPtr = std::shared_ptr<const Snapshot>;

// Ports etcd's TestUnstableMaybeFirstIndex.
TEST(UnstableTest, MaybeFirstIndex) {
  struct Case {
    std::vector<Entry> entries;
    uint64_t offset;
    SnapPtr snap;
    std::optional<uint64_t> want;
  };
  const std::vector<Case> cases = {
      // no snapshot
      {Terms(5, {1}), 5, nullptr, std::nullopt},
      {{}, 0, nullptr, std::nullopt},
      // has snapshot
      {Terms(5, {1}), 5, SharedSnapAt(4, 1), 5},
      {{}, 5, SharedSnapAt(4, 1), 5},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE(i);
    const Case& c = cases[i];
    Unstable u =
        Unstable::ForTest(c.entries, c.offset, c.offset, c.snap, false, &GetDiscardLogger());
    EXPECT_EQ(u.MaybeFirstIndex(), c.want);
  }
}

// Ports etcd's TestMaybeLastIndex.
TEST(UnstableTest, MaybeLastIndex) {
  struct Case {
    std::vector<Entry> entries;
    uint64_t offset;
    SnapPtr snap;
    std::optional<uint64_t> want;
  };
  const std::vector<Case> cases = {
      // last in entries
      {Terms(5, {1}), 5, nullptr, 5},
      {Terms(5, {1}), 5, SharedSnapAt(4, 1), 5},
      // last in snapshot
      {{}, 5, SharedSnapAt(4, 1), 4},
      // empty unstable
      {{}, 0, nullptr, std::nullopt},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE(i);
    const Case& c = cases[i];
    Unstable u =
        Unstable::ForTest(c.entries, c.offset, c.offset, c.snap, false, &GetDiscardLogger());
    EXPECT_EQ(u.MaybeLastIndex(), c.want);
  }
}

// Ports etcd's TestUnstableMaybeTerm.
TEST(UnstableTest, MaybeTerm) {
  struct Case {
    std::vector<Entry> entries;
    uint64_t offset;
    SnapPtr snap;
    uint64_t index;
    std::optional<uint64_t> want;
  };
  const std::vector<Case> cases = {
      // term from entries
      {Terms(5, {1}), 5, nullptr, 5, 1},
      {Terms(5, {1}), 5, nullptr, 6, std::nullopt},
      {Terms(5, {1}), 5, nullptr, 4, std::nullopt},
      {Terms(5, {1}), 5, SharedSnapAt(4, 1), 5, 1},
      {Terms(5, {1}), 5, SharedSnapAt(4, 1), 6, std::nullopt},
      // term from snapshot
      {Terms(5, {1}), 5, SharedSnapAt(4, 1), 4, 1},
      {Terms(5, {1}), 5, SharedSnapAt(4, 1), 3, std::nullopt},
      {{}, 5, SharedSnapAt(4, 1), 5, std::nullopt},
      {{}, 5, SharedSnapAt(4, 1), 4, 1},
      {{}, 0, nullptr, 5, std::nullopt},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE(i);
    const Case& c = cases[i];
    Unstable u =
        Unstable::ForTest(c.entries, c.offset, c.offset, c.snap, false, &GetDiscardLogger());
    EXPECT_EQ(u.MaybeTerm(c.index), c.want);
  }
}

// Ports etcd's TestUnstableRestore.
TEST(UnstableTest, RestoreReplacesEverythingWithTheSnapshot) {
  Unstable u =
      Unstable::ForTest(Terms(5, {1}), 5, 6, SharedSnapAt(4, 1), true, &GetDiscardLogger());
  const SnapPtr s = SharedSnapAt(6, 2);
  u.Restore(s);

  EXPECT_EQ(u.offset(), s->metadata.index + 1);
  EXPECT_EQ(u.offset_in_progress(), s->metadata.index + 1);
  EXPECT_TRUE(u.entries().empty());
  EXPECT_EQ(u.snapshot(), s);  // shared, not copied
  EXPECT_FALSE(u.snapshot_in_progress());

  // The copying overload stores an equal snapshot.
  u.Restore(testing::SnapAt(7, 3));
  ASSERT_NE(u.snapshot(), nullptr);
  EXPECT_EQ(*u.snapshot(), testing::SnapAt(7, 3));
  EXPECT_EQ(u.offset(), 8u);
}

// Ports etcd's TestUnstableNextEntries.
TEST(UnstableTest, NextEntriesSkipsThoseInProgress) {
  struct Case {
    std::vector<Entry> entries;
    uint64_t offset;
    uint64_t offset_in_progress;
    std::vector<Entry> want;
  };
  const std::vector<Case> cases = {
      // nothing in progress
      {Terms(5, {1, 1}), 5, 5, Terms(5, {1, 1})},
      // partially in progress
      {Terms(5, {1, 1}), 5, 6, Terms(6, {1})},
      // everything in progress
      {Terms(5, {1, 1}), 5, 7, {}},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE(i);
    const Case& c = cases[i];
    Unstable u = Unstable::ForTest(c.entries, c.offset, c.offset_in_progress, nullptr, false,
                                   &GetDiscardLogger());
    EXPECT_EQ(ToVector(u.NextEntries()), c.want);
  }
}

// Ports etcd's TestUnstableNextSnapshot.
TEST(UnstableTest, NextSnapshotSkipsOneInProgress) {
  const SnapPtr s = SharedSnapAt(4, 1);
  struct Case {
    SnapPtr snapshot;
    bool snapshot_in_progress;
    SnapPtr want;
  };
  const std::vector<Case> cases = {
      {nullptr, false, nullptr},  // snapshot not unstable
      {s, false, s},              // snapshot not in progress
      {s, true, nullptr},         // snapshot in progress
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE(i);
    const Case& c = cases[i];
    // etcd leaves offset at 0 here; offset 5 keeps invariant 4 (snapshot 4).
    Unstable u =
        Unstable::ForTest({}, 5, 5, c.snapshot, c.snapshot_in_progress, &GetDiscardLogger());
    EXPECT_EQ(u.NextSnapshot(), c.want);
  }
}

// Ports etcd's TestUnstableAcceptInProgress. etcd leaves offset unset (0)
// with entries starting at 5; we set offset 5, which the entries imply, so
// that the state satisfies invariants 1-2.
TEST(UnstableTest, AcceptInProgressMarksEntriesAndSnapshot) {
  struct Case {
    std::vector<Entry> entries;
    SnapPtr snapshot;
    uint64_t offset_in_progress;
    bool snapshot_in_progress;
    uint64_t want_offset_in_progress;
    bool want_snapshot_in_progress;
  };
  const SnapPtr snap = SharedSnapAt(4, 1);
  const std::vector<Case> cases = {
      {{}, nullptr, 5, false, 5, false},                // no entries
      {Terms(5, {1}), nullptr, 5, false, 6, false},     // entries not in progress
      {Terms(5, {1, 1}), nullptr, 5, false, 7, false},  // entries not in progress
      {Terms(5, {1, 1}), nullptr, 6, false, 7, false},  // in-progress to the first entry
      {Terms(5, {1, 1}), nullptr, 7, false, 7, false},  // in-progress to the second entry
      // with snapshot
      {{}, snap, 5, false, 5, true},                // no entries
      {Terms(5, {1}), snap, 5, false, 6, true},     // entries not in progress
      {Terms(5, {1, 1}), snap, 5, false, 7, true},  // entries not in progress
      {Terms(5, {1, 1}), snap, 6, false, 7, true},  // in-progress to the first entry
      {Terms(5, {1, 1}), snap, 7, false, 7, true},  // in-progress to the second entry
      {{}, snap, 5, true, 5, true},                 // snapshot already in progress
      {Terms(5, {1}), snap, 5, true, 6, true},
      {Terms(5, {1, 1}), snap, 5, true, 7, true},
      {Terms(5, {1, 1}), snap, 6, true, 7, true},
      {Terms(5, {1, 1}), snap, 7, true, 7, true},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE(i);
    const Case& c = cases[i];
    Unstable u = Unstable::ForTest(c.entries, 5, c.offset_in_progress, c.snapshot,
                                   c.snapshot_in_progress, &GetDiscardLogger());
    u.AcceptInProgress();
    EXPECT_EQ(u.offset_in_progress(), c.want_offset_in_progress);
    EXPECT_EQ(u.snapshot_in_progress(), c.want_snapshot_in_progress);
    // Accepted entries are no longer "next".
    EXPECT_TRUE(u.NextEntries().empty());
    EXPECT_EQ(u.NextSnapshot(), nullptr);
  }
}

// Ports etcd's TestUnstableStableTo.
TEST(UnstableTest, StableToDropsDurableEntries) {
  struct Case {
    std::vector<Entry> entries;
    uint64_t offset;
    uint64_t offset_in_progress;
    SnapPtr snap;
    uint64_t index, term;
    uint64_t want_offset;
    uint64_t want_offset_in_progress;
    size_t want_len;
  };
  const std::vector<Case> cases = {
      {{}, 0, 0, nullptr, 5, 1, 0, 0, 0},
      {Terms(5, {1}), 5, 6, nullptr, 5, 1, 6, 6, 0},     // stable to the first entry
      {Terms(5, {1, 1}), 5, 6, nullptr, 5, 1, 6, 6, 1},  // stable to the first entry
      // stable to the first entry and in-progress ahead
      {Terms(5, {1, 1}), 5, 7, nullptr, 5, 1, 6, 7, 1},
      // stable to the first entry and term mismatch
      {Terms(6, {2}), 6, 7, nullptr, 6, 1, 6, 7, 1},
      {Terms(5, {1}), 5, 6, nullptr, 4, 1, 5, 6, 1},  // stable to old entry
      {Terms(5, {1}), 5, 6, nullptr, 4, 2, 5, 6, 1},  // stable to old entry
      // with snapshot
      {Terms(5, {1}), 5, 6, SharedSnapAt(4, 1), 5, 1, 6, 6, 0},  // stable to the first entry
      {Terms(5, {1, 1}), 5, 6, SharedSnapAt(4, 1), 5, 1, 6, 6, 1},
      // stable to the first entry and in-progress ahead
      {Terms(5, {1, 1}), 5, 7, SharedSnapAt(4, 1), 5, 1, 6, 7, 1},
      // stable to the first entry and term mismatch
      {Terms(6, {2}), 6, 7, SharedSnapAt(5, 1), 6, 1, 6, 7, 1},
      {Terms(5, {1}), 5, 6, SharedSnapAt(4, 1), 4, 1, 5, 6, 1},  // stable to snapshot
      {Terms(5, {2}), 5, 6, SharedSnapAt(4, 2), 4, 1, 5, 6, 1},  // stable to old entry
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE(i);
    const Case& c = cases[i];
    Unstable u = Unstable::ForTest(c.entries, c.offset, c.offset_in_progress, c.snap, false,
                                   &GetDiscardLogger());
    u.StableTo(EntryID{c.term, c.index});
    EXPECT_EQ(u.offset(), c.want_offset);
    EXPECT_EQ(u.offset_in_progress(), c.want_offset_in_progress);
    EXPECT_EQ(u.entries().size(), c.want_len);
  }
}

// The log lines StableTo writes when it ignores a request are etcd's.
TEST(UnstableTest, StableToExplainsWhatItIgnores) {
  CapturingLogger logger;
  Unstable u = Unstable::ForTest(Terms(5, {1}), 5, 6, SharedSnapAt(4, 1), false, &logger);
  u.StableTo(EntryID{1, 9});
  u.StableTo(EntryID{1, 4});
  u.StableTo(EntryID{2, 5});
  EXPECT_EQ(logger.Text(),
            "INFO entry at index 9 missing from unstable log; ignoring\n"
            "INFO entry at index 4 matched unstable snapshot; ignoring\n"
            "INFO entry at (index,term)=(5,2) mismatched with entry at (5,1) in unstable log; "
            "ignoring\n");
  EXPECT_EQ(u.offset(), 5u);
}

TEST(UnstableTest, StableSnapToForgetsOnlyTheMatchingSnapshot) {
  Unstable u = Unstable::ForTest({}, 5, 5, SharedSnapAt(4, 1), true, &GetDiscardLogger());
  u.StableSnapTo(3);
  EXPECT_NE(u.snapshot(), nullptr);
  EXPECT_TRUE(u.snapshot_in_progress());
  u.StableSnapTo(4);
  EXPECT_EQ(u.snapshot(), nullptr);
  EXPECT_FALSE(u.snapshot_in_progress());
  EXPECT_EQ(u.MaybeFirstIndex(), std::nullopt);
}

// Ports etcd's TestUnstableTruncateAndAppend.
TEST(UnstableTest, TruncateAndAppend) {
  struct Case {
    std::vector<Entry> entries;
    uint64_t offset;
    uint64_t offset_in_progress;
    std::vector<Entry> to_append;
    uint64_t want_offset;
    uint64_t want_offset_in_progress;
    std::vector<Entry> want_entries;
  };
  const std::vector<Case> cases = {
      // append to the end
      {Terms(5, {1}), 5, 5, Terms(6, {1, 1}), 5, 5, Terms(5, {1, 1, 1})},
      {Terms(5, {1}), 5, 6, Terms(6, {1, 1}), 5, 6, Terms(5, {1, 1, 1})},
      // replace the unstable entries
      {Terms(5, {1}), 5, 5, Terms(5, {2, 2}), 5, 5, Terms(5, {2, 2})},
      {Terms(5, {1}), 5, 5, Terms(4, {2, 2, 2}), 4, 4, Terms(4, {2, 2, 2})},
      {Terms(5, {1}), 5, 6, Terms(5, {2, 2}), 5, 5, Terms(5, {2, 2})},
      // truncate the existing entries and append
      {Terms(5, {1, 1, 1}), 5, 5, Terms(6, {2}), 5, 5, Terms(5, {1, 2})},
      {Terms(5, {1, 1, 1}), 5, 5, Terms(7, {2, 2}), 5, 5, Terms(5, {1, 1, 2, 2})},
      {Terms(5, {1, 1, 1}), 5, 6, Terms(6, {2}), 5, 6, Terms(5, {1, 2})},
      {Terms(5, {1, 1, 1}), 5, 7, Terms(6, {2}), 5, 6, Terms(5, {1, 2})},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE(i);
    const Case& c = cases[i];
    Unstable u = Unstable::ForTest(c.entries, c.offset, c.offset_in_progress, nullptr, false,
                                   &GetDiscardLogger());
    u.TruncateAndAppend(c.to_append);
    EXPECT_EQ(u.offset(), c.want_offset);
    EXPECT_EQ(u.offset_in_progress(), c.want_offset_in_progress);
    EXPECT_EQ(ToVector(u.entries()), c.want_entries);
  }
}

TEST(UnstableTest, TruncateAndAppendLogsLikeEtcd) {
  CapturingLogger logger;
  Unstable u = Unstable::ForTest(Terms(5, {1, 1, 1}), 5, 5, nullptr, false, &logger);
  u.TruncateAndAppend(Terms(6, {2}));
  u.TruncateAndAppend(Terms(4, {3}));
  u.TruncateAndAppend(Terms(5, {3}));  // plain append: no line
  EXPECT_EQ(logger.Text(),
            "INFO truncate the unstable entries before index 6\n"
            "INFO replace the unstable entries from index 4\n");
}

TEST(UnstableTest, SliceIsAViewOfTheRange) {
  Unstable u = Unstable::ForTest(Terms(5, {1, 2, 3}), 5, 5, nullptr, false, &GetDiscardLogger());
  EXPECT_EQ(ToVector(u.Slice(6, 8)), Terms(6, {2, 3}));
  EXPECT_TRUE(u.Slice(5, 5).empty());
  EXPECT_TRUE(u.Slice(8, 8).empty());
}

using UnstableDeathTest = testing::DeathTestBase;

TEST_F(UnstableDeathTest, SliceOutOfBoundsPanics) {
  Unstable u = Unstable::ForTest(Terms(5, {1, 2, 3}), 5, 5, nullptr, false, &GetDiscardLogger());
  EXPECT_DEATH((void)u.Slice(7, 6), "panic: invalid unstable.slice 7 > 6");
  EXPECT_DEATH((void)u.Slice(4, 6), "panic: unstable.slice\\[4,6\\) out of bound \\[5,8\\]");
  EXPECT_DEATH((void)u.Slice(6, 9), "panic: unstable.slice\\[6,9\\) out of bound \\[5,8\\]");
}

TEST_F(UnstableDeathTest, AppendWithAGapPanics) {
  Unstable u = Unstable::ForTest(Terms(5, {1}), 5, 5, nullptr, false, &GetDiscardLogger());
  EXPECT_DEATH(u.TruncateAndAppend(Terms(7, {1})),
               "panic: unstable.slice\\[5,7\\) out of bound \\[5,6\\]");
}

}  // namespace
}  // namespace raftlog::raft::internal
