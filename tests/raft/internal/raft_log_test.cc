#include "raftlog/raft/internal/raft_log.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "raftlog/raft/logger.h"
#include "raftlog/raft/memory_storage.h"
#include "tests/raft/internal/log_test_util.h"

namespace raftlog::raft::internal {
namespace {

using testing::EntsSize;
using testing::SnapAt;
using testing::TermRange;
using testing::Terms;
using testing::ToVector;

Logger& TestLogger() { return GetDiscardLogger(); }

// etcd's mustTerm.
uint64_t MustTerm(const Result<uint64_t>& t) {
  EXPECT_TRUE(t.ok()) << t.status().ToString();
  return t.value_or(0);
}

// A MemoryStorage holding `snap`'s position as its compaction point.
MemoryStorage StorageWithSnapshot(uint64_t index, uint64_t term) {
  MemoryStorage s;
  EXPECT_TRUE(s.ApplySnapshot(SnapAt(index, term)).ok());
  return s;
}

// Ports etcd's TestFindConflict.
TEST(RaftLogTest, FindConflict) {
  const std::vector<Entry> previous = Terms(1, {1, 2, 3});
  struct Case {
    std::vector<Entry> ents;
    uint64_t want;
  };
  const std::vector<Case> cases = {
      // no conflict, empty ent
      {{}, 0},
      // no conflict
      {Terms(1, {1, 2, 3}), 0},
      {Terms(2, {2, 3}), 0},
      {Terms(3, {3}), 0},
      // no conflict, but has new entries
      {Terms(1, {1, 2, 3, 4, 4}), 4},
      {Terms(2, {2, 3, 4, 5}), 4},
      {Terms(3, {3, 4, 4}), 4},
      {Terms(4, {4, 4}), 4},
      // conflicts with existing entries
      {Terms(1, {4, 4}), 1},
      {Terms(2, {1, 4, 4}), 2},
      {Terms(3, {1, 2, 4, 4}), 3},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE(i);
    MemoryStorage storage;
    RaftLog log = RaftLog::NewLog(storage, TestLogger());
    log.Append(previous);
    EXPECT_EQ(log.FindConflict(cases[i].ents), cases[i].want);
  }
}

TEST(RaftLogTest, FindConflictLogsAConflictInsideTheLog) {
  MemoryStorage storage;
  CapturingLogger logger;
  RaftLog log = RaftLog::NewLog(storage, logger);
  log.Append(Terms(1, {1, 2, 3}));
  EXPECT_EQ(log.FindConflict(Terms(2, {1, 4, 4})), 2u);
  EXPECT_EQ(log.FindConflict(Terms(3, {3, 4})), 4u);  // past the end: no line
  EXPECT_EQ(logger.messages(),
            std::vector<std::string>{
                "found conflict at index 2 [existing term: 2, conflicting term: 1]"});
}

// Ports etcd's TestFindConflictByTerm.
TEST(RaftLogTest, FindConflictByTerm) {
  struct Case {
    std::vector<Entry> ents;  // ents[0] holds the (index, term) of the snapshot
    uint64_t index;
    uint64_t term;
    uint64_t want;
  };
  const std::vector<Case> cases = {
      // Log starts from index 1.
      {Terms(0, {0, 2, 2, 5, 5, 5}), 100, 2, 100},  // ErrUnavailable
      {Terms(0, {0, 2, 2, 5, 5, 5}), 5, 6, 5},
      {Terms(0, {0, 2, 2, 5, 5, 5}), 5, 5, 5},
      {Terms(0, {0, 2, 2, 5, 5, 5}), 5, 4, 2},
      {Terms(0, {0, 2, 2, 5, 5, 5}), 5, 2, 2},
      {Terms(0, {0, 2, 2, 5, 5, 5}), 5, 1, 0},
      {Terms(0, {0, 2, 2, 5, 5, 5}), 1, 2, 1},
      {Terms(0, {0, 2, 2, 5, 5, 5}), 1, 1, 0},
      {Terms(0, {0, 2, 2, 5, 5, 5}), 0, 0, 0},
      // Log with compacted entries.
      {Terms(10, {3, 3, 3, 4, 4, 4}), 30, 3, 30},  // ErrUnavailable
      {Terms(10, {3, 3, 3, 4, 4, 4}), 14, 9, 14},
      {Terms(10, {3, 3, 3, 4, 4, 4}), 14, 4, 14},
      {Terms(10, {3, 3, 3, 4, 4, 4}), 14, 3, 12},
      {Terms(10, {3, 3, 3, 4, 4, 4}), 14, 2, 9},
      {Terms(10, {3, 3, 3, 4, 4, 4}), 11, 5, 11},
      {Terms(10, {3, 3, 3, 4, 4, 4}), 10, 5, 10},
      {Terms(10, {3, 3, 3, 4, 4, 4}), 10, 3, 10},
      {Terms(10, {3, 3, 3, 4, 4, 4}), 10, 2, 9},
      {Terms(10, {3, 3, 3, 4, 4, 4}), 9, 2, 9},  // ErrCompacted
      {Terms(10, {3, 3, 3, 4, 4, 4}), 4, 2, 4},  // ErrCompacted
      {Terms(10, {3, 3, 3, 4, 4, 4}), 0, 0, 0},  // ErrCompacted
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE(i);
    const Case& c = cases[i];
    MemoryStorage storage = StorageWithSnapshot(c.ents[0].index, c.ents[0].term);
    RaftLog log = RaftLog::NewLog(storage, TestLogger());
    log.Append(std::vector<Entry>(c.ents.begin() + 1, c.ents.end()));

    const auto [index, term] = log.FindConflictByTerm(c.index, c.term);
    EXPECT_EQ(index, c.want);
    EXPECT_EQ(term, log.ZeroTermOnOutOfBounds(log.Term(index)));
  }
}

// Ports etcd's TestIsUpToDate (Raft paper §5.4.1).
TEST(RaftLogTest, IsUpToDate) {
  MemoryStorage storage;
  RaftLog log = RaftLog::NewLog(storage, TestLogger());
  log.Append(Terms(1, {1, 2, 3}));
  const uint64_t last = log.LastIndex();
  struct Case {
    uint64_t last_index;
    uint64_t term;
    bool want;
  };
  const std::vector<Case> cases = {
      // greater term, ignore lastIndex
      {last - 1, 4, true},
      {last, 4, true},
      {last + 1, 4, true},
      // smaller term, ignore lastIndex
      {last - 1, 2, false},
      {last, 2, false},
      {last + 1, 2, false},
      // equal term, equal or larger lastIndex wins
      {last - 1, 3, false},
      {last, 3, true},
      {last + 1, 3, true},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(log.IsUpToDate(EntryID{cases[i].term, cases[i].last_index}), cases[i].want);
  }
}

// Ports etcd's TestAppend.
TEST(RaftLogTest, Append) {
  const std::vector<Entry> previous = Terms(1, {1, 2});
  struct Case {
    std::vector<Entry> ents;
    uint64_t want_index;
    std::vector<Entry> want_ents;
    uint64_t want_unstable;
  };
  const std::vector<Case> cases = {
      {{}, 2, Terms(1, {1, 2}), 3},
      {Terms(3, {2}), 3, Terms(1, {1, 2, 2}), 3},
      // conflicts with index 1
      {Terms(1, {2}), 1, Terms(1, {2}), 1},
      // conflicts with index 2
      {Terms(2, {3, 3}), 3, Terms(1, {1, 3, 3}), 2},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE(i);
    const Case& c = cases[i];
    MemoryStorage storage;
    ASSERT_TRUE(storage.Append(previous).ok());
    RaftLog log = RaftLog::NewLog(storage, TestLogger());
    EXPECT_EQ(log.Append(c.ents), c.want_index);
    Result<std::vector<Entry>> got = log.Entries(1, kNoLimit);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_EQ(*got, c.want_ents);
    EXPECT_EQ(log.unstable().offset(), c.want_unstable);
  }
}

// Ports etcd's TestLogMaybeAppend. If the given (index, term) matches the
// existing log: 1. an existing entry that conflicts with a new one (same
// index, different terms) is deleted with all that follow it; 2. any new
// entries not already in the log are appended. If it does not match, the
// append is refused.
TEST(RaftLogTest, MaybeAppend) {
  const std::vector<Entry> previous = Terms(1, {1, 2, 3});
  const uint64_t last_index = 3;
  const uint64_t last_term = 3;
  const uint64_t commit = 1;
  struct Case {
    EntryID prev;
    uint64_t committed;
    std::vector<Entry> ents;
    std::optional<uint64_t> want_last;  // nullopt: the append is refused
    uint64_t want_commit;
    bool want_panic;
  };
  const std::vector<Case> cases = {
      // not match: term is different
      {{last_term - 1, last_index},
       last_index,
       Terms(last_index + 1, {4}),
       std::nullopt,
       commit,
       false},
      // not match: index out of bound
      {{last_term, last_index + 1},
       last_index,
       Terms(last_index + 2, {4}),
       std::nullopt,
       commit,
       false},
      // match with the last existing entry
      {{last_term, last_index}, last_index, {}, last_index, last_index, false},
      // do not increase commit higher than lastnewi
      {{last_term, last_index}, last_index + 1, {}, last_index, last_index, false},
      // commit up to the commit in the message
      {{last_term, last_index}, last_index - 1, {}, last_index, last_index - 1, false},
      // commit do not decrease
      {{last_term, last_index}, 0, {}, last_index, commit, false},
      {{}, last_index, {}, 0, commit, false},  // commit do not decrease
      {{last_term, last_index},
       last_index,
       Terms(last_index + 1, {4}),
       last_index + 1,
       last_index,
       false},
      {{last_term, last_index},
       last_index + 1,
       Terms(last_index + 1, {4}),
       last_index + 1,
       last_index + 1,
       false},
      // do not increase commit higher than lastnewi
      {{last_term, last_index},
       last_index + 2,
       Terms(last_index + 1, {4}),
       last_index + 1,
       last_index + 1,
       false},
      {{last_term, last_index},
       last_index + 2,
       Terms(last_index + 1, {4, 4}),
       last_index + 2,
       last_index + 2,
       false},
      // match with the entry in the middle
      {{last_term - 1, last_index - 1},
       last_index,
       Terms(last_index, {4}),
       last_index,
       last_index,
       false},
      {{last_term - 2, last_index - 2},
       last_index,
       Terms(last_index - 1, {4}),
       last_index - 1,
       last_index - 1,
       false},
      // conflict with existing committed entry
      {{last_term - 3, last_index - 3},
       last_index,
       Terms(last_index - 2, {4}),
       last_index - 2,
       last_index - 2,
       true},
      {{last_term - 2, last_index - 2},
       last_index,
       Terms(last_index - 1, {4, 4}),
       last_index,
       last_index,
       false},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE(i);
    const Case& c = cases[i];
    // As in etcd, a high enough leader term makes every case a valid append
    // message; MaybeAppend does not look at it.
    const LogSlice app{100, c.prev, c.ents};
    ASSERT_TRUE(app.Valid().ok()) << app.Valid().ToString();

    MemoryStorage storage;
    RaftLog log = RaftLog::NewLog(storage, TestLogger());
    log.Append(previous);
    log.set_committed(commit);

    if (c.want_panic) {
      GTEST_FLAG_SET(death_test_style, "threadsafe");
      EXPECT_DEATH((void)log.MaybeAppend(app, c.committed),
                   "panic: entry 1 conflict with committed entry \\[committed\\(1\\)\\]");
      continue;
    }
    const std::optional<uint64_t> got = log.MaybeAppend(app, c.committed);
    EXPECT_EQ(got, c.want_last);
    EXPECT_EQ(log.committed(), c.want_commit);
    if (got.has_value() && !c.ents.empty()) {
      Result<std::vector<Entry>> ents =
          log.Slice(log.LastIndex() - c.ents.size() + 1, log.LastIndex() + 1, kNoLimit);
      ASSERT_TRUE(ents.ok());
      EXPECT_EQ(*ents, c.ents);
    }
  }
}

// Ports etcd's TestCompactionSideEffects: everything still works after the
// storage is compacted underneath the log.
TEST(RaftLogTest, CompactionSideEffects) {
  // 1000 entries: 750 in stable storage and 250 in unstable.
  const uint64_t last_index = 1000;
  const uint64_t unstable_index = 750;
  MemoryStorage storage;
  ASSERT_TRUE(storage.Append(TermRange(1, 1, unstable_index + 1)).ok());
  RaftLog log = RaftLog::NewLog(storage, TestLogger());
  log.Append(TermRange(unstable_index + 1, unstable_index + 1, last_index + 1));

  ASSERT_TRUE(log.MaybeCommit(log.LastEntryID()));
  log.AppliedTo(log.committed(), 0);

  const uint64_t offset = 500;
  ASSERT_TRUE(storage.Compact(offset).ok());
  EXPECT_EQ(log.LastIndex(), last_index);

  for (uint64_t j = offset; j <= log.LastIndex(); ++j) EXPECT_EQ(MustTerm(log.Term(j)), j);
  for (uint64_t j = offset; j <= log.LastIndex(); ++j) EXPECT_TRUE(log.MatchTerm(EntryID{j, j}));

  const std::span<const Entry> unstable_ents = log.NextUnstableEnts();
  ASSERT_EQ(unstable_ents.size(), 250u);
  EXPECT_EQ(unstable_ents[0].index, 751u);

  const uint64_t prev = log.LastIndex();
  log.Append({Entry{log.LastIndex() + 1, log.LastIndex() + 1, EntryType::kNormal, {}}});
  EXPECT_EQ(log.LastIndex(), prev + 1);

  Result<std::vector<Entry>> ents = log.Entries(log.LastIndex(), kNoLimit);
  ASSERT_TRUE(ents.ok());
  EXPECT_EQ(ents->size(), 1u);
}

// The fixture of etcd's TestHasNextCommittedEnts, TestNextCommittedEnts,
// TestAcceptApplying and TestAppliedTo: a snapshot at 3 (term 1), entry 4
// stable in storage, entries 5 and 6 unstable; committed = 5, applied = 3.
struct ApplyFixture {
  explicit ApplyFixture(uint64_t max_size = kNoLimit)
      : storage(StorageWithSnapshot(3, 1)),
        ents(Terms(4, {1, 1, 1})),
        log(Build(storage, ents, max_size)) {
    log.Append(ents);
    log.StableTo(EntryID{1, 4});
    log.MaybeCommit(EntryID{1, 5});
    log.AppliedTo(3, 0);
  }

  static RaftLog Build(MemoryStorage& storage, const std::vector<Entry>& ents, uint64_t max_size) {
    EXPECT_TRUE(storage.Append(std::span(ents).first(1)).ok());
    return RaftLog::NewLogWithSize(storage, GetDiscardLogger(), max_size);
  }

  MemoryStorage storage;
  std::vector<Entry> ents;
  RaftLog log;
};

// Ports etcd's TestHasNextCommittedEnts.
TEST(RaftLogTest, HasNextCommittedEnts) {
  struct Case {
    uint64_t applied;
    uint64_t applying;
    bool allow_unstable;
    bool paused;
    bool snap;
    bool want;
  };
  const std::vector<Case> cases = {
      {3, 3, true, false, false, true},
      {3, 4, true, false, false, true},
      {3, 5, true, false, false, false},
      {4, 4, true, false, false, true},
      {4, 5, true, false, false, false},
      {5, 5, true, false, false, false},
      // Don't allow unstable entries.
      {3, 3, false, false, false, true},
      {3, 4, false, false, false, false},
      {3, 5, false, false, false, false},
      {4, 4, false, false, false, false},
      {4, 5, false, false, false, false},
      {5, 5, false, false, false, false},
      // Paused.
      {3, 3, true, true, false, false},
      // With snapshot.
      {3, 3, true, false, true, false},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE(i);
    const Case& c = cases[i];
    ApplyFixture f;
    f.log.AppliedTo(c.applied, 0);
    f.log.AcceptApplying(c.applying, 0, c.allow_unstable);
    f.log.set_applying_ents_paused_for_test(c.paused);
    if (c.snap) f.log.Restore(SnapAt(4, 1));
    EXPECT_EQ(f.log.HasNextCommittedEnts(c.allow_unstable), c.want);
  }
}

// Ports etcd's TestNextCommittedEnts.
TEST(RaftLogTest, NextCommittedEnts) {
  const std::vector<Entry> ents = Terms(4, {1, 1, 1});
  const auto sub = [&](size_t from, size_t to) {
    return std::vector<Entry>(ents.begin() + from, ents.begin() + to);
  };
  struct Case {
    uint64_t applied;
    uint64_t applying;
    bool allow_unstable;
    bool paused;
    bool snap;
    std::vector<Entry> want;
  };
  const std::vector<Case> cases = {
      {3, 3, true, false, false, sub(0, 2)},
      {3, 4, true, false, false, sub(1, 2)},
      {3, 5, true, false, false, {}},
      {4, 4, true, false, false, sub(1, 2)},
      {4, 5, true, false, false, {}},
      {5, 5, true, false, false, {}},
      // Don't allow unstable entries.
      {3, 3, false, false, false, sub(0, 1)},
      {3, 4, false, false, false, {}},
      {3, 5, false, false, false, {}},
      {4, 4, false, false, false, {}},
      {4, 5, false, false, false, {}},
      {5, 5, false, false, false, {}},
      // Paused.
      {3, 3, true, true, false, {}},
      // With snapshot.
      {3, 3, true, false, true, {}},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE(i);
    const Case& c = cases[i];
    ApplyFixture f;
    f.log.AppliedTo(c.applied, 0);
    f.log.AcceptApplying(c.applying, 0, c.allow_unstable);
    f.log.set_applying_ents_paused_for_test(c.paused);
    if (c.snap) f.log.Restore(SnapAt(4, 1));
    EXPECT_EQ(f.log.NextCommittedEnts(c.allow_unstable), c.want);
  }
}

// NextCommittedEnts hands out at most the remaining byte budget (but at
// least one entry), and AcceptApplying/AppliedTo move the budget.
TEST(RaftLogTest, NextCommittedEntsRespectsTheApplyingBudget) {
  MemoryStorage storage;
  const std::vector<Entry> ents = {Entry{1, 1, EntryType::kNormal, std::string(100, 'a')},
                                   Entry{1, 2, EntryType::kNormal, std::string(100, 'b')},
                                   Entry{1, 3, EntryType::kNormal, std::string(100, 'c')}};
  ASSERT_TRUE(storage.Append(ents).ok());
  const uint64_t budget = EntrySize(ents[0]) + EntrySize(ents[1]);
  RaftLog log = RaftLog::NewLogWithSize(storage, TestLogger(), budget);
  log.CommitTo(3);

  std::vector<Entry> first = log.NextCommittedEnts(false);
  EXPECT_EQ(first, std::vector<Entry>(ents.begin(), ents.begin() + 2));
  log.AcceptApplying(2, EntsSize(first), false);
  EXPECT_TRUE(log.applying_ents_paused());
  EXPECT_FALSE(log.HasNextCommittedEnts(false));
  EXPECT_TRUE(log.NextCommittedEnts(false).empty());

  log.AppliedTo(2, EntsSize(first));
  EXPECT_FALSE(log.applying_ents_paused());
  EXPECT_EQ(log.NextCommittedEnts(false), std::vector<Entry>(ents.begin() + 2, ents.end()));
}

// Ports etcd's TestAcceptApplying.
TEST(RaftLogTest, AcceptApplying) {
  const uint64_t max_size = 100;
  struct Case {
    uint64_t index;
    bool allow_unstable;
    uint64_t size;
    bool want_paused;
  };
  const std::vector<Case> cases = {
      {3, true, max_size - 1, true},
      {3, true, max_size, true},
      {3, true, max_size + 1, true},
      {4, true, max_size - 1, true},
      {4, true, max_size, true},
      {4, true, max_size + 1, true},
      {5, true, max_size - 1, false},
      {5, true, max_size, true},
      {5, true, max_size + 1, true},
      // Don't allow unstable entries.
      {3, false, max_size - 1, true},
      {3, false, max_size, true},
      {3, false, max_size + 1, true},
      {4, false, max_size - 1, false},
      {4, false, max_size, true},
      {4, false, max_size + 1, true},
      {5, false, max_size - 1, false},
      {5, false, max_size, true},
      {5, false, max_size + 1, true},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE(i);
    const Case& c = cases[i];
    ApplyFixture f(max_size);
    f.log.AcceptApplying(c.index, c.size, c.allow_unstable);
    EXPECT_EQ(f.log.applying_ents_paused(), c.want_paused);
  }
}

// Ports etcd's TestAppliedTo.
TEST(RaftLogTest, AppliedTo) {
  const uint64_t max_size = 100;
  const uint64_t overshoot = 5;
  struct Case {
    uint64_t index;
    uint64_t size;
    uint64_t want_applying_size;
    bool want_paused;
  };
  const std::vector<Case> cases = {
      // Apply some of in-progress entries (applying = 5 below).
      {4, overshoot - 1, max_size + 1, true},
      {4, overshoot, max_size, true},
      {4, overshoot + 1, max_size - 1, false},
      // Apply all of in-progress entries.
      {5, overshoot - 1, max_size + 1, true},
      {5, overshoot, max_size, true},
      {5, overshoot + 1, max_size - 1, false},
      // Apply all of outstanding bytes.
      {4, max_size + overshoot, 0, false},
      // Apply more than outstanding bytes.
      // Incorrect accounting doesn't underflow applyingSize.
      {4, max_size + overshoot + 1, 0, false},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE(i);
    const Case& c = cases[i];
    ApplyFixture f(max_size);
    f.log.AcceptApplying(5, max_size + overshoot, false);

    f.log.AppliedTo(c.index, c.size);
    EXPECT_EQ(f.log.applied(), c.index);
    EXPECT_EQ(f.log.applying(), 5u);
    EXPECT_EQ(f.log.applying_ents_size(), c.want_applying_size);
    EXPECT_EQ(f.log.applying_ents_paused(), c.want_paused);
  }
}

// Ports etcd's TestNextUnstableEnts: the unstable part of the log.
TEST(RaftLogTest, NextUnstableEnts) {
  const std::vector<Entry> previous = Terms(1, {1, 2});
  struct Case {
    uint64_t unstable;
    std::vector<Entry> want;
  };
  const std::vector<Case> cases = {
      {3, {}},
      {1, previous},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE(i);
    const Case& c = cases[i];
    // append stable entries to storage
    MemoryStorage storage;
    ASSERT_TRUE(storage.Append(std::span(previous).first(c.unstable - 1)).ok());
    // append unstable entries to raftlog
    RaftLog log = RaftLog::NewLog(storage, TestLogger());
    log.Append(std::vector<Entry>(previous.begin() + (c.unstable - 1), previous.end()));

    const std::vector<Entry> ents = ToVector(log.NextUnstableEnts());
    if (!ents.empty()) log.StableTo(PbEntryID(ents.back()));
    EXPECT_EQ(ents, c.want);
    EXPECT_EQ(log.unstable().offset(), previous.back().index + 1);
  }
}

// Ports etcd's TestCommitTo (in-range cases; the out-of-range panic is in
// RaftLogDeathTest.CommitToBeyondLastIndexPanics).
TEST(RaftLogTest, CommitTo) {
  struct Case {
    uint64_t commit;
    uint64_t want;
  };
  const std::vector<Case> cases = {
      {3, 3}, {1, 2},  // never decrease
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE(i);
    MemoryStorage storage;
    RaftLog log = RaftLog::NewLog(storage, TestLogger());
    log.Append(Terms(1, {1, 2, 3}));
    log.set_committed(2);
    log.CommitTo(cases[i].commit);
    EXPECT_EQ(log.committed(), cases[i].want);
  }
}

// Ports etcd's TestStableTo.
TEST(RaftLogTest, StableTo) {
  struct Case {
    uint64_t stable_index;
    uint64_t stable_term;
    uint64_t want_unstable;
  };
  const std::vector<Case> cases = {
      {1, 1, 2},
      {2, 2, 3},
      {2, 1, 1},  // bad term
      {3, 1, 1},  // bad index
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE(i);
    MemoryStorage storage;
    RaftLog log = RaftLog::NewLog(storage, TestLogger());
    log.Append(Terms(1, {1, 2}));
    log.StableTo(EntryID{cases[i].stable_term, cases[i].stable_index});
    EXPECT_EQ(log.unstable().offset(), cases[i].want_unstable);
  }
}

// Ports etcd's TestStableToWithSnap.
TEST(RaftLogTest, StableToWithSnap) {
  const uint64_t snapi = 5, snapt = 2;
  struct Case {
    uint64_t stable_index;
    uint64_t stable_term;
    std::vector<Entry> new_ents;
    uint64_t want_unstable;
  };
  const std::vector<Case> cases = {
      {snapi + 1, snapt, {}, snapi + 1},
      {snapi, snapt, {}, snapi + 1},
      {snapi - 1, snapt, {}, snapi + 1},

      {snapi + 1, snapt + 1, {}, snapi + 1},
      {snapi, snapt + 1, {}, snapi + 1},
      {snapi - 1, snapt + 1, {}, snapi + 1},

      {snapi + 1, snapt, Terms(snapi + 1, {snapt}), snapi + 2},
      {snapi, snapt, Terms(snapi + 1, {snapt}), snapi + 1},
      {snapi - 1, snapt, Terms(snapi + 1, {snapt}), snapi + 1},

      {snapi + 1, snapt + 1, Terms(snapi + 1, {snapt}), snapi + 1},
      {snapi, snapt + 1, Terms(snapi + 1, {snapt}), snapi + 1},
      {snapi - 1, snapt + 1, Terms(snapi + 1, {snapt}), snapi + 1},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE(i);
    const Case& c = cases[i];
    MemoryStorage storage = StorageWithSnapshot(snapi, snapt);
    RaftLog log = RaftLog::NewLog(storage, TestLogger());
    log.Append(c.new_ents);
    log.StableTo(EntryID{c.stable_term, c.stable_index});
    EXPECT_EQ(log.unstable().offset(), c.want_unstable);
  }
}

// Ports etcd's TestCompaction: the number of entries is right after
// compactions (the out-of-range compaction is MemoryStorage's panic, covered
// by the Storage conformance suite; here we check the in-range cases and the
// ErrCompacted one).
TEST(RaftLogTest, Compaction) {
  struct Case {
    uint64_t last_index;
    std::vector<uint64_t> compact;
    std::vector<int> want_left;  // -1: the compaction fails with kCompacted
  };
  const std::vector<Case> cases = {
      {1000, {300, 500, 800, 900}, {700, 500, 200, 100}},
      // out of lower bound
      {1000, {300, 299}, {700, -1}},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE(i);
    const Case& c = cases[i];
    MemoryStorage storage;
    ASSERT_TRUE(storage.Append(TermRange(1, 1, c.last_index + 1)).ok());
    RaftLog log = RaftLog::NewLog(storage, TestLogger());
    log.MaybeCommit(EntryID{0, c.last_index});  // as in etcd, a no-op: term 0
    EXPECT_EQ(log.committed(), 0u);
    log.AppliedTo(log.committed(), 0);
    for (size_t j = 0; j < c.compact.size(); ++j) {
      const Status s = storage.Compact(c.compact[j]);
      if (!s.ok()) {
        EXPECT_TRUE(s.IsCompacted());
        EXPECT_EQ(c.want_left[j], -1);
        continue;
      }
      EXPECT_EQ(static_cast<int>(log.AllEntries().size()), c.want_left[j]);
    }
  }
}

// Ports etcd's TestLogRestore.
TEST(RaftLogTest, NewLogStartsAtTheStoragesSnapshot) {
  const uint64_t index = 1000, term = 1000;
  MemoryStorage storage = StorageWithSnapshot(index, term);
  RaftLog log = RaftLog::NewLog(storage, TestLogger());

  EXPECT_TRUE(log.AllEntries().empty());
  EXPECT_EQ(log.FirstIndex(), index + 1);
  EXPECT_EQ(log.committed(), index);
  EXPECT_EQ(log.applying(), index);
  EXPECT_EQ(log.applied(), index);
  EXPECT_EQ(log.unstable().offset(), index + 1);
  EXPECT_EQ(MustTerm(log.Term(index)), term);
}

TEST(RaftLogTest, RestoreResetsTheLogAndLogsLikeEtcd) {
  MemoryStorage storage;
  CapturingLogger logger;
  RaftLog log = RaftLog::NewLog(storage, logger);
  log.Append(Terms(1, {1, 1, 2}));
  log.CommitTo(1);
  log.Restore(SnapAt(10, 3));
  EXPECT_EQ(logger.messages(),
            std::vector<std::string>{
                "log [committed=1, applied=0, applying=0, unstable.offset=1, "
                "unstable.offsetInProgress=1, len(unstable.Entries)=3] starts to restore snapshot "
                "[index: 10, term: 3]"});
  EXPECT_EQ(log.committed(), 10u);
  EXPECT_EQ(log.FirstIndex(), 11u);
  EXPECT_EQ(log.LastEntryID(), (EntryID{3, 10}));
  EXPECT_TRUE(log.HasNextUnstableSnapshot());
  EXPECT_TRUE(log.HasNextOrInProgressSnapshot());
  Result<Snapshot> snap = log.Snapshot();
  ASSERT_TRUE(snap.ok());
  EXPECT_EQ(*snap, SnapAt(10, 3));

  // Persisting the snapshot hands the log back to storage.
  log.AcceptUnstable();
  EXPECT_FALSE(log.HasNextUnstableSnapshot());
  EXPECT_TRUE(log.HasNextOrInProgressSnapshot());
  ASSERT_TRUE(storage.ApplySnapshot(SnapAt(10, 3)).ok());
  log.StableSnapTo(10);
  EXPECT_FALSE(log.HasNextOrInProgressSnapshot());
  EXPECT_EQ(log.FirstIndex(), 11u);
  EXPECT_EQ(log.LastIndex(), 10u);
  EXPECT_EQ(MustTerm(log.Term(10)), 3u);
}

TEST(RaftLogTest, StringMatchesEtcd) {
  MemoryStorage storage;
  RaftLog log = RaftLog::NewLog(storage, TestLogger());
  log.Append(Terms(1, {1, 1}));
  log.AcceptUnstable();
  EXPECT_EQ(log.String(),
            "committed=0, applied=0, applying=0, unstable.offset=1, "
            "unstable.offsetInProgress=3, len(unstable.Entries)=2");
}

// Ports etcd's TestIsOutOfBounds.
TEST(RaftLogTest, MustCheckOutOfBounds) {
  const uint64_t offset = 100, num = 100;
  MemoryStorage storage = StorageWithSnapshot(offset, 0);
  RaftLog log = RaftLog::NewLog(storage, TestLogger());
  log.Append(TermRange(offset + 1, offset + 1, offset + num + 1));

  const uint64_t first = offset + 1;
  struct Case {
    uint64_t lo, hi;
    bool want_compacted;
  };
  const std::vector<Case> cases = {
      {first - 2, first + 1, true},
      {first - 1, first + 1, true},
      {first, first, false},
      {first + num / 2, first + num / 2, false},
      {first + num - 1, first + num - 1, false},
      {first + num, first + num, false},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE(i);
    const Status s = log.MustCheckOutOfBounds(cases[i].lo, cases[i].hi);
    if (cases[i].want_compacted) {
      EXPECT_TRUE(s.IsCompacted()) << s.ToString();
    } else {
      EXPECT_TRUE(s.ok()) << s.ToString();
    }
  }
}

// Ports etcd's TestTerm.
TEST(RaftLogTest, Term) {
  const uint64_t offset = 100, num = 100;
  MemoryStorage storage = StorageWithSnapshot(offset, 1);
  RaftLog log = RaftLog::NewLog(storage, TestLogger());
  log.Append(TermRange(offset + 1, 1, num));

  struct Case {
    uint64_t index;
    uint64_t want_term;
    Status::Code want_code;
  };
  const std::vector<Case> cases = {
      {offset - 1, 0, Status::Code::kCompacted},
      {offset, 1, Status::Code::kOk},
      {offset + num / 2, num / 2, Status::Code::kOk},
      {offset + num - 1, num - 1, Status::Code::kOk},
      {offset + num, 0, Status::Code::kUnavailable},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE(i);
    const Result<uint64_t> t = log.Term(cases[i].index);
    EXPECT_EQ(t.status().code(), cases[i].want_code);
    EXPECT_EQ(t.value_or(0), cases[i].want_term);
  }
}

// Ports etcd's TestTermWithUnstableSnapshot.
TEST(RaftLogTest, TermWithUnstableSnapshot) {
  const uint64_t storage_snap = 100;
  const uint64_t unstable_snap = storage_snap + 5;
  MemoryStorage storage = StorageWithSnapshot(storage_snap, 1);
  RaftLog log = RaftLog::NewLog(storage, TestLogger());
  log.Restore(SnapAt(unstable_snap, 1));

  struct Case {
    uint64_t index;
    uint64_t want_term;
    Status::Code want_code;
  };
  const std::vector<Case> cases = {
      // cannot get term from storage
      {storage_snap, 0, Status::Code::kCompacted},
      // cannot get term from the gap between storage ents and unstable snapshot
      {storage_snap + 1, 0, Status::Code::kCompacted},
      {unstable_snap - 1, 0, Status::Code::kCompacted},
      // get term from unstable snapshot index
      {unstable_snap, 1, Status::Code::kOk},
      // the log beyond the unstable snapshot is empty
      {unstable_snap + 1, 0, Status::Code::kUnavailable},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE(i);
    const Result<uint64_t> t = log.Term(cases[i].index);
    EXPECT_EQ(t.status().code(), cases[i].want_code);
    EXPECT_EQ(t.value_or(0), cases[i].want_term);
  }
}

// The log of etcd's TestSlice: a snapshot at 100, entries 101..149 in
// storage and 150..199 unstable (index == term).
struct SliceFixture {
  static constexpr uint64_t kOffset = 100;
  static constexpr uint64_t kNum = 100;
  static constexpr uint64_t kLast = kOffset + kNum;
  static constexpr uint64_t kHalf = kOffset + kNum / 2;

  static std::vector<Entry> Ents(uint64_t from, uint64_t to) { return TermRange(from, from, to); }

  SliceFixture() : storage(StorageWithSnapshot(kOffset, 0)), log(Build(storage)) {
    log.Append(Ents(kHalf, kLast));
  }

  static RaftLog Build(MemoryStorage& storage) {
    EXPECT_TRUE(storage.Append(Ents(kOffset + 1, kHalf)).ok());
    return RaftLog::NewLog(storage, GetDiscardLogger());
  }

  MemoryStorage storage;
  RaftLog log;
};

// Ports etcd's TestSlice (the panicking cases are in RaftLogDeathTest).
TEST(RaftLogTest, Slice) {
  constexpr uint64_t offset = SliceFixture::kOffset;
  constexpr uint64_t last = SliceFixture::kLast;
  constexpr uint64_t half = SliceFixture::kHalf;
  const auto entries = SliceFixture::Ents;
  // etcd's limits are multiples of proto.Size(halfe), the size of entry 150.
  const uint64_t halfe = EntrySize(Entry{half, half, EntryType::kNormal, {}});
  SliceFixture f;

  struct Case {
    uint64_t lo, hi, lim;
    std::vector<Entry> want;
  };
  const std::vector<Case> cases = {
      // ErrCompacted.
      {offset - 1, offset + 1, kNoLimit, {}},
      {offset, offset + 1, kNoLimit, {}},

      // No limit.
      {offset + 1, offset + 1, kNoLimit, {}},
      {offset + 1, half - 1, kNoLimit, entries(offset + 1, half - 1)},
      {offset + 1, half, kNoLimit, entries(offset + 1, half)},
      {offset + 1, half + 1, kNoLimit, entries(offset + 1, half + 1)},
      {offset + 1, last, kNoLimit, entries(offset + 1, last)},
      {half - 1, half, kNoLimit, entries(half - 1, half)},
      {half - 1, half + 1, kNoLimit, entries(half - 1, half + 1)},
      {half - 1, last, kNoLimit, entries(half - 1, last)},
      {half, half + 1, kNoLimit, entries(half, half + 1)},
      {half, last, kNoLimit, entries(half, last)},
      {last - 1, last, kNoLimit, entries(last - 1, last)},

      // At least one entry is always returned.
      {offset + 1, last, 0, entries(offset + 1, offset + 2)},
      {half - 1, half + 1, 0, entries(half - 1, half)},
      {half, last, 0, entries(half, half + 1)},
      {half + 1, last, 0, entries(half + 1, half + 2)},
      // Low limit.
      {offset + 1, last, halfe - 1, entries(offset + 1, offset + 2)},
      {half - 1, half + 1, halfe - 1, entries(half - 1, half)},
      {half, last, halfe - 1, entries(half, half + 1)},
      // Just enough for one limit.
      {offset + 1, last, halfe, entries(offset + 1, offset + 2)},
      {half - 1, half + 1, halfe, entries(half - 1, half)},
      {half, last, halfe, entries(half, half + 1)},
      // Not enough for two limit.
      {offset + 1, last, halfe + 1, entries(offset + 1, offset + 2)},
      {half - 1, half + 1, halfe + 1, entries(half - 1, half)},
      {half, last, halfe + 1, entries(half, half + 1)},
      // Enough for two limit.
      {offset + 1, last, halfe * 2, entries(offset + 1, offset + 3)},
      {half - 2, half + 1, halfe * 2, entries(half - 2, half)},
      {half - 1, half + 1, halfe * 2, entries(half - 1, half + 1)},
      {half, last, halfe * 2, entries(half, half + 2)},
      // Not enough for three.
      {half - 2, half + 1, halfe * 3 - 1, entries(half - 2, half)},
      // Enough for three.
      {half - 1, half + 2, halfe * 3, entries(half - 1, half + 2)},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    const Case& c = cases[i];
    SCOPED_TRACE(::testing::Message()
                 << "case " << i << " [" << c.lo << "," << c.hi << ") lim " << c.lim);
    const Result<std::vector<Entry>> got = f.log.Slice(c.lo, c.hi, c.lim);
    if (c.lo <= offset) {
      EXPECT_TRUE(got.status().IsCompacted()) << got.status().ToString();
      continue;
    }
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_EQ(*got, c.want);
    // The size rule of LimitSize: one entry, or a total within the limit.
    EXPECT_TRUE(got->size() <= 1 || EntsSize(*got) <= c.lim);
  }
}

// Slice cuts the unstable part by the budget left after the stored part,
// whatever the entry sizes: it agrees with LimitSize over the whole range.
TEST(RaftLogTest, SliceAgreesWithLimitSizeAcrossTheStableBoundary) {
  MemoryStorage storage;
  std::vector<Entry> all;
  for (uint64_t i = 1; i <= 12; ++i) {
    all.push_back(Entry{1, i, EntryType::kNormal, std::string(i * 7 % 23, 'x')});
  }
  ASSERT_TRUE(storage.Append(std::span(all).first(6)).ok());
  RaftLog log = RaftLog::NewLog(storage, TestLogger());
  log.Append(std::vector<Entry>(all.begin() + 6, all.end()));

  for (uint64_t lo = 1; lo <= 12; ++lo) {
    for (uint64_t hi = lo; hi <= 13; ++hi) {
      for (uint64_t lim : {uint64_t{0}, uint64_t{5}, uint64_t{20}, uint64_t{40}, uint64_t{77},
                           uint64_t{150}, kNoLimit}) {
        std::vector<Entry> want(all.begin() + (lo - 1), all.begin() + (hi - 1));
        LimitSize(&want, lim);
        const Result<std::vector<Entry>> got = log.Slice(lo, hi, lim);
        ASSERT_TRUE(got.ok());
        EXPECT_EQ(*got, want) << "[" << lo << "," << hi << ") lim " << lim;
      }
    }
  }
}

// Ports etcd's TestScan.
TEST(RaftLogTest, Scan) {
  const uint64_t offset = 47, num = 20;
  const uint64_t last = offset + num;
  const uint64_t half = offset + num / 2;
  const auto entries = [](uint64_t from, uint64_t to) { return TermRange(from, from, to); };
  const uint64_t entry_size = EntsSize(entries(half, half + 1));

  MemoryStorage storage = StorageWithSnapshot(offset, 0);
  ASSERT_TRUE(storage.Append(entries(offset + 1, half)).ok());
  RaftLog log = RaftLog::NewLog(storage, TestLogger());
  log.Append(entries(half, last));

  // Scan returns the same entries as Slice, on all inputs.
  for (uint64_t page_size :
       {uint64_t{0}, uint64_t{1}, uint64_t{10}, uint64_t{100}, entry_size, entry_size + 1}) {
    for (uint64_t lo = offset + 1; lo < last; ++lo) {
      for (uint64_t hi = lo; hi <= last; ++hi) {
        std::vector<Entry> got;
        const Status s = log.Scan(lo, hi, page_size, [&](std::span<const Entry> e) {
          got.insert(got.end(), e.begin(), e.end());
          EXPECT_TRUE(e.size() == 1 || EntsSize(e) <= page_size);
          return Status::OK();
        });
        ASSERT_TRUE(s.ok()) << s.ToString();
        const Result<std::vector<Entry>> want = log.Slice(lo, hi, kNoLimit);
        ASSERT_TRUE(want.ok());
        EXPECT_EQ(got, *want) << "scan and slice mismatch on [" << lo << ", " << hi << ") @ "
                              << page_size;
      }
    }
  }

  // The callback's error is propagated to the caller.
  int iters = 0;
  const Status brk = Status::FailedPrecondition("break");
  const Status s = log.Scan(offset + 1, half, 0, [&](std::span<const Entry>) {
    ++iters;
    return iters == 2 ? brk : Status::OK();
  });
  EXPECT_TRUE(s.IsFailedPrecondition());
  EXPECT_EQ(s.message(), "break");
  EXPECT_EQ(iters, 2);

  // The limit is maxed out, not just one entry per page.
  // NB: this works only because the requested range length is even.
  ASSERT_TRUE(log.Scan(offset + 1, offset + 11, entry_size * 2,
                       [&](std::span<const Entry> ents) {
                         EXPECT_EQ(ents.size(), 2u);
                         EXPECT_EQ(EntsSize(ents), entry_size * 2);
                         return Status::OK();
                       })
                  .ok());
}

TEST(RaftLogTest, EntriesPastTheEndAreEmpty) {
  MemoryStorage storage;
  RaftLog log = RaftLog::NewLog(storage, TestLogger());
  log.Append(Terms(1, {1, 1}));
  Result<std::vector<Entry>> ents = log.Entries(3, kNoLimit);
  ASSERT_TRUE(ents.ok());
  EXPECT_TRUE(ents->empty());
}

TEST(RaftLogTest, UnstableViewsAndAcceptUnstable) {
  MemoryStorage storage;
  RaftLog log = RaftLog::NewLog(storage, TestLogger());
  EXPECT_FALSE(log.HasNextUnstableEnts());
  EXPECT_FALSE(log.HasNextOrInProgressUnstableEnts());
  log.Append(Terms(1, {1, 1}));
  EXPECT_TRUE(log.HasNextUnstableEnts());
  log.AcceptUnstable();
  EXPECT_FALSE(log.HasNextUnstableEnts());
  EXPECT_TRUE(log.HasNextOrInProgressUnstableEnts());
  log.Append(Terms(3, {2}));
  EXPECT_EQ(ToVector(log.NextUnstableEnts()), Terms(3, {2}));
  EXPECT_EQ(ToVector(log.UnstableEntries()), Terms(1, {1, 1, 2}));
  // Once stored, StableTo hands the entries over to storage.
  ASSERT_TRUE(storage.Append(std::vector<Entry>(Terms(1, {1, 1}))).ok());
  log.StableTo(EntryID{1, 2});
  EXPECT_EQ(ToVector(log.UnstableEntries()), Terms(3, {2}));
  EXPECT_EQ(log.LastEntryID(), (EntryID{2, 3}));
  EXPECT_EQ(log.AllEntries(), Terms(1, {1, 1, 2}));
}

// A Storage whose every read fails, to check that the log treats errors
// other than kCompacted/kUnavailable as fatal, as etcd does.
class FailingStorage final : public Storage {
 public:
  explicit FailingStorage(Status term_error) : term_error_(std::move(term_error)) {}
  Result<StoredState> InitialState() const override { return StoredState{}; }
  Result<std::vector<Entry>> Entries(uint64_t, uint64_t, uint64_t) const override {
    return Status::IOError("disk on fire");
  }
  Result<uint64_t> Term(uint64_t) const override { return term_error_; }
  Result<uint64_t> LastIndex() const override { return 5; }
  Result<uint64_t> FirstIndex() const override { return 1; }
  Result<raft::Snapshot> Snapshot() const override {
    return Status::SnapshotTemporarilyUnavailable();
  }

 private:
  Status term_error_;
};

TEST(RaftLogTest, StorageCompactedAndUnavailablePassThroughTerm) {
  FailingStorage compacted(Status::Compacted());
  RaftLog log = RaftLog::NewLog(compacted, TestLogger());
  EXPECT_TRUE(log.Term(3).status().IsCompacted());
  EXPECT_EQ(log.ZeroTermOnOutOfBounds(log.Term(3)), 0u);
  EXPECT_FALSE(log.MatchTerm(EntryID{1, 3}));
  FailingStorage unavailable(Status::Unavailable());
  RaftLog log2 = RaftLog::NewLog(unavailable, TestLogger());
  EXPECT_TRUE(log2.Term(3).status().IsUnavailable());
  // Snapshot errors are the caller's to handle (raft retries later).
  EXPECT_TRUE(log2.Snapshot().status().IsSnapshotTemporarilyUnavailable());
}

using RaftLogDeathTest = testing::DeathTestBase;

// Ports the panicking case of etcd's TestCommitTo.
TEST_F(RaftLogDeathTest, CommitToBeyondLastIndexPanics) {
  MemoryStorage storage;
  RaftLog log = RaftLog::NewLog(storage, TestLogger());
  log.Append(Terms(1, {1, 2, 3}));
  log.set_committed(2);
  EXPECT_DEATH(log.CommitTo(4),
               "panic: tocommit\\(4\\) is out of range \\[lastIndex\\(3\\)\\]. Was the raft log "
               "corrupted, truncated, or lost\\?");
}

// Ports the panicking cases of etcd's TestIsOutOfBounds.
TEST_F(RaftLogDeathTest, MustCheckOutOfBoundsPanicsPastTheEnd) {
  MemoryStorage storage = StorageWithSnapshot(100, 0);
  RaftLog log = RaftLog::NewLog(storage, TestLogger());
  log.Append(TermRange(101, 101, 201));
  EXPECT_DEATH((void)log.MustCheckOutOfBounds(201, 202),
               "panic: slice\\[201,202\\) out of bound \\[101,200\\]");
  EXPECT_DEATH((void)log.MustCheckOutOfBounds(202, 202),
               "panic: slice\\[202,202\\) out of bound \\[101,200\\]");
  EXPECT_DEATH((void)log.MustCheckOutOfBounds(150, 149), "panic: invalid slice 150 > 149");
}

// Ports the panicking cases of etcd's TestSlice.
TEST_F(RaftLogDeathTest, SlicePanicsOnInvertedOrOutOfBoundRanges) {
  SliceFixture f;
  EXPECT_DEATH((void)f.log.Slice(SliceFixture::kHalf, SliceFixture::kHalf - 1, kNoLimit),
               "panic: invalid slice 150 > 149");  // lo and hi inversion
  EXPECT_DEATH((void)f.log.Slice(SliceFixture::kLast, SliceFixture::kLast + 1, kNoLimit),
               "panic: slice\\[200,201\\) out of bound \\[101,199\\]");  // hi out of bounds
}

// The out-of-upper-bound case of etcd's TestCompaction panics in MemoryStorage.
TEST_F(RaftLogDeathTest, CompactionBeyondTheLastIndexPanics) {
  MemoryStorage storage;
  ASSERT_TRUE(storage.Append(TermRange(1, 1, 1001)).ok());
  RaftLog log = RaftLog::NewLog(storage, TestLogger());
  EXPECT_DEATH((void)storage.Compact(1001), "compact 1001 is out of bound lastindex\\(1000\\)");
}

TEST_F(RaftLogDeathTest, AppendBelowCommittedPanics) {
  MemoryStorage storage;
  RaftLog log = RaftLog::NewLog(storage, TestLogger());
  log.Append(Terms(1, {1, 1, 1}));
  log.CommitTo(2);
  EXPECT_DEATH(log.Append(Terms(2, {2})),
               "panic: after\\(1\\) is out of range \\[committed\\(2\\)\\]");
}

TEST_F(RaftLogDeathTest, AppliedToAndAcceptApplyingCheckTheirRange) {
  MemoryStorage storage;
  RaftLog log = RaftLog::NewLog(storage, TestLogger());
  log.Append(Terms(1, {1, 1, 1}));
  log.CommitTo(2);
  EXPECT_DEATH(log.AppliedTo(3, 0),
               "panic: applied\\(3\\) is out of range \\[prevApplied\\(0\\), committed\\(2\\)\\]");
  EXPECT_DEATH(
      log.AcceptApplying(3, 0, true),
      "panic: applying\\(3\\) is out of range \\[prevApplying\\(0\\), committed\\(2\\)\\]");
}

TEST_F(RaftLogDeathTest, StorageUnavailableInSlicePanics) {
  // A storage that claims entries it cannot return.
  class LosingStorage final : public Storage {
   public:
    Result<StoredState> InitialState() const override { return StoredState{}; }
    Result<std::vector<Entry>> Entries(uint64_t, uint64_t, uint64_t) const override {
      return Status::Unavailable();
    }
    Result<uint64_t> Term(uint64_t) const override { return 1; }
    Result<uint64_t> LastIndex() const override { return 5; }
    Result<uint64_t> FirstIndex() const override { return 1; }
    Result<raft::Snapshot> Snapshot() const override { return raft::Snapshot{}; }
  };
  LosingStorage storage;
  RaftLog log = RaftLog::NewLog(storage, TestLogger());
  EXPECT_DEATH((void)log.Slice(2, 4, kNoLimit),
               "panic: entries\\[2:4\\) is unavailable from storage");
}

TEST_F(RaftLogDeathTest, OtherStorageErrorsPanic) {
  FailingStorage storage(Status::IOError("bad sector"));
  RaftLog log = RaftLog::NewLog(storage, TestLogger());
  EXPECT_DEATH((void)log.Term(3), "panic: IOError: bad sector");
  EXPECT_DEATH((void)log.Slice(2, 4, kNoLimit), "panic: IOError: disk on fire");
}

TEST_F(RaftLogDeathTest, MaybeAppendConflictingWithCommittedPanics) {
  MemoryStorage storage;
  RaftLog log = RaftLog::NewLog(storage, TestLogger());
  log.Append(Terms(1, {1, 1, 1}));
  log.CommitTo(3);
  EXPECT_DEATH((void)log.MaybeAppend(LogSlice{5, EntryID{1, 1}, Terms(2, {5})}, 3),
               "panic: entry 2 conflict with committed entry \\[committed\\(3\\)\\]");
}

}  // namespace
}  // namespace raftlog::raft::internal
