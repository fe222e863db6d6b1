#include "tools/log_dir.h"

#include <algorithm>
#include <map>
#include <utility>

#include "raftlog/engine/lmdb_check.h"
#include "raftlog/format/coding.h"
#include "raftlog/format/record_format.h"

namespace raftlog::tools {

std::string LogDir::SegmentPath(uint64_t id) const {
  return io::JoinPath(io::JoinPath(dir_, kSegmentsDir), SegmentFileName(id));
}

std::string LogDir::SegmentPath(const format::SegmentRecord& record) const {
  return io::JoinPath(io::JoinPath(dir_, kSegmentsDir), format::SegmentRecordFileName(record));
}

std::optional<format::SegmentRecord> LogDir::CompressedRewriteNow(
    const format::SegmentRecord& raw) const {
  if (raw.compressed()) return std::nullopt;
  auto now = ReadMetadata(nullptr);
  if (!now.ok()) return std::nullopt;
  const bool was_sealed = raw.state == format::SegmentState::kSealed;
  for (const format::SegmentRecord& r : now->segments) {
    if (r.segment_id == raw.segment_id && r.compressed() && r.base_index == raw.base_index &&
        (!was_sealed || r.last_index == raw.last_index)) {
      return r;
    }
  }
  return std::nullopt;
}

Status LogDir::CheckIsLogDir(io::FileSystem* fs, const std::string& dir) {
  auto is_dir = fs->IsDirectory(dir);
  if (!is_dir.ok()) {
    if (is_dir.status().IsNotFound()) return Status::NotFound(dir + ": no such directory");
    return is_dir.status();
  }
  if (!*is_dir) return Status::InvalidArgument(dir + " is not a directory");
  if (!fs->Exists(io::JoinPath(dir, kMetaFile))) {
    return Status::InvalidArgument(dir + " is not a raftlog log directory (no " +
                                   std::string(kMetaFile) + ")");
  }
  return Status::OK();
}

Result<std::unique_ptr<LogDir>> LogDir::Open(io::FileSystem* fs, const std::string& dir) {
  RAFTLOG_RETURN_IF_ERROR(CheckIsLogDir(fs, dir));
  const std::string meta_path = io::JoinPath(dir, kMetaFile);
  RAFTLOG_RETURN_IF_ERROR(engine::CheckLmdbFile(fs, meta_path).status());
  engine::MetaStore::OpenOptions options;
  options.read_only = true;
  RAFTLOG_ASSIGN_OR_RETURN(std::unique_ptr<engine::MetaStore> meta,
                           engine::MetaStore::Open(meta_path, options));
  return std::unique_ptr<LogDir>(new LogDir(fs, dir, std::move(meta)));
}

Result<LogMetadata> LogDir::ReadMetadata(Findings* findings) const {
  Findings ignored;
  Findings* out = findings != nullptr ? findings : &ignored;
  const std::string file(kMetaFile);
  LogMetadata m;
  // `fatal`: a reader cannot find the entries without this key.
  auto bad = [&](std::string_view key, const Status& s, bool fatal) {
    out->Add(Severity::kError, file, std::nullopt,
             "key " + std::string(key) + ": " + StripWhere(s, ""));
    if (fatal && m.problem.ok())
      m.problem = s.WithContext(Path(kMetaFile) + ": key " + std::string(key));
  };

  // Every key from one read transaction: beside a live writer, separate
  // reads could each see another commit (a manifest listing the segment a
  // roll just made beside the next-segment counter from before it).
  RAFTLOG_ASSIGN_OR_RETURN(const auto all, meta_->ReadAll());
  const std::map<std::string, std::string, std::less<>> kv(all.begin(), all.end());
  auto get = [&kv](std::string_view key) -> std::optional<std::string> {
    const auto it = kv.find(key);
    if (it == kv.end()) return std::nullopt;
    return it->second;
  };

  const std::optional<std::string> format_value = get(kFormatKey);
  if (!format_value.has_value()) {
    bad(kFormatKey,
        Status::Corruption("missing (not a raftlog log, or its creation never "
                           "finished)"),
        true);
  } else {
    // The engine's decoder: the tool and the open agree on every value.
    auto version = format::DecodeFormatVersion(*format_value);
    if (version.ok()) {
      m.format_version = *version;
    } else {
      bad(kFormatKey, version.status(), true);
    }
  }

  const std::optional<std::string> start = get(kStartKey);
  if (!start.has_value()) {
    bad(kStartKey, Status::Corruption("missing"), true);
  } else {
    auto decoded = format::DecodeLogStart(*start);
    if (decoded.ok()) {
      m.first_index = decoded->first_index;
      m.prev_term = decoded->prev_term;
    } else {
      bad(kStartKey, decoded.status(), true);
    }
  }

  for (const std::string_view key : {kNextSegmentIdKey, kGenerationKey}) {
    const std::optional<std::string> value = get(key);
    if (!value.has_value()) {
      bad(key, Status::Corruption("missing"), false);
      continue;
    }
    auto v = format::DecodeCounter(key, *value);
    if (!v.ok()) {
      bad(key, v.status(), false);
      continue;
    }
    (key == kNextSegmentIdKey ? m.next_segment_id : m.generation) = *v;
  }

  for (auto it = kv.lower_bound(kSegmentKeyPrefix);
       it != kv.end() && std::string_view(it->first).starts_with(kSegmentKeyPrefix); ++it) {
    const auto& [key, value] = *it;
    auto record = format::DecodeSegmentRecord(value);
    if (!record.ok()) {
      bad(key, record.status(), true);
      continue;
    }
    const std::string expected_key = format::layout::SegmentKey(record->segment_id);
    if (key != expected_key) {
      bad(key,
          Status::Corruption("describes segment " + std::to_string(record->segment_id) +
                             " (its key should be " + expected_key + ")"),
          true);
      continue;
    }
    m.segments.push_back(*record);
  }
  std::sort(m.segments.begin(), m.segments.end(),
            [](const auto& a, const auto& b) { return a.segment_id < b.segment_id; });

  const std::optional<std::string> hs = get(kHardStateKey);
  if (hs.has_value()) {
    auto decoded = format::DecodeHardState(*hs);
    if (decoded.ok()) {
      m.hard_state = *decoded;
    } else {
      bad(kHardStateKey, decoded.status(), false);
    }
  }
  const std::optional<std::string> durable = get(format::kDurableKey);
  if (durable.has_value()) {
    auto decoded = format::DecodeDurableRecord(*durable);
    if (decoded.ok()) {
      m.durable = *decoded;
    } else {
      // The engine refuses to open with it damaged (it cannot tell which
      // frames were acknowledged).
      bad(format::kDurableKey, decoded.status(), true);
    }
  }
  const std::optional<std::string> snap = get(kSnapshotKey);
  if (snap.has_value()) {
    auto decoded = format::DecodeSnapshotMeta(*snap);
    if (decoded.ok()) {
      m.snapshot = *decoded;
    } else {
      bad(kSnapshotKey, decoded.status(), false);
    }
  }
  return m;
}

}  // namespace raftlog::tools
