// Bytes: an immutable byte buffer whose copies share the bytes.
//
// A raft entry's payload travels from the proposal through the unstable log,
// the messages to every follower, the storage and back as a committed entry.
// With Bytes every one of those holds a reference to the same bytes: a copy
// costs a reference count increment, not a memcpy of the payload.
//
// Representations:
//   - empty: no allocation (the default);
//   - owned: Bytes(std::string&&) takes the string over (its heap buffer is
//     moved, never copied) into one reference-counted control block;
//   - borrowed: Bytes(owner, data, size) views bytes that `owner` keeps alive
//     (a storage's memory mapping, a decoded frame's buffer); the view holds
//     one reference to the owner.
// Slice() narrows any of them without copying and keeps the same owner.
//
// Contract and lifetimes:
//   - The bytes never change while any Bytes refers to them. Whoever builds a
//     borrowed Bytes promises that the viewed memory stays valid and
//     unmodified while the owner is alive.
//   - data()/view() are valid while this Bytes (or any copy of it) lives;
//     a string_view taken from a Bytes must not outlive every copy.
//   - A Bytes keeps its whole buffer alive, also when it is a small slice of
//     it; use Copy() to detach a small part from a large buffer.
//
// Thread-safety: the reference count is atomic, so distinct Bytes objects
// that share a buffer may be copied and destroyed on different threads at
// once (as std::shared_ptr). One Bytes object is thread-compatible: const
// methods may run concurrently, assignment needs exclusive access.
//
// Small payloads are not stored inline: an inline buffer is copied whenever
// the entry is copied (into the unstable log, each message, the storage, a
// Ready), which at 128 B was slower in the windowed cluster benchmark than
// one shared control block.

#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

namespace raftlog {

class Bytes {
 public:
  // Empty, no allocation.
  Bytes() noexcept = default;

  // Takes the string over without copying its bytes (one allocation for the
  // control block; the string's buffer is moved into it). Empty strings make
  // an empty Bytes with no allocation.
  Bytes(std::string&& s);  // NOLINT(google-explicit-constructor): a string is moved in
  // Copies a literal (small, for tests and fixed texts).
  Bytes(const char* s) : Bytes(Copy(s)) {}  // NOLINT(google-explicit-constructor)
  // Copies a string the caller keeps. Explicit so that every copy of payload
  // bytes is visible at the call site (pass std::move(s) to avoid it).
  explicit Bytes(const std::string& s) : Bytes(Copy(s)) {}

  // Views [data, data+size), which `owner` keeps alive and unchanged (see
  // the contract above). No copy; one reference to the owner is taken.
  Bytes(std::shared_ptr<const void> owner, const char* data, size_t size);

  // A new buffer holding a copy of `s`.
  static Bytes Copy(std::string_view s);

  Bytes(const Bytes& other) noexcept : rep_(other.rep_), data_(other.data_), size_(other.size_) {
    if (rep_ != nullptr) rep_->refs.fetch_add(1, std::memory_order_relaxed);
  }
  Bytes(Bytes&& other) noexcept
      : rep_(std::exchange(other.rep_, nullptr)),
        data_(std::exchange(other.data_, "")),
        size_(std::exchange(other.size_, 0)) {}
  Bytes& operator=(const Bytes& other) noexcept {
    Bytes(other).swap(*this);
    return *this;
  }
  Bytes& operator=(Bytes&& other) noexcept {
    Bytes(std::move(other)).swap(*this);
    return *this;
  }
  ~Bytes() {
    if (rep_ != nullptr) Release(rep_);
  }

  void swap(Bytes& other) noexcept {
    std::swap(rep_, other.rep_);
    std::swap(data_, other.data_);
    std::swap(size_, other.size_);
  }

  // Never null (an empty Bytes points at a static empty string).
  const char* data() const { return data_; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  char operator[](size_t i) const { return data_[i]; }
  const char* begin() const { return data_; }
  const char* end() const { return data_ + size_; }

  std::string_view view() const { return {data_, size_}; }
  operator std::string_view() const { return view(); }  // NOLINT: a read-only view
  // A copy of the bytes as a string (for APIs that need one).
  std::string ToString() const { return std::string(data_, size_); }

  // The bytes [pos, pos+n) (clamped to the end), sharing this buffer.
  // REQUIRES: pos <= size().
  Bytes Slice(size_t pos, size_t n = std::string_view::npos) const;

  // Whether the bytes are shared with another Bytes (a diagnostic for tests).
  bool shares_buffer_with(const Bytes& other) const {
    return rep_ != nullptr && rep_ == other.rep_;
  }

  void clear() { Bytes().swap(*this); }

  friend bool operator==(const Bytes& a, const Bytes& b) { return a.view() == b.view(); }
  friend bool operator==(const Bytes& a, std::string_view b) { return a.view() == b; }
  friend bool operator==(const Bytes& a, const char* b) { return a.view() == std::string_view(b); }
  friend bool operator==(const Bytes& a, const std::string& b) { return a.view() == b; }

 private:
  // The control block: the count and how to free the block (an owned string
  // or a reference to an external owner).
  struct Rep {
    std::atomic<uint64_t> refs{1};
    void (*destroy)(Rep*) = nullptr;
  };
  struct StringRep;
  struct OwnerRep;

  static void Release(Rep* rep) {
    if (rep->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) rep->destroy(rep);
  }

  Rep* rep_ = nullptr;
  const char* data_ = "";
  size_t size_ = 0;
};

inline void swap(Bytes& a, Bytes& b) noexcept { a.swap(b); }

// Prints the bytes as they are (tests print entries).
std::ostream& operator<<(std::ostream& os, const Bytes& b);

}  // namespace raftlog
