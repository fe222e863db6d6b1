// zstd compression of frame payloads. The only file that includes <zstd.h>
// (in its .cc).
//
// Measured on our 2-vCPU test machines: zstd level 1 compresses log
// entries at 0.24-0.6 GB/s per core, below the disk's durable bandwidth, and
// per-entry compression of small entries is useless. So frames are compressed
// only when the payload is large enough and the saving is worth it; the engine
// decides when (see CompressionOptions).
//
// Thread-compatible: one Compressor/Decompressor per thread; they keep their
// zstd context between calls to avoid re-allocating it.

#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "raftlog/format/status.h"

namespace raftlog::format {

struct CompressionOptions {
  // Off by default: see docs/benchmarks.md for the measured trade-off.
  bool enabled = false;
  // zstd level; 1 is the fastest standard level. Negative levels are zstd's
  // "fast" levels.
  int level = 1;
  // Payloads smaller than this are stored as they are.
  size_t min_payload_bytes = 4096;
  // Keep the compressed form only if it saves at least this fraction
  // (0.10 = 10%) of the raw bytes.
  double min_saving = 0.10;
};

class Compressor {
 public:
  Compressor();
  ~Compressor();
  Compressor(const Compressor&) = delete;
  Compressor& operator=(const Compressor&) = delete;

  // Compresses `raw` as one zstd frame (declaring its content size, without
  // zstd's own checksum) into *out (replacing its contents).
  // Returns false (leaving *out unspecified) if !options.enabled, if raw is
  // empty or below options.min_payload_bytes, or if the result would not save
  // at least options.min_saving (compressed size <= raw size x (1 -
  // min_saving)): the caller then stores raw. zstd is given an output buffer
  // of exactly that budget, so an incompressible payload costs at most one
  // compression attempt and no larger buffer. Never fails otherwise.
  bool MaybeCompress(std::string_view raw, const CompressionOptions& options, std::string* out);

 private:
  struct Context;
  std::unique_ptr<Context> ctx_;
};

class Decompressor {
 public:
  Decompressor();
  ~Decompressor();
  Decompressor(const Decompressor&) = delete;
  Decompressor& operator=(const Decompressor&) = delete;

  // Decompresses `compressed` (exactly one zstd frame, nothing after it) into
  // *out, which must come out exactly `raw_bytes` long. Never allocates more
  // than raw_bytes, so a "decompression bomb" (a small input claiming or
  // producing a huge output) fails with Corruption instead of exhausting
  // memory: raw_bytes is checked against max_raw_bytes and the frame's
  // declared content size (if any) against raw_bytes before *out is sized, and
  // zstd decodes into exactly raw_bytes of room.
  // Returns Corruption naming `what` if the input is not valid zstd, is
  // followed by trailing bytes, decodes to a different size, or raw_bytes
  // exceeds max_raw_bytes. On error *out is unspecified.
  Status Decompress(std::string_view compressed, size_t raw_bytes, std::string* out,
                    std::string_view what, size_t max_raw_bytes);

 private:
  struct Context;
  std::unique_ptr<Context> ctx_;
};

}  // namespace raftlog::format
