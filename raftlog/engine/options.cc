#include "raftlog/engine/options.h"

#include <cstdio>
#include <string>

namespace raftlog::engine {

std::function<void(std::string_view note)> StderrNotes() {
  return [](std::string_view note) {
    std::fprintf(stderr, "raftlog: %.*s\n", static_cast<int>(note.size()), note.data());
  };
}

format::CompressionOptions FrameCompression(const Options& options) {
  format::CompressionOptions c = options.compression;
  if (options.compression_mode == CompressionMode::kEveryFrame) c.enabled = true;
  if (c.enabled && options.compression_level != 0) c.level = options.compression_level;
  return c;
}

int ColdCompressionLevel(const Options& options) {
  return options.compression_level != 0 ? options.compression_level : 3;
}

}  // namespace raftlog::engine
