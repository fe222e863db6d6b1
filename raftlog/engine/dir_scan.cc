#include "raftlog/engine/dir_scan.h"

#include <algorithm>
#include <utility>

#include "raftlog/format/layout.h"
#include "raftlog/format/record_format.h"
#include "raftlog/format/segment_header.h"

namespace raftlog::engine {

namespace layout = format::layout;

std::string_view DirEntryKindName(DirEntryKind kind) {
  switch (kind) {
    case DirEntryKind::kLogFile:
      return "log file";
    case DirEntryKind::kInterruptedCreation:
      return "interrupted creation";
    case DirEntryKind::kRepairSideFile:
      return "repair side file";
    case DirEntryKind::kListedSegment:
      return "listed segment";
    case DirEntryKind::kMissingSegment:
      return "missing segment";
    case DirEntryKind::kSpareSegment:
      return "spare segment";
    case DirEntryKind::kStraySegment:
      return "stray segment";
    case DirEntryKind::kInterruptedSpare:
      return "interrupted spare";
    case DirEntryKind::kForeign:
      return "foreign";
  }
  return "unknown";
}

DirEntry ClassifyTopEntry(std::string_view name) {
  DirEntry e;
  e.name = std::string(name);
  if (name == layout::kLockFile || name == layout::kMetaFile || name == layout::kMetaLockFile ||
      name == layout::kSegmentsDir || name == layout::kSnapshotsDir) {
    e.kind = DirEntryKind::kLogFile;
    e.reason = "part of the log";
  } else if (name == layout::kStagingDir) {
    e.kind = DirEntryKind::kInterruptedCreation;
    e.reason =
        "the staging directory of a log creation interrupted after meta.mdb was renamed into "
        "place";
  } else if (layout::IsRepairSideFileName(name)) {
    e.kind = DirEntryKind::kRepairSideFile;
    e.reason = "bytes raftlog repair cut from a segment, kept for the operator";
  } else {
    e.kind = DirEntryKind::kForeign;
    e.reason = "not a name of a raftlog log directory";
  }
  return e;
}

DirEntry ClassifySegmentsEntry(std::string_view name, const DirScanInput& input) {
  DirEntry e;
  e.name = std::string(layout::kSegmentsDir) + "/" + std::string(name);
  e.in_segments = true;
  const std::optional<uint64_t> id = layout::ParseSegmentFileName(name);
  e.segment_id = id;
  if (const auto rewrite = layout::ParseCompressedSegmentFileName(name); rewrite.has_value()) {
    e.segment_id = rewrite->id;
    const auto it = input.compressed.find(rewrite->id);
    if (it != input.compressed.end() && it->second == rewrite->generation) {
      e.kind = DirEntryKind::kListedSegment;
      e.reason = "a segment of the manifest, compressed";
    } else {
      e.kind = DirEntryKind::kStraySegment;
      e.reason =
          "a compressed rewrite of a segment that the manifest does not list: left by an "
          "interrupted compression";
    }
  } else if (!id.has_value()) {
    if (layout::IsTempName(name)) {
      e.kind = DirEntryKind::kInterruptedSpare;
      e.reason = "a segment file whose preparation was interrupted before its rename";
    } else {
      e.kind = DirEntryKind::kForeign;
      e.reason = "not a segment file name";
    }
  } else if (input.compressed.count(*id) != 0) {
    e.kind = DirEntryKind::kStraySegment;
    e.reason =
        "the raw file of a segment the manifest lists compressed: left by a compression whose "
        "removal of it was interrupted";
  } else if (input.listed.count(*id) != 0) {
    e.kind = DirEntryKind::kListedSegment;
    e.reason = "a segment of the manifest";
  } else if (!input.next_segment_id.has_value() || *id >= *input.next_segment_id) {
    e.kind = DirEntryKind::kSpareSegment;
    e.reason = input.next_segment_id.has_value()
                   ? "an id at or past log/next_segment_id: a segment prepared for the next roll"
                   : "not in the manifest, which is unreadable: maybe a segment prepared for the "
                     "next roll";
  } else {
    e.kind = DirEntryKind::kStraySegment;
    e.reason =
        "an id below log/next_segment_id that the manifest does not list: left by an interrupted "
        "compaction or truncation";
  }
  return e;
}

Result<std::vector<DirEntry>> ClassifyLogDirectory(io::FileSystem* fs, const std::string& dir,
                                                   const DirScanInput& input) {
  auto size_of = [fs](const std::string& path) -> std::optional<uint64_t> {
    auto file = fs->Open(path, io::OpenMode::kReadOnly);
    if (!file.ok()) return std::nullopt;
    auto size = (*file)->Size();
    return size.ok() ? std::optional<uint64_t>(*size) : std::nullopt;
  };
  std::vector<DirEntry> out;
  RAFTLOG_ASSIGN_OR_RETURN(std::vector<std::string> top, fs->ListDir(dir));
  std::sort(top.begin(), top.end());
  for (const std::string& name : top) {
    out.push_back(ClassifyTopEntry(name));
  }
  const std::string segments = io::JoinPath(dir, layout::kSegmentsDir);
  std::vector<std::string> names;
  if (fs->Exists(segments)) {
    RAFTLOG_ASSIGN_OR_RETURN(names, fs->ListDir(segments));
  }
  std::sort(names.begin(), names.end());
  std::set<uint64_t> present;
  for (const std::string& name : names) {
    DirEntry e = ClassifySegmentsEntry(name, input);
    if (e.kind == DirEntryKind::kListedSegment) present.insert(*e.segment_id);
    if (e.kind != DirEntryKind::kListedSegment) e.size = size_of(io::JoinPath(segments, name));
    out.push_back(std::move(e));
  }
  for (uint64_t id : input.listed) {
    if (present.count(id) != 0) continue;
    DirEntry e;
    const auto it = input.compressed.find(id);
    e.name = it == input.compressed.end()
                 ? layout::SegmentRelPath(id)
                 : std::string(layout::kSegmentsDir) + "/" +
                       layout::CompressedSegmentFileName(id, it->second);
    e.kind = DirEntryKind::kMissingSegment;
    e.in_segments = true;
    e.reason = "the manifest lists this segment, but its file is not there";
    e.segment_id = id;
    out.push_back(std::move(e));
  }
  return out;
}

Result<SpareHeaders> FindSuccessor(io::FileSystem* fs, const std::string& segments_dir,
                                   uint64_t first_spare_id, uint64_t generation,
                                   uint64_t next_index) {
  SpareHeaders out;
  if (!fs->Exists(segments_dir)) return out;
  RAFTLOG_ASSIGN_OR_RETURN(std::vector<std::string> names, fs->ListDir(segments_dir));
  std::vector<uint64_t> ids;
  for (const std::string& name : names) {
    const std::optional<uint64_t> id = layout::ParseSegmentFileName(name);
    if (id.has_value() && *id >= first_spare_id) ids.push_back(*id);
  }
  std::sort(ids.begin(), ids.end());
  for (uint64_t id : ids) {
    const std::string name = layout::SegmentFileName(id);
    auto file = fs->Open(io::JoinPath(segments_dir, name), io::OpenMode::kReadOnly);
    if (!file.ok()) return file.status().WithContext("reading the header of spare " + name);
    std::string scratch(format::kSegmentHeaderBytes, '\0');
    auto bytes = (*file)->PRead(0, scratch.size(), scratch.data());
    if (!bytes.ok()) return bytes.status().WithContext("reading the header of spare " + name);
    if (bytes->find_first_not_of('\0') == std::string_view::npos) continue;  // never written
    auto header = format::DecodeSegmentHeader(*bytes, name);
    std::string why;
    if (!header.ok()) {
      why = "its header is damaged (" + std::string(header.status().message()) +
            "): a torn first write";
    } else if (header->segment_id != id) {
      why = "its header names segment " + std::to_string(header->segment_id);
    } else if (header->generation != generation) {
      why = "its header has generation " + std::to_string(header->generation) + ", the log " +
            std::to_string(generation);
    } else if (header->base_index != next_index) {
      why = "it starts at index " + std::to_string(header->base_index) +
            " but the recovered log ends at " + std::to_string(next_index - 1) +
            ": its entries were never acknowledged";
    } else if (out.successor.has_value()) {
      why = "segment " + std::to_string(out.successor->segment_id) + " already continues the log";
    }
    if (!why.empty()) {
      out.dropped[id] = why;
      continue;
    }
    format::SegmentRecord record;
    record.segment_id = id;
    record.base_index = header->base_index;
    record.generation = header->generation;
    record.state = format::SegmentState::kActive;
    record.last_index = header->base_index - 1;
    out.successor = record;
  }
  return out;
}

}  // namespace raftlog::engine
