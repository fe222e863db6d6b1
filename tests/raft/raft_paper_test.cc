// Tests that the scenarios described in the Raft paper
// (https://raft.github.io/raft.pdf) are handled correctly: a port of etcd
// raft's raft_paper_test.go. Each test focuses on a few sentences of the
// paper (the section is named in its comment) and has three parts: init
// (simulating the initial state the simplest way), test (Step calls
// producing the scenario) and check (outgoing messages and state).
//
// Every test runs on MemoryStorage and on DiskStorage.

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <vector>

#include "raftlog/raft/internal/raft.h"
#include "raftlog/raft/logger.h"
#include "tests/raft/testutil/raft_test_util.h"

namespace raftlog::raft::testing {
namespace {

class RaftPaperTest : public RaftTestBase {};

// etcd's acceptAndReply: the follower's MsgAppResp accepting `m`.
Message AcceptAndReply(const Message& m) {
  EXPECT_EQ(m.type, MessageType::kMsgApp);
  Message r;
  r.from = m.to;
  r.to = m.from;
  r.term = m.term;
  r.type = MessageType::kMsgAppResp;
  r.index = m.index + m.entries.size();
  return r;
}

// etcd's commitNoopEntry: commits the new leader's empty entry on every
// follower and persists it.
void CommitNoopEntry(Raft& r, WritableStorage& s) {
  ASSERT_EQ(r.state(), StateType::kStateLeader) << "only for the leader";
  r.BcastAppend();
  // Simulate the responses to the MsgApps.
  for (const Message& m : ReadMessages(r)) {
    ASSERT_TRUE(m.type == MessageType::kMsgApp && m.entries.size() == 1 &&
                m.entries[0].data.empty())
        << "not a message to append the noop entry";
    ASSERT_TRUE(r.Step(AcceptAndReply(m)).ok());
  }
  // Ignore the messages refreshing the followers' commit index.
  ReadMessages(r);
  const std::span<const Entry> unstable = r.raft_log().NextUnstableEnts();
  ASSERT_TRUE(s.Append(std::vector<Entry>(unstable.begin(), unstable.end())).ok());
  r.raft_log().AppliedTo(r.raft_log().committed(), 0);
  r.raft_log().StableTo(r.raft_log().LastEntryID());
}

Message Expected(uint64_t from, uint64_t to, uint64_t term, MessageType type) {
  Message m = Msg(from, to, type, term);
  return m;
}

// Quiets the package logger for tests that run many elections.
class DiscardPackageLogger {
 public:
  DiscardPackageLogger() { SetLogger(&GetDiscardLogger()); }
  ~DiscardPackageLogger() { ResetDefaultLogger(); }
};

// testUpdateTermFromMessage tests that if one server's current term is
// smaller than the other's, then it updates its current term to the larger
// value. If a candidate or leader discovers that its term is out of date,
// it immediately reverts to follower state.
// Reference: section 5.1
void TestUpdateTermFromMessage(RaftTestBase& t, WritableStorage* s, StateType state) {
  (void)t;
  auto r = NewTestRaft(1, 10, 1, s);
  switch (state) {
    case StateType::kStateFollower:
      r->BecomeFollower(1, 2);
      break;
    case StateType::kStateCandidate:
      r->BecomeCandidate();
      break;
    case StateType::kStateLeader:
      r->BecomeCandidate();
      r->BecomeLeader();
      break;
    default:
      break;
  }
  Message m;
  m.type = MessageType::kMsgApp;
  m.term = 2;
  (void)r->Step(m);
  EXPECT_EQ(r->term(), 2u);
  EXPECT_EQ(r->state(), StateType::kStateFollower);
}

// Ports etcd's TestFollowerUpdateTermFromMessage.
TEST_P(RaftPaperTest, FollowerUpdateTermFromMessage) {
  TestUpdateTermFromMessage(*this, NewStorage({1, 2, 3}), StateType::kStateFollower);
}
// Ports etcd's TestCandidateUpdateTermFromMessage.
TEST_P(RaftPaperTest, CandidateUpdateTermFromMessage) {
  TestUpdateTermFromMessage(*this, NewStorage({1, 2, 3}), StateType::kStateCandidate);
}
// Ports etcd's TestLeaderUpdateTermFromMessage.
TEST_P(RaftPaperTest, LeaderUpdateTermFromMessage) {
  TestUpdateTermFromMessage(*this, NewStorage({1, 2, 3}), StateType::kStateLeader);
}

bool g_fake_step_called = false;

// Ports etcd's TestRejectStaleTermMessage: if a server receives a request
// with a stale term number, it rejects the request. Our implementation
// ignores the request instead.
// Reference: section 5.1
TEST_P(RaftPaperTest, RejectStaleTermMessage) {
  g_fake_step_called = false;
  auto r = NewTestRaft(1, 10, 1, NewStorage({1, 2, 3}));
  r->set_step([](Raft&, Message&) {
    g_fake_step_called = true;
    return Status::OK();
  });
  r->set_term(2);  // etcd: r.loadState(HardState{Term: 2})
  Message m;
  m.type = MessageType::kMsgApp;
  m.term = r->term() - 1;
  (void)r->Step(m);
  EXPECT_FALSE(g_fake_step_called);
}

// Ports etcd's TestStartAsFollower: when servers start up, they begin as
// followers.
// Reference: section 5.2
TEST_P(RaftPaperTest, StartAsFollower) {
  auto r = NewTestRaft(1, 10, 1, NewStorage({1, 2, 3}));
  EXPECT_EQ(r->state(), StateType::kStateFollower);
}

// Ports etcd's TestLeaderBcastBeat: if the leader receives a heartbeat tick,
// it sends a MsgHeartbeat with index 0, log term 0 and no entries to all
// followers.
// Reference: section 5.2
TEST_P(RaftPaperTest, LeaderBcastBeat) {
  const int hi = 1;  // heartbeat interval
  auto r = NewTestRaft(1, 10, hi, NewStorage({1, 2, 3}));
  r->BecomeCandidate();
  r->BecomeLeader();
  for (uint64_t i = 0; i < 10; ++i) {
    MustAppendEntry(*r, {Entry{0, i + 1, EntryType::kNormal, {}}});
  }
  for (int i = 0; i < hi; ++i) r->Tick();

  std::vector<Message> msgs = ReadMessages(*r);
  SortMessages(msgs);
  const std::vector<Message> want = {
      Expected(1, 2, 1, MessageType::kMsgHeartbeat),
      Expected(1, 3, 1, MessageType::kMsgHeartbeat),
  };
  EXPECT_EQ(msgs, want);
}

// testNonleaderStartElection tests that if a follower receives no
// communication over election timeout, it begins an election to choose a
// new leader. It increments its current term and transitions to candidate
// state. It then votes for itself and issues RequestVote RPCs in parallel
// to each of the other servers in the cluster.
// Reference: section 5.2
// Also if a candidate fails to obtain a majority, it will time out and
// start a new election by incrementing its term and initiating another
// round of RequestVote RPCs.
// Reference: section 5.2
void TestNonleaderStartElection(WritableStorage* s, StateType state) {
  const int et = 10;  // election timeout
  auto r = NewTestRaft(1, et, 1, s);
  if (state == StateType::kStateFollower) {
    r->BecomeFollower(1, 2);
  } else {
    r->BecomeCandidate();
  }
  for (int i = 1; i < 2 * et; ++i) r->Tick();
  AdvanceMessagesAfterAppend(*r);

  EXPECT_EQ(r->term(), 2u);
  EXPECT_EQ(r->state(), StateType::kStateCandidate);
  ASSERT_EQ(r->trk().votes.count(r->id()), 1u);
  EXPECT_TRUE(r->trk().votes.at(r->id()));

  std::vector<Message> msgs = ReadMessages(*r);
  SortMessages(msgs);
  const std::vector<Message> want = {
      Expected(1, 2, 2, MessageType::kMsgVote),
      Expected(1, 3, 2, MessageType::kMsgVote),
  };
  EXPECT_EQ(msgs, want);
}

// Ports etcd's TestFollowerStartElection.
TEST_P(RaftPaperTest, FollowerStartElection) {
  TestNonleaderStartElection(NewStorage({1, 2, 3}), StateType::kStateFollower);
}
// Ports etcd's TestCandidateStartNewElection.
TEST_P(RaftPaperTest, CandidateStartNewElection) {
  TestNonleaderStartElection(NewStorage({1, 2, 3}), StateType::kStateCandidate);
}

// Ports etcd's TestLeaderElectionInOneRoundRPC: all cases that may happen in
// leader election during one round of RequestVote RPC:
// a) it wins the election
// b) it loses the election
// c) it is unclear about the result
// Reference: section 5.2
TEST_P(RaftPaperTest, LeaderElectionInOneRoundRPC) {
  struct Case {
    uint64_t size;
    std::map<uint64_t, bool> votes;
    StateType state;
  };
  const std::vector<Case> tests = {
      // win the election when receiving votes from a majority of the servers
      {1, {}, StateType::kStateLeader},
      {3, {{2, true}, {3, true}}, StateType::kStateLeader},
      {3, {{2, true}}, StateType::kStateLeader},
      {5, {{2, true}, {3, true}, {4, true}, {5, true}}, StateType::kStateLeader},
      {5, {{2, true}, {3, true}, {4, true}}, StateType::kStateLeader},
      {5, {{2, true}, {3, true}}, StateType::kStateLeader},

      // return to follower state if it receives vote denial from a majority
      {3, {{2, false}, {3, false}}, StateType::kStateFollower},
      {5, {{2, false}, {3, false}, {4, false}, {5, false}}, StateType::kStateFollower},
      {5, {{2, true}, {3, false}, {4, false}, {5, false}}, StateType::kStateFollower},

      // stay in candidate if it does not obtain the majority
      {3, {}, StateType::kStateCandidate},
      {5, {{2, true}}, StateType::kStateCandidate},
      {5, {{2, false}, {3, false}}, StateType::kStateCandidate},
      {5, {}, StateType::kStateCandidate},
  };
  for (size_t i = 0; i < tests.size(); ++i) {
    const Case& tt = tests[i];
    std::vector<uint64_t> ids;
    for (uint64_t id = 1; id <= tt.size; ++id) ids.push_back(id);
    auto r = NewTestRaft(1, 10, 1, NewStorage(ids));

    (void)r->Step(Msg(1, 1, MessageType::kMsgHup));
    AdvanceMessagesAfterAppend(*r);
    for (const auto& [id, vote] : tt.votes) {
      Message m = Msg(id, 1, MessageType::kMsgVoteResp, r->term());
      m.reject = !vote;
      (void)r->Step(m);
    }
    EXPECT_EQ(r->state(), tt.state) << "#" << i;
    EXPECT_EQ(r->term(), 1u) << "#" << i;
  }
}

// Ports etcd's TestFollowerVote: each follower will vote for at most one
// candidate in a given term, on a first-come-first-served basis.
// Reference: section 5.2
TEST_P(RaftPaperTest, FollowerVote) {
  struct Case {
    uint64_t vote;
    uint64_t nvote;
    bool wreject;
  };
  const std::vector<Case> tests = {
      {kNone, 2, false}, {kNone, 3, false}, {2, 2, false},
      {3, 3, false},     {2, 3, true},      {3, 2, true},
  };
  for (size_t i = 0; i < tests.size(); ++i) {
    const Case& tt = tests[i];
    auto r = NewTestRaft(1, 10, 1, NewStorage({1, 2, 3}));
    r->set_term(1);  // etcd: loadState(HardState{Term: 1, Vote: tt.vote})
    r->set_vote(tt.vote);

    (void)r->Step(Msg(tt.nvote, 1, MessageType::kMsgVote, 1));

    Message expected = Msg(1, tt.nvote, MessageType::kMsgVoteResp, 1);
    expected.reject = tt.wreject;
    EXPECT_EQ(r->msgs_after_append(), std::vector<Message>{expected}) << "#" << i;
  }
}

// Ports etcd's TestCandidateFallback: while waiting for votes, if a
// candidate receives an AppendEntries RPC from another server claiming to
// be leader whose term is at least as large as the candidate's current
// term, it recognizes the leader as legitimate and returns to follower
// state.
// Reference: section 5.2
TEST_P(RaftPaperTest, CandidateFallback) {
  const std::vector<Message> tests = {
      Msg(2, 1, MessageType::kMsgApp, 1),
      Msg(2, 1, MessageType::kMsgApp, 2),
  };
  for (size_t i = 0; i < tests.size(); ++i) {
    const Message& tt = tests[i];
    auto r = NewTestRaft(1, 10, 1, NewStorage({1, 2, 3}));
    (void)r->Step(Msg(1, 1, MessageType::kMsgHup));
    ASSERT_EQ(r->state(), StateType::kStateCandidate) << "#" << i;

    (void)r->Step(tt);

    EXPECT_EQ(r->state(), StateType::kStateFollower) << "#" << i;
    EXPECT_EQ(r->term(), tt.term) << "#" << i;
  }
}

// testNonleaderElectionTimeoutRandomized tests that election timeout for
// follower or candidate is randomized.
// Reference: section 5.2
void TestNonleaderElectionTimeoutRandomized(WritableStorage* s, StateType state) {
  const int et = 10;
  auto r = NewTestRaft(1, et, 1, s);
  std::set<int> timeouts;
  for (int round = 0; round < 50 * et; ++round) {
    if (state == StateType::kStateFollower) {
      r->BecomeFollower(r->term() + 1, 2);
    } else {
      r->BecomeCandidate();
    }
    int time = 0;
    while (ReadMessages(*r).empty()) {
      r->Tick();
      ++time;
    }
    timeouts.insert(time);
  }
  for (int d = et; d < 2 * et; ++d) {
    EXPECT_EQ(timeouts.count(d), 1u) << "timeout in " << d << " ticks should happen";
  }
}

// Ports etcd's TestFollowerElectionTimeoutRandomized.
TEST_P(RaftPaperTest, FollowerElectionTimeoutRandomized) {
  DiscardPackageLogger quiet;
  TestNonleaderElectionTimeoutRandomized(NewStorage({1, 2, 3}), StateType::kStateFollower);
}
// Ports etcd's TestCandidateElectionTimeoutRandomized.
TEST_P(RaftPaperTest, CandidateElectionTimeoutRandomized) {
  DiscardPackageLogger quiet;
  TestNonleaderElectionTimeoutRandomized(NewStorage({1, 2, 3}), StateType::kStateCandidate);
}

// testNonleadersElectionTimeoutNonconflict tests that in most cases only a
// single server (follower or candidate) will time out, which reduces the
// likelihood of split vote in the new election.
// Reference: section 5.2
void TestNonleadersElectionTimeoutNonconflict(RaftTestBase& t, StorageFactory& f, StateType state) {
  (void)t;
  const int et = 10;
  const uint64_t size = 5;
  std::vector<uint64_t> ids;
  for (uint64_t id = 1; id <= size; ++id) ids.push_back(id);
  std::vector<std::unique_ptr<Raft>> rs;
  for (uint64_t id : ids) rs.push_back(NewTestRaft(id, et, 1, f.New(ids)));
  int conflicts = 0;
  for (int round = 0; round < 1000; ++round) {
    for (auto& r : rs) {
      if (state == StateType::kStateFollower) {
        r->BecomeFollower(r->term() + 1, kNone);
      } else {
        r->BecomeCandidate();
      }
    }
    int timeout_num = 0;
    while (timeout_num == 0) {
      for (auto& r : rs) {
        r->Tick();
        if (!ReadMessages(*r).empty()) ++timeout_num;
      }
    }
    // Several rafts timed out at the same tick.
    if (timeout_num > 1) ++conflicts;
  }
  EXPECT_LE(static_cast<double>(conflicts) / 1000, 0.3);
}

// Ports etcd's TestFollowersElectionTimeoutNonconflict.
TEST_P(RaftPaperTest, FollowersElectionTimeoutNonconflict) {
  DiscardPackageLogger quiet;
  TestNonleadersElectionTimeoutNonconflict(*this, storages_, StateType::kStateFollower);
}
// Ports etcd's TestCandidatesElectionTimeoutNonconflict.
TEST_P(RaftPaperTest, CandidatesElectionTimeoutNonconflict) {
  DiscardPackageLogger quiet;
  TestNonleadersElectionTimeoutNonconflict(*this, storages_, StateType::kStateCandidate);
}

// Ports etcd's TestLeaderStartReplication: when receiving client proposals,
// the leader appends the proposal to its log as a new entry, then issues
// AppendEntries RPCs in parallel to each of the other servers to replicate
// the entry. Also, when sending an AppendEntries RPC, the leader includes
// the index and term of the entry in its log that immediately precedes the
// new entries. Also, it writes the new entry into stable storage.
// Reference: section 5.3
TEST_P(RaftPaperTest, LeaderStartReplication) {
  WritableStorage* s = NewStorage({1, 2, 3});
  auto r = NewTestRaft(1, 10, 1, s);
  r->BecomeCandidate();
  r->BecomeLeader();
  CommitNoopEntry(*r, *s);
  const uint64_t li = r->raft_log().LastIndex();

  (void)r->Step(PropMsg(1, 1, "some data"));

  EXPECT_EQ(r->raft_log().LastIndex(), li + 1);
  EXPECT_EQ(r->raft_log().committed(), li);
  std::vector<Message> msgs = ReadMessages(*r);
  SortMessages(msgs);
  const std::vector<Entry> wents = {Entry{1, li + 1, EntryType::kNormal, "some data"}};
  auto want_app = [&](uint64_t to) {
    Message m = Msg(1, to, MessageType::kMsgApp, 1);
    m.index = li;
    m.log_term = 1;
    m.entries = wents;
    m.commit = li;
    return m;
  };
  EXPECT_EQ(msgs, (std::vector<Message>{want_app(2), want_app(3)}));
  const std::span<const Entry> unstable = r->raft_log().NextUnstableEnts();
  EXPECT_EQ(std::vector<Entry>(unstable.begin(), unstable.end()), wents);
}

// Ports etcd's TestLeaderCommitEntry: when the entry has been safely
// replicated, the leader gives out the applied entries, which can be applied
// to its state machine. Also, the leader keeps track of the highest index it
// knows to be committed, and it includes that index in future AppendEntries
// RPCs so that the other servers eventually find out.
// Reference: section 5.3
TEST_P(RaftPaperTest, LeaderCommitEntry) {
  WritableStorage* s = NewStorage({1, 2, 3});
  auto r = NewTestRaft(1, 10, 1, s);
  r->BecomeCandidate();
  r->BecomeLeader();
  CommitNoopEntry(*r, *s);
  const uint64_t li = r->raft_log().LastIndex();
  (void)r->Step(PropMsg(1, 1, "some data"));

  for (const Message& m : ReadMessages(*r)) (void)r->Step(AcceptAndReply(m));

  EXPECT_EQ(r->raft_log().committed(), li + 1);
  EXPECT_EQ(r->raft_log().NextCommittedEnts(true),
            (std::vector<Entry>{Entry{1, li + 1, EntryType::kNormal, "some data"}}));
  std::vector<Message> msgs = ReadMessages(*r);
  SortMessages(msgs);
  for (size_t i = 0; i < msgs.size(); ++i) {
    EXPECT_EQ(msgs[i].to, i + 2);
    EXPECT_EQ(msgs[i].type, MessageType::kMsgApp);
    EXPECT_EQ(msgs[i].commit, li + 1);
  }
}

// Ports etcd's TestLeaderAcknowledgeCommit: a log entry is committed once
// the leader that created the entry has replicated it on a majority of the
// servers.
// Reference: section 5.3
TEST_P(RaftPaperTest, LeaderAcknowledgeCommit) {
  struct Case {
    uint64_t size;
    std::set<uint64_t> non_leader_acceptors;
    bool wack;
  };
  const std::vector<Case> tests = {
      {1, {}, true},     {3, {}, false},       {3, {2}, true},
      {3, {2, 3}, true}, {5, {}, false},       {5, {2}, false},
      {5, {2, 3}, true}, {5, {2, 3, 4}, true}, {5, {2, 3, 4, 5}, true},
  };
  for (size_t i = 0; i < tests.size(); ++i) {
    const Case& tt = tests[i];
    std::vector<uint64_t> ids;
    for (uint64_t id = 1; id <= tt.size; ++id) ids.push_back(id);
    WritableStorage* s = NewStorage(ids);
    auto r = NewTestRaft(1, 10, 1, s);
    r->BecomeCandidate();
    r->BecomeLeader();
    CommitNoopEntry(*r, *s);
    const uint64_t li = r->raft_log().LastIndex();
    (void)r->Step(PropMsg(1, 1, "some data"));
    AdvanceMessagesAfterAppend(*r);
    const std::vector<Message> msgs = r->msgs();
    for (const Message& m : msgs) {
      if (tt.non_leader_acceptors.count(m.to) != 0) (void)r->Step(AcceptAndReply(m));
    }
    EXPECT_EQ(r->raft_log().committed() > li, tt.wack) << "#" << i;
  }
}

// Ports etcd's TestLeaderCommitPrecedingEntries: when the leader commits a
// log entry, it also commits all preceding entries in the leader's log,
// including entries created by previous leaders. Also, it applies the entry
// to its local state machine (in log order).
// Reference: section 5.3
TEST_P(RaftPaperTest, LeaderCommitPrecedingEntries) {
  const std::vector<std::vector<Entry>> tests = {
      {},
      {Entry{2, 1, EntryType::kNormal, {}}},
      {Entry{1, 1, EntryType::kNormal, {}}, Entry{2, 2, EntryType::kNormal, {}}},
      {Entry{1, 1, EntryType::kNormal, {}}},
  };
  for (size_t i = 0; i < tests.size(); ++i) {
    const std::vector<Entry>& tt = tests[i];
    WritableStorage* storage = NewStorage({1, 2, 3});
    ASSERT_TRUE(storage->Append(tt).ok());
    auto r = NewTestRaft(1, 10, 1, storage);
    r->set_term(2);  // etcd: loadState(HardState{Term: 2})
    r->BecomeCandidate();
    r->BecomeLeader();
    (void)r->Step(PropMsg(1, 1, "some data"));

    for (const Message& m : ReadMessages(*r)) (void)r->Step(AcceptAndReply(m));

    const uint64_t li = tt.size();
    std::vector<Entry> want = tt;
    want.push_back(Entry{3, li + 1, EntryType::kNormal, {}});
    want.push_back(Entry{3, li + 2, EntryType::kNormal, "some data"});
    EXPECT_EQ(r->raft_log().NextCommittedEnts(true), want) << "#" << i;
  }
}

// Ports etcd's TestFollowerCommitEntry: once a follower learns that a log
// entry is committed, it applies the entry to its local state machine (in
// log order).
// Reference: section 5.3
TEST_P(RaftPaperTest, FollowerCommitEntry) {
  struct Case {
    std::vector<Entry> ents;
    uint64_t commit;
  };
  const std::vector<Case> tests = {
      {{Entry{1, 1, EntryType::kNormal, "some data"}}, 1},
      {{Entry{1, 1, EntryType::kNormal, "some data"},
        Entry{1, 2, EntryType::kNormal, "some data2"}},
       2},
      {{Entry{1, 1, EntryType::kNormal, "some data2"},
        Entry{1, 2, EntryType::kNormal, "some data"}},
       2},
      {{Entry{1, 1, EntryType::kNormal, "some data"},
        Entry{1, 2, EntryType::kNormal, "some data2"}},
       1},
  };
  for (size_t i = 0; i < tests.size(); ++i) {
    const Case& tt = tests[i];
    auto r = NewTestRaft(1, 10, 1, NewStorage({1, 2, 3}));
    r->BecomeFollower(1, 2);

    Message m = Msg(2, 1, MessageType::kMsgApp, 1);
    m.entries = tt.ents;
    m.commit = tt.commit;
    (void)r->Step(m);

    EXPECT_EQ(r->raft_log().committed(), tt.commit) << "#" << i;
    EXPECT_EQ(r->raft_log().NextCommittedEnts(true),
              std::vector<Entry>(tt.ents.begin(), tt.ents.begin() + tt.commit))
        << "#" << i;
  }
}

// Ports etcd's TestFollowerCheckMsgApp: if the follower does not find an
// entry in its log with the same index and term as the one in AppendEntries
// RPC, then it refuses the new entries. Otherwise it replies that it accepts
// the append entries.
// Reference: section 5.3
TEST_P(RaftPaperTest, FollowerCheckMsgApp) {
  const std::vector<Entry> ents = {Entry{1, 1, EntryType::kNormal, {}},
                                   Entry{2, 2, EntryType::kNormal, {}}};
  struct Case {
    uint64_t term;
    uint64_t index;
    uint64_t windex;
    bool wreject;
    uint64_t wreject_hint;
    uint64_t wlogterm;
  };
  const std::vector<Case> tests = {
      // match with committed entries
      {0, 0, 1, false, 0, 0},
      {ents[0].term, ents[0].index, 1, false, 0, 0},
      // match with uncommitted entries
      {ents[1].term, ents[1].index, 2, false, 0, 0},

      // unmatch with existing entry
      {ents[0].term, ents[1].index, ents[1].index, true, 1, 1},
      // unexisting entry
      {ents[1].term + 1, ents[1].index + 1, ents[1].index + 1, true, 2, 2},
  };
  for (size_t i = 0; i < tests.size(); ++i) {
    const Case& tt = tests[i];
    WritableStorage* storage = NewStorage({1, 2, 3});
    ASSERT_TRUE(storage->Append(ents).ok());
    auto r = NewTestRaft(1, 10, 1, storage);
    r->raft_log().set_committed(1);  // etcd: loadState(HardState{Commit: 1})
    r->BecomeFollower(2, 2);

    Message m = Msg(2, 1, MessageType::kMsgApp, 2);
    m.log_term = tt.term;
    m.index = tt.index;
    (void)r->Step(m);

    Message expected = Msg(1, 2, MessageType::kMsgAppResp, 2);
    expected.index = tt.windex;
    if (tt.wreject) {
      expected.reject = true;
      expected.reject_hint = tt.wreject_hint;
      expected.log_term = tt.wlogterm;
    }
    EXPECT_EQ(ReadMessages(*r), std::vector<Message>{expected}) << "#" << i;
  }
}

// Ports etcd's TestFollowerAppendEntries: when AppendEntries RPC is valid,
// the follower will delete the existing conflict entry and all that follow
// it, and append any new entries not already in the log. Also, it writes
// the new entry into stable storage.
// Reference: section 5.3
TEST_P(RaftPaperTest, FollowerAppendEntries) {
  struct Case {
    uint64_t index, term;
    std::vector<Entry> ents;
    std::vector<Entry> wents;
    std::vector<Entry> wunstable;
  };
  const std::vector<Case> tests = {
      {2, 2, IndexTerms(3, {3}), IndexTerms(1, {1, 2, 3}), IndexTerms(3, {3})},
      {1, 1, IndexTerms(2, {3, 4}), IndexTerms(1, {1, 3, 4}), IndexTerms(2, {3, 4})},
      {0, 0, IndexTerms(1, {1}), IndexTerms(1, {1, 2}), {}},
      {0, 0, IndexTerms(1, {3}), IndexTerms(1, {3}), IndexTerms(1, {3})},
  };
  for (size_t i = 0; i < tests.size(); ++i) {
    const Case& tt = tests[i];
    WritableStorage* storage = NewStorage({1, 2, 3});
    ASSERT_TRUE(storage->Append(IndexTerms(1, {1, 2})).ok());
    auto r = NewTestRaft(1, 10, 1, storage);
    r->BecomeFollower(2, 2);

    Message m = Msg(2, 1, MessageType::kMsgApp, 2);
    m.log_term = tt.term;
    m.index = tt.index;
    m.entries = tt.ents;
    (void)r->Step(m);

    EXPECT_EQ(r->raft_log().AllEntries(), tt.wents) << "#" << i;
    const std::span<const Entry> unstable = r->raft_log().NextUnstableEnts();
    EXPECT_EQ(std::vector<Entry>(unstable.begin(), unstable.end()), tt.wunstable) << "#" << i;
  }
}

// Ports etcd's TestLeaderSyncFollowerLog: the leader can bring a follower's
// log into consistency with its own.
// Reference: section 5.3, figure 7
TEST_P(RaftPaperTest, LeaderSyncFollowerLog) {
  const std::vector<Entry> ents = IndexTerms(0, {0, 1, 1, 1, 4, 4, 5, 5, 6, 6, 6});
  const uint64_t term = 8;
  const std::vector<std::vector<Entry>> tests = {
      IndexTerms(0, {0, 1, 1, 1, 4, 4, 5, 5, 6, 6}),
      IndexTerms(0, {0, 1, 1, 1, 4, 4}),
      IndexTerms(0, {0, 1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6}),
      IndexTerms(0, {0, 1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7}),
      IndexTerms(0, {0, 1, 1, 1, 4, 4, 4, 4}),
      IndexTerms(0, {0, 1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3}),
  };
  for (size_t i = 0; i < tests.size(); ++i) {
    WritableStorage* lead_storage = NewStorage({1, 2, 3});
    ASSERT_TRUE(lead_storage->Append(ents).ok());
    auto lead = NewTestRaft(1, 10, 1, lead_storage);
    // etcd: lead.loadState(HardState{Commit: lastIndex, Term: term})
    lead->raft_log().set_committed(lead->raft_log().LastIndex());
    lead->set_term(term);
    WritableStorage* follower_storage = NewStorage({1, 2, 3});
    ASSERT_TRUE(follower_storage->Append(tests[i]).ok());
    auto follower = NewTestRaft(2, 10, 1, follower_storage);
    follower->set_term(term - 1);  // etcd: loadState(HardState{Term: term - 1})
    // A three-node cluster is needed: the second node may have a more
    // up-to-date log than the first, which then needs the third's vote.
    TestNetwork n = NewNetwork(lead.get(), follower.get(), kNopStepper);
    n.Send(Msg(1, 1, MessageType::kMsgHup));
    // The election occurs in the term after the one loaded above.
    n.Send(Msg(3, 1, MessageType::kMsgVoteResp, term + 1));

    Message prop = Msg(1, 1, MessageType::kMsgProp);
    prop.entries.push_back(Entry{});
    n.Send(prop);

    EXPECT_EQ(Ltoa(lead->raft_log()), Ltoa(follower->raft_log())) << "#" << i;
  }
}

// Ports etcd's TestVoteRequest: the vote request includes information about
// the candidate's log and is sent to all of the other nodes.
// Reference: section 5.4.1
TEST_P(RaftPaperTest, VoteRequest) {
  struct Case {
    std::vector<Entry> ents;
    uint64_t wterm;
  };
  const std::vector<Case> tests = {
      {IndexTerms(1, {1}), 2},
      {IndexTerms(1, {1, 2}), 3},
  };
  for (size_t j = 0; j < tests.size(); ++j) {
    const Case& tt = tests[j];
    auto r = NewTestRaft(1, 10, 1, NewStorage({1, 2, 3}));
    Message m = Msg(2, 1, MessageType::kMsgApp, tt.wterm - 1);
    m.entries = tt.ents;
    (void)r->Step(m);
    ReadMessages(*r);

    for (int i = 1; i < r->election_timeout() * 2; ++i) r->TickElection();

    std::vector<Message> msgs = ReadMessages(*r);
    SortMessages(msgs);
    ASSERT_EQ(msgs.size(), 2u) << "#" << j;
    for (size_t i = 0; i < msgs.size(); ++i) {
      EXPECT_EQ(msgs[i].type, MessageType::kMsgVote) << "#" << j << "." << i;
      EXPECT_EQ(msgs[i].to, i + 2) << "#" << j << "." << i;
      EXPECT_EQ(msgs[i].term, tt.wterm) << "#" << j << "." << i;
      EXPECT_EQ(msgs[i].index, tt.ents.back().index) << "#" << j << "." << i;
      EXPECT_EQ(msgs[i].log_term, tt.ents.back().term) << "#" << j << "." << i;
    }
  }
}

// Ports etcd's TestVoter: the voter denies its vote if its own log is more
// up-to-date than that of the candidate.
// Reference: section 5.4.1
TEST_P(RaftPaperTest, Voter) {
  struct Case {
    std::vector<Entry> ents;
    uint64_t logterm;
    uint64_t index;
    bool wreject;
  };
  const std::vector<Case> tests = {
      // same logterm
      {IndexTerms(1, {1}), 1, 1, false},
      {IndexTerms(1, {1}), 1, 2, false},
      {IndexTerms(1, {1, 1}), 1, 1, true},
      // candidate higher logterm
      {IndexTerms(1, {1}), 2, 1, false},
      {IndexTerms(1, {1}), 2, 2, false},
      {IndexTerms(1, {1, 1}), 2, 1, false},
      // voter higher logterm
      {IndexTerms(1, {2}), 1, 1, true},
      {IndexTerms(1, {2}), 1, 2, true},
      {IndexTerms(1, {2, 2}), 1, 1, true},
      {IndexTerms(1, {1, 1}), 1, 1, true},
  };
  for (size_t i = 0; i < tests.size(); ++i) {
    const Case& tt = tests[i];
    WritableStorage* storage = NewStorage({1, 2});
    ASSERT_TRUE(storage->Append(tt.ents).ok());
    auto r = NewTestRaft(1, 10, 1, storage);

    Message m = Msg(2, 1, MessageType::kMsgVote, 3);
    m.log_term = tt.logterm;
    m.index = tt.index;
    (void)r->Step(m);

    std::vector<Message> msgs = ReadMessages(*r);
    ASSERT_EQ(msgs.size(), 1u) << "#" << i;
    EXPECT_EQ(msgs[0].type, MessageType::kMsgVoteResp) << "#" << i;
    EXPECT_EQ(msgs[0].reject, tt.wreject) << "#" << i;
  }
}

// Ports etcd's TestLeaderOnlyCommitsLogFromCurrentTerm: only log entries
// from the leader's current term are committed by counting replicas.
// Reference: section 5.4.2
TEST_P(RaftPaperTest, LeaderOnlyCommitsLogFromCurrentTerm) {
  const std::vector<Entry> ents = {Entry{1, 1, EntryType::kNormal, {}},
                                   Entry{2, 2, EntryType::kNormal, {}}};
  struct Case {
    uint64_t index;
    uint64_t wcommit;
  };
  const std::vector<Case> tests = {
      // do not commit log entries in previous terms
      {1, 0},
      {2, 0},
      // commit log in current term
      {3, 3},
  };
  for (size_t i = 0; i < tests.size(); ++i) {
    const Case& tt = tests[i];
    WritableStorage* storage = NewStorage({1, 2});
    ASSERT_TRUE(storage->Append(ents).ok());
    auto r = NewTestRaft(1, 10, 1, storage);
    r->set_term(2);  // etcd: loadState(HardState{Term: 2})
    // become leader at term 3
    r->BecomeCandidate();
    r->BecomeLeader();
    ReadMessages(*r);
    // propose an entry to the current term
    Message prop = Msg(1, 1, MessageType::kMsgProp);
    prop.entries.push_back(Entry{});
    (void)r->Step(prop);

    Message resp = Msg(2, 1, MessageType::kMsgAppResp, r->term());
    resp.index = tt.index;
    (void)r->Step(resp);
    AdvanceMessagesAfterAppend(*r);
    EXPECT_EQ(r->raft_log().committed(), tt.wcommit) << "#" << i;
  }
}

INSTANTIATE_TEST_SUITE_P(Storage, RaftPaperTest,
                         ::testing::Values(StorageKind::kMemory, StorageKind::kDisk),
                         StorageKindName);

}  // namespace
}  // namespace raftlog::raft::testing
