#include "kv/log.h"

#include <sys/time.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>

namespace raftlog::kv {

namespace {

std::string_view LevelName(Log::Level level) {
  switch (level) {
    case Log::Level::kDebug:
      return "debug";
    case Log::Level::kInfo:
      return "info";
    case Log::Level::kWarn:
      return "warn";
    case Log::Level::kError:
      return "error";
  }
  return "info";
}

std::string Timestamp() {
  timeval tv;
  gettimeofday(&tv, nullptr);
  tm utc;
  gmtime_r(&tv.tv_sec, &utc);
  char buf[40];
  const size_t n = std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &utc);
  std::snprintf(buf + n, sizeof(buf) - n, ".%03dZ", static_cast<int>(tv.tv_usec / 1000));
  return buf;
}

}  // namespace

void Log::Write(Level level, std::string_view msg, const nlohmann::json& fields) const {
  if (!Enabled(level)) return;
  nlohmann::ordered_json line;
  line["ts"] = Timestamp();
  line["level"] = LevelName(level);
  line["node"] = node_;
  line["msg"] = msg;
  if (fields.is_object()) {
    for (auto it = fields.begin(); it != fields.end(); ++it) line[it.key()] = it.value();
  }
  std::string text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  text.push_back('\n');
  // One write: concurrent lines never interleave. A short write to stderr is
  // not worth more than a best effort.
  [[maybe_unused]] ssize_t n = ::write(STDERR_FILENO, text.data(), text.size());
}

bool Log::ParseLevel(std::string_view name, Level* level) {
  if (name == "debug") *level = Level::kDebug;
  else if (name == "info") *level = Level::kInfo;
  else if (name == "warn") *level = Level::kWarn;
  else if (name == "error") *level = Level::kError;
  else return false;
  return true;
}

Log::Level RaftLogger::Map(raft::LogLevel level) {
  switch (level) {
    case raft::LogLevel::kDebug:
      return Log::Level::kDebug;
    case raft::LogLevel::kInfo:
      return Log::Level::kInfo;
    case raft::LogLevel::kWarning:
      return Log::Level::kWarn;
    default:
      return Log::Level::kError;
  }
}

void RaftLogger::Write(raft::LogLevel level, std::string_view message) {
  log_->Write(Map(level), message, {{"component", "raft"}});
}

bool RaftLogger::Enabled(raft::LogLevel level) const { return log_->Enabled(Map(level)); }

}  // namespace raftlog::kv
