// Structured logs of the kv server: one JSON object per line on stderr,
// {"ts":"2026-12-06T04:40:00.123Z","level":"info","node":1,"msg":"...",...},
// so that they can be grepped by field and loaded by log tools.
//
// RaftLogger routes the raft core's messages (raftlog/raft/logger.h) into the
// same stream with "component":"raft".
//
// Thread-safety: every method may be called from any thread; each line is
// written with one write(2), so lines of concurrent callers never interleave.

#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "raftlog/raft/logger.h"

namespace raftlog::kv {

class Log {
 public:
  enum class Level { kDebug, kInfo, kWarn, kError };
  Log(uint64_t node, Level threshold) : node_(node), threshold_(threshold) {}

  bool Enabled(Level level) const { return level >= threshold_; }
  // Writes {"ts", "level", "node", "msg"} and the members of `fields`.
  void Write(Level level, std::string_view msg, const nlohmann::json& fields = {}) const;
  void Info(std::string_view msg, const nlohmann::json& fields = {}) const {
    Write(Level::kInfo, msg, fields);
  }
  void Warn(std::string_view msg, const nlohmann::json& fields = {}) const {
    Write(Level::kWarn, msg, fields);
  }
  void Error(std::string_view msg, const nlohmann::json& fields = {}) const {
    Write(Level::kError, msg, fields);
  }

  // "debug", "info", "warn", "error"; false for anything else.
  static bool ParseLevel(std::string_view name, Level* level);

 private:
  const uint64_t node_;
  const Level threshold_;
};

// The raft core's logger, writing through a Log.
class RaftLogger final : public raft::Logger {
 public:
  explicit RaftLogger(const Log* log) : log_(log) {}
  void Write(raft::LogLevel level, std::string_view message) override;
  bool Enabled(raft::LogLevel level) const override;

 private:
  static Log::Level Map(raft::LogLevel level);
  const Log* const log_;
};

}  // namespace raftlog::kv
