#include "tools/output.h"

#include <cerrno>

namespace raftlog::tools {

void Output::Fail() {
  if (!failed_) broken_pipe_ = errno == EPIPE;
  failed_ = true;
}

void Output::Write(std::string_view s) {
  if (failed_ || s.empty()) return;
  errno = 0;
  if (std::fwrite(s.data(), 1, s.size(), stream_) != s.size()) Fail();
}

bool Output::Flush() {
  if (failed_) return false;
  errno = 0;
  if (std::fflush(stream_) != 0) Fail();
  return !failed_;
}

}  // namespace raftlog::tools
