#include "raftlog/format/layout.h"

namespace raftlog::format::layout {

static_assert(kHardStateKey.substr(0, kStatePrefix.size()) == kStatePrefix &&
              kHardStateKey.substr(kStatePrefix.size()) == kHardStateName);
static_assert(kSnapshotKey.substr(0, kStatePrefix.size()) == kStatePrefix &&
              kSnapshotKey.substr(kStatePrefix.size()) == kSnapshotName);

bool IsCreationLeftover(std::string_view name) {
  return name == kLockFile || name == kMetaLockFile || name == kStagingDir;
}

std::string FormatHexId(uint64_t id) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(kHexIdDigits, '0');
  for (size_t i = kHexIdDigits; i > 0; --i) {
    out[i - 1] = kDigits[id & 0xf];
    id >>= 4;
  }
  return out;
}

std::optional<uint64_t> ParseHexId(std::string_view text) {
  if (text.size() != kHexIdDigits) return std::nullopt;
  uint64_t id = 0;
  for (const char c : text) {
    uint64_t digit = 0;
    if (c >= '0' && c <= '9') {
      digit = static_cast<uint64_t>(c - '0');
    } else if (c >= 'a' && c <= 'f') {
      digit = static_cast<uint64_t>(c - 'a' + 10);
    } else {
      return std::nullopt;
    }
    id = (id << 4) | digit;
  }
  return id;
}

std::string SegmentFileName(uint64_t id) { return FormatHexId(id) + std::string(kSegmentSuffix); }

std::optional<uint64_t> ParseSegmentFileName(std::string_view name) {
  if (name.size() != kHexIdDigits + kSegmentSuffix.size() ||
      name.substr(kHexIdDigits) != kSegmentSuffix) {
    return std::nullopt;
  }
  return ParseHexId(name.substr(0, kHexIdDigits));
}

std::string SegmentRelPath(uint64_t id) {
  return std::string(kSegmentsDir) + "/" + SegmentFileName(id);
}

std::string CompressedSegmentFileName(uint64_t id, uint64_t generation) {
  return FormatHexId(id) + "-" + FormatHexId(generation) + std::string(kCompressedSegmentSuffix);
}

std::optional<CompressedSegmentName> ParseCompressedSegmentFileName(std::string_view name) {
  constexpr size_t kStem = 2 * kHexIdDigits + 1;  // "<id>-<generation>"
  if (name.size() != kStem + kCompressedSegmentSuffix.size() || name[kHexIdDigits] != '-' ||
      name.substr(kStem) != kCompressedSegmentSuffix) {
    return std::nullopt;
  }
  const std::optional<uint64_t> id = ParseHexId(name.substr(0, kHexIdDigits));
  const std::optional<uint64_t> generation = ParseHexId(name.substr(kHexIdDigits + 1, kHexIdDigits));
  if (!id || !generation) return std::nullopt;
  return CompressedSegmentName{*id, *generation};
}

std::string SpareTempFileName(uint64_t id) { return SegmentFileName(id) + std::string(kTempSuffix); }

bool IsTempName(std::string_view name) {
  return name.size() > kTempSuffix.size() && name.ends_with(kTempSuffix);
}

std::string SnapshotFileName(uint64_t term, uint64_t index) {
  return FormatHexId(term) + "-" + FormatHexId(index) + std::string(kSnapshotSuffix);
}

std::optional<SnapshotName> ParseSnapshotFileName(std::string_view name) {
  constexpr size_t kStem = 2 * kHexIdDigits + 1;  // "<term>-<index>"
  if (name.size() != kStem + kSnapshotSuffix.size() || name[kHexIdDigits] != '-' ||
      name.substr(kStem) != kSnapshotSuffix) {
    return std::nullopt;
  }
  const std::optional<uint64_t> term = ParseHexId(name.substr(0, kHexIdDigits));
  const std::optional<uint64_t> index = ParseHexId(name.substr(kHexIdDigits + 1, kHexIdDigits));
  if (!term || !index) return std::nullopt;
  return SnapshotName{*term, *index};
}

std::string SnapshotTempFileName(std::string_view final_name) {
  return std::string(final_name) + std::string(kTempSuffix);
}

bool IsSnapshotTempFileName(std::string_view name) {
  if (!name.ends_with(kTempSuffix)) return false;
  return ParseSnapshotFileName(name.substr(0, name.size() - kTempSuffix.size())).has_value();
}

std::string RepairSideFileName(std::string_view segment_name, std::time_t when) {
  std::tm utc = {};
  ::gmtime_r(&when, &utc);
  char stamp[32];
  std::strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &utc);
  return "repair-" + std::string(stamp) + "-" + std::string(segment_name) + ".cut";
}

bool IsRepairSideFileName(std::string_view name) {
  constexpr std::string_view kPrefix = "repair-";
  constexpr std::string_view kSuffix = ".cut";
  constexpr size_t kStamp = 16;  // YYYYMMDDTHHMMSSZ
  if (!name.starts_with(kPrefix) || !name.ends_with(kSuffix)) return false;
  name.remove_prefix(kPrefix.size());
  name.remove_suffix(kSuffix.size());
  if (name.size() <= kStamp + 1 || name[kStamp] != '-') return false;
  for (size_t i = 0; i < kStamp; ++i) {
    const char c = name[i];
    const bool ok = i == 8 ? c == 'T' : i == kStamp - 1 ? c == 'Z' : c >= '0' && c <= '9';
    if (!ok) return false;
  }
  return ParseSegmentFileName(name.substr(kStamp + 1)).has_value();
}

std::string SegmentKey(uint64_t id) { return std::string(kSegmentKeyPrefix) + FormatHexId(id); }

std::optional<uint64_t> ParseSegmentKey(std::string_view key) {
  if (!key.starts_with(kSegmentKeyPrefix)) return std::nullopt;
  return ParseHexId(key.substr(kSegmentKeyPrefix.size()));
}

std::string StateKey(std::string_view name) { return std::string(kStatePrefix) + std::string(name); }

}  // namespace raftlog::format::layout
