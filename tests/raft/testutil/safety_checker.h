// SafetyChecker: Raft's safety properties (Raft paper, Figure 3), checked
// on what the nodes of a test cluster say and do, as they do it.
//
// The nodes (tests/raft/testutil/cluster_node.h) report every observation:
// their role and log after each input, what they persist, what they apply,
// the snapshots they apply or restart from. The checker keeps the history
// of the whole run (across crashes and restarts) and records a failure as
// soon as one of these breaks:
//
//   Election safety     at most one leader per term, ever.
//   Log matching        two logs that hold an entry with the same index and
//                       term are identical up to it. Checked through a
//                       registry of every entry persisted anywhere, keyed by
//                       (index, term), holding its content and the term of
//                       the entry before it: if every log agrees with the
//                       registry, equal (index, term) pairs have equal
//                       content and, by induction, equal prefixes.
//   Leader completeness an entry committed in term t is in the log of every
//                       leader of a term > t. When node X has commit index c
//                       and term tx, every entry up to c was committed in a
//                       term <= tx (X's commit index comes from itself as a
//                       leader of a term <= tx, or from such a leader), so
//                       each committed entry carries the lowest such bound;
//                       a leader of term T must hold every committed entry
//                       whose bound is < T.
//   State machine safety no two nodes apply different entries at the same
//                       index. Each node's state machine is a hash chain
//                       over the entries it applied; the chain at each
//                       index must be the same on every node, including
//                       after a restart or a snapshot (whose data carries the
//                       chain). Entries are applied in index order, each one
//                       exactly once per incarnation, and only if committed.
//   Committed entries   every node that knows an index to be committed has
//                       the same entry there.
//   Commit rule         a leader advances its commit index only to an
//                       entry of its own term (§5.4.2).
//   Durable state       a node's persisted term never decreases and its
//                       persisted vote never changes within a term, across
//                       crashes (a lost vote allows two leaders in a term).
//
// Thread-safety: not thread-safe; the single thread driving the cluster
// uses it.

#pragma once

#include <algorithm>
#include <cinttypes>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "raftlog/format/checksum.h"
#include "raftlog/format/coding.h"
#include "raftlog/raft/internal/raft_log.h"
#include "raftlog/raft/logger.h"
#include "raftlog/raft/node_status.h"
#include "raftlog/raft/ready.h"
#include "raftlog/raft/storage.h"
#include "raftlog/raft/types.h"

namespace raftlog::raft::testing {

// The state machine of a test node: how many entries it applied and a hash
// chain over them. Snapshots carry it as their data.
struct AppliedState {
  uint64_t index = 0;  // the last index applied (or of the snapshot)
  uint64_t chain = 0;  // hash of every applied entry up to index, in order

  friend bool operator==(const AppliedState&, const AppliedState&) = default;
};

// The hash of an entry's content (type and data), for the registries.
inline uint64_t ContentHash(const Entry& e) {
  const char type = static_cast<char>(e.type);
  return format::Checksum64(e.data, format::Checksum64(std::string_view(&type, 1)));
}

// The chain after applying `e` on top of `chain`.
inline uint64_t ChainHash(uint64_t chain, const Entry& e) {
  std::string buf;
  format::PutFixed64(&buf, e.index);
  format::PutFixed64(&buf, e.term);
  format::PutFixed64(&buf, ContentHash(e));
  return format::Checksum64(buf, chain);
}

// Snapshot data: the AppliedState, 16 bytes. Empty data (the initial
// ConfState-only snapshot) is the empty state.
inline std::string EncodeAppliedState(const AppliedState& s) {
  std::string out;
  format::PutFixed64(&out, s.index);
  format::PutFixed64(&out, s.chain);
  return out;
}

inline std::optional<AppliedState> DecodeAppliedState(std::string_view data) {
  if (data.empty()) return AppliedState{};
  if (data.size() != 16) return std::nullopt;
  return AppliedState{format::DecodeFixed64(data.data()), format::DecodeFixed64(data.data() + 8)};
}

class SafetyChecker {
 public:
  SafetyChecker() = default;
  SafetyChecker(const SafetyChecker&) = delete;
  SafetyChecker& operator=(const SafetyChecker&) = delete;

  // The failures found so far (empty: all good). Each names the node and
  // the property.
  const std::vector<std::string>& failures() const { return failures_; }
  bool failed() const { return !failures_.empty(); }

  // Node `id` (re)starts: its volatile observations are forgotten; its
  // state machine is rebuilt from `snapshot` (the storage's). Checks the
  // durable HardState against what the node persisted before.
  void OnStart(uint64_t id, const HardState& hs, const Snapshot& snapshot) {
    NodeState& n = nodes_[id];
    n.commit_scanned = 0;
    n.observed_commit.reset();
    n.applied = AppliedState{};
    OnPersistedHardState(id, hs);
    if (!IsEmptySnap(snapshot) || !snapshot.data.empty()) {
      OnSnapshotApplied(id, snapshot, "restart");
    }
  }

  // After every input (Step, Tick, proposal, Advance): the node's role and
  // its log in memory (which may hold entries not yet persisted).
  void OnObserve(uint64_t id, const BasicStatus& st, const internal::RaftLog& log) {
    const uint64_t term = st.hard_state.term;
    ScanCommitted(id, term, log);
    NodeState& n = nodes_[id];
    const std::optional<uint64_t> prev_commit = std::exchange(n.observed_commit, log.committed());
    if (st.soft_state.raft_state != StateType::kStateLeader) return;
    // The commit rule (§5.4.2): a leader commits by counting replicas only
    // entries of its own term (earlier ones follow).
    if (prev_commit && log.committed() > *prev_commit) {
      Result<uint64_t> t = log.Term(log.committed());
      if (t.ok() && *t != term) {
        Fail(StringPrintf("commit rule: leader %" PRIu64 " of term %" PRIu64
                          " advanced its commit index to %" PRIu64 ", an entry of term %" PRIu64,
                          id, term, log.committed(), *t));
      }
    }
    auto [it, inserted] = leaders_.emplace(term, id);
    if (it->second != id) {
      Fail(StringPrintf("election safety: %" PRIu64 " and %" PRIu64 " both lead term %" PRIu64,
                        it->second, id, term));
      return;
    }
    // A new leader must hold every entry known to be committed in an
    // earlier term. (Later, its log only grows while it leads; the
    // periodic CheckLeaderCompleteness covers commits learned after this.)
    if (inserted) CheckLeaderHolds(id, term, log);
  }

  // The node persisted `hs` (non-empty).
  void OnPersistedHardState(uint64_t id, const HardState& hs) {
    NodeState& n = nodes_[id];
    if (hs.term < n.durable_term) {
      Fail(StringPrintf("durable state: node %" PRIu64 " term went back from %" PRIu64
                        " to %" PRIu64,
                        id, n.durable_term, hs.term));
      return;
    }
    if (hs.term == n.durable_term && n.durable_vote != kNone && hs.vote != n.durable_vote) {
      Fail(StringPrintf("durable state: node %" PRIu64 " changed its vote in term %" PRIu64
                        " from %" PRIu64 " to %" PRIu64,
                        id, hs.term, n.durable_vote, hs.vote));
    }
    if (hs.term > n.durable_term || n.durable_vote == kNone) n.durable_vote = hs.vote;
    n.durable_term = hs.term;
  }

  // The node persisted `entries` (consecutive). `prev_term` is the term of
  // the entry before the first, if the node's log still has it.
  void OnPersistedEntries(uint64_t id, std::span<const Entry> entries,
                          std::optional<uint64_t> prev_term) {
    for (const Entry& e : entries) {
      RegisterEntry(id, e.index, e.term, ContentHash(e), prev_term);
      prev_term = e.term;
    }
  }

  // Checks a whole stored log against the registry (log matching), and
  // against the committed entries.
  void CheckStoredLog(uint64_t id, const Storage& s) {
    const uint64_t first = s.FirstIndex().value();
    const uint64_t last = s.LastIndex().value();
    Result<uint64_t> compaction_term = s.Term(first - 1);
    if (!compaction_term.ok()) {
      Fail(StringPrintf("storage: node %" PRIu64 " has no term at its compaction point %" PRIu64
                        ": %s",
                        id, first - 1, compaction_term.status().ToString().c_str()));
      return;
    }
    std::optional<uint64_t> prev_term = *compaction_term;
    if (first > 1) CheckCommittedTerm(id, first - 1, *prev_term, "compaction point");
    if (first > last) return;
    Result<std::vector<Entry>> ents = s.Entries(first, last + 1, kNoLimit);
    if (!ents.ok() || ents->size() != last + 1 - first) {
      Fail(StringPrintf("storage: node %" PRIu64 " cannot read [%" PRIu64 ", %" PRIu64 "]: %s", id,
                        first, last, ents.status().ToString().c_str()));
      return;
    }
    for (const Entry& e : *ents) {
      RegisterEntry(id, e.index, e.term, ContentHash(e), prev_term);
      prev_term = e.term;
    }
  }

  // The node applies `e` (committed, in order).
  void OnApply(uint64_t id, const Entry& e) {
    NodeState& n = nodes_[id];
    if (e.index != n.applied.index + 1) {
      Fail(StringPrintf("state machine safety: node %" PRIu64 " applies %" PRIu64 " after %" PRIu64,
                        id, e.index, n.applied.index));
      return;
    }
    CheckCommittedTerm(id, e.index, e.term, "applied entry");
    n.applied = AppliedState{e.index, ChainHash(n.applied.chain, e)};
    RecordApplied(id, n.applied, "applies");
  }

  // The node's state machine is replaced by `snapshot`'s (received from
  // the leader, or read from storage on restart).
  void OnSnapshotApplied(uint64_t id, const Snapshot& snapshot, std::string_view how) {
    const std::optional<AppliedState> st = DecodeAppliedState(snapshot.data);
    if (!st || st->index != snapshot.metadata.index) {
      Fail(StringPrintf("snapshot: node %" PRIu64 " (%.*s) got a snapshot at %" PRIu64
                        " with bad data",
                        id, static_cast<int>(how.size()), how.data(), snapshot.metadata.index));
      return;
    }
    if (st->index != 0) CheckCommittedTerm(id, st->index, snapshot.metadata.term, "snapshot");
    nodes_[id].applied = *st;
    RecordApplied(id, *st, how);
  }

  // The state machine of node `id` (to write in a snapshot).
  AppliedState applied(uint64_t id) const {
    auto it = nodes_.find(id);
    return it == nodes_.end() ? AppliedState{} : it->second.applied;
  }

  // Every current leader holds every entry committed in an earlier term,
  // including commits learned since it was elected.
  void CheckLeaderCompleteness(uint64_t id, uint64_t term, const internal::RaftLog& log) {
    CheckLeaderHolds(id, term, log);
  }

  // The term of the entry committed at `index`, if a node reported it.
  std::optional<uint64_t> committed_term(uint64_t index) const {
    if (index >= committed_.size() || !committed_[index].known) return std::nullopt;
    return committed_[index].term;
  }
  // The highest index known to be committed.
  uint64_t committed_index() const { return committed_.empty() ? 0 : committed_.size() - 1; }
  // The number of terms that had a leader.
  size_t leader_terms() const { return leaders_.size(); }
  // The leader of `term` (kNone if none was seen).
  uint64_t leader_of(uint64_t term) const {
    auto it = leaders_.find(term);
    return it == leaders_.end() ? kNone : it->second;
  }
  // The state machine of the most advanced node, for the final checks.
  uint64_t max_applied_index() const { return applied_.empty() ? 0 : applied_.size() - 1; }

 private:
  struct NodeState {
    uint64_t durable_term = 0;
    uint64_t durable_vote = kNone;
    uint64_t commit_scanned = 0;  // committed entries up to here were registered
    // The commit index at the last observation (none since the start).
    std::optional<uint64_t> observed_commit;
    AppliedState applied;
  };
  struct EntryInfo {
    uint64_t content = 0;
    std::optional<uint64_t> prev_term;
  };
  struct Committed {
    bool known = false;
    uint64_t term = 0;
    uint64_t bound = 0;  // committed in a term <= bound
  };

  void Fail(std::string msg) { failures_.push_back(std::move(msg)); }

  void RegisterEntry(uint64_t id, uint64_t index, uint64_t term, uint64_t content,
                     std::optional<uint64_t> prev_term) {
    auto [it, inserted] = entries_.try_emplace({index, term}, EntryInfo{content, prev_term});
    if (inserted) return;
    EntryInfo& info = it->second;
    if (info.content != content) {
      Fail(StringPrintf("log matching: node %" PRIu64 " holds a different entry at index %" PRIu64
                        " term %" PRIu64,
                        id, index, term));
    }
    if (prev_term && info.prev_term && *prev_term != *info.prev_term) {
      Fail(StringPrintf("log matching: node %" PRIu64 " has term %" PRIu64 " at index %" PRIu64
                        " before (%" PRIu64 ", %" PRIu64 "), another log has term %" PRIu64,
                        id, *prev_term, index - 1, index, term, *info.prev_term));
    }
    if (!info.prev_term) info.prev_term = prev_term;
  }

  // Registers the entries the node knows to be committed.
  void ScanCommitted(uint64_t id, uint64_t term, const internal::RaftLog& log) {
    NodeState& n = nodes_[id];
    const uint64_t commit = log.committed();
    for (uint64_t i = std::max(n.commit_scanned, log.FirstIndex() - 1) + 1; i <= commit; ++i) {
      Result<uint64_t> t = log.Term(i);
      if (!t.ok()) {
        Fail(StringPrintf("node %" PRIu64 " commit %" PRIu64 " but no term at %" PRIu64 ": %s", id,
                          commit, i, t.status().ToString().c_str()));
        return;
      }
      if (committed_.size() <= i) committed_.resize(i + 1);
      Committed& c = committed_[i];
      if (!c.known) {
        c = Committed{true, *t, term};
        bounds_[term] = std::max(bounds_[term], i);
      } else if (c.term != *t) {
        Fail(StringPrintf("committed entries: node %" PRIu64 " has term %" PRIu64
                          " at committed index %" PRIu64 ", another node committed term %" PRIu64,
                          id, *t, i, c.term));
        return;
      } else if (term < c.bound) {
        c.bound = term;
        bounds_[term] = std::max(bounds_[term], i);
      }
    }
    n.commit_scanned = std::max(n.commit_scanned, commit);
  }

  void CheckCommittedTerm(uint64_t id, uint64_t index, uint64_t term, std::string_view what) {
    if (index >= committed_.size() || !committed_[index].known) {
      Fail(StringPrintf("%.*s: node %" PRIu64 " has index %" PRIu64
                        " as committed, but no node reported its commit",
                        static_cast<int>(what.size()), what.data(), id, index));
      return;
    }
    if (committed_[index].term != term) {
      Fail(StringPrintf("%.*s: node %" PRIu64 " has term %" PRIu64 " at committed index %" PRIu64
                        ", the committed entry has term %" PRIu64,
                        static_cast<int>(what.size()), what.data(), id, term, index,
                        committed_[index].term));
    }
  }

  void CheckLeaderHolds(uint64_t id, uint64_t term, const internal::RaftLog& log) {
    // The highest committed index whose commit term is < term; by log
    // matching (checked separately) holding it means holding all below.
    uint64_t must_hold = 0;
    for (auto it = bounds_.begin(); it != bounds_.end() && it->first < term; ++it) {
      must_hold = std::max(must_hold, it->second);
    }
    if (must_hold == 0) return;
    if (must_hold > log.LastIndex()) {
      Fail(StringPrintf("leader completeness: leader %" PRIu64 " of term %" PRIu64
                        " lacks committed index %" PRIu64 " (its last index is %" PRIu64 ")",
                        id, term, must_hold, log.LastIndex()));
      return;
    }
    Result<uint64_t> t = log.Term(must_hold);
    if (!t.ok()) return;  // compacted: in the leader's snapshot, checked when applied
    if (*t != committed_[must_hold].term) {
      Fail(StringPrintf("leader completeness: leader %" PRIu64 " of term %" PRIu64
                        " has term %" PRIu64 " at committed index %" PRIu64 ", not %" PRIu64,
                        id, term, *t, must_hold, committed_[must_hold].term));
    }
  }

  void RecordApplied(uint64_t id, const AppliedState& st, std::string_view how) {
    if (st.index == 0) return;
    if (applied_.size() <= st.index) applied_.resize(st.index + 1);
    std::optional<uint64_t>& chain = applied_[st.index];
    if (!chain) {
      chain = st.chain;
    } else if (*chain != st.chain) {
      Fail(StringPrintf("state machine safety: node %" PRIu64 " (%.*s) has applied different "
                        "entries up to index %" PRIu64 " than another node",
                        id, static_cast<int>(how.size()), how.data(), st.index));
    }
  }

  std::vector<std::string> failures_;
  std::map<uint64_t, NodeState> nodes_;
  // term -> its leader.
  std::map<uint64_t, uint64_t> leaders_;
  // (index, term) -> the entry: every entry persisted by any node.
  std::map<std::pair<uint64_t, uint64_t>, EntryInfo> entries_;
  // index -> the committed entry there (committed_[0] unused).
  std::vector<Committed> committed_;
  // commit-term bound -> the highest committed index with that bound.
  std::map<uint64_t, uint64_t> bounds_;
  // index -> the hash chain of the state machine after applying it.
  std::vector<std::optional<uint64_t>> applied_;
};

}  // namespace raftlog::raft::testing
