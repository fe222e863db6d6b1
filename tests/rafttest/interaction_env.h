// InteractionEnv: drives a group of RawNodes through datadriven scripts and
// prints what happens in etcd's exact formats (etcd raft's rafttest
// InteractionEnv, interaction_env*.go).
//
// Every node is a RawNode over its own WritableStorage (MemoryStorage unless
// InteractionOpts::storage_factory makes another kind, e.g. a DiskStorage).
// Messages are not delivered by themselves: they queue in the environment
// until a directive delivers (or drops) them, so a script controls every
// interleaving. The raft core's log lines go to the output as
// "<LEVEL> <message>", interleaved with the harness's own output, and a
// directive's output is compared with the script (see datadriven.h).
//
// As in etcd, every node applies committed entries to an "appender" state
// machine whose state is the concatenation of the applied data; after each
// applied entry the node records a snapshot of that state (its History), and
// the raft core's Storage::Snapshot() returns the newest one (not the
// storage's own snapshot). Conf-change entries are applied to the RawNode.
//
// Directives (see docs/raft.md §6.4 for the arguments):
//   add-nodes, campaign, compact, deliver-msgs, process-ready,
//   process-append-thread, process-apply-thread, stabilize, raft-log,
//   raft-state, status, tick-election, tick-heartbeat, transfer-leadership,
//   forget-leader, send-snapshot, propose, propose-conf-change,
//   report-unreachable, set-randomized-election-timeout, log-level,
//   _breakpoint.
//
// Errors. What etcd's handlers return as errors (a dropped proposal, a
// refused step, a storage failure, a malformed conf change) is printed in the
// output, as etcd does. A malformed directive (a missing or unparsable
// argument, an unknown node), which etcd reports with t.Fatal, is returned by
// Handle() as a non-OK status and ends the script. An invariant violation in
// the raft core (etcd's panic) aborts the process; the output collected so
// far for the directive is printed to stderr first.
//
// Thread-safety: not thread-safe; one thread drives an environment.

#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "raftlog/format/result.h"
#include "raftlog/format/status.h"
#include "raftlog/raft/conf_change.h"
#include "raftlog/raft/config.h"
#include "raftlog/raft/logger.h"
#include "tests/rafttest/datadriven.h"
#include "raftlog/raft/rawnode.h"
#include "raftlog/raft/storage.h"
#include "raftlog/raft/types.h"

namespace raftlog::raft::rafttest {

// Makes the (empty) storage of the node `id`.
using StorageFactory = std::function<Result<std::unique_ptr<WritableStorage>>(uint64_t id)>;

struct InteractionOpts {
  // Called with each new node's Config before the node is created (etcd's
  // OnConfig). It must not change the id nor set a logger.
  std::function<void(Config*)> on_config;
  // Makes each node's storage; null means a MemoryStorage.
  StorageFactory storage_factory;
};

class InteractionEnv {
 public:
  // The output levels (etcd's RedirectLogger levels); kNone silences all
  // output but errors.
  enum class Level { kDebug = 0, kInfo, kWarn, kError, kFatal, kNone };

  // One member of the group (etcd's rafttest.Node).
  struct Node {
    Node() = default;
    Node(const Node&) = delete;
    Node& operator=(const Node&) = delete;

    // What the node persists to, and what raft reads through (the storage
    // with Snapshot() answered from `history`). Declared before the RawNode
    // so that they outlive it.
    std::unique_ptr<WritableStorage> storage;
    std::unique_ptr<Storage> raft_storage;
    Config config;
    std::unique_ptr<RawNode> raw_node;
    // With async storage writes: the MsgStorageAppend / MsgStorageApply
    // messages waiting for the node's append / apply thread, oldest first.
    std::deque<Message> append_work;
    std::deque<Message> apply_work;
    // The appender state machine's snapshots, oldest first; never empty.
    std::vector<Snapshot> history;
  };

  // A recipient of deliver-msgs: its messages are delivered, or dropped.
  struct Recipient {
    uint64_t id = kNone;
    bool drop = false;
  };

  explicit InteractionEnv(InteractionOpts opts = {});
  ~InteractionEnv();
  InteractionEnv(const InteractionEnv&) = delete;
  InteractionEnv& operator=(const InteractionEnv&) = delete;

  // Runs one directive and returns its output ("ok" if it printed nothing).
  // Errors: InvalidArgument for a malformed directive (see above).
  Result<std::string> Handle(const TestData& d);

  // The operations behind the directives, for programmatic use. `idx` is a
  // node's index (its id - 1). REQUIRES: idx < nodes().size(). Each prints
  // into the output of the directive being handled.

  // Adds `n` nodes with consecutive ids, created from `snap` (when it is not
  // empty: applied to each storage, at term 1) and the template `cfg`.
  // Errors: "index must be specified as > 1 due to bootstrap"; storage and
  // RawNode::New errors.
  Status AddNodes(int n, Config cfg, Snapshot snap);
  // Handles one Ready of the node: persists and applies it (or, with async
  // storage writes, queues the storage-thread messages), queues its
  // messages, and advances.
  Status ProcessReady(size_t idx);
  // Processes the oldest message of the node's append / apply thread and
  // queues its responses.
  Status ProcessAppendThread(size_t idx);
  Status ProcessApplyThread(size_t idx);
  // Delivers or drops the queued messages to each recipient, of type `type`
  // only if given. Returns the number of messages handled.
  size_t DeliverMsgs(std::optional<MessageType> type, const std::vector<Recipient>& rs);
  // Repeats Ready handling, message delivery and storage-thread processing
  // on the given nodes (all if empty) until none of them has work left.
  Status Stabilize(const std::vector<size_t>& idxs);
  // Prints the node's log (from its storage).
  Status RaftLog(size_t idx);
  // Compacts the node's storage up to `index` and prints its log.
  Status Compact(size_t idx, uint64_t index);
  // Queues a MsgSnap with the newest snapshot of node `from` to node `to`.
  Status SendSnapshot(size_t from, size_t to);
  // Sets the output level by its name (case-insensitive: DEBUG, INFO, WARN,
  // ERROR, FATAL, NONE).
  Status SetLogLevel(std::string_view name);

  std::vector<std::unique_ptr<Node>>& nodes() { return nodes_; }
  // The queued (in-flight) messages, oldest first.
  std::vector<Message>& messages() { return messages_; }

 private:
  class OutputLogger;
  class SnapshotOverrideStorage;

  // Harness output, suppressed at kNone.
  void Out(std::string_view s);
  bool Quiet() const { return level_ == Level::kNone; }
  // Runs `f` with its output indented by two spaces.
  void WithIndent(const std::function<void()>& f);

  // Records a malformed-directive error (the first one wins) and returns OK,
  // so that handlers can `return Fatal(...)`.
  Status Fatal(Status s);
  Status Fatal(std::string_view msg) { return Fatal(Status::InvalidArgument(msg)); }

  // Directive handlers (interaction_env_handler.cc). `input` is the
  // directive's input as propose-conf-change reads it.
  Status HandleSingle(const std::string& cmd, const std::vector<CmdArg>& args,
                      const std::string& input);
  Status HandleAddNodes(const std::vector<CmdArg>& args);
  Status HandleProposeConfChange(const std::vector<CmdArg>& args, const std::string& input);
  Status HandleDeliverMsgs(const std::vector<CmdArg>& args);
  Status HandleStabilize(const std::vector<CmdArg>& args);
  Status HandleTransferLeadership(const std::vector<CmdArg>& args);
  Status HandleSetRandomizedElectionTimeout(const std::vector<CmdArg>& args);
  Status HandleRaftState();
  Status HandleStatus(size_t idx);
  // Runs `op` on each node of the arguments; with several, under a
  // "> <id> <header>" line and indented.
  Status ForEachNode(const std::vector<CmdArg>& args, std::string_view header,
                     const std::function<Status(size_t)>& op);

  // Argument helpers: a fatal error (returned as a non-OK Result) for a
  // missing, unparsable or out-of-range node.
  Result<int64_t> FirstAsInt(const std::vector<CmdArg>& args);
  Result<size_t> FirstAsNodeIdx(const std::vector<CmdArg>& args);
  Result<std::vector<size_t>> NodeIdxs(const std::vector<CmdArg>& args);

  // The steps of a Ready (etcd's processAppend / processApply).
  Status PersistAppend(Node& n, const HardState& hs, const std::vector<Entry>& entries,
                       const Snapshot* snap, bool must_sync);
  Status Apply(Node& n, const std::vector<Entry>& entries);

  InteractionOpts opts_;
  std::vector<std::unique_ptr<Node>> nodes_;
  std::vector<Message> messages_;
  Level level_ = Level::kDebug;
  std::unique_ptr<OutputLogger> logger_;
  // The directive's output, and where output goes now (an indented
  // section's own buffer inside WithIndent).
  std::string output_;
  std::string* out_ = &output_;
  Status fatal_;
};

}  // namespace raftlog::raft::rafttest
