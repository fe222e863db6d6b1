// Runs the built `raftlog` binary (its path is the compile definition
// RAFTLOG_CLI) as a child process and captures what it did: exit code,
// stdout, stderr, and its peak resident memory. A child that runs longer
// than its timeout is killed and the run reported as timed out, so a hang
// fails a test instead of stalling ctest. The tools tests' one way of
// running anything in a child process (RunInChild for code in this binary).

#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace raftlog::tools::testing {

struct CliResult {
  int exit_code = -1;  // -1 if killed by a signal (see signal)
  int signal = 0;
  bool timed_out = false;
  std::string out;
  std::string err;
  uint64_t max_rss_kib = 0;  // ru_maxrss of the child

  // out parsed as one JSON document; a failed parse fails the test and
  // returns null.
  nlohmann::json Json() const;
  // out parsed as JSON Lines.
  std::vector<nlohmann::json> JsonLines() const;
  // out split into lines (without the newlines).
  std::vector<std::string> Lines() const;
};

struct CliOptions {
  std::chrono::seconds timeout{120};
  // Where the child's stdout goes: captured (the default), or /dev/null
  // (for runs whose output would only cost the test memory).
  bool discard_stdout = false;
  // If non-empty, the child's stdout is a pipe that the parent closes
  // after reading this many bytes (`| head -c N`).
  size_t close_stdout_after = 0;
};

// Runs `body` in a forked child process (for code that may crash or hang,
// such as the engine opening a damaged log) and returns the bytes it
// returned, or nullopt if the child died, exited without answering, or ran
// past `timeout` (it is then killed).
std::optional<std::string> RunInChild(const std::function<std::string()>& body,
                                      std::chrono::seconds timeout = std::chrono::seconds(120));

// Runs `raftlog <args...>`.
CliResult RunCli(const std::vector<std::string>& args, const CliOptions& options = {});

// The path of the binary under test.
const char* CliPath();

}  // namespace raftlog::tools::testing
