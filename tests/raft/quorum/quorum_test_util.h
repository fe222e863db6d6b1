// Helpers shared by the quorum tests: etcd's datadriven input syntax and the
// reference computations of quorum/datadriven_test.go and quick_test.go.

#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "raftlog/raft/quorum/majority.h"
#include "raftlog/raft/quorum/quorum.h"

namespace raftlog::raft::quorum::test {

// "1, 2,3" -> {1, 2, 3}, in written order; "" -> {}.
inline std::vector<std::string> SplitList(std::string_view s) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == ' ') continue;
    if (c == ',') {
      out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty() || !out.empty()) out.push_back(cur);
  return out;
}

inline std::vector<uint64_t> ParseIds(std::string_view s) {
  std::vector<uint64_t> ids;
  for (const std::string& tok : SplitList(s)) ids.push_back(std::stoull(tok));
  return ids;
}

// The distinct ids of cfg followed by those of cfgj, in written order: the
// order in which etcd's harness hands out the idx/votes values.
inline std::vector<uint64_t> InputOrder(const std::vector<uint64_t>& ids,
                                        const std::vector<uint64_t>& ids_joint) {
  std::vector<uint64_t> order;
  std::set<uint64_t> seen;
  for (const auto* list : {&ids, &ids_joint}) {
    for (uint64_t id : *list) {
      if (seen.insert(id).second) order.push_back(id);
    }
  }
  return order;
}

// etcd's makeLookuper: the i-th value of `idx` ("12,_,5") belongs to the i-th
// id of InputOrder; "_" means the voter's index is unknown.
inline MapAckIndexer MakeLookuper(const std::vector<uint64_t>& ids,
                                  const std::vector<uint64_t>& ids_joint, std::string_view idx) {
  const std::vector<uint64_t> order = InputOrder(ids, ids_joint);
  const std::vector<std::string> vals = SplitList(idx);
  EXPECT_EQ(order.size(), vals.size()) << "mismatched input (explicit or _) for voters";
  MapAckIndexer acked;
  for (size_t i = 0; i < order.size() && i < vals.size(); ++i) {
    if (vals[i] != "_") acked.Set(order[i], std::stoull(vals[i]));
  }
  return acked;
}

// Like MakeLookuper for votes: "y" granted, "n" rejected, "_" not voted.
inline Votes MakeVotes(const std::vector<uint64_t>& ids, const std::vector<uint64_t>& ids_joint,
                       std::string_view votes) {
  const std::vector<uint64_t> order = InputOrder(ids, ids_joint);
  const std::vector<std::string> vals = SplitList(votes);
  EXPECT_EQ(order.size(), vals.size()) << "mismatched input (explicit or _) for voters";
  Votes out;
  for (size_t i = 0; i < order.size() && i < vals.size(); ++i) {
    if (vals[i] == "y") {
      out[order[i]] = true;
    } else if (vals[i] == "n") {
      out[order[i]] = false;
    } else {
      EXPECT_EQ(vals[i], "_") << "unknown vote";
    }
  }
  return out;
}

// etcd's alternativeMajorityCommittedIndex: for every acknowledged index,
// count the voters that acknowledged it or more; the largest index with a
// majority of such voters is committed.
inline Index AlternativeMajorityCommittedIndex(const MajorityConfig& c, const AckedIndexer& l) {
  if (c.empty()) return kInfiniteIndex;
  std::map<Index, size_t> votes_at_or_above;
  std::vector<Index> acked;
  for (uint64_t id : c) {
    if (auto idx = l.AckedIndex(id)) acked.push_back(*idx);
  }
  for (Index idx : acked) votes_at_or_above[idx] = 0;
  for (Index idx : acked) {
    for (auto& [idy, n] : votes_at_or_above) {
      if (idy <= idx) ++n;
    }
  }
  const size_t q = c.size() / 2 + 1;
  Index max_quorum_idx = 0;
  for (const auto& [idx, n] : votes_at_or_above) {
    if (n >= q && idx > max_quorum_idx) max_quorum_idx = idx;
  }
  return max_quorum_idx;
}

// A second, independent reference: sort the indexes (unknown = 0) in
// descending order; the (n/2+1)-th largest is acknowledged by a majority.
inline Index SortedMajorityCommittedIndex(const MajorityConfig& c, const AckedIndexer& l) {
  if (c.empty()) return kInfiniteIndex;
  std::vector<Index> idxs;
  for (uint64_t id : c) idxs.push_back(l.AckedIndex(id).value_or(0));
  std::sort(idxs.rbegin(), idxs.rend());
  return idxs[c.size() / 2];
}

}  // namespace raftlog::raft::quorum::test
