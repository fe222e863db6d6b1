// Segment: one segment file of the log, mapped for reads, with its frame index.
//
// A segment holds entries [base_index, last_index] in frames (see
// raftlog/format/record_format.h). Its frame index lists, per frame, the byte offset
// and the frame's first index relative to base_index (8 bytes per frame):
//   - an *active* segment (the one being appended to) keeps that index in a
//     vector on the heap, grown by the writer as it publishes frames;
//   - a *sealed* segment reads it in place from its mmapped footer, so sealed
//     data costs no heap per entry.
// last_index may be below the last entry physically present: after a
// truncation the manifest caps it, and bytes beyond it are dead.
//
// Thread-safety: a Segment is owned by LogEngine and guarded by the engine's
// index lock (readers hold it shared, the writer exclusively to publish);
// reads of mapped frame bytes need no further lock. Frame verification bits
// are atomics, so concurrent readers may verify the same frame.
//
// Lifetime of the mapping: the Segment holds its mapping through a Bytes
// (mapped()) whose shared owner unmaps in its destructor. Entry payloads
// handed to callers are slices of it, so the mapping outlives the Segment
// (compaction, truncation, Close) for as long as any of them lives. The
// bytes a slice views never change either: the engine writes a segment
// file only past the frames it has published (new frames, a footer and
// trailer at the write offset), a suffix truncation writes its new entries
// into a new segment file, and a seal's ftruncate keeps every published
// frame (see Seal()).

#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "raftlog/format/bytes.h"
#include "raftlog/format/layout.h"
#include "raftlog/format/meta_records.h"
#include "raftlog/format/record.h"
#include "raftlog/format/result.h"
#include "raftlog/format/segment_footer.h"
#include "raftlog/io/file_system.h"
#include "raftlog/port/mutex.h"

namespace raftlog::engine::internal {

// Segment file names: format/layout.h.
using format::layout::ParseSegmentFileName;
using format::layout::SegmentFileName;

// The frame table of an active segment: FrameRefs in fixed-size chunks, so
// that growing it never copies or moves existing entries (no 2x peak of a
// doubling vector; at most one partly used chunk of slack).
class FrameTable {
 public:
  size_t size() const { return size_; }
  format::FrameRef operator[](size_t k) const { return chunks_[k / kChunk][k % kChunk]; }
  void push_back(format::FrameRef ref) {
    if (size_ % kChunk == 0) chunks_.push_back(std::make_unique<format::FrameRef[]>(kChunk));
    chunks_[size_ / kChunk][size_ % kChunk] = ref;
    ++size_;
  }
  void clear() {
    chunks_.clear();
    chunks_.shrink_to_fit();
    size_ = 0;
  }
  size_t heap_bytes() const {
    return chunks_.size() * kChunk * sizeof(format::FrameRef) +
           chunks_.capacity() * sizeof(chunks_[0]);
  }

 private:
  static constexpr size_t kChunk = 1024;  // 8 KiB per chunk
  std::vector<std::unique_ptr<format::FrameRef[]>> chunks_;
  size_t size_ = 0;
};

class Segment {
 public:
  // An active segment over an open, mapped file.
  // REQUIRES: mapping covers the whole file as preallocated.
  static std::unique_ptr<Segment> NewActive(const format::SegmentRecord& record,
                                            std::shared_ptr<io::File> file,
                                            std::unique_ptr<io::MappedRegion> mapping,
                                            std::string file_name);

  // A sealed segment known from its manifest entry. Its file is opened,
  // mapped and its footer checked on first use (EnsureOpen), so opening a
  // log costs nothing per sealed segment. `fs` must outlive the segment.
  static std::unique_ptr<Segment> NewSealedLazy(const format::SegmentRecord& record,
                                                io::FileSystem* fs, std::string path,
                                                std::string file_name, bool read_only);

  uint64_t id() const { return record_.segment_id; }
  uint64_t base_index() const { return record_.base_index; }
  uint64_t generation() const { return record_.generation; }
  uint64_t seed() const { return seed_; }
  bool sealed() const { return record_.state == format::SegmentState::kSealed; }
  const std::string& file_name() const { return file_name_; }
  const format::SegmentRecord& record() const { return record_; }

  // The last index this segment serves (base_index - 1 when empty).
  uint64_t last_index() const { return record_.last_index; }
  bool empty() const { return last_index() < base_index(); }
  bool Contains(uint64_t index) const { return index >= base_index() && index <= last_index(); }

  // Opens a lazily opened sealed segment: the file, its mapping, header,
  // trailer and footer, all checked against the manifest entry. Returns
  // Corruption (naming the file and offset) or IOError; the same error
  // again on every later call. OK at once if already open. Thread-safe.
  Status EnsureOpen() const;

  // REQUIRES for the rest: the segment is open (active, or EnsureOpen() OK).
  const std::shared_ptr<io::File>& file() const { return file_; }
  std::string_view bytes() const { return mapped_.view(); }
  // The mapped bytes as a Bytes: a Slice() of it keeps the mapping alive
  // after this Segment is gone (see "Lifetime of the mapping" above).
  const Bytes& mapped() const { return mapped_; }
  // Watches the mapping's lifetime: once this Segment is destroyed, the
  // watch has expired exactly when no payload sliced from the mapping is
  // alive, so the file may be overwritten (recycled). Expired already if the
  // segment was never mapped (a lazily opened sealed segment never read).
  std::weak_ptr<const void> mapping_watch() const { return mapping_watch_; }
  uint32_t frame_count() const;
  format::FrameRef frame(uint32_t k) const;
  // The frame holding `index`. REQUIRES: Contains(index).
  uint32_t FindFrame(uint64_t index) const;
  // The footer's term runs (sealed and open only).
  const format::FooterView& footer() const { return *footer_; }

  // Decodes frame k's header from the mapping; verifies its checksum (header
  // and payload) the first time the frame is read and remembers that it did.
  // Returns Corruption naming the file and offset if the bytes are bad.
  Result<format::FrameView> ReadFrame(uint32_t k) const;

  // --- writer side (the engine holds its index lock exclusively) ----------

  // Appends published frames to an active segment and moves last_index.
  // Frames written by the engine itself are known good: marked verified.
  void PublishFrames(const std::vector<format::FrameRef>& frames, uint64_t new_last_index);

  // Lowers last_index (a suffix truncation inside this segment), and drops
  // the term runs that start beyond it.
  // REQUIRES: new_last_index + 1 >= base_index.
  void CapLastIndex(uint64_t new_last_index);

  // Turns an active segment into a sealed one whose index is `footer` (which
  // views this segment's mapping) and frees the heap index. The file is then
  // file_bytes long (the seal's ftruncate): mapped() is narrowed to them, so
  // no later slice can reach a page past the end (SIGBUS). Earlier slices
  // lie below footer_offset, inside the file, and stay valid.
  void Seal(format::FooterView footer, uint64_t footer_offset, uint64_t file_bytes,
            std::vector<format::TermRun> term_runs);

  // Heap bytes used by the frame index (0 when sealed).
  size_t IndexHeapBytes() const;

 private:
  Segment(const format::SegmentRecord& record, std::string file_name);
  // Takes `mapping` over as mapped_'s shared owner.
  void AdoptMapping(std::unique_ptr<io::MappedRegion> mapping) const;
  Status OpenSealed() const;
  void ResizeVerified(uint32_t frames) const;
  std::string Where(uint64_t offset) const;

  format::SegmentRecord record_;
  const uint64_t seed_;
  const std::string file_name_;

  // Set at construction (active) or by the first EnsureOpen (lazy sealed),
  // then never changed: readers see them after open_done_ (acquire).
  mutable std::shared_ptr<io::File> file_;
  // The whole mapping (the used part of it once sealed); its owner is the
  // io::MappedRegion, shared with every payload sliced from it.
  mutable Bytes mapped_;
  mutable std::weak_ptr<const void> mapping_watch_;
  // Exactly one of these is the index: frames_ while active, footer_ once sealed.
  FrameTable frames_;
  mutable std::optional<format::FooterView> footer_;

  // Lazy opening (sealed segments found on open).
  io::FileSystem* fs_ = nullptr;
  std::string path_;
  bool read_only_ = false;
  mutable port::Mutex open_mu_;
  mutable Status open_error_ GUARDED_BY(open_mu_);
  mutable std::atomic<bool> open_done_{false};

  // One bit per frame: its checksum was verified (or we wrote it). A reader
  // verifies a sealed frame once; relaxed order suffices because verifying
  // twice is harmless and the bit guards no other data.
  mutable std::unique_ptr<std::atomic<uint64_t>[]> verified_;
  mutable uint32_t verified_words_ = 0;
};

}  // namespace raftlog::engine::internal
