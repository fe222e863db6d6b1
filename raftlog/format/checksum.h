// XXH3-64 checksums: the only checksum raftlog writes to disk.
//
// Why XXH3: 6-16 GB/s per core on our 2-vCPU test machines (the library
// picks SSE2, AVX2 or AVX-512 code at run time), about 10x CRC32C in
// software, with strong avalanche, and a 64-bit seed that we use to bind a
// checksum to where the bytes belong (segment ID and truncation generation):
// stale bytes copied or left from elsewhere cannot validate.
//
// This is the only file that includes <xxhash.h> (in its .cc).
// Thread-compatible: distinct objects may be used on distinct threads.

#pragma once

#include <cstdint>
#include <memory>
#include <string_view>

namespace raftlog::format {

// XXH3-64 of `data` with `seed` (XXH3_64bits_withSeed).
uint64_t Checksum64(std::string_view data, uint64_t seed = 0);

// The same checksum computed over data fed in pieces: feeding "ab" then "c"
// gives Checksum64("abc", seed).
class StreamingChecksum {
 public:
  explicit StreamingChecksum(uint64_t seed = 0);
  ~StreamingChecksum();
  StreamingChecksum(StreamingChecksum&&) noexcept;
  StreamingChecksum& operator=(StreamingChecksum&&) noexcept;
  StreamingChecksum(const StreamingChecksum&) = delete;
  StreamingChecksum& operator=(const StreamingChecksum&) = delete;

  void Update(std::string_view data);
  // The checksum of everything fed so far; more may be fed afterwards.
  uint64_t Digest() const;
  // Forget everything fed; start again with `seed`.
  void Reset(uint64_t seed = 0);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace raftlog::format
