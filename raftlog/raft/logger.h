// Logger: the injectable logging interface of the raft core (etcd's Logger).
//
// The raft core reports what it does (elections, conflicts, truncations) at
// INFO and DEBUG, and stops on a broken invariant through Panic (etcd's
// Panicf). Applications and tests inject a Logger to route, capture or silence
// those lines; the core never writes to a file or a stream by itself.
//
// Two layers:
//   * The formatting front end (Debug ... Panic), printf-style and checked by
//     the compiler. It formats the message and hands it to the sink unchanged:
//     no level tag, timestamp or prefix is added by the interface, so a test
//     harness receives the exact text etcd would have produced (the
//     interaction traces are compared byte for byte).
//   * The sink, Write(level, message), which subclasses implement. Prefixes,
//     timestamps and level names belong to the sink (StderrLogger adds etcd's
//     "raft<date> <time> INFO: " shape).
//
// Panic never returns. After the sink has seen the message, Logger prints
// "panic: <message>" to stderr (as Go's runtime does for an unrecovered panic)
// and calls std::abort(). A test may therefore install a sink that records the
// panic message (CapturingLogger does); the process still aborts afterwards,
// so panics are checked with death tests (EXPECT_DEATH(..., "message regex")),
// which match the "panic: ..." line whatever the installed sink.
// Fatal likewise never returns: the sink sees the message, then the process
// exits with status 1 (etcd's Fatalf calls os.Exit(1)).
//
// Thread-safety: a Logger may be shared by raft instances on different threads,
// so every implementation must accept concurrent calls. The ones here do.

#pragma once

#include <cstdarg>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "raftlog/port/mutex.h"

namespace raftlog::raft {

// Ordered by severity; a sink's threshold drops everything below it.
enum class LogLevel : unsigned char {
  kDebug = 0,
  kInfo,
  kWarning,
  kError,
  kFatal,
  kPanic,
};

// etcd's level names: "DEBUG", "INFO", "WARN", "ERROR", "FATAL", "PANIC".
std::string_view LogLevelName(LogLevel level);

class Logger {
 public:
  virtual ~Logger() = default;

  // The sink: receives one fully formatted message (no trailing newline) at
  // `level`. Called only when Enabled(level). For kFatal and kPanic the
  // process ends as soon as Write returns; Write must not throw.
  virtual void Write(LogLevel level, std::string_view message) = 0;

  // Whether messages at `level` are wanted. The front end skips formatting
  // when this is false, so DEBUG lines on hot paths cost one virtual call.
  // kFatal and kPanic are always written regardless of the answer.
  virtual bool Enabled(LogLevel /*level*/) const { return true; }

  // The printf-style front end (etcd's Debugf, Infof, Warningf, Errorf).
  void Debug(const char* format, ...) __attribute__((format(printf, 2, 3)));
  void Info(const char* format, ...) __attribute__((format(printf, 2, 3)));
  void Warning(const char* format, ...) __attribute__((format(printf, 2, 3)));
  void Error(const char* format, ...) __attribute__((format(printf, 2, 3)));
  // etcd's Fatalf: writes the message, then exits the process with status 1.
  [[noreturn]] void Fatal(const char* format, ...) __attribute__((format(printf, 2, 3)));
  // etcd's Panicf: writes the message, prints "panic: <message>" to stderr and
  // aborts. Never returns, whatever the sink does.
  [[noreturn]] void Panic(const char* format, ...) __attribute__((format(printf, 2, 3)));

  // The same with a va_list, for wrappers. At kFatal and kPanic it ends the
  // process exactly like Fatal and Panic.
  void Logv(LogLevel level, const char* format, va_list args) __attribute__((format(printf, 3, 0)));
};

// printf into a std::string, of any length (used by the loggers and by raft
// messages that carry etcd's texts).
std::string StringPrintfV(const char* format, va_list args) __attribute__((format(printf, 1, 0)));
std::string StringPrintf(const char* format, ...) __attribute__((format(printf, 1, 2)));

// etcd's DefaultLogger: one line per message on a stdio stream (stderr by
// default), shaped "raft2006/01/02 15:04:05 INFO: message" like Go's
// log.New(os.Stderr, "raft", log.LstdFlags) plus etcd's level header. DEBUG
// is off by default (etcd's EnableDebug turns it on).
// Thread-safety: each line is one fwrite, which stdio locks.
class StderrLogger final : public Logger {
 public:
  // `out` is borrowed and must outlive the logger; nullptr means stderr.
  explicit StderrLogger(LogLevel min_level = LogLevel::kInfo, std::FILE* out = nullptr,
                        bool timestamps = true);

  void Write(LogLevel level, std::string_view message) override;
  bool Enabled(LogLevel level) const override { return level >= min_level_; }

  // Not synchronized with concurrent logging: configure before sharing.
  void set_min_level(LogLevel level) { min_level_ = level; }
  void EnableDebug() { min_level_ = LogLevel::kDebug; }

 private:
  LogLevel min_level_;
  std::FILE* out_;
  bool timestamps_;
};

// Drops every message (etcd's discardLogger). Fatal and Panic still end the
// process, and a panic still prints its "panic: ..." line.
class DiscardLogger final : public Logger {
 public:
  void Write(LogLevel, std::string_view) override {}
  bool Enabled(LogLevel) const override { return false; }
};

// Records messages for tests (and for the interaction harness, which prints
// them in its traces). Messages at or above the threshold are kept in order.
// Thread-safety: internally synchronized.
class CapturingLogger final : public Logger {
 public:
  struct Line {
    LogLevel level;
    std::string message;

    friend bool operator==(const Line&, const Line&) = default;
  };

  explicit CapturingLogger(LogLevel min_level = LogLevel::kDebug) : min_level_(min_level) {}

  void Write(LogLevel level, std::string_view message) override;
  bool Enabled(LogLevel level) const override;

  void set_min_level(LogLevel level);

  // The recorded lines, oldest first.
  std::vector<Line> lines() const;
  // The recorded messages only, oldest first.
  std::vector<std::string> messages() const;
  // The lines as etcd's rafttest RedirectLogger prints them: "<LEVEL> <message>\n"
  // each, e.g. "INFO 1 became leader at term 1\n".
  std::string Text() const;
  void Clear();

 private:
  mutable port::Mutex mu_;
  LogLevel min_level_ GUARDED_BY(mu_);
  std::vector<Line> lines_ GUARDED_BY(mu_);
};

// The process-wide loggers. Both live for the whole process (never
// destroyed), so the references stay valid everywhere.
Logger& GetDefaultLogger();  // a StderrLogger at INFO, writing to stderr
Logger& GetDiscardLogger();  // a DiscardLogger

// etcd's package logger (SetLogger / getLogger / ResetDefaultLogger): what a
// raft Config without a Logger uses. Starts as GetDefaultLogger().
// `logger` is borrowed and must outlive every raft instance created while it
// is installed. Thread-safe.
Logger& GetLogger();
void SetLogger(Logger* logger);
void ResetDefaultLogger();

}  // namespace raftlog::raft
