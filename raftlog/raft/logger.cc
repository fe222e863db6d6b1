#include "raftlog/raft/logger.h"

#include <atomic>
#include <cstdlib>
#include <ctime>
#include <utility>

namespace raftlog::raft {

namespace {

// The end of Panic: Go's runtime prints "panic: <value>" for an unrecovered
// panic; we print the same so death tests can match it whatever the sink.
[[noreturn]] void AbortWithPanic(std::string_view message) {
  std::fprintf(stderr, "panic: %.*s\n", static_cast<int>(message.size()), message.data());
  std::fflush(stderr);
  std::abort();
}

// etcd's Fatalf ends with os.Exit(1), which runs no deferred code; _Exit is
// the closest (no atexit handlers or static destructors that could deadlock).
[[noreturn]] void ExitFatal() {
  std::fflush(nullptr);
  std::_Exit(1);
}

std::atomic<Logger*>& PackageLogger() {
  static std::atomic<Logger*> logger{&GetDefaultLogger()};
  return logger;
}

}  // namespace

std::string_view LogLevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "DEBUG";
    case LogLevel::kInfo:
      return "INFO";
    case LogLevel::kWarning:
      return "WARN";
    case LogLevel::kError:
      return "ERROR";
    case LogLevel::kFatal:
      return "FATAL";
    case LogLevel::kPanic:
      return "PANIC";
  }
  return "UNKNOWN";
}

std::string StringPrintfV(const char* format, va_list args) {
  // One pass into a stack buffer covers nearly every raft log line; longer
  // ones are formatted again into a buffer of the exact size.
  char buf[512];
  va_list copy;
  va_copy(copy, args);
  const int n = std::vsnprintf(buf, sizeof(buf), format, copy);
  va_end(copy);
  if (n < 0) return std::string(format);  // an encoding error; keep the format itself
  if (static_cast<size_t>(n) < sizeof(buf)) return std::string(buf, static_cast<size_t>(n));
  std::string out(static_cast<size_t>(n), '\0');
  std::vsnprintf(out.data(), out.size() + 1, format, args);
  return out;
}

std::string StringPrintf(const char* format, ...) {
  va_list args;
  va_start(args, format);
  std::string out = StringPrintfV(format, args);
  va_end(args);
  return out;
}

void Logger::Logv(LogLevel level, const char* format, va_list args) {
  const bool ends_process = level >= LogLevel::kFatal;
  if (!ends_process && !Enabled(level)) return;
  std::string message = StringPrintfV(format, args);
  Write(level, message);
  if (level == LogLevel::kPanic) AbortWithPanic(message);
  if (level == LogLevel::kFatal) ExitFatal();
}

void Logger::Debug(const char* format, ...) {
  va_list args;
  va_start(args, format);
  Logv(LogLevel::kDebug, format, args);
  va_end(args);
}

void Logger::Info(const char* format, ...) {
  va_list args;
  va_start(args, format);
  Logv(LogLevel::kInfo, format, args);
  va_end(args);
}

void Logger::Warning(const char* format, ...) {
  va_list args;
  va_start(args, format);
  Logv(LogLevel::kWarning, format, args);
  va_end(args);
}

void Logger::Error(const char* format, ...) {
  va_list args;
  va_start(args, format);
  Logv(LogLevel::kError, format, args);
  va_end(args);
}

void Logger::Fatal(const char* format, ...) {
  va_list args;
  va_start(args, format);
  std::string message = StringPrintfV(format, args);
  va_end(args);
  Write(LogLevel::kFatal, message);
  ExitFatal();
}

void Logger::Panic(const char* format, ...) {
  va_list args;
  va_start(args, format);
  std::string message = StringPrintfV(format, args);
  va_end(args);
  Write(LogLevel::kPanic, message);
  AbortWithPanic(message);
}

StderrLogger::StderrLogger(LogLevel min_level, std::FILE* out, bool timestamps)
    : min_level_(min_level), out_(out), timestamps_(timestamps) {}

void StderrLogger::Write(LogLevel level, std::string_view message) {
  // Go's log.LstdFlags prefix: "raft" then "2006/01/02 15:04:05 ", local time.
  std::string line = "raft";
  if (timestamps_) {
    char stamp[32];
    const std::time_t now = std::time(nullptr);
    std::tm tm{};
    localtime_r(&now, &tm);
    const size_t n = std::strftime(stamp, sizeof(stamp), "%Y/%m/%d %H:%M:%S ", &tm);
    line.append(stamp, n);
  } else {
    line += ' ';
  }
  line += LogLevelName(level);
  line += ": ";
  line += message;
  line += '\n';
  std::FILE* out = out_ != nullptr ? out_ : stderr;
  std::fwrite(line.data(), 1, line.size(), out);
}

void CapturingLogger::Write(LogLevel level, std::string_view message) {
  port::MutexLock lock(&mu_);
  if (level < min_level_ && level < LogLevel::kFatal) return;
  lines_.push_back(Line{level, std::string(message)});
}

bool CapturingLogger::Enabled(LogLevel level) const {
  port::MutexLock lock(&mu_);
  return level >= min_level_;
}

void CapturingLogger::set_min_level(LogLevel level) {
  port::MutexLock lock(&mu_);
  min_level_ = level;
}

std::vector<CapturingLogger::Line> CapturingLogger::lines() const {
  port::MutexLock lock(&mu_);
  return lines_;
}

std::vector<std::string> CapturingLogger::messages() const {
  port::MutexLock lock(&mu_);
  std::vector<std::string> out;
  out.reserve(lines_.size());
  for (const Line& l : lines_) out.push_back(l.message);
  return out;
}

std::string CapturingLogger::Text() const {
  port::MutexLock lock(&mu_);
  std::string out;
  for (const Line& l : lines_) {
    out += LogLevelName(l.level);
    out += ' ';
    out += l.message;
    // rafttest adds the newline only when the message lacks one.
    if (l.message.empty() || l.message.back() != '\n') out += '\n';
  }
  return out;
}

void CapturingLogger::Clear() {
  port::MutexLock lock(&mu_);
  lines_.clear();
}

Logger& GetDefaultLogger() {
  // Leaked on purpose: raft instances may log from static destructors.
  static StderrLogger* const logger = new StderrLogger();
  return *logger;
}

Logger& GetDiscardLogger() {
  static DiscardLogger* const logger = new DiscardLogger();
  return *logger;
}

Logger& GetLogger() { return *PackageLogger().load(std::memory_order_acquire); }

void SetLogger(Logger* logger) {
  // Release/acquire: a thread that reads the new pointer also sees the
  // logger's construction.
  PackageLogger().store(logger != nullptr ? logger : &GetDefaultLogger(),
                        std::memory_order_release);
}

void ResetDefaultLogger() { SetLogger(&GetDefaultLogger()); }

}  // namespace raftlog::raft
