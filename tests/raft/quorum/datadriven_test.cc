// Ports etcd raft's quorum/datadriven_test.go (TestDataDriven) and its four
// scripts, quorum/testdata/{majority,joint}_{commit,vote}.txt, as tables.
//
// Each committed case gives the voters (cfg and, for a joint quorum, cfgj;
// cfgj=zero is a joint quorum with an empty outgoing half), the acknowledged
// indexes in the order of first appearance of the ids ("_" = unknown), the
// expected Describe() output and the committed index. As in etcd's harness,
// every case also checks the results that must not change: the alternative
// computation, the zero-joint and self-joint quorums, lowering an index that
// is already below the commit, and swapping the halves of a joint quorum.

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "raftlog/raft/quorum/joint.h"
#include "raftlog/raft/quorum/majority.h"
#include "raftlog/raft/quorum/quorum.h"
#include "tests/raft/quorum/quorum_test_util.h"

namespace raftlog::raft::quorum {
namespace {

using test::AlternativeMajorityCommittedIndex;
using test::MakeLookuper;
using test::MakeVotes;
using test::ParseIds;

// cfgj values: a plain majority quorum, or a joint quorum whose outgoing
// half is empty (etcd's cfgj=zero); any other value lists the outgoing ids.
constexpr std::string_view kMajority = "<majority>";
constexpr std::string_view kZero = "zero";

struct CommitCase {
  std::string_view cfg;
  std::string_view cfgj;
  std::string_view idx;
  Index want;
  std::string_view describe;
};

std::string Directive(std::string_view cmd, std::string_view cfg, std::string_view cfgj,
                      std::string_view key, std::string_view vals) {
  std::string s(cmd);
  s += " cfg=(" + std::string(cfg) + ")";
  if (cfgj != kMajority) s += " cfgj=" + std::string(cfgj);
  s += " " + std::string(key) + "=(" + std::string(vals) + ")";
  return s;
}

// An indexer over the voters of `c` that reports `idx` for `id` and what `l`
// knows for the others (etcd's overlay).
MapAckIndexer Overlay(const MajorityConfig& c, const AckedIndexer& l, uint64_t id, Index idx) {
  MapAckIndexer ll;
  for (uint64_t iid : c) {
    if (iid == id) {
      ll.Set(iid, idx);
    } else if (auto known = l.AckedIndex(iid)) {
      ll.Set(iid, *known);
    }
  }
  return ll;
}

void RunCommitCase(const CommitCase& tc) {
  SCOPED_TRACE(Directive("committed", tc.cfg, tc.cfgj, "idx", tc.idx));
  const bool joint = tc.cfgj != kMajority;
  const std::vector<uint64_t> ids = ParseIds(tc.cfg);
  const std::vector<uint64_t> ids_joint =
      joint && tc.cfgj != kZero ? ParseIds(tc.cfgj) : std::vector<uint64_t>{};
  const MajorityConfig c(ids);
  const MajorityConfig cj(ids_joint);
  const MapAckIndexer l = MakeLookuper(ids, ids_joint, tc.idx);

  if (!joint) {
    EXPECT_EQ(c.Describe(l), tc.describe);
    const Index idx = c.CommittedIndex(l);
    EXPECT_EQ(IndexString(idx), IndexString(tc.want));
    EXPECT_EQ(AlternativeMajorityCommittedIndex(c, l), idx) << "via alternative computation";
    EXPECT_EQ((JointConfig{c, {}}).CommittedIndex(l), idx) << "via zero-joint quorum";
    EXPECT_EQ((JointConfig{c, c}).CommittedIndex(l), idx) << "via self-joint quorum";
    for (uint64_t id : c) {
      const Index iidx = l.AckedIndex(id).value_or(0);
      if (idx > iidx && iidx > 0) {
        // The commit was above this voter's index, so lowering it further
        // must not change the result.
        EXPECT_EQ(c.CommittedIndex(Overlay(c, l, id, iidx - 1)), idx)
            << "overlaying " << id << "->" << iidx - 1;
        EXPECT_EQ(c.CommittedIndex(Overlay(c, l, id, 0)), idx) << "overlaying " << id << "->0";
      }
    }
  } else {
    const JointConfig cc{c, cj};
    EXPECT_EQ(cc.Describe(l), tc.describe);
    const Index idx = cc.CommittedIndex(l);
    EXPECT_EQ(IndexString(idx), IndexString(tc.want));
    EXPECT_EQ((JointConfig{cj, c}).CommittedIndex(l), idx) << "via symmetry";
  }
}

// quorum/testdata/majority_commit.txt and joint_commit.txt.
TEST(QuorumDataDrivenTest, Committed) {
  const CommitCase kCases[] = {
      // majority_commit.txt
      // The empty quorum commits "everything". This is useful for its use in joint quorums.
      {"", kMajority, "", kInfiniteIndex, "<empty majority quorum>"},
      // A single voter quorum is not final when no index is known.
      {"1", kMajority, "_", 0,
       "     idx\n"
       "?      0    (id=1)\n"},
      // When an index is known, that's the committed index, and that's final.
      {"1", kMajority, "12", 12,
       "     idx\n"
       ">     12    (id=1)\n"},
      // With two nodes, start out similarly.
      {"1,2", kMajority, "_,_", 0,
       "      idx\n"
       "?       0    (id=1)\n"
       "?       0    (id=2)\n"},
      // The first committed index becomes known (for n1). Nothing changes in the output because
      // idx=12 is not known to be on a quorum (which is both nodes).
      {"1,2", kMajority, "12,_", 0,
       "      idx\n"
       "x>     12    (id=1)\n"
       "?       0    (id=2)\n"},
      // The second index comes in and finalize the decision. The result will be the smaller of
      // the two indexes.
      {"1,2", kMajority, "12,5", 5,
       "      idx\n"
       "x>     12    (id=1)\n"
       ">       5    (id=2)\n"},
      // No surprises for three nodes.
      {"1,2,3", kMajority, "_,_,_", 0,
       "       idx\n"
       "?        0    (id=1)\n"
       "?        0    (id=2)\n"
       "?        0    (id=3)\n"},
      {"1,2,3", kMajority, "12,_,_", 0,
       "       idx\n"
       "xx>     12    (id=1)\n"
       "?        0    (id=2)\n"
       "?        0    (id=3)\n"},
      // We see a committed index, but a higher committed index for the last pending votes could
      // change (increment) the outcome, so not final yet.
      {"1,2,3", kMajority, "12,5,_", 5,
       "       idx\n"
       "xx>     12    (id=1)\n"
       "x>       5    (id=2)\n"
       "?        0    (id=3)\n"},
      // a) the case in which it does:
      {"1,2,3", kMajority, "12,5,6", 6,
       "       idx\n"
       "xx>     12    (id=1)\n"
       ">        5    (id=2)\n"
       "x>       6    (id=3)\n"},
      // b) the case in which it does not:
      {"1,2,3", kMajority, "12,5,4", 5,
       "       idx\n"
       "xx>     12    (id=1)\n"
       "x>       5    (id=2)\n"
       ">        4    (id=3)\n"},
      // c) a different case in which the last index is pending but it has no chance of swaying
      // the outcome (because nobody in the current quorum agrees on anything higher than the
      // candidate):
      {"1,2,3", kMajority, "5,5,_", 5,
       "       idx\n"
       "x>       5    (id=1)\n"
       "x>       5    (id=2)\n"
       "?        0    (id=3)\n"},
      // c) continued: Doesn't matter what shows up last. The result is final.
      {"1,2,3", kMajority, "5,5,12", 5,
       "       idx\n"
       ">        5    (id=1)\n"
       ">        5    (id=2)\n"
       "xx>     12    (id=3)\n"},
      // With all committed idx known, the result is final.
      {"1,2,3", kMajority, "100,101,103", 101,
       "       idx\n"
       ">      100    (id=1)\n"
       "x>     101    (id=2)\n"
       "xx>    103    (id=3)\n"},
      // Some more complicated examples. Similar to case c) above. The result is already final
      // because no index higher than 103 is one short of quorum.
      {"1,2,3,4,5", kMajority, "101,104,103,103,_", 103,
       "         idx\n"
       "x>       101    (id=1)\n"
       "xxxx>    104    (id=2)\n"
       "xx>      103    (id=3)\n"
       "xx>      103    (id=4)\n"
       "?          0    (id=5)\n"},
      // A similar case which is not final because another vote for >= 103 would change the
      // outcome.
      {"1,2,3,4,5", kMajority, "101,102,103,103,_", 102,
       "         idx\n"
       "x>       101    (id=1)\n"
       "xx>      102    (id=2)\n"
       "xxx>     103    (id=3)\n"
       "xxx>     103    (id=4)\n"
       "?          0    (id=5)\n"},
      // joint_commit.txt
      // No difference between a simple majority quorum and a simple majority quorum joint with an
      // empty majority quorum.
      {"1,2,3", kZero, "100,101,99", 100,
       "       idx\n"
       "x>     100    (id=1)\n"
       "xx>    101    (id=2)\n"
       ">       99    (id=3)\n"},
      // Joint nonoverlapping singleton quorums.
      {"1", "2", "_,_", 0,
       "      idx\n"
       "?       0    (id=1)\n"
       "?       0    (id=2)\n"},
      // Voter 1 has 100 committed, 2 nothing. This means we definitely won't commit past 100.
      {"1", "2", "100,_", 0,
       "      idx\n"
       "x>    100    (id=1)\n"
       "?       0    (id=2)\n"},
      // Committed index collapses once both majorities do, to the lower index.
      {"1", "2", "13,100", 13,
       "      idx\n"
       ">      13    (id=1)\n"
       "x>    100    (id=2)\n"},
      // Joint overlapping (i.e. identical) singleton quorum.
      {"1", "1", "_", 0,
       "     idx\n"
       "?      0    (id=1)\n"},
      {"1", "1", "100", 100,
       "     idx\n"
       ">    100    (id=1)\n"},
      // Two-node config joint with non-overlapping single node config
      {"1,3", "2", "_,_,_", 0,
       "       idx\n"
       "?        0    (id=1)\n"
       "?        0    (id=2)\n"
       "?        0    (id=3)\n"},
      {"1,3", "2", "100,_,_", 0,
       "       idx\n"
       "xx>    100    (id=1)\n"
       "?        0    (id=2)\n"
       "?        0    (id=3)\n"},
      // 1 has 100 committed, 2 has 50 (collapsing half of the joint quorum to 50).
      {"1,3", "2", "100,_,50", 0,
       "       idx\n"
       "xx>    100    (id=1)\n"
       "x>      50    (id=2)\n"
       "?        0    (id=3)\n"},
      // 2 reports 45, collapsing the other half (to 45).
      {"1,3", "2", "100,45,50", 45,
       "       idx\n"
       "xx>    100    (id=1)\n"
       "x>      50    (id=2)\n"
       ">       45    (id=3)\n"},
      // Two-node config with overlapping single-node config.
      {"1,2", "2", "_,_", 0,
       "      idx\n"
       "?       0    (id=1)\n"
       "?       0    (id=2)\n"},
      // 1 reports 100.
      {"1,2", "2", "100,_", 0,
       "      idx\n"
       "x>    100    (id=1)\n"
       "?       0    (id=2)\n"},
      // 2 reports 100.
      {"1,2", "2", "_,100", 0,
       "      idx\n"
       "?       0    (id=1)\n"
       "x>    100    (id=2)\n"},
      {"1,2", "2", "50,100", 50,
       "      idx\n"
       ">      50    (id=1)\n"
       "x>    100    (id=2)\n"},
      {"1,2", "2", "100,50", 50,
       "      idx\n"
       "x>    100    (id=1)\n"
       ">      50    (id=2)\n"},
      // Joint non-overlapping two-node configs.
      {"1,2", "3,4", "50,_,_,_", 0,
       "        idx\n"
       "xxx>     50    (id=1)\n"
       "?         0    (id=2)\n"
       "?         0    (id=3)\n"
       "?         0    (id=4)\n"},
      {"1,2", "3,4", "50,_,49,_", 0,
       "        idx\n"
       "xxx>     50    (id=1)\n"
       "?         0    (id=2)\n"
       "xx>      49    (id=3)\n"
       "?         0    (id=4)\n"},
      {"1,2", "3,4", "50,48,49,_", 0,
       "        idx\n"
       "xxx>     50    (id=1)\n"
       "x>       48    (id=2)\n"
       "xx>      49    (id=3)\n"
       "?         0    (id=4)\n"},
      {"1,2", "3,4", "50,48,49,47", 47,
       "        idx\n"
       "xxx>     50    (id=1)\n"
       "x>       48    (id=2)\n"
       "xx>      49    (id=3)\n"
       ">        47    (id=4)\n"},
      // Joint overlapping two-node configs.
      {"1,2", "2,3", "_,_,_", 0,
       "       idx\n"
       "?        0    (id=1)\n"
       "?        0    (id=2)\n"
       "?        0    (id=3)\n"},
      {"1,2", "2,3", "100,_,_", 0,
       "       idx\n"
       "xx>    100    (id=1)\n"
       "?        0    (id=2)\n"
       "?        0    (id=3)\n"},
      {"1,2", "2,3", "_,100,_", 0,
       "       idx\n"
       "?        0    (id=1)\n"
       "xx>    100    (id=2)\n"
       "?        0    (id=3)\n"},
      {"1,2", "2,3", "_,100,99", 0,
       "       idx\n"
       "?        0    (id=1)\n"
       "xx>    100    (id=2)\n"
       "x>      99    (id=3)\n"},
      {"1,2", "2,3", "101,100,99", 99,
       "       idx\n"
       "xx>    101    (id=1)\n"
       "x>     100    (id=2)\n"
       ">       99    (id=3)\n"},
      // Joint identical two-node configs.
      {"1,2", "1,2", "_,_", 0,
       "      idx\n"
       "?       0    (id=1)\n"
       "?       0    (id=2)\n"},
      {"1,2", "1,2", "_,40", 0,
       "      idx\n"
       "?       0    (id=1)\n"
       "x>     40    (id=2)\n"},
      {"1,2", "1,2", "41,40", 40,
       "      idx\n"
       "x>     41    (id=1)\n"
       ">      40    (id=2)\n"},
      // Joint disjoint three-node configs.
      {"1,2,3", "4,5,6", "_,_,_,_,_,_", 0,
       "          idx\n"
       "?           0    (id=1)\n"
       "?           0    (id=2)\n"
       "?           0    (id=3)\n"
       "?           0    (id=4)\n"
       "?           0    (id=5)\n"
       "?           0    (id=6)\n"},
      {"1,2,3", "4,5,6", "100,_,_,_,_,_", 0,
       "          idx\n"
       "xxxxx>    100    (id=1)\n"
       "?           0    (id=2)\n"
       "?           0    (id=3)\n"
       "?           0    (id=4)\n"
       "?           0    (id=5)\n"
       "?           0    (id=6)\n"},
      {"1,2,3", "4,5,6", "100,_,_,90,_,_", 0,
       "          idx\n"
       "xxxxx>    100    (id=1)\n"
       "?           0    (id=2)\n"
       "?           0    (id=3)\n"
       "xxxx>      90    (id=4)\n"
       "?           0    (id=5)\n"
       "?           0    (id=6)\n"},
      {"1,2,3", "4,5,6", "100,99,_,_,_,_", 0,
       "          idx\n"
       "xxxxx>    100    (id=1)\n"
       "xxxx>      99    (id=2)\n"
       "?           0    (id=3)\n"
       "?           0    (id=4)\n"
       "?           0    (id=5)\n"
       "?           0    (id=6)\n"},
      // First quorum <= 99, second one <= 97. Both quorums guarantee that 90 is committed.
      {"1,2,3", "4,5,6", "_,99,90,97,95,_", 90,
       "          idx\n"
       "?           0    (id=1)\n"
       "xxxxx>     99    (id=2)\n"
       "xx>        90    (id=3)\n"
       "xxxx>      97    (id=4)\n"
       "xxx>       95    (id=5)\n"
       "?           0    (id=6)\n"},
      // First quorum collapsed to 92. Second one already had at least 95 committed, so the result
      // also collapses.
      {"1,2,3", "4,5,6", "92,99,90,97,95,_", 92,
       "          idx\n"
       "xx>        92    (id=1)\n"
       "xxxxx>     99    (id=2)\n"
       "x>         90    (id=3)\n"
       "xxxx>      97    (id=4)\n"
       "xxx>       95    (id=5)\n"
       "?           0    (id=6)\n"},
      // Second quorum collapses, but nothing changes in the output.
      {"1,2,3", "4,5,6", "92,99,90,97,95,77", 92,
       "          idx\n"
       "xx>        92    (id=1)\n"
       "xxxxx>     99    (id=2)\n"
       "x>         90    (id=3)\n"
       "xxxx>      97    (id=4)\n"
       "xxx>       95    (id=5)\n"
       ">          77    (id=6)\n"},
      // Joint overlapping three-node configs.
      {"1,2,3", "1,4,5", "_,_,_,_,_", 0,
       "         idx\n"
       "?          0    (id=1)\n"
       "?          0    (id=2)\n"
       "?          0    (id=3)\n"
       "?          0    (id=4)\n"
       "?          0    (id=5)\n"},
      {"1,2,3", "1,4,5", "100,_,_,_,_", 0,
       "         idx\n"
       "xxxx>    100    (id=1)\n"
       "?          0    (id=2)\n"
       "?          0    (id=3)\n"
       "?          0    (id=4)\n"
       "?          0    (id=5)\n"},
      {"1,2,3", "1,4,5", "100,101,_,_,_", 0,
       "         idx\n"
       "xxx>     100    (id=1)\n"
       "xxxx>    101    (id=2)\n"
       "?          0    (id=3)\n"
       "?          0    (id=4)\n"
       "?          0    (id=5)\n"},
      {"1,2,3", "1,4,5", "100,101,100,_,_", 0,
       "         idx\n"
       "xx>      100    (id=1)\n"
       "xxxx>    101    (id=2)\n"
       "xx>      100    (id=3)\n"
       "?          0    (id=4)\n"
       "?          0    (id=5)\n"},
      // Second quorum could commit either 98 or 99, but first quorum is open.
      {"1,2,3", "1,4,5", "_,100,_,99,98", 0,
       "         idx\n"
       "?          0    (id=1)\n"
       "xxxx>    100    (id=2)\n"
       "?          0    (id=3)\n"
       "xxx>      99    (id=4)\n"
       "xx>       98    (id=5)\n"},
      // Additionally, first quorum can commit either 100 or 99
      {"1,2,3", "1,4,5", "_,100,99,99,98", 98,
       "         idx\n"
       "?          0    (id=1)\n"
       "xxxx>    100    (id=2)\n"
       "xx>       99    (id=3)\n"
       "xx>       99    (id=4)\n"
       "x>        98    (id=5)\n"},
      {"1,2,3", "1,4,5", "1,100,99,99,98", 98,
       "         idx\n"
       ">          1    (id=1)\n"
       "xxxx>    100    (id=2)\n"
       "xx>       99    (id=3)\n"
       "xx>       99    (id=4)\n"
       "x>        98    (id=5)\n"},
      {"1,2,3", "1,4,5", "100,100,99,99,98", 99,
       "         idx\n"
       "xxx>     100    (id=1)\n"
       "xxx>     100    (id=2)\n"
       "x>        99    (id=3)\n"
       "x>        99    (id=4)\n"
       ">         98    (id=5)\n"},
      // More overlap.
      {"1,2,3", "2,3,4", "_,_,_,_", 0,
       "        idx\n"
       "?         0    (id=1)\n"
       "?         0    (id=2)\n"
       "?         0    (id=3)\n"
       "?         0    (id=4)\n"},
      {"1,2,3", "2,3,4", "_,100,99,_", 99,
       "        idx\n"
       "?         0    (id=1)\n"
       "xxx>    100    (id=2)\n"
       "xx>      99    (id=3)\n"
       "?         0    (id=4)\n"},
      {"1,2,3", "2,3,4", "98,100,99,_", 99,
       "        idx\n"
       "x>       98    (id=1)\n"
       "xxx>    100    (id=2)\n"
       "xx>      99    (id=3)\n"
       "?         0    (id=4)\n"},
      {"1,2,3", "2,3,4", "100,100,99,_", 99,
       "        idx\n"
       "xx>     100    (id=1)\n"
       "xx>     100    (id=2)\n"
       "x>       99    (id=3)\n"
       "?         0    (id=4)\n"},
      {"1,2,3", "2,3,4", "100,100,99,98", 99,
       "        idx\n"
       "xx>     100    (id=1)\n"
       "xx>     100    (id=2)\n"
       "x>       99    (id=3)\n"
       ">        98    (id=4)\n"},
      {"1,2,3", "2,3,4", "100,_,_,101", 0,
       "        idx\n"
       "xx>     100    (id=1)\n"
       "?         0    (id=2)\n"
       "?         0    (id=3)\n"
       "xxx>    101    (id=4)\n"},
      {"1,2,3", "2,3,4", "100,99,_,101", 99,
       "        idx\n"
       "xx>     100    (id=1)\n"
       "x>       99    (id=2)\n"
       "?         0    (id=3)\n"
       "xxx>    101    (id=4)\n"},
      // Identical. This is also exercised in the test harness, so it's listed here only briefly.
      {"1,2,3", "1,2,3", "50,45,_", 45,
       "       idx\n"
       "xx>     50    (id=1)\n"
       "x>      45    (id=2)\n"
       "?        0    (id=3)\n"},
  };
  for (const CommitCase& tc : kCases) RunCommitCase(tc);
}

struct VoteCase {
  std::string_view cfg;
  std::string_view cfgj;
  std::string_view votes;
  VoteResult want;
};

void RunVoteCase(const VoteCase& tc) {
  SCOPED_TRACE(Directive("vote", tc.cfg, tc.cfgj, "votes", tc.votes));
  const bool joint = tc.cfgj != kMajority;
  const std::vector<uint64_t> ids = ParseIds(tc.cfg);
  const std::vector<uint64_t> ids_joint =
      joint && tc.cfgj != kZero ? ParseIds(tc.cfgj) : std::vector<uint64_t>{};
  const MajorityConfig c(ids);
  const MajorityConfig cj(ids_joint);
  const Votes votes = MakeVotes(ids, ids_joint, tc.votes);
  if (!joint) {
    EXPECT_EQ(VoteResultName(c.VoteResult(votes)), VoteResultName(tc.want));
    // Joining with an empty or identical half changes nothing.
    EXPECT_EQ((JointConfig{c, {}}).VoteResult(votes), tc.want) << "via zero-joint quorum";
    EXPECT_EQ((JointConfig{c, c}).VoteResult(votes), tc.want) << "via self-joint quorum";
  } else {
    const VoteResult r = (JointConfig{c, cj}).VoteResult(votes);
    EXPECT_EQ(VoteResultName(r), VoteResultName(tc.want));
    EXPECT_EQ((JointConfig{cj, c}).VoteResult(votes), r) << "via symmetry";
  }
}

constexpr VoteResult kPending = VoteResult::kVotePending;
constexpr VoteResult kLost = VoteResult::kVoteLost;
constexpr VoteResult kWon = VoteResult::kVoteWon;

// quorum/testdata/majority_vote.txt.
TEST(QuorumDataDrivenTest, MajorityVote) {
  const VoteCase kCases[] = {
      // The empty config always announces a won vote.
      {"", kMajority, "", kWon},
      {"1", kMajority, "_", kPending},
      {"1", kMajority, "n", kLost},
      {"123", kMajority, "y", kWon},
      {"4,8", kMajority, "_,_", kPending},
      // With two voters, a single rejection loses the vote.
      {"4,8", kMajority, "n,_", kLost},
      {"4,8", kMajority, "y,_", kPending},
      {"4,8", kMajority, "n,y", kLost},
      {"4,8", kMajority, "y,y", kWon},
      {"2,4,7", kMajority, "_,_,_", kPending},
      {"2,4,7", kMajority, "n,_,_", kPending},
      {"2,4,7", kMajority, "y,_,_", kPending},
      {"2,4,7", kMajority, "n,n,_", kLost},
      {"2,4,7", kMajority, "y,n,_", kPending},
      {"2,4,7", kMajority, "y,y,_", kWon},
      {"2,4,7", kMajority, "y,y,n", kWon},
      {"2,4,7", kMajority, "n,y,n", kLost},
      // Test some random example with seven nodes (why not).
      {"1,2,3,4,5,6,7", kMajority, "y,y,n,y,_,_,_", kPending},
      {"1,2,3,4,5,6,7", kMajority, "_,y,y,_,n,y,n", kPending},
      {"1,2,3,4,5,6,7", kMajority, "y,y,n,y,_,n,y", kWon},
      {"1,2,3,4,5,6,7", kMajority, "y,y,_,n,y,n,n", kPending},
      {"1,2,3,4,5,6,7", kMajority, "y,y,n,y,n,n,n", kLost},
  };
  for (const VoteCase& tc : kCases) RunVoteCase(tc);
}

// quorum/testdata/joint_vote.txt.
TEST(QuorumDataDrivenTest, JointVote) {
  const VoteCase kCases[] = {
      // Empty joint config wins all votes. This isn't used in production.
      {"", kZero, "", kWon},
      // More examples with close to trivial configs.
      {"1", kZero, "_", kPending},
      {"1", kZero, "y", kWon},
      {"1", kZero, "n", kLost},
      {"1", "1", "_", kPending},
      {"1", "1", "y", kWon},
      {"1", "1", "n", kLost},
      {"1", "2", "_,_", kPending},
      {"1", "2", "y,_", kPending},
      {"1", "2", "y,y", kWon},
      {"1", "2", "y,n", kLost},
      {"1", "2", "n,_", kLost},
      {"1", "2", "n,n", kLost},
      {"1", "2", "n,y", kLost},
      // Two node configs.
      {"1,2", "3,4", "_,_,_,_", kPending},
      {"1,2", "3,4", "y,_,_,_", kPending},
      {"1,2", "3,4", "y,y,_,_", kPending},
      {"1,2", "3,4", "y,y,n,_", kLost},
      {"1,2", "3,4", "y,y,n,n", kLost},
      {"1,2", "3,4", "y,y,y,n", kLost},
      {"1,2", "3,4", "y,y,y,y", kWon},
      {"1,2", "2,3", "_,_,_", kPending},
      {"1,2", "2,3", "_,n,_", kLost},
      {"1,2", "2,3", "y,y,_", kPending},
      {"1,2", "2,3", "y,y,n", kLost},
      {"1,2", "2,3", "y,y,y", kWon},
      {"1,2", "1,2", "_,_", kPending},
      {"1,2", "1,2", "y,_", kPending},
      {"1,2", "1,2", "y,n", kLost},
      {"1,2", "1,2", "n,_", kLost},
      {"1,2", "1,2", "n,n", kLost},
      // Simple example for overlapping three node configs.
      {"1,2,3", "2,3,4", "_,_,_,_", kPending},
      {"1,2,3", "2,3,4", "_,n,_,_", kPending},
      {"1,2,3", "2,3,4", "_,n,n,_", kLost},
      {"1,2,3", "2,3,4", "_,y,y,_", kWon},
      {"1,2,3", "2,3,4", "y,y,_,_", kPending},
      {"1,2,3", "2,3,4", "y,y,n,_", kPending},
      {"1,2,3", "2,3,4", "y,y,n,n", kLost},
      {"1,2,3", "2,3,4", "y,y,n,y", kWon},
  };
  for (const VoteCase& tc : kCases) RunVoteCase(tc);
}

}  // namespace
}  // namespace raftlog::raft::quorum
