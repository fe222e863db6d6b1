// Helpers shared by the fuzz targets: a reader that carves an input into
// fields, "sabotage fixers" that recompute the checksums of frames, segment
// headers and trailers after the fuzzer changed their bytes (so that it gets
// past the checksums to the checks behind them), and a scratch directory.
//
// Thread-compatible (libFuzzer runs one input at a time).

#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace raftlog::fuzz {

// Consumes an input front to back; past the end every read yields zeros (or
// nothing), so a target never needs to check lengths.
class FuzzInput {
 public:
  FuzzInput(const uint8_t* data, size_t size) : bytes_(reinterpret_cast<const char*>(data), size) {}

  bool empty() const { return pos_ >= bytes_.size(); }
  size_t remaining() const { return empty() ? 0 : bytes_.size() - pos_; }
  uint8_t Byte();
  uint32_t U32();  // little-endian
  // Up to n bytes.
  std::string_view Bytes(size_t n);
  // Bytes prefixed by a one-byte length.
  std::string_view ShortBytes() { return Bytes(Byte()); }
  std::string_view Rest() { return Bytes(remaining()); }

 private:
  std::string_view bytes_;
  size_t pos_ = 0;
};

// Recomputes the checksum of the frame at `offset` of `bytes` with `seed`, if
// its header and stored payload lie within `bytes`.
void FixFrameChecksum(std::string* bytes, size_t offset, uint64_t seed);

// Recomputes every checksum of a segment file: the header's, those of the
// frames found walking from the header (by their stored lengths, up to a zero
// header or a footer frame), and the trailer's and its footer frame's if the
// file ends with a trailer magic. `seed` is the segment's FrameSeed.
void FixSegmentChecksums(std::string* file, uint64_t seed);

// A directory of this process's own, created on first use and removed at
// exit: under /dev/shm if there is one (fuzzing is I/O bound), else $TMPDIR.
const std::string& ScratchDir();

// Removes `path` with everything in it (if present) and creates it empty.
void ResetDir(const std::string& path);

// Reads and writes whole files; aborts on failure (the harness' own I/O).
std::string ReadFileOrDie(const std::string& path);
void WriteFileOrDie(const std::string& path, std::string_view bytes);

// A property of the code under test does not hold: prints and aborts, so
// that the fuzzer records the input as a crash.
[[noreturn]] void FuzzFail(const std::string& what);

}  // namespace raftlog::fuzz
