// Tests of the in-process test network (tests/rafttest/network.h): its fault
// injection (ports of etcd's rafttest/network_test.go) and clusters of
// RawNodes running the full Ready loop over a real storage (ports of etcd's
// rafttest/node_test.go). Cluster tests run on MemoryStorage and
// DiskStorage.

#include "tests/rafttest/network.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "raftlog/raft/rawnode.h"
#include "tests/raft/testutil/raft_test_util.h"

namespace raftlog::raft::testing {
namespace {

using rafttest::Network;
using rafttest::RawNodePeer;
using rafttest::StateMachine;

// Records what it receives; says nothing.
class Sink final : public StateMachine {
 public:
  Status Step(Message m) override {
    received.push_back(std::move(m));
    return Status::OK();
  }
  std::vector<Message> ReadMessages() override { return {}; }
  void Tick() override {}

  std::vector<Message> received;
};

std::vector<Message> MessagesFrom1To2(size_t n) {
  std::vector<Message> msgs(n);
  for (size_t i = 0; i < n; ++i) {
    msgs[i].from = 1;
    msgs[i].to = 2;
    msgs[i].index = i;
  }
  return msgs;
}

// Ports etcd's rafttest TestNetworkDrop: about 10% of the messages are
// dropped.
TEST(NetworkTest, Drop) {
  const size_t sent = 1000;
  const double droprate = 0.1;
  Network nt;
  nt.Drop(1, 2, droprate);
  const size_t received = nt.Filter(MessagesFrom1To2(sent)).size();
  const size_t drop = sent - received;
  EXPECT_LE(drop, static_cast<size_t>((droprate + 0.1) * sent));
  EXPECT_GE(drop, static_cast<size_t>((droprate - 0.1) * sent));
  EXPECT_EQ(nt.dropped(), drop);
  // Other links are unaffected.
  Message other;
  other.from = 2;
  other.to = 1;
  EXPECT_EQ(nt.Filter({other}).size(), 1u);
}

// Ports etcd's rafttest TestNetworkDelay and TestMessageReordering: delayed
// messages are held for the given number of ticks, then delivered, so they
// arrive after later ones; none is lost.
TEST(NetworkTest, DelayReordersWithoutLoss) {
  const size_t n = 1000;
  Network nt;
  auto sink = std::make_unique<Sink>();
  Sink* s = sink.get();
  nt.Add(1, std::make_unique<rafttest::BlackHole>());
  nt.Add(2, std::move(sink));
  nt.Delay(1, 2, /*ticks=*/3, /*probability=*/0.1);

  nt.Send(nt.Filter(MessagesFrom1To2(n)));
  const size_t held = nt.held();
  EXPECT_GT(held, n / 20);
  EXPECT_LT(held, n / 5);
  EXPECT_EQ(s->received.size(), n - held);

  nt.Tick();
  nt.Tick();
  EXPECT_EQ(s->received.size(), n - held) << "released too early";
  nt.Tick();
  EXPECT_EQ(nt.held(), 0u);
  ASSERT_EQ(s->received.size(), n);

  std::vector<uint64_t> received;
  for (const Message& m : s->received) received.push_back(m.index);
  std::vector<uint64_t> sent(n);
  for (size_t i = 0; i < n; ++i) sent[i] = i;
  EXPECT_NE(received, sent) << "received messages shall be reordered";
  std::sort(received.begin(), received.end());
  EXPECT_EQ(received, sent) << "all messages shall be received";
}

// Cut, Isolate, Partition, Ignore, the message hook and Recover.
TEST(NetworkTest, Faults) {
  Network nt;
  for (uint64_t id = 1; id <= 4; ++id) nt.Add(id, std::make_unique<Sink>());
  auto msg = [](uint64_t from, uint64_t to, MessageType type = MessageType::kMsgApp) {
    Message m;
    m.from = from;
    m.to = to;
    m.type = type;
    return m;
  };
  nt.Cut(1, 2);
  EXPECT_TRUE(nt.Filter({msg(1, 2)}).empty());
  EXPECT_TRUE(nt.Filter({msg(2, 1)}).empty());
  EXPECT_EQ(nt.Filter({msg(1, 3)}).size(), 1u);
  nt.Recover();
  nt.Isolate(4);
  EXPECT_TRUE(nt.Filter({msg(4, 1), msg(2, 4), msg(3, 4)}).empty());
  EXPECT_EQ(nt.Filter({msg(1, 3)}).size(), 1u);
  nt.Recover();
  nt.Partition({1, 2}, {3, 4});
  EXPECT_TRUE(nt.Filter({msg(1, 3), msg(4, 2)}).empty());
  EXPECT_EQ(nt.Filter({msg(1, 2), msg(3, 4)}).size(), 2u);
  nt.Recover();
  nt.Ignore(MessageType::kMsgHeartbeat);
  EXPECT_TRUE(nt.Filter({msg(1, 2, MessageType::kMsgHeartbeat)}).empty());
  EXPECT_EQ(nt.Filter({msg(1, 2)}).size(), 1u);
  nt.Recover();
  nt.SetMessageHook([](const Message& m) { return m.to != 3; });
  EXPECT_TRUE(nt.Filter({msg(1, 3)}).empty());
  EXPECT_EQ(nt.Filter({msg(1, 2)}).size(), 1u);
  nt.SetMessageHook(nullptr);
  EXPECT_EQ(nt.Filter({msg(1, 3)}).size(), 1u);

  // Messages to unknown nodes are dropped.
  const uint64_t dropped = nt.dropped();
  nt.Send(msg(1, 9));
  EXPECT_EQ(nt.dropped(), dropped + 1);
}

// A cluster of RawNodes, each over its own storage, bootstrapped with the
// same peers (etcd's rafttest startNode).
class RawNodeClusterTest : public RaftTestBase {
 protected:
  void Start(uint64_t n) {
    std::vector<Peer> peers;
    for (uint64_t id = 1; id <= n; ++id) peers.push_back(Peer{id, {}});
    for (uint64_t id = 1; id <= n; ++id) {
      storages_by_id_[id] = NewStorage();
      std::unique_ptr<RawNodePeer> p = NewPeer(id);
      ASSERT_TRUE(p->node().Bootstrap(peers).ok());
      nt_.Add(id, std::move(p));
    }
  }

  std::unique_ptr<RawNodePeer> NewPeer(uint64_t id) {
    Config c = NewTestConfig(id, 10, 1, storages_by_id_[id]);
    c.max_size_per_msg = 1024 * 1024;
    c.max_inflight_msgs = 256;
    Result<std::unique_ptr<RawNodePeer>> p = RawNodePeer::New(c, storages_by_id_[id]);
    EXPECT_TRUE(p.ok()) << p.status().ToString();
    return std::move(p).value();
  }

  RawNodePeer& node(uint64_t id) { return *static_cast<RawNodePeer*>(nt_.peer(id)); }

  // etcd's stop/restart: the node is torn down and restarted from its
  // storage.
  void Stop(uint64_t id) {
    stopped_[id] = nt_.Remove(id);
    stopped_[id].reset();
  }
  void Restart(uint64_t id) { nt_.Add(id, NewPeer(id)); }

  // etcd's waitStableLeader: ticks until a node leads among the
  // highest-term nodes. Returns its id.
  uint64_t WaitStableLeader() {
    for (int tick = 0; tick < 1000; ++tick) {
      uint64_t lead = kNone;
      uint64_t max_term = 0;
      for (uint64_t id : nt_.ids()) {
        const BasicStatus st = node(id).node().GetBasicStatus();
        if (st.hard_state.term > max_term) {
          lead = kNone;
          max_term = st.hard_state.term;
        }
        if (st.soft_state.raft_state == StateType::kStateLeader) lead = id;
      }
      if (lead != kNone) return lead;
      nt_.Tick();
    }
    ADD_FAILURE() << "no stable leader";
    return kNone;
  }

  // Proposes on node `id` and delivers the resulting traffic.
  void Propose(uint64_t id, int n) {
    for (int i = 0; i < n; ++i) {
      (void)node(id).node().Propose("somedata");
      nt_.Pump(id);
    }
  }

  // etcd's waitCommitConverge: ticks until every node's commit index is
  // the same and above `target`.
  bool WaitCommitConverge(uint64_t target) {
    for (int tick = 0; tick < 500; ++tick) {
      std::set<uint64_t> commits;
      size_t good = 0;
      for (uint64_t id : nt_.ids()) {
        const uint64_t commit = node(id).node().GetBasicStatus().hard_state.commit;
        commits.insert(commit);
        if (commit > target) ++good;
      }
      if (commits.size() == 1 && good == nt_.size()) return true;
      nt_.Tick();
    }
    return false;
  }

  Network nt_;
  std::map<uint64_t, WritableStorage*> storages_by_id_;
  std::map<uint64_t, std::unique_ptr<rafttest::StateMachine>> stopped_;
};

// Ports etcd's rafttest TestBasicProgress.
TEST_P(RawNodeClusterTest, BasicProgress) {
  Start(5);
  const uint64_t lead = WaitStableLeader();
  ASSERT_NE(lead, kNone);
  Propose(lead, 100);
  EXPECT_TRUE(WaitCommitConverge(100));
  // Every node applied the same entries, and persisted them.
  for (uint64_t id : nt_.ids()) {
    EXPECT_GT(node(id).applied_index(), 100u) << id;
    EXPECT_TRUE(node(id).storage_error().ok()) << id;
    Result<uint64_t> last = storages_by_id_[id]->LastIndex();
    ASSERT_TRUE(last.ok());
    EXPECT_GT(*last, 100u) << id;
  }
}

// Ports etcd's rafttest TestRestart: nodes are stopped and restarted from
// their storage while the others make progress.
TEST_P(RawNodeClusterTest, Restart) {
  Start(5);
  const uint64_t l = WaitStableLeader();
  ASSERT_NE(l, kNone);
  auto nth = [&](uint64_t k) { return (l - 1 + k) % 5 + 1; };
  const uint64_t k1 = nth(1);
  const uint64_t k2 = nth(2);

  Propose(l, 30);
  Stop(k1);
  Propose(nth(3), 30);  // forwarded to the leader
  Stop(k2);
  Propose(nth(4), 30);
  Restart(k2);
  Propose(l, 30);
  Restart(k1);

  EXPECT_TRUE(WaitCommitConverge(120));
}

// Ports etcd's rafttest TestPause: paused (isolated) followers catch up
// once resumed.
TEST_P(RawNodeClusterTest, Pause) {
  Start(5);
  const uint64_t lead = WaitStableLeader();
  ASSERT_NE(lead, kNone);
  auto nth = [&](uint64_t k) { return (lead - 1 + k) % 5 + 1; };

  Propose(lead, 30);
  nt_.Isolate(nth(1));
  Propose(lead, 30);
  nt_.Isolate(nth(2));
  Propose(lead, 30);
  nt_.Recover();
  nt_.Isolate(nth(1));
  Propose(lead, 30);
  nt_.Recover();

  EXPECT_TRUE(WaitCommitConverge(120));
}

// Progress despite a lossy, reordering network (drop 10% and delay 10% of
// the messages on every link).
TEST_P(RawNodeClusterTest, LossyNetwork) {
  Start(3);
  for (uint64_t a = 1; a <= 3; ++a) {
    for (uint64_t b = 1; b <= 3; ++b) {
      if (a == b) continue;
      nt_.Drop(a, b, 0.1);
      nt_.Delay(a, b, 2, 0.1);
    }
  }
  const uint64_t lead = WaitStableLeader();
  ASSERT_NE(lead, kNone);
  Propose(lead, 50);
  nt_.Recover();
  EXPECT_TRUE(WaitCommitConverge(40));
}

INSTANTIATE_TEST_SUITE_P(Storage, RawNodeClusterTest,
                         ::testing::Values(StorageKind::kMemory, StorageKind::kDisk),
                         StorageKindName);

}  // namespace
}  // namespace raftlog::raft::testing
