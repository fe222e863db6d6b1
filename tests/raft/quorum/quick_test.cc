// Ports etcd raft's quorum/quick_test.go (TestQuick): randomized checks, with
// fixed seeds, that the committed index agrees with independent reference
// computations, for majority and joint quorums; and the same for votes.

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

#include "raftlog/raft/quorum/joint.h"
#include "raftlog/raft/quorum/majority.h"
#include "raftlog/raft/quorum/quorum.h"
#include "tests/raft/quorum/quorum_test_util.h"

namespace raftlog::raft::quorum {
namespace {

using test::AlternativeMajorityCommittedIndex;
using test::SortedMajorityCommittedIndex;

// A random subset of up to `max_size` ids drawn from [1, 2 * max_size] (so
// that two draws often overlap), like etcd's memberMap generator.
MajorityConfig RandomConfig(std::mt19937_64& rng, size_t max_size) {
  const size_t n = std::uniform_int_distribution<size_t>(0, max_size)(rng);
  std::vector<uint64_t> pool(2 * max_size);
  for (size_t i = 0; i < pool.size(); ++i) pool[i] = i + 1;
  std::shuffle(pool.begin(), pool.end(), rng);
  pool.resize(n);
  return MajorityConfig(std::move(pool));
}

// etcd's smallRandIdxMap: indexes in [0, 2n) for a random subset of the ids
// in [1, 2 * max_size]; ids not drawn are unknown to the indexer.
MapAckIndexer RandomAcks(std::mt19937_64& rng, size_t max_size) {
  MapAckIndexer acked;
  std::uniform_int_distribution<uint64_t> idx(0, 2 * max_size);
  for (uint64_t id = 1; id <= 2 * max_size; ++id) {
    if (rng() % 3 != 0) acked.Set(id, idx(rng));
  }
  return acked;
}

// The largest index committed in both majorities, by brute force: try
// every candidate index.
Index BruteForceJointCommit(const JointConfig& c, const AckedIndexer& l) {
  auto majority_has = [&l](const MajorityConfig& m, Index x) {
    if (m.empty()) return true;
    size_t n = 0;
    for (uint64_t id : m) n += l.AckedIndex(id).value_or(0) >= x ? 1 : 0;
    return n >= m.size() / 2 + 1;
  };
  if (c.incoming.empty() && c.outgoing.empty()) return kInfiniteIndex;
  std::vector<Index> candidates = {0};
  for (uint64_t id : c.IDs()) candidates.push_back(l.AckedIndex(id).value_or(0));
  Index best = 0;
  for (Index x : candidates) {
    if (majority_has(c.incoming, x) && majority_has(c.outgoing, x)) best = std::max(best, x);
  }
  return best;
}

// The vote outcome by brute force: won if the granted votes already form a
// majority in both halves; lost if even granting every missing vote would
// not; pending otherwise.
VoteResult BruteForceJointVote(const JointConfig& c, const Votes& votes) {
  auto wins = [&](const MajorityConfig& m, bool missing_grants) {
    if (m.empty()) return true;
    size_t yes = 0;
    for (uint64_t id : m) {
      auto it = votes.find(id);
      if (it == votes.end() ? missing_grants : it->second) ++yes;
    }
    return yes >= m.size() / 2 + 1;
  };
  if (wins(c.incoming, false) && wins(c.outgoing, false)) return VoteResult::kVoteWon;
  if (!wins(c.incoming, true) || !wins(c.outgoing, true)) return VoteResult::kVoteLost;
  return VoteResult::kVotePending;
}

// TestQuick/majority_commit: CommittedIndex equals etcd's alternative
// computation and a sort-based reference.
TEST(QuorumQuickTest, MajorityCommitMatchesReferences) {
  std::mt19937_64 rng(20190605);
  for (int i = 0; i < 50000; ++i) {
    const size_t max_size = 1 + i % 11;  // covers the on-stack (<= 7) and heap paths
    const MajorityConfig c = RandomConfig(rng, max_size);
    const MapAckIndexer l = RandomAcks(rng, max_size);
    const Index got = c.CommittedIndex(l);
    ASSERT_EQ(got, AlternativeMajorityCommittedIndex(c, l)) << c.String() << " iteration " << i;
    ASSERT_EQ(got, SortedMajorityCommittedIndex(c, l)) << c.String() << " iteration " << i;
  }
}

TEST(QuorumQuickTest, JointCommitIsMinOfMajoritiesAndMatchesBruteForce) {
  std::mt19937_64 rng(4242);
  for (int i = 0; i < 20000; ++i) {
    const size_t max_size = 1 + i % 9;
    const JointConfig c{RandomConfig(rng, max_size), RandomConfig(rng, max_size)};
    const MapAckIndexer l = RandomAcks(rng, max_size);
    const Index got = c.CommittedIndex(l);
    ASSERT_EQ(got, std::min(SortedMajorityCommittedIndex(c.incoming, l),
                            SortedMajorityCommittedIndex(c.outgoing, l)))
        << c.String() << " iteration " << i;
    ASSERT_EQ(got, BruteForceJointCommit(c, l)) << c.String() << " iteration " << i;
    // The halves are symmetric.
    ASSERT_EQ(got, (JointConfig{c.outgoing, c.incoming}).CommittedIndex(l));
  }
}

TEST(QuorumQuickTest, JointVoteMatchesBruteForce) {
  std::mt19937_64 rng(1977);
  for (int i = 0; i < 20000; ++i) {
    const size_t max_size = 1 + i % 9;
    const JointConfig c{RandomConfig(rng, max_size), RandomConfig(rng, max_size)};
    Votes votes;
    for (uint64_t id = 1; id <= 2 * max_size; ++id) {
      switch (rng() % 3) {
        case 0:
          votes[id] = true;
          break;
        case 1:
          votes[id] = false;
          break;
        default:
          break;  // not voted
      }
    }
    ASSERT_EQ(c.VoteResult(votes), BruteForceJointVote(c, votes))
        << c.String() << " iteration " << i;
    // A majority config alone is a joint config with an empty outgoing half.
    ASSERT_EQ(c.incoming.VoteResult(votes), BruteForceJointVote({c.incoming, {}}, votes));
  }
}

}  // namespace
}  // namespace raftlog::raft::quorum
