#include "raftlog/format/meta_records.h"

#include <string>

#include "raftlog/format/checksum.h"
#include "raftlog/format/coding.h"
#include "raftlog/format/record_format.h"

namespace raftlog::format {

std::string EncodeFormatVersion(uint16_t version) {
  std::string out;
  PutFixed16(&out, version);
  return out;
}

Result<uint16_t> DecodeFormatVersion(std::string_view bytes) {
  if (bytes.size() != 2) {
    return Status::Corruption("format record has " + std::to_string(bytes.size()) +
                              " bytes, expected 2");
  }
  const uint16_t version = DecodeFixed16(bytes.data());
  if (version == 0) return Status::Corruption("format version 0 (versions start at 1)");
  if (version > kLogFormatVersion) {
    return Status::NotSupported("format version " + std::to_string(version) +
                                "; this build reads versions 1 to " +
                                std::to_string(kLogFormatVersion));
  }
  return version;
}

namespace {

// Reads and checks the leading version byte of a record called `what`
// (`newest`: the newest version this reader knows).
Status ReadVersion(ByteReader* r, std::string_view what, uint8_t* version = nullptr,
                   uint8_t newest = kMetaRecordVersion) {
  uint8_t v = 0;
  RAFTLOG_RETURN_IF_ERROR(r->ReadFixed8("version", &v));
  if (v > newest) {
    return Status::NotSupported(std::string(what) + ": version " + std::to_string(v) +
                                " is newer than the newest supported (" + std::to_string(newest) +
                                ")");
  }
  if (v == 0) return r->Error("version", "is 0, which no writer uses");
  if (version != nullptr) *version = v;
  return Status::OK();
}

// Version 2 records end with the XXH3-64 of every byte before it.
void PutChecksum(std::string* out, uint64_t seed) { PutFixed64(out, Checksum64(*out, seed)); }

// After the fields of a record of `version`: in version 2, the checksum
// (over bytes[0, where it starts)) and then the end; in version 1, the end.
// Fields are parsed before the checksum is checked so that a malformed
// record is reported by its field; either way nothing of a record that fails
// here is used.
Status FinishRecord(ByteReader* r, std::string_view bytes, uint8_t version, uint64_t seed,
                    std::string_view what) {
  if (version >= kChecksummedMetaRecordVersion) {
    const size_t at = r->offset();
    uint64_t stored = 0;
    RAFTLOG_RETURN_IF_ERROR(r->ReadFixed64("checksum", &stored));
    RAFTLOG_RETURN_IF_ERROR(r->ExpectEnd());
    const uint64_t actual = Checksum64(bytes.substr(0, at), seed);
    if (stored != actual) {
      return Status::Corruption(std::string(what) + ": checksum mismatch (stored " +
                                std::to_string(stored) + ", computed " + std::to_string(actual) +
                                "): the value was damaged");
    }
    return Status::OK();
  }
  return r->ExpectEnd();
}

void PutIdList(std::string* out, const std::vector<uint64_t>& ids) {
  PutVarint64(out, ids.size());
  for (uint64_t id : ids) PutVarint64(out, id);
}

Status ReadIdList(ByteReader* r, std::string_view field, std::vector<uint64_t>* ids) {
  uint64_t count = 0;
  RAFTLOG_RETURN_IF_ERROR(r->ReadVarint64(field, &count));
  // Each id takes at least one byte: a count above the bytes that remain is
  // corrupt, and must not size the vector.
  if (count > r->remaining()) {
    return r->Error(field, "count " + std::to_string(count) + " exceeds the " +
                               std::to_string(r->remaining()) + " bytes that remain");
  }
  ids->clear();
  ids->reserve(count);
  for (uint64_t k = 0; k < count; ++k) {
    uint64_t id = 0;
    RAFTLOG_RETURN_IF_ERROR(r->ReadVarint64(field, &id));
    ids->push_back(id);
  }
  return Status::OK();
}

Status ReadBool(ByteReader* r, std::string_view field, bool* out) {
  uint8_t b = 0;
  RAFTLOG_RETURN_IF_ERROR(r->ReadFixed8(field, &b));
  if (b > 1) return r->Error(field, "is " + std::to_string(b) + ", not 0 or 1");
  *out = b == 1;
  return Status::OK();
}

constexpr std::string_view kHardStateWhat = "HardState record";
constexpr std::string_view kConfStateWhat = "ConfState record";
constexpr std::string_view kSnapshotMetaWhat = "SnapshotMeta record";
constexpr std::string_view kSegmentRecordWhat = "SegmentRecord";
constexpr std::string_view kLogStartWhat = "log/start record";
constexpr std::string_view kDurableRecordWhat = "durable-progress record (log/durable)";

}  // namespace

std::string EncodeHardState(const HardStateRecord& hs) {
  std::string out;
  out.push_back(static_cast<char>(kMetaRecordVersion));
  PutVarint64(&out, hs.term);
  PutVarint64(&out, hs.vote);
  PutVarint64(&out, hs.commit);
  PutChecksum(&out, kHardStateSeed);
  return out;
}

Result<HardStateRecord> DecodeHardState(std::string_view bytes) {
  ByteReader r(bytes, kHardStateWhat);
  uint8_t version = 0;
  RAFTLOG_RETURN_IF_ERROR(ReadVersion(&r, kHardStateWhat, &version));
  HardStateRecord hs;
  RAFTLOG_RETURN_IF_ERROR(r.ReadVarint64("term", &hs.term));
  RAFTLOG_RETURN_IF_ERROR(r.ReadVarint64("vote", &hs.vote));
  RAFTLOG_RETURN_IF_ERROR(r.ReadVarint64("commit", &hs.commit));
  RAFTLOG_RETURN_IF_ERROR(FinishRecord(&r, bytes, version, kHardStateSeed, kHardStateWhat));
  return hs;
}

std::string EncodeConfState(const ConfStateRecord& cs) {
  std::string out;
  out.push_back(static_cast<char>(kConfStateVersion));
  PutIdList(&out, cs.voters);
  PutIdList(&out, cs.learners);
  PutIdList(&out, cs.voters_outgoing);
  PutIdList(&out, cs.learners_next);
  out.push_back(cs.auto_leave ? 1 : 0);
  return out;
}

namespace {

Status DecodeConfStateInto(std::string_view bytes, std::string_view what, ConfStateRecord* cs) {
  ByteReader r(bytes, what);
  RAFTLOG_RETURN_IF_ERROR(ReadVersion(&r, what, nullptr, kConfStateVersion));
  RAFTLOG_RETURN_IF_ERROR(ReadIdList(&r, "voters", &cs->voters));
  RAFTLOG_RETURN_IF_ERROR(ReadIdList(&r, "learners", &cs->learners));
  RAFTLOG_RETURN_IF_ERROR(ReadIdList(&r, "voters_outgoing", &cs->voters_outgoing));
  RAFTLOG_RETURN_IF_ERROR(ReadIdList(&r, "learners_next", &cs->learners_next));
  RAFTLOG_RETURN_IF_ERROR(ReadBool(&r, "auto_leave", &cs->auto_leave));
  return r.ExpectEnd();
}

}  // namespace

Result<ConfStateRecord> DecodeConfState(std::string_view bytes) {
  ConfStateRecord cs;
  RAFTLOG_RETURN_IF_ERROR(DecodeConfStateInto(bytes, kConfStateWhat, &cs));
  return cs;
}

std::string EncodeSnapshotMeta(const SnapshotMetaRecord& meta) {
  std::string out;
  out.push_back(static_cast<char>(kMetaRecordVersion));
  PutVarint64(&out, meta.index);
  PutVarint64(&out, meta.term);
  PutLengthPrefixed(&out, EncodeConfState(meta.conf_state));
  PutLengthPrefixed(&out, meta.file_name);
  PutVarint64(&out, meta.data_bytes);
  PutChecksum(&out, kSnapshotMetaSeed);
  return out;
}

Result<SnapshotMetaRecord> DecodeSnapshotMeta(std::string_view bytes) {
  ByteReader r(bytes, kSnapshotMetaWhat);
  uint8_t version = 0;
  RAFTLOG_RETURN_IF_ERROR(ReadVersion(&r, kSnapshotMetaWhat, &version));
  SnapshotMetaRecord meta;
  RAFTLOG_RETURN_IF_ERROR(r.ReadVarint64("index", &meta.index));
  RAFTLOG_RETURN_IF_ERROR(r.ReadVarint64("term", &meta.term));
  std::string_view conf_state;
  RAFTLOG_RETURN_IF_ERROR(r.ReadLengthPrefixed("conf_state", &conf_state));
  RAFTLOG_RETURN_IF_ERROR(
      DecodeConfStateInto(conf_state, "SnapshotMeta record: conf_state", &meta.conf_state));
  std::string_view file_name;
  RAFTLOG_RETURN_IF_ERROR(r.ReadLengthPrefixed("file_name", &file_name));
  meta.file_name = file_name;
  RAFTLOG_RETURN_IF_ERROR(r.ReadVarint64("data_bytes", &meta.data_bytes));
  RAFTLOG_RETURN_IF_ERROR(FinishRecord(&r, bytes, version, kSnapshotMetaSeed, kSnapshotMetaWhat));
  return meta;
}

std::string EncodeSegmentRecord(const SegmentRecord& record) {
  std::string out;
  out.push_back(static_cast<char>(record.compressed() ? kCompressedSegmentRecordVersion
                                                      : kMetaRecordVersion));
  PutVarint64(&out, record.segment_id);
  PutVarint64(&out, record.base_index);
  PutVarint64(&out, record.generation);
  out.push_back(static_cast<char>(record.state));
  PutVarint64(&out, record.last_index);
  PutVarint64(&out, record.footer_offset);
  PutVarint64(&out, record.file_bytes);
  PutVarint64(&out, record.term_runs.size());
  for (const TermRun& run : record.term_runs) {
    PutVarint64(&out, run.first_index);
    PutVarint64(&out, run.term);
  }
  if (record.compressed()) {
    out.push_back(static_cast<char>(record.form));
    PutVarint64(&out, record.raw_file_bytes);
  }
  PutChecksum(&out, kSegmentRecordSeed);
  return out;
}

Result<SegmentRecord> DecodeSegmentRecord(std::string_view bytes) {
  ByteReader r(bytes, kSegmentRecordWhat);
  uint8_t version = 0;
  RAFTLOG_RETURN_IF_ERROR(
      ReadVersion(&r, kSegmentRecordWhat, &version, kCompressedSegmentRecordVersion));
  SegmentRecord rec;
  RAFTLOG_RETURN_IF_ERROR(r.ReadVarint64("segment_id", &rec.segment_id));
  RAFTLOG_RETURN_IF_ERROR(r.ReadVarint64("base_index", &rec.base_index));
  RAFTLOG_RETURN_IF_ERROR(r.ReadVarint64("generation", &rec.generation));
  uint8_t state = 0;
  RAFTLOG_RETURN_IF_ERROR(r.ReadFixed8("state", &state));
  if (state != static_cast<uint8_t>(SegmentState::kActive) &&
      state != static_cast<uint8_t>(SegmentState::kSealed)) {
    return r.Error("state", "has the unknown value " + std::to_string(state));
  }
  rec.state = static_cast<SegmentState>(state);
  RAFTLOG_RETURN_IF_ERROR(r.ReadVarint64("last_index", &rec.last_index));
  RAFTLOG_RETURN_IF_ERROR(r.ReadVarint64("footer_offset", &rec.footer_offset));
  RAFTLOG_RETURN_IF_ERROR(r.ReadVarint64("file_bytes", &rec.file_bytes));
  // Field 8 is absent in version 1 records written before it existed: no
  // term runs then (the engine reads them from the segment's footer).
  uint64_t runs = 0;
  if (version >= kChecksummedMetaRecordVersion || r.remaining() > 0) {
    RAFTLOG_RETURN_IF_ERROR(r.ReadVarint64("term run count", &runs));
  }
  // Each run takes at least two bytes: check before reserving.
  if (runs > r.remaining() / 2) {
    return r.Error("term run count", std::to_string(runs) + " exceeds what the " +
                                         std::to_string(r.remaining()) + " remaining bytes hold");
  }
  rec.term_runs.resize(static_cast<size_t>(runs));
  for (size_t k = 0; k < rec.term_runs.size(); ++k) {
    RAFTLOG_RETURN_IF_ERROR(r.ReadVarint64("term run first index", &rec.term_runs[k].first_index));
    RAFTLOG_RETURN_IF_ERROR(r.ReadVarint64("term run term", &rec.term_runs[k].term));
    if (k > 0 && (rec.term_runs[k].first_index <= rec.term_runs[k - 1].first_index ||
                  rec.term_runs[k].term <= rec.term_runs[k - 1].term)) {
      return r.Error("term runs", "are not increasing at run " + std::to_string(k));
    }
  }
  if (version >= kCompressedSegmentRecordVersion) {
    // Version 3 exists for compressed segments only: a raw segment is
    // written in version 2, so the form here is always kCompressed.
    uint8_t form = 0;
    RAFTLOG_RETURN_IF_ERROR(r.ReadFixed8("form", &form));
    if (form != static_cast<uint8_t>(SegmentForm::kCompressed)) {
      return r.Error("form", "has the value " + std::to_string(form) +
                                 " (version 3 is written for compressed segments only, form 1)");
    }
    rec.form = SegmentForm::kCompressed;
    RAFTLOG_RETURN_IF_ERROR(r.ReadVarint64("raw_file_bytes", &rec.raw_file_bytes));
    if (rec.state != SegmentState::kSealed) {
      return r.Error("form", "says compressed, but the segment is not sealed");
    }
  }
  RAFTLOG_RETURN_IF_ERROR(FinishRecord(&r, bytes, version, kSegmentRecordSeed, kSegmentRecordWhat));
  return rec;
}

std::string SegmentRecordFileName(const SegmentRecord& record) {
  return record.compressed()
             ? layout::CompressedSegmentFileName(record.segment_id, record.generation)
             : layout::SegmentFileName(record.segment_id);
}

std::string SegmentRecordRelPath(const SegmentRecord& record) {
  return std::string(layout::kSegmentsDir) + "/" + SegmentRecordFileName(record);
}

std::string EncodeLogStart(const LogStartRecord& start) {
  std::string out;
  out.push_back(static_cast<char>(kMetaRecordVersion));
  PutVarint64(&out, start.first_index);
  PutVarint64(&out, start.prev_term);
  PutChecksum(&out, kLogStartSeed);
  return out;
}

Result<LogStartRecord> DecodeLogStart(std::string_view bytes) {
  ByteReader r(bytes, kLogStartWhat);
  uint8_t version = 0;
  RAFTLOG_RETURN_IF_ERROR(ReadVersion(&r, kLogStartWhat, &version));
  LogStartRecord start;
  RAFTLOG_RETURN_IF_ERROR(r.ReadVarint64("first index", &start.first_index));
  RAFTLOG_RETURN_IF_ERROR(r.ReadVarint64("previous term", &start.prev_term));
  RAFTLOG_RETURN_IF_ERROR(FinishRecord(&r, bytes, version, kLogStartSeed, kLogStartWhat));
  if (start.first_index == 0) return Status::Corruption("log/start record: first index is 0");
  return start;
}

std::string EncodeCounter(std::string_view key, uint64_t value) {
  std::string out;
  out.push_back(static_cast<char>(kMetaRecordVersion));
  PutVarint64(&out, value);
  PutChecksum(&out, CounterSeed(key));
  return out;
}

Result<uint64_t> DecodeCounter(std::string_view key, std::string_view bytes) {
  const std::string what = std::string(key) + " record";
  if (bytes.size() == 8) return DecodeFixed64(bytes.data());  // version 1: a bare u64
  ByteReader r(bytes, what);
  uint8_t version = 0;
  RAFTLOG_RETURN_IF_ERROR(ReadVersion(&r, what, &version));
  if (version < kChecksummedMetaRecordVersion) {
    return Status::Corruption(what + ": " + std::to_string(bytes.size()) +
                              " bytes, neither a version 1 value (8 bytes) nor a version 2 record");
  }
  uint64_t value = 0;
  RAFTLOG_RETURN_IF_ERROR(r.ReadVarint64("value", &value));
  RAFTLOG_RETURN_IF_ERROR(FinishRecord(&r, bytes, version, CounterSeed(key), what));
  return value;
}

uint64_t CounterSeed(std::string_view key) {
  // The key's first 8 bytes, big-endian ("log/next", "log/gene"): each
  // counter's checksum is bound to its key, so that the two cannot be
  // swapped unnoticed.
  uint64_t seed = 0;
  for (size_t k = 0; k < 8; ++k) {
    seed = (seed << 8) | (k < key.size() ? static_cast<uint8_t>(key[k]) : 0);
  }
  return seed;
}

bool IsOldMetaEncoding(std::string_view bytes) {
  return !bytes.empty() && static_cast<uint8_t>(bytes[0]) < kChecksummedMetaRecordVersion;
}

bool IsOldCounterEncoding(std::string_view bytes) { return bytes.size() == 8; }

std::string EncodeDurableRecord(const DurableRecord& record) {
  std::string out;
  out.push_back(static_cast<char>(kDurableRecordVersion));
  PutVarint64(&out, record.segment_id);
  PutVarint64(&out, record.generation);
  PutVarint64(&out, record.durable_offset);
  PutVarint64(&out, record.last_index);
  PutFixed64(&out, Checksum64(out, kDurableRecordSeed));
  return out;
}

Result<DurableRecord> DecodeDurableRecord(std::string_view bytes) {
  const std::string_view what = kDurableRecordWhat;
  // Checksum first: no field of a damaged record is interpreted.
  if (bytes.size() < 1 + 8) {
    return Status::Corruption(std::string(what) + ": " + std::to_string(bytes.size()) +
                              " bytes, too short for a version and a checksum");
  }
  const uint8_t version = static_cast<uint8_t>(bytes[0]);
  if (version > kDurableRecordVersion) {
    return Status::NotSupported(std::string(what) + ": version " + std::to_string(version) +
                                " is newer than the newest supported (" +
                                std::to_string(kDurableRecordVersion) + ")");
  }
  const std::string_view body = bytes.substr(0, bytes.size() - 8);
  const uint64_t stored = DecodeFixed64(bytes.data() + body.size());
  const uint64_t actual = Checksum64(body, kDurableRecordSeed);
  if (stored != actual) {
    return Status::Corruption(std::string(what) + ": checksum mismatch (stored " +
                              std::to_string(stored) + ", computed " + std::to_string(actual) +
                              ")");
  }
  if (version != kDurableRecordVersion) {
    return Status::Corruption(std::string(what) + ": version " + std::to_string(version) +
                              ", which no writer uses");
  }
  ByteReader r(body.substr(1), what);
  DurableRecord rec;
  RAFTLOG_RETURN_IF_ERROR(r.ReadVarint64("segment_id", &rec.segment_id));
  RAFTLOG_RETURN_IF_ERROR(r.ReadVarint64("generation", &rec.generation));
  RAFTLOG_RETURN_IF_ERROR(r.ReadVarint64("durable_offset", &rec.durable_offset));
  RAFTLOG_RETURN_IF_ERROR(r.ReadVarint64("last_index", &rec.last_index));
  RAFTLOG_RETURN_IF_ERROR(r.ExpectEnd());
  return rec;
}

}  // namespace raftlog::format
