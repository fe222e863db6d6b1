#include "raftlog/format/compression.h"

#include <zstd.h>
#include <zstd_errors.h>

#include <string>

#include "raftlog/format/coding.h"

namespace raftlog::format {

struct Compressor::Context {
  ZSTD_CCtx* cctx = nullptr;
  bool configured = false;  // cctx's parameters are set, for `level`
  int level = 0;
  ~Context() { ZSTD_freeCCtx(cctx); }
};

Compressor::Compressor() : ctx_(std::make_unique<Context>()) {}
Compressor::~Compressor() = default;

bool Compressor::MaybeCompress(std::string_view raw, const CompressionOptions& options,
                               std::string* out) {
  if (!options.enabled || raw.empty() || raw.size() < options.min_payload_bytes) return false;
  // The largest compressed size worth keeping. Compressing into a buffer of
  // exactly that capacity lets zstd give up (dstSize_tooSmall) as soon as the
  // output would be too large, instead of producing it and throwing it away.
  const double saving = options.min_saving > 0 ? options.min_saving : 0;  // NaN counts as 0
  if (saving >= 1) return false;
  const auto limit = static_cast<size_t>(static_cast<double>(raw.size()) * (1.0 - saving));
  if (limit == 0) return false;

  // The context is created lazily (most frames are never compressed) and kept:
  // ZSTD_CCtx holds several hundred KiB of tables.
  if (ctx_->cctx == nullptr) {
    ctx_->cctx = ZSTD_createCCtx();
    RAFTLOG_CHECK_MSG(ctx_->cctx != nullptr, "ZSTD_createCCtx failed (out of memory)");
  }
  if (!ctx_->configured || ctx_->level != options.level) {
    ZSTD_CCtx_reset(ctx_->cctx, ZSTD_reset_session_and_parameters);
    ZSTD_CCtx_setParameter(ctx_->cctx, ZSTD_c_compressionLevel, options.level);
    // The frame declares its content size (readers check it against the frame
    // header's raw bytes) and carries no zstd checksum: the frame checksum
    // already covers the stored bytes.
    ZSTD_CCtx_setParameter(ctx_->cctx, ZSTD_c_contentSizeFlag, 1);
    ZSTD_CCtx_setParameter(ctx_->cctx, ZSTD_c_checksumFlag, 0);
    ctx_->level = options.level;
    ctx_->configured = true;
  }

  // Growing the string zero-fills only the part beyond its old size; in the
  // steady state the buffer is already large enough and this costs nothing.
  if (out->size() < limit) out->resize(limit);
  const size_t n = ZSTD_compress2(ctx_->cctx, out->data(), limit, raw.data(), raw.size());
  if (ZSTD_isError(n)) {
    // dstSize_tooSmall means "would not save enough"; any other error leaves
    // the session in an unknown state, so start over next time. Either way the
    // caller stores the raw bytes, which is always correct.
    if (ZSTD_getErrorCode(n) != ZSTD_error_dstSize_tooSmall) ctx_->configured = false;
    ZSTD_CCtx_reset(ctx_->cctx, ZSTD_reset_session_only);
    return false;
  }
  out->resize(n);
  return true;
}

struct Decompressor::Context {
  ZSTD_DCtx* dctx = nullptr;
  ~Context() { ZSTD_freeDCtx(dctx); }
};

Decompressor::Decompressor() : ctx_(std::make_unique<Context>()) {}
Decompressor::~Decompressor() = default;

namespace {

Status DecompressError(std::string_view what, std::string_view problem) {
  std::string msg(what);
  msg += ": ";
  msg += problem;
  return Status::Corruption(msg);
}

}  // namespace

Status Decompressor::Decompress(std::string_view compressed, size_t raw_bytes, std::string* out,
                                std::string_view what, size_t max_raw_bytes) {
  // Everything below is checked before any allocation sized by the input.
  if (raw_bytes > max_raw_bytes) {
    return DecompressError(what, "raw size " + std::to_string(raw_bytes) +
                                     " exceeds the limit of " + std::to_string(max_raw_bytes));
  }
  if (compressed.size() < 4 || DecodeFixed32(compressed.data()) != ZSTD_MAGICNUMBER) {
    return DecompressError(what, "compressed payload is not a zstd frame (bad zstd magic)");
  }
  const unsigned long long declared =
      ZSTD_getFrameContentSize(compressed.data(), compressed.size());
  if (declared == ZSTD_CONTENTSIZE_ERROR) {
    return DecompressError(what, "compressed payload has an invalid zstd frame header");
  }
  // Our writer always declares the content size; a frame without one is
  // accepted, and is still bounded by the output capacity below.
  if (declared != ZSTD_CONTENTSIZE_UNKNOWN && declared != raw_bytes) {
    return DecompressError(what, "zstd frame declares " + std::to_string(declared) +
                                     " content bytes, but the frame header says " +
                                     std::to_string(raw_bytes));
  }
  // ZSTD_decompressDCtx would decode concatenated frames one after another;
  // the format allows exactly one.
  const size_t frame_size = ZSTD_findFrameCompressedSize(compressed.data(), compressed.size());
  if (ZSTD_isError(frame_size)) {
    return DecompressError(what,
                           std::string("corrupt zstd frame: ") + ZSTD_getErrorName(frame_size));
  }
  if (frame_size != compressed.size()) {
    return DecompressError(what, std::to_string(compressed.size() - frame_size) +
                                     " trailing bytes after the zstd frame");
  }

  if (ctx_->dctx == nullptr) {
    ctx_->dctx = ZSTD_createDCtx();
    RAFTLOG_CHECK_MSG(ctx_->dctx != nullptr, "ZSTD_createDCtx failed (out of memory)");
  }
  out->resize(raw_bytes);
  // The output capacity is exactly raw_bytes: a frame that would expand
  // further fails with dstSize_tooSmall instead of writing or allocating more.
  const size_t n =
      ZSTD_decompressDCtx(ctx_->dctx, out->data(), raw_bytes, compressed.data(), compressed.size());
  if (ZSTD_isError(n)) {
    ZSTD_DCtx_reset(ctx_->dctx, ZSTD_reset_session_only);
    if (ZSTD_getErrorCode(n) == ZSTD_error_dstSize_tooSmall) {
      return DecompressError(what, "zstd frame expands beyond the declared raw size of " +
                                       std::to_string(raw_bytes) + " bytes");
    }
    return DecompressError(what, std::string("corrupt zstd data: ") + ZSTD_getErrorName(n));
  }
  if (n != raw_bytes) {
    return DecompressError(what, "zstd frame decompressed to " + std::to_string(n) +
                                     " bytes, but the frame header says " +
                                     std::to_string(raw_bytes));
  }
  return Status::OK();
}

}  // namespace raftlog::format
