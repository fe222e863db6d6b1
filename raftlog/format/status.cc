#include "raftlog/format/status.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace raftlog {

namespace {
std::string_view Or(std::string_view msg, std::string_view fallback) {
  return msg.empty() ? fallback : msg;
}
}  // namespace

std::string_view Status::CodeName(Code code) {
  switch (code) {
    case Code::kOk:
      return "OK";
    case Code::kNotFound:
      return "NotFound";
    case Code::kCorruption:
      return "Corruption";
    case Code::kInvalidArgument:
      return "InvalidArgument";
    case Code::kIOError:
      return "IOError";
    case Code::kNotSupported:
      return "NotSupported";
    case Code::kCompacted:
      return "Compacted";
    case Code::kUnavailable:
      return "Unavailable";
    case Code::kSnapshotOutOfDate:
      return "SnapshotOutOfDate";
    case Code::kSnapshotTemporarilyUnavailable:
      return "SnapshotTemporarilyUnavailable";
    case Code::kBusy:
      return "Busy";
    case Code::kFailedPrecondition:
      return "FailedPrecondition";
  }
  return "Unknown";
}

Status Status::Compacted(std::string_view msg) {
  return Status(Code::kCompacted, Or(msg, "requested index is unavailable due to compaction"));
}

Status Status::Unavailable(std::string_view msg) {
  return Status(Code::kUnavailable, Or(msg, "requested entry at index is unavailable"));
}

Status Status::SnapshotOutOfDate(std::string_view msg) {
  return Status(Code::kSnapshotOutOfDate,
                Or(msg, "requested index is older than the existing snapshot"));
}

Status Status::SnapshotTemporarilyUnavailable(std::string_view msg) {
  return Status(Code::kSnapshotTemporarilyUnavailable,
                Or(msg, "snapshot is temporarily unavailable"));
}

Status Status::FromErrno(std::string_view context, int errno_value) {
  std::string msg(context);
  msg += ": ";
  msg += std::strerror(errno_value);
  return Status(Code::kIOError, msg, errno_value);
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  std::string out(CodeName(rep_->code));
  if (!rep_->message.empty()) {
    out += ": ";
    out += rep_->message;
  }
  return out;
}

Status Status::WithContext(std::string_view context) const {
  if (ok()) return Status();
  std::string msg(context);
  msg += ": ";
  msg += rep_->message;
  return Status(rep_->code, msg, rep_->errno_value);
}

namespace internal {

void CheckFailed(const char* file, int line, const char* expr, std::string_view msg) {
  std::fprintf(stderr, "%s:%d: check failed: %s%s%.*s\n", file, line, expr, msg.empty() ? "" : ": ",
               static_cast<int>(msg.size()), msg.data());
  std::fflush(stderr);
  std::abort();
}

}  // namespace internal
}  // namespace raftlog
