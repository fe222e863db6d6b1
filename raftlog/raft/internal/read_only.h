// ReadOnly: the leader's bookkeeping for linearizable reads (ReadIndex,
// Raft thesis §6.4), etcd raft's read_only.go as of v3.7 (etcd-io/raft pull request 397).
//
// In ReadOnlySafe mode the leader answers a read only after a quorum has
// confirmed, through heartbeat responses, that it is still the leader. Each
// read request gets a position in one sequence: the first request ever added
// is number 1, the next 2, and so on. A heartbeat carries, as its 8-byte
// little-endian context, the position of the last request queued when it was
// sent (HeartbeatCtx); followers echo the context back unchanged; the leader
// records, per voter, the highest position acknowledged (RecvAck). A request
// is confirmed once a quorum of voters acknowledged a position at or past it;
// that position is the quorum's "committed index" over the acks, computed
// with the quorum package's CommittedIndex over AckedIndex (MaybeAdvance).
// Requests are confirmed, and released, in order.
//
// What changed from v3.6. In v3.6 the context of a heartbeat was the request
// context of the latest read itself (the application's bytes), and the leader
// kept a map from request context to readIndexStatus{req, index, acks set}
// plus a FIFO of contexts (readIndexQueue); recvAck(id, ctx) added the voter
// to that request's ack set and returned it, raft checked VoteResult of the
// set, and advance(m) released every request up to that context
// (lastPendingRequestCtx gave the context for the next heartbeat). That
// broke on duplicate request contexts and cost a map entry and an ack set
// per read. v3.7 numbers the reads instead: acks is one integer per voter,
// the queue holds readIndexRequest{req, index} (v3.6's readIndexStatus
// without the acks), maybeAdvance replaces advance and heartbeatCtx replaces
// lastPendingRequestCtx, and one heartbeat round confirms every read queued
// before it.
//
// ReadState and ReadOnlyOption, which the application sees, live in the
// public raftlog/raft/read_state.h.
//
// Thread-safety: not thread-safe; owned by the raft state machine.

#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "raftlog/raft/read_state.h"
#include "raftlog/raft/types.h"

namespace raftlog::raft::internal {

// A queued read-only request (v3.6's readIndexStatus without its ack set).
struct ReadIndexRequest {
  // The original MsgReadIndex, from the local node or a follower.
  Message req;
  // The leader's commit index when the request arrived.
  uint64_t index = 0;
};

class ReadOnly {
 public:
  explicit ReadOnly(ReadOnlyOption option) : option_(option) {}

  ReadOnlyOption option() const { return option_; }

  // Queues a read-only request. commit_index is the raft log's committed
  // index when the request arrived; req is the original request message.
  void AddRequest(uint64_t commit_index, Message req);

  // Records a heartbeat acknowledgement from `from` carrying `ctx` (a context
  // made by HeartbeatCtx and echoed back). A voter's position never moves
  // backwards, so reordered responses are harmless. An empty context (a
  // heartbeat sent with no read pending) is ignored, as is one shorter than
  // 8 bytes (etcd would fail decoding it; only a broken peer sends one).
  void RecvAck(uint64_t from, std::string_view ctx);

  // The highest read position acknowledged by voter_id, if it acknowledged
  // any. This is the quorum package's AckedIndexer view of the acks.
  std::optional<uint64_t> AckedIndex(uint64_t voter_id) const;

  // Releases, in order, the requests confirmed by a quorum. `quorum_acked`
  // is the highest position acknowledged by a quorum of the current voters:
  // the quorum CommittedIndex computed over AckedIndex() (etcd passes the
  // JointConfig and calls c.CommittedIndex(ro)). Returns the newly confirmed
  // requests, oldest first; empty if none.
  // REQUIRES: quorum_acked <= the position of the last request added (acks
  // only ever echo positions from HeartbeatCtx).
  std::vector<ReadIndexRequest> MaybeAdvance(uint64_t quorum_acked);

  // The context to send with a heartbeat so that its acknowledgements
  // confirm every request queued so far: the position of the last queued
  // request, 8 bytes little-endian. Empty when no request is pending.
  std::string HeartbeatCtx() const;

  // The requests not yet confirmed, oldest first.
  const std::deque<ReadIndexRequest>& unconfirmed_reads() const { return unconfirmed_reads_; }
  // How many requests were confirmed and released so far.
  uint64_t confirmed_reads() const { return confirmed_reads_; }

 private:
  ReadOnlyOption option_;
  // Per voter (and learner, harmlessly: only voters are counted), the highest
  // read position it acknowledged.
  std::unordered_map<uint64_t, uint64_t> acks_;
  // The pending requests. unconfirmed_reads_[k] has position
  // confirmed_reads_ + 1 + k.
  std::deque<ReadIndexRequest> unconfirmed_reads_;
  // The number of requests confirmed and removed from the front of
  // unconfirmed_reads_ over this object's lifetime.
  uint64_t confirmed_reads_ = 0;
};

}  // namespace raftlog::raft::internal
