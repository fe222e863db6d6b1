#include "raftlog/raft/quorum/majority.h"

#include <algorithm>
#include <array>
#include <cstdio>

namespace raftlog::raft::quorum {

MajorityConfig::MajorityConfig(std::initializer_list<uint64_t> ids)
    : MajorityConfig(std::vector<uint64_t>(ids)) {}

MajorityConfig::MajorityConfig(std::vector<uint64_t> ids) : ids_(std::move(ids)) {
  std::sort(ids_.begin(), ids_.end());
  ids_.erase(std::unique(ids_.begin(), ids_.end()), ids_.end());
}

bool MajorityConfig::Insert(uint64_t id) {
  auto it = std::lower_bound(ids_.begin(), ids_.end(), id);
  if (it != ids_.end() && *it == id) return false;
  ids_.insert(it, id);
  return true;
}

bool MajorityConfig::Erase(uint64_t id) {
  auto it = std::lower_bound(ids_.begin(), ids_.end(), id);
  if (it == ids_.end() || *it != id) return false;
  ids_.erase(it);
  return true;
}

bool MajorityConfig::Contains(uint64_t id) const {
  return std::binary_search(ids_.begin(), ids_.end(), id);
}

std::string MajorityConfig::String() const {
  std::string out = "(";
  for (size_t i = 0; i < ids_.size(); ++i) {
    if (i > 0) out += ' ';
    out += std::to_string(ids_[i]);
  }
  out += ')';
  return out;
}

std::string MajorityConfig::Describe(const AckedIndexer& acked) const {
  if (ids_.empty()) return "<empty majority quorum>";

  struct Row {
    uint64_t id;
    Index idx;   // 0 when unknown
    bool known;  // whether the indexer knew the voter
    size_t bar;  // length of the "x" bar drawn for this voter
  };
  const size_t n = ids_.size();
  std::vector<Row> rows;
  rows.reserve(n);
  for (uint64_t id : ids_) {
    std::optional<Index> idx = acked.AckedIndex(id);
    rows.push_back(Row{id, idx.value_or(0), idx.has_value(), 0});
  }

  // The bar of a voter is its rank in ascending index order, so the i-th
  // smallest index gets a bar of length i; a run of equal indexes shares the
  // bar of the first voter in the run.
  std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
    return a.idx != b.idx ? a.idx < b.idx : a.id < b.id;
  });
  for (size_t i = 1; i < n; ++i) {
    rows[i].bar = rows[i - 1].idx < rows[i].idx ? i : rows[i - 1].bar;
  }
  std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) { return a.id < b.id; });

  std::string out(n, ' ');
  out += "    idx\n";
  for (const Row& row : rows) {
    if (!row.known) {
      out += '?';
      out.append(n, ' ');
    } else {
      out.append(row.bar, 'x');
      out += '>';
      out.append(n - row.bar, ' ');
    }
    char line[64];
    std::snprintf(line, sizeof(line), " %5llu    (id=%llu)\n",
                  static_cast<unsigned long long>(row.idx),
                  static_cast<unsigned long long>(row.id));
    out += line;
  }
  return out;
}

Index MajorityConfig::CommittedIndex(const AckedIndexer& acked) const {
  const size_t n = ids_.size();
  if (n == 0) {
    // The neutral element of the min() in JointConfig::CommittedIndex: a
    // joint config with an empty half behaves like the other half.
    return kInfiniteIndex;
  }

  // Collect the acknowledged indexes on the stack for up to 7 voters (etcd's
  // bound); larger configurations are rare enough that one allocation does
  // not matter. Unknown voters count as 0: they may still report in.
  std::array<Index, 7> on_stack;
  std::vector<Index> on_heap;
  Index* idxs = on_stack.data();
  if (n > on_stack.size()) {
    on_heap.resize(n);
    idxs = on_heap.data();
  }
  for (size_t i = 0; i < n; ++i) idxs[i] = acked.AckedIndex(ids_[i]).value_or(0);

  // In ascending order, the index at position n - (n/2 + 1) is the smallest
  // one that n/2 + 1 voters (a majority) have acknowledged or exceeded.
  const size_t pos = n - (n / 2 + 1);
  std::nth_element(idxs, idxs + pos, idxs + n);
  return idxs[pos];
}

VoteResult MajorityConfig::VoteResult(const Votes& votes) const {
  if (ids_.empty()) {
    // By convention an empty config wins, so that a joint config with one
    // empty half decides like the other half.
    return VoteResult::kVoteWon;
  }
  size_t granted = 0;
  size_t missing = 0;
  for (uint64_t id : ids_) {
    auto it = votes.find(id);
    if (it == votes.end()) {
      ++missing;
    } else if (it->second) {
      ++granted;
    }
  }
  const size_t quorum = ids_.size() / 2 + 1;
  if (granted >= quorum) return VoteResult::kVoteWon;
  if (granted + missing >= quorum) return VoteResult::kVotePending;
  return VoteResult::kVoteLost;
}

}  // namespace raftlog::raft::quorum
