#include "raftlog/format/checksum.h"

// The library's XXH3, not an inlined copy: Debian's libxxhash picks the
// widest vector code the CPU has (SSE2, AVX2 or AVX-512) at run time through
// its *_dispatch entry points, where a copy inlined here would be built for
// the compiler's baseline (SSE2 on x86-64). The checksum is the same with
// every variant. Measured on the project's VM (docs/benchmarks.md, "Frame
// checksums"): a frame of 256 entries of 16 KiB checksums in 0.16 ms against
// 0.27 ms inlined, one of 16 entries of 1 KiB in 0.6 us against 1.3 us; a
// lone 128-byte frame pays about 10 ns more for the call.
#define XXH_STATIC_LINKING_ONLY  // the definition of XXH3_state_t, held by value below
#include <xxhash.h>
#if RAFTLOG_XXH_DISPATCH
// Replaces XXH3_64bits_withSeed and XXH3_64bits_update by the dispatching
// versions (CMake defines RAFTLOG_XXH_DISPATCH when the library has them).
#include <xxh_x86dispatch.h>
#endif

namespace raftlog::format {

uint64_t Checksum64(std::string_view data, uint64_t seed) {
  return XXH3_64bits_withSeed(data.data(), data.size(), seed);
}

struct StreamingChecksum::State {
  XXH3_state_t xxh;
};

StreamingChecksum::StreamingChecksum(uint64_t seed) : state_(std::make_unique<State>()) {
  Reset(seed);
}

StreamingChecksum::~StreamingChecksum() = default;
StreamingChecksum::StreamingChecksum(StreamingChecksum&&) noexcept = default;
StreamingChecksum& StreamingChecksum::operator=(StreamingChecksum&&) noexcept = default;

void StreamingChecksum::Update(std::string_view data) {
  XXH3_64bits_update(&state_->xxh, data.data(), data.size());
}

uint64_t StreamingChecksum::Digest() const { return XXH3_64bits_digest(&state_->xxh); }

void StreamingChecksum::Reset(uint64_t seed) { XXH3_64bits_reset_withSeed(&state_->xxh, seed); }

}  // namespace raftlog::format
