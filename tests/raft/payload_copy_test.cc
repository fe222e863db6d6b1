// The raft path shares entry payloads instead of copying them.
//
// A 1-node and a 3-node cluster of RawNodes over MemoryStorage (messages
// delivered in memory, every Ready saved, sent, applied and advanced) commit
// N proposals of 128 B and of 16 KiB. Every heap allocation of this thread
// is counted by the replaced global operator new below, from the first
// Propose to the last committed entry; the proposal buffers are made before
// counting starts.
//
// What the test asserts, and why it fails on a copying design: with
// Entry::data a std::string, each committed entry's payload is copied at
// least by the unstable log (the MsgProp's entries appended to it), by the
// Ready's entries handed to Storage::Save, by MemoryStorage::Append and by
// committed_entries (and on 3 nodes once more per MsgApp to each follower
// and per follower's storage), so the bytes allocated per committed entry
// grow by several times the payload size from 128 B to 16 KiB (at least
// 3 x 16 KiB). With shared Bytes they do not grow at all: the difference
// allowed here, an eighth of the payload, is far below even one copy. And
// the committed entry's data on every node must be the very buffer that was
// proposed (Bytes::shares_buffer_with), which no copy can satisfy.

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <new>
#include <string>
#include <utility>
#include <vector>

#include "raftlog/format/bytes.h"
#include "raftlog/raft/config.h"
#include "raftlog/raft/memory_storage.h"
#include "raftlog/raft/rawnode.h"
#include "raftlog/raft/ready.h"
#include "raftlog/raft/types.h"
#include "tests/raft/testutil/raft_test_util.h"

namespace {

// Bytes requested from operator new on this thread. Thread-local so that
// other threads of the binary (none in these tests, but gtest may have
// some) never disturb a measurement; constant-initialized, so it is usable
// from the first allocation on.
thread_local uint64_t t_allocated_bytes = 0;

}  // namespace

// The replaceable global allocation functions, counting on this thread.
// Every form that pairs with the plain delete is replaced, the nothrow ones
// included: the standard library's own nothrow new (std::stable_sort's
// temporary buffer) would otherwise allocate through the sanitizer's
// operator new and be freed here with free(), which ASan reports as a
// mismatch. The aligned forms are left alone; they pair only with each other.
// GCC sees free() of what a (replaced) operator new returned and warns of a
// mismatch; here both sides are malloc and free by construction.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
void* operator new(std::size_t n) {
  t_allocated_bytes += n;
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void* operator new[](std::size_t n) { return ::operator new(n); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  t_allocated_bytes += n;
  return std::malloc(n == 0 ? 1 : n);
}
void* operator new[](std::size_t n, const std::nothrow_t& tag) noexcept {
  return ::operator new(n, tag);
}
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }

namespace raftlog::raft {
namespace {

// N RawNodes over MemoryStorage, node 1 the leader, driven in waves as an
// application would drive them.
class Cluster {
 public:
  explicit Cluster(int nodes) {
    Snapshot initial;
    initial.metadata.index = 1;
    initial.metadata.term = 1;
    for (int id = 1; id <= nodes; ++id) {
      initial.metadata.conf_state.voters.push_back(static_cast<uint64_t>(id));
    }
    for (int id = 1; id <= nodes; ++id) {
      auto n = std::make_unique<Node>();
      RAFTLOG_CHECK(n->storage.ApplySnapshot(initial).ok());
      Config config;
      config.id = static_cast<uint64_t>(id);
      config.election_tick = 10;
      config.heartbeat_tick = 1;
      config.storage = &n->storage;
      config.applied = 1;
      config.max_size_per_msg = 1u << 20;
      config.max_inflight_msgs = 256;
      config.logger = testing::TestLogger();
      auto rn = RawNode::New(config);
      RAFTLOG_CHECK(rn.ok());
      n->raft = std::move(rn).value();
      nodes_.push_back(std::move(n));
    }
    RAFTLOG_CHECK(nodes_[0]->raft->Campaign().ok());
    RunUntilQuiet();
    RAFTLOG_CHECK(nodes_[0]->raft->GetBasicStatus().soft_state.raft_state ==
                  StateType::kStateLeader);
  }

  RawNode& leader() { return *nodes_[0]->raft; }
  int size() const { return static_cast<int>(nodes_.size()); }
  // The data entries node `k` (0-based) has applied, in order.
  const std::vector<Entry>& applied(int k) const { return nodes_[k]->applied; }

  void RunUntilQuiet() {
    while (Wave()) {
    }
  }

 private:
  struct Node {
    MemoryStorage storage;  // declared before raft, which borrows it
    std::unique_ptr<RawNode> raft;
    std::vector<Message> inbox;
    std::vector<Entry> applied;
  };

  bool Wave() {
    bool busy = false;
    for (auto& n : nodes_) {
      std::vector<Message> msgs;
      msgs.swap(n->inbox);
      for (Message& m : msgs) {
        busy = true;
        (void)n->raft->Step(std::move(m));
      }
    }
    for (auto& n : nodes_) {
      if (!n->raft->HasReady()) continue;
      busy = true;
      Ready rd = n->raft->Ready();
      RAFTLOG_CHECK(n->storage.Save(rd.hard_state, rd.entries, rd.snapshot.get(), rd.must_sync).ok());
      for (Message& m : rd.messages) nodes_[m.to - 1]->inbox.push_back(std::move(m));
      for (Entry& e : rd.committed_entries) {
        if (e.type == EntryType::kNormal && !e.data.empty()) n->applied.push_back(std::move(e));
      }
      n->raft->Advance();
    }
    return busy;
  }

  std::vector<std::unique_ptr<Node>> nodes_;
};

struct Measured {
  double bytes_per_entry = 0;
  bool all_shared = true;
};

// Proposes `count` entries of `payload_bytes` in windows of 32 and runs the
// cluster until all are applied everywhere.
Measured ProposeAndCommit(int nodes, size_t payload_bytes, int count) {
  Cluster c(nodes);
  std::vector<Bytes> proposals;
  proposals.reserve(static_cast<size_t>(count));
  for (int k = 0; k < count; ++k) {
    std::string s(payload_bytes, static_cast<char>('a' + k % 26));
    proposals.emplace_back(std::move(s));
  }
  const uint64_t before = t_allocated_bytes;
  constexpr int kWindow = 32;
  for (int k = 0; k < count; k += kWindow) {
    for (int j = k; j < k + kWindow && j < count; ++j) {
      // Propose takes its own reference (a copy of the Bytes handle only).
      RAFTLOG_CHECK(c.leader().Propose(proposals[static_cast<size_t>(j)]).ok());
    }
    c.RunUntilQuiet();
  }
  const uint64_t allocated = t_allocated_bytes - before;

  Measured run;
  run.bytes_per_entry = static_cast<double>(allocated) / count;
  for (int n = 0; n < c.size(); ++n) {
    const std::vector<Entry>& applied = c.applied(n);
    EXPECT_EQ(applied.size(), static_cast<size_t>(count)) << "node " << n + 1;
    for (size_t k = 0; k < applied.size() && k < proposals.size(); ++k) {
      EXPECT_EQ(applied[k].data, proposals[k]) << "node " << n + 1 << " entry " << k;
      if (!applied[k].data.shares_buffer_with(proposals[k])) run.all_shared = false;
    }
  }
  return run;
}

class PayloadCopyTest : public ::testing::TestWithParam<int> {};

TEST_P(PayloadCopyTest, CommittedEntriesShareTheProposedBuffer) {
  const Measured run = ProposeAndCommit(GetParam(), 16 << 10, 64);
  EXPECT_TRUE(run.all_shared);
}

TEST_P(PayloadCopyTest, AllocatedBytesPerEntryDoNotGrowWithThePayload) {
  constexpr int kCount = 256;
  const size_t kSmall = 128, kLarge = 16 << 10;
  // One unmeasured run first: one-time allocations (the logger, gtest's
  // bookkeeping) do not land in the first measured run.
  (void)ProposeAndCommit(GetParam(), kSmall, kCount);
  const Measured small = ProposeAndCommit(GetParam(), kSmall, kCount);
  const Measured large = ProposeAndCommit(GetParam(), kLarge, kCount);
  const double growth = large.bytes_per_entry - small.bytes_per_entry;
  EXPECT_LT(growth, static_cast<double>(kLarge) / 8)
      << "bytes allocated per committed entry: " << small.bytes_per_entry << " at " << kSmall
      << " B, " << large.bytes_per_entry << " at " << kLarge << " B (" << GetParam()
      << " nodes): the payload is copied on the raft path";
  EXPECT_TRUE(small.all_shared);
  EXPECT_TRUE(large.all_shared);
}

INSTANTIATE_TEST_SUITE_P(Nodes, PayloadCopyTest, ::testing::Values(1, 3),
                         [](const auto& info) { return std::to_string(info.param) + "Nodes"; });

}  // namespace
}  // namespace raftlog::raft
