// How the tool shows raft entries: type names, and conf-change entries
// decoded (raftlog/raft/conf_change.h) into a readable line and a JSON object.
//
// Thread-safe (pure functions).

#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "tools/json.h"

namespace raftlog::tools {

// The entry type bytes raft writes (raft::EntryType).
inline constexpr uint8_t kEntryNormal = 0;
inline constexpr uint8_t kEntryConfChange = 1;
inline constexpr uint8_t kEntryConfChangeV2 = 2;

// "normal", "confchange", "confchangev2", or "unknown(<n>)" for any other
// byte (format/ stores the type opaquely).
std::string EntryTypeLabel(uint8_t type);
// The inverse for the three known names; nullopt otherwise.
std::optional<uint8_t> ParseEntryType(std::string_view label);

struct ConfChangeView {
  bool ok = false;   // the data decoded
  std::string text;  // e.g. "ConfChangeAddNode node=2", "v2 auto: v2 l3", "v2 leave-joint"
  Json json;         // the fields; {"error": "..."} when !ok
};

// The decoded change of a conf-change entry (type 1 or 2); nullopt for any
// other type. Undecodable data gives ok == false and the decoder's error.
std::optional<ConfChangeView> DescribeConfChange(uint8_t type, std::string_view data);

}  // namespace raftlog::tools
