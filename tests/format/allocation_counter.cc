// The counting replacements of the global allocation functions behind
// AllocationCounter (allocation_counter.h). Linked into every test binary
// that uses the counter (format_tests, engine_tests): a program has exactly
// one definition of each replaceable function.

#include <cstddef>
#include <cstdlib>
#include <new>

#include "tests/format/allocation_counter.h"

namespace raftlog::format::testing {
namespace {

struct ThreadCounts {
  bool active = false;
  size_t allocations = 0;
  size_t bytes = 0;
  size_t largest = 0;
};

// Plain trivially-constructible thread_local: safe to touch from operator new.
thread_local ThreadCounts counts;

void Count(size_t n) {
  if (!counts.active) return;
  ++counts.allocations;
  counts.bytes += n;
  if (n > counts.largest) counts.largest = n;
}

void* Allocate(size_t n) {
  Count(n);
  if (n == 0) n = 1;
  void* p = std::malloc(n);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}

void* AllocateAligned(size_t n, std::align_val_t align) {
  Count(n);
  const auto a = static_cast<size_t>(align);
  // aligned_alloc wants a non-zero size that is a multiple of the alignment.
  size_t size = (n + a - 1) / a * a;
  if (size == 0) size = a;
  void* p = std::aligned_alloc(a, size);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}

}  // namespace

AllocationCounter::AllocationCounter() { counts = ThreadCounts{true, 0, 0, 0}; }
AllocationCounter::~AllocationCounter() { counts.active = false; }
size_t AllocationCounter::allocations() const { return counts.allocations; }
size_t AllocationCounter::bytes() const { return counts.bytes; }
size_t AllocationCounter::largest() const { return counts.largest; }

}  // namespace raftlog::format::testing

// Replacements of the global allocation functions (the program has exactly
// one definition of each; they must not be inline).
void* operator new(size_t n) { return raftlog::format::testing::Allocate(n); }
void* operator new[](size_t n) { return raftlog::format::testing::Allocate(n); }
void* operator new(size_t n, std::align_val_t a) {
  return raftlog::format::testing::AllocateAligned(n, a);
}
void* operator new[](size_t n, std::align_val_t a) {
  return raftlog::format::testing::AllocateAligned(n, a);
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t, std::align_val_t) noexcept { std::free(p); }
// The nothrow forms too: the standard library allocates with them
// (std::stable_sort's temporary buffer) and frees with the plain delete
// below; left to a sanitizer's own operator new, that pairing is reported
// as an alloc-dealloc mismatch.
void* operator new(size_t n, const std::nothrow_t&) noexcept {
  try {
    return raftlog::format::testing::Allocate(n);
  } catch (const std::bad_alloc&) {
    return nullptr;
  }
}
void* operator new[](size_t n, const std::nothrow_t& tag) noexcept {
  return ::operator new(n, tag);
}
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
