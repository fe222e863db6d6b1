// Fuzz target: the frame decoder and everything format/ decodes from a
// segment's bytes, on arbitrary input. Properties: nothing reads out of
// bounds, allocates from an unchecked length or aborts; a frame that decodes
// has sizes that add up; a footer payload that parses encodes back to itself;
// the checked and the "already verified" decoders agree on valid frames.
//
// Input: one control byte, then the bytes to decode.
//   bit 0     recompute the checksum of the first frame (so the fuzzer gets
//             past it to the checks behind it); bit 1 does the same for every
//             frame of a segment walk (the bytes are then a segment file)
//   bits 2-7  the segment id of the seed (generation 1)

#include <cstddef>
#include <cstdint>
#include <string>

#include "raftlog/format/compression.h"
#include "raftlog/format/record.h"
#include "raftlog/format/record_format.h"
#include "raftlog/format/segment_footer.h"
#include "raftlog/format/segment_header.h"
#include "fuzz/fuzz_util.h"

namespace raftlog::fuzz {
namespace {

void CheckFooter(std::string_view payload) {
  auto footer = format::FooterView::Parse(payload, "fuzz footer");
  if (!footer.ok()) return;
  const format::FooterContents contents = footer->ToContents();
  for (uint32_t k = 0; k < footer->frame_count(); ++k) {
    const format::FrameRef ref = footer->frame(k);
    if (footer->FindFrame(ref.index_delta) != k)
      FuzzFail("FindFrame misses frame " + std::to_string(k));
  }
  // What parses must encode back to the same bytes.
  if (format::EncodeFooterPayload(contents) != payload) FuzzFail("footer does not round-trip");
}

void DecodeOne(std::string_view bytes, uint64_t seed) {
  format::FrameError error = format::FrameError::kNone;
  auto frame = format::DecodeFrame(bytes, seed, "fuzz", &error);
  auto verified = format::DecodeVerifiedFrame(bytes, "fuzz");
  if (!frame.ok()) {
    if (error == format::FrameError::kNone) FuzzFail("failure without a FrameError");
    return;
  }
  if (error != format::FrameError::kNone) FuzzFail("success with a FrameError");
  if (!verified.ok())
    FuzzFail("a valid frame fails DecodeVerifiedFrame: " + verified.status().ToString());
  if (frame->frame_bytes != format::FrameBytes(frame->header.stored_bytes) ||
      frame->frame_bytes > bytes.size() || frame->payload.size() != frame->header.stored_bytes) {
    FuzzFail("frame sizes do not add up");
  }
  if (verified->frame_bytes != frame->frame_bytes) FuzzFail("the decoders disagree");
  if (frame->header.type == format::FrameType::kFooter) {
    CheckFooter(frame->payload);
    return;
  }
  format::Decompressor decompressor;
  std::string scratch;
  auto raw = format::RawPayload(*frame, &decompressor, &scratch, "fuzz");
  if (!raw.ok()) return;
  if (raw->size() != frame->header.raw_bytes) FuzzFail("raw payload size differs from the header");
  auto entries = format::EntriesPayload::Parse(*raw, frame->header.entry_count, "fuzz");
  if (!entries.ok()) return;
  if (entries->size() != frame->header.entry_count) FuzzFail("entry count differs");
  size_t total = 0;
  for (uint32_t k = 0; k < entries->size(); ++k) {
    (void)entries->type(k);
    total += entries->data(k).size();
  }
  if (total + 5ull * entries->size() != raw->size()) FuzzFail("entry sizes do not add up");
}

}  // namespace
}  // namespace raftlog::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace raftlog;
  fuzz::FuzzInput in(data, size);
  const uint8_t control = in.Byte();
  std::string bytes(in.Rest());
  const uint64_t seed = format::FrameSeed(control >> 2, 1);
  if (control & 1) fuzz::FixFrameChecksum(&bytes, 0, seed);
  if (control & 2) fuzz::FixSegmentChecksums(&bytes, seed);

  fuzz::DecodeOne(bytes, seed);
  (void)format::DecodeSegmentHeader(bytes, "fuzz");
  if (bytes.size() >= format::kTrailerBytes) {
    (void)format::DecodeTrailer(
        std::string_view(bytes).substr(bytes.size() - format::kTrailerBytes), seed, bytes.size(),
        "fuzz");
  }
  // As a segment: walk the frames after the header (and from the start).
  for (size_t start : {size_t{0}, format::kSegmentHeaderBytes}) {
    if (start > bytes.size()) break;
    format::FrameIterator it(bytes, start, seed, "fuzz");
    uint64_t last_end = start;
    while (it.Next()) {
      if (it.offset() < last_end) fuzz::FuzzFail("the iterator went backwards");
      last_end = it.offset() + it.frame().frame_bytes;
      fuzz::DecodeOne(std::string_view(bytes).substr(it.offset()), seed);
    }
    if (it.error() == format::FrameError::kNone) fuzz::FuzzFail("iteration ended without a reason");
  }
  return 0;
}
