// Fixtures shared by the tests of raft/internal/ (etcd's log_test.go helpers).

#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <span>
#include <vector>

#include "raftlog/raft/types.h"

namespace raftlog::raft::internal::testing {

// etcd's index(first).terms(t...): entries at indexes first, first+1, ...
// with the given terms and no data.
inline std::vector<Entry> Terms(uint64_t first, std::initializer_list<uint64_t> terms) {
  std::vector<Entry> out;
  out.reserve(terms.size());
  uint64_t index = first;
  for (uint64_t t : terms) out.push_back(Entry{t, index++, EntryType::kNormal, {}});
  return out;
}

// etcd's index(first).termRange(from, to): to-from entries at consecutive
// indexes from `first`, with consecutive terms from..to-1.
inline std::vector<Entry> TermRange(uint64_t first, uint64_t from, uint64_t to) {
  std::vector<Entry> out;
  out.reserve(to - from);
  uint64_t index = first;
  for (uint64_t t = from; t < to; ++t) out.push_back(Entry{t, index++, EntryType::kNormal, {}});
  return out;
}

// etcd's entsSize: the summed EntrySize() of `ents`.
inline uint64_t EntsSize(std::span<const Entry> ents) {
  uint64_t size = 0;
  for (const Entry& e : ents) size += EntrySize(e);
  return size;
}

// A snapshot carrying only a log position.
inline Snapshot SnapAt(uint64_t index, uint64_t term) {
  Snapshot s;
  s.metadata.index = index;
  s.metadata.term = term;
  return s;
}

inline std::shared_ptr<const Snapshot> SharedSnapAt(uint64_t index, uint64_t term) {
  return std::make_shared<const Snapshot>(SnapAt(index, term));
}

inline std::vector<Entry> ToVector(std::span<const Entry> ents) {
  return std::vector<Entry>(ents.begin(), ents.end());
}

// Death tests run in a re-executed child ("threadsafe"), which is reliable
// with the threads gtest and the sanitizers start.
class DeathTestBase : public ::testing::Test {
 protected:
  void SetUp() override { GTEST_FLAG_SET(death_test_style, "threadsafe"); }
};

}  // namespace raftlog::raft::internal::testing
