#include "raftlog/format/checksum.h"

// Inline the implementation: the checksum sits on every append and read, and
// the inlined XXH3 avoids a call into the shared library per frame.
#define XXH_INLINE_ALL
#include <xxhash.h>

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
