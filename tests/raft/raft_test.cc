// Tests of the raft state machine: a port of etcd raft's raft_test.go.
// Each test names the etcd test it ports. Every test runs on MemoryStorage
// and on DiskStorage (the storage the nodes of a test read their log and
// initial state from).

#include "raftlog/raft/internal/raft.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "raftlog/raft/conf_change.h"
#include "raftlog/raft/logger.h"
#include "raftlog/raft/util.h"
#include "tests/raft/testutil/raft_test_util.h"

namespace raftlog::raft::testing {
namespace {

using tracker::StateType::kStateProbe;
using tracker::StateType::kStateReplicate;
using tracker::StateType::kStateSnapshot;
constexpr StateType kFollower = StateType::kStateFollower;
constexpr StateType kCandidate = StateType::kStateCandidate;
constexpr StateType kLeader = StateType::kStateLeader;
constexpr StateType kPreCandidate = StateType::kStatePreCandidate;

class RaftTest : public RaftTestBase {
 protected:
  // etcd's newTestLearnerRaft (the same as newTestRaft nowadays).
  std::unique_ptr<Raft> NewTestLearnerRaft(uint64_t id, int election, int heartbeat,
                                           const Storage* s) {
    return NewTestRaft(id, election, heartbeat, s);
  }
};

Message Hup(uint64_t id) { return Msg(id, id, MessageType::kMsgHup); }
Message Beat(uint64_t id) { return Msg(id, id, MessageType::kMsgBeat); }
Message Prop(uint64_t from, uint64_t to, std::string data = "somedata") {
  return PropMsg(from, to, std::move(data));
}
// A MsgProp with one empty entry (etcd's Entries: []pb.Entry{{}}).
Message EmptyProp(uint64_t from, uint64_t to) {
  Message m = Msg(from, to, MessageType::kMsgProp);
  m.entries.push_back(Entry{});
  return m;
}
Message ReadIndexMsg(uint64_t from, uint64_t to, std::string ctx) {
  Message m = Msg(from, to, MessageType::kMsgReadIndex);
  m.entries.push_back(DataEntry(std::move(ctx)));
  return m;
}
Message AppResp(uint64_t from, uint64_t to, uint64_t index, uint64_t term = 0) {
  Message m = Msg(from, to, MessageType::kMsgAppResp, term);
  m.index = index;
  return m;
}

ConfChangeV2 AddNode(uint64_t id) { return AsV2(ConfChange{ConfChangeType::kAddNode, id, {}, 0}); }
ConfChangeV2 AddLearner(uint64_t id) {
  return AsV2(ConfChange{ConfChangeType::kAddLearnerNode, id, {}, 0});
}
ConfChangeV2 RemoveNode(uint64_t id) {
  return AsV2(ConfChange{ConfChangeType::kRemoveNode, id, {}, 0});
}

// The ltoa of a log holding exactly `ents` (from index 1), nothing applied
// (etcd's ltoa(newLog(&MemoryStorage{ents: [{}, ents...]}))).
std::string WantLtoa(const std::vector<Entry>& ents) {
  std::string s = StringPrintf(
      "lastIndex: %llu\n", static_cast<unsigned long long>(ents.empty() ? 0 : ents.back().index));
  s += "applied:  0\n";
  for (size_t i = 0; i < ents.size(); ++i) {
    s += StringPrintf("#%zu: ", i) + DescribeEntry(ents[i]) + "\n";
  }
  return s;
}

// Ports etcd's TestProgressLeader.
TEST_P(RaftTest, ProgressLeader) {
  auto r = NewTestRaft(1, 5, 1, NewStorage({1, 2}));
  r->BecomeCandidate();
  r->BecomeLeader();
  r->trk().progress[2].BecomeReplicate();

  // Send proposals to r1. The first 5 entries should be queued in the unstable log.
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(r->Step(Prop(1, 1, "foo")).ok()) << "#" << i;

  EXPECT_EQ(r->trk().progress[1].match, 0u);

  const std::span<const Entry> ents = r->raft_log().NextUnstableEnts();
  ASSERT_EQ(ents.size(), 6u);
  EXPECT_TRUE(ents[0].data.empty());
  EXPECT_EQ(ents[5].data, "foo");

  AdvanceMessagesAfterAppend(*r);

  EXPECT_EQ(r->trk().progress[1].match, 6u);
  EXPECT_EQ(r->trk().progress[1].next, 7u);
}

// Ports etcd's TestProgressResumeByHeartbeatResp: a heartbeat response
// resets progress.paused.
TEST_P(RaftTest, ProgressResumeByHeartbeatResp) {
  auto r = NewTestRaft(1, 5, 1, NewStorage({1, 2}));
  r->BecomeCandidate();
  r->BecomeLeader();

  r->trk().progress[2].msg_app_flow_paused = true;

  (void)r->Step(Beat(1));
  EXPECT_TRUE(r->trk().progress[2].msg_app_flow_paused);

  r->trk().progress[2].BecomeReplicate();
  EXPECT_FALSE(r->trk().progress[2].msg_app_flow_paused);
  r->trk().progress[2].msg_app_flow_paused = true;
  (void)r->Step(Msg(2, 1, MessageType::kMsgHeartbeatResp));
  EXPECT_FALSE(r->trk().progress[2].msg_app_flow_paused);
}

// Ports etcd's TestProgressPaused.
TEST_P(RaftTest, ProgressPaused) {
  auto r = NewTestRaft(1, 5, 1, NewStorage({1, 2}));
  r->BecomeCandidate();
  r->BecomeLeader();
  (void)r->Step(Prop(1, 1));
  (void)r->Step(Prop(1, 1));
  (void)r->Step(Prop(1, 1));

  EXPECT_EQ(ReadMessages(*r).size(), 1u);
}

// Ports etcd's TestProgressFlowControl.
TEST_P(RaftTest, ProgressFlowControl) {
  Config cfg = NewTestConfig(1, 5, 1, NewStorage({1, 2}));
  cfg.max_inflight_msgs = 3;
  cfg.max_size_per_msg = 2048;
  cfg.max_inflight_bytes = 9000;  // A little over MaxInflightMsgs * MaxSizePerMsg.
  auto r = NewRaft(cfg);
  r->BecomeCandidate();
  r->BecomeLeader();

  // Throw away all the messages relating to the initial election.
  ReadMessages(*r);

  // While node 2 is in probe state, propose a bunch of entries.
  r->trk().progress[2].BecomeProbe();
  const std::string blob(1000, 'a');
  const std::string large(5000, 'b');
  for (int i = 0; i < 22; ++i) {
    // Temporarily send large messages.
    (void)r->Step(Prop(1, 1, i >= 10 && i < 16 ? large : blob));
  }

  std::vector<Message> ms = ReadMessages(*r);
  // First append has two entries: the empty entry to confirm the election,
  // and the first proposal (only one proposal gets sent because we're in
  // probe state).
  ASSERT_EQ(ms.size(), 1u);
  ASSERT_EQ(ms[0].type, MessageType::kMsgApp);
  ASSERT_EQ(ms[0].entries.size(), 2u);
  ASSERT_TRUE(ms[0].entries[0].data.empty());
  ASSERT_EQ(ms[0].entries[1].data.size(), 1000u);

  auto ack_and_verify = [&](uint64_t index, std::vector<size_t> exp_entries) {
    (void)r->Step(AppResp(2, 1, index));
    std::vector<Message> msgs = ReadMessages(*r);
    EXPECT_EQ(msgs.size(), exp_entries.size());
    for (size_t i = 0; i < msgs.size() && i < exp_entries.size(); ++i) {
      EXPECT_EQ(msgs[i].type, MessageType::kMsgApp) << "#" << i;
      EXPECT_EQ(msgs[i].entries.size(), exp_entries[i]) << "#" << i;
    }
    if (msgs.empty() || msgs.back().entries.empty()) return index;
    return msgs.back().entries.back().index;
  };

  // When this append is acked, we change to replicate state and can send
  // multiple messages at once.
  uint64_t index = ack_and_verify(ms[0].entries[1].index, {2, 2, 2});
  // Ack all three of those messages together and get another 3 messages.
  // The third message contains a single large entry, in contrast to 2
  // before.
  index = ack_and_verify(index, {2, 1, 1});
  // All subsequent messages contain one large entry, and we cap at 2
  // messages because it overflows MaxInflightBytes.
  index = ack_and_verify(index, {1, 1});
  index = ack_and_verify(index, {1, 1});
  // Start getting small messages again.
  index = ack_and_verify(index, {1, 2, 2});
  ack_and_verify(index, {2});
}

// Ports etcd's TestUncommittedEntryLimit.
TEST_P(RaftTest, UncommittedEntryLimit) {
  // Use a relatively large number of entries here to prevent regression of
  // a bug which computed the size before it was fixed. This test would fail
  // with the bug, either because we'd get dropped proposals earlier than we
  // expect them, or because the final tally ends up nonzero. (At the time of
  // writing, the former).
  const size_t max_entries = 1024;
  const Entry test_entry = DataEntry("testdata");
  const uint64_t max_entry_size = max_entries * PayloadSize(test_entry);

  EXPECT_EQ(PayloadSize(Entry{}), 0u);

  Config cfg = NewTestConfig(1, 5, 1, NewStorage({1, 2, 3}));
  cfg.max_uncommitted_entries_size = max_entry_size;
  cfg.max_inflight_msgs = 2 * 1024;  // avoid interference
  auto r = NewRaft(cfg);
  r->BecomeCandidate();
  r->BecomeLeader();
  EXPECT_EQ(r->uncommitted_size(), 0u);

  // Set the two followers to the replicate state. Commit to tail of log.
  const size_t num_followers = 2;
  r->trk().progress[2].BecomeReplicate();
  r->trk().progress[3].BecomeReplicate();
  r->set_uncommitted_size(0);

  // Send proposals to r1. The first 5 entries should be appended to the log.
  Message prop_msg = Msg(1, 1, MessageType::kMsgProp);
  prop_msg.entries.push_back(test_entry);
  std::vector<Entry> prop_ents(max_entries, test_entry);
  for (size_t i = 0; i < max_entries; ++i) ASSERT_TRUE(r->Step(prop_msg).ok()) << "#" << i;

  // Send one more proposal to r1. It should be rejected.
  EXPECT_EQ(r->Step(prop_msg), ErrProposalDropped());

  // Read messages and reduce the uncommitted size as if we had committed
  // these entries.
  std::vector<Message> ms = ReadMessages(*r);
  EXPECT_EQ(ms.size(), max_entries * num_followers);
  r->ReduceUncommittedSize(PayloadsSize(prop_ents));
  EXPECT_EQ(r->uncommitted_size(), 0u);

  // Send a single large proposal to r1. Should be accepted even though it
  // pushes us above the limit because we were beneath it before the
  // proposal.
  prop_ents.assign(2 * max_entries, test_entry);
  Message prop_msg_large = Msg(1, 1, MessageType::kMsgProp);
  prop_msg_large.entries = prop_ents;
  EXPECT_TRUE(r->Step(prop_msg_large).ok());

  // Send one more proposal to r1. It should be rejected, again.
  EXPECT_EQ(r->Step(prop_msg), ErrProposalDropped());

  // But we can always append an entry with no Data. This is used both for
  // the leader's first empty entry and for auto-transitioning out of joint
  // config states.
  EXPECT_TRUE(r->Step(EmptyProp(1, 1)).ok());

  // Read messages and reduce the uncommitted size as if we had committed
  // these entries.
  ms = ReadMessages(*r);
  EXPECT_EQ(ms.size(), 2 * num_followers);
  r->ReduceUncommittedSize(PayloadsSize(prop_ents));
  EXPECT_EQ(r->uncommitted_size(), 0u);
}

void TestLeaderElection(RaftTest& t, bool pre_vote) {
  ConfigFunc cfg;
  StateType cand_state = kCandidate;
  uint64_t cand_term = 1;
  if (pre_vote) {
    cfg = PreVoteConfig;
    // In pre-vote mode, an election that fails to complete leaves the node
    // in pre-candidate state without advancing the term.
    cand_state = kPreCandidate;
    cand_term = 0;
  }
  struct Case {
    TestNetwork network;
    StateType state;
    uint64_t exp_term;
  };
  std::vector<Case> tests;
  tests.push_back({t.NewNetworkWithConfigOf(cfg, nullptr, nullptr, nullptr), kLeader, 1});
  tests.push_back({t.NewNetworkWithConfigOf(cfg, nullptr, nullptr, kNopStepper), kLeader, 1});
  tests.push_back(
      {t.NewNetworkWithConfigOf(cfg, nullptr, kNopStepper, kNopStepper), cand_state, cand_term});
  tests.push_back({t.NewNetworkWithConfigOf(cfg, nullptr, kNopStepper, kNopStepper, nullptr),
                   cand_state, cand_term});
  tests.push_back(
      {t.NewNetworkWithConfigOf(cfg, nullptr, kNopStepper, kNopStepper, nullptr, nullptr), kLeader,
       1});
  // three logs further along than 0, but in the same term so rejections are
  // returned instead of the votes being ignored.
  tests.push_back(
      {t.NewNetworkWithConfigOf(cfg, nullptr, t.EntsWithConfig(cfg, {1}),
                                t.EntsWithConfig(cfg, {1}), t.EntsWithConfig(cfg, {1, 1}), nullptr),
       kFollower, 1});

  for (size_t i = 0; i < tests.size(); ++i) {
    Case& tt = tests[i];
    tt.network.Send(Hup(1));
    Raft& sm = tt.network.raft(1);
    EXPECT_EQ(sm.state(), tt.state) << "#" << i;
    EXPECT_EQ(sm.term(), tt.exp_term) << "#" << i;
  }
}

// Ports etcd's TestLeaderElection.
TEST_P(RaftTest, LeaderElection) { TestLeaderElection(*this, false); }
// Ports etcd's TestLeaderElectionPreVote.
TEST_P(RaftTest, LeaderElectionPreVote) { TestLeaderElection(*this, true); }

// Ports etcd's TestLearnerElectionTimeout: the learner should not start an
// election even when it times out.
TEST_P(RaftTest, LearnerElectionTimeout) {
  auto n1 = NewTestLearnerRaft(1, 10, 1, NewStorage({1}, {2}));
  auto n2 = NewTestLearnerRaft(2, 10, 1, NewStorage({1}, {2}));

  n1->BecomeFollower(1, kNone);
  n2->BecomeFollower(1, kNone);

  // n2 is learner. Learner should not start election even when times out.
  SetRandomizedElectionTimeout(*n2, n2->election_timeout());
  for (int i = 0; i < n2->election_timeout(); ++i) n2->Tick();

  EXPECT_EQ(n2->state(), kFollower);
}

// Ports etcd's TestLearnerPromotion: the learner should not start an
// election until it is promoted to a normal peer.
TEST_P(RaftTest, LearnerPromotion) {
  auto n1 = NewTestLearnerRaft(1, 10, 1, NewStorage({1}, {2}));
  auto n2 = NewTestLearnerRaft(2, 10, 1, NewStorage({1}, {2}));

  n1->BecomeFollower(1, kNone);
  n2->BecomeFollower(1, kNone);

  TestNetwork nt = NewNetwork(n1.get(), n2.get());

  EXPECT_NE(n1->state(), kLeader);

  // n1 should become leader
  SetRandomizedElectionTimeout(*n1, n1->election_timeout());
  for (int i = 0; i < n1->election_timeout(); ++i) n1->Tick();
  AdvanceMessagesAfterAppend(*n1);

  EXPECT_EQ(n1->state(), kLeader);
  EXPECT_EQ(n2->state(), kFollower);

  nt.Send(Beat(1));

  n1->ApplyConfChange(AddNode(2));
  n2->ApplyConfChange(AddNode(2));
  EXPECT_FALSE(n2->is_learner());

  // n2 starts an election, and should become leader
  SetRandomizedElectionTimeout(*n2, n2->election_timeout());
  for (int i = 0; i < n2->election_timeout(); ++i) n2->Tick();
  AdvanceMessagesAfterAppend(*n2);

  nt.Send(Beat(2));

  EXPECT_EQ(n1->state(), kFollower);
  EXPECT_EQ(n2->state(), kLeader);
}

// Ports etcd's TestLearnerCanVote: a learner can vote when it receives a
// valid Vote request. See Raft::Step for why this is necessary and correct.
TEST_P(RaftTest, LearnerCanVote) {
  auto n2 = NewTestLearnerRaft(2, 10, 1, NewStorage({1}, {2}));
  n2->BecomeFollower(1, kNone);

  Message m = Msg(1, 2, MessageType::kMsgVote, 2);
  m.log_term = 11;
  m.index = 11;
  (void)n2->Step(m);

  std::vector<Message> msgs = ReadMessages(*n2);
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(msgs[0].type, MessageType::kMsgVoteResp);
  EXPECT_FALSE(msgs[0].reject) << "expected learner to not reject vote";
}

// testLeaderCycle verifies that each node in a cluster can campaign and be
// elected in turn. This ensures that elections (including pre-vote) work
// when not starting from a clean slate (as they do in TestLeaderElection).
void TestLeaderCycle(RaftTest& t, bool pre_vote) {
  ConfigFunc cfg;
  if (pre_vote) cfg = PreVoteConfig;
  TestNetwork n = t.NewNetworkWithConfigOf(cfg, nullptr, nullptr, nullptr);
  for (uint64_t campaigner = 1; campaigner <= 3; ++campaigner) {
    n.Send(Hup(campaigner));
    for (uint64_t id : n.ids()) {
      Raft& sm = n.raft(id);
      if (sm.id() == campaigner) {
        EXPECT_EQ(sm.state(), kLeader) << "preVote=" << pre_vote << ": campaigning node " << id;
      } else {
        EXPECT_EQ(sm.state(), kFollower) << "preVote=" << pre_vote << ": campaigning node "
                                         << campaigner << ", current node " << id;
      }
    }
  }
}

// Ports etcd's TestLeaderCycle.
TEST_P(RaftTest, LeaderCycle) { TestLeaderCycle(*this, false); }
// Ports etcd's TestLeaderCyclePreVote.
TEST_P(RaftTest, LeaderCyclePreVote) { TestLeaderCycle(*this, true); }

// testLeaderElectionOverwriteNewerLogs tests a scenario in which a
// newly-elected leader does *not* have the newest (i.e. highest term) log
// entries, and must overwrite higher-term log entries with lower-term ones.
void TestLeaderElectionOverwriteNewerLogs(RaftTest& t, bool pre_vote) {
  ConfigFunc cfg;
  if (pre_vote) cfg = PreVoteConfig;
  // This network represents the results of the following sequence of
  // events:
  // - Node 1 won the election in term 1.
  // - Node 1 replicated a log entry to node 2 but died before sending it
  //   to other nodes.
  // - Node 3 won the second election in term 2.
  // - Node 3 wrote an entry to its logs but died without sending it to any
  //   other nodes.
  //
  // At this point, nodes 1, 2, and 3 all have uncommitted entries in their
  // logs and could win an election at term 3. The winner's log entry
  // overwrites the losers'. (TestLeaderSyncFollowerLog tests the case where
  // older log entries are overwritten, so this test focuses on the case
  // where the newer entries are lost).
  TestNetwork n =
      t.NewNetworkWithConfigOf(cfg, t.EntsWithConfig(cfg, {1}),  // Node 1: Won first election
                               t.EntsWithConfig(cfg, {1}),       // Node 2: Got logs from node 1
                               t.EntsWithConfig(cfg, {2}),       // Node 3: Won second election
                               t.VotedWithConfig(cfg, 3, 2),   // Node 4: Voted but didn't get logs
                               t.VotedWithConfig(cfg, 3, 2));  // Node 5: Voted but didn't get logs

  // Node 1 campaigns. The election fails because a quorum of nodes know
  // about the election that already happened at term 2. Node 1's term is
  // pushed ahead to 2.
  n.Send(Hup(1));
  Raft& sm1 = n.raft(1);
  EXPECT_EQ(sm1.state(), kFollower);
  EXPECT_EQ(sm1.term(), 2u);

  // Node 1 campaigns again with a higher term. This time it succeeds.
  n.Send(Hup(1));
  EXPECT_EQ(sm1.state(), kLeader);
  EXPECT_EQ(sm1.term(), 3u);

  // Now all nodes agree on a log entry with term 1 at index 1 (and term 3
  // at index 2).
  for (uint64_t id : n.ids()) {
    const std::vector<Entry> entries = n.raft(id).raft_log().AllEntries();
    ASSERT_EQ(entries.size(), 2u) << id;
    EXPECT_EQ(entries[0].term, 1u) << id;
    EXPECT_EQ(entries[1].term, 3u) << id;
  }
}

// Ports etcd's TestLeaderElectionOverwriteNewerLogs.
TEST_P(RaftTest, LeaderElectionOverwriteNewerLogs) {
  TestLeaderElectionOverwriteNewerLogs(*this, false);
}
// Ports etcd's TestLeaderElectionOverwriteNewerLogsPreVote.
TEST_P(RaftTest, LeaderElectionOverwriteNewerLogsPreVote) {
  TestLeaderElectionOverwriteNewerLogs(*this, true);
}

void TestVoteFromAnyState(RaftTest& t, MessageType vt) {
  for (StateType st : {kFollower, kCandidate, kLeader, kPreCandidate}) {
    auto r = NewTestRaft(1, 10, 1, t.NewStorage({1, 2, 3}));
    r->set_term(1);

    switch (st) {
      case StateType::kStateFollower:
        r->BecomeFollower(r->term(), 3);
        break;
      case StateType::kStatePreCandidate:
        r->BecomePreCandidate();
        break;
      case StateType::kStateCandidate:
        r->BecomeCandidate();
        break;
      case StateType::kStateLeader:
        r->BecomeCandidate();
        r->BecomeLeader();
        break;
    }

    // Note that setting our state above may have advanced r.Term past its
    // initial value.
    const uint64_t orig_term = r->term();
    const uint64_t new_term = r->term() + 1;

    Message msg = Msg(2, 1, vt, new_term);
    msg.log_term = new_term;
    msg.index = 42;
    const std::string what =
        std::string(MessageTypeName(vt)) + "," + std::string(StateTypeName(st));
    EXPECT_TRUE(r->Step(msg).ok()) << what;
    std::vector<Message> msgs = ReadMessages(*r);
    EXPECT_EQ(msgs.size(), 1u) << what;
    if (msgs.size() == 1) {
      EXPECT_EQ(msgs[0].type, internal::VoteRespMsgType(vt)) << what;
      EXPECT_FALSE(msgs[0].reject) << what;
    }

    // If this was a real vote, we reset our state and term.
    if (vt == MessageType::kMsgVote) {
      EXPECT_EQ(r->state(), kFollower) << what;
      EXPECT_EQ(r->term(), new_term) << what;
      EXPECT_EQ(r->vote(), 2u) << what;
    } else {
      // In a prevote, nothing changes.
      EXPECT_EQ(r->state(), st) << what;
      EXPECT_EQ(r->term(), orig_term) << what;
      // if st == StateFollower or StatePreCandidate, r hasn't voted yet.
      // In StateCandidate or StateLeader, it's voted for itself.
      EXPECT_TRUE(r->vote() == kNone || r->vote() == 1) << what << ": vote " << r->vote();
    }
  }
}

// Ports etcd's TestVoteFromAnyState.
TEST_P(RaftTest, VoteFromAnyState) { TestVoteFromAnyState(*this, MessageType::kMsgVote); }
// Ports etcd's TestPreVoteFromAnyState.
TEST_P(RaftTest, PreVoteFromAnyState) { TestVoteFromAnyState(*this, MessageType::kMsgPreVote); }

// Ports etcd's TestLogReplication.
TEST_P(RaftTest, LogReplication) {
  struct Case {
    TestNetwork network;
    std::vector<Message> msgs;
    uint64_t wcommitted;
  };
  std::vector<Case> tests;
  tests.push_back({NewNetwork(nullptr, nullptr, nullptr), {Prop(1, 1)}, 2});
  tests.push_back({NewNetwork(nullptr, nullptr, nullptr),
                   {Prop(1, 1), Msg(1, 2, MessageType::kMsgHup), Prop(1, 2)},
                   4});

  for (size_t i = 0; i < tests.size(); ++i) {
    Case& tt = tests[i];
    tt.network.Send(Hup(1));
    for (const Message& m : tt.msgs) tt.network.Send(m);

    for (uint64_t j : tt.network.ids()) {
      Raft& sm = tt.network.raft(j);
      EXPECT_EQ(sm.raft_log().committed(), tt.wcommitted) << "#" << i << "." << j;

      std::vector<Entry> ents;
      for (Entry& e : NextEnts(sm, *tt.network.storage(j))) {
        if (!e.data.empty()) ents.push_back(std::move(e));
      }
      std::vector<const Message*> props;
      for (const Message& m : tt.msgs) {
        if (m.type == MessageType::kMsgProp) props.push_back(&m);
      }
      ASSERT_EQ(ents.size(), props.size()) << "#" << i << "." << j;
      for (size_t k = 0; k < props.size(); ++k) {
        EXPECT_EQ(ents[k].data, props[k]->entries[0].data) << "#" << i << "." << j;
      }
    }
  }
}

// Ports etcd's TestLearnerLogReplication: a learner can receive entries
// from the leader.
TEST_P(RaftTest, LearnerLogReplication) {
  auto n1 = NewTestLearnerRaft(1, 10, 1, NewStorage({1}, {2}));
  auto n2 = NewTestLearnerRaft(2, 10, 1, NewStorage({1}, {2}));

  TestNetwork nt = NewNetwork(n1.get(), n2.get());

  n1->BecomeFollower(1, kNone);
  n2->BecomeFollower(1, kNone);

  SetRandomizedElectionTimeout(*n1, n1->election_timeout());
  for (int i = 0; i < n1->election_timeout(); ++i) n1->Tick();
  AdvanceMessagesAfterAppend(*n1);

  nt.Send(Beat(1));

  // n1 is leader and n2 is learner
  EXPECT_EQ(n1->state(), kLeader);
  EXPECT_TRUE(n2->is_learner());

  const uint64_t next_committed = 2;
  nt.Send(Prop(1, 1));

  EXPECT_EQ(n1->raft_log().committed(), next_committed);
  EXPECT_EQ(n2->raft_log().committed(), n1->raft_log().committed());

  EXPECT_EQ(n1->trk().progress[2].match, n2->raft_log().committed());
}

// Ports etcd's TestSingleNodeCommit.
TEST_P(RaftTest, SingleNodeCommit) {
  auto r = NewRaft(NewTestConfig(1, 10, 1, NewStorage({1})));
  TestNetwork tt = NewNetwork(r.get());
  tt.Send(Hup(1));
  tt.Send(Prop(1, 1, "some data"));
  tt.Send(Prop(1, 1, "some data"));

  EXPECT_EQ(r->raft_log().committed(), 3u);
}

// Ports etcd's TestCannotCommitWithoutNewTermEntry: entries cannot be
// committed when the leader changes, no new proposal comes in and the
// ChangeTerm proposal is filtered.
TEST_P(RaftTest, CannotCommitWithoutNewTermEntry) {
  TestNetwork tt = NewNetwork(nullptr, nullptr, nullptr, nullptr, nullptr);
  tt.Send(Hup(1));

  // 0 cannot reach 2,3,4
  tt.Cut(1, 3);
  tt.Cut(1, 4);
  tt.Cut(1, 5);

  tt.Send(Prop(1, 1, "some data"));
  tt.Send(Prop(1, 1, "some data"));

  Raft& sm1 = tt.raft(1);
  EXPECT_EQ(sm1.raft_log().committed(), 1u);

  // network recovery
  tt.Recover();
  // avoid committing ChangeTerm proposal
  tt.Ignore(MessageType::kMsgApp);

  // elect 2 as the new leader with term 2
  tt.Send(Hup(2));

  // no log entries from previous term should be committed
  Raft& sm = tt.raft(2);
  EXPECT_EQ(sm.raft_log().committed(), 1u);

  tt.Recover();
  // send heartbeat; reset wait
  tt.Send(Beat(2));
  // append an entry at current term
  tt.Send(Prop(2, 2, "some data"));
  // expect the committed to be advanced
  EXPECT_EQ(sm.raft_log().committed(), 5u);
}

// Ports etcd's TestCommitWithoutNewTermEntry: entries can be committed when
// the leader changes and no new proposal comes in.
TEST_P(RaftTest, CommitWithoutNewTermEntry) {
  TestNetwork tt = NewNetwork(nullptr, nullptr, nullptr, nullptr, nullptr);
  tt.Send(Hup(1));

  // 0 cannot reach 3,4,5
  tt.Cut(1, 3);
  tt.Cut(1, 4);
  tt.Cut(1, 5);

  tt.Send(Prop(1, 1, "some data"));
  tt.Send(Prop(1, 1, "some data"));

  Raft& sm = tt.raft(1);
  EXPECT_EQ(sm.raft_log().committed(), 1u);

  // network recovery
  tt.Recover();

  // elect 2 as the new leader with term 2; after appending a ChangeTerm
  // entry from the current term, all entries should be committed
  tt.Send(Hup(2));

  EXPECT_EQ(sm.raft_log().committed(), 4u);
}

// Ports etcd's TestDuelingCandidates.
TEST_P(RaftTest, DuelingCandidates) {
  auto a = NewTestRaft(1, 10, 1, NewStorage({1, 2, 3}));
  auto b = NewTestRaft(2, 10, 1, NewStorage({1, 2, 3}));
  auto c = NewTestRaft(3, 10, 1, NewStorage({1, 2, 3}));

  TestNetwork nt = NewNetwork(a.get(), b.get(), c.get());
  nt.Cut(1, 3);

  nt.Send(Hup(1));
  nt.Send(Hup(3));

  // 1 becomes leader since it receives votes from 1 and 2
  EXPECT_EQ(nt.raft(1).state(), kLeader);

  // 3 stays as candidate since it receives a vote from 3 and a rejection from 2
  EXPECT_EQ(nt.raft(3).state(), kCandidate);

  nt.Recover();

  // candidate 3 now increases its term and tries to vote again; we expect
  // it to disrupt the leader 1 since it has a higher term. 3 will be
  // follower again since both 1 and 2 reject its vote request since 3 does
  // not have a long enough log.
  nt.Send(Hup(3));
  EXPECT_EQ(nt.raft(3).state(), kFollower);

  struct Case {
    Raft* sm;
    StateType state;
    uint64_t term;
    uint64_t last_index;
  };
  const std::vector<Case> tests = {
      {a.get(), kFollower, 2, 1},
      {b.get(), kFollower, 2, 1},
      {c.get(), kFollower, 2, 0},
  };
  for (size_t i = 0; i < tests.size(); ++i) {
    EXPECT_EQ(tests[i].sm->state(), tests[i].state) << "#" << i;
    EXPECT_EQ(tests[i].sm->term(), tests[i].term) << "#" << i;
    EXPECT_EQ(tests[i].sm->raft_log().LastIndex(), tests[i].last_index) << "#" << i;
  }
}

// Ports etcd's TestDuelingPreCandidates.
TEST_P(RaftTest, DuelingPreCandidates) {
  Config cfg_a = NewTestConfig(1, 10, 1, NewStorage({1, 2, 3}));
  Config cfg_b = NewTestConfig(2, 10, 1, NewStorage({1, 2, 3}));
  Config cfg_c = NewTestConfig(3, 10, 1, NewStorage({1, 2, 3}));
  cfg_a.pre_vote = true;
  cfg_b.pre_vote = true;
  cfg_c.pre_vote = true;
  auto a = NewRaft(cfg_a);
  auto b = NewRaft(cfg_b);
  auto c = NewRaft(cfg_c);

  TestNetwork nt = NewNetwork(a.get(), b.get(), c.get());
  nt.Cut(1, 3);

  nt.Send(Hup(1));
  nt.Send(Hup(3));

  // 1 becomes leader since it receives votes from 1 and 2
  EXPECT_EQ(nt.raft(1).state(), kLeader);

  // 3 campaigns then reverts to follower when its PreVote is rejected
  EXPECT_EQ(nt.raft(3).state(), kFollower);

  nt.Recover();

  // Candidate 3 now increases its term and tries to vote again. With
  // PreVote, it does not disrupt the leader.
  nt.Send(Hup(3));

  struct Case {
    Raft* sm;
    StateType state;
    uint64_t term;
    uint64_t last_index;
  };
  const std::vector<Case> tests = {
      {a.get(), kLeader, 1, 1},
      {b.get(), kFollower, 1, 1},
      {c.get(), kFollower, 1, 0},
  };
  for (size_t i = 0; i < tests.size(); ++i) {
    EXPECT_EQ(tests[i].sm->state(), tests[i].state) << "#" << i;
    EXPECT_EQ(tests[i].sm->term(), tests[i].term) << "#" << i;
    EXPECT_EQ(tests[i].sm->raft_log().LastIndex(), tests[i].last_index) << "#" << i;
  }
}

// Ports etcd's TestCandidateConcede.
TEST_P(RaftTest, CandidateConcede) {
  TestNetwork tt = NewNetwork(nullptr, nullptr, nullptr);
  tt.Isolate(1);

  tt.Send(Hup(1));
  tt.Send(Hup(3));

  // heal the partition
  tt.Recover();
  // send heartbeat; reset wait
  tt.Send(Beat(3));

  const std::string data = "force follower";
  // send a proposal to 3 to flush out a MsgApp to 1
  tt.Send(Prop(3, 3, data));
  // send heartbeat; flush out commit
  tt.Send(Beat(3));

  Raft& a = tt.raft(1);
  EXPECT_EQ(a.state(), kFollower);
  EXPECT_EQ(a.term(), 1u);

  const std::string want_log =
      WantLtoa({Entry{1, 1, EntryType::kNormal, {}}, Entry{1, 2, EntryType::kNormal, Bytes(data)}});
  for (uint64_t id : tt.ids()) {
    EXPECT_EQ(Ltoa(tt.raft(id).raft_log()), want_log) << "#" << id;
  }
}

// Ports etcd's TestSingleNodeCandidate.
TEST_P(RaftTest, SingleNodeCandidate) {
  TestNetwork tt = NewNetwork(nullptr);
  tt.Send(Hup(1));
  EXPECT_EQ(tt.raft(1).state(), kLeader);
}

// Ports etcd's TestSingleNodePreCandidate.
TEST_P(RaftTest, SingleNodePreCandidate) {
  TestNetwork tt = NewNetworkWithConfigOf(PreVoteConfig, nullptr);
  tt.Send(Hup(1));
  EXPECT_EQ(tt.raft(1).state(), kLeader);
}

// Ports etcd's TestOldMessages.
TEST_P(RaftTest, OldMessages) {
  TestNetwork tt = NewNetwork(nullptr, nullptr, nullptr);
  // make 0 leader @ term 3
  tt.Send(Hup(1));
  tt.Send(Hup(2));
  tt.Send(Hup(1));
  // pretend we're an old leader trying to make progress; this entry is
  // expected to be ignored.
  Message old = Msg(2, 1, MessageType::kMsgApp, 2);
  old.entries = IndexTerms(3, {2});
  tt.Send(old);
  // commit a new entry
  tt.Send(Prop(1, 1));

  std::vector<Entry> ents = IndexTerms(1, {1, 2, 3, 3});
  ents[3].data = "somedata";
  const std::string base = WantLtoa(ents);
  for (uint64_t id : tt.ids()) EXPECT_EQ(Ltoa(tt.raft(id).raft_log()), base) << "#" << id;
}

// Ports etcd's TestProposal.
TEST_P(RaftTest, Proposal) {
  struct Case {
    TestNetwork network;
    bool success;
  };
  std::vector<Case> tests;
  tests.push_back({NewNetwork(nullptr, nullptr, nullptr), true});
  tests.push_back({NewNetwork(nullptr, nullptr, kNopStepper), true});
  tests.push_back({NewNetwork(nullptr, kNopStepper, kNopStepper), false});
  tests.push_back({NewNetwork(nullptr, kNopStepper, kNopStepper, nullptr), false});
  tests.push_back({NewNetwork(nullptr, kNopStepper, kNopStepper, nullptr, nullptr), true});

  for (size_t j = 0; j < tests.size(); ++j) {
    Case& tt = tests[j];
    const std::string data = "somedata";

    // promote 1 to become leader
    tt.network.Send(Hup(1));
    tt.network.Send(Prop(1, 1, data));
    Raft& r = tt.network.raft(1);

    std::string want_log = WantLtoa({});
    if (tt.success) {
      want_log =
          WantLtoa({Entry{1, 1, EntryType::kNormal, {}}, Entry{1, 2, EntryType::kNormal, Bytes(data)}});
    }
    for (uint64_t id : tt.network.ids()) {
      if (!tt.network.is_raft(id)) continue;
      EXPECT_EQ(Ltoa(tt.network.raft(id).raft_log()), want_log) << "#" << j << ", peer " << id;
    }
    EXPECT_EQ(r.term(), 1u) << "#" << j;
  }
}

// Ports etcd's TestProposalByProxy.
TEST_P(RaftTest, ProposalByProxy) {
  const std::string data = "somedata";
  std::vector<TestNetwork> tests;
  tests.push_back(NewNetwork(nullptr, nullptr, nullptr));
  tests.push_back(NewNetwork(nullptr, nullptr, kNopStepper));

  for (size_t j = 0; j < tests.size(); ++j) {
    TestNetwork& tt = tests[j];
    // promote 0 the leader
    tt.Send(Hup(1));

    // propose via follower
    tt.Send(Prop(2, 2, data));

    const std::string want_log =
        WantLtoa({Entry{1, 1, EntryType::kNormal, {}}, Entry{1, 2, EntryType::kNormal, Bytes(data)}});
    for (uint64_t id : tt.ids()) {
      if (!tt.is_raft(id)) continue;
      EXPECT_EQ(Ltoa(tt.raft(id).raft_log()), want_log) << "#" << j << "." << id;
    }
    EXPECT_EQ(tt.raft(1).term(), 1u) << "#" << j;
  }
}

// Ports etcd's TestCommit.
TEST_P(RaftTest, Commit) {
  struct Case {
    std::vector<uint64_t> matches;
    std::vector<Entry> logs;
    uint64_t sm_term;
    uint64_t w;
  };
  const std::vector<Case> tests = {
      // single
      {{1}, IndexTerms(1, {1}), 1, 1},
      {{1}, IndexTerms(1, {1}), 2, 0},
      {{2}, IndexTerms(1, {1, 2}), 2, 2},
      {{1}, IndexTerms(1, {2}), 2, 1},

      // odd
      {{2, 1, 1}, IndexTerms(1, {1, 2}), 1, 1},
      {{2, 1, 1}, IndexTerms(1, {1, 1}), 2, 0},
      {{2, 1, 2}, IndexTerms(1, {1, 2}), 2, 2},
      {{2, 1, 2}, IndexTerms(1, {1, 1}), 2, 0},

      // even
      {{2, 1, 1, 1}, IndexTerms(1, {1, 2}), 1, 1},
      {{2, 1, 1, 1}, IndexTerms(1, {1, 1}), 2, 0},
      {{2, 1, 1, 2}, IndexTerms(1, {1, 2}), 1, 1},
      {{2, 1, 1, 2}, IndexTerms(1, {1, 1}), 2, 0},
      {{2, 1, 2, 2}, IndexTerms(1, {1, 2}), 2, 2},
      {{2, 1, 2, 2}, IndexTerms(1, {1, 1}), 2, 0},
  };
  for (size_t i = 0; i < tests.size(); ++i) {
    const Case& tt = tests[i];
    WritableStorage* storage = NewStorage({1});
    ASSERT_TRUE(storage->Append(tt.logs).ok());
    ASSERT_TRUE(storage->SetHardState(HardState{tt.sm_term, kNone, 0}).ok());

    auto sm = NewTestRaft(1, 10, 2, storage);
    for (size_t j = 0; j < tt.matches.size(); ++j) {
      const uint64_t id = j + 1;
      if (id > 1) sm->ApplyConfChange(AddNode(id));
      tracker::Progress& pr = sm->trk().progress[id];
      pr.match = tt.matches[j];
      pr.next = tt.matches[j] + 1;
    }
    sm->MaybeCommit();
    EXPECT_EQ(sm->raft_log().committed(), tt.w) << "#" << i;
  }
}

// Ports etcd's TestPastElectionTimeout.
TEST_P(RaftTest, PastElectionTimeout) {
  struct Case {
    int elapse;
    double wprobability;
    bool round;
  };
  const std::vector<Case> tests = {
      {5, 0, false},   {10, 0.1, true}, {13, 0.4, true},
      {15, 0.6, true}, {18, 0.9, true}, {20, 1, false},
  };
  for (size_t i = 0; i < tests.size(); ++i) {
    const Case& tt = tests[i];
    auto sm = NewTestRaft(1, 10, 1, NewStorage({1}));
    sm->set_election_elapsed(tt.elapse);
    int c = 0;
    for (int j = 0; j < 10000; ++j) {
      sm->ResetRandomizedElectionTimeout();
      if (sm->PastElectionTimeout()) ++c;
    }
    double got = c / 10000.0;
    if (tt.round) got = std::floor(got * 10 + 0.5) / 10.0;
    EXPECT_DOUBLE_EQ(got, tt.wprobability) << "#" << i;
  }
}

bool g_step_called = false;

// Ports etcd's TestStepIgnoreOldTermMsg: Step ignores a message from an old
// term and does not pass it to the actual stepX function.
TEST_P(RaftTest, StepIgnoreOldTermMsg) {
  g_step_called = false;
  auto sm = NewTestRaft(1, 10, 1, NewStorage({1}));
  sm->set_step([](Raft&, Message&) {
    g_step_called = true;
    return Status::OK();
  });
  sm->set_term(2);
  Message m;
  m.type = MessageType::kMsgApp;
  m.term = sm->term() - 1;
  (void)sm->Step(m);
  EXPECT_FALSE(g_step_called);
}

// Ports etcd's TestHandleMsgApp:
//  1. Reply false if log doesn't contain an entry at prevLogIndex whose term
//     matches prevLogTerm.
//  2. If an existing entry conflicts with a new one (same index but
//     different terms), delete the existing entry and all that follow it;
//     append any new entries not already in the log.
//  3. If leaderCommit > commitIndex, set commitIndex = min(leaderCommit,
//     index of last new entry).
TEST_P(RaftTest, HandleMsgApp) {
  auto app = [](uint64_t term, uint64_t log_term, uint64_t index, uint64_t commit,
                std::vector<Entry> ents = {}) {
    Message m;
    m.type = MessageType::kMsgApp;
    m.term = term;
    m.log_term = log_term;
    m.index = index;
    m.commit = commit;
    m.entries = std::move(ents);
    return m;
  };
  struct Case {
    Message m;
    uint64_t w_index;
    uint64_t w_commit;
    bool w_reject;
  };
  const std::vector<Case> tests = {
      // Ensure 1
      {app(2, 3, 2, 3), 2, 0, true},  // previous log mismatch
      {app(2, 3, 3, 3), 2, 0, true},  // previous log non-exist

      // Ensure 2
      {app(2, 1, 1, 1), 2, 1, false},
      {app(2, 0, 0, 1, IndexTerms(1, {2})), 1, 1, false},
      {app(2, 2, 2, 3, IndexTerms(3, {2, 2})), 4, 3, false},
      {app(2, 2, 2, 4, IndexTerms(3, {2})), 3, 3, false},
      {app(2, 1, 1, 4, IndexTerms(2, {2})), 2, 2, false},

      // Ensure 3
      {app(1, 1, 1, 3), 2, 1, false},  // match entry 1, commit up to last new entry 1
      {app(1, 1, 1, 3, IndexTerms(2, {2})), 2, 2,
       false},                         // match entry 1, commit up to last new entry 2
      {app(2, 2, 2, 3), 2, 2, false},  // match entry 2, commit up to last new entry 2
      {app(2, 2, 2, 4), 2, 2, false},  // commit up to log.last()
  };
  for (size_t i = 0; i < tests.size(); ++i) {
    const Case& tt = tests[i];
    WritableStorage* storage = NewStorage({1});
    ASSERT_TRUE(storage->Append(IndexTerms(1, {1, 2})).ok());
    auto sm = NewTestRaft(1, 10, 1, storage);
    sm->BecomeFollower(2, kNone);

    // etcd calls handleAppendEntries directly; a follower's Step of an
    // MsgApp at its own term does exactly that.
    Message m = tt.m;
    m.term = sm->term();
    (void)sm->Step(m);
    EXPECT_EQ(sm->raft_log().LastIndex(), tt.w_index) << "#" << i;
    EXPECT_EQ(sm->raft_log().committed(), tt.w_commit) << "#" << i;
    std::vector<Message> msgs = ReadMessages(*sm);
    ASSERT_EQ(msgs.size(), 1u) << "#" << i;
    EXPECT_EQ(msgs[0].reject, tt.w_reject) << "#" << i;
  }
}

// Ports etcd's TestHandleHeartbeat: the follower commits to the commit in
// the message.
TEST_P(RaftTest, HandleHeartbeat) {
  const uint64_t commit = 2;
  struct Case {
    Message m;
    uint64_t w_commit;
  };
  auto hb = [](uint64_t commit) {
    Message m = Msg(2, 1, MessageType::kMsgHeartbeat, 2);
    m.commit = commit;
    return m;
  };
  const std::vector<Case> tests = {
      {hb(commit + 1), commit + 1}, {hb(commit - 1), commit},  // do not decrease commit
  };
  for (size_t i = 0; i < tests.size(); ++i) {
    WritableStorage* storage = NewStorage({1, 2});
    ASSERT_TRUE(storage->Append(IndexTerms(1, {1, 2, 3})).ok());
    auto sm = NewTestRaft(1, 5, 1, storage);
    sm->BecomeFollower(2, 2);
    sm->raft_log().CommitTo(commit);
    (void)sm->Step(tests[i].m);  // etcd calls handleHeartbeat directly
    EXPECT_EQ(sm->raft_log().committed(), tests[i].w_commit) << "#" << i;
    std::vector<Message> msgs = ReadMessages(*sm);
    ASSERT_EQ(msgs.size(), 1u) << "#" << i;
    EXPECT_EQ(msgs[0].type, MessageType::kMsgHeartbeatResp) << "#" << i;
  }
}

// Ports etcd's TestHandleHeartbeatResp: log entries are re-sent on a
// heartbeat response.
TEST_P(RaftTest, HandleHeartbeatResp) {
  WritableStorage* storage = NewStorage({1, 2});
  ASSERT_TRUE(storage->Append(IndexTerms(1, {1, 2, 3})).ok());
  auto sm = NewTestRaft(1, 5, 1, storage);
  sm->BecomeCandidate();
  sm->BecomeLeader();
  sm->raft_log().CommitTo(sm->raft_log().LastIndex());

  // A heartbeat response from a node that is behind; re-send MsgApp
  (void)sm->Step(Msg(2, 0, MessageType::kMsgHeartbeatResp));
  std::vector<Message> msgs = ReadMessages(*sm);
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(msgs[0].type, MessageType::kMsgApp);

  // A second heartbeat response generates another MsgApp re-send
  (void)sm->Step(Msg(2, 0, MessageType::kMsgHeartbeatResp));
  msgs = ReadMessages(*sm);
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(msgs[0].type, MessageType::kMsgApp);

  // Once we have an MsgAppResp, heartbeats no longer send MsgApp.
  (void)sm->Step(AppResp(2, 0, msgs[0].index + msgs[0].entries.size()));
  // Consume the message sent in response to MsgAppResp
  ReadMessages(*sm);

  (void)sm->Step(Msg(2, 0, MessageType::kMsgHeartbeatResp));
  EXPECT_TRUE(ReadMessages(*sm).empty());
}

// Ports etcd's TestRaftFreesReadOnlyMem: raft frees the read request from
// its read-only queue once confirmed (no leak per read). In v3.7 the
// heartbeat's context is the request's position (8 bytes), not the
// request's context.
TEST_P(RaftTest, RaftFreesReadOnlyMem) {
  auto sm = NewTestRaft(1, 5, 1, NewStorage({1, 2}));
  sm->BecomeCandidate();
  sm->BecomeLeader();
  sm->raft_log().CommitTo(sm->raft_log().LastIndex());

  const std::string ctx = "ctx";

  // leader starts linearizable read request.
  // more info: raft dissertation 6.4, step 2.
  (void)sm->Step(ReadIndexMsg(2, 0, ctx));
  std::vector<Message> msgs = ReadMessages(*sm);
  ASSERT_EQ(msgs.size(), 1u);
  ASSERT_EQ(msgs[0].type, MessageType::kMsgHeartbeat);
  ASSERT_EQ(msgs[0].context, sm->read_only().HeartbeatCtx());
  ASSERT_EQ(msgs[0].context.size(), 8u);
  ASSERT_EQ(sm->read_only().unconfirmed_reads().size(), 1u);

  // heartbeat responses from majority of followers (1 in this case)
  // acknowledge the authority of the leader.
  // more info: raft dissertation 6.4, step 3.
  Message resp = Msg(2, 0, MessageType::kMsgHeartbeatResp);
  resp.context = msgs[0].context;
  (void)sm->Step(resp);
  EXPECT_TRUE(sm->read_only().unconfirmed_reads().empty());
  EXPECT_EQ(sm->read_only().confirmed_reads(), 1u);
}

// Ports etcd's TestMsgAppRespWaitReset: the resume behavior of a leader on
// MsgAppResp.
TEST_P(RaftTest, MsgAppRespWaitReset) {
  WritableStorage* s = NewStorage({1, 2, 3});
  auto sm = NewTestRaft(1, 5, 1, s);
  sm->BecomeCandidate();
  sm->BecomeLeader();

  // Run n1 which includes sending a message like the below one to n2, but
  // also appending to its own log.
  NextEnts(*sm, *s);

  // Node 2 acks the first entry, making it committed.
  (void)sm->Step(AppResp(2, 0, 1));
  ASSERT_EQ(sm->raft_log().committed(), 1u);

  // Also consume the MsgApp messages that update Commit on the followers.
  ReadMessages(*sm);

  // A new command is now proposed on node 1.
  (void)sm->Step(EmptyProp(1, 0));

  // The command is broadcast to all nodes not in the wait state. Node 2
  // left the wait state due to its MsgAppResp, but node 3 is still waiting.
  std::vector<Message> msgs = ReadMessages(*sm);
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(msgs[0].type, MessageType::kMsgApp);
  EXPECT_EQ(msgs[0].to, 2u);
  ASSERT_EQ(msgs[0].entries.size(), 1u);
  EXPECT_EQ(msgs[0].entries[0].index, 2u);

  // Now Node 3 acks the first entry. This releases the wait and entry 2 is
  // sent.
  (void)sm->Step(AppResp(3, 0, 1));
  msgs = ReadMessages(*sm);
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(msgs[0].type, MessageType::kMsgApp);
  EXPECT_EQ(msgs[0].to, 3u);
  ASSERT_EQ(msgs[0].entries.size(), 1u);
  EXPECT_EQ(msgs[0].entries[0].index, 2u);
}

void TestRecvMsgVote(RaftTest& t, MessageType msg_type) {
  struct Case {
    StateType state;
    uint64_t index, log_term;
    uint64_t vote_for;
    bool wreject;
  };
  const std::vector<Case> tests = {
      {kFollower, 0, 0, kNone, true},  {kFollower, 0, 1, kNone, true},
      {kFollower, 0, 2, kNone, true},  {kFollower, 0, 3, kNone, false},

      {kFollower, 1, 0, kNone, true},  {kFollower, 1, 1, kNone, true},
      {kFollower, 1, 2, kNone, true},  {kFollower, 1, 3, kNone, false},

      {kFollower, 2, 0, kNone, true},  {kFollower, 2, 1, kNone, true},
      {kFollower, 2, 2, kNone, false}, {kFollower, 2, 3, kNone, false},

      {kFollower, 3, 0, kNone, true},  {kFollower, 3, 1, kNone, true},
      {kFollower, 3, 2, kNone, false}, {kFollower, 3, 3, kNone, false},

      {kFollower, 3, 2, 2, false},     {kFollower, 3, 2, 1, true},

      {kLeader, 3, 3, 1, true},        {kPreCandidate, 3, 3, 1, true},
      {kCandidate, 3, 3, 1, true},
  };
  for (size_t i = 0; i < tests.size(); ++i) {
    const Case& tt = tests[i];
    auto sm = NewTestRaft(1, 10, 1, t.NewStorage({1}));
    sm->set_state(tt.state);
    switch (tt.state) {
      case StateType::kStateFollower:
        sm->set_step(&Raft::StepFollower);
        break;
      case StateType::kStateCandidate:
      case StateType::kStatePreCandidate:
        sm->set_step(&Raft::StepCandidate);
        break;
      case StateType::kStateLeader:
        sm->set_step(&Raft::StepLeader);
        break;
    }
    sm->set_vote(tt.vote_for);
    WritableStorage* log_storage = t.NewStorage();
    ASSERT_TRUE(log_storage->Append(IndexTerms(1, {2, 2})).ok());
    sm->raft_log() = internal::RaftLog::NewLog(*log_storage, sm->logger());

    // raft.Term is greater than or equal to raft.raftLog.lastTerm. In this
    // test we're only testing MsgVote responses when the campaigning node
    // has a different raft log compared to the recipient node.
    // Additionally we're verifying behaviour when the recipient node has
    // already given out its vote for its current term. We're not testing
    // what the recipient node does when receiving a message with a
    // different term number, so we simply initialize both term numbers to
    // be the same.
    const uint64_t term = std::max(sm->raft_log().LastEntryID().term, tt.log_term);
    sm->set_term(term);
    Message m = Msg(2, 0, msg_type, term);
    m.index = tt.index;
    m.log_term = tt.log_term;
    (void)sm->Step(m);

    std::vector<Message> msgs = ReadMessages(*sm);
    ASSERT_EQ(msgs.size(), 1u) << "#" << i;
    EXPECT_EQ(msgs[0].type, internal::VoteRespMsgType(msg_type)) << "#" << i;
    EXPECT_EQ(msgs[0].reject, tt.wreject) << "#" << i;
  }
}

// Ports etcd's TestRecvMsgVote.
TEST_P(RaftTest, RecvMsgVote) { TestRecvMsgVote(*this, MessageType::kMsgVote); }
// Ports etcd's TestRecvMsgPreVote.
TEST_P(RaftTest, RecvMsgPreVote) { TestRecvMsgVote(*this, MessageType::kMsgPreVote); }

// Ports etcd's TestStateTransition.
TEST_P(RaftTest, StateTransition) {
  struct Case {
    StateType from;
    StateType to;
    bool wallow;
    uint64_t wterm;
    uint64_t wlead;
  };
  const std::vector<Case> tests = {
      {kFollower, kFollower, true, 1, kNone},      {kFollower, kPreCandidate, true, 0, kNone},
      {kFollower, kCandidate, true, 1, kNone},     {kFollower, kLeader, false, 0, kNone},

      {kPreCandidate, kFollower, true, 0, kNone},  {kPreCandidate, kPreCandidate, true, 0, kNone},
      {kPreCandidate, kCandidate, true, 1, kNone}, {kPreCandidate, kLeader, true, 0, 1},

      {kCandidate, kFollower, true, 0, kNone},     {kCandidate, kPreCandidate, true, 0, kNone},
      {kCandidate, kCandidate, true, 1, kNone},    {kCandidate, kLeader, true, 0, 1},

      {kLeader, kFollower, true, 1, kNone},        {kLeader, kPreCandidate, false, 0, kNone},
      {kLeader, kCandidate, false, 1, kNone},      {kLeader, kLeader, true, 0, 1},
  };
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  for (size_t i = 0; i < tests.size(); ++i) {
    const Case& tt = tests[i];
    auto run = [&]() {
      auto sm = NewTestRaft(1, 10, 1, NewStorage({1}));
      sm->set_state(tt.from);
      switch (tt.to) {
        case StateType::kStateFollower:
          sm->BecomeFollower(tt.wterm, tt.wlead);
          break;
        case StateType::kStatePreCandidate:
          sm->BecomePreCandidate();
          break;
        case StateType::kStateCandidate:
          sm->BecomeCandidate();
          break;
        case StateType::kStateLeader:
          sm->BecomeLeader();
          break;
      }
      return std::make_pair(sm->term(), sm->lead());
    };
    if (tt.wallow) {
      const auto [term, lead] = run();
      EXPECT_EQ(term, tt.wterm) << "#" << i;
      EXPECT_EQ(lead, tt.wlead) << "#" << i;
    } else if (!disk()) {  // one death test per case is enough
      EXPECT_DEATH(run(), "invalid transition") << "#" << i;
    }
  }
}

// Ports etcd's TestAllServerStepdown.
TEST_P(RaftTest, AllServerStepdown) {
  struct Case {
    StateType state;
    StateType wstate;
    uint64_t wterm;
    uint64_t windex;
  };
  const std::vector<Case> tests = {
      {kFollower, kFollower, 3, 0},
      {kPreCandidate, kFollower, 3, 0},
      {kCandidate, kFollower, 3, 0},
      {kLeader, kFollower, 3, 1},
  };
  const MessageType tmsg_types[] = {MessageType::kMsgVote, MessageType::kMsgApp};
  const uint64_t tterm = 3;

  for (size_t i = 0; i < tests.size(); ++i) {
    const Case& tt = tests[i];
    auto sm = NewTestRaft(1, 10, 1, NewStorage({1, 2, 3}));
    switch (tt.state) {
      case StateType::kStateFollower:
        sm->BecomeFollower(1, kNone);
        break;
      case StateType::kStatePreCandidate:
        sm->BecomePreCandidate();
        break;
      case StateType::kStateCandidate:
        sm->BecomeCandidate();
        break;
      case StateType::kStateLeader:
        sm->BecomeCandidate();
        sm->BecomeLeader();
        break;
    }
    for (size_t j = 0; j < 2; ++j) {
      const MessageType msg_type = tmsg_types[j];
      Message m = Msg(2, 0, msg_type, tterm);
      m.log_term = tterm;
      (void)sm->Step(m);

      EXPECT_EQ(sm->state(), tt.wstate) << "#" << i << "." << j;
      EXPECT_EQ(sm->term(), tt.wterm) << "#" << i << "." << j;
      EXPECT_EQ(sm->raft_log().LastIndex(), tt.windex) << "#" << i << "." << j;
      EXPECT_EQ(sm->raft_log().AllEntries().size(), tt.windex) << "#" << i << "." << j;
      const uint64_t wlead = msg_type == MessageType::kMsgVote ? kNone : 2;
      EXPECT_EQ(sm->lead(), wlead) << "#" << i << "." << j;
    }
  }
}

// testCandidateResetTerm tests when a candidate receives a MsgHeartbeat or
// MsgApp from leader, "Step" resets the term with leader's and reverts back
// to follower.
void TestCandidateResetTerm(RaftTest& t, MessageType mt) {
  auto a = NewTestRaft(1, 10, 1, t.NewStorage({1, 2, 3}));
  auto b = NewTestRaft(2, 10, 1, t.NewStorage({1, 2, 3}));
  auto c = NewTestRaft(3, 10, 1, t.NewStorage({1, 2, 3}));

  TestNetwork nt = t.NewNetwork(a.get(), b.get(), c.get());

  nt.Send(Hup(1));

  EXPECT_EQ(a->state(), kLeader);
  EXPECT_EQ(b->state(), kFollower);
  EXPECT_EQ(c->state(), kFollower);

  // isolate 3 and increase term in rest
  nt.Isolate(3);

  nt.Send(Hup(2));
  nt.Send(Hup(1));

  EXPECT_EQ(a->state(), kLeader);
  EXPECT_EQ(b->state(), kFollower);

  // trigger campaign in isolated c
  c->ResetRandomizedElectionTimeout();
  for (int i = 0; i < c->randomized_election_timeout(); ++i) c->Tick();
  AdvanceMessagesAfterAppend(*c);

  EXPECT_EQ(c->state(), kCandidate);

  nt.Recover();

  // leader sends to isolated candidate and expects candidate to revert to
  // follower
  nt.Send(Msg(1, 3, mt, a->term()));

  EXPECT_EQ(c->state(), kFollower);
  // follower c term is reset with leader's
  EXPECT_EQ(c->term(), a->term());
}

// Ports etcd's TestCandidateResetTermMsgHeartbeat.
TEST_P(RaftTest, CandidateResetTermMsgHeartbeat) {
  TestCandidateResetTerm(*this, MessageType::kMsgHeartbeat);
}
// Ports etcd's TestCandidateResetTermMsgApp.
TEST_P(RaftTest, CandidateResetTermMsgApp) { TestCandidateResetTerm(*this, MessageType::kMsgApp); }

// The following three tests exercise the behavior of a (pre-)candidate
// when its own self-vote is delivered back to itself after the peer has
// already learned that it has lost the election. The self-vote should be
// ignored in these cases.
void TestCandidateSelfVoteAfterLostElection(RaftTest& t, bool pre_vote) {
  auto sm = NewTestRaft(1, 5, 1, t.NewStorage({1, 2, 3}));
  sm->set_pre_vote(pre_vote);

  // n1 calls an election.
  (void)sm->Step(Hup(1));
  std::vector<Message> steps = sm->TakeMsgsAfterAppend();

  // n1 hears that n2 already won the election before it has had a chance
  // to sync its vote to disk and account for its self-vote. Becomes a
  // follower.
  (void)sm->Step(Msg(2, 1, MessageType::kMsgHeartbeat, sm->term()));
  EXPECT_EQ(sm->state(), kFollower);

  // n1 remains a follower even after its self-vote is delivered.
  (void)StepOrSend(*sm, steps);
  EXPECT_EQ(sm->state(), kFollower);

  // Its self-vote does not make its way to its ProgressTracker.
  EXPECT_EQ(sm->trk().TallyVotes().granted, 0u);
}

// Ports etcd's TestCandidateSelfVoteAfterLostElection.
TEST_P(RaftTest, CandidateSelfVoteAfterLostElection) {
  TestCandidateSelfVoteAfterLostElection(*this, false);
}
// Ports etcd's TestCandidateSelfVoteAfterLostElectionPreVote.
TEST_P(RaftTest, CandidateSelfVoteAfterLostElectionPreVote) {
  TestCandidateSelfVoteAfterLostElection(*this, true);
}

// Ports etcd's TestCandidateDeliversPreCandidateSelfVoteAfterBecomingCandidate.
TEST_P(RaftTest, CandidateDeliversPreCandidateSelfVoteAfterBecomingCandidate) {
  auto sm = NewTestRaft(1, 5, 1, NewStorage({1, 2, 3}));
  sm->set_pre_vote(true);

  // n1 calls an election.
  (void)sm->Step(Hup(1));
  EXPECT_EQ(sm->state(), kPreCandidate);
  std::vector<Message> steps = sm->TakeMsgsAfterAppend();

  // n1 receives pre-candidate votes from both other peers before voting for
  // itself. n1 becomes a candidate.
  // NB: pre-vote messages carry the local term + 1.
  (void)sm->Step(Msg(2, 1, MessageType::kMsgPreVoteResp, sm->term() + 1));
  (void)sm->Step(Msg(3, 1, MessageType::kMsgPreVoteResp, sm->term() + 1));
  EXPECT_EQ(sm->state(), kCandidate);

  // n1 remains a candidate even after its delayed pre-vote self-vote is
  // delivered.
  (void)StepOrSend(*sm, steps);
  EXPECT_EQ(sm->state(), kCandidate);

  steps = sm->TakeMsgsAfterAppend();

  // Its pre-vote self-vote does not make its way to its ProgressTracker.
  EXPECT_EQ(sm->trk().TallyVotes().granted, 0u);

  // A single vote from n2 does not move n1 to the leader.
  (void)sm->Step(Msg(2, 1, MessageType::kMsgVoteResp, sm->term()));
  EXPECT_EQ(sm->state(), kCandidate);

  // n1 becomes the leader once its self-vote is received because now
  // quorum is reached.
  (void)StepOrSend(*sm, steps);
  EXPECT_EQ(sm->state(), kLeader);
}

// Ports etcd's TestLeaderMsgAppSelfAckAfterTermChange.
TEST_P(RaftTest, LeaderMsgAppSelfAckAfterTermChange) {
  auto sm = NewTestRaft(1, 5, 1, NewStorage({1, 2, 3}));
  sm->BecomeCandidate();
  sm->BecomeLeader();

  // n1 proposes a write.
  (void)sm->Step(Prop(1, 1));
  std::vector<Message> steps = sm->TakeMsgsAfterAppend();

  // n1 hears that n2 is the new leader.
  (void)sm->Step(Msg(2, 1, MessageType::kMsgHeartbeat, sm->term() + 1));
  EXPECT_EQ(sm->state(), kFollower);

  // n1 advances, ignoring its earlier self-ack of its MsgApp. The
  // corresponding MsgAppResp is ignored because it carries an earlier term.
  (void)StepOrSend(*sm, steps);
  EXPECT_EQ(sm->state(), kFollower);
}

// Ports etcd's TestLeaderStepdownWhenQuorumActive.
TEST_P(RaftTest, LeaderStepdownWhenQuorumActive) {
  auto sm = NewTestRaft(1, 5, 1, NewStorage({1, 2, 3}));
  sm->set_check_quorum(true);
  sm->BecomeCandidate();
  sm->BecomeLeader();

  for (int i = 0; i < sm->election_timeout() + 1; ++i) {
    (void)sm->Step(Msg(2, 0, MessageType::kMsgHeartbeatResp, sm->term()));
    sm->Tick();
  }
  EXPECT_EQ(sm->state(), kLeader);
}

// Ports etcd's TestLeaderStepdownWhenQuorumLost.
TEST_P(RaftTest, LeaderStepdownWhenQuorumLost) {
  auto sm = NewTestRaft(1, 5, 1, NewStorage({1, 2, 3}));
  sm->set_check_quorum(true);
  sm->BecomeCandidate();
  sm->BecomeLeader();

  for (int i = 0; i < sm->election_timeout() + 1; ++i) sm->Tick();
  EXPECT_EQ(sm->state(), kFollower);
}

// Ports etcd's TestLeaderSupersedingWithCheckQuorum.
TEST_P(RaftTest, LeaderSupersedingWithCheckQuorum) {
  auto a = NewTestRaft(1, 10, 1, NewStorage({1, 2, 3}));
  auto b = NewTestRaft(2, 10, 1, NewStorage({1, 2, 3}));
  auto c = NewTestRaft(3, 10, 1, NewStorage({1, 2, 3}));
  a->set_check_quorum(true);
  b->set_check_quorum(true);
  c->set_check_quorum(true);

  TestNetwork nt = NewNetwork(a.get(), b.get(), c.get());
  SetRandomizedElectionTimeout(*b, b->election_timeout() + 1);

  for (int i = 0; i < b->election_timeout(); ++i) b->Tick();
  nt.Send(Hup(1));

  EXPECT_EQ(a->state(), kLeader);
  EXPECT_EQ(c->state(), kFollower);

  nt.Send(Hup(3));

  // Peer b rejected c's vote since its electionElapsed had not reached
  // electionTimeout
  EXPECT_EQ(c->state(), kCandidate);

  // Letting b's electionElapsed reach electionTimeout
  for (int i = 0; i < b->election_timeout(); ++i) b->Tick();
  nt.Send(Hup(3));

  EXPECT_EQ(c->state(), kLeader);
}

// Ports etcd's TestLeaderElectionWithCheckQuorum.
TEST_P(RaftTest, LeaderElectionWithCheckQuorum) {
  auto a = NewTestRaft(1, 10, 1, NewStorage({1, 2, 3}));
  auto b = NewTestRaft(2, 10, 1, NewStorage({1, 2, 3}));
  auto c = NewTestRaft(3, 10, 1, NewStorage({1, 2, 3}));
  a->set_check_quorum(true);
  b->set_check_quorum(true);
  c->set_check_quorum(true);

  TestNetwork nt = NewNetwork(a.get(), b.get(), c.get());
  SetRandomizedElectionTimeout(*a, a->election_timeout() + 1);
  SetRandomizedElectionTimeout(*b, b->election_timeout() + 2);

  // Immediately after creation, votes are cast regardless of the election
  // timeout.
  nt.Send(Hup(1));

  EXPECT_EQ(a->state(), kLeader);
  EXPECT_EQ(c->state(), kFollower);

  // need to reset randomizedElectionTimeout larger than electionTimeout
  // again, because the value might be reset to electionTimeout since the
  // last state changes
  SetRandomizedElectionTimeout(*a, a->election_timeout() + 1);
  SetRandomizedElectionTimeout(*b, b->election_timeout() + 2);
  for (int i = 0; i < a->election_timeout(); ++i) a->Tick();
  for (int i = 0; i < b->election_timeout(); ++i) b->Tick();
  nt.Send(Hup(3));

  EXPECT_EQ(a->state(), kFollower);
  EXPECT_EQ(c->state(), kLeader);
}

// Ports etcd's TestFreeStuckCandidateWithCheckQuorum: a candidate with a
// higher term can disrupt the leader even if the leader still "officially"
// holds the lease. The leader is expected to step down and adopt the
// candidate's term.
TEST_P(RaftTest, FreeStuckCandidateWithCheckQuorum) {
  auto a = NewTestRaft(1, 10, 1, NewStorage({1, 2, 3}));
  auto b = NewTestRaft(2, 10, 1, NewStorage({1, 2, 3}));
  auto c = NewTestRaft(3, 10, 1, NewStorage({1, 2, 3}));
  a->set_check_quorum(true);
  b->set_check_quorum(true);
  c->set_check_quorum(true);

  TestNetwork nt = NewNetwork(a.get(), b.get(), c.get());
  SetRandomizedElectionTimeout(*b, b->election_timeout() + 1);

  for (int i = 0; i < b->election_timeout(); ++i) b->Tick();
  nt.Send(Hup(1));

  nt.Isolate(1);
  nt.Send(Hup(3));

  EXPECT_EQ(b->state(), kFollower);
  EXPECT_EQ(c->state(), kCandidate);
  EXPECT_EQ(c->term(), b->term() + 1);

  // Vote again for safety
  nt.Send(Hup(3));

  EXPECT_EQ(b->state(), kFollower);
  EXPECT_EQ(c->state(), kCandidate);
  EXPECT_EQ(c->term(), b->term() + 2);

  nt.Recover();
  nt.Send(Msg(1, 3, MessageType::kMsgHeartbeat, a->term()));

  // Disrupt the leader so that the stuck peer is freed
  EXPECT_EQ(a->state(), kFollower);
  EXPECT_EQ(c->term(), a->term());

  // Vote again, should become leader this time
  nt.Send(Hup(3));

  EXPECT_EQ(c->state(), kLeader);
}

// Ports etcd's TestNonPromotableVoterWithCheckQuorum.
TEST_P(RaftTest, NonPromotableVoterWithCheckQuorum) {
  auto a = NewTestRaft(1, 10, 1, NewStorage({1, 2}));
  auto b = NewTestRaft(2, 10, 1, NewStorage({1}));
  a->set_check_quorum(true);
  b->set_check_quorum(true);

  TestNetwork nt = NewNetwork(a.get(), b.get());
  SetRandomizedElectionTimeout(*b, b->election_timeout() + 1);
  // Need to remove 2 again to make it a non-promotable node since
  // newNetwork overwrote some internal states
  b->ApplyConfChange(RemoveNode(2));

  ASSERT_FALSE(b->Promotable());

  for (int i = 0; i < b->election_timeout(); ++i) b->Tick();
  nt.Send(Hup(1));

  EXPECT_EQ(a->state(), kLeader);
  EXPECT_EQ(b->state(), kFollower);
  EXPECT_EQ(b->lead(), 1u);
}

// Ports etcd's TestDisruptiveFollower: an isolated follower, with a slow
// network incoming from the leader, times out and becomes a candidate with
// an increased term. Then the candidate's response to a late leader
// heartbeat forces the leader to step down.
TEST_P(RaftTest, DisruptiveFollower) {
  auto n1 = NewTestRaft(1, 10, 1, NewStorage({1, 2, 3}));
  auto n2 = NewTestRaft(2, 10, 1, NewStorage({1, 2, 3}));
  auto n3 = NewTestRaft(3, 10, 1, NewStorage({1, 2, 3}));
  n1->set_check_quorum(true);
  n2->set_check_quorum(true);
  n3->set_check_quorum(true);

  n1->BecomeFollower(1, kNone);
  n2->BecomeFollower(1, kNone);
  n3->BecomeFollower(1, kNone);

  TestNetwork nt = NewNetwork(n1.get(), n2.get(), n3.get());

  nt.Send(Hup(1));

  // check state
  ASSERT_EQ(n1->state(), kLeader);
  ASSERT_EQ(n2->state(), kFollower);
  ASSERT_EQ(n3->state(), kFollower);

  // etcd server "advanceTicksForElection" on restart; this is to expedite
  // campaign trigger when given larger election timeouts (e.g.
  // multi-datacenter deploy). Or leader messages are being delayed while
  // ticks elapse.
  SetRandomizedElectionTimeout(*n3, n3->election_timeout() + 2);
  for (int i = 0; i < n3->randomized_election_timeout() - 1; ++i) n3->Tick();

  // ideally, before last election tick elapses, the follower n3 receives
  // "pb.MsgApp" or "pb.MsgHeartbeat" from leader n1, and then resets its
  // "electionElapsed"; however, last tick may elapse before receiving any
  // messages from leader, thus triggering campaign
  n3->Tick();

  // n1 is still leader yet while its heartbeat to candidate n3 is being
  // delayed

  // check state
  ASSERT_EQ(n1->state(), kLeader);
  ASSERT_EQ(n2->state(), kFollower);
  ASSERT_EQ(n3->state(), kCandidate);
  // check term
  ASSERT_EQ(n1->term(), 2u);
  ASSERT_EQ(n2->term(), 2u);
  ASSERT_EQ(n3->term(), 3u);

  // while outgoing vote requests are still queued in n3, leader heartbeat
  // finally arrives at candidate n3; however, due to delayed network from
  // leader, leader heartbeat was sent with lower term than candidate's
  nt.Send(Msg(1, 3, MessageType::kMsgHeartbeat, n1->term()));

  // then candidate n3 responds with "pb.MsgAppResp" of higher term and
  // leader steps down from a message with higher term; this is to disrupt
  // the current leader, so that candidate with higher term can be freed
  // with following election

  // check state
  ASSERT_EQ(n1->state(), kFollower);
  ASSERT_EQ(n2->state(), kFollower);
  ASSERT_EQ(n3->state(), kCandidate);
  // check term
  ASSERT_EQ(n1->term(), 3u);
  ASSERT_EQ(n2->term(), 2u);
  ASSERT_EQ(n3->term(), 3u);
}

// Ports etcd's TestDisruptiveFollowerPreVote: an isolated follower, with a
// slow network incoming from the leader, times out and becomes a
// pre-candidate with less log than the current leader. The pre-vote phase
// prevents this isolated node from forcing the current leader to step
// down, thus fewer disruptions.
TEST_P(RaftTest, DisruptiveFollowerPreVote) {
  auto n1 = NewTestRaft(1, 10, 1, NewStorage({1, 2, 3}));
  auto n2 = NewTestRaft(2, 10, 1, NewStorage({1, 2, 3}));
  auto n3 = NewTestRaft(3, 10, 1, NewStorage({1, 2, 3}));
  n1->set_check_quorum(true);
  n2->set_check_quorum(true);
  n3->set_check_quorum(true);

  n1->BecomeFollower(1, kNone);
  n2->BecomeFollower(1, kNone);
  n3->BecomeFollower(1, kNone);

  TestNetwork nt = NewNetwork(n1.get(), n2.get(), n3.get());

  nt.Send(Hup(1));

  // check state
  ASSERT_EQ(n1->state(), kLeader);
  ASSERT_EQ(n2->state(), kFollower);
  ASSERT_EQ(n3->state(), kFollower);

  nt.Isolate(3);
  nt.Send(Prop(1, 1));
  nt.Send(Prop(1, 1));
  nt.Send(Prop(1, 1));
  n1->set_pre_vote(true);
  n2->set_pre_vote(true);
  n3->set_pre_vote(true);
  nt.Recover();
  nt.Send(Hup(3));

  // check state
  ASSERT_EQ(n1->state(), kLeader);
  ASSERT_EQ(n2->state(), kFollower);
  ASSERT_EQ(n3->state(), kPreCandidate);
  // check term
  ASSERT_EQ(n1->term(), 2u);
  ASSERT_EQ(n2->term(), 2u);
  ASSERT_EQ(n3->term(), 2u);

  // delayed leader heartbeat does not force current leader to step down
  nt.Send(Msg(1, 3, MessageType::kMsgHeartbeat, n1->term()));
  ASSERT_EQ(n1->state(), kLeader);
}

void TestReadOnly(RaftTest& t, Raft* a, Raft* b, Raft* c, TestNetwork& nt) {
  (void)t;
  struct Case {
    Raft* sm;
    int proposals;
    uint64_t wri;
    std::string wctx;
  };
  std::vector<Case> tests = {
      {a, 10, 11, "ctx1"}, {b, 10, 21, "ctx2"}, {c, 10, 31, "ctx3"},
      {a, 10, 41, "ctx4"}, {b, 10, 51, "ctx5"}, {c, 10, 61, "ctx6"},
  };
  if (c == nullptr) {
    tests = {{a, 10, 11, "ctx1"}, {b, 10, 21, "ctx2"}, {a, 10, 31, "ctx3"}, {b, 10, 41, "ctx4"}};
  }
  for (size_t i = 0; i < tests.size(); ++i) {
    const Case& tt = tests[i];
    for (int j = 0; j < tt.proposals; ++j) nt.Send(EmptyProp(1, 1));

    nt.Send(ReadIndexMsg(tt.sm->id(), tt.sm->id(), tt.wctx));

    Raft& r = *tt.sm;
    ASSERT_FALSE(r.read_states().empty()) << "#" << i;
    const ReadState& rs = r.read_states()[0];
    EXPECT_EQ(rs.index, tt.wri) << "#" << i;
    EXPECT_EQ(rs.request_ctx, tt.wctx) << "#" << i;
    r.read_states().clear();
  }
}

// Ports etcd's TestReadOnlyOptionSafe.
TEST_P(RaftTest, ReadOnlyOptionSafe) {
  auto a = NewTestRaft(1, 10, 1, NewStorage({1, 2, 3}));
  auto b = NewTestRaft(2, 10, 1, NewStorage({1, 2, 3}));
  auto c = NewTestRaft(3, 10, 1, NewStorage({1, 2, 3}));

  TestNetwork nt = NewNetwork(a.get(), b.get(), c.get());
  SetRandomizedElectionTimeout(*b, b->election_timeout() + 1);

  for (int i = 0; i < b->election_timeout(); ++i) b->Tick();
  nt.Send(Hup(1));

  ASSERT_EQ(a->state(), kLeader);
  TestReadOnly(*this, a.get(), b.get(), c.get(), nt);
}

// Ports etcd's TestReadOnlyWithLearner.
TEST_P(RaftTest, ReadOnlyWithLearner) {
  WritableStorage* s = NewStorage({1}, {2});
  auto a = NewTestLearnerRaft(1, 10, 1, s);
  auto b = NewTestLearnerRaft(2, 10, 1, NewStorage({1}, {2}));

  TestNetwork nt = NewNetwork(a.get(), b.get());
  SetRandomizedElectionTimeout(*b, b->election_timeout() + 1);

  for (int i = 0; i < b->election_timeout(); ++i) b->Tick();
  nt.Send(Hup(1));

  ASSERT_EQ(a->state(), kLeader);

  struct Case {
    Raft* sm;
    int proposals;
    uint64_t wri;
    std::string wctx;
  };
  const std::vector<Case> tests = {
      {a.get(), 10, 11, "ctx1"},
      {b.get(), 10, 21, "ctx2"},
      {a.get(), 10, 31, "ctx3"},
      {b.get(), 10, 41, "ctx4"},
  };
  for (size_t i = 0; i < tests.size(); ++i) {
    const Case& tt = tests[i];
    for (int j = 0; j < tt.proposals; ++j) {
      nt.Send(EmptyProp(1, 1));
      NextEnts(*a, *s);  // append the entries on the leader
    }

    nt.Send(ReadIndexMsg(tt.sm->id(), tt.sm->id(), tt.wctx));

    Raft& r = *tt.sm;
    ASSERT_FALSE(r.read_states().empty()) << "#" << i;
    const ReadState& rs = r.read_states()[0];
    EXPECT_EQ(rs.index, tt.wri) << "#" << i;
    EXPECT_EQ(rs.request_ctx, tt.wctx) << "#" << i;
    r.read_states().clear();
  }
}

// Ports etcd's TestReadOnlyOptionLease.
TEST_P(RaftTest, ReadOnlyOptionLease) {
  auto a = NewTestRaft(1, 10, 1, NewStorage({1, 2, 3}));
  auto b = NewTestRaft(2, 10, 1, NewStorage({1, 2, 3}));
  auto c = NewTestRaft(3, 10, 1, NewStorage({1, 2, 3}));
  a->set_read_only_option(ReadOnlyOption::kReadOnlyLeaseBased);
  b->set_read_only_option(ReadOnlyOption::kReadOnlyLeaseBased);
  c->set_read_only_option(ReadOnlyOption::kReadOnlyLeaseBased);
  a->set_check_quorum(true);
  b->set_check_quorum(true);
  c->set_check_quorum(true);

  TestNetwork nt = NewNetwork(a.get(), b.get(), c.get());
  SetRandomizedElectionTimeout(*b, b->election_timeout() + 1);

  for (int i = 0; i < b->election_timeout(); ++i) b->Tick();
  nt.Send(Hup(1));

  ASSERT_EQ(a->state(), kLeader);
  TestReadOnly(*this, a.get(), b.get(), c.get(), nt);
}

// Ports etcd's TestReadOnlyForNewLeader: a leader only accepts MsgReadIndex
// once it committed at least one log entry in its term.
TEST_P(RaftTest, ReadOnlyForNewLeader) {
  struct NodeConfig {
    uint64_t id;
    uint64_t committed;
    uint64_t applied;
    uint64_t compact_index;
  };
  const std::vector<NodeConfig> node_configs = {
      {1, 1, 1, 0},
      {2, 2, 2, 2},
      {3, 2, 2, 2},
  };
  std::vector<std::unique_ptr<Raft>> peers;
  for (const NodeConfig& c : node_configs) {
    WritableStorage* storage = NewStorage({1, 2, 3});
    ASSERT_TRUE(storage->Append(IndexTerms(1, {1, 1})).ok());
    ASSERT_TRUE(storage->SetHardState(HardState{1, kNone, c.committed}).ok());
    if (c.compact_index != 0) {
      ASSERT_TRUE(storage->Compact(c.compact_index).ok());
    }
    Config cfg = NewTestConfig(c.id, 10, 1, storage);
    cfg.applied = c.applied;
    peers.push_back(NewRaft(cfg));
  }
  TestNetwork nt = NewNetwork(peers[0].get(), peers[1].get(), peers[2].get());

  // Drop MsgApp to forbid peer a to commit any log entry at its term after
  // it becomes leader.
  nt.Ignore(MessageType::kMsgApp);
  // Force peer a to become leader.
  nt.Send(Hup(1));

  Raft& sm = nt.raft(1);
  ASSERT_EQ(sm.state(), kLeader);

  // Ensure peer a drops read only request.
  const uint64_t windex = 4;
  const std::string wctx = "ctx";
  nt.Send(ReadIndexMsg(1, 1, wctx));
  ASSERT_TRUE(sm.read_states().empty());

  nt.Recover();

  // Force peer a to commit a log entry at its term
  for (int i = 0; i < sm.heartbeat_timeout(); ++i) sm.Tick();
  nt.Send(EmptyProp(1, 1));
  ASSERT_EQ(sm.raft_log().committed(), 4u);
  const uint64_t last_log_term =
      sm.raft_log().ZeroTermOnOutOfBounds(sm.raft_log().Term(sm.raft_log().committed()));
  ASSERT_EQ(last_log_term, sm.term());

  // Ensure peer a processed postponed read only request after it committed
  // an entry at its term.
  ASSERT_EQ(sm.read_states().size(), 1u);
  EXPECT_EQ(sm.read_states()[0].index, windex);
  EXPECT_EQ(sm.read_states()[0].request_ctx, wctx);

  // Ensure peer a accepts read only request after it committed an entry at
  // its term.
  nt.Send(ReadIndexMsg(1, 1, wctx));
  ASSERT_EQ(sm.read_states().size(), 2u);
  EXPECT_EQ(sm.read_states()[1].index, windex);
  EXPECT_EQ(sm.read_states()[1].request_ctx, wctx);
}

// Ports etcd's TestLeaderAppResp.
TEST_P(RaftTest, LeaderAppResp) {
  // initial progress: match = 0; next = 3
  struct Case {
    uint64_t index;
    bool reject;
    // progress
    uint64_t wmatch;
    uint64_t wnext;
    // message
    size_t wmsg_num;
    uint64_t windex;
    uint64_t wcommitted;
  };
  const std::vector<Case> tests = {
      {3, true, 0, 3, 0, 0, 0},  // stale resp; no replies
      {2, true, 0, 2, 1, 1,
       0},  // denied resp; leader does not commit; decrease next and send probing msg
      {2, false, 2, 4, 2, 2, 2},  // accept resp; leader commits; broadcast with commit index
      // Follower is StateProbing at 0, it sends MsgAppResp for 0 (which
      // matches the pr.Match) so it is moved to StateReplicate and as many
      // entries as possible are sent to it (1, 2, and 3). Correspondingly
      // the Next is then 4 (an Entry at 4 does not exist, indicating the
      // follower will be up to date should it process the emitted MsgApp).
      {0, false, 0, 4, 1, 0, 0},
  };
  for (size_t i = 0; i < tests.size(); ++i) {
    const Case& tt = tests[i];
    // sm term is 1 after it becomes the leader. thus the last log term must
    // be 1 to be committed.
    auto sm = NewTestRaft(1, 10, 1, NewStorage({1, 2, 3}));
    WritableStorage* log_storage = NewStorage();
    ASSERT_TRUE(log_storage->Append(IndexTerms(1, {1, 1})).ok());
    sm->raft_log() = internal::RaftLog::NewLog(*log_storage, sm->logger());
    sm->BecomeCandidate();
    sm->BecomeLeader();
    ReadMessages(*sm);
    Message m = Msg(2, 0, MessageType::kMsgAppResp, sm->term());
    m.index = tt.index;
    m.reject = tt.reject;
    m.reject_hint = tt.index;
    ASSERT_TRUE(sm->Step(m).ok());

    const tracker::Progress& p = sm->trk().progress[2];
    EXPECT_EQ(p.match, tt.wmatch) << "#" << i;
    EXPECT_EQ(p.next, tt.wnext) << "#" << i;

    std::vector<Message> msgs = ReadMessages(*sm);
    ASSERT_EQ(msgs.size(), tt.wmsg_num) << "#" << i;
    for (const Message& msg : msgs) {
      EXPECT_EQ(msg.index, tt.windex) << "#" << i << " " << DescribeMessage(msg);
      EXPECT_EQ(msg.commit, tt.wcommitted) << "#" << i << " " << DescribeMessage(msg);
    }
  }
}

// Ports etcd's TestBcastBeat: when the leader receives a heartbeat tick, it
// sends a MsgHeartbeat with index 0, log term 0 and no entries.
TEST_P(RaftTest, BcastBeat) {
  const uint64_t offset = 1000;
  // make a state machine with log.offset = 1000
  Snapshot s;
  s.metadata.index = offset;
  s.metadata.term = 1;
  s.metadata.conf_state.voters = {1, 2, 3};
  WritableStorage* storage = NewStorage();
  ASSERT_TRUE(storage->ApplySnapshot(s).ok());
  auto sm = NewTestRaft(1, 10, 1, storage);
  sm->set_term(1);

  sm->BecomeCandidate();
  sm->BecomeLeader();
  for (uint64_t i = 0; i < 10; ++i) MustAppendEntry(*sm, {Entry{0, i + 1, EntryType::kNormal, {}}});
  AdvanceMessagesAfterAppend(*sm);

  // slow follower
  sm->trk().progress[2].match = 5;
  sm->trk().progress[2].next = 6;
  // normal follower
  sm->trk().progress[3].match = sm->raft_log().LastIndex();
  sm->trk().progress[3].next = sm->raft_log().LastIndex() + 1;

  (void)sm->Step(Msg(0, 0, MessageType::kMsgBeat));
  std::vector<Message> msgs = ReadMessages(*sm);
  ASSERT_EQ(msgs.size(), 2u);

  std::map<uint64_t, uint64_t> want_commit = {
      {2, std::min(sm->raft_log().committed(), sm->trk().progress[2].match)},
      {3, std::min(sm->raft_log().committed(), sm->trk().progress[3].match)},
  };
  for (size_t i = 0; i < msgs.size(); ++i) {
    const Message& m = msgs[i];
    EXPECT_EQ(m.type, MessageType::kMsgHeartbeat) << "#" << i;
    EXPECT_EQ(m.index, 0u) << "#" << i;
    EXPECT_EQ(m.log_term, 0u) << "#" << i;
    auto it = want_commit.find(m.to);
    ASSERT_NE(it, want_commit.end()) << "#" << i;
    EXPECT_EQ(m.commit, it->second) << "#" << i;
    want_commit.erase(it);
    EXPECT_TRUE(m.entries.empty()) << "#" << i;
  }
}

// Ports etcd's TestRecvMsgBeat: the output of the state machine when
// receiving MsgBeat.
TEST_P(RaftTest, RecvMsgBeat) {
  struct Case {
    StateType state;
    size_t w_msg;
  };
  const std::vector<Case> tests = {
      {kLeader, 2},
      // candidate and follower should ignore MsgBeat
      {kCandidate, 0},
      {kFollower, 0},
  };
  for (size_t i = 0; i < tests.size(); ++i) {
    const Case& tt = tests[i];
    auto sm = NewTestRaft(1, 10, 1, NewStorage({1, 2, 3}));
    WritableStorage* log_storage = NewStorage();
    ASSERT_TRUE(log_storage->Append(IndexTerms(1, {1, 1})).ok());
    sm->raft_log() = internal::RaftLog::NewLog(*log_storage, sm->logger());
    sm->set_term(1);
    sm->set_state(tt.state);
    switch (tt.state) {
      case StateType::kStateFollower:
        sm->set_step(&Raft::StepFollower);
        break;
      case StateType::kStateCandidate:
        sm->set_step(&Raft::StepCandidate);
        break;
      case StateType::kStateLeader:
        sm->set_step(&Raft::StepLeader);
        break;
      default:
        break;
    }
    (void)sm->Step(Beat(1));

    std::vector<Message> msgs = ReadMessages(*sm);
    EXPECT_EQ(msgs.size(), tt.w_msg) << "#" << i;
    for (const Message& m : msgs) EXPECT_EQ(m.type, MessageType::kMsgHeartbeat) << "#" << i;
  }
}

// Ports etcd's TestLeaderIncreaseNext.
TEST_P(RaftTest, LeaderIncreaseNext) {
  const std::vector<Entry> previous_ents = IndexTerms(1, {1, 2, 3});
  struct Case {
    // progress
    tracker::StateType state;
    uint64_t next;
    uint64_t wnext;
  };
  const std::vector<Case> tests = {
      // state replicate, optimistically increase next
      // previous entries + noop entry + propose + 1
      {kStateReplicate, 2, previous_ents.size() + 1 + 1 + 1},
      // state probe, not optimistically increase next
      {kStateProbe, 2, 2},
  };
  for (size_t i = 0; i < tests.size(); ++i) {
    const Case& tt = tests[i];
    auto sm = NewTestRaft(1, 10, 1, NewStorage({1, 2}));
    sm->raft_log().Append(previous_ents);
    sm->BecomeCandidate();
    sm->BecomeLeader();
    sm->trk().progress[2].state = tt.state;
    sm->trk().progress[2].next = tt.next;
    (void)sm->Step(Prop(1, 1));

    EXPECT_EQ(sm->trk().progress[2].next, tt.wnext) << "#" << i;
  }
}

// Ports etcd's TestSendAppendForProgressProbe.
TEST_P(RaftTest, SendAppendForProgressProbe) {
  auto r = NewTestRaft(1, 10, 1, NewStorage({1, 2}));
  r->BecomeCandidate();
  r->BecomeLeader();
  ReadMessages(*r);
  r->trk().progress[2].BecomeProbe();

  // each round is a heartbeat
  for (int i = 0; i < 3; ++i) {
    if (i == 0) {
      // we expect that raft will only send out one msgAPP on the first
      // loop. After that, the follower is paused until a heartbeat response
      // is received.
      MustAppendEntry(*r, {DataEntry("somedata")});
      r->SendAppend(2);
      std::vector<Message> msg = ReadMessages(*r);
      ASSERT_EQ(msg.size(), 1u);
      EXPECT_EQ(msg[0].index, 0u);
    }

    EXPECT_TRUE(r->trk().progress[2].msg_app_flow_paused);
    for (int j = 0; j < 10; ++j) {
      MustAppendEntry(*r, {DataEntry("somedata")});
      r->SendAppend(2);
      EXPECT_TRUE(ReadMessages(*r).empty());
    }

    // do a heartbeat
    for (int j = 0; j < r->heartbeat_timeout(); ++j) (void)r->Step(Beat(1));
    EXPECT_TRUE(r->trk().progress[2].msg_app_flow_paused);

    // consume the heartbeat
    std::vector<Message> msg = ReadMessages(*r);
    ASSERT_EQ(msg.size(), 1u);
    EXPECT_EQ(msg[0].type, MessageType::kMsgHeartbeat);
  }

  // a heartbeat response will allow another message to be sent
  (void)r->Step(Msg(2, 1, MessageType::kMsgHeartbeatResp));
  std::vector<Message> msg = ReadMessages(*r);
  ASSERT_EQ(msg.size(), 1u);
  EXPECT_EQ(msg[0].index, 0u);
  EXPECT_TRUE(r->trk().progress[2].msg_app_flow_paused);
}

// Ports etcd's TestSendAppendForProgressReplicate.
TEST_P(RaftTest, SendAppendForProgressReplicate) {
  auto r = NewTestRaft(1, 10, 1, NewStorage({1, 2}));
  r->BecomeCandidate();
  r->BecomeLeader();
  ReadMessages(*r);
  r->trk().progress[2].BecomeReplicate();

  for (int i = 0; i < 10; ++i) {
    MustAppendEntry(*r, {DataEntry("somedata")});
    r->SendAppend(2);
    EXPECT_EQ(ReadMessages(*r).size(), 1u) << "#" << i;
  }
}

// Ports etcd's TestSendAppendForProgressSnapshot.
TEST_P(RaftTest, SendAppendForProgressSnapshot) {
  auto r = NewTestRaft(1, 10, 1, NewStorage({1, 2}));
  r->BecomeCandidate();
  r->BecomeLeader();
  ReadMessages(*r);
  r->trk().progress[2].BecomeSnapshot(10);

  for (int i = 0; i < 10; ++i) {
    MustAppendEntry(*r, {DataEntry("somedata")});
    r->SendAppend(2);
    EXPECT_TRUE(ReadMessages(*r).empty()) << "#" << i;
  }
}

// Ports etcd's TestRecvMsgUnreachable.
TEST_P(RaftTest, RecvMsgUnreachable) {
  WritableStorage* s = NewStorage({1, 2});
  ASSERT_TRUE(s->Append(IndexTerms(1, {1, 2, 3})).ok());
  auto r = NewTestRaft(1, 10, 1, s);
  r->BecomeCandidate();
  r->BecomeLeader();
  ReadMessages(*r);
  // set node 2 to state replicate
  r->trk().progress[2].match = 3;
  r->trk().progress[2].BecomeReplicate();
  r->trk().progress[2].next = 6;

  (void)r->Step(Msg(2, 1, MessageType::kMsgUnreachable));

  EXPECT_EQ(r->trk().progress[2].state, kStateProbe);
  EXPECT_EQ(r->trk().progress[2].next, r->trk().progress[2].match + 1);
}

Snapshot SnapWith(uint64_t index, uint64_t term, std::vector<uint64_t> voters,
                  std::vector<uint64_t> learners = {}, std::vector<uint64_t> outgoing = {}) {
  Snapshot s;
  s.metadata.index = index;
  s.metadata.term = term;
  s.metadata.conf_state.voters = std::move(voters);
  s.metadata.conf_state.learners = std::move(learners);
  s.metadata.conf_state.voters_outgoing = std::move(outgoing);
  return s;
}

std::shared_ptr<const Snapshot> Shared(const Snapshot& s) {
  return std::make_shared<const Snapshot>(s);
}

uint64_t MustTerm(const Result<uint64_t>& t) {
  EXPECT_TRUE(t.ok()) << t.status().ToString();
  return t.ok() ? *t : 0;
}

// Ports etcd's TestRestore.
TEST_P(RaftTest, Restore) {
  const Snapshot s = SnapWith(11, 11, {1, 2, 3});  // magic numbers

  auto sm = NewTestRaft(1, 10, 1, NewStorage({1, 2}));
  ASSERT_TRUE(sm->Restore(Shared(s)));

  EXPECT_EQ(sm->raft_log().LastIndex(), s.metadata.index);
  EXPECT_EQ(MustTerm(sm->raft_log().Term(s.metadata.index)), s.metadata.term);
  EXPECT_EQ(sm->trk().VoterNodes(), s.metadata.conf_state.voters);

  ASSERT_FALSE(sm->Restore(Shared(s)));
  for (int i = 0; i < sm->randomized_election_timeout(); ++i) sm->Tick();
  EXPECT_EQ(sm->state(), kFollower);
}

// Ports etcd's TestRestoreWithLearner: restores a snapshot which contains
// learners.
TEST_P(RaftTest, RestoreWithLearner) {
  const Snapshot s = SnapWith(11, 11, {1, 2}, {3});

  auto sm = NewTestLearnerRaft(3, 8, 2, NewStorage({1, 2}, {3}));
  EXPECT_TRUE(sm->Restore(Shared(s)));

  EXPECT_EQ(sm->raft_log().LastIndex(), s.metadata.index);
  EXPECT_EQ(MustTerm(sm->raft_log().Term(s.metadata.index)), s.metadata.term);

  EXPECT_EQ(sm->trk().VoterNodes().size(), s.metadata.conf_state.voters.size());
  EXPECT_EQ(sm->trk().LearnerNodes().size(), s.metadata.conf_state.learners.size());
  for (uint64_t n : s.metadata.conf_state.voters) EXPECT_FALSE(sm->trk().progress[n].is_learner);
  for (uint64_t n : s.metadata.conf_state.learners) EXPECT_TRUE(sm->trk().progress[n].is_learner);

  EXPECT_FALSE(sm->Restore(Shared(s)));
}

// Ports etcd's TestRestoreWithVotersOutgoing: an outgoing voter can receive
// and apply a snapshot correctly.
TEST_P(RaftTest, RestoreWithVotersOutgoing) {
  const Snapshot s = SnapWith(11, 11, {2, 3, 4}, {}, {1, 2, 3});

  auto sm = NewTestRaft(1, 10, 1, NewStorage({1, 2}));
  ASSERT_TRUE(sm->Restore(Shared(s)));

  EXPECT_EQ(sm->raft_log().LastIndex(), s.metadata.index);
  EXPECT_EQ(MustTerm(sm->raft_log().Term(s.metadata.index)), s.metadata.term);
  EXPECT_EQ(sm->trk().VoterNodes(), (std::vector<uint64_t>{1, 2, 3, 4}));

  ASSERT_FALSE(sm->Restore(Shared(s)));

  // It should not campaign before actually applying data.
  for (int i = 0; i < sm->randomized_election_timeout(); ++i) sm->Tick();
  EXPECT_EQ(sm->state(), kFollower);
}

// Ports etcd's TestRestoreVoterToLearner: a normal peer can be downgraded
// to a learner through a snapshot. Configuration changes cannot do this
// directly, but a snapshot may compress several changes (the voter removed,
// then re-added as a learner): the node must accept that snapshot, or it is
// permanently cut off from the log.
TEST_P(RaftTest, RestoreVoterToLearner) {
  const Snapshot s = SnapWith(11, 11, {1, 2}, {3});

  auto sm = NewTestRaft(3, 10, 1, NewStorage({1, 2, 3}));
  EXPECT_FALSE(sm->is_learner());
  EXPECT_TRUE(sm->Restore(Shared(s)));
}

// Ports etcd's TestRestoreLearnerPromotion: a learner can become a follower
// after restoring a snapshot.
TEST_P(RaftTest, RestoreLearnerPromotion) {
  const Snapshot s = SnapWith(11, 11, {1, 2, 3});

  auto sm = NewTestLearnerRaft(3, 10, 1, NewStorage({1, 2}, {3}));
  EXPECT_TRUE(sm->is_learner());
  EXPECT_TRUE(sm->Restore(Shared(s)));
  EXPECT_FALSE(sm->is_learner());
}

// Ports etcd's TestLearnerReceiveSnapshot: a learner can receive a snapshot
// from the leader.
TEST_P(RaftTest, LearnerReceiveSnapshot) {
  // restore the state machine from a snapshot so it has a compacted log and
  // a snapshot
  const Snapshot s = SnapWith(11, 11, {1}, {2});

  WritableStorage* store = NewStorage({1}, {2});
  auto n1 = NewTestLearnerRaft(1, 10, 1, store);
  auto n2 = NewTestLearnerRaft(2, 10, 1, NewStorage({1}, {2}));

  n1->Restore(Shared(s));
  std::shared_ptr<const Snapshot> snap = n1->raft_log().NextUnstableSnapshot();
  ASSERT_NE(snap, nullptr);
  ASSERT_TRUE(store->ApplySnapshot(*snap).ok());
  n1->AppliedSnap(*snap);

  TestNetwork nt = NewNetwork(n1.get(), n2.get());

  SetRandomizedElectionTimeout(*n1, n1->election_timeout());
  for (int i = 0; i < n1->election_timeout(); ++i) n1->Tick();

  nt.Send(Beat(1));

  EXPECT_EQ(n2->raft_log().committed(), n1->raft_log().committed());
}

// Ports etcd's TestRestoreIgnoreSnapshot.
TEST_P(RaftTest, RestoreIgnoreSnapshot) {
  const std::vector<Entry> previous_ents = IndexTerms(1, {1, 1, 1});
  const uint64_t commit = 1;
  auto sm = NewTestRaft(1, 10, 1, NewStorage({1, 2}));
  sm->raft_log().Append(previous_ents);
  sm->raft_log().CommitTo(commit);

  Snapshot s = SnapWith(commit, 1, {1, 2});

  // ignore snapshot
  EXPECT_FALSE(sm->Restore(Shared(s)));
  EXPECT_EQ(sm->raft_log().committed(), commit);

  // ignore snapshot and fast forward commit
  s.metadata.index = commit + 1;
  EXPECT_FALSE(sm->Restore(Shared(s)));
  EXPECT_EQ(sm->raft_log().committed(), commit + 1);
}

// Ports etcd's TestProvideSnap.
TEST_P(RaftTest, ProvideSnap) {
  // restore the state machine from a snapshot so it has a compacted log and
  // a snapshot
  const Snapshot s = SnapWith(11, 11, {1, 2});
  auto sm = NewTestRaft(1, 10, 1, NewStorage({1}));
  sm->Restore(Shared(s));

  sm->BecomeCandidate();
  sm->BecomeLeader();

  // force set the next of node 2, so that node 2 needs a snapshot
  sm->trk().progress[2].next = sm->raft_log().FirstIndex();
  Message m = AppResp(2, 1, sm->trk().progress[2].next - 1);
  m.reject = true;
  (void)sm->Step(m);

  std::vector<Message> msgs = ReadMessages(*sm);
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(msgs[0].type, MessageType::kMsgSnap);
}

// Ports etcd's TestIgnoreProvidingSnap.
TEST_P(RaftTest, IgnoreProvidingSnap) {
  // restore the state machine from a snapshot so it has a compacted log and
  // a snapshot
  const Snapshot s = SnapWith(11, 11, {1, 2});
  auto sm = NewTestRaft(1, 10, 1, NewStorage({1}));
  sm->Restore(Shared(s));

  sm->BecomeCandidate();
  sm->BecomeLeader();

  // force set the next of node 2, so that node 2 needs a snapshot; change
  // node 2 to be inactive, expect node 1 ignore sending snapshot to 2
  sm->trk().progress[2].next = sm->raft_log().FirstIndex() - 1;
  sm->trk().progress[2].recent_active = false;

  (void)sm->Step(Prop(1, 1));

  EXPECT_TRUE(ReadMessages(*sm).empty());
}

// Ports etcd's TestRestoreFromSnapMsg.
TEST_P(RaftTest, RestoreFromSnapMsg) {
  Message m = Msg(1, 0, MessageType::kMsgSnap, 2);
  m.snapshot = Shared(SnapWith(11, 11, {1, 2}));

  auto sm = NewTestRaft(2, 10, 1, NewStorage({1, 2}));
  (void)sm->Step(m);

  EXPECT_EQ(sm->lead(), 1u);
}

// Ports etcd's TestSlowNodeRestore.
TEST_P(RaftTest, SlowNodeRestore) {
  TestNetwork nt = NewNetwork(nullptr, nullptr, nullptr);
  nt.Send(Hup(1));

  nt.Isolate(3);
  for (int j = 0; j <= 100; ++j) nt.Send(EmptyProp(1, 1));
  Raft& lead = nt.raft(1);
  NextEnts(lead, *nt.storage(1));
  ConfState cs;
  cs.voters = lead.trk().VoterNodes();
  ASSERT_TRUE(nt.storage(1)->CreateSnapshot(lead.raft_log().applied(), &cs, "").ok());
  ASSERT_TRUE(nt.storage(1)->Compact(lead.raft_log().applied()).ok());

  nt.Recover();
  // send heartbeats so that the leader can learn everyone is active. node 3
  // will only be considered as active when node 1 receives a reply from it.
  for (;;) {
    nt.Send(Beat(1));
    if (lead.trk().progress[3].recent_active) break;
  }

  // trigger a snapshot
  nt.Send(EmptyProp(1, 1));

  Raft& follower = nt.raft(3);

  // trigger a commit
  nt.Send(EmptyProp(1, 1));
  EXPECT_EQ(follower.raft_log().committed(), lead.raft_log().committed());
}

// Ports etcd's TestStepConfig: when raft steps a MsgProp of EntryConfChange
// type, it appends the entry to the log and sets pendingConf.
TEST_P(RaftTest, StepConfig) {
  // a raft that cannot make progress
  auto r = NewTestRaft(1, 10, 1, NewStorage({1, 2}));
  r->BecomeCandidate();
  r->BecomeLeader();
  const uint64_t index = r->raft_log().LastIndex();
  Message m = Msg(1, 1, MessageType::kMsgProp);
  m.entries.push_back(Entry{0, 0, EntryType::kConfChange, {}});
  (void)r->Step(m);
  EXPECT_EQ(r->raft_log().LastIndex(), index + 1);
  EXPECT_EQ(r->pending_conf_index(), index + 1);
}

// Ports etcd's TestStepIgnoreConfig: if raft steps a second MsgProp of
// EntryConfChange type while the first one is uncommitted, the node turns
// the proposal into a noop and keeps its original state.
TEST_P(RaftTest, StepIgnoreConfig) {
  // a raft that cannot make progress
  auto r = NewTestRaft(1, 10, 1, NewStorage({1, 2}));
  r->BecomeCandidate();
  r->BecomeLeader();
  Message m = Msg(1, 1, MessageType::kMsgProp);
  m.entries.push_back(Entry{0, 0, EntryType::kConfChange, {}});
  (void)r->Step(m);
  const uint64_t index = r->raft_log().LastIndex();
  const uint64_t pending_conf_index = r->pending_conf_index();
  (void)r->Step(m);
  const std::vector<Entry> wents = {Entry{1, 3, EntryType::kNormal, {}}};
  Result<std::vector<Entry>> ents = r->raft_log().Entries(index + 1, kNoLimit);
  ASSERT_TRUE(ents.ok());
  EXPECT_EQ(*ents, wents);
  EXPECT_EQ(r->pending_conf_index(), pending_conf_index);
}

// Ports etcd's TestNewLeaderPendingConfig: a new leader sets its
// pendingConfigIndex based on uncommitted entries.
TEST_P(RaftTest, NewLeaderPendingConfig) {
  struct Case {
    bool add_entry;
    uint64_t wpending_index;
  };
  const std::vector<Case> tests = {{false, 0}, {true, 1}};
  for (size_t i = 0; i < tests.size(); ++i) {
    auto r = NewTestRaft(1, 10, 1, NewStorage({1, 2}));
    if (tests[i].add_entry) MustAppendEntry(*r, {Entry{}});
    r->BecomeCandidate();
    r->BecomeLeader();
    EXPECT_EQ(r->pending_conf_index(), tests[i].wpending_index) << "#" << i;
  }
}

// Ports etcd's TestAddNode: addNode updates nodes correctly.
TEST_P(RaftTest, AddNode) {
  auto r = NewTestRaft(1, 10, 1, NewStorage({1}));
  r->ApplyConfChange(AddNode(2));
  EXPECT_EQ(r->trk().VoterNodes(), (std::vector<uint64_t>{1, 2}));
}

// Ports etcd's TestAddLearner: addLearner updates nodes correctly.
TEST_P(RaftTest, AddLearner) {
  auto r = NewTestRaft(1, 10, 1, NewStorage({1}));
  // Add new learner peer.
  r->ApplyConfChange(AddLearner(2));
  ASSERT_FALSE(r->is_learner());
  EXPECT_EQ(r->trk().LearnerNodes(), (std::vector<uint64_t>{2}));
  ASSERT_TRUE(r->trk().progress[2].is_learner);

  // Promote peer to voter.
  r->ApplyConfChange(AddNode(2));
  ASSERT_FALSE(r->trk().progress[2].is_learner);

  // Demote r.
  r->ApplyConfChange(AddLearner(1));
  ASSERT_TRUE(r->trk().progress[1].is_learner);
  ASSERT_TRUE(r->is_learner());

  // Promote r again.
  r->ApplyConfChange(AddNode(1));
  ASSERT_FALSE(r->trk().progress[1].is_learner);
  ASSERT_FALSE(r->is_learner());
}

// Ports etcd's TestAddNodeCheckQuorum: addNode does not trigger a leader
// election immediately when checkQuorum is set.
TEST_P(RaftTest, AddNodeCheckQuorum) {
  auto r = NewTestRaft(1, 10, 1, NewStorage({1}));
  r->set_check_quorum(true);

  r->BecomeCandidate();
  r->BecomeLeader();

  for (int i = 0; i < r->election_timeout() - 1; ++i) r->Tick();

  r->ApplyConfChange(AddNode(2));

  // This tick will reach electionTimeout, which triggers a quorum check.
  r->Tick();

  // Node 1 should still be the leader after a single tick.
  EXPECT_EQ(r->state(), kLeader);

  // After another electionTimeout ticks without hearing from node 2, node 1
  // should step down.
  for (int i = 0; i < r->election_timeout(); ++i) r->Tick();

  EXPECT_EQ(r->state(), kFollower);
}

// Ports etcd's TestRemoveNode: removeNode updates nodes and the removed
// list correctly.
TEST_P(RaftTest, RemoveNode) {
  auto r = NewTestRaft(1, 10, 1, NewStorage({1, 2}));
  r->ApplyConfChange(RemoveNode(2));
  EXPECT_EQ(r->trk().VoterNodes(), (std::vector<uint64_t>{1}));

  // Removing the remaining voter will panic.
  if (!disk()) {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    EXPECT_DEATH(r->ApplyConfChange(RemoveNode(1)), "removed all voters");
  }
}

// Ports etcd's TestRemoveLearner: removeNode updates nodes and the removed
// list correctly.
TEST_P(RaftTest, RemoveLearner) {
  auto r = NewTestLearnerRaft(1, 10, 1, NewStorage({1}, {2}));
  r->ApplyConfChange(RemoveNode(2));
  EXPECT_EQ(r->trk().VoterNodes(), (std::vector<uint64_t>{1}));
  EXPECT_TRUE(r->trk().LearnerNodes().empty());

  // Removing the remaining voter will panic.
  if (!disk()) {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    EXPECT_DEATH(r->ApplyConfChange(RemoveNode(1)), "removed all voters");
  }
}

// Ports etcd's TestPromotable.
TEST_P(RaftTest, Promotable) {
  const uint64_t id = 1;
  struct Case {
    std::vector<uint64_t> peers;
    bool wp;
  };
  const std::vector<Case> tests = {
      {{1}, true},
      {{1, 2, 3}, true},
      {{}, false},
      {{2, 3}, false},
  };
  for (size_t i = 0; i < tests.size(); ++i) {
    auto r = NewTestRaft(id, 5, 1, NewStorage(tests[i].peers));
    EXPECT_EQ(r->Promotable(), tests[i].wp) << "#" << i;
  }
}

// Ports etcd's TestRaftNodes.
TEST_P(RaftTest, RaftNodes) {
  struct Case {
    std::vector<uint64_t> ids;
    std::vector<uint64_t> wids;
  };
  const std::vector<Case> tests = {
      {{1, 2, 3}, {1, 2, 3}},
      {{3, 2, 1}, {1, 2, 3}},
  };
  for (size_t i = 0; i < tests.size(); ++i) {
    auto r = NewTestRaft(1, 10, 1, NewStorage(tests[i].ids));
    EXPECT_EQ(r->trk().VoterNodes(), tests[i].wids) << "#" << i;
  }
}

void TestCampaignWhileLeader(RaftTest& t, bool pre_vote) {
  Config cfg = NewTestConfig(1, 5, 1, t.NewStorage({1}));
  cfg.pre_vote = pre_vote;
  auto r = NewRaft(cfg);
  EXPECT_EQ(r->state(), kFollower);
  // We don't call campaign() directly because it comes after the check for
  // our current state.
  (void)r->Step(Hup(1));
  AdvanceMessagesAfterAppend(*r);
  EXPECT_EQ(r->state(), kLeader);

  const uint64_t term = r->term();
  (void)r->Step(Hup(1));
  AdvanceMessagesAfterAppend(*r);
  EXPECT_EQ(r->state(), kLeader);
  EXPECT_EQ(r->term(), term);
}

// Ports etcd's TestCampaignWhileLeader.
TEST_P(RaftTest, CampaignWhileLeader) { TestCampaignWhileLeader(*this, false); }
// Ports etcd's TestPreCampaignWhileLeader.
TEST_P(RaftTest, PreCampaignWhileLeader) { TestCampaignWhileLeader(*this, true); }

// Ports etcd's TestCommitAfterRemoveNode: pending commands can become
// committed when a config change reduces the quorum requirements.
TEST_P(RaftTest, CommitAfterRemoveNode) {
  // Create a cluster with two nodes.
  WritableStorage* s = NewStorage({1, 2});
  auto r = NewTestRaft(1, 5, 1, s);
  r->BecomeCandidate();
  r->BecomeLeader();

  // Begin to remove the second node.
  const ConfChange cc{ConfChangeType::kRemoveNode, 2, {}, 0};
  Message m = Msg(0, 0, MessageType::kMsgProp);
  m.entries.push_back(Entry{0, 0, EntryType::kConfChange, EncodeConfChange(cc)});
  (void)r->Step(m);

  // Stabilize the log and make sure nothing is committed yet.
  ASSERT_TRUE(NextEnts(*r, *s).empty());
  const uint64_t cc_index = r->raft_log().LastIndex();

  // While the config change is pending, make another proposal.
  (void)r->Step(Prop(0, 0, "hello"));

  // Node 2 acknowledges the config change, committing it.
  (void)r->Step(AppResp(2, 0, cc_index));
  std::vector<Entry> ents = NextEnts(*r, *s);
  ASSERT_EQ(ents.size(), 2u);
  EXPECT_EQ(ents[0].type, EntryType::kNormal);
  EXPECT_TRUE(ents[0].data.empty());
  EXPECT_EQ(ents[1].type, EntryType::kConfChange);

  // Apply the config change. This reduces quorum requirements so the
  // pending command can now commit.
  r->ApplyConfChange(AsV2(cc));
  ents = NextEnts(*r, *s);
  ASSERT_EQ(ents.size(), 1u);
  EXPECT_EQ(ents[0].type, EntryType::kNormal);
  EXPECT_EQ(ents[0].data, "hello");
}

void CheckLeaderTransferState(const Raft& r, StateType state, uint64_t lead) {
  EXPECT_EQ(r.state(), state);
  EXPECT_EQ(r.lead(), lead);
  EXPECT_EQ(r.lead_transferee(), kNone);
}

// Ports etcd's TestLeaderTransferToUpToDateNode: transferring succeeds if
// the transferee has the most up-to-date log entries when transfer starts.
TEST_P(RaftTest, LeaderTransferToUpToDateNode) {
  TestNetwork nt = NewNetwork(nullptr, nullptr, nullptr);
  nt.Send(Hup(1));

  Raft& lead = nt.raft(1);
  ASSERT_EQ(lead.lead(), 1u);

  // Transfer leadership to 2.
  nt.Send(Msg(2, 1, MessageType::kMsgTransferLeader));

  CheckLeaderTransferState(lead, kFollower, 2);

  // After some log replication, transfer leadership back to 1.
  nt.Send(EmptyProp(1, 1));

  nt.Send(Msg(1, 2, MessageType::kMsgTransferLeader));

  CheckLeaderTransferState(lead, kLeader, 1);
}

// Ports etcd's TestLeaderTransferToUpToDateNodeFromFollower: as above, but
// every leader transfer message is sent to the follower.
TEST_P(RaftTest, LeaderTransferToUpToDateNodeFromFollower) {
  TestNetwork nt = NewNetwork(nullptr, nullptr, nullptr);
  nt.Send(Hup(1));

  Raft& lead = nt.raft(1);
  ASSERT_EQ(lead.lead(), 1u);

  // Transfer leadership to 2.
  nt.Send(Msg(2, 2, MessageType::kMsgTransferLeader));

  CheckLeaderTransferState(lead, kFollower, 2);

  // After some log replication, transfer leadership back to 1.
  nt.Send(EmptyProp(1, 1));

  nt.Send(Msg(1, 1, MessageType::kMsgTransferLeader));

  CheckLeaderTransferState(lead, kLeader, 1);
}

// Ports etcd's TestLeaderTransferWithCheckQuorum: transferring leadership
// still works even if the current leader is still under its leader lease.
TEST_P(RaftTest, LeaderTransferWithCheckQuorum) {
  TestNetwork nt = NewNetwork(nullptr, nullptr, nullptr);
  for (int i = 1; i < 4; ++i) {
    Raft& r = nt.raft(i);
    r.set_check_quorum(true);
    SetRandomizedElectionTimeout(r, r.election_timeout() + i);
  }

  // Letting peer 2 electionElapsed reach to timeout so that it can vote for
  // peer 1
  Raft& f = nt.raft(2);
  for (int i = 0; i < f.election_timeout(); ++i) f.Tick();

  nt.Send(Hup(1));

  Raft& lead = nt.raft(1);
  ASSERT_EQ(lead.state(), kLeader);

  // Transfer leadership to 2.
  nt.Send(Msg(2, 1, MessageType::kMsgTransferLeader));

  CheckLeaderTransferState(lead, kFollower, 2);

  // After some log replication, transfer leadership back to 1.
  nt.Send(EmptyProp(1, 1));

  nt.Send(Msg(1, 2, MessageType::kMsgTransferLeader));

  CheckLeaderTransferState(lead, kLeader, 1);
}

// Ports etcd's TestLeaderTransferToSlowFollower.
TEST_P(RaftTest, LeaderTransferToSlowFollower) {
  TestNetwork nt = NewNetwork(nullptr, nullptr, nullptr);
  nt.Send(Hup(1));

  nt.Isolate(3);
  nt.Send(EmptyProp(1, 1));

  nt.Recover();
  Raft& lead = nt.raft(1);
  ASSERT_EQ(lead.trk().progress[3].match, 1u);

  // Transfer leadership to 3 when node 3 is lack of log.
  nt.Send(Msg(3, 1, MessageType::kMsgTransferLeader));

  CheckLeaderTransferState(lead, kFollower, 3);
}

// Ports etcd's TestLeaderTransferAfterSnapshot.
TEST_P(RaftTest, LeaderTransferAfterSnapshot) {
  TestNetwork nt = NewNetwork(nullptr, nullptr, nullptr);
  nt.Send(Hup(1));

  nt.Isolate(3);

  nt.Send(EmptyProp(1, 1));
  Raft& lead = nt.raft(1);
  NextEnts(lead, *nt.storage(1));
  ConfState cs;
  cs.voters = lead.trk().VoterNodes();
  ASSERT_TRUE(nt.storage(1)->CreateSnapshot(lead.raft_log().applied(), &cs, "").ok());
  ASSERT_TRUE(nt.storage(1)->Compact(lead.raft_log().applied()).ok());

  nt.Recover();
  ASSERT_EQ(lead.trk().progress[3].match, 1u);

  Message filtered;
  bool got_filtered = false;
  // Snapshot needs to be applied before sending MsgAppResp
  nt.SetMessageHook([&](const Message& m) {
    if (m.type != MessageType::kMsgAppResp || m.from != 3 || m.reject) return true;
    filtered = m;
    got_filtered = true;
    return false;
  });
  // Transfer leadership to 3 when node 3 is lack of snapshot.
  nt.Send(Msg(3, 1, MessageType::kMsgTransferLeader));
  ASSERT_EQ(lead.state(), kLeader);
  ASSERT_TRUE(got_filtered);

  // Apply snapshot and resume progress
  Raft& follower = nt.raft(3);
  std::shared_ptr<const Snapshot> snap = follower.raft_log().NextUnstableSnapshot();
  ASSERT_NE(snap, nullptr);
  ASSERT_TRUE(nt.storage(3)->ApplySnapshot(*snap).ok());
  follower.AppliedSnap(*snap);
  nt.SetMessageHook(nullptr);
  nt.Send(filtered);

  CheckLeaderTransferState(lead, kFollower, 3);
}

// Ports etcd's TestLeaderTransferToSelf.
TEST_P(RaftTest, LeaderTransferToSelf) {
  TestNetwork nt = NewNetwork(nullptr, nullptr, nullptr);
  nt.Send(Hup(1));

  Raft& lead = nt.raft(1);

  // Transfer leadership to self, there will be noop.
  nt.Send(Msg(1, 1, MessageType::kMsgTransferLeader));
  CheckLeaderTransferState(lead, kLeader, 1);
}

// Ports etcd's TestLeaderTransferToNonExistingNode.
TEST_P(RaftTest, LeaderTransferToNonExistingNode) {
  TestNetwork nt = NewNetwork(nullptr, nullptr, nullptr);
  nt.Send(Hup(1));

  Raft& lead = nt.raft(1);
  // Transfer leadership to non-existing node, there will be noop.
  nt.Send(Msg(4, 1, MessageType::kMsgTransferLeader));
  CheckLeaderTransferState(lead, kLeader, 1);
}

// Ports etcd's TestLeaderTransferTimeout.
TEST_P(RaftTest, LeaderTransferTimeout) {
  TestNetwork nt = NewNetwork(nullptr, nullptr, nullptr);
  nt.Send(Hup(1));

  nt.Isolate(3);

  Raft& lead = nt.raft(1);

  // Transfer leadership to isolated node, wait for timeout.
  nt.Send(Msg(3, 1, MessageType::kMsgTransferLeader));
  ASSERT_EQ(lead.lead_transferee(), 3u);

  for (int i = 0; i < lead.heartbeat_timeout(); ++i) lead.Tick();
  ASSERT_EQ(lead.lead_transferee(), 3u);

  for (int i = 0; i < lead.election_timeout() - lead.heartbeat_timeout(); ++i) lead.Tick();

  CheckLeaderTransferState(lead, kLeader, 1);
}

// Ports etcd's TestLeaderTransferIgnoreProposal.
TEST_P(RaftTest, LeaderTransferIgnoreProposal) {
  WritableStorage* s = NewStorage({1, 2, 3});
  auto r = NewTestRaft(1, 10, 1, s);
  TestNetwork nt = NewNetwork(r.get(), nullptr, nullptr);
  nt.Send(Hup(1));

  nt.Isolate(3);

  Raft& lead = nt.raft(1);

  NextEnts(*r, *s);  // handle empty entry

  // Transfer leadership to isolated node to let transfer pending, then send
  // proposal.
  nt.Send(Msg(3, 1, MessageType::kMsgTransferLeader));
  ASSERT_EQ(lead.lead_transferee(), 3u);

  nt.Send(EmptyProp(1, 1));
  EXPECT_EQ(lead.Step(EmptyProp(1, 1)), ErrProposalDropped());

  EXPECT_EQ(lead.trk().progress[1].match, 1u);
}

// Ports etcd's TestLeaderTransferReceiveHigherTermVote.
TEST_P(RaftTest, LeaderTransferReceiveHigherTermVote) {
  TestNetwork nt = NewNetwork(nullptr, nullptr, nullptr);
  nt.Send(Hup(1));

  nt.Isolate(3);

  Raft& lead = nt.raft(1);

  // Transfer leadership to isolated node to let transfer pending.
  nt.Send(Msg(3, 1, MessageType::kMsgTransferLeader));
  ASSERT_EQ(lead.lead_transferee(), 3u);

  Message hup = Msg(2, 2, MessageType::kMsgHup, 2);
  hup.index = 1;
  nt.Send(hup);

  CheckLeaderTransferState(lead, kFollower, 2);
}

// Ports etcd's TestLeaderTransferRemoveNode.
TEST_P(RaftTest, LeaderTransferRemoveNode) {
  TestNetwork nt = NewNetwork(nullptr, nullptr, nullptr);
  nt.Send(Hup(1));

  nt.Ignore(MessageType::kMsgTimeoutNow);

  Raft& lead = nt.raft(1);

  // The leadTransferee is removed when leadship transferring.
  nt.Send(Msg(3, 1, MessageType::kMsgTransferLeader));
  ASSERT_EQ(lead.lead_transferee(), 3u);

  lead.ApplyConfChange(RemoveNode(3));

  CheckLeaderTransferState(lead, kLeader, 1);
}

// Ports etcd's TestLeaderTransferDemoteNode.
TEST_P(RaftTest, LeaderTransferDemoteNode) {
  TestNetwork nt = NewNetwork(nullptr, nullptr, nullptr);
  nt.Send(Hup(1));

  nt.Ignore(MessageType::kMsgTimeoutNow);

  Raft& lead = nt.raft(1);

  // The leadTransferee is demoted when leadship transferring.
  nt.Send(Msg(3, 1, MessageType::kMsgTransferLeader));
  ASSERT_EQ(lead.lead_transferee(), 3u);

  ConfChangeV2 cc;
  cc.changes = {ConfChangeSingle{ConfChangeType::kRemoveNode, 3},
                ConfChangeSingle{ConfChangeType::kAddLearnerNode, 3}};
  lead.ApplyConfChange(cc);

  // Make the Raft group commit the LeaveJoint entry.
  lead.ApplyConfChange(ConfChangeV2{});
  CheckLeaderTransferState(lead, kLeader, 1);
}

// Ports etcd's TestLeaderTransferBack: leadership can transfer back to
// self when the last transfer is pending.
TEST_P(RaftTest, LeaderTransferBack) {
  TestNetwork nt = NewNetwork(nullptr, nullptr, nullptr);
  nt.Send(Hup(1));

  nt.Isolate(3);

  Raft& lead = nt.raft(1);

  nt.Send(Msg(3, 1, MessageType::kMsgTransferLeader));
  ASSERT_EQ(lead.lead_transferee(), 3u);

  // Transfer leadership back to self.
  nt.Send(Msg(1, 1, MessageType::kMsgTransferLeader));

  CheckLeaderTransferState(lead, kLeader, 1);
}

// Ports etcd's TestLeaderTransferSecondTransferToAnotherNode: the leader
// can transfer to another node when the last transfer is pending.
TEST_P(RaftTest, LeaderTransferSecondTransferToAnotherNode) {
  TestNetwork nt = NewNetwork(nullptr, nullptr, nullptr);
  nt.Send(Hup(1));

  nt.Isolate(3);

  Raft& lead = nt.raft(1);

  nt.Send(Msg(3, 1, MessageType::kMsgTransferLeader));
  ASSERT_EQ(lead.lead_transferee(), 3u);

  // Transfer leadership to another node.
  nt.Send(Msg(2, 1, MessageType::kMsgTransferLeader));

  CheckLeaderTransferState(lead, kFollower, 2);
}

// Ports etcd's TestLeaderTransferSecondTransferToSameNode: a second
// transfer request to the same node does not extend the timeout while the
// first one is pending.
TEST_P(RaftTest, LeaderTransferSecondTransferToSameNode) {
  TestNetwork nt = NewNetwork(nullptr, nullptr, nullptr);
  nt.Send(Hup(1));

  nt.Isolate(3);

  Raft& lead = nt.raft(1);

  nt.Send(Msg(3, 1, MessageType::kMsgTransferLeader));
  ASSERT_EQ(lead.lead_transferee(), 3u);

  for (int i = 0; i < lead.heartbeat_timeout(); ++i) lead.Tick();
  // Second transfer leadership request to the same node.
  nt.Send(Msg(3, 1, MessageType::kMsgTransferLeader));

  for (int i = 0; i < lead.election_timeout() - lead.heartbeat_timeout(); ++i) lead.Tick();

  CheckLeaderTransferState(lead, kLeader, 1);
}

// Ports etcd's TestTransferNonMember: when a MsgTimeoutNow arrives at a
// node that has been removed from the group, nothing happens.
TEST_P(RaftTest, TransferNonMember) {
  auto r = NewTestRaft(1, 5, 1, NewStorage({2, 3, 4}));
  (void)r->Step(Msg(2, 1, MessageType::kMsgTimeoutNow));

  (void)r->Step(Msg(2, 1, MessageType::kMsgVoteResp));
  (void)r->Step(Msg(3, 1, MessageType::kMsgVoteResp));
  EXPECT_EQ(r->state(), kFollower);
}

// Ports etcd's TestNodeWithSmallerTermCanCompleteElection: a node that has
// been partitioned away (and fallen behind) rejoins the cluster at about
// the same time the leader node gets partitioned away. Previously the
// cluster would come to a standstill when run with PreVote enabled.
TEST_P(RaftTest, NodeWithSmallerTermCanCompleteElection) {
  auto n1 = NewTestRaft(1, 10, 1, NewStorage({1, 2, 3}));
  auto n2 = NewTestRaft(2, 10, 1, NewStorage({1, 2, 3}));
  auto n3 = NewTestRaft(3, 10, 1, NewStorage({1, 2, 3}));

  n1->BecomeFollower(1, kNone);
  n2->BecomeFollower(1, kNone);
  n3->BecomeFollower(1, kNone);

  n1->set_pre_vote(true);
  n2->set_pre_vote(true);
  n3->set_pre_vote(true);

  // cause a network partition to isolate node 3
  TestNetwork nt = NewNetwork(n1.get(), n2.get(), n3.get());
  nt.Cut(1, 3);
  nt.Cut(2, 3);

  nt.Send(Hup(1));

  EXPECT_EQ(nt.raft(1).state(), kLeader);
  EXPECT_EQ(nt.raft(2).state(), kFollower);

  nt.Send(Hup(3));
  EXPECT_EQ(nt.raft(3).state(), kPreCandidate);

  nt.Send(Hup(2));

  // check whether the term values are expected
  EXPECT_EQ(nt.raft(1).term(), 3u);
  EXPECT_EQ(nt.raft(2).term(), 3u);
  EXPECT_EQ(nt.raft(3).term(), 1u);

  // check state
  EXPECT_EQ(nt.raft(1).state(), kFollower);
  EXPECT_EQ(nt.raft(2).state(), kLeader);
  EXPECT_EQ(nt.raft(3).state(), kPreCandidate);

  // recover the network then immediately isolate b which is currently the
  // leader, this is to emulate the crash of b.
  nt.Recover();
  nt.Cut(2, 1);
  nt.Cut(2, 3);

  // call for election
  nt.Send(Hup(3));
  nt.Send(Hup(1));

  // do we have a leader?
  EXPECT_TRUE(nt.raft(1).state() == kLeader || nt.raft(3).state() == kLeader);
}

// Ports etcd's TestPreVoteWithSplitVote: after a split vote, the cluster
// can complete the election in the next round.
TEST_P(RaftTest, PreVoteWithSplitVote) {
  auto n1 = NewTestRaft(1, 10, 1, NewStorage({1, 2, 3}));
  auto n2 = NewTestRaft(2, 10, 1, NewStorage({1, 2, 3}));
  auto n3 = NewTestRaft(3, 10, 1, NewStorage({1, 2, 3}));

  n1->BecomeFollower(1, kNone);
  n2->BecomeFollower(1, kNone);
  n3->BecomeFollower(1, kNone);

  n1->set_pre_vote(true);
  n2->set_pre_vote(true);
  n3->set_pre_vote(true);

  TestNetwork nt = NewNetwork(n1.get(), n2.get(), n3.get());
  nt.Send(Hup(1));

  // simulate leader down. followers start split vote.
  nt.Isolate(1);
  nt.Send(std::vector<Message>{Hup(2), Hup(3)});

  // check whether the term values are expected
  EXPECT_EQ(nt.raft(2).term(), 3u);
  EXPECT_EQ(nt.raft(3).term(), 3u);

  // check state
  EXPECT_EQ(nt.raft(2).state(), kCandidate);
  EXPECT_EQ(nt.raft(3).state(), kCandidate);

  // node 2 election timeout first
  nt.Send(Hup(2));

  // check whether the term values are expected
  EXPECT_EQ(nt.raft(2).term(), 4u);
  EXPECT_EQ(nt.raft(3).term(), 4u);

  // check state
  EXPECT_EQ(nt.raft(2).state(), kLeader);
  EXPECT_EQ(nt.raft(3).state(), kFollower);
}

// Ports etcd's TestPreVoteWithCheckQuorum: after a node becomes
// pre-candidate, it will checkQuorum correctly.
TEST_P(RaftTest, PreVoteWithCheckQuorum) {
  auto n1 = NewTestRaft(1, 10, 1, NewStorage({1, 2, 3}));
  auto n2 = NewTestRaft(2, 10, 1, NewStorage({1, 2, 3}));
  auto n3 = NewTestRaft(3, 10, 1, NewStorage({1, 2, 3}));

  n1->BecomeFollower(1, kNone);
  n2->BecomeFollower(1, kNone);
  n3->BecomeFollower(1, kNone);

  n1->set_pre_vote(true);
  n2->set_pre_vote(true);
  n3->set_pre_vote(true);

  n1->set_check_quorum(true);
  n2->set_check_quorum(true);
  n3->set_check_quorum(true);

  TestNetwork nt = NewNetwork(n1.get(), n2.get(), n3.get());
  nt.Send(Hup(1));

  // isolate node 1. node 2 and node 3 have leader info
  nt.Isolate(1);

  // check state
  ASSERT_EQ(nt.raft(1).state(), kLeader);
  ASSERT_EQ(nt.raft(2).state(), kFollower);
  ASSERT_EQ(nt.raft(3).state(), kFollower);

  // node 2 will ignore node 3's PreVote
  nt.Send(Hup(3));
  nt.Send(Hup(2));

  // Do we have a leader?
  EXPECT_TRUE(n2->state() == kLeader || n3->state() == kFollower);
}

// Ports etcd's TestLearnerCampaign: a learner won't campaign even if it
// receives a MsgHup or MsgTimeoutNow.
TEST_P(RaftTest, LearnerCampaign) {
  auto n1 = NewTestRaft(1, 10, 1, NewStorage({1}));
  n1->ApplyConfChange(AddLearner(2));
  auto n2 = NewTestRaft(2, 10, 1, NewStorage({1}));
  n2->ApplyConfChange(AddLearner(2));
  TestNetwork nt = NewNetwork(n1.get(), n2.get());
  nt.Send(Hup(2));

  ASSERT_TRUE(n2->is_learner());
  ASSERT_EQ(n2->state(), kFollower);

  nt.Send(Hup(1));
  ASSERT_TRUE(n1->state() == kLeader && n1->lead() == 1);

  // NB: TransferLeader already checks that the recipient is not a learner,
  // but the check could have happened by the time the recipient becomes a
  // learner, in which case it will receive MsgTimeoutNow as in this test
  // case and we verify that it's ignored.
  nt.Send(Msg(1, 2, MessageType::kMsgTimeoutNow));
  ASSERT_EQ(n2->state(), kFollower);
}

// etcd's newPreVoteMigrationCluster: simulates a rolling update of a
// cluster to Pre-Vote. The cluster has 3 nodes [n1, n2, n3]: n1 is leader
// with term 2, n2 is follower with term 2, n3 is partitioned, with term 4
// and less log, state is candidate.
struct PreVoteMigrationCluster {
  std::unique_ptr<Raft> n1, n2, n3;
  TestNetwork nt;
};

PreVoteMigrationCluster NewPreVoteMigrationCluster(RaftTest& t) {
  PreVoteMigrationCluster c;
  c.n1 = NewTestRaft(1, 10, 1, t.NewStorage({1, 2, 3}));
  c.n2 = NewTestRaft(2, 10, 1, t.NewStorage({1, 2, 3}));
  c.n3 = NewTestRaft(3, 10, 1, t.NewStorage({1, 2, 3}));

  c.n1->BecomeFollower(1, kNone);
  c.n2->BecomeFollower(1, kNone);
  c.n3->BecomeFollower(1, kNone);

  c.n1->set_pre_vote(true);
  c.n2->set_pre_vote(true);
  // We intentionally do not enable PreVote for n3, this is done so in order
  // to simulate a rolling restart process where it's possible to have a
  // mixed version cluster with replicas with PreVote enabled, and replicas
  // without.

  c.nt = t.NewNetwork(c.n1.get(), c.n2.get(), c.n3.get());
  c.nt.Send(Hup(1));

  // Cause a network partition to isolate n3.
  c.nt.Isolate(3);
  c.nt.Send(Prop(1, 1, "some data"));
  c.nt.Send(Hup(3));
  c.nt.Send(Hup(3));

  // check state
  EXPECT_EQ(c.n1->state(), kLeader);
  EXPECT_EQ(c.n2->state(), kFollower);
  EXPECT_EQ(c.n3->state(), kCandidate);

  // check term
  EXPECT_EQ(c.n1->term(), 2u);
  EXPECT_EQ(c.n2->term(), 2u);
  EXPECT_EQ(c.n3->term(), 4u);

  // Enable prevote on n3, then recover the network
  c.n3->set_pre_vote(true);
  c.nt.Recover();
  return c;
}

// Ports etcd's TestPreVoteMigrationCanCompleteElection.
TEST_P(RaftTest, PreVoteMigrationCanCompleteElection) {
  PreVoteMigrationCluster c = NewPreVoteMigrationCluster(*this);
  // n1 is leader with term 2; n2 is follower with term 2; n3 is
  // pre-candidate with term 4, and less log
  Raft& n2 = *c.n2;
  Raft& n3 = *c.n3;

  // simulate leader down
  c.nt.Isolate(1);

  // Call for elections from both n2 and n3.
  c.nt.Send(Hup(3));
  c.nt.Send(Hup(2));

  // check state
  EXPECT_EQ(n2.state(), kFollower);
  EXPECT_EQ(n3.state(), kPreCandidate);

  c.nt.Send(Hup(3));
  c.nt.Send(Hup(2));

  // Do we have a leader?
  EXPECT_TRUE(n2.state() == kLeader || n3.state() == kFollower);
}

// Ports etcd's TestPreVoteMigrationWithFreeStuckPreCandidate.
TEST_P(RaftTest, PreVoteMigrationWithFreeStuckPreCandidate) {
  PreVoteMigrationCluster c = NewPreVoteMigrationCluster(*this);
  Raft& n1 = *c.n1;
  Raft& n2 = *c.n2;
  Raft& n3 = *c.n3;

  c.nt.Send(Hup(3));

  EXPECT_EQ(n1.state(), kLeader);
  EXPECT_EQ(n2.state(), kFollower);
  EXPECT_EQ(n3.state(), kPreCandidate);

  // Pre-Vote again for safety
  c.nt.Send(Hup(3));

  EXPECT_EQ(n1.state(), kLeader);
  EXPECT_EQ(n2.state(), kFollower);
  EXPECT_EQ(n3.state(), kPreCandidate);

  c.nt.Send(Msg(1, 3, MessageType::kMsgHeartbeat, n1.term()));

  // Disrupt the leader so that the stuck peer is freed
  EXPECT_EQ(n1.state(), kFollower);
  EXPECT_EQ(n3.term(), n1.term());
}

void TestConfChangeCheckBeforeCampaign(RaftTest& t, bool v2) {
  TestNetwork nt = t.NewNetwork(nullptr, nullptr, nullptr);
  Raft& n1 = nt.raft(1);
  Raft& n2 = nt.raft(2);
  nt.Send(Hup(1));
  EXPECT_EQ(n1.state(), kLeader);

  // Begin to remove the third node.
  const ConfChange cc{ConfChangeType::kRemoveNode, 2, {}, 0};
  Message m = Msg(1, 1, MessageType::kMsgProp);
  if (v2) {
    m.entries.push_back(Entry{0, 0, EntryType::kConfChangeV2, EncodeConfChangeV2(AsV2(cc))});
  } else {
    m.entries.push_back(Entry{0, 0, EntryType::kConfChange, EncodeConfChange(cc)});
  }
  nt.Send(m);

  // Trigger campaign in node 2
  for (int i = 0; i < n2.randomized_election_timeout(); ++i) n2.Tick();
  // It's still follower because committed conf change is not applied.
  EXPECT_EQ(n2.state(), kFollower);

  // Transfer leadership to peer 2.
  nt.Send(Msg(2, 1, MessageType::kMsgTransferLeader));
  EXPECT_EQ(n1.state(), kLeader);
  // It's still follower because committed conf change is not applied.
  EXPECT_EQ(n2.state(), kFollower);

  // Abort transfer leader
  for (int i = 0; i < n1.election_timeout(); ++i) n1.Tick();

  // Advance apply
  NextEnts(n2, *nt.storage(2));

  // Transfer leadership to peer 2 again.
  nt.Send(Msg(2, 1, MessageType::kMsgTransferLeader));
  EXPECT_EQ(n1.state(), kFollower);
  EXPECT_EQ(n2.state(), kLeader);

  NextEnts(n1, *nt.storage(1));
  // Trigger campaign in node 2
  for (int i = 0; i < n1.randomized_election_timeout(); ++i) n1.Tick();
  EXPECT_EQ(n1.state(), kCandidate);
}

// Ports etcd's TestConfChangeCheckBeforeCampaign: an unapplied ConfChange
// is checked before campaigning.
TEST_P(RaftTest, ConfChangeCheckBeforeCampaign) { TestConfChangeCheckBeforeCampaign(*this, false); }
// Ports etcd's TestConfChangeV2CheckBeforeCampaign: an unapplied
// ConfChangeV2 is checked before campaigning.
TEST_P(RaftTest, ConfChangeV2CheckBeforeCampaign) {
  TestConfChangeCheckBeforeCampaign(*this, true);
}

// Ports etcd's TestFastLogRejection.
TEST_P(RaftTest, FastLogRejection) {
  struct Case {
    std::vector<Entry> leader_log;    // Logs on the leader
    std::vector<Entry> follower_log;  // Logs on the follower
    uint64_t follower_compact;        // Index at which the follower log is compacted.
    uint64_t reject_hint_term;        // Expected term included in rejected MsgAppResp.
    uint64_t reject_hint_index;       // Expected index included in rejected MsgAppResp.
    uint64_t next_append_term;        // Expected term when leader appends after rejected.
    uint64_t next_append_index;       // Expected index when leader appends after rejected.
  };
  const std::vector<Case> tests = {
      // This case tests that leader can find the conflict index quickly.
      // Firstly leader appends (type=MsgApp,index=7,logTerm=4, entries=...);
      // After rejected leader appends (type=MsgApp,index=3,logTerm=2).
      {IndexTerms(1, {1, 2, 2, 4, 4, 4, 4}), IndexTerms(1, {1, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3}), 0, 3,
       7, 2, 3},
      // This case tests that leader can find the conflict index quickly.
      // Firstly leader appends (type=MsgApp,index=8,logTerm=5, entries=...);
      // After rejected leader appends (type=MsgApp,index=4,logTerm=3).
      {IndexTerms(1, {1, 2, 2, 3, 4, 4, 4, 5}), IndexTerms(1, {1, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3}), 0,
       3, 8, 3, 4},
      // This case tests that follower can find the conflict index quickly.
      // Firstly leader appends (type=MsgApp,index=4,logTerm=1, entries=...);
      // After rejected leader appends (type=MsgApp,index=1,logTerm=1).
      {IndexTerms(1, {1, 1, 1, 1}), IndexTerms(1, {1, 2, 2, 4}), 0, 1, 1, 1, 1},
      // This case is similar to the previous case. However, this time, the
      // leader has a longer uncommitted log tail than the follower.
      // Firstly leader appends (type=MsgApp,index=6,logTerm=1, entries=...);
      // After rejected leader appends (type=MsgApp,index=1,logTerm=1).
      {IndexTerms(1, {1, 1, 1, 1, 1, 1}), IndexTerms(1, {1, 2, 2, 4}), 0, 1, 1, 1, 1},
      // This case is similar to the previous case. However, this time, the
      // follower has a longer uncommitted log tail than the leader.
      // Firstly leader appends (type=MsgApp,index=4,logTerm=1, entries=...);
      // After rejected leader appends (type=MsgApp,index=1,logTerm=1).
      {IndexTerms(1, {1, 1, 1, 1}), IndexTerms(1, {1, 2, 2, 4, 4, 4}), 0, 1, 1, 1, 1},
      // An normal case that there are no log conflicts.
      // Firstly leader appends (type=MsgApp,index=5,logTerm=5, entries=...);
      // After rejected leader appends (type=MsgApp,index=4,logTerm=4).
      {IndexTerms(1, {1, 1, 1, 4, 5}), IndexTerms(1, {1, 1, 1, 4}), 0, 4, 4, 4, 4},
      // Test case from example comment in stepLeader (on leader).
      {IndexTerms(1, {2, 5, 5, 5, 5, 5, 5, 5, 5}), IndexTerms(1, {2, 4, 4, 4, 4, 4}), 0, 4, 6, 2,
       1},
      // Test case from example comment in handleAppendEntries (on follower).
      {IndexTerms(1, {2, 2, 2, 2, 2}), IndexTerms(1, {2, 4, 4, 4, 4, 4, 4, 4}), 0, 2, 1, 2, 1},
      // A case when a stale MsgApp from leader arrives after the
      // corresponding log index got compacted. A stale
      // (type=MsgApp,index=3,logTerm=3,entries=[(term=3,index=4)]) is
      // delivered to a follower who has already compacted beyond log index
      // 3. The MsgAppResp rejection will return same index=3, with
      // logTerm=0. The leader will rollback by one entry, and send MsgApp
      // with index=2,logTerm=1.
      {IndexTerms(1, {1, 1, 3}), IndexTerms(1, {1, 1, 3, 3, 3}), 5, 0, 3, 1, 2},
  };
  for (size_t i = 0; i < tests.size(); ++i) {
    SCOPED_TRACE(i);
    const Case& test = tests[i];
    WritableStorage* s1 = NewStorage({1, 2, 3});
    ASSERT_TRUE(s1->Append(test.leader_log).ok());
    const Entry& last = test.leader_log.back();
    ASSERT_TRUE(s1->SetHardState(HardState{last.term - 1, kNone, last.index}).ok());
    auto n1 = NewTestRaft(1, 10, 1, s1);
    n1->BecomeCandidate();  // bumps Term to last.Term
    n1->BecomeLeader();

    WritableStorage* s2 = NewStorage({1, 2, 3});
    ASSERT_TRUE(s2->Append(test.follower_log).ok());
    ASSERT_TRUE(s2->SetHardState(HardState{last.term, 1, 0}).ok());
    auto n2 = NewTestRaft(2, 10, 1, s2);
    if (test.follower_compact != 0) {
      ASSERT_TRUE(s2->Compact(test.follower_compact).ok());
      // NB: the state of n2 after this compaction isn't realistic because
      // the commit index is still at 0. We do this to exercise a "doesn't
      // happen" edge case behaviour, in case it still does happen in some
      // other way.
    }

    ASSERT_TRUE(n2->Step(Msg(1, 2, MessageType::kMsgHeartbeat)).ok());
    std::vector<Message> msgs = ReadMessages(*n2);
    ASSERT_EQ(msgs.size(), 1u) << "can't read 1 message from peer 2";
    ASSERT_EQ(msgs[0].type, MessageType::kMsgHeartbeatResp);

    ASSERT_TRUE(n1->Step(msgs[0]).ok());
    msgs = ReadMessages(*n1);
    ASSERT_EQ(msgs.size(), 1u) << "can't read 1 message from peer 1";
    ASSERT_EQ(msgs[0].type, MessageType::kMsgApp);

    ASSERT_TRUE(n2->Step(msgs[0]).ok()) << "peer 2 step append fail";
    msgs = ReadMessages(*n2);
    ASSERT_EQ(msgs.size(), 1u) << "can't read 1 message from peer 2";
    ASSERT_EQ(msgs[0].type, MessageType::kMsgAppResp);
    ASSERT_TRUE(msgs[0].reject) << "expected rejected append response from peer 2";
    EXPECT_EQ(msgs[0].log_term, test.reject_hint_term) << "hint log term mismatch";
    EXPECT_EQ(msgs[0].reject_hint, test.reject_hint_index) << "hint log index mismatch";

    ASSERT_TRUE(n1->Step(msgs[0]).ok()) << "peer 1 step append fail";
    msgs = ReadMessages(*n1);
    ASSERT_FALSE(msgs.empty());
    EXPECT_EQ(msgs[0].log_term, test.next_append_term);
    EXPECT_EQ(msgs[0].index, test.next_append_index);
  }
}

// Ports etcd's TestLogReplicationWithReorderedMessage.
TEST_P(RaftTest, LogReplicationWithReorderedMessage) {
  auto r1 = NewTestRaft(1, 10, 1, NewStorage({1, 2}));
  r1->BecomeCandidate();
  r1->BecomeLeader();
  ReadMessages(*r1);
  r1->trk().progress[2].BecomeReplicate();

  auto r2 = NewTestRaft(2, 10, 1, NewStorage({1, 2}));

  // r1 sends 2 MsgApp messages to r2.
  MustAppendEntry(*r1, {DataEntry("somedata")});
  r1->SendAppend(2);
  const Message req1 = ExpectOneMessage(*r1);
  MustAppendEntry(*r1, {DataEntry("somedata")});
  r1->SendAppend(2);
  const Message req2 = ExpectOneMessage(*r1);

  // r2 receives the second MsgApp first due to reordering.
  (void)r2->Step(req2);
  const Message resp2 = ExpectOneMessage(*r2);
  // r2 rejects req2
  ASSERT_TRUE(resp2.reject);
  ASSERT_EQ(resp2.reject_hint, 0u);
  ASSERT_EQ(resp2.index, 2u);

  // r2 handles the first MsgApp and responses to r1. And r1 updates match
  // index accordingly.
  (void)r2->Step(req1);
  Message m = ExpectOneMessage(*r2);
  ASSERT_FALSE(m.reject);
  ASSERT_EQ(m.index, 2u);
  (void)r1->Step(m);
  m = ExpectOneMessage(*r1);
  ASSERT_EQ(r1->trk().progress[2].match, 2u);

  // r1 observes a transient network issue to r2, hence transits to probe
  // state.
  (void)r1->Step(Msg(2, 1, MessageType::kMsgUnreachable));
  ASSERT_EQ(r1->trk().progress[2].state, kStateProbe);

  // now r1 receives the delayed resp2.
  (void)r1->Step(resp2);
  m = ExpectOneMessage(*r1);
  // r1 shall re-send MsgApp from match index even if resp2's reject hint is
  // less than matching index.
  EXPECT_EQ(m.index, r1->trk().progress[2].match);
}

// etcd v3.7 numbers read requests instead of keying them by their context
// (etcd-io/raft pull request 397): two reads with the same context are both answered, at the
// commit index each saw (the v3.6 implementation lost one).
TEST_P(RaftTest, ReadOnlyDuplicateRequest) {
  TestNetwork nt = NewNetwork(nullptr, nullptr, nullptr);
  nt.Send(Hup(1));
  Raft& a = nt.raft(1);
  ASSERT_EQ(a.state(), kLeader);
  nt.Send(EmptyProp(1, 1));

  // Two reads with the same context, queued before any heartbeat response
  // arrives.
  nt.Ignore(MessageType::kMsgHeartbeatResp);
  nt.Send(ReadIndexMsg(1, 1, "dup"));
  nt.Send(EmptyProp(1, 1));
  nt.Send(ReadIndexMsg(1, 1, "dup"));
  EXPECT_TRUE(a.read_states().empty());
  EXPECT_EQ(a.read_only().unconfirmed_reads().size(), 2u);

  // One round of heartbeat acks confirms both.
  nt.Recover();
  nt.Send(Beat(1));
  ASSERT_EQ(a.read_states().size(), 2u);
  EXPECT_EQ(a.read_states()[0], (ReadState{2, "dup"}));
  EXPECT_EQ(a.read_states()[1], (ReadState{3, "dup"}));
  EXPECT_TRUE(a.read_only().unconfirmed_reads().empty());
}

// A follower forwards reads to the leader and gets the answer back
// (MsgReadIndexResp); without a leader the read is dropped.
TEST_P(RaftTest, ReadIndexForwardedByFollower) {
  auto c = NewTestRaft(3, 10, 1, NewStorage({1, 2, 3}));
  TestNetwork nt = NewNetwork(nullptr, nullptr, c.get());
  nt.Send(ReadIndexMsg(3, 3, "early"));
  EXPECT_TRUE(c->read_states().empty()) << "no leader yet: dropped";

  nt.Send(Hup(1));
  nt.Send(EmptyProp(1, 1));
  nt.Send(ReadIndexMsg(3, 3, "ctx"));
  ASSERT_EQ(c->read_states().size(), 1u);
  EXPECT_EQ(c->read_states()[0], (ReadState{2, "ctx"}));
}

// ForgetLeader (etcd's MsgForgetLeader; covered in etcd by the
// forget_leader*.txt interaction scripts): a follower drops its leader but
// keeps its term, a leader ignores it, and lease-based reads refuse it.
TEST_P(RaftTest, ForgetLeader) {
  auto a = NewTestRaft(1, 10, 1, NewStorage({1, 2, 3}));
  auto b = NewTestRaft(2, 10, 1, NewStorage({1, 2, 3}));
  auto c = NewTestRaft(3, 10, 1, NewStorage({1, 2, 3}));
  for (Raft* r : {a.get(), b.get(), c.get()}) {
    r->set_check_quorum(true);
    r->set_pre_vote(true);
  }
  TestNetwork nt = NewNetwork(a.get(), b.get(), c.get());
  nt.Send(Hup(1));
  ASSERT_EQ(a->state(), kLeader);
  ASSERT_EQ(b->lead(), 1u);
  const uint64_t term = b->term();

  // The leader ignores it.
  ASSERT_TRUE(a->Step(Msg(0, 0, MessageType::kMsgForgetLeader)).ok());
  EXPECT_EQ(a->state(), kLeader);
  EXPECT_EQ(a->lead(), 1u);

  // Followers forget the leader, keeping their term.
  ASSERT_TRUE(b->Step(Msg(0, 0, MessageType::kMsgForgetLeader)).ok());
  ASSERT_TRUE(c->Step(Msg(0, 0, MessageType::kMsgForgetLeader)).ok());
  EXPECT_EQ(b->lead(), kNone);
  EXPECT_EQ(b->term(), term);
  EXPECT_EQ(b->state(), kFollower);

  // Without a known leader, b grants c's pre-vote at once (no lease), so c
  // can win an election while the old leader is cut off.
  nt.Isolate(1);
  nt.Send(Hup(3));
  EXPECT_EQ(c->state(), kLeader);
  EXPECT_EQ(c->term(), term + 1);

  // Lease-based reads: forgetting would break the lease, so it is refused.
  auto d = NewTestRaft(1, 10, 1, NewStorage({1, 2}));
  d->set_check_quorum(true);
  d->set_read_only_option(ReadOnlyOption::kReadOnlyLeaseBased);
  d->BecomeFollower(1, 2);
  ASSERT_TRUE(d->Step(Msg(0, 0, MessageType::kMsgForgetLeader)).ok());
  EXPECT_EQ(d->lead(), 2u);
}

// StepDownOnRemoval: a leader removed from (or demoted in) the
// configuration steps down when asked to, and otherwise stays leader
// (accepting no proposals).
TEST_P(RaftTest, StepDownOnRemoval) {
  for (bool step_down : {false, true}) {
    SCOPED_TRACE(step_down);
    auto r = NewTestRaft(1, 10, 1, NewStorage({1, 2}));
    r->set_step_down_on_removal(step_down);
    r->BecomeCandidate();
    r->BecomeLeader();
    const uint64_t term = r->term();
    r->ApplyConfChange(RemoveNode(1));
    if (step_down) {
      EXPECT_EQ(r->state(), kFollower);
      EXPECT_EQ(r->term(), term);
      EXPECT_EQ(r->lead(), kNone);
    } else {
      EXPECT_EQ(r->state(), kLeader);
      EXPECT_EQ(r->Step(Prop(1, 1)), ErrProposalDropped());
    }
  }
}

// DisableProposalForwarding: a follower drops proposals instead of
// forwarding them; a follower without leader and a candidate always drop.
TEST_P(RaftTest, ProposalForwarding) {
  auto b = NewTestRaft(2, 10, 1, NewStorage({1, 2}));
  EXPECT_EQ(b->Step(Prop(2, 2)), ErrProposalDropped()) << "no leader";

  b->BecomeFollower(1, 1);
  ASSERT_TRUE(b->Step(Prop(2, 2)).ok());
  std::vector<Message> msgs = ReadMessages(*b);
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(msgs[0].type, MessageType::kMsgProp);
  EXPECT_EQ(msgs[0].to, 1u);
  EXPECT_EQ(msgs[0].term, 0u) << "proposals travel without a term";

  Config cfg = NewTestConfig(2, 10, 1, NewStorage({1, 2}));
  cfg.disable_proposal_forwarding = true;
  auto c = NewRaft(cfg);
  c->BecomeFollower(1, 1);
  EXPECT_EQ(c->Step(Prop(2, 2)), ErrProposalDropped());
  EXPECT_TRUE(ReadMessages(*c).empty());

  c->BecomeCandidate();
  EXPECT_EQ(c->Step(Prop(2, 2)), ErrProposalDropped());
}

// MaxSizePerMsg splits MsgApps (etcd's TestAppendPagination of
// node_test.go, on the state machine): no MsgApp carries more than the
// limit unless it holds a single entry.
TEST_P(RaftTest, AppendPagination) {
  const uint64_t max_size_per_msg = 2048;
  TestNetwork nt = NewNetworkWithConfigOf([&](Config& c) { c.max_size_per_msg = max_size_per_msg; },
                                          nullptr, nullptr, nullptr);
  bool seen_full_message = false;
  nt.SetMessageHook([&](const Message& m) {
    if (m.type == MessageType::kMsgApp) {
      const uint64_t size = PayloadsSize(m.entries);
      if (m.entries.size() > 1) {
        EXPECT_LE(size, max_size_per_msg) << DescribeMessage(m);
      }
      if (size > max_size_per_msg / 2) seen_full_message = true;
    }
    return true;
  });
  nt.Send(Hup(1));

  // Partition the network while we make our proposals. This forces the
  // entries to be batched into larger messages.
  nt.Isolate(1);
  const std::string blob(1000, 'a');
  for (int i = 0; i < 5; ++i) nt.Send(Prop(1, 1, blob));
  nt.Recover();

  // After the partition recovers, tick the clock to wake everything back
  // up and send the messages.
  nt.Send(Beat(1));
  EXPECT_TRUE(seen_full_message) << "didn't see any messages more than half the max size";
  EXPECT_EQ(nt.raft(2).raft_log().committed(), 6u);
}

// The leader's heartbeat carries min(match, committed), so a follower's
// commit never moves past what it is known to have.
TEST_P(RaftTest, HeartbeatCommitIsMatchBounded) {
  auto r = NewTestRaft(1, 10, 1, NewStorage({1, 2, 3}));
  r->BecomeCandidate();
  r->BecomeLeader();
  for (int i = 0; i < 3; ++i) MustAppendEntry(*r, {DataEntry("x")});
  AdvanceMessagesAfterAppend(*r);
  r->trk().progress[2].match = r->raft_log().LastIndex();
  r->trk().progress[2].next = r->raft_log().LastIndex() + 1;
  r->trk().progress[3].match = 1;
  r->trk().progress[3].next = 2;
  ASSERT_TRUE(r->MaybeCommit());
  ReadMessages(*r);
  (void)r->Step(Beat(1));
  std::vector<Message> msgs = ReadMessages(*r);
  SortMessages(msgs);
  ASSERT_EQ(msgs.size(), 2u);
  EXPECT_EQ(msgs[0].to, 2u);
  EXPECT_EQ(msgs[0].commit, r->raft_log().committed());
  EXPECT_EQ(msgs[1].to, 3u);
  EXPECT_EQ(msgs[1].commit, 1u);
}

INSTANTIATE_TEST_SUITE_P(Storage, RaftTest,
                         ::testing::Values(StorageKind::kMemory, StorageKind::kDisk),
                         StorageKindName);

}  // namespace
}  // namespace raftlog::raft::testing
