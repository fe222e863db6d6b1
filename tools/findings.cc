#include "tools/findings.h"

#include <utility>

#include "raftlog/engine/segment_reader.h"

namespace raftlog::tools {

std::string_view SeverityName(Severity s) {
  switch (s) {
    case Severity::kError:
      return "error";
    case Severity::kWarning:
      return "warning";
  }
  return "unknown";
}

void Findings::Add(Severity severity, std::string file, std::optional<uint64_t> offset,
                   std::string what, std::string hint) {
  if (severity == Severity::kError) ++errors_;
  findings_.push_back(Finding{severity, std::move(file), offset, std::move(what), std::move(hint)});
}

size_t Findings::Rehint(const std::function<bool(const Finding&)>& which,
                        const std::string& hint) {
  size_t n = 0;
  for (Finding& f : findings_) {
    if (!which(f)) continue;
    f.hint = hint;
    ++n;
  }
  return n;
}

void Findings::AddStatus(Severity severity, std::string file, std::optional<uint64_t> offset,
                         const Status& s, std::string_view where, std::string hint) {
  Add(severity, std::move(file), offset, StripWhere(s, where), std::move(hint));
}

std::string StripWhere(const Status& s, std::string_view where) {
  std::string out =
      where.empty() ? std::string(s.message()) : engine::SegmentReader::MessageAfter(s, where);
  if (!s.ok() && !s.IsCorruption()) {
    // Keep the kind of failure when it is not plain damage.
    out = std::string(Status::CodeName(s.code())) + ": " + out;
  }
  return out;
}

std::string FormatFinding(const Finding& f) {
  std::string line(SeverityName(f.severity));
  line += ": ";
  if (!f.file.empty()) {
    line += f.file;
    if (f.offset.has_value()) line += " at offset " + std::to_string(*f.offset);
    line += ": ";
  }
  line += f.what;
  if (!f.hint.empty()) line += "\n  hint: " + f.hint;
  return line;
}

std::string DamageWhat(const engine::SegmentScan& scan, const std::string& name) {
  const Status& s = scan.refused() ? scan.refusal : scan.damage;
  std::string what = StripWhere(s, name + " at offset " + std::to_string(scan.damage_offset));
  return what == std::string(s.message()) ? StripWhere(s, name) : what;
}

}  // namespace raftlog::tools
