// Process: a child process of the fault harness or the benchmark (a
// raftlog-kv server), started with fork/exec and signalled by pid. Its stderr
// (the node's JSON log) goes to a file.
//
// Thread-safety: not thread-safe; one owner.

#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "raftlog/format/status.h"

namespace raftlog::kv {

class Process {
 public:
  Process() = default;
  ~Process();  // kills (SIGKILL) and reaps a running child
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  // Starts `argv[0]` with `argv`, stdout and stderr appended to `log_path`.
  Status Start(const std::vector<std::string>& argv, const std::string& log_path);
  // Sends a signal; false if the child is not running.
  bool Signal(int sig);
  // SIGKILL, then reaps it.
  void Kill();
  // SIGTERM, waiting up to `timeout_ms` for it to exit, then SIGKILL.
  void Terminate(int timeout_ms);
  // Whether the child ended by itself (it is then reaped and no longer
  // running); `status` gets its wait status.
  bool ExitedByItself(int* status);
  bool running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
};

// The directory of the running executable (to find raftlog-kv beside it).
std::string SelfDir();

// A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0).
int FreePort();

}  // namespace raftlog::kv
