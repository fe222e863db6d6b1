// Encodings of the metadata values the engine keeps in LMDB: HardState,
// ConfState, snapshot metadata and the segment manifest. Raft-agnostic plain
// structs (the raft adapter converts from raftlog/raft/types.h).
//
// Every record starts with a version byte. Version 2 (what encoders write)
// ends with the XXH3-64 of every byte before it, seeded per record type:
// LMDB 0.9 has no page checksums, so a damaged byte of meta.mdb would
// otherwise be served as a different value. Version 1 (no checksum) is still
// read, so that logs of earlier versions open; the engine and DiskStorage
// rewrite such values in version 2 at a writable open. ConfState is only
// stored inside other records (and snapshot files), which check it; it stays
// version 1. Decoders reject newer versions
// with NotSupported, and version 0, trailing bytes, truncation, malformed
// varints, out-of-range enum/bool bytes and a checksum mismatch with
// Corruption naming the record and field. They never allocate from an unchecked count (a list
// length is checked against the bytes that remain first). The byte layouts are in docs/format.md
// ("LMDB metadata records"); integers are LEB128 varints. The engine adds the LMDB key to error
// messages (Status::WithContext).
//
// Thread-compatible.

#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "raftlog/format/layout.h"
#include "raftlog/format/result.h"
#include "raftlog/format/segment_footer.h"

namespace raftlog::format {

// What encoders write; also the newest version decoders read.
inline constexpr uint8_t kMetaRecordVersion = 2;
// The first version with a checksum.
inline constexpr uint8_t kChecksummedMetaRecordVersion = 2;
inline constexpr uint8_t kConfStateVersion = 1;

// Checksum seeds: the ASCII bytes of a tag, big-endian (docs/format.md §10).
inline constexpr uint64_t kHardStateSeed = 0x73746174652f6861;      // "state/ha"
inline constexpr uint64_t kSnapshotMetaSeed = 0x73746174652f736e;   // "state/sn"
inline constexpr uint64_t kSegmentRecordSeed = 0x7365672f00000000;  // "seg/" and 4 zero bytes
inline constexpr uint64_t kLogStartSeed = 0x6c6f672f73746172;       // "log/star"

// True if `bytes` is a record of a version without a checksum (to be
// rewritten by a writer); false for version 2 and for bytes that are no record.
bool IsOldMetaEncoding(std::string_view bytes);

struct HardStateRecord {
  uint64_t term = 0;
  uint64_t vote = 0;
  uint64_t commit = 0;
  friend bool operator==(const HardStateRecord&, const HardStateRecord&) = default;
};
// version, term, vote, commit, checksum.
std::string EncodeHardState(const HardStateRecord& hs);
Result<HardStateRecord> DecodeHardState(std::string_view bytes);

struct ConfStateRecord {
  std::vector<uint64_t> voters;
  std::vector<uint64_t> learners;
  std::vector<uint64_t> voters_outgoing;
  std::vector<uint64_t> learners_next;
  bool auto_leave = false;
  friend bool operator==(const ConfStateRecord&, const ConfStateRecord&) = default;
};
// version, then voters, learners, voters_outgoing, learners_next (each a
// varint count and that many varint ids), then auto_leave (one byte, 0 or 1).
std::string EncodeConfState(const ConfStateRecord& cs);
Result<ConfStateRecord> DecodeConfState(std::string_view bytes);

// Metadata of the latest snapshot; the data itself lives in a snapshot file.
struct SnapshotMetaRecord {
  uint64_t index = 0;
  uint64_t term = 0;
  ConfStateRecord conf_state;
  std::string file_name;  // in the log's snapshot directory; empty if no data file
  uint64_t data_bytes = 0;
  friend bool operator==(const SnapshotMetaRecord&, const SnapshotMetaRecord&) = default;
};
// version, index, term, the ConfState record (length-prefixed, with its own
// version byte), file_name (length-prefixed), data_bytes, checksum.
std::string EncodeSnapshotMeta(const SnapshotMetaRecord& meta);
Result<SnapshotMetaRecord> DecodeSnapshotMeta(std::string_view bytes);

enum class SegmentState : uint8_t {
  kActive = 1,  // being appended to; its end is found by scanning
  kSealed = 2,  // has a footer; last_index and footer_offset are final
};

// How a sealed segment's file was written.
enum class SegmentForm : uint8_t {
  kRaw = 0,         // as the writer appended it: <id>.seg
  kCompressed = 1,  // rewritten with zstd-compressed frames: <id>-<generation>.zseg
};

// The version a SegmentRecord of a compressed segment is written in (fields
// 9 and 10 of docs/format.md §10: form and raw file bytes). Records of raw segments stay version 2,
// so a log that was never compressed is still read by earlier versions, and
// one that was is refused by them with NotSupported (they would look for the
// wrong file).
inline constexpr uint8_t kCompressedSegmentRecordVersion = 3;

// One entry of the segment manifest: LMDB's list of live segments is the
// source of truth; segment files not listed are removed on open.
struct SegmentRecord {
  uint64_t segment_id = 0;
  uint64_t base_index = 0;
  uint64_t generation = 0;
  SegmentState state = SegmentState::kActive;
  uint64_t last_index = 0;     // sealed only
  uint64_t footer_offset = 0;  // sealed only
  uint64_t file_bytes = 0;     // sealed only: the file's size after sealing
  // Sealed only: the terms of [base_index, last_index] as runs, so that a log
  // opens without reading its sealed segments' footers.
  std::vector<TermRun> term_runs;
  // Sealed only: kCompressed once LogEngine::CompressSegment rewrote the file
  // (its generation is then the rewrite's, and raw_file_bytes the size of the
  // raw file it replaced, for the ratio).
  SegmentForm form = SegmentForm::kRaw;
  uint64_t raw_file_bytes = 0;
  bool compressed() const { return form == SegmentForm::kCompressed; }
  friend bool operator==(const SegmentRecord&, const SegmentRecord&) = default;
};
// version, segment_id, base_index, generation, state (one byte), last_index,
// footer_offset, file_bytes, term runs (optional in version 1), then in
// version 3 only (compressed segments) form (one byte, 1) and raw_file_bytes,
// then the checksum. Decoding rejects an unknown state or form, and a
// compressed record that is not sealed; it does not interpret the
// sealed-only fields of an active record (the engine may keep a hint there).
std::string EncodeSegmentRecord(const SegmentRecord& record);
Result<SegmentRecord> DecodeSegmentRecord(std::string_view bytes);

// The name of the file a record describes, in the segments directory:
// "<id>.seg", or "<id>-<generation>.zseg" for a compressed segment.
std::string SegmentRecordFileName(const SegmentRecord& record);
// "segments/" and that name: how the tool names the file in its findings.
std::string SegmentRecordRelPath(const SegmentRecord& record);

// The value of the "format" key: the log's format version
// (record_format.h's kLogFormatVersion), a u16 little-endian. Decoding is
// Corruption unless it is 2 bytes holding a version from 1 on, and
// NotSupported for a version above kLogFormatVersion (a newer writer's).
// The engine's open and the raftlog tool both decode it here.
std::string EncodeFormatVersion(uint16_t version);
Result<uint16_t> DecodeFormatVersion(std::string_view bytes);

// log/start: the log's first index and the term of the entry before it.
struct LogStartRecord {
  uint64_t first_index = 1;
  uint64_t prev_term = 0;
  friend bool operator==(const LogStartRecord&, const LogStartRecord&) = default;
};
// version, first_index, prev_term, checksum. A first index of 0 is Corruption.
std::string EncodeLogStart(const LogStartRecord& start);
Result<LogStartRecord> DecodeLogStart(std::string_view bytes);

// A counter kept under `key` (log/next_segment_id, log/generation): version,
// value (varint), checksum seeded with CounterSeed(key). Version 1 was the
// bare value, a u64 little-endian (8 bytes; a version 2 record is never 8
// bytes long).
std::string EncodeCounter(std::string_view key, uint64_t value);
Result<uint64_t> DecodeCounter(std::string_view key, std::string_view bytes);
uint64_t CounterSeed(std::string_view key);
bool IsOldCounterEncoding(std::string_view bytes);

// The LMDB key of the durable-progress record, as every key: format/layout.h.
using layout::kDurableKey;

// How much of the active segment is known durable (synced), written with
// every LMDB transaction the engine commits and by a clean Close(). On open,
// the frames of that segment up to `durable_offset` must all be present and
// valid: they hold acknowledged entries, so damage there is corruption, not
// a torn write, whatever the recovery policy. segment_id 0 (no segment has
// id 0) says no active segment had durable frames at that commit.
struct DurableRecord {
  uint64_t segment_id = 0;
  uint64_t generation = 0;
  // The end of the last frame known synced; 0 if none (the check is void).
  uint64_t durable_offset = 0;
  // The index of the last entry in the frames before durable_offset.
  uint64_t last_index = 0;
  friend bool operator==(const DurableRecord&, const DurableRecord&) = default;
};
// version (2), segment_id, generation, durable_offset, last_index, then the
// u64 little-endian XXH3-64 of every byte before it (seed kDurableRecordSeed).
// There is no version 1 of this record; the checksum is verified before any
// field is read (a mismatch is Corruption).
inline constexpr uint8_t kDurableRecordVersion = 2;
inline constexpr uint64_t kDurableRecordSeed = 0x6c6f672f64757261;  // "log/dura"
std::string EncodeDurableRecord(const DurableRecord& record);
Result<DurableRecord> DecodeDurableRecord(std::string_view bytes);

}  // namespace raftlog::format
