// Status: the outcome of an operation that can fail for reasons outside the
// program's control (I/O, bad bytes on disk, a request the data cannot answer).
//
// Modelled on leveldb's Status: an OK status holds no allocation and is the
// cheap common case; a non-OK status owns a code and a message. The message
// carries context (file name, byte offset, raft log index) so that an operator
// reading it knows what is wrong and where.
//
// Thread-safety: a Status is a value; distinct objects may be used from
// distinct threads, and const methods may be called concurrently.

#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace raftlog {

class [[nodiscard]] Status {
 public:
  // Codes are added only when some caller branches on them.
  enum class Code : unsigned char {
    kOk = 0,
    kNotFound,
    kCorruption,       // bytes on disk fail a checksum or structural check
    kInvalidArgument,  // the caller asked for something impossible
    kIOError,          // the operating system reported a failure
    kNotSupported,     // e.g. a file from a newer format version
    kCompacted,        // raft: the index lies at or below the compaction point
    kUnavailable,      // raft: the index is beyond the last entry
    kSnapshotOutOfDate,
    kSnapshotTemporarilyUnavailable,
    kBusy,                // e.g. the log directory is locked by another process
    kFailedPrecondition,  // the object refuses the call in its current state
  };

  Status() noexcept = default;
  Status(const Status& other) : rep_(other.rep_ ? std::make_unique<Rep>(*other.rep_) : nullptr) {}
  Status& operator=(const Status& other) {
    if (this != &other) rep_ = other.rep_ ? std::make_unique<Rep>(*other.rep_) : nullptr;
    return *this;
  }
  Status(Status&&) noexcept = default;
  Status& operator=(Status&&) noexcept = default;

  static Status OK() { return Status(); }
  static Status NotFound(std::string_view msg) { return Status(Code::kNotFound, msg); }
  static Status Corruption(std::string_view msg) { return Status(Code::kCorruption, msg); }
  static Status InvalidArgument(std::string_view msg) {
    return Status(Code::kInvalidArgument, msg);
  }
  static Status IOError(std::string_view msg) { return Status(Code::kIOError, msg); }
  static Status NotSupported(std::string_view msg) { return Status(Code::kNotSupported, msg); }
  static Status Busy(std::string_view msg) { return Status(Code::kBusy, msg); }
  static Status FailedPrecondition(std::string_view msg) {
    return Status(Code::kFailedPrecondition, msg);
  }
  // The raft Storage errors. Their default messages are etcd's texts, so logs
  // read the same as etcd's; callers may add context.
  static Status Compacted(std::string_view msg = {});
  static Status Unavailable(std::string_view msg = {});
  static Status SnapshotOutOfDate(std::string_view msg = {});
  static Status SnapshotTemporarilyUnavailable(std::string_view msg = {});

  // An IOError whose message is "<context>: <strerror(errno_value)>".
  static Status FromErrno(std::string_view context, int errno_value);

  bool ok() const { return rep_ == nullptr; }
  Code code() const { return rep_ ? rep_->code : Code::kOk; }
  // The message without the code name; empty for OK.
  std::string_view message() const { return rep_ ? std::string_view(rep_->message) : ""; }
  // The errno behind an IOError made by FromErrno, else 0.
  int errno_value() const { return rep_ ? rep_->errno_value : 0; }

  bool IsNotFound() const { return code() == Code::kNotFound; }
  bool IsCorruption() const { return code() == Code::kCorruption; }
  bool IsInvalidArgument() const { return code() == Code::kInvalidArgument; }
  bool IsIOError() const { return code() == Code::kIOError; }
  bool IsNotSupported() const { return code() == Code::kNotSupported; }
  bool IsCompacted() const { return code() == Code::kCompacted; }
  bool IsUnavailable() const { return code() == Code::kUnavailable; }
  bool IsSnapshotOutOfDate() const { return code() == Code::kSnapshotOutOfDate; }
  bool IsSnapshotTemporarilyUnavailable() const {
    return code() == Code::kSnapshotTemporarilyUnavailable;
  }
  bool IsBusy() const { return code() == Code::kBusy; }
  bool IsFailedPrecondition() const { return code() == Code::kFailedPrecondition; }

  // "OK", or "<code name>: <message>".
  std::string ToString() const;

  // A copy whose message is "<context>: <old message>"; OK stays OK.
  Status WithContext(std::string_view context) const;

  // Two statuses are equal when their codes are; messages are context, not identity
  // (as etcd compares its sentinel errors by identity, not text).
  friend bool operator==(const Status& a, const Status& b) { return a.code() == b.code(); }

  static std::string_view CodeName(Code code);

 private:
  struct Rep {
    Code code;
    int errno_value;
    std::string message;
  };

  Status(Code code, std::string_view msg, int errno_value = 0)
      : rep_(std::make_unique<Rep>(Rep{code, errno_value, std::string(msg)})) {}

  std::unique_ptr<Rep> rep_;  // null means OK
};

}  // namespace raftlog

// Returns from the enclosing function if `expr` (a Status) is not OK.
#define RAFTLOG_RETURN_IF_ERROR(expr)                          \
  do {                                                         \
    ::raftlog::Status raftlog_status_tmp_ = (expr);            \
    if (!raftlog_status_tmp_.ok()) return raftlog_status_tmp_; \
  } while (0)

namespace raftlog::internal {
// Prints "<file>:<line>: check failed: <expr>: <message>" to stderr and aborts.
[[noreturn]] void CheckFailed(const char* file, int line, const char* expr, std::string_view msg);
}  // namespace raftlog::internal

// Tier 1 of our failure model: a broken invariant is a programmer's error, so
// the process stops with a message. Always on, in every build type; never use
// it on bytes read from disk or on arguments a user supplied.
#define RAFTLOG_CHECK(cond)                                            \
  do {                                                                 \
    if (!(cond)) [[unlikely]]                                          \
      ::raftlog::internal::CheckFailed(__FILE__, __LINE__, #cond, {}); \
  } while (0)

// As RAFTLOG_CHECK, with a message (anything convertible to std::string_view).
#define RAFTLOG_CHECK_MSG(cond, msg)                                      \
  do {                                                                    \
    if (!(cond)) [[unlikely]]                                             \
      ::raftlog::internal::CheckFailed(__FILE__, __LINE__, #cond, (msg)); \
  } while (0)
