// An in-process network of raft nodes, for tests and benchmarks (etcd raft's
// test `network` of raft_test.go, with the fault injection of its rafttest
// package).
//
// The network delivers messages synchronously: Send() hands a message to its
// target, collects what the target emits in response, and keeps delivering
// (breadth first) until no message is left in flight. Between deliveries it
// applies the faults configured:
//   Drop(from, to, p)      drops each message from -> to with probability p;
//   Cut(a, b)              drops everything between a and b, both ways;
//   Isolate(id)            cuts id from every other peer;
//   Partition(a, b)        cuts every peer of `a` from every peer of `b`;
//   Delay(from, to, t, p)  holds each message from -> to, with probability p,
//                          for t network ticks (Tick()), then delivers it;
//   Ignore(type)           drops every message of that type;
//   SetMessageHook(f)      drops every message for which f returns false;
//   Recover()              removes all of the above (held messages stay held).
// Randomness comes from a seeded generator, so a run is reproducible.
//
// The nodes are StateMachines: anything that steps messages and emits
// messages. Two kinds are provided here: BlackHole (a dead node) and
// RawNodePeer (a RawNode over a WritableStorage, processing each Ready fully:
// persist, apply, advance). Tests of the raft core plug in the bare state
// machine with their own adapter (tests/raft/testutil/).
//
// Messages to ids that are not in the network are dropped.
//
// Thread-safety: not thread-safe; one thread drives a Network.

#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <utility>
#include <vector>

#include "raftlog/format/result.h"
#include "raftlog/format/status.h"
#include "raftlog/raft/config.h"
#include "raftlog/raft/rawnode.h"
#include "raftlog/raft/storage.h"
#include "raftlog/raft/types.h"

namespace raftlog::raft::rafttest {

// A node of the network (etcd's stateMachine).
class StateMachine {
 public:
  virtual ~StateMachine() = default;

  // Delivers one message to the node. Its error, if any, is ignored by the
  // network (as etcd's is).
  virtual Status Step(Message m) = 0;

  // Completes the local work that the last Step()s produced (e.g. stepping
  // the self-addressed responses that wait for persistence) and returns the
  // messages the node wants to send.
  virtual std::vector<Message> ReadMessages() = 0;

  // Advances the node's logical clock by one tick.
  virtual void Tick() = 0;
};

// A node that swallows every message and says nothing (etcd's blackHole).
class BlackHole final : public StateMachine {
 public:
  Status Step(Message) override { return Status::OK(); }
  std::vector<Message> ReadMessages() override { return {}; }
  void Tick() override {}
};

// A RawNode in the synchronous Ready loop. ReadMessages() processes every
// available Ready: saves the HardState, snapshot and entries to the storage
// (WritableStorage::Save), applies the committed entries (conf changes are
// applied to the node; everything is reported to the optional apply hook),
// calls Advance(), and returns the Ready's messages.
class RawNodePeer final : public StateMachine {
 public:
  // Called for every committed entry the node applies, in order.
  using ApplyHook = std::function<void(const Entry& e)>;

  // Creates the RawNode of `config`, whose storage must be `storage` (or
  // nullptr, to use `storage`). `storage` is borrowed and must outlive the
  // peer. Errors: those of RawNode::New; kInvalidArgument with async
  // storage writes (not supported here).
  static Result<std::unique_ptr<RawNodePeer>> New(Config config, WritableStorage* storage);

  Status Step(Message m) override;
  std::vector<Message> ReadMessages() override;
  void Tick() override { node_->Tick(); }

  RawNode& node() { return *node_; }
  const RawNode& node() const { return *node_; }
  WritableStorage& storage() { return *storage_; }

  void set_apply_hook(ApplyHook hook) { apply_hook_ = std::move(hook); }

  // The index of the last entry applied (or of the last snapshot).
  uint64_t applied_index() const { return applied_index_; }
  // The first storage error met while persisting, if any (the peer stops
  // processing Readys after one).
  const Status& storage_error() const { return storage_error_; }

 private:
  RawNodePeer(std::unique_ptr<RawNode> node, WritableStorage* storage)
      : node_(std::move(node)), storage_(storage) {}

  std::unique_ptr<RawNode> node_;
  WritableStorage* storage_;  // borrowed
  ApplyHook apply_hook_;
  uint64_t applied_index_ = 0;
  Status storage_error_;
};

class Network {
 public:
  // An empty network; `seed` drives Drop/Delay's randomness.
  explicit Network(uint64_t seed = 1) : rng_(seed) {}
  // A network of `peers` with ids 1..n in order (etcd's newNetwork).
  explicit Network(std::vector<std::unique_ptr<StateMachine>> peers, uint64_t seed = 1);

  Network(Network&&) noexcept = default;
  Network& operator=(Network&&) noexcept = default;

  // Adds (or replaces) the node `id`.
  void Add(uint64_t id, std::unique_ptr<StateMachine> peer);
  // Removes the node `id`; messages to it are dropped from now on. Returns
  // the node.
  std::unique_ptr<StateMachine> Remove(uint64_t id);

  // The node `id`, or nullptr.
  StateMachine* peer(uint64_t id) const;
  // The ids of the nodes, ascending.
  std::vector<uint64_t> ids() const;
  size_t size() const { return peers_.size(); }

  // Delivers `msgs` in order, then everything they cause, until no message
  // is in flight (held messages excepted). The messages given here are
  // delivered as they are, without fault injection, like etcd's.
  void Send(std::vector<Message> msgs);
  void Send(Message m);

  // Ticks every node once, then delivers the messages this produced and the
  // held messages whose delay has expired.
  void Tick();

  // Delivers what node `id` wants to send now (e.g. after a proposal made
  // directly on it), through the faults, and everything that causes.
  void Pump(uint64_t id);

  void Drop(uint64_t from, uint64_t to, double probability);
  void Cut(uint64_t one, uint64_t other);
  void Isolate(uint64_t id);
  void Partition(const std::vector<uint64_t>& a, const std::vector<uint64_t>& b);
  void Delay(uint64_t from, uint64_t to, uint64_t ticks, double probability);
  void Ignore(MessageType type);
  // Messages for which `hook` returns false are dropped (etcd's msgHook).
  void SetMessageHook(std::function<bool(const Message&)> hook) { msg_hook_ = std::move(hook); }
  void Recover();

  // The messages currently held by Delay, in delivery order.
  size_t held() const { return held_.size(); }
  // Messages dropped by faults so far.
  uint64_t dropped() const { return dropped_; }
  // Messages delivered so far.
  uint64_t delivered() const { return delivered_; }

  // The faults applied to messages emitted by nodes: returns those that go
  // through now, holds the delayed ones.
  std::vector<Message> Filter(std::vector<Message> msgs);

 private:
  struct Link {
    uint64_t from;
    uint64_t to;
    friend auto operator<=>(const Link&, const Link&) = default;
  };
  struct DelaySpec {
    uint64_t ticks = 0;
    double probability = 0;
  };
  struct Held {
    uint64_t due;  // network tick at which it is delivered
    Message m;
  };

  double Uniform() { return std::uniform_real_distribution<double>(0.0, 1.0)(rng_); }

  std::map<uint64_t, std::unique_ptr<StateMachine>> peers_;
  std::map<Link, double> drop_;
  std::map<Link, DelaySpec> delay_;
  std::set<MessageType> ignore_;
  std::function<bool(const Message&)> msg_hook_;
  std::vector<Held> held_;
  uint64_t now_ = 0;  // network ticks
  uint64_t dropped_ = 0;
  uint64_t delivered_ = 0;
  std::mt19937_64 rng_;
};

}  // namespace raftlog::raft::rafttest
