#include "tests/format/allocation_counter.h"

#include <gtest/gtest.h>

#include <memory>
#include <vector>

namespace raftlog::format::testing {
namespace {

TEST(AllocationCounterTest, CountsAllocationsOnThisThread) {
  AllocationCounter counter;
  EXPECT_EQ(counter.allocations(), 0u);
  auto p = std::make_unique<std::vector<char>>(1000);
  EXPECT_EQ(counter.allocations(), 2u);
  EXPECT_GE(counter.bytes(), 1000u);
  EXPECT_EQ(counter.largest(), 1000u);
}

}  // namespace
}  // namespace raftlog::format::testing

