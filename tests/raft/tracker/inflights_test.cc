// Ports etcd raft's tracker/inflights_test.go.

#include "raftlog/raft/tracker/inflights.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <ostream>
#include <utility>
#include <vector>

namespace raftlog::raft::tracker {

// Befriended by Inflights: builds and inspects ring layouts as etcd's tests
// do with struct literals.
class InflightsTestPeer {
 public:
  // A window of `size` with its ring starting at `start` and a buffer of
  // `buffer_len` zeroed slots (etcd's &Inflights{start: 5, size: 10, buffer: ...}).
  static Inflights Make(size_t size, size_t start, size_t buffer_len) {
    Inflights in(size, 0);
    in.start_ = start;
    in.buffer_.resize(buffer_len);
    return in;
  }

  struct State {
    size_t start;
    size_t count;
    uint64_t bytes;
    std::vector<uint64_t> indexes;  // the whole buffer, slot by slot
    std::vector<uint64_t> sizes;

    friend bool operator==(const State&, const State&) = default;
    friend void PrintTo(const State& s, std::ostream* os) {
      *os << "{start=" << s.start << " count=" << s.count << " bytes=" << s.bytes << " indexes=[";
      for (uint64_t i : s.indexes) *os << i << ' ';
      *os << "] sizes=[";
      for (uint64_t b : s.sizes) *os << b << ' ';
      *os << "]}";
    }
  };

  static State Get(const Inflights& in) {
    State s{in.start_, in.count_, in.bytes_, {}, {}};
    for (const auto& slot : in.buffer_) {
      s.indexes.push_back(slot.index);
      s.sizes.push_back(slot.bytes);
    }
    return s;
  }

  static size_t BufferLength(const Inflights& in) { return in.buffer_.size(); }
};

namespace {

using State = InflightsTestPeer::State;

// TestInflightsAdd.
TEST(InflightsTest, Add) {
  // No rotation.
  Inflights in = InflightsTestPeer::Make(10, 0, 10);
  for (uint64_t i = 0; i < 5; ++i) in.Add(i, 100 + i);
  EXPECT_EQ(
      InflightsTestPeer::Get(in),
      (State{0, 5, 510, {0, 1, 2, 3, 4, 0, 0, 0, 0, 0}, {100, 101, 102, 103, 104, 0, 0, 0, 0, 0}}));
  for (uint64_t i = 5; i < 10; ++i) in.Add(i, 100 + i);
  EXPECT_EQ(InflightsTestPeer::Get(in),
            (State{0,
                   10,
                   1045,
                   {0, 1, 2, 3, 4, 5, 6, 7, 8, 9},
                   {100, 101, 102, 103, 104, 105, 106, 107, 108, 109}}));

  // Rotation: the ring starts at slot 5 and wraps around.
  Inflights in2 = InflightsTestPeer::Make(10, 5, 10);
  for (uint64_t i = 0; i < 5; ++i) in2.Add(i, 100 + i);
  EXPECT_EQ(
      InflightsTestPeer::Get(in2),
      (State{5, 5, 510, {0, 0, 0, 0, 0, 0, 1, 2, 3, 4}, {0, 0, 0, 0, 0, 100, 101, 102, 103, 104}}));
  for (uint64_t i = 5; i < 10; ++i) in2.Add(i, 100 + i);
  EXPECT_EQ(InflightsTestPeer::Get(in2),
            (State{5,
                   10,
                   1045,
                   {5, 6, 7, 8, 9, 0, 1, 2, 3, 4},
                   {105, 106, 107, 108, 109, 100, 101, 102, 103, 104}}));
}

// TestInflightFreeTo.
TEST(InflightsTest, FreeLE) {
  Inflights in(10, 0);
  for (uint64_t i = 0; i < 10; ++i) in.Add(i, 100 + i);
  const std::vector<uint64_t> indexes = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
  const std::vector<uint64_t> sizes = {100, 101, 102, 103, 104, 105, 106, 107, 108, 109};

  in.FreeLE(0);
  EXPECT_EQ(InflightsTestPeer::Get(in), (State{1, 9, 945, indexes, sizes}));
  in.FreeLE(4);
  EXPECT_EQ(InflightsTestPeer::Get(in), (State{5, 5, 535, indexes, sizes}));
  in.FreeLE(8);
  EXPECT_EQ(InflightsTestPeer::Get(in), (State{9, 1, 109, indexes, sizes}));

  // Rotation.
  for (uint64_t i = 10; i < 15; ++i) in.Add(i, 100 + i);
  in.FreeLE(12);
  const std::vector<uint64_t> indexes2 = {10, 11, 12, 13, 14, 5, 6, 7, 8, 9};
  const std::vector<uint64_t> sizes2 = {110, 111, 112, 113, 114, 105, 106, 107, 108, 109};
  EXPECT_EQ(InflightsTestPeer::Get(in), (State{3, 2, 227, indexes2, sizes2}));
  // Emptying the window resets the start to slot 0.
  in.FreeLE(14);
  EXPECT_EQ(InflightsTestPeer::Get(in), (State{0, 0, 0, indexes2, sizes2}));
}

TEST(InflightsTest, FreeLEBelowTheWindowFreesNothing) {
  Inflights in(4, 0);
  in.FreeLE(100);  // empty: nothing to free
  EXPECT_EQ(in.Count(), 0u);
  in.Add(10, 1);
  in.Add(20, 2);
  in.FreeLE(9);
  EXPECT_EQ(in.Count(), 2u);
  EXPECT_EQ(in.bytes(), 3u);
  in.FreeLE(19);  // frees 10 only
  EXPECT_EQ(in.Count(), 1u);
  EXPECT_EQ(in.bytes(), 2u);
}

// TestInflightsFull.
TEST(InflightsDeathTest, Full) {
  struct Case {
    const char* name;
    size_t size;
    uint64_t max_bytes;
    uint64_t full_at;
    uint64_t free_le;
    uint64_t again_at;
  };
  const Case kCases[] = {
      {"always-full", 0, 0, 0, 0, 0},
      {"single-entry", 1, 0, 1, 1, 2},
      {"single-entry-overflow", 1, 10, 1, 1, 2},
      {"multi-entry", 15, 0, 15, 6, 22},
      {"slight-overflow", 8, 400, 4, 2, 7},
      {"exact-max-bytes", 8, 406, 4, 3, 8},
      {"larger-overflow", 15, 408, 5, 1, 6},
  };
  for (const Case& tc : kCases) {
    SCOPED_TRACE(tc.name);
    Inflights in(tc.size, tc.max_bytes);
    auto add_until_full = [&in](uint64_t begin, uint64_t end) {
      for (uint64_t i = begin; i < end; ++i) {
        ASSERT_FALSE(in.Full()) << "full at " << i << ", want " << end;
        in.Add(i, 100 + i);
      }
      ASSERT_TRUE(in.Full()) << "not full at " << end;
    };
    add_until_full(0, tc.full_at);
    in.FreeLE(tc.free_le);
    add_until_full(tc.full_at, tc.again_at);
    EXPECT_DEATH(in.Add(100, 1024), "cannot add into a Full inflights");
  }
}

// TestInflightsReset.
TEST(InflightsTest, ResetDoesNotLeakBytes) {
  Inflights in(10, 1000);
  // A semi-realistic flow in which the window is reset now and then: byte
  // usage must not leak across resets.
  uint64_t index = 0;
  for (int epoch = 0; epoch < 100; ++epoch) {
    in.Reset();
    // Five messages do not reach the limits.
    for (int i = 0; i < 5; ++i) {
      ASSERT_FALSE(in.Full());
      in.Add(++index, 16);
    }
    // Acknowledge all but the last two.
    in.FreeLE(index - 2);
    ASSERT_FALSE(in.Full());
    ASSERT_EQ(in.Count(), 2u);
    ASSERT_EQ(in.bytes(), 32u);
  }
  in.FreeLE(index);
  EXPECT_FALSE(in.Full());
  EXPECT_EQ(in.Count(), 0u);
  EXPECT_EQ(in.bytes(), 0u);
}

TEST(InflightsTest, BufferGrowsByDoublingUpToTheLimit) {
  Inflights in(10, 0);
  EXPECT_EQ(InflightsTestPeer::BufferLength(in), 0u);  // nothing allocated up front
  const size_t want_len[] = {1, 2, 4, 4, 8, 8, 8, 8, 10, 10};
  for (uint64_t i = 0; i < 10; ++i) {
    in.Add(i + 1, 1);
    EXPECT_EQ(InflightsTestPeer::BufferLength(in), want_len[i]) << "after " << i + 1 << " adds";
  }
  // A window that drains between bursts restarts at slot 0 and does not grow.
  Inflights bursty(100, 0);
  uint64_t index = 0;
  for (int burst = 0; burst < 50; ++burst) {
    for (int i = 0; i < 3; ++i) bursty.Add(++index, 1);
    bursty.FreeLE(index);
  }
  EXPECT_EQ(InflightsTestPeer::BufferLength(bursty), 4u);
}

}  // namespace
}  // namespace raftlog::raft::tracker
