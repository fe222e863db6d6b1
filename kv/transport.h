// Transport: raft messages between kv nodes over HTTP/1.1 (cpp-httplib),
// with fault hooks for the fault harness.
//
// Each peer has one sender thread with a queue and one keep-alive
// connection. The thread takes everything queued for the peer and POSTs it as
// one batch (kv/codec.h) to http://<addr>/raft, so a burst of messages costs
// one round trip. The receiving side is the server's /raft handler, which
// decodes the batch and steps the messages into its node (kv/server.h).
//
// Sending never blocks the raft loop: Send() only queues. A full queue
// (the peer is slow or gone) drops the message, as raft tolerates lost
// messages; a failed POST drops the batch. Both are reported through
// `unreachable` (RawNode::ReportUnreachable), and a MsgSnap's outcome
// through `snapshot_status` (RawNode::ReportSnapshot).
//
// Fault hooks (testing only; the server enables them with a flag): traffic
// to and from a peer can be dropped, or delayed by a fixed time, which is how
// the harness partitions nodes on one machine. Rules act on both directions
// at this node, so isolating A from B needs a rule on A only.
//
// Thread-safety: every method may be called from any thread. Callbacks run
// on sender threads.

#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "kv/log.h"
#include "raftlog/port/mutex.h"
#include "raftlog/raft/types.h"

namespace raftlog::kv {

struct Fault {
  bool drop = false;
  uint32_t delay_ms = 0;
};

struct TransportStats {
  uint64_t messages_sent = 0;
  uint64_t batches_sent = 0;
  uint64_t bytes_sent = 0;
  uint64_t messages_dropped = 0;  // queue full, send failed, or a drop fault
  uint64_t send_failures = 0;     // POSTs that failed
};

class Transport {
 public:
  struct Callbacks {
    std::function<void(uint64_t peer)> unreachable;
    std::function<void(uint64_t peer, bool ok)> snapshot_status;
  };

  Transport(uint64_t self, Callbacks callbacks, const Log* log);
  ~Transport();
  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;

  // Adds a peer or changes its address ("host:port"). Ignores self.
  void SetPeer(uint64_t id, const std::string& addr);
  void RemovePeer(uint64_t id);
  std::map<uint64_t, std::string> Peers() const;

  // Queues messages to their peers (m.to). Messages to unknown peers are
  // dropped and reported unreachable.
  void Send(std::vector<raft::Message> messages);

  // Fault hooks.
  void SetFault(uint64_t peer, Fault fault);
  void ClearFaults();
  // Whether a message from `peer` must be dropped on arrival.
  bool DropIncoming(uint64_t peer) const;

  TransportStats Stats() const;
  // Stops every sender thread; later sends are dropped. Idempotent.
  void Stop();

 private:
  class Peer;
  Fault FaultFor(uint64_t peer) const;

  const uint64_t self_;
  const Callbacks callbacks_;
  const Log* const log_;

  mutable port::Mutex mu_;
  std::map<uint64_t, std::shared_ptr<Peer>> peers_ GUARDED_BY(mu_);
  std::map<uint64_t, Fault> faults_ GUARDED_BY(mu_);
  bool stopped_ GUARDED_BY(mu_) = false;

  std::atomic<uint64_t> messages_sent_{0};
  std::atomic<uint64_t> batches_sent_{0};
  std::atomic<uint64_t> bytes_sent_{0};
  std::atomic<uint64_t> messages_dropped_{0};
  std::atomic<uint64_t> send_failures_{0};
};

}  // namespace raftlog::kv
