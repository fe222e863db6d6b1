// Findings: the problems a check (verify, repair, info) found, each with the
// file and byte offset it concerns, so that an operator can go and look.
// Checks keep going after a problem and collect every finding.
//
// Thread-compatible.

#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "raftlog/engine/segment_scan.h"
#include "raftlog/format/status.h"

namespace raftlog::tools {

enum class Severity {
  // Damage: acknowledged data is lost or unreadable, or the engine refuses to
  // open the log.
  kError,
  // Something the engine recovers from by itself on its next read-write open
  // (a torn tail, an unfinished seal, stray files), or that loses nothing.
  kWarning,
};
std::string_view SeverityName(Severity s);  // "error", "warning"

struct Finding {
  Severity severity = Severity::kError;
  // The file concerned, relative to the log directory ("meta.mdb",
  // "segments/0000000000000001.seg", "snapshots/...snap"); empty when the
  // finding is about the log as a whole.
  std::string file;
  std::optional<uint64_t> offset;  // byte offset in `file`, when known
  std::string what;                // what is wrong
  std::string hint;                // what an operator can do; may be empty
};

class Findings {
 public:
  void Add(Severity severity, std::string file, std::optional<uint64_t> offset, std::string what,
           std::string hint = {});
  // A finding from a Status whose message begins with "<where>: " (as the
  // format/ decoders write it); that prefix is dropped from `what` since
  // file and offset are fields of their own.
  void AddStatus(Severity severity, std::string file, std::optional<uint64_t> offset,
                 const Status& s, std::string_view where, std::string hint = {});

  // Gives every finding `which` selects the hint `hint` instead (a later
  // check found better advice); returns how many.
  size_t Rehint(const std::function<bool(const Finding&)>& which, const std::string& hint);

  const std::vector<Finding>& all() const { return findings_; }
  size_t errors() const { return errors_; }
  size_t warnings() const { return findings_.size() - errors_; }
  bool empty() const { return findings_.empty(); }

 private:
  std::vector<Finding> findings_;
  size_t errors_ = 0;
};

// "error: segments/0000000000000001.seg at offset 4160: frame checksum
// mismatch", followed by "  hint: ..." on a second line when there is a
// hint.
std::string FormatFinding(const Finding& f);

// s.message() without a leading "<where>: ".
std::string StripWhere(const Status& s, std::string_view where);

// What is wrong at the end of a segment scan (its refusal or damage),
// without the "<name> at offset <n>: " or "<name>: " its message starts with
// (findings give the file and offset apart).
std::string DamageWhat(const engine::SegmentScan& scan, const std::string& name);

}  // namespace raftlog::tools
