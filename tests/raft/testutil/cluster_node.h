// ClusterNode: a RawNode running the Ready loop of raftlog/raft/rawnode.h over a
// WritableStorage, as a node of rafttest::Network, reporting everything it
// does to a SafetyChecker. For the randomized cluster tests
// (tests/raft/cluster_safety_test.cc).
//
// What it adds to rafttest::RawNodePeer:
//   - every observation goes to the SafetyChecker (role and log after each
//     input; persisted HardState and entries; applied entries and
//     snapshots), and the state machine is the checker's hash chain;
//   - crashes: CrashAtNextReady() makes the node die while handling its
//     next Ready, before saving it, after saving it, or after sending its
//     messages (but before applying and Advance). A crashed node ignores
//     everything; the test then rebuilds it from its storage;
//   - snapshots: TakeSnapshot() snapshots the state machine into the
//     storage and compacts the log; snapshots received are applied, and
//     each MsgSnap sent is reported (ReportSnapshot) as finished or,
//     sometimes, failed; the stored snapshot follows membership changes
//     (see RefreshSnapshot);
//   - reproducible election timeouts: the raft core seeds its randomized
//     election timeout from std::random_device, which would make runs
//     unrepeatable. The node overrides it from its own seeded generator
//     whenever the election clock is at 0 after an input, which is the case
//     after every re-randomization (the core re-rolls the timeout only in
//     Reset, which zeroes the clock). Re-drawing at other moments when the
//     clock is 0 (a heartbeat) keeps the distribution: the timeout only
//     counts from there.
//
// Thread-safety: not thread-safe; one thread drives the network.

#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "raftlog/format/result.h"
#include "raftlog/format/status.h"
#include "raftlog/raft/conf_change.h"
#include "raftlog/raft/config.h"
#include "raftlog/raft/internal/raft.h"
#include "tests/rafttest/network.h"
#include "raftlog/raft/rawnode.h"
#include "raftlog/raft/storage.h"
#include "raftlog/raft/types.h"
#include "tests/raft/testutil/safety_checker.h"

namespace raftlog::raft::testing {

// Where a node dies while handling a Ready.
enum class CrashPoint : uint8_t {
  kNone,
  kBeforeSave,  // nothing of the Ready persisted, sent or applied
  kAfterSave,   // persisted; messages not sent
  kAfterSend,   // persisted and sent; not applied, no Advance
};

inline const char* CrashPointName(CrashPoint p) {
  switch (p) {
    case CrashPoint::kNone:
      return "none";
    case CrashPoint::kBeforeSave:
      return "before-save";
    case CrashPoint::kAfterSave:
      return "after-save";
    case CrashPoint::kAfterSend:
      return "after-send";
  }
  return "?";
}

class ClusterNode final : public rafttest::StateMachine {
 public:
  // Starts (or restarts) node config.id over `storage`, from whatever the
  // storage holds: the state machine is rebuilt from the storage's snapshot
  // (so Config::applied is the snapshot's index) and the committed entries
  // after it.
  // `storage` and `checker` are borrowed and must outlive the node. `seed`
  // drives the election timeouts and the snapshot reports.
  static Result<std::unique_ptr<ClusterNode>> Start(Config config, WritableStorage* storage,
                                                    SafetyChecker* checker, uint64_t seed) {
    config.storage = storage;
    RAFTLOG_ASSIGN_OR_RETURN(StoredState initial, storage->InitialState());
    RAFTLOG_ASSIGN_OR_RETURN(Snapshot snap, storage->Snapshot());
    RAFTLOG_ASSIGN_OR_RETURN(uint64_t first, storage->FirstIndex());
    if (!IsEmptyHardState(initial.hard_state) && initial.hard_state.commit + 1 < first) {
      // raft would abort ("state.commit %d is out of range"): report it.
      return Status::Corruption("stored commit index " + std::to_string(initial.hard_state.commit) +
                                " is below the compaction point " + std::to_string(first - 1));
    }
    config.applied = snap.metadata.index;
    checker->OnStart(config.id, initial.hard_state, snap);
    RAFTLOG_ASSIGN_OR_RETURN(std::unique_ptr<RawNode> node, RawNode::New(config));
    auto n = std::unique_ptr<ClusterNode>(
        new ClusterNode(config.id, std::move(node), storage, checker, seed));
    n->conf_state_ = initial.conf_state;
    n->AfterInput();
    return n;
  }

  Status Step(Message m) override {
    if (crashed_) return Status::OK();
    return node_->Step(std::move(m));
  }

  void Tick() override {
    if (!crashed_) node_->Tick();
  }

  // The Ready loop, exactly as raftlog/raft/rawnode.h specifies it, for every Ready
  // available: persist, send, apply, Advance.
  std::vector<Message> ReadMessages() override {
    std::vector<Message> out;
    if (crashed_) return out;
    AfterInput();
    while (!crashed_ && node_->HasReady()) {
      raft::Ready rd = node_->Ready();
      if (crash_ == CrashPoint::kBeforeSave) {
        crashed_ = true;
        break;
      }
      // 1. Persist.
      Status s = storage_->Save(rd.hard_state, rd.entries, rd.snapshot.get(), rd.must_sync);
      if (!s.ok()) {
        storage_error_ = std::move(s);
        crashed_ = true;
        break;
      }
      if (!IsEmptyHardState(rd.hard_state)) checker_->OnPersistedHardState(id_, rd.hard_state);
      if (!rd.entries.empty()) {
        Result<uint64_t> prev = storage_->Term(rd.entries.front().index - 1);
        checker_->OnPersistedEntries(id_, rd.entries,
                                     prev.ok() ? std::optional<uint64_t>(*prev) : std::nullopt);
      }
      if (crash_ == CrashPoint::kAfterSave) {
        crashed_ = true;
        break;
      }
      // 2. Send.
      std::vector<uint64_t> snapshots_sent;
      for (Message& m : rd.messages) {
        if (m.type == MessageType::kMsgSnap) snapshots_sent.push_back(m.to);
        out.push_back(std::move(m));
      }
      if (crash_ == CrashPoint::kAfterSend) {
        crashed_ = true;
        break;
      }
      // 3. Apply.
      if (rd.HasSnapshot()) {
        checker_->OnSnapshotApplied(id_, *rd.snapshot, "snapshot");
        conf_state_ = rd.snapshot->metadata.conf_state;
      }
      for (const Entry& e : rd.committed_entries) {
        if (e.type == EntryType::kConfChange || e.type == EntryType::kConfChangeV2) {
          Result<ConfChangeI> cc = ConfChangeFromEntry(e);
          if (!cc.ok()) {
            storage_error_ = cc.status();
            crashed_ = true;
            return out;
          }
          conf_state_ = node_->ApplyConfChange(*cc);
          ++conf_changes_applied_;
          checker_->OnApply(id_, e);
          if (Status s = RefreshSnapshot(); !s.ok()) {
            storage_error_ = std::move(s);
            crashed_ = true;
            return out;
          }
          continue;
        }
        checker_->OnApply(id_, e);
      }
      // 4. Acknowledge.
      node_->Advance();
      // The transport's report for each snapshot sent (it is handed over;
      // a real transport may fail, which makes the leader probe again).
      for (uint64_t to : snapshots_sent) {
        node_->ReportSnapshot(to, rng_() % 4 == 0 ? SnapshotStatus::kSnapshotFailure
                                                  : SnapshotStatus::kSnapshotFinish);
      }
      AfterInput();
    }
    return out;
  }

  // The node dies while handling its next Ready (kNone: no crash pending).
  void CrashAtNextReady(CrashPoint p) { crash_ = p; }
  CrashPoint pending_crash() const { return crash_; }
  bool crashed() const { return crashed_; }
  // Why the node stopped on its own (a storage or decoding error), if it did.
  const Status& storage_error() const { return storage_error_; }

  // Stores a snapshot of the state machine (at the applied index, with the
  // ConfState in force there) and compacts the log, keeping the `keep`
  // entries before the snapshot index. OK if there is nothing new to
  // snapshot.
  Status TakeSnapshot(uint64_t keep) {
    const AppliedState st = checker_->applied(id_);
    RAFTLOG_ASSIGN_OR_RETURN(uint64_t first, storage_->FirstIndex());
    if (st.index < first) return Status::OK();  // nothing applied since the last one
    Result<Snapshot> snap =
        storage_->CreateSnapshot(st.index, &conf_state_, EncodeAppliedState(st));
    if (!snap.ok() && !snap.status().IsSnapshotOutOfDate()) return snap.status();
    if (st.index < keep + first) return Status::OK();
    return storage_->Compact(st.index - keep);
  }

  // Once the log has been compacted, a node that joins (or rejoins) the
  // configuration may be sent the storage's snapshot, and raft refuses a
  // snapshot whose ConfState lacks the recipient ("attempted to restore
  // snapshot but it is not in the ConfState"), so the leader would send it
  // again and again. etcd's server sends a snapshot of its current applied
  // state instead (createMergedSnapshotMessage); this application keeps
  // its stored snapshot current with the configuration: after applying a
  // conf change it snapshots at that index, unless it never snapshotted.
  Status RefreshSnapshot() {
    RAFTLOG_ASSIGN_OR_RETURN(Snapshot stored, storage_->Snapshot());
    if (IsEmptySnap(stored)) return Status::OK();
    const AppliedState st = checker_->applied(id_);
    Result<Snapshot> snap =
        storage_->CreateSnapshot(st.index, &conf_state_, EncodeAppliedState(st));
    return snap.ok() || snap.status().IsSnapshotOutOfDate() ? Status::OK() : snap.status();
  }

  uint64_t id() const { return id_; }
  RawNode& node() { return *node_; }
  const RawNode& node() const { return *node_; }
  internal::Raft& raft() { return node_->raft(); }
  const internal::Raft& raft() const { return node_->raft(); }
  WritableStorage& storage() { return *storage_; }
  // The configuration the state machine is at (applied conf changes).
  const ConfState& conf_state() const { return conf_state_; }
  uint64_t applied_index() const { return checker_->applied(id_).index; }
  uint64_t conf_changes_applied() const { return conf_changes_applied_; }

 private:
  ClusterNode(uint64_t id, std::unique_ptr<RawNode> node, WritableStorage* storage,
              SafetyChecker* checker, uint64_t seed)
      : id_(id), node_(std::move(node)), storage_(storage), checker_(checker), rng_(seed) {}

  // After every input: make the election timeout reproducible (see the file
  // comment) and report the node's state.
  void AfterInput() {
    internal::Raft& r = node_->raft();
    if (r.election_elapsed() == 0) {
      const int et = r.election_timeout();
      r.set_randomized_election_timeout(et + static_cast<int>(rng_() % static_cast<uint64_t>(et)));
    }
    checker_->OnObserve(id_, node_->GetBasicStatus(), r.raft_log());
  }

  const uint64_t id_;
  std::unique_ptr<RawNode> node_;
  WritableStorage* storage_;  // borrowed
  SafetyChecker* checker_;    // borrowed
  std::mt19937_64 rng_;
  ConfState conf_state_;
  CrashPoint crash_ = CrashPoint::kNone;
  bool crashed_ = false;
  Status storage_error_;
  uint64_t conf_changes_applied_ = 0;
};

}  // namespace raftlog::raft::testing
