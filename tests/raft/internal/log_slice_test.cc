#include "raftlog/raft/internal/log_slice.h"

#include <gtest/gtest.h>

#include <vector>

namespace raftlog::raft::internal {
namespace {

EntryID Id(uint64_t index, uint64_t term) { return EntryID{term, index}; }
Entry E(uint64_t index, uint64_t term) { return Entry{term, index, EntryType::kNormal, {}}; }

// Ports etcd's TestEntryID (types_test.go).
TEST(EntryIDTest, IdentifiesAnEntryByTermAndIndex) {
  EXPECT_EQ((EntryID{5, 10}), (EntryID{5, 10}));
  EXPECT_NE((EntryID{4, 10}), (EntryID{5, 10}));
  EXPECT_NE((EntryID{5, 9}), (EntryID{5, 10}));

  struct Case {
    Entry entry;
    EntryID want;
  };
  const std::vector<Case> cases = {
      {Entry{}, EntryID{0, 0}},
      {Entry{1, 2, EntryType::kNormal, "data"}, EntryID{1, 2}},
      {Entry{10, 123, EntryType::kNormal, {}}, EntryID{10, 123}},
  };
  for (const Case& c : cases) EXPECT_EQ(PbEntryID(c.entry), c.want);
}

TEST(EntryIDTest, PrintsLikeGoPlusV) { EXPECT_EQ(ToString(EntryID{5, 10}), "{term:5 index:10}"); }

// Ports etcd's TestLogSlice (types_test.go).
TEST(LogSliceTest, ValidityLastIndexAndLastEntryID) {
  struct Case {
    uint64_t term;
    EntryID prev;
    std::vector<Entry> entries;
    bool not_ok;
    EntryID last;
  };
  const EntryID none;  // an unused `last` where the slice is invalid
  const std::vector<Case> cases = {
      // {term, prev, entries, not_ok, last}
      // Empty "dummy" slice, starting at the (0, 0) origin of the log.
      {0, none, {}, false, Id(0, 0)},
      // Empty slice with a given prev ID. Valid only if term >= prev.term.
      {0, Id(123, 10), {}, true, none},
      {9, Id(123, 10), {}, true, none},
      {10, Id(123, 10), {}, false, Id(123, 10)},
      {11, Id(123, 10), {}, false, Id(123, 10)},
      // A single entry.
      {0, none, {E(1, 1)}, true, none},
      {1, none, {E(1, 1)}, false, Id(1, 1)},
      {2, none, {E(1, 1)}, false, Id(1, 1)},
      // Multiple entries.
      {2, none, {E(2, 1), E(3, 1), E(4, 2)}, true, none},
      {1, Id(1, 1), {E(2, 1), E(3, 1), E(4, 2)}, true, none},
      {2, Id(1, 1), {E(2, 1), E(3, 1), E(4, 2)}, false, Id(4, 2)},
      // First entry inconsistent with prev.
      {10, Id(123, 5), {E(111, 5)}, true, none},
      {10, Id(123, 5), {E(124, 4)}, true, none},
      {10, Id(123, 5), {E(234, 6)}, true, none},
      {10, Id(123, 5), {E(124, 6)}, false, Id(124, 6)},
      // Inconsistent entries.
      {10, Id(12, 2), {E(13, 2), E(12, 2)}, true, none},
      {10, Id(12, 2), {E(13, 2), E(15, 2)}, true, none},
      {10, Id(12, 2), {E(13, 2), E(14, 1)}, true, none},
      {10, Id(12, 2), {E(13, 2), E(14, 3)}, false, Id(14, 3)},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE(i);
    const Case& c = cases[i];
    const LogSlice s{c.term, c.prev, c.entries};
    const Status st = s.Valid();
    EXPECT_EQ(!st.ok(), c.not_ok) << st.ToString();
    if (!c.not_ok) {
      const EntryID last = s.LastEntryID();
      EXPECT_EQ(last, c.last);
      EXPECT_EQ(s.LastIndex(), last.index);
    } else {
      EXPECT_TRUE(st.IsInvalidArgument());
    }
  }
}

TEST(LogSliceTest, ErrorsCarryEtcdsText) {
  EXPECT_EQ(LogSlice({10, Id(123, 5), {E(111, 5)}}).Valid().message(),
            "leader term 10: entries {term:5 index:123} and {term:5 index:111} not consistent");
  EXPECT_EQ(LogSlice({9, Id(123, 10), {}}).Valid().message(),
            "leader term 9: entry {term:10 index:123} has a newer term");
}

}  // namespace
}  // namespace raftlog::raft::internal
