// Output: the tool's buffered writer to stdout. A reader that goes away
// (`raftlog dump DIR | head`) is a normal end, not an error: main() ignores
// SIGPIPE, so a write to a closed pipe fails with EPIPE, which Output
// remembers in broken_pipe(); commands then stop producing and exit 0.
//
// Thread-compatible; one Output per process (it writes to stdout).

#pragma once

#include <cstdio>
#include <string_view>

namespace raftlog::tools {

class Output {
 public:
  explicit Output(std::FILE* stream = stdout) : stream_(stream) {}

  // Writes s (and, for Line, a newline). After a failure the writes are
  // dropped: check ok().
  void Write(std::string_view s);
  void Line(std::string_view s) {
    Write(s);
    Write("\n");
  }
  // Flushes the stream; false on failure (see broken_pipe()).
  bool Flush();

  // False once a write or flush failed.
  bool ok() const { return !failed_; }
  // The failure was EPIPE: the reader closed the pipe.
  bool broken_pipe() const { return broken_pipe_; }

 private:
  void Fail();

  std::FILE* stream_;
  bool failed_ = false;
  bool broken_pipe_ = false;
};

}  // namespace raftlog::tools
