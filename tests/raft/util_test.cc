// Tests of raftlog/raft/util.h: a port of etcd raft's util_test.go (message
// classification, DescribeEntry, limitSize, payload sizes), plus the exact
// Describe* formats that etcd's interaction traces show.

#include "raftlog/raft/util.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "raftlog/raft/conf_change.h"
#include "raftlog/raft/ready.h"

namespace raftlog::raft {
namespace {

std::string Upper(std::string_view data) {
  std::string s(data);
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::toupper(c); });
  return s;
}

// Ports etcd's TestDescribeEntry.
TEST(UtilTest, DescribeEntry) {
  const Entry entry{1, 2, EntryType::kNormal, std::string("hello\0world", 11)};
  EXPECT_EQ(DescribeEntry(entry), "1/2 EntryNormal \"hello\\x00world\"");
  EXPECT_EQ(DescribeEntry(entry, Upper), std::string("1/2 EntryNormal HELLO\0WORLD", 27));
}

// Conf-change entries print their changes; the empty ConfChangeV2 (leave
// joint) prints nothing after the type.
TEST(UtilTest, DescribeConfChangeEntries) {
  ConfChangeV2 cc;
  cc.changes = {ConfChangeSingle{ConfChangeType::kAddNode, 2},
                ConfChangeSingle{ConfChangeType::kAddLearnerNode, 3}};
  EXPECT_EQ(DescribeEntry(Entry{1, 4, EntryType::kConfChangeV2, EncodeConfChangeV2(cc)}),
            "1/4 EntryConfChangeV2 v2 l3");
  EXPECT_EQ(DescribeEntry(Entry{1, 6, EntryType::kConfChangeV2, {}}), "1/6 EntryConfChangeV2");
  const ConfChange v1{ConfChangeType::kRemoveNode, 7, {}, 0};
  EXPECT_EQ(DescribeEntry(Entry{2, 9, EntryType::kConfChange, EncodeConfChange(v1)}),
            "2/9 EntryConfChange r7");
  EXPECT_EQ(DescribeEntry(Entry{1, 3, EntryType::kNormal, {}}), "1/3 EntryNormal \"\"");
}

// Ports etcd's TestLimitSize (on LimitSize and the span form LimitSizeCount).
TEST(UtilTest, LimitSize) {
  const std::vector<Entry> ents = {Entry{4, 4, EntryType::kNormal, {}},
                                   Entry{5, 5, EntryType::kNormal, {}},
                                   Entry{6, 6, EntryType::kNormal, {}}};
  const uint64_t s0 = EntrySize(ents[0]);
  const uint64_t s1 = EntrySize(ents[1]);
  const uint64_t s2 = EntrySize(ents[2]);
  struct Case {
    uint64_t max_size;
    size_t want;
  };
  const std::vector<Case> tests = {
      {std::numeric_limits<uint64_t>::max(), 3},  // all entries are returned
      // Even if maxSize is zero, the first entry should be returned.
      {0, 1},
      // Limit to 2.
      {s0 + s1, 2},
      {s0 + s1 + s2 / 2, 2},
      {s0 + s1 + s2 - 1, 2},
      // All.
      {s0 + s1 + s2, 3},
  };
  for (size_t i = 0; i < tests.size(); ++i) {
    std::vector<Entry> got = ents;
    LimitSize(&got, tests[i].max_size);
    EXPECT_EQ(got, std::vector<Entry>(ents.begin(), ents.begin() + tests[i].want)) << "#" << i;
    EXPECT_TRUE(got.size() == 1 || EntsSize(got) <= tests[i].max_size) << "#" << i;
    EXPECT_EQ(LimitSizeCount(ents, tests[i].max_size), tests[i].want) << "#" << i;
  }
  EXPECT_EQ(LimitSizeCount({}, 0), 0u);
}

// Ports etcd's TestIsLocalMsg.
TEST(UtilTest, IsLocalMsg) {
  struct Case {
    MessageType msgt;
    bool is_local;
  };
  const std::vector<Case> tests = {
      {MessageType::kMsgHup, true},
      {MessageType::kMsgBeat, true},
      {MessageType::kMsgUnreachable, true},
      {MessageType::kMsgSnapStatus, true},
      {MessageType::kMsgCheckQuorum, true},
      {MessageType::kMsgTransferLeader, false},
      {MessageType::kMsgProp, false},
      {MessageType::kMsgApp, false},
      {MessageType::kMsgAppResp, false},
      {MessageType::kMsgVote, false},
      {MessageType::kMsgVoteResp, false},
      {MessageType::kMsgSnap, false},
      {MessageType::kMsgHeartbeat, false},
      {MessageType::kMsgHeartbeatResp, false},
      {MessageType::kMsgTimeoutNow, false},
      {MessageType::kMsgReadIndex, false},
      {MessageType::kMsgReadIndexResp, false},
      {MessageType::kMsgPreVote, false},
      {MessageType::kMsgPreVoteResp, false},
      {MessageType::kMsgStorageAppend, true},
      {MessageType::kMsgStorageAppendResp, true},
      {MessageType::kMsgStorageApply, true},
      {MessageType::kMsgStorageApplyResp, true},
  };
  for (const Case& tt : tests) {
    EXPECT_EQ(IsLocalMsg(tt.msgt), tt.is_local) << MessageTypeName(tt.msgt);
  }
}

// Ports etcd's TestIsResponseMsg.
TEST(UtilTest, IsResponseMsg) {
  struct Case {
    MessageType msgt;
    bool is_response;
  };
  const std::vector<Case> tests = {
      {MessageType::kMsgHup, false},
      {MessageType::kMsgBeat, false},
      {MessageType::kMsgUnreachable, true},
      {MessageType::kMsgSnapStatus, false},
      {MessageType::kMsgCheckQuorum, false},
      {MessageType::kMsgTransferLeader, false},
      {MessageType::kMsgProp, false},
      {MessageType::kMsgApp, false},
      {MessageType::kMsgAppResp, true},
      {MessageType::kMsgVote, false},
      {MessageType::kMsgVoteResp, true},
      {MessageType::kMsgSnap, false},
      {MessageType::kMsgHeartbeat, false},
      {MessageType::kMsgHeartbeatResp, true},
      {MessageType::kMsgTimeoutNow, false},
      {MessageType::kMsgReadIndex, false},
      {MessageType::kMsgReadIndexResp, true},
      {MessageType::kMsgPreVote, false},
      {MessageType::kMsgPreVoteResp, true},
      {MessageType::kMsgStorageAppend, false},
      {MessageType::kMsgStorageAppendResp, true},
      {MessageType::kMsgStorageApply, false},
      {MessageType::kMsgStorageApplyResp, true},
  };
  for (size_t i = 0; i < tests.size(); ++i) {
    EXPECT_EQ(IsResponseMsg(tests[i].msgt), tests[i].is_response) << "#" << i;
  }
}

// Ports etcd's TestPayloadSizeOfEmptyEntry: the payload size of an empty
// entry is zero, so a new leader's empty entry never counts against the
// uncommitted log quota.
TEST(UtilTest, PayloadSizeOfEmptyEntry) { EXPECT_EQ(PayloadSize(Entry{}), 0u); }

TEST(UtilTest, IsLocalMsgTarget) {
  EXPECT_TRUE(IsLocalMsgTarget(kLocalAppendThread));
  EXPECT_TRUE(IsLocalMsgTarget(kLocalApplyThread));
  EXPECT_FALSE(IsLocalMsgTarget(1));
  EXPECT_FALSE(IsLocalMsgTarget(kNone));
}

// The message lines of etcd's interaction traces.
TEST(UtilTest, DescribeMessage) {
  Message app;
  app.from = 1;
  app.to = 2;
  app.type = MessageType::kMsgApp;
  app.term = 1;
  app.log_term = 1;
  app.index = 3;
  app.commit = 4;
  ConfChangeV2 cc;
  cc.changes = {ConfChangeSingle{ConfChangeType::kAddNode, 2}};
  app.entries = {Entry{1, 4, EntryType::kConfChangeV2, EncodeConfChangeV2(cc)}};
  EXPECT_EQ(DescribeMessage(app),
            "1->2 MsgApp Term:1 Log:1/3 Commit:4 Entries:[1/4 EntryConfChangeV2 v2]");

  Message rej;
  rej.from = 2;
  rej.to = 1;
  rej.type = MessageType::kMsgAppResp;
  rej.term = 1;
  rej.index = 3;
  rej.reject = true;
  EXPECT_EQ(DescribeMessage(rej), "2->1 MsgAppResp Term:1 Log:0/3 Rejected (Hint: 0)");

  Message snap;
  snap.from = 1;
  snap.to = 2;
  snap.type = MessageType::kMsgSnap;
  snap.term = 1;
  auto s = std::make_shared<Snapshot>();
  s->metadata.index = 4;
  s->metadata.term = 1;
  s->metadata.conf_state.voters = {1, 2};
  s->metadata.conf_state.voters_outgoing = {1};
  snap.snapshot = s;
  EXPECT_EQ(DescribeMessage(snap),
            "1->2 MsgSnap Term:1 Log:0/0\n"
            "  Snapshot: Index:4 Term:1 ConfState:Voters:[1 2] VotersOutgoing:[1] Learners:[] "
            "LearnersNext:[] AutoLeave:false");

  // Storage messages list their responses, indented.
  Message append;
  append.from = 1;
  append.to = kLocalAppendThread;
  append.type = MessageType::kMsgStorageAppend;
  append.entries = {Entry{1, 11, EntryType::kNormal, {}}};
  Message self_ack;
  self_ack.from = 1;
  self_ack.to = 1;
  self_ack.type = MessageType::kMsgAppResp;
  self_ack.term = 1;
  self_ack.index = 11;
  Message stable;
  stable.from = kLocalAppendThread;
  stable.to = 1;
  stable.type = MessageType::kMsgStorageAppendResp;
  stable.term = 1;
  stable.log_term = 1;
  stable.index = 11;
  append.responses = {self_ack, stable};
  EXPECT_EQ(DescribeMessage(append),
            "1->AppendThread MsgStorageAppend Term:0 Log:0/0 Entries:[1/11 EntryNormal \"\"] "
            "Responses:[\n"
            "  1->1 MsgAppResp Term:1 Log:0/11\n"
            "  AppendThread->1 MsgStorageAppendResp Term:1 Log:1/11\n"
            "]");

  Message vote_state;
  vote_state.from = 1;
  vote_state.to = kLocalAppendThread;
  vote_state.type = MessageType::kMsgStorageAppend;
  vote_state.term = 1;
  vote_state.vote = 1;
  vote_state.commit = 10;
  EXPECT_EQ(DescribeMessage(vote_state),
            "1->AppendThread MsgStorageAppend Term:1 Log:0/0 Commit:10 Vote:1");

  Message apply;
  apply.from = kLocalApplyThread;
  apply.to = 0;
  apply.type = MessageType::kMsgStorageApplyResp;
  apply.entries = {Entry{1, 11, EntryType::kNormal, "a"}, Entry{1, 12, EntryType::kNormal, "b"}};
  EXPECT_EQ(DescribeMessage(apply),
            "ApplyThread->None MsgStorageApplyResp Term:0 Log:0/0 Entries:[\n"
            "  1/11 EntryNormal \"a\"\n"
            "  1/12 EntryNormal \"b\"\n"
            "]");
}

TEST(UtilTest, DescribeStates) {
  EXPECT_EQ(DescribeHardState(HardState{1, 1, 2}), "Term:1 Vote:1 Commit:2");
  EXPECT_EQ(DescribeHardState(HardState{1, kNone, 0}), "Term:1 Commit:0");
  EXPECT_EQ(DescribeSoftState(SoftState{1, StateType::kStateLeader}), "Lead:1 State:StateLeader");
  ConfState cs;
  cs.voters = {1, 2, 3};
  cs.learners = {4};
  cs.auto_leave = true;
  EXPECT_EQ(DescribeConfState(cs),
            "Voters:[1 2 3] VotersOutgoing:[] Learners:[4] LearnersNext:[] AutoLeave:true");
}

TEST(UtilTest, DescribeReady) {
  EXPECT_EQ(DescribeReady(Ready{}), "<empty Ready>");

  Ready rd;
  rd.soft_state = SoftState{1, StateType::kStateLeader};
  rd.hard_state = HardState{1, 1, 4};
  rd.read_states = {ReadState{4, "ab"}};
  rd.entries = {Entry{1, 3, EntryType::kNormal, {}}};
  rd.committed_entries = {Entry{1, 2, EntryType::kNormal, "x"}};
  Message m;
  m.from = 1;
  m.to = 2;
  m.type = MessageType::kMsgHeartbeat;
  m.term = 1;
  rd.messages = {m};
  rd.must_sync = true;
  EXPECT_EQ(DescribeReady(rd),
            "Ready MustSync=true:\n"
            "Lead:1 State:StateLeader\n"
            "HardState Term:1 Vote:1 Commit:4\n"
            "ReadStates [{4 [97 98]}]\n"
            "Entries:\n"
            "1/3 EntryNormal \"\"\n"
            "CommittedEntries:\n"
            "1/2 EntryNormal \"x\"\n"
            "Messages:\n"
            "1->2 MsgHeartbeat Term:1 Log:0/0\n");
}

// MustSync: a new term, a new vote or any entry needs a durable write; a
// commit index change alone does not.
TEST(UtilTest, MustSync) {
  const HardState prev{1, 1, 5};
  EXPECT_FALSE(MustSync(prev, prev, 0));
  EXPECT_FALSE(MustSync(HardState{1, 1, 9}, prev, 0));
  EXPECT_TRUE(MustSync(prev, prev, 1));
  EXPECT_TRUE(MustSync(HardState{2, 1, 5}, prev, 0));
  EXPECT_TRUE(MustSync(HardState{1, 2, 5}, prev, 0));
}

// Go's %q: printable text as is, escapes for the rest.
TEST(UtilTest, GoQuote) {
  EXPECT_EQ(GoQuote(""), "\"\"");
  EXPECT_EQ(GoQuote("prop_1"), "\"prop_1\"");
  EXPECT_EQ(GoQuote("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(GoQuote("\n\t\r"), "\"\\n\\t\\r\"");
  EXPECT_EQ(GoQuote(std::string("\x01\x7f", 2)), "\"\\x01\\x7f\"");
  EXPECT_EQ(GoQuote("\xff"), "\"\\xff\"");           // invalid UTF-8
  EXPECT_EQ(GoQuote("h\xc3\xa9"), "\"h\xc3\xa9\"");  // é is printable
}

}  // namespace
}  // namespace raftlog::raft
