// Text helpers of the raftlog tool: byte counts for people, printable
// previews of entry data, hex dumps and base64.
//
// Thread-safe (pure functions).

#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace raftlog::tools {

// "0 B", "812 B", "4.0 KiB", "64.0 MiB", "1.50 GiB".
std::string HumanBytes(uint64_t bytes);

// The first `max_bytes` bytes of `data` as printable ASCII: printable
// characters as they are (with '"' and '\' escaped), \n \r \t, and \xNN for
// every other byte; "..." is appended when data is longer. The result is
// plain ASCII, safe for a terminal and for a JSON string.
std::string Preview(std::string_view data, size_t max_bytes);

// hexdump -C style lines ("00000000  68 65 6c 6c 6f ...  |hello|") of the
// first max_bytes bytes of data, each line prefixed by `indent` and ended by
// '\n'.
std::string HexDump(std::string_view data, size_t max_bytes, std::string_view indent);

// Standard base64 (RFC 4648, with padding).
std::string Base64(std::string_view data);

// The number formatted with the given digits after the point.
std::string Fixed(double value, int digits);

}  // namespace raftlog::tools
