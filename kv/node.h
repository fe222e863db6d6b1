// Node: one member of the replicated key-value service. It owns the RawNode,
// the storage (DiskStorage, or MemoryStorage for benchmarks), the state
// machine, the log writer thread and the transport, and runs the Ready loop
// on its own thread.
//
// The Ready loop (Config::async_storage_writes; docs/kv.md explains it):
//   - inputs arrive in an inbox (messages from peers, responses of the log
//     writer, client requests, transport reports) and the loop drains it,
//     ticking every tick interval;
//   - for each Ready, MsgStorageAppend goes to the LogWriter (its own thread:
//     the disk works while the loop goes on), MsgStorageApply is applied on
//     the loop thread at once (a map update is cheaper than a hand-off), and
//     every other message goes to the transport straight away; raft itself
//     holds back what must wait for the disk inside the append's responses;
//   - after applying, reads whose ReadIndex is applied are served, and every
//     `snapshot_interval` entries the state machine is snapshotted and the
//     log compacted.
//
// Client operations block the calling (HTTP) thread until they complete or
// time out. Their outcomes are the contract the harness checks:
//   kOk         done, linearizable;
//   kNotLeader  refused before anything was proposed (definitely not done);
//   kUnavailable refused by raft before it entered the log (not done);
//   kTimeout    the outcome is unknown: the entry may still commit.
//
// Thread-safety: the public methods may be called from any thread.

#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "kv/codec.h"
#include "kv/log.h"
#include "raftlog/engine/log_writer.h"
#include "kv/state_machine.h"
#include "kv/transport.h"
#include "raftlog/format/result.h"
#include "raftlog/port/mutex.h"
#include "raftlog/raft/rawnode.h"
#include "raftlog/raft/storage.h"

namespace raftlog::engine {
class DiskStorage;
}

namespace raftlog::kv {

struct NodeOptions {
  uint64_t id = 0;
  std::string data_dir;
  // "disk" (DiskStorage, fdatasync per write batch), "disk-nosync"
  // (DiskStorage without fdatasync) or "memory" (MemoryStorage: nothing
  // survives a restart; benchmarks only).
  std::string storage = "disk";
  // Every member at bootstrap (id -> "host:port"), this node included. With
  // `join` the addresses of the current members, to reach them until the
  // snapshot that the leader sends tells the rest.
  std::map<uint64_t, std::string> peers;
  bool join = false;
  std::chrono::milliseconds tick{100};
  int election_tick = 10;
  int heartbeat_tick = 1;
  uint64_t snapshot_interval = 10000;  // applied entries between snapshots
  uint64_t snapshot_keep = 5000;       // entries kept behind a snapshot for slow followers
  std::chrono::milliseconds request_timeout{3000};
  // A deliberate bug, for testing the fault harness only: serve reads from
  // the local state on any node, without ReadIndex (stale reads).
  bool unsafe_stale_reads = false;
};

struct Outcome {
  enum class Code { kOk, kNotLeader, kUnavailable, kTimeout, kInvalid };
  Code code = Code::kOk;
  std::string error;        // why, when not kOk
  std::string leader_addr;  // kNotLeader: where the leader is, if known
  bool cas_ok = true;       // kCas: whether the swap happened
  std::optional<std::string> value;  // get: the value; put/del/cas: the previous value
};

struct MemberInfo {
  uint64_t id = 0;
  std::string addr;
  bool learner = false;
};

struct NodeStatus {
  uint64_t id = 0;
  uint64_t term = 0;
  uint64_t lead = 0;
  std::string state;
  uint64_t commit = 0;
  uint64_t applied = 0;
  uint64_t snapshot_index = 0;
  bool removed = false;
  std::vector<MemberInfo> members;
};

class Node {
 public:
  // Opens the storage, bootstraps a new member (an initial snapshot holding
  // `peers` unless `join`) or restarts from what is on disk, and starts the
  // loop, writer and transport threads.
  static Result<std::unique_ptr<Node>> Start(NodeOptions options, const Log* log);
  ~Node();
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  // Client operations (see the outcomes above). Only the leader serves them.
  Outcome Get(const std::string& key);
  Outcome Write(Command command);
  // A membership change: kAddNode (add a voter, or promote a learner),
  // kAddLearnerNode, kRemoveNode. `addr` is needed to add.
  Outcome ChangeMembership(raft::ConfChangeType type, uint64_t node, const std::string& addr);

  // Messages from peers (the /raft handler).
  void Receive(std::vector<raft::Message> messages);

  NodeStatus GetStatus() const;
  // Prometheus text exposition of the node's raft, storage and transport
  // figures.
  std::string Metrics() const;
  Transport& transport() { return *transport_; }

  // Stops the threads and closes the storage. Idempotent.
  void Stop();

 private:
  struct Pending;
  struct ProposeEv {
    Command command;
    std::shared_ptr<Pending> pending;
  };
  struct ReadEv {
    std::string key;
    std::shared_ptr<Pending> pending;
    bool stale = false;  // NodeOptions::unsafe_stale_reads
  };
  struct ConfEv {
    raft::ConfChange cc;
    std::shared_ptr<Pending> pending;
  };
  struct UnreachableEv {
    uint64_t peer;
  };
  struct SnapStatusEv {
    uint64_t peer;
    bool ok;
  };
  using Event = std::variant<raft::Message, ProposeEv, ReadEv, ConfEv, UnreachableEv, SnapStatusEv>;
  struct ReadGroup;

  Node(NodeOptions options, const Log* log);
  Status Open();
  void Push(Event ev);
  Outcome Submit(Event ev, const std::shared_ptr<Pending>& pending);
  std::optional<Outcome> CheckLeader() const;

  void Run();
  void Handle(Event& ev);
  void HandleReadies();
  void Deliver(raft::Message m);
  void ApplyEntries(const std::vector<raft::Entry>& entries);
  void ApplyConfChange(const raft::Entry& entry);
  void RestoreSnapshot(const raft::Snapshot& snap);
  void ServeReads();
  void MaybeSnapshot();
  void ExpirePending();
  void PublishStatus();
  [[noreturn]] void Fatal(const std::string& what, const raftlog::Status& s) const;

  const NodeOptions options_;
  const Log* const log_;
  RaftLogger raft_logger_;

  std::unique_ptr<raft::WritableStorage> storage_;
  engine::DiskStorage* disk_ = nullptr;  // storage_ when it is a DiskStorage
  std::unique_ptr<Transport> transport_;
  std::unique_ptr<engine::LogWriter> writer_;
  std::unique_ptr<raft::RawNode> raft_;  // loop thread only, after Start

  // Loop-thread state.
  StateMachine sm_;
  raft::ConfState conf_state_;
  uint64_t applied_ = 0;
  uint64_t snapshot_index_ = 0;
  std::map<uint64_t, std::shared_ptr<Pending>> writes_;  // request id -> waiter
  std::map<uint64_t, std::shared_ptr<Pending>> confs_;
  std::map<std::string, std::shared_ptr<ReadGroup>> reads_by_ctx_;
  std::deque<std::shared_ptr<ReadGroup>> reads_ready_;  // index known, waiting for apply
  std::vector<ReadEv> reads_new_;                       // to batch into one ReadIndex
  std::mt19937_64 rng_;
  bool removed_ = false;

  port::Mutex inbox_mu_;
  port::CondVar inbox_cv_{&inbox_mu_};
  std::vector<Event> inbox_ GUARDED_BY(inbox_mu_);
  bool stop_ GUARDED_BY(inbox_mu_) = false;
  std::thread loop_;
  std::atomic<bool> stopped_{false};

  mutable port::Mutex status_mu_;
  NodeStatus status_ GUARDED_BY(status_mu_);

  // Counters for /metrics.
  std::atomic<uint64_t> proposals_{0}, proposals_dropped_{0}, writes_ok_{0}, writes_timeout_{0};
  std::atomic<uint64_t> reads_ok_{0}, reads_timeout_{0}, not_leader_{0};
  std::atomic<uint64_t> entries_applied_{0}, snapshots_created_{0}, snapshots_restored_{0};
  std::atomic<uint64_t> messages_received_{0}, ready_count_{0}, conf_changes_{0};
};

}  // namespace raftlog::kv
