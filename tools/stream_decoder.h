// An external decoder of entry payloads for `raftlog dump --decoder CMD`,
// in the manner of etcd-dump-logs' --stream-decoder: CMD runs once (through
// /bin/sh -c) for the whole dump, and talks line by line:
//   in  (its stdin):  one line per entry: the payload in lowercase hex
//                     (an empty line for an empty payload);
//   out (its stdout): one line per entry: the decoding, printed as it is.
// Its stderr is the tool's. A decoder that exits, closes its stdout, stops
// reading, or does not answer an entry within the timeout is an error
// naming the entry, never a hang: every read and write waits with poll
// under a deadline, and the child is killed if it does not end by itself.

#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "raftlog/format/result.h"
#include "raftlog/format/status.h"

namespace raftlog::tools {

class StreamDecoder {
 public:
  // Starts `command`. IOError if it cannot be started.
  static Result<std::unique_ptr<StreamDecoder>> Start(const std::string& command,
                                                      std::chrono::milliseconds timeout);
  ~StreamDecoder();  // kills the child if Finish was not called
  StreamDecoder(const StreamDecoder&) = delete;
  StreamDecoder& operator=(const StreamDecoder&) = delete;

  // Sends one payload, returns the decoder's line for it (without the
  // newline). FailedPrecondition (the message says what the decoder did) if it exited,
  // closed a pipe or timed out; the decoder is then unusable.
  Result<std::string> Decode(std::string_view payload, uint64_t index);

  // Closes the decoder's stdin and waits for it to exit (up to the
  // timeout). FailedPrecondition if it printed lines no entry asked for, failed
  // (non-zero exit or a signal), or did not exit.
  Status Finish();

 private:
  StreamDecoder(std::string command, std::chrono::milliseconds timeout)
      : command_(std::move(command)), timeout_(timeout) {}
  Status Fail(const std::string& what);
  // The child's exit described ("exited with status 3", "killed by signal
  // 9"), after waiting for it up to `wait`; kills it if still running.
  std::string Reap(std::chrono::milliseconds wait);

  const std::string command_;
  const std::chrono::milliseconds timeout_;
  pid_t pid_ = -1;
  int to_child_ = -1;    // the child's stdin
  int from_child_ = -1;  // the child's stdout
  std::string pending_;  // read from the child, not yet handed out
  bool broken_ = false;
};

}  // namespace raftlog::tools
