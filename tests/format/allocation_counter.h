// Counts heap allocations made through operator new on the calling thread,
// to check the "no allocation in the steady state" promises of the hot paths
// (FrameBuilder::BuildEntries, DecodeFrame, FrameIterator::Next) and that a
// decompression bomb cannot make us allocate more than the declared size.
//
// The replacement operator new/delete live in allocation_counter.cc, linked
// into the test binaries that use the counter (tests/CMakeLists.txt).
// zstd allocates with malloc and is not counted.

#pragma once

#include <cstddef>

namespace raftlog::format::testing {

// Counts operator new calls on this thread while alive.
class AllocationCounter {
 public:
  AllocationCounter();
  ~AllocationCounter();
  AllocationCounter(const AllocationCounter&) = delete;
  AllocationCounter& operator=(const AllocationCounter&) = delete;

  size_t allocations() const;
  size_t bytes() const;  // total requested
  // The largest single request.
  size_t largest() const;
};

}  // namespace raftlog::format::testing
