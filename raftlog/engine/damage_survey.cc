#include "raftlog/engine/damage_survey.h"

#include <algorithm>
#include <memory>
#include <utility>

#include "raftlog/engine/meta_store.h"
#include "raftlog/engine/sealed_scan.h"
#include "raftlog/engine/segment_reader.h"
#include "raftlog/engine/segment_scan.h"
#include "raftlog/format/compression.h"
#include "raftlog/format/layout.h"

namespace raftlog::engine {

namespace layout = format::layout;

namespace {

struct Manifest {
  format::LogStartRecord start;
  std::vector<format::SegmentRecord> segments;
  uint64_t next_segment_id = 0;
  uint64_t generation = 0;
  std::optional<format::DurableRecord> durable;
};

Result<Manifest> ReadManifest(const std::string& dir) {
  const std::string path = io::JoinPath(dir, layout::kMetaFile);
  MetaStore::OpenOptions options;
  options.read_only = true;
  RAFTLOG_ASSIGN_OR_RETURN(std::unique_ptr<MetaStore> meta, MetaStore::Open(path, options));
  Manifest m;
  RAFTLOG_ASSIGN_OR_RETURN(auto start, meta->Get(layout::kStartKey));
  if (!start.has_value()) return Status::Corruption(path + ": key log/start is missing");
  auto decoded = format::DecodeLogStart(*start);
  if (!decoded.ok()) return decoded.status().WithContext(path + ": key log/start");
  m.start = *decoded;
  RAFTLOG_ASSIGN_OR_RETURN(auto rows, meta->Scan(layout::kSegmentKeyPrefix));
  for (const auto& [key, value] : rows) {
    auto record = format::DecodeSegmentRecord(value);
    if (!record.ok()) return record.status().WithContext(path + ": key " + key);
    m.segments.push_back(*record);
  }
  std::sort(m.segments.begin(), m.segments.end(),
            [](const auto& a, const auto& b) { return a.segment_id < b.segment_id; });
  for (auto [key, out] : {std::pair{layout::kNextSegmentIdKey, &m.next_segment_id},
                          std::pair{layout::kGenerationKey, &m.generation}}) {
    RAFTLOG_ASSIGN_OR_RETURN(auto value, meta->Get(key));
    if (!value.has_value())
      return Status::Corruption(path + ": key " + std::string(key) + " is missing");
    auto counter = format::DecodeCounter(key, *value);
    if (!counter.ok()) return counter.status().WithContext(path + ": key " + std::string(key));
    *out = *counter;
  }
  RAFTLOG_ASSIGN_OR_RETURN(auto durable, meta->Get(layout::kDurableKey));
  if (durable.has_value()) {
    auto record = format::DecodeDurableRecord(*durable);
    if (record.ok()) m.durable = *record;
  }
  return m;
}

}  // namespace

const LogDamage* DamageSurvey::FirstReaching(uint64_t index) const {
  for (const LogDamage& d : damage) {
    if (!d.torn_write && d.reach() >= index) return &d;
  }
  return nullptr;
}

std::string DescribeLogDamage(const LogDamage& d) {
  std::string s = d.file;
  if (d.offset.has_value()) s += " at offset " + std::to_string(*d.offset);
  s += ": " + d.what;
  if (d.first_index != 0) {
    s += " (entries " + std::to_string(d.first_index) + " .. " + std::to_string(d.last_index) + ")";
  } else if (d.segment_last != UINT64_MAX && d.segment_last != 0) {
    s += " (the segment's entries " + std::to_string(d.segment_first) + " .. " +
         std::to_string(d.segment_last) + ")";
  }
  return s;
}

Result<DamageSurvey> SurveyDamage(io::FileSystem* fs, const std::string& dir) {
  RAFTLOG_ASSIGN_OR_RETURN(Manifest m, ReadManifest(dir));
  DamageSurvey survey;
  survey.first_index = m.start.first_index;
  survey.prev_term = m.start.prev_term;
  survey.segments = m.segments;
  survey.next_segment_id = m.next_segment_id;
  survey.generation = m.generation;
  survey.durable = m.durable;
  format::Decompressor decompressor;
  std::string scratch;
  auto payload = [&](const format::FrameView& f, uint64_t /*offset*/) {
    return CheckFramePayload(f, &decompressor, &scratch);
  };
  uint64_t last_term = 0;
  for (const format::SegmentRecord& record : m.segments) {
    const bool sealed = record.state == format::SegmentState::kSealed;
    const std::string rel = format::SegmentRecordRelPath(record);
    LogDamage base;
    base.segment_id = record.segment_id;
    base.file = rel;
    base.segment_first = record.base_index;
    base.segment_last = sealed ? record.last_index : UINT64_MAX;
    auto reader = SegmentReader::Open(fs, io::JoinPath(dir, rel), rel);
    if (!reader.ok()) {
      if (!reader.status().IsNotFound()) return reader.status();
      LogDamage d = base;
      d.what = "missing, but the manifest lists it";
      survey.damage.push_back(std::move(d));
      continue;
    }
    if (sealed) {
      SealedScanOptions options;
      options.first_index = survey.first_index;
      options.min_term = last_term;
      options.stop_at_loss = false;
      options.on_frame = payload;
      RAFTLOG_ASSIGN_OR_RETURN(SealedScan scan, ScanSealedSegment(reader->get(), record, options));
      for (SealedProblem& p : scan.problems) {
        LogDamage d = base;
        d.offset = p.offset;
        d.what = std::move(p.what);
        d.first_index = p.first_index;
        d.last_index = p.last_index;
        survey.damage.push_back(std::move(d));
      }
      last_term = std::max(last_term, scan.last_term);
      continue;
    }
    ScanOptions options;
    options.min_term = last_term;
    options.on_frame = payload;
    RAFTLOG_ASSIGN_OR_RETURN(SegmentScan scan, ScanSegment(reader->get(), record, options));
    last_term = std::max(last_term, scan.last_term);
    if (!scan.damaged() && !scan.refused()) continue;
    LogDamage d = base;
    d.offset = scan.damage_offset;
    d.what = std::string(scan.damage.ok() ? scan.refusal.message() : scan.damage.message());
    // Nothing records where an active segment's entries end: from the
    // first one after the good frames on, any may be lost.
    d.segment_first = scan.last_index + 1;
    d.torn_write = scan.finding == SegmentFinding::kTornWrite &&
                   !(m.durable.has_value() && m.durable->segment_id == record.segment_id &&
                     m.durable->generation == record.generation &&
                     m.durable->durable_offset > scan.damage_offset);
    survey.damage.push_back(std::move(d));
  }
  return survey;
}

}  // namespace raftlog::engine
