// LogWriter: a storage append thread for a node that runs the raft core with
// asynchronous storage writes (Config::async_storage_writes: the Ready's
// MsgStorageAppend goes to raft::kLocalAppendThread, etcd's
// AsyncStorageWrites).
//
// The raft loop hands every MsgStorageAppend to Submit() and goes on at once
// (proposing, sending, applying, ticking) while the writer persists: this is
// what lets the disk, the network and the application overlap. Appends that
// arrive while a sync is in flight wait and are persisted together with one
// sync (group commit): the writer drains everything queued at once. The writer persists the messages in
// submission order (the HardState carried in term/vote/commit, the snapshot,
// the entries) and, once they are durable, passes each message's responses
// to the `done` callback in the same order. The node then delivers them:
// those addressed to itself back into RawNode::Step, the others to peers.
//
// The simple alternative stays: a loop that calls WritableStorage::Save on
// its own thread before sending a Ready's messages (examples/ready_loop.cc);
// kv/node.cc drives this one.
//
// Errors: a failed write leaves the node unable to promise anything it has
// acknowledged, so `on_error` is called once and the writer stops writing
// (an application should stop the node: raft treats a storage error as
// fatal). Responses of messages not yet persisted are never delivered.
//
// Thread-safety: Submit, Stop and the counters may be called from any
// thread; callbacks run on the writer's thread, one at a time. The storage
// must allow reads from other threads while the writer saves (DiskStorage
// and MemoryStorage do).

#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "raftlog/format/status.h"
#include "raftlog/raft/storage.h"
#include "raftlog/raft/types.h"

namespace raftlog::engine {

class LogWriter {
 public:
  using Done = std::function<void(std::vector<raft::Message> responses)>;
  using OnError = std::function<void(const Status& error)>;

  virtual ~LogWriter() = default;
  // Queues a MsgStorageAppend (its `responses` are delivered once durable).
  virtual void Submit(raft::Message append) = 0;
  // Persists what is queued, then stops the thread. Idempotent.
  virtual void Stop() = 0;
  // Messages submitted and not yet persisted (a gauge for metrics).
  virtual size_t queued() const = 0;
  // Batches persisted (each one drain of the queue) and the storage syncs
  // they asked for: messages per sync shows how well appends are grouped.
  virtual uint64_t batches() const = 0;
  virtual uint64_t syncs() const = 0;
  // Nanoseconds the writer spent persisting batches (saving, syncing and
  // handing out responses), since it started. Over wall time it is the
  // writer's busy share: how much of the time the disk had work from it.
  virtual uint64_t busy_ns() const = 0;
};

// A writer on its own thread over `storage` (borrowed; must outlive the
// writer). It drains everything queued at once and persists the batch with
// one sync (SyncPlan), so a burst of Readys costs one fdatasync.
std::unique_ptr<LogWriter> NewThreadedLogWriter(raft::WritableStorage* storage,
                                                LogWriter::Done done, LogWriter::OnError on_error);

// Which messages of a batch of MsgStorageAppends the writer saves with
// must_sync, in order. A message needs a sync if it carries entries, a
// snapshot, or a new term or vote (etcd's MustSync; `last` is the HardState
// saved before the batch, updated). The batch is saved in order and only the
// last message that carries entries is synced, if anything up to it needed
// a sync: DiskStorage's fdatasync of the active segment makes the earlier
// unsynced frames durable too (a segment roll syncs the sealed segment). A
// message after it is synced only if it needs it itself (a new term or vote;
// DiskStorage makes those durable in any case). Public for tests.
std::vector<bool> SyncPlan(const std::vector<raft::Message>& batch, raft::HardState* last);

}  // namespace raftlog::engine
