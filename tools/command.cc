#include "tools/command.h"

#include <cstdio>
#include <string>

namespace raftlog::tools {

int ExitCodeFor(const Status& s) {
  if (s.ok()) return kExitOk;
  if (s.IsBusy()) return kExitBusy;
  if (s.IsCorruption()) return kExitProblems;
  return kExitCannotOpen;
}

int ReportError(std::string_view command, const Status& s) {
  std::string msg(s.message());
  for (char& c : msg) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  std::fprintf(stderr, "raftlog %.*s: %s\n", static_cast<int>(command.size()), command.data(),
               msg.c_str());
  return ExitCodeFor(s);
}

}  // namespace raftlog::tools
