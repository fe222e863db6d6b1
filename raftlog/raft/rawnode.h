// RawNode: the application's interface to one raft node (etcd raft's
// rawnode.go and bootstrap.go).
//
// A RawNode is a single-threaded state machine. The application feeds it
// ticks, proposals and messages from peers, and collects the resulting work
// in Ready structs. It does no I/O itself.
//
// The Ready loop (synchronous storage writes, the default). Repeat:
//
//   rn->Tick() every tick interval; rn->Step(msg) for each message received;
//   rn->Propose(data) / ProposeConfChange(cc) / ReadIndex(ctx) as needed.
//   if (rn->HasReady()) {
//     Ready rd = rn->Ready();
//     1. Persist: storage.Save(rd.hard_state, rd.entries, rd.snapshot.get(),
//        rd.must_sync) (or SetHardState, ApplySnapshot, Append). With
//        rd.must_sync the write must be durable (fsync) before step 2.
//     2. Send rd.messages. NOT BEFORE step 1: they may acknowledge the
//        entries or carry a vote that must survive a crash. For each MsgSnap,
//        later call ReportSnapshot(to, kSnapshotFinish / kSnapshotFailure).
//     3. Apply rd.snapshot (if any), then rd.committed_entries in order; for
//        a conf-change entry call ApplyConfChange() (unless the application
//        rejects the change, in which case it must not call it). Serve the
//        reads of rd.read_states once applied up to their index.
//     4. rn->Advance(): acknowledges that steps 1 and 3 are done.
//   }
// Steps 2 and 3 may overlap (e.g. apply on another thread) as long as
// Advance() is called after the Ready is fully handled and before the next
// Ready(). A second Ready() before the Advance() of one that had something
// to acknowledge aborts.
//
// Asynchronous storage writes (Config::async_storage_writes): Advance() must
// not be called. Each Ready's messages may be sent at once; those addressed
// to kLocalAppendThread (MsgStorageAppend: entries, HardState, snapshot to
// persist) and kLocalApplyThread (MsgStorageApply: committed entries to
// apply) go to the application's storage threads, which process them in
// order per thread and, once done (durably, for an append with responses),
// deliver every message of Message::responses: to peers over the network,
// or back to this RawNode through Step().
//
// Errors (Status, with etcd's texts; see raftlog/raft/util.h): Propose* return
// ErrProposalDropped when the proposal was not accepted (no leader,
// forwarding disabled, a leadership transfer in progress, the uncommitted
// size quota); Step returns ErrStepLocalMsg / ErrStepPeerNotFound for
// messages that must not come from the network. Invariant violations (what
// etcd panics on) go to the Config's Logger Panic and abort.
//
// Ownership: the Storage and Logger of the Config are borrowed and must
// outlive the RawNode. Everything in a Ready belongs to the application.
//
// Thread-safety: not thread-safe. All calls on one RawNode must be
// serialized (typically one thread per node); different RawNodes are
// independent.

#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "raftlog/format/result.h"
#include "raftlog/format/status.h"
#include "raftlog/raft/conf_change.h"
#include "raftlog/raft/config.h"
#include "raftlog/raft/node_status.h"
#include "raftlog/raft/ready.h"
#include "raftlog/raft/tracker/progress.h"
#include "raftlog/raft/types.h"

namespace raftlog::raft {

namespace internal {
class Raft;
}

// A peer to bootstrap a group with (etcd's Peer): its id and the context of
// the ConfChangeAddNode entry that adds it.
struct Peer {
  uint64_t id = kNone;
  std::string context;
};

// The outcome of sending a snapshot, reported with ReportSnapshot (etcd's
// SnapshotStatus; same values).
enum class SnapshotStatus : uint8_t {
  kSnapshotFinish = 1,
  kSnapshotFailure = 2,
};

class RawNode {
 public:
  // Creates a node from `config`, restoring its state (HardState,
  // ConfState, log) from config.storage. Returns kInvalidArgument with
  // etcd's text if config.Validate() fails (etcd panics instead).
  //
  // A new group starts either from a Storage prepared by the application
  // (recommended: first index > 1 and the initial ConfState in its
  // snapshot) or with Bootstrap().
  static Result<std::unique_ptr<RawNode>> New(Config config);

  ~RawNode();
  RawNode(const RawNode&) = delete;
  RawNode& operator=(const RawNode&) = delete;

  // Advances the logical clock by one tick.
  void Tick();

  // Advances only the election clock, without any other processing, so
  // that a group known to be idle ("quiesced") can skip heartbeats and
  // elections. Be careful: this subverts the raft state machine. Deprecated
  // in etcd.
  void TickQuiesced();

  // Starts an election (a pre-vote first if enabled). OK even when the node
  // cannot campaign (it logs why).
  Status Campaign();

  // Proposes `data` to be appended to the log. ErrProposalDropped if the
  // proposal was refused (see above); OK means accepted locally or
  // forwarded, not committed.
  // The entry shares `data`'s bytes (no copy is made anywhere on the raft
  // path: the unstable log, the messages to every follower, MemoryStorage and
  // the committed entry all refer to them). A std::string passed with
  // std::move is taken over without copying.
  Status Propose(Bytes data);

  // Proposes a membership change (V1 or V2; an empty ConfChangeV2 leaves a
  // joint configuration). Errors as Propose. Unless
  // Config::disable_conf_change_validation, a change that is invalid for
  // the active configuration (one already pending, leave while not joint,
  // change while joint) is replaced by an empty normal entry.
  Status ProposeConfChange(const ConfChangeI& cc);

  // Applies a committed membership change; the application calls this when
  // it applies the change's entry (and not at all if it rejects the change).
  // Returns the resulting ConfState, to store with the next snapshot.
  // Aborts (etcd panics) if the change is invalid for the configuration.
  ConfState ApplyConfChange(const ConfChangeI& cc);

  // Feeds a message received from a peer (or, with async storage writes,
  // a response from a storage thread). ErrStepLocalMsg for a local message
  // type from a non-local sender; ErrStepPeerNotFound for a response from
  // an unknown peer; ErrProposalDropped for a refused forwarded proposal.
  Status Step(Message m);

  // Returns the pending work and marks it as handed out (see the Ready loop
  // above). Must be followed by Advance() before the next Ready() unless
  // async storage writes are enabled.
  raft::Ready Ready();

  // Whether Ready() would return anything.
  bool HasReady() const;

  // Acknowledges that the last Ready was handled (persisted, sent,
  // applied). Aborts if async storage writes are enabled.
  void Advance();

  // The node's status; allocates (copies the configuration, and the
  // progress map on a leader). etcd's Status().
  NodeStatus GetStatus() const;
  // The node's basic status; allocates nothing. etcd's BasicStatus().
  BasicStatus GetBasicStatus() const;
  // Calls visitor(id, type, progress) for every peer the node tracks, in id
  // order, without copying (the reference is valid during the call only).
  // Only meaningful on a leader.
  void WithProgress(const std::function<void(uint64_t id, ProgressType type,
                                             const tracker::Progress& pr)>& visitor) const;

  // Reports that the last message to `id` could not be sent: a leader
  // replicating to it optimistically goes back to probing.
  void ReportUnreachable(uint64_t id);
  // Reports the outcome of sending a snapshot to `id` (a MsgSnap of a
  // Ready).
  void ReportSnapshot(uint64_t id, SnapshotStatus status);
  // Asks the leader (this node or, forwarded, the current leader) to hand
  // leadership to `transferee`.
  void TransferLeader(uint64_t transferee);
  // Makes a follower forget its leader (keeping its term), so that it may
  // grant pre-votes and campaign at once instead of waiting for an election
  // timeout. A no-op on the leader; refused under kReadOnlyLeaseBased, whose
  // lease it would break. Useful when the application knows the leader is
  // gone.
  Status ForgetLeader();
  // Requests a linearizable read: once confirmed, a ReadState with the same
  // `rctx` appears in a Ready; the read may be served after applying up to
  // its index. With no leader the request is dropped (an INFO line is
  // logged); the caller retries after its own timeout.
  void ReadIndex(std::string rctx);

  // Initializes an empty storage's node for first use by appending (and
  // committing, and applying to the tracker) one ConfChangeAddNode entry
  // per peer at term 1. The entries appear in the next Ready like any other,
  // so the application persists and applies them. Errors
  // (kInvalidArgument): "must provide at least one peer to Bootstrap",
  // "can't bootstrap a nonempty Storage"; or the storage's error.
  // Prefer preparing the Storage instead (see New()).
  Status Bootstrap(const std::vector<Peer>& peers);

  // The state machine, for tests and the interaction harness.
  internal::Raft& raft() { return *raft_; }
  const internal::Raft& raft() const { return *raft_; }

 private:
  explicit RawNode(std::unique_ptr<internal::Raft> raft, bool async_storage_writes);

  // Whether committed entries may be applied before they are durable
  // locally: only with synchronous writes, where Advance() vouches for both.
  bool ApplyUnstableEntries() const { return !async_storage_writes_; }

  std::unique_ptr<internal::Raft> raft_;
  bool async_storage_writes_;

  // What the last accepted Ready handed out, to detect changes.
  SoftState prev_soft_state_;
  HardState prev_hard_state_;

  // What Advance() will step (synchronous writes): the messages to this
  // node that waited for the last Ready's state to be durable, then the
  // storage-append acknowledgement.
  std::vector<Message> steps_on_advance_;
  // And then the application acknowledgement (the MsgStorageApplyResp that
  // etcd steps), kept as numbers rather than a message so that the
  // committed entries need not be copied for it.
  bool applied_on_advance_ = false;
  uint64_t applied_index_on_advance_ = 0;
  uint64_t applied_size_on_advance_ = 0;
  uint64_t applied_payload_on_advance_ = 0;
};

}  // namespace raftlog::raft
