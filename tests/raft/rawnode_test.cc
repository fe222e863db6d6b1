// Tests of RawNode: a port of etcd raft's rawnode_test.go, plus tests of
// what etcd covers in node_test.go / bootstrap.go through the Node API
// (bootstrap, commit pagination, async storage writes) and of Config
// validation. Every test runs on MemoryStorage and DiskStorage.

#include "raftlog/raft/rawnode.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "raftlog/raft/conf_change.h"
#include "raftlog/raft/config.h"
#include "raftlog/raft/internal/raft.h"
#include "raftlog/raft/util.h"
#include "tests/raft/testutil/raft_test_util.h"

namespace raftlog::raft::testing {
namespace {

class RawNodeTest : public RaftTestBase {};

ConfState CS(std::vector<uint64_t> voters, std::vector<uint64_t> learners = {},
             std::vector<uint64_t> outgoing = {}, std::vector<uint64_t> learners_next = {},
             bool auto_leave = false) {
  ConfState cs;
  cs.voters = std::move(voters);
  cs.learners = std::move(learners);
  cs.voters_outgoing = std::move(outgoing);
  cs.learners_next = std::move(learners_next);
  cs.auto_leave = auto_leave;
  return cs;
}

ConfChangeV2 V2(std::vector<ConfChangeSingle> changes,
                ConfChangeTransition transition = ConfChangeTransition::kAuto) {
  ConfChangeV2 cc;
  cc.changes = std::move(changes);
  cc.transition = transition;
  return cc;
}

// The conf change an entry carries, or nullopt for a normal entry.
std::optional<ConfChangeI> ConfChangeOf(const Entry& e) {
  if (e.type == EntryType::kNormal) return std::nullopt;
  Result<ConfChangeI> cc = ConfChangeFromEntry(e);
  EXPECT_TRUE(cc.ok()) << cc.status().ToString();
  if (!cc.ok()) return std::nullopt;
  return *cc;
}

bool IsLeaderReady(const Ready& rd, const RawNode& rn) {
  return rd.soft_state.has_value() && rd.soft_state->lead == rn.raft().id();
}

// Ports etcd's TestRawNodeStep: RawNode.Step refuses local messages, and
// no message type makes it fail an assertion.
TEST_P(RawNodeTest, Step) {
  for (int i = 0; i < kMessageTypeCount; ++i) {
    const auto msgt = static_cast<MessageType>(i);
    SCOPED_TRACE(std::string(MessageTypeName(msgt)));
    WritableStorage* s = NewStorage();
    ASSERT_TRUE(s->SetHardState(HardState{1, kNone, 1}).ok());
    ASSERT_TRUE(s->Append(IndexTerms(1, {1})).ok());
    Snapshot snap;
    snap.metadata.conf_state.voters = {1};
    snap.metadata.index = 1;
    snap.metadata.term = 1;
    ASSERT_TRUE(s->ApplySnapshot(snap).ok());
    // The non-local messages (like vote requests) are ignored and don't
    // trigger assertions.
    Result<std::unique_ptr<RawNode>> raw_node = RawNode::New(NewTestConfig(1, 10, 1, s));
    ASSERT_TRUE(raw_node.ok()) << raw_node.status().ToString();
    Message m;
    m.type = msgt;
    Status err = (*raw_node)->Step(m);
    // LocalMsg should be ignored.
    if (IsLocalMsg(msgt)) {
      EXPECT_EQ(err, ErrStepLocalMsg());
    }
  }
}

// Ports etcd's TestRawNodeProposeAndConfChange: each case sends a
// configuration change which is either simple or joint, verifies that it
// applies and that the resulting ConfState matches expectations, and for
// joint configurations makes sure that they are exited successfully.
TEST_P(RawNodeTest, ProposeAndConfChange) {
  const ConfChangeSingle add2{ConfChangeType::kAddNode, 2};
  const ConfChangeSingle learner1{ConfChangeType::kAddLearnerNode, 1};
  const ConfChangeSingle learner2{ConfChangeType::kAddLearnerNode, 2};
  const ConfChangeSingle learner3{ConfChangeType::kAddLearnerNode, 3};
  struct Case {
    ConfChangeI cc;
    ConfState exp;
    std::optional<ConfState> exp2;
  };
  const std::vector<Case> test_cases = {
      // V1 config change.
      {ConfChange{ConfChangeType::kAddNode, 2, {}, 0}, CS({1, 2}), std::nullopt},
      // Proposing the same as a V2 change works just the same, without
      // entering a joint config.
      {V2({add2}), CS({1, 2}), std::nullopt},
      // Ditto if we add it as a learner instead.
      {V2({learner2}), CS({1}, {2}), std::nullopt},
      // We can ask explicitly for joint consensus if we want it.
      {V2({learner2}, ConfChangeTransition::kJointExplicit), CS({1}, {2}, {1}), CS({1}, {2})},
      // Ditto, but with implicit transition (the harness checks this).
      {V2({learner2}, ConfChangeTransition::kJointImplicit), CS({1}, {2}, {1}, {}, true),
       CS({1}, {2})},
      // Add a new node and demote n1. This exercises the interesting case in
      // which we really need joint config changes and also need
      // LearnersNext.
      {V2({add2, learner1, learner3}), CS({2}, {3}, {1}, {1}, true), CS({2}, {1, 3})},
      // Ditto explicit.
      {V2({add2, learner1, learner3}, ConfChangeTransition::kJointExplicit), CS({2}, {3}, {1}, {1}),
       CS({2}, {1, 3})},
      // Ditto implicit.
      {V2({add2, learner1, learner3}, ConfChangeTransition::kJointImplicit),
       CS({2}, {3}, {1}, {1}, true), CS({2}, {1, 3})},
  };

  for (size_t i = 0; i < test_cases.size(); ++i) {
    SCOPED_TRACE(i);
    const Case& tc = test_cases[i];
    WritableStorage* s = NewStorage({1});
    std::unique_ptr<RawNode> raw_node = NewTestRawNode(1, 10, 1, s);

    (void)raw_node->Campaign();
    bool proposed = false;
    std::string ccdata;
    // Propose the ConfChange, wait until it applies, save the resulting
    // ConfState.
    std::optional<ConfState> cs;
    while (!cs.has_value()) {
      Ready rd = raw_node->Ready();
      ASSERT_TRUE(s->Append(rd.entries).ok());
      for (const Entry& ent : rd.committed_entries) {
        if (std::optional<ConfChangeI> cc = ConfChangeOf(ent)) cs = raw_node->ApplyConfChange(*cc);
      }
      raw_node->Advance();
      // Once we are the leader, propose a command and a ConfChange.
      if (!proposed && IsLeaderReady(rd, *raw_node)) {
        ASSERT_TRUE(raw_node->Propose("somedata").ok());
        if (const ConfChange* ccv1 = tc.cc.AsV1()) {
          ccdata = EncodeConfChange(*ccv1);
        } else {
          ccdata = EncodeConfChangeV2(tc.cc.AsV2());
        }
        ASSERT_TRUE(raw_node->ProposeConfChange(tc.cc).ok());
        proposed = true;
      }
    }

    // Check that the last index is exactly the conf change we put in, down
    // to the bits. Note that this comes from the Storage, which will not
    // reflect any unstable entries that we'll only be presented with in the
    // next Ready.
    Result<uint64_t> last_index = s->LastIndex();
    ASSERT_TRUE(last_index.ok());

    Result<std::vector<Entry>> entries = s->Entries(*last_index - 1, *last_index + 1, kNoLimit);
    ASSERT_TRUE(entries.ok());
    ASSERT_EQ(entries->size(), 2u);
    EXPECT_EQ((*entries)[0].data, "somedata");
    const EntryType typ =
        tc.cc.AsV1() != nullptr ? EntryType::kConfChange : EntryType::kConfChangeV2;
    ASSERT_EQ((*entries)[1].type, typ);
    EXPECT_EQ((*entries)[1].data, ccdata);

    ASSERT_EQ(*cs, tc.exp);

    uint64_t maybe_plus_one = 0;
    if (const EnterJointResult ej = tc.cc.EnterJoint(); ej.ok && ej.auto_leave) {
      // If this is an auto-leaving joint conf change, it will have appended
      // the entry that auto-leaves, so add one to the last index that forms
      // the basis of our expectations on pendingConfIndex. (Recall that
      // lastIndex was taken from stable storage, but this auto-leaving entry
      // isn't on stable storage yet).
      maybe_plus_one = 1;
    }
    ASSERT_EQ(raw_node->raft().pending_conf_index(), *last_index + maybe_plus_one);

    // Move the RawNode along. If the ConfChange was simple, nothing else
    // should happen. Otherwise, we're in a joint state, which is either left
    // automatically or not. If not, we add the proposal that leaves it
    // manually.
    Ready rd = raw_node->Ready();
    std::string context;
    if (!tc.exp.auto_leave) {
      ASSERT_TRUE(rd.entries.empty());
      raw_node->Advance();
      if (!tc.exp2.has_value()) continue;
      context = "manual";
      ConfChangeV2 leave;
      leave.context = context;
      ASSERT_TRUE(raw_node->ProposeConfChange(leave).ok());
      rd = raw_node->Ready();
    }

    // Check that the right ConfChange comes out.
    ASSERT_EQ(rd.entries.size(), 1u);
    ASSERT_EQ(rd.entries[0].type, EntryType::kConfChangeV2);
    Result<ConfChangeV2> cc = DecodeConfChangeV2(rd.entries[0].data);
    ASSERT_TRUE(cc.ok());
    ConfChangeV2 want_cc;
    want_cc.context = context;
    ASSERT_EQ(*cc, want_cc);

    // Lie and pretend the ConfChange applied. It won't do so because now we
    // require the joint quorum and we're only running one node.
    cs = raw_node->ApplyConfChange(*cc);
    ASSERT_EQ(*cs, *tc.exp2);

    raw_node->Advance();
  }
}

// Ports etcd's TestRawNodeJointAutoLeave: the configuration change auto
// leaves even if the leader lost leadership in between.
TEST_P(RawNodeTest, JointAutoLeave) {
  const ConfChangeV2 test_cc =
      V2({{ConfChangeType::kAddLearnerNode, 2}}, ConfChangeTransition::kJointImplicit);
  const ConfState exp_cs = CS({1}, {2}, {1}, {}, true);
  const ConfState exp2_cs = CS({1}, {2});

  WritableStorage* s = NewStorage({1});
  std::unique_ptr<RawNode> raw_node = NewTestRawNode(1, 10, 1, s);

  (void)raw_node->Campaign();
  bool proposed = false;
  std::string ccdata;
  // Propose the ConfChange, wait until it applies, save the resulting
  // ConfState.
  std::optional<ConfState> cs;
  while (!cs.has_value()) {
    Ready rd = raw_node->Ready();
    ASSERT_TRUE(s->Append(rd.entries).ok());
    for (const Entry& ent : rd.committed_entries) {
      if (ent.type != EntryType::kConfChangeV2) continue;
      std::optional<ConfChangeI> cc = ConfChangeOf(ent);
      ASSERT_TRUE(cc.has_value());
      // Force it step down.
      Message m = Msg(1, 0, MessageType::kMsgHeartbeatResp, raw_node->raft().term() + 1);
      (void)raw_node->Step(m);
      cs = raw_node->ApplyConfChange(*cc);
    }
    raw_node->Advance();
    // Once we are the leader, propose a command and a ConfChange.
    if (!proposed && IsLeaderReady(rd, *raw_node)) {
      ASSERT_TRUE(raw_node->Propose("somedata").ok());
      ccdata = EncodeConfChangeV2(test_cc);
      ASSERT_TRUE(raw_node->ProposeConfChange(test_cc).ok());
      proposed = true;
    }
  }

  // Check that the last index is exactly the conf change we put in, down to
  // the bits. Note that this comes from the Storage, which will not reflect
  // any unstable entries that we'll only be presented with in the next
  // Ready.
  Result<uint64_t> last_index = s->LastIndex();
  ASSERT_TRUE(last_index.ok());

  Result<std::vector<Entry>> entries = s->Entries(*last_index - 1, *last_index + 1, kNoLimit);
  ASSERT_TRUE(entries.ok());
  ASSERT_EQ(entries->size(), 2u);
  EXPECT_EQ((*entries)[0].data, "somedata");
  ASSERT_EQ((*entries)[1].type, EntryType::kConfChangeV2);
  EXPECT_EQ((*entries)[1].data, ccdata);

  ASSERT_EQ(*cs, exp_cs);

  ASSERT_EQ(raw_node->raft().pending_conf_index(), 0u);

  // Move the RawNode along. It should not leave joint because it's
  // follower (etcd looks at readyWithoutAccept's entries).
  ASSERT_TRUE(raw_node->raft().raft_log().NextUnstableEnts().empty());

  // Make it leader again. It should leave joint automatically after moving
  // apply index.
  (void)raw_node->Campaign();
  for (int i = 0; i < 3; ++i) {
    Ready rd = raw_node->Ready();
    ASSERT_TRUE(s->Append(rd.entries).ok());
    raw_node->Advance();
  }
  Ready rd = raw_node->Ready();
  ASSERT_TRUE(s->Append(rd.entries).ok());
  // Check that the right ConfChange comes out.
  ASSERT_EQ(rd.entries.size(), 1u) << DescribeReady(rd);
  ASSERT_EQ(rd.entries[0].type, EntryType::kConfChangeV2);
  Result<ConfChangeV2> cc = DecodeConfChangeV2(rd.entries[0].data);
  ASSERT_TRUE(cc.ok());
  ASSERT_EQ(*cc, ConfChangeV2{});
  // Lie and pretend the ConfChange applied. It won't do so because now we
  // require the joint quorum and we're only running one node.
  cs = raw_node->ApplyConfChange(*cc);
  ASSERT_EQ(*cs, exp2_cs);
}

// Ports etcd's TestRawNodeProposeAddDuplicateNode: two proposals to add the
// same node do not affect the later proposal to add a new node.
TEST_P(RawNodeTest, ProposeAddDuplicateNode) {
  WritableStorage* s = NewStorage({1});
  std::unique_ptr<RawNode> raw_node = NewTestRawNode(1, 10, 1, s);

  Ready rd = raw_node->Ready();
  ASSERT_TRUE(s->Append(rd.entries).ok());
  raw_node->Advance();

  (void)raw_node->Campaign();
  for (;;) {
    rd = raw_node->Ready();
    ASSERT_TRUE(s->Append(rd.entries).ok());
    const bool leader = IsLeaderReady(rd, *raw_node);
    raw_node->Advance();
    if (leader) break;
  }

  auto propose_conf_change_and_apply = [&](const ConfChange& cc) {
    (void)raw_node->ProposeConfChange(cc);
    Ready r = raw_node->Ready();
    ASSERT_TRUE(s->Append(r.entries).ok());
    for (const Entry& entry : r.committed_entries) {
      if (entry.type == EntryType::kConfChange) {
        Result<ConfChange> c = DecodeConfChange(entry.data);
        ASSERT_TRUE(c.ok());
        raw_node->ApplyConfChange(*c);
      }
    }
    raw_node->Advance();
  };

  const ConfChange cc1{ConfChangeType::kAddNode, 1, {}, 0};
  const std::string ccdata1 = EncodeConfChange(cc1);
  propose_conf_change_and_apply(cc1);

  // try to add the same node again
  propose_conf_change_and_apply(cc1);

  // the new node join should be ok
  const ConfChange cc2{ConfChangeType::kAddNode, 2, {}, 0};
  const std::string ccdata2 = EncodeConfChange(cc2);
  propose_conf_change_and_apply(cc2);

  Result<uint64_t> last_index = s->LastIndex();
  ASSERT_TRUE(last_index.ok());

  // the last three entries should be: ConfChange cc1, cc1, cc2
  Result<std::vector<Entry>> entries = s->Entries(*last_index - 2, *last_index + 1, kNoLimit);
  ASSERT_TRUE(entries.ok());
  ASSERT_EQ(entries->size(), 3u);
  EXPECT_EQ((*entries)[0].data, ccdata1);
  EXPECT_EQ((*entries)[2].data, ccdata2);
}

std::vector<Message>* g_read_index_msgs = nullptr;

// Ports etcd's TestRawNodeReadIndex: RawNode.ReadIndex sends the
// MsgReadIndex message to the underlying raft, and ReadStates can be read
// out.
TEST_P(RawNodeTest, ReadIndex) {
  std::vector<Message> msgs;
  g_read_index_msgs = &msgs;
  const std::vector<ReadState> wrs = {ReadState{1, "somedata"}};

  WritableStorage* s = NewStorage({1});
  std::unique_ptr<RawNode> raw_node = NewTestRawNode(1, 10, 1, s);

  raw_node->raft().read_states() = wrs;
  // ensure the ReadStates can be read out
  EXPECT_TRUE(raw_node->HasReady());
  Ready rd = raw_node->Ready();
  EXPECT_EQ(rd.read_states, wrs);
  ASSERT_TRUE(s->Append(rd.entries).ok());
  raw_node->Advance();
  // ensure raft.readStates is reset after advance
  EXPECT_TRUE(raw_node->raft().read_states().empty());

  const std::string wrequest_ctx = "somedata2";
  (void)raw_node->Campaign();
  for (;;) {
    rd = raw_node->Ready();
    ASSERT_TRUE(s->Append(rd.entries).ok());
    if (IsLeaderReady(rd, *raw_node)) {
      raw_node->Advance();
      // Once we are the leader, issue a ReadIndex request
      raw_node->raft().set_step([](Raft&, Message& m) {
        g_read_index_msgs->push_back(m);
        return Status::OK();
      });
      raw_node->ReadIndex(wrequest_ctx);
      break;
    }
    raw_node->Advance();
  }
  // ensure that MsgReadIndex message is sent to the underlying raft
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(msgs[0].type, MessageType::kMsgReadIndex);
  EXPECT_EQ(msgs[0].entries[0].data, wrequest_ctx);
  g_read_index_msgs = nullptr;
}

// Ports etcd's TestRawNodeStart: a node can be started correctly. RawNode
// requires the application to bootstrap the state, i.e. it does not accept
// peers and will not create faux configuration change entries.
TEST_P(RawNodeTest, Start) {
  const std::vector<Entry> entries = {
      Entry{1, 2, EntryType::kNormal, {}},     // empty entry
      Entry{1, 3, EntryType::kNormal, "foo"},  // non-empty entry
  };

  // Bootstrap the way CockroachDB does (etcd's TODO(tbg) prototype): the
  // ConfState is persisted at index 1, which log position 1 cannot reach,
  // so that followers are forced to pick it up through a snapshot. (etcd
  // sets MemoryStorage's dummy entry to index 1 first and checks that no
  // entry can be loaded; the index-1 snapshot below yields the same state
  // on any storage.)
  WritableStorage* storage = NewStorage();
  {
    Result<StoredState> st = storage->InitialState();
    ASSERT_TRUE(st.ok());
    ASSERT_TRUE(IsEmptyHardState(st->hard_state));
    ASSERT_TRUE(st->conf_state.voters.empty());
    Snapshot snap;
    snap.metadata.index = 1;
    snap.metadata.term = 0;
    snap.metadata.conf_state.voters = {1};
    ASSERT_TRUE(storage->ApplySnapshot(snap).ok());
    Result<uint64_t> fi = storage->FirstIndex();
    ASSERT_TRUE(fi.ok());
    ASSERT_GE(*fi, 2u) << "FirstIndex >= 2 is prerequisite for bootstrap";
    EXPECT_FALSE(storage->Entries(*fi, *fi, kNoLimit).ok())
        << "should not have been able to load first index";
  }

  std::unique_ptr<RawNode> raw_node = NewTestRawNode(1, 10, 1, storage);
  ASSERT_FALSE(raw_node->HasReady());

  (void)raw_node->Campaign();
  Ready rd = raw_node->Ready();
  ASSERT_TRUE(storage->Append(rd.entries).ok());
  raw_node->Advance();
  (void)raw_node->Propose("foo");
  ASSERT_TRUE(raw_node->HasReady());

  rd = raw_node->Ready();
  ASSERT_EQ(rd.entries, entries);
  ASSERT_TRUE(storage->Append(rd.entries).ok());
  raw_node->Advance();

  ASSERT_TRUE(raw_node->HasReady());
  rd = raw_node->Ready();
  ASSERT_TRUE(rd.entries.empty());
  ASSERT_FALSE(rd.must_sync);
  raw_node->Advance();

  EXPECT_EQ(rd.hard_state, (HardState{1, 1, 3}));
  EXPECT_EQ(rd.committed_entries, entries);
  EXPECT_TRUE(rd.messages.empty());
  EXPECT_TRUE(rd.read_states.empty());
  EXPECT_EQ(rd.snapshot, nullptr);
  EXPECT_FALSE(raw_node->HasReady());
}

// Ports etcd's TestRawNodeRestart.
TEST_P(RawNodeTest, Restart) {
  const std::vector<Entry> entries = {
      Entry{1, 1, EntryType::kNormal, {}},
      Entry{1, 2, EntryType::kNormal, "foo"},
  };
  const HardState st{1, kNone, 1};

  WritableStorage* storage = NewStorage({1});
  ASSERT_TRUE(storage->SetHardState(st).ok());
  ASSERT_TRUE(storage->Append(entries).ok());
  std::unique_ptr<RawNode> raw_node = NewTestRawNode(1, 10, 1, storage);
  Ready rd = raw_node->Ready();
  EXPECT_FALSE(rd.soft_state.has_value());
  EXPECT_TRUE(IsEmptyHardState(rd.hard_state));
  // commit up to commit index in st
  EXPECT_EQ(rd.committed_entries, std::vector<Entry>(entries.begin(), entries.begin() + 1));
  EXPECT_TRUE(rd.entries.empty());
  EXPECT_TRUE(rd.messages.empty());
  EXPECT_FALSE(rd.must_sync);
  raw_node->Advance();
  EXPECT_FALSE(raw_node->HasReady());
}

// Ports etcd's TestRawNodeRestartFromSnapshot.
TEST_P(RawNodeTest, RestartFromSnapshot) {
  Snapshot snap;
  snap.metadata.conf_state.voters = {1, 2};
  snap.metadata.index = 2;
  snap.metadata.term = 1;
  const std::vector<Entry> entries = {Entry{1, 3, EntryType::kNormal, "foo"}};
  const HardState st{1, kNone, 3};

  WritableStorage* s = NewStorage();
  ASSERT_TRUE(s->SetHardState(st).ok());
  ASSERT_TRUE(s->ApplySnapshot(snap).ok());
  ASSERT_TRUE(s->Append(entries).ok());
  std::unique_ptr<RawNode> raw_node = NewTestRawNode(1, 10, 1, s);
  Ready rd = raw_node->Ready();
  EXPECT_FALSE(rd.soft_state.has_value());
  EXPECT_TRUE(IsEmptyHardState(rd.hard_state));
  // commit up to commit index in st
  EXPECT_EQ(rd.committed_entries, entries);
  EXPECT_TRUE(rd.entries.empty());
  EXPECT_FALSE(rd.must_sync);
  raw_node->Advance();
  EXPECT_FALSE(raw_node->HasReady());
}

// Ports etcd's TestRawNodeStatus.
TEST_P(RawNodeTest, Status) {
  WritableStorage* s = NewStorage({1});
  std::unique_ptr<RawNode> rn = NewTestRawNode(1, 10, 1, s);
  ASSERT_TRUE(rn->GetStatus().progress.empty());
  ASSERT_TRUE(rn->Campaign().ok());

  Ready rd = rn->Ready();
  ASSERT_TRUE(s->Append(rd.entries).ok());
  rn->Advance();
  const NodeStatus status = rn->GetStatus();
  EXPECT_EQ(status.soft_state.lead, 1u);
  EXPECT_EQ(status.soft_state.raft_state, StateType::kStateLeader);
  ASSERT_EQ(status.progress.count(1), 1u);
  EXPECT_EQ(status.progress.at(1), rn->raft().trk().progress.at(1));

  tracker::Config exp_cfg;
  exp_cfg.voters.incoming = quorum::MajorityConfig{1};
  EXPECT_EQ(status.config, exp_cfg);

  // The allocation-free views agree.
  const BasicStatus basic = rn->GetBasicStatus();
  EXPECT_EQ(basic, static_cast<const BasicStatus&>(status));
  int visited = 0;
  rn->WithProgress([&](uint64_t id, ProgressType type, const tracker::Progress& pr) {
    ++visited;
    EXPECT_EQ(id, 1u);
    EXPECT_EQ(type, ProgressType::kProgressTypePeer);
    EXPECT_EQ(pr.match, status.progress.at(1).match);
  });
  EXPECT_EQ(visited, 1);
  EXPECT_EQ(status.String(),
            "{\"id\":\"1\",\"term\":1,\"vote\":\"1\",\"commit\":0,\"lead\":\"1\",\"raftState\":"
            "\"StateLeader\",\"applied\":0,\"progress\":{\"1\":{\"match\":0,\"next\":1,\"state\":"
            "\"StateReplicate\"}},\"leadtransferee\":\"0\"}");
}

// A storage that ignores Entries' size limit (etcd's
// ignoreSizeHintMemStorage), to show that raft does not depend on it.
class IgnoreSizeHintStorage final : public Storage {
 public:
  explicit IgnoreSizeHintStorage(const Storage* s) : s_(s) {}
  Result<StoredState> InitialState() const override { return s_->InitialState(); }
  Result<std::vector<Entry>> Entries(uint64_t lo, uint64_t hi, uint64_t) const override {
    return s_->Entries(lo, hi, kNoLimit);
  }
  Result<uint64_t> Term(uint64_t i) const override { return s_->Term(i); }
  Result<uint64_t> LastIndex() const override { return s_->LastIndex(); }
  Result<uint64_t> FirstIndex() const override { return s_->FirstIndex(); }
  Result<raft::Snapshot> Snapshot() const override { return s_->Snapshot(); }

 private:
  const Storage* s_;
};

// Ports etcd's TestRawNodeCommitPaginationAfterRestart, the RawNode version
// of TestNodeCommitPaginationAfterRestart. The anomaly here was even worse
// as the Raft group would forget to apply entries:
//
//   - node learns that index 11 is committed
//   - nextCommittedEnts returns index 1..10 in CommittedEntries (but index
//     10 already exceeds maxBytes), which isn't noticed internally by Raft
//   - Commit index gets bumped to 10
//   - the node persists the HardState, but crashes before applying the
//     entries
//   - upon restart, the storage returns the same entries, but `slice` takes
//     a different code path and removes the last entry.
//   - Raft does not emit a HardState, but when the app calls Advance(), it
//     bumps its internal applied index cursor to 10 (when it should be 9)
//   - the next Ready asks the app to apply index 11 (omitting index 10),
//     losing a write.
TEST_P(RawNodeTest, CommitPaginationAfterRestart) {
  WritableStorage* base = NewStorage({1});
  IgnoreSizeHintStorage s(base);
  ASSERT_TRUE(base->SetHardState(HardState{1, 1, 10}).ok());
  std::vector<Entry> ents;
  uint64_t size = 0;
  for (uint64_t i = 0; i < 10; ++i) {
    ents.push_back(Entry{1, i + 1, EntryType::kNormal, "a"});
    size += EntrySize(ents.back());
  }

  Config cfg = NewTestConfig(1, 10, 1, &s);
  // Set a MaxSizePerMsg that would suggest to Raft that the last committed
  // entry should not be included in the initial rd.CommittedEntries.
  // However, our storage will ignore this and *will* return it (which is how
  // the Commit index ended up being 10 initially).
  cfg.max_size_per_msg = size - EntrySize(ents.back()) - 1;

  ents.push_back(Entry{1, 11, EntryType::kNormal, "boom"});
  ASSERT_TRUE(base->Append(ents).ok());

  Result<std::unique_ptr<RawNode>> raw_node = RawNode::New(cfg);
  ASSERT_TRUE(raw_node.ok());
  RawNode& rn = **raw_node;

  for (uint64_t highest_applied = 0; highest_applied != 11;) {
    Ready rd = rn.Ready();
    const size_t n = rd.committed_entries.size();
    ASSERT_NE(n, 0u) << "stopped applying entries at index " << highest_applied;
    const uint64_t next = rd.committed_entries[0].index;
    ASSERT_FALSE(highest_applied != 0 && highest_applied + 1 != next)
        << "attempting to apply index " << next << " after index " << highest_applied
        << ", leaving a gap";

    highest_applied = rd.committed_entries[n - 1].index;
    rn.Advance();
    Message hb = Msg(2, 1, MessageType::kMsgHeartbeat, 1);  // illegal, but we get away with it
    hb.commit = 11;
    (void)rn.Step(hb);
  }
}

// Ports etcd's TestRawNodeBoundedLogGrowthWithPartition: a leader
// partitioned from a quorum of nodes keeps its log from growing without
// bound as new entries continue to be proposed (MaxUncommittedEntriesSize).
TEST_P(RawNodeTest, BoundedLogGrowthWithPartition) {
  const size_t max_entries = 16;
  const std::string data = "testdata";
  const uint64_t max_entry_size = max_entries * PayloadSize(DataEntry(data));

  WritableStorage* s = NewStorage({1});
  Config cfg = NewTestConfig(1, 10, 1, s);
  cfg.max_uncommitted_entries_size = max_entry_size;
  Result<std::unique_ptr<RawNode>> raw_node = RawNode::New(cfg);
  ASSERT_TRUE(raw_node.ok());
  RawNode& rn = **raw_node;

  // Become the leader and apply empty entry.
  (void)rn.Campaign();
  for (;;) {
    Ready rd = rn.Ready();
    ASSERT_TRUE(s->Append(rd.entries).ok());
    rn.Advance();
    if (!rd.committed_entries.empty()) break;
  }

  // Simulate a network partition while we make our proposals by never
  // committing anything. These proposals should not cause the leader's log
  // to grow indefinitely.
  for (int i = 0; i < 1024; ++i) (void)rn.Propose(Bytes(data));

  // Check the size of leader's uncommitted log tail. It should not exceed
  // the MaxUncommittedEntriesSize limit.
  EXPECT_EQ(rn.raft().uncommitted_size(), max_entry_size);

  // Recover from the partition. The uncommitted tail of the Raft log should
  // disappear as entries are committed.
  Ready rd = rn.Ready();
  ASSERT_EQ(rd.entries.size(), max_entries);
  ASSERT_TRUE(s->Append(rd.entries).ok());
  rn.Advance();

  // Entries are appended, but not applied.
  EXPECT_EQ(rn.raft().uncommitted_size(), max_entry_size);

  rd = rn.Ready();
  ASSERT_TRUE(rd.entries.empty());
  ASSERT_EQ(rd.committed_entries.size(), max_entries);
  rn.Advance();

  EXPECT_EQ(rn.raft().uncommitted_size(), 0u);
}

// Ports etcd's TestRawNodeConsumeReady: Ready() moves the messages out of
// raft, and Advance() does not drop messages that arrived after it.
// (etcd's readyWithoutAccept has no counterpart here.)
TEST_P(RawNodeTest, ConsumeReady) {
  WritableStorage* s = NewStorage({1});
  std::unique_ptr<RawNode> rn = NewTestRawNode(1, 3, 1, s);
  Message m1;
  m1.context = "foo";
  Message m2;
  m2.context = "bar";

  // Inject the first message; Ready() moves it into the Ready.
  rn->raft().msgs().push_back(m1);
  ASSERT_TRUE(rn->HasReady());
  Ready rd = rn->Ready();
  ASSERT_TRUE(rn->raft().msgs().empty());
  ASSERT_EQ(rd.messages.size(), 1u);
  ASSERT_EQ(rd.messages[0], m1);

  // Add a message to raft to make sure that Advance() doesn't drop it.
  rn->raft().msgs().push_back(m2);
  rn->Advance();
  ASSERT_EQ(rn->raft().msgs().size(), 1u);
  ASSERT_EQ(rn->raft().msgs()[0], m2);
}

// Config validation with etcd's rules and texts; RawNode::New returns the
// error instead of panicking like etcd's newRaft.
TEST_P(RawNodeTest, NewRejectsInvalidConfig) {
  WritableStorage* s = NewStorage({1});
  struct Case {
    std::function<void(Config&)> mutate;
    std::string want;
  };
  const std::vector<Case> tests = {
      {[](Config& c) { c.id = kNone; }, "cannot use none as id"},
      {[](Config& c) { c.id = kLocalAppendThread; }, "cannot use local target as id"},
      {[](Config& c) { c.id = kLocalApplyThread; }, "cannot use local target as id"},
      {[](Config& c) { c.heartbeat_tick = 0; }, "heartbeat tick must be greater than 0"},
      {[](Config& c) { c.election_tick = c.heartbeat_tick; },
       "election tick must be greater than heartbeat tick"},
      {[](Config& c) { c.storage = nullptr; }, "storage cannot be nil"},
      {[](Config& c) { c.max_inflight_msgs = 0; }, "max inflight messages must be greater than 0"},
      {[](Config& c) {
         c.max_size_per_msg = 1024;
         c.max_inflight_bytes = 1023;
       },
       "max inflight bytes must be >= max message size"},
      {[](Config& c) { c.read_only_option = ReadOnlyOption::kReadOnlyLeaseBased; },
       "CheckQuorum must be enabled when ReadOnlyOption is ReadOnlyLeaseBased"},
  };
  for (size_t i = 0; i < tests.size(); ++i) {
    Config c = NewTestConfig(1, 10, 1, s);
    tests[i].mutate(c);
    Result<std::unique_ptr<RawNode>> rn = RawNode::New(c);
    ASSERT_FALSE(rn.ok()) << "#" << i;
    EXPECT_TRUE(rn.status().IsInvalidArgument()) << "#" << i;
    EXPECT_EQ(rn.status().message(), tests[i].want) << "#" << i;
  }

  // Defaults filled in by Validate().
  Config c = NewTestConfig(1, 10, 1, s);
  c.logger = nullptr;
  c.max_size_per_msg = 4096;
  ASSERT_TRUE(c.Validate().ok());
  EXPECT_EQ(c.max_uncommitted_entries_size, kNoLimit);
  EXPECT_EQ(c.max_committed_size_per_ready, 4096u);
  EXPECT_EQ(c.max_inflight_bytes, kNoLimit);
  EXPECT_EQ(c.logger, &GetLogger());
  // Idempotent.
  ASSERT_TRUE(c.Validate().ok());
  EXPECT_EQ(c.max_committed_size_per_ready, 4096u);
}

// RawNode::Bootstrap (etcd's bootstrap.go): one ConfChangeAddNode per peer
// at term 1, committed and applied to the tracker, handed out in the first
// Ready.
TEST_P(RawNodeTest, Bootstrap) {
  WritableStorage* s = NewStorage();
  std::unique_ptr<RawNode> rn = NewTestRawNode(1, 10, 1, s);

  EXPECT_EQ(rn->Bootstrap({}).message(), "must provide at least one peer to Bootstrap");
  ASSERT_TRUE(rn->Bootstrap({Peer{1, "ctx1"}, Peer{2, {}}}).ok());
  EXPECT_EQ(rn->raft().trk().VoterNodes(), (std::vector<uint64_t>{1, 2}));

  ASSERT_TRUE(rn->HasReady());
  Ready rd = rn->Ready();
  EXPECT_EQ(rd.hard_state, (HardState{1, kNone, 2}));
  EXPECT_TRUE(rd.must_sync);
  ASSERT_EQ(rd.entries.size(), 2u);
  ASSERT_EQ(rd.committed_entries, rd.entries);
  for (size_t i = 0; i < rd.entries.size(); ++i) {
    EXPECT_EQ(rd.entries[i].term, 1u);
    EXPECT_EQ(rd.entries[i].index, i + 1);
    ASSERT_EQ(rd.entries[i].type, EntryType::kConfChange);
    Result<ConfChange> cc = DecodeConfChange(rd.entries[i].data);
    ASSERT_TRUE(cc.ok());
    EXPECT_EQ(cc->type, ConfChangeType::kAddNode);
    EXPECT_EQ(cc->node_id, i + 1);
    EXPECT_EQ(cc->context, i == 0 ? "ctx1" : "");
  }
  ASSERT_TRUE(s->Save(rd.hard_state, rd.entries, nullptr, rd.must_sync).ok());
  for (const Entry& e : rd.committed_entries) {
    std::optional<ConfChangeI> cc = ConfChangeOf(e);
    ASSERT_TRUE(cc.has_value());
    rn->ApplyConfChange(*cc);
  }
  rn->Advance();
  EXPECT_EQ(rn->GetBasicStatus().applied, 2u);

  // A second node over the now non-empty storage cannot bootstrap.
  std::unique_ptr<RawNode> again = NewTestRawNode(1, 10, 1, s);
  Status st = again->Bootstrap({Peer{1, {}}});
  EXPECT_TRUE(st.IsInvalidArgument());
  EXPECT_EQ(st.message(), "can't bootstrap a nonempty Storage");
}

// etcd's TestCommitPagination (node_test.go) through RawNode:
// MaxCommittedSizePerReady splits the committed entries over Readys.
TEST_P(RawNodeTest, CommitPagination) {
  WritableStorage* s = NewStorage({1});
  Config cfg = NewTestConfig(1, 10, 1, s);
  cfg.max_committed_size_per_ready = 2048;
  Result<std::unique_ptr<RawNode>> created = RawNode::New(cfg);
  ASSERT_TRUE(created.ok());
  RawNode& rn = **created;

  (void)rn.Campaign();
  for (;;) {
    Ready rd = rn.Ready();
    ASSERT_TRUE(s->Append(rd.entries).ok());
    rn.Advance();
    if (!rd.committed_entries.empty()) break;  // the leader's empty entry
  }

  const std::string blob(1000, 'a');
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(rn.Propose(Bytes(blob)).ok());

  // The 3 proposals commit in one go, but only 2 fit in one Ready.
  Ready rd = rn.Ready();
  ASSERT_EQ(rd.entries.size(), 3u);
  ASSERT_TRUE(s->Append(rd.entries).ok());
  rn.Advance();
  rd = rn.Ready();
  EXPECT_EQ(rd.committed_entries.size(), 2u);
  rn.Advance();
  rd = rn.Ready();
  EXPECT_EQ(rd.committed_entries.size(), 1u);
  rn.Advance();
  EXPECT_FALSE(rn.HasReady());
}

// Async storage writes: the work arrives as MsgStorageAppend /
// MsgStorageApply messages whose responses, stepped back in, drive the
// node (etcd's rawnode AsyncStorageWrites; covered in etcd by
// node_test.go and the async_storage_writes interaction scripts).
TEST_P(RawNodeTest, AsyncStorageWrites) {
  WritableStorage* s = NewStorage({1});
  Config cfg = NewTestConfig(1, 10, 1, s);
  cfg.async_storage_writes = true;
  Result<std::unique_ptr<RawNode>> created = RawNode::New(cfg);
  ASSERT_TRUE(created.ok());
  RawNode& rn = **created;

  std::vector<Entry> applied;
  int appends = 0;
  int applies = 0;
  // One pass of the "storage threads": persists/applies in order and steps
  // the responses back.
  auto process = [&]() {
    while (rn.HasReady()) {
      Ready rd = rn.Ready();
      for (Message& m : rd.messages) {
        if (m.type == MessageType::kMsgStorageAppend) {
          ASSERT_EQ(m.to, kLocalAppendThread);
          ++appends;
          HardState hs;
          if (m.term != 0 || m.vote != 0 || m.commit != 0) hs = HardState{m.term, m.vote, m.commit};
          ASSERT_TRUE(s->Save(hs, m.entries, m.snapshot.get(), true).ok());
          for (Message& resp : m.responses) {
            ASSERT_EQ(resp.to, 1u);
            ASSERT_TRUE(rn.Step(std::move(resp)).ok());
          }
        } else if (m.type == MessageType::kMsgStorageApply) {
          ASSERT_EQ(m.to, kLocalApplyThread);
          ++applies;
          applied.insert(applied.end(), m.entries.begin(), m.entries.end());
          ASSERT_EQ(m.responses.size(), 1u);
          ASSERT_EQ(m.responses[0].type, MessageType::kMsgStorageApplyResp);
          ASSERT_EQ(m.responses[0].from, kLocalApplyThread);
          ASSERT_TRUE(rn.Step(std::move(m.responses[0])).ok());
        } else {
          FAIL() << "unexpected message " << DescribeMessage(m);
        }
      }
    }
  };

  ASSERT_TRUE(rn.Campaign().ok());
  process();
  EXPECT_EQ(rn.GetBasicStatus().soft_state.raft_state, StateType::kStateLeader);
  ASSERT_TRUE(rn.Propose("foo").ok());
  process();

  ASSERT_EQ(applied.size(), 2u);
  EXPECT_EQ(applied[1].data, "foo");
  EXPECT_EQ(rn.GetBasicStatus().applied, 2u);
  EXPECT_EQ(rn.GetBasicStatus().hard_state.commit, 2u);
  EXPECT_GE(appends, 2);
  EXPECT_GE(applies, 1);
  // The unstable log was released once the writes were acknowledged.
  EXPECT_TRUE(rn.raft().raft_log().UnstableEntries().empty());
  Result<uint64_t> last = s->LastIndex();
  ASSERT_TRUE(last.ok());
  EXPECT_EQ(*last, 2u);

  // Advance() is refused in this mode.
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  if (!disk()) {
    EXPECT_DEATH(rn.Advance(), "Advance must not be called when using AsyncStorageWrites");
  }
}

// Two Readys without an Advance() in between are a programming error.
TEST(RawNodeDeathTest, TwoReadysWithoutAdvanceAbort) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  StorageFactory storages(StorageKind::kMemory);
  WritableStorage* s = storages.New({1});
  std::unique_ptr<RawNode> rn = NewTestRawNode(1, 10, 1, s);
  ASSERT_TRUE(rn->Campaign().ok());
  Ready rd = rn->Ready();
  EXPECT_DEATH(
      {
        (void)rn->Propose("x");
        Ready again = rn->Ready();
      },
      "two accepted Ready structs without call to Advance");
}

INSTANTIATE_TEST_SUITE_P(Storage, RawNodeTest,
                         ::testing::Values(StorageKind::kMemory, StorageKind::kDisk),
                         StorageKindName);

}  // namespace
}  // namespace raftlog::raft::testing
