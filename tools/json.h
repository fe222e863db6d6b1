// JSON output of the raftlog tool, on nlohmann::json. Objects keep their
// fields in insertion order (ordered_json), so the output is stable and
// reads in the order docs/tools.md documents.
//
// Thread-safe (pure functions).

#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace raftlog::tools {

using Json = nlohmann::ordered_json;

// Compact (one line) or indented JSON. Strings that are not valid UTF-8
// (file names are bytes) have their bad bytes replaced by U+FFFD instead of
// making the library throw.
std::string DumpJson(const Json& j, bool pretty);

}  // namespace raftlog::tools
