#include "raftlog/engine/options.h"

#include <cstdio>
#include <string>

namespace raftlog::engine {

std::function<void(std::string_view note)> StderrNotes() {
  return [](std::string_view note) {
    std::fprintf(stderr, "raftlog: %.*s\n", static_cast<int>(note.size()), note.data());
  };
}

}  // namespace raftlog::engine
